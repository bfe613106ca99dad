/* Kernels of the quantization family and their parameters (shared with
 * ops/quantize.c). */
#ifndef MLX_CPU_QUANTIZE_H
#define MLX_CPU_QUANTIZE_H

#include "../internal.h"

enum { MLX_QMODE_AFFINE_ = 0, MLX_QMODE_MXFP4_, MLX_QMODE_MXFP8_, MLX_QMODE_NVFP4_ };

/* Params of every primitive here. */
typedef struct {
  int32_t mode, group_size, bits, transpose;
  int32_t out_dtype; /* dequantize's result dtype */
} mlx_quant_params_;

/* Element offset of batch index b (row-major over the output's ond batch
 * dims out_batch) in an operand whose bnd batch dims (right-aligned)
 * broadcast against them, its matrices matrix_size elements apart (the
 * CPU and GPU quantized products). */
int64_t mlx_quant_batch_offset_(int64_t b, const int64_t* out_batch, int ond, const int64_t* batch, int bnd,
                                int64_t matrix_size);
/* w -> wq, scales[, biases]. */
int mlx_cpu_quantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* wq, scales[, biases] -> w. */
int mlx_cpu_dequantize_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* x, wq, scales[, biases] -> x @ w(^T), batch dims broadcast. */
int mlx_cpu_quantized_matmul_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* x, wq, scales[, biases], lhs, rhs (uint32, same shape, row-major). */
int mlx_cpu_gather_qmm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_to_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
int mlx_cpu_from_fp8_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
