/* Matrix products through cuBLASLt with cached plans (mlx_cuda_lt_gemm_,
 * called by cuda/matmul.c's mlx_cuda_gemm_ before its cuBLAS path).
 *
 * cublasGemmStridedBatchedEx chooses an algorithm at every call, tens of
 * microseconds of host time for the small products of a recurrent step
 * or a decoding layer. Here a product's shape, layouts, dtype and operand
 * alignment key a plan (the operation and layout descriptors and the
 * algorithm cuBLASLt's heuristic picked for the stream's workspace),
 * made once and reused: a later call costs one cublasLtMatmul.
 *
 * cuBLASLt is dlopen'ed at first use; where it is missing, or has no
 * algorithm for a product, the caller falls back to cuBLAS. Callers hold
 * matmul.c's cuBLAS lock, which also guards the plan table. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cublasLt.h>

#include "backend.h"

typedef cublasStatus_t (*lt_create_fn)(cublasLtHandle_t*);
typedef cublasStatus_t (*desc_create_fn)(cublasLtMatmulDesc_t*, cublasComputeType_t, cudaDataType_t);
typedef cublasStatus_t (*desc_destroy_fn)(cublasLtMatmulDesc_t);
typedef cublasStatus_t (*desc_set_fn)(cublasLtMatmulDesc_t, cublasLtMatmulDescAttributes_t, const void*, size_t);
typedef cublasStatus_t (*layout_create_fn)(cublasLtMatrixLayout_t*, cudaDataType, uint64_t, uint64_t, int64_t);
typedef cublasStatus_t (*layout_destroy_fn)(cublasLtMatrixLayout_t);
typedef cublasStatus_t (*layout_set_fn)(cublasLtMatrixLayout_t, cublasLtMatrixLayoutAttribute_t, const void*, size_t);
typedef cublasStatus_t (*pref_create_fn)(cublasLtMatmulPreference_t*);
typedef cublasStatus_t (*pref_destroy_fn)(cublasLtMatmulPreference_t);
typedef cublasStatus_t (*pref_set_fn)(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t, const void*,
                                      size_t);
typedef cublasStatus_t (*heuristic_fn)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
                                       cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                       cublasLtMatmulPreference_t, int, cublasLtMatmulHeuristicResult_t*, int*);
typedef cublasStatus_t (*matmul_fn)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*,
                                    cublasLtMatrixLayout_t, const void*, cublasLtMatrixLayout_t, const void*,
                                    const void*, cublasLtMatrixLayout_t, void*, cublasLtMatrixLayout_t,
                                    const cublasLtMatmulAlgo_t*, void*, size_t, cudaStream_t);

static struct {
  pthread_once_t once;
  void* lib;
  lt_create_fn create;
  desc_create_fn desc_create;
  desc_destroy_fn desc_destroy;
  desc_set_fn desc_set;
  layout_create_fn layout_create;
  layout_destroy_fn layout_destroy;
  layout_set_fn layout_set;
  pref_create_fn pref_create;
  pref_destroy_fn pref_destroy;
  pref_set_fn pref_set;
  heuristic_fn heuristic;
  matmul_fn matmul;
  cublasLtHandle_t handle[64]; /* per device */
} lt = {PTHREAD_ONCE_INIT};

static void lt_load(void) {
  const char* names[] = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so",
                         "/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so"};
  for (int i = 0; i < 5 && !lt.lib; i++) lt.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!lt.lib) return;
  lt.create = (lt_create_fn)dlsym(lt.lib, "cublasLtCreate");
  lt.desc_create = (desc_create_fn)dlsym(lt.lib, "cublasLtMatmulDescCreate");
  lt.desc_destroy = (desc_destroy_fn)dlsym(lt.lib, "cublasLtMatmulDescDestroy");
  lt.desc_set = (desc_set_fn)dlsym(lt.lib, "cublasLtMatmulDescSetAttribute");
  lt.layout_create = (layout_create_fn)dlsym(lt.lib, "cublasLtMatrixLayoutCreate");
  lt.layout_destroy = (layout_destroy_fn)dlsym(lt.lib, "cublasLtMatrixLayoutDestroy");
  lt.layout_set = (layout_set_fn)dlsym(lt.lib, "cublasLtMatrixLayoutSetAttribute");
  lt.pref_create = (pref_create_fn)dlsym(lt.lib, "cublasLtMatmulPreferenceCreate");
  lt.pref_destroy = (pref_destroy_fn)dlsym(lt.lib, "cublasLtMatmulPreferenceDestroy");
  lt.pref_set = (pref_set_fn)dlsym(lt.lib, "cublasLtMatmulPreferenceSetAttribute");
  lt.heuristic = (heuristic_fn)dlsym(lt.lib, "cublasLtMatmulAlgoGetHeuristic");
  lt.matmul = (matmul_fn)dlsym(lt.lib, "cublasLtMatmul");
  if (!lt.create || !lt.desc_create || !lt.desc_destroy || !lt.desc_set || !lt.layout_create || !lt.layout_destroy ||
      !lt.layout_set || !lt.pref_create || !lt.pref_destroy || !lt.pref_set || !lt.heuristic || !lt.matmul)
    lt.matmul = NULL;
}

/* What a plan is made for. */
typedef struct {
  int dev, dt, trans_a, trans_b, beta_nz, align, tf32, bias;
  int64_t m, n, k, lda, ldb, ldc, ldcin, sa, sb, sc, batch;
  size_t ws_bytes;
} plan_key;

typedef struct {
  plan_key key;
  int used, ok; /* ok 0: cuBLASLt has no algorithm, use cuBLAS */
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t la, lb, lc, lcin; /* lcin: the C input's, lc: D's */
  cublasLtMatmulAlgo_t algo;
  size_t algo_ws;
} plan;

#define PLANS 512
#define PROBES 8
static plan plans[PLANS];

static uint64_t key_hash(const plan_key* k) {
  const unsigned char* p = (const unsigned char*)k;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void plan_free(plan* p) {
  if (p->used && p->ok) {
    lt.desc_destroy(p->op);
    lt.layout_destroy(p->la);
    lt.layout_destroy(p->lb);
    lt.layout_destroy(p->lc);
    lt.layout_destroy(p->lcin);
  }
  memset(p, 0, sizeof *p);
}

/* The largest power of two (at most 256) dividing every address. */
static int alignment(const void* a, const void* b, const void* c, const void* d) {
  uintptr_t x = (uintptr_t)a | (uintptr_t)b | (uintptr_t)c | (uintptr_t)d | 256;
  return (int)(x & (~x + 1));
}

static int layout(cublasLtMatrixLayout_t* l, cudaDataType ct, int64_t rows, int64_t cols, int64_t ld,
                  int64_t batch, int64_t stride) {
  if (lt.layout_create(l, ct, (uint64_t)rows, (uint64_t)cols, ld) != CUBLAS_STATUS_SUCCESS) return 0;
  int32_t count = (int32_t)batch;
  if (batch > 1 && (lt.layout_set(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count) != CUBLAS_STATUS_SUCCESS ||
                    lt.layout_set(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride) !=
                        CUBLAS_STATUS_SUCCESS)) {
    lt.layout_destroy(*l);
    return 0;
  }
  return 1;
}

/* Makes p's descriptors and picks its algorithm; p->ok 0 when cuBLASLt
 * cannot run the product. Row-major C = A B is column-major C^T = B^T
 * A^T, so cuBLASLt's first operand is our B and its second our A. */
static void plan_make(plan* p, cublasLtHandle_t h, cudaDataType ct, cublasComputeType_t comp, cudaDataType scale) {
  const plan_key* k = &p->key;
  p->used = 1;
  p->ok = 0;
  cublasOperation_t opa = k->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, opb = k->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (lt.desc_create(&p->op, comp, scale) != CUBLAS_STATUS_SUCCESS) return;
  int ok = lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa) == CUBLAS_STATUS_SUCCESS &&
           lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb) == CUBLAS_STATUS_SUCCESS;
  if (ok && k->bias) {
    cublasLtEpilogue_t ep = CUBLASLT_EPILOGUE_BIAS;
    ok = lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep) == CUBLAS_STATUS_SUCCESS;
  }
  int have_a = 0, have_b = 0, have_c = 0, have_cin = 0;
  if (ok) ok = have_a = layout(&p->la, ct, k->trans_b ? k->k : k->n, k->trans_b ? k->n : k->k, k->ldb, k->batch, k->sb);
  if (ok) ok = have_b = layout(&p->lb, ct, k->trans_a ? k->m : k->k, k->trans_a ? k->k : k->m, k->lda, k->batch, k->sa);
  if (ok) ok = have_c = layout(&p->lc, ct, k->n, k->m, k->ldc, k->batch, k->sc);
  if (ok) ok = have_cin = layout(&p->lcin, ct, k->n, k->m, k->ldcin, k->batch, k->sc);
  cublasLtMatmulPreference_t pref = NULL;
  if (ok) ok = lt.pref_create(&pref) == CUBLAS_STATUS_SUCCESS;
  if (ok) {
    uint64_t ws = k->ws_bytes;
    uint32_t al = (uint32_t)k->align;
    ok = lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) == CUBLAS_STATUS_SUCCESS &&
         lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al, sizeof al) == CUBLAS_STATUS_SUCCESS &&
         lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al, sizeof al) == CUBLAS_STATUS_SUCCESS &&
         lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al, sizeof al) == CUBLAS_STATUS_SUCCESS &&
         lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al, sizeof al) == CUBLAS_STATUS_SUCCESS;
  }
  cublasLtMatmulHeuristicResult_t r;
  int found = 0;
  if (ok)
    ok = lt.heuristic(h, p->op, p->la, p->lb, p->lcin, p->lc, pref, 1, &r, &found) == CUBLAS_STATUS_SUCCESS &&
         found > 0 && r.state == CUBLAS_STATUS_SUCCESS;
  if (pref) lt.pref_destroy(pref);
  if (ok) {
    p->algo = r.algo;
    p->algo_ws = r.workspaceSize;
    p->ok = 1;
    return;
  }
  lt.desc_destroy(p->op);
  if (have_a) lt.layout_destroy(p->la);
  if (have_b) lt.layout_destroy(p->lb);
  if (have_c) lt.layout_destroy(p->lc);
  if (have_cin) lt.layout_destroy(p->lcin);
}

/* Declared in backend.h. */
int mlx_cuda_lt_gemm_(mlx_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const void* a,
                      int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, void* c,
                      int64_t ldc, int64_t stride_c, int64_t batch, double beta, const void* cin, int64_t ldcin,
                      const void* bias, int tf32, mlx_stream s, cudaStream_t st, void* ws, size_t ws_bytes) {
  pthread_once(&lt.once, lt_load);
  int dev = s.device.index;
  if (!lt.matmul || !ws || dev < 0 || dev >= 64) return 0;
  cudaDataType ct, scale;
  cublasComputeType_t comp;
  switch (dt) {
    case MLX_FLOAT32: ct = scale = CUDA_R_32F; comp = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT16: ct = CUDA_R_16F; scale = CUDA_R_32F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_BFLOAT16: ct = CUDA_R_16BF; scale = CUDA_R_32F; comp = CUBLAS_COMPUTE_32F; break;
    case MLX_FLOAT64: ct = scale = CUDA_R_64F; comp = CUBLAS_COMPUTE_64F; break;
    default: return 0;
  }
  if (!lt.handle[dev] && lt.create(&lt.handle[dev]) != CUBLAS_STATUS_SUCCESS) {
    lt.handle[dev] = NULL;
    return 0;
  }
  plan_key key;
  memset(&key, 0, sizeof key);
  key.dev = dev;
  key.dt = (int)dt;
  key.trans_a = trans_a;
  key.trans_b = trans_b;
  key.beta_nz = beta != 0.0;
  if (!cin) {
    cin = c;
    ldcin = ldc;
  }
  key.align = alignment(a, b, c, cin);
  key.bias = bias != NULL;
  key.ldcin = ldcin;
  key.tf32 = tf32;
  key.m = m;
  key.n = n;
  key.k = k;
  key.lda = lda;
  key.ldb = ldb;
  key.ldc = ldc;
  key.sa = batch > 1 ? stride_a : 0;
  key.sb = batch > 1 ? stride_b : 0;
  key.sc = batch > 1 ? stride_c : 0;
  key.batch = batch;
  key.ws_bytes = ws_bytes;
  uint64_t h = key_hash(&key);
  plan* p = NULL;
  for (int i = 0; i < PROBES && !p; i++) {
    plan* q = &plans[(h + (uint64_t)i) % PLANS];
    if (q->used && memcmp(&q->key, &key, sizeof key) == 0) p = q;
  }
  if (!p) {
    p = &plans[h % PLANS];
    for (int i = 0; i < PROBES; i++) {
      plan* q = &plans[(h + (uint64_t)i) % PLANS];
      if (!q->used) {
        p = q;
        break;
      }
    }
    plan_free(p);
    p->key = key;
    plan_make(p, lt.handle[dev], ct, comp, scale);
  }
  if (!p->ok) return 0;
  if (bias && lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias) != CUBLAS_STATUS_SUCCESS)
    return 0;
  float f1 = 1.0f, fb = (float)beta;
  double d1 = 1.0, db = beta;
  const void* alpha = dt == MLX_FLOAT64 ? (const void*)&d1 : (const void*)&f1;
  const void* bp = dt == MLX_FLOAT64 ? (const void*)&db : (const void*)&fb;
  cublasStatus_t bs = lt.matmul(lt.handle[dev], p->op, alpha, b, p->la, a, p->lb, bp, cin, p->lcin, c, p->lc, &p->algo,
                                ws, p->algo_ws, st);
  if (bs != CUBLAS_STATUS_SUCCESS) {
    mlx_error_(MLX_ERROR_DEVICE, "[matmul] cuBLASLt error %d", (int)bs);
    return -1;
  }
  return 1;
}
