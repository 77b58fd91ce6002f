/* TCP streams of candidate flows: in-order reassembly (retransmissions dropped, a few
 * out-of-order segments held back), then framing into lines, HTTP bodies or a TLS record.
 * Each direction owns one line buffer of line_max bytes; longer lines are cut and counted. */
#include "engine_internal.h"

static void finish(mw_engine *e, mw_flow *f, uint8_t state) {
  f->state = state;
  mw_flow_release_stream(e, f);
}

/* Judged on the bytes present, so that a hello cut into tiny segments still counts. */
static bool is_tls_client_hello(const uint8_t *p, size_t len) {
  return len >= 1 && p[0] == 0x16 && (len < 2 || p[1] == 0x03) && (len < 6 || p[5] == 0x01);
}

static size_t skip_ws(const uint8_t *p, size_t len) {
  size_t i = 0;
  while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
  return i;
}

/* ---- lines ---- */

static void handle_line(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds) {
  uint8_t *line = ds->line;
  uint32_t len = ds->line_len;
  bool truncated = ds->truncated;
  ds->line_len = 0;
  ds->truncated = 0;
  if (truncated) e->c.anomalies[MW_AN_LINE_TOO_LONG]++;
  while (len > 0 && (line[len - 1] == '\r')) len--;
  size_t ws = skip_ws(line, len);
  if (ws < len && line[ws] == '{') {
    mw_jsonrpc_line(e, f, side, ds, line + ws, len - (uint32_t)ws, truncated);
    return;
  }
  if (mw_http_is_start(line, len)) {
    mw_http_start(e, f, side, ds, line, len);
    return;
  }
  if (!ds->in_http) return;
  if (len == 0) { /* end of the header block */
    if (ds->content_length == UINT32_MAX || ds->content_length > e->cfg.line_max) {
      e->c.anomalies[MW_AN_HTTP_BODY_TOO_LONG]++;
      ds->body_left = ds->content_length == UINT32_MAX ? 0 : ds->content_length;
      ds->truncated = ds->body_left > 0;
    } else {
      ds->body_left = ds->content_length;
    }
    if (ds->body_left > 0) ds->mode = MW_MODE_HTTP_BODY;
    ds->content_length = 0;
    return;
  }
  mw_http_header(e, f, side, ds, line, len);
}

static void append(mw_engine *e, mw_dir_stream *ds, const uint8_t *p, uint32_t n) {
  uint32_t room = e->cfg.line_max - ds->line_len;
  if (n > room) {
    ds->truncated = 1;
    n = room;
  }
  memcpy(ds->line + ds->line_len, p, n);
  ds->line_len += n;
}

static void tls_record(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds) {
  const uint8_t *name;
  int n = mw_tls_client_hello_sni(ds->line, ds->line_len, &name);
  if (n < 0) e->c.anomalies[MW_AN_TLS_MALFORMED]++;
  uint32_t value = 0;
  if (n > 0 && e->names) value = mw_names_match(e->names, name, (size_t)n, NULL);
  if (value && !((value - 1) & MW_NAME_QUIET)) {
    mw_event ev = {0};
    ev.kind = MW_EV_TLS_SNI;
    ev.data = name;
    ev.len = (uint32_t)n;
    ev.name_value = value;
    if (mw_emit(e, &ev, f, side)) {
      f->keep = 1;
      mw_rhythm_start(e, f, side); /* its shares can be counted from the records */
      finish(e, f, MW_FLOW_WATCH);
      return;
    }
  }
  /* A hello no name attributes (a pool's website is attributed, and never mining): what the
   * flow does from now on may still be mining, by its rhythm. */
  if (n >= 0 && !value) mw_rhythm_start(e, f, side);
  finish(e, f, MW_FLOW_DONE);
}

/* Feeds in-order bytes to the framer of one direction. */
static void deliver(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *p,
                    uint32_t n) {
  while (n > 0 && f->stream) {
    if (ds->mode == MW_MODE_TLS) {
      append(e, ds, p, n);
      n = 0;
      if (ds->line_len >= 5) {
        uint32_t need = 5u + mw_be16(ds->line + 3);
        if (ds->line_len >= need || ds->truncated) tls_record(e, f, side, ds);
      }
      return;
    }
    if (ds->mode == MW_MODE_HTTP_BODY) {
      uint32_t take = n < ds->body_left ? n : ds->body_left;
      bool was_truncated = ds->truncated;
      append(e, ds, p, take);
      ds->truncated = ds->truncated || was_truncated;
      p += take;
      n -= take;
      ds->body_left -= take;
      if (ds->body_left == 0) {
        ds->mode = MW_MODE_LINE;
        handle_line(e, f, side, ds);
      }
      continue;
    }
    const uint8_t *nl = memchr(p, '\n', n);
    if (ds->resync) {
      if (!nl) return;
      ds->resync = 0;
      n -= (uint32_t)(nl + 1 - p);
      p = nl + 1;
      continue;
    }
    uint32_t take = nl ? (uint32_t)(nl - p) : n;
    append(e, ds, p, take);
    p += take;
    n -= take;
    if (nl) {
      p++;
      n--;
      handle_line(e, f, side, ds);
    }
  }
}

/* ---- reassembly ---- */

static void drop_held(mw_dir_stream *ds) {
  ds->ooo_count = 0;
  ds->ooo_used = 0;
}

static bool hold(mw_dir_stream *ds, uint32_t seq, const uint8_t *p, uint32_t n) {
  for (int i = 0; i < ds->ooo_count; i++)
    if (ds->ooo[i].seq == seq && ds->ooo[i].len >= n) return true; /* already held */
  if (ds->ooo_count == MW_OOO_SEGMENTS || ds->ooo_used + n > MW_OOO_BYTES) return false;
  memcpy(ds->ooo_data + ds->ooo_used, p, n);
  ds->ooo[ds->ooo_count++] = (mw_ooo_segment){seq, ds->ooo_used, (uint16_t)n};
  ds->ooo_used = (uint16_t)(ds->ooo_used + n);
  return true;
}

/* Delivers held segments that the stream has now reached. */
static void drain_held(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds) {
  bool progress = true;
  while (progress && ds->ooo_count > 0 && f->stream) {
    progress = false;
    for (int i = 0; i < ds->ooo_count; i++) {
      mw_ooo_segment sg = ds->ooo[i];
      int32_t d = (int32_t)(sg.seq - ds->next_seq);
      if (d > 0) continue;
      ds->ooo[i] = ds->ooo[--ds->ooo_count];
      if (ds->ooo_count == 0) ds->ooo_used = 0;
      progress = true;
      if ((int64_t)d + sg.len > 0) {
        uint32_t skip = (uint32_t)(-d);
        ds->next_seq += sg.len - skip;
        deliver(e, f, side, ds, ds->ooo_data + sg.off + skip, sg.len - skip);
      }
      break;
    }
  }
}

static void start_direction(mw_dir_stream *ds, const mw_packet *p, bool from_start) {
  size_t ws = skip_ws(p->payload, p->payload_len);
  const uint8_t *q = p->payload + ws;
  size_t n = p->payload_len - ws;
  ds->seq_known = 1;
  ds->next_seq = p->seq;
  if (is_tls_client_hello(p->payload, p->payload_len)) ds->mode = MW_MODE_TLS;
  else if (n > 0 && q[0] == '{') ds->resync = 0;
  else if (mw_http_is_start(p->payload, p->payload_len)) ds->resync = 0;
  else ds->resync = !from_start; /* joined mid-line: wait for the next line */
}

/* Could this flow carry mining traffic? Looks at one segment, no state. */
static bool worth_a_stream(const mw_packet *p, bool *mid_line) {
  const uint8_t *d = p->payload;
  uint32_t n = p->payload_len;
  size_t ws = skip_ws(d, n);
  *mid_line = false;
  if (ws < n && d[ws] == '{') return true;
  if (mw_http_is_start(d, n) || is_tls_client_hello(d, n)) return true;
  /* A capture that starts mid-session may begin inside a line: look for a line start. */
  const uint8_t *nl = memchr(d, '\n', n < 2048 ? n : 2048);
  if (nl && nl + 1 < d + n && nl[1] == '{') {
    *mid_line = true;
    return true;
  }
  return false;
}

static void check_budget(mw_engine *e, mw_flow *f) {
  if (f->state != MW_FLOW_INSPECT) return;
  uint32_t b = e->cfg.inspect_bytes;
  if ((f->inspected[0] > b && f->inspected[1] > b) || f->inspected[0] > 4 * b ||
      f->inspected[1] > 4 * b)
    finish(e, f, MW_FLOW_DONE);
}

void mw_stream_segment(mw_engine *e, mw_flow *f, int side, const mw_packet *p) {
  uint32_t n = p->payload_len;
  if (n == 0 || f->state == MW_FLOW_DONE || f->state == MW_FLOW_WATCH) return;
  if (f->inspected[side] < UINT32_MAX - n) f->inspected[side] += n;
  mw_stream *s = mw_flow_stream(e, f, false);
  if (!s) {
    bool mid_line;
    if (f->state == MW_FLOW_MINING) {
      /* Its buffer went to a busier flow: take one back; the line in progress is lost, so
       * start at the next one. */
      s = mw_flow_stream(e, f, true);
      if (!s) return;
      s->dir[side].seq_known = 1;
      s->dir[side].next_seq = p->seq;
      s->dir[side].resync = 1;
    } else {
      if (f->state != MW_FLOW_INSPECT || !worth_a_stream(p, &mid_line)) {
        check_budget(e, f);
        return;
      }
      s = mw_flow_stream(e, f, true);
      if (!s) return;
      e->c.candidate_flows++;
    }
  }
  mw_stream_touch(e, f);
  mw_dir_stream *ds = &s->dir[side];
  if (!ds->seq_known) start_direction(ds, p, f->seen_syn);
  int32_t d = (int32_t)(p->seq - ds->next_seq);
  const uint8_t *data = p->payload;
  if (d < 0) {
    if ((int64_t)d + n <= 0) {
      e->c.anomalies[MW_AN_TCP_RETRANSMISSION]++;
      return;
    }
    data += -d; /* partly new: keep only the new tail */
    n -= (uint32_t)(-d);
    e->c.anomalies[MW_AN_TCP_RETRANSMISSION]++;
  } else if (d > 0) {
    if (hold(ds, p->seq, data, n)) {
      e->c.anomalies[MW_AN_TCP_OUT_OF_ORDER]++;
      return;
    }
    /* Too much missing: accept the loss and restart at the next line. */
    e->c.anomalies[MW_AN_TCP_GAP]++;
    drop_held(ds);
    ds->line_len = 0;
    ds->truncated = 0;
    if (ds->mode == MW_MODE_HTTP_BODY) ds->mode = MW_MODE_LINE;
    ds->resync = 1;
  }
  ds->next_seq = p->seq + p->payload_len;
  deliver(e, f, side, ds, data, n);
  if (f->stream) drain_held(e, f, side, ds);
  check_budget(e, f);
}
