/* Fast fused ops (upstream mx.fast): RMS and layer normalization, rotary
 * position embeddings and scaled dot-product attention, each one node with
 * a fused multithreaded CPU kernel that accumulates in float32 (float64
 * for float64 inputs). Values, result dtypes and shapes, and the inputs
 * that are errors follow upstream MLX; the transforms (vjp, jvp, vmap) go
 * through the same composition of plain ops that upstream falls back to,
 * or through analytic rules built from public ops where upstream has them.
 *
 * Conventions as in ops.h: the result through the first pointer (a new
 * handle the caller frees), inputs borrowed, an empty handle
 * (mlx_array_new()) for an absent optional array, the stream last. */
#ifndef MLX_FAST_H
#define MLX_FAST_H

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x * rsqrt(mean(x^2, -1) + eps) * weight over the last axis. weight (may
 * be empty) is 1-D with x's last dim. Result dtype: x's, promoted with
 * weight's; must be floating. Errors: 0-d x, a weight of the wrong shape,
 * a non-floating result type. */
int mlx_fast_rms_norm(mlx_array* res, const mlx_array x, const mlx_array weight, float eps, const mlx_stream s);

/* (x - mean) * rsqrt(var + eps) * weight + bias over the last axis.
 * weight and bias (each may be empty) are 1-D with x's last dim. Result
 * dtype: x's promoted with the given weight and bias; must be floating.
 * Errors as rms_norm. */
int mlx_fast_layer_norm(mlx_array* res, const mlx_array x, const mlx_array weight, const mlx_array bias, float eps,
                        const mlx_stream s);

/* Rotary position embedding of the first `dims` features of x (shape
 * [B, ..., T, D], at least 3-D; floating). Position t of batch b is
 * (t + offset[b]) * scale; frequencies are base^(-2i/dims) when has_base,
 * else 1 / freqs[i] (freqs 1-D of dims/2 entries; exactly one of base and
 * freqs). traditional rotates consecutive pairs (x[2i], x[2i+1]) instead
 * of the halves (x[i], x[i + dims/2]). offset: an integer scalar or a
 * vector of B entries. Errors as upstream: x under 3-D or not floating,
 * dims not positive, odd or over D, a bad offset or freqs. */
int mlx_fast_rope(mlx_array* res, const mlx_array x, int dims, int traditional, int has_base, float base, float scale,
                  const mlx_array offset, const mlx_array freqs, const mlx_stream s);

/* softmax(scale * q @ k^T + mask) @ v with the softmax in float32.
 * q: [B, Nq, Lq, D], k: [B, Nkv, Lk, D], v: [B, Nkv, Lk, Dv], Nkv dividing
 * Nq (grouped-query heads: query head h reads kv head h / (Nq / Nkv)).
 * mask_mode: NULL or "" (none, or mask when it is given), "causal"
 * (lower-right aligned: query i sees keys j <= i + Lk - Lq), or "array".
 * mask (may be empty): bool (false = masked out) or additive, broadcast
 * to [B, Nq, Lq, Lk], at most 4-D; its dtype must promote to the result
 * type. sinks (may be empty): [Nq] extra logits, one per head, that take
 * part in the softmax's normalization only. Result [B, Nq, Lq, Dv] of the
 * promoted type of q, k, v (floating). A fully masked row averages v, as
 * upstream's finfo.min fill gives. */
int mlx_fast_scaled_dot_product_attention(mlx_array* res, const mlx_array q, const mlx_array k, const mlx_array v,
                                          float scale, const char* mask_mode, const mlx_array mask,
                                          const mlx_array sinks, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
