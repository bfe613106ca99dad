/* .safetensors files:
 *
 *   N (uint64 LE) | N bytes of JSON | data
 *
 * The JSON object maps tensor names to {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]} (offsets relative to the data section) and
 * may hold "__metadata__", a map of strings. Dtype names are upstream
 * MLX's (BOOL, U8..U64, I8..I64, F16, BF16, F32, C64) plus the format's
 * F64, which upstream MLX lacks. On read every tensor's offsets must lie in
 * the data section, not overlap another's, and span exactly shape *
 * itemsize bytes; the header length is bounded by the file size and by
 * 10^8 bytes (the reference implementation's limit). Tensors come back in
 * header order. */
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

#define MAX_HEADER 100000000u

static const char* const NAMES[MLX_NUM_DTYPES] = {
    [MLX_BOOL] = "BOOL",     [MLX_UINT8] = "U8",    [MLX_UINT16] = "U16",  [MLX_UINT32] = "U32",
    [MLX_UINT64] = "U64",    [MLX_INT8] = "I8",     [MLX_INT16] = "I16",   [MLX_INT32] = "I32",
    [MLX_INT64] = "I64",     [MLX_FLOAT16] = "F16", [MLX_FLOAT32] = "F32", [MLX_FLOAT64] = "F64",
    [MLX_BFLOAT16] = "BF16", [MLX_COMPLEX64] = "C64"};

void mlx_named_arrays_free(mlx_named_arrays* m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    if (m->names) free(m->names[i]);
    if (m->arrays) mlx_array_free(m->arrays[i]);
  }
  free(m->names);
  free(m->arrays);
  m->n = 0;
  m->names = NULL;
  m->arrays = NULL;
}

void mlx_string_map_free(mlx_string_map* m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    if (m->keys) free(m->keys[i]);
    if (m->values) free(m->values[i]);
  }
  free(m->keys);
  free(m->values);
  m->n = 0;
  m->keys = NULL;
  m->values = NULL;
}

/* ---- loading ----------------------------------------------------------------- */

typedef struct {
  const char* name;
  size_t name_len;
  mlx_dtype dtype;
  const mlx_json_* shape; /* an array of checked non-negative integers */
  uint64_t begin, end;
} tensor_info;

/* A copy of a JSON string as a C string; names with NUL bytes are refused. */
static char* cstring(const char* s, size_t len, const char* what, const char* path) {
  if (strlen(s) != len) {
    mlx_error_(MLX_ERROR_FILE, "[load_safetensors] %s with a NUL character in %s", what, path);
    return NULL;
  }
  char* c = strdup(s);
  if (!c) mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
  return c;
}

static int bad(const char* path, const char* name, const char* what) {
  return mlx_error_(MLX_ERROR_FILE, "[load_safetensors] tensor '%.200s' in %s: %s", name, path, what);
}

/* Checks one tensor entry of the header against the data section size. */
static int read_info(tensor_info* t, const char* name, size_t name_len, const mlx_json_* v, uint64_t data_len,
                     const char* path) {
  t->name = name;
  t->name_len = name_len;
  if (v->kind != MLX_JSON_OBJECT_) return bad(path, name, "entry is not an object");
  const mlx_json_* dt = mlx_json_get_(v, "dtype");
  const mlx_json_* sh = mlx_json_get_(v, "shape");
  const mlx_json_* off = mlx_json_get_(v, "data_offsets");
  if (!dt || dt->kind != MLX_JSON_STRING_) return bad(path, name, "missing or non-string dtype");
  if (!sh || sh->kind != MLX_JSON_ARRAY_) return bad(path, name, "missing or non-array shape");
  if (!off || off->kind != MLX_JSON_ARRAY_ || off->n != 2 || !off->items[0].is_uint || !off->items[1].is_uint)
    return bad(path, name, "data_offsets must be two non-negative integers");
  int found = 0;
  for (int d = 0; d < MLX_NUM_DTYPES && !found; d++) {
    if (strcmp(NAMES[d], dt->str) == 0 && strlen(dt->str) == dt->len) {
      t->dtype = (mlx_dtype)d;
      found = 1;
    }
  }
  if (!found) {
    char what[96];
    snprintf(what, sizeof what, "unsupported dtype '%.40s'", dt->str);
    return bad(path, name, what);
  }
  if (sh->n > INT32_MAX) return bad(path, name, "too many dimensions");
  t->shape = sh;
  uint64_t count = 1;
  for (size_t i = 0; i < sh->n; i++) {
    const mlx_json_* d = &sh->items[i];
    if (!d->is_uint || d->uint_value > (uint64_t)INT64_MAX) return bad(path, name, "shape entries must be non-negative integers");
    if (d->uint_value != 0 && count > (uint64_t)INT64_MAX / d->uint_value) return bad(path, name, "shape overflows");
    count *= d->uint_value;
  }
  uint64_t item = mlx_dtype_size(t->dtype);
  if (count > UINT64_MAX / item) return bad(path, name, "shape overflows");
  t->begin = off->items[0].uint_value;
  t->end = off->items[1].uint_value;
  if (t->begin > t->end) return bad(path, name, "data_offsets are reversed");
  if (t->end > data_len) return bad(path, name, "data_offsets run past the end of the file");
  if (t->end - t->begin != count * item) {
    char what[128];
    snprintf(what, sizeof what, "data_offsets span %llu bytes but the shape needs %llu",
             (unsigned long long)(t->end - t->begin), (unsigned long long)(count * item));
    return bad(path, name, what);
  }
  return MLX_OK;
}

static int cmp_begin(const void* a, const void* b) {
  const tensor_info *x = *(const tensor_info* const*)a, *y = *(const tensor_info* const*)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* Refuses tensors whose byte ranges overlap. */
static int check_overlap(tensor_info* ts, size_t n, const char* path) {
  if (n < 2) return MLX_OK;
  tensor_info** order = malloc(n * sizeof *order);
  if (!order) return mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
  for (size_t i = 0; i < n; i++) order[i] = &ts[i];
  qsort(order, n, sizeof *order, cmp_begin);
  int rc = MLX_OK;
  for (size_t i = 1; i < n && !rc; i++)
    if (order[i]->begin < order[i - 1]->end) rc = bad(path, order[i]->name, "data overlaps another tensor");
  free(order);
  return rc;
}

static int read_metadata(mlx_string_map* out, const mlx_json_* m, const char* path) {
  if (m->kind == MLX_JSON_NULL_) return MLX_OK;
  if (m->kind != MLX_JSON_OBJECT_)
    return mlx_error_(MLX_ERROR_FILE, "[load_safetensors] __metadata__ in %s is not an object", path);
  if (m->n == 0) return MLX_OK;
  out->keys = calloc(m->n, sizeof *out->keys);
  out->values = calloc(m->n, sizeof *out->values);
  if (!out->keys || !out->values) return mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
  for (size_t i = 0; i < m->n; i++) {
    if (m->items[i].kind != MLX_JSON_STRING_)
      return mlx_error_(MLX_ERROR_FILE, "[load_safetensors] metadata value of '%.200s' in %s is not a string",
                        m->keys[i], path);
    out->n = i + 1;
    if (!(out->keys[i] = cstring(m->keys[i], m->key_lens[i], "a metadata key", path))) return mlx_last_error_code();
    if (!(out->values[i] = cstring(m->items[i].str, m->items[i].len, "a metadata value", path)))
      return mlx_last_error_code();
  }
  return MLX_OK;
}

static int load_open(mlx_named_arrays* arrays, mlx_string_map* metadata, mlx_rfile_* f, const char* path) {
  const char* op = "load_safetensors";
  unsigned char lenb[8];
  if (f->size < 8) return mlx_error_(MLX_ERROR_FILE, "[load_safetensors] %s is too small to be a .safetensors file", path);
  MLX_TRY(mlx_rfile_read_(f, lenb, 0, 8, op));
  uint64_t hlen = 0;
  for (int k = 7; k >= 0; k--) hlen = hlen << 8 | lenb[k];
  if (hlen == 0 || hlen >= MAX_HEADER || hlen > (uint64_t)(f->size - 8))
    return mlx_error_(MLX_ERROR_FILE, "[load_safetensors] invalid header length %llu in %s (%lld bytes)",
                      (unsigned long long)hlen, path, (long long)f->size);
  uint64_t data_len = (uint64_t)(f->size - 8) - hlen;
  char* text = malloc(hlen);
  if (!text) return mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory for the header");
  mlx_json_* root = NULL;
  int rc = mlx_rfile_read_(f, text, 8, (int64_t)hlen, op);
  if (!rc) rc = mlx_json_parse_(&root, text, hlen, op);
  free(text);
  MLX_TRY(rc);

  mlx_named_arrays out = {0};
  mlx_string_map meta = {0};
  tensor_info* ts = NULL;
  size_t nt = 0;
  if (root->kind != MLX_JSON_OBJECT_) {
    rc = mlx_error_(MLX_ERROR_FILE, "[load_safetensors] the header of %s is not a JSON object", path);
    goto done;
  }
  ts = malloc((root->n ? root->n : 1) * sizeof *ts);
  if (!ts) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
    goto done;
  }
  for (size_t i = 0; i < root->n && !rc; i++) {
    if (strcmp(root->keys[i], "__metadata__") == 0 && root->key_lens[i] == 12) {
      if (metadata) rc = read_metadata(&meta, &root->items[i], path);
      else if (root->items[i].kind != MLX_JSON_OBJECT_ && root->items[i].kind != MLX_JSON_NULL_)
        rc = mlx_error_(MLX_ERROR_FILE, "[load_safetensors] __metadata__ in %s is not an object", path);
      continue;
    }
    rc = read_info(&ts[nt], root->keys[i], root->key_lens[i], &root->items[i], data_len, path);
    nt++;
  }
  if (!rc) rc = check_overlap(ts, nt, path);
  if (rc) goto done;

  out.names = calloc(nt ? nt : 1, sizeof *out.names);
  out.arrays = calloc(nt ? nt : 1, sizeof *out.arrays);
  if (!out.names || !out.arrays) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
    goto done;
  }
  for (size_t i = 0; i < nt && !rc; i++) {
    tensor_info* t = &ts[i];
    out.n = i + 1;
    if (!(out.names[i] = cstring(t->name, t->name_len, "a tensor name", path))) {
      rc = mlx_last_error_code();
      break;
    }
    int ndim = (int)t->shape->n;
    int64_t* shape = malloc(sizeof(int64_t) * (ndim ? (size_t)ndim : 1));
    if (!shape) {
      rc = mlx_error_(MLX_ERROR_MEMORY, "[load_safetensors] out of memory");
      break;
    }
    for (int d = 0; d < ndim; d++) shape[d] = (int64_t)t->shape->items[d].uint_value;
    rc = mlx_array_new_data(&out.arrays[i], NULL, shape, ndim, t->dtype);
    free(shape);
    if (rc) break;
    mlx_node_* n = MLX_NODE(out.arrays[i]);
    rc = mlx_rfile_read_(f, n->buf->data, (int64_t)(8 + hlen + t->begin), (int64_t)(t->end - t->begin), op);
  }
done:
  free(ts);
  mlx_json_free_(root);
  if (rc) {
    mlx_named_arrays_free(&out);
    mlx_string_map_free(&meta);
    return rc;
  }
  *arrays = out;
  if (metadata) *metadata = meta;
  return MLX_OK;
}

int mlx_load_safetensors(mlx_named_arrays* arrays, mlx_string_map* metadata, const char* path) {
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[load_safetensors] no output given");
  mlx_rfile_ f;
  MLX_TRY(mlx_rfile_open_(&f, path, "load_safetensors"));
  int rc = load_open(arrays, metadata, &f, path);
  mlx_rfile_close_(&f);
  return rc;
}

/* ---- saving ------------------------------------------------------------------- */

typedef struct {
  const char* s;
  size_t index;
} name_ref;

static int cmp_names(const void* a, const void* b) {
  return strcmp(((const name_ref*)a)->s, ((const name_ref*)b)->s);
}

/* Refuses a list of n strings with a repeat; `what` names them. */
static int check_unique(char* const* s, size_t n, const char* what) {
  if (n < 2) return MLX_OK;
  name_ref* refs = malloc(n * sizeof *refs);
  if (!refs) return mlx_error_(MLX_ERROR_MEMORY, "[save_safetensors] out of memory");
  for (size_t i = 0; i < n; i++) refs[i] = (name_ref){s[i], i};
  qsort(refs, n, sizeof *refs, cmp_names);
  int rc = MLX_OK;
  for (size_t i = 1; i < n && !rc; i++)
    if (strcmp(refs[i - 1].s, refs[i].s) == 0)
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] %s '%.200s' appears twice", what, refs[i].s);
  free(refs);
  return rc;
}

static int check_strings(char* const* s, size_t n, const char* what) {
  if (n && !s) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] missing %ss", what);
  for (size_t i = 0; i < n; i++) {
    if (!s[i]) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] %s %zu is NULL", what, i);
    if (!mlx_utf8_valid_(s[i], strlen(s[i])))
      return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] %s %zu is not valid UTF-8", what, i);
  }
  return MLX_OK;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes so the data
 * section starts aligned (as the reference implementation writes it). */
static int build_header(mlx_sbuf_* b, const mlx_named_arrays* arrays, const mlx_string_map* metadata) {
  mlx_sbuf_append_(b, "{", 1);
  int first = 1;
  if (metadata) {
    mlx_sbuf_append_(b, "\"__metadata__\":{", 16);
    for (size_t i = 0; i < metadata->n; i++) {
      if (i) mlx_sbuf_append_(b, ",", 1);
      mlx_json_write_string_(b, metadata->keys[i], strlen(metadata->keys[i]));
      mlx_sbuf_append_(b, ":", 1);
      mlx_json_write_string_(b, metadata->values[i], strlen(metadata->values[i]));
    }
    mlx_sbuf_append_(b, "}", 1);
    first = 0;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < arrays->n; i++) {
    const mlx_node_* n = MLX_NODE(arrays->arrays[i]);
    uint64_t nbytes = (uint64_t)n->size * mlx_dtype_size(n->dtype);
    if (!first) mlx_sbuf_append_(b, ",", 1);
    first = 0;
    mlx_json_write_string_(b, arrays->names[i], strlen(arrays->names[i]));
    mlx_sbuf_printf_(b, ":{\"dtype\":\"%s\",\"shape\":[", NAMES[n->dtype]);
    for (int d = 0; d < n->ndim; d++) mlx_sbuf_printf_(b, d ? ",%lld" : "%lld", (long long)n->shape[d]);
    mlx_sbuf_printf_(b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                     (unsigned long long)(offset + nbytes));
    offset += nbytes;
  }
  mlx_sbuf_append_(b, "}", 1);
  while (b->len % 8) mlx_sbuf_append_(b, " ", 1);
  if (b->failed) return mlx_error_(MLX_ERROR_MEMORY, "[save_safetensors] out of memory for the header");
  if (b->len >= MAX_HEADER)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] header of %zu bytes exceeds the format's limit", b->len);
  return MLX_OK;
}

int mlx_save_safetensors(const char* path, const mlx_named_arrays* arrays, const mlx_string_map* metadata) {
  const char* op = "save_safetensors";
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] no arrays given");
  if (arrays->n && !arrays->arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] missing arrays");
  MLX_TRY(check_strings(arrays->names, arrays->n, "tensor name"));
  for (size_t i = 0; i < arrays->n; i++) {
    MLX_TRY(mlx_check_array_(arrays->arrays[i], op));
    if (strcmp(arrays->names[i], "__metadata__") == 0)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[save_safetensors] '__metadata__' cannot name a tensor");
  }
  MLX_TRY(check_unique(arrays->names, arrays->n, "tensor name"));
  if (metadata) {
    MLX_TRY(check_strings(metadata->keys, metadata->n, "metadata key"));
    MLX_TRY(check_strings(metadata->values, metadata->n, "metadata value"));
    MLX_TRY(check_unique(metadata->keys, metadata->n, "metadata key"));
  }
  MLX_TRY(mlx_eval(arrays->arrays, arrays->n));
  char* file = mlx_path_with_suffix_(path, ".safetensors", op);
  if (!file) return mlx_last_error_code();
  mlx_sbuf_ hdr = {0};
  int rc = build_header(&hdr, arrays, metadata);
  mlx_wfile_ f;
  if (!rc) rc = mlx_wfile_open_(&f, file, op);
  if (!rc) {
    unsigned char lenb[8];
    for (int k = 0; k < 8; k++) lenb[k] = (unsigned char)((uint64_t)hdr.len >> (8 * k));
    rc = mlx_wfile_write_(&f, lenb, 8, op);
    if (!rc) rc = mlx_wfile_write_(&f, hdr.data, hdr.len, op);
    for (size_t i = 0; i < arrays->n && !rc; i++) {
      const mlx_node_* n = MLX_NODE(arrays->arrays[i]);
      rc = mlx_io_write_node_(&f, n, (n->flags & MLX_FLAG_ROW_CONTIG) != 0, op);
    }
    if (!rc) rc = mlx_wfile_commit_(&f, op);
    else mlx_wfile_abort_(&f);
  }
  mlx_sbuf_free_(&hdr);
  free(file);
  return rc;
}
