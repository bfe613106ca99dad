/* The CPU caching allocator.
 *
 * Freed buffers go into per-size-class free lists instead of back to the
 * system, so the steady state of a training loop allocates nothing. Size
 * classes are powers of two split in four (at most 25% waste); buffers
 * above 1 MiB are rounded to 4 KiB pages. Statistics and limits follow
 * MLX's memory API. Every buffer, a GPU array's too, has its entry here,
 * so the active and peak bytes count arrays on every device; in CUDA
 * builds the cache figures and the clearing and limits take in the GPU
 * allocators as well (cuda/backend.c), and mlx_gpu_memory_stats reports
 * one GPU's own. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpu_backend.h"
#include "internal.h"

#define NUM_CLASSES 256
#define PAGE 4096u

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t active, peak, cache_bytes;
static size_t memory_limit, cache_limit;
static int limits_ready;

static size_t total_ram(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || psize <= 0) return (size_t)1 << 34;
  return (size_t)pages * (size_t)psize;
}

static void init_limits(void) {
  if (limits_ready) return;
  memory_limit = total_ram();
  cache_limit = memory_limit;
  limits_ready = 1;
}

/* Size class of n bytes and the capacity it rounds to. */
static int size_class(size_t n, size_t* cap) {
  if (n <= 64) {
    *cap = 64;
    return 0;
  }
  int e = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^e < n <= 2^(e+1) */
  size_t base = (size_t)1 << e, step = base / 4;
  size_t q = (n - base + step - 1) / step; /* 1..4 */
  *cap = base + q * step;
  int cls = 1 + (e - 6) * 4 + (int)(q - 1);
  if (*cap > (1u << 20)) *cap = (n + PAGE - 1) / PAGE * PAGE;
  return cls < NUM_CLASSES ? cls : -1;
}

/* A buffer with the link that chains it into its class's free list while
 * it sits in the cache. Every mlx_buffer_ is the head of one of these. */
typedef struct cache_entry {
  mlx_buffer_ b;
  struct cache_entry* next;
} cache_entry;

static cache_entry* lists[NUM_CLASSES];

static void free_entry(cache_entry* e) {
  free(e->b.data);
  free(e);
}

static void clear_cache_locked(void) {
  for (int c = 0; c < NUM_CLASSES; c++) {
    while (lists[c]) {
      cache_entry* e = lists[c];
      lists[c] = e->next;
      cache_bytes -= e->b.capacity;
      free_entry(e);
    }
  }
}

/* Frees cached buffers, largest classes first, until cache <= target. */
static void trim_cache_locked(size_t target) {
  for (int c = NUM_CLASSES - 1; c >= 0 && cache_bytes > target; c--) {
    while (lists[c] && cache_bytes > target) {
      cache_entry* e = lists[c];
      lists[c] = e->next;
      cache_bytes -= e->b.capacity;
      free_entry(e);
    }
  }
}

mlx_buffer_* mlx_buffer_alloc_(size_t nbytes) {
  size_t cap;
  int cls = size_class(nbytes ? nbytes : 1, &cap);
  if (cls < 0 || cap < nbytes) {
    mlx_error_(MLX_ERROR_MEMORY, "[malloc] cannot allocate %zu bytes", nbytes);
    return NULL;
  }
  pthread_mutex_lock(&lock);
  init_limits();
  cache_entry* e = NULL;
  /* Large buffers are page-rounded: reuse only an exact capacity match. */
  cache_entry** pp = &lists[cls];
  while (*pp) {
    if ((*pp)->b.capacity == cap) {
      e = *pp;
      *pp = e->next;
      cache_bytes -= cap;
      break;
    }
    pp = &(*pp)->next;
  }
  if (!e) {
    if (active + cap > memory_limit) clear_cache_locked();
    if (active + cap > memory_limit) {
      size_t a = active, l = memory_limit;
      pthread_mutex_unlock(&lock);
      mlx_error_(MLX_ERROR_MEMORY,
                 "[malloc] allocating %zu bytes would exceed the memory limit of %zu bytes (%zu in use)",
                 nbytes, l, a);
      return NULL;
    }
    e = calloc(1, sizeof *e);
    void* data = NULL;
    if (e && posix_memalign(&data, 64, cap) != 0) data = NULL;
    if (!data) {
      free(e);
      clear_cache_locked();
      e = calloc(1, sizeof *e);
      if (e && posix_memalign(&data, 64, cap) != 0) data = NULL;
      if (!data) {
        free(e);
        pthread_mutex_unlock(&lock);
        mlx_error_(MLX_ERROR_MEMORY, "[malloc] out of memory allocating %zu bytes", nbytes);
        return NULL;
      }
    }
    e->b.data = data;
    e->b.capacity = cap;
  }
  active += cap;
  if (active > peak) peak = active;
  pthread_mutex_unlock(&lock);
  e->next = NULL;
  atomic_init(&e->b.refcount, 1);
  e->b.nbytes = nbytes;
  e->b.device = mlx_device_cpu();
#ifdef MLX_HAVE_CUDA
  e->b.gpu = NULL; /* host-only until a GPU kernel reads it */
#endif
  return &e->b;
}

void mlx_buffer_retain_(mlx_buffer_* b) {
  atomic_fetch_add_explicit(&b->refcount, 1, memory_order_relaxed);
}

void mlx_buffer_release_(mlx_buffer_* b) {
  if (!b || atomic_fetch_sub_explicit(&b->refcount, 1, memory_order_acq_rel) != 1) return;
#ifdef MLX_HAVE_CUDA
  mlx_cuda_buffer_release_(b); /* its device copy goes to the device cache */
#endif
  cache_entry* e = (cache_entry*)b;
  size_t cap = b->capacity, c;
  int cls = size_class(cap, &c);
  pthread_mutex_lock(&lock);
  active -= cap;
  if (cls >= 0 && cache_bytes + cap <= cache_limit) {
    e->next = lists[cls];
    lists[cls] = e;
    cache_bytes += cap;
  } else {
    free_entry(e);
  }
  pthread_mutex_unlock(&lock);
}

size_t mlx_get_active_memory(void) {
  pthread_mutex_lock(&lock);
  size_t v = active;
  pthread_mutex_unlock(&lock);
  return v;
}

size_t mlx_get_peak_memory(void) {
  pthread_mutex_lock(&lock);
  size_t v = peak;
  pthread_mutex_unlock(&lock);
  return v;
}

void mlx_reset_peak_memory(void) {
  pthread_mutex_lock(&lock);
  peak = active;
  pthread_mutex_unlock(&lock);
#ifdef MLX_HAVE_CUDA
  mlx_cuda_memory_control_(MLX_CUDA_RESET_PEAKS_, 0);
#endif
}

size_t mlx_get_cache_memory(void) {
  pthread_mutex_lock(&lock);
  size_t v = cache_bytes;
  pthread_mutex_unlock(&lock);
#ifdef MLX_HAVE_CUDA
  v += mlx_cuda_memory_control_(MLX_CUDA_CACHE_BYTES_, 0);
#endif
  return v;
}

/* Declared in internal.h. */
size_t mlx_memory_limit_(void) {
  pthread_mutex_lock(&lock);
  init_limits();
  size_t v = memory_limit;
  pthread_mutex_unlock(&lock);
  return v;
}

int mlx_gpu_memory_stats(int index, size_t* active_bytes, size_t* peak_bytes, size_t* cache_bytes_out,
                         size_t* total_bytes) {
  if (!mlx_gpu_backend_available_())
    return mlx_error_(MLX_ERROR_DEVICE, "[gpu_memory_stats] the gpu is not available: %s",
                      mlx_gpu_backend_unavailable_reason_());
  if (index < 0 || index >= mlx_gpu_backend_device_count_())
    return mlx_error_(MLX_ERROR_ARGUMENT, "[gpu_memory_stats] gpu %d does not exist (%d available)", index,
                      mlx_gpu_backend_device_count_());
#ifdef MLX_HAVE_CUDA
  return mlx_cuda_memory_stats_(index, active_bytes, peak_bytes, cache_bytes_out, total_bytes);
#else
  return MLX_OK; /* unreachable: no GPU without the CUDA backend */
#endif
}

int mlx_set_memory_limit(size_t* prev, size_t limit) {
  pthread_mutex_lock(&lock);
  init_limits();
  if (prev) *prev = memory_limit;
  memory_limit = limit;
  pthread_mutex_unlock(&lock);
  return MLX_OK; /* the GPU allocators read it at each new block */
}

int mlx_set_cache_limit(size_t* prev, size_t limit) {
  pthread_mutex_lock(&lock);
  init_limits();
  if (prev) *prev = cache_limit;
  cache_limit = limit;
  trim_cache_locked(limit);
  pthread_mutex_unlock(&lock);
#ifdef MLX_HAVE_CUDA
  mlx_cuda_memory_control_(MLX_CUDA_SET_CACHE_LIMIT_, limit);
#endif
  return MLX_OK;
}

void mlx_clear_cache(void) {
  pthread_mutex_lock(&lock);
  clear_cache_locked();
  pthread_mutex_unlock(&lock);
#ifdef MLX_HAVE_CUDA
  mlx_cuda_memory_control_(MLX_CUDA_CLEAR_CACHES_, 0);
#endif
}
