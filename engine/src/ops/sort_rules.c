/* Transform rules of the sort and scan primitives (declared in
 * sort_rules.h). They build their results with public ops, so they
 * compose (grad of grad, vmap of grad).
 *
 *   sort, partition  vjp: the cotangent put back where each element came
 *                    from (put_along_axis with argsort/argpartition of the
 *                    input: the same permutation, since both kernels order
 *                    ties the same way); jvp: the tangent taken along it.
 *   cumsum           vjp: cumsum of the cotangent in the other direction;
 *                    jvp: cumsum of the tangent (upstream's rules).
 *   cumprod          vjp: upstream's rule, exact at zeros: before the first
 *                    zero of a row cumsum(y * cot) / x, at the first zero
 *                    the same with that zero replaced by 1, after it 0.
 *                    jvp (upstream has none): y * cumsum(t / x) before the
 *                    first zero, t at the first zero times the cumprod with
 *                    that zero replaced by 1 from there on.
 *   cummax, cummin   every output is one input element: the latest element
 *                    (in scan order) equal to the running extreme at its
 *                    own position, as upstream's gradient picks among ties.
 *                    jvp takes the tangent there; vjp gives each such
 *                    "record" element the sum of the cotangents of the
 *                    outputs it feeds (a contiguous run, so a difference of
 *                    a reversed cumsum at the run's two ends).
 *   logcumsumexp     dy_i = sum_j t_j exp(x_j - y_i) over the scanned j;
 *                    computed in the log domain (positive and negative
 *                    parts of t through logcumsumexp), so it neither
 *                    overflows nor underflows; the vjp is the transpose,
 *                    the same in the other direction.
 *   vmap             the op again with its axis shifted past the batch
 *                    axis; searchsorted with a batched sequence counts
 *                    with NaN-aware comparisons instead. */
#include <math.h>

#include "mlx/indexing.h"
#include "mlx/sort.h"
#include "../cpu/sort.h"
#include "sort_rules.h"

/* Temporaries of a rule, freed together. */
#define MAXT 64
typedef struct {
  mlx_array a[MAXT];
  int n;
} arena;

static mlx_array* tmp(arena* ar) {
  ar->a[ar->n] = mlx_array_new();
  return &ar->a[ar->n++];
}
static void arena_free(arena* ar) {
  for (int i = 0; i < ar->n; i++) mlx_array_free(ar->a[i]);
}
#define DO(call)        \
  do {                  \
    if (!rc) rc = (call); \
  } while (0)

static mlx_array* scalar(arena* ar, int* rc, double v, mlx_dtype dt) {
  mlx_array* r = tmp(ar);
  if (!*rc) *rc = mlx_array_new_float(r, v, dt);
  return r;
}

/* The permutation the sort/partition node applied along its axis. */
static int permutation(mlx_array* idx, const mlx_array x, const mlx_sort_params_* p, mlx_stream s) {
  return p->kth < 0 ? mlx_argsort(idx, x, p->axis, s) : mlx_argpartition(idx, x, p->kth, p->axis, s);
}

int mlx_sort_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_sort_params_* p = params;
  arena ar = {.n = 0};
  mlx_array *idx = tmp(&ar), *z = tmp(&ar);
  int rc = permutation(idx, inputs[0], p, s);
  DO(mlx_zeros_like(z, cots[0], s));
  DO(mlx_put_along_axis(&in_cots[0], *z, *idx, cots[0], p->axis, s));
  arena_free(&ar);
  return rc;
}

int mlx_sort_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_sort_params_* p = params;
  mlx_array idx = mlx_array_new();
  int rc = permutation(&idx, inputs[0], p, s);
  DO(mlx_take_along_axis(&out_tans[0], tangents[0], idx, p->axis, s));
  mlx_array_free(idx);
  return rc;
}

int mlx_sort_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s) {
  const mlx_sort_params_* p = params;
  int b = in_axes[0];
  int axis = p->axis + (b >= 0 && b <= p->axis);
  out_axes[0] = b;
  if (p->kth < 0) return p->arg ? mlx_argsort(&outs[0], inputs[0], axis, s) : mlx_sort(&outs[0], inputs[0], axis, s);
  return p->arg ? mlx_argpartition(&outs[0], inputs[0], p->kth, axis, s)
                : mlx_partition(&outs[0], inputs[0], p->kth, axis, s);
}

/* nan-aware a < b (NaN largest, NaNs equal), elementwise. */
static int nan_less(mlx_array* res, arena* ar, const mlx_array a, const mlx_array b, mlx_stream s) {
  mlx_array *lt = tmp(ar), *an = tmp(ar), *bn = tmp(ar), *notan = tmp(ar), *bnan = tmp(ar);
  int rc = mlx_less(lt, a, b, s);
  DO(mlx_isnan(an, a, s));
  DO(mlx_isnan(bn, b, s));
  DO(mlx_logical_not(notan, *an, s));
  DO(mlx_logical_and(bnan, *bn, *notan, s));
  DO(mlx_logical_or(res, *lt, *bnan, s));
  return rc;
}

int mlx_searchsorted_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s) {
  int right = *(const int*)params;
  if (in_axes[0] < 0) {
    out_axes[0] = in_axes[1];
    return mlx_searchsorted(&outs[0], inputs[0], inputs[1], right, s);
  }
  /* a batched sequence: (B, n) against values (B, ...) by counting */
  arena ar = {.n = 0};
  mlx_array *a = tmp(&ar), *v = tmp(&ar), *ac = tmp(&ar), *vc = tmp(&ar), *ar3 = tmp(&ar), *v3 = tmp(&ar),
            *cmp = tmp(&ar), *cnt = tmp(&ar), *ncmp = tmp(&ar);
  mlx_dtype dt = mlx_dtype_promote(mlx_array_dtype(inputs[0]), mlx_array_dtype(inputs[1]));
  int rc = mlx_moveaxis(a, inputs[0], in_axes[0], 0, s);
  if (in_axes[1] >= 0) {
    DO(mlx_moveaxis(v, inputs[1], in_axes[1], 0, s));
  } else {
    int zero = 0;
    DO(mlx_expand_dims(v, inputs[1], &zero, 1, s));
  }
  DO(mlx_astype(ac, *a, dt, s));
  DO(mlx_astype(vc, *v, dt, s));
  if (!rc) {
    int vnd = mlx_array_ndim(*vc);
    int64_t shape[vnd + 1];
    shape[0] = mlx_array_dim(*ac, 0);
    for (int i = 1; i < vnd; i++) shape[i] = 1;
    shape[vnd] = mlx_array_dim(*ac, 1);
    int last = vnd;
    rc = mlx_reshape(ar3, *ac, shape, vnd + 1, s);
    DO(mlx_expand_dims(v3, *vc, &last, 1, s));
    /* left: count of a < v; right: count of !(v < a) */
    if (right) {
      DO(nan_less(ncmp, &ar, *v3, *ar3, s));
      DO(mlx_logical_not(cmp, *ncmp, s));
    } else {
      DO(nan_less(cmp, &ar, *ar3, *v3, s));
    }
    DO(mlx_sum_axes(cnt, *cmp, &last, 1, 0, s));
    DO(mlx_astype(&outs[0], *cnt, MLX_UINT32, s));
  }
  out_axes[0] = 0;
  arena_free(&ar);
  return rc;
}

/* ---- scans ----------------------------------------------------------------- */

static int scan_op(mlx_array* res, int kind, const mlx_array x, int axis, int reverse, int inclusive, mlx_stream s) {
  switch (kind) {
    case MLX_SCAN_SUM_: return mlx_cumsum(res, x, axis, reverse, inclusive, s);
    case MLX_SCAN_PROD_: return mlx_cumprod(res, x, axis, reverse, inclusive, s);
    case MLX_SCAN_MAX_: return mlx_cummax(res, x, axis, reverse, inclusive, s);
    case MLX_SCAN_MIN_: return mlx_cummin(res, x, axis, reverse, inclusive, s);
    default: return mlx_logcumsumexp(res, x, axis, reverse, inclusive, s);
  }
}

int mlx_scan_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s) {
  const mlx_scan_params_* p = params;
  int b = in_axes[0];
  out_axes[0] = b;
  return scan_op(&outs[0], p->kind, inputs[0], p->axis + (b >= 0 && b <= p->axis), p->reverse, p->inclusive, s);
}

/* cumprod pieces shared by its vjp and jvp: the inclusive and exclusive
 * products, the mask of the first zero of each row, x with that zero
 * replaced by 1 and x with every zero replaced by 1. */
typedef struct {
  mlx_array *incl, *excl, *eq0, *first0, *x1, *xsafe, *zero, *one;
} prod_parts;

static int cumprod_parts(prod_parts* pp, arena* ar, const mlx_array x, const mlx_array y, const mlx_scan_params_* p,
                         mlx_stream s) {
  int rc = 0;
  mlx_dtype dt = mlx_array_dtype(x);
  pp->zero = scalar(ar, &rc, 0.0, dt);
  pp->one = scalar(ar, &rc, 1.0, dt);
  pp->incl = tmp(ar), pp->excl = tmp(ar), pp->eq0 = tmp(ar), pp->first0 = tmp(ar), pp->x1 = tmp(ar);
  pp->xsafe = tmp(ar);
  mlx_array *ne = tmp(ar), *xz = tmp(ar);
  if (p->inclusive) {
    DO(mlx_array_set(pp->incl, y));
    DO(mlx_cumprod(pp->excl, x, p->axis, p->reverse, 0, s));
  } else {
    DO(mlx_cumprod(pp->incl, x, p->axis, p->reverse, 1, s));
    DO(mlx_array_set(pp->excl, y));
  }
  DO(mlx_equal(pp->eq0, *pp->incl, *pp->zero, s));
  DO(mlx_not_equal(ne, *pp->excl, *pp->zero, s));
  DO(mlx_logical_and(pp->first0, *pp->eq0, *ne, s));
  DO(mlx_where(pp->x1, *pp->first0, *pp->one, x, s));
  DO(mlx_equal(xz, x, *pp->zero, s));
  DO(mlx_where(pp->xsafe, *xz, *pp->one, x, s));
  return rc;
}

/* Indices along the axis, shaped to broadcast against x (int32). */
static int iota(mlx_array* res, arena* ar, const mlx_array x, int axis, mlx_stream s) {
  int nd = mlx_array_ndim(x);
  int64_t shape[nd];
  for (int i = 0; i < nd; i++) shape[i] = i == axis ? mlx_array_dim(x, i) : 1;
  mlx_array* r = tmp(ar);
  int rc = mlx_arange(r, 0, (double)mlx_array_dim(x, axis), 1, MLX_INT32, s);
  DO(mlx_reshape(res, *r, shape, nd, s));
  return rc;
}

/* cummax/cummin: *rec = x equals the inclusive running extreme there;
 * *src = index of the element each output copies (the latest record at or
 * before it in scan order; exclusive: strictly before), clamped into range,
 * with *valid false where there is none (an exclusive scan's first). */
static int extreme_sources(mlx_array* rec, mlx_array* src, mlx_array* valid, arena* ar, const mlx_array x,
                           const mlx_array y, const mlx_scan_params_* p, mlx_stream s) {
  int64_t n = mlx_array_dim(x, p->axis);
  mlx_array *yi = tmp(ar), *io = tmp(ar), *none = tmp(ar), *marked = tmp(ar), *idx = tmp(ar), *lo = tmp(ar),
            *v1 = tmp(ar), *v2 = tmp(ar), *zero = tmp(ar), *clamped = tmp(ar);
  int rc = 0;
  if (p->inclusive) DO(mlx_array_set(yi, y));
  else DO(scan_op(yi, p->kind, x, p->axis, p->reverse, 1, s));
  DO(mlx_equal(rec, x, *yi, s));
  DO(iota(io, ar, x, p->axis, s));
  /* forward: the latest record is a running max of its index; reverse: a
   * running min (sentinels -1 / n mark "no record") */
  DO(mlx_array_new_int(none, p->reverse ? n : -1, MLX_INT32));
  DO(mlx_where(marked, *rec, *io, *none, s));
  if (p->reverse) DO(mlx_cummin(idx, *marked, p->axis, 1, p->inclusive, s));
  else DO(mlx_cummax(idx, *marked, p->axis, 0, p->inclusive, s));
  DO(mlx_array_new_int(zero, 0, MLX_INT32));
  DO(mlx_array_new_int(lo, n, MLX_INT32));
  DO(mlx_greater_equal(v1, *idx, *zero, s));
  DO(mlx_less(v2, *idx, *lo, s));
  DO(mlx_logical_and(valid, *v1, *v2, s));
  DO(mlx_where(clamped, *valid, *idx, *zero, s));
  DO(mlx_array_set(src, *clamped));
  return rc;
}

/* logcumsumexp of log|w| + base over the positive (negative = 0) or
 * negative part of w, in direction (rev, inc): log of sum_j w_j^+- exp(base_j).
 * log is taken only where the part is positive (-inf elsewhere, through
 * where), so the rule's own derivatives stay finite (grad of grad). */
static int log_part(mlx_array* res, arena* ar, const mlx_array w, const mlx_array base, int negative, int axis,
                    int rev, int inc, mlx_stream s) {
  mlx_array *part = tmp(ar), *zero = tmp(ar), *one = tmp(ar), *ninf = tmp(ar), *pos = tmp(ar), *safe = tmp(ar),
            *lg = tmp(ar), *lgm = tmp(ar), *sum = tmp(ar);
  mlx_dtype dt = mlx_array_dtype(w);
  int rc = mlx_array_new_float(zero, 0.0, dt);
  DO(mlx_array_new_float(one, 1.0, dt));
  DO(mlx_array_new_float(ninf, -INFINITY, dt));
  if (negative) DO(mlx_negative(part, w, s));
  else DO(mlx_array_set(part, w));
  DO(mlx_greater(pos, *part, *zero, s));
  DO(mlx_where(safe, *pos, *part, *one, s));
  DO(mlx_log(lg, *safe, s));
  DO(mlx_where(lgm, *pos, *lg, *ninf, s));
  DO(mlx_add(sum, *lgm, base, s));
  DO(mlx_logcumsumexp(res, *sum, axis, rev, inc, s));
  return rc;
}

/* sum_j w_j exp(base_j + shift_i) over the scan range of each i (rev,
 * inc), as exp(L+ + shift) - exp(L- + shift); zero where mask_zero. */
static int log_weighted(mlx_array* res, arena* ar, const mlx_array w, const mlx_array base, const mlx_array shift,
                        int axis, int rev, int inc, mlx_stream s) {
  mlx_array *lp = tmp(ar), *ln = tmp(ar), *ap = tmp(ar), *an = tmp(ar), *ep = tmp(ar), *en = tmp(ar);
  int rc = log_part(lp, ar, w, base, 0, axis, rev, inc, s);
  DO(log_part(ln, ar, w, base, 1, axis, rev, inc, s));
  DO(mlx_add(ap, *lp, shift, s));
  DO(mlx_add(an, *ln, shift, s));
  DO(mlx_exp(ep, *ap, s));
  DO(mlx_exp(en, *an, s));
  DO(mlx_subtract(res, *ep, *en, s));
  return rc;
}

int mlx_scan_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_scan_params_* p = params;
  const mlx_array x = inputs[0], y = outputs[0], t = tangents[0];
  int ax = p->axis, rev = p->reverse, inc = p->inclusive;
  arena ar = {.n = 0};
  int rc = 0;
  switch (p->kind) {
    case MLX_SCAN_SUM_:
      rc = mlx_cumsum(&out_tans[0], t, ax, rev, inc, s);
      break;
    case MLX_SCAN_PROD_: {
      prod_parts pp;
      rc = cumprod_parts(&pp, &ar, x, y, p, s);
      mlx_array *q = tmp(&ar), *cq = tmp(&ar), *a = tmp(&ar), *tz = tmp(&ar), *ctz = tmp(&ar), *c1 = tmp(&ar),
                *b = tmp(&ar), *y0 = tmp(&ar);
      DO(mlx_divide(q, t, *pp.xsafe, s));
      DO(mlx_cumsum(cq, *q, ax, rev, inc, s));
      DO(mlx_multiply(a, y, *cq, s));
      DO(mlx_where(tz, *pp.first0, t, *pp.zero, s));
      DO(mlx_cumsum(ctz, *tz, ax, rev, inc, s));
      DO(mlx_cumprod(c1, *pp.x1, ax, rev, inc, s));
      DO(mlx_multiply(b, *ctz, *c1, s));
      DO(mlx_equal(y0, y, *pp.zero, s));
      DO(mlx_where(&out_tans[0], *y0, *b, *a, s));
      break;
    }
    case MLX_SCAN_MAX_:
    case MLX_SCAN_MIN_: {
      mlx_array *rec = tmp(&ar), *src = tmp(&ar), *valid = tmp(&ar), *g = tmp(&ar), *zero = tmp(&ar);
      rc = extreme_sources(rec, src, valid, &ar, x, y, p, s);
      DO(mlx_take_along_axis(g, t, *src, ax, s));
      DO(mlx_array_new_float(zero, 0.0, mlx_array_dtype(t)));
      DO(mlx_where(&out_tans[0], *valid, *g, *zero, s));
      break;
    }
    default: {
      /* dy_i = sum_j t_j exp(x_j - y_i); 0 where y_i = -inf (nothing scanned) */
      mlx_array *ny = tmp(&ar), *yfin = tmp(&ar), *ninf = tmp(&ar), *isninf = tmp(&ar), *zero = tmp(&ar),
                *d = tmp(&ar);
      rc = mlx_array_new_float(ninf, -INFINITY, mlx_array_dtype(y));
      DO(mlx_array_new_float(zero, 0.0, mlx_array_dtype(y)));
      DO(mlx_equal(isninf, y, *ninf, s));
      DO(mlx_where(yfin, *isninf, *zero, y, s));
      DO(mlx_negative(ny, *yfin, s));
      DO(log_weighted(d, &ar, t, x, *ny, ax, rev, inc, s));
      DO(mlx_where(&out_tans[0], *isninf, *zero, *d, s));
      break;
    }
  }
  arena_free(&ar);
  return rc;
}

int mlx_scan_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  if (nargs == 0) return MLX_OK;
  const mlx_scan_params_* p = params;
  const mlx_array x = inputs[0], y = outputs[0], c = cots[0];
  int ax = p->axis, rev = p->reverse, inc = p->inclusive;
  arena ar = {.n = 0};
  int rc = 0;
  switch (p->kind) {
    case MLX_SCAN_SUM_:
      rc = mlx_cumsum(&in_cots[0], c, ax, !rev, inc, s);
      break;
    case MLX_SCAN_PROD_: {
      prod_parts pp;
      rc = cumprod_parts(&pp, &ar, x, y, p, s);
      mlx_array *c1 = tmp(&ar), *m1 = tmp(&ar), *g1 = tmp(&ar), *my = tmp(&ar), *gy = tmp(&ar), *g = tmp(&ar),
                *rest = tmp(&ar);
      DO(mlx_cumprod(c1, *pp.x1, ax, rev, inc, s));
      DO(mlx_multiply(m1, *c1, c, s));
      DO(mlx_cumsum(g1, *m1, ax, !rev, inc, s));
      DO(mlx_multiply(my, y, c, s));
      DO(mlx_cumsum(gy, *my, ax, !rev, inc, s));
      DO(mlx_divide(g, *gy, *pp.xsafe, s));
      DO(mlx_where(rest, *pp.eq0, *pp.zero, *g, s));
      DO(mlx_where(&in_cots[0], *pp.first0, *g1, *rest, s));
      break;
    }
    case MLX_SCAN_MAX_:
    case MLX_SCAN_MIN_: {
      /* record j feeds the outputs from its own run start up to the next
       * record (exclusive: shifted by one); with D the cumsum of c toward
       * the scan's start, its share is D_j - D_next(j), D past the end 0. */
      int64_t n = mlx_array_dim(x, ax);
      int nd = mlx_array_ndim(x);
      mlx_array *rec = tmp(&ar), *src = tmp(&ar), *valid = tmp(&ar), *d = tmp(&ar), *io = tmp(&ar),
                *none = tmp(&ar), *marked = tmp(&ar), *next = tmp(&ar), *lim = tmp(&ar), *nextc = tmp(&ar),
                *z = tmp(&ar), *dpad = tmp(&ar), *dn = tmp(&ar), *diff = tmp(&ar), *zero = tmp(&ar),
                *shifted = tmp(&ar), *one = tmp(&ar);
      rc = extreme_sources(rec, src, valid, &ar, x, y, p, s);
      DO(mlx_cumsum(d, c, ax, !rev, inc, s));
      DO(iota(io, &ar, x, ax, s));
      DO(mlx_array_new_int(none, rev ? -1 : n, MLX_INT32));
      DO(mlx_where(marked, *rec, *io, *none, s));
      /* the next record strictly after j in scan order */
      if (rev) DO(mlx_cummax(next, *marked, ax, 0, 0, s));
      else DO(mlx_cummin(next, *marked, ax, 1, 0, s));
      /* clamp the exclusive scans' sentinels to the padding slot */
      DO(mlx_array_new_int(lim, rev ? -1 : n, MLX_INT32));
      if (rev) DO(mlx_maximum(nextc, *next, *lim, s));
      else DO(mlx_minimum(nextc, *next, *lim, s));
      if (!rc) {
        int64_t zshape[nd];
        for (int i = 0; i < nd; i++) zshape[i] = i == ax ? 1 : mlx_array_dim(x, i);
        rc = mlx_zeros(z, zshape, nd, mlx_array_dtype(*d), s);
      }
      if (!rc) {
        mlx_array parts[2] = {rev ? *z : *d, rev ? *d : *z};
        rc = mlx_concatenate(dpad, parts, 2, ax, s);
      }
      if (rev) {
        DO(mlx_array_new_int(one, 1, MLX_INT32));
        DO(mlx_add(shifted, *nextc, *one, s));
      } else {
        DO(mlx_array_set(shifted, *nextc));
      }
      DO(mlx_take_along_axis(dn, *dpad, *shifted, ax, s));
      DO(mlx_subtract(diff, *d, *dn, s));
      DO(mlx_array_new_float(zero, 0.0, mlx_array_dtype(*diff)));
      DO(mlx_where(&in_cots[0], *rec, *diff, *zero, s));
      break;
    }
    default: {
      /* grad_j = exp(x_j) sum_i c_i exp(-y_i) over the outputs i that
       * scanned j; outputs with y = -inf scanned nothing */
      mlx_array *ninf = tmp(&ar), *isninf = tmp(&ar), *zero = tmp(&ar), *cz = tmp(&ar), *yfin = tmp(&ar),
                *ny = tmp(&ar);
      rc = mlx_array_new_float(ninf, -INFINITY, mlx_array_dtype(y));
      DO(mlx_array_new_float(zero, 0.0, mlx_array_dtype(y)));
      DO(mlx_equal(isninf, y, *ninf, s));
      DO(mlx_where(cz, *isninf, *zero, c, s));
      DO(mlx_where(yfin, *isninf, *zero, y, s));
      DO(mlx_negative(ny, *yfin, s));
      DO(log_weighted(&in_cots[0], &ar, *cz, *ny, x, ax, !rev, inc, s));
      break;
    }
  }
  arena_free(&ar);
  return rc;
}
