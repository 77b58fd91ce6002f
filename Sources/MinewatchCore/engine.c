/* The engine: decodes each packet once, finds its flow, and hands payload to the stream or
 * DNS inspectors. All memory is taken in mw_engine_create. */
/* BSD types for pcap.h, clock_gettime and fileno under -std=c11 */
#define _DEFAULT_SOURCE
#include "engine_internal.h"

#include <sys/mman.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>

static const char *const anomaly_names[MW_AN_COUNT] = {
  [MW_AN_TRUNCATED_PACKET] = "truncated_packet",
  [MW_AN_UNSUPPORTED_LINKTYPE] = "unsupported_linktype",
  [MW_AN_BAD_LINK_HEADER] = "bad_link_header",
  [MW_AN_BAD_IPV4_HEADER] = "bad_ipv4_header",
  [MW_AN_BAD_IPV6_HEADER] = "bad_ipv6_header",
  [MW_AN_IPV6_EXT_HEADER] = "bad_ipv6_extension_header",
  [MW_AN_NON_FIRST_FRAGMENT] = "non_first_fragment",
  [MW_AN_BAD_TCP_HEADER] = "bad_tcp_header",
  [MW_AN_BAD_UDP_HEADER] = "bad_udp_header",
  [MW_AN_OTHER_L4] = "other_transport",
  [MW_AN_TCP_RETRANSMISSION] = "tcp_retransmission",
  [MW_AN_TCP_OUT_OF_ORDER] = "tcp_out_of_order",
  [MW_AN_TCP_GAP] = "tcp_gap",
  [MW_AN_LINE_TOO_LONG] = "line_too_long",
  [MW_AN_JSON_MALFORMED] = "json_malformed",
  [MW_AN_JSON_TOO_DEEP] = "json_too_deep",
  [MW_AN_FLOW_TABLE_EVICTION] = "flow_table_eviction",
  [MW_AN_STREAM_BUFFERS_EXHAUSTED] = "stream_buffers_exhausted",
  [MW_AN_DNS_MALFORMED] = "dns_malformed",
  [MW_AN_DNS_POINTER_LOOP] = "dns_pointer_loop",
  [MW_AN_TLS_MALFORMED] = "tls_malformed",
  [MW_AN_NAME_TOO_LONG] = "name_too_long",
  [MW_AN_HTTP_BODY_TOO_LONG] = "http_body_too_long",
  [MW_AN_STREAM_RECLAIMED] = "stream_reclaimed",
  [MW_AN_POOL_ADDRESS_EVICTED] = "pool_address_evicted",
  [MW_AN_HOST_ACTIVITY_EVICTED] = "host_activity_evicted",
  [MW_AN_RHYTHM_EVICTED] = "rhythm_evicted",
  [MW_AN_UNSUPPORTED_ENCAPSULATION] = "unsupported_encapsulation",
  [MW_AN_ENCAPSULATION_TOO_DEEP] = "encapsulation_too_deep",
  [MW_AN_BAD_TUNNEL_HEADER] = "bad_tunnel_header",
};

const char *mw_anomaly_name(mw_anomaly a) {
  return (a >= 0 && a < MW_AN_COUNT) ? anomaly_names[a] : "unknown";
}

void mw_config_default(mw_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->flow_capacity = 1u << 18;
  cfg->stream_buffers = 2048;
  cfg->line_max = 8192;
  cfg->inspect_bytes = 4096;
  cfg->idle_timeout_s = 120;
  cfg->pool_addresses = 65536;
  cfg->host_records = 65536;
  cfg->probe_window_s = 600;
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A table read at hashed places, one packet after another: page-aligned (a flow entry is then
 * exactly two cache lines) and zeroed, its pages resident only once touched; with `huge`, on
 * 2 MiB pages where the kernel allows (transparent huge pages), so that its lookups stop
 * missing the TLB as well as the cache. The flow entries are not: they are taken from the
 * table's front as flows appear, and on huge pages each 2 MiB was resident from its first flow
 * (0.9 MB more peak memory on the bench capture, no gain measured). NULL when the memory is
 * not there. */
static void *mw_hashed_table(size_t bytes, bool huge) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
  if (huge && bytes >= (2u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

mw_engine *mw_engine_create(const mw_config *cfg_in, const mw_names *names, mw_event_fn fn,
                            void *ctx) {
  mw_config cfg;
  if (cfg_in) cfg = *cfg_in;
  else mw_config_default(&cfg);
  cfg.flow_capacity = clamp(cfg.flow_capacity, 64, 1u << 24);
  cfg.stream_buffers = clamp(cfg.stream_buffers, 1, 1u << 20);
  cfg.line_max = clamp(cfg.line_max, 512, 1u << 20);
  cfg.inspect_bytes = clamp(cfg.inspect_bytes, 64, 1u << 24);
  cfg.idle_timeout_s = clamp(cfg.idle_timeout_s, 1, 86400);
  cfg.pool_addresses = clamp(cfg.pool_addresses, 16, 1u << 24);
  cfg.host_records = clamp(cfg.host_records, MW_HOST_WAYS, 1u << 22);
  cfg.probe_window_s = clamp(cfg.probe_window_s, 1, 86400);
  if (cfg.hash_seed[0] == 0 && cfg.hash_seed[1] == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cfg.hash_seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
    cfg.hash_seed[1] = (uint64_t)(uintptr_t)&cfg ^ ((uint64_t)clock() << 17);
  }
  /* Twice as many bucket slots as entries keeps buckets from filling before the pool does. */
  uint32_t buckets = 1;
  while (buckets * MW_BUCKET_WAYS < 2 * cfg.flow_capacity) buckets <<= 1;

  mw_engine *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->bucket_bytes = (size_t)buckets * sizeof(mw_bucket);
  e->cfg = cfg;
  e->names = names;
  e->fn = fn;
  e->ctx = ctx;
  e->linktype = MW_LT_ETHERNET;
  e->bucket_mask = buckets - 1;
  e->flows = mw_hashed_table(sizeof(mw_flow) * cfg.flow_capacity, false);
  e->buckets = mw_hashed_table(e->bucket_bytes, true);
  uint32_t pool_slots = 16;
  while (pool_slots < 2 * cfg.pool_addresses) pool_slots <<= 1; /* load at most one half */
  e->pool_addrs = calloc(pool_slots, sizeof(mw_pool_addr));
  e->pool_addr_mask = pool_slots - 1;
  e->name_ring = calloc(MW_NAME_RING, sizeof(mw_ring_name));
  e->http_values = calloc((size_t)cfg.stream_buffers * 2, sizeof(mw_http_values));
  e->answered = calloc(MW_ANSWERED_ADDRS, sizeof(mw_answered_addr));
  e->rhythms = mw_hashed_table(sizeof(mw_rhythm_slot) * MW_RHYTHM_SLOTS, true);
  e->answered_ring = calloc(MW_ANSWERED_NAMES, sizeof(mw_ring_name));
  uint32_t host_sets = 1;
  while (host_sets * MW_HOST_WAYS < cfg.host_records) host_sets <<= 1;
  e->hosts = calloc((size_t)host_sets * MW_HOST_WAYS, sizeof(mw_host_record));
  e->host_set_mask = host_sets - 1;
  e->port_class = calloc(65536, 1);
  e->streams = calloc(cfg.stream_buffers, sizeof(mw_stream));
  size_t per_dir = (size_t)cfg.line_max + MW_OOO_BYTES;
  e->stream_memory = calloc(cfg.stream_buffers, 2 * per_dir);
  if (!e->flows || !e->buckets || !e->streams || !e->stream_memory || !e->pool_addrs || !e->name_ring ||
      !e->http_values || !e->answered || !e->answered_ring || !e->rhythms ||
      !e->hosts || !e->port_class) {
    mw_engine_destroy(e);
    return NULL;
  }
  for (uint32_t i = 0; i < cfg.stream_buffers; i++) {
    for (int d = 0; d < 2; d++) {
      uint8_t *base = e->stream_memory + ((size_t)i * 2 + (size_t)d) * per_dir;
      e->streams[i].dir[d].line = base;
      e->streams[i].dir[d].ooo_data = base + cfg.line_max;
    }
    e->streams[i].next_free = (i + 1 < cfg.stream_buffers) ? i + 2 : 0;
  }
  e->free_stream = 1;
  return e;
}

void mw_engine_destroy(mw_engine *e) {
  if (!e) return;
  if (e->flows) munmap(e->flows, sizeof(mw_flow) * e->cfg.flow_capacity);
  if (e->buckets) munmap(e->buckets, e->bucket_bytes);
  free(e->pool_addrs);
  free(e->name_ring);
  free(e->http_values);
  free(e->answered);
  if (e->rhythms) munmap(e->rhythms, sizeof(mw_rhythm_slot) * MW_RHYTHM_SLOTS);
  free(e->answered_ring);
  free(e->hosts);
  free(e->port_class);
  free(e->tenants);
  free(e->streams);
  free(e->stream_memory);
  free(e);
}

static const char *const tunnel_names[MW_TUNNEL_COUNT] = {
  [MW_TUNNEL_NONE] = "", [MW_TUNNEL_VLAN] = "vlan", [MW_TUNNEL_GRE] = "gre",
  [MW_TUNNEL_ERSPAN] = "erspan", [MW_TUNNEL_VXLAN] = "vxlan", [MW_TUNNEL_GENEVE] = "geneve",
  [MW_TUNNEL_MPLS] = "mpls", [MW_TUNNEL_PPPOE] = "pppoe", [MW_TUNNEL_GTPU] = "gtpu",
  [MW_TUNNEL_IPIP] = "ipip", [MW_TUNNEL_TEREDO] = "teredo",
};

const char *mw_tunnel_name(int kind) {
  return kind > 0 && kind < MW_TUNNEL_COUNT ? tunnel_names[kind] : "";
}

int mw_engine_set_linktype(mw_engine *e, int lt) {
  switch (lt) {
  case MW_LT_NULL: case MW_LT_ETHERNET: case MW_LT_RAW_DLT12: case MW_LT_RAW_DLT14:
  case MW_LT_RAW: case MW_LT_LOOP: case MW_LT_LINUX_SLL: case MW_LT_IPV4: case MW_LT_IPV6:
  case MW_LT_LINUX_SLL2: case MW_LT_PPP: case MW_LT_PPP_HDLC: case MW_LT_PPP_ETHER:
  case MW_LT_C_HDLC:
    e->linktype = lt;
    return 0;
  default:
    return -1;
  }
}

const mw_counters *mw_engine_counters(const mw_engine *e) { return &e->c; }

static void endpoint(mw_endpoint *ep, const mw_flow *f, int side) {
  ep->family = f->family;
  memcpy(ep->addr, f->addr[side], 16);
  ep->port = f->port[side];
  ep->tenant = f->tenant;
}

int mw_emit(mw_engine *e, mw_event *ev, const mw_flow *f, int side) {
  if (!e->fn) return 0;
  if (f) {
    ev->flow_id = f->id;
    ev->flow_slot = (uint32_t)(f - e->flows);
    endpoint(&ev->a, f, f->initiator);
    endpoint(&ev->b, f, !f->initiator);
    ev->from_a = side == f->initiator;
  }
  if (!ev->ts_ns) ev->ts_ns = e->now_ns;
  return e->fn(e->ctx, ev);
}

/* A new flow to an address DNS gave for a pool name: the callback decides whether to keep it
 * (a pool's website shares addresses with nothing, a pool endpoint is a finding). */
static void check_pool_address(mw_engine *e, mw_flow *f, const mw_packet *p, int side) {
  const mw_pool_addr *pa = mw_pool_address_lookup(e, p->family, p->dst);
  int pool_side = !side;
  if (!pa) {
    pa = mw_pool_address_lookup(e, p->family, p->src);
    pool_side = side;
  }
  if (!pa) return;
  mw_event ev = {0};
  ev.kind = MW_EV_POOL_FLOW;
  ev.name_value = pa->value;
  const mw_ring_name *name = mw_name_ring_get(e, pa->name_slot, pa->name_gen);
  if (name) {
    ev.data = name->name;
    ev.len = name->len;
  }
  /* from_a = 1: a (the opener) is the client and b the pool address */
  if (mw_emit(e, &ev, f, !pool_side)) f->keep = 1;
}

static void tcp_packet(mw_engine *e, mw_flow *f, int side, const mw_packet *p, uint64_t ts_ns,
                       uint32_t wirelen);

static void count_packet(mw_engine *e, uint64_t ts_ns, uint32_t wirelen) {
  e->c.packets++;
  e->c.bytes += wirelen;
  if (e->c.first_ns == 0 || ts_ns < e->c.first_ns) e->c.first_ns = ts_ns;
  if (ts_ns > e->c.last_ns) e->c.last_ns = ts_ns;
  /* Packet time only moves forward, so a reordered capture cannot expire flows early. */
  if (ts_ns > e->now_ns) e->now_ns = ts_ns;
}

/* DNS over UDP or TCP, by either port. */
static bool is_dns(const mw_packet *p) { return p->sport == 53 || p->dport == 53; }

/* A decoded packet; `k` is its flow key when the caller computed it already (TCP only). */
static void decoded_packet(mw_engine *e, const mw_raw_packet *r, const mw_packet *p,
                           const mw_flow_key *k) {
  if (p->family == 4) e->c.ipv4++;
  else e->c.ipv6++;
  if (p->l4 == IPPROTO_UDP) {
    e->c.udp++;
    if (is_dns(p) && e->names)
      mw_dns_inspect(e, p, p->payload, p->payload_len, r->ts_ns);
    return;
  }
  e->c.tcp++;
  if (p->tcp_flags & MW_TCP_SYN) mw_host_activity_syn(e, p);
  int side;
  uint64_t created = e->c.flows_created;
  mw_flow *f = k ? mw_flow_lookup_key(e, p, k, &side) : mw_flow_lookup(e, p, &side);
  if (e->c.flows_created != created) check_pool_address(e, f, p, side);
  uint32_t id = f->id;
  tcp_packet(e, f, side, p, r->ts_ns, r->wirelen);
  /* The packet that marked a flow is part of its evidence, so this check comes after. */
  if (f->evidence && f->id == id && f->state != MW_FLOW_FREE && e->evidence_fn)
    e->evidence_fn(e->evidence_ctx, id, r->ts_ns, r->data, r->caplen, r->wirelen);
}

void mw_engine_packet(mw_engine *e, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen) {
  count_packet(e, ts_ns, wirelen);
  e->position = e->c.packets;
  if (!data) return;
  mw_packet p;
  if (!mw_decode(e->linktype, data, caplen, &p, e->c.anomalies)) return;
  mw_assign_tenant(e, &p);
  mw_raw_packet r = {ts_ns, data, caplen, wirelen};
  decoded_packet(e, &r, &p, NULL);
}

void mw_engine_packets(mw_engine *e, const mw_raw_packet *batch, uint32_t n) {
  mw_decoded d[MW_BATCH];
  if (n > MW_BATCH) n = MW_BATCH;
  /* Decoding has no effect but the anomaly counts, which the batch adds up alike in any order. */
  for (uint32_t i = 0; i < n; i++) mw_engine_decode(e, &batch[i], &d[i], e->c.anomalies);
  mw_engine_decoded(e, d, n);
}

void mw_engine_decode(const mw_engine *e, const mw_raw_packet *r, mw_decoded *d, uint64_t *an) {
  d->r = *r;
  d->role = MW_REC_OWN;
  d->now_ns = d->seq = 0; /* a sharded reader sets them */
  d->ok = mw_decode(e->linktype, r->data, r->caplen, &d->p, an);
  if (d->ok) mw_assign_tenant(e, &d->p);
  d->keyed = d->ok && d->p.l4 != IPPROTO_UDP;
  /* The ends are copied here, where the packet's bytes are in cache; hashing them is left to
   * the engine's side (see mapped_pipeline.c), which then reads only the decoded record. */
  if (d->keyed) mw_flow_key_canon(&d->p, &d->k);
}

void mw_engine_decoded(mw_engine *e, mw_decoded *d, uint32_t n) {
  if (n > MW_BATCH) n = MW_BATCH;
  for (uint32_t i = 0; i < n; i++) {
    if (!d[i].keyed) continue;
    mw_flow_key_hash(e, d[i].p.family, &d[i].k);
    mw_flow_prefetch_bucket(e, &d[i].k);
  }
  for (uint32_t i = 0; i < n; i++)
    if (d[i].keyed) mw_flow_prefetch_entry(e, &d[i].k);
  if (e->rhythms)
    for (uint32_t i = 0; i < n; i++)
      if (d[i].keyed) mw_flow_prefetch_rhythm(e, &d[i].k);
  for (uint32_t i = 0; i < n; i++) {
    /* A shard's packet time is the whole capture's (a reordered capture's later packets of
     * other shards have moved it), as one engine's would be. */
    if (d[i].now_ns > e->now_ns) e->now_ns = d[i].now_ns;
    count_packet(e, d[i].r.ts_ns, d[i].r.wirelen);
    e->position = d[i].seq ? d[i].seq : e->c.packets;
    if (d[i].ok) decoded_packet(e, &d[i].r, &d[i].p, d[i].keyed ? &d[i].k : NULL);
  }
}

mw_record_role mw_record_shared_role(const mw_engine *e, const mw_decoded *d) {
  if (!d->ok) return MW_REC_OWN;
  const mw_packet *p = &d->p;
  if (is_dns(p))
    return e->names && (p->l4 == IPPROTO_UDP || p->payload_len > 2) ? MW_REC_DNS : MW_REC_OWN;
  if (p->l4 == IPPROTO_UDP || !(p->tcp_flags & MW_TCP_SYN) || !e->port_class) return MW_REC_OWN;
  bool ack = (p->tcp_flags & MW_TCP_ACK) != 0;
  bool activity = ack ? (e->port_class[p->sport] & MW_PORT_LOGIN) : (e->port_class[p->dport] & MW_PORT_PROBE);
  return activity ? MW_REC_SYN : MW_REC_OWN;
}

void mw_engine_shared_effect(mw_engine *e, const mw_decoded *d) {
  if (d->now_ns > e->now_ns) e->now_ns = d->now_ns;
  uint64_t counted[MW_AN_COUNT];
  memcpy(counted, e->c.anomalies, sizeof counted);
  const mw_packet *p = &d->p;
  if (d->role == MW_REC_SYN) {
    mw_host_activity_syn(e, p);
  } else if (d->role == MW_REC_DNS && e->names) {
    /* The owner emits the lookup; here only the addresses and names are learned. */
    mw_event_fn fn = e->fn;
    e->fn = NULL;
    if (p->l4 == IPPROTO_UDP) mw_dns_inspect(e, p, p->payload, p->payload_len, d->r.ts_ns);
    else if (p->payload_len > 2) {
      uint32_t mlen = mw_be16(p->payload), have = p->payload_len - 2;
      mw_dns_inspect(e, p, p->payload + 2, mlen < have ? mlen : have, d->r.ts_ns);
    }
    e->fn = fn;
  }
  memcpy(e->c.anomalies, counted, sizeof counted);
}

uint64_t mw_engine_position(const mw_engine *e) { return e->position; }

void mw_engine_share_seed(mw_engine *e, const mw_engine *from) {
  memcpy(e->cfg.hash_seed, from->cfg.hash_seed, sizeof e->cfg.hash_seed);
}

static void tcp_packet(mw_engine *e, mw_flow *f, int side, const mw_packet *p, uint64_t ts_ns,
                       uint32_t wirelen) {
  f->last_ns = e->now_ns;
  f->bytes[side] += wirelen;
  f->packets[side]++;
  if (p->tcp_flags & (MW_TCP_FIN | MW_TCP_RST)) f->closed = 1;
  if (f->rhythm && p->payload_len) mw_rhythm_segment(e, f, side, p->payload_len);
  if (f->state == MW_FLOW_DONE || f->state == MW_FLOW_WATCH) return;
  if (p->payload_len == 0) {
    /* A closing flow that showed no mining gives its buffer back now. */
    if (f->closed && f->state == MW_FLOW_INSPECT) {
      mw_flow_release_stream(e, f);
      f->state = MW_FLOW_DONE;
    }
    return;
  }
  /* Flows watched or done already carried payload or never matter as attempts. */
  if (!f->carried) {
    f->carried = 1;
    if (f->keep) {
      mw_event ev = {0};
      ev.kind = MW_EV_FLOW_DATA;
      mw_emit(e, &ev, f, side);
    }
  }
  if (is_dns(p)) {
    /* DNS over TCP: a two-byte length, then the message; one segment is enough for answers. */
    if (e->names && p->payload_len > 2) {
      uint32_t mlen = mw_be16(p->payload);
      uint32_t have = p->payload_len - 2;
      mw_dns_inspect(e, p, p->payload + 2, mlen < have ? mlen : have, ts_ns);
    }
    return;
  }
  mw_stream_segment(e, f, side, p);
}

void mw_engine_set_evidence_fn(mw_engine *e, mw_evidence_fn fn, void *ctx) {
  e->evidence_fn = fn;
  e->evidence_ctx = ctx;
}

int mw_engine_flow_evidence(mw_engine *e, uint32_t slot, uint32_t flow_id, int on) {
  if (slot >= e->cfg.flow_capacity) return -1;
  mw_flow *f = &e->flows[slot];
  if (f->state == MW_FLOW_FREE || f->id != flow_id) return -1;
  f->evidence = on ? 1 : 0;
  return 0;
}

int mw_engine_linktype(const mw_engine *e) { return e->linktype; }

uint64_t mw_engine_now(const mw_engine *e) { return e->now_ns; }

void mw_engine_set_deadline(mw_engine *e, uint64_t deadline_ns) { e->deadline_ns = deadline_ns; }

bool mw_engine_deadline_reached(const mw_engine *e) {
  return e->deadline_ns != 0 && e->now_ns >= e->deadline_ns;
}

void mw_engine_advance_time(mw_engine *e, uint64_t ts_ns) {
  if (ts_ns > e->now_ns) e->now_ns = ts_ns;
}

void mw_engine_set_names(mw_engine *e, const mw_names *names) { e->names = names; }

void mw_engine_flush(mw_engine *e) {
  for (uint32_t b = 0; b <= e->bucket_mask; b++)
    for (int w = 0; w < MW_BUCKET_WAYS; w++)
      if (e->buckets[b].tag[w]) mw_flow_end(e, &e->flows[e->buckets[b].idx[w]]);
}
