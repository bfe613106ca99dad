/* Unary elementwise ops: output dtypes and rejected dtypes as upstream
 * MLX. Ops that need a float (sqrt, exp, sin, ...) first cast integer and
 * bool inputs to float32 (at_least_float); ops that would not change their
 * input (floor of an integer, abs of an unsigned, real of a real array)
 * return it; reciprocal, degrees, radians and round with decimals are
 * built from other ops as upstream builds them. */
#include <math.h>

#include "../cpu/elementwise.h"
#include "elementwise_rules.h"

/* Records op on a (cast to `in` first when needed) with output dtype out. */
static int unary(mlx_array* res, const mlx_prim_* prim, int op, const mlx_array a, mlx_dtype in, mlx_dtype out,
                 const mlx_stream s) {
  mlx_node_* n = MLX_NODE(a);
  mlx_array cast = mlx_array_new();
  if (n->dtype != in) {
    MLX_TRY(mlx_astype(&cast, a, in, s));
    n = MLX_NODE(cast);
  }
  mlx_elem_params_ p = {op};
  int rc = mlx_op1_(res, prim, &p, sizeof p, &n, 1, out, n->shape, n->ndim, s);
  mlx_array_free(cast);
  return rc;
}

static int unsupported(const char* op, mlx_dtype t) {
  return mlx_error_(MLX_ERROR_DTYPE, "[%s] not supported for %s", op, mlx_dtype_name(t));
}

#define PRIM(NAME)                                                                                 \
  static const mlx_prim_ prim_##NAME = {.name = #NAME, .cpu = mlx_cpu_unary_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_unary_), .vjp = mlx_unary_vjp_, \
                                        .jvp = mlx_unary_jvp_, .vmap = mlx_unary_vmap_,            \
                                        .output_shapes = mlx_elementwise_shapes_}; \
  MLX_REGISTER_PRIM(prim_##NAME)

/* Ops computed in at least float32, same dtype out. COMPLEX: whether
 * upstream accepts complex64. */
#define FLOAT_OP(NAME, OP, COMPLEX)                                              \
  PRIM(NAME)                                                                     \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_stream s) {        \
    MLX_TRY(mlx_check_array_(a, #NAME));                                         \
    mlx_dtype t = mlx_at_least_float_(MLX_NODE(a)->dtype);                       \
    if (!(COMPLEX) && t == MLX_COMPLEX64) return unsupported(#NAME, t);          \
    return unary(res, &prim_##NAME, OP, a, t, t, s);                             \
  }

FLOAT_OP(sqrt, MLX_UOP_SQRT, 1)
FLOAT_OP(rsqrt, MLX_UOP_RSQRT, 1)
FLOAT_OP(exp, MLX_UOP_EXP, 1)
FLOAT_OP(expm1, MLX_UOP_EXPM1, 0)
FLOAT_OP(log, MLX_UOP_LOG, 1)
FLOAT_OP(log1p, MLX_UOP_LOG1P, 1)
FLOAT_OP(log2, MLX_UOP_LOG2, 1)
FLOAT_OP(log10, MLX_UOP_LOG10, 1)
FLOAT_OP(sin, MLX_UOP_SIN, 1)
FLOAT_OP(cos, MLX_UOP_COS, 1)
FLOAT_OP(tan, MLX_UOP_TAN, 1)
FLOAT_OP(arcsin, MLX_UOP_ARCSIN, 1)
FLOAT_OP(arccos, MLX_UOP_ARCCOS, 1)
FLOAT_OP(arctan, MLX_UOP_ARCTAN, 1)
FLOAT_OP(sinh, MLX_UOP_SINH, 1)
FLOAT_OP(cosh, MLX_UOP_COSH, 1)
FLOAT_OP(tanh, MLX_UOP_TANH, 1)
FLOAT_OP(arcsinh, MLX_UOP_ARCSINH, 1)
FLOAT_OP(arccosh, MLX_UOP_ARCCOSH, 1)
FLOAT_OP(arctanh, MLX_UOP_ARCTANH, 1)
FLOAT_OP(sigmoid, MLX_UOP_SIGMOID, 0)
FLOAT_OP(erf, MLX_UOP_ERF, 0)
FLOAT_OP(erfinv, MLX_UOP_ERFINV, 0)

/* Predicates: any dtype in, bool out (integers answer without reading). */
#define PRED_OP(NAME, OP)                                                        \
  PRIM(NAME)                                                                     \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_stream s) {        \
    MLX_TRY(mlx_check_array_(a, #NAME));                                         \
    mlx_dtype t = MLX_NODE(a)->dtype;                                            \
    return unary(res, &prim_##NAME, OP, a, t, MLX_BOOL, s);                      \
  }

PRED_OP(isnan, MLX_UOP_ISNAN)
PRED_OP(isinf, MLX_UOP_ISINF)
PRED_OP(isposinf, MLX_UOP_ISPOSINF)
PRED_OP(isneginf, MLX_UOP_ISNEGINF)
PRED_OP(isfinite, MLX_UOP_ISFINITE)
PRED_OP(logical_not, MLX_UOP_LOGICAL_NOT)

PRIM(abs)
int mlx_abs(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "abs"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  if (t == MLX_BOOL || mlx_dtype_issubdtype(t, MLX_UNSIGNEDINTEGER)) return mlx_array_set(res, a);
  return unary(res, &prim_abs, MLX_UOP_ABS, a, t, t == MLX_COMPLEX64 ? MLX_FLOAT32 : t, s);
}

PRIM(negative)
int mlx_negative(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "negative"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  if (t == MLX_BOOL)
    return mlx_error_(MLX_ERROR_DTYPE, "[negative] not supported for bool, use logical_not instead");
  return unary(res, &prim_negative, MLX_UOP_NEGATIVE, a, t, t, s);
}

PRIM(sign)
int mlx_sign(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "sign"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  if (t == MLX_BOOL) return mlx_array_set(res, a);
  return unary(res, &prim_sign, MLX_UOP_SIGN, a, t, t, s);
}

PRIM(square)
int mlx_square(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "square"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  if (t == MLX_BOOL) return mlx_array_set(res, a); /* x && x */
  return unary(res, &prim_square, MLX_UOP_SQUARE, a, t, t, s);
}

/* floor, ceil, round: identity on integers and bool, as upstream. */
#define ROUNDING_OP(NAME, OP, COMPLEX)                                           \
  PRIM(NAME)                                                                     \
  static int NAME##_op(mlx_array* res, const mlx_array a, const mlx_stream s) {  \
    MLX_TRY(mlx_check_array_(a, #NAME));                                         \
    mlx_dtype t = MLX_NODE(a)->dtype;                                            \
    if (!(COMPLEX) && t == MLX_COMPLEX64) return unsupported(#NAME, t);          \
    if (!mlx_dtype_is_inexact(t)) return mlx_array_set(res, a);                  \
    return unary(res, &prim_##NAME, OP, a, t, t, s);                             \
  }

ROUNDING_OP(floor, MLX_UOP_FLOOR, 0)
ROUNDING_OP(ceil, MLX_UOP_CEIL, 0)
ROUNDING_OP(round, MLX_UOP_ROUND, 1)

int mlx_floor(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return floor_op(res, a, s);
}

int mlx_ceil(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return ceil_op(res, a, s);
}

/* decimals != 0: a * 10^d rounded half to even, times 10^-d, back in a's
 * dtype. As upstream, the scale and its inverse are float32 values (so a
 * float64 round(1.2345, 2) is 1.2299999725...) taken to at_least_float. */
int mlx_round(mlx_array* res, const mlx_array a, int decimals, const mlx_stream s) {
  if (decimals == 0) return round_op(res, a, s);
  MLX_TRY(mlx_check_array_(a, "round"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  mlx_dtype ft = mlx_at_least_float_(t);
  float scale = (float)pow(10.0, decimals);
  float inv = 1.0f / scale;
  mlx_array sa = mlx_array_new(), ia = mlx_array_new(), x = mlx_array_new();
  int rc = mlx_array_new_float(&sa, scale, ft);
  if (!rc) rc = mlx_array_new_float(&ia, inv, ft);
  if (!rc) rc = mlx_multiply(&x, a, sa, s);
  if (!rc) rc = round_op(&x, x, s);
  if (!rc) rc = mlx_multiply(&x, x, ia, s);
  if (!rc) rc = mlx_astype(res, x, t, s);
  mlx_array_free(sa);
  mlx_array_free(ia);
  mlx_array_free(x);
  return rc;
}

/* 1 / a in at_least_float(a). */
int mlx_reciprocal(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "reciprocal"));
  mlx_array one = mlx_array_new();
  MLX_TRY(mlx_array_new_float(&one, 1.0, mlx_at_least_float_(MLX_NODE(a)->dtype)));
  int rc = mlx_divide(res, one, a, s);
  mlx_array_free(one);
  return rc;
}

/* a * factor in at_least_float(a). */
static int scale_by(mlx_array* res, const mlx_array a, double factor, const char* name, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, name));
  mlx_array f = mlx_array_new();
  MLX_TRY(mlx_array_new_float(&f, factor, mlx_at_least_float_(MLX_NODE(a)->dtype)));
  int rc = mlx_multiply(res, a, f, s);
  mlx_array_free(f);
  return rc;
}

int mlx_degrees(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return scale_by(res, a, 180.0 / M_PI, "degrees", s);
}

int mlx_radians(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return scale_by(res, a, M_PI / 180.0, "radians", s);
}

/* real, imag, conjugate: complex64 to float32 (conjugate stays complex);
 * a real array is its own real part and conjugate, and imag gives zeros
 * of its dtype. */
PRIM(real)
int mlx_real(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "real"));
  if (MLX_NODE(a)->dtype != MLX_COMPLEX64) return mlx_array_set(res, a);
  return unary(res, &prim_real, MLX_UOP_REAL, a, MLX_COMPLEX64, MLX_FLOAT32, s);
}

PRIM(imag)
int mlx_imag(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "imag"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  return unary(res, &prim_imag, MLX_UOP_IMAG, a, t, t == MLX_COMPLEX64 ? MLX_FLOAT32 : t, s);
}

PRIM(conjugate)
int mlx_conjugate(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "conjugate"));
  if (MLX_NODE(a)->dtype != MLX_COMPLEX64) return mlx_array_set(res, a);
  return unary(res, &prim_conjugate, MLX_UOP_CONJUGATE, a, MLX_COMPLEX64, MLX_COMPLEX64, s);
}

PRIM(bitwise_invert)
int mlx_bitwise_invert(mlx_array* res, const mlx_array a, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "bitwise_invert"));
  mlx_dtype t = MLX_NODE(a)->dtype;
  if (mlx_dtype_is_inexact(t))
    return mlx_error_(MLX_ERROR_DTYPE, "[bitwise_invert] bitwise inverse only allowed on integer types, not %s",
                      mlx_dtype_name(t));
  return unary(res, &prim_bitwise_invert, MLX_UOP_BITWISE_INVERT, a, t, t, s);
}
