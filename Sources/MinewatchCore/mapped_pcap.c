/* Classic pcap files read in place: the file is mapped and its records walked where they lie,
 * so no byte is copied before the decoder reads it (libpcap's read loop copies every record
 * through a stdio buffer; inside a scan that copy was most of the time, measured in issue 12).
 * Either byte order, micro- or nanosecond timestamps, version 2.4; every record header is
 * checked against the bytes the file really has. Pages already read are released as the walk
 * goes, so a file of any size costs a bounded resident set. pcapng, stdin and pipes stay with
 * libpcap. Format: the tcpdump.org pcap file format (draft-ietf-opsawg-pcap). */
#define _DEFAULT_SOURCE
#include "mapped_pcap.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
  MW_PCAP_FILE_HEADER = 24,
  MW_PCAP_RECORD_HEADER = 16,
  /* libpcap's MAXIMUM_SNAPLEN: a record claiming more is refused as libpcap refuses it */
  MW_PCAP_MAX_CAPLEN = 262144,
};
/* Read pages are given back every this many bytes: small enough that the mapping adds little
 * to the resident set, large enough that the calls cost nothing measurable. */
static const size_t MW_RELEASE_STEP = 1u << 20;

static uint32_t u32(const uint8_t *p, int swapped) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const uint8_t *p, int swapped) {
  uint16_t v;
  memcpy(&v, p, 2);
  return swapped ? __builtin_bswap16(v) : v;
}

int mw_mapped_open(mw_mapped *m, int fd, uint64_t size) {
  memset(m, 0, sizeof *m);
  uint8_t h[MW_PCAP_FILE_HEADER];
  if (size < sizeof h || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h) return 1;
  uint32_t magic;
  memcpy(&magic, h, 4);
  switch (magic) {
  case 0xa1b2c3d4: break;
  case 0xd4c3b2a1: m->swapped = 1; break;
  case 0xa1b23c4d: m->nanos = 1; break;
  case 0x4d3cb2a1: m->swapped = 1; m->nanos = 1; break;
  default: return 1; /* pcapng or not a capture: libpcap decides */
  }
  /* Version 2.4 only: 2.3 files swap caplen and len in places, which libpcap knows about. */
  if (u16(h + 4, m->swapped) != 2 || u16(h + 6, m->swapped) != 4) return 1;
  if (size > SIZE_MAX) return 1;
  void *base = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED) return 1;
  madvise(base, (size_t)size, MADV_SEQUENTIAL);
  m->base = base;
  m->len = (size_t)size;
  m->pos = MW_PCAP_FILE_HEADER;
  /* The low 26 bits are the link type; the bits above say whether frames carry an FCS. */
  uint32_t lt = u32(h + 20, m->swapped) & 0x03FFFFFF;
  m->linktype = lt == 101 ? 12 : (int)lt; /* LINKTYPE_RAW is DLT_RAW (12) to libpcap */
  m->snaplen = u32(h + 16, m->swapped);
  if (m->snaplen == 0 || m->snaplen > MW_PCAP_MAX_CAPLEN) m->snaplen = MW_PCAP_MAX_CAPLEN;
  return 0;
}

void mw_mapped_release(mw_mapped *m, size_t done) {
  if (done < m->released + MW_RELEASE_STEP) return;
  long page = sysconf(_SC_PAGESIZE);
  size_t upto = done & ~((size_t)(page > 0 ? page : 4096) - 1);
  if (upto < m->released + MW_RELEASE_STEP) return;
  madvise((uint8_t *)m->base + m->released, upto - m->released, MADV_DONTNEED);
  m->released = upto;
}

/* The file's bytes are asked for a little ahead of the walk, every cache line of them: the walk
 * touches one or two lines of each record (its header and the packet's), too sparse for the
 * hardware to see a stream, and each of those loads went to memory. */
enum { MW_PREFETCH_DISTANCE = 4096 };

static void prefetch_ahead(mw_mapped *m) {
  size_t want = m->pos + MW_PREFETCH_DISTANCE;
  if (want > m->len) want = m->len;
  if (m->prefetched < m->pos) m->prefetched = m->pos & ~(size_t)63;
  for (; m->prefetched < want; m->prefetched += 64) __builtin_prefetch(m->base + m->prefetched, 0, 0);
}

int mw_mapped_next(mw_mapped *m, mw_raw_packet *r, char *err, size_t errlen) {
  size_t left = m->len - m->pos;
  if (left == 0) return 0;
  if (left < MW_PCAP_RECORD_HEADER) {
    snprintf(err, errlen, "truncated dump file; tried to read %d header bytes, only got %zu",
             MW_PCAP_RECORD_HEADER, left);
    m->pos = m->len;
    return -1;
  }
  const uint8_t *h = m->base + m->pos;
  uint32_t sec = u32(h, m->swapped), frac = u32(h + 4, m->swapped);
  uint32_t caplen = u32(h + 8, m->swapped), wirelen = u32(h + 12, m->swapped);
  if (caplen > MW_PCAP_MAX_CAPLEN) {
    /* libpcap's words: it names the file's snapshot length, though the limit is its maximum */
    snprintf(err, errlen, "invalid packet capture length %u, bigger than snaplen of %u", caplen,
             m->snaplen);
    m->pos = m->len;
    return -1;
  }
  if (caplen > left - MW_PCAP_RECORD_HEADER) {
    snprintf(err, errlen, "truncated dump file; tried to read %u captured bytes, only got %zu",
             caplen, left - MW_PCAP_RECORD_HEADER);
    m->pos = m->len;
    return -1;
  }
  m->pos += MW_PCAP_RECORD_HEADER + caplen;
  prefetch_ahead(m);
  r->ts_ns = (uint64_t)sec * 1000000000ULL + (uint64_t)frac * (m->nanos ? 1u : 1000u);
  r->data = h + MW_PCAP_RECORD_HEADER;
  /* A record longer than the file's snapshot length is cut to it, as libpcap cuts it. */
  r->caplen = caplen > m->snaplen ? m->snaplen : caplen;
  r->wirelen = wirelen > r->caplen ? wirelen : r->caplen;
  return 1;
}

/* Records go to the engine in batches (its lookups overlap); a batch ends with the record that
 * brings packet time to the engine's deadline, so the timers fire after the very packet they
 * would have one by one. */
int mw_mapped_run(mw_mapped *m, mw_engine *e, uint64_t max_packets, char *err, size_t errlen) {
  mw_raw_packet batch[MW_BATCH];
  uint64_t done = 0;
  while (max_packets == 0 || done < max_packets) {
    uint32_t n = 0;
    int rc = 1;
    uint64_t now = e->now_ns;
    bool due = false;
    while (n < MW_BATCH && (max_packets == 0 || done + n < max_packets)) {
      rc = mw_mapped_next(m, &batch[n], err, errlen);
      if (rc != 1) break;
      if (batch[n].ts_ns > now) now = batch[n].ts_ns;
      n++;
      if (e->deadline_ns != 0 && now >= e->deadline_ns) {
        due = true;
        break;
      }
    }
    if (n) mw_engine_packets(e, batch, n);
    done += n;
    mw_mapped_release(m, m->pos);
    if (rc != 1) {
      mw_mapped_release_all(m);
      return rc;
    }
    if (due) return 1;
  }
  return 1;
}

void mw_mapped_release_all(mw_mapped *m) {
  /* Read to the end (or refused): nothing of the file is needed any more. */
  madvise((uint8_t *)m->base, m->len, MADV_DONTNEED);
  m->released = m->len;
}

void mw_mapped_close(mw_mapped *m) {
  if (m->base) munmap((void *)m->base, m->len);
  memset(m, 0, sizeof *m);
}
