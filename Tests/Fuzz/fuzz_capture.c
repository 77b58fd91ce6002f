/* A whole capture file through libpcap and minewatch's reading loop (pcap and pcapng): the
 * malformed-file cases the command line must answer with one line or a partial report. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("capture", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
  char path[64], err[512];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  mw_capture *c = mw_capture_open_file(path, err, sizeof err);
  if (c) {
    mw_engine *e = mw_fuzz_engine();
    if (mw_engine_set_linktype(e, mw_capture_linktype(c)) == 0)
      while (mw_capture_run(c, e, 64, err, sizeof err) == 1) {}
    mw_engine_flush(e);
    mw_engine_destroy(e);
    mw_capture_close(c);
  }
  close(fd);
  return 0;
}
