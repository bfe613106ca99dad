/* Fused scaled dot-product attention (fast_scaled_dot_product_attention):
 * one pass over the keys with an online softmax, never writing the score
 * matrix. A block of 4 warps takes 16 query rows of one (batch, head);
 * each warp keeps 4 rows. Keys come in tiles of 32 (one per lane) staged
 * with their values in shared memory; lane j scores key j against a row,
 * the warp folds the tile into the row's running max, sum and output
 * (lane l owns output columns l, l + 32, ...). Scores, softmax and
 * output accumulate in float (double for float64), with the CPU kernel's
 * exponential (cpu/fast.c exp_neg) and masking rules: a false bool entry
 * or a causal-hidden key scores the dtype's lowest value, an additive
 * mask is added, sinks start each row's max and sum. */
#include "device.cuh"

#define SDPA_ROWS_PER_WARP 4
#define SDPA_WARPS 4
#define SDPA_ROWS (SDPA_ROWS_PER_WARP * SDPA_WARPS)
#define SDPA_TILE 32
#define SDPA_MAX_DV_PER_LANE 8

/* cpu/fast.c's exp for x <= 0 (a degree-6 polynomial after range
 * reduction), so GPU and CPU weights agree to rounding. */
__device__ __forceinline__ float sdpa_exp(float x) {
  float xc = x < -87.0f ? -87.0f : x;
  float n = rintf(xc * 1.44269504088896341f);
  float r = xc - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666666f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  return x < -87.0f ? 0.0f : p * __int_as_float(((int)n + 127) << 23);
}
__device__ __forceinline__ double sdpa_exp(double x) { return exp(x); }

template <typename C>
__device__ __forceinline__ C warp_max(C v) {
  for (int o = 16; o > 0; o >>= 1) {
    C w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}
template <typename C>
__device__ __forceinline__ C warp_sum(C v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <typename T, typename C>
__device__ __forceinline__ C sld(T x) {
  if constexpr (std::is_same_v<C, double>) return (double)x;
  else return ldf<T>(x);
}

template <typename T, typename C>
__global__ void __launch_bounds__(SDPA_WARPS * 32)
    sdpa_k(T* out, const T* q, const T* k, const T* v, mlx_cu_sdpa_ p, const void* mask, const C* sinks) {
  extern __shared__ unsigned char smem_raw[];
  C* qs = (C*)smem_raw;                    /* [SDPA_ROWS][D] */
  C* ks = qs + SDPA_ROWS * p.D;             /* [SDPA_TILE][D + 1] (padded: lane j reads row j) */
  C* vs = ks + SDPA_TILE * (p.D + 1);      /* [SDPA_TILE][Dv] */
  const int64_t nqb = (p.Lq + SDPA_ROWS - 1) / SDPA_ROWS;
  const int64_t qb = blockIdx.x % nqb, bh = blockIdx.x / nqb, h = bh % p.Nq, b = bh / p.Nq;
  const int64_t kh = h / (p.Nq / p.Nkv);
  const int64_t r0 = qb * SDPA_ROWS, off = p.Lk - p.Lq;
  const int nr = (int)(p.Lq - r0 < SDPA_ROWS ? p.Lq - r0 : SDPA_ROWS);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nth = SDPA_WARPS * 32;
  const C lowest = (C)p.lowest;
  const C ninf = -(C)INFINITY;

  for (int64_t e = threadIdx.x; e < (int64_t)nr * p.D; e += nth) {
    int64_t r = e / p.D, d = e % p.D;
    qs[e] = sld<T, C>(q[b * p.qs[0] + h * p.qs[1] + (r0 + r) * p.qs[2] + d]);
  }
  C M[SDPA_ROWS_PER_WARP], L[SDPA_ROWS_PER_WARP], O[SDPA_ROWS_PER_WARP][SDPA_MAX_DV_PER_LANE];
  C sink = sinks ? sinks[h] : (C)0;
#pragma unroll
  for (int i = 0; i < SDPA_ROWS_PER_WARP; i++) {
    M[i] = sinks ? sink : ninf;
    L[i] = sinks ? (C)1 : (C)0;
#pragma unroll
    for (int t = 0; t < SDPA_MAX_DV_PER_LANE; t++) O[i][t] = 0;
  }
  /* Causal: keys past the block's last visible one are all hidden,
   * unless some row of the block sees no key (then every key counts). */
  int64_t kend = p.Lk;
  if (p.causal && r0 + off >= 0) {
    kend = r0 + nr + off;
    if (kend > p.Lk) kend = p.Lk;
  }
  const int nv = (int)((p.Dv + 31) / 32);
  const T* kbase = k + b * p.ks[0] + kh * p.ks[1];
  const T* vbase = v + b * p.vs[0] + kh * p.vs[1];
  for (int64_t k0 = 0; k0 < kend; k0 += SDPA_TILE) {
    const int nk = (int)(kend - k0 < SDPA_TILE ? kend - k0 : SDPA_TILE);
    __syncthreads();
    for (int64_t e = threadIdx.x; e < (int64_t)nk * p.D; e += nth) {
      int64_t j = e / p.D, d = e % p.D;
      ks[j * (p.D + 1) + d] = sld<T, C>(kbase[(k0 + j) * p.ks[2] + d]);
    }
    for (int64_t e = threadIdx.x; e < (int64_t)nk * p.Dv; e += nth) {
      int64_t j = e / p.Dv, d = e % p.Dv;
      vs[j * p.Dv + d] = sld<T, C>(vbase[(k0 + j) * p.vs[2] + d]);
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < SDPA_ROWS_PER_WARP; i++) {
      const int r = warp * SDPA_ROWS_PER_WARP + i;
      if (r >= nr) break;
      const int64_t qi = r0 + r, kj = k0 + lane;
      C s = ninf;
      if (lane < nk) {
        const C* qr = qs + r * p.D;
        const C* kr = ks + lane * (p.D + 1);
        C dot = 0;
        for (int64_t d = 0; d < p.D; d++) dot = fma(qr[d], kr[d], dot);
        s = dot * (C)p.scale;
        if (p.mask_kind == 1) {
          const unsigned char* mb = (const unsigned char*)mask;
          if (!mb[b * p.ms[0] + h * p.ms[1] + qi * p.ms[2] + kj * p.ms[3]]) s = lowest;
        } else if (p.mask_kind == 2) {
          s += sld<T, C>(((const T*)mask)[b * p.ms[0] + h * p.ms[1] + qi * p.ms[2] + kj * p.ms[3]]);
        }
        if (p.causal && kj > qi + off) s = lowest;
      }
      const C tmax = warp_max(s);
      const C mx = tmax > M[i] ? tmax : M[i];
      if (mx == ninf) continue;
      const C corr = M[i] == ninf ? (C)0 : sdpa_exp(M[i] - mx);
      const C w = lane < nk ? sdpa_exp(s - mx) : (C)0;
      L[i] = L[i] * corr + warp_sum(w);
      M[i] = mx;
#pragma unroll
      for (int t = 0; t < SDPA_MAX_DV_PER_LANE; t++)
        if (t < nv) O[i][t] *= corr;
      for (int j = 0; j < nk; j++) {
        const C wj = __shfl_sync(0xffffffffu, w, j);
        const C* vr = vs + j * p.Dv;
#pragma unroll
        for (int t = 0; t < SDPA_MAX_DV_PER_LANE; t++) {
          const int64_t c = lane + 32 * t;
          if (t < nv && c < p.Dv) O[i][t] = fma(wj, vr[c], O[i][t]);
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < SDPA_ROWS_PER_WARP; i++) {
    const int r = warp * SDPA_ROWS_PER_WARP + i;
    if (r >= nr) break;
    const C inv = (C)1 / L[i];
    T* orow = out + (bh * p.Lq + r0 + r) * p.Dv;
#pragma unroll
    for (int t = 0; t < SDPA_MAX_DV_PER_LANE; t++) {
      const int64_t c = lane + 32 * t;
      if (t < nv && c < p.Dv) {
        if constexpr (std::is_same_v<C, double>) orow[c] = O[i][t] * inv;
        else orow[c] = stf<T>(O[i][t] * inv);
      }
    }
  }
}

template <typename T, typename C>
static int sdpa_run(void* out, const void* q, const void* k, const void* v, const mlx_cu_sdpa_* p, const void* mask,
                    const void* sinks, void* stream) {
  size_t smem = sizeof(C) * (size_t)(SDPA_ROWS * p->D + SDPA_TILE * (p->D + 1) + SDPA_TILE * p->Dv);
  if (smem > 48 * 1024) {
    cudaError_t e = cudaFuncSetAttribute(sdpa_k<T, C>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return (int)e;
  }
  int64_t blocks = p->B * p->Nq * ((p->Lq + SDPA_ROWS - 1) / SDPA_ROWS);
  sdpa_k<T, C><<<(unsigned)blocks, SDPA_WARPS * 32, smem, (cudaStream_t)stream>>>(
      (T*)out, (const T*)q, (const T*)k, (const T*)v, *p, mask, (const C*)sinks);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_sdpa_shared_bytes_(mlx_dtype dt, int64_t D, int64_t Dv) {
  size_t c = dt == MLX_FLOAT64 ? sizeof(double) : sizeof(float);
  return (int)(c * (size_t)(SDPA_ROWS * D + SDPA_TILE * (D + 1) + SDPA_TILE * Dv));
}

extern "C" int mlx_cu_sdpa_launch_(mlx_dtype dt, void* out, const void* q, const void* k, const void* v,
                                   const mlx_cu_sdpa_* p, const void* mask, const void* sinks, void* stream) {
  if (p->Dv > 32 * SDPA_MAX_DV_PER_LANE) return -1;
  switch (dt) {
    case MLX_FLOAT32: return sdpa_run<float, float>(out, q, k, v, p, mask, sinks, stream);
    case MLX_FLOAT16: return sdpa_run<__half, float>(out, q, k, v, p, mask, sinks, stream);
    case MLX_BFLOAT16: return sdpa_run<bf16, float>(out, q, k, v, p, mask, sinks, stream);
    case MLX_FLOAT64: return sdpa_run<double, double>(out, q, k, v, p, mask, sinks, stream);
    default: return -1;
  }
}
