/* A whole capture file through minewatch's readers (classic pcap mapped and walked in place,
 * on the engine's thread or decoded ahead on a thread of its own; everything through libpcap):
 * the malformed-file cases the command line must answer with one line or a partial report, and
 * a differential check that every reader hands the engine the same packets (any difference
 * aborts; the two mapped readers must leave identical counters, anomalies included). */
#define _GNU_SOURCE
#include "fuzz_common.h"

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
  close(fd);
  return 0;
}
