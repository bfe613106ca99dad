/* Arrays: lazy, reference-counted, n-dimensional.
 *
 * An mlx_array is a handle to a node of the computation graph. Ops only
 * record nodes; mlx_eval computes them. Each handle made by a _new function
 * or returned by an op through its out-pointer must be released with exactly
 * one mlx_array_free. Inputs to functions are borrowed. */
#ifndef MLX_ARRAY_H
#define MLX_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/dtype.h"
#include "mlx/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlx_array {
  void* ctx;
} mlx_array;

/* An empty handle (ctx == NULL). Freeing it is a no-op. */
mlx_array mlx_array_new(void);
/* Releases the handle; an empty handle is a no-op. Never blocks. */
int mlx_array_free(mlx_array a);
/* Makes *a refer to the same node as src (releasing what *a held). */
int mlx_array_set(mlx_array* a, const mlx_array src);

/* A new evaluated array copying `data` (row-major, dtype elements). ndim 0
 * makes a scalar. Errors: negative dims, overflow, out of memory. */
int mlx_array_new_data(
    mlx_array* res,
    const void* data,
    const int64_t* shape,
    int ndim,
    mlx_dtype dtype);
/* Scalars (0-d arrays) of a given dtype, converting the value. */
int mlx_array_new_bool(mlx_array* res, int v);
int mlx_array_new_int(mlx_array* res, int64_t v, mlx_dtype dtype);
int mlx_array_new_uint(mlx_array* res, uint64_t v, mlx_dtype dtype);
int mlx_array_new_float(mlx_array* res, double v, mlx_dtype dtype);
int mlx_array_new_complex(mlx_array* res, float re, float im);

/* Metadata (valid on any non-empty array, evaluated or not). */
int mlx_array_ndim(const mlx_array a);
const int64_t* mlx_array_shape(const mlx_array a); /* ndim entries */
int64_t mlx_array_dim(const mlx_array a, int axis); /* axis may be < 0 */
int64_t mlx_array_size(const mlx_array a);          /* element count */
mlx_dtype mlx_array_dtype(const mlx_array a);
size_t mlx_array_itemsize(const mlx_array a);
size_t mlx_array_nbytes(const mlx_array a); /* size * itemsize */
/* 1 if the array has been computed (its data can be read). */
int mlx_array_is_evaluated(const mlx_array a);
/* Element strides of an evaluated array (NULL if not evaluated). */
const int64_t* mlx_array_strides(const mlx_array a);
/* 1 if two handles refer to the same node. */
int mlx_array_is_same(const mlx_array a, const mlx_array b);
/* The device whose stream computes the array (or computed it). */
mlx_device mlx_array_device(const mlx_array a);
/* Bytes of the buffer behind the array (0 if not evaluated). */
size_t mlx_array_buffer_nbytes(const mlx_array a);
/* Bytes of host memory the array's buffer holds (0 if not evaluated, and
 * 0 for a buffer whose home is a GPU: its host copy is made only when
 * the host reads it): what a binding reports to its garbage collector. */
size_t mlx_array_host_nbytes(const mlx_array a);

/* Evaluates a (if needed) and returns a pointer to its first element
 * through *data. The layout is given by mlx_array_strides; call
 * mlx_contiguous first for row-major data. The pointer lives as long as
 * the array. */
int mlx_array_data(const void** data, const mlx_array a);
/* Evaluates a and copies its elements, row-major, into dst (nbytes). */
int mlx_array_copy_to(void* dst, size_t nbytes, const mlx_array a);
/* Evaluates a size-1 array and converts its value. Errors if size != 1. */
int mlx_array_item_bool(int* res, const mlx_array a);
int mlx_array_item_int64(int64_t* res, const mlx_array a);
int mlx_array_item_uint64(uint64_t* res, const mlx_array a);
int mlx_array_item_float64(double* res, const mlx_array a);
int mlx_array_item_complex(float* re, float* im, const mlx_array a);

/* Computes the arrays (and everything they depend on). Safe to call from
 * several threads at once. After evaluation the graph behind the arrays is
 * released, so it does not pin memory. */
int mlx_eval(const mlx_array* arrays, size_t n);
/* Queues the arrays for evaluation on a worker thread and returns at once.
 * Reading them later waits for the work. */
int mlx_async_eval(const mlx_array* arrays, size_t n);
/* mlx_eval that stops between ops, failing with MLX_ERROR_INTERRUPTED,
 * once *cancel becomes non-zero (set it from another thread or a signal
 * handler; a binding's unblocking function does). The arrays stay
 * unevaluated and can be evaluated again. */
int mlx_eval_cancellable(const mlx_array* arrays, size_t n, const volatile int* cancel);

#ifdef __cplusplus
}
#endif
#endif
