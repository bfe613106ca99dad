/* Internals of the file formats (npy.c, npz.c, safetensors.c, gguf.c,
 * export.c): reading a file (or bytes in memory) whose size is known
 * before anything is trusted, atomic writes, a growable byte buffer, zip
 * archives (zip.c) and a small strict JSON reader/writer. */
#ifndef MLX_IO_INTERNAL_H
#define MLX_IO_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../internal.h"

/* ---- reading ----------------------------------------------------------- */
/* A file open for reading, with its size taken once at open; or bytes in
 * memory (a member of an archive) read through the same checks. */
typedef struct mlx_rfile_ {
  int fd;       /* -1 for memory */
  int64_t size;
  const unsigned char* mem; /* not owned */
} mlx_rfile_;

/* Opens path for reading (MLX_ERROR_FILE with the reason on failure). */
int mlx_rfile_open_(mlx_rfile_* f, const char* path, const char* op);
/* Reads exactly n bytes at offset into dst. Fails with MLX_ERROR_FILE,
 * before reading, when [offset, offset + n) is not inside the file. */
int mlx_rfile_read_(mlx_rfile_* f, void* dst, int64_t offset, int64_t n, const char* op);
void mlx_rfile_close_(mlx_rfile_* f);
/* A reader over n bytes of memory (borrowed; nothing to close). */
void mlx_rfile_mem_(mlx_rfile_* f, const void* data, int64_t n);

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

/* ---- .npy pieces (npy.c), for .npz members -------------------------------- */
/* Reads one .npy image from f (a file or memory); path names it in errors. */
int mlx_npy_read_(mlx_array* res, mlx_rfile_* f, const char* path);

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

/* Appends the .npy image (header and row-major data) of the evaluated node
 * n to b. */
int mlx_npy_encode_(mlx_sbuf_* b, const mlx_node_* n, const char* op);

/* ---- zip archives (zip.c) ------------------------------------------------ */
/* A zip archive being written atomically: members are appended whole
 * (stored or raw-deflated, with CRC-32), then close writes the central
 * directory and commits the file. Archives over 4 GiB are refused. */
typedef struct mlx_zipw_ {
  mlx_wfile_ f;
  uint64_t offset; /* bytes written so far */
  uint64_t count;
  mlx_sbuf_ central;
  const char* op;
} mlx_zipw_;

int mlx_zipw_open_(mlx_zipw_* w, const char* path, const char* op);
/* Appends a member named name (NUL-terminated) holding n bytes. */
int mlx_zipw_add_(mlx_zipw_* w, const char* name, const void* data, size_t n, int compress);
/* Writes the central directory and commits; releases w (also on error). */
int mlx_zipw_close_(mlx_zipw_* w);
void mlx_zipw_abort_(mlx_zipw_* w);

/* One member of a zip archive, from its central directory entry. */
typedef struct mlx_zip_entry_ {
  char* name;
  uint64_t local_offset, csize, usize;
  uint32_t crc;
  int method; /* 0 stored, 8 deflated */
} mlx_zip_entry_;

/* A zip archive open for reading (its central directory parsed and every
 * entry's sizes and offsets checked against the file). */
typedef struct mlx_zipr_ {
  mlx_rfile_ f;
  size_t n;
  mlx_zip_entry_* entries;
  uint64_t cd_offset; /* members' data must end before this */
  const char* path;
  const char* op;
} mlx_zipr_;

int mlx_zipr_open_(mlx_zipr_* r, const char* path, const char* op);
/* The uncompressed bytes of entry i in *data (malloc'ed, *n bytes), its
 * CRC-32 verified. */
int mlx_zipr_read_(mlx_zipr_* r, size_t i, unsigned char** data, size_t* n);
void mlx_zipr_close_(mlx_zipr_* r);

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
