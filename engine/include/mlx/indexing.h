/* Gathers and scatters: indexing with integer arrays.
 *
 * The two primitives follow upstream MLX's Gather and Scatter:
 *
 *   gather(a, indices[k], axes[k], slice_sizes)
 *     The index arrays are broadcast together to a shape I. For each
 *     position p of I, a slice of shape slice_sizes is read from a
 *     starting at a[..., indices[k][p] on axis axes[k], ..., 0 elsewhere].
 *     The result has shape I + slice_sizes.
 *
 *   scatter(a, indices[k], updates, axes[k])   (and _add _prod _max _min)
 *     updates has shape I + U with one entry of U per axis of a
 *     (U[d] <= a.shape[d]); the block updates[p] is written (or added,
 *     multiplied, max-ed, min-ed) into a copy of a at the same start as
 *     gather reads. Repeated indices accumulate for the reducing forms;
 *     for the plain form the last write wins.
 *
 * Indices: any integer dtype (mixed dtypes are promoted); bool and
 * floating indices are errors. Negative indices count from the end of
 * their axis, once (-1 is the last element). Indices still out of range
 * after that are undefined behaviour upstream (the CPU reads or writes
 * out of bounds); here a gather clamps them into [0, n - 1] and a scatter
 * drops the update, so nothing is ever read or written out of bounds.
 *
 * Every op records a node (nothing runs until mlx_eval); inputs are
 * borrowed, *res gets a new handle. */
#ifndef MLX_INDEXING_H
#define MLX_INDEXING_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The gather above: nidx index arrays for the distinct axes axes[0..nidx)
 * and slice_sizes (one per axis of a, each in [0, a.shape[d]]). nidx may
 * be 0 (then I is the empty shape). Errors: more index arrays than axes
 * of a, repeated or out-of-range axes, bool or floating indices, index
 * shapes that do not broadcast, bad slice sizes, a non-empty gather from
 * an empty array. */
int mlx_gather(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const int* axes,
               const int64_t* slice_sizes, const mlx_stream s);

/* The scatter above with its reduction: a copy of a with the blocks of
 * updates written at the gathered positions (updates are cast to a's
 * dtype). Errors: as mlx_gather, and updates whose rank is not
 * rank(I) + rank(a), whose leading dims differ from I, or whose block is
 * larger than a along some axis. */
int mlx_scatter(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                const int* axes, const mlx_stream s);
int mlx_scatter_add(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s);
int mlx_scatter_prod(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                     const int* axes, const mlx_stream s);
int mlx_scatter_max(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s);
int mlx_scatter_min(mlx_array* res, const mlx_array a, const mlx_array* indices, size_t nidx, const mlx_array updates,
                    const int* axes, const mlx_stream s);

/* a's elements at indices along axis: the result has a's shape with
 * axis replaced by indices' shape (NumPy/MLX take). Errors: bad axis, a
 * non-empty take from an empty axis, non-integer indices. */
int mlx_take(mlx_array* res, const mlx_array a, const mlx_array indices, int axis, const mlx_stream s);
/* a's slice at integer index along *axis (NULL: of the flattened a), the
 * axis dropped: a view, as upstream's integer take (no kernel, no index
 * array). A negative index counts from the end. Errors: bad axis
 * (argument), index out of bounds (index). */
int mlx_take_index(mlx_array* res, const mlx_array a, int64_t index, const int* axis, const mlx_stream s);
/* take over the flattened a: the result has indices' shape. */
int mlx_take_all(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_stream s);

/* out[..., i, ...] = a[..., indices[..., i, ...], ...] along axis, with
 * a and indices broadcast against each other on every other axis; the
 * result has the broadcast shape with indices' size on axis. Errors: bad
 * axis, indices of another rank than a, non-integer indices. */
int mlx_take_along_axis(mlx_array* res, const mlx_array a, const mlx_array indices, int axis, const mlx_stream s);

/* A copy of a with values (cast to a's dtype, broadcast to indices'
 * shape) written at indices along axis (the inverse of
 * take_along_axis; for repeated indices the last write wins). indices
 * and values broadcast against a on the other axes. Errors: as
 * take_along_axis. */
int mlx_put_along_axis(mlx_array* res, const mlx_array a, const mlx_array indices, const mlx_array values, int axis,
                       const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
