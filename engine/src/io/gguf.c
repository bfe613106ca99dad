/* GGUF files (the llama.cpp format), versions 2 and 3, little-endian:
 *
 *   "GGUF" | version u32 | n_tensors u64 | n_kv u64
 *   n_kv x      key (string) | type u32 | value
 *   n_tensors x name (string) | n_dims u32 | dims u64[n_dims] (innermost
 *               first) | type u32 | offset u64 (relative to the data)
 *   padding to the alignment (general.alignment, default 32) | data
 *
 * A string is a u64 length and that many bytes. Every count, length and
 * offset is checked against the file size before it is used: a count can
 * never ask for more memory than the bytes left in the file could describe.
 * Semantics follow upstream MLX (mlx/io/gguf.cpp): the dimension order is
 * reversed to MLX's, quantized Q4_0/Q4_1/Q8_0 tensors become (weights,
 * scales, biases) triples, metadata numbers become arrays. */
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

enum {
  V_UINT8 = 0,
  V_INT8,
  V_UINT16,
  V_INT16,
  V_UINT32,
  V_INT32,
  V_FLOAT32,
  V_BOOL,
  V_STRING,
  V_ARRAY,
  V_UINT64,
  V_INT64,
  V_FLOAT64,
  V_COUNT
};

enum { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q8_0 = 8, T_Q4_K = 12, T_I8 = 24, T_I16 = 25, T_I32 = 26, T_BF16 = 30 };

#define DEFAULT_ALIGNMENT 32u
#define MAX_DIMS 16

/* Size in bytes of a metadata number type (0 for strings and arrays), and
 * the dtype it loads as (float64 narrows to float32, as upstream). */
static const int VALUE_SIZE[V_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static const mlx_dtype VALUE_DTYPE[V_COUNT] = {
    [V_UINT8] = MLX_UINT8,   [V_INT8] = MLX_INT8,     [V_UINT16] = MLX_UINT16, [V_INT16] = MLX_INT16,
    [V_UINT32] = MLX_UINT32, [V_INT32] = MLX_INT32,   [V_FLOAT32] = MLX_FLOAT32, [V_BOOL] = MLX_BOOL,
    [V_UINT64] = MLX_UINT64, [V_INT64] = MLX_INT64,   [V_FLOAT64] = MLX_FLOAT32};

void mlx_gguf_metadata_free(mlx_gguf_metadata* m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    if (m->keys) free(m->keys[i]);
    if (!m->values) continue;
    mlx_gguf_value* v = &m->values[i];
    mlx_array_free(v->array);
    for (size_t k = 0; v->strings && k < v->nstrings; k++) free(v->strings[k]);
    free(v->strings);
    free(v->string_lens);
  }
  free(m->keys);
  free(m->values);
  m->n = 0;
  m->keys = NULL;
  m->values = NULL;
}

/* ---- a buffered cursor over the file --------------------------------------- */

#define WINDOW 65536

typedef struct {
  mlx_rfile_* f;
  int64_t pos;
  int64_t win_at, win_len;
  unsigned char win[WINDOW];
  const char* path;
} cursor;

static int truncated(cursor* c, const char* what) {
  return mlx_error_(MLX_ERROR_FILE, "[load_gguf] %s is truncated or corrupt: %s at byte %lld runs past the end", c->path,
                    what, (long long)c->pos);
}

/* Copies n bytes at the cursor into dst and advances. */
static int take(cursor* c, void* dst, int64_t n, const char* what) {
  if (n > c->f->size - c->pos) return truncated(c, what);
  if (n > WINDOW) {
    MLX_TRY(mlx_rfile_read_(c->f, dst, c->pos, n, "load_gguf"));
    c->pos += n;
    return MLX_OK;
  }
  if (c->pos < c->win_at || c->pos + n > c->win_at + c->win_len) {
    int64_t len = c->f->size - c->pos < WINDOW ? c->f->size - c->pos : WINDOW;
    MLX_TRY(mlx_rfile_read_(c->f, c->win, c->pos, len, "load_gguf"));
    c->win_at = c->pos;
    c->win_len = len;
  }
  memcpy(dst, c->win + (c->pos - c->win_at), (size_t)n);
  c->pos += n;
  return MLX_OK;
}

static int take_u32(cursor* c, uint32_t* v, const char* what) {
  unsigned char b[4] = {0};
  MLX_TRY(take(c, b, 4, what));
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return MLX_OK;
}

static int take_u64(cursor* c, uint64_t* v, const char* what) {
  unsigned char b[8] = {0};
  MLX_TRY(take(c, b, 8, what));
  *v = 0;
  for (int k = 7; k >= 0; k--) *v = *v << 8 | b[k];
  return MLX_OK;
}

/* A string: malloc'ed copy (NUL-terminated) and its length. */
static int take_string(cursor* c, char** s, size_t* len, const char* what) {
  uint64_t n;
  MLX_TRY(take_u64(c, &n, what));
  if (n > (uint64_t)(c->f->size - c->pos)) return truncated(c, what);
  char* p = malloc((size_t)n + 1);
  if (!p) return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory for a string of %llu bytes", (unsigned long long)n);
  int rc = take(c, p, (int64_t)n, what);
  if (rc) {
    free(p);
    return rc;
  }
  p[n] = '\0';
  *s = p;
  *len = (size_t)n;
  return MLX_OK;
}

/* ---- metadata ------------------------------------------------------------- */

static int number_array(mlx_array* res, cursor* c, uint32_t type, uint64_t count, int scalar) {
  int64_t item = VALUE_SIZE[type];
  if (count > (uint64_t)(c->f->size - c->pos) / (uint64_t)item) return truncated(c, "a metadata array");
  int64_t nbytes = (int64_t)count * item;
  unsigned char* raw = malloc(nbytes ? (size_t)nbytes : 1);
  if (!raw) return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
  int rc = take(c, raw, nbytes, "a metadata value");
  if (!rc) {
    int64_t shape[1] = {(int64_t)count};
    if (type == V_FLOAT64) {
      /* float64 narrows to float32, as upstream MLX loads it. */
      float* f = malloc(count ? (size_t)count * sizeof(float) : 1);
      if (!f) rc = mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
      for (uint64_t i = 0; f && i < count; i++) {
        double d;
        memcpy(&d, raw + i * 8, 8);
        f[i] = (float)d;
      }
      if (f) rc = mlx_array_new_data(res, f, shape, scalar ? 0 : 1, MLX_FLOAT32);
      free(f);
    } else {
      if (type == V_BOOL)
        for (uint64_t i = 0; i < count; i++) raw[i] = raw[i] != 0;
      rc = mlx_array_new_data(res, raw, shape, scalar ? 0 : 1, VALUE_DTYPE[type]);
    }
  }
  free(raw);
  return rc;
}

static int read_value(mlx_gguf_value* v, cursor* c, uint32_t type) {
  v->array = mlx_array_new();
  if (type >= V_COUNT) return mlx_error_(MLX_ERROR_FILE, "[load_gguf] unknown metadata type %u in %s", type, c->path);
  if (type == V_STRING || type == V_ARRAY) {
    uint32_t etype = V_STRING;
    uint64_t count = 1;
    if (type == V_ARRAY) {
      MLX_TRY(take_u32(c, &etype, "an array header"));
      MLX_TRY(take_u64(c, &count, "an array header"));
      if (etype == V_ARRAY)
        return mlx_error_(MLX_ERROR_FILE, "[load_gguf] nested metadata arrays in %s are not supported", c->path);
      if (etype >= V_COUNT)
        return mlx_error_(MLX_ERROR_FILE, "[load_gguf] unknown metadata array type %u in %s", etype, c->path);
      if (etype != V_STRING) {
        v->kind = MLX_GGUF_ARRAY;
        return number_array(&v->array, c, etype, count, 0);
      }
    }
    /* Each string takes at least its 8-byte length. */
    if (count > (uint64_t)(c->f->size - c->pos) / 8) return truncated(c, "a list of strings");
    v->kind = type == V_STRING ? MLX_GGUF_STRING : MLX_GGUF_STRINGS;
    v->strings = calloc(count ? count : 1, sizeof *v->strings);
    v->string_lens = calloc(count ? count : 1, sizeof *v->string_lens);
    if (!v->strings || !v->string_lens) return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
    for (uint64_t i = 0; i < count; i++) {
      MLX_TRY(take_string(c, &v->strings[i], &v->string_lens[i], "a metadata string"));
      v->nstrings = i + 1;
    }
    return MLX_OK;
  }
  v->kind = MLX_GGUF_ARRAY;
  return number_array(&v->array, c, type, 1, 1);
}

/* ---- tensors ---------------------------------------------------------------- */

typedef struct {
  char* name;
  size_t name_len;
  uint32_t type;
  int ndim;
  int64_t shape[MAX_DIMS]; /* MLX order */
  int64_t count;
  uint64_t offset, nbytes;
} tinfo;

static int tensor_bytes(tinfo* t, const char* path) {
  int64_t block = 1, bsize;
  switch (t->type) {
    case T_F32: case T_I32: bsize = 4; break;
    case T_F16: case T_BF16: case T_I16: bsize = 2; break;
    case T_I8: bsize = 1; break;
    case T_Q4_0: block = 32, bsize = 18; break;
    case T_Q4_1: block = 32, bsize = 20; break;
    case T_Q8_0: block = 32, bsize = 34; break;
    case T_Q4_K: block = 256, bsize = 144; break;
    default:
      return mlx_error_(MLX_ERROR_FILE, "[load_gguf] tensor '%.200s' in %s has unsupported type %u", t->name, path,
                        t->type);
  }
  if (block > 1) {
    /* Quantized triples have scales and biases per 32 values of a row
     * (upstream's layout); a dequantized Q4_K tensor needs whole blocks. */
    int rows32 = t->type != T_Q4_K && (t->ndim == 0 || t->shape[t->ndim - 1] % 32 != 0);
    if (rows32 || t->count % block != 0)
      return mlx_error_(MLX_ERROR_FILE,
                        "[load_gguf] quantized tensor '%.200s' in %s needs %s%lld values per block", t->name, path,
                        rows32 ? "a last dimension divisible by 32 and " : "", (long long)block);
  }
  t->nbytes = (uint64_t)(t->count / block) * (uint64_t)bsize; /* count < 2^63, bsize <= 34: checked by caller */
  return MLX_OK;
}

static int read_tinfo(tinfo* t, cursor* c) {
  MLX_TRY(take_string(c, &t->name, &t->name_len, "a tensor name"));
  if (strlen(t->name) != t->name_len)
    return mlx_error_(MLX_ERROR_FILE, "[load_gguf] a tensor name in %s holds a NUL byte", c->path);
  uint32_t nd;
  MLX_TRY(take_u32(c, &nd, "a tensor's dimension count"));
  if (nd > MAX_DIMS)
    return mlx_error_(MLX_ERROR_FILE, "[load_gguf] tensor '%.200s' in %s has %u dimensions (at most %d)", t->name,
                      c->path, nd, MAX_DIMS);
  t->ndim = (int)nd;
  t->count = 1;
  for (int i = 0; i < t->ndim; i++) {
    uint64_t d;
    MLX_TRY(take_u64(c, &d, "a tensor dimension"));
    /* Dimensions beyond 2^40 cannot describe data of any real file; the
     * bound keeps the product below overflow with 16 dims checked below. */
    if (d > (uint64_t)INT64_MAX || (d && (uint64_t)t->count > (uint64_t)(INT64_MAX / 64) / d))
      return mlx_error_(MLX_ERROR_FILE, "[load_gguf] tensor '%.200s' in %s: shape overflows", t->name, c->path);
    t->shape[t->ndim - 1 - i] = (int64_t)d;
    t->count *= (int64_t)d;
  }
  MLX_TRY(take_u32(c, &t->type, "a tensor type"));
  MLX_TRY(take_u64(c, &t->offset, "a tensor offset"));
  return tensor_bytes(t, c->path);
}

static uint16_t get_u16(const unsigned char* p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

static _Float16 f16_of(uint16_t bits) {
  _Float16 h;
  memcpy(&h, &bits, 2);
  return h;
}

/* Q4_K blocks of 256 values (d, dmin, 12 bytes of 6-bit scale/min pairs,
 * 128 bytes of nibbles) dequantized to float16 exactly as upstream MLX 0.32
 * loads them (through its GGUF library, checked against Python MLX):
 * value = d * sc * q - dmin * m for each 64 values (32 low nibbles, then
 * the same 32 bytes' high nibbles), sc and m being the first pair of each
 * two. ggml's reference uses the second pair for the high nibbles; we
 * follow upstream MLX so that files load to the same values. */
static void dequantize_q4k(const tinfo* t, const unsigned char* data, _Float16* out) {
  int64_t nblocks = t->count / 256;
  for (int64_t b = 0; b < nblocks; b++) {
    const unsigned char* p = data + b * 144;
    float d = (float)f16_of(get_u16(p)), dmin = (float)f16_of(get_u16(p + 2));
    const unsigned char* sc = p + 4;
    /* Eight 6-bit (scale, min) pairs: pair 2r for the low nibbles of the
     * r-th 32 bytes, pair 2r + 1 for their high nibbles (ggml's layout;
     * upstream MLX 0.32 uses pair 2r for both, which loads wrong weights). */
    float scale[8], min[8];
    for (int j = 0; j < 8; j++) {
      int s6, m6;
      if (j < 4) {
        s6 = sc[j] & 63;
        m6 = sc[j + 4] & 63;
      } else {
        s6 = (sc[j + 4] & 0x0F) | (sc[j - 4] >> 6) << 4;
        m6 = (sc[j + 4] >> 4) | (sc[j] >> 6) << 4;
      }
      scale[j] = d * (float)s6;
      min[j] = dmin * (float)m6;
    }
    const unsigned char* q = p + 16;
    _Float16* o = out + b * 256;
    for (int r = 0; r < 4; r++, q += 32, o += 64) {
      for (int k = 0; k < 32; k++) o[k] = (_Float16)(scale[2 * r] * (float)(q[k] & 0x0F) - min[2 * r]);
      for (int k = 0; k < 32; k++) o[32 + k] = (_Float16)(scale[2 * r + 1] * (float)(q[k] >> 4) - min[2 * r + 1]);
    }
  }
}

/* Q4_0 / Q4_1 / Q8_0 blocks of 32 values -> packed weights, scales,
 * biases, laid out as upstream MLX's gguf_quants.cpp unpacks them. */
static void unpack_quantized(const tinfo* t, const unsigned char* data, uint8_t* w, _Float16* scales, _Float16* biases) {
  int64_t nblocks = t->count / 32;
  for (int64_t b = 0; b < nblocks; b++) {
    if (t->type == T_Q8_0) {
      const unsigned char* p = data + b * 34;
      _Float16 s = f16_of(get_u16(p));
      scales[b] = s;
      biases[b] = (_Float16)(-128.0f * (float)s);
      /* int8 q -> unsigned q + 128, so that w * s + bias = q * s. */
      for (int j = 0; j < 32; j++) w[b * 32 + j] = (uint8_t)(p[2 + j] ^ 0x80u);
    } else {
      const unsigned char* p = data + b * (t->type == T_Q4_0 ? 18 : 20);
      _Float16 s = f16_of(get_u16(p));
      scales[b] = s;
      biases[b] = t->type == T_Q4_0 ? (_Float16)(-8.0f * (float)s) : f16_of(get_u16(p + 2));
      const unsigned char* qs = p + (t->type == T_Q4_0 ? 2 : 4);
      /* Values 0..15 sit in the low nibbles, 16..31 in the high ones;
       * MLX packs two consecutive values per byte, low nibble first. */
      uint8_t* o = w + b * 16;
      for (int k = 0; k < 8; k++) {
        o[k] = (uint8_t)((qs[2 * k] & 0x0F) | (qs[2 * k + 1] & 0x0F) << 4);
        o[8 + k] = (uint8_t)((qs[2 * k] >> 4) | (qs[2 * k + 1] >> 4) << 4);
      }
    }
  }
}

/* Appends one named array to out (names checked for duplicates). */
static int push_array(mlx_named_arrays* out, size_t cap, const char* name, mlx_array a, const char* path) {
  for (size_t j = 0; j < out->n; j++)
    if (strcmp(out->names[j], name) == 0) {
      mlx_array_free(a);
      return mlx_error_(MLX_ERROR_FILE, "[load_gguf] %s holds the tensor '%.200s' twice (quantized tensors add .scales/.biases)",
                        path, name);
    }
  if (out->n >= cap) {
    mlx_array_free(a);
    return mlx_error_(MLX_ERROR_FILE, "[load_gguf] too many tensors");
  }
  char* copy = strdup(name);
  if (!copy) {
    mlx_array_free(a);
    return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
  }
  out->names[out->n] = copy;
  out->arrays[out->n] = a;
  out->n++;
  return MLX_OK;
}

static int load_tensor(mlx_named_arrays* out, size_t cap, const tinfo* t, mlx_rfile_* f, int64_t at, const char* path) {
  unsigned char* raw = malloc(t->nbytes ? (size_t)t->nbytes : 1);
  if (!raw) return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory for %llu bytes", (unsigned long long)t->nbytes);
  int rc = mlx_rfile_read_(f, raw, at, (int64_t)t->nbytes, "load_gguf");
  mlx_array a = mlx_array_new();
  if (!rc && (t->type == T_Q4_0 || t->type == T_Q4_1 || t->type == T_Q8_0)) {
    int bits = t->type == T_Q8_0 ? 8 : 4;
    int64_t wshape[MAX_DIMS], sshape[MAX_DIMS];
    memcpy(wshape, t->shape, sizeof wshape);
    memcpy(sshape, t->shape, sizeof sshape);
    wshape[t->ndim - 1] = t->shape[t->ndim - 1] * bits / 32;
    sshape[t->ndim - 1] = t->shape[t->ndim - 1] / 32;
    mlx_array s = mlx_array_new(), b = mlx_array_new();
    rc = mlx_array_new_data(&a, NULL, wshape, t->ndim, MLX_UINT32);
    if (!rc) rc = mlx_array_new_data(&s, NULL, sshape, t->ndim, MLX_FLOAT16);
    if (!rc) rc = mlx_array_new_data(&b, NULL, sshape, t->ndim, MLX_FLOAT16);
    if (!rc) {
      unpack_quantized(t, raw, MLX_NODE(a)->buf->data, MLX_NODE(s)->buf->data, MLX_NODE(b)->buf->data);
      size_t plen = t->name_len;
      if (plen >= 7 && strcmp(t->name + plen - 7, ".weight") == 0) plen -= 7;
      mlx_sbuf_ sn = {0}, bn = {0};
      mlx_sbuf_printf_(&sn, "%.*s.scales", (int)plen, t->name);
      mlx_sbuf_printf_(&bn, "%.*s.biases", (int)plen, t->name);
      if (sn.failed || bn.failed) rc = mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
      if (!rc) {
        rc = push_array(out, cap, t->name, a, path);
        a = mlx_array_new();
      }
      if (!rc) {
        rc = push_array(out, cap, sn.data, s, path);
        s = mlx_array_new();
      }
      if (!rc) {
        rc = push_array(out, cap, bn.data, b, path);
        b = mlx_array_new();
      }
      mlx_sbuf_free_(&sn);
      mlx_sbuf_free_(&bn);
    }
    mlx_array_free(s);
    mlx_array_free(b);
  } else if (!rc) {
    mlx_dtype dt = t->type == T_F32   ? MLX_FLOAT32
                   : t->type == T_I8  ? MLX_INT8
                   : t->type == T_I16 ? MLX_INT16
                   : t->type == T_I32 ? MLX_INT32
                                      : MLX_FLOAT16;
    rc = mlx_array_new_data(&a, NULL, t->shape, t->ndim, dt);
    if (!rc && t->type == T_BF16) {
      /* bfloat16 -> float16, as upstream converts types it cannot copy. */
      _Float16* o = MLX_NODE(a)->buf->data;
      for (int64_t i = 0; i < t->count; i++) {
        uint32_t bits = (uint32_t)get_u16(raw + 2 * i) << 16;
        float x;
        memcpy(&x, &bits, 4);
        o[i] = (_Float16)x;
      }
    } else if (!rc && t->type == T_Q4_K) {
      dequantize_q4k(t, raw, MLX_NODE(a)->buf->data);
    } else if (!rc && t->nbytes) {
      memcpy(MLX_NODE(a)->buf->data, raw, (size_t)t->nbytes);
    }
    if (!rc) {
      rc = push_array(out, cap, t->name, a, path);
      a = mlx_array_new();
    }
  }
  mlx_array_free(a);
  free(raw);
  return rc;
}

static int load_open(mlx_named_arrays* arrays, mlx_gguf_metadata* metadata, mlx_rfile_* f, const char* path) {
  cursor* c = calloc(1, sizeof *c);
  if (!c) return mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
  c->f = f;
  c->path = path;
  c->win_len = 0;
  mlx_gguf_metadata meta = {0};
  mlx_named_arrays out = {0};
  tinfo* ts = NULL;
  uint64_t nt = 0, nkv = 0;
  uint32_t version = 0, alignment = DEFAULT_ALIGNMENT;
  unsigned char magic[4];
  int rc = take(c, magic, 4, "the magic");
  if (!rc && memcmp(magic, "GGUF", 4) != 0) rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] %s is not a GGUF file (bad magic)", path);
  if (!rc) rc = take_u32(c, &version, "the version");
  if (!rc && (version < 2 || version > 3))
    rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] unsupported GGUF version %u in %s", version, path);
  if (!rc) rc = take_u64(c, &nt, "the tensor count");
  if (!rc) rc = take_u64(c, &nkv, "the metadata count");
  /* A key-value pair takes at least 13 bytes, a tensor entry 24. */
  if (!rc && (nkv > (uint64_t)f->size / 13 || nt > (uint64_t)f->size / 24))
    rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] %s declares more entries than it can hold", path);
  if (rc) goto done;
  meta.keys = calloc(nkv ? nkv : 1, sizeof *meta.keys);
  meta.values = calloc(nkv ? nkv : 1, sizeof *meta.values);
  if (!meta.keys || !meta.values) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
    goto done;
  }
  for (uint64_t i = 0; i < nkv && !rc; i++) {
    size_t klen;
    uint32_t type;
    char* key = NULL;
    rc = take_string(c, &key, &klen, "a metadata key");
    if (rc) break;
    meta.keys[i] = key;
    meta.values[i].array = mlx_array_new();
    meta.n = i + 1;
    if (strlen(key) != klen) rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] a metadata key in %s holds a NUL byte", path);
    for (uint64_t j = 0; j < i && !rc; j++)
      if (strcmp(meta.keys[j], key) == 0)
        rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] metadata key '%.200s' appears twice in %s", key, path);
    if (!rc) rc = take_u32(c, &type, "a metadata type");
    if (!rc) rc = read_value(&meta.values[i], c, type);
    if (!rc && strcmp(key, "general.alignment") == 0) {
      uint32_t a = 0;
      if (type == V_UINT32) rc = mlx_array_copy_to(&a, 4, meta.values[i].array);
      if (!rc && (a == 0 || (a & (a - 1)) || a > (1u << 20)))
        rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] general.alignment in %s must be a uint32 power of two", path);
      alignment = a;
    }
  }
  if (rc) goto done;
  ts = calloc(nt ? nt : 1, sizeof *ts);
  if (!ts) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
    goto done;
  }
  for (uint64_t i = 0; i < nt && !rc; i++) rc = read_tinfo(&ts[i], c);
  if (rc) goto done;
  int64_t data_at = (c->pos + alignment - 1) / alignment * alignment;
  uint64_t data_len = data_at <= f->size ? (uint64_t)(f->size - data_at) : 0;
  for (uint64_t i = 0; i < nt && !rc; i++)
    if (ts[i].offset > data_len || ts[i].nbytes > data_len - ts[i].offset)
      rc = mlx_error_(MLX_ERROR_FILE, "[load_gguf] tensor '%.200s' in %s: data runs past the end of the file",
                      ts[i].name, path);
  if (rc) goto done;
  /* Quantized tensors give three arrays each. */
  size_t cap = (size_t)nt * 3;
  out.names = calloc(cap ? cap : 1, sizeof *out.names);
  out.arrays = calloc(cap ? cap : 1, sizeof *out.arrays);
  if (!out.names || !out.arrays) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[load_gguf] out of memory");
    goto done;
  }
  for (uint64_t i = 0; i < nt && !rc; i++) rc = load_tensor(&out, cap, &ts[i], f, data_at + (int64_t)ts[i].offset, path);
done:
  for (uint64_t i = 0; ts && i < nt; i++) free(ts[i].name);
  free(ts);
  free(c);
  if (rc) {
    mlx_gguf_metadata_free(&meta);
    mlx_named_arrays_free(&out);
    return rc;
  }
  *arrays = out;
  if (metadata) *metadata = meta;
  else mlx_gguf_metadata_free(&meta);
  return MLX_OK;
}

int mlx_load_gguf(mlx_named_arrays* arrays, mlx_gguf_metadata* metadata, const char* path) {
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[load_gguf] no output given");
  mlx_rfile_ f;
  MLX_TRY(mlx_rfile_open_(&f, path, "load_gguf"));
  int rc = load_open(arrays, metadata, &f, path);
  mlx_rfile_close_(&f);
  return rc;
}

/* ---- saving ------------------------------------------------------------------- */

static void put_u32(mlx_sbuf_* b, uint32_t v) {
  unsigned char p[4];
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
  mlx_sbuf_append_(b, p, 4);
}

static void put_u64(mlx_sbuf_* b, uint64_t v) {
  unsigned char p[8];
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
  mlx_sbuf_append_(b, p, 8);
}

static void put_string(mlx_sbuf_* b, const char* s, size_t n) {
  put_u64(b, n);
  mlx_sbuf_append_(b, s, n);
}

static int value_type_of(mlx_dtype d, uint32_t* t) {
  switch (d) {
    case MLX_FLOAT32: *t = V_FLOAT32; return 1;
    case MLX_INT64: *t = V_INT64; return 1;
    case MLX_INT32: *t = V_INT32; return 1;
    case MLX_INT16: *t = V_INT16; return 1;
    case MLX_INT8: *t = V_INT8; return 1;
    case MLX_UINT64: *t = V_UINT64; return 1;
    case MLX_UINT32: *t = V_UINT32; return 1;
    case MLX_UINT16: *t = V_UINT16; return 1;
    case MLX_UINT8: *t = V_UINT8; return 1;
    case MLX_BOOL: *t = V_BOOL; return 1;
    default: return 0;
  }
}

static int tensor_type_of(mlx_dtype d, uint32_t* t) {
  switch (d) {
    case MLX_FLOAT32: *t = T_F32; return 1;
    case MLX_FLOAT16: *t = T_F16; return 1;
    case MLX_INT8: *t = T_I8; return 1;
    case MLX_INT16: *t = T_I16; return 1;
    case MLX_INT32: *t = T_I32; return 1;
    default: return 0;
  }
}

/* Appends the evaluated node's elements row-major (b->failed set when
 * memory runs out). */
static void put_node(mlx_sbuf_* b, const mlx_node_* n) {
  size_t nbytes = (size_t)n->size * mlx_dtype_size(n->dtype);
  if (!nbytes) return;
  if (n->flags & MLX_FLAG_ROW_CONTIG) {
    mlx_sbuf_append_(b, MLX_DATA(n, char), nbytes);
    return;
  }
  void* tmp = malloc(nbytes);
  if (!tmp) {
    b->failed = 1;
    return;
  }
  mlx_node_copy_to_(tmp, n->dtype, n);
  mlx_sbuf_append_(b, tmp, nbytes);
  free(tmp);
}

static int check_metadata(const mlx_gguf_metadata* m) {
  if (m->n && (!m->keys || !m->values)) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] missing metadata");
  for (size_t i = 0; i < m->n; i++) {
    if (!m->keys[i]) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] metadata key %zu is NULL", i);
    for (size_t j = 0; j < i; j++)
      if (strcmp(m->keys[i], m->keys[j]) == 0)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] metadata key '%.200s' appears twice", m->keys[i]);
    const mlx_gguf_value* v = &m->values[i];
    if (v->kind == MLX_GGUF_ARRAY) {
      MLX_TRY(mlx_check_array_(v->array, "save_gguf"));
      const mlx_node_* n = MLX_NODE(v->array);
      uint32_t t;
      if (n->ndim > 1)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] Cannot save arrays with more than one dimension (key '%.200s')",
                          m->keys[i]);
      if (n->size == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] Cannot save empty arrays (key '%.200s')", m->keys[i]);
      if (!value_type_of(n->dtype, &t))
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] array type %s not supported for metadata (key '%.200s')",
                          mlx_dtype_name(n->dtype), m->keys[i]);
    } else if (v->kind == MLX_GGUF_STRING || v->kind == MLX_GGUF_STRINGS) {
      if (v->kind == MLX_GGUF_STRING && v->nstrings != 1)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] string value of '%.200s' must hold one string", m->keys[i]);
      if (v->nstrings && (!v->strings || !v->string_lens))
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] missing strings for '%.200s'", m->keys[i]);
      for (size_t k = 0; k < v->nstrings; k++)
        if (!v->strings[k]) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] NULL string for '%.200s'", m->keys[i]);
    } else {
      return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] unexpected type in metadata (key '%.200s')", m->keys[i]);
    }
  }
  return MLX_OK;
}

static void put_metadata(mlx_sbuf_* b, const mlx_gguf_metadata* m) {
  for (size_t i = 0; i < m->n; i++) {
    const mlx_gguf_value* v = &m->values[i];
    put_string(b, m->keys[i], strlen(m->keys[i]));
    if (v->kind == MLX_GGUF_STRING) {
      put_u32(b, V_STRING);
      put_string(b, v->strings[0], v->string_lens[0]);
    } else if (v->kind == MLX_GGUF_STRINGS) {
      put_u32(b, V_ARRAY);
      put_u32(b, V_STRING);
      put_u64(b, v->nstrings);
      for (size_t k = 0; k < v->nstrings; k++) put_string(b, v->strings[k], v->string_lens[k]);
    } else {
      const mlx_node_* n = MLX_NODE(v->array);
      uint32_t t = 0;
      value_type_of(n->dtype, &t);
      if (n->ndim == 1) {
        put_u32(b, V_ARRAY);
        put_u32(b, t);
        put_u64(b, (uint64_t)n->size);
      } else {
        put_u32(b, t);
      }
      put_node(b, n);
    }
  }
}

int mlx_save_gguf(const char* path, const mlx_named_arrays* arrays, const mlx_gguf_metadata* metadata) {
  const char* op = "save_gguf";
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] no arrays given");
  if (arrays->n && (!arrays->names || !arrays->arrays)) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] missing arrays");
  for (size_t i = 0; i < arrays->n; i++) {
    if (!arrays->names[i]) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] tensor name %zu is NULL", i);
    MLX_TRY(mlx_check_array_(arrays->arrays[i], op));
    uint32_t t;
    mlx_dtype d = MLX_NODE(arrays->arrays[i])->dtype;
    if (!tensor_type_of(d, &t)) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] dtype %s is not supported", mlx_dtype_name(d));
    for (size_t j = 0; j < i; j++)
      if (strcmp(arrays->names[i], arrays->names[j]) == 0)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[save_gguf] tensor name '%.200s' appears twice", arrays->names[i]);
  }
  if (metadata) MLX_TRY(check_metadata(metadata));
  MLX_TRY(mlx_eval(arrays->arrays, arrays->n));
  for (size_t i = 0; metadata && i < metadata->n; i++)
    if (metadata->values[i].kind == MLX_GGUF_ARRAY) MLX_TRY(mlx_eval(&metadata->values[i].array, 1));

  mlx_sbuf_ b = {0};
  mlx_sbuf_append_(&b, "GGUF", 4);
  put_u32(&b, 3);
  put_u64(&b, arrays->n);
  put_u64(&b, metadata ? metadata->n : 0);
  if (metadata) put_metadata(&b, metadata);
  uint64_t offset = 0;
  for (size_t i = 0; i < arrays->n; i++) {
    const mlx_node_* n = MLX_NODE(arrays->arrays[i]);
    uint32_t t = 0;
    tensor_type_of(n->dtype, &t);
    offset = (offset + DEFAULT_ALIGNMENT - 1) / DEFAULT_ALIGNMENT * DEFAULT_ALIGNMENT;
    put_string(&b, arrays->names[i], strlen(arrays->names[i]));
    put_u32(&b, (uint32_t)n->ndim);
    for (int d = n->ndim - 1; d >= 0; d--) put_u64(&b, (uint64_t)n->shape[d]);
    put_u32(&b, t);
    put_u64(&b, offset);
    offset += (uint64_t)n->size * mlx_dtype_size(n->dtype);
  }
  static const char zeros[DEFAULT_ALIGNMENT] = {0};
  mlx_sbuf_append_(&b, zeros, (DEFAULT_ALIGNMENT - b.len % DEFAULT_ALIGNMENT) % DEFAULT_ALIGNMENT);
  if (b.failed) {
    mlx_sbuf_free_(&b);
    return mlx_error_(MLX_ERROR_MEMORY, "[save_gguf] out of memory for the header");
  }
  char* file = mlx_path_with_suffix_(path, ".gguf", op);
  if (!file) {
    mlx_sbuf_free_(&b);
    return mlx_last_error_code();
  }
  mlx_wfile_ f;
  int rc = mlx_wfile_open_(&f, file, op);
  free(file);
  if (!rc) {
    rc = mlx_wfile_write_(&f, b.data, b.len, op);
    uint64_t written = 0;
    for (size_t i = 0; i < arrays->n && !rc; i++) {
      const mlx_node_* n = MLX_NODE(arrays->arrays[i]);
      size_t pad = (DEFAULT_ALIGNMENT - written % DEFAULT_ALIGNMENT) % DEFAULT_ALIGNMENT;
      rc = mlx_wfile_write_(&f, zeros, pad, op);
      written += pad;
      if (!rc) rc = mlx_io_write_node_(&f, n, (n->flags & MLX_FLAG_ROW_CONTIG) != 0, op);
      written += (uint64_t)n->size * mlx_dtype_size(n->dtype);
    }
    if (!rc) rc = mlx_wfile_commit_(&f, op);
    else mlx_wfile_abort_(&f);
  }
  mlx_sbuf_free_(&b);
  return rc;
}
