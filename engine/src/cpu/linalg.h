/* CPU kernels of the linalg family (cpu/linalg.c) and their parameters,
 * shared with the op constructors in ops/linalg.c. */
#ifndef MLX_CPU_LINALG_H
#define MLX_CPU_LINALG_H

#include "../internal.h"

typedef struct {
  int tri;   /* 1: triangular inverse (trtri), 0: general (getrf/getri) */
  int upper; /* which triangle, when tri */
} mlx_inverse_params_;
typedef struct {
  int upper;
} mlx_cholesky_params_;
typedef struct {
  int compute_uv;
} mlx_svd_params_;
typedef struct {
  int upper;
  int vectors;
} mlx_eigh_params_;
typedef struct {
  int vectors;
} mlx_eig_params_;

/* inverse: out [..., n, n] of in [..., n, n]. */
int mlx_cpu_inverse_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* cholesky: out [..., n, n], the other triangle zeroed. */
int mlx_cpu_cholesky_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* qrf: q [..., m, k], r [..., k, n]. */
int mlx_cpu_qrf_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* svd: (u [..., m, m], s [..., k], vt [..., n, n]) or s alone. */
int mlx_cpu_svd_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* eigh: w [..., n] (and v [..., n, n]). */
int mlx_cpu_eigh_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* eig: w [..., n] (and v [..., n, n]), complex64. */
int mlx_cpu_eig_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* luf: lu [..., m, n], pivots uint32 [..., k], row permutation uint32
 * [..., m]. */
int mlx_cpu_luf_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
