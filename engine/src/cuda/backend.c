/* The CUDA backend: device discovery (gpu_backend.h), one cudaStream_t per
 * MLX GPU stream, the caching device allocator and the two-location
 * buffers of docs/cuda.md.
 *
 * A buffer starts host-only (gpu == NULL). A GPU kernel reading it makes
 * a device copy on its own stream (mlx_cuda_in_) and keeps it; a GPU
 * kernel's output is device-only until the host reads it: then the host
 * copy is made on the writer's stream and waited for (mlx_cuda_host_sync_).
 * Each device copy carries the event recorded after its writer (or after
 * its upload): another stream waits on it before reading. Data crosses the
 * bus once, and only when read on the other side.
 *
 * Device memory comes from a caching allocator per device (size classes
 * like the host allocator's, cudaMalloc underneath, no managed memory). A
 * block given back carries an event recorded on every stream that used it;
 * it is reused at once on the stream that recorded it (stream order keeps
 * the new writer behind the old readers) and after a cudaStreamWaitEvent
 * on any other. One mutex guards buffer states, streams and the caches. */
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../gpu_backend.h"
#include "backend.h"

#define MAX_DEVICES 16
#define MAX_STREAMS 1024 /* device.c's limit on stream indices */
#define NUM_CLASSES 256

/* ---- discovery ---------------------------------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int ndevices;
static char reason[256];

static void probe(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    snprintf(reason, sizeof reason, "no usable CUDA device: cudaGetDeviceCount failed: %s (%s)", cudaGetErrorString(e),
             cudaGetErrorName(e));
    cudaGetLastError();
    return;
  }
  if (n <= 0) {
    snprintf(reason, sizeof reason, "no CUDA device found");
    return;
  }
  ndevices = n > MAX_DEVICES ? MAX_DEVICES : n;
}

int mlx_gpu_backend_available_(void) {
  pthread_once(&probe_once, probe);
  return ndevices > 0;
}

const char* mlx_gpu_backend_unavailable_reason_(void) {
  pthread_once(&probe_once, probe);
  return ndevices > 0 ? "" : reason;
}

int mlx_gpu_backend_device_count_(void) {
  pthread_once(&probe_once, probe);
  return ndevices;
}

/* ---- streams ------------------------------------------------------------ */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cudaStream_t streams[MAX_STREAMS];
static int stream_dev[MAX_STREAMS];
static unsigned char stream_made[MAX_STREAMS];

int mlx_cuda_check_(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return MLX_OK;
  cudaGetLastError(); /* clears a sticky-free error so later calls see their own */
  return mlx_error_(e == cudaErrorMemoryAllocation ? MLX_ERROR_MEMORY : MLX_ERROR_DEVICE, "[gpu] %s failed: %s (%s)",
                    what, cudaGetErrorString(e), cudaGetErrorName(e));
}

/* The stream of MLX stream index idx on device dev, created at first use;
 * the caller holds lock. */
static int stream_locked(int idx, int dev, cudaStream_t* out) {
  if (idx < 0 || idx >= MAX_STREAMS) return mlx_error_(MLX_ERROR_ARGUMENT, "[gpu] stream index %d out of range", idx);
  if (!stream_made[idx]) {
    MLX_TRY(mlx_cuda_check_(cudaSetDevice(dev), "cudaSetDevice"));
    MLX_TRY(mlx_cuda_check_(cudaStreamCreateWithFlags(&streams[idx], cudaStreamNonBlocking), "cudaStreamCreate"));
    stream_dev[idx] = dev;
    stream_made[idx] = 1;
  }
  *out = streams[idx];
  return MLX_OK;
}

int mlx_cuda_stream_(mlx_stream s, cudaStream_t* out) {
  pthread_mutex_lock(&lock);
  int rc = stream_locked(s.index, s.device.index, out);
  if (!rc) rc = mlx_cuda_check_(cudaSetDevice(s.device.index), "cudaSetDevice");
  pthread_mutex_unlock(&lock);
  return rc;
}

int mlx_cuda_synchronize_(int idx, int device) {
  (void)device;
  pthread_mutex_lock(&lock);
  int made = idx >= 0 && idx < MAX_STREAMS && stream_made[idx];
  cudaStream_t st = made ? streams[idx] : NULL;
  pthread_mutex_unlock(&lock);
  if (!made) return MLX_OK;
  return mlx_cuda_check_(cudaStreamSynchronize(st), "cudaStreamSynchronize");
}

/* ---- the device allocator ----------------------------------------------- */

typedef struct block {
  void* ptr;
  size_t cap;
  int dev;
  cudaEvent_t ev; /* recorded when the block was given back */
  int ev_stream;  /* the stream that recorded it, -1: none */
  struct block* next;
} block;

typedef struct {
  block* lists[NUM_CLASSES];
  size_t active, peak, cache;
} dev_pool;

static dev_pool pools[MAX_DEVICES];

static int size_class(size_t n, size_t* cap) {
  if (n <= 256) {
    *cap = 256;
    return 0;
  }
  int e = 63 - __builtin_clzll((unsigned long long)(n - 1));
  size_t base = (size_t)1 << e, step = base / 4;
  size_t q = (n - base + step - 1) / step;
  *cap = base + q * step;
  int cls = 1 + (e - 8) * 4 + (int)(q - 1);
  if (*cap > ((size_t)1 << 21)) *cap = (n + ((size_t)1 << 21) - 1) / ((size_t)1 << 21) * ((size_t)1 << 21);
  return cls < NUM_CLASSES ? cls : -1;
}

static void free_block(block* b) {
  cudaSetDevice(b->dev);
  cudaFree(b->ptr);
  cudaEventDestroy(b->ev);
  free(b);
}

static void clear_cache_locked(int dev) {
  dev_pool* p = &pools[dev];
  for (int c = 0; c < NUM_CLASSES; c++) {
    while (p->lists[c]) {
      block* b = p->lists[c];
      p->lists[c] = b->next;
      p->cache -= b->cap;
      free_block(b);
    }
  }
}

/* A block of at least n bytes on dev for use on stream st (index sidx),
 * or NULL with the error set. Caller holds lock. */
static block* dev_alloc_locked(int dev, size_t n, cudaStream_t st, int sidx) {
  size_t cap;
  int cls = size_class(n ? n : 1, &cap);
  dev_pool* p = &pools[dev];
  block* b = NULL;
  if (cls >= 0) {
    for (block** pp = &p->lists[cls]; *pp; pp = &(*pp)->next) {
      if ((*pp)->cap == cap) {
        b = *pp;
        *pp = b->next;
        p->cache -= cap;
        break;
      }
    }
  }
  if (b) {
    if (b->ev_stream >= 0 && b->ev_stream != sidx && mlx_cuda_check_(cudaStreamWaitEvent(st, b->ev, 0), "cudaStreamWaitEvent")) {
      free_block(b);
      return NULL;
    }
  } else {
    b = calloc(1, sizeof *b);
    if (!b) {
      mlx_error_(MLX_ERROR_MEMORY, "[gpu] out of host memory");
      return NULL;
    }
    cudaSetDevice(dev);
    cudaError_t e = cudaMalloc(&b->ptr, cap);
    if (e == cudaErrorMemoryAllocation) {
      /* Give the cache back and try once more. */
      cudaGetLastError();
      clear_cache_locked(dev);
      e = cudaMalloc(&b->ptr, cap);
    }
    if (e != cudaSuccess) {
      free(b);
      mlx_cuda_check_(e, "cudaMalloc");
      mlx_error_(MLX_ERROR_MEMORY, "[gpu] cannot allocate %zu bytes on gpu %d (%zu in use)", n, dev, p->active);
      return NULL;
    }
    if (mlx_cuda_check_(cudaEventCreateWithFlags(&b->ev, cudaEventDisableTiming), "cudaEventCreate")) {
      cudaFree(b->ptr);
      free(b);
      return NULL;
    }
    b->cap = cap;
    b->dev = dev;
  }
  b->ev_stream = -1;
  b->next = NULL;
  p->active += cap;
  if (p->active > p->peak) p->peak = p->active;
  return b;
}

/* Caches b once every use so far is done: its event is recorded on the
 * last stream that used it, after that stream waited for the others. */
static void dev_free_locked(block* b, int last, const uint64_t* used) {
  dev_pool* p = &pools[b->dev];
  p->active -= b->cap;
  cudaSetDevice(b->dev);
  int rec = last >= 0 && last < MAX_STREAMS && stream_made[last];
  if (rec) {
    for (int i = 0; i < MAX_STREAMS; i++) {
      if (i == last || !(used[i / 64] >> (i % 64) & 1u) || !stream_made[i]) continue;
      cudaEvent_t tmp;
      if (cudaEventCreateWithFlags(&tmp, cudaEventDisableTiming) == cudaSuccess) {
        cudaEventRecord(tmp, streams[i]);
        cudaStreamWaitEvent(streams[last], tmp, 0);
        cudaEventDestroy(tmp);
      } else {
        cudaStreamSynchronize(streams[i]);
      }
    }
    cudaEventRecord(b->ev, streams[last]);
  }
  b->ev_stream = rec ? last : -1;
  size_t c;
  int cls = size_class(b->cap, &c);
  if (cls < 0) {
    cudaStreamSynchronize(rec ? streams[last] : 0);
    free_block(b);
    return;
  }
  b->next = p->lists[cls];
  p->lists[cls] = b;
  p->cache += b->cap;
}

void mlx_cuda_memory_stats_(int dev, size_t* active, size_t* peak, size_t* cache) {
  pthread_mutex_lock(&lock);
  dev_pool* p = &pools[dev >= 0 && dev < MAX_DEVICES ? dev : 0];
  if (active) *active = p->active;
  if (peak) *peak = p->peak;
  if (cache) *cache = p->cache;
  pthread_mutex_unlock(&lock);
}

void mlx_cuda_clear_cache_(int dev) {
  pthread_mutex_lock(&lock);
  if (dev >= 0 && dev < MAX_DEVICES) {
    cudaSetDevice(dev);
    cudaDeviceSynchronize();
    clear_cache_locked(dev);
  }
  pthread_mutex_unlock(&lock);
}

/* ---- buffers in two places ---------------------------------------------- */

typedef struct {
  block* blk;        /* device copy, NULL until one is made */
  unsigned char host_valid, dev_valid;
  unsigned char pending; /* written by the kernel being run: event not yet recorded */
  unsigned char ready_set;
  cudaEvent_t ready; /* after the device copy's writer (or upload) */
  int ready_stream;
  int last_stream;   /* the last stream that used the device copy */
  uint64_t used[MAX_STREAMS / 64];
} gbuf;

static gbuf* state_locked(mlx_buffer_* b) {
  if (!b->gpu) {
    gbuf* g = calloc(1, sizeof *g);
    if (!g) {
      mlx_error_(MLX_ERROR_MEMORY, "[gpu] out of host memory");
      return NULL;
    }
    g->host_valid = 1;
    g->ready_stream = g->last_stream = -1;
    b->gpu = g;
  }
  return b->gpu;
}

static void mark_use(gbuf* g, int sidx) {
  g->last_stream = sidx;
  g->used[sidx / 64] |= (uint64_t)1 << (sidx % 64);
}

static int record_ready(gbuf* g, cudaStream_t st, int sidx) {
  if (!g->ready_set) {
    MLX_TRY(mlx_cuda_check_(cudaEventCreateWithFlags(&g->ready, cudaEventDisableTiming), "cudaEventCreate"));
    g->ready_set = 1;
  }
  g->ready_stream = sidx;
  return mlx_cuda_check_(cudaEventRecord(g->ready, st), "cudaEventRecord");
}

int mlx_cuda_in_(const mlx_node_* n, mlx_stream s, const void** ptr) {
  mlx_buffer_* b = n->buf;
  cudaStream_t st = NULL;
  pthread_mutex_lock(&lock);
  int rc = stream_locked(s.index, s.device.index, &st);
  gbuf* g = rc ? NULL : state_locked(b);
  if (!rc && !g) rc = mlx_last_error_code();
  if (!rc && !g->dev_valid) {
    if (!g->blk) g->blk = dev_alloc_locked(s.device.index, b->nbytes, st, s.index);
    if (!g->blk) rc = mlx_last_error_code();
    if (!rc && b->nbytes)
      rc = mlx_cuda_check_(cudaMemcpyAsync(g->blk->ptr, b->data, b->nbytes, cudaMemcpyHostToDevice, st),
                           "upload (cudaMemcpyAsync)");
    if (!rc) rc = record_ready(g, st, s.index);
    if (!rc) g->dev_valid = 1;
  } else if (!rc && g->ready_set && g->ready_stream != s.index) {
    rc = mlx_cuda_check_(cudaStreamWaitEvent(st, g->ready, 0), "cudaStreamWaitEvent");
  }
  if (!rc) {
    mark_use(g, s.index);
    *ptr = (const char*)g->blk->ptr + n->offset * (int64_t)mlx_dtype_size(n->dtype);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

int mlx_cuda_out_(mlx_node_* out, mlx_stream s, void** ptr) {
  MLX_TRY(mlx_node_alloc_(out));
  mlx_buffer_* b = out->buf;
  /* The host copy is not current: CPU-side donation must not take it. */
  b->device = s.device;
  cudaStream_t st = NULL;
  pthread_mutex_lock(&lock);
  int rc = stream_locked(s.index, s.device.index, &st);
  gbuf* g = rc ? NULL : state_locked(b);
  if (!rc && !g) rc = mlx_last_error_code();
  if (!rc) {
    g->blk = dev_alloc_locked(s.device.index, b->nbytes, st, s.index);
    if (!g->blk) rc = mlx_last_error_code();
  }
  if (!rc) {
    g->host_valid = 0;
    g->dev_valid = 1;
    g->pending = 1;
    mark_use(g, s.index);
    *ptr = g->blk->ptr;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

void mlx_cuda_record_outputs_(int sidx, mlx_node_** outs, int nout) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nout; i++) {
    mlx_buffer_* b = outs[i]->buf;
    gbuf* g = b ? b->gpu : NULL;
    if (!g || !g->pending || sidx < 0 || sidx >= MAX_STREAMS || !stream_made[sidx]) continue;
    g->pending = 0;
    record_ready(g, streams[sidx], sidx);
  }
  pthread_mutex_unlock(&lock);
}

int mlx_cuda_host_sync_(mlx_node_* n) {
  mlx_buffer_* b = n->buf;
  if (!b || !b->gpu) return MLX_OK;
  pthread_mutex_lock(&lock);
  gbuf* g = b->gpu;
  int rc = MLX_OK;
  if (!g->host_valid) {
    int sidx = g->ready_stream;
    cudaStream_t st = sidx >= 0 ? streams[sidx] : 0;
    cudaSetDevice(g->blk->dev);
    if (b->nbytes)
      rc = mlx_cuda_check_(cudaMemcpyAsync(b->data, g->blk->ptr, b->nbytes, cudaMemcpyDeviceToHost, st),
                           "download (cudaMemcpyAsync)");
    if (!rc) rc = mlx_cuda_check_(cudaStreamSynchronize(st), "gpu kernel (seen at cudaStreamSynchronize)");
    if (!rc) g->host_valid = 1;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

void mlx_cuda_host_written_(mlx_buffer_* b) {
  if (!b->gpu) return;
  pthread_mutex_lock(&lock);
  gbuf* g = b->gpu;
  g->dev_valid = 0;
  g->host_valid = 1;
  pthread_mutex_unlock(&lock);
}

void mlx_cuda_buffer_release_(mlx_buffer_* b) {
  gbuf* g = b->gpu;
  if (!g) return;
  b->gpu = NULL;
  pthread_mutex_lock(&lock);
  if (g->blk) dev_free_locked(g->blk, g->last_stream, g->used);
  if (g->ready_set) cudaEventDestroy(g->ready);
  pthread_mutex_unlock(&lock);
  free(g);
}
