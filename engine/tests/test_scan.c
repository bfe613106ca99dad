/* Tests of the scans: cumsum, cumprod, cummax, cummin, logcumsumexp.
 * Expected values are hand-computed or, where marked, printed once by
 * Python MLX 0.32. */
#include "harness.h"
#include "mlx/sort.h"

static mlx_array arr(const double* v, const int64_t* shape, int ndim, mlx_dtype dt) {
  mlx_array f = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_data(&f, v, shape, ndim, MLX_FLOAT64);
  mlx_astype(&r, f, dt, S);
  mlx_array_free(f);
  return r;
}

static int close_to(mlx_array a, const double* want, int64_t n, double tol) {
  double got[512];
  if (read_f64(got, 512, a) != n) return 0;
  for (int64_t i = 0; i < n; i++) {
    int ok = isnan(want[i]) ? isnan(got[i]) : isinf(want[i]) ? got[i] == want[i] : fabs(got[i] - want[i]) <= tol;
    if (!ok) {
      fprintf(stderr, "  element %lld: got %.9g, want %.9g\n", (long long)i, got[i], want[i]);
      return 0;
    }
  }
  return 1;
}

typedef int (*scan_op)(mlx_array*, const mlx_array, int, int, int, const mlx_stream);

TEST(directions) {
  double v[] = {1, 2, 3, 4};
  int64_t sh[] = {4};
  mlx_array a = arr(v, sh, 1, MLX_FLOAT32), r = mlx_array_new();
  struct {
    scan_op op;
    int rev, inc;
    double want[4];
  } cases[] = {
      {mlx_cumsum, 0, 1, {1, 3, 6, 10}},    {mlx_cumsum, 0, 0, {0, 1, 3, 6}},
      {mlx_cumsum, 1, 1, {10, 9, 7, 4}},    {mlx_cumsum, 1, 0, {9, 7, 4, 0}},
      {mlx_cumprod, 0, 1, {1, 2, 6, 24}},   {mlx_cumprod, 1, 0, {24, 12, 4, 1}},
      {mlx_cummax, 0, 0, {-INFINITY, 1, 2, 3}}, {mlx_cummin, 1, 0, {2, 3, 4, INFINITY}},
      {mlx_cummin, 0, 1, {1, 1, 1, 1}},     {mlx_cummax, 1, 1, {4, 4, 4, 4}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_OK(cases[i].op(&r, a, 0, cases[i].rev, cases[i].inc, S));
    CHECK(close_to(r, cases[i].want, 4, 0));
  }
  /* logcumsumexp (Python MLX: [1, 2.31326, 3.40761]) */
  CHECK_OK(mlx_logcumsumexp(&r, a, 0, 0, 1, S));
  double wl[] = {1, 2.3132617, 3.4076059, 4.4401897};
  CHECK(close_to(r, wl, 4, 1e-5));
  CHECK_OK(mlx_logcumsumexp(&r, a, -1, 0, 0, S));
  double wl0[] = {-INFINITY, 1, 2.3132617, 3.4076059};
  CHECK(close_to(r, wl0, 4, 1e-5));
  mlx_array_free(a), mlx_array_free(r);
}

TEST(dtypes) {
  /* int8 wraps (Python MLX: [100, -56, 44, -84]) */
  double v8[] = {100, 100, 100, -128};
  int64_t s4[] = {4};
  mlx_array a = arr(v8, s4, 1, MLX_INT8), r = mlx_array_new();
  CHECK_OK(mlx_cumsum(&r, a, 0, 0, 1, S));
  double w8[] = {100, -56, 44, -84};
  CHECK(close_to(r, w8, 4, 0) && mlx_array_dtype(r) == MLX_INT8);
  /* exclusive starts: the dtype's lowest / highest */
  CHECK_OK(mlx_cummax(&r, a, 0, 0, 0, S));
  double wmax[] = {-128, 100, 100, 100};
  CHECK(close_to(r, wmax, 4, 0));
  mlx_array u = arr(v8 + 0, s4, 1, MLX_UINT8);
  CHECK_OK(mlx_cummin(&r, u, 0, 0, 0, S));
  double wmin[] = {255, 100, 100, 100};
  CHECK(close_to(r, wmin, 4, 0) && mlx_array_dtype(r) == MLX_UINT8);
  /* bool: cumsum counts in int32, cumprod is and, cummax or */
  double vb[] = {1, 1, 0, 1};
  mlx_array b = arr(vb, s4, 1, MLX_BOOL);
  CHECK_OK(mlx_cumsum(&r, b, 0, 0, 0, S));
  double wb[] = {0, 1, 2, 2};
  CHECK(close_to(r, wb, 4, 0) && mlx_array_dtype(r) == MLX_INT32);
  CHECK_OK(mlx_cumprod(&r, b, 0, 0, 1, S));
  double wp[] = {1, 1, 0, 0};
  CHECK(close_to(r, wp, 4, 0) && mlx_array_dtype(r) == MLX_BOOL);
  CHECK_OK(mlx_cummax(&r, b, 0, 1, 0, S));
  double wm[] = {1, 1, 1, 0};
  CHECK(close_to(r, wm, 4, 0));
  /* integer logcumsumexp is float32 */
  CHECK_OK(mlx_logcumsumexp(&r, a, 0, 0, 1, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  /* every dtype keeps its own for cumsum (bool aside) */
  const mlx_dtype all[] = {MLX_UINT8, MLX_UINT16, MLX_UINT32, MLX_UINT64, MLX_INT8,    MLX_INT16,
                           MLX_INT32, MLX_INT64,  MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT32, MLX_FLOAT64,
                           MLX_COMPLEX64};
  double v[] = {1, 2, 3, 4};
  for (size_t d = 0; d < sizeof all / sizeof all[0]; d++) {
    mlx_array x = arr(v, s4, 1, all[d]);
    double w1[] = {1, 3, 6, 10}, w2[] = {4, 4, 4, 4}, w3[] = {1, 2, 6, 24};
    CHECK_OK(mlx_cumsum(&r, x, 0, 0, 1, S));
    CHECK(close_to(r, w1, 4, 0) && mlx_array_dtype(r) == all[d]);
    CHECK_OK(mlx_cummax(&r, x, 0, 1, 1, S));
    CHECK(close_to(r, w2, 4, 0));
    CHECK_OK(mlx_cumprod(&r, x, 0, 0, 1, S));
    CHECK(close_to(r, w3, 4, 0));
    mlx_array_free(x);
  }
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(u), mlx_array_free(b);
}

TEST(specials) {
  /* NaN propagates through max/min (Python MLX: [1, nan, nan, nan, nan]) */
  double v[] = {1, NAN, 3, 0.5, 5};
  int64_t s5[] = {5};
  mlx_array a = arr(v, s5, 1, MLX_FLOAT32), r = mlx_array_new();
  CHECK_OK(mlx_cummax(&r, a, 0, 0, 1, S));
  double w1[] = {1, NAN, NAN, NAN, NAN};
  CHECK(close_to(r, w1, 5, 0));
  CHECK_OK(mlx_cummin(&r, a, 0, 1, 0, S));
  double w2[] = {NAN, 0.5, 0.5, 5, INFINITY};
  CHECK(close_to(r, w2, 5, 0));
  /* -0.0 stays -0.0 at an inclusive start */
  double z[] = {-0.0, 1};
  int64_t s2[] = {2};
  mlx_array zz = arr(z, s2, 1, MLX_FLOAT32);
  CHECK_OK(mlx_cumsum(&r, zz, 0, 0, 1, S));
  double got[2];
  read_f64(got, 2, r);
  CHECK(signbit(got[0]));
  /* infinities (Python MLX: [-inf, -inf, inf, inf]) */
  double iv[] = {-INFINITY, -INFINITY, INFINITY, 1};
  int64_t s4[] = {4};
  mlx_array inf = arr(iv, s4, 1, MLX_FLOAT32);
  CHECK_OK(mlx_logcumsumexp(&r, inf, 0, 0, 1, S));
  double w3[] = {-INFINITY, -INFINITY, INFINITY, INFINITY};
  CHECK(close_to(r, w3, 4, 0));
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(zz), mlx_array_free(inf);
}

TEST(complex) {
  float v[] = {1, 2, 3, -1, 3, -2};
  int64_t s3[] = {3};
  mlx_array a = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, s3, 1, MLX_COMPLEX64));
  float got[6];
  /* Python MLX: cumsum [1+2j, 4+1j, 7-1j], cumprod [1+2j, 5+5j, 25+5j],
   * cummax [1+2j, 3-1j, 3-1j], logcumsumexp[1] = 2.85639-0.97795j */
  CHECK_OK(mlx_cumsum(&r, a, 0, 0, 1, S));
  CHECK_OK(mlx_array_copy_to(got, sizeof got, r));
  CHECK(got[2] == 4 && got[3] == 1 && got[4] == 7 && got[5] == -1);
  CHECK_OK(mlx_cumprod(&r, a, 0, 0, 1, S));
  CHECK_OK(mlx_array_copy_to(got, sizeof got, r));
  CHECK(got[2] == 5 && got[3] == 5 && got[4] == 25 && got[5] == 5);
  CHECK_OK(mlx_cummax(&r, a, 0, 0, 1, S));
  CHECK_OK(mlx_array_copy_to(got, sizeof got, r));
  CHECK(got[4] == 3 && got[5] == -1);
  CHECK_OK(mlx_cummin(&r, a, 0, 0, 0, S));
  CHECK_OK(mlx_array_copy_to(got, sizeof got, r));
  CHECK(isinf(got[0]) && got[0] > 0 && isinf(got[1]) && got[1] > 0);
  CHECK_OK(mlx_logcumsumexp(&r, a, 0, 0, 1, S));
  CHECK_OK(mlx_array_copy_to(got, sizeof got, r));
  CHECK(fabsf(got[2] - 2.85639f) < 1e-4f && fabsf(got[3] + 0.97795f) < 1e-4f);
  mlx_array_free(a), mlx_array_free(r);
}

TEST(axes_and_views) {
  double v[] = {1, 2, 3, 4, 5, 6};
  int64_t sh[] = {2, 3};
  mlx_array a = arr(v, sh, 2, MLX_INT32), t = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_cumsum(&r, a, 0, 0, 1, S));
  double w0[] = {1, 2, 3, 5, 7, 9};
  CHECK(close_to(r, w0, 6, 0));
  CHECK_OK(mlx_cumsum(&r, a, -1, 1, 0, S));
  double w1[] = {5, 3, 0, 11, 6, 0};
  CHECK(close_to(r, w1, 6, 0));
  /* transposed (3, 2): [[1, 4], [2, 5], [3, 6]] */
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
  CHECK_OK(mlx_cumsum(&r, t, 0, 0, 1, S));
  double w2[] = {1, 4, 3, 9, 6, 15};
  CHECK(close_to(r, w2, 6, 0));
  CHECK_OK(mlx_cumprod(&r, t, 1, 0, 1, S));
  double w3[] = {1, 4, 2, 10, 3, 18};
  CHECK(close_to(r, w3, 6, 0));
  /* broadcast row */
  double row[] = {2, 1, 3};
  int64_t rs[] = {3}, bs[] = {2, 3};
  mlx_array rw = arr(row, rs, 1, MLX_FLOAT32), b = mlx_array_new();
  CHECK_OK(mlx_broadcast_to(&b, rw, bs, 2, S));
  CHECK_OK(mlx_cummax(&r, b, 1, 0, 1, S));
  double w4[] = {2, 2, 3, 2, 2, 3};
  CHECK(close_to(r, w4, 6, 0));
  CHECK_OK(mlx_cumsum(&r, b, 0, 0, 1, S));
  double w5[] = {2, 1, 3, 4, 2, 6};
  CHECK(close_to(r, w5, 6, 0));
  mlx_array_free(a), mlx_array_free(t), mlx_array_free(r), mlx_array_free(rw), mlx_array_free(b);
}

TEST(large) {
  /* rows (parallel over rows) and long columns (blocked inner loop) */
  int64_t sh[] = {3, 70000}, sh2[] = {300, 2000};
  mlx_array o = mlx_array_new(), r = mlx_array_new(), o2 = mlx_array_new(), last = mlx_array_new();
  CHECK_OK(mlx_ones(&o, sh, 2, MLX_INT32, S));
  CHECK_OK(mlx_cumsum(&r, o, 1, 0, 1, S));
  int64_t st[] = {0, 69999}, sp[] = {3, 70000}, sd[] = {1, 1};
  CHECK_OK(mlx_slice(&last, r, st, sp, sd, 2, S));
  double w[] = {70000, 70000, 70000};
  CHECK(close_to(last, w, 3, 0));
  CHECK_OK(mlx_ones(&o2, sh2, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_cumsum(&r, o2, 0, 1, 0, S));
  int64_t st2[] = {0, 0}, sp2[] = {1, 3}, sd2[] = {1, 1};
  CHECK_OK(mlx_slice(&last, r, st2, sp2, sd2, 2, S));
  double w2[] = {299, 299, 299};
  CHECK(close_to(last, w2, 3, 0));
  mlx_array_free(o), mlx_array_free(r), mlx_array_free(o2), mlx_array_free(last);
}

TEST(errors_and_empty) {
  int64_t sh[] = {2, 3};
  mlx_array a = mlx_array_new(), r = mlx_array_new(), s0 = mlx_array_new(), e = mlx_array_new();
  CHECK_OK(mlx_zeros(&a, sh, 2, MLX_FLOAT32, S));
  CHECK_ERR(mlx_cumsum(&r, a, 2, 0, 1, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_cummax(&r, a, -3, 0, 1, S), MLX_ERROR_INDEX);
  CHECK_OK(mlx_array_new_float(&s0, 1.5, MLX_FLOAT32));
  CHECK_ERR(mlx_cumprod(&r, s0, 0, 0, 1, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_logcumsumexp(&r, mlx_array_new(), 0, 0, 1, S), MLX_ERROR_ARGUMENT);
  int64_t es[] = {0, 3};
  CHECK_OK(mlx_zeros(&e, es, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_cumsum(&r, e, 0, 0, 1, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0 && mlx_array_dim(r, 1) == 3);
  CHECK_OK(mlx_logcumsumexp(&r, e, 1, 1, 0, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(s0), mlx_array_free(e);
}

int main(void) {
  RUN(directions);
  RUN(dtypes);
  RUN(specials);
  RUN(complex);
  RUN(axes_and_views);
  RUN(large);
  RUN(errors_and_empty);
  return harness_report();
}
