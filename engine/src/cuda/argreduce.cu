/* Device kernels of argmax/argmin: the index (uint32) of the first max or
 * min along the reduced dims of each output, as cpu/reduce.c: NaN counts
 * as larger and as smaller than any number (the first NaN wins), complex
 * numbers compare by real then imaginary part, float16/bfloat16 compare
 * as floats. A block per output when the reduction is long (each thread
 * scans a stride of it, then warp shuffles and shared memory combine,
 * ties going to the smaller index), else a thread per output. */
#include "device.cuh"

template <typename T>
struct arg_val {
  using type = std::conditional_t<is_fl_v<T>, float, std::conditional_t<std::is_same_v<T, mbool>, uint8_t, T>>;
};

template <typename T>
__device__ __forceinline__ typename arg_val<T>::type arg_load(T x) {
  if constexpr (is_fl_v<T>) return ldf(x);
  else if constexpr (std::is_same_v<T, mbool>) return x.v;
  else return x;
}

template <typename V>
__device__ __forceinline__ bool isnan_v(V v) {
  if constexpr (std::is_same_v<V, c64>) return cnan(v);
  else if constexpr (std::is_floating_point_v<V>) return v != v;
  else return false;
}

/* v strictly better than b (for a min when is_min). */
template <typename V>
__device__ __forceinline__ bool better(V v, V b, int is_min) {
  if (isnan_v(v)) return !isnan_v(b);
  if constexpr (std::is_same_v<V, c64>) return is_min ? cgt(b, v) : cgt(v, b);
  else return is_min ? v < b : v > b;
}

__device__ __forceinline__ int64_t offset_of(int64_t i, int nd, const int64_t* shape, const int64_t* strides) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    int64_t q = i / shape[d];
    off += (i - q * shape[d]) * strides[d];
    i = q;
  }
  return off;
}

/* (v, i) or (w, j), whichever comes first as an answer; i or j < 0: none. */
template <typename V>
__device__ __forceinline__ void pick(V& v, int64_t& i, V w, int64_t j, int is_min) {
  if (j < 0) return;
  if (i < 0 || better(w, v, is_min) || (!better(v, w, is_min) && j < i)) {
    v = w;
    i = j;
  }
}

template <typename V>
__device__ __forceinline__ V shfl(V v, int o) {
  if constexpr (std::is_same_v<V, c64>) {
    V r;
    r.re = __shfl_xor_sync(0xffffffffu, v.re, o);
    r.im = __shfl_xor_sync(0xffffffffu, v.im, o);
    return r;
  } else {
    return __shfl_xor_sync(0xffffffffu, v, o);
  }
}

template <typename T>
__global__ void arg_block_k(uint32_t* out, const T* in, mlx_cu_reduce_ r, int is_min) {
  using V = typename arg_val<T>::type;
  __shared__ V sv[32];
  __shared__ int64_t si[32];
  int64_t base = offset_of(blockIdx.x, r.kdim, r.kshape, r.kstrides);
  V best{};
  int64_t bi = -1;
  for (int64_t j = threadIdx.x; j < r.n; j += blockDim.x)
    pick(best, bi, arg_load(in[base + offset_of(j, r.rdim, r.rshape, r.rstrides)]), j, is_min);
  for (int o = 16; o > 0; o >>= 1) {
    V w = shfl(best, o);
    int64_t wj = __shfl_xor_sync(0xffffffffu, bi, o);
    pick(best, bi, w, wj, is_min);
  }
  int w = threadIdx.x / 32, l = threadIdx.x % 32;
  if (l == 0) {
    sv[w] = best;
    si[w] = bi;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int k = 1; k < (int)(blockDim.x / 32); k++) pick(best, bi, sv[k], si[k], is_min);
    out[blockIdx.x] = (uint32_t)bi;
  }
}

template <typename T>
__global__ void arg_thread_k(uint32_t* out, const T* in, mlx_cu_reduce_ r, int is_min) {
  using V = typename arg_val<T>::type;
  for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < r.m; o += (int64_t)gridDim.x * blockDim.x) {
    int64_t base = offset_of(o, r.kdim, r.kshape, r.kstrides);
    V best{};
    int64_t bi = -1;
    for (int64_t j = 0; j < r.n; j++) pick(best, bi, arg_load(in[base + offset_of(j, r.rdim, r.rshape, r.rstrides)]), j, is_min);
    out[o] = (uint32_t)bi;
  }
}

template <typename T>
static int arg_run(void* dst, const void* src, const mlx_cu_reduce_* r, int is_min, cudaStream_t st) {
  if (r->m == 0) return 0;
  if (r->n >= 256 && r->m <= 2147483647) {
    arg_block_k<T><<<(unsigned)r->m, 256, 0, st>>>((uint32_t*)dst, (const T*)src, *r, is_min);
  } else {
    int64_t g = (r->m + 255) / 256;
    arg_thread_k<T><<<(unsigned)(g > 65535 * 8 ? 65535 * 8 : g), 256, 0, st>>>((uint32_t*)dst, (const T*)src, *r, is_min);
  }
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_argreduce_launch_(mlx_dtype in, int is_min, void* dst, const void* src, const mlx_cu_reduce_* r,
                                        void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  MLX_CU_DISPATCH(in, arg_run, dst, src, r, is_min, st)
}
