/* Reading capture files: classic pcap files in place (mapped_pcap.c); pcapng, stdin and pipes
 * with libpcap through a 128 KiB stdio buffer. libpcap's own fopen keeps stdio's 4 KiB default,
 * which cost about 40 % of the read time on a cached file; 1 MiB, tried next, no longer fits the
 * L2 beside the engine's tables inside a working scan: a one-thread scan of the bench capture
 * as pcapng took 0.568 s with 1 MiB, 0.470 s with 128 KiB, 0.460 s with 64 KiB, 0.556 s with
 * 256 KiB (medians of 20 alternating rounds; 128 KiB 1.21× faster than 1 MiB). */
/* BSD types for pcap.h, clock_gettime and fileno under -std=c11 */
#define _DEFAULT_SOURCE
#include "engine_internal.h"
#include "mapped_pipeline.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

enum { MW_READ_BUFFER = 128 << 10 }; /* see above */

struct mw_capture {
  pcap_t *pcap; /* NULL when the file is mapped */
  FILE *file;
  char *buffer;
  int linktype;
  int nanos;
  mw_mapped mapped;
  bool pipelined;        /* read by a thread of its own (MW_READER_PIPELINED) */
  mw_pipeline *pipeline; /* started with the first read */
};

mw_capture *mw_capture_open_file(const char *path, char *err, size_t errlen) {
  return mw_capture_open_file_with(path, MW_READER_AUTO, err, errlen);
}

mw_capture *mw_capture_open_file_with(const char *path, int reader, char *err, size_t errlen) {
  char pcap_err[PCAP_ERRBUF_SIZE] = {0};
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  bool regular = false;
  if (!is_stdin && fstat(fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      snprintf(err, errlen, "%s: is a directory", path);
      fclose(f);
      return NULL;
    }
    regular = S_ISREG(st.st_mode);
  }
  if (regular && reader != MW_READER_LIBPCAP) {
    mw_mapped m;
    if (mw_mapped_open(&m, fileno(f), (uint64_t)st.st_size) == 0) {
      mw_capture *c = calloc(1, sizeof *c);
      if (!c) {
        mw_mapped_close(&m);
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
      }
      fclose(f); /* the mapping stays */
      c->mapped = m;
      c->linktype = m.linktype;
      c->pipelined = reader == MW_READER_PIPELINED;
      return c;
    }
  }
  mw_capture *c = calloc(1, sizeof *c);
  char *buf = malloc(MW_READ_BUFFER);
  if (!c || !buf) {
    snprintf(err, errlen, "%s: out of memory", path);
    free(c);
    free(buf);
    if (!is_stdin) fclose(f);
    return NULL;
  }
  setvbuf(f, buf, _IOFBF, MW_READ_BUFFER);
  pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
  if (!p) {
    /* libpcap's messages name the problem ("unknown file format", "truncated dump file") */
    snprintf(err, errlen, "%s: not a readable capture: %s", path,
             pcap_err[0] ? pcap_err : "unknown error");
    if (!is_stdin) fclose(f);
    free(buf);
    free(c);
    return NULL;
  }
  c->pcap = p;
  c->file = f;
  c->buffer = buf;
  c->linktype = pcap_datalink(p);
  return c;
}

int mw_capture_linktype(const mw_capture *c) { return c->linktype; }

int mw_capture_is_mapped(const mw_capture *c) { return c->mapped.base != NULL; }

mw_mapped *mw_capture_mapped(mw_capture *c) { return c->mapped.base ? &c->mapped : NULL; }

struct pcap *mw_capture_pcap(mw_capture *c) { return c->pcap; }

FILE *mw_capture_stream(mw_capture *c) { return c->file == stdin ? NULL : c->file; }

int64_t mw_capture_offset(const mw_capture *c) {
  if (c->pipeline) return (int64_t)mw_pipeline_offset(c->pipeline);
  if (c->mapped.base) return (int64_t)c->mapped.pos;
  if (!c->file || c->file == stdin) return -1; /* live captures and pipes */
  long off = ftell(c->file);
  return off < 0 ? -1 : (int64_t)off;
}

int mw_capture_run(mw_capture *c, mw_engine *e, uint64_t max_packets, char *err, size_t errlen) {
  if (c->pipelined && !c->pipeline) {
    c->pipeline = mw_pipeline_start(&c->mapped, e);
    c->pipelined = c->pipeline != NULL; /* no thread to be had: read here */
  }
  if (c->pipeline) return mw_pipeline_run(c->pipeline, e, max_packets, err, errlen);
  if (c->mapped.base) return mw_mapped_run(&c->mapped, e, max_packets, err, errlen);
  struct pcap_pkthdr *h;
  const u_char *data;
  for (uint64_t n = 0; max_packets == 0 || n < max_packets; n++) {
    int rc = pcap_next_ex(c->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK) return 0;
    if (rc == PCAP_ERROR) {
      snprintf(err, errlen, "%s", pcap_geterr(c->pcap));
      return -1;
    }
    if (rc != 1) continue;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
    /* caplen never exceeds the bytes libpcap really handed us, whatever the header says */
    mw_engine_packet(e, ts, data, h->caplen, h->len > h->caplen ? h->len : h->caplen);
    if (mw_engine_deadline_reached(e)) return 1;
  }
  return 1;
}

struct pcap *mw_pcap_open_live(const char *iface, int snaplen, int buffer_bytes, int promisc, int immediate,
                               int timeout_ms, const char *filter, char *err, size_t errlen) {
  char pcap_err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t *p = pcap_create(iface, pcap_err);
  if (!p) {
    snprintf(err, errlen, "%s: %s", iface, pcap_err);
    return NULL;
  }
  pcap_set_snaplen(p, snaplen);
  pcap_set_promisc(p, promisc);
  pcap_set_timeout(p, timeout_ms);
  pcap_set_immediate_mode(p, immediate);
  if (buffer_bytes > 0) pcap_set_buffer_size(p, buffer_bytes);
  int rc = pcap_activate(p);
  if (rc < 0) {
    snprintf(err, errlen, "%s: cannot capture: %s", iface,
             rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
    pcap_close(p);
    return NULL;
  }
  if (filter && filter[0]) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
      snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
      pcap_close(p);
      return NULL;
    }
    rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
      snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
      pcap_close(p);
      return NULL;
    }
  }
  return p;
}

mw_capture *mw_capture_open_live(const char *iface, int snaplen, int buffer_bytes, int promisc,
                                 int immediate, int timeout_ms, const char *filter, char *err,
                                 size_t errlen) {
  pcap_t *p = mw_pcap_open_live(iface, snaplen, buffer_bytes, promisc, immediate, timeout_ms, filter, err, errlen);
  if (!p) return NULL;
  mw_capture *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, errlen, "%s: out of memory", iface);
    pcap_close(p);
    return NULL;
  }
  c->pcap = p;
  c->linktype = pcap_datalink(p);
  return c;
}

static void live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data) {
  mw_engine *e = (mw_engine *)user;
  uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec * 1000ULL;
  mw_engine_packet(e, ts, data, h->caplen, h->len > h->caplen ? h->len : h->caplen);
}

int mw_capture_live_dispatch(mw_capture *c, mw_engine *e, int max_packets, char *err, size_t errlen) {
  int n = pcap_dispatch(c->pcap, max_packets, live_packet, (u_char *)e);
  if (n == PCAP_ERROR) snprintf(err, errlen, "%s", pcap_geterr(c->pcap));
  return n;
}

void mw_capture_break(mw_capture *c) { pcap_breakloop(c->pcap); }

int mw_capture_stats(mw_capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped) {
  struct pcap_stat st;
  if (pcap_stats(c->pcap, &st) < 0) return -1;
  *received = st.ps_recv;
  *dropped = st.ps_drop;
  *if_dropped = st.ps_ifdrop;
  return 0;
}

void mw_capture_close(mw_capture *c) {
  if (!c) return;
  mw_pipeline_stop(c->pipeline); /* before the mapping it reads goes */
  mw_mapped_close(&c->mapped);
  if (c->pcap) pcap_close(c->pcap); /* closes the FILE as well, for files */
  free(c->buffer);
  free(c);
}
