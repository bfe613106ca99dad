/* Dtype sizes, names and MLX's promotion table. */
#include <string.h>

#include "internal.h"

static const size_t sizes[MLX_NUM_DTYPES] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 2, 8};
static const char* const names[MLX_NUM_DTYPES] = {
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
    "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"};

size_t mlx_dtype_size(mlx_dtype t) {
  return (unsigned)t < MLX_NUM_DTYPES ? sizes[t] : 0;
}

const char* mlx_dtype_name(mlx_dtype t) {
  return (unsigned)t < MLX_NUM_DTYPES ? names[t] : NULL;
}

int mlx_dtype_from_name(mlx_dtype* out, const char* name) {
  if (name == NULL) return mlx_error_(MLX_ERROR_ARGUMENT, "[dtype] missing name");
  if (strcmp(name, "bool_") == 0) {
    *out = MLX_BOOL;
    return MLX_OK;
  }
  for (int i = 0; i < MLX_NUM_DTYPES; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (mlx_dtype)i;
      return MLX_OK;
    }
  }
  return mlx_error_(MLX_ERROR_ARGUMENT, "[dtype] unknown dtype '%s'", name);
}

/* Generated from Python MLX 0.32 (mx.zeros(1, a) + mx.zeros(1, b)).dtype. */
#define B MLX_BOOL
#define U8 MLX_UINT8
#define U16 MLX_UINT16
#define U32 MLX_UINT32
#define U64 MLX_UINT64
#define I8 MLX_INT8
#define I16 MLX_INT16
#define I32 MLX_INT32
#define I64 MLX_INT64
#define F16 MLX_FLOAT16
#define F32 MLX_FLOAT32
#define F64 MLX_FLOAT64
#define BF MLX_BFLOAT16
#define C64 MLX_COMPLEX64
static const mlx_dtype promote[MLX_NUM_DTYPES][MLX_NUM_DTYPES] = {
    /*        bool U8   U16  U32  U64  I8   I16  I32  I64  F16  F32  F64  BF16 C64 */
    /*bool*/ {B, U8, U16, U32, U64, I8, I16, I32, I64, F16, F32, F64, BF, C64},
    /*u8  */ {U8, U8, U16, U32, U64, I16, I16, I32, I64, F16, F32, F64, BF, C64},
    /*u16 */ {U16, U16, U16, U32, U64, I32, I32, I32, I64, F16, F32, F64, BF, C64},
    /*u32 */ {U32, U32, U32, U32, U64, I64, I64, I64, I64, F16, F32, F64, BF, C64},
    /*u64 */ {U64, U64, U64, U64, U64, F32, F32, F32, F32, F16, F32, F64, BF, C64},
    /*i8  */ {I8, I16, I32, I64, F32, I8, I16, I32, I64, F16, F32, F64, BF, C64},
    /*i16 */ {I16, I16, I32, I64, F32, I16, I16, I32, I64, F16, F32, F64, BF, C64},
    /*i32 */ {I32, I32, I32, I64, F32, I32, I32, I32, I64, F16, F32, F64, BF, C64},
    /*i64 */ {I64, I64, I64, I64, F32, I64, I64, I64, I64, F16, F32, F64, BF, C64},
    /*f16 */ {F16, F16, F16, F16, F16, F16, F16, F16, F16, F16, F32, F64, F32, C64},
    /*f32 */ {F32, F32, F32, F32, F32, F32, F32, F32, F32, F32, F32, F64, F32, C64},
    /*f64 */ {F64, F64, F64, F64, F64, F64, F64, F64, F64, F64, F64, F64, F64, C64},
    /*bf16*/ {BF, BF, BF, BF, BF, BF, BF, BF, BF, F32, F32, F64, BF, C64},
    /*c64 */ {C64, C64, C64, C64, C64, C64, C64, C64, C64, C64, C64, C64, C64, C64},
};

mlx_dtype mlx_dtype_promote(mlx_dtype a, mlx_dtype b) {
  return promote[a][b];
}

int mlx_dtype_is_floating(mlx_dtype t) {
  return t == F16 || t == F32 || t == F64 || t == BF;
}
int mlx_dtype_is_complex(mlx_dtype t) {
  return t == C64;
}
int mlx_dtype_is_inexact(mlx_dtype t) {
  return mlx_dtype_is_floating(t) || t == C64;
}
int mlx_dtype_is_integer(mlx_dtype t) {
  return t >= U8 && t <= I64;
}
int mlx_dtype_is_signed(mlx_dtype t) {
  return (t >= I8 && t <= I64) || mlx_dtype_is_inexact(t);
}

mlx_dtype mlx_dtype_weak_scalar(mlx_scalar_kind kind, mlx_dtype other) {
  switch (kind) {
    case MLX_SCALAR_BOOL:
      return other;
    case MLX_SCALAR_INT:
      return other == B ? I32 : other;
    case MLX_SCALAR_FLOAT:
      return mlx_dtype_is_inexact(other) ? other : F32;
    default:
      return C64;
  }
}

mlx_dtype mlx_dtype_scalar_default(mlx_scalar_kind kind) {
  static const mlx_dtype d[4] = {B, I32, F32, C64};
  return d[kind & 3];
}

int mlx_dtype_issubdtype(mlx_dtype t, mlx_dtype_category c) {
  switch (c) {
    case MLX_COMPLEXFLOATING:
      return t == C64;
    case MLX_FLOATING:
      return mlx_dtype_is_floating(t);
    case MLX_INEXACT:
      return mlx_dtype_is_inexact(t);
    case MLX_SIGNEDINTEGER:
      return t >= I8 && t <= I64;
    case MLX_UNSIGNEDINTEGER:
      return t >= U8 && t <= U64;
    case MLX_INTEGER:
      return mlx_dtype_is_integer(t);
    case MLX_NUMBER:
      return t != B;
    case MLX_GENERIC:
      return 1;
  }
  return 0;
}
