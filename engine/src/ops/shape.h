/* Op-level helpers of the shapes family shared with the other op files'
 * transform rules (ops/join.c, ops/create.c, ops/matmul.c). They build
 * graphs from public ops, so their results are differentiable too. */
#ifndef MLX_OPS_SHAPE_H
#define MLX_OPS_SHAPE_H

#include "../internal.h"

/* Sums x over the axes broadcasting added to reach x's shape from
 * `shape` (leading extra axes, and axes where shape has 1), then reshapes
 * to `shape`: the vjp of a broadcast. */
int mlx_sum_to_shape_(mlx_array* res, const mlx_array x, const int64_t* shape, int ndim, mlx_stream s);

/* A slice of a by already normalized per-axis first index, step and
 * length (one entry per axis of a; a negative step walks down from
 * first), without Python's clamping of negative stops. Hands back a
 * itself when the slice is the whole array in order. */
int mlx_slice_norm_(mlx_array* res, const mlx_array a, const int64_t* first, const int64_t* step, const int64_t* len,
                    mlx_stream s);

#endif
