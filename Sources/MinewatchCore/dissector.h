/* The shape every mining-protocol dissector has (one file per family): which fields its
 * methods carry and where, which fields its replies carry, and, for method names other
 * JSON-RPC services use too, whether a line really is this family's. Listed in jsonrpc.c. */
#ifndef MW_DISSECTOR_H
#define MW_DISSECTOR_H

#include "core_internal.h"

enum { MW_PATH_STEPS = 4 };

/* One field of one method (method NULL: of a reply), by its path in the line. */
typedef struct {
  const char *method;
  uint8_t field; /* mw_field_id */
  uint8_t steps;
  mw_json_step path[MW_PATH_STEPS];
} mw_field_path;

typedef struct {
  mw_family family;
  const mw_field_path *fields;
  size_t field_count;
  /* For an ambiguous method: does this line carry the family's telltale? NULL: trust the name. */
  bool (*confirms)(const uint8_t *line, const mw_json_top *top, bool flow_is_mining);
} mw_dissector;

extern const mw_dissector mw_stratum_dissector;    /* stratum_v1.c: Stratum V1, EthereumStratum */
extern const mw_dissector mw_ethproxy_dissector;   /* eth_proxy.c: ETH proxy, getwork over HTTP */
extern const mw_dissector mw_cryptonote_dissector; /* cryptonote.c: Monero and CryptoNote pools */

#define MW_KEY(k) {(k), 0}
#define MW_IDX(i) {NULL, (i)}

#endif
