/* Few-row float32 products without BLAS packing (matmul_small.c). */
#ifndef MLX_CPU_MATMUL_SMALL_H
#define MLX_CPU_MATMUL_SMALL_H

#include <stdint.h>

/* Rows of A up to which the unpacked kernel beats OpenBLAS, and the
 * shortest k worth it (below, the per-output lane sums dominate). */
#define MLX_SMALL_GEMM_MAX_M 16
#define MLX_SMALL_GEMM_MIN_K 64

/* C (m x n, leading dim ldc) = A (m x k, ldA) times the transpose of W
 * (n x k, ldw), all row-major float32, spread over the thread pool.
 * Returns 1 when done, 0 (C untouched) when the shape is outside
 * 1 <= m <= MLX_SMALL_GEMM_MAX_M, k >= MLX_SMALL_GEMM_MIN_K, n >= 1. */
int mlx_cpu_sgemm_small_nt_(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* w,
                            int64_t ldw, float* c, int64_t ldc);

#endif
