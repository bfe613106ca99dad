/* Shapes and views family: the CPU kernels behind reshape, transpose,
 * broadcast_to, slice, split, concatenate and pad, their parameter
 * layouts (shared with ops/shape.c and ops/join.c), and a strided block
 * copy other families may use to write into a sub-region of an output. */
#ifndef MLX_CPU_SHAPE_H
#define MLX_CPU_SHAPE_H

#include "../internal.h"

/* Copies a block of `shape` elements of `itemsize` bytes (1, 2, 4 or 8)
 * from src to dst, both addressed by element strides (src strides may be 0
 * or negative; dst strides must not alias two elements). dst and src point
 * at element 0 and must not overlap. Splits large blocks over the pool;
 * tiles transposed sources. ndim <= MLX_SHAPE_MAX_NDIM_ (kept on the
 * stack). */
void mlx_copy_strided_(
    void* dst,
    const int64_t* dst_strides,
    const void* src,
    const int64_t* src_strides,
    const int64_t* shape,
    int ndim,
    size_t itemsize);

/* The most dims an op of this family takes or makes: ops and kernels keep
 * shapes in VLAs, so ranks that come from user input are bounded. */
#define MLX_SHAPE_MAX_NDIM_ 1024
/* Checks that a is a non-empty handle of at most MLX_SHAPE_MAX_NDIM_ dims
 * and that out_ndim (the rank the caller will make) is within it too. */
int mlx_shape_check_(const mlx_array a, int64_t out_ndim, const char* op);

/* Writes a shape as "(2,3)" into buf (cap >= 32 bytes, cut short with "..."
 * when long) and returns buf: for error messages. */
const char* mlx_shape_str_(char* buf, size_t cap, const int64_t* shape, int ndim);

/* Pad modes (mlx_pad's mode strings, in order). */
enum { MLX_PAD_CONSTANT_ = 0, MLX_PAD_EDGE_, MLX_PAD_REFLECT_, MLX_PAD_SYMMETRIC_ };

/* The source index along a padded axis of n > 0 elements for output
 * position p (p - low may be negative or >= n) in a non-constant mode. */
int64_t mlx_pad_source_(int mode, int64_t p, int64_t low, int64_t n);

/* Params of pad: the mode and the low padding of every axis (0 where the
 * axis is not padded); the high padding follows from the output shape. */
typedef struct {
  int mode;
  int ndim;
  int64_t low[];
} mlx_pad_params_;

/* The region slice_update (params first, step per dim) writes in out:
 * *dst_off (items) and dstr (positive steps of out's strides), and the
 * update read from *src_off (items) with strides sstr (a negative step
 * reads it backwards). ndim = out->ndim entries each. */
void mlx_slice_update_region_(const mlx_node_* out, const mlx_node_* upd, const int64_t* first, const int64_t* step,
                              int64_t* dst_off, int64_t* dstr, int64_t* src_off, int64_t* sstr);

/* Where one copy of a pad plan reads from: the input (its own strides),
 * the pad value (strides all 0) or the output itself (rows already
 * written by earlier copies of the plan). */
typedef enum { MLX_PAD_FROM_INPUT_, MLX_PAD_FROM_VALUE_, MLX_PAD_FROM_OUTPUT_ } mlx_pad_from_;

/* One strided copy of a pad plan: box[out ndim] items to the output at
 * item offset dst_off (output strides) from `from` at item offset
 * src_off with item strides sstr. Returns MLX_OK or an error status. */
typedef int (*mlx_pad_move_fn_)(void* ctx, int64_t dst_off, mlx_pad_from_ from, int64_t src_off, const int64_t* sstr,
                                const int64_t* box);

/* Plans pad (out = in padded as pp says) as a sequence of strided copies
 * handed to move in order; each copy reads only what earlier ones wrote,
 * so the CPU and the GPU kernels share one plan. Returns the first error
 * of move. */
int mlx_pad_plan_(const mlx_node_* out, const mlx_node_* in, const mlx_pad_params_* pp, mlx_pad_move_fn_ move,
                  void* ctx);

/* Params of the kernels:
 *   reshape:     none (the output shape is the node's)
 *   transpose:   int perm[ndim]
 *   broadcast:   none
 *   slice:       int64_t start[ndim], step[ndim] (normalized, in range)
 *   split:       int64_t axis, start[nout] (start of each piece on axis)
 *   concatenate: int axis (inputs already share the output dtype) */
/* Strides that make a reshape of in to oshape a view; 0 when it needs a
 * copy (cpu/shape.c; the GPU reshape uses it too). */
int mlx_reshape_view_strides_(int64_t* ostr, const mlx_node_* in, const int64_t* oshape, int ondim);
int mlx_cpu_reshape_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_transpose_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_broadcast_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_slice_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_split_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_concatenate_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* ins: the array and, for mode constant, the pad value (a size-1 array of
 * the output dtype). */
int mlx_cpu_pad_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* slice_update: ins[0] (the source) with ins[1] (same dtype, the
 * region's shape) written into the region of params int64_t first[ndim],
 * step[ndim] (normalized, in range; steps may be negative). */
int mlx_cpu_slice_update_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
