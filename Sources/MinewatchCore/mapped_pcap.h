/* Classic pcap files walked in place (mapped_pcap.c). */
#ifndef MW_MAPPED_PCAP_H
#define MW_MAPPED_PCAP_H

#include "engine_internal.h"

#include <stdio.h>

typedef struct {
  const uint8_t *base;
  size_t len;
  size_t pos;      /* the next record's offset */
  size_t released;  /* pages before this were given back */
  size_t prefetched; /* bytes asked for up to here */
  int swapped;
  int nanos;
  int linktype;
  uint32_t snaplen; /* the file's, as libpcap takes it */
} mw_mapped;

/* 0: a classic pcap file, mapped; 1: not one (pcapng, another version, too small or not
 * mappable), for libpcap to read. */
int mw_mapped_open(mw_mapped *m, int fd, uint64_t size);
/* As mw_capture_run: 0 at the end, 1 with more to read, -1 on a malformed record (err). */
int mw_mapped_run(mw_mapped *m, mw_engine *e, uint64_t max_packets, char *err, size_t errlen);
/* The next record into *r, the file's bytes asked for a little ahead; 0 at the end, -1 on a
 * malformed record (err), 1 otherwise. */
int mw_mapped_next(mw_mapped *m, mw_raw_packet *r, char *err, size_t errlen);
/* Gives back the pages before `done` (every MiB); all of them at the end. */
void mw_mapped_release(mw_mapped *m, size_t done);
void mw_mapped_release_all(mw_mapped *m);
void mw_mapped_close(mw_mapped *m);
/* The mapping of a capture opened in place, NULL otherwise; libpcap's handle of one read
 * through libpcap, NULL otherwise; its FILE, NULL for stdin (capture_file.c). */
mw_mapped *mw_capture_mapped(mw_capture *c);
struct pcap *mw_capture_pcap(mw_capture *c);
FILE *mw_capture_stream(mw_capture *c);

#endif
