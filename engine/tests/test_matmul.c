/* matmul: shapes (2-D, 1-D promotion, batch broadcasting), dtypes, strided
 * and broadcast views, empty operands, errors, and a 256x256 product
 * against a naive triple loop in double. Values are hand-computed or from
 * the naive loop; the float16/bfloat16/complex/mixed-dtype ones were also
 * printed once by Python mlx 0.32.4. Prints the GFLOP/s of a 1024x1024
 * float32 product next to a direct cblas_sgemm call. */
#include <cblas.h>
#include <complex.h>
#include <time.h>

#include "harness.h"
#include "internal.h" /* strided views, until the view ops exist */

/* A view of an evaluated array's buffer with the given layout. */
static mlx_array view_of(mlx_array base, const int64_t* shape, const int64_t* strides, int ndim, int64_t offset) {
  mlx_node_* b = MLX_NODE(base);
  mlx_node_* n = mlx_node_new_(b->dtype, shape, ndim);
  mlx_node_set_view_(n, b, b->offset + offset, strides);
  return mlx_wrap_(n);
}

static int shape_is(mlx_array a, const int64_t* shape, int ndim) {
  if (mlx_array_ndim(a) != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (mlx_array_shape(a)[i] != shape[i]) return 0;
  return 1;
}

/* Deterministic values in [-1, 1). */
static void fill_rand(float* v, int64_t n, uint32_t seed) {
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* The reference: C (m x n) = A (m x k) @ B (k x n) in double, with element
 * strides for A and B. */
static void naive(double* c, const float* a, int64_t ars, int64_t acs, const float* b, int64_t brs, int64_t bcs,
                  int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) s += (double)a[i * ars + p * acs] * (double)b[p * brs + j * bcs];
      c[i * n + j] = s;
    }
}

/* Max |got - want| over n values of a float array vs doubles. */
static double max_err(mlx_array a, const double* want, int64_t n) {
  double* got = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double e = read_f64(got, n, a) == n ? 0 : INFINITY;
  for (int64_t i = 0; i < n && e < INFINITY; i++) {
    double d = fabs(got[i] - want[i]);
    if (!(d <= e)) e = d;
  }
  free(got);
  return e;
}

TEST(matmul_2d_and_vectors) {
  float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {7, 8, 9, 10, 11, 12};
  int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s3[1] = {3}, s2[1] = {2};
  mlx_array a = arr_f32(av, s23, 2), b = arr_f32(bv, s32, 2), c = mlx_array_new();
  CHECK_OK(mlx_matmul(&c, a, b, S));
  int64_t s22[2] = {2, 2};
  CHECK(shape_is(c, s22, 2) && mlx_array_dtype(c) == MLX_FLOAT32);
  double e1[4] = {58, 64, 139, 154};
  CHECK_VALUES(c, e1, 4, 0);
  /* [3] @ [3,2] -> [2] */
  mlx_array v3 = arr_f32(av, s3, 1);
  CHECK_OK(mlx_matmul(&c, v3, b, S));
  CHECK(shape_is(c, s2, 1));
  double e2[2] = {58, 64};
  CHECK_VALUES(c, e2, 2, 0);
  /* [2,3] @ [3] -> [2] */
  float ones[3] = {1, 1, 1};
  mlx_array o3 = arr_f32(ones, s3, 1);
  CHECK_OK(mlx_matmul(&c, a, o3, S));
  CHECK(shape_is(c, s2, 1));
  double e3[2] = {6, 15};
  CHECK_VALUES(c, e3, 2, 0);
  /* [2] @ [2] -> scalar */
  float x[2] = {1, 2}, y[2] = {3, 4};
  mlx_array vx = arr_f32(x, s2, 1), vy = arr_f32(y, s2, 1);
  CHECK_OK(mlx_matmul(&c, vx, vy, S));
  CHECK(mlx_array_ndim(c) == 0);
  double e4[1] = {11};
  CHECK_VALUES(c, e4, 1, 0);
  /* [1,3] @ [3,1] stays 2-D. */
  int64_t s13[2] = {1, 3}, s31[2] = {3, 1}, s11[2] = {1, 1};
  mlx_array r = arr_f32(av, s13, 2), col = arr_f32(ones, s31, 2);
  CHECK_OK(mlx_matmul(&c, r, col, S));
  CHECK(shape_is(c, s11, 2));
  double e5[1] = {6};
  CHECK_VALUES(c, e5, 1, 0);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
  mlx_array_free(v3);
  mlx_array_free(o3);
  mlx_array_free(vx);
  mlx_array_free(vy);
  mlx_array_free(r);
  mlx_array_free(col);
}

TEST(matmul_batched_broadcast) {
  /* [2,1,3,4] @ [5,4,2] -> [2,5,3,2] */
  float av[24], bv[40];
  for (int i = 0; i < 24; i++) av[i] = (float)(i % 7) - 3;
  for (int i = 0; i < 40; i++) bv[i] = (float)(i % 5) * 0.5f - 1;
  int64_t sa[4] = {2, 1, 3, 4}, sb[3] = {5, 4, 2};
  mlx_array a = arr_f32(av, sa, 4), b = arr_f32(bv, sb, 3), c = mlx_array_new();
  CHECK_OK(mlx_matmul(&c, a, b, S));
  int64_t sc[4] = {2, 5, 3, 2};
  CHECK(shape_is(c, sc, 4));
  double want[60];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 5; j++) naive(want + (i * 5 + j) * 6, av + i * 12, 4, 1, bv + j * 8, 2, 1, 3, 2, 4);
  CHECK(max_err(c, want, 60) == 0);
  /* [2,3,4] @ [4,5]: the batch folds into one (6,4) @ (4,5) product. */
  float bv2[20];
  for (int i = 0; i < 20; i++) bv2[i] = (float)i - 10;
  int64_t sa3[3] = {2, 3, 4}, s45[2] = {4, 5};
  mlx_array a3 = arr_f32(av, sa3, 3), b2 = arr_f32(bv2, s45, 2);
  CHECK_OK(mlx_matmul(&c, a3, b2, S));
  int64_t s235[3] = {2, 3, 5};
  CHECK(shape_is(c, s235, 3));
  double w2[30];
  naive(w2, av, 4, 1, bv2, 5, 1, 6, 5, 4);
  CHECK(max_err(c, w2, 30) == 0);
  /* [3] @ [2,3,4] -> [2,4] and [2,3,4] @ [4] -> [2,3]. */
  float v3[3] = {1, -2, 0.5f}, v4[4] = {2, 0, -1, 1};
  int64_t s3[1] = {3}, s4[1] = {4};
  mlx_array x3 = arr_f32(v3, s3, 1), x4 = arr_f32(v4, s4, 1);
  CHECK_OK(mlx_matmul(&c, x3, a3, S));
  int64_t s24[2] = {2, 4}, s23[2] = {2, 3};
  CHECK(shape_is(c, s24, 2));
  double w3[8];
  for (int i = 0; i < 2; i++) naive(w3 + i * 4, v3, 3, 1, av + i * 12, 4, 1, 1, 4, 3);
  CHECK(max_err(c, w3, 8) == 0);
  CHECK_OK(mlx_matmul(&c, a3, x4, S));
  CHECK(shape_is(c, s23, 2));
  double w4[6];
  naive(w4, av, 4, 1, v4, 1, 1, 6, 1, 4);
  CHECK(max_err(c, w4, 6) == 0);
  /* A batch whose operand is broadcast by a stride-0 view: [3,2,3] with
   * stride (0,3,1) over one 2x3 matrix, times [3,3,2]. */
  int64_t sv[3] = {3, 2, 3}, stv[3] = {0, 3, 1};
  float base[6] = {1, 2, 3, 4, 5, 6};
  int64_t s23b[2] = {2, 3};
  mlx_array m23 = arr_f32(base, s23b, 2);
  mlx_array bc = view_of(m23, sv, stv, 3, 0);
  float bv3[18];
  for (int i = 0; i < 18; i++) bv3[i] = (float)(i * 3 % 11) - 5;
  int64_t s332[3] = {3, 3, 2};
  mlx_array b3 = arr_f32(bv3, s332, 3);
  CHECK_OK(mlx_matmul(&c, bc, b3, S));
  double w5[12];
  for (int i = 0; i < 3; i++) naive(w5 + i * 4, base, 3, 1, bv3 + i * 6, 2, 1, 2, 2, 3);
  CHECK(max_err(c, w5, 12) == 0);
  /* Many small products: the batch loop runs on the pool. */
  enum { NB = 2000 };
  float* ab = malloc(sizeof(float) * NB * 20);
  float* bb = malloc(sizeof(float) * NB * 15);
  double* wb = malloc(sizeof(double) * NB * 12);
  fill_rand(ab, NB * 20, 1);
  fill_rand(bb, NB * 15, 2);
  int64_t sab[3] = {NB, 4, 5}, sbb[3] = {NB, 5, 3};
  mlx_array A = arr_f32(ab, sab, 3), B = arr_f32(bb, sbb, 3);
  CHECK_OK(mlx_matmul(&c, A, B, S));
  for (int i = 0; i < NB; i++) naive(wb + i * 12, ab + i * 20, 5, 1, bb + i * 15, 3, 1, 4, 3, 5);
  CHECK(max_err(c, wb, NB * 12) < 1e-5);
  free(ab);
  free(bb);
  free(wb);
  mlx_array_free(A);
  mlx_array_free(B);
  mlx_array_free(m23);
  mlx_array_free(bc);
  mlx_array_free(b3);
  mlx_array_free(x3);
  mlx_array_free(x4);
  mlx_array_free(a3);
  mlx_array_free(b2);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
}

TEST(matmul_strided_views) {
  /* Base 3x5; views: its transpose (5x3, column-major), a 3x3 window with
   * leading stride 5, a column-strided (every other column) 3x3 that BLAS
   * cannot read in place, and a negative-stride row reversal. */
  float bv[15];
  for (int i = 0; i < 15; i++) bv[i] = (float)(i * 7 % 13) - 6;
  int64_t s35[2] = {3, 5};
  mlx_array base = arr_f32(bv, s35, 2), c = mlx_array_new();
  int64_t s53[2] = {5, 3}, tstr[2] = {1, 5};
  mlx_array t = view_of(base, s53, tstr, 2, 0);
  /* t @ base: (5x3) @ (3x5). */
  CHECK_OK(mlx_matmul(&c, t, base, S));
  double w1[25];
  naive(w1, bv, 1, 5, bv, 5, 1, 5, 5, 3);
  CHECK(max_err(c, w1, 25) == 0);
  /* base @ t: (3x5) @ (5x3), the right operand transposed. */
  CHECK_OK(mlx_matmul(&c, base, t, S));
  double w2[9];
  naive(w2, bv, 5, 1, bv, 1, 5, 3, 3, 5);
  CHECK(max_err(c, w2, 9) == 0);
  /* Window: columns 1..3 of each row (offset 1, strides 5,1). */
  int64_t s33[2] = {3, 3}, wstr[2] = {5, 1};
  mlx_array win = view_of(base, s33, wstr, 2, 1);
  CHECK_OK(mlx_matmul(&c, win, win, S));
  double w3[9];
  naive(w3, bv + 1, 5, 1, bv + 1, 5, 1, 3, 3, 3);
  CHECK(max_err(c, w3, 9) == 0);
  /* Every other column: strides (5, 2); packed. */
  int64_t sstr[2] = {5, 2};
  mlx_array skip = view_of(base, s33, sstr, 2, 0);
  CHECK_OK(mlx_matmul(&c, skip, win, S));
  double w4[9];
  naive(w4, bv, 5, 2, bv + 1, 5, 1, 3, 3, 3);
  CHECK(max_err(c, w4, 9) == 0);
  /* Rows reversed: offset 10, strides (-5, 1). */
  int64_t rstr[2] = {-5, 1};
  mlx_array rev = view_of(base, s35, rstr, 2, 10);
  CHECK_OK(mlx_matmul(&c, rev, t, S));
  double w5[9];
  naive(w5, bv + 10, -5, 1, bv, 1, 5, 3, 3, 5);
  CHECK(max_err(c, w5, 9) == 0);
  /* Vectors: a strided row (stride 5: column 0 of base) on both sides of
   * a gemv, a transposed matrix in the gemv, and a stride-0 vector. */
  int64_t s3[1] = {3}, s5[1] = {5}, cstr[1] = {5}, zstr[1] = {0};
  mlx_array col0 = view_of(base, s3, cstr, 1, 0);
  CHECK_OK(mlx_matmul(&c, col0, base, S)); /* [3] @ [3,5] */
  double w6[5];
  naive(w6, bv, 0, 5, bv, 5, 1, 1, 5, 3);
  CHECK(max_err(c, w6, 5) == 0);
  CHECK_OK(mlx_matmul(&c, t, col0, S)); /* [5,3]^T-layout @ [3] */
  double w7[5];
  naive(w7, bv, 1, 5, bv, 5, 0, 5, 1, 3);
  CHECK(max_err(c, w7, 5) == 0);
  mlx_array bcast = view_of(base, s5, zstr, 1, 2); /* five copies of bv[2] */
  CHECK_OK(mlx_matmul(&c, base, bcast, S)); /* [3,5] @ [5] */
  double w8[3];
  naive(w8, bv, 5, 1, bv + 2, 0, 0, 3, 1, 5);
  CHECK(max_err(c, w8, 3) == 0);
  CHECK_OK(mlx_matmul(&c, col0, col0, S)); /* strided dot */
  double w9[1];
  naive(w9, bv, 0, 5, bv, 5, 0, 1, 1, 3);
  CHECK(max_err(c, w9, 1) == 0);
  mlx_array_free(bcast);
  mlx_array_free(col0);
  mlx_array_free(rev);
  mlx_array_free(skip);
  mlx_array_free(win);
  mlx_array_free(t);
  mlx_array_free(base);
  mlx_array_free(c);
}

TEST(matmul_dtypes) {
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  int64_t s13[2] = {1, 3}, s31[2] = {3, 1};
  /* float16: the sum 2048 + 1 + 1 needs float32 accumulation (Python mlx
   * gives 2050 too). */
  _Float16 h1[3] = {2048, 1, 1}, h2[3] = {1, 1, 1};
  CHECK_OK(mlx_array_new_data(&a, h1, s13, 2, MLX_FLOAT16));
  CHECK_OK(mlx_array_new_data(&b, h2, s31, 2, MLX_FLOAT16));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_FLOAT16);
  double e1[1] = {2050};
  CHECK_VALUES(c, e1, 1, 0);
  /* bfloat16: 256 + 1 + 1 = 258 (Python mlx: 258). */
  uint16_t g1[3] = {0x4380, 0x3f80, 0x3f80}, g2[3] = {0x3f80, 0x3f80, 0x3f80};
  CHECK_OK(mlx_array_new_data(&a, g1, s13, 2, MLX_BFLOAT16));
  CHECK_OK(mlx_array_new_data(&b, g2, s31, 2, MLX_BFLOAT16));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_BFLOAT16);
  double e2[1] = {258};
  CHECK_VALUES(c, e2, 1, 0);
  /* float16 @ bfloat16 -> float32. */
  CHECK_OK(mlx_array_new_data(&a, h1, s13, 2, MLX_FLOAT16));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_FLOAT32);
  CHECK_VALUES(c, e1, 1, 0);
  /* float16 @ int32 -> float16, the int rounded to float16 first (Python
   * mlx: [[1]] @ [[2049]] = 2048). */
  int32_t iv[1] = {2049};
  _Float16 hv[1] = {1};
  int64_t s11[2] = {1, 1};
  CHECK_OK(mlx_array_new_data(&a, hv, s11, 2, MLX_FLOAT16));
  CHECK_OK(mlx_array_new_data(&b, iv, s11, 2, MLX_INT32));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_FLOAT16);
  double e3[1] = {2048};
  CHECK_VALUES(c, e3, 1, 0);
  /* float64 and float32 @ float64. */
  double d1[4] = {1.0 / 3, 2, 3, 4}, d2[4] = {3, 0, 1e-17, 1};
  int64_t s22[2] = {2, 2};
  CHECK_OK(mlx_array_new_data(&a, d1, s22, 2, MLX_FLOAT64));
  CHECK_OK(mlx_array_new_data(&b, d2, s22, 2, MLX_FLOAT64));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_FLOAT64);
  double e4[4] = {1.0 / 3 * 3 + 2e-17, 2, 9 + 4e-17, 4};
  CHECK_VALUES(c, e4, 4, 1e-15);
  float f1[4] = {1, 2, 3, 4};
  mlx_array_free(a);
  a = arr_f32(f1, s22, 2);
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_FLOAT64);
  double e5[4] = {3 + 2e-17, 2, 9 + 4e-17, 4};
  CHECK_VALUES(c, e5, 4, 1e-15);
  /* complex64 (Python mlx: [[1+2j, 3-1j]] @ [[2-1j], [1j]] = 5+6j). */
  float _Complex c1[2] = {1 + 2 * I, 3 - 1 * I}, c2[2] = {2 - 1 * I, 1 * I};
  int64_t s12[2] = {1, 2}, s21[2] = {2, 1};
  CHECK_OK(mlx_array_new_data(&a, c1, s12, 2, MLX_COMPLEX64));
  CHECK_OK(mlx_array_new_data(&b, c2, s21, 2, MLX_COMPLEX64));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(mlx_array_dtype(c) == MLX_COMPLEX64);
  float re, im;
  CHECK_OK(mlx_array_item_complex(&re, &im, c));
  CHECK(re == 5 && im == 6);
  /* complex64 matrix product (gemm) and complex @ float32. */
  float _Complex m1[4] = {1 + I, 2, -I, 3 - 2 * I}, m2[4] = {2, I, 1 - I, -1};
  CHECK_OK(mlx_array_new_data(&a, m1, s22, 2, MLX_COMPLEX64));
  CHECK_OK(mlx_array_new_data(&b, m2, s22, 2, MLX_COMPLEX64));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  float _Complex cg[4];
  CHECK_OK(mlx_array_copy_to(cg, sizeof cg, c));
  CHECK(cg[0] == (1 + I) * 2 + 2 * (1 - I) && cg[1] == (1 + I) * I - 2);
  CHECK(cg[2] == -I * 2 + (3 - 2 * I) * (1 - I) && cg[3] == -I * I - (3 - 2 * I));
  mlx_array fb = arr_f32(f1, s22, 2);
  CHECK_OK(mlx_matmul(&c, a, fb, S));
  CHECK(mlx_array_dtype(c) == MLX_COMPLEX64);
  CHECK_OK(mlx_array_copy_to(cg, sizeof cg, c));
  CHECK(cg[0] == (1 + I) * 1 + 2 * 3 && cg[3] == -I * 2 + (3 - 2 * I) * 4);
  mlx_array_free(fb);
  /* A bigger float16 product against float32 math, rounded once. */
  enum { M = 37, K = 300, N = 41 };
  float fa[M * K], fbv[K * N];
  fill_rand(fa, M * K, 7);
  fill_rand(fbv, K * N, 8);
  _Float16 ha[M * K], hb[K * N];
  for (int i = 0; i < M * K; i++) ha[i] = (_Float16)fa[i], fa[i] = (float)ha[i];
  for (int i = 0; i < K * N; i++) hb[i] = (_Float16)fbv[i], fbv[i] = (float)hb[i];
  int64_t sa[2] = {M, K}, sb[2] = {K, N};
  CHECK_OK(mlx_array_new_data(&a, ha, sa, 2, MLX_FLOAT16));
  CHECK_OK(mlx_array_new_data(&b, hb, sb, 2, MLX_FLOAT16));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  double want[M * N];
  naive(want, fa, K, 1, fbv, N, 1, M, N, K);
  /* One float16 rounding (half an ulp, 2^-11 relative) on top of a
   * float32 sum. */
  double got16[M * N];
  int ok = read_f64(got16, M * N, c) == M * N;
  for (int i = 0; i < M * N && ok; i++) ok = fabs(got16[i] - want[i]) <= fabs(want[i]) * 0x1p-11 + 1e-4;
  CHECK(ok);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
}

TEST(matmul_empty) {
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  int64_t s20[2] = {2, 0}, s03[2] = {0, 3}, s02[2] = {0, 2}, s23[2] = {2, 3};
  CHECK_OK(mlx_zeros(&a, s20, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_zeros(&b, s03, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(shape_is(c, s23, 2));
  double z[6] = {0};
  CHECK_VALUES(c, z, 6, 0);
  CHECK_OK(mlx_zeros(&a, s02, 2, MLX_FLOAT16, S));
  CHECK_OK(mlx_ones(&b, s23, 2, MLX_FLOAT16, S));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(shape_is(c, s03, 2));
  CHECK_OK(mlx_eval(&c, 1));
  int64_t s0[1] = {0};
  CHECK_OK(mlx_zeros(&a, s0, 1, MLX_FLOAT64, S));
  CHECK_OK(mlx_matmul(&c, a, a, S));
  double x = -1;
  CHECK_OK(mlx_array_item_float64(&x, c));
  CHECK(x == 0);
  int64_t s0_23[3] = {0, 2, 3}, s32[2] = {3, 2}, s022[3] = {0, 2, 2};
  CHECK_OK(mlx_zeros(&a, s0_23, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_ones(&b, s32, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK(shape_is(c, s022, 3));
  CHECK_OK(mlx_eval(&c, 1));
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
}

TEST(matmul_errors) {
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  int64_t s22[2] = {2, 2}, s23[2] = {2, 3}, s42[2] = {4, 2};
  CHECK_OK(mlx_ones(&a, s22, 2, MLX_INT32, S));
  CHECK_ERR(mlx_matmul(&c, a, a, S), MLX_ERROR_DTYPE);
  CHECK(strstr(mlx_last_error(), "[matmul]") != NULL);
  CHECK_OK(mlx_ones(&a, s22, 2, MLX_BOOL, S));
  CHECK_ERR(mlx_matmul(&c, a, a, S), MLX_ERROR_DTYPE);
  CHECK_OK(mlx_ones(&a, s23, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_ones(&b, s42, 2, MLX_FLOAT32, S));
  CHECK_ERR(mlx_matmul(&c, a, b, S), MLX_ERROR_SHAPE);
  CHECK(strstr(mlx_last_error(), "(2,3)") != NULL && strstr(mlx_last_error(), "(4,2)") != NULL);
  /* 1-D operands are reported promoted: (1,3) and (4,1). */
  int64_t s3[1] = {3}, s4[1] = {4};
  CHECK_OK(mlx_ones(&a, s3, 1, MLX_FLOAT32, S));
  CHECK_OK(mlx_ones(&b, s4, 1, MLX_FLOAT32, S));
  CHECK_ERR(mlx_matmul(&c, a, b, S), MLX_ERROR_SHAPE);
  CHECK(strstr(mlx_last_error(), "(1,3)") != NULL && strstr(mlx_last_error(), "(4,1)") != NULL);
  /* Batch dims that do not broadcast. */
  int64_t s234[3] = {2, 3, 4}, s342[3] = {3, 4, 2};
  CHECK_OK(mlx_ones(&a, s234, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_ones(&b, s342, 3, MLX_FLOAT32, S));
  CHECK_ERR(mlx_matmul(&c, a, b, S), MLX_ERROR_SHAPE);
  /* 0-d operands and empty handles. */
  CHECK_OK(mlx_array_new_float(&b, 2.0, MLX_FLOAT32));
  CHECK_ERR(mlx_matmul(&c, b, a, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_matmul(&c, a, mlx_array_new(), S), MLX_ERROR_ARGUMENT);
  CHECK(c.ctx == NULL);
  mlx_array_free(a);
  mlx_array_free(b);
}

TEST(matmul_256_vs_naive) {
  enum { N = 256 };
  float* av = malloc(sizeof(float) * N * N);
  float* bv = malloc(sizeof(float) * N * N);
  double* want = malloc(sizeof(double) * N * N);
  fill_rand(av, N * N, 11);
  fill_rand(bv, N * N, 12);
  naive(want, av, N, 1, bv, N, 1, N, N, N);
  int64_t s[2] = {N, N};
  mlx_array a = arr_f32(av, s, 2), b = arr_f32(bv, s, 2), c = mlx_array_new();
  CHECK_OK(mlx_matmul(&c, a, b, S));
  /* Sums of 256 products of magnitude < 1: float32 rounding stays far
   * below 1e-3. */
  double e = max_err(c, want, N * N);
  CHECK(e < 1e-3);
  /* The same product through transposed views of the transposes. */
  int64_t ts[2] = {1, N};
  float* atv = malloc(sizeof(float) * N * N);
  float* btv = malloc(sizeof(float) * N * N);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) atv[j * N + i] = av[i * N + j], btv[j * N + i] = bv[i * N + j];
  mlx_array atb = arr_f32(atv, s, 2), btb = arr_f32(btv, s, 2);
  mlx_array at = view_of(atb, s, ts, 2, 0), bt = view_of(btb, s, ts, 2, 0);
  CHECK_OK(mlx_matmul(&c, at, bt, S));
  CHECK(max_err(c, want, N * N) < 1e-3);
  free(atv);
  free(btv);
  free(av);
  free(bv);
  free(want);
  mlx_array_free(at);
  mlx_array_free(bt);
  mlx_array_free(atb);
  mlx_array_free(btb);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints GFLOP/s of mlx_matmul (record + eval) next to cblas_sgemm on the
 * same 1024x1024 float32 data. Informational: no assertion on speed. */
TEST(matmul_speed_1024) {
  enum { N = 1024, REPS = 5 };
  float* av = malloc(sizeof(float) * N * N);
  float* bv = malloc(sizeof(float) * N * N);
  float* cv = malloc(sizeof(float) * N * N);
  fill_rand(av, N * N, 3);
  fill_rand(bv, N * N, 4);
  int64_t s[2] = {N, N};
  mlx_array a = arr_f32(av, s, 2), b = arr_f32(bv, s, 2);
  double flops = 2.0 * N * N * N;
  /* Warm up both (thread start, allocator cache). */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, av, N, bv, N, 0, cv, N);
  mlx_array c = mlx_array_new();
  CHECK_OK(mlx_matmul(&c, a, b, S));
  CHECK_OK(mlx_eval(&c, 1));
  double best_ours = INFINITY, best_blas = INFINITY;
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, av, N, bv, N, 0, cv, N);
    double t1 = now();
    mlx_array c2 = mlx_array_new();
    CHECK_OK(mlx_matmul(&c2, a, b, S));
    CHECK_OK(mlx_eval(&c2, 1));
    double t2 = now();
    mlx_array_free(c2);
    if (t1 - t0 < best_blas) best_blas = t1 - t0;
    if (t2 - t1 < best_ours) best_ours = t2 - t1;
  }
  const void* d;
  CHECK_OK(mlx_array_data(&d, c));
  CHECK(((const float*)d)[12345] == cv[12345]);
  printf("matmul 1024x1024 float32: mlx_matmul %.1f GFLOP/s, cblas_sgemm %.1f GFLOP/s (best of %d)\n",
         flops / best_ours * 1e-9, flops / best_blas * 1e-9, REPS);
  free(av);
  free(bv);
  free(cv);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
}

int main(void) {
  RUN(matmul_2d_and_vectors);
  RUN(matmul_batched_broadcast);
  RUN(matmul_strided_views);
  RUN(matmul_dtypes);
  RUN(matmul_empty);
  RUN(matmul_errors);
  RUN(matmul_256_vs_naive);
  RUN(matmul_speed_1024);
  return harness_report();
}
