/* CPU kernels of the creation family (full, arange, linspace, eye, tri,
 * tril/triu) and of matmul, with the parameter blocks their op
 * constructors record. */
#ifndef MLX_CPU_CREATE_H
#define MLX_CPU_CREATE_H

#include "../internal.h"

/* full: with one input, that input broadcast to the output shape and cast
 * to its dtype; with none, `value` (zeros, ones, *_like). */
typedef struct {
  double value;
} mlx_full_params_;

/* arange: the output has ceil((stop - start) / step) elements. */
typedef struct {
  double start, step;
} mlx_arange_params_;

/* linspace: the output size is the number of samples. */
typedef struct {
  double start, stop;
} mlx_linspace_params_;

/* eye and tri: diagonal k of the output's two dims; tril/triu: diagonal k
 * of the input's last two dims, upper != 0 for triu. */
typedef struct {
  int64_t k;
  int upper;
} mlx_diag_params_;

int mlx_cpu_full_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_arange_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_linspace_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_eye_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_tri_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_tril_triu_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

/* a @ b. The node's inputs are the operands as the user gave them (any
 * dtypes, 1-D or batched with broadcastable batch dims); the kernel
 * promotes, broadcasts and drops the dims added for 1-D operands, so the
 * output node already has the final shape and dtype. */
int mlx_cpu_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
