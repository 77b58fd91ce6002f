/* A sharded scan (issue 12): one reader thread walks the mapped capture and decodes each record,
 * as a two-thread scan's reader does (mapped_pipeline.c), and hands it to one of n engines,
 * each on a thread of its own, by a hash of the flow's two ends in canonical order — the same
 * for both directions, so each flow lives in exactly one engine.
 *
 * Why each engine still finds what one engine would: within a flow, an engine sees the flow's
 * packets in file order with the capture's own packet time (each record carries it). What
 * spans flows is kept alike in every engine: DNS answers (pool addresses and unlisted names
 * learned from them) and the SYNs that make host activity reach every other engine too, as
 * records that change those tables only (mw_engine_shared_effect), in file order among that
 * engine's own packets — so when any engine opens a flow, its tables hold what one engine's
 * would at that packet. Sample points (the timelines) are records given to every engine after
 * the same packet, so every engine stops there; the Swift side meets all engines at each of
 * them (notes that compare flows are published then, SessionTracker). Tables that fill (flows,
 * stream buffers, rhythm records) fill at other moments in n engines than in one: past their
 * limits, which are counted, a sharded scan may keep other flows than one engine.
 *
 * Rings: one per engine, single producer and single consumer, handed over MW_SH_PUBLISH records
 * at a time. The reader waits for room in a full ring; an engine waits for records. Both spin
 * briefly, then sleep on one condition variable (see mapped_pipeline.c for why). */
#define _GNU_SOURCE /* pthread_setname_np */
#include "engine_internal.h"
#include "mapped_pcap.h"

#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { MW_SH_RING = 1024, MW_SH_PUBLISH = 8, MW_SH_SPINS = 256, MW_SH_RELEASE_EVERY = 4096 };
/* A file libpcap reads (pcapng, stdin, a pipe): each packet's bytes are copied into this arena,
 * where they stay until every engine is past them (libpcap reuses its buffer on the next read).
 * Far more than the rings can hold of any link's packets (1,024 records an engine). */
enum { MW_SH_ARENA = 8 << 20 };

typedef struct {
  mw_decoded rec[MW_SH_RING];
  size_t start_of[MW_SH_RING]; /* where each record's bytes begin (file offset, or arena
                                  position): what lies before the oldest unconsumed one can go */
  uint64_t local;              /* the reader's: records written */
  _Atomic uint64_t produced, consumed;
  _Atomic bool engine_waits;
} mw_shard_ring;

struct mw_shards {
  mw_mapped *m;     /* the file walked in place, or NULL: */
  pcap_t *pcap;     /* libpcap reads it, the bytes copied into */
  uint8_t *arena;   /* MW_SH_ARENA */
  uint64_t arena_pos; /* the reader's: where the next packet's bytes go */
  FILE *file;       /* for progress: NULL for stdin and pipes */
  const mw_engine *proto; /* engine 0: link type, tenants, names, port classes (read only) */
  mw_engine *engines[MW_SHARDS_MAX];
  int n;
  mw_shard_ring *ring[MW_SHARDS_MAX];
  uint64_t seed;
  uint64_t seq;       /* the reader's: records read in the scan so far */
  uint64_t now_ns;    /* the reader's: the capture's packet time */
  uint64_t next_tick, tick_step;
  _Atomic uint64_t packets_read;
  _Atomic int64_t done_offset;
  _Atomic bool stop, reader_waits, reader_waits_arena;
  int end_rc;
  char err[256];
  uint64_t anomalies[MW_AN_COUNT];
  pthread_t thread;
  bool running;
  pthread_mutex_t lock;
  pthread_cond_t wake;
};

static void wake_all(mw_shards *s) {
  pthread_mutex_lock(&s->lock);
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);
}

static void publish(mw_shards *s, int k) {
  mw_shard_ring *r = s->ring[k];
  if (atomic_load_explicit(&r->produced, memory_order_relaxed) == r->local) return;
  atomic_store(&r->produced, r->local);
  if (atomic_load(&r->engine_waits)) wake_all(s);
}

static void publish_all(mw_shards *s) {
  for (int k = 0; k < s->n; k++) publish(s, k);
}

/* The reader: until ring k has room for one more record. False when told to stop. */
static bool room_in(mw_shards *s, int k) {
  mw_shard_ring *r = s->ring[k];
  if (r->local - atomic_load(&r->consumed) < MW_SH_RING) return true;
  publish_all(s); /* every engine must see all there is before the reader waits */
  for (unsigned spins = 0; r->local - atomic_load(&r->consumed) >= MW_SH_RING; spins++) {
    if (atomic_load_explicit(&s->stop, memory_order_relaxed)) return false;
    if (spins < MW_SH_SPINS) {
      mw_cpu_relax();
      continue;
    }
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->reader_waits, true);
    while (r->local - atomic_load(&r->consumed) > MW_SH_RING / 2 && !atomic_load(&s->stop))
      pthread_cond_wait(&s->wake, &s->lock);
    atomic_store(&s->reader_waits, false);
    pthread_mutex_unlock(&s->lock);
  }
  return !atomic_load_explicit(&s->stop, memory_order_relaxed);
}

/* A slot of ring k to write the next record into; NULL when told to stop. */
static mw_decoded *slot_in(mw_shards *s, int k, size_t start) {
  if (!room_in(s, k)) return NULL;
  mw_shard_ring *r = s->ring[k];
  uint32_t i = (uint32_t)(r->local % MW_SH_RING);
  r->start_of[i] = start;
  return &r->rec[i];
}

static void written(mw_shards *s, int k) {
  mw_shard_ring *r = s->ring[k];
  if (++r->local - atomic_load_explicit(&r->produced, memory_order_relaxed) >= MW_SH_PUBLISH) publish(s, k);
}

/* The owner of a flow: a keyed mix of its ends in canonical order, so that both directions
 * agree. Not the flow table's hash (the engines hash again with theirs); the seed, secret and
 * drawn once a scan, keeps an outsider from steering every flow to one engine. */
static int owner_of_key(const mw_shards *s, uint8_t family, const mw_flow_key *key) {
  uint64_t w[4];
  memcpy(w, key->a0, 16);
  memcpy(w + 2, key->a1, 16);
  const uint64_t mul = 0x9e3779b97f4a7c15ull;
  uint64_t h = s->seed ^ family;
  for (int i = 0; i < 4; i++) h = (h ^ w[i]) * mul;
  h = (h ^ ((uint64_t)key->p0 << 32 | (uint64_t)key->p1 << 16 | key->tenant)) * mul;
  h ^= h >> 31;
  return (int)(((h >> 32) * (uint64_t)s->n) >> 32);
}

/* The owner of a packet the reader decoded. */
static int owner_of(const mw_shards *s, const mw_decoded *d) {
  if (!d->ok) return (int)(s->seq % (uint64_t)s->n); /* only counted: spread them */
  if (d->keyed) return owner_of_key(s, d->p.family, &d->k);
  mw_flow_key k;
  mw_flow_key_canon(&d->p, &k);
  return owner_of_key(s, d->p.family, &k);
}

/* The owner of the commonest packet — TCP or UDP in IPv4 in untagged Ethernet — read from its
 * headers alone, or -1 when the packet needs the whole decoder here: another link or layer,
 * a tunnel's port, or a packet whose effect spans flows (DNS, a SYN on a login or probe port),
 * which the reader must decode to hand to every engine. Decoding the rest is left to its
 * engine: with full decoding the reader was the slowest thread of a sharded scan. The owner is
 * the one the whole decoder's fields give (mw_decode reads these same bytes for such a packet,
 * no tunnel, so no tenant); when mw_decode would refuse the packet, its engine counts it. */
static int owner_at_a_glance(const mw_shards *s, const mw_raw_packet *r) {
  const uint8_t *f = r->data;
  uint32_t len = r->caplen;
  if (s->proto->linktype != MW_LT_ETHERNET || len < 14 + 20 || mw_be16(f + 12) != 0x0800) return -1;
  const uint8_t *ip = f + 14;
  uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl + 8 || (mw_be16(ip + 6) & 0x1fff) != 0) return -1;
  const uint8_t *l4 = ip + ihl;
  uint16_t sport = mw_be16(l4), dport = mw_be16(l4 + 2);
  if (sport == 53 || dport == 53) return -1;
  if (ip[9] == IPPROTO_TCP) {
    if (len < 14 + ihl + 20) return -1;
    uint8_t flags = l4[13];
    if ((flags & MW_TCP_SYN) && s->proto->port_class &&
        ((s->proto->port_class[dport] & MW_PORT_PROBE) || (s->proto->port_class[sport] & MW_PORT_LOGIN)))
      return -1;
  } else if (ip[9] == IPPROTO_UDP) {
    if (dport == 4789 || dport == 6081 || sport == 2152 || dport == 2152 || sport == 3544 || dport == 3544)
      return -1; /* VXLAN, Geneve, GTP-U, Teredo: decode.c may find a tunnel */
  } else {
    return -1;
  }
  mw_packet p = {.family = 4, .src = ip + 12, .dst = ip + 16, .sport = sport, .dport = dport};
  mw_flow_key k;
  mw_flow_key_canon(&p, &k);
  return owner_of_key(s, 4, &k);
}

/* Where the next record's bytes begin. */
static size_t source_position(const mw_shards *s) { return s->m ? s->m->pos : (size_t)s->arena_pos; }

/* The oldest byte an engine may still read (file pages or arena before it can go). */
static size_t oldest_in_use(mw_shards *s) {
  size_t oldest = source_position(s);
  for (int k = 0; k < s->n; k++) {
    mw_shard_ring *r = s->ring[k];
    uint64_t c = atomic_load(&r->consumed);
    if (c < r->local) {
      size_t at = r->start_of[c % MW_SH_RING];
      if (at < oldest) oldest = at;
    }
  }
  return oldest;
}

/* A record for every engine (a tick or the end). False when told to stop. */
static bool to_every_engine(mw_shards *s, mw_record_role role, size_t start) {
  for (int k = 0; k < s->n; k++) {
    mw_decoded *d = slot_in(s, k, start);
    if (!d) return false;
    d->role = (uint8_t)role;
    d->now_ns = s->now_ns;
    d->seq = s->seq;
    d->r.data = NULL;
    written(s, k);
  }
  publish_all(s);
  return true;
}

/* After a record: a sample point for every engine when packet time has reached it. False when
 * told to stop. */
static bool tick_if_due(mw_shards *s, size_t start) {
  if (s->next_tick == 0 || s->now_ns < s->next_tick) return true;
  if (!to_every_engine(s, MW_REC_TICK, start)) return false;
  s->next_tick = s->now_ns + s->tick_step;
  return true;
}

/* The reader, for a file libpcap reads: waits until `len` bytes from `start` are free in the
 * arena (every engine past what was there). False when told to stop. */
static bool arena_room(mw_shards *s, uint64_t start, uint32_t len) {
  if (start + len - oldest_in_use(s) <= MW_SH_ARENA) return true;
  publish_all(s);
  for (unsigned spins = 0; start + len - oldest_in_use(s) > MW_SH_ARENA; spins++) {
    if (atomic_load_explicit(&s->stop, memory_order_relaxed)) return false;
    if (spins < MW_SH_SPINS) {
      mw_cpu_relax();
      continue;
    }
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->reader_waits_arena, true);
    if (start + len - oldest_in_use(s) > MW_SH_ARENA && !atomic_load(&s->stop)) pthread_cond_wait(&s->wake, &s->lock);
    atomic_store(&s->reader_waits_arena, false);
    pthread_mutex_unlock(&s->lock);
  }
  return true;
}

/* The next packet from libpcap, its bytes copied into the arena: as mw_mapped_next. */
static int pcap_next_copied(mw_shards *s, mw_raw_packet *r) {
  struct pcap_pkthdr *h;
  const u_char *data;
  for (;;) {
    int rc = pcap_next_ex(s->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK) return 0;
    if (rc == PCAP_ERROR) {
      snprintf(s->err, sizeof s->err, "%s", pcap_geterr(s->pcap));
      return -1;
    }
    if (rc == 1) break;
  }
  uint32_t caplen = h->caplen; /* never more than libpcap handed over (its snaplen) */
  if (caplen > MW_SH_ARENA / 4) caplen = MW_SH_ARENA / 4;
  uint64_t start = s->arena_pos;
  /* A packet never wraps: it starts over at the arena's beginning when the end is too near. */
  if (start % MW_SH_ARENA + caplen > MW_SH_ARENA) start += MW_SH_ARENA - start % MW_SH_ARENA;
  if (!arena_room(s, start, caplen)) return -2;
  uint8_t *copy = s->arena + start % MW_SH_ARENA;
  memcpy(copy, data, caplen);
  s->arena_pos = start + caplen;
  r->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
  r->data = copy;
  r->caplen = caplen;
  r->wirelen = h->len > caplen ? h->len : caplen;
  return 1;
}

static void *read_and_deal(void *arg) {
  mw_shards *s = arg;
  pthread_setname_np(pthread_self(), "mw-shard-reader");
  for (uint64_t i = 0;; i++) {
    if (i % MW_SH_RELEASE_EVERY == 0) {
      size_t oldest = oldest_in_use(s);
      if (s->m) {
        atomic_store_explicit(&s->done_offset, (int64_t)oldest, memory_order_relaxed);
        mw_mapped_release(s->m, oldest);
      } else if (s->file) {
        atomic_store_explicit(&s->done_offset, (int64_t)ftell(s->file), memory_order_relaxed);
      }
    }
    size_t before = source_position(s);
    mw_raw_packet r;
    int rc = s->m ? mw_mapped_next(s->m, &r, s->err, sizeof s->err) : pcap_next_copied(s, &r);
    if (rc == -2) return NULL; /* told to stop */
    if (rc != 1) {
      s->end_rc = rc;
      to_every_engine(s, MW_REC_END, source_position(s));
      return NULL;
    }
    /* Where the record's bytes begin: its header in the mapped file, its copy in the arena. */
    size_t start = s->m ? before : (size_t)(s->arena_pos - r.caplen);
    s->seq++;
    atomic_store_explicit(&s->packets_read, s->seq, memory_order_relaxed);
    if (r.ts_ns > s->now_ns) s->now_ns = r.ts_ns;
    int glance = s->n > 1 ? owner_at_a_glance(s, &r) : 0;
    if (glance >= 0) {
      mw_decoded *slot = slot_in(s, glance, start);
      if (!slot) return NULL;
      slot->r = r;
      slot->role = MW_REC_RAW;
      slot->now_ns = s->now_ns;
      slot->seq = s->seq;
      written(s, glance);
      if (!tick_if_due(s, start)) return NULL;
      continue;
    }
    mw_decoded d;
    mw_engine_decode(s->proto, &r, &d, s->anomalies);
    d.now_ns = s->now_ns;
    d.seq = s->seq;
    d.role = MW_REC_OWN;
    int owner = owner_of(s, &d);
    mw_decoded *slot = slot_in(s, owner, start);
    if (!slot) return NULL;
    *slot = d;
    written(s, owner);
    mw_record_role shared = s->n > 1 ? mw_record_shared_role(s->proto, &d) : MW_REC_OWN;
    if (shared != MW_REC_OWN) {
      d.role = (uint8_t)shared;
      for (int k = 0; k < s->n; k++) {
        if (k == owner) continue;
        if (!(slot = slot_in(s, k, start))) return NULL;
        *slot = d;
        written(s, k);
      }
    }
    if (!tick_if_due(s, start)) return NULL;
  }
}

mw_shards *mw_shards_start(mw_capture *c, mw_engine *const *engines, int n, uint64_t seq_base,
                           uint64_t next_tick_ns, uint64_t tick_step_ns, char *err, size_t errlen) {
  mw_mapped *m = mw_capture_mapped(c);
  pcap_t *pcap = m ? NULL : mw_capture_pcap(c);
  if (!m && !pcap) {
    snprintf(err, errlen, "not a capture file");
    return NULL;
  }
  if (n < 1 || n > MW_SHARDS_MAX) {
    snprintf(err, errlen, "engines: %d is not 1 to %d", n, MW_SHARDS_MAX);
    return NULL;
  }
  mw_shards *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->m = m;
  s->pcap = pcap;
  s->file = m ? NULL : mw_capture_stream(c);
  s->n = n;
  s->proto = engines[0];
  bool allocated = m || (s->arena = malloc(MW_SH_ARENA));
  for (int k = 0; k < n && allocated; k++) {
    s->engines[k] = engines[k];
    allocated = (s->ring[k] = calloc(1, sizeof(mw_shard_ring))) != NULL;
  }
  if (!allocated) {
    mw_shards_stop(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  /* From engine 0's secret seed, which lasts the whole scan: the owner must stay the same from
   * one file to the next, or a flow carried across rotated files (tcpdump -C, -G) moved to
   * another engine and its session split in two. A seed drawn per file did that. */
  const uint64_t *scan_seed = engines[0]->cfg.hash_seed;
  s->seed = (scan_seed[0] ^ (scan_seed[1] << 17 | scan_seed[1] >> 47)) * 0x2545f4914f6cdd1dull | 1;
  s->seq = seq_base;
  s->now_ns = mw_engine_now(engines[0]);
  for (int k = 1; k < n; k++)
    if (mw_engine_now(engines[k]) > s->now_ns) s->now_ns = mw_engine_now(engines[k]);
  s->next_tick = next_tick_ns;
  s->tick_step = tick_step_ns ? tick_step_ns : 1;
  atomic_store(&s->done_offset, m ? (int64_t)m->pos : 0);
  if (pthread_mutex_init(&s->lock, NULL) != 0 || pthread_cond_init(&s->wake, NULL) != 0 ||
      pthread_create(&s->thread, NULL, read_and_deal, s) != 0) {
    mw_shards_stop(s); /* not running: only frees */
    snprintf(err, errlen, "no reader thread to be had");
    return NULL;
  }
  s->running = true;
  return s;
}

/* Engine k: until a record past `consumed` is there; returns how many were produced. */
static uint64_t records_after(mw_shards *s, mw_shard_ring *r, uint64_t consumed) {
  uint64_t produced;
  for (unsigned spins = 0; (produced = atomic_load(&r->produced)) == consumed; spins++) {
    if (spins < MW_SH_SPINS) {
      mw_cpu_relax();
      continue;
    }
    pthread_mutex_lock(&s->lock);
    atomic_store(&r->engine_waits, true);
    while (atomic_load(&r->produced) == consumed) pthread_cond_wait(&s->wake, &s->lock);
    atomic_store(&r->engine_waits, false);
    pthread_mutex_unlock(&s->lock);
  }
  return produced;
}

static void consumed_to(mw_shards *s, mw_shard_ring *r, uint64_t consumed, uint64_t produced) {
  atomic_store(&r->consumed, consumed);
  if (atomic_load(&s->reader_waits_arena) || (atomic_load(&s->reader_waits) && produced - consumed <= MW_SH_RING / 2))
    wake_all(s);
}

int mw_shards_run(mw_shards *s, int k, char *err, size_t errlen) {
  if (k < 0 || k >= s->n) return -1;
  mw_shard_ring *r = s->ring[k];
  mw_engine *e = s->engines[k];
  if (k > 0) { /* the caller's own thread (engine 0) keeps its name */
    char name[16];
    snprintf(name, sizeof name, "mw-engine-%d", k);
    pthread_setname_np(pthread_self(), name);
  }
  uint64_t consumed = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  for (;;) {
    uint64_t produced = records_after(s, r, consumed);
    uint32_t slot = (uint32_t)(consumed % MW_SH_RING), n = 0;
    while (n < MW_BATCH && consumed + n < produced && slot + n < MW_SH_RING &&
           r->rec[slot + n].role <= MW_REC_RAW) {
      mw_decoded *d = &r->rec[slot + n];
      if (d->role == MW_REC_RAW) {
        /* Decoded here, as one engine would: its anomalies are this engine's to count. */
        uint64_t now = d->now_ns, seq = d->seq;
        mw_raw_packet raw = d->r;
        mw_engine_decode(e, &raw, d, e->c.anomalies);
        d->now_ns = now;
        d->seq = seq;
      }
      n++;
    }
    if (n) {
      mw_engine_decoded(e, &r->rec[slot], n);
      consumed += n;
      consumed_to(s, r, consumed, produced);
      continue;
    }
    const mw_decoded *d = &r->rec[slot];
    switch ((mw_record_role)d->role) {
    case MW_REC_DNS:
    case MW_REC_SYN:
      mw_engine_shared_effect(e, d);
      consumed_to(s, r, ++consumed, produced);
      continue;
    case MW_REC_TICK:
      mw_engine_advance_time(e, d->now_ns);
      consumed_to(s, r, ++consumed, produced);
      return 1;
    case MW_REC_END:
    default:
      mw_engine_advance_time(e, d->now_ns);
      consumed_to(s, r, ++consumed, produced);
      /* The reader wrote its last record: its counts and message are settled. */
      if (k == 0) {
        mw_counters *c = &e->c;
        for (int i = 0; i < MW_AN_COUNT; i++) c->anomalies[i] += s->anomalies[i];
      }
      if (s->end_rc < 0) snprintf(err, errlen, "%s", s->err);
      return s->end_rc;
    }
  }
}

uint64_t mw_shards_next_tick(const mw_shards *s) { return s->next_tick; }

uint64_t mw_shards_packets(const mw_shards *s) { return atomic_load(&s->packets_read); }

int64_t mw_shards_offset(const mw_shards *s) { return atomic_load_explicit(&s->done_offset, memory_order_relaxed); }

void mw_shards_stop(mw_shards *s) {
  if (!s) return;
  if (s->running) {
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    if (s->m) mw_mapped_release_all(s->m);
  }
  for (int k = 0; k < s->n; k++) free(s->ring[k]);
  free(s->arena);
  free(s);
}
