/* The top-level JSON scanner on one line, the method table on the method it finds, and every
 * family's field dissector (each method's fields, and a reply's) on the same line: each value
 * found must lie inside the line. The path walker also runs on lines the scanner refused. */
#include "fuzz_common.h"

static void check(const mw_fields *f, size_t size) {
  for (int i = 0; i < MW_F_COUNT; i++)
    if (f->v[i].type != MW_JV_NONE && (size_t)f->v[i].off + f->v[i].len > size) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mw_json_top top;
  mw_fields fields;
  if (mw_json_scan_top(data, size, &top) == MW_JSON_OK) {
    uint16_t method = 0;
    if (top.has_method) {
      if (top.method_off + top.method_len > size) __builtin_trap();
      method = mw_method_lookup(data + top.method_off, top.method_len);
    }
    mw_message_fields(data, size, method, &fields);
    check(&fields, size);
    /* Every method's dissector, whatever the line says. */
    for (uint16_t m = 1; m <= mw_method_count(); m++) {
      mw_message_fields(data, size, m, &fields);
      check(&fields, size);
    }
  }
  static const mw_json_step deep[] = {{"result", 0}, {NULL, 0}, {NULL, 2}, {"job", 0}};
  mw_json_value v;
  if (mw_json_find(data, size, deep, 4, &v) && (size_t)v.off + v.len > size) __builtin_trap();
  return 0;
}
