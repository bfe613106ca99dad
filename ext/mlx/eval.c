/* Evaluation with the GVL released.
 *
 * mlx_eval_cancellable runs without the GVL (rb_nogvl), so other Ruby
 * threads go on while the engine computes. The unblocking function (called
 * by Ruby on Ctrl-C, Thread#raise, Thread#kill) sets the cancel flag, and
 * the engine stops between ops with MLX_ERROR_INTERRUPTED. Back under the GVL the
 * pending interrupt is processed: it raises (Interrupt, the Thread#raise
 * exception), or, when a trap handler just ran, evaluation resumes. */
#include <ruby/thread.h>
#include <stdlib.h>

#include "mlx_ext.h"

typedef struct {
  const mlx_array* arrays;
  size_t n;
  volatile int cancel;
  int rc;
} eval_job;

static void* eval_nogvl(void* ptr) {
  eval_job* job = ptr;
  job->rc = mlx_eval_cancellable(job->arrays, job->n, &job->cancel);
  return NULL;
}

static void eval_ubf(void* ptr) {
  ((eval_job*)ptr)->cancel = 1;
}

static VALUE check_ints(VALUE unused) {
  rb_thread_check_ints();
  return Qnil;
}

static void release_all(mlx_array* own, size_t n, mlx_array* small) {
  for (size_t i = 0; i < n; i++) mlx_array_free(own[i]);
  if (own != small) free(own);
}

/* Before evaluating a graph built from Ruby, collect the young Ruby
 * objects: the wrappers of intermediate arrays that the program already
 * dropped (`x = x * 2 + 1` leaves one per op) still hold their nodes, so
 * without this every intermediate would keep its buffer after evaluation
 * (gigabytes for a long chain) and no buffer could be donated. Python's
 * reference counting frees them before evaluation; a minor GC, run only
 * when enough arrays were wrapped since the last collection, does the same
 * here for a fraction of a millisecond.
 *
 * GPU buffers are not reported to Ruby (array.c), so wrappers that grew
 * old before dying (a training loop's previous parameters and optimizer
 * state) would wait for a full collection that Ruby's own heuristics may
 * not run for long: the collection here is a full one whenever the GPUs'
 * active memory has grown by GPU_FULL_GC_GROWTH (or 1/128 of their
 * memory), or by half of what was active after the last full collection,
 * whichever is most.
 *
 * An evaluation of GPU arrays only collects when the GPUs' memory has
 * grown by GPU_MINOR_GC_GROWTH (or 1/512 of their memory: 280 MiB on an
 * H200) since the last collection, when GPU_GC_CHAIN arrays were wrapped
 * since the last evaluation (a long chain built before its first
 * evaluation, whose intermediates would otherwise all stay), or after
 * GPU_GC_ARRAYS wrapped arrays: a small model's step (a few megabytes of
 * intermediates) then pays for a collection (0.1-0.3 ms) every few
 * hundred steps instead of every few. The growth and array thresholds
 * start at GPU_FIRST_GC_GROWTH and GPU_FIRST_GC_ARRAYS and double at each
 * such collection: the process's first collection (the dearest, a few
 * ms) comes with its first evaluation, usually a model's setup, and the
 * blocks a loop's dead arrays hold come back to the cache early, so its
 * first steps take few new blocks (about 10 us each on the H200). */
#define GC_BEFORE_EVAL_AFTER 128
#define GPU_FULL_GC_GROWTH ((size_t)512 << 20)
#define GPU_MINOR_GC_GROWTH ((size_t)64 << 20)
#define GPU_FIRST_GC_GROWTH ((size_t)4 << 20)
#define GPU_GC_CHAIN 1024
#define GPU_GC_ARRAYS 16384
#define GPU_FIRST_GC_ARRAYS 64

/* The GPUs' total memory (0 without one), read once. */
static size_t gpu_total_bytes(void) {
  static size_t total = (size_t)-1;
  if (total != (size_t)-1) return total;
  size_t sum = 0;
  int n = mlx_gpu_is_available() ? mlx_device_count(MLX_GPU) : 0;
  for (int i = 0; i < n; i++) {
    size_t t = 0;
    if (mlx_gpu_memory_stats(i, NULL, NULL, NULL, &t) == MLX_OK) sum += t;
    else mlx_clear_error();
  }
  return total = sum;
}

static size_t at_least(size_t a, size_t b) { return a > b ? a : b; }

/* Bytes in arrays on every GPU (0 without one). */
static size_t gpu_active_bytes(void) {
  size_t sum = 0;
  int n = mlx_gpu_is_available() ? mlx_device_count(MLX_GPU) : 0;
  for (int i = 0; i < n; i++) {
    size_t active = 0;
    if (mlx_gpu_memory_stats(i, &active, NULL, NULL, NULL) == MLX_OK) sum += active;
    else mlx_clear_error();
  }
  return sum;
}

/* Whether every array evaluated lives on a GPU. */
static int all_on_gpu(const mlx_array* arrays, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (mlx_array_device(arrays[i]).type != MLX_GPU) return 0;
  return 1;
}

static void collect_dead_wrappers(const mlx_array* arrays, size_t n) {
  static int started;
  static size_t last_gc_count, gpu_after_full, gpu_after_gc, at_last_eval;
  static size_t minor_growth = GPU_FIRST_GC_GROWTH, gc_arrays = GPU_FIRST_GC_ARRAYS;
  static VALUE minor = Qfalse, full = Qfalse;
  size_t count = rb_gc_count();
  if (!started) {
    /* The first evaluation: the GPUs' memory counts from 0. */
    started = 1;
    last_gc_count = count;
  } else if (count != last_gc_count) {
    /* Ruby collected on its own since we last looked. */
    last_gc_count = count;
    mlxrb_arrays_since_gc = at_last_eval = 0;
    gpu_after_gc = gpu_active_bytes();
    return;
  }
  size_t since_eval = mlxrb_arrays_since_gc - at_last_eval;
  at_last_eval = mlxrb_arrays_since_gc;
  size_t gpu;
  if (all_on_gpu(arrays, n)) {
    gpu = gpu_active_bytes();
    if (since_eval < GPU_GC_CHAIN && mlxrb_arrays_since_gc < gc_arrays &&
        !(gpu > gpu_after_gc && gpu - gpu_after_gc >= minor_growth))
      return;
    size_t most = at_least(GPU_MINOR_GC_GROWTH, gpu_total_bytes() / 512);
    minor_growth = minor_growth * 2 < most ? minor_growth * 2 : most;
    gc_arrays = gc_arrays * 2 < GPU_GC_ARRAYS ? gc_arrays * 2 : GPU_GC_ARRAYS;
  } else if (mlxrb_arrays_since_gc < GC_BEFORE_EVAL_AFTER) {
    return;
  } else {
    gpu = gpu_active_bytes();
  }
  if (minor == Qfalse) {
    minor = rb_hash_new();
    rb_hash_aset(minor, ID2SYM(rb_intern("full_mark")), Qfalse);
    rb_hash_aset(minor, ID2SYM(rb_intern("immediate_sweep")), Qtrue);
    rb_obj_freeze(minor);
    rb_gc_register_mark_object(minor);
    full = rb_hash_new();
    rb_hash_aset(full, ID2SYM(rb_intern("full_mark")), Qtrue);
    rb_hash_aset(full, ID2SYM(rb_intern("immediate_sweep")), Qtrue);
    rb_obj_freeze(full);
    rb_gc_register_mark_object(full);
  }
  size_t growth = at_least(at_least(GPU_FULL_GC_GROWTH, gpu_total_bytes() / 128), gpu_after_full / 2);
  int full_gc = gpu > gpu_after_full && gpu - gpu_after_full >= growth;
  VALUE opts = full_gc ? full : minor;
  rb_funcallv_kw(rb_mGC, rb_intern("start"), 1, &opts, RB_PASS_KEYWORDS);
  gpu_after_gc = gpu_active_bytes();
  if (full_gc || gpu < gpu_after_full) gpu_after_full = gpu_after_gc;
  last_gc_count = rb_gc_count();
  mlxrb_arrays_since_gc = at_last_eval = 0;
}

void mlxrb_eval_handles(const mlx_array* arrays, size_t n) {
  if (n == 0) return;
  collect_dead_wrappers(arrays, n);
  /* Own references for the duration: while the GVL is released another
   * thread may drop the Ruby objects that hold the caller's handles. */
  mlx_array small[8];
  mlx_array* own = n <= 8 ? small : malloc(n * sizeof *own);
  if (!own) rb_raise(mlxrb_eMemoryError, "[eval] out of memory");
  for (size_t i = 0; i < n; i++) {
    own[i] = mlx_array_new();
    mlx_array_set(&own[i], arrays[i]);
  }
  eval_job job = {own, n, 0, MLX_OK};
  for (;;) {
    job.cancel = 0;
    /* UBF_ASYNC_SAFE: the unblocking function only stores to a flag, so
     * Ruby may call it straight from its SIGINT handler; otherwise a
     * Ctrl-C reaches a thread blocked here only once evaluation ends. */
    rb_nogvl(eval_nogvl, &job, eval_ubf, &job, RB_NOGVL_UBF_ASYNC_SAFE);
    if (job.rc != MLX_ERROR_INTERRUPTED) break;
    mlx_clear_error();
    int state = 0;
    rb_protect(check_ints, Qnil, &state);
    if (state) {
      release_all(own, n, small);
      rb_jump_tag(state);
    }
    /* The interrupt was handled without raising: evaluate the rest. */
  }
  release_all(own, n, small);
  mlxrb_check(job.rc);
}

void mlxrb_eval_value(VALUE v) {
  mlx_array a = mlxrb_get(v);
  if (!mlx_array_is_evaluated(a)) mlxrb_eval_handles(&a, 1);
  mlxrb_report_memory(v);
}

typedef struct {
  mlx_stream s;
  int rc;
} sync_job;

static void* sync_nogvl(void* ptr) {
  sync_job* job = ptr;
  job->rc = mlx_synchronize(job->s);
  return NULL;
}

void mlxrb_synchronize(mlx_stream s) {
  sync_job job = {s, MLX_OK};
  rb_thread_call_without_gvl(sync_nogvl, &job, NULL, NULL);
  mlxrb_check(job.rc);
}

/* Native.eval(arrays): evaluates a flat Ruby Array of MLX arrays. */
static VALUE n_eval(VALUE mod, VALUE list) {
  long n;
  VALUE keep;
  mlx_array* arrays = mlxrb_array_list(list, &n, &keep);
  mlxrb_eval_handles(arrays, (size_t)n);
  /* Another thread may have changed the list while the GVL was released. */
  for (long i = 0; i < n && i < RARRAY_LEN(list); i++) {
    VALUE e = RARRAY_AREF(list, i);
    if (mlxrb_is_array(e)) mlxrb_report_memory(e);
  }
  RB_GC_GUARD(keep);
  return Qnil;
}

/* Native.async_eval(arrays): queues evaluation and returns at once. */
static VALUE n_async_eval(VALUE mod, VALUE list) {
  long n;
  VALUE keep;
  mlx_array* arrays = mlxrb_array_list(list, &n, &keep);
  if (n) mlxrb_check(mlx_async_eval(arrays, (size_t)n));
  RB_GC_GUARD(keep);
  return Qnil;
}

/* Array#eval: evaluates self; returns self. */
static VALUE array_eval(VALUE self) {
  mlxrb_eval_value(self);
  return self;
}

void mlxrb_init_eval(void) {
  MLXRB_DEF("eval", n_eval, 1);
  MLXRB_DEF("async_eval", n_async_eval, 1);
  rb_define_method(mlxrb_cArray, "eval", array_eval, 0);
}
