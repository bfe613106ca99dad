/* The fft family's primitive parameters and CPU kernel, shared by
 * ops/fft.c (constructors and transform rules) and cpu/fft.c. */
#ifndef MLX_CPU_FFT_H
#define MLX_CPU_FFT_H

#include "../internal.h"

/* At most this many transformed axes in one op. */
#define MLX_FFT_MAX_AXES 32

/* The factor every output is multiplied by: 1, 1/sqrt(N) or 1/N, N the
 * product of the transform sizes. Kept apart from the direction so a
 * transform's adjoint (the other direction) keeps the same factor. */
enum { MLX_FFT_SCALE_NONE = 0, MLX_FFT_SCALE_SQRT = 1, MLX_FFT_SCALE_FULL = 2 };

/* POD parameters of the "fft" primitive. axes are normalized (>= 0) and
 * distinct; n[i] is the logical transform size along axes[i]. The input
 * (float32 for real forward, complex64 otherwise) is zero-padded or
 * truncated along each axis to n[i] (real inverse: n / 2 + 1 on the last
 * axis) before the transform. Output: complex64 with n[i] along axes[i]
 * (real forward: n / 2 + 1 on the last axis), or float32 with n on the
 * last axis for the real inverse. */
typedef struct mlx_fft_params_ {
  int32_t naxes;
  int32_t inverse; /* exp(+2 pi i jk / n) instead of exp(-2 pi i jk / n) */
  int32_t real;    /* last axis real-to-complex (forward) / complex-to-real */
  int32_t scale;   /* MLX_FFT_SCALE_* */
  int32_t axes[MLX_FFT_MAX_AXES];
  int64_t n[MLX_FFT_MAX_AXES];
} mlx_fft_params_;

/* The CPU kernel of "fft": one input, one output (see mlx_fft_params_). */
int mlx_cpu_fft_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
