/* Mining JSON-RPC lines (Stratum V1, EthereumStratum, ETH proxy, CryptoNote, getwork bodies):
 * the method is looked up in the registry (stratum_methods.c), the family that owns it confirms
 * an ambiguous name, and its dissector finds the fields the session layer reads, so the layer
 * above never parses the line again. A flow's first mining method makes it a mining flow. */
#include "dissector.h"
#include "engine_internal.h"

static const mw_dissector *const dissectors[] = {
  &mw_stratum_dissector,
  &mw_ethproxy_dissector,
  &mw_cryptonote_dissector,
};
enum { DISSECTOR_COUNT = sizeof dissectors / sizeof dissectors[0] };

static const mw_dissector *owner(mw_family family) {
  for (int i = 0; i < DISSECTOR_COUNT; i++)
    if (dissectors[i]->family == family) return dissectors[i];
  return NULL;
}

static void find(const uint8_t *line, size_t len, const mw_field_path *fp, mw_fields *out) {
  mw_json_value v;
  if (out->v[fp->field].type == MW_JV_NONE && mw_json_find(line, len, fp->path, fp->steps, &v))
    out->v[fp->field] = v;
}

void mw_message_fields(const uint8_t *line, size_t len, uint16_t method, mw_fields *out) {
  memset(out, 0, sizeof *out);
  static const mw_field_path id = {NULL, MW_F_ID, 1, {MW_KEY("id")}};
  static const mw_field_path result = {NULL, MW_F_RESULT, 1, {MW_KEY("result")}};
  static const mw_field_path error = {NULL, MW_F_ERROR, 1, {MW_KEY("error")}};
  find(line, len, &id, out);
  const mw_method_info *info = mw_method_info_at(method);
  if (info) {
    const mw_dissector *d = owner(info->family);
    for (size_t i = 0; d && i < d->field_count; i++)
      if (d->fields[i].method && strcmp(d->fields[i].method, info->name) == 0) find(line, len, &d->fields[i], out);
    return;
  }
  /* A reply: which request it answers is the session's to know, so every family's reply
   * fields are looked for. */
  find(line, len, &result, out);
  find(line, len, &error, out);
  for (int k = 0; k < DISSECTOR_COUNT; k++)
    for (size_t i = 0; i < dissectors[k]->field_count; i++)
      if (!dissectors[k]->fields[i].method) find(line, len, &dissectors[k]->fields[i], out);
}

void mw_jsonrpc_line(mw_engine *e, mw_flow *f, int side, const mw_dir_stream *ds, const uint8_t *line,
                     uint32_t len, bool truncated) {
  mw_json_top top;
  uint16_t method = 0;
  mw_json_status st = mw_json_scan_top(line, len, &top);
  if (st == MW_JSON_TOO_DEEP) e->c.anomalies[MW_AN_JSON_TOO_DEEP]++;
  else if (st == MW_JSON_MALFORMED && !truncated) e->c.anomalies[MW_AN_JSON_MALFORMED]++;
  /* A cut line fails the scan at its end, but the members read before the cut still count. */
  bool usable = st == MW_JSON_OK || (truncated && st == MW_JSON_MALFORMED && top.has_method);
  if (usable && top.has_method) {
    method = mw_method_lookup(line + top.method_off, top.method_len);
    const mw_method_info *info = mw_method_info_at(method);
    if (info && info->ambiguous) {
      const mw_dissector *d = owner(info->family);
      if (d && d->confirms && !d->confirms(line, &top, f->state == MW_FLOW_MINING)) method = 0;
    }
  }
  if (method && f->state != MW_FLOW_MINING) {
    f->state = MW_FLOW_MINING;
    f->keep = 1;
    e->c.mining_flows++;
  }
  /* Only lines that parse (or cut ones whose method was read) go up: the layer above never
   * spends time on bytes the scanner already refused. */
  if (f->state != MW_FLOW_MINING || !usable) return;
  mw_fields fields;
  mw_event ev = {0};
  ev.kind = MW_EV_LINE;
  ev.method = method;
  ev.data = line;
  ev.len = len;
  ev.truncated = truncated;
  if (st == MW_JSON_OK) {
    mw_message_fields(line, len, method, &fields);
    ev.fields = &fields;
  }
  mw_http_attach(e, f, side, ds, &ev);
  mw_emit(e, &ev, f, side);
}
