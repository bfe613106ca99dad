/* Kernels of the creation ops: fills, arange, linspace, eye, tri and
 * tril/triu. Values follow upstream MLX bit for bit: arange accumulates
 * in the output type, linspace computes in float32 (float64 for a float64
 * output), and conversions are those of astype (cpu/copy.c). */
#include <math.h>

#include "create.h"
#include "half.h"

#define GRAIN (1 << 16)

/* The bits of `v` converted to dtype as astype would (8 bytes cover every
 * dtype). */
static void scalar_bits(unsigned char bits[8], mlx_dtype dt, double v) {
  memset(bits, 0, 8);
  mlx_copy_cast_(bits, dt, &v, MLX_FLOAT64, NULL, NULL, 0);
}

/* ---- fills ---------------------------------------------------------------- */

typedef struct {
  char* dst;
  size_t size;
  unsigned char v[8];
} fill_job;

static void fill_range(void* ctx, int64_t b, int64_t e) {
  const fill_job* j = ctx;
  int64_t n = e - b;
  switch (j->size) {
    case 1:
      memset(j->dst + b, j->v[0], (size_t)n);
      break;
    case 2: {
      uint16_t x, *restrict d = (uint16_t*)j->dst + b;
      memcpy(&x, j->v, 2);
      for (int64_t i = 0; i < n; i++) d[i] = x;
      break;
    }
    case 4: {
      uint32_t x, *restrict d = (uint32_t*)j->dst + b;
      memcpy(&x, j->v, 4);
      for (int64_t i = 0; i < n; i++) d[i] = x;
      break;
    }
    default: {
      uint64_t x, *restrict d = (uint64_t*)j->dst + b;
      memcpy(&x, j->v, 8);
      for (int64_t i = 0; i < n; i++) d[i] = x;
      break;
    }
  }
}

static void memset_range(void* ctx, int64_t b, int64_t e) {
  const fill_job* j = ctx;
  memset(j->dst + b * (int64_t)j->size, j->v[0], (size_t)(e - b) * j->size);
}

/* Sets n elements of `size` bytes at dst to the bits in v. */
static void fill(void* dst, int64_t n, size_t size, const unsigned char v[8]) {
  fill_job j = {dst, size, {0}};
  memcpy(j.v, v, size < 8 ? size : 8);
  int same = 1; /* all bytes equal (0, -1, ...): memset does it */
  for (size_t i = 1; i < j.size && i < 8; i++) same &= j.v[i] == j.v[0];
  mlx_parallel_for_(n, GRAIN, same ? memset_range : fill_range, &j);
}

int mlx_cpu_full_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  const mlx_full_params_* p = params;
  mlx_node_* out = outs[0];
  size_t size = mlx_dtype_size(out->dtype);
  unsigned char v[8];
  if (nin == 0) {
    MLX_TRY(mlx_node_alloc_(out));
    scalar_bits(v, out->dtype, p->value);
    fill(out->buf->data, out->size, size, v);
    return MLX_OK;
  }
  mlx_node_* in = ins[0];
  int same_shape = in->ndim == out->ndim && (out->ndim == 0 || !memcmp(in->shape, out->shape, sizeof(int64_t) * (size_t)out->ndim));
  if (same_shape && in->dtype == out->dtype && (in->flags & MLX_FLAG_ROW_CONTIG)) {
    mlx_node_set_view_(out, in, in->offset, in->strides);
    return MLX_OK;
  }
  if (in->size == 1) {
    MLX_TRY(mlx_node_alloc_(out));
    memset(v, 0, sizeof v);
    mlx_copy_cast_(v, out->dtype, MLX_DATA(in, char), in->dtype, NULL, NULL, 0);
    fill(out->buf->data, out->size, size, v);
    return MLX_OK;
  }
  int donated = 0;
  if (same_shape) MLX_TRY(mlx_node_donate_or_alloc_(out, in, &donated));
  else MLX_TRY(mlx_node_alloc_(out));
  /* Strides of vals aligned to the output's dims: 0 where it broadcasts. */
  int nd = out->ndim;
  int64_t str[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) {
    int iv = i - (nd - in->ndim);
    str[i] = (iv < 0 || in->shape[iv] == 1) ? 0 : in->strides[iv];
  }
  mlx_copy_cast_(out->buf->data, out->dtype, MLX_DATA(in, char), in->dtype, out->shape, str, nd);
  return MLX_OK;
}

/* ---- arange --------------------------------------------------------------- */

/* double -> integer bits the way a C++ static_cast does on x86-64 for
 * in-range values (through int64, wrapping into narrower types). */
static uint64_t int_bits(double v) {
  if (v >= -9223372036854775808.0 && v < 9223372036854775808.0) return (uint64_t)(int64_t)v;
  if (v >= 0 && v < 18446744073709551616.0) return (uint64_t)v;
  return UINT64_C(1) << 63;
}

typedef struct {
  void* out;
  uint64_t s, d; /* integers: start and step bits */
  double fs, fd; /* exact floats: start and step */
} arange_job;

/* Integers: MLX adds T(start + step) - T(start) in T, wrapping; start +
 * i * d computed mod 2^64 then truncated gives the same values and needs no
 * running sum, so it parallelises. */
#define ARANGE_INT(NAME, T)                                   \
  static void arange_##NAME(void* ctx, int64_t b, int64_t e) { \
    const arange_job* j = ctx;                                \
    T* restrict o = j->out;                                   \
    for (int64_t i = b; i < e; i++) o[i] = (T)(j->s + (uint64_t)i * j->d); \
  }
ARANGE_INT(u8, uint8_t)
ARANGE_INT(u16, uint16_t)
ARANGE_INT(u32, uint32_t)
ARANGE_INT(u64, uint64_t)
ARANGE_INT(i8, int8_t)
ARANGE_INT(i16, int16_t)
ARANGE_INT(i32, int32_t)
ARANGE_INT(i64, int64_t)

/* Floats whose running sum is exact (integral start and step, every value
 * within the mantissa): start + i * step equals the accumulated value. */
#define ARANGE_EXACT(NAME, T, CONV)                                \
  static void arange_exact_##NAME(void* ctx, int64_t b, int64_t e) { \
    const arange_job* j = ctx;                                     \
    T* restrict o = j->out;                                        \
    for (int64_t i = b; i < e; i++) o[i] = CONV(j->fs + (double)i * j->fd); \
  }
#define TO_F32(x) ((float)(x))
#define TO_F64(x) ((double)(x))
#define TO_F16(x) ((mlx_f16)(float)(x))
#define TO_BF16(x) mlx_f32_to_bf16((float)(x))
#define TO_C64(x) ((mlx_c64)(float)(x))
ARANGE_EXACT(f32, float, TO_F32)
ARANGE_EXACT(f64, double, TO_F64)
ARANGE_EXACT(f16, mlx_f16, TO_F16)
ARANGE_EXACT(bf16, mlx_bf16, TO_BF16)
ARANGE_EXACT(c64, mlx_c64, TO_C64)

/* Otherwise the running sum of MLX, rounded to T at every step (half types
 * add in float and round, as MLX's float16_t / bfloat16_t do). A double
 * becomes a half type through float, as in MLX. */
static void arange_seq_f32(float* restrict o, int64_t n, double start, double step) {
  float s = (float)start, d = (float)(start + step) - s;
  for (int64_t i = 0; i < n; i++, s += d) o[i] = s;
}
static void arange_seq_c64(mlx_c64* restrict o, int64_t n, double start, double step) {
  float s = (float)start, d = (float)(start + step) - s;
  for (int64_t i = 0; i < n; i++, s += d) o[i] = s;
}
static void arange_seq_f64(double* restrict o, int64_t n, double start, double step) {
  double s = start, d = (start + step) - start;
  for (int64_t i = 0; i < n; i++, s += d) o[i] = s;
}
static void arange_seq_f16(mlx_f16* restrict o, int64_t n, double start, double step) {
  mlx_f16 s = (mlx_f16)(float)start;
  mlx_f16 d = (mlx_f16)((float)(mlx_f16)(float)(start + step) - (float)s);
  for (int64_t i = 0; i < n; i++) {
    o[i] = s;
    s = (mlx_f16)((float)s + (float)d);
  }
}
static void arange_seq_bf16(mlx_bf16* restrict o, int64_t n, double start, double step) {
  float s = mlx_bf16_to_f32(mlx_f32_to_bf16((float)start));
  float next = mlx_bf16_to_f32(mlx_f32_to_bf16((float)(start + step)));
  float d = mlx_bf16_to_f32(mlx_f32_to_bf16(next - s));
  for (int64_t i = 0; i < n; i++) {
    o[i] = mlx_f32_to_bf16(s);
    s = mlx_bf16_to_f32(mlx_f32_to_bf16(s + d));
  }
}

/* Start and step as the output type holds them (as doubles), and the
 * mantissa bits of that type. */
static void float_start_step(mlx_dtype dt, double start, double step, double* fs, double* fd, int* bits) {
  switch (dt) {
    case MLX_FLOAT64:
      *fs = start;
      *fd = (start + step) - start;
      *bits = 53;
      break;
    case MLX_FLOAT16: {
      float s = (float)(mlx_f16)(float)start, nx = (float)(mlx_f16)(float)(start + step);
      *fs = s;
      *fd = (float)(mlx_f16)(nx - s);
      *bits = 11;
      break;
    }
    case MLX_BFLOAT16: {
      float s = mlx_bf16_to_f32(mlx_f32_to_bf16((float)start));
      float nx = mlx_bf16_to_f32(mlx_f32_to_bf16((float)(start + step)));
      *fs = s;
      *fd = mlx_bf16_to_f32(mlx_f32_to_bf16(nx - s));
      *bits = 8;
      break;
    }
    default: /* float32, complex64 */
      *fs = (float)start;
      *fd = (float)(start + step) - (float)start;
      *bits = 24;
      break;
  }
}

int mlx_cpu_arange_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)ins;
  (void)nin;
  const mlx_arange_params_* p = params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  int64_t n = out->size;
  if (n == 0) return MLX_OK;
  void* o = out->buf->data;
  arange_job j = {o, 0, 0, 0, 0};
  if (mlx_dtype_is_integer(out->dtype)) {
    j.s = int_bits(p->start);
    /* With one element the step (maybe infinite) is never used. */
    j.d = n > 1 ? int_bits(p->start + p->step) - j.s : 0;
    mlx_range_fn_ fn = NULL;
    switch (out->dtype) {
      case MLX_UINT8: fn = arange_u8; break;
      case MLX_UINT16: fn = arange_u16; break;
      case MLX_UINT32: fn = arange_u32; break;
      case MLX_UINT64: fn = arange_u64; break;
      case MLX_INT8: fn = arange_i8; break;
      case MLX_INT16: fn = arange_i16; break;
      case MLX_INT32: fn = arange_i32; break;
      default: fn = arange_i64; break;
    }
    mlx_parallel_for_(n, GRAIN, fn, &j);
    return MLX_OK;
  }
  int bits;
  float_start_step(out->dtype, p->start, n > 1 ? p->step : 0.0, &j.fs, &j.fd, &bits);
  double limit = ldexp(1.0, bits);
  if (j.fs == floor(j.fs) && j.fd == floor(j.fd) && fabs(j.fs) + (double)(n - 1) * fabs(j.fd) <= limit) {
    mlx_range_fn_ fn;
    switch (out->dtype) {
      case MLX_FLOAT64: fn = arange_exact_f64; break;
      case MLX_FLOAT16: fn = arange_exact_f16; break;
      case MLX_BFLOAT16: fn = arange_exact_bf16; break;
      case MLX_COMPLEX64: fn = arange_exact_c64; break;
      default: fn = arange_exact_f32; break;
    }
    mlx_parallel_for_(n, GRAIN, fn, &j);
    return MLX_OK;
  }
  switch (out->dtype) {
    case MLX_FLOAT64: arange_seq_f64(o, n, p->start, p->step); break;
    case MLX_FLOAT16: arange_seq_f16(o, n, p->start, p->step); break;
    case MLX_BFLOAT16: arange_seq_bf16(o, n, p->start, p->step); break;
    case MLX_COMPLEX64: arange_seq_c64(o, n, p->start, p->step); break;
    default: arange_seq_f32(o, n, p->start, p->step); break;
  }
  return MLX_OK;
}

/* ---- linspace ------------------------------------------------------------- */

/* MLX: t = arange(num) / (num - 1); (1 - t) * start + t * stop, each op
 * rounded on its own, in float32, or float64 for a float64 output; then
 * astype. arange(num) in float32 counts by adding 1, which sticks at 2^24.
 * A fused multiply-add would change the last bit, so contraction is off
 * for these loops whatever the build flags say. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define NO_FP_CONTRACT
#elif defined(__GNUC__)
#define NO_FP_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NO_FP_CONTRACT
#endif
typedef struct {
  char* out;
  mlx_dtype dt;
  double start, stop, den;
} lin_job;

#define LIN_CHUNK 256

NO_FP_CONTRACT static void lin_f32(void* ctx, int64_t b, int64_t e) {
  const lin_job* j = ctx;
  float s = (float)j->start, t1 = (float)j->stop, den = (float)j->den;
  size_t osize = mlx_dtype_size(j->dt);
  float tmp[LIN_CHUNK];
  for (int64_t c = b; c < e; c += LIN_CHUNK) {
    int64_t len = e - c < LIN_CHUNK ? e - c : LIN_CHUNK;
    float* restrict v = j->dt == MLX_FLOAT32 ? (float*)j->out + c : tmp;
    for (int64_t i = 0; i < len; i++) {
      int64_t k = c + i;
      float x = k < 16777216 ? (float)k : 16777216.0f;
      float t = x / den;
      float tb = 1.0f - t;
      float lo = tb * s;
      float hi = t * t1;
      v[i] = lo + hi;
    }
    if (v == tmp) {
      int64_t one = 1;
      mlx_copy_cast_(j->out + c * (int64_t)osize, j->dt, tmp, MLX_FLOAT32, &len, &one, 1);
    }
  }
}

NO_FP_CONTRACT static void lin_f64(void* ctx, int64_t b, int64_t e) {
  const lin_job* j = ctx;
  double* restrict v = (double*)j->out;
  for (int64_t k = b; k < e; k++) {
    double t = (double)k / j->den;
    double tb = 1.0 - t;
    double lo = tb * j->start;
    double hi = t * j->stop;
    v[k] = lo + hi;
  }
}

int mlx_cpu_linspace_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)ins;
  (void)nin;
  const mlx_linspace_params_* p = params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  int64_t n = out->size;
  if (n == 0) return MLX_OK;
  if (n == 1) {
    /* MLX makes a float32 scalar of start, then casts it. */
    float v = (float)p->start;
    mlx_copy_cast_(out->buf->data, out->dtype, &v, MLX_FLOAT32, NULL, NULL, 0);
    return MLX_OK;
  }
  lin_job j = {out->buf->data, out->dtype, p->start, p->stop, (double)(n - 1)};
  if (out->dtype == MLX_FLOAT64) {
    mlx_parallel_for_(n, GRAIN, lin_f64, &j);
  } else {
    j.den = (float)(n - 1);
    mlx_parallel_for_(n, GRAIN, lin_f32, &j);
  }
  return MLX_OK;
}

/* ---- eye, tri, tril, triu -------------------------------------------------- */

/* Clamps i + k into [0, m] without overflow. */
static int64_t clamp_add(int64_t i, int64_t k, int64_t m) {
  if (k > m) return m;
  if (k < -i) return 0;
  int64_t v = i + k;
  return v > m ? m : v;
}

int mlx_cpu_eye_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)ins;
  (void)nin;
  const mlx_diag_params_* p = params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  size_t size = mlx_dtype_size(out->dtype);
  int64_t n = out->shape[0], m = out->shape[1], k = p->k;
  unsigned char zero[8] = {0}, one[8];
  fill(out->buf->data, out->size, size, zero);
  scalar_bits(one, out->dtype, 1.0);
  /* Ones at (i, i + k) for the rows where that column exists. */
  int64_t first = k >= 0 ? 0 : (k < -n ? n : -k);
  char* d = out->buf->data;
  for (int64_t i = first; i < n && k < m - i; i++) memcpy(d + (size_t)(i * m + i + k) * size, one, size);
  return MLX_OK;
}

typedef struct {
  char* out;
  const char* in; /* row-major input rows (tril/triu), NULL to fill ones (tri) */
  size_t size;
  int64_t rows, cols, k;
  int upper;
  int in_place; /* out already holds the input values */
  unsigned char one[8];
} band_job;

/* Row r of a stack of rows x cols matrices: keeps the columns
 * [lo, hi) and zeroes the others. tri/tril keep j <= i + k, triu keeps
 * j >= i + k. */
static void band_rows(void* ctx, int64_t b, int64_t e) {
  const band_job* j = ctx;
  size_t rb = (size_t)j->cols * j->size;
  unsigned char zero[8] = {0};
  for (int64_t r = b; r < e; r++) {
    int64_t i = r % j->rows;
    int64_t lo = j->upper ? clamp_add(i, j->k, j->cols) : 0;
    int64_t hi = j->upper ? j->cols : clamp_add(i, j->k == INT64_MAX ? j->k : j->k + 1, j->cols);
    char* row = j->out + (size_t)r * rb;
    if (j->in_place) {
      memset(row, 0, (size_t)lo * j->size);
      memset(row + (size_t)hi * j->size, 0, (size_t)(j->cols - hi) * j->size);
    } else if (j->in) {
      memset(row, 0, (size_t)lo * j->size);
      memcpy(row + (size_t)lo * j->size, j->in + (size_t)r * rb + (size_t)lo * j->size, (size_t)(hi - lo) * j->size);
      memset(row + (size_t)hi * j->size, 0, (size_t)(j->cols - hi) * j->size);
    } else {
      fill_job f = {row, j->size, {0}};
      memcpy(f.v, j->one, 8);
      fill_range(&f, 0, hi);
      memcpy(f.v, zero, 8);
      memset_range(&f, hi, j->cols);
    }
  }
}

static void run_band(band_job* j, int64_t nrows) {
  int64_t grain = GRAIN / (j->cols > 0 ? j->cols : 1) + 1;
  mlx_parallel_for_(nrows, grain, band_rows, j);
}

int mlx_cpu_tri_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)ins;
  (void)nin;
  const mlx_diag_params_* p = params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  band_job j = {out->buf->data, NULL, mlx_dtype_size(out->dtype), out->shape[0], out->shape[1], p->k, 0, 0, {0}};
  scalar_bits(j.one, out->dtype, 1.0);
  if (out->size) run_band(&j, j.rows);
  return MLX_OK;
}

int mlx_cpu_tril_triu_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_diag_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  int donated;
  MLX_TRY(mlx_node_donate_or_alloc_(out, in, &donated));
  if (out->size == 0) return MLX_OK;
  int nd = out->ndim;
  band_job j = {out->buf->data, NULL, mlx_dtype_size(out->dtype), out->shape[nd - 2], out->shape[nd - 1], p->k, p->upper, 1, {0}};
  if (!donated) {
    if (in->flags & MLX_FLAG_ROW_CONTIG) {
      j.in = MLX_DATA(in, char);
      j.in_place = 0;
    } else {
      mlx_node_copy_to_(out->buf->data, out->dtype, in);
    }
  }
  run_band(&j, out->size / j.cols);
  return MLX_OK;
}
