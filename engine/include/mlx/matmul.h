/* The matmul family beyond mlx_matmul (declared in ops.h): addmm, inner,
 * outer, tensordot, kron, einsum and its path, block-masked, gathered and
 * segmented products, and the Hadamard transform.
 *
 * Conventions as in ops.h: results go to *res (its previous content is
 * released), inputs are borrowed, errors are reported at construction where
 * they depend only on shapes and dtypes. Semantics (dtypes, shapes, which
 * inputs are errors) follow upstream MLX 0.32. Products need inexact
 * (floating or complex) result dtypes, as mlx_matmul does. */
#ifndef MLX_MATMUL_H
#define MLX_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* alpha * (a @ b) + beta * c. a and b follow mlx_matmul (1-D operands
 * promoted and the added dim dropped); c must broadcast to the product's
 * shape. The result dtype is the promotion of all three and must be real
 * floating or complex (an int c with float operands is fine). beta == 0
 * ignores c's values. Half-precision results are computed in float32 and
 * rounded once. */
int mlx_addmm(mlx_array* res, const mlx_array c, const mlx_array a, const mlx_array b, float alpha, float beta,
              const mlx_stream s);

/* The hidden states of an Elman RNN with tanh, [..., L, H], over the
 * time axis (-2) of xw, its input projection (x Wxh^T + bias):
 * h_t = tanh(xw_t + h_{t-1} whh_t) (addmm), starting from *hidden, or
 * with h_0 = tanh(xw_0) when hidden is NULL. Records the ops of the
 * per-step loop (slice, addmm, tanh, stack), so results and gradients are
 * those of the loop written out. */
int mlx_rnn_tanh_steps(mlx_array* res, const mlx_array xw, const mlx_array whh_t, const mlx_array* hidden,
                       const mlx_stream s);

/* Inner product over the last axes: shape a.shape[:-1] + b.shape[:-1]; a
 * 0-d operand multiplies elementwise. Error if the last dims differ. */
int mlx_inner(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

/* Outer product of the flattened operands: (a.size, b.size). Any dtype. */
int mlx_outer(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

/* Sums products over the last `axis` axes of a and the first `axis` of b
 * (0 <= axis <= min(a.ndim, b.ndim)). */
int mlx_tensordot(mlx_array* res, const mlx_array a, const mlx_array b, int axis, const mlx_stream s);

/* Sums products over axes_a of a paired with axes_b of b (n each, may be
 * negative); the result has a's free axes then b's, in order. Errors:
 * axes out of range or repeated, contracted dims that differ. */
int mlx_tensordot_axes(mlx_array* res, const mlx_array a, const mlx_array b, const int* axes_a, const int* axes_b,
                       size_t n, const mlx_stream s);

/* Kronecker product (any dtype); shapes are padded with leading 1s to the
 * same rank. Error for empty inputs, as upstream. */
int mlx_kron(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

/* Einstein summation over n operands. Grammar as NumPy/MLX: letters (a-z,
 * A-Z), one "..." per operand, "->" then the output (implicit form: the
 * letters used once, sorted, after the ellipsis dims), repeated letters in
 * an operand take its diagonal, size-1 dims broadcast. Contraction order
 * from a greedy path as upstream's (see mlx_einsum_path). Errors: bad
 * characters, operand count or rank mismatch, repeated output letters,
 * unequal sizes. */
int mlx_einsum(mlx_array* res, const char* subscripts, const mlx_array* operands, size_t n, const mlx_stream s);

/* The contraction order mlx_einsum uses. Step i contracts the operands at
 * positions[offset_i .. offset_i + counts[i]) of the current list (the
 * result is appended at the end); *nsteps steps. positions has capacity
 * n * n + 1, counts n + 1. summary (capacity summary_cap, always
 * NUL-terminated) gets upstream's report: the contraction, naive and
 * optimized scaling and FLOP counts. Same errors as mlx_einsum. */
int mlx_einsum_path(int* positions, int* counts, size_t* nsteps, char* summary, size_t summary_cap,
                    const char* subscripts, const mlx_array* operands, size_t n);

/* a @ b (as mlx_matmul, at least 1-D each) with blocks of block_size x
 * block_size (32 or 64, as upstream; without masks any) masked: mask_lhs
 * broadcasting to (..., ceil(M/bs), ceil(K/bs)) on a, mask_rhs to (...,
 * ceil(K/bs), ceil(N/bs)) on b, mask_out to (..., ceil(M/bs),
 * ceil(N/bs)) on the result. Any mask may be an empty handle
 * (none). Boolean masks zero the blocks they clear (their values never
 * reach the result); other masks scale the blocks. */
int mlx_block_masked_mm(mlx_array* res, const mlx_array a, const mlx_array b, int block_size,
                        const mlx_array mask_out, const mlx_array mask_lhs, const mlx_array mask_rhs,
                        const mlx_stream s);

/* Batched a @ b with the batch picked by indices: out[i] =
 * a_flat[lhs_indices[i]] @ b_flat[rhs_indices[i]], where a_flat / b_flat
 * are a and b with their batch dims flattened. Either index array may be
 * an empty handle (arange over that operand's batch). The index arrays
 * (integral) broadcast together; the result has their shape then (M, N),
 * 1-D operands' dims dropped as in matmul. Without indices this is
 * mlx_matmul. sorted_indices is a hint (the rhs indices are sorted). An
 * index out of range fails the evaluation with MLX_ERROR_INDEX. */
int mlx_gather_mm(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array lhs_indices,
                  const mlx_array rhs_indices, int sorted_indices, const mlx_stream s);

/* For a 2-D a (M, K) and b (K, N) and integral segments (..., 2): out[...]
 * = a[:, start:end] @ b[start:end, :] for each segment [start, end) (an
 * empty or reversed segment gives zeros; bounds clamp to [0, K]). Result
 * (..., M, N), real floating. */
int mlx_segmented_mm(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array segments,
                     const mlx_stream s);

/* The Hadamard transform along the last axis, of size n = m * 2^k with m
 * in {1, 12, 20, 28} (upstream's Sloane matrices for m > 1), times scale
 * (has_scale == 0: 1 / sqrt(n)). Integer and bool inputs give float32,
 * complex inputs their real part in float32; float64 stays float64 (an
 * error upstream). Errors: empty input, an unsupported size. */
int mlx_hadamard_transform(mlx_array* res, const mlx_array a, int has_scale, float scale, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
