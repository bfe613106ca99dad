/* Transform rules (vjp, jvp, vmap) of the sort and scan primitives,
 * defined in ops/sort_rules.c and wired into ops/sort.c and ops/scan.c.
 * Signatures and ownership: see mlx_vjp_rule_ in internal.h. argsort,
 * argpartition and searchsorted are not differentiable (the shared zero
 * rules). */
#ifndef MLX_OPS_SORT_RULES_H
#define MLX_OPS_SORT_RULES_H

#include "../internal.h"

/* sort and partition (values): the cotangent scattered back through the
 * permutation (put_along_axis); the tangent gathered along it. */
int mlx_sort_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_sort_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
/* sort, argsort, partition, argpartition: the axis shifted past the batch
 * axis. */
int mlx_sort_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s);
int mlx_searchsorted_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                           int nout, const void* params, mlx_stream s);

/* cumsum, cumprod, cummax, cummin, logcumsumexp (params: mlx_scan_params_). */
int mlx_scan_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_scan_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_scan_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s);

#endif
