/* A scan on two cores: a reader thread walks the mapped file and decodes each record — the page
 * faults and the first loads of every record, a third of a one-thread scan's time in issue 12's
 * profile — while the engine's thread takes the decoded records from a ring, in file order, and
 * does everything else. The flow key is split between them: the reader copies the two ends in
 * canonical order (it has the packet's bytes in cache), the engine hashes them (hashing on the
 * reader made it the slower side; reading the ends on the engine's side cost it a transfer of
 * the packet's lines from the other core for every packet, 5 % of the scan). The engine sees the
 * same records in the same order with the same decoded fields as a one-thread scan, so what it
 * finds cannot differ; only when decoding anomalies are added to its counts moves (at the end
 * of the file, which is when a scan reads them). */
#define _DEFAULT_SOURCE
#include "mapped_pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Records decoded ahead: a power of two; its ~150 KiB stay in the reader's L2 while written and
 * reach the engine's through the shared L3. */
enum { MW_RING = 1024, MW_ERR = 256 };

struct mw_pipeline {
  mw_mapped *m; /* walked by the reader thread only, once started */
  const mw_engine *e;
  mw_decoded ring[MW_RING];
  size_t end_of[MW_RING]; /* the file offset after each record, for progress and release */
  _Atomic uint64_t produced, consumed;
  _Atomic size_t done_offset; /* the engine is through the file up to here */
  _Atomic bool stop;
  int end_rc; /* after the last record: 0 end of file, -1 malformed (err) */
  char err[MW_ERR];
  uint64_t anomalies[MW_AN_COUNT]; /* the reader's decoding anomalies */
  pthread_t thread;
  bool running;  /* the thread is to be joined */
  bool finished; /* the engine has taken the end */
  /* A side that finds nothing to do spins briefly, then sleeps until the other wakes it: on a
   * shared, busy machine a spinning thread takes the core the other one needs. Each side
   * stores its own progress, then looks whether the other sleeps (and the sleeper stores that
   * it sleeps, then looks at the progress), all sequentially consistent: one of the two sees
   * the other, so no wake-up is lost. */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  _Atomic bool reader_waits, engine_waits;
};

enum { MW_SPINS = 256 };

static void wake(mw_pipeline *pl, _Atomic bool *waits) {
  if (!atomic_load(waits)) return;
  pthread_mutex_lock(&pl->lock);
  pthread_cond_broadcast(&pl->wake);
  pthread_mutex_unlock(&pl->lock);
}

/* The reader: until the ring has room for record `produced`. False when told to stop. */
static bool room_for(mw_pipeline *pl, uint64_t produced) {
  for (unsigned spins = 0; produced - atomic_load(&pl->consumed) >= MW_RING; spins++) {
    if (atomic_load_explicit(&pl->stop, memory_order_relaxed)) return false;
    if (spins < MW_SPINS) {
      mw_cpu_relax();
      continue;
    }
    /* Asleep, it waits until half the ring is free: one wake-up per half ring, not per batch. */
    pthread_mutex_lock(&pl->lock);
    atomic_store(&pl->reader_waits, true);
    while (produced - atomic_load(&pl->consumed) > MW_RING / 2 && !atomic_load(&pl->stop))
      pthread_cond_wait(&pl->wake, &pl->lock);
    atomic_store(&pl->reader_waits, false);
    pthread_mutex_unlock(&pl->lock);
  }
  return true;
}

/* The engine: until a record past `consumed` is there; returns how many are. */
static uint64_t records_after(mw_pipeline *pl, uint64_t consumed) {
  uint64_t produced;
  for (unsigned spins = 0; (produced = atomic_load(&pl->produced)) == consumed; spins++) {
    if (spins < MW_SPINS) {
      mw_cpu_relax();
      continue;
    }
    pthread_mutex_lock(&pl->lock);
    atomic_store(&pl->engine_waits, true);
    while (atomic_load(&pl->produced) == consumed) pthread_cond_wait(&pl->wake, &pl->lock);
    atomic_store(&pl->engine_waits, false);
    pthread_mutex_unlock(&pl->lock);
  }
  return produced;
}

/* Records are handed over MW_PUBLISH at a time: the count both threads read then moves between
 * their caches once per group instead of once per record. */
enum { MW_PUBLISH = 8 };

static void publish(mw_pipeline *pl, uint64_t produced) {
  atomic_store(&pl->produced, produced);
  wake(pl, &pl->engine_waits);
}

static void *read_ahead(void *arg) {
  mw_pipeline *pl = arg;
  uint64_t produced = 0;
  for (;;) {
    /* Acquire: the engine's reads of the slot about to be rewritten come before its count of
     * what it consumed (a relaxed load let the reader's writes race them, ThreadSanitizer). */
    if (produced - atomic_load_explicit(&pl->consumed, memory_order_acquire) >= MW_RING) {
      publish(pl, produced); /* the engine must see all there is before the reader waits */
      if (!room_for(pl, produced)) return NULL;
    }
    mw_mapped_release(pl->m, atomic_load_explicit(&pl->done_offset, memory_order_acquire));
    uint32_t slot = (uint32_t)(produced % MW_RING);
    mw_raw_packet r;
    int rc = mw_mapped_next(pl->m, &r, pl->err, sizeof pl->err);
    if (rc != 1) {
      pl->end_rc = rc;
      pl->ring[slot].r.data = NULL; /* the end, published like a record */
      pl->end_of[slot] = pl->m->pos;
      publish(pl, produced + 1);
      return NULL;
    }
    mw_engine_decode(pl->e, &r, &pl->ring[slot], pl->anomalies);
    pl->end_of[slot] = pl->m->pos;
    if (++produced % MW_PUBLISH == 0) publish(pl, produced);
  }
}

mw_pipeline *mw_pipeline_start(mw_mapped *m, const mw_engine *e) {
  mw_pipeline *pl = calloc(1, sizeof *pl);
  if (!pl) return NULL;
  pl->m = m;
  pl->e = e;
  if (pthread_mutex_init(&pl->lock, NULL) != 0) {
    free(pl);
    return NULL;
  }
  if (pthread_cond_init(&pl->wake, NULL) != 0 || pthread_create(&pl->thread, NULL, read_ahead, pl) != 0) {
    pthread_mutex_destroy(&pl->lock);
    free(pl);
    return NULL;
  }
  pl->running = true;
  return pl;
}

size_t mw_pipeline_offset(const mw_pipeline *pl) { return atomic_load(&pl->done_offset); }

int mw_pipeline_run(mw_pipeline *pl, mw_engine *e, uint64_t max_packets, char *err, size_t errlen) {
  if (pl->finished) return pl->end_rc;
  uint64_t consumed = atomic_load_explicit(&pl->consumed, memory_order_relaxed), done = 0;
  for (;;) {
    uint64_t produced = records_after(pl, consumed);
    /* A batch: up to MW_BATCH records, contiguous in the ring, ending at the record that brings
     * packet time to the engine's deadline (as the one-thread walk does), or before the end. */
    uint32_t slot = (uint32_t)(consumed % MW_RING), n = 0;
    uint64_t now = e->now_ns;
    bool due = false, end = false;
    while (n < MW_BATCH && consumed + n < produced && slot + n < MW_RING &&
           (max_packets == 0 || done + n < max_packets)) {
      const mw_decoded *d = &pl->ring[slot + n];
      if (!d->r.data) {
        end = true;
        break;
      }
      if (d->r.ts_ns > now) now = d->r.ts_ns;
      n++;
      if (e->deadline_ns != 0 && now >= e->deadline_ns) {
        due = true;
        break;
      }
    }
    if (n) {
      mw_engine_decoded(e, &pl->ring[slot], n);
      consumed += n;
      done += n;
      atomic_store_explicit(&pl->done_offset, pl->end_of[(consumed - 1) % MW_RING], memory_order_release);
      atomic_store(&pl->consumed, consumed);
      if (produced - consumed <= MW_RING / 2) wake(pl, &pl->reader_waits);
    }
    if (end) {
      /* The reader has stopped: its counts and its message are the engine's to take. */
      pthread_join(pl->thread, NULL);
      pl->running = false;
      pl->finished = true;
      for (int i = 0; i < MW_AN_COUNT; i++) e->c.anomalies[i] += pl->anomalies[i];
      memset(pl->anomalies, 0, sizeof pl->anomalies);
      if (pl->end_rc < 0) snprintf(err, errlen, "%s", pl->err);
      atomic_store(&pl->done_offset, pl->m->len);
      mw_mapped_release_all(pl->m);
      return pl->end_rc;
    }
    if (due || (max_packets != 0 && done >= max_packets)) return 1;
  }
}

void mw_pipeline_stop(mw_pipeline *pl) {
  if (!pl) return;
  if (pl->running) {
    pthread_mutex_lock(&pl->lock);
    atomic_store(&pl->stop, true);
    pthread_cond_broadcast(&pl->wake);
    pthread_mutex_unlock(&pl->lock);
    pthread_join(pl->thread, NULL);
  }
  pthread_cond_destroy(&pl->wake);
  pthread_mutex_destroy(&pl->lock);
  free(pl);
}
