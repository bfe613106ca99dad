/* Random number kernels, built on the threefry2x32 hash (threefry.h,
 * inline because both the bits kernel, in a loop the compiler vectorizes,
 * and the global key sequence in ops/random.c use it). */
#ifndef MLX_CPU_RANDOM_H
#define MLX_CPU_RANDOM_H

#include "../internal.h"
#include "threefry.h"

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
