/* Device code of the conv primitive (driver in cuda/conv.c): im2col, the
 * column matrix of a chunk of output positions, which cuBLAS then
 * multiplies by the weight, group by group.
 *
 * The matrix is [G][rows][L] with L = taps * C/G: row r is output position
 * r0 + r (n, o0, o1, o2 over the batch, row-major), column (t0, t1, t2, c)
 * the weight's own storage order (OHWI), so that group g's product is
 * cols[g] @ weight[g]^T. An element is the input at the position the
 * output coordinate and tap reach through stride, padding, kernel
 * dilation and input dilation (with the taps reversed when the kernel is
 * flipped), read through the input's strides, or zero where that falls on
 * padding or between dilated input elements, as cpu/conv.c's src_index.
 * A pure copy: elements move as their bits (2, 4 or 8 bytes), and zero
 * bits are 0.0 in every float dtype. */
#include "device.cuh"

/* Input offset of output coordinate o at tap t along padded dim d added
 * to *off; false where the tap falls outside the (dilated) input. */
template <typename I>
__device__ __forceinline__ bool tap_offset(const mlx_cu_im2col_& l, int d, I o, I t, int64_t* off) {
  if (l.flip) t = (I)l.k[d] - 1 - t;
  int64_t q = (int64_t)o * l.stride[d] - l.lo[d] + (int64_t)t * l.kdil[d];
  if (q < 0 || q >= l.ind[d]) return false;
  if (l.idil[d] > 1) {
    if (q % l.idil[d]) return false;
    q /= l.idil[d];
  }
  *off += q * l.xs[d + 1];
  return true;
}

/* One thread per element of the column matrix (grid-stride); I the index
 * type of the decomposition (int32 when every index fits), offsets in
 * int64. */
template <typename T, typename I>
__global__ void __launch_bounds__(MLX_CU_THREADS)
    im2col_k(T* __restrict__ dst, const T* __restrict__ src, mlx_cu_im2col_ l, I total) {
  const I L = (I)l.L, cg = (I)l.cg, rows = (I)l.rows, P = (I)l.P;
  const I k1 = (I)l.k[1], k2 = (I)l.k[2], out1 = (I)l.out[1], out2 = (I)l.out[2];
  const I step = (I)gridDim.x * MLX_CU_THREADS;
  for (I i = (I)blockIdx.x * MLX_CU_THREADS + threadIdx.x; i < total; i += step) {
    I col = i % L, t = i / L;
    I r = t % rows, g = t / rows;
    I c = col % cg, tap = col / cg;
    I t2 = tap % k2;
    tap /= k2;
    I t1 = tap % k1, t0 = tap / k1;
    I row = (I)l.r0 + r;
    I n = row / P, pos = row - n * P;
    I o2 = pos % out2;
    pos /= out2;
    I o1 = pos % out1, o0 = pos / out1;
    int64_t off = (int64_t)n * l.xs[0] + ((int64_t)g * l.cg + c) * l.xc;
    T v = 0;
    if (tap_offset<I>(l, 0, o0, t0, &off) && tap_offset<I>(l, 1, o1, t1, &off) && tap_offset<I>(l, 2, o2, t2, &off))
      v = src[off];
    dst[i] = v;
  }
}

template <typename T>
static int im2col_run(void* dst, const void* src, const mlx_cu_im2col_* l, int64_t total, cudaStream_t st) {
  unsigned blocks = mlx_cu_blocks(total, MLX_CU_THREADS);
  if (total <= INT32_MAX - (int64_t)blocks * MLX_CU_THREADS && l->r0 + l->rows <= INT32_MAX && l->P <= INT32_MAX)
    im2col_k<T, int32_t><<<blocks, MLX_CU_THREADS, 0, st>>>((T*)dst, (const T*)src, *l, (int32_t)total);
  else
    im2col_k<T, int64_t><<<blocks, MLX_CU_THREADS, 0, st>>>((T*)dst, (const T*)src, *l, total);
  return (int)cudaGetLastError();
}

/* Declared in launch.h. */
extern "C" int mlx_cu_im2col_launch_(mlx_dtype dt, void* dst, const void* src, const mlx_cu_im2col_* l, void* stream) {
  int64_t total = l->G * l->rows * l->L;
  cudaStream_t st = (cudaStream_t)stream;
  switch (dt) {
    case MLX_FLOAT16:
    case MLX_BFLOAT16: return total ? im2col_run<uint16_t>(dst, src, l, total, st) : 0;
    case MLX_FLOAT32: return total ? im2col_run<uint32_t>(dst, src, l, total, st) : 0;
    case MLX_FLOAT64: return total ? im2col_run<uint64_t>(dst, src, l, total, st) : 0;
    default: return -1;
  }
}
