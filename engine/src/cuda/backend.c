/* The CUDA backend: device discovery (gpu_backend.h), one cudaStream_t per
 * MLX GPU stream, the caching device allocator and the two-location
 * buffers of docs/cuda.md.
 *
 * A buffer starts host-only (gpu == NULL). A GPU kernel reading it makes
 * a device copy on its own stream (mlx_cuda_in_) and keeps it; a GPU
 * kernel's output is device-only until the host reads it: then the host
 * copy is made on the writer's stream and waited for (mlx_cuda_host_sync_).
 * Each device copy remembers its writer's stream (or its upload's):
 * another stream reading it first waits for that stream, through an event
 * recorded then (no event is recorded per kernel). Data crosses the bus
 * once, and only when read on the other side; small uploads go through
 * pinned staging memory, so the host never waits for them.
 *
 * Device memory comes from a caching allocator per device (size classes
 * like the host allocator's, no managed memory) over the device's default
 * memory pool (cudaMallocAsync: the driver maps memory for many blocks at
 * once, so a cold cache costs little; the pool keeps what our cache
 * frees until mlx_clear_cache or a lower cache limit trims it). A
 * block given back remembers the last stream that used it (which first
 * waited for the others); it is reused at once on that stream (stream
 * order keeps the new writer behind the old readers) and after waiting
 * for it on any other. One mutex guards buffer states, streams and the
 * caches. */
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* cudaSetDevice, skipped when dev is already this thread's current
 * device (every kernel driver asks for its stream's device). Every device
 * switch of the backend goes through here, so the cache stays true. */
static _Thread_local int current_device = -1;
static int set_device(int dev) {
  if (dev == current_device) return MLX_OK;
  cudaError_t e = cudaSetDevice(dev);
  if (e != cudaSuccess) {
    current_device = -1;
    return mlx_cuda_check_(e, "cudaSetDevice");
  }
  current_device = dev;
  return MLX_OK;
}

/* Most bytes the pool maps ahead (at most 1/128 of the device). */
#define POOL_PRIME_BYTES ((size_t)1 << 30)

/* Blocks and the kernel drivers' scratch buffers come from the device's
 * default memory pool (cudaMallocAsync); by default the pool gives its
 * memory back at every synchronization and maps it again at the next
 * use. Keep it instead (mlx_clear_cache trims it), and map some ahead:
 * growing the pool costs about 20 us per 2 MiB block, which a cold cache
 * (the first steps of a training loop) would pay for every block. The
 * caller has made dev current. */
static void keep_pool_memory(int dev) {
  static unsigned char done[MAX_DEVICES];
  if (dev < 0 || dev >= MAX_DEVICES || done[dev]) return;
  done[dev] = 1;
  cudaMemPool_t mp;
  uint64_t keep = UINT64_MAX;
  if (cudaDeviceGetDefaultMemPool(&mp, dev) != cudaSuccess ||
      cudaMemPoolSetAttribute(mp, cudaMemPoolAttrReleaseThreshold, &keep) != cudaSuccess) {
    cudaGetLastError(); /* the pool then releases as by default */
    return;
  }
  size_t free_b = 0, total = 0;
  void* p = NULL;
  if (cudaMemGetInfo(&free_b, &total) == cudaSuccess) {
    size_t prime = total / 128 < POOL_PRIME_BYTES ? total / 128 : POOL_PRIME_BYTES;
    if (prime < free_b / 2 && cudaMallocAsync(&p, prime, 0) == cudaSuccess) {
      cudaFreeAsync(p, 0);
      cudaStreamSynchronize(0);
    }
  }
  cudaGetLastError();
}

/* The stream of MLX stream index idx on device dev, created at first use;
 * the caller holds lock. */
static int stream_locked(int idx, int dev, cudaStream_t* out) {
  if (idx < 0 || idx >= MAX_STREAMS) return mlx_error_(MLX_ERROR_ARGUMENT, "[gpu] stream index %d out of range", idx);
  if (!stream_made[idx]) {
    MLX_TRY(set_device(dev));
    keep_pool_memory(dev);
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
  if (!rc) rc = set_device(s.device.index);
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

/* Makes stream st (MLX stream index reader) wait for everything enqueued
 * so far on stream index `from`, through an event recorded on `from` now
 * (one kept per stream; a wait takes the record current at its call).
 * Recording only when another stream needs it, instead of after every
 * kernel, waits for a little more work than strictly needed and spares
 * an event record per kernel. Leaves the reader's device current. Caller
 * holds lock. */
static cudaEvent_t marks[MAX_STREAMS];
static unsigned char mark_made[MAX_STREAMS];

static int wait_for_stream_locked(cudaStream_t st, int reader, int from) {
  if (from < 0 || from >= MAX_STREAMS || !stream_made[from] || from == reader) return MLX_OK;
  MLX_TRY(set_device(stream_dev[from]));
  if (!mark_made[from]) {
    MLX_TRY(mlx_cuda_check_(cudaEventCreateWithFlags(&marks[from], cudaEventDisableTiming), "cudaEventCreate"));
    mark_made[from] = 1;
  }
  MLX_TRY(mlx_cuda_check_(cudaEventRecord(marks[from], streams[from]), "cudaEventRecord"));
  MLX_TRY(mlx_cuda_check_(cudaStreamWaitEvent(st, marks[from], 0), "cudaStreamWaitEvent"));
  return reader >= 0 && reader < MAX_STREAMS && stream_made[reader] ? set_device(stream_dev[reader]) : MLX_OK;
}

/* ---- staged uploads ------------------------------------------------------ */

/* A copy from pageable host memory makes the host wait for the copy, and
 * so for every kernel queued before it on the stream: the CPU would stop
 * running ahead of the GPU at each scalar operand or index array. Small
 * uploads are instead copied into a pinned ring (STAGE_CHUNKS chunks of
 * STAGE_CHUNK bytes) and sent from there asynchronously. A chunk serves
 * one stream at a time; when it is left, an event recorded on that
 * stream marks its copies done, and the ring waits for it only when it
 * comes round to the chunk again. Larger uploads (or no pinned memory)
 * copy from pageable memory directly. Caller holds lock. */
#define STAGE_CHUNKS 64
#define STAGE_CHUNK ((size_t)256 << 10)

static struct {
  char* base;
  int tried;
  int cur, cur_stream;
  size_t used;
  cudaEvent_t ev[STAGE_CHUNKS];
  int ev_dev[STAGE_CHUNKS]; /* the device ev was made on, -1: none yet */
  unsigned char pending[STAGE_CHUNKS];
} stage;

static void stage_init_locked(void) {
  stage.tried = 1;
  stage.cur_stream = -1;
  for (int i = 0; i < STAGE_CHUNKS; i++) stage.ev_dev[i] = -1;
  void* p = NULL;
  if (cudaHostAlloc(&p, STAGE_CHUNKS * STAGE_CHUNK, cudaHostAllocPortable) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  stage.base = p;
}

/* Leaves the current chunk: its event (made on the stream's device)
 * follows its copies; the next chunk is waited for if its last round of
 * copies may still be running. */
static int stage_next_locked(void) {
  int c = stage.cur, sidx = stage.cur_stream;
  if (sidx >= 0) {
    int dev = stream_dev[sidx];
    MLX_TRY(set_device(dev));
    if (stage.ev_dev[c] != dev) {
      if (stage.ev_dev[c] >= 0) cudaEventDestroy(stage.ev[c]);
      stage.ev_dev[c] = -1;
      MLX_TRY(mlx_cuda_check_(cudaEventCreateWithFlags(&stage.ev[c], cudaEventDisableTiming), "cudaEventCreate"));
      stage.ev_dev[c] = dev;
    }
    MLX_TRY(mlx_cuda_check_(cudaEventRecord(stage.ev[c], streams[sidx]), "cudaEventRecord"));
    stage.pending[c] = 1;
  }
  stage.cur = (c + 1) % STAGE_CHUNKS;
  stage.used = 0;
  stage.cur_stream = -1;
  if (stage.pending[stage.cur]) {
    MLX_TRY(mlx_cuda_check_(cudaEventSynchronize(stage.ev[stage.cur]), "cudaEventSynchronize"));
    stage.pending[stage.cur] = 0;
  }
  return MLX_OK;
}

static int upload_locked(void* dst, const void* src, size_t n, cudaStream_t st, int sidx, const char* what) {
  if (!stage.tried) stage_init_locked();
  if (!stage.base || n > STAGE_CHUNK)
    return mlx_cuda_check_(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, st), what);
  if (stage.cur_stream >= 0 && (stage.cur_stream != sidx || stage.used + n > STAGE_CHUNK)) {
    MLX_TRY(stage_next_locked());
    MLX_TRY(set_device(stream_dev[sidx]));
  }
  char* slot = stage.base + (size_t)stage.cur * STAGE_CHUNK + stage.used;
  memcpy(slot, src, n);
  stage.used += (n + 255) & ~(size_t)255;
  stage.cur_stream = sidx;
  return mlx_cuda_check_(cudaMemcpyAsync(dst, slot, n, cudaMemcpyHostToDevice, st), what);
}

int mlx_cuda_upload_(void* dst, const void* src, size_t n, mlx_stream s, cudaStream_t st, const char* what) {
  if (n == 0) return MLX_OK;
  pthread_mutex_lock(&lock);
  int rc = upload_locked(dst, src, n, st, s.index, what);
  pthread_mutex_unlock(&lock);
  return rc;
}

/* ---- the device allocator ----------------------------------------------- */

typedef struct block {
  void* ptr;
  size_t cap;
  int dev;
  int last_stream; /* the stream whose work must pass its release first, -1: none */
  struct block* next;
} block;

typedef struct {
  block* lists[NUM_CLASSES];
  size_t active, peak, cache;
  int used; /* a block was ever made here (the device has a context) */
} dev_pool;

static dev_pool pools[MAX_DEVICES];
/* mlx_set_cache_limit's bound on each device's cache. */
static size_t dev_cache_limit = SIZE_MAX;

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

/* Gives the default memory pool of dev back what it holds unused beyond
 * keep bytes (after the frees queued so far have run). */
static void trim_pool(int dev, size_t keep) {
  cudaMemPool_t mp;
  if (cudaDeviceGetDefaultMemPool(&mp, dev) != cudaSuccess || cudaMemPoolTrimTo(mp, keep) != cudaSuccess)
    cudaGetLastError();
}

/* Returns b's memory to the device's pool, after the work queued on the
 * last stream that used it (which waited for the others). */
static void free_block(block* b) {
  set_device(b->dev);
  cudaStream_t st = b->last_stream >= 0 ? streams[b->last_stream] : 0;
  if (cudaFreeAsync(b->ptr, st) != cudaSuccess) {
    cudaGetLastError();
    cudaStreamSynchronize(st);
    cudaFree(b->ptr);
  }
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
    if (wait_for_stream_locked(st, sidx, b->last_stream)) {
      free_block(b);
      return NULL;
    }
  } else {
    size_t limit = mlx_memory_limit_();
    if (p->active + cap > limit) clear_cache_locked(dev);
    if (p->active + cap > limit) {
      mlx_error_(MLX_ERROR_MEMORY,
                 "[gpu] allocating %zu bytes on gpu %d would exceed the memory limit of %zu bytes (%zu in use)", n,
                 dev, limit, p->active);
      return NULL;
    }
    b = calloc(1, sizeof *b);
    if (!b) {
      mlx_error_(MLX_ERROR_MEMORY, "[gpu] out of host memory");
      return NULL;
    }
    set_device(dev);
    keep_pool_memory(dev);
    p->used = 1;
    cudaError_t e = cudaMallocAsync(&b->ptr, cap, st);
    if (e == cudaErrorMemoryAllocation) {
      /* Give the cache and the pool's spare memory back, try once more. */
      cudaGetLastError();
      clear_cache_locked(dev);
      cudaDeviceSynchronize();
      trim_pool(dev, 0);
      e = cudaMallocAsync(&b->ptr, cap, st);
    }
    if (e != cudaSuccess) {
      free(b);
      mlx_cuda_check_(e, "cudaMallocAsync");
      mlx_error_(MLX_ERROR_MEMORY, "[gpu] cannot allocate %zu bytes on gpu %d (%zu in use)", n, dev, p->active);
      return NULL;
    }
    b->cap = cap;
    b->dev = dev;
  }
  b->last_stream = -1;
  b->next = NULL;
  p->active += cap;
  if (p->active > p->peak) p->peak = p->active;
  return b;
}

/* Caches b for reuse after every use so far: the last stream that used it
 * first waits for the others, and a later user on another stream waits
 * for the last one (wait_for_stream_locked, at reuse). */
static void dev_free_locked(block* b, int last, const uint64_t* used) {
  dev_pool* p = &pools[b->dev];
  p->active -= b->cap;
  set_device(b->dev);
  int rec = last >= 0 && last < MAX_STREAMS && stream_made[last];
  if (rec) {
    for (int i = 0; i < MAX_STREAMS; i++) {
      if (!used[i / 64]) { /* no stream of this word: skip it */
        i += 63;
        continue;
      }
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
  }
  b->last_stream = rec ? last : -1;
  size_t c;
  int cls = size_class(b->cap, &c);
  if (cls < 0 || p->cache + b->cap > dev_cache_limit) {
    int dev = b->dev;
    free_block(b);
    cudaStreamSynchronize(rec ? streams[last] : 0);
    trim_pool(dev, 0);
    return;
  }
  b->next = p->lists[cls];
  p->lists[cls] = b;
  p->cache += b->cap;
}

/* Frees cached blocks of dev, largest classes first, until its cache is
 * at most target (cudaFree waits for the device). Caller holds lock. */
static void trim_cache_locked(int dev, size_t target) {
  dev_pool* p = &pools[dev];
  for (int c = NUM_CLASSES - 1; c >= 0 && p->cache > target; c--) {
    while (p->lists[c] && p->cache > target) {
      block* b = p->lists[c];
      p->lists[c] = b->next;
      p->cache -= b->cap;
      free_block(b);
    }
  }
}

/* Declared in hooks.h. */
int mlx_cuda_memory_stats_(int dev, size_t* active, size_t* peak, size_t* cache, size_t* total) {
  if (dev < 0 || dev >= MAX_DEVICES) return mlx_error_(MLX_ERROR_ARGUMENT, "[gpu] device %d out of range", dev);
  pthread_mutex_lock(&lock);
  dev_pool* p = &pools[dev];
  if (active) *active = p->active;
  if (peak) *peak = p->peak;
  if (cache) *cache = p->cache;
  pthread_mutex_unlock(&lock);
  if (total) {
    struct cudaDeviceProp prop;
    MLX_TRY(mlx_cuda_check_(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties"));
    *total = prop.totalGlobalMem;
  }
  return MLX_OK;
}

/* Declared in hooks.h. */
size_t mlx_cuda_memory_control_(int what, size_t limit) {
  size_t bytes = 0;
  pthread_mutex_lock(&lock);
  if (what == MLX_CUDA_SET_CACHE_LIMIT_) dev_cache_limit = limit;
  for (int dev = 0; dev < MAX_DEVICES; dev++) {
    dev_pool* p = &pools[dev];
    if (!p->used) continue;
    switch (what) {
      case MLX_CUDA_CACHE_BYTES_: bytes += p->cache; break;
      case MLX_CUDA_RESET_PEAKS_: p->peak = p->active; break;
      case MLX_CUDA_SET_CACHE_LIMIT_:
        set_device(dev);
        trim_cache_locked(dev, limit);
        cudaDeviceSynchronize();
        trim_pool(dev, 0);
        break;
      default: { /* MLX_CUDA_CLEAR_CACHES_ */
        set_device(dev);
        clear_cache_locked(dev);
        cudaDeviceSynchronize();
        trim_pool(dev, 0);
      }
    }
  }
  pthread_mutex_unlock(&lock);
  return bytes;
}

/* ---- buffers in two places ---------------------------------------------- */

typedef struct {
  block* blk;        /* device copy, NULL until one is made */
  unsigned char host_valid, dev_valid;
  int ready_stream;  /* the stream of the device copy's writer (or upload), -1: none */
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
      rc = upload_locked(g->blk->ptr, b->data, b->nbytes, st, s.index, "upload (cudaMemcpyAsync)");
    if (!rc) {
      g->ready_stream = s.index;
      g->dev_valid = 1;
    }
  } else if (!rc && g->ready_stream != s.index) {
    rc = wait_for_stream_locked(st, s.index, g->ready_stream);
  }
  if (!rc) {
    mark_use(g, s.index);
    *ptr = (const char*)g->blk->ptr + n->offset * (int64_t)mlx_dtype_size(n->dtype);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

int mlx_cuda_wait_ready_(mlx_node_* const* nodes, size_t n) {
  /* each writer stream once: an eval of a model's parameters has
   * hundreds of arrays, mostly from one stream */
  uint64_t seen[MAX_STREAMS / 64] = {0};
  int wait[MAX_STREAMS], nwait = 0;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < n; i++) {
    mlx_buffer_* b = nodes[i]->buf;
    gbuf* g = b ? b->gpu : NULL;
    int sidx = g && g->dev_valid && !g->host_valid ? g->ready_stream : -1;
    if (sidx < 0 || (seen[sidx / 64] >> (sidx % 64) & 1)) continue;
    seen[sidx / 64] |= (uint64_t)1 << (sidx % 64);
    wait[nwait++] = sidx;
  }
  pthread_mutex_unlock(&lock);
  for (int k = 0; k < nwait; k++) MLX_TRY(mlx_cuda_synchronize_(wait[k], -1));
  return MLX_OK;
}

int mlx_cuda_host_scalar_(const mlx_node_* n, void* val) {
  mlx_buffer_* b = n->buf;
  if (n->size != 1 || !b || !b->data) return 0;
  int host = 1;
  if (b->gpu) {
    pthread_mutex_lock(&lock);
    host = ((gbuf*)b->gpu)->host_valid;
    pthread_mutex_unlock(&lock);
  }
  if (host) {
    size_t sz = mlx_dtype_size(n->dtype);
    memcpy(val, (const char*)b->data + n->offset * (int64_t)sz, sz);
  }
  return host;
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
    g->ready_stream = s.index; /* its kernel is enqueued next, before any reader */
    mark_use(g, s.index);
    *ptr = g->blk->ptr;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

int mlx_cuda_begin_(mlx_node_* out, cudaStream_t* st, void** dst) {
  MLX_TRY(mlx_cuda_stream_(out->stream, st));
  return mlx_cuda_out_(out, out->stream, dst);
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
    set_device(g->blk->dev);
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
  pthread_mutex_unlock(&lock);
  free(g);
}
