/* Device kernels of the binary elementwise ops and of select (where): one
 * template instantiated per (op, dtype) pair the op constructors record,
 * with cpu/binary.c's semantics (integers wrap, floor division and
 * remainder round toward -inf, division by zero as the CPU, NaN-propagating
 * maximum/minimum, lexicographic complex order). powf, atan2f and log1pf
 * are CUDA's, the CPU's glibc's: they may differ in the last bits. */
#include "device.cuh"

/* ---- binary --------------------------------------------------------------- */

enum {
#define B_ENUM(N) B_##N = MLX_CU_B_##N,
  MLX_CU_BINARY_OPS(B_ENUM)
#undef B_ENUM
};

template <int OP>
constexpr bool is_cmp_op = OP == B_EQUAL || OP == B_NOT_EQUAL || OP == B_GREATER || OP == B_GREATER_EQUAL ||
                           OP == B_LESS || OP == B_LESS_EQUAL;

__device__ __forceinline__ float max_fl(float x, float y) { return y != y ? y : (x != x ? x : (x > y ? x : y)); }
__device__ __forceinline__ float min_fl(float x, float y) { return y != y ? y : (x != x ? x : (x < y ? x : y)); }
__device__ __forceinline__ double max_db(double x, double y) { return y != y ? y : (x != x ? x : (x > y ? x : y)); }
__device__ __forceinline__ double min_db(double x, double y) { return y != y ? y : (x != x ? x : (x < y ? x : y)); }

/* Float ops in float, with T's rounding of intermediate steps where the
 * CPU rounds them (floor_divide's quotient, logaddexp's steps). */
template <int OP, typename T>
__device__ __forceinline__ float binary_fl(float x, float y) {
  if constexpr (OP == B_ADD) return x + y;
  else if constexpr (OP == B_SUBTRACT) return x - y;
  else if constexpr (OP == B_MULTIPLY) return x * y;
  else if constexpr (OP == B_DIVIDE) return x / y;
  else if constexpr (OP == B_POWER) return powf(x, y);
  else if constexpr (OP == B_REMAINDER) {
    float r = fmodf(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  } else if constexpr (OP == B_FLOOR_DIVIDE) return floorf(rnd<T>(x / y));
  else if constexpr (OP == B_MAXIMUM) return max_fl(x, y);
  else if constexpr (OP == B_MINIMUM) return min_fl(x, y);
  else if constexpr (OP == B_LOGADDEXP) {
    float hi = max_fl(x, y), lo = min_fl(x, y);
    float out = std::is_same_v<T, float> ? hi + log1pf(mlx_exp_f32_(lo - hi))
                                         : hi + rnd<T>(log1pf(rnd<T>(mlx_exp_f32_(rnd<T>(lo - hi)))));
    return (lo == -INFINITY || hi == INFINITY) ? hi : out;
  } else return atan2f(x, y);
}

template <int OP>
__device__ __forceinline__ double binary_d(double x, double y) {
  if constexpr (OP == B_ADD) return x + y;
  else if constexpr (OP == B_SUBTRACT) return x - y;
  else if constexpr (OP == B_MULTIPLY) return x * y;
  else if constexpr (OP == B_DIVIDE) return x / y;
  else if constexpr (OP == B_POWER) return pow(x, y);
  else if constexpr (OP == B_REMAINDER) {
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  } else if constexpr (OP == B_FLOOR_DIVIDE) return floor(x / y);
  else if constexpr (OP == B_MAXIMUM) return max_db(x, y);
  else if constexpr (OP == B_MINIMUM) return min_db(x, y);
  else if constexpr (OP == B_LOGADDEXP) {
    double hi = max_db(x, y), lo = min_db(x, y);
    double out = hi + log1p((double)mlx_exp_f32_((float)(lo - hi)));
    return (lo == -INFINITY || hi == INFINITY) ? hi : out;
  } else return atan2(x, y);
}

template <int OP, typename T>
constexpr bool binary_ok() {
  constexpr bool fl = is_real_float_v<T>, in = is_int_v<T>, b = std::is_same_v<T, mbool>, c = std::is_same_v<T, c64>;
  if constexpr (OP == B_ADD || OP == B_SUBTRACT || OP == B_MULTIPLY || OP == B_MAXIMUM || OP == B_MINIMUM ||
                OP == B_FLOOR_DIVIDE || OP == B_POWER || is_cmp_op<OP>)
    return fl || in || b || c;
  if constexpr (OP == B_DIVIDE) return fl || c;
  if constexpr (OP == B_REMAINDER) return fl || in || b;
  if constexpr (OP == B_LOGADDEXP || OP == B_ARCTAN2) return fl;
  if constexpr (OP == B_LOGICAL_AND || OP == B_LOGICAL_OR) return b;
  if constexpr (OP == B_BITWISE_AND || OP == B_BITWISE_OR || OP == B_BITWISE_XOR) return in || b;
  if constexpr (OP == B_LEFT_SHIFT || OP == B_RIGHT_SHIFT) return in;
  return false;
}

template <typename W>
__device__ __forceinline__ W ipow(W base, W e) {
  W r = 1;
  while (e) {
    if (e & 1) r *= base;
    e >>= 1;
    base *= base;
  }
  return r;
}

template <int OP, typename T>
__device__ __forceinline__ auto binary_apply(T x, T y) {
  if constexpr (is_cmp_op<OP>) {
    mbool r;
    if constexpr (std::is_same_v<T, c64>) {
      if constexpr (OP == B_EQUAL) r.v = x.re == y.re && x.im == y.im;
      else if constexpr (OP == B_NOT_EQUAL) r.v = x.re != y.re || x.im != y.im;
      else if constexpr (OP == B_GREATER) r.v = cgt(x, y);
      else if constexpr (OP == B_GREATER_EQUAL) r.v = cge(x, y);
      else if constexpr (OP == B_LESS) r.v = cgt(y, x);
      else r.v = cge(y, x);
    } else {
      /* floats compare in their own type (float64 stays double) */
      auto a = [&] {
        if constexpr (std::is_same_v<T, mbool>) return (int)x.v;
        else if constexpr (is_fl_v<T>) return ldf(x);
        else return x;
      }();
      auto b = [&] {
        if constexpr (std::is_same_v<T, mbool>) return (int)y.v;
        else if constexpr (is_fl_v<T>) return ldf(y);
        else return y;
      }();
      if constexpr (OP == B_EQUAL) r.v = a == b;
      else if constexpr (OP == B_NOT_EQUAL) r.v = a != b;
      else if constexpr (OP == B_GREATER) r.v = a > b;
      else if constexpr (OP == B_GREATER_EQUAL) r.v = a >= b;
      else if constexpr (OP == B_LESS) r.v = a < b;
      else r.v = a <= b;
    }
    return r;
  } else if constexpr (std::is_same_v<T, mbool>) {
    uint8_t a = x.v, b = y.v, v;
    if constexpr (OP == B_ADD || OP == B_MAXIMUM || OP == B_LOGICAL_OR || OP == B_BITWISE_OR) v = a | b;
    else if constexpr (OP == B_SUBTRACT || OP == B_BITWISE_XOR) v = a ^ b;
    else if constexpr (OP == B_POWER) v = a | !b;
    else if constexpr (OP == B_REMAINDER) v = a & !b;
    else v = a & b; /* multiply, floor_divide, minimum, logical_and, bitwise_and */
    mbool r;
    r.v = v;
    return r;
  } else if constexpr (std::is_same_v<T, c64>) {
    if constexpr (OP == B_ADD) return cadd(x, y);
    else if constexpr (OP == B_SUBTRACT) return csub(x, y);
    else if constexpr (OP == B_MULTIPLY) return cmul(x, y);
    else if constexpr (OP == B_DIVIDE || OP == B_FLOOR_DIVIDE) return cdiv(x, y);
    else if constexpr (OP == B_POWER) {
      if (x.re == 0 && x.im == 0 && y.re == 0 && y.im == 0) return cmk(1.0f, 0.0f);
      return cexp_(cmul(y, clog_(x)));
    } else if constexpr (OP == B_MAXIMUM) return cnan(y) ? y : (cnan(x) ? x : (cgt(x, y) ? x : y));
    else return cnan(y) ? y : (cnan(x) ? x : (cgt(y, x) ? x : y));
  } else if constexpr (std::is_same_v<T, double>) {
    return binary_d<OP>(x, y);
  } else if constexpr (is_fl_v<T>) {
    return stf<T>(binary_fl<OP, T>(ldf(x), ldf(y)));
  } else {
    using W = wide_u<T>;
    using S = wide_s<T>;
    constexpr int mask = (int)sizeof(W) * 8 - 1;
    if constexpr (OP == B_ADD) return (T)((W)x + (W)y);
    else if constexpr (OP == B_SUBTRACT) return (T)((W)x - (W)y);
    else if constexpr (OP == B_MULTIPLY) return (T)((W)x * (W)y);
    else if constexpr (OP == B_POWER) {
      if constexpr (is_sint_v<T>) return (T)(y < 0 ? (W)0 : ipow<uint64_t>((uint64_t)(W)x, (uint64_t)y));
      else return (T)ipow<uint64_t>((uint64_t)x, (uint64_t)y);
    } else if constexpr (OP == B_REMAINDER) {
      if constexpr (is_sint_v<T>) {
        if (y == 0) return x;
        if (y == -1) return (T)0;
        T r = x % y;
        return (T)((r != 0 && ((r < 0) != (y < 0))) ? r + y : r);
      } else {
        return (T)(y == 0 ? x : x % y);
      }
    } else if constexpr (OP == B_FLOOR_DIVIDE) {
      if constexpr (is_sint_v<T>) {
        if (y == 0) return (T)0;
        if (y == -1) return (T)((W)0 - (W)x);
        return (T)(W)(x / y - ((x % y != 0) & ((x < 0) != (y < 0))));
      } else {
        return (T)(y == 0 ? 0 : x / y);
      }
    } else if constexpr (OP == B_MAXIMUM) return x > y ? x : y;
    else if constexpr (OP == B_MINIMUM) return x < y ? x : y;
    else if constexpr (OP == B_BITWISE_AND) return (T)(x & y);
    else if constexpr (OP == B_BITWISE_OR) return (T)(x | y);
    else if constexpr (OP == B_BITWISE_XOR) return (T)(x ^ y);
    else if constexpr (OP == B_LEFT_SHIFT) return (T)((W)x << (y & mask));
    else {
      if constexpr (is_sint_v<T>) return (T)((S)x >> (y & mask));
      else return (T)((W)x >> (y & mask));
    }
  }
}

/* An operand whose pointer is NULL is the single value in av / bv. */
template <typename T>
__device__ __forceinline__ pack4<T> load4_or(const T* p, T v, int64_t i, int64_t s) {
  if (p) return load4(p, i, s);
  pack4<T> r;
  r.v[0] = r.v[1] = r.v[2] = r.v[3] = v;
  return r;
}

template <int OP, typename T, typename TO>
struct binary_f {
  TO* out;
  const T* a;
  const T* b;
  T av, bv;
  __device__ void operator()(int64_t i, int64_t o0, int64_t o1, int64_t) const {
    out[i] = binary_apply<OP, T>(a ? a[o0] : av, b ? b[o1] : bv);
  }
  static constexpr bool vec4 = true;
  bool aligned4() const { return is_aligned4(out) && is_aligned4(a) && is_aligned4(b); }
  __device__ void run4(int64_t i, int64_t s0, int64_t s1) const {
    pack4<T> x = load4_or(a, av, i, s0), y = load4_or(b, bv, i, s1);
    pack4<TO> r;
#pragma unroll
    for (int k = 0; k < 4; k++) r.v[k] = binary_apply<OP, T>(x.v[k], y.v[k]);
    *reinterpret_cast<pack4<TO>*>(out + i) = r;
  }
};

template <int OP, typename T>
static int binary_run(mlx_dtype out, void* dst, const void* a, const void* b, const void* a_val, const void* b_val,
                      const mlx_cu_elem_* l, void* stream) {
  if constexpr (!binary_ok<OP, T>()) {
    return -1;
  } else {
    using TO = std::conditional_t<is_cmp_op<OP>, mbool, T>;
    if (dtype_of<TO>() != out) return -1;
    binary_f<OP, T, TO> f{(TO*)dst, (const T*)a, (const T*)b, T{}, T{}};
    if (!a) memcpy(&f.av, a_val, sizeof(T));
    if (!b) memcpy(&f.bv, b_val, sizeof(T));
    return ew_launch(f, l, 2, stream);
  }
}

template <typename T>
static int binary_type(int op, mlx_dtype out, void* dst, const void* a, const void* b, const void* a_val,
                       const void* b_val, const mlx_cu_elem_* l, void* stream) {
  switch (op) {
#define B_CASE(N) \
  case B_##N: return binary_run<B_##N, T>(out, dst, a, b, a_val, b_val, l, stream);
    MLX_CU_BINARY_OPS(B_CASE)
#undef B_CASE
    default: return -1;
  }
}

extern "C" int mlx_cu_binary_launch_(int op, mlx_dtype in, mlx_dtype out, void* dst, const void* a, const void* b,
                                     const void* a_val, const void* b_val, const mlx_cu_elem_* l, void* stream) {
  MLX_CU_DISPATCH(in, binary_type, op, out, dst, a, b, a_val, b_val, l, stream)
}

/* ---- select ---------------------------------------------------------------- */

/* Moves bits: one kernel per element size. */
template <typename W>
struct select_f {
  W* out;
  const uint8_t* c;
  const W* x;
  const W* y;
  __device__ void operator()(int64_t i, int64_t o0, int64_t o1, int64_t o2) const {
    out[i] = c[o0] ? x[o1] : y[o2];
  }
};

extern "C" int mlx_cu_select_launch_(int itemsize, void* dst, const void* c, const void* x, const void* y,
                                     const mlx_cu_elem_* l, void* stream) {
  const uint8_t* cc = (const uint8_t*)c;
  switch (itemsize) {
    case 1: return ew_launch(select_f<uint8_t>{(uint8_t*)dst, cc, (const uint8_t*)x, (const uint8_t*)y}, l, 3, stream);
    case 2:
      return ew_launch(select_f<uint16_t>{(uint16_t*)dst, cc, (const uint16_t*)x, (const uint16_t*)y}, l, 3, stream);
    case 4:
      return ew_launch(select_f<uint32_t>{(uint32_t*)dst, cc, (const uint32_t*)x, (const uint32_t*)y}, l, 3, stream);
    case 8:
      return ew_launch(select_f<uint64_t>{(uint64_t*)dst, cc, (const uint64_t*)x, (const uint64_t*)y}, l, 3, stream);
    default: return -1;
  }
}
