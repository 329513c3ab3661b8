/* The functions of rtlib/ that generated code calls. C only: compiled to bitcode and
 * linked into each model (codegen/rtlib.cpp), never into gradc itself. */
#ifndef GRADC_RTLIB_H
#define GRADC_RTLIB_H

#include <stdint.h>

/* The most threads a pool runs (the caller included). */
#define GRADC_RT_MAX_THREADS 256

/* One task of a parallel-for: its index, and which of the job's workers runs it
 * (0 <= worker < max_workers; a kernel uses it to pick a per-worker workspace slot). */
typedef void (*gradc_rt_task)(void *ctx, int64_t task, int32_t worker);

/* Runs fn(ctx, t, w) for every t in [0, tasks) on at most max_workers threads, the
 * calling one included, and returns when all are done. Tasks are taken in any order
 * by any thread. When another thread's job holds the pool, runs them all here. */
void gradc_rt_parallel_for(int64_t tasks, int32_t max_workers, gradc_rt_task fn, void *ctx);

/* Sets the pool's thread count (the caller included); n <= 0 means every CPU the
 * process may run on. Joins the current workers (waiting for a running job first);
 * new ones start on the next parallel-for that needs them. */
void gradc_rt_set_threads(int32_t n);

#endif
