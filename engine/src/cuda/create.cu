/* Phase 2a device kernels: fills, eye/tri bands, and softmax/logsumexp
 * over the last axis of dense rows (a block per row). */
#include "device.cuh"

template <typename T>
__global__ void fill_k(T* d, int64_t n, T v) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    d[i] = v;
}

template <typename T>
__global__ void band_k(T* d, int64_t rows, int64_t cols, int64_t k, int tri, T one) {
  int64_t n = rows * cols;
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < n; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = x / cols, j = x % cols;
    int on = tri ? (j <= i + k) : (j == i + k);
    d[x] = on ? one : T(0);
  }
}

static unsigned grid_for(int64_t n) {
  int64_t g = (n + 255) / 256;
  return (unsigned)(g < 1 ? 1 : (g > 65535 * 8 ? 65535 * 8 : g));
}

extern "C" int mlx_cu_fill_launch_(void* dst, int64_t n, int itemsize, const unsigned char v[8], void* stream) {
  if (n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: { uint8_t x; memcpy(&x, v, 1); fill_k<<<grid_for(n), 256, 0, st>>>((uint8_t*)dst, n, x); break; }
    case 2: { uint16_t x; memcpy(&x, v, 2); fill_k<<<grid_for(n), 256, 0, st>>>((uint16_t*)dst, n, x); break; }
    case 4: { uint32_t x; memcpy(&x, v, 4); fill_k<<<grid_for(n), 256, 0, st>>>((uint32_t*)dst, n, x); break; }
    case 8: { uint64_t x; memcpy(&x, v, 8); fill_k<<<grid_for(n), 256, 0, st>>>((uint64_t*)dst, n, x); break; }
    default: return -1;
  }
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_band_launch_(void* dst, int64_t rows, int64_t cols, int64_t k, int tri, int itemsize,
                                   const unsigned char one[8], void* stream) {
  int64_t n = rows * cols;
  if (n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: { uint8_t x; memcpy(&x, one, 1); band_k<<<grid_for(n), 256, 0, st>>>((uint8_t*)dst, rows, cols, k, tri, x); break; }
    case 2: { uint16_t x; memcpy(&x, one, 2); band_k<<<grid_for(n), 256, 0, st>>>((uint16_t*)dst, rows, cols, k, tri, x); break; }
    case 4: { uint32_t x; memcpy(&x, one, 4); band_k<<<grid_for(n), 256, 0, st>>>((uint32_t*)dst, rows, cols, k, tri, x); break; }
    case 8: { uint64_t x; memcpy(&x, one, 8); band_k<<<grid_for(n), 256, 0, st>>>((uint64_t*)dst, rows, cols, k, tri, x); break; }
    default: return -1;
  }
  return (int)cudaGetLastError();
}

/* ---- softmax / logsumexp over the last axis ------------------------------ */

template <typename T, typename C>
__device__ __forceinline__ C ldc(T x) {
  if constexpr (std::is_same_v<C, double>) return (double)x;
  else return ldf<T>(x);
}
template <typename T, typename C>
__device__ __forceinline__ T stc(C v) {
  if constexpr (std::is_same_v<T, double>) return v;
  else return stf<T>(v);
}
__device__ __forceinline__ float cexp(float x) { return expf(x); }
__device__ __forceinline__ double cexp(double x) { return exp(x); }
__device__ __forceinline__ float clog(float x) { return logf(x); }
__device__ __forceinline__ double clog(double x) { return log(x); }

/* op over the block's values (id: op's identity, for the lanes of the
 * second pass past the number of warps). */
template <typename C, typename Op>
__device__ C block_reduce(C v, Op op, C id, C* sh) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  int w = threadIdx.x / 32, l = threadIdx.x % 32;
  __syncthreads();
  if (l == 0) sh[w] = v;
  __syncthreads();
  int nw = blockDim.x / 32;
  v = threadIdx.x < nw ? sh[threadIdx.x] : id;
  if (w == 0)
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (threadIdx.x == 0) sh[0] = v;
  __syncthreads();
  return sh[0];
}

template <typename T, typename C>
__global__ void softmax_k(T* out, const T* in, int64_t n, int lse) {
  __shared__ C sh[32];
  const T* x = in + blockIdx.x * n;
  C mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    C v = ldc<T, C>(x[j]);
    mx = v > mx || v != v ? v : mx;
  }
  mx = block_reduce(mx, [](C a, C b) { return a > b || a != a ? a : b; }, C(-INFINITY), sh);
  C m0 = isinf(mx) ? C(0) : mx;
  C s = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += cexp(ldc<T, C>(x[j]) - m0);
  s = block_reduce(s, [](C a, C b) { return a + b; }, C(0), sh);
  if (lse) {
    if (threadIdx.x == 0) out[blockIdx.x] = stc<T, C>(clog(s) + m0);
    return;
  }
  T* y = out + blockIdx.x * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) y[j] = stc<T, C>(cexp(ldc<T, C>(x[j]) - m0) / s);
}

template <typename T, typename C>
static int sm_run(void* dst, const void* src, int64_t rows, int64_t n, int lse, cudaStream_t st) {
  if (rows == 0) return 0;
  if (rows > 2147483647) return -1;
  int threads = n >= 1024 ? 1024 : n >= 256 ? 256 : 64;
  softmax_k<T, C><<<(unsigned)rows, threads, 0, st>>>((T*)dst, (const T*)src, n, lse);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_softmax_launch_(mlx_dtype dt, void* dst, const void* src, int64_t rows, int64_t n, int lse,
                                      void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  switch (dt) {
    case MLX_FLOAT32: return sm_run<float, float>(dst, src, rows, n, lse, st);
    case MLX_FLOAT16: return sm_run<__half, float>(dst, src, rows, n, lse, st);
    case MLX_BFLOAT16: return sm_run<bf16, float>(dst, src, rows, n, lse, st);
    case MLX_FLOAT64: return sm_run<double, double>(dst, src, rows, n, lse, st);
    default: return -1;
  }
}
