/* Binary elementwise ops, where, clip, matmul: Native.<op>(x, y, stream)
 * and the binary operators of MLX::Core::Array. A Ruby scalar next to an
 * array is weak (see convert.c). */
#include "mlx_ext.h"

typedef int (*binary_fn)(mlx_array*, const mlx_array, const mlx_array, const mlx_stream);

static VALUE binary(VALUE x, VALUE y, VALUE s, binary_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a, b;
  mlxrb_operands2(&a, &b, x, y);
  int rc = fn(slot, a.arr, b.arr, st);
  mlxrb_operand_release(&a);
  mlxrb_operand_release(&b);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* logical_and/logical_or take Ruby scalars at their own dtype (no weak
 * typing, so no overflow check): MLX's Python binding does the same, and
 * only truthiness matters to them. */
static VALUE binary_strong(VALUE x, VALUE y, VALUE s, binary_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE xv = mlxrb_to_array_value(x, 0, MLX_FLOAT32);
  VALUE yv = mlxrb_to_array_value(y, 0, MLX_FLOAT32);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, mlxrb_get(xv), mlxrb_get(yv), st));
  RB_GC_GUARD(xv);
  RB_GC_GUARD(yv);
  return mlxrb_result_ready(out);
}

static VALUE n_logical_and(VALUE mod, VALUE x, VALUE y, VALUE s) {
  return binary_strong(x, y, s, mlx_logical_and);
}

static VALUE n_logical_or(VALUE mod, VALUE x, VALUE y, VALUE s) {
  return binary_strong(x, y, s, mlx_logical_or);
}

#define BINARY_OPS(X)                                                                                   \
  X(add) X(subtract) X(multiply) X(divide) X(power) X(remainder) X(floor_divide) X(maximum) X(minimum) \
  X(logaddexp) X(arctan2) X(equal) X(not_equal) X(greater) X(greater_equal) X(less) X(less_equal)      \
  X(bitwise_and) X(bitwise_or) X(bitwise_xor) X(left_shift) X(right_shift) X(matmul)

#define DEFINE_BINARY(name) \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE y, VALUE s) { return binary(x, y, s, mlx_##name); }
BINARY_OPS(DEFINE_BINARY)
#undef DEFINE_BINARY

/* Operators: self is the left operand. */
#define OPERATORS(X)                                                                                    \
  X(add, add) X(sub, subtract) X(mul, multiply) X(div, divide) X(mod, remainder) X(pow, power)        \
  X(lt, less) X(le, less_equal) X(gt, greater) X(ge, greater_equal) X(and, bitwise_and)               \
  X(or, bitwise_or) X(xor, bitwise_xor) X(lshift, left_shift) X(rshift, right_shift) X(matmul, matmul)

#define DEFINE_OPERATOR(op, fn) \
  static VALUE array_##op(VALUE self, VALUE other) { return binary(self, other, Qnil, mlx_##fn); }
OPERATORS(DEFINE_OPERATOR)
#undef DEFINE_OPERATOR

/* Values == and != can compare against: anything else is simply unequal,
 * so `array == nil` is false instead of an error. */
static int comparable(VALUE v) {
  return mlxrb_is_array(v) || RB_INTEGER_TYPE_P(v) || RB_FLOAT_TYPE_P(v) || v == Qtrue || v == Qfalse ||
         RB_TYPE_P(v, T_COMPLEX) || RB_TYPE_P(v, T_RATIONAL) || RB_TYPE_P(v, T_ARRAY);
}

/* a == b is elementwise (a bool array), as in MLX. */
static VALUE array_eq(VALUE self, VALUE other) {
  if (!comparable(other)) return Qfalse;
  return binary(self, other, Qnil, mlx_equal);
}

static VALUE array_ne(VALUE self, VALUE other) {
  if (!comparable(other)) return Qtrue;
  return binary(self, other, Qnil, mlx_not_equal);
}

/* Native.where(cond, x, y, stream) */
static VALUE n_where(VALUE mod, VALUE c, VALUE x, VALUE y, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand oc, ox, oy;
  mlxrb_operands3(&oc, &ox, &oy, c, x, y);
  int rc = mlx_where(slot, oc.arr, ox.arr, oy.arr, st);
  mlxrb_operand_release(&oc);
  mlxrb_operand_release(&ox);
  mlxrb_operand_release(&oy);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.clip(a, a_min_or_nil, a_max_or_nil, stream): bounds are weak
 * next to a. The bounds become GC-owned arrays, so any raise leaks
 * nothing. */
static VALUE n_clip(VALUE mod, VALUE x, VALUE lo, VALUE hi, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  if (NIL_P(lo) && NIL_P(hi)) rb_raise(mlxrb_eArgumentError, "[clip] at least one of a_min and a_max must be given");
  VALUE av = mlxrb_to_array_value(x, 0, MLX_FLOAT32);
  mlx_dtype t = mlx_array_dtype(mlxrb_get(av));
  VALUE lov = NIL_P(lo) ? Qnil : mlxrb_weak_value(lo, t);
  VALUE hiv = NIL_P(hi) ? Qnil : mlxrb_weak_value(hi, t);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlx_array none = mlx_array_new();
  mlxrb_check(mlx_clip(slot, mlxrb_get(av), NIL_P(lov) ? none : mlxrb_get(lov), NIL_P(hiv) ? none : mlxrb_get(hiv), st));
  RB_GC_GUARD(av);
  RB_GC_GUARD(lov);
  RB_GC_GUARD(hiv);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_binary(void) {
#define REGISTER_BINARY(name) MLXRB_DEF(#name, n_##name, 3);
  BINARY_OPS(REGISTER_BINARY)
#undef REGISTER_BINARY
  MLXRB_DEF("logical_and", n_logical_and, 3);
  MLXRB_DEF("logical_or", n_logical_or, 3);
  MLXRB_DEF("where", n_where, 4);
  MLXRB_DEF("clip", n_clip, 4);
  rb_define_method(mlxrb_cArray, "+", array_add, 1);
  rb_define_method(mlxrb_cArray, "-", array_sub, 1);
  rb_define_method(mlxrb_cArray, "*", array_mul, 1);
  rb_define_method(mlxrb_cArray, "/", array_div, 1);
  rb_define_method(mlxrb_cArray, "%", array_mod, 1);
  rb_define_method(mlxrb_cArray, "**", array_pow, 1);
  rb_define_method(mlxrb_cArray, "<", array_lt, 1);
  rb_define_method(mlxrb_cArray, "<=", array_le, 1);
  rb_define_method(mlxrb_cArray, ">", array_gt, 1);
  rb_define_method(mlxrb_cArray, ">=", array_ge, 1);
  rb_define_method(mlxrb_cArray, "==", array_eq, 1);
  rb_define_method(mlxrb_cArray, "!=", array_ne, 1);
  rb_define_method(mlxrb_cArray, "&", array_and, 1);
  rb_define_method(mlxrb_cArray, "|", array_or, 1);
  rb_define_method(mlxrb_cArray, "^", array_xor, 1);
  rb_define_method(mlxrb_cArray, "<<", array_lshift, 1);
  rb_define_method(mlxrb_cArray, ">>", array_rshift, 1);
  rb_define_method(mlxrb_cArray, "matmul", array_matmul, 1);
}
