/* Device kernels of sum, prod, max, min, all, any and mean over any set of
 * axes. The driver collapses the input into m outputs (kept dims) of n
 * elements (reduced dims), each with its strides. Two shapes of work:
 * a block per output when the reduced elements are contiguous and many
 * (warp shuffles, then shared memory across warps), else a thread per
 * output (consecutive outputs read consecutive addresses when the kept
 * dims are the inner ones, as in a column sum).
 *
 * Accumulators follow cpu/reduce.c: float sums in double (float64 too),
 * integer sums and products wrapping in 32 or 64 bits, float16/bfloat16
 * and float32 products in float, complex sums in double; max/min
 * propagate NaN; mean is (sum rounded to the sum dtype) * (1/n), both in
 * the output dtype. The summation order differs from the CPU's, so float
 * sums may differ in the last bit of the result. */
#include "device.cuh"

enum { R_SUM = MLX_CU_R_SUM, R_PROD = MLX_CU_R_PROD, R_MAX = MLX_CU_R_MAX, R_MIN = MLX_CU_R_MIN,
       R_ALL = MLX_CU_R_ALL, R_ANY = MLX_CU_R_ANY, R_MEAN = MLX_CU_R_MEAN };

/* The accumulator of (kind, input type). */
template <int K, typename T>
struct acc_of {
  using type = std::conditional_t<
      K == R_ALL || K == R_ANY, int,
      std::conditional_t<
          K == R_MAX || K == R_MIN,
          std::conditional_t<is_fl_v<T>, float, std::conditional_t<std::is_same_v<T, mbool>, int, T>>,
          std::conditional_t<
              std::is_same_v<T, c64>, std::conditional_t<K == R_PROD, c64, cd>,
              std::conditional_t<is_fl_v<T>, std::conditional_t<K == R_PROD, float, double>,
                                 std::conditional_t<std::is_same_v<T, double>, double,
                                                    std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>>>>>>;
};

template <typename A>
__device__ __forceinline__ A acc_from_int(int v) {
  if constexpr (std::is_same_v<A, c64>) return cmk((float)v, 0.0f);
  else if constexpr (std::is_same_v<A, cd>) {
    cd z;
    z.re = v;
    z.im = 0;
    return z;
  } else return (A)v;
}

template <int K, typename T, typename A>
__device__ __forceinline__ A identity() {
  if constexpr (K == R_ALL) return 1;
  else if constexpr (K == R_ANY) return 0;
  else if constexpr ((K == R_MAX || K == R_MIN) && std::is_same_v<T, mbool>) return K == R_MAX ? 0 : 1;
  else if constexpr (K == R_PROD) return acc_from_int<A>(1);
  else if constexpr (K == R_MAX || K == R_MIN) {
    if constexpr (std::is_same_v<A, float> || std::is_same_v<A, double>) return K == R_MAX ? -INFINITY : INFINITY;
    else if constexpr (std::is_same_v<A, c64>) return K == R_MAX ? cmk(-INFINITY, -INFINITY) : cmk(INFINITY, INFINITY);
    else if constexpr (is_sint_v<A>) return K == R_MAX ? (A)((uint64_t)1 << (sizeof(A) * 8 - 1)) : (A)~((uint64_t)1 << (sizeof(A) * 8 - 1));
    else return K == R_MAX ? (A)0 : (A)~(A)0;
  } else return acc_from_int<A>(0);
}

/* The element as the accumulator sees it. */
template <int K, typename T, typename A>
__device__ __forceinline__ A lift(T x) {
  if constexpr (K == R_ALL || K == R_ANY) {
    if constexpr (std::is_same_v<T, c64>) return x.re != 0 || x.im != 0;
    else if constexpr (std::is_same_v<T, mbool>) return x.v != 0;
    else if constexpr (is_fl_v<T>) return ldf(x) != 0;
    else return x != 0;
  } else if constexpr (std::is_same_v<T, mbool>) {
    return acc_from_int<A>(x.v);
  } else if constexpr (std::is_same_v<A, cd>) {
    cd z;
    z.re = x.re;
    z.im = x.im;
    return z;
  } else if constexpr (std::is_same_v<T, c64>) {
    return x;
  } else if constexpr (is_fl_v<T>) {
    return (A)ldf(x);
  } else {
    return (A)x;
  }
}

template <int K, typename A>
__device__ __forceinline__ A combine(A a, A b) {
  if constexpr (K == R_ALL) return a & b;
  else if constexpr (K == R_ANY) return a | b;
  else if constexpr (K == R_SUM || K == R_MEAN) {
    if constexpr (std::is_same_v<A, cd>) {
      cd z;
      z.re = a.re + b.re;
      z.im = a.im + b.im;
      return z;
    } else return a + b;
  } else if constexpr (K == R_PROD) {
    if constexpr (std::is_same_v<A, c64>) return cmul(a, b);
    else return a * b;
  } else if constexpr (std::is_same_v<A, c64>) {
    if (cnan(a)) return a;
    if (cnan(b)) return b;
    return K == R_MAX ? (cgt(b, a) ? b : a) : (cgt(a, b) ? b : a);
  } else if constexpr (std::is_same_v<A, float> || std::is_same_v<A, double>) {
    if (a != a) return a;
    if (b != b) return b;
    return K == R_MAX ? (b > a ? b : a) : (b < a ? b : a);
  } else {
    if constexpr (K == R_MAX) return b > a ? b : a;
    else return b < a ? b : a;
  }
}

template <typename A>
__device__ __forceinline__ A shfl_down(A v, int d) {
  if constexpr (std::is_same_v<A, cd>) {
    cd z;
    z.re = __shfl_down_sync(0xffffffffu, v.re, d);
    z.im = __shfl_down_sync(0xffffffffu, v.im, d);
    return z;
  } else if constexpr (std::is_same_v<A, c64>) {
    return cmk(__shfl_down_sync(0xffffffffu, v.re, d), __shfl_down_sync(0xffffffffu, v.im, d));
  } else {
    return __shfl_down_sync(0xffffffffu, v, d);
  }
}

/* The output element from the accumulator (scale: 1/n for mean). */
template <int K, typename T, typename TO, typename A>
__device__ __forceinline__ TO finish(A a, double scale) {
  if constexpr (K == R_ALL || K == R_ANY) {
    mbool b;
    b.v = a != 0;
    return b;
  } else if constexpr (K == R_MAX || K == R_MIN) {
    if constexpr (std::is_same_v<T, mbool>) {
      mbool b;
      b.v = (uint8_t)a;
      return b;
    } else if constexpr (is_fl_v<T>) return stf<T>(a);
    else return a;
  } else if constexpr (K == R_MEAN) {
    if constexpr (std::is_same_v<TO, c64>) {
      float sc = (float)scale;
      return cmk((float)a.re * sc, (float)a.im * sc);
    } else if constexpr (std::is_same_v<TO, double>) {
      return (double)a * scale;
    } else if constexpr (std::is_same_v<TO, __half>) {
      float s = __half2float(__double2half(a));
      float sc = rnd<__half>((float)scale);
      return stf<__half>(s * sc);
    } else if constexpr (std::is_same_v<TO, bf16>) {
      float s = rnd<bf16>((float)a);
      float sc = rnd<bf16>((float)scale);
      return stf<bf16>(s * sc);
    } else {
      /* float32 out: from a float sum, or an integer sum in its sum dtype */
      float s;
      if constexpr (std::is_same_v<A, double>) s = (float)a;
      else if constexpr (is_sint_v<T> || std::is_same_v<T, mbool>) s = sizeof(A) == 8 ? (float)(int64_t)a : (float)(int32_t)a;
      else s = (float)a;
      return s * (float)scale;
    }
  } else {
    /* sum, prod */
    if constexpr (std::is_same_v<TO, c64>) {
      if constexpr (std::is_same_v<A, cd>) return cmk((float)a.re, (float)a.im);
      else return a;
    } else if constexpr (is_fl_v<TO>) {
      if constexpr (std::is_same_v<TO, __half> && std::is_same_v<A, double>) return __double2half(a);
      else return stf<TO>((float)a);
    } else return (TO)a;
  }
}

/* Offset of reduced element r (row-major over the reduced dims). */
__device__ __forceinline__ int64_t roff(const mlx_cu_reduce_& p, int64_t r) {
  if (p.rdim == 1) return r * p.rstrides[0];
  int64_t off = 0;
  for (int d = p.rdim - 1; d >= 0; d--) {
    int64_t q = r / p.rshape[d];
    off += (r - q * p.rshape[d]) * p.rstrides[d];
    r = q;
  }
  return off;
}

__device__ __forceinline__ int64_t koff(const mlx_cu_reduce_& p, int64_t j) {
  int64_t off = 0;
  for (int d = p.kdim - 1; d >= 0; d--) {
    int64_t q = j / p.kshape[d];
    off += (j - q * p.kshape[d]) * p.kstrides[d];
    j = q;
  }
  return off;
}

/* A block per output: the reduced elements are read contiguously. */
template <int K, typename T, typename TO>
__global__ void __launch_bounds__(MLX_CU_THREADS) reduce_rows(TO* out, const T* in, mlx_cu_reduce_ p, double scale) {
  using A = typename acc_of<K, T>::type;
  __shared__ A part[MLX_CU_THREADS / 32];
  for (int64_t j = blockIdx.x; j < p.m; j += gridDim.x) {
    const T* x = in + koff(p, j);
    A acc = identity<K, T, A>();
    if (p.rdim == 1 && p.rstrides[0] == 1) {
      for (int64_t r = threadIdx.x; r < p.n; r += MLX_CU_THREADS) acc = combine<K, A>(acc, lift<K, T, A>(x[r]));
    } else {
      for (int64_t r = threadIdx.x; r < p.n; r += MLX_CU_THREADS)
        acc = combine<K, A>(acc, lift<K, T, A>(x[roff(p, r)]));
    }
    for (int d = 16; d > 0; d >>= 1) acc = combine<K, A>(acc, shfl_down(acc, d));
    if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
      acc = threadIdx.x < MLX_CU_THREADS / 32 ? part[threadIdx.x] : identity<K, T, A>();
      for (int d = 16; d > 0; d >>= 1) acc = combine<K, A>(acc, shfl_down(acc, d));
      if (threadIdx.x == 0) out[j] = finish<K, T, TO, A>(acc, scale);
    }
    __syncthreads();
  }
}

/* A thread per output. */
template <int K, typename T, typename TO>
__global__ void __launch_bounds__(MLX_CU_THREADS) reduce_cols(TO* out, const T* in, mlx_cu_reduce_ p, double scale) {
  using A = typename acc_of<K, T>::type;
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  for (int64_t j = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; j < p.m; j += step) {
    const T* x = in + koff(p, j);
    A acc = identity<K, T, A>();
    for (int64_t r = 0; r < p.n; r++) acc = combine<K, A>(acc, lift<K, T, A>(x[roff(p, r)]));
    out[j] = finish<K, T, TO, A>(acc, scale);
  }
}

/* The output type of (kind, input type): ops/reduce.c's dtypes. */
template <int K, typename T>
struct red_out {
  using sum_t = std::conditional_t<
      is_real_float_v<T> || std::is_same_v<T, c64>, T,
      std::conditional_t<sizeof(T) == 8, T,
                         std::conditional_t<is_uint_v<T>, uint32_t, int32_t>>>;
  using mean_t = std::conditional_t<is_real_float_v<T> || std::is_same_v<T, c64>, T, float>;
  using type = std::conditional_t<
      K == R_ALL || K == R_ANY, mbool,
      std::conditional_t<K == R_MAX || K == R_MIN, T, std::conditional_t<K == R_MEAN, mean_t, sum_t>>>;
};

template <int K, typename T>
static int reduce_run(mlx_dtype out, void* dst, const void* src, const mlx_cu_reduce_* p, double scale, void* stream) {
  using TO = typename red_out<K, T>::type;
  if (dtype_of<TO>() != out) return -1;
  if (p->m == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  int rows = p->n >= 256 && p->rdim == 1 && p->rstrides[0] == 1;
  if (rows || p->m < 1024)
    reduce_rows<K, T, TO><<<mlx_cu_blocks(p->m, 1), MLX_CU_THREADS, 0, st>>>((TO*)dst, (const T*)src, *p, scale);
  else
    reduce_cols<K, T, TO><<<mlx_cu_blocks(p->m, MLX_CU_THREADS), MLX_CU_THREADS, 0, st>>>((TO*)dst, (const T*)src, *p,
                                                                                        scale);
  return (int)cudaGetLastError();
}

template <typename T>
static int reduce_type(int kind, mlx_dtype out, void* dst, const void* src, const mlx_cu_reduce_* p, double scale,
                       void* stream) {
  switch (kind) {
    case R_SUM: return reduce_run<R_SUM, T>(out, dst, src, p, scale, stream);
    case R_PROD: return reduce_run<R_PROD, T>(out, dst, src, p, scale, stream);
    case R_MAX: return reduce_run<R_MAX, T>(out, dst, src, p, scale, stream);
    case R_MIN: return reduce_run<R_MIN, T>(out, dst, src, p, scale, stream);
    case R_ALL: return reduce_run<R_ALL, T>(out, dst, src, p, scale, stream);
    case R_ANY: return reduce_run<R_ANY, T>(out, dst, src, p, scale, stream);
    case R_MEAN: return reduce_run<R_MEAN, T>(out, dst, src, p, scale, stream);
    default: return -1;
  }
}

extern "C" int mlx_cu_reduce_launch_(int kind, mlx_dtype in, mlx_dtype out, void* dst, const void* src,
                                     const mlx_cu_reduce_* p, double scale, void* stream) {
  MLX_CU_DISPATCH(in, reduce_type, kind, out, dst, src, p, scale, stream)
}
