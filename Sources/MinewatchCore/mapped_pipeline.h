/* A mapped capture read by a thread of its own, decoded ahead of the engine (mapped_pipeline.c). */
#ifndef MW_MAPPED_PIPELINE_H
#define MW_MAPPED_PIPELINE_H

#include "mapped_pcap.h"

typedef struct mw_pipeline mw_pipeline;

/* Starts the reader thread on m (which it walks from then on) for engine e, whose link type,
 * tenant rules and table size must stay as they are until the end. NULL when no thread can be
 * had (the caller reads on its own thread instead). */
mw_pipeline *mw_pipeline_start(mw_mapped *m, const mw_engine *e);
/* As mw_mapped_run, with the records the reader decoded. */
int mw_pipeline_run(mw_pipeline *pl, mw_engine *e, uint64_t max_packets, char *err, size_t errlen);
/* How far into the file the engine is. */
size_t mw_pipeline_offset(const mw_pipeline *pl);
/* Stops the reader (wherever it is) and frees; pl may be NULL. */
void mw_pipeline_stop(mw_pipeline *pl);

#endif
