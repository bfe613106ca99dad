/* Scans: cumsum, cumprod, cummax, cummin, logcumsumexp. One primitive,
 * "scan", with the kind, axis, direction and inclusiveness in its params
 * (upstream's Scan); the kernel is in cpu/scan.c, the rules in
 * sort_rules.c.
 *
 * Result dtypes as upstream (Python mlx 0.32): cumsum of bool is int32,
 * every other scan keeps the input's dtype except logcumsumexp, which is
 * at least float32 (integer and bool inputs are cast to float32 first).
 * An axis out of range (any axis of a 0-d array) is MLX_ERROR_INDEX. */
#include "mlx/sort.h"
#include "../cpu/sort.h"
#include "sort_rules.h"

/* The output has the input's shape (output_shapes: the elementwise rule of
 * one input), so compile's shapeless mode can replay scans. */
static const mlx_prim_ prim_scan = {.name = "scan",
                                    .cpu = mlx_cpu_scan_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_scan_),
                                    .vjp = mlx_scan_vjp_,
                                    .jvp = mlx_scan_jvp_,
                                    .vmap = mlx_scan_vmap_,
                                    .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_scan);

static int scan(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, int kind, const char* op,
                mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, op));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (axis >= nd || axis < -nd)
    return mlx_error_(MLX_ERROR_INDEX, "[%s] Axis %d is out of bounds for array with %d dimensions.", op, axis, nd);
  mlx_scan_params_ p = {.kind = kind, .axis = axis < 0 ? axis + nd : axis, .reverse = reverse != 0,
                        .inclusive = inclusive != 0};
  mlx_dtype odt = in->dtype;
  if (kind == MLX_SCAN_SUM_ && odt == MLX_BOOL) odt = MLX_INT32;
  if (kind == MLX_SCAN_LOGADDEXP_ && !mlx_dtype_is_inexact(odt)) {
    mlx_array f = mlx_array_new();
    int rc = mlx_astype(&f, a, MLX_FLOAT32, s);
    if (!rc) {
      mlx_node_* fn = MLX_NODE(f);
      rc = mlx_op1_(res, &prim_scan, &p, sizeof p, &fn, 1, MLX_FLOAT32, fn->shape, fn->ndim, s);
    }
    mlx_array_free(f);
    return rc;
  }
  return mlx_op1_(res, &prim_scan, &p, sizeof p, &in, 1, odt, in->shape, in->ndim, s);
}

int mlx_cumsum(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s) {
  return scan(res, a, axis, reverse, inclusive, MLX_SCAN_SUM_, "cumsum", s);
}
int mlx_cumprod(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s) {
  return scan(res, a, axis, reverse, inclusive, MLX_SCAN_PROD_, "cumprod", s);
}
int mlx_cummax(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s) {
  return scan(res, a, axis, reverse, inclusive, MLX_SCAN_MAX_, "cummax", s);
}
int mlx_cummin(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s) {
  return scan(res, a, axis, reverse, inclusive, MLX_SCAN_MIN_, "cummin", s);
}
int mlx_logcumsumexp(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s) {
  return scan(res, a, axis, reverse, inclusive, MLX_SCAN_LOGADDEXP_, "logcumsumexp", s);
}
