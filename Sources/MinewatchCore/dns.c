/* DNS (RFC 1035 section 4): query names, and A/AAAA answers reached from the query name through
 * CNAME records in the same message. Compression pointers must point backwards and are
 * followed at most MW_DNS_MAX_JUMPS times, so hostile messages cannot loop. */
#include "engine_internal.h"

enum { MW_DNS_MAX_JUMPS = 32, MW_DNS_NAME_MAX = 255, MW_DNS_CHAIN = 8, MW_DNS_MAX_RR = 64 };

typedef struct {
  uint8_t s[MW_DNS_NAME_MAX + 1];
  size_t len;
} dns_name;

typedef enum { NAME_OK, NAME_BAD, NAME_LOOP, NAME_LONG } name_status;

/* Reads a possibly compressed name at *off; on success *off is past it in the message. */
static name_status read_name(const uint8_t *m, size_t len, size_t *off, dns_name *out) {
  size_t pos = *off, end_of_name = 0;
  int jumps = 0;
  bool jumped = false;
  out->len = 0;
  for (;;) {
    if (pos >= len) return NAME_BAD;
    uint8_t l = m[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len) return NAME_BAD;
      size_t target = ((size_t)(l & 0x3f) << 8) | m[pos + 1];
      if (target >= pos || ++jumps > MW_DNS_MAX_JUMPS) return NAME_LOOP;
      if (!jumped) end_of_name = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if (l & 0xc0) return NAME_BAD; /* extended label types are obsolete */
    if (l == 0) {
      *off = jumped ? end_of_name : pos + 1;
      return NAME_OK;
    }
    if (pos + 1 + l > len) return NAME_BAD;
    if (out->len + l + 1 > MW_DNS_NAME_MAX) return NAME_LONG;
    if (out->len) out->s[out->len++] = '.';
    memcpy(out->s + out->len, m + pos + 1, l);
    out->len += l;
    pos += 1 + l;
  }
}

static bool count_status(mw_engine *e, name_status st) {
  if (st == NAME_OK) return true;
  e->c.anomalies[st == NAME_LOOP ? MW_AN_DNS_POINTER_LOOP
                 : st == NAME_LONG ? MW_AN_NAME_TOO_LONG
                                   : MW_AN_DNS_MALFORMED]++;
  return false;
}

static bool same_name(const dns_name *a, const dns_name *b) {
  if (a->len != b->len) return false;
  for (size_t i = 0; i < a->len; i++) {
    uint8_t x = a->s[i], y = b->s[i];
    if (x >= 'A' && x <= 'Z') x = (uint8_t)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (uint8_t)(y + 32);
    if (x != y) return false;
  }
  return true;
}

static void emit_name(mw_engine *e, mw_event_kind kind, const mw_packet *p, const dns_name *n,
                      uint32_t value, uint64_t ts) {
  mw_event ev = {0};
  ev.kind = kind;
  ev.ts_ns = ts;
  ev.data = n->s;
  ev.len = (uint32_t)n->len;
  ev.name_value = value;
  /* a: the host that asked */
  ev.a.family = p->family;
  memcpy(ev.a.addr, p->src, p->family == 4 ? 4 : 16);
  ev.a.port = p->sport;
  ev.a.tenant = p->tenant;
  mw_emit(e, &ev, NULL, 0);
}

void mw_dns_inspect(mw_engine *e, const mw_packet *p, const uint8_t *m, size_t len,
                    uint64_t ts) {
  if (len < 12) { e->c.anomalies[MW_AN_DNS_MALFORMED]++; return; }
  bool response = (m[2] & 0x80) != 0;
  uint16_t qd = mw_be16(m + 4), an = mw_be16(m + 6);
  if (qd != 1) return; /* every resolver sends exactly one question */
  size_t off = 12;
  dns_name chain[MW_DNS_CHAIN];
  if (!count_status(e, read_name(m, len, &off, &chain[0]))) return;
  if (off + 4 > len) { e->c.anomalies[MW_AN_DNS_MALFORMED]++; return; }
  off += 4; /* qtype, qclass */
  int nchain = 1;
  uint32_t value = mw_names_match(e->names, chain[0].s, chain[0].len, NULL);
  if (value && ((value - 1) & MW_NAME_QUIET)) return; /* a pool's website */
  if (!response) {
    if (value) emit_name(e, MW_EV_DNS_QUERY, p, &chain[0], value, ts);
    return;
  }
  uint16_t name_slot = 0, answered_slot = 0;
  uint32_t name_gen = 0, answered_gen = 0;
  if (an > MW_DNS_MAX_RR) an = MW_DNS_MAX_RR;
  for (uint16_t i = 0; i < an; i++) {
    dns_name owner;
    if (!count_status(e, read_name(m, len, &off, &owner))) return;
    if (off + 10 > len) { e->c.anomalies[MW_AN_DNS_MALFORMED]++; return; }
    uint16_t type = mw_be16(m + off), rdlen = mw_be16(m + off + 8);
    uint32_t ttl = mw_be32(m + off + 4);
    if (ttl > 86400) ttl = 86400; /* a day at most: a hostile answer cannot pin an address */
    size_t rdata = off + 10;
    if (rdata + rdlen > len) { e->c.anomalies[MW_AN_DNS_MALFORMED]++; return; }
    off = rdata + rdlen;
    int owner_in_chain = -1;
    for (int c = 0; c < nchain; c++)
      if (same_name(&owner, &chain[c])) owner_in_chain = c;
    if (owner_in_chain < 0) continue;
    if (type == 5 && nchain < MW_DNS_CHAIN) { /* CNAME: follow it */
      size_t q = rdata;
      if (!count_status(e, read_name(m, len, &q, &chain[nchain]))) return;
      if (!value) {
        value = mw_names_match(e->names, chain[nchain].s, chain[nchain].len, NULL);
        if (value && ((value - 1) & MW_NAME_QUIET)) return;
      }
      nchain++;
    } else if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
      uint64_t expires = ts + (uint64_t)ttl * 1000000000ULL;
      if (!value) {
        mw_answered_add(e, type == 1 ? 4 : 6, m + rdata, chain[0].s, chain[0].len, expires, &answered_slot,
                        &answered_gen);
        continue;
      }
      /* The name is kept once per answer, the addresses each point at it. */
      if (!name_gen) mw_name_ring_put(e, chain[0].s, chain[0].len, &name_slot, &name_gen);
      mw_pool_address_add(e, type == 1 ? 4 : 6, m + rdata, value, expires, name_slot, name_gen);
    }
  }
}
