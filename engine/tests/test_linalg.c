/* linalg: every op of mlx/linalg.h on known values (printed once by Python
 * mlx 0.32.4 on the CPU, or hand-computed where noted), float32 and
 * float64, batches, strided inputs, empty arrays, numerical failures and
 * argument errors; decompositions whose signs LAPACK chooses are checked
 * by reconstruction. */
#include <complex.h>

#include "harness.h"
#include "mlx/linalg.h"
#include "mlx/random.h"

static mlx_array arr_f64(const double* v, const int64_t* shape, int ndim) {
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT64);
  return a;
}

/* max |x - y| (x, y real), or INFINITY when it cannot be computed. */
static double max_abs_diff(mlx_array x, mlx_array y) {
  mlx_array d = mlx_array_new(), a = mlx_array_new(), m = mlx_array_new();
  double r = INFINITY;
  if (!mlx_subtract(&d, x, y, S) && !mlx_abs(&a, d, S) && !mlx_max(&m, a, 0, S)) mlx_array_item_float64(&r, m);
  mlx_array_free(d), mlx_array_free(a), mlx_array_free(m);
  return r;
}

static mlx_array matmul(mlx_array a, mlx_array b) {
  mlx_array r = mlx_array_new();
  CHECK_OK(mlx_matmul(&r, a, b, S));
  return r;
}

static mlx_array transpose(mlx_array a) {
  mlx_array r = mlx_array_new();
  CHECK_OK(mlx_swapaxes(&r, a, -1, -2, S));
  return r;
}

TEST(inv_and_tri_inv) {
  for (int d = 0; d < 2; d++) {
    mlx_dtype dt = d ? MLX_FLOAT64 : MLX_FLOAT32;
    float v[] = {2, 1, 1, 3};
    int64_t sh[] = {2, 2};
    mlx_array a0 = arr_f32(v, sh, 2), a = mlx_array_new(), r = mlx_array_new();
    CHECK_OK(mlx_astype(&a, a0, dt, S));
    CHECK_OK(mlx_linalg_inv(&r, a, S));
    CHECK(mlx_array_dtype(r) == dt);
    double want[] = {0.6, -0.2, -0.2, 0.4}; /* hand-computed */
    CHECK_VALUES(r, want, 4, 1e-6);
    /* tri_inv reads one triangle only (Python: [[0.5,0],[-0.125,0.25]]). */
    float t[] = {2, 5, 1, 4};
    mlx_array tr0 = arr_f32(t, sh, 2), tr = mlx_array_new();
    CHECK_OK(mlx_astype(&tr, tr0, dt, S));
    CHECK_OK(mlx_linalg_tri_inv(&r, tr, 0, S));
    double lo[] = {0.5, 0, -0.125, 0.25};
    CHECK_VALUES(r, lo, 4, 1e-7);
    CHECK_OK(mlx_linalg_tri_inv(&r, tr, 1, S));
    double up[] = {0.5, -0.625, 0, 0.25};
    CHECK_VALUES(r, up, 4, 1e-7);
    mlx_array_free(a0), mlx_array_free(a), mlx_array_free(r), mlx_array_free(tr0), mlx_array_free(tr);
  }
  /* A batch of 3 random 5x5 (well conditioned): a @ inv(a) = I. */
  float v[75];
  uint32_t seed = 7;
  for (int i = 0; i < 75; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f + ((i % 25) % 6 == 0 ? 5.0f : 0.0f);
  }
  int64_t sh[] = {3, 5, 5};
  mlx_array a = arr_f32(v, sh, 3), r = mlx_array_new(), eye = mlx_array_new();
  CHECK_OK(mlx_linalg_inv(&r, a, S));
  mlx_array p = matmul(a, r);
  CHECK_OK(mlx_eye(&eye, 5, 5, 0, MLX_FLOAT32, S));
  CHECK(max_abs_diff(p, eye) < 1e-5);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(eye), mlx_array_free(p);
}

TEST(cholesky) {
  double v[] = {4, 2, 2, 3};
  int64_t sh[] = {2, 2};
  mlx_array a = arr_f64(v, sh, 2), r = mlx_array_new();
  CHECK_OK(mlx_linalg_cholesky(&r, a, 0, S));
  double lo[] = {2, 0, 1, sqrt(2.0)}; /* hand-computed */
  CHECK_VALUES(r, lo, 4, 1e-14);
  CHECK_OK(mlx_linalg_cholesky(&r, a, 1, S));
  double up[] = {2, 1, 0, sqrt(2.0)};
  CHECK_VALUES(r, up, 4, 1e-14);
  /* cholesky_inv of L = [[2,0],[1,1]] (Python: [[0.5,-0.5],[-0.5,1]]). */
  double l[] = {2, 0, 1, 1};
  mlx_array lm = arr_f64(l, sh, 2);
  CHECK_OK(mlx_linalg_cholesky_inv(&r, lm, 0, S));
  double ci[] = {0.5, -0.5, -0.5, 1};
  CHECK_VALUES(r, ci, 4, 1e-14);
  /* Not positive definite: no error, LAPACK's partial result as upstream
   * (Python: [[1,0],[2,-3]]). */
  double np[] = {1, 2, 2, 1};
  mlx_array b = arr_f64(np, sh, 2);
  CHECK_OK(mlx_linalg_cholesky(&r, b, 0, S));
  double part[] = {1, 0, 2, -3};
  CHECK_VALUES(r, part, 4, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(lm), mlx_array_free(b);
}

TEST(qr_and_svd) {
  float v[] = {1, 2, 3, 4, 5, 6};
  int64_t sh[] = {3, 2};
  mlx_array a = arr_f32(v, sh, 2), q = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_linalg_qr(&q, &r, a, S));
  /* Python: q [[-0.169031, 0.897086], [-0.507093, 0.276026],
   * [-0.845154, -0.345032]], r [[-5.91608, -7.43736], [0, 0.82808]]. */
  double wq[] = {-0.169031, 0.897086, -0.507093, 0.276026, -0.845154, -0.345032};
  double wr[] = {-5.91608, -7.43736, 0, 0.82808};
  CHECK_VALUES(q, wq, 6, 2e-6);
  CHECK_VALUES(r, wr, 4, 2e-6);
  mlx_array u = mlx_array_new(), s = mlx_array_new(), vt = mlx_array_new();
  CHECK_OK(mlx_linalg_svd(&u, &s, &vt, a, 1, S));
  double ws[] = {9.525520324707031, 0.5143016576766968}; /* Python */
  CHECK_VALUES(s, ws, 2, 1e-6);
  CHECK(mlx_array_dim(u, 0) == 3 && mlx_array_dim(u, 1) == 3 && mlx_array_dim(vt, 0) == 2);
  /* a = u[:, :2] diag(s) vt */
  int64_t st[] = {0, 0}, sp[] = {3, 2}, step[] = {1, 1};
  mlx_array uk = mlx_array_new(), us = mlx_array_new();
  CHECK_OK(mlx_slice(&uk, u, st, sp, step, 2, S));
  CHECK_OK(mlx_multiply(&us, uk, s, S));
  mlx_array rec = matmul(us, vt);
  CHECK(max_abs_diff(rec, a) < 1e-5);
  mlx_array s2 = mlx_array_new();
  CHECK_OK(mlx_linalg_svd(NULL, &s2, NULL, a, 0, S));
  CHECK_VALUES(s2, ws, 2, 1e-6);
  /* pinv (Python: [[-1.33333, -0.333333, 0.666667], [1.08333, 0.333333, -0.416667]]). */
  mlx_array p = mlx_array_new();
  CHECK_OK(mlx_linalg_pinv(&p, a, S));
  double wp[] = {-4.0 / 3, -1.0 / 3, 2.0 / 3, 13.0 / 12, 1.0 / 3, -5.0 / 12};
  CHECK_VALUES(p, wp, 6, 1e-5);
  mlx_array_free(a), mlx_array_free(q), mlx_array_free(r), mlx_array_free(u), mlx_array_free(s);
  mlx_array_free(vt), mlx_array_free(uk), mlx_array_free(us), mlx_array_free(rec), mlx_array_free(s2);
  mlx_array_free(p);
}

TEST(eigen) {
  double v[] = {2, 1, 0, 1, 2, 1, 0, 1, 2};
  int64_t sh[] = {3, 3};
  mlx_array a = arr_f64(v, sh, 2), w = mlx_array_new(), vec = mlx_array_new();
  CHECK_OK(mlx_linalg_eigh(&w, &vec, a, "L", S));
  double ww[] = {2 - sqrt(2.0), 2, 2 + sqrt(2.0)}; /* hand-computed */
  CHECK_VALUES(w, ww, 3, 1e-14);
  mlx_array av = matmul(a, vec), vw = mlx_array_new();
  CHECK_OK(mlx_multiply(&vw, vec, w, S));
  CHECK(max_abs_diff(av, vw) < 1e-13);
  CHECK_OK(mlx_linalg_eigvalsh(&w, a, "U", S));
  CHECK_VALUES(w, ww, 3, 1e-14);
  /* eig of a rotation block (Python: values [1j, -1j, 2], vectors
   * [[0,0,1],[0.707107,0.707107,0],[-0.707107j,0.707107j,0]]). */
  float g[] = {2, 0, 0, 0, 0, -1, 0, 1, 0};
  mlx_array b = arr_f32(g, sh, 2), gw = mlx_array_new(), gv = mlx_array_new(), re = mlx_array_new(),
            im = mlx_array_new();
  CHECK_OK(mlx_linalg_eig(&gw, &gv, b, S));
  CHECK(mlx_array_dtype(gw) == MLX_COMPLEX64 && mlx_array_dtype(gv) == MLX_COMPLEX64);
  CHECK_OK(mlx_real(&re, gw, S));
  CHECK_OK(mlx_imag(&im, gw, S));
  double wre[] = {0, 0, 2}, wim[] = {1, -1, 0};
  CHECK_VALUES(re, wre, 3, 1e-6);
  CHECK_VALUES(im, wim, 3, 1e-6);
  double s2 = sqrt(0.5);
  double vre[] = {0, 0, 1, s2, s2, 0, 0, 0, 0}, vim[] = {0, 0, 0, 0, 0, 0, -s2, s2, 0};
  CHECK_OK(mlx_real(&re, gv, S));
  CHECK_OK(mlx_imag(&im, gv, S));
  CHECK_VALUES(re, vre, 9, 1e-6);
  CHECK_VALUES(im, vim, 9, 1e-6);
  CHECK_OK(mlx_linalg_eigvals(&gw, a, S));
  CHECK_OK(mlx_real(&re, gw, S));
  CHECK(mlx_array_dtype(gw) == MLX_COMPLEX64);
  mlx_array_free(a), mlx_array_free(w), mlx_array_free(vec), mlx_array_free(av), mlx_array_free(vw);
  mlx_array_free(b), mlx_array_free(gw), mlx_array_free(gv), mlx_array_free(re), mlx_array_free(im);
}

TEST(complex_eig_svd) {
  float _Complex v[] = {1 + 1 * I, 2, 0.5f * I, 3 - I};
  int64_t sh[] = {2, 2};
  mlx_array a = mlx_array_new(), w = mlx_array_new(), vec = mlx_array_new(), s = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, sh, 2, MLX_COMPLEX64));
  CHECK_OK(mlx_linalg_eig(&w, &vec, a, S));
  /* a v = v diag(w) (upstream 0.32's complex vectors miss a conjugate). */
  mlx_array av = matmul(a, vec), vw = mlx_array_new(), d = mlx_array_new(), m = mlx_array_new();
  CHECK_OK(mlx_multiply(&vw, vec, w, S));
  CHECK_OK(mlx_subtract(&d, av, vw, S));
  CHECK_OK(mlx_abs(&m, d, S));
  double err = 1;
  mlx_array mm = mlx_array_new();
  CHECK_OK(mlx_max(&mm, m, 0, S));
  CHECK_OK(mlx_array_item_float64(&err, mm));
  CHECK(err < 1e-5);
  CHECK_OK(mlx_linalg_svd(NULL, &s, NULL, a, 0, S));
  CHECK(mlx_array_dtype(s) == MLX_FLOAT32);
  mlx_array_free(a), mlx_array_free(w), mlx_array_free(vec), mlx_array_free(s), mlx_array_free(av);
  mlx_array_free(vw), mlx_array_free(d), mlx_array_free(m), mlx_array_free(mm);
}

TEST(lu_and_solve) {
  float v[] = {1, 2, 3, 4, 5, 6};
  int64_t sh[] = {3, 2};
  mlx_array a = arr_f32(v, sh, 2), lu = mlx_array_new(), piv = mlx_array_new();
  CHECK_OK(mlx_linalg_lu_factor(&lu, &piv, a, S));
  double wlu[] = {5, 6, 0.2, 0.8, 0.6, 0.5}, wp[] = {2, 2}; /* Python */
  CHECK_VALUES(lu, wlu, 6, 1e-6);
  CHECK_VALUES(piv, wp, 2, 0);
  CHECK(mlx_array_dtype(piv) == MLX_UINT32);
  float m[] = {1, 2, 3, 4};
  int64_t s2[] = {2, 2};
  mlx_array b = arr_f32(m, s2, 2), p = mlx_array_new(), l = mlx_array_new(), u = mlx_array_new();
  CHECK_OK(mlx_linalg_lu(&p, &l, &u, b, S));
  double pp[] = {1, 0}, ll[] = {1, 0, 1.0 / 3, 1}, uu[] = {3, 4, 0, 2.0 / 3}; /* Python */
  CHECK_VALUES(p, pp, 2, 0);
  CHECK_VALUES(l, ll, 4, 1e-6);
  CHECK_VALUES(u, uu, 4, 1e-6);
  /* 3x2: p = [1, 2, 0], l 3x2, u 2x2 (Python). */
  CHECK_OK(mlx_linalg_lu(&p, &l, &u, a, S));
  double p3[] = {1, 2, 0};
  CHECK_VALUES(p, p3, 3, 0);
  CHECK(mlx_array_dim(l, 1) == 2 && mlx_array_dim(u, 0) == 2);
  /* solve: [[3,1],[1,2]] x = [9,8] -> [2,3] (hand-computed). */
  float sa[] = {3, 1, 1, 2}, sb[] = {9, 8};
  int64_t s1[] = {2};
  mlx_array A = arr_f32(sa, s2, 2), B = arr_f32(sb, s1, 1), x = mlx_array_new();
  CHECK_OK(mlx_linalg_solve(&x, A, B, S));
  double wx[] = {2, 3};
  CHECK_VALUES(x, wx, 2, 1e-6);
  /* Batched right-hand sides broadcast against a. */
  float bb[] = {9, 8, 3, 1, 1, 2};
  int64_t s3[] = {3, 2, 1};
  mlx_array B3 = arr_f32(bb, s3, 3);
  CHECK_OK(mlx_linalg_solve(&x, A, B3, S));
  double wx3[] = {2, 3, 1, 0, 0, 1};
  CHECK_VALUES(x, wx3, 6, 1e-6);
  /* solve_triangular with a lower / upper matrix (hand-computed). */
  float ta[] = {3, 7, 1, 2};
  mlx_array T = arr_f32(ta, s2, 2);
  CHECK_OK(mlx_linalg_solve_triangular(&x, T, B, 0, S));
  double wl[] = {3, 2.5};
  CHECK_VALUES(x, wl, 2, 1e-6);
  CHECK_OK(mlx_linalg_solve_triangular(&x, T, B, 1, S));
  double wu[] = {-19.0 / 3, 4};
  CHECK_VALUES(x, wu, 2, 1e-6);
  mlx_array_free(a), mlx_array_free(lu), mlx_array_free(piv), mlx_array_free(b), mlx_array_free(p);
  mlx_array_free(l), mlx_array_free(u), mlx_array_free(A), mlx_array_free(B), mlx_array_free(x);
  mlx_array_free(B3), mlx_array_free(T);
}

TEST(det_and_slogdet) {
  float m[] = {1, 2, 3, 4};
  int64_t s2[] = {2, 2};
  mlx_array a = arr_f32(m, s2, 2), d = mlx_array_new(), sg = mlx_array_new(), la = mlx_array_new();
  CHECK_OK(mlx_linalg_det(&d, a, S));
  double w2[] = {-2};
  CHECK_VALUES(d, w2, 1, 1e-7);
  CHECK_OK(mlx_linalg_slogdet(&sg, &la, a, S));
  double ws[] = {-1}, wl[] = {log(2.0)};
  CHECK_VALUES(sg, ws, 1, 0);
  CHECK_VALUES(la, wl, 1, 1e-6);
  /* 4x4 through the LU (Python: 235.00006, sign 1, log 5.45959). */
  float m4[] = {4, 1, 0, 2, 1, 3, 1, 0, 0, 1, 5, 1, 2, 0, 1, 6};
  int64_t s4[] = {4, 4};
  mlx_array b = arr_f32(m4, s4, 2);
  CHECK_OK(mlx_linalg_det(&d, b, S));
  double w4[] = {235};
  CHECK_VALUES(d, w4, 1, 1e-6);
  /* A permutation with a negative diagonal (Python: 6). */
  float p4[] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, -3, 0, 0, 0, 0, 2};
  mlx_array c = arr_f32(p4, s4, 2);
  CHECK_OK(mlx_linalg_det(&d, c, S));
  double w6[] = {6};
  CHECK_VALUES(d, w6, 1, 1e-6);
  /* Singular: sign 0, log -inf. */
  float ones[16];
  for (int i = 0; i < 16; i++) ones[i] = 1;
  mlx_array o = arr_f32(ones, s4, 2);
  CHECK_OK(mlx_linalg_slogdet(&sg, &la, o, S));
  double z[] = {0}, ninf[] = {-INFINITY};
  CHECK_VALUES(sg, z, 1, 0);
  CHECK_VALUES(la, ninf, 1, 0);
  /* Integers promote to float32; 0x0 matrices have determinant 1. */
  int32_t im[] = {1, 2, 3, 4};
  mlx_array ia = mlx_array_new(), e = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&ia, im, s2, 2, MLX_INT32));
  CHECK_OK(mlx_linalg_det(&d, ia, S));
  CHECK(mlx_array_dtype(d) == MLX_FLOAT32);
  CHECK_VALUES(d, w2, 1, 1e-7);
  int64_t s0[] = {2, 0, 0};
  CHECK_OK(mlx_zeros(&e, s0, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_linalg_det(&d, e, S));
  double one[] = {1, 1};
  CHECK_VALUES(d, one, 2, 0);
  mlx_array_free(a), mlx_array_free(d), mlx_array_free(sg), mlx_array_free(la), mlx_array_free(b);
  mlx_array_free(c), mlx_array_free(o), mlx_array_free(ia), mlx_array_free(e);
}

TEST(norms) {
  float m[] = {1, 2, 3, 4};
  int64_t s2[] = {2, 2};
  mlx_array a = arr_f32(m, s2, 2), r = mlx_array_new();
  /* Python: fro 5.4772258, nuc 5.8309522, 1 -> 6, -1 -> 4, inf -> 7,
   * -inf -> 3, 2 -> 5.4649858, -2 -> 0.36596623. */
  CHECK_OK(mlx_linalg_norm(&r, a, 0, 0, NULL, 0, 0, S));
  double fro[] = {5.4772257804870605};
  CHECK_VALUES(r, fro, 1, 1e-7);
  CHECK_OK(mlx_linalg_norm_str(&r, a, "fro", NULL, 0, 0, S));
  CHECK_VALUES(r, fro, 1, 1e-7);
  CHECK_OK(mlx_linalg_norm_str(&r, a, "nuc", NULL, 0, 0, S));
  double nuc[] = {5.830952167510986};
  CHECK_VALUES(r, nuc, 1, 1e-6);
  double ords[] = {1, -1, INFINITY, -INFINITY, 2, -2};
  double want[] = {6, 4, 7, 3, 5.4649858474731445, 0.36596623063087463};
  for (int i = 0; i < 6; i++) {
    CHECK_OK(mlx_linalg_norm(&r, a, 1, ords[i], NULL, 0, 0, S));
    CHECK_VALUES(r, &want[i], 1, 1e-6);
  }
  /* keepdims over both axes. */
  CHECK_OK(mlx_linalg_norm(&r, a, 1, INFINITY, NULL, 0, 1, S));
  CHECK(mlx_array_ndim(r) == 2 && mlx_array_dim(r, 0) == 1 && mlx_array_dim(r, 1) == 1);
  /* Vectors (Python: None 5.0249376, 0 -> 3, 1 -> 7.5, inf -> 4,
   * -inf -> 0.5, 0.5 -> 19.706120, 3 -> 4.5). */
  float v[] = {3, -4, 0.5};
  int64_t s1[] = {3};
  mlx_array x = arr_f32(v, s1, 1);
  double vo[] = {0, 1, INFINITY, -INFINITY, 0.5, 3};
  double vw[] = {3, 7.5, 4, 0.5, 19.706119537353516, 4.5};
  for (int i = 0; i < 6; i++) {
    CHECK_OK(mlx_linalg_norm(&r, x, 1, vo[i], NULL, 0, 0, S));
    CHECK_VALUES(r, &vw[i], 1, 1e-6);
  }
  int ax = 0;
  CHECK_OK(mlx_linalg_norm(&r, x, 0, 0, &ax, 1, 0, S));
  double l2[] = {5.024937629699707};
  CHECK_VALUES(r, l2, 1, 1e-7);
  /* Errors: 3 axes, a string ord over one axis, unknown names and ords. */
  int ax3[] = {0, 1, 2};
  int64_t s3[] = {2, 2, 2};
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_ones(&t, s3, 3, MLX_FLOAT32, S));
  CHECK_ERR(mlx_linalg_norm(&r, t, 0, 0, ax3, 3, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linalg_norm(&r, t, 1, 2, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linalg_norm_str(&r, x, "fro", NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linalg_norm_str(&r, a, "abc", NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linalg_norm(&r, a, 1, 3, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linalg_norm(&r, a, 1, 0, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(x), mlx_array_free(t);
}

TEST(cross) {
  float a3[] = {1, 2, 3}, b3[] = {4, 5, 6}, a2[] = {1, 2};
  int64_t s3[] = {3}, s2[] = {2};
  mlx_array a = arr_f32(a3, s3, 1), b = arr_f32(b3, s3, 1), c = arr_f32(a2, s2, 1), r = mlx_array_new();
  CHECK_OK(mlx_linalg_cross(&r, a, b, -1, S));
  double w[] = {-3, 6, -3}; /* hand-computed */
  CHECK_VALUES(r, w, 3, 0);
  CHECK_OK(mlx_linalg_cross(&r, c, b, 0, S));
  double w2[] = {12, -6, -3}; /* Python */
  CHECK_VALUES(r, w2, 3, 0);
  CHECK_ERR(mlx_linalg_cross(&r, a, b, 1, S), MLX_ERROR_ARGUMENT);
  float a4[] = {1, 2, 3, 4};
  int64_t s4[] = {4};
  mlx_array d = arr_f32(a4, s4, 1);
  CHECK_ERR(mlx_linalg_cross(&r, d, d, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c), mlx_array_free(r), mlx_array_free(d);
}

TEST(multivariate_normal) {
  float mv[] = {0, 1}, cv[] = {2, 0.5f, 0.5f, 1};
  int64_t s1[] = {2}, s2[] = {2, 2}, shape[] = {3};
  mlx_array mean = arr_f32(mv, s1, 1), cov = arr_f32(cv, s2, 2), key = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_random_key(&key, 0));
  CHECK_OK(mlx_random_multivariate_normal(&r, mean, cov, NULL, 0, MLX_FLOAT32, key, S));
  double w[] = {-0.9172487854957581, 1.6721293926239014}; /* Python, key(0) */
  CHECK_VALUES(r, w, 2, 2e-6);
  CHECK_OK(mlx_random_key(&key, 6));
  CHECK_OK(mlx_random_multivariate_normal(&r, mean, cov, shape, 1, MLX_FLOAT32, key, S));
  double w3[] = {0.2569589912891388, -0.2549173831939697, -1.7295739650726318,
                 1.3264110088348389, -1.6244008541107178, -0.39493894577026367}; /* Python, key(6) */
  CHECK_VALUES(r, w3, 6, 2e-6);
  CHECK_ERR(mlx_random_multivariate_normal(&r, mean, cov, NULL, 0, MLX_FLOAT64, key, S), MLX_ERROR_DTYPE);
  float m3[] = {0, 1, 2};
  int64_t s3[] = {3};
  mlx_array mean3 = arr_f32(m3, s3, 1);
  CHECK_ERR(mlx_random_multivariate_normal(&r, mean3, cov, NULL, 0, MLX_FLOAT32, key, S), MLX_ERROR_SHAPE);
  mlx_array_free(mean3);
  mlx_array_free(mean), mlx_array_free(cov), mlx_array_free(key), mlx_array_free(r);
}

/* Transposed and sliced views give the values of their dense copies. */
TEST(strided) {
  float v[] = {4, 1, 9, 2, 3, 9, 9, 9, 9};
  int64_t s3[] = {3, 3}, st[] = {0, 0}, sp[] = {2, 2}, step[] = {1, 1};
  mlx_array base = arr_f32(v, s3, 2), sl = mlx_array_new(), r = mlx_array_new(), s = mlx_array_new(),
            u = mlx_array_new(), vt = mlx_array_new();
  CHECK_OK(mlx_slice(&sl, base, st, sp, step, 2, S));
  CHECK_OK(mlx_linalg_inv(&r, sl, S));
  double w[] = {0.3, -0.1, -0.2, 0.4}; /* hand-computed */
  CHECK_VALUES(r, w, 4, 1e-6);
  mlx_array t = transpose(sl);
  CHECK_OK(mlx_linalg_inv(&r, t, S));
  double wt[] = {0.3, -0.2, -0.1, 0.4};
  CHECK_VALUES(r, wt, 4, 1e-6);
  CHECK_OK(mlx_linalg_det(&r, t, S));
  double d[] = {10};
  CHECK_VALUES(r, d, 1, 1e-6);
  CHECK_OK(mlx_linalg_svd(&u, &s, &vt, t, 1, S));
  CHECK_OK(mlx_linalg_eigvals(&r, t, S));
  CHECK_OK(mlx_eval(&r, 1));
  mlx_array_free(base), mlx_array_free(sl), mlx_array_free(r), mlx_array_free(s), mlx_array_free(u);
  mlx_array_free(vt), mlx_array_free(t);
}

TEST(empty) {
  int64_t s0[] = {0, 3}, s00[] = {0, 0}, sb[] = {0, 2, 2};
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new(), q = mlx_array_new(),
            r = mlx_array_new(), u = mlx_array_new(), s = mlx_array_new(), vt = mlx_array_new();
  CHECK_OK(mlx_zeros(&a, s0, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_zeros(&b, s00, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_zeros(&c, sb, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_linalg_qr(&q, &r, a, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_dim(q, 1) == 0 && mlx_array_dim(r, 1) == 3);
  /* svd of 0x3: vt is the 3x3 identity (as upstream). */
  CHECK_OK(mlx_linalg_svd(&u, &s, &vt, a, 1, S));
  double eye[] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK_VALUES(vt, eye, 9, 0);
  CHECK_OK(mlx_linalg_inv(&r, c, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  CHECK_OK(mlx_linalg_cholesky(&r, b, 0, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK_OK(mlx_linalg_eigvalsh(&r, b, "L", S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK_OK(mlx_linalg_eig(&u, &s, c, S));
  CHECK_OK(mlx_eval(&s, 1));
  CHECK_OK(mlx_linalg_lu_factor(&u, &s, c, S));
  CHECK_OK(mlx_eval(&s, 1));
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c), mlx_array_free(q), mlx_array_free(r);
  mlx_array_free(u), mlx_array_free(s), mlx_array_free(vt);
}

/* Batches big enough to be spread over the thread pool: every matrix
 * right, and a singular one anywhere fails the whole op. */
TEST(big_batch) {
  enum { B = 4096, N = 3 };
  static float v[B * N * N];
  uint32_t seed = 3;
  for (int i = 0; i < B * N * N; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f + ((i % (N * N)) % (N + 1) == 0 ? 4.0f : 0.0f);
  }
  int64_t sh[] = {B, N, N};
  mlx_array a = arr_f32(v, sh, 3), r = mlx_array_new(), eye = mlx_array_new(), l = mlx_array_new(),
            u = mlx_array_new(), p = mlx_array_new(), c = mlx_array_new();
  CHECK_OK(mlx_linalg_inv(&r, a, S));
  mlx_array prod = matmul(a, r);
  CHECK_OK(mlx_eye(&eye, N, N, 0, MLX_FLOAT32, S));
  CHECK(max_abs_diff(prod, eye) < 1e-5);
  /* lu: l @ u = a with rows permuted; check through det = prod(diag u)
   * (up to sign) against the cofactor det. */
  CHECK_OK(mlx_linalg_lu(&p, &l, &u, a, S));
  mlx_array lu = matmul(l, u), d1 = mlx_array_new(), d2 = mlx_array_new(), d3 = mlx_array_new();
  CHECK_OK(mlx_linalg_det(&d1, a, S));
  CHECK_OK(mlx_linalg_det(&d2, lu, S));
  CHECK_OK(mlx_abs(&d3, d1, S));
  CHECK_OK(mlx_abs(&d1, d2, S));
  CHECK(max_abs_diff(d3, d1) < 1e-3);
  /* cholesky of a a^T + I */
  mlx_array at = transpose(a), s = matmul(a, at), spd = mlx_array_new();
  CHECK_OK(mlx_add(&spd, s, eye, S));
  CHECK_OK(mlx_linalg_cholesky(&c, spd, 0, S));
  mlx_array ct = transpose(c), cc = matmul(c, ct);
  CHECK(max_abs_diff(cc, spd) < 1e-4);
  /* qr, svd, eigvalsh, eigvals over the pool: q r = a, sum(sv^2) =
   * |a|_F^2, sum of eigenvalues = trace. */
  mlx_array q = mlx_array_new(), rr = mlx_array_new(), sv = mlx_array_new(), w = mlx_array_new(),
            t1 = mlx_array_new(), t2 = mlx_array_new(), tr = mlx_array_new();
  CHECK_OK(mlx_linalg_qr(&q, &rr, a, S));
  mlx_array qr = matmul(q, rr);
  CHECK(max_abs_diff(qr, a) < 1e-5);
  int last = -1, two[2] = {-2, -1};
  CHECK_OK(mlx_linalg_svd(NULL, &sv, NULL, a, 0, S));
  CHECK_OK(mlx_square(&t1, sv, S));
  CHECK_OK(mlx_sum_axes(&t2, t1, &last, 1, 0, S));
  CHECK_OK(mlx_square(&t1, a, S));
  CHECK_OK(mlx_sum_axes(&tr, t1, two, 2, 0, S));
  CHECK(max_abs_diff(t2, tr) < 1e-3);
  mlx_array id = mlx_array_new();
  CHECK_OK(mlx_multiply(&id, spd, eye, S));
  CHECK_OK(mlx_sum_axes(&tr, id, two, 2, 0, S));
  CHECK_OK(mlx_linalg_eigvalsh(&w, spd, "L", S));
  CHECK_OK(mlx_sum_axes(&t2, w, &last, 1, 0, S));
  CHECK(max_abs_diff(t2, tr) < 1e-3);
  CHECK_OK(mlx_multiply(&id, a, eye, S));
  CHECK_OK(mlx_sum_axes(&tr, id, two, 2, 0, S));
  CHECK_OK(mlx_linalg_eigvals(&w, a, S));
  CHECK_OK(mlx_sum_axes(&t1, w, &last, 1, 0, S));
  CHECK_OK(mlx_real(&t2, t1, S));
  CHECK(max_abs_diff(t2, tr) < 1e-3);
  mlx_array_free(q), mlx_array_free(rr), mlx_array_free(sv), mlx_array_free(w), mlx_array_free(t1);
  mlx_array_free(t2), mlx_array_free(tr), mlx_array_free(qr), mlx_array_free(id);
  /* one singular matrix in the middle of the batch */
  for (int i = 0; i < N * N; i++) v[2000 * N * N + i] = 1;
  mlx_array bad = arr_f32(v, sh, 3);
  CHECK_OK(mlx_linalg_inv(&r, bad, S));
  CHECK_ERR(mlx_eval(&r, 1), MLX_ERROR_ARGUMENT);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(eye), mlx_array_free(l), mlx_array_free(u);
  mlx_array_free(p), mlx_array_free(c), mlx_array_free(prod), mlx_array_free(lu), mlx_array_free(d1);
  mlx_array_free(d2), mlx_array_free(d3), mlx_array_free(at), mlx_array_free(s), mlx_array_free(spd);
  mlx_array_free(ct), mlx_array_free(cc), mlx_array_free(bad);
}

TEST(errors) {
  float v[] = {1, 2, 2, 4};
  int64_t s2[] = {2, 2}, s1[] = {2}, s23[] = {2, 3};
  mlx_array sing = arr_f32(v, s2, 2), vec = arr_f32(v, s1, 1), r = mlx_array_new(), r2 = mlx_array_new(),
            r3 = mlx_array_new(), i32 = mlx_array_new(), f16 = mlx_array_new(), rect = mlx_array_new();
  CHECK_OK(mlx_astype(&i32, sing, MLX_INT32, S));
  CHECK_OK(mlx_astype(&f16, sing, MLX_FLOAT16, S));
  CHECK_OK(mlx_ones(&rect, s23, 2, MLX_FLOAT32, S));
  /* Singular matrices fail when evaluated, as upstream. */
  CHECK_OK(mlx_linalg_inv(&r, sing, S));
  CHECK_ERR(mlx_eval(&r, 1), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_linalg_solve(&r, sing, vec, S));
  CHECK_ERR(mlx_eval(&r, 1), MLX_ERROR_ARGUMENT);
  /* A singular LU is not an error. */
  CHECK_OK(mlx_linalg_lu_factor(&r, &r2, sing, S));
  CHECK_OK(mlx_eval(&r, 1));
  /* dtypes */
  CHECK_ERR(mlx_linalg_inv(&r, i32, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_inv(&r, f16, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_cholesky(&r, i32, 0, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_qr(&r, &r2, f16, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_svd(&r, &r2, &r3, i32, 1, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_eigh(&r, &r2, i32, "L", S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_lu(&r, &r2, &r3, f16, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_solve(&r, i32, i32, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_linalg_pinv(&r, i32, S), MLX_ERROR_DTYPE);
  /* ranks and squareness */
  CHECK_ERR(mlx_linalg_inv(&r, vec, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_inv(&r, rect, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_cholesky(&r, rect, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_eig(&r, &r2, rect, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_det(&r, rect, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_qr(&r, &r2, vec, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_linalg_solve(&r, rect, vec, S), MLX_ERROR_SHAPE);
  mlx_array rt = transpose(rect);
  CHECK_ERR(mlx_linalg_solve(&r, sing, rt, S), MLX_ERROR_SHAPE);
  mlx_array_free(rt);
  CHECK_ERR(mlx_linalg_inv(&r, mlx_array_new(), S), MLX_ERROR_ARGUMENT);
  mlx_array_free(sing), mlx_array_free(vec), mlx_array_free(r), mlx_array_free(r2), mlx_array_free(r3);
  mlx_array_free(i32), mlx_array_free(f16), mlx_array_free(rect);
}

int main(void) {
  RUN(inv_and_tri_inv);
  RUN(cholesky);
  RUN(qr_and_svd);
  RUN(eigen);
  RUN(complex_eig_svd);
  RUN(lu_and_solve);
  RUN(det_and_slogdet);
  RUN(norms);
  RUN(cross);
  RUN(multivariate_normal);
  RUN(strided);
  RUN(empty);
  RUN(big_batch);
  RUN(errors);
  return harness_report();
}
