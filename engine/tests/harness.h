/* A minimal test harness for the engine's C tests.
 *
 *   TEST(name) { ... CHECK(cond); CHECK_OK(mlx_add(&c, a, b, S)); ... }
 *   int main(void) { RUN(name); ...; return harness_report(); }
 *
 * Failures print file:line and the engine's last error, and the run goes
 * on; harness_report() returns non-zero if anything failed. */
#ifndef MLX_TEST_HARNESS_H
#define MLX_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlx/mlx.h"

static int harness_failures, harness_checks, harness_tests;

#define S MLX_DEFAULT_STREAM
#define TEST(name) static void test_##name(void)
#define RUN(name)                \
  do {                           \
    harness_tests++;             \
    test_##name();               \
  } while (0)

#define CHECK(cond)                                                           \
  do {                                                                        \
    harness_checks++;                                                         \
    if (!(cond)) {                                                            \
      harness_failures++;                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                         \
  } while (0)

#define CHECK_OK(expr)                                                                            \
  do {                                                                                            \
    harness_checks++;                                                                             \
    int harness_rc_ = (expr);                                                                     \
    if (harness_rc_ != 0) {                                                                       \
      harness_failures++;                                                                         \
      fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #expr, harness_rc_, mlx_last_error()); \
    }                                                                                             \
  } while (0)

/* Expects the call to fail with the given code. */
#define CHECK_ERR(expr, code)                                                                        \
  do {                                                                                               \
    harness_checks++;                                                                                \
    int harness_rc_ = (expr);                                                                        \
    if (harness_rc_ != (code)) {                                                                     \
      harness_failures++;                                                                            \
      fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n", __FILE__, __LINE__, #expr, harness_rc_, \
              (int)(code), mlx_last_error());                                                         \
    }                                                                                                \
  } while (0)

static inline int harness_report(void) {
  printf("%d tests, %d checks, %d failures\n", harness_tests, harness_checks, harness_failures);
  return harness_failures ? 1 : 0;
}

/* A float32 array from values. */
static inline mlx_array arr_f32(const float* v, const int64_t* shape, int ndim) {
  mlx_array a = mlx_array_new();
  if (mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT32)) fprintf(stderr, "arr_f32: %s\n", mlx_last_error());
  return a;
}

/* Reads an array as doubles (row-major) into out (capacity n); returns the
 * element count or -1 on error. */
static inline int64_t read_f64(double* out, int64_t n, mlx_array a) {
  mlx_array d = mlx_array_new();
  if (mlx_astype(&d, a, MLX_FLOAT64, S)) return -1;
  int64_t size = mlx_array_size(d);
  if (size > n || mlx_array_copy_to(out, (size_t)size * 8, d)) {
    mlx_array_free(d);
    return -1;
  }
  mlx_array_free(d);
  return size;
}

/* Checks that a has the expected values (as doubles) within tol. */
#define CHECK_VALUES(a, expected, n, tol)                                                   \
  do {                                                                                      \
    double got_[(n) > 0 ? (n) : 1];                                                         \
    int64_t cnt_ = read_f64(got_, (n), (a));                                                \
    harness_checks++;                                                                       \
    if (cnt_ != (n)) {                                                                      \
      harness_failures++;                                                                   \
      fprintf(stderr, "%s:%d: expected %d values, got %lld (%s)\n", __FILE__, __LINE__, (int)(n), \
              (long long)cnt_, mlx_last_error());                                           \
    } else {                                                                                \
      for (int i_ = 0; i_ < (n); i_++) {                                                    \
        double e_ = (expected)[i_];                                                         \
        if (!(fabs(got_[i_] - e_) <= (tol) * (1 + fabs(e_))) && !(isnan(e_) && isnan(got_[i_])) && \
            !(isinf(e_) && e_ == got_[i_])) {                                               \
          harness_failures++;                                                               \
          fprintf(stderr, "%s:%d: element %d: got %.9g expected %.9g\n", __FILE__, __LINE__, i_, got_[i_], e_); \
          break;                                                                            \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  } while (0)

#endif
