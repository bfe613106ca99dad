/* Factorizations on the CPU through LAPACKE (OpenBLAS's LAPACK).
 *
 * Each kernel copies its input, converted to row-major, into a buffer it
 * owns (an output when the routine works in place), then runs one LAPACK
 * call per matrix of the batch: column-major on the row-major data (the
 * transpose) where the math allows, else with LAPACK_ROW_MAJOR, whose
 * LAPACKE wrappers transpose in and out. Errors that LAPACK
 * reports (a singular matrix to invert, no convergence) become statuses.
 * Batches of small matrices are spread over the thread pool; a big matrix
 * is left to OpenBLAS's own threads. */
#include <complex.h>
#include <limits.h>
#include <stdlib.h>

#include <lapacke.h>

#include "linalg.h"

/* LAPACKE's default NaN screen returns an argument error for any NaN in
 * the input; upstream MLX calls LAPACK directly, where NaNs just
 * propagate into the result. */
__attribute__((constructor)) static void linalg_no_nancheck(void) { LAPACKE_set_nancheck(0); }

/* Batch count, rows and cols of the last two dims of n. */
static void mat_dims(const mlx_node_* n, int64_t* batch, int* rows, int* cols) {
  int64_t b = 1;
  for (int i = 0; i < n->ndim - 2; i++) b *= n->shape[i];
  *batch = b;
  *rows = (int)n->shape[n->ndim - 2];
  *cols = (int)n->shape[n->ndim - 1];
}

/* A scratch buffer of n bytes (at least 1) or NULL with the error set. */
static mlx_buffer_* scratch(size_t n) { return mlx_buffer_alloc_(n ? n : 1); }

/* ---- batches ------------------------------------------------------------ */
/* A batch of small matrices is spread over the pool (as matmul does for
 * small products); a large matrix runs alone, threaded by OpenBLAS. The
 * workers report the first LAPACK failure here and the calling thread
 * turns it into the error (messages are thread-local). */
typedef struct batch_job_ {
  char* data;       /* matrix 0 */
  size_t mat_bytes; /* bytes per matrix */
  char* aux;        /* per-matrix uint32 outputs of luf (pivots, perm) */
  char* aux2;
  int m, n;
  mlx_dtype dtype;
  const void* params;
  char* out[3];    /* outputs (qr, svd, eigh, eig), NULL when not computed */
  int flags;       /* kernel specific (eigh: 1 vectors, 2 upper) */
  /* matrices [b0, b1) of qr, svd, eigh or eig; the LAPACK info of the
   * first failure, OOM_INFO when out of memory */
  int (*range)(struct batch_job_* j, int64_t b0, int64_t b1);
  atomic_int info; /* first non-zero LAPACK info, 0 if none */
  atomic_int step; /* which call failed (kernel specific) */
} batch_job;

static void job_fail(batch_job* j, int info, int step) {
  int zero = 0;
  if (atomic_compare_exchange_strong(&j->info, &zero, info)) atomic_store(&j->step, step);
}

/* Matrices per chunk: about 2^15 flops of work, everything at once (one
 * chunk) for matrices big enough for OpenBLAS's own threads. */
static int64_t batch_grain(int64_t batch, int m, int n) {
  double work = (double)m * (double)n * (double)(m < n ? m : n);
  if (m >= 64 || n >= 64) return batch > 0 ? batch : 1;
  int64_t g = (int64_t)(32768.0 / (work > 1 ? work : 1));
  return g > 0 ? g : 1;
}

#define OOM_INFO INT_MIN

/* The range worker of the kernels that give their range function. */
static void job_range(void* ctx, int64_t b0, int64_t b1) {
  batch_job* j = ctx;
  int info = j->range(j, b0, b1);
  if (info != 0) job_fail(j, info, 0);
}

static void run_batch(batch_job* j, int64_t batch, mlx_range_fn_ fn) {
  atomic_init(&j->info, 0);
  atomic_init(&j->step, 0);
  mlx_parallel_for_(batch, batch_grain(batch, j->m, j->n), fn, j);
}

/* ---- inverse ------------------------------------------------------------ */
/* The row-major buffer read column-major is A^T, and inv(A^T) = inv(A)^T,
 * so LAPACK runs column-major in place (no LAPACKE transposes); a
 * triangle of A is the other triangle of A^T. step 1: getrf, 2: getri,
 * 3: trtri, 4: out of memory. */
#define DEF_INVERSE(T, P)                                                                                    \
  static int inverse_one_##P(T* m, int n, const mlx_inverse_params_* p, lapack_int* ipiv, int* step) {      \
    lapack_int info;                                                                                         \
    if (p->tri) {                                                                                            \
      *step = 3;                                                                                             \
      info = LAPACKE_##P##trtri(LAPACK_COL_MAJOR, p->upper ? 'L' : 'U', 'N', n, m, n);                       \
      if (info != 0) return (int)info;                                                                       \
      /* trtri leaves the other triangle as it was. */                                                       \
      for (int i = 0; i < n; i++)                                                                            \
        for (int j = 0; j < n; j++)                                                                          \
          if (p->upper ? j < i : j > i) m[(int64_t)i * n + j] = 0;                                           \
      return 0;                                                                                              \
    }                                                                                                        \
    *step = 1;                                                                                               \
    info = LAPACKE_##P##getrf(LAPACK_COL_MAJOR, n, n, m, n, ipiv);                                           \
    if (info != 0) return (int)info;                                                                         \
    *step = 2;                                                                                               \
    return (int)LAPACKE_##P##getri(LAPACK_COL_MAJOR, n, m, n, ipiv);                                         \
  }
DEF_INVERSE(float, s)
DEF_INVERSE(double, d)

static void inverse_range(void* ctx, int64_t b0, int64_t b1) {
  batch_job* j = ctx;
  lapack_int* ipiv = malloc(sizeof(lapack_int) * (size_t)(j->n ? j->n : 1));
  if (!ipiv) {
    job_fail(j, -1, 4);
    return;
  }
  for (int64_t b = b0; b < b1 && j->n > 0; b++) {
    void* m = j->data + (size_t)b * j->mat_bytes;
    int step = 0;
    int info = j->dtype == MLX_FLOAT64 ? inverse_one_d(m, j->n, j->params, ipiv, &step)
                                       : inverse_one_s(m, j->n, j->params, ipiv, &step);
    if (info != 0) {
      job_fail(j, info, step);
      break;
    }
  }
  free(ipiv);
}

int mlx_cpu_inverse_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  int64_t batch;
  int n, cols;
  mat_dims(ins[0], &batch, &n, &cols);
  MLX_TRY(mlx_node_alloc_(out));
  mlx_node_copy_to_(MLX_DATA(out, void), out->dtype, ins[0]);
  batch_job j = {.data = MLX_DATA(out, char), .mat_bytes = (size_t)n * (size_t)n * mlx_dtype_size(out->dtype),
                 .m = n, .n = n, .dtype = out->dtype, .params = params};
  run_batch(&j, batch, inverse_range);
  int info = atomic_load(&j.info), step = atomic_load(&j.step);
  if (info == 0) return MLX_OK;
  if (step == 4) return mlx_error_(MLX_ERROR_MEMORY, "[linalg::inv] out of memory");
  if (step == 3)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::tri_inv] triangular inversion failed with error code %d", info);
  return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::inv] %s failed with error code %d",
                    step == 1 ? "LU factorization" : "inversion", info);
}

/* ---- cholesky ----------------------------------------------------------- */
/* Column-major on the row-major buffer as for the inverse: the lower
 * triangle of A is the upper one of A^T, and A^T = U^T U gives A = L L^T
 * with L = U^T read back row-major. As upstream, LAPACK's status is not
 * checked: a matrix that is not positive definite leaves the partial
 * factorization in the result. */
#define DEF_CHOLESKY(T, P)                                                              \
  static void cholesky_one_##P(T* m, int n, int upper) {                              \
    LAPACKE_##P##potrf(LAPACK_COL_MAJOR, upper ? 'L' : 'U', n, m, n);                 \
    for (int i = 0; i < n; i++)                                                        \
      for (int j = 0; j < n; j++)                                                      \
        if (upper ? j < i : j > i) m[(int64_t)i * n + j] = 0;                          \
  }
DEF_CHOLESKY(float, s)
DEF_CHOLESKY(double, d)

static void cholesky_range(void* ctx, int64_t b0, int64_t b1) {
  batch_job* j = ctx;
  int upper = ((const mlx_cholesky_params_*)j->params)->upper;
  for (int64_t b = b0; b < b1 && j->n > 0; b++) {
    void* m = j->data + (size_t)b * j->mat_bytes;
    if (j->dtype == MLX_FLOAT64) cholesky_one_d(m, j->n, upper);
    else cholesky_one_s(m, j->n, upper);
  }
}

int mlx_cpu_cholesky_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  int64_t batch;
  int n, cols;
  mat_dims(ins[0], &batch, &n, &cols);
  MLX_TRY(mlx_node_alloc_(out));
  mlx_node_copy_to_(MLX_DATA(out, void), out->dtype, ins[0]);
  batch_job j = {.data = MLX_DATA(out, char), .mat_bytes = (size_t)n * (size_t)n * mlx_dtype_size(out->dtype),
                 .m = n, .n = n, .dtype = out->dtype, .params = params};
  run_batch(&j, batch, cholesky_range);
  return MLX_OK;
}

/* ---- QR ------------------------------------------------------------------ */
/* a (m x n, row-major scratch) -> q (m x k), r (k x n). */
#define DEF_QR(T, P)                                                                                      \
  static int qr_##P(batch_job* j, int64_t b0, int64_t b1) {                                              \
    int m = j->m, n = j->n, k = m < n ? m : n;                                                           \
    T* tau = malloc(sizeof(T) * (size_t)(k ? k : 1));                                                     \
    if (!tau) return OOM_INFO;                                                                           \
    int rc = 0;                                                                                          \
    for (int64_t b = b0; b < b1 && k > 0; b++) {                                                          \
      T* ab = (T*)j->data + b * (int64_t)m * n;                                                          \
      T* qb = (T*)j->out[0] + b * (int64_t)m * k;                                                        \
      T* rb = (T*)j->out[1] + b * (int64_t)k * n;                                                        \
      lapack_int info = LAPACKE_##P##geqrf(LAPACK_ROW_MAJOR, m, n, ab, n, tau);                          \
      if (info == 0) {                                                                                   \
        for (int i = 0; i < k; i++)                                                                      \
          for (int c = 0; c < n; c++) rb[(int64_t)i * n + c] = c >= i ? ab[(int64_t)i * n + c] : 0;      \
        info = LAPACKE_##P##orgqr(LAPACK_ROW_MAJOR, m, k, k, ab, n, tau);                                \
      }                                                                                                  \
      if (info != 0) {                                                                                   \
        rc = (int)info;                                                                                  \
        break;                                                                                           \
      }                                                                                                  \
      for (int i = 0; i < m; i++)                                                                        \
        for (int c = 0; c < k; c++) qb[(int64_t)i * k + c] = ab[(int64_t)i * n + c];                     \
    }                                                                                                    \
    free(tau);                                                                                           \
    return rc;                                                                                           \
  }
DEF_QR(float, s)
DEF_QR(double, d)

/* Runs j->range over the batch of input `in` copied row-major into a
 * scratch buffer; the error names the op. */
static int run_on_copy(batch_job* j, mlx_node_* in, int64_t batch, const char* op, const char* what) {
  mlx_buffer_* work = j->data ? NULL : scratch((size_t)in->size * mlx_dtype_size(in->dtype));
  if (!j->data && !work) return mlx_last_error_code();
  if (work) j->data = work->data;
  mlx_node_copy_to_(j->data, in->dtype, in);
  j->dtype = in->dtype;
  run_batch(j, batch, job_range);
  if (work) mlx_buffer_release_(work);
  int info = atomic_load(&j->info);
  if (info == 0) return MLX_OK;
  if (info == OOM_INFO) return mlx_error_(MLX_ERROR_MEMORY, "[linalg::%s] out of memory", op);
  return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::%s] %s failed with error code %d", op, what, info);
}

int mlx_cpu_qrf_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* in = ins[0];
  int64_t batch;
  int m, n;
  mat_dims(in, &batch, &m, &n);
  MLX_TRY(mlx_node_alloc_(outs[0]));
  MLX_TRY(mlx_node_alloc_(outs[1]));
  batch_job j = {.m = m, .n = n, .out = {MLX_DATA(outs[0], char), MLX_DATA(outs[1], char)},
                 .range = in->dtype == MLX_FLOAT64 ? qr_d : qr_s};
  return run_on_copy(&j, in, batch, "qr", "QR factorization");
}

/* ---- SVD ----------------------------------------------------------------- */
/* out: u (or NULL), s, vt (or NULL). */
#define DEF_SVD(T, R, P)                                                                                    \
  static int svd_##P(batch_job* j, int64_t b0, int64_t b1) {                                               \
    int m = j->m, n = j->n, k = m < n ? m : n;                                                             \
    T* u = (T*)j->out[0];                                                                                  \
    T* vt = (T*)j->out[2];                                                                                 \
    for (int64_t b = b0; b < b1; b++) {                                                                     \
      T* ab = (T*)j->data + b * (int64_t)m * n;                                                            \
      T* ub = u ? u + b * (int64_t)m * m : NULL;                                                           \
      T* vb = vt ? vt + b * (int64_t)n * n : NULL;                                                         \
      if (k == 0) {                                                                                        \
        /* Nothing to factor: the singular vectors are the identity. */                                    \
        for (int i = 0; ub && i < m; i++)                                                                  \
          for (int c = 0; c < m; c++) ub[(int64_t)i * m + c] = i == c;                                     \
        for (int i = 0; vb && i < n; i++)                                                                  \
          for (int c = 0; c < n; c++) vb[(int64_t)i * n + c] = i == c;                                     \
        continue;                                                                                          \
      }                                                                                                    \
      T dummy[1];                                                                                          \
      lapack_int info = LAPACKE_##P##gesdd(LAPACK_ROW_MAJOR, u ? 'A' : 'N', m, n, ab, n,                   \
                                           (R*)j->out[1] + b * (int64_t)k, ub ? ub : dummy, m,             \
                                           vb ? vb : dummy, n);                                            \
      if (info != 0) return (int)info;                                                                     \
    }                                                                                                      \
    return 0;                                                                                              \
  }
DEF_SVD(float, float, s)
DEF_SVD(double, double, d)
DEF_SVD(float _Complex, float, c)

int mlx_cpu_svd_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_svd_params_* p = params;
  mlx_node_* in = ins[0];
  int64_t batch;
  int m, n;
  mat_dims(in, &batch, &m, &n);
  for (int i = 0; i < nout; i++) MLX_TRY(mlx_node_alloc_(outs[i]));
  batch_job j = {.m = m, .n = n};
  j.out[0] = p->compute_uv ? MLX_DATA(outs[0], char) : NULL;
  j.out[1] = MLX_DATA(outs[p->compute_uv ? 1 : 0], char);
  j.out[2] = p->compute_uv ? MLX_DATA(outs[2], char) : NULL;
  j.range = in->dtype == MLX_FLOAT64 ? svd_d : in->dtype == MLX_COMPLEX64 ? svd_c : svd_s;
  return run_on_copy(&j, in, batch, "svd", "SVD");
}

/* ---- eigh ---------------------------------------------------------------- */
/* data: the matrices, overwritten by the eigenvectors; out[0]: values. */
#define DEF_EIGH(T, R, P, FN)                                                                                \
  static int eigh_##P(batch_job* j, int64_t b0, int64_t b1) {                                               \
    int n = j->n;                                                                                            \
    for (int64_t b = b0; b < b1 && n > 0; b++) {                                                             \
      lapack_int info = LAPACKE_##FN(LAPACK_ROW_MAJOR, (j->flags & 1) ? 'V' : 'N', (j->flags & 2) ? 'U' : 'L', \
                                     n, (T*)j->data + b * (int64_t)n * n, n, (R*)j->out[0] + b * (int64_t)n); \
      if (info != 0) return (int)info;                                                                      \
    }                                                                                                       \
    return 0;                                                                                               \
  }
DEF_EIGH(float, float, s, ssyevd)
DEF_EIGH(double, double, d, dsyevd)
DEF_EIGH(float _Complex, float, c, cheevd)

int mlx_cpu_eigh_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_eigh_params_* p = params;
  mlx_node_* in = ins[0];
  int64_t batch;
  int n, cols;
  mat_dims(in, &batch, &n, &cols);
  for (int i = 0; i < nout; i++) MLX_TRY(mlx_node_alloc_(outs[i]));
  /* The eigenvectors overwrite the matrix: work in v when it is wanted. */
  batch_job j = {.m = n, .n = n, .data = p->vectors ? MLX_DATA(outs[1], char) : NULL,
                 .out = {MLX_DATA(outs[0], char)}, .flags = (p->vectors ? 1 : 0) | (p->upper ? 2 : 0)};
  j.range = in->dtype == MLX_FLOAT64 ? eigh_d : in->dtype == MLX_COMPLEX64 ? eigh_c : eigh_s;
  return run_on_copy(&j, in, batch, "eigh", "eigenvalue decomposition");
}

/* ---- eig ----------------------------------------------------------------- */
/* As upstream, geev runs column-major on the row-major copy, i.e. on A^T,
 * computing its left eigenvectors: u^H A^T = w u^H gives A conj(u) =
 * w conj(u). Eigenvalues then come in upstream's order. For real input a
 * complex conjugate pair at j, j+1 stores u_j = vl_j + i vl_j+1 and its
 * conjugate; results are widened to complex64 (float64 input rounded, as
 * upstream's complex64 outputs are). vectors[r * n + j] is component r of
 * eigenvector j (eigenvectors in columns). out[0]: values, out[1]:
 * vectors or NULL. */
#define DEF_EIG_REAL(T, P)                                                                                    \
  static int eig_##P(batch_job* j, int64_t b0, int64_t b1) {                                                 \
    int n = j->n;                                                                                             \
    size_t nn = (size_t)n * (size_t)n;                                                                        \
    float _Complex* v = (float _Complex*)j->out[1];                                                           \
    T* wr = malloc(sizeof(T) * (size_t)(2 * n + 1));                                                          \
    T* vl = v ? malloc(sizeof(T) * (nn ? nn : 1)) : NULL;                                                     \
    if (!wr || (v && !vl)) {                                                                                  \
      free(wr), free(vl);                                                                                     \
      return OOM_INFO;                                                                                        \
    }                                                                                                         \
    T* wi = wr + n;                                                                                           \
    T dummy[1];                                                                                               \
    int rc = 0;                                                                                               \
    for (int64_t b = b0; b < b1 && n > 0; b++) {                                                              \
      lapack_int info = LAPACKE_##P##geev(LAPACK_COL_MAJOR, v ? 'V' : 'N', 'N', n, (T*)j->data + b * (int64_t)nn, \
                                          n, wr, wi, vl ? vl : dummy, n, dummy, 1);                           \
      if (info != 0) {                                                                                        \
        rc = (int)info;                                                                                       \
        break;                                                                                                \
      }                                                                                                       \
      float _Complex* wb = (float _Complex*)j->out[0] + b * (int64_t)n;                                       \
      for (int c = 0; c < n; c++) wb[c] = (float)wr[c] + (float)wi[c] * (float _Complex)I;                    \
      if (!v) continue;                                                                                       \
      float _Complex* vb = v + b * (int64_t)nn;                                                               \
      for (int c = 0; c < n; c++) {                                                                           \
        const T* cj = vl + (int64_t)c * n; /* column c of vl */                                               \
        if (wi[c] != 0 && c + 1 < n) {                                                                        \
          for (int r = 0; r < n; r++) {                                                                       \
            float re = (float)cj[r], im = (float)cj[n + r];                                                   \
            vb[(int64_t)r * n + c] = re - im * (float _Complex)I;                                             \
            vb[(int64_t)r * n + c + 1] = re + im * (float _Complex)I;                                         \
          }                                                                                                   \
          c++;                                                                                                \
        } else {                                                                                              \
          for (int r = 0; r < n; r++) vb[(int64_t)r * n + c] = (float)cj[r];                                  \
        }                                                                                                     \
      }                                                                                                       \
    }                                                                                                         \
    free(wr), free(vl);                                                                                       \
    return rc;                                                                                                \
  }
DEF_EIG_REAL(float, s)
DEF_EIG_REAL(double, d)

/* Complex input: the same left-eigenvector route, conjugated. (Upstream
 * 0.32 returns the left eigenvectors of A^T unconjugated, which are not
 * eigenvectors of A; the values agree.) */
static int eig_c(batch_job* j, int64_t b0, int64_t b1) {
  int n = j->n;
  float _Complex dummy[1];
  size_t nn = (size_t)n * (size_t)n;
  float _Complex* v = (float _Complex*)j->out[1];
  float _Complex* vl = v ? malloc(sizeof(float _Complex) * (nn ? nn : 1)) : NULL;
  if (v && !vl) return OOM_INFO;
  int rc = 0;
  for (int64_t b = b0; b < b1 && n > 0; b++) {
    lapack_int info = LAPACKE_cgeev(LAPACK_COL_MAJOR, v ? 'V' : 'N', 'N', n, (float _Complex*)j->data + b * (int64_t)nn,
                                    n, (float _Complex*)j->out[0] + b * (int64_t)n, vl ? vl : dummy, n, dummy, 1);
    if (info != 0) {
      rc = (int)info;
      break;
    }
    if (!v) continue;
    float _Complex* vb = v + b * (int64_t)nn;
    for (int c = 0; c < n; c++)
      for (int r = 0; r < n; r++) vb[(int64_t)r * n + c] = conjf(vl[(int64_t)c * n + r]);
  }
  free(vl);
  return rc;
}

int mlx_cpu_eig_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_eig_params_* p = params;
  mlx_node_* in = ins[0];
  int64_t batch;
  int n, cols;
  mat_dims(in, &batch, &n, &cols);
  for (int i = 0; i < nout; i++) MLX_TRY(mlx_node_alloc_(outs[i]));
  batch_job j = {.m = n, .n = n, .out = {MLX_DATA(outs[0], char), p->vectors ? MLX_DATA(outs[1], char) : NULL}};
  j.range = in->dtype == MLX_FLOAT64 ? eig_d : in->dtype == MLX_COMPLEX64 ? eig_c : eig_s;
  return run_on_copy(&j, in, batch, "eig", "eigenvalue decomposition");
}

/* ---- LU ------------------------------------------------------------------ */
/* A zero pivot (a singular matrix) is not an error: the factors are still
 * what upstream returns. pivots get LAPACK's 0-based row interchanges;
 * perm maps each input row to its row of L @ U. */
#define DEF_LUF(T, P)                                                                                    \
  static int luf_one_##P(T* a, uint32_t* pb, uint32_t* qb, int m, int n, lapack_int* ipiv, uint32_t* rows) { \
    int k = m < n ? m : n;                                                                              \
    if (k > 0) {                                                                                        \
      lapack_int info = LAPACKE_##P##getrf(LAPACK_ROW_MAJOR, m, n, a, n, ipiv);                         \
      if (info < 0) return (int)info;                                                                   \
    }                                                                                                   \
    /* rows[j]: the input row that ends up at row j after the swaps. */                                 \
    for (int i = 0; i < m; i++) rows[i] = (uint32_t)i;                                                  \
    for (int i = 0; i < k; i++) {                                                                       \
      int j = (int)ipiv[i] - 1;                                                                         \
      pb[i] = (uint32_t)j;                                                                              \
      uint32_t t = rows[i];                                                                             \
      rows[i] = rows[j];                                                                                \
      rows[j] = t;                                                                                      \
    }                                                                                                   \
    for (int i = 0; i < m; i++) qb[rows[i]] = (uint32_t)i;                                              \
    return 0;                                                                                           \
  }
DEF_LUF(float, s)
DEF_LUF(double, d)

static void luf_range(void* ctx, int64_t b0, int64_t b1) {
  batch_job* j = ctx;
  int m = j->m, n = j->n, k = m < n ? m : n;
  lapack_int* ipiv = malloc(sizeof(lapack_int) * (size_t)(k ? k : 1));
  uint32_t* rows = malloc(sizeof(uint32_t) * (size_t)(m ? m : 1));
  if (!ipiv || !rows) {
    free(ipiv), free(rows);
    job_fail(j, -1, 4);
    return;
  }
  for (int64_t b = b0; b < b1; b++) {
    void* a = j->data + (size_t)b * j->mat_bytes;
    uint32_t* pb = (uint32_t*)j->aux + b * (int64_t)k;
    uint32_t* qb = (uint32_t*)j->aux2 + b * (int64_t)m;
    int info = j->dtype == MLX_FLOAT64 ? luf_one_d(a, pb, qb, m, n, ipiv, rows) : luf_one_s(a, pb, qb, m, n, ipiv, rows);
    if (info != 0) {
      job_fail(j, info, 1);
      break;
    }
  }
  free(ipiv), free(rows);
}

int mlx_cpu_luf_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* in = ins[0];
  int64_t batch;
  int m, n;
  mat_dims(in, &batch, &m, &n);
  for (int i = 0; i < nout; i++) MLX_TRY(mlx_node_alloc_(outs[i]));
  mlx_node_copy_to_(MLX_DATA(outs[0], void), in->dtype, in);
  batch_job j = {.data = MLX_DATA(outs[0], char), .mat_bytes = (size_t)m * (size_t)n * mlx_dtype_size(in->dtype),
                 .aux = MLX_DATA(outs[1], char), .aux2 = MLX_DATA(outs[2], char), .m = m, .n = n,
                 .dtype = in->dtype};
  run_batch(&j, batch, luf_range);
  int info = atomic_load(&j.info);
  if (info == 0) return MLX_OK;
  if (atomic_load(&j.step) == 4) return mlx_error_(MLX_ERROR_MEMORY, "[linalg::lu_factor] out of memory");
  return mlx_error_(MLX_ERROR_ARGUMENT, "[linalg::lu_factor] LU failed with error code %d", info);
}
