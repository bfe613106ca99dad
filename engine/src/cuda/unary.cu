/* Device kernels of the unary elementwise ops: one template instantiated
 * per (op, input dtype) pair the op constructors record. The scalar
 * semantics are cpu/unary.c's, op by op: the same formulas where the CPU
 * uses its own math (elementwise.h), CUDA's libm where the CPU calls
 * glibc (float64 transcendental functions, complex64), which may differ
 * in the last bits (docs/cuda.md). */
#include "device.cuh"

/* ---- unary ---------------------------------------------------------------- */

enum {
#define U_ENUM(N) U_##N = MLX_CU_U_##N,
  MLX_CU_UNARY_OPS(U_ENUM)
#undef U_ENUM
};

__device__ __forceinline__ float sigmoid_fl(float x, float e) {
  float y = 1.0f / (1.0f + e);
  return x < 0 ? y : 1.0f - y;
}

/* The op on a float computed in float: T is the storage type (float16 and
 * bfloat16 round intermediate steps only where the CPU does, in sigmoid). */
template <int OP, typename T>
__device__ __forceinline__ float unary_fl(float x) {
  if constexpr (OP == U_ABS) return fabsf(x);
  else if constexpr (OP == U_NEGATIVE) return -x;
  else if constexpr (OP == U_SIGN) return x < 0 ? -1.0f : (x > 0 ? 1.0f : 0.0f);
  else if constexpr (OP == U_SQRT) return sqrtf(x);
  else if constexpr (OP == U_RSQRT) return 1.0f / sqrtf(x);
  else if constexpr (OP == U_SQUARE) return x * x;
  else if constexpr (OP == U_EXP) return mlx_exp_f32_(x);
  else if constexpr (OP == U_EXPM1) return mlx_expm1_f32_(x);
  else if constexpr (OP == U_LOG) return mlx_log_f32_(x);
  else if constexpr (OP == U_LOG1P) return mlx_log1p_f32_(x);
  else if constexpr (OP == U_LOG2) return mlx_log2_f32_(x);
  else if constexpr (OP == U_LOG10) return mlx_log10_f32_(x);
  else if constexpr (OP == U_SIN) return fabsf(x) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(x, 1) : sinf(x);
  else if constexpr (OP == U_COS) return fabsf(x) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(x, 0) : cosf(x);
  else if constexpr (OP == U_TAN) return fabsf(x) <= MLX_TAN_LIMIT_ ? mlx_tan_f32_(x) : tanf(x);
  else if constexpr (OP == U_ARCSIN) return mlx_asin_f32_(x);
  else if constexpr (OP == U_ARCCOS) return mlx_acos_f32_(x);
  else if constexpr (OP == U_ARCTAN) return mlx_atan_f32_(x);
  else if constexpr (OP == U_SINH) return mlx_sinh_f32_(x);
  else if constexpr (OP == U_COSH) return mlx_cosh_f32_(x);
  else if constexpr (OP == U_TANH) return mlx_tanh_f32_(x);
  else if constexpr (OP == U_ARCSINH) return mlx_asinh_f32_(x);
  else if constexpr (OP == U_ARCCOSH) return mlx_acosh_f32_(x);
  else if constexpr (OP == U_ARCTANH) return mlx_atanh_f32_(x);
  else if constexpr (OP == U_SIGMOID) return sigmoid_fl(x, rnd<T>(mlx_exp_f32_(fabsf(x))));
  else if constexpr (OP == U_ERF) {
    float r = mlx_erf_abs_f32_(x);
    return x > 0 ? r : -r;
  } else if constexpr (OP == U_ERFINV) return mlx_erfinv_f32_(x);
  else if constexpr (OP == U_FLOOR) return mlx_floor_f32_(x);
  else if constexpr (OP == U_CEIL) return mlx_ceil_f32_(x);
  else if constexpr (OP == U_ROUND) return mlx_rint_f32_(x);
  else return 0.0f; /* IMAG of a real array */
}

/* float64: libm where the CPU uses libm; upstream's float32 math (exp,
 * sin, cos, erf, erfinv, sigmoid's exp) where the CPU follows upstream. */
template <int OP>
__device__ __forceinline__ double unary_d(double x) {
  if constexpr (OP == U_ABS) return fabs(x);
  else if constexpr (OP == U_NEGATIVE) return -x;
  else if constexpr (OP == U_SIGN) return x < 0 ? -1.0 : (x > 0 ? 1.0 : 0.0);
  else if constexpr (OP == U_SQRT) return sqrt(x);
  else if constexpr (OP == U_RSQRT) return 1.0 / sqrt(x);
  else if constexpr (OP == U_SQUARE) return x * x;
  else if constexpr (OP == U_EXP) return mlx_exp_f32_((float)x);
  else if constexpr (OP == U_EXPM1) return expm1(x);
  else if constexpr (OP == U_LOG) return log(x);
  else if constexpr (OP == U_LOG1P) return log1p(x);
  else if constexpr (OP == U_LOG2) return log2(x);
  else if constexpr (OP == U_LOG10) return log10(x);
  else if constexpr (OP == U_SIN) {
    float a = (float)fabs(x);
    double r = fabsf(a) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(a, 1) : sinf(a);
    return x < 0 ? -r : r;
  } else if constexpr (OP == U_COS) {
    float a = (float)x;
    return fabsf(a) <= MLX_SINCOS_LIMIT_ ? mlx_sincos_f32_(a, 0) : cosf(a);
  } else if constexpr (OP == U_TAN) return tan(x);
  else if constexpr (OP == U_ARCSIN) return asin(x);
  else if constexpr (OP == U_ARCCOS) return acos(x);
  else if constexpr (OP == U_ARCTAN) return atan(x);
  else if constexpr (OP == U_SINH) return sinh(x);
  else if constexpr (OP == U_COSH) return cosh(x);
  else if constexpr (OP == U_TANH) return tanh(x);
  else if constexpr (OP == U_ARCSINH) return asinh(x);
  else if constexpr (OP == U_ARCCOSH) return acosh(x);
  else if constexpr (OP == U_ARCTANH) return atanh(x);
  else if constexpr (OP == U_SIGMOID) {
    double y = 1.0 / (1.0 + (double)mlx_exp_f32_((float)fabs(x)));
    return x < 0 ? y : 1.0 - y;
  } else if constexpr (OP == U_ERF) {
    double r = mlx_erf_abs_f32_((float)x);
    return x > 0 ? r : -r;
  } else if constexpr (OP == U_ERFINV) return mlx_erfinv_f32_((float)x);
  else if constexpr (OP == U_FLOOR) return floor(x);
  else if constexpr (OP == U_CEIL) return ceil(x);
  else if constexpr (OP == U_ROUND) return rint(x);
  else return 0.0;
}

template <int OP>
constexpr bool is_pred_op = OP == U_ISNAN || OP == U_ISINF || OP == U_ISPOSINF || OP == U_ISNEGINF ||
                            OP == U_ISFINITE || OP == U_LOGICAL_NOT;

/* The (op, input type) pairs with a device kernel: every pair the op
 * constructors record, except complex64 under arcsin, arccos, arctan,
 * arcsinh, arccosh, arctanh and log1p (not on the GPU yet). */
template <int OP, typename T>
constexpr bool unary_ok() {
  if constexpr (is_pred_op<OP>) return true;
  if constexpr (OP == U_IMAG || OP == U_REAL || OP == U_CONJUGATE) return std::is_same_v<T, c64> || OP == U_IMAG;
  if constexpr (OP == U_BITWISE_INVERT) return is_int_v<T> || std::is_same_v<T, mbool>;
  if constexpr (std::is_same_v<T, c64>)
    return !(OP == U_ARCSIN || OP == U_ARCCOS || OP == U_ARCTAN || OP == U_ARCSINH || OP == U_ARCCOSH ||
             OP == U_ARCTANH || OP == U_LOG1P || OP == U_EXPM1 || OP == U_SIGMOID || OP == U_ERF ||
             OP == U_ERFINV || OP == U_FLOOR || OP == U_CEIL);
  if constexpr (is_real_float_v<T>) return true;
  if constexpr (is_int_v<T>) return OP == U_ABS || OP == U_NEGATIVE || OP == U_SIGN || OP == U_SQUARE;
  return false;
}

template <int OP, typename T>
struct unary_out {
  using type = std::conditional_t<
      is_pred_op<OP>, mbool,
      std::conditional_t<std::is_same_v<T, c64> && (OP == U_ABS || OP == U_REAL || OP == U_IMAG), float, T>>;
};

template <int OP>
__device__ __forceinline__ c64 unary_c(c64 z) {
  if constexpr (OP == U_NEGATIVE) return cmk(-z.re, -z.im);
  else if constexpr (OP == U_SIGN) {
    if (z.re == 0 && z.im == 0) return z;
    float a = cabs_(z);
    return cmk(z.re / a, z.im / a);
  } else if constexpr (OP == U_SQRT) return csqrt_(z);
  else if constexpr (OP == U_RSQRT) return cdiv(cmk(1.0f, 0.0f), csqrt_(z));
  else if constexpr (OP == U_SQUARE) return cmul(z, z);
  else if constexpr (OP == U_EXP) return cexp_(z);
  else if constexpr (OP == U_LOG) return clog_(z);
  else if constexpr (OP == U_LOG2) {
    c64 l = clog_(z);
    float k = logf(2.0f);
    return cmk(l.re / k, l.im / k);
  } else if constexpr (OP == U_LOG10) {
    c64 l = clog_(z);
    float k = logf(10.0f);
    return cmk(l.re / k, l.im / k);
  } else if constexpr (OP == U_SIN) return cmk(sinf(z.re) * coshf(z.im), cosf(z.re) * sinhf(z.im));
  else if constexpr (OP == U_COS) return cmk(cosf(z.re) * coshf(z.im), -sinf(z.re) * sinhf(z.im));
  else if constexpr (OP == U_TAN)
    return cdiv(cmk(sinf(z.re) * coshf(z.im), cosf(z.re) * sinhf(z.im)),
                cmk(cosf(z.re) * coshf(z.im), -sinf(z.re) * sinhf(z.im)));
  else if constexpr (OP == U_SINH) return cmk(sinhf(z.re) * cosf(z.im), coshf(z.re) * sinf(z.im));
  else if constexpr (OP == U_COSH) return cmk(coshf(z.re) * cosf(z.im), sinhf(z.re) * sinf(z.im));
  else if constexpr (OP == U_TANH)
    return cdiv(cmk(sinhf(z.re) * cosf(z.im), coshf(z.re) * sinf(z.im)),
                cmk(coshf(z.re) * cosf(z.im), sinhf(z.re) * sinf(z.im)));
  else if constexpr (OP == U_ROUND) return cmk(rintf(z.re), rintf(z.im));
  else if constexpr (OP == U_CONJUGATE) return cmk(z.re, -z.im);
  else return z;
}

template <int OP, typename TI, typename TO>
__device__ __forceinline__ TO unary_apply(TI x) {
  if constexpr (is_pred_op<OP>) {
    mbool b;
    if constexpr (std::is_same_v<TI, c64>) {
      if constexpr (OP == U_ISNAN) b.v = cnan(x);
      else if constexpr (OP == U_ISINF) b.v = fabsf(x.re) == INFINITY || fabsf(x.im) == INFINITY;
      else if constexpr (OP == U_ISPOSINF) b.v = x.re == INFINITY && x.im == 0;
      else if constexpr (OP == U_ISNEGINF) b.v = x.re == -INFINITY && x.im == 0;
      else if constexpr (OP == U_ISFINITE) b.v = fabsf(x.re) < INFINITY && fabsf(x.im) < INFINITY;
      else b.v = x.re == 0 && x.im == 0;
    } else if constexpr (is_real_float_v<TI>) {
      double v = is_fl_v<TI> ? (double)ldf(x) : (double)real_d(x);
      if constexpr (OP == U_ISNAN) b.v = v != v;
      else if constexpr (OP == U_ISINF) b.v = fabs(v) == INFINITY;
      else if constexpr (OP == U_ISPOSINF) b.v = v == INFINITY;
      else if constexpr (OP == U_ISNEGINF) b.v = v == -INFINITY;
      else if constexpr (OP == U_ISFINITE) b.v = fabs(v) < INFINITY;
      else b.v = v == 0;
    } else {
      /* integers and bool: only logical_not and isfinite depend on them */
      double v = real_d(x);
      b.v = OP == U_LOGICAL_NOT ? v == 0 : OP == U_ISFINITE;
    }
    return b;
  } else if constexpr (std::is_same_v<TI, c64>) {
    if constexpr (OP == U_ABS) return cabs_(x);
    else if constexpr (OP == U_REAL) return x.re;
    else if constexpr (OP == U_IMAG) return x.im;
    else return unary_c<OP>(x);
  } else if constexpr (OP == U_IMAG) {
    return convert<TO>(0.0f);
  } else if constexpr (OP == U_BITWISE_INVERT) {
    if constexpr (std::is_same_v<TI, mbool>) {
      mbool b;
      b.v = !x.v;
      return b;
    } else {
      return (TO)~x;
    }
  } else if constexpr (std::is_same_v<TI, double>) {
    return unary_d<OP>(x);
  } else if constexpr (is_fl_v<TI>) {
    return stf<TO>(unary_fl<OP, TI>(ldf(x)));
  } else {
    /* signed and unsigned integers, wrapping as the CPU */
    using W = wide_u<TI>;
    if constexpr (OP == U_ABS) {
      if constexpr (is_sint_v<TI>) return (TO)(x < 0 ? (W)0 - (W)x : (W)x);
      else return x;
    }
    else if constexpr (OP == U_NEGATIVE) return (TO)((W)0 - (W)x);
    else if constexpr (OP == U_SIGN) {
      if constexpr (is_sint_v<TI>) return (TO)((x > 0) - (x < 0));
      else return (TO)(x != 0);
    } else return (TO)((W)x * (W)x);
  }
}

template <int OP, typename TI, typename TO>
struct unary_f {
  TO* out;
  const TI* in;
  __device__ void operator()(int64_t i, int64_t o0, int64_t, int64_t) const {
    out[i] = unary_apply<OP, TI, TO>(in[o0]);
  }
  static constexpr bool vec4 = true;
  bool aligned4() const { return is_aligned4(out) && is_aligned4(in); }
  __device__ void run4(int64_t i, int64_t s0, int64_t) const {
    pack4<TI> x = load4(in, i, s0);
    pack4<TO> r;
#pragma unroll
    for (int k = 0; k < 4; k++) r.v[k] = unary_apply<OP, TI, TO>(x.v[k]);
    *reinterpret_cast<pack4<TO>*>(out + i) = r;
  }
};

template <int OP, typename TI>
static int unary_run(mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l, void* stream) {
  if constexpr (!unary_ok<OP, TI>()) {
    return -1;
  } else {
    using TO = typename unary_out<OP, TI>::type;
    if (dtype_of<TO>() != out) return -1;
    return ew_launch(unary_f<OP, TI, TO>{(TO*)dst, (const TI*)src}, l, 1, stream);
  }
}

template <typename TI>
static int unary_type(int op, mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l, void* stream) {
  switch (op) {
#define U_CASE(N) \
  case U_##N: return unary_run<U_##N, TI>(out, dst, src, l, stream);
    MLX_CU_UNARY_OPS(U_CASE)
#undef U_CASE
    default: return -1;
  }
}

extern "C" int mlx_cu_unary_launch_(int op, mlx_dtype in, mlx_dtype out, void* dst, const void* src,
                                    const mlx_cu_elem_* l, void* stream) {
  MLX_CU_DISPATCH(in, unary_type, op, out, dst, src, l, stream)
}

