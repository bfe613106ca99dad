/* MLX_PROFILE=1: time spent in each primitive's kernel, printed to stderr
 * at exit, most expensive first (calls, total ms, share, us per call).
 * Evaluation holds the global eval lock while kernels run, so the table
 * has one writer at a time. GPU kernels are timed as enqueued (the host's
 * cost); MLX_PROFILE=sync waits for each GPU kernel to finish, so the
 * table shows their device time too (and the GPU no longer runs ahead).
 * MLX_PROFILE_SKIP=n leaves the first n kernel runs out (a warmup's
 * first calls load libraries and make plans). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define SLOTS 1024

typedef struct {
  const mlx_prim_* prim;
  int64_t calls, ns;
} entry;

static entry table[SLOTS];
static int state; /* 0: unread, 1: on, 2: on with GPU waits, -1: off */
static long long skip; /* kernel runs still to leave out */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int by_time(const void* a, const void* b) {
  int64_t x = ((const entry*)a)->ns, y = ((const entry*)b)->ns;
  return (x < y) - (x > y);
}

static void report(void) {
  qsort(table, SLOTS, sizeof(entry), by_time);
  int64_t total = 0;
  for (int i = 0; i < SLOTS; i++) total += table[i].ns;
  fprintf(stderr, "MLX_PROFILE: %.3f ms in kernels\n%-28s %10s %12s %7s %12s\n", total * 1e-6, "primitive",
          "calls", "total ms", "share", "us/call");
  for (int i = 0; i < SLOTS && table[i].prim; i++)
    fprintf(stderr, "%-28s %10lld %12.3f %6.1f%% %12.2f\n", table[i].prim->name, (long long)table[i].calls,
            table[i].ns * 1e-6, total ? 100.0 * table[i].ns / total : 0.0, table[i].ns * 1e-3 / table[i].calls);
}

/* Whether MLX_PROFILE is set (read once). */
int mlx_profile_on_(void) {
  if (state == 0) {
    const char* e = getenv("MLX_PROFILE");
    state = e && *e && *e != '0' ? (strcmp(e, "sync") == 0 ? 2 : 1) : -1;
    if (state > 0) atexit(report);
    const char* k = getenv("MLX_PROFILE_SKIP");
    skip = k ? atoll(k) : 0;
  }
  return state > 0;
}

/* Adds dt ns to prim's row (unless still skipping). */
static void record(const mlx_prim_* prim, int64_t dt) {
  if (skip > 0) {
    skip--;
    return;
  }
  size_t h = ((uintptr_t)prim >> 4) % SLOTS;
  for (int probe = 0; probe < SLOTS; probe++, h = (h + 1) % SLOTS) {
    if (table[h].prim == prim || !table[h].prim) {
      table[h].prim = prim;
      table[h].calls++;
      table[h].ns += dt;
      break;
    }
  }
}

/* Runs kernel k for op and adds its time to the primitive's row. */
int mlx_profile_run_(const mlx_prim_* prim, mlx_kernel_fn_ k, mlx_node_** outs, int nout, mlx_node_** ins, int nin,
                     const void* params) {
  int64_t t0 = now_ns();
  int rc = k(outs, nout, ins, nin, params);
#ifdef MLX_HAVE_CUDA
  if (state == 2 && !rc && nout > 0 && outs[0]->stream.device.type == MLX_GPU)
    rc = mlx_cuda_synchronize_(outs[0]->stream.index, outs[0]->stream.device.index);
#endif
  record(prim, now_ns() - t0);
  return rc;
}

int64_t mlx_profile_now_(void) {
  return now_ns();
}

void mlx_profile_add_(const mlx_prim_* prim, int64_t t0, mlx_stream s) {
#ifdef MLX_HAVE_CUDA
  if (state == 2 && s.device.type == MLX_GPU) mlx_cuda_synchronize_(s.index, s.device.index);
#else
  (void)s;
#endif
  record(prim, now_ns() - t0);
}
