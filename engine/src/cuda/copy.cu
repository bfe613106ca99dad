/* Device kernel of copy/astype/contiguous: strided reads, row-major
 * writes, every dtype pair converted as cpu/copy.c's C casts (see
 * convert() in device.cuh). */
#include "device.cuh"

/* ---- copy ----------------------------------------------------------------- */

template <typename TI, typename TO>
struct copy_f {
  TO* out;
  const TI* in;
  __device__ void operator()(int64_t i, int64_t o0, int64_t, int64_t) const { out[i] = convert<TO>(in[o0]); }
  static constexpr bool vec4 = true;
  bool aligned4() const { return is_aligned4(out) && is_aligned4(in); }
  __device__ void run4(int64_t i, int64_t s0, int64_t) const {
    pack4<TI> x = load4(in, i, s0);
    pack4<TO> r;
#pragma unroll
    for (int k = 0; k < 4; k++) r.v[k] = convert<TO>(x.v[k]);
    *reinterpret_cast<pack4<TO>*>(out + i) = r;
  }
};

template <typename TO, typename TI>
static int copy_run(void* dst, const void* src, const mlx_cu_elem_* l, void* stream) {
  return ew_launch(copy_f<TI, TO>{(TO*)dst, (const TI*)src}, l, 1, stream);
}

template <typename TI>
static int copy_to(mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l, void* stream) {
  switch (out) {
    case MLX_BOOL: return copy_run<mbool, TI>(dst, src, l, stream);
    case MLX_UINT8: return copy_run<uint8_t, TI>(dst, src, l, stream);
    case MLX_UINT16: return copy_run<uint16_t, TI>(dst, src, l, stream);
    case MLX_UINT32: return copy_run<uint32_t, TI>(dst, src, l, stream);
    case MLX_UINT64: return copy_run<uint64_t, TI>(dst, src, l, stream);
    case MLX_INT8: return copy_run<int8_t, TI>(dst, src, l, stream);
    case MLX_INT16: return copy_run<int16_t, TI>(dst, src, l, stream);
    case MLX_INT32: return copy_run<int32_t, TI>(dst, src, l, stream);
    case MLX_INT64: return copy_run<int64_t, TI>(dst, src, l, stream);
    case MLX_FLOAT16: return copy_run<__half, TI>(dst, src, l, stream);
    case MLX_FLOAT32: return copy_run<float, TI>(dst, src, l, stream);
    case MLX_FLOAT64: return copy_run<double, TI>(dst, src, l, stream);
    case MLX_BFLOAT16: return copy_run<bf16, TI>(dst, src, l, stream);
    case MLX_COMPLEX64: return copy_run<c64, TI>(dst, src, l, stream);
    default: return -1;
  }
}

extern "C" int mlx_cu_copy_launch_(mlx_dtype in, mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l,
                                   void* stream) {
  MLX_CU_DISPATCH(in, copy_to, out, dst, src, l, stream)
}


/* ---- copies between strided regions of one dtype ------------------------ */

/* out[o1] = in[o0]: the elements moved as raw items of their size. */
template <typename T>
struct move_f {
  T* out;
  const T* in;
  __device__ void operator()(int64_t, int64_t o0, int64_t o1, int64_t) const { out[o1] = in[o0]; }
};

extern "C" int mlx_cu_move_launch_(int itemsize, void* dst, const void* src, const mlx_cu_elem_* l, void* stream) {
  switch (itemsize) {
    case 1: return ew_launch(move_f<uint8_t>{(uint8_t*)dst, (const uint8_t*)src}, l, 2, stream);
    case 2: return ew_launch(move_f<uint16_t>{(uint16_t*)dst, (const uint16_t*)src}, l, 2, stream);
    case 4: return ew_launch(move_f<uint32_t>{(uint32_t*)dst, (const uint32_t*)src}, l, 2, stream);
    case 8: return ew_launch(move_f<uint64_t>{(uint64_t*)dst, (const uint64_t*)src}, l, 2, stream);
    default: return -1;
  }
}

/* ---- concatenate of dense inputs in one kernel ----------------------------- */

struct concat_args {
  const void* src[MLX_CU_CONCAT_MAX];
  int64_t off[MLX_CU_CONCAT_MAX + 1];
};

/* The launch covers columns [off[0], off[n]) of every row: item e is
 * row e / span, column off[0] + e % span, and comes from the input whose
 * columns [off[i], off[i + 1]) hold it, at its own row-major position. */
template <typename T>
__global__ void __launch_bounds__(MLX_CU_THREADS)
    concat_k(T* dst, int64_t total, int64_t row, int n, concat_args a) {
  const int64_t span = a.off[n] - a.off[0];
  for (int64_t e = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; e < total;
       e += (int64_t)gridDim.x * MLX_CU_THREADS) {
    int64_t r = e / span, c = a.off[0] + (e - r * span);
    int lo = 0, hi = n - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (a.off[mid] <= c) lo = mid;
      else hi = mid - 1;
    }
    int64_t w = a.off[lo + 1] - a.off[lo];
    dst[r * row + c] = ((const T*)a.src[lo])[r * w + (c - a.off[lo])];
  }
}

extern "C" int mlx_cu_concat_launch_(int itemsize, void* dst, int64_t outer, int64_t row, int n,
                                     const void* const* srcs, const int64_t* offs, void* stream) {
  if (n < 1 || n > MLX_CU_CONCAT_MAX) return -1;
  concat_args a;
  for (int i = 0; i < n; i++) {
    a.src[i] = srcs[i];
    a.off[i] = offs[i];
  }
  a.off[n] = offs[n];
  int64_t total = outer * (offs[n] - offs[0]);
  if (total == 0) return 0;
  unsigned blocks = mlx_cu_blocks(total, MLX_CU_THREADS);
  cudaStream_t st = (cudaStream_t)stream;
  switch (itemsize) {
    case 1: concat_k<uint8_t><<<blocks, MLX_CU_THREADS, 0, st>>>((uint8_t*)dst, total, row, n, a); break;
    case 2: concat_k<uint16_t><<<blocks, MLX_CU_THREADS, 0, st>>>((uint16_t*)dst, total, row, n, a); break;
    case 4: concat_k<uint32_t><<<blocks, MLX_CU_THREADS, 0, st>>>((uint32_t*)dst, total, row, n, a); break;
    case 8: concat_k<uint64_t><<<blocks, MLX_CU_THREADS, 0, st>>>((uint64_t*)dst, total, row, n, a); break;
    default: return -1;
  }
  return (int)cudaGetLastError();
}
