/* matmul: shapes (2-D, 1-D promotion, batch broadcasting), dtypes, strided
 * and broadcast views, empty operands, errors, and a 256x256 product
 * against a naive triple loop in double. Values are hand-computed or from
 * the naive loop; the float16/bfloat16/complex/mixed-dtype ones were also
 * printed once by Python mlx 0.32.4. Prints the GFLOP/s of a 1024x1024
 * float32 product next to a direct cblas_sgemm call.
 *
 * The rest of the family (mlx/matmul.h): addmm, inner, outer, tensordot,
 * kron and the Hadamard transform with values printed once by Python mlx
 * 0.32.4 (marked "mlx"; inputs from pat()), block_masked_mm, gather_mm
 * and segmented_mm against naive loops, every floating dtype, views,
 * empty arrays and errors. einsum is in test_einsum.c. */
#include <cblas.h>
#include <complex.h>
#include <time.h>

#include "harness.h"
#include "internal.h" /* strided views, until the view ops exist */
#include "mlx/matmul.h"

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

/* Few rows times a transposed matrix (x Wᵀ): the unpacked kernel of
 * cpu/matmul_small.c. Rows 2-16 in blocks of 4, 2 and 1, column counts
 * that leave 1-3 columns after the blocks of 4, k with and without a
 * tail after the vector steps, A with a row stride above k; against the
 * naive loop in double. */
TEST(matmul_few_rows_times_transpose) {
  int ms[] = {2, 3, 5, 8, 13, 16}, ns[] = {1, 4, 7, 65, 130}, ks[] = {64, 100, 257};
  for (int mi = 0; mi < 6; mi++)
    for (int ni = 0; ni < 5; ni++)
      for (int ki = 0; ki < 3; ki++) {
        int64_t m = ms[mi], n = ns[ni], k = ks[ki], lda = k + 3;
        float* av = malloc(sizeof(float) * (size_t)(m * lda));
        float* wv = malloc(sizeof(float) * (size_t)(n * k));
        double* want = malloc(sizeof(double) * (size_t)(m * n));
        fill_rand(av, m * lda, (uint32_t)(100 + m));
        fill_rand(wv, n * k, (uint32_t)(200 + n * k));
        naive(want, av, lda, 1, wv, 1, k, m, n, k); /* B[p][j] = W[j][p] */
        int64_t sab[2] = {m, lda}, sa[2] = {m, k}, ra[2] = {lda, 1}, sw[2] = {n, k}, swt[2] = {k, n}, rwt[2] = {1, k};
        mlx_array ab = arr_f32(av, sab, 2), wb = arr_f32(wv, sw, 2), c = mlx_array_new();
        mlx_array a = view_of(ab, sa, ra, 2, 0), wt = view_of(wb, swt, rwt, 2, 0);
        CHECK_OK(mlx_matmul(&c, a, wt, S));
        int64_t sc[2] = {m, n};
        CHECK(shape_is(c, sc, 2));
        /* k <= 257 products of magnitude < 1 */
        double e = max_err(c, want, m * n);
        if (!(e < 1e-4)) printf("  m=%lld n=%lld k=%lld: max error %g\n", (long long)m, (long long)n, (long long)k, e);
        CHECK(e < 1e-4);
        free(av), free(wv), free(want);
        mlx_array_free(a), mlx_array_free(wt), mlx_array_free(ab), mlx_array_free(wb), mlx_array_free(c);
      }
}

/* Batches of small float32 products run one product per thread through
 * the packed kernel of cpu/matmul_small.c: row counts leaving 1-3 rows
 * after the blocks of 4, column counts filling 1-5 panels partly, both
 * operands plain or as transposed views; against the naive loop. */
TEST(matmul_batched_small_products) {
  int ms[] = {1, 5, 16, 67}, ns[] = {1, 17, 70}, ks[] = {1, 7, 32};
  enum { BATCH = 5 };
  for (int mi = 0; mi < 4; mi++)
    for (int ni = 0; ni < 3; ni++)
      for (int ki = 0; ki < 3; ki++)
        for (int layout = 0; layout < 4; layout++) {
          int64_t m = ms[mi], n = ns[ni], k = ks[ki];
          int ta = layout & 1, tb = layout >> 1;
          float* av = malloc(sizeof(float) * (size_t)(BATCH * m * k));
          float* bv = malloc(sizeof(float) * (size_t)(BATCH * k * n));
          double* want = malloc(sizeof(double) * (size_t)(BATCH * m * n));
          fill_rand(av, BATCH * m * k, (uint32_t)(7 + m * k));
          fill_rand(bv, BATCH * k * n, (uint32_t)(9 + k * n));
          /* Stored transposed where asked: A as [batch, k, m], B as [batch, n, k]. */
          for (int t = 0; t < BATCH; t++)
            naive(want + t * m * n, av + t * m * k, ta ? 1 : k, ta ? m : 1, bv + t * k * n, tb ? 1 : n, tb ? k : 1, m, n, k);
          int64_t sa_store[3] = {BATCH, ta ? k : m, ta ? m : k}, sb_store[3] = {BATCH, tb ? n : k, tb ? k : n};
          int64_t sa[3] = {BATCH, m, k}, sb[3] = {BATCH, k, n};
          int64_t ra[3] = {m * k, ta ? 1 : k, ta ? m : 1}, rb[3] = {k * n, tb ? 1 : n, tb ? k : 1};
          mlx_array ab = arr_f32(av, sa_store, 3), bb = arr_f32(bv, sb_store, 3), c = mlx_array_new();
          mlx_array a = view_of(ab, sa, ra, 3, 0), b = view_of(bb, sb, rb, 3, 0);
          CHECK_OK(mlx_matmul(&c, a, b, S));
          int64_t sc[3] = {BATCH, m, n};
          CHECK(shape_is(c, sc, 3));
          double e = max_err(c, want, BATCH * m * n);
          if (!(e < 1e-5))
            printf("  m=%lld n=%lld k=%lld layout %d: max error %g\n", (long long)m, (long long)n, (long long)k, layout, e);
          CHECK(e < 1e-5);
          free(av), free(bv), free(want);
          mlx_array_free(a), mlx_array_free(b), mlx_array_free(ab), mlx_array_free(bb), mlx_array_free(c);
        }
  /* Attention-sized heads (64 x [128, 32] @ [32, 128]), split into row
   * blocks when there are fewer products than threads. */
  for (int batch = 1; batch <= 64; batch += 63) {
    int64_t m = 128, n = 128, k = 32;
    float* qv = malloc(sizeof(float) * (size_t)(batch * m * k));
    double* want = malloc(sizeof(double) * (size_t)(batch * m * n));
    fill_rand(qv, batch * m * k, 77);
    for (int t = 0; t < batch; t++) naive(want + t * m * n, qv + t * m * k, k, 1, qv + t * m * k, 1, k, m, n, k);
    int64_t sq[3] = {batch, m, k}, st[3] = {batch, k, m}, rt[3] = {m * k, 1, k};
    mlx_array q = arr_f32(qv, sq, 3), c = mlx_array_new();
    mlx_array qt = view_of(q, st, rt, 3, 0);
    CHECK_OK(mlx_matmul(&c, q, qt, S));
    CHECK(max_err(c, want, batch * m * n) < 1e-4);
    free(qv), free(want);
    mlx_array_free(q), mlx_array_free(qt), mlx_array_free(c);
  }
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


/* ---- the rest of the family ---------------------------------------------- */

/* ((i * 7 + seed) % 5) - 2 over the shape, in dtype: small integers,
 * exact in every float dtype (the generator of the "mlx" values). */
static mlx_array pat(const int64_t* shape, int ndim, int seed, mlx_dtype dt) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 7 + seed) % 5) - 2.0;
  mlx_array d = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_data(&d, v, shape, ndim, MLX_FLOAT64);
  mlx_astype(&r, d, dt, S);
  mlx_array_free(d);
  free(v);
  return r;
}

#define SHP(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static const mlx_dtype FLOATS[4] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT64};

TEST(addmm_values) {
  /* mlx: addmm(pat(4,1), pat((2,3),2), pat((3,4),3), 2, 0.5) */
  double want[8] = {-8.5, 6.5, -11, 4, 5.5, -7.5, 7, 4};
  for (int d = 0; d < 4; d++) {
    mlx_array c = pat(SHP(4), 1, FLOATS[d]), a = pat(SHP(2, 3), 2, FLOATS[d]), b = pat(SHP(3, 4), 3, FLOATS[d]);
    mlx_array r = mlx_array_new();
    CHECK_OK(mlx_addmm(&r, c, a, b, 2.0f, 0.5f, S));
    CHECK(mlx_array_dtype(r) == FLOATS[d] && shape_is(r, SHP(2, 4)));
    CHECK_VALUES(r, want, 8, 0);
    mlx_array_free(c), mlx_array_free(a), mlx_array_free(b), mlx_array_free(r);
  }
  /* mlx: addmm(pat((2,4),1), pat((3,2),2).T, pat((3,4),3)): a transposed view */
  mlx_array c = pat(SHP(2, 4), 1, MLX_FLOAT32), a = pat(SHP(3, 2), 2, MLX_FLOAT32), b = pat(SHP(3, 4), 3, MLX_FLOAT32);
  mlx_array at = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_transpose(&at, a, NULL, 0, S));
  CHECK_OK(mlx_addmm(&r, c, at, b, 1.0f, 1.0f, S));
  double want2[8] = {-4, 2, -2, 4, 3, -4, -1, 2};
  CHECK_VALUES(r, want2, 8, 0);
  /* mlx: addmm(pat(1,1), pat(3,2), pat((3,2),3), -1, 3): a 1-D operand */
  mlx_array c1 = pat(SHP(1), 1, MLX_FLOAT32), a1 = pat(SHP(3), 2, MLX_FLOAT32), b1 = pat(SHP(3, 2), 3, MLX_FLOAT32);
  CHECK_OK(mlx_addmm(&r, c1, a1, b1, -1.0f, 3.0f, S));
  double want3[2] = {-4, -6};
  CHECK(shape_is(r, SHP(2)));
  CHECK_VALUES(r, want3, 2, 0);
  /* int c with float operands gives float32; beta 0 ignores c (even nan) */
  mlx_array ci = pat(SHP(2, 4), 1, MLX_INT32), nan = mlx_array_new();
  CHECK_OK(mlx_addmm(&r, ci, at, b, 1.0f, 1.0f, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK_VALUES(r, want2, 8, 0);
  CHECK_OK(mlx_array_new_float(&nan, NAN, MLX_FLOAT32));
  CHECK_OK(mlx_addmm(&r, nan, at, b, 1.0f, 0.0f, S));
  double want4[8];
  for (int i = 0; i < 8; i++) want4[i] = want2[i] - (double)((i * 7 + 1) % 5 - 2);
  CHECK_VALUES(r, want4, 8, 0);
  /* K == 0: beta * c broadcast */
  mlx_array e1 = pat(SHP(2, 0), 0, MLX_FLOAT32), e2 = pat(SHP(0, 4), 0, MLX_FLOAT32);
  CHECK_OK(mlx_addmm(&r, c1, e1, e2, 2.0f, 3.0f, S));
  double want5[8] = {-3, -3, -3, -3, -3, -3, -3, -3};
  CHECK(shape_is(r, SHP(2, 4)));
  CHECK_VALUES(r, want5, 8, 0);
  /* errors: int result, c not broadcasting, K mismatch, 0-d */
  mlx_array ai = pat(SHP(2, 3), 2, MLX_INT32), bi = pat(SHP(3, 4), 3, MLX_INT32), c5 = pat(SHP(5), 0, MLX_FLOAT32);
  mlx_array c224 = pat(SHP(2, 2, 4), 0, MLX_FLOAT32), s0 = mlx_array_new();
  CHECK_ERR(mlx_addmm(&r, ci, ai, bi, 1.0f, 1.0f, S), MLX_ERROR_DTYPE);
  CHECK(strstr(mlx_last_error(), "[addmm]") != NULL);
  CHECK_ERR(mlx_addmm(&r, c5, at, b, 1.0f, 1.0f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_addmm(&r, c224, at, b, 1.0f, 1.0f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_addmm(&r, c, b, b, 1.0f, 1.0f, S), MLX_ERROR_SHAPE);
  CHECK_OK(mlx_array_new_float(&s0, 1.0, MLX_FLOAT32));
  CHECK_ERR(mlx_addmm(&r, c, s0, b, 1.0f, 1.0f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_addmm(&r, c, mlx_array_new(), b, 1.0f, 1.0f, S), MLX_ERROR_ARGUMENT);
  mlx_array all[] = {c, a, b, at, r, c1, a1, b1, ci, nan, e1, e2, ai, bi, c5, c224, s0};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

TEST(inner_outer_kron_tensordot) {
  mlx_array r = mlx_array_new();
  for (int d = 0; d < 4; d++) {
    mlx_dtype t = FLOATS[d];
    mlx_array a = pat(SHP(2, 3), 1, t), b = pat(SHP(4, 3), 2, t);
    /* mlx: inner(pat((2,3),1), pat((4,3),2)) */
    double wi[8] = {4, -3, -5, -2, 5, -4, -3, -2};
    CHECK_OK(mlx_inner(&r, a, b, S));
    CHECK(shape_is(r, SHP(2, 4)) && mlx_array_dtype(r) == t);
    CHECK_VALUES(r, wi, 8, 0);
    mlx_array_free(a), mlx_array_free(b);
    /* mlx: kron(pat((2,2),1), pat((2,3),2)) */
    a = pat(SHP(2, 2), 1, t), b = pat(SHP(2, 3), 2, t);
    double wk[24] = {0, -2, 1, 0, 2, -1, -1, 2, 0, 1, -2, 0, 0, -4, 2, 0, 0, 0, -2, 4, 0, 0, 0, 0};
    CHECK_OK(mlx_kron(&r, a, b, S));
    CHECK(shape_is(r, SHP(4, 6)));
    CHECK_VALUES(r, wk, 24, 0);
    mlx_array_free(a), mlx_array_free(b);
    /* mlx: tensordot(pat((2,3,4),1), pat((3,4,2),2), [[1,2],[0,1]]) */
    a = pat(SHP(2, 3, 4), 1, t), b = pat(SHP(3, 4, 2), 2, t);
    int xa[2] = {1, 2}, xb[2] = {0, 1};
    double wt[4] = {9, -11, -10, -14};
    CHECK_OK(mlx_tensordot_axes(&r, a, b, xa, xb, 2, S));
    CHECK(shape_is(r, SHP(2, 2)));
    CHECK_VALUES(r, wt, 4, 0);
    CHECK_OK(mlx_tensordot(&r, a, b, 2, S));
    CHECK_VALUES(r, wt, 4, 0);
    mlx_array_free(a), mlx_array_free(b);
  }
  /* mlx: outer(pat(3,1), pat(2,2)) in int32; kron(pat(2,1), pat((1,2,2),2)) */
  mlx_array a = pat(SHP(3), 1, MLX_INT32), b = pat(SHP(2), 2, MLX_INT32);
  double wo[6] = {0, -2, 0, 2, 0, -4};
  CHECK_OK(mlx_outer(&r, a, b, S));
  CHECK(shape_is(r, SHP(3, 2)) && mlx_array_dtype(r) == MLX_INT32);
  CHECK_VALUES(r, wo, 6, 0);
  mlx_array_free(a), mlx_array_free(b);
  a = pat(SHP(2), 1, MLX_FLOAT32), b = pat(SHP(1, 2, 2), 2, MLX_FLOAT32);
  double wk2[8] = {0, -2, 0, 2, 1, -1, -1, 1};
  CHECK_OK(mlx_kron(&r, a, b, S));
  CHECK(shape_is(r, SHP(1, 2, 4)));
  CHECK_VALUES(r, wk2, 8, 0);
  mlx_array_free(a), mlx_array_free(b);
  /* mlx: tensordot 0 (outer) and with axes out of order */
  a = pat(SHP(2, 3), 1, MLX_FLOAT32), b = pat(SHP(2, 2), 2, MLX_FLOAT32);
  double w0[24] = {0, -2, 1, -1, 0, 2, -1, 1, 0, -4, 2, -2, 0, 0, 0, 0, 0, 4, -2, 2, 0, -2, 1, -1};
  CHECK_OK(mlx_tensordot(&r, a, b, 0, S));
  CHECK(shape_is(r, SHP(2, 3, 2, 2)));
  CHECK_VALUES(r, w0, 24, 0);
  mlx_array_free(a), mlx_array_free(b);
  a = pat(SHP(2, 3, 4), 1, MLX_FLOAT32), b = pat(SHP(4, 3, 2), 2, MLX_FLOAT32);
  int xa[2] = {2, 0}, xb[2] = {0, 2}, xbad[2] = {1, 1}, xneg[2] = {-1, -3};
  double w2[9] = {4, 2, -5, -5, 4, -2, 1, 1, 1};
  CHECK_OK(mlx_tensordot_axes(&r, a, b, xa, xb, 2, S));
  CHECK(shape_is(r, SHP(3, 3)));
  CHECK_VALUES(r, w2, 9, 0);
  CHECK_OK(mlx_tensordot_axes(&r, a, b, xneg, xb, 2, S));
  CHECK_VALUES(r, w2, 9, 0);
  /* errors */
  CHECK_ERR(mlx_tensordot_axes(&r, a, b, xa, xbad, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_tensordot_axes(&r, a, b, xb, xb, 2, S), MLX_ERROR_SHAPE);
  int x9 = 9;
  CHECK_ERR(mlx_tensordot_axes(&r, a, b, &x9, xb, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_tensordot(&r, a, b, -1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_tensordot(&r, a, b, 4, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_inner(&r, a, b, S), MLX_ERROR_SHAPE);
  mlx_array ai = pat(SHP(3), 0, MLX_INT32), e = pat(SHP(0, 2), 0, MLX_FLOAT32);
  CHECK_ERR(mlx_inner(&r, ai, ai, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_kron(&r, e, a, S), MLX_ERROR_SHAPE);
  /* empty contractions give zeros */
  mlx_array e2 = pat(SHP(3, 0), 0, MLX_FLOAT32);
  CHECK_OK(mlx_inner(&r, e2, e2, S));
  double z9[9] = {0};
  CHECK(shape_is(r, SHP(3, 3)));
  CHECK_VALUES(r, z9, 9, 0);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(ai), mlx_array_free(e), mlx_array_free(e2);
  mlx_array_free(r);
}

TEST(hadamard_values) {
  mlx_array r = mlx_array_new();
  struct {
    int64_t rows, n;
    double scale;
    int has_scale;
    double want[28 * 2];
  } cases[] = {
      /* mlx: hadamard_transform(pat(...,1), scale) */
      {1, 4, 0, 0, {-1, -2, 1, 0}},
      {2, 12, 1, 1, {-2, 0, -2, 0, -2, 2, 8, 4, -2, -4, -2, -12, -2, 2, -4, 2, 6, 4, -4, -4, -4, -12, -4, 0}},
      {1, 20, 1, 1, {-6, 6, -12, 0, 12, 10, -10, 0, 0, 0, -10, 10, 0, 0, 0, -2, 2, -4, 0, 4}},
      {1, 28, 1, 1, {10, -8, 4, 6, -2, 0, -8, 2, 2, 6, 6, -4, 0, 0, 14, -6, 4, -12, -8, 12, -8, 2, -4, -4, 6, -14, 16, 0}},
      {1, 24, 0.5, 1, {1, 0, 1, 2, 0, -7, 6, -3, 0, 3, 0, -3, 0, -7, -1, 2, -5, -2, -2, -3, 0, 3, 2, 7}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (int d = 0; d < 4; d++) {
      int64_t shape[2] = {cases[i].rows, cases[i].n};
      mlx_array x = pat(shape + (cases[i].rows == 1), 2 - (cases[i].rows == 1), 1, FLOATS[d]);
      CHECK_OK(mlx_hadamard_transform(&r, x, cases[i].has_scale, (float)cases[i].scale, S));
      CHECK(mlx_array_dtype(r) == FLOATS[d]);
      CHECK_VALUES(r, cases[i].want, (int)(cases[i].rows * cases[i].n), 0);
      mlx_array_free(x);
    }
  /* 2^k sizes against H[i][j] = (-1)^popcount(i & j), on a transposed
   * view, with rows split over threads. */
  enum { N = 512, ROWS = 40 };
  mlx_array base = pat(SHP(N, ROWS), 3, MLX_FLOAT32), xt = mlx_array_new();
  CHECK_OK(mlx_transpose(&xt, base, NULL, 0, S));
  double* xv = malloc(sizeof(double) * N * ROWS);
  double* want = malloc(sizeof(double) * N * ROWS);
  read_f64(xv, N * ROWS, xt);
  for (int r0 = 0; r0 < ROWS; r0++)
    for (int i = 0; i < N; i++) {
      double s = 0;
      for (int j = 0; j < N; j++) s += (__builtin_popcount(i & j) & 1 ? -1 : 1) * xv[r0 * N + j];
      want[r0 * N + i] = s / sqrt((double)N);
    }
  CHECK_OK(mlx_hadamard_transform(&r, xt, 0, 0, S));
  CHECK(max_err(r, want, N * ROWS) < 1e-4);
  /* ints become float32, float64 stays (an error upstream) */
  mlx_array xi = pat(SHP(2, 4), 1, MLX_INT32), x64 = pat(SHP(4), 1, MLX_FLOAT64);
  CHECK_OK(mlx_hadamard_transform(&r, xi, 1, 1.0f, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK_OK(mlx_hadamard_transform(&r, x64, 0, 0, S));
  double w64[4] = {-1, -2, 1, 0};
  CHECK(mlx_array_dtype(r) == MLX_FLOAT64);
  CHECK_VALUES(r, w64, 4, 1e-15);
  /* errors: empty, unsupported sizes */
  mlx_array e = pat(SHP(0, 4), 0, MLX_FLOAT32), x6 = pat(SHP(6), 0, MLX_FLOAT32), x36 = pat(SHP(36), 0, MLX_FLOAT32);
  CHECK_ERR(mlx_hadamard_transform(&r, e, 0, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_hadamard_transform(&r, x6, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_hadamard_transform(&r, x36, 0, 0, S), MLX_ERROR_ARGUMENT);
  free(xv), free(want);
  mlx_array all[] = {r, base, xt, xi, x64, e, x6, x36};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

/* out[t] = A[li[t]] @ B[ri[t]] over row-major batches of m x k and k x n. */
static void naive_gather(double* out, const double* a, const double* b, const int64_t* li, const int64_t* ri, int64_t T,
                         int64_t m, int64_t n, int64_t k) {
  for (int64_t t = 0; t < T; t++)
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t p = 0; p < k; p++) s += a[li[t] * m * k + i * k + p] * b[ri[t] * k * n + p * n + j];
        out[(t * m + i) * n + j] = s;
      }
}

TEST(gather_mm_values) {
  enum { M = 3, K = 5, N = 4, NA = 3, NB = 2, T = 6 };
  int64_t li[T] = {2, 0, 1, 1, 2, 0}, ri[T] = {1, 1, 0, 1, 0, 0};
  double av[NA * M * K], bv[NB * K * N], want[T * M * N];
  mlx_array r = mlx_array_new(), l = mlx_array_new(), rr = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&l, li, SHP(2, 3), MLX_INT64));
  CHECK_OK(mlx_array_new_data(&rr, ri, SHP(2, 3), MLX_INT64));
  for (int d = 0; d < 4; d++) {
    mlx_array a = pat(SHP(NA, M, K), 1, FLOATS[d]), b = pat(SHP(NB, K, N), 2, FLOATS[d]);
    read_f64(av, NA * M * K, a);
    read_f64(bv, NB * K * N, b);
    naive_gather(want, av, bv, li, ri, T, M, N, K);
    CHECK_OK(mlx_gather_mm(&r, a, b, l, rr, 0, S));
    CHECK(shape_is(r, SHP(2, 3, M, N)) && mlx_array_dtype(r) == FLOATS[d]);
    CHECK_VALUES(r, want, T * M * N, 0);
    mlx_array_free(a), mlx_array_free(b);
  }
  /* a transposed view, int8 indices broadcast against uint32 ones, a
   * default (arange) rhs */
  mlx_array at = pat(SHP(NA, K, M), 1, MLX_FLOAT32), a = mlx_array_new(), b = pat(SHP(NB, K, N), 2, MLX_FLOAT32);
  CHECK_OK(mlx_swapaxes(&a, at, -1, -2, S));
  read_f64(av, NA * M * K, a);
  read_f64(bv, NB * K * N, b);
  int8_t l8[3] = {2, 0, 1};
  uint32_t r32[2] = {1, 0};
  mlx_array l3 = mlx_array_new(), r2 = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&l3, l8, SHP(3), MLX_INT8));
  CHECK_OK(mlx_array_new_data(&r2, r32, SHP(2, 1), MLX_UINT32));
  CHECK_OK(mlx_gather_mm(&r, a, b, l3, r2, 1, S));
  int64_t bl[6] = {2, 0, 1, 2, 0, 1}, br[6] = {1, 1, 1, 0, 0, 0};
  naive_gather(want, av, bv, bl, br, 6, M, N, K);
  CHECK(shape_is(r, SHP(2, 3, M, N)));
  CHECK_VALUES(r, want, 6 * M * N, 0);
  mlx_array l2 = mlx_array_new();
  int64_t l2v[2] = {1, 2};
  CHECK_OK(mlx_array_new_data(&l2, l2v, SHP(2), MLX_INT64));
  CHECK_OK(mlx_gather_mm(&r, a, b, l2, mlx_array_new(), 0, S));
  int64_t dl[2] = {1, 2}, dr[2] = {0, 1};
  naive_gather(want, av, bv, dl, dr, 2, M, N, K);
  CHECK_VALUES(r, want, 2 * M * N, 0);
  /* no indices: matmul */
  CHECK_ERR(mlx_gather_mm(&r, b, b, mlx_array_new(), mlx_array_new(), 0, S), MLX_ERROR_SHAPE);
  CHECK(strstr(mlx_last_error(), "[matmul]") != NULL);
  /* no index rows: an empty result */
  mlx_array le = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&le, l2v, SHP(0), MLX_INT64));
  CHECK_OK(mlx_gather_mm(&r, a, b, le, le, 0, S));
  CHECK(shape_is(r, SHP(0, M, N)));
  CHECK_OK(mlx_eval(&r, 1));
  /* errors: an index out of range at evaluation, float indices, shapes */
  int64_t bad[2] = {0, 3};
  mlx_array lb = mlx_array_new(), lf = pat(SHP(2), 0, MLX_FLOAT32), ai = pat(SHP(2, 2, 2), 0, MLX_INT32);
  CHECK_OK(mlx_array_new_data(&lb, bad, SHP(2), MLX_INT64));
  CHECK_OK(mlx_gather_mm(&r, a, b, lb, l2, 0, S));
  CHECK_ERR(mlx_eval(&r, 1), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_gather_mm(&r, a, b, lf, l2, 0, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_gather_mm(&r, a, a, l2, l2, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_gather_mm(&r, a, b, l3, l2, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_gather_mm(&r, ai, ai, l2, l2, 0, S), MLX_ERROR_DTYPE);
  mlx_array all[] = {r, l, rr, at, a, b, l3, r2, l2, le, lb, lf, ai};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

TEST(segmented_block_masked) {
  enum { M = 3, K = 6, N = 2 };
  int64_t segs[5][2] = {{0, 2}, {2, 6}, {1, 1}, {4, 2}, {-3, 9}};
  double av[M * K], bv[K * N], want[5 * M * N];
  mlx_array r = mlx_array_new(), sg = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&sg, segs, SHP(5, 2), MLX_INT64));
  for (int d = 0; d < 4; d++) {
    mlx_array a = pat(SHP(M, K), 1, FLOATS[d]), b = pat(SHP(K, N), 2, FLOATS[d]);
    read_f64(av, M * K, a);
    read_f64(bv, K * N, b);
    for (int s = 0; s < 5; s++)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
          double acc = 0;
          for (int p = 0; p < K; p++)
            if (p >= segs[s][0] && p < segs[s][1]) acc += av[i * K + p] * bv[p * N + j];
          want[(s * M + i) * N + j] = acc;
        }
    CHECK_OK(mlx_segmented_mm(&r, a, b, sg, S));
    CHECK(shape_is(r, SHP(5, M, N)) && mlx_array_dtype(r) == FLOATS[d]);
    CHECK_VALUES(r, want, 5 * M * N, 0);
    mlx_array_free(a), mlx_array_free(b);
  }
  mlx_array a = pat(SHP(M, K), 1, MLX_FLOAT32), b = pat(SHP(K, N), 2, MLX_FLOAT32), a3 = pat(SHP(2, M, K), 1, MLX_FLOAT32);
  mlx_array s3 = pat(SHP(1, 3), 0, MLX_INT32), sf = pat(SHP(1, 2), 0, MLX_FLOAT32), ai = pat(SHP(M, K), 0, MLX_INT32);
  CHECK_ERR(mlx_segmented_mm(&r, a, b, s3, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_segmented_mm(&r, a, b, sf, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_segmented_mm(&r, a3, b, sg, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_segmented_mm(&r, ai, ai, sg, S), MLX_ERROR_SHAPE);

  /* block_masked_mm: (40 x 33) @ (33 x 70) in blocks of 32 against a
   * masked naive product, bool and float masks, batched masks */
  enum { BM = 40, BK = 33, BN = 70 };
  mlx_array x = pat(SHP(BM, BK), 1, MLX_FLOAT32), y = pat(SHP(BK, BN), 2, MLX_FLOAT32);
  double* xv = malloc(sizeof(double) * BM * BK);
  double* yv = malloc(sizeof(double) * BK * BN);
  double* bw = malloc(sizeof(double) * BM * BN);
  read_f64(xv, BM * BK, x);
  read_f64(yv, BK * BN, y);
  uint8_t ml[2][2] = {{1, 0}, {1, 1}}, mr[2][3] = {{1, 1, 0}, {0, 1, 1}};
  float mo[2][3] = {{1, 0.5f, 2}, {0, 1, -1}};
  mlx_array mlv = mlx_array_new(), mrv = mlx_array_new(), mov = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&mlv, ml, SHP(2, 2), MLX_BOOL));
  CHECK_OK(mlx_array_new_data(&mrv, mr, SHP(2, 3), MLX_BOOL));
  CHECK_OK(mlx_array_new_data(&mov, mo, SHP(2, 3), MLX_FLOAT32));
  for (int i = 0; i < BM; i++)
    for (int j = 0; j < BN; j++) {
      double acc = 0;
      for (int p = 0; p < BK; p++)
        if (ml[i / 32][p / 32] && mr[p / 32][j / 32]) acc += xv[i * BK + p] * yv[p * BN + j];
      bw[i * BN + j] = acc * mo[i / 32][j / 32];
    }
  for (int d = 0; d < 4; d++) {
    mlx_array xd = mlx_array_new(), yd = mlx_array_new();
    CHECK_OK(mlx_astype(&xd, x, FLOATS[d], S));
    CHECK_OK(mlx_astype(&yd, y, FLOATS[d], S));
    CHECK_OK(mlx_block_masked_mm(&r, xd, yd, 32, mov, mlv, mrv, S));
    CHECK(shape_is(r, SHP(BM, BN)) && mlx_array_dtype(r) == FLOATS[d]);
    /* bfloat16 rounds sums over 256 */
    CHECK(max_err(r, bw, BM * BN) <= (FLOATS[d] == MLX_BFLOAT16 ? 2.0 : 0.0));
    mlx_array_free(xd), mlx_array_free(yd);
  }
  /* a nan in a masked-out block never reaches the result */
  mlx_array nan = mlx_array_new(), xn = mlx_array_new(), cond = mlx_array_new(), ones = mlx_array_new();
  int64_t st[2] = {0, 32}, sp[2] = {BM, BK}, one[2] = {1, 1};
  CHECK_OK(mlx_array_new_float(&nan, NAN, MLX_FLOAT32));
  CHECK_OK(mlx_ones(&ones, SHP(BM, BK), MLX_BOOL, S));
  mlx_array fl = mlx_array_new();
  CHECK_OK(mlx_array_new_bool(&fl, 0));
  CHECK_OK(mlx_slice_update(&cond, ones, fl, st, sp, one, 2, S));
  CHECK_OK(mlx_where(&xn, cond, x, nan, S));
  uint8_t ml2[2][2] = {{1, 0}, {1, 0}};
  mlx_array ml2v = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&ml2v, ml2, SHP(2, 2), MLX_BOOL));
  CHECK_OK(mlx_block_masked_mm(&r, xn, y, 32, mlx_array_new(), ml2v, mlx_array_new(), S));
  double* got = malloc(sizeof(double) * BM * BN);
  read_f64(got, BM * BN, r);
  int finite = 1;
  for (int i = 0; i < BM * BN; i++) finite &= isfinite(got[i]) != 0;
  CHECK(finite);
  /* errors: block size, mask shape, int operands */
  CHECK_ERR(mlx_block_masked_mm(&r, x, y, 16, mov, mlx_array_new(), mlx_array_new(), S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_block_masked_mm(&r, x, y, 32, mlv, mlx_array_new(), mlx_array_new(), S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_block_masked_mm(&r, ai, ai, 32, mlx_array_new(), mlx_array_new(), mlx_array_new(), S), MLX_ERROR_SHAPE);
  free(xv), free(yv), free(bw), free(got);
  mlx_array all[] = {r, sg, a, b, a3, s3, sf, ai, x, y, mlv, mrv, mov, nan, xn, cond, ones, fl, ml2v};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

/* float16 / bfloat16 1024^3 products: the float32-panel path. */
TEST(matmul_half_speed_1024) {
  enum { N = 1024, REPS = 3 };
  mlx_dtype dts[2] = {MLX_FLOAT16, MLX_BFLOAT16};
  for (int d = 0; d < 2; d++) {
    mlx_array a = pat(SHP(N, N), 1, dts[d]), b = pat(SHP(N, N), 2, dts[d]), c = mlx_array_new();
    mlx_eval(&a, 1), mlx_eval(&b, 1);
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
      double t0 = now();
      CHECK_OK(mlx_matmul(&c, a, b, S));
      CHECK_OK(mlx_eval(&c, 1));
      double t = now() - t0;
      if (t < best) best = t;
    }
    printf("matmul 1024x1024 %s: %.1f GFLOP/s\n", d ? "bfloat16" : "float16", 2.0 * N * N * N / best * 1e-9);
    mlx_array_free(a), mlx_array_free(b), mlx_array_free(c);
  }
}

int main(void) {
  RUN(matmul_2d_and_vectors);
  RUN(matmul_batched_broadcast);
  RUN(matmul_strided_views);
  RUN(matmul_dtypes);
  RUN(matmul_empty);
  RUN(matmul_errors);
  RUN(matmul_256_vs_naive);
  RUN(matmul_few_rows_times_transpose);
  RUN(matmul_batched_small_products);
  RUN(matmul_speed_1024);
  RUN(addmm_values);
  RUN(inner_outer_kron_tensordot);
  RUN(hadamard_values);
  RUN(gather_mm_values);
  RUN(segmented_block_masked);
  RUN(matmul_half_speed_1024);
  return harness_report();
}
