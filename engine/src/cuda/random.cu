/* Device kernels of random_bits and random_split: threefry2x32 (20
 * rounds) with the counter layout of cpu/random.c, so the GPU's bits are
 * the CPU's (and upstream MLX's) bit for bit. A thread per output word:
 * word j < half is the first hash word of counter (j, half + odd + j),
 * word half + odd + j its second, an odd middle word the first word of
 * counter (half, 0); the last word of a uint8/uint16 output that does not
 * fill it is cut. */
#include "../cpu/threefry.h"
#include "device.cuh"

__global__ void bits_k(unsigned char* out, int64_t nbytes, const uint32_t* key, int64_t kstride) {
  int64_t nwords = (nbytes + 3) / 4, half = nwords / 2, odd = nwords % 2;
  uint32_t k0 = key[0], k1 = key[kstride];
  for (int64_t w = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; w < nwords; w += (int64_t)gridDim.x * blockDim.x) {
    uint32_t a, b, v;
    if (w < half) {
      mlx_threefry2x32_(k0, k1, (uint32_t)w, (uint32_t)(half + odd + w), &a, &b);
      v = a;
    } else if (w < half + odd) {
      mlx_threefry2x32_(k0, k1, (uint32_t)half, 0u, &a, &b);
      v = a;
    } else {
      int64_t j = w - half - odd;
      mlx_threefry2x32_(k0, k1, (uint32_t)j, (uint32_t)(half + odd + j), &a, &b);
      v = b;
    }
    int64_t at = 4 * w;
    if (nbytes - at >= 4) {
      *reinterpret_cast<uint32_t*>(out + at) = v;
    } else {
      for (int64_t k = 0; at + k < nbytes; k++) out[at + k] = (unsigned char)(v >> (8 * k));
    }
  }
}

__global__ void split_k(uint32_t* first, uint32_t* second, const uint32_t* key, int64_t kstride) {
  uint32_t k0 = key[0], k1 = key[kstride], a0, b0, a1, b1;
  mlx_threefry2x32_(k0, k1, 0, 2, &a0, &b0);
  mlx_threefry2x32_(k0, k1, 1, 3, &a1, &b1);
  first[0] = a0;
  first[1] = a1;
  second[0] = b0;
  second[1] = b1;
}

extern "C" int mlx_cu_random_bits_launch_(void* dst, int64_t nbytes, const uint32_t* key, int64_t kstride,
                                          void* stream) {
  if (nbytes == 0) return 0;
  int64_t nwords = (nbytes + 3) / 4, g = (nwords + 255) / 256;
  bits_k<<<(unsigned)(g > 65535 * 8 ? 65535 * 8 : g), 256, 0, (cudaStream_t)stream>>>((unsigned char*)dst, nbytes, key,
                                                                                       kstride);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_random_split_launch_(void* first, void* second, const uint32_t* key, int64_t kstride,
                                           void* stream) {
  split_k<<<1, 1, 0, (cudaStream_t)stream>>>((uint32_t*)first, (uint32_t*)second, key, kstride);
  return (int)cudaGetLastError();
}
