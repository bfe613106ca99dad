/* Transform rules of the linalg primitives.
 *
 * vmap: every primitive works on the last two axes batched over the
 * leading ones, so a batched input only needs its batch axis in front
 * (upstream does the same for inverse, cholesky, svd, eigh and eig; qrf
 * and luf get the same rule here, where upstream has none).
 *
 * vjp / jvp of the inverse X = A^-1 (upstream has none; an extension that
 * makes tri_inv, solve_triangular, cholesky_inv and solve differentiable):
 *   dX = -X dA X,   cotangent of A = -X^T G X^T,
 * restricted to the triangle read when the inverse is triangular. The
 * factorizations have no derivative rules, as upstream.
 *
 * output_shapes: the result shapes from the input's, for compile's
 * shapeless mode. */
#include <string.h>

#include "mlx/linalg.h"

#include "../cpu/linalg.h"
#include "linalg.h"

/* in with its batch axis (ax >= 0) moved to the front. */
static int batch_front(mlx_array* res, const mlx_array in, int ax, mlx_stream s) {
  if (ax <= 0) return mlx_array_set(res, in);
  return mlx_moveaxis(res, in, ax, 0, s);
}

/* Runs the batched primitive on inputs[0] with its batch axis first. */
#define VMAP_RULE(name, call)                                                                                     \
  MLX_LINALG_VMAP_(name) {                                                                                        \
    mlx_array a = mlx_array_new();                                                                                \
    int rc = batch_front(&a, inputs[0], in_axes[0], s);                                                           \
    if (rc == MLX_OK) rc = (call);                                                                                \
    for (int i = 0; i < nout; i++) out_axes[i] = in_axes[0] >= 0 ? 0 : -1;                                        \
    mlx_array_free(a);                                                                                            \
    return rc;                                                                                                    \
  }

static int inverse_call(mlx_array* outs, const mlx_array a, const mlx_inverse_params_* p, mlx_stream s) {
  return p->tri ? mlx_linalg_tri_inv(outs, a, p->upper, s) : mlx_linalg_inv(outs, a, s);
}

static int svd_call(mlx_array* outs, const mlx_array a, const mlx_svd_params_* p, mlx_stream s) {
  if (!p->compute_uv) return mlx_linalg_svd(NULL, &outs[0], NULL, a, 0, s);
  return mlx_linalg_svd(&outs[0], &outs[1], &outs[2], a, 1, s);
}

static int eigh_call(mlx_array* outs, const mlx_array a, const mlx_eigh_params_* p, mlx_stream s) {
  const char* uplo = p->upper ? "U" : "L";
  return p->vectors ? mlx_linalg_eigh(&outs[0], &outs[1], a, uplo, s) : mlx_linalg_eigvalsh(&outs[0], a, uplo, s);
}

static int eig_call(mlx_array* outs, const mlx_array a, const mlx_eig_params_* p, mlx_stream s) {
  return p->vectors ? mlx_linalg_eig(&outs[0], &outs[1], a, s) : mlx_linalg_eigvals(&outs[0], a, s);
}

VMAP_RULE(inverse, inverse_call(outs, a, params, s))
VMAP_RULE(cholesky, mlx_linalg_cholesky(&outs[0], a, ((const mlx_cholesky_params_*)params)->upper, s))
VMAP_RULE(qrf, mlx_linalg_qr(&outs[0], &outs[1], a, s))
VMAP_RULE(svd, svd_call(outs, a, params, s))
VMAP_RULE(eigh, eigh_call(outs, a, params, s))
VMAP_RULE(eig, eig_call(outs, a, params, s))
VMAP_RULE(luf, mlx_linalg_luf_(outs, a, "lu_factor", s))

/* m with the entries outside the triangle that a triangular inverse reads
 * set to zero (m itself for a general inverse). */
static int mask_triangle(mlx_array* res, const mlx_array m, const mlx_inverse_params_* p, mlx_stream s) {
  if (!p->tri) return mlx_array_set(res, m);
  return p->upper ? mlx_triu(res, m, 0, s) : mlx_tril(res, m, 0, s);
}

int mlx_linalg_inverse_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                            mlx_stream s) {
  mlx_array xt = mlx_array_new(), t = mlx_array_new(), u = mlx_array_new();
  /* -X^T G X^T */
  int rc = mlx_swapaxes(&xt, outputs[0], -1, -2, s);
  if (rc == MLX_OK) rc = mlx_matmul(&t, xt, cots[0], s);
  if (rc == MLX_OK) rc = mlx_matmul(&u, t, xt, s);
  if (rc == MLX_OK) rc = mlx_negative(&t, u, s);
  if (rc == MLX_OK) rc = mask_triangle(&in_cots[0], t, params, s);
  mlx_array_free(xt), mlx_array_free(t), mlx_array_free(u);
  return rc;
}

int mlx_linalg_inverse_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                            mlx_stream s) {
  mlx_array d = mlx_array_new(), t = mlx_array_new(), u = mlx_array_new();
  /* -X dA X */
  int rc = mask_triangle(&d, tangents[0], params, s);
  if (rc == MLX_OK) rc = mlx_matmul(&t, outputs[0], d, s);
  if (rc == MLX_OK) rc = mlx_matmul(&u, t, outputs[0], s);
  if (rc == MLX_OK) rc = mlx_negative(&out_tans[0], u, s);
  mlx_array_free(d), mlx_array_free(t), mlx_array_free(u);
  return rc;
}

/* ---- output shapes ----------------------------------------------------- */
/* Checks in (rank >= 2, square when asked, ranks within cap) and writes
 * its shape into out with the last dim dropped when drop_last. */
static int mat_shape(int64_t* out, int* nd, const mlx_node_* in, int cap, int square, int drop_last,
                     const char* op) {
  if (in->ndim < 2) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Arrays must have >= 2 dimensions.", op);
  if (in->ndim > cap) return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] output shape capacity too small", op);
  if (square && in->shape[in->ndim - 1] != in->shape[in->ndim - 2])
    return mlx_error_(MLX_ERROR_SHAPE, "[linalg::%s] Only defined for square matrices.", op);
  memcpy(out, in->shape, sizeof(int64_t) * (size_t)in->ndim);
  *nd = in->ndim - (drop_last != 0);
  return MLX_OK;
}

int mlx_linalg_square_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                              const void* params) {
  return mat_shape(shapes[0], &ndims[0], ins[0], cap, 1, 0, "inv");
}

int mlx_linalg_qrf_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                           const void* params) {
  const mlx_node_* a = ins[0];
  MLX_TRY(mat_shape(shapes[0], &ndims[0], a, cap, 0, 0, "qr"));
  MLX_TRY(mat_shape(shapes[1], &ndims[1], a, cap, 0, 0, "qr"));
  int nd = a->ndim;
  int64_t m = a->shape[nd - 2], n = a->shape[nd - 1], k = m < n ? m : n;
  shapes[0][nd - 1] = k;
  shapes[1][nd - 2] = k;
  return MLX_OK;
}

int mlx_linalg_svd_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                           const void* params) {
  const mlx_svd_params_* p = params;
  const mlx_node_* a = ins[0];
  int si = p->compute_uv ? 1 : 0;
  MLX_TRY(mat_shape(shapes[si], &ndims[si], a, cap, 0, 1, "svd"));
  int nd = a->ndim;
  int64_t m = a->shape[nd - 2], n = a->shape[nd - 1];
  shapes[si][nd - 2] = m < n ? m : n;
  if (!p->compute_uv) return MLX_OK;
  MLX_TRY(mat_shape(shapes[0], &ndims[0], a, cap, 0, 0, "svd"));
  MLX_TRY(mat_shape(shapes[2], &ndims[2], a, cap, 0, 0, "svd"));
  shapes[0][nd - 1] = m;
  shapes[2][nd - 2] = n;
  return MLX_OK;
}

/* eigh and eig: values [..., n], then vectors [..., n, n] when computed. */
int mlx_linalg_eig_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                           const void* params) {
  MLX_TRY(mat_shape(shapes[0], &ndims[0], ins[0], cap, 1, 1, "eig"));
  if (nout > 1) MLX_TRY(mat_shape(shapes[1], &ndims[1], ins[0], cap, 1, 0, "eig"));
  return MLX_OK;
}

int mlx_linalg_luf_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                           const void* params) {
  const mlx_node_* a = ins[0];
  MLX_TRY(mat_shape(shapes[0], &ndims[0], a, cap, 0, 0, "lu_factor"));
  MLX_TRY(mat_shape(shapes[1], &ndims[1], a, cap, 0, 1, "lu_factor"));
  MLX_TRY(mat_shape(shapes[2], &ndims[2], a, cap, 0, 1, "lu_factor"));
  int nd = a->ndim;
  int64_t m = a->shape[nd - 2], n = a->shape[nd - 1];
  shapes[1][nd - 2] = m < n ? m : n;
  return MLX_OK;
}
