/* Kernels of the strided views (as_strided, view, diagonal) and their
 * parameter layouts, shared with ops/strided.c. */
#ifndef MLX_CPU_STRIDED_H
#define MLX_CPU_STRIDED_H

#include "../internal.h"

/* as_strided params: int64 {ndim, offset, shape[ndim], strides[ndim]};
 * as_strided_grad appends the flat input size. */
static inline void mlx_as_strided_params_pack_(int64_t* p, const int64_t* shape, const int64_t* strides, int ndim,
                                               int64_t offset) {
  p[0] = ndim;
  p[1] = offset;
  if (ndim > 0) {
    memcpy(p + 2, shape, sizeof(int64_t) * (size_t)ndim);
    memcpy(p + 2 + ndim, strides, sizeof(int64_t) * (size_t)ndim);
  }
}

/* Length of the diagonal at offset of an n1 x n2 matrix (0 when it misses). */
static inline int64_t mlx_diagonal_length_(int64_t n1, int64_t n2, int64_t offset) {
  int64_t len = offset >= 0 ? (n2 - offset < n1 ? n2 - offset : n1) : (n1 + offset < n2 ? n1 + offset : n2);
  return len > 0 ? len : 0;
}

/* Input: row-contiguous. A view with the params' strides and offset. */
int mlx_cpu_as_strided_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* Input: a row-contiguous cotangent of the strided shape. Output: the flat
 * input's cotangent, each strided element added at the place it read. */
int mlx_cpu_as_strided_grad_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* Input: row-contiguous; params: int32 dtype. A view of the same bytes
 * when the offset falls on an element of the new dtype, else a copy. */
int mlx_cpu_view_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* params: int64 {offset, axis1, axis2}. A view. */
int mlx_cpu_diagonal_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
