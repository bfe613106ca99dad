/* A small strict JSON reader (RFC 8259) and string writer, for the
 * headers of .safetensors files. The reader is recursive descent with a
 * depth limit, so hostile nesting cannot exhaust the stack; every read is
 * bounds-checked against the text's length, which need not be
 * NUL-terminated. */
#include <stdlib.h>

#include "io.h"

#define MAX_DEPTH 64

typedef struct {
  const unsigned char* s;
  size_t n, i;
  const char* op;
  int rc;
} parser;

static int fail(parser* p, const char* what) {
  if (!p->rc) p->rc = mlx_error_(MLX_ERROR_FILE, "[%s] invalid JSON at byte %zu: %s", p->op, p->i, what);
  return p->rc;
}

static void skip_ws(parser* p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char* s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

int mlx_utf8_valid_(const char* s, size_t n) {
  const unsigned char* u = (const unsigned char*)s;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq(u + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static int hex4(parser* p, uint32_t* out) {
  if (p->n - p->i < 4) return fail(p, "truncated \\u escape");
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    unsigned c = p->s[p->i++];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return fail(p, "bad hex digit in \\u escape");
  }
  *out = v;
  return MLX_OK;
}

static void put_utf8(mlx_sbuf_* b, uint32_t cp) {
  unsigned char u[4];
  size_t n;
  if (cp < 0x80) u[0] = (unsigned char)cp, n = 1;
  else if (cp < 0x800) u[0] = (unsigned char)(0xC0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    u[0] = (unsigned char)(0xE0 | (cp >> 12)), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
    u[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
  else
    u[0] = (unsigned char)(0xF0 | (cp >> 18)), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F)),
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (unsigned char)(0x80 | (cp & 0x3F)), n = 4;
  mlx_sbuf_append_(b, u, n);
}

/* Parses a string literal (p->i at the opening quote) into *out / *len. */
static int parse_string(parser* p, char** out, size_t* len) {
  mlx_sbuf_ b = {0};
  p->i++;
  for (;;) {
    if (p->i >= p->n) {
      mlx_sbuf_free_(&b);
      return fail(p, "unterminated string");
    }
    unsigned c = p->s[p->i];
    if (c == '"') {
      p->i++;
      break;
    }
    if (c < 0x20) {
      mlx_sbuf_free_(&b);
      return fail(p, "control character in string");
    }
    if (c == '\\') {
      if (++p->i >= p->n) {
        mlx_sbuf_free_(&b);
        return fail(p, "unterminated escape");
      }
      c = p->s[p->i++];
      char e = 0;
      switch (c) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
          uint32_t cp, lo;
          if (hex4(p, &cp)) break;
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(p, "unpaired low surrogate");
            break;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate must be followed by an escaped low one. */
            if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
              fail(p, "unpaired high surrogate");
              break;
            }
            p->i += 2;
            if (hex4(p, &lo)) break;
            if (lo < 0xDC00 || lo > 0xDFFF) {
              fail(p, "unpaired high surrogate");
              break;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(&b, cp);
          break;
        }
        default: fail(p, "unknown escape"); break;
      }
      if (p->rc) {
        mlx_sbuf_free_(&b);
        return p->rc;
      }
      if (e) mlx_sbuf_append_(&b, &e, 1);
      continue;
    }
    size_t k = utf8_seq(p->s + p->i, p->n - p->i);
    if (!k) {
      mlx_sbuf_free_(&b);
      return fail(p, "invalid UTF-8 in string");
    }
    mlx_sbuf_append_(&b, p->s + p->i, k);
    p->i += k;
  }
  /* An empty string still gets a (NUL-terminated) buffer. */
  mlx_sbuf_append_(&b, "", 0);
  if (b.failed) {
    mlx_sbuf_free_(&b);
    if (!p->rc) p->rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory parsing JSON", p->op);
    return p->rc;
  }
  *out = b.data;
  *len = b.len;
  return MLX_OK;
}

static int parse_number(parser* p, mlx_json_* v) {
  size_t i = p->i;
  int neg = 0, integral = 1, overflow = 0;
  uint64_t u = 0;
  if (i < p->n && p->s[i] == '-') neg = 1, i++;
  if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') return fail(p, "bad number");
  if (p->s[i] == '0') {
    i++;
  } else {
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') {
      unsigned d = p->s[i++] - '0';
      if (u > (UINT64_MAX - d) / 10) overflow = 1;
      else u = u * 10 + d;
    }
  }
  if (i < p->n && p->s[i] == '.') {
    integral = 0;
    i++;
    if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') return fail(p, "bad fraction");
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
  }
  if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
    integral = 0;
    i++;
    if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
    if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') return fail(p, "bad exponent");
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
  }
  v->kind = MLX_JSON_NUMBER_;
  v->is_uint = integral && !overflow && (!neg || u == 0);
  v->uint_value = v->is_uint ? u : 0;
  p->i = i;
  return MLX_OK;
}

static int literal(parser* p, const char* word) {
  size_t k = strlen(word);
  if (p->n - p->i < k || memcmp(p->s + p->i, word, k) != 0) return fail(p, "unexpected character");
  p->i += k;
  return MLX_OK;
}

/* Grows a container's arrays to hold one more member. */
static int grow(parser* p, mlx_json_* v, size_t* cap, int with_keys) {
  if (v->n < *cap) return MLX_OK;
  size_t c = *cap ? *cap * 2 : 4;
  mlx_json_* items = realloc(v->items, c * sizeof *items);
  if (items) v->items = items;
  if (items && with_keys) {
    char** keys = realloc(v->keys, c * sizeof *keys);
    if (keys) v->keys = keys;
    size_t* lens = keys ? realloc(v->key_lens, c * sizeof *lens) : NULL;
    if (lens) v->key_lens = lens;
    if (!keys || !lens) items = NULL;
  }
  if (!items) {
    if (!p->rc) p->rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory parsing JSON", p->op);
    return p->rc;
  }
  *cap = c;
  return MLX_OK;
}

static void clear(mlx_json_* v);

typedef struct {
  const char* key;
  size_t len;
} key_ref;

static int cmp_keys(const void* a, const void* b) {
  const key_ref *x = a, *y = b;
  int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Rejects an object with a repeated key. Sorting keeps this O(n log n):
 * a header may hold hundreds of thousands of tensors. */
static int check_unique_keys(parser* p, const mlx_json_* v) {
  if (v->n < 2) return MLX_OK;
  key_ref* refs = malloc(v->n * sizeof *refs);
  if (!refs) return p->rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory parsing JSON", p->op);
  for (size_t k = 0; k < v->n; k++) refs[k] = (key_ref){v->keys[k], v->key_lens[k]};
  qsort(refs, v->n, sizeof *refs, cmp_keys);
  for (size_t k = 1; k < v->n; k++) {
    if (cmp_keys(&refs[k - 1], &refs[k]) == 0) {
      free(refs);
      return fail(p, "duplicate key in object");
    }
  }
  free(refs);
  return MLX_OK;
}

static int parse_value(parser* p, mlx_json_* v, int depth) {
  memset(v, 0, sizeof *v);
  skip_ws(p);
  if (p->i >= p->n) return fail(p, "unexpected end of text");
  unsigned c = p->s[p->i];
  if (c == '{' || c == '[') {
    if (depth >= MAX_DEPTH) return fail(p, "nesting too deep");
    int obj = c == '{';
    char close = obj ? '}' : ']';
    v->kind = obj ? MLX_JSON_OBJECT_ : MLX_JSON_ARRAY_;
    size_t cap = 0;
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
      p->i++;
      return MLX_OK;
    }
    for (;;) {
      if (grow(p, v, &cap, obj)) return p->rc;
      char* key = NULL;
      size_t klen = 0;
      if (obj) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "expected a string key");
        if (parse_string(p, &key, &klen)) return p->rc;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
          free(key);
          return fail(p, "expected ':'");
        }
        p->i++;
      }
      if (parse_value(p, &v->items[v->n], depth + 1)) {
        /* The failed member may hold partial content; it is not counted. */
        clear(&v->items[v->n]);
        free(key);
        return p->rc;
      }
      if (obj) {
        v->keys[v->n] = key;
        v->key_lens[v->n] = klen;
      }
      v->n++;
      skip_ws(p);
      if (p->i >= p->n) return fail(p, "unexpected end of text");
      if (p->s[p->i] == ',') {
        p->i++;
        continue;
      }
      if (p->s[p->i] == close) {
        p->i++;
        return obj ? check_unique_keys(p, v) : MLX_OK;
      }
      return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
  if (c == '"') {
    v->kind = MLX_JSON_STRING_;
    return parse_string(p, &v->str, &v->len);
  }
  if (c == 't') {
    v->kind = MLX_JSON_BOOL_;
    v->boolean = 1;
    return literal(p, "true");
  }
  if (c == 'f') {
    v->kind = MLX_JSON_BOOL_;
    return literal(p, "false");
  }
  if (c == 'n') return literal(p, "null");
  return parse_number(p, v);
}

/* Frees what v owns (not v itself). Depth is bounded by the parser. */
static void clear(mlx_json_* v) {
  free(v->str);
  for (size_t k = 0; k < v->n; k++) {
    clear(&v->items[k]);
    if (v->keys) free(v->keys[k]);
  }
  free(v->items);
  free(v->keys);
  free(v->key_lens);
  memset(v, 0, sizeof *v);
}

int mlx_json_parse_(mlx_json_** out, const char* text, size_t len, const char* op) {
  parser p = {(const unsigned char*)text, len, 0, op, MLX_OK};
  mlx_json_* v = malloc(sizeof *v);
  if (!v) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory parsing JSON", op);
  if (!parse_value(&p, v, 0)) {
    skip_ws(&p);
    if (p.i != p.n) fail(&p, "trailing characters after the value");
  }
  if (p.rc) {
    clear(v);
    free(v);
    return p.rc;
  }
  *out = v;
  return MLX_OK;
}

void mlx_json_free_(mlx_json_* v) {
  if (!v) return;
  clear(v);
  free(v);
}

const mlx_json_* mlx_json_get_(const mlx_json_* obj, const char* key) {
  if (!obj || obj->kind != MLX_JSON_OBJECT_) return NULL;
  size_t klen = strlen(key);
  for (size_t k = 0; k < obj->n; k++)
    if (obj->key_lens[k] == klen && memcmp(obj->keys[k], key, klen) == 0) return &obj->items[k];
  return NULL;
}

void mlx_json_write_string_(mlx_sbuf_* b, const char* s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  mlx_sbuf_append_(b, "\"", 1);
  size_t run = 0; /* start of the pending run of bytes copied as they are */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    mlx_sbuf_append_(b, s + run, i - run);
    run = i + 1;
    char esc[7] = {'\\', 0};
    size_t k = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
        k = 6;
        break;
    }
    mlx_sbuf_append_(b, esc, k);
  }
  mlx_sbuf_append_(b, s + run, n - run);
  mlx_sbuf_append_(b, "\"", 1);
}
