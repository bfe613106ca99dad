/* Reductions: Native.<op>(a, axis, keepdims, stream) with axis nil (all
 * axes), an Integer or an Array of Integers; var/std take ddof; argmax/argmin
 * one Integer axis (nil = flattened); softmax(a, axis, precise, stream). */
#include "mlx_ext.h"

typedef int (*reduce_all_fn)(mlx_array*, const mlx_array, int, const mlx_stream);
typedef int (*reduce_axes_fn)(mlx_array*, const mlx_array, const int*, size_t, int, const mlx_stream);

static VALUE reduce(VALUE x, VALUE axis, VALUE keepdims, VALUE s, reduce_all_fn all, reduce_axes_fn axes_fn) {
  mlx_stream st = mlxrb_to_stream(s);
  int keep = RTEST(keepdims);
  long naxes = 0;
  VALUE keep_axes = Qnil;
  int* axes = NIL_P(axis) ? NULL : mlxrb_int_list(axis, &naxes, &keep_axes);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = axes ? axes_fn(slot, a.arr, axes, (size_t)naxes, keep, st) : all(slot, a.arr, keep, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep_axes);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

#define REDUCE_OPS(X) X(sum) X(mean) X(prod) X(max) X(min) X(all) X(any) X(logsumexp)

#define DEFINE_REDUCE(name)                                                         \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE s) { \
    return reduce(x, axis, keepdims, s, mlx_##name, mlx_##name##_axes);            \
  }
REDUCE_OPS(DEFINE_REDUCE)
#undef DEFINE_REDUCE

typedef int (*moment_all_fn)(mlx_array*, const mlx_array, int, int, const mlx_stream);
typedef int (*moment_axes_fn)(mlx_array*, const mlx_array, const int*, size_t, int, int, const mlx_stream);

static VALUE moment(VALUE x, VALUE axis, VALUE keepdims, VALUE ddof, VALUE s, moment_all_fn all,
                    moment_axes_fn axes_fn) {
  mlx_stream st = mlxrb_to_stream(s);
  int keep = RTEST(keepdims);
  int dd = NIL_P(ddof) ? 0 : mlxrb_to_int(ddof);
  long naxes = 0;
  VALUE keep_axes = Qnil;
  int* axes = NIL_P(axis) ? NULL : mlxrb_int_list(axis, &naxes, &keep_axes);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = axes ? axes_fn(slot, a.arr, axes, (size_t)naxes, keep, dd, st) : all(slot, a.arr, keep, dd, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep_axes);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_var(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE ddof, VALUE s) {
  return moment(x, axis, keepdims, ddof, s, mlx_var, mlx_var_axes);
}

static VALUE n_std(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE ddof, VALUE s) {
  return moment(x, axis, keepdims, ddof, s, mlx_std, mlx_std_axes);
}

typedef int (*arg_all_fn)(mlx_array*, const mlx_array, int, const mlx_stream);
typedef int (*arg_axis_fn)(mlx_array*, const mlx_array, int, int, const mlx_stream);

static VALUE arg_reduce(VALUE x, VALUE axis, VALUE keepdims, VALUE s, arg_all_fn all, arg_axis_fn one) {
  mlx_stream st = mlxrb_to_stream(s);
  int keep = RTEST(keepdims);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = NIL_P(axis) ? all(slot, a.arr, keep, st) : one(slot, a.arr, ax, keep, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_argmax(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE s) {
  return arg_reduce(x, axis, keepdims, s, mlx_argmax, mlx_argmax_axis);
}

static VALUE n_argmin(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE s) {
  return arg_reduce(x, axis, keepdims, s, mlx_argmin, mlx_argmin_axis);
}

/* Native.softmax(a, axis, precise, stream) */
static VALUE n_softmax(VALUE mod, VALUE x, VALUE axis, VALUE precise, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int prec = RTEST(precise);
  long naxes = 0;
  VALUE keep_axes = Qnil;
  int* axes = NIL_P(axis) ? NULL : mlxrb_int_list(axis, &naxes, &keep_axes);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = axes ? mlx_softmax_axes(slot, a.arr, axes, (size_t)naxes, prec, st) : mlx_softmax(slot, a.arr, prec, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep_axes);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_reduce(void) {
#define REGISTER_REDUCE(name) MLXRB_DEF(#name, n_##name, 4);
  REDUCE_OPS(REGISTER_REDUCE)
#undef REGISTER_REDUCE
  MLXRB_DEF("var", n_var, 5);
  MLXRB_DEF("std", n_std, 5);
  MLXRB_DEF("argmax", n_argmax, 4);
  MLXRB_DEF("argmin", n_argmin, 4);
  MLXRB_DEF("softmax", n_softmax, 4);
}
