/* astype, contiguous, stop_gradient: ops that copy or pass through. */
#include "../cpu/kernels.h"
#include "elementwise_rules.h"

static const mlx_prim_ prim_astype = {
    .name = "astype", .cpu = mlx_cpu_copy_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_copy_), .vjp = mlx_astype_vjp_, .jvp = mlx_astype_jvp_, .vmap = mlx_astype_vmap_,
    .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_astype);
static const mlx_prim_ prim_contiguous = {.name = "contiguous",
                                          .cpu = mlx_cpu_copy_,
                                          .gpu = MLX_GPU_KERNEL_(mlx_cuda_copy_),
                                          .vjp = mlx_contiguous_vjp_,
                                          .jvp = mlx_contiguous_jvp_,
                                          .vmap = mlx_contiguous_vmap_,
                                          .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_contiguous);
static const mlx_prim_ prim_stop_gradient = {.name = "stop_gradient",
                                             .cpu = mlx_cpu_copy_,
                                             .gpu = MLX_GPU_KERNEL_(mlx_cuda_copy_),
                                             .vjp = mlx_vjp_zero_,
                                             .jvp = mlx_jvp_zero_,
                                             .vmap = mlx_stop_gradient_vmap_,
                                             .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_stop_gradient);

int mlx_astype(mlx_array* res, const mlx_array a, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "astype"));
  if ((unsigned)dtype >= MLX_NUM_DTYPES) return mlx_error_(MLX_ERROR_DTYPE, "[astype] invalid dtype %d", (int)dtype);
  mlx_node_* in = MLX_NODE(a);
  if (in->dtype == dtype) return mlx_array_set(res, a);
  /* The target dtype is also the params: astype's vmap rule needs it. */
  return mlx_op1_(res, &prim_astype, &dtype, sizeof dtype, &in, 1, dtype, in->shape, in->ndim, s);
}

int mlx_contiguous(mlx_array* res, const mlx_array a, int allow_col_major, const mlx_stream s) {
  (void)allow_col_major;
  MLX_TRY(mlx_check_array_(a, "contiguous"));
  mlx_node_* in = MLX_NODE(a);
  return mlx_op1_(res, &prim_contiguous, NULL, 0, &in, 1, in->dtype, in->shape, in->ndim, s);
}

int mlx_stop_gradient(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "stop_gradient"));
  mlx_node_* in = MLX_NODE(a);
  return mlx_op1_(res, &prim_stop_gradient, NULL, 0, &in, 1, in->dtype, in->shape, in->ndim, s);
}
