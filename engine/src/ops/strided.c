/* Views with arbitrary layouts: as_strided, view (reinterpreting bytes as
 * another dtype), diagonal, and the composites diag and trace built on
 * them. Inputs are made row-contiguous first (as upstream flattens them),
 * so the strides a caller gives address the row-major order of the data. */
#include "../cpu/strided.h"
#include "../internal.h"

static int as_strided_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s);
static int as_strided_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s);
static int as_strided_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s);
static int as_strided_grad_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                               const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                               mlx_stream s);
static int view_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s);
static int diagonal_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int diagonal_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s);
static int diagonal_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s);

static const mlx_prim_ prim_as_strided = {.name = "as_strided",
                                          .cpu = mlx_cpu_as_strided_,
                                          .gpu = MLX_GPU_KERNEL_(mlx_cpu_as_strided_),
                                          .vjp = as_strided_vjp,
                                          .jvp = as_strided_jvp,
                                          .vmap = as_strided_vmap};
MLX_REGISTER_PRIM(prim_as_strided);
/* The adjoint of as_strided: scatters (adds) a cotangent of the strided
 * shape back into the flat input. */
static const mlx_prim_ prim_as_strided_grad = {
    .name = "as_strided_grad", .cpu = mlx_cpu_as_strided_grad_, .vjp = as_strided_grad_vjp};
MLX_REGISTER_PRIM(prim_as_strided_grad);
/* Reinterpreting bits is not differentiable (as upstream). */
static const mlx_prim_ prim_view = {
    .name = "view", .cpu = mlx_cpu_view_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_view_), .vmap = view_vmap};
MLX_REGISTER_PRIM(prim_view);
static const mlx_prim_ prim_diagonal = {.name = "diagonal",
                                        .cpu = mlx_cpu_diagonal_,
                                        .gpu = MLX_GPU_KERNEL_(mlx_cpu_diagonal_),
                                        .vjp = diagonal_vjp,
                                        .jvp = diagonal_jvp,
                                        .vmap = diagonal_vmap};
MLX_REGISTER_PRIM(prim_diagonal);

/* ---- as_strided --------------------------------------------------------- */

/* Checks that every element the layout reaches lies in [0, size). */
static int check_strided_bounds(const int64_t* shape, const int64_t* strides, int ndim, int64_t offset,
                                int64_t size) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[as_strided] negative dimension %lld", (long long)shape[i]);
    n *= shape[i] > 0 ? 1 : 0;
  }
  if (n == 0) return MLX_OK;
  /* |stride| * (dim - 1) with overflow checks, as lowest/highest reach. */
  __int128 lo = offset, hi = offset;
  for (int i = 0; i < ndim; i++) {
    __int128 reach = (__int128)strides[i] * (shape[i] - 1);
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || hi >= size)
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[as_strided] the shape, strides and offset reach elements outside the array of %lld elements",
                      (long long)size);
  return MLX_OK;
}

static int as_strided_record(mlx_array* res, const mlx_array a, const int64_t* shape, const int64_t* strides, int ndim,
                             int64_t offset, mlx_stream s) {
  mlx_node_* in = MLX_NODE(a);
  MLX_TRY(check_strided_bounds(shape, strides, ndim, offset, in->size));
  int64_t size;
  MLX_TRY(mlx_shape_size_(&size, shape, ndim, "as_strided"));
  int64_t p[2 + 2 * ndim];
  mlx_as_strided_params_pack_(p, shape, strides, ndim, offset);
  mlx_array c = mlx_array_new();
  int rc = mlx_contiguous(&c, a, 0, s);
  if (rc == MLX_OK) {
    mlx_node_* cn = MLX_NODE(c);
    rc = mlx_op1_(res, &prim_as_strided, p, sizeof p, &cn, 1, in->dtype, shape, ndim, s);
  }
  mlx_array_free(c);
  return rc;
}

int mlx_as_strided(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const int64_t* strides,
                   size_t nstrides, int64_t offset, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "as_strided"));
  if (ndim < 0 || (ndim > 0 && (!shape || !strides)))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[as_strided] invalid shape");
  if ((size_t)ndim != nstrides)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[as_strided] got %d dimensions but %zu strides", ndim, nstrides);
  return as_strided_record(res, a, shape, strides, ndim, offset, s);
}

static int as_strided_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s) {
  const int64_t* p = params;
  int nd = (int)p[0];
  return as_strided_record(&out_tans[0], tangents[0], p + 2, p + 2 + nd, nd, p[1], s);
}

/* The flat input's cotangent: every strided element adds its cotangent
 * to the input element it read (overlapping windows accumulate). */
static int as_strided_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                          mlx_stream s) {
  const mlx_node_* in = MLX_NODE(inputs[0]);
  const int64_t* p = params;
  int nd = (int)p[0];
  int64_t q[3 + 2 * nd];
  memcpy(q, p, sizeof(int64_t) * (size_t)(2 + 2 * nd));
  q[2 + 2 * nd] = in->size;
  mlx_array c = mlx_array_new(), flat = mlx_array_new();
  int rc = mlx_contiguous(&c, cots[0], 0, s);
  if (rc == MLX_OK) {
    mlx_node_* cn = MLX_NODE(c);
    int64_t n = in->size;
    rc = mlx_op1_(&flat, &prim_as_strided_grad, q, sizeof q, &cn, 1, cn->dtype, &n, 1, s);
  }
  if (rc == MLX_OK) rc = mlx_reshape(&in_cots[0], flat, in->shape, in->ndim, s);
  mlx_array_free(c);
  mlx_array_free(flat);
  return rc;
}

/* as_strided_grad is linear; its adjoint reads the strided layout again. */
static int as_strided_grad_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                               const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                               mlx_stream s) {
  const int64_t* p = params;
  int nd = (int)p[0];
  return as_strided_record(&in_cots[0], cots[0], p + 2, p + 2 + nd, nd, p[1], s);
}

/* With the batch axis moved to the front and the input made contiguous,
 * each batch element is a contiguous block of the unbatched size: one
 * more leading dim whose stride is that size. */
static int as_strided_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int nd = (int)p[0];
  const mlx_node_* in = MLX_NODE(inputs[0]);
  int64_t b = in->shape[in_axes[0]];
  int64_t per = b ? in->size / b : 0;
  int64_t shape[nd + 1], strides[nd + 1];
  shape[0] = b;
  strides[0] = per;
  memcpy(shape + 1, p + 2, sizeof(int64_t) * (size_t)nd);
  memcpy(strides + 1, p + 2 + nd, sizeof(int64_t) * (size_t)nd);
  mlx_array front = mlx_array_new();
  int rc = mlx_moveaxis(&front, inputs[0], in_axes[0], 0, s);
  if (rc == MLX_OK) rc = as_strided_record(&outs[0], front, shape, strides, nd + 1, p[1], s);
  mlx_array_free(front);
  out_axes[0] = 0;
  return rc;
}

/* ---- view --------------------------------------------------------------- */

static int view_shape(int64_t* shape, const mlx_node_* in, mlx_dtype dtype) {
  size_t isz = mlx_dtype_size(in->dtype), osz = mlx_dtype_size(dtype);
  if (in->ndim) memcpy(shape, in->shape, sizeof(int64_t) * (size_t)in->ndim);
  if (isz == osz) return MLX_OK;
  if (in->ndim == 0)
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[view] Changing the type of a scalar is only allowed for types with the same size.");
  int64_t last = in->shape[in->ndim - 1];
  if (isz < osz) {
    if ((last * (int64_t)isz) % (int64_t)osz != 0)
      return mlx_error_(MLX_ERROR_ARGUMENT,
                        "[view] When viewing as a larger dtype, the size in bytes of the last axis must be a "
                        "multiple of the requested type size.");
    shape[in->ndim - 1] = last * (int64_t)isz / (int64_t)osz;
  } else {
    shape[in->ndim - 1] = last * (int64_t)(isz / osz);
  }
  return MLX_OK;
}

int mlx_view(mlx_array* res, const mlx_array a, mlx_dtype dtype, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "view"));
  if (!mlx_dtype_name(dtype)) return mlx_error_(MLX_ERROR_DTYPE, "[view] invalid dtype");
  mlx_node_* in = MLX_NODE(a);
  int64_t shape[in->ndim > 0 ? in->ndim : 1];
  MLX_TRY(view_shape(shape, in, dtype));
  if (dtype == in->dtype) {
    mlx_set_result_(res, in);
    mlx_node_retain_(in);
    return MLX_OK;
  }
  mlx_array c = mlx_array_new();
  int rc = mlx_contiguous(&c, a, 0, s);
  if (rc == MLX_OK) {
    mlx_node_* cn = MLX_NODE(c);
    int32_t d = (int32_t)dtype;
    rc = mlx_op1_(res, &prim_view, &d, sizeof d, &cn, 1, dtype, shape, in->ndim, s);
  }
  mlx_array_free(c);
  return rc;
}

/* The last axis changes size, so the batch axis goes to the front (an
 * unbatched scalar stays a scalar and keeps upstream's error). */
static int view_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  const int32_t* d = params;
  const mlx_node_* in = MLX_NODE(inputs[0]);
  if (in->ndim == 1 && mlx_dtype_size(in->dtype) != mlx_dtype_size((mlx_dtype)*d))
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[view] Changing the type of a scalar is only allowed for types with the same size.");
  mlx_array front = mlx_array_new();
  int rc = mlx_moveaxis(&front, inputs[0], in_axes[0], 0, s);
  if (rc == MLX_OK) rc = mlx_view(&outs[0], front, (mlx_dtype)*d, s);
  mlx_array_free(front);
  out_axes[0] = 0;
  return rc;
}

/* ---- diagonal ----------------------------------------------------------- */

static int diagonal_record(mlx_array* res, const mlx_array a, int64_t offset, int axis1, int axis2, mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "diagonal"));
  mlx_node_* in = MLX_NODE(a);
  int nd = in->ndim;
  if (nd < 2)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[diagonal] Array must have at least two dimensions, but got %d dimensions.",
                      nd);
  int ax1 = axis1 < 0 ? axis1 + nd : axis1, ax2 = axis2 < 0 ? axis2 + nd : axis2;
  if (ax1 < 0 || ax1 >= nd)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[diagonal] Invalid axis1 %d for array with %d dimensions.", axis1, nd);
  if (ax2 < 0 || ax2 >= nd)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[diagonal] Invalid axis2 %d for array with %d dimensions.", axis2, nd);
  if (ax1 == ax2) return mlx_error_(MLX_ERROR_ARGUMENT, "[diagonal] axis1 and axis2 cannot be the same axis");
  int64_t shape[nd - 1];
  for (int i = 0, k = 0; i < nd; i++)
    if (i != ax1 && i != ax2) shape[k++] = in->shape[i];
  shape[nd - 2] = mlx_diagonal_length_(in->shape[ax1], in->shape[ax2], offset);
  int64_t p[3] = {offset, ax1, ax2};
  return mlx_op1_(res, &prim_diagonal, p, sizeof p, &in, 1, in->dtype, shape, nd - 1, s);
}

int mlx_diagonal(mlx_array* res, const mlx_array a, int64_t offset, int axis1, int axis2, const mlx_stream s) {
  return diagonal_record(res, a, offset, axis1, axis2, s);
}

static int diagonal_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s) {
  const int64_t* p = params;
  return diagonal_record(&out_tans[0], tangents[0], p[0], (int)p[1], (int)p[2], s);
}

/* Places a cotangent of shape [..., L] on the diagonal of zeros shaped
 * like the input: where(eye mask, cot spread along the other axis, 0). */
static int diagonal_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const int64_t* p = params;
  const mlx_node_* in = MLX_NODE(inputs[0]);
  int nd = in->ndim, ax1 = (int)p[1], ax2 = (int)p[2];
  int64_t off = p[0], n1 = in->shape[ax1], n2 = in->shape[ax2];
  /* The cotangent's last axis runs along rows (offset >= 0) or columns. */
  int along_rows = off >= 0;
  int64_t n = along_rows ? n1 : n2;
  int64_t len = mlx_array_dim(cots[0], nd - 2);
  mlx_array padded = mlx_array_new(), spread = mlx_array_new(), mask = mlx_array_new(), zero = mlx_array_new(),
            placed = mlx_array_new();
  int last = nd - 2, rc;
  int64_t lo = 0, hi = n - len;
  mlx_array pad_value = mlx_array_new();
  rc = mlx_array_new_float(&pad_value, 0.0, in->dtype);
  if (rc == MLX_OK) rc = mlx_pad(&padded, cots[0], &last, &lo, &hi, 1, pad_value, "constant", s);
  /* [..., n1, 1] or [..., 1, n2]. */
  int new_axis = along_rows ? nd - 1 : nd - 2;
  if (rc == MLX_OK) rc = mlx_expand_dims(&spread, padded, &new_axis, 1, s);
  if (rc == MLX_OK) rc = mlx_eye(&mask, n1, n2, off, MLX_BOOL, s);
  if (rc == MLX_OK) rc = mlx_array_new_float(&zero, 0.0, in->dtype);
  if (rc == MLX_OK) rc = mlx_where(&placed, mask, spread, zero, s);
  /* placed is [...rest, n1, n2]; move the two axes back to ax1, ax2. */
  if (rc == MLX_OK) {
    int perm[nd];
    for (int i = 0, k = 0; i < nd; i++) {
      if (i == ax1) perm[i] = nd - 2;
      else if (i == ax2) perm[i] = nd - 1;
      else perm[i] = k++;
    }
    rc = mlx_transpose(&in_cots[0], placed, perm, (size_t)nd, s);
  }
  mlx_array_free(pad_value);
  mlx_array_free(padded);
  mlx_array_free(spread);
  mlx_array_free(mask);
  mlx_array_free(zero);
  mlx_array_free(placed);
  return rc;
}

/* The two diagonal axes shift past the batch axis; the batch axis keeps
 * its place among the remaining axes. */
static int diagonal_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s) {
  const int64_t* p = params;
  int b = in_axes[0];
  int ax1 = (int)p[1], ax2 = (int)p[2];
  ax1 += ax1 >= b;
  ax2 += ax2 >= b;
  out_axes[0] = b - (ax1 < b) - (ax2 < b);
  return diagonal_record(&outs[0], inputs[0], p[0], ax1, ax2, s);
}

/* ---- diag and trace ----------------------------------------------------- */

/* A 1-D array on the k-th diagonal of a square matrix of zeros. */
static int diag_from_vector(mlx_array* res, const mlx_array v, int64_t k, mlx_stream s) {
  const mlx_node_* in = MLX_NODE(v);
  int64_t n = in->shape[0], m = n + (k < 0 ? -k : k);
  int64_t lo = 0, hi = m - n;
  int axis = 0, new_axis = k >= 0 ? 1 : 0;
  mlx_array pad_value = mlx_array_new(), padded = mlx_array_new(), spread = mlx_array_new(), mask = mlx_array_new(),
            zero = mlx_array_new();
  int rc = mlx_array_new_float(&pad_value, 0.0, in->dtype);
  if (rc == MLX_OK) rc = mlx_pad(&padded, v, &axis, &lo, &hi, 1, pad_value, "constant", s);
  if (rc == MLX_OK) rc = mlx_expand_dims(&spread, padded, &new_axis, 1, s);
  if (rc == MLX_OK) rc = mlx_eye(&mask, m, m, k, MLX_BOOL, s);
  if (rc == MLX_OK) rc = mlx_array_new_float(&zero, 0.0, in->dtype);
  if (rc == MLX_OK) rc = mlx_where(res, mask, spread, zero, s);
  mlx_array_free(pad_value);
  mlx_array_free(padded);
  mlx_array_free(spread);
  mlx_array_free(mask);
  mlx_array_free(zero);
  return rc;
}

int mlx_diag(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "diag"));
  int nd = MLX_NODE(a)->ndim;
  if (nd == 1) return diag_from_vector(res, a, k, s);
  if (nd == 2) return diagonal_record(res, a, k, 0, 1, s);
  return mlx_error_(MLX_ERROR_ARGUMENT, "[diag] array must be 1-D or 2-D, got array with %d dimensions.", nd);
}

int mlx_trace(mlx_array* res, const mlx_array a, int64_t offset, int axis1, int axis2, int has_dtype, mlx_dtype dtype,
              const mlx_stream s) {
  mlx_array d = mlx_array_new(), sum = mlx_array_new();
  int last = -1;
  int rc = diagonal_record(&d, a, offset, axis1, axis2, s);
  if (rc == MLX_OK) rc = mlx_sum_axes(has_dtype ? &sum : res, d, &last, 1, 0, s);
  if (rc == MLX_OK && has_dtype) rc = mlx_astype(res, sum, dtype, s);
  mlx_array_free(d);
  mlx_array_free(sum);
  return rc;
}
