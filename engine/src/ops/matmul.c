/* matmul: NumPy/MLX semantics. 1-D operands are promoted ([k] -> [1,k] on
 * the left, [k,1] on the right) and the added dim is dropped from the
 * result; batch dims broadcast; the result dtype is the promotion of the
 * two, which must be inexact. The node keeps the operands as given:
 * cpu/matmul.c casts, broadcasts and squeezes while it packs them, which
 * saves the separate astype / broadcast nodes upstream records. */
#include <limits.h>
#include <stdio.h>

#include "../cpu/create.h"

static const mlx_prim_ prim_matmul = {.name = "matmul", .cpu = mlx_cpu_matmul_};

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
