/* Finds one value in a JSON line by its path (object keys and array indexes), without building
 * anything: a bounded walk that skips what it does not need and never reads past len. The
 * line has already passed mw_json_scan_top, so nesting is bounded; the walk checks anyway. */
#include "core_internal.h"

enum { MW_PATH_MAX_DEPTH = 40 };

typedef struct {
  const uint8_t *p, *end;
} walk;

static void ws(walk *w) {
  while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\r' || *w->p == '\n')) w->p++;
}

/* Past a string whose opening quote is at w->p; the raw content in *s, *n. */
static bool string_at(walk *w, const uint8_t **s, size_t *n) {
  if (w->p >= w->end || *w->p != '"') return false;
  const uint8_t *start = ++w->p;
  while (w->p < w->end) {
    if (*w->p == '\\') {
      if (w->end - w->p < 2) return false;
      w->p += 2;
      continue;
    }
    if (*w->p == '"') {
      *s = start;
      *n = (size_t)(w->p - start);
      w->p++;
      return true;
    }
    w->p++;
  }
  return false;
}

/* Past `"key" :` of an object member; the key's raw content in *s, *n. */
static bool member(walk *w, const uint8_t **s, size_t *n) {
  ws(w);
  if (!string_at(w, s, n)) return false;
  ws(w);
  if (w->p >= w->end || *w->p != ':') return false;
  w->p++;
  ws(w);
  return true;
}

static bool skip(walk *w, int depth) {
  if (depth > MW_PATH_MAX_DEPTH || w->p >= w->end) return false;
  uint8_t ch = *w->p;
  if (ch == '"') {
    const uint8_t *s;
    size_t n;
    return string_at(w, &s, &n);
  }
  if (ch == '{' || ch == '[') {
    uint8_t close = ch == '{' ? '}' : ']';
    w->p++;
    ws(w);
    if (w->p < w->end && *w->p == close) { w->p++; return true; }
    for (;;) {
      ws(w);
      const uint8_t *s;
      size_t n;
      if (ch == '{' && !member(w, &s, &n)) return false;
      if (!skip(w, depth + 1)) return false;
      ws(w);
      if (w->p >= w->end) return false;
      if (*w->p == ',') { w->p++; continue; }
      if (*w->p == close) { w->p++; return true; }
      return false;
    }
  }
  const uint8_t *start = w->p;
  while (w->p < w->end && *w->p != ',' && *w->p != '}' && *w->p != ']' && *w->p != ' ' && *w->p != '\t' &&
         *w->p != '\r' && *w->p != '\n')
    w->p++;
  return w->p > start;
}

/* Moves w to the value at one step below the value at w->p. */
static bool step(walk *w, const mw_json_step *st) {
  ws(w);
  if (w->p >= w->end) return false;
  if (st->key) {
    if (*w->p != '{') return false;
    w->p++;
    size_t kl = strlen(st->key);
    for (;;) {
      ws(w);
      if (w->p < w->end && *w->p == '}') return false;
      const uint8_t *s;
      size_t n;
      if (!member(w, &s, &n)) return false;
      if (n == kl && memcmp(s, st->key, kl) == 0) return true;
      if (!skip(w, 1)) return false;
      ws(w);
      if (w->p >= w->end || *w->p != ',') return false;
      w->p++;
    }
  }
  if (*w->p != '[') return false;
  w->p++;
  for (uint32_t i = 0;; i++) {
    ws(w);
    if (w->p < w->end && *w->p == ']') return false;
    if (i == st->index) return true;
    if (!skip(w, 1)) return false;
    ws(w);
    if (w->p >= w->end || *w->p != ',') return false;
    w->p++;
  }
}

bool mw_json_find(const uint8_t *line, size_t len, const mw_json_step *path, int steps, mw_json_value *out) {
  walk w = {line, line + len};
  for (int i = 0; i < steps; i++)
    if (!step(&w, &path[i])) return false;
  ws(&w);
  if (w.p >= w.end) return false;
  const uint8_t *start = w.p;
  uint8_t ch = *w.p;
  if (ch == '"') {
    const uint8_t *s;
    size_t n;
    if (!string_at(&w, &s, &n)) return false;
    out->type = MW_JV_STRING;
    out->off = (uint32_t)(s - line);
    out->len = (uint32_t)n;
    return true;
  }
  if (!skip(&w, 1)) return false;
  out->off = (uint32_t)(start - line);
  out->len = (uint32_t)(w.p - start);
  out->type = ch == '{' ? MW_JV_OBJECT
              : ch == '[' ? MW_JV_ARRAY
              : ch == 't' ? MW_JV_TRUE
              : ch == 'f' ? MW_JV_FALSE
              : ch == 'n' ? MW_JV_NULL
                          : MW_JV_NUMBER;
  return true;
}
