/* CUDA kernel driver of sort, argsort, partition and argpartition (one
 * entry, as the CPU's mlx_cpu_sort_; device code in cuda/sort.cu). The
 * input is read in place through its strides: the rows are the non-axis
 * dims (collapsed), each read along the axis at its stride; an input whose
 * non-axis dims do not collapse to MLX_CU_MAXDIM is first copied dense.
 * Results are the CPU's element for element (see sort.cu). searchsorted
 * has no GPU kernel. */
#include "../cpu/sort.h"
#include "backend.h"
#include "launch.h"

/* The sort layout of in (element strides strides) along axis; 0 when its
 * non-axis dims do not collapse to MLX_CU_MAXDIM dims. */
static int sort_layout(mlx_cu_sort_* l, const mlx_node_* in, const int64_t* strides, int axis) {
  memset(l, 0, sizeof *l);
  l->n = in->shape[axis];
  l->astride = strides[axis];
  l->inner = 1;
  for (int d = axis + 1; d < in->ndim; d++) l->inner *= in->shape[d];
  l->rows = in->size / l->n;
  int m = 0;
  for (int d = 0; d < in->ndim; d++) {
    if (d == axis || in->shape[d] == 1) continue;
    if (m > 0 && l->rstrides[m - 1] == strides[d] * in->shape[d]) {
      l->rshape[m - 1] *= in->shape[d];
      l->rstrides[m - 1] = strides[d];
    } else {
      if (m == MLX_CU_MAXDIM) return 0;
      l->rshape[m] = in->shape[d];
      l->rstrides[m++] = strides[d];
    }
  }
  l->rdim = m;
  return 1;
}

/* The .gpu entry of sort, argsort, partition and argpartition (params:
 * mlx_sort_params_): out = ins[0] sorted or partitioned along the axis. */
int mlx_cuda_sort_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_sort_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  const char* name = p->kth >= 0 ? (p->arg ? "argpartition" : "partition") : (p->arg ? "argsort" : "sort");
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  const void* src;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  mlx_cu_sort_ l;
  void* tmp = NULL;
  if (!sort_layout(&l, in, in->strides, p->axis)) {
    /* too many non-axis dims: a dense copy, whose rows collapse to two */
    int nd = in->ndim;
    int64_t dstr[nd];
    mlx_row_strides_(dstr, in->shape, nd);
    MLX_TRY(mlx_cuda_dense_copy_(&tmp, src, in->dtype, in->dtype, in->shape, in->strides, nd, name, st));
    src = tmp;
    sort_layout(&l, in, dstr, p->axis);
  }
  int rc = p->kth >= 0 ? mlx_cu_partition_launch_(in->dtype, p->arg, p->kth, dst, src, &l, st)
                       : mlx_cu_sort_launch_(in->dtype, p->arg, dst, src, &l, st);
  if (tmp) cudaFreeAsync(tmp, st);
  if (rc == 0) return MLX_OK;
  if (rc < 0)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(in->dtype));
  return mlx_cuda_check_((cudaError_t)rc, name);
}
