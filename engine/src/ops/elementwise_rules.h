/* Transform rules (vjp, jvp, vmap) of the elementwise and copy families.
 * The unary ops of ops/unary.c and the binary ops of ops/binary.c share
 * one primitive kernel each and tell their op by mlx_elem_params_, so
 * their rules dispatch on that op code (unary_rules.c, binary_rules.c);
 * where and the copy ops of ops/copy.c have rules of their own. The
 * contracts are those of mlx_vjp_rule_, mlx_jvp_rule_ and mlx_vmap_rule_
 * in internal.h. Semantics follow upstream MLX's primitives.cpp, with its
 * complex convention: a cotangent is dL/dconj(z), so the vjp of a
 * holomorphic f is cot * conj(f'(z)) while its jvp is t * f'(z). */
#ifndef MLX_OPS_ELEMENTWISE_RULES_H
#define MLX_OPS_ELEMENTWISE_RULES_H

#include "../internal.h"

/* Declares P_vjp_, P_jvp_ and P_vmap_ with the rule signatures. */
#define MLX_ELEM_RULES_DECL_(P)                                                                                      \
  int P##_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,                 \
               const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);         \
  int P##_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,                \
               const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);     \
  int P##_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,      \
                const void* params, mlx_stream s);

/* Unary ops (params: mlx_elem_params_ with an mlx_unary_op_). Rounding,
 * sign, predicates, logical_not and bitwise_invert have zero
 * derivatives; vmap maps the op over the batched input in place. */
MLX_ELEM_RULES_DECL_(mlx_unary)
/* Binary ops (params: mlx_elem_params_ with an mlx_binary_op_). The vjp
 * sums cotangents over the axes an input was broadcast along; floor_divide,
 * comparisons, logical and bitwise ops have zero derivatives; vmap moves
 * the batch axes to 0 and gives the result at axis 0. */
MLX_ELEM_RULES_DECL_(mlx_binary)
/* where(cond, x, y): no derivative for cond. */
MLX_ELEM_RULES_DECL_(mlx_where)
/* astype (params: the target mlx_dtype): the vjp casts back. */
MLX_ELEM_RULES_DECL_(mlx_astype)
/* contiguous: identity for vjp and jvp. */
MLX_ELEM_RULES_DECL_(mlx_contiguous)
/* stop_gradient: zero vjp and jvp (mlx_vjp_zero_, mlx_jvp_zero_); vmap
 * keeps the batch axis. */
int mlx_stop_gradient_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                            int nout, const void* params, mlx_stream s);

#endif
