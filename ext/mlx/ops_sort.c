/* Ruby glue of the engine's sort, selection and scan ops (positional
 * MLX::Native functions, stream last):
 *   sort(a, axis, s), argsort(a, axis, s)            axis nil: flattened
 *   partition(a, kth, axis, s), argpartition(...)    axis nil: flattened
 *   topk(a, k, axis, s)                              axis nil: flattened
 *   median(a, axis, keepdims, s)                     axis nil / Int / Array
 *   searchsorted(sorted, values, right, s)
 *   cumsum / cumprod / cummax / cummin / logcumsumexp(a, axis, reverse,
 *     inclusive, s)                                  axis nil: flattened */
#include "mlx/sort.h"
#include "mlx_ext.h"

typedef int (*axis_fn)(mlx_array*, const mlx_array, int, const mlx_stream);
typedef int (*all_fn)(mlx_array*, const mlx_array, const mlx_stream);
typedef int (*kth_axis_fn)(mlx_array*, const mlx_array, int, int, const mlx_stream);
typedef int (*kth_all_fn)(mlx_array*, const mlx_array, int, const mlx_stream);
typedef int (*scan_fn)(mlx_array*, const mlx_array, int, int, int, const mlx_stream);

static VALUE sort_like(VALUE x, VALUE axis, VALUE s, axis_fn one, all_fn all) {
  mlx_stream st = mlxrb_to_stream(s);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = NIL_P(axis) ? all(slot, a.arr, st) : one(slot, a.arr, ax, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_sort(VALUE mod, VALUE x, VALUE axis, VALUE s) {
  return sort_like(x, axis, s, mlx_sort, mlx_sort_all);
}
static VALUE n_argsort(VALUE mod, VALUE x, VALUE axis, VALUE s) {
  return sort_like(x, axis, s, mlx_argsort, mlx_argsort_all);
}

static VALUE kth_like(VALUE x, VALUE kth, VALUE axis, VALUE s, kth_axis_fn one, kth_all_fn all) {
  mlx_stream st = mlxrb_to_stream(s);
  int k = mlxrb_to_int(kth);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = NIL_P(axis) ? all(slot, a.arr, k, st) : one(slot, a.arr, k, ax, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_partition(VALUE mod, VALUE x, VALUE kth, VALUE axis, VALUE s) {
  return kth_like(x, kth, axis, s, mlx_partition, mlx_partition_all);
}
static VALUE n_argpartition(VALUE mod, VALUE x, VALUE kth, VALUE axis, VALUE s) {
  return kth_like(x, kth, axis, s, mlx_argpartition, mlx_argpartition_all);
}
static VALUE n_topk(VALUE mod, VALUE x, VALUE k, VALUE axis, VALUE s) {
  return kth_like(x, k, axis, s, mlx_topk, mlx_topk_all);
}

static VALUE n_median(VALUE mod, VALUE x, VALUE axis, VALUE keepdims, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int keep = RTEST(keepdims);
  long naxes = 0;
  VALUE keep_axes = Qnil;
  int* axes = NIL_P(axis) ? NULL : mlxrb_int_list(axis, &naxes, &keep_axes);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = axes ? mlx_median_axes(slot, a.arr, axes, (size_t)naxes, keep, st) : mlx_median(slot, a.arr, keep, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep_axes);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_searchsorted(VALUE mod, VALUE seq, VALUE values, VALUE right, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a, v;
  mlxrb_operands2(&a, &v, seq, values);
  int rc = mlx_searchsorted(slot, a.arr, v.arr, RTEST(right), st);
  mlxrb_operand_release(&a);
  mlxrb_operand_release(&v);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* axis nil scans the flattened array (upstream's flatten, then axis 0). */
static VALUE scan(VALUE x, VALUE axis, VALUE reverse, VALUE inclusive, VALUE s, scan_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  int rev = RTEST(reverse), inc = NIL_P(inclusive) ? 1 : RTEST(inclusive);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc;
  if (NIL_P(axis)) {
    mlx_array f = mlx_array_new();
    int64_t n = mlx_array_size(a.arr);
    rc = mlx_reshape(&f, a.arr, &n, 1, st);
    if (!rc) rc = fn(slot, f, 0, rev, inc, st);
    mlx_array_free(f);
  } else {
    rc = fn(slot, a.arr, ax, rev, inc, st);
  }
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

#define SCAN_OPS(X) X(cumsum) X(cumprod) X(cummax) X(cummin) X(logcumsumexp)
#define DEFINE_SCAN(name)                                                                          \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE axis, VALUE reverse, VALUE inclusive, VALUE s) { \
    return scan(x, axis, reverse, inclusive, s, mlx_##name);                                        \
  }
SCAN_OPS(DEFINE_SCAN)
#undef DEFINE_SCAN

void mlxrb_init_ops_sort(void) {
  MLXRB_DEF("sort", n_sort, 3);
  MLXRB_DEF("argsort", n_argsort, 3);
  MLXRB_DEF("partition", n_partition, 4);
  MLXRB_DEF("argpartition", n_argpartition, 4);
  MLXRB_DEF("topk", n_topk, 4);
  MLXRB_DEF("median", n_median, 4);
  MLXRB_DEF("searchsorted", n_searchsorted, 4);
#define REGISTER_SCAN(name) MLXRB_DEF(#name, n_##name, 5);
  SCAN_OPS(REGISTER_SCAN)
#undef REGISTER_SCAN
}
