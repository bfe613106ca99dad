/* The CUDA backend as the core sees it: the hooks that allocator.c,
 * layout.c, eval.c, array.c and device.c call (each call guarded by
 * MLX_HAVE_CUDA, so the CPU-only build compiles exactly as before) and
 * the GPU kernels that the primitives of ops/ list as their .gpu entries.
 * Free of CUDA types, so every engine file can include it (internal.h
 * does, in CUDA builds). Implemented in cuda/backend.c and the kernel
 * drivers of cuda/kernels.c. */
#ifndef MLX_CUDA_HOOKS_H
#define MLX_CUDA_HOOKS_H

#include <stddef.h>

struct mlx_node_;
struct mlx_buffer_;

/* allocator.c: the last reference of b is gone; its device copy (if any)
 * goes back to the device cache, reusable once its last use is done. */
void mlx_cuda_buffer_release_(struct mlx_buffer_* b);
/* layout.c: a CPU kernel is about to overwrite b's host copy in place
 * (donation), so a device copy of it becomes stale. */
void mlx_cuda_host_written_(struct mlx_buffer_* b);
/* eval.c / array.c: makes the host copy of an evaluated node's buffer
 * current (after the GPU kernel that wrote it), before the CPU reads it. */
int mlx_cuda_host_sync_(struct mlx_node_* n);
/* eval.c: waits until the GPU kernels that wrote the evaluated nodes
 * (those a GPU kernel wrote) are done, each writer stream once, as
 * upstream's eval returns with its arrays computed. */
int mlx_cuda_wait_ready_(struct mlx_node_* const* nodes, size_t n);
/* allocator.c: the GPU side of the memory API, over every device the
 * backend has used: the bytes cached (MLX_CUDA_CACHE_BYTES_, returned),
 * emptying the caches, resetting the peaks, trimming each cache to
 * `limit` and keeping it there (MLX_CUDA_SET_CACHE_LIMIT_). */
enum { MLX_CUDA_CACHE_BYTES_, MLX_CUDA_CLEAR_CACHES_, MLX_CUDA_RESET_PEAKS_, MLX_CUDA_SET_CACHE_LIMIT_ };
size_t mlx_cuda_memory_control_(int what, size_t limit);
/* allocator.c: one device's active, peak and cached bytes and its total
 * memory (pointers may be NULL). */
int mlx_cuda_memory_stats_(int dev, size_t* active, size_t* peak, size_t* cache, size_t* total);
/* device.c: waits until everything enqueued on the stream is done. */
int mlx_cuda_synchronize_(int stream_index, int device);

/* eval.c: GPU peepholes over a tape of n ops (cuda/fuse.c), one entry
 * per op: role 0 runs it as usual; 1 skips it (the one op that reads its
 * output runs it); 2 runs it with its producer op fused in through
 * mlx_cuda_addmm_: an add reading a skipped matmul, or (act, an
 * MLX_CU_ACT_* code, nonzero) an activation reading a skipped add that
 * reads a skipped matmul (the add's entry names the matmul); keep_pre:
 * the add's output is held beyond the activation too, so the fused
 * kernel also stores it. Returns how many fusions. */
struct mlx_op_;
typedef struct {
  int role, producer, act, keep_pre;
} mlx_cuda_fusion_;
int mlx_cuda_plan_fusions_(struct mlx_op_* const* tape, int n, mlx_cuda_fusion_* plan);
/* Role 3 marks ops of a run of elementwise ops that mlx_cuda_run_group_
 * runs as one kernel, at the run's last op (role 4, producer: the first
 * op's index). */
/* Runs ops[0..n) (a planned run) as one kernel: the outputs that other
 * ops or handles still hold (the caller holds one more reference on
 * each) get buffers; sets escapes[k] for those
 * (their ops then detach as if run), or *declined (nothing done, run
 * them one by one) when an input's layout does not suit. */
int mlx_cuda_run_group_(struct mlx_op_* const* ops, int n, unsigned char* escapes, int* declined);
/* mlx_cuda_addmm_'s params: act and pre (NULL, or the node that also
 * gets the value before the activation: only the few-row kernel can) in,
 * done out. */
typedef struct {
  int act, done;
  struct mlx_node_* pre;
} mlx_cuda_addmm_params_;

/* GPU kernels (kernels.c): the .gpu entries of the elementwise, copy and
 * reduction primitives. Same contract as the CPU kernels. */
int mlx_cuda_copy_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_unary_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_binary_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_select_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_reduce_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* Phase 2a (cuda/ops2a.c): reshape (a view, else a device copy), full,
 * eye/tri, matmul (cuBLAS), softmax and logsumexp. The pure view kernels
 * (transpose, broadcast_to, slice, split, as_strided, diagonal) are the
 * CPU ones: they only write layout metadata. */
int mlx_cuda_reshape_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_full_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_eye_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_tri_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_arange_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_linspace_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_matmul_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* act(c + a @ b) in one product (the fused add(matmul(a, b), c) and
 * its activation; ins {a, b, c}; params an mlx_cuda_addmm_params_ whose
 * done is set to 1, or to 0 when the layouts do not suit and nothing was
 * written or allocated: then run the ops one by one). */
int mlx_cuda_addmm_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_softmax_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_logsumexp_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* Phase 2b: rms_norm, layer_norm and rope (fast.c), random bits and
 * split (random.c), gather/scatter and their along-axis forms (indexing.c), argmax/argmin (kernels.c),
 * copies into sub-regions (join.c). */
int mlx_cuda_fast_rms_norm_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_fast_layer_norm_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_fast_rope_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_fast_sdpa_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_random_bits_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_random_split_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_gather_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_scatter_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_gather_axis_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_scatter_axis_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_argreduce_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_concatenate_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_pad_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_slice_update_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* conv (conv.c): im2col on the device, then a cuBLAS gemm per chunk. */
int mlx_cuda_conv_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* sort, argsort, partition, argpartition (sort.c), the scans (scan.c),
 * tril/triu (tri.c). */
int mlx_cuda_sort_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_scan_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_tril_triu_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* quantize, dequantize, quantized_matmul (affine mode), to_fp8 and
 * from_fp8 (quantize.c); view (ops2a.c: a device copy of the bytes when
 * the input's offset does not fall on the new element size). */
int mlx_cuda_quantize_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_dequantize_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_quantized_matmul_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_to_fp8_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_from_fp8_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_view_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* gather_mm (matmul.c) and gather_qmm (quantize.c, affine): the indices
 * read on the host, one product per gathered pair. */
int mlx_cuda_gather_mm_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cuda_gather_qmm_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
/* The CPU view kernels the GPU entries reuse (cpu/shape.h, cpu/strided.h). */
int mlx_cpu_transpose_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_broadcast_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_slice_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_split_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_as_strided_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);
int mlx_cpu_diagonal_(struct mlx_node_** outs, int nout, struct mlx_node_** ins, int nin, const void* params);

#endif
