/* The distributions derived from uniform samples and bits: truncated
 * normal, Gumbel, categorical, Laplace and permutation. Each is upstream's
 * composition of public ops (mlx/random.cpp) in the same order and dtypes,
 * so a key gives the same bits as Python MLX. The key is resolved first
 * (drawing from the global sequence when none is given), before any other
 * check, as Python's bindings do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlx/indexing.h"
#include "mlx/sort.h"
#include "random.h"

#define NT 12
typedef struct {
  mlx_array t[NT];
} temps;

static void temps_init(temps* t) {
  for (int i = 0; i < NT; i++) t->t[i] = mlx_array_new();
}

static void temps_free(temps* t) {
  for (int i = 0; i < NT; i++) mlx_array_free(t->t[i]);
}

static int floating_or(mlx_dtype dt, const char* msg) {
  if ((unsigned)dt < MLX_NUM_DTYPES && mlx_dtype_is_floating(dt)) return MLX_OK;
  return mlx_error_(MLX_ERROR_DTYPE, "%s", msg);
}

/* ---- truncated normal ------------------------------------------------------ */

static int truncated_normal(mlx_array* res, const mlx_array lower, const mlx_array upper, const int64_t* shape,
                            int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s) {
  MLX_TRY(floating_or(dtype, "[trunc_normal] trunc_normal only accepts floating point dtypes."));
  MLX_TRY(mlx_check_array_(lower, "trunc_normal"));
  MLX_TRY(mlx_check_array_(upper, "trunc_normal"));
  int64_t bshape[16];
  if (ndim < 0) {
    mlx_node_ *l = MLX_NODE(lower), *u = MLX_NODE(upper);
    if (l->ndim > 16 || u->ndim > 16)
      return mlx_error_(MLX_ERROR_SHAPE, "[trunc_normal] bounds with more than 16 dimensions");
    MLX_TRY(mlx_broadcast_shape_(bshape, &ndim, l->shape, l->ndim, u->shape, u->ndim, "trunc_normal"));
    shape = bshape;
  }
  temps t;
  temps_init(&t);
  mlx_array *sqrt2 = &t.t[0], *lo = &t.t[1], *hi = &t.t[2], *lq = &t.t[3], *hq = &t.t[4], *a = &t.t[5];
  mlx_array *b = &t.t[6], *u = &t.t[7], *e = &t.t[8], *out = &t.t[9], *capped = &t.t[10];
  int rc = mlx_array_new_float(sqrt2, sqrt(2.0), dtype);
  if (!rc) rc = mlx_astype(lo, lower, dtype, s);
  if (!rc) rc = mlx_astype(hi, upper, dtype, s);
  if (!rc) rc = mlx_divide(lq, *lo, *sqrt2, s);
  if (!rc) rc = mlx_erf(a, *lq, s);
  if (!rc) rc = mlx_divide(hq, *hi, *sqrt2, s);
  if (!rc) rc = mlx_erf(b, *hq, s);
  if (!rc) rc = mlx_random_uniform_key_(u, *a, *b, shape, ndim, dtype, key, s, "uniform");
  if (!rc) rc = mlx_erfinv(e, *u, s);
  if (!rc) rc = mlx_multiply(out, *sqrt2, *e, s);
  if (!rc) rc = mlx_minimum(capped, *hi, *out, s);
  if (!rc) rc = mlx_maximum(res, *capped, *lo, s);
  temps_free(&t);
  return rc;
}

int mlx_random_truncated_normal(mlx_array* res, const mlx_array lower, const mlx_array upper, const int64_t* shape,
                                int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "trunc_normal"));
  int rc = truncated_normal(res, lower, upper, shape, ndim, dtype, k, s);
  mlx_array_free(k);
  return rc;
}

/* ---- Gumbel -------------------------------------------------------------------- */

/* -log(-log(uniform(0, 1))) in dtype, under a resolved key. */
static int gumbel(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_array key,
                  const mlx_stream s) {
  if ((unsigned)dtype >= MLX_NUM_DTYPES) return mlx_error_(MLX_ERROR_DTYPE, "[gumbel] invalid dtype %d", (int)dtype);
  temps t;
  temps_init(&t);
  mlx_array *lo = &t.t[0], *hi = &t.t[1], *u = &t.t[2], *l1 = &t.t[3], *n1 = &t.t[4], *l2 = &t.t[5];
  int rc = mlx_array_new_float(lo, 0.0, dtype);
  if (!rc) rc = mlx_array_new_float(hi, 1.0, dtype);
  if (!rc) rc = mlx_random_uniform_key_(u, *lo, *hi, shape, ndim, dtype, key, s, "uniform");
  if (!rc) rc = mlx_log(l1, *u, s);
  if (!rc) rc = mlx_negative(n1, *l1, s);
  if (!rc) rc = mlx_log(l2, *n1, s);
  if (!rc) rc = mlx_negative(res, *l2, s);
  temps_free(&t);
  return rc;
}

int mlx_random_gumbel(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_array key,
                      const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "gumbel"));
  int rc = gumbel(res, shape, ndim, dtype, k, s);
  mlx_array_free(k);
  return rc;
}

/* ---- categorical -------------------------------------------------------------- */

static int valid_axis(int* axis, int ndim) {
  int ax = *axis < 0 ? *axis + ndim : *axis;
  if (ax < 0 || ax >= ndim)
    return mlx_error_(MLX_ERROR_INDEX, "[categorical] Invalid axis %d for logits with %d dimensions.", *axis, ndim);
  *axis = ax;
  return MLX_OK;
}

/* argmax(gumbel(shape with the logits' axis inserted) + logits) over that
 * axis, as upstream's categorical_impl. */
static int categorical_impl(mlx_array* res, const mlx_array logits, int axis, const int64_t* shape, int ndim,
                            const mlx_array key, const mlx_stream s) {
  mlx_node_* l = MLX_NODE(logits);
  int offset = axis + ndim - l->ndim + 1;
  if (offset < 0 || offset > ndim)
    return mlx_error_(MLX_ERROR_SHAPE, "[categorical] shape of %d dimensions does not fit logits of %d", ndim, l->ndim);
  int64_t* gshape = malloc(sizeof(int64_t) * (size_t)(ndim + 1));
  if (!gshape) return mlx_error_(MLX_ERROR_MEMORY, "[categorical] out of memory");
  for (int i = 0, j = 0; i <= ndim; i++) gshape[i] = i == offset ? l->shape[axis] : shape[j++];
  mlx_array g = mlx_array_new(), sum = mlx_array_new();
  int rc = gumbel(&g, gshape, ndim + 1, MLX_FLOAT32, key, s);
  if (!rc) rc = mlx_add(&sum, g, logits, s);
  if (!rc) rc = mlx_argmax_axis(res, sum, offset, 0, s);
  mlx_array_free(g), mlx_array_free(sum);
  free(gshape);
  return rc;
}

/* logits' shape without axis into out (capacity ndim). */
static void reduced_shape(int64_t* out, const mlx_node_* l, int axis) {
  for (int i = 0, j = 0; i < l->ndim; i++)
    if (i != axis) out[j++] = l->shape[i];
}

int mlx_random_categorical(mlx_array* res, const mlx_array logits, int axis, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "categorical"));
  int rc = mlx_check_array_(logits, "categorical");
  mlx_node_* l = rc ? NULL : MLX_NODE(logits);
  if (!rc) rc = valid_axis(&axis, l->ndim);
  int64_t* shape = NULL;
  if (!rc && !(shape = malloc(sizeof(int64_t) * (size_t)l->ndim)))
    rc = mlx_error_(MLX_ERROR_MEMORY, "[categorical] out of memory");
  if (!rc) {
    reduced_shape(shape, l, axis);
    rc = categorical_impl(res, logits, axis, shape, l->ndim - 1, k, s);
  }
  free(shape);
  mlx_array_free(k);
  return rc;
}

int mlx_random_categorical_shape(mlx_array* res, const mlx_array logits, int axis, const int64_t* shape, int ndim,
                                 const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "categorical"));
  int rc = mlx_check_array_(logits, "categorical");
  mlx_node_* l = rc ? NULL : MLX_NODE(logits);
  if (!rc) rc = valid_axis(&axis, l->ndim);
  if (!rc) rc = mlx_random_check_shape_(shape, ndim, "categorical");
  int64_t *red = NULL, *bc = NULL;
  int nbc = 0;
  if (!rc) {
    red = malloc(sizeof(int64_t) * (size_t)l->ndim);
    bc = malloc(sizeof(int64_t) * (size_t)(l->ndim + ndim + 1));
    if (!red || !bc) rc = mlx_error_(MLX_ERROR_MEMORY, "[categorical] out of memory");
  }
  if (!rc) {
    reduced_shape(red, l, axis);
    rc = mlx_broadcast_shape_(bc, &nbc, shape, ndim, red, l->ndim - 1, "categorical");
    int same = !rc && nbc == ndim;
    for (int i = 0; same && i < ndim; i++) same = bc[i] == shape[i];
    if (!rc && !same)
      rc = mlx_error_(MLX_ERROR_SHAPE,
                      "[categorical] Requested shape is not broadcast compatible with reduced logits shape.");
  }
  if (!rc) rc = categorical_impl(res, logits, axis, shape, ndim, k, s);
  free(red), free(bc);
  mlx_array_free(k);
  return rc;
}

int mlx_random_categorical_num_samples(mlx_array* res, const mlx_array logits, int axis, int num_samples,
                                       const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new(), ex = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "categorical"));
  int rc = mlx_check_array_(logits, "categorical");
  mlx_node_* l = rc ? NULL : MLX_NODE(logits);
  if (!rc) rc = valid_axis(&axis, l->ndim);
  int last = -1;
  if (!rc) rc = mlx_expand_dims(&ex, logits, &last, 1, s);
  int64_t* shape = NULL;
  if (!rc && !(shape = malloc(sizeof(int64_t) * (size_t)(l->ndim + 1))))
    rc = mlx_error_(MLX_ERROR_MEMORY, "[categorical] out of memory");
  if (!rc) {
    /* expanded logits' shape without axis, the last entry num_samples */
    mlx_node_* e = MLX_NODE(ex);
    reduced_shape(shape, e, axis);
    shape[e->ndim - 2] = num_samples;
    rc = categorical_impl(res, ex, axis, shape, e->ndim - 1, k, s);
  }
  free(shape);
  mlx_array_free(ex);
  mlx_array_free(k);
  return rc;
}

/* ---- Laplace ---------------------------------------------------------------------- */

int mlx_random_laplace(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, float loc, float scale,
                       const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "laplace"));
  int rc = floating_or(dtype, "[laplace] Only real floating point types are supported.");
  /* u in (-1, 1) (float32), then sign(u) * log1p(-|u|), whose dtype is
   * float32 promoted with dtype (the -1 is of dtype), cast to dtype. */
  temps t;
  temps_init(&t);
  mlx_array *lo = &t.t[0], *hi = &t.t[1], *u = &t.t[2], *sg = &t.t[3], *m1 = &t.t[4], *ab = &t.t[5];
  mlx_array *neg = &t.t[6], *lp = &t.t[7], *smp = &t.t[8], *sd = &t.t[9], *sc = &t.t[10], *lc = &t.t[11];
  if (!rc) rc = mlx_array_new_float(lo, nextafterf(-1.0f, 0.0f), MLX_FLOAT32);
  if (!rc) rc = mlx_array_new_float(hi, 1.0, MLX_FLOAT32);
  if (!rc) rc = mlx_random_uniform_key_(u, *lo, *hi, shape, ndim, MLX_FLOAT32, k, s, "uniform");
  if (!rc) rc = mlx_sign(sg, *u, s);
  if (!rc) rc = mlx_array_new_float(m1, -1.0, dtype);
  if (!rc) rc = mlx_abs(ab, *u, s);
  if (!rc) rc = mlx_multiply(neg, *m1, *ab, s);
  if (!rc) rc = mlx_log1p(lp, *neg, s);
  if (!rc) rc = mlx_multiply(smp, *sg, *lp, s);
  if (!rc) rc = mlx_astype(sd, *smp, dtype, s);
  if (!rc && scale != 1.0f) {
    mlx_array v = mlx_array_new(), out = mlx_array_new();
    rc = mlx_array_new_float(&v, scale, dtype);
    if (!rc) rc = mlx_multiply(&out, v, *sd, s);
    if (!rc) rc = mlx_array_set(sd, out);
    mlx_array_free(v), mlx_array_free(out);
  }
  if (!rc && loc != 0.0f) {
    rc = mlx_array_new_float(lc, loc, dtype);
    if (!rc) rc = mlx_add(sc, *lc, *sd, s);
    if (!rc) rc = mlx_array_set(sd, *sc);
  }
  if (!rc) rc = mlx_array_set(res, *sd);
  temps_free(&t);
  mlx_array_free(k);
  return rc;
}

/* ---- permutation -------------------------------------------------------------------- */

/* argsort(bits([n])) under a resolved key. */
static int permutation_n(mlx_array* res, int64_t n, const mlx_array key, const mlx_stream s) {
  mlx_array b = mlx_array_new();
  int rc = mlx_random_bits_key_(&b, &n, 1, 4, key, s, "bits");
  if (!rc) rc = mlx_argsort(res, b, -1, s);
  mlx_array_free(b);
  return rc;
}

int mlx_random_permutation_arange(mlx_array* res, int n, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "permutation"));
  int rc = permutation_n(res, n, k, s);
  mlx_array_free(k);
  return rc;
}

int mlx_random_permutation(mlx_array* res, const mlx_array x, int axis, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new(), p = mlx_array_new();
  MLX_TRY(mlx_random_resolve_key_(&k, key, "permutation"));
  int rc = mlx_check_array_(x, "permutation");
  int ax = axis;
  if (!rc) rc = mlx_normalize_axis_(&ax, MLX_NODE(x)->ndim, "permutation");
  if (!rc) rc = permutation_n(&p, MLX_NODE(x)->shape[ax], k, s);
  if (!rc) rc = mlx_take(res, x, p, ax, s);
  mlx_array_free(p);
  mlx_array_free(k);
  return rc;
}
