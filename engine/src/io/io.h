/* Internals of the file formats (npy.c, safetensors.c): reading a file
 * whose size is known before anything is trusted, atomic writes, a
 * growable byte buffer and a small strict JSON reader/writer. */
#ifndef MLX_IO_INTERNAL_H
#define MLX_IO_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../internal.h"

/* ---- reading ----------------------------------------------------------- */
/* A file open for reading, with its size taken once at open. */
typedef struct mlx_rfile_ {
  int fd;
  int64_t size;
} mlx_rfile_;

/* Opens path for reading (MLX_ERROR_FILE with the reason on failure). */
int mlx_rfile_open_(mlx_rfile_* f, const char* path, const char* op);
/* Reads exactly n bytes at offset into dst. Fails with MLX_ERROR_FILE,
 * before reading, when [offset, offset + n) is not inside the file. */
int mlx_rfile_read_(mlx_rfile_* f, void* dst, int64_t offset, int64_t n, const char* op);
void mlx_rfile_close_(mlx_rfile_* f);

/* ---- atomic writing ---------------------------------------------------- */
/* A file being written: the bytes go to a temporary file in the target's
 * directory, which commit fsyncs and renames over the target, so readers
 * see either the old file or the complete new one, never a torn one. */
typedef struct mlx_wfile_ {
  int fd;
  char* path;
  char* tmp_path;
} mlx_wfile_;

/* Creates the temporary file for path. */
int mlx_wfile_open_(mlx_wfile_* f, const char* path, const char* op);
/* Appends n bytes. On failure the caller still calls mlx_wfile_abort_. */
int mlx_wfile_write_(mlx_wfile_* f, const void* data, size_t n, const char* op);
/* fsyncs, renames over the target and fsyncs the directory; releases f
 * (also on failure, removing the temporary file). */
int mlx_wfile_commit_(mlx_wfile_* f, const char* op);
/* Removes the temporary file and releases f. */
void mlx_wfile_abort_(mlx_wfile_* f);

/* Writes the elements of the evaluated node n: its memory as it lies
 * when as_stored (the caller checked it is dense), else a row-major copy. */
int mlx_io_write_node_(mlx_wfile_* f, const mlx_node_* n, int as_stored, const char* op);

/* path, or path + suffix when it does not already end with suffix (as
 * upstream MLX names saved files); NULL with the error set. Free with free. */
char* mlx_path_with_suffix_(const char* path, const char* suffix, const char* op);

/* ---- byte buffer --------------------------------------------------------- */
/* A growable buffer; after a failed allocation `failed` is set and further
 * appends do nothing, so callers check once at the end. */
typedef struct mlx_sbuf_ {
  char* data;
  size_t len, cap;
  int failed;
} mlx_sbuf_;

void mlx_sbuf_append_(mlx_sbuf_* b, const void* p, size_t n);
void mlx_sbuf_printf_(mlx_sbuf_* b, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void mlx_sbuf_free_(mlx_sbuf_* b);

/* ---- JSON ---------------------------------------------------------------- */
typedef enum mlx_json_kind_ {
  MLX_JSON_NULL_ = 0,
  MLX_JSON_BOOL_,
  MLX_JSON_NUMBER_,
  MLX_JSON_STRING_,
  MLX_JSON_ARRAY_,
  MLX_JSON_OBJECT_
} mlx_json_kind_;

/* A parsed JSON value. Numbers keep only what the formats need: whether
 * the literal is a non-negative integer that fits uint64, and its value. */
typedef struct mlx_json_ mlx_json_;
struct mlx_json_ {
  mlx_json_kind_ kind;
  int boolean;
  int is_uint;
  uint64_t uint_value;
  char* str; /* strings: decoded UTF-8, NUL-terminated (may hold \u0000) */
  size_t len;
  size_t n;         /* arrays and objects: element count */
  mlx_json_* items; /* n values */
  char** keys;      /* objects: n decoded keys (NUL-terminated) */
  size_t* key_lens;
};

/* Parses len bytes of text as one JSON value (RFC 8259: UTF-8 only, no
 * trailing commas, no comments; surrounding whitespace allowed; nesting at
 * most 64 deep; duplicate object keys rejected). MLX_ERROR_FILE with the
 * byte offset of the problem on failure. *out is freed with
 * mlx_json_free_. */
int mlx_json_parse_(mlx_json_** out, const char* text, size_t len, const char* op);
void mlx_json_free_(mlx_json_* v);
/* The member of an object with the given key, or NULL. */
const mlx_json_* mlx_json_get_(const mlx_json_* obj, const char* key);
/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int mlx_utf8_valid_(const char* s, size_t n);
/* Appends s (valid UTF-8, n bytes) as a JSON string literal. */
void mlx_json_write_string_(mlx_sbuf_* b, const char* s, size_t n);

#endif
