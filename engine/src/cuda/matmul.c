/* Matrix products on the GPU: mlx_cuda_gemm_, the strided-batched product
 * other drivers (conv) call, through cuBLASLt with a cached plan
 * (cuda/blaslt.c) or else cuBLAS (both dlopen'ed at first use), and the
 * matmul primitive's kernel, which lays its operands out for it (strided
 * views read in place, other layouts copied dense). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_api.h>

#include "backend.h"
#include "launch.h"

/* cuBLAS is dlopen'ed at first use (libcublas.so.13, then .so.12, then
 * libcublas.so): the static libraries are not part of this toolkit
 * install, and dlopen keeps the extension loadable without cuBLAS (the
 * matmul then fails with the reason). One handle per device, used under a
 * lock (its stream is set per call). TF32 only with MLX_CUDA_TF32=1. */
typedef cublasStatus_t (*create_fn)(cublasHandle_t*);
typedef cublasStatus_t (*setstream_fn)(cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*setws_fn)(cublasHandle_t, void*, size_t);
typedef cublasStatus_t (*gemm_fn)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                                  const void*, cudaDataType, int, long long, const void*, cudaDataType, int,
                                  long long, const void*, void*, cudaDataType, int, long long, int,
                                  cublasComputeType_t, cublasGemmAlgo_t);
/* One cuBLAS handle per MLX stream, made at first use with its stream and
 * a workspace of WORKSPACE bytes (Hopper's recommended 32 MiB) set once:
 * cublasSetStream on a shared handle resets its workspace, and costs tens
 * of microseconds of host time per call. Kernels of two streams may run
 * at once, so streams share neither handle nor workspace. */
#define WORKSPACE ((size_t)32 << 20)
#define MAX_HANDLES 1024
static struct {
  pthread_once_t once;
  void* lib;
  char why[256];
  create_fn create;
  setstream_fn setstream;
  setws_fn setws;
  gemm_fn gemm;
  pthread_mutex_t lock;
  cublasHandle_t handle[MAX_HANDLES];
  void* ws[MAX_HANDLES];
  int tf32;
  int lt; /* products through cuBLASLt first (MLX_CUDA_LT=0 turns it off) */
} blas = {PTHREAD_ONCE_INIT, NULL, "", NULL, NULL, NULL, NULL, PTHREAD_MUTEX_INITIALIZER, {0}, {0}, 0, 1};

static void blas_load(void) {
  const char* names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
                         "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so"};
  for (int i = 0; i < 5 && !blas.lib; i++) blas.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!blas.lib) {
    const char* e = dlerror();
    snprintf(blas.why, sizeof blas.why, "cuBLAS could not be loaded (%s)", e ? e : "libcublas.so not found");
    return;
  }
  blas.create = (create_fn)dlsym(blas.lib, "cublasCreate_v2");
  blas.setstream = (setstream_fn)dlsym(blas.lib, "cublasSetStream_v2");
  blas.gemm = (gemm_fn)dlsym(blas.lib, "cublasGemmStridedBatchedEx");
  blas.setws = (setws_fn)dlsym(blas.lib, "cublasSetWorkspace_v2");
  if (!blas.create || !blas.setstream || !blas.gemm) {
    snprintf(blas.why, sizeof blas.why, "cuBLAS lacks cublasCreate_v2/cublasSetStream_v2/cublasGemmStridedBatchedEx");
    blas.gemm = NULL;
  }
  const char* t = getenv("MLX_CUDA_TF32");
  blas.tf32 = t && t[0] == '1';
  const char* l = getenv("MLX_CUDA_LT");
  blas.lt = !(l && l[0] == '0');
}

/* The product of mlx_cuda_gemm_, or with lt_only (cin / bias as
 * mlx_cuda_lt_gemm_'s) only through cuBLASLt: then *done says whether it
 * ran. Row-major C = A B is column-major C^T = B^T A^T: cuBLAS sees B's
 * row-major storage as B^T (n x k) and A's as A^T (k x m). */
static int gemm(mlx_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, void* c, int64_t ldc, int64_t stride_c,
                int64_t batch, double beta, const void* cin, int64_t ldcin, const void* bias, int* done, mlx_stream s,
                cudaStream_t st, const char* name) {
  cudaDataType ct;
  cublasComputeType_t comp;
  float f1[2] = {1.0f, 0.0f}, fb[2] = {(float)beta, 0.0f};
  double d1 = 1.0, db = beta;
  const void *alpha = f1, *bp = fb;
  switch (dt) {
    case MLX_FLOAT32: ct = CUDA_R_32F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT16: ct = CUDA_R_16F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_BFLOAT16: ct = CUDA_R_16BF; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT64: ct = CUDA_R_64F; comp = CUBLAS_COMPUTE_64F; alpha = &d1; bp = &db; break;
    case MLX_COMPLEX64: ct = CUDA_C_32F; comp = CUBLAS_COMPUTE_32F; break;
    default: return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(dt));
  }
  pthread_once(&blas.once, blas_load);
  if (!blas.gemm) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] on gpu: %s", name, blas.why);
  if (blas.tf32 && dt == MLX_FLOAT32) comp = CUBLAS_COMPUTE_32F_FAST_TF32;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldb > INT32_MAX || ldc > INT32_MAX ||
      batch > INT32_MAX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] sizes over 2^31 are not supported on gpu", name);
  if (s.index < 0 || s.index >= MAX_HANDLES)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] stream index %d out of range", name, s.index);
  pthread_mutex_lock(&blas.lock);
  cublasHandle_t h = blas.handle[s.index];
  cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
  if (!h) {
    bs = blas.create(&h);
    if (bs == CUBLAS_STATUS_SUCCESS) bs = blas.setstream(h, st);
    if (bs == CUBLAS_STATUS_SUCCESS && blas.setws) {
      if (cudaMalloc(&blas.ws[s.index], WORKSPACE) == cudaSuccess)
        bs = blas.setws(h, blas.ws[s.index], WORKSPACE);
      else
        cudaGetLastError(); /* cuBLAS then manages its own */
    }
    if (bs == CUBLAS_STATUS_SUCCESS) blas.handle[s.index] = h;
  }
  if (bs == CUBLAS_STATUS_SUCCESS && blas.lt) {
    int lr = mlx_cuda_lt_gemm_(dt, trans_a, trans_b, m, n, k, a, lda, stride_a, b, ldb, stride_b, c, ldc, stride_c,
                               batch, beta, cin, ldcin, bias, blas.tf32, s, st, blas.ws[s.index], WORKSPACE);
    if (lr) {
      pthread_mutex_unlock(&blas.lock);
      if (done) *done = lr > 0;
      return lr > 0 ? MLX_OK : mlx_last_error_code();
    }
  }
  if (done) {
    pthread_mutex_unlock(&blas.lock);
    *done = 0;
    return bs == CUBLAS_STATUS_SUCCESS ? MLX_OK : mlx_error_(MLX_ERROR_DEVICE, "[%s] cuBLAS error %d", name, (int)bs);
  }
  if (bs == CUBLAS_STATUS_SUCCESS)
    bs = blas.gemm(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n,
                   (int)m, (int)k, alpha, b, ct, (int)ldb, stride_b, a, ct, (int)lda, stride_a, bp, c, ct, (int)ldc,
                   stride_c, (int)batch, comp, CUBLAS_GEMM_DEFAULT);
  pthread_mutex_unlock(&blas.lock);
  if (bs != CUBLAS_STATUS_SUCCESS) return mlx_error_(MLX_ERROR_DEVICE, "[%s] cuBLAS error %d", name, (int)bs);
  return MLX_OK;
}

/* Declared in backend.h. */
int mlx_cuda_gemm_(mlx_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                   int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, void* c, int64_t ldc,
                   int64_t stride_c, int64_t batch, double beta, mlx_stream s, cudaStream_t st, const char* name) {
  return gemm(dt, trans_a, trans_b, m, n, k, a, lda, stride_a, b, ldb, stride_b, c, ldc, stride_c, batch, beta, NULL,
              0, NULL, NULL, s, st, name);
}

/* One operand's matrices: base pointer, batch stride (elements), the
 * cuBLAS op and leading dimension for the column-major view of the
 * row-major (r x c) matrices. */
typedef struct {
  const void* p;
  long long bstride;
  cublasOperation_t op;
  int ld;
  void* tmp;
} operand;

/* Operand x (shape (..., r, c) after 1-D promotion: vec says which side
 * was added) against the output's batch dims obatch[0..nb). */
static int prepare(operand* o, mlx_node_* x, int vec_row, int64_t r, int64_t c, const int64_t* obatch, int nb,
                   int64_t batch, mlx_dtype dt, mlx_stream s, cudaStream_t st) {
  const void* src;
  MLX_TRY(mlx_cuda_in_(x, s, &src));
  int xnd = x->ndim;
  int64_t rs, cs;
  int xb; /* batch dims of x */
  if (xnd == 1) {
    xb = 0;
    if (vec_row) { rs = c * x->strides[0]; cs = x->strides[0]; } /* (1, c) */
    else { rs = x->strides[0]; cs = 1; }                           /* (r, 1) */
  } else {
    xb = xnd - 2;
    rs = x->strides[xnd - 2];
    cs = x->strides[xnd - 1];
  }
  /* Batch strides aligned to the output's batch dims, then one stride
   * for all (or none). */
  int64_t bst[nb > 0 ? nb : 1];
  for (int d = 0; d < nb; d++) {
    int id = d - (nb - xb);
    bst[d] = id >= 0 && x->shape[id] != 1 ? x->strides[id] : 0;
  }
  int64_t one = 0;
  int ok = 1, seen = 0;
  int64_t expect = 0;
  for (int d = nb - 1; d >= 0; d--) {
    if (obatch[d] == 1) continue;
    if (!seen) {
      one = bst[d];
      expect = bst[d] * obatch[d];
      seen = 1;
    } else if (bst[d] == expect) {
      expect = bst[d] * obatch[d];
    } else {
      ok = 0;
    }
  }
  if (r == 1) rs = c > 0 ? c * (cs ? cs : 1) : 1;
  if (c == 1) cs = 1;
  o->tmp = NULL;
  if (ok && x->dtype == dt && cs == 1 && rs >= (c > 1 ? c : 1)) {
    o->op = CUBLAS_OP_N;
    o->ld = (int)rs;
  } else if (ok && x->dtype == dt && rs == 1 && cs >= (r > 1 ? r : 1)) {
    o->op = CUBLAS_OP_T;
    o->ld = (int)cs;
  } else {
    ok = 0;
  }
  if (ok && (rs > INT32_MAX || cs > INT32_MAX)) ok = 0;
  if (ok) {
    o->p = src;
    o->bstride = one;
    return MLX_OK;
  }
  /* A dense (batch, r, c) copy in dt. */
  int nd = nb + 2;
  int64_t sh[nd], str[nd];
  for (int d = 0; d < nb; d++) {
    sh[d] = obatch[d];
    str[d] = bst[d];
  }
  sh[nb] = r;
  sh[nb + 1] = c;
  str[nb] = rs;
  str[nb + 1] = cs;
  MLX_TRY(mlx_cuda_dense_copy_(&o->tmp, src, x->dtype, dt, sh, str, nd, "matmul", st));
  o->p = o->tmp;
  o->bstride = batch > 1 ? r * c : 0;
  o->op = CUBLAS_OP_N;
  o->ld = (int)(c > 1 ? c : 1);
  return MLX_OK;
}

/* (batch..., m, k) @ (k, n) with the left rows evenly spaced through
 * the batch is one (batch * m, k) @ (k, n) product: *m and *batch become
 * batch * m and 1 when so. */
static void fold_batch(const operand* oa, const operand* ob, int64_t* m, int64_t* batch) {
  if (*batch > 1 && ob->bstride == 0 && oa->op == CUBLAS_OP_N && oa->bstride == *m * (int64_t)oa->ld &&
      *batch * *m <= INT32_MAX) {
    *m *= *batch;
    *batch = 1;
  }
}

int mlx_cuda_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* b = ins[1];
  mlx_dtype dt = out->dtype;
  mlx_stream s = out->stream;
  if (dt != MLX_FLOAT32 && dt != MLX_FLOAT16 && dt != MLX_BFLOAT16 && dt != MLX_FLOAT64 && dt != MLX_COMPLEX64)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[matmul] not implemented on gpu for %s", mlx_dtype_name(dt));
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  int64_t m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
  int64_t k = a->shape[a->ndim - 1];
  int64_t n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
  int nb = out->ndim - (a->ndim > 1) - (b->ndim > 1);
  int64_t batch = 1;
  for (int d = 0; d < nb; d++) batch *= out->shape[d];
  void* dst;
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  if (k == 0) {
    return mlx_cuda_check_(cudaMemsetAsync(dst, 0, (size_t)out->size * mlx_dtype_size(dt), st), "cudaMemsetAsync");
  }
  if (batch > INT32_MAX) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[matmul] batch over 2^31 on gpu");
  operand oa, ob;
  MLX_TRY(prepare(&oa, a, 1, m, k, out->shape, nb, batch, dt, s, st));
  int rc = prepare(&ob, b, 0, k, n, out->shape, nb, batch, dt, s, st);
  if (rc) {
    if (oa.tmp) cudaFreeAsync(oa.tmp, st);
    return rc;
  }
  fold_batch(&oa, &ob, &m, &batch);
  rc = mlx_cuda_gemm_(dt, oa.op == CUBLAS_OP_T, ob.op == CUBLAS_OP_T, m, n, k, oa.p, oa.ld, oa.bstride, ob.p,
                      ob.ld, ob.bstride, dst, n, m * n, batch, 0.0, s, st, "matmul");
  if (oa.tmp) cudaFreeAsync(oa.tmp, st);
  if (ob.tmp) cudaFreeAsync(ob.tmp, st);
  return rc;
}


/* How c, broadcast to out ([..., rows, n] row-major), enters the product
 * of rows x n: 1 as a bias (n values, stride 1, the same on every row),
 * 2 as a matrix whose row r starts r * *ld items after row 0 (column
 * stride 1), 0 neither (then the add runs on its own). */
static int c_mode(const mlx_node_* c, const mlx_node_* out, int64_t rows, int64_t n, int64_t* ld) {
  int cd = c->ndim, od = out->ndim;
  if (cd > od) return 0;
  int64_t cl = cd ? c->shape[cd - 1] : 1;
  if (n > 1 && !(cl == n && c->strides[cd - 1] == 1)) return 0;
  if (rows == 1) {
    *ld = n;
    return 2;
  }
  int broadcast = 0, full = 0;
  int64_t expect = 0;
  for (int d = od - 2; d >= 0; d--) {
    if (out->shape[d] == 1) continue;
    int id = d - (od - cd);
    if (id < 0 || c->shape[id] == 1) {
      broadcast = 1;
      continue;
    }
    int64_t st = c->strides[id];
    if (!full) *ld = st;
    else if (st != expect) return 0;
    full = 1;
    expect = st * out->shape[d];
  }
  if (broadcast && full) return 0;
  if (broadcast) return 1;
  return *ld >= n ? 2 : 0;
}

/* act(c + a b) for a few rows in one kernel (cuda/gemv.cu): 1 when
 * run, 0 when the layouts do not suit it (a's rows and b's columns must
 * run along k with unit stride), or -1 with the error set. */
static int few_rows(mlx_node_* out, mlx_node_* a, mlx_node_* b, mlx_node_* c, int mode, int64_t ld, int act,
                    mlx_node_* pre, mlx_stream s, cudaStream_t st) {
  int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
  if (a->ndim != 2 || b->ndim != 2 || m > MLX_CU_GEMV_MAX_ROWS || a->dtype != MLX_FLOAT32 ||
      b->dtype != MLX_FLOAT32 || !(a->strides[1] == 1 || k == 1) || !(b->strides[0] == 1 || k == 1) ||
      n > INT32_MAX)
    return 0;
  const void *ap, *bp, *cp;
  void *dst, *pre_dst = NULL;
  if (mlx_cuda_in_(a, s, &ap) || mlx_cuda_in_(b, s, &bp) || mlx_cuda_in_(c, s, &cp) || mlx_cuda_out_(out, s, &dst))
    return -1;
  if (pre && mlx_cuda_out_(pre, s, &pre_dst)) return -1;
  int rc = mlx_cu_gemv_launch_((float*)dst, (const float*)ap, a->strides[0], (const float*)bp, b->strides[1],
                               (const float*)cp, mode == 2 ? ld : 0, (int)m, (int)n, k, act, pre_dst, st);
  if (rc < 0) {
    mlx_error_(MLX_ERROR_UNSUPPORTED, "[addmm] no gpu kernel for %lld rows", (long long)m);
    return -1;
  }
  if (rc) {
    mlx_cuda_check_((cudaError_t)rc, "addmm");
    return -1;
  }
  return 1;
}

int mlx_cuda_addmm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_cuda_addmm_params_* fp = (mlx_cuda_addmm_params_*)params;
  int* done = &fp->done;
  *done = 0;
  mlx_node_* out = outs[0];
  mlx_node_ *a = ins[0], *b = ins[1], *c = ins[2];
  mlx_dtype dt = out->dtype;
  mlx_stream s = out->stream;
  if (dt != MLX_FLOAT32 || c->dtype != MLX_FLOAT32 || a->ndim < 2 || b->ndim < 2 || out->size == 0) return MLX_OK;
  int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
  int nb = out->ndim - 2;
  int64_t batch = 1;
  for (int d = 0; d < nb; d++) batch *= out->shape[d];
  int64_t ld = 0;
  int mode = c_mode(c, out, batch * m, n, &ld);
  if (!mode || k == 0 || batch * m > INT32_MAX || ld > INT32_MAX) return MLX_OK;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  /* A few rows: one kernel spread over the columns (cuBLASLt's bias
   * epilogue takes no split over k, and an activation joins only here). */
  int r = nb == 0 && m <= MLX_CU_GEMV_MAX_ROWS ? few_rows(out, a, b, c, mode, ld, fp->act, fp->pre, s, st) : 0;
  if (r < 0) return mlx_last_error_code();
  if (r || fp->act) {
    *done = r;
    return MLX_OK;
  }
  operand oa = {0}, ob = {0};
  MLX_TRY(prepare(&oa, a, 1, m, k, out->shape, nb, batch, dt, s, st));
  int rc = prepare(&ob, b, 0, k, n, out->shape, nb, batch, dt, s, st);
  const void* cp = NULL;
  if (!rc) fold_batch(&oa, &ob, &m, &batch);
  if (!rc && batch == 1) rc = mlx_cuda_in_(c, s, &cp);
  /* cuBLASLt reads a bias vector 16-byte aligned */
  if (!rc && batch == 1 && !(mode == 1 && ((uintptr_t)cp % 16) != 0)) {
    void* dst;
    rc = mlx_cuda_out_(out, s, &dst);
    if (!rc)
      rc = gemm(dt, oa.op == CUBLAS_OP_T, ob.op == CUBLAS_OP_T, m, n, k, oa.p, oa.ld, oa.bstride, ob.p, ob.ld,
                ob.bstride, dst, n, m * n, 1, mode == 2 ? 1.0 : 0.0, mode == 2 ? cp : NULL, ld,
                mode == 1 ? cp : NULL, done, s, st, "addmm");
    if (!rc && !*done) {
      /* Without cuBLASLt: c copied into the output, then c + a @ b there. */
      mlx_cu_elem_ l;
      memset(&l, 0, sizeof l);
      l.n = m * n;
      l.ndim = 2;
      l.shape[0] = m;
      l.shape[1] = n;
      l.strides[0][0] = mode == 2 ? ld : 0;
      l.strides[0][1] = 1;
      l.strides[1][0] = n;
      l.strides[1][1] = 1;
      rc = mlx_cu_move_launch_(4, dst, cp, &l, st);
      rc = rc ? mlx_cuda_check_((cudaError_t)rc, "addmm") : MLX_OK;
      if (!rc)
        rc = mlx_cuda_gemm_(dt, oa.op == CUBLAS_OP_T, ob.op == CUBLAS_OP_T, m, n, k, oa.p, oa.ld, oa.bstride, ob.p,
                            ob.ld, ob.bstride, dst, n, m * n, 1, 1.0, s, st, "addmm");
      *done = 1;
    }
  }
  if (oa.tmp) cudaFreeAsync(oa.tmp, st);
  if (ob.tmp) cudaFreeAsync(ob.tmp, st);
  return rc;
}

/* The .gpu entry of gather_mm: out[t] = a[lhs[t]] @ b[rhs[t]] over the
 * batches of a and b (int64 indices, checked as the CPU checks them), one
 * product per t in the output's dtype. */
int mlx_cuda_gather_mm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_ *A = ins[0], *B = ins[1];
  int64_t T = ins[2]->size;
  int64_t m = A->shape[A->ndim - 2], k = A->shape[A->ndim - 1], n = B->shape[B->ndim - 1];
  int64_t na = 1, nb = 1;
  for (int i = 0; i < A->ndim - 2; i++) na *= A->shape[i];
  for (int i = 0; i < B->ndim - 2; i++) nb *= B->shape[i];
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_begin_(out, &st, &dst));
  int64_t* idx = mlx_cuda_host_indices_(ins + 2, 2, T, "gather_mm");
  if (!idx) return mlx_last_error_code();
  int rc = MLX_OK;
  for (int64_t t = 0; t < T && !rc; t++) {
    int lhs = idx[t] < 0 || idx[t] >= na;
    if (lhs || idx[T + t] < 0 || idx[T + t] >= nb)
      rc = mlx_error_(MLX_ERROR_INDEX, "[gather_mm] %s index %lld is out of range for a batch of %lld.",
                      lhs ? "lhs" : "rhs", (long long)(lhs ? idx[t] : idx[T + t]), (long long)(lhs ? na : nb));
  }
  mlx_dtype od = out->dtype;
  size_t esz = mlx_dtype_size(od);
  if (!rc && out->size && k == 0) {
    rc = mlx_cuda_check_(cudaMemsetAsync(dst, 0, esz * (size_t)out->size, st), "gather_mm");
  } else if (!rc && out->size) {
    const void *a, *b;
    void *atmp = NULL, *btmp = NULL;
    rc = mlx_cuda_dense_in_(&a, &atmp, A, od, out->stream, st, "gather_mm");
    if (!rc) rc = mlx_cuda_dense_in_(&b, &btmp, B, od, out->stream, st, "gather_mm");
    for (int64_t t = 0; t < T && !rc; t++)
      rc = mlx_cuda_gemm_(od, 0, 0, m, n, k, (const char*)a + (size_t)(idx[t] * m * k) * esz, k, 0,
                          (const char*)b + (size_t)(idx[T + t] * k * n) * esz, n, 0, (char*)dst + (size_t)(t * m * n) * esz,
                          n, 0, 1, 0.0, out->stream, st, "gather_mm");
    if (atmp) cudaFreeAsync(atmp, st);
    if (btmp) cudaFreeAsync(btmp, st);
  }
  free(idx);
  return rc;
}
