/* CUDA phase 2b kernel drivers: the copies into sub-regions of an output,
 * concatenate, pad (every mode) and slice_update, in the same steps as
 * their CPU kernels (cpu/shape.c) with each strided copy enqueued as a
 * device kernel (mlx_cu_move_launch_). Kernels on one stream run in
 * order, so pad's later copies read rows its earlier ones wrote. */
#include "../cpu/shape.h"
#include "backend.h"
#include "launch.h"

/* Copies a region of shape[nd] items of `item` bytes from src (strides
 * sstr, in items) to dst (strides dstr) on st; both pointers at the
 * region's first item. Dims of size 1 are dropped and neighbours that
 * both sides walk as one are merged. */
static int move_region(void* dst, const int64_t* dstr, const void* src, const int64_t* sstr, const int64_t* shape,
                       int nd, size_t item, cudaStream_t st, const char* name) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (n == 0) return MLX_OK;
  mlx_cu_elem_ l;
  memset(&l, 0, sizeof l);
  l.n = n;
  int64_t sh[nd > 0 ? nd : 1], ss[nd > 0 ? nd : 1], ds[nd > 0 ? nd : 1];
  int m = 0;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (m > 0 && ss[m - 1] == sstr[d] * shape[d] && ds[m - 1] == dstr[d] * shape[d]) {
      sh[m - 1] *= shape[d];
      ss[m - 1] = sstr[d];
      ds[m - 1] = dstr[d];
    } else {
      sh[m] = shape[d];
      ss[m] = sstr[d];
      ds[m++] = dstr[d];
    }
  }
  if (m == 0 || (m == 1 && ss[0] == 1 && ds[0] == 1)) {
    l.flat = 1;
    l.fstride[0] = l.fstride[1] = m;
  } else if (m > MLX_CU_MAXDIM) {
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions after merging are not supported on gpu",
                      name, MLX_CU_MAXDIM);
  } else {
    l.ndim = m;
    for (int d = 0; d < m; d++) {
      l.shape[d] = sh[d];
      l.strides[0][d] = ss[d];
      l.strides[1][d] = ds[d];
    }
  }
  int rc = mlx_cu_move_launch_((int)item, dst, src, &l, st);
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for items of %zu bytes", name, item);
  return rc ? mlx_cuda_check_((cudaError_t)rc, name) : MLX_OK;
}

/* Whether every non-empty input is dense row-major. */
static int dense_inputs(mlx_node_* const* ins, int nin) {
  for (int i = 0; i < nin; i++)
    if (ins[i]->size && !(ins[i]->flags & MLX_FLAG_ROW_CONTIG)) return 0;
  return 1;
}

/* Dense inputs joined by one kernel per MLX_CU_CONCAT_MAX of them: the
 * output is outer rows (the dims before axis) of row items, and input i
 * fills its columns [off_i, off_i + len_i * inner). */
static int concat_dense(mlx_node_* out, mlx_node_* const* ins, int nin, int axis, void* dst, size_t item,
                        mlx_stream s, cudaStream_t st) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= out->shape[d];
  for (int d = axis + 1; d < out->ndim; d++) inner *= out->shape[d];
  int64_t row = out->shape[axis] * inner, pos = 0;
  const void* srcs[MLX_CU_CONCAT_MAX];
  int64_t offs[MLX_CU_CONCAT_MAX + 1];
  int n = 0;
  for (int i = 0; i <= nin; i++) {
    if (n == MLX_CU_CONCAT_MAX || (i == nin && n > 0)) {
      offs[n] = pos;
      int rc = mlx_cu_concat_launch_((int)item, dst, outer, row, n, srcs, offs, st);
      if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[concatenate] not implemented on gpu for items of %zu bytes", item);
      if (rc) return mlx_cuda_check_((cudaError_t)rc, "concatenate");
      n = 0;
    }
    if (i == nin) break;
    if (!ins[i]->size) continue;
    MLX_TRY(mlx_cuda_in_(ins[i], s, &srcs[n]));
    offs[n++] = pos;
    pos += ins[i]->shape[axis] * inner;
  }
  return MLX_OK;
}

int mlx_cuda_concatenate_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  int axis = *(const int*)params;
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  size_t item = mlx_dtype_size(out->dtype);
  if (dense_inputs(ins, nin)) return concat_dense(out, ins, nin, axis, dst, item, s, st);
  int64_t pos = 0;
  for (int i = 0; i < nin; i++) {
    mlx_node_* in = ins[i];
    if (in->size) {
      const void* src;
      MLX_TRY(mlx_cuda_in_(in, s, &src));
      MLX_TRY(move_region((char*)dst + pos * out->strides[axis] * (int64_t)item, out->strides, src, in->strides,
                          in->shape, in->ndim, item, st, "concatenate"));
    }
    pos += in->shape[axis];
  }
  return MLX_OK;
}


/* The GPU side of a pad plan (cpu/shape.c): device pointers and the
 * stream every copy is enqueued on, in the plan's order. */
typedef struct {
  const mlx_node_* out;
  char* base;
  const char* in;
  const char* val;
  cudaStream_t st;
} cuda_pad_ctx;

static int cuda_pad_move(void* ctx, int64_t dst_off, mlx_pad_from_ from, int64_t src_off, const int64_t* sstr,
                         const int64_t* box) {
  cuda_pad_ctx* c = ctx;
  size_t item = mlx_dtype_size(c->out->dtype);
  const char* src = from == MLX_PAD_FROM_INPUT_ ? c->in : from == MLX_PAD_FROM_VALUE_ ? c->val : c->base;
  return move_region(c->base + dst_off * (int64_t)item, c->out->strides, src + src_off * (int64_t)item, sstr, box,
                     c->out->ndim, item, c->st, "pad");
}

int mlx_cuda_pad_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  const mlx_pad_params_* pp = params;
  mlx_stream s = out->stream;
  cuda_pad_ctx c = {out, NULL, NULL, NULL, NULL};
  void* dptr;
  const void* src = NULL;
  const void* val = NULL;
  MLX_TRY(mlx_cuda_stream_(s, &c.st));
  MLX_TRY(mlx_cuda_out_(out, s, &dptr));
  if (out->size == 0) return MLX_OK;
  if (in->size) MLX_TRY(mlx_cuda_in_(in, s, &src));
  if (pp->mode == MLX_PAD_CONSTANT_) MLX_TRY(mlx_cuda_in_(ins[1], s, &val));
  c.base = dptr;
  c.in = src;
  c.val = val;
  return mlx_pad_plan_(out, in, pp, cuda_pad_move, &c);
}

/* The source copied into the output, then the update into the region
 * (mlx_slice_update_region_, as the CPU kernel). */
int mlx_cuda_slice_update_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* src = ins[0];
  mlx_node_* upd = ins[1];
  int nd = out->ndim;
  const int64_t* first = params;
  const int64_t* step = first + nd;
  size_t item = mlx_dtype_size(out->dtype);
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dptr;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dptr));
  char* base = dptr;
  if (src->size) {
    const void* sp;
    MLX_TRY(mlx_cuda_in_(src, s, &sp));
    MLX_TRY(move_region(base, out->strides, sp, src->strides, src->shape, nd, item, st, "slice_update"));
  }
  if (upd->size == 0) return MLX_OK;
  const void* up;
  MLX_TRY(mlx_cuda_in_(upd, s, &up));
  int64_t off, from, dstr[nd > 0 ? nd : 1], sstr[nd > 0 ? nd : 1];
  mlx_slice_update_region_(out, upd, first, step, &off, dstr, &from, sstr);
  return move_region(base + off * (int64_t)item, dstr, (const char*)up + from * (int64_t)item, sstr, upd->shape, nd,
                     item, st, "slice_update");
}
