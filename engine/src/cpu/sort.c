/* Sort, partition and searchsorted kernels.
 *
 * Every element is first mapped to an unsigned 64-bit key whose order is
 * upstream MLX's comparison (nan_aware_less): integers offset to unsigned,
 * floats by their bits (sign-flipped), with -0.0 mapped to 0.0's key and
 * every NaN to KEY_NAN (the largest), complex numbers as (real key, imag
 * key) with a NaN in either part mapped to KEY_NAN. Keys carry their
 * element's index along the axis, and the output takes the element (or the
 * index) an item holds, so equal keys of distinct elements (0.0 and -0.0,
 * NaN payloads) come out exactly as upstream's moves leave them.
 *
 * Sorts are stable, so any stable algorithm gives upstream's result: short
 * rows use insertion sort, longer ones an LSD radix sort on the key bytes
 * that vary (a 32-bit key over a few thousand elements takes 2-4 passes);
 * keys of at most 4 bytes are packed with their index into one word.
 *
 * partition/argpartition are not unique: upstream calls std::nth_element,
 * and its output order is what libstdc++'s introselect leaves (the
 * median-of-three quicksort partition steps, an insertion sort of the last
 * three or fewer, a heap select past the depth limit). We run the same
 * steps, with the same comparator (argpartition breaks ties between
 * non-NaN equal keys by index, as upstream's lambda does), so positions
 * match Python MLX's on Linux element for element.
 *
 * Rows (the elements along the axis, any strides) are independent and are
 * split among threads. */
#include <stdatomic.h>
#include <stdlib.h>

#include "half.h"
#include "sort.h"

#define KEY_NAN UINT64_MAX
#define SMALL_SORT 48
#define GRAIN (1 << 15)

typedef struct {
  uint64_t key;
  uint64_t idx;
} item;

/* ---- keys ---------------------------------------------------------------- */

static inline uint64_t key_bits32(uint32_t u) {
  if (u == 0x80000000u) u = 0; /* -0.0 sorts with 0.0 */
  return (u & 0x80000000u) ? (uint64_t)(uint32_t)~u : (uint64_t)(u | 0x80000000u);
}
static inline uint64_t key_f32(float f) {
  if (f != f) return KEY_NAN;
  uint32_t u;
  memcpy(&u, &f, 4);
  return key_bits32(u);
}
static inline uint64_t key_f64(double d) {
  if (d != d) return KEY_NAN;
  uint64_t u;
  memcpy(&u, &d, 8);
  if (u == 0x8000000000000000ull) u = 0;
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}
static inline uint64_t key_c64(mlx_c64 c) {
  float re = crealf(c), im = cimagf(c);
  if (re != re || im != im) return KEY_NAN;
  return (key_f32(re) << 32) | key_f32(im);
}

#define K_BOOL(v) ((uint64_t)((v) != 0))
#define K_U(v) ((uint64_t)(v))
/* signed ints offset in their own width, so short keys need few passes */
#define K_I8(v) ((uint64_t)((uint8_t)(v) ^ 0x80u))
#define K_I16(v) ((uint64_t)((uint16_t)(v) ^ 0x8000u))
#define K_I32(v) ((uint64_t)((uint32_t)(v) ^ 0x80000000u))
#define K_I64(v) ((uint64_t)(v) ^ 0x8000000000000000ull)
#define K_F16(v) key_f32((float)(v))
#define K_BF(v) key_f32(mlx_bf16_to_f32(v))
#define K_F32(v) key_f32(v)
#define K_F64(v) key_f64(v)
#define K_C64(v) key_c64(v)

#define DEF_KEYS(NAME, T, KEY)                                                            \
  static void NAME(uint64_t* restrict out, const void* src, int64_t stride, int64_t n) { \
    const T* p = src;                                                                     \
    for (int64_t i = 0; i < n; i++) out[i] = KEY(p[i * stride]);                         \
  }
DEF_KEYS(keys_bool, uint8_t, K_BOOL)
DEF_KEYS(keys_u8, uint8_t, K_U)
DEF_KEYS(keys_u16, uint16_t, K_U)
DEF_KEYS(keys_u32, uint32_t, K_U)
DEF_KEYS(keys_u64, uint64_t, K_U)
DEF_KEYS(keys_i8, int8_t, K_I8)
DEF_KEYS(keys_i16, int16_t, K_I16)
DEF_KEYS(keys_i32, int32_t, K_I32)
DEF_KEYS(keys_i64, int64_t, K_I64)
DEF_KEYS(keys_f16, mlx_f16, K_F16)
DEF_KEYS(keys_bf16, mlx_bf16, K_BF)
DEF_KEYS(keys_f32, float, K_F32)
DEF_KEYS(keys_f64, double, K_F64)
DEF_KEYS(keys_c64, mlx_c64, K_C64)

typedef void (*keys_fn)(uint64_t* restrict out, const void* src, int64_t stride, int64_t n);

static keys_fn keys_for(mlx_dtype t) {
  switch (t) {
    case MLX_BOOL: return keys_bool;
    case MLX_UINT8: return keys_u8;
    case MLX_UINT16: return keys_u16;
    case MLX_UINT32: return keys_u32;
    case MLX_UINT64: return keys_u64;
    case MLX_INT8: return keys_i8;
    case MLX_INT16: return keys_i16;
    case MLX_INT32: return keys_i32;
    case MLX_INT64: return keys_i64;
    case MLX_FLOAT16: return keys_f16;
    case MLX_BFLOAT16: return keys_bf16;
    case MLX_FLOAT32: return keys_f32;
    case MLX_FLOAT64: return keys_f64;
    case MLX_COMPLEX64: return keys_c64;
    default: return NULL;
  }
}

/* Bytes a key of dtype t can use (float16/bfloat16 go through float32). */
static int key_bytes(mlx_dtype t) {
  switch (t) {
    case MLX_BOOL:
    case MLX_UINT8:
    case MLX_INT8: return 1;
    case MLX_UINT16:
    case MLX_INT16: return 2;
    case MLX_UINT32:
    case MLX_INT32:
    case MLX_FLOAT16:
    case MLX_BFLOAT16:
    case MLX_FLOAT32: return 4;
    default: return 8;
  }
}

/* ---- stable sort of items by key ----------------------------------------- */

static void insertion_sort_stable(item* a, int64_t n) {
  for (int64_t i = 1; i < n; i++) {
    item v = a[i];
    int64_t j = i;
    while (j > 0 && a[j - 1].key > v.key) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = v;
  }
}

/* LSD radix sort on the low nbytes key bytes; tmp has n items, counts
 * room for 8 x 256 counters. Bytes on which all keys agree are skipped.
 * The result ends in a (copied back if needed). */
static void radix_sort(item* a, item* tmp, int64_t n, int nbytes, int64_t (*counts)[256]) {
  memset(counts, 0, (size_t)nbytes * sizeof *counts);
  for (int64_t i = 0; i < n; i++) {
    uint64_t k = a[i].key;
    for (int b = 0; b < nbytes; b++) counts[b][(k >> (8 * b)) & 0xff]++;
  }
  item* src = a;
  item* dst = tmp;
  for (int b = 0; b < nbytes; b++) {
    int64_t* c = counts[b];
    if (c[(src[0].key >> (8 * b)) & 0xff] == n) continue;
    int64_t pos = 0;
    for (int d = 0; d < 256; d++) {
      int64_t cnt = c[d];
      c[d] = pos;
      pos += cnt;
    }
    for (int64_t i = 0; i < n; i++) {
      item v = src[i];
      dst[c[(v.key >> (8 * b)) & 0xff]++] = v;
    }
    item* t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof(item));
}

/* The same on packed (key << 32 | index) words, for keys of at most 4
 * bytes: half the memory traffic of items. Sorting by the key bytes alone
 * keeps it stable. */
static void radix_sort_packed(uint64_t* a, uint64_t* tmp, int64_t n, int nbytes, int64_t (*counts)[256]) {
  memset(counts, 0, (size_t)nbytes * sizeof *counts);
  for (int64_t i = 0; i < n; i++) {
    uint64_t k = a[i] >> 32;
    for (int b = 0; b < nbytes; b++) counts[b][(k >> (8 * b)) & 0xff]++;
  }
  uint64_t* src = a;
  uint64_t* dst = tmp;
  for (int b = 0; b < nbytes; b++) {
    int64_t* c = counts[b];
    int shift = 32 + 8 * b;
    if (c[(src[0] >> shift) & 0xff] == n) continue;
    int64_t pos = 0;
    for (int d = 0; d < 256; d++) {
      int64_t cnt = c[d];
      c[d] = pos;
      pos += cnt;
    }
    for (int64_t i = 0; i < n; i++) {
      uint64_t v = src[i];
      dst[c[(v >> shift) & 0xff]++] = v;
    }
    uint64_t* t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof(uint64_t));
}

/* ---- libstdc++'s nth_element, step for step ------------------------------- */

typedef struct {
  int arg;  /* ties of non-NaN keys broken by index (argpartition) */
  int nans; /* KEY_NAN means NaN (float and complex dtypes) */
} cmp_ctx;

static inline int less(const cmp_ctx* c, const item* x, const item* y) {
  if (x->key != y->key) return x->key < y->key;
  return c->arg && !(c->nans && x->key == KEY_NAN) && x->idx < y->idx;
}

static inline void swap_items(item* x, item* y) {
  item t = *x;
  *x = *y;
  *y = t;
}

static void push_heap(const cmp_ctx* c, item* first, int64_t hole, int64_t top, item value) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && less(c, &first[parent], &value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

static void adjust_heap(const cmp_ctx* c, item* first, int64_t hole, int64_t len, item value) {
  int64_t top = hole, second = hole;
  while (second < (len - 1) / 2) {
    second = 2 * (second + 1);
    if (less(c, &first[second], &first[second - 1])) second--;
    first[hole] = first[second];
    hole = second;
  }
  if ((len & 1) == 0 && second == (len - 2) / 2) {
    second = 2 * (second + 1);
    first[hole] = first[second - 1];
    hole = second - 1;
  }
  push_heap(c, first, hole, top, value);
}

static void heap_select(const cmp_ctx* c, item* first, item* middle, item* last) {
  int64_t len = middle - first;
  if (len >= 2) {
    for (int64_t parent = (len - 2) / 2;; parent--) {
      adjust_heap(c, first, parent, len, first[parent]);
      if (parent == 0) break;
    }
  }
  for (item* i = middle; i < last; i++)
    if (less(c, i, first)) {
      item v = *i;
      *i = *first;
      adjust_heap(c, first, 0, len, v);
    }
}

static void move_median_to_first(const cmp_ctx* c, item* result, item* a, item* b, item* d) {
  if (less(c, a, b)) {
    if (less(c, b, d)) swap_items(result, b);
    else if (less(c, a, d)) swap_items(result, d);
    else swap_items(result, a);
  } else if (less(c, a, d)) {
    swap_items(result, a);
  } else if (less(c, b, d)) {
    swap_items(result, d);
  } else {
    swap_items(result, b);
  }
}

static item* unguarded_partition(const cmp_ctx* c, item* first, item* last, item* pivot) {
  for (;;) {
    while (less(c, first, pivot)) first++;
    last--;
    while (less(c, pivot, last)) last--;
    if (!(first < last)) return first;
    swap_items(first, last);
    first++;
  }
}

static void insertion_sort_cmp(const cmp_ctx* c, item* first, item* last) {
  if (first == last) return;
  for (item* i = first + 1; i != last; i++) {
    item v = *i;
    if (less(c, &v, first)) {
      memmove(first + 1, first, (size_t)(i - first) * sizeof(item));
      *first = v;
    } else {
      item* hole = i;
      item* next = i - 1;
      while (less(c, &v, next)) {
        *hole = *next;
        hole = next;
        next--;
      }
      *hole = v;
    }
  }
}

static void nth_element(const cmp_ctx* c, item* first, int64_t nth, int64_t n) {
  if (n == 0 || nth == n) return;
  item* last = first + n;
  item* pnth = first + nth;
  int64_t depth = 2 * (63 - __builtin_clzll((unsigned long long)n));
  while (last - first > 3) {
    if (depth == 0) {
      heap_select(c, first, pnth + 1, last);
      swap_items(first, pnth);
      return;
    }
    depth--;
    item* mid = first + (last - first) / 2;
    move_median_to_first(c, first, first + 1, mid, last - 1);
    item* cut = unguarded_partition(c, first + 1, last, first);
    if (cut <= pnth) first = cut;
    else last = cut;
  }
  insertion_sort_cmp(c, first, last);
}

/* ---- the kernel ----------------------------------------------------------- */

typedef struct {
  const mlx_sort_params_* p;
  const mlx_node_* in;
  mlx_node_* out;
  keys_fn keys;
  int64_t n;     /* elements per row */
  int64_t inner; /* product of the dims after the axis */
  int nans;
  int nbytes; /* key width */
  atomic_int failed;
} sort_job;

/* Element offset of row r's first element in the input (r runs over the
 * non-axis dims in row-major order). */
static int64_t row_offset(const mlx_node_* in, int axis, int64_t r) {
  int64_t off = 0;
  for (int d = in->ndim - 1; d >= 0; d--) {
    if (d == axis) continue;
    int64_t dim = in->shape[d];
    off += (r % dim) * in->strides[d];
    r /= dim;
  }
  return off;
}

static void sort_rows(void* ctx, int64_t begin, int64_t end) {
  sort_job* j = ctx;
  const mlx_sort_params_* p = j->p;
  int64_t n = j->n;
  /* rows have at most 2^32 elements (the op constructor checks) */
  int packed = p->kth < 0 && n > SMALL_SORT && j->nbytes <= 4;
  /* scratch: items and their radix buffer, or the packed words' buffer */
  item* items = malloc((size_t)n * (packed ? sizeof(uint64_t) : 2 * sizeof(item)));
  uint64_t* keys = malloc((size_t)n * sizeof(uint64_t));
  uint32_t* order = malloc((size_t)n * sizeof(uint32_t));
  int64_t(*counts)[256] = malloc(8 * sizeof *counts);
  if (!items || !keys || !order || !counts) {
    free(items), free(keys), free(order), free(counts);
    atomic_store(&j->failed, 1);
    return;
  }
  size_t isz = mlx_dtype_size(j->in->dtype);
  const char* in_base = (const char*)j->in->buf->data + j->in->offset * (int64_t)isz;
  int64_t in_stride = j->in->strides[p->axis];
  cmp_ctx c = {p->arg, j->nans};
  for (int64_t r = begin; r < end; r++) {
    const char* row = in_base + row_offset(j->in, p->axis, r) * (int64_t)isz;
    j->keys(keys, row, in_stride, n);
    if (packed) {
      for (int64_t i = 0; i < n; i++) keys[i] = keys[i] << 32 | (uint64_t)i;
      radix_sort_packed(keys, (uint64_t*)items, n, j->nbytes, counts);
      for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)keys[i];
    } else {
      for (int64_t i = 0; i < n; i++) {
        items[i].key = keys[i];
        items[i].idx = (uint64_t)i;
      }
      if (p->kth >= 0) nth_element(&c, items, p->kth, n);
      else if (n <= SMALL_SORT) insertion_sort_stable(items, n);
      else radix_sort(items, items + n, n, j->nbytes, counts);
      for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)items[i].idx;
    }
    /* output row-major: row r = (outer o, inner k) */
    int64_t o = r / j->inner, k = r % j->inner;
    int64_t out0 = o * n * j->inner + k;
    if (p->arg) {
      uint32_t* dst = MLX_DATA(j->out, uint32_t) + out0;
      for (int64_t i = 0; i < n; i++) dst[i * j->inner] = order[i];
      continue;
    }
#define GATHER(T)                                                                      \
  {                                                                                    \
    const T* s = (const T*)row;                                                        \
    T* dst = MLX_DATA(j->out, T) + out0;                                               \
    for (int64_t i = 0; i < n; i++) dst[i * j->inner] = s[(int64_t)order[i] * in_stride]; \
  }
    switch (isz) {
      case 1: GATHER(uint8_t) break;
      case 2: GATHER(uint16_t) break;
      case 4: GATHER(uint32_t) break;
      default: GATHER(uint64_t) break;
    }
#undef GATHER
  }
  free(items), free(keys), free(order), free(counts);
}

/* ---- one long row: chunks sorted on the pool, then merged ---------------- */

/* A row alone is sorted by one thread above; past LONG_ROW elements (keys
 * of at most 4 bytes) its chunks are radix sorted in parallel and merged.
 * The packed words (key, index) are all distinct and ordered exactly as
 * the stable sort orders them, so merging by word value is stable. */
#define LONG_ROW (1 << 17)

typedef struct {
  sort_job* j;
  const char* row;
  int64_t in_stride;
  uint64_t* w;   /* packed words */
  uint64_t* tmp; /* radix / merge buffer */
  int64_t nchunks;
} long_job;

static void long_chunks(void* ctx, int64_t begin, int64_t end) {
  long_job* L = ctx;
  int64_t n = L->j->n;
  size_t isz = mlx_dtype_size(L->j->in->dtype);
  int64_t(*counts)[256] = malloc(8 * sizeof *counts);
  if (!counts) {
    atomic_store(&L->j->failed, 1);
    return;
  }
  for (int64_t c = begin; c < end; c++) {
    int64_t lo = c * n / L->nchunks, hi = (c + 1) * n / L->nchunks;
    L->j->keys(L->w + lo, L->row + lo * L->in_stride * (int64_t)isz, L->in_stride, hi - lo);
    for (int64_t i = lo; i < hi; i++) L->w[i] = L->w[i] << 32 | (uint64_t)i;
    radix_sort_packed(L->w + lo, L->tmp + lo, hi - lo, L->j->nbytes, counts);
  }
  free(counts);
}

static void merge_runs(uint64_t* dst, const uint64_t* a, int64_t na, const uint64_t* b, int64_t nb) {
  int64_t i = 0, k = 0, o = 0;
  while (i < na && k < nb) dst[o++] = b[k] < a[i] ? b[k++] : a[i++];
  while (i < na) dst[o++] = a[i++];
  while (k < nb) dst[o++] = b[k++];
}

static int sort_long_row(sort_job* j) {
  int64_t n = j->n;
  size_t isz = mlx_dtype_size(j->in->dtype);
  uint64_t* w = malloc((size_t)n * sizeof(uint64_t));
  uint64_t* tmp = malloc((size_t)n * sizeof(uint64_t));
  if (!w || !tmp) {
    free(w), free(tmp);
    return mlx_error_(MLX_ERROR_MEMORY, "[sort] out of memory");
  }
  int64_t threads = mlx_cpu_thread_count();
  int64_t nchunks = threads < n / (GRAIN / 2) ? threads : n / (GRAIN / 2);
  long_job L = {j, (const char*)j->in->buf->data + j->in->offset * (int64_t)isz, j->in->strides[j->p->axis], w, tmp,
                nchunks};
  mlx_parallel_for_(nchunks, 1, long_chunks, &L);
  if (atomic_load(&j->failed)) {
    free(w), free(tmp);
    return mlx_error_(MLX_ERROR_MEMORY, "[sort] out of memory");
  }
  /* merge rounds, doubling the run count each time (run c spans
   * [c n / nchunks, (c + 1) n / nchunks)) */
  uint64_t *src = w, *dst = tmp;
  for (int64_t width = 1; width < nchunks; width *= 2) {
    for (int64_t c = 0; c < nchunks; c += 2 * width) {
      int64_t lo = c * n / nchunks;
      int64_t mid = (c + width < nchunks ? c + width : nchunks) * n / nchunks;
      int64_t hi = (c + 2 * width < nchunks ? c + 2 * width : nchunks) * n / nchunks;
      merge_runs(dst + lo, src + lo, mid - lo, src + mid, hi - mid);
    }
    uint64_t* t = src;
    src = dst;
    dst = t;
  }
  if (j->p->arg) {
    uint32_t* out = MLX_DATA(j->out, uint32_t);
    for (int64_t i = 0; i < n; i++) out[i * j->inner] = (uint32_t)src[i];
  } else {
#define GATHER_LONG(T)                                                                      \
  {                                                                                         \
    const T* s = (const T*)L.row;                                                           \
    T* out = MLX_DATA(j->out, T);                                                           \
    for (int64_t i = 0; i < n; i++) out[i * j->inner] = s[(int64_t)(uint32_t)src[i] * L.in_stride]; \
  }
    switch (isz) {
      case 1: GATHER_LONG(uint8_t) break;
      case 2: GATHER_LONG(uint16_t) break;
      default: GATHER_LONG(uint32_t) break;
    }
#undef GATHER_LONG
  }
  free(w), free(tmp);
  return MLX_OK;
}

int mlx_cpu_sort_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  const mlx_sort_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  keys_fn kf = keys_for(in->dtype);
  if (!kf) return mlx_error_(MLX_ERROR_DTYPE, "[sort] unsupported dtype %s", mlx_dtype_name(in->dtype));
  sort_job j = {.p = p, .in = in, .out = out, .keys = kf, .n = in->shape[p->axis], .inner = 1};
  for (int d = p->axis + 1; d < in->ndim; d++) j.inner *= in->shape[d];
  j.nans = mlx_dtype_is_inexact(in->dtype);
  j.nbytes = key_bytes(in->dtype);
  atomic_init(&j.failed, 0);
  int64_t rows = in->size / j.n;
  if (rows == 1 && p->kth < 0 && j.nbytes <= 4 && j.n >= LONG_ROW && mlx_cpu_thread_count() > 1)
    return sort_long_row(&j);
  int64_t grain = GRAIN / j.n > 0 ? GRAIN / j.n : 1;
  mlx_parallel_for_(rows, grain, sort_rows, &j);
  if (atomic_load(&j.failed)) return mlx_error_(MLX_ERROR_MEMORY, "[sort] out of memory");
  return MLX_OK;
}

/* ---- searchsorted ------------------------------------------------------- */

typedef struct {
  const uint64_t* a; /* keys of the sorted sequence */
  uint64_t n;
  const uint64_t* v; /* keys of the values */
  uint32_t* out;
  int right;
} search_job;

static void search_range(void* ctx, int64_t begin, int64_t end) {
  search_job* j = ctx;
  for (int64_t i = begin; i < end; i++) {
    uint64_t x = j->v[i], lo = 0, hi = j->n;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      uint64_t m = j->a[mid];
      if (j->right ? m <= x : m < x) lo = mid + 1;
      else hi = mid;
    }
    j->out[i] = (uint32_t)lo;
  }
}

int mlx_cpu_searchsorted_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  int right = *(const int*)params;
  mlx_node_* a = ins[0];
  mlx_node_* v = ins[1];
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  keys_fn kf = keys_for(a->dtype);
  if (!kf) return mlx_error_(MLX_ERROR_DTYPE, "[searchsorted] unsupported dtype %s", mlx_dtype_name(a->dtype));
  size_t isz = mlx_dtype_size(a->dtype);
  uint64_t* ak = malloc((size_t)(a->size > 0 ? a->size : 1) * sizeof(uint64_t));
  uint64_t* vk = malloc((size_t)v->size * sizeof(uint64_t));
  void* vd = (v->flags & MLX_FLAG_ROW_CONTIG) ? NULL : malloc((size_t)v->size * isz);
  if (!ak || !vk || (!(v->flags & MLX_FLAG_ROW_CONTIG) && !vd)) {
    free(ak), free(vk), free(vd);
    return mlx_error_(MLX_ERROR_MEMORY, "[searchsorted] out of memory");
  }
  if (a->size > 0) kf(ak, (const char*)a->buf->data + a->offset * (int64_t)isz, a->strides[0], a->size);
  if (vd) mlx_node_copy_to_(vd, v->dtype, v);
  kf(vk, vd ? vd : (const char*)v->buf->data + v->offset * (int64_t)isz, 1, v->size);
  search_job j = {ak, (uint64_t)a->size, vk, MLX_DATA(out, uint32_t), right};
  mlx_parallel_for_(v->size, GRAIN / 16, search_range, &j);
  free(ak), free(vk), free(vd);
  return MLX_OK;
}
