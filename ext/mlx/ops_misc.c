/* Strided views (as_strided, view, diagonal, diag, trace). Positional,
 * stream last. */
#include "mlx_ext.h"

static VALUE n_as_strided(VALUE mod, VALUE x, VALUE shape, VALUE strides, VALUE offset, VALUE s) {
  int nd;
  long ns;
  VALUE keep_shape, keep_strides;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep_shape);
  int64_t* str = mlxrb_int64_list(strides, &ns, &keep_strides);
  int64_t off = NUM2LL(offset);
  BEGIN_OP(x);
  RB_GC_GUARD(keep_shape);
  RB_GC_GUARD(keep_strides);
  END_OP(mlx_as_strided(slot, a.arr, sh, nd, str, (size_t)ns, off, st));
}

static VALUE n_view(VALUE mod, VALUE x, VALUE dtype, VALUE s) {
  mlx_dtype t = mlxrb_to_dtype(dtype);
  BEGIN_OP(x);
  END_OP(mlx_view(slot, a.arr, t, st));
}

static VALUE n_diagonal(VALUE mod, VALUE x, VALUE offset, VALUE axis1, VALUE axis2, VALUE s) {
  int64_t off = NUM2LL(offset);
  int a1 = mlxrb_to_int(axis1), a2 = mlxrb_to_int(axis2);
  BEGIN_OP(x);
  END_OP(mlx_diagonal(slot, a.arr, off, a1, a2, st));
}

static VALUE n_diag(VALUE mod, VALUE x, VALUE k, VALUE s) {
  int64_t kk = NUM2LL(k);
  BEGIN_OP(x);
  END_OP(mlx_diag(slot, a.arr, kk, st));
}

/* dtype nil: sum's result dtype. */
static VALUE n_trace(VALUE mod, VALUE x, VALUE offset, VALUE axis1, VALUE axis2, VALUE dtype, VALUE s) {
  int64_t off = NUM2LL(offset);
  int a1 = mlxrb_to_int(axis1), a2 = mlxrb_to_int(axis2);
  int has = !NIL_P(dtype);
  mlx_dtype t = has ? mlxrb_to_dtype(dtype) : MLX_FLOAT32;
  BEGIN_OP(x);
  END_OP(mlx_trace(slot, a.arr, off, a1, a2, has, t, st));
}

void mlxrb_init_ops_misc(void) {
  rb_define_module_function(mlxrb_mNative, "as_strided", n_as_strided, 5);
  rb_define_module_function(mlxrb_mNative, "view", n_view, 3);
  rb_define_module_function(mlxrb_mNative, "diagonal", n_diagonal, 5);
  rb_define_module_function(mlxrb_mNative, "diag", n_diag, 3);
  rb_define_module_function(mlxrb_mNative, "trace", n_trace, 6);
}
