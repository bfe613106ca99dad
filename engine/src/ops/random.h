/* Internals of the random family shared by ops/random.c and
 * ops/random_dist.c: key resolution and the draws of an already resolved
 * key, so a composite distribution draws from the global sequence once,
 * first, as Python MLX does. */
#ifndef MLX_OPS_RANDOM_H
#define MLX_OPS_RANDOM_H

#include "../internal.h"

/* *out gets key after checking it, or the next key of the global
 * sequence when key is empty. */
int mlx_random_resolve_key_(mlx_array* out, const mlx_array key, const char* op);
/* Checks a requested output shape (dims >= 0, size countable). */
int mlx_random_check_shape_(const int64_t* shape, int ndim, const char* op);
/* bits of width bytes under a resolved key. */
int mlx_random_bits_key_(mlx_array* res, const int64_t* shape, int ndim, int width, const mlx_array key,
                         const mlx_stream s, const char* op);
/* upstream's uniform(low, high, shape, dtype, key) under a resolved key. */
int mlx_random_uniform_key_(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim,
                            mlx_dtype dtype, const mlx_array key, const mlx_stream s, const char* op);

#endif
