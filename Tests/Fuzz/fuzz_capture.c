/* A whole capture file through minewatch's readers (classic pcap mapped and walked in place,
 * on the engine's thread, decoded ahead on a thread of its own, or dealt out to three engines on
 * threads of their own; everything through libpcap): the malformed-file cases the command line
 * must answer with one line or a partial report, and a differential check that every reader
 * hands the engines the same packets (any difference aborts; the two mapped readers must leave
 * identical counters, anomalies included; the sharded engines' counters must add up to the
 * same packets, bytes, protocols, times and decoding anomalies — their tables, tiny here, fill
 * at other moments than one engine's). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The engine's counters after reading the file with one reader; -1 when it was refused. */
static int read_with(const char *path, int reader, mw_counters *out) {
  char err[512];
  mw_capture *c = mw_capture_open_file_with(path, reader, err, sizeof err);
  if (!c) return -1;
  mw_engine *e = mw_fuzz_engine();
  int ok = mw_engine_set_linktype(e, mw_capture_linktype(c)) == 0;
  if (ok)
    while (mw_capture_run(c, e, 64, err, sizeof err) == 1) {}
  mw_engine_flush(e);
  *out = *mw_engine_counters(e);
  mw_engine_destroy(e);
  mw_capture_close(c);
  return ok ? 0 : 1;
}

enum { SHARDS = 3 };

typedef struct {
  mw_shards *s;
  int k;
} shard_arg;

static void *run_shard(void *arg) {
  shard_arg *a = arg;
  char err[512];
  while (mw_shards_run(a->s, a->k, err, sizeof err) == 1) {}
  return NULL;
}

/* The sharded engines' counters added up (a mapped file or one libpcap reads); -1 when refused. */
static int read_sharded(const char *path, mw_counters *out) {
  char err[512];
  mw_capture *c = mw_capture_open_file_with(path, MW_READER_AUTO, err, sizeof err);
  if (!c) return -1;
  mw_engine *e[SHARDS];
  for (int k = 0; k < SHARDS; k++) e[k] = mw_fuzz_engine();
  int ok = 1;
  for (int k = 0; k < SHARDS; k++) ok &= mw_engine_set_linktype(e[k], mw_capture_linktype(c)) == 0;
  mw_fuzz_current = NULL; /* the callback marks flows of one engine only */
  mw_shards *s = ok ? mw_shards_start(c, e, SHARDS, 0, 1, 1000000000ull, err, sizeof err) : NULL;
  if (s) {
    pthread_t t[SHARDS];
    shard_arg args[SHARDS];
    for (int k = 1; k < SHARDS; k++) {
      args[k] = (shard_arg){s, k};
      if (pthread_create(&t[k], NULL, run_shard, &args[k]) != 0) abort();
    }
    args[0] = (shard_arg){s, 0};
    run_shard(&args[0]);
    for (int k = 1; k < SHARDS; k++) pthread_join(t[k], NULL);
    mw_shards_stop(s);
  }
  memset(out, 0, sizeof *out);
  for (int k = 0; k < SHARDS; k++) {
    mw_engine_flush(e[k]);
    const mw_counters *x = mw_engine_counters(e[k]);
    out->packets += x->packets;
    out->bytes += x->bytes;
    out->ipv4 += x->ipv4;
    out->ipv6 += x->ipv6;
    out->tcp += x->tcp;
    out->udp += x->udp;
    if (x->packets && x->first_ns && (!out->first_ns || x->first_ns < out->first_ns)) out->first_ns = x->first_ns;
    if (x->last_ns > out->last_ns) out->last_ns = x->last_ns;
    for (int i = 0; i < MW_AN_COUNT; i++) out->anomalies[i] += x->anomalies[i];
    mw_engine_destroy(e[k]);
  }
  mw_capture_close(c);
  return ok ? 0 : 1;
}

/* Anomalies of decoding alone: the same however the packets are dealt out. */
static const mw_anomaly decoding[] = {
  MW_AN_TRUNCATED_PACKET, MW_AN_UNSUPPORTED_LINKTYPE, MW_AN_BAD_LINK_HEADER, MW_AN_BAD_IPV4_HEADER,
  MW_AN_BAD_IPV6_HEADER, MW_AN_IPV6_EXT_HEADER, MW_AN_NON_FIRST_FRAGMENT, MW_AN_BAD_TCP_HEADER,
  MW_AN_BAD_UDP_HEADER, MW_AN_OTHER_L4, MW_AN_UNSUPPORTED_ENCAPSULATION, MW_AN_ENCAPSULATION_TOO_DEEP,
  MW_AN_BAD_TUNNEL_HEADER,
};

static void compare_sharded(const char *path, int opened, const mw_counters *one) {
  mw_counters sum;
  int rc = read_sharded(path, &sum);
  bool same = rc == opened && sum.packets == one->packets && sum.bytes == one->bytes &&
              sum.ipv4 == one->ipv4 && sum.ipv6 == one->ipv6 && sum.tcp == one->tcp && sum.udp == one->udp &&
              sum.last_ns == one->last_ns;
  for (size_t i = 0; i < sizeof decoding / sizeof decoding[0]; i++)
    same = same && sum.anomalies[decoding[i]] == one->anomalies[decoding[i]];
  if (!same) {
    fprintf(stderr, "the sharded engines differ: opened %d/%d, packets %llu/%llu, tcp %llu/%llu\n", rc, opened,
            (unsigned long long)sum.packets, (unsigned long long)one->packets, (unsigned long long)sum.tcp,
            (unsigned long long)one->tcp);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("capture", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  mw_counters mapped = {0}, libpcap = {0}, pipelined = {0};
  int a = read_with(path, MW_READER_AUTO, &mapped);
  int b = read_with(path, MW_READER_LIBPCAP, &libpcap);
  int p = read_with(path, MW_READER_PIPELINED, &pipelined);
  if (p != a || memcmp(&pipelined, &mapped, sizeof mapped) != 0) {
    fprintf(stderr, "the pipelined reader differs: opened %d/%d, packets %llu/%llu\n", p, a,
            (unsigned long long)pipelined.packets, (unsigned long long)mapped.packets);
    abort();
  }
  if (a != b || mapped.packets != libpcap.packets || mapped.bytes != libpcap.bytes ||
      mapped.tcp != libpcap.tcp || mapped.udp != libpcap.udp ||
      mapped.flows_created != libpcap.flows_created) {
    fprintf(stderr, "readers differ: opened %d/%d, packets %llu/%llu, bytes %llu/%llu\n", a, b,
            (unsigned long long)mapped.packets, (unsigned long long)libpcap.packets,
            (unsigned long long)mapped.bytes, (unsigned long long)libpcap.bytes);
    abort();
  }
  if (a == 0) compare_sharded(path, a, &mapped);
  close(fd);
  return 0;
}
