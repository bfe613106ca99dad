/* Function transforms: vjp, jvp, grad, vmap over closures.
 *
 * A closure is a C function pointer with a payload and a destructor; a
 * binding wraps its language's functions in one. Transforms call it with
 * traced arrays and build new graphs from the primitives' rules. */
#ifndef MLX_TRANSFORMS_H
#define MLX_TRANSFORMS_H

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growable list of array handles. It owns one reference per element. */
typedef struct mlx_vector_array {
  void* ctx;
} mlx_vector_array;

/* A new empty list; NULL ctx (and MLX_ERROR_MEMORY) if out of memory. */
mlx_vector_array mlx_vector_array_new(void);
/* Frees the list and its references; an empty handle is a no-op. */
int mlx_vector_array_free(mlx_vector_array v);
/* Appends a (taking a new reference; a stays owned by the caller). */
int mlx_vector_array_append(mlx_vector_array v, const mlx_array a);
/* Number of elements. */
size_t mlx_vector_array_size(const mlx_vector_array v);
/* *res gets a new handle to element i (MLX_ERROR_INDEX if out of range). */
int mlx_vector_array_get(mlx_array* res, const mlx_vector_array v, size_t i);
/* Removes every element. */
int mlx_vector_array_clear(mlx_vector_array v);

/* A function from arrays to arrays: fills `outputs` (an empty list it is
 * given) from `inputs`; returns 0 or a status (with mlx_error_ set, or a
 * binding's own pending exception marked by MLX_ERROR_CALLBACK). */
typedef int (*mlx_closure_fn)(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload);

typedef struct mlx_closure {
  void* ctx;
} mlx_closure;

/* A closure over fn and payload; dtor (may be NULL) is called on payload
 * when the last reference goes. */
mlx_closure mlx_closure_new(mlx_closure_fn fn, void* payload, void (*dtor)(void*));
int mlx_closure_free(mlx_closure c);
/* Calls the closure: outputs (a list the caller made) gets the results. */
int mlx_closure_apply(mlx_vector_array outputs, const mlx_closure c, const mlx_vector_array inputs);

/* Status a closure returns when its callback raised an exception of the
 * binding; the transform unwinds and returns it unchanged. */
#define MLX_ERROR_CALLBACK 100

/* Vector-Jacobian product: runs fun on primals and pulls cotangents (one
 * per output, same shapes) back to the primals. outputs gets fun's
 * outputs, vjps one array per primal. */
int mlx_vjp(
    mlx_vector_array outputs,
    mlx_vector_array vjps,
    const mlx_closure fun,
    const mlx_vector_array primals,
    const mlx_vector_array cotangents);

/* Jacobian-vector product: runs fun on primals and pushes tangents (one per
 * primal) forward. outputs gets fun's outputs, jvps one array per output. */
int mlx_jvp(
    mlx_vector_array outputs,
    mlx_vector_array jvps,
    const mlx_closure fun,
    const mlx_vector_array primals,
    const mlx_vector_array tangents);

/* value_and_grad: outputs gets fun(inputs); grads gets d outputs[0] /
 * d inputs[argnums[i]] for each argnum. outputs[0] must be a scalar
 * (size 1) inexact array. */
int mlx_value_and_grad(
    mlx_vector_array outputs,
    mlx_vector_array grads,
    const mlx_closure fun,
    const mlx_vector_array inputs,
    const int* argnums,
    size_t nargnums);

/* Marks "not batched" in in_axes / out_axes of mlx_vmap. */
#define MLX_VMAP_NONE (-2147483647 - 1)

/* Vectorizing map: runs fun once over the batch. in_axes has one entry per
 * input (the batched axis, or MLX_VMAP_NONE); out_axes one per output
 * (MLX_VMAP_NONE only for outputs that do not depend on batched inputs),
 * or nout_axes 0 (out_axes may be NULL) for axis 0 on every output, as
 * upstream's empty out_axes: a caller that learns the number of outputs
 * only from the call itself needs that. All batched inputs must have the
 * same size along their axis. */
int mlx_vmap(
    mlx_vector_array outputs,
    const mlx_closure fun,
    const mlx_vector_array inputs,
    const int* in_axes,
    size_t nin_axes,
    const int* out_axes,
    size_t nout_axes);

/* Custom transforms of a function (upstream custom_function). *res gets a
 * closure that calls fun and marks its outputs, so that vjp, jvp and vmap
 * use the given rules there instead of going through fun's graph. Any rule
 * may be an empty handle ({NULL}): that transform then goes through fun
 * again (vjp and jvp trace fun on the primals; vmap maps fun with every
 * output on axis 0). With no rule at all, *res is fun itself. *res must
 * hold an empty handle or a closure, which is released. The result keeps
 * its own references to the closures.
 *
 * Calling conventions of the rules, for n primals (the inputs fun was
 * called with) and m outputs; each gets one flat list:
 *   vjp:  [primals (n), cotangents (m), outputs (m)] -> n arrays, the
 *         cotangent of each primal, with the primal's shape.
 *   jvp:  [primals (n), tangents (n)] -> m arrays, the tangent of each
 *         output. A primal without a tangent gets zeros.
 *   vmap: [primals (n), axes] where axes is an int32 array of shape [n],
 *         each primal's batch axis or -1 when it is not batched -> the m
 *         batched outputs, optionally followed by an integer array of
 *         shape [m] with their batch axes (-1: not batched); without it
 *         every output is batched along axis 0. */
int mlx_custom_function(
    mlx_closure* res,
    const mlx_closure fun,
    const mlx_closure vjp,
    const mlx_closure jvp,
    const mlx_closure vmap);

/* Gradient checkpointing: *res computes fun, and its vjp recomputes fun
 * from the primals (after the outputs, see mlx_depends) instead of keeping
 * fun's intermediates. *res as in mlx_custom_function. */
int mlx_checkpoint(mlx_closure* res, const mlx_closure fun);

/* outputs gets one array per input, equal to it, that is computed only
 * once every dependency is: a scheduling edge. Gradients flow to the
 * inputs, none to the dependencies. */
int mlx_depends(mlx_vector_array outputs, const mlx_vector_array inputs, const mlx_vector_array dependencies);

#ifdef __cplusplus
}
#endif
#endif
