/* The GPU kernels of the copy, elementwise and reduction primitives (the
 * .gpu entries of ops/copy.c, ops/unary.c, ops/binary.c, ops/reduce.c):
 * each reads its nodes' layouts, collapses them, gets device pointers
 * (inputs copied to the device on the op's stream when needed), and
 * enqueues the device kernel of launch.h. Nothing waits here; the
 * evaluator records the outputs' events afterwards. */
#include "../cpu/elementwise.h"
#include "../cpu/reduce.h"
#include "backend.h"
#include "launch.h"

/* launch.h repeats the op codes for the device code: they must agree. */
#define CHECK_U(N) _Static_assert((int)MLX_CU_U_##N == (int)MLX_UOP_##N, "unary op code " #N);
#define CHECK_B(N) _Static_assert((int)MLX_CU_B_##N == (int)MLX_BOP_##N, "binary op code " #N);
MLX_CU_UNARY_OPS(CHECK_U)
MLX_CU_BINARY_OPS(CHECK_B)
_Static_assert((int)MLX_CU_U_COUNT == (int)MLX_UOP_COUNT, "unary op count");
_Static_assert((int)MLX_CU_B_COUNT == (int)MLX_BOP_COUNT, "binary op count");
_Static_assert((int)MLX_CU_R_SUM == (int)MLX_RED_SUM_ && (int)MLX_CU_R_PROD == (int)MLX_RED_PROD_ &&
                   (int)MLX_CU_R_MAX == (int)MLX_RED_MAX_ && (int)MLX_CU_R_MIN == (int)MLX_RED_MIN_ &&
                   (int)MLX_CU_R_ALL == (int)MLX_RED_ALL_ && (int)MLX_CU_R_ANY == (int)MLX_RED_ANY_ &&
                   (int)MLX_CU_R_MEAN == (int)MLX_RED_MEAN_,
               "reduction kinds");

/* The stream the running op was recorded on: every output of an op
 * carries it. */
static mlx_stream op_stream(mlx_node_* const* outs) {
  return outs[0]->stream;
}

static int launched(int rc, const char* name, mlx_dtype in) {
  if (rc == 0) return MLX_OK;
  if (rc < 0)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(in));
  return mlx_cuda_check_((cudaError_t)rc, "kernel launch");
}

/* The elementwise layout of out from nin inputs broadcast to it (inputs
 * keep their own shapes, aligned to the right). */
static int elem_layout(mlx_cu_elem_* l, const mlx_node_* out, mlx_node_* const* ins, int nin, const char* name) {
  memset(l, 0, sizeof *l);
  l->n = out->size;
  l->flat = 1;
  for (int k = 0; k < nin; k++) {
    const mlx_node_* n = ins[k];
    if (n->size == 1) {
      l->fstride[k] = 0;
    } else if (n->size == out->size && (n->flags & MLX_FLAG_ROW_CONTIG)) {
      l->fstride[k] = 1;
    } else {
      l->flat = 0;
    }
  }
  if (l->flat) return MLX_OK;
  /* Broadcast strides over the output's dims, then merge neighbours that
   * every input walks as one (and drop size-1 dims). */
  int nd = 0;
  int64_t shape[64], st[3][64];
  for (int d = 0; d < out->ndim; d++) {
    if (out->shape[d] == 1) continue;
    if (nd == 64) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] too many dimensions for the gpu", name);
    shape[nd] = out->shape[d];
    for (int k = 0; k < nin; k++) {
      const mlx_node_* n = ins[k];
      int id = d - (out->ndim - n->ndim);
      st[k][nd] = id >= 0 && n->shape[id] != 1 ? n->strides[id] : 0;
    }
    nd++;
  }
  int m = 0;
  for (int d = 0; d < nd; d++) {
    int merge = m > 0;
    for (int k = 0; k < nin && merge; k++) merge = st[k][m - 1] == st[k][d] * shape[d];
    if (merge) {
      shape[m - 1] *= shape[d];
      for (int k = 0; k < nin; k++) st[k][m - 1] = st[k][d];
    } else {
      shape[m] = shape[d];
      for (int k = 0; k < nin; k++) st[k][m] = st[k][d];
      m++;
    }
  }
  if (m > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions after merging are not supported on gpu",
                      name, MLX_CU_MAXDIM);
  l->ndim = m;
  for (int d = 0; d < m; d++) {
    l->shape[d] = shape[d];
    for (int k = 0; k < nin; k++) l->strides[k][d] = st[k][d];
  }
  return MLX_OK;
}

/* Common driver: layout, device pointers of inputs and output, stream.
 * With vals, a single-element input whose host copy is current is read
 * into vals[k] (16 bytes) and its pointer left NULL: the kernel takes it
 * by value, without an upload. */
static int elem_prepare_vals(mlx_node_* out, mlx_node_* const* ins, int nin, const char* name, mlx_cu_elem_* l,
                             const void** in_ptrs, void** out_ptr, cudaStream_t* st, unsigned char (*vals)[16]) {
  mlx_stream s = out->stream;
  MLX_TRY(mlx_cuda_stream_(s, st));
  MLX_TRY(elem_layout(l, out, ins, nin, name));
  for (int k = 0; k < nin; k++) {
    if (vals && mlx_cuda_host_scalar_(ins[k], vals[k])) in_ptrs[k] = NULL;
    else MLX_TRY(mlx_cuda_in_(ins[k], s, &in_ptrs[k]));
  }
  return mlx_cuda_out_(out, s, out_ptr);
}

static int elem_prepare(mlx_node_* out, mlx_node_* const* ins, int nin, const char* name, mlx_cu_elem_* l,
                        const void** in_ptrs, void** out_ptr, cudaStream_t* st) {
  return elem_prepare_vals(out, ins, nin, name, l, in_ptrs, out_ptr, st, NULL);
}

int mlx_cuda_copy_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_cu_elem_ l;
  const void* in;
  void* out;
  cudaStream_t st;
  MLX_TRY(elem_prepare(outs[0], ins, 1, "copy", &l, &in, &out, &st));
  return launched(mlx_cu_copy_launch_(ins[0]->dtype, outs[0]->dtype, out, in, &l, st), "astype", ins[0]->dtype);
}

int mlx_cuda_unary_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_elem_params_* p = params;
  mlx_cu_elem_ l;
  const void* in;
  void* out;
  cudaStream_t st;
  MLX_TRY(elem_prepare(outs[0], ins, 1, "unary", &l, &in, &out, &st));
  return launched(mlx_cu_unary_launch_(p->op, ins[0]->dtype, outs[0]->dtype, out, in, &l, st), "unary op",
                  ins[0]->dtype);
}

int mlx_cuda_binary_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_elem_params_* p = params;
  mlx_cu_elem_ l;
  const void* in[2];
  unsigned char vals[2][16];
  void* out;
  cudaStream_t st;
  MLX_TRY(elem_prepare_vals(outs[0], ins, 2, "binary", &l, in, &out, &st, vals));
  return launched(
      mlx_cu_binary_launch_(p->op, ins[0]->dtype, outs[0]->dtype, out, in[0], in[1], vals[0], vals[1], &l, st),
      "binary op", ins[0]->dtype);
}

int mlx_cuda_select_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_cu_elem_ l;
  const void* in[3];
  void* out;
  cudaStream_t st;
  MLX_TRY(elem_prepare(outs[0], ins, 3, "where", &l, in, &out, &st));
  return launched(mlx_cu_select_launch_((int)mlx_dtype_size(outs[0]->dtype), out, in[0], in[1], in[2], &l, st),
                  "where", outs[0]->dtype);
}

/* Declared in backend.h. */
int mlx_cuda_collapse_(int64_t* shape, int64_t* strides, int n) {
  int m = 0;
  for (int d = 0; d < n; d++) {
    if (shape[d] == 1) continue;
    if (m > 0 && strides[m - 1] == strides[d] * shape[d]) {
      shape[m - 1] *= shape[d];
      strides[m - 1] = strides[d];
    } else {
      shape[m] = shape[d];
      strides[m] = strides[d];
      m++;
    }
  }
  return m;
}

/* The reduction layout of `in`: the dims where reduced[d] is set reduced
 * (*n: their element count), the others kept (out_size outputs), each
 * group collapsed. */
static int reduce_layout(mlx_cu_reduce_* r, int64_t* n, const mlx_node_* in, const uint8_t* reduced, int64_t out_size,
                         const char* name) {
  if (in->ndim > 64) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than 64 dimensions on gpu", name);
  int64_t ks[64], kst[64], rs[64], rst[64];
  int nk = 0, nr = 0;
  *n = 1;
  for (int d = 0; d < in->ndim; d++) {
    if (reduced[d]) {
      rs[nr] = in->shape[d];
      rst[nr++] = in->strides[d];
      *n *= in->shape[d];
    } else {
      ks[nk] = in->shape[d];
      kst[nk++] = in->strides[d];
    }
  }
  nk = mlx_cuda_collapse_(ks, kst, nk);
  nr = mlx_cuda_collapse_(rs, rst, nr);
  if (nk > MLX_CU_MAXDIM || nr > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions after merging are not supported on gpu",
                      name, MLX_CU_MAXDIM);
  memset(r, 0, sizeof *r);
  r->m = out_size;
  r->n = *n;
  r->kdim = nk;
  r->rdim = nr > 0 ? nr : 1;
  r->rshape[0] = 1;
  r->rstrides[0] = 1;
  for (int d = 0; d < nk; d++) {
    r->kshape[d] = ks[d];
    r->kstrides[d] = kst[d];
  }
  for (int d = 0; d < nr; d++) {
    r->rshape[d] = rs[d];
    r->rstrides[d] = rst[d];
  }
  return MLX_OK;
}

int mlx_cuda_reduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_reduce_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  mlx_stream s = op_stream(outs);
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  mlx_cu_reduce_ r;
  int64_t n;
  MLX_TRY(reduce_layout(&r, &n, in, p->axes, out->size, "reduce"));
  const void* src = NULL;
  void* dst;
  if (in->size > 0) MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (in->size == 0 && out->size > 0) {
    /* Nothing to read: the kernel writes identities from any pointer. */
    src = dst;
  }
  return launched(mlx_cu_reduce_launch_(p->kind, in->dtype, out->dtype, dst, src, &r, 1.0 / (double)n, st), "reduce",
                  in->dtype);
}

/* argmax/argmin: the reduced dims (the axis, or all of them in order for
 * the flattened array) and the kept ones collapsed as for a reduction. */
int mlx_cuda_argreduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_argreduce_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  mlx_stream s = op_stream(outs);
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  if (in->ndim > 64) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[argreduce] more than 64 dimensions on gpu");
  uint8_t reduced[64];
  for (int d = 0; d < in->ndim; d++) reduced[d] = p->axis < 0 || d == p->axis;
  mlx_cu_reduce_ r;
  int64_t n;
  MLX_TRY(reduce_layout(&r, &n, in, reduced, out->size, "argreduce"));
  void* dst;
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0 || in->size == 0) return MLX_OK;
  const void* src;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  return launched(mlx_cu_argreduce_launch_(in->dtype, p->is_min, dst, src, &r, st), "argreduce", in->dtype);
}
