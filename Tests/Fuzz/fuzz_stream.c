/* One TCP flow built from the input: records of [1-byte flags][2-byte seq jitter][1-byte
 * length][payload] become Ethernet/IPv4/TCP segments with plausible sequence numbers, some
 * retransmitted, reordered or leaving gaps. Aims at reassembly and line framing. */
#include "fuzz_common.h"

static size_t frame(uint8_t *buf, int from_client, uint32_t seq, uint8_t flags, const uint8_t *p,
                    size_t n) {
  static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  memcpy(buf, eth, 14);
  uint8_t *ip = buf + 14;
  size_t total = 20 + 20 + n;
  uint8_t a[4] = {10, 0, 0, 1}, b[4] = {203, 0, 113, 5};
  ip[0] = 0x45; ip[1] = 0; ip[2] = (uint8_t)(total >> 8); ip[3] = (uint8_t)total;
  ip[4] = ip[5] = 0; ip[6] = 0x40; ip[7] = 0; ip[8] = 64; ip[9] = 6; ip[10] = ip[11] = 0;
  memcpy(ip + 12, from_client ? a : b, 4);
  memcpy(ip + 16, from_client ? b : a, 4);
  uint8_t *tcp = ip + 20;
  uint16_t sp = from_client ? 40000 : 3333, dp = from_client ? 3333 : 40000;
  tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp; tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
  tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16); tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
  memset(tcp + 8, 0, 4);
  tcp[12] = 0x50; tcp[13] = flags; tcp[14] = 0xff; tcp[15] = 0xff; memset(tcp + 16, 0, 4);
  memcpy(tcp + 20, p, n);
  return 14 + total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t buf[14 + 40 + 256];
  mw_engine *e = mw_fuzz_engine();
  uint32_t next[2] = {1000, 5000000};
  size_t off = 0;
  uint64_t t = 1000000000ULL;
  while (off + 4 <= size) {
    uint8_t ctl = data[off];
    int16_t jitter = (int16_t)((data[off + 1] << 8) | data[off + 2]);
    size_t n = data[off + 3];
    off += 4;
    if (n > size - off) n = size - off;
    int dir = ctl & 1;
    uint32_t seq = next[dir] + (uint32_t)(ctl & 2 ? jitter % 64 : 0);
    uint8_t flags = (uint8_t)(0x18 | (ctl & 0x40 ? 0x02 : 0) | (ctl & 0x80 ? 0x01 : 0));
    mw_engine_packet(e, t += 1000000, buf, (uint32_t)frame(buf, !dir, seq, flags, data + off, n), 100);
    if (!(ctl & 4)) next[dir] = seq + (uint32_t)n; /* else: the segment comes again */
    off += n;
  }
  mw_engine_flush(e);
  mw_engine_destroy(e);
  return 0;
}
