/* Quantization ops: argument checks with upstream MLX's messages, result
 * shapes and dtypes, and the transform rules of quantized_matmul. */
#include "mlx/quantize.h"

#include <stdio.h>

#include "../cpu/quantize.h"
#include "../cpu/shape.h"
#include "mlx/indexing.h"
#include "shape.h"

static int qmm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int qmm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
static int qmm_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s);
static int to_fp8_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s);
static int from_fp8_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s);

/* Packing is not differentiable (upstream gives zeros). */
static int quantize_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s);
static int dequantize_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s);
static int dequantize_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s);
static int dequantize_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s);

static const mlx_prim_ prim_quantize = {.name = "quantize",
                                        .cpu = mlx_cpu_quantize_,
                                        .gpu = MLX_GPU_KERNEL_(mlx_cuda_quantize_),
                                        .vjp = mlx_vjp_zero_,
                                        .jvp = mlx_jvp_zero_,
                                        .vmap = quantize_vmap};
MLX_REGISTER_PRIM(prim_quantize);
static const mlx_prim_ prim_dequantize = {.name = "dequantize",
                                          .cpu = mlx_cpu_dequantize_,
                                          .gpu = MLX_GPU_KERNEL_(mlx_cuda_dequantize_),
                                          .vjp = dequantize_vjp,
                                          .jvp = dequantize_jvp,
                                          .vmap = dequantize_vmap};
MLX_REGISTER_PRIM(prim_dequantize);
static const mlx_prim_ prim_quantized_matmul = {
    .name = "quantized_matmul",
    .cpu = mlx_cpu_quantized_matmul_,
    .gpu = MLX_GPU_KERNEL_(mlx_cuda_quantized_matmul_),
    .vjp = qmm_vjp, .jvp = qmm_jvp, .vmap = qmm_vmap};
MLX_REGISTER_PRIM(prim_quantized_matmul);
static int gather_qmm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s);
static int gather_qmm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s);
/* Differentiable in x (as upstream); no vmap rule (upstream: NYI). */
static const mlx_prim_ prim_gather_qmm = {
    .name = "gather_qmm",
    .cpu = mlx_cpu_gather_qmm_,
    .gpu = MLX_GPU_KERNEL_(mlx_cuda_gather_qmm_),
    .vjp = gather_qmm_vjp, .jvp = gather_qmm_jvp};
MLX_REGISTER_PRIM(prim_gather_qmm);
static const mlx_prim_ prim_to_fp8 = {
    .name = "to_fp8",
    .cpu = mlx_cpu_to_fp8_,
    .gpu = MLX_GPU_KERNEL_(mlx_cuda_to_fp8_),
    .vjp = mlx_vjp_zero_, .jvp = mlx_jvp_zero_, .vmap = to_fp8_vmap};
MLX_REGISTER_PRIM(prim_to_fp8);
/* fp8 bytes are not differentiable inputs (upstream has no rule). */
static const mlx_prim_ prim_from_fp8 = {
    .name = "from_fp8",
    .cpu = mlx_cpu_from_fp8_,
    .gpu = MLX_GPU_KERNEL_(mlx_cuda_from_fp8_),
    .vjp = mlx_vjp_zero_, .jvp = mlx_jvp_zero_, .vmap = from_fp8_vmap};
MLX_REGISTER_PRIM(prim_from_fp8);

static const char* const mode_names[] = {"affine", "mxfp4", "mxfp8", "nvfp4"};

/* Mode, group size and bits with defaults filled and checked. */
static int parse_params(mlx_quant_params_* p, const char* mode, int group_size, int bits, const char* op) {
  memset(p, 0, sizeof *p);
  if (!mode) mode = "affine";
  p->mode = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(mode, mode_names[i]) == 0) p->mode = i;
  if (p->mode < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Invalid quantization mode '%s'.", op, mode);
  static const int default_gs[] = {64, 32, 32, 16}, default_bits[] = {4, 4, 8, 4};
  p->group_size = group_size > 0 ? group_size : default_gs[p->mode];
  p->bits = bits > 0 ? bits : default_bits[p->mode];
  if (p->mode == MLX_QMODE_AFFINE_) {
    if (p->group_size != 32 && p->group_size != 64 && p->group_size != 128)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[%s] The requested group size %d is not supported. The supported group sizes are 32, 64, "
                        "and 128.",
                        op, p->group_size);
    if (p->bits < 1 || p->bits > 8 || p->bits == 7)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[%s] The requested number of bits %d is not supported. The supported bits are 1, 2, 3, 4, "
                        "5, 6 and 8.",
                        op, p->bits);
  } else {
    if (p->group_size != default_gs[p->mode])
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] %s quantization requires group size %d but got %d.", op, mode,
                        default_gs[p->mode], p->group_size);
    if (p->bits != default_bits[p->mode])
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] %s quantization requires bits to be %d but got %d.", op, mode,
                        default_bits[p->mode], p->bits);
  }
  return MLX_OK;
}

static int is_float(mlx_dtype t) {
  return t == MLX_FLOAT32 || t == MLX_FLOAT16 || t == MLX_BFLOAT16 || t == MLX_FLOAT64;
}

static const char* shape_str(char* buf, const mlx_node_* n) {
  return mlx_shape_str_(buf, 64, n->shape, n->ndim);
}

int mlx_quantize(mlx_array* res, int* nres, const mlx_array w, int group_size, int bits, const char* mode,
                 const mlx_stream s) {
  MLX_TRY(mlx_check_array_(w, "quantize"));
  mlx_quant_params_ p;
  MLX_TRY(parse_params(&p, mode, group_size, bits, "quantize"));
  mlx_node_* in = MLX_NODE(w);
  if (!is_float(in->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[quantize] Only real floating types can be quantized but w has type %s.",
                      mlx_dtype_name(in->dtype));
  if (in->dtype == MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_DTYPE, "[quantize] Only float32, float16 and bfloat16 can be quantized (got float64).");
  if (in->ndim < 2)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[quantize] The matrix to be quantized must have at least 2 dimension but it has only %d.",
                      in->ndim);
  if (in->shape[in->ndim - 1] % p.group_size != 0) {
    char buf[64];
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[quantize] The last dimension of the matrix needs to be divisible by the quantization group "
                      "size %d. However the provided  matrix has shape %s",
                      p.group_size, shape_str(buf, in));
  }
  int nd = in->ndim;
  int64_t wq_shape[nd], s_shape[nd];
  memcpy(wq_shape, in->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(s_shape, in->shape, sizeof(int64_t) * (size_t)nd);
  wq_shape[nd - 1] = in->shape[nd - 1] * p.bits / 32;
  s_shape[nd - 1] = in->shape[nd - 1] / p.group_size;
  int n = p.mode == MLX_QMODE_AFFINE_ ? 3 : 2;
  mlx_dtype sd = p.mode == MLX_QMODE_AFFINE_ ? in->dtype : MLX_UINT8;
  mlx_dtype dtypes[3] = {MLX_UINT32, sd, sd};
  const int64_t* shapes[3] = {wq_shape, s_shape, s_shape};
  int ndims[3] = {nd, nd, nd};
  MLX_TRY(mlx_op_record_(res, n, &prim_quantize, &p, sizeof p, &in, 1, dtypes, shapes, ndims, s));
  *nres = n;
  return MLX_OK;
}

/* Checks a packed operand against its scales (and biases): uint32 words,
 * >= 2 dims, scales with the same batch and rows and cols/group_size
 * groups, biases exactly for affine. */
static int check_packed(const mlx_array w, const mlx_array scales, const mlx_array biases,
                        const mlx_quant_params_* p, const char* op) {
  MLX_TRY(mlx_check_array_(w, op));
  MLX_TRY(mlx_check_array_(scales, op));
  const mlx_node_* wn = MLX_NODE(w);
  const mlx_node_* sn = MLX_NODE(scales);
  int has_biases = biases.ctx != NULL;
  if (p->mode == MLX_QMODE_AFFINE_ && !has_biases)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Biases must be provided for affine quantization.", op);
  if (p->mode != MLX_QMODE_AFFINE_ && has_biases)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Biases must be null for quantization mode '%s'.", op,
                      mode_names[p->mode]);
  if (wn->dtype != MLX_UINT32)
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] The weight matrix should be uint32 but received %s", op,
                      mlx_dtype_name(wn->dtype));
  if (p->mode != MLX_QMODE_AFFINE_ && sn->dtype != MLX_UINT8)
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Scale type must be uint8 but received type %s.", op,
                      mlx_dtype_name(sn->dtype));
  if (p->mode == MLX_QMODE_AFFINE_ && !is_float(sn->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Scales must be floating point but received %s.", op,
                      mlx_dtype_name(sn->dtype));
  char b1[64], b2[64];
  if (wn->ndim < 2 || sn->ndim != wn->ndim)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] Weight and scales should have the same batch shape. Received weight with shape %s, "
                      "scales with %s.",
                      op, shape_str(b1, wn), shape_str(b2, sn));
  int nd = wn->ndim;
  int fits = 1;
  for (int i = 0; i < nd - 1; i++) fits &= wn->shape[i] == sn->shape[i];
  fits &= wn->shape[nd - 1] * 32 == sn->shape[nd - 1] * (int64_t)p->group_size * p->bits;
  if (!fits)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] The shapes of the weight and scales are incompatible based on bits and group_size. "
                      "w.shape() == %s and scales.shape() == %s with group_size=%d and bits=%d",
                      op, shape_str(b1, wn), shape_str(b2, sn), p->group_size, p->bits);
  if (has_biases) {
    MLX_TRY(mlx_check_array_(biases, op));
    const mlx_node_* bn = MLX_NODE(biases);
    int same = bn->ndim == sn->ndim;
    for (int i = 0; same && i < nd; i++) same = bn->shape[i] == sn->shape[i];
    if (!same)
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] Shape of scales and biases does not match the matrix", op);
  }
  return MLX_OK;
}

int mlx_dequantize(mlx_array* res, const mlx_array w, const mlx_array scales, const mlx_array biases, int group_size,
                   int bits, const char* mode, int has_dtype, mlx_dtype dtype, const mlx_stream s) {
  mlx_quant_params_ p;
  MLX_TRY(parse_params(&p, mode, group_size, bits, "dequantize"));
  MLX_TRY(mlx_check_array_(w, "dequantize"));
  if (MLX_NODE(w)->dtype != MLX_UINT32)
    return mlx_error_(MLX_ERROR_DTYPE, "[dequantize] The matrix should be given as a uint32");
  MLX_TRY(check_packed(w, scales, biases, &p, "dequantize"));
  mlx_node_* wn = MLX_NODE(w);
  mlx_dtype out = has_dtype ? dtype : (p.mode == MLX_QMODE_AFFINE_ ? MLX_NODE(scales)->dtype : MLX_BFLOAT16);
  if (!is_float(out))
    return mlx_error_(MLX_ERROR_DTYPE, "[dequantize] Only real floating types are supported but dtype == %s.",
                      mlx_dtype_name(out));
  int nd = wn->ndim;
  int64_t shape[nd];
  memcpy(shape, wn->shape, sizeof(int64_t) * (size_t)nd);
  shape[nd - 1] = wn->shape[nd - 1] * 32 / p.bits;
  mlx_node_* ins[3] = {wn, MLX_NODE(scales), biases.ctx ? MLX_NODE(biases) : NULL};
  p.out_dtype = (int32_t)out;
  return mlx_op1_(res, &prim_dequantize, &p, sizeof p, ins, biases.ctx ? 3 : 2, out, shape, nd, s);
}

/* The product's result dtype: affine promotes x with the scales (integers
 * become float32); fp modes keep a float x. */
static mlx_dtype product_dtype(mlx_dtype x, mlx_dtype scales, const mlx_quant_params_* p) {
  mlx_dtype t = p->mode == MLX_QMODE_AFFINE_ ? mlx_dtype_promote(x, scales) : x;
  return is_float(t) ? t : MLX_FLOAT32;
}

/* K and N of the product with a packed operand w. */
static void product_dims(int64_t* K, int64_t* N, const mlx_node_* wn, const mlx_quant_params_* p) {
  int64_t rows = wn->shape[wn->ndim - 2], cols = wn->shape[wn->ndim - 1] * 32 / p->bits;
  *K = p->transpose ? cols : rows;
  *N = p->transpose ? rows : cols;
}

static int record_qmm(mlx_array* res, const mlx_array x2, const mlx_array w, const mlx_array scales,
                      const mlx_array biases, const mlx_quant_params_* p, mlx_stream s) {
  mlx_node_* xn = MLX_NODE(x2);
  mlx_node_* wn = MLX_NODE(w);
  int64_t K, N;
  product_dims(&K, &N, wn, p);
  if (xn->shape[xn->ndim - 1] != K) {
    char b1[64];
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[quantized_matmul] Last dimension of first input with shape (..., %lld) does not match the "
                      "expanded quantized matrix (%lld, %lld) computed from shape %s with group_size=%d, bits=%d "
                      "and transpose=%s",
                      (long long)xn->shape[xn->ndim - 1], (long long)K, (long long)N, shape_str(b1, wn),
                      p->group_size, p->bits, p->transpose ? "true" : "false");
  }
  int xb = xn->ndim - 2, wb = wn->ndim - 2;
  int nb = xb > wb ? xb : wb;
  int64_t shape[nb + 2];
  int ob = 0;
  MLX_TRY(mlx_broadcast_shape_(shape, &ob, xn->shape, xb, wn->shape, wb, "broadcast_shapes"));
  shape[nb] = xn->shape[xn->ndim - 2];
  shape[nb + 1] = N;
  mlx_node_* ins[4] = {xn, wn, MLX_NODE(scales), biases.ctx ? MLX_NODE(biases) : NULL};
  return mlx_op1_(res, &prim_quantized_matmul, p, sizeof *p, ins, biases.ctx ? 4 : 3,
                  product_dtype(xn->dtype, MLX_NODE(scales)->dtype, p), shape, nb + 2, s);
}

int mlx_quantized_matmul(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales,
                         const mlx_array biases, int transpose, int group_size, int bits, const char* mode,
                         const mlx_stream s) {
  mlx_quant_params_ p;
  MLX_TRY(parse_params(&p, mode, group_size, bits, "quantized_matmul"));
  p.transpose = transpose != 0;
  MLX_TRY(mlx_check_array_(x, "quantized_matmul"));
  MLX_TRY(check_packed(w, scales, biases, &p, "quantized_matmul"));
  mlx_node_* xn = MLX_NODE(x);
  if (xn->ndim == 0) return mlx_error_(MLX_ERROR_SHAPE, "[quantized_matmul] x must have at least one dimension");
  if (xn->ndim > 1) return record_qmm(res, x, w, scales, biases, &p, s);
  /* A vector multiplies as one row and comes back as a vector. */
  int64_t row[2] = {1, xn->shape[0]};
  mlx_array x2 = mlx_array_new(), out = mlx_array_new();
  int rc = mlx_reshape(&x2, x, row, 2, s);
  if (rc == MLX_OK) rc = record_qmm(&out, x2, w, scales, biases, &p, s);
  if (rc == MLX_OK) {
    const mlx_node_* on = MLX_NODE(out);
    rc = mlx_reshape(res, out, on->shape + on->ndim - 1, 1, s);
  }
  mlx_array_free(x2);
  mlx_array_free(out);
  return rc;
}

/* ---- quantized_matmul rules -------------------------------------------- */

/* x's tangent goes through the same product; scales' and biases'
 * (affine) through the dequantized weight they make: x @ (ds q + db). */
static int qmm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_quant_params_* p = params;
  mlx_array none = {NULL};
  mlx_array ds = none, db = none, acc = mlx_array_new(), zeros_s = mlx_array_new(), zeros_b = mlx_array_new();
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    if (argnums[k] == 0) {
      rc = record_qmm(&acc, tangents[k], inputs[1], inputs[2], nin > 3 ? inputs[3] : none, p, s);
    } else if (argnums[k] == 1 || p->mode != MLX_QMODE_AFFINE_) {
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[quantized_matmul] no derivative with respect to the quantized weights");
    } else if (argnums[k] == 2) {
      ds = tangents[k];
    } else {
      db = tangents[k];
    }
  }
  if (rc == MLX_OK && (ds.ctx || db.ctx)) {
    const mlx_node_* sn = MLX_NODE(inputs[2]);
    mlx_array dw = mlx_array_new(), part = mlx_array_new(), sum = mlx_array_new(), wt = mlx_array_new();
    if (!ds.ctx) rc = mlx_zeros(&zeros_s, sn->shape, sn->ndim, sn->dtype, s);
    if (rc == MLX_OK && !db.ctx) rc = mlx_zeros(&zeros_b, sn->shape, sn->ndim, sn->dtype, s);
    if (rc == MLX_OK)
      rc = mlx_dequantize(&dw, inputs[1], ds.ctx ? ds : zeros_s, db.ctx ? db : zeros_b, p->group_size, p->bits,
                          mode_names[p->mode], 1, MLX_FLOAT32, s);
    if (rc == MLX_OK && p->transpose) rc = mlx_swapaxes(&wt, dw, -1, -2, s);
    if (rc == MLX_OK) rc = mlx_matmul(&part, inputs[0], p->transpose ? wt : dw, s);
    if (rc == MLX_OK && acc.ctx) rc = mlx_add(&sum, acc, part, s);
    if (rc == MLX_OK) {
      mlx_array_free(acc);
      acc = sum.ctx ? sum : part;
      if (sum.ctx) mlx_array_free(part);
      else mlx_array_free(sum);
      sum = mlx_array_new();
      part = mlx_array_new();
    }
    mlx_array_free(dw);
    mlx_array_free(part);
    mlx_array_free(sum);
    mlx_array_free(wt);
  }
  if (rc == MLX_OK) rc = mlx_astype(&out_tans[0], acc, MLX_NODE(outputs[0])->dtype, s);
  mlx_array_free(acc);
  mlx_array_free(zeros_s);
  mlx_array_free(zeros_b);
  return rc;
}

/* The cotangent of the dequantized weight, dW (rows x cols of the packed
 * operand, summed over broadcast batch dims to w's batch shape). */
static int weight_cotangent(mlx_array* dw, const mlx_array* inputs, const mlx_array cot, const mlx_quant_params_* p,
                            mlx_stream s) {
  const mlx_node_* wn = MLX_NODE(inputs[1]);
  const mlx_node_* on = MLX_NODE(cot);
  mlx_array xt = mlx_array_new(), ct = mlx_array_new(), full = mlx_array_new(), xf = mlx_array_new();
  int rc = mlx_astype(&xf, inputs[0], MLX_FLOAT32, s);
  /* transpose: dW[n,k] = sum_m cot[m,n] x[m,k] = cot^T x; else x^T cot. */
  if (rc == MLX_OK) rc = mlx_swapaxes(p->transpose ? &ct : &xt, p->transpose ? cot : xf, -1, -2, s);
  if (rc == MLX_OK) rc = p->transpose ? mlx_matmul(&full, ct, xf, s) : mlx_matmul(&full, xt, cot, s);
  if (rc == MLX_OK) {
    int64_t shape[wn->ndim];
    memcpy(shape, wn->shape, sizeof(int64_t) * (size_t)wn->ndim);
    shape[wn->ndim - 1] = wn->shape[wn->ndim - 1] * 32 / p->bits;
    (void)on;
    rc = mlx_sum_to_shape_(dw, full, shape, wn->ndim, s);
  }
  mlx_array_free(xt);
  mlx_array_free(ct);
  mlx_array_free(full);
  mlx_array_free(xf);
  return rc;
}

/* Sums v (rows x cols) over each quantization group: rows x groups. */
static int group_sums(mlx_array* res, const mlx_array v, const mlx_node_* scales, int group_size, mlx_stream s) {
  int nd = scales->ndim;
  int64_t shape[nd + 1];
  memcpy(shape, scales->shape, sizeof(int64_t) * (size_t)nd);
  shape[nd] = group_size;
  mlx_array r = mlx_array_new();
  int last = -1;
  int rc = mlx_reshape(&r, v, shape, nd + 1, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(res, r, &last, 1, 0, s);
  mlx_array_free(r);
  return rc;
}

/* x: the product with the other orientation. scales and biases (affine):
 * dW times the integer codes, and dW, summed per group. The packed
 * weights themselves have no gradient. */
static int qmm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_quant_params_* p = params;
  mlx_array none = {NULL};
  mlx_array biases = nin > 3 ? inputs[3] : none;
  mlx_array dw = mlx_array_new();
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    int a = argnums[k];
    if (a == 0) {
      mlx_quant_params_ q = *p;
      q.transpose = !p->transpose;
      mlx_array g = mlx_array_new(), gx = mlx_array_new();
      const mlx_node_* xn = MLX_NODE(inputs[0]);
      rc = record_qmm(&g, cots[0], inputs[1], inputs[2], biases, &q, s);
      if (rc == MLX_OK) rc = mlx_sum_to_shape_(&gx, g, xn->shape, xn->ndim, s);
      if (rc == MLX_OK) rc = mlx_astype(&in_cots[k], gx, xn->dtype, s);
      mlx_array_free(g);
      mlx_array_free(gx);
    } else if (a == 1) {
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[quantized_matmul] no gradient with respect to the quantized weights");
    } else {
      if (p->mode != MLX_QMODE_AFFINE_) {
        rc = mlx_error_(MLX_ERROR_ARGUMENT, "[quantized_matmul] no gradient with respect to fp scales");
        break;
      }
      if (!dw.ctx) rc = weight_cotangent(&dw, inputs, cots[0], p, s);
      const mlx_node_* sn = MLX_NODE(inputs[2]);
      mlx_array codes = mlx_array_new(), ones = mlx_array_new(), zeros = mlx_array_new(), prod = mlx_array_new(),
                sum = mlx_array_new();
      if (rc == MLX_OK && a == 2) {
        rc = mlx_ones(&ones, sn->shape, sn->ndim, MLX_FLOAT32, s);
        if (rc == MLX_OK) rc = mlx_zeros(&zeros, sn->shape, sn->ndim, MLX_FLOAT32, s);
        if (rc == MLX_OK)
          rc = mlx_dequantize(&codes, inputs[1], ones, zeros, p->group_size, p->bits, mode_names[p->mode], 1,
                              MLX_FLOAT32, s);
        if (rc == MLX_OK) rc = mlx_multiply(&prod, dw, codes, s);
        if (rc == MLX_OK) rc = group_sums(&sum, prod, sn, p->group_size, s);
      } else if (rc == MLX_OK) {
        rc = group_sums(&sum, dw, sn, p->group_size, s);
      }
      if (rc == MLX_OK) rc = mlx_astype(&in_cots[k], sum, MLX_NODE(inputs[a])->dtype, s);
      mlx_array_free(codes);
      mlx_array_free(ones);
      mlx_array_free(zeros);
      mlx_array_free(prod);
      mlx_array_free(sum);
    }
  }
  mlx_array_free(dw);
  return rc;
}

/* Batch axes go to the front; operands are padded with size-1 batch dims
 * so their batch dims line up from the right (x's with w's). */
static int qmm_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s) {
  /* Unbatched ranks: x has 2+ dims (a vector was reshaped by the op), w,
   * scales and biases share a rank. */
  int xr = mlx_array_ndim(inputs[0]) - (in_axes[0] >= 0);
  int wr = mlx_array_ndim(inputs[1]) - (in_axes[1] >= 0);
  int batch = (xr > wr ? xr : wr) - 2;
  mlx_array moved[4] = {{NULL}, {NULL}, {NULL}, {NULL}};
  int rc = MLX_OK;
  for (int i = 0; i < nin && rc == MLX_OK; i++) {
    int r = i == 0 ? xr : wr;
    int pad = batch - (r - 2);
    const mlx_node_* n = MLX_NODE(inputs[i]);
    mlx_array front = mlx_array_new();
    if (in_axes[i] >= 0) {
      rc = mlx_moveaxis(&front, inputs[i], in_axes[i], 0, s);
    } else {
      int zero = 0;
      rc = mlx_expand_dims(&front, inputs[i], &zero, 1, s);
    }
    if (rc == MLX_OK) {
      const mlx_node_* f = MLX_NODE(front);
      int64_t shape[f->ndim + pad];
      shape[0] = f->shape[0];
      for (int k = 0; k < pad; k++) shape[1 + k] = 1;
      memcpy(shape + 1 + pad, f->shape + 1, sizeof(int64_t) * (size_t)(f->ndim - 1));
      moved[i] = mlx_array_new();
      rc = mlx_reshape(&moved[i], front, shape, f->ndim + pad, s);
    }
    (void)n;
    mlx_array_free(front);
  }
  mlx_array none = {NULL};
  if (rc == MLX_OK) rc = record_qmm(&outs[0], moved[0], moved[1], moved[2], nin > 3 ? moved[3] : none, params, s);
  for (int i = 0; i < 4; i++) mlx_array_free(moved[i]);
  out_axes[0] = 0;
  return rc;
}

/* ---- quantize / dequantize rules ----------------------------------------- */

/* The batch axis goes to the front (the last axis stays the quantized
 * one); every output is batched on axis 0. */
static int quantize_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s) {
  const mlx_quant_params_* p = params;
  mlx_array front = mlx_array_new();
  int n = 0;
  int rc = mlx_moveaxis(&front, inputs[0], in_axes[0], 0, s);
  if (rc == MLX_OK) rc = mlx_quantize(outs, &n, front, p->group_size, p->bits, mode_names[p->mode], s);
  for (int i = 0; i < nout; i++) out_axes[i] = 0;
  mlx_array_free(front);
  return rc;
}

/* Every operand batched on axis 0 with the same batch size (unbatched
 * ones broadcast), then the same dequantize. */
static int dequantize_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s) {
  const mlx_quant_params_* p = params;
  int64_t b = 1;
  for (int i = 0; i < nin; i++)
    if (in_axes[i] >= 0) b = mlx_array_dim(inputs[i], in_axes[i]);
  mlx_array moved[3] = {{NULL}, {NULL}, {NULL}};
  int rc = MLX_OK;
  for (int i = 0; i < nin && rc == MLX_OK; i++) {
    moved[i] = mlx_array_new();
    if (in_axes[i] >= 0) {
      rc = mlx_moveaxis(&moved[i], inputs[i], in_axes[i], 0, s);
    } else {
      const mlx_node_* n = MLX_NODE(inputs[i]);
      int64_t shape[n->ndim + 1];
      shape[0] = b;
      memcpy(shape + 1, n->shape, sizeof(int64_t) * (size_t)n->ndim);
      mlx_array e = mlx_array_new();
      int zero = 0;
      rc = mlx_expand_dims(&e, inputs[i], &zero, 1, s);
      if (rc == MLX_OK) rc = mlx_broadcast_to(&moved[i], e, shape, n->ndim + 1, s);
      mlx_array_free(e);
    }
  }
  mlx_array none = {NULL};
  if (rc == MLX_OK)
    rc = mlx_dequantize(&outs[0], moved[0], moved[1], nin > 2 ? moved[2] : none, p->group_size, p->bits,
                        mode_names[p->mode], 1, (mlx_dtype)p->out_dtype, s);
  for (int i = 0; i < 3; i++) mlx_array_free(moved[i]);
  out_axes[0] = 0;
  return rc;
}

/* Affine dequantize is linear in scales and biases: the cotangent times
 * the codes, and the cotangent, summed per group. */
static int dequantize_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s) {
  const mlx_quant_params_* p = params;
  const mlx_node_* sn = MLX_NODE(inputs[1]);
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++) {
    int a = argnums[k];
    if (a == 0 || p->mode != MLX_QMODE_AFFINE_) {
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[dequantize] no gradient with respect to the quantized weights");
      break;
    }
    mlx_array ones = mlx_array_new(), zeros = mlx_array_new(), codes = mlx_array_new(), prod = mlx_array_new(),
              cf = mlx_array_new(), sum = mlx_array_new();
    rc = mlx_astype(&cf, cots[0], MLX_FLOAT32, s);
    if (rc == MLX_OK && a == 1) {
      rc = mlx_ones(&ones, sn->shape, sn->ndim, MLX_FLOAT32, s);
      if (rc == MLX_OK) rc = mlx_zeros(&zeros, sn->shape, sn->ndim, MLX_FLOAT32, s);
      if (rc == MLX_OK)
        rc = mlx_dequantize(&codes, inputs[0], ones, zeros, p->group_size, p->bits, "affine", 1, MLX_FLOAT32, s);
      if (rc == MLX_OK) rc = mlx_multiply(&prod, cf, codes, s);
      if (rc == MLX_OK) rc = group_sums(&sum, prod, sn, p->group_size, s);
    } else if (rc == MLX_OK) {
      rc = group_sums(&sum, cf, sn, p->group_size, s);
    }
    if (rc == MLX_OK) rc = mlx_astype(&in_cots[k], sum, MLX_NODE(inputs[a])->dtype, s);
    mlx_array_free(ones);
    mlx_array_free(zeros);
    mlx_array_free(codes);
    mlx_array_free(prod);
    mlx_array_free(cf);
    mlx_array_free(sum);
  }
  return rc;
}

/* The dequantized matrix of the tangents (zeros for the one not given). */
static int dequantize_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s) {
  const mlx_quant_params_* p = params;
  const mlx_node_* sn = MLX_NODE(inputs[1]);
  mlx_array t[2] = {{NULL}, {NULL}};
  for (int k = 0; k < nargs; k++) {
    if (argnums[k] == 0 || p->mode != MLX_QMODE_AFFINE_)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[dequantize] no derivative with respect to the quantized weights");
    t[argnums[k] - 1] = tangents[k];
  }
  mlx_array z[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int i = 0; i < 2 && rc == MLX_OK; i++)
    if (!t[i].ctx) rc = mlx_zeros(&z[i], sn->shape, sn->ndim, sn->dtype, s);
  if (rc == MLX_OK)
    rc = mlx_dequantize(&out_tans[0], inputs[0], t[0].ctx ? t[0] : z[0], t[1].ctx ? t[1] : z[1], p->group_size,
                        p->bits, "affine", 1, (mlx_dtype)p->out_dtype, s);
  mlx_array_free(z[0]);
  mlx_array_free(z[1]);
  return rc;
}

/* ---- gather_qmm, qqmm ----------------------------------------------------- */

/* arange(n) shaped like the batch dims of a (uint32). */
static int batch_iota(mlx_array* res, const mlx_node_* a, mlx_stream s) {
  int nb = a->ndim - 2;
  int64_t n = 1;
  for (int i = 0; i < nb; i++) n *= a->shape[i];
  mlx_array r = mlx_array_new();
  int rc = mlx_arange(&r, 0, (double)n, 1, MLX_UINT32, s);
  if (rc == MLX_OK) rc = mlx_reshape(res, r, a->shape, nb, s);
  mlx_array_free(r);
  return rc;
}

int mlx_gather_qmm(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales,
                   const mlx_array biases, const mlx_array lhs_indices, const mlx_array rhs_indices, int transpose,
                   int group_size, int bits, const char* mode, int sorted_indices, const mlx_stream s) {
  mlx_quant_params_ p;
  MLX_TRY(parse_params(&p, mode, group_size, bits, "gather_qmm"));
  p.transpose = transpose != 0;
  MLX_TRY(mlx_check_array_(x, "gather_qmm"));
  MLX_TRY(check_packed(w, scales, biases, &p, "gather_qmm"));
  mlx_node_* xn = MLX_NODE(x);
  mlx_node_* wn = MLX_NODE(w);
  if (xn->ndim < 2) return mlx_error_(MLX_ERROR_SHAPE, "[gather_qmm] x must have at least two dimensions");
  int64_t K, N;
  product_dims(&K, &N, wn, &p);
  if (xn->shape[xn->ndim - 1] != K)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[gather_qmm] Last dimension of first input (%lld) does not match the expanded quantized "
                      "matrix (%lld, %lld)",
                      (long long)xn->shape[xn->ndim - 1], (long long)K, (long long)N);
  mlx_array idx[2] = {mlx_array_new(), mlx_array_new()}, cast[2] = {mlx_array_new(), mlx_array_new()},
            full[2] = {mlx_array_new(), mlx_array_new()};
  const mlx_array given[2] = {lhs_indices, rhs_indices};
  const mlx_node_* owners[2] = {xn, wn};
  int rc = MLX_OK;
  for (int i = 0; i < 2 && rc == MLX_OK; i++) {
    if (given[i].ctx) {
      mlx_dtype t = MLX_NODE(given[i])->dtype;
      if (t == MLX_BOOL || is_float(t) || t == MLX_COMPLEX64)
        rc = mlx_error_(MLX_ERROR_DTYPE, "[gather_qmm] indices must be integers, got %s", mlx_dtype_name(t));
      else
        rc = mlx_astype(&cast[i], given[i], MLX_UINT32, s);
    } else {
      rc = batch_iota(&cast[i], owners[i], s);
    }
  }
  int64_t ishape[64];
  int ind = 0;
  if (rc == MLX_OK) {
    const mlx_node_* a = MLX_NODE(cast[0]);
    const mlx_node_* b = MLX_NODE(cast[1]);
    if (a->ndim + b->ndim > 64) rc = mlx_error_(MLX_ERROR_SHAPE, "[gather_qmm] too many index dimensions");
    else rc = mlx_broadcast_shape_(ishape, &ind, a->shape, a->ndim, b->shape, b->ndim, "broadcast_shapes");
  }
  for (int i = 0; i < 2 && rc == MLX_OK; i++) {
    rc = mlx_broadcast_to(&idx[i], cast[i], ishape, ind, s);
    if (rc == MLX_OK) rc = mlx_contiguous(&full[i], idx[i], 0, s);
  }
  if (rc == MLX_OK) {
    int64_t shape[ind + 2];
    memcpy(shape, ishape, sizeof(int64_t) * (size_t)ind);
    shape[ind] = xn->shape[xn->ndim - 2];
    shape[ind + 1] = N;
    int nin = biases.ctx ? 6 : 5;
    mlx_node_* ins[6] = {xn, wn, MLX_NODE(scales)};
    int k = 3;
    if (biases.ctx) ins[k++] = MLX_NODE(biases);
    ins[k++] = MLX_NODE(full[0]);
    ins[k++] = MLX_NODE(full[1]);
    rc = mlx_op1_(res, &prim_gather_qmm, &p, sizeof p, ins, nin, product_dtype(xn->dtype, MLX_NODE(scales)->dtype, &p),
                  shape, ind + 2, s);
  }
  (void)sorted_indices;
  for (int i = 0; i < 2; i++) {
    mlx_array_free(idx[i]);
    mlx_array_free(cast[i]);
    mlx_array_free(full[i]);
  }
  return rc;
}

/* The product again with the recorded (full) index arrays. */
static int gather_qmm_again(mlx_array* res, const mlx_array x, const mlx_array* inputs, int nin, const mlx_array lhs,
                            const mlx_quant_params_* p, int transpose, mlx_stream s) {
  mlx_array none = {NULL};
  return mlx_gather_qmm(res, x, inputs[1], inputs[2], nin > 5 ? inputs[3] : none, lhs, inputs[nin - 1], transpose,
                        p->group_size, p->bits, mode_names[p->mode], 0, s);
}

static int gather_qmm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s) {
  const mlx_quant_params_* p = params;
  for (int k = 0; k < nargs; k++)
    if (argnums[k] != 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[gather_qmm] jvp is only supported with respect to x");
  return gather_qmm_again(&out_tans[0], tangents[0], inputs, nin, inputs[nin - 2], p, p->transpose, s);
}

/* x's cotangent: each output block's product with the other orientation,
 * added into the x batch element it read (repeated indices accumulate). */
static int gather_qmm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s) {
  const mlx_quant_params_* p = params;
  for (int k = 0; k < nargs; k++)
    if (argnums[k] != 0)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[gather_qmm] no gradient with respect to the quantized weights");
  const mlx_node_* xn = MLX_NODE(inputs[0]);
  const mlx_node_* cn = MLX_NODE(cots[0]);
  int64_t M = xn->shape[xn->ndim - 2], K = xn->shape[xn->ndim - 1];
  int64_t n = MLX_NODE(inputs[nin - 2])->size, bx = (M * K) != 0 ? xn->size / (M * K) : 0;
  int ind = cn->ndim - 2;
  mlx_array iota = mlx_array_new(), own = mlx_array_new(), g = mlx_array_new(), upd = mlx_array_new(),
            zeros = mlx_array_new(), flat_idx = mlx_array_new(), acc = mlx_array_new(), gx = mlx_array_new();
  int rc = mlx_arange(&iota, 0, (double)n, 1, MLX_UINT32, s);
  if (rc == MLX_OK) rc = mlx_reshape(&own, iota, cn->shape, ind, s);
  /* cot [idx..., M, N] -> [idx..., M, K] through the transposed product:
   * the cotangent's batch element i reads itself (own) and w[rhs[i]]. */
  if (rc == MLX_OK) rc = gather_qmm_again(&g, cots[0], inputs, nin, own, p, !p->transpose, s);
  int64_t ushape[4] = {n, 1, M, K};
  if (rc == MLX_OK) rc = mlx_reshape(&upd, g, ushape, 4, s);
  int64_t zshape[3] = {bx, M, K};
  if (rc == MLX_OK) rc = mlx_zeros(&zeros, zshape, 3, MLX_NODE(g)->dtype, s);
  int64_t nshape[1] = {n};
  if (rc == MLX_OK) rc = mlx_reshape(&flat_idx, inputs[nin - 2], nshape, 1, s);
  int axis0 = 0;
  if (rc == MLX_OK) rc = mlx_scatter_add(&acc, zeros, &flat_idx, 1, upd, &axis0, s);
  if (rc == MLX_OK) rc = mlx_reshape(&gx, acc, xn->shape, xn->ndim, s);
  if (rc == MLX_OK) rc = mlx_astype(&in_cots[0], gx, xn->dtype, s);
  mlx_array_free(iota);
  mlx_array_free(own);
  mlx_array_free(g);
  mlx_array_free(upd);
  mlx_array_free(zeros);
  mlx_array_free(flat_idx);
  mlx_array_free(acc);
  mlx_array_free(gx);
  return rc;
}

int mlx_qqmm(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales, int group_size, int bits,
             const char* mode, const mlx_stream s) {
  mlx_quant_params_ p;
  MLX_TRY(parse_params(&p, mode ? mode : "nvfp4", group_size, bits, "qqmm"));
  if (p.mode == MLX_QMODE_AFFINE_)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[qqmm] only the mxfp4, mxfp8 and nvfp4 modes are supported");
  MLX_TRY(mlx_check_array_(x, "qqmm"));
  MLX_TRY(mlx_check_array_(w, "qqmm"));
  const char* m = mode_names[p.mode];
  mlx_array xq[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()},
            wq[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()}, xd = mlx_array_new();
  mlx_array none = {NULL};
  int n = 0;
  int rc = mlx_quantize(xq, &n, x, p.group_size, p.bits, m, s);
  if (rc == MLX_OK)
    rc = mlx_dequantize(&xd, xq[0], xq[1], none, p.group_size, p.bits, m, 1, MLX_NODE(x)->dtype, s);
  int quantized = MLX_NODE(w)->dtype == MLX_UINT32;
  if (rc == MLX_OK && quantized && !scales.ctx)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[qqmm] scales are required with a quantized weight");
  if (rc == MLX_OK && !quantized) rc = mlx_quantize(wq, &n, w, p.group_size, p.bits, m, s);
  if (rc == MLX_OK)
    rc = mlx_quantized_matmul(res, xd, quantized ? w : wq[0], quantized ? scales : wq[1], none, 1, p.group_size,
                              p.bits, m, s);
  for (int i = 0; i < 3; i++) {
    mlx_array_free(xq[i]);
    mlx_array_free(wq[i]);
  }
  mlx_array_free(xd);
  return rc;
}

/* ---- fp8 ---------------------------------------------------------------- */

int mlx_to_fp8(mlx_array* res, const mlx_array x, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(x, "to_fp8"));
  mlx_node_* in = MLX_NODE(x);
  if (!is_float(in->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[to_fp8] Only real floating types are supported but x.dtype() == %s.",
                      mlx_dtype_name(in->dtype));
  return mlx_op1_(res, &prim_to_fp8, NULL, 0, &in, 1, MLX_UINT8, in->shape, in->ndim, s);
}

int mlx_from_fp8(mlx_array* res, const mlx_array x, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(x, "from_fp8"));
  mlx_node_* in = MLX_NODE(x);
  if (in->dtype != MLX_UINT8)
    return mlx_error_(MLX_ERROR_DTYPE, "[from_fp8] Input must have type uint8 but x.dtype() == %s.",
                      mlx_dtype_name(in->dtype));
  if (!is_float(dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[from_fp8] Only real floating types are supported but dtype == %s.",
                      mlx_dtype_name(dtype));
  int32_t d = (int32_t)dtype;
  return mlx_op1_(res, &prim_from_fp8, &d, sizeof d, &in, 1, dtype, in->shape, in->ndim, s);
}

/* Elementwise: the batch axis stays put. */
static int to_fp8_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_to_fp8(&outs[0], inputs[0], s);
}

static int from_fp8_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_from_fp8(&outs[0], inputs[0], (mlx_dtype)*(const int32_t*)params, s);
}
