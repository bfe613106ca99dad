/* Device kernels of the scans (cumsum, cumprod, cummax, cummin,
 * logcumsumexp; forward or reverse, inclusive or exclusive) over a dense
 * outer x n x inner array, with cpu/scan.c's element ops: the same
 * accumulator types (integers wrap in an unsigned type, bool sums count in
 * int32, float16/bfloat16 accumulate in float rounded to the dtype after
 * every step), NaN-propagating max/min, complex max/min by real then
 * imaginary part, and the same first step (an inclusive scan starts from
 * the first element itself, an exclusive one from the op's identity).
 *
 * Serial per line (the CPU's order, so bit-identical to it; only
 * logaddexp's expf/log1pf are CUDA's): a thread per line, the lines along
 * the last axis going through shared-memory tiles so that the loads and
 * stores stay coalesced.
 *
 * Parallel (few long lines): each line is cut into chunks scanned by a
 * block each, in tiles of PTILE elements (a thread's PI consecutive
 * elements serially, then an ordered warp-shuffle scan of the threads'
 * totals); a first pass reduces the chunks, the second starts each chunk
 * from the ordered fold of the chunks before it. Every combination keeps
 * the elements' order, so it is exact for the ops that are associative
 * bit for bit (integers, bool, float max/min); float sums, products and
 * logaddexp are then only rounded differently. Used for exact ops on
 * lines of PTILE or more elements (or 512 and more when there are few
 * lines), and for the inexact ones only for lines of PAR_MIN_INEXACT or
 * more elements when there are at most PAR_MAX_LINES lines (where a
 * thread per line would leave the GPU idle). complex max/min (not
 * associative around NaN) and complex logaddexp (another grouping can move
 * the imaginary part by a multiple of 2 pi) always run serially. */
#include "device.cuh"

#define TR 64 /* rows per block of the tiled serial kernel */
#define TC 32 /* columns per tile */
#define PB 256
#define PI 8
#define PTILE (PB * PI)
#define PAR_MIN_INEXACT 4096
#define PAR_MAX_LINES 1024
#define MAX_CHUNKS 256

enum { SUM = MLX_CU_SCAN_SUM, PROD = MLX_CU_SCAN_PROD, MAX = MLX_CU_SCAN_MAX, MIN = MLX_CU_SCAN_MIN,
       LAE = MLX_CU_SCAN_LOGADDEXP };

/* ---- element ops (cpu/scan.c's) ------------------------------------------ */

/* The accumulator: int32 for bool, float for float16/bfloat16/float32,
 * unsigned integers of the width for integer sums and of at least 32
 * bits for integer products (wrapping), else the element type. */
template <typename T, int K>
using acc_t = std::conditional_t<
    std::is_same_v<T, mbool>, int32_t,
    std::conditional_t<
        is_fl_v<T>, float,
        std::conditional_t<is_int_v<T> && K == SUM, std::make_unsigned_t<std::conditional_t<is_int_v<T>, T, int>>,
                           std::conditional_t<is_int_v<T> && K == PROD, wide_u<T>, T>>>>;

__device__ __forceinline__ bool c_lt(c64 a, c64 b) { return a.re < b.re || (a.re == b.re && a.im < b.im); }

/* log(exp(a) + exp(x)) as cpu/scan.c's lae_f / lae_f16 / lae_bf16. */
template <typename T>
__device__ __forceinline__ float lae_f(float a, float x) {
  float mx = a > x ? a : x, mn = a > x ? x : a;
  if (a != a || x != x) return a + x;
  if (mn == mx && isinf(mx)) return mx;
  if constexpr (std::is_same_v<T, float>) {
    return mx + log1pf(expf(mn - mx));
  } else {
    float d = rnd<T>(mn - mx);
    float e = rnd<T>(expf(d));
    return mx + rnd<T>(log1pf(e));
  }
}
__device__ __forceinline__ double lae_d(double a, double x) {
  double mx = a > x ? a : x, mn = a > x ? x : a;
  if (a != a || x != x) return a + x;
  if (mn == mx && isinf(mx)) return mx;
  return mx + log1p(exp(mn - mx));
}
__device__ __forceinline__ c64 lae_c(c64 a, c64 x) {
  if (isinf(a.re) && a.re < 0) return x;
  if (isinf(x.re) && x.re < 0) return a;
  c64 mx = a.re >= x.re ? a : x, mn = a.re >= x.re ? x : a;
  c64 e = cexp_(csub(mn, mx));
  return cadd(mx, clog_(cmk(1.0f + e.re, e.im)));
}

/* The scan K on elements T: accumulator A, output U, load (LD), store
 * (ST), round (LD(ST(a))), the exclusive start and the op. */
template <typename T, int K>
struct sop {
  static constexpr bool is_b = std::is_same_v<T, mbool>;
  static constexpr bool is_c = std::is_same_v<T, c64>;
  using A = acc_t<T, K>;
  using U = std::conditional_t<is_b && K == SUM, int32_t, T>;

  static __device__ __forceinline__ A load(T x) {
    if constexpr (is_b) return K == SUM ? (int32_t)x.v : (int32_t)(x.v != 0);
    else if constexpr (is_fl_v<T>) return ldf(x);
    else return (A)x;
  }
  static __device__ __forceinline__ U store(A a) {
    if constexpr (is_b && K == SUM) {
      return a;
    } else if constexpr (is_b) {
      mbool b;
      b.v = (uint8_t)(a != 0);
      return b;
    } else if constexpr (is_fl_v<T>) {
      return stf<T>(a);
    } else {
      return (U)a;
    }
  }
  static __device__ __forceinline__ A round(A a) {
    if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, bf16>) return rnd<T>(a);
    else return a;
  }
  static __device__ __forceinline__ A init() {
    if constexpr (is_c) {
      if constexpr (K == SUM) return cmk(0.0f, 0.0f);
      else if constexpr (K == PROD) return cmk(1.0f, 0.0f);
      else if constexpr (K == MAX) return cmk(-INFINITY, -INFINITY);
      else if constexpr (K == MIN) return cmk(INFINITY, INFINITY);
      else return cmk(-INFINITY, 0.0f);
    } else if constexpr (K == SUM) {
      return (A)0;
    } else if constexpr (K == PROD) {
      return (A)1;
    } else if constexpr (is_b) {
      return K == MIN ? 1 : 0;
    } else if constexpr (is_real_float_v<T>) {
      return K == MIN ? (A)INFINITY : (A)-INFINITY;
    } else if constexpr (is_uint_v<T>) {
      return K == MIN ? (A)~(A)0 : (A)0;
    } else {
      /* signed: the type's max or min */
      A mx = (A)((wide_u<T>)~(wide_u<T>)0 >> (8 * sizeof(wide_u<T>) - 8 * sizeof(T) + 1));
      return K == MIN ? mx : (A)(-mx - 1);
    }
  }
  static __device__ __forceinline__ A op(A a, A x) {
    if constexpr (K == SUM) {
      if constexpr (is_c) return cadd(a, x);
      else if constexpr (is_b) return (int32_t)((uint32_t)a + (uint32_t)x);
      else return (A)(a + x);
    } else if constexpr (K == PROD) {
      if constexpr (is_c) return cmul(a, x);
      else if constexpr (is_b) return a && x;
      else return (A)(a * x);
    } else if constexpr (K == MAX) {
      if constexpr (is_c) return c_lt(x, a) ? a : x;
      else if constexpr (is_b) return a || x;
      else if constexpr (is_real_float_v<T>) return ((x > a || x != x) && a == a) ? x : a;
      else return x > a ? x : a;
    } else if constexpr (K == MIN) {
      if constexpr (is_c) return c_lt(x, a) ? x : a;
      else if constexpr (is_b) return a && x;
      else if constexpr (is_real_float_v<T>) return ((x < a || x != x) && a == a) ? x : a;
      else return x < a ? x : a;
    } else {
      if constexpr (is_c) return lae_c(a, x);
      else if constexpr (std::is_same_v<T, double>) return lae_d(a, x);
      else return lae_f<T>(a, x);
    }
  }
};

/* ---- serial: a thread per line ------------------------------------------- */

/* Any inner: line t = (outer o, inner k), elements at stride inner (the
 * threads of a warp read neighbouring k). */
template <typename T, int K>
__global__ void scan_lines_k(typename sop<T, K>::U* out, const T* in, int64_t lines, int64_t n, int64_t inner,
                             int reverse, int inclusive) {
  using S = sop<T, K>;
  using A = typename S::A;
  for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < lines; t += (int64_t)gridDim.x * blockDim.x) {
    int64_t o = t / inner, k = t - o * inner;
    int64_t step = reverse ? -inner : inner;
    int64_t p = o * n * inner + k + (reverse ? (n - 1) * inner : 0);
    A acc = S::init();
    int64_t i = 0;
    if (inclusive) {
      acc = S::load(in[p]);
      out[p] = S::store(acc);
      i = 1;
      p += step;
    }
    for (; i < n; i++, p += step) {
      A v = S::load(in[p]);
      if (inclusive) {
        acc = S::round(S::op(acc, v));
        out[p] = S::store(acc);
      } else {
        out[p] = S::store(acc);
        acc = S::round(S::op(acc, v));
      }
    }
  }
}

/* inner == 1: TR rows per block, a thread per row; tiles of TR x TC
 * elements go through shared memory (loaded and stored a row segment per
 * warp), each thread scanning its row's TC elements in place. */
template <typename T, int K>
__global__ void __launch_bounds__(TR)
    scan_rows_k(typename sop<T, K>::U* out, const T* in, int64_t rows, int64_t n, int reverse, int inclusive) {
  using S = sop<T, K>;
  using A = typename S::A;
  using U = typename S::U;
  static_assert(sizeof(T) <= 8 && sizeof(U) <= 8, "slot size");
  __shared__ uint64_t buf[TR * (TC + 1)];
  const int r = threadIdx.x;
  for (int64_t row0 = (int64_t)blockIdx.x * TR; row0 < rows; row0 += (int64_t)gridDim.x * TR) {
    const int64_t row = row0 + r;
    A acc = S::init();
    for (int64_t c0 = 0; c0 < n; c0 += TC) {
      const int w = n - c0 < TC ? (int)(n - c0) : TC;
      for (int e = threadIdx.x; e < TR * TC; e += TR) {
        int rr = e / TC, cc = e % TC;
        int64_t rw = row0 + rr, j = c0 + cc;
        if (rw < rows && cc < w) {
          T x = in[rw * n + (reverse ? n - 1 - j : j)];
          memcpy(&buf[rr * (TC + 1) + cc], &x, sizeof(T));
        }
      }
      __syncthreads();
      if (row < rows) {
        for (int cc = 0; cc < w; cc++) {
          uint64_t* slot = &buf[r * (TC + 1) + cc];
          T x;
          memcpy(&x, slot, sizeof(T));
          A v = S::load(x);
          A y;
          if (inclusive) {
            acc = c0 + cc == 0 ? v : S::round(S::op(acc, v));
            y = acc;
          } else {
            y = acc;
            acc = S::round(S::op(acc, v));
          }
          U u = S::store(y);
          memcpy(slot, &u, sizeof(U));
        }
      }
      __syncthreads();
      for (int e = threadIdx.x; e < TR * TC; e += TR) {
        int rr = e / TC, cc = e % TC;
        int64_t rw = row0 + rr, j = c0 + cc;
        if (rw < rows && cc < w) {
          U u;
          memcpy(&u, &buf[rr * (TC + 1) + cc], sizeof(U));
          out[rw * n + (reverse ? n - 1 - j : j)] = u;
        }
      }
      __syncthreads();
    }
  }
}

/* ---- parallel: chunks of a line, a block each ---------------------------- */

/* A partial result: the fold of some elements, or none (has 0). */
template <typename A>
struct part {
  A v;
  int has;
};

template <typename S, typename A>
__device__ __forceinline__ part<A> comb(part<A> a, part<A> b) {
  if (!a.has) return b;
  if (!b.has) return a;
  part<A> r;
  r.v = S::round(S::op(a.v, b.v));
  r.has = 1;
  return r;
}

template <typename A>
__device__ __forceinline__ part<A> one(A v) {
  part<A> r;
  r.v = v;
  r.has = 1;
  return r;
}

template <typename A>
__device__ __forceinline__ part<A> none() {
  part<A> r;
  memset(&r, 0, sizeof r);
  return r;
}

template <typename A>
__device__ __forceinline__ part<A> shfl_up_part(part<A> p, int o) {
  part<A> r;
  if constexpr (sizeof(A) <= 4) {
    uint32_t u = 0;
    memcpy(&u, &p.v, sizeof(A));
    u = __shfl_up_sync(0xffffffffu, u, o);
    memcpy(&r.v, &u, sizeof(A));
  } else {
    unsigned long long u;
    memcpy(&u, &p.v, 8);
    u = __shfl_up_sync(0xffffffffu, u, o);
    memcpy(&r.v, &u, 8);
  }
  r.has = __shfl_up_sync(0xffffffffu, p.has, o);
  return r;
}

/* Ordered scan of the block's per-thread values: excl = the fold of the
 * threads before this one, total = the fold of all. sw: 32 slots of
 * shared memory. Every thread of the block calls it. */
template <typename S, typename A>
__device__ __forceinline__ void block_scan(part<A> v, part<A>& excl, part<A>& total, part<A>* sw) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  part<A> inc = v;
  for (int o = 1; o < 32; o <<= 1) {
    part<A> y = shfl_up_part(inc, o);
    if (lane >= o) inc = comb<S>(y, inc);
  }
  if (lane == 31) sw[w] = inc;
  __syncthreads();
  if (w == 0) {
    part<A> x = lane < nw ? sw[lane] : none<A>();
    for (int o = 1; o < 32; o <<= 1) {
      part<A> y = shfl_up_part(x, o);
      if (lane >= o) x = comb<S>(y, x);
    }
    if (lane < nw) sw[lane] = x;
  }
  __syncthreads();
  part<A> lex = shfl_up_part(inc, 1);
  if (lane == 0) lex = none<A>();
  excl = comb<S>(w > 0 ? sw[w - 1] : none<A>(), lex);
  total = sw[nw - 1];
  __syncthreads();
}

/* Line t's element at logical position j (reverse runs from the end). */
__device__ __forceinline__ int64_t elem_at(int64_t t, int64_t j, int64_t n, int64_t inner, int reverse) {
  int64_t o = t / inner;
  return o * n * inner + (t - o * inner) + (reverse ? n - 1 - j : j) * inner;
}

/* Pass 1: the fold of every chunk but each line's last. Block b = (line
 * b / nch, chunk b % nch). */
template <typename T, int K>
__global__ void __launch_bounds__(PB) scan_reduce_k(part<typename sop<T, K>::A>* partials, const T* in, int64_t n,
                                                    int64_t inner, int64_t clen, int64_t nch, int reverse) {
  using S = sop<T, K>;
  using A = typename S::A;
  __shared__ part<A> sw[32];
  const int64_t b = blockIdx.x, t = b / nch, c = b - t * nch;
  if (c == nch - 1) return;
  const int64_t j0 = c * clen, j1 = j0 + clen < n ? j0 + clen : n;
  part<A> carry = none<A>();
  for (int64_t tile = j0; tile < j1; tile += PTILE) {
    part<A> loc = none<A>();
    const int64_t js = tile + (int64_t)threadIdx.x * PI;
#pragma unroll
    for (int m = 0; m < PI; m++)
      if (js + m < j1) loc = comb<S>(loc, one(S::load(in[elem_at(t, js + m, n, inner, reverse)])));
    part<A> ex, tot;
    block_scan<S>(loc, ex, tot, sw);
    carry = comb<S>(carry, tot);
  }
  if (threadIdx.x == 0) partials[b] = carry;
}

/* Pass 2: each chunk scanned from the fold of the chunks before it (and
 * the op's identity first for an exclusive scan). */
template <typename T, int K>
__global__ void __launch_bounds__(PB)
    scan_chunks_k(typename sop<T, K>::U* out, const part<typename sop<T, K>::A>* partials, const T* in, int64_t n,
                  int64_t inner, int64_t clen, int64_t nch, int reverse, int inclusive) {
  using S = sop<T, K>;
  using A = typename S::A;
  __shared__ part<A> sw[32];
  __shared__ part<A> start;
  const int64_t b = blockIdx.x, t = b / nch, c = b - t * nch;
  const int64_t j0 = c * clen, j1 = j0 + clen < n ? j0 + clen : n;
  if (threadIdx.x == 0) {
    part<A> cy = inclusive ? none<A>() : one(S::init());
    for (int64_t k = 0; k < c; k++) cy = comb<S>(cy, partials[t * nch + k]);
    start = cy;
  }
  __syncthreads();
  part<A> carry = start;
  for (int64_t tile = j0; tile < j1; tile += PTILE) {
    const int64_t js = tile + (int64_t)threadIdx.x * PI;
    A x[PI];
    part<A> loc = none<A>();
#pragma unroll
    for (int m = 0; m < PI; m++) {
      if (js + m < j1) {
        x[m] = S::load(in[elem_at(t, js + m, n, inner, reverse)]);
        loc = comb<S>(loc, one(x[m]));
      }
    }
    part<A> ex, tot;
    block_scan<S>(loc, ex, tot, sw);
    part<A> acc = comb<S>(carry, ex);
#pragma unroll
    for (int m = 0; m < PI; m++) {
      if (js + m < j1) {
        A y;
        if (inclusive) {
          acc = acc.has ? one(S::round(S::op(acc.v, x[m]))) : one(x[m]);
          y = acc.v;
        } else {
          y = acc.v;
          acc = one(S::round(S::op(acc.v, x[m])));
        }
        out[elem_at(t, js + m, n, inner, reverse)] = S::store(y);
      }
    }
    carry = comb<S>(carry, tot);
  }
}

/* ---- launch ---------------------------------------------------------------- */

static unsigned grid_for(int64_t n, int64_t per_block) {
  int64_t b = (n + per_block - 1) / per_block;
  if (b < 1) b = 1;
  if (b > (int64_t)1 << 20) b = (int64_t)1 << 20;
  return (unsigned)b;
}

template <typename T, int K>
static int scan_run(void* dst, const void* srcv, int64_t outer, int64_t n, int64_t inner, int reverse, int inclusive,
                    cudaStream_t st) {
  if constexpr (K == LAE && !(is_real_float_v<T> || std::is_same_v<T, c64>)) {
    return -1; /* the op constructor casts integers to float32 */
  } else {
    using S = sop<T, K>;
    using A = typename S::A;
    using U = typename S::U;
    const T* src = (const T*)srcv;
    U* out = (U*)dst;
    int64_t lines = outer * inner;
    if (lines == 0 || n == 0) return 0;
    constexpr bool is_float = is_real_float_v<T> || std::is_same_v<T, c64>;
    constexpr bool exact = !is_float || (is_real_float_v<T> && (K == MAX || K == MIN));
    /* Half types round at every step: a regrouped sum or product drifts
     * far from the CPU's over a long line, so they stay serial too. */
    constexpr bool half = std::is_same_v<T, __half> || std::is_same_v<T, bf16>;
    constexpr bool serial_only = (std::is_same_v<T, c64> && (K == MAX || K == MIN || K == LAE)) || (half && !exact);
    bool par = false;
    if constexpr (!serial_only) {
      if (exact) par = n >= PTILE || (n >= 512 && lines <= 8 * PAR_MAX_LINES);
      else par = n >= PAR_MIN_INEXACT && lines <= PAR_MAX_LINES;
      if (inner > 1 && lines > 8 * PAR_MAX_LINES) par = false; /* the serial kernel reads those coalesced */
    }
    if (par) {
      int64_t want = (2048 + lines - 1) / lines;
      int64_t maxc = (n + PTILE - 1) / PTILE;
      if (maxc > MAX_CHUNKS) maxc = MAX_CHUNKS;
      int64_t nch = want < maxc ? want : maxc;
      if (nch < 1) nch = 1;
      int64_t clen = (n + nch - 1) / nch;
      clen = (clen + PTILE - 1) / PTILE * PTILE;
      nch = (n + clen - 1) / clen;
      if (lines * nch < ((int64_t)1 << 31)) {
        part<A>* partials = nullptr;
        if (nch > 1) {
          cudaError_t e = cudaMallocAsync((void**)&partials, (size_t)(lines * nch) * sizeof(part<A>), st);
          if (e != cudaSuccess) return (int)e;
          scan_reduce_k<T, K><<<(unsigned)(lines * nch), PB, 0, st>>>(partials, src, n, inner, clen, nch, reverse);
        }
        scan_chunks_k<T, K>
            <<<(unsigned)(lines * nch), PB, 0, st>>>(out, partials, src, n, inner, clen, nch, reverse, inclusive);
        int rc = (int)cudaGetLastError();
        if (partials) cudaFreeAsync(partials, st);
        return rc;
      }
    }
    if (inner == 1) scan_rows_k<T, K><<<grid_for(lines, TR), TR, 0, st>>>(out, src, lines, n, reverse, inclusive);
    else scan_lines_k<T, K><<<grid_for(lines, 256), 256, 0, st>>>(out, src, lines, n, inner, reverse, inclusive);
    return (int)cudaGetLastError();
  }
}

template <int K>
struct scan_kind {
  template <typename T>
  static int run(void* dst, const void* src, int64_t outer, int64_t n, int64_t inner, int reverse, int inclusive,
                 cudaStream_t st) {
    return scan_run<T, K>(dst, src, outer, n, inner, reverse, inclusive, st);
  }
};

template <int K>
static int scan_dispatch(mlx_dtype in, void* dst, const void* src, int64_t outer, int64_t n, int64_t inner,
                         int reverse, int inclusive, cudaStream_t st) {
  MLX_CU_DISPATCH(in, scan_kind<K>::template run, dst, src, outer, n, inner, reverse, inclusive, st)
}

extern "C" int mlx_cu_scan_launch_(int kind, mlx_dtype in, void* dst, const void* src, int64_t outer, int64_t n,
                                   int64_t inner, int reverse, int inclusive, void* stream) {
  cudaStream_t st = (cudaStream_t)stream;
  switch (kind) {
    case SUM: return scan_dispatch<SUM>(in, dst, src, outer, n, inner, reverse, inclusive, st);
    case PROD: return scan_dispatch<PROD>(in, dst, src, outer, n, inner, reverse, inclusive, st);
    case MAX: return scan_dispatch<MAX>(in, dst, src, outer, n, inner, reverse, inclusive, st);
    case MIN: return scan_dispatch<MIN>(in, dst, src, outer, n, inner, reverse, inclusive, st);
    case LAE: return scan_dispatch<LAE>(in, dst, src, outer, n, inner, reverse, inclusive, st);
    default: return -1;
  }
}
