/* Few-row products with their bias and activation in one kernel:
 * out[i, j] = act(sum_k a[i, k] b[k, j] + c[i, j]) for at most
 * MLX_CU_GEMV_MAX_ROWS rows (a recurrent step, a small batch through a
 * Linear layer), float32. cuBLASLt has no tanh epilogue, and at these
 * sizes the host's cost per kernel, not the GPU, sets the pace: one
 * launch instead of a product and an elementwise kernel.
 *
 * A block of GEMV_WARPS warps covers `cols` output columns; the warps of a
 * column split k into GEMV_WARPS / cols slices (more slices when n is
 * small, so that a wide k still fills the GPU: Linear(8192 -> 1024) on 8
 * rows). In a slice the lanes step along k (b read along k, so b must
 * have unit stride along k, as a weight's transpose has), four floats a
 * load when a and b allow it; each lane keeps one partial sum per row,
 * the warp adds them up, and the column's first warp adds the slices in
 * order (the same sum for the same shapes every run). The activations
 * are the elementwise kernels' (unary.cu's tanh, binary.cu's
 * NaN-propagating maximum against 0), applied to the same float32 sum
 * plus c. When pre is given it also gets the sum before the activation
 * (a Linear layer's output that something else still holds). */
#include "device.cuh"

#define GEMV_WARPS 8

__device__ __forceinline__ float gemv_act(float v, int act) {
  switch (act) {
    case MLX_CU_ACT_TANH: return mlx_tanh_f32_(v);
    /* binary.cu's max_fl(x, y): y if NaN, else x if NaN, else x > y ? x : y */
    case MLX_CU_ACT_MAX0_RIGHT: return v != v ? v : (v > 0.0f ? v : 0.0f);  /* maximum(v, 0) */
    case MLX_CU_ACT_MAX0_LEFT: return v != v ? v : (0.0f > v ? 0.0f : v);   /* maximum(0, v) */
    default: return v;
  }
}

/* Adds a[i, kk..] * b[kk..] for the rows i < m into acc: four values
 * (VEC) or one. */
template <bool VEC>
__device__ __forceinline__ void gemv_step(float* acc, const float* a, int64_t a_rs, const float* bj, int64_t kk,
                                          int m) {
  if (VEC) {
    const float4 bv = __ldg(reinterpret_cast<const float4*>(bj + kk));
#pragma unroll
    for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++)
      if (i < m) {
        const float4 av = __ldg(reinterpret_cast<const float4*>(a + i * a_rs + kk));
        acc[i] = fmaf(av.x, bv.x, acc[i]);
        acc[i] = fmaf(av.y, bv.y, acc[i]);
        acc[i] = fmaf(av.z, bv.z, acc[i]);
        acc[i] = fmaf(av.w, bv.w, acc[i]);
      }
  } else {
    const float bv = __ldg(bj + kk);
#pragma unroll
    for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++)
      if (i < m) acc[i] = fmaf(__ldg(a + i * a_rs + kk), bv, acc[i]);
  }
}

template <bool VEC>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_k(float* out, const float* a, int64_t a_rs, const float* b, int64_t b_ns, const float* c, int64_t c_rs,
           int m, int n, int64_t k, int act, float* pre, int cols, int64_t slice_k) {
  __shared__ float part[GEMV_WARPS][MLX_CU_GEMV_MAX_ROWS];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int col = warp % cols, slice = warp / cols, slices = GEMV_WARPS / cols;
  const int64_t j = (int64_t)blockIdx.x * cols + col;
  float acc[MLX_CU_GEMV_MAX_ROWS];
#pragma unroll
  for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++) acc[i] = 0.0f;
  if (j < n) {
    const float* bj = b + j * b_ns;
    const int64_t k0 = slice * slice_k, k1 = k0 + slice_k < k ? k0 + slice_k : k;
    const int step = VEC ? 4 : 1;
#pragma unroll 2
    for (int64_t kk = k0 + lane * step; kk < k1; kk += 32 * step) gemv_step<VEC>(acc, a, a_rs, bj, kk, m);
  }
#pragma unroll
  for (int i = 0; i < MLX_CU_GEMV_MAX_ROWS; i++) {
    if (i >= m) break;
    float v = acc[i];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == i) part[warp][i] = v;
  }
  __syncthreads();
  if (slice != 0 || j >= n || lane >= m) return;
  const int i = lane;
  float v = part[col][i];
  for (int sl = 1; sl < slices; sl++) v += part[sl * cols + col][i];
  float s = c ? v + c[i * c_rs + j] : v;
  if (pre) pre[i * (int64_t)n + j] = s;
  out[i * (int64_t)n + j] = gemv_act(s, act);
}

/* Columns per block: the fewest (most slices of k per column) that still
 * leave each slice 128 values of k, until the grid has GEMV_TARGET_WARPS
 * warps. */
#define GEMV_TARGET_WARPS 4096
static int gemv_cols(int n, int64_t k) {
  int slices = 1;
  while (slices < GEMV_WARPS && (int64_t)n * slices < GEMV_TARGET_WARPS && k / (slices * 2) >= 128) slices *= 2;
  return GEMV_WARPS / slices;
}

extern "C" int mlx_cu_gemv_launch_(float* out, const float* a, int64_t a_rs, const float* b, int64_t b_ns,
                                   const float* c, int64_t c_rs, int m, int n, int64_t k, int act, float* pre,
                                   void* stream) {
  if (m < 1 || m > MLX_CU_GEMV_MAX_ROWS || n < 1) return -1;
  const int cols = gemv_cols(n, k), slices = GEMV_WARPS / cols;
  const bool vec = k % 4 == 0 && a_rs % 4 == 0 && b_ns % 4 == 0 && (uintptr_t)a % 16 == 0 && (uintptr_t)b % 16 == 0;
  int64_t slice_k = (k + slices - 1) / slices;
  if (vec) slice_k = (slice_k + 3) / 4 * 4;
  const unsigned blocks = (unsigned)((n + cols - 1) / cols);
  cudaStream_t st = (cudaStream_t)stream;
  if (vec)
    gemv_k<true><<<blocks, GEMV_WARPS * 32, 0, st>>>(out, a, a_rs, b, b_ns, c, c_rs, m, n, k, act, pre, cols, slice_k);
  else
    gemv_k<false><<<blocks, GEMV_WARPS * 32, 0, st>>>(out, a, a_rs, b, b_ns, c, c_rs, m, n, k, act, pre, cols, slice_k);
  return (int)cudaGetLastError();
}
