/* Quantization: quantize, dequantize, quantized_matmul, gather_qmm, qqmm,
 * fp8 conversion. Positional, stream last; nil for optional arrays, 0 for
 * "the mode's default" group size and bits; modes as Strings. */
#include "mlx/quantize.h"
#include "mlx_ext.h"

/* nil or an MLX array (borrowed handle; empty for nil). */
static mlx_array optional_array(VALUE v) {
  mlx_array none = {NULL};
  return NIL_P(v) ? none : mlxrb_get(v);
}

static int int_or_zero(VALUE v) {
  return NIL_P(v) ? 0 : mlxrb_to_int(v);
}

static const char* mode_string(VALUE mode) {
  if (NIL_P(mode)) return "affine";
  Check_Type(mode, T_STRING);
  return StringValueCStr(mode);
}

/* Native.quantize(w, group_size, bits, mode, stream) -> [wq, scales(, biases)] */
static VALUE n_quantize(VALUE mod, VALUE w, VALUE gs, VALUE bits, VALUE mode, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int g = int_or_zero(gs), b = int_or_zero(bits);
  const char* m = mode_string(mode);
  mlx_array wa = mlxrb_get(w);
  mlx_array tmp[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int n = 0;
  int rc = mlx_quantize(tmp, &n, wa, g, b, m, st);
  if (rc != MLX_OK) {
    for (int i = 0; i < 3; i++) mlx_array_free(tmp[i]);
    mlxrb_check(rc);
  }
  VALUE results = rb_ary_new_capa(n);
  for (int i = 0; i < n; i++) {
    mlx_array* slot;
    VALUE obj = mlxrb_new_result(&slot);
    *slot = tmp[i];
    tmp[i] = mlx_array_new();
    rb_ary_push(results, mlxrb_result_ready(obj));
  }
  for (int i = 0; i < 3; i++) mlx_array_free(tmp[i]);
  return results;
}

/* Native.dequantize(w, scales, biases, group_size, bits, mode, dtype, stream) */
static VALUE n_dequantize(VALUE mod, VALUE w, VALUE scales, VALUE biases, VALUE gs, VALUE bits, VALUE mode,
                          VALUE dtype, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int has = !NIL_P(dtype);
  mlx_dtype t = has ? mlxrb_to_dtype(dtype) : MLX_FLOAT32;
  const char* m = mode_string(mode);
  mlx_array wa = mlxrb_get(w), sa = mlxrb_get(scales), ba = optional_array(biases);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_dequantize(slot, wa, sa, ba, int_or_zero(gs), int_or_zero(bits), m, has, t, st));
  return mlxrb_result_ready(out);
}

/* Native.quantized_matmul(x, w, scales, biases, transpose, group_size, bits, mode, stream) */
static VALUE n_quantized_matmul(VALUE mod, VALUE x, VALUE w, VALUE scales, VALUE biases, VALUE transpose, VALUE gs,
                                VALUE bits, VALUE mode, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  const char* m = mode_string(mode);
  mlx_array wa = mlxrb_get(w), sa = mlxrb_get(scales), ba = optional_array(biases);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand xa;
  mlxrb_operand_get(&xa, x);
  int rc = mlx_quantized_matmul(slot, xa.arr, wa, sa, ba, RTEST(transpose), int_or_zero(gs), int_or_zero(bits), m, st);
  mlxrb_operand_release(&xa);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.gather_qmm(x, w, scales, biases, lhs, rhs, transpose, group_size, bits, mode, sorted, stream) */
static VALUE n_gather_qmm(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 12, 12);
  mlx_stream st = mlxrb_to_stream(argv[11]);
  const char* m = mode_string(argv[9]);
  mlx_array wa = mlxrb_get(argv[1]), sa = mlxrb_get(argv[2]), ba = optional_array(argv[3]);
  mlx_array li = optional_array(argv[4]), ri = optional_array(argv[5]);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand xa;
  mlxrb_operand_get(&xa, argv[0]);
  int rc = mlx_gather_qmm(slot, xa.arr, wa, sa, ba, li, ri, RTEST(argv[6]), int_or_zero(argv[7]), int_or_zero(argv[8]),
                          m, RTEST(argv[10]), st);
  mlxrb_operand_release(&xa);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.qqmm(x, w, scales, group_size, bits, mode, stream) */
static VALUE n_qqmm(VALUE mod, VALUE x, VALUE w, VALUE scales, VALUE gs, VALUE bits, VALUE mode, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  const char* m = NIL_P(mode) ? "nvfp4" : mode_string(mode);
  mlx_array xa = mlxrb_get(x), wa = mlxrb_get(w), sa = optional_array(scales);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_qqmm(slot, xa, wa, sa, int_or_zero(gs), int_or_zero(bits), m, st));
  return mlxrb_result_ready(out);
}

static VALUE n_to_fp8(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand xa;
  mlxrb_operand_get(&xa, x);
  int rc = mlx_to_fp8(slot, xa.arr, st);
  mlxrb_operand_release(&xa);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_from_fp8(VALUE mod, VALUE x, VALUE dtype, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_dtype t = NIL_P(dtype) ? MLX_BFLOAT16 : mlxrb_to_dtype(dtype);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand xa;
  mlxrb_operand_get(&xa, x);
  int rc = mlx_from_fp8(slot, xa.arr, t, st);
  mlxrb_operand_release(&xa);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_quantize(void) {
  rb_define_module_function(mlxrb_mNative, "quantize", n_quantize, 5);
  rb_define_module_function(mlxrb_mNative, "dequantize", n_dequantize, 8);
  rb_define_module_function(mlxrb_mNative, "quantized_matmul", n_quantized_matmul, 9);
  rb_define_module_function(mlxrb_mNative, "gather_qmm", n_gather_qmm, -1);
  rb_define_module_function(mlxrb_mNative, "qqmm", n_qqmm, 7);
  rb_define_module_function(mlxrb_mNative, "to_fp8", n_to_fp8, 2);
  rb_define_module_function(mlxrb_mNative, "from_fp8", n_from_fp8, 3);
}
