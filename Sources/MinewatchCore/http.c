/* HTTP/1.x headers of candidate flows (getwork and ETH proxy over HTTP, browser miners): the
 * request's target, Host and Basic credentials are kept for the body that follows, because
 * getwork miners put their account there (RFC 9110 section 9.1; RFC 7617 for Basic). A Host
 * the name table lists is an event of its own. */
#include "engine_internal.h"

static bool starts_with(const uint8_t *p, size_t len, const char *lit) {
  size_t n = strlen(lit);
  return len >= n && memcmp(p, lit, n) == 0;
}

static bool starts_with_nocase(const uint8_t *p, size_t len, const char *lit) {
  size_t n = strlen(lit);
  if (len < n) return false;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
    if (c != (uint8_t)lit[i]) return false;
  }
  return true;
}

static uint32_t trim(const uint8_t **v, uint32_t n) {
  while (n > 0 && (**v == ' ' || **v == '\t')) { (*v)++; n--; }
  while (n > 0 && ((*v)[n - 1] == ' ' || (*v)[n - 1] == '\t')) n--;
  return n;
}

/* Copies at most cap bytes; a value longer than that is not kept at all (a cut account
 * would be a wrong one). */
static uint8_t keep(uint8_t *dst, size_t cap, const uint8_t *v, uint32_t n) {
  if (n > cap) return 0;
  memcpy(dst, v, n);
  return (uint8_t)n;
}

/* The side's values; the side is canonical, as the stream's own dir[] is. */
static mw_http_values *values(const mw_engine *e, const mw_flow *f, int side) {
  return &e->http_values[(size_t)(f->stream - 1) * 2 + (size_t)side];
}

void mw_http_start(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *line,
                   uint32_t len) {
  ds->in_http = 1;
  ds->content_length = 0;
  ds->http_target_len = ds->http_host_len = ds->http_auth_len = 0;
  if (starts_with(line, len, "HTTP/1.")) return; /* a response: no target */
  /* METHOD SP target SP HTTP/1.x */
  const uint8_t *sp = memchr(line, ' ', len);
  if (!sp) return;
  const uint8_t *target = sp + 1;
  uint32_t rest = len - (uint32_t)(target - line);
  const uint8_t *end = memchr(target, ' ', rest);
  uint32_t n = end ? (uint32_t)(end - target) : rest;
  ds->http_target_len = keep(values(e, f, side)->target, MW_HTTP_TARGET, target, n);
}

static uint32_t parse_content_length(const uint8_t *p, uint32_t len) {
  uint32_t i = 0, v = 0;
  while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
  for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
    if (v > 100000000u) return UINT32_MAX; /* absurd: treated as too long */
    v = v * 10 + (uint32_t)(p[i] - '0');
  }
  return v;
}

/* The Host header: kept (port dropped), and an event when the name table lists it. */
static void host(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *v, uint32_t n) {
  n = trim(&v, n);
  uint32_t end = 0;
  while (end < n && v[end] != ':' && v[end] != ' ' && v[end] != '\t') end++;
  ds->http_host_len = keep(values(e, f, side)->host, MW_HTTP_HOST, v, end);
  if (!e->names) return;
  uint32_t value = mw_names_match(e->names, v, end, NULL);
  if (!value || ((value - 1) & MW_NAME_QUIET)) return;
  mw_event ev = {0};
  ev.kind = MW_EV_HTTP_HOST;
  ev.data = v;
  ev.len = end;
  ev.name_value = value;
  if (mw_emit(e, &ev, f, side)) f->keep = 1;
}

void mw_http_header(mw_engine *e, mw_flow *f, int side, mw_dir_stream *ds, const uint8_t *line,
                    uint32_t len) {
  if (starts_with_nocase(line, len, "content-length:")) {
    ds->content_length = parse_content_length(line + 15, len - 15);
  } else if (starts_with_nocase(line, len, "host:")) {
    host(e, f, side, ds, line + 5, len - 5);
  } else if (starts_with_nocase(line, len, "authorization:")) {
    const uint8_t *v = line + 14;
    uint32_t n = trim(&v, len - 14);
    if (n > 6 && starts_with_nocase(v, n, "basic ")) {
      v += 6;
      n = trim(&v, n - 6);
      ds->http_auth_len = keep(values(e, f, side)->auth, MW_HTTP_AUTH, v, n);
    }
  }
}

void mw_http_attach(const mw_engine *e, const mw_flow *f, int side, const mw_dir_stream *ds,
                    mw_event *ev) {
  if (!ds->in_http || !f->stream) return;
  const mw_http_values *v = values(e, f, side);
  if (ds->http_target_len) {
    ev->http_target = v->target;
    ev->http_target_len = ds->http_target_len;
  }
  if (ds->http_host_len) {
    ev->http_host = v->host;
    ev->http_host_len = ds->http_host_len;
  }
  if (ds->http_auth_len) {
    ev->http_auth = v->auth;
    ev->http_auth_len = ds->http_auth_len;
  }
}
