/* A bounded JSON scanner for one line: validates the structure, finds the top-level members
 * that identify a mining message, and never reads past len. Nesting deeper than
 * MW_JSON_MAX_DEPTH is refused (recursion stays bounded). */
#include "core_internal.h"

enum { MW_JSON_MAX_DEPTH = 32 };

typedef struct {
  const uint8_t *base, *p, *end;
  mw_json_status status;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
    c->p++;
}

static bool fail(cursor *c, mw_json_status s) {
  if (c->status == MW_JSON_OK) c->status = s;
  return false;
}

/* Reads a string; on success *s..*s+*n is the raw content between the quotes. */
static bool read_string(cursor *c, const uint8_t **s, size_t *n) {
  if (c->p >= c->end || *c->p != '"') return fail(c, MW_JSON_MALFORMED);
  const uint8_t *start = ++c->p;
  while (c->p < c->end) {
    uint8_t ch = *c->p;
    if (ch == '\\') {
      if (c->end - c->p < 2) break;
      c->p += 2;
      continue;
    }
    if (ch == '"') {
      *s = start;
      *n = (size_t)(c->p - start);
      c->p++;
      return true;
    }
    if (ch < 0x20) return fail(c, MW_JSON_MALFORMED);
    c->p++;
  }
  return fail(c, MW_JSON_MALFORMED);
}

static bool is_key(const uint8_t *s, size_t n, const char *k) {
  size_t kl = strlen(k);
  return n == kl && memcmp(s, k, kl) == 0;
}

typedef void (*member_fn)(mw_json_top *out, const uint8_t *key, size_t keylen, cursor *c,
                          int depth);

static bool skip_value(cursor *c, int depth, mw_json_top *out, member_fn on_member);

static bool scan_object(cursor *c, int depth, mw_json_top *out, member_fn on_member) {
  if (depth > MW_JSON_MAX_DEPTH) return fail(c, MW_JSON_TOO_DEEP);
  c->p++; /* '{' */
  skip_ws(c);
  if (c->p < c->end && *c->p == '}') { c->p++; return true; }
  for (;;) {
    skip_ws(c);
    const uint8_t *key;
    size_t keylen;
    if (!read_string(c, &key, &keylen)) return false;
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':') return fail(c, MW_JSON_MALFORMED);
    c->p++;
    skip_ws(c);
    if (on_member) on_member(out, key, keylen, c, depth);
    if (!skip_value(c, depth + 1, out, NULL)) return false;
    skip_ws(c);
    if (c->p >= c->end) return fail(c, MW_JSON_MALFORMED);
    if (*c->p == ',') { c->p++; continue; }
    if (*c->p == '}') { c->p++; return true; }
    return fail(c, MW_JSON_MALFORMED);
  }
}

static bool scan_array(cursor *c, int depth, mw_json_top *out) {
  if (depth > MW_JSON_MAX_DEPTH) return fail(c, MW_JSON_TOO_DEEP);
  c->p++; /* '[' */
  skip_ws(c);
  if (c->p < c->end && *c->p == ']') { c->p++; return true; }
  for (;;) {
    skip_ws(c);
    if (!skip_value(c, depth + 1, out, NULL)) return false;
    skip_ws(c);
    if (c->p >= c->end) return fail(c, MW_JSON_MALFORMED);
    if (*c->p == ',') { c->p++; continue; }
    if (*c->p == ']') { c->p++; return true; }
    return fail(c, MW_JSON_MALFORMED);
  }
}

static bool skip_value(cursor *c, int depth, mw_json_top *out, member_fn on_member) {
  if (c->p >= c->end) return fail(c, MW_JSON_MALFORMED);
  uint8_t ch = *c->p;
  if (ch == '{') return scan_object(c, depth, out, on_member);
  if (ch == '[') return scan_array(c, depth, out);
  if (ch == '"') {
    const uint8_t *s;
    size_t n;
    return read_string(c, &s, &n);
  }
  /* number, true, false, null: a run of literal characters */
  const uint8_t *start = c->p;
  while (c->p < c->end) {
    ch = *c->p;
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '+' ||
        ch == '.' || ch == 'E')
      c->p++;
    else
      break;
  }
  if (c->p == start) return fail(c, MW_JSON_MALFORMED);
  return true;
}

/* Members one level below params/result that mark CryptoNote messages. */
static void inner_member(mw_json_top *out, const uint8_t *key, size_t n, cursor *c, int depth) {
  (void)c;
  (void)depth;
  if (is_key(key, n, "login")) out->has_login_member = 1;
  else if (is_key(key, n, "job_id") || is_key(key, n, "blob") || is_key(key, n, "job"))
    out->has_job_member = 1;
}

static void top_member(mw_json_top *out, const uint8_t *key, size_t n, cursor *c, int depth) {
  (void)depth;
  if (is_key(key, n, "method")) {
    if (c->p < c->end && *c->p == '"') {
      cursor probe = *c;
      const uint8_t *s;
      size_t len;
      if (read_string(&probe, &s, &len)) {
        out->has_method = 1;
        out->method_off = (uint32_t)(s - c->base);
        out->method_len = (uint32_t)len;
      }
    }
  } else if (is_key(key, n, "id")) {
    out->has_id = 1;
  } else if (is_key(key, n, "result")) {
    out->has_result = 1;
    if (c->p < c->end && *c->p == '{') {
      cursor probe = *c;
      scan_object(&probe, 2, out, inner_member);
    }
  } else if (is_key(key, n, "error")) {
    /* "error": null is the normal success reply */
    out->has_error = !(c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0);
  } else if (is_key(key, n, "params")) {
    out->has_params = 1;
    if (c->p < c->end && *c->p == '{') {
      out->params_is_object = 1;
      cursor probe = *c;
      scan_object(&probe, 2, out, inner_member);
    }
  }
}

mw_json_status mw_json_scan_top(const uint8_t *line, size_t len, mw_json_top *out) {
  memset(out, 0, sizeof(*out));
  cursor c = {line, line, line + len, MW_JSON_OK};
  skip_ws(&c);
  if (c.p >= c.end || *c.p != '{') return MW_JSON_NOT_OBJECT;
  if (!scan_object(&c, 1, out, top_member)) return c.status;
  skip_ws(&c);
  if (c.p != c.end) return MW_JSON_MALFORMED;
  return MW_JSON_OK;
}
