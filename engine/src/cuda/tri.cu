/* Device kernel of tril/triu: a masked copy of a stack of rows x cols
 * matrices (row-major), items moved by size (1, 2, 4 or 8 bytes), so every
 * dtype is bit-exact; zeroed items are all-zero bits, as the CPU's memset. */
#include "device.cuh"

template <typename W>
__global__ void tril_triu_k(W* dst, const W* src, int64_t n, int64_t rows, int64_t cols, int64_t k, int upper) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t q = i / cols;
    int64_t d = (i - q * cols) - q % rows; /* column - row, never overflows */
    bool keep = upper ? d >= k : d <= k;
    dst[i] = keep ? src[i] : (W)0;
  }
}

template <typename W>
static int tri_run(void* dst, const void* src, int64_t n, int64_t rows, int64_t cols, int64_t k, int upper,
                   cudaStream_t st) {
  if (n == 0) return 0;
  tril_triu_k<W><<<mlx_cu_blocks(n, MLX_CU_THREADS * MLX_CU_PER_THREAD), MLX_CU_THREADS, 0, st>>>(
      (W*)dst, (const W*)src, n, rows, cols, k, upper);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_tril_triu_launch_(int itemsize, void* dst, const void* src, int64_t n, int64_t rows,
                                        int64_t cols, int64_t k, int upper, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: return tri_run<uint8_t>(dst, src, n, rows, cols, k, upper, st);
    case 2: return tri_run<uint16_t>(dst, src, n, rows, cols, k, upper, st);
    case 4: return tri_run<uint32_t>(dst, src, n, rows, cols, k, upper, st);
    case 8: return tri_run<uint64_t>(dst, src, n, rows, cols, k, upper, st);
    default: return -1;
  }
}
