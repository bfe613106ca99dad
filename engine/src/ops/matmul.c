/* matmul: NumPy/MLX semantics. 1-D operands are promoted ([k] -> [1,k] on
 * the left, [k,1] on the right) and the added dim is dropped from the
 * result; batch dims broadcast; the result dtype is the promotion of the
 * two, which must be inexact. The node keeps the operands as given:
 * cpu/matmul.c casts, broadcasts and squeezes while it packs them, which
 * saves the separate astype / broadcast nodes upstream records. */
#include <limits.h>
#include <stdio.h>

#include "../cpu/create.h"
#include "shape.h"

static int matmul_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int matmul_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
static int matmul_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s);

static const mlx_prim_ prim_matmul = {
    .name = "matmul", .cpu = mlx_cpu_matmul_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_matmul_), .vjp = matmul_vjp, .jvp = matmul_jvp, .vmap = matmul_vmap};
MLX_REGISTER_PRIM(prim_matmul);

/* "(2,3)" into buf. */
static const char* shape_str(char* buf, size_t cap, const int64_t* shape, int ndim) {
  size_t p = 0;
  buf[p++] = '(';
  buf[p] = '\0';
  for (int i = 0; i < ndim && p + 24 < cap; i++)
    p += (size_t)snprintf(buf + p, cap - p, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (p + 2 <= cap) {
    buf[p++] = ')';
    buf[p] = '\0';
  }
  return buf;
}

int mlx_matmul(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "matmul"));
  MLX_TRY(mlx_check_array_(b, "matmul"));
  mlx_node_* na = MLX_NODE(a);
  mlx_node_* nb = MLX_NODE(b);
  if (na->ndim == 0 || nb->ndim == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[matmul] got 0 dimension input; inputs must have at least one dimension");
  /* (..., M, K) @ (..., K, N) after promoting 1-D operands. */
  int64_t m = na->ndim == 1 ? 1 : na->shape[na->ndim - 2];
  int64_t ka = na->shape[na->ndim - 1];
  int64_t kb = nb->ndim == 1 ? nb->shape[0] : nb->shape[nb->ndim - 2];
  int64_t n = nb->ndim == 1 ? 1 : nb->shape[nb->ndim - 1];
  if (ka != kb) {
    int64_t sa[2] = {1, ka}, sb[2] = {kb, 1};
    char ba[256], bb[256];
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[matmul] last dimension of first input with shape %s must match second to last dimension of "
                      "second input with shape %s",
                      na->ndim == 1 ? shape_str(ba, sizeof ba, sa, 2) : shape_str(ba, sizeof ba, na->shape, na->ndim),
                      nb->ndim == 1 ? shape_str(bb, sizeof bb, sb, 2) : shape_str(bb, sizeof bb, nb->shape, nb->ndim));
  }
  mlx_dtype dt = mlx_dtype_promote(na->dtype, nb->dtype);
  if (!mlx_dtype_is_inexact(dt))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[matmul] only inexact types are supported but %s and %s were provided which results in %s, "
                      "which is not a floating point type",
                      mlx_dtype_name(na->dtype), mlx_dtype_name(nb->dtype), mlx_dtype_name(dt));
  /* BLAS takes 32-bit dimensions. */
  if (m > INT_MAX || n > INT_MAX || ka > INT_MAX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[matmul] matrix dimensions over %d are not supported", INT_MAX);
  int bna = na->ndim > 2 ? na->ndim - 2 : 0, bnb = nb->ndim > 2 ? nb->ndim - 2 : 0;
  int cap = (bna > bnb ? bna : bnb) + 2;
  int64_t shape[cap];
  int nd;
  MLX_TRY(mlx_broadcast_shape_(shape, &nd, na->shape, bna, nb->shape, bnb, "matmul"));
  if (na->ndim > 1) shape[nd++] = m;
  if (nb->ndim > 1) shape[nd++] = n;
  mlx_node_* ins[2] = {na, nb};
  return mlx_op1_(res, &prim_matmul, NULL, 0, ins, 2, dt, shape, nd, s);
}

/* ---- transform rules ----------------------------------------------------
 * Upstream's Matmul sees operands already cast, broadcast and made 2-D by
 * ops; ours sees them as given, so its rules undo what the kernel does
 * implicitly: 1-D operands are viewed as [1, K] / [K, 1], the cotangent
 * gets the squeezed dims back, gradients are summed over the batch dims
 * the operand was broadcast along and cast to the operand's dtype. */

/* x as a matrix: a 1-D left operand [K] -> [1, K], a right one -> [K, 1]. */
static int as_matrix(mlx_array* res, const mlx_array x, int right, mlx_stream s) {
  if (mlx_array_ndim(x) != 1) return mlx_array_set(res, x);
  int64_t k = mlx_array_dim(x, 0), shape[2] = {right ? k : 1, right ? 1 : k};
  return mlx_reshape(res, x, shape, 2, s);
}

/* g ([batch..., rows, cols] for the matrix form of x) back to x: the dim a
 * 1-D x gained is dropped (axis -2 for the left operand, -1 for the
 * right), broadcast batch dims are summed away, the dtype is x's. */
static int to_operand(mlx_array* res, const mlx_array g, const mlx_array x, int right, mlx_stream s) {
  mlx_array sq = mlx_array_new(), sum = mlx_array_new();
  int ax = right ? -1 : -2;
  int rc = mlx_array_ndim(x) == 1 ? mlx_squeeze_axes(&sq, g, &ax, 1, s) : mlx_array_set(&sq, g);
  if (rc == MLX_OK) rc = mlx_sum_to_shape_(&sum, sq, mlx_array_shape(x), mlx_array_ndim(x), s);
  if (rc == MLX_OK) rc = mlx_astype(res, sum, mlx_array_dtype(x), s);
  mlx_array_free(sq), mlx_array_free(sum);
  return rc;
}

/* The gradient of a matrix b shared by a batch of a's matrices,
 * sum_i a_i^T c_i, as one product of the batch folded into rows:
 * a [batch..., M, K] -> [batch*M, K], c -> [batch*M, N], then a^T c
 * [K, N] (what upstream computes, having made a 2-D before its Matmul),
 * instead of a batch of products summed afterwards. */
static int weight_grad(mlx_array* res, const mlx_array a, const mlx_array c, mlx_stream s) {
  int na = mlx_array_ndim(a), nc = mlx_array_ndim(c);
  int64_t rows = 1;
  for (int i = 0; i < na - 1; i++) rows *= mlx_array_dim(a, i);
  int64_t as[2] = {rows, mlx_array_dim(a, na - 1)}, cs[2] = {rows, mlx_array_dim(c, nc - 1)};
  mlx_array a2 = mlx_array_new(), c2 = mlx_array_new(), at = mlx_array_new();
  int rc = mlx_reshape(&a2, a, as, 2, s);
  if (rc == MLX_OK) rc = mlx_reshape(&c2, c, cs, 2, s);
  if (rc == MLX_OK) rc = mlx_swapaxes(&at, a2, -1, -2, s);
  if (rc == MLX_OK) rc = mlx_matmul(res, at, c2, s);
  mlx_array_free(a2), mlx_array_free(c2), mlx_array_free(at);
  return rc;
}

/* d a = c @ b^T, d b = a^T @ c on the matrix forms, c being the cotangent
 * with the squeezed dims put back: [batch..., M, N]. */
static int matmul_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int a1 = mlx_array_ndim(inputs[0]) == 1, b1 = mlx_array_ndim(inputs[1]) == 1;
  int cnd = mlx_array_ndim(cots[0]), nd = cnd + a1 + b1;
  int64_t cshape[nd];
  for (int i = 0; i < nd - 2; i++) cshape[i] = mlx_array_dim(cots[0], i);
  cshape[nd - 2] = a1 ? 1 : mlx_array_dim(cots[0], cnd - 1 - !b1);
  cshape[nd - 1] = b1 ? 1 : mlx_array_dim(cots[0], cnd - 1);
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new(), t = mlx_array_new(), g = mlx_array_new();
  int rc = as_matrix(&a, inputs[0], 0, s);
  if (rc == MLX_OK) rc = as_matrix(&b, inputs[1], 1, s);
  if (rc == MLX_OK) rc = mlx_reshape(&c, cots[0], cshape, nd, s);
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    int right = argnums[k] == 1;
    if (right && mlx_array_ndim(b) == 2 && mlx_array_ndim(a) > 2) {
      rc = weight_grad(&g, a, c, s);
      if (rc == MLX_OK) rc = to_operand(&in_cots[k], g, inputs[1], 1, s);
      continue;
    }
    rc = mlx_swapaxes(&t, right ? a : b, -1, -2, s);
    if (rc == MLX_OK) rc = right ? mlx_matmul(&g, t, c, s) : mlx_matmul(&g, c, t, s);
    if (rc == MLX_OK) rc = to_operand(&in_cots[k], g, inputs[argnums[k]], right, s);
  }
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c), mlx_array_free(t), mlx_array_free(g);
  return rc;
}

/* d(a @ b) = da @ b + a @ db. */
static int matmul_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++)
    rc = argnums[k] == 0 ? mlx_matmul(&parts[k], tangents[k], inputs[1], s)
                         : mlx_matmul(&parts[k], inputs[0], tangents[k], s);
  if (rc == MLX_OK)
    rc = nargs == 2 ? mlx_add(&out_tans[0], parts[0], parts[1], s) : mlx_array_set(&out_tans[0], parts[0]);
  mlx_array_free(parts[0]), mlx_array_free(parts[1]);
  return rc;
}

/* Operand i per example (1-D ones as matrices) with the batch, if it has
 * one, in front and 1s after it up to nbatch batch dims, so that an
 * unbatched partner (whose batch dims are at most nbatch) broadcasts
 * against it. */
static int batch_front(mlx_array* res, const mlx_array x, int ax, int right, int nbatch, mlx_stream s) {
  int nd = mlx_array_ndim(x) - (ax >= 0);
  if (ax < 0) {
    if (nd != 1) return mlx_array_set(res, x);
    return as_matrix(res, x, right, s);
  }
  mlx_array front = mlx_array_new();
  int rc = mlx_moveaxis(&front, x, ax, 0, s);
  const int64_t* fs = rc == MLX_OK ? mlx_array_shape(front) : NULL;
  int mnd = nd < 2 ? 2 : nd, ond = 1 + nbatch + 2;
  int64_t shape[ond];
  for (int i = 0; fs && i < ond; i++) {
    int from_end = ond - i; /* 1 = last dim */
    if (i == 0) shape[i] = fs[0];
    else if (from_end > mnd) shape[i] = 1;
    else if (nd == 1) shape[i] = (right ? from_end == 2 : from_end == 1) ? fs[1] : 1;
    else shape[i] = fs[1 + nd - from_end];
  }
  if (rc == MLX_OK) rc = mlx_reshape(res, front, shape, ond, s);
  mlx_array_free(front);
  return rc;
}

static int matmul_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s) {
  int nda = mlx_array_ndim(inputs[0]) - (in_axes[0] >= 0), ndb = mlx_array_ndim(inputs[1]) - (in_axes[1] >= 0);
  int nbatch = (nda > ndb ? nda : ndb) - 2;
  if (nbatch < 0) nbatch = 0;
  mlx_array a = mlx_array_new(), b = mlx_array_new(), prod = mlx_array_new();
  int rc = batch_front(&a, inputs[0], in_axes[0], 0, nbatch, s);
  if (rc == MLX_OK) rc = batch_front(&b, inputs[1], in_axes[1], 1, nbatch, s);
  if (rc == MLX_OK) rc = mlx_matmul(&prod, a, b, s);
  /* [B, batch..., M, N]: drop the M of a 1-D a and the N of a 1-D b. */
  int drop[2], ndrop = 0;
  if (nda == 1) drop[ndrop++] = -2;
  if (ndb == 1) drop[ndrop++] = -1;
  if (rc == MLX_OK) rc = mlx_squeeze_axes(&outs[0], prod, drop, (size_t)ndrop, s);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(prod);
  out_axes[0] = 0;
  return rc;
}
