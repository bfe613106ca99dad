/* Unary elementwise ops: Native.<op>(x, stream), x array-like, plus the
 * unary operators of MLX::Core::Array (-@, ~, abs). */
#include "mlx_ext.h"

typedef int (*unary_fn)(mlx_array*, const mlx_array, const mlx_stream);

/* Order matters for leak-free raising: the stream and the result object
 * first (they may raise), then the operand (it raises only before owning a
 * temporary), then the op. */
static VALUE unary(VALUE x, VALUE s, unary_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = fn(slot, a.arr, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

#define UNARY_OPS(X)                                                                                    \
  X(abs) X(negative) X(sign) X(sqrt) X(rsqrt) X(square) X(reciprocal) X(exp) X(expm1) X(log) X(log1p) \
  X(log2) X(log10) X(sin) X(cos) X(tan) X(arcsin) X(arccos) X(arctan) X(sinh) X(cosh) X(tanh)          \
  X(arcsinh) X(arccosh) X(arctanh) X(sigmoid) X(erf) X(erfinv) X(floor) X(ceil) X(degrees) X(radians)  \
  X(real) X(imag) X(conjugate) X(logical_not) X(bitwise_invert) X(isnan) X(isinf) X(isposinf)          \
  X(isneginf) X(isfinite) X(stop_gradient)

#define DEFINE_UNARY(name) \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE s) { return unary(x, s, mlx_##name); }
UNARY_OPS(DEFINE_UNARY)
#undef DEFINE_UNARY

/* Native.round(x, decimals, stream) */
static VALUE n_round(VALUE mod, VALUE x, VALUE decimals, VALUE s) {
  int d = NIL_P(decimals) ? 0 : mlxrb_to_int(decimals);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = mlx_round(slot, a.arr, d, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE array_neg(VALUE self) {
  return unary(self, Qnil, mlx_negative);
}

static VALUE array_pos(VALUE self) {
  mlxrb_get(self);
  return self;
}

/* ~a: bitwise invert, or logical not for bool arrays (as in MLX's Python
 * __invert__). */
static VALUE array_invert(VALUE self) {
  return unary(self, Qnil, mlx_array_dtype(mlxrb_get(self)) == MLX_BOOL ? mlx_logical_not : mlx_bitwise_invert);
}

static VALUE array_abs(VALUE self) {
  return unary(self, Qnil, mlx_abs);
}

void mlxrb_init_ops_unary(void) {
#define REGISTER_UNARY(name) MLXRB_DEF(#name, n_##name, 2);
  UNARY_OPS(REGISTER_UNARY)
#undef REGISTER_UNARY
  MLXRB_DEF("round", n_round, 3);
  rb_define_method(mlxrb_cArray, "-@", array_neg, 0);
  rb_define_method(mlxrb_cArray, "+@", array_pos, 0);
  rb_define_method(mlxrb_cArray, "~", array_invert, 0);
  rb_define_method(mlxrb_cArray, "abs", array_abs, 0);
}
