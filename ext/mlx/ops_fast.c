/* Ruby glue of the engine's fast ops (positional MLX::Native functions,
 * stream last; nil for an absent optional array). Array-likes convert as
 * everywhere else (lib/ handles keywords and the mask's String form). */
#include "mlx/fast.h"
#include "mlx_ext.h"

/* An optional array-like: nil stays empty. *keep holds the converted
 * object for the caller's RB_GC_GUARD. */
static mlx_array opt_array(VALUE v, VALUE* keep) {
  *keep = Qnil;
  if (NIL_P(v)) return mlx_array_new();
  *keep = mlxrb_to_array_value(v, 0, MLX_FLOAT32);
  return mlxrb_get(*keep);
}

static mlx_array req_array(VALUE v, VALUE* keep) {
  *keep = mlxrb_to_array_value(v, 0, MLX_FLOAT32);
  return mlxrb_get(*keep);
}

/* Native.fast_rms_norm(x, weight, eps, stream) */
static VALUE n_rms_norm(VALUE mod, VALUE x, VALUE weight, VALUE eps, VALUE s) {
  float e = (float)NUM2DBL(eps);
  mlx_stream st = mlxrb_to_stream(s);
  VALUE kx, kw;
  mlx_array xa = req_array(x, &kx), wa = opt_array(weight, &kw);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_fast_rms_norm(slot, xa, wa, e, st));
  RB_GC_GUARD(kx);
  RB_GC_GUARD(kw);
  return mlxrb_result_ready(out);
}

/* Native.fast_layer_norm(x, weight, bias, eps, stream) */
static VALUE n_layer_norm(VALUE mod, VALUE x, VALUE weight, VALUE bias, VALUE eps, VALUE s) {
  float e = (float)NUM2DBL(eps);
  mlx_stream st = mlxrb_to_stream(s);
  VALUE kx, kw, kb;
  mlx_array xa = req_array(x, &kx), wa = opt_array(weight, &kw), ba = opt_array(bias, &kb);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_fast_layer_norm(slot, xa, wa, ba, e, st));
  RB_GC_GUARD(kx);
  RB_GC_GUARD(kw);
  RB_GC_GUARD(kb);
  return mlxrb_result_ready(out);
}

/* Native.fast_rope(x, dims, traditional, base_or_nil, scale, offset,
 * freqs_or_nil, stream): an Integer offset is an int32 scalar. */
static VALUE n_rope(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 8, 8);
  int dims = mlxrb_to_int(argv[1]);
  int trad = RTEST(argv[2]);
  int has_base = !NIL_P(argv[3]);
  float base = has_base ? (float)NUM2DBL(argv[3]) : 0.0f;
  float scale = (float)NUM2DBL(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[7]);
  VALUE kx, ko = Qnil, kf;
  mlx_array xa = req_array(argv[0], &kx), fa = opt_array(argv[6], &kf);
  mlx_array off = mlx_array_new();
  int owned = 0;
  if (RB_INTEGER_TYPE_P(argv[5])) {
    long long v = NUM2LL(argv[5]);
    if (v < INT32_MIN || v > INT32_MAX) rb_raise(rb_eRangeError, "rope offset %lld out of int32 range", v);
    mlxrb_check(mlx_array_new_int(&off, v, MLX_INT32));
    owned = 1;
  } else {
    ko = mlxrb_to_array_value(argv[5], 0, MLX_INT32);
    off = mlxrb_get(ko);
  }
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_fast_rope(slot, xa, dims, trad, has_base, base, scale, off, fa, st);
  if (owned) mlx_array_free(off);
  mlxrb_check(rc);
  RB_GC_GUARD(kx);
  RB_GC_GUARD(ko);
  RB_GC_GUARD(kf);
  return mlxrb_result_ready(out);
}

/* Native.fast_sdpa(q, k, v, scale, mask_mode_or_nil, mask_or_nil,
 * sinks_or_nil, stream) */
static VALUE n_sdpa(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 8, 8);
  float scale = (float)NUM2DBL(argv[3]);
  const char* mode = NIL_P(argv[4]) ? NULL : StringValueCStr(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[7]);
  VALUE kq, kk, kv, km, ks;
  mlx_array q = req_array(argv[0], &kq), k = req_array(argv[1], &kk), v = req_array(argv[2], &kv);
  mlx_array m = opt_array(argv[5], &km), sk = opt_array(argv[6], &ks);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_fast_scaled_dot_product_attention(slot, q, k, v, scale, mode, m, sk, st));
  RB_GC_GUARD(kq);
  RB_GC_GUARD(kk);
  RB_GC_GUARD(kv);
  RB_GC_GUARD(km);
  RB_GC_GUARD(ks);
  RB_GC_GUARD(argv[4]);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_fast(void) {
  MLXRB_DEF("fast_rms_norm", n_rms_norm, 4);
  MLXRB_DEF("fast_layer_norm", n_layer_norm, 5);
  MLXRB_DEF("fast_rope", n_rope, -1);
  MLXRB_DEF("fast_sdpa", n_sdpa, -1);
}
