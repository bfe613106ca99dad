/* Affine quantization on the device (driven by cuda/quantize.c). The
 * packed layout and the arithmetic are cpu/quantize.c's: codes form a
 * little-endian bit stream of uint32 words, each group starting on a
 * word; scale, bias and codes come from cpu/quantize_affine.h, the CPU's
 * own code (nvcc runs with --fmad=false), so packed bits, scales and
 * biases equal the CPU's. */
#include "../cpu/fp8.h"
#include "../cpu/quantize_affine.h"
#include "device.cuh"

/* Code j of a group's words (bits wide, possibly straddling two words). */
__device__ __forceinline__ uint32_t get_code(const uint32_t* words, int j, int bits) {
  int bit = j * bits, w = bit >> 5, sh = bit & 31;
  uint64_t v = words[w] >> sh;
  if (sh + bits > 32) v |= (uint64_t)words[w + 1] << (32 - sh);
  return (uint32_t)(v & ((1u << bits) - 1u));
}

/* One thread per group of gs floats: scale and bias (stored as S), then
 * the codes, assembled word by word. */
template <typename S>
__global__ void __launch_bounds__(MLX_CU_THREADS)
    quantize_k(const float* w, uint32_t* wq, S* scales, S* biases, int64_t groups, int gs, int bits) {
  int64_t g = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x;
  if (g >= groups) return;
  const float* x = w + g * gs;
  float scale, bias;
  mlx_affine_scale_bias_(x, gs, bits, &scale, &bias);
  uint32_t* out = wq + g * ((int64_t)gs * bits / 32);
  uint64_t acc = 0;
  int filled = 0, word = 0;
  for (int j = 0; j < gs; j++) {
    acc |= (uint64_t)mlx_affine_code_(x[j], scale, bias, bits) << filled;
    filled += bits;
    if (filled >= 32) {
      out[word++] = (uint32_t)acc;
      acc >>= 32;
      filled -= 32;
    }
  }
  scales[g] = stf<S>(scale);
  biases[g] = stf<S>(bias);
}

/* One thread per output element of rows x cols: s * code + b with the
 * group's scale and bias (S), rounded through S after the product and
 * after the sum when round_s (dequantize: upstream computes in the
 * scales' dtype), else in float (the products' dequantized panel). */
template <typename S, typename TO>
__global__ void __launch_bounds__(MLX_CU_THREADS)
    dequantize_k(TO* out, const uint32_t* wq, const S* scales, const S* biases, int64_t n, int64_t cols, int gs,
                 int bits, int round_s) {
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  int64_t words = cols * bits / 32, groups = cols / gs;
  for (int64_t i = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; i < n; i += step) {
    int64_t r = i / cols, c = i - r * cols, g = c / gs;
    const uint32_t* wg = wq + r * words + g * ((int64_t)gs * bits / 32);
    float s = ldf<S>(scales[r * groups + g]), b = ldf<S>(biases[r * groups + g]);
    float q = (float)get_code(wg, (int)(c - g * gs), bits);
    float v = round_s ? rnd<S>(rnd<S>(s * q) + b) : s * q + b;
    out[i] = convert<TO>(v);
  }
}

template <typename S>
static int quantize_run(const float* w, uint32_t* wq, void* scales, void* biases, int64_t groups, int gs, int bits,
                        cudaStream_t st) {
  quantize_k<S><<<mlx_cu_blocks(groups, MLX_CU_THREADS), MLX_CU_THREADS, 0, st>>>(w, wq, (S*)scales, (S*)biases,
                                                                                   groups, gs, bits);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_quantize_launch_(mlx_dtype sdt, const float* w, uint32_t* wq, void* scales, void* biases,
                                       int64_t groups, int gs, int bits, void* stream) {
  if (groups <= 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (sdt) {
    case MLX_FLOAT32: return quantize_run<float>(w, wq, scales, biases, groups, gs, bits, st);
    case MLX_FLOAT16: return quantize_run<__half>(w, wq, scales, biases, groups, gs, bits, st);
    case MLX_BFLOAT16: return quantize_run<bf16>(w, wq, scales, biases, groups, gs, bits, st);
    default: return -1;
  }
}

template <typename S, typename TO>
static int dequantize_run(void* out, const uint32_t* wq, const void* scales, const void* biases, int64_t n,
                          int64_t cols, int gs, int bits, int round_s, cudaStream_t st) {
  dequantize_k<S, TO><<<mlx_cu_blocks(n, MLX_CU_THREADS * MLX_CU_PER_THREAD), MLX_CU_THREADS, 0, st>>>(
      (TO*)out, wq, (const S*)scales, (const S*)biases, n, cols, gs, bits, round_s);
  return (int)cudaGetLastError();
}

template <typename S>
static int dequantize_to(mlx_dtype odt, void* out, const uint32_t* wq, const void* scales, const void* biases,
                         int64_t n, int64_t cols, int gs, int bits, int round_s, cudaStream_t st) {
  switch (odt) {
    case MLX_FLOAT32: return dequantize_run<S, float>(out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    case MLX_FLOAT16: return dequantize_run<S, __half>(out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    case MLX_BFLOAT16: return dequantize_run<S, bf16>(out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    case MLX_FLOAT64: return dequantize_run<S, double>(out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    default: return -1;
  }
}

extern "C" int mlx_cu_dequantize_launch_(mlx_dtype sdt, mlx_dtype odt, void* out, const uint32_t* wq,
                                         const void* scales, const void* biases, int64_t n, int64_t cols, int gs,
                                         int bits, int round_s, void* stream) {
  if (n <= 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (sdt) {
    case MLX_FLOAT32: return dequantize_to<float>(odt, out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    case MLX_FLOAT16: return dequantize_to<__half>(odt, out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    case MLX_BFLOAT16: return dequantize_to<bf16>(odt, out, wq, scales, biases, n, cols, gs, bits, round_s, st);
    default: return -1;
  }
}

/* ---- fp8 e4m3 conversions (cpu/fp8.h, as the CPU's) -------------------- */

__global__ void __launch_bounds__(MLX_CU_THREADS) to_fp8_k(uint8_t* out, const float* x, int64_t n) {
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  for (int64_t i = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; i < n; i += step) out[i] = mlx_fp8_from_float_(x[i]);
}

template <typename TO>
__global__ void __launch_bounds__(MLX_CU_THREADS) from_fp8_k(TO* out, const uint8_t* x, int64_t n) {
  int64_t step = (int64_t)gridDim.x * MLX_CU_THREADS;
  for (int64_t i = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; i < n; i += step) {
    out[i] = convert<TO>(mlx_fp8_to_float_(x[i]));
  }
}

extern "C" int mlx_cu_to_fp8_launch_(uint8_t* out, const float* x, int64_t n, void* stream) {
  if (n <= 0) return 0;
  to_fp8_k<<<mlx_cu_blocks(n, MLX_CU_THREADS * MLX_CU_PER_THREAD), MLX_CU_THREADS, 0, (cudaStream_t)stream>>>(out, x, n);
  return (int)cudaGetLastError();
}

template <typename TO>
static int from_fp8_run(void* out, const uint8_t* x, int64_t n, cudaStream_t st) {
  from_fp8_k<TO><<<mlx_cu_blocks(n, MLX_CU_THREADS * MLX_CU_PER_THREAD), MLX_CU_THREADS, 0, st>>>((TO*)out, x, n);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_from_fp8_launch_(mlx_dtype odt, void* out, const uint8_t* x, int64_t n, void* stream) {
  if (n <= 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (odt) {
    case MLX_FLOAT32: return from_fp8_run<float>(out, x, n, st);
    case MLX_FLOAT16: return from_fp8_run<__half>(out, x, n, st);
    case MLX_BFLOAT16: return from_fp8_run<bf16>(out, x, n, st);
    case MLX_FLOAT64: return from_fp8_run<double>(out, x, n, st);
    default: return -1;
  }
}
