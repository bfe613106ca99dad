/* The CPU thread pool used by large kernels.
 *
 * mlx_parallel_for_ splits [0, n) into one contiguous range per thread;
 * the calling thread runs the first range itself and waits for the rest.
 * One parallel region runs at a time; a region requested while another is
 * running (or from inside a worker) runs inline on the caller.
 *
 * Waking a sleeping thread through a condition variable takes tens of
 * microseconds, as long as a whole small kernel: an RNN step's 8 x 512 x
 * 512 product is about 30 us on two threads. So a worker that finishes a
 * range keeps polling for the next region for SPIN_NS before it sleeps,
 * and the caller polls for the workers' completion the same way, yielding
 * the core between polls so that other runnable threads (OpenBLAS's, the
 * Ruby VM's) are not held up. Regions and completions are published
 * through atomics; the mutex and condition variables only serve sleepers. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 256
#define SPIN_NS 200000 /* 0.2 ms of polling before sleeping */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int nthreads = 1; /* including the caller */
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
/* The current region as (generation << 16) | parts, published (release)
 * once job_fn, job_ctx and job_n are set: a worker reads the generation
 * and the number of parts in one load, so one that is not part of a
 * region never mistakes the next region's parts for its own. Only the
 * participants read the job, which stays put until they are done. */
static _Atomic uint64_t region;
static _Atomic int pending; /* workers still running the current region */
static mlx_range_fn_ job_fn;
static void* job_ctx;
static int64_t job_n;
static _Thread_local int in_worker;

static void range_of(int part, int parts, int64_t n, int64_t* b, int64_t* e) {
  *b = n * part / parts;
  *e = n * (part + 1) / parts;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Polls until the region's generation differs from that of seen, for at
 * most SPIN_NS, then sleeps on work_cv. Returns the new region. */
static uint64_t wait_for_region(uint64_t seen) {
  int64_t deadline = now_ns() + SPIN_NS;
  for (;;) {
    uint64_t r = atomic_load_explicit(&region, memory_order_acquire);
    if (r >> 16 != seen >> 16) return r;
    if (now_ns() > deadline) break;
    sched_yield();
  }
  pthread_mutex_lock(&lock);
  uint64_t r;
  while ((r = atomic_load_explicit(&region, memory_order_acquire)) >> 16 == seen >> 16)
    pthread_cond_wait(&work_cv, &lock);
  pthread_mutex_unlock(&lock);
  return r;
}

/* The caller's wait for the workers of its region: polls, then sleeps on
 * done_cv. */
static void wait_for_workers(void) {
  int64_t deadline = now_ns() + SPIN_NS;
  for (;;) {
    if (atomic_load_explicit(&pending, memory_order_acquire) == 0) return;
    if (now_ns() > deadline) break;
    sched_yield();
  }
  pthread_mutex_lock(&lock);
  while (atomic_load_explicit(&pending, memory_order_acquire) > 0) pthread_cond_wait(&done_cv, &lock);
  pthread_mutex_unlock(&lock);
}

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  uint64_t seen = 0;
  in_worker = 1;
  for (;;) {
    seen = wait_for_region(seen);
    int parts = (int)(seen & 0xffff);
    if (id >= parts) continue;
    int64_t b, e;
    range_of(id, parts, job_n, &b, &e);
    if (b < e) job_fn(job_ctx, b, e);
    if (atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&lock);
      pthread_cond_signal(&done_cv);
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

static void start_pool(void) {
  const char* env = getenv("MLX_NUM_THREADS");
  long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  int started = 1;
  for (long i = 1; i < n; i++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker, (void*)(intptr_t)i) == 0) started++;
    pthread_attr_destroy(&attr);
  }
  nthreads = started;
}

int mlx_cpu_thread_count(void) {
  pthread_once(&once, start_pool);
  return nthreads;
}

void mlx_parallel_for_(int64_t n, int64_t grain, mlx_range_fn_ fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  pthread_once(&once, start_pool);
  int64_t parts64 = n / grain;
  int parts = parts64 < nthreads ? (int)parts64 : nthreads;
  if (parts <= 1 || in_worker || pthread_mutex_trylock(&region_lock) != 0) {
    fn(ctx, 0, n);
    return;
  }
  job_fn = fn;
  job_ctx = ctx;
  job_n = n;
  atomic_store_explicit(&pending, parts - 1, memory_order_relaxed);
  uint64_t next = ((atomic_load_explicit(&region, memory_order_relaxed) >> 16) + 1) << 16 | (uint64_t)parts;
  atomic_store_explicit(&region, next, memory_order_release);
  pthread_mutex_lock(&lock);
  pthread_cond_broadcast(&work_cv);
  pthread_mutex_unlock(&lock);
  int64_t b, e;
  range_of(0, parts, n, &b, &e);
  in_worker = 1;
  fn(ctx, b, e);
  in_worker = 0;
  wait_for_workers();
  pthread_mutex_unlock(&region_lock);
}
