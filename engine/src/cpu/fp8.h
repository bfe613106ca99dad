/* The e4m3 float8 conversions, shared by the CPU kernels (cpu/quantize.c)
 * and the GPU kernels (cuda/quantize.cu, which compiles them as device
 * code), so both sides give the same bits. Plain C with no engine types,
 * so nvcc can include it. */
#ifndef MLX_CPU_FP8_H
#define MLX_CPU_FP8_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define MLX_FP8_FN static __host__ __device__ __forceinline__
#else
#define MLX_FP8_FN static inline
#endif

/* Float to e4m3 (bias 7, 3 mantissa bits): round to nearest even,
 * saturating at 448 (0x7e); NaN saturates too, as upstream's CPU does. */
MLX_FP8_FN uint8_t mlx_fp8_from_float_(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint8_t r;
  if (bits >= (543u << 21)) {
    r = 0x7e;
  } else if (bits < (121u << 23)) {
    /* Subnormal: adding 2^14 aligns the mantissa so the float adder
     * rounds to the fp8 subnormal step. */
    float mag, bias;
    uint32_t bias_bits = 141u << 23;
    memcpy(&mag, &bits, 4);
    memcpy(&bias, &bias_bits, 4);
    float sum = mag + bias;
    uint32_t sb;
    memcpy(&sb, &sum, 4);
    r = (uint8_t)(sb - bias_bits);
  } else {
    uint32_t mant_odd = (bits >> 20) & 1u;
    uint32_t hi = bits + ((uint32_t)(7 - 127) << 23) + 0x7ffffu + mant_odd;
    r = (uint8_t)(hi >> 20);
  }
  return (uint8_t)(r | (sign >> 24));
}

/* The value of an e4m3 byte (0x7f and 0xff are NaN). */
MLX_FP8_FN float mlx_fp8_to_float_(uint8_t b) {
  int e = (b >> 3) & 0xf, m = b & 7;
  float v;
  if (e == 0xf && m == 7) v = NAN;
  else if (e == 0) v = ldexpf((float)m, -9);
  else v = ldexpf(1.0f + (float)m / 8.0f, e - 7);
  return (b & 0x80) ? -v : v;
}

#endif
