/* CPU kernels of gather, scatter, gather_axis (take_along_axis) and
 * scatter_axis (put_along_axis).
 *
 * Both start the same way: the index arrays (any integer dtype, any
 * strides, broadcast views included) are read as int64, wrapped once
 * (negative -> from the end) and turned into a start offset per index
 * position. The block (gather's slice, scatter's update) is addressed by
 * a contiguous inner run of R elements and a table of offsets of its
 * outer elements, so a row gather is one memcpy per index and a take of
 * single elements is a plain loop.
 *
 * Out-of-range indices, undefined behaviour upstream, are clamped into
 * range by gather and dropped by scatter: nothing is read or written
 * outside the buffers. */
#include <stdlib.h>

#include "../ops/indexing.h"
#include "half.h"

/* ---- shared: index positions and block layout --------------------------- */

/* The index arrays ins[0..nidx) as int64 row-major copies (n each), one
 * malloc'ed block, or NULL with the error set. */
static int64_t* read_indices(mlx_node_* const* ins, int nidx, int64_t n) {
  size_t total = (size_t)nidx * (size_t)(n > 0 ? n : 1);
  int64_t* v = malloc(sizeof(int64_t) * (total ? total : 1));
  if (!v) {
    mlx_error_(MLX_ERROR_MEMORY, "[indexing] Out of memory for indices.");
    return NULL;
  }
  for (int k = 0; k < nidx; k++) mlx_node_copy_to_(v + (size_t)k * (size_t)n, MLX_INT64, ins[k]);
  return v;
}

/* Block layout over an array with shape/strides (nd dims) and block
 * sizes: R = the elements of the block's contiguous inner run, and the
 * offsets of its nouter outer elements (malloc'ed). */
typedef struct {
  int64_t R, nouter;
  int64_t* offs;
} block_layout;

static int make_layout(block_layout* L, const int64_t* shape, const int64_t* strides, const int64_t* sizes, int nd) {
  int64_t R = 1, expect = 1;
  int d = nd - 1;
  for (; d >= 0; d--) {
    if (sizes[d] == 1) continue;
    if (strides[d] != expect) break;
    R *= sizes[d];
    if (sizes[d] != shape[d]) {
      d--;
      break;
    }
    expect *= shape[d];
  }
  int64_t nouter = 1;
  for (int k = 0; k <= d; k++) nouter *= sizes[k];
  L->R = R;
  L->nouter = nouter;
  L->offs = malloc(sizeof(int64_t) * (size_t)(nouter > 0 ? nouter : 1));
  if (!L->offs) return mlx_error_(MLX_ERROR_MEMORY, "[indexing] Out of memory.");
  /* Outer offsets by an odometer over dims [0, d]. */
  int64_t cnt[d + 2 > 0 ? d + 2 : 1];
  for (int k = 0; k <= d; k++) cnt[k] = 0;
  int64_t off = 0;
  for (int64_t o = 0; o < nouter; o++) {
    L->offs[o] = off;
    for (int k = d; k >= 0; k--) {
      if (++cnt[k] < sizes[k]) {
        off += strides[k];
        break;
      }
      off -= (sizes[k] - 1) * strides[k];
      cnt[k] = 0;
    }
  }
  return MLX_OK;
}

/* Start offset of index position i: a sum over the indexed axes, each
 * index wrapped once and then clamped (clamp = 1, gather) so the block
 * fits, or flagged invalid (-1 through *ok = 0, scatter). */
static inline int64_t start_offset(const int64_t* idx, int64_t n, int nidx, int64_t i, const int64_t* axis_len,
                                   const int64_t* axis_stride, const int64_t* block, int clamp, int* ok) {
  int64_t off = 0;
  *ok = 1;
  for (int k = 0; k < nidx; k++) {
    int64_t v = idx[(size_t)k * (size_t)n + (size_t)i], len = axis_len[k], hi = len - block[k];
    if (v < 0) v += len;
    if (v < 0 || v > hi) {
      if (!clamp) {
        *ok = 0;
        return 0;
      }
      v = v < 0 ? 0 : hi;
    }
    off += v * axis_stride[k];
  }
  return off;
}

/* ---- gather --------------------------------------------------------------- */

typedef struct {
  const char* src;
  char* dst;
  size_t isz;
  const int64_t* idx;
  int64_t nidx_pos; /* index positions */
  int nidx;
  const int64_t *axis_len, *axis_stride, *block;
  block_layout L;
  int64_t S; /* elements per block */
  const int32_t* idx32; /* the one index array read in place, or NULL */
} gather_job;

/* Start offset of position i for the common single int32 index read in
 * place (take, a[idx]): wrapped once, clamped so the block fits. */
static inline int64_t start32(const gather_job* j, int64_t i) {
  int64_t v = j->idx32[i], len = j->axis_len[0], hi = len - j->block[0];
  if (v < 0) v += len;
  v = v < 0 ? 0 : (v > hi ? hi : v);
  return v * j->axis_stride[0];
}

#define GATHER_ELEMS(T)                                                            \
  static void gather_elems_##T(const gather_job* j, int64_t b, int64_t e) {       \
    const T* restrict src = (const T*)j->src;                                      \
    T* restrict dst = (T*)j->dst;                                                  \
    int ok;                                                                        \
    if (j->idx32)                                                                  \
      for (int64_t i = b; i < e; i++) dst[i] = src[start32(j, i)];                 \
    else                                                                           \
      for (int64_t i = b; i < e; i++)                                              \
        dst[i] = src[start_offset(j->idx, j->nidx_pos, j->nidx, i, j->axis_len, j->axis_stride, j->block, 1, &ok)]; \
  }
GATHER_ELEMS(uint8_t)
GATHER_ELEMS(uint16_t)
GATHER_ELEMS(uint32_t)
GATHER_ELEMS(uint64_t)

static void gather_range(void* ctx, int64_t b, int64_t e) {
  const gather_job* j = ctx;
  if (j->S == 1) {
    switch (j->isz) {
      case 1: gather_elems_uint8_t(j, b, e); return;
      case 2: gather_elems_uint16_t(j, b, e); return;
      case 4: gather_elems_uint32_t(j, b, e); return;
      default: gather_elems_uint64_t(j, b, e); return;
    }
  }
  size_t run = (size_t)j->L.R * j->isz;
  int ok;
  for (int64_t i = b; i < e; i++) {
    int64_t base = j->idx32 ? start32(j, i)
                            : start_offset(j->idx, j->nidx_pos, j->nidx, i, j->axis_len, j->axis_stride,
                                           j->block, 1, &ok);
    const char* s = j->src + base * (int64_t)j->isz;
    char* d = j->dst + (size_t)i * (size_t)j->S * j->isz;
    for (int64_t o = 0; o < j->L.nouter; o++, d += run) memcpy(d, s + j->L.offs[o] * (int64_t)j->isz, run);
  }
}

int mlx_cpu_gather_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int nidx = (int)p[0], nd = (int)p[1];
  const int64_t* axes = MLX_GATHER_AXES_(p);
  const int64_t* sizes = MLX_GATHER_SIZES_(p);
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  int64_t npos = nidx ? ins[1]->size : 1;
  int64_t axis_len[nidx > 0 ? nidx : 1], axis_stride[nidx > 0 ? nidx : 1], block[nidx > 0 ? nidx : 1];
  for (int k = 0; k < nidx; k++) {
    axis_len[k] = a->shape[axes[k]];
    axis_stride[k] = a->strides[axes[k]];
    block[k] = sizes[axes[k]];
  }
  int direct = nidx == 1 && ins[1]->dtype == MLX_INT32 && (ins[1]->flags & MLX_FLAG_ROW_CONTIG);
  const int32_t* idx32 = direct ? MLX_DATA(ins[1], int32_t) : NULL;
  int64_t* idx = idx32 ? NULL : read_indices(ins + 1, nidx, npos);
  if (!idx32 && !idx) return MLX_ERROR_MEMORY;
  gather_job j = {.idx32 = idx32,
                  .src = MLX_DATA(a, char),
                  .dst = MLX_DATA(out, char),
                  .isz = mlx_dtype_size(a->dtype),
                  .idx = idx,
                  .nidx_pos = npos,
                  .nidx = nidx,
                  .axis_len = axis_len,
                  .axis_stride = axis_stride,
                  .block = block,
                  .S = out->size / npos};
  int rc = make_layout(&j.L, a->shape, a->strides, sizes, nd);
  if (rc == MLX_OK) {
    int64_t grain = (1 << 15) / (j.S > 0 ? j.S : 1);
    mlx_parallel_for_(npos, grain > 0 ? grain : 1, gather_range, &j);
  }
  free(j.L.offs);
  free(idx);
  return rc;
}

/* ---- scatter -------------------------------------------------------------- */

/* dst[0..n) = op(dst, src) per dtype and reduction. */
typedef void (*reduce_fn)(void* restrict dst, const void* restrict src, int64_t n);

#define RED(NAME, T, EXPR)                                                    \
  static void NAME(void* restrict dv, const void* restrict sv, int64_t n) { \
    T* restrict d = dv;                                                       \
    const T* restrict s = sv;                                                 \
    for (int64_t i = 0; i < n; i++) {                                         \
      T x = d[i], y = s[i];                                                   \
      d[i] = (EXPR);                                                          \
    }                                                                         \
  }
#define RED_NUM(N, T)          \
  RED(sum_##N, T, x + y)       \
  RED(prod_##N, T, x * y)      \
  RED(max_##N, T, x > y ? x : y) \
  RED(min_##N, T, x < y ? x : y)
RED(sum_b, uint8_t, (uint8_t)(x | y))
RED(prod_b, uint8_t, (uint8_t)(x & y))
RED_NUM(u8, uint8_t)
RED_NUM(u16, uint16_t)
RED_NUM(u32, uint32_t)
RED_NUM(u64, uint64_t)
RED_NUM(i8, int8_t)
RED_NUM(i16, int16_t)
RED_NUM(i32, int32_t)
RED_NUM(i64, int64_t)
RED_NUM(f16, mlx_f16)
RED_NUM(f32, float)
RED_NUM(f64, double)
#define BF(v) mlx_bf16_to_f32(v)
RED(sum_bf16, mlx_bf16, mlx_f32_to_bf16(BF(x) + BF(y)))
RED(prod_bf16, mlx_bf16, mlx_f32_to_bf16(BF(x) * BF(y)))
RED(max_bf16, mlx_bf16, BF(x) > BF(y) ? x : y)
RED(min_bf16, mlx_bf16, BF(x) < BF(y) ? x : y)
/* Complex order is lexicographic (real, then imaginary), as upstream's. */
#define CGT(x, y) (crealf(x) > crealf(y) || (crealf(x) == crealf(y) && cimagf(x) > cimagf(y)))
#define CLT(x, y) (crealf(x) < crealf(y) || (crealf(x) == crealf(y) && cimagf(x) < cimagf(y)))
RED(sum_c64, mlx_c64, x + y)
RED(prod_c64, mlx_c64, x * y)
RED(max_c64, mlx_c64, CGT(x, y) ? x : y)
RED(min_c64, mlx_c64, CLT(x, y) ? x : y)

#define ROW(N) {sum_##N, prod_##N, max_##N, min_##N}
/* reducers[dtype][mode - 1] */
static const reduce_fn reducers[MLX_NUM_DTYPES][4] = {
    {sum_b, prod_b, sum_b, prod_b}, ROW(u8),  ROW(u16), ROW(u32), ROW(u64), ROW(i8),   ROW(i16),
    ROW(i32),                       ROW(i64), ROW(f16), ROW(f32), ROW(f64), ROW(bf16), ROW(c64)};

typedef struct {
  char* dst;
  const char* upd;
  size_t isz;
  reduce_fn red; /* NULL: plain write */
  const int64_t* idx;
  int64_t npos;
  int nidx;
  const int64_t *axis_len, *axis_stride, *block;
  block_layout L;
  int64_t S;
} scatter_job;

/* Applies every index position's update to the block elements
 * [jb, je) (in R-element runs), positions in order. */
static void scatter_range(void* ctx, int64_t jb, int64_t je) {
  const scatter_job* j = ctx;
  int64_t R = j->L.R;
  int ok;
  for (int64_t i = 0; i < j->npos; i++) {
    int64_t base = start_offset(j->idx, j->npos, j->nidx, i, j->axis_len, j->axis_stride, j->block, 0, &ok);
    if (!ok) continue;
    const char* u = j->upd + (size_t)i * (size_t)j->S * j->isz;
    for (int64_t e = jb; e < je;) {
      int64_t o = e / R, r = e % R, n = R - r < je - e ? R - r : je - e;
      char* d = j->dst + (base + j->L.offs[o] + r) * (int64_t)j->isz;
      const char* s = u + e * (int64_t)j->isz;
      if (j->red) j->red(d, s, n);
      else memcpy(d, s, (size_t)n * j->isz);
      e += n;
    }
  }
}

int mlx_cpu_scatter_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int mode = (int)p[0], nidx = (int)p[1], nd = (int)p[2];
  const int64_t* axes = MLX_SCATTER_AXES_(p);
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* up = ins[nin - 1];
  int donated;
  MLX_TRY(mlx_node_donate_or_alloc_(out, a, &donated));
  if (out->size == 0) return MLX_OK;
  if (!donated) mlx_node_copy_to_(MLX_DATA(out, char), out->dtype, a);
  if (up->size == 0) return MLX_OK;
  int indim = up->ndim - nd;
  int64_t npos = 1;
  for (int i = 0; i < indim; i++) npos *= up->shape[i];
  const int64_t* bshape = up->shape + indim;
  size_t isz = mlx_dtype_size(out->dtype);
  char* tmp = NULL;
  const char* upd = MLX_DATA(up, char);
  if (!(up->flags & MLX_FLAG_ROW_CONTIG)) {
    tmp = malloc((size_t)up->size * isz);
    if (!tmp) return mlx_error_(MLX_ERROR_MEMORY, "[scatter] Out of memory.");
    mlx_node_copy_to_(tmp, up->dtype, up);
    upd = tmp;
  }
  int64_t axis_len[nidx > 0 ? nidx : 1], axis_stride[nidx > 0 ? nidx : 1], block[nidx > 0 ? nidx : 1];
  int unit_blocks = 1;
  for (int k = 0; k < nidx; k++) {
    axis_len[k] = out->shape[axes[k]];
    axis_stride[k] = out->strides[axes[k]];
    block[k] = bshape[axes[k]];
    unit_blocks &= block[k] == 1;
  }
  int64_t* idx = read_indices(ins + 1, nidx, npos);
  if (!idx) {
    free(tmp);
    return MLX_ERROR_MEMORY;
  }
  scatter_job j = {.dst = MLX_DATA(out, char),
                   .upd = upd,
                   .isz = isz,
                   .red = mode == MLX_SCATTER_NONE_ ? NULL : reducers[out->dtype][mode - 1],
                   .idx = idx,
                   .npos = npos,
                   .nidx = nidx,
                   .axis_len = axis_len,
                   .axis_stride = axis_stride,
                   .block = block,
                   .S = up->size / npos};
  int rc = make_layout(&j.L, out->shape, out->strides, bshape, nd);
  if (rc == MLX_OK) {
    /* Blocks of one element on every indexed axis write disjoint element
     * sets for distinct block elements, so the block splits over threads
     * (each keeps the positions in order). Otherwise two positions may
     * hit one element through different block elements: run serially. */
    if (unit_blocks && j.S > 1) {
      int64_t grain = (1 << 15) / (npos > 0 ? npos : 1);
      mlx_parallel_for_(j.S, grain > 0 ? grain : 1, scatter_range, &j);
    } else {
      scatter_range(&j, 0, j.S);
    }
  }
  free(j.L.offs);
  free(idx);
  free(tmp);
  return rc;
}

/* ---- gather_axis (take_along_axis) ---------------------------------------- */

/* out (M, J, K) around the axis; a has the same outer/inner dims (any
 * strides) and n elements on the axis. outer/inner hold a's element
 * offsets of each outer and inner position. */
typedef struct {
  const char* src;
  char* dst;
  size_t isz;
  const void* idx; /* out's shape, row-major: int32 or int64 */
  int idx32;
  const int64_t *outer, *inner;
  int64_t J, K, n, sa; /* sa: a's stride on the axis */
} gaxis_job;

/* Rows r = m * J + jj of K elements; m and jj advance without divisions.
 * K == 1 with a unit inner offset (the last axis) is the common case of
 * take_along_axis and gets its own loop. */
#define GAXIS_ROWS(T, IT)                                                          \
  static void gaxis_rows_##T##_##IT(const gaxis_job* j, int64_t b, int64_t e) {  \
    const T* restrict src = (const T*)j->src;                                      \
    T* restrict dst = (T*)j->dst;                                                  \
    const IT* restrict idx = (const IT*)j->idx;                                    \
    int64_t K = j->K, n = j->n, J = j->J, sa = j->sa;                              \
    int64_t m = b / J, jj = b % J;                                                 \
    for (int64_t r = b; r < e; r++) {                                              \
      const T* s = src + j->outer[m];                                              \
      if (K == 1) {                                                                \
        int64_t v = (int64_t)idx[r];                                               \
        v = v < 0 ? v + n : v;                                                     \
        v = v < 0 ? 0 : (v >= n ? n - 1 : v);                                      \
        dst[r] = s[v * sa + j->inner[0]];                                          \
      } else {                                                                     \
        const IT* ix = idx + r * K;                                                \
        T* d = dst + r * K;                                                        \
        for (int64_t k = 0; k < K; k++) {                                          \
          int64_t v = (int64_t)ix[k];                                              \
          v = v < 0 ? v + n : v;                                                   \
          v = v < 0 ? 0 : (v >= n ? n - 1 : v);                                    \
          d[k] = s[v * sa + j->inner[k]];                                          \
        }                                                                          \
      }                                                                            \
      if (++jj == J) jj = 0, m++;                                                  \
    }                                                                              \
  }
#define GAXIS_BOTH(T) GAXIS_ROWS(T, int32_t) GAXIS_ROWS(T, int64_t)
GAXIS_BOTH(uint8_t)
GAXIS_BOTH(uint16_t)
GAXIS_BOTH(uint32_t)
GAXIS_BOTH(uint64_t)

static void gaxis_range(void* ctx, int64_t b, int64_t e) {
  const gaxis_job* j = ctx;
#define GAXIS_CALL(T) (j->idx32 ? gaxis_rows_##T##_int32_t(j, b, e) : gaxis_rows_##T##_int64_t(j, b, e))
  switch (j->isz) {
    case 1: GAXIS_CALL(uint8_t); break;
    case 2: GAXIS_CALL(uint16_t); break;
    case 4: GAXIS_CALL(uint32_t); break;
    default: GAXIS_CALL(uint64_t); break;
  }
#undef GAXIS_CALL
}

/* Element offsets of every position of dims [d0, d1) of a (row-major
 * order) into a malloc'ed table of *count entries. */
static int64_t* dim_offsets(const mlx_node_* a, int d0, int d1, int64_t* count) {
  int64_t c = 1;
  for (int d = d0; d < d1; d++) c *= a->shape[d];
  *count = c;
  int64_t* t = malloc(sizeof(int64_t) * (size_t)(c > 0 ? c : 1));
  if (!t) return NULL;
  int64_t off = 0, cnt[d1 - d0 + 1];
  for (int d = 0; d < d1 - d0; d++) cnt[d] = 0;
  for (int64_t i = 0; i < c; i++) {
    t[i] = off;
    for (int d = d1 - 1; d >= d0; d--) {
      if (++cnt[d - d0] < a->shape[d]) {
        off += a->strides[d];
        break;
      }
      off -= (a->shape[d] - 1) * a->strides[d];
      cnt[d - d0] = 0;
    }
  }
  return t;
}

int mlx_cpu_gather_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  int axis = (int)*(const int64_t*)params;
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* ix = ins[1];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  /* int32 indices laid out row-major are read in place; others are
   * converted to int64 first. */
  int direct = ix->dtype == MLX_INT32 && (ix->flags & MLX_FLAG_ROW_CONTIG);
  int64_t* idx = direct ? NULL : malloc(sizeof(int64_t) * (size_t)out->size);
  int64_t M, K;
  int64_t* outer = dim_offsets(a, 0, axis, &M);
  int64_t* inner = dim_offsets(a, axis + 1, a->ndim, &K);
  int rc = MLX_OK;
  if ((!direct && !idx) || !outer || !inner) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[take_along_axis] Out of memory.");
  } else {
    if (!direct) mlx_node_copy_to_(idx, MLX_INT64, ix);
    gaxis_job j = {.src = MLX_DATA(a, char),
                   .dst = MLX_DATA(out, char),
                   .isz = mlx_dtype_size(a->dtype),
                   .idx = direct ? (const void*)MLX_DATA(ix, int32_t) : (const void*)idx,
                   .idx32 = direct,
                   .outer = outer,
                   .inner = inner,
                   .J = out->shape[axis],
                   .K = K,
                   .n = a->shape[axis],
                   .sa = a->strides[axis]};
    int64_t rows = M * j.J, grain = (1 << 15) / (K > 0 ? K : 1);
    mlx_parallel_for_(rows, grain > 0 ? grain : 1, gaxis_range, &j);
  }
  free(idx), free(outer), free(inner);
  return rc;
}

/* ---- scatter_axis (put_along_axis) ---------------------------------------- */

/* out (row-major, M x n x K around the axis) gets values (M x J x K) at
 * indices (M x J x K) along the axis. Different outer positions m touch
 * disjoint parts of out, so the pool splits over m; within one m the
 * positions run in order (the last write wins). */
typedef struct {
  char* dst;
  const char* upd;
  const int64_t* idx;
  size_t isz;
  reduce_fn red; /* NULL: plain write */
  int64_t J, K, n;
} saxis_job;

static void saxis_range(void* ctx, int64_t mb, int64_t me) {
  const saxis_job* j = ctx;
  int64_t J = j->J, K = j->K, n = j->n;
  size_t isz = j->isz;
  for (int64_t m = mb; m < me; m++)
    for (int64_t jj = 0; jj < J; jj++) {
      int64_t row = (m * J + jj) * K;
      for (int64_t k = 0; k < K; k++) {
        int64_t v = j->idx[row + k];
        if (v < 0) v += n;
        if (v < 0 || v >= n) continue;
        char* d = j->dst + (size_t)((m * n + v) * K + k) * isz;
        const char* u = j->upd + (size_t)(row + k) * isz;
        if (j->red) {
          j->red(d, u, 1);
          continue;
        }
        switch (isz) {
          case 1: *(uint8_t*)d = *(const uint8_t*)u; break;
          case 2: *(uint16_t*)d = *(const uint16_t*)u; break;
          case 4: *(uint32_t*)d = *(const uint32_t*)u; break;
          default: *(uint64_t*)d = *(const uint64_t*)u; break;
        }
      }
    }
}

int mlx_cpu_scatter_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const int64_t* p = params;
  int axis = (int)p[0], mode = (int)p[1];
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* ix = ins[1];
  mlx_node_* up = ins[2];
  int donated;
  MLX_TRY(mlx_node_donate_or_alloc_(out, a, &donated));
  if (out->size == 0) return MLX_OK;
  if (!donated) mlx_node_copy_to_(MLX_DATA(out, char), out->dtype, a);
  if (up->size == 0) return MLX_OK;
  size_t isz = mlx_dtype_size(out->dtype);
  int64_t* idx = malloc(sizeof(int64_t) * (size_t)ix->size);
  char* tmp = (up->flags & MLX_FLAG_ROW_CONTIG) ? NULL : malloc((size_t)up->size * isz);
  if (!idx || (!(up->flags & MLX_FLAG_ROW_CONTIG) && !tmp)) {
    free(idx), free(tmp);
    return mlx_error_(MLX_ERROR_MEMORY, "[put_along_axis] Out of memory.");
  }
  mlx_node_copy_to_(idx, MLX_INT64, ix);
  if (tmp) mlx_node_copy_to_(tmp, up->dtype, up);
  int64_t M = 1, K = 1;
  for (int d = 0; d < axis; d++) M *= out->shape[d];
  for (int d = axis + 1; d < out->ndim; d++) K *= out->shape[d];
  saxis_job j = {.dst = MLX_DATA(out, char),
                 .upd = tmp ? tmp : MLX_DATA(up, char),
                 .idx = idx,
                 .isz = isz,
                 .red = mode == MLX_SCATTER_NONE_ ? NULL : reducers[out->dtype][mode - 1],
                 .J = ix->shape[axis],
                 .K = K,
                 .n = out->shape[axis]};
  int64_t per = j.J * K, grain = (1 << 15) / (per > 0 ? per : 1);
  mlx_parallel_for_(M, grain > 0 ? grain : 1, saxis_range, &j);
  free(idx), free(tmp);
  return MLX_OK;
}
