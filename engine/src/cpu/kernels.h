/* CPU kernels shared across op families. Each family's own kernels are
 * declared in its cpu/<family>.h. */
#ifndef MLX_CPU_KERNELS_H
#define MLX_CPU_KERNELS_H

#include "../internal.h"

/* Row-major copy converting to the output's dtype (astype, contiguous). */
int mlx_cpu_copy_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
