/* Internals of the conv family's op files (ops/conv.c, ops/conv_rules.c). */
#ifndef MLX_OPS_CONV_H
#define MLX_OPS_CONV_H

#include "../cpu/conv.h"

/* Records a convolution of in and wt (same floating dtype) with params p
 * as they are (negative paddings allowed: they crop the dilated input).
 * Checks ranks, channels, groups and that the padded input covers the
 * kernel. */
int mlx_conv_record_(mlx_array* res, const mlx_array in, const mlx_array wt, const mlx_conv_params_* p, mlx_stream s);

/* Transform rules of the conv primitive (ops/conv_rules.c). */
int mlx_conv_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_conv_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_conv_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s);

#endif
