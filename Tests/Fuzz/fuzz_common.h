/* Shared set-up for the libFuzzer targets: an engine with a small name table and a callback
 * that touches every byte it is handed (so a bad pointer or length shows under ASan). */
#ifndef MW_FUZZ_COMMON_H
#define MW_FUZZ_COMMON_H

#include "minewatch_core.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static volatile uint8_t mw_fuzz_sink;

__attribute__((unused)) static int mw_fuzz_callback(void *ctx, const mw_event *ev) {
  (void)ctx;
  for (uint32_t i = 0; i < ev->len; i++) mw_fuzz_sink ^= ev->data[i];
  return ev->kind != MW_EV_FLOW_END; /* keep flows: exercises statistics and FLOW_END */
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
  cfg.hash_seed[0] = 1;
  cfg.hash_seed[1] = 2;
  return mw_engine_create(&cfg, mw_fuzz_names(), mw_fuzz_callback, NULL);
}

#endif
