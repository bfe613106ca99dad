/* CUDA kernel driver of tril and triu (device code in cuda/tri.cu): a
 * masked copy of the input's last two dims; an input that is not dense
 * row-major is first copied into the output, then masked in place. */
#include "../cpu/create.h"
#include "backend.h"
#include "launch.h"

/* The .gpu entry of tril and triu (params: mlx_diag_params_). */
int mlx_cuda_tril_triu_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_diag_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  const char* name = p->upper ? "triu" : "tril";
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  const void* src;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  if (!(in->flags & MLX_FLAG_ROW_CONTIG)) {
    MLX_TRY(mlx_cuda_copy_into_(dst, out->dtype, src, in->dtype, in->shape, in->strides, in->ndim, name, st));
    src = dst;
  }
  int nd = out->ndim;
  int rc = mlx_cu_tril_triu_launch_((int)mlx_dtype_size(out->dtype), dst, src, out->size, out->shape[nd - 2],
                                    out->shape[nd - 1], p->k, p->upper, st);
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name,
                                mlx_dtype_name(out->dtype));
  return mlx_cuda_check_((cudaError_t)rc, name);
}
