/* vjp, jvp and vmap of the unary elementwise ops and of the copy ops
 * (astype, contiguous, stop_gradient), built from public ops so that they
 * compose (grad of grad). The derivative formulas are upstream MLX's: most
 * ops reduce to one factor f'(x), which the jvp multiplies the tangent by
 * and the vjp multiplies the cotangent by (conjugated for complex inputs);
 * ops whose upstream rule divides (log, tan, arctan, ...) keep the
 * division. */
#include <math.h>

#include "../cpu/elementwise.h"
#include "elementwise_rules.h"

static int op_of(const void* params) {
  return ((const mlx_elem_params_*)params)->op;
}

/* Ops upstream MLX gives a zero derivative (piecewise constant or
 * non-numeric results). */
static int zero_derivative(int op) {
  switch (op) {
    case MLX_UOP_SIGN:
    case MLX_UOP_FLOOR:
    case MLX_UOP_CEIL:
    case MLX_UOP_ROUND:
    case MLX_UOP_LOGICAL_NOT:
    case MLX_UOP_BITWISE_INVERT:
    case MLX_UOP_ISNAN:
    case MLX_UOP_ISINF:
    case MLX_UOP_ISPOSINF:
    case MLX_UOP_ISNEGINF:
    case MLX_UOP_ISFINITE:
      return 1;
    default:
      return 0;
  }
}

/* *res = c * a with c a scalar of a's dtype. */
static int scale(mlx_array* res, double c, const mlx_array a, mlx_stream s) {
  mlx_array k = mlx_array_new();
  int rc = mlx_array_new_float(&k, c, MLX_NODE(a)->dtype);
  if (!rc) rc = mlx_multiply(res, k, a, s);
  mlx_array_free(k);
  return rc;
}

/* *res = c + sign * x^2 (sign +1 or -1) in x's dtype: the 1 +- x^2 that
 * the inverse trigonometric derivatives need. */
static int shifted_square(mlx_array* res, double c, int sign, const mlx_array x, mlx_stream s) {
  mlx_array k = mlx_array_new(), x2 = mlx_array_new();
  int rc = mlx_array_new_float(&k, c, MLX_NODE(x)->dtype);
  if (!rc) rc = mlx_square(&x2, x, s);
  if (!rc) rc = sign > 0 ? mlx_add(res, k, x2, s) : mlx_subtract(res, k, x2, s);
  mlx_array_free(k);
  mlx_array_free(x2);
  return rc;
}

/* The derivative of op at input x (output y) as a factor d: the tangent
 * maps to t * d, or to t / d when *divides is set. Only for ops with a
 * holomorphic (or real) derivative; the others have their own rules. */
static int derivative(mlx_array* d, int* divides, int op, const mlx_array x, const mlx_array y, mlx_stream s) {
  mlx_array a = mlx_array_new();
  int rc = MLX_OK;
  *divides = 0;
  switch (op) {
    case MLX_UOP_SQUARE: /* 2x */
      rc = scale(d, 2.0, x, s);
      break;
    case MLX_UOP_SQRT: /* 1 / (2 sqrt(x)) */
      *divides = 1;
      rc = scale(d, 2.0, y, s);
      break;
    case MLX_UOP_RSQRT: /* -rsqrt(x) / (2x) */
      rc = mlx_divide(&a, y, x, s);
      if (!rc) rc = scale(d, -0.5, a, s);
      break;
    case MLX_UOP_EXP:
      rc = mlx_array_set(d, y);
      break;
    case MLX_UOP_EXPM1: /* exp(x) = y + 1 */
      rc = mlx_array_new_float(&a, 1.0, MLX_NODE(y)->dtype);
      if (!rc) rc = mlx_add(d, y, a, s);
      break;
    case MLX_UOP_LOG:
      *divides = 1;
      rc = mlx_array_set(d, x);
      break;
    case MLX_UOP_LOG1P:
      *divides = 1;
      rc = mlx_array_new_float(&a, 1.0, MLX_NODE(x)->dtype);
      if (!rc) rc = mlx_add(d, a, x, s);
      break;
    case MLX_UOP_LOG2: /* 1 / (x ln 2) */
    case MLX_UOP_LOG10:
      *divides = 1;
      rc = scale(d, log(op == MLX_UOP_LOG2 ? 2.0 : 10.0), x, s);
      break;
    case MLX_UOP_SIN:
      rc = mlx_cos(d, x, s);
      break;
    case MLX_UOP_COS:
      rc = mlx_sin(&a, x, s);
      if (!rc) rc = mlx_negative(d, a, s);
      break;
    case MLX_UOP_TAN: /* 1 / cos^2 */
      *divides = 1;
      rc = mlx_cos(&a, x, s);
      if (!rc) rc = mlx_square(d, a, s);
      break;
    case MLX_UOP_ARCSIN: /* 1 / sqrt(1 - x^2) */
    case MLX_UOP_ARCCOS:
      rc = shifted_square(&a, 1.0, -1, x, s);
      if (!rc) rc = mlx_rsqrt(&a, a, s);
      if (!rc) rc = op == MLX_UOP_ARCSIN ? mlx_array_set(d, a) : mlx_negative(d, a, s);
      break;
    case MLX_UOP_ARCTAN: /* 1 / (1 + x^2) */
      *divides = 1;
      rc = shifted_square(d, 1.0, 1, x, s);
      break;
    case MLX_UOP_SINH:
      rc = mlx_cosh(d, x, s);
      break;
    case MLX_UOP_COSH:
      rc = mlx_sinh(d, x, s);
      break;
    case MLX_UOP_TANH: /* 1 / cosh^2 */
      *divides = 1;
      rc = mlx_cosh(&a, x, s);
      if (!rc) rc = mlx_square(d, a, s);
      break;
    case MLX_UOP_ARCSINH: /* 1 / sqrt(x^2 + 1) */
      rc = shifted_square(&a, 1.0, 1, x, s);
      if (!rc) rc = mlx_rsqrt(d, a, s);
      break;
    case MLX_UOP_ARCCOSH: /* 1 / sqrt(x^2 - 1) */
      rc = shifted_square(&a, -1.0, 1, x, s);
      if (!rc) rc = mlx_rsqrt(d, a, s);
      break;
    case MLX_UOP_ARCTANH: /* 1 / (1 - x^2) */
      *divides = 1;
      rc = shifted_square(d, 1.0, -1, x, s);
      break;
    case MLX_UOP_SIGMOID: /* y (1 - y) */
      rc = mlx_array_new_float(&a, 1.0, MLX_NODE(y)->dtype);
      if (!rc) rc = mlx_subtract(&a, a, y, s);
      if (!rc) rc = mlx_multiply(d, y, a, s);
      break;
    case MLX_UOP_ERF: /* 2/sqrt(pi) exp(-x^2) */
      rc = mlx_square(&a, x, s);
      if (!rc) rc = mlx_negative(&a, a, s);
      if (!rc) rc = mlx_exp(&a, a, s);
      if (!rc) rc = scale(d, M_2_SQRTPI, a, s);
      break;
    case MLX_UOP_ERFINV: /* sqrt(pi)/2 exp(y^2) */
      rc = mlx_square(&a, y, s);
      if (!rc) rc = mlx_exp(&a, a, s);
      if (!rc) rc = scale(d, 1.0 / M_2_SQRTPI, a, s);
      break;
    default:
      rc = mlx_error_(MLX_ERROR_INTERNAL, "[transform] unary op %d has no derivative rule", op);
  }
  mlx_array_free(a);
  return rc;
}

/* *res = v * d or v / d, with d conjugated first when conj is set and d is
 * complex (the vjp side of the complex convention). */
static int apply(mlx_array* res, const mlx_array v, const mlx_array d, int divides, int conj, mlx_stream s) {
  mlx_array c = mlx_array_new();
  int rc = MLX_OK;
  const mlx_array* f = &d;
  if (conj && MLX_NODE(d)->dtype == MLX_COMPLEX64) {
    rc = mlx_conjugate(&c, d, s);
    f = &c;
  }
  if (!rc) rc = divides ? mlx_divide(res, v, *f, s) : mlx_multiply(res, v, *f, s);
  mlx_array_free(c);
  return rc;
}

/* Cotangent or tangent v through a holomorphic op. */
static int through_derivative(mlx_array* res, int op, const mlx_array x, const mlx_array y, const mlx_array v, int conj,
                              mlx_stream s) {
  mlx_array d = mlx_array_new();
  int divides;
  int rc = derivative(&d, &divides, op, x, y, s);
  if (!rc) rc = apply(res, v, d, divides, conj, s);
  mlx_array_free(d);
  return rc;
}

int mlx_unary_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int op = op_of(params);
  if (zero_derivative(op))
    return mlx_vjp_zero_(in_cots, argnums, nargs, inputs, nin, outputs, nout, cots, params, s);
  const mlx_array x = inputs[0], cot = cots[0];
  mlx_array a = mlx_array_new();
  int rc;
  switch (op) {
    case MLX_UOP_NEGATIVE:
      rc = mlx_negative(&in_cots[0], cot, s);
      break;
    case MLX_UOP_CONJUGATE:
      rc = mlx_conjugate(&in_cots[0], cot, s);
      break;
    case MLX_UOP_ABS: /* cot * x/|x|; not holomorphic, so no conjugate */
      rc = mlx_sign(&a, x, s);
      if (!rc) rc = mlx_multiply(&in_cots[0], cot, a, s);
      break;
    case MLX_UOP_REAL: /* the real cotangent as the complex one */
      rc = mlx_astype(&in_cots[0], cot, MLX_NODE(x)->dtype, s);
      break;
    case MLX_UOP_IMAG: /* i * cot; imag of a real array is constant zero */
      if (MLX_NODE(x)->dtype != MLX_COMPLEX64) {
        rc = MLX_OK;
        break;
      }
      rc = mlx_array_new_complex(&a, 0.0f, 1.0f);
      if (!rc) rc = mlx_multiply(&in_cots[0], cot, a, s);
      break;
    default:
      rc = through_derivative(&in_cots[0], op, x, outputs[0], cot, 1, s);
  }
  mlx_array_free(a);
  return rc;
}

int mlx_unary_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  int op = op_of(params);
  if (zero_derivative(op))
    return mlx_jvp_zero_(out_tans, argnums, nargs, inputs, nin, outputs, nout, tangents, params, s);
  const mlx_array x = inputs[0], t = tangents[0];
  mlx_array a = mlx_array_new();
  int rc;
  switch (op) {
    case MLX_UOP_NEGATIVE:
      rc = mlx_negative(&out_tans[0], t, s);
      break;
    case MLX_UOP_CONJUGATE:
      rc = mlx_conjugate(&out_tans[0], t, s);
      break;
    case MLX_UOP_REAL:
      rc = mlx_real(&out_tans[0], t, s);
      break;
    case MLX_UOP_IMAG:
      rc = mlx_imag(&out_tans[0], t, s);
      break;
    case MLX_UOP_ABS: /* real part of t * conj(x/|x|): the change of |x| */
      rc = mlx_sign(&a, x, s);
      if (MLX_NODE(x)->dtype == MLX_COMPLEX64) {
        if (!rc) rc = mlx_conjugate(&a, a, s);
        if (!rc) rc = mlx_multiply(&a, t, a, s);
        if (!rc) rc = mlx_real(&out_tans[0], a, s);
      } else if (!rc) {
        rc = mlx_multiply(&out_tans[0], t, a, s);
      }
      break;
    default:
      rc = through_derivative(&out_tans[0], op, x, outputs[0], t, 0, s);
  }
  mlx_array_free(a);
  return rc;
}

typedef int (*unary_fn)(mlx_array* res, const mlx_array a, const mlx_stream s);

static int round0(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return mlx_round(res, a, 0, s);
}

/* The public op of each op code: applied to a batched input it maps the op
 * over the batch, the batch axis staying where it is. */
static const unary_fn unary_ops[MLX_UOP_COUNT] = {
    [MLX_UOP_ABS] = mlx_abs,
    [MLX_UOP_NEGATIVE] = mlx_negative,
    [MLX_UOP_SIGN] = mlx_sign,
    [MLX_UOP_SQRT] = mlx_sqrt,
    [MLX_UOP_RSQRT] = mlx_rsqrt,
    [MLX_UOP_SQUARE] = mlx_square,
    [MLX_UOP_EXP] = mlx_exp,
    [MLX_UOP_EXPM1] = mlx_expm1,
    [MLX_UOP_LOG] = mlx_log,
    [MLX_UOP_LOG1P] = mlx_log1p,
    [MLX_UOP_LOG2] = mlx_log2,
    [MLX_UOP_LOG10] = mlx_log10,
    [MLX_UOP_SIN] = mlx_sin,
    [MLX_UOP_COS] = mlx_cos,
    [MLX_UOP_TAN] = mlx_tan,
    [MLX_UOP_ARCSIN] = mlx_arcsin,
    [MLX_UOP_ARCCOS] = mlx_arccos,
    [MLX_UOP_ARCTAN] = mlx_arctan,
    [MLX_UOP_SINH] = mlx_sinh,
    [MLX_UOP_COSH] = mlx_cosh,
    [MLX_UOP_TANH] = mlx_tanh,
    [MLX_UOP_ARCSINH] = mlx_arcsinh,
    [MLX_UOP_ARCCOSH] = mlx_arccosh,
    [MLX_UOP_ARCTANH] = mlx_arctanh,
    [MLX_UOP_SIGMOID] = mlx_sigmoid,
    [MLX_UOP_ERF] = mlx_erf,
    [MLX_UOP_ERFINV] = mlx_erfinv,
    [MLX_UOP_FLOOR] = mlx_floor,
    [MLX_UOP_CEIL] = mlx_ceil,
    [MLX_UOP_ROUND] = round0,
    [MLX_UOP_REAL] = mlx_real,
    [MLX_UOP_IMAG] = mlx_imag,
    [MLX_UOP_CONJUGATE] = mlx_conjugate,
    [MLX_UOP_LOGICAL_NOT] = mlx_logical_not,
    [MLX_UOP_BITWISE_INVERT] = mlx_bitwise_invert,
    [MLX_UOP_ISNAN] = mlx_isnan,
    [MLX_UOP_ISINF] = mlx_isinf,
    [MLX_UOP_ISPOSINF] = mlx_isposinf,
    [MLX_UOP_ISNEGINF] = mlx_isneginf,
    [MLX_UOP_ISFINITE] = mlx_isfinite,
};

int mlx_unary_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s) {
  int op = op_of(params);
  unary_fn fn = (unsigned)op < MLX_UOP_COUNT ? unary_ops[op] : NULL;
  if (!fn) return mlx_error_(MLX_ERROR_INTERNAL, "[vmap] unknown unary op %d", op);
  out_axes[0] = in_axes[0];
  return fn(&outs[0], inputs[0], s);
}

/* ---- copy ops ------------------------------------------------------------ */

int mlx_astype_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return mlx_astype(&in_cots[0], cots[0], MLX_NODE(inputs[0])->dtype, s);
}

int mlx_astype_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return mlx_astype(&out_tans[0], tangents[0], *(const mlx_dtype*)params, s);
}

int mlx_astype_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_astype(&outs[0], inputs[0], *(const mlx_dtype*)params, s);
}

int mlx_contiguous_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return mlx_array_set(&in_cots[0], cots[0]);
}

int mlx_contiguous_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s) {
  return mlx_array_set(&out_tans[0], tangents[0]);
}

int mlx_contiguous_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_contiguous(&outs[0], inputs[0], 0, s);
}

/* stop_gradient again, so a vmap nested in a grad still blocks it. */
int mlx_stop_gradient_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                            int nout, const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_stop_gradient(&outs[0], inputs[0], s);
}
