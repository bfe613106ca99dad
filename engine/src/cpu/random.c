/* Kernels of the random family. Upstream MLX lays the counter stream of
 * a key out so that an output of n 32-bit words is filled in pairs: the
 * hash of counter (j, half + odd + j) gives word j and word half + odd + j
 * (half = n / 2, odd = n % 2), and an odd middle word comes from counter
 * (half, 0). Narrow widths (uint8/uint16) take the bytes of that word
 * stream, so the last word may be cut. We reproduce this layout exactly;
 * on a little-endian machine the bytes match upstream's. */
#include "random.h"

typedef struct {
  uint32_t k0, k1;
  uint32_t hi_start; /* counter (and word index) of the first high word */
  uint32_t* lo;
  uint32_t* hi;
} bits_job;

/* Word pairs [begin, end): all complete words, so the loop is plain
 * stores the compiler can vectorize. Counters are 32-bit like upstream's
 * (past 2^32 words, 16 GiB, they wrap as there). */
static void bits_pairs(void* ctx, int64_t begin, int64_t end) {
  const bits_job* job = ctx;
  uint32_t* restrict lo = job->lo;
  uint32_t* restrict hi = job->hi;
  const uint32_t k0 = job->k0, k1 = job->k1, hs = job->hi_start;
  for (int64_t j = begin; j < end; j++) {
    uint32_t a, b;
    mlx_threefry2x32_(k0, k1, (uint32_t)j, hs + (uint32_t)j, &a, &b);
    lo[j] = a;
    hi[j] = b;
  }
}

/* Stores word w of the stream, cutting it when it is the partial last
 * word of an output of nbytes bytes. */
static void store_word(char* out, int64_t nbytes, int64_t w, uint32_t v) {
  int64_t at = 4 * w;
  memcpy(out + at, &v, nbytes - at < 4 ? (size_t)(nbytes - at) : 4);
}

/* The key's two words, read through its strides (it may be a view). */
static void read_key(const mlx_node_* key, uint32_t* k0, uint32_t* k1) {
  const uint32_t* k = MLX_DATA(key, uint32_t);
  *k0 = k[0];
  *k1 = k[key->strides[0]];
}

int mlx_cpu_random_bits_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  int64_t nbytes = out->size * (int64_t)mlx_dtype_size(out->dtype);
  if (nbytes == 0) return MLX_OK;
  bits_job job;
  read_key(ins[0], &job.k0, &job.k1);
  char* bytes = out->buf->data;
  int64_t nwords = (nbytes + 3) / 4, half = nwords / 2, odd = nwords % 2;
  /* Only the very last word can be partial: it is the high word of the
   * last pair, or the middle word when the output is a single word. */
  int partial = nbytes % 4 != 0;
  int64_t full = partial && half > 0 ? half - 1 : half;
  job.hi_start = (uint32_t)(half + odd);
  job.lo = (uint32_t*)bytes;
  job.hi = (uint32_t*)bytes + half + odd;
  mlx_parallel_for_(full, 1 << 14, bits_pairs, &job);
  uint32_t a, b;
  if (full < half) {
    int64_t j = half - 1;
    mlx_threefry2x32_(job.k0, job.k1, (uint32_t)j, (uint32_t)(half + odd + j), &a, &b);
    store_word(bytes, nbytes, j, a);
    store_word(bytes, nbytes, half + odd + j, b);
  }
  if (odd) {
    mlx_threefry2x32_(job.k0, job.k1, (uint32_t)half, 0, &a, &b);
    store_word(bytes, nbytes, half, a);
  }
  return MLX_OK;
}

int mlx_cpu_random_split_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  uint32_t k0, k1, a0, b0, a1, b1;
  read_key(ins[0], &k0, &k1);
  /* bits([2, 2]) is four words: pairs (0, 2) and (1, 3); the first key
   * is words 0-1, the second words 2-3. */
  mlx_threefry2x32_(k0, k1, 0, 2, &a0, &b0);
  mlx_threefry2x32_(k0, k1, 1, 3, &a1, &b1);
  MLX_TRY(mlx_node_alloc_(outs[0]));
  MLX_TRY(mlx_node_alloc_(outs[1]));
  uint32_t* first = outs[0]->buf->data;
  uint32_t* second = outs[1]->buf->data;
  first[0] = a0;
  first[1] = a1;
  second[0] = b0;
  second[1] = b1;
  return MLX_OK;
}

int mlx_cpu_random_complex_pairs_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  /* A row-major float32 copy of [..., 2] is exactly the bytes of the
   * complex64 [...] array. */
  mlx_node_copy_to_(out->buf->data, MLX_FLOAT32, ins[0]);
  return MLX_OK;
}
