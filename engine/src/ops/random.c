/* Random numbers: keys, splitting, raw bits and the distributions built
 * on them, bit-identical to upstream MLX. A key is a uint32 array of shape
 * [2]; mlx_random_bits hashes a counter stream under it (cpu/random.c).
 * The distributions are compositions of public ops in the same order and
 * dtypes as upstream, so rounding matches too.
 *
 * The global key sequence is upstream's KeySequence: next() splits the
 * state, keeps the first half as the new state and returns the second. It
 * starts from the current time in milliseconds unless seeded. A call that
 * is given an empty key draws from the sequence first, before checking
 * its other arguments, as Python MLX does. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../cpu/random.h"
#include "random.h"

static int bits_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s);
static int split_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s);

/* Bits are not differentiable: zero cotangents and tangents, as upstream.
 * random_bits params: int64_t width, ndim, shape[ndim] (the kernel takes
 * them from the output; the vmap rule needs them). */
static const mlx_prim_ prim_bits = {.name = "random_bits",
                                    .cpu = mlx_cpu_random_bits_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_random_bits_),
                                    .vjp = mlx_vjp_zero_,
                                    .jvp = mlx_jvp_zero_,
                                    .vmap = bits_vmap};
MLX_REGISTER_PRIM(prim_bits);
static const mlx_prim_ prim_split = {.name = "random_split",
                                     .cpu = mlx_cpu_random_split_,
                                     .gpu = MLX_GPU_KERNEL_(mlx_cuda_random_split_),
                                     .vjp = mlx_vjp_zero_,
                                     .jvp = mlx_jvp_zero_,
                                     .vmap = split_vmap};
MLX_REGISTER_PRIM(prim_split);

/* ---- the global key sequence -------------------------------------------- */

static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static int seq_started;
static uint32_t seq_key[2];

static void seq_seed_locked(uint64_t seed) {
  seq_key[0] = (uint32_t)(seed >> 32);
  seq_key[1] = (uint32_t)seed;
  seq_started = 1;
}

/* compile's view of the sequence while it traces a function on this
 * thread (see mlx_random_key_hook_). */
static _Thread_local mlx_random_key_hook_ key_hook;
static _Thread_local void* key_hook_ctx;

void mlx_random_set_key_hook_(mlx_random_key_hook_ hook, void* ctx, mlx_random_key_hook_* prev, void** prev_ctx) {
  *prev = key_hook;
  *prev_ctx = key_hook_ctx;
  key_hook = hook;
  key_hook_ctx = ctx;
}

int mlx_random_seed(uint64_t seed) {
  pthread_mutex_lock(&seq_lock);
  seq_seed_locked(seed);
  pthread_mutex_unlock(&seq_lock);
  if (key_hook) return key_hook(key_hook_ctx, NULL);
  return MLX_OK;
}

/* Splitting is two hashes, so it is done here directly rather than
 * through a graph. */
int mlx_random_next_key_(mlx_array* res) {
  uint32_t k[2], a0, b0, a1, b1;
  pthread_mutex_lock(&seq_lock);
  if (!seq_started) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seq_seed_locked((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
  }
  mlx_threefry2x32_(seq_key[0], seq_key[1], 0, 2, &a0, &b0);
  mlx_threefry2x32_(seq_key[0], seq_key[1], 1, 3, &a1, &b1);
  seq_key[0] = a0;
  seq_key[1] = a1;
  pthread_mutex_unlock(&seq_lock);
  k[0] = b0;
  k[1] = b1;
  int64_t shape[1] = {2};
  return mlx_array_new_data(res, k, shape, 1, MLX_UINT32);
}

/* The next key of the sequence, as a new array (a traced one while
 * compile traces). */
static int seq_next(mlx_array* res) {
  MLX_TRY(mlx_random_next_key_(res));
  return key_hook ? key_hook(key_hook_ctx, res) : MLX_OK;
}

/* *out gets the key to use: the given one after checking it, or the next
 * key of the global sequence when key is empty. */
static int resolve_key(mlx_array* out, const mlx_array key, const char* op) {
  if (!key.ctx) return seq_next(out);
  mlx_node_* k = MLX_NODE(key);
  if (k->dtype != MLX_UINT32)
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] expected a key of type uint32 but received %s", op,
                      mlx_dtype_name(k->dtype));
  if (k->ndim != 1 || k->shape[0] != 2)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] expected a key of shape (2) but received one with %d dimensions and %lld elements",
                      op, k->ndim, (long long)k->size);
  return mlx_array_set(out, key);
}

/* ---- keys and bits ------------------------------------------------------ */

int mlx_random_key(mlx_array* res, uint64_t seed) {
  uint32_t k[2] = {(uint32_t)(seed >> 32), (uint32_t)seed};
  int64_t shape[1] = {2};
  return mlx_array_new_data(res, k, shape, 1, MLX_UINT32);
}

/* Checks a requested output shape: dims >= 0, and its bytes countable
 * in int64 for 8-byte elements (the widest a random op makes). */
static int check_shape(const int64_t* shape, int ndim, const char* op) {
  if (ndim < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] negative number of dimensions", op);
  if (ndim > 0 && !shape) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] no shape given for %d dimensions", op, ndim);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] negative dimensions are not allowed", op);
  int64_t size;
  MLX_TRY(mlx_shape_size_(&size, shape, ndim, op));
  if (size > INT64_MAX / 8) return mlx_error_(MLX_ERROR_MEMORY, "[%s] array of %lld elements is too large", op, (long long)size);
  return MLX_OK;
}

/* bits with an already resolved key. */
static int bits_with_key(mlx_array* res, const int64_t* shape, int ndim, int width, const mlx_array key,
                         const mlx_stream s, const char* op) {
  mlx_dtype dtype;
  switch (width) {
    case 1: dtype = MLX_UINT8; break;
    case 2: dtype = MLX_UINT16; break;
    case 4: dtype = MLX_UINT32; break;
    default: return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] bit width must be in {1, 2, 4} but got %d", op, width);
  }
  MLX_TRY(check_shape(shape, ndim, op));
  mlx_node_* k = MLX_NODE(key);
  int64_t small[2 + MLX_INLINE_NDIM];
  int64_t* p = ndim <= MLX_INLINE_NDIM ? small : malloc(sizeof(int64_t) * (2 + (size_t)ndim));
  if (!p) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
  p[0] = width;
  p[1] = ndim;
  if (ndim) memcpy(p + 2, shape, sizeof(int64_t) * (size_t)ndim);
  int rc = mlx_op1_(res, &prim_bits, p, sizeof(int64_t) * (2 + (size_t)ndim), &k, 1, dtype, shape, ndim, s);
  if (p != small) free(p);
  return rc;
}

int mlx_random_bits(mlx_array* res, const int64_t* shape, int ndim, int width, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  int rc = resolve_key(&k, key, "bits");
  if (!rc) rc = bits_with_key(res, shape, ndim, width, k, s, "bits");
  mlx_array_free(k);
  return rc;
}

int mlx_random_split_num(mlx_array* res, const mlx_array key, int num, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  int rc = resolve_key(&k, key, "split");
  int64_t shape[2] = {num, 2};
  if (!rc) rc = bits_with_key(res, shape, 2, 4, k, s, "split");
  mlx_array_free(k);
  return rc;
}

int mlx_random_split(mlx_array* res_1, mlx_array* res_2, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(resolve_key(&k, key, "split"));
  /* One op with two outputs: the rows of bits([2, 2]), which is what
   * upstream's split + reshape of split(key, 2) computes. */
  mlx_array out[2] = {mlx_array_new(), mlx_array_new()};
  static const int64_t kshape[1] = {2};
  const int64_t* shapes[2] = {kshape, kshape};
  const mlx_dtype dtypes[2] = {MLX_UINT32, MLX_UINT32};
  const int ndims[2] = {1, 1};
  mlx_node_* in = MLX_NODE(k);
  int rc = mlx_op_record_(out, 2, &prim_split, NULL, 0, &in, 1, dtypes, shapes, ndims, s);
  mlx_array_free(k);
  if (rc) return rc;
  mlx_set_result_(res_1, MLX_NODE(out[0]));
  mlx_set_result_(res_2, MLX_NODE(out[1]));
  return MLX_OK;
}

/* ---- distributions ------------------------------------------------------- */

static int pairs_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int pairs_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
static int pairs_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s);

static const mlx_prim_ prim_complex_pairs = {.name = "random_complex_pairs",
                                             .cpu = mlx_cpu_random_complex_pairs_,
                                             .vjp = pairs_vjp,
                                             .jvp = pairs_jvp,
                                             .vmap = pairs_vmap};
MLX_REGISTER_PRIM(prim_complex_pairs);

/* float32 [..., 2] -> complex64 [...]. */
static int complex_pairs(mlx_array* res, const mlx_array pairs, const mlx_stream s) {
  mlx_node_* in = MLX_NODE(pairs);
  return mlx_op1_(res, &prim_complex_pairs, NULL, 0, &in, 1, MLX_COMPLEX64, in->shape, in->ndim - 1, s);
}

/* Temporaries of a composite op, freed together on every path. */
#define NTMP 12
typedef struct {
  mlx_array t[NTMP];
} temps;

static void temps_init(temps* t) {
  for (int i = 0; i < NTMP; i++) t->t[i] = mlx_array_new();
}

static void temps_free(temps* t) {
  for (int i = 0; i < NTMP; i++) mlx_array_free(t->t[i]);
}

/* "(2, 3)" into buf, for messages. */
static const char* shape_str(char* buf, size_t cap, const int64_t* shape, int ndim) {
  size_t at = 0;
  at += (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < ndim && at < cap; i++) at += (size_t)snprintf(buf + at, cap - at, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (at < cap) snprintf(buf + at, cap - at, ")");
  return buf;
}

/* Fails unless broadcasting shape with the shape of a gives shape back. */
static int check_broadcasts_to(const int64_t* shape, int ndim, const mlx_array a, const char* op) {
  mlx_node_* n = MLX_NODE(a);
  int nd = ndim > n->ndim ? ndim : n->ndim;
  int64_t* out = malloc(sizeof(int64_t) * (size_t)(nd > 0 ? nd : 1));
  if (!out) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
  int ond;
  int rc = mlx_broadcast_shape_(out, &ond, shape, ndim, n->shape, n->ndim, op);
  int same = !rc && ond == ndim;
  for (int i = 0; same && i < ndim; i++) same = out[i] == shape[i];
  if (!rc && !same) {
    char a1[256], a2[256];
    rc = mlx_error_(MLX_ERROR_SHAPE, "[%s] cannot generate random values of shape %s from broadcasted shape %s", op,
                    shape_str(a1, sizeof a1, shape, ndim), shape_str(a2, sizeof a2, out, ond));
  }
  free(out);
  return rc;
}

/* The largest value below 1 of a floating dtype, as float32 (upstream's
 * upper bound for uniform samples before the cast to dtype). */
static int below_one(float* out, mlx_dtype dtype, const char* op) {
  switch (dtype) {
    case MLX_FLOAT32: *out = nextafterf(1.0f, 0.0f); return MLX_OK;
    case MLX_FLOAT16: *out = 1.0f - 1.0f / 2048.0f; return MLX_OK; /* 0x3bff */
    case MLX_BFLOAT16: *out = 1.0f - 1.0f / 256.0f; return MLX_OK; /* 0x3f7f */
    default: return mlx_error_(MLX_ERROR_DTYPE, "[%s] unsupported type %s", op, mlx_dtype_name(dtype));
  }
}

/* uniform with an already resolved key (upstream's random::uniform):
 *   lo, hi = astype(low, dtype), astype(high, dtype)
 *   u = minimum(bits(shape) / float32(UINT32_MAX), below_one(dtype))
 *   out = (hi - lo) * astype(u, dtype) + lo */
static int uniform_with_key(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim,
                            mlx_dtype dtype, const mlx_array key, const mlx_stream s, const char* op) {
  MLX_TRY(mlx_check_array_(low, op));
  MLX_TRY(mlx_check_array_(high, op));
  if (!mlx_dtype_is_floating(dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] can only generate uniform numbers with real floating point type", op);
  MLX_TRY(check_shape(shape, ndim, op));
  temps t;
  temps_init(&t);
  mlx_array *lo = &t.t[0], *hi = &t.t[1], *range = &t.t[2], *upper = &t.t[3], *maxval = &t.t[4];
  mlx_array *b = &t.t[5], *u = &t.t[6], *um = &t.t[7], *ud = &t.t[8], *scaled = &t.t[9];
  float up = 0.0f;
  int rc = mlx_astype(lo, low, dtype, s);
  if (!rc) rc = mlx_astype(hi, high, dtype, s);
  if (!rc) rc = mlx_subtract(range, *hi, *lo, s);
  if (!rc) rc = check_broadcasts_to(shape, ndim, *range, op);
  if (!rc) rc = below_one(&up, dtype, op);
  if (!rc) rc = mlx_array_new_float(upper, up, MLX_FLOAT32);
  if (!rc) rc = mlx_array_new_float(maxval, (float)UINT32_MAX, MLX_FLOAT32);
  if (!rc) rc = bits_with_key(b, shape, ndim, 4, key, s, op);
  if (!rc) rc = mlx_divide(u, *b, *maxval, s);
  if (!rc) rc = mlx_minimum(um, *u, *upper, s);
  if (!rc) rc = mlx_astype(ud, *um, dtype, s);
  if (!rc) rc = mlx_multiply(scaled, *range, *ud, s);
  if (!rc) rc = mlx_add(res, *scaled, *lo, s);
  temps_free(&t);
  return rc;
}

int mlx_random_uniform(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim,
                       mlx_dtype dtype, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  int rc = resolve_key(&k, key, "uniform");
  if (!rc) rc = uniform_with_key(res, low, high, shape, ndim, dtype, k, s, "uniform");
  mlx_array_free(k);
  return rc;
}

/* Standard normal samples (before loc/scale): erfinv of uniform samples
 * in (-1, 1), in float32. `shape` gets a trailing 2 for complex. */
static int erfinv_samples(mlx_array* res, const int64_t* shape, int ndim, const mlx_array key, const mlx_stream s) {
  temps t;
  temps_init(&t);
  mlx_array *lo = &t.t[0], *hi = &t.t[1], *u = &t.t[2];
  int rc = mlx_array_new_float(lo, nextafterf(-1.0f, 0.0f), MLX_FLOAT32);
  if (!rc) rc = mlx_array_new_float(hi, 1.0, MLX_FLOAT32);
  if (!rc) rc = uniform_with_key(u, *lo, *hi, shape, ndim, MLX_FLOAT32, key, s, "normal");
  if (!rc) rc = mlx_erfinv(res, *u, s);
  temps_free(&t);
  return rc;
}

/* Upstream's complex normal: erfinv samples of shape [..., 2] viewed as
 * complex64 (no sqrt(2) factor), then scale * z + loc in complex64. */
static int complex_normal(mlx_array* res, const int64_t* shape, int ndim, double loc, double scale, const mlx_array key,
                          const mlx_stream s) {
  if (ndim < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[normal] negative number of dimensions");
  MLX_TRY(check_shape(shape, ndim, "normal"));
  int64_t* shape2 = malloc(sizeof(int64_t) * ((size_t)ndim + 1));
  if (!shape2) return mlx_error_(MLX_ERROR_MEMORY, "[normal] out of memory");
  if (ndim) memcpy(shape2, shape, sizeof(int64_t) * (size_t)ndim);
  shape2[ndim] = 2;
  temps t;
  temps_init(&t);
  mlx_array *pairs = &t.t[0], *z = &t.t[1], *c = &t.t[2], *zs = &t.t[3], *c2 = &t.t[4], *zl = &t.t[5];
  int rc = erfinv_samples(pairs, shape2, ndim + 1, key, s);
  free(shape2);
  if (!rc) rc = complex_pairs(z, *pairs, s);
  if (!rc && scale != 1.0) {
    rc = mlx_array_new_complex(c, (float)scale, 0.0f);
    if (!rc) rc = mlx_multiply(zs, *c, *z, s);
  } else if (!rc) {
    rc = mlx_array_set(zs, *z);
  }
  if (!rc && loc != 0.0) {
    rc = mlx_array_new_complex(c2, (float)loc, 0.0f);
    if (!rc) rc = mlx_add(zl, *c2, *zs, s);
  } else if (!rc) {
    rc = mlx_array_set(zl, *zs);
  }
  if (!rc) rc = mlx_array_set(res, *zl);
  temps_free(&t);
  return rc;
}

/* A scalar of a floating dtype made as upstream makes array(value, dtype)
 * from a Python float: exact in float64, else rounded to float32 first
 * (and from there to a half type), which can differ from rounding the
 * double straight to the half type. */
static int float_scalar(mlx_array* res, double v, mlx_dtype dtype) {
  return mlx_array_new_float(res, dtype == MLX_FLOAT64 ? v : (double)(float)v, dtype);
}

int mlx_random_normal(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, double loc, double scale,
                      const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(resolve_key(&k, key, "normal"));
  int rc;
  if (dtype == MLX_COMPLEX64) {
    rc = complex_normal(res, shape, ndim, loc, scale, k, s);
    mlx_array_free(k);
    return rc;
  }
  if (!mlx_dtype_is_floating(dtype)) {
    mlx_array_free(k);
    return mlx_error_(MLX_ERROR_DTYPE, "[normal] only floating point and complex64 types are supported");
  }
  /* Upstream's order: sqrt(2) (in dtype) times scale (in dtype) first,
   * then times astype(erfinv(u), dtype), then loc + that. A loc of 0 and a
   * scale of 1 are skipped, as upstream's float overload does. */
  temps t;
  temps_init(&t);
  mlx_array *e = &t.t[0], *sqrt2 = &t.t[1], *sc = &t.t[2], *factor = &t.t[3], *z = &t.t[4], *zs = &t.t[5];
  mlx_array *lc = &t.t[6], *zl = &t.t[7];
  rc = check_shape(shape, ndim, "normal");
  if (!rc) rc = erfinv_samples(e, shape, ndim, k, s);
  if (!rc) rc = float_scalar(sqrt2, sqrt(2.0), dtype);
  if (!rc && scale != 1.0) {
    rc = float_scalar(sc, scale, dtype);
    if (!rc) rc = mlx_multiply(factor, *sqrt2, *sc, s);
  } else if (!rc) {
    rc = mlx_array_set(factor, *sqrt2);
  }
  if (!rc) rc = mlx_astype(z, *e, dtype, s);
  if (!rc) rc = mlx_multiply(zs, *factor, *z, s);
  if (!rc && loc != 0.0) {
    rc = float_scalar(lc, loc, dtype);
    if (!rc) rc = mlx_add(zl, *lc, *zs, s);
  } else if (!rc) {
    rc = mlx_array_set(zl, *zs);
  }
  if (!rc) rc = mlx_array_set(res, *zl);
  temps_free(&t);
  mlx_array_free(k);
  return rc;
}

int mlx_random_randint(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim,
                       mlx_dtype dtype, const mlx_array key, const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(resolve_key(&k, key, "randint"));
  int rc = MLX_OK;
  if ((unsigned)dtype >= MLX_NUM_DTYPES || mlx_dtype_is_inexact(dtype))
    rc = mlx_error_(MLX_ERROR_DTYPE, "[randint] randint only accepts integer dtypes and bool");
  if (!rc) rc = mlx_check_array_(low, "randint");
  if (!rc) rc = mlx_check_array_(high, "randint");
  /* MLX 0.32's graph: clamp(astype(floor(uniform(low, high)), dtype),
   * astype(low, dtype), astype(high - 1, dtype)), the upper bound first;
   * the 1 is an int32 array, as in upstream's subtract(high, array(1)). */
  temps t;
  temps_init(&t);
  mlx_array *u = &t.t[0], *f = &t.t[1], *fi = &t.t[2], *one = &t.t[3], *hm1 = &t.t[4], *hm1d = &t.t[5];
  mlx_array *capped = &t.t[6], *lod = &t.t[7];
  if (!rc) rc = uniform_with_key(u, low, high, shape, ndim, MLX_FLOAT32, k, s, "randint");
  if (!rc) rc = mlx_floor(f, *u, s);
  if (!rc) rc = mlx_astype(fi, *f, dtype, s);
  if (!rc) rc = mlx_array_new_int(one, 1, MLX_INT32);
  if (!rc) rc = mlx_subtract(hm1, high, *one, s);
  if (!rc) rc = mlx_astype(hm1d, *hm1, dtype, s);
  if (!rc) rc = mlx_minimum(capped, *fi, *hm1d, s);
  if (!rc) rc = mlx_astype(lod, low, dtype, s);
  if (!rc) rc = mlx_maximum(res, *capped, *lod, s);
  temps_free(&t);
  mlx_array_free(k);
  return rc;
}

int mlx_random_bernoulli(mlx_array* res, const mlx_array p, const int64_t* shape, int ndim, const mlx_array key,
                         const mlx_stream s) {
  mlx_array k = mlx_array_new();
  MLX_TRY(resolve_key(&k, key, "bernoulli"));
  int rc = mlx_check_array_(p, "bernoulli");
  if (!rc && !mlx_dtype_is_floating(MLX_NODE(p)->dtype))
    rc = mlx_error_(MLX_ERROR_DTYPE, "[bernoulli] bernoulli probability `p` must be a float type");
  /* bits < p * upper, with upper the float32 just above UINT32_MAX, so
   * p >= 1 is always true and p <= 0 always false. */
  temps t;
  temps_init(&t);
  mlx_array *b = &t.t[0], *upper = &t.t[1], *q = &t.t[2], *out = &t.t[3];
  if (!rc) rc = bits_with_key(b, shape, ndim, 4, k, s, "bernoulli");
  if (!rc) rc = mlx_array_new_float(upper, nextafterf((float)UINT32_MAX, FLT_MAX), MLX_FLOAT32);
  if (!rc) rc = mlx_multiply(q, p, *upper, s);
  if (!rc) rc = mlx_less(out, *b, *q, s);
  if (!rc) {
    const int64_t* got = MLX_NODE(*out)->shape;
    int same = MLX_NODE(*out)->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = got[i] == shape[i];
    if (!same) rc = mlx_error_(MLX_ERROR_SHAPE, "[bernoulli] shape of `p` is incompatible with argument `shape`");
  }
  if (!rc) rc = mlx_array_set(res, *out);
  temps_free(&t);
  mlx_array_free(k);
  return rc;
}

/* ---- transform rules ------------------------------------------------------
 * Upstream's RandomBits vmap hashes a batch of keys in one node; our
 * kernel takes one key, so a batch of keys becomes one node per key,
 * stacked: the same numbers, since each key's stream is independent of
 * the others. */

/* Key b of a batch of keys (uint32 [B, 2] or [2, B], batch axis ax). */
static int key_at(mlx_array* res, const mlx_array keys, int ax, int64_t b, mlx_stream s) {
  int64_t start[2] = {0, 0}, stop[2] = {mlx_array_dim(keys, 0), mlx_array_dim(keys, 1)}, step[2] = {1, 1};
  start[ax] = b;
  stop[ax] = b + 1;
  mlx_array row = mlx_array_new();
  int rc = mlx_slice(&row, keys, start, stop, step, 2, s);
  if (rc == MLX_OK) rc = mlx_squeeze_axes(res, row, &ax, 1, s);
  mlx_array_free(row);
  return rc;
}

/* outs[i] (i < nout) = stack over the batch of what `draw` makes from each
 * key, along a new axis 0. */
typedef int (*draw_fn)(mlx_array* outs, const mlx_array key, const void* params, mlx_stream s);

static int per_key(mlx_array* outs, int* out_axes, int nout, const mlx_array keys, int ax, draw_fn draw,
                   const void* params, mlx_stream s) {
  /* nb > 0: vmap cannot map over an empty axis. */
  int64_t nb = mlx_array_dim(keys, ax);
  for (int i = 0; i < nout; i++) out_axes[i] = 0;
  mlx_array key = mlx_array_new(), drawn[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  mlx_array* parts = calloc((size_t)nb * (size_t)nout, sizeof *parts);
  if (!parts) return mlx_error_(MLX_ERROR_MEMORY, "[random] out of memory");
  for (int64_t b = 0; b < nb && rc == MLX_OK; b++) {
    rc = key_at(&key, keys, ax, b, s);
    if (rc == MLX_OK) rc = draw(drawn, key, params, s);
    for (int i = 0; i < nout && rc == MLX_OK; i++) rc = mlx_array_set(&parts[i * nb + b], drawn[i]);
  }
  for (int i = 0; i < nout && rc == MLX_OK; i++) rc = mlx_stack(&outs[i], parts + i * nb, (size_t)nb, 0, s);
  for (size_t i = 0; i < (size_t)nb * (size_t)nout; i++) mlx_array_free(parts[i]);
  free(parts);
  mlx_array_free(key), mlx_array_free(drawn[0]), mlx_array_free(drawn[1]);
  return rc;
}

static int draw_bits(mlx_array* outs, const mlx_array key, const void* params, mlx_stream s) {
  const int64_t* p = params;
  return bits_with_key(&outs[0], p + 2, (int)p[1], (int)p[0], key, s, "bits");
}

static int bits_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  return per_key(outs, out_axes, 1, inputs[0], in_axes[0], draw_bits, params, s);
}

static int draw_split(mlx_array* outs, const mlx_array key, const void* params, mlx_stream s) {
  return mlx_random_split(&outs[0], &outs[1], key, s);
}

static int split_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  return per_key(outs, out_axes, 2, inputs[0], in_axes[0], draw_split, params, s);
}

/* The pairs are the real and imaginary parts, so the cotangent of the
 * pairs is the cotangent's real and imaginary parts side by side. */
static int pairs_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
  int rc = mlx_real(&parts[0], cots[0], s);
  if (rc == MLX_OK) rc = mlx_imag(&parts[1], cots[0], s);
  if (rc == MLX_OK) rc = mlx_stack(&in_cots[0], parts, 2, -1, s);
  mlx_array_free(parts[0]), mlx_array_free(parts[1]);
  return rc;
}

static int pairs_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  mlx_array t = mlx_array_new();
  int rc = mlx_astype(&t, tangents[0], MLX_FLOAT32, s);
  if (rc == MLX_OK) rc = complex_pairs(&out_tans[0], t, s);
  mlx_array_free(t);
  return rc;
}

/* The pair axis must stay last: a batch axis there moves to the front. */
static int pairs_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  int ax = in_axes[0], last = mlx_array_ndim(inputs[0]) - 1;
  if (ax != last) {
    out_axes[0] = ax;
    return complex_pairs(&outs[0], inputs[0], s);
  }
  mlx_array front = mlx_array_new();
  int rc = mlx_moveaxis(&front, inputs[0], ax, 0, s);
  if (rc == MLX_OK) rc = complex_pairs(&outs[0], front, s);
  mlx_array_free(front);
  out_axes[0] = 0;
  return rc;
}

/* ---- shared with ops/random_dist.c ---------------------------------------- */

int mlx_random_resolve_key_(mlx_array* out, const mlx_array key, const char* op) {
  return resolve_key(out, key, op);
}

int mlx_random_check_shape_(const int64_t* shape, int ndim, const char* op) {
  return check_shape(shape, ndim, op);
}

int mlx_random_bits_key_(mlx_array* res, const int64_t* shape, int ndim, int width, const mlx_array key,
                         const mlx_stream s, const char* op) {
  return bits_with_key(res, shape, ndim, width, key, s, op);
}

int mlx_random_uniform_key_(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim,
                            mlx_dtype dtype, const mlx_array key, const mlx_stream s, const char* op) {
  return uniform_with_key(res, low, high, shape, ndim, dtype, key, s, op);
}
