/* Lists of arrays and closures: the currency of the transforms. */
#include <stdlib.h>

#include "internal.h"

typedef struct {
  size_t n, cap;
  mlx_node_** items;
} vector_impl;

#define VEC(v) ((vector_impl*)(v).ctx)

mlx_vector_array mlx_vector_array_new(void) {
  mlx_vector_array v = {calloc(1, sizeof(vector_impl))};
  if (!v.ctx) mlx_error_(MLX_ERROR_MEMORY, "[vector_array] out of memory");
  return v;
}

int mlx_vector_array_clear(mlx_vector_array v) {
  vector_impl* p = VEC(v);
  if (!p) return MLX_OK;
  for (size_t i = 0; i < p->n; i++) mlx_node_release_(p->items[i]);
  p->n = 0;
  return MLX_OK;
}

int mlx_vector_array_free(mlx_vector_array v) {
  vector_impl* p = VEC(v);
  if (!p) return MLX_OK;
  mlx_vector_array_clear(v);
  free(p->items);
  free(p);
  return MLX_OK;
}

int mlx_vector_array_append(mlx_vector_array v, const mlx_array a) {
  vector_impl* p = VEC(v);
  if (!p) return mlx_error_(MLX_ERROR_ARGUMENT, "[vector_array] empty list handle");
  MLX_TRY(mlx_check_array_(a, "vector_array"));
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    mlx_node_** items = realloc(p->items, cap * sizeof *items);
    if (!items) return mlx_error_(MLX_ERROR_MEMORY, "[vector_array] out of memory");
    p->items = items;
    p->cap = cap;
  }
  mlx_node_retain_(MLX_NODE(a));
  p->items[p->n++] = MLX_NODE(a);
  return MLX_OK;
}

size_t mlx_vector_array_size(const mlx_vector_array v) {
  return VEC(v) ? VEC(v)->n : 0;
}

int mlx_vector_array_get(mlx_array* res, const mlx_vector_array v, size_t i) {
  vector_impl* p = VEC(v);
  if (!p || i >= p->n) return mlx_error_(MLX_ERROR_INDEX, "[vector_array] index %zu out of range", i);
  mlx_node_retain_(p->items[i]);
  mlx_set_result_(res, p->items[i]);
  return MLX_OK;
}

mlx_node_* mlx_vector_node_(const mlx_vector_array v, size_t i) {
  return VEC(v)->items[i];
}

typedef struct {
  atomic_int refcount;
  mlx_closure_fn fn;
  void* payload;
  void (*dtor)(void*);
} closure_impl;

mlx_closure mlx_closure_new(mlx_closure_fn fn, void* payload, void (*dtor)(void*)) {
  closure_impl* c = calloc(1, sizeof *c);
  mlx_closure r = {c};
  if (!c) {
    mlx_error_(MLX_ERROR_MEMORY, "[closure] out of memory");
    return r;
  }
  atomic_init(&c->refcount, 1);
  c->fn = fn;
  c->payload = payload;
  c->dtor = dtor;
  return r;
}

void mlx_closure_retain_(mlx_closure c) {
  closure_impl* p = c.ctx;
  if (p) atomic_fetch_add_explicit(&p->refcount, 1, memory_order_relaxed);
}

int mlx_closure_free(mlx_closure c) {
  closure_impl* p = c.ctx;
  if (!p || atomic_fetch_sub(&p->refcount, 1) != 1) return MLX_OK;
  if (p->dtor) p->dtor(p->payload);
  free(p);
  return MLX_OK;
}

int mlx_closure_apply(mlx_vector_array outputs, const mlx_closure c, const mlx_vector_array inputs) {
  closure_impl* p = c.ctx;
  if (!p) return mlx_error_(MLX_ERROR_ARGUMENT, "[closure] empty closure handle");
  if (!outputs.ctx || !inputs.ctx) return mlx_error_(MLX_ERROR_ARGUMENT, "[closure] empty list handle");
  return p->fn(outputs, inputs, p->payload);
}
