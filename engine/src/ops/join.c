/* Ops that build a bigger array from pieces: concatenate and pad copy
 * into sub-regions of a fresh output (kernels in cpu/shape.c); stack,
 * tile and repeat are graphs of views (expand_dims, broadcast_to) closed
 * by one concatenate or one copying reshape, as upstream MLX builds them. */
#include <limits.h>
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
RULES(concatenate);
RULES(pad);
#undef RULES

static const mlx_prim_ prim_concatenate = {.name = "concatenate",
                                           .cpu = mlx_cpu_concatenate_,
                                           .gpu = MLX_GPU_KERNEL_(mlx_cuda_concatenate_),
                                           .vjp = concatenate_vjp,
                                           .jvp = concatenate_jvp,
                                           .vmap = concatenate_vmap};
MLX_REGISTER_PRIM(prim_concatenate);
static const mlx_prim_ prim_pad = {
    .name = "pad", .cpu = mlx_cpu_pad_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_pad_), .vjp = pad_vjp, .jvp = pad_jvp, .vmap = pad_vmap};
MLX_REGISTER_PRIM(prim_pad);

static const char* const pad_modes[] = {"constant", "edge", "reflect", "symmetric"};

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
  for (int i = 0; name && i < 4; i++)
    if (strcmp(name, pad_modes[i]) == 0) {
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
  /* The kernel reads low[ndim]; the high padding after it is for the
   * transform rules. */
  size_t psize = sizeof(mlx_pad_params_) + 2 * sizeof(int64_t) * (size_t)nd;
  mlx_pad_params_* pp = malloc(psize);
  if (!pp) return mlx_error_(MLX_ERROR_MEMORY, "[pad] Out of memory.");
  pp->mode = m;
  pp->ndim = nd;
  memcpy(pp->low, low, sizeof(int64_t) * (size_t)nd);
  for (int d = 0; d < nd; d++) pp->low[nd + d] = shape[d] - in->shape[d] - low[d];
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

/* ---- transform rules ----------------------------------------------------
 * As upstream MLX's (mlx/primitives.cpp), built from public ops so that
 * they compose. */

/* Each differentiated input gets its stretch of the cotangent. */
static int concatenate_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                           const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                           mlx_stream s) {
  int ax = *(const int*)params, nd = mlx_array_ndim(cots[0]);
  int64_t start[nd], stop[nd], step[nd];
  int64_t* off = malloc(sizeof(int64_t) * ((size_t)nin + 1));
  if (!off) return mlx_error_(MLX_ERROR_MEMORY, "[concatenate] Out of memory.");
  off[0] = 0;
  for (int i = 0; i < nin; i++) off[i + 1] = off[i] + mlx_array_dim(inputs[i], ax);
  for (int d = 0; d < nd; d++) start[d] = 0, stop[d] = mlx_array_dim(cots[0], d), step[d] = 1;
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    start[ax] = off[argnums[k]];
    stop[ax] = off[argnums[k] + 1];
    rc = mlx_slice(&in_cots[k], cots[0], start, stop, step, nd, s);
  }
  free(off);
  return rc;
}

static int concatenate_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                           const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                           mlx_stream s) {
  mlx_array* parts = calloc((size_t)nin, sizeof *parts);
  if (!parts) return mlx_error_(MLX_ERROR_MEMORY, "[concatenate] Out of memory.");
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) rc = mlx_array_set(&parts[argnums[k]], tangents[k]);
  for (int i = 0; i < nin && rc == MLX_OK; i++)
    if (!parts[i].ctx) rc = mlx_zeros_like(&parts[i], inputs[i], s);
  if (rc == MLX_OK) rc = mlx_concatenate(&out_tans[0], parts, (size_t)nin, *(const int*)params, s);
  for (int i = 0; i < nin; i++) mlx_array_free(parts[i]);
  free(parts);
  return rc;
}

/* Batched inputs get the first batched input's batch axis; unbatched ones
 * are broadcast along it. */
static int concatenate_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                            int nout, const void* params, mlx_stream s) {
  int first = 0;
  while (in_axes[first] < 0) first++;
  int bax = in_axes[first], axis = *(const int*)params, nd = mlx_array_ndim(inputs[first]);
  int cat = axis + (axis >= bax);
  int64_t shape[nd];
  memcpy(shape, mlx_array_shape(inputs[first]), sizeof shape);
  mlx_array* parts = calloc((size_t)nin, sizeof *parts);
  if (!parts) return mlx_error_(MLX_ERROR_MEMORY, "[concatenate] Out of memory.");
  int rc = MLX_OK;
  for (int i = 0; i < nin && rc == MLX_OK; i++) {
    if (in_axes[i] == bax) {
      rc = mlx_array_set(&parts[i], inputs[i]);
    } else if (in_axes[i] >= 0) {
      rc = mlx_moveaxis(&parts[i], inputs[i], in_axes[i], bax, s);
    } else {
      mlx_array e = mlx_array_new();
      shape[cat] = mlx_array_dim(inputs[i], axis);
      rc = mlx_expand_dims(&e, inputs[i], &bax, 1, s);
      if (rc == MLX_OK) rc = mlx_broadcast_to(&parts[i], e, shape, nd, s);
      mlx_array_free(e);
    }
  }
  if (rc == MLX_OK) rc = mlx_concatenate(&outs[0], parts, (size_t)nin, cat, s);
  for (int i = 0; i < nin; i++) mlx_array_free(parts[i]);
  free(parts);
  out_axes[0] = bax;
  return rc;
}


/* The transpose of edge/reflect/symmetric padding along one axis: each
 * input position gets the sum of the cotangent at every output position
 * that copies it. The output positions split into runs whose source moves
 * by +1, -1 or 0; each run is one slice of c (reversed for -1, summed for
 * 0) padded with zeros to its place, and the runs are added up. */
static int fold_axis(mlx_array* res, const mlx_array c, int axis, int mode, int64_t low, int64_t n, mlx_stream s) {
  int nd = mlx_array_ndim(c);
  int64_t len_out = mlx_array_dim(c, axis), first[nd], step[nd], len[nd];
  for (int d = 0; d < nd; d++) first[d] = 0, step[d] = 1, len[d] = mlx_array_dim(c, d);
  mlx_array zero = mlx_array_new(), acc = mlx_array_new(), run = mlx_array_new(), piece = mlx_array_new(),
            sum = mlx_array_new();
  int rc = mlx_zeros(&zero, NULL, 0, mlx_array_dtype(c), s);
  for (int64_t p = 0; p < len_out && rc == MLX_OK;) {
    int64_t j0 = mlx_pad_source_(mode, p, low, n), d = 1, q = p + 1;
    if (q < len_out) d = mlx_pad_source_(mode, q, low, n) - j0;
    if (d < -1 || d > 1) d = 1;
    while (q < len_out && mlx_pad_source_(mode, q, low, n) - mlx_pad_source_(mode, q - 1, low, n) == d) q++;
    int64_t m = q - p, lo = d < 0 ? j0 - (m - 1) : j0, width = d == 0 ? 1 : m, hi;
    first[axis] = d < 0 ? q - 1 : p;
    step[axis] = d < 0 ? -1 : 1;
    len[axis] = m;
    rc = mlx_slice_norm_(&run, c, first, step, len, s);
    if (rc == MLX_OK && d == 0) {
      rc = mlx_sum_axes(&piece, run, &axis, 1, 1, s);
      if (rc == MLX_OK) rc = mlx_array_set(&run, piece);
    }
    hi = n - lo - width;
    if (rc == MLX_OK) rc = mlx_pad(&piece, run, &axis, &lo, &hi, 1, zero, "constant", s);
    if (rc == MLX_OK && acc.ctx) rc = mlx_add(&sum, acc, piece, s);
    if (rc == MLX_OK) rc = mlx_array_set(&acc, acc.ctx ? sum : piece);
    p = q;
  }
  if (rc == MLX_OK) rc = mlx_array_set(res, acc);
  mlx_array_free(zero), mlx_array_free(acc), mlx_array_free(run), mlx_array_free(piece), mlx_array_free(sum);
  return rc;
}

/* The array's cotangent is the interior of the output's (folded back for
 * the modes that copy edges); the constant pad value's is the sum over
 * the padding. */
static int pad_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_pad_params_* pp = params;
  int nd = pp->ndim;
  const int64_t* ishape = mlx_array_shape(inputs[0]);
  int64_t start[nd], stop[nd], step[nd];
  for (int d = 0; d < nd; d++) start[d] = pp->low[d], stop[d] = pp->low[d] + ishape[d], step[d] = 1;
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0 && pp->mode == MLX_PAD_CONSTANT_) {
      rc = mlx_slice(&in_cots[k], cots[0], start, stop, step, nd, s);
    } else if (argnums[k] == 0) {
      mlx_array acc = mlx_array_new(), folded = mlx_array_new();
      rc = mlx_array_set(&acc, cots[0]);
      for (int d = 0; d < nd && rc == MLX_OK; d++) {
        if (pp->low[d] == 0 && pp->low[nd + d] == 0) continue;
        rc = fold_axis(&folded, acc, d, pp->mode, pp->low[d], ishape[d], s);
        if (rc == MLX_OK) rc = mlx_array_set(&acc, folded);
      }
      if (rc == MLX_OK) rc = mlx_array_set(&in_cots[k], acc);
      mlx_array_free(acc), mlx_array_free(folded);
    } else {
      mlx_array inner = mlx_array_new(), all = mlx_array_new(), in_sum = mlx_array_new(), diff = mlx_array_new();
      rc = mlx_slice(&inner, cots[0], start, stop, step, nd, s);
      if (rc == MLX_OK) rc = mlx_sum(&all, cots[0], 0, s);
      if (rc == MLX_OK) rc = mlx_sum(&in_sum, inner, 0, s);
      if (rc == MLX_OK) rc = mlx_subtract(&diff, all, in_sum, s);
      if (rc == MLX_OK) rc = mlx_reshape(&in_cots[k], diff, mlx_array_shape(inputs[1]), mlx_array_ndim(inputs[1]), s);
      mlx_array_free(inner), mlx_array_free(all), mlx_array_free(in_sum), mlx_array_free(diff);
    }
  }
  return rc;
}

/* pad(a, ...) for every axis of a from the params (the ones not padded
 * get 0, 0). */
static int pad_all(mlx_array* res, const mlx_array a, const int64_t* low, const int64_t* high, int mode,
                   const mlx_array value, mlx_stream s) {
  int nd = mlx_array_ndim(a);
  int axes[nd > 0 ? nd : 1];
  for (int d = 0; d < nd; d++) axes[d] = d;
  return mlx_pad(res, a, axes, low, high, (size_t)nd, value, pad_modes[mode], s);
}

/* Padding is linear in the array and the pad value together. */
static int pad_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_pad_params_* pp = params;
  mlx_array t[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) rc = mlx_array_set(&t[argnums[k]], tangents[k]);
  if (rc == MLX_OK && !t[0].ctx) rc = mlx_zeros_like(&t[0], inputs[0], s);
  if (rc == MLX_OK && nin > 1 && !t[1].ctx) rc = mlx_zeros(&t[1], NULL, 0, mlx_array_dtype(t[0]), s);
  if (rc == MLX_OK) rc = pad_all(&out_tans[0], t[0], pp->low, pp->low + pp->ndim, pp->mode, t[1], s);
  mlx_array_free(t[0]), mlx_array_free(t[1]);
  return rc;
}

/* The batch axis is not padded. A batched pad value cannot be one
 * constant: the array is padded with zeros and the padding is then taken
 * from the value of each batch element. */
static int pad_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s) {
  const mlx_pad_params_* pp = params;
  int nd = pp->ndim, vax = nin > 1 ? in_axes[1] : -1, ax = in_axes[0] >= 0 ? in_axes[0] : 0;
  int64_t low[nd + 1], high[nd + 1];
  for (int d = 0, k = 0; d <= nd; d++) {
    low[d] = d == ax ? 0 : pp->low[k];
    high[d] = d == ax ? 0 : pp->low[nd + k];
    k += d != ax;
  }
  out_axes[0] = ax;
  if (vax < 0) return pad_all(&outs[0], inputs[0], low, high, pp->mode, nin > 1 ? inputs[1] : mlx_array_new(), s);
  int64_t b = mlx_array_dim(inputs[1], vax);
  mlx_array x = mlx_array_new(), tmp = mlx_array_new(), zero = mlx_array_new(), padded = mlx_array_new(),
            mask = mlx_array_new(), yes = mlx_array_new(), v = mlx_array_new();
  int rc = MLX_OK;
  if (in_axes[0] >= 0) {
    rc = mlx_array_set(&x, inputs[0]);
  } else {
    int64_t shape[nd + 1];
    for (int d = 0; d <= nd; d++) shape[d] = d == 0 ? b : mlx_array_dim(inputs[0], d - 1);
    rc = mlx_expand_dims(&tmp, inputs[0], &ax, 1, s);
    if (rc == MLX_OK) rc = mlx_broadcast_to(&x, tmp, shape, nd + 1, s);
  }
  mlx_dtype dt = mlx_array_dtype(inputs[0]);
  if (rc == MLX_OK) rc = mlx_zeros(&zero, NULL, 0, dt, s);
  if (rc == MLX_OK) rc = pad_all(&padded, x, low, high, MLX_PAD_CONSTANT_, zero, s);
  /* mask: true in the padding. */
  if (rc == MLX_OK) rc = mlx_zeros(&tmp, mlx_array_shape(x), nd + 1, MLX_BOOL, s);
  if (rc == MLX_OK) rc = mlx_ones(&yes, NULL, 0, MLX_BOOL, s);
  if (rc == MLX_OK) rc = pad_all(&mask, tmp, low, high, MLX_PAD_CONSTANT_, yes, s);
  /* the values as (1, ..., B at ax, ..., 1) */
  int64_t vshape[nd + 1];
  for (int d = 0; d <= nd; d++) vshape[d] = d == ax ? b : 1;
  if (rc == MLX_OK) rc = mlx_moveaxis(&tmp, inputs[1], vax, 0, s);
  if (rc == MLX_OK) rc = mlx_reshape(&v, tmp, vshape, nd + 1, s);
  if (rc == MLX_OK) rc = mlx_where(&outs[0], mask, v, padded, s);
  mlx_array_free(x), mlx_array_free(tmp), mlx_array_free(zero), mlx_array_free(padded), mlx_array_free(mask);
  mlx_array_free(yes), mlx_array_free(v);
  return rc;
}
