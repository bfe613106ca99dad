/* Transform rules (vjp, jvp, vmap) of the reductions, defined in
 * ops/reduce_rules.c and wired into the primitives of ops/reduce.c.
 * Signatures and ownership: see mlx_vjp_rule_ in internal.h. all/any and
 * argmax/argmin are not differentiable and use the shared zero rules. */
#ifndef MLX_OPS_REDUCE_RULES_H
#define MLX_OPS_REDUCE_RULES_H

#include "../internal.h"

/* sum, prod, max, min and mean, told apart by the params' kind (all/any
 * use only the vmap rule). */
int mlx_reduce_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_reduce_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_reduce_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s);

int mlx_var_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_var_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_var_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                  const void* params, mlx_stream s);

int mlx_std_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_std_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                 const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_std_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                  const void* params, mlx_stream s);

int mlx_logsumexp_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_logsumexp_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                       mlx_stream s);
int mlx_logsumexp_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                        int nout, const void* params, mlx_stream s);

int mlx_softmax_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_softmax_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_softmax_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s);

/* argmax/argmin: vmap only (their vjp/jvp are mlx_vjp_zero_/mlx_jvp_zero_). */
int mlx_argreduce_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                        int nout, const void* params, mlx_stream s);

#endif
