/* Creation ops: zeros, ones, full, *_like, arange, linspace, eye,
 * identity, tri, tril, triu. The constructors check arguments and record a
 * node; cpu/create.c fills the buffers. Constants (zeros, ones, ...) take no
 * input node, so a zeros_like does not keep its argument alive. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../cpu/create.h"
#include "shape.h"

/* Transform rules, at the end of the file. */
#define RULES(p)                                                                                                     \
  static int p##_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,            \
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);   \
  static int p##_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,           \
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,             \
                     mlx_stream s);                                                                                  \
  static int p##_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout, \
                      const void* params, mlx_stream s)
RULES(full);
RULES(tril_triu);
#undef RULES

/* Constants (full without an input, arange, linspace, eye, tri) have no
 * inputs, so no transform ever reaches them and they need no rules. full
 * of an array and tril/triu are linear in their input. */
static const mlx_prim_ prim_full = {
    .name = "full", .cpu = mlx_cpu_full_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_full_), .vjp = full_vjp, .jvp = full_jvp, .vmap = full_vmap};
MLX_REGISTER_PRIM(prim_full);
static const mlx_prim_ prim_arange = {.name = "arange", .cpu = mlx_cpu_arange_, .gpu = MLX_GPU_KERNEL_(mlx_cpu_arange_)};
MLX_REGISTER_PRIM(prim_arange);
static const mlx_prim_ prim_linspace = {.name = "linspace", .cpu = mlx_cpu_linspace_, .gpu = MLX_GPU_KERNEL_(mlx_cpu_linspace_)};
MLX_REGISTER_PRIM(prim_linspace);
static const mlx_prim_ prim_eye = {.name = "eye", .cpu = mlx_cpu_eye_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_eye_)};
MLX_REGISTER_PRIM(prim_eye);
static const mlx_prim_ prim_tri = {.name = "tri", .cpu = mlx_cpu_tri_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_tri_)};
MLX_REGISTER_PRIM(prim_tri);
static const mlx_prim_ prim_tril = {.name = "tril",
                                    .cpu = mlx_cpu_tril_triu_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_tril_triu_),
                                    .vjp = tril_triu_vjp,
                                    .jvp = tril_triu_jvp,
                                    .vmap = tril_triu_vmap};
MLX_REGISTER_PRIM(prim_tril);
static const mlx_prim_ prim_triu = {.name = "triu",
                                    .cpu = mlx_cpu_tril_triu_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_tril_triu_),
                                    .vjp = tril_triu_vjp,
                                    .jvp = tril_triu_jvp,
                                    .vmap = tril_triu_vmap};
MLX_REGISTER_PRIM(prim_triu);

/* Params of full with an input: the kernel's, then what the vmap rule
 * needs to rebuild the node for a batch. */
typedef struct {
  mlx_full_params_ base;
  mlx_dtype dtype;
  int ndim;
  int64_t shape[];
} full_input_params;

static int check_dtype(mlx_dtype dtype, const char* op) {
  if ((unsigned)dtype >= MLX_NUM_DTYPES) return mlx_error_(MLX_ERROR_DTYPE, "[%s] invalid dtype %d", op, (int)dtype);
  return MLX_OK;
}

static int check_shape(const int64_t* shape, int ndim, const char* op) {
  if (ndim < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] negative number of dimensions", op);
  if (ndim > 0 && !shape) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] shape is NULL", op);
  int64_t size;
  return mlx_shape_size_(&size, shape, ndim, op);
}

/* A constant: no inputs, every element `value` converted to dtype. */
static int constant(mlx_array* res, const int64_t* shape, int ndim, double value, mlx_dtype dtype, mlx_stream s,
                    const char* op) {
  MLX_TRY(check_dtype(dtype, op));
  MLX_TRY(check_shape(shape, ndim, op));
  mlx_full_params_ p = {value};
  return mlx_op1_(res, &prim_full, &p, sizeof p, NULL, 0, dtype, shape, ndim, s);
}

int mlx_zeros(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_stream s) {
  return constant(res, shape, ndim, 0.0, dtype, s, "zeros");
}

int mlx_ones(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_stream s) {
  return constant(res, shape, ndim, 1.0, dtype, s, "ones");
}

int mlx_zeros_like(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "zeros_like"));
  mlx_node_* n = MLX_NODE(a);
  return constant(res, n->shape, n->ndim, 0.0, n->dtype, s, "zeros_like");
}

int mlx_ones_like(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "ones_like"));
  mlx_node_* n = MLX_NODE(a);
  return constant(res, n->shape, n->ndim, 1.0, n->dtype, s, "ones_like");
}

int mlx_full(mlx_array* res, const int64_t* shape, int ndim, const mlx_array vals, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(vals, "full"));
  MLX_TRY(check_dtype(dtype, "full"));
  MLX_TRY(check_shape(shape, ndim, "full"));
  mlx_node_* v = MLX_NODE(vals);
  /* vals must broadcast *to* shape (broadcast_to), not merely with it. */
  int ok = v->ndim <= ndim;
  for (int i = 1; ok && i <= v->ndim; i++) {
    int64_t dv = v->shape[v->ndim - i], ds = shape[ndim - i];
    ok = dv == ds || dv == 1;
  }
  if (!ok) {
    char sv[256], ss[256];
    int pv = 0, ps = 0;
    sv[0] = ss[0] = '\0';
    for (int i = 0; i < v->ndim && pv < 200; i++)
      pv += snprintf(sv + pv, sizeof sv - (size_t)pv, i ? ",%lld" : "%lld", (long long)v->shape[i]);
    for (int i = 0; i < ndim && ps < 200; i++)
      ps += snprintf(ss + ps, sizeof ss - (size_t)ps, i ? ",%lld" : "%lld", (long long)shape[i]);
    return mlx_error_(MLX_ERROR_SHAPE, "[full] cannot broadcast array of shape (%s) into shape (%s)", sv, ss);
  }
  size_t psize = sizeof(full_input_params) + sizeof(int64_t) * (size_t)ndim;
  _Alignas(full_input_params) char small[sizeof(full_input_params) + sizeof(int64_t) * MLX_INLINE_NDIM];
  full_input_params* p = ndim <= MLX_INLINE_NDIM ? (full_input_params*)small : malloc(psize);
  if (!p) return mlx_error_(MLX_ERROR_MEMORY, "[full] out of memory");
  p->base.value = 0.0;
  p->dtype = dtype;
  p->ndim = ndim;
  if (ndim) memcpy(p->shape, shape, sizeof(int64_t) * (size_t)ndim);
  int rc = mlx_op1_(res, &prim_full, p, psize, &v, 1, dtype, shape, ndim, s);
  if ((char*)p != small) free(p);
  return rc;
}

int mlx_arange(mlx_array* res, double start, double stop, double step, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(check_dtype(dtype, "arange"));
  if (dtype == MLX_BOOL) return mlx_error_(MLX_ERROR_DTYPE, "[arange] bool is not supported for arange");
  if (isnan(start) || isnan(stop) || isnan(step) || isinf(start) || isinf(stop))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[arange] cannot compute length");
  if (step == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[arange] step must be nonzero");
  int64_t size;
  if (isinf(step) && ((step > 0 && start < stop) || (step < 0 && start > stop))) {
    size = 1; /* one element: start */
  } else {
    double real_size = ceil((stop - start) / step);
    /* The limit MLX has (its sizes are int). */
    if (real_size > INT_MAX) return mlx_error_(MLX_ERROR_ARGUMENT, "[arange] maximum size exceeded");
    size = real_size > 0 ? (int64_t)real_size : 0;
  }
  mlx_arange_params_ p = {start, step};
  return mlx_op1_(res, &prim_arange, &p, sizeof p, NULL, 0, dtype, &size, 1, s);
}

int mlx_linspace(mlx_array* res, double start, double stop, int64_t num, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(check_dtype(dtype, "linspace"));
  if (num < 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[linspace] number of samples, %lld, must be non-negative", (long long)num);
  mlx_linspace_params_ p = {start, stop};
  return mlx_op1_(res, &prim_linspace, &p, sizeof p, NULL, 0, dtype, &num, 1, s);
}

int mlx_eye(mlx_array* res, int64_t n, int64_t m, int64_t k, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(check_dtype(dtype, "eye"));
  if (n < 0 || m < 0)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[eye] N and M must be non-negative, got %lld and %lld", (long long)n,
                      (long long)m);
  int64_t shape[2] = {n, m};
  MLX_TRY(check_shape(shape, 2, "eye"));
  mlx_diag_params_ p = {k, 0};
  return mlx_op1_(res, &prim_eye, &p, sizeof p, NULL, 0, dtype, shape, 2, s);
}

int mlx_identity(mlx_array* res, int64_t n, mlx_dtype dtype, const mlx_stream s) {
  return mlx_eye(res, n, n, 0, dtype, s);
}

int mlx_tri(mlx_array* res, int64_t n, int64_t m, int64_t k, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(check_dtype(dtype, "tri"));
  /* MLX builds tri from arange(n) and arange(-k, m - k), so a negative n or
   * m gives an empty axis rather than an error. */
  int64_t shape[2] = {n > 0 ? n : 0, m > 0 ? m : 0};
  MLX_TRY(check_shape(shape, 2, "tri"));
  mlx_diag_params_ p = {k, 0};
  return mlx_op1_(res, &prim_tri, &p, sizeof p, NULL, 0, dtype, shape, 2, s);
}

static int tril_triu(mlx_array* res, const mlx_array a, int64_t k, int upper, const mlx_stream s) {
  const char* op = upper ? "triu" : "tril";
  MLX_TRY(mlx_check_array_(a, op));
  mlx_node_* in = MLX_NODE(a);
  if (in->ndim < 2) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] array must be at least 2-D", op);
  mlx_diag_params_ p = {k, upper};
  return mlx_op1_(res, upper ? &prim_triu : &prim_tril, &p, sizeof p, &in, 1, in->dtype, in->shape, in->ndim, s);
}

int mlx_tril(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s) {
  return tril_triu(res, a, k, 0, s);
}

int mlx_triu(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s) {
  return tril_triu(res, a, k, 1, s);
}

/* ---- transform rules ----------------------------------------------------
 * Built from public ops so that they compose. Upstream MLX's Full::vjp
 * multiplies the cotangent by the filled values; that is not the
 * derivative of full(shape, v) in v (d/dv sum(full([3], v)) is 3, not
 * 3v), so we give the derivative: the cotangent summed back to v's shape
 * (full broadcasts v) and cast to v's dtype. */
static int full_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  mlx_array sum = mlx_array_new();
  int rc = mlx_sum_to_shape_(&sum, cots[0], mlx_array_shape(inputs[0]), mlx_array_ndim(inputs[0]), s);
  if (rc == MLX_OK) rc = mlx_astype(&in_cots[0], sum, mlx_array_dtype(inputs[0]), s);
  mlx_array_free(sum);
  return rc;
}

static int full_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const full_input_params* p = params;
  return mlx_full(&out_tans[0], p->shape, p->ndim, tangents[0], p->dtype, s);
}

/* The values with the batch in front and 1s up to the output's rank, so
 * that they broadcast to (B, shape...). */
static int full_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  const full_input_params* p = params;
  int nd = p->ndim, vnd = mlx_array_ndim(inputs[0]) - 1;
  int64_t vshape[nd + 1], shape[nd + 1];
  mlx_array front = mlx_array_new(), v = mlx_array_new();
  int rc = mlx_moveaxis(&front, inputs[0], in_axes[0], 0, s);
  const int64_t* fs = rc == MLX_OK ? mlx_array_shape(front) : NULL;
  for (int i = 0; fs && i <= nd; i++) {
    vshape[i] = i == 0 ? fs[0] : i <= nd - vnd ? 1 : fs[i - (nd - vnd)];
    shape[i] = i == 0 ? fs[0] : p->shape[i - 1];
  }
  if (rc == MLX_OK) rc = mlx_reshape(&v, front, vshape, nd + 1, s);
  if (rc == MLX_OK) rc = mlx_full(&outs[0], shape, nd + 1, v, p->dtype, s);
  mlx_array_free(front), mlx_array_free(v);
  out_axes[0] = 0;
  return rc;
}

/* The same mask applied to the cotangent or tangent. */
static int mask_like(mlx_array* res, const mlx_array x, const void* params, mlx_stream s) {
  const mlx_diag_params_* p = params;
  return p->upper ? mlx_triu(res, x, p->k, s) : mlx_tril(res, x, p->k, s);
}

static int tril_triu_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return mask_like(&in_cots[0], cots[0], params, s);
}

static int tril_triu_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  return mask_like(&out_tans[0], tangents[0], params, s);
}

/* The mask acts on the last two axes: a batch axis among them moves to
 * the front. */
static int tril_triu_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  int ax = in_axes[0];
  if (ax < mlx_array_ndim(inputs[0]) - 2) {
    out_axes[0] = ax;
    return mask_like(&outs[0], inputs[0], params, s);
  }
  mlx_array front = mlx_array_new();
  int rc = mlx_moveaxis(&front, inputs[0], ax, 0, s);
  if (rc == MLX_OK) rc = mask_like(&outs[0], front, params, s);
  mlx_array_free(front);
  out_axes[0] = 0;
  return rc;
}
