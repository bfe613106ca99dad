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

static const mlx_prim_ prim_reshape = {.name = "reshape", .cpu = mlx_cpu_reshape_};
static const mlx_prim_ prim_transpose = {.name = "transpose", .cpu = mlx_cpu_transpose_};
static const mlx_prim_ prim_broadcast = {.name = "broadcast_to", .cpu = mlx_cpu_broadcast_};
static const mlx_prim_ prim_slice = {.name = "slice", .cpu = mlx_cpu_slice_};
static const mlx_prim_ prim_split = {.name = "split", .cpu = mlx_cpu_split_};

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
  return mlx_op1_(res, &prim_reshape, NULL, 0, &in, 1, in->dtype, shape, ndim, s);
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
  return mlx_op1_(res, &prim_broadcast, NULL, 0, &in, 1, in->dtype, shape, ndim, s);
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
  /* params: first index per axis, then step per axis. */
  int64_t p[nd > 0 ? 2 * nd : 1], shape[nd > 0 ? nd : 1];
  int whole = 1;
  for (int i = 0; i < nd; i++) {
    if (strides[i] == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[slice] Slice step cannot be zero (axis %d).", i);
    normalize_slice(in->shape[i], start[i], stop[i], strides[i], &p[i], &shape[i]);
    /* A step over at most one element is never taken: 1 keeps strides
     * small and the layout recognisably contiguous. */
    p[nd + i] = shape[i] > 1 ? strides[i] : 1;
    if (shape[i] != in->shape[i] || p[nd + i] != 1) whole = 0;
  }
  if (whole) return mlx_array_set(res, a);
  return mlx_op1_(res, &prim_slice, p, sizeof(int64_t) * 2 * (size_t)nd, &in, 1, in->dtype, shape, nd, s);
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
  /* One block: params (axis, starts), shapes, shape pointers, dtypes,
   * ndims. */
  size_t bytes = sizeof(int64_t) * ((size_t)nout + 1 + (size_t)nout * (size_t)nd) +
                 (sizeof(int64_t*) + sizeof(mlx_dtype) + sizeof(int)) * (size_t)nout;
  int64_t* params = malloc(bytes);
  if (!params) return mlx_error_(MLX_ERROR_MEMORY, "[split] Out of memory.");
  int64_t* shapes = params + nout + 1;
  const int64_t** shape_ptrs = (const int64_t**)(shapes + (size_t)nout * (size_t)nd);
  mlx_dtype* dtypes = (mlx_dtype*)(shape_ptrs + nout);
  int* ndims = (int*)(dtypes + nout);
  params[0] = ax;
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
  int rc = mlx_op_record_(res, nout, &prim_split, params, sizeof(int64_t) * ((size_t)nout + 1), &in, 1, dtypes,
                          shape_ptrs, ndims, s);
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
