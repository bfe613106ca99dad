/* Convolutions: conv_general (the one primitive), conv1d/2d/3d,
 * conv_transpose1d/2d/3d and convolve, with upstream MLX's checks,
 * messages, result dtypes and shapes. The public ops cast both operands
 * to the promoted dtype and turn negative padding into a slice of the
 * input, as upstream does; the primitive itself (mlx_conv_record_) also
 * takes negative padding in dilated coordinates, which the transform
 * rules need. */
#include <limits.h>
#include <stdio.h>

#include "conv.h"

static int conv_output_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                              const void* params);
static const mlx_prim_ prim_conv = {.name = "conv",
                                    .cpu = mlx_cpu_conv_,
                                    .gpu = MLX_GPU_KERNEL_(mlx_cuda_conv_),
                                    .vjp = mlx_conv_vjp_,
                                    .jvp = mlx_conv_jvp_,
                                    .vmap = mlx_conv_vmap_,
                                    .output_shapes = conv_output_shapes};
MLX_REGISTER_PRIM(prim_conv);

/* "(2,3)" into buf. */
static const char* shape_str(char* buf, size_t cap, const int64_t* shape, int ndim) {
  size_t p = 0;
  buf[p++] = '(';
  buf[p] = '\0';
  for (int i = 0; i < ndim && p + 24 < cap; i++)
    p += (size_t)snprintf(buf + p, cap - p, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (p + 2 <= cap) {
    buf[p++] = ')';
    buf[p] = '\0';
  }
  return buf;
}

static const char* ints_str(char* buf, size_t cap, const int* v, int n) {
  int64_t w[3];
  for (int i = 0; i < n; i++) w[i] = v[i];
  return shape_str(buf, cap, w, n);
}

/* The result shape of the primitive on x and w (shape: nsp + 2 entries),
 * or a shape error. */
static int conv_shape(int64_t* shape, const mlx_node_* x, const mlx_node_* w, const mlx_conv_params_* p) {
  int nsp = p->nsp;
  char b1[128], b2[128], b3[64], b4[64];
  if (x->ndim != nsp + 2 || w->ndim != nsp + 2)
    return mlx_error_(MLX_ERROR_SHAPE, "[conv] input %s and weight %s do not fit a %dD convolution",
                      shape_str(b1, sizeof b1, x->shape, x->ndim), shape_str(b2, sizeof b2, w->shape, w->ndim), nsp);
  int64_t C = x->shape[nsp + 1], O = w->shape[0], cg = w->shape[nsp + 1];
  if (p->groups < 1 || C % p->groups || O % p->groups || C != cg * p->groups)
    return mlx_error_(MLX_ERROR_SHAPE, "[conv] input %s, weight %s and %d groups do not match",
                      shape_str(b1, sizeof b1, x->shape, x->ndim), shape_str(b2, sizeof b2, w->shape, w->ndim),
                      p->groups);
  shape[0] = x->shape[0];
  shape[nsp + 1] = O;
  int64_t taps = 1;
  for (int i = 0; i < nsp; i++) {
    int64_t n = x->shape[i + 1], k = w->shape[i + 1];
    if (k < 1)
      return mlx_error_(MLX_ERROR_SHAPE, "[conv] weight spatial dimensions must be positive, got weight %s",
                        shape_str(b2, sizeof b2, w->shape, w->ndim));
    int64_t in_d = n > 0 ? 1 + (int64_t)p->input_dilation[i] * (n - 1) : 0;
    int64_t padded = in_d + p->pad_lo[i] + p->pad_hi[i];
    int64_t kext = 1 + (int64_t)p->kernel_dilation[i] * (k - 1);
    if (padded < kext)
      return mlx_error_(MLX_ERROR_SHAPE,
                        "[conv] Spatial dimensions of input after padding cannot be smaller than weight spatial "
                        "dimensions. Got error at axis %d for input with shape %s, padding low %s, padding high %s, "
                        "and weight of shape %s.",
                        i + 1, shape_str(b1, sizeof b1, x->shape, x->ndim), ints_str(b3, sizeof b3, p->pad_lo, nsp),
                        ints_str(b4, sizeof b4, p->pad_hi, nsp), shape_str(b2, sizeof b2, w->shape, w->ndim));
    shape[i + 1] = (padded - kext) / p->stride[i] + 1;
    taps *= k;
  }
  /* BLAS takes 32-bit dimensions: channels, and a patch row of taps x C/groups. */
  if (O > INT_MAX || taps > INT_MAX / (cg > 0 ? cg : 1))
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[conv] kernels with over %d elements per output are not supported",
                      INT_MAX);
  int64_t size;
  return mlx_shape_size_(&size, shape, nsp + 2, "conv");
}

/* The output_shapes rule (compile's shapeless mode). */
static int conv_output_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                              const void* params) {
  const mlx_conv_params_* p = params;
  if (cap < p->nsp + 2) return mlx_error_(MLX_ERROR_SHAPE, "[conv] output shape capacity too small");
  ndims[0] = p->nsp + 2;
  return conv_shape(shapes[0], ins[0], ins[1], p);
}

int mlx_conv_record_(mlx_array* res, const mlx_array in, const mlx_array wt, const mlx_conv_params_* p, mlx_stream s) {
  mlx_node_* ins[2] = {MLX_NODE(in), MLX_NODE(wt)};
  int64_t shape[5];
  MLX_TRY(conv_shape(shape, ins[0], ins[1], p));
  return mlx_op1_(res, &prim_conv, p, sizeof *p, ins, 2, ins[0]->dtype, shape, p->nsp + 2, s);
}

/* One parameter list: 0 entries -> def everywhere, 1 -> that everywhere,
 * nsp -> as given; anything else is an error naming what. */
static int fill_list(int* dst, const int* v, size_t n, int nsp, int def, const char* what) {
  char b[128];
  if (n > 1 && n != (size_t)nsp) {
    int64_t w[8];
    size_t m = n < 8 ? n : 8;
    for (size_t i = 0; i < m; i++) w[i] = v[i];
    return mlx_error_(MLX_ERROR_ARGUMENT, "[conv] Invalid %s %s for %dD convolution.", what,
                      shape_str(b, sizeof b, w, (int)m), nsp);
  }
  for (int i = 0; i < nsp; i++) dst[i] = n == 0 ? def : n == 1 ? v[0] : v[i];
  return MLX_OK;
}

static int check_positive(const int* v, int nsp, const char* what, const char* lower) {
  char b[64];
  for (int i = 0; i < nsp; i++)
    if (v[i] < 1)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[conv] %s sizes must be positive. Got %s %s.", what, lower,
                        ints_str(b, sizeof b, v, nsp));
  return MLX_OK;
}

int mlx_conv_general(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, size_t nstride,
                     const int* padding_lo, size_t npadding_lo, const int* padding_hi, size_t npadding_hi,
                     const int* kernel_dilation, size_t nkernel_dilation, const int* input_dilation,
                     size_t ninput_dilation, int groups, int flip, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(input, "conv"));
  MLX_TRY(mlx_check_array_(weight, "conv"));
  mlx_node_* x = MLX_NODE(input);
  mlx_node_* w = MLX_NODE(weight);
  char b1[128], b2[128];
  if (groups != 1 && x->ndim != 3 && x->ndim != 4)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[conv] Can only handle groups != 1 in 1D or 2D convolutions.");
  int nsp = x->ndim - 2;
  if (nsp < 1 || nsp > 3)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[conv] Only works for inputs with 1-3 spatial dimensions. The inputs must be in the format "
                      "[N, ..., C_in]");
  if (!mlx_dtype_is_floating(x->dtype))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[conv] Invalid input array with type %s. Convolution currently only supports floating point "
                      "types",
                      mlx_dtype_name(x->dtype));
  if (w->ndim != nsp + 2)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[conv] Invalid weight array with %d dimensions for %dD convolution. Expected an array with %d "
                      "dimensions following the format [C_out, ..., C_in].",
                      w->ndim, nsp, nsp + 2);
  int64_t C = x->shape[nsp + 1], O = w->shape[0], cg = w->shape[nsp + 1];
  if (groups < 1)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[conv] The number of groups must be positive. Got %d groups.", groups);
  if (C % groups)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[conv] The input channels must be divisible by the number of groups. Got input with shape %s "
                      "and %d groups.",
                      shape_str(b1, sizeof b1, x->shape, x->ndim), groups);
  if (groups > 1 && O % groups)
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[conv] If groups > 1, the output channels must be divisible by the number of groups. Got %lld "
                      "output channels and %d groups.",
                      (long long)O, groups);
  if (C != groups * cg) {
    if (groups == 1)
      return mlx_error_(MLX_ERROR_SHAPE,
                        "[conv] Expect the input channels in the input and weight array to match but got shapes - "
                        "input: %s and weight: %s",
                        shape_str(b1, sizeof b1, x->shape, x->ndim), shape_str(b2, sizeof b2, w->shape, w->ndim));
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[conv] Given groups=%d and weights of shape %s, expected to have %lld input channels but got "
                      "%lld input channels instead.",
                      groups, shape_str(b2, sizeof b2, w->shape, w->ndim), (long long)(groups * cg), (long long)C);
  }
  mlx_conv_params_ p;
  memset(&p, 0, sizeof p);
  p.nsp = nsp;
  p.groups = groups;
  p.flip = flip != 0;
  MLX_TRY(fill_list(p.stride, stride, nstride, nsp, 1, "strides"));
  MLX_TRY(fill_list(p.pad_lo, padding_lo, npadding_lo, nsp, 0, "padding"));
  MLX_TRY(fill_list(p.pad_hi, padding_hi, npadding_hi, nsp, 0, "padding"));
  MLX_TRY(fill_list(p.kernel_dilation, kernel_dilation, nkernel_dilation, nsp, 1, "kernel dilation"));
  MLX_TRY(fill_list(p.input_dilation, input_dilation, ninput_dilation, nsp, 1, "input dilation"));
  MLX_TRY(check_positive(p.stride, nsp, "Stride", "strides"));
  MLX_TRY(check_positive(p.kernel_dilation, nsp, "Kernel dilation", "kernel dilation"));
  MLX_TRY(check_positive(p.input_dilation, nsp, "Input dilation", "input dilation"));

  mlx_dtype dt = mlx_dtype_promote(x->dtype, w->dtype);
  mlx_array xin = mlx_array_new(), win = mlx_array_new(), cropped = mlx_array_new();
  int rc = mlx_astype(&xin, input, dt, s);
  if (rc == MLX_OK) rc = mlx_astype(&win, weight, dt, s);
  /* Negative padding crops the (undilated) input, as upstream slices it. */
  int crop = 0;
  int64_t start[5] = {0}, stop[5], step[5] = {1, 1, 1, 1, 1};
  for (int i = 0; i < nsp + 2; i++) stop[i] = x->shape[i];
  for (int i = 0; i < nsp; i++) {
    if (p.pad_lo[i] < 0) {
      start[i + 1] = -(int64_t)p.pad_lo[i];
      p.pad_lo[i] = 0;
      crop = 1;
    }
    if (p.pad_hi[i] < 0) {
      stop[i + 1] += p.pad_hi[i];
      if (stop[i + 1] < start[i + 1]) stop[i + 1] = start[i + 1];
      p.pad_hi[i] = 0;
      crop = 1;
    }
  }
  if (rc == MLX_OK && crop) rc = mlx_slice(&cropped, xin, start, stop, step, nsp + 2, s);
  if (rc == MLX_OK) rc = mlx_conv_record_(res, crop ? cropped : xin, win, &p, s);
  mlx_array_free(xin), mlx_array_free(win), mlx_array_free(cropped);
  return rc;
}

int mlx_conv1d(mlx_array* res, const mlx_array input, const mlx_array weight, int stride, int padding, int dilation,
               int groups, const mlx_stream s) {
  int one = 1;
  return mlx_conv_general(res, input, weight, &stride, 1, &padding, 1, &padding, 1, &dilation, 1, &one, 1, groups, 0,
                          s);
}

int mlx_conv2d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, const int* padding,
               const int* dilation, int groups, const mlx_stream s) {
  int ones[2] = {1, 1};
  return mlx_conv_general(res, input, weight, stride, 2, padding, 2, padding, 2, dilation, 2, ones, 2, groups, 0, s);
}

int mlx_conv3d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride, const int* padding,
               const int* dilation, int groups, const mlx_stream s) {
  int ones[3] = {1, 1, 1};
  return mlx_conv_general(res, input, weight, stride, 3, padding, 3, padding, 3, dilation, 3, ones, 3, groups, 0, s);
}

/* The transposed convolution as upstream builds it: stride becomes input
 * dilation, the kernel is flipped, and the padding is what makes the
 * result the gradient of the forward convolution's input (plus
 * output_padding at the high end). */
static int conv_transpose(mlx_array* res, const mlx_array input, const mlx_array weight, int nsp, const int* stride,
                          const int* padding, const int* dilation, const int* output_padding, int groups,
                          const mlx_stream s) {
  MLX_TRY(mlx_check_array_(input, "conv"));
  MLX_TRY(mlx_check_array_(weight, "conv"));
  int lo[3], hi[3], ones[3] = {1, 1, 1};
  if (mlx_array_ndim(input) != nsp + 2 || mlx_array_ndim(weight) != nsp + 2) {
    /* conv_general reports the rank error. */
    return mlx_conv_general(res, input, weight, stride, (size_t)nsp, padding, (size_t)nsp, padding, (size_t)nsp,
                            dilation, (size_t)nsp, stride, (size_t)nsp, groups, 1, s);
  }
  for (int i = 0; i < nsp; i++) {
    int64_t k = mlx_array_dim(weight, 1 + i), n = mlx_array_dim(input, 1 + i);
    int64_t wt_size = 1 + (int64_t)dilation[i] * (k - 1);
    int64_t conv_out = (n - 1) * stride[i] - 2 * (int64_t)padding[i] + (int64_t)dilation[i] * (k - 1) + 1;
    int64_t out_size = 1 + (int64_t)stride[i] * (n - 1);
    int64_t l = wt_size - padding[i] - 1, h = conv_out - out_size + padding[i] + output_padding[i];
    if (l < INT_MIN || l > INT_MAX || h < INT_MIN || h > INT_MAX)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[conv_transpose] padding out of range");
    lo[i] = (int)l;
    hi[i] = (int)h;
  }
  return mlx_conv_general(res, input, weight, ones, (size_t)nsp, lo, (size_t)nsp, hi, (size_t)nsp, dilation,
                          (size_t)nsp, stride, (size_t)nsp, groups, 1, s);
}

int mlx_conv_transpose1d(mlx_array* res, const mlx_array input, const mlx_array weight, int stride, int padding,
                         int dilation, int output_padding, int groups, const mlx_stream s) {
  return conv_transpose(res, input, weight, 1, &stride, &padding, &dilation, &output_padding, groups, s);
}

int mlx_conv_transpose2d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride,
                         const int* padding, const int* dilation, const int* output_padding, int groups,
                         const mlx_stream s) {
  return conv_transpose(res, input, weight, 2, stride, padding, dilation, output_padding, groups, s);
}

int mlx_conv_transpose3d(mlx_array* res, const mlx_array input, const mlx_array weight, const int* stride,
                         const int* padding, const int* dilation, const int* output_padding, int groups,
                         const mlx_stream s) {
  return conv_transpose(res, input, weight, 3, stride, padding, dilation, output_padding, groups, s);
}

int mlx_convolve(mlx_array* res, const mlx_array a, const mlx_array v, const char* mode, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "convolve"));
  MLX_TRY(mlx_check_array_(v, "convolve"));
  if (mlx_array_ndim(a) != 1 || mlx_array_ndim(v) != 1)
    return mlx_error_(MLX_ERROR_SHAPE, "[convolve] Inputs must be 1D.");
  if (mlx_array_size(a) == 0 || mlx_array_size(v) == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[convolve] Inputs cannot be empty.");
  /* The longer one slides under the reversed shorter one (a on ties). */
  int swap = mlx_array_size(a) < mlx_array_size(v);
  mlx_array in = swap ? v : a, wt = swap ? a : v;
  int64_t m = mlx_array_size(wt);
  int pad_lo = 0, pad_hi = 0;
  if (!mode || !strcmp(mode, "full")) {
    pad_lo = pad_hi = (int)(m - 1);
  } else if (!strcmp(mode, "same")) {
    /* Odd lengths pad symmetrically; even ones one less at the end. */
    pad_lo = (int)(m / 2);
    pad_hi = m % 2 ? pad_lo : (pad_lo > 0 ? pad_lo - 1 : 0);
  } else if (strcmp(mode, "valid")) {
    return mlx_error_(MLX_ERROR_ARGUMENT, "[convolve] Invalid mode.");
  }
  if (m - 1 > INT_MAX) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[convolve] inputs too long");
  mlx_array rev = mlx_array_new(), x3 = mlx_array_new(), w3 = mlx_array_new(), out = mlx_array_new();
  int64_t first = m - 1, stop = -m - 1, step = -1, shape[3] = {1, -1, 1};
  int rc = mlx_slice(&rev, wt, &first, &stop, &step, 1, s);
  if (rc == MLX_OK) rc = mlx_reshape(&x3, in, shape, 3, s);
  if (rc == MLX_OK) rc = mlx_reshape(&w3, rev, shape, 3, s);
  int one = 1;
  if (rc == MLX_OK)
    rc = mlx_conv_general(&out, x3, w3, &one, 1, &pad_lo, 1, &pad_hi, 1, &one, 1, &one, 1, 1, 0, s);
  int64_t flat = -1;
  if (rc == MLX_OK) rc = mlx_reshape(res, out, &flat, 1, s);
  mlx_array_free(rev), mlx_array_free(x3), mlx_array_free(w3), mlx_array_free(out);
  return rc;
}
