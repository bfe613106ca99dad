/* Element types and their promotion rules, exactly as upstream MLX. */
#ifndef MLX_DTYPE_H
#define MLX_DTYPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlx_dtype {
  MLX_BOOL = 0,
  MLX_UINT8,
  MLX_UINT16,
  MLX_UINT32,
  MLX_UINT64,
  MLX_INT8,
  MLX_INT16,
  MLX_INT32,
  MLX_INT64,
  MLX_FLOAT16,
  MLX_FLOAT32,
  MLX_FLOAT64,
  MLX_BFLOAT16,
  MLX_COMPLEX64
} mlx_dtype;

#define MLX_NUM_DTYPES 14

/* Dtype categories as in MLX (mlx.core.floating, ...). */
typedef enum mlx_dtype_category {
  MLX_COMPLEXFLOATING = 0,
  MLX_FLOATING,
  MLX_INEXACT,
  MLX_SIGNEDINTEGER,
  MLX_UNSIGNEDINTEGER,
  MLX_INTEGER,
  MLX_NUMBER,
  MLX_GENERIC
} mlx_dtype_category;

/* Kinds of Ruby/Python scalars for weak-type promotion. */
typedef enum mlx_scalar_kind {
  MLX_SCALAR_BOOL = 0,
  MLX_SCALAR_INT,
  MLX_SCALAR_FLOAT,
  MLX_SCALAR_COMPLEX
} mlx_scalar_kind;

/* Bytes per element (bool is 1 byte). */
size_t mlx_dtype_size(mlx_dtype t);
/* Lower-case name ("float32", "bool"); NULL for an invalid value. */
const char* mlx_dtype_name(mlx_dtype t);
/* Parses a name ("float32", "bool_" and "bool" both accepted). Returns 0 and
 * sets *out on success, MLX_ERROR_ARGUMENT for an unknown name. */
int mlx_dtype_from_name(mlx_dtype* out, const char* name);
/* The result dtype of a binary op on a and b (MLX's promote_types). */
mlx_dtype mlx_dtype_promote(mlx_dtype a, mlx_dtype b);
/* The dtype a weak scalar of the given kind takes next to an array of
 * dtype `other` (an int scalar keeps an int8 array int8; a float scalar
 * makes an int array float32; ...). */
mlx_dtype mlx_dtype_weak_scalar(mlx_scalar_kind kind, mlx_dtype other);
/* The dtype of a strong scalar of the given kind (int -> int32, ...). */
mlx_dtype mlx_dtype_scalar_default(mlx_scalar_kind kind);
/* 1 if t belongs to the category (issubdtype(t, category)), else 0. */
int mlx_dtype_issubdtype(mlx_dtype t, mlx_dtype_category category);
/* Convenience predicates. */
int mlx_dtype_is_floating(mlx_dtype t); /* float16/32/64, bfloat16 */
int mlx_dtype_is_integer(mlx_dtype t);  /* signed or unsigned ints */
int mlx_dtype_is_signed(mlx_dtype t);   /* signed ints and inexact types */
int mlx_dtype_is_complex(mlx_dtype t);
int mlx_dtype_is_inexact(mlx_dtype t); /* floating or complex */

#ifdef __cplusplus
}
#endif
#endif
