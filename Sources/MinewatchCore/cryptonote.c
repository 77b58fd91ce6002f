/* CryptoNote / Monero pools (xmrig Client.cpp and Job.cpp, xmr-stak): params are objects.
 * login {login, pass, agent, algo[], rigid} → result {id, job {blob, job_id, target, algo},
 * status}; pushes "job" {target, algo, ...}; submit {id, job_id, nonce, result}. "login",
 * "submit" and "job" are common words, so they count only with CryptoNote's members. */
#include "dissector.h"

static const mw_field_path fields[] = {
  {"login", MW_F_LOGIN, 2, {MW_KEY("params"), MW_KEY("login")}},
  {"login", MW_F_AGENT, 2, {MW_KEY("params"), MW_KEY("agent")}},
  {"login", MW_F_WORKER, 2, {MW_KEY("params"), MW_KEY("rigid")}},
  {"login", MW_F_ALGO, 3, {MW_KEY("params"), MW_KEY("algo"), MW_IDX(0)}},
  {"job", MW_F_TARGET, 2, {MW_KEY("params"), MW_KEY("target")}},
  {"job", MW_F_ALGO, 2, {MW_KEY("params"), MW_KEY("algo")}},
  {NULL, MW_F_STATUS, 2, {MW_KEY("result"), MW_KEY("status")}},
  {NULL, MW_F_JOB_TARGET, 3, {MW_KEY("result"), MW_KEY("job"), MW_KEY("target")}},
  {NULL, MW_F_JOB_ALGO, 3, {MW_KEY("result"), MW_KEY("job"), MW_KEY("algo")}},
};

/* A login carries params.login; submit and job carry a job (job_id or blob) in an object. */
static bool confirms(const uint8_t *line, const mw_json_top *top, bool flow_is_mining) {
  (void)flow_is_mining;
  bool login = line[top->method_off] == 'l';
  return login ? top->has_login_member : (top->params_is_object && top->has_job_member);
}

const mw_dissector mw_cryptonote_dissector = {MW_FAMILY_CRYPTONOTE, fields, sizeof fields / sizeof fields[0],
                                              confirms};
