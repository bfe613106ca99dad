/* .npy files (NumPy's format, versions 1.0, 2.0 and 3.0 on read; 1.0, or
 * 2.0 when the header needs it, on write).
 *
 *   "\x93NUMPY" major minor  header_len (uint16 LE in 1.0, uint32 LE after)
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False,
 *           'shape': (2, 3), } padded with spaces and ended by '\n'
 *   data:   the elements, row-major (or column-major if fortran_order)
 *
 * bfloat16 has no NumPy code; like upstream MLX we write it as '<V2' (two
 * raw bytes) and read 'V2' back as bfloat16. The header is parsed as the
 * small subset of Python literals NumPy writes; anything else, and any
 * length that does not fit the file, is MLX_ERROR_FILE. */
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* The type code after the byte-order character, per dtype. */
static const char* const CODES[MLX_NUM_DTYPES] = {
    [MLX_BOOL] = "b1",     [MLX_UINT8] = "u1",   [MLX_UINT16] = "u2",  [MLX_UINT32] = "u4",
    [MLX_UINT64] = "u8",   [MLX_INT8] = "i1",    [MLX_INT16] = "i2",   [MLX_INT32] = "i4",
    [MLX_INT64] = "i8",    [MLX_FLOAT16] = "f2", [MLX_FLOAT32] = "f4", [MLX_FLOAT64] = "f8",
    [MLX_BFLOAT16] = "V2", [MLX_COMPLEX64] = "c8"};

/* ---- reading the header ---------------------------------------------------- */

typedef struct {
  const char* s;
  size_t n, i;
  const char* op;
  const char* path;
} hparser;

static int herr(hparser* p, const char* what) {
  return mlx_error_(MLX_ERROR_FILE, "[%s] malformed header in %s at byte %zu: %s", p->op, p->path, p->i, what);
}

static void hskip(hparser* p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

/* Consumes character c (after whitespace) or fails. */
static int hexpect(hparser* p, char c) {
  hskip(p);
  if (p->i >= p->n || p->s[p->i] != c) {
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return herr(p, what);
  }
  p->i++;
  return MLX_OK;
}

/* 1 and consumes c when the next character is c. */
static int haccept(hparser* p, char c) {
  hskip(p);
  if (p->i < p->n && p->s[p->i] == c) {
    p->i++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes (NumPy never writes any); *s points
 * into the header. */
static int hstring(hparser* p, const char** s, size_t* len) {
  hskip(p);
  if (p->i >= p->n || (p->s[p->i] != '\'' && p->s[p->i] != '"')) return herr(p, "expected a string");
  char q = p->s[p->i++];
  size_t start = p->i;
  while (p->i < p->n && p->s[p->i] != q) {
    if (p->s[p->i] == '\\' || p->s[p->i] == '\n') return herr(p, "unsupported character in string");
    p->i++;
  }
  if (p->i >= p->n) return herr(p, "unterminated string");
  *s = p->s + start;
  *len = p->i - start;
  p->i++;
  return MLX_OK;
}

static int hword(hparser* p, const char* w) {
  size_t k = strlen(w);
  if (p->n - p->i >= k && memcmp(p->s + p->i, w, k) == 0) {
    p->i += k;
    return 1;
  }
  return 0;
}

/* A non-negative integer (a Python 2 'L' suffix allowed). */
static int hint(hparser* p, int64_t* out) {
  hskip(p);
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return herr(p, "expected a dimension");
  int64_t v = 0;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
    int d = p->s[p->i++] - '0';
    if (v > (INT64_MAX - d) / 10) return herr(p, "dimension too large");
    v = v * 10 + d;
  }
  if (p->i < p->n && p->s[p->i] == 'L') p->i++;
  *out = v;
  return MLX_OK;
}

typedef struct {
  mlx_dtype dtype;
  int swap; /* big-endian data to byte-swap */
  int fortran;
  int ndim;
  int64_t* shape; /* malloc'ed; any rank the header can spell */
  int cap;
} npy_header;

static int parse_descr(hparser* p, npy_header* h) {
  const char* s;
  size_t len;
  hskip(p);
  if (p->i < p->n && p->s[p->i] == '[') return herr(p, "structured dtypes are not supported");
  MLX_TRY(hstring(p, &s, &len));
  char order = '|';
  if (len == 3 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
    order = s[0];
    s++;
    len--;
  }
  if (len == 2) {
    for (int t = 0; t < MLX_NUM_DTYPES; t++) {
      if (memcmp(CODES[t], s, 2) == 0) {
        h->dtype = (mlx_dtype)t;
        h->swap = order == '>' && mlx_dtype_size(h->dtype) > 1;
        return MLX_OK;
      }
    }
  }
  return mlx_error_(MLX_ERROR_FILE, "[%s] unsupported dtype '%.*s' in %s", p->op, (int)(len > 16 ? 16 : len), s, p->path);
}

static int parse_shape(hparser* p, npy_header* h) {
  MLX_TRY(hexpect(p, '('));
  h->ndim = 0;
  if (haccept(p, ')')) return MLX_OK;
  for (;;) {
    if (h->ndim == h->cap) {
      /* Each dimension takes at least two header bytes, so the header
       * length bounds this growth. */
      int cap = h->cap ? h->cap * 2 : 8;
      int64_t* grown = cap > 0 ? realloc(h->shape, sizeof(int64_t) * (size_t)cap) : NULL;
      if (!grown) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for a shape", p->op);
      h->shape = grown;
      h->cap = cap;
    }
    MLX_TRY(hint(p, &h->shape[h->ndim]));
    h->ndim++;
    if (haccept(p, ')')) {
      /* "(3)" is an int in Python, not a tuple. */
      if (h->ndim == 1) return herr(p, "shape is not a tuple");
      return MLX_OK;
    }
    MLX_TRY(hexpect(p, ','));
    if (haccept(p, ')')) return MLX_OK;
  }
}

/* Parses the header dict: exactly the keys descr, fortran_order, shape. */
static int parse_header(hparser* p, npy_header* h) {
  int seen[3] = {0, 0, 0};
  MLX_TRY(hexpect(p, '{'));
  while (!haccept(p, '}')) {
    const char* key;
    size_t klen;
    MLX_TRY(hstring(p, &key, &klen));
    MLX_TRY(hexpect(p, ':'));
    int which = klen == 5 && !memcmp(key, "descr", 5)           ? 0
                : klen == 13 && !memcmp(key, "fortran_order", 13) ? 1
                : klen == 5 && !memcmp(key, "shape", 5)           ? 2
                                                                  : -1;
    if (which < 0) return herr(p, "unexpected key");
    if (seen[which]++) return herr(p, "repeated key");
    if (which == 0) {
      MLX_TRY(parse_descr(p, h));
    } else if (which == 1) {
      hskip(p);
      if (hword(p, "True")) h->fortran = 1;
      else if (hword(p, "False")) h->fortran = 0;
      else return herr(p, "fortran_order must be True or False");
    } else {
      MLX_TRY(parse_shape(p, h));
    }
    if (haccept(p, '}')) break;
    MLX_TRY(hexpect(p, ','));
  }
  hskip(p);
  if (p->i != p->n) return herr(p, "trailing characters after the header");
  if (!seen[0] || !seen[1] || !seen[2]) return herr(p, "missing descr, fortran_order or shape");
  return MLX_OK;
}

/* ---- loading ----------------------------------------------------------------- */

/* In-place byte swap of n elements of `size` bytes. */
static void byteswap(void* data, int64_t n, size_t size) {
  if (size == 2) {
    uint16_t* d = data;
    for (int64_t i = 0; i < n; i++) d[i] = __builtin_bswap16(d[i]);
  } else if (size == 4) {
    uint32_t* d = data;
    for (int64_t i = 0; i < n; i++) d[i] = __builtin_bswap32(d[i]);
  } else if (size == 8) {
    uint64_t* d = data;
    for (int64_t i = 0; i < n; i++) d[i] = __builtin_bswap64(d[i]);
  }
}

/* The array of a parsed header whose data starts at data_at: sizes
 * checked against the file, data read, byte-swapped and laid out. */
static int make_array(mlx_array* res, mlx_rfile_* f, const npy_header* h, int64_t data_at, const char* path) {
  int64_t size = 1;
  for (int i = 0; i < h->ndim; i++) {
    if (h->shape[i] != 0 && size > INT64_MAX / h->shape[i])
      return mlx_error_(MLX_ERROR_FILE, "[load] shape in %s overflows", path);
    size *= h->shape[i];
  }
  int64_t item = (int64_t)mlx_dtype_size(h->dtype);
  if (size > (f->size - data_at) / item)
    return mlx_error_(MLX_ERROR_FILE, "[load] %s holds %lld data bytes, fewer than its shape needs", path,
                      (long long)(f->size - data_at));
  int64_t nbytes = size * item;
  mlx_array a = mlx_array_new();
  MLX_TRY(mlx_array_new_data(&a, NULL, h->shape, h->ndim, h->dtype));
  mlx_node_* n = MLX_NODE(a);
  int rc = mlx_rfile_read_(f, n->buf->data, data_at, nbytes, "load");
  if (rc) {
    mlx_array_free(a);
    return rc;
  }
  if (h->swap) {
    /* complex64 swaps its two float32 halves separately. */
    size_t unit = h->dtype == MLX_COMPLEX64 ? 4 : (size_t)item;
    byteswap(n->buf->data, nbytes / (int64_t)unit, unit);
  }
  if (h->fortran && h->ndim > 1) {
    /* Column-major data: the array is a view with column-major strides,
     * as upstream's transpose of the reversed shape gives. */
    int64_t st = 1;
    for (int i = 0; i < h->ndim; i++) {
      n->strides[i] = st;
      st *= h->shape[i] > 0 ? h->shape[i] : 1;
    }
    n->flags = mlx_layout_flags_(n->shape, n->strides, n->ndim, &n->data_size);
  }
  mlx_set_result_(res, n);
  return MLX_OK;
}

int mlx_npy_read_(mlx_array* res, mlx_rfile_* f, const char* path) {
  const char* op = "load";
  unsigned char pre[12];
  if (f->size < 10) return mlx_error_(MLX_ERROR_FILE, "[load] %s is too small to be a .npy file", path);
  MLX_TRY(mlx_rfile_read_(f, pre, 0, 10, op));
  if (memcmp(pre, MAGIC, 6) != 0) return mlx_error_(MLX_ERROR_FILE, "[load] %s is not a .npy file (bad magic)", path);
  int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    return mlx_error_(MLX_ERROR_FILE, "[load] unsupported .npy format version %d.%d in %s", major, minor, path);
  int64_t hlen, start;
  if (major == 1) {
    hlen = pre[8] | (int64_t)pre[9] << 8;
    start = 10;
  } else {
    MLX_TRY(mlx_rfile_read_(f, pre + 10, 10, 2, op));
    hlen = (int64_t)((uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24);
    start = 12;
  }
  if (hlen > f->size - start)
    return mlx_error_(MLX_ERROR_FILE, "[load] header length %lld runs past the end of %s (%lld bytes)", (long long)hlen,
                      path, (long long)f->size);
  char* text = malloc((size_t)hlen + 1);
  if (!text) return mlx_error_(MLX_ERROR_MEMORY, "[load] out of memory for a header of %lld bytes", (long long)hlen);
  int rc = mlx_rfile_read_(f, text, start, hlen, op);
  npy_header h = {0};
  if (!rc) {
    hparser p = {text, (size_t)hlen, 0, op, path};
    rc = parse_header(&p, &h);
  }
  free(text);
  if (!rc) rc = make_array(res, f, &h, start + hlen, path);
  free(h.shape);
  return rc;
}

int mlx_load(mlx_array* res, const char* path) {
  mlx_rfile_ f;
  MLX_TRY(mlx_rfile_open_(&f, path, "load"));
  int rc = mlx_npy_read_(res, &f, path);
  mlx_rfile_close_(&f);
  return rc;
}

/* ---- saving ------------------------------------------------------------------- */

/* The header, NumPy style, padded so the data starts at a multiple of 64
 * bytes (NumPy's alignment); version 2.0 only when 1.0's 16-bit length
 * cannot hold it. */
static int build_header(mlx_sbuf_* b, const mlx_node_* n, int fortran) {
  mlx_sbuf_ d = {0};
  const char* code = CODES[n->dtype];
  char order = mlx_dtype_size(n->dtype) == 1 ? '|' : '<';
  mlx_sbuf_printf_(&d, "{'descr': '%c%s', 'fortran_order': %s, 'shape': (", order, code, fortran ? "True" : "False");
  for (int i = 0; i < n->ndim; i++) mlx_sbuf_printf_(&d, i ? ", %lld" : "%lld", (long long)n->shape[i]);
  mlx_sbuf_printf_(&d, "%s), }", n->ndim == 1 ? "," : "");
  if (d.failed) {
    mlx_sbuf_free_(&d);
    return mlx_error_(MLX_ERROR_MEMORY, "[save] out of memory for the header");
  }
  size_t pre = 10, total = pre + d.len + 1;
  if ((total + 63) / 64 * 64 - pre > 65535) pre = 12, total = pre + d.len + 1;
  size_t padded = (total + 63) / 64 * 64;
  size_t hlen = padded - pre;
  unsigned char p[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', pre == 10 ? 1 : 2, 0};
  for (size_t k = 0; k < pre - 8; k++) p[8 + k] = (unsigned char)(hlen >> (8 * k));
  mlx_sbuf_append_(b, p, pre);
  mlx_sbuf_append_(b, d.data, d.len);
  for (size_t k = d.len + 1; k < hlen; k++) mlx_sbuf_append_(b, " ", 1);
  mlx_sbuf_append_(b, "\n", 1);
  mlx_sbuf_free_(&d);
  if (b->failed) return mlx_error_(MLX_ERROR_MEMORY, "[save] out of memory for the header");
  return MLX_OK;
}

int mlx_io_write_node_(mlx_wfile_* f, const mlx_node_* n, int as_stored, const char* op) {
  size_t nbytes = (size_t)n->size * mlx_dtype_size(n->dtype);
  if (nbytes == 0) return MLX_OK;
  if (as_stored) return mlx_wfile_write_(f, MLX_DATA(n, char), nbytes, op);
  void* tmp = malloc(nbytes);
  if (!tmp) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for a %zu-byte copy", op, nbytes);
  mlx_node_copy_to_(tmp, n->dtype, n);
  int rc = mlx_wfile_write_(f, tmp, nbytes, op);
  free(tmp);
  return rc;
}

int mlx_npy_encode_(mlx_sbuf_* b, const mlx_node_* n, const char* op) {
  MLX_TRY(build_header(b, n, 0));
  size_t nbytes = (size_t)n->size * mlx_dtype_size(n->dtype);
  if (nbytes == 0) return MLX_OK;
  if (n->flags & MLX_FLAG_ROW_CONTIG) {
    mlx_sbuf_append_(b, MLX_DATA(n, char), nbytes);
  } else {
    void* tmp = malloc(nbytes);
    if (!tmp) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for a %zu-byte copy", op, nbytes);
    mlx_node_copy_to_(tmp, n->dtype, n);
    mlx_sbuf_append_(b, tmp, nbytes);
    free(tmp);
  }
  if (b->failed) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for %zu bytes of .npy data", op, nbytes);
  return MLX_OK;
}

int mlx_save(const char* path, const mlx_array a) {
  MLX_TRY(mlx_check_array_(a, "save"));
  mlx_node_* n = MLX_NODE(a);
  MLX_TRY(mlx_eval_node_(n));
  char* file = mlx_path_with_suffix_(path, ".npy", "save");
  if (!file) return mlx_last_error_code();
  /* Dense data goes out as it lies: row-major as is, column-major with
   * fortran_order True (as upstream MLX does); anything else is copied to
   * row-major first. */
  int row = (n->flags & MLX_FLAG_ROW_CONTIG) != 0;
  int fortran = !row && (n->flags & MLX_FLAG_COL_CONTIG) != 0;
  mlx_sbuf_ hdr = {0};
  mlx_wfile_ f;
  int rc = build_header(&hdr, n, fortran);
  if (!rc) rc = mlx_wfile_open_(&f, file, "save");
  if (!rc) {
    rc = mlx_wfile_write_(&f, hdr.data, hdr.len, "save");
    if (!rc) rc = mlx_io_write_node_(&f, n, row || fortran, "save");
    if (!rc) rc = mlx_wfile_commit_(&f, "save");
    else mlx_wfile_abort_(&f);
  }
  mlx_sbuf_free_(&hdr);
  free(file);
  return rc;
}
