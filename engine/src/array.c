/* Array handles: creation from data, metadata, reading values. */
#include <stdlib.h>

#include "cpu/half.h"
#include "internal.h"

mlx_array mlx_array_new(void) {
  mlx_array a = {NULL};
  return a;
}

int mlx_array_free(mlx_array a) {
  mlx_node_release_(MLX_NODE(a));
  return MLX_OK;
}

int mlx_array_set(mlx_array* a, const mlx_array src) {
  if (src.ctx) mlx_node_retain_(MLX_NODE(src));
  mlx_set_result_(a, MLX_NODE(src));
  return MLX_OK;
}

int mlx_array_new_data(mlx_array* res, const void* data, const int64_t* shape, int ndim, mlx_dtype dtype) {
  if ((unsigned)dtype >= MLX_NUM_DTYPES) return mlx_error_(MLX_ERROR_DTYPE, "[array] invalid dtype %d", (int)dtype);
  mlx_node_* n = mlx_node_new_(dtype, shape, ndim);
  if (!n) return mlx_last_error_code();
  size_t item = mlx_dtype_size(dtype);
  if (n->size > 0 && (uint64_t)n->size > SIZE_MAX / item) {
    mlx_node_release_(n);
    return mlx_error_(MLX_ERROR_MEMORY, "[array] array too large");
  }
  if (mlx_node_alloc_(n)) {
    int rc = mlx_last_error_code();
    mlx_node_release_(n);
    return rc;
  }
  if (n->size && data) memcpy(n->buf->data, data, (size_t)n->size * item);
  n->stream = mlx_default_stream_now();
  atomic_store(&n->evaluated, 1);
  mlx_set_result_(res, n);
  return MLX_OK;
}

static int new_scalar(mlx_array* res, const void* v, mlx_dtype src, mlx_dtype dtype) {
  mlx_node_* n = mlx_node_new_(dtype, NULL, 0);
  if (!n) return mlx_last_error_code();
  if (mlx_node_alloc_(n)) {
    int rc = mlx_last_error_code();
    mlx_node_release_(n);
    return rc;
  }
  mlx_copy_cast_(n->buf->data, dtype, v, src, NULL, NULL, 0);
  n->stream = mlx_default_stream_now();
  atomic_store(&n->evaluated, 1);
  mlx_set_result_(res, n);
  return MLX_OK;
}

static int check_dtype(mlx_dtype dtype) {
  if ((unsigned)dtype >= MLX_NUM_DTYPES) return mlx_error_(MLX_ERROR_DTYPE, "[array] invalid dtype %d", (int)dtype);
  return MLX_OK;
}

int mlx_array_new_bool(mlx_array* res, int v) {
  uint8_t b = v != 0;
  return new_scalar(res, &b, MLX_BOOL, MLX_BOOL);
}

int mlx_array_new_int(mlx_array* res, int64_t v, mlx_dtype dtype) {
  MLX_TRY(check_dtype(dtype));
  return new_scalar(res, &v, MLX_INT64, dtype);
}

int mlx_array_new_uint(mlx_array* res, uint64_t v, mlx_dtype dtype) {
  MLX_TRY(check_dtype(dtype));
  return new_scalar(res, &v, MLX_UINT64, dtype);
}

int mlx_array_new_float(mlx_array* res, double v, mlx_dtype dtype) {
  MLX_TRY(check_dtype(dtype));
  return new_scalar(res, &v, MLX_FLOAT64, dtype);
}

int mlx_array_new_complex(mlx_array* res, float re, float im) {
  mlx_c64 v = re + im * I;
  return new_scalar(res, &v, MLX_COMPLEX64, MLX_COMPLEX64);
}

int mlx_array_ndim(const mlx_array a) {
  return a.ctx ? MLX_NODE(a)->ndim : 0;
}

const int64_t* mlx_array_shape(const mlx_array a) {
  return a.ctx ? MLX_NODE(a)->shape : NULL;
}

int64_t mlx_array_dim(const mlx_array a, int axis) {
  if (!a.ctx) return 0;
  mlx_node_* n = MLX_NODE(a);
  if (axis < 0) axis += n->ndim;
  if (axis < 0 || axis >= n->ndim) return 0;
  return n->shape[axis];
}

int64_t mlx_array_size(const mlx_array a) {
  return a.ctx ? MLX_NODE(a)->size : 0;
}

mlx_dtype mlx_array_dtype(const mlx_array a) {
  return a.ctx ? MLX_NODE(a)->dtype : MLX_FLOAT32;
}

size_t mlx_array_itemsize(const mlx_array a) {
  return mlx_dtype_size(mlx_array_dtype(a));
}

size_t mlx_array_nbytes(const mlx_array a) {
  return (size_t)mlx_array_size(a) * mlx_array_itemsize(a);
}

int mlx_array_is_evaluated(const mlx_array a) {
  return a.ctx && mlx_node_evaluated_(MLX_NODE(a));
}

const int64_t* mlx_array_strides(const mlx_array a) {
  return mlx_array_is_evaluated(a) ? MLX_NODE(a)->strides : NULL;
}

int mlx_array_is_same(const mlx_array a, const mlx_array b) {
  return a.ctx == b.ctx;
}

mlx_device mlx_array_device(const mlx_array a) {
  return MLX_NODE(a)->stream.device;
}

size_t mlx_array_buffer_nbytes(const mlx_array a) {
  if (!mlx_array_is_evaluated(a)) return 0;
  mlx_buffer_* b = MLX_NODE(a)->buf;
  return b ? b->capacity : 0;
}

size_t mlx_array_host_nbytes(const mlx_array a) {
  if (!mlx_array_is_evaluated(a)) return 0;
  mlx_buffer_* b = MLX_NODE(a)->buf;
  return b && b->device.type == MLX_CPU ? b->capacity : 0;
}

int mlx_array_data(const void** data, const mlx_array a) {
  MLX_TRY(mlx_check_array_(a, "array_data"));
  MLX_TRY(mlx_eval_node_(MLX_NODE(a)));
#ifdef MLX_HAVE_CUDA
  MLX_TRY(mlx_cuda_host_sync_(MLX_NODE(a))); /* the host copy of a GPU result */
#endif
  *data = MLX_DATA(MLX_NODE(a), char);
  return MLX_OK;
}

int mlx_array_copy_to(void* dst, size_t nbytes, const mlx_array a) {
  MLX_TRY(mlx_check_array_(a, "array_copy_to"));
  mlx_node_* n = MLX_NODE(a);
  if (nbytes < (size_t)n->size * mlx_dtype_size(n->dtype))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[array_copy_to] destination of %zu bytes is too small", nbytes);
  MLX_TRY(mlx_eval_node_(n));
#ifdef MLX_HAVE_CUDA
  MLX_TRY(mlx_cuda_host_sync_(n)); /* the host copy of a GPU result */
#endif
  mlx_node_copy_to_(dst, n->dtype, n);
  return MLX_OK;
}

/* Evaluates a size-1 array and converts its element to `dtype` in out. */
static int item(void* out, mlx_dtype dtype, const mlx_array a) {
  MLX_TRY(mlx_check_array_(a, "item"));
  mlx_node_* n = MLX_NODE(a);
  if (n->size != 1)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[item] only size-1 arrays can be converted to scalars (size is %lld)",
                      (long long)n->size);
  MLX_TRY(mlx_eval_node_(n));
#ifdef MLX_HAVE_CUDA
  MLX_TRY(mlx_cuda_host_sync_(n)); /* the host copy of a GPU result */
#endif
  mlx_copy_cast_(out, dtype, MLX_DATA(n, char), n->dtype, NULL, NULL, 0);
  return MLX_OK;
}

int mlx_array_item_bool(int* res, const mlx_array a) {
  uint8_t v;
  MLX_TRY(item(&v, MLX_BOOL, a));
  *res = v;
  return MLX_OK;
}

int mlx_array_item_int64(int64_t* res, const mlx_array a) {
  return item(res, MLX_INT64, a);
}

int mlx_array_item_uint64(uint64_t* res, const mlx_array a) {
  return item(res, MLX_UINT64, a);
}

int mlx_array_item_float64(double* res, const mlx_array a) {
  return item(res, MLX_FLOAT64, a);
}

int mlx_array_item_complex(float* re, float* im, const mlx_array a) {
  mlx_c64 v;
  MLX_TRY(item(&v, MLX_COMPLEX64, a));
  *re = crealf(v);
  *im = cimagf(v);
  return MLX_OK;
}

const char* mlx_version(void) {
  return MLX_ENGINE_VERSION;
}
