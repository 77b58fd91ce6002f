/* ETH proxy and getwork-style Ethereum mining (eth-proxy, Claymore, ethminer), over TCP or HTTP
 * POST: eth_submitLogin ["0xWALLET.worker", "x"] with an optional "worker" member,
 * eth_submitHashrate ["0x<rate>", "0x<id>"], and work replies [header, seed, boundary]. */
#include "dissector.h"

static const mw_field_path fields[] = {
  {"eth_submitLogin", MW_F_LOGIN, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"eth_submitLogin", MW_F_WORKER, 1, {MW_KEY("worker")}},
  {"eth_login", MW_F_LOGIN, 2, {MW_KEY("params"), MW_IDX(0)}},
  {"eth_login", MW_F_WORKER, 1, {MW_KEY("worker")}},
  {"eth_submitHashrate", MW_F_RATE, 2, {MW_KEY("params"), MW_IDX(0)}},
  {NULL, MW_F_BOUNDARY, 2, {MW_KEY("result"), MW_IDX(2)}},
};

const mw_dissector mw_ethproxy_dissector = {MW_FAMILY_ETHPROXY, fields, sizeof fields / sizeof fields[0], NULL};
