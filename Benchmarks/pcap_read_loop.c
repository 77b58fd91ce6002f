/* The limit minewatch is measured against: libpcap reading every packet and touching nothing.
 *   pcap_read_loop FILE          plain pcap_open_offline (stdio's 4 KiB buffer)
 *   pcap_read_loop --buffer FILE the same through a 1 MiB stdio buffer, as minewatch reads
 * Prints the packet count. */
#define _DEFAULT_SOURCE
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  int buffered = argc == 3 && strcmp(argv[1], "--buffer") == 0;
  if (argc != 2 && !buffered) {
    fprintf(stderr, "usage: %s [--buffer] FILE\n", argv[0]);
    return 2;
  }
  const char *path = argv[argc - 1];
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *p;
  if (buffered) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    p = pcap_fopen_offline(f, err);
  } else {
    p = pcap_open_offline(path, err);
  }
  if (!p) { fprintf(stderr, "%s\n", err); return 2; }
  struct pcap_pkthdr *h;
  const u_char *d;
  unsigned long long n = 0;
  while (pcap_next_ex(p, &h, &d) == 1) n++;
  printf("%llu\n", n);
  pcap_close(p);
  return 0;
}
