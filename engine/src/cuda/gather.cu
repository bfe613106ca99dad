/* Device kernels of gather, gather_axis (take_along_axis), scatter and
 * scatter_axis (put_along_axis) with the index rules of cpu/indexing.c:
 * an index is wrapped once (negative counts from the end), then clamped
 * into range by the gathers and dropped by the scatters.
 *
 * Scatter runs a thread per (index position, block element): plain
 * writes, or for the reductions (sum, prod, max, min: MLX_CU_SCATTER_*)
 * an atomic update of the element with cpu/indexing.c's formula for its
 * dtype: atomicAdd for sums where CUDA has one, else a compare-and-swap
 * loop on the element's word (the aligned 32-bit word holding a 1- or
 * 2-byte element). Where two positions hit one element a plain write
 * keeps one of them (upstream's GPU does not order them either) and a
 * float sum or product combines in some order, so it can differ from the
 * CPU in the last bits; max and min of NaN-free values agree exactly. */
#include "device.cuh"

__device__ __forceinline__ int64_t elem_offset(int64_t i, int nd, const int64_t* shape, const int64_t* strides) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    int64_t q = i / shape[d];
    off += (i - q * shape[d]) * strides[d];
    i = q;
  }
  return off;
}

/* Offset of index position i (nidx dense int64 index arrays of npos);
 * -1 when an index is out of range and clamp is 0. */
__device__ __forceinline__ int64_t position_offset(const mlx_cu_gather_& g, int64_t i, int clamp) {
  int64_t off = 0;
  for (int k = 0; k < g.nidx; k++) {
    int64_t v = g.idx[k][i], len = g.axis_len[k], hi = len - g.block[k];
    if (v < 0) v += len;
    if (v < 0 || v > hi) {
      if (!clamp) return -1;
      v = v < 0 ? 0 : hi;
    }
    off += v * g.axis_stride[k];
  }
  return off;
}

template <typename T>
__global__ void gather_k(T* out, const T* src, mlx_cu_gather_ g) {
  int64_t total = g.npos * g.S;
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < total; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = x / g.S, e = x - i * g.S;
    out[x] = src[position_offset(g, i, 1) + elem_offset(e, g.bdim, g.bshape, g.bstrides)];
  }
}

/* cpu/indexing.c's reduction of element x with update y (mode
 * MLX_CU_SCATTER_SUM.._MIN): bool or / and, half types in float rounded
 * back, integers wrapping, complex order lexicographic. */
template <typename T>
__device__ __forceinline__ T combine(int mode, T x, T y) {
  if constexpr (std::is_same_v<T, mbool>) {
    mbool r;
    r.v = (uint8_t)(mode == MLX_CU_SCATTER_SUM || mode == MLX_CU_SCATTER_MAX ? (x.v | y.v) : (x.v & y.v));
    return r;
  } else if constexpr (std::is_same_v<T, c64>) {
    if (mode == MLX_CU_SCATTER_SUM) return cadd(x, y);
    if (mode == MLX_CU_SCATTER_PROD) return cmul(x, y);
    if (mode == MLX_CU_SCATTER_MAX) return cgt(x, y) ? x : y;
    return cgt(y, x) ? x : y;
  } else if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, bf16>) {
    float a = ldf<T>(x), b = ldf<T>(y);
    if (mode == MLX_CU_SCATTER_SUM) return stf<T>(a + b);
    if (mode == MLX_CU_SCATTER_PROD) return stf<T>(a * b);
    if (mode == MLX_CU_SCATTER_MAX) return a > b ? x : y;
    return a < b ? x : y;
  } else if constexpr (is_int_v<T>) {
    if (mode == MLX_CU_SCATTER_SUM) return (T)((wide_u<T>)x + (wide_u<T>)y);
    if (mode == MLX_CU_SCATTER_PROD) return (T)((wide_u<T>)x * (wide_u<T>)y);
    if (mode == MLX_CU_SCATTER_MAX) return x > y ? x : y;
    return x < y ? x : y;
  } else {
    if (mode == MLX_CU_SCATTER_SUM) return x + y;
    if (mode == MLX_CU_SCATTER_PROD) return x * y;
    if (mode == MLX_CU_SCATTER_MAX) return x > y ? x : y;
    return x < y ? x : y;
  }
}

/* *p = combine(mode, *p, v) atomically: a compare-and-swap loop on the
 * word holding *p (its own 4 or 8 bytes, or the aligned 32-bit word
 * around a 1- or 2-byte element), compared bit for bit. */
template <typename T>
__device__ void atomic_combine(T* p, T v, int mode) {
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    using W = std::conditional_t<sizeof(T) == 4, unsigned int, unsigned long long>;
    W* a = (W*)p;
    W old = *a, seen;
    do {
      seen = old;
      T cur, next;
      memcpy(&cur, &seen, sizeof(T));
      next = combine<T>(mode, cur, v);
      W want;
      memcpy(&want, &next, sizeof(T));
      if (want == seen) return;
      old = atomicCAS(a, seen, want);
    } while (old != seen);
  } else {
    unsigned int* a = (unsigned int*)((uintptr_t)p & ~(uintptr_t)3);
    int shift = (int)((uintptr_t)p & 3) * 8;
    unsigned int mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
    unsigned int old = *a, seen;
    do {
      seen = old;
      unsigned int bits = (seen & mask) >> shift, nbits = 0;
      T cur, next;
      memcpy(&cur, &bits, sizeof(T));
      next = combine<T>(mode, cur, v);
      memcpy(&nbits, &next, sizeof(T));
      unsigned int want = (seen & ~mask) | (nbits << shift);
      if (want == seen) return;
      old = atomicCAS(a, seen, want);
    } while (old != seen);
  }
}

/* One reduction update of *p with v. */
template <typename T>
__device__ __forceinline__ void reduce_into(T* p, T v, int mode) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t> ||
                std::is_same_v<T, uint32_t>) {
    if (mode == MLX_CU_SCATTER_SUM) {
      atomicAdd(p, v);
      return;
    }
  } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) {
    if (mode == MLX_CU_SCATTER_SUM) {
      atomicAdd((unsigned long long*)p, (unsigned long long)v);
      return;
    }
  }
  atomic_combine<T>(p, v, mode);
}

/* upd: dense [npos, S]; out already holds the source. */
template <typename T>
__global__ void scatter_k(T* out, const T* upd, mlx_cu_gather_ g, int mode) {
  int64_t total = g.npos * g.S;
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < total; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = x / g.S, e = x - i * g.S;
    int64_t base = position_offset(g, i, 0);
    if (base < 0) continue;
    T* d = out + base + elem_offset(e, g.bdim, g.bshape, g.bstrides);
    if (mode == MLX_CU_SCATTER_NONE) *d = upd[x];
    else reduce_into<T>(d, upd[x], mode);
  }
}

/* Along an axis: out (or, for the scatter, the updates' shape) walked
 * row-major over shape[nd]; the index array and the source (values) read
 * through their strides, the array written (read) with axis coordinate
 * replaced by the index. */
template <typename T, typename IT>
__global__ void gather_axis_k(T* out, const T* src, const IT* idx, mlx_cu_axis_ l) {
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < l.n; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t rem = x, ai = 0, ii = 0, v = 0;
    for (int d = l.ndim - 1; d >= 0; d--) {
      int64_t q = rem / l.shape[d], c = rem - q * l.shape[d];
      rem = q;
      ii += c * l.istrides[d];
      if (d != l.axis) ai += c * l.astrides[d];
    }
    v = (int64_t)idx[ii];
    if (v < 0) v += l.axis_len;
    v = v < 0 ? 0 : (v >= l.axis_len ? l.axis_len - 1 : v);
    out[x] = src[ai + v * l.astrides[l.axis]];
  }
}

template <typename T, typename IT>
__global__ void scatter_axis_k(T* out, const T* vals, const IT* idx, mlx_cu_axis_ l, int mode) {
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < l.n; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t rem = x, oi = 0, ii = 0, vi = 0;
    for (int d = l.ndim - 1; d >= 0; d--) {
      int64_t q = rem / l.shape[d], c = rem - q * l.shape[d];
      rem = q;
      ii += c * l.istrides[d];
      vi += c * l.vstrides[d];
      if (d != l.axis) oi += c * l.astrides[d];
    }
    int64_t v = (int64_t)idx[ii];
    if (v < 0) v += l.axis_len;
    if (v < 0 || v >= l.axis_len) continue;
    T* d = out + oi + v * l.astrides[l.axis];
    if (mode == MLX_CU_SCATTER_NONE) *d = vals[vi];
    else reduce_into<T>(d, vals[vi], mode);
  }
}

static int item_size(mlx_dtype dt) {
  switch (dt) {
    case MLX_BOOL: case MLX_UINT8: case MLX_INT8: return 1;
    case MLX_UINT16: case MLX_INT16: case MLX_FLOAT16: case MLX_BFLOAT16: return 2;
    case MLX_UINT32: case MLX_INT32: case MLX_FLOAT32: return 4;
    default: return 8;
  }
}

static unsigned grid_of(int64_t n) {
  int64_t g = (n + 255) / 256;
  return (unsigned)(g < 1 ? 1 : (g > 65535 * 8 ? 65535 * 8 : g));
}

template <typename T>
static int gather_run(void* dst, const void* src, const mlx_cu_gather_* g, cudaStream_t st) {
  gather_k<T><<<grid_of(g->npos * g->S), 256, 0, st>>>((T*)dst, (const T*)src, *g);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_gather_launch_(int itemsize, void* dst, const void* src, const mlx_cu_gather_* g,
                                     void* stream) {
  if (g->npos * g->S == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: return gather_run<uint8_t>(dst, src, g, st);
    case 2: return gather_run<uint16_t>(dst, src, g, st);
    case 4: return gather_run<uint32_t>(dst, src, g, st);
    case 8: return gather_run<uint64_t>(dst, src, g, st);
    default: return -1;
  }
}

template <typename T>
static int scatter_run(void* dst, const void* upd, const mlx_cu_gather_* g, int mode, cudaStream_t st) {
  scatter_k<T><<<grid_of(g->npos * g->S), 256, 0, st>>>((T*)dst, (const T*)upd, *g, mode);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_scatter_launch_(mlx_dtype dt, int mode, void* dst, const void* upd, const mlx_cu_gather_* g,
                                      void* stream) {
  if (g->npos * g->S == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  if (mode == MLX_CU_SCATTER_NONE) {
    switch (item_size(dt)) {
      case 1: return scatter_run<uint8_t>(dst, upd, g, mode, st);
      case 2: return scatter_run<uint16_t>(dst, upd, g, mode, st);
      case 4: return scatter_run<uint32_t>(dst, upd, g, mode, st);
      case 8: return scatter_run<uint64_t>(dst, upd, g, mode, st);
      default: return -1;
    }
  }
  MLX_CU_DISPATCH(dt, scatter_run, dst, upd, g, mode, st);
}

template <typename T>
static int gaxis_run(void* dst, const void* src, const void* idx, int idx64, const mlx_cu_axis_* l, cudaStream_t st) {
  if (idx64) gather_axis_k<T, int64_t><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)src, (const int64_t*)idx, *l);
  else gather_axis_k<T, int32_t><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)src, (const int32_t*)idx, *l);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_gather_axis_launch_(int itemsize, void* dst, const void* src, const void* idx, int idx64,
                                          const mlx_cu_axis_* l, void* stream) {
  if (l->n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: return gaxis_run<uint8_t>(dst, src, idx, idx64, l, st);
    case 2: return gaxis_run<uint16_t>(dst, src, idx, idx64, l, st);
    case 4: return gaxis_run<uint32_t>(dst, src, idx, idx64, l, st);
    case 8: return gaxis_run<uint64_t>(dst, src, idx, idx64, l, st);
    default: return -1;
  }
}

template <typename T>
static int saxis_run(void* dst, const void* vals, const void* idx, int idx64, const mlx_cu_axis_* l, int mode,
                     cudaStream_t st) {
  if (idx64)
    scatter_axis_k<T, int64_t><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)vals, (const int64_t*)idx, *l, mode);
  else
    scatter_axis_k<T, int32_t><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)vals, (const int32_t*)idx, *l, mode);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_scatter_axis_launch_(mlx_dtype dt, int mode, void* dst, const void* vals, const void* idx,
                                           int idx64, const mlx_cu_axis_* l, void* stream) {
  if (l->n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  if (mode == MLX_CU_SCATTER_NONE) {
    switch (item_size(dt)) {
      case 1: return saxis_run<uint8_t>(dst, vals, idx, idx64, l, mode, st);
      case 2: return saxis_run<uint16_t>(dst, vals, idx, idx64, l, mode, st);
      case 4: return saxis_run<uint32_t>(dst, vals, idx, idx64, l, mode, st);
      case 8: return saxis_run<uint64_t>(dst, vals, idx, idx64, l, mode, st);
      default: return -1;
    }
  }
  MLX_CU_DISPATCH(dt, saxis_run, dst, vals, idx, idx64, l, mode, st);
}
