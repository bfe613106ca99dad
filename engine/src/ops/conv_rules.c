/* Transform rules of the conv primitive, built from convolutions so that
 * they compose (grad of grad, vmap of grad).
 *
 * Per spatial dim, with s stride, kd kernel dilation, id input dilation,
 * lo/hi padding, K taps (kext = 1 + kd (K - 1)), input length n (dilated
 * extent in_d = 1 + id (n - 1)) and output length m (out_d = 1 + s (m - 1)):
 *   d input  = conv(cotangent, weight with in/out channels swapped per
 *              group), stride id, kernel dilation kd, input dilation s,
 *              padding lo' = kext - 1 - lo, hi' = in_d - out_d + lo, the
 *              kernel flipped the other way;
 *   d weight = conv(input with batch and channels swapped, cotangent with
 *              batch and channels swapped), stride kd, kernel dilation s,
 *              input dilation id, padding lo, kext - 1 + out_d - in_d - lo,
 *              the result's batch/channel axes swapped back (and flipped
 *              spatially for a flipped kernel); groups travel in the
 *              channel axis.
 * Upstream's Convolution::vjp uses the same identities, with special
 * cases; ours keeps padding in dilated coordinates (negative allowed), so
 * no case needs slicing. The jvp is linear in each operand; vmap folds the
 * batch into N (input batched), into the output channels with groups
 * (weight batched) or into groups (both). */
#include "conv.h"

/* shape of a with dims [from, to) replaced by n entries of v. */
static int reshape_span(mlx_array* res, const mlx_array a, int from, int to, const int64_t* v, int n, mlx_stream s) {
  int nd = mlx_array_ndim(a), k = 0;
  int64_t shape[12];
  for (int i = 0; i < from; i++) shape[k++] = mlx_array_dim(a, i);
  for (int i = 0; i < n; i++) shape[k++] = v[i];
  for (int i = to; i < nd; i++) shape[k++] = mlx_array_dim(a, i);
  return mlx_reshape(res, a, shape, k, s);
}

/* Weight [O, K..., C/G] -> [C, K..., O/G]: input and output channels
 * swapped within each group. */
static int group_transpose_weight(mlx_array* res, const mlx_array w, int G, mlx_stream s) {
  if (G == 1) return mlx_swapaxes(res, w, 0, -1, s);
  int64_t O = mlx_array_dim(w, 0), cg = mlx_array_dim(w, -1);
  int64_t split[2] = {G, O / G}, merged = G * cg;
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  int rc = reshape_span(&a, w, 0, 1, split, 2, s); /* [G, og, K..., cg] */
  if (rc == MLX_OK) rc = mlx_swapaxes(&b, a, 1, -1, s); /* [G, cg, K..., og] */
  if (rc == MLX_OK) rc = reshape_span(res, b, 0, 2, &merged, 1, s);
  mlx_array_free(a), mlx_array_free(b);
  return rc;
}

/* Input [N, in..., C] -> [C/G, in..., G * N]: each group's channels become
 * the batch, the (group, batch) pairs the channels. */
static int group_transpose_input(mlx_array* res, const mlx_array x, int G, mlx_stream s) {
  int nd = mlx_array_ndim(x);
  if (G == 1) return mlx_swapaxes(res, x, 0, -1, s);
  int64_t N = mlx_array_dim(x, 0), C = mlx_array_dim(x, -1);
  int64_t split[2] = {G, C / G}, merged = G * N;
  int perm[8];
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  int rc = reshape_span(&a, x, nd - 1, nd, split, 2, s); /* [N, in..., G, cg] */
  perm[0] = nd;                                          /* cg */
  for (int i = 1; i < nd - 1; i++) perm[i] = i;          /* in... */
  perm[nd - 1] = nd - 1;                                 /* G */
  perm[nd] = 0;                                          /* N */
  if (rc == MLX_OK) rc = mlx_transpose(&b, a, perm, (size_t)nd + 1, s);
  if (rc == MLX_OK) rc = reshape_span(res, b, nd - 1, nd + 1, &merged, 1, s);
  mlx_array_free(a), mlx_array_free(b);
  return rc;
}

/* x reversed along its spatial axes 1..nsp. */
static int flip_spatial(mlx_array* res, const mlx_array x, int nsp, mlx_stream s) {
  int nd = mlx_array_ndim(x);
  int64_t start[5], stop[5], step[5];
  for (int i = 0; i < nd; i++) {
    int64_t n = mlx_array_dim(x, i);
    int sp = i >= 1 && i <= nsp;
    start[i] = sp ? n - 1 : 0;
    stop[i] = sp ? -n - 1 : n;
    step[i] = sp ? -1 : 1;
  }
  return mlx_slice(res, x, start, stop, step, nd, s);
}

static int64_t extent(int64_t n, int64_t dil) {
  return n > 0 ? 1 + dil * (n - 1) : 0;
}

static int grad_input(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array cot,
                      const mlx_conv_params_* p, mlx_stream s) {
  mlx_conv_params_ q = *p;
  for (int i = 0; i < p->nsp; i++) {
    int64_t kext = extent(mlx_array_dim(w, 1 + i), p->kernel_dilation[i]);
    int64_t in_d = extent(mlx_array_dim(x, 1 + i), p->input_dilation[i]);
    int64_t out_d = extent(mlx_array_dim(cot, 1 + i), p->stride[i]);
    q.stride[i] = p->input_dilation[i];
    q.input_dilation[i] = p->stride[i];
    q.pad_lo[i] = (int)(kext - 1 - p->pad_lo[i]);
    q.pad_hi[i] = (int)(in_d - out_d + p->pad_lo[i]);
  }
  q.flip = !p->flip;
  mlx_array wt = mlx_array_new();
  int rc = group_transpose_weight(&wt, w, p->groups, s);
  if (rc == MLX_OK) rc = mlx_conv_record_(res, cot, wt, &q, s);
  mlx_array_free(wt);
  return rc;
}

static int grad_weight(mlx_array* res, const mlx_array x, const mlx_array w, const mlx_array cot,
                       const mlx_conv_params_* p, mlx_stream s) {
  mlx_conv_params_ q = *p;
  for (int i = 0; i < p->nsp; i++) {
    int64_t kext = extent(mlx_array_dim(w, 1 + i), p->kernel_dilation[i]);
    int64_t in_d = extent(mlx_array_dim(x, 1 + i), p->input_dilation[i]);
    int64_t out_d = extent(mlx_array_dim(cot, 1 + i), p->stride[i]);
    q.stride[i] = p->kernel_dilation[i];
    q.kernel_dilation[i] = p->stride[i];
    q.pad_hi[i] = (int)(kext - 1 + out_d - in_d - p->pad_lo[i]);
  }
  q.flip = 0;
  mlx_array xt = mlx_array_new(), ct = mlx_array_new(), z = mlx_array_new(), zt = mlx_array_new();
  int rc = group_transpose_input(&xt, x, p->groups, s);
  if (rc == MLX_OK) rc = mlx_swapaxes(&ct, cot, 0, -1, s);
  if (rc == MLX_OK) rc = mlx_conv_record_(&z, xt, ct, &q, s); /* [C/G, K..., O] */
  if (rc == MLX_OK) rc = p->flip ? mlx_swapaxes(&zt, z, 0, -1, s) : mlx_swapaxes(res, z, 0, -1, s);
  if (rc == MLX_OK && p->flip) rc = flip_spatial(res, zt, p->nsp, s);
  mlx_array_free(xt), mlx_array_free(ct), mlx_array_free(z), mlx_array_free(zt);
  return rc;
}

int mlx_conv_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_conv_params_* p = params;
  /* Nothing flows through an empty convolution. */
  int empty = mlx_array_size(inputs[0]) == 0 || mlx_array_size(inputs[1]) == 0 || mlx_array_size(cots[0]) == 0;
  for (int k = 0; k < nargs; k++) {
    int a = argnums[k];
    int rc = empty ? mlx_zeros_like(&in_cots[k], inputs[a], s)
             : a == 0 ? grad_input(&in_cots[k], inputs[0], inputs[1], cots[0], p, s)
                      : grad_weight(&in_cots[k], inputs[0], inputs[1], cots[0], p, s);
    MLX_TRY(rc);
  }
  return MLX_OK;
}

int mlx_conv_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  const mlx_conv_params_* p = params;
  mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
  int rc = MLX_OK;
  for (int k = 0; k < nargs && rc == MLX_OK; k++)
    rc = argnums[k] == 0 ? mlx_conv_record_(&parts[k], tangents[k], inputs[1], p, s)
                         : mlx_conv_record_(&parts[k], inputs[0], tangents[k], p, s);
  if (rc == MLX_OK)
    rc = nargs == 2 ? mlx_add(&out_tans[0], parts[0], parts[1], s) : mlx_array_set(&out_tans[0], parts[0]);
  mlx_array_free(parts[0]), mlx_array_free(parts[1]);
  return rc;
}

int mlx_conv_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                   const void* params, mlx_stream s) {
  const mlx_conv_params_* p = params;
  int nsp = p->nsp, bx = in_axes[0], bw = in_axes[1];
  mlx_conv_params_ q = *p;
  mlx_array x = mlx_array_new(), w = mlx_array_new(), t = mlx_array_new(), y = mlx_array_new(),
            u = mlx_array_new();
  int rc = MLX_OK;
  if (bw < 0) {
    /* [B, N, ...] folded into the batch. */
    int64_t B = mlx_array_dim(inputs[0], bx), N = mlx_array_dim(inputs[0], bx == 0 ? 1 : 0);
    int64_t merged = B * N, split[2] = {B, N};
    rc = mlx_moveaxis(&t, inputs[0], bx, 0, s);
    if (rc == MLX_OK) rc = reshape_span(&x, t, 0, 2, &merged, 1, s);
    if (rc == MLX_OK) rc = mlx_conv_record_(&y, x, inputs[1], p, s);
    if (rc == MLX_OK) rc = reshape_span(&outs[0], y, 0, 1, split, 2, s);
    out_axes[0] = 0;
  } else if (bx < 0) {
    /* [B, O, K..., cg] -> [G * B * og, K..., cg]: the batch joins each
     * group's output channels. */
    int G = p->groups;
    int64_t B = mlx_array_dim(inputs[1], bw), O = mlx_array_dim(inputs[1], bw == 0 ? 1 : 0);
    int64_t og = O / G, split3[3] = {B, G, og}, merged = G * B * og, split_out[3] = {G, B, og}, merged_out = O;
    rc = mlx_moveaxis(&t, inputs[1], bw, 0, s);
    if (rc == MLX_OK) rc = reshape_span(&u, t, 0, 2, split3, 3, s);
    mlx_array_free(t), t = mlx_array_new();
    if (rc == MLX_OK) rc = mlx_swapaxes(&t, u, 0, 1, s);
    if (rc == MLX_OK) rc = reshape_span(&w, t, 0, 3, &merged, 1, s);
    if (rc == MLX_OK) rc = mlx_conv_record_(&y, inputs[0], w, p, s);
    mlx_array_free(u), u = mlx_array_new();
    mlx_array_free(t), t = mlx_array_new();
    if (rc == MLX_OK) rc = reshape_span(&u, y, nsp + 1, nsp + 2, split_out, 3, s);
    if (rc == MLX_OK) rc = mlx_swapaxes(&t, u, nsp + 1, nsp + 2, s); /* [N, out..., B, G, og] */
    int64_t bo[2] = {B, merged_out};
    if (rc == MLX_OK) rc = reshape_span(&outs[0], t, nsp + 1, nsp + 4, bo, 2, s);
    out_axes[0] = nsp + 1;
  } else {
    /* Both batched: the batch multiplies the groups. */
    int64_t B = mlx_array_dim(inputs[0], bx), C = mlx_array_dim(inputs[0], bx == nsp + 2 ? nsp + 1 : nsp + 2);
    int64_t O = mlx_array_dim(inputs[1], bw == 0 ? 1 : 0);
    int64_t mx = B * C, mw = B * O, split[2] = {B, O};
    rc = mlx_moveaxis(&t, inputs[0], bx, -2, s);
    if (rc == MLX_OK) rc = reshape_span(&x, t, nsp + 1, nsp + 3, &mx, 1, s);
    mlx_array_free(t), t = mlx_array_new();
    if (rc == MLX_OK) rc = mlx_moveaxis(&t, inputs[1], bw, 0, s);
    if (rc == MLX_OK) rc = reshape_span(&w, t, 0, 2, &mw, 1, s);
    q.groups = (int)(B * p->groups);
    if (rc == MLX_OK) rc = mlx_conv_record_(&y, x, w, &q, s);
    if (rc == MLX_OK) rc = reshape_span(&outs[0], y, nsp + 1, nsp + 2, split, 2, s);
    out_axes[0] = nsp + 1;
  }
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(t), mlx_array_free(y), mlx_array_free(u);
  return rc;
}
