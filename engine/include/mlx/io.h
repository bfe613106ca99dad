/* Reading and writing arrays to files: .npy, .npz (zip archives of .npy),
 * .safetensors and .gguf. Every length, offset, count and shape read
 * from a file is checked against the file's size before use; a malformed
 * file fails with MLX_ERROR_FILE, never a crash. Writes are atomic: a
 * temporary file in the same directory, fsync, rename. */
#ifndef MLX_IO_H
#define MLX_IO_H

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a (evaluated first) as a .npy file; ".npy" is appended to a path
 * without it, as upstream MLX does. bfloat16 is written as '<V2'. */
int mlx_save(const char* path, const mlx_array a);
/* Reads a .npy file (format 1.0, 2.0 or 3.0; big-endian and Fortran-order
 * data included). */
int mlx_load(mlx_array* res, const char* path);

/* A list of named arrays, e.g. the tensors of a .safetensors file. Owns its
 * names and array handles; free with mlx_named_arrays_free. */
typedef struct mlx_named_arrays {
  size_t n;
  char** names;
  mlx_array* arrays;
} mlx_named_arrays;

/* String-to-string metadata; free with mlx_string_map_free. */
typedef struct mlx_string_map {
  size_t n;
  char** keys;
  char** values;
} mlx_string_map;

void mlx_named_arrays_free(mlx_named_arrays* m);
void mlx_string_map_free(mlx_string_map* m);

/* Writes a .safetensors file with the arrays and optional metadata (may be
 * NULL); ".safetensors" is appended to a path without it. Names must be
 * unique, valid UTF-8 and not "__metadata__" (MLX_ERROR_ARGUMENT). */
int mlx_save_safetensors(const char* path, const mlx_named_arrays* arrays, const mlx_string_map* metadata);
/* Reads a .safetensors file into *arrays (in the header's order) and, if
 * metadata is not NULL, its metadata. Both are overwritten, not freed. */
int mlx_load_safetensors(mlx_named_arrays* arrays, mlx_string_map* metadata, const char* path);

/* Writes a .npz file (a zip archive of .npy members "<name>.npy"), the
 * members deflated when compressed is non-zero; ".npz" is appended to a
 * path without it. Names must be unique and non-empty (MLX_ERROR_ARGUMENT).
 * Archives over 4 GiB are refused. */
int mlx_savez(const char* path, const mlx_named_arrays* arrays, int compressed);
/* Reads a .npz file: every member is a .npy image, named by its member
 * name without a ".npy" suffix, in archive order. Stored and deflated
 * members (zip64 records included) are read; CRC-32s are checked. */
int mlx_load_npz(mlx_named_arrays* arrays, const char* path);

/* ---- GGUF ---------------------------------------------------------------- */
typedef enum mlx_gguf_kind {
  MLX_GGUF_ARRAY = 0, /* a number (0-d array) or a 1-d array of numbers */
  MLX_GGUF_STRING,    /* one string */
  MLX_GGUF_STRINGS    /* a list of strings */
} mlx_gguf_kind;

/* One metadata value. Strings are byte strings with explicit lengths
 * (GGUF strings may hold NUL bytes); each is also NUL-terminated. */
typedef struct mlx_gguf_value {
  mlx_gguf_kind kind;
  mlx_array array;    /* MLX_GGUF_ARRAY */
  size_t nstrings;    /* 1 for MLX_GGUF_STRING */
  char** strings;
  size_t* string_lens;
} mlx_gguf_value;

/* Metadata of a GGUF file; owns everything; free with
 * mlx_gguf_metadata_free. */
typedef struct mlx_gguf_metadata {
  size_t n;
  char** keys;
  mlx_gguf_value* values;
} mlx_gguf_metadata;

void mlx_gguf_metadata_free(mlx_gguf_metadata* m);

/* Writes a GGUF (version 3) file; ".gguf" is appended to a path without
 * it. Tensors: float32, float16, int8, int16, int32 (as upstream MLX; other
 * dtypes are MLX_ERROR_ARGUMENT). Metadata arrays must be 0-d or 1-d,
 * non-empty, of bool, (u)int8..64 or float32. metadata may be NULL. */
int mlx_save_gguf(const char* path, const mlx_named_arrays* arrays, const mlx_gguf_metadata* metadata);
/* Reads a GGUF file (versions 2 and 3). F32, F16, I8, I16, I32 tensors
 * load as such and BF16 as float16 (upstream converts what it cannot copy
 * to float16, and so Q4_K, dequantized); Q4_0, Q4_1 and Q8_0 tensors
 * load, as upstream MLX does, as a quantized triple: "<name>" (uint32
 * packed weights), "<prefix>.scales" and "<prefix>.biases" (float16),
 * prefix being name without ".weight".
 * Other tensor types are MLX_ERROR_FILE.
 * Metadata numbers load as 0-d arrays (float64 as float32), arrays of
 * numbers as 1-d arrays, strings and string lists as such. metadata may be
 * NULL. */
int mlx_load_gguf(mlx_named_arrays* arrays, mlx_gguf_metadata* metadata, const char* path);

#ifdef __cplusplus
}
#endif
#endif
