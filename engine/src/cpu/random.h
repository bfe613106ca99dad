/* Random number kernels: the threefry2x32 hash (Salmon et al., "Parallel
 * random numbers: as easy as 1, 2, 3", 20 rounds) and the kernels built on
 * it. The hash is inline here because both the bits kernel (in a loop the
 * compiler vectorizes) and the global key sequence in ops/random.c use it. */
#ifndef MLX_CPU_RANDOM_H
#define MLX_CPU_RANDOM_H

#include "../internal.h"

/* Hashes the counter (c0, c1) under the key (k0, k1) into (*o0, *o1). The
 * rotation constants and key schedule are threefry2x32's, so the output is
 * bit-identical to upstream MLX (and JAX). */
static inline void mlx_threefry2x32_(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t* o0, uint32_t* o1) {
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

/* random_bits: out (uint8/16/32, any shape) gets the bytes of the key's
 * counter stream; ins[0] is the key, a uint32 array of shape [2]. */
int mlx_cpu_random_bits_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* random_split: outs[0], outs[1] (uint32 [2]) are the two halves of
 * bits([2, 2]) of the key ins[0]. */
int mlx_cpu_random_split_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* random_complex_pairs: reinterprets float32 [..., 2] (ins[0]) as
 * complex64 [...] (real, imaginary), as upstream's view + squeeze does. */
int mlx_cpu_random_complex_pairs_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
