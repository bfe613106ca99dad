/* CUDA kernel drivers of gather, scatter, gather_axis and scatter_axis
 * (device code in cuda/gather.cu). Index arrays of any integer dtype and
 * layout become dense int64 scratch copies (gather_axis and scatter_axis
 * read int32/int64 indices in place); the scatters start from a copy of
 * the source. Every scatter mode (write, sum, prod, max, min) runs on the
 * GPU for every dtype. */
#include "../ops/indexing.h"
#include "backend.h"
#include "launch.h"

_Static_assert((int)MLX_CU_SCATTER_NONE == (int)MLX_SCATTER_NONE_ && (int)MLX_CU_SCATTER_SUM == (int)MLX_SCATTER_SUM_ &&
                   (int)MLX_CU_SCATTER_PROD == (int)MLX_SCATTER_PROD_ &&
                   (int)MLX_CU_SCATTER_MAX == (int)MLX_SCATTER_MAX_ && (int)MLX_CU_SCATTER_MIN == (int)MLX_SCATTER_MIN_,
               "scatter modes of launch.h and ops/indexing.h");

static int launch_rc(int rc, const char* name, mlx_dtype dt) {
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(dt));
  return mlx_cuda_check_((cudaError_t)rc, name);
}

/* The block of sizes[nd] over an array's strides, size-1 dims dropped and
 * contiguous neighbours merged, into g. */
static int block_layout(mlx_cu_gather_* g, const int64_t* sizes, const int64_t* strides, int nd, const char* name) {
  int m = 0;
  int64_t sh[nd > 0 ? nd : 1], st[nd > 0 ? nd : 1];
  for (int d = 0; d < nd; d++) {
    if (sizes[d] == 1) continue;
    if (m > 0 && st[m - 1] == strides[d] * sizes[d]) {
      sh[m - 1] *= sizes[d];
      st[m - 1] = strides[d];
    } else {
      sh[m] = sizes[d];
      st[m++] = strides[d];
    }
  }
  if (m > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d block dimensions are not supported on gpu", name,
                      MLX_CU_MAXDIM);
  g->bdim = m;
  for (int d = 0; d < m; d++) {
    g->bshape[d] = sh[d];
    g->bstrides[d] = st[d];
  }
  return MLX_OK;
}

/* Dense int64 copies of the nidx index arrays into g->idx (scratch
 * buffers in tmp[], freed by release_indices). */
static int load_indices(mlx_cu_gather_* g, void** tmp, mlx_node_* const* ix, int nidx, mlx_stream s, cudaStream_t st,
                        const char* name) {
  for (int k = 0; k < nidx; k++) tmp[k] = NULL;
  for (int k = 0; k < nidx; k++) {
    const void* p;
    MLX_TRY(mlx_cuda_in_(ix[k], s, &p));
    MLX_TRY(mlx_cuda_dense_copy_(&tmp[k], p, ix[k]->dtype, MLX_INT64, ix[k]->shape, ix[k]->strides, ix[k]->ndim, name,
                                 st));
    g->idx[k] = tmp[k];
  }
  return MLX_OK;
}

static void release_indices(void** tmp, int nidx, cudaStream_t st) {
  for (int k = 0; k < nidx; k++)
    if (tmp[k]) cudaFreeAsync(tmp[k], st);
}

int mlx_cuda_gather_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int nidx = (int)p[0], nd = (int)p[1];
  const int64_t* axes = MLX_GATHER_AXES_(p);
  const int64_t* sizes = MLX_GATHER_SIZES_(p);
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  if (nidx > MLX_CU_MAXIDX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[gather] more than %d index arrays are not supported on gpu",
                      MLX_CU_MAXIDX);
  mlx_cu_gather_ g;
  memset(&g, 0, sizeof g);
  g.nidx = nidx;
  g.npos = nidx ? ins[1]->size : 1;
  g.S = out->size / g.npos;
  for (int k = 0; k < nidx; k++) {
    g.axis_len[k] = a->shape[axes[k]];
    g.axis_stride[k] = a->strides[axes[k]];
    g.block[k] = sizes[axes[k]];
  }
  MLX_TRY(block_layout(&g, sizes, a->strides, nd, "gather"));
  const void* src;
  MLX_TRY(mlx_cuda_in_(a, s, &src));
  void* tmp[MLX_CU_MAXIDX];
  int rc = load_indices(&g, tmp, ins + 1, nidx, s, st, "gather");
  if (!rc) rc = launch_rc(mlx_cu_gather_launch_((int)mlx_dtype_size(a->dtype), dst, src, &g, st), "gather", a->dtype);
  release_indices(tmp, nidx, st);
  return rc;
}

int mlx_cuda_scatter_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int mode = (int)p[0], nidx = (int)p[1], nd = (int)p[2];
  const int64_t* axes = MLX_SCATTER_AXES_(p);
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* up = ins[nin - 1];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  if (nidx > MLX_CU_MAXIDX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[scatter] more than %d index arrays are not supported on gpu",
                      MLX_CU_MAXIDX);
  const void* src;
  MLX_TRY(mlx_cuda_in_(a, s, &src));
  MLX_TRY(mlx_cuda_copy_into_(dst, out->dtype, src, a->dtype, a->shape, a->strides, a->ndim, "scatter", st));
  if (up->size == 0) return MLX_OK;
  int indim = up->ndim - nd;
  mlx_cu_gather_ g;
  memset(&g, 0, sizeof g);
  g.nidx = nidx;
  g.npos = 1;
  for (int i = 0; i < indim; i++) g.npos *= up->shape[i];
  g.S = up->size / g.npos;
  const int64_t* bshape = up->shape + indim;
  for (int k = 0; k < nidx; k++) {
    g.axis_len[k] = out->shape[axes[k]];
    g.axis_stride[k] = out->strides[axes[k]];
    g.block[k] = bshape[axes[k]];
  }
  MLX_TRY(block_layout(&g, bshape, out->strides, nd, "scatter"));
  const void* upd;
  void* dense_upd = NULL;
  MLX_TRY(mlx_cuda_in_(up, s, &upd));
  if (!(up->flags & MLX_FLAG_ROW_CONTIG)) {
    MLX_TRY(mlx_cuda_dense_copy_(&dense_upd, upd, up->dtype, out->dtype, up->shape, up->strides, up->ndim, "scatter",
                                 st));
    upd = dense_upd;
  }
  void* tmp[MLX_CU_MAXIDX];
  int rc = load_indices(&g, tmp, ins + 1, nidx, s, st, "scatter");
  if (!rc)
    rc = launch_rc(mlx_cu_scatter_launch_(out->dtype, mode, dst, upd, &g, st), "scatter",
                   out->dtype);
  release_indices(tmp, nidx, st);
  if (dense_upd) cudaFreeAsync(dense_upd, st);
  return rc;
}

/* The axis layout walking shape[nd] (row-major); strides of the array,
 * the indices and the values. */
static int axis_layout(mlx_cu_axis_* l, const mlx_node_* walk, int axis, int64_t axis_len, const int64_t* astr,
                       const int64_t* istr, const int64_t* vstr, const char* name) {
  memset(l, 0, sizeof *l);
  if (walk->ndim > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions are not supported on gpu", name,
                      MLX_CU_MAXDIM);
  l->n = walk->size;
  l->ndim = walk->ndim;
  l->axis = axis;
  l->axis_len = axis_len;
  for (int d = 0; d < walk->ndim; d++) {
    l->shape[d] = walk->shape[d];
    l->astrides[d] = astr[d];
    l->istrides[d] = istr[d];
    l->vstrides[d] = vstr ? vstr[d] : 0;
  }
  return MLX_OK;
}

/* The indices as int32 or int64 with their strides, or a dense int64 copy
 * (*tmp, strides in dstr) for other integer dtypes. */
static int axis_indices(const void** ip, int* idx64, const int64_t** istr, int64_t* dstr, void** tmp, mlx_node_* ix,
                        mlx_stream s, cudaStream_t st, const char* name) {
  *tmp = NULL;
  MLX_TRY(mlx_cuda_in_(ix, s, ip));
  *istr = ix->strides;
  *idx64 = ix->dtype == MLX_INT64;
  if (ix->dtype == MLX_INT32 || ix->dtype == MLX_INT64) return MLX_OK;
  MLX_TRY(mlx_cuda_dense_copy_(tmp, *ip, ix->dtype, MLX_INT64, ix->shape, ix->strides, ix->ndim, name, st));
  mlx_row_strides_(dstr, ix->shape, ix->ndim);
  *ip = *tmp;
  *istr = dstr;
  *idx64 = 1;
  return MLX_OK;
}

int mlx_cuda_gather_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  int axis = (int)*(const int64_t*)params;
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* ix = ins[1];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  const void *src, *ip;
  const int64_t* istr;
  int64_t dstr[ix->ndim > 0 ? ix->ndim : 1];
  void* tmp;
  int idx64;
  MLX_TRY(mlx_cuda_in_(a, s, &src));
  MLX_TRY(axis_indices(&ip, &idx64, &istr, dstr, &tmp, ix, s, st, "take_along_axis"));
  mlx_cu_axis_ l;
  int rc = axis_layout(&l, out, axis, a->shape[axis], a->strides, istr, NULL, "take_along_axis");
  if (!rc)
    rc = launch_rc(mlx_cu_gather_axis_launch_((int)mlx_dtype_size(a->dtype), dst, src, ip, idx64, &l, st),
                   "take_along_axis", a->dtype);
  if (tmp) cudaFreeAsync(tmp, st);
  return rc;
}

int mlx_cuda_scatter_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int axis = (int)p[0], mode = (int)p[1];
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* ix = ins[1];
  mlx_node_* up = ins[2];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  const void *src, *ip, *vals;
  MLX_TRY(mlx_cuda_in_(a, s, &src));
  MLX_TRY(mlx_cuda_copy_into_(dst, out->dtype, src, a->dtype, a->shape, a->strides, a->ndim, "put_along_axis", st));
  if (up->size == 0) return MLX_OK;
  MLX_TRY(mlx_cuda_in_(up, s, &vals));
  const int64_t* istr;
  int64_t dstr[ix->ndim > 0 ? ix->ndim : 1];
  void* tmp;
  int idx64;
  MLX_TRY(axis_indices(&ip, &idx64, &istr, dstr, &tmp, ix, s, st, "put_along_axis"));
  mlx_cu_axis_ l;
  int rc = axis_layout(&l, ix, axis, out->shape[axis], out->strides, istr, up->strides, "put_along_axis");
  if (!rc)
    rc = launch_rc(mlx_cu_scatter_axis_launch_(out->dtype, mode, dst, vals, ip, idx64, &l, st),
                   "put_along_axis", out->dtype);
  if (tmp) cudaFreeAsync(tmp, st);
  return rc;
}
