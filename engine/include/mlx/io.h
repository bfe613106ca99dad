/* Reading and writing arrays to files. Every length, offset and shape read
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

#ifdef __cplusplus
}
#endif
#endif
