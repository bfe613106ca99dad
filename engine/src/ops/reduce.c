/* Reductions: sum, prod, max, min, all, any, mean, var, std, logsumexp,
 * argmax/argmin and softmax.
 *
 * Dtypes, shapes and errors follow upstream MLX (Python mlx 0.32):
 *   sum/prod: bool and signed ints of 4 bytes or less -> int32, unsigned
 *     ones -> uint32, 64-bit ints keep their dtype, floats/complex too;
 *   max/min keep the dtype; all/any give bool; argmax/argmin uint32;
 *   mean/logsumexp: at least float32 (float16/bfloat16/float64/complex64
 *     stay); var/std the same except complex64 -> float32;
 *   softmax: at-least-float over the last axis alone (upstream's fused
 *     primitive), otherwise the input's dtype (computed in float, then
 *     converted back, as upstream's composition does).
 * An axis out of range is MLX_ERROR_INDEX (upstream raises IndexError),
 * repeated axes MLX_ERROR_ARGUMENT. An empty axis list reduces nothing
 * (sum/prod/max/min return the input itself, as upstream). max/min/argmax/
 * argmin of an empty set and logsumexp of an empty array are errors; sum,
 * prod, all, any of an empty set give the identity and mean/var NaN.
 *
 * Every op records one node whose kernel (cpu/reduce.c) writes the output
 * row-major over the kept axes, so keepdims only changes the shape (it is
 * recorded in the params for the vmap rules, in reduce_rules.c). */
#include <stdlib.h>

#include "../cpu/reduce.h"
#include "reduce_rules.h"

/* The primitives and their transform rules (reduce_rules.c). */
#define REDUCE_PRIM(NAME, KERNEL, GPU, RULES)                                                           \
  static const mlx_prim_ prim_##NAME = {                                                               \
      .name = #NAME, .cpu = KERNEL, .gpu = GPU, .vjp = mlx_##RULES##_vjp_, .jvp = mlx_##RULES##_jvp_, .vmap = mlx_##RULES##_vmap_}; \
  MLX_REGISTER_PRIM(prim_##NAME)
REDUCE_PRIM(sum, mlx_cpu_reduce_, MLX_GPU_KERNEL_(mlx_cuda_reduce_), reduce)
REDUCE_PRIM(prod, mlx_cpu_reduce_, MLX_GPU_KERNEL_(mlx_cuda_reduce_), reduce)
REDUCE_PRIM(max, mlx_cpu_reduce_, MLX_GPU_KERNEL_(mlx_cuda_reduce_), reduce)
REDUCE_PRIM(min, mlx_cpu_reduce_, MLX_GPU_KERNEL_(mlx_cuda_reduce_), reduce)
REDUCE_PRIM(mean, mlx_cpu_reduce_, MLX_GPU_KERNEL_(mlx_cuda_reduce_), reduce)
REDUCE_PRIM(var, mlx_cpu_var_, NULL, var)
REDUCE_PRIM(std, mlx_cpu_std_, NULL, std)
REDUCE_PRIM(logsumexp, mlx_cpu_logsumexp_, MLX_GPU_KERNEL_(mlx_cuda_logsumexp_), logsumexp)
REDUCE_PRIM(softmax, mlx_cpu_softmax_, MLX_GPU_KERNEL_(mlx_cuda_softmax_), softmax)
#undef REDUCE_PRIM
/* Not differentiable: zero cotangents and tangents, as upstream. */
static const mlx_prim_ prim_all = {
    .name = "all", .cpu = mlx_cpu_reduce_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_reduce_), .vjp = mlx_vjp_zero_, .jvp = mlx_jvp_zero_, .vmap = mlx_reduce_vmap_};
MLX_REGISTER_PRIM(prim_all);
static const mlx_prim_ prim_any = {
    .name = "any", .cpu = mlx_cpu_reduce_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_reduce_), .vjp = mlx_vjp_zero_, .jvp = mlx_jvp_zero_, .vmap = mlx_reduce_vmap_};
MLX_REGISTER_PRIM(prim_any);
static const mlx_prim_ prim_argmax = {.name = "argmax",
                                      .cpu = mlx_cpu_argreduce_,
                                      .gpu = MLX_GPU_KERNEL_(mlx_cuda_argreduce_),
                                      .vjp = mlx_vjp_zero_,
                                      .jvp = mlx_jvp_zero_,
                                      .vmap = mlx_argreduce_vmap_};
MLX_REGISTER_PRIM(prim_argmax);
static const mlx_prim_ prim_argmin = {.name = "argmin",
                                      .cpu = mlx_cpu_argreduce_,
                                      .gpu = MLX_GPU_KERNEL_(mlx_cuda_argreduce_),
                                      .vjp = mlx_vjp_zero_,
                                      .jvp = mlx_jvp_zero_,
                                      .vmap = mlx_argreduce_vmap_};
MLX_REGISTER_PRIM(prim_argmin);

/* Marks the reduced axes in flags (ndim entries): every axis must be in
 * range, then none may repeat (the order of upstream's checks). */
static int parse_axes(uint8_t* flags, const char* op, int ndim, const int* axes, size_t naxes) {
  if (naxes > 0 && axes == NULL) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] axes is NULL with %zu axes", op, naxes);
  for (size_t k = 0; k < naxes; k++)
    if (axes[k] < -ndim || axes[k] >= ndim)
      return mlx_error_(MLX_ERROR_INDEX, "[%s] Invalid axis %d for array with %d dimensions.", op, axes[k], ndim);
  if (ndim > 0) memset(flags, 0, (size_t)ndim);
  for (size_t k = 0; k < naxes; k++) {
    int a = axes[k] < 0 ? axes[k] + ndim : axes[k];
    if (flags[a]) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Duplicate axes detected in reduction.", op);
    flags[a] = 1;
  }
  return MLX_OK;
}

/* The output shape: reduced axes become 1 (keepdims) or disappear. */
static int reduced_shape(int64_t* shape, const mlx_node_* in, const uint8_t* flags, int keepdims) {
  int nd = 0;
  for (int i = 0; i < in->ndim; i++) {
    if (!flags[i]) shape[nd++] = in->shape[i];
    else if (keepdims) shape[nd++] = 1;
  }
  return nd;
}

/* Records a node of prim over the flagged axes with output dtype odt and
 * the given output shape (NULL: the reduced shape). */
static int record(
    mlx_array* res,
    const mlx_prim_* prim,
    int kind,
    int ddof,
    mlx_node_* in,
    const uint8_t* flags,
    int keepdims,
    mlx_dtype odt,
    const int64_t* shape,
    mlx_stream s) {
  int nd = in->ndim;
  size_t psize = mlx_reduce_params_size_(nd);
  /* malloc'd so the variable-length params carry their struct type */
  mlx_reduce_params_* p = malloc(psize);
  if (!p) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", prim->name);
  memset(p, 0, psize);
  p->kind = kind;
  p->ddof = ddof;
  p->keepdims = keepdims;
  p->ndim = nd;
  if (nd > 0) memcpy(p->axes, flags, (size_t)nd);
  int rc;
  if (shape) {
    rc = mlx_op1_(res, prim, p, psize, &in, 1, odt, shape, nd, s);
  } else {
    int64_t oshape[nd > 0 ? nd : 1];
    int ond = reduced_shape(oshape, in, flags, keepdims);
    rc = mlx_op1_(res, prim, p, psize, &in, 1, odt, oshape, ond, s);
  }
  free(p);
  return rc;
}

/* upstream's at_least_float: inexact dtypes stay, the rest become float32 */
static mlx_dtype at_least_float(mlx_dtype t) {
  return mlx_dtype_is_inexact(t) ? t : MLX_FLOAT32;
}

static mlx_dtype sum_dtype(mlx_dtype t) {
  switch (t) {
    case MLX_BOOL:
    case MLX_INT8:
    case MLX_INT16:
    case MLX_INT32:
      return MLX_INT32;
    case MLX_UINT8:
    case MLX_UINT16:
    case MLX_UINT32:
      return MLX_UINT32;
    default:
      return t;
  }
}

/* The plain (all-axes) form of an _axes op: axes 0..ndim-1. */
#define ALL_AXES(a, name, call)                        \
  MLX_TRY(mlx_check_array_(a, name));                  \
  int nd_ = MLX_NODE(a)->ndim;                         \
  int ax_[nd_ > 0 ? nd_ : 1];                          \
  for (int i_ = 0; i_ < nd_; i_++) ax_[i_] = i_;       \
  return call

/* sum, prod, max, min, all, any: one Reduce node. */
static int simple_reduce(
    mlx_array* res,
    const mlx_prim_* prim,
    int kind,
    const mlx_array a,
    const int* axes,
    size_t naxes,
    int keepdims,
    mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, prim->name));
  mlx_node_* in = MLX_NODE(a);
  uint8_t flags[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(parse_axes(flags, prim->name, in->ndim, axes, naxes));
  mlx_dtype odt = in->dtype;
  if (kind == MLX_RED_SUM_ || kind == MLX_RED_PROD_) odt = sum_dtype(in->dtype);
  if (kind == MLX_RED_ALL_ || kind == MLX_RED_ANY_) odt = MLX_BOOL;
  if (naxes == 0) {
    /* upstream returns the input untouched (all/any: as bool) */
    if (odt != in->dtype && (kind == MLX_RED_ALL_ || kind == MLX_RED_ANY_)) return mlx_astype(res, a, odt, s);
    return mlx_array_set(res, a);
  }
  if (kind == MLX_RED_MAX_ || kind == MLX_RED_MIN_) {
    int64_t out_size = 1;
    for (int i = 0; i < in->ndim; i++)
      if (!flags[i]) out_size *= in->shape[i];
    for (int i = 0; i < in->ndim; i++)
      if (out_size > 0 && flags[i] && in->shape[i] == 0)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Cannot %s reduce over axis %d with size 0.", prim->name, prim->name, i);
  }
  return record(res, prim, kind, 0, in, flags, keepdims, odt, NULL, s);
}

int mlx_sum_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_sum, MLX_RED_SUM_, a, axes, naxes, keepdims, s);
}
int mlx_sum(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "sum", mlx_sum_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

int mlx_prod_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_prod, MLX_RED_PROD_, a, axes, naxes, keepdims, s);
}
int mlx_prod(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "prod", mlx_prod_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

int mlx_max_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_max, MLX_RED_MAX_, a, axes, naxes, keepdims, s);
}
int mlx_max(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "max", mlx_max_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

int mlx_min_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_min, MLX_RED_MIN_, a, axes, naxes, keepdims, s);
}
int mlx_min(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "min", mlx_min_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

int mlx_all_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_all, MLX_RED_ALL_, a, axes, naxes, keepdims, s);
}
int mlx_all(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "all", mlx_all_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

int mlx_any_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  return simple_reduce(res, &prim_any, MLX_RED_ANY_, a, axes, naxes, keepdims, s);
}
int mlx_any(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "any", mlx_any_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

/* mean: upstream's multiply(sum(a), 1/n), fused into the sum's output
 * step (the sum is rounded to its own dtype first). */
int mlx_mean_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "mean"));
  mlx_node_* in = MLX_NODE(a);
  uint8_t flags[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(parse_axes(flags, "mean", in->ndim, axes, naxes));
  mlx_dtype odt = at_least_float(in->dtype);
  if (naxes == 0) return mlx_astype(res, a, odt, s);
  return record(res, &prim_mean, MLX_RED_MEAN_, 0, in, flags, keepdims, odt, NULL, s);
}
int mlx_mean(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "mean", mlx_mean_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

static int var_like(
    mlx_array* res,
    const mlx_prim_* prim,
    const mlx_array a,
    const int* axes,
    size_t naxes,
    int keepdims,
    int ddof,
    mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, prim->name));
  mlx_node_* in = MLX_NODE(a);
  uint8_t flags[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(parse_axes(flags, prim->name, in->ndim, axes, naxes));
  mlx_dtype odt = in->dtype == MLX_COMPLEX64 ? MLX_FLOAT32 : at_least_float(in->dtype);
  return record(res, prim, 0, ddof, in, flags, keepdims, odt, NULL, s);
}

int mlx_var_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, int ddof, const mlx_stream s) {
  return var_like(res, &prim_var, a, axes, naxes, keepdims, ddof, s);
}
int mlx_var(mlx_array* res, const mlx_array a, int keepdims, int ddof, const mlx_stream s) {
  ALL_AXES(a, "var", mlx_var_axes(res, a, ax_, (size_t)nd_, keepdims, ddof, s));
}

int mlx_std_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, int ddof, const mlx_stream s) {
  return var_like(res, &prim_std, a, axes, naxes, keepdims, ddof, s);
}
int mlx_std(mlx_array* res, const mlx_array a, int keepdims, int ddof, const mlx_stream s) {
  ALL_AXES(a, "std", mlx_std_axes(res, a, ax_, (size_t)nd_, keepdims, ddof, s));
}

int mlx_logsumexp_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "logsumexp"));
  mlx_node_* in = MLX_NODE(a);
  if (in->size == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[logsumexp] Received empty array.");
  uint8_t flags[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(parse_axes(flags, "logsumexp", in->ndim, axes, naxes));
  return record(res, &prim_logsumexp, 0, 0, in, flags, keepdims, at_least_float(in->dtype), NULL, s);
}
int mlx_logsumexp(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  ALL_AXES(a, "logsumexp", mlx_logsumexp_axes(res, a, ax_, (size_t)nd_, keepdims, s));
}

/* precise: the kernel always computes half-precision inputs in float32,
 * so the flag changes nothing here (upstream's non-precise path rounds
 * the exponentials and their sum to the input dtype). */
int mlx_softmax_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int precise, const mlx_stream s) {
  (void)precise;
  MLX_TRY(mlx_check_array_(a, "softmax"));
  mlx_node_* in = MLX_NODE(a);
  if (in->size == 0) return mlx_array_set(res, a);
  uint8_t flags[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(parse_axes(flags, "softmax", in->ndim, axes, naxes));
  int last_only = naxes == 1 && (axes[0] == in->ndim - 1 || axes[0] == -1);
  mlx_dtype odt = last_only ? at_least_float(in->dtype) : in->dtype;
  return record(res, &prim_softmax, 0, 0, in, flags, 0, odt, in->shape, s);
}
int mlx_softmax(mlx_array* res, const mlx_array a, int precise, const mlx_stream s) {
  ALL_AXES(a, "softmax", mlx_softmax_axes(res, a, ax_, (size_t)nd_, precise, s));
}

/* argmax/argmin along axis, or over the flattened array for axis < 0
 * (flat: the result has every axis kept as 1 with keepdims, else none). */
static int arg_reduce(mlx_array* res, const mlx_prim_* prim, int is_min, const mlx_array a, int axis, int flat, int keepdims, mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, prim->name));
  mlx_node_* in = MLX_NODE(a);
  if (in->size == 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Cannot %s reduce zero size array.", prim->name, prim->name);
  int64_t shape[in->ndim > 0 ? in->ndim : 1];
  int nd = 0;
  mlx_argreduce_params_ p = {is_min, -1, keepdims};
  if (flat) {
    if (keepdims)
      for (; nd < in->ndim; nd++) shape[nd] = 1;
  } else {
    if (axis < -in->ndim || axis >= in->ndim)
      return mlx_error_(MLX_ERROR_INDEX, "[%s] Invalid axis %d for array with %d dimensions.", prim->name, axis, in->ndim);
    p.axis = axis < 0 ? axis + in->ndim : axis;
    for (int i = 0; i < in->ndim; i++) {
      if (i != p.axis) shape[nd++] = in->shape[i];
      else if (keepdims) shape[nd++] = 1;
    }
  }
  return mlx_op1_(res, prim, &p, sizeof p, &in, 1, MLX_UINT32, shape, nd, s);
}

int mlx_argmax_axis(mlx_array* res, const mlx_array a, int axis, int keepdims, const mlx_stream s) {
  return arg_reduce(res, &prim_argmax, 0, a, axis, 0, keepdims, s);
}
int mlx_argmax(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  return arg_reduce(res, &prim_argmax, 0, a, 0, 1, keepdims, s);
}
int mlx_argmin_axis(mlx_array* res, const mlx_array a, int axis, int keepdims, const mlx_stream s) {
  return arg_reduce(res, &prim_argmin, 1, a, axis, 0, keepdims, s);
}
int mlx_argmin(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s) {
  return arg_reduce(res, &prim_argmin, 1, a, 0, 1, keepdims, s);
}
