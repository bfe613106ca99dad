/* Transform rules of the reductions (declared in reduce_rules.h).
 *
 * They follow upstream MLX: Reduce/Softmax/LogSumExp in mlx/primitives.cpp
 * and, for var/std (which upstream composes from mean, square, sum and
 * sqrt), the derivative of that composition in closed form:
 *   sum      vjp: the cotangent with the reduced axes put back as size 1
 *                 (when keepdims is false), broadcast to the input;
 *   mean     the same times 1/n;
 *   prod     cot * (product of the other elements of the group), exact
 *                 with zeros (upstream uses two exclusive cumprods; we have
 *                 no cumprod, so zeros are counted instead, see
 *                 prod_partials);
 *   max/min  vjp: the cotangent split evenly among the elements equal to
 *                 the extreme (upstream's mask / count); jvp: the tangent
 *                 at the FIRST extreme in row-major order over the reduced
 *                 axes, as upstream's jvp goes through argmax. The two
 *                 disagree at ties exactly as upstream's do;
 *   var      2 (x - mean) / (n - ddof) * cot;
 *   std      (x - mean) / ((n - ddof) * std) * cot;
 *   logsumexp softmax(x) * cot;
 *   softmax  s * (cot - sum(s * cot)) (the Jacobian is symmetric, so the
 *                 jvp is the same expression of the tangent);
 *   all/any/argmax/argmin: not differentiable (the shared zero rules).
 * Every rule builds its result with public ops, so the rules compose:
 * grad of grad differentiates through them.
 *
 * vmap shifts the reduced axes that sit at or after the batch axis by one
 * and calls the public op again. Without keepdims the output's batch axis
 * moves left by the number of reduced axes before it. */
#include <math.h>

#include "reduce_rules.h"
#include "../cpu/reduce.h"

/* ---- helpers ------------------------------------------------------------- */

static void free_arrays(mlx_array* a, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(a[i]);
}

/* The reduced axes of the (unbatched) input, ascending; returns the count. */
static int list_axes(int* axes, const mlx_reduce_params_* p) {
  int n = 0;
  for (int i = 0; i < p->ndim; i++)
    if (p->axes[i]) axes[n++] = i;
  return n;
}

/* x's shape with the reduced axes as 1 (the keepdims output shape) into
 * kd; returns how many elements each output reduces. No overflow: a
 * product of some of x's dims, whose product fits. */
static int64_t kept_shape(int64_t* kd, const mlx_array x, const mlx_reduce_params_* p) {
  const int64_t* sh = mlx_array_shape(x);
  int64_t n = 1;
  for (int i = 0; i < p->ndim; i++) {
    kd[i] = p->axes[i] ? 1 : sh[i];
    if (p->axes[i]) n *= sh[i];
  }
  return n;
}

/* The output shape of the op (reduced axes dropped unless keepdims);
 * returns its ndim. */
static int out_shape(int64_t* shape, const mlx_array x, const mlx_reduce_params_* p) {
  const int64_t* sh = mlx_array_shape(x);
  int nd = 0;
  for (int i = 0; i < p->ndim; i++) {
    if (!p->axes[i]) shape[nd++] = sh[i];
    else if (p->keepdims) shape[nd++] = 1;
  }
  return nd;
}

/* a (an output-shaped array) with the reduced axes back as size 1, so it
 * broadcasts against the input; a itself with keepdims. */
static int restore_axes(mlx_array* res, const mlx_array a, const int64_t* kd, int nd, mlx_stream s) {
  if (mlx_array_ndim(a) == nd) return mlx_array_set(res, a);
  return mlx_reshape(res, a, kd, nd, s);
}

/* d prod / d x_i: the product of the other elements of x_i's group. Not
 * prod / x_i, which is 0/0 at a zero: with p the product of the group's
 * non-zero elements and z its count of zeros,
 *   z == 0: p / x_i;   z == 1: p at the zero, 0 elsewhere;   z >= 2: 0.
 * Dividing by x with its zeros replaced by 1 keeps the unused branch of
 * the where finite, so its derivatives (grad of grad) are too. */
static int prod_partials(mlx_array* res, const mlx_array x, const int* axes, int nax, mlx_stream s) {
  mlx_dtype dt = mlx_array_dtype(x);
  mlx_array zero = mlx_array_new(), one = mlx_array_new(), izero = mlx_array_new(), ione = mlx_array_new();
  mlx_array is0 = mlx_array_new(), nzeros = mlx_array_new(), x1 = mlx_array_new(), p = mlx_array_new();
  mlx_array single = mlx_array_new(), none = mlx_array_new(), at_zero = mlx_array_new(), pn = mlx_array_new(),
            elsewhere = mlx_array_new();
  int rc = mlx_array_new_float(&zero, 0.0, dt);
  if (!rc) rc = mlx_array_new_float(&one, 1.0, dt);
  if (!rc) rc = mlx_array_new_int(&izero, 0, MLX_INT32);
  if (!rc) rc = mlx_array_new_int(&ione, 1, MLX_INT32);
  if (!rc) rc = mlx_equal(&is0, x, zero, s);
  if (!rc) rc = mlx_sum_axes(&nzeros, is0, axes, (size_t)nax, 1, s); /* int32 */
  if (!rc) rc = mlx_where(&x1, is0, one, x, s);
  if (!rc) rc = mlx_prod_axes(&p, x1, axes, (size_t)nax, 1, s);
  if (!rc) rc = mlx_equal(&single, nzeros, ione, s);
  if (!rc) rc = mlx_equal(&none, nzeros, izero, s);
  if (!rc) rc = mlx_where(&at_zero, single, p, zero, s);
  if (!rc) rc = mlx_where(&pn, none, p, zero, s);
  if (!rc) rc = mlx_divide(&elsewhere, pn, x1, s);
  if (!rc) rc = mlx_where(res, is0, at_zero, elsewhere, s);
  mlx_array tmp[] = {zero, one, izero, ione, is0, nzeros, x1, p, single, none, at_zero, pn, elsewhere};
  free_arrays(tmp, (int)(sizeof tmp / sizeof tmp[0]));
  return rc;
}

/* max/min vjp: cr (cotangent, reduced axes as 1) / (number of elements
 * equal to the extreme) at each of them, 0 elsewhere. */
static int extreme_vjp(mlx_array* res, const mlx_array x, const mlx_array out, const mlx_array cr, const int64_t* kd,
                       int nd, const int* axes, int nax, mlx_stream s) {
  mlx_array o = mlx_array_new(), mask = mlx_array_new(), count = mlx_array_new(), share = mlx_array_new();
  int rc = restore_axes(&o, out, kd, nd, s);
  if (!rc) rc = mlx_equal(&mask, x, o, s);
  if (!rc) rc = mlx_sum_axes(&count, mask, axes, (size_t)nax, 1, s);
  if (!rc) rc = mlx_divide(&share, cr, count, s);
  if (!rc) rc = mlx_multiply(res, share, mask, s);
  mlx_array tmp[] = {o, mask, count, share};
  free_arrays(tmp, 4);
  return rc;
}

/* max/min jvp: the tangent at the first extreme of each group (row-major
 * over the reduced axes), shaped (oshape, ond). The reduced axes are moved
 * last and flattened so one argmax finds it; a one-hot mask then picks the
 * tangent (with where, not a product, so an inf or NaN tangent elsewhere
 * in the group does not leak in). */
static int extreme_jvp(mlx_array* res, const mlx_array x, const mlx_array t, const int* axes, int nax, int is_min,
                       const int64_t* oshape, int ond, mlx_stream s) {
  mlx_dtype tdt = mlx_array_dtype(t);
  if (mlx_array_size(x) == 0) return mlx_zeros(res, oshape, ond, tdt, s);
  int nd = mlx_array_ndim(x);
  const int64_t* sh = mlx_array_shape(x);
  int perm[nd > 0 ? nd : 1];
  int64_t flat[nd + 1];
  uint8_t reduced[nd > 0 ? nd : 1];
  memset(reduced, 0, sizeof reduced);
  for (int k = 0; k < nax; k++) reduced[axes[k]] = 1;
  int nk = 0;
  int64_t n = 1;
  for (int i = 0; i < nd; i++)
    if (!reduced[i]) {
      perm[nk] = i;
      flat[nk++] = sh[i];
    }
  for (int k = 0; k < nax; k++) {
    perm[nk + k] = axes[k];
    n *= sh[axes[k]];
  }
  flat[nk] = n;
  mlx_array xt = mlx_array_new(), tt = mlx_array_new(), xr = mlx_array_new(), tr = mlx_array_new();
  mlx_array idx = mlx_array_new(), iota = mlx_array_new(), hot = mlx_array_new(), zero = mlx_array_new();
  mlx_array picked = mlx_array_new(), summed = mlx_array_new(), cast = mlx_array_new();
  int rc = mlx_transpose(&xt, x, perm, (size_t)nd, s);
  if (!rc) rc = mlx_transpose(&tt, t, perm, (size_t)nd, s);
  if (!rc) rc = mlx_reshape(&xr, xt, flat, nk + 1, s);
  if (!rc) rc = mlx_reshape(&tr, tt, flat, nk + 1, s);
  if (!rc) rc = is_min ? mlx_argmin_axis(&idx, xr, -1, 1, s) : mlx_argmax_axis(&idx, xr, -1, 1, s);
  if (!rc) rc = mlx_arange(&iota, 0, (double)n, 1, MLX_UINT32, s);
  if (!rc) rc = mlx_equal(&hot, iota, idx, s);
  if (!rc) rc = mlx_array_new_float(&zero, 0.0, tdt);
  if (!rc) rc = mlx_where(&picked, hot, tr, zero, s);
  if (!rc) rc = mlx_sum_axes(&summed, picked, &nk, 1, 0, s);
  /* sum widens small integer dtypes; the picked tangent keeps t's */
  if (!rc && mlx_array_dtype(summed) != tdt) {
    rc = mlx_astype(&cast, summed, tdt, s);
    if (!rc) rc = mlx_array_set(&summed, cast);
  }
  if (!rc) rc = mlx_reshape(res, summed, oshape, ond, s);
  mlx_array tmp[] = {xt, tt, xr, tr, idx, iota, hot, zero, picked, summed, cast};
  free_arrays(tmp, (int)(sizeof tmp / sizeof tmp[0]));
  return rc;
}

/* x - mean(x) over the reduced axes (kept as size 1). */
static int centered(mlx_array* res, const mlx_array x, const int* axes, int nax, mlx_stream s) {
  mlx_array mu = mlx_array_new();
  int rc = mlx_mean_axes(&mu, x, axes, (size_t)nax, 1, s);
  if (!rc) rc = mlx_subtract(res, x, mu, s);
  mlx_array_free(mu);
  return rc;
}

/* ---- sum, prod, max, min, mean ------------------------------------------- */

int mlx_reduce_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  if (nargs == 0 || p->kind == MLX_RED_ALL_ || p->kind == MLX_RED_ANY_) return MLX_OK;
  const mlx_array x = inputs[0];
  int nd = p->ndim;
  int axes[nd > 0 ? nd : 1];
  int64_t kd[nd > 0 ? nd : 1];
  int nax = list_axes(axes, p);
  int64_t n = kept_shape(kd, x, p);
  mlx_array cr = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new();
  int rc = restore_axes(&cr, cots[0], kd, nd, s);
  if (rc == MLX_OK) {
    switch (p->kind) {
      case MLX_RED_SUM_:
        rc = mlx_broadcast_to(&in_cots[0], cr, mlx_array_shape(x), nd, s);
        break;
      case MLX_RED_MEAN_:
        /* n == 0 only for an empty input, whose gradient is empty */
        rc = mlx_array_new_float(&a, n ? 1.0 / (double)n : 0.0, mlx_array_dtype(cr));
        if (!rc) rc = mlx_multiply(&b, cr, a, s);
        if (!rc) rc = mlx_broadcast_to(&in_cots[0], b, mlx_array_shape(x), nd, s);
        break;
      case MLX_RED_PROD_:
        rc = prod_partials(&a, x, axes, nax, s);
        if (!rc) rc = mlx_multiply(&in_cots[0], cr, a, s);
        break;
      default: /* max, min */
        rc = extreme_vjp(&in_cots[0], x, outputs[0], cr, kd, nd, axes, nax, s);
    }
  }
  mlx_array_free(cr), mlx_array_free(a), mlx_array_free(b);
  return rc;
}

int mlx_reduce_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  if (nargs == 0 || p->kind == MLX_RED_ALL_ || p->kind == MLX_RED_ANY_) return MLX_OK;
  const mlx_array x = inputs[0], t = tangents[0];
  int nd = p->ndim;
  int axes[nd > 0 ? nd : 1];
  int nax = list_axes(axes, p);
  size_t na = (size_t)nax;
  switch (p->kind) {
    case MLX_RED_SUM_:
      return mlx_sum_axes(&out_tans[0], t, axes, na, p->keepdims, s);
    case MLX_RED_MEAN_:
      return mlx_mean_axes(&out_tans[0], t, axes, na, p->keepdims, s);
    case MLX_RED_PROD_: {
      mlx_array f = mlx_array_new(), ft = mlx_array_new();
      int rc = prod_partials(&f, x, axes, nax, s);
      if (!rc) rc = mlx_multiply(&ft, f, t, s);
      if (!rc) rc = mlx_sum_axes(&out_tans[0], ft, axes, na, p->keepdims, s);
      mlx_array_free(f), mlx_array_free(ft);
      return rc;
    }
    default: { /* max, min */
      int64_t oshape[nd > 0 ? nd : 1];
      int ond = out_shape(oshape, x, p);
      return extreme_jvp(&out_tans[0], x, t, axes, nax, p->kind == MLX_RED_MIN_, oshape, ond, s);
    }
  }
}

/* The reduced axes of the batched input (batch axis b, or -1 when not
 * batched) into axes; *out_axis gets the output's batch axis given
 * whether the reduced axes stay as size 1 (keep). Returns the count. */
static int batched_axes(int* axes, int* out_axis, const mlx_reduce_params_* p, int b, int keep) {
  int nax = 0, before = 0;
  for (int i = 0; i < p->ndim; i++) {
    if (!p->axes[i]) continue;
    if (b >= 0 && i < b) before++;
    axes[nax++] = b >= 0 && i >= b ? i + 1 : i;
  }
  *out_axis = b < 0 ? -1 : keep ? b : b - before;
  return nax;
}

int mlx_reduce_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  int axes[p->ndim + 1];
  size_t na = (size_t)batched_axes(axes, &out_axes[0], p, in_axes[0], p->keepdims);
  const mlx_array x = inputs[0];
  switch (p->kind) {
    case MLX_RED_SUM_:
      return mlx_sum_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_PROD_:
      return mlx_prod_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_MAX_:
      return mlx_max_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_MIN_:
      return mlx_min_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_ALL_:
      return mlx_all_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_ANY_:
      return mlx_any_axes(&outs[0], x, axes, na, p->keepdims, s);
    case MLX_RED_MEAN_:
      return mlx_mean_axes(&outs[0], x, axes, na, p->keepdims, s);
    default:
      return mlx_error_(MLX_ERROR_INTERNAL, "[vmap] unknown reduction kind %d", p->kind);
  }
}

/* ---- var, std -------------------------------------------------------------- */

/* The scale k / (n - ddof) of the var/std derivatives (k = 2 for var, 1
 * for std). Upstream divides by max(n - ddof, 0): at 0 its jvp is the
 * tangent over 0 (inf), and its vjp sends that inf through mean's vjp too,
 * where inf - inf makes every element NaN. */
static double dof_scale(const mlx_reduce_params_* p, int64_t n, int root, int for_vjp) {
  double dof = (double)n - (double)p->ddof;
  if (dof > 0) return (root ? 1.0 : 2.0) / dof;
  return for_vjp ? NAN : INFINITY;
}

static int var_vjp(mlx_array* res, const mlx_array x, const mlx_array out, const mlx_array cot,
                   const mlx_reduce_params_* p, int root, mlx_stream s) {
  int nd = p->ndim;
  int axes[nd > 0 ? nd : 1];
  int64_t kd[nd > 0 ? nd : 1];
  int nax = list_axes(axes, p);
  int64_t n = kept_shape(kd, x, p);
  mlx_array cr = mlx_array_new(), sc = mlx_array_new(), q = mlx_array_new(), o = mlx_array_new(),
            qs = mlx_array_new(), d = mlx_array_new();
  int rc = restore_axes(&cr, cot, kd, nd, s);
  if (!rc) rc = mlx_array_new_float(&sc, dof_scale(p, n, root, 1), mlx_array_dtype(cr));
  if (!rc) rc = mlx_multiply(&q, cr, sc, s);
  if (!rc && root) {
    /* d std = d var / (2 std) */
    rc = restore_axes(&o, out, kd, nd, s);
    if (!rc) rc = mlx_divide(&qs, q, o, s);
    if (!rc) rc = mlx_array_set(&q, qs);
  }
  if (!rc) rc = centered(&d, x, axes, nax, s);
  if (!rc) rc = mlx_multiply(res, d, q, s);
  mlx_array tmp[] = {cr, sc, q, o, qs, d};
  free_arrays(tmp, 6);
  return rc;
}

static int var_jvp(mlx_array* res, const mlx_array x, const mlx_array out, const mlx_array t,
                   const mlx_reduce_params_* p, int root, mlx_stream s) {
  int nd = p->ndim;
  int axes[nd > 0 ? nd : 1];
  int64_t kd[nd > 0 ? nd : 1];
  int nax = list_axes(axes, p);
  int64_t n = kept_shape(kd, x, p);
  mlx_array d = mlx_array_new(), dt = mlx_array_new(), sm = mlx_array_new(), sc = mlx_array_new(),
            j = mlx_array_new();
  int rc = centered(&d, x, axes, nax, s);
  if (!rc) rc = mlx_multiply(&dt, d, t, s);
  if (!rc) rc = mlx_sum_axes(&sm, dt, axes, (size_t)nax, p->keepdims, s);
  if (!rc) rc = mlx_array_new_float(&sc, dof_scale(p, n, root, 0), mlx_array_dtype(sm));
  if (!rc) rc = root ? mlx_multiply(&j, sm, sc, s) : mlx_multiply(res, sm, sc, s);
  if (!rc && root) rc = mlx_divide(res, j, out, s);
  mlx_array tmp[] = {d, dt, sm, sc, j};
  free_arrays(tmp, 5);
  return rc;
}

int mlx_var_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return nargs ? var_vjp(&in_cots[0], inputs[0], outputs[0], cots[0], params, 0, s) : MLX_OK;
}

int mlx_var_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return nargs ? var_jvp(&out_tans[0], inputs[0], outputs[0], tangents[0], params, 0, s) : MLX_OK;
}

int mlx_std_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return nargs ? var_vjp(&in_cots[0], inputs[0], outputs[0], cots[0], params, 1, s) : MLX_OK;
}

int mlx_std_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return nargs ? var_jvp(&out_tans[0], inputs[0], outputs[0], tangents[0], params, 1, s) : MLX_OK;
}

int mlx_var_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                  const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  int axes[p->ndim + 1];
  size_t na = (size_t)batched_axes(axes, &out_axes[0], p, in_axes[0], p->keepdims);
  return mlx_var_axes(&outs[0], inputs[0], axes, na, p->keepdims, p->ddof, s);
}

int mlx_std_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                  const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  int axes[p->ndim + 1];
  size_t na = (size_t)batched_axes(axes, &out_axes[0], p, in_axes[0], p->keepdims);
  return mlx_std_axes(&outs[0], inputs[0], axes, na, p->keepdims, p->ddof, s);
}

/* ---- logsumexp --------------------------------------------------------------- */

/* softmax(x) over the reduced axes, in the output's float dtype (softmax
 * of an integer array over several axes would keep the integer dtype). */
static int lse_softmax(mlx_array* res, const mlx_array x, mlx_dtype odt, const int* axes, int nax, mlx_stream s) {
  mlx_array xf = mlx_array_new();
  int rc = mlx_array_dtype(x) == odt ? mlx_array_set(&xf, x) : mlx_astype(&xf, x, odt, s);
  if (!rc) rc = mlx_softmax_axes(res, xf, axes, (size_t)nax, 1, s);
  mlx_array_free(xf);
  return rc;
}

int mlx_logsumexp_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                       mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_reduce_params_* p = params;
  int nd = p->ndim;
  int axes[nd > 0 ? nd : 1];
  int64_t kd[nd > 0 ? nd : 1];
  int nax = list_axes(axes, p);
  kept_shape(kd, inputs[0], p);
  mlx_array cr = mlx_array_new(), sm = mlx_array_new();
  int rc = restore_axes(&cr, cots[0], kd, nd, s);
  if (!rc) rc = lse_softmax(&sm, inputs[0], mlx_array_dtype(outputs[0]), axes, nax, s);
  if (!rc) rc = mlx_multiply(&in_cots[0], cr, sm, s);
  mlx_array_free(cr), mlx_array_free(sm);
  return rc;
}

int mlx_logsumexp_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                       mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_reduce_params_* p = params;
  int axes[p->ndim > 0 ? p->ndim : 1];
  int nax = list_axes(axes, p);
  mlx_array sm = mlx_array_new(), st = mlx_array_new();
  int rc = lse_softmax(&sm, inputs[0], mlx_array_dtype(outputs[0]), axes, nax, s);
  if (!rc) rc = mlx_multiply(&st, sm, tangents[0], s);
  if (!rc) rc = mlx_sum_axes(&out_tans[0], st, axes, (size_t)nax, p->keepdims, s);
  mlx_array_free(sm), mlx_array_free(st);
  return rc;
}

int mlx_logsumexp_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                        int nout, const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  int axes[p->ndim + 1];
  size_t na = (size_t)batched_axes(axes, &out_axes[0], p, in_axes[0], p->keepdims);
  return mlx_logsumexp_axes(&outs[0], inputs[0], axes, na, p->keepdims, s);
}

/* ---- softmax ------------------------------------------------------------------ */

/* s * (v - sum(s * v)) over the axes: the softmax Jacobian (symmetric)
 * applied to v, a cotangent or a tangent. */
static int softmax_apply(mlx_array* res, const mlx_array sm, const mlx_array v, const mlx_reduce_params_* p,
                         mlx_stream s) {
  int axes[p->ndim > 0 ? p->ndim : 1];
  int nax = list_axes(axes, p);
  mlx_array sv = mlx_array_new(), total = mlx_array_new(), st = mlx_array_new();
  int rc = mlx_multiply(&sv, sm, v, s);
  if (!rc) rc = mlx_sum_axes(&total, sv, axes, (size_t)nax, 1, s);
  if (!rc) rc = mlx_multiply(&st, sm, total, s);
  if (!rc) rc = mlx_subtract(res, sv, st, s);
  mlx_array_free(sv), mlx_array_free(total), mlx_array_free(st);
  return rc;
}

int mlx_softmax_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return nargs ? softmax_apply(&in_cots[0], outputs[0], cots[0], params, s) : MLX_OK;
}

int mlx_softmax_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                     mlx_stream s) {
  return nargs ? softmax_apply(&out_tans[0], outputs[0], tangents[0], params, s) : MLX_OK;
}

/* The precise flag is not recorded; the kernel computes half-precision
 * inputs in float32 either way. */
int mlx_softmax_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  const mlx_reduce_params_* p = params;
  int nd = p->ndim, b = in_axes[0];
  int axes[nd + 1];
  int nax = batched_axes(axes, &out_axes[0], p, b, 1);
  if (b == nd && nax == 1 && p->axes[nd - 1]) {
    /* A softmax over the last axis with the batch axis after it: swap
     * them so the op still sees a last-axis softmax, whose dtype rule
     * (at least float) differs from the general one, as upstream does. */
    mlx_array xs = mlx_array_new();
    int axis = nd;
    int rc = mlx_swapaxes(&xs, inputs[0], -1, -2, s);
    if (!rc) rc = mlx_softmax_axes(&outs[0], xs, &axis, 1, 0, s);
    mlx_array_free(xs);
    out_axes[0] = nd - 1;
    return rc;
  }
  return mlx_softmax_axes(&outs[0], inputs[0], axes, (size_t)nax, 0, s);
}

/* ---- argmax, argmin -------------------------------------------------------------- */

int mlx_argreduce_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                        int nout, const void* params, mlx_stream s) {
  const mlx_argreduce_params_* p = params;
  int b = in_axes[0];
  const mlx_array x = inputs[0];
  int (*along)(mlx_array*, const mlx_array, int, int, const mlx_stream) = p->is_min ? mlx_argmin_axis : mlx_argmax_axis;
  if (b < 0) {
    out_axes[0] = -1;
    if (p->axis >= 0) return along(&outs[0], x, p->axis, p->keepdims, s);
    return p->is_min ? mlx_argmin(&outs[0], x, p->keepdims, s) : mlx_argmax(&outs[0], x, p->keepdims, s);
  }
  if (p->axis >= 0) {
    out_axes[0] = p->keepdims || p->axis >= b ? b : b - 1;
    return along(&outs[0], x, p->axis + (p->axis >= b), p->keepdims, s);
  }
  /* Over each example's flattened elements: batch axis first, the rest
   * flattened into one axis, reduced along it. */
  int nd = mlx_array_ndim(x);
  const int64_t* sh = mlx_array_shape(x);
  int64_t per = 1;
  for (int i = 0; i < nd; i++)
    if (i != b) per *= sh[i];
  int64_t flat[2] = {sh[b], per};
  int64_t kept[nd];
  kept[0] = sh[b];
  for (int i = 1; i < nd; i++) kept[i] = 1;
  mlx_array xm = mlx_array_new(), xr = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_moveaxis(&xm, x, b, 0, s);
  if (!rc) rc = mlx_reshape(&xr, xm, flat, 2, s);
  if (!rc) rc = along(&r, xr, 1, 0, s);
  if (!rc) rc = p->keepdims ? mlx_reshape(&outs[0], r, kept, nd, s) : mlx_array_set(&outs[0], r);
  mlx_array_free(xm), mlx_array_free(xr), mlx_array_free(r);
  out_axes[0] = 0;
  return rc;
}
