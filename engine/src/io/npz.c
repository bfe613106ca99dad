/* .npz files: a zip archive (zip.c) of .npy images (npy.c), one member
 * "<name>.npy" per array, as NumPy's savez writes and upstream MLX reads. */
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

static int check_names(const mlx_named_arrays* arrays, const char* op) {
  if (arrays->n && (!arrays->names || !arrays->arrays)) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] missing arrays", op);
  for (size_t i = 0; i < arrays->n; i++) {
    if (!arrays->names[i] || !*arrays->names[i])
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] array %zu has an empty name", op, i);
    MLX_TRY(mlx_check_array_(arrays->arrays[i], op));
    for (size_t j = 0; j < i; j++)
      if (strcmp(arrays->names[i], arrays->names[j]) == 0)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] name '%.200s' appears twice", op, arrays->names[i]);
  }
  return MLX_OK;
}

int mlx_savez(const char* path, const mlx_named_arrays* arrays, int compressed) {
  const char* op = compressed ? "savez_compressed" : "savez";
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] no arrays given", op);
  MLX_TRY(check_names(arrays, op));
  MLX_TRY(mlx_eval(arrays->arrays, arrays->n));
  char* file = mlx_path_with_suffix_(path, ".npz", op);
  if (!file) return mlx_last_error_code();
  mlx_zipw_ w;
  int rc = mlx_zipw_open_(&w, file, op);
  free(file);
  MLX_TRY(rc);
  for (size_t i = 0; i < arrays->n && !rc; i++) {
    mlx_sbuf_ img = {0};
    mlx_sbuf_ name = {0};
    rc = mlx_npy_encode_(&img, MLX_NODE(arrays->arrays[i]), op);
    mlx_sbuf_printf_(&name, "%s.npy", arrays->names[i]);
    if (!rc && name.failed) rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
    if (!rc) rc = mlx_zipw_add_(&w, name.data, img.data ? img.data : "", img.len, compressed);
    mlx_sbuf_free_(&img);
    mlx_sbuf_free_(&name);
  }
  if (rc) {
    mlx_zipw_abort_(&w);
    return rc;
  }
  return mlx_zipw_close_(&w);
}

int mlx_load_npz(mlx_named_arrays* arrays, const char* path) {
  const char* op = "load_npz";
  if (!arrays) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] no output given", op);
  mlx_zipr_ r;
  MLX_TRY(mlx_zipr_open_(&r, path, op));
  mlx_named_arrays out = {0};
  int rc = MLX_OK;
  out.names = calloc(r.n ? r.n : 1, sizeof *out.names);
  out.arrays = calloc(r.n ? r.n : 1, sizeof *out.arrays);
  if (!out.names || !out.arrays) rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
  for (size_t i = 0; i < r.n && !rc; i++) {
    const char* mname = r.entries[i].name;
    size_t len = strlen(mname);
    if (len > 4 && strcmp(mname + len - 4, ".npy") == 0) len -= 4;
    out.n = i + 1;
    out.names[i] = strndup(mname, len);
    if (!out.names[i]) {
      rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
      break;
    }
    for (size_t j = 0; j < i && !rc; j++)
      if (strcmp(out.names[j], out.names[i]) == 0)
        rc = mlx_error_(MLX_ERROR_FILE, "[%s] %s holds the array '%.200s' twice", op, path, out.names[i]);
    if (rc) break;
    unsigned char* data = NULL;
    size_t n = 0;
    rc = mlx_zipr_read_(&r, i, &data, &n);
    if (rc) break;
    mlx_sbuf_ label = {0};
    mlx_sbuf_printf_(&label, "%s (member %.200s)", path, mname);
    mlx_rfile_ mem;
    mlx_rfile_mem_(&mem, data, (int64_t)n);
    rc = mlx_npy_read_(&out.arrays[i], &mem, label.failed ? path : label.data);
    mlx_sbuf_free_(&label);
    free(data);
  }
  mlx_zipr_close_(&r);
  if (rc) {
    mlx_named_arrays_free(&out);
    return rc;
  }
  *arrays = out;
  return MLX_OK;
}
