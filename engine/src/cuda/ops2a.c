/* CUDA phase 2a kernel drivers: reshape (a view when the layout allows,
 * else a device copy), full, eye/tri, arange/linspace (host-computed),
 * matmul through cuBLAS (dlopen'ed at first use), softmax and logsumexp.
 * The pure view primitives use their CPU kernels as .gpu entries (they
 * only write strides and an offset into the input's buffer, which keeps
 * its device copy). */
#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>

#include <cublas_api.h>

#include "../cpu/create.h"
#include "../cpu/reduce.h"
#include "../cpu/shape.h"
#include "backend.h"
#include "launch.h"

static int launched(int rc, const char* name, mlx_dtype dt) {
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(dt));
  return mlx_cuda_check_((cudaError_t)rc, name);
}

/* A copy layout reading nd dims (shape, element strides) in the given
 * order and writing them row-major: size-1 dims dropped, neighbours
 * merged. */
static int strided_layout(mlx_cu_elem_* l, const int64_t* shape, const int64_t* strides, int nd, int64_t n,
                          const char* name) {
  memset(l, 0, sizeof *l);
  l->n = n;
  int64_t sh[64], st[64];
  int m = 0;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (m > 0 && st[m - 1] == strides[d] * shape[d]) {
      sh[m - 1] *= shape[d];
      st[m - 1] = strides[d];
    } else {
      if (m == 64) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] too many dimensions for the gpu", name);
      sh[m] = shape[d];
      st[m++] = strides[d];
    }
  }
  if (m <= 1 && (m == 0 || st[0] == 1)) {
    l->flat = 1;
    l->fstride[0] = m == 0 ? 0 : 1;
    return MLX_OK;
  }
  if (m > MLX_CU_MAXDIM)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] more than %d dimensions after merging are not supported on gpu",
                      name, MLX_CU_MAXDIM);
  l->ndim = m;
  for (int d = 0; d < m; d++) {
    l->shape[d] = sh[d];
    l->strides[0][d] = st[d];
  }
  return MLX_OK;
}

int mlx_cuda_copy_into_(void* dst, mlx_dtype dt, const void* src, mlx_dtype sdt, const int64_t* shape,
                        const int64_t* strides, int nd, const char* name, cudaStream_t st) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (n == 0) return MLX_OK;
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, shape, strides, nd, n, name));
  return launched(mlx_cu_copy_launch_(sdt, dt, dst, src, &l, st), name, sdt);
}

int mlx_cuda_dense_copy_(void** tmp, const void* src, mlx_dtype sdt, mlx_dtype dt, const int64_t* shape,
                      const int64_t* strides, int nd, const char* name, cudaStream_t st) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  *tmp = NULL;
  MLX_TRY(mlx_cuda_check_(cudaMallocAsync(tmp, (size_t)(n > 0 ? n : 1) * mlx_dtype_size(dt), st), "cudaMallocAsync"));
  int rc = mlx_cuda_copy_into_(*tmp, dt, src, sdt, shape, strides, nd, name, st);
  if (rc) {
    cudaFreeAsync(*tmp, st);
    *tmp = NULL;
  }
  return rc;
}

/* ---- views ------------------------------------------------------------- */

int mlx_cuda_reshape_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  int64_t ostr[out->ndim > 0 ? out->ndim : 1];
  if (in->size == 0 || mlx_reshape_view_strides_(ostr, in, out->shape, out->ndim))
    return mlx_cpu_reshape_(outs, nout, ins, nin, params); /* a view: no data touched */
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, in->shape, in->strides, in->ndim, in->size, "reshape"));
  const void* src;
  void* dst;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  return launched(mlx_cu_copy_launch_(in->dtype, out->dtype, dst, src, &l, st), "reshape", in->dtype);
}

/* ---- creation ---------------------------------------------------------- */

static void scalar_bits(unsigned char bits[8], mlx_dtype dt, double v) {
  memset(bits, 0, 8);
  mlx_copy_cast_(bits, dt, &v, MLX_FLOAT64, NULL, NULL, 0);
}

int mlx_cuda_full_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_full_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  if (nin == 0) {
    void* dst;
    unsigned char v[8];
    scalar_bits(v, out->dtype, p->value);
    MLX_TRY(mlx_cuda_out_(out, s, &dst));
    return launched(mlx_cu_fill_launch_(dst, out->size, (int)mlx_dtype_size(out->dtype), v, st), "full", out->dtype);
  }
  /* The input broadcast to the output and cast: the copy kernel. */
  mlx_node_* in = ins[0];
  int nd = out->ndim;
  int64_t str[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) {
    int iv = i - (nd - in->ndim);
    str[i] = (iv < 0 || in->shape[iv] == 1) ? 0 : in->strides[iv];
  }
  mlx_cu_elem_ l;
  MLX_TRY(strided_layout(&l, out->shape, str, nd, out->size, "full"));
  const void* src;
  void* dst;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  return launched(mlx_cu_copy_launch_(in->dtype, out->dtype, dst, src, &l, st), "full", in->dtype);
}

static int band(mlx_node_** outs, const void* params, int tri) {
  const mlx_diag_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  unsigned char one[8];
  scalar_bits(one, out->dtype, 1.0);
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  return launched(mlx_cu_band_launch_(dst, out->shape[0], out->shape[1], p->k, tri,
                                      (int)mlx_dtype_size(out->dtype), one, st),
                  tri ? "tri" : "eye", out->dtype);
}

int mlx_cuda_eye_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return band(outs, params, 0);
}
int mlx_cuda_tri_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return band(outs, params, 1);
}

/* ---- softmax and logsumexp ----------------------------------------------- */

/* The input as rows x n (the reduced axes last, in order) in the output's
 * dtype: the input itself when it already is, else a scratch copy. */
static int rows_of(mlx_node_* in, const mlx_reduce_params_* p, mlx_dtype dt, mlx_stream s, cudaStream_t st,
                   const void** x, void** tmp, int64_t* rows, int64_t* n, const char* name) {
  int nd = in->ndim, k = 0;
  int64_t sh[nd > 0 ? nd : 1], str[nd > 0 ? nd : 1];
  *rows = 1;
  *n = 1;
  for (int d = 0; d < nd; d++)
    if (!p->axes[d]) {
      sh[k] = in->shape[d];
      str[k++] = in->strides[d];
      *rows *= in->shape[d];
    }
  int suffix = 1;
  for (int d = 0; d < nd; d++)
    if (p->axes[d]) {
      if (d != k) suffix = 0;
      sh[k] = in->shape[d];
      str[k++] = in->strides[d];
      *n *= in->shape[d];
    }
  const void* src;
  MLX_TRY(mlx_cuda_in_(in, s, &src));
  *tmp = NULL;
  if (suffix && in->dtype == dt && (in->flags & MLX_FLAG_ROW_CONTIG)) {
    *x = src;
    return MLX_OK;
  }
  MLX_TRY(mlx_cuda_dense_copy_(tmp, src, in->dtype, dt, sh, str, nd, name, st));
  *x = *tmp;
  return MLX_OK;
}

static int exp_reduce(mlx_node_** outs, mlx_node_** ins, const void* params, int lse) {
  const mlx_reduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  const char* name = lse ? "logsumexp" : "softmax";
  if (!lse) {
    /* softmax over other axes than the last alone would need a scatter
     * back: phase 2b. */
    for (int d = 0; d < in->ndim - 1; d++)
      if (p->axes[d]) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[softmax] only the last axis is implemented on gpu");
  }
  mlx_stream s = out->stream;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  if (out->dtype != MLX_FLOAT32 && out->dtype != MLX_FLOAT16 && out->dtype != MLX_BFLOAT16 &&
      out->dtype != MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(out->dtype));
  const void* x;
  void* tmp;
  int64_t rows, n;
  void* dst;
  if (in->size == 0) return mlx_cuda_out_(out, s, &dst);
  MLX_TRY(rows_of(in, p, out->dtype, s, st, &x, &tmp, &rows, &n, name));
  int rc = mlx_cuda_out_(out, s, &dst);
  if (!rc) rc = launched(mlx_cu_softmax_launch_(out->dtype, dst, x, rows, n, lse, st), name, out->dtype);
  if (tmp) cudaFreeAsync(tmp, st);
  return rc;
}

int mlx_cuda_softmax_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return exp_reduce(outs, ins, params, 0);
}
int mlx_cuda_logsumexp_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return exp_reduce(outs, ins, params, 1);
}

/* ---- matmul through cuBLAS ------------------------------------------------ */

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
static struct {
  pthread_once_t once;
  void* lib;
  char why[256];
  create_fn create;
  setstream_fn setstream;
  gemm_fn gemm;
  pthread_mutex_t lock;
  cublasHandle_t handle[64];
  int tf32;
} blas = {PTHREAD_ONCE_INIT, NULL, "", NULL, NULL, NULL, PTHREAD_MUTEX_INITIALIZER, {0}, 0};

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
  if (!blas.create || !blas.setstream || !blas.gemm) {
    snprintf(blas.why, sizeof blas.why, "cuBLAS lacks cublasCreate_v2/cublasSetStream_v2/cublasGemmStridedBatchedEx");
    blas.gemm = NULL;
  }
  const char* t = getenv("MLX_CUDA_TF32");
  blas.tf32 = t && t[0] == '1';
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

int mlx_cuda_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_node_* out = outs[0];
  mlx_node_* a = ins[0];
  mlx_node_* b = ins[1];
  mlx_dtype dt = out->dtype;
  mlx_stream s = out->stream;
  cudaDataType ct;
  cublasComputeType_t comp;
  float f1[2] = {1.0f, 0.0f}, f0[2] = {0.0f, 0.0f};
  double d1 = 1.0, d0 = 0.0;
  const void *alpha = f1, *beta = f0;
  switch (dt) {
    case MLX_FLOAT32: ct = CUDA_R_32F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT16: ct = CUDA_R_16F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_BFLOAT16: ct = CUDA_R_16BF; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT64: ct = CUDA_R_64F; comp = CUBLAS_COMPUTE_64F; alpha = &d1; beta = &d0; break;
    case MLX_COMPLEX64: ct = CUDA_C_32F; comp = CUBLAS_COMPUTE_32F; break;
    default: return mlx_error_(MLX_ERROR_UNSUPPORTED, "[matmul] not implemented on gpu for %s", mlx_dtype_name(dt));
  }
  pthread_once(&blas.once, blas_load);
  if (!blas.gemm) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[matmul] on gpu: %s", blas.why);
  if (blas.tf32 && dt == MLX_FLOAT32) comp = CUBLAS_COMPUTE_32F_FAST_TF32;
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
  /* Row-major C (m x n) = A B is column-major C^T = B^T A^T: cuBLAS sees
   * B's row-major storage as B^T (n x k) and A's as A^T (k x m). */
  int dev = s.device.index < 64 ? s.device.index : 0;
  pthread_mutex_lock(&blas.lock);
  cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
  if (!blas.handle[dev]) bs = blas.create(&blas.handle[dev]);
  if (bs == CUBLAS_STATUS_SUCCESS) bs = blas.setstream(blas.handle[dev], st);
  if (bs == CUBLAS_STATUS_SUCCESS)
    bs = blas.gemm(blas.handle[dev], ob.op, oa.op, (int)n, (int)m, (int)k, alpha, ob.p, ct, ob.ld, ob.bstride, oa.p,
                   ct, oa.ld, oa.bstride, beta, dst, ct, (int)n, (long long)(m * n), (int)batch, comp,
                   CUBLAS_GEMM_DEFAULT);
  pthread_mutex_unlock(&blas.lock);
  if (oa.tmp) cudaFreeAsync(oa.tmp, st);
  if (ob.tmp) cudaFreeAsync(ob.tmp, st);
  if (bs != CUBLAS_STATUS_SUCCESS) return mlx_error_(MLX_ERROR_DEVICE, "[matmul] cuBLAS error %d", (int)bs);
  return MLX_OK;
}
