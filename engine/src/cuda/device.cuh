/* Device-side types and helpers shared by the .cu files: the element
 * types (bool, bfloat16 and complex64 as distinct structs so templates
 * tell them from uint8/uint16), loads to the compute type and stores back
 * with the CPU kernels' exact conversions, and the launch shapes.
 *
 * The float math (exp, sin, tanh, log, ... and the float16 conversions)
 * is cpu/elementwise.h's own, turned into __device__ functions at build
 * time (the Makefile writes elementwise_math.cuh from it with sed), so
 * both backends compute the same formulas. nvcc runs with --fmad=false:
 * no multiply-add is contracted unless the source says fmaf, as gcc (in
 * ISO C mode) does not contract either. */
#ifndef MLX_CUDA_DEVICE_CUH
#define MLX_CUDA_DEVICE_CUH

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <type_traits>

#include "elementwise_math.cuh"
#include "launch.h"

struct mbool {
  uint8_t v;
};
struct bf16 {
  uint16_t bits;
};
struct c64 {
  float re, im;
};
struct cd {
  double re, im;
};

template <typename T>
constexpr bool is_sint_v = std::is_same_v<T, int8_t> || std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t> ||
                           std::is_same_v<T, int64_t>;
template <typename T>
constexpr bool is_uint_v = std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t> ||
                           std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>;
template <typename T>
constexpr bool is_int_v = is_sint_v<T> || is_uint_v<T>;
/* float16, bfloat16 and float32: computed in float. */
template <typename T>
constexpr bool is_fl_v = std::is_same_v<T, __half> || std::is_same_v<T, bf16> || std::is_same_v<T, float>;
template <typename T>
constexpr bool is_real_float_v = is_fl_v<T> || std::is_same_v<T, double>;

/* Integers compute in an unsigned type of at least 32 bits, so overflow
 * wraps (as cpu/binary.c's WU). */
template <typename T>
using wide_u = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
template <typename T>
using wide_s = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;

__device__ __forceinline__ float bf_to_f(bf16 h) {
  uint32_t u = (uint32_t)h.bits << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
/* As cpu/half.h's mlx_f32_to_bf16: nearest even, NaN made quiet. */
__device__ __forceinline__ bf16 f_to_bf(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  bf16 h;
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    h.bits = (uint16_t)((u >> 16) | 0x40u);
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    h.bits = (uint16_t)(u >> 16);
  }
  return h;
}
__device__ __forceinline__ float h_to_f(__half h) { return mlx_f16_to_f32_(__half_as_ushort(h)); }
__device__ __forceinline__ __half f_to_h(float f) { return __ushort_as_half(mlx_f32_to_f16_(f)); }

/* The compute value of a float-like element. */
template <typename T>
__device__ __forceinline__ float ldf(T x) {
  if constexpr (std::is_same_v<T, __half>) return h_to_f(x);
  else if constexpr (std::is_same_v<T, bf16>) return bf_to_f(x);
  else return x;
}
template <typename T>
__device__ __forceinline__ T stf(float v) {
  if constexpr (std::is_same_v<T, __half>) return f_to_h(v);
  else if constexpr (std::is_same_v<T, bf16>) return f_to_bf(v);
  else return v;
}
/* float rounded to T and back (half types' intermediate rounding). */
template <typename T>
__device__ __forceinline__ float rnd(float v) {
  return ldf<T>(stf<T>(v));
}

/* ---- complex64 arithmetic (C's formulas for finite values) ------------ */
__device__ __forceinline__ c64 cmk(float re, float im) {
  c64 z;
  z.re = re;
  z.im = im;
  return z;
}
__device__ __forceinline__ c64 cadd(c64 a, c64 b) { return cmk(a.re + b.re, a.im + b.im); }
__device__ __forceinline__ c64 csub(c64 a, c64 b) { return cmk(a.re - b.re, a.im - b.im); }
__device__ __forceinline__ c64 cmul(c64 a, c64 b) {
  return cmk(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
/* Smith's division. */
__device__ __forceinline__ c64 cdiv(c64 a, c64 b) {
  if (fabsf(b.re) >= fabsf(b.im)) {
    float r = b.im / b.re, den = b.re + b.im * r;
    return cmk((a.re + a.im * r) / den, (a.im - a.re * r) / den);
  }
  float r = b.re / b.im, den = b.re * r + b.im;
  return cmk((a.re * r + a.im) / den, (a.im * r - a.re) / den);
}
__device__ __forceinline__ float cabs_(c64 z) { return (float)sqrt((double)z.re * z.re + (double)z.im * z.im); }
__device__ __forceinline__ int cnan(c64 z) { return z.re != z.re || z.im != z.im; }
__device__ __forceinline__ int cgt(c64 a, c64 b) { return a.re > b.re || (a.re == b.re && a.im > b.im); }
__device__ __forceinline__ int cge(c64 a, c64 b) { return a.re > b.re || (a.re == b.re && a.im >= b.im); }
__device__ __forceinline__ c64 cexp_(c64 z) {
  float e = expf(z.re), s, c;
  sincosf(z.im, &s, &c);
  return cmk(e * c, e * s);
}
__device__ __forceinline__ c64 clog_(c64 z) { return cmk(logf(hypotf(z.re, z.im)), atan2f(z.im, z.re)); }
__device__ __forceinline__ c64 csqrt_(c64 z) {
  if (z.re == 0.0f && z.im == 0.0f) return cmk(0.0f, z.im);
  float t = sqrtf((fabsf(z.re) + hypotf(z.re, z.im)) * 0.5f);
  if (z.re >= 0.0f) return cmk(t, z.im / (2.0f * t));
  return cmk(fabsf(z.im) / (2.0f * t), copysignf(t, z.im));
}

/* ---- launch shapes ----------------------------------------------------- */
#define MLX_CU_THREADS 256
#define MLX_CU_PER_THREAD 4

static inline unsigned mlx_cu_blocks(int64_t n, int64_t per_block) {
  int64_t b = (n + per_block - 1) / per_block;
  if (b < 1) b = 1;
  if (b > (int64_t)1 << 30) b = (int64_t)1 << 30;
  return (unsigned)b;
}

/* Elementwise over a launch: f(i, o0, o1, o2) computes output i from the
 * inputs' elements at offsets o0, o1, o2. Outputs [start, n). */
template <class F>
__global__ void __launch_bounds__(MLX_CU_THREADS)
    ew_flat(F f, int64_t start, int64_t n, int64_t s0, int64_t s1, int64_t s2) {
  int64_t base = start + (int64_t)blockIdx.x * (MLX_CU_THREADS * MLX_CU_PER_THREAD) + threadIdx.x;
  int64_t step = (int64_t)gridDim.x * (MLX_CU_THREADS * MLX_CU_PER_THREAD);
  for (; base < n; base += step) {
#pragma unroll
    for (int k = 0; k < MLX_CU_PER_THREAD; k++) {
      int64_t i = base + k * MLX_CU_THREADS;
      if (i < n) f(i, i * s0, i * s1, i * s2);
    }
  }
}

/* Four consecutive elements, loaded and stored as one aligned vector. */
template <typename T>
struct alignas(sizeof(T) * 4) pack4 {
  T v[4];
};

/* The flat case with every input dense or a single element and every
 * pointer aligned to four elements: f.run4(i, s0, s1) computes outputs
 * i..i+3 with vector loads and stores (a thread moves 16 bytes of
 * float32, as PyTorch's kernels do). */
template <class F>
__global__ void __launch_bounds__(MLX_CU_THREADS) ew_vec4(F f, int64_t npacks, int64_t s0, int64_t s1) {
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  for (int64_t p = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; p < npacks; p += step) f.run4(p * 4, s0, s1);
}

template <class F>
__global__ void __launch_bounds__(MLX_CU_THREADS) ew_strided(F f, mlx_cu_elem_ l, int nin) {
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  for (int64_t i = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; i < l.n; i += step) {
    int64_t rem = i, o0 = 0, o1 = 0, o2 = 0;
    for (int d = l.ndim - 1; d >= 0; d--) {
      int64_t q = rem / l.shape[d];
      int64_t idx = rem - q * l.shape[d];
      rem = q;
      o0 += idx * l.strides[0][d];
      if (nin > 1) o1 += idx * l.strides[1][d];
      if (nin > 2) o2 += idx * l.strides[2][d];
    }
    f(i, o0, o1, o2);
  }
}

/* Functors with F::vec4 true provide run4 and aligned4(). */
template <class F, class = void>
struct has_vec4 : std::false_type {};
template <class F>
struct has_vec4<F, std::void_t<decltype(F::vec4)>> : std::bool_constant<F::vec4> {};

template <class F>
static int ew_launch(const F& f, const mlx_cu_elem_* l, int nin, void* stream) {
  if (l->n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  if (l->flat) {
    int64_t start = 0;
    if constexpr (has_vec4<F>::value) {
      if (l->n >= 4 * MLX_CU_THREADS && f.aligned4()) {
        int64_t npacks = l->n / 4;
        ew_vec4<F><<<mlx_cu_blocks(npacks, MLX_CU_THREADS * 4), MLX_CU_THREADS, 0, st>>>(f, npacks, l->fstride[0],
                                                                                        l->fstride[1]);
        start = npacks * 4;
      }
    }
    if (start < l->n)
      ew_flat<F><<<mlx_cu_blocks(l->n - start, MLX_CU_THREADS * MLX_CU_PER_THREAD), MLX_CU_THREADS, 0, st>>>(
          f, start, l->n, l->fstride[0], l->fstride[1], l->fstride[2]);
  } else {
    ew_strided<F><<<mlx_cu_blocks(l->n, MLX_CU_THREADS), MLX_CU_THREADS, 0, st>>>(f, *l, nin);
  }
  return (int)cudaGetLastError();
}

/* A four-element pack of p starting at element i, or four copies of p[0]
 * when p is a single element (stride 0). */
template <typename T>
__device__ __forceinline__ pack4<T> load4(const T* p, int64_t i, int64_t s) {
  if (s) return *reinterpret_cast<const pack4<T>*>(p + i);
  pack4<T> r;
  r.v[0] = r.v[1] = r.v[2] = r.v[3] = p[0];
  return r;
}

template <typename T>
__host__ __device__ __forceinline__ bool is_aligned4(const T* p) {
  return ((uintptr_t)p % (sizeof(T) * 4)) == 0;
}

/* The device element type of each dtype, for dispatch: F<T>::run(args). */
#define MLX_CU_DISPATCH(DT, FN, ...)                          \
  switch (DT) {                                               \
    case MLX_BOOL: return FN<mbool>(__VA_ARGS__);             \
    case MLX_UINT8: return FN<uint8_t>(__VA_ARGS__);          \
    case MLX_UINT16: return FN<uint16_t>(__VA_ARGS__);        \
    case MLX_UINT32: return FN<uint32_t>(__VA_ARGS__);        \
    case MLX_UINT64: return FN<uint64_t>(__VA_ARGS__);        \
    case MLX_INT8: return FN<int8_t>(__VA_ARGS__);            \
    case MLX_INT16: return FN<int16_t>(__VA_ARGS__);          \
    case MLX_INT32: return FN<int32_t>(__VA_ARGS__);          \
    case MLX_INT64: return FN<int64_t>(__VA_ARGS__);          \
    case MLX_FLOAT16: return FN<__half>(__VA_ARGS__);         \
    case MLX_FLOAT32: return FN<float>(__VA_ARGS__);          \
    case MLX_FLOAT64: return FN<double>(__VA_ARGS__);         \
    case MLX_BFLOAT16: return FN<bf16>(__VA_ARGS__);          \
    case MLX_COMPLEX64: return FN<c64>(__VA_ARGS__);          \
    default: return -1;                                       \
  }

template <typename T>
constexpr mlx_dtype dtype_of() {
  if constexpr (std::is_same_v<T, mbool>) return MLX_BOOL;
  else if constexpr (std::is_same_v<T, uint8_t>) return MLX_UINT8;
  else if constexpr (std::is_same_v<T, uint16_t>) return MLX_UINT16;
  else if constexpr (std::is_same_v<T, uint32_t>) return MLX_UINT32;
  else if constexpr (std::is_same_v<T, uint64_t>) return MLX_UINT64;
  else if constexpr (std::is_same_v<T, int8_t>) return MLX_INT8;
  else if constexpr (std::is_same_v<T, int16_t>) return MLX_INT16;
  else if constexpr (std::is_same_v<T, int32_t>) return MLX_INT32;
  else if constexpr (std::is_same_v<T, int64_t>) return MLX_INT64;
  else if constexpr (std::is_same_v<T, __half>) return MLX_FLOAT16;
  else if constexpr (std::is_same_v<T, float>) return MLX_FLOAT32;
  else if constexpr (std::is_same_v<T, double>) return MLX_FLOAT64;
  else if constexpr (std::is_same_v<T, bf16>) return MLX_BFLOAT16;
  else return MLX_COMPLEX64;
}

/* ---- conversions (astype), as cpu/copy.c's C casts --------------------- */
/* The real value of an element as double (complex: its real part). */
template <typename T>
__device__ __forceinline__ double real_d(T x) {
  if constexpr (std::is_same_v<T, mbool>) return x.v;
  else if constexpr (std::is_same_v<T, c64>) return x.re;
  else if constexpr (is_fl_v<T>) return ldf(x);
  else return (double)x;
}

template <typename TO, typename TI>
__device__ __forceinline__ TO convert(TI x) {
  if constexpr (std::is_same_v<TO, TI>) {
    return x;
  } else if constexpr (std::is_same_v<TO, mbool>) {
    mbool b;
    if constexpr (std::is_same_v<TI, c64>) b.v = x.re != 0 || x.im != 0;
    else if constexpr (is_fl_v<TI>) b.v = ldf(x) != 0;
    else b.v = x != 0;
    return b;
  } else if constexpr (std::is_same_v<TO, c64>) {
    if constexpr (std::is_same_v<TI, mbool>) return cmk(x.v, 0.0f);
    else if constexpr (is_fl_v<TI>) return cmk(ldf(x), 0.0f);
    else return cmk((float)x, 0.0f);
  } else if constexpr (is_fl_v<TO>) {
    /* through float, as upstream (and the CPU) convert */
    float v;
    if constexpr (std::is_same_v<TI, mbool>) v = x.v;
    else if constexpr (std::is_same_v<TI, c64>) v = x.re;
    else if constexpr (is_fl_v<TI>) v = ldf(x);
    else v = (float)x;
    return stf<TO>(v);
  } else if constexpr (std::is_same_v<TO, double>) {
    if constexpr (std::is_same_v<TI, mbool>) return x.v;
    else if constexpr (std::is_same_v<TI, c64>) return x.re;
    else if constexpr (is_fl_v<TI>) return ldf(x);
    else return (double)x;
  } else {
    /* to an integer */
    if constexpr (std::is_same_v<TI, mbool>) {
      return (TO)x.v;
    } else if constexpr (is_int_v<TI>) {
      return (TO)x;
    } else {
      /* from a float (complex: its real part): elementwise.h's defined
       * conversions, as cpu/copy.c */
      double d;
      if constexpr (std::is_same_v<TI, double>) d = x;
      else if constexpr (std::is_same_v<TI, c64>) d = x.re;
      else d = ldf(x);
      if constexpr (std::is_same_v<TO, uint64_t>) return mlx_f2u64_(d);
      else if constexpr (std::is_same_v<TO, uint32_t>) return std::is_same_v<TI, __half> ? mlx_f16_to_u32_(d) : mlx_f2u32_(d);
      else if constexpr (std::is_same_v<TO, int64_t>) return mlx_f2i64_(d);
      else return (TO)mlx_f2i32_(d);
    }
  }
}

#endif
