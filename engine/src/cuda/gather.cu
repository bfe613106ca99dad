/* Device kernels of gather, gather_axis (take_along_axis), scatter and
 * scatter_axis (put_along_axis) with the index rules of cpu/indexing.c:
 * an index is wrapped once (negative counts from the end), then clamped
 * into range by the gathers and dropped by the scatters.
 *
 * Scatter runs a thread per (index position, block element): plain
 * writes, or for mode sum an atomicAdd (float32, float64, int32/uint32,
 * int64/uint64). Where two positions hit one element a plain write keeps
 * one of them (upstream's GPU does not order them either) and a float sum
 * adds in some order, so it can differ from the CPU in the last bits. */
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

template <typename T>
__device__ __forceinline__ void add_to(T* p, T v) {
  if constexpr (std::is_same_v<T, int64_t>) atomicAdd((unsigned long long*)p, (unsigned long long)v);
  else if constexpr (std::is_same_v<T, uint64_t>) atomicAdd((unsigned long long*)p, (unsigned long long)v);
  else atomicAdd(p, v);
}

/* upd: dense [npos, S]; out already holds the source. */
template <typename T, int SUM>
__global__ void scatter_k(T* out, const T* upd, mlx_cu_gather_ g) {
  int64_t total = g.npos * g.S;
  for (int64_t x = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; x < total; x += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = x / g.S, e = x - i * g.S;
    int64_t base = position_offset(g, i, 0);
    if (base < 0) continue;
    T* d = out + base + elem_offset(e, g.bdim, g.bshape, g.bstrides);
    if constexpr (SUM) add_to(d, upd[x]);
    else *d = upd[x];
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

template <typename T, typename IT, int SUM>
__global__ void scatter_axis_k(T* out, const T* vals, const IT* idx, mlx_cu_axis_ l) {
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
    if constexpr (SUM) add_to(d, vals[vi]);
    else *d = vals[vi];
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

template <typename T, int SUM>
static int scatter_run(void* dst, const void* upd, const mlx_cu_gather_* g, cudaStream_t st) {
  scatter_k<T, SUM><<<grid_of(g->npos * g->S), 256, 0, st>>>((T*)dst, (const T*)upd, *g);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_scatter_launch_(mlx_dtype dt, int sum, void* dst, const void* upd, const mlx_cu_gather_* g,
                                      void* stream) {
  if (g->npos * g->S == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  if (!sum) {
    switch (item_size(dt)) {
      case 1: return scatter_run<uint8_t, 0>(dst, upd, g, st);
      case 2: return scatter_run<uint16_t, 0>(dst, upd, g, st);
      case 4: return scatter_run<uint32_t, 0>(dst, upd, g, st);
      case 8: return scatter_run<uint64_t, 0>(dst, upd, g, st);
      default: return -1;
    }
  }
  switch (dt) {
    case MLX_FLOAT32: return scatter_run<float, 1>(dst, upd, g, st);
    case MLX_FLOAT64: return scatter_run<double, 1>(dst, upd, g, st);
    case MLX_INT32: return scatter_run<int, 1>(dst, upd, g, st);
    case MLX_UINT32: return scatter_run<unsigned, 1>(dst, upd, g, st);
    case MLX_INT64: return scatter_run<int64_t, 1>(dst, upd, g, st);
    case MLX_UINT64: return scatter_run<uint64_t, 1>(dst, upd, g, st);
    default: return -1;
  }
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

template <typename T, int SUM>
static int saxis_run(void* dst, const void* vals, const void* idx, int idx64, const mlx_cu_axis_* l, cudaStream_t st) {
  if (idx64)
    scatter_axis_k<T, int64_t, SUM><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)vals, (const int64_t*)idx, *l);
  else
    scatter_axis_k<T, int32_t, SUM><<<grid_of(l->n), 256, 0, st>>>((T*)dst, (const T*)vals, (const int32_t*)idx, *l);
  return (int)cudaGetLastError();
}

extern "C" int mlx_cu_scatter_axis_launch_(mlx_dtype dt, int sum, void* dst, const void* vals, const void* idx,
                                           int idx64, const mlx_cu_axis_* l, void* stream) {
  if (l->n == 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  if (!sum) {
    switch (item_size(dt)) {
      case 1: return saxis_run<uint8_t, 0>(dst, vals, idx, idx64, l, st);
      case 2: return saxis_run<uint16_t, 0>(dst, vals, idx, idx64, l, st);
      case 4: return saxis_run<uint32_t, 0>(dst, vals, idx, idx64, l, st);
      case 8: return saxis_run<uint64_t, 0>(dst, vals, idx, idx64, l, st);
      default: return -1;
    }
  }
  switch (dt) {
    case MLX_FLOAT32: return saxis_run<float, 1>(dst, vals, idx, idx64, l, st);
    case MLX_FLOAT64: return saxis_run<double, 1>(dst, vals, idx, idx64, l, st);
    case MLX_INT32: return saxis_run<int, 1>(dst, vals, idx, idx64, l, st);
    case MLX_UINT32: return saxis_run<unsigned, 1>(dst, vals, idx, idx64, l, st);
    case MLX_INT64: return saxis_run<int64_t, 1>(dst, vals, idx, idx64, l, st);
    case MLX_UINT64: return saxis_run<uint64_t, 1>(dst, vals, idx, idx64, l, st);
    default: return -1;
  }
}
