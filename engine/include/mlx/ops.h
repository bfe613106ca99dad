/* Operations on arrays.
 *
 * Every op has the same form: results through the leading out-pointer(s)
 * (new handles, to be freed by the caller), inputs borrowed, the stream last
 * (MLX_DEFAULT_STREAM for the default), and an int status. Ops only record a
 * node of the graph; nothing is computed until mlx_eval. Errors that depend
 * only on shapes and dtypes are reported here, at construction. Axes may be
 * negative (counted from the end). Semantics (dtypes, broadcasting, shapes)
 * follow upstream MLX. */
#ifndef MLX_OPS_H
#define MLX_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- creation -------------------------------------------------------- */
int mlx_zeros(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_stream s);
int mlx_ones(mlx_array* res, const int64_t* shape, int ndim, mlx_dtype dtype, const mlx_stream s);
/* vals broadcast to shape and cast to dtype. */
int mlx_full(mlx_array* res, const int64_t* shape, int ndim, const mlx_array vals, mlx_dtype dtype, const mlx_stream s);
int mlx_zeros_like(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_ones_like(mlx_array* res, const mlx_array a, const mlx_stream s);
/* [start, stop) by step, ceil((stop-start)/step) elements. */
int mlx_arange(mlx_array* res, double start, double stop, double step, mlx_dtype dtype, const mlx_stream s);
/* num evenly spaced values from start to stop inclusive. */
int mlx_linspace(mlx_array* res, double start, double stop, int64_t num, mlx_dtype dtype, const mlx_stream s);
/* n x m with ones on diagonal k. */
int mlx_eye(mlx_array* res, int64_t n, int64_t m, int64_t k, mlx_dtype dtype, const mlx_stream s);
int mlx_identity(mlx_array* res, int64_t n, mlx_dtype dtype, const mlx_stream s);
/* n x m, ones at and below diagonal k. */
int mlx_tri(mlx_array* res, int64_t n, int64_t m, int64_t k, mlx_dtype dtype, const mlx_stream s);
/* Zero above (tril) / below (triu) diagonal k of the last two axes. */
int mlx_tril(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s);
int mlx_triu(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s);

/* ---- type and copies ------------------------------------------------- */
int mlx_astype(mlx_array* res, const mlx_array a, mlx_dtype dtype, const mlx_stream s);
/* A row-major copy (a view when already row-major contiguous). */
int mlx_contiguous(mlx_array* res, const mlx_array a, int allow_col_major, const mlx_stream s);
/* Identity with no gradient (the graph stops here for transforms). */
int mlx_stop_gradient(mlx_array* res, const mlx_array a, const mlx_stream s);

/* ---- unary elementwise ----------------------------------------------- */
int mlx_abs(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_negative(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_sign(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_sqrt(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_rsqrt(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_square(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_reciprocal(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_exp(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_expm1(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_log(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_log1p(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_log2(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_log10(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_sin(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_cos(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_tan(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arcsin(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arccos(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arctan(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_sinh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_cosh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_tanh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arcsinh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arccosh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_arctanh(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_sigmoid(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_erf(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_erfinv(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_floor(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_ceil(mlx_array* res, const mlx_array a, const mlx_stream s);
/* Round half to even at `decimals` decimal places. */
int mlx_round(mlx_array* res, const mlx_array a, int decimals, const mlx_stream s);
int mlx_degrees(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_radians(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_real(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_imag(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_conjugate(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_logical_not(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_bitwise_invert(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_isnan(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_isinf(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_isposinf(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_isneginf(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_isfinite(mlx_array* res, const mlx_array a, const mlx_stream s);

/* ---- binary elementwise (broadcasting, MLX promotion) ----------------- */
int mlx_add(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_subtract(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_multiply(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_divide(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_power(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_remainder(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_floor_divide(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_maximum(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_minimum(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_logaddexp(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_arctan2(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_equal(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_not_equal(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_greater(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_greater_equal(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_less(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_less_equal(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_logical_and(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_logical_or(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_bitwise_and(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_bitwise_or(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_bitwise_xor(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_left_shift(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
int mlx_right_shift(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
/* cond ? x : y, broadcasting all three. */
int mlx_where(mlx_array* res, const mlx_array cond, const mlx_array x, const mlx_array y, const mlx_stream s);
/* Clamp to [a_min, a_max]; either bound may be an empty handle (no bound),
 * not both. */
int mlx_clip(mlx_array* res, const mlx_array a, const mlx_array a_min, const mlx_array a_max, const mlx_stream s);

/* ---- reductions ------------------------------------------------------ */
/* `_axes` variants reduce over the listed axes; the plain ones over all. */
int mlx_sum(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_sum_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_mean(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_mean_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_prod(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_prod_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_max(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_max_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_min(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_min_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_all(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_all_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_any(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_any_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_logsumexp(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_logsumexp_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, const mlx_stream s);
int mlx_var(mlx_array* res, const mlx_array a, int keepdims, int ddof, const mlx_stream s);
int mlx_var_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, int ddof, const mlx_stream s);
int mlx_std(mlx_array* res, const mlx_array a, int keepdims, int ddof, const mlx_stream s);
int mlx_std_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims, int ddof, const mlx_stream s);
/* Index (uint32) of the first max/min; the plain form over the flattened
 * array. */
int mlx_argmax(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_argmax_axis(mlx_array* res, const mlx_array a, int axis, int keepdims, const mlx_stream s);
int mlx_argmin(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);
int mlx_argmin_axis(mlx_array* res, const mlx_array a, int axis, int keepdims, const mlx_stream s);
/* Softmax over all axes / the listed axes; precise computes in float32 for
 * half-precision inputs. */
int mlx_softmax(mlx_array* res, const mlx_array a, int precise, const mlx_stream s);
int mlx_softmax_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int precise, const mlx_stream s);

/* ---- shapes and views -------------------------------------------------- */
/* One entry of shape may be -1 (inferred). A view when the layout allows. */
int mlx_reshape(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const mlx_stream s);
int mlx_flatten(mlx_array* res, const mlx_array a, int start_axis, int end_axis, const mlx_stream s);
int mlx_unflatten(mlx_array* res, const mlx_array a, int axis, const int64_t* shape, int ndim, const mlx_stream s);
/* axes: a permutation; NULL with naxes 0 reverses the axes. */
int mlx_transpose(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s);
int mlx_squeeze(mlx_array* res, const mlx_array a, const mlx_stream s);
int mlx_squeeze_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s);
int mlx_expand_dims(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s);
int mlx_broadcast_to(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const mlx_stream s);
/* The broadcast of two shapes into out (capacity andim + bndim). */
int mlx_broadcast_shapes(int64_t* out, int* out_ndim, const int64_t* a, int andim, const int64_t* b, int bndim);
int mlx_concatenate(mlx_array* res, const mlx_array* arrays, size_t n, int axis, const mlx_stream s);
int mlx_stack(mlx_array* res, const mlx_array* arrays, size_t n, int axis, const mlx_stream s);
/* Splits at the given indices along axis into nindices + 1 arrays written
 * to res (capacity nindices + 1). */
int mlx_split(mlx_array* res, const mlx_array a, const int64_t* indices, size_t nindices, int axis, const mlx_stream s);
/* Splits into `sections` equal parts (res capacity sections). */
int mlx_split_equal(mlx_array* res, const mlx_array a, int64_t sections, int axis, const mlx_stream s);
int mlx_moveaxis(mlx_array* res, const mlx_array a, int source, int destination, const mlx_stream s);
int mlx_swapaxes(mlx_array* res, const mlx_array a, int axis1, int axis2, const mlx_stream s);
/* Pads the listed axes by (low, high) pairs: lows[i], highs[i] for axes[i].
 * mode: "constant" (with pad_value) or "edge". */
int mlx_pad(mlx_array* res, const mlx_array a, const int* axes, const int64_t* lows, const int64_t* highs, size_t naxes, const mlx_array pad_value, const char* mode, const mlx_stream s);
int mlx_tile(mlx_array* res, const mlx_array a, const int64_t* reps, size_t nreps, const mlx_stream s);
/* repeats along axis; the _all form repeats the flattened array. */
int mlx_repeat(mlx_array* res, const mlx_array a, int64_t repeats, int axis, const mlx_stream s);
int mlx_repeat_all(mlx_array* res, const mlx_array a, int64_t repeats, const mlx_stream s);
/* a[start:stop:step] per axis (one entry per axis of a). Python slice
 * semantics for clamping; negative steps allowed. A view. */
int mlx_slice(mlx_array* res, const mlx_array a, const int64_t* start, const int64_t* stop, const int64_t* strides, int ndim, const mlx_stream s);
/* src with a[start:stop:step] (per axis, as mlx_slice reads them)
 * replaced by update, which is cast to src's dtype and broadcast to the
 * region's shape. A new array; src and update are borrowed. Errors: wrong
 * number of indices, a zero step, an update that does not broadcast to
 * the region. */
int mlx_slice_update(mlx_array* res, const mlx_array src, const mlx_array update, const int64_t* start, const int64_t* stop, const int64_t* strides, int ndim, const mlx_stream s);

/* ---- strided views ----------------------------------------------------- */
/* A view of a's row-major data (a is made contiguous first) with the
 * given shape, element strides and element offset. Errors: nstrides !=
 * ndim, a layout that reaches outside a (upstream reads out of bounds). */
int mlx_as_strided(mlx_array* res, const mlx_array a, const int64_t* shape, int ndim, const int64_t* strides, size_t nstrides, int64_t offset, const mlx_stream s);
/* a's bytes as dtype: the last axis scales by the size ratio. Errors: a
 * 0-d array to a dtype of another size, a last axis whose bytes do not
 * divide into the larger dtype. Not differentiable. */
int mlx_view(mlx_array* res, const mlx_array a, mlx_dtype dtype, const mlx_stream s);
/* The diagonal at offset of the (axis1, axis2) planes, appended as the
 * last axis (a view). */
int mlx_diagonal(mlx_array* res, const mlx_array a, int64_t offset, int axis1, int axis2, const mlx_stream s);
/* 1-D a: a matrix with a on diagonal k; 2-D a: its diagonal k. */
int mlx_diag(mlx_array* res, const mlx_array a, int64_t k, const mlx_stream s);
/* Sum of the diagonal (sum's dtype rules), cast to dtype when has_dtype. */
int mlx_trace(mlx_array* res, const mlx_array a, int64_t offset, int axis1, int axis2, int has_dtype, mlx_dtype dtype, const mlx_stream s);

/* ---- linear algebra ---------------------------------------------------- */
/* a @ b with NumPy matmul semantics: 1-D operands promoted and squeezed,
 * leading dims broadcast. Inexact dtypes only (ints error as in MLX). */
int mlx_matmul(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
