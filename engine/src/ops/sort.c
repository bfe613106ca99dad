/* Sorting and selection ops: sort, argsort, partition, argpartition (one
 * primitive each, sharing the kernel of cpu/sort.c), topk and median
 * (compositions, as upstream), and searchsorted.
 *
 * Checks and messages follow upstream MLX (Python mlx 0.32): an axis out
 * of range is MLX_ERROR_INDEX (IndexError), a bad kth/k or an empty median
 * MLX_ERROR_ARGUMENT (ValueError). The `_all` forms flatten first (a 0-d
 * array becomes shape (1,)). Every dtype is supported. Transform rules are
 * in sort_rules.c. */
#include <stdio.h>
#include <stdlib.h>

#include "mlx/sort.h"
#include "../cpu/sort.h"
#include "sort_rules.h"

/* sort/argsort keep the input's shape (output_shapes: the elementwise rule
 * of one input), so compile's shapeless mode can replay them; partition's
 * kth is tied to the axis' size, so it has no such rule. */
static const mlx_prim_ prim_sort = {.name = "sort",
                                    .cpu = mlx_cpu_sort_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_sort_),
                                    .vjp = mlx_sort_vjp_,
                                    .jvp = mlx_sort_jvp_,
                                    .vmap = mlx_sort_vmap_,
                                    .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_sort);
static const mlx_prim_ prim_argsort = {.name = "argsort",
                                       .cpu = mlx_cpu_sort_,
                                       .gpu = MLX_GPU_KERNEL_(mlx_cuda_sort_),
                                       .vjp = mlx_vjp_zero_,
                                       .jvp = mlx_jvp_zero_,
                                       .vmap = mlx_sort_vmap_,
                                       .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_argsort);
static const mlx_prim_ prim_partition = {.name = "partition",
                                         .cpu = mlx_cpu_sort_,
                                         .gpu = MLX_GPU_KERNEL_(mlx_cuda_sort_),
                                         .vjp = mlx_sort_vjp_,
                                         .jvp = mlx_sort_jvp_,
                                         .vmap = mlx_sort_vmap_};
MLX_REGISTER_PRIM(prim_partition);
static const mlx_prim_ prim_argpartition = {.name = "argpartition",
                                            .cpu = mlx_cpu_sort_,
                                            .gpu = MLX_GPU_KERNEL_(mlx_cuda_sort_),
                                            .vjp = mlx_vjp_zero_,
                                            .jvp = mlx_jvp_zero_,
                                            .vmap = mlx_sort_vmap_};
MLX_REGISTER_PRIM(prim_argpartition);
static const mlx_prim_ prim_searchsorted = {.name = "searchsorted",
                                            .cpu = mlx_cpu_searchsorted_,
                                            .vjp = mlx_vjp_zero_,
                                            .jvp = mlx_jvp_zero_,
                                            .vmap = mlx_searchsorted_vmap_};
MLX_REGISTER_PRIM(prim_searchsorted);

/* Normalizes axis for an array of ndim dims (upstream's IndexError). */
static int check_axis(int* axis, int ndim, const char* op) {
  if (*axis < -ndim || *axis >= ndim)
    return mlx_error_(MLX_ERROR_INDEX, "[%s] Axis %d is out of bounds for array with %d dimensions.", op, *axis,
                      ndim);
  if (*axis < 0) *axis += ndim;
  return MLX_OK;
}

/* "(2,3)" as upstream prints a shape. */
static void shape_str(char* buf, size_t cap, const mlx_node_* n) {
  size_t len = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n->ndim && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld", (long long)n->shape[i]);
  if (len < cap) snprintf(buf + len, cap - len, ")");
}

/* One sort/partition node along axis; kth is normalized (-1: a full
 * sort). */
static int record(mlx_array* res, const mlx_prim_* prim, const mlx_array a, int axis, int kth, int arg,
                  mlx_stream s) {
  mlx_node_* in = MLX_NODE(a);
  MLX_TRY(check_axis(&axis, in->ndim, prim->name));
  int64_t n = in->shape[axis];
  /* positions along the axis are uint32 (the index outputs, and the
   * kernel's permutation) */
  if (n > (int64_t)UINT32_MAX)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] axis of %lld elements exceeds uint32 indices", prim->name,
                      (long long)n);
  mlx_sort_params_ p = {.axis = axis, .kth = kth, .arg = arg};
  return mlx_op1_(res, prim, &p, sizeof p, &in, 1, arg ? MLX_UINT32 : in->dtype, in->shape, in->ndim, s);
}

/* partition/argpartition: kth checked against the axis (messages carry
 * the caller's axis, as upstream's). */
static int partition_like(mlx_array* res, const mlx_prim_* prim, const mlx_array a, int kth, int axis, int arg,
                          mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, prim->name));
  mlx_node_* in = MLX_NODE(a);
  int ax = axis;
  MLX_TRY(check_axis(&ax, in->ndim, prim->name));
  int64_t n = in->shape[ax];
  int64_t k = kth < 0 ? kth + n : kth;
  if (k < 0 || k >= n) {
    char sh[256];
    shape_str(sh, sizeof sh, in);
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Received invalid kth %d along axis %d for array with shape: %s",
                      prim->name, kth, axis, sh);
  }
  return record(res, prim, a, ax, (int)k, arg, s);
}

/* a flattened to 1-D (a view when possible). */
static int flat(mlx_array* res, const mlx_array a, const char* op, mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, op));
  int64_t n = mlx_array_size(a);
  return mlx_reshape(res, a, &n, 1, s);
}

#define FLAT_FORM(name, call)                \
  mlx_array f = mlx_array_new();             \
  int rc = flat(&f, a, name, s);             \
  if (!rc) rc = call;                        \
  mlx_array_free(f);                         \
  return rc

int mlx_sort(mlx_array* res, const mlx_array a, int axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "sort"));
  return record(res, &prim_sort, a, axis, -1, 0, s);
}
int mlx_sort_all(mlx_array* res, const mlx_array a, const mlx_stream s) {
  FLAT_FORM("sort", mlx_sort(res, f, 0, s));
}

int mlx_argsort(mlx_array* res, const mlx_array a, int axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "argsort"));
  return record(res, &prim_argsort, a, axis, -1, 1, s);
}
int mlx_argsort_all(mlx_array* res, const mlx_array a, const mlx_stream s) {
  FLAT_FORM("argsort", mlx_argsort(res, f, 0, s));
}

int mlx_partition(mlx_array* res, const mlx_array a, int kth, int axis, const mlx_stream s) {
  return partition_like(res, &prim_partition, a, kth, axis, 0, s);
}
int mlx_partition_all(mlx_array* res, const mlx_array a, int kth, const mlx_stream s) {
  FLAT_FORM("partition", mlx_partition(res, f, kth, 0, s));
}

int mlx_argpartition(mlx_array* res, const mlx_array a, int kth, int axis, const mlx_stream s) {
  return partition_like(res, &prim_argpartition, a, kth, axis, 1, s);
}
int mlx_argpartition_all(mlx_array* res, const mlx_array a, int kth, const mlx_stream s) {
  FLAT_FORM("argpartition", mlx_argpartition(res, f, kth, 0, s));
}

/* upstream: partition(a, -k) and the last k along the axis; a itself when
 * k is the whole axis. */
int mlx_topk(mlx_array* res, const mlx_array a, int k, int axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "topk"));
  mlx_node_* in = MLX_NODE(a);
  int ax = axis;
  MLX_TRY(check_axis(&ax, in->ndim, "topk"));
  int64_t n = in->shape[ax];
  if (k < 0 || k > n) {
    char sh[256];
    shape_str(sh, sizeof sh, in);
    return mlx_error_(MLX_ERROR_ARGUMENT, "[topk] Received invalid k=%d along axis %d for array with shape: %s", k,
                      axis, sh);
  }
  if (k == n) return mlx_array_set(res, a);
  int nd = in->ndim;
  int64_t start[nd], stop[nd], step[nd];
  for (int i = 0; i < nd; i++) {
    start[i] = i == ax ? n - k : 0;
    stop[i] = in->shape[i];
    step[i] = 1;
  }
  mlx_array part = mlx_array_new();
  int rc = record(&part, &prim_partition, a, ax, (int)(n - k), 0, s);
  if (!rc) rc = mlx_slice(res, part, start, stop, step, nd, s);
  mlx_array_free(part);
  return rc;
}
int mlx_topk_all(mlx_array* res, const mlx_array a, int k, const mlx_stream s) {
  FLAT_FORM("topk", mlx_topk(res, f, k, 0, s));
}

/* upstream's composition: the median axes moved last and flattened, a
 * sort, the middle element (or the mean of the middle two, added in the
 * result dtype and halved), NaN where the group holds a NaN. */
int mlx_median_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims,
                    const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "median"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (naxes > 0 && !axes) return mlx_error_(MLX_ERROR_ARGUMENT, "[median] axes is NULL with %zu axes", naxes);
  uint8_t used[nd > 0 ? nd : 1];
  memset(used, 0, sizeof used);
  for (size_t i = 0; i < naxes; i++) {
    if (axes[i] < -nd || axes[i] >= nd)
      return mlx_error_(MLX_ERROR_INDEX, "[median] axis %d is out of bounds for array with %d dimensions.", axes[i],
                        nd);
  }
  for (size_t i = 0; i < naxes; i++) {
    int ax = axes[i] < 0 ? axes[i] + nd : axes[i];
    if (used[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[median] Received duplicate axis.");
    used[ax] = 1;
  }
  if (naxes == 0 && nd > 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[flatten] start_axis must be less than or equal to end_axis");
  int perm[nd > 0 ? nd : 1], sorted_axes[nd > 0 ? nd : 1];
  int64_t fshape[nd + 1];
  int nk = 0, ns = 0;
  int64_t m = 1;
  for (int i = 0; i < nd; i++)
    if (!used[i]) {
      perm[nk] = i;
      fshape[nk++] = in->shape[i];
    }
  for (int i = 0; i < nd; i++)
    if (used[i]) {
      perm[nk + ns] = i;
      sorted_axes[ns++] = i;
      m *= in->shape[i];
    }
  fshape[nk] = nd == 0 ? 1 : m;
  if (fshape[nk] == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[median] Cannot take median along empty axis.");
  mlx_dtype dt = mlx_dtype_is_inexact(in->dtype) ? in->dtype : MLX_FLOAT32;
  int64_t n = fshape[nk], mp = n / 2;
  int fnd = nk + 1;
  int64_t start[fnd], stop[fnd], step[fnd];
  for (int i = 0; i < fnd; i++) {
    start[i] = 0;
    stop[i] = fshape[i];
    step[i] = 1;
  }
  mlx_array t = mlx_array_new(), f = mlx_array_new(), sorted = mlx_array_new(), hi = mlx_array_new(),
            hic = mlx_array_new(), lo = mlx_array_new(), loc = mlx_array_new(), sum = mlx_array_new(),
            half = mlx_array_new(), med = mlx_array_new(), sq = mlx_array_new(), top = mlx_array_new(),
            isn = mlx_array_new(), topc = mlx_array_new(), nanned = mlx_array_new();
  int rc = nd > 0 ? mlx_transpose(&t, a, perm, (size_t)nd, s) : mlx_array_set(&t, a);
  if (!rc) rc = mlx_reshape(&f, t, fshape, fnd, s);
  if (!rc) rc = record(&sorted, &prim_sort, f, -1, -1, 0, s);
  start[nk] = mp, stop[nk] = mp + 1;
  if (!rc) rc = mlx_slice(&hi, sorted, start, stop, step, fnd, s);
  if (!rc) rc = mlx_astype(&hic, hi, dt, s);
  if (!rc && n % 2 == 0) {
    start[nk] = mp - 1, stop[nk] = mp;
    rc = mlx_slice(&lo, sorted, start, stop, step, fnd, s);
    if (!rc) rc = mlx_astype(&loc, lo, dt, s);
    if (!rc) rc = mlx_add(&sum, hic, loc, s);
    if (!rc) rc = mlx_array_new_float(&half, 0.5, dt);
    if (!rc) rc = mlx_multiply(&med, sum, half, s);
  } else if (!rc) {
    rc = mlx_array_set(&med, hic);
  }
  /* any NaN makes the median NaN (it sorts last, so the last element
   * tells) */
  if (!rc && mlx_dtype_is_inexact(in->dtype)) {
    start[nk] = n - 1, stop[nk] = n;
    rc = mlx_slice(&top, sorted, start, stop, step, fnd, s);
    if (!rc) rc = mlx_isnan(&isn, top, s);
    if (!rc) rc = mlx_astype(&topc, top, dt, s);
    if (!rc) rc = mlx_where(&nanned, isn, topc, med, s);
    if (!rc) rc = mlx_array_set(&med, nanned);
  }
  int last = nk;
  if (!rc) rc = mlx_squeeze_axes(keepdims ? &sq : res, med, &last, 1, s);
  if (!rc && keepdims) rc = ns > 0 ? mlx_expand_dims(res, sq, sorted_axes, (size_t)ns, s) : mlx_array_set(res, sq);
  mlx_array tmp[] = {t, f, sorted, hi, hic, lo, loc, sum, half, med, sq, top, isn, topc, nanned};
  for (size_t i = 0; i < sizeof tmp / sizeof tmp[0]; i++) mlx_array_free(tmp[i]);
  return rc;
}

int mlx_median(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "median"));
  int nd = mlx_array_ndim(a);
  int axes[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) axes[i] = i;
  return mlx_median_axes(res, a, axes, (size_t)nd, keepdims, s);
}

int mlx_searchsorted(mlx_array* res, const mlx_array sorted_sequence, const mlx_array values, int right,
                     const mlx_stream s) {
  MLX_TRY(mlx_check_array_(sorted_sequence, "searchsorted"));
  MLX_TRY(mlx_check_array_(values, "searchsorted"));
  mlx_node_* an = MLX_NODE(sorted_sequence);
  if (an->ndim != 1)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[searchsorted] The sorted sequence must be 1-D but has %d dimensions.",
                      an->ndim);
  mlx_dtype dt = mlx_dtype_promote(an->dtype, mlx_array_dtype(values));
  mlx_array ac = mlx_array_new(), vc = mlx_array_new();
  int rc = mlx_astype(&ac, sorted_sequence, dt, s);
  if (!rc) rc = mlx_astype(&vc, values, dt, s);
  if (!rc) {
    mlx_node_* ins[2] = {MLX_NODE(ac), MLX_NODE(vc)};
    int r = right != 0;
    rc = mlx_op1_(res, &prim_searchsorted, &r, sizeof r, ins, 2, MLX_UINT32, ins[1]->shape, ins[1]->ndim, s);
  }
  mlx_array_free(ac);
  mlx_array_free(vc);
  return rc;
}
