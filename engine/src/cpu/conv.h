/* The conv family's internals shared by ops/conv.c, ops/conv_rules.c and
 * cpu/conv.c: the primitive's parameters and its CPU kernel. */
#ifndef MLX_CPU_CONV_H
#define MLX_CPU_CONV_H

#include "../internal.h"

/* Parameters of the "conv" primitive, per spatial dim (nsp of them, 1-3).
 * Padding is in the coordinates of the dilated input and may be negative
 * (the transform rules produce such convolutions; the public ops turn a
 * negative padding into a slice of the input, as upstream does). */
typedef struct {
  int nsp;
  int stride[3];
  int pad_lo[3];
  int pad_hi[3];
  int kernel_dilation[3];
  int input_dilation[3];
  int groups;
  int flip;
} mlx_conv_params_;

/* out[n, o..., co] = sum over taps and the group's channels of the padded,
 * dilated input times the (optionally flipped) weight; ins = {input,
 * weight}, both already in the output dtype. */
int mlx_cpu_conv_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
