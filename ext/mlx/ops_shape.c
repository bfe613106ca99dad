/* Shape and layout ops: reshape, flatten, transpose, squeeze, expand_dims,
 * broadcasting, concatenate/stack/split, moveaxis/swapaxes, pad, tile,
 * repeat, slice. Positional, stream last; lists of arrays are Ruby Arrays
 * of MLX::Core::Array (lib/ converts other array-likes). */
#include "mlx_ext.h"

static VALUE n_reshape(VALUE mod, VALUE x, VALUE shape, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_reshape(slot, a.arr, sh, nd, st));
}

static VALUE n_flatten(VALUE mod, VALUE x, VALUE start, VALUE end, VALUE s) {
  int sa = NIL_P(start) ? 0 : mlxrb_to_int(start);
  int ea = NIL_P(end) ? -1 : mlxrb_to_int(end);
  BEGIN_OP(x);
  END_OP(mlx_flatten(slot, a.arr, sa, ea, st));
}

static VALUE n_unflatten(VALUE mod, VALUE x, VALUE axis, VALUE shape, VALUE s) {
  int ax = mlxrb_to_int(axis);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_unflatten(slot, a.arr, ax, sh, nd, st));
}

/* axes nil reverses the axes. */
static VALUE n_transpose(VALUE mod, VALUE x, VALUE axes, VALUE s) {
  long n = 0;
  VALUE keep = Qnil;
  int* ax = NIL_P(axes) ? NULL : mlxrb_int_list(axes, &n, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_transpose(slot, a.arr, ax, (size_t)n, st));
}

/* axes nil squeezes every size-1 axis. */
static VALUE n_squeeze(VALUE mod, VALUE x, VALUE axes, VALUE s) {
  long n = 0;
  VALUE keep = Qnil;
  int* ax = NIL_P(axes) ? NULL : mlxrb_int_list(axes, &n, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(ax ? mlx_squeeze_axes(slot, a.arr, ax, (size_t)n, st) : mlx_squeeze(slot, a.arr, st));
}

static VALUE n_expand_dims(VALUE mod, VALUE x, VALUE axes, VALUE s) {
  long n = 0;
  VALUE keep;
  int* ax = mlxrb_int_list(axes, &n, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_expand_dims(slot, a.arr, ax, (size_t)n, st));
}

static VALUE n_broadcast_to(VALUE mod, VALUE x, VALUE shape, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_broadcast_to(slot, a.arr, sh, nd, st));
}

/* Native.broadcast_shapes(shape_a, shape_b) -> Array of Integer */
static VALUE n_broadcast_shapes(VALUE mod, VALUE sa, VALUE sb) {
  int na, nb, no;
  VALUE ka, kb;
  int64_t* a = mlxrb_shape(sa, &na, &ka);
  int64_t* b = mlxrb_shape(sb, &nb, &kb);
  VALUE ko = rb_str_buf_new((long)((na + nb + 1) * sizeof(int64_t)));
  int64_t* o = (int64_t*)RSTRING_PTR(ko);
  mlxrb_check(mlx_broadcast_shapes(o, &no, a, na, b, nb));
  VALUE res = rb_ary_new_capa(no);
  for (int i = 0; i < no; i++) rb_ary_push(res, LL2NUM(o[i]));
  RB_GC_GUARD(ka);
  RB_GC_GUARD(kb);
  RB_GC_GUARD(ko);
  return res;
}

typedef int (*join_fn)(mlx_array*, const mlx_array*, size_t, int, const mlx_stream);

static VALUE join(VALUE list, VALUE axis, VALUE s, join_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  int ax = mlxrb_to_int(axis);
  long n;
  VALUE keep;
  mlx_array* arrays = mlxrb_array_list(list, &n, &keep);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, arrays, (size_t)n, ax, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(list);
  return mlxrb_result_ready(out);
}

static VALUE n_concatenate(VALUE mod, VALUE list, VALUE axis, VALUE s) {
  return join(list, axis, s, mlx_concatenate);
}

static VALUE n_stack(VALUE mod, VALUE list, VALUE axis, VALUE s) {
  return join(list, axis, s, mlx_stack);
}

/* Native.split(a, sections_or_indices, axis, stream) -> Array of arrays.
 * An Integer splits into that many equal parts, an Array at the indices. */
static VALUE n_split(VALUE mod, VALUE x, VALUE spec, VALUE axis, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int ax = mlxrb_to_int(axis);
  int equal = RB_INTEGER_TYPE_P(spec);
  long nidx = 0, nout;
  VALUE keep_idx = Qnil;
  int64_t* idx = NULL;
  int64_t sections = 0;
  if (equal) {
    sections = NUM2LL(spec);
    if (sections <= 0 || sections > (1 << 24)) rb_raise(mlxrb_eArgumentError, "[split] invalid number of sections %lld", (long long)sections);
    nout = (long)sections;
  } else {
    idx = mlxrb_int64_list(spec, &nidx, &keep_idx);
    nout = nidx + 1;
  }
  /* Result objects first, then the engine writes into a scratch list
   * whose handles move into them: no raise can strand a handle. */
  VALUE results = rb_ary_new_capa(nout);
  VALUE keep_slots = rb_str_buf_new(nout * (long)sizeof(mlx_array*) + 1);
  mlx_array** slots = (mlx_array**)RSTRING_PTR(keep_slots);
  for (long i = 0; i < nout; i++) rb_ary_push(results, mlxrb_new_result(&slots[i]));
  VALUE keep_tmp = rb_str_buf_new(nout * (long)sizeof(mlx_array) + 1);
  mlx_array* tmp = (mlx_array*)RSTRING_PTR(keep_tmp);
  for (long i = 0; i < nout; i++) tmp[i] = mlx_array_new();
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = equal ? mlx_split_equal(tmp, a.arr, sections, ax, st) : mlx_split(tmp, a.arr, idx, (size_t)nidx, ax, st);
  mlxrb_operand_release(&a);
  if (rc == MLX_OK)
    for (long i = 0; i < nout; i++) *slots[i] = tmp[i];
  RB_GC_GUARD(keep_idx);
  RB_GC_GUARD(keep_slots);
  RB_GC_GUARD(keep_tmp);
  mlxrb_check(rc);
  for (long i = 0; i < nout; i++) mlxrb_result_ready(RARRAY_AREF(results, i));
  return results;
}

static VALUE n_moveaxis(VALUE mod, VALUE x, VALUE src, VALUE dst, VALUE s) {
  int sa = mlxrb_to_int(src), da = mlxrb_to_int(dst);
  BEGIN_OP(x);
  END_OP(mlx_moveaxis(slot, a.arr, sa, da, st));
}

static VALUE n_swapaxes(VALUE mod, VALUE x, VALUE a1, VALUE a2, VALUE s) {
  int x1 = mlxrb_to_int(a1), x2 = mlxrb_to_int(a2);
  BEGIN_OP(x);
  END_OP(mlx_swapaxes(slot, a.arr, x1, x2, st));
}

/* Native.pad(a, axes, lows, highs, pad_value, mode, stream): lib/ turns
 * NumPy-style pad widths into the three parallel lists. */
static VALUE n_pad(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 7, 7);
  VALUE x = argv[0], value = argv[4], mode = argv[5], s = argv[6];
  long naxes, nlow, nhigh;
  VALUE k1, k2, k3;
  int* axes = mlxrb_int_list(argv[1], &naxes, &k1);
  int64_t* lows = mlxrb_int64_list(argv[2], &nlow, &k2);
  int64_t* highs = mlxrb_int64_list(argv[3], &nhigh, &k3);
  if (nlow != naxes || nhigh != naxes) rb_raise(mlxrb_eArgumentError, "[pad] axes, lows and highs differ in length");
  const char* mode_s = StringValueCStr(mode);
  VALUE av = mlxrb_to_array_value(x, 0, MLX_FLOAT32);
  VALUE pv = mlxrb_weak_value(value, mlx_array_dtype(mlxrb_get(av)));
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_pad(slot, mlxrb_get(av), axes, lows, highs, (size_t)naxes, mlxrb_get(pv), mode_s, st));
  RB_GC_GUARD(k1);
  RB_GC_GUARD(k2);
  RB_GC_GUARD(k3);
  RB_GC_GUARD(mode);
  RB_GC_GUARD(av);
  RB_GC_GUARD(pv);
  return mlxrb_result_ready(out);
}

static VALUE n_tile(VALUE mod, VALUE x, VALUE reps, VALUE s) {
  long n;
  VALUE keep;
  int64_t* r = mlxrb_int64_list(reps, &n, &keep);
  BEGIN_OP(x);
  RB_GC_GUARD(keep);
  END_OP(mlx_tile(slot, a.arr, r, (size_t)n, st));
}

/* axis nil repeats the flattened array. */
static VALUE n_repeat(VALUE mod, VALUE x, VALUE repeats, VALUE axis, VALUE s) {
  if (!RB_INTEGER_TYPE_P(repeats)) rb_raise(rb_eTypeError, "[repeat] repeats must be an Integer");
  int64_t r = NUM2LL(repeats);
  int ax = NIL_P(axis) ? 0 : mlxrb_to_int(axis);
  BEGIN_OP(x);
  END_OP(NIL_P(axis) ? mlx_repeat_all(slot, a.arr, r, st) : mlx_repeat(slot, a.arr, r, ax, st));
}

/* Native.slice(a, start, stop, strides, stream): one entry per axis. */
static VALUE n_slice(VALUE mod, VALUE x, VALUE start, VALUE stop, VALUE strides, VALUE s) {
  long n1, n2, n3;
  VALUE k1, k2, k3;
  int64_t* b = mlxrb_int64_list(start, &n1, &k1);
  int64_t* e = mlxrb_int64_list(stop, &n2, &k2);
  int64_t* st_ = mlxrb_int64_list(strides, &n3, &k3);
  if (n1 != n2 || n1 != n3) rb_raise(mlxrb_eArgumentError, "[slice] start, stop and strides differ in length");
  BEGIN_OP(x);
  RB_GC_GUARD(k1);
  RB_GC_GUARD(k2);
  RB_GC_GUARD(k3);
  END_OP(mlx_slice(slot, a.arr, b, e, st_, (int)n1, st));
}

void mlxrb_init_ops_shape(void) {
  MLXRB_DEF("reshape", n_reshape, 3);
  MLXRB_DEF("flatten", n_flatten, 4);
  MLXRB_DEF("unflatten", n_unflatten, 4);
  MLXRB_DEF("transpose", n_transpose, 3);
  MLXRB_DEF("squeeze", n_squeeze, 3);
  MLXRB_DEF("expand_dims", n_expand_dims, 3);
  MLXRB_DEF("broadcast_to", n_broadcast_to, 3);
  MLXRB_DEF("broadcast_shapes", n_broadcast_shapes, 2);
  MLXRB_DEF("concatenate", n_concatenate, 3);
  MLXRB_DEF("stack", n_stack, 3);
  MLXRB_DEF("split", n_split, 4);
  MLXRB_DEF("moveaxis", n_moveaxis, 4);
  MLXRB_DEF("swapaxes", n_swapaxes, 4);
  MLXRB_DEF("pad", n_pad, -1);
  MLXRB_DEF("tile", n_tile, 3);
  MLXRB_DEF("repeat", n_repeat, 4);
  MLXRB_DEF("slice", n_slice, 5);
}
