/* float32 products OpenBLAS handles poorly (matmul_small.c). */
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

/* The largest B (k x n elements) the single-thread kernel packs: 64 KiB,
 * half of L2. */
#define MLX_SMALL_GEMM_MAX_NK 16384

/* C (m x n, leading dim ldc) = alpha A (m x k) @ B (k x n) + beta C in
 * float32 on the calling thread (C is not read when beta is 0), A(i, p) at
 * a[i * ars + p * acs] and B(p, j) at b[p * brs + j * bcs] (any layout, a
 * transposed view included). Returns 1 when done, 0 (C untouched) when
 * n * k > MLX_SMALL_GEMM_MAX_NK or the packing buffer cannot be had. */
int mlx_cpu_sgemm_small_(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t ars, int64_t acs,
                         const float* b, int64_t brs, int64_t bcs, float beta, float* c, int64_t ldc);

#endif
