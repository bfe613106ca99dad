/* CUDA kernel driver of the conv primitive (device code in cuda/conv.cu):
 * im2col + cuBLAS, the GPU form of cpu/conv.c; small float32 convolutions
 * (a few tens of millions of multiply-adds) run as one direct kernel
 * instead, which reads the input as im2col does.
 *
 * The output positions (n, o...) over the batch are the rows of a column
 * matrix [G][rows][taps * C/G] built on the device by im2col (stride,
 * padding, kernel and input dilation and the flip applied there, the
 * input read through its own strides, so transposed and broadcast views
 * need no copy), in chunks of at most COLS_BYTES of scratch
 * (cudaMallocAsync on the op's stream). Each chunk is one strided-batched
 * gemm over the groups, out[rows, g * og:(g + 1) * og] = cols[g] @
 * weight[g]^T, written straight into the output (ldc = C_out). A 1x1
 * kernel with unit strides and no padding over a row-contiguous input
 * needs no column matrix: the input already is [N * positions, C].
 *
 * float32, float16 and bfloat16 (cuBLAS accumulates in float32, as the
 * CPU kernel, which converts half types to float32 first) and float64;
 * the sums run in another order than OpenBLAS's, so results agree to
 * rounding. The weight is copied dense when it is not row-contiguous. */
#include <limits.h>

#include "../cpu/conv.h"
#include "backend.h"
#include "launch.h"

/* Most bytes of column matrix per chunk of output positions. */
#define COLS_BYTES ((int64_t)256 << 20)

static int launch_rc(int rc, mlx_dtype dt) {
  if (rc == 0) return MLX_OK;
  if (rc < 0) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[conv] not implemented on gpu for %s", mlx_dtype_name(dt));
  return mlx_cuda_check_((cudaError_t)rc, "conv");
}

/* Whether the direct kernel takes this conv: float32, few enough
 * multiply-adds that cuBLAS's tiles would mostly wait (a small CNN's
 * layers), and weight rows short enough to stage. */
#define DIRECT_MAX_MACS ((int64_t)64 << 20)
static int direct_suits(mlx_dtype dt, const mlx_cu_im2col_* l, int64_t R, int64_t O) {
  return dt == MLX_FLOAT32 && l->L <= MLX_CU_CONV_DIRECT_MAX_L && R <= DIRECT_MAX_MACS / (O * l->L) &&
         (O / l->G + 3) / 4 * l->G <= 65535;
}

/* Frees the scratch of a conv (stream-ordered) and passes rc on. */
static int finish(int rc, void* cols, void* xtmp, void* wtmp, cudaStream_t st) {
  if (cols) cudaFreeAsync(cols, st);
  if (xtmp) cudaFreeAsync(xtmp, st);
  if (wtmp) cudaFreeAsync(wtmp, st);
  return rc;
}

/* Declared in hooks.h. Same contract as mlx_cpu_conv_: ins = {input
 * [N, spatial..., C], weight [O, taps..., C/G]}, both in the output
 * dtype (another dtype is converted by a dense copy first). */
int mlx_cuda_conv_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_conv_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* X = ins[0];
  mlx_node_* W = ins[1];
  mlx_dtype dt = out->dtype;
  if (dt != MLX_FLOAT32 && dt != MLX_FLOAT16 && dt != MLX_BFLOAT16 && dt != MLX_FLOAT64)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[conv] not implemented on gpu for %s", mlx_dtype_name(dt));
  mlx_stream s = out->stream;
  cudaStream_t st;
  void* dst;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  MLX_TRY(mlx_cuda_out_(out, s, &dst));
  if (out->size == 0) return MLX_OK;
  size_t esz = mlx_dtype_size(dt);
  /* No input elements (no channels, or empty spatial dims under
   * padding): every sum is empty. */
  if (X->size == 0 || W->size == 0)
    return mlx_cuda_check_(cudaMemsetAsync(dst, 0, (size_t)out->size * esz, st), "cudaMemsetAsync");

  int nsp = p->nsp;
  mlx_cu_im2col_ l;
  memset(&l, 0, sizeof l);
  int64_t K = 1;
  int unit = 1; /* 1x1 kernel, unit strides, no padding */
  for (int d = 0; d < 3; d++) {
    int sd = d - (3 - nsp); /* spatial dim of the op, < 0 for the padding dims */
    int64_t in = sd < 0 ? 1 : X->shape[1 + sd];
    l.k[d] = sd < 0 ? 1 : W->shape[1 + sd];
    l.out[d] = sd < 0 ? 1 : out->shape[1 + sd];
    l.stride[d] = sd < 0 ? 1 : p->stride[sd];
    l.lo[d] = sd < 0 ? 0 : p->pad_lo[sd];
    l.kdil[d] = sd < 0 ? 1 : p->kernel_dilation[sd];
    l.idil[d] = sd < 0 ? 1 : p->input_dilation[sd];
    l.ind[d] = in > 0 ? 1 + l.idil[d] * (in - 1) : 0;
    K *= l.k[d];
    if (l.k[d] != 1 || l.stride[d] != 1 || l.lo[d] != 0 || l.idil[d] != 1 || l.out[d] != in) unit = 0;
  }
  int64_t G = p->groups, O = out->shape[nsp + 1], og = O / G, C = X->shape[nsp + 1], cg = C / G;
  int64_t R = out->size / O; /* output positions over the batch */
  l.G = G;
  l.cg = cg;
  l.L = K * cg;
  l.P = l.out[0] * l.out[1] * l.out[2];
  l.flip = p->flip;

  const void *x, *w;
  void *xtmp = NULL, *wtmp = NULL, *cols = NULL;
  MLX_TRY(mlx_cuda_in_(X, s, &x));
  MLX_TRY(mlx_cuda_in_(W, s, &w));
  int64_t xstr[5];
  const int64_t* xs = X->strides;
  int xrow = (X->flags & MLX_FLAG_ROW_CONTIG) != 0;
  int rc = MLX_OK;
  if (X->dtype != dt) {
    rc = mlx_cuda_dense_copy_(&xtmp, x, X->dtype, dt, X->shape, X->strides, X->ndim, "conv", st);
    x = xtmp;
    mlx_row_strides_(xstr, X->shape, X->ndim);
    xs = xstr;
    xrow = 1;
  }
  if (!rc && (W->dtype != dt || !(W->flags & MLX_FLAG_ROW_CONTIG))) {
    rc = mlx_cuda_dense_copy_(&wtmp, w, W->dtype, dt, W->shape, W->strides, W->ndim, "conv", st);
    w = wtmp;
  }
  if (!rc && unit && xrow) {
    /* The input is the column matrix: [R, C], group g at column g * cg. */
    for (int64_t r0 = 0; r0 < R && !rc; r0 += INT_MAX) {
      int64_t m = R - r0 < INT_MAX ? R - r0 : INT_MAX;
      rc = mlx_cuda_gemm_(dt, 0, 1, m, og, cg, (const char*)x + (size_t)(r0 * C) * esz, C, cg, w, cg, og * cg,
                          (char*)dst + (size_t)(r0 * O) * esz, O, og, G, 0.0, s, st, "conv");
    }
  } else if (!rc) {
    for (int d = 0; d < 3; d++) {
      int sd = d - (3 - nsp);
      l.xs[d + 1] = sd < 0 ? 0 : xs[1 + sd];
    }
    l.xs[0] = xs[0];
    l.xc = xs[nsp + 1];
    if (direct_suits(dt, &l, R, O))
      return finish(launch_rc(mlx_cu_conv_direct_launch_(dst, x, w, &l, R, O, st), dt), NULL, xtmp, wtmp, st);
    int64_t row_bytes = G * l.L * (int64_t)esz;
    int64_t chunk = COLS_BYTES / row_bytes;
    if (chunk < 1) chunk = 1;
    if (chunk > R) chunk = R;
    if (chunk > INT_MAX) chunk = INT_MAX;
    cudaError_t e = cudaMallocAsync(&cols, (size_t)(chunk * row_bytes), st);
    if (e != cudaSuccess) cols = NULL;
    rc = mlx_cuda_check_(e, "cudaMallocAsync");
    for (int64_t r0 = 0; r0 < R && !rc; r0 += chunk) {
      l.r0 = r0;
      l.rows = R - r0 < chunk ? R - r0 : chunk;
      rc = launch_rc(mlx_cu_im2col_launch_(dt, cols, x, &l, st), dt);
      if (!rc)
        rc = mlx_cuda_gemm_(dt, 0, 1, l.rows, og, l.L, cols, l.L, l.rows * l.L, w, l.L, og * l.L,
                            (char*)dst + (size_t)(r0 * O) * esz, O, og, G, 0.0, s, st, "conv");
    }
  }
  return finish(rc, cols, xtmp, wtmp, st);
}
