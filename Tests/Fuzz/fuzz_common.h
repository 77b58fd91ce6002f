/* Shared set-up for the libFuzzer targets: an engine with a small name table and a callback
 * that touches every byte it is handed (so a bad pointer or length shows under ASan). */
#ifndef MW_FUZZ_COMMON_H
#define MW_FUZZ_COMMON_H

#include "minewatch_core.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static volatile uint8_t mw_fuzz_sink;
static mw_engine *mw_fuzz_current; /* the engine being fed, for the callback to mark flows */

__attribute__((unused)) static int mw_fuzz_callback(void *ctx, const mw_event *ev) {
  (void)ctx;
  for (uint32_t i = 0; i < ev->len; i++) mw_fuzz_sink ^= ev->data[i];
  /* Every line's flow gives its packets to the evidence callback, as a recorded finding does. */
  if (ev->kind == MW_EV_LINE && mw_fuzz_current)
    mw_engine_flow_evidence(mw_fuzz_current, ev->flow_slot, ev->flow_id, 1);
  return ev->kind != MW_EV_FLOW_END; /* keep flows: exercises statistics and FLOW_END */
}

__attribute__((unused)) static void mw_fuzz_evidence(void *ctx, uint32_t flow_id, uint64_t ts_ns,
                                                     const uint8_t *data, uint32_t caplen,
                                                     uint32_t wirelen) {
  (void)ctx;
  (void)flow_id;
  (void)ts_ns;
  (void)wirelen;
  for (uint32_t i = 0; i < caplen; i++) mw_fuzz_sink ^= data[i];
}

__attribute__((unused)) static mw_names *mw_fuzz_names(void) {
  static mw_names *n;
  if (!n) {
    n = mw_names_create(16);
    const char *names[] = {"supportxmr.com", "pool.example", "www.supportxmr.com", "xn--bcher-kva.example"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
      mw_names_add(n, names[i], strlen(names[i]), i);
  }
  return n;
}

/* A small engine so that evictions and stream reclaiming happen within one input. */
__attribute__((unused)) static mw_engine *mw_fuzz_engine(void) {
  mw_config cfg;
  mw_config_default(&cfg);
  cfg.flow_capacity = 64;
  cfg.stream_buffers = 4;
  cfg.line_max = 512;
  cfg.inspect_bytes = 256;
  cfg.pool_addresses = 16;
  cfg.host_records = 8; /* two sets: host records are evicted within one input */
  cfg.probe_window_s = 1;
  cfg.hash_seed[0] = 1;
  cfg.hash_seed[1] = 2;
  mw_engine *e = mw_engine_create(&cfg, mw_fuzz_names(), mw_fuzz_callback, NULL);
  if (!e) return NULL;
  mw_engine_set_port_class(e, 22, MW_PORT_LOGIN | MW_PORT_PROBE);
  mw_engine_set_port_class(e, 3389, MW_PORT_LOGIN);
  mw_engine_set_port_class(e, 6379, MW_PORT_PROBE);
  mw_engine_set_evidence_fn(e, mw_fuzz_evidence, NULL);
  /* Tenants: the ids the seeds' tunnels and small fuzzed ids use, so keyed lookups are reached. */
  static const mw_tenant_rule tenants[] = {
    {MW_TUNNEL_VXLAN, 1, 1}, {MW_TUNNEL_VXLAN, 5001, 1}, {MW_TUNNEL_ERSPAN, 2, 1},
    {MW_TUNNEL_VLAN, 1, 2},  {MW_TUNNEL_MPLS, 1000, 2},  {MW_TUNNEL_GRE, 0, 3},
    {MW_TUNNEL_GTPU, 0, 3},  {MW_TUNNEL_PPPOE, 0x1234, 4},
  };
  if (mw_engine_set_tenants(e, tenants, sizeof tenants / sizeof tenants[0]) != 0) {
    mw_engine_destroy(e);
    return NULL;
  }
  mw_fuzz_current = e;
  return e;
}

#endif
