/* Creation ops and dtype conversion: zeros/ones/full(_like), arange,
 * linspace, eye/identity/tri/tril/triu, astype, contiguous. Dtypes are
 * always passed explicitly by lib/ (which knows the defaults). */
#include "mlx_ext.h"

static VALUE n_zeros(VALUE mod, VALUE shape, VALUE dtype, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_zeros(slot, sh, nd, t, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

static VALUE n_ones(VALUE mod, VALUE shape, VALUE dtype, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_ones(slot, sh, nd, t, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

/* Native.full(shape, vals, dtype_or_nil, stream): nil dtype keeps vals'. */
static VALUE n_full(VALUE mod, VALUE shape, VALUE vals, VALUE dtype, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  mlx_stream st = mlxrb_to_stream(s);
  VALUE v = mlxrb_to_array_value(vals, 0, MLX_FLOAT32);
  mlx_array va = mlxrb_get(v);
  mlx_dtype t = NIL_P(dtype) ? mlx_array_dtype(va) : mlxrb_to_dtype(dtype);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_full(slot, sh, nd, va, t, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(v);
  return mlxrb_result_ready(out);
}

typedef int (*like_fn)(mlx_array*, const mlx_array, const mlx_stream);

static VALUE like(VALUE x, VALUE s, like_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, mlxrb_get(x), st));
  return mlxrb_result_ready(out);
}

static VALUE n_zeros_like(VALUE mod, VALUE x, VALUE s) {
  return like(x, s, mlx_zeros_like);
}

static VALUE n_ones_like(VALUE mod, VALUE x, VALUE s) {
  return like(x, s, mlx_ones_like);
}

static VALUE n_arange(VALUE mod, VALUE start, VALUE stop, VALUE step, VALUE dtype, VALUE s) {
  double a = NUM2DBL(start), b = NUM2DBL(stop), c = NUM2DBL(step);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_arange(slot, a, b, c, t, st));
  return mlxrb_result_ready(out);
}

static VALUE n_linspace(VALUE mod, VALUE start, VALUE stop, VALUE num, VALUE dtype, VALUE s) {
  double a = NUM2DBL(start), b = NUM2DBL(stop);
  if (!RB_INTEGER_TYPE_P(num)) rb_raise(rb_eTypeError, "[linspace] num must be an Integer");
  int64_t n = NUM2LL(num);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_linspace(slot, a, b, n, t, st));
  return mlxrb_result_ready(out);
}

static int64_t to_i64(VALUE v) {
  if (!RB_INTEGER_TYPE_P(v)) rb_raise(rb_eTypeError, "expected an Integer, got %" PRIsVALUE, rb_obj_class(v));
  return NUM2LL(v);
}

typedef int (*nmk_fn)(mlx_array*, int64_t, int64_t, int64_t, mlx_dtype, const mlx_stream);

static VALUE nmk(VALUE n, VALUE m, VALUE k, VALUE dtype, VALUE s, nmk_fn fn) {
  int64_t nn = to_i64(n), mm = NIL_P(m) ? nn : to_i64(m), kk = NIL_P(k) ? 0 : to_i64(k);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, nn, mm, kk, t, st));
  return mlxrb_result_ready(out);
}

static VALUE n_eye(VALUE mod, VALUE n, VALUE m, VALUE k, VALUE dtype, VALUE s) {
  return nmk(n, m, k, dtype, s, mlx_eye);
}

static VALUE n_tri(VALUE mod, VALUE n, VALUE m, VALUE k, VALUE dtype, VALUE s) {
  return nmk(n, m, k, dtype, s, mlx_tri);
}

static VALUE n_identity(VALUE mod, VALUE n, VALUE dtype, VALUE s) {
  int64_t nn = to_i64(n);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_identity(slot, nn, t, st));
  return mlxrb_result_ready(out);
}

typedef int (*tri_fn)(mlx_array*, const mlx_array, int64_t, const mlx_stream);

static VALUE tril_triu(VALUE x, VALUE k, VALUE s, tri_fn fn) {
  int64_t kk = NIL_P(k) ? 0 : to_i64(k);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, mlxrb_get(x), kk, st));
  return mlxrb_result_ready(out);
}

static VALUE n_tril(VALUE mod, VALUE x, VALUE k, VALUE s) {
  return tril_triu(x, k, s, mlx_tril);
}

static VALUE n_triu(VALUE mod, VALUE x, VALUE k, VALUE s) {
  return tril_triu(x, k, s, mlx_triu);
}

/* Native.astype(a, dtype, stream) */
static VALUE n_astype(VALUE mod, VALUE x, VALUE dtype, VALUE s) {
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = mlx_astype(slot, a.arr, t, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_contiguous(VALUE mod, VALUE x, VALUE allow_col_major, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_contiguous(slot, mlxrb_get(x), RTEST(allow_col_major), st));
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_creation(void) {
  MLXRB_DEF("zeros", n_zeros, 3);
  MLXRB_DEF("ones", n_ones, 3);
  MLXRB_DEF("full", n_full, 4);
  MLXRB_DEF("zeros_like", n_zeros_like, 2);
  MLXRB_DEF("ones_like", n_ones_like, 2);
  MLXRB_DEF("arange", n_arange, 5);
  MLXRB_DEF("linspace", n_linspace, 5);
  MLXRB_DEF("eye", n_eye, 5);
  MLXRB_DEF("tri", n_tri, 5);
  MLXRB_DEF("identity", n_identity, 3);
  MLXRB_DEF("tril", n_tril, 3);
  MLXRB_DEF("triu", n_triu, 3);
  MLXRB_DEF("astype", n_astype, 3);
  MLXRB_DEF("contiguous", n_contiguous, 3);
}
