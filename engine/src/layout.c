/* Shapes, strides and contiguity: helpers shared by ops and kernels. */
#include <stdio.h>

#include "internal.h"

int mlx_shape_size_(int64_t* size, const int64_t* shape, int ndim, const char* op) {
  int64_t s = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] negative dimension %lld in shape", op, (long long)shape[i]);
    if (shape[i] != 0 && s > INT64_MAX / shape[i])
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] shape too large (element count overflows)", op);
    s *= shape[i];
  }
  *size = s;
  return MLX_OK;
}

int mlx_normalize_axis_(int* axis, int ndim, const char* op) {
  int a = *axis;
  if (a < -ndim || a >= ndim)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] axis %d is out of bounds for array with %d dimensions", op, a, ndim);
  *axis = a < 0 ? a + ndim : a;
  return MLX_OK;
}

int mlx_broadcast_shape_(int64_t* out, int* out_ndim, const int64_t* a, int andim, const int64_t* b, int bndim, const char* op) {
  int nd = andim > bndim ? andim : bndim;
  int64_t tmp[nd > 0 ? nd : 1];
  for (int i = 0; i < nd; i++) {
    int ia = andim - nd + i, ib = bndim - nd + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da == db || db == 1) tmp[i] = da;
    else if (da == 1) tmp[i] = db;
    else {
      char sa[256], sb[256];
      int pa = 0, pb = 0;
      sa[0] = sb[0] = '\0';
      for (int k = 0; k < andim && pa < 200; k++) pa += snprintf(sa + pa, sizeof sa - (size_t)pa, k ? ",%lld" : "%lld", (long long)a[k]);
      for (int k = 0; k < bndim && pb < 200; k++) pb += snprintf(sb + pb, sizeof sb - (size_t)pb, k ? ",%lld" : "%lld", (long long)b[k]);
      return mlx_error_(MLX_ERROR_SHAPE, "[%s] shapes (%s) and (%s) cannot be broadcast", op, sa, sb);
    }
  }
  for (int i = 0; i < nd; i++) out[i] = tmp[i];
  *out_ndim = nd;
  return MLX_OK;
}

int mlx_broadcast_shapes(int64_t* out, int* out_ndim, const int64_t* a, int andim, const int64_t* b, int bndim) {
  return mlx_broadcast_shape_(out, out_ndim, a, andim, b, bndim, "broadcast_shapes");
}

void mlx_row_strides_(int64_t* strides, const int64_t* shape, int ndim) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
}

unsigned mlx_layout_flags_(const int64_t* shape, const int64_t* strides, int ndim, int64_t* data_size) {
  int64_t size = 1, span = 1;
  int row = 1, col = 1;
  int64_t expect = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    size *= shape[i];
    if (shape[i] != 1 && strides[i] != expect) row = 0;
    expect *= shape[i];
  }
  expect = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] != 1 && strides[i] != expect) col = 0;
    expect *= shape[i];
  }
  /* Elements spanned: 1 + sum (shape-1)*|stride| for a non-empty array. */
  if (size == 0) span = 0;
  else
    for (int i = 0; i < ndim; i++) span += (shape[i] - 1) * (strides[i] < 0 ? -strides[i] : strides[i]);
  *data_size = span;
  /* Dense in some order: the non-unit dims, sorted by stride, tile the
   * span exactly. span == size alone is not enough: a broadcast dim next
   * to a gap (shape (2,2), strides (0,3)) spans 4 elements too. Zero and
   * negative strides never count as dense: kernels read data_size
   * elements forward from the data pointer. */
  int dense = 1;
  if (size > 0) {
    /* A non-empty array has at most 63 dims of size >= 2. */
    int nz = 0;
    int64_t ds[64], dn[64];
    for (int i = 0; i < ndim && dense; i++) {
      if (shape[i] == 1) continue;
      if (strides[i] <= 0) dense = 0;
      int k = nz++;
      while (k > 0 && ds[k - 1] > strides[i]) {
        ds[k] = ds[k - 1];
        dn[k] = dn[k - 1];
        k--;
      }
      ds[k] = strides[i];
      dn[k] = shape[i];
    }
    int64_t want = 1;
    for (int k = 0; k < nz && dense; k++) {
      if (ds[k] != want) dense = 0;
      want *= dn[k];
    }
  }
  unsigned f = 0;
  if (row) f |= MLX_FLAG_ROW_CONTIG;
  if (col) f |= MLX_FLAG_COL_CONTIG;
  if (dense) f |= MLX_FLAG_CONTIG;
  return f;
}

int mlx_node_alloc_(mlx_node_* out) {
  size_t item = mlx_dtype_size(out->dtype);
  if ((uint64_t)out->size > SIZE_MAX / item)
    return mlx_error_(MLX_ERROR_MEMORY, "[malloc] an array of %lld elements of %zu bytes is too large",
                      (long long)out->size, item);
  size_t nbytes = (size_t)out->size * item;
  mlx_buffer_* b = mlx_buffer_alloc_(nbytes);
  if (!b) return mlx_last_error_code();
  if (out->buf) mlx_buffer_release_(out->buf);
  out->buf = b;
  out->offset = 0;
  mlx_row_strides_(out->strides, out->shape, out->ndim);
  out->data_size = out->size;
  out->flags = MLX_FLAG_ROW_CONTIG | MLX_FLAG_CONTIG | (out->ndim <= 1 ? MLX_FLAG_COL_CONTIG : 0);
  if (out->ndim > 1) {
    int64_t ds;
    out->flags = mlx_layout_flags_(out->shape, out->strides, out->ndim, &ds);
  }
  return MLX_OK;
}

void mlx_node_set_view_(mlx_node_* out, const mlx_node_* in, int64_t offset, const int64_t* strides) {
  mlx_buffer_retain_(in->buf);
  if (out->buf) mlx_buffer_release_(out->buf);
  out->buf = in->buf;
  out->offset = offset;
  if (out->ndim) memcpy(out->strides, strides, sizeof(int64_t) * (size_t)out->ndim);
  out->flags = mlx_layout_flags_(out->shape, out->strides, out->ndim, &out->data_size);
}

int mlx_node_donate_or_alloc_(mlx_node_* out, mlx_node_* in, int* donated) {
  *donated = 0;
  if (in->buf && !mlx_keeps_graph_(in) && atomic_load(&in->refcount) == 1 && atomic_load(&in->buf->refcount) == 1 &&
      (in->flags & MLX_FLAG_ROW_CONTIG) && in->size == out->size && in->offset == 0 &&
      mlx_dtype_size(in->dtype) == mlx_dtype_size(out->dtype) && in->buf->device.type == MLX_CPU) {
#ifdef MLX_HAVE_CUDA
    mlx_cuda_host_written_(in->buf); /* the CPU kernel overwrites it: a device copy goes stale */
#endif
    mlx_buffer_retain_(in->buf);
    if (out->buf) mlx_buffer_release_(out->buf);
    out->buf = in->buf;
    out->offset = 0;
    mlx_row_strides_(out->strides, out->shape, out->ndim);
    out->flags = mlx_layout_flags_(out->shape, out->strides, out->ndim, &out->data_size);
    *donated = 1;
    return MLX_OK;
  }
  return mlx_node_alloc_(out);
}
