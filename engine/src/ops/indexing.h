/* Indexing family (gather, scatter): parameter layouts shared by the op
 * constructors (ops/indexing.c), the kernels (cpu/indexing.c) and the
 * transform rules (ops/indexing_rules.c). */
#ifndef MLX_OPS_INDEXING_H
#define MLX_OPS_INDEXING_H

#include "../internal.h"
#include "mlx/indexing.h"

/* Scatter reductions, in the order of upstream's Scatter::ReduceType. */
enum { MLX_SCATTER_NONE_ = 0, MLX_SCATTER_SUM_, MLX_SCATTER_PROD_, MLX_SCATTER_MAX_, MLX_SCATTER_MIN_ };

/* Params (int64_t arrays), recorded with each node:
 *   gather:  nidx, ndim, axes[nidx], slice_sizes[ndim]
 *            inputs: a, then nidx index arrays (broadcast, one dtype)
 *   scatter: mode, nidx, ndim, axes[nidx]
 *            inputs: a, nidx index arrays, updates (a's dtype)
 *   gather_axis (take_along_axis): axis
 *            inputs: a and indices, both of the output's shape except
 *            a's length on axis (broadcast views allowed)
 *   scatter_axis (put_along_axis, the gather_axis vjp): axis, mode (none
 *            or sum); inputs: a (the output's shape), indices and values
 *            (a's dtype), both of one shape that differs from a's only on
 *            axis */
#define MLX_GATHER_AXES_(p) ((p) + 2)
#define MLX_GATHER_SIZES_(p) ((p) + 2 + (p)[0])
#define MLX_SCATTER_AXES_(p) ((p) + 3)

/* mlx_scatter* with the reduction as a parameter. */
int mlx_scatter_mode_(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                      const int* axes, int mode, mlx_stream s);

/* Records scatter_axis: a (already broadcast to the result's shape),
 * indices and values of one shape (values are cast to a's dtype); mode
 * MLX_SCATTER_NONE_ or MLX_SCATTER_SUM_. */
int mlx_scatter_along_axis_(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_array values,
                            int axis, int mode, mlx_stream s);

/* Transform rules (ops/indexing_rules.c). */
int mlx_gather_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_gather_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_gather_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s);
int mlx_scatter_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_scatter_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_scatter_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s);

int mlx_gather_axis_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_gather_axis_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s);
int mlx_gather_axis_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s);

int mlx_scatter_axis_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_scatter_axis_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                          const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                          mlx_stream s);
int mlx_scatter_axis_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s);

/* Kernels (cpu/indexing.c). */
int mlx_cpu_gather_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_scatter_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_gather_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_scatter_axis_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
