/* Sorting, selection and scans.
 *
 * Same conventions as ops.h: results through the leading out-pointer (a new
 * lazy array the caller frees), inputs borrowed, the stream last, an int
 * status. Axes may be negative. Semantics follow upstream MLX (Python mlx
 * 0.32):
 *   - Order is ascending, NaN last (NaNs compare equal to each other), 0.0
 *     and -0.0 equal; complex numbers order by real part, then imaginary.
 *     Sorts are stable: equal elements keep their order.
 *   - Index results (argsort, argpartition, searchsorted) are uint32.
 *   - partition/argpartition place the kth element where a sort would and
 *     split the rest around it in the same order as upstream's CPU backend
 *     (libstdc++'s introselect), so results match Python MLX element for
 *     element; topk is partition(a, -k) sliced to its last k elements.
 *   - An axis out of range is MLX_ERROR_INDEX; kth/k out of range and an
 *     unknown side are MLX_ERROR_ARGUMENT.
 * The `_all` forms work on the flattened array (a 1-D result). */
#ifndef MLX_SORT_H
#define MLX_SORT_H

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sorting ------------------------------------------------------------ */
/* A copy of a sorted along axis (stable; NaN last). */
int mlx_sort(mlx_array* res, const mlx_array a, int axis, const mlx_stream s);
/* The flattened array, sorted. */
int mlx_sort_all(mlx_array* res, const mlx_array a, const mlx_stream s);
/* uint32 indices that sort a along axis (stable: ties keep index order). */
int mlx_argsort(mlx_array* res, const mlx_array a, int axis, const mlx_stream s);
/* uint32 indices that sort the flattened array. */
int mlx_argsort_all(mlx_array* res, const mlx_array a, const mlx_stream s);

/* ---- selection ---------------------------------------------------------- */
/* A copy of a with the element of sorted rank kth (negative: counted from
 * the end) at index kth along axis, smaller-or-equal elements before it and
 * greater-or-equal after. Errors: kth outside [-n, n) (MLX_ERROR_ARGUMENT). */
int mlx_partition(mlx_array* res, const mlx_array a, int kth, int axis, const mlx_stream s);
/* partition of the flattened array. */
int mlx_partition_all(mlx_array* res, const mlx_array a, int kth, const mlx_stream s);
/* uint32 indices that partition a along axis (as mlx_partition). */
int mlx_argpartition(mlx_array* res, const mlx_array a, int kth, int axis, const mlx_stream s);
/* argpartition of the flattened array. */
int mlx_argpartition_all(mlx_array* res, const mlx_array a, int kth, const mlx_stream s);
/* The k largest elements along axis (size k there), not necessarily in
 * sorted order: upstream's partition(a, -k) sliced to the last k (a itself
 * when k is the axis' size). Errors: k outside [0, n] (MLX_ERROR_ARGUMENT). */
int mlx_topk(mlx_array* res, const mlx_array a, int k, int axis, const mlx_stream s);
/* topk of the flattened array. */
int mlx_topk_all(mlx_array* res, const mlx_array a, int k, const mlx_stream s);

/* ---- median ------------------------------------------------------------- */
/* Median over the listed axes (the middle of the sorted values, the mean of
 * the two middle ones for an even count), at least float32 (float16,
 * bfloat16, float64, complex64 stay); NaN where the reduced group holds a
 * NaN. Errors: an axis out of range (MLX_ERROR_INDEX), a
 * repeated axis or an empty reduction (MLX_ERROR_ARGUMENT). */
int mlx_median_axes(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int keepdims,
                    const mlx_stream s);
/* Median of all elements. */
int mlx_median(mlx_array* res, const mlx_array a, int keepdims, const mlx_stream s);

/* ---- searchsorted ------------------------------------------------------- */
/* For each element of values, the uint32 insertion index into the 1-D
 * ascending sorted_sequence that keeps it sorted: the count of elements
 * less than it (right = 0) or less than or equal to it (right = 1), with
 * NaN largest. Both inputs are compared in their promoted dtype; the
 * result has values' shape. Errors: sorted_sequence not 1-D
 * (MLX_ERROR_ARGUMENT). */
int mlx_searchsorted(mlx_array* res, const mlx_array sorted_sequence, const mlx_array values, int right,
                     const mlx_stream s);

/* ---- scans -------------------------------------------------------------- */
/* Cumulative sum along axis: out[i] = a[0] + ... + a[i] (inclusive) or
 * a[0] + ... + a[i-1] (exclusive, out[0] = 0); reverse runs from the end.
 * bool sums as int32; other dtypes keep theirs (integers wrap). Errors: an
 * axis out of range (MLX_ERROR_INDEX; a 0-d array has none). */
int mlx_cumsum(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s);
/* Cumulative product (exclusive start 1; bool: logical and). */
int mlx_cumprod(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s);
/* Running maximum (exclusive start: the dtype's lowest value, -inf for
 * floats); NaN propagates. */
int mlx_cummax(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s);
/* Running minimum (exclusive start: the highest value, inf for floats). */
int mlx_cummin(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s);
/* Running log(sum(exp(a))), at least float32 (float16, bfloat16, float64,
 * complex64 stay); exclusive start -inf. */
int mlx_logcumsumexp(mlx_array* res, const mlx_array a, int axis, int reverse, int inclusive, const mlx_stream s);

#ifdef __cplusplus
}
#endif

#endif
