/* The registry of mining JSON-RPC methods: one table. Sources: the protocol documents
 * (slush/braiins Stratum docs, BIP310, NiceHash EthereumStratum/1.0.0, EIP-1571, eth-proxy,
 * xmrig Client.cpp, bitcoind getwork/getblocktemplate). */
#include "core_internal.h"

static const mw_method_info methods[] = {
  /* Stratum V1 (Bitcoin family, Equihash, EthereumStratum/1.0.0 and 2.0.0) */
  {"mining.subscribe", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.authorize", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.submit", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.configure", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.extranonce.subscribe", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.suggest_difficulty", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.suggest_target", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.get_transactions", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.hello", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.hashrate", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.noop", MW_FAMILY_STRATUM, MW_ROLE_CLIENT, 0},
  {"mining.notify", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 0},
  {"mining.set_difficulty", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 0},
  {"mining.set_target", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 0},
  {"mining.set_extranonce", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 0},
  {"mining.set_version_mask", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 0},
  {"client.reconnect", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 1},
  {"client.show_message", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 1},
  {"client.get_version", MW_FAMILY_STRATUM, MW_ROLE_SERVER, 1},
  /* ETH proxy / getwork-style Ethereum mining */
  {"eth_submitLogin", MW_FAMILY_ETHPROXY, MW_ROLE_CLIENT, 0},
  {"eth_login", MW_FAMILY_ETHPROXY, MW_ROLE_CLIENT, 0},
  {"eth_getWork", MW_FAMILY_ETHPROXY, MW_ROLE_CLIENT, 0},
  {"eth_submitWork", MW_FAMILY_ETHPROXY, MW_ROLE_CLIENT, 0},
  {"eth_submitHashrate", MW_FAMILY_ETHPROXY, MW_ROLE_CLIENT, 0},
  /* CryptoNote / Monero: "login", "submit" and "job" are common words, so they count only
   * with the CryptoNote members (params.login, job_id/blob) beside them. */
  {"login", MW_FAMILY_CRYPTONOTE, MW_ROLE_CLIENT, 1},
  {"submit", MW_FAMILY_CRYPTONOTE, MW_ROLE_CLIENT, 1},
  {"getjob", MW_FAMILY_CRYPTONOTE, MW_ROLE_CLIENT, 0},
  {"keepalived", MW_FAMILY_CRYPTONOTE, MW_ROLE_CLIENT, 0},
  {"job", MW_FAMILY_CRYPTONOTE, MW_ROLE_SERVER, 1},
  /* Solo mining over HTTP (bitcoind) */
  {"getwork", MW_FAMILY_GETWORK, MW_ROLE_CLIENT, 0},
  {"getblocktemplate", MW_FAMILY_GETWORK, MW_ROLE_CLIENT, 0},
  {"submitblock", MW_FAMILY_GETWORK, MW_ROLE_CLIENT, 0},
};

enum { METHOD_COUNT = sizeof(methods) / sizeof(methods[0]) };

uint16_t mw_method_count(void) { return METHOD_COUNT; }

const mw_method_info *mw_method_info_at(uint16_t id) {
  if (id == 0 || id > METHOD_COUNT) return NULL;
  return &methods[id - 1];
}

/* A linear scan over 32 short names only runs on complete JSON lines of candidate flows,
 * never per packet, so a perfect hash would buy nothing measurable. */
uint16_t mw_method_lookup(const uint8_t *name, size_t len) {
  for (uint16_t i = 0; i < METHOD_COUNT; i++) {
    const char *m = methods[i].name;
    if (strlen(m) == len && memcmp(m, name, len) == 0) return (uint16_t)(i + 1);
  }
  return 0;
}
