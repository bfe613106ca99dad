/* Device kernels of sort, argsort, partition and argpartition, giving
 * cpu/sort.c's results element for element.
 *
 * Keys are cpu/sort.c's: every element maps to an unsigned 64-bit key
 * whose order is upstream's (integers offset to unsigned, floats by their
 * sign-flipped bits with -0.0 as 0.0 and every NaN the largest key,
 * complex64 as (real key, imaginary key)); float16/bfloat16 go through
 * float32, so keys of at most 4 bytes fit 32 bits (a NaN's truncated to
 * 0xffffffff, still the largest). The output takes the element (or the
 * position) an item holds, so equal keys of distinct elements (0.0 and
 * -0.0, NaN payloads) come out where a stable sort leaves them.
 *
 * sort: the CPU sort is stable, so sorting (key, position) pairs by both
 * gives its result with any algorithm. Rows of up to SMALL_MAX elements:
 * a bitonic network in shared memory over (key, position), several rows
 * per block when they are short (32-bit keys packed with the position
 * into one word, 64-bit keys beside a position array). Longer rows: CUB's
 * stable LSD radix sort over the whole array, with the row number in the
 * key bits above the element's key (one pass over key and row bits);
 * 64-bit keys of several rows sort by key first, then stably by row.
 *
 * partition: the CPU runs libstdc++'s introselect step for step (its
 * output is that algorithm's, ties included); a GPU thread per row runs
 * the same steps, on a local array for rows of up to PART_LOCAL elements,
 * else one warp per row loads the row into shared memory (global scratch
 * past PART_SMEM elements) and its first lane selects. Exact, but a long
 * row is one thread's work. */
#include <cub/device/device_radix_sort.cuh>

#include "device.cuh"

#define KEY_NAN UINT64_MAX
#define SMALL_MAX 4096
#define SMALL_ITEMS 1024
#define PART_LOCAL 32
#define PART_SMEM 4096

/* ---- keys (cpu/sort.c's) -------------------------------------------------- */

__device__ __forceinline__ uint64_t key_bits32(uint32_t u) {
  if (u == 0x80000000u) u = 0;
  return (u & 0x80000000u) ? (uint64_t)(uint32_t)~u : (uint64_t)(u | 0x80000000u);
}
__device__ __forceinline__ uint64_t key_f32(float f) {
  if (f != f) return KEY_NAN;
  return key_bits32(__float_as_uint(f));
}
__device__ __forceinline__ uint64_t key_f64(double d) {
  if (d != d) return KEY_NAN;
  uint64_t u = (uint64_t)__double_as_longlong(d);
  if (u == 0x8000000000000000ull) u = 0;
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

template <typename T>
__device__ __forceinline__ uint64_t sort_key(T x) {
  if constexpr (std::is_same_v<T, mbool>) return (uint64_t)(x.v != 0);
  else if constexpr (is_uint_v<T>) return (uint64_t)x;
  else if constexpr (std::is_same_v<T, int8_t>) return (uint64_t)((uint8_t)x ^ 0x80u);
  else if constexpr (std::is_same_v<T, int16_t>) return (uint64_t)((uint16_t)x ^ 0x8000u);
  else if constexpr (std::is_same_v<T, int32_t>) return (uint64_t)((uint32_t)x ^ 0x80000000u);
  else if constexpr (std::is_same_v<T, int64_t>) return (uint64_t)x ^ 0x8000000000000000ull;
  else if constexpr (is_fl_v<T>) return key_f32(ldf(x));
  else if constexpr (std::is_same_v<T, double>) return key_f64(x);
  else {
    if (cnan(x)) return KEY_NAN;
    return (key_f32(x.re) << 32) | key_f32(x.im);
  }
}

/* Bits a key of T can use (float16/bfloat16 through float32). */
template <typename T>
constexpr int key_bits_v = sizeof(T) == 1 ? 8 : sizeof(T) == 2 && !is_fl_v<T> ? 16 : sizeof(T) <= 4 ? 32 : 64;

/* Element offset of row r's first element. */
__device__ __forceinline__ int64_t row_offset(int64_t r, const mlx_cu_sort_& l) {
  int64_t off = 0;
  for (int d = l.rdim - 1; d >= 0; d--) {
    int64_t q = r / l.rshape[d];
    off += (r - q * l.rshape[d]) * l.rstrides[d];
    r = q;
  }
  return off;
}

/* Output position of element i of row r. */
__device__ __forceinline__ int64_t out_pos(int64_t r, int64_t i, const mlx_cu_sort_& l) {
  int64_t o = r / l.inner;
  return o * l.n * l.inner + i * l.inner + (r - o * l.inner);
}

/* Writes the element at position idx of row r (or idx itself) to the
 * output's element i of that row. */
template <typename T>
__device__ __forceinline__ void emit(void* dst, const T* src, int arg, int64_t r, int64_t roff, int64_t i, uint32_t idx,
                                     const mlx_cu_sort_& l) {
  int64_t p = out_pos(r, i, l);
  if (arg) ((uint32_t*)dst)[p] = idx;
  else ((T*)dst)[p] = src[roff + (int64_t)idx * l.astride];
}

/* ---- short rows: bitonic sort in shared memory ---------------------------- */

/* G rows of P (a power of two >= n) slots per block; slots past n hold
 * the largest (key, position), so they sort last. 32-bit keys: words
 * key << 32 | position; 64-bit keys: keys and positions side by side. */
template <typename T>
__global__ void sort_small_k(void* dst, const T* src, mlx_cu_sort_ l, int arg, int P, int G) {
  constexpr bool wide = key_bits_v<T> == 64;
  extern __shared__ uint64_t sm[];
  const int total = P * G;
  uint64_t* kk = sm;
  uint32_t* ix = (uint32_t*)(sm + total);
  const int lp = __ffs(P) - 1;
  for (int64_t row0 = (int64_t)blockIdx.x * G; row0 < l.rows; row0 += (int64_t)gridDim.x * G) {
    for (int t = threadIdx.x; t < total; t += blockDim.x) {
      int64_t r = row0 + (t >> lp);
      int i = t & (P - 1);
      if (r < l.rows && i < l.n) {
        uint64_t key = sort_key(src[row_offset(r, l) + (int64_t)i * l.astride]);
        if constexpr (wide) {
          kk[t] = key;
          ix[t] = (uint32_t)i;
        } else {
          kk[t] = key << 32 | (uint64_t)i;
        }
      } else {
        kk[t] = UINT64_MAX;
        if constexpr (wide) ix[t] = UINT32_MAX;
      }
    }
    __syncthreads();
    const int half = total / 2;
    for (int k = 2; k <= P; k <<= 1) {
      for (int j = k >> 1; j > 0; j >>= 1) {
        for (int t = threadIdx.x; t < half; t += blockDim.x) {
          int a = 2 * t - (t & (j - 1)), b = a + j;
          bool asc = ((a & (P - 1)) & k) == 0;
          uint64_t ka = kk[a], kb = kk[b];
          bool gt;
          if constexpr (wide) gt = ka > kb || (ka == kb && ix[a] > ix[b]);
          else gt = ka > kb;
          if (gt == asc) {
            kk[a] = kb;
            kk[b] = ka;
            if constexpr (wide) {
              uint32_t x = ix[a];
              ix[a] = ix[b];
              ix[b] = x;
            }
          }
        }
        __syncthreads();
      }
    }
    for (int t = threadIdx.x; t < total; t += blockDim.x) {
      int64_t r = row0 + (t >> lp);
      int i = t & (P - 1);
      if (r < l.rows && i < l.n) {
        uint32_t idx;
        if constexpr (wide) idx = ix[t];
        else idx = (uint32_t)kk[t];
        emit(dst, src, arg, r, row_offset(r, l), i, idx, l);
      }
    }
    __syncthreads();
  }
}

/* ---- long rows: CUB radix sort ----------------------------------------------- */

/* keys[q] = (row << kb) | key of element q = r * n + i (the row part left
 * out when rb is 0), vals[q] = i (rowpos) or q. */
template <typename T, typename K, typename V>
__global__ void make_keys_k(K* keys, V* vals, const T* src, mlx_cu_sort_ l, int kb, int rb, int rowpos) {
  int64_t N = l.rows * l.n;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < N; q += (int64_t)gridDim.x * blockDim.x) {
    int64_t r = q / l.n, i = q - r * l.n;
    uint64_t key = sort_key(src[row_offset(r, l) + i * l.astride]);
    if (kb < 64) key &= ((uint64_t)1 << kb) - 1;
    if (rb > 0) key |= (uint64_t)r << kb;
    keys[q] = (K)key;
    vals[q] = rowpos ? (V)i : (V)q;
  }
}

/* The row of each global position (the second pass of 64-bit keys). */
__global__ void row_keys_k(uint64_t* keys, const uint64_t* pos, int64_t N, int64_t n) {
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < N; q += (int64_t)gridDim.x * blockDim.x)
    keys[q] = pos[q] / (uint64_t)n;
}

/* Output element q (row q / n, rank q % n) from the sorted positions
 * (within the row when rowpos, else global). */
template <typename T, typename V>
__global__ void sorted_out_k(void* dst, const T* src, const V* vals, mlx_cu_sort_ l, int arg, int rowpos) {
  int64_t N = l.rows * l.n;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < N; q += (int64_t)gridDim.x * blockDim.x) {
    int64_t r = q / l.n, i = q - r * l.n;
    uint32_t idx = rowpos ? (uint32_t)vals[q] : (uint32_t)((uint64_t)vals[q] - (uint64_t)(r * l.n));
    emit(dst, src, arg, r, row_offset(r, l), i, idx, l);
  }
}

static unsigned grid_for(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > (int64_t)1 << 20) b = (int64_t)1 << 20;
  return (unsigned)b;
}

/* A stable radix sort of N (key, value) pairs on bits [0, end_bit) of the
 * keys, from (ki, vi) into (ko, vo); CUB's scratch from the stream's
 * pool. */
template <typename K, typename V>
static cudaError_t radix_pairs(const K* ki, K* ko, const V* vi, V* vo, int64_t N, int end_bit, cudaStream_t st) {
  size_t bytes = 0;
  cudaError_t e = cub::DeviceRadixSort::SortPairs(nullptr, bytes, ki, ko, vi, vo, N, 0, end_bit, st);
  if (e != cudaSuccess) return e;
  void* tmp = nullptr;
  e = cudaMallocAsync(&tmp, bytes > 0 ? bytes : 1, st);
  if (e != cudaSuccess) return e;
  e = cub::DeviceRadixSort::SortPairs(tmp, bytes, ki, ko, vi, vo, N, 0, end_bit, st);
  cudaFreeAsync(tmp, st);
  return e;
}

/* Keys of K bits with the row above them, positions within the row. */
template <typename T, typename K>
static cudaError_t sort_composed(void* dst, const T* src, const mlx_cu_sort_& l, int arg, int kb, int rb,
                                 cudaStream_t st) {
  int64_t N = l.rows * l.n;
  K* keys = nullptr;
  uint32_t* vals = nullptr;
  cudaError_t e = cudaMallocAsync((void**)&keys, (size_t)N * 2 * sizeof(K), st);
  if (e != cudaSuccess) return e;
  e = cudaMallocAsync((void**)&vals, (size_t)N * 2 * sizeof(uint32_t), st);
  if (e != cudaSuccess) {
    cudaFreeAsync(keys, st);
    return e;
  }
  make_keys_k<T, K, uint32_t><<<grid_for(N, 256), 256, 0, st>>>(keys, vals, src, l, kb, rb, 1);
  e = cudaGetLastError();
  if (e == cudaSuccess) e = radix_pairs<K, uint32_t>(keys, keys + N, vals, vals + N, N, kb + rb, st);
  if (e == cudaSuccess) {
    sorted_out_k<T, uint32_t><<<grid_for(N, 256), 256, 0, st>>>(dst, src, vals + N, l, arg, 1);
    e = cudaGetLastError();
  }
  cudaFreeAsync(keys, st);
  cudaFreeAsync(vals, st);
  return e;
}

/* 64-bit keys of several rows: by key (global positions as values), then
 * stably by row. */
template <typename T>
static cudaError_t sort_two_pass(void* dst, const T* src, const mlx_cu_sort_& l, int arg, int rb, cudaStream_t st) {
  int64_t N = l.rows * l.n;
  uint64_t* buf = nullptr;
  cudaError_t e = cudaMallocAsync((void**)&buf, (size_t)N * 4 * sizeof(uint64_t), st);
  if (e != cudaSuccess) return e;
  uint64_t *k0 = buf, *k1 = buf + N, *v0 = buf + 2 * N, *v1 = buf + 3 * N;
  make_keys_k<T, uint64_t, uint64_t><<<grid_for(N, 256), 256, 0, st>>>(k0, v0, src, l, 64, 0, 0);
  e = cudaGetLastError();
  if (e == cudaSuccess) e = radix_pairs<uint64_t, uint64_t>(k0, k1, v0, v1, N, 64, st);
  if (e == cudaSuccess) {
    row_keys_k<<<grid_for(N, 256), 256, 0, st>>>(k0, v1, N, l.n);
    e = cudaGetLastError();
  }
  if (e == cudaSuccess) e = radix_pairs<uint64_t, uint64_t>(k0, k1, v1, v0, N, rb, st);
  if (e == cudaSuccess) {
    sorted_out_k<T, uint64_t><<<grid_for(N, 256), 256, 0, st>>>(dst, src, v0, l, arg, 0);
    e = cudaGetLastError();
  }
  cudaFreeAsync(buf, st);
  return e;
}

template <typename T>
static int sort_run(int arg, void* dst, const void* srcv, const mlx_cu_sort_* lp, cudaStream_t st) {
  const mlx_cu_sort_& l = *lp;
  const T* src = (const T*)srcv;
  if (l.rows == 0 || l.n == 0) return 0;
  if (l.n <= SMALL_MAX) {
    int P = 1;
    while (P < l.n) P <<= 1;
    int G = P >= SMALL_ITEMS ? 1 : SMALL_ITEMS / P;
    int total = P * G;
    int threads = total / 2 < 32 ? 32 : (total / 2 > 1024 ? 1024 : total / 2);
    size_t smem = (size_t)total * (key_bits_v<T> == 64 ? 12 : 8);
    int64_t blocks = (l.rows + G - 1) / G;
    if (blocks > 1 << 30) blocks = 1 << 30;
    sort_small_k<T><<<(unsigned)blocks, threads, smem, st>>>(dst, src, l, arg, P, G);
    return (int)cudaGetLastError();
  }
  constexpr int kb = key_bits_v<T>;
  int rb = 0;
  while (rb < 63 && ((int64_t)1 << rb) < l.rows) rb++;
  if (kb + rb <= 32) return (int)sort_composed<T, uint32_t>(dst, src, l, arg, kb, rb, st);
  if (kb + rb <= 64) return (int)sort_composed<T, uint64_t>(dst, src, l, arg, kb, rb, st);
  return (int)sort_two_pass<T>(dst, src, l, arg, rb, st);
}

extern "C" int mlx_cu_sort_launch_(mlx_dtype dt, int arg, void* dst, const void* src, const mlx_cu_sort_* l,
                                   void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  MLX_CU_DISPATCH(dt, sort_run, arg, dst, src, l, st)
}

/* ---- partition: libstdc++'s nth_element, step for step ----------------------- */

/* An item: the key (two halves, so an item is 12 bytes) and the position. */
struct pitem {
  uint32_t khi, klo, idx;
};

struct pcmp {
  int arg;  /* ties of non-NaN keys broken by position (argpartition) */
  int nans; /* KEY_NAN means NaN (float and complex dtypes) */
};

__device__ __forceinline__ uint64_t pkey(const pitem* x) { return (uint64_t)x->khi << 32 | x->klo; }

__device__ __forceinline__ bool pless(const pcmp& c, const pitem* x, const pitem* y) {
  uint64_t a = pkey(x), b = pkey(y);
  if (a != b) return a < b;
  return c.arg && !(c.nans && a == KEY_NAN) && x->idx < y->idx;
}

__device__ __forceinline__ void pswap(pitem* x, pitem* y) {
  pitem t = *x;
  *x = *y;
  *y = t;
}

__device__ void p_push_heap(const pcmp& c, pitem* first, int64_t hole, int64_t top, pitem value) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && pless(c, &first[parent], &value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

__device__ void p_adjust_heap(const pcmp& c, pitem* first, int64_t hole, int64_t len, pitem value) {
  int64_t top = hole, second = hole;
  while (second < (len - 1) / 2) {
    second = 2 * (second + 1);
    if (pless(c, &first[second], &first[second - 1])) second--;
    first[hole] = first[second];
    hole = second;
  }
  if ((len & 1) == 0 && second == (len - 2) / 2) {
    second = 2 * (second + 1);
    first[hole] = first[second - 1];
    hole = second - 1;
  }
  p_push_heap(c, first, hole, top, value);
}

__device__ void p_heap_select(const pcmp& c, pitem* first, pitem* middle, pitem* last) {
  int64_t len = middle - first;
  if (len >= 2) {
    for (int64_t parent = (len - 2) / 2;; parent--) {
      p_adjust_heap(c, first, parent, len, first[parent]);
      if (parent == 0) break;
    }
  }
  for (pitem* i = middle; i < last; i++)
    if (pless(c, i, first)) {
      pitem v = *i;
      *i = *first;
      p_adjust_heap(c, first, 0, len, v);
    }
}

__device__ void p_median_to_first(const pcmp& c, pitem* result, pitem* a, pitem* b, pitem* d) {
  if (pless(c, a, b)) {
    if (pless(c, b, d)) pswap(result, b);
    else if (pless(c, a, d)) pswap(result, d);
    else pswap(result, a);
  } else if (pless(c, a, d)) {
    pswap(result, a);
  } else if (pless(c, b, d)) {
    pswap(result, d);
  } else {
    pswap(result, b);
  }
}

__device__ pitem* p_unguarded_partition(const pcmp& c, pitem* first, pitem* last, pitem* pivot) {
  for (;;) {
    while (pless(c, first, pivot)) first++;
    last--;
    while (pless(c, pivot, last)) last--;
    if (!(first < last)) return first;
    pswap(first, last);
    first++;
  }
}

__device__ void p_insertion_sort(const pcmp& c, pitem* first, pitem* last) {
  if (first == last) return;
  for (pitem* i = first + 1; i != last; i++) {
    pitem v = *i;
    if (pless(c, &v, first)) {
      for (pitem* p = i; p != first; p--) *p = *(p - 1);
      *first = v;
    } else {
      pitem* hole = i;
      pitem* next = i - 1;
      while (pless(c, &v, next)) {
        *hole = *next;
        hole = next;
        next--;
      }
      *hole = v;
    }
  }
}

__device__ void p_nth_element(const pcmp& c, pitem* first, int64_t nth, int64_t n) {
  if (n == 0 || nth == n) return;
  pitem* last = first + n;
  pitem* pnth = first + nth;
  int64_t depth = 2 * (63 - __clzll((long long)n));
  while (last - first > 3) {
    if (depth == 0) {
      p_heap_select(c, first, pnth + 1, last);
      pswap(first, pnth);
      return;
    }
    depth--;
    pitem* mid = first + (last - first) / 2;
    p_median_to_first(c, first, first + 1, mid, last - 1);
    pitem* cut = p_unguarded_partition(c, first + 1, last, first);
    if (cut <= pnth) first = cut;
    else last = cut;
  }
  p_insertion_sort(c, first, last);
}

template <typename T>
__device__ __forceinline__ pitem make_item(const T* src, int64_t roff, int64_t i, const mlx_cu_sort_& l) {
  uint64_t key = sort_key(src[roff + i * l.astride]);
  pitem it;
  it.khi = (uint32_t)(key >> 32);
  it.klo = (uint32_t)key;
  it.idx = (uint32_t)i;
  return it;
}

/* A thread per row, the row in a local array. */
template <typename T>
__global__ void part_local_k(void* dst, const T* src, mlx_cu_sort_ l, int64_t kth, pcmp c) {
  pitem it[PART_LOCAL];
  for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < l.rows; r += (int64_t)gridDim.x * blockDim.x) {
    int64_t roff = row_offset(r, l);
    for (int64_t i = 0; i < l.n; i++) it[i] = make_item(src, roff, i, l);
    p_nth_element(c, it, kth, l.n);
    for (int64_t i = 0; i < l.n; i++) emit(dst, src, c.arg, r, roff, i, it[i].idx, l);
  }
}

/* A warp per row: the row loaded into shared memory (or into its slice
 * of scratch when scratch is not NULL), selected by lane 0, written out
 * by the warp. */
template <typename T>
__global__ void part_warp_k(void* dst, const T* src, mlx_cu_sort_ l, int64_t kth, pcmp c, pitem* scratch) {
  extern __shared__ pitem psm[];
  for (int64_t r = blockIdx.x; r < l.rows; r += gridDim.x) {
    pitem* it = scratch ? scratch + r * l.n : psm;
    int64_t roff = row_offset(r, l);
    for (int64_t i = threadIdx.x; i < l.n; i += blockDim.x) it[i] = make_item(src, roff, i, l);
    __syncwarp();
    if (threadIdx.x == 0) p_nth_element(c, it, kth, l.n);
    __syncwarp();
    for (int64_t i = threadIdx.x; i < l.n; i += blockDim.x) emit(dst, src, c.arg, r, roff, i, it[i].idx, l);
    __syncwarp();
  }
}

template <typename T>
static int part_run(int arg, int64_t kth, void* dst, const void* srcv, const mlx_cu_sort_* lp, cudaStream_t st) {
  const mlx_cu_sort_& l = *lp;
  const T* src = (const T*)srcv;
  if (l.rows == 0 || l.n == 0) return 0;
  pcmp c;
  c.arg = arg;
  c.nans = is_real_float_v<T> || std::is_same_v<T, c64>;
  if (l.n <= PART_LOCAL) {
    part_local_k<T><<<grid_for(l.rows, 128), 128, 0, st>>>(dst, src, l, kth, c);
    return (int)cudaGetLastError();
  }
  unsigned blocks = l.rows > (int64_t)1 << 20 ? 1u << 20 : (unsigned)l.rows;
  if (l.n <= PART_SMEM) {
    part_warp_k<T><<<blocks, 32, (size_t)l.n * sizeof(pitem), st>>>(dst, src, l, kth, c, nullptr);
    return (int)cudaGetLastError();
  }
  pitem* scratch = nullptr;
  cudaError_t e = cudaMallocAsync((void**)&scratch, (size_t)(l.rows * l.n) * sizeof(pitem), st);
  if (e != cudaSuccess) return (int)e;
  part_warp_k<T><<<blocks, 32, 0, st>>>(dst, src, l, kth, c, scratch);
  e = cudaGetLastError();
  cudaFreeAsync(scratch, st);
  return (int)e;
}

extern "C" int mlx_cu_partition_launch_(mlx_dtype dt, int arg, int64_t kth, void* dst, const void* src,
                                        const mlx_cu_sort_* l, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  MLX_CU_DISPATCH(dt, part_run, arg, kth, dst, src, l, st)
}
