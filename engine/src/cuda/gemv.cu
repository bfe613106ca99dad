/* Few-row products with their bias and activation in one kernel:
 * out[i, j] = act(sum_k a[i, k] b[k, j] + c[i, j]) for at most
 * MLX_CU_GEMV_MAX_ROWS rows (a recurrent step, a small batch through a
 * Linear layer), float32. cuBLASLt has no tanh epilogue, and at these
 * sizes the host's cost per kernel, not the GPU, sets the pace: one
 * launch instead of a product and an elementwise kernel.
 *
 * One warp per output column j: the lanes split k (b read along k, so b
 * must have unit stride along k, as a weight's transpose has), each lane
 * keeps one partial sum per row, then the warp adds them up. The block's
 * rows of a are staged in shared memory a chunk of k at a time. The
 * activations are the elementwise kernels' (unary.cu's tanh, binary.cu's
 * NaN-propagating maximum against 0), applied to the same float32 sum
 * plus c. When pre is given it also gets the sum before the activation
 * (a Linear layer's output that something else still holds). */
#include "device.cuh"

#define GEMV_WARPS 8
#define GEMV_KCHUNK 512

__device__ __forceinline__ float gemv_act(float v, int act) {
  switch (act) {
    case MLX_CU_ACT_TANH: return mlx_tanh_f32_(v);
    /* binary.cu's max_fl(x, y): y if NaN, else x if NaN, else x > y ? x : y */
    case MLX_CU_ACT_MAX0_RIGHT: return v != v ? v : (v > 0.0f ? v : 0.0f);  /* maximum(v, 0) */
    case MLX_CU_ACT_MAX0_LEFT: return v != v ? v : (0.0f > v ? 0.0f : v);   /* maximum(0, v) */
    default: return v;
  }
}

__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_k(float* out, const float* a, int64_t a_rs, const float* b, int64_t b_ns, const float* c, int64_t c_rs,
           int m, int n, int64_t k, int act, float* pre) {
  __shared__ float as[MLX_CU_GEMV_MAX_ROWS * GEMV_KCHUNK];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t j = (int64_t)blockIdx.x * GEMV_WARPS + warp;
  float acc[MLX_CU_GEMV_MAX_ROWS];
#pragma unroll
  for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++) acc[i] = 0.0f;
  const float* bj = b + (j < n ? j : 0) * b_ns;
  for (int64_t k0 = 0; k0 < k; k0 += GEMV_KCHUNK) {
    const int kc = (int)(k - k0 < GEMV_KCHUNK ? k - k0 : GEMV_KCHUNK);
    __syncthreads();
    for (int e = threadIdx.x; e < m * kc; e += GEMV_WARPS * 32) {
      int i = e / kc, kk = e - i * kc;
      as[i * GEMV_KCHUNK + kk] = a[i * a_rs + k0 + kk];
    }
    __syncthreads();
    if (j < n) {
      for (int kk = lane; kk < kc; kk += 32) {
        const float bv = bj[k0 + kk];
#pragma unroll
        for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++)
          if (i < m) acc[i] = fmaf(as[i * GEMV_KCHUNK + kk], bv, acc[i]);
      }
    }
  }
  if (j >= n) return;
#pragma unroll
  for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++) {
    if (i >= m) break;
    float v = acc[i];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == i) {
      float s = c ? v + c[i * c_rs + j] : v;
      if (pre) pre[i * (int64_t)n + j] = s;
      out[i * (int64_t)n + j] = gemv_act(s, act);
    }
  }
}

extern "C" int mlx_cu_gemv_launch_(float* out, const float* a, int64_t a_rs, const float* b, int64_t b_ns,
                                   const float* c, int64_t c_rs, int m, int n, int64_t k, int act, float* pre,
                                   void* stream) {
  if (m < 1 || m > MLX_CU_GEMV_MAX_ROWS || n < 1) return -1;
  unsigned blocks = (unsigned)((n + GEMV_WARPS - 1) / GEMV_WARPS);
  gemv_k<<<blocks, GEMV_WARPS * 32, 0, (cudaStream_t)stream>>>(out, a, a_rs, b, b_ns, c, c_rs, m, n, k, act, pre);
  return (int)cudaGetLastError();
}
