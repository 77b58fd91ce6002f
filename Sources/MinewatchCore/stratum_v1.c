/* Stratum V1 (slush/braiins docs, BIP310) and EthereumStratum/1.0.0 and 2.0.0 (NiceHash spec,
 * EIP-1571): positional params. subscribe [agent, protocol or session, host, port] (the host
 * form is Equihash's, ZIP 301), authorize [user, password], submit [worker, ...],
 * set_difficulty [D], set_target [hex256], mining.hashrate [rate]. A subscribe reply names
 * EthereumStratum in result[0][2]. */
#include "dissector.h"

static const mw_field_path fields[] = {
  {"mining.subscribe", MW_F_AGENT, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"mining.subscribe", MW_F_PROTOCOL, 2, {MW_KEY("params"), MW_IDX(1)}},
  {"mining.subscribe", MW_F_HOST, 2, {MW_KEY("params"), MW_IDX(2)}},
  {"mining.authorize", MW_F_LOGIN, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"mining.submit", MW_F_LOGIN, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"mining.set_difficulty", MW_F_DIFFICULTY, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"mining.set_target", MW_F_TARGET, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"mining.hashrate", MW_F_RATE, 2, {MW_KEY("params"), MW_IDX(0)}},
  {NULL, MW_F_SUBSCRIBE_PROTOCOL, 3, {MW_KEY("result"), MW_IDX(0), MW_IDX(2)}},
};

/* client.* methods are common words: only on a flow that already mines. */
static bool confirms(const uint8_t *line, const mw_json_top *top, bool flow_is_mining) {
  (void)line;
  (void)top;
  return flow_is_mining;
}

const mw_dissector mw_stratum_dissector = {MW_FAMILY_STRATUM, fields, sizeof fields / sizeof fields[0],
                                           confirms};
