/* Tests of sort, argsort, partition, argpartition, topk, median and
 * searchsorted. Expected values are hand-computed or, where marked, printed
 * once by Python MLX 0.32 (whose partition order is libstdc++'s
 * nth_element, which ours replays). */
#include "harness.h"
#include "mlx/sort.h"

static mlx_array arr(const double* v, const int64_t* shape, int ndim, mlx_dtype dt) {
  mlx_array f = mlx_array_new(), r = mlx_array_new();
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  mlx_array_new_data(&f, v, shape, ndim, MLX_FLOAT64);
  mlx_astype(&r, f, dt, S);
  mlx_array_free(f);
  return r;
}

/* a's values (any dtype) equal want (n values), NaN matching NaN. */
static int values_are(mlx_array a, const double* want, int64_t n) {
  double got[256];
  if (read_f64(got, 256, a) != n) return 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(want[i]) ? !isnan(got[i]) : got[i] != want[i]) {
      fprintf(stderr, "  element %lld: got %g, want %g\n", (long long)i, got[i], want[i]);
      return 0;
    }
  }
  return 1;
}

static int signbit_at(mlx_array a, int64_t i) {
  double got[256];
  read_f64(got, 256, a);
  return signbit(got[i]) != 0;
}

static const mlx_dtype ALL[] = {MLX_BOOL,    MLX_UINT8,    MLX_UINT16,  MLX_UINT32,  MLX_UINT64,
                                MLX_INT8,    MLX_INT16,    MLX_INT32,   MLX_INT64,   MLX_FLOAT16,
                                MLX_BFLOAT16, MLX_FLOAT32, MLX_FLOAT64, MLX_COMPLEX64};

TEST(sort_nan_and_signed_zero) {
  const double nan = NAN;
  double v[] = {3, 1, nan, 2, -INFINITY, nan, 0, -0.0, 5};
  int64_t sh[] = {9};
  mlx_dtype fl[] = {MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT32, MLX_FLOAT64};
  for (int d = 0; d < 4; d++) {
    mlx_array a = arr(v, sh, 1, fl[d]), s = mlx_array_new(), i = mlx_array_new();
    CHECK_OK(mlx_sort(&s, a, 0, S));
    CHECK_OK(mlx_argsort(&i, a, -1, S));
    double ws[] = {-INFINITY, 0, 0, 1, 2, 3, 5, nan, nan};
    CHECK(values_are(s, ws, 9));
    /* stable: 0.0 (index 6) before -0.0 (index 7); NaNs last in index order
     * (Python MLX: argsort -> [4, 6, 7, 1, 3, 0, 8, 2, 5]) */
    double wi[] = {4, 6, 7, 1, 3, 0, 8, 2, 5};
    CHECK(values_are(i, wi, 9));
    CHECK(!signbit_at(s, 1) && signbit_at(s, 2));
    CHECK(mlx_array_dtype(i) == MLX_UINT32 && mlx_array_dtype(s) == fl[d]);
    mlx_array_free(a), mlx_array_free(s), mlx_array_free(i);
  }
}

TEST(sort_every_dtype) {
  double v[] = {3, 1, 2, 0, 1};
  int64_t sh[] = {5};
  for (size_t d = 0; d < sizeof ALL / sizeof ALL[0]; d++) {
    mlx_array a = arr(v, sh, 1, ALL[d]), s = mlx_array_new(), i = mlx_array_new();
    CHECK_OK(mlx_sort(&s, a, 0, S));
    CHECK_OK(mlx_argsort(&i, a, 0, S));
    if (ALL[d] == MLX_BOOL) {
      double ws[] = {0, 1, 1, 1, 1}, wi[] = {3, 0, 1, 2, 4};
      CHECK(values_are(s, ws, 5) && values_are(i, wi, 5));
    } else {
      double ws[] = {0, 1, 1, 2, 3}, wi[] = {3, 1, 4, 2, 0};
      CHECK(values_are(s, ws, 5) && values_are(i, wi, 5));
    }
    CHECK(mlx_array_dtype(s) == ALL[d]);
    mlx_array_free(a), mlx_array_free(s), mlx_array_free(i);
  }
  /* signed ints order negatives first; 64-bit extremes */
  int64_t big[] = {INT64_MAX, -5, INT64_MIN, 0};
  int64_t sh4[] = {4};
  mlx_array a = mlx_array_new(), s = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, big, sh4, 1, MLX_INT64));
  CHECK_OK(mlx_sort(&s, a, 0, S));
  int64_t got[4];
  CHECK_OK(mlx_array_copy_to(got, sizeof got, s));
  CHECK(got[0] == INT64_MIN && got[1] == -5 && got[2] == 0 && got[3] == INT64_MAX);
  mlx_array_free(a), mlx_array_free(s);
}

TEST(sort_complex) {
  float v[] = {1, 2, 1, 1, 0, 5, -1, 9};
  int64_t sh[] = {4};
  mlx_array a = mlx_array_new(), s = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, sh, 1, MLX_COMPLEX64));
  CHECK_OK(mlx_sort(&s, a, 0, S));
  float got[8];
  CHECK_OK(mlx_array_copy_to(got, sizeof got, s));
  /* by real part, then imaginary (Python MLX: [-1+9j, 5j, 1+1j, 1+2j]) */
  float want[] = {-1, 9, 0, 5, 1, 1, 1, 2};
  CHECK(memcmp(got, want, sizeof want) == 0);
  mlx_array_free(a), mlx_array_free(s);
}

TEST(sort_axes_and_views) {
  double v[] = {7, 2, 9, 4, 4, 0, 11, 3, 8, 1, 6, 5};
  int64_t sh[] = {3, 4};
  mlx_array m = arr(v, sh, 2, MLX_FLOAT32), t = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, m, NULL, 0, S));
  /* Python MLX: argsort(m.T, axis=1) and sort(m.T, axis=0) */
  CHECK_OK(mlx_argsort(&r, t, 1, S));
  double w1[] = {1, 0, 2, 1, 2, 0, 2, 0, 1, 1, 0, 2};
  CHECK(values_are(r, w1, 12));
  CHECK_OK(mlx_sort(&r, t, 0, S));
  double w2[] = {2, 0, 1, 4, 3, 5, 7, 4, 6, 9, 11, 8};
  CHECK(values_are(r, w2, 12));
  CHECK_OK(mlx_sort_all(&r, m, S));
  double w3[] = {0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 11};
  CHECK(values_are(r, w3, 12));
  CHECK(mlx_array_ndim(r) == 1);
  /* a broadcast row (stride 0 across rows) */
  double row[] = {2, 1, 3};
  int64_t rs[] = {3}, bs[] = {2, 3};
  mlx_array rw = arr(row, rs, 1, MLX_INT32), b = mlx_array_new();
  CHECK_OK(mlx_broadcast_to(&b, rw, bs, 2, S));
  CHECK_OK(mlx_argsort(&r, b, 1, S));
  double w4[] = {1, 0, 2, 1, 0, 2};
  CHECK(values_are(r, w4, 6));
  CHECK_OK(mlx_sort(&r, b, 0, S));
  double w5[] = {2, 1, 3, 2, 1, 3};
  CHECK(values_are(r, w5, 6));
  /* a sliced (strided) column */
  int64_t st[] = {0, 1}, sp[] = {3, 4}, sd[] = {1, 2};
  mlx_array sl = mlx_array_new();
  CHECK_OK(mlx_slice(&sl, m, st, sp, sd, 2, S));
  CHECK_OK(mlx_sort(&r, sl, 0, S));
  double w6[] = {0, 3, 1, 4, 2, 5};
  CHECK(values_are(r, w6, 6));
  mlx_array_free(m), mlx_array_free(t), mlx_array_free(r), mlx_array_free(rw), mlx_array_free(b);
  mlx_array_free(sl);
}

TEST(long_rows) {
  /* radix passes and many threads: a reversed ramp of 100000 int32 with
   * repeats, sorted and argsorted (stable) */
  int64_t n = 100000;
  int32_t* v = malloc(sizeof(int32_t) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = (int32_t)((n - 1 - i) / 2) - 1000;
  mlx_array a = mlx_array_new(), s = mlx_array_new(), idx = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, &n, 1, MLX_INT32));
  CHECK_OK(mlx_sort(&s, a, 0, S));
  CHECK_OK(mlx_argsort(&idx, a, 0, S));
  int32_t* got = malloc(sizeof(int32_t) * (size_t)n);
  uint32_t* gi = malloc(sizeof(uint32_t) * (size_t)n);
  CHECK_OK(mlx_array_copy_to(got, sizeof(int32_t) * (size_t)n, s));
  CHECK_OK(mlx_array_copy_to(gi, sizeof(uint32_t) * (size_t)n, idx));
  int ok = 1;
  for (int64_t i = 0; i < n; i++) {
    if (got[i] != (int32_t)(i / 2) - 1000) ok = 0;
    /* equal pairs (n-1-2k, n-2-2k) come out in index order */
    int64_t k = i / 2;
    int64_t want = i % 2 ? n - 1 - 2 * k : n - 2 - 2 * k;
    if (gi[i] != (uint32_t)want) ok = 0;
  }
  CHECK(ok);
  free(v), free(got), free(gi);
  mlx_array_free(a), mlx_array_free(s), mlx_array_free(idx);
}

/* A single long row (sorted in parallel chunks, then merged) against the
 * same values as two rows (each sorted whole by one thread): identical
 * values, bits and indices. */
TEST(long_single_row) {
  int64_t n = 300000;
  float* v = malloc(sizeof(float) * (size_t)n * 2);
  float* vi = malloc(sizeof(float) * (size_t)n * 2); /* no NaN: for ints */
  unsigned seed = 9;
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    float x = (float)((seed >> 8) % 1000) - 500.0f; /* many ties */
    vi[i] = vi[n + i] = x;
    if (i % 97 == 0) x = NAN;
    if (i % 89 == 0) x = -0.0f;
    v[i] = v[n + i] = x;
  }
  mlx_dtype dts[] = {MLX_FLOAT32, MLX_INT16, MLX_BFLOAT16};
  for (int d = 0; d < 3; d++) {
    int64_t s1 = n, s2[] = {2, n};
    mlx_array a1 = mlx_array_new(), a2 = mlx_array_new(), b1 = mlx_array_new(), b2 = mlx_array_new();
    const float* src = dts[d] == MLX_INT16 ? vi : v;
    CHECK_OK(mlx_array_new_data(&a1, src, &s1, 1, MLX_FLOAT32));
    CHECK_OK(mlx_array_new_data(&a2, src, s2, 2, MLX_FLOAT32));
    CHECK_OK(mlx_astype(&b1, a1, dts[d], S));
    CHECK_OK(mlx_astype(&b2, a2, dts[d], S));
    for (int arg = 0; arg < 2; arg++) {
      mlx_array r1 = mlx_array_new(), r2 = mlx_array_new(), c1 = mlx_array_new(), c2 = mlx_array_new();
      CHECK_OK(arg ? mlx_argsort(&r1, b1, 0, S) : mlx_sort(&r1, b1, 0, S));
      CHECK_OK(arg ? mlx_argsort(&r2, b2, 1, S) : mlx_sort(&r2, b2, 1, S));
      /* compare bits: as uint32 indices or the raw element bytes */
      size_t isz = arg ? 4 : mlx_dtype_size(dts[d]);
      char* g1 = malloc(isz * (size_t)n);
      char* g2 = malloc(isz * (size_t)n * 2);
      CHECK_OK(mlx_array_copy_to(g1, isz * (size_t)n, r1));
      CHECK_OK(mlx_array_copy_to(g2, isz * (size_t)n * 2, r2));
      CHECK(memcmp(g1, g2, isz * (size_t)n) == 0);
      CHECK(memcmp(g1, g2 + isz * (size_t)n, isz * (size_t)n) == 0);
      free(g1), free(g2);
      mlx_array_free(r1), mlx_array_free(r2), mlx_array_free(c1), mlx_array_free(c2);
    }
    mlx_array_free(a1), mlx_array_free(a2), mlx_array_free(b1), mlx_array_free(b2);
  }
  free(v), free(vi);
}

TEST(partition_order_matches_upstream) {
  double v[] = {7, 2, 9, 4, 4, 0, 11, 3, 8, 1, 6, 5};
  int64_t sh[] = {12};
  mlx_array x = arr(v, sh, 1, MLX_FLOAT32), r = mlx_array_new();
  /* Python MLX 0.32 */
  CHECK_OK(mlx_partition(&r, x, 5, 0, S));
  double w1[] = {3, 2, 1, 0, 4, 4, 5, 11, 8, 9, 6, 7};
  CHECK(values_are(r, w1, 12));
  CHECK_OK(mlx_argpartition(&r, x, 5, 0, S));
  double w2[] = {7, 1, 9, 5, 3, 4, 11, 6, 8, 2, 10, 0};
  CHECK(values_are(r, w2, 12));
  CHECK_OK(mlx_argpartition(&r, x, -2, -1, S));
  double w3[] = {11, 1, 9, 3, 4, 5, 7, 8, 0, 10, 2, 6};
  CHECK(values_are(r, w3, 12));
  CHECK_OK(mlx_topk(&r, x, 3, 0, S));
  double w4[] = {8, 9, 11};
  CHECK(values_are(r, w4, 3));
  int64_t sh2[] = {3, 4};
  mlx_array m = arr(v, sh2, 2, MLX_FLOAT32);
  CHECK_OK(mlx_argpartition(&r, m, 1, 0, S));
  double w5[] = {1, 1, 2, 1, 0, 2, 0, 0, 2, 0, 1, 2};
  CHECK(values_are(r, w5, 12));
  CHECK_OK(mlx_topk(&r, m, 2, 0, S));
  double w6[] = {7, 1, 9, 4, 8, 2, 11, 5};
  CHECK(values_are(r, w6, 8));
  CHECK(mlx_array_dim(r, 0) == 2 && mlx_array_dim(r, 1) == 4);
  /* k == n returns the input itself, unpartitioned; k == 0 is empty */
  CHECK_OK(mlx_topk(&r, x, 12, 0, S));
  CHECK(values_are(r, v, 12));
  CHECK_OK(mlx_topk(&r, x, 0, 0, S));
  CHECK(mlx_array_size(r) == 0);
  mlx_array_free(x), mlx_array_free(r), mlx_array_free(m);

  /* many ties (introselect's depth and insertion steps), Python MLX 0.32 */
  int32_t y[] = {35, 14, 47, 38, 16, 9,  8,  36, 39, 27, 48, 30, 16, 7,  12, 15, 49, 39, 16, 27,
                 44, 13, 11, 1,  47, 30, 20, 22, 18, 9,  42, 41, 41, 1,  18, 39, 16, 14, 5,  0};
  int64_t n40 = 40;
  mlx_array yi = mlx_array_new(), p = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&yi, y, &n40, 1, MLX_INT32));
  CHECK_OK(mlx_argpartition(&p, yi, 17, 0, S));
  double wp[] = {1,  39, 38, 33, 29, 5,  6,  23, 22, 21, 14, 13, 18, 12, 37, 15, 4, 36, 28, 27,
                 26, 34, 9,  19, 11, 25, 24, 7,  8,  20, 30, 31, 32, 3,  17, 35, 16, 10, 2, 0};
  CHECK(values_are(p, wp, 40));
  CHECK_OK(mlx_partition(&p, yi, -5, 0, S));
  double wv[] = {14, 0,  5,  14, 1,  9,  8,  9,  1,  11, 13, 12, 7,  30, 16, 15, 16, 18, 16, 27,
                 16, 18, 27, 22, 20, 41, 35, 39, 38, 36, 39, 39, 30, 42, 41, 44, 47, 47, 48, 49};
  CHECK(values_are(p, wv, 40));
  mlx_array_free(yi), mlx_array_free(p);
}

TEST(median) {
  double v[] = {7, 2, 9, 4, 4, 0, 11, 3, 8, 1, 6, 5};
  int64_t sh[] = {3, 4};
  mlx_array m = arr(v, sh, 2, MLX_INT32), r = mlx_array_new();
  /* Python MLX: 4.5, axis 0 -> [7, 1, 9, 4], axis 1 -> [5.5, 3.5, 5.5] */
  CHECK_OK(mlx_median(&r, m, 0, S));
  double w1[] = {4.5};
  CHECK(values_are(r, w1, 1) && mlx_array_ndim(r) == 0 && mlx_array_dtype(r) == MLX_FLOAT32);
  int ax0 = 0, ax1 = -1, both[] = {1, 0};
  CHECK_OK(mlx_median_axes(&r, m, &ax0, 1, 0, S));
  double w2[] = {7, 1, 9, 4};
  CHECK(values_are(r, w2, 4));
  CHECK_OK(mlx_median_axes(&r, m, &ax1, 1, 1, S));
  double w3[] = {5.5, 3.5, 5.5};
  CHECK(values_are(r, w3, 3) && mlx_array_dim(r, 0) == 3 && mlx_array_dim(r, 1) == 1);
  CHECK_OK(mlx_median_axes(&r, m, both, 2, 1, S));
  CHECK(values_are(r, w1, 1) && mlx_array_ndim(r) == 2);
  /* a NaN in the group makes it NaN; float16 stays float16 */
  double nv[] = {1, NAN, 3, 0, -2, 5};
  int64_t ns[] = {2, 3};
  mlx_array h = arr(nv, ns, 2, MLX_FLOAT16);
  CHECK_OK(mlx_median_axes(&r, h, &ax1, 1, 0, S));
  double w4[] = {NAN, 0};
  CHECK(values_are(r, w4, 2) && mlx_array_dtype(r) == MLX_FLOAT16);
  /* errors: bad axis (index), repeated axis, empty group, no axes */
  int bad = 2, dup[] = {0, -2};
  CHECK_ERR(mlx_median_axes(&r, m, &bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_median_axes(&r, m, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_median_axes(&r, m, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  int64_t es[] = {0, 3};
  mlx_array e = mlx_array_new();
  CHECK_OK(mlx_zeros(&e, es, 2, MLX_FLOAT32, S));
  CHECK_ERR(mlx_median_axes(&r, e, &ax0, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_median_axes(&r, e, &ax1, 1, 0, S));
  CHECK(mlx_array_dim(r, 0) == 0);
  CHECK_OK(mlx_eval(&r, 1));
  mlx_array_free(m), mlx_array_free(r), mlx_array_free(h), mlx_array_free(e);
}

TEST(searchsorted) {
  double sv[] = {1, 2, 2, 4}, vv[] = {0, 2, 3, 5};
  int64_t s4[] = {4}, v22[] = {2, 2};
  mlx_array seq = arr(sv, s4, 1, MLX_INT32), val = arr(vv, v22, 2, MLX_FLOAT32), r = mlx_array_new();
  CHECK_OK(mlx_searchsorted(&r, seq, val, 0, S));
  double wl[] = {0, 1, 3, 4}, wr[] = {0, 3, 3, 4};
  CHECK(values_are(r, wl, 4) && mlx_array_dtype(r) == MLX_UINT32 && mlx_array_ndim(r) == 2);
  CHECK_OK(mlx_searchsorted(&r, seq, val, 1, S));
  CHECK(values_are(r, wr, 4));
  /* NaN is the largest value (Python MLX: [2, 2] for left) */
  double nseq[] = {1, 2, NAN}, nval[] = {NAN, 5};
  int64_t s3[] = {3}, s2[] = {2};
  mlx_array ns = arr(nseq, s3, 1, MLX_FLOAT32), nvv = arr(nval, s2, 1, MLX_FLOAT32);
  CHECK_OK(mlx_searchsorted(&r, ns, nvv, 0, S));
  double wn[] = {2, 2};
  CHECK(values_are(r, wn, 2));
  CHECK_OK(mlx_searchsorted(&r, ns, nvv, 1, S));
  double wn2[] = {3, 2};
  CHECK(values_are(r, wn2, 2));
  CHECK_ERR(mlx_searchsorted(&r, val, seq, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(seq), mlx_array_free(val), mlx_array_free(r), mlx_array_free(ns), mlx_array_free(nvv);
}

TEST(errors_and_empty) {
  int64_t sh[] = {2, 3};
  mlx_array a = mlx_array_new(), r = mlx_array_new(), s0 = mlx_array_new();
  CHECK_OK(mlx_zeros(&a, sh, 2, MLX_FLOAT32, S));
  CHECK_ERR(mlx_sort(&r, a, 2, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_argsort(&r, a, -3, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_partition(&r, a, 3, -1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_partition(&r, a, -4, -1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_argpartition(&r, a, 1, 5, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_topk(&r, a, 4, -1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_topk(&r, a, -1, -1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_sort(&r, mlx_array_new(), 0, S), MLX_ERROR_ARGUMENT);
  /* a 0-d array has no axis; flattened it is (1,) */
  CHECK_OK(mlx_array_new_float(&s0, 2.5, MLX_FLOAT32));
  CHECK_ERR(mlx_sort(&r, s0, -1, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_topk(&r, s0, 1, -1, S), MLX_ERROR_INDEX);
  CHECK_OK(mlx_sort_all(&r, s0, S));
  double w[] = {2.5};
  CHECK(values_are(r, w, 1) && mlx_array_ndim(r) == 1);
  CHECK_OK(mlx_argsort_all(&r, s0, S));
  double wz[] = {0};
  CHECK(values_are(r, wz, 1));
  /* empty: sorting (0, 3) along either axis gives an empty result */
  int64_t es[] = {0, 3};
  mlx_array e = mlx_array_new();
  CHECK_OK(mlx_zeros(&e, es, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_sort(&r, e, 0, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0 && mlx_array_dim(r, 1) == 3);
  CHECK_OK(mlx_argsort(&r, e, 1, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  CHECK_ERR(mlx_partition(&r, e, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_partition(&r, e, 0, 1, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK_OK(mlx_topk(&r, e, 0, 0, S));
  CHECK(mlx_array_size(r) == 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(s0), mlx_array_free(e);
}

int main(void) {
  RUN(sort_nan_and_signed_zero);
  RUN(sort_every_dtype);
  RUN(sort_complex);
  RUN(sort_axes_and_views);
  RUN(long_rows);
  RUN(long_single_row);
  RUN(partition_order_matches_upstream);
  RUN(median);
  RUN(searchsorted);
  RUN(errors_and_empty);
  return harness_report();
}
