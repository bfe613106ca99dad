/* Creation ops: zeros, ones, full, *_like, arange, linspace, eye,
 * identity, tri, tril, triu. The constructors check arguments and record a
 * node; cpu/create.c fills the buffers. Constants (zeros, ones, ...) take no
 * input node, so a zeros_like does not keep its argument alive. */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "../cpu/create.h"

static const mlx_prim_ prim_full = {.name = "full", .cpu = mlx_cpu_full_};
static const mlx_prim_ prim_arange = {.name = "arange", .cpu = mlx_cpu_arange_};
static const mlx_prim_ prim_linspace = {.name = "linspace", .cpu = mlx_cpu_linspace_};
static const mlx_prim_ prim_eye = {.name = "eye", .cpu = mlx_cpu_eye_};
static const mlx_prim_ prim_tri = {.name = "tri", .cpu = mlx_cpu_tri_};
static const mlx_prim_ prim_tril = {.name = "tril", .cpu = mlx_cpu_tril_triu_};
static const mlx_prim_ prim_triu = {.name = "triu", .cpu = mlx_cpu_tril_triu_};

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
  mlx_full_params_ p = {0.0};
  return mlx_op1_(res, &prim_full, &p, sizeof p, &v, 1, dtype, shape, ndim, s);
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
