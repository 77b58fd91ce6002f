/* Tenants: which tunnels carry an address space of their own (see mw_engine_set_tenants). The
 * rules are few and set between packets; a packet through a tunnel costs one binary search. */
#include "engine_internal.h"

#include <stdlib.h>

static int rule_order(const void *x, const void *y) {
  const mw_tenant_rule *a = x, *b = y;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

int mw_engine_set_tenants(mw_engine *e, const mw_tenant_rule *rules, uint32_t n) {
  if (n > MW_TENANT_RULES_MAX || (n && !rules)) return -1;
  mw_tenant_rule *copy = NULL;
  if (n) {
    copy = malloc((size_t)n * sizeof *copy);
    if (!copy) return -1;
    memcpy(copy, rules, (size_t)n * sizeof *copy);
    qsort(copy, n, sizeof *copy, rule_order);
    for (uint32_t i = 0; i < n; i++) {
      bool twice = i > 0 && rule_order(&copy[i - 1], &copy[i]) == 0;
      if (copy[i].tenant == 0 || copy[i].kind == MW_TUNNEL_NONE || copy[i].kind >= MW_TUNNEL_COUNT ||
          twice) {
        free(copy);
        return -1;
      }
    }
  }
  free(e->tenants);
  e->tenants = copy;
  e->tenant_count = n;
  return 0;
}

uint16_t mw_tenant_of(const mw_engine *e, uint8_t kind, uint32_t id) {
  uint32_t lo = 0, hi = e->tenant_count;
  const mw_tenant_rule key = {.kind = kind, .id = id};
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = rule_order(&e->tenants[mid], &key);
    if (c == 0) return e->tenants[mid].tenant;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}
