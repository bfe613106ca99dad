/* The threefry2x32 hash (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", 20 rounds) behind every random number: the CPU kernels
 * (cpu/random.c), the global key sequence (ops/random.c) and the GPU
 * kernels (cuda/random.cu) all call this one definition, so the devices
 * draw the same bits. Plain C with <stdint.h> only: nvcc compiles it as a
 * __device__ function. */
#ifndef MLX_CPU_THREEFRY_H
#define MLX_CPU_THREEFRY_H

#include <stdint.h>

#ifdef __CUDACC__
#define MLX_THREEFRY_FN_ static __device__ __forceinline__
#else
#define MLX_THREEFRY_FN_ static inline
#endif

/* Hashes the counter (c0, c1) under the key (k0, k1) into (*o0, *o1). The
 * rotation constants and key schedule are threefry2x32's, so the output is
 * bit-identical to upstream MLX (and JAX). */
MLX_THREEFRY_FN_ void mlx_threefry2x32_(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t* o0,
                                        uint32_t* o1) {
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  static const int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  uint32_t x0 = c0 + ks[0], x1 = c1 + ks[1];
  for (int i = 0; i < 5; i++) {
    for (int r = 0; r < 4; r++) {
      int s = rot[i & 1][r];
      x0 += x1;
      x1 = (x1 << s) | (x1 >> (32 - s));
      x1 ^= x0;
    }
    x0 += ks[(i + 1) % 3];
    x1 += ks[(i + 2) % 3] + (uint32_t)i + 1u;
  }
  *o0 = x0;
  *o1 = x1;
}

#endif
