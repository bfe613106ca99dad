/* One group of affine quantization, shared by the CPU kernel
 * (cpu/quantize.c) and the GPU kernel (cuda/quantize.cu, which compiles
 * it as device code): the same float operations on both sides (IEEE
 * division, rintf, no contraction), so codes, scales and biases agree bit
 * for bit. Plain C with no engine types, so nvcc can include it. */
#ifndef MLX_CPU_QUANTIZE_AFFINE_H
#define MLX_CPU_QUANTIZE_AFFINE_H

#include <math.h>

#ifdef __CUDACC__
#define MLX_AFFINE_FN static __host__ __device__ __forceinline__
#else
#define MLX_AFFINE_FN static inline
#endif

/* The scale and bias of the gs values at w quantized to `bits` bits, as
 * upstream MLX chooses them: with more than one bit the larger-magnitude
 * edge is anchored on a code, so it is exact (and 0 stays exact when it
 * is a code); one bit keeps the minimum and the range. */
MLX_AFFINE_FN void mlx_affine_scale_bias_(const float* w, int gs, int bits, float* scale_out, float* bias_out) {
  float n_bins = (float)((1 << bits) - 1), eps = 1e-7f;
  float w_min = INFINITY, w_max = -INFINITY;
  for (int j = 0; j < gs; j++) {
    w_max = fmaxf(w_max, w[j]);
    w_min = fminf(w_min, w[j]);
  }
  float scale = fmaxf((w_max - w_min) / n_bins, eps), bias = w_min;
  if (bits > 1) {
    int mask = fabsf(w_min) > fabsf(w_max);
    scale = mask ? scale : -scale;
    float edge = mask ? w_min : w_max;
    float q0 = rintf(edge / scale);
    bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
  }
  *scale_out = scale;
  *bias_out = bias;
}

/* The code of value x in a group with that scale and bias: rounded to
 * the nearest even and clamped to [0, 2^bits - 1]. */
MLX_AFFINE_FN unsigned mlx_affine_code_(float x, float scale, float bias, int bits) {
  float q = rintf((x - bias) / scale);
  return (unsigned)fminf(fmaxf(q, 0.0f), (float)((1 << bits) - 1));
}

#endif
