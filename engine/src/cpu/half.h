/* Half-precision element types for CPU kernels: float16 is the compiler's
 * _Float16; bfloat16 is stored as uint16 and converted through float with
 * round-to-nearest-even (NaN stays NaN), as upstream MLX does. */
#ifndef MLX_CPU_HALF_H
#define MLX_CPU_HALF_H

#include <complex.h>
#include <stdint.h>
#include <string.h>

typedef _Float16 mlx_f16;
typedef struct {
  uint16_t bits;
} mlx_bf16;
typedef float _Complex mlx_c64;

static inline float mlx_bf16_to_f32(mlx_bf16 h) {
  uint32_t u = (uint32_t)h.bits << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static inline mlx_bf16 mlx_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  mlx_bf16 h;
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    h.bits = (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    h.bits = (uint16_t)(u >> 16);
  }
  return h;
}

#endif
