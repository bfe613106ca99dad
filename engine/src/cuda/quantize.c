/* CUDA kernel drivers of affine quantization (device code in
 * cuda/quantize.cu): quantize, dequantize, quantized_matmul and
 * gather_qmm, and the fp8 (e4m3) conversions to_fp8 and from_fp8. The
 * products dequantize the weight to a float32 panel on the device and
 * multiply with cuBLAS in float32, as cpu/quantize.c does with sgemm.
 * The fp modes (mxfp4, mxfp8, nvfp4) are not implemented on the GPU and
 * say so. */
#include <stdlib.h>

#include "../cpu/quantize.h"
#include "backend.h"
#include "launch.h"

static const char* const mode_names[] = {"affine", "mxfp4", "mxfp8", "nvfp4"};

static int affine_only(const mlx_quant_params_* p, const char* name) {
  if (p->mode == MLX_QMODE_AFFINE_) return MLX_OK;
  return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] mode '%s' is not implemented on gpu (affine is)", name,
                    mode_names[p->mode]);
}

/* The scales' dtype the kernels read: float16, bfloat16 and float32 as
 * they are; float64 scales are read as float32 copies (as the CPU's
 * float conversion). */
static mlx_dtype kernel_scale_dtype(mlx_dtype dt) {
  return dt == MLX_FLOAT16 || dt == MLX_BFLOAT16 ? dt : MLX_FLOAT32;
}

static int launch_status(int rc, const char* name, mlx_dtype dt) {
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu for %s", name, mlx_dtype_name(dt));
  return mlx_cuda_check_((cudaError_t)rc, name);
}

/* The .gpu entry of quantize: w (float32, float16, bfloat16) -> wq,
 * scales, biases. */
int mlx_cuda_quantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  MLX_TRY(affine_only(p, "quantize"));
  mlx_stream s = outs[0]->stream;
  cudaStream_t st;
  void* dst[3];
  for (int i = 0; i < 3; i++) MLX_TRY(mlx_cuda_begin_(outs[i], &st, &dst[i]));
  if (ins[0]->size == 0) return MLX_OK;
  const void* w;
  void* tmp;
  MLX_TRY(mlx_cuda_dense_in_(&w, &tmp, ins[0], MLX_FLOAT32, s, st, "quantize"));
  int64_t groups = ins[0]->size / p->group_size;
  int rc = mlx_cu_quantize_launch_(outs[1]->dtype, w, dst[0], dst[1], dst[2], groups, p->group_size, p->bits, st);
  if (tmp) cudaFreeAsync(tmp, st);
  return launch_status(rc, "quantize", outs[1]->dtype);
}

/* A packed operand on the device: dense words, and scales and biases
 * dense in kernel_scale_dtype (scratch copies in tmp, freed by
 * packed_free). */
typedef struct {
  const uint32_t* wq;
  const void *scales, *biases;
  mlx_dtype sdt;
  void* tmp[3];
} packed_dev;

static void packed_free(packed_dev* pd, cudaStream_t st) {
  for (int i = 0; i < 3; i++)
    if (pd->tmp[i]) cudaFreeAsync(pd->tmp[i], st);
}

static int packed_load(packed_dev* pd, mlx_node_* const* ins, mlx_stream s, cudaStream_t st, const char* name) {
  memset(pd, 0, sizeof *pd);
  pd->sdt = kernel_scale_dtype(ins[1]->dtype);
  const void* wq = NULL;
  int rc = mlx_cuda_dense_in_(&wq, &pd->tmp[0], ins[0], MLX_UINT32, s, st, name);
  if (!rc) rc = mlx_cuda_dense_in_(&pd->scales, &pd->tmp[1], ins[1], pd->sdt, s, st, name);
  if (!rc) rc = mlx_cuda_dense_in_(&pd->biases, &pd->tmp[2], ins[2], pd->sdt, s, st, name);
  pd->wq = wq;
  if (rc) packed_free(pd, st);
  return rc;
}

/* The .gpu entry of dequantize: wq, scales, biases -> w (out dtype). */
int mlx_cuda_dequantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  MLX_TRY(affine_only(p, "dequantize"));
  mlx_node_* out = outs[0];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_begin_(out, &st, &dst));
  if (out->size == 0) return MLX_OK;
  packed_dev pd;
  MLX_TRY(packed_load(&pd, ins, s, st, "dequantize"));
  int64_t cols = out->shape[out->ndim - 1];
  /* Upstream rounds through the scales' own dtype (float16, bfloat16). */
  int round_s = ins[1]->dtype == MLX_FLOAT16 || ins[1]->dtype == MLX_BFLOAT16;
  int rc = mlx_cu_dequantize_launch_(pd.sdt, out->dtype, dst, pd.wq, pd.scales, pd.biases, out->size, cols,
                                     p->group_size, p->bits, round_s, st);
  packed_free(&pd, st);
  return launch_status(rc, "dequantize", out->dtype);
}

/* The element offsets of output batch b's matrices in x and in the
 * dequantized weight. */
static void batch_offsets(int64_t b, const mlx_node_* out, const mlx_node_* xn, const mlx_node_* wn, int64_t M,
                          int64_t N, int64_t K, int64_t* xo, int64_t* wo) {
  int ond = out->ndim - 2;
  *xo = mlx_quant_batch_offset_(b, out->shape, ond, xn->shape, xn->ndim - 2, M * K);
  *wo = mlx_quant_batch_offset_(b, out->shape, ond, wn->shape, wn->ndim - 2, K * N);
}

/* out[b] = x[b] @ op(w[b]) for the nb output batches: one strided-batched
 * gemm when both operands' offsets step evenly (dense or broadcast
 * whole), else one gemm per batch. */
static int batched_products(float* of, const float* x, const float* wd, const mlx_node_* out, const mlx_node_* xn,
                            const mlx_node_* wn, int64_t M, int64_t N, int64_t K, int transpose, mlx_stream s,
                            cudaStream_t st) {
  int64_t nb = M * N != 0 ? out->size / (M * N) : 0;
  int64_t ldb = transpose ? K : N, xs = 0, ws = 0, xo, wo;
  if (nb > 1) batch_offsets(1, out, xn, wn, M, N, K, &xs, &ws);
  int even = 1;
  for (int64_t b = 2; b < nb && even; b++) {
    batch_offsets(b, out, xn, wn, M, N, K, &xo, &wo);
    even = xo == b * xs && wo == b * ws;
  }
  if (even)
    return mlx_cuda_gemm_(MLX_FLOAT32, 0, transpose, M, N, K, x, K, xs, wd, ldb, ws, of, N, M * N, nb, 0.0, s, st,
                          "quantized_matmul");
  int rc = MLX_OK;
  for (int64_t b = 0; b < nb && rc == MLX_OK; b++) {
    batch_offsets(b, out, xn, wn, M, N, K, &xo, &wo);
    rc = mlx_cuda_gemm_(MLX_FLOAT32, 0, transpose, M, N, K, x + xo, K, 0, wd + wo, ldb, 0, of + b * M * N, N, 0, 1, 0.0,
                        s, st, "quantized_matmul");
  }
  return rc;
}

/* The float32 operands of a quantized product: x dense, the weight
 * dequantized (every batch), and where the float32 result goes (out's
 * own buffer, or scratch that qmm_finish converts into out). */
typedef struct {
  const float* x;
  float *wd, *of;
  void *xtmp, *otmp;
  packed_dev pd;
} qmm_operands;

static int qmm_begin(qmm_operands* q, mlx_node_* const* ins, const mlx_node_* out, void* dst,
                     const mlx_quant_params_* p, mlx_stream s, cudaStream_t st, const char* name) {
  memset(q, 0, sizeof *q);
  const mlx_node_* wn = ins[1];
  MLX_TRY(packed_load(&q->pd, ins + 1, s, st, name));
  int64_t cols = wn->shape[wn->ndim - 1] * 32 / p->bits;
  int64_t welems = wn->size / wn->shape[wn->ndim - 1] * cols;
  int rc = mlx_cuda_check_(cudaMallocAsync((void**)&q->wd, sizeof(float) * (size_t)welems, st), "cudaMallocAsync");
  if (!rc)
    rc = launch_status(mlx_cu_dequantize_launch_(q->pd.sdt, MLX_FLOAT32, q->wd, q->pd.wq, q->pd.scales, q->pd.biases,
                                                 welems, cols, p->group_size, p->bits, 0, st),
                       name, ins[2]->dtype);
  const void* x = NULL;
  if (!rc) rc = mlx_cuda_dense_in_(&x, &q->xtmp, ins[0], MLX_FLOAT32, s, st, name);
  q->x = x;
  q->of = dst;
  if (!rc && out->dtype != MLX_FLOAT32) {
    rc = mlx_cuda_check_(cudaMallocAsync(&q->otmp, sizeof(float) * (size_t)out->size, st), "cudaMallocAsync");
    q->of = q->otmp;
  }
  return rc;
}

/* Converts the float32 result into out (when it went to scratch) unless
 * rc is an error, frees the scratch; returns rc or the conversion's. */
static int qmm_finish(qmm_operands* q, int rc, mlx_node_* out, void* dst, cudaStream_t st, const char* name) {
  if (!rc && q->otmp) {
    int64_t one = out->size, unit = 1;
    rc = mlx_cuda_copy_into_(dst, out->dtype, q->otmp, MLX_FLOAT32, &one, &unit, 1, name, st);
  }
  if (q->otmp) cudaFreeAsync(q->otmp, st);
  if (q->xtmp) cudaFreeAsync(q->xtmp, st);
  if (q->wd) cudaFreeAsync(q->wd, st);
  packed_free(&q->pd, st);
  return rc;
}

/* The .gpu entry of quantized_matmul: x, wq, scales, biases ->
 * x @ w (or w^T when transpose), batch dims broadcast. */
int mlx_cuda_quantized_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  MLX_TRY(affine_only(p, "quantized_matmul"));
  mlx_node_* out = outs[0];
  const mlx_node_* xn = ins[0];
  const mlx_node_* wn = ins[1];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_begin_(out, &st, &dst));
  if (out->size == 0) return MLX_OK;
  int64_t K = xn->shape[xn->ndim - 1], M = xn->shape[xn->ndim - 2], N = out->shape[out->ndim - 1];
  if (K == 0) return mlx_cuda_check_(cudaMemsetAsync(dst, 0, mlx_dtype_size(out->dtype) * (size_t)out->size, st),
                                     "quantized_matmul");
  qmm_operands q;
  int rc = qmm_begin(&q, ins, out, dst, p, s, st, "quantized_matmul");
  if (!rc) rc = batched_products(q.of, q.x, q.wd, out, xn, wn, M, N, K, p->transpose, s, st);
  return qmm_finish(&q, rc, out, dst, st, "quantized_matmul");
}

/* The .gpu entry of gather_qmm (affine): x, wq, scales, biases, lhs, rhs
 * -> out[t] = x[lhs[t]] @ w[rhs[t]] (transposed when asked), the weight
 * dequantized to a float32 panel and one cuBLAS product per t, as the
 * CPU's loop; indices checked as the CPU checks them. */
int mlx_cuda_gather_qmm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_quant_params_* p = params;
  MLX_TRY(affine_only(p, "gather_qmm"));
  mlx_node_* out = outs[0];
  const mlx_node_* xn = ins[0];
  const mlx_node_* wn = ins[1];
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_begin_(out, &st, &dst));
  int64_t K = xn->shape[xn->ndim - 1], M = xn->shape[xn->ndim - 2], N = out->shape[out->ndim - 1];
  int64_t xb = M * K != 0 ? xn->size / (M * K) : 0;
  int64_t rows = wn->shape[wn->ndim - 2], cols = wn->shape[wn->ndim - 1] * 32 / p->bits;
  int64_t wb = rows * cols != 0 ? wn->size / wn->shape[wn->ndim - 1] / rows : 0;
  int64_t T = ins[nin - 2]->size;
  int64_t* idx = mlx_cuda_host_indices_(ins + nin - 2, 2, T, "gather_qmm");
  if (!idx) return mlx_last_error_code();
  int rc = MLX_OK;
  for (int64_t t = 0; t < T && !rc; t++)
    if (idx[t] < 0 || idx[t] >= xb || idx[T + t] < 0 || idx[T + t] >= wb)
      rc = mlx_error_(MLX_ERROR_INDEX, "[gather_qmm] index out of range (lhs %lld of %lld, rhs %lld of %lld)",
                      (long long)idx[t], (long long)xb, (long long)idx[T + t], (long long)wb);
  if (rc || out->size == 0 || K == 0) {
    if (!rc && out->size)
      rc = mlx_cuda_check_(cudaMemsetAsync(dst, 0, mlx_dtype_size(out->dtype) * (size_t)out->size, st), "gather_qmm");
    free(idx);
    return rc;
  }
  qmm_operands q;
  rc = qmm_begin(&q, ins, out, dst, p, s, st, "gather_qmm");
  for (int64_t t = 0; t < T && !rc; t++)
    rc = mlx_cuda_gemm_(MLX_FLOAT32, 0, p->transpose, M, N, K, q.x + idx[t] * M * K, K, 0,
                        q.wd + idx[T + t] * rows * cols, p->transpose ? K : N, 0, q.of + t * M * N, N, 0, 1, 0.0, s,
                        st, "gather_qmm");
  free(idx);
  return qmm_finish(&q, rc, out, dst, st, "gather_qmm");
}

/* to_fp8 (floats -> e4m3 bytes) or from_fp8 (bytes -> the out dtype). */
static int fp8_convert(mlx_node_* out, const mlx_node_* in, int to, const char* name) {
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_begin_(out, &st, &dst));
  if (out->size == 0) return MLX_OK;
  const void* x;
  void* tmp;
  MLX_TRY(mlx_cuda_dense_in_(&x, &tmp, in, to ? MLX_FLOAT32 : MLX_UINT8, s, st, name));
  int rc = to ? mlx_cu_to_fp8_launch_(dst, x, out->size, st)
              : mlx_cu_from_fp8_launch_(out->dtype, dst, x, out->size, st);
  if (tmp) cudaFreeAsync(tmp, st);
  return launch_status(rc, name, to ? in->dtype : out->dtype);
}

/* The .gpu entries of to_fp8 and from_fp8. */
int mlx_cuda_to_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return fp8_convert(outs[0], ins[0], 1, "to_fp8");
}

int mlx_cuda_from_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  return fp8_convert(outs[0], ins[0], 0, "from_fp8");
}
