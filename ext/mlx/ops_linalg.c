/* Ruby glue of the engine's linalg ops (positional MLX::Native functions,
 * stream last) and of random multivariate_normal. Operands are array-likes
 * (converted with MLX's default dtypes); factorizations with several
 * results return Ruby Arrays. */
#include "mlx_ext.h"
#include "mlx/linalg.h"

/* An array-like as an MLX::Core::Array VALUE (keep it on the stack). */
static VALUE arr(VALUE v) { return mlxrb_to_array_value(v, 0, MLX_FLOAT32); }

/* n result objects whose slots the engine fills, then the Ruby Array of
 * them. Objects exist before the engine call, so no raise leaks a handle. */
static void new_results(int n, VALUE* objs, mlx_array** slots) {
  for (int i = 0; i < n; i++) objs[i] = mlxrb_new_result(&slots[i]);
}
static VALUE results_ready(int n, VALUE* objs) {
  VALUE list = rb_ary_new_capa(n);
  for (int i = 0; i < n; i++) rb_ary_push(list, mlxrb_result_ready(objs[i]));
  return list;
}

typedef int (*unary_fn)(mlx_array*, const mlx_array, const mlx_stream);
typedef int (*flag_fn)(mlx_array*, const mlx_array, int, const mlx_stream);

static VALUE one(VALUE x, VALUE s, unary_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return mlxrb_result_ready(out);
}

static VALUE one_flag(VALUE x, VALUE flag, VALUE s, flag_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, mlxrb_get(a), RTEST(flag), st));
  RB_GC_GUARD(a);
  return mlxrb_result_ready(out);
}

static VALUE n_inv(VALUE mod, VALUE x, VALUE s) { return one(x, s, mlx_linalg_inv); }
static VALUE n_pinv(VALUE mod, VALUE x, VALUE s) { return one(x, s, mlx_linalg_pinv); }
static VALUE n_det(VALUE mod, VALUE x, VALUE s) { return one(x, s, mlx_linalg_det); }
static VALUE n_eigvals(VALUE mod, VALUE x, VALUE s) { return one(x, s, mlx_linalg_eigvals); }
static VALUE n_tri_inv(VALUE mod, VALUE x, VALUE up, VALUE s) { return one_flag(x, up, s, mlx_linalg_tri_inv); }
static VALUE n_cholesky(VALUE mod, VALUE x, VALUE up, VALUE s) { return one_flag(x, up, s, mlx_linalg_cholesky); }
static VALUE n_cholesky_inv(VALUE mod, VALUE x, VALUE up, VALUE s) {
  return one_flag(x, up, s, mlx_linalg_cholesky_inv);
}

/* Native.norm(a, ord, axes, keepdims, stream): ord nil, Numeric or String;
 * axes nil, Integer or Array of Integer. */
static VALUE n_norm(VALUE mod, VALUE x, VALUE ord, VALUE axes, VALUE keepdims, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  long nax = 0;
  VALUE keep = Qnil;
  int* ax = NIL_P(axes) ? NULL : mlxrb_int_list(axes, &nax, &keep);
  const char* name = NULL;
  double o = 0;
  VALUE ostr = Qnil;
  if (RB_TYPE_P(ord, T_STRING) || SYMBOL_P(ord)) {
    ostr = SYMBOL_P(ord) ? rb_sym2str(ord) : ord;
    name = StringValueCStr(ostr);
  } else if (!NIL_P(ord)) {
    if (!rb_obj_is_kind_of(ord, rb_cNumeric) || RB_TYPE_P(ord, T_COMPLEX))
      rb_raise(rb_eTypeError, "[linalg::norm] ord must be nil, a real number or a String");
    o = NUM2DBL(ord);
  }
  VALUE a = arr(x);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  if (name) mlxrb_check(mlx_linalg_norm_str(slot, mlxrb_get(a), name, ax, (size_t)nax, RTEST(keepdims), st));
  else mlxrb_check(mlx_linalg_norm(slot, mlxrb_get(a), !NIL_P(ord), o, ax, (size_t)nax, RTEST(keepdims), st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(ostr);
  return mlxrb_result_ready(out);
}

static VALUE n_qr(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[2];
  mlx_array* slots[2];
  new_results(2, objs, slots);
  mlxrb_check(mlx_linalg_qr(slots[0], slots[1], mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return results_ready(2, objs);
}

/* Native.svd(a, compute_uv, stream): [u, s, vt], or s alone. */
static VALUE n_svd(VALUE mod, VALUE x, VALUE uv, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[3];
  mlx_array* slots[3];
  if (!RTEST(uv)) {
    new_results(1, objs, slots);
    mlxrb_check(mlx_linalg_svd(NULL, slots[0], NULL, mlxrb_get(a), 0, st));
    RB_GC_GUARD(a);
    return mlxrb_result_ready(objs[0]);
  }
  new_results(3, objs, slots);
  mlxrb_check(mlx_linalg_svd(slots[0], slots[1], slots[2], mlxrb_get(a), 1, st));
  RB_GC_GUARD(a);
  return results_ready(3, objs);
}

static VALUE n_lu(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[3];
  mlx_array* slots[3];
  new_results(3, objs, slots);
  mlxrb_check(mlx_linalg_lu(slots[0], slots[1], slots[2], mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return results_ready(3, objs);
}

static VALUE n_lu_factor(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[2];
  mlx_array* slots[2];
  new_results(2, objs, slots);
  mlxrb_check(mlx_linalg_lu_factor(slots[0], slots[1], mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return results_ready(2, objs);
}

static VALUE n_slogdet(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[2];
  mlx_array* slots[2];
  new_results(2, objs, slots);
  mlxrb_check(mlx_linalg_slogdet(slots[0], slots[1], mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return results_ready(2, objs);
}

static VALUE n_eig(VALUE mod, VALUE x, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), objs[2];
  mlx_array* slots[2];
  new_results(2, objs, slots);
  mlxrb_check(mlx_linalg_eig(slots[0], slots[1], mlxrb_get(a), st));
  RB_GC_GUARD(a);
  return results_ready(2, objs);
}

/* uplo: a String or Symbol ("L" / "U"). */
static const char* uplo_of(VALUE* v) {
  if (NIL_P(*v)) return "L";
  if (SYMBOL_P(*v)) *v = rb_sym2str(*v);
  return StringValueCStr(*v);
}

static VALUE n_eigh(VALUE mod, VALUE x, VALUE uplo, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  const char* u = uplo_of(&uplo);
  VALUE a = arr(x), objs[2];
  mlx_array* slots[2];
  new_results(2, objs, slots);
  mlxrb_check(mlx_linalg_eigh(slots[0], slots[1], mlxrb_get(a), u, st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(uplo);
  return results_ready(2, objs);
}

static VALUE n_eigvalsh(VALUE mod, VALUE x, VALUE uplo, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  const char* u = uplo_of(&uplo);
  VALUE a = arr(x);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_linalg_eigvalsh(slot, mlxrb_get(a), u, st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(uplo);
  return mlxrb_result_ready(out);
}

static VALUE n_solve(VALUE mod, VALUE x, VALUE y, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), b = arr(y);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_linalg_solve(slot, mlxrb_get(a), mlxrb_get(b), st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(b);
  return mlxrb_result_ready(out);
}

static VALUE n_solve_triangular(VALUE mod, VALUE x, VALUE y, VALUE up, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE a = arr(x), b = arr(y);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_linalg_solve_triangular(slot, mlxrb_get(a), mlxrb_get(b), RTEST(up), st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(b);
  return mlxrb_result_ready(out);
}

static VALUE n_cross(VALUE mod, VALUE x, VALUE y, VALUE axis, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int ax = mlxrb_to_int(axis);
  VALUE a = arr(x), b = arr(y);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_linalg_cross(slot, mlxrb_get(a), mlxrb_get(b), ax, st));
  RB_GC_GUARD(a);
  RB_GC_GUARD(b);
  return mlxrb_result_ready(out);
}

/* Native.multivariate_normal(mean, cov, shape, dtype, key, stream). */
static VALUE n_multivariate_normal(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 6, 6);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(argv[2], &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(argv[3]);
  mlx_array k = NIL_P(argv[4]) ? mlx_array_new() : mlxrb_get(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[5]);
  VALUE mean = arr(argv[0]), cov = arr(argv[1]);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_multivariate_normal(slot, mlxrb_get(mean), mlxrb_get(cov), sh, nd, t, k, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(mean);
  RB_GC_GUARD(cov);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_linalg(void) {
  VALUE m = mlxrb_mNative;
  rb_define_module_function(m, "norm", n_norm, 5);
  rb_define_module_function(m, "qr", n_qr, 2);
  rb_define_module_function(m, "svd", n_svd, 3);
  rb_define_module_function(m, "inv", n_inv, 2);
  rb_define_module_function(m, "pinv", n_pinv, 2);
  rb_define_module_function(m, "tri_inv", n_tri_inv, 3);
  rb_define_module_function(m, "cholesky", n_cholesky, 3);
  rb_define_module_function(m, "cholesky_inv", n_cholesky_inv, 3);
  rb_define_module_function(m, "lu", n_lu, 2);
  rb_define_module_function(m, "lu_factor", n_lu_factor, 2);
  rb_define_module_function(m, "solve", n_solve, 3);
  rb_define_module_function(m, "solve_triangular", n_solve_triangular, 4);
  rb_define_module_function(m, "cross", n_cross, 4);
  rb_define_module_function(m, "eig", n_eig, 2);
  rb_define_module_function(m, "eigvals", n_eigvals, 2);
  rb_define_module_function(m, "eigh", n_eigh, 3);
  rb_define_module_function(m, "eigvalsh", n_eigvalsh, 3);
  rb_define_module_function(m, "det", n_det, 2);
  rb_define_module_function(m, "slogdet", n_slogdet, 2);
  rb_define_module_function(m, "multivariate_normal", n_multivariate_normal, -1);
}
