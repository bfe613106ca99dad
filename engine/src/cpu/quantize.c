/* Quantization kernels. Packed values form a little-endian bit stream in
 * uint32 words, every group starting on a word (group_size * bits is a
 * multiple of 32); this is upstream MLX's layout for every bit width
 * (its 3/5/6-bit byte packing reads the same stream). Arithmetic follows
 * upstream's CPU kernels (float math, rint, the same scale/bias choice),
 * so packed bits and scales are identical. Products dequantize the weight
 * panel to float32 and call sgemm. */
#include "quantize.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "fp8.h"
#include "half.h"
#include "quantize_affine.h"

/* ---- fp8 e4m3 and the block float scales -------------------------------- */

static float fp8_table[256];
static int fp8_table_ready;

static void build_fp8_table(void) {
  for (int i = 0; i < 256; i++) fp8_table[i] = mlx_fp8_to_float_((uint8_t)i);
  fp8_table_ready = 1;
}

static inline float from_fp8(uint8_t b) {
  return fp8_table[b];
}

/* The value of a group scale byte: e4m3 for groups of 16 (nvfp4), else
 * e8m0 read as a bfloat16 exponent (code 0 is 2^-127). */
static inline float scale_value(uint8_t s, int group_size) {
  if (group_size == 16) return from_fp8(s);
  mlx_bf16 h = {(uint16_t)(s == 0 ? 0x40 : (uint16_t)s << 7)};
  return mlx_bf16_to_f32(h);
}

static const float fp4_values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                     -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

/* Float to fp4 e2m1, saturating at 6. Ties round toward zero, as
 * upstream's quantize does (0.75 -> 0.5, 3.5 -> 3, 5 -> 4). */
static inline uint8_t to_fp4(float x) {
  if (isnan(x)) return 0x7;
  uint8_t sign = signbit(x) ? 0x8 : 0x0;
  x = fabsf(x);
  uint8_t b;
  if (x > 5.0f) b = 7;
  else if (x > 3.5f) b = 6;
  else if (x > 2.5f) b = 5;
  else if (x > 1.75f) b = 4;
  else if (x > 1.25f) b = 3;
  else if (x > 0.75f) b = 2;
  else if (x > 0.25f) b = 1;
  else b = 0;
  /* Magnitudes that round to zero give +0 (upstream's quantize). */
  return b ? (uint8_t)(b | sign) : 0;
}

/* ---- bit streams --------------------------------------------------------- */

static inline void put_bits(uint32_t* words, int64_t pos, int bits, uint32_t v) {
  int64_t bit = pos * bits;
  int64_t w = bit >> 5;
  int sh = (int)(bit & 31);
  words[w] |= v << sh;
  if (sh + bits > 32) words[w + 1] |= v >> (32 - sh);
}

static inline uint32_t get_bits(const uint32_t* words, int64_t pos, int bits) {
  int64_t bit = pos * bits;
  int64_t w = bit >> 5;
  int sh = (int)(bit & 31);
  uint64_t v = words[w] >> sh;
  if (sh + bits > 32) v |= (uint64_t)words[w + 1] << (32 - sh);
  return (uint32_t)(v & ((1u << bits) - 1u));
}

/* ---- quantize ------------------------------------------------------------ */

typedef struct {
  const float* w;
  uint32_t* wq;
  float* scales;
  float* biases;
  uint8_t* fp_scales;
  int64_t words_per_group;
  const mlx_quant_params_* p;
} quantize_ctx;

static void quantize_affine_groups(void* vctx, int64_t begin, int64_t end) {
  quantize_ctx* c = vctx;
  int gs = c->p->group_size, bits = c->p->bits;
  for (int64_t g = begin; g < end; g++) {
    const float* w = c->w + g * gs;
    float scale, bias;
    mlx_affine_scale_bias_(w, gs, bits, &scale, &bias);
    uint32_t* out = c->wq + g * c->words_per_group;
    memset(out, 0, sizeof(uint32_t) * (size_t)c->words_per_group);
    for (int j = 0; j < gs; j++) put_bits(out, j, bits, mlx_affine_code_(w[j], scale, bias, bits));
    c->scales[g] = scale;
    c->biases[g] = bias;
  }
}

static void quantize_fp_groups(void* vctx, int64_t begin, int64_t end) {
  quantize_ctx* c = vctx;
  int gs = c->p->group_size, bits = c->p->bits;
  for (int64_t g = begin; g < end; g++) {
    const float* w = c->w + g * gs;
    float amax = 0.0f;
    for (int j = 0; j < gs; j++) amax = fmaxf(amax, fabsf(w[j]));
    uint8_t code;
    if (gs == 16) {
      /* nvfp4: an e4m3 scale mapping the group's largest magnitude to 6. */
      code = mlx_fp8_from_float_(amax / 6.0f);
    } else {
      /* mx: the smallest power of two 2^e with amax / 2^e within the
       * element format (6 for e2m1, 448 for e4m3): e = ceil(log2(amax /
       * max)), exactly, from the float's exponent; an all-zero group
       * takes 2^0 (upstream). */
      float r = amax / (bits == 4 ? 6.0f : 448.0f);
      int e = 0;
      if (r > 0.0f && isfinite(r)) {
        float m = frexpf(r, &e); /* r = m * 2^e, m in [0.5, 1) */
        if (m == 0.5f) e -= 1;
      }
      int code_e = isfinite(r) ? e + 127 : 255;
      code = (uint8_t)(code_e < 0 ? 0 : code_e > 255 ? 255 : code_e);
    }
    float sv = scale_value(code, gs);
    uint32_t* out = c->wq + g * c->words_per_group;
    memset(out, 0, sizeof(uint32_t) * (size_t)c->words_per_group);
    for (int j = 0; j < gs; j++) {
      float v = sv == 0.0f ? 0.0f : w[j] / sv;
      put_bits(out, j, bits, bits == 8 ? mlx_fp8_from_float_(v) : to_fp4(v));
    }
    c->fp_scales[g] = code;
  }
}

/* Writes n floats into a row-major node of another float dtype. */
static void store_floats(mlx_node_* out, const float* src) {
  int64_t n = out->size;
  mlx_copy_cast_(MLX_DATA(out, char), out->dtype, src, MLX_FLOAT32, &n, (int64_t[]){1}, 1);
}

/* A row-major float32 copy of a node (malloc'ed; NULL with the error set). */
static float* dense_floats(const mlx_node_* n) {
  float* f = malloc(sizeof(float) * (size_t)(n->size > 0 ? n->size : 1));
  if (!f) {
    mlx_error_(MLX_ERROR_MEMORY, "[quantize] out of memory");
    return NULL;
  }
  mlx_node_copy_to_(f, MLX_FLOAT32, n);
  return f;
}

int mlx_cpu_quantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  if (!fp8_table_ready) build_fp8_table();
  const mlx_node_* w = ins[0];
  int64_t groups = w->size / p->group_size;
  float* wf = dense_floats(w);
  if (!wf) return MLX_ERROR_MEMORY;
  float* sb = p->mode == MLX_QMODE_AFFINE_ ? malloc(sizeof(float) * 2 * (size_t)(groups > 0 ? groups : 1)) : NULL;
  int rc = MLX_OK;
  if (p->mode == MLX_QMODE_AFFINE_ && !sb) rc = mlx_error_(MLX_ERROR_MEMORY, "[quantize] out of memory");
  for (int i = 0; i < nout && rc == MLX_OK; i++) rc = mlx_node_alloc_(outs[i]);
  if (rc == MLX_OK) {
    quantize_ctx c = {.w = wf,
                      .wq = MLX_DATA(outs[0], uint32_t),
                      .words_per_group = (int64_t)p->group_size * p->bits / 32,
                      .p = p};
    if (p->mode == MLX_QMODE_AFFINE_) {
      c.scales = sb;
      c.biases = sb + groups;
      mlx_parallel_for_(groups, 1 << 10, quantize_affine_groups, &c);
      store_floats(outs[1], c.scales);
      store_floats(outs[2], c.biases);
    } else {
      c.fp_scales = MLX_DATA(outs[1], uint8_t);
      mlx_parallel_for_(groups, 1 << 10, quantize_fp_groups, &c);
    }
  }
  free(sb);
  free(wf);
  return rc;
}

/* ---- dequantize ---------------------------------------------------------- */

/* Dequantized rows of a packed matrix: rows x cols floats from rows of
 * words (cols * bits / 32 each) and per-group scales/biases. */
typedef struct {
  const uint32_t* wq;
  const float* scales; /* affine: group scales as float */
  mlx_dtype round_to;  /* affine: float16/bfloat16 round each step as upstream */
  const float* biases;
  const uint8_t* fp_scales;
  float* out;
  int64_t cols;
  const mlx_quant_params_* p;
} dequant_ctx;

static void dequant_rows(void* vctx, int64_t begin, int64_t end) {
  dequant_ctx* c = vctx;
  int gs = c->p->group_size, bits = c->p->bits;
  int64_t words = c->cols * bits / 32, groups = c->cols / gs;
  for (int64_t r = begin; r < end; r++) {
    const uint32_t* wr = c->wq + r * words;
    float* o = c->out + r * c->cols;
    for (int64_t g = 0; g < groups; g++) {
      const uint32_t* wg = wr + g * (int64_t)gs * bits / 32;
      float* og = o + g * gs;
      if (c->p->mode == MLX_QMODE_AFFINE_) {
        float s = c->scales[r * groups + g], b = c->biases[r * groups + g];
        if (c->round_to == MLX_FLOAT16) {
          /* Upstream multiplies and adds in the scales' dtype. */
          for (int j = 0; j < gs; j++)
            og[j] = (float)(mlx_f16)((float)(mlx_f16)(s * (float)get_bits(wg, j, bits)) + b);
        } else if (c->round_to == MLX_BFLOAT16) {
          for (int j = 0; j < gs; j++) {
            float prod = mlx_bf16_to_f32(mlx_f32_to_bf16(s * (float)get_bits(wg, j, bits)));
            og[j] = mlx_bf16_to_f32(mlx_f32_to_bf16(prod + b));
          }
        } else if (bits == 4) {
          for (int j = 0; j < gs; j += 8) {
            uint32_t v = wg[j >> 3];
            for (int k = 0; k < 8; k++) og[j + k] = s * (float)((v >> (4 * k)) & 15u) + b;
          }
        } else if (bits == 8) {
          for (int j = 0; j < gs; j += 4) {
            uint32_t v = wg[j >> 2];
            for (int k = 0; k < 4; k++) og[j + k] = s * (float)((v >> (8 * k)) & 255u) + b;
          }
        } else {
          for (int j = 0; j < gs; j++) og[j] = s * (float)get_bits(wg, j, bits) + b;
        }
      } else {
        float s = scale_value(c->fp_scales[r * groups + g], gs);
        for (int j = 0; j < gs; j++) {
          uint32_t q = get_bits(wg, j, bits);
          og[j] = s * (bits == 8 ? from_fp8((uint8_t)q) : fp4_values[q]);
        }
      }
    }
  }
}

/* Dequantizes rows [0, rows) of a packed matrix (row-major words) into
 * out (rows x cols floats). scales/biases: affine group values as floats
 * (rows x cols/gs) or the fp scale bytes. */
static void dequantize_panel(float* out, const uint32_t* wq, const float* scales, const float* biases,
                             const uint8_t* fp_scales, int64_t rows, int64_t cols, const mlx_quant_params_* p,
                             mlx_dtype round_to) {
  dequant_ctx c = {wq, scales, round_to, biases, fp_scales, out, cols, p};
  int64_t grain = cols > 0 ? (1 << 16) / cols + 1 : 1;
  mlx_parallel_for_(rows, grain, dequant_rows, &c);
}

/* A packed operand and its scales/biases as the kernels read them:
 * row-major; the words are used in place when they already are, the
 * scales converted to float (affine) or copied (fp bytes). */
typedef struct {
  const uint32_t* wq;
  uint32_t* wq_copy;
  float* scales;
  float* biases;
  uint8_t* fp_scales;
} packed_copy;

static void packed_free(packed_copy* pc) {
  free(pc->wq_copy);
  free(pc->scales);
  free(pc->biases);
  free(pc->fp_scales);
}

static int packed_load(packed_copy* pc, mlx_node_* const* ins, int mode, const char* op) {
  memset(pc, 0, sizeof *pc);
  const mlx_node_* w = ins[0];
  const mlx_node_* s = ins[1];
  int in_place = (w->flags & MLX_FLAG_ROW_CONTIG) != 0;
  if (!in_place) pc->wq_copy = malloc(sizeof(uint32_t) * (size_t)(w->size > 0 ? w->size : 1));
  if (mode == MLX_QMODE_AFFINE_) {
    pc->scales = malloc(sizeof(float) * (size_t)(s->size > 0 ? s->size : 1));
    pc->biases = malloc(sizeof(float) * (size_t)(s->size > 0 ? s->size : 1));
  } else {
    pc->fp_scales = malloc((size_t)(s->size > 0 ? s->size : 1));
  }
  if ((!in_place && !pc->wq_copy) || (mode == MLX_QMODE_AFFINE_ ? !pc->scales || !pc->biases : !pc->fp_scales)) {
    packed_free(pc);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
  }
  if (in_place) {
    pc->wq = MLX_DATA(w, uint32_t);
  } else {
    mlx_node_copy_to_(pc->wq_copy, MLX_UINT32, w);
    pc->wq = pc->wq_copy;
  }
  if (mode == MLX_QMODE_AFFINE_) {
    mlx_node_copy_to_(pc->scales, MLX_FLOAT32, s);
    mlx_node_copy_to_(pc->biases, MLX_FLOAT32, ins[2]);
  } else {
    mlx_node_copy_to_(pc->fp_scales, MLX_UINT8, s);
  }
  return MLX_OK;
}

int mlx_cpu_dequantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  mlx_node_* out = outs[0];
  if (!fp8_table_ready) build_fp8_table();
  packed_copy pc;
  MLX_TRY(packed_load(&pc, ins, p->mode, "dequantize"));
  int64_t cols = out->ndim ? out->shape[out->ndim - 1] : 1;
  int64_t rows = cols ? out->size / cols : 0;
  float* f = malloc(sizeof(float) * (size_t)(out->size > 0 ? out->size : 1));
  int rc = f ? mlx_node_alloc_(out) : mlx_error_(MLX_ERROR_MEMORY, "[dequantize] out of memory");
  if (rc == MLX_OK) {
    dequantize_panel(f, pc.wq, pc.scales, pc.biases, pc.fp_scales, rows, cols, p,
                     p->mode == MLX_QMODE_AFFINE_ ? ins[1]->dtype : MLX_FLOAT32);
    store_floats(out, f);
  }
  free(f);
  packed_free(&pc);
  return rc;
}

/* ---- products ------------------------------------------------------------ */

/* Declared in quantize.h. */
int64_t mlx_quant_batch_offset_(int64_t b, const int64_t* out_batch, int ond, const int64_t* batch, int bnd,
                                int64_t matrix_size) {
  int64_t off = 0, stride = matrix_size;
  for (int i = ond - 1, j = bnd - 1; i >= 0; i--, j--) {
    int64_t idx = b % out_batch[i];
    b /= out_batch[i];
    if (j >= 0) {
      if (batch[j] != 1) off += idx * stride;
      stride *= batch[j];
    }
  }
  return off;
}

/* out (M x N) = x (M x K) @ W where W is the dequantized panel: N x K
 * (transpose) or K x N. */
static void panel_product(float* out, const float* x, const float* wdeq, int64_t M, int64_t N, int64_t K,
                          int transpose) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    memset(out, 0, sizeof(float) * (size_t)(M * N));
    return;
  }
  if (M == 1) {
    if (transpose)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)K, 1.0f, wdeq, (int)K, x, 1, 0.0f, out, 1);
    else
      cblas_sgemv(CblasRowMajor, CblasTrans, (int)K, (int)N, 1.0f, wdeq, (int)N, x, 1, 0.0f, out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, transpose ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, x,
              (int)K, wdeq, transpose ? (int)K : (int)N, 0.0f, out, (int)N);
}

/* The packed operand's geometry: batch count, rows, words per row,
 * dequantized columns, scale groups per row. */
typedef struct {
  int64_t batches, rows, words, cols, groups;
} packed_shape;

static packed_shape packed_geometry(const mlx_node_* w, const mlx_quant_params_* p) {
  packed_shape g;
  g.rows = w->shape[w->ndim - 2];
  g.words = w->shape[w->ndim - 1];
  g.cols = g.words * 32 / p->bits;
  g.groups = g.cols / p->group_size;
  int64_t per = g.rows * g.words;
  g.batches = per ? w->size / per : 0;
  return g;
}

/* Dequantizes batch element b of the packed operand into deq. */
static void dequantize_batch(float* deq, const packed_copy* pc, const packed_shape* g, int64_t b,
                             const mlx_quant_params_* p) {
  int64_t so = b * g->rows * g->groups;
  dequantize_panel(deq, pc->wq + b * g->rows * g->words, pc->scales ? pc->scales + so : NULL,
                   pc->biases ? pc->biases + so : NULL, pc->fp_scales ? pc->fp_scales + so : NULL, g->rows, g->cols,
                   p, MLX_FLOAT32);
}

/* Small products (a few rows of x against a transposed packed matrix,
 * as in decoding): each output column decodes its row of w group by
 * group and takes s * dot(x, codes) + b * sum(x) per group, so the
 * weight is read once and never expanded to float. */
typedef struct {
  const float* x;     /* M x K */
  const float* xsums; /* M x groups: sums of x over each group (affine) */
  const packed_copy* pc;
  const packed_shape* g;
  int64_t batch, M;
  float* out; /* M x N */
  const mlx_quant_params_* p;
} fused_ctx;

static void fused_rows(void* vctx, int64_t begin, int64_t end) {
  fused_ctx* c = vctx;
  const mlx_quant_params_* p = c->p;
  int gs = p->group_size, bits = p->bits;
  int64_t K = c->g->cols, N = c->g->rows, G = c->g->groups, M = c->M;
  float codes[128];
  float acc[8];
  for (int64_t n = begin; n < end; n++) {
    const uint32_t* wr = c->pc->wq + (c->batch * N + n) * c->g->words;
    int64_t so = (c->batch * N + n) * G;
    for (int64_t m = 0; m < M; m++) acc[m] = 0.0f;
    for (int64_t gi = 0; gi < G; gi++) {
      const uint32_t* wg = wr + gi * (int64_t)gs * bits / 32;
      if (p->mode == MLX_QMODE_AFFINE_ && bits == 4) {
        for (int j = 0; j < gs; j += 8) {
          uint32_t v = wg[j >> 3];
          for (int k = 0; k < 8; k++) codes[j + k] = (float)((v >> (4 * k)) & 15u);
        }
      } else if (p->mode == MLX_QMODE_AFFINE_ && bits == 8) {
        for (int j = 0; j < gs; j += 4) {
          uint32_t v = wg[j >> 2];
          for (int k = 0; k < 4; k++) codes[j + k] = (float)((v >> (8 * k)) & 255u);
        }
      } else if (p->mode == MLX_QMODE_AFFINE_) {
        for (int j = 0; j < gs; j++) codes[j] = (float)get_bits(wg, j, bits);
      } else {
        for (int j = 0; j < gs; j++) {
          uint32_t q = get_bits(wg, j, bits);
          codes[j] = bits == 8 ? from_fp8((uint8_t)q) : fp4_values[q];
        }
      }
      float sc, bi = 0.0f;
      if (p->mode == MLX_QMODE_AFFINE_) {
        sc = c->pc->scales[so + gi];
        bi = c->pc->biases[so + gi];
      } else {
        sc = scale_value(c->pc->fp_scales[so + gi], gs);
      }
      for (int64_t m = 0; m < M; m++) {
        const float* xg = c->x + m * K + gi * gs;
        /* Eight partial sums: a vectorizable reduction. */
        float part[8] = {0};
        for (int j = 0; j < gs; j += 8)
          for (int k = 0; k < 8; k++) part[k] += xg[j + k] * codes[j + k];
        float d = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
        acc[m] += sc * d + (p->mode == MLX_QMODE_AFFINE_ ? bi * c->xsums[m * G + gi] : 0.0f);
      }
    }
    for (int64_t m = 0; m < M; m++) c->out[m * N + n] = acc[m];
  }
}

/* out (M x N, M <= 8) = x (M x K) @ w[batch]^T, fused. */
static int fused_product(float* out, const float* x, const packed_copy* pc, const packed_shape* g, int64_t batch,
                         int64_t M, const mlx_quant_params_* p) {
  int64_t G = g->groups, gs = p->group_size;
  float* xsums = malloc(sizeof(float) * (size_t)(M * G > 0 ? M * G : 1));
  if (!xsums) return mlx_error_(MLX_ERROR_MEMORY, "[quantized_matmul] out of memory");
  for (int64_t m = 0; m < M; m++)
    for (int64_t gi = 0; gi < G; gi++) {
      float t = 0.0f;
      for (int64_t j = 0; j < gs; j++) t += x[m * g->cols + gi * gs + j];
      xsums[m * G + gi] = t;
    }
  fused_ctx c = {x, xsums, pc, g, batch, M, out, p};
  int64_t grain = g->cols > 0 ? (1 << 15) / g->cols + 1 : 1;
  mlx_parallel_for_(g->rows, grain, fused_rows, &c);
  free(xsums);
  return MLX_OK;
}

int mlx_cpu_quantized_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  mlx_node_* out = outs[0];
  const mlx_node_* x = ins[0];
  if (!fp8_table_ready) build_fp8_table();
  int64_t K = x->shape[x->ndim - 1], M = x->shape[x->ndim - 2], N = out->shape[out->ndim - 1];
  packed_shape g = packed_geometry(ins[1], p);
  packed_copy pc;
  MLX_TRY(packed_load(&pc, ins + 1, p->mode, "quantized_matmul"));
  int fused = p->transpose && M <= 8 && p->group_size <= 128;
  float* xf = dense_floats(x);
  float* deq = fused ? NULL : malloc(sizeof(float) * (size_t)(g.rows * g.cols > 0 ? g.rows * g.cols : 1));
  float* of = malloc(sizeof(float) * (size_t)(out->size > 0 ? out->size : 1));
  int rc = xf && (fused || deq) && of ? mlx_node_alloc_(out)
                                      : mlx_error_(MLX_ERROR_MEMORY, "[quantized_matmul] out of memory");
  if (rc == MLX_OK) {
    int ond = out->ndim - 2, xnd = x->ndim - 2, wnd = ins[1]->ndim - 2;
    int64_t nb = (M * N) != 0 ? out->size / (M * N) : 0;
    int64_t cached = -1;
    for (int64_t b = 0; b < nb && rc == MLX_OK; b++) {
      int64_t wb = mlx_quant_batch_offset_(b, out->shape, ond, ins[1]->shape, wnd, 1);
      if (fused) {
        int64_t xo = mlx_quant_batch_offset_(b, out->shape, ond, x->shape, xnd, M * K);
        rc = fused_product(of + b * M * N, xf + xo, &pc, &g, wb, M, p);
        continue;
      }
      if (wb != cached) {
        dequantize_batch(deq, &pc, &g, wb, p);
        cached = wb;
      }
      int64_t xo = mlx_quant_batch_offset_(b, out->shape, ond, x->shape, xnd, M * K);
      panel_product(of + b * M * N, xf + xo, deq, M, N, K, p->transpose);
    }
    if (rc == MLX_OK) store_floats(out, of);
  }
  free(xf);
  free(deq);
  free(of);
  packed_free(&pc);
  return rc;
}

int mlx_cpu_gather_qmm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  mlx_node_* out = outs[0];
  const mlx_node_* x = ins[0];
  const mlx_node_* lhs = ins[nin - 2];
  const mlx_node_* rhs = ins[nin - 1];
  if (!fp8_table_ready) build_fp8_table();
  int64_t K = x->shape[x->ndim - 1], M = x->shape[x->ndim - 2], N = out->shape[out->ndim - 1];
  int64_t xb = (M * K) != 0 ? x->size / (M * K) : 0;
  packed_shape g = packed_geometry(ins[1], p);
  packed_copy pc;
  MLX_TRY(packed_load(&pc, ins + 1, p->mode, "gather_qmm"));
  int64_t n = lhs->size;
  float* xf = dense_floats(x);
  float* deq = malloc(sizeof(float) * (size_t)(g.rows * g.cols > 0 ? g.rows * g.cols : 1));
  float* of = malloc(sizeof(float) * (size_t)(out->size > 0 ? out->size : 1));
  uint32_t* li = malloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1));
  uint32_t* ri = malloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1));
  int rc = xf && deq && of && li && ri ? mlx_node_alloc_(out) : mlx_error_(MLX_ERROR_MEMORY, "[gather_qmm] out of memory");
  if (rc == MLX_OK) {
    mlx_node_copy_to_(li, MLX_UINT32, lhs);
    mlx_node_copy_to_(ri, MLX_UINT32, rhs);
    int64_t cached = -1;
    for (int64_t i = 0; i < n && rc == MLX_OK; i++) {
      if (li[i] >= (uint64_t)xb || ri[i] >= (uint64_t)g.batches) {
        rc = mlx_error_(MLX_ERROR_INDEX, "[gather_qmm] index out of range (lhs %u of %lld, rhs %u of %lld)", li[i],
                        (long long)xb, ri[i], (long long)g.batches);
        break;
      }
      if ((int64_t)ri[i] != cached) {
        dequantize_batch(deq, &pc, &g, ri[i], p);
        cached = ri[i];
      }
      panel_product(of + i * M * N, xf + (int64_t)li[i] * M * K, deq, M, N, K, p->transpose);
    }
    if (rc == MLX_OK) store_floats(out, of);
  }
  free(xf);
  free(deq);
  free(of);
  free(li);
  free(ri);
  packed_free(&pc);
  return rc;
}

/* ---- fp8 conversion ------------------------------------------------------ */

int mlx_cpu_to_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  float* f = dense_floats(ins[0]);
  if (!f) return MLX_ERROR_MEMORY;
  int rc = mlx_node_alloc_(out);
  if (rc == MLX_OK) {
    uint8_t* o = MLX_DATA(out, uint8_t);
    for (int64_t i = 0; i < out->size; i++) o[i] = mlx_fp8_from_float_(f[i]);
  }
  free(f);
  return rc;
}

int mlx_cpu_from_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  if (!fp8_table_ready) build_fp8_table();
  int64_t n = out->size;
  uint8_t* b = malloc((size_t)(n > 0 ? n : 1));
  float* f = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  int rc = b && f ? mlx_node_alloc_(out) : mlx_error_(MLX_ERROR_MEMORY, "[from_fp8] out of memory");
  if (rc == MLX_OK) {
    mlx_node_copy_to_(b, MLX_UINT8, ins[0]);
    for (int64_t i = 0; i < n; i++) f[i] = from_fp8(b[i]);
    store_floats(out, f);
  }
  free(b);
  free(f);
  return rc;
}
