/* Graph nodes and the ops that produce them: creation, reference counting
 * (iterative release, so long chains never recurse) and op recording. */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

mlx_node_* mlx_node_new_(mlx_dtype dtype, const int64_t* shape, int ndim) {
  int64_t size;
  if (ndim < 0) {
    mlx_error_(MLX_ERROR_ARGUMENT, "[array] negative number of dimensions");
    return NULL;
  }
  if (mlx_shape_size_(&size, shape, ndim, "array")) return NULL;
  mlx_node_* n = calloc(1, sizeof *n);
  if (!n) {
    mlx_error_(MLX_ERROR_MEMORY, "[array] out of memory for a graph node");
    return NULL;
  }
  if (ndim > MLX_INLINE_NDIM) {
    n->shape = malloc(sizeof(int64_t) * 2 * (size_t)ndim);
    if (!n->shape) {
      free(n);
      mlx_error_(MLX_ERROR_MEMORY, "[array] out of memory for a shape");
      return NULL;
    }
    n->strides = n->shape + ndim;
  } else {
    n->shape = n->shape_inline;
    n->strides = n->strides_inline;
  }
  if (ndim) memcpy(n->shape, shape, sizeof(int64_t) * (size_t)ndim);
  atomic_init(&n->refcount, 1);
  n->dtype = dtype;
  n->ndim = ndim;
  n->size = size;
  return n;
}

void mlx_node_retain_(mlx_node_* n) {
  atomic_fetch_add_explicit(&n->refcount, 1, memory_order_relaxed);
}

/* Detaches a dying node from its op; returns 1 if the op lost its last
 * reference (and must be freed). */
static int detach_from_op(mlx_node_* n, mlx_op_* op) {
  if (op->lock) {
    pthread_mutex_lock(op->lock);
    op->outputs[n->out_index] = NULL;
    pthread_mutex_unlock(op->lock);
  }
  return atomic_fetch_sub_explicit(&op->refcount, 1, memory_order_acq_rel) == 1;
}

/* Work stack of nodes whose refcount reached zero, so a chain of releases
 * runs as a loop instead of a recursion. */
typedef struct {
  mlx_node_** items;
  size_t n, cap;
} node_stack;

static void push(node_stack* st, mlx_node_* n) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 64;
    mlx_node_** items = realloc(st->items, cap * sizeof *items);
    if (!items) return; /* leak rather than crash when out of memory */
    st->items = items;
    st->cap = cap;
  }
  st->items[st->n++] = n;
}

static void free_op(mlx_op_* op, node_stack* st) {
  for (int i = 0; i < op->ninputs; i++) {
    mlx_node_* in = op->inputs[i];
    if (atomic_fetch_sub_explicit(&in->refcount, 1, memory_order_acq_rel) == 1) push(st, in);
  }
  if (op->lock) {
    pthread_mutex_destroy(op->lock);
    free(op->lock);
  }
  if (op->prim->params_free) op->prim->params_free(op->params);
  free(op);
}

static void free_node(mlx_node_* n, node_stack* st) {
  mlx_op_* op = atomic_load(&n->op);
  if (op && detach_from_op(n, op)) free_op(op, st);
  if (n->buf) mlx_buffer_release_(n->buf);
  if (n->shape != n->shape_inline) free(n->shape);
  free(n);
}

void mlx_node_release_(mlx_node_* n) {
  if (!n) return;
  if (atomic_fetch_sub_explicit(&n->refcount, 1, memory_order_acq_rel) != 1) return;
  node_stack st = {0};
  free_node(n, &st);
  while (st.n) free_node(st.items[--st.n], &st);
  free(st.items);
}

void mlx_op_release_(mlx_op_* op) {
  if (atomic_fetch_sub_explicit(&op->refcount, 1, memory_order_acq_rel) != 1) return;
  node_stack st = {0};
  free_op(op, &st);
  while (st.n) free_node(st.items[--st.n], &st);
  free(st.items);
}

void mlx_set_result_(mlx_array* res, mlx_node_* n) {
  mlx_node_* old = MLX_NODE(*res);
  res->ctx = n;
  mlx_node_release_(old);
}

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
    mlx_stream s) {
  mlx_stream stream;
  MLX_TRY(mlx_resolve_stream_(&stream, s, prim->name));
  if (stream.device.type == MLX_GPU && prim->gpu == NULL)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on gpu", prim->name);
  size_t desc_bytes = 0;
  if (nout > 1) {
    desc_bytes = (sizeof(mlx_dtype) + sizeof(int) + sizeof(int64_t*)) * (size_t)nout + 16;
    for (int i = 0; i < nout; i++) desc_bytes += sizeof(int64_t) * (size_t)ndims[i];
  }
  size_t bytes = sizeof(mlx_op_) + sizeof(mlx_node_*) * (size_t)(nin + nout) + params_size + 16 + desc_bytes;
  mlx_op_* op = calloc(1, bytes);
  if (!op) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for a graph op", prim->name);
  op->inputs = (mlx_node_**)(op + 1);
  op->outputs = op->inputs + nin;
  op->params = (void*)(((uintptr_t)(op->outputs + nout) + 15) & ~(uintptr_t)15);
  if (params_size) memcpy(op->params, params, params_size);
  op->params_size = params_size;
  if (nout > 1) {
    char* p = (char*)op->params + params_size;
    p = (char*)(((uintptr_t)p + 7) & ~(uintptr_t)7);
    op->out_shapes = (int64_t**)p;
    p += sizeof(int64_t*) * (size_t)nout;
    for (int i = 0; i < nout; i++) {
      op->out_shapes[i] = (int64_t*)p;
      if (ndims[i]) memcpy(p, shapes[i], sizeof(int64_t) * (size_t)ndims[i]);
      p += sizeof(int64_t) * (size_t)ndims[i];
    }
    op->out_ndims = (int*)p;
    p += sizeof(int) * (size_t)nout;
    op->out_dtypes = (mlx_dtype*)p;
    for (int i = 0; i < nout; i++) {
      op->out_ndims[i] = ndims[i];
      op->out_dtypes[i] = dtypes[i];
    }
  }
  op->prim = prim;
  op->stream = stream;
  op->ninputs = nin;
  op->noutputs = nout;
  if (nout > 1) {
    op->lock = malloc(sizeof(pthread_mutex_t));
    if (!op->lock) {
      free(op);
      return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for a graph op", prim->name);
    }
    pthread_mutex_init(op->lock, NULL);
  }
  mlx_node_* outs[nout > 0 ? nout : 1];
  for (int i = 0; i < nout; i++) {
    outs[i] = mlx_node_new_(dtypes[i], shapes[i], ndims[i]);
    if (!outs[i]) {
      int rc = mlx_last_error_code();
      for (int j = 0; j < i; j++) mlx_node_release_(outs[j]);
      if (op->lock) {
        pthread_mutex_destroy(op->lock);
        free(op->lock);
      }
      free(op);
      return rc;
    }
  }
  unsigned char tracer = 0;
  for (int i = 0; i < nin; i++) {
    mlx_node_retain_(inputs[i]);
    op->inputs[i] = inputs[i];
    tracer |= inputs[i]->tracer;
  }
  atomic_init(&op->refcount, nout);
  for (int i = 0; i < nout; i++) {
    outs[i]->op = op;
    outs[i]->out_index = i;
    outs[i]->stream = stream;
    outs[i]->tracer = tracer;
    op->outputs[i] = outs[i];
  }
  for (int i = 0; i < nout; i++) mlx_set_result_(&res[i], outs[i]);
  return MLX_OK;
}

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
    mlx_stream s) {
  const int64_t* shapes[1] = {shape};
  return mlx_op_record_(res, 1, prim, params, params_size, inputs, nin, &dtype, shapes, &ndim, s);
}

int mlx_check_array_(const mlx_array a, const char* op) {
  if (a.ctx == NULL) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] empty array handle", op);
  return MLX_OK;
}
