/* CUDA kernel driver of the scan primitive (cumsum, cumprod, cummax,
 * cummin, logcumsumexp; device code in cuda/scan.cu). The kernels read a
 * dense row-major input as outer x n x inner, so another layout is first
 * copied dense (in its own dtype) to scratch, as the CPU kernel copies it.
 * Every dtype of the CPU kernel; results as cpu/scan.c's (see scan.cu for
 * where float results may differ in rounding). */
#include "../cpu/sort.h"
#include "backend.h"
#include "launch.h"

_Static_assert((int)MLX_CU_SCAN_SUM == (int)MLX_SCAN_SUM_ && (int)MLX_CU_SCAN_PROD == (int)MLX_SCAN_PROD_ &&
                   (int)MLX_CU_SCAN_MAX == (int)MLX_SCAN_MAX_ && (int)MLX_CU_SCAN_MIN == (int)MLX_SCAN_MIN_ &&
                   (int)MLX_CU_SCAN_LOGADDEXP == (int)MLX_SCAN_LOGADDEXP_,
               "scan kinds");

/* The .gpu entry of scan (params: mlx_scan_params_): out = the scan of
 * ins[0] along the axis, in the dtype the op chose. */
int mlx_cuda_scan_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_scan_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  const void* src;
  void* tmp;
  MLX_TRY(mlx_cuda_dense_in_(&src, &tmp, in, in->dtype, s, st, "scan"));
  int64_t n = in->shape[p->axis], inner = 1;
  for (int d = p->axis + 1; d < in->ndim; d++) inner *= in->shape[d];
  int64_t outer = in->size / (n * inner);
  int rc = mlx_cu_scan_launch_(p->kind, in->dtype, dst, src, outer, n, inner, p->reverse, p->inclusive, st);
  if (tmp) cudaFreeAsync(tmp, st);
  if (rc == 0) return MLX_OK;
  if (rc < 0)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[scan] not implemented on gpu for %s", mlx_dtype_name(in->dtype));
  return mlx_cuda_check_((cudaError_t)rc, "scan");
}
