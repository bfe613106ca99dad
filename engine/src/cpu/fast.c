/* CPU kernels of the fast ops: RMS / layer normalization, rotary
 * embeddings and scaled dot-product attention. Each is specialized per
 * dtype by macros and computes in float (double for float64). Where
 * upstream's composition rounds an intermediate to the input's dtype
 * (x * rsqrt(...) before the weight, cos/sin before the products), the
 * kernels round there too, so half-precision results track Python MLX's
 * to the last bit in most elements. Work is split over rows (norms),
 * positions (rope) or (batch, head, query block) items (attention) with
 * mlx_parallel_for_. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise.h"
#include "fast.h"
#include "half.h"

/* ---- element access per dtype ------------------------------------------ */
#define LD_F32(p) (p)
#define ST_F32(v) (v)
#define LD_F64(p) (p)
#define ST_F64(v) (v)
#define LD_F16(p) ((float)(p))
#define ST_F16(v) ((mlx_f16)(v))
#define LD_BF16(p) mlx_bf16_to_f32(p)
#define ST_BF16(v) mlx_f32_to_bf16(v)
/* Rounds v through the storage type (a no-op for float32/float64). */
#define RND(LD, ST, v) LD(ST(v))

/* A row-major view of an evaluated node's data: its own buffer when it is
 * row-contiguous, else a packed copy in *tmp (released by the caller). */
static int dense_data(const void** data, mlx_buffer_** tmp, const mlx_node_* n) {
  *tmp = NULL;
  if (n->flags & MLX_FLAG_ROW_CONTIG) {
    *data = MLX_DATA(n, char);
    return MLX_OK;
  }
  mlx_buffer_* b = mlx_buffer_alloc_((size_t)n->size * mlx_dtype_size(n->dtype));
  if (!b) return MLX_ERROR_MEMORY;
  mlx_node_copy_to_(b->data, n->dtype, n);
  *tmp = b;
  *data = b->data;
  return MLX_OK;
}

/* The first d elements of a 1-D (or broadcast 0-d) parameter as floats
 * of the compute type: w[i] or w[0] for a scalar. */
static int param_vector(void** out, const mlx_node_* n, int64_t d, mlx_dtype acc) {
  size_t isz = mlx_dtype_size(acc);
  *out = malloc(isz * (size_t)(d > 0 ? d : 1));
  if (!*out) return mlx_error_(MLX_ERROR_MEMORY, "[fast] out of memory");
  int64_t shape[1] = {d}, strides[1] = {n->ndim ? n->strides[0] : 0};
  mlx_copy_cast_(*out, acc, MLX_DATA(n, char), n->dtype, shape, strides, 1);
  return MLX_OK;
}

/* ---- normalization -------------------------------------------------------- */
typedef struct {
  const void* x;
  void* out;
  const void* w; /* compute-type vectors of d */
  const void* b;
  int64_t d;
  float eps;
} norm_job;

/* The sum of eight partial sums (lanes that let the loops vectorize). */
#define LANES_SUM(a) (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])))

/* rms: y = round(x * rsqrt(mean(x^2) + eps)) then round(y * w), the
 * order of upstream's composition. */
#define RMS_ROWS(NAME, T, ACC, LD, ST)                                    \
  static void NAME(void* ctx, int64_t r0, int64_t r1) {                   \
    const norm_job* j = ctx;                                              \
    const int64_t d = j->d;                                               \
    const ACC* restrict w = j->w;                                         \
    for (int64_t r = r0; r < r1; r++) {                                   \
      const T* restrict x = (const T*)j->x + r * d;                       \
      T* restrict o = (T*)j->out + r * d;                                 \
      ACC acc[8] = {0};                                                   \
      int64_t i8 = 0;                                                     \
      for (; i8 + 8 <= d; i8 += 8)                                        \
        for (int u = 0; u < 8; u++) {                                     \
          ACC v = LD(x[i8 + u]);                                          \
          acc[u] += v * v;                                                \
        }                                                                 \
      for (; i8 < d; i8++) {                                              \
        ACC v = LD(x[i8]);                                                \
        acc[0] += v * v;                                                  \
      }                                                                   \
      ACC ss = LANES_SUM(acc);                                            \
      ACC n = (ACC)1 / sqrt(ss / (ACC)d + (ACC)j->eps);                   \
      for (int64_t i = 0; i < d; i++) o[i] = ST(RND(LD, ST, LD(x[i]) * n) * w[i]); \
    }                                                                     \
  }

/* layer norm: two passes (mean, then centered variance) in ACC. */
#define LN_ROWS(NAME, T, ACC, LD, ST)                                     \
  static void NAME(void* ctx, int64_t r0, int64_t r1) {                   \
    const norm_job* j = ctx;                                              \
    const int64_t d = j->d;                                               \
    const ACC* restrict w = j->w;                                         \
    const ACC* restrict b = j->b;                                         \
    for (int64_t r = r0; r < r1; r++) {                                   \
      const T* restrict x = (const T*)j->x + r * d;                       \
      T* restrict o = (T*)j->out + r * d;                                 \
      ACC acc[8] = {0};                                                   \
      int64_t i8 = 0;                                                     \
      for (; i8 + 8 <= d; i8 += 8)                                        \
        for (int u = 0; u < 8; u++) acc[u] += LD(x[i8 + u]);              \
      for (; i8 < d; i8++) acc[0] += LD(x[i8]);                           \
      ACC mu = LANES_SUM(acc) / (ACC)d;                                   \
      for (int u = 0; u < 8; u++) acc[u] = 0;                             \
      for (i8 = 0; i8 + 8 <= d; i8 += 8)                                  \
        for (int u = 0; u < 8; u++) {                                     \
          ACC c = LD(x[i8 + u]) - mu;                                     \
          acc[u] += c * c;                                                \
        }                                                                 \
      for (; i8 < d; i8++) {                                              \
        ACC c = LD(x[i8]) - mu;                                           \
        acc[0] += c * c;                                                  \
      }                                                                   \
      ACC v = LANES_SUM(acc);                                             \
      ACC n = (ACC)1 / sqrt(v / (ACC)d + (ACC)j->eps);                    \
      for (int64_t i = 0; i < d; i++) {                                   \
        ACC y = RND(LD, ST, (LD(x[i]) - mu) * n);                         \
        o[i] = ST(RND(LD, ST, y * w[i]) + b[i]);                          \
      }                                                                   \
    }                                                                     \
  }

RMS_ROWS(rms_f32, float, float, LD_F32, ST_F32)
RMS_ROWS(rms_f64, double, double, LD_F64, ST_F64)
RMS_ROWS(rms_f16, mlx_f16, float, LD_F16, ST_F16)
RMS_ROWS(rms_bf16, mlx_bf16, float, LD_BF16, ST_BF16)
LN_ROWS(ln_f32, float, float, LD_F32, ST_F32)
LN_ROWS(ln_f64, double, double, LD_F64, ST_F64)
LN_ROWS(ln_f16, mlx_f16, float, LD_F16, ST_F16)
LN_ROWS(ln_bf16, mlx_bf16, float, LD_BF16, ST_BF16)

static int norm_kernel(mlx_node_** outs, mlx_node_** ins, int nin, const void* params, int layer) {
  mlx_node_* out = outs[0];
  mlx_node_* x = ins[0];
  const mlx_fast_norm_params_* p = params;
  mlx_dtype dt = out->dtype, acc = dt == MLX_FLOAT64 ? MLX_FLOAT64 : MLX_FLOAT32;
  int donated = 0;
  MLX_TRY((x->flags & MLX_FLAG_ROW_CONTIG) ? mlx_node_donate_or_alloc_(out, x, &donated) : mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  norm_job j = {.d = x->shape[x->ndim - 1], .eps = p->eps, .out = out->buf->data};
  mlx_buffer_* tmp = NULL;
  void *w = NULL, *b = NULL;
  int rc = dense_data(&j.x, &tmp, x);
  if (rc) return mlx_error_(rc, "[fast] out of memory");
  rc = param_vector(&w, ins[1], j.d, acc);
  if (!rc && layer) rc = param_vector(&b, ins[2], j.d, acc);
  if (!rc) {
    j.w = w;
    j.b = b;
    mlx_range_fn_ fn;
    switch (dt) {
      case MLX_FLOAT64: fn = layer ? ln_f64 : rms_f64; break;
      case MLX_FLOAT16: fn = layer ? ln_f16 : rms_f16; break;
      case MLX_BFLOAT16: fn = layer ? ln_bf16 : rms_bf16; break;
      default: fn = layer ? ln_f32 : rms_f32; break;
    }
    int64_t rows = out->size / j.d;
    mlx_parallel_for_(rows, (1 << 15) / j.d + 1, fn, &j);
  }
  free(w);
  free(b);
  if (tmp) mlx_buffer_release_(tmp);
  (void)nin;
  return rc;
}

int mlx_cpu_fast_rms_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  return norm_kernel(outs, ins, nin, params, 0);
}

int mlx_cpu_fast_layer_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  return norm_kernel(outs, ins, nin, params, 1);
}

/* ---- rope ------------------------------------------------------------------ */
typedef struct {
  const void* x;
  void* out;
  const float* inv_freq; /* dims / 2 */
  const void* offset;    /* int32 or uint32, 1 or B entries */
  int off_unsigned;
  int64_t noff;
  int64_t nheads, T, D; /* x is [B, nheads, T, D] once the middle dims are merged */
  int dims, traditional, forward;
  float scale;
  int err;
} rope_job;

/* Items are (b, t) positions: the angles are computed once and applied to
 * every head. Angles in float32; cos/sin by the formulas of upstream's
 * float32 cos and sin ops (elementwise.h, as the GPU kernel), libm's
 * cosf/sinf for float64 (which match upstream's float64 results), rounded
 * to the dtype; then each product rounded, as upstream's composition. */
#define ROPE_ITEMS(NAME, TY, ACC, LD, ST, COS, SIN)                                             \
  static void NAME(void* ctx, int64_t i0, int64_t i1) {                                \
    rope_job* j = ctx;                                                           \
    const int half = j->dims / 2;                                                      \
    ACC* cs = malloc(sizeof(ACC) * 2 * (size_t)(half > 0 ? half : 1));                 \
    if (!cs) {                                                                         \
      j->err = 1;                                                                      \
      return;                                                                          \
    }                                                                                  \
    ACC* sn = cs + half;                                                               \
    for (int64_t it = i0; it < i1; it++) {                                             \
      int64_t b = it / j->T, t = it % j->T, ob = j->noff > 1 ? b : 0;                  \
      float off = j->off_unsigned ? (float)((const uint32_t*)j->offset)[ob]            \
                                  : (float)((const int32_t*)j->offset)[ob];            \
      float pos = ((float)t + off) * j->scale;                                         \
      for (int i = 0; i < half; i++) {                                                 \
        float th = pos * j->inv_freq[i];                                               \
        cs[i] = RND(LD, ST, COS(th));                                                  \
        sn[i] = RND(LD, ST, SIN(th));                                                  \
      }                                                                                \
      const int64_t s1 = j->traditional ? 2 : 1, s2 = j->traditional ? 1 : half;      \
      for (int64_t h = 0; h < j->nheads; h++) {                                        \
        int64_t row = ((b * j->nheads + h) * j->T + t) * j->D;                         \
        const TY* x = (const TY*)j->x + row;                                             \
        TY* o = (TY*)j->out + row;                                                       \
        for (int i = 0; i < half; i++) {                                               \
          int64_t a = i * s1, c = a + s2;                                              \
          ACC x1 = LD(x[a]), x2 = LD(x[c]);                                            \
          ACC o1, o2;                                                                  \
          if (j->forward) {                                                            \
            o1 = RND(LD, ST, x1 * cs[i]) - RND(LD, ST, x2 * sn[i]);                    \
            o2 = RND(LD, ST, x1 * sn[i]) + RND(LD, ST, x2 * cs[i]);                    \
          } else {                                                                     \
            o1 = RND(LD, ST, x2 * sn[i]) + RND(LD, ST, x1 * cs[i]);                    \
            o2 = RND(LD, ST, x2 * cs[i]) - RND(LD, ST, x1 * sn[i]);                    \
          }                                                                            \
          o[a] = ST(o1);                                                               \
          o[c] = ST(o2);                                                               \
        }                                                                              \
        if (o != x)                                                                    \
          for (int64_t i = j->dims; i < j->D; i++) o[i] = x[i];                        \
      }                                                                                \
    }                                                                                  \
    free(cs);                                                                          \
  }

ROPE_ITEMS(rope_f32, float, float, LD_F32, ST_F32, mlx_cos_f32_, mlx_sin_f32_)
ROPE_ITEMS(rope_f64, double, double, LD_F64, ST_F64, cosf, sinf)
ROPE_ITEMS(rope_f16, mlx_f16, float, LD_F16, ST_F16, mlx_cos_f32_, mlx_sin_f32_)
ROPE_ITEMS(rope_bf16, mlx_bf16, float, LD_BF16, ST_BF16, mlx_cos_f32_, mlx_sin_f32_)

int mlx_cpu_fast_rope_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  const mlx_fast_rope_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* x = ins[0];
  int donated = 0;
  MLX_TRY((x->flags & MLX_FLAG_ROW_CONTIG) ? mlx_node_donate_or_alloc_(out, x, &donated) : mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  int half = p->dims / 2;
  rope_job j = {.out = out->buf->data, .dims = p->dims, .traditional = p->traditional, .forward = p->forward,
                .scale = p->scale, .D = x->shape[x->ndim - 1], .T = x->shape[x->ndim - 2]};
  j.nheads = 1;
  for (int d = 1; d < x->ndim - 2; d++) j.nheads *= x->shape[d];
  mlx_buffer_* tmp = NULL;
  mlx_node_* off = ins[1];
  /* The offsets as a dense vector (a scalar or a possibly strided [B]). */
  int32_t off_small[1];
  int32_t* offs = off->size <= 1 ? off_small : malloc(sizeof(int32_t) * (size_t)off->size);
  float* inv = malloc(sizeof(float) * (size_t)(half > 0 ? half : 1));
  if (!offs || !inv) {
    if (offs != off_small) free(offs);
    free(inv);
    return mlx_error_(MLX_ERROR_MEMORY, "[rope] out of memory");
  }
  mlx_node_copy_to_(offs, off->dtype, off);
  j.offset = offs;
  j.noff = off->size;
  j.off_unsigned = off->dtype == MLX_UINT32;
  if (nin > 2) {
    /* 1 / freqs in float32, as upstream's reciprocal. */
    int64_t sh[1] = {half}, st[1] = {ins[2]->strides[0]};
    mlx_copy_cast_(inv, MLX_FLOAT32, MLX_DATA(ins[2], char), ins[2]->dtype, sh, st, 1);
    for (int i = 0; i < half; i++) inv[i] = 1.0f / inv[i];
  } else {
    /* exp(-i * (log(base) / half)) in float32. */
    float coef = logf(p->base) / (float)half;
    for (int i = 0; i < half; i++) inv[i] = expf((float)(-i) * coef);
  }
  j.inv_freq = inv;
  int rc = dense_data(&j.x, &tmp, x);
  if (!rc) {
    mlx_range_fn_ fn;
    switch (out->dtype) {
      case MLX_FLOAT64: fn = rope_f64; break;
      case MLX_FLOAT16: fn = rope_f16; break;
      case MLX_BFLOAT16: fn = rope_bf16; break;
      default: fn = rope_f32; break;
    }
    int64_t items = x->shape[0] * j.T;
    int64_t per = j.nheads * j.D;
    mlx_parallel_for_(items, (1 << 14) / (per > 0 ? per : 1) + 1, fn, &j);
    if (j.err) rc = mlx_error_(MLX_ERROR_MEMORY, "[rope] out of memory");
  } else {
    rc = mlx_error_(rc, "[rope] out of memory");
  }
  if (tmp) mlx_buffer_release_(tmp);
  if (offs != off_small) free(offs);
  free(inv);
  return rc;
}

/* ---- scaled dot-product attention ---------------------------------------
 * Items are (batch, query head, block of QB queries). For each key block
 * of KB keys: S = scale * Q K^T by gemm, masking, then the online softmax
 * update (running max m, running sum l, O rescaled by exp(m_old - m_new))
 * and O += P V by gemm; at the end O / l. Sinks start a row at m = sink,
 * l = 1. Masked scores take the lowest finite value of the dtype, as
 * upstream's where(mask, scores, finfo.min): a row with every key masked
 * then averages v. Inputs that are not of the compute type with unit
 * inner stride are converted per item into scratch. */
#define QB 32
/* Key blocks keep each gemm at most 262144 multiply-adds, which OpenBLAS
 * runs on the calling thread (bigger ones would start its own threads
 * inside ours). */
#define GEMM_SINGLE_THREAD_WORK 262144

/* exp for x <= 0 (a score minus the running max), vectorizable: 2^n times
 * a degree-6 polynomial on [-ln2/2, ln2/2]; under -87 it is 0. */
static inline float exp_neg(float x) {
  float xc = x < -87.0f ? -87.0f : x;
  float n = __builtin_rintf(xc * 1.44269504088896341f);
  float r = xc - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666666f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float sc;
  memcpy(&sc, &bits, sizeof sc);
  return x < -87.0f ? 0.0f : p * sc;
}

/* max(init, s[0..n)) with eight running lanes, so it vectorizes. */
static float row_max_f32(const float* restrict s, int64_t n, float init) {
  float m[8] = {init, init, init, init, init, init, init, init};
  int64_t c = 0;
  for (; c + 8 <= n; c += 8)
    for (int u = 0; u < 8; u++) m[u] = s[c + u] > m[u] ? s[c + u] : m[u];
  for (; c < n; c++) m[0] = s[c] > m[0] ? s[c] : m[0];
  for (int u = 1; u < 8; u++) m[0] = m[u] > m[0] ? m[u] : m[0];
  return m[0];
}

/* s[c] = exp(s[c] - mx); returns their sum (eight partial sums). */
static float exp_sum_f32(float* restrict s, int64_t n, float mx) {
  for (int64_t c = 0; c < n; c++) s[c] = exp_neg(s[c] - mx);
  float acc[8] = {0};
  int64_t c = 0;
  for (; c + 8 <= n; c += 8)
    for (int u = 0; u < 8; u++) acc[u] += s[c + u];
  for (; c < n; c++) acc[0] += s[c];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static double row_max_f64(const double* s, int64_t n, double init) {
  for (int64_t c = 0; c < n; c++) init = s[c] > init ? s[c] : init;
  return init;
}

static double exp_sum_f64(double* s, int64_t n, double mx) {
  double sum = 0;
  for (int64_t c = 0; c < n; c++) sum += (s[c] = exp(s[c] - mx));
  return sum;
}

typedef struct {
  const mlx_fast_sdpa_params_* p;
  mlx_node_ *q, *k, *v, *mask, *sinks, *out;
  int64_t B, Nq, Nkv, Lq, Lk, D, Dv, nqb, kb;
  double lowest; /* of the result dtype */
  int err;
} sdpa_job;

/* Pointer to rows [r0, r0 + n) of head (b, h) of a 4-D node with unit
 * inner stride and compute dtype `acc`, or those rows converted into dst
 * (ld = cols). *ld gets the row stride. */
static const void* head_rows(void* dst, int64_t* ld, const mlx_node_* a, int64_t b, int64_t h, int64_t r0, int64_t n,
                             mlx_dtype acc) {
  const int64_t* st = a->strides;
  int64_t cols = a->shape[3];
  const char* base = MLX_DATA(a, char) + (b * st[0] + h * st[1] + r0 * st[2]) * (int64_t)mlx_dtype_size(a->dtype);
  if (a->dtype == acc && (st[3] == 1 || cols == 1) && (st[2] >= cols || n == 1)) {
    *ld = n == 1 ? cols : st[2];
    return base;
  }
  int64_t shape[2] = {n, cols}, strides[2] = {st[2], st[3]};
  mlx_copy_cast_(dst, acc, base, a->dtype, shape, strides, 2);
  *ld = cols;
  return dst;
}

#define SDPA_ITEMS(NAME, ACC, ACCDT, GEMM, EXP, ROWMAX, EXPSUM)                                                       \
  static void NAME(void* ctx, int64_t i0, int64_t i1) {                                               \
    sdpa_job* j = ctx;                                                                                \
    const int64_t D = j->D, Dv = j->Dv, Lk = j->Lk, Lq = j->Lq;                                       \
    const int64_t KB = j->kb, kbmax = Lk < KB ? Lk : KB;                                             \
    ACC* scratch = malloc(sizeof(ACC) * (size_t)(QB * D + kbmax * D + kbmax * Dv + QB * kbmax + QB * Dv + 2 * QB + kbmax)); \
    if (!scratch) {                                                                                   \
      j->err = 1;                                                                                     \
      return;                                                                                         \
    }                                                                                                 \
    ACC *qs = scratch, *ks = qs + QB * D, *vs = ks + kbmax * D, *S = vs + kbmax * Dv;                 \
    ACC *O = S + QB * kbmax, *M = O + QB * Dv, *L = M + QB, *mv = L + QB;                             \
    mlx_node_* mk = j->mask;                                                                          \
    const int64_t off = Lk - Lq, rep = j->Nq / j->Nkv;                                                \
    const ACC lowest = (ACC)j->lowest;                                                                \
    for (int64_t it = i0; it < i1; it++) {                                                            \
      int64_t qb = it % j->nqb, bh = it / j->nqb, h = bh % j->Nq, b = bh / j->Nq, kh = h / rep;        \
      int64_t r0 = qb * QB, nr = Lq - r0 < QB ? Lq - r0 : QB;                                          \
      int64_t ldq, ldk, ldv;                                                                          \
      const ACC* Q = head_rows(qs, &ldq, j->q, b, h, r0, nr, ACCDT);                                   \
      ACC sink = 0;                                                                                   \
      if (j->sinks) {                                                                                 \
        ACC tmp;                                                                                      \
        int64_t one = 1, st1 = 0;                                                                     \
        mlx_copy_cast_(&tmp, ACCDT, MLX_DATA(j->sinks, char) + h * j->sinks->strides[0] *             \
                                          (int64_t)mlx_dtype_size(j->sinks->dtype),                   \
                       j->sinks->dtype, &one, &st1, 1);                                               \
        sink = tmp;                                                                                   \
      }                                                                                               \
      for (int64_t r = 0; r < nr; r++) {                                                              \
        M[r] = j->sinks ? sink : -(ACC)INFINITY;                                                      \
        L[r] = j->sinks ? 1 : 0;                                                                      \
      }                                                                                               \
      for (int64_t e = 0; e < nr * Dv; e++) O[e] = 0;                                                 \
      /* Causal: keys past the block's last visible one are all masked,                           \
       * unless some row sees no key at all (then every key counts). */                           \
      int64_t kend = Lk;                                                                              \
      if (j->p->causal && r0 + off >= 0) {                                                            \
        kend = r0 + nr + off;                                                                         \
        if (kend > Lk) kend = Lk;                                                                     \
      }                                                                                               \
      for (int64_t k0 = 0; k0 < kend; k0 += KB) {                                                     \
        int64_t nk = kend - k0 < KB ? kend - k0 : KB;                                                  \
        const ACC* K = head_rows(ks, &ldk, j->k, b, kh, k0, nk, ACCDT);                               \
        const ACC* V = head_rows(vs, &ldv, j->v, b, kh, k0, nk, ACCDT);                               \
        if (D > 0)                                                                                    \
          GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)nk, (int)D, (ACC)j->p->scale, Q, (int)ldq, K, \
               (int)ldk, 0, S, (int)nk);                                                              \
        else /* no features: every score is 0 (BLAS rejects a zero leading dim) */                   \
          memset(S, 0, sizeof(ACC) * (size_t)(nr * nk));                                              \
        for (int64_t r = 0; r < nr; r++) {                                                            \
          ACC* s = S + r * nk;                                                                        \
          int64_t qi = r0 + r;                                                                        \
          if (mk) {                                                                                   \
            const int64_t* ms = mk->strides;                                                          \
            int64_t base = b * ms[0] + h * ms[1] + qi * ms[2] + k0 * ms[3];                            \
            if (mk->dtype == MLX_BOOL) {                                                              \
              const uint8_t* mb = MLX_DATA(mk, uint8_t) + base;                                       \
              for (int64_t c = 0; c < nk; c++)                                                        \
                if (!mb[c * ms[3]]) s[c] = lowest;                                                    \
            } else {                                                                                  \
              int64_t sh[1] = {nk}, stv[1] = {ms[3]};                                                 \
              mlx_copy_cast_(mv, ACCDT, MLX_DATA(mk, char) + base * (int64_t)mlx_dtype_size(mk->dtype), \
                             mk->dtype, sh, stv, 1);                                                  \
              for (int64_t c = 0; c < nk; c++) s[c] += mv[c];                                         \
            }                                                                                         \
          }                                                                                           \
          if (j->p->causal)                                                                           \
            for (int64_t c = qi + off + 1 - k0 < 0 ? 0 : qi + off + 1 - k0; c < nk; c++) s[c] = lowest; \
          ACC mx = ROWMAX(s, nk, M[r]);                                                               \
          if (mx == -(ACC)INFINITY) {                                                                 \
            for (int64_t c = 0; c < nk; c++) s[c] = 0;                                                \
            continue;                                                                                 \
          }                                                                                           \
          ACC corr = M[r] == -(ACC)INFINITY ? 0 : EXP(M[r] - mx);                                     \
          ACC sum = EXPSUM(s, nk, mx);                                                                \
          L[r] = L[r] * corr + sum;                                                                   \
          M[r] = mx;                                                                                  \
          if (corr != 1)                                                                              \
            for (int64_t c = 0; c < Dv; c++) O[r * Dv + c] *= corr;                                   \
        }                                                                                             \
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)Dv, (int)nk, 1, S, (int)nk, V, (int)ldv, 1, O, \
             (int)Dv);                                                                                \
      }                                                                                               \
      /* O / l into the output rows (contiguous [B, Nq, Lq, Dv]). */                                \
      for (int64_t r = 0; r < nr; r++) {                                                              \
        ACC inv = (ACC)1 / L[r];                                                                      \
        for (int64_t c = 0; c < Dv; c++) O[r * Dv + c] *= inv;                                        \
      }                                                                                               \
      int64_t n = nr * Dv, one = 1;                                                                   \
      char* dst = (char*)j->out->buf->data +                                                          \
                  ((bh * Lq + r0) * Dv) * (int64_t)mlx_dtype_size(j->out->dtype);                     \
      mlx_copy_cast_(dst, j->out->dtype, O, ACCDT, &n, &one, 1);                                      \
    }                                                                                                 \
    free(scratch);                                                                                    \
  }

SDPA_ITEMS(sdpa_f32, float, MLX_FLOAT32, cblas_sgemm, exp_neg, row_max_f32, exp_sum_f32)
SDPA_ITEMS(sdpa_f64, double, MLX_FLOAT64, cblas_dgemm, exp, row_max_f64, exp_sum_f64)

/* Declared in fast.h. */
double mlx_fast_lowest_(mlx_dtype dt) {
  switch (dt) {
    case MLX_FLOAT16: return -65504.0;
    case MLX_BFLOAT16: return -3.3895313892515355e38;
    case MLX_FLOAT64: return -DBL_MAX;
    default: return -FLT_MAX;
  }
}

int mlx_cpu_fast_sdpa_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_fast_sdpa_params_* p = params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  sdpa_job j = {.p = p, .q = ins[0], .k = ins[1], .v = ins[2], .out = out};
  int at = 3;
  j.mask = p->has_mask ? ins[at++] : NULL;
  j.sinks = p->has_sinks ? ins[at++] : NULL;
  j.B = j.q->shape[0];
  j.Nq = j.q->shape[1];
  j.Lq = j.q->shape[2];
  j.D = j.q->shape[3];
  j.Nkv = j.k->shape[1];
  j.Lk = j.k->shape[2];
  j.Dv = j.v->shape[3];
  j.nqb = (j.Lq + QB - 1) / QB;
  j.lowest = mlx_fast_lowest_(out->dtype);
  int64_t wide = j.D > j.Dv ? j.D : j.Dv;
  j.kb = GEMM_SINGLE_THREAD_WORK / (QB * (wide > 0 ? wide : 1));
  j.kb = j.kb < 16 ? 16 : j.kb > 512 ? 512 : j.kb;
  if (j.Lk == 0) {
    /* No keys: upstream's empty matmul gives zeros. */
    memset(out->buf->data, 0, (size_t)out->size * mlx_dtype_size(out->dtype));
    return MLX_OK;
  }
  /* BLAS takes int sizes and leading dims. */
  if (j.D > INT32_MAX / QB || j.Dv > INT32_MAX / QB || j.q->strides[2] > INT32_MAX || j.k->strides[2] > INT32_MAX ||
      j.v->strides[2] > INT32_MAX)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[scaled_dot_product_attention] head dimension too large");
  int64_t items = j.B * j.Nq * j.nqb;
  mlx_parallel_for_(items, 1, out->dtype == MLX_FLOAT64 ? sdpa_f64 : sdpa_f32, &j);
  if (j.err) return mlx_error_(MLX_ERROR_MEMORY, "[scaled_dot_product_attention] out of memory");
  return MLX_OK;
}
