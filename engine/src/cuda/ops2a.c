/* CUDA phase 2a kernel drivers: reshape (a view when the layout allows,
 * else a device copy), full, eye/tri, arange/linspace (host-computed),
 * softmax and logsumexp (matmul is in cuda/matmul.c).
 * The pure view primitives use their CPU kernels as .gpu entries (they
 * only write strides and an offset into the input's buffer, which keeps
 * its device copy). */
#include <stdio.h>
#include <stdlib.h>

#include "../cpu/create.h"
#include "../cpu/reduce.h"
#include "../cpu/shape.h"
#include "../cpu/strided.h"
#include "backend.h"
#include "launch.h"

static int launched(int rc, const char* name, mlx_dtype dt) {
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(dt));
  return mlx_cuda_check_((cudaError_t)rc, name);
}

/* A copy layout reading nd dims (shape, element strides) in the given
 * order and writing them row-major: size-1 dims dropped, neighbours
 * merged. */
static int strided_layout(mlx_cu_elem_* l, const int64_t* shape, const int64_t* strides, int nd, int64_t n,
                          const char* name) {
  memset(l, 0, sizeof *l);
  l->n = n;
  int64_t sh[64], st[64];
  int m = 0;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (m > 0 && st[m - 1] == strides[d] * shape[d]) {
      sh[m - 1] *= shape[d];
      st[m - 1] = strides[d];
    } else {
      if (m == 64) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] too many dimensions for the gpu", name);
      sh[m] = shape[d];
      st[m++] = strides[d];
    }
  }
  if (m <= 1 && (m == 0 || st[0] == 1)) {
    l->flat = 1;
    l->fstride[0] = m == 0 ? 0 : 1;
    return MLX_OK;
  }
  if (m > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions after merging are not supported on gpu",
                      name, MLX_CU_MAXDIM);
  l->ndim = m;
  for (int d = 0; d < m; d++) {
    l->shape[d] = sh[d];
    l->strides[0][d] = st[d];
  }
  return MLX_OK;
}

int mlx_cuda_copy_into_(void* dst, mlx_dtype dt, const void* src, mlx_dtype sdt, const int64_t* shape,
                        const int64_t* strides, int nd, const char* name, cudaStream_t st) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (n == 0) return MLX_OK;
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, shape, strides, nd, n, name));
  return launched(mlx_cu_copy_launch_(sdt, dt, dst, src, &l, st), name, sdt);
}

int mlx_cuda_dense_copy_(void** tmp, const void* src, mlx_dtype sdt, mlx_dtype dt, const int64_t* shape,
                      const int64_t* strides, int nd, const char* name, cudaStream_t st) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  *tmp = NULL;
  MLX_TRY(mlx_cuda_check_(cudaMallocAsync(tmp, (size_t)(n > 0 ? n : 1) * mlx_dtype_size(dt), st), "cudaMallocAsync"));
  int rc = mlx_cuda_copy_into_(*tmp, dt, src, sdt, shape, strides, nd, name, st);
  if (rc) {
    cudaFreeAsync(*tmp, st);
    *tmp = NULL;
  }
  return rc;
}

/* Declared in backend.h. */
int mlx_cuda_dense_in_(const void** ptr, void** tmp, const mlx_node_* n, mlx_dtype dt, mlx_stream s, cudaStream_t st,
                       const char* name) {
  *tmp = NULL;
  MLX_TRY(mlx_cuda_in_(n, s, ptr));
  if (n->dtype == dt && (n->size <= 1 || (n->flags & MLX_FLAG_ROW_CONTIG))) return MLX_OK;
  MLX_TRY(mlx_cuda_dense_copy_(tmp, *ptr, n->dtype, dt, n->shape, n->strides, n->ndim, name, st));
  *ptr = *tmp;
  return MLX_OK;
}

/* Declared in backend.h. */
int64_t* mlx_cuda_host_indices_(mlx_node_* const* idx, int count, int64_t n, const char* name) {
  int64_t* out = malloc(sizeof(int64_t) * (size_t)(count * n > 0 ? count * n : 1));
  if (!out) {
    mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", name);
    return NULL;
  }
  for (int i = 0; i < count; i++) {
    if (mlx_cuda_host_sync_(idx[i])) {
      free(out);
      return NULL;
    }
    mlx_node_copy_to_(out + i * n, MLX_INT64, idx[i]);
  }
  return out;
}

/* ---- views ------------------------------------------------------------- */

/* view: a view of the same buffer (the CPU's metadata kernel) when the
 * input's byte offset falls on the new element size, else a device copy
 * of the bytes (the input is contiguous: ops/strided.c makes it so). */
int mlx_cuda_view_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  size_t isz = mlx_dtype_size(in->dtype), osz = mlx_dtype_size(out->dtype);
  if (in->size == 0 || (size_t)in->offset * isz % osz == 0) return mlx_cpu_view_(outs, nout, ins, nin, params);
  mlx_stream s = out->stream;
  cudaStream_t st;
  const void* src;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  return mlx_cuda_check_(cudaMemcpyAsync(dst, src, (size_t)in->size * isz, cudaMemcpyDeviceToDevice, st), "view");
}

int mlx_cuda_reshape_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  int64_t ostr[out->ndim > 0 ? out->ndim : 1];
  if (in->size == 0 || mlx_reshape_view_strides_(ostr, in, out->shape, out->ndim))
    return mlx_cpu_reshape_(outs, nout, ins, nin, params); /* a view: no data touched */
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, in->shape, in->strides, in->ndim, in->size, "reshape"));
  const void* src;
  void* dst;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  return launched(mlx_cu_copy_launch_(in->dtype, out->dtype, dst, src, &l, st), "reshape", in->dtype);
}

/* ---- creation ---------------------------------------------------------- */

static void scalar_bits(unsigned char bits[8], mlx_dtype dt, double v) {
  memset(bits, 0, 8);
  mlx_copy_cast_(bits, dt, &v, MLX_FLOAT64, NULL, NULL, 0);
}

int mlx_cuda_full_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_full_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  if (nin == 0) {
    void* dst;
    unsigned char v[8];
    scalar_bits(v, out->dtype, p->value);
    MLX_TRY(mlx_cuda_out_(out, s, &dst));
    return launched(mlx_cu_fill_launch_(dst, out->size, (int)mlx_dtype_size(out->dtype), v, st), "full", out->dtype);
  }
  /* The input broadcast to the output and cast: the copy kernel. */
  mlx_node_* in = ins[0];
  int nd = out->ndim;
  int64_t str[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) {
    int iv = i - (nd - in->ndim);
    str[i] = (iv < 0 || in->shape[iv] == 1) ? 0 : in->strides[iv];
  }
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, out->shape, str, nd, out->size, "full"));
  const void* src;
  void* dst;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  return launched(mlx_cu_copy_launch_(in->dtype, out->dtype, dst, src, &l, st), "full", in->dtype);
}

static int band(mlx_node_** outs, const void* params, int tri) {
  const mlx_diag_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  unsigned char one[8];
  scalar_bits(one, out->dtype, 1.0);
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  return launched(mlx_cu_band_launch_(dst, out->shape[0], out->shape[1], p->k, tri,
                                      (int)mlx_dtype_size(out->dtype), one, st),
                  tri ? "tri" : "eye", out->dtype);
}

int mlx_cuda_eye_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return band(outs, params, 0);
}
int mlx_cuda_tri_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return band(outs, params, 1);
}

/* ---- softmax and logsumexp ----------------------------------------------- */

/* The input as rows x n (the reduced axes last, in order) in the output's
 * dtype: the input itself when it already is, else a scratch copy. */
static int rows_of(mlx_node_* in, const mlx_reduce_params_* p, mlx_dtype dt, mlx_stream s, cudaStream_t st,
                   const void** x, void** tmp, int64_t* rows, int64_t* n, const char* name) {
  int nd = in->ndim, k = 0;
  int64_t sh[nd > 0 ? nd : 1], str[nd > 0 ? nd : 1];
  *rows = 1;
  *n = 1;
  for (int d = 0; d < nd; d++)
    if (!p->axes[d]) {
      sh[k] = in->shape[d];
      str[k++] = in->strides[d];
      *rows *= in->shape[d];
    }
  int suffix = 1;
  for (int d = 0; d < nd; d++)
    if (p->axes[d]) {
      if (d != k) suffix = 0;
      sh[k] = in->shape[d];
      str[k++] = in->strides[d];
      *n *= in->shape[d];
    }
  const void* src;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  *tmp = NULL;
  if (suffix && in->dtype == dt && (in->flags & MLX_FLAG_ROW_CONTIG)) {
    *x = src;
    return MLX_OK;
  }
  MLX_TRY(mlx_cuda_dense_copy_(tmp, src, in->dtype, dt, sh, str, nd, name, st));
  *x = *tmp;
  return MLX_OK;
}

static int exp_reduce(mlx_node_** outs, mlx_node_** ins, const void* params, int lse) {
  const mlx_reduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  const char* name = lse ? "logsumexp" : "softmax";
  if (!lse) {
    /* softmax over other axes than the last alone would need a scatter
     * back: phase 2b. */
    for (int d = 0; d < in->ndim - 1; d++)
      if (p->axes[d]) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[softmax] only the last axis is implemented on gpu");
  }
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  if (out->dtype != MLX_FLOAT32 && out->dtype != MLX_FLOAT16 && out->dtype != MLX_BFLOAT16 &&
      out->dtype != MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(out->dtype));
  const void* x;
  void* tmp;
  int64_t rows, n;
  void* dst;
  if (in->size == 0) return mlx_cuda_out_(out, s, &dst);
  MLX_TRY(rows_of(in, p, out->dtype, s, st, &x, &tmp, &rows, &n, name));
  int rc = mlx_cuda_out_(out, s, &dst);
  if (!rc) rc = launched(mlx_cu_softmax_launch_(out->dtype, dst, x, rows, n, lse, st), name, out->dtype);
  if (tmp) cudaFreeAsync(tmp, st);
  return rc;
}

int mlx_cuda_softmax_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return exp_reduce(outs, ins, params, 0);
}
int mlx_cuda_logsumexp_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return exp_reduce(outs, ins, params, 1);
}
