/* Ruby data <-> engine arrays.
 *
 * Ruby to arrays follows Python MLX's rules for Python values:
 *   Integer -> int32 (int64 when outside the int32 range), Float -> float32,
 *   true/false -> bool, Complex -> complex64;
 *   nested Arrays -> the widest kind of their leaves (bool < int < float <
 *   complex), ints as int32 unless one needs int64; ragged -> ArgumentError,
 *   non-numeric -> TypeError; an explicit dtype converts (C casts).
 * Next to an MLX array a Ruby scalar is "weak": it takes the array's kind of
 * dtype (mlx_dtype_weak_scalar) and an Integer that does not fit an integer
 * dtype is an error, as in MLX.
 *
 * Raising discipline: conversions validate everything before they create an
 * engine handle; list buffers live in Ruby Strings so a raise leaks nothing. */
#include <limits.h>
#include <string.h>

#include "mlx_ext.h"

#define MAX_NDIM 64

enum { K_NONE = -1, K_BOOL = MLX_SCALAR_BOOL, K_INT = MLX_SCALAR_INT, K_FLOAT = MLX_SCALAR_FLOAT,
       K_COMPLEX = MLX_SCALAR_COMPLEX };

static ID id_array_from_nested;

/* The scalar kind of a Ruby value, or K_NONE. */
static int scalar_kind(VALUE v) {
  if (FIXNUM_P(v)) return K_INT;
  if (RB_FLOAT_TYPE_P(v)) return K_FLOAT;
  if (v == Qtrue || v == Qfalse) return K_BOOL;
  if (RB_TYPE_P(v, T_BIGNUM)) return K_INT;
  if (RB_TYPE_P(v, T_COMPLEX)) return K_COMPLEX;
  if (RB_TYPE_P(v, T_RATIONAL)) return K_FLOAT;
  return K_NONE;
}

/* Integer to int64: 0 on success, 1 if it does not fit. */
static int int_to_i64(VALUE v, int64_t* out) {
  if (FIXNUM_P(v)) {
    *out = FIX2LONG(v);
    return 0;
  }
  int64_t x;
  int r = rb_integer_pack(v, &x, 1, sizeof x, 0, INTEGER_PACK_LSWORD_FIRST | INTEGER_PACK_NATIVE_BYTE_ORDER | INTEGER_PACK_2COMP);
  if (r == 2 || r == -2) return 1;
  *out = x;
  return 0;
}

/* Non-negative Integer to uint64: 0 on success, 1 if it does not fit. */
static int int_to_u64(VALUE v, uint64_t* out) {
  if (FIXNUM_P(v)) {
    long x = FIX2LONG(v);
    if (x < 0) return 1;
    *out = (uint64_t)x;
    return 0;
  }
  if (rb_big_sign(v) == 0) return 1; /* negative bignum */
  uint64_t x;
  int r = rb_integer_pack(v, &x, 1, sizeof x, 0, INTEGER_PACK_LSWORD_FIRST | INTEGER_PACK_NATIVE_BYTE_ORDER);
  if (r == 2 || r == -2) return 1;
  *out = x;
  return 0;
}

static void complex_parts(VALUE v, double* re, double* im) {
  *re = NUM2DBL(rb_complex_real(v));
  *im = NUM2DBL(rb_complex_imag(v));
}

NORETURN(static void raise_int_range(VALUE v, const char* what));
static void raise_int_range(VALUE v, const char* what) {
  rb_raise(mlxrb_eArgumentError, "Converting %" PRIsVALUE " to %s would result in overflow.", v, what);
}

/* ---- scalars ------------------------------------------------------------- */

/* Range of an integer dtype, for weak-scalar overflow checks. */
static void int_dtype_range(mlx_dtype t, int64_t* lo, uint64_t* hi) {
  switch (t) {
    case MLX_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case MLX_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case MLX_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case MLX_UINT64: *lo = 0; *hi = UINT64_MAX; break;
    case MLX_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case MLX_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case MLX_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
  }
}

/* A scalar of kind k as an array of dtype t (C conversion of the value).
 * check_range: an Integer must fit an integer t (weak scalars). Raises only
 * before creating the handle. */
static int scalar_to(mlx_array* res, VALUE v, int k, mlx_dtype t, int check_range) {
  switch (k) {
    case K_BOOL:
      if (t == MLX_BOOL) return mlx_array_new_bool(res, v == Qtrue);
      return mlx_array_new_int(res, v == Qtrue, t);
    case K_INT: {
      int64_t i;
      if (mlx_dtype_is_integer(t) || t == MLX_BOOL) {
        if (t == MLX_UINT64) {
          uint64_t u;
          if (!int_to_u64(v, &u)) return mlx_array_new_uint(res, u, t);
          if (check_range || int_to_i64(v, &i)) raise_int_range(v, mlx_dtype_name(t));
          return mlx_array_new_int(res, i, t);
        }
        if (int_to_i64(v, &i)) raise_int_range(v, mlx_dtype_name(t));
        if (check_range && t != MLX_BOOL) {
          int64_t lo;
          uint64_t hi;
          int_dtype_range(t, &lo, &hi);
          if (i < lo || (i > 0 && (uint64_t)i > hi)) raise_int_range(v, mlx_dtype_name(t));
        }
        return mlx_array_new_int(res, i, t);
      }
      if (t == MLX_COMPLEX64) return mlx_array_new_complex(res, (float)NUM2DBL(v), 0.0f);
      if (int_to_i64(v, &i)) return mlx_array_new_float(res, NUM2DBL(v), t);
      return mlx_array_new_int(res, i, t);
    }
    case K_FLOAT:
      if (t == MLX_COMPLEX64) return mlx_array_new_complex(res, (float)NUM2DBL(v), 0.0f);
      return mlx_array_new_float(res, NUM2DBL(v), t);
    default: {
      double re, im;
      complex_parts(v, &re, &im);
      if (t == MLX_COMPLEX64) return mlx_array_new_complex(res, (float)re, (float)im);
      return mlx_array_new_float(res, re, t);
    }
  }
}

/* The dtype a scalar takes on its own. */
static mlx_dtype scalar_default_dtype(VALUE v, int k) {
  if (k == K_INT) {
    int64_t i;
    if (int_to_i64(v, &i)) raise_int_range(v, "int64");
    return i >= INT32_MIN && i <= INT32_MAX ? MLX_INT32 : MLX_INT64;
  }
  return mlx_dtype_scalar_default((mlx_scalar_kind)k);
}

/* ---- nested lists -------------------------------------------------------- */

typedef struct {
  int ndim;
  int64_t shape[MAX_NDIM];
  int kind;      /* widest leaf kind */
  int need_i64;  /* an Integer outside int32 */
  int big_int;   /* an Integer outside int64 */
  int has_array; /* a leaf is an MLX array: handled in Ruby */
} list_info;

NORETURN(static void raise_ragged(void));
static void raise_ragged(void) {
  rb_raise(mlxrb_eArgumentError, "Initialization encountered non-uniform length.");
}

/* Checks that v (at depth d) matches the shape and collects leaf kinds.
 * Recursion depth is bounded by the shape's rank (<= MAX_NDIM). */
static void scan(VALUE v, int d, list_info* info) {
  if (d == info->ndim) {
    if (RB_TYPE_P(v, T_ARRAY)) raise_ragged();
    int k = scalar_kind(v);
    if (k == K_NONE) {
      if (mlxrb_is_array(v)) {
        info->has_array = 1;
        return;
      }
      rb_raise(rb_eTypeError, "Invalid type %" PRIsVALUE " received in array initialization.", rb_obj_class(v));
    }
    if (k > info->kind) info->kind = k;
    if (k == K_INT && !FIXNUM_P(v)) {
      int64_t i;
      if (int_to_i64(v, &i)) info->big_int = 1;
      else if (i < INT32_MIN || i > INT32_MAX) info->need_i64 = 1;
    } else if (k == K_INT) {
      long i = FIX2LONG(v);
      if (i < INT32_MIN || i > INT32_MAX) info->need_i64 = 1;
    }
    return;
  }
  if (!RB_TYPE_P(v, T_ARRAY)) {
    if (mlxrb_is_array(v)) {
      info->has_array = 1;
      return;
    }
    raise_ragged();
  }
  long n = RARRAY_LEN(v);
  if (n != info->shape[d]) raise_ragged();
  for (long i = 0; i < n; i++) scan(RARRAY_AREF(v, i), d + 1, info);
}

/* Writes the leaves of a validated list into buf as `nat` elements. */
static char* fill(VALUE v, int d, const list_info* info, mlx_dtype nat, char* out) {
  if (d < info->ndim) {
    long n = RARRAY_LEN(v);
    for (long i = 0; i < n; i++) out = fill(RARRAY_AREF(v, i), d + 1, info, nat, out);
    return out;
  }
  int k = scalar_kind(v);
  switch (nat) {
    case MLX_BOOL: *(uint8_t*)out = v == Qtrue; return out + 1;
    case MLX_INT32: {
      int64_t i = 0;
      if (k == K_BOOL) i = v == Qtrue;
      else int_to_i64(v, &i);
      *(int32_t*)out = (int32_t)i;
      return out + 4;
    }
    case MLX_INT64: {
      int64_t i = 0;
      if (k == K_BOOL) i = v == Qtrue;
      else int_to_i64(v, &i);
      *(int64_t*)out = i;
      return out + 8;
    }
    case MLX_COMPLEX64: {
      double re, im = 0;
      if (k == K_COMPLEX) complex_parts(v, &re, &im);
      else if (k == K_BOOL) re = v == Qtrue;
      else re = NUM2DBL(v);
      float parts[2] = {(float)re, (float)im};
      memcpy(out, parts, sizeof parts);
      return out + 8;
    }
    default: {
      double x = k == K_BOOL ? (v == Qtrue) : NUM2DBL(v);
      if (nat == MLX_FLOAT32) {
        *(float*)out = (float)x;
        return out + 4;
      }
      *(double*)out = x;
      return out + 8;
    }
  }
}

/* A validated list into *res, of dtype `target` (or its natural dtype). */
static int list_to(mlx_array* res, VALUE list, const list_info* info, int has_dtype, mlx_dtype target) {
  mlx_dtype nat;
  switch (info->kind) {
    case K_BOOL: nat = MLX_BOOL; break;
    case K_INT: nat = info->need_i64 ? MLX_INT64 : MLX_INT32; break;
    case K_COMPLEX: nat = MLX_COMPLEX64; break;
    default: nat = MLX_FLOAT32; break;
  }
  if (has_dtype && nat != target) {
    /* Fill the widest C type of the kind, then let the engine cast: the
     * conversion follows the engine's casting rules exactly. */
    if (info->kind == K_FLOAT) nat = MLX_FLOAT64;
    else if (info->kind == K_INT) nat = target == MLX_INT32 && !info->need_i64 ? MLX_INT32 : MLX_INT64;
    else if (info->kind == K_BOOL && target != MLX_BOOL) nat = MLX_INT32;
  }
  if (info->kind == K_INT && info->big_int) rb_raise(mlxrb_eArgumentError, "integer in list out of the int64 range");
  int64_t size = 1;
  for (int i = 0; i < info->ndim; i++) size *= info->shape[i];
  size_t item = mlx_dtype_size(nat);
  VALUE buf = rb_str_buf_new((long)((size_t)size * item));
  fill(list, 0, info, nat, RSTRING_PTR(buf));
  int rc;
  if (!has_dtype || nat == target) {
    rc = mlx_array_new_data(res, RSTRING_PTR(buf), info->shape, info->ndim, nat);
  } else {
    mlx_array tmp = mlx_array_new();
    rc = mlx_array_new_data(&tmp, RSTRING_PTR(buf), info->shape, info->ndim, nat);
    if (rc == MLX_OK) rc = mlx_astype(res, tmp, target, MLX_DEFAULT_STREAM);
    mlx_array_free(tmp);
  }
  RB_GC_GUARD(buf);
  return rc;
}

static void list_shape(VALUE list, list_info* info) {
  memset(info, 0, sizeof *info);
  info->kind = K_BOOL;
  VALUE v = list;
  while (RB_TYPE_P(v, T_ARRAY)) {
    if (info->ndim == MAX_NDIM) rb_raise(mlxrb_eArgumentError, "list nested deeper than %d levels", MAX_NDIM);
    long n = RARRAY_LEN(v);
    info->shape[info->ndim++] = n;
    if (n == 0) break;
    v = RARRAY_AREF(v, 0);
  }
  scan(list, 0, info);
  /* An empty list holds no leaves: float32, as in MLX. */
  int64_t size = 1;
  for (int i = 0; i < info->ndim; i++) size *= info->shape[i];
  if (size == 0) info->kind = K_FLOAT;
}

/* ---- public conversions ------------------------------------------------- */

VALUE mlxrb_to_array_value(VALUE v, int has_dtype, mlx_dtype dtype) {
  mlx_array* slot;
  if (mlxrb_is_array(v)) {
    mlx_array a = mlxrb_get(v);
    if (!has_dtype || mlx_array_dtype(a) == dtype) return v;
    VALUE out = mlxrb_new_result(&slot);
    mlxrb_check(mlx_astype(slot, a, dtype, MLX_DEFAULT_STREAM));
    return mlxrb_result_ready(out);
  }
  int k = scalar_kind(v);
  if (k != K_NONE) {
    mlx_dtype t = has_dtype ? dtype : scalar_default_dtype(v, k);
    VALUE out = mlxrb_new_result(&slot);
    mlxrb_check(scalar_to(slot, v, k, t, 0));
    return mlxrb_result_ready(out);
  }
  if (RB_TYPE_P(v, T_ARRAY)) {
    list_info info;
    list_shape(v, &info);
    if (info.has_array)
      return rb_funcall(mlxrb_mCore, id_array_from_nested, 2, v, has_dtype ? mlxrb_dtype_value(dtype) : Qnil);
    VALUE out = mlxrb_new_result(&slot);
    mlxrb_check(list_to(slot, v, &info, has_dtype, dtype));
    return mlxrb_result_ready(out);
  }
  rb_raise(rb_eTypeError, "Invalid type %" PRIsVALUE " received in array initialization.", rb_obj_class(v));
}

void mlxrb_operand_get(mlxrb_operand* out, VALUE v) {
  out->owned = 0;
  if (mlxrb_is_array(v)) {
    out->arr = mlxrb_get(v);
    return;
  }
  int k = scalar_kind(v);
  if (k != K_NONE) {
    mlx_dtype t = scalar_default_dtype(v, k);
    out->arr = mlx_array_new();
    mlxrb_check(scalar_to(&out->arr, v, k, t, 0));
    out->owned = 1;
    return;
  }
  /* Lists become (GC-owned) MLX arrays; v is replaced on the caller's stack
   * by nothing, so keep the object reachable through the handle's owner. */
  VALUE arr = mlxrb_to_array_value(v, 0, MLX_FLOAT32);
  out->arr = mlx_array_new();
  mlx_array_set(&out->arr, mlxrb_get(arr));
  out->owned = 1;
  RB_GC_GUARD(arr);
}

/* Weak scalar operands (a Ruby Float or Fixnum beside an array) are kept
 * per (value, dtype) in a small direct-mapped cache: a training step
 * multiplies by the same few constants (betas, eps, scales) thousands of
 * times, and making a new array each time cost as much as recording the
 * op. Arrays are immutable and the cache holds a reference, so a cached
 * scalar is never donated or written. Used with the GVL held. */
#define WEAK_CACHE_BITS 6
#define WEAK_CACHE (1 << WEAK_CACHE_BITS)
static struct {
  uint64_t bits;
  int kind;
  mlx_dtype dtype;
  mlx_array arr;
} weak_cache[WEAK_CACHE];

/* The cache slot of (v, k, t) and its key bits in *bits, or -1 for a
 * value it does not keep (a Bignum, a Complex, true/false). */
static int weak_slot(VALUE v, int k, mlx_dtype t, uint64_t* bits) {
  if (k == K_FLOAT) {
    double d = RFLOAT_VALUE(v);
    memcpy(bits, &d, sizeof *bits);
  } else if (k == K_INT && FIXNUM_P(v)) {
    *bits = (uint64_t)FIX2LONG(v);
  } else {
    return -1;
  }
  uint64_t h = (*bits ^ (*bits >> 29) ^ ((uint64_t)t << 7) ^ (uint64_t)k) * 0x9E3779B97F4A7C15ull;
  return (int)(h >> (64 - WEAK_CACHE_BITS));
}

void mlxrb_operand_weak(mlxrb_operand* out, VALUE v, mlx_dtype like) {
  int k = scalar_kind(v);
  if (k == K_NONE) {
    mlxrb_operand_get(out, v);
    return;
  }
  out->owned = 0;
  mlx_dtype t = mlx_dtype_weak_scalar((mlx_scalar_kind)k, like);
  out->arr = mlx_array_new();
  uint64_t bits = 0;
  int i = weak_slot(v, k, t, &bits);
  if (i >= 0 && weak_cache[i].arr.ctx && weak_cache[i].bits == bits && weak_cache[i].kind == k &&
      weak_cache[i].dtype == t && mlx_array_set(&out->arr, weak_cache[i].arr) == MLX_OK) {
    out->owned = 1;
    return;
  }
  mlxrb_check(scalar_to(&out->arr, v, k, t, 1));
  out->owned = 1;
  if (i < 0) return;
  if (!weak_cache[i].arr.ctx) weak_cache[i].arr = mlx_array_new();
  if (mlx_array_set(&weak_cache[i].arr, out->arr) != MLX_OK) {
    mlx_clear_error();
    return;
  }
  weak_cache[i].bits = bits;
  weak_cache[i].kind = k;
  weak_cache[i].dtype = t;
}

VALUE mlxrb_weak_value(VALUE v, mlx_dtype like) {
  int k = scalar_kind(v);
  if (k == K_NONE) return mlxrb_to_array_value(v, 0, MLX_FLOAT32);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(scalar_to(slot, v, k, mlx_dtype_weak_scalar((mlx_scalar_kind)k, like), 1));
  return mlxrb_result_ready(out);
}

/* Lists to MLX arrays first: they may raise, and nothing is owned yet. */
static VALUE listify(VALUE v) {
  return RB_TYPE_P(v, T_ARRAY) ? mlxrb_to_array_value(v, 0, MLX_FLOAT32) : v;
}

void mlxrb_operands2(mlxrb_operand* x, mlxrb_operand* y, VALUE a, VALUE b) {
  a = listify(a);
  b = listify(b);
  int aa = mlxrb_is_array(a), ba = mlxrb_is_array(b);
  if (aa && ba) {
    x->arr = mlxrb_get(a), x->owned = 0;
    y->arr = mlxrb_get(b), y->owned = 0;
  } else if (aa) {
    x->arr = mlxrb_get(a), x->owned = 0;
    mlxrb_operand_weak(y, b, mlx_array_dtype(x->arr));
  } else if (ba) {
    y->arr = mlxrb_get(b), y->owned = 0;
    mlxrb_operand_weak(x, a, mlx_array_dtype(y->arr));
  } else {
    /* Two scalars: each validated (kind known) before any handle exists. */
    int ka = scalar_kind(a), kb = scalar_kind(b);
    if (ka == K_NONE)
      rb_raise(rb_eTypeError, "Invalid type %" PRIsVALUE " received in array initialization.", rb_obj_class(a));
    if (kb == K_NONE)
      rb_raise(rb_eTypeError, "Invalid type %" PRIsVALUE " received in array initialization.", rb_obj_class(b));
    mlx_dtype tb = scalar_default_dtype(b, kb);
    mlxrb_operand_get(x, a);
    y->owned = 0;
    y->arr = mlx_array_new();
    int rc = scalar_to(&y->arr, b, kb, tb, 0);
    if (rc) {
      mlxrb_operand_release(x);
      mlxrb_raise_status(rc);
    }
    y->owned = 1;
  }
  RB_GC_GUARD(a);
  RB_GC_GUARD(b);
}

void mlxrb_operands3(mlxrb_operand* c, mlxrb_operand* x, mlxrb_operand* y, VALUE vc, VALUE vx, VALUE vy) {
  vc = listify(vc);
  vx = listify(vx);
  vy = listify(vy);
  if (scalar_kind(vc) == K_NONE) mlxrb_get(vc); /* type check before owning anything */
  mlxrb_operands2(x, y, vx, vy);
  c->owned = 0;
  if (mlxrb_is_array(vc)) {
    c->arr = mlxrb_get(vc);
  } else {
    int k = scalar_kind(vc);
    c->arr = mlx_array_new();
    int rc = scalar_to(&c->arr, vc, k, k == K_INT ? MLX_INT32 : mlx_dtype_scalar_default((mlx_scalar_kind)k), 0);
    if (rc) {
      mlxrb_operand_release(x);
      mlxrb_operand_release(y);
      mlxrb_raise_status(rc);
    }
    c->owned = 1;
  }
  RB_GC_GUARD(vc);
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vy);
}

/* ---- Ruby lists of integers and arrays ---------------------------------- */

int mlxrb_to_int(VALUE v) {
  if (!RB_INTEGER_TYPE_P(v)) rb_raise(rb_eTypeError, "expected an Integer, got %" PRIsVALUE, rb_obj_class(v));
  return NUM2INT(v);
}

int64_t* mlxrb_int64_list(VALUE v, long* n, VALUE* keep) {
  if (RB_INTEGER_TYPE_P(v)) v = rb_ary_new_from_args(1, v);
  if (!RB_TYPE_P(v, T_ARRAY))
    rb_raise(rb_eTypeError, "expected an Array of Integers, got %" PRIsVALUE, rb_obj_class(v));
  long len = RARRAY_LEN(v);
  *keep = rb_str_buf_new(len * (long)sizeof(int64_t) + 1);
  int64_t* out = (int64_t*)RSTRING_PTR(*keep);
  for (long i = 0; i < len; i++) {
    VALUE e = RARRAY_AREF(v, i);
    if (!RB_INTEGER_TYPE_P(e)) rb_raise(rb_eTypeError, "expected an Integer, got %" PRIsVALUE, rb_obj_class(e));
    out[i] = NUM2LL(e);
  }
  *n = len;
  return out;
}

int* mlxrb_int_list(VALUE v, long* n, VALUE* keep) {
  if (RB_INTEGER_TYPE_P(v)) v = rb_ary_new_from_args(1, v);
  if (!RB_TYPE_P(v, T_ARRAY))
    rb_raise(rb_eTypeError, "expected an Integer or an Array of Integers, got %" PRIsVALUE, rb_obj_class(v));
  long len = RARRAY_LEN(v);
  *keep = rb_str_buf_new(len * (long)sizeof(int) + 1);
  int* out = (int*)RSTRING_PTR(*keep);
  for (long i = 0; i < len; i++) out[i] = mlxrb_to_int(RARRAY_AREF(v, i));
  *n = len;
  return out;
}

int64_t* mlxrb_shape(VALUE v, int* ndim, VALUE* keep) {
  long n;
  int64_t* s = mlxrb_int64_list(v, &n, keep);
  if (n > MAX_NDIM) rb_raise(mlxrb_eArgumentError, "shape has more than %d dimensions", MAX_NDIM);
  *ndim = (int)n;
  return s;
}

mlx_array* mlxrb_array_list(VALUE v, long* n, VALUE* keep) {
  if (!RB_TYPE_P(v, T_ARRAY))
    rb_raise(rb_eTypeError, "expected an Array of MLX::Core::Array, got %" PRIsVALUE, rb_obj_class(v));
  long len = RARRAY_LEN(v);
  *keep = rb_str_buf_new(len * (long)sizeof(mlx_array) + 1);
  mlx_array* out = (mlx_array*)RSTRING_PTR(*keep);
  for (long i = 0; i < len; i++) out[i] = mlxrb_get(RARRAY_AREF(v, i));
  *n = len;
  return out;
}

/* ---- arrays to Ruby ------------------------------------------------------ */

static VALUE element(const char* p, mlx_dtype t) {
  switch (t) {
    case MLX_BOOL: return *(const uint8_t*)p ? Qtrue : Qfalse;
    case MLX_UINT8: return INT2FIX(*(const uint8_t*)p);
    case MLX_UINT16: return INT2FIX(*(const uint16_t*)p);
    case MLX_UINT32: return UINT2NUM(*(const uint32_t*)p);
    case MLX_UINT64: return ULL2NUM(*(const uint64_t*)p);
    case MLX_INT8: return INT2FIX(*(const int8_t*)p);
    case MLX_INT16: return INT2FIX(*(const int16_t*)p);
    case MLX_INT32: return INT2NUM(*(const int32_t*)p);
    case MLX_INT64: return LL2NUM(*(const int64_t*)p);
    case MLX_FLOAT32: return DBL2NUM(*(const float*)p);
    case MLX_FLOAT64: return DBL2NUM(*(const double*)p);
    case MLX_COMPLEX64: {
      float parts[2];
      memcpy(parts, p, sizeof parts);
      return rb_Complex(DBL2NUM(parts[0]), DBL2NUM(parts[1]));
    }
    default: return Qnil; /* half types are converted to float32 first */
  }
}

static VALUE build(const char** p, const int64_t* shape, int ndim, int d, mlx_dtype t, size_t item) {
  long n = (long)shape[d];
  VALUE out = rb_ary_new_capa(n);
  for (long i = 0; i < n; i++) {
    if (d == ndim - 1) {
      rb_ary_push(out, element(*p, t));
      *p += item;
    } else {
      rb_ary_push(out, build(p, shape, ndim, d + 1, t, item));
    }
  }
  return out;
}

/* The elements of self, evaluated, row-major, in a Ruby String; half types
 * come back as float32 (*t tells the element type). */
static VALUE host_copy(VALUE self, mlx_dtype* t) {
  mlx_array a = mlxrb_get(self);
  *t = mlx_array_dtype(a);
  VALUE holder = self;
  if (*t == MLX_FLOAT16 || *t == MLX_BFLOAT16) {
    mlx_array* slot;
    holder = mlxrb_new_result(&slot);
    mlxrb_check(mlx_astype(slot, a, MLX_FLOAT32, MLX_DEFAULT_STREAM));
    a = *slot;
    *t = MLX_FLOAT32;
  }
  mlxrb_eval_value(holder);
  size_t nbytes = mlx_array_nbytes(a);
  VALUE buf = rb_str_buf_new((long)nbytes + 1);
  mlxrb_check(mlx_array_copy_to(RSTRING_PTR(buf), nbytes, a));
  RB_GC_GUARD(holder);
  return buf;
}

/* Array#to_a / #tolist: nested Ruby Arrays (a scalar for 0-d arrays). */
static VALUE array_to_a(VALUE self) {
  mlx_dtype t;
  VALUE buf = host_copy(self, &t);
  mlx_array a = mlxrb_get(self);
  const char* p = RSTRING_PTR(buf);
  int nd = mlx_array_ndim(a);
  VALUE out = nd == 0 ? element(p, t) : build(&p, mlx_array_shape(a), nd, 0, t, mlx_dtype_size(t));
  RB_GC_GUARD(buf);
  return out;
}

/* Array#to_flat_a: the elements in row-major order as one Ruby Array. */
static VALUE array_to_flat_a(VALUE self) {
  mlx_dtype t;
  VALUE buf = host_copy(self, &t);
  mlx_array a = mlxrb_get(self);
  const char* p = RSTRING_PTR(buf);
  int64_t n = mlx_array_size(a);
  VALUE out = rb_ary_new_capa((long)n);
  size_t item = mlx_dtype_size(t);
  for (int64_t i = 0; i < n; i++, p += item) rb_ary_push(out, element(p, t));
  RB_GC_GUARD(buf);
  return out;
}

/* Array#item: the value of a size-1 array as a Ruby scalar. */
static VALUE array_item(VALUE self) {
  mlx_array a = mlxrb_get(self);
  if (mlx_array_size(a) != 1)
    rb_raise(mlxrb_eArgumentError, "[item] only size-1 arrays can be converted to scalars (size is %lld)",
             (long long)mlx_array_size(a));
  mlxrb_eval_value(self);
  mlx_dtype t = mlx_array_dtype(a);
  if (t == MLX_BOOL) {
    int b;
    mlxrb_check(mlx_array_item_bool(&b, a));
    return b ? Qtrue : Qfalse;
  }
  if (t == MLX_UINT64) {
    uint64_t u;
    mlxrb_check(mlx_array_item_uint64(&u, a));
    return ULL2NUM(u);
  }
  if (mlx_dtype_is_integer(t)) {
    int64_t i;
    mlxrb_check(mlx_array_item_int64(&i, a));
    return LL2NUM(i);
  }
  if (t == MLX_COMPLEX64) {
    float re, im;
    mlxrb_check(mlx_array_item_complex(&re, &im, a));
    return rb_Complex(DBL2NUM(re), DBL2NUM(im));
  }
  double d;
  mlxrb_check(mlx_array_item_float64(&d, a));
  return DBL2NUM(d);
}

/* Array#to_binary: the raw row-major bytes (for tests and interop). */
static VALUE array_to_binary(VALUE self) {
  mlx_array a = mlxrb_get(self);
  mlxrb_eval_value(self);
  size_t nbytes = mlx_array_nbytes(a);
  VALUE buf = rb_str_new(NULL, (long)nbytes);
  mlxrb_check(mlx_array_copy_to(RSTRING_PTR(buf), nbytes, a));
  return buf;
}

/* Native.array(value, dtype_or_nil) */
static VALUE n_array(VALUE mod, VALUE v, VALUE dtype) {
  int has = !NIL_P(dtype);
  return mlxrb_to_array_value(v, has, has ? mlxrb_to_dtype(dtype) : MLX_FLOAT32);
}

/* Native.from_binary(bytes, shape, dtype): an array copying raw bytes. */
static VALUE n_from_binary(VALUE mod, VALUE bytes, VALUE shape, VALUE dtype) {
  StringValue(bytes);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  int64_t size = 1;
  for (int i = 0; i < nd; i++) {
    if (sh[i] < 0) rb_raise(mlxrb_eArgumentError, "negative dimension in shape");
    if (sh[i] && size > INT64_MAX / sh[i]) rb_raise(mlxrb_eArgumentError, "shape too large");
    size *= sh[i];
  }
  if ((uint64_t)RSTRING_LEN(bytes) != (uint64_t)size * mlx_dtype_size(t))
    rb_raise(mlxrb_eArgumentError, "%ld bytes do not hold %lld elements of %s", RSTRING_LEN(bytes), (long long)size,
             mlx_dtype_name(t));
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_array_new_data(slot, RSTRING_PTR(bytes), sh, nd, t));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(bytes);
  return mlxrb_result_ready(out);
}

void mlxrb_init_convert(void) {
  id_array_from_nested = rb_intern("array_from_nested");
  rb_define_method(mlxrb_cArray, "to_a", array_to_a, 0);
  rb_define_method(mlxrb_cArray, "tolist", array_to_a, 0);
  rb_define_method(mlxrb_cArray, "to_flat_a", array_to_flat_a, 0);
  rb_define_method(mlxrb_cArray, "item", array_item, 0);
  rb_define_method(mlxrb_cArray, "to_binary", array_to_binary, 0);
  MLXRB_DEF("array", n_array, 2);
  MLXRB_DEF("from_binary", n_from_binary, 3);
}
