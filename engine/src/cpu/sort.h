/* Sort and scan family internals: the params of the sort, searchsorted and
 * scan primitives (recorded by ops/sort.c and ops/scan.c, read by the
 * kernels in cpu/sort.c and cpu/scan.c and by the rules in
 * ops/sort_rules.c) and the kernels. */
#ifndef MLX_CPU_SORT_H
#define MLX_CPU_SORT_H

#include "../internal.h"

/* sort, argsort, partition, argpartition. */
typedef struct {
  int axis; /* normalized */
  int kth;  /* normalized; -1: a full sort */
  int arg;  /* 1: uint32 indices out */
} mlx_sort_params_;

typedef enum { MLX_SCAN_SUM_ = 0, MLX_SCAN_PROD_, MLX_SCAN_MAX_, MLX_SCAN_MIN_, MLX_SCAN_LOGADDEXP_ } mlx_scan_kind_;

typedef struct {
  int kind; /* mlx_scan_kind_ */
  int axis; /* normalized */
  int reverse;
  int inclusive;
} mlx_scan_params_;

/* out = ins[0] sorted / partitioned along the axis (values, or uint32
 * indices when arg). Any input layout; rows are split among threads. */
int mlx_cpu_sort_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* out (uint32, values' shape) = insertion points of ins[1] into the 1-D
 * ins[0] (both of one dtype); params: int right. */
int mlx_cpu_searchsorted_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);
/* out = the scan of ins[0] along the axis (output dtype chosen by the op). */
int mlx_cpu_scan_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params);

#endif
