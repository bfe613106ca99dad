/* Ops that build a bigger array from pieces: concatenate and pad copy
 * into sub-regions of a fresh output (kernels in cpu/shape.c); stack,
 * tile and repeat are graphs of views (expand_dims, broadcast_to) closed
 * by one concatenate or one copying reshape, as upstream MLX builds them. */
#include <limits.h>
#include <stdlib.h>

#include "../cpu/shape.h"

static const mlx_prim_ prim_concatenate = {.name = "concatenate", .cpu = mlx_cpu_concatenate_};
static const mlx_prim_ prim_pad = {.name = "pad", .cpu = mlx_cpu_pad_};

/* Inputs of another dtype than the promoted one are cast first (astype
 * nodes), so the kernel only moves bytes. */
int mlx_concatenate(mlx_array* res, const mlx_array* arrays, size_t n, int axis, const mlx_stream s) {
  if (n == 0 || !arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[concatenate] No arrays provided for concatenation");
  for (size_t i = 0; i < n; i++) MLX_TRY(mlx_shape_check_(arrays[i], 0, "concatenate"));
  if (n == 1) return mlx_array_set(res, arrays[0]);
  if (n > INT_MAX) return mlx_error_(MLX_ERROR_ARGUMENT, "[concatenate] Too many arrays.");
  const mlx_node_* first = MLX_NODE(arrays[0]);
  int nd = first->ndim, ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, nd, "concatenate"));
  int64_t shape[nd];
  memcpy(shape, first->shape, sizeof shape);
  shape[ax] = 0;
  mlx_dtype dtype = first->dtype;
  for (size_t i = 0; i < n; i++) {
    const mlx_node_* a = MLX_NODE(arrays[i]);
    if (a->ndim != nd)
      return mlx_error_(MLX_ERROR_SHAPE,
                        "[concatenate] All the input arrays must have the same number of dimensions. However, got "
                        "arrays with dimensions %d and %d.",
                        nd, a->ndim);
    for (int d = 0; d < nd; d++) {
      if (d == ax || a->shape[d] == first->shape[d]) continue;
      char sa[128], sb[128];
      return mlx_error_(MLX_ERROR_SHAPE,
                        "[concatenate] All the input array dimensions must match exactly except for the "
                        "concatenation axis. However, the provided shapes are %s and %s, and the concatenation axis "
                        "is %d.",
                        mlx_shape_str_(sa, sizeof sa, first->shape, nd), mlx_shape_str_(sb, sizeof sb, a->shape, nd),
                        axis);
    }
    if (shape[ax] > INT64_MAX - a->shape[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[concatenate] Shape too large.");
    shape[ax] += a->shape[ax];
    dtype = mlx_dtype_promote(dtype, a->dtype);
  }
  mlx_node_** nodes = malloc(n * sizeof *nodes);
  mlx_array* casts = calloc(n, sizeof *casts);
  int rc = nodes && casts ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[concatenate] Out of memory.");
  for (size_t i = 0; i < n && rc == MLX_OK; i++) {
    if (MLX_NODE(arrays[i])->dtype != dtype) rc = mlx_astype(&casts[i], arrays[i], dtype, s);
    nodes[i] = casts[i].ctx ? MLX_NODE(casts[i]) : MLX_NODE(arrays[i]);
  }
  if (rc == MLX_OK) rc = mlx_op1_(res, &prim_concatenate, &ax, sizeof ax, nodes, (int)n, dtype, shape, nd, s);
  if (casts)
    for (size_t i = 0; i < n; i++) mlx_array_free(casts[i]);
  free(casts);
  free(nodes);
  return rc;
}

/* expand_dims of each array (views), then one concatenate. */
int mlx_stack(mlx_array* res, const mlx_array* arrays, size_t n, int axis, const mlx_stream s) {
  if (n == 0 || !arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[stack] No arrays provided for stacking");
  for (size_t i = 0; i < n; i++) MLX_TRY(mlx_shape_check_(arrays[i], 0, "stack"));
  const mlx_node_* first = MLX_NODE(arrays[0]);
  for (size_t i = 1; i < n; i++) {
    const mlx_node_* a = MLX_NODE(arrays[i]);
    int same = a->ndim == first->ndim;
    for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == first->shape[d];
    if (!same) return mlx_error_(MLX_ERROR_SHAPE, "[stack] All arrays must have the same shape");
  }
  int ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, first->ndim + 1, "stack"));
  mlx_array* ex = calloc(n, sizeof *ex);
  if (!ex) return mlx_error_(MLX_ERROR_MEMORY, "[stack] Out of memory.");
  int rc = MLX_OK;
  for (size_t i = 0; i < n && rc == MLX_OK; i++) rc = mlx_expand_dims(&ex[i], arrays[i], &ax, 1, s);
  if (rc == MLX_OK) rc = mlx_concatenate(res, ex, n, ax, s);
  for (size_t i = 0; i < n; i++) mlx_array_free(ex[i]);
  free(ex);
  return rc;
}

static int parse_pad_mode(int* mode, const char* name) {
  static const char* const names[] = {"constant", "edge", "reflect", "symmetric"};
  for (int i = 0; name && i < 4; i++)
    if (strcmp(name, names[i]) == 0) {
      *mode = i;
      return MLX_OK;
    }
  return mlx_error_(MLX_ERROR_ARGUMENT, "[pad] Invalid padding mode (%s) passed to pad", name ? name : "NULL");
}

int mlx_pad(
    mlx_array* res,
    const mlx_array a,
    const int* axes,
    const int64_t* lows,
    const int64_t* highs,
    size_t naxes,
    const mlx_array pad_value,
    const char* mode,
    const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "pad"));
  int m = MLX_PAD_CONSTANT_;
  MLX_TRY(parse_pad_mode(&m, mode));
  if (naxes && (!axes || !lows || !highs)) return mlx_error_(MLX_ERROR_ARGUMENT, "[pad] NULL axes or pad widths.");
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (m == MLX_PAD_CONSTANT_) {
    MLX_TRY(mlx_check_array_(pad_value, "pad"));
    /* Upstream reads the first element of whatever it is given; we take
     * only a single value. */
    if (MLX_NODE(pad_value)->size != 1)
      return mlx_error_(MLX_ERROR_SHAPE, "[pad] The pad value must have exactly one element (got %lld).",
                        (long long)MLX_NODE(pad_value)->size);
  }
  int64_t shape[nd > 0 ? nd : 1], low[nd > 0 ? nd : 1];
  char seen[nd > 0 ? nd : 1];
  memset(seen, 0, sizeof seen);
  int padded = 0;
  for (int d = 0; d < nd; d++) {
    shape[d] = in->shape[d];
    low[d] = 0;
  }
  for (size_t i = 0; i < naxes; i++) {
    int ax = axes[i];
    MLX_TRY(mlx_normalize_axis_(&ax, nd, "pad"));
    if (seen[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[pad] Received duplicate axes.");
    seen[ax] = 1;
    if (lows[i] < 0)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[pad] Invalid low padding size (%lld) passed to pad for axis %zu. Padding sizes must be "
                        "non-negative",
                        (long long)lows[i], i);
    if (highs[i] < 0)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[pad] Invalid high padding size (%lld) passed to pad for axis %zu. Padding sizes must be "
                        "non-negative",
                        (long long)highs[i], i);
    if (lows[i] > INT64_MAX - highs[i] || shape[ax] > INT64_MAX - lows[i] - highs[i])
      return mlx_error_(MLX_ERROR_ARGUMENT, "[pad] Shape too large.");
    if ((lows[i] || highs[i]) && in->shape[ax] == 0 && m != MLX_PAD_CONSTANT_)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[pad] Cannot pad empty axis %d using mode '%s'.", ax, mode);
    shape[ax] += lows[i] + highs[i];
    low[ax] = lows[i];
    if (lows[i] || highs[i]) padded = 1;
  }
  if (!padded) return mlx_array_set(res, a);
  size_t psize = sizeof(mlx_pad_params_) + sizeof(int64_t) * (size_t)nd;
  mlx_pad_params_* pp = malloc(psize);
  if (!pp) return mlx_error_(MLX_ERROR_MEMORY, "[pad] Out of memory.");
  pp->mode = m;
  pp->ndim = nd;
  memcpy(pp->low, low, sizeof(int64_t) * (size_t)nd);
  mlx_node_* inputs[2] = {in, NULL};
  mlx_array val = mlx_array_new();
  int rc = MLX_OK;
  if (m == MLX_PAD_CONSTANT_) {
    rc = mlx_astype(&val, pad_value, in->dtype, s);
    if (rc == MLX_OK) inputs[1] = MLX_NODE(val);
  }
  if (rc == MLX_OK) rc = mlx_op1_(res, &prim_pad, pp, psize, inputs, inputs[1] ? 2 : 1, in->dtype, shape, nd, s);
  mlx_array_free(val);
  free(pp);
  return rc;
}

/* reshape to interleave a 1 before every repeated dim, broadcast those to
 * the reps (a view), reshape to merge them (the one copy). */
int mlx_tile(mlx_array* res, const mlx_array a, const int64_t* reps, size_t nreps, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, nreps > MLX_SHAPE_MAX_NDIM_ ? INT64_MAX : (int64_t)nreps, "tile"));
  if (nreps && !reps) return mlx_error_(MLX_ERROR_ARGUMENT, "[tile] NULL reps.");
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim > (int)nreps ? in->ndim : (int)nreps;
  int64_t ex[2 * nd + 1], br[2 * nd + 1], fin[nd + 1];
  int ne = 0;
  for (int i = 0; i < nd; i++) {
    int si = i - (nd - in->ndim), ri = i - (nd - (int)nreps);
    int64_t dim = si >= 0 ? in->shape[si] : 1, r = ri >= 0 ? reps[ri] : 1;
    if (r < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[tile] Negative reps (%lld) are not allowed.", (long long)r);
    if (dim && r > INT64_MAX / dim) return mlx_error_(MLX_ERROR_ARGUMENT, "[tile] Shape too large.");
    if (r != 1) {
      ex[ne] = 1;
      br[ne++] = r;
    }
    ex[ne] = dim;
    br[ne++] = dim;
    fin[i] = r * dim;
  }
  mlx_array t1 = mlx_array_new(), t2 = mlx_array_new();
  int rc = mlx_reshape(&t1, a, ex, ne, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&t2, t1, br, ne, s);
  if (rc == MLX_OK) rc = mlx_reshape(res, t2, fin, nd, s);
  mlx_array_free(t1);
  mlx_array_free(t2);
  return rc;
}

/* expand_dims after axis, broadcast the new axis to repeats (a view),
 * reshape to merge it into axis (the one copy). */
int mlx_repeat(mlx_array* res, const mlx_array a, int64_t repeats, int axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "repeat"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim, ax = axis;
  MLX_TRY(mlx_normalize_axis_(&ax, nd, "repeat"));
  if (repeats < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[repeat] Number of repeats cannot be negative");
  if (repeats == 1) return mlx_array_set(res, a);
  if (in->shape[ax] && repeats > INT64_MAX / in->shape[ax])
    return mlx_error_(MLX_ERROR_ARGUMENT, "[repeat] Shape too large.");
  int64_t br[nd + 1], fin[nd];
  for (int i = 0, k = 0; i <= nd; i++) br[i] = i == ax + 1 ? repeats : in->shape[k++];
  for (int i = 0; i < nd; i++) fin[i] = i == ax ? in->shape[i] * repeats : in->shape[i];
  int ex_ax = ax + 1;
  mlx_array t1 = mlx_array_new(), t2 = mlx_array_new();
  int rc = mlx_expand_dims(&t1, a, &ex_ax, 1, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&t2, t1, br, nd + 1, s);
  if (rc == MLX_OK) rc = mlx_reshape(res, t2, fin, nd, s);
  mlx_array_free(t1);
  mlx_array_free(t2);
  return rc;
}

int mlx_repeat_all(mlx_array* res, const mlx_array a, int64_t repeats, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "repeat"));
  mlx_array flat = mlx_array_new();
  int rc = mlx_flatten(&flat, a, 0, -1, s);
  if (rc == MLX_OK) rc = mlx_repeat(res, flat, repeats, 0, s);
  mlx_array_free(flat);
  return rc;
}
