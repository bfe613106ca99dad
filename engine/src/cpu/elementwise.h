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
 * exp (and so erf and sigmoid) is written so gcc vectorizes it.
 *
 * The second half is float math of our own for the functions upstream
 * takes from libm (tanh, log, expm1, arctan, tan, ...): libm called per
 * element keeps gcc from vectorizing a loop, at ten times NumPy's time on
 * large arrays. */
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
 * polynomials, for |x| <= MLX_SINCOS_LIMIT_; other x give some value
 * without undefined behaviour. Upstream's octant index (uint32_t)y is
 * taken here from the bits of y truncated in double, where y < 2^52 is
 * exact: the same j in range, no float-to-int conversion that huge or
 * non-finite y would make undefined, and a loop gcc vectorizes (a
 * conversion guarded by a select does not). */
static inline float mlx_sincos_f32_(float in, int sine) {
  int sign_sin = in < 0;
  in = fabsf(in);
  float x = in;
  float y = x * 1.27323954473516f;
  double yd = y;
  double m = yd + 0x1.8p52; /* rint(y) in the low mantissa bits */
  uint64_t mb;
  memcpy(&mb, &m, sizeof mb);
  uint32_t j = (uint32_t)mb - (m - 0x1.8p52 > yd); /* trunc(y) */
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

/* ---- vectorizable float math ------------------------------------------------ */

/* Where upstream MLX calls libm per element, these branch-free
 * formulations compute the float32 (and, through float, float16/bfloat16)
 * results in loops gcc vectorizes; float64 keeps libm. Checked on every
 * float32 input against double-precision libm: in float, tanh within
 * 1.47 ulps, sinh 1.62, cosh 1.45, expm1 1.44 (on an exp of our own), log
 * 0.86, log2 1.08, log10 1.56; in double inside, rounded once, log1p, tan
 * and the inverse trigonometric and hyperbolic functions within 0.5 ulps
 * plus a hair (correctly rounded but for near-ties); everywhere libm's
 * results at zeros (with their sign), infinities and NaN. Upstream's own bits are its platform libm's, so matching them
 * exactly is not a goal here. Polynomial coefficients are Chebyshev fits
 * made with mpmath for this file, or Taylor's where noted. gcc vectorizes
 * a loop only if it can keep it free of branches, and it makes one of a
 * select whose arm is a formula's only use (moving the formula into it)
 * or that picks a constant argument under the condition of a later
 * select; so some special results below are added, not selected. */

#define MLX_LOG2E_F_ 1.44269504f
#define MLX_LN2_HI_F_ 0.693145752f     /* ln 2 to 16 bits: n * MLX_LN2_HI_F_ is exact */
#define MLX_LN2_LO_F_ 1.42860677e-6f   /* ln 2 - MLX_LN2_HI_F_ */
#define MLX_ROUND_MAGIC_F_ 12582912.0f /* 1.5 * 2^23: adding it rounds to an integer */

/* Splits x = n ln2 + r, |r| <= ln2 / 2 (for |x| < 2^20): returns r,
 * sets *n. */
static inline float mlx_exp_reduce_f32_(float x, int32_t* n) {
  float m = fmaf(x, MLX_LOG2E_F_, MLX_ROUND_MAGIC_F_);
  float nf = m - MLX_ROUND_MAGIC_F_;
  uint32_t mb;
  memcpy(&mb, &m, 4);
  *n = (int32_t)(mb - 0x4B400000u);
  float r = fmaf(nf, -MLX_LN2_HI_F_, x);
  return fmaf(nf, -MLX_LN2_LO_F_, r);
}

/* e^r - 1 for |r| <= ln2 / 2: r + r^2 P(r). */
static inline float mlx_expm1_reduced_f32_(float r) {
  float p = 1.98915571e-4f;
  p = fmaf(p, r, 1.39341598e-3f);
  p = fmaf(p, r, 8.33331041e-3f);
  p = fmaf(p, r, 4.16664603e-2f);
  p = fmaf(p, r, 1.66666667e-1f);
  p = fmaf(p, r, 5.00000001e-1f);
  return fmaf(r * r, p, r);
}

/* 2^n for n in [-126, 127], built in the exponent bits. */
static inline float mlx_pow2i_f32_(int32_t n) {
  uint32_t b = (uint32_t)(n + 127) << 23;
  float f;
  memcpy(&f, &b, 4);
  return f;
}

/* e^a / 2 for a in [0, 89.5]: 2^(n-2) (1 + u) * 2, so that the scale stays
 * a normal float up to the overflow threshold. */
static inline float mlx_half_exp_f32_(float a) {
  int32_t n;
  float u = mlx_expm1_reduced_f32_(mlx_exp_reduce_f32_(a, &n));
  float s = mlx_pow2i_f32_(n - 2);
  return fmaf(s, u, s) * 2.0f;
}

/* expm1(x) = 2^n (1 + u) - 1, u = e^r - 1, x = n ln2 + r. */
static inline float mlx_expm1_f32_(float x) {
  /* Past these bounds the result is -1 or inf anyway; the clamp keeps the
   * scale 2^(n-1) a normal float (NaN is put back at the end). */
  float xc = x > -80.0f ? (x < 89.0f ? x : 89.0f) : -80.0f;
  int32_t n;
  float u = mlx_expm1_reduced_f32_(mlx_exp_reduce_f32_(xc, &n));
  float t = mlx_pow2i_f32_(n - 1);
  /* 2^n (1 + u) - 1, halved so that 2^n may be 2^128 */
  float r = fmaf(t, u, t - 0.5f) * 2.0f;
  /* below 2^-26, x + x^2/2 rounds to x; this also keeps -0 */
  r = fabsf(x) < 0x1.0p-26f ? x : r;
  return x != x ? x : r;
}

/* tanh(a) = 1 - 2 / (e^2a + 1) past 0.55, a + a^3 P(a^2) below; computed
 * on |x| and given the sign of x, so tanh(-0) = -0. */
static inline float mlx_tanh_f32_(float x) {
  float a = fabsf(x);
  float z = a * a;
  float p = 2.52639071e-3f;
  p = fmaf(p, z, -8.52633306e-3f);
  p = fmaf(p, z, 2.18184491e-2f);
  p = fmaf(p, z, -5.39647004e-2f);
  p = fmaf(p, z, 1.33333242e-1f);
  p = fmaf(p, z, -3.33333333e-1f);
  float small = fmaf(a * z, p, a);
  /* tanh rounds to 1 from 9.01 on; the clamp keeps e^2a finite */
  float ac = a < 10.0f ? a : 10.0f;
  float e = 2.0f * mlx_half_exp_f32_(2.0f * ac);
  float big = 1.0f - 2.0f / (e + 1.0f);
  float r = copysignf(a < 0.55f ? small : big, x);
  return x != x ? x : r;
}

/* sinh: a + a^3 P(a^2) below 1, e^a/2 - e^-a/2 above. */
static inline float mlx_sinh_f32_(float x) {
  float a = fabsf(x);
  float z = a * a;
  float p = 2.54567066e-8f;
  p = fmaf(p, z, 2.75537703e-6f);
  p = fmaf(p, z, 1.98412825e-4f);
  p = fmaf(p, z, 8.33333332e-3f);
  p = fmaf(p, z, 1.66666667e-1f);
  float small = fmaf(a * z, p, a);
  /* sinh overflows from 89.42 on */
  float h = mlx_half_exp_f32_(a < 89.5f ? a : 89.5f);
  float big = h - 0.25f / h;
  float r = copysignf(a < 1.0f ? small : big, x);
  return x != x ? x : r;
}

static inline float mlx_cosh_f32_(float x) {
  float a = fabsf(x);
  float h = mlx_half_exp_f32_(a < 89.5f ? a : 89.5f);
  float r = h + 0.25f / h;
  return x != x ? x : r;
}

/* log(u) = k ln2 + log1p(f), u = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)),
 * and log1p(f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716, by an odd
 * polynomial; in double, so the float result is rounded once from a value
 * good to about 2^-50. For positive normal finite u (other u give some
 * value, computed without undefined behaviour); returns k and log1p(f)
 * separately. The core of log1p and the inverse hyperbolic functions. */
static inline double mlx_log_parts_f64_(double u, double* k) {
  uint64_t iu;
  memcpy(&iu, &u, 8);
  uint64_t tmp = iu - 0x3FE6A09E667F3BCDull; /* bits of sqrt(1/2) */
  /* the top 12 bits of tmp, sign-extended, are k */
  int64_t ki = (int64_t)((tmp >> 52) ^ 0x800u) - 0x800;
  uint64_t im = iu - (tmp & 0xFFF0000000000000ull);
  double m;
  memcpy(&m, &im, 8);
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double z = s * s;
  double q = 0.083109085764294641;
  q = fma(q, z, 0.09070096901432996);
  q = fma(q, z, 0.11111431140054358);
  q = fma(q, z, 0.14285712069162079);
  q = fma(q, z, 0.20000000005603252);
  q = fma(q, z, 0.33333333333331039);
  *k = (double)ki;
  return 2.0 * fma(s * z, q, s);
}

/* log(x) in float, x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)):
 * log1p(f) = f - h + s (h + R), h = f^2 / 2, s = f / (2 + f), R = 2 atanh(s)
 * / s - 2 by a polynomial in s^2 (the classic fdlibm arrangement: the
 * leading f is exact and s, which carries a rounding, only scales small
 * terms). Sets *k, *f and returns the rest, lo = s (h + R) - h, so that the
 * callers combine f and lo with their scale. Subnormal x is scaled by 2^23
 * first; x <= 0, inf and NaN give some value the callers replace. */
static inline float mlx_log_parts_f32_(float x, float* k, float* f) {
  int sub = x < 0x1p-126f;
  float xs = sub ? x * 0x1p23f : x;
  uint32_t ix;
  memcpy(&ix, &xs, 4);
  ix -= 0x3F3504F3u; /* bits of sqrt(1/2) */
  /* the top 9 bits of ix, sign-extended, are k */
  int32_t ki = (int32_t)((ix >> 23) ^ 0x100u) - 0x100;
  uint32_t im = (ix & 0x007FFFFFu) + 0x3F3504F3u;
  float m;
  memcpy(&m, &im, 4);
  float ff = m - 1.0f;
  float s = ff / (2.0f + ff);
  float z = s * s;
  float r = 0.233304672f;
  r = fmaf(r, z, 0.285508208f);
  r = fmaf(r, z, 0.400001218f);
  r = fmaf(r, z, 0.666666666f);
  r *= z;
  float h = 0.5f * ff * ff;
  *k = (float)(ki - (sub ? 23 : 0));
  *f = ff;
  return fmaf(s, h + r, -h);
}

/* The special results of log, log2 and log10, added to the formula's
 * value r (which is finite or NaN for any x): -inf at 0, inf at inf, NaN
 * for negative x and NaN, 0 for other x. A select of r instead lets gcc
 * move the formula into a branch, which does not vectorize. */
static inline float mlx_log_special_f32_(float x, float r) {
  return r + ((x > 0.0f) & (x < INFINITY) ? 0.0f : (x == 0.0f ? -INFINITY : (x > 0.0f ? x : NAN)));
}

/* k ln2 + f + lo, with ln2 in two parts (k * MLX_LN2_HI_F_ is exact). */
static inline float mlx_log_f32_(float x) {
  float k, f, lo = mlx_log_parts_f32_(x, &k, &f);
  return mlx_log_special_f32_(x, fmaf(k, MLX_LN2_HI_F_, f + fmaf(k, MLX_LN2_LO_F_, lo)));
}

/* k + (f + lo) / ln2: f's product with 1/ln2 kept exact as p + e by fma. */
static inline float mlx_log2_f32_(float x) {
  float k, f, lo = mlx_log_parts_f32_(x, &k, &f);
  const float c = 1.44269502f, c_lo = 1.92596303e-8f; /* 1/ln2 = c + c_lo */
  float p = f * c;
  float e = fmaf(f, c, -p);
  float t = fmaf(lo, c, fmaf(f, c_lo, e));
  return mlx_log_special_f32_(x, k + (p + t));
}

/* k log10(2) + (f + lo) / ln10, both products split as in log2. */
static inline float mlx_log10_f32_(float x) {
  float k, f, lo = mlx_log_parts_f32_(x, &k, &f);
  const float c = 0.434294492f, c_lo = -1.010305e-8f; /* 1/ln10 = c + c_lo */
  const float d = 0.30103001f, d_lo = -1.43209888e-8f; /* log10(2) = d + d_lo */
  float p = f * c, q = k * d;
  float e = fmaf(f, c, -p), g = fmaf(k, d, -q);
  float t = fmaf(lo, c, fmaf(f, c_lo, fmaf(k, d_lo, e + g)));
  return mlx_log_special_f32_(x, (q + p) + t);
}

/* log1p(t) in double for t > -1: log(u) + c with u = 1 + t rounded and,
 * for |t| < 1, c = t - (u - 1) what the rounding lost (exact there, and
 * u - 1 is close enough to 0 that log(1 + t) = log(u) + c/u is log(u) + c
 * to 2^-54). A float t of |t| >= 2^-29 makes u exact; smaller ones live
 * in c. Beyond 1, the loss is below 2^-53 of u and is dropped (c there is
 * not the loss: u - 1 may round too, and infinite t makes it NaN). */
static inline double mlx_log1p_core_f64_(double t) {
  double u = 1.0 + t;
  double c = t - (u - 1.0);
  c = fabs(t) < 1.0 ? c : 0.0;
  double k, l = mlx_log_parts_f64_(u, &k);
  return fma(k, 0x1.62E42FEFA39EFp-1, l) + c;
}

/* The result has the sign of x (log1p(-0) = -0). */
static inline float mlx_log1p_f32_(float x) {
  float r = (float)mlx_log1p_core_f64_(x);
  r += (x > -1.0f) & (x < INFINITY) ? 0.0f : (x == -1.0f ? -INFINITY : (x > 0.0f ? x : NAN));
  return copysignf(r, x);
}

/* arctan(t) in double for t >= 0 (NaN gives NaN): t is mapped to y in
 * [-tan(pi/8), tan(pi/8)] by -1/t (past tan(3pi/8)) or (t - 1) / (t + 1)
 * (past tan(pi/8)), with pi/2 or pi/4 added back; arctan(y) = y + y^3 Q(y^2),
 * good to about 2^-45. */
static inline double mlx_atan_core_f64_(double t) {
  int big = t > 2.4142135623730951, mid = t > 0.41421356237309503;
  double num = big ? -1.0 : (mid ? t - 1.0 : t);
  double den = big ? t : (mid ? t + 1.0 : 1.0);
  double base = big ? 0x1.921FB54442D18p0 : (mid ? 0x1.921FB54442D18p-1 : 0.0);
  double y = num / den;
  double z = y * y;
  double q = 0.032956795418701362;
  q = fma(q, z, -0.060273074609466751);
  q = fma(q, z, 0.076048000460782916);
  q = fma(q, z, -0.090841018953464289);
  q = fma(q, z, 0.11110819716745676);
  q = fma(q, z, -0.14285708110360401);
  q = fma(q, z, 0.19999999949854794);
  q = fma(q, z, -0.33333333333266196);
  return base + fma(y * z, q, y);
}

static inline float mlx_atan_f32_(float x) { return copysignf((float)mlx_atan_core_f64_(fabs((double)x)), x); }

/* arcsin(y) = y + y^3 P(y^2) in double for y in [0, 1/2]. */
static inline double mlx_asin_poly_f64_(double y, double z) {
  double p = 0.02834674523183333;
  p = fma(p, z, 0.0010675063150363119);
  p = fma(p, z, 0.01686409027396012);
  p = fma(p, z, 0.016902683886393575);
  p = fma(p, z, 0.022412417726695433);
  p = fma(p, z, 0.030379945210024933);
  p = fma(p, z, 0.044642906474584965);
  p = fma(p, z, 0.074999999534297118);
  p = fma(p, z, 0.16666666666738633);
  return fma(y * z, p, y);
}

/* arcsin(a), a = |x|: the polynomial below 1/2, pi/2 - 2 arcsin(sqrt((1 - a) / 2))
 * above (1 - a exact in double); a > 1 takes the square root of a negative
 * number, NaN. */
static inline float mlx_asin_f32_(float x) {
  double a = fabs((double)x);
  int big = a > 0.5;
  double z = big ? 0.5 - 0.5 * a : a * a;
  double s = sqrt(z);
  double p = mlx_asin_poly_f64_(big ? s : a, z);
  return copysignf((float)(big ? 0x1.921FB54442D18p0 - 2.0 * p : p), x);
}

/* arccos(x): pi/2 - arcsin(x) for |x| <= 1/2, else 2 arcsin(sqrt((1 - |x|) / 2))
 * for positive x and pi minus that for negative x. */
static inline float mlx_acos_f32_(float x) {
  double d = x, a = fabs(d);
  int big = a > 0.5;
  double z = big ? 0.5 - 0.5 * a : a * a;
  double s = sqrt(z);
  double p = mlx_asin_poly_f64_(big ? s : a, z);
  double r = big ? (d > 0 ? 2.0 * p : 0x1.921FB54442D18p1 - 2.0 * p) : 0x1.921FB54442D18p0 - copysign(p, d);
  return (float)r;
}

/* arcsinh(|x|) = log1p(a + w), w = a^2 / (1 + sqrt(1 + a^2)), which is NaN
 * only for infinite or NaN a (inf / inf) and then replaced by a; the
 * special result (inf) is added. */
static inline float mlx_asinh_f32_(float x) {
  double a = fabs((double)x);
  double w = a * a / (1.0 + sqrt(fma(a, a, 1.0)));
  w = w == w ? w : a;
  float r = (float)mlx_log1p_core_f64_(a + w);
  r += fabsf(x) < INFINITY ? 0.0f : (x != x ? x : INFINITY);
  return copysignf(r, x);
}

/* arccosh(x) = log1p(d + sqrt(d (x + 1))), d = x - 1; the special results
 * (NaN below 1, inf at inf) are added, as in mlx_log_special_f32_. */
static inline float mlx_acosh_f32_(float x) {
  double d = (double)x - 1.0;
  float r = (float)mlx_log1p_core_f64_(d + sqrt(d * ((double)x + 1.0)));
  return r + (x >= 1.0f ? (x == INFINITY ? INFINITY : 0.0f) : NAN);
}

/* arctanh(|x|) = log1p(2a / (1 - a)) / 2: inf at 1, NaN past it. */
static inline float mlx_atanh_f32_(float x) {
  double a = fabs((double)x);
  float r = (float)(0.5 * mlx_log1p_core_f64_(2.0 * a / (1.0 - a)));
  r += fabsf(x) < 1.0f ? 0.0f : (fabsf(x) == 1.0f ? INFINITY : NAN);
  return copysignf(r, x);
}

/* Past this |x| (and for inf and NaN) tan is libm's: mlx_tan_f32_ gives
 * some value there that the caller replaces. */
#define MLX_TAN_LIMIT_ 8388608.0f

/* tan in double: x = n pi/2 + r, |r| <= pi/4, with pi/2 in two parts
 * (fma keeps each step's product exact; what the two parts miss of pi/2,
 * 2^-109, moves r by under 2^-86 for |x| <= 2^23); tan = sin r / cos r
 * for even n, -cos r / sin r for odd n, by Taylor series to r^13 and r^12
 * (error below 2^-44). sin r is r (1 + r^2 S) so that tan(-0) = -0. */
static inline float mlx_tan_f32_(float x) {
  double d = x;
  double m = fma(d, 0x1.45F306DC9C883p-1, 0x1.8p52); /* 2/pi */
  double n = m - 0x1.8p52;
  uint64_t mb;
  memcpy(&mb, &m, sizeof mb);
  double r = fma(n, -0x1.921FB54442D18p0, d);
  r = fma(n, -0x1.1A62633145C07p-54, r);
  double z = r * r;
  double s = -1.0 / 6227020800.0;
  s = fma(s, z, 1.0 / 39916800.0);
  s = fma(s, z, -1.0 / 362880.0);
  s = fma(s, z, 1.0 / 5040.0);
  s = fma(s, z, -1.0 / 120.0);
  s = fma(s, z, 1.0 / 6.0);
  s = r * fma(-z, s, 1.0);
  double c = 1.0 / 479001600.0;
  c = fma(c, z, -1.0 / 3628800.0);
  c = fma(c, z, 1.0 / 40320.0);
  c = fma(c, z, -1.0 / 720.0);
  c = fma(c, z, 1.0 / 24.0);
  c = fma(c, z, -0.5);
  c = fma(c, z, 1.0);
  int odd = (int)(mb & 1u);
  return (float)((odd ? -c : s) / (odd ? s : c));
}

/* floor, ceil and rint by rounding |x| to an integer with 2^23 (exact
 * below 2^23; larger floats, infinities and NaN are returned as they
 * are). The result has the sign of x, as it must, -0 included. */
static inline float mlx_rint_f32_(float x) {
  float t = (fabsf(x) + 8388608.0f) - 8388608.0f;
  return fabsf(x) < 8388608.0f ? copysignf(t, x) : x;
}

static inline float mlx_floor_f32_(float x) {
  float t = mlx_rint_f32_(x);
  return copysignf(t > x ? t - 1.0f : t, x);
}

static inline float mlx_ceil_f32_(float x) {
  float t = mlx_rint_f32_(x);
  return copysignf(t < x ? t + 1.0f : t, x);
}

/* ---- float to integer conversions ------------------------------------------ */

/* A C cast of an out-of-range float (or NaN) to an integer is undefined:
 * upstream MLX gets whatever its x86 vector code gives, and the CPU and
 * the GPU would disagree. These define every case as upstream's
 * vectorized x86 conversions come out (checked against Python MLX over
 * float32/float16/bfloat16/float64 sources): a value outside the signed
 * 32- or 64-bit range, or NaN, becomes the most negative value of that
 * width (cvttps2dq's "integer indefinite"); narrower integers take the
 * low bits of the 32-bit conversion; unsigned 32/64-bit results from
 * 2^31 / 2^63 up subtract it first and set the top bit back. The kernels
 * of both backends call them (cpu/copy.c, cuda/device.cuh). */
static inline int32_t mlx_f2i32_(double x) {
  return x >= -2147483648.0 && x < 2147483648.0 ? (int32_t)x : (int32_t)(-2147483647 - 1);
}

static inline int64_t mlx_f2i64_(double x) {
  return x >= -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x
                                                                   : (int64_t)(-9223372036854775807LL - 1);
}

static inline uint32_t mlx_f2u32_(double x) {
  return x >= 2147483648.0 ? (uint32_t)mlx_f2i32_(x - 2147483648.0) ^ 0x80000000u : (uint32_t)mlx_f2i32_(x);
}

/* float16 sources take upstream's scalar path: the low half of the 64-bit
 * conversion. */
static inline uint32_t mlx_f16_to_u32_(double x) {
  return (uint32_t)(uint64_t)mlx_f2i64_(x);
}

static inline uint64_t mlx_f2u64_(double x) {
  return x >= 9223372036854775808.0 ? (uint64_t)mlx_f2i64_(x - 9223372036854775808.0) ^ 0x8000000000000000ull
                                    : (uint64_t)mlx_f2i64_(x);
}

#endif
