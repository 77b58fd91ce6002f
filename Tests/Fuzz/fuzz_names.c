/* DNS messages through the engine (UDP port 53, so the name table and the pool-address table
 * see them), the TLS ClientHello parser and the name matcher, all on the same input. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t frame[14 + 28 + 65535];
  static const uint8_t head[42] = {
    2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,                     /* Ethernet */
    0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 53, 10, 0, 0, 9, /* IPv4 UDP */
    0, 53, 0x9c, 0x40, 0, 0, 0, 0};                                     /* UDP 53 → 40000 */
  if (size > 65000) size = 65000;
  memcpy(frame, head, sizeof head);
  size_t ip_len = 28 + size;
  frame[16] = (uint8_t)(ip_len >> 8); frame[17] = (uint8_t)ip_len;
  frame[38] = (uint8_t)((8 + size) >> 8); frame[39] = (uint8_t)(8 + size);
  memcpy(frame + 42, data, size);
  mw_engine *e = mw_fuzz_engine();
  mw_engine_packet(e, 1000000000ULL, frame, (uint32_t)(42 + size), (uint32_t)(42 + size));
  mw_engine_destroy(e);
  const uint8_t *name;
  int n = mw_tls_client_hello_sni(data, size, &name);
  if (n > 0 && (name < data || name + n > data + size)) __builtin_trap();
  size_t matched = 0;
  (void)mw_names_match(mw_fuzz_names(), data, size, &matched);
  return 0;
}
