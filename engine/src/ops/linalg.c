/* Linear algebra ops (mlx/linalg.h): the factorization primitives
 * (inverse, cholesky, qrf, svd, eigh, eig, luf), whose kernels are in
 * cpu/linalg.c, and the functions upstream MLX composes from them and
 * public ops (norm, pinv, cholesky_inv, lu, solve, solve_triangular, cross,
 * det, slogdet, multivariate_normal), which get their transform rules from
 * the ops they are made of. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlx/linalg.h"
#include "mlx/random.h"

#include "../cpu/linalg.h"
#include "linalg.h"

/* Dims of the shape scratch arrays here (more is an error). */
#define MAXND 64

static const mlx_prim_ prim_inverse = {.name = "linalg_inverse",
                                       .cpu = mlx_cpu_inverse_,
                                       .vjp = mlx_linalg_inverse_vjp_,
                                       .jvp = mlx_linalg_inverse_jvp_,
                                       .vmap = mlx_linalg_inverse_vmap_,
                                       .output_shapes = mlx_linalg_square_shapes_};
MLX_REGISTER_PRIM(prim_inverse);
static const mlx_prim_ prim_cholesky = {.name = "linalg_cholesky",
                                        .cpu = mlx_cpu_cholesky_,
                                        .vmap = mlx_linalg_cholesky_vmap_,
                                        .output_shapes = mlx_linalg_square_shapes_};
MLX_REGISTER_PRIM(prim_cholesky);
static const mlx_prim_ prim_qrf = {
    .name = "linalg_qrf", .cpu = mlx_cpu_qrf_, .vmap = mlx_linalg_qrf_vmap_, .output_shapes = mlx_linalg_qrf_shapes_};
MLX_REGISTER_PRIM(prim_qrf);
static const mlx_prim_ prim_svd = {
    .name = "linalg_svd", .cpu = mlx_cpu_svd_, .vmap = mlx_linalg_svd_vmap_, .output_shapes = mlx_linalg_svd_shapes_};
MLX_REGISTER_PRIM(prim_svd);
static const mlx_prim_ prim_eigh = {
    .name = "linalg_eigh", .cpu = mlx_cpu_eigh_, .vmap = mlx_linalg_eigh_vmap_, .output_shapes = mlx_linalg_eig_shapes_};
MLX_REGISTER_PRIM(prim_eigh);
static const mlx_prim_ prim_eig = {
    .name = "linalg_eig", .cpu = mlx_cpu_eig_, .vmap = mlx_linalg_eig_vmap_, .output_shapes = mlx_linalg_eig_shapes_};
MLX_REGISTER_PRIM(prim_eig);
static const mlx_prim_ prim_luf = {
    .name = "linalg_luf", .cpu = mlx_cpu_luf_, .vmap = mlx_linalg_luf_vmap_, .output_shapes = mlx_linalg_luf_shapes_};
MLX_REGISTER_PRIM(prim_luf);

/* ---- argument checks ----------------------------------------------------- */
static const char* dname(mlx_dtype t) {
  const char* n = mlx_dtype_name(t);
  return n ? n : "?";
}

/* a has >= 2 dims whose matrix sizes fit LAPACK's int. */
static int check_matrix(mlx_node_* n, const char* fn) {
  if (n->ndim < 2)
    return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Arrays must have >= 2 dimensions. Received array with %d dimensions.",
                      fn, n->ndim);
  if (n->shape[n->ndim - 1] > INT_MAX / 2 || n->shape[n->ndim - 2] > INT_MAX / 2)
    return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] matrix dimensions too large for LAPACK", fn);
  return MLX_OK;
}

static int is_square(const mlx_node_* n) { return n->shape[n->ndim - 1] == n->shape[n->ndim - 2]; }

static int check_float(mlx_dtype t, const char* fn) {
  if (t != MLX_FLOAT32 && t != MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[linalg::%s] Arrays must have type float32 or float64. Received array with type %s.", fn,
                      dname(t));
  return MLX_OK;
}

static int check_float_or_complex(mlx_dtype t, const char* fn) {
  if (t != MLX_FLOAT32 && t != MLX_FLOAT64 && t != MLX_COMPLEX64)
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[linalg::%s] Arrays must have type float32, float64 or complex64. Received array with type %s.",
                      fn, dname(t));
  return MLX_OK;
}

/* Frees a list of temporaries. */
static void free_all(mlx_array* t, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(t[i]);
}
static void new_all(mlx_array* t, int n) {
  for (int i = 0; i < n; i++) t[i] = mlx_array_new();
}

/* ---- primitives ------------------------------------------------------------ */
static int inverse_impl(mlx_array* res, const mlx_array a, int tri, int upper, const char* fn, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, fn));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float(n->dtype, fn));
  MLX_TRY(check_matrix(n, fn));
  if (!is_square(n))
    return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Inverses are only defined for square matrices.", fn);
  mlx_inverse_params_ p = {tri, upper};
  return mlx_op1_(res, &prim_inverse, &p, sizeof p, &n, 1, n->dtype, n->shape, n->ndim, s);
}

int mlx_linalg_inv(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return inverse_impl(res, a, 0, 1, "inv", s);
}

int mlx_linalg_tri_inv(mlx_array* res, const mlx_array a, int upper, const mlx_stream s) {
  return inverse_impl(res, a, 1, upper != 0, "tri_inv", s);
}

int mlx_linalg_cholesky(mlx_array* res, const mlx_array a, int upper, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::cholesky"));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float(n->dtype, "cholesky"));
  MLX_TRY(check_matrix(n, "cholesky"));
  if (!is_square(n))
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[linalg::cholesky] Cholesky decomposition is only defined for square matrices.");
  mlx_cholesky_params_ p = {upper != 0};
  return mlx_op1_(res, &prim_cholesky, &p, sizeof p, &n, 1, n->dtype, n->shape, n->ndim, s);
}

int mlx_linalg_qr(mlx_array* q, mlx_array* r, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::qr"));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float(n->dtype, "qr"));
  MLX_TRY(check_matrix(n, "qr"));
  int nd = n->ndim;
  int64_t m = n->shape[nd - 2], c = n->shape[nd - 1], k = m < c ? m : c;
  if (nd > MAXND) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::qr] too many dimensions");
  int64_t qs[MAXND], rs[MAXND];
  memcpy(qs, n->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(rs, n->shape, sizeof(int64_t) * (size_t)nd);
  qs[nd - 1] = k;
  rs[nd - 2] = k;
  mlx_array outs[2] = {mlx_array_new(), mlx_array_new()};
  const int64_t* shapes[2] = {qs, rs};
  int ndims[2] = {nd, nd};
  mlx_dtype dts[2] = {n->dtype, n->dtype};
  int rc = mlx_op_record_(outs, 2, &prim_qrf, NULL, 0, &n, 1, dts, shapes, ndims, s);
  if (rc == MLX_OK) {
    mlx_array_set(q, outs[0]);
    mlx_array_set(r, outs[1]);
  }
  free_all(outs, 2);
  return rc;
}

int mlx_linalg_svd(mlx_array* u, mlx_array* sv, mlx_array* vt, const mlx_array a, int compute_uv,
                   const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::svd"));
  if (!sv || (compute_uv && (!u || !vt)))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::svd] missing result pointer");
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float_or_complex(n->dtype, "svd"));
  MLX_TRY(check_matrix(n, "svd"));
  int nd = n->ndim;
  if (nd > MAXND) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::svd] too many dimensions");
  int64_t m = n->shape[nd - 2], c = n->shape[nd - 1];
  int64_t us[MAXND], ss[MAXND], vs[MAXND];
  memcpy(us, n->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(ss, n->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(vs, n->shape, sizeof(int64_t) * (size_t)nd);
  us[nd - 1] = m;
  ss[nd - 2] = m < c ? m : c;
  vs[nd - 2] = c;
  mlx_dtype sdt = n->dtype == MLX_COMPLEX64 ? MLX_FLOAT32 : n->dtype;
  mlx_svd_params_ p = {compute_uv != 0};
  if (!compute_uv) return mlx_op1_(sv, &prim_svd, &p, sizeof p, &n, 1, sdt, ss, nd - 1, s);
  mlx_array outs[3];
  new_all(outs, 3);
  const int64_t* shapes[3] = {us, ss, vs};
  int ndims[3] = {nd, nd - 1, nd};
  mlx_dtype dts[3] = {n->dtype, sdt, n->dtype};
  int rc = mlx_op_record_(outs, 3, &prim_svd, &p, sizeof p, &n, 1, dts, shapes, ndims, s);
  if (rc == MLX_OK) {
    mlx_array_set(u, outs[0]);
    mlx_array_set(sv, outs[1]);
    mlx_array_set(vt, outs[2]);
  }
  free_all(outs, 3);
  return rc;
}

static int eig_check(mlx_node_* n, const char* fn) {
  MLX_TRY(check_float_or_complex(n->dtype, fn));
  MLX_TRY(check_matrix(n, fn));
  if (!is_square(n)) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Only defined for square matrices.", fn);
  return MLX_OK;
}

/* Eigen-decompositions: values [..., n] (vdt) and optionally vectors. */
static int eig_record(mlx_array* w, mlx_array* v, mlx_node_* n, const mlx_prim_* prim, const void* p, size_t psz,
                      mlx_dtype wdt, mlx_dtype vdt, const mlx_stream s) {
  if (!v) return mlx_op1_(w, prim, p, psz, &n, 1, wdt, n->shape, n->ndim - 1, s);
  mlx_array outs[2] = {mlx_array_new(), mlx_array_new()};
  const int64_t* shapes[2] = {n->shape, n->shape};
  int ndims[2] = {n->ndim - 1, n->ndim};
  mlx_dtype dts[2] = {wdt, vdt};
  int rc = mlx_op_record_(outs, 2, prim, p, psz, &n, 1, dts, shapes, ndims, s);
  if (rc == MLX_OK) {
    mlx_array_set(w, outs[0]);
    mlx_array_set(v, outs[1]);
  }
  free_all(outs, 2);
  return rc;
}

static int eigh_impl(mlx_array* w, mlx_array* v, const mlx_array a, const char* uplo, const char* fn,
                     const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, fn));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(eig_check(n, fn));
  mlx_eigh_params_ p = {uplo && (uplo[0] == 'U' || uplo[0] == 'u'), v != NULL};
  mlx_dtype wdt = n->dtype == MLX_COMPLEX64 ? MLX_FLOAT32 : n->dtype;
  return eig_record(w, v, n, &prim_eigh, &p, sizeof p, wdt, n->dtype, s);
}

int mlx_linalg_eigh(mlx_array* w, mlx_array* v, const mlx_array a, const char* uplo, const mlx_stream s) {
  return eigh_impl(w, v, a, uplo, "eigh", s);
}

int mlx_linalg_eigvalsh(mlx_array* w, const mlx_array a, const char* uplo, const mlx_stream s) {
  return eigh_impl(w, NULL, a, uplo, "eigvalsh", s);
}

static int eig_impl(mlx_array* w, mlx_array* v, const mlx_array a, const char* fn, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, fn));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(eig_check(n, fn));
  mlx_eig_params_ p = {v != NULL};
  return eig_record(w, v, n, &prim_eig, &p, sizeof p, MLX_COMPLEX64, MLX_COMPLEX64, s);
}

int mlx_linalg_eig(mlx_array* w, mlx_array* v, const mlx_array a, const mlx_stream s) {
  return eig_impl(w, v, a, "eig", s);
}

int mlx_linalg_eigvals(mlx_array* w, const mlx_array a, const mlx_stream s) {
  return eig_impl(w, NULL, a, "eigvals", s);
}

int mlx_linalg_luf_(mlx_array* outs, const mlx_array a, const char* fn, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, fn));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float(n->dtype, fn));
  MLX_TRY(check_matrix(n, fn));
  int nd = n->ndim;
  if (nd > MAXND) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] too many dimensions", fn);
  int64_t m = n->shape[nd - 2], c = n->shape[nd - 1];
  int64_t ps[MAXND];
  memcpy(ps, n->shape, sizeof(int64_t) * (size_t)nd);
  ps[nd - 2] = m < c ? m : c;
  const int64_t* shapes[3] = {n->shape, ps, n->shape};
  int ndims[3] = {nd, nd - 1, nd - 1};
  mlx_dtype dts[3] = {n->dtype, MLX_UINT32, MLX_UINT32};
  return mlx_op_record_(outs, 3, &prim_luf, NULL, 0, &n, 1, dts, shapes, ndims, s);
}

int mlx_linalg_lu_factor(mlx_array* lu, mlx_array* pivots, const mlx_array a, const mlx_stream s) {
  mlx_array outs[3];
  new_all(outs, 3);
  int rc = mlx_linalg_luf_(outs, a, "lu_factor", s);
  if (rc == MLX_OK) {
    mlx_array_set(lu, outs[0]);
    mlx_array_set(pivots, outs[1]);
  }
  free_all(outs, 3);
  return rc;
}

int mlx_linalg_lu(mlx_array* p, mlx_array* l, mlx_array* u, const mlx_array a, const mlx_stream s) {
  mlx_array t[7];
  new_all(t, 7);
  mlx_array *f = t, *lo = &t[3], *up = &t[4], *eye = &t[5], *tmp = &t[6];
  int rc = mlx_linalg_luf_(f, a, "lu", s);
  int nd = rc == MLX_OK ? mlx_array_ndim(a) : 0;
  int64_t m = 0, c = 0, k = 0;
  if (rc == MLX_OK) {
    m = mlx_array_dim(a, -2), c = mlx_array_dim(a, -1), k = m < c ? m : c;
    rc = mlx_tril(lo, f[0], -1, s);
  }
  if (rc == MLX_OK) rc = mlx_triu(up, f[0], 0, s);
  /* l keeps the first k columns, u the first k rows. */
  if (rc == MLX_OK && (c != k || m != k)) {
    int64_t start[MAXND] = {0}, stop[MAXND], step[MAXND];
    for (int i = 0; i < nd; i++) stop[i] = mlx_array_dim(a, i), step[i] = 1;
    mlx_array* which = c != k ? lo : up;
    stop[c != k ? nd - 1 : nd - 2] = k;
    rc = mlx_slice(tmp, *which, start, stop, step, nd, s);
    if (rc == MLX_OK) rc = mlx_array_set(which, *tmp);
  }
  if (rc == MLX_OK) rc = mlx_eye(eye, m, k, 0, mlx_array_dtype(a), s);
  if (rc == MLX_OK) rc = mlx_add(tmp, *lo, *eye, s);
  if (rc == MLX_OK) {
    mlx_array_set(p, f[2]);
    mlx_array_set(l, *tmp);
    mlx_array_set(u, *up);
  }
  free_all(t, 7);
  return rc;
}

/* ---- composites -------------------------------------------------------------- */
int mlx_linalg_cholesky_inv(mlx_array* res, const mlx_array factor, int upper, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(factor, "linalg::cholesky_inv"));
  mlx_node_* n = MLX_NODE(factor);
  MLX_TRY(check_float(n->dtype, "cholesky_inv"));
  MLX_TRY(check_matrix(n, "cholesky_inv"));
  if (!is_square(n))
    return mlx_error_(MLX_ERROR_SHAPE, "[linalg::cholesky_inv] Cholesky inverse is only defined for square matrices.");
  mlx_array t[2];
  new_all(t, 2);
  int rc = mlx_linalg_tri_inv(&t[0], factor, upper, s);
  if (rc == MLX_OK) rc = mlx_swapaxes(&t[1], t[0], -1, -2, s);
  /* a^-1 = L^-T L^-1 (lower) or U^-1 U^-T (upper). */
  if (rc == MLX_OK) rc = upper ? mlx_matmul(res, t[0], t[1], s) : mlx_matmul(res, t[1], t[0], s);
  free_all(t, 2);
  return rc;
}

int mlx_linalg_pinv(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::pinv"));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(check_float(n->dtype, "pinv"));
  MLX_TRY(check_matrix(n, "pinv"));
  int nd = n->ndim;
  int64_t m = n->shape[nd - 2], c = n->shape[nd - 1], k = m < c ? m : c;
  mlx_dtype dt = n->dtype;
  mlx_array t[12];
  new_all(t, 12);
  mlx_array *u = &t[0], *sv = &t[1], *vt = &t[2], *us = &t[3], *vs = &t[4], *se = &t[5], *cut = &t[6], *mx = &t[7],
            *rs = &t[8], *zero = &t[9], *gt = &t[10], *tmp = &t[11];
  int rc = mlx_linalg_svd(u, sv, vt, a, 1, s);
  int64_t start[MAXND] = {0}, stop[MAXND], step[MAXND];
  for (int i = 0; i < nd; i++) stop[i] = n->shape[i], step[i] = 1;
  /* U[..., :, :k]^T and V[..., :k, :]^T */
  stop[nd - 2] = m, stop[nd - 1] = k;
  if (rc == MLX_OK) rc = mlx_slice(tmp, *u, start, stop, step, nd, s);
  if (rc == MLX_OK) rc = mlx_swapaxes(us, *tmp, -1, -2, s);
  stop[nd - 2] = k, stop[nd - 1] = c;
  if (rc == MLX_OK) rc = mlx_slice(tmp, *vt, start, stop, step, nd, s);
  if (rc == MLX_OK) rc = mlx_swapaxes(vs, *tmp, -1, -2, s);
  int ax = -2;
  if (rc == MLX_OK) rc = mlx_expand_dims(se, *sv, &ax, 1, s);
  double eps = dt == MLX_FLOAT64 ? 2.220446049250313e-16 : 1.1920928955078125e-07;
  double rcond = 10.0 * (double)(m > c ? m : c) * eps;
  int last = -1;
  if (rc == MLX_OK) rc = mlx_array_new_float(tmp, rcond, dt);
  if (rc == MLX_OK) rc = mlx_max_axes(mx, *se, &last, 1, 1, s);
  if (rc == MLX_OK) rc = mlx_multiply(cut, *tmp, *mx, s);
  if (rc == MLX_OK) rc = mlx_greater(gt, *se, *cut, s);
  if (rc == MLX_OK) rc = mlx_reciprocal(tmp, *se, s);
  if (rc == MLX_OK) rc = mlx_array_new_float(zero, 0.0, dt);
  if (rc == MLX_OK) rc = mlx_where(rs, *gt, *tmp, *zero, s);
  if (rc == MLX_OK) rc = mlx_multiply(tmp, *vs, *rs, s);
  if (rc == MLX_OK) rc = mlx_matmul(res, *tmp, *us, s);
  free_all(t, 12);
  return rc;
}

/* Shape checks shared by solve and solve_triangular (upstream's order). */
static int validate_solve(const mlx_array a, const mlx_array b, const char* fn) {
  MLX_TRY(mlx_check_array_(a, fn));
  MLX_TRY(mlx_check_array_(b, fn));
  mlx_node_* na = MLX_NODE(a);
  mlx_node_* nb = MLX_NODE(b);
  if (na->ndim < 2)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[linalg::%s] First input must have >= 2 dimensions. Received array with %d dimensions.", fn,
                      na->ndim);
  if (nb->ndim < 1)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[linalg::%s] Second input must have >= 1 dimensions. Received array with %d dimensions.", fn,
                      nb->ndim);
  if (!is_square(na)) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] First input must be a square matrix.", fn);
  int64_t bd = nb->shape[nb->ndim > 1 ? nb->ndim - 2 : 0];
  if (na->shape[na->ndim - 1] != bd)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[linalg::%s] Last dimension of first input must match second to last dimension of second "
                      "input.",
                      fn);
  mlx_dtype t = mlx_dtype_promote(na->dtype, nb->dtype);
  if (t != MLX_FLOAT32 && t != MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[linalg::%s] Input arrays must promote to float32 or float64. Received arrays with type %s "
                      "and %s.",
                      fn, dname(na->dtype), dname(nb->dtype));
  return MLX_OK;
}

int mlx_linalg_solve_triangular(mlx_array* res, const mlx_array a, const mlx_array b, int upper,
                                const mlx_stream s) {
  MLX_TRY(validate_solve(a, b, "solve_triangular"));
  mlx_array ai = mlx_array_new();
  int rc = mlx_linalg_tri_inv(&ai, a, upper, s);
  if (rc == MLX_OK) rc = mlx_matmul(res, ai, b, s);
  mlx_array_free(ai);
  return rc;
}

/* x = U^-1 L^-1 P b with P from the LU's row permutation p (a[i] is row
 * p[i] of L @ U): P[i, j] = (p[j] == i) applied as a matmul, so that b's
 * batch dims broadcast against a's. */
int mlx_linalg_solve(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(validate_solve(a, b, "solve"));
  mlx_array t[9];
  new_all(t, 9);
  mlx_array *p = &t[0], *l = &t[1], *u = &t[2], *pe = &t[3], *ar = &t[4], *eq = &t[5], *pm = &t[6], *pb = &t[7],
            *y = &t[8];
  int rc = mlx_linalg_lu(p, l, u, a, s);
  int64_t n = mlx_array_dim(a, -1);
  int ax = -2;
  if (rc == MLX_OK) rc = mlx_expand_dims(pe, *p, &ax, 1, s);
  if (rc == MLX_OK) rc = mlx_arange(ar, 0, (double)n, 1, MLX_UINT32, s);
  int64_t col[2] = {n, 1};
  if (rc == MLX_OK) rc = mlx_reshape(eq, *ar, col, 2, s);
  if (rc == MLX_OK) rc = mlx_equal(ar, *pe, *eq, s);
  if (rc == MLX_OK) rc = mlx_astype(pm, *ar, mlx_array_dtype(a), s);
  if (rc == MLX_OK) rc = mlx_stop_gradient(eq, *pm, s);
  if (rc == MLX_OK) rc = mlx_matmul(pb, *eq, b, s);
  if (rc == MLX_OK) rc = mlx_linalg_solve_triangular(y, *l, *pb, 0, s);
  if (rc == MLX_OK) rc = mlx_linalg_solve_triangular(res, *u, *y, 1, s);
  free_all(t, 9);
  return rc;
}

int mlx_linalg_cross(mlx_array* res, const mlx_array a, const mlx_array b, int axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::cross"));
  MLX_TRY(mlx_check_array_(b, "linalg::cross"));
  const mlx_node_* ns[2] = {MLX_NODE(a), MLX_NODE(b)};
  int64_t sh[2][MAXND];
  for (int i = 0; i < 2; i++) {
    int nd = ns[i]->ndim;
    if (axis >= nd || axis + nd < 0)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::cross] axis %d invalid for array with %d dimensions.", axis,
                        nd);
    if (nd > MAXND) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::cross] too many dimensions");
    int64_t d = ns[i]->shape[axis < 0 ? axis + nd : axis];
    if (d < 2 || d > 3) return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::cross] The specified axis must have size 2 or 3.");
    memcpy(sh[i], ns[i]->shape, sizeof(int64_t) * (size_t)nd);
    sh[i][axis < 0 ? axis + nd : axis] = 3;
  }
  int a2 = ns[0]->shape[axis < 0 ? axis + ns[0]->ndim : axis] == 2;
  int b2 = ns[1]->shape[axis < 0 ? axis + ns[1]->ndim : axis] == 2;
  int64_t out[MAXND * 2];
  int ond;
  MLX_TRY(mlx_broadcast_shapes(out, &ond, sh[0], ns[0]->ndim, sh[1], ns[1]->ndim));
  int ax = axis < 0 ? axis + ond : axis;
  mlx_dtype dt = mlx_dtype_promote(ns[0]->dtype, ns[1]->dtype);
  mlx_array t[16];
  new_all(t, 16);
  mlx_array *ab = &t[0], *bb = &t[1], *as = &t[2], *bs = &t[5], *o = &t[8], *x = &t[11], *y = &t[12], *tmp = &t[13];
  int rc = MLX_OK;
  out[ax] = a2 ? 2 : 3;
  rc = mlx_astype(tmp, a, dt, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(ab, *tmp, out, ond, s);
  out[ax] = b2 ? 2 : 3;
  if (rc == MLX_OK) rc = mlx_astype(tmp, b, dt, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(bb, *tmp, out, ond, s);
  if (rc == MLX_OK) rc = mlx_split_equal(as, *ab, a2 ? 2 : 3, ax, s);
  if (rc == MLX_OK) rc = mlx_split_equal(bs, *bb, b2 ? 2 : 3, ax, s);
  /* o0 = a1 b2 - a2 b1, o1 = a2 b0 - a0 b2, o2 = a0 b1 - a1 b0, with a
   * missing third component as zero. */
  if (rc == MLX_OK) {
    if (a2 && b2) {
      rc = mlx_zeros_like(&o[0], as[0], s);
      if (rc == MLX_OK) rc = mlx_array_set(&o[1], o[0]);
    } else if (b2) {
      rc = mlx_multiply(x, as[2], bs[1], s);
      if (rc == MLX_OK) rc = mlx_negative(&o[0], *x, s);
      if (rc == MLX_OK) rc = mlx_multiply(&o[1], as[2], bs[0], s);
    } else if (a2) {
      rc = mlx_multiply(&o[0], as[1], bs[2], s);
      if (rc == MLX_OK) rc = mlx_multiply(x, as[0], bs[2], s);
      if (rc == MLX_OK) rc = mlx_negative(&o[1], *x, s);
    } else {
      rc = mlx_multiply(x, as[1], bs[2], s);
      if (rc == MLX_OK) rc = mlx_multiply(y, as[2], bs[1], s);
      if (rc == MLX_OK) rc = mlx_subtract(&o[0], *x, *y, s);
      if (rc == MLX_OK) rc = mlx_multiply(x, as[2], bs[0], s);
      if (rc == MLX_OK) rc = mlx_multiply(y, as[0], bs[2], s);
      if (rc == MLX_OK) rc = mlx_subtract(&o[1], *x, *y, s);
    }
  }
  if (rc == MLX_OK) rc = mlx_multiply(x, as[0], bs[1], s);
  if (rc == MLX_OK) rc = mlx_multiply(y, as[1], bs[0], s);
  if (rc == MLX_OK) rc = mlx_subtract(&o[2], *x, *y, s);
  if (rc == MLX_OK) rc = mlx_concatenate(res, o, 3, ax, s);
  free_all(t, 16);
  return rc;
}

/* ---- det / slogdet ------------------------------------------------------------ */
static int det_check(const mlx_array a, const char* fn) {
  MLX_TRY(mlx_check_array_(a, fn));
  mlx_node_* n = MLX_NODE(a);
  if (mlx_dtype_is_complex(n->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[linalg::%s] Complex inputs are not supported.", fn);
  MLX_TRY(check_matrix(n, fn));
  if (!is_square(n)) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Only defined for square matrices.", fn);
  return MLX_OK;
}

static mlx_dtype at_least_float(mlx_dtype t) {
  return mlx_dtype_is_inexact(t) ? t : mlx_dtype_promote(t, MLX_FLOAT32);
}

/* a[..., i, j] as [...]. */
static int elem(mlx_array* res, const mlx_array a, int i, int j, const mlx_stream s) {
  int nd = mlx_array_ndim(a);
  int64_t start[MAXND] = {0}, stop[MAXND], step[MAXND];
  for (int d = 0; d < nd; d++) stop[d] = mlx_array_dim(a, d), step[d] = 1;
  start[nd - 2] = i, stop[nd - 2] = i + 1, start[nd - 1] = j, stop[nd - 1] = j + 1;
  mlx_array t = mlx_array_new();
  int ax[2] = {-2, -1};
  int rc = mlx_slice(&t, a, start, stop, step, nd, s);
  if (rc == MLX_OK) rc = mlx_squeeze_axes(res, t, ax, 2, s);
  mlx_array_free(t);
  return rc;
}

/* Determinant of n <= 3 matrices by cofactors (upstream's fast path). */
static int det_small(mlx_array* res, const mlx_array a, const mlx_stream s) {
  int nd = mlx_array_ndim(a);
  int64_t n = mlx_array_dim(a, -1);
  if (n == 0) {
    mlx_array one = mlx_array_new();
    int rc = mlx_array_new_float(&one, 1.0, mlx_array_dtype(a));
    if (rc == MLX_OK) rc = mlx_broadcast_to(res, one, mlx_array_shape(a), nd - 2, s);
    mlx_array_free(one);
    return rc;
  }
  if (n == 1) return elem(res, a, 0, 0, s);
  mlx_array e[9], t[4];
  new_all(e, 9);
  new_all(t, 4);
  int rc = MLX_OK;
  for (int i = 0; i < n && rc == MLX_OK; i++)
    for (int j = 0; j < n && rc == MLX_OK; j++) rc = elem(&e[i * 3 + j], a, i, j, s);
#define MUL(o, x, y) \
  if (rc == MLX_OK) rc = mlx_multiply(o, x, y, s)
#define SUB(o, x, y) \
  if (rc == MLX_OK) rc = mlx_subtract(o, x, y, s)
  if (n == 2) {
    MUL(&t[0], e[0], e[4]);
    MUL(&t[1], e[1], e[3]);
    SUB(res, t[0], t[1]);
  } else {
    /* a00 (a11 a22 - a12 a21) - a01 (a10 a22 - a12 a20) + a02 (a10 a21 - a11 a20) */
    mlx_array acc = mlx_array_new();
    MUL(&t[0], e[4], e[8]);
    MUL(&t[1], e[5], e[7]);
    SUB(&t[2], t[0], t[1]);
    MUL(&t[3], e[0], t[2]);
    MUL(&t[0], e[3], e[8]);
    MUL(&t[1], e[5], e[6]);
    SUB(&t[2], t[0], t[1]);
    MUL(&t[0], e[1], t[2]);
    SUB(&acc, t[3], t[0]);
    MUL(&t[0], e[3], e[7]);
    MUL(&t[1], e[4], e[6]);
    SUB(&t[2], t[0], t[1]);
    MUL(&t[0], e[2], t[2]);
    if (rc == MLX_OK) rc = mlx_add(res, acc, t[0], s);
    mlx_array_free(acc);
  }
#undef MUL
#undef SUB
  free_all(e, 9);
  free_all(t, 4);
  return rc;
}

/* sign and log|det| of float matrices (n > 3) through lu_factor. */
static int slogdet_lu(mlx_array* sign, mlx_array* logabs, const mlx_array a, const mlx_stream s) {
  mlx_dtype dt = mlx_array_dtype(a);
  int64_t n = mlx_array_dim(a, -1);
  mlx_array t[16];
  new_all(t, 16);
  mlx_array *lu = &t[0], *piv = &t[1], *eye = &t[2], *diag = &t[3], *io = &t[4], *ne = &t[5], *par = &t[6],
            *neg = &t[7], *tot = &t[8], *two = &t[9], *one = &t[10], *zero = &t[11], *tmp = &t[12], *sg = &t[13],
            *isz = &t[14], *la = &t[15];
  int last = -1;
  int rc = mlx_linalg_lu_factor(lu, piv, a, s);
  /* The diagonal of U: LU masked by the identity, summed over rows. */
  if (rc == MLX_OK) rc = mlx_eye(eye, n, n, 0, dt, s);
  if (rc == MLX_OK) rc = mlx_multiply(tmp, *lu, *eye, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(diag, *tmp, &last, 1, 0, s);
  /* Parity of the permutation: pivots that are not the identity. */
  if (rc == MLX_OK) rc = mlx_arange(io, 0, (double)n, 1, MLX_UINT32, s);
  if (rc == MLX_OK) rc = mlx_not_equal(ne, *piv, *io, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(tmp, *ne, &last, 1, 0, s);
  if (rc == MLX_OK) rc = mlx_astype(par, *tmp, MLX_INT32, s);
  if (rc == MLX_OK) rc = mlx_array_new_float(zero, 0.0, dt);
  if (rc == MLX_OK) rc = mlx_less(ne, *diag, *zero, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(tmp, *ne, &last, 1, 0, s);
  if (rc == MLX_OK) rc = mlx_astype(neg, *tmp, MLX_INT32, s);
  if (rc == MLX_OK) rc = mlx_add(tot, *par, *neg, s);
  if (rc == MLX_OK) rc = mlx_array_new_int(two, 2, MLX_INT32);
  if (rc == MLX_OK) rc = mlx_array_new_int(one, 1, MLX_INT32);
  if (rc == MLX_OK) rc = mlx_remainder(tmp, *tot, *two, s);
  if (rc == MLX_OK) rc = mlx_multiply(tot, *tmp, *two, s);
  if (rc == MLX_OK) rc = mlx_subtract(tmp, *one, *tot, s);
  if (rc == MLX_OK) rc = mlx_astype(sg, *tmp, dt, s);
  if (rc == MLX_OK) rc = mlx_abs(tmp, *diag, s);
  if (rc == MLX_OK) rc = mlx_log(ne, *tmp, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(la, *ne, &last, 1, 0, s);
  /* Singular: a zero on U's diagonal. */
  if (rc == MLX_OK) rc = mlx_equal(tmp, *diag, *zero, s);
  if (rc == MLX_OK) rc = mlx_any_axes(isz, *tmp, &last, 1, 0, s);
  if (rc == MLX_OK) rc = mlx_where(sign, *isz, *zero, *sg, s);
  if (rc == MLX_OK) rc = mlx_array_new_float(tmp, -INFINITY, dt);
  if (rc == MLX_OK) rc = mlx_where(logabs, *isz, *tmp, *la, s);
  free_all(t, 16);
  return rc;
}

int mlx_linalg_slogdet(mlx_array* sign, mlx_array* logabsdet, const mlx_array a, const mlx_stream s) {
  MLX_TRY(det_check(a, "slogdet"));
  mlx_array t[3];
  new_all(t, 3);
  int rc = mlx_astype(&t[0], a, at_least_float(mlx_array_dtype(a)), s);
  if (rc == MLX_OK && mlx_array_dim(a, -1) <= 3) {
    rc = det_small(&t[1], t[0], s);
    if (rc == MLX_OK) rc = mlx_abs(&t[2], t[1], s);
    if (rc == MLX_OK) rc = mlx_log(logabsdet, t[2], s);
    if (rc == MLX_OK) rc = mlx_sign(sign, t[1], s);
  } else if (rc == MLX_OK) {
    rc = slogdet_lu(sign, logabsdet, t[0], s);
  }
  free_all(t, 3);
  return rc;
}

int mlx_linalg_det(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(det_check(a, "det"));
  mlx_array t[4];
  new_all(t, 4);
  int rc = mlx_astype(&t[0], a, at_least_float(mlx_array_dtype(a)), s);
  if (rc == MLX_OK && mlx_array_dim(a, -1) <= 3) {
    rc = det_small(res, t[0], s);
  } else if (rc == MLX_OK) {
    rc = slogdet_lu(&t[1], &t[2], t[0], s);
    if (rc == MLX_OK) rc = mlx_exp(&t[3], t[2], s);
    if (rc == MLX_OK) rc = mlx_multiply(res, t[1], t[3], s);
  }
  free_all(t, 4);
  return rc;
}

/* ---- norm ------------------------------------------------------------------------ */
/* sqrt(sum(|a|^2)) over axes (all when axes is NULL). */
static int l2_norm(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims,
                   const mlx_stream s) {
  mlx_array t[2];
  new_all(t, 2);
  int rc;
  if (mlx_dtype_is_complex(mlx_array_dtype(a))) {
    rc = mlx_abs(&t[0], a, s);
    if (rc == MLX_OK) rc = mlx_multiply(&t[1], t[0], t[0], s);
  } else {
    rc = mlx_square(&t[1], a, s);
  }
  if (rc == MLX_OK) rc = axes ? mlx_sum_axes(&t[0], t[1], axes, naxes, keepdims, s) : mlx_sum(&t[0], t[1], keepdims, s);
  if (rc == MLX_OK) rc = mlx_sqrt(res, t[0], s);
  free_all(t, 2);
  return rc;
}

static int vector_norm(mlx_array* res, const mlx_array a, double ord, int axis, int keepdims, const mlx_stream s) {
  mlx_dtype dt = at_least_float(mlx_array_dtype(a));
  if (ord == 2.0) return l2_norm(res, a, &axis, 1, keepdims, s);
  mlx_array t[4];
  new_all(t, 4);
  int rc;
  if (ord == 0.0) {
    rc = mlx_array_new_int(&t[0], 0, MLX_INT32);
    if (rc == MLX_OK) rc = mlx_not_equal(&t[1], a, t[0], s);
    if (rc == MLX_OK) rc = mlx_sum_axes(&t[2], t[1], &axis, 1, keepdims, s);
    if (rc == MLX_OK) rc = mlx_astype(res, t[2], dt, s);
  } else if (ord == 1.0 || isinf(ord)) {
    rc = mlx_abs(&t[0], a, s);
    if (rc == MLX_OK)
      rc = ord == 1.0  ? mlx_sum_axes(&t[1], t[0], &axis, 1, keepdims, s)
           : ord > 0 ? mlx_max_axes(&t[1], t[0], &axis, 1, keepdims, s)
                     : mlx_min_axes(&t[1], t[0], &axis, 1, keepdims, s);
    if (rc == MLX_OK) rc = mlx_astype(res, t[1], dt, s);
  } else {
    /* sum(|a|^ord)^(1/ord) */
    rc = mlx_abs(&t[0], a, s);
    if (rc == MLX_OK) rc = mlx_array_new_float(&t[1], ord, dt);
    if (rc == MLX_OK) rc = mlx_power(&t[2], t[0], t[1], s);
    if (rc == MLX_OK) rc = mlx_sum_axes(&t[3], t[2], &axis, 1, keepdims, s);
    if (rc == MLX_OK) rc = mlx_array_new_float(&t[1], 1.0 / ord, dt);
    if (rc == MLX_OK) rc = mlx_power(res, t[3], t[1], s);
  }
  free_all(t, 4);
  return rc;
}

/* Singular values of the matrices in axes (r, c) of a, reduced by kind
 * ('M' max, 'm' min, 's' sum) over the last axis, axes kept as size 1
 * when keepdims. */
static int sv_norm(mlx_array* res, const mlx_array a, int r, int c, char kind, int keepdims, const mlx_stream s) {
  int nd = mlx_array_ndim(a);
  int row = r < 0 ? r + nd : r, col = c < 0 ? c + nd : c;
  mlx_array t[3];
  new_all(t, 3);
  int rc;
  if (row > col) {
    rc = mlx_moveaxis(&t[0], a, row, -1, s);
    if (rc == MLX_OK) rc = mlx_moveaxis(&t[1], t[0], col, -1, s);
  } else {
    rc = mlx_moveaxis(&t[0], a, col, -1, s);
    if (rc == MLX_OK) rc = mlx_moveaxis(&t[1], t[0], row, -2, s);
  }
  if (rc == MLX_OK) rc = mlx_linalg_svd(NULL, &t[0], NULL, t[1], 0, s);
  int last = -1;
  mlx_array* dst = keepdims ? &t[2] : res;
  if (rc == MLX_OK)
    rc = kind == 's'   ? mlx_sum_axes(dst, t[0], &last, 1, 0, s)
         : kind == 'M' ? mlx_max_axes(dst, t[0], &last, 1, 0, s)
                       : mlx_min_axes(dst, t[0], &last, 1, 0, s);
  if (rc == MLX_OK && keepdims) {
    int sorted[2] = {row < col ? row : col, row < col ? col : row};
    rc = mlx_expand_dims(res, t[2], sorted, 2, s);
  }
  free_all(t, 3);
  return rc;
}

static int matrix_norm(mlx_array* res, const mlx_array a, double ord, const int* axes, int keepdims,
                       const mlx_stream s) {
  mlx_dtype dt = at_least_float(mlx_array_dtype(a));
  int row = axes[0], col = axes[1];
  mlx_array t[3];
  new_all(t, 3);
  int rc;
  if (ord == 1.0 || ord == -1.0 || isinf(ord)) {
    /* +-1: max/min over columns of the column sums; +-inf: over rows of
     * the row sums. The second axis shifts when the first is dropped. */
    int first = isinf(ord) ? col : row, second = isinf(ord) ? row : col;
    second -= (!keepdims && second > first && second > 0);
    int big = ord > 0;
    rc = mlx_abs(&t[0], a, s);
    if (rc == MLX_OK) rc = mlx_sum_axes(&t[1], t[0], &first, 1, keepdims, s);
    if (rc == MLX_OK)
      rc = big ? mlx_max_axes(&t[2], t[1], &second, 1, keepdims, s) : mlx_min_axes(&t[2], t[1], &second, 1, keepdims, s);
    if (rc == MLX_OK) rc = mlx_astype(res, t[2], dt, s);
  } else if (ord == 2.0 || ord == -2.0) {
    rc = sv_norm(&t[0], a, row, col, ord > 0 ? 'M' : 'm', keepdims, s);
    if (rc == MLX_OK) rc = mlx_astype(res, t[0], dt, s);
  } else {
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] Invalid ord %g for matrix norm.", ord);
  }
  free_all(t, 3);
  return rc;
}

/* Axes (all of a's when axes is NULL) into buf; error past 2 of them
 * (0 axes too: a 0-d array with an ord). */
static int norm_axes(int* buf, size_t* n, const mlx_array a, const int* axes, size_t naxes) {
  if (!axes) {
    int nd = mlx_array_ndim(a);
    if (nd > 2 || nd == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] Received too many axes for norm.");
    for (int i = 0; i < nd; i++) buf[i] = i;
    *n = (size_t)nd;
    return MLX_OK;
  }
  if (naxes > 2 || naxes == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] Received too many axes for norm.");
  /* Negative axes of a matrix norm count from the end once (as Python
   * MLX 0.32 does before the axis arithmetic of the +-1/+-inf norms);
   * what is still out of range fails in the reductions. */
  int nd = mlx_array_ndim(a);
  for (size_t i = 0; i < naxes; i++) buf[i] = naxes == 2 && axes[i] < 0 ? axes[i] + nd : axes[i];
  *n = naxes;
  return MLX_OK;
}

int mlx_linalg_norm(mlx_array* res, const mlx_array a, int has_ord, double ord, const int* axes, size_t naxes,
                    int keepdims, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::norm"));
  if (!has_ord) {
    if (axes && naxes > 2) return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] Received too many axes for norm.");
    return l2_norm(res, a, axes, naxes, keepdims, s);
  }
  int ax[2] = {0, 0};
  size_t n = 0;
  MLX_TRY(norm_axes(ax, &n, a, axes, naxes));
  if (n == 1) return vector_norm(res, a, ord, ax[0], keepdims, s);
  return matrix_norm(res, a, ord, ax, keepdims, s);
}

int mlx_linalg_norm_str(mlx_array* res, const mlx_array a, const char* ord, const int* axes, size_t naxes,
                        int keepdims, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "linalg::norm"));
  if (!ord) return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] ord is NULL");
  int ax[2] = {0, 0};
  size_t n = axes ? naxes : (size_t)mlx_array_ndim(a);
  if (n != 2)
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[linalg::norm] Norm '%s' only supported for matrices, but received %zu axis/axes.", ord, n);
  MLX_TRY(norm_axes(ax, &n, a, axes, naxes));
  if (!strcmp(ord, "f") || !strcmp(ord, "fro")) return l2_norm(res, a, ax, 2, keepdims, s);
  if (!strcmp(ord, "nuc")) return sv_norm(res, a, ax[0], ax[1], 's', keepdims, s);
  return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::norm] Invalid ord value '%s' for matrix norm.", ord);
}

/* ---- multivariate normal ------------------------------------------------------ */
int mlx_random_multivariate_normal(mlx_array* res, const mlx_array mean, const mlx_array cov, const int64_t* shape,
                                   int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(mean, "multivariate_normal"));
  MLX_TRY(mlx_check_array_(cov, "multivariate_normal"));
  if (dtype != MLX_FLOAT32) return mlx_error_(MLX_ERROR_DTYPE, "[multivariate_normal] dtype must be float32.");
  const mlx_node_* nm = MLX_NODE(mean);
  const mlx_node_* nc = MLX_NODE(cov);
  if (nm->ndim < 1)
    return mlx_error_(MLX_ERROR_SHAPE, "[multivariate_normal] mean must have at least one dimension.");
  if (nc->ndim < 2) return mlx_error_(MLX_ERROR_SHAPE, "[multivariate_normal] cov must have at least two dimensions.");
  int64_t n = nm->shape[nm->ndim - 1];
  if (nc->shape[nc->ndim - 1] != nc->shape[nc->ndim - 2])
    return mlx_error_(MLX_ERROR_SHAPE, "[multivariate_normal] last two dimensions of cov must be equal.");
  if (n != nc->shape[nc->ndim - 1])
    return mlx_error_(MLX_ERROR_SHAPE, "[multivariate_normal] mean and cov must have compatible shapes.");
  if (nm->ndim > MAXND || nc->ndim > MAXND || ndim > MAXND || ndim < 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[multivariate_normal] too many dimensions");
  int64_t o1[2 * MAXND], o2[3 * MAXND + 1];
  int n1, n2;
  MLX_TRY(mlx_broadcast_shapes(o1, &n1, nc->shape, nc->ndim - 2, nm->shape, nm->ndim - 1));
  MLX_TRY(mlx_broadcast_shapes(o2, &n2, o1, n1, shape, ndim));
  o2[n2++] = n;
  mlx_array t[9];
  new_all(t, 9);
  mlx_array *c = &t[0], *u = &t[1], *sv = &t[2], *vt = &t[3], *sq = &t[4], *sd = &t[5], *z = &t[6], *ze = &t[7],
            *tmp = &t[8];
  int ax = -2;
  /* The square root of cov from its SVD: U sqrt(S) V^T. */
  int rc = mlx_astype(c, cov, MLX_FLOAT32, s);
  if (rc == MLX_OK) rc = mlx_linalg_svd(u, sv, vt, *c, 1, s);
  if (rc == MLX_OK) rc = mlx_sqrt(tmp, *sv, s);
  if (rc == MLX_OK) rc = mlx_expand_dims(sq, *tmp, &ax, 1, s);
  if (rc == MLX_OK) rc = mlx_multiply(tmp, *u, *sq, s);
  if (rc == MLX_OK) rc = mlx_matmul(sq, *tmp, *vt, s);
  if (rc == MLX_OK) rc = mlx_astype(sd, *sq, dtype, s);
  if (rc == MLX_OK) rc = mlx_random_normal(z, o2, n2, dtype, 0.0, 1.0, key, s);
  if (rc == MLX_OK) rc = mlx_expand_dims(ze, *z, &ax, 1, s);
  if (rc == MLX_OK) rc = mlx_matmul(tmp, *ze, *sd, s);
  if (rc == MLX_OK) rc = mlx_squeeze_axes(z, *tmp, &ax, 1, s);
  if (rc == MLX_OK) rc = mlx_add(res, mean, *z, s);
  free_all(t, 9);
  return rc;
}
