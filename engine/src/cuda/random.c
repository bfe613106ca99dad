/* CUDA kernel drivers of random_bits and random_split (device code in
 * cuda/random.cu): the key stays on the device; the bits are the CPU
 * kernels' bit for bit. */
#include "backend.h"
#include "launch.h"

int mlx_cuda_random_bits_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* key = ins[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  const void* k;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  int64_t nbytes = out->size * (int64_t)mlx_dtype_size(out->dtype);
  if (nbytes == 0) return MLX_OK;
  MLX_TRY(mlx_cuda_in_(key, s, &k));
  int rc = mlx_cu_random_bits_launch_(dst, nbytes, k, key->strides[0], st);
  return rc ? mlx_cuda_check_((cudaError_t)rc, "random_bits") : MLX_OK;
}

int mlx_cuda_random_split_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* key = ins[0];
  mlx_stream s = outs[0]->stream;
  cudaStream_t st;
  void *first, *second;
  const void* k;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(outs[0], s, &first));
  MLX_TRY(mlx_cuda_out_(outs[1], s, &second));
  MLX_TRY(mlx_cuda_in_(key, s, &k));
  int rc = mlx_cu_random_split_launch_(first, second, k, key->strides[0], st);
  return rc ? mlx_cuda_check_((cudaError_t)rc, "random_split") : MLX_OK;
}
