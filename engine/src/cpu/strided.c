/* Kernels of the strided views: as_strided, its adjoint, view and
 * diagonal. The views share the input's buffer. */
#include "strided.h"

#include "half.h"

int mlx_cpu_as_strided_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int nd = (int)p[0];
  mlx_node_set_view_(outs[0], ins[0], ins[0]->offset + p[1], p + 2 + nd);
  return MLX_OK;
}

/* Walks the strided index space in row-major order (an odometer over the
 * shape) adding cot[i] into out[offset + sum(idx * strides)]. Serial:
 * windows overlap, so positions repeat. */
#define AS_STRIDED_GRAD(T, ADD)                                          \
  static void as_strided_grad_##T(T* out, const T* cot, const int64_t* shape, \
                                  const int64_t* strides, int nd, int64_t offset, int64_t n) { \
    int64_t idx[nd > 0 ? nd : 1];                                        \
    memset(idx, 0, sizeof idx);                                          \
    int64_t pos = offset;                                                \
    for (int64_t i = 0; i < n; i++) {                                    \
      ADD(out[pos], cot[i]);                                             \
      for (int d = nd - 1; d >= 0; d--) {                                \
        pos += strides[d];                                               \
        if (++idx[d] < shape[d]) break;                                  \
        pos -= strides[d] * shape[d];                                    \
        idx[d] = 0;                                                      \
      }                                                                  \
    }                                                                    \
  }
#define PLAIN_ADD(dst, v) ((dst) += (v))
#define BF16_ADD(dst, v) ((dst) = mlx_f32_to_bf16(mlx_bf16_to_f32(dst) + mlx_bf16_to_f32(v)))
AS_STRIDED_GRAD(float, PLAIN_ADD)
AS_STRIDED_GRAD(double, PLAIN_ADD)
AS_STRIDED_GRAD(mlx_f16, PLAIN_ADD)
AS_STRIDED_GRAD(mlx_bf16, BF16_ADD)
AS_STRIDED_GRAD(mlx_c64, PLAIN_ADD)

int mlx_cpu_as_strided_grad_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int nd = (int)p[0];
  mlx_node_* out = outs[0];
  const mlx_node_* cot = ins[0];
  MLX_TRY(mlx_node_alloc_(out));
  size_t isz = mlx_dtype_size(out->dtype);
  void* o = MLX_DATA(out, char);
  memset(o, 0, (size_t)out->size * isz);
  const int64_t* shape = p + 2;
  const int64_t* strides = p + 2 + nd;
  switch (out->dtype) {
    case MLX_FLOAT32: as_strided_grad_float(o, MLX_DATA(cot, float), shape, strides, nd, p[1], cot->size); break;
    case MLX_FLOAT64: as_strided_grad_double(o, MLX_DATA(cot, double), shape, strides, nd, p[1], cot->size); break;
    case MLX_FLOAT16: as_strided_grad_mlx_f16(o, MLX_DATA(cot, mlx_f16), shape, strides, nd, p[1], cot->size); break;
    case MLX_BFLOAT16: as_strided_grad_mlx_bf16(o, MLX_DATA(cot, mlx_bf16), shape, strides, nd, p[1], cot->size); break;
    case MLX_COMPLEX64: as_strided_grad_mlx_c64(o, MLX_DATA(cot, mlx_c64), shape, strides, nd, p[1], cot->size); break;
    default: return mlx_error_(MLX_ERROR_DTYPE, "[as_strided] gradient of %s arrays", mlx_dtype_name(out->dtype));
  }
  return MLX_OK;
}

int mlx_cpu_view_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  int64_t isz = (int64_t)mlx_dtype_size(in->dtype), osz = (int64_t)mlx_dtype_size(out->dtype);
  int64_t byte_offset = in->offset * isz;
  if (byte_offset % osz == 0) {
    int64_t strides[out->ndim > 0 ? out->ndim : 1];
    mlx_row_strides_(strides, out->shape, out->ndim);
    mlx_node_set_view_(out, in, byte_offset / osz, strides);
    return MLX_OK;
  }
  MLX_TRY(mlx_node_alloc_(out));
  memcpy(MLX_DATA(out, char), MLX_DATA(in, char), (size_t)(in->size * isz));
  return MLX_OK;
}

int mlx_cpu_diagonal_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  int64_t off = p[0];
  int ax1 = (int)p[1], ax2 = (int)p[2];
  int64_t strides[out->ndim];
  for (int i = 0, k = 0; i < in->ndim; i++)
    if (i != ax1 && i != ax2) strides[k++] = in->strides[i];
  strides[out->ndim - 1] = in->strides[ax1] + in->strides[ax2];
  int64_t start = in->offset;
  if (out->shape[out->ndim - 1] > 0) start += off >= 0 ? off * in->strides[ax2] : -off * in->strides[ax1];
  mlx_node_set_view_(out, in, start, strides);
  return MLX_OK;
}
