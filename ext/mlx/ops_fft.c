/* Ruby glue of the engine's fft ops (positional MLX::Native functions,
 * stream last):
 *   fft/ifft/rfft/irfft(x, n_or_nil, axis, norm, stream)
 *   fft2/.../irfftn(x, sizes_or_nil, axes_or_nil, norm, stream)
 *   fftshift/ifftshift(x, axes_or_nil, stream)
 *   fftfreq/rfftfreq(n, d, stream)
 * norm: nil, or "backward"/"ortho"/"forward" as a String or Symbol. */
#include "mlx/fft.h"
#include "mlx_ext.h"

typedef int (*fft1_fn)(mlx_array*, const mlx_array, const int64_t*, int, mlx_fft_norm, const mlx_stream);
typedef int (*fftn_fn)(mlx_array*, const mlx_array, const int64_t*, size_t, const int*, size_t, mlx_fft_norm,
                       const mlx_stream);
typedef int (*shift_fn)(mlx_array*, const mlx_array, const int*, size_t, const mlx_stream);

static mlx_fft_norm to_norm(VALUE v) {
  mlx_fft_norm norm = MLX_FFT_NORM_BACKWARD;
  if (NIL_P(v)) return norm;
  if (RB_SYMBOL_P(v)) v = rb_sym2str(v);
  if (!RB_TYPE_P(v, T_STRING)) rb_raise(rb_eTypeError, "norm must be a String or Symbol, got %" PRIsVALUE, rb_obj_class(v));
  mlxrb_check(mlx_fft_norm_parse(&norm, StringValueCStr(v)));
  return norm;
}

static VALUE fft1(VALUE x, VALUE n, VALUE axis, VALUE norm, VALUE s, fft1_fn fn) {
  mlx_fft_norm nm = to_norm(norm);
  int64_t nv = 0;
  if (!NIL_P(n)) {
    if (!RB_INTEGER_TYPE_P(n)) rb_raise(rb_eTypeError, "n must be an Integer, got %" PRIsVALUE, rb_obj_class(n));
    nv = NUM2LL(n);
  }
  int ax = mlxrb_to_int(axis);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = fn(slot, a.arr, NIL_P(n) ? NULL : &nv, ax, nm, st);
  mlxrb_operand_release(&a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE fftn(VALUE x, VALUE sizes, VALUE axes, VALUE norm, VALUE s, fftn_fn fn) {
  mlx_fft_norm nm = to_norm(norm);
  long nn = 0, na = 0;
  VALUE keep_n = Qnil, keep_a = Qnil;
  int64_t* n = NIL_P(sizes) ? NULL : mlxrb_int64_list(sizes, &nn, &keep_n);
  int* ax = NIL_P(axes) ? NULL : mlxrb_int_list(axes, &na, &keep_a);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = fn(slot, a.arr, n, (size_t)nn, ax, (size_t)na, nm, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep_n);
  RB_GC_GUARD(keep_a);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

static VALUE shift(VALUE x, VALUE axes, VALUE s, shift_fn fn) {
  long na = 0;
  VALUE keep = Qnil;
  int* ax = NIL_P(axes) ? NULL : mlxrb_int_list(axes, &na, &keep);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_operand a;
  mlxrb_operand_get(&a, x);
  int rc = fn(slot, a.arr, ax, (size_t)na, st);
  mlxrb_operand_release(&a);
  RB_GC_GUARD(keep);
  mlxrb_check(rc);
  return mlxrb_result_ready(out);
}

#define FFT1(name)                                                                    \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE n, VALUE axis, VALUE norm, VALUE s) { \
    return fft1(x, n, axis, norm, s, mlx_##name);                                     \
  }
#define FFTN(name)                                                                      \
  static VALUE n_##name(VALUE mod, VALUE x, VALUE sizes, VALUE axes, VALUE norm, VALUE s) { \
    return fftn(x, sizes, axes, norm, s, mlx_##name);                                   \
  }
FFT1(fft)
FFT1(ifft)
FFT1(rfft)
FFT1(irfft)
FFTN(fft2)
FFTN(ifft2)
FFTN(rfft2)
FFTN(irfft2)
FFTN(fftn)
FFTN(ifftn)
FFTN(rfftn)
FFTN(irfftn)

static VALUE n_fftshift(VALUE mod, VALUE x, VALUE axes, VALUE s) {
  return shift(x, axes, s, mlx_fftshift);
}

static VALUE n_ifftshift(VALUE mod, VALUE x, VALUE axes, VALUE s) {
  return shift(x, axes, s, mlx_ifftshift);
}

typedef int (*freq_fn)(mlx_array*, int64_t, double, const mlx_stream);

static VALUE freq(VALUE n, VALUE d, VALUE s, freq_fn fn) {
  if (!RB_INTEGER_TYPE_P(n)) rb_raise(rb_eTypeError, "n must be an Integer, got %" PRIsVALUE, rb_obj_class(n));
  int64_t nv = NUM2LL(n);
  double dv = NUM2DBL(d);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(fn(slot, nv, dv, st));
  return mlxrb_result_ready(out);
}

static VALUE n_fftfreq(VALUE mod, VALUE n, VALUE d, VALUE s) {
  return freq(n, d, s, mlx_fftfreq);
}

static VALUE n_rfftfreq(VALUE mod, VALUE n, VALUE d, VALUE s) {
  return freq(n, d, s, mlx_rfftfreq);
}

void mlxrb_init_ops_fft(void) {
  MLXRB_DEF("fft", n_fft, 5);
  MLXRB_DEF("ifft", n_ifft, 5);
  MLXRB_DEF("rfft", n_rfft, 5);
  MLXRB_DEF("irfft", n_irfft, 5);
  MLXRB_DEF("fft2", n_fft2, 5);
  MLXRB_DEF("ifft2", n_ifft2, 5);
  MLXRB_DEF("rfft2", n_rfft2, 5);
  MLXRB_DEF("irfft2", n_irfft2, 5);
  MLXRB_DEF("fftn", n_fftn, 5);
  MLXRB_DEF("ifftn", n_ifftn, 5);
  MLXRB_DEF("rfftn", n_rfftn, 5);
  MLXRB_DEF("irfftn", n_irfftn, 5);
  MLXRB_DEF("fftshift", n_fftshift, 3);
  MLXRB_DEF("ifftshift", n_ifftshift, 3);
  MLXRB_DEF("fftfreq", n_fftfreq, 3);
  MLXRB_DEF("rfftfreq", n_rfftfreq, 3);
}
