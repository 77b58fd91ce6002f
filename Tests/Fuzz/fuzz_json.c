/* The top-level JSON scanner on one line, and the method table on the method it finds. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mw_json_top top;
  if (mw_json_scan_top(data, size, &top) == MW_JSON_OK && top.has_method) {
    if (top.method_off + top.method_len > size) __builtin_trap();
    (void)mw_method_lookup(data + top.method_off, top.method_len);
  }
  return 0;
}
