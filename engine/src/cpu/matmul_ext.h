/* CPU kernels of the matmul family's primitives beyond matmul (gather_mm,
 * segmented_mm, the Hadamard transform) and the parameter blocks their constructors in
 * ops/matmul_ext.c record. */
#ifndef MLX_CPU_MATMUL_EXT_H
#define MLX_CPU_MATMUL_EXT_H

#include "../internal.h"

/* gather_mm: inputs a (batch..., M, K), b (batch..., K, N) of the output
 * dtype and int64 index arrays of the output's leading shape; sorted is
 * the caller's hint that the rhs indices are sorted (kept for export). */
typedef struct {
  int sorted;
} mlx_gather_mm_params_;

/* Hadamard transform of the last axis, of size m * n (n a power of two):
 * y = scale * (H_m (x) H_n) x, with H_m^T instead when transposed (the
 * vjp). */
typedef struct {
  float scale;
  int m;
  int64_t n;
  int transposed;
} mlx_hadamard_params_;

/* Splits a transform size into m in {1, 12, 20, 28} and a power of two n
 * (at most 2^26); MLX_ERROR_ARGUMENT when it cannot. */
int mlx_hadamard_decompose_(int64_t size, int* m, int64_t* n);

int mlx_cpu_gather_mm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* segmented_mm: a (M, K), b (K, N) of the output dtype, int64 segments
 * (..., 2); each [start, end) is clamped to [0, K]. */
int mlx_cpu_segmented_mm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_hadamard_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
