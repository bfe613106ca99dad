/* Ruby glue of the engine's matmul family beyond matmul (mlx/matmul.h):
 * positional MLX::Native functions, stream last. x/y operands are
 * array-likes (MLX's default dtypes); a/b must be MLX::Core::Array (as in
 * the API reference); optional arrays are nil. */
#include "mlx_ext.h"
#include "mlx/matmul.h"

/* An array-like as an MLX::Core::Array VALUE (keep it on the stack). */
static VALUE arr(VALUE v) { return mlxrb_to_array_value(v, 0, MLX_FLOAT32); }

/* nil or an array-like: an empty handle or the array's (borrowed). */
static mlx_array opt_arr(VALUE v, VALUE* keep) {
  if (NIL_P(v)) {
    *keep = Qnil;
    return mlx_array_new();
  }
  *keep = arr(v);
  return mlxrb_get(*keep);
}

typedef int (*pair_fn)(mlx_array*, const mlx_array, const mlx_array, const mlx_stream);

static VALUE pair(VALUE x, VALUE y, VALUE s, pair_fn fn) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array a = mlxrb_get(x), b = mlxrb_get(y);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, a, b, st));
  return mlxrb_result_ready(out);
}

static VALUE n_inner(VALUE mod, VALUE a, VALUE b, VALUE s) { return pair(a, b, s, mlx_inner); }
static VALUE n_outer(VALUE mod, VALUE a, VALUE b, VALUE s) { return pair(a, b, s, mlx_outer); }
static VALUE n_kron(VALUE mod, VALUE a, VALUE b, VALUE s) { return pair(a, b, s, mlx_kron); }

static VALUE n_addmm(VALUE mod, VALUE c, VALUE x, VALUE y, VALUE alpha, VALUE beta, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  float al = (float)NUM2DBL(alpha), be = (float)NUM2DBL(beta);
  VALUE vc = arr(c), vx = arr(x), vy = arr(y);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_addmm(slot, mlxrb_get(vc), mlxrb_get(vx), mlxrb_get(vy), al, be, st));
  RB_GC_GUARD(vc);
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vy);
  return mlxrb_result_ready(out);
}

/* Native.rnn_tanh_steps(xw, whh_t, hidden or nil, stream): NN::RNN's
 * loop with the default tanh, recorded by the engine. */
static VALUE n_rnn_tanh_steps(VALUE mod, VALUE xw, VALUE whh_t, VALUE hidden, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE vx = arr(xw), vw = arr(whh_t), vh = NIL_P(hidden) ? Qnil : arr(hidden);
  mlx_array h = NIL_P(vh) ? mlx_array_new() : mlxrb_get(vh);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_rnn_tanh_steps(slot, mlxrb_get(vx), mlxrb_get(vw), NIL_P(vh) ? NULL : &h, st));
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vw);
  RB_GC_GUARD(vh);
  return mlxrb_result_ready(out);
}

/* axes: an Integer, or [lhs_axes, rhs_axes] (Integer Arrays, or Integers
 * for one axis each). */
static VALUE n_tensordot(VALUE mod, VALUE a, VALUE b, VALUE axes, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array x = mlxrb_get(a), y = mlxrb_get(b);
  mlx_array* slot;
  if (RB_INTEGER_TYPE_P(axes)) {
    int ax = mlxrb_to_int(axes);
    VALUE out = mlxrb_new_result(&slot);
    mlxrb_check(mlx_tensordot(slot, x, y, ax, st));
    return mlxrb_result_ready(out);
  }
  if (!RB_TYPE_P(axes, T_ARRAY) || RARRAY_LEN(axes) != 2)
    rb_raise(mlxrb_eArgumentError, "[tensordot] axes must be an Integer or a pair [lhs_axes, rhs_axes]");
  long na, nb;
  VALUE ka, kb;
  int* xa = mlxrb_int_list(rb_ary_entry(axes, 0), &na, &ka);
  int* xb = mlxrb_int_list(rb_ary_entry(axes, 1), &nb, &kb);
  if (na != nb) rb_raise(mlxrb_eArgumentError, "[tensordot] axes must have the same size.");
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_tensordot_axes(slot, x, y, xa, xb, (size_t)na, st));
  RB_GC_GUARD(ka);
  RB_GC_GUARD(kb);
  return mlxrb_result_ready(out);
}

static VALUE n_einsum(VALUE mod, VALUE subscripts, VALUE operands, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  const char* sub = StringValueCStr(subscripts);
  long n;
  VALUE keep;
  mlx_array* ops = mlxrb_array_list(operands, &n, &keep);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_einsum(slot, sub, ops, (size_t)n, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(operands);
  RB_GC_GUARD(subscripts);
  return mlxrb_result_ready(out);
}

/* -> [path (Array of Integer Arrays), summary String] */
static VALUE n_einsum_path(VALUE mod, VALUE subscripts, VALUE operands) {
  const char* sub = StringValueCStr(subscripts);
  long n;
  VALUE keep;
  mlx_array* ops = mlxrb_array_list(operands, &n, &keep);
  size_t cap_pos = (size_t)(n * n + 1), cap_sum = strlen(sub) + 256, nsteps = 0;
  VALUE kpos = rb_str_buf_new((long)(cap_pos * sizeof(int)));
  VALUE kcnt = rb_str_buf_new((long)((size_t)(n + 1) * sizeof(int)));
  VALUE ksum = rb_str_buf_new((long)cap_sum);
  int* pos = (int*)RSTRING_PTR(kpos);
  int* cnt = (int*)RSTRING_PTR(kcnt);
  char* summary = RSTRING_PTR(ksum);
  mlxrb_check(mlx_einsum_path(pos, cnt, &nsteps, summary, cap_sum, sub, ops, (size_t)n));
  VALUE path = rb_ary_new_capa((long)nsteps);
  int k = 0;
  for (size_t i = 0; i < nsteps; i++) {
    VALUE step = rb_ary_new_capa(cnt[i]);
    for (int j = 0; j < cnt[i]; j++) rb_ary_push(step, INT2NUM(pos[k++]));
    rb_ary_push(path, step);
  }
  VALUE str = rb_str_new_cstr(summary);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(operands);
  RB_GC_GUARD(subscripts);
  RB_GC_GUARD(kpos);
  RB_GC_GUARD(kcnt);
  RB_GC_GUARD(ksum);
  return rb_ary_new_from_args(2, path, str);
}

static VALUE n_block_masked_mm(VALUE mod, VALUE x, VALUE y, VALUE block_size, VALUE mask_out, VALUE mask_lhs,
                               VALUE mask_rhs, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int bs = mlxrb_to_int(block_size);
  VALUE vx = arr(x), vy = arr(y), ko, kl, kr;
  mlx_array mo = opt_arr(mask_out, &ko), ml = opt_arr(mask_lhs, &kl), mr = opt_arr(mask_rhs, &kr);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_block_masked_mm(slot, mlxrb_get(vx), mlxrb_get(vy), bs, mo, ml, mr, st));
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vy);
  RB_GC_GUARD(ko);
  RB_GC_GUARD(kl);
  RB_GC_GUARD(kr);
  return mlxrb_result_ready(out);
}

static VALUE n_gather_mm(VALUE mod, VALUE x, VALUE y, VALUE lhs, VALUE rhs, VALUE sorted, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE vx = arr(x), vy = arr(y), kl, kr;
  mlx_array li = opt_arr(lhs, &kl), ri = opt_arr(rhs, &kr);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_gather_mm(slot, mlxrb_get(vx), mlxrb_get(vy), li, ri, RTEST(sorted), st));
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vy);
  RB_GC_GUARD(kl);
  RB_GC_GUARD(kr);
  return mlxrb_result_ready(out);
}

static VALUE n_segmented_mm(VALUE mod, VALUE x, VALUE y, VALUE segments, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  VALUE vx = arr(x), vy = arr(y), vs = arr(segments);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_segmented_mm(slot, mlxrb_get(vx), mlxrb_get(vy), mlxrb_get(vs), st));
  RB_GC_GUARD(vx);
  RB_GC_GUARD(vy);
  RB_GC_GUARD(vs);
  return mlxrb_result_ready(out);
}

/* scale nil: 1 / sqrt(n). */
static VALUE n_hadamard_transform(VALUE mod, VALUE x, VALUE scale, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  int has = !NIL_P(scale);
  float sc = has ? (float)NUM2DBL(scale) : 0.0f;
  VALUE vx = arr(x);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_hadamard_transform(slot, mlxrb_get(vx), has, sc, st));
  RB_GC_GUARD(vx);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_matmul(void) {
  rb_define_module_function(mlxrb_mNative, "addmm", n_addmm, 6);
  rb_define_module_function(mlxrb_mNative, "rnn_tanh_steps", n_rnn_tanh_steps, 4);
  rb_define_module_function(mlxrb_mNative, "inner", n_inner, 3);
  rb_define_module_function(mlxrb_mNative, "outer", n_outer, 3);
  rb_define_module_function(mlxrb_mNative, "kron", n_kron, 3);
  rb_define_module_function(mlxrb_mNative, "tensordot", n_tensordot, 4);
  rb_define_module_function(mlxrb_mNative, "einsum", n_einsum, 3);
  rb_define_module_function(mlxrb_mNative, "einsum_path", n_einsum_path, 2);
  rb_define_module_function(mlxrb_mNative, "block_masked_mm", n_block_masked_mm, 7);
  rb_define_module_function(mlxrb_mNative, "gather_mm", n_gather_mm, 6);
  rb_define_module_function(mlxrb_mNative, "segmented_mm", n_segmented_mm, 4);
  rb_define_module_function(mlxrb_mNative, "hadamard_transform", n_hadamard_transform, 3);
}
