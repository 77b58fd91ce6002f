/* Host activity: logins a host accepted and connection attempts it made to probe ports. Worms
 * that plant miners log in over SSH or RDP and scan for more victims (Redis, Docker, SMB, SSH),
 * so these are signs that a mining host was taken over. Only SYN packets reach this file; the
 * table is set-associative with a fixed number of records, and a full set gives up its least
 * recently touched record (counted). */
#include "engine_internal.h"

#include <string.h>

/* Probe targets are placed in the bitmap by a fixed key, not the run's random one: a report must
 * come out the same each time a capture is scanned (an investigator reruns it, a test compares
 * two scans), and with a per-run key the estimate moved by a few targets from run to run (58 or
 * 67 for 60). The cost: someone who knows the key could pick targets that share bits to look
 * like fewer; a worm looking for victims does not choose them so. */
static const uint64_t probe_key[2] = {0x6d696e6577617463ull, 0x682d70726f626573ull};

static uint64_t host_hash(const mw_engine *e, uint8_t family, const uint8_t *addr, uint16_t tenant) {
  uint8_t key[19];
  key[0] = family;
  memcpy(key + 1, addr, 16);
  key[17] = (uint8_t)(tenant >> 8);
  key[18] = (uint8_t)tenant;
  return mw_siphash13(e->cfg.hash_seed, key, sizeof key);
}

static bool same_host(const mw_host_record *r, uint8_t family, const uint8_t *addr16, uint16_t tenant) {
  return r->family == family && r->tenant == tenant && memcmp(r->addr, addr16, 16) == 0;
}

static mw_host_record *find(const mw_engine *e, uint8_t family, const uint8_t *addr16, uint16_t tenant) {
  uint32_t set = (uint32_t)host_hash(e, family, addr16, tenant) & e->host_set_mask;
  mw_host_record *r = &e->hosts[(size_t)set * MW_HOST_WAYS];
  for (int w = 0; w < MW_HOST_WAYS; w++)
    if (same_host(&r[w], family, addr16, tenant)) return &r[w];
  return NULL;
}

static mw_host_record *find_or_add(mw_engine *e, uint8_t family, const uint8_t *addr16,
                                   uint16_t tenant) {
  uint32_t set = (uint32_t)host_hash(e, family, addr16, tenant) & e->host_set_mask;
  mw_host_record *r = &e->hosts[(size_t)set * MW_HOST_WAYS];
  mw_host_record *victim = &r[0];
  for (int w = 0; w < MW_HOST_WAYS; w++) {
    if (same_host(&r[w], family, addr16, tenant)) return &r[w];
    if (r[w].family == 0) {
      victim = &r[w];
      break;
    }
    if (r[w].last_ns < victim->last_ns) victim = &r[w];
  }
  if (victim->family != 0) e->c.anomalies[MW_AN_HOST_ACTIVITY_EVICTED]++;
  memset(victim, 0, sizeof *victim);
  victim->family = family;
  victim->tenant = tenant;
  memcpy(victim->addr, addr16, 16);
  victim->first_ns = e->now_ns;
  victim->window_start_ns = e->now_ns;
  return victim;
}

static uint32_t bits_set(const uint64_t *bits) {
  uint32_t n = 0;
  for (int i = 0; i < MW_PROBE_BITS / 64; i++) n += (uint32_t)__builtin_popcountll(bits[i]);
  return n;
}

static void widen(uint8_t out[16], uint8_t family, const uint8_t *addr) {
  memset(out, 0, 16);
  memcpy(out, addr, family == 4 ? 4 : 16);
}

void mw_host_activity_syn(mw_engine *e, const mw_packet *p) {
  if (!e->hosts) return;
  uint8_t src[16], dst[16];
  widen(src, p->family, p->src);
  widen(dst, p->family, p->dst);
  bool ack = (p->tcp_flags & MW_TCP_ACK) != 0;
  if (!ack && (e->port_class[p->dport] & MW_PORT_PROBE)) {
    mw_host_record *r = find_or_add(e, p->family, src, p->tenant);
    uint64_t window = (uint64_t)e->cfg.probe_window_s * 1000000000ull;
    if (e->now_ns - r->window_start_ns >= window) {
      uint32_t n = bits_set(r->probe_bits);
      if (n > r->probe_bits_max) r->probe_bits_max = n;
      memset(r->probe_bits, 0, sizeof r->probe_bits);
      r->window_start_ns = e->now_ns;
    }
    uint8_t target[18];
    memcpy(target, dst, 16);
    target[16] = (uint8_t)(p->dport >> 8);
    target[17] = (uint8_t)p->dport;
    uint32_t bit = (uint32_t)mw_siphash13(probe_key, target, sizeof target) % MW_PROBE_BITS;
    r->probe_bits[bit / 64] |= 1ull << (bit % 64);
    if (r->probe_attempts < UINT32_MAX) r->probe_attempts++;
    r->last_ns = e->now_ns;
  } else if (ack && (e->port_class[p->sport] & MW_PORT_LOGIN)) {
    /* The host answered a connection on its login port: someone is logging in. */
    mw_host_record *r = find_or_add(e, p->family, src, p->tenant);
    unsigned k = r->login_next;
    r->login_ns[k] = e->now_ns;
    r->login_port[k] = p->sport;
    memcpy(r->login_peer[k], dst, 16);
    r->login_next = (uint8_t)((k + 1) % MW_HOST_LOGINS);
    if (r->login_count < MW_HOST_LOGINS) r->login_count++;
    r->last_ns = e->now_ns;
  }
}

void mw_engine_set_port_class(mw_engine *e, uint16_t port, uint8_t port_class) {
  if (e->port_class) e->port_class[port] = port_class;
}

int mw_engine_host_activity(const mw_engine *e, uint8_t family, const uint8_t *addr, uint16_t tenant,
                            mw_host_activity *out) {
  if (!e->hosts || (family != 4 && family != 6) || !addr || !out) return -1;
  uint8_t key[16];
  widen(key, family, addr);
  const mw_host_record *r = find(e, family, key, tenant);
  if (!r) return -1;
  memset(out, 0, sizeof *out);
  out->first_ns = r->first_ns;
  out->last_ns = r->last_ns;
  for (unsigned n = 0; n < r->login_count; n++) {
    unsigned k = (r->login_next + MW_HOST_LOGINS - 1 - n) % MW_HOST_LOGINS; /* newest first */
    out->logins[n].ns = r->login_ns[k];
    out->logins[n].peer.family = r->family; /* a peer is of the host's own family */
    memcpy(out->logins[n].peer.addr, r->login_peer[k], 16);
    out->logins[n].peer.port = r->login_port[k];
    out->logins[n].peer.tenant = r->tenant;
  }
  out->login_count = r->login_count;
  out->probe_attempts = r->probe_attempts;
  uint32_t now_bits = bits_set(r->probe_bits);
  out->probe_bits_set = now_bits > r->probe_bits_max ? now_bits : r->probe_bits_max;
  return 0;
}
