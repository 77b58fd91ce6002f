/* Addresses of recent DNS answers for names no signature lists. When a flow to one of them
 * turns out to speak a mining protocol, the investigator still sees the name the host asked
 * for (an unlisted pool), not a bare address. A direct-mapped table keyed by a keyed hash of
 * the address, each entry pointing into a ring of names: a flood of answers overwrites, it
 * never grows, and nothing here is read per packet. */
#include "engine_internal.h"

static uint32_t slot_of(const mw_engine *e, uint8_t family, const uint8_t *addr) {
  return (uint32_t)mw_address_hash(e, family, addr) & (MW_ANSWERED_ADDRS - 1);
}

void mw_answered_add(mw_engine *e, uint8_t family, const uint8_t *addr, const uint8_t *name, size_t len,
                     uint64_t expires_ns, uint16_t *slot, uint32_t *gen) {
  if (!e->answered || len == 0 || len > sizeof e->answered_ring[0].name) return;
  if (*gen == 0) { /* the name once per answer, its addresses each point at it */
    uint32_t k = e->answered_next++ % MW_ANSWERED_NAMES;
    mw_ring_name *r = &e->answered_ring[k];
    r->gen = ++e->answered_gen ? e->answered_gen : ++e->answered_gen;
    r->len = (uint16_t)len;
    memcpy(r->name, name, len);
    *slot = (uint16_t)k;
    *gen = r->gen;
  }
  mw_answered_addr *a = &e->answered[slot_of(e, family, addr)];
  a->family = family;
  memset(a->addr, 0, 16);
  memcpy(a->addr, addr, family == 4 ? 4 : 16);
  a->name_slot = *slot;
  a->name_gen = *gen;
  a->expires_ns = expires_ns;
}

size_t mw_engine_answered_name(const mw_engine *e, uint8_t family, const uint8_t *addr,
                               const uint8_t **name) {
  if (!e->answered || (family != 4 && family != 6)) return 0;
  const mw_answered_addr *a = &e->answered[slot_of(e, family, addr)];
  if (a->family != family || memcmp(a->addr, addr, family == 4 ? 4 : 16) != 0) return 0;
  if (a->expires_ns < e->now_ns) return 0;
  const mw_ring_name *r = &e->answered_ring[a->name_slot];
  if (r->gen != a->name_gen) return 0; /* the ring moved on */
  *name = r->name;
  return r->len;
}
