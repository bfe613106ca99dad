/* Internals of the linalg family shared between ops/linalg.c and
 * ops/linalg_rules.c: the transform rules of its primitives and the
 * three-output LU. */
#ifndef MLX_OPS_LINALG_H
#define MLX_OPS_LINALG_H

#include "../internal.h"

/* The LU primitive's three outputs in outs[0..2]: lu, pivots (uint32),
 * row permutation (uint32); fn names the caller in errors. */
int mlx_linalg_luf_(mlx_array* outs, const mlx_array a, const char* fn, const mlx_stream s);

int mlx_linalg_inverse_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* cots, const void* params,
                            mlx_stream s);
int mlx_linalg_inverse_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                            const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                            mlx_stream s);
#define MLX_LINALG_VMAP_(name)                                                                                   \
  int mlx_linalg_##name##_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, \
                                int nin, int nout, const void* params, mlx_stream s)
MLX_LINALG_VMAP_(inverse);
MLX_LINALG_VMAP_(cholesky);
MLX_LINALG_VMAP_(qrf);
MLX_LINALG_VMAP_(svd);
MLX_LINALG_VMAP_(eigh);
MLX_LINALG_VMAP_(eig);
MLX_LINALG_VMAP_(luf);

/* output_shapes rules: inverse and cholesky (the input's square shape),
 * qrf, svd, eigh and eig (values, optionally vectors), luf. */
#define MLX_LINALG_SHAPES_(name)                                                                                     \
  int mlx_linalg_##name##_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, \
                                  int nin, const void* params)
MLX_LINALG_SHAPES_(square);
MLX_LINALG_SHAPES_(qrf);
MLX_LINALG_SHAPES_(svd);
MLX_LINALG_SHAPES_(eig);
MLX_LINALG_SHAPES_(luf);

#endif
