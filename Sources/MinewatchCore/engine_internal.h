/* The engine's tables: flows (set-associative, bounded), streams (a fixed pool). */
#ifndef MW_ENGINE_INTERNAL_H
#define MW_ENGINE_INTERNAL_H

#include "core_internal.h"

enum { MW_BUCKET_WAYS = 8, MW_OOO_BYTES = 4096, MW_OOO_SEGMENTS = 8 };
/* HTTP values kept per direction; longer ones are not kept (see http.c). */
enum { MW_HTTP_TARGET = 255, MW_HTTP_HOST = 253, MW_HTTP_AUTH = 255 };
/* Kept apart from the stream state so that the per-packet state stays small and a new flow's
 * reset stays cheap: only HTTP requests write here. */
typedef struct {
  uint8_t target[MW_HTTP_TARGET], host[MW_HTTP_HOST], auth[MW_HTTP_AUTH];
} mw_http_values;

typedef enum {
  MW_FLOW_FREE = 0,
  MW_FLOW_INSPECT, /* looking at the first payload bytes */
  MW_FLOW_MINING,  /* the matcher saw a mining method: every line goes up */
  MW_FLOW_WATCH,   /* not parsed further, but the callback wants its statistics */
  MW_FLOW_DONE,    /* nothing of interest: only counted */
} mw_flow_state;

typedef enum { MW_MODE_LINE = 0, MW_MODE_HTTP_BODY, MW_MODE_TLS } mw_stream_mode;

typedef struct {
  uint32_t seq;
  uint16_t off, len;
} mw_ooo_segment;

/* One direction of a TCP stream being framed into lines. */
typedef struct {
  uint32_t next_seq;
  uint8_t seq_known;
  uint8_t resync;      /* drop bytes up to the next newline (joined mid-line, or after a gap) */
  uint8_t mode;        /* mw_stream_mode */
  uint8_t truncated;   /* the current line overflowed the buffer */
  uint8_t in_http;     /* this direction speaks HTTP: header lines, then a body */
  uint8_t ooo_count;
  uint16_t ooo_used;
  uint32_t line_len;
  uint32_t inspected;
  uint32_t content_length;
  uint32_t body_left;
  mw_ooo_segment ooo[MW_OOO_SEGMENTS];
  /* Lengths of the HTTP request's values kept in the engine's http_values (see http.c). */
  uint8_t http_target_len, http_host_len, http_auth_len;
  uint8_t *line; /* line_max bytes */
  uint8_t *ooo_data; /* MW_OOO_BYTES */
} mw_dir_stream;

typedef struct {
  mw_dir_stream dir[2]; /* by canonical side */
  uint32_t next_free;   /* free-list link, index + 1 */
  uint32_t lru_prev, lru_next; /* streams in use, least recently fed first; index + 1 */
  uint32_t flow;        /* owning flow entry, index + 1 */
} mw_stream;

typedef struct {
  uint8_t addr[2][16]; /* canonical order: side 0 compares lower than side 1 */
  uint16_t port[2];
  uint8_t family;
  uint8_t state;
  uint8_t initiator;   /* canonical side that opened the flow */
  uint8_t keep;        /* the callback asked for statistics */
  uint8_t seen_syn;
  uint8_t closed;
  uint8_t evidence;    /* the callback wants this flow's packets */
  uint8_t carried;     /* a segment with payload was seen: more than a connection attempt */
  uint32_t id;
  uint32_t stream;     /* index + 1 into the stream pool, 0 when none */
  uint32_t bucket;     /* where the flow's tag lives, to free the slot */
  uint32_t next_free;  /* free-list link, index + 1 */
  uint8_t way;
  uint8_t tunnel_kind; /* the tunnel its first packet came through (mw_tunnel_kind) */
  uint16_t rhythm;     /* index + 1 into the rhythm records, 0 when none (fits the padding) */
  uint32_t tunnel_id;
  uint16_t tenant;     /* part of the flow's key: the address space its addresses belong to */
  uint32_t inspected[2];
  uint64_t first_ns, last_ns;
  uint64_t bytes[2], packets[2];
} mw_flow;
/* Entries lie page-aligned; whole lines each, a lookup asks for exactly the entry's own lines. */
_Static_assert(sizeof(mw_flow) % 64 == 0, "a flow entry fills whole cache lines");

/* A remembered pool address (from a DNS answer or the signatures). */
typedef struct {
  uint8_t addr[16];
  uint8_t family; /* 0: free */
  uint16_t name_slot; /* where the name DNS gave it for sits in the name ring */
  uint32_t value; /* name-table value + 1 */
  uint32_t name_gen; /* that slot's generation then; 0: no name (a listed address) */
  uint64_t expires_ns; /* 0: never */
} mw_pool_addr;

/* Names of recent pool answers, overwritten in turn: a flood of answers costs this ring and
 * the bounded address table, nothing else. */
enum { MW_NAME_RING = 4096 };
typedef struct {
  uint32_t gen;
  uint16_t len;
  uint8_t name[254];
} mw_ring_name;

/* An address a DNS answer gave for a name no signature lists (answered_names.c). */
enum { MW_ANSWERED_ADDRS = 16384, MW_ANSWERED_NAMES = 4096 };
typedef struct {
  uint8_t addr[16];
  uint8_t family; /* 0: free */
  uint16_t name_slot;
  uint32_t name_gen;
  uint64_t expires_ns;
} mw_answered_addr;

/* What one host did besides mining (see mw_host_activity). */
typedef struct {
  uint8_t family; /* 0: free */
  uint8_t addr[16];
  uint16_t tenant;
  uint8_t login_count;
  uint8_t login_next;                       /* ring position of the next login */
  uint16_t login_port[MW_HOST_LOGINS];
  uint8_t login_peer[MW_HOST_LOGINS][16];
  uint64_t login_ns[MW_HOST_LOGINS];
  uint32_t probe_attempts;
  uint32_t probe_bits_max; /* bits set in the busiest finished window */
  uint64_t first_ns, last_ns;
  uint64_t window_start_ns;
  uint64_t probe_bits[MW_PROBE_BITS / 64];
} mw_host_record;

enum { MW_HOST_WAYS = 4 };

/* One cache line per bucket: the lookup reads tags here and touches an entry only on a tag
 * match. Entries come from a LIFO pool, so the memory touched follows the number of live
 * flows, not the table's capacity. */
typedef struct {
  uint32_t tag[MW_BUCKET_WAYS]; /* 0: free */
  uint32_t idx[MW_BUCKET_WAYS]; /* entry index */
} mw_bucket;

/* The rhythm record of one followed flow (rhythm.c). */
enum { MW_RHYTHM_SLOTS = 4096, MW_RHYTHM_PROBE = 8 };
typedef struct {
  mw_rhythm r;
  uint32_t flow_id, flow_slot; /* the owner, to take the record back when it is reused */
  uint8_t client_side;         /* canonical side of the ClientHello sender */
  uint8_t awaiting;            /* client segments waiting for their answers */
  uint16_t awaiting_size;
  uint64_t awaiting_ns;
  uint8_t handshake;           /* segments of the handshake still to skip, by direction */
  uint32_t pairs_total;        /* answered pairs of every size, for the checkpoints */
} mw_rhythm_slot;

struct mw_engine {
  mw_config cfg;
  int linktype;
  const mw_names *names;
  mw_event_fn fn;
  void *ctx;
  mw_counters c;
  mw_flow *flows;
  mw_bucket *buckets;
  size_t bucket_bytes;
  uint32_t bucket_mask;
  uint32_t free_flow;   /* index + 1 of the last returned entry */
  uint32_t pool_used;   /* entries handed out at least once: untouched memory stays unmapped */
  uint32_t clock_hand;  /* next entry considered when the pool is empty */
  uint32_t next_id;
  mw_stream *streams;
  uint8_t *stream_memory;
  uint32_t free_stream; /* index + 1 */
  uint32_t lru_head, lru_tail; /* index + 1 */
  uint64_t now_ns;
  mw_pool_addr *pool_addrs;
  uint32_t pool_addr_mask;
  uint32_t sweep_cursor; /* next bucket the idle sweep looks at */
  uint64_t deadline_ns;  /* packet time at which a file read pauses for the timers */
  mw_ring_name *name_ring;
  uint32_t name_ring_next, name_gen;
  mw_http_values *http_values; /* 2 per stream buffer, by canonical side */
  mw_rhythm_slot *rhythms;
  uint32_t rhythm_next;
  mw_answered_addr *answered;
  mw_ring_name *answered_ring;
  uint32_t answered_next, answered_gen;
  mw_host_record *hosts;
  uint32_t host_set_mask; /* sets of MW_HOST_WAYS records */
  uint8_t *port_class;    /* 65536 entries of MW_PORT_* bits */
  mw_evidence_fn evidence_fn;
  void *evidence_ctx;
  mw_tenant_rule *tenants; /* sorted by kind, id; NULL when none */
  uint32_t tenant_count;
  uint64_t position; /* the record being processed: its place in the scan (mw_engine_position) */
};

/* flow_table.c */
/* A packet's flow key: both ends in canonical order, which side sent it, its bucket and tag. */
typedef struct {
  uint8_t a0[16], a1[16];
  uint16_t p0, p1;
  uint16_t tenant;
  int side;
  uint32_t bucket, tag;
} mw_flow_key;
void mw_flow_key_of(const mw_engine *e, const mw_packet *p, mw_flow_key *k);
/* The two halves of mw_flow_key_of: the ends in canonical order (read from the packet's
 * bytes), then the keyed hash that places it (read from the key alone). */
void mw_flow_key_canon(const mw_packet *p, mw_flow_key *k);
void mw_flow_key_hash(const mw_engine *e, uint8_t family, mw_flow_key *k);
void mw_flow_prefetch_bucket(const mw_engine *e, const mw_flow_key *k);
void mw_flow_prefetch_entry(const mw_engine *e, const mw_flow_key *k);
void mw_flow_prefetch_rhythm(const mw_engine *e, const mw_flow_key *k);
mw_flow *mw_flow_lookup(mw_engine *e, const mw_packet *p, int *side);
mw_flow *mw_flow_lookup_key(mw_engine *e, const mw_packet *p, const mw_flow_key *k, int *side);

/* capture_file.c: a live libpcap handle set up as every live reader wants it (snaplen and
 * buffer set deliberately, the filter compiled and set); NULL with a one-line reason. */
struct pcap;
struct pcap *mw_pcap_open_live(const char *iface, int snaplen, int buffer_bytes, int promisc, int immediate,
                               int timeout_ms, const char *filter, char *err, size_t errlen);

/* engine.c: a batch of packets from a reader that holds them in memory (mapped files) */
typedef struct {
  uint64_t ts_ns;
  const uint8_t *data;
  uint32_t caplen, wirelen;
} mw_raw_packet;
/* Each stage of a batch's lookups (bucket, entry, rhythm record) waits for memory once, for all
 * its packets together: 32 a batch waits half as often a packet as 16 did (a one-thread scan of
 * the bench capture 4.5 % faster, median of 30 alternating rounds; 64 gained nothing more). */
enum { MW_BATCH = 32 };
/* Decodes the batch and asks for the flow buckets of all its packets, then processes them in
 * order exactly as mw_engine_packet would one by one. */
void mw_engine_packets(mw_engine *e, const mw_raw_packet *batch, uint32_t n);

/* A decoded record: decoded by the engine's own batch (mw_engine_packets), or ahead of it on
 * another thread (a pipelined scan's reader, mapped_pipeline.c; fanout workers, live_workers.c). */
typedef struct {
  mw_raw_packet r;
  mw_packet p;
  mw_flow_key k; /* ends by mw_engine_decode, hash by mw_engine_decoded, when keyed */
  bool ok;       /* decoded to TCP or UDP */
  bool keyed;    /* TCP: looked up by its flow key */
  uint8_t role;  /* mw_record_role: sharded scans hand engines more than their own packets */
  uint64_t now_ns; /* sharded: the capture's packet time up to this record (0 otherwise) */
  uint64_t seq;    /* sharded: the record's place in the scan, from 1 (0 otherwise) */
} mw_decoded;
/* What a record is to the engine that takes it (shards.c). A sharded scan gives each packet to
 * the engine that owns its flow; what spans flows — pool addresses and names learned from DNS
 * answers, the logins and probes of host activity — every engine must know as one engine
 * would, so those packets also reach every other engine, for that effect alone. */
typedef enum {
  MW_REC_OWN = 0, /* the engine's own packet: everything */
  MW_REC_RAW,     /* the engine's own packet, not decoded yet: the engine decodes it first */
  MW_REC_DNS,     /* another engine's DNS packet: its answers learned, nothing emitted or counted */
  MW_REC_SYN,     /* another engine's SYN: the host activity it makes, nothing else */
  MW_REC_TICK,    /* the capture's packet time reached a sample point: the engine returns */
  MW_REC_END,     /* the file has ended (or is malformed here) */
} mw_record_role;
/* The effect of another engine's packet (MW_REC_DNS, MW_REC_SYN): the tables it changes, with
 * the anomalies it would count left to its owner. */
void mw_engine_shared_effect(mw_engine *e, const mw_decoded *d);
/* What a decoded packet is to the engines that do not own it: MW_REC_DNS or MW_REC_SYN when
 * it changes state that spans flows (its effect is for every engine), MW_REC_OWN when it is its
 * owner's alone. */
mw_record_role mw_record_shared_role(const mw_engine *e, const mw_decoded *d);
/* Decodes one record as mw_engine_packets does, reading only what stays fixed during a run
 * (link type, tenant rules): safe from another thread. Decoding anomalies are counted into an. */
void mw_engine_decode(const mw_engine *e, const mw_raw_packet *r, mw_decoded *d, uint64_t *an);
/* Processes records decoded by mw_engine_decode, in order, exactly as one by one: their flow
 * keys hashed and their buckets, entries and rhythm records prefetched first. n <= MW_BATCH. */
void mw_engine_decoded(mw_engine *e, mw_decoded *d, uint32_t n);
/* A spin-wait's pause between two looks at what another thread writes (the threaded readers:
 * mapped_pipeline.c, live_workers.c). */
static inline void mw_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
void mw_flow_end(mw_engine *e, mw_flow *f);
void mw_flow_release_stream(mw_engine *e, mw_flow *f);
mw_stream *mw_flow_stream(mw_engine *e, mw_flow *f, bool create);
void mw_stream_touch(mw_engine *e, mw_flow *f);

/* stream.c */
void mw_stream_segment(mw_engine *e, mw_flow *f, int side, const mw_packet *p);

/* pool_addresses.c */
const mw_pool_addr *mw_pool_address_lookup(mw_engine *e, uint8_t family, const uint8_t *addr);
void mw_pool_address_add(mw_engine *e, uint8_t family, const uint8_t *addr, uint32_t value,
                         uint64_t expires_ns, uint16_t name_slot, uint32_t name_gen);
/* Keeps a name in the ring; returns its slot and generation. */
/* Keyed hash of an address (4 or 16 bytes): the pool-address and answered-name tables' index. */
uint64_t mw_address_hash(const mw_engine *e, uint8_t family, const uint8_t *addr);
/* A followed flow that has shown a request/answer rhythm (rhythm.c): kept like a mining flow. */
bool mw_rhythm_promising(const mw_engine *e, const mw_flow *f);
/* Unlisted names of DNS answers (answered_names.c); *gen 0 on the first address of an answer */
void mw_answered_add(mw_engine *e, uint8_t family, const uint8_t *addr, const uint8_t *name, size_t len,
                     uint64_t expires_ns, uint16_t *slot, uint32_t *gen);
/* A JSON line of a candidate flow (jsonrpc.c) */
void mw_jsonrpc_line(mw_engine *e, mw_flow *f, int side, const mw_dir_stream *ds, const uint8_t *line,
                     uint32_t len, bool truncated);
/* Rhythm of opaque encrypted flows (rhythm.c) */
void mw_rhythm_start(mw_engine *e, mw_flow *f, int client_side);
void mw_rhythm_segment(mw_engine *e, mw_flow *f, int side, uint32_t len);
void mw_rhythm_end(mw_engine *e, mw_flow *f);
/* HTTP (http.c) */
/* A request or status line (inline: stream.c asks on every candidate line). */
static inline bool mw_http_is_start(const uint8_t *p, size_t len) {
  return (len >= 5 && memcmp(p, "POST ", 5) == 0) || (len >= 4 && memcmp(p, "GET ", 4) == 0) ||
         (len >= 7 && memcmp(p, "HTTP/1.", 7) == 0);
}
void mw_http_start(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *line,
                   uint32_t len);
void mw_http_header(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *line,
                    uint32_t len);
void mw_http_attach(const mw_engine *e, const mw_flow *f, int side, const mw_dir_stream *ds,
                    mw_event *ev);
void mw_name_ring_put(mw_engine *e, const uint8_t *name, size_t len, uint16_t *slot, uint32_t *gen);
/* The name at slot if it is still the one of that generation, else NULL. */
const mw_ring_name *mw_name_ring_get(const mw_engine *e, uint16_t slot, uint32_t gen);

/* tenants.c: the tenant a tunnel names, 0 when no rule names it */
uint16_t mw_tenant_of(const mw_engine *e, uint8_t kind, uint32_t id);
static inline void mw_assign_tenant(const mw_engine *e, mw_packet *p) {
  if (e->tenant_count && p->tunnel_kind) p->tenant = mw_tenant_of(e, p->tunnel_kind, p->tunnel_id);
}

/* host_activity.c */
void mw_host_activity_syn(mw_engine *e, const mw_packet *p);

/* engine.c */
bool mw_engine_deadline_reached(const mw_engine *e);
int mw_emit(mw_engine *e, mw_event *ev, const mw_flow *f, int side);

#endif
