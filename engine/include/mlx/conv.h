/* Convolutions, channels-last as in MLX: input [N, spatial..., C_in]
 * (NLC / NHWC / NDHWC), weight [C_out, kernel..., C_in / groups], result
 * [N, out spatial..., C_out]. 1 to 3 spatial dims. The input must be
 * floating point (float16, bfloat16, float32, float64); the result dtype is
 * the promotion of input and weight. Same conventions as ops.h: result
 * through the leading pointer, inputs borrowed, stream last, int status. */
#ifndef MLX_CONV_H
#define MLX_CONV_H

#include <stddef.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The general convolution every other op here is built from. Each list
 * (stride, padding_lo, padding_hi, kernel_dilation, input_dilation) has 0
 * entries (the default: 1, 0, 0, 1, 1), 1 entry (used for every spatial
 * dim) or one per spatial dim. Negative padding crops the input. flip
 * flips the kernel spatially (true convolution instead of correlation).
 * groups splits the channels into independent groups (only with 1 or 2
 * spatial dims, as upstream). Errors: non-floating input, wrong ranks,
 * channel or group mismatch, non-positive strides/dilations/groups, lists
 * of the wrong length, a kernel larger than the padded input. */
int mlx_conv_general(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, size_t nstride,
                     const int* padding_lo, size_t npadding_lo, const int* padding_hi, size_t npadding_hi,
                     const int* kernel_dilation, size_t nkernel_dilation, const int* input_dilation,
                     size_t ninput_dilation, int groups, int flip, const mlx_stream s);

/* 1-D convolution (correlation) of input [N, L, C_in] with weight [C_out,
 * K, C_in / groups]: symmetric padding, kernel dilation. */
int mlx_conv1d(mlx_array* res, const mlx_array input, const mlx_array weight, int stride, int padding, int dilation,
               int groups, const mlx_stream s);
/* 2-D convolution; stride, padding and dilation have 2 entries (H, W). */
int mlx_conv2d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, const int* padding,
               const int* dilation, int groups, const mlx_stream s);
/* 3-D convolution; stride, padding and dilation have 3 entries. */
int mlx_conv3d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, const int* padding,
               const int* dilation, int groups, const mlx_stream s);

/* Transposed convolutions (the gradient of the convolution with respect to
 * its input), built as upstream MLX builds them: a conv_general with the
 * stride as input dilation, flipped kernel and padding
 * (dilation * (K - 1) - padding) low, that plus output_padding high.
 * Weight [C_out, kernel..., C_in / groups]. */
int mlx_conv_transpose1d(mlx_array* res, const mlx_array input, const mlx_array weight, int stride, int padding,
                         int dilation, int output_padding, int groups, const mlx_stream s);
/* 2-D transposed convolution; every list has 2 entries. */
int mlx_conv_transpose2d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride,
                         const int* padding, const int* dilation, const int* output_padding, int groups,
                         const mlx_stream s);
/* 3-D transposed convolution; every list has 3 entries. */
int mlx_conv_transpose3d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride,
                         const int* padding, const int* dilation, const int* output_padding, int groups,
                         const mlx_stream s);

/* Discrete 1-D convolution of two non-empty 1-D arrays, as numpy.convolve:
 * mode "full" (length n + m - 1), "valid" (max - min + 1) or "same" (the
 * longer one's length). The longer array slides under the reversed shorter
 * one. Errors: not 1-D, empty, unknown mode, non-floating input. */
int mlx_convolve(mlx_array* res, const mlx_array a, const mlx_array v, const char* mode, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
