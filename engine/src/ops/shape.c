/* Shapes and views: reshape and its relatives (flatten, unflatten,
 * squeeze, expand_dims), transpose (moveaxis, swapaxes), broadcast_to,
 * slice and split. All of them are views of the input's buffer: the
 * kernels in cpu/shape.c only compute strides, except reshape, which
 * copies when the input's layout cannot be re-read in the new shape.
 * Where upstream MLX hands back the input unchanged (same shape, identity
 * permutation, full slice) so do we, without a node. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "../cpu/shape.h"
#include "shape.h"

/* Transform rules, at the end of the file. */
#define RULES(p)                                                                                                     \
  static int p##_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,            \
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);   \
  static int p##_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,           \
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,             \
                     mlx_stream s);                                                                                  \
  static int p##_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout, \
                      const void* params, mlx_stream s)
RULES(reshape);
RULES(transpose);
RULES(broadcast);
RULES(slice);
RULES(split);
RULES(slice_update);
#undef RULES

/* Params recorded with each node (the kernels read the leading part; the
 * rest is there for the transform rules, which see only the params):
 *   reshape, broadcast_to: int64_t ndim, shape[ndim] (the output's)
 *   transpose:             int perm[ndim]
 *   slice, slice_update:   int64_t first[ndim], step[ndim], len[ndim]
 *                          (normalized: first index, step, element count)
 *   split:                 int64_t axis, start[nout], indices[nout - 1]
 *                          (the indices as given, for the rules) */
static const mlx_prim_ prim_reshape = {
    .name = "reshape", .cpu = mlx_cpu_reshape_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_reshape_), .vjp = reshape_vjp, .jvp = reshape_jvp, .vmap = reshape_vmap};
MLX_REGISTER_PRIM(prim_reshape);
static const mlx_prim_ prim_transpose = {
    .name = "transpose", .cpu = mlx_cpu_transpose_, .gpu = MLX_GPU_KERNEL_(mlx_cpu_transpose_), .vjp = transpose_vjp, .jvp = transpose_jvp, .vmap = transpose_vmap};
MLX_REGISTER_PRIM(prim_transpose);
static const mlx_prim_ prim_broadcast = {.name = "broadcast_to",
                                         .cpu = mlx_cpu_broadcast_,
                                         .gpu = MLX_GPU_KERNEL_(mlx_cpu_broadcast_),
                                         .vjp = broadcast_vjp,
                                         .jvp = broadcast_jvp,
                                         .vmap = broadcast_vmap};
MLX_REGISTER_PRIM(prim_broadcast);
static const mlx_prim_ prim_slice = {
    .name = "slice", .cpu = mlx_cpu_slice_, .gpu = MLX_GPU_KERNEL_(mlx_cpu_slice_), .vjp = slice_vjp, .jvp = slice_jvp, .vmap = slice_vmap};
MLX_REGISTER_PRIM(prim_slice);
static const mlx_prim_ prim_split = {
    .name = "split", .cpu = mlx_cpu_split_, .gpu = MLX_GPU_KERNEL_(mlx_cpu_split_), .vjp = split_vjp, .jvp = split_jvp, .vmap = split_vmap};
MLX_REGISTER_PRIM(prim_split);
static const mlx_prim_ prim_slice_update = {.name = "slice_update",
                                            .cpu = mlx_cpu_slice_update_,
                                            .gpu = MLX_GPU_KERNEL_(mlx_cuda_slice_update_),
                                            .vjp = slice_update_vjp,
                                            .jvp = slice_update_jvp,
                                            .vmap = slice_update_vmap};
MLX_REGISTER_PRIM(prim_slice_update);

const char* mlx_shape_str_(char* buf, size_t cap, const int64_t* shape, int ndim) {
  size_t p = (size_t)snprintf(buf, cap, "(");
  int i = 0;
  for (; i < ndim && p + 26 < cap; i++) p += (size_t)snprintf(buf + p, cap - p, i ? ",%lld" : "%lld", (long long)shape[i]);
  snprintf(buf + p, cap - p, i < ndim ? ",...)" : ")");
  return buf;
}

int mlx_shape_check_(const mlx_array a, int64_t out_ndim, const char* op) {
  MLX_TRY(mlx_check_array_(a, op));
  if (MLX_NODE(a)->ndim > MLX_SHAPE_MAX_NDIM_ || out_ndim > MLX_SHAPE_MAX_NDIM_)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] More than %d dimensions are not supported.", op, MLX_SHAPE_MAX_NDIM_);
  return MLX_OK;
}

static int same_shape(const mlx_node_* n, const int64_t* shape, int ndim) {
  if (n->ndim != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (n->shape[i] != shape[i]) return 0;
  return 1;
}

/* Reshape to a validated shape of the same size: the input itself when
 * the shape is unchanged, else a reshape node (a view when possible). */
static int reshape_to(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, mlx_stream s) {
  mlx_node_* in = MLX_NODE(a);
  if (same_shape(in, shape, ndim)) return mlx_array_set(res, a);
  int64_t p[ndim + 1];
  p[0] = ndim;
  memcpy(p + 1, shape, sizeof(int64_t) * (size_t)ndim);
  return mlx_op1_(res, &prim_reshape, p, sizeof p, &in, 1, in->dtype, shape, ndim, s);
}

/* Product of dims with one -1 to infer (index through *infer, -1 if none).
 * Errors on a second -1, other negative dims, and overflow. */
static int known_size(int64_t* size, int* infer, const int64_t* shape, int ndim, const char* op) {
  int64_t p = 1;
  int zero = 0;
  *infer = -1;
  /* A 0 anywhere makes the product 0, whatever comes before it. */
  for (int i = 0; i < ndim; i++) zero |= shape[i] == 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == -1) {
      if (*infer >= 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Can only infer one dimension.", op);
      *infer = i;
    } else if (shape[i] < 0) {
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Invalid negative dimension %lld.", op, (long long)shape[i]);
    } else if (!zero) {
      if (p > INT64_MAX / shape[i]) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Shape too large.", op);
      p *= shape[i];
    }
  }
  *size = zero ? 0 : p;
  return MLX_OK;
}

int mlx_reshape(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, ndim, "reshape"));
  if (ndim < 0 || (ndim > 0 && !shape)) return mlx_error_(MLX_ERROR_ARGUMENT, "[reshape] Invalid shape.");
  mlx_node_* in = MLX_NODE(a);
  int64_t size, out[ndim > 0 ? ndim : 1];
  int infer;
  MLX_TRY(known_size(&size, &infer, shape, ndim, "reshape"));
  for (int i = 0; i < ndim; i++) out[i] = shape[i];
  if (infer >= 0) {
    if (size == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[reshape] Cannot infer the shape of an empty array");
    out[infer] = in->size / size;
    size *= out[infer];
  }
  if (size != in->size) {
    char buf[128];
    return mlx_error_(MLX_ERROR_SHAPE, "[reshape] Cannot reshape array of size %lld into shape %s.", (long long)in->size,
                      mlx_shape_str_(buf, sizeof buf, shape, ndim));
  }
  return reshape_to(res, a, out, ndim, s);
}

/* Axes are clamped into range as upstream does (flatten(a, 0, 10) flattens
 * everything); only an empty range is an error. */
int mlx_flatten(mlx_array* res, const mlx_array a, int start_axis, int end_axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 1, "flatten"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (nd == 0) {
    int64_t one = 1;
    return reshape_to(res, a, &one, 1, s);
  }
  int64_t st = start_axis < 0 ? (int64_t)start_axis + nd : start_axis;
  int64_t en = end_axis < 0 ? (int64_t)end_axis + nd : end_axis;
  if (st < 0) st = 0;
  if (en > nd - 1) en = nd - 1;
  if (en < st) return mlx_error_(MLX_ERROR_ARGUMENT, "[flatten] start_axis must be less than or equal to end_axis");
  if (st == en) return mlx_array_set(res, a);
  int64_t out[nd];
  int k = 0;
  for (int i = 0; i < st; i++) out[k++] = in->shape[i];
  out[k] = 1;
  for (int64_t i = st; i <= en; i++) out[k] *= in->shape[i];
  k++;
  for (int64_t i = en + 1; i < nd; i++) out[k++] = in->shape[i];
  return reshape_to(res, a, out, k, s);
}

int mlx_unflatten(mlx_array* res, const mlx_array a, int axis, const int64_t* shape, int ndim, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, ndim, "unflatten"));
  if (ndim <= 0 || !shape) return mlx_error_(MLX_ERROR_ARGUMENT, "[unflatten] Shape to unflatten to cannot be empty.");
  mlx_node_* in = MLX_NODE(a);
  int ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, in->ndim, "unflatten"));
  int64_t size, n = in->shape[ax];
  int infer;
  MLX_TRY(known_size(&size, &infer, shape, ndim, "unflatten"));
  int ond = in->ndim - 1 + ndim;
  int64_t out[ond];
  for (int i = 0; i < ax; i++) out[i] = in->shape[i];
  for (int i = 0; i < ndim; i++) out[ax + i] = shape[i];
  for (int i = ax + 1; i < in->ndim; i++) out[i - 1 + ndim] = in->shape[i];
  if (infer >= 0) {
    /* Upstream divides by zero here; an unknown dim next to a 0 is
     * ambiguous, as for reshape. */
    if (size == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[unflatten] Cannot infer the shape of an empty array");
    out[ax + infer] = n / size;
    size *= n / size;
  }
  if (size != n) {
    char buf[128];
    return mlx_error_(MLX_ERROR_SHAPE, "[unflatten] Cannot unflatten axis %d with size %lld into shape %s.", axis,
                      (long long)n, mlx_shape_str_(buf, sizeof buf, shape, ndim));
  }
  return reshape_to(res, a, out, ond, s);
}

/* Records a transpose by a validated permutation (or hands back a for
 * the identity). */
static int transpose_perm(mlx_array* res, const mlx_array a, const int* perm, mlx_stream s) {
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim, identity = 1;
  int64_t shape[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) {
    shape[i] = in->shape[perm[i]];
    if (perm[i] != i) identity = 0;
  }
  if (identity) return mlx_array_set(res, a);
  return mlx_op1_(res, &prim_transpose, perm, sizeof(int) * (size_t)nd, &in, 1, in->dtype, shape, nd, s);
}

int mlx_transpose(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "transpose"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  int perm[nd > 0 ? nd : 1];
  if (!axes && naxes == 0) {
    for (int i = 0; i < nd; i++) perm[i] = nd - 1 - i;
    return transpose_perm(res, a, perm, s);
  }
  if (naxes != (size_t)nd || !axes)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[transpose] Received %zu axes for array with %d dimensions.", naxes, nd);
  char seen[nd > 0 ? nd : 1];
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < nd; i++) {
    int ax = axes[i];
    if (ax < -nd || ax >= nd)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[transpose] Invalid axis (%d) for array with %d dimensions.", ax, nd);
    if (ax < 0) ax += nd;
    if (seen[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[transpose] Repeat axes not allowed.");
    seen[ax] = 1;
    perm[i] = ax;
  }
  return transpose_perm(res, a, perm, s);
}

int mlx_moveaxis(mlx_array* res, const mlx_array a, int source, int destination, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "moveaxis"));
  int nd = MLX_NODE(a)->ndim;
  MLX_TRY(mlx_normalize_axis_(&source, nd, "moveaxis"));
  MLX_TRY(mlx_normalize_axis_(&destination, nd, "moveaxis"));
  int perm[nd];
  /* The axes other than source, in order, with source inserted at
   * destination. */
  for (int i = 0, k = 0; i < nd; i++) {
    if (i == destination) perm[i] = source;
    else {
      if (k == source) k++;
      perm[i] = k++;
    }
  }
  return transpose_perm(res, a, perm, s);
}

int mlx_swapaxes(mlx_array* res, const mlx_array a, int axis1, int axis2, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "swapaxes"));
  int nd = MLX_NODE(a)->ndim;
  MLX_TRY(mlx_normalize_axis_(&axis1, nd, "swapaxes"));
  MLX_TRY(mlx_normalize_axis_(&axis2, nd, "swapaxes"));
  int perm[nd];
  for (int i = 0; i < nd; i++) perm[i] = i;
  perm[axis1] = axis2;
  perm[axis2] = axis1;
  return transpose_perm(res, a, perm, s);
}

int mlx_squeeze(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "squeeze"));
  mlx_node_* in = MLX_NODE(a);
  int64_t out[in->ndim > 0 ? in->ndim : 1];
  int k = 0;
  for (int i = 0; i < in->ndim; i++)
    if (in->shape[i] != 1) out[k++] = in->shape[i];
  return reshape_to(res, a, out, k, s);
}

int mlx_squeeze_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "squeeze"));
  if (naxes == 0) return mlx_array_set(res, a);
  if (!axes) return mlx_error_(MLX_ERROR_ARGUMENT, "[squeeze] NULL axes.");
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  char drop[nd > 0 ? nd : 1];
  memset(drop, 0, sizeof drop);
  for (size_t i = 0; i < naxes; i++) {
    int ax = axes[i];
    MLX_TRY(mlx_normalize_axis_(&ax, nd, "squeeze"));
    if (drop[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[squeeze] Received duplicate axes.");
    if (in->shape[ax] != 1)
      return mlx_error_(MLX_ERROR_SHAPE, "[squeeze] Cannot squeeze axis %d with size %lld which is not equal to 1.",
                        axes[i], (long long)in->shape[ax]);
    drop[ax] = 1;
  }
  int64_t out[nd > 0 ? nd : 1];
  int k = 0;
  for (int i = 0; i < nd; i++)
    if (!drop[i]) out[k++] = in->shape[i];
  return reshape_to(res, a, out, k, s);
}

/* Axes refer to the output (ndim + naxes dims), as in MLX. */
int mlx_expand_dims(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, naxes > MLX_SHAPE_MAX_NDIM_ ? INT64_MAX : (int64_t)naxes, "expand_dims"));
  if (naxes == 0) return mlx_array_set(res, a);
  if (!axes) return mlx_error_(MLX_ERROR_ARGUMENT, "[expand_dims] NULL axes.");
  mlx_node_* in = MLX_NODE(a);
  int ond = in->ndim + (int)naxes;
  char add[ond];
  memset(add, 0, sizeof add);
  for (size_t i = 0; i < naxes; i++) {
    int ax = axes[i];
    if (ax < -ond || ax >= ond)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[expand_dims] Axis %d is out of bounds for array with %d dimensions.", ax,
                        ond);
    if (ax < 0) ax += ond;
    if (add[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[expand_dims] Received duplicate axes.");
    add[ax] = 1;
  }
  int64_t out[ond];
  for (int i = 0, k = 0; i < ond; i++) out[i] = add[i] ? 1 : in->shape[k++];
  return reshape_to(res, a, out, ond, s);
}

int mlx_broadcast_to(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, ndim, "broadcast_to"));
  if (ndim < 0 || (ndim > 0 && !shape)) return mlx_error_(MLX_ERROR_ARGUMENT, "[broadcast_to] Invalid shape.");
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[broadcast_to] Negative dimensions not allowed.");
  mlx_node_* in = MLX_NODE(a);
  if (same_shape(in, shape, ndim)) return mlx_array_set(res, a);
  int cap = in->ndim > ndim ? in->ndim : ndim;
  int64_t b[cap > 0 ? cap : 1];
  int bnd;
  MLX_TRY(mlx_broadcast_shape_(b, &bnd, in->shape, in->ndim, shape, ndim, "broadcast_to"));
  int ok = bnd == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = b[i] == shape[i];
  if (!ok) {
    char sa[128], sb[128];
    return mlx_error_(MLX_ERROR_SHAPE, "[broadcast_to] Cannot broadcast array of shape %s into shape %s.",
                      mlx_shape_str_(sa, sizeof sa, in->shape, in->ndim), mlx_shape_str_(sb, sizeof sb, shape, ndim));
  }
  int64_t p[ndim + 1];
  p[0] = ndim;
  memcpy(p + 1, shape, sizeof(int64_t) * (size_t)ndim);
  return mlx_op1_(res, &prim_broadcast, p, sizeof p, &in, 1, in->dtype, shape, ndim, s);
}

/* Python's slice clamping for one axis of size n (step != 0): the first
 * index taken and the number of elements. Negative start/stop count from
 * the end; a stop of -n-1 or less with a negative step reaches index 0. */
static void normalize_slice(int64_t n, int64_t start, int64_t stop, int64_t step, int64_t* first, int64_t* len) {
  int64_t s = start < 0 ? start + n : start;
  int64_t e = stop < 0 ? stop + n : stop;
  int64_t d;
  uint64_t mag;
  if (step > 0) {
    s = s < 0 ? 0 : s > n ? n : s;
    e = e < 0 ? 0 : e > n ? n : e;
    d = e > s ? e - s : 0;
    mag = (uint64_t)step;
  } else {
    s = s > n - 1 ? n - 1 : s;
    e = e < -1 ? -1 : e;
    d = s > e ? s - e : 0;
    mag = (uint64_t)0 - (uint64_t)step; /* no overflow for INT64_MIN */
  }
  *first = s;
  *len = d == 0 ? 0 : (int64_t)(((uint64_t)d - 1) / mag + 1);
}

/* Normalizes start/stop/step of every axis of in into p (first[nd],
 * step[nd], len[nd]) and the output shape; *whole is 1 when the slice is
 * the whole array in order. */
static int normalize_slices(int64_t* p, int* whole, const mlx_node_* in, const int64_t* start, const int64_t* stop,
                            const int64_t* strides, const char* op) {
  int nd = in->ndim;
  *whole = 1;
  for (int i = 0; i < nd; i++) {
    if (strides[i] == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Slice step cannot be zero (axis %d).", op, i);
    normalize_slice(in->shape[i], start[i], stop[i], strides[i], &p[i], &p[2 * nd + i]);
    /* A step over at most one element is never taken: 1 keeps strides
     * small and the layout recognisably contiguous. */
    p[nd + i] = p[2 * nd + i] > 1 ? strides[i] : 1;
    if (p[2 * nd + i] != in->shape[i] || p[nd + i] != 1) *whole = 0;
  }
  return MLX_OK;
}

int mlx_slice(
    mlx_array* res,
    const mlx_array a,
    const int64_t* start,
    const int64_t* stop,
    const int64_t* strides,
    int ndim,
    const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "slice"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (ndim != nd || (nd > 0 && (!start || !stop || !strides)))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[slice] Invalid number of indices or strides for array with dimension %d.",
                      nd);
  int64_t p[nd > 0 ? 3 * nd : 1];
  int whole;
  MLX_TRY(normalize_slices(p, &whole, in, start, stop, strides, "slice"));
  if (whole) return mlx_array_set(res, a);
  return mlx_op1_(res, &prim_slice, p, sizeof(int64_t) * 3 * (size_t)nd, &in, 1, in->dtype, p + 2 * nd, nd, s);
}

int mlx_slice_norm_(mlx_array* res, const mlx_array a, const int64_t* first, const int64_t* step, const int64_t* len,
                    mlx_stream s) {
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim, whole = 1;
  int64_t p[nd > 0 ? 3 * nd : 1];
  for (int i = 0; i < nd; i++) {
    p[i] = first[i];
    p[nd + i] = len[i] > 1 ? step[i] : 1;
    p[2 * nd + i] = len[i];
    if (len[i] != in->shape[i] || p[nd + i] != 1) whole = 0;
  }
  if (whole) return mlx_array_set(res, a);
  return mlx_op1_(res, &prim_slice, p, sizeof(int64_t) * 3 * (size_t)nd, &in, 1, in->dtype, p + 2 * nd, nd, s);
}

/* Records slice_update with normalized params p; upd already has src's
 * dtype and the region's shape. */
static int slice_update_p(mlx_array* res, const mlx_array src, const mlx_array upd, const int64_t* p, mlx_stream s) {
  mlx_node_* ins[2] = {MLX_NODE(src), MLX_NODE(upd)};
  int nd = ins[0]->ndim;
  return mlx_op1_(res, &prim_slice_update, p, sizeof(int64_t) * 3 * (size_t)nd, ins, 2, ins[0]->dtype, ins[0]->shape,
                  nd, s);
}

/* update is cast to src's dtype and broadcast to the region's shape (two
 * views at most), as upstream does; the node's kernel then only copies. */
int mlx_slice_update(
    mlx_array* res,
    const mlx_array src,
    const mlx_array update,
    const int64_t* start,
    const int64_t* stop,
    const int64_t* strides,
    int ndim,
    const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(src, 0, "slice_update"));
  MLX_TRY(mlx_shape_check_(update, 0, "slice_update"));
  mlx_node_* in = MLX_NODE(src);
  int nd = in->ndim;
  if (ndim != nd || (nd > 0 && (!start || !stop || !strides)))
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[slice_update] Invalid number of indices or strides for array with dimension %d.", nd);
  int64_t p[nd > 0 ? 3 * nd : 1];
  int whole, neg = 0;
  MLX_TRY(normalize_slices(p, &whole, in, start, stop, strides, "slice_update"));
  for (int i = 0; i < nd; i++) neg |= strides[i] < 0;
  mlx_array cast = mlx_array_new(), upd = mlx_array_new();
  int rc = mlx_astype(&cast, update, in->dtype, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&upd, cast, p + 2 * nd, nd, s);
  if (rc == MLX_OK) rc = whole && !neg ? mlx_array_set(res, upd) : slice_update_p(res, src, upd, p, s);
  mlx_array_free(cast);
  mlx_array_free(upd);
  return rc;
}

/* Piece i is a[indices[i-1]:indices[i]] along axis with Python slice
 * semantics (so unsorted or out-of-range indices give empty or clamped
 * pieces, as upstream). All pieces come from one node with several
 * outputs, each a view. */
int mlx_split(mlx_array* res, const mlx_array a, const int64_t* indices, size_t nindices, int axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "split"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim, ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, nd, "split"));
  if (nindices == 0) return mlx_array_set(&res[0], a);
  if (!indices) return mlx_error_(MLX_ERROR_ARGUMENT, "[split] NULL indices.");
  if (nindices >= (size_t)INT_MAX / 2) return mlx_error_(MLX_ERROR_ARGUMENT, "[split] Too many indices.");
  int nout = (int)nindices + 1;
  int64_t n = in->shape[ax];
  /* One block: params (axis, starts, indices), shapes, shape pointers,
   * dtypes, ndims. */
  size_t nparams = 2 * (size_t)nout;
  size_t bytes = sizeof(int64_t) * (nparams + (size_t)nout * (size_t)nd) +
                 (sizeof(int64_t*) + sizeof(mlx_dtype) + sizeof(int)) * (size_t)nout;
  int64_t* params = malloc(bytes);
  if (!params) return mlx_error_(MLX_ERROR_MEMORY, "[split] Out of memory.");
  int64_t* shapes = params + nparams;
  const int64_t** shape_ptrs = (const int64_t**)(shapes + (size_t)nout * (size_t)nd);
  mlx_dtype* dtypes = (mlx_dtype*)(shape_ptrs + nout);
  int* ndims = (int*)(dtypes + nout);
  params[0] = ax;
  memcpy(params + 1 + nout, indices, sizeof(int64_t) * nindices);
  for (int i = 0; i < nout; i++) {
    int64_t lo = i == 0 ? 0 : indices[i - 1], hi = i < nout - 1 ? indices[i] : n, len;
    normalize_slice(n, lo, hi, 1, &params[1 + i], &len);
    int64_t* sh = shapes + (size_t)i * (size_t)nd;
    memcpy(sh, in->shape, sizeof(int64_t) * (size_t)nd);
    sh[ax] = len;
    shape_ptrs[i] = sh;
    dtypes[i] = in->dtype;
    ndims[i] = nd;
  }
  int rc = mlx_op_record_(res, nout, &prim_split, params, sizeof(int64_t) * nparams, &in, 1, dtypes, shape_ptrs, ndims,
                          s);
  free(params);
  return rc;
}

int mlx_split_equal(mlx_array* res, const mlx_array a, int64_t sections, int axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "split"));
  mlx_node_* in = MLX_NODE(a);
  int ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, in->ndim, "split"));
  if (sections <= 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[split] num_splits must be positive and non-zero but got %lld.",
                      (long long)sections);
  if (sections >= INT_MAX / 2) return mlx_error_(MLX_ERROR_ARGUMENT, "[split] Too many sections.");
  int64_t n = in->shape[ax];
  if (n % sections) {
    char buf[128];
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[split] Array split does not result in sub arrays with equal size: attempting %lld splits "
                      "along axis %d for shape %s.",
                      (long long)sections, axis, mlx_shape_str_(buf, sizeof buf, in->shape, in->ndim));
  }
  if (sections == 1) return mlx_array_set(&res[0], a);
  int64_t* idx = malloc(sizeof(int64_t) * (size_t)(sections - 1));
  if (!idx) return mlx_error_(MLX_ERROR_MEMORY, "[split] Out of memory.");
  for (int64_t i = 0; i < sections - 1; i++) idx[i] = (i + 1) * (n / sections);
  int rc = mlx_split(res, a, idx, (size_t)(sections - 1), ax, s);
  free(idx);
  return rc;
}

/* ---- transform rules ----------------------------------------------------
 * As upstream MLX's (mlx/primitives.cpp), built from the public ops so
 * that rules compose. Shapes in comments: B is the vmapped batch size. */

int mlx_sum_to_shape_(mlx_array* res, const mlx_array x, const int64_t* shape, int ndim, mlx_stream s) {
  const mlx_node_* n = MLX_NODE(x);
  int diff = n->ndim - ndim, naxes = 0;
  int axes[n->ndim > 0 ? n->ndim : 1];
  for (int i = 0; i < n->ndim; i++)
    if (i < diff || (shape[i - diff] == 1 && n->shape[i] != 1)) axes[naxes++] = i;
  if (naxes == 0) return mlx_reshape(res, x, shape, ndim, s);
  mlx_array sum = mlx_array_new();
  int rc = mlx_sum_axes(&sum, x, axes, (size_t)naxes, 1, s);
  if (rc == MLX_OK) rc = mlx_reshape(res, sum, shape, ndim, s);
  mlx_array_free(sum);
  return rc;
}

/* x with its axis `from` moved to `to` (a new handle to x when equal). */
static int move_axis(mlx_array* res, const mlx_array x, int from, int to, mlx_stream s) {
  if (from == to) return mlx_array_set(res, x);
  return mlx_moveaxis(res, x, from, to, s);
}

static int reshape_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_node_* in = MLX_NODE(inputs[0]);
  return mlx_reshape(&in_cots[0], cots[0], in->shape, in->ndim, s);
}

static int reshape_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                       mlx_stream s) {
  const int64_t* p = params;
  return mlx_reshape(&out_tans[0], tangents[0], p + 1, (int)p[0], s);
}

/* Batch axis to the front, then reshape to (B, shape...). */
static int reshape_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                        const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nd = (int)p[0];
  int64_t shape[nd + 1];
  shape[0] = mlx_array_dim(inputs[0], in_axes[0]);
  memcpy(shape + 1, p + 1, sizeof(int64_t) * (size_t)nd);
  mlx_array front = mlx_array_new();
  int rc = move_axis(&front, inputs[0], in_axes[0], 0, s);
  if (rc == MLX_OK) rc = mlx_reshape(&outs[0], front, shape, nd + 1, s);
  mlx_array_free(front);
  out_axes[0] = 0;
  return rc;
}

static int transpose_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const int* perm = params;
  int nd = mlx_array_ndim(inputs[0]);
  int inv[nd];
  for (int i = 0; i < nd; i++) inv[perm[i]] = i;
  return mlx_transpose(&in_cots[0], cots[0], inv, (size_t)nd, s);
}

static int transpose_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  return mlx_transpose(&out_tans[0], tangents[0], params, (size_t)mlx_array_ndim(inputs[0]), s);
}

/* The batch axis stays where it is; the other axes are permuted around
 * it. */
static int transpose_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  const int* perm = params;
  int ax = in_axes[0], nd = mlx_array_ndim(inputs[0]) - 1;
  int bperm[nd + 1];
  for (int i = 0, k = 0; i <= nd; i++) {
    if (i == ax) {
      bperm[i] = ax;
    } else {
      bperm[i] = perm[k] + (perm[k] >= ax);
      k++;
    }
  }
  out_axes[0] = ax;
  return mlx_transpose(&outs[0], inputs[0], bperm, (size_t)nd + 1, s);
}

static int broadcast_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_node_* in = MLX_NODE(inputs[0]);
  return mlx_sum_to_shape_(&in_cots[0], cots[0], in->shape, in->ndim, s);
}

static int broadcast_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  const int64_t* p = params;
  return mlx_broadcast_to(&out_tans[0], tangents[0], p + 1, (int)p[0], s);
}

/* Pads the batched input with leading 1s to the output's rank (+1), so
 * its batch axis lines up with the B inserted into the target shape. */
static int broadcast_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  const int64_t* p = params;
  const mlx_node_* in = MLX_NODE(inputs[0]);
  int nd = (int)p[0], diff = nd - (in->ndim - 1), ax = in_axes[0] + diff;
  int64_t xshape[nd + 1], shape[nd + 1];
  for (int i = 0; i < nd + 1; i++) xshape[i] = i < diff ? 1 : in->shape[i - diff];
  for (int i = 0, k = 0; i < nd + 1; i++) shape[i] = i == ax ? in->shape[in_axes[0]] : p[1 + k++];
  mlx_array x = mlx_array_new();
  int rc = mlx_reshape(&x, inputs[0], xshape, nd + 1, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&outs[0], x, shape, nd + 1, s);
  mlx_array_free(x);
  out_axes[0] = ax;
  return rc;
}

/* The cotangent written into zeros at the sliced positions. */
static int slice_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  mlx_array zeros = mlx_array_new(), upd = mlx_array_new();
  int rc = mlx_zeros_like(&zeros, inputs[0], s);
  if (rc == MLX_OK) rc = mlx_astype(&upd, cots[0], mlx_array_dtype(inputs[0]), s);
  if (rc == MLX_OK) rc = slice_update_p(&in_cots[0], zeros, upd, params, s);
  mlx_array_free(zeros);
  mlx_array_free(upd);
  return rc;
}

static int slice_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nd = mlx_array_ndim(inputs[0]);
  return mlx_slice_norm_(&out_tans[0], tangents[0], p, p + nd, p + 2 * nd, s);
}

/* p (first, step, len of nd axes) with the whole axis ax of size b
 * inserted, into q (3 * (nd + 1) entries). */
static void insert_full_axis(int64_t* q, const int64_t* p, int nd, int ax, int64_t b) {
  for (int i = 0, k = 0; i <= nd; i++) {
    if (i == ax) {
      q[i] = 0, q[nd + 1 + i] = 1, q[2 * (nd + 1) + i] = b;
    } else {
      q[i] = p[k], q[nd + 1 + i] = p[nd + k], q[2 * (nd + 1) + i] = p[2 * nd + k];
      k++;
    }
  }
}

static int slice_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  int ax = in_axes[0], nd = mlx_array_ndim(inputs[0]) - 1;
  int64_t q[3 * (nd + 1)];
  insert_full_axis(q, params, nd, ax, mlx_array_dim(inputs[0], ax));
  out_axes[0] = ax;
  return mlx_slice_norm_(&outs[0], inputs[0], q, q + nd + 1, q + 2 * (nd + 1), s);
}

/* Cotangents of the pieces concatenated back along the axis when the
 * pieces tile it in order (the usual case); otherwise (unsorted or
 * out-of-range indices make pieces overlap or leave gaps) each piece is
 * padded back to its place and the pieces are summed. */
static int split_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int ax = (int)p[0];
  const mlx_node_* in = MLX_NODE(inputs[0]);
  int64_t n = in->shape[ax], end = 0;
  int tiles = 1;
  for (int i = 0; i < nout; i++) {
    tiles &= p[1 + i] == end;
    end = p[1 + i] + mlx_array_dim(cots[i], ax);
  }
  if (tiles && end == n) return mlx_concatenate(&in_cots[0], cots, (size_t)nout, ax, s);
  mlx_array zero = mlx_array_new(), acc = mlx_array_new(), piece = mlx_array_new(), sum = mlx_array_new();
  int rc = mlx_zeros_like(&acc, inputs[0], s);
  if (rc == MLX_OK) rc = mlx_zeros(&zero, NULL, 0, in->dtype, s);
  for (int i = 0; i < nout && rc == MLX_OK; i++) {
    int64_t len = mlx_array_dim(cots[i], ax), lo = p[1 + i], hi = n - lo - len;
    if (len == 0) continue;
    rc = mlx_pad(&piece, cots[i], &ax, &lo, &hi, 1, zero, "constant", s);
    if (rc == MLX_OK) rc = mlx_add(&sum, acc, piece, s);
    if (rc == MLX_OK) rc = mlx_array_set(&acc, sum);
  }
  if (rc == MLX_OK) rc = mlx_array_set(&in_cots[0], acc);
  mlx_array_free(zero), mlx_array_free(acc), mlx_array_free(piece), mlx_array_free(sum);
  return rc;
}

static int split_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const int64_t* p = params;
  return mlx_split(out_tans, tangents[0], p + 1 + nout, (size_t)nout - 1, (int)p[0], s);
}

static int split_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  const int64_t* p = params;
  int ax = (int)p[0];
  for (int i = 0; i < nout; i++) out_axes[i] = in_axes[0];
  return mlx_split(outs, inputs[0], p + 1 + nout, (size_t)nout - 1, ax + (in_axes[0] <= ax), s);
}

static int slice_update_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                            mlx_stream s) {
  const int64_t* p = params;
  int nd = mlx_array_ndim(inputs[0]), rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 1) {
      rc = mlx_slice_norm_(&in_cots[k], cots[0], p, p + nd, p + 2 * nd, s);
      continue;
    }
    /* The source's cotangent: zeros where the update went. */
    mlx_array zeros = mlx_array_new();
    rc = mlx_zeros(&zeros, p + 2 * nd, nd, mlx_array_dtype(cots[0]), s);
    if (rc == MLX_OK) rc = slice_update_p(&in_cots[k], cots[0], zeros, p, s);
    mlx_array_free(zeros);
  }
  return rc;
}

static int slice_update_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                            mlx_stream s) {
  mlx_array t[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) rc = mlx_array_set(&t[argnums[k]], tangents[k]);
  for (int i = 0; i < 2 && rc == MLX_OK; i++)
    if (!t[i].ctx) rc = mlx_zeros_like(&t[i], inputs[i], s);
  if (rc == MLX_OK && mlx_array_dtype(t[1]) != mlx_array_dtype(t[0])) {
    mlx_array c = mlx_array_new();
    rc = mlx_astype(&c, t[1], mlx_array_dtype(t[0]), s);
    if (rc == MLX_OK) rc = mlx_array_set(&t[1], c);
    mlx_array_free(c);
  }
  if (rc == MLX_OK) rc = slice_update_p(&out_tans[0], t[0], t[1], params, s);
  mlx_array_free(t[0]), mlx_array_free(t[1]);
  return rc;
}

/* Both operands get the batch at the source's batch axis (an unbatched
 * source is broadcast along it, an unbatched update too), and the region
 * spans that axis whole. */
static int slice_update_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                             int nout, const void* params, mlx_stream s) {
  int sax = in_axes[0], uax = in_axes[1];
  int nd = mlx_array_ndim(inputs[0]) - (sax >= 0);
  int64_t b = sax >= 0 ? mlx_array_dim(inputs[0], sax) : mlx_array_dim(inputs[1], uax);
  int ax = sax >= 0 ? sax : uax;
  int64_t q[3 * (nd + 1)];
  insert_full_axis(q, params, nd, ax, b);
  mlx_array src = mlx_array_new(), upd = mlx_array_new(), tmp = mlx_array_new();
  int rc = MLX_OK;
  if (sax >= 0) {
    rc = mlx_array_set(&src, inputs[0]);
  } else {
    const mlx_node_* n = MLX_NODE(inputs[0]);
    int64_t shape[nd + 1];
    for (int i = 0, k = 0; i <= nd; i++) shape[i] = i == ax ? b : n->shape[k++];
    rc = mlx_expand_dims(&tmp, inputs[0], &ax, 1, s);
    if (rc == MLX_OK) rc = mlx_broadcast_to(&src, tmp, shape, nd + 1, s);
  }
  if (rc == MLX_OK && uax >= 0) {
    rc = move_axis(&upd, inputs[1], uax, ax, s);
  } else if (rc == MLX_OK) {
    rc = mlx_expand_dims(&tmp, inputs[1], &ax, 1, s);
    if (rc == MLX_OK) rc = mlx_broadcast_to(&upd, tmp, q + 2 * (nd + 1), nd + 1, s);
  }
  if (rc == MLX_OK) rc = slice_update_p(&outs[0], src, upd, q, s);
  mlx_array_free(src), mlx_array_free(upd), mlx_array_free(tmp);
  out_axes[0] = ax;
  return rc;
}
