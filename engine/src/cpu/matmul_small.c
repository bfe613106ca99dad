/* float32 products that OpenBLAS handles poorly.
 *
 * 1. A few rows times a transposed matrix, C = A Wᵀ (a Linear layer's
 * x Wᵀ, an RNN step's h Whhᵀ), without packing.
 *
 * OpenBLAS packs the whole of W on every call; with 1-16 rows of A that
 * copy costs about as much as the arithmetic (8 x 512 x 512: 85 us, 39%
 * of it in sgemm_oncopy). Here each output is a dot product of a row of A
 * and a row of W, both contiguous: a 4 x 4 block of outputs keeps 16 vector
 * accumulators in registers, reads 4 rows of A and 4 of W per step, and
 * sums each accumulator's lanes once at the end. A stays in L1; W is read
 * once. The columns are split over the thread pool, so each thread reads
 * the same part of W on every call and keeps it in its own L2 (an RNN
 * multiplies by the same Whh at every step). On a 2-core EPYC: 8 x 1024 x
 * 1024 in about 190 us on one thread (85 GFLOP/s) vs 330-550 us for
 * OpenBLAS on two. */
/* The engine builds as ISO C, where GCC does not contract a * b + c into
 * a fused multiply-add; these kernels want it (BLAS rounds the same way). */
#pragma GCC optimize("fp-contract=fast")

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "matmul_small.h"

#if defined(__AVX512F__)
#define VL 16 /* lanes per vector */
#define NBW 4 /* W rows per block: 16 accumulators + 8 operands of 32 registers */
typedef float vf __attribute__((vector_size(64), aligned(4)));
typedef float vf8 __attribute__((vector_size(32)));
static inline vf splat(float x) { return (vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
static inline float lane_sum(vf v) {
  vf8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
          __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}
#else
#define VL 8
#define NBW 2 /* 8 accumulators + 6 operands fit 16 AVX2 registers */
typedef float vf __attribute__((vector_size(32), aligned(4)));
static inline vf splat(float x) { return (vf){x, x, x, x, x, x, x, x}; }
static inline float lane_sum(vf v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
#endif

/* Keeps a loaded vector in a register: without it GCC folds the loads of A
 * into every multiply-add, reading each row of A NBW times per step, which
 * makes the loop load-bound (55 vs 85 GFLOP/s). Only where one register
 * holds a whole vector (AVX: 32 bytes; AVX-512 for VL 16): elsewhere (a
 * build without -march, ARM's 16-byte registers) the constraint would be
 * impossible and the hint is dropped. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX__)
#define IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define IN_REGISTER(v) (void)0
#endif

/* Outputs C[i0 .. i0+MB) x [j0 .. j0+NB): MB rows of A dotted with NB rows
 * of W over k, the last k % VL terms in scalar code. MB and NB are
 * constants at every call, so each instance unrolls fully. */
static inline __attribute__((always_inline)) void block(int MB, int NB, int64_t k, const float* a, int64_t lda,
                                                         const float* w, int64_t ldw, float* c, int64_t ldc) {
  vf acc[4][NBW];
  for (int r = 0; r < MB; r++)
    for (int q = 0; q < NB; q++) acc[r][q] = (vf){0};
  int64_t kv = k - k % VL;
  for (int64_t p = 0; p < kv; p += VL) {
    vf av[4], wv[NBW];
    for (int r = 0; r < MB; r++) {
      av[r] = *(const vf*)(a + r * lda + p);
      IN_REGISTER(av[r]);
    }
    for (int q = 0; q < NB; q++) {
      wv[q] = *(const vf*)(w + q * ldw + p);
      IN_REGISTER(wv[q]);
    }
    for (int r = 0; r < MB; r++)
      for (int q = 0; q < NB; q++) acc[r][q] += av[r] * wv[q];
  }
  for (int r = 0; r < MB; r++)
    for (int q = 0; q < NB; q++) {
      float s = lane_sum(acc[r][q]);
      for (int64_t p = kv; p < k; p++) s += a[r * lda + p] * w[q * ldw + p];
      c[r * ldc + q] = s;
    }
}

/* The rows of A in blocks of 4, 2 and 1 against NB rows of W. */
#define ROWS(NB)                                                                       \
  do {                                                                                 \
    int64_t i = 0;                                                                     \
    for (; i + 4 <= j->m; i += 4) block(4, NB, k, A + i * lda, lda, w, ldw, c + i * ldc, ldc); \
    for (; i + 2 <= j->m; i += 2) block(2, NB, k, A + i * lda, lda, w, ldw, c + i * ldc, ldc); \
    for (; i < j->m; i++) block(1, NB, k, A + i * lda, lda, w, ldw, c + i * ldc, ldc);        \
  } while (0)

typedef struct {
  int64_t m, n, k, lda, ldw, ldc;
  const float *a, *w;
  float* c;
} small_job;

/* Column blocks [b, e) of NBW columns (the last one may be narrower). */
static void columns(void* ctx, int64_t b, int64_t e) {
  const small_job* j = ctx;
  const float* A = j->a;
  int64_t k = j->k, lda = j->lda, ldw = j->ldw, ldc = j->ldc;
  for (int64_t blk = b; blk < e; blk++) {
    int64_t col = blk * NBW;
    const float* w = j->w + col * ldw;
    float* c = j->c + col;
    int64_t nb = j->n - col < NBW ? j->n - col : NBW;
    if (nb == NBW) {
      ROWS(NBW);
    } else {
      for (int64_t q = 0; q < nb; q++, w += ldw, c++) ROWS(1);
    }
  }
}

/* Work (multiply-adds) worth waking another thread for. */
#define PART_WORK 131072

int mlx_cpu_sgemm_small_nt_(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* w,
                            int64_t ldw, float* c, int64_t ldc) {
  if (m < 1 || m > MLX_SMALL_GEMM_MAX_M || k < MLX_SMALL_GEMM_MIN_K || n < 1) return 0;
  small_job j = {m, n, k, lda, ldw, ldc, a, w, c};
  int64_t blocks = (n + NBW - 1) / NBW;
  int64_t grain = PART_WORK / (m * k * NBW) + 1;
  mlx_parallel_for_(blocks, grain, columns, &j);
  return 1;
}

/* 2. Small products on one thread (a batch of attention heads' Q Kᵀ, run
 * over the pool one product per unit). OpenBLAS serialises concurrent
 * calls from several threads (two threads calling a 64 x 128 x 32 sgemm
 * in a loop get 1.14x the rate of one). Here B is packed into panels of
 * VL columns, k x VL each, zero-padded, and a block of 4 rows x PANELS
 * panels keeps its accumulators in registers: per step of k, PANELS vector
 * loads of B and 4 broadcasts of A for 4 * PANELS multiply-adds. */
#if defined(__AVX512F__)
#define PANELS 4
#else
#define PANELS 2
#endif

static inline __attribute__((always_inline)) void panel_block(int MB, int NP, int64_t k, const float* a, int64_t ars,
                                                               int64_t acs, const float* bp, float* c, int64_t ldc,
                                                               int64_t cols, float alpha, float beta) {
  vf acc[4][PANELS];
  for (int r = 0; r < MB; r++)
    for (int q = 0; q < NP; q++) acc[r][q] = (vf){0};
  for (int64_t p = 0; p < k; p++) {
    vf bv[PANELS];
    for (int q = 0; q < NP; q++) {
      bv[q] = *(const vf*)(bp + ((int64_t)q * k + p) * VL);
      IN_REGISTER(bv[q]);
    }
    for (int r = 0; r < MB; r++) {
      vf av = splat(a[r * ars + p * acs]);
      for (int q = 0; q < NP; q++) acc[r][q] += av * bv[q];
    }
  }
  for (int r = 0; r < MB; r++)
    for (int q = 0; q < NP; q++) {
      int64_t c0 = (int64_t)q * VL, left = cols - c0;
      float* dst = c + r * ldc + c0;
      vf v = alpha == 1.0f ? acc[r][q] : acc[r][q] * alpha;
      if (left >= VL) {
        *(vf*)dst = beta == 0.0f ? v : v + *(vf*)dst * beta;
      } else {
        for (int64_t l = 0; l < left; l++) dst[l] = beta == 0.0f ? v[l] : v[l] + dst[l] * beta;
      }
    }
}

#define PANEL_ROWS(NP)                                                                                      \
  do {                                                                                                      \
    int64_t i = 0;                                                                                          \
    for (; i + 4 <= m; i += 4) panel_block(4, NP, k, a + i * ars, ars, acs, bp, cq + i * ldc, ldc, cols, alpha, beta);   \
    for (; i + 2 <= m; i += 2) panel_block(2, NP, k, a + i * ars, ars, acs, bp, cq + i * ldc, ldc, cols, alpha, beta);   \
    for (; i < m; i++) panel_block(1, NP, k, a + i * ars, ars, acs, bp, cq + i * ldc, ldc, cols, alpha, beta);           \
  } while (0)

int mlx_cpu_sgemm_small_(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t ars, int64_t acs,
                         const float* b, int64_t brs, int64_t bcs, float beta, float* c, int64_t ldc) {
  if (m < 1 || n < 1 || k < 1 || n * k > MLX_SMALL_GEMM_MAX_NK) return 0;
  int64_t npanels = (n + VL - 1) / VL;
  float* packed = NULL;
  if (posix_memalign((void**)&packed, 64, sizeof(float) * (size_t)(npanels * k * VL)) != 0) return 0;
  for (int64_t q = 0; q < npanels; q++) {
    float* panel = packed + q * k * VL;
    int64_t width = n - q * VL < VL ? n - q * VL : VL;
    if (width < VL) memset(panel, 0, sizeof(float) * (size_t)(k * VL));
    if (bcs == 1) {
      for (int64_t p = 0; p < k; p++) memcpy(panel + p * VL, b + p * brs + q * VL, sizeof(float) * (size_t)width);
    } else {
      for (int64_t l = 0; l < width; l++) {
        const float* col = b + (q * VL + l) * bcs;
        for (int64_t p = 0; p < k; p++) panel[p * VL + l] = col[p * brs];
      }
    }
  }
  for (int64_t q0 = 0; q0 < npanels; q0 += PANELS) {
    const float* bp = packed + q0 * k * VL;
    float* cq = c + q0 * VL;
    int64_t cols = n - q0 * VL;
    int64_t np = npanels - q0 < PANELS ? npanels - q0 : PANELS;
    if (np == PANELS) {
      PANEL_ROWS(PANELS);
    } else {
      for (int64_t q = 0; q < np; q++, bp += k * VL, cq += VL, cols -= VL) PANEL_ROWS(1);
    }
  }
  free(packed);
  return 1;
}
