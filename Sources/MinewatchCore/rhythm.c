/* The rhythm of TLS flows that no name attributed: what an encrypted miner still shows (a
 * share is one client record of nearly constant size answered within a round trip by one short
 * server record; job pushes are server records no client record asked for). A fixed pool of
 * records follows the newest such flows; nothing here runs for other flows, and each segment of
 * a followed flow costs a few comparisons. Swift judges the figures when the flow ends. */
#include "engine_internal.h"

/* The answer window: a server segment this soon after a client segment answers it. Twice the
 * handshake's round trip and 250 ms for the pool to check the share, at most a second. */
static uint64_t answer_window(const mw_rhythm *r) {
  uint64_t w = 2 * r->rtt_ns + 250000000ULL;
  return w < 1000000000ULL ? w : 1000000000ULL;
}

static bool near(uint16_t a, uint32_t b) {
  return (a > b ? a - b : b - a) <= MW_RHYTHM_SIZE_SLACK;
}

static void note_gap(mw_rhythm_kind *k, uint64_t ns) {
  if (k->count > 0 && ns > k->last_ns) {
    double g = (double)(ns - k->last_ns) / 1e9;
    k->gap_sum += g;
    k->gap_sq += g * g;
  }
  k->count++;
  k->last_ns = ns;
}

/* The kind this size (and answer) belongs to, a new one while there is room, or NULL. */
static mw_rhythm_kind *kind_for(mw_rhythm_kind *kinds, uint32_t size, uint32_t answer, bool pair) {
  for (int i = 0; i < MW_RHYTHM_KINDS; i++) {
    mw_rhythm_kind *k = &kinds[i];
    if (k->count == 0) {
      k->size = (uint16_t)(size > 65535 ? 65535 : size);
      k->answer = (uint16_t)(answer > 65535 ? 65535 : answer);
      return k;
    }
    if (near(k->size, size) && (!pair || near(k->answer, answer))) return k;
  }
  return NULL;
}

/* How much a followed flow has shown: a miner's answered pairs keep its record against the
 * crowd of new TLS connections a gateway sees every second. */
static uint32_t promise(const mw_engine *e, const mw_rhythm_slot *s) {
  if (!s->flow_id) return 0;
  const mw_flow *f = &e->flows[s->flow_slot];
  if (f->state == MW_FLOW_FREE || f->id != s->flow_id) return 0; /* its flow is gone */
  if (f->keep) return UINT32_MAX; /* the layer above found mining in it */
  return s->pairs_total + 1;
}

/* Four answered pairs: from then on the flow is kept like a mining one (a longer idle time, a
 * later eviction); every TLS flow followed is not. */
bool mw_rhythm_promising(const mw_engine *e, const mw_flow *f) {
  return f->rhythm && e->rhythms[f->rhythm - 1].pairs_total >= 4;
}

void mw_rhythm_start(mw_engine *e, mw_flow *f, int client_side) {
  if (f->rhythm || !e->rhythms) return;
  /* Of eight records from the cursor on, a free one, else the one that has shown least (the
   * oldest among equals comes first from the cursor). */
  uint32_t idx = e->rhythm_next % MW_RHYTHM_SLOTS, best = UINT32_MAX;
  for (uint32_t i = 0; i < MW_RHYTHM_PROBE; i++) {
    uint32_t j = (e->rhythm_next + i) % MW_RHYTHM_SLOTS;
    uint32_t p = promise(e, &e->rhythms[j]);
    if (p < best) {
      best = p;
      idx = j;
      if (p == 0) break;
    }
  }
  e->rhythm_next = idx + 1;
  if (best == UINT32_MAX) { /* every candidate is a finding: the newcomer is not followed */
    e->c.anomalies[MW_AN_RHYTHM_EVICTED]++;
    return;
  }
  mw_rhythm_slot *s = &e->rhythms[idx];
  if (best > 0) { /* a follow gives way: its flow is only counted from now on */
    mw_flow *old = &e->flows[s->flow_slot];
    old->rhythm = 0;
    e->c.anomalies[MW_AN_RHYTHM_EVICTED]++;
  }
  memset(s, 0, sizeof *s);
  s->flow_id = f->id;
  s->flow_slot = (uint32_t)(f - e->flows);
  s->client_side = (uint8_t)client_side;
  s->handshake = 1; /* the server's first flight is not a record of the session */
  s->r.first_ns = e->now_ns;
  s->r.last_ns = e->now_ns;
  f->rhythm = (uint16_t)(idx + 1);
}

void mw_rhythm_segment(mw_engine *e, mw_flow *f, int side, uint32_t len) {
  mw_rhythm_slot *s = &e->rhythms[f->rhythm - 1];
  mw_rhythm *r = &s->r;
  uint64_t now = e->now_ns;
  r->last_ns = now;
  bool client = side == s->client_side;
  if (s->handshake) {
    /* ServerHello and what follows it, then the client's Finished (TLS 1.3) or key exchange,
     * then the server's reply to that: the handshake ends with the first client segment the
     * server answers or after three segments each way, whichever comes first. */
    if (!client && r->rtt_ns == 0) r->rtt_ns = now - r->first_ns;
    if (client) s->handshake++;
    if (s->handshake >= 3 || (client && r->rtt_ns)) s->handshake = 0;
    if (s->handshake) return;
    if (client) return; /* the client's last handshake flight (and TLS 1.3 Finished with login) */
  }
  /* Bulk transfer one way (a download, an upload, a video) is not a miner's conversation of
   * small requests and answers: such a flow gives its record up at once. */
  if (r->server_segments > 4 * r->client_segments + 32 || r->client_segments > 4 * r->server_segments + 32) {
    s->flow_id = 0;
    f->rhythm = 0;
    return;
  }
  if (client) {
    r->client_segments++;
    r->bytes_client += len;
    /* Requests can overlap (two submits, then their two answers): up to eight wait. */
    if (s->awaiting < 8) s->awaiting++;
    s->awaiting_size = (uint16_t)(len > 65535 ? 65535 : len);
    s->awaiting_ns = now;
    return;
  }
  r->server_segments++;
  r->bytes_server += len;
  if (s->awaiting && now - s->awaiting_ns <= answer_window(r)) {
    s->awaiting--;
    mw_rhythm_kind *k = kind_for(r->pairs, s->awaiting_size, len, true);
    if (k) note_gap(k, s->awaiting_ns);
    else r->other_pairs++;
    /* A miner's connection can last days: its rhythm goes up while it lasts, not only at its
     * end (every 16 pairs, every 256 past 256), so the daemon can report it live. */
    uint32_t n = ++s->pairs_total;
    if (n % (n > 256 ? 256 : 16) == 0) {
      mw_event ev = {0};
      ev.kind = MW_EV_OPAQUE_FLOW;
      ev.rhythm = r;
      ev.ongoing = 1;
      if (mw_emit(e, &ev, f, s->client_side)) f->keep = 1;
    }
    return;
  }
  s->awaiting = 0;
  uint32_t slot = r->push_total++ % MW_RHYTHM_PUSH_TIMES;
  r->push_ns[slot] = now;
  r->push_size[slot] = (uint16_t)(len > 65535 ? 65535 : len);
  mw_rhythm_kind *k = kind_for(r->pushes, len, 0, false);
  if (k) note_gap(k, now);
  else r->other_pushes++;
}

void mw_rhythm_end(mw_engine *e, mw_flow *f) {
  if (!f->rhythm) return;
  mw_rhythm_slot *s = &e->rhythms[f->rhythm - 1];
  f->rhythm = 0;
  if (s->flow_id != f->id) return;
  s->flow_id = 0;
  /* Only flows with a rhythm to judge go up: a handful of segments says nothing. */
  uint32_t pairs = 0;
  for (int i = 0; i < MW_RHYTHM_KINDS; i++) pairs += s->r.pairs[i].count;
  if (pairs < 4) return;
  mw_event ev = {0};
  ev.kind = MW_EV_OPAQUE_FLOW;
  ev.rhythm = &s->r;
  ev.ts_ns = s->r.last_ns;
  if (mw_emit(e, &ev, f, s->client_side)) f->keep = 1;
}
