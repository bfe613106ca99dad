/* Per-op overhead of the engine, in C (no Ruby): the time to record a graph
 * node and the time to run it during evaluation, on tiny arrays where the
 * kernel itself costs next to nothing.
 *   make -C engine bench && engine/build/bench_overhead */
#include <stdio.h>
#include <time.h>

#include "mlx/mlx.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
  const int chain = 100000, rounds = 5;
  float v[4] = {1, 2, 3, 4};
  int64_t shape[1] = {4};
  mlx_array x = mlx_array_new(), one = mlx_array_new();
  if (mlx_array_new_data(&x, v, shape, 1, MLX_FLOAT32) || mlx_array_new_float(&one, 1e-6, MLX_FLOAT32)) {
    fprintf(stderr, "%s\n", mlx_last_error());
    return 1;
  }
  double best_build = 1e9, best_eval = 1e9;
  for (int r = 0; r < rounds; r++) {
    mlx_array y = mlx_array_new();
    mlx_array_set(&y, x);
    double t0 = now();
    for (int i = 0; i < chain; i++) {
      if (mlx_add(&y, y, one, MLX_DEFAULT_STREAM)) {
        fprintf(stderr, "%s\n", mlx_last_error());
        return 1;
      }
    }
    double t1 = now();
    if (mlx_eval(&y, 1)) {
      fprintf(stderr, "%s\n", mlx_last_error());
      return 1;
    }
    double t2 = now();
    mlx_array_free(y);
    if (t1 - t0 < best_build) best_build = t1 - t0;
    if (t2 - t1 < best_eval) best_eval = t2 - t1;
  }
  printf("per-op overhead over a chain of %d adds on float32[4] (best of %d):\n", chain, rounds);
  printf("  record a node : %7.1f ns\n", best_build / chain * 1e9);
  printf("  evaluate it   : %7.1f ns\n", best_eval / chain * 1e9);
  mlx_array_free(x);
  mlx_array_free(one);
  return 0;
}
