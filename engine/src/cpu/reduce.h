/* Reduction kernels: sum, prod, max, min, all, any and mean over any set
 * of axes of a strided input; argmax/argmin along one axis; and the fused
 * row kernels behind var/std, logsumexp and softmax.
 *
 * The op constructors (ops/reduce.c) settle output shapes and dtypes; the
 * kernels read which input axes are reduced from the params and write the
 * output row-major over the kept axes (so keepdims or not is only a matter
 * of the output's shape). */
#ifndef MLX_CPU_REDUCE_H
#define MLX_CPU_REDUCE_H

#include "../internal.h"

typedef enum {
  MLX_RED_SUM_ = 0,
  MLX_RED_PROD_,
  MLX_RED_MAX_,
  MLX_RED_MIN_,
  MLX_RED_ALL_,
  MLX_RED_ANY_,
  MLX_RED_MEAN_, /* sum in the sum dtype, times 1/n in the output dtype */
  MLX_RED_NUM_
} mlx_reduce_kind_;

/* Params of the reduce, var/std, logsumexp and softmax kernels. Variable
 * size: sizeof(mlx_reduce_params_) + ndim bytes (see mlx_reduce_params_size_). */
typedef struct {
  int kind;    /* mlx_reduce_kind_ (reduce kernel only) */
  int ddof;    /* var/std */
  int keepdims; /* reduced axes kept as size 1 (read by the vmap rules) */
  int ndim;    /* of the input */
  uint8_t axes[]; /* axes[i] != 0: input axis i is reduced */
} mlx_reduce_params_;

static inline size_t mlx_reduce_params_size_(int ndim) {
  return sizeof(mlx_reduce_params_) + (size_t)ndim;
}

/* Params of argmax/argmin. */
typedef struct {
  int is_min;
  int axis;     /* normalized; -1: over the flattened array */
  int keepdims; /* read by the vmap rule */
} mlx_argreduce_params_;

/* out (dtype per kind: see ops/reduce.c) = reduction of ins[0] over the
 * flagged axes. Any input layout; an empty reduction gives the identity
 * (0, 1, true, false; NaN for mean). max/min of an empty set are refused
 * by the op constructor. */
int mlx_cpu_reduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* out (uint32) = index of the first max/min of ins[0] along the axis; NaN
 * counts as larger and as smaller than any number, as upstream. */
int mlx_cpu_argreduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* var (float dtype: at-least-float of the input, float32 for complex)
 * with ddof, and its square root, over the flagged axes. */
int mlx_cpu_var_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_std_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* log(sum(exp(x))) over the flagged axes, max-subtracted; an infinite max
 * is the result itself. Output dtype at-least-float (complex stays). */
int mlx_cpu_logsumexp_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* softmax over the flagged axes; out has the input's shape and the dtype
 * the op constructor chose (computed in float32/float64/complex64, then
 * converted). */
int mlx_cpu_softmax_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
