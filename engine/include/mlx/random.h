/* Random numbers: counter-based threefry2x32 keys, bit-identical to
 * upstream MLX. A key is a uint32 array of shape [2]. Functions that take
 * a key accept an empty handle to draw from the global key sequence, which
 * mlx_random_seed resets. */
#ifndef MLX_RANDOM_H
#define MLX_RANDOM_H

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resets the global key sequence to key(seed). */
int mlx_random_seed(uint64_t seed);
/* The key for a seed: [seed >> 32, seed & 0xffffffff] as uint32. */
int mlx_random_key(mlx_array* res, uint64_t seed);
/* num new keys from key, as a [num, 2] uint32 array. */
int mlx_random_split_num(mlx_array* res, const mlx_array key, int num, const mlx_stream s);
/* Two new keys from key. */
int mlx_random_split(mlx_array* res_1, mlx_array* res_2, const mlx_array key, const mlx_stream s);
/* Raw random bits: shape, width bytes per element (1, 2 or 4). */
int mlx_random_bits(mlx_array* res, const int64_t* shape, int ndim, int width, const mlx_array key, const mlx_stream s);
/* Uniform in [low, high) broadcast to shape; dtype floating. */
int mlx_random_uniform(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s);
/* Normal with mean loc and standard deviation scale; dtype floating or
 * complex64. loc and scale are doubles, as Python's floats are: a float64
 * result keeps them exact, other dtypes round them through float32. */
int mlx_random_normal(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, double loc, double scale, const mlx_array key, const mlx_stream s);
/* Integers in [low, high). */
int mlx_random_randint(mlx_array* res, const mlx_array low, const mlx_array high, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s);
/* Booleans that are true with probability p (floating; broadcast to
 * shape). Pass p's own shape for upstream's default. */
int mlx_random_bernoulli(mlx_array* res, const mlx_array p, const int64_t* shape, int ndim, const mlx_array key, const mlx_stream s);

/* Normal samples truncated to [lower, upper] (upstream's inverse-CDF
 * draw: uniform between erf(lower / sqrt2) and erf(upper / sqrt2), then
 * sqrt2 * erfinv, clipped). lower and upper broadcast to shape; ndim < 0
 * (shape NULL) takes their broadcast shape. dtype floating. */
int mlx_random_truncated_normal(mlx_array* res, const mlx_array lower, const mlx_array upper, const int64_t* shape,
                                int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s);
/* Standard Gumbel samples: -log(-log(uniform)). dtype floating. */
int mlx_random_gumbel(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_array key,
                      const mlx_stream s);
/* uint32 samples of the categorical distributions given by unnormalized
 * logits along axis (argmax of logits + Gumbel noise): one per
 * distribution (the result is logits' shape without axis). */
int mlx_random_categorical(mlx_array* res, const mlx_array logits, int axis, const mlx_array key, const mlx_stream s);
/* categorical with an output shape that the reduced logits shape
 * broadcasts to. */
int mlx_random_categorical_shape(mlx_array* res, const mlx_array logits, int axis, const int64_t* shape, int ndim,
                                 const mlx_array key, const mlx_stream s);
/* categorical with num_samples draws per distribution (a new last axis). */
int mlx_random_categorical_num_samples(mlx_array* res, const mlx_array logits, int axis, int num_samples,
                                       const mlx_array key, const mlx_stream s);
/* Laplace samples with location loc and scale (float32 values, as
 * upstream's float parameters). dtype floating. */
int mlx_random_laplace(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, float loc, float scale,
                       const mlx_array key, const mlx_stream s);
/* A random permutation of 0 .. n - 1 (uint32: argsort of random bits). */
int mlx_random_permutation_arange(mlx_array* res, int n, const mlx_array key, const mlx_stream s);
/* x with its entries along axis randomly permuted. */
int mlx_random_permutation(mlx_array* res, const mlx_array x, int axis, const mlx_array key, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
