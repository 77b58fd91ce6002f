/* The pool-domain table: an open-addressing hash set of names. A lookup hashes each suffix of
 * the queried name that starts on a label boundary, so its cost depends on the number of
 * labels (at most 127), never on the number of names loaded. */
/* BSD types for pcap.h, clock_gettime and fileno under -std=c11 */
#define _DEFAULT_SOURCE
#include "core_internal.h"

#include <stdlib.h>
#include <time.h>

enum { MW_NAME_MAX = 253 };

typedef struct {
  uint64_t hash;  /* 0 marks an empty slot */
  uint32_t off, len;
  uint32_t value;
} name_slot;

struct mw_names {
  name_slot *slots;
  uint32_t mask, count, limit;
  char *arena;
  size_t arena_len, arena_cap;
  uint64_t key[2];
};

mw_names *mw_names_create(uint32_t capacity) {
  if (capacity < 16) capacity = 16;
  if (capacity > (1u << 26)) return NULL;
  uint32_t size = 16;
  while (size < capacity * 2) size <<= 1; /* load factor at most one half */
  mw_names *n = calloc(1, sizeof(*n));
  if (!n) return NULL;
  n->slots = calloc(size, sizeof(name_slot));
  if (!n->slots) { free(n); return NULL; }
  n->mask = size - 1;
  n->limit = capacity;
  n->key[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)n;
  n->key[1] = (uint64_t)clock() ^ 0x9e3779b97f4a7c15ULL ^ ((uint64_t)(uintptr_t)n->slots << 7);
  return n;
}

void mw_names_destroy(mw_names *n) {
  if (!n) return;
  free(n->slots);
  free(n->arena);
  free(n);
}

uint32_t mw_names_count(const mw_names *n) { return n ? n->count : 0; }

static uint64_t name_hash(const mw_names *n, const uint8_t *s, size_t len) {
  uint64_t h = mw_siphash13(n->key, s, len);
  return h ? h : 1;
}

/* Lower-cases into out and drops one trailing dot; returns the length, or -1 if too long. */
static int normalise(const uint8_t *in, size_t len, uint8_t *out) {
  if (len > 0 && in[len - 1] == '.') len--;
  if (len == 0 || len > MW_NAME_MAX) return -1;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    out[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
  }
  return (int)len;
}

static const name_slot *find(const mw_names *n, const uint8_t *s, size_t len, uint64_t h) {
  for (uint32_t i = (uint32_t)h & n->mask;; i = (i + 1) & n->mask) {
    const name_slot *slot = &n->slots[i];
    if (slot->hash == 0) return NULL;
    if (slot->hash == h && slot->len == len && memcmp(n->arena + slot->off, s, len) == 0)
      return slot;
  }
}

int mw_names_add(mw_names *n, const char *name, size_t len, uint32_t value) {
  uint8_t buf[MW_NAME_MAX];
  int l = normalise((const uint8_t *)name, len, buf);
  if (l < 0 || n->count >= n->limit) return -1;
  uint64_t h = name_hash(n, buf, (size_t)l);
  if (find(n, buf, (size_t)l, h)) return 0; /* first entry wins */
  if (n->arena_len + (size_t)l > n->arena_cap) {
    size_t cap = n->arena_cap ? n->arena_cap * 2 : 4096;
    while (cap < n->arena_len + (size_t)l) cap *= 2;
    char *a = realloc(n->arena, cap);
    if (!a) return -1;
    n->arena = a;
    n->arena_cap = cap;
  }
  memcpy(n->arena + n->arena_len, buf, (size_t)l);
  uint32_t i = (uint32_t)h & n->mask;
  while (n->slots[i].hash != 0) i = (i + 1) & n->mask;
  n->slots[i] = (name_slot){h, (uint32_t)n->arena_len, (uint32_t)l, value};
  n->arena_len += (size_t)l;
  n->count++;
  return 0;
}

uint32_t mw_names_match(const mw_names *n, const uint8_t *name, size_t len, size_t *matched) {
  if (!n || n->count == 0) return 0;
  uint8_t buf[MW_NAME_MAX];
  int l = normalise(name, len, buf);
  if (l < 0) return 0;
  /* Longest suffix first: the whole name, then after each dot. */
  for (int start = 0; start < l;) {
    const uint8_t *s = buf + start;
    size_t sl = (size_t)(l - start);
    const name_slot *slot = find(n, s, sl, name_hash(n, s, sl));
    if (slot) {
      if (matched) *matched = sl;
      return slot->value + 1;
    }
    const uint8_t *dot = memchr(s, '.', sl);
    if (!dot) break;
    start = (int)(dot - buf) + 1;
  }
  return 0;
}
