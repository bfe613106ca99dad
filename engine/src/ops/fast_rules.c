/* Transform rules of the fast ops, built from public ops so they compose
 * (grad of grad, vmap of grad):
 *  - rms_norm / layer_norm: upstream's analytic vjps (RMSNormVJP and
 *    LayerNormVJP's formulas) and the matching analytic jvps; vmap runs the
 *    fused op itself with the batch folded into the rows when only x is
 *    batched, else maps the fallback composition;
 *  - rope: it is linear in x, so the vjp is the inverse rotation (upstream's
 *    forward = false) and the jvp the rotation of the tangent; vmap moves
 *    the batch axis next to the leading (offset) axis;
 *  - sdpa: as upstream on the CPU (Custom::vjp/jvp/vmap), the transforms
 *    of the fallback composition: scale * q @ k^T, the mask, softmax in
 *    float32, @ v. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "mlx/fast.h"
#include "fast.h"

#define NT 24
typedef struct {
  mlx_array t[NT];
} temps;

static void temps_init(temps* t) {
  for (int i = 0; i < NT; i++) t->t[i] = mlx_array_new();
}

static void temps_free(temps* t) {
  for (int i = 0; i < NT; i++) mlx_array_free(t->t[i]);
}

/* A scalar of dtype dt. */
static int scalar(mlx_array* res, double v, mlx_dtype dt) {
  return mlx_array_new_float(res, v, dt);
}

/* ---- fallback compositions ------------------------------------------------ */

/* rms_norm as upstream's fallback: in float32 (float64 stays float64),
 * then the result dtype, then the weight. */
static int rms_fallback(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s) {
  mlx_dtype dt = mlx_array_dtype(in[0]), acc = dt == MLX_FLOAT64 ? MLX_FLOAT64 : MLX_FLOAT32;
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *x = &t.t[0], *sq = &t.t[1], *ms = &t.t[2], *e = &t.t[3], *mse = &t.t[4], *n = &t.t[5], *y = &t.t[6],
            *yd = &t.t[7];
  int rc = mlx_astype(x, in[0], acc, s);
  if (!rc) rc = mlx_square(sq, *x, s);
  if (!rc) rc = mlx_mean_axes(ms, *sq, &last, 1, 1, s);
  if (!rc) rc = scalar(e, p->eps, acc);
  if (!rc) rc = mlx_add(mse, *ms, *e, s);
  if (!rc) rc = mlx_rsqrt(n, *mse, s);
  if (!rc) rc = mlx_multiply(y, *x, *n, s);
  if (!rc) rc = mlx_astype(yd, *y, dt, s);
  if (!rc) rc = mlx_multiply(res, *yd, in[1], s);
  temps_free(&t);
  return rc;
}

static int ln_fallback(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s) {
  mlx_dtype dt = mlx_array_dtype(in[0]), acc = dt == MLX_FLOAT64 ? MLX_FLOAT64 : MLX_FLOAT32;
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *x = &t.t[0], *mu = &t.t[1], *xc = &t.t[2], *sq = &t.t[3], *v = &t.t[4], *e = &t.t[5], *ve = &t.t[6],
            *n = &t.t[7], *y = &t.t[8], *yd = &t.t[9], *yw = &t.t[10];
  int rc = mlx_astype(x, in[0], acc, s);
  if (!rc) rc = mlx_mean_axes(mu, *x, &last, 1, 1, s);
  if (!rc) rc = mlx_subtract(xc, *x, *mu, s);
  if (!rc) rc = mlx_square(sq, *xc, s);
  if (!rc) rc = mlx_mean_axes(v, *sq, &last, 1, 1, s);
  if (!rc) rc = scalar(e, p->eps, acc);
  if (!rc) rc = mlx_add(ve, *v, *e, s);
  if (!rc) rc = mlx_rsqrt(n, *ve, s);
  if (!rc) rc = mlx_multiply(y, *xc, *n, s);
  if (!rc) rc = mlx_astype(yd, *y, dt, s);
  if (!rc) rc = mlx_multiply(yw, *yd, in[1], s);
  if (!rc) rc = mlx_add(res, *yw, in[2], s);
  temps_free(&t);
  return rc;
}

/* Upstream's sdpa fallback on prepared inputs (q, k, v of the result
 * dtype; the mask broadcast to [B, Nq, Lq, Lk]; sinks [Nq]). */
static int sdpa_fallback(mlx_array* res, const mlx_array* in, int nin, const mlx_fast_sdpa_params_* p, mlx_stream s) {
  (void)nin;
  mlx_dtype dt = mlx_array_dtype(in[0]);
  int64_t nq = mlx_array_dim(in[0], 1), nkv = mlx_array_dim(in[1], 1), rep = nq / nkv;
  int64_t lq = mlx_array_dim(in[0], 2), lk = mlx_array_dim(in[1], 2);
  temps t;
  temps_init(&t);
  mlx_array *sc = &t.t[0], *q = &t.t[1], *k = &t.t[2], *v = &t.t[3], *kt = &t.t[4], *scores = &t.t[5];
  mlx_array *mask = &t.t[6], *qi = &t.t[7], *ki = &t.t[8], *qi2 = &t.t[9], *ki2 = &t.t[10], *fill = &t.t[11];
  mlx_array *masked = &t.t[12], *sk = &t.t[13], *sk2 = &t.t[14], *skb = &t.t[15], *cat = &t.t[16], *sm = &t.t[17];
  mlx_array *sl = &t.t[18], *o = &t.t[19], *m2 = &t.t[20];
  int rc = scalar(sc, p->scale, dt);
  if (!rc) rc = mlx_multiply(q, *sc, in[0], s);
  if (!rc) rc = mlx_array_set(k, in[1]);
  if (!rc) rc = mlx_array_set(v, in[2]);
  if (!rc && rep > 1) {
    int64_t split[2] = {nkv, rep};
    int two = 2;
    mlx_array tmp = mlx_array_new();
    rc = mlx_unflatten(&tmp, *q, 1, split, 2, s);
    if (!rc) rc = mlx_array_set(q, tmp);
    if (!rc) rc = mlx_expand_dims(&tmp, in[1], &two, 1, s);
    if (!rc) rc = mlx_array_set(k, tmp);
    if (!rc) rc = mlx_expand_dims(&tmp, in[2], &two, 1, s);
    if (!rc) rc = mlx_array_set(v, tmp);
    mlx_array_free(tmp);
  }
  if (!rc) rc = mlx_swapaxes(kt, *k, -1, -2, s);
  if (!rc) rc = mlx_matmul(scores, *q, *kt, s);
  int at = 3;
  if (!rc && (p->causal || p->has_mask)) {
    if (p->causal) {
      int zero = 0, one = 1;
      rc = mlx_arange(qi, (double)(lk - lq), (double)lk, 1, MLX_INT32, s);
      if (!rc) rc = mlx_arange(ki, 0, (double)lk, 1, MLX_INT32, s);
      if (!rc) rc = mlx_expand_dims(qi2, *qi, &one, 1, s);
      if (!rc) rc = mlx_expand_dims(ki2, *ki, &zero, 1, s);
      if (!rc) rc = mlx_greater_equal(mask, *qi2, *ki2, s);
    } else {
      rc = mlx_array_set(mask, in[at++]);
      if (!rc && rep > 1) {
        int64_t split[2] = {nkv, rep};
        rc = mlx_unflatten(m2, *mask, -3, split, 2, s);
        if (!rc) rc = mlx_array_set(mask, *m2);
      }
    }
    if (!rc && mlx_array_dtype(*mask) == MLX_BOOL) {
      rc = scalar(fill, mlx_fast_lowest_(dt), dt);
      if (!rc) rc = mlx_where(masked, *mask, *scores, *fill, s);
    } else if (!rc) {
      rc = mlx_add(masked, *scores, *mask, s);
    }
    if (!rc) rc = mlx_array_set(scores, *masked);
  }
  if (!rc && p->has_sinks) {
    int axes[3] = {0, 2, 3};
    rc = mlx_expand_dims(sk, in[at], axes, 3, s);
    if (!rc && rep > 1) {
      int64_t split[2] = {nkv, rep};
      rc = mlx_unflatten(sk2, *sk, 1, split, 2, s);
      if (!rc) rc = mlx_array_set(sk, *sk2);
    }
    if (!rc) {
      int nd = mlx_array_ndim(*scores);
      int64_t bsx[5];
      for (int i = 0; i < nd; i++) bsx[i] = mlx_array_dim(*scores, i);
      bsx[nd - 1] = 1;
      rc = mlx_broadcast_to(skb, *sk, bsx, nd, s);
    }
    if (!rc) {
      mlx_array parts[2] = {*skb, *scores};
      rc = mlx_concatenate(cat, parts, 2, -1, s);
    }
    if (!rc) rc = mlx_array_set(scores, *cat);
  }
  int last = -1;
  if (!rc) rc = mlx_softmax_axes(sm, *scores, &last, 1, 1, s);
  if (!rc && p->has_sinks) {
    int nd = mlx_array_ndim(*sm);
    int64_t start[5] = {0}, stop[5], step[5];
    for (int i = 0; i < nd; i++) {
      stop[i] = mlx_array_dim(*sm, i);
      step[i] = 1;
      start[i] = i == nd - 1 ? 1 : 0;
    }
    rc = mlx_slice(sl, *sm, start, stop, step, nd, s);
    if (!rc) rc = mlx_array_set(sm, *sl);
  }
  if (!rc) rc = mlx_matmul(o, *sm, *v, s);
  if (!rc) rc = rep > 1 ? mlx_flatten(res, *o, 1, 2, s) : mlx_array_set(res, *o);
  temps_free(&t);
  return rc;
}

/* ---- the fallbacks as closures (for the nested transforms) --------------- */
enum { FB_RMS, FB_LN, FB_SDPA };
typedef struct {
  int kind;
  mlx_fast_norm_params_ norm;
  mlx_fast_sdpa_params_ sdpa;
  mlx_stream s;
} fb_payload;

static int fb_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  const fb_payload* f = payload;
  size_t n = mlx_vector_array_size(inputs);
  mlx_array in[5], out = mlx_array_new();
  for (size_t i = 0; i < n && i < 5; i++) in[i] = mlx_wrap_(mlx_vector_node_(inputs, i));
  int rc;
  switch (f->kind) {
    case FB_RMS: rc = rms_fallback(&out, in, &f->norm, f->s); break;
    case FB_LN: rc = ln_fallback(&out, in, &f->norm, f->s); break;
    default: rc = sdpa_fallback(&out, in, (int)n, &f->sdpa, f->s); break;
  }
  if (!rc) rc = mlx_vector_array_append(outputs, out);
  mlx_array_free(out);
  return rc;
}

static int fb_closure(mlx_closure* c, int kind, const void* params, mlx_stream s) {
  fb_payload* f = calloc(1, sizeof *f);
  if (!f) return mlx_error_(MLX_ERROR_MEMORY, "[fast] out of memory");
  f->kind = kind;
  f->s = s;
  if (kind == FB_SDPA) f->sdpa = *(const mlx_fast_sdpa_params_*)params;
  else f->norm = *(const mlx_fast_norm_params_*)params;
  *c = mlx_closure_new(fb_call, f, free);
  if (!c->ctx) {
    free(f);
    return mlx_last_error_code();
  }
  return MLX_OK;
}

static int list_of(mlx_vector_array* v, const mlx_array* a, int n) {
  *v = mlx_vector_array_new();
  if (!v->ctx) return mlx_last_error_code();
  for (int i = 0; i < n; i++) MLX_TRY(mlx_vector_array_append(*v, a[i]));
  return MLX_OK;
}

/* vjp of the fallback: in_cots[k] for inputs[argnums[k]]. */
static int fb_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* cots, int kind, const void* params, mlx_stream s) {
  mlx_closure f = {NULL};
  mlx_vector_array prim = {NULL}, cot = {NULL}, outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  int rc = fb_closure(&f, kind, params, s);
  if (!rc) rc = list_of(&prim, inputs, nin);
  if (!rc) rc = list_of(&cot, cots, 1);
  if (!rc) rc = mlx_vjp(outs, vjps, f, prim, cot);
  for (int k = 0; !rc && k < nargs; k++) rc = mlx_vector_array_get(&in_cots[k], vjps, (size_t)argnums[k]);
  mlx_vector_array_free(prim), mlx_vector_array_free(cot), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_closure_free(f);
  return rc;
}

static int fb_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* tangents, int kind, const void* params, mlx_stream s) {
  mlx_closure f = {NULL};
  mlx_vector_array prim = {NULL}, tans = mlx_vector_array_new(), outs = mlx_vector_array_new(),
                   jvps = mlx_vector_array_new();
  int rc = fb_closure(&f, kind, params, s);
  if (!rc) rc = list_of(&prim, inputs, nin);
  for (int i = 0; !rc && i < nin; i++) {
    int k = 0;
    while (k < nargs && argnums[k] != i) k++;
    if (k < nargs) {
      rc = mlx_vector_array_append(tans, tangents[k]);
    } else {
      mlx_array z = mlx_array_new();
      rc = mlx_zeros_like(&z, inputs[i], s);
      if (!rc) rc = mlx_vector_array_append(tans, z);
      mlx_array_free(z);
    }
  }
  if (!rc) rc = mlx_jvp(outs, jvps, f, prim, tans);
  if (!rc) rc = mlx_vector_array_get(&out_tans[0], jvps, 0);
  mlx_vector_array_free(prim), mlx_vector_array_free(tans), mlx_vector_array_free(outs), mlx_vector_array_free(jvps);
  mlx_closure_free(f);
  return rc;
}

static int fb_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int kind,
                   const void* params, mlx_stream s) {
  mlx_closure f = {NULL};
  mlx_vector_array in = {NULL}, res = mlx_vector_array_new();
  int axes[5];
  for (int i = 0; i < nin; i++) axes[i] = in_axes[i] < 0 ? MLX_VMAP_NONE : in_axes[i];
  int rc = fb_closure(&f, kind, params, s);
  if (!rc) rc = list_of(&in, inputs, nin);
  if (!rc) rc = mlx_vmap(res, f, in, axes, (size_t)nin, NULL, 0);
  if (!rc) rc = mlx_vector_array_get(&outs[0], res, 0);
  out_axes[0] = 0;
  mlx_vector_array_free(in), mlx_vector_array_free(res);
  mlx_closure_free(f);
  return rc;
}

/* ---- rms_norm --------------------------------------------------------------- */

/* Sum of a over every axis but the last (a weight's cotangent). */
static int sum_leading(mlx_array* res, const mlx_array a, mlx_stream s) {
  int nd = mlx_array_ndim(a);
  if (nd <= 1) return mlx_array_set(res, a);
  int axes[64];
  if (nd - 1 > 64) return mlx_error_(MLX_ERROR_SHAPE, "[fast] too many dimensions");
  for (int i = 0; i < nd - 1; i++) axes[i] = i;
  return mlx_sum_axes(res, a, axes, (size_t)(nd - 1), 0, s);
}

/* n = rsqrt(mean(x^2) + eps) (keepdims) in x's dtype. */
static int rms_n(mlx_array* n, const mlx_array x, float eps, mlx_stream s) {
  int last = -1;
  mlx_array sq = mlx_array_new(), ms = mlx_array_new(), e = mlx_array_new(), mse = mlx_array_new();
  int rc = mlx_square(&sq, x, s);
  if (!rc) rc = mlx_mean_axes(&ms, sq, &last, 1, 1, s);
  if (!rc) rc = scalar(&e, eps, mlx_array_dtype(x));
  if (!rc) rc = mlx_add(&mse, ms, e, s);
  if (!rc) rc = mlx_rsqrt(n, mse, s);
  mlx_array_free(sq), mlx_array_free(ms), mlx_array_free(e), mlx_array_free(mse);
  return rc;
}

int mlx_fast_rms_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_fast_norm_params_* p = params;
  const mlx_array x = inputs[0], w = inputs[1], g = cots[0];
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *n = &t.t[0], *n2 = &t.t[1], *n3 = &t.t[2], *gw = &t.t[3], *gwx = &t.t[4], *m = &t.t[5], *xm = &t.t[6];
  mlx_array *tt = &t.t[7], *gwn = &t.t[8], *xn = &t.t[9], *gxn = &t.t[10];
  int rc = rms_n(n, x, p->eps, s);
  if (!rc) rc = mlx_square(n2, *n, s);
  if (!rc) rc = mlx_multiply(n3, *n2, *n, s);
  for (int k = 0; !rc && k < nargs; k++) {
    if (argnums[k] == 0) {
      /* dx = g w n - x n^3 mean(g w x) */
      rc = mlx_multiply(gw, g, w, s);
      if (!rc) rc = mlx_multiply(gwx, *gw, x, s);
      if (!rc) rc = mlx_mean_axes(m, *gwx, &last, 1, 1, s);
      if (!rc) rc = mlx_multiply(xm, x, *m, s);
      if (!rc) rc = mlx_multiply(tt, *xm, *n3, s);
      if (!rc) rc = mlx_multiply(gwn, *gw, *n, s);
      if (!rc) rc = mlx_subtract(&in_cots[k], *gwn, *tt, s);
    } else if (argnums[k] == 1) {
      /* dw = sum over rows of g x n (zero for the scalar stand-in). */
      if (mlx_array_ndim(w) == 0) {
        rc = mlx_zeros_like(&in_cots[k], w, s);
      } else {
        rc = mlx_multiply(xn, x, *n, s);
        if (!rc) rc = mlx_multiply(gxn, g, *xn, s);
        if (!rc) rc = sum_leading(&in_cots[k], *gxn, s);
      }
    }
  }
  temps_free(&t);
  return rc;
}

/* Tangent k of input i, or NULL. */
static const mlx_array* tangent_of(int i, const int* argnums, int nargs, const mlx_array* tangents) {
  for (int k = 0; k < nargs; k++)
    if (argnums[k] == i) return &tangents[k];
  return NULL;
}

/* Adds b into *acc (an empty *acc takes b). */
static int accumulate(mlx_array* acc, const mlx_array b, mlx_stream s) {
  if (!acc->ctx) return mlx_array_set(acc, b);
  mlx_array sum = mlx_array_new();
  int rc = mlx_add(&sum, *acc, b, s);
  if (!rc) rc = mlx_array_set(acc, sum);
  mlx_array_free(sum);
  return rc;
}

int mlx_fast_rms_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_fast_norm_params_* p = params;
  const mlx_array x = inputs[0], w = inputs[1];
  const mlx_array* tx = tangent_of(0, argnums, nargs, tangents);
  const mlx_array* tw = tangent_of(1, argnums, nargs, tangents);
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *n = &t.t[0], *n2 = &t.t[1], *n3 = &t.t[2], *xt = &t.t[3], *m = &t.t[4], *xm = &t.t[5], *d1 = &t.t[6];
  mlx_array *d2 = &t.t[7], *d = &t.t[8], *dw = &t.t[9], *xn = &t.t[10], *xnt = &t.t[11], *acc = &t.t[12];
  int rc = rms_n(n, x, p->eps, s);
  if (!rc && tx) {
    /* d(x n) = tx n - x n^3 mean(x tx) */
    rc = mlx_square(n2, *n, s);
    if (!rc) rc = mlx_multiply(n3, *n2, *n, s);
    if (!rc) rc = mlx_multiply(xt, x, *tx, s);
    if (!rc) rc = mlx_mean_axes(m, *xt, &last, 1, 1, s);
    if (!rc) rc = mlx_multiply(xm, x, *m, s);
    if (!rc) rc = mlx_multiply(d1, *xm, *n3, s);
    if (!rc) rc = mlx_multiply(d2, *tx, *n, s);
    if (!rc) rc = mlx_subtract(d, *d2, *d1, s);
    if (!rc) rc = mlx_multiply(dw, *d, w, s);
    if (!rc) rc = accumulate(acc, *dw, s);
  }
  if (!rc && tw) {
    rc = mlx_multiply(xn, x, *n, s);
    if (!rc) rc = mlx_multiply(xnt, *xn, *tw, s);
    if (!rc) rc = accumulate(acc, *xnt, s);
  }
  if (!rc && acc->ctx) rc = mlx_array_set(&out_tans[0], *acc);
  temps_free(&t);
  return rc;
}

/* vmap of a norm: only x batched runs the fused op with the batch axis
 * among the rows (moved off the normalized last axis). */
static int norm_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                     const void* params, int layer, mlx_stream s) {
  int params_batched = in_axes[1] >= 0 || (layer && in_axes[2] >= 0);
  if (params_batched || in_axes[0] < 0)
    return fb_vmap(outs, out_axes, inputs, in_axes, nin, layer ? FB_LN : FB_RMS, params, s);
  int ax = in_axes[0], nd = mlx_array_ndim(inputs[0]);
  mlx_array in[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  if (ax == nd - 1) {
    rc = mlx_moveaxis(&in[0], inputs[0], ax, 0, s);
    ax = 0;
  } else {
    rc = mlx_array_set(&in[0], inputs[0]);
  }
  for (int i = 1; i < nin && !rc; i++) rc = mlx_array_set(&in[i], inputs[i]);
  if (!rc) rc = layer ? mlx_fast_ln_record_(&outs[0], in, params, s) : mlx_fast_rms_record_(&outs[0], in, params, s);
  out_axes[0] = ax;
  for (int i = 0; i < 3; i++) mlx_array_free(in[i]);
  return rc;
}

int mlx_fast_rms_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s) {
  return norm_vmap(outs, out_axes, inputs, in_axes, nin, params, 0, s);
}

/* ---- layer_norm ------------------------------------------------------------- */

/* xc = x - mean(x) and n = rsqrt(var + eps) (keepdims) in x's dtype. */
static int ln_parts(mlx_array* xc, mlx_array* n, const mlx_array x, float eps, mlx_stream s) {
  int last = -1;
  mlx_array mu = mlx_array_new(), sq = mlx_array_new(), v = mlx_array_new(), e = mlx_array_new(), ve = mlx_array_new();
  int rc = mlx_mean_axes(&mu, x, &last, 1, 1, s);
  if (!rc) rc = mlx_subtract(xc, x, mu, s);
  if (!rc) rc = mlx_square(&sq, *xc, s);
  if (!rc) rc = mlx_mean_axes(&v, sq, &last, 1, 1, s);
  if (!rc) rc = scalar(&e, eps, mlx_array_dtype(x));
  if (!rc) rc = mlx_add(&ve, v, e, s);
  if (!rc) rc = mlx_rsqrt(n, ve, s);
  mlx_array_free(mu), mlx_array_free(sq), mlx_array_free(v), mlx_array_free(e), mlx_array_free(ve);
  return rc;
}

int mlx_fast_ln_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_fast_norm_params_* p = params;
  const mlx_array x = inputs[0], w = inputs[1], b = inputs[2], g = cots[0];
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *xc = &t.t[0], *n = &t.t[1], *n2 = &t.t[2], *n3 = &t.t[3], *wg = &t.t[4], *mwg = &t.t[5];
  mlx_array *wgxc = &t.t[6], *mwgxc = &t.t[7], *t1a = &t.t[8], *t1 = &t.t[9], *t2a = &t.t[10], *t2 = &t.t[11];
  mlx_array *xn = &t.t[12], *gxn = &t.t[13];
  int rc = ln_parts(xc, n, x, p->eps, s);
  if (!rc) rc = mlx_square(n2, *n, s);
  if (!rc) rc = mlx_multiply(n3, *n2, *n, s);
  for (int k = 0; !rc && k < nargs; k++) {
    int a = argnums[k];
    if (a == 0) {
      /* dx = (wg - mean(wg)) n - xc n^3 mean(wg xc) */
      rc = mlx_multiply(wg, w, g, s);
      if (!rc) rc = mlx_mean_axes(mwg, *wg, &last, 1, 1, s);
      if (!rc) rc = mlx_multiply(wgxc, *wg, *xc, s);
      if (!rc) rc = mlx_mean_axes(mwgxc, *wgxc, &last, 1, 1, s);
      if (!rc) rc = mlx_multiply(t1a, *xc, *mwgxc, s);
      if (!rc) rc = mlx_multiply(t1, *t1a, *n3, s);
      if (!rc) rc = mlx_subtract(t2a, *wg, *mwg, s);
      if (!rc) rc = mlx_multiply(t2, *t2a, *n, s);
      if (!rc) rc = mlx_subtract(&in_cots[k], *t2, *t1, s);
    } else if (a == 1) {
      if (mlx_array_ndim(w) == 0) {
        rc = mlx_zeros_like(&in_cots[k], w, s);
      } else {
        rc = mlx_multiply(xn, *xc, *n, s);
        if (!rc) rc = mlx_multiply(gxn, g, *xn, s);
        if (!rc) rc = sum_leading(&in_cots[k], *gxn, s);
      }
    } else if (a == 2) {
      rc = mlx_array_ndim(b) == 0 ? mlx_zeros_like(&in_cots[k], b, s) : sum_leading(&in_cots[k], g, s);
    }
  }
  temps_free(&t);
  return rc;
}

int mlx_fast_ln_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_fast_norm_params_* p = params;
  const mlx_array x = inputs[0], w = inputs[1];
  const mlx_array* tx = tangent_of(0, argnums, nargs, tangents);
  const mlx_array* tw = tangent_of(1, argnums, nargs, tangents);
  const mlx_array* tb = tangent_of(2, argnums, nargs, tangents);
  int last = -1;
  temps t;
  temps_init(&t);
  mlx_array *xc = &t.t[0], *n = &t.t[1], *n2 = &t.t[2], *n3 = &t.t[3], *mt = &t.t[4], *dxc = &t.t[5], *xd = &t.t[6];
  mlx_array *mxd = &t.t[7], *a1 = &t.t[8], *a2 = &t.t[9], *a3 = &t.t[10], *d = &t.t[11], *dw = &t.t[12];
  mlx_array *xn = &t.t[13], *xnt = &t.t[14], *acc = &t.t[15];
  int rc = ln_parts(xc, n, x, p->eps, s);
  if (!rc && tx) {
    /* d(xc n) = dxc n - xc n^3 mean(xc dxc), dxc = tx - mean(tx) */
    rc = mlx_square(n2, *n, s);
    if (!rc) rc = mlx_multiply(n3, *n2, *n, s);
    if (!rc) rc = mlx_mean_axes(mt, *tx, &last, 1, 1, s);
    if (!rc) rc = mlx_subtract(dxc, *tx, *mt, s);
    if (!rc) rc = mlx_multiply(xd, *xc, *dxc, s);
    if (!rc) rc = mlx_mean_axes(mxd, *xd, &last, 1, 1, s);
    if (!rc) rc = mlx_multiply(a1, *xc, *mxd, s);
    if (!rc) rc = mlx_multiply(a2, *a1, *n3, s);
    if (!rc) rc = mlx_multiply(a3, *dxc, *n, s);
    if (!rc) rc = mlx_subtract(d, *a3, *a2, s);
    if (!rc) rc = mlx_multiply(dw, *d, w, s);
    if (!rc) rc = accumulate(acc, *dw, s);
  }
  if (!rc && tw) {
    rc = mlx_multiply(xn, *xc, *n, s);
    if (!rc) rc = mlx_multiply(xnt, *xn, *tw, s);
    if (!rc) rc = accumulate(acc, *xnt, s);
  }
  if (!rc && tb) rc = accumulate(acc, *tb, s);
  if (!rc && acc->ctx) {
    /* A bias tangent alone keeps the bias's shape: broadcast to x's. */
    mlx_array full = mlx_array_new();
    rc = mlx_broadcast_to(&full, *acc, mlx_array_shape(x), mlx_array_ndim(x), s);
    if (!rc) rc = mlx_array_set(&out_tans[0], full);
    mlx_array_free(full);
  }
  temps_free(&t);
  return rc;
}

int mlx_fast_ln_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  return norm_vmap(outs, out_axes, inputs, in_axes, nin, params, 1, s);
}

/* ---- rope ---------------------------------------------------------------------- */

int mlx_fast_rope_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  mlx_fast_rope_params_ p = *(const mlx_fast_rope_params_*)params;
  p.forward = !p.forward;
  for (int k = 0; k < nargs; k++) {
    if (argnums[k] == 0) {
      mlx_array in[3] = {cots[0], inputs[1], nin > 2 ? inputs[2] : mlx_array_new()};
      MLX_TRY(mlx_fast_rope_record_(&in_cots[k], in, nin, &p, s));
    } else if (argnums[k] == 2) {
      return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] vjp for offset or frequencies not supported");
    }
  }
  return MLX_OK;
}

int mlx_fast_rope_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  if (tangent_of(2, argnums, nargs, tangents))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] jvp for offset or frequencies not supported");
  const mlx_array* tx = tangent_of(0, argnums, nargs, tangents);
  if (!tx) return MLX_OK;
  mlx_array in[3] = {*tx, inputs[1], nin > 2 ? inputs[2] : mlx_array_new()};
  return mlx_fast_rope_record_(&out_tans[0], in, nin, params, s);
}

/* Entry b of a along axis (the axis removed). */
static int slice_at(mlx_array* res, const mlx_array a, int axis, int64_t b, mlx_stream s) {
  int nd = mlx_array_ndim(a);
  int64_t start[16] = {0}, stop[16], step[16];
  if (nd > 16) return mlx_error_(MLX_ERROR_SHAPE, "[rope] too many dimensions");
  for (int i = 0; i < nd; i++) {
    start[i] = i == axis ? b : 0;
    stop[i] = i == axis ? b + 1 : mlx_array_dim(a, i);
    step[i] = 1;
  }
  mlx_array t = mlx_array_new();
  int rc = mlx_slice(&t, a, start, stop, step, nd, s);
  if (!rc) rc = mlx_squeeze_axes(res, t, &axis, 1, s);
  mlx_array_free(t);
  return rc;
}

/* Batched offsets or frequencies: one rope per batch entry, stacked. */
static int rope_vmap_per_entry(mlx_array* out, const mlx_array* inputs, const int* in_axes, int nin,
                               const mlx_fast_rope_params_* p, mlx_stream s) {
  int64_t nb = 0;
  for (int i = 0; i < nin; i++)
    if (in_axes[i] >= 0) nb = mlx_array_dim(inputs[i], in_axes[i]);
  mlx_array* parts = calloc((size_t)(nb > 0 ? nb : 1), sizeof *parts);
  if (!parts) return mlx_error_(MLX_ERROR_MEMORY, "[rope] out of memory");
  mlx_array in[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int64_t b = 0; b < nb && !rc; b++) {
    for (int i = 0; i < nin && !rc; i++)
      rc = in_axes[i] >= 0 ? slice_at(&in[i], inputs[i], in_axes[i], b, s) : mlx_array_set(&in[i], inputs[i]);
    if (!rc) rc = mlx_fast_rope_record_(&parts[b], in, nin, p, s);
  }
  if (!rc) rc = mlx_stack(out, parts, (size_t)nb, 0, s);
  for (int64_t b = 0; b < nb; b++) mlx_array_free(parts[b]);
  for (int i = 0; i < 3; i++) mlx_array_free(in[i]);
  free(parts);
  return rc;
}

/* The batch axis goes to 1: axis 0 stays the one the offsets index, and
 * the rotation works on the last two. Batched offsets or frequencies run
 * one rope per batch entry. */
int mlx_fast_rope_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                        const void* params, mlx_stream s) {
  if (in_axes[1] >= 0 || (nin > 2 && in_axes[2] >= 0)) {
    out_axes[0] = 0;
    return rope_vmap_per_entry(&outs[0], inputs, in_axes, nin, params, s);
  }
  mlx_array in[3] = {mlx_array_new(), inputs[1], nin > 2 ? inputs[2] : mlx_array_new()};
  int rc = in_axes[0] == 1 ? mlx_array_set(&in[0], inputs[0]) : mlx_moveaxis(&in[0], inputs[0], in_axes[0], 1, s);
  if (!rc) rc = mlx_fast_rope_record_(&outs[0], in, nin, params, s);
  out_axes[0] = 1;
  mlx_array_free(in[0]);
  return rc;
}

/* ---- sdpa -------------------------------------------------------------------------- */

int mlx_fast_sdpa_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return fb_vjp(in_cots, argnums, nargs, inputs, nin, cots, FB_SDPA, params, s);
}

int mlx_fast_sdpa_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return fb_jvp(out_tans, argnums, nargs, inputs, nin, tangents, FB_SDPA, params, s);
}

int mlx_fast_sdpa_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                        const void* params, mlx_stream s) {
  return fb_vmap(outs, out_axes, inputs, in_axes, nin, FB_SDPA, params, s);
}
