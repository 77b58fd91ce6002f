/* Addresses that DNS gave for pool names (for the answer's TTL) and that the signatures list
 * (for good): a flow to one of them is attributed to the pool even when nothing in it can be
 * read. Open addressing with a bounded probe: a full neighbourhood gives up its entry that
 * expires soonest (counted), so the table never grows. */
#include "engine_internal.h"

enum { MW_POOL_PROBE = 16 };

uint64_t mw_address_hash(const mw_engine *e, uint8_t family, const uint8_t *addr) {
  uint8_t key[17] = {0};
  memcpy(key, addr, family == 4 ? 4 : 16);
  key[16] = family;
  return mw_siphash13(e->cfg.hash_seed, key, sizeof key);
}

static uint32_t slot_of(const mw_engine *e, uint8_t family, const uint8_t *addr) {
  return (uint32_t)mw_address_hash(e, family, addr) & e->pool_addr_mask;
}

static bool same(const mw_pool_addr *p, uint8_t family, const uint8_t *addr) {
  return p->family == family && memcmp(p->addr, addr, family == 4 ? 4 : 16) == 0;
}

static bool expired(const mw_engine *e, const mw_pool_addr *p) {
  return p->expires_ns != 0 && p->expires_ns < e->now_ns;
}

const mw_pool_addr *mw_pool_address_lookup(mw_engine *e, uint8_t family, const uint8_t *addr) {
  if (!e->pool_addrs || e->c.pool_addresses == 0) return NULL;
  uint32_t i = slot_of(e, family, addr);
  for (int n = 0; n < MW_POOL_PROBE; n++, i = (i + 1) & e->pool_addr_mask) {
    mw_pool_addr *p = &e->pool_addrs[i];
    if (p->family && same(p, family, addr)) return expired(e, p) ? NULL : p;
  }
  return NULL;
}

void mw_name_ring_put(mw_engine *e, const uint8_t *name, size_t len, uint16_t *slot, uint32_t *gen) {
  uint32_t k = e->name_ring_next++ % MW_NAME_RING;
  mw_ring_name *r = &e->name_ring[k];
  if (++e->name_gen == 0) e->name_gen = 1; /* 0 means "no name" */
  r->gen = e->name_gen;
  r->len = (uint16_t)(len < sizeof r->name ? len : sizeof r->name);
  memcpy(r->name, name, r->len);
  *slot = (uint16_t)k;
  *gen = r->gen;
}

const mw_ring_name *mw_name_ring_get(const mw_engine *e, uint16_t slot, uint32_t gen) {
  if (gen == 0 || slot >= MW_NAME_RING) return NULL;
  const mw_ring_name *r = &e->name_ring[slot];
  return r->gen == gen ? r : NULL;
}

void mw_pool_address_add(mw_engine *e, uint8_t family, const uint8_t *addr, uint32_t value,
                         uint64_t expires_ns, uint16_t name_slot, uint32_t name_gen) {
  if (!e->pool_addrs) return;
  uint32_t i = slot_of(e, family, addr);
  /* A free (or expired) slot is used while the table holds fewer than its configured number of
   * addresses; otherwise the learnt address that expires soonest in the neighbourhood goes. */
  mw_pool_addr *free_slot = NULL, *soonest = NULL;
  for (int n = 0; n < MW_POOL_PROBE; n++, i = (i + 1) & e->pool_addr_mask) {
    mw_pool_addr *p = &e->pool_addrs[i];
    if (p->family && same(p, family, addr)) {
      /* A fresh answer extends the life of a learnt address; a listed one stays for good. */
      if (p->expires_ns != 0 && (expires_ns == 0 || expires_ns > p->expires_ns))
        p->expires_ns = expires_ns;
      p->value = value;
      if (name_gen) {
        p->name_slot = name_slot;
        p->name_gen = name_gen;
      }
      return;
    }
    if (!p->family || expired(e, p)) {
      if (!free_slot || free_slot->family) free_slot = p;
    } else if (p->expires_ns != 0 && (!soonest || p->expires_ns < soonest->expires_ns)) {
      soonest = p;
    }
  }
  mw_pool_addr *target = NULL;
  if (free_slot && (free_slot->family || e->c.pool_addresses < e->cfg.pool_addresses)) target = free_slot;
  else if (soonest) target = soonest;
  if (!target) {
    e->c.anomalies[MW_AN_POOL_ADDRESS_EVICTED]++; /* full, or a neighbourhood of listed addresses */
    return;
  }
  if (target->family && !expired(e, target)) e->c.anomalies[MW_AN_POOL_ADDRESS_EVICTED]++;
  if (!target->family) e->c.pool_addresses++;
  target->family = family;
  memset(target->addr, 0, 16);
  memcpy(target->addr, addr, family == 4 ? 4 : 16);
  target->value = value;
  target->expires_ns = expires_ns;
  target->name_slot = name_slot;
  target->name_gen = name_gen;
}

int mw_engine_add_pool_address(mw_engine *e, uint8_t family, const uint8_t *addr, uint32_t value,
                               uint32_t ttl_s) {
  if (family != 4 && family != 6) return -1;
  mw_pool_address_add(e, family, addr, value + 1,
                      ttl_s ? e->now_ns + (uint64_t)ttl_s * 1000000000ULL : 0, 0, 0);
  return 0;
}
