/* Ruby glue of the engine's conv ops (positional MLX::Native functions):
 * conv_general, conv_nd / conv_transpose_nd (1-3 spatial dims, the
 * number given by the length of the lists, which lib/ makes equal) and
 * convolve. Input and weight must be MLX::Core::Array, as in Python. */
#include "mlx_ext.h"
#include "mlx/conv.h"

/* An Integer list of exactly n entries (lib/ has expanded scalars). */
static const int* int_list_n(VALUE v, long n, VALUE* keep, const char* what) {
  long got;
  const int* out = mlxrb_int_list(v, &got, keep);
  if (got != n) rb_raise(mlxrb_eArgumentError, "%s needs %ld entries, got %ld", what, n, got);
  return out;
}

static VALUE n_conv_general(VALUE mod, VALUE input, VALUE weight, VALUE stride, VALUE pad_lo, VALUE pad_hi,
                            VALUE kernel_dilation, VALUE input_dilation, VALUE groups, VALUE flip, VALUE s) {
  long ns, nl, nh, nk, ni;
  VALUE k1, k2, k3, k4, k5;
  const int* st = mlxrb_int_list(stride, &ns, &k1);
  const int* lo = mlxrb_int_list(pad_lo, &nl, &k2);
  const int* hi = mlxrb_int_list(pad_hi, &nh, &k3);
  const int* kd = mlxrb_int_list(kernel_dilation, &nk, &k4);
  const int* id = mlxrb_int_list(input_dilation, &ni, &k5);
  int g = mlxrb_to_int(groups);
  mlx_array x = mlxrb_get(input), w = mlxrb_get(weight);
  mlx_stream stm = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_conv_general(slot, x, w, st, (size_t)ns, lo, (size_t)nl, hi, (size_t)nh, kd, (size_t)nk, id,
                            (size_t)ni, g, RTEST(flip), stm);
  RB_GC_GUARD(k1), RB_GC_GUARD(k2), RB_GC_GUARD(k3), RB_GC_GUARD(k4), RB_GC_GUARD(k5);
  RB_GC_GUARD(input), RB_GC_GUARD(weight);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_conv_nd(VALUE mod, VALUE input, VALUE weight, VALUE stride, VALUE padding, VALUE dilation,
                       VALUE groups, VALUE s) {
  long n;
  VALUE k1, k2, k3;
  const int* st = mlxrb_int_list(stride, &n, &k1);
  if (n < 1 || n > 3) rb_raise(mlxrb_eArgumentError, "conv: 1 to 3 spatial dims, got %ld", n);
  const int* pd = int_list_n(padding, n, &k2, "padding");
  const int* dl = int_list_n(dilation, n, &k3, "dilation");
  int g = mlxrb_to_int(groups);
  mlx_array x = mlxrb_get(input), w = mlxrb_get(weight);
  mlx_stream stm = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = n == 1   ? mlx_conv1d(slot, x, w, st[0], pd[0], dl[0], g, stm)
           : n == 2 ? mlx_conv2d(slot, x, w, st, pd, dl, g, stm)
                    : mlx_conv3d(slot, x, w, st, pd, dl, g, stm);
  RB_GC_GUARD(k1), RB_GC_GUARD(k2), RB_GC_GUARD(k3), RB_GC_GUARD(input), RB_GC_GUARD(weight);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_conv_transpose_nd(VALUE mod, VALUE input, VALUE weight, VALUE stride, VALUE padding, VALUE dilation,
                                 VALUE output_padding, VALUE groups, VALUE s) {
  long n;
  VALUE k1, k2, k3, k4;
  const int* st = mlxrb_int_list(stride, &n, &k1);
  if (n < 1 || n > 3) rb_raise(mlxrb_eArgumentError, "conv_transpose: 1 to 3 spatial dims, got %ld", n);
  const int* pd = int_list_n(padding, n, &k2, "padding");
  const int* dl = int_list_n(dilation, n, &k3, "dilation");
  const int* op = int_list_n(output_padding, n, &k4, "output_padding");
  int g = mlxrb_to_int(groups);
  mlx_array x = mlxrb_get(input), w = mlxrb_get(weight);
  mlx_stream stm = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = n == 1   ? mlx_conv_transpose1d(slot, x, w, st[0], pd[0], dl[0], op[0], g, stm)
           : n == 2 ? mlx_conv_transpose2d(slot, x, w, st, pd, dl, op, g, stm)
                    : mlx_conv_transpose3d(slot, x, w, st, pd, dl, op, g, stm);
  RB_GC_GUARD(k1), RB_GC_GUARD(k2), RB_GC_GUARD(k3), RB_GC_GUARD(k4), RB_GC_GUARD(input), RB_GC_GUARD(weight);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE n_convolve(VALUE mod, VALUE a, VALUE v, VALUE mode, VALUE s) {
  if (!RB_TYPE_P(mode, T_STRING)) rb_raise(rb_eTypeError, "convolve: mode must be a String");
  const char* m = StringValueCStr(mode);
  mlx_array x = mlxrb_get(a), y = mlxrb_get(v);
  mlx_stream stm = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = mlx_convolve(slot, x, y, m, stm);
  RB_GC_GUARD(mode), RB_GC_GUARD(a), RB_GC_GUARD(v);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

void mlxrb_init_ops_conv(void) {
  MLXRB_DEF("conv_general", n_conv_general, 10);
  MLXRB_DEF("conv_nd", n_conv_nd, 7);
  MLXRB_DEF("conv_transpose_nd", n_conv_transpose_nd, 8);
  MLXRB_DEF("convolve", n_convolve, 4);
}
