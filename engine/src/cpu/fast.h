/* CPU kernels of the fast family (ops/fast.c records them) and the POD
 * parameters their primitives carry. */
#ifndef MLX_CPU_FAST_H
#define MLX_CPU_FAST_H

#include "../internal.h"

/* fast_rms_norm, fast_layer_norm. */
typedef struct {
  float eps;
} mlx_fast_norm_params_;

/* fast_rope: inputs x, offset (int32/uint32, 1 or B entries), and freqs
 * (float32 [dims / 2]) when nin is 3. forward 0 is the inverse rotation
 * (the vjp). */
typedef struct {
  int32_t dims;
  int32_t traditional;
  int32_t forward;
  float base;
  float scale;
} mlx_fast_rope_params_;

/* fast_sdpa: inputs q, k, v, then the mask (broadcast to [B, Nq, Lq, Lk],
 * bool or the result dtype) when has_mask, then sinks ([Nq]) when
 * has_sinks. */
typedef struct {
  float scale;
  int32_t causal;
  int32_t has_mask;
  int32_t has_sinks;
} mlx_fast_sdpa_params_;

/* outs[0] = rms_norm(ins[0]) * ins[1]; ins[1] is [D] or a scalar. */
int mlx_cpu_fast_rms_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* outs[0] = layer_norm(ins[0]) * ins[1] + ins[2]; weight and bias [D] or
 * scalars. */
int mlx_cpu_fast_layer_norm_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* outs[0] = rope of ins[0] at offsets ins[1] (frequencies ins[2]). */
int mlx_cpu_fast_rope_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* The lowest finite value of a floating dtype (upstream's finfo.min):
 * the score attention gives a hidden key. */
double mlx_fast_lowest_(mlx_dtype dt);
/* outs[0] = attention of q, k, v (see mlx_fast_sdpa_params_). */
int mlx_cpu_fast_sdpa_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
