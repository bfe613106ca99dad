/* matmul on the CPU through OpenBLAS.
 *
 * Computes in float32 (float16/bfloat16/float32 outputs), float64 or
 * complex64. An operand is used in place when it already has the compute
 * dtype and its last two dims are row- or column-contiguous with a leading
 * stride (a transposed view then becomes a BLAS transpose flag); otherwise
 * it is packed once, converting, into a row-major buffer. Batch dims
 * broadcast by stride 0, so a broadcast operand is never materialised.
 * float16/bfloat16 products accumulate in float32 and round once at the
 * end, as Python mlx's results do; a mixed int/half operand is rounded to
 * the half type first, as MLX's astype would. M == 1 or N == 1 go to
 * gemv / dot: OpenBLAS 0.3.21 runs a 1 x 4096 x 4096 gemm 3-4x slower
 * than the same gemv. */
#include <cblas.h>
#include <stdlib.h>
#include <limits.h>

#include "create.h"
#include "half.h"
#include "matmul_small.h"

/* OpenBLAS runs a gemm of M*N*K at most 262144 (SMP_THRESHOLD_MIN *
 * GEMM_MULTITHREAD_THRESHOLD) and a gemv of M*N at most 9216 (2304 *
 * GEMM_MULTITHREAD_THRESHOLD) on the calling thread; a batch of such
 * products is spread over our pool instead, and bigger ones are left to
 * OpenBLAS's own threads. */
#define GEMM_SINGLE_THREAD_WORK 262144.0
#define GEMV_SINGLE_THREAD_WORK 9216.0
#define BATCH_CHUNK_WORK 131072.0
/* The fewest rows per block when a batch's products are split (below, the
 * products are left whole to OpenBLAS's threads). */
#define SPLIT_MIN_ROWS 16

/* One operand as a batch of rows x cols matrices. */
typedef struct {
  const char* data; /* element 0, in the compute dtype */
  int64_t rows, cols;
  int trans;         /* 0: (i, j) at i * ld + j; 1: at j * ld + i */
  int64_t ld;
  int64_t* bstr;     /* stride per output batch dim; 0 where broadcast */
  mlx_buffer_* packed;
} operand;

/* BLAS view of a rows x cols matrix with element strides (rs, cs): fills
 * trans and ld, or returns 0 if BLAS cannot read it in place. Strides of
 * size-1 dims do not matter; ld must still be valid for BLAS. */
static int blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int* trans, int64_t* ld) {
  int64_t minc = cols > 1 ? cols : 1, minr = rows > 1 ? rows : 1;
  int64_t ldn = rows <= 1 ? minc : rs;
  if ((cols <= 1 || cs == 1) && ldn >= minc && ldn <= INT_MAX) {
    *trans = 0;
    *ld = ldn;
    return 1;
  }
  int64_t ldt = cols <= 1 ? minr : cs;
  if ((rows <= 1 || rs == 1) && ldt >= minr && ldt <= INT_MAX) {
    *trans = 1;
    *ld = ldt;
    return 1;
  }
  return 0;
}

/* Prepares operand n (the right one if is_b) for nb output batch dims:
 * in place when possible, else packed into the compute dtype ct. */
static int setup_operand(operand* op, mlx_node_* n, int is_b, int64_t k, mlx_dtype ct, mlx_dtype out_dt, int nb) {
  int nd = n->ndim;
  int64_t rs, cs;
  if (nd == 1) {
    op->rows = is_b ? k : 1;
    op->cols = is_b ? 1 : k;
    rs = is_b ? n->strides[0] : 0;
    cs = is_b ? 0 : n->strides[0];
  } else {
    op->rows = n->shape[nd - 2];
    op->cols = n->shape[nd - 1];
    rs = n->strides[nd - 2];
    cs = n->strides[nd - 1];
  }
  int own = nd > 2 ? nd - 2 : 0; /* the operand's own batch dims, right-aligned */
  for (int d = 0; d < nb; d++) {
    int od = d - (nb - own);
    op->bstr[d] = (od < 0 || n->shape[od] == 1) ? 0 : n->strides[od];
  }
  op->packed = NULL;
  if (n->dtype == ct && blas_layout(op->rows, op->cols, rs, cs, &op->trans, &op->ld)) {
    op->data = MLX_DATA(n, char);
    return MLX_OK;
  }
  /* Pack (own batch dims, rows, cols) row-major; a batch dim that the view
   * already broadcasts (stride 0) stays size 1. */
  int pd = own + 2;
  int64_t shape[pd], str[pd], total = op->rows * op->cols;
  for (int i = 0; i < own; i++) {
    shape[i] = n->strides[i] == 0 ? 1 : n->shape[i];
    str[i] = n->strides[i];
    total *= shape[i];
  }
  shape[own] = op->rows;
  shape[own + 1] = op->cols;
  str[own] = rs;
  str[own + 1] = cs;
  mlx_buffer_* buf = mlx_buffer_alloc_((size_t)total * mlx_dtype_size(ct));
  if (!buf) return mlx_last_error_code();
  const char* src = MLX_DATA(n, char);
  if (out_dt != ct && n->dtype != out_dt) {
    /* A half-precision product of a mixed operand: round it to the half
     * type first, as MLX's astype would, then widen. */
    mlx_buffer_* tmp = mlx_buffer_alloc_((size_t)total * mlx_dtype_size(out_dt));
    if (!tmp) {
      mlx_buffer_release_(buf);
      return mlx_last_error_code();
    }
    mlx_copy_cast_(tmp->data, out_dt, src, n->dtype, shape, str, pd);
    mlx_copy_cast_(buf->data, ct, tmp->data, out_dt, &total, &(int64_t){1}, 1);
    mlx_buffer_release_(tmp);
  } else {
    mlx_copy_cast_(buf->data, ct, src, n->dtype, shape, str, pd);
  }
  op->packed = buf;
  op->data = buf->data;
  op->trans = 0;
  op->ld = op->cols > 1 ? op->cols : 1;
  int64_t s = op->rows * op->cols;
  for (int i = own - 1; i >= 0; i--) {
    int d = i + (nb - own);
    op->bstr[d] = shape[i] == 1 ? 0 : s;
    s *= shape[i];
  }
  return MLX_OK;
}

typedef struct mm_job mm_job;
typedef void (*mm_fn)(const mm_job* j, int64_t m, const char* A, const char* B, char* C);

struct mm_job {
  operand a, b;
  int64_t m, n, k;
  int64_t rows;  /* rows of A per unit of work: m, or a block of m (see split_rows) */
  int64_t units; /* units per product: ceil(m / rows) */
  int small;     /* float32 units of a batch run on the pool: mlx_cpu_sgemm_small_ first */
  int nb;
  const int64_t* bshape;
  char* c;      /* output in the compute dtype: batches of m x n, row-major */
  size_t csize; /* bytes per compute element */
  mm_fn fn;
};

static const mlx_c64 c64_one = 1.0f, c64_zero = 0.0f;

/* A few rows times a transposed matrix (a Linear layer's x Wᵀ with a small
 * batch): OpenBLAS's row-major NoTrans x Trans kernel is several times
 * slower there than the product in the other orientation, W xᵀ (n x m),
 * which is computed into scratch and transposed into C. Returns 0 (and
 * leaves C to the plain path) when the scratch cannot be had. */
#define MM_SWAP_MAX_M 32
#define MM_SWAP_DEF(NAME, P, T, ALPHA, BETA)                                                          \
  static int mm_swapped_##NAME(int m, int n, int k, const char* A, int lda, const char* B, int ldb, char* C) { \
    T* t = malloc(sizeof(T) * (size_t)m * (size_t)n);                                                  \
    if (!t) return 0;                                                                                  \
    cblas_##P##gemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, ALPHA, (const void*)B, ldb,      \
                    (const void*)A, lda, BETA, (void*)t, m);                                           \
    T* c = (T*)C;                                                                                      \
    for (int i = 0; i < m; i++)                                                                        \
      for (int j = 0; j < n; j++) c[(int64_t)i * n + j] = t[(int64_t)j * m + i];                       \
    free(t);                                                                                           \
    return 1;                                                                                          \
  }

MM_SWAP_DEF(f32, s, float, 1.0f, 0.0f)
MM_SWAP_DEF(f64, d, double, 1.0, 0.0)
MM_SWAP_DEF(c64, c, mlx_c64, &c64_one, &c64_zero)

/* One product C (m x n, row-major) = A @ B, m rows of A (j->m or a block
 * of them). Vector increments: the left
 * operand's row when m == 1 and the right one's column when n == 1. */
#define MM_DEF(NAME, P, ALPHA, BETA, DOT, SMALL_NT, SMALL)                                                          \
  static void mm_##NAME(const mm_job* j, int64_t rows, const char* A, const char* B, char* C) {   \
    const operand *a = &j->a, *b = &j->b;                                                          \
    int m = (int)rows, n = (int)j->n, k = (int)j->k, lda = (int)a->ld, ldb = (int)b->ld;           \
    int inca = k == 1 ? 1 : (a->trans ? lda : 1);                                                  \
    if (j->small && SMALL(m, n, k, A, a->trans ? 1 : lda, a->trans ? lda : 1, B, b->trans ? 1 : ldb,  \
                          b->trans ? ldb : 1, C))                                                    \
      return;                                                                                      \
    int incb = k == 1 ? 1 : (b->trans ? 1 : ldb);                                                  \
    if (m == 1 && n == 1) {                                                                        \
      DOT(k, A, inca, B, incb, C);                                                                 \
    } else if (n == 1) {                                                                           \
      if (a->trans)                                                                                \
        cblas_##P##gemv(CblasRowMajor, CblasTrans, k, m, ALPHA, (const void*)A, lda, (const void*)B, incb, BETA, (void*)C, 1); \
      else                                                                                         \
        cblas_##P##gemv(CblasRowMajor, CblasNoTrans, m, k, ALPHA, (const void*)A, lda, (const void*)B, incb, BETA, (void*)C, 1); \
    } else if (m == 1) {                                                                           \
      if (b->trans)                                                                                \
        cblas_##P##gemv(CblasRowMajor, CblasNoTrans, n, k, ALPHA, (const void*)B, ldb, (const void*)A, inca, BETA, (void*)C, 1); \
      else                                                                                         \
        cblas_##P##gemv(CblasRowMajor, CblasTrans, k, n, ALPHA, (const void*)B, ldb, (const void*)A, inca, BETA, (void*)C, 1); \
    } else if (b->trans && !a->trans && SMALL_NT(m, n, k, A, lda, B, ldb, C)) {                       \
    } else if (b->trans && !a->trans && m <= MM_SWAP_MAX_M && n >= 4 * m &&                        \
               mm_swapped_##NAME(m, n, k, A, lda, B, ldb, C)) {                                    \
    } else {                                                                                       \
      cblas_##P##gemm(CblasRowMajor, a->trans ? CblasTrans : CblasNoTrans, b->trans ? CblasTrans : CblasNoTrans, m, n, k, \
                      ALPHA, (const void*)A, lda, (const void*)B, ldb, BETA, (void*)C, n);         \
    }                                                                                              \
  }

#define DOT_S(k, A, ia, B, ib, C) (*(float*)(C) = cblas_sdot(k, (const float*)(A), ia, (const float*)(B), ib))
#define DOT_D(k, A, ia, B, ib, C) (*(double*)(C) = cblas_ddot(k, (const double*)(A), ia, (const double*)(B), ib))
#define DOT_C(k, A, ia, B, ib, C) cblas_cdotu_sub(k, A, ia, B, ib, C)

/* The unpacked few-row kernel, float32 only. */
#define SMALL_NT_S(m, n, k, A, lda, B, ldb, C) \
  mlx_cpu_sgemm_small_nt_(m, n, k, (const float*)(A), lda, (const float*)(B), ldb, (float*)(C), n)
#define SMALL_NT_NONE(m, n, k, A, lda, B, ldb, C) 0
#define SMALL_S(m, n, k, A, ars, acs, B, brs, bcs, C) \
  mlx_cpu_sgemm_small_(m, n, k, 1.0f, (const float*)(A), ars, acs, (const float*)(B), brs, bcs, 0.0f, (float*)(C), n)
#define SMALL_NONE(m, n, k, A, ars, acs, B, brs, bcs, C) 0

MM_DEF(f32, s, 1.0f, 0.0f, DOT_S, SMALL_NT_S, SMALL_S)
MM_DEF(f64, d, 1.0, 0.0, DOT_D, SMALL_NT_NONE, SMALL_NONE)
MM_DEF(c64, c, &c64_one, &c64_zero, DOT_C, SMALL_NT_NONE, SMALL_NONE)

/* Units [b, e) of work: unit t is rows [r * rows, r * rows + rows) of
 * product t / units, r = t % units; operand offsets from the broadcast
 * strides. */
static void mm_units(void* ctx, int64_t b, int64_t e) {
  const mm_job* j = ctx;
  int64_t cstep = j->m * j->n * (int64_t)j->csize;
  for (int64_t t = b; t < e; t++) {
    int64_t rem = t / j->units, oa = 0, ob = 0;
    int64_t r0 = (t % j->units) * j->rows;
    int64_t rows = j->m - r0 < j->rows ? j->m - r0 : j->rows;
    int64_t batch = rem;
    for (int d = j->nb - 1; d >= 0; d--) {
      int64_t i = rem % j->bshape[d];
      rem /= j->bshape[d];
      oa += i * j->a.bstr[d];
      ob += i * j->b.bstr[d];
    }
    oa += j->a.trans ? r0 : r0 * j->a.ld;
    j->fn(j, rows, j->a.data + oa * (int64_t)j->csize, j->b.data + ob * (int64_t)j->csize,
          j->c + batch * cstep + r0 * j->n * (int64_t)j->csize);
  }
}

int mlx_cpu_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  mlx_node_* out = outs[0];
  mlx_node_* A = ins[0];
  mlx_node_* B = ins[1];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  mlx_dtype od = out->dtype;
  int64_t m = A->ndim == 1 ? 1 : A->shape[A->ndim - 2];
  int64_t k = A->shape[A->ndim - 1];
  int64_t n = B->ndim == 1 ? 1 : B->shape[B->ndim - 1];
  if (k == 0) {
    memset(out->buf->data, 0, (size_t)out->size * mlx_dtype_size(od));
    return MLX_OK;
  }
  mlx_dtype ct = (od == MLX_FLOAT16 || od == MLX_BFLOAT16) ? MLX_FLOAT32 : od;
  int nb = out->ndim - (A->ndim > 1) - (B->ndim > 1);
  int64_t batches = out->size / (m * n);
  int64_t astr[nb > 0 ? nb : 1], bstr[nb > 0 ? nb : 1];
  mm_job j;
  j.a.bstr = astr;
  j.b.bstr = bstr;
  MLX_TRY(setup_operand(&j.a, A, 0, k, ct, od, nb));
  int rc = setup_operand(&j.b, B, 1, k, ct, od, nb);
  if (rc) {
    if (j.a.packed) mlx_buffer_release_(j.a.packed);
    return rc;
  }
  mlx_buffer_* cbuf = NULL;
  if (ct != od) {
    cbuf = mlx_buffer_alloc_((size_t)out->size * mlx_dtype_size(ct));
    if (!cbuf) {
      rc = mlx_last_error_code();
      if (j.a.packed) mlx_buffer_release_(j.a.packed);
      if (j.b.packed) mlx_buffer_release_(j.b.packed);
      return rc;
    }
  }
  j.m = m;
  j.n = n;
  j.k = k;
  j.nb = nb;
  j.bshape = out->shape;
  j.c = cbuf ? cbuf->data : out->buf->data;
  j.csize = mlx_dtype_size(ct);
  j.fn = ct == MLX_FLOAT64 ? mm_f64 : ct == MLX_COMPLEX64 ? mm_c64 : mm_f32;
  /* (batch..., m, k) @ (k, n) with the left rows evenly spaced through the
   * batch is one (batch * m, k) @ (k, n) product. */
  if (batches > 1 && !j.a.trans && batches * m <= INT_MAX) {
    int fold = 1;
    int64_t expect = m * j.a.ld;
    for (int d = nb - 1; d >= 0 && fold; d--) {
      if (j.bshape[d] == 1) continue;
      fold = j.b.bstr[d] == 0 && j.a.bstr[d] == expect;
      expect *= j.bshape[d];
    }
    if (fold) {
      j.m = batches * m;
      j.nb = 0;
      batches = 1;
    }
  }
  double work = (double)j.m * (double)j.n * (double)j.k;
  double single = (j.m == 1 || j.n == 1) ? GEMV_SINGLE_THREAD_WORK : GEMM_SINGLE_THREAD_WORK;
  j.rows = j.m;
  j.units = 1;
  j.small = 0;
  if (batches > 1 && work > single && j.n > 1 && (double)j.n * (double)j.k * SPLIT_MIN_ROWS <= single) {
    /* A batch of mid-sized products (attention's per-head Q Kᵀ): OpenBLAS
     * would thread each one in turn; blocks of rows small enough for it to
     * run on the calling thread go over our pool instead, all products at
     * once (64 x [128, 32] x [32, 128]: 3.2 -> 0.6 ms). */
    j.small = ct == MLX_FLOAT32;
    /* Our float32 kernel runs a whole product on one thread: split only
     * to have work for every thread. */
    if (!j.small || batches < 2 * mlx_cpu_thread_count()) j.rows = (int64_t)(single / ((double)j.n * (double)j.k));
    j.units = (j.m + j.rows - 1) / j.rows;
    mlx_parallel_for_(batches * j.units, 1, mm_units, &j);
  } else if (batches > 1 && work <= single) {
    j.small = ct == MLX_FLOAT32;
    mlx_parallel_for_(batches, (int64_t)(BATCH_CHUNK_WORK / work) + 1, mm_units, &j);
  } else {
    mm_units(&j, 0, batches);
  }
  if (cbuf) {
    int64_t total = out->size, one = 1;
    mlx_copy_cast_(out->buf->data, od, cbuf->data, ct, &total, &one, 1);
    mlx_buffer_release_(cbuf);
  }
  if (j.a.packed) mlx_buffer_release_(j.a.packed);
  if (j.b.packed) mlx_buffer_release_(j.b.packed);
  return MLX_OK;
}
