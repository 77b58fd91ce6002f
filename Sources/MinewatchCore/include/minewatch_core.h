/*
 * minewatch C core: the per-packet hot path.
 *
 * Every entry point takes a pointer and a length and trusts no length field read from the
 * wire. The engine allocates all of its memory when it is created (flow table, stream
 * buffers, name table) and nothing per packet. It reports what it finds as events through
 * one callback; the Swift layer decides what the events mean.
 */
#ifndef MINEWATCH_CORE_H
#define MINEWATCH_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Anomalies: one enum, stable names (mw_anomaly_name). Append only. ---- */
typedef enum {
  MW_AN_TRUNCATED_PACKET = 0,   /* caplen shorter than the headers it claims */
  MW_AN_UNSUPPORTED_LINKTYPE,
  MW_AN_BAD_LINK_HEADER,
  MW_AN_BAD_IPV4_HEADER,
  MW_AN_BAD_IPV6_HEADER,
  MW_AN_IPV6_EXT_HEADER,        /* extension header chain malformed or too long */
  MW_AN_NON_FIRST_FRAGMENT,
  MW_AN_BAD_TCP_HEADER,
  MW_AN_BAD_UDP_HEADER,
  MW_AN_OTHER_L4,               /* not TCP or UDP: counted, not inspected */
  MW_AN_TCP_RETRANSMISSION,     /* already-seen bytes, dropped before the matcher */
  MW_AN_TCP_OUT_OF_ORDER,       /* held back until the gap filled */
  MW_AN_TCP_GAP,                /* bytes never seen; the stream resynchronised at a newline */
  MW_AN_LINE_TOO_LONG,
  MW_AN_JSON_MALFORMED,
  MW_AN_JSON_TOO_DEEP,
  MW_AN_FLOW_TABLE_EVICTION,
  MW_AN_STREAM_BUFFERS_EXHAUSTED,
  MW_AN_DNS_MALFORMED,
  MW_AN_DNS_POINTER_LOOP,
  MW_AN_TLS_MALFORMED,
  MW_AN_NAME_TOO_LONG,
  MW_AN_HTTP_BODY_TOO_LONG,
  MW_AN_STREAM_RECLAIMED,       /* an idle non-mining flow gave up its buffer to a new one */
  MW_AN_POOL_ADDRESS_EVICTED,   /* a remembered pool address made room for a newer one */
  MW_AN_HOST_ACTIVITY_EVICTED,  /* a host's connection record made room for another host's */
  MW_AN_RHYTHM_EVICTED,         /* an opaque flow's rhythm record made room for a newer flow's */
  MW_AN_UNSUPPORTED_ENCAPSULATION, /* a tunnel carrying something the decoder does not know */
  MW_AN_ENCAPSULATION_TOO_DEEP, /* more nested tunnels (or MPLS labels) than the decoder peels */
  MW_AN_BAD_TUNNEL_HEADER,      /* a tunnel header that breaks its own rules */
  MW_AN_COUNT
} mw_anomaly;

/* The tunnel a packet came through (the innermost one with an id, else the VLAN). */
typedef enum {
  MW_TUNNEL_NONE = 0,
  MW_TUNNEL_VLAN,   /* id: the VLAN id */
  MW_TUNNEL_GRE,    /* id: the GRE key, 0 without one */
  MW_TUNNEL_ERSPAN, /* id: the ERSPAN session */
  MW_TUNNEL_VXLAN,  /* id: the VNI */
  MW_TUNNEL_GENEVE, /* id: the VNI */
  MW_TUNNEL_MPLS,   /* id: the top label */
  MW_TUNNEL_PPPOE,  /* id: the PPPoE session */
  MW_TUNNEL_GTPU,   /* id: the TEID */
  MW_TUNNEL_IPIP,   /* IP-in-IP, 6in4 */
  MW_TUNNEL_TEREDO,
  MW_TUNNEL_COUNT
} mw_tunnel_kind;
const char *mw_tunnel_name(int kind);

const char *mw_anomaly_name(mw_anomaly a);

/* ---- Protocol families and methods the matcher knows ---- */
typedef enum {
  MW_FAMILY_NONE = 0,
  MW_FAMILY_STRATUM,     /* Stratum V1 (Bitcoin family, Equihash, EthereumStratum/1.0.0) */
  MW_FAMILY_ETHPROXY,    /* eth_submitLogin / eth_getWork / eth_submitWork / eth_submitHashrate */
  MW_FAMILY_CRYPTONOTE,  /* login / job / submit / keepalived / getjob */
  MW_FAMILY_GETWORK,     /* getwork / getblocktemplate / submitblock over HTTP */
} mw_family;

typedef enum {
  MW_ROLE_NONE = 0,
  MW_ROLE_CLIENT, /* only a miner sends it */
  MW_ROLE_SERVER, /* only a pool sends it */
} mw_role;

typedef struct {
  const char *name;
  mw_family family;
  mw_role role;
  /* A method shared with non-mining JSON-RPC (e.g. "submit", "login") only counts when the
   * line also carries the family's telltale member; see stratum_methods.c. */
  uint8_t ambiguous;
} mw_method_info;

/* Number of known methods; method ids are 1..count, 0 means none. */
uint16_t mw_method_count(void);
const mw_method_info *mw_method_info_at(uint16_t id);
/* Looks a method name up; 0 if unknown. */
uint16_t mw_method_lookup(const uint8_t *name, size_t len);

/* ---- JSON line scanning (top level only, bounded depth) ---- */
typedef struct {
  uint32_t method_off, method_len; /* the string value of the top-level "method", unescaped span */
  uint8_t has_method, has_id, has_result, has_error, has_params;
  uint8_t params_is_object;
  uint8_t has_login_member;  /* params is an object with "login" (CryptoNote login) */
  uint8_t has_job_member;    /* params/result carries a CryptoNote "job_id" or "blob" */
} mw_json_top;

typedef enum {
  MW_JSON_OK = 0,
  MW_JSON_NOT_OBJECT,
  MW_JSON_MALFORMED,
  MW_JSON_TOO_DEEP,
} mw_json_status;

mw_json_status mw_json_scan_top(const uint8_t *line, size_t len, mw_json_top *out);

/* ---- JSON values by path (json_path.c) ---- */
typedef struct {
  const char *key;  /* an object member, or NULL for the array element at index */
  uint32_t index;
} mw_json_step;

typedef enum {
  MW_JV_NONE = 0, /* not present */
  MW_JV_STRING,   /* off/len: the raw content between the quotes (escapes left as written) */
  MW_JV_NUMBER,
  MW_JV_TRUE,
  MW_JV_FALSE,
  MW_JV_NULL,
  MW_JV_OBJECT,
  MW_JV_ARRAY,
} mw_json_type;

typedef struct {
  uint32_t off, len; /* into the line */
  uint8_t type;      /* mw_json_type */
} mw_json_value;

/* Finds the value at path in a JSON line; false when any step is missing. */
bool mw_json_find(const uint8_t *line, size_t len, const mw_json_step *path, int steps, mw_json_value *out);

/* ---- Fields of mining messages: what each family's dissector found in a line ---- */
typedef enum {
  MW_F_ID = 0,        /* the JSON-RPC id (any type) */
  MW_F_LOGIN,         /* account or wallet as sent (authorize, eth_submitLogin, CryptoNote login, submit's worker) */
  MW_F_AGENT,         /* the miner program (subscribe, CryptoNote login) */
  MW_F_WORKER,        /* a worker named apart from the login (eth "worker", CryptoNote "rigid") */
  MW_F_ALGO,          /* an algorithm the miner or pool names (CryptoNote algo) */
  MW_F_PROTOCOL,      /* subscribe's second parameter ("EthereumStratum/1.0.0") */
  MW_F_HOST,          /* subscribe's third parameter (Equihash: the pool's host name) */
  MW_F_DIFFICULTY,    /* mining.set_difficulty */
  MW_F_TARGET,        /* mining.set_target, a CryptoNote job's target */
  MW_F_RATE,          /* a rate the miner states (eth_submitHashrate, mining.hashrate) */
  MW_F_RESULT,        /* a reply's result */
  MW_F_ERROR,         /* a reply's error */
  MW_F_STATUS,        /* a reply's result.status (CryptoNote) */
  MW_F_JOB_TARGET,    /* a CryptoNote login reply's result.job.target */
  MW_F_JOB_ALGO,      /* ... and result.job.algo */
  MW_F_BOUNDARY,      /* an ETH proxy work reply's result[2] */
  MW_F_SUBSCRIBE_PROTOCOL, /* a subscribe reply's result[0][2] (EthereumStratum announces itself) */
  MW_F_COUNT
} mw_field_id;

typedef struct {
  mw_json_value v[MW_F_COUNT]; /* type MW_JV_NONE where the line has no such field */
} mw_fields;

/* The fields of one line: those of its method (by the family dissector that owns it), or, for a
 * reply (method 0), every reply field the families know. */
void mw_message_fields(const uint8_t *line, size_t len, uint16_t method, mw_fields *out);

/* ---- Name matching (pool domains): suffix match, cost independent of list size ---- */
typedef struct mw_names mw_names;
mw_names *mw_names_create(uint32_t capacity);
void mw_names_destroy(mw_names *n);
/* A value with this bit set marks a name that is never a finding (a pool's website): the
 * engine raises no event for it and remembers none of its addresses. */
#define MW_NAME_QUIET 0x80000000u

/* Adds a lower-case name without trailing dot; returns 0, or -1 when full or invalid. */
int mw_names_add(mw_names *n, const char *name, size_t len, uint32_t value);
/* Longest suffix on a label boundary that is in the table; returns value+1, or 0. The name is
 * compared case-insensitively, a trailing dot is ignored. */
uint32_t mw_names_match(const mw_names *n, const uint8_t *name, size_t len, size_t *matched_len);
uint32_t mw_names_count(const mw_names *n);

/* ---- TLS ---- */
/* Finds the server name in a ClientHello record that is complete in buf. Returns the name
 * length (0 if none) and sets *name; -1 when the bytes are not a well-formed hello. */
int mw_tls_client_hello_sni(const uint8_t *buf, size_t len, const uint8_t **name);

/* ---- The rhythm of an encrypted flow no name attributes (rhythm.c) ---- */
/* Segments with payload after the handshake, by direction and size. A client segment answered
 * by a server segment within the answer window is a request/answer pair; a server segment no
 * client segment preceded is a push. Sizes within MW_RHYTHM_SIZE_SLACK bytes count as one (a
 * share's nonce and result vary by a byte). */
enum { MW_RHYTHM_KINDS = 4, MW_RHYTHM_SIZE_SLACK = 2, MW_RHYTHM_PUSH_TIMES = 16 };
typedef struct {
  uint16_t size;        /* the first size seen of the kind */
  uint16_t answer;      /* pairs: the answer's size */
  uint32_t count;
  uint64_t last_ns;
  double gap_sum, gap_sq; /* seconds between consecutive ones, for their regularity */
} mw_rhythm_kind;

typedef struct {
  uint64_t first_ns, last_ns;   /* the ClientHello, the last segment */
  uint64_t rtt_ns;              /* ClientHello to the first server segment */
  uint32_t client_segments, server_segments; /* after the handshake */
  mw_rhythm_kind pairs[MW_RHYTHM_KINDS];
  mw_rhythm_kind pushes[MW_RHYTHM_KINDS];
  uint32_t other_pairs, other_pushes; /* of sizes the kinds had no room for */
  uint64_t bytes_client, bytes_server;
  /* The latest pushes' times and sizes (a ring; push_total counts all), to compare with the
   * job pushes of readable miners on the same network. */
  uint64_t push_ns[MW_RHYTHM_PUSH_TIMES];
  uint16_t push_size[MW_RHYTHM_PUSH_TIMES];
  uint32_t push_total;
} mw_rhythm;

/* ---- Engine ---- */
typedef struct {
  uint8_t family; /* 4 or 6 */
  uint8_t addr[16];
  uint16_t port;
  /* The tenant whose address space the address belongs to (mw_engine_set_tenants), 0: none. */
  uint16_t tenant;
} mw_endpoint;

typedef enum {
  MW_EV_LINE = 1,        /* a complete protocol line (or HTTP body) of a mining or candidate flow */
  MW_EV_FLOW_END,        /* statistics of a flow that the callback asked to keep */
  MW_EV_DNS_QUERY = 4,   /* a query for a name that matched the name table */
  MW_EV_TLS_SNI,         /* a TLS ClientHello server name that matched the name table */
  MW_EV_POOL_FLOW,       /* a new flow to or from a remembered pool address; data: the name
                            DNS gave it for, when still known (empty for listed addresses) */
  MW_EV_HTTP_HOST,       /* an HTTP Host header that matched the name table */
  MW_EV_FLOW_DATA,       /* the first payload of a flow the callback keeps: from then on it is
                            more than a connection attempt (once per flow) */
  MW_EV_OPAQUE_FLOW,     /* the rhythm of a followed encrypted flow (see mw_rhythm): while it
                            lasts, every 16 answered pairs (every 256 past 256), and when it
                            ends (ongoing 0); return 1 to keep the flow's statistics */
} mw_event_kind;

typedef struct {
  mw_event_kind kind;
  uint32_t flow_id;      /* unique for the engine's lifetime */
  uint32_t flow_slot;    /* where the flow lives now, for mw_engine_flow_stats */
  uint64_t ts_ns;
  mw_endpoint a, b;      /* a: the side that opened the flow (SYN sender, else first sender) */
  uint8_t from_a;        /* direction of this line: 1 when a sent it */
  uint8_t truncated;     /* the line was longer than the buffer and was cut */
  uint16_t method;       /* mw_method id found in the line, 0 if none */
  const uint8_t *data;   /* line bytes, DNS or SNI name; valid only during the callback */
  uint32_t len;
  uint32_t name_value;   /* mw_names value of the matched name + 1, 0 if none */
  /* LINE of an HTTP body: the request's target, Host and Basic credentials (base64), when
   * the request carried them; valid only during the callback */
  const uint8_t *http_target, *http_host, *http_auth;
  uint8_t http_target_len, http_host_len, http_auth_len;
  /* LINE: what the line's dissector found (offsets into data); NULL when the line was cut */
  const mw_fields *fields;
  /* OPAQUE_FLOW: the flow's rhythm, valid only during the callback; 1 while the flow lasts */
  const mw_rhythm *rhythm;
  uint8_t ongoing;
  /* FLOW_END */
  uint64_t bytes_from_a, bytes_from_b;
  uint64_t packets_from_a, packets_from_b;
  uint64_t first_ns, last_ns;
  uint8_t carried;       /* the flow carried payload (0: a connection attempt, refused or unanswered) */
  uint8_t tunnel_kind;   /* FLOW_END: the tunnel the flow's first packet came through */
  uint32_t tunnel_id;
} mw_event;

/* Returns 1 to keep watching the flow (its lines keep coming and a FLOW_END is sent), 0 to
 * leave it to the engine's own judgement. DNS answers for pool names never reach the callback:
 * the engine remembers their addresses itself, for the answer's TTL. */
typedef int (*mw_event_fn)(void *ctx, const mw_event *ev);

typedef struct {
  uint32_t flow_capacity;      /* entries in the flow table (rounded up to a power of two) */
  uint32_t stream_buffers;     /* flows that can be inspected at once */
  uint32_t line_max;           /* bytes of one line kept; longer lines are cut */
  uint32_t inspect_bytes;      /* payload bytes per direction inspected before giving up */
  uint32_t idle_timeout_s;     /* idle flows are dropped after this much packet time */
  uint32_t pool_addresses;     /* pool addresses remembered from DNS answers and signatures */
  uint32_t host_records;       /* hosts whose logins and connection attempts are remembered */
  uint32_t probe_window_s;     /* connection attempts are counted over windows this long */
  uint64_t hash_seed[2];       /* seeds the flow hash; 0,0 means "pick from the clock" */
} mw_config;

void mw_config_default(mw_config *cfg);

typedef struct mw_engine mw_engine;

typedef struct {
  uint64_t packets, bytes;       /* all packets seen, wire bytes */
  uint64_t ipv4, ipv6, tcp, udp;
  uint64_t flows_created, flows_active, flows_expired;
  uint64_t candidate_flows, mining_flows;
  uint64_t first_ns, last_ns;    /* earliest and latest packet time */
  uint64_t pool_addresses;       /* addresses in the pool-address table now */
  uint64_t anomalies[MW_AN_COUNT];
} mw_counters;

/* names may be NULL; the engine does not own it and it must outlive the engine. */
mw_engine *mw_engine_create(const mw_config *cfg, const mw_names *names, mw_event_fn fn, void *ctx);
void mw_engine_destroy(mw_engine *e);
/* Returns 0 when the link type (a LINKTYPE_/DLT_ value) is supported, -1 otherwise. */
int mw_engine_set_linktype(mw_engine *e, int linktype);
void mw_engine_packet(mw_engine *e, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen);
/* Remembers addr (4 or 16 bytes) as a pool's, with the name-table value, for ttl_s seconds of
 * packet time (0: for good, as for addresses the signatures list). Returns 0, or -1 when the
 * family is neither 4 nor 6. */
int mw_engine_add_pool_address(mw_engine *e, uint8_t family, const uint8_t *addr, uint32_t value,
                               uint32_t ttl_s);
/* The current statistics of a live flow (slot and id from one of its events). Returns -1 when
 * the slot no longer holds that flow. Fills the FLOW_END fields of out. */
int mw_engine_flow_stats(const mw_engine *e, uint32_t slot, uint32_t flow_id, mw_event *out);
/* mw_capture_run returns (with more to read) once packet time reaches deadline_ns, so that
 * packet-time timers fire when due; 0 clears it. */
void mw_engine_set_deadline(mw_engine *e, uint64_t deadline_ns);
/* The engine's packet time: the latest timestamp seen or advanced to. */
uint64_t mw_engine_now(const mw_engine *e);
/* Moves packet time forward without a packet (a live capture's idle tick). */
void mw_engine_advance_time(mw_engine *e, uint64_t ts_ns);
/* Ends idle flows found among the next max_buckets buckets (a sweep that resumes where it
 * stopped), so that a quiet mining session ends on time. Returns the flows ended. */
uint32_t mw_engine_expire_idle(mw_engine *e, uint32_t max_buckets);
/* Replaces the name table (SIGHUP reload); the engine never owns it. */
void mw_engine_set_names(mw_engine *e, const mw_names *names);
/* Ends every watched flow (FLOW_END) and frees the table; call at the end of a capture. */
void mw_engine_flush(mw_engine *e);
const mw_counters *mw_engine_counters(const mw_engine *e);

/* ---- Host activity: what a miner's host did besides mining ----
 * The engine remembers, for a bounded number of hosts, connections accepted on login ports
 * (SSH, RDP, ...) and connection attempts to probe ports (ports worms scan). Only SYN packets
 * touch it. The Swift layer reads it when it judges what kind of mining a host does. */
enum { MW_PORT_LOGIN = 1, MW_PORT_PROBE = 2, MW_PROBE_BITS = 256, MW_HOST_LOGINS = 4 };
/* Marks a port as a login port, a probe port, both, or neither (class 0). */
void mw_engine_set_port_class(mw_engine *e, uint16_t port, uint8_t port_class);

/* A connection the host accepted on a login port. */
typedef struct {
  uint64_t ns;
  mw_endpoint peer; /* who connected; .port is the host's login port */
} mw_login;

typedef struct {
  uint64_t first_ns, last_ns;   /* first and latest SYN that touched the record */
  /* The latest MW_HOST_LOGINS logins, newest first (login_count of them are set): a login from
   * inside the site cannot push an outside one that came just before it out of sight. */
  mw_login logins[MW_HOST_LOGINS];
  uint32_t login_count;
  uint32_t probe_attempts;      /* SYNs the host sent to probe ports, all windows */
  /* Distinct (address, port) targets of those SYNs in the busiest window, as the number of set
   * bits of a MW_PROBE_BITS-bit linear-counting bitmap (the caller turns it into an estimate). */
  uint32_t probe_bits_set;
} mw_host_activity;

/* Returns 0 and fills out when the host (4 or 16 address bytes, in that tenant's address space)
 * has a record, -1 otherwise. */
int mw_engine_host_activity(const mw_engine *e, uint8_t family, const uint8_t *addr, uint16_t tenant,
                            mw_host_activity *out);

/* ---- Tenants: tunnels whose inner addresses are an address space of their own ----
 * A sensor fed by several customers' mirrors (cloud VNIs, ERSPAN sessions, MPLS VPN labels)
 * sees the same private addresses in each. A rule names a tunnel (kind and id, as the decoder
 * reports it) and the tenant (1..65535) its packets belong to; their flows, hosts and
 * endpoints carry that tenant, so 10.0.0.5 of one tenant is never 10.0.0.5 of another. Several
 * tunnels may name one tenant (a mirror that sends each direction on its own session). */
enum { MW_TENANT_RULES_MAX = 4096 };
typedef struct {
  uint8_t kind; /* mw_tunnel_kind */
  uint32_t id;
  uint16_t tenant;
} mw_tenant_rule;
/* Replaces the rules (copied). Returns -1, changing nothing, when there are more than
 * MW_TENANT_RULES_MAX, a tenant is 0, a tunnel appears twice, or memory is short. */
int mw_engine_set_tenants(mw_engine *e, const mw_tenant_rule *rules, uint32_t n);

/* ---- Names of DNS answers that no signature lists ---- */
/* The name a recent, unexpired DNS answer gave for this address (4 or 16 bytes): its length
 * and *name (valid until the next packet), or 0. */
size_t mw_engine_answered_name(const mw_engine *e, uint8_t family, const uint8_t *addr,
                               const uint8_t **name);

/* ---- Evidence: the packets of a flow the callback marked ---- */
/* Called after the engine has processed each packet of a marked flow (the packet that marked
 * it included). data is the whole captured frame, valid only during the call. */
typedef void (*mw_evidence_fn)(void *ctx, uint32_t flow_id, uint64_t ts_ns, const uint8_t *data,
                               uint32_t caplen, uint32_t wirelen);
void mw_engine_set_evidence_fn(mw_engine *e, mw_evidence_fn fn, void *ctx);
/* Marks (on = 1) or unmarks a live flow; returns -1 when the slot no longer holds that flow. */
int mw_engine_flow_evidence(mw_engine *e, uint32_t slot, uint32_t flow_id, int on);
/* The link type the engine decodes now (evidence files carry it). */
int mw_engine_linktype(const mw_engine *e);
/* The place in the scan (from 1, counting every packet of every file) of the packet the
 * engine is at: the same in one engine and in a sharded scan's engines. */
uint64_t mw_engine_position(const mw_engine *e);
/* Gives e the hash seed of `from` (before either has seen a packet): a sharded scan's engines
 * must place host records alike (their sets fill, and give way, alike in every engine). */
void mw_engine_share_seed(mw_engine *e, const mw_engine *from);

/* ---- Reading a capture file through libpcap, the loop in C ---- */
typedef struct mw_capture mw_capture;
/* Opens path ("-" for stdin) with a large read buffer; on failure returns NULL and writes a
 * one-line reason to err. */
mw_capture *mw_capture_open_file(const char *path, char *err, size_t errlen);
/* Which reader: AUTO maps classic pcap files and walks them in place, LIBPCAP always reads
 * through libpcap (the tests compare the two). */
enum { MW_READER_AUTO = 0, MW_READER_LIBPCAP = 1, MW_READER_PIPELINED = 2 };
/* PIPELINED maps classic pcap files as AUTO does and walks and decodes them on a thread of
 * its own, the engine taking the decoded records in file order on the caller's thread (a scan
 * on two cores); the engine's link type and tenant rules must not change while it reads. */
mw_capture *mw_capture_open_file_with(const char *path, int reader, char *err, size_t errlen);
int mw_capture_linktype(const mw_capture *c);
/* Reads up to max_packets packets (0 = all) into the engine. Returns 1 when more remain, 0 at
 * the end of the file, -1 on a read error (message in err; packets before it were used). */
int mw_capture_run(mw_capture *c, mw_engine *e, uint64_t max_packets, char *err, size_t errlen);
/* Opens a live capture. snaplen and buffer size are set deliberately (a large snaplen with a
 * small kernel buffer drops packets under load); timeout_ms bounds how long a read waits so the
 * loop can tick; filter may be NULL. On failure returns NULL with a one-line reason. */
mw_capture *mw_capture_open_live(const char *iface, int snaplen, int buffer_bytes, int promisc,
                                 int immediate, int timeout_ms, const char *filter, char *err,
                                 size_t errlen);
/* Reads what is there (at most max_packets) from a live capture into the engine. Returns the
 * packets read (0 on a timeout), -2 after mw_capture_break, -1 on error (message in err). */
int mw_capture_live_dispatch(mw_capture *c, mw_engine *e, int max_packets, char *err, size_t errlen);
/* Makes a running read return: safe from another thread. */
void mw_capture_break(mw_capture *c);
/* Kernel statistics of a live capture; returns -1 when not available. */
int mw_capture_stats(mw_capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped);
/* Bytes of the file consumed so far (for progress), -1 when unknown (stdin). */
int64_t mw_capture_offset(const mw_capture *c);
void mw_capture_close(mw_capture *c);
/* Whether the file is a classic pcap file read in place (the only kind a sharded scan reads). */
int mw_capture_is_mapped(const mw_capture *c);

/* ---- A sharded scan: one reader thread, several engines (shards.c) ----
 * The reader walks a mapped capture (or reads one through libpcap — pcapng, stdin, a pipe —
 * copying each packet's bytes out), decodes each packet and gives it to the engine that owns
 * its flow (a hash of both ends, the same for both directions); DNS packets and the SYNs that
 * make host activity reach every engine as well (see mw_record_role), and when the capture's
 * packet time reaches the next sample point (next_tick_ns, then each tick plus tick_step_ns,
 * as Pipeline.sampleTimelines schedules it) every engine stops at the same packet. The engines
 * must share link type, names, tenant rules, port classes and hash seed, and none may change
 * during the read. seq_base: the packets of the scan's earlier files. */
enum { MW_SHARDS_MAX = 64 };
typedef struct mw_shards mw_shards;
mw_shards *mw_shards_start(mw_capture *c, mw_engine *const *engines, int n, uint64_t seq_base,
                           uint64_t next_tick_ns, uint64_t tick_step_ns, char *err, size_t errlen);
/* Engine k's thread (each k on one thread at a time): processes its records until a sample
 * point (1), the end of the file (0) or a malformed record (-1, err; the packets before it were
 * used). The reader's decoding anomalies go to engine 0 at the end. */
int mw_shards_run(mw_shards *s, int k, char *err, size_t errlen);
/* After the end: the next sample point, and the packets read (for the next file). */
uint64_t mw_shards_next_tick(const mw_shards *s);
uint64_t mw_shards_packets(const mw_shards *s);
/* Bytes of the file the engines are through (for progress; any thread). */
int64_t mw_shards_offset(const mw_shards *s);
/* Stops the reader wherever it is and frees; s may be NULL. */
void mw_shards_stop(mw_shards *s);

/* ---- Fanout live capture: several capture threads, one engine (live_workers.c) ----
 * workers capture handles on one interface in one PACKET_FANOUT group (hash mode with
 * defragmentation: both directions of a flow reach the same handle), each read and decoded by
 * a thread of its own; the engine takes their records merged in time order on the caller's
 * thread. Opened before privileges are dropped; the threads start with the first run. */
enum { MW_LIVE_WORKERS_MAX = 64 };
typedef struct mw_live_group mw_live_group;
mw_live_group *mw_live_open(const char *iface, int workers, int snaplen, int buffer_bytes, int promisc,
                            int immediate, const char *filter, char *err, size_t errlen);
int mw_live_linktype(const mw_live_group *g);
int mw_live_workers(const mw_live_group *g);
/* Feeds the engine (whose link type and tenant rules stay as they are from the first call on)
 * until max_packets, the engine's deadline, a break, or timeout_ms without a packet. Returns the
 * packets processed (0 after an idle timeout), -2 after mw_live_break, -1 when a worker failed
 * (message in err). */
int mw_live_run(mw_live_group *g, mw_engine *e, int max_packets, int timeout_ms, char *err, size_t errlen);
/* Makes a running mw_live_run return -2: safe from another thread. */
void mw_live_break(mw_live_group *g);
/* The kernel's counters of one worker's handle, as its thread last read them (every 250 ms, and
 * when mw_live_refresh_stats asks: it waits, at most 100 ms, until every worker has read them). */
void mw_live_refresh_stats(mw_live_group *g);
int mw_live_stats(const mw_live_group *g, int worker, uint64_t *received, uint64_t *dropped,
                  uint64_t *if_dropped);
void mw_live_close(mw_live_group *g);

#ifdef __cplusplus
}
#endif
#endif
