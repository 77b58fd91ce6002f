/* The limit minewatch is measured against: libpcap reading every packet and touching nothing,
 * through the same 1 MiB stdio buffer minewatch uses. Prints packets and seconds. */
#define _DEFAULT_SOURCE
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  static char buf[1 << 20];
  setvbuf(f, buf, _IOFBF, sizeof buf);
  pcap_t *p = pcap_fopen_offline(f, err);
  if (!p) { fprintf(stderr, "%s\n", err); return 2; }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct pcap_pkthdr *h;
  const u_char *d;
  unsigned long long n = 0, bytes = 0;
  while (pcap_next_ex(p, &h, &d) == 1) {
    n++;
    bytes += h->caplen;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%llu %.6f %llu\n", n, s, bytes);
  pcap_close(p);
  return 0;
}
