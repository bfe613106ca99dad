/* The CPU thread pool used by large kernels.
 *
 * mlx_parallel_for_ splits [0, n) into one contiguous range per thread;
 * the calling thread runs the first range itself and waits for the rest.
 * One parallel region runs at a time; a region requested while another is
 * running (or from inside a worker) runs inline on the caller. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 256

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int nthreads = 1; /* including the caller */
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static uint64_t generation;
static int pending;
static mlx_range_fn_ job_fn;
static void* job_ctx;
static int64_t job_n;
static int job_parts;
static _Thread_local int in_worker;

static void range_of(int part, int parts, int64_t n, int64_t* b, int64_t* e) {
  *b = n * part / parts;
  *e = n * (part + 1) / parts;
}

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  uint64_t seen = 0;
  in_worker = 1;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (generation == seen) pthread_cond_wait(&work_cv, &lock);
    seen = generation;
    int parts = job_parts;
    mlx_range_fn_ fn = job_fn;
    void* ctx = job_ctx;
    int64_t n = job_n;
    pthread_mutex_unlock(&lock);
    if (id < parts) {
      int64_t b, e;
      range_of(id, parts, n, &b, &e);
      if (b < e) fn(ctx, b, e);
      pthread_mutex_lock(&lock);
      if (--pending == 0) pthread_cond_signal(&done_cv);
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
  pthread_mutex_lock(&lock);
  job_fn = fn;
  job_ctx = ctx;
  job_n = n;
  job_parts = parts;
  pending = parts - 1;
  generation++;
  pthread_cond_broadcast(&work_cv);
  pthread_mutex_unlock(&lock);
  int64_t b, e;
  range_of(0, parts, n, &b, &e);
  in_worker = 1;
  fn(ctx, b, e);
  in_worker = 0;
  pthread_mutex_lock(&lock);
  while (pending > 0) pthread_cond_wait(&done_cv, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&region_lock);
}
