/* CPU kernels of gather_mm, segmented_mm and the Hadamard transform.
 *
 * gather_mm runs one BLAS product per index pair, segmented_mm one per
 * segment over its columns of a and rows of b, over operands packed once
 * into the compute dtype (float32 for float16/bfloat16, which round
 * once at the end, as matmul does). The Hadamard transform works row by
 * row in float (double for float64): the radix-2 butterflies over the
 * power-of-two part, then the m x m Sloane matrix across the m chunks,
 * then the scale, rounding once into the output dtype. */
#include <cblas.h>
#include <limits.h>
#include <stdlib.h>

#include "half.h"
#include "matmul_ext.h"

/* ---- gather_mm --------------------------------------------------------- */

typedef struct {
  const char *a, *b;
  char* c;
  const int64_t *li, *ri;
  int m, n, k;
  int64_t astep, bstep; /* elements per matrix */
  mlx_dtype ct;
} gmm_job;

static const mlx_c64 gmm_one = 1.0f, gmm_zero = 0.0f;

static void gmm_range(void* ctx, int64_t b, int64_t e) {
  const gmm_job* j = ctx;
  size_t es = mlx_dtype_size(j->ct);
  for (int64_t t = b; t < e; t++) {
    const char* A = j->a + (size_t)(j->li[t] * j->astep) * es;
    const char* B = j->b + (size_t)(j->ri[t] * j->bstep) * es;
    char* C = j->c + (size_t)(t * j->m * j->n) * es;
    if (j->ct == MLX_FLOAT64)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, 1.0, (const double*)A, j->k,
                  (const double*)B, j->n, 0.0, (double*)C, j->n);
    else if (j->ct == MLX_COMPLEX64)
      cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, &gmm_one, A, j->k, B, j->n, &gmm_zero,
                  C, j->n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, 1.0f, (const float*)A, j->k,
                  (const float*)B, j->n, 0.0f, (float*)C, j->n);
  }
}

/* x as a dense row-major array of dtype ct: its own data when it already
 * is one, else a packed copy in *owned. */
static const char* dense_of(mlx_node_* x, mlx_dtype ct, mlx_buffer_** owned) {
  *owned = NULL;
  if (x->dtype == ct && (x->flags & MLX_FLAG_ROW_CONTIG)) return MLX_DATA(x, char);
  mlx_buffer_* buf = mlx_buffer_alloc_((size_t)(x->size > 0 ? x->size : 1) * mlx_dtype_size(ct));
  if (!buf) return NULL;
  mlx_node_copy_to_(buf->data, ct, x);
  *owned = buf;
  return buf->data;
}

/* The matrices of x (batch..., rows, cols) that idx[0..T) picks, dense
 * row-major in ct: x's own data when it already is (idx unchanged), else
 * only the picked batch entries packed (a few experts of many need not be
 * converted), with idx rewritten to their slots. NULL with the error set
 * when memory runs out. */
static const char* picked_of(mlx_node_* x, mlx_dtype ct, int64_t* idx, int64_t T, int64_t nbatch,
                             mlx_buffer_** owned) {
  *owned = NULL;
  if (x->dtype == ct && (x->flags & MLX_FLAG_ROW_CONTIG)) return MLX_DATA(x, char);
  int64_t* slot = malloc(sizeof(int64_t) * (size_t)(nbatch > 0 ? nbatch : 1));
  if (!slot) {
    mlx_error_(MLX_ERROR_MEMORY, "[gather_mm] out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < nbatch; i++) slot[i] = -1;
  int64_t used = 0;
  for (int64_t t = 0; t < T; t++)
    if (slot[idx[t]] < 0) slot[idx[t]] = used++;
  int nb = x->ndim - 2;
  int64_t rows = x->shape[nb], cols = x->shape[nb + 1], per = rows * cols;
  size_t es = mlx_dtype_size(ct), xs = mlx_dtype_size(x->dtype);
  mlx_buffer_* buf = mlx_buffer_alloc_((size_t)(used * per > 0 ? used * per : 1) * es);
  if (!buf) {
    free(slot);
    return NULL;
  }
  int64_t shape[2] = {rows, cols}, str[2] = {x->strides[nb], x->strides[nb + 1]};
  for (int64_t b = 0; b < nbatch; b++) {
    if (slot[b] < 0) continue;
    int64_t rem = b, off = 0;
    for (int d = nb - 1; d >= 0; d--) {
      off += (rem % x->shape[d]) * x->strides[d];
      rem /= x->shape[d];
    }
    const char* src = (const char*)x->buf->data + (size_t)(x->offset + off) * xs;
    mlx_copy_cast_((char*)buf->data + (size_t)(slot[b] * per) * es, ct, src, x->dtype, shape, str, 2);
  }
  for (int64_t t = 0; t < T; t++) idx[t] = slot[idx[t]];
  free(slot);
  *owned = buf;
  return buf->data;
}

int mlx_cpu_gather_mm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_ *A = ins[0], *B = ins[1];
  MLX_TRY(mlx_node_alloc_(out));
  int64_t T = ins[2]->size;
  int64_t m = A->shape[A->ndim - 2], k = A->shape[A->ndim - 1], n = B->shape[B->ndim - 1];
  int64_t na = 1, nb = 1;
  for (int i = 0; i < A->ndim - 2; i++) na *= A->shape[i];
  for (int i = 0; i < B->ndim - 2; i++) nb *= B->shape[i];
  int64_t* idx = malloc(sizeof(int64_t) * (size_t)(2 * T + 1));
  if (!idx) return mlx_error_(MLX_ERROR_MEMORY, "[gather_mm] out of memory");
  mlx_node_copy_to_(idx, MLX_INT64, ins[2]);
  mlx_node_copy_to_(idx + T, MLX_INT64, ins[3]);
  for (int64_t t = 0; t < T; t++) {
    if (idx[t] < 0 || idx[t] >= na || idx[T + t] < 0 || idx[T + t] >= nb) {
      int lhs = idx[t] < 0 || idx[t] >= na;
      long long v = (long long)(lhs ? idx[t] : idx[T + t]);
      free(idx);
      return mlx_error_(MLX_ERROR_INDEX, "[gather_mm] %s index %lld is out of range for a batch of %lld.",
                        lhs ? "lhs" : "rhs", v, (long long)(lhs ? na : nb));
    }
  }
  if (out->size == 0) {
    free(idx);
    return MLX_OK;
  }
  mlx_dtype od = out->dtype;
  if (k == 0) {
    memset(out->buf->data, 0, (size_t)out->size * mlx_dtype_size(od));
    free(idx);
    return MLX_OK;
  }
  mlx_dtype ct = (od == MLX_FLOAT16 || od == MLX_BFLOAT16) ? MLX_FLOAT32 : od;
  mlx_buffer_ *pa = NULL, *pb = NULL, *pc = NULL;
  int rc = MLX_OK;
  gmm_job j = {.li = idx, .ri = idx + T, .m = (int)m, .n = (int)n, .k = (int)k, .astep = m * k, .bstep = k * n,
               .ct = ct};
  j.a = picked_of(A, ct, idx, T, na, &pa);
  j.b = j.a ? picked_of(B, ct, idx + T, T, nb, &pb) : NULL;
  if (ct != od && j.b) {
    pc = mlx_buffer_alloc_((size_t)out->size * mlx_dtype_size(ct));
    j.c = pc ? pc->data : NULL;
  } else {
    j.c = out->buf->data;
  }
  if (!j.a || !j.b || !j.c) {
    rc = mlx_last_error_code();
    if (!rc) rc = mlx_error_(MLX_ERROR_MEMORY, "[gather_mm] out of memory");
  } else {
    double work = (double)m * (double)n * (double)k;
    if (T > 1 && work <= 262144.0)
      mlx_parallel_for_(T, (int64_t)(131072.0 / work) + 1, gmm_range, &j);
    else
      gmm_range(&j, 0, T);
    if (pc) {
      int64_t total = out->size, one = 1;
      mlx_copy_cast_(out->buf->data, od, pc->data, ct, &total, &one, 1);
    }
  }
  if (pa) mlx_buffer_release_(pa);
  if (pb) mlx_buffer_release_(pb);
  if (pc) mlx_buffer_release_(pc);
  free(idx);
  return rc;
}

/* ---- segmented_mm --------------------------------------------------------- */

typedef struct {
  const char *a, *b;
  char* c;
  const int64_t* seg;
  int m, n, k;
  mlx_dtype ct;
} seg_job;

static void seg_range(void* ctx, int64_t b, int64_t e) {
  const seg_job* j = ctx;
  size_t es = mlx_dtype_size(j->ct);
  for (int64_t t = b; t < e; t++) {
    int64_t lo = j->seg[2 * t], hi = j->seg[2 * t + 1];
    lo = lo < 0 ? 0 : lo > j->k ? j->k : lo;
    hi = hi < 0 ? 0 : hi > j->k ? j->k : hi;
    char* C = j->c + (size_t)(t * j->m * j->n) * es;
    if (hi <= lo) {
      memset(C, 0, (size_t)j->m * (size_t)j->n * es);
      continue;
    }
    const char* A = j->a + (size_t)lo * es;
    const char* B = j->b + (size_t)(lo * j->n) * es;
    int len = (int)(hi - lo);
    if (j->ct == MLX_FLOAT64)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, len, 1.0, (const double*)A, j->k,
                  (const double*)B, j->n, 0.0, (double*)C, j->n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, len, 1.0f, (const float*)A, j->k,
                  (const float*)B, j->n, 0.0f, (float*)C, j->n);
  }
}

int mlx_cpu_segmented_mm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_ *A = ins[0], *B = ins[1];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  int64_t nseg = ins[2]->size / 2;
  int64_t m = A->shape[0], k = A->shape[1], n = B->shape[1];
  mlx_dtype od = out->dtype;
  mlx_dtype ct = (od == MLX_FLOAT16 || od == MLX_BFLOAT16) ? MLX_FLOAT32 : od;
  int64_t* seg = malloc(sizeof(int64_t) * (size_t)(2 * nseg + 1));
  if (!seg) return mlx_error_(MLX_ERROR_MEMORY, "[segmented_mm] out of memory");
  mlx_node_copy_to_(seg, MLX_INT64, ins[2]);
  mlx_buffer_ *pa = NULL, *pb = NULL, *pc = NULL;
  int rc = MLX_OK;
  seg_job j = {.seg = seg, .m = (int)m, .n = (int)n, .k = (int)k, .ct = ct};
  j.a = dense_of(A, ct, &pa);
  j.b = j.a ? dense_of(B, ct, &pb) : NULL;
  if (ct != od && j.b) {
    pc = mlx_buffer_alloc_((size_t)out->size * mlx_dtype_size(ct));
    j.c = pc ? pc->data : NULL;
  } else {
    j.c = out->buf->data;
  }
  if (!j.a || !j.b || !j.c) {
    rc = mlx_last_error_code();
    if (!rc) rc = mlx_error_(MLX_ERROR_MEMORY, "[segmented_mm] out of memory");
  } else {
    double work = (double)m * (double)n * (double)k;
    if (nseg > 1 && work <= 262144.0)
      mlx_parallel_for_(nseg, (int64_t)(131072.0 / (work + 1)) + 1, seg_range, &j);
    else
      seg_range(&j, 0, nseg);
    if (pc) {
      int64_t total = out->size, one = 1;
      mlx_copy_cast_(out->buf->data, od, pc->data, ct, &total, &one, 1);
    }
  }
  if (pa) mlx_buffer_release_(pa);
  if (pb) mlx_buffer_release_(pb);
  if (pc) mlx_buffer_release_(pc);
  free(seg);
  return rc;
}

/* ---- Hadamard ------------------------------------------------------------ */

/* Hadamard matrices of orders 12, 20 and 28 from N. J. A. Sloane's library
 * (neilsloane.com/hadamard), the ones upstream MLX uses, '+' = 1, '-' = -1. */
static const char* const had12[12] = {
    "+-++++++++++", "--+-+-+-+-+-", "+++-++----++", "+---+--+-++-", "+++++-++----", "+-+---+--+-+",
    "++--+++-++--", "+--++---+--+", "++----+++-++", "+--+-++---+-", "++++----+++-", "+-+--+-++---"};
static const char* const had20[20] = {
    "+----+----++--++-++-", "-+----+---+++---+-++", "--+----+---+++-+-+-+", "---+----+---+++++-+-",
    "----+----++--++-++-+", "-+++++-----+--+++--+", "+-+++-+---+-+--+++--", "++-++--+---+-+--+++-",
    "+++-+---+---+-+--+++", "++++-----++--+-+--++", "--++-+-++-+-----++++", "---++-+-++-+---+-+++",
    "+---++-+-+--+--++-++", "++---++-+----+-+++-+", "-++---++-+----+++++-", "-+--+--++-+----+----",
    "+-+-----++-+----+---", "-+-+-+---+--+----+--", "--+-+++------+----+-", "+--+--++------+----+"};
static const char* const had28[28] = {
    "+------++----++-+--+-+--++--", "-+-----+++-----+-+--+-+--++-", "--+-----+++---+-+-+----+--++",
    "---+-----+++---+-+-+-+--+--+", "----+-----+++---+-+-+++--+--", "-----+-----++++--+-+--++--+-",
    "------++----++-+--+-+--++--+", "--++++-+-------++--+++-+--+-", "---++++-+-----+-++--+-+-+--+",
    "+---+++--+----++-++--+-+-+--", "++---++---+----++-++--+-+-+-", "+++---+----+----++-++--+-+-+",
    "++++--------+-+--++-++--+-+-", "-++++--------+++--++--+--+-+", "-+-++-++--++--+--------++++-",
    "+-+-++--+--++--+--------++++", "-+-+-++--+--++--+----+---+++", "+-+-+-++--+--+---+---++---++",
    "++-+-+-++--+------+--+++---+", "-++-+-+-++--+------+-++++---", "+-++-+---++--+------+-++++--",
    "-++--++-+-++-+++----++------", "+-++--++-+-++-+++-----+-----", "++-++---+-+-++-+++-----+----",
    "-++-++-+-+-+-+--+++-----+---", "--++-++++-+-+----+++-----+--", "+--++-+-++-+-+----+++-----+-",
    "++--++-+-++-+-+----++------+"};

static const char* const* had_rows(int m) {
  return m == 12 ? had12 : m == 20 ? had20 : had28;
}

int mlx_hadamard_decompose_(int64_t size, int* m, int64_t* n) {
  static const int ms[3] = {12, 20, 28};
  *m = 1;
  *n = size;
  if (size & (size - 1)) {
    for (int i = 0; i < 3 && *m == 1; i++)
      if (size % ms[i] == 0 && !((size / ms[i]) & (size / ms[i] - 1))) *m = ms[i], *n = size / ms[i];
    if (*m == 1)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[hadamard_transform] Only supports n = m*2^k where m in (1, 12, 20, 28) but got %lld.",
                        (long long)size);
  }
  if (*n > ((int64_t)1 << 26))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[hadamard_transform] Only supports n = m*2^k where k <= 26");
  return MLX_OK;
}

typedef struct {
  char* data;
  mlx_dtype dt;
  const mlx_hadamard_params_* p;
  signed char* h;    /* m x m signs, transposed if asked */
  atomic_int failed; /* a chunk could not get its scratch row */
} had_job;

/* One row of m * n values, in place, in type R: per chunk of n, an
 * unrolled 8-point transform over each 8 values (the short strides that
 * do not vectorize), then the longer strides two stages per sweep (radix
 * 4) in loops over contiguous runs that gcc vectorizes; then the m x m
 * matrix across the chunks and the scale. */
#define HAD_ROW(NAME, R)                                                                                  \
  static void NAME(R* restrict v, R* restrict tmp, int64_t n, int m, const signed char* h, R scale) {     \
    for (int64_t c = 0; c < m; c++) {                                                                     \
      R* restrict w = v + c * n;                                                                          \
      int64_t hh = 1;                                                                                     \
      if (n >= 8) {                                                                                       \
        for (int64_t j = 0; j < n; j += 8) {                                                              \
          R* q = w + j;                                                                                   \
          R a0 = q[0] + q[1], a1 = q[0] - q[1], a2 = q[2] + q[3], a3 = q[2] - q[3];                      \
          R a4 = q[4] + q[5], a5 = q[4] - q[5], a6 = q[6] + q[7], a7 = q[6] - q[7];                      \
          R b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3;                                      \
          R b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7;                                      \
          q[0] = b0 + b4, q[1] = b1 + b5, q[2] = b2 + b6, q[3] = b3 + b7;                                \
          q[4] = b0 - b4, q[5] = b1 - b5, q[6] = b2 - b6, q[7] = b3 - b7;                                \
        }                                                                                                 \
        hh = 8;                                                                                           \
      }                                                                                                   \
      for (; hh * 4 <= n; hh *= 4)                                                                        \
        for (int64_t j = 0; j < n; j += 4 * hh) {                                                         \
          R* restrict p0 = w + j;                                                                         \
          R* restrict p1 = p0 + hh;                                                                       \
          R* restrict p2 = p1 + hh;                                                                       \
          R* restrict p3 = p2 + hh;                                                                       \
          for (int64_t i = 0; i < hh; i++) {                                                              \
            R a = p0[i] + p1[i], b = p0[i] - p1[i], c2 = p2[i] + p3[i], d = p2[i] - p3[i];               \
            p0[i] = a + c2, p1[i] = b + d, p2[i] = a - c2, p3[i] = b - d;                                \
          }                                                                                               \
        }                                                                                                 \
      for (; hh < n; hh <<= 1)                                                                            \
        for (int64_t j = 0; j < n; j += 2 * hh) {                                                         \
          R* restrict p0 = w + j;                                                                         \
          R* restrict p1 = p0 + hh;                                                                       \
          for (int64_t i = 0; i < hh; i++) {                                                              \
            R x = p0[i], y = p1[i];                                                                       \
            p0[i] = x + y, p1[i] = x - y;                                                                 \
          }                                                                                               \
        }                                                                                                 \
    }                                                                                                     \
    if (m > 1) {                                                                                          \
      for (int r = 0; r < m; r++) {                                                                       \
        R* restrict o = tmp + (int64_t)r * n;                                                             \
        for (int64_t i = 0; i < n; i++) o[i] = 0;                                                         \
        for (int c = 0; c < m; c++) {                                                                     \
          const R* restrict src = v + (int64_t)c * n;                                                     \
          if (h[r * m + c] > 0)                                                                           \
            for (int64_t i = 0; i < n; i++) o[i] += src[i];                                               \
          else                                                                                            \
            for (int64_t i = 0; i < n; i++) o[i] -= src[i];                                               \
        }                                                                                                 \
      }                                                                                                   \
      for (int64_t i = 0; i < (int64_t)m * n; i++) v[i] = tmp[i] * scale;                                 \
    } else {                                                                                              \
      for (int64_t i = 0; i < n; i++) v[i] *= scale;                                                      \
    }                                                                                                     \
  }

HAD_ROW(had_row_f32, float)
HAD_ROW(had_row_f64, double)

static void had_range(void* ctx, int64_t b, int64_t e) {
  const had_job* j = ctx;
  int64_t len = (int64_t)j->p->m * j->p->n;
  if (j->dt == MLX_FLOAT64) {
    double* tmp = malloc(sizeof(double) * (size_t)len);
    if (!tmp) {
      atomic_store(&((had_job*)ctx)->failed, 1);
      return;
    }
    for (int64_t r = b; r < e; r++)
      had_row_f64((double*)j->data + r * len, tmp, j->p->n, j->p->m, j->h, (double)j->p->scale);
    free(tmp);
    return;
  }
  float* buf = malloc(sizeof(float) * (size_t)(2 * len));
  if (!buf) {
    atomic_store(&((had_job*)ctx)->failed, 1);
    return;
  }
  for (int64_t r = b; r < e; r++) {
    if (j->dt == MLX_FLOAT32) {
      had_row_f32((float*)j->data + r * len, buf, j->p->n, j->p->m, j->h, j->p->scale);
      continue;
    }
    float* row = buf + len;
    if (j->dt == MLX_FLOAT16) {
      mlx_f16* d = (mlx_f16*)j->data + r * len;
      for (int64_t i = 0; i < len; i++) row[i] = (float)d[i];
      had_row_f32(row, buf, j->p->n, j->p->m, j->h, j->p->scale);
      for (int64_t i = 0; i < len; i++) d[i] = (mlx_f16)row[i];
    } else {
      mlx_bf16* d = (mlx_bf16*)j->data + r * len;
      for (int64_t i = 0; i < len; i++) row[i] = mlx_bf16_to_f32(d[i]);
      had_row_f32(row, buf, j->p->n, j->p->m, j->h, j->p->scale);
      for (int64_t i = 0; i < len; i++) d[i] = mlx_f32_to_bf16(row[i]);
    }
  }
  free(buf);
}

int mlx_cpu_hadamard_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_hadamard_params_* p = params;
  mlx_node_ *out = outs[0], *in = ins[0];
  int donated = 0;
  MLX_TRY(mlx_node_donate_or_alloc_(out, in, &donated));
  if (!donated) mlx_node_copy_to_(out->buf->data, out->dtype, in);
  int64_t len = (int64_t)p->m * p->n;
  if (out->size == 0 || len == 0) return MLX_OK;
  signed char h[28 * 28];
  if (p->m > 1) {
    const char* const* rows = had_rows(p->m);
    for (int r = 0; r < p->m; r++)
      for (int c = 0; c < p->m; c++) {
        char ch = p->transposed ? rows[c][r] : rows[r][c];
        h[r * p->m + c] = ch == '+' ? 1 : -1;
      }
  }
  had_job j = {out->buf->data, out->dtype, p, h, 0};
  int64_t rows = out->size / len;
  mlx_parallel_for_(rows, (int64_t)(65536 / len) + 1, had_range, &j);
  if (atomic_load(&j.failed)) return mlx_error_(MLX_ERROR_MEMORY, "[hadamard_transform] out of memory");
  return MLX_OK;
}
