/* CUDA kernel drivers of the fast family: rms_norm and layer_norm (a block
 * per row, cuda/norm.cu), rope, and fused attention (cuda/attention.cu). An input that is not dense rows is
 * first copied dense on the device. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/fast.h"
#include "backend.h"
#include "launch.h"

static int norm(mlx_node_** outs, mlx_node_** ins, const void* params, int layer, const char* name) {
  mlx_node_* out = outs[0];
  mlx_node_* x = ins[0];
  const mlx_fast_norm_params_* p = params;
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  int64_t d = x->shape[x->ndim - 1];
  const void *src, *w, *b = NULL;
  MLX_TRY(mlx_cuda_in_(ins[1], s, &w));
  if (layer) MLX_TRY(mlx_cuda_in_(ins[2], s, &b));
  int64_t ws = ins[1]->ndim ? ins[1]->strides[0] : 0, bs = layer && ins[2]->ndim ? ins[2]->strides[0] : 0;
  void* tmp;
  MLX_TRY(mlx_cuda_dense_in_(&src, &tmp, x, x->dtype, s, st, name));
  int rc = mlx_cu_norm_launch_(out->dtype, dst, src, w, ws, b, bs, out->size / d, d, p->eps, layer, st);
  if (tmp) cudaFreeAsync(tmp, st);
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(out->dtype));
  return rc ? mlx_cuda_check_((cudaError_t)rc, name) : MLX_OK;
}

int mlx_cuda_fast_rms_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return norm(outs, ins, params, 0, "rms_norm");
}

int mlx_cuda_fast_layer_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return norm(outs, ins, params, 1, "layer_norm");
}

/* The inverse frequencies are computed on the host as the CPU kernel does
 * (glibc's expf/logf, or 1 / freqs from the host copy of the freqs
 * input) and uploaded; the offsets stay on the device. */
int mlx_cuda_fast_rope_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_fast_rope_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* x = ins[0];
  mlx_node_* off = ins[1];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  int half = p->dims / 2;
  int64_t d = x->shape[x->ndim - 1], tlen = x->shape[x->ndim - 2], heads = 1;
  for (int k = 1; k < x->ndim - 2; k++) heads *= x->shape[k];
  float* inv = malloc(sizeof(float) * (size_t)(half > 0 ? half : 1));
  if (!inv) return mlx_error_(MLX_ERROR_MEMORY, "[rope] out of memory");
  int rc = MLX_OK;
  if (nin > 2) {
    rc = mlx_cuda_host_sync_(ins[2]);
    if (!rc) {
      int64_t sh[1] = {half}, str[1] = {ins[2]->strides[0]};
      mlx_copy_cast_(inv, MLX_FLOAT32, MLX_DATA(ins[2], char), ins[2]->dtype, sh, str, 1);
      for (int i = 0; i < half; i++) inv[i] = 1.0f / inv[i];
    }
  } else {
    float coef = logf(p->base) / (float)half;
    for (int i = 0; i < half; i++) inv[i] = expf((float)(-i) * coef);
  }
  const void *src = NULL, *offs = NULL;
  void *dinv = NULL, *tmpx = NULL, *tmpo = NULL;
  if (!rc) rc = mlx_cuda_check_(cudaMallocAsync(&dinv, sizeof(float) * (size_t)(half > 0 ? half : 1), st), "rope");
  if (!rc && half > 0) rc = mlx_cuda_upload_(dinv, inv, sizeof(float) * (size_t)half, s, st, "rope");
  if (!rc) rc = mlx_cuda_dense_in_(&src, &tmpx, x, x->dtype, s, st, "rope");
  if (!rc) rc = mlx_cuda_dense_in_(&offs, &tmpo, off, off->dtype, s, st, "rope");
  if (!rc) {
    int lr = mlx_cu_rope_launch_(out->dtype, dst, src, dinv, offs, off->dtype == MLX_UINT32, off->size, out->size / d,
                                 heads, tlen, d, p->dims, p->traditional, p->forward, p->scale, st);
    if (lr < 0) rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[rope] not implemented on gpu for %s", mlx_dtype_name(out->dtype));
    else if (lr) rc = mlx_cuda_check_((cudaError_t)lr, "rope");
  }
  if (dinv) cudaFreeAsync(dinv, st);
  if (tmpx) cudaFreeAsync(tmpx, st);
  if (tmpo) cudaFreeAsync(tmpo, st);
  free(inv);
  return rc;
}

/* q, k, v are read in place when their last dim has unit stride (else
 * copied dense); the mask is read through its broadcast strides; sinks
 * are copied to the compute type. One launch of cuda/attention.cu. */
int mlx_cuda_fast_sdpa_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_fast_sdpa_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* qkv[3] = {ins[0], ins[1], ins[2]};
  int at = 3;
  mlx_node_* mask = p->has_mask ? ins[at++] : NULL;
  mlx_node_* sinks = p->has_sinks ? ins[at++] : NULL;
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  mlx_dtype dt = out->dtype;
  if (qkv[2]->shape[2] == 0) /* no keys: upstream's empty matmul gives zeros */
    return mlx_cuda_check_(cudaMemsetAsync(dst, 0, (size_t)out->size * mlx_dtype_size(dt), st), "sdpa");
  mlx_cu_sdpa_ l;
  memset(&l, 0, sizeof l);
  l.B = qkv[0]->shape[0];
  l.Nq = qkv[0]->shape[1];
  l.Lq = qkv[0]->shape[2];
  l.D = qkv[0]->shape[3];
  l.Nkv = qkv[1]->shape[1];
  l.Lk = qkv[1]->shape[2];
  l.Dv = qkv[2]->shape[3];
  l.causal = p->causal;
  l.scale = p->scale;
  l.lowest = mlx_fast_lowest_(dt);
  if (l.Dv > 256 || mlx_cu_sdpa_shared_bytes_(dt, l.D, l.Dv) > 200 * 1024)
    return mlx_error_(MLX_ERROR_UNSUPPORTED,
                      "[scaled_dot_product_attention] head dimensions %lld and %lld are not implemented on gpu "
                      "(at most 256)", (long long)l.D, (long long)l.Dv);
  const void* ptr[3];
  void* tmp[5] = {NULL, NULL, NULL, NULL, NULL};
  int64_t* strides[3] = {l.qs, l.ks, l.vs};
  int rc = MLX_OK;
  for (int i = 0; i < 3 && !rc; i++) {
    mlx_node_* x = qkv[i];
    rc = mlx_cuda_in_(x, s, &ptr[i]);
    if (!rc && x->strides[3] != 1 && x->shape[3] > 1) {
      rc = mlx_cuda_dense_copy_(&tmp[i], ptr[i], x->dtype, x->dtype, x->shape, x->strides, 4, "sdpa", st);
      ptr[i] = tmp[i];
      int64_t dense[4];
      mlx_row_strides_(dense, x->shape, 4);
      for (int d = 0; d < 3; d++) strides[i][d] = dense[d];
    } else {
      for (int d = 0; d < 3; d++) strides[i][d] = x->strides[d];
    }
  }
  const void *mptr = NULL, *sptr = NULL;
  if (!rc && mask) {
    l.mask_kind = mask->dtype == MLX_BOOL ? 1 : 2;
    rc = mlx_cuda_in_(mask, s, &mptr);
    if (!rc && mask->dtype != MLX_BOOL && mask->dtype != dt) {
      rc = mlx_cuda_dense_copy_(&tmp[3], mptr, mask->dtype, dt, mask->shape, mask->strides, 4, "sdpa", st);
      mptr = tmp[3];
      mlx_row_strides_(l.ms, mask->shape, 4);
    } else {
      for (int d = 0; d < 4; d++) l.ms[d] = mask->strides[d];
    }
  }
  if (!rc && sinks) {
    rc = mlx_cuda_in_(sinks, s, &sptr);
    if (!rc) {
      rc = mlx_cuda_dense_copy_(&tmp[4], sptr, sinks->dtype, dt == MLX_FLOAT64 ? MLX_FLOAT64 : MLX_FLOAT32,
                                sinks->shape, sinks->strides, sinks->ndim, "sdpa", st);
      sptr = tmp[4];
    }
  }
  if (!rc) {
    int lr = mlx_cu_sdpa_launch_(dt, dst, ptr[0], ptr[1], ptr[2], &l, mptr, sptr, st);
    if (lr < 0)
      rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[scaled_dot_product_attention] not implemented on gpu for %s",
                      mlx_dtype_name(dt));
    else if (lr)
      rc = mlx_cuda_check_((cudaError_t)lr, "scaled_dot_product_attention");
  }
  for (int i = 0; i < 5; i++)
    if (tmp[i]) cudaFreeAsync(tmp[i], st);
  return rc;
}
