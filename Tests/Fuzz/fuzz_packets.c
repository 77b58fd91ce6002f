/* Whole engine, many packets: byte 0 picks the link type, then records of
 * [2-byte length][1-byte time step][frame], fed in order to one engine. Reaches decoding of
 * every link type, the flow table, reassembly, line framing, the JSON matcher, HTTP, TLS and
 * DNS with state carried between packets. */
#include "fuzz_common.h"

static const int link_types[] = {0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 276};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  mw_engine *e = mw_fuzz_engine();
  mw_engine_set_linktype(e, link_types[data[0] % (sizeof link_types / sizeof link_types[0])]);
  size_t off = 1;
  uint64_t t = 1000000000ULL;
  while (off + 3 <= size) {
    size_t len = ((size_t)data[off] << 8 | data[off + 1]) % 2048;
    t += (uint64_t)data[off + 2] * 1000000000ULL; /* up to 255 s: idle expiry happens */
    off += 3;
    if (len > size - off) len = size - off;
    mw_engine_packet(e, t, data + off, (uint32_t)len, (uint32_t)len + (data[off - 1] & 7));
    off += len;
    if ((t / 1000000000ULL) % 7 == 0) mw_engine_expire_idle(e, 8);
  }
  mw_engine_flush(e);
  mw_engine_destroy(e);
  return 0;
}
