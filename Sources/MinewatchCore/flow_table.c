/* The flow table: buckets of eight entries found by a keyed hash. A full bucket evicts its
 * least recently seen entry, idle entries are reclaimed as they are met, so the table never
 * grows and a flood of new flows costs evictions, not memory. */
#include "engine_internal.h"

#include <stdlib.h>

/* Only the bytes an address family has are hashed: an IPv4 key is 15 bytes (two SipHash
 * rounds and the finish) instead of the 39 of an IPv6 one, on every packet. */
static uint64_t flow_key_hash(const mw_engine *e, const uint8_t *a0, const uint8_t *a1,
                              uint16_t p0, uint16_t p1, uint8_t family, uint16_t tenant) {
  uint8_t key[39];
  size_t alen = family == 4 ? 4 : 16, n = 2 * alen;
  memcpy(key, a0, 16); /* whole: a fixed-size copy; only the first alen bytes are hashed */
  memcpy(key + alen, a1, 16);
  key[n] = (uint8_t)(p0 >> 8);
  key[n + 1] = (uint8_t)p0;
  key[n + 2] = (uint8_t)(p1 >> 8);
  key[n + 3] = (uint8_t)p1;
  key[n + 4] = family;
  key[n + 5] = (uint8_t)(tenant >> 8);
  key[n + 6] = (uint8_t)tenant;
  return mw_siphash13(e->cfg.hash_seed, key, n + 7);
}

static uint64_t idle_limit_ns(const mw_engine *e, const mw_flow *f) {
  uint64_t s = e->cfg.idle_timeout_s;
  /* miners stay quiet between shares */
  if (f->state == MW_FLOW_MINING || f->keep || mw_rhythm_promising(e, f)) s *= 5;
  else if (f->closed) s = s < 10 ? s : 10;
  return s * 1000000000ULL;
}

static void lru_unlink(mw_engine *e, mw_stream *s) {
  if (s->lru_prev) e->streams[s->lru_prev - 1].lru_next = s->lru_next;
  else e->lru_head = s->lru_next;
  if (s->lru_next) e->streams[s->lru_next - 1].lru_prev = s->lru_prev;
  else e->lru_tail = s->lru_prev;
  s->lru_prev = s->lru_next = 0;
}

static void lru_append(mw_engine *e, uint32_t idx) {
  mw_stream *s = &e->streams[idx - 1];
  s->lru_prev = e->lru_tail;
  s->lru_next = 0;
  if (e->lru_tail) e->streams[e->lru_tail - 1].lru_next = idx;
  else e->lru_head = idx;
  e->lru_tail = idx;
}

/* Marks a flow's stream as just used. */
void mw_stream_touch(mw_engine *e, mw_flow *f) {
  if (!f->stream || e->lru_tail == f->stream) return;
  lru_unlink(e, &e->streams[f->stream - 1]);
  lru_append(e, f->stream);
}

void mw_flow_release_stream(mw_engine *e, mw_flow *f) {
  if (!f->stream) return;
  mw_stream *s = &e->streams[f->stream - 1];
  lru_unlink(e, s);
  s->flow = 0;
  s->next_free = e->free_stream;
  e->free_stream = f->stream;
  f->stream = 0;
}

/* No free buffer: the least recently fed stream gives its buffer up. A flow that showed no
 * mining is only counted from then on; a mining flow keeps its state and takes a buffer again
 * with its next segment (resynchronising at a newline), so buffers follow the flows that speak
 * and a crowd of idle fake sessions cannot keep a real miner out. */
static bool reclaim_stream(mw_engine *e) {
  uint32_t idx = e->lru_head;
  if (!idx) return false;
  mw_flow *owner = &e->flows[e->streams[idx - 1].flow - 1];
  mw_flow_release_stream(e, owner);
  if (owner->state == MW_FLOW_INSPECT) owner->state = MW_FLOW_DONE;
  e->c.anomalies[MW_AN_STREAM_RECLAIMED]++;
  return true;
}

mw_stream *mw_flow_stream(mw_engine *e, mw_flow *f, bool create) {
  if (f->stream) return &e->streams[f->stream - 1];
  if (!create) return NULL;
  if (!e->free_stream && !reclaim_stream(e)) {
    e->c.anomalies[MW_AN_STREAM_BUFFERS_EXHAUSTED]++;
    return NULL;
  }
  uint32_t idx = e->free_stream;
  mw_stream *s = &e->streams[idx - 1];
  e->free_stream = s->next_free;
  for (int d = 0; d < 2; d++) {
    mw_dir_stream *ds = &s->dir[d];
    uint8_t *line = ds->line, *ooo = ds->ooo_data;
    memset(ds, 0, sizeof *ds);
    ds->line = line;
    ds->ooo_data = ooo;
  }
  s->next_free = 0;
  s->flow = (uint32_t)(f - e->flows) + 1;
  lru_append(e, idx);
  f->stream = idx;
  return s;
}

static void fill_stats(const mw_flow *f, mw_event *ev) {
  int a = f->initiator;
  ev->bytes_from_a = f->bytes[a];
  ev->bytes_from_b = f->bytes[!a];
  ev->packets_from_a = f->packets[a];
  ev->packets_from_b = f->packets[!a];
  ev->first_ns = f->first_ns;
  ev->last_ns = f->last_ns;
  ev->carried = f->carried;
  ev->tunnel_kind = f->tunnel_kind;
  ev->tunnel_id = f->tunnel_id;
}

int mw_engine_flow_stats(const mw_engine *e, uint32_t slot, uint32_t flow_id, mw_event *out) {
  if (slot >= e->cfg.flow_capacity) return -1;
  const mw_flow *f = &e->flows[slot];
  if (f->state == MW_FLOW_FREE || f->id != flow_id) return -1;
  fill_stats(f, out);
  return 0;
}

/* Ends a flow: its statistics go up when the callback asked for them; its entry returns to
 * the pool. */
void mw_flow_end(mw_engine *e, mw_flow *f) {
  if (f->state == MW_FLOW_FREE) return;
  mw_rhythm_end(e, f);
  if (f->keep) {
    mw_event ev = {0};
    ev.kind = MW_EV_FLOW_END;
    fill_stats(f, &ev);
    ev.ts_ns = f->last_ns;
    mw_emit(e, &ev, f, f->initiator);
  }
  mw_flow_release_stream(e, f);
  e->buckets[f->bucket].tag[f->way] = 0;
  f->state = MW_FLOW_FREE;
  f->next_free = e->free_flow;
  e->free_flow = (uint32_t)(f - e->flows) + 1;
  if (e->c.flows_active) e->c.flows_active--;
}

static bool interesting(const mw_engine *e, const mw_flow *f) {
  return f->keep || f->state == MW_FLOW_MINING || mw_rhythm_promising(e, f);
}

static bool expired(const mw_engine *e, const mw_flow *f) {
  return e->now_ns > f->last_ns && e->now_ns - f->last_ns > idle_limit_ns(e, f);
}

/* Makes room in a full bucket: an expired flow, else an uninteresting one, else the least
 * recently seen. Returns the freed way. */
static int evict_from_bucket(mw_engine *e, mw_bucket *b) {
  int victim = -1;
  for (int i = 0; i < MW_BUCKET_WAYS; i++) {
    mw_flow *f = &e->flows[b->idx[i]];
    if (expired(e, f)) {
      e->c.flows_expired++;
      mw_flow_end(e, f);
      return i;
    }
    if (victim < 0) { victim = i; continue; }
    mw_flow *v = &e->flows[b->idx[victim]];
    if (interesting(e, v) != interesting(e, f) ? interesting(e, v) : f->last_ns < v->last_ns) victim = i;
  }
  e->c.anomalies[MW_AN_FLOW_TABLE_EVICTION]++;
  mw_flow_end(e, &e->flows[b->idx[victim]]);
  return victim;
}

/* The pool is empty although this bucket has room: reclaim an entry elsewhere, expired or
 * uninteresting first, looking at a bounded number of entries. */
static void reclaim_entry(mw_engine *e) {
  uint32_t n = e->cfg.flow_capacity, best = e->clock_hand % n;
  for (int i = 0; i < 64; i++) {
    uint32_t k = (e->clock_hand + (uint32_t)i) % n;
    mw_flow *f = &e->flows[k];
    if (expired(e, f)) { best = k; e->c.flows_expired++; goto end_it; }
    if (!interesting(e, f)) best = k;
  }
  e->c.anomalies[MW_AN_FLOW_TABLE_EVICTION]++;
end_it:
  e->clock_hand = best + 1;
  mw_flow_end(e, &e->flows[best]);
}

void mw_flow_key_of(const mw_engine *e, const mw_packet *p, mw_flow_key *k) {
  mw_flow_key_canon(p, k);
  mw_flow_key_hash(e, p->family, k);
}

static uint64_t be64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

/* The lower end (addresses compared as big-endian numbers, which is memcmp's order, then
 * ports) becomes a0. Fixed-size loads and copies only: a copy of a variable length was a call
 * into libc on every packet. IPv4 ends are zero-padded to 16 bytes. */
void mw_flow_key_canon(const mw_packet *p, mw_flow_key *k) {
  bool src_low;
  if (p->family == 4) {
    uint32_t s = mw_be32(p->src), d = mw_be32(p->dst);
    src_low = s < d || (s == d && p->sport <= p->dport);
    memset(k->a0, 0, sizeof k->a0);
    memset(k->a1, 0, sizeof k->a1);
    memcpy(k->a0, src_low ? p->src : p->dst, 4);
    memcpy(k->a1, src_low ? p->dst : p->src, 4);
  } else {
    uint64_t s0 = be64(p->src), d0 = be64(p->dst), s1 = be64(p->src + 8), d1 = be64(p->dst + 8);
    bool less = s0 < d0 || (s0 == d0 && s1 < d1), same = s0 == d0 && s1 == d1;
    src_low = less || (same && p->sport <= p->dport);
    memcpy(k->a0, src_low ? p->src : p->dst, 16);
    memcpy(k->a1, src_low ? p->dst : p->src, 16);
  }
  k->p0 = src_low ? p->sport : p->dport;
  k->p1 = src_low ? p->dport : p->sport;
  k->side = src_low ? 0 : 1;
  k->tenant = p->tenant;
}

void mw_flow_key_hash(const mw_engine *e, uint8_t family, mw_flow_key *k) {
  uint64_t h = flow_key_hash(e, k->a0, k->a1, k->p0, k->p1, family, k->tenant);
  k->bucket = (uint32_t)h & e->bucket_mask;
  k->tag = (uint32_t)(h >> 32) | 1;
}

/* The two memory reads a lookup stalls on, asked for ahead: the bucket, then (once the bucket
 * has arrived) the entry its tag points at. */
void mw_flow_prefetch_bucket(const mw_engine *e, const mw_flow_key *k) {
  __builtin_prefetch(&e->buckets[k->bucket], 0, 3);
}

/* Every line of the entry: its rhythm index and its counters lie in its second line, which
 * the first prefetch did not bring — updating the counters stalled there on every packet. */
void mw_flow_prefetch_entry(const mw_engine *e, const mw_flow_key *k) {
  const mw_bucket *b = &e->buckets[k->bucket];
  for (int i = 0; i < MW_BUCKET_WAYS; i++) {
    if (b->tag[i] != k->tag) continue;
    const char *f = (const char *)&e->flows[b->idx[i]];
    for (size_t line = 0; line < sizeof(mw_flow); line += 64) __builtin_prefetch(f + line, 1, 3);
  }
}

/* Then (once the entry has arrived) the rhythm record of a followed encrypted flow, which its
 * every segment updates. */
void mw_flow_prefetch_rhythm(const mw_engine *e, const mw_flow_key *k) {
  const mw_bucket *b = &e->buckets[k->bucket];
  for (int i = 0; i < MW_BUCKET_WAYS; i++) {
    if (b->tag[i] != k->tag) continue;
    const mw_flow *f = &e->flows[b->idx[i]];
    if (f->rhythm) {
      const mw_rhythm_slot *s = &e->rhythms[f->rhythm - 1];
      __builtin_prefetch(&s->r, 1, 3);
      __builtin_prefetch(&s->client_side, 1, 3);
    }
  }
}

mw_flow *mw_flow_lookup(mw_engine *e, const mw_packet *p, int *side) {
  mw_flow_key k;
  mw_flow_key_of(e, p, &k);
  return mw_flow_lookup_key(e, p, &k, side);
}

mw_flow *mw_flow_lookup_key(mw_engine *e, const mw_packet *p, const mw_flow_key *k, int *side) {
  const uint8_t *a0 = k->a0, *a1 = k->a1;
  uint16_t p0 = k->p0, p1 = k->p1;
  *side = k->side;
  uint32_t bi = k->bucket, tag = k->tag;
  mw_bucket *b = &e->buckets[bi];
  int free_way = -1;
  for (int i = 0; i < MW_BUCKET_WAYS; i++) {
    if (b->tag[i] == tag) {
      mw_flow *f = &e->flows[b->idx[i]];
      if (f->port[0] == p0 && f->port[1] == p1 && f->family == p->family && f->tenant == k->tenant &&
          memcmp(f->addr[0], a0, 16) == 0 && memcmp(f->addr[1], a1, 16) == 0)
        return f;
    } else if (b->tag[i] == 0 && free_way < 0) {
      free_way = i;
    }
  }
  if (free_way < 0) free_way = evict_from_bucket(e, b);
  uint32_t idx;
  if (!e->free_flow && e->pool_used < e->cfg.flow_capacity) {
    idx = e->pool_used++;
  } else {
    if (!e->free_flow) reclaim_entry(e);
    idx = e->free_flow - 1;
    e->free_flow = e->flows[idx].next_free;
  }
  mw_flow *f = &e->flows[idx];
  memset(f, 0, sizeof *f);
  f->tunnel_kind = p->tunnel_kind;
  f->tunnel_id = p->tunnel_id;
  f->tenant = k->tenant;
  b->tag[free_way] = tag;
  b->idx[free_way] = idx;
  f->bucket = bi;
  f->way = (uint8_t)free_way;
  memcpy(f->addr[0], a0, 16);
  memcpy(f->addr[1], a1, 16);
  f->port[0] = p0;
  f->port[1] = p1;
  f->family = p->family;
  f->state = MW_FLOW_INSPECT;
  f->id = ++e->next_id;
  f->first_ns = e->now_ns;
  /* The opener is the SYN sender; a SYN-ACK names the other side; else the first sender. */
  bool syn = (p->tcp_flags & MW_TCP_SYN) != 0, ack = (p->tcp_flags & MW_TCP_ACK) != 0;
  f->initiator = (uint8_t)((syn && ack) ? !*side : *side);
  f->seen_syn = syn;
  e->c.flows_created++;
  e->c.flows_active++;
  return f;
}

uint32_t mw_engine_expire_idle(mw_engine *e, uint32_t max_buckets) {
  uint32_t ended = 0, nb = e->bucket_mask + 1;
  if (max_buckets > nb) max_buckets = nb;
  for (uint32_t k = 0; k < max_buckets; k++) {
    mw_bucket *b = &e->buckets[e->sweep_cursor];
    e->sweep_cursor = (e->sweep_cursor + 1) & e->bucket_mask;
    for (int w = 0; w < MW_BUCKET_WAYS; w++) {
      if (!b->tag[w]) continue;
      mw_flow *f = &e->flows[b->idx[w]];
      if (expired(e, f)) {
        e->c.flows_expired++;
        mw_flow_end(e, f);
        ended++;
      }
    }
  }
  return ended;
}
