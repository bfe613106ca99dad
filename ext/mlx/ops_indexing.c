/* Ruby glue of the engine's indexing ops (positional MLX::Native
 * functions, stream last): gather, scatter (with a reduction code), take,
 * take_along_axis, put_along_axis, slice_update. Index lists are Ruby
 * Arrays of MLX::Core::Array; lib/mlx/core/indexing.rb converts Ruby
 * values and implements Array#[] / []= / at on top. */
#include "mlx/indexing.h"
#include "mlx_ext.h"

/* Native.gather(a, indices, axes, slice_sizes, stream) */
static VALUE n_gather(VALUE mod, VALUE x, VALUE indices, VALUE axes, VALUE sizes, VALUE s) {
  long ni, na, ns;
  VALUE k1, k2, k3;
  mlx_array* idx = mlxrb_array_list(indices, &ni, &k1);
  int* ax = mlxrb_int_list(axes, &na, &k2);
  int64_t* sz = mlxrb_int64_list(sizes, &ns, &k3);
  if (ni != na) rb_raise(mlxrb_eArgumentError, "[gather] Number of index arrays does not match number of axes.");
  if (ns != mlx_array_ndim(mlxrb_get(x)))
    rb_raise(mlxrb_eArgumentError, "[gather] Got %ld slice sizes for an array with %d dimensions.", ns,
             mlx_array_ndim(mlxrb_get(x)));
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_gather(slot, mlxrb_get(x), idx, (size_t)ni, ax, sz, st);
  RB_GC_GUARD(k1);
  RB_GC_GUARD(k2);
  RB_GC_GUARD(k3);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.scatter(a, indices, updates, axes, mode, stream); mode 0 none,
 * 1 add, 2 prod, 3 max, 4 min. updates: any array-like (cast to a's
 * dtype by the engine). */
static VALUE n_scatter(VALUE mod, VALUE x, VALUE indices, VALUE updates, VALUE axes, VALUE mode, VALUE s) {
  long ni, na;
  VALUE k1, k2;
  mlx_array* idx = mlxrb_array_list(indices, &ni, &k1);
  int* ax = mlxrb_int_list(axes, &na, &k2);
  int m = mlxrb_to_int(mode);
  if (ni != na) rb_raise(mlxrb_eArgumentError, "[scatter] Number of index arrays does not match number of axes.");
  if (m < 0 || m > 4) rb_raise(mlxrb_eArgumentError, "[scatter] unknown reduction %d", m);
  mlx_array a = mlxrb_get(x);
  VALUE uv = mlxrb_weak_value(updates, mlx_array_dtype(a));
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int (*fns[])(mlx_array*, const mlx_array, const mlx_array*, size_t, const mlx_array, const int*,
               const mlx_stream) = {mlx_scatter, mlx_scatter_add, mlx_scatter_prod, mlx_scatter_max,
                                    mlx_scatter_min};
  int rc = fns[m](slot, a, idx, (size_t)ni, mlxrb_get(uv), ax, st);
  RB_GC_GUARD(k1);
  RB_GC_GUARD(k2);
  RB_GC_GUARD(uv);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.take(a, indices, axis, stream): axis nil takes from the
 * flattened array. indices: an array-like of integers. */
static VALUE n_take(VALUE mod, VALUE x, VALUE indices, VALUE axis, VALUE s) {
  mlx_array a = mlxrb_get(x);
  VALUE iv = mlxrb_to_array_value(indices, 0, MLX_INT32);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = NIL_P(axis) ? mlx_take_all(slot, a, mlxrb_get(iv), st) : mlx_take(slot, a, mlxrb_get(iv), ax, st);
  RB_GC_GUARD(iv);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.take_index(a, i, axis, stream): a's slice at Integer i along
 * axis (nil: of the flattened a), the axis dropped (mlx_take_index). */
static VALUE n_take_index(VALUE mod, VALUE x, VALUE index, VALUE axis, VALUE s) {
  mlx_array a = mlxrb_get(x);
  mlx_stream st = mlxrb_to_stream(s);
  int64_t i = NUM2LL(index);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_take_index(slot, a, i, NIL_P(axis) ? NULL : &ax, st));
  return mlxrb_result_ready(out);
}

/* Native.take_along_axis(a, indices, axis, stream) */
static VALUE n_take_along_axis(VALUE mod, VALUE x, VALUE indices, VALUE axis, VALUE s) {
  mlx_array a = mlxrb_get(x);
  int ax = mlxrb_to_int(axis);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_take_along_axis(slot, a, mlxrb_get(indices), ax, st));
  return mlxrb_result_ready(out);
}

/* Native.put_along_axis(a, indices, values, axis, stream); values is an
 * array-like, weak against a's dtype. */
static VALUE n_put_along_axis(VALUE mod, VALUE x, VALUE indices, VALUE values, VALUE axis, VALUE s) {
  mlx_array a = mlxrb_get(x);
  int ax = mlxrb_to_int(axis);
  VALUE vv = mlxrb_weak_value(values, mlx_array_dtype(a));
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_put_along_axis(slot, a, mlxrb_get(indices), mlxrb_get(vv), ax, st);
  RB_GC_GUARD(vv);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

/* Native.slice_update(src, update, start, stop, strides, stream): one
 * entry per axis; update is an array-like, weak against src's dtype. */
static VALUE n_slice_update(VALUE mod, VALUE x, VALUE update, VALUE start, VALUE stop, VALUE strides, VALUE s) {
  long n1, n2, n3;
  VALUE k1, k2, k3;
  int64_t* b = mlxrb_int64_list(start, &n1, &k1);
  int64_t* e = mlxrb_int64_list(stop, &n2, &k2);
  int64_t* sp = mlxrb_int64_list(strides, &n3, &k3);
  if (n1 != n2 || n1 != n3) rb_raise(mlxrb_eArgumentError, "[slice_update] start, stop and strides differ in length");
  mlx_array a = mlxrb_get(x);
  VALUE uv = mlxrb_weak_value(update, mlx_array_dtype(a));
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_slice_update(slot, a, mlxrb_get(uv), b, e, sp, (int)n1, st);
  RB_GC_GUARD(k1);
  RB_GC_GUARD(k2);
  RB_GC_GUARD(k3);
  RB_GC_GUARD(uv);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_indexing(void) {
  MLXRB_DEF("gather", n_gather, 5);
  MLXRB_DEF("scatter", n_scatter, 6);
  MLXRB_DEF("take", n_take, 4);
  MLXRB_DEF("take_index", n_take_index, 4);
  MLXRB_DEF("take_along_axis", n_take_along_axis, 4);
  MLXRB_DEF("put_along_axis", n_put_along_axis, 5);
  MLXRB_DEF("slice_update", n_slice_update, 6);
}
