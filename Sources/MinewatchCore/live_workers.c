/* Fanout live capture: N capture handles on one interface, joined in one PACKET_FANOUT group
 * (hash mode, defragmented first, so both directions of a flow and all fragments of a datagram
 * reach the same handle), each read by a thread of its own that copies every packet out of the
 * kernel's ring and decodes it; one engine takes the decoded records of all workers merged in
 * time order, so the flow table, the pool addresses learned from DNS, host activity and every
 * session stay in one place (issue 12: "one host state and one alert stream").
 *
 * Why the engine stays one: what spans flows (a DNS answer naming a pool, then the connection
 * to it; the SYNs that make a host's activity; encrypted suspects corroborating each other)
 * lands on different workers; one engine over the merged stream sees it all in order, while
 * engines per worker would have to share those tables under locks on the per-packet path. The
 * engine's thread took 0.43 us a packet with two workers on the bench machine (its CPU time over
 * a two-sender veth replay of 2.2 M packets: a ceiling near 2.3 M packets/s), the workers the
 * kernel's ring walk, the copy and the decoding.
 *
 * The merge: the engine always takes the oldest head among the workers' rings. A worker whose
 * ring is empty may still hold older packets in the kernel (TPACKET_V3 hands a block over when
 * it fills or when its timeout passes), so a head waits while a worker with an empty ring has
 * not shown, by a read that found nothing, that it holds nothing older: at most MW_LW_HOLD_NS
 * (a worker the scheduler left without a core), and not while some ring is half full (then the
 * kernel buffer, not the merge, absorbs the wait). Live timestamps are the kernel's receive
 * times, comparable with CLOCK_REALTIME. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "engine_internal.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  MW_LW_RECORDS = 8192,       /* decoded records a worker may be ahead of the engine */
  MW_LW_ARENA = 8 << 20,      /* bytes of the packets behind them */
  MW_LW_PUBLISH = 16,         /* records handed over at a time (and at every read's end) */
  MW_LW_DISPATCH = 256,       /* packets a worker takes from the kernel per read */
  MW_LW_TIMEOUT_MS = 5,       /* a worker's read timeout: the longest a quiet block waits */
  MW_LW_SPINS = 256,
};
/* How long a packet may wait in the kernel after its timestamp before its worker can see it: a
 * TPACKET_V3 block is handed over when it fills or after the 5 ms timeout, rounded up to
 * jiffies; the rest is room to spare. */
static const uint64_t MW_LW_BLOCK_NS = 10000000ull;
/* The longest a head waits for a worker that has not shown it is clear (one the scheduler left
 * without a core): past this the merge goes on without it. */
static const uint64_t MW_LW_HOLD_NS = 200000000ull;

typedef struct mw_live_worker {
  struct mw_live_group *g;
  int index;
  pcap_t *pcap;
  pthread_t thread;
  bool running;
  mw_decoded *rec;       /* MW_LW_RECORDS */
  uint64_t *arena_end;   /* the arena position after each record */
  uint8_t *arena;        /* MW_LW_ARENA */
  uint64_t arena_pos;    /* the worker's: where the next packet goes */
  uint64_t local_produced;
  _Atomic uint64_t produced, consumed;
  _Atomic uint64_t arena_freed; /* the engine is done with the arena up to here */
  _Atomic bool waits;    /* asleep until the engine frees room */
  uint64_t an_local[MW_AN_COUNT];
  _Atomic uint64_t an[MW_AN_COUNT];
  _Atomic uint64_t recv, drop, ifdrop;
  _Atomic uint64_t stats_done; /* the latest stats request this worker answered */
  /* Wall-clock time before which the worker holds no packet it has not published: set when a
   * read finds nothing, to the read's start less MW_LW_BLOCK_NS. */
  _Atomic uint64_t clear_ns;
  _Atomic bool failed;
  char err[256];
} mw_live_worker;

struct mw_live_group {
  int n, linktype;
  mw_live_worker *w[MW_LIVE_WORKERS_MAX];
  const mw_engine *e;
  bool started;
  _Atomic bool stop, brk;
  _Atomic uint64_t stats_request;
  pthread_mutex_t lock;
  pthread_cond_t wake_engine, wake_workers;
  _Atomic bool engine_waits;
  uint64_t taken[MW_LIVE_WORKERS_MAX]; /* the engine's: records of the batch in hand, by worker */
};

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wake(mw_live_group *g, pthread_cond_t *cond, _Atomic bool *waits) {
  if (!atomic_load(waits)) return;
  pthread_mutex_lock(&g->lock);
  pthread_cond_broadcast(cond);
  pthread_mutex_unlock(&g->lock);
}

static void publish(mw_live_worker *w) {
  atomic_store(&w->produced, w->local_produced);
  wake(w->g, &w->g->wake_engine, &w->g->engine_waits);
}

static bool has_room(mw_live_worker *w, uint64_t start, uint32_t len) {
  return w->local_produced - atomic_load(&w->consumed) < MW_LW_RECORDS &&
         start + len - atomic_load(&w->arena_freed) <= MW_LW_ARENA;
}

/* Waits until the record and its bytes fit; false when the group stops. */
static bool wait_room(mw_live_worker *w, uint64_t start, uint32_t len) {
  mw_live_group *g = w->g;
  for (unsigned spins = 0; !has_room(w, start, len); spins++) {
    if (atomic_load_explicit(&g->stop, memory_order_relaxed)) return false;
    if (spins == 0) publish(w); /* the engine must see everything before the worker waits */
    if (spins < MW_LW_SPINS) {
      mw_cpu_relax();
      continue;
    }
    pthread_mutex_lock(&g->lock);
    atomic_store(&w->waits, true);
    while (!has_room(w, start, len) && !atomic_load(&g->stop)) pthread_cond_wait(&g->wake_workers, &g->lock);
    atomic_store(&w->waits, false);
    pthread_mutex_unlock(&g->lock);
  }
  return true;
}

static void worker_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data) {
  mw_live_worker *w = (mw_live_worker *)user;
  uint32_t caplen = h->caplen; /* never more than libpcap handed over (its snaplen) */
  if (caplen > MW_LW_ARENA / 4) caplen = MW_LW_ARENA / 4;
  uint64_t start = w->arena_pos;
  /* A packet never wraps: it starts over at the arena's beginning when the end is too near. */
  if (start % MW_LW_ARENA + caplen > MW_LW_ARENA) start += MW_LW_ARENA - start % MW_LW_ARENA;
  if (!wait_room(w, start, caplen)) {
    pcap_breakloop(w->pcap);
    return;
  }
  uint8_t *copy = w->arena + start % MW_LW_ARENA;
  memcpy(copy, data, caplen);
  uint32_t slot = (uint32_t)(w->local_produced % MW_LW_RECORDS);
  mw_raw_packet r = {(uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull, copy, caplen,
                     h->len > caplen ? h->len : caplen};
  mw_engine_decode(w->g->e, &r, &w->rec[slot], w->an_local);
  w->arena_pos = start + caplen;
  w->arena_end[slot] = w->arena_pos;
  if (++w->local_produced % MW_LW_PUBLISH == 0) publish(w);
}

static void worker_stats(mw_live_worker *w) {
  struct pcap_stat st;
  if (pcap_stats(w->pcap, &st) < 0) return;
  atomic_store(&w->recv, st.ps_recv);
  atomic_store(&w->drop, st.ps_drop);
  atomic_store(&w->ifdrop, st.ps_ifdrop);
}

static void *capture_worker(void *arg) {
  mw_live_worker *w = arg;
  mw_live_group *g = w->g;
  uint64_t next_stats = 0;
  int fd = pcap_get_selectable_fd(w->pcap);
  while (!atomic_load_explicit(&g->stop, memory_order_relaxed)) {
    /* The handle does not block: the worker waits in its own poll, at most MW_LW_TIMEOUT_MS, so
     * that it answers stats requests and a stop on an idle link too (libpcap's own wait for a
     * TPACKET_V3 ring has no end while nothing arrives). */
    uint64_t before = clock_ns(CLOCK_REALTIME);
    int n = pcap_dispatch(w->pcap, MW_LW_DISPATCH, worker_packet, (u_char *)w);
    if (n == 0) {
      atomic_store(&w->clear_ns, before - MW_LW_BLOCK_NS);
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      poll(&pfd, 1, MW_LW_TIMEOUT_MS);
    }
    publish(w);
    /* Decoding anomalies go over in one go per read, not one atomic add per packet. */
    for (int i = 0; i < MW_AN_COUNT; i++)
      if (w->an_local[i]) {
        atomic_fetch_add_explicit(&w->an[i], w->an_local[i], memory_order_relaxed);
        w->an_local[i] = 0;
      }
    /* The kernel's counters are read here, on the thread that owns the handle: libpcap keeps
     * running totals in it that a read from another thread would race with. */
    uint64_t now = clock_ns(CLOCK_MONOTONIC), request = atomic_load(&g->stats_request);
    if (now >= next_stats || request != atomic_load_explicit(&w->stats_done, memory_order_relaxed)) {
      worker_stats(w);
      atomic_store(&w->stats_done, request);
      next_stats = now + 250000000ull;
    }
    if (n == PCAP_ERROR) {
      snprintf(w->err, sizeof w->err, "worker %d: %s", w->index, pcap_geterr(w->pcap));
      atomic_store(&w->failed, true);
      pthread_mutex_lock(&g->lock);
      pthread_cond_broadcast(&g->wake_engine);
      pthread_mutex_unlock(&g->lock);
      return NULL;
    }
  }
  worker_stats(w);
  return NULL;
}

static void discard(u_char *user, const struct pcap_pkthdr *h, const u_char *data) {
  (void)user;
  (void)h;
  (void)data;
}

/* Opens one member of the group; the first makes the group (the kernel picks an id no other
 * process uses), the others join it by that id.
 *
 * A handle receives every packet of the interface from its activation until it joins the
 * group, while the members already joined receive them too: each packet of that window would
 * reach the engine twice (a duplicated TCP segment counts as a retransmission, packets and
 * bytes twice). So the handle takes nothing until it has joined: a filter that refuses every
 * packet first, what was queued before it thrown away, the join, then the configured filter. */
static pcap_t *open_member(const char *iface, int snaplen, int buffer_bytes, int promisc, int immediate,
                           const char *filter, int *group_id, char *err, size_t errlen) {
  pcap_t *p = mw_pcap_open_live(iface, snaplen, buffer_bytes, promisc, immediate, MW_LW_TIMEOUT_MS, NULL, err,
                                errlen);
  if (!p) return NULL;
  char pcap_err[PCAP_ERRBUF_SIZE] = {0};
  if (pcap_setnonblock(p, 1, pcap_err) < 0) {
    snprintf(err, errlen, "%s: %s", iface, pcap_err);
    pcap_close(p);
    return NULL;
  }
  struct bpf_insn refuse = BPF_STMT(BPF_RET | BPF_K, 0);
  struct bpf_program nothing = {1, &refuse};
  if (pcap_setfilter(p, &nothing) < 0) {
    snprintf(err, errlen, "%s: cannot set a filter: %s", iface, pcap_geterr(p));
    pcap_close(p);
    return NULL;
  }
  /* What arrived before the filter is thrown away: libpcap filters the blocks already in the
   * ring in userland, the one the kernel was filling too once it is handed over (at the block
   * timeout, MW_LW_TIMEOUT_MS); a read after that takes them all. Bounded: nothing more is
   * queued now. */
  usleep(4 * MW_LW_TIMEOUT_MS * 1000);
  for (int reads = 0; reads < 4096 && pcap_dispatch(p, MW_LW_DISPATCH, discard, NULL) > 0; reads++) {}
  int fd = pcap_fileno(p);
  /* The id in the low 16 bits, mode and flags in the high: the first member asks the kernel for
   * an id no other group in this network namespace has (PACKET_FANOUT_FLAG_UNIQUEID). */
  bool first = *group_id < 0;
  uint32_t mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG | (first ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
  uint32_t arg = (uint32_t)(first ? 0 : *group_id) | (mode << 16);
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) {
    snprintf(err, errlen, "%s: cannot join a fanout group: %s", iface, strerror(errno));
    pcap_close(p);
    return NULL;
  }
  if (first) {
    uint32_t got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) < 0) {
      snprintf(err, errlen, "%s: fanout group id not readable: %s", iface, strerror(errno));
      pcap_close(p);
      return NULL;
    }
    *group_id = (int)(got & 0xffff);
  }
  /* Joined: from now on the kernel gives this handle its share only. */
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter && filter[0] ? filter : "", 1, PCAP_NETMASK_UNKNOWN) < 0) {
    snprintf(err, errlen, "filter '%s': %s", filter ? filter : "", pcap_geterr(p));
    pcap_close(p);
    return NULL;
  }
  int rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc < 0) {
    snprintf(err, errlen, "%s: cannot set the filter: %s", iface, pcap_geterr(p));
    pcap_close(p);
    return NULL;
  }
  return p;
}

static void free_worker(mw_live_worker *w) {
  if (!w) return;
  if (w->pcap) pcap_close(w->pcap);
  free(w->rec);
  free(w->arena_end);
  free(w->arena);
  free(w);
}

mw_live_group *mw_live_open(const char *iface, int workers, int snaplen, int buffer_bytes, int promisc,
                            int immediate, const char *filter, char *err, size_t errlen) {
  if (workers < 1 || workers > MW_LIVE_WORKERS_MAX) {
    snprintf(err, errlen, "workers must be 1 to %d, not %d", MW_LIVE_WORKERS_MAX, workers);
    return NULL;
  }
  mw_live_group *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "%s: out of memory", iface);
    return NULL;
  }
  pthread_mutex_init(&g->lock, NULL);
  pthread_cond_init(&g->wake_engine, NULL);
  pthread_cond_init(&g->wake_workers, NULL);
  int group_id = -1;
  for (int i = 0; i < workers; i++) {
    mw_live_worker *w = calloc(1, sizeof *w);
    if (w) {
      w->rec = calloc(MW_LW_RECORDS, sizeof *w->rec);
      w->arena_end = calloc(MW_LW_RECORDS, sizeof *w->arena_end);
      w->arena = malloc(MW_LW_ARENA);
    }
    if (!w || !w->rec || !w->arena_end || !w->arena) {
      free_worker(w);
      snprintf(err, errlen, "%s: out of memory for %d workers", iface, workers);
      mw_live_close(g);
      return NULL;
    }
    w->g = g;
    w->index = i;
    g->w[g->n++] = w;
    w->pcap = open_member(iface, snaplen, buffer_bytes, promisc, immediate, filter, &group_id, err, errlen);
    if (!w->pcap) {
      mw_live_close(g);
      return NULL;
    }
  }
  g->linktype = pcap_datalink(g->w[0]->pcap);
  return g;
}

int mw_live_linktype(const mw_live_group *g) { return g->linktype; }

int mw_live_workers(const mw_live_group *g) { return g->n; }

/* Starts the workers (on the first run, after privileges are dropped); a worker that could not
 * be started is tried again on the next run, those running are left as they are. */
static int start_workers(mw_live_group *g, const mw_engine *e, char *err, size_t errlen) {
  g->e = e;
  for (int i = 0; i < g->n; i++) {
    if (g->w[i]->running) continue;
    if (pthread_create(&g->w[i]->thread, NULL, capture_worker, g->w[i]) != 0) {
      snprintf(err, errlen, "cannot start capture worker %d", i);
      return -1;
    }
    g->w[i]->running = true;
    char name[16]; /* as `top -H` and /proc/PID/task/TID/comm show it */
    snprintf(name, sizeof name, "mw-worker-%d", i);
    pthread_setname_np(g->w[i]->thread, name);
  }
  g->started = true;
  return 0;
}

/* The engine's view of a worker's ring: records past those it has in hand. */
static uint64_t available(const mw_live_group *g, int i) {
  mw_live_worker *w = g->w[i];
  return atomic_load(&w->produced) - atomic_load_explicit(&w->consumed, memory_order_relaxed) - g->taken[i];
}

/* Gives the batch's records back to their workers. */
static void release(mw_live_group *g) {
  for (int i = 0; i < g->n; i++) {
    if (!g->taken[i]) continue;
    mw_live_worker *w = g->w[i];
    uint64_t consumed = atomic_load_explicit(&w->consumed, memory_order_relaxed) + g->taken[i];
    atomic_store(&w->arena_freed, w->arena_end[(consumed - 1) % MW_LW_RECORDS]);
    atomic_store(&w->consumed, consumed);
    g->taken[i] = 0;
    wake(g, &g->wake_workers, &w->waits);
  }
}

/* Sleeps until a worker publishes, at most ns. */
static void wait_records(mw_live_group *g, uint64_t ns) {
  pthread_mutex_lock(&g->lock);
  atomic_store(&g->engine_waits, true);
  bool any = false;
  for (int i = 0; i < g->n && !any; i++) any = available(g, i) > 0 || atomic_load(&g->w[i]->failed);
  if (!any && !atomic_load(&g->brk)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t t = (uint64_t)until.tv_nsec + ns;
    until.tv_sec += (time_t)(t / 1000000000ull);
    until.tv_nsec = (long)(t % 1000000000ull);
    pthread_cond_timedwait(&g->wake_engine, &g->lock, &until);
  }
  atomic_store(&g->engine_waits, false);
  pthread_mutex_unlock(&g->lock);
}

/* Decoding anomalies the workers counted join the engine's counts, on every return. */
static void take_anomalies(mw_live_group *g, mw_engine *e) {
  for (int i = 0; i < g->n; i++)
    for (int a = 0; a < MW_AN_COUNT; a++)
      e->c.anomalies[a] += atomic_exchange_explicit(&g->w[i]->an[a], 0, memory_order_relaxed);
}

int mw_live_run(mw_live_group *g, mw_engine *e, int max_packets, int timeout_ms, char *err, size_t errlen) {
  if (!g->started && start_workers(g, e, err, errlen) < 0) return -1;
  mw_decoded batch[MW_BATCH];
  int done = 0;
  uint64_t idle_until = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
  for (;;) {
    if (atomic_exchange(&g->brk, false)) {
      take_anomalies(g, e);
      return -2;
    }
    for (int i = 0; i < g->n; i++)
      if (atomic_load(&g->w[i]->failed)) {
        snprintf(err, errlen, "%s", g->w[i]->err);
        take_anomalies(g, e);
        return -1;
      }
    uint32_t n = 0;
    bool due = false, holding = false;
    uint64_t wall = 0, hold_left = 0;
    /* What each worker has published, read once a batch: the counters live in the workers'
     * cache lines, and reading them for every record moved those lines for every record. */
    uint64_t have[MW_LIVE_WORKERS_MAX];
    for (int i = 0; i < g->n; i++) have[i] = available(g, i);
    while (n < MW_BATCH && (max_packets <= 0 || done + (int)n < max_packets)) {
      int oldest = -1, empty = 0;
      bool crowded = false;
      const mw_decoded *head = NULL;
      for (int i = 0; i < g->n; i++) {
        uint64_t avail = have[i] - g->taken[i];
        if (!avail) {
          empty++;
          continue;
        }
        if (avail >= MW_LW_RECORDS / 2) crowded = true;
        mw_live_worker *w = g->w[i];
        const mw_decoded *d = &w->rec[(atomic_load_explicit(&w->consumed, memory_order_relaxed) + g->taken[i]) %
                                      MW_LW_RECORDS];
        if (!head || d->r.ts_ns < head->r.ts_ns) {
          head = d;
          oldest = i;
        }
      }
      if (!head) break;
      if (empty && !crowded) {
        /* A worker with nothing may still have older packets coming, unless its last read found
         * the kernel's ring empty after this head's time (plus a block's delay). */
        bool clear = true, arrived = false;
        for (int i = 0; i < g->n && clear; i++) {
          if (have[i] > g->taken[i]) continue;
          /* Its clear time first, then its count: a worker publishes before it marks itself
           * clear, so records that came after the batch's snapshot are seen here. */
          uint64_t clear_ns = atomic_load(&g->w[i]->clear_ns);
          arrived = available(g, i) > 0;
          clear = !arrived && clear_ns >= head->r.ts_ns;
        }
        if (arrived) break; /* a fresh look at every worker's head, without waiting */
        if (!clear) {
          if (!wall) wall = clock_ns(CLOCK_REALTIME);
          /* A head from the future (the clock stepped back) is not held: it would wait forever. */
          int64_t age = (int64_t)(wall - head->r.ts_ns);
          if (age >= 0 && (uint64_t)age < MW_LW_HOLD_NS) {
            holding = true;
            hold_left = MW_LW_HOLD_NS - (uint64_t)age;
            break;
          }
        }
      }
      batch[n++] = *head;
      g->taken[oldest]++;
      if (e->deadline_ns != 0 && head->r.ts_ns >= e->deadline_ns) {
        due = true;
        break;
      }
    }
    if (n) {
      mw_engine_decoded(e, batch, n);
      release(g);
      done += (int)n;
      idle_until = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
      if (due || (max_packets > 0 && done >= max_packets)) break;
      continue;
    }
    if (done > 0) break; /* what was there is in; the caller's timers come next */
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now >= idle_until) break;
    if (holding) {
      struct timespec pause = {0, (long)(hold_left < 1000000ull ? hold_left : 1000000ull)};
      nanosleep(&pause, NULL);
    } else {
      wait_records(g, idle_until - now < 50000000ull ? idle_until - now : 50000000ull);
    }
  }
  take_anomalies(g, e);
  return done;
}

void mw_live_break(mw_live_group *g) {
  atomic_store(&g->brk, true);
  pthread_mutex_lock(&g->lock);
  pthread_cond_broadcast(&g->wake_engine);
  pthread_mutex_unlock(&g->lock);
}

void mw_live_refresh_stats(mw_live_group *g) {
  if (!g->started) return;
  uint64_t request = atomic_fetch_add(&g->stats_request, 1) + 1;
  /* Every worker's read returns within its 5 ms timeout; 100 ms bounds a stuck one. */
  for (int tries = 0; tries < 100; tries++) {
    bool all = true;
    for (int i = 0; i < g->n && all; i++)
      all = atomic_load(&g->w[i]->stats_done) >= request || atomic_load(&g->w[i]->failed);
    if (all) return;
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
}

int mw_live_stats(const mw_live_group *g, int worker, uint64_t *received, uint64_t *dropped,
                  uint64_t *if_dropped) {
  if (worker < 0 || worker >= g->n) return -1;
  mw_live_worker *w = g->w[worker];
  *received = atomic_load(&w->recv);
  *dropped = atomic_load(&w->drop);
  *if_dropped = atomic_load(&w->ifdrop);
  return 0;
}

void mw_live_close(mw_live_group *g) {
  if (!g) return;
  pthread_mutex_lock(&g->lock);
  atomic_store(&g->stop, true);
  pthread_cond_broadcast(&g->wake_workers);
  pthread_mutex_unlock(&g->lock);
  for (int i = 0; i < g->n; i++) {
    if (!g->w[i]->running) continue;
    pcap_breakloop(g->w[i]->pcap);
    pthread_join(g->w[i]->thread, NULL);
  }
  for (int i = 0; i < g->n; i++) free_worker(g->w[i]);
  pthread_cond_destroy(&g->wake_engine);
  pthread_cond_destroy(&g->wake_workers);
  pthread_mutex_destroy(&g->lock);
  free(g);
}
