/* The convolution kernel on the CPU: im2col + BLAS gemm.
 *
 * Computes in float32 (float16/bfloat16/float32 results) or float64. The
 * input and weight are used in place when they are row-contiguous in the
 * compute dtype, else packed once; a flipped kernel is packed with its taps
 * reversed, so the patches never flip. Rows of the patch matrix are output
 * positions (n, o...), columns the taps of one group in the weight's
 * storage order times that group's channels, so that out[rows, group
 * channels] = patches @ weight_group^T is a gemm writing straight into the
 * output (ldc = C_out). Source offsets per dim and output coordinate are
 * tabulated once; where the last dim's taps read one contiguous run of
 * the input, a row's taps along it are copied as one run.
 *
 * Three schedules, so that OpenBLAS's own threads (which spin and yield
 * when the cores are busy) are only used for big products:
 *   - small weights (C_out/G * row length <= TILE_WORK / 32): tiles of rows
 *     over the thread pool, each building its patches and running a gemm
 *     small enough for OpenBLAS to keep on the calling thread;
 *   - few output positions with long rows (a weight gradient's
 *     convolution): the sum over the patch columns split among the pool,
 *     partial outputs summed at the end;
 *   - otherwise chunks of at most PATCH_BYTES of patches built in
 *     parallel, then one gemm per group.
 * A 1x1 kernel with unit strides and no padding needs no patches: the
 * input already is the matrix. Spatial dims are padded to 3 (leading dims
 * of size 1) so one loop nest serves 1-3 spatial dims. */
#include <cblas.h>
#include <limits.h>

#include "conv.h"

#define PATCH_BYTES ((int64_t)8 << 20)
#define GRAIN ((int64_t)1 << 15)
/* OpenBLAS runs a gemm of M*N*K up to 262144 on the calling thread. */
#define TILE_WORK ((int64_t)262144)
/* Up to this many output positions, long patch rows split the sum. */
#define SPLIT_MAX_ROWS 512

typedef struct {
  int64_t in[3], k[3], out[3];
  int64_t stride[3], lo[3], kdil[3], idil[3], ind[3]; /* ind: dilated input extent */
  int64_t C, cg, P, L; /* channels, per group, positions per image, patch row length */
  const char* x;       /* input, row-major, compute dtype */
  const char* w;       /* weight [O, L], compute dtype */
  char* y;             /* output [R, O], compute dtype */
  char* patches;
  int64_t G, O, og;    /* groups, output channels, per group */
  int64_t r0, rows, tile; /* first row and rows of the chunk, rows per tile */
  int64_t g;               /* the group being computed */
  size_t esz;
  int f64;
  /* the split sum: parts, outer taps (k0 * k1), outer taps per slab,
   * partial outputs [parts][R][og] */
  int64_t nparts, nouter, slab;
  char* partials;
  int64_t* off[3]; /* per dim, [out][k]: element offset of a tap's source, -1 on padding */
  int64_t* dense2; /* [out[2]]: 1 where the last dim's taps read one contiguous run */
} conv_job;

/* Input coordinate of output o at tap t along dim d, or -1 when it falls
 * on padding or between dilated input elements. */
static inline int64_t src_index(const conv_job* j, int d, int64_t o, int64_t t) {
  int64_t q = o * j->stride[d] - j->lo[d] + t * j->kdil[d];
  if (q < 0 || q >= j->ind[d]) return -1;
  if (j->idil[d] > 1) {
    if (q % j->idil[d]) return -1;
    q /= j->idil[d];
  }
  return q;
}

/* Rows [rb, re) of the chunk's patch matrix (output positions n, o0, o1,
 * o2), columns of the outer taps (t0, t1) in [ub, ue) only, row r at
 * dst + (r - rb) * ld: the taps' channel runs copied from the offsets the
 * tables give, or zeroed on padding. */
#define PATCHES_DEF(NAME, T)                                                                             \
  static void patches_##NAME(const conv_job* j, int64_t rb, int64_t re, int64_t ub, int64_t ue, T* dst0,  \
                             int64_t ld) {                                                               \
    const T* x = (const T*)j->x;                                                                         \
    int64_t cg = j->cg, k2 = j->k[2], run = k2 * cg;                                                     \
    int64_t s0 = j->in[1] * j->in[2] * j->C;                                                             \
    for (int64_t r = rb; r < re; r++) {                                                                  \
      int64_t row = j->r0 + r, n = row / j->P, pos = row % j->P;                                         \
      int64_t o2 = pos % j->out[2], o1 = (pos / j->out[2]) % j->out[1], o0 = pos / (j->out[2] * j->out[1]); \
      const int64_t* off0 = j->off[0] + o0 * j->k[0];                                                   \
      const int64_t* off1 = j->off[1] + o1 * j->k[1];                                                   \
      const int64_t* off2 = j->off[2] + o2 * k2;                                                        \
      int dense = (int)j->dense2[o2];                                                                    \
      const T* base = x + n * j->in[0] * s0 + j->g * cg;                                                 \
      T* restrict dst = dst0 + (r - rb) * ld;                                                            \
      int64_t t0 = ub / j->k[1], t1 = ub % j->k[1];                                                      \
      for (int64_t u = ub; u < ue; u++, dst += run) {                                                    \
        int64_t a0 = off0[t0], a1 = off1[t1];                                                            \
        if (++t1 == j->k[1]) t1 = 0, t0++;                                                               \
        if (a0 < 0 || a1 < 0) {                                                                          \
          for (int64_t c = 0; c < run; c++) dst[c] = 0;                                                  \
          continue;                                                                                      \
        }                                                                                                \
        const T* rowp = base + a0 + a1;                                                                  \
        if (dense) {                                                                                     \
          const T* restrict src = rowp + off2[0];                                                        \
          for (int64_t c = 0; c < run; c++) dst[c] = src[c];                                             \
          continue;                                                                                      \
        }                                                                                                \
        for (int64_t t2 = 0; t2 < k2; t2++) {                                                            \
          T* restrict d = dst + t2 * cg;                                                                 \
          if (off2[t2] < 0) {                                                                            \
            for (int64_t c = 0; c < cg; c++) d[c] = 0;                                                   \
            continue;                                                                                    \
          }                                                                                              \
          const T* restrict src = rowp + off2[t2];                                                       \
          for (int64_t c = 0; c < cg; c++) d[c] = src[c];                                                \
        }                                                                                                \
      }                                                                                                  \
    }                                                                                                    \
  }                                                                                                      \
  /* Rows [b, e) of the chunk, all columns. */                                                           \
  static void im2col_##NAME(void* ctx, int64_t b, int64_t e) {                                           \
    const conv_job* j = ctx;                                                                             \
    patches_##NAME(j, b, e, 0, j->k[0] * j->k[1], (T*)j->patches + b * j->L, j->L);                      \
  }

PATCHES_DEF(f32, float)
PATCHES_DEF(f64, double)

/* C[m, n] (ldc) = A[m, k] (lda) @ B[n, k]^T (ldb) + beta C. */
static void gemm_nt(int f64, int64_t m, int64_t n, int64_t k, const char* A, int64_t lda, const char* B, int64_t ldb,
                    char* C, int64_t ldc, double beta) {
  if (f64)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0, (const double*)A, (int)lda,
                (const double*)B, (int)ldb, beta, (double*)C, (int)ldc);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, (const float*)A, (int)lda,
                (const float*)B, (int)ldb, (float)beta, (float*)C, (int)ldc);
}

/* n's data row-major in dtype ct: in place when possible (*owned NULL),
 * else a packed copy the caller releases. */
static int as_dense(const char** data, mlx_buffer_** owned, mlx_node_* n, mlx_dtype ct) {
  *owned = NULL;
  if (n->dtype == ct && (n->flags & MLX_FLAG_ROW_CONTIG)) {
    *data = MLX_DATA(n, char);
    return MLX_OK;
  }
  mlx_buffer_* b = mlx_buffer_alloc_((size_t)(n->size > 0 ? n->size : 1) * mlx_dtype_size(ct));
  if (!b) return mlx_last_error_code();
  mlx_copy_cast_(b->data, ct, MLX_DATA(n, char), n->dtype, n->shape, n->strides, n->ndim);
  *owned = b;
  *data = b->data;
  return MLX_OK;
}

/* The weight with its taps reversed (a flipped kernel), row-major in
 * ct: reversing every spatial dim reverses the flattened tap index, so
 * the patches never need to know. */
static int flipped(const char** data, mlx_buffer_** owned, mlx_node_* w, mlx_dtype ct, int64_t K) {
  const char* dense;
  mlx_buffer_* tmp;
  MLX_TRY(as_dense(&dense, &tmp, w, ct));
  size_t esz = mlx_dtype_size(ct);
  int64_t O = w->shape[0], cg = w->shape[w->ndim - 1];
  size_t run = (size_t)cg * esz;
  mlx_buffer_* b = mlx_buffer_alloc_((size_t)(w->size > 0 ? w->size : 1) * esz);
  if (!b) {
    if (tmp) mlx_buffer_release_(tmp);
    return mlx_last_error_code();
  }
  for (int64_t o = 0; o < O; o++)
    for (int64_t t = 0; t < K; t++)
      memcpy(b->data + (size_t)((o * K + t) * cg) * esz, dense + (size_t)((o * K + K - 1 - t) * cg) * esz, run);
  if (tmp) mlx_buffer_release_(tmp);
  *owned = b;
  *data = b->data;
  return MLX_OK;
}

/* Tiles [b, e) of a chunk: each builds its rows of the patch matrix in its
 * own part of the buffer and multiplies them, group by group, straight
 * into the output. Small enough that OpenBLAS stays on this thread. */
static void run_tiles(void* ctx, int64_t b, int64_t e) {
  conv_job j = *(const conv_job*)ctx;
  int64_t first = j.r0;
  for (int64_t t = b; t < e; t++) {
    int64_t lo = t * j.tile, rows = j.rows - lo < j.tile ? j.rows - lo : j.tile;
    for (int64_t g = 0; g < j.G; g++) {
      j.g = g;
      (j.f64 ? im2col_f64 : im2col_f32)(&j, lo, lo + rows);
      gemm_nt(j.f64, rows, j.og, j.L, j.patches + (size_t)(lo * j.L) * j.esz, j.L,
              j.w + (size_t)(g * j.og * j.L) * j.esz, j.L, j.y + (size_t)((first + lo) * j.O + g * j.og) * j.esz,
              j.O, 0.0);
    }
  }
}

/* Parts [b, e) of a split sum: part p takes its share of the outer taps
 * in slabs, builds those columns of every row in its own buffer and
 * accumulates the slab's product into its own partial output [R, og]. */
static void run_split(void* ctx, int64_t b, int64_t e) {
  const conv_job* j = ctx;
  int64_t run = j->k[2] * j->cg;
  for (int64_t p = b; p < e; p++) {
    int64_t ub = p * j->nouter / j->nparts, ue = (p + 1) * j->nouter / j->nparts;
    char* part = j->partials + (size_t)(p * j->rows * j->og) * j->esz;
    char* pat = j->patches + (size_t)(p * j->rows * j->slab * run) * j->esz;
    memset(part, 0, (size_t)(j->rows * j->og) * j->esz);
    for (int64_t u = ub; u < ue; u += j->slab) {
      int64_t u2 = u + j->slab < ue ? u + j->slab : ue, cols = (u2 - u) * run;
      if (j->f64)
        patches_f64(j, 0, j->rows, u, u2, (double*)pat, cols);
      else
        patches_f32(j, 0, j->rows, u, u2, (float*)pat, cols);
      gemm_nt(j->f64, j->rows, j->og, cols, pat, cols, j->w + (size_t)(j->g * j->og * j->L + u * run) * j->esz,
              j->L, part, j->og, 1.0);
    }
  }
}

/* y[:, g * og:] = the sum of the split's partial outputs. */
#define SUM_PARTS_DEF(NAME, T)                                                    \
  static void sum_parts_##NAME(const conv_job* j) {                               \
    const T* parts = (const T*)j->partials;                                       \
    T* y = (T*)j->y + j->g * j->og;                                               \
    int64_t n = j->rows * j->og;                                                  \
    for (int64_t r = 0; r < j->rows; r++)                                         \
      for (int64_t c = 0; c < j->og; c++) {                                       \
        T acc = 0;                                                                \
        for (int64_t p = 0; p < j->nparts; p++) acc += parts[p * n + r * j->og + c]; \
        y[r * j->O + c] = acc;                                                    \
      }                                                                           \
  }
SUM_PARTS_DEF(f32, float)
SUM_PARTS_DEF(f64, double)

/* All R rows at once, the sum over patch columns split among nthreads. */
static int split_sum(conv_job* j, int64_t R, int64_t nthreads) {
  size_t esz = j->esz;
  j->nparts = nthreads < j->nouter ? nthreads : j->nouter;
  j->slab = TILE_WORK / (R * j->og * j->k[2] * j->cg);
  if (j->slab < 1) j->slab = 1;
  j->rows = R;
  j->r0 = 0;
  mlx_buffer_* sbuf = mlx_buffer_alloc_((size_t)(j->nparts * R * (j->og + j->slab * j->k[2] * j->cg)) * esz);
  if (!sbuf) return mlx_last_error_code();
  j->partials = sbuf->data;
  j->patches = sbuf->data + (size_t)(j->nparts * R * j->og) * esz;
  for (int64_t g = 0; g < j->G; g++) {
    j->g = g;
    mlx_parallel_for_(j->nparts, 1, run_split, j);
    if (j->f64)
      sum_parts_f64(j);
    else
      sum_parts_f32(j);
  }
  mlx_buffer_release_(sbuf);
  return MLX_OK;
}

/* R rows in chunks of at most PATCH_BYTES of patches; tiled: each chunk
 * as tiles over the pool (patches and gemm per tile), else its patches in
 * parallel, then one gemm per group. */
static int chunked(conv_job* j, int64_t R, int tiled) {
  size_t esz = j->esz;
  int64_t chunk = PATCH_BYTES / (j->L * (int64_t)esz);
  if (chunk < 1) chunk = 1;
  if (chunk > R) chunk = R;
  if (chunk > INT_MAX) chunk = INT_MAX;
  mlx_buffer_* pbuf = mlx_buffer_alloc_((size_t)(chunk * j->L) * esz);
  if (!pbuf) return mlx_last_error_code();
  j->patches = pbuf->data;
  j->tile = tiled ? TILE_WORK / (j->og * j->L) : chunk;
  for (int64_t r0 = 0; r0 < R; r0 += chunk) {
    j->rows = R - r0 < chunk ? R - r0 : chunk;
    j->r0 = r0;
    if (tiled) {
      mlx_parallel_for_((j->rows + j->tile - 1) / j->tile, 1, run_tiles, j);
      continue;
    }
    for (int64_t g = 0; g < j->G; g++) {
      j->g = g;
      mlx_parallel_for_(j->rows, GRAIN / j->L + 1, j->f64 ? im2col_f64 : im2col_f32, j);
      gemm_nt(j->f64, j->rows, j->og, j->L, j->patches, j->L, j->w + (size_t)(g * j->og * j->L) * esz, j->L,
              j->y + (size_t)(r0 * j->O + g * j->og) * esz, j->O, 0.0);
    }
  }
  mlx_buffer_release_(pbuf);
  return MLX_OK;
}

int mlx_cpu_conv_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_conv_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* X = ins[0];
  mlx_node_* W = ins[1];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  mlx_dtype od = out->dtype;
  mlx_dtype ct = od == MLX_FLOAT64 ? MLX_FLOAT64 : MLX_FLOAT32;
  size_t esz = mlx_dtype_size(ct);
  int nsp = p->nsp;
  conv_job j;
  memset(&j, 0, sizeof j);
  j.f64 = ct == MLX_FLOAT64;
  j.esz = esz;
  int64_t K = 1;
  int unit = 1; /* 1x1 kernel, unit strides, no padding */
  for (int d = 0; d < 3; d++) {
    int s = d - (3 - nsp); /* spatial dim of the op, < 0 for the padding dims */
    j.in[d] = s < 0 ? 1 : X->shape[1 + s];
    j.k[d] = s < 0 ? 1 : W->shape[1 + s];
    j.out[d] = s < 0 ? 1 : out->shape[1 + s];
    j.stride[d] = s < 0 ? 1 : p->stride[s];
    j.lo[d] = s < 0 ? 0 : p->pad_lo[s];
    j.kdil[d] = s < 0 ? 1 : p->kernel_dilation[s];
    j.idil[d] = s < 0 ? 1 : p->input_dilation[s];
    j.ind[d] = j.in[d] > 0 ? 1 + j.idil[d] * (j.in[d] - 1) : 0;
    K *= j.k[d];
    if (j.k[d] != 1 || j.stride[d] != 1 || j.lo[d] != 0 || j.idil[d] != 1 || j.out[d] != j.in[d]) unit = 0;
  }
  j.G = p->groups;
  j.O = out->shape[nsp + 1];
  j.og = j.O / j.G;
  j.C = X->shape[nsp + 1];
  j.cg = j.C / j.G;
  j.P = j.out[0] * j.out[1] * j.out[2];
  j.L = K * j.cg;
  int64_t R = out->size / j.O; /* output positions over the batch */

  mlx_buffer_* cbuf = NULL;
  if (od != ct) {
    cbuf = mlx_buffer_alloc_((size_t)out->size * esz);
    if (!cbuf) return mlx_last_error_code();
  }
  j.y = cbuf ? cbuf->data : out->buf->data;
  int rc = MLX_OK;
  if (j.L == 0) {
    /* No input channels: every sum is empty. */
    memset(j.y, 0, (size_t)out->size * esz);
  } else {
    mlx_buffer_ *xo = NULL, *wo = NULL, *tbuf = NULL;
    rc = as_dense(&j.x, &xo, X, ct);
    if (rc == MLX_OK) rc = p->flip ? flipped(&j.w, &wo, W, ct, K) : as_dense(&j.w, &wo, W, ct);
    if (rc == MLX_OK && unit) {
      /* The input is the patch matrix: [R, C], group g at column g * cg. */
      for (int64_t g = 0; g < j.G; g++)
        gemm_nt(j.f64, R, j.og, j.cg, j.x + (size_t)(g * j.cg) * esz, j.C, j.w + (size_t)(g * j.og * j.L) * esz,
                j.L, j.y + (size_t)(g * j.og) * esz, j.O, 0.0);
    } else if (rc == MLX_OK) {
      /* Source offset tables per dim: [out][k]. */
      int64_t ntab = j.out[0] * j.k[0] + j.out[1] * j.k[1] + j.out[2] * j.k[2] + j.out[2];
      int64_t dstride[3] = {j.in[1] * j.in[2] * j.C, j.in[2] * j.C, j.C};
      tbuf = mlx_buffer_alloc_((size_t)ntab * sizeof(int64_t));
      if (!tbuf) rc = mlx_last_error_code();
      for (int64_t d = 0, at = 0; rc == MLX_OK && d < 3; d++) {
        j.off[d] = (int64_t*)tbuf->data + at;
        for (int64_t o = 0; o < j.out[d]; o++)
          for (int64_t t = 0; t < j.k[d]; t++) {
            int64_t i = src_index(&j, d, o, t);
            j.off[d][o * j.k[d] + t] = i < 0 ? -1 : i * dstride[d];
          }
        at += j.out[d] * j.k[d];
      }
      if (rc == MLX_OK) {
        j.dense2 = (int64_t*)tbuf->data + ntab - j.out[2];
        for (int64_t o = 0; o < j.out[2]; o++) {
          const int64_t* t = j.off[2] + o * j.k[2];
          int dense = t[0] >= 0;
          for (int64_t k = 1; k < j.k[2] && dense; k++) dense = t[k] == t[k - 1] + j.C;
          j.dense2[o] = dense && j.cg == j.C;
        }
      }
      /* Few output positions with long patch rows (a weight gradient's
       * convolution) have too few rows to share: the sum is split. Small
       * weights: tiles of rows whose gemm OpenBLAS runs on the calling
       * thread, spread over the pool. Else chunks of patches built in
       * parallel, then one gemm that OpenBLAS threads. */
      int64_t per_row = j.og * j.L, nthreads = mlx_cpu_thread_count();
      j.nouter = j.k[0] * j.k[1];
      if (rc == MLX_OK && per_row > TILE_WORK / 32 && R <= SPLIT_MAX_ROWS && j.nouter > 1 && nthreads > 1)
        rc = split_sum(&j, R, nthreads);
      else if (rc == MLX_OK)
        rc = chunked(&j, R, per_row <= TILE_WORK / 32);
    }
    if (xo) mlx_buffer_release_(xo);
    if (wo) mlx_buffer_release_(wo);
    if (tbuf) mlx_buffer_release_(tbuf);
  }
  if (rc == MLX_OK && cbuf) {
    int64_t total = out->size, one = 1;
    mlx_copy_cast_(out->buf->data, od, cbuf->data, ct, &total, &one, 1);
  }
  if (cbuf) mlx_buffer_release_(cbuf);
  return rc;
}
