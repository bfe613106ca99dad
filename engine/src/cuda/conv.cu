/* Device code of the conv primitive (driver in cuda/conv.c): im2col, the
 * column matrix of a chunk of output positions, which cuBLAS then
 * multiplies by the weight, group by group; and, for small float32
 * convolutions, a direct kernel that reads the input where im2col would
 * and sums into registers (one launch, no column matrix).
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

/* Direct float32 convolution: one thread per output position r (over the
 * batch) and OB output channels of one group, the block's OB rows of the
 * weight ([O][L], L = taps * cg) staged in shared memory. The input is
 * read as im2col reads it (tap_offset), the sum runs over the taps and
 * then the channels, as the column matrix's columns. */
#define DIRECT_THREADS 128
template <int OB>
__global__ void __launch_bounds__(DIRECT_THREADS)
    conv_direct_k(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ w,
                  mlx_cu_im2col_ l, int64_t R, int64_t O, int64_t og, int64_t chunks) {
  extern __shared__ float ws[];
  const int64_t L = l.L, cg = l.cg;
  const int64_t g = blockIdx.y / chunks, o_first = g * og + (blockIdx.y % chunks) * OB;
  const int64_t o_end = g * og + og;
  const int nob = (int)(o_end - o_first < OB ? o_end - o_first : OB);
  for (int64_t e = threadIdx.x; e < nob * L; e += DIRECT_THREADS) ws[e] = w[o_first * L + e];
  __syncthreads();
  const int64_t r = (int64_t)blockIdx.x * DIRECT_THREADS + threadIdx.x;
  if (r >= R) return;
  int64_t n = r / l.P, pos = r - n * l.P;
  const int64_t o2 = pos % l.out[2];
  pos /= l.out[2];
  const int64_t o1 = pos % l.out[1], o0 = pos / l.out[1];
  const float* xg = x + n * l.xs[0] + g * cg * l.xc;
  float acc[OB];
#pragma unroll
  for (int j = 0; j < OB; j++) acc[j] = 0.0f;
  int64_t col = 0;
  for (int64_t t0 = 0; t0 < l.k[0]; t0++)
    for (int64_t t1 = 0; t1 < l.k[1]; t1++)
      for (int64_t t2 = 0; t2 < l.k[2]; t2++, col += cg) {
        int64_t off = 0;
        if (!(tap_offset<int64_t>(l, 0, o0, t0, &off) && tap_offset<int64_t>(l, 1, o1, t1, &off) &&
              tap_offset<int64_t>(l, 2, o2, t2, &off)))
          continue;
        const float* xp = xg + off;
        for (int64_t c = 0; c < cg; c++) {
          const float v = __ldg(xp + c * l.xc);
#pragma unroll
          for (int j = 0; j < OB; j++) acc[j] = fmaf(v, ws[j * L + col + c], acc[j]);
        }
      }
  float* op = out + r * O + o_first;
#pragma unroll
  for (int j = 0; j < OB; j++)
    if (j < nob) op[j] = acc[j];
}

template <int OB>
static int conv_direct_run(float* out, const float* x, const float* w, const mlx_cu_im2col_* l, int64_t R, int64_t O,
                           cudaStream_t st) {
  const int64_t og = O / l->G, chunks = (og + OB - 1) / OB;
  dim3 grid((unsigned)((R + DIRECT_THREADS - 1) / DIRECT_THREADS), (unsigned)(l->G * chunks));
  size_t smem = (size_t)OB * (size_t)l->L * sizeof(float);
  conv_direct_k<OB><<<grid, DIRECT_THREADS, smem, st>>>(out, x, w, *l, R, O, og, chunks);
  return (int)cudaGetLastError();
}

/* Declared in launch.h. */
extern "C" int mlx_cu_conv_direct_launch_(float* out, const float* x, const float* w, const mlx_cu_im2col_* l,
                                          int64_t R, int64_t O, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  if (l->L > MLX_CU_CONV_DIRECT_MAX_L || R < 1 || O < 1) return -1;
  /* Fewer channels a thread when positions are few, to fill the GPU. */
  const int64_t og = O / l->G;
  if (og >= 16 && R * ((og + 15) / 16) * l->G >= 65536) return conv_direct_run<16>(out, x, w, l, R, O, st);
  if (og >= 8 && R * ((og + 7) / 8) * l->G >= 32768) return conv_direct_run<8>(out, x, w, l, R, O, st);
  return conv_direct_run<4>(out, x, w, l, R, O, st);
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
