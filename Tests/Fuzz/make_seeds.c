/* Writes fuzzing seeds from capture files: for fuzz_packets, [link type][records]; for
 * fuzz_json, each line of stratum-looking payloads; the capture files themselves for
 * fuzz_capture. Usage: make_seeds OUTDIR FILE... */
#define _DEFAULT_SOURCE
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static const int lts[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276};

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = 0;
  for (int i = 2; i < argc; i++) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[i], err);
    if (!p) continue;
    int lt = pcap_datalink(p), sel = 0;
    for (unsigned k = 0; k < sizeof lts / sizeof lts[0]; k++) if (lts[k] == lt) sel = (int)k;
    char path[4096];
    snprintf(path, sizeof path, "%s/packets/seed%d", argv[1], n);
    FILE *out = fopen(path, "wb");
    if (!out) return 1;
    fputc(sel, out);
    struct pcap_pkthdr *h;
    const u_char *d;
    int count = 0;
    while (pcap_next_ex(p, &h, &d) == 1 && count < 400) {
      unsigned len = h->caplen > 2047 ? 2047 : h->caplen;
      fputc((int)(len >> 8), out); fputc((int)(len & 0xff), out); fputc(count % 3, out);
      fwrite(d, 1, len, out);
      count++;
      for (unsigned j = 0; j + 1 < len; j++) {
        if (d[j] == '{' && (j == 0 || d[j - 1] == '\n' || j > 40)) {
          const u_char *e = memchr(d + j, '\n', len - j);
          size_t l = e ? (size_t)(e - (d + j)) : len - j;
          char jp[4096];
          snprintf(jp, sizeof jp, "%s/json/seed%d_%d", argv[1], n, count);
          FILE *jf = fopen(jp, "wb");
          if (jf) { fwrite(d + j, 1, l, jf); fclose(jf); }
          break;
        }
      }
    }
    fclose(out);
    pcap_close(p);
    n++;
  }
  printf("%d seed files\n", n);
  return 0;
}
