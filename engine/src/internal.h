/* Engine internals shared across files: the graph node, the op that
 * produces it, buffers, the primitive table entry and the helpers kernels
 * use. Names that cross files end in '_'. Not installed. */
#ifndef MLX_INTERNAL_H
#define MLX_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "mlx/mlx.h"

/* ---- errors ------------------------------------------------------------ */
/* Records code and a printf-style message for this thread; returns code. */
int mlx_error_(int code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
#define MLX_TRY(expr)          \
  do {                         \
    int mlx_try_rc_ = (expr);  \
    if (mlx_try_rc_) return mlx_try_rc_; \
  } while (0)

/* ---- buffers ----------------------------------------------------------- */
typedef struct mlx_buffer_ {
  atomic_int refcount;
  void* data;        /* 64-byte aligned */
  size_t nbytes;     /* bytes asked for */
  size_t capacity;   /* bytes of the allocator's size class */
  mlx_device device;
#ifdef MLX_HAVE_CUDA
  /* CUDA backend (cuda/backend.c): NULL for a host-only buffer, else its
   * device copy and which copies are current. */
  void* gpu;
#endif
} mlx_buffer_;

/* The memory limit set through mlx_set_memory_limit (total RAM until
 * then): the GPU allocators bound their devices' active bytes by it. */
size_t mlx_memory_limit_(void);
/* A new buffer of nbytes with refcount 1, or NULL with the error set
 * (MLX_ERROR_MEMORY over the memory limit or when malloc fails). */
mlx_buffer_* mlx_buffer_alloc_(size_t nbytes);
void mlx_buffer_retain_(mlx_buffer_* b);
/* Drops a reference; the last one returns the memory to the cache. */
void mlx_buffer_release_(mlx_buffer_* b);

/* ---- nodes and ops ----------------------------------------------------- */
#define MLX_INLINE_NDIM 6

enum {
  MLX_FLAG_ROW_CONTIG = 1u, /* dense, row-major, starting at the data ptr */
  MLX_FLAG_COL_CONTIG = 2u, /* dense, column-major */
  MLX_FLAG_CONTIG = 4u      /* dense in some order (data_size == size) */
};

typedef struct mlx_op_ mlx_op_;

typedef struct mlx_node_ {
  atomic_int refcount;
  mlx_dtype dtype;
  int ndim;
  int64_t size;
  int64_t* shape;   /* ndim entries, fixed at construction */
  int64_t* strides; /* element strides, valid once evaluated */
  int64_t shape_inline[MLX_INLINE_NDIM];
  int64_t strides_inline[MLX_INLINE_NDIM];
  /* Layout, valid once evaluated. */
  mlx_buffer_* buf;
  int64_t offset;    /* elements from buf->data to element 0 */
  int64_t data_size; /* elements of the buffer this array spans */
  unsigned flags;
  /* The op that computes this node. Dropped once evaluated, except for
   * tracer nodes (inside a transform), whose graph the transform still
   * needs. */
  mlx_op_* _Atomic op;
  atomic_int evaluated; /* 1 once buf and layout are set */
  int out_index;
  unsigned char tracer; /* derived from a transform's traced inputs */
  mlx_stream stream;
} mlx_node_;

/* A kernel: computes outs[0..nout) from ins[0..nin). It must give each
 * output a buffer (mlx_node_alloc_, a view of an input, or a donation) and
 * its strides/flags. Returns a status with the error set. */
typedef int (*mlx_kernel_fn_)(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

/* Transform rules of a primitive. Arrays passed in are borrowed handles to
 * the op's nodes; results are new handles the rule writes (an empty handle
 * in a vjp/jvp result means "zero"). s is the op's stream.
 *
 * vjp: in_cots[k] = cotangent of inputs[argnums[k]], given cots[i] for
 *      each output (never empty: the driver fills zeros).
 * jvp: out_tans[i] = tangent of output i, given tangents[k] of
 *      inputs[argnums[k]] (inputs not listed have zero tangent).
 * vmap: outs[i] and out_axes[i] for batched inputs; in_axes[k] is the
 *      batch axis of inputs[k] or -1 when it is not batched. */
typedef int (*mlx_vjp_rule_)(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                             const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                             mlx_stream s);
typedef int (*mlx_jvp_rule_)(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                             const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                             mlx_stream s);
typedef int (*mlx_vmap_rule_)(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                              int nout, const void* params, mlx_stream s);

/* An output_shapes rule: writes shapes[i] (capacity cap dims) and ndims[i]
 * for each output of the op on inputs ins with these params; an error
 * (MLX_ERROR_SHAPE) when the inputs' shapes do not fit the op. */
typedef int (*mlx_shape_rule_)(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                               const void* params);

/* A primitive's .gpu entry: the kernel in CUDA builds, NULL (so "not
 * implemented on gpu") otherwise, where the CUDA kernels do not exist. */
#ifdef MLX_HAVE_CUDA
#include "cuda/hooks.h"
#define MLX_GPU_KERNEL_(k) (k)
#else
#define MLX_GPU_KERNEL_(k) NULL
#endif

/* One entry of the primitive table: name, kernels per device, and the
 * transform rules (NULL: the transform fails with a clear error). */
typedef struct mlx_prim_ {
  const char* name;
  mlx_kernel_fn_ cpu;
  mlx_kernel_fn_ gpu; /* NULL: "not implemented on gpu" */
  mlx_vjp_rule_ vjp;
  mlx_jvp_rule_ jvp;
  mlx_vmap_rule_ vmap;
  /* Releases what params own when the op is freed (NULL: params are plain
   * data). An op takes that ownership only once recorded successfully. */
  void (*params_free)(void* params);
  /* Output shapes from the inputs (NULL: unknown). compile's shapeless
   * mode replays a traced tape for new input shapes only when every op of
   * it has this rule. */
  mlx_shape_rule_ output_shapes;
} mlx_prim_;

/* The registry of primitives by name (prim_registry.c), for reading
 * graphs back from files. Every primitive is registered at load time by
 * putting MLX_REGISTER_PRIM(prim_x); after its definition at file scope.
 * Names are unique across the engine. */
void mlx_prim_register_(const mlx_prim_* p);
/* The primitive named name, or NULL. */
const mlx_prim_* mlx_prim_find_(const char* name);
int mlx_prim_count_(void);
const mlx_prim_* mlx_prim_at_(int i);
#define MLX_REGISTER_PRIM(p) \
  __attribute__((constructor)) static void mlx_register_##p(void) { mlx_prim_register_(&p); }

/* The output_shapes rule of elementwise prims (one output, the broadcast
 * of all inputs' shapes). */
int mlx_elementwise_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                            const void* params);

/* Shared rules for primitives that are not differentiable (comparisons,
 * argmax, integer results, random bits): zero cotangents and tangents, as
 * upstream MLX gives. */
int mlx_vjp_zero_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_jvp_zero_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);

/* Nesting depth of transforms being traced (any thread). While non-zero,
 * tracer nodes keep their graph after evaluation and are never donated. */
extern atomic_int mlx_tracing_depth_;
static inline int mlx_keeps_graph_(const mlx_node_* n) {
  return n->tracer && atomic_load_explicit(&mlx_tracing_depth_, memory_order_relaxed) > 0;
}

struct mlx_op_ {
  atomic_int refcount; /* one per output node still attached */
  const mlx_prim_* prim;
  mlx_stream stream;
  int ninputs;
  int noutputs;
  mlx_node_** inputs;  /* strong references */
  mlx_node_** outputs; /* weak: cleared when an output node dies */
  void* lock;          /* pthread mutex guarding outputs (nout > 1 only) */
  uint64_t visit;      /* evaluation generation that last visited it */
  int tape_pos;        /* its index in the tape being planned (cuda/fuse.c) */
  size_t params_size;
  void* params;        /* POD, copied at construction */
  /* Output descriptors, kept (nout > 1 only) so an output that died before
   * evaluation can be recomputed into a scratch node. */
  mlx_dtype* out_dtypes;
  int* out_ndims;
  int64_t** out_shapes;
};

#define MLX_NODE(a) ((mlx_node_*)(a).ctx)
/* Row-major data pointer of an evaluated node as T*. */
#define MLX_DATA(n, T) ((T*)((char*)(n)->buf->data + (n)->offset * (int64_t)mlx_dtype_size((n)->dtype)))

/* A fresh unevaluated node with the given dtype and shape (refcount 1), or
 * NULL with the error set. */
mlx_node_* mlx_node_new_(mlx_dtype dtype, const int64_t* shape, int ndim);
void mlx_node_retain_(mlx_node_* n);
/* Drops a reference. Frees iteratively, so releasing the head of a chain of
 * 10^6 nodes does not recurse. */
void mlx_node_release_(mlx_node_* n);
/* Drops an output node's reference on its op (freeing it, and releasing
 * its inputs, with the last one). */
void mlx_op_release_(mlx_op_* op);
/* Wraps a node in a handle, taking ownership of one reference. */
static inline mlx_array mlx_wrap_(mlx_node_* n) {
  mlx_array a = {n};
  return a;
}

/* Records an op with nout outputs. params (params_size bytes, POD) are
 * copied. On success each res[i] gets a new handle (its previous content is
 * released). inputs are borrowed (the op takes its own references). */
int mlx_op_record_(
    mlx_array* res,
    int nout,
    const mlx_prim_* prim,
    const void* params,
    size_t params_size,
    mlx_node_* const* inputs,
    int nin,
    const mlx_dtype* dtypes,
    const int64_t* const* shapes,
    const int* ndims,
    mlx_stream s);
/* The single-output form of mlx_op_record_. */
int mlx_op1_(
    mlx_array* res,
    const mlx_prim_* prim,
    const void* params,
    size_t params_size,
    mlx_node_* const* inputs,
    int nin,
    mlx_dtype dtype,
    const int64_t* shape,
    int ndim,
    mlx_stream s);

/* Replaces *res by a new handle to n (taking n's reference). */
void mlx_set_result_(mlx_array* res, mlx_node_* n);
/* Checks that handles are non-empty; the op name goes into the message. */
int mlx_check_array_(const mlx_array a, const char* op);
/* Resolves MLX_DEFAULT_STREAM and checks the device is usable. */
int mlx_resolve_stream_(mlx_stream* out, mlx_stream s, const char* op);
/* Evaluates one node (convenience around mlx_eval). */
int mlx_eval_node_(mlx_node_* n);

/* ---- layout helpers for kernels ---------------------------------------- */
/* Row-major strides for shape. */
void mlx_row_strides_(int64_t* strides, const int64_t* shape, int ndim);
/* Contiguity flags and spanned data size of a layout. */
unsigned mlx_layout_flags_(const int64_t* shape, const int64_t* strides, int ndim, int64_t* data_size);
/* Gives out a new row-major buffer of its size. */
int mlx_node_alloc_(mlx_node_* out);
/* Makes out a view of in's buffer with the given layout (offset in
 * elements from in's buffer start). */
void mlx_node_set_view_(mlx_node_* out, const mlx_node_* in, int64_t offset, const int64_t* strides);
/* Gives out in's buffer when in may be donated (same itemsize, row
 * contiguous, referenced only by the running op), else a new buffer.
 * Returns 1 through *donated when the buffer was donated. */
int mlx_node_donate_or_alloc_(mlx_node_* out, mlx_node_* in, int* donated);
/* 1 once the node has been computed. */
static inline int mlx_node_evaluated_(const mlx_node_* n) {
  return atomic_load_explicit(&n->evaluated, memory_order_acquire);
}
/* Element count of a shape with overflow checks: -1 and error on overflow
 * or a negative dim. */
int mlx_shape_size_(int64_t* size, const int64_t* shape, int ndim, const char* op);
/* Normalizes a possibly negative axis for ndim dims; error if out of range. */
int mlx_normalize_axis_(int* axis, int ndim, const char* op);
/* The broadcast shape of a and b into out (capacity max(andim, bndim)). */
int mlx_broadcast_shape_(int64_t* out, int* out_ndim, const int64_t* a, int andim, const int64_t* b, int bndim, const char* op);

/* Converts n elements of a strided source into a row-major destination of
 * another dtype (src_strides in elements; shape/ndim describe both). */
void mlx_copy_cast_(
    void* dst,
    mlx_dtype dst_dtype,
    const void* src,
    mlx_dtype src_dtype,
    const int64_t* shape,
    const int64_t* src_strides,
    int ndim);
/* Evaluated node -> row-major dense copy in dst (dtype dst_dtype). */
void mlx_node_copy_to_(void* dst, mlx_dtype dst_dtype, const mlx_node_* n);

/* ---- transforms -------------------------------------------------------- */
/* Borrowed node i of a list (no bounds check). */
mlx_node_* mlx_vector_node_(const mlx_vector_array v, size_t i);
/* Takes a new reference on a closure (released by mlx_closure_free); an
 * empty handle is a no-op. */
void mlx_closure_retain_(mlx_closure c);
/* A tracer copy of node p in *res: what a transform (or compile) hands to
 * the function it traces. */
int mlx_make_tracer_(mlx_array* res, mlx_node_* p);
/* The ops between sources (tracer nodes) and outs that depend on a
 * source, in dependency order: *ops gets a malloc'ed array (the caller
 * frees it) of borrowed ops, alive while outs are. */
int mlx_trace_tape_(mlx_op_*** ops, size_t* nops, mlx_node_* const* sources, size_t nsrc, mlx_node_* const* outs,
                    size_t nouts);

/* ---- the global random key sequence (ops/random.c) --------------------- */
/* The next key of the sequence (advancing it), as a new evaluated array. */
int mlx_random_next_key_(mlx_array* res);
/* Sees each key drawn from the sequence on this thread and may replace
 * *key (compile turns it into a traced input); key is NULL when the
 * sequence is reseeded. A non-zero status fails the draw. */
typedef int (*mlx_random_key_hook_)(void* ctx, mlx_array* key);
/* Installs hook (NULL: none) for this thread; *prev and *prev_ctx get the
 * one it replaces, to restore. */
void mlx_random_set_key_hook_(mlx_random_key_hook_ hook, void* ctx, mlx_random_key_hook_* prev, void** prev_ctx);

/* ---- CPU thread pool ---------------------------------------------------- */
typedef void (*mlx_range_fn_)(void* ctx, int64_t begin, int64_t end);
/* Runs fn over [0, n) split in chunks of at least grain on the pool (the
 * calling thread takes part). Small n runs inline. */
/* MLX_PROFILE (profile.c): whether it is on, and a kernel run timed into
 * the per-primitive table printed at exit. */
int mlx_profile_on_(void);
/* For work run outside mlx_profile_run_: a start time, then the row's
 * update (waiting for stream s first under MLX_PROFILE=sync). */
int64_t mlx_profile_now_(void);
void mlx_profile_add_(const mlx_prim_* prim, int64_t t0, mlx_stream s);
int mlx_profile_run_(const mlx_prim_* prim, mlx_kernel_fn_ k, mlx_node_** outs, int nout, mlx_node_** ins, int nin,
                     const void* params);

void mlx_parallel_for_(int64_t n, int64_t grain, mlx_range_fn_ fn, void* ctx);

/* ---- devices ----------------------------------------------------------- */
/* Checks the device exists; error MLX_ERROR_DEVICE with the reason. */
int mlx_check_device_(mlx_device d, const char* op);
/* Waits until no asynchronous evaluation is queued or running. */
int mlx_eval_wait_idle_(void);

#endif
