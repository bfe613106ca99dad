/* Scan kernels: cumsum, cumprod, cummax, cummin, logcumsumexp.
 *
 * The input is read row-major (a strided input is first copied so), as
 * outer x n x inner with the scan along n. Each step is rounded to the
 * output dtype, as upstream's CPU backend does (float16 sums accumulate in
 * float16, integers wrap), and an inclusive scan starts from the first
 * element itself (so -0.0 stays -0.0). max/min of real numbers propagate
 * NaN; complex numbers compare by real part, then imaginary (upstream's
 * select, which lets a NaN through and then past it), and their
 * exclusive starts are (-inf, -inf) / (inf, inf). bool sums count in
 * int32; bool products are logical and, max or, min and. logaddexp is
 * max + log1p(exp(min - max)), in float (double for float64, which is
 * closer than upstream's float32 math) with float16/bfloat16 intermediates
 * rounded as upstream's half arithmetic rounds them.
 *
 * Layouts: inner == 1 (scan along the last axis) runs each row with a
 * scalar accumulator; otherwise a block of up to BLOCK inner positions is
 * scanned together, the inner loop contiguous (vectorized). Work is split
 * among threads over rows and inner blocks. The accumulator is separate
 * from the output and each input element is read before its output slot
 * is written, so the output may take the input's buffer (hence no
 * `restrict` on the two pointers). */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "half.h"
#include "sort.h"

#define BLOCK 512
#define GRAIN (1 << 15)

/* ---- element ops ----------------------------------------------------------- */

/* The scan ops per element type, on the accumulator type A (the compute
 * type: float for float16/bfloat16), converted from/to storage by LD/ST. */
#define ADD(a, x) ((a) + (x))
#define MUL(a, x) ((a) * (x))
#define AND(a, x) ((a) && (x))
#define OR(a, x) ((a) || (x))
#define MAXN(a, x) (((x) > (a) || (x) != (x)) && (a) == (a) ? (x) : (a))
#define MINN(a, x) (((x) < (a) || (x) != (x)) && (a) == (a) ? (x) : (a))
#define MAXI(a, x) ((x) > (a) ? (x) : (a))
#define MINI(a, x) ((x) < (a) ? (x) : (a))

static inline int c_lt(mlx_c64 a, mlx_c64 b) {
  return crealf(a) < crealf(b) || (crealf(a) == crealf(b) && cimagf(a) < cimagf(b));
}
static inline mlx_c64 c_mul(mlx_c64 a, mlx_c64 b) {
  float ar = crealf(a), ai = cimagf(a), br = crealf(b), bi = cimagf(b);
  return CMPLXF(ar * br - ai * bi, ar * bi + ai * br);
}
#define CMAX(a, x) (c_lt((x), (a)) ? (a) : (x))
#define CMIN(a, x) (c_lt((x), (a)) ? (x) : (a))

/* log(exp(a) + exp(x)) without overflow; two equal infinities give
 * themselves and NaN propagates. */
static inline float lae_f(float a, float x) {
  float mx = a > x ? a : x, mn = a > x ? x : a;
  if (a != a || x != x) return a + x;
  if (mn == mx && isinf(mx)) return mx;
  return mx + log1pf(expf(mn - mx));
}
/* The same for float16/bfloat16 values held in float, with every
 * intermediate rounded to the storage type R as upstream's half-precision
 * arithmetic does (it shows where mx and log1p(...) nearly cancel). */
#define R_F16(v) ((float)(mlx_f16)(v))
#define R_BF(v) mlx_bf16_to_f32(mlx_f32_to_bf16(v))
#define DEF_LAE_HALF(NAME, R)                          \
  static inline float NAME(float a, float x) {         \
    float mx = a > x ? a : x, mn = a > x ? x : a;      \
    if (a != a || x != x) return a + x;                \
    if (mn == mx && isinf(mx)) return mx;              \
    float d = R(mn - mx);                              \
    float e = R(expf(d));                              \
    return mx + R(log1pf(e));                          \
  }
DEF_LAE_HALF(lae_f16, R_F16)
DEF_LAE_HALF(lae_bf16, R_BF)
static inline double lae_d(double a, double x) {
  double mx = a > x ? a : x, mn = a > x ? x : a;
  if (a != a || x != x) return a + x;
  if (mn == mx && isinf(mx)) return mx;
  return mx + log1p(exp(mn - mx));
}
static inline mlx_c64 lae_c(mlx_c64 a, mlx_c64 x) {
  if (isinf(crealf(a)) && crealf(a) < 0) return x;
  if (isinf(crealf(x)) && crealf(x) < 0) return a;
  mlx_c64 mx = crealf(a) >= crealf(x) ? a : x, mn = crealf(a) >= crealf(x) ? x : a;
  return mx + clogf(1.0f + cexpf(mn - mx));
}
#define LAEF(a, x) lae_f((a), (x))
#define LAEH(a, x) lae_f16((a), (x))
#define LAEB(a, x) lae_bf16((a), (x))
#define LAED(a, x) lae_d((a), (x))
#define LAEC(a, x) lae_c((a), (x))

#define LD_ID(v) (v)
#define ST_ID(v) (v)
#define LD_F16(v) ((float)(v))
#define ST_F16(v) ((mlx_f16)(v))
#define LD_BF(v) mlx_bf16_to_f32(v)
#define ST_BF(v) mlx_f32_to_bf16(v)
#define LD_B(v) ((v) != 0)
#define ST_B(v) ((uint8_t)((v) != 0))
#define LD_BI(v) ((int32_t)(v))

/* One scan: T in, U out, A accumulator; OP(acc, x); INIT the exclusive
 * start (in A). Generates scan_NAME(in, out, n, inner, k0, k1, reverse,
 * inclusive): the rows of one outer index, inner positions [k0, k1). */
#define DEF_SCAN(NAME, T, U, A, LD, ST, OP, INIT)                                                         \
  static void scan_##NAME(const T* in, U* out, int64_t n, int64_t inner, int64_t k0,  \
                          int64_t k1, int reverse, int inclusive) {                                       \
    int64_t step = reverse ? -inner : inner;                                                              \
    int64_t start = reverse ? (n - 1) * inner : 0;                                                        \
    if (inner == 1) {                                                                                     \
      const T* x = in + start;                                                                            \
      U* y = out + start;                                                                                 \
      A acc = INIT;                                                                                       \
      int64_t i = 0;                                                                                      \
      if (inclusive && n > 0) {                                                                           \
        acc = LD(x[0]);                                                                                   \
        y[0] = ST(acc);                                                                                   \
        i = 1;                                                                                            \
      }                                                                                                   \
      for (; i < n; i++) {                                                                                \
        A v = LD(x[i * step]);                                                                            \
        if (inclusive) {                                                                                  \
          acc = OP(acc, v);                                                                               \
          acc = LD(ST(acc));                                                                              \
          y[i * step] = ST(acc);                                                                          \
        } else {                                                                                          \
          y[i * step] = ST(acc);                                                                          \
          acc = OP(acc, v);                                                                               \
          acc = LD(ST(acc));                                                                              \
        }                                                                                                 \
      }                                                                                                   \
      return;                                                                                             \
    }                                                                                                     \
    A acc[BLOCK];                                                                                         \
    for (int64_t b = k0; b < k1; b += BLOCK) {                                                            \
      int64_t m = k1 - b < BLOCK ? k1 - b : BLOCK;                                                        \
      const T* x = in + start + b;                                                                        \
      U* y = out + start + b;                                                                             \
      int64_t i = 0;                                                                                      \
      if (inclusive && n > 0) {                                                                           \
        for (int64_t k = 0; k < m; k++) {                                                                 \
          acc[k] = LD(x[k]);                                                                              \
          y[k] = ST(acc[k]);                                                                              \
        }                                                                                                 \
        i = 1;                                                                                            \
      } else {                                                                                            \
        for (int64_t k = 0; k < m; k++) acc[k] = INIT;                                                    \
      }                                                                                                   \
      for (; i < n; i++) {                                                                                \
        const T* xr = x + i * step;                                                                       \
        U* yr = y + i * step;                                                                             \
        if (inclusive) {                                                                                  \
          for (int64_t k = 0; k < m; k++) {                                                               \
            acc[k] = LD(ST(OP(acc[k], LD(xr[k]))));                                                       \
            yr[k] = ST(acc[k]);                                                                           \
          }                                                                                               \
        } else {                                                                                          \
          for (int64_t k = 0; k < m; k++) {                                                               \
            A v = LD(xr[k]);                                                                              \
            yr[k] = ST(acc[k]);                                                                           \
            acc[k] = LD(ST(OP(acc[k], v)));                                                               \
          }                                                                                               \
        }                                                                                                 \
      }                                                                                                   \
    }                                                                                                     \
  }

/* sum */
DEF_SCAN(sum_b, uint8_t, int32_t, int32_t, LD_BI, ST_ID, ADD, 0)
DEF_SCAN(sum_u8, uint8_t, uint8_t, uint8_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_u16, uint16_t, uint16_t, uint16_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_u32, uint32_t, uint32_t, uint32_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_u64, uint64_t, uint64_t, uint64_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_i8, int8_t, int8_t, uint8_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_i16, int16_t, int16_t, uint16_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_i32, int32_t, int32_t, uint32_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_i64, int64_t, int64_t, uint64_t, LD_ID, ST_ID, ADD, 0)
DEF_SCAN(sum_f16, mlx_f16, mlx_f16, float, LD_F16, ST_F16, ADD, 0.0f)
DEF_SCAN(sum_bf16, mlx_bf16, mlx_bf16, float, LD_BF, ST_BF, ADD, 0.0f)
DEF_SCAN(sum_f32, float, float, float, LD_ID, ST_ID, ADD, 0.0f)
DEF_SCAN(sum_f64, double, double, double, LD_ID, ST_ID, ADD, 0.0)
DEF_SCAN(sum_c64, mlx_c64, mlx_c64, mlx_c64, LD_ID, ST_ID, ADD, 0.0f)
/* prod (integers multiply as unsigned: wrapping without overflow UB) */
DEF_SCAN(prod_b, uint8_t, uint8_t, int, LD_B, ST_B, AND, 1)
DEF_SCAN(prod_u8, uint8_t, uint8_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_u16, uint16_t, uint16_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_u32, uint32_t, uint32_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_u64, uint64_t, uint64_t, uint64_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_i8, int8_t, int8_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_i16, int16_t, int16_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_i32, int32_t, int32_t, uint32_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_i64, int64_t, int64_t, uint64_t, LD_ID, ST_ID, MUL, 1)
DEF_SCAN(prod_f16, mlx_f16, mlx_f16, float, LD_F16, ST_F16, MUL, 1.0f)
DEF_SCAN(prod_bf16, mlx_bf16, mlx_bf16, float, LD_BF, ST_BF, MUL, 1.0f)
DEF_SCAN(prod_f32, float, float, float, LD_ID, ST_ID, MUL, 1.0f)
DEF_SCAN(prod_f64, double, double, double, LD_ID, ST_ID, MUL, 1.0)
DEF_SCAN(prod_c64, mlx_c64, mlx_c64, mlx_c64, LD_ID, ST_ID, c_mul, 1.0f)
/* max */
DEF_SCAN(max_b, uint8_t, uint8_t, int, LD_B, ST_B, OR, 0)
DEF_SCAN(max_u8, uint8_t, uint8_t, uint8_t, LD_ID, ST_ID, MAXI, 0)
DEF_SCAN(max_u16, uint16_t, uint16_t, uint16_t, LD_ID, ST_ID, MAXI, 0)
DEF_SCAN(max_u32, uint32_t, uint32_t, uint32_t, LD_ID, ST_ID, MAXI, 0)
DEF_SCAN(max_u64, uint64_t, uint64_t, uint64_t, LD_ID, ST_ID, MAXI, 0)
DEF_SCAN(max_i8, int8_t, int8_t, int8_t, LD_ID, ST_ID, MAXI, INT8_MIN)
DEF_SCAN(max_i16, int16_t, int16_t, int16_t, LD_ID, ST_ID, MAXI, INT16_MIN)
DEF_SCAN(max_i32, int32_t, int32_t, int32_t, LD_ID, ST_ID, MAXI, INT32_MIN)
DEF_SCAN(max_i64, int64_t, int64_t, int64_t, LD_ID, ST_ID, MAXI, INT64_MIN)
DEF_SCAN(max_f16, mlx_f16, mlx_f16, float, LD_F16, ST_F16, MAXN, -INFINITY)
DEF_SCAN(max_bf16, mlx_bf16, mlx_bf16, float, LD_BF, ST_BF, MAXN, -INFINITY)
DEF_SCAN(max_f32, float, float, float, LD_ID, ST_ID, MAXN, -INFINITY)
DEF_SCAN(max_f64, double, double, double, LD_ID, ST_ID, MAXN, -INFINITY)
DEF_SCAN(max_c64, mlx_c64, mlx_c64, mlx_c64, LD_ID, ST_ID, CMAX, CMPLXF(-INFINITY, -INFINITY))
/* min */
DEF_SCAN(min_b, uint8_t, uint8_t, int, LD_B, ST_B, AND, 1)
DEF_SCAN(min_u8, uint8_t, uint8_t, uint8_t, LD_ID, ST_ID, MINI, UINT8_MAX)
DEF_SCAN(min_u16, uint16_t, uint16_t, uint16_t, LD_ID, ST_ID, MINI, UINT16_MAX)
DEF_SCAN(min_u32, uint32_t, uint32_t, uint32_t, LD_ID, ST_ID, MINI, UINT32_MAX)
DEF_SCAN(min_u64, uint64_t, uint64_t, uint64_t, LD_ID, ST_ID, MINI, UINT64_MAX)
DEF_SCAN(min_i8, int8_t, int8_t, int8_t, LD_ID, ST_ID, MINI, INT8_MAX)
DEF_SCAN(min_i16, int16_t, int16_t, int16_t, LD_ID, ST_ID, MINI, INT16_MAX)
DEF_SCAN(min_i32, int32_t, int32_t, int32_t, LD_ID, ST_ID, MINI, INT32_MAX)
DEF_SCAN(min_i64, int64_t, int64_t, int64_t, LD_ID, ST_ID, MINI, INT64_MAX)
DEF_SCAN(min_f16, mlx_f16, mlx_f16, float, LD_F16, ST_F16, MINN, INFINITY)
DEF_SCAN(min_bf16, mlx_bf16, mlx_bf16, float, LD_BF, ST_BF, MINN, INFINITY)
DEF_SCAN(min_f32, float, float, float, LD_ID, ST_ID, MINN, INFINITY)
DEF_SCAN(min_f64, double, double, double, LD_ID, ST_ID, MINN, INFINITY)
DEF_SCAN(min_c64, mlx_c64, mlx_c64, mlx_c64, LD_ID, ST_ID, CMIN, CMPLXF(INFINITY, INFINITY))
/* logaddexp (the op constructor casts integer inputs to float32) */
DEF_SCAN(lae_f16, mlx_f16, mlx_f16, float, LD_F16, ST_F16, LAEH, -INFINITY)
DEF_SCAN(lae_bf16, mlx_bf16, mlx_bf16, float, LD_BF, ST_BF, LAEB, -INFINITY)
DEF_SCAN(lae_f32, float, float, float, LD_ID, ST_ID, LAEF, -INFINITY)
DEF_SCAN(lae_f64, double, double, double, LD_ID, ST_ID, LAED, -INFINITY)
DEF_SCAN(lae_c64, mlx_c64, mlx_c64, mlx_c64, LD_ID, ST_ID, LAEC, -INFINITY)

typedef void (*scan_fn)(const void* in, void* out, int64_t n, int64_t inner, int64_t k0, int64_t k1, int reverse,
                        int inclusive);

/* Column of the table per dtype, in mlx_dtype order of the switch below. */
#define ROW(K)                                                                                                   \
  {(scan_fn)scan_##K##_b, (scan_fn)scan_##K##_u8, (scan_fn)scan_##K##_u16, (scan_fn)scan_##K##_u32,                \
   (scan_fn)scan_##K##_u64, (scan_fn)scan_##K##_i8, (scan_fn)scan_##K##_i16, (scan_fn)scan_##K##_i32,              \
   (scan_fn)scan_##K##_i64, (scan_fn)scan_##K##_f16, (scan_fn)scan_##K##_bf16, (scan_fn)scan_##K##_f32,            \
   (scan_fn)scan_##K##_f64, (scan_fn)scan_##K##_c64}
static const scan_fn table[4][14] = {ROW(sum), ROW(prod), ROW(max), ROW(min)};
#undef ROW
static const scan_fn lae_table[14] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                      (scan_fn)scan_lae_f16, (scan_fn)scan_lae_bf16, (scan_fn)scan_lae_f32,
                                      (scan_fn)scan_lae_f64, (scan_fn)scan_lae_c64};

static int dtype_slot(mlx_dtype t) {
  switch (t) {
    case MLX_BOOL: return 0;
    case MLX_UINT8: return 1;
    case MLX_UINT16: return 2;
    case MLX_UINT32: return 3;
    case MLX_UINT64: return 4;
    case MLX_INT8: return 5;
    case MLX_INT16: return 6;
    case MLX_INT32: return 7;
    case MLX_INT64: return 8;
    case MLX_FLOAT16: return 9;
    case MLX_BFLOAT16: return 10;
    case MLX_FLOAT32: return 11;
    case MLX_FLOAT64: return 12;
    case MLX_COMPLEX64: return 13;
    default: return -1;
  }
}

typedef struct {
  scan_fn fn;
  const char* in;
  char* out;
  size_t isz, osz;
  int64_t n, inner, nblocks, chunk;
  int reverse, inclusive;
} scan_job;

/* Task t = (outer o, inner block b) */
static void scan_range(void* ctx, int64_t begin, int64_t end) {
  scan_job* j = ctx;
  for (int64_t t = begin; t < end; t++) {
    int64_t o = t / j->nblocks, b = t % j->nblocks;
    int64_t k0 = b * j->chunk, k1 = k0 + j->chunk < j->inner ? k0 + j->chunk : j->inner;
    int64_t base = o * j->n * j->inner;
    j->fn(j->in + (size_t)base * j->isz, j->out + (size_t)base * j->osz, j->n, j->inner, k0, k1, j->reverse,
          j->inclusive);
  }
}

int mlx_cpu_scan_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_scan_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  int slot = dtype_slot(in->dtype);
  scan_fn fn = slot < 0 ? NULL : p->kind == MLX_SCAN_LOGADDEXP_ ? lae_table[slot] : table[p->kind][slot];
  if (!fn) return mlx_error_(MLX_ERROR_DTYPE, "[scan] unsupported dtype %s", mlx_dtype_name(in->dtype));
  size_t isz = mlx_dtype_size(in->dtype), osz = mlx_dtype_size(out->dtype);
  void* tmp = NULL;
  const char* src;
  if (in->flags & MLX_FLAG_ROW_CONTIG) {
    src = (const char*)MLX_DATA(in, char);
  } else {
    tmp = malloc((size_t)(in->size > 0 ? in->size : 1) * isz);
    if (!tmp) return mlx_error_(MLX_ERROR_MEMORY, "[scan] out of memory");
    mlx_node_copy_to_(tmp, in->dtype, in);
    src = tmp;
  }
  int donated = 0;
  int rc = in->dtype == out->dtype && !tmp ? mlx_node_donate_or_alloc_(out, in, &donated) : mlx_node_alloc_(out);
  if (rc || out->size == 0) {
    free(tmp);
    return rc;
  }
  scan_job j = {.fn = fn, .in = src, .out = (char*)MLX_DATA(out, char), .isz = isz, .osz = osz,
                .n = in->shape[p->axis], .inner = 1, .reverse = p->reverse, .inclusive = p->inclusive};
  for (int d = p->axis + 1; d < in->ndim; d++) j.inner *= in->shape[d];
  int64_t outer = in->size / (j.n * j.inner);
  /* inner blocks: whole BLOCK multiples, enough tasks to feed the pool */
  j.chunk = j.inner;
  if (j.inner > BLOCK && outer < 8) j.chunk = BLOCK * ((j.inner / 8 + BLOCK - 1) / BLOCK);
  j.nblocks = (j.inner + j.chunk - 1) / j.chunk;
  int64_t per_task = j.n * j.chunk;
  mlx_parallel_for_(outer * j.nblocks, per_task >= GRAIN ? 1 : GRAIN / per_task, scan_range, &j);
  free(tmp);
  return MLX_OK;
}
