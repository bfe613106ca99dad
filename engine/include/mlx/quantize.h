/* Quantization: packing float matrices into low-bit integers (affine
 * mode: per-group scale and bias) or block floating point (mxfp4, mxfp8,
 * nvfp4: per-group power-of-two or fp8 scales), the matrix products that
 * read them, and fp8 (e4m3) conversion. Layouts are upstream MLX's, so
 * weights quantized by Python MLX load and multiply here unchanged:
 * values are a little-endian bit stream in uint32 words (bits per value:
 * 1-6 or 8 for affine, 4 or 8 for the fp modes). */
#ifndef MLX_QUANTIZE_H
#define MLX_QUANTIZE_H

#include "mlx/array.h"
#include "mlx/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mode names: "affine", "mxfp4", "mxfp8", "nvfp4". group_size and bits
 * <= 0 take the mode's defaults (affine 64/4, mxfp4 32/4, mxfp8 32/8,
 * nvfp4 16/4). */

/* Quantizes w (float32/float16/bfloat16, >= 2 dims, last dim divisible by
 * group_size) along its last axis. res gets [wq (uint32), scales, biases]
 * for affine (*nres = 3; scales/biases in w's dtype) or [wq, scales
 * (uint8)] for the fp modes (*nres = 2); res has capacity 3. */
int mlx_quantize(mlx_array* res, int* nres, const mlx_array w, int group_size, int bits, const char* mode,
                 const mlx_stream s);
/* The float matrix of a quantized one. biases: required for affine, an
 * empty handle otherwise. has_dtype: the result dtype, else scales' dtype
 * (affine) or bfloat16 (fp modes). */
int mlx_dequantize(mlx_array* res, const mlx_array w, const mlx_array scales, const mlx_array biases, int group_size,
                   int bits, const char* mode, int has_dtype, mlx_dtype dtype, const mlx_stream s);
/* x @ dequantize(w)^T (transpose) or x @ dequantize(w), with leading dims
 * broadcast as matmul does. The result dtype promotes x with scales
 * (affine; integers to float32) or is x's float dtype. Differentiable in x. */
int mlx_quantized_matmul(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales,
                         const mlx_array biases, int transpose, int group_size, int bits, const char* mode,
                         const mlx_stream s);
/* quantized_matmul of x[lhs_indices] with w[rhs_indices] (indices into the
 * flattened batch dims; empty handles mean "every batch element in
 * order"), the index shapes broadcast. Result [idx..., M, N]. */
int mlx_gather_qmm(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales,
                   const mlx_array biases, const mlx_array lhs_indices, const mlx_array rhs_indices, int transpose,
                   int group_size, int bits, const char* mode, int sorted_indices, const mlx_stream s);
/* x (quantized and dequantized in mode, as the hardware would see it) @
 * w^T where w is either a float matrix (quantized here) or already
 * quantized (uint32, with scales). fp modes only. */
int mlx_qqmm(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array scales, int group_size, int bits,
             const char* mode, const mlx_stream s);
/* Float to fp8 e4m3 bytes (uint8), saturating at +-448 (NaN -> 448 as
 * upstream), and back (dtype float32/float16/bfloat16). */
int mlx_to_fp8(mlx_array* res, const mlx_array x, const mlx_stream s);
int mlx_from_fp8(mlx_array* res, const mlx_array x, mlx_dtype dtype, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
