/* Indexing: the gather and scatter primitives (upstream MLX's Gather and
 * Scatter) and the ops built on them: take, take_along_axis and
 * put_along_axis. Constructors check arguments, broadcast the index
 * arrays to one shape and dtype, and record a node; the kernels are in
 * cpu/indexing.c and the transform rules in indexing_rules.c. */
#include <stdlib.h>

#include "../cpu/shape.h"
#include "indexing.h"

/* output_shapes rules (for shapeless compile), re-checking what the
 * kernels rely on. gather has none: its slice sizes are fixed params that
 * depend on the input's shape (as upstream, which refuses shapeless
 * gathers). */
static int scatter_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                          const void* params) {
  const int64_t* p = params;
  const mlx_node_ *a = ins[0], *up = ins[nin - 1];
  int nidx = (int)p[1], indim = nidx ? ins[1]->ndim : up->ndim - a->ndim;
  int ok = indim >= 0 && a->ndim <= cap && up->ndim == indim + a->ndim;
  for (int k = 1; ok && k <= nidx; k++) {
    ok = ins[k]->ndim == indim;
    for (int d = 0; ok && d < indim; d++) ok = ins[k]->shape[d] == up->shape[d];
  }
  for (int d = 0; ok && d < a->ndim; d++) ok = up->shape[indim + d] <= a->shape[d];
  if (!ok) return mlx_error_(MLX_ERROR_SHAPE, "[scatter] Updates do not fit the array and indices.");
  memcpy(shapes[0], a->shape, sizeof(int64_t) * (size_t)a->ndim);
  ndims[0] = a->ndim;
  return MLX_OK;
}

/* gather_axis: the indices' shape; scatter_axis: a's. Both need a and
 * the indices (and values) to agree off the axis. */
static int along_axis_shapes(int64_t* const* shapes, int* ndims, int cap, mlx_node_* const* ins, int nin, int axis,
                             const mlx_node_* out) {
  const mlx_node_ *a = ins[0], *ix = ins[1];
  int ok = a->ndim == ix->ndim && a->ndim <= cap && axis < a->ndim;
  for (int d = 0; ok && d < a->ndim; d++) ok = d == axis || a->shape[d] == ix->shape[d];
  for (int d = 0; ok && nin > 2 && d < a->ndim; d++) ok = ins[2]->ndim == a->ndim && ins[2]->shape[d] == ix->shape[d];
  if (!ok) return mlx_error_(MLX_ERROR_SHAPE, "[along_axis] The array and the indices do not match off the axis.");
  memcpy(shapes[0], out->shape, sizeof(int64_t) * (size_t)out->ndim);
  ndims[0] = out->ndim;
  return MLX_OK;
}

static int gather_axis_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                              const void* params) {
  return along_axis_shapes(shapes, ndims, cap, ins, nin, (int)*(const int64_t*)params, ins[1]);
}

static int scatter_axis_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                               const void* params) {
  return along_axis_shapes(shapes, ndims, cap, ins, nin, (int)*(const int64_t*)params, ins[0]);
}

static const mlx_prim_ prim_gather = {.name = "gather",
                                      .cpu = mlx_cpu_gather_,
                                      .gpu = MLX_GPU_KERNEL_(mlx_cuda_gather_),
                                      .vjp = mlx_gather_vjp_,
                                      .jvp = mlx_gather_jvp_,
                                      .vmap = mlx_gather_vmap_};
MLX_REGISTER_PRIM(prim_gather);
static const mlx_prim_ prim_scatter = {.name = "scatter",
                                       .cpu = mlx_cpu_scatter_,
                                       .gpu = MLX_GPU_KERNEL_(mlx_cuda_scatter_),
                                       .vjp = mlx_scatter_vjp_,
                                       .jvp = mlx_scatter_jvp_,
                                       .vmap = mlx_scatter_vmap_,
                                       .output_shapes = scatter_shapes};
MLX_REGISTER_PRIM(prim_scatter);
static const mlx_prim_ prim_gather_axis = {.name = "gather_axis",
                                           .cpu = mlx_cpu_gather_axis_,
                                           .gpu = MLX_GPU_KERNEL_(mlx_cuda_gather_axis_),
                                           .vjp = mlx_gather_axis_vjp_,
                                           .jvp = mlx_gather_axis_jvp_,
                                           .vmap = mlx_gather_axis_vmap_,
                                           .output_shapes = gather_axis_shapes};
MLX_REGISTER_PRIM(prim_gather_axis);
static const mlx_prim_ prim_scatter_axis = {.name = "scatter_axis",
                                            .cpu = mlx_cpu_scatter_axis_,
                                            .gpu = MLX_GPU_KERNEL_(mlx_cuda_scatter_axis_),
                                            .vjp = mlx_scatter_axis_vjp_,
                                            .jvp = mlx_scatter_axis_jvp_,
                                            .vmap = mlx_scatter_axis_vmap_,
                                            .output_shapes = scatter_axis_shapes};
MLX_REGISTER_PRIM(prim_scatter_axis);

/* Checks the axes (distinct, in [0, ndim)) and the index arrays (integer
 * dtypes), broadcasts them to one shape (ishape, *indim dims) and casts
 * them to their promoted dtype into out[0..nidx). */
static int prepare_indices(mlx_array* out, int64_t* ishape, int* indim, const mlx_node_* a, const mlx_array* indices,
                           size_t nidx, const int* axes, mlx_stream s, const char* op) {
  if (nidx > (size_t)a->ndim)
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[%s] Too many index arrays. Got %zu index arrays for input with %d dimensions.", op, nidx,
                      a->ndim);
  if (nidx && !axes) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Missing axes.", op);
  for (size_t i = 0; i < nidx; i++) {
    if (axes[i] < 0 || axes[i] >= a->ndim)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Axes don't match array dimensions.", op);
    for (size_t j = 0; j < i; j++)
      if (axes[j] == axes[i]) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Repeat axes not allowed in %s.", op, op);
  }
  mlx_dtype dt = MLX_UINT8;
  *indim = 0;
  for (size_t i = 0; i < nidx; i++) {
    MLX_TRY(mlx_shape_check_(indices[i], 0, op));
    mlx_node_* n = MLX_NODE(indices[i]);
    if (n->dtype == MLX_BOOL) return mlx_error_(MLX_ERROR_DTYPE, "[%s] Boolean indices not supported.", op);
    if (!mlx_dtype_is_integer(n->dtype))
      return mlx_error_(MLX_ERROR_DTYPE, "[%s] Got indices with invalid dtype. Indices must be integral.", op);
    dt = i ? mlx_dtype_promote(dt, n->dtype) : n->dtype;
    MLX_TRY(mlx_broadcast_shape_(ishape, indim, ishape, *indim, n->shape, n->ndim, op));
  }
  int rc = MLX_OK;
  mlx_array tmp = mlx_array_new();
  for (size_t i = 0; i < nidx && rc == MLX_OK; i++) {
    rc = mlx_astype(&tmp, indices[i], dt, s);
    if (rc == MLX_OK) rc = mlx_broadcast_to(&out[i], tmp, ishape, *indim, s);
  }
  mlx_array_free(tmp);
  return rc;
}

static void free_list(mlx_array* v, size_t n) {
  for (size_t i = 0; i < n; i++) mlx_array_free(v[i]);
}

int mlx_gather(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const int* axes,
               const int64_t* slice_sizes, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "gather"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (nd && !slice_sizes) return mlx_error_(MLX_ERROR_ARGUMENT, "[gather] Missing slice sizes.");
  /* Index ranks are bounded by the shapes family's limit too. */
  int64_t* idx_shape = malloc(sizeof(int64_t) * MLX_SHAPE_MAX_NDIM_);
  mlx_array* idx = calloc(nidx ? nidx : 1, sizeof(mlx_array));
  if (!idx_shape || !idx) {
    free(idx_shape), free(idx);
    return mlx_error_(MLX_ERROR_MEMORY, "[gather] Out of memory.");
  }
  int indim = 0;
  int rc = prepare_indices(idx, idx_shape, &indim, in, indices, nidx, axes, s, "gather");
  int64_t isize = 1, total = 1;
  for (int i = 0; i < indim; i++) isize *= idx_shape[i];
  for (int i = 0; i < nd && rc == MLX_OK; i++) {
    if (slice_sizes[i] < 0 || (in->size > 0 && slice_sizes[i] > in->shape[i])) {
      char b1[64];
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[gather] Slice sizes must be in [0, a.shape(i)]. Got slice size %lld for "
                                          "array with shape %s.",
                      (long long)slice_sizes[i], mlx_shape_str_(b1, sizeof b1, in->shape, nd));
    }
    total *= slice_sizes[i] > 0 ? 1 : 0;
  }
  if (rc == MLX_OK && in->size == 0 && isize != 0 && total != 0)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[gather] If the input is empty, either the indices must be empty or the total "
                                        "slice size must be 0.");
  if (rc == MLX_OK && indim + nd > MLX_SHAPE_MAX_NDIM_)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[gather] More than %d dimensions are not supported.", MLX_SHAPE_MAX_NDIM_);
  if (rc == MLX_OK) {
    int ond = indim + nd;
    int64_t oshape[ond > 0 ? ond : 1];
    memcpy(oshape, idx_shape, sizeof(int64_t) * (size_t)indim);
    memcpy(oshape + indim, slice_sizes, sizeof(int64_t) * (size_t)nd);
    int64_t osize;
    rc = mlx_shape_size_(&osize, oshape, ond, "gather");
    size_t np = 2 + nidx + (size_t)nd;
    int64_t p[np];
    p[0] = (int64_t)nidx, p[1] = nd;
    for (size_t i = 0; i < nidx; i++) p[2 + i] = axes[i];
    memcpy(p + 2 + nidx, slice_sizes, sizeof(int64_t) * (size_t)nd);
    mlx_node_* ins[nidx + 1];
    ins[0] = in;
    for (size_t i = 0; i < nidx; i++) ins[1 + i] = MLX_NODE(idx[i]);
    if (rc == MLX_OK) rc = mlx_op1_(res, &prim_gather, p, sizeof p, ins, (int)nidx + 1, in->dtype, oshape, ond, s);
  }
  free_list(idx, nidx);
  free(idx), free(idx_shape);
  return rc;
}

int mlx_scatter_mode_(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                      const int* axes, int mode, mlx_stream s) {
  static const char* names[] = {"scatter", "scatter_add", "scatter_prod", "scatter_max", "scatter_min"};
  const char* op = names[mode];
  MLX_TRY(mlx_shape_check_(a, 0, op));
  MLX_TRY(mlx_shape_check_(updates, 0, op));
  mlx_node_* in = MLX_NODE(a);
  mlx_node_* up = MLX_NODE(updates);
  int nd = in->ndim;
  int64_t* idx_shape = malloc(sizeof(int64_t) * MLX_SHAPE_MAX_NDIM_);
  mlx_array* idx = calloc(nidx ? nidx : 1, sizeof(mlx_array));
  if (!idx_shape || !idx) {
    free(idx_shape), free(idx);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] Out of memory.", op);
  }
  int indim = 0;
  int rc = prepare_indices(idx, idx_shape, &indim, in, indices, nidx, axes, s, op);
  char b1[64], b2[64];
  if (rc == MLX_OK && up->ndim != nd + indim)
    rc = mlx_error_(MLX_ERROR_SHAPE,
                    "[%s] Updates with %d dimensions does not match the sum of the array (%d) and indices (%d) "
                    "dimensions.",
                    op, up->ndim, nd, indim);
  for (int i = 0; i < indim && rc == MLX_OK; i++)
    if (up->shape[i] != idx_shape[i])
      rc = mlx_error_(MLX_ERROR_SHAPE, "[%s] Update shape %s is not valid for broadcasted index shape %s.", op,
                      mlx_shape_str_(b1, sizeof b1, up->shape, up->ndim),
                      mlx_shape_str_(b2, sizeof b2, idx_shape, indim));
  for (int i = 0; i < nd && rc == MLX_OK; i++)
    if (up->shape[indim + i] > in->shape[i])
      rc = mlx_error_(MLX_ERROR_SHAPE, "[%s] Updates with shape %s are too large for array with shape %s.", op,
                      mlx_shape_str_(b1, sizeof b1, up->shape, up->ndim), mlx_shape_str_(b2, sizeof b2, in->shape, nd));
  mlx_array upd = mlx_array_new();
  if (rc == MLX_OK) rc = mlx_astype(&upd, updates, in->dtype, s);
  if (rc == MLX_OK) {
    size_t np = 3 + nidx;
    int64_t p[np];
    p[0] = mode, p[1] = (int64_t)nidx, p[2] = nd;
    for (size_t i = 0; i < nidx; i++) p[3 + i] = axes[i];
    mlx_node_* ins[nidx + 2];
    ins[0] = in;
    for (size_t i = 0; i < nidx; i++) ins[1 + i] = MLX_NODE(idx[i]);
    ins[nidx + 1] = MLX_NODE(upd);
    rc = mlx_op1_(res, &prim_scatter, p, sizeof p, ins, (int)nidx + 2, in->dtype, in->shape, nd, s);
  }
  mlx_array_free(upd);
  free_list(idx, nidx);
  free(idx), free(idx_shape);
  return rc;
}

int mlx_scatter(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                const int* axes, const mlx_stream s) {
  return mlx_scatter_mode_(res, a, indices, nidx, updates, axes, MLX_SCATTER_NONE_, s);
}
int mlx_scatter_add(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s) {
  return mlx_scatter_mode_(res, a, indices, nidx, updates, axes, MLX_SCATTER_SUM_, s);
}
int mlx_scatter_prod(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                     const int* axes, const mlx_stream s) {
  return mlx_scatter_mode_(res, a, indices, nidx, updates, axes, MLX_SCATTER_PROD_, s);
}
int mlx_scatter_max(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s) {
  return mlx_scatter_mode_(res, a, indices, nidx, updates, axes, MLX_SCATTER_MAX_, s);
}
int mlx_scatter_min(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s) {
  return mlx_scatter_mode_(res, a, indices, nidx, updates, axes, MLX_SCATTER_MIN_, s);
}

int mlx_take_index(mlx_array* res, const mlx_array a, int64_t index, const int* axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "take"));
  int nd = (int)mlx_array_ndim(a), ax = 0;
  mlx_array src = mlx_array_new(), sliced = mlx_array_new();
  int rc = MLX_OK;
  if (!axis) {
    int64_t flat = -1;
    rc = mlx_reshape(&src, a, &flat, 1, s);
    nd = 1;
  } else if (*axis < -nd || *axis >= nd) {
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[take] invalid axis %d", *axis);
  } else {
    ax = *axis < 0 ? *axis + nd : *axis;
    rc = mlx_array_set(&src, a);
  }
  int64_t n = rc == MLX_OK ? mlx_array_dim(src, ax) : 0, at = index < 0 ? index + n : index;
  if (rc == MLX_OK && (at < 0 || at >= n))
    rc = mlx_error_(MLX_ERROR_INDEX, "[take] index %lld is out of bounds for size %lld", (long long)index,
                    (long long)n);
  if (rc == MLX_OK) {
    int64_t start[nd], stop[nd], step[nd];
    for (int d = 0; d < nd; d++) {
      start[d] = 0;
      stop[d] = mlx_array_dim(src, d);
      step[d] = 1;
    }
    start[ax] = at;
    stop[ax] = at + 1;
    rc = mlx_slice(&sliced, src, start, stop, step, nd, s);
  }
  if (rc == MLX_OK) rc = mlx_squeeze_axes(res, sliced, &ax, 1, s);
  mlx_array_free(src), mlx_array_free(sliced);
  return rc;
}

int mlx_take(mlx_array* res, const mlx_array a, const mlx_array indices, int axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "take"));
  MLX_TRY(mlx_shape_check_(indices, 0, "take"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (axis < -nd || axis >= nd)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[take] Received invalid axis %d for array with %d dimensions.", axis, nd);
  if (axis < 0) axis += nd;
  int64_t isize = mlx_array_size(indices);
  if (in->shape[axis] == 0 && isize != 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[take] Cannot do a non-empty take from an empty axis.");
  int ind = mlx_array_ndim(indices);
  int64_t sizes[nd];
  memcpy(sizes, in->shape, sizeof sizes);
  sizes[axis] = 1;
  mlx_array g = mlx_array_new(), t = mlx_array_new();
  int rc = mlx_gather(&g, a, &indices, 1, &axis, sizes, s);
  /* g: indices' shape + a's shape with 1 at axis. Move the index dims to
   * axis and drop the 1. */
  int ond = ind + nd - 1;
  int64_t oshape[ond > 0 ? ond : 1];
  const int64_t* ishape = mlx_array_shape(indices);
  for (int i = 0, k = 0; i < nd; i++) {
    if (i == axis)
      for (int j = 0; j < ind; j++) oshape[k++] = ishape[j];
    else
      oshape[k++] = in->shape[i];
  }
  if (rc == MLX_OK && axis != 0) {
    int perm[ind + nd];
    int k = 0;
    for (int i = 0; i < axis; i++) perm[k++] = ind + i;
    for (int j = 0; j < ind; j++) perm[k++] = j;
    for (int i = axis; i < nd; i++) perm[k++] = ind + i;
    rc = mlx_transpose(&t, g, perm, (size_t)(ind + nd), s);
    if (rc == MLX_OK) rc = mlx_array_set(&g, t);
  }
  if (rc == MLX_OK) rc = mlx_reshape(res, g, oshape, ond, s);
  mlx_array_free(g), mlx_array_free(t);
  return rc;
}

int mlx_take_all(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "take"));
  mlx_array f = mlx_array_new();
  int rc = mlx_flatten(&f, a, 0, -1, s);
  if (rc == MLX_OK) rc = mlx_take(res, f, indices, 0, s);
  mlx_array_free(f);
  return rc;
}

/* The checks of take_along_axis / put_along_axis and the broadcast shape
 * of a and indices on the other axes (1 on axis); normalizes *axis. */
static int along_axis_shape(int64_t* shape, int* axis, const mlx_node_* a, const mlx_node_* idx, const char* op) {
  int nd = a->ndim;
  if (*axis < -nd || *axis >= nd)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Received invalid axis for array with %d dimensions.", op, nd);
  if (idx->ndim != nd)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Indices of dimension %d does not match array of dimension %d.", op,
                      idx->ndim, nd);
  if (!mlx_dtype_is_integer(idx->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Got indices with invalid dtype. Indices must be integral.", op);
  if (*axis < 0) *axis += nd;
  for (int d = 0; d < nd; d++) {
    int64_t x = d == *axis ? 1 : a->shape[d], y = d == *axis ? 1 : idx->shape[d];
    if (x != y && x != 1 && y != 1) {
      char b1[64], b2[64];
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] Shapes %s and %s cannot be broadcast.", op,
                        mlx_shape_str_(b1, sizeof b1, a->shape, nd), mlx_shape_str_(b2, sizeof b2, idx->shape, nd));
    }
    shape[d] = x == 1 ? y : x;
  }
  return MLX_OK;
}

int mlx_take_along_axis(mlx_array* res, const mlx_array a, const mlx_array indices, int axis, const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "take_along_axis"));
  MLX_TRY(mlx_shape_check_(indices, 0, "take_along_axis"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  int64_t shape[nd > 0 ? nd : 1];
  MLX_TRY(along_axis_shape(shape, &axis, in, MLX_NODE(indices), "take_along_axis"));
  /* a broadcast to the common shape (its own length on axis), indices to
   * the common shape (theirs on axis). */
  int64_t ashape[nd], ishape[nd];
  for (int d = 0; d < nd; d++) {
    ashape[d] = d == axis ? in->shape[d] : shape[d];
    ishape[d] = d == axis ? mlx_array_dim(indices, d) : shape[d];
  }
  mlx_array ab = mlx_array_new(), ib = mlx_array_new();
  int rc = mlx_broadcast_to(&ab, a, ashape, nd, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&ib, indices, ishape, nd, s);
  int64_t isize = 1;
  for (int d = 0; d < nd; d++) isize *= ishape[d];
  if (rc == MLX_OK && in->shape[axis] == 0 && isize != 0)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[take_along_axis] Cannot do a non-empty take from an empty axis.");
  int64_t p = axis;
  mlx_node_* ins[2] = {MLX_NODE(ab), MLX_NODE(ib)};
  if (rc == MLX_OK) rc = mlx_op1_(res, &prim_gather_axis, &p, sizeof p, ins, 2, in->dtype, ishape, nd, s);
  mlx_array_free(ab), mlx_array_free(ib);
  return rc;
}

int mlx_scatter_along_axis_(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_array values,
                            int axis, int mode, mlx_stream s) {
  mlx_array v = mlx_array_new();
  int rc = mlx_astype(&v, values, mlx_array_dtype(a), s);
  int64_t p[2] = {axis, mode};
  mlx_node_* ins[3] = {MLX_NODE(a), MLX_NODE(indices), MLX_NODE(v)};
  mlx_node_* an = MLX_NODE(a);
  if (rc == MLX_OK) rc = mlx_op1_(res, &prim_scatter_axis, p, sizeof p, ins, 3, an->dtype, an->shape, an->ndim, s);
  mlx_array_free(v);
  return rc;
}

int mlx_put_along_axis(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_array values, int axis,
                       const mlx_stream s) {
  MLX_TRY(mlx_shape_check_(a, 0, "put_along_axis"));
  MLX_TRY(mlx_shape_check_(indices, 0, "put_along_axis"));
  MLX_TRY(mlx_shape_check_(values, 0, "put_along_axis"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  int64_t shape[nd > 0 ? nd : 1];
  MLX_TRY(along_axis_shape(shape, &axis, in, MLX_NODE(indices), "put_along_axis"));
  if (in->size == 0) return mlx_array_set(res, a);
  /* values broadcast against indices (leading size-1 dims of values
   * dropped first, as upstream squeezes them), then all three on the
   * other axes. */
  mlx_node_* vn = MLX_NODE(values);
  int vnd = vn->ndim, skip = 0;
  while (vnd - skip > nd && vn->shape[skip] == 1) skip++;
  if (vnd - skip > nd) {
    char b1[64];
    return mlx_error_(MLX_ERROR_SHAPE, "[put_along_axis] Values of shape %s do not broadcast to the indices.",
                      mlx_shape_str_(b1, sizeof b1, vn->shape, vnd));
  }
  int64_t ishape[nd], ashape[nd];
  int bnd = nd;
  MLX_TRY(mlx_broadcast_shape_(ishape, &bnd, MLX_NODE(indices)->shape, nd, vn->shape + skip, vnd - skip,
                               "put_along_axis"));
  for (int d = 0; d < nd; d++) {
    int64_t x = d == axis ? 1 : shape[d], y = d == axis ? 1 : ishape[d];
    if (x != y && x != 1 && y != 1) {
      char b1[64], b2[64];
      return mlx_error_(MLX_ERROR_SHAPE, "[put_along_axis] Shapes %s and %s cannot be broadcast.",
                        mlx_shape_str_(b1, sizeof b1, in->shape, nd), mlx_shape_str_(b2, sizeof b2, ishape, nd));
    }
    int64_t c = x == 1 ? y : x;
    ashape[d] = d == axis ? in->shape[d] : c;
    if (d != axis) ishape[d] = c;
  }
  mlx_array ab = mlx_array_new(), ib = mlx_array_new(), vb = mlx_array_new(), vr = mlx_array_new();
  int rc = mlx_broadcast_to(&ab, a, ashape, nd, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&ib, indices, ishape, nd, s);
  if (rc == MLX_OK) rc = mlx_reshape(&vr, values, vn->shape + skip, vnd - skip, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(&vb, vr, ishape, nd, s);
  if (rc == MLX_OK) rc = mlx_scatter_along_axis_(res, ab, ib, vb, axis, MLX_SCATTER_NONE_, s);
  mlx_array_free(ab), mlx_array_free(ib), mlx_array_free(vb), mlx_array_free(vr);
  return rc;
}
