/* Transform rules of gather and scatter, after upstream MLX's Gather and
 * Scatter (mlx/primitives.cpp): a gather's cotangent is scattered back
 * with scatter_add, a scatter's update cotangent is gathered. Rules build
 * their results with public ops, so they compose (grad of grad, vmap of
 * grad). Indices are not differentiable: their cotangents and tangents
 * are zero (empty results). */
#include <stdlib.h>

#include "indexing.h"

/* The index inputs of a node: inputs[first .. first + n). */
#define IDX(inputs, first) ((inputs) + (first))

int mlx_gather_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nidx = (int)p[0];
  int axes[nidx > 0 ? nidx : 1];
  for (int k = 0; k < nidx; k++) axes[k] = (int)MLX_GATHER_AXES_(p)[k];
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] != 0) continue;
    mlx_array z = mlx_array_new(), c = mlx_array_new();
    rc = mlx_zeros_like(&z, inputs[0], s);
    if (rc == MLX_OK) rc = mlx_astype(&c, cots[0], mlx_array_dtype(inputs[0]), s);
    if (rc == MLX_OK) rc = mlx_scatter_add(&in_cots[k], z, IDX(inputs, 1), (size_t)nidx, c, axes, s);
    mlx_array_free(z), mlx_array_free(c);
  }
  return rc;
}

int mlx_gather_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nidx = (int)p[0];
  int axes[nidx > 0 ? nidx : 1];
  for (int k = 0; k < nidx; k++) axes[k] = (int)MLX_GATHER_AXES_(p)[k];
  for (int k = 0; k < nargs; k++)
    if (argnums[k] == 0)
      return mlx_gather(&out_tans[0], tangents[k], IDX(inputs, 1), (size_t)nidx, axes, MLX_GATHER_SIZES_(p), s);
  return MLX_OK;
}

/* arange(b) shaped (b, 1, ..., 1) with nd dims, in an index dtype that
 * promotes with `like` to an integer dtype. */
static int batch_index(mlx_array* res, int64_t b, int nd, mlx_dtype like, mlx_stream s) {
  mlx_dtype dt = mlx_dtype_size(like) == 8 ? like : MLX_INT32;
  int64_t shape[nd];
  for (int i = 0; i < nd; i++) shape[i] = i ? 1 : b;
  mlx_array r = mlx_array_new();
  int rc = mlx_arange(&r, 0, (double)b, 1, dt, s);
  if (rc == MLX_OK) rc = mlx_reshape(res, r, shape, nd, s);
  mlx_array_free(r);
  return rc;
}

/* x with its batch axis ax moved to the front, or (ax < 0) with a new
 * front axis of size b (broadcast when b > 1, else size 1). */
static int batch_front(mlx_array* res, const mlx_array x, int ax, int64_t b, mlx_stream s) {
  if (ax >= 0) return mlx_moveaxis(res, x, ax, 0, s);
  int zero = 0;
  if (b <= 1) return mlx_expand_dims(res, x, &zero, 1, s);
  int nd = mlx_array_ndim(x);
  int64_t shape[nd + 1];
  shape[0] = b;
  memcpy(shape + 1, mlx_array_shape(x), sizeof(int64_t) * (size_t)nd);
  mlx_array e = mlx_array_new();
  int rc = mlx_expand_dims(&e, x, &zero, 1, s);
  if (rc == MLX_OK) rc = mlx_broadcast_to(res, e, shape, nd + 1, s);
  mlx_array_free(e);
  return rc;
}

static int64_t batch_size(const mlx_array* inputs, const int* in_axes, int nin) {
  for (int i = 0; i < nin; i++)
    if (in_axes[i] >= 0) return mlx_array_dim(inputs[i], in_axes[i]);
  return 1;
}

int mlx_gather_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nidx = (int)p[0], nd = (int)p[1];
  const int64_t* sizes = MLX_GATHER_SIZES_(p);
  int64_t b = batch_size(inputs, in_axes, nin);
  int idx_batched = 0, indim = 0;
  for (int k = 0; k < nidx; k++) idx_batched |= in_axes[1 + k] >= 0;
  if (nidx) indim = mlx_array_ndim(inputs[1]) - (in_axes[1] >= 0);
  int axes[nidx + 1];
  int64_t sz[nd + 1];
  mlx_array a = mlx_array_new(), g = mlx_array_new();
  mlx_array idx[nidx + 1];
  for (int k = 0; k <= nidx; k++) idx[k] = mlx_array_new();
  int rc = MLX_OK;
  if (!idx_batched) {
    /* Only a is batched: its batch axis rides along as a whole-axis slice
     * right after the index dims. */
    for (int k = 0; k < nidx; k++) axes[k] = (int)MLX_GATHER_AXES_(p)[k] + 1;
    sz[0] = b;
    memcpy(sz + 1, sizes, sizeof(int64_t) * (size_t)nd);
    rc = mlx_moveaxis(&a, inputs[0], in_axes[0], 0, s);
    if (rc == MLX_OK) rc = mlx_gather(&outs[0], a, IDX(inputs, 1), (size_t)nidx, axes, sz, s);
    out_axes[0] = indim;
  } else {
    /* Batched indices get the batch in front; unbatched ones a size-1
     * front axis that broadcasts. A batched a is indexed along its batch
     * axis by arange(b), which pairs slice i with index batch i. */
    int a_batched = in_axes[0] >= 0, n = 0;
    if (a_batched) {
      rc = batch_index(&idx[n], b, indim + 1, mlx_array_dtype(inputs[1]), s);
      axes[n++] = 0;
      if (rc == MLX_OK) rc = mlx_moveaxis(&a, inputs[0], in_axes[0], 0, s);
      sz[0] = 1;
      memcpy(sz + 1, sizes, sizeof(int64_t) * (size_t)nd);
    } else {
      rc = mlx_array_set(&a, inputs[0]);
      memcpy(sz, sizes, sizeof(int64_t) * (size_t)nd);
    }
    for (int k = 0; k < nidx && rc == MLX_OK; k++) {
      rc = batch_front(&idx[n], inputs[1 + k], in_axes[1 + k], 1, s);
      axes[n++] = (int)MLX_GATHER_AXES_(p)[k] + a_batched;
    }
    if (rc == MLX_OK) rc = mlx_gather(a_batched ? &g : &outs[0], a, idx, (size_t)n, axes, sz, s);
    if (rc == MLX_OK && a_batched) {
      /* (b, I..., 1, sizes...) -> drop the batch axis' unit slice. */
      int drop = 1 + indim;
      rc = mlx_squeeze_axes(&outs[0], g, &drop, 1, s);
    }
    out_axes[0] = 0;
  }
  for (int k = 0; k <= nidx; k++) mlx_array_free(idx[k]);
  mlx_array_free(a), mlx_array_free(g);
  return rc;
}

int mlx_scatter_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int mode = (int)p[0], nidx = (int)p[1], nd = (int)p[2];
  if (mode == MLX_SCATTER_PROD_)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[scatter] VJP not implemented for scatter_prod");
  int axes[nidx > 0 ? nidx : 1];
  for (int k = 0; k < nidx; k++) axes[k] = (int)MLX_SCATTER_AXES_(p)[k];
  const mlx_array upd = inputs[nin - 1];
  const int64_t* block = mlx_array_shape(upd) + (mlx_array_ndim(upd) - nd);
  int extremum = mode == MLX_SCATTER_MAX_ || mode == MLX_SCATTER_MIN_;
  int rc = MLX_OK;
  mlx_array t1 = mlx_array_new(), t2 = mlx_array_new(), t3 = mlx_array_new();
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0) {
      if (mode == MLX_SCATTER_NONE_) {
        /* The positions overwritten by updates get no gradient. */
        rc = mlx_zeros_like(&t1, upd, s);
        if (rc == MLX_OK) rc = mlx_scatter(&in_cots[k], cots[0], IDX(inputs, 1), (size_t)nidx, t1, axes, s);
      } else if (mode == MLX_SCATTER_SUM_) {
        rc = mlx_array_set(&in_cots[k], cots[0]);
      } else {
        /* Where the extremum kept the input's value. */
        rc = mlx_equal(&t1, outputs[0], inputs[0], s);
        if (rc == MLX_OK) rc = mlx_multiply(&in_cots[k], cots[0], t1, s);
      }
    } else if (argnums[k] == nin - 1) {
      rc = mlx_gather(extremum ? &t2 : &in_cots[k], cots[0], IDX(inputs, 1), (size_t)nidx, axes, block, s);
      if (rc == MLX_OK && extremum) {
        rc = mlx_gather(&t1, outputs[0], IDX(inputs, 1), (size_t)nidx, axes, block, s);
        if (rc == MLX_OK) rc = mlx_equal(&t3, t1, upd, s);
        if (rc == MLX_OK) rc = mlx_multiply(&in_cots[k], t2, t3, s);
      }
    }
  }
  mlx_array_free(t1), mlx_array_free(t2), mlx_array_free(t3);
  return rc;
}

/* none/add: the same scatter of the tangents. max/min: each element's
 * tangent comes from whichever of the input and the updates it kept (both
 * on ties, as the vjp). prod has no rule upstream. */
int mlx_scatter_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int mode = (int)p[0], nidx = (int)p[1], nd = (int)p[2];
  if (mode == MLX_SCATTER_PROD_)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[scatter] JVP not implemented for scatter_prod");
  int axes[nidx > 0 ? nidx : 1];
  for (int k = 0; k < nidx; k++) axes[k] = (int)MLX_SCATTER_AXES_(p)[k];
  mlx_array ta = mlx_array_new(), tu = mlx_array_new(), m = mlx_array_new(), g = mlx_array_new(),
            z = mlx_array_new(), t1 = mlx_array_new();
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0) rc = mlx_array_set(&ta, tangents[k]);
    else if (argnums[k] == nin - 1) rc = mlx_array_set(&tu, tangents[k]);
  }
  if (rc == MLX_OK && !ta.ctx) rc = mlx_zeros_like(&ta, inputs[0], s);
  if (rc == MLX_OK && !tu.ctx) rc = mlx_zeros_like(&tu, inputs[nin - 1], s);
  if (mode == MLX_SCATTER_NONE_ || mode == MLX_SCATTER_SUM_) {
    if (rc == MLX_OK) rc = mlx_scatter_mode_(&out_tans[0], ta, IDX(inputs, 1), (size_t)nidx, tu, axes, mode, s);
  } else {
    const mlx_array upd = inputs[nin - 1];
    const int64_t* block = mlx_array_shape(upd) + (mlx_array_ndim(upd) - nd);
    if (rc == MLX_OK) rc = mlx_equal(&m, outputs[0], inputs[0], s);
    if (rc == MLX_OK) rc = mlx_multiply(&t1, ta, m, s);
    if (rc == MLX_OK) rc = mlx_gather(&g, outputs[0], IDX(inputs, 1), (size_t)nidx, axes, block, s);
    if (rc == MLX_OK) rc = mlx_equal(&m, g, upd, s);
    if (rc == MLX_OK) rc = mlx_multiply(&g, tu, m, s);
    if (rc == MLX_OK) rc = mlx_zeros_like(&z, ta, s);
    if (rc == MLX_OK) rc = mlx_scatter_add(&m, z, IDX(inputs, 1), (size_t)nidx, g, axes, s);
    if (rc == MLX_OK) rc = mlx_add(&out_tans[0], t1, m, s);
  }
  mlx_array_free(ta), mlx_array_free(tu), mlx_array_free(m), mlx_array_free(g), mlx_array_free(z), mlx_array_free(t1);
  return rc;
}

/* Everything gets the batch in front: a (broadcast when unbatched), the
 * indices (size-1 front axis when unbatched) plus arange(b) on a's new
 * axis 0, and the updates (b, I..., 1, block...). */
int mlx_scatter_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  const int64_t* p = params;
  int mode = (int)p[0], nidx = (int)p[1], nd = (int)p[2];
  int64_t b = batch_size(inputs, in_axes, nin);
  int uax = in_axes[nin - 1];
  int indim = mlx_array_ndim(inputs[nin - 1]) - (uax >= 0) - nd;
  mlx_array a = mlx_array_new(), u = mlx_array_new(), u2 = mlx_array_new();
  mlx_array idx[nidx + 1];
  int axes[nidx + 1];
  for (int k = 0; k <= nidx; k++) idx[k] = mlx_array_new();
  int rc = batch_front(&a, inputs[0], in_axes[0], b, s);
  if (rc == MLX_OK) rc = batch_index(&idx[0], b, indim + 1, nidx ? mlx_array_dtype(inputs[1]) : MLX_INT32, s);
  axes[0] = 0;
  for (int k = 0; k < nidx && rc == MLX_OK; k++) {
    rc = batch_front(&idx[1 + k], inputs[1 + k], in_axes[1 + k], 1, s);
    axes[1 + k] = (int)MLX_SCATTER_AXES_(p)[k] + 1;
  }
  if (rc == MLX_OK) rc = batch_front(&u, inputs[nin - 1], uax, b, s);
  if (rc == MLX_OK) {
    int unit = 1 + indim;
    rc = mlx_expand_dims(&u2, u, &unit, 1, s);
  }
  if (rc == MLX_OK) rc = mlx_scatter_mode_(&outs[0], a, idx, (size_t)nidx + 1, u2, axes, mode, s);
  out_axes[0] = 0;
  for (int k = 0; k <= nidx; k++) mlx_array_free(idx[k]);
  mlx_array_free(a), mlx_array_free(u), mlx_array_free(u2);
  return rc;
}

/* take_along_axis: the cotangent added back along the axis into zeros
 * of the (broadcast) source. */
int mlx_gather_axis_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int axis = (int)*(const int64_t*)params, rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] != 0) continue;
    mlx_array z = mlx_array_new(), c = mlx_array_new();
    rc = mlx_zeros_like(&z, inputs[0], s);
    if (rc == MLX_OK) rc = mlx_astype(&c, cots[0], mlx_array_dtype(inputs[0]), s);
    if (rc == MLX_OK) rc = mlx_scatter_along_axis_(&in_cots[k], z, inputs[1], c, axis, MLX_SCATTER_SUM_, s);
    mlx_array_free(z), mlx_array_free(c);
  }
  return rc;
}

int mlx_gather_axis_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  int axis = (int)*(const int64_t*)params;
  for (int k = 0; k < nargs; k++)
    if (argnums[k] == 0) return mlx_take_along_axis(&out_tans[0], tangents[k], inputs[1], axis, s);
  return MLX_OK;
}

/* Both operands get the batch in front (a size-1 axis when unbatched,
 * which take_along_axis broadcasts) and the axis moves up by one. */
int mlx_gather_axis_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  int axis = (int)*(const int64_t*)params;
  mlx_array a = mlx_array_new(), i = mlx_array_new();
  int rc = batch_front(&a, inputs[0], in_axes[0], 1, s);
  if (rc == MLX_OK) rc = batch_front(&i, inputs[1], in_axes[1], 1, s);
  if (rc == MLX_OK) rc = mlx_take_along_axis(&outs[0], a, i, axis + 1, s);
  out_axes[0] = 0;
  mlx_array_free(a), mlx_array_free(i);
  return rc;
}

/* put_along_axis (mode none) and its add form: the input's cotangent is
 * the output's with zeros written where values went (none) or unchanged
 * (sum); the values' is read back along the axis. */
int mlx_scatter_axis_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s) {
  const int64_t* p = params;
  int axis = (int)p[0], mode = (int)p[1], rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0 && mode == MLX_SCATTER_SUM_) {
      rc = mlx_array_set(&in_cots[k], cots[0]);
    } else if (argnums[k] == 0) {
      mlx_array z = mlx_array_new();
      rc = mlx_zeros_like(&z, inputs[2], s);
      if (rc == MLX_OK) rc = mlx_scatter_along_axis_(&in_cots[k], cots[0], inputs[1], z, axis, MLX_SCATTER_NONE_, s);
      mlx_array_free(z);
    } else if (argnums[k] == 2) {
      rc = mlx_take_along_axis(&in_cots[k], cots[0], inputs[1], axis, s);
    }
  }
  return rc;
}

int mlx_scatter_axis_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s) {
  const int64_t* p = params;
  mlx_array ta = mlx_array_new(), tv = mlx_array_new();
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0) rc = mlx_array_set(&ta, tangents[k]);
    else if (argnums[k] == 2) rc = mlx_array_set(&tv, tangents[k]);
  }
  if (rc == MLX_OK && !ta.ctx) rc = mlx_zeros_like(&ta, inputs[0], s);
  if (rc == MLX_OK && !tv.ctx) rc = mlx_zeros_like(&tv, inputs[2], s);
  if (rc == MLX_OK) rc = mlx_scatter_along_axis_(&out_tans[0], ta, inputs[1], tv, (int)p[0], (int)p[1], s);
  mlx_array_free(ta), mlx_array_free(tv);
  return rc;
}

/* Everything gets the batch in front (a broadcast to it when unbatched,
 * indices and values too, as the primitive wants one shape for them). */
int mlx_scatter_axis_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int64_t b = batch_size(inputs, in_axes, nin);
  mlx_array x[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int i = 0; i < 3 && rc == MLX_OK; i++) rc = batch_front(&x[i], inputs[i], in_axes[i], b, s);
  if (rc == MLX_OK) rc = mlx_scatter_along_axis_(&outs[0], x[0], x[1], x[2], (int)p[0] + 1, (int)p[1], s);
  out_axes[0] = 0;
  for (int i = 0; i < 3; i++) mlx_array_free(x[i]);
  return rc;
}
