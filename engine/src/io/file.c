/* Files for the loaders and savers: size-checked reads, atomic writes
 * (temporary file, fsync, rename, fsync of the directory) and a growable
 * byte buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

int mlx_rfile_open_(mlx_rfile_* f, const char* path, const char* op) {
  if (!path) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] no file name given", op);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return mlx_error_(MLX_ERROR_FILE, "[%s] cannot open %s: %s", op, path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return mlx_error_(MLX_ERROR_FILE, "[%s] cannot stat %s: %s", op, path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return mlx_error_(MLX_ERROR_FILE, "[%s] %s is not a regular file", op, path);
  }
  f->fd = fd;
  f->size = (int64_t)st.st_size;
  f->mem = NULL;
  return MLX_OK;
}

int mlx_rfile_read_(mlx_rfile_* f, void* dst, int64_t offset, int64_t n, const char* op) {
  if (offset < 0 || n < 0 || offset > f->size || n > f->size - offset)
    return mlx_error_(MLX_ERROR_FILE, "[%s] truncated file: %lld bytes at offset %lld, but the file has %lld", op,
                      (long long)n, (long long)offset, (long long)f->size);
  if (f->mem) {
    if (n) memcpy(dst, f->mem + offset, (size_t)n);
    return MLX_OK;
  }
  char* p = dst;
  while (n > 0) {
    /* Linux reads at most 2^31 - 4096 bytes per call. */
    size_t chunk = n > (1 << 30) ? (size_t)1 << 30 : (size_t)n;
    ssize_t got = pread(f->fd, p, chunk, (off_t)offset);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return mlx_error_(MLX_ERROR_FILE, "[%s] read failed: %s", op, strerror(errno));
    if (got == 0) return mlx_error_(MLX_ERROR_FILE, "[%s] file shrank while being read", op);
    p += got;
    offset += got;
    n -= got;
  }
  return MLX_OK;
}

void mlx_rfile_close_(mlx_rfile_* f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
}

void mlx_rfile_mem_(mlx_rfile_* f, const void* data, int64_t n) {
  f->fd = -1;
  f->size = n;
  f->mem = data;
}

char* mlx_path_with_suffix_(const char* path, const char* suffix, const char* op) {
  if (!path || !*path) {
    mlx_error_(MLX_ERROR_ARGUMENT, "[%s] no file name given", op);
    return NULL;
  }
  size_t n = strlen(path), k = strlen(suffix);
  int has = n >= k && strcmp(path + n - k, suffix) == 0;
  char* out = malloc(n + k + 1);
  if (!out) {
    mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
    return NULL;
  }
  memcpy(out, path, n);
  memcpy(out + n, has ? "" : suffix, has ? 1 : k + 1);
  return out;
}

static atomic_uint tmp_counter;

int mlx_wfile_open_(mlx_wfile_* f, const char* path, const char* op) {
  size_t n = strlen(path);
  f->fd = -1;
  f->path = malloc(n + 1);
  f->tmp_path = malloc(n + 48);
  if (!f->path || !f->tmp_path) {
    free(f->path);
    free(f->tmp_path);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op);
  }
  memcpy(f->path, path, n + 1);
  /* A fresh name beside the target (same filesystem, so rename is atomic);
   * O_EXCL never reuses an existing file, and mode 0666 lets the umask
   * decide the permissions as for any newly created file. */
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(f->tmp_path, n + 48, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1u));
    f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd >= 0) return MLX_OK;
    if (errno != EEXIST) break;
  }
  int e = errno;
  free(f->path);
  free(f->tmp_path);
  return mlx_error_(MLX_ERROR_FILE, "[%s] cannot create a file beside %s: %s", op, path, strerror(e));
}

int mlx_wfile_write_(mlx_wfile_* f, const void* data, size_t n, const char* op) {
  const char* p = data;
  while (n > 0) {
    size_t chunk = n > (1u << 30) ? (size_t)1 << 30 : n;
    ssize_t put = write(f->fd, p, chunk);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0)
      return mlx_error_(MLX_ERROR_FILE, "[%s] write to %s failed: %s", op, f->path, put < 0 ? strerror(errno) : "no progress");
    p += put;
    n -= (size_t)put;
  }
  return MLX_OK;
}

static void release(mlx_wfile_* f) {
  free(f->path);
  free(f->tmp_path);
  f->path = f->tmp_path = NULL;
  f->fd = -1;
}

void mlx_wfile_abort_(mlx_wfile_* f) {
  if (f->fd >= 0) close(f->fd);
  if (f->tmp_path) unlink(f->tmp_path);
  release(f);
}

/* fsyncs the directory holding path so the rename itself is durable. This
 * is best effort: some filesystems refuse fsync on directories, and by now
 * the new file is already in place. */
static void sync_dir(const char* path) {
  const char* slash = strrchr(path, '/');
  char* dir;
  if (!slash) dir = strdup(".");
  else if (slash == path) dir = strdup("/");
  else dir = strndup(path, (size_t)(slash - path));
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

int mlx_wfile_commit_(mlx_wfile_* f, const char* op) {
  int rc = MLX_OK;
  if (fsync(f->fd) != 0) rc = mlx_error_(MLX_ERROR_FILE, "[%s] fsync of %s failed: %s", op, f->path, strerror(errno));
  if (close(f->fd) != 0 && !rc) rc = mlx_error_(MLX_ERROR_FILE, "[%s] closing %s failed: %s", op, f->path, strerror(errno));
  f->fd = -1;
  if (!rc && rename(f->tmp_path, f->path) != 0)
    rc = mlx_error_(MLX_ERROR_FILE, "[%s] cannot replace %s: %s", op, f->path, strerror(errno));
  if (rc) {
    mlx_wfile_abort_(f);
    return rc;
  }
  sync_dir(f->path);
  release(f);
  return MLX_OK;
}

void mlx_sbuf_append_(mlx_sbuf_* b, const void* p, size_t n) {
  if (b->failed) return;
  if (n > SIZE_MAX - b->len - 1) {
    b->failed = 1;
    return;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
    char* d = realloc(b->data, cap);
    if (!d) {
      b->failed = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void mlx_sbuf_printf_(mlx_sbuf_* b, const char* fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    mlx_sbuf_append_(b, small, (size_t)n);
    return;
  }
  char* big = malloc((size_t)n + 1);
  if (!big) {
    b->failed = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  mlx_sbuf_append_(b, big, (size_t)n);
  free(big);
}

void mlx_sbuf_free_(mlx_sbuf_* b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}
