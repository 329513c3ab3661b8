/* The thread pool linked into every compiled model (JIT and AOT objects alike): a
 * parallel-for over a fixed number of independent tasks on persistent pthreads.
 * Compiled to LLVM bitcode at gradc build time and linked into each lowered module,
 * where everything but the thread-count setter becomes internal (codegen/rtlib.cpp).
 *
 * Tasks never share a reduction, so which thread runs a task changes no result: any
 * thread count gives bit-identical output. Built with -DGRADC_RT_NO_THREADS (targets
 * without pthreads) every parallel-for runs its tasks in order on the calling thread. */
#define _GNU_SOURCE
#include <stdint.h>

#include "rtlib/rtlib.h"

#ifdef GRADC_RT_NO_THREADS

void gradc_rt_parallel_for(int64_t tasks, int32_t max_workers, gradc_rt_task fn, void *ctx) {
  (void)max_workers;
  for (int64_t t = 0; t < tasks; ++t)
    fn(ctx, t, 0);
}

void gradc_rt_set_threads(int32_t n) { (void)n; }

#else

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

/* How long a worker spins before it sleeps, and a caller before it waits on the condition
 * variable: enough to cover the serial code between two parallel kernels of one step. Waking
 * a sleeping worker cost the caller about 15 us a job on a 2-core VM (a job of 3 us took 17),
 * which 2000 pauses (about 20 us of spinning there) left to every kernel after a serial
 * stretch of more than that. Timed, not counted: a pause takes 1 to 140 cycles by CPU. */
#define SPIN_NS 250000

/* The job word: generation << 33 | closed << 32 | workers in the job. A worker joins
 * the current job only while it is open, so the caller, once every task is taken,
 * closes it and waits for the workers that joined: never for one that is asleep or
 * not running, which would only have found nothing left to do. */
#define JOB_GENERATION(w) ((w) >> 33)
#define JOB_CLOSED ((uint64_t)1 << 32)
#define JOB_WORKERS(w) ((w)&0xffffffffu)

static struct {
  pthread_mutex_t busy; /* held by the thread whose job the pool is running */
  pthread_mutex_t mu;   /* guards the condition variables and `sleepers` */
  pthread_cond_t wake;  /* workers wait here for a job or `stop` */
  pthread_cond_t done;  /* the caller waits here for the last worker of its job */
  int32_t wanted;       /* threads set by gradc_rt_set_threads; 0 = every CPU we may use */
  int32_t started;      /* worker threads running; the caller is worker 0 besides them */
  int32_t sleepers;     /* workers blocked on `wake` */
  pthread_t threads[GRADC_RT_MAX_THREADS];
  /* The current job, written by its caller before it publishes the job word. */
  gradc_rt_task fn;
  void *ctx;
  int64_t tasks;
  int32_t participants; /* workers 0 .. participants-1 take tasks */
  uint64_t job;         /* atomic: the job word */
  int32_t stop;         /* atomic: workers exit */
} pool = {.busy = PTHREAD_MUTEX_INITIALIZER,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER,
          .job = JOB_CLOSED};

/* Each participant's share of the job's tasks: a contiguous range, so that a worker
 * runs the same tiles of a kernel at every call and finds their data in its own
 * cache. A worker that finishes its share takes what is left of the others'. Each
 * counter has a cache line of its own. */
static struct {
  int64_t next; /* atomic: the next task of the share to take */
  int64_t end;
  char pad[64 - 2 * sizeof(int64_t)];
} share[GRADC_RT_MAX_THREADS] __attribute__((aligned(64)));

static int32_t cpu_count(void) {
  long n = 0;
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    n = CPU_COUNT(&set);
#endif
  if (n < 1)
    n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  return n > GRADC_RT_MAX_THREADS ? GRADC_RT_MAX_THREADS : (int32_t)n;
}

static void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t job_word(void) { return __atomic_load_n(&pool.job, __ATOMIC_ACQUIRE); }

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Spins until `done(arg)` or SPIN_NS have passed (the clock read every 64 pauses);
 * returns whether `done` came true. */
static int spin_until(int (*done)(void *), void *arg) {
  uint64_t deadline = now_ns() + SPIN_NS;
  for (uint32_t i = 1;; ++i) {
    if (done(arg))
      return 1;
    spin_pause();
    if (i % 64 == 0 && now_ns() > deadline)
      return done(arg);
  }
}

/* Takes tasks until none is left: its own share first, then the others'. */
static void run_tasks(int32_t worker) {
  int32_t n = pool.participants;
  for (int32_t k = 0; k < n; ++k) {
    int32_t s = (worker + k) % n;
    for (;;) {
      int64_t t = __atomic_fetch_add(&share[s].next, 1, __ATOMIC_RELAXED);
      if (t >= share[s].end)
        break;
      pool.fn(pool.ctx, t, worker);
    }
  }
}

static int job_or_stop(void *seen) {
  return JOB_GENERATION(job_word()) != *(uint64_t *)seen ||
         __atomic_load_n(&pool.stop, __ATOMIC_ACQUIRE);
}

/* Waits for a generation other than `seen` (or `stop`): spinning first, then asleep. */
static uint64_t wait_for_job(uint64_t seen) {
  if (spin_until(job_or_stop, &seen))
    return JOB_GENERATION(job_word());
  pthread_mutex_lock(&pool.mu);
  ++pool.sleepers;
  while (JOB_GENERATION(job_word()) == seen && !__atomic_load_n(&pool.stop, __ATOMIC_ACQUIRE))
    pthread_cond_wait(&pool.wake, &pool.mu);
  --pool.sleepers;
  pthread_mutex_unlock(&pool.mu);
  return JOB_GENERATION(job_word());
}

/* Joins job `generation` if it is still open. */
static int join_job(uint64_t generation) {
  uint64_t w = job_word();
  while (JOB_GENERATION(w) == generation && !(w & JOB_CLOSED))
    if (__atomic_compare_exchange_n(&pool.job, &w, w + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return 1;
  return 0;
}

/* Leaves the job; the last worker out of a closed job wakes its caller. */
static void leave_job(void) {
  uint64_t before = __atomic_fetch_sub(&pool.job, 1, __ATOMIC_ACQ_REL);
  if ((before & JOB_CLOSED) && JOB_WORKERS(before) == 1) {
    pthread_mutex_lock(&pool.mu);
    pthread_cond_signal(&pool.done);
    pthread_mutex_unlock(&pool.mu);
  }
}

/* The generation current when each worker was made: its first job is the next one. */
static uint64_t start_generation[GRADC_RT_MAX_THREADS];

static void *worker_main(void *arg) {
  int32_t me = (int32_t)(intptr_t)arg;
#if defined(__x86_64__)
  /* Subnormals flushed to zero (FTZ and DAZ), as on the calling thread during a
   * call (codegen/lower.cpp, enterFlushToZero): every thread computes alike. */
  __builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040);
#endif
  uint64_t seen = start_generation[me];
  for (;;) {
    seen = wait_for_job(seen);
    if (__atomic_load_n(&pool.stop, __ATOMIC_ACQUIRE))
      return 0;
    if (!join_job(seen))
      continue;
    if (me < pool.participants)
      run_tasks(me);
    leave_job();
  }
}

/* Starts the workers the wanted count still lacks (the caller holds `busy`). A worker
 * that cannot be made is simply not there: fewer threads, same results. */
static void start_workers(void) {
  if (pool.wanted == 0)
    __atomic_store_n(&pool.wanted, cpu_count(), __ATOMIC_RELAXED);
  while (pool.started + 1 < pool.wanted) {
    int32_t me = pool.started + 1;
    start_generation[me] = JOB_GENERATION(job_word());
    if (pthread_create(&pool.threads[me], 0, worker_main, (void *)(intptr_t)me) != 0) {
      __atomic_store_n(&pool.wanted, pool.started + 1, __ATOMIC_RELAXED);
      break;
    }
    pool.started = me;
  }
}

/* Stops and joins every worker (the caller holds `busy`, so no job is running). */
static void stop_workers(void) {
  pthread_mutex_lock(&pool.mu);
  __atomic_store_n(&pool.stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  for (int32_t i = 1; i <= pool.started; ++i)
    pthread_join(pool.threads[i], 0);
  pool.started = 0;
  __atomic_store_n(&pool.stop, 0, __ATOMIC_RELEASE);
}

static void run_serially(int64_t tasks, gradc_rt_task fn, void *ctx) {
  for (int64_t t = 0; t < tasks; ++t)
    fn(ctx, t, 0);
}

static int no_workers(void *unused) {
  (void)unused;
  return JOB_WORKERS(job_word()) == 0;
}

/* Runs a job on the pool (the caller holds `busy`; the previous job is closed and empty). */
static void run_job(int64_t tasks, int32_t participants, gradc_rt_task fn, void *ctx) {
  pool.fn = fn;
  pool.ctx = ctx;
  pool.tasks = tasks;
  pool.participants = participants;
  for (int32_t w = 0; w < participants; ++w) {
    share[w].end = tasks * (w + 1) / participants;
    __atomic_store_n(&share[w].next, tasks * w / participants, __ATOMIC_RELAXED);
  }
  uint64_t generation = JOB_GENERATION(job_word()) + 1;
  pthread_mutex_lock(&pool.mu);
  __atomic_store_n(&pool.job, generation << 33, __ATOMIC_RELEASE);
  if (pool.sleepers > 0)
    pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  run_tasks(0);
  /* Every task is taken: close the job, then wait for the workers still in it. */
  uint64_t w = __atomic_fetch_or(&pool.job, JOB_CLOSED, __ATOMIC_ACQ_REL);
  if (JOB_WORKERS(w) && !spin_until(no_workers, 0)) {
    pthread_mutex_lock(&pool.mu);
    while (JOB_WORKERS(job_word()))
      pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
  }
}

/* minsize: LLVM would otherwise clone it per call site (function specialisation). */
__attribute__((noinline, minsize)) void gradc_rt_parallel_for(int64_t tasks, int32_t max_workers,
                                                              gradc_rt_task fn, void *ctx) {
  if (tasks <= 1 || max_workers <= 1 || __atomic_load_n(&pool.wanted, __ATOMIC_RELAXED) == 1) {
    run_serially(tasks, fn, ctx);
    return;
  }
  /* Another thread's job holds the pool (two model instances called at once): this
   * one runs on its own thread rather than wait. */
  if (pthread_mutex_trylock(&pool.busy) != 0) {
    run_serially(tasks, fn, ctx);
    return;
  }
  start_workers();
  int64_t p = pool.started + 1;
  p = p < max_workers ? p : max_workers;
  p = p < tasks ? p : tasks;
  if (p > 1)
    run_job(tasks, (int32_t)p, fn, ctx);
  pthread_mutex_unlock(&pool.busy);
  if (p <= 1)
    run_serially(tasks, fn, ctx);
}

void gradc_rt_set_threads(int32_t n) {
  n = n < 0 ? 0 : n > GRADC_RT_MAX_THREADS ? GRADC_RT_MAX_THREADS : n;
  pthread_mutex_lock(&pool.busy); /* waits for a running job */
  stop_workers();
  __atomic_store_n(&pool.wanted, n, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&pool.busy);
}

#endif
