/* Device kernels of fast rms_norm and layer_norm over the last axis of
 * dense rows (rope at the end of the file): a block per row, sums in float (double for float64) with
 * warp shuffles, then the CPU kernels' formulas (cpu/fast.c): the scale
 * is 1 / sqrt(mean + eps) with the square root and division in double,
 * x * scale is rounded to the storage type before the weight, as
 * upstream's composition. The sums run in another order than the CPU's
 * eight lanes, so results may differ in the last bit. Weight and bias
 * are read with a stride (0 for a scalar). */
#include "device.cuh"

template <typename T, typename C>
__device__ __forceinline__ C nld(T x) {
  if constexpr (std::is_same_v<C, double>) return (double)x;
  else return ldf<T>(x);
}
template <typename T, typename C>
__device__ __forceinline__ T nst(C v) {
  if constexpr (std::is_same_v<T, double>) return v;
  else return stf<T>(v);
}
/* v rounded through T. */
template <typename T, typename C>
__device__ __forceinline__ C nrnd(C v) {
  return nld<T, C>(nst<T, C>(v));
}

template <typename C>
__device__ C row_sum(C v, C* sh) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int w = threadIdx.x / 32, l = threadIdx.x % 32;
  __syncthreads();
  if (l == 0) sh[w] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    C t = 0;
    for (int k = 0; k < (int)(blockDim.x / 32); k++) t += sh[k];
    sh[0] = t;
  }
  __syncthreads();
  return sh[0];
}

template <typename T, typename C>
__global__ void norm_k(T* out, const T* in, const T* w, int64_t ws, const T* b, int64_t bs, int64_t d, float eps,
                       int layer) {
  __shared__ C sh[32];
  const T* x = in + blockIdx.x * d;
  T* y = out + blockIdx.x * d;
  C mu = 0;
  if (layer) {
    C s = 0;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) s += nld<T, C>(x[i]);
    mu = row_sum(s, sh) / (C)d;
  }
  C s = 0;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    C c = nld<T, C>(x[i]) - mu;
    s += c * c;
  }
  C v = row_sum(s, sh);
  C n = (C)((C)1 / sqrt((double)(v / (C)d + (C)eps)));
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    C t = nrnd<T, C>((nld<T, C>(x[i]) - mu) * n);
    C r = t * nld<T, C>(w[i * ws]);
    y[i] = layer ? nst<T, C>(nrnd<T, C>(r) + nld<T, C>(b[i * bs])) : nst<T, C>(r);
  }
}

template <typename T, typename C>
static int norm_run(void* dst, const void* src, const void* w, int64_t ws, const void* b, int64_t bs, int64_t rows,
                    int64_t d, float eps, int layer, cudaStream_t st) {
  if (rows == 0) return 0;
  if (rows > 2147483647) return -1;
  int threads = d >= 1024 ? 1024 : d >= 256 ? 256 : 64;
  norm_k<T, C><<<(unsigned)rows, threads, 0, st>>>((T*)dst, (const T*)src, (const T*)w, ws, (const T*)b, bs, d, eps,
                                                    layer);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_norm_launch_(mlx_dtype dt, void* dst, const void* src, const void* w, int64_t ws, const void* b,
                                   int64_t bs, int64_t rows, int64_t d, float eps, int layer, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  switch (dt) {
    case MLX_FLOAT32: return norm_run<float, float>(dst, src, w, ws, b, bs, rows, d, eps, layer, st);
    case MLX_FLOAT16: return norm_run<__half, float>(dst, src, w, ws, b, bs, rows, d, eps, layer, st);
    case MLX_BFLOAT16: return norm_run<bf16, float>(dst, src, w, ws, b, bs, rows, d, eps, layer, st);
    case MLX_FLOAT64: return norm_run<double, double>(dst, src, w, ws, b, bs, rows, d, eps, layer, st);
    default: return -1;
  }
}

/* ---- rope ------------------------------------------------------------------
 * x dense [B, heads, T, D]; a thread per (row, k): k < half rotates the
 * pair (k * s1, k * s1 + s2) with angle ((t + offset[b]) * scale) *
 * inv_freq[k], cos/sin as the CPU kernel (elementwise.h's formulas;
 * for float64 libm's cosf/sinf, CUDA's here, so the last bit of those
 * may differ) rounded to the storage type and every product rounded; k >= half copies element dims + k - half. */
template <typename T>
__global__ void rope_k(T* out, const T* in, const float* inv, const void* offs, int off_unsigned, int64_t noff,
                       int64_t heads, int64_t tlen, int64_t d, int dims, int traditional, int forward, float scale,
                       int64_t total) {
  int half = dims / 2;
  int64_t per = half + (d - dims);
  for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < total; g += (int64_t)gridDim.x * blockDim.x) {
    int64_t row = g / per, k = g - row * per;
    const T* x = in + row * d;
    T* o = out + row * d;
    if (k >= half) {
      o[dims + k - half] = x[dims + k - half];
      continue;
    }
    int64_t t = row % tlen, b = row / tlen / heads, ob = noff > 1 ? b : 0;
    float off = off_unsigned ? (float)((const uint32_t*)offs)[ob] : (float)((const int32_t*)offs)[ob];
    float pos = ((float)t + off) * scale;
    float th = pos * inv[k];
    using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
    float c32, s32;
    if constexpr (std::is_same_v<T, double>) {
      c32 = cosf(th);
      s32 = sinf(th);
    } else {
      c32 = mlx_cos_f32_(th);
      s32 = mlx_sin_f32_(th);
    }
    C cs = nrnd<T, C>((C)c32), sn = nrnd<T, C>((C)s32);
    int64_t s1 = traditional ? 2 : 1, s2 = traditional ? 1 : half;
    int64_t a = k * s1, c = a + s2;
    C x1 = nld<T, C>(x[a]), x2 = nld<T, C>(x[c]), o1, o2;
    if (forward) {
      o1 = nrnd<T, C>(x1 * cs) - nrnd<T, C>(x2 * sn);
      o2 = nrnd<T, C>(x1 * sn) + nrnd<T, C>(x2 * cs);
    } else {
      o1 = nrnd<T, C>(x2 * sn) + nrnd<T, C>(x1 * cs);
      o2 = nrnd<T, C>(x2 * cs) - nrnd<T, C>(x1 * sn);
    }
    o[a] = nst<T, C>(o1);
    o[c] = nst<T, C>(o2);
  }
}

template <typename T>
static int rope_run(void* dst, const void* src, const float* inv, const void* offs, int off_unsigned, int64_t noff,
                    int64_t rows, int64_t heads, int64_t tlen, int64_t d, int dims, int traditional, int forward,
                    float scale, cudaStream_t st) {
  int64_t total = rows * (dims / 2 + (d - dims));
  if (total == 0) return 0;
  int64_t g = (total + 255) / 256;
  rope_k<T><<<(unsigned)(g > 65535 * 8 ? 65535 * 8 : g), 256, 0, st>>>(
      (T*)dst, (const T*)src, inv, offs, off_unsigned, noff, heads, tlen, d, dims, traditional, forward, scale, total);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_rope_launch_(mlx_dtype dt, void* dst, const void* src, const float* inv, const void* offs,
                                   int off_unsigned, int64_t noff, int64_t rows, int64_t heads, int64_t tlen, int64_t d,
                                   int dims, int traditional, int forward, float scale, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  switch (dt) {
    case MLX_FLOAT32: return rope_run<float>(dst, src, inv, offs, off_unsigned, noff, rows, heads, tlen, d, dims, traditional, forward, scale, st);
    case MLX_FLOAT16: return rope_run<__half>(dst, src, inv, offs, off_unsigned, noff, rows, heads, tlen, d, dims, traditional, forward, scale, st);
    case MLX_BFLOAT16: return rope_run<bf16>(dst, src, inv, offs, off_unsigned, noff, rows, heads, tlen, d, dims, traditional, forward, scale, st);
    case MLX_FLOAT64: return rope_run<double>(dst, src, inv, offs, off_unsigned, noff, rows, heads, tlen, d, dims, traditional, forward, scale, st);
    default: return -1;
  }
}
