/* Elementwise family internals: op codes shared by the op constructors
 * (ops/unary.c, ops/binary.c) and the CPU kernels (cpu/unary.c,
 * cpu/binary.c), and the float math that must give the same bits as
 * upstream MLX's CPU backend.
 *
 * Upstream computes exp, sin, cos, erf and erfinv with its own polynomials
 * (Cephes-style, in float32 even for float64 inputs), not with libm. We
 * follow the same operations in the same order, with fmaf exactly where
 * upstream uses fma, so results are bit-identical: random normals are
 * sqrt(2) * erfinv(u), and they must match Python MLX for a given seed.
 * exp (and so erf and sigmoid) is written so gcc vectorizes it. */
#ifndef MLX_CPU_ELEMENTWISE_H
#define MLX_CPU_ELEMENTWISE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../internal.h"
#include "half.h"

/* Unary op codes (params of the "unary" kernel). */
typedef enum {
  MLX_UOP_ABS = 0,
  MLX_UOP_NEGATIVE,
  MLX_UOP_SIGN,
  MLX_UOP_SQRT,
  MLX_UOP_RSQRT,
  MLX_UOP_SQUARE,
  MLX_UOP_EXP,
  MLX_UOP_EXPM1,
  MLX_UOP_LOG,
  MLX_UOP_LOG1P,
  MLX_UOP_LOG2,
  MLX_UOP_LOG10,
  MLX_UOP_SIN,
  MLX_UOP_COS,
  MLX_UOP_TAN,
  MLX_UOP_ARCSIN,
  MLX_UOP_ARCCOS,
  MLX_UOP_ARCTAN,
  MLX_UOP_SINH,
  MLX_UOP_COSH,
  MLX_UOP_TANH,
  MLX_UOP_ARCSINH,
  MLX_UOP_ARCCOSH,
  MLX_UOP_ARCTANH,
  MLX_UOP_SIGMOID,
  MLX_UOP_ERF,
  MLX_UOP_ERFINV,
  MLX_UOP_FLOOR,
  MLX_UOP_CEIL,
  MLX_UOP_ROUND,
  MLX_UOP_REAL,
  MLX_UOP_IMAG,
  MLX_UOP_CONJUGATE,
  MLX_UOP_LOGICAL_NOT,
  MLX_UOP_BITWISE_INVERT,
  MLX_UOP_ISNAN,
  MLX_UOP_ISINF,
  MLX_UOP_ISPOSINF,
  MLX_UOP_ISNEGINF,
  MLX_UOP_ISFINITE,
  MLX_UOP_COUNT
} mlx_unary_op_;

/* Binary op codes (params of the "binary" kernel). */
typedef enum {
  MLX_BOP_ADD = 0,
  MLX_BOP_SUBTRACT,
  MLX_BOP_MULTIPLY,
  MLX_BOP_DIVIDE,
  MLX_BOP_POWER,
  MLX_BOP_REMAINDER,
  MLX_BOP_FLOOR_DIVIDE,
  MLX_BOP_MAXIMUM,
  MLX_BOP_MINIMUM,
  MLX_BOP_LOGADDEXP,
  MLX_BOP_ARCTAN2,
  MLX_BOP_EQUAL,
  MLX_BOP_NOT_EQUAL,
  MLX_BOP_GREATER,
  MLX_BOP_GREATER_EQUAL,
  MLX_BOP_LESS,
  MLX_BOP_LESS_EQUAL,
  MLX_BOP_LOGICAL_AND,
  MLX_BOP_LOGICAL_OR,
  MLX_BOP_BITWISE_AND,
  MLX_BOP_BITWISE_OR,
  MLX_BOP_BITWISE_XOR,
  MLX_BOP_LEFT_SHIFT,
  MLX_BOP_RIGHT_SHIFT,
  MLX_BOP_COUNT
} mlx_binary_op_;

/* Params of the unary and binary kernels: which op (an mlx_unary_op_ or
 * mlx_binary_op_). */
typedef struct {
  int op;
} mlx_elem_params_;

/* Kernels. Inputs of a binary op share one dtype (the constructor casts
 * them) and broadcast against each other; the kernel broadcasts with
 * stride 0, so no broadcast nodes are needed. select takes (cond: bool,
 * x, y) with x and y of the output's dtype. */
int mlx_cpu_unary_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_binary_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_select_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

/* The dtype an op that needs a float computes in: inexact dtypes stay,
 * others promote with float32 (MLX's at_least_float). */
static inline mlx_dtype mlx_at_least_float_(mlx_dtype t) {
  return mlx_dtype_is_inexact(t) ? t : mlx_dtype_promote(t, MLX_FLOAT32);
}

/* ---- float16 ---------------------------------------------------------------- */

/* Kernels handle float16 as its bits with these conversions (exact, and
 * round to nearest even, as the hardware's): gcc neither vectorizes
 * _Float16 conversions without AVX512-FP16 nor keeps comparisons of
 * converted halves in float (it calls soft-float helpers), while this
 * integer and float arithmetic vectorizes like bfloat16's. */
static inline float mlx_f16_to_f32_(uint16_t h) {
  uint32_t w = (uint32_t)h << 16;
  uint32_t sign = w & 0x80000000u;
  uint32_t two_w = w + w; /* exponent and mantissa on top, no sign */
  uint32_t u;
  /* normal: shift the fields into place, then rebias 15 -> 127 by scaling */
  u = (two_w >> 4) + (0xE0u << 23);
  float normal;
  memcpy(&normal, &u, 4);
  normal *= 0x1.0p-112f;
  /* subnormal: the mantissa under 0.5's exponent, minus 0.5 */
  u = (two_w >> 17) | (126u << 23);
  float sub;
  memcpy(&sub, &u, 4);
  sub -= 0.5f;
  float r = two_w < (1u << 27) ? sub : normal;
  memcpy(&u, &r, 4);
  u |= sign;
  memcpy(&r, &u, 4);
  return r;
}

static inline uint16_t mlx_f32_to_f16_(float f) {
  uint32_t w;
  memcpy(&w, &f, 4);
  uint32_t shl1 = w + w;
  uint32_t sign = w & 0x80000000u;
  /* Scaled so that overflow reaches inf and adding a power of two below
   * rounds the mantissa at bit 13 (to nearest even, by the FPU). */
  float base = (fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
  uint32_t bias = shl1 & 0xFF000000u;
  bias = bias < 0x71000000u ? 0x71000000u : bias;
  uint32_t u = (bias >> 1) + 0x07800000u;
  float add;
  memcpy(&add, &u, 4);
  base += add;
  memcpy(&u, &base, 4);
  uint32_t nonsign = ((u >> 13) & 0x7C00u) + (u & 0x0FFFu);
  return (uint16_t)((sign >> 16) | (shl1 > 0xFF000000u ? 0x7E00u : nonsign));
}

/* ---- float math matching upstream MLX ---------------------------------- */

/* exp(x) as 2^i * p(f) with i = floor(x / ln 2 + 0.5) and a degree-6
 * polynomial for the fraction, 2^i built in the exponent bits; NaN and
 * |x| > 88 are overridden at the end, as upstream does. Upstream's
 * floorf and float-to-int conversion are done here with the 1.5 * 2^23
 * rounding trick instead: the same values wherever the result is used
 * (checked against upstream's formula for every float in [-88, 88]), no
 * undefined conversion of huge values, and a loop gcc vectorizes. */
static inline float mlx_exp_f32_(float x0) {
  float x = x0 * 1.442695f;
  float h = x + 0.5f;
  float t = (h + 12582912.0f) - 12582912.0f; /* nearest integer, |h| < 2^22 */
  float ip = t > h ? t - 1.0f : t;           /* floor(h) */
  float fp = x - ip;
  x = 1.535336188319500e-4f;
  x = fmaf(x, fp, 1.339887440266574e-3f);
  x = fmaf(x, fp, 9.618437357674640e-3f);
  x = fmaf(x, fp, 5.550332471162809e-2f);
  x = fmaf(x, fp, 2.402264791363012e-1f);
  x = fmaf(x, fp, 6.931472028550421e-1f);
  x = fmaf(x, fp, 1.0f);
  float m = ip + 12582912.0f; /* ip in the low mantissa bits */
  uint32_t ebits;
  memcpy(&ebits, &m, sizeof ebits);
  ebits = (ebits - 0x4B400000u + 127u) << 23; /* 2^ip; ip in [-127, 127] when used */
  float e;
  memcpy(&e, &ebits, sizeof e);
  float r = e * x;
  r = x0 != x0 ? x0 : r;
  r = x0 > 88.0f ? INFINITY : r;
  r = x0 < -88.0f ? 0.0f : r;
  return r;
}

/* sin (sine != 0) or cos by Cephes' range reduction by pi/4 and two
 * polynomials, for |x| <= MLX_SINCOS_LIMIT_ (there the octant index fits
 * in 32 bits). */
static inline float mlx_sincos_f32_(float in, int sine) {
  int sign_sin = in < 0;
  in = fabsf(in);
  float x = in;
  float y = x * 1.27323954473516f;
  uint32_t j = (uint32_t)y;
  j = (j + 1) & ~1u;
  y = (float)j;
  int poly = (j & 2) != 0;
  x = fmaf(y, -0.78515625f, x);
  x = fmaf(y, -2.4187564849853515625e-4f, x);
  x = fmaf(y, -3.77489497744594108e-8f, x);
  sign_sin ^= (j & 4) != 0;
  int sign_cos = ((j - 2) & 4) != 0;
  float z = x * x;
  float y1 = fmaf(z, 2.443315711809948e-5f, -1.388731625493765e-3f);
  float y2 = fmaf(z, -1.9515295891e-4f, 8.3321608736e-3f);
  y1 = fmaf(y1, z, 4.166664568298827e-2f);
  y2 = fmaf(y2, z, -1.6666654611e-1f);
  y1 = y1 * z;
  y2 = y2 * z;
  y1 = y1 * z;
  y2 = fmaf(x, y2, x);
  y1 = fmaf(z, -0.5f, y1);
  y1 = y1 + 1.0f;
  if (sine) {
    float ys = poly ? y1 : y2;
    return sign_sin ? -ys : ys;
  }
  float yc = poly ? y2 : y1;
  return sign_cos ? yc : -yc;
}

/* Past this |x| (and for NaN) upstream's sin and cos are libm's. */
#define MLX_SINCOS_LIMIT_ 8388608.0f

static inline float mlx_sin_f32_(float x) {
  return fabsf(x) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(x, 1) : sinf(x);
}

static inline float mlx_cos_f32_(float x) {
  return fabsf(x) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(x, 0) : cosf(x);
}

/* erf(|v|) by Abramowitz-Stegun 7.1.26 as upstream takes it from
 * PyTorch. Upstream then returns v > 0 ? r : -r, so erf(0) is -0 and
 * erf(NaN) is -NaN there, and so here. */
static inline float mlx_erf_abs_f32_(float v) {
  float t = 1.0f / fmaf(0.3275911f, fabsf(v), 1.0f);
  float r = fmaf(1.061405429f, t, -1.453152027f);
  r = fmaf(r, t, 1.421413741f);
  r = fmaf(r, t, -0.284496736f);
  r = fmaf(r, t, 0.254829592f);
  float e = -mlx_exp_f32_(-v * v);
  return fmaf(e * t, r, 1.0f);
}

/* erfinv by Giles' single-precision approximation: two polynomials in
 * t = log(1 - a^2), chosen by |t| > 6.125. */
static inline float mlx_erfinv_f32_(float a) {
  float t = logf(fmaf(a, 0.0f - a, 1.0f));
  float p;
  if (fabsf(t) > 6.125f) {
    p = 3.03697567e-10f;
    p = fmaf(p, t, 2.93243101e-8f);
    p = fmaf(p, t, 1.22150334e-6f);
    p = fmaf(p, t, 2.84108955e-5f);
    p = fmaf(p, t, 3.93552968e-4f);
    p = fmaf(p, t, 3.02698812e-3f);
    p = fmaf(p, t, 4.83185798e-3f);
    p = fmaf(p, t, -2.64646143e-1f);
    p = fmaf(p, t, 8.40016484e-1f);
  } else {
    p = 5.43877832e-9f;
    p = fmaf(p, t, 1.43285448e-7f);
    p = fmaf(p, t, 1.22774793e-6f);
    p = fmaf(p, t, 1.12963626e-7f);
    p = fmaf(p, t, -5.61530760e-5f);
    p = fmaf(p, t, -1.47697632e-4f);
    p = fmaf(p, t, 2.31468678e-3f);
    p = fmaf(p, t, 1.15392581e-2f);
    p = fmaf(p, t, -2.32015476e-1f);
    p = fmaf(p, t, 8.86226892e-1f);
  }
  return a * p;
}

#endif
