/* Discrete Fourier transforms (upstream MLX's mlx.core.fft).
 *
 * Same conventions as ops.h: results through the leading out-pointer (a new
 * handle), inputs borrowed, the stream last, an int status; nothing is
 * computed until evaluation. Axes may be negative.
 *
 * Sizes: n (1-D forms) points at the transform length, or is NULL for the
 * default (the input's length along the axis; for irfft 2 * (m - 1)). The
 * n-d forms take n[0..nn) and axes[0..naxes) (either NULL for the default);
 * the input is zero-padded or truncated along each axis to its size
 * (irfft*: to n / 2 + 1 along the last axis) before the transform.
 *
 * Dtypes: every input dtype is accepted. fft/ifft (and 2/n forms) and
 * rfft's output are complex64 (real inputs are promoted); rfft* reads its
 * input as float32 (the real part of a complex input); irfft* reads
 * complex64 and returns float32.
 *
 * norm: MLX_FFT_NORM_BACKWARD scales the inverse transforms by 1/N,
 * MLX_FFT_NORM_ORTHO both directions by 1/sqrt(N), MLX_FFT_NORM_FORWARD
 * the forward ones by 1/N (N: the product of the transform sizes).
 *
 * Errors (MLX_ERROR_ARGUMENT unless said): a 0-d input, a transform size
 * <= 0 (also a default one, e.g. an empty axis), n and axes of different
 * lengths, n given without axes (n-d forms), duplicated axes, an invalid
 * norm; an axis out of range is MLX_ERROR_INDEX. An empty axes list returns
 * the input unchanged. */
#ifndef MLX_FFT_H
#define MLX_FFT_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlx_fft_norm {
  MLX_FFT_NORM_BACKWARD = 0,
  MLX_FFT_NORM_ORTHO = 1,
  MLX_FFT_NORM_FORWARD = 2
} mlx_fft_norm;

/* "backward" / "ortho" / "forward" (NULL: backward) to *norm;
 * MLX_ERROR_ARGUMENT for another string. */
int mlx_fft_norm_parse(mlx_fft_norm* norm, const char* name);

/* One-dimensional transforms along axis: complex DFT, its inverse, the
 * real-input DFT (n / 2 + 1 outputs) and its inverse (n real outputs). */
int mlx_fft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s);
int mlx_ifft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s);
int mlx_rfft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s);
int mlx_irfft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s);

/* Two-dimensional transforms: axes NULL means {-2, -1}; n NULL the input's
 * sizes (irfft2: 2 * (m - 1) on the last axis). */
int mlx_fft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
             mlx_fft_norm norm, const mlx_stream s);
int mlx_ifft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s);
int mlx_rfft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s);
int mlx_irfft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
               mlx_fft_norm norm, const mlx_stream s);

/* n-dimensional transforms: axes NULL means every axis (then n must be
 * NULL too); for the real forms the last listed axis is the real one. */
int mlx_fftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
             mlx_fft_norm norm, const mlx_stream s);
int mlx_ifftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s);
int mlx_rfftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s);
int mlx_irfftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
               mlx_fft_norm norm, const mlx_stream s);

/* Rolls each listed axis (NULL: every axis) by size / 2 (fftshift) or
 * (size + 1) / 2 (ifftshift), moving the zero frequency to the centre and
 * back. Any dtype; a listed axis out of range is MLX_ERROR_INDEX; a
 * repeated axis is rolled twice (as upstream). */
int mlx_fftshift(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s);
int mlx_ifftshift(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s);

/* Sample frequencies of an n-point DFT with sample spacing d, float32:
 * fftfreq [0, 1, ..., (n-1)/2, -(n/2), ..., -1] / (d * n) (n entries),
 * rfftfreq [0, 1, ..., n/2] / (d * n). n <= 0 or d == 0 is
 * MLX_ERROR_ARGUMENT. */
int mlx_fftfreq(mlx_array* res, int64_t n, double d, const mlx_stream s);
int mlx_rfftfreq(mlx_array* res, int64_t n, double d, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
