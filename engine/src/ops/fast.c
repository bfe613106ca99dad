/* Constructors of the fast ops: argument checks in upstream's order and
 * with its messages, the casts upstream applies before its primitive
 * (inputs to the result dtype, a missing weight as a scalar 1, a missing
 * bias as a scalar 0, the mask broadcast to [B, Nq, Lq, Lk]), and one
 * node per op. Kernels in cpu/fast.c, rules in ops/fast_rules.c. */
#include <stdio.h>
#include <string.h>

#include "mlx/fast.h"
#include "fast.h"

/* Output shape rules (compile's shapeless replay): the norms and rope keep
 * their input's shape; attention is [B, Nq, Lq, Dv]. */
static int shape_of_first(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                          const void* params) {
  if (ins[0]->ndim > cap) return mlx_error_(MLX_ERROR_SHAPE, "[fast] too many dimensions");
  memcpy(shapes[0], ins[0]->shape, sizeof(int64_t) * (size_t)ins[0]->ndim);
  ndims[0] = ins[0]->ndim;
  return MLX_OK;
}

static int sdpa_shape(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                      const void* params) {
  const mlx_node_ *q = ins[0], *k = ins[1], *v = ins[2];
  if (cap < 4 || q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || q->shape[3] != k->shape[3] ||
      k->shape[1] != v->shape[1] || k->shape[2] != v->shape[2] || k->shape[1] == 0 || q->shape[1] % k->shape[1])
    return mlx_error_(MLX_ERROR_SHAPE, "[scaled_dot_product_attention] inputs of incompatible shapes");
  shapes[0][0] = q->shape[0];
  shapes[0][1] = q->shape[1];
  shapes[0][2] = q->shape[2];
  shapes[0][3] = v->shape[3];
  ndims[0] = 4;
  return MLX_OK;
}

static const mlx_prim_ prim_rms = {.name = "fast_rms_norm",
                                   .cpu = mlx_cpu_fast_rms_norm_,
                                   .gpu = MLX_GPU_KERNEL_(mlx_cuda_fast_rms_norm_),
                                   .vjp = mlx_fast_rms_vjp_,
                                   .jvp = mlx_fast_rms_jvp_,
                                   .vmap = mlx_fast_rms_vmap_,
                                   .output_shapes = shape_of_first};
MLX_REGISTER_PRIM(prim_rms);
static const mlx_prim_ prim_ln = {.name = "fast_layer_norm",
                                  .cpu = mlx_cpu_fast_layer_norm_,
                                  .gpu = MLX_GPU_KERNEL_(mlx_cuda_fast_layer_norm_),
                                  .vjp = mlx_fast_ln_vjp_,
                                  .jvp = mlx_fast_ln_jvp_,
                                  .vmap = mlx_fast_ln_vmap_,
                                   .output_shapes = shape_of_first};
MLX_REGISTER_PRIM(prim_ln);
static const mlx_prim_ prim_rope = {.name = "fast_rope",
                                    .cpu = mlx_cpu_fast_rope_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_fast_rope_),
                                    .vjp = mlx_fast_rope_vjp_,
                                    .jvp = mlx_fast_rope_jvp_,
                                    .vmap = mlx_fast_rope_vmap_,
                                   .output_shapes = shape_of_first};
MLX_REGISTER_PRIM(prim_rope);
static const mlx_prim_ prim_sdpa = {.name = "fast_scaled_dot_product_attention",
                                    .cpu = mlx_cpu_fast_sdpa_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_fast_sdpa_),
                                    .vjp = mlx_fast_sdpa_vjp_,
                                    .jvp = mlx_fast_sdpa_jvp_,
                                    .vmap = mlx_fast_sdpa_vmap_,
                                    .output_shapes = sdpa_shape};
MLX_REGISTER_PRIM(prim_sdpa);

/* "(2,3,4)" into buf, for messages. */
static const char* shape_str(char* buf, size_t cap, const mlx_node_* n) {
  size_t at = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n->ndim && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, i ? ",%lld" : "%lld", (long long)n->shape[i]);
  if (at < cap) snprintf(buf + at, cap - at, ")");
  return buf;
}

/* Releases the temporaries of a constructor. */
static void free_all(mlx_array* a, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(a[i]);
}

/* An optional 1-D parameter (weight, bias) of the last dim's size. */
static int check_param(const mlx_array p, int64_t d, const char* op, const char* what) {
  mlx_node_* n = MLX_NODE(p);
  if (n->ndim != 1)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] %s must have 1 dimension but has %d dimensions.", op, what, n->ndim);
  if (n->size != d)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] %s must have the same size as the last dimension of x but has %lld elements.", op, what,
                      (long long)n->size);
  return MLX_OK;
}

/* *out = p cast to dt, or a scalar `fill` of dt when p is empty. */
static int param_or_scalar(mlx_array* out, const mlx_array p, double fill, mlx_dtype dt, mlx_stream s) {
  if (p.ctx) return mlx_astype(out, p, dt, s);
  return mlx_array_new_float(out, fill, dt);
}

int mlx_fast_rms_record_(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s) {
  mlx_node_* ins[2] = {MLX_NODE(in[0]), MLX_NODE(in[1])};
  return mlx_op1_(res, &prim_rms, p, sizeof *p, ins, 2, ins[0]->dtype, ins[0]->shape, ins[0]->ndim, s);
}

int mlx_fast_ln_record_(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s) {
  mlx_node_* ins[3] = {MLX_NODE(in[0]), MLX_NODE(in[1]), MLX_NODE(in[2])};
  return mlx_op1_(res, &prim_ln, p, sizeof *p, ins, 3, ins[0]->dtype, ins[0]->shape, ins[0]->ndim, s);
}

int mlx_fast_rope_record_(mlx_array* res, const mlx_array* in, int nin, const mlx_fast_rope_params_* p, mlx_stream s) {
  mlx_node_* ins[3];
  for (int i = 0; i < nin; i++) ins[i] = MLX_NODE(in[i]);
  return mlx_op1_(res, &prim_rope, p, sizeof *p, ins, nin, ins[0]->dtype, ins[0]->shape, ins[0]->ndim, s);
}

/* rms_norm and layer_norm share their checks; bias is empty for rms. */
static int norm(mlx_array* res, const mlx_array x, const mlx_array weight, const mlx_array bias, float eps, int layer,
                mlx_stream s) {
  const char* op = layer ? "layer_norm" : "rms_norm";
  MLX_TRY(mlx_check_array_(x, op));
  mlx_node_* xn = MLX_NODE(x);
  if (xn->ndim == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] Input must have at least 1 dimension but got input with 0 dimensions.",
                      op);
  int64_t d = xn->shape[xn->ndim - 1];
  if (weight.ctx) MLX_TRY(check_param(weight, d, op, "weight"));
  if (bias.ctx) MLX_TRY(check_param(bias, d, op, "bias"));
  mlx_dtype dt = xn->dtype;
  if (weight.ctx) {
    dt = mlx_dtype_promote(dt, MLX_NODE(weight)->dtype);
    if (bias.ctx) dt = mlx_dtype_promote(dt, MLX_NODE(bias)->dtype);
  }
  if (!mlx_dtype_is_floating(dt))
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Received unsupported type %s.", op, mlx_dtype_name(dt));
  mlx_fast_norm_params_ p = {eps};
  mlx_array in[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int rc = mlx_astype(&in[0], x, dt, s);
  if (!rc) rc = param_or_scalar(&in[1], weight, 1.0, dt, s);
  if (!rc && layer) rc = param_or_scalar(&in[2], bias, 0.0, dt, s);
  if (!rc) rc = layer ? mlx_fast_ln_record_(res, in, &p, s) : mlx_fast_rms_record_(res, in, &p, s);
  free_all(in, 3);
  return rc;
}

int mlx_fast_rms_norm(mlx_array* res, const mlx_array x, const mlx_array weight, float eps, const mlx_stream s) {
  return norm(res, x, weight, mlx_array_new(), eps, 0, s);
}

int mlx_fast_layer_norm(mlx_array* res, const mlx_array x, const mlx_array weight, const mlx_array bias, float eps,
                        const mlx_stream s) {
  return norm(res, x, weight, bias, eps, 1, s);
}

int mlx_fast_rope(mlx_array* res, const mlx_array x, int dims, int traditional, int has_base, float base, float scale,
                  const mlx_array offset, const mlx_array freqs, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(x, "rope"));
  MLX_TRY(mlx_check_array_(offset, "rope"));
  if (freqs.ctx && has_base) return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] Only one of base or freqs can have a value.");
  if (!freqs.ctx && !has_base) return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] Neither base nor freqs has a value.");
  mlx_node_* xn = MLX_NODE(x);
  mlx_node_* on = MLX_NODE(offset);
  char buf[128];
  if (xn->ndim < 3)
    return mlx_error_(MLX_ERROR_SHAPE, "[rope] Input must have at least 3 dimensions but got input with %d dimensions.",
                      xn->ndim);
  if (!mlx_dtype_is_floating(xn->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[rope] Input must be a floating type but got %s.", mlx_dtype_name(xn->dtype));
  if (on->ndim > 1)
    return mlx_error_(MLX_ERROR_SHAPE, "[rope] offset must have at most one dimension but has shape %s.",
                      shape_str(buf, sizeof buf, on));
  if (on->size != 1 && on->size != xn->shape[0])
    return mlx_error_(MLX_ERROR_SHAPE, "[rope] offset must be a scalar or vector with %lld elements but has shape %s.",
                      (long long)xn->shape[0], shape_str(buf, sizeof buf, on));
  if (!mlx_dtype_is_integer(on->dtype))
    return mlx_error_(MLX_ERROR_DTYPE, "[rope] offset must be an integer but got type %s.", mlx_dtype_name(on->dtype));
  if (dims <= 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] dims must be positive but got %d.", dims);
  if (dims % 2 != 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] dims must be even but got %d.", dims);
  if (dims > xn->shape[xn->ndim - 1])
    return mlx_error_(MLX_ERROR_ARGUMENT, "[rope] dims must not exceed the input's last dimension (%lld) but got %d.",
                      (long long)xn->shape[xn->ndim - 1], dims);
  if (freqs.ctx) {
    mlx_node_* fn = MLX_NODE(freqs);
    if (fn->ndim != 1 || fn->shape[0] != dims / 2)
      return mlx_error_(MLX_ERROR_SHAPE, "[rope] freqs must be one dimensional with size %d but got shape %s.",
                        dims / 2, shape_str(buf, sizeof buf, fn));
  }
  mlx_fast_rope_params_ p = {dims, traditional != 0, 1, has_base ? base : 1.0f, scale};
  mlx_array in[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int nin = freqs.ctx ? 3 : 2;
  int rc = mlx_array_set(&in[0], x);
  /* The kernel reads 4-byte offsets; others become int32 as upstream. */
  if (!rc) rc = mlx_dtype_size(on->dtype) == 4 ? mlx_array_set(&in[1], offset) : mlx_astype(&in[1], offset, MLX_INT32, s);
  if (!rc && freqs.ctx) rc = mlx_astype(&in[2], freqs, MLX_FLOAT32, s);
  if (!rc) rc = mlx_fast_rope_record_(res, in, nin, &p, s);
  free_all(in, 3);
  return rc;
}

int mlx_fast_scaled_dot_product_attention(mlx_array* res, const mlx_array q, const mlx_array k, const mlx_array v,
                                          float scale, const char* mask_mode, const mlx_array mask,
                                          const mlx_array sinks, const mlx_stream s) {
  static const char* op = "scaled_dot_product_attention";
  MLX_TRY(mlx_check_array_(q, op));
  MLX_TRY(mlx_check_array_(k, op));
  MLX_TRY(mlx_check_array_(v, op));
  char buf[128], buf2[128];
  const mlx_array qkv[3] = {q, k, v};
  for (int i = 0; i < 3; i++)
    if (MLX_NODE(qkv[i])->ndim != 4)
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] input with shape %s expected to be rank 4", op,
                        shape_str(buf, sizeof buf, MLX_NODE(qkv[i])));
  if (!mask_mode) mask_mode = "";
  int causal = !strcmp(mask_mode, "causal");
  if (!causal && mask_mode[0] && strcmp(mask_mode, "array"))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] invalid mask option '%s'. Must be 'causal', or an array.", op,
                      mask_mode);
  if (causal && mask.ctx)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Invalid mask_arr for mask_mode 'causal'. No array mask should be passed.",
                      op);
  mlx_node_ *qn = MLX_NODE(q), *kn = MLX_NODE(k), *vn = MLX_NODE(v);
  mlx_node_* mn = mask.ctx ? MLX_NODE(mask) : NULL;
  if (mn && mn->ndim > 4)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] the mask with shape %s expected to have at most rank 4.", op,
                      shape_str(buf, sizeof buf, mn));
  for (int i = 1; i < 3; i++)
    if (MLX_NODE(qkv[i])->shape[0] != qn->shape[0])
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] mismatching batch dimension for input with shape %s.", op,
                        shape_str(buf, sizeof buf, MLX_NODE(qkv[i])));
  if (qn->shape[3] != kn->shape[3])
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] query, keys expected to have matching last dimension; found query shape %s for keys shape %s.",
                      op, shape_str(buf, sizeof buf, qn), shape_str(buf2, sizeof buf2, kn));
  if (kn->shape[1] != vn->shape[1])
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] keys, values expected to have matching n_kv_heads; found keys with n_heads %lld for values "
                      "with n_heads %lld.",
                      op, (long long)kn->shape[1], (long long)vn->shape[1]);
  if (kn->shape[1] == 0 || qn->shape[1] % kn->shape[1] != 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] n_heads must be a multiple of n_kv_heads, found n_heads %lld for n_kv_heads %lld.",
                      op, (long long)qn->shape[1], (long long)kn->shape[1]);
  /* Upstream leaves this to its matmul's error. */
  if (kn->shape[2] != vn->shape[2])
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] keys and values must have the same sequence length; found keys shape %s for values shape %s.",
                      op, shape_str(buf, sizeof buf, kn), shape_str(buf2, sizeof buf2, vn));
  mlx_dtype dt = mlx_dtype_promote(mlx_dtype_promote(qn->dtype, kn->dtype), vn->dtype);
  if (!mlx_dtype_is_floating(dt))
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Received unsupported type %s.", op, mlx_dtype_name(dt));
  mlx_fast_sdpa_params_ p = {scale, causal, mn != NULL, sinks.ctx != NULL};
  if (mn && mn->dtype != MLX_BOOL && mlx_dtype_promote(mn->dtype, dt) != dt)
    return mlx_error_(MLX_ERROR_DTYPE, "[%s] Mask type must promote to output type %s.", op, mlx_dtype_name(dt));
  if (sinks.ctx) {
    mlx_node_* sn = MLX_NODE(sinks);
    if (mlx_dtype_promote(sn->dtype, dt) != dt)
      return mlx_error_(MLX_ERROR_DTYPE, "[%s] Type of sinks must promote to output type %s.", op, mlx_dtype_name(dt));
    if (sn->ndim != 1 || sn->shape[0] != qn->shape[1])
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] Received invalid shape for sinks %s.", op, shape_str(buf, sizeof buf, sn));
  }
  mlx_array in[6] = {mlx_array_new(), mlx_array_new(), mlx_array_new(), mlx_array_new(), mlx_array_new(),
                     mlx_array_new()};
  int rc = MLX_OK, nin = 3;
  for (int i = 0; i < 3 && !rc; i++) rc = mlx_astype(&in[i], qkv[i], dt, s);
  if (!rc && mn) {
    int64_t mshape[4] = {qn->shape[0], qn->shape[1], qn->shape[2], kn->shape[2]};
    rc = mn->dtype == MLX_BOOL ? mlx_array_set(&in[5], mask) : mlx_astype(&in[5], mask, dt, s);
    if (!rc) rc = mlx_broadcast_to(&in[nin], in[5], mshape, 4, s);
    nin++;
  }
  if (!rc && sinks.ctx) rc = mlx_astype(&in[nin++], sinks, dt, s);
  if (!rc) {
    mlx_node_* ins[5];
    for (int i = 0; i < nin; i++) ins[i] = MLX_NODE(in[i]);
    int64_t oshape[4] = {qn->shape[0], qn->shape[1], qn->shape[2], vn->shape[3]};
    rc = mlx_op1_(res, &prim_sdpa, &p, sizeof p, ins, nin, dt, oshape, 4, s);
  }
  free_all(in, 6);
  return rc;
}
