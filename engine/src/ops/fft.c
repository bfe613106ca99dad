/* The fft family: fft/ifft/rfft/irfft in 1, 2 and n dimensions (one "fft"
 * primitive, with its transform rules), fftshift/ifftshift (slices and
 * concatenation) and fftfreq/rfftfreq (constants). Semantics follow
 * upstream MLX's mlx/fft.cpp and python/src/fft.cpp. */
#include <math.h>
#include <stdlib.h>

#include "../cpu/fft.h"
#include "mlx/fft.h"

static int fft_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int fft_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
static int fft_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s);
static int fft_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                      const void* params);

static const mlx_prim_ prim_fft = {.name = "fft",
                                   .cpu = mlx_cpu_fft_,
                                   .vjp = fft_vjp,
                                   .jvp = fft_jvp,
                                   .vmap = fft_vmap,
                                   .output_shapes = fft_shapes};
MLX_REGISTER_PRIM(prim_fft);

/* The output shape of the transform p on an input of shape `shape`. */
static void out_shape(int64_t* out, const int64_t* shape, int ndim, const mlx_fft_params_* p) {
  memcpy(out, shape, sizeof(int64_t) * (size_t)ndim);
  for (int i = 0; i < p->naxes; i++) out[p->axes[i]] = p->n[i];
  if (p->real && !p->inverse) out[p->axes[p->naxes - 1]] = p->n[p->naxes - 1] / 2 + 1;
}

static int fft_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                      const void* params) {
  const mlx_fft_params_* p = params;
  mlx_node_* x = ins[0];
  if (x->ndim > cap) return mlx_error_(MLX_ERROR_SHAPE, "[fft] too many dimensions");
  for (int i = 0; i < p->naxes; i++)
    if (p->axes[i] >= x->ndim) return mlx_error_(MLX_ERROR_SHAPE, "[fft] axis %d out of range", p->axes[i]);
  out_shape(shapes[0], x->shape, x->ndim, p);
  ndims[0] = x->ndim;
  return MLX_OK;
}

/* Casts x to the primitive's input dtype and records the transform p. */
static int fft_record(mlx_array* res, const mlx_array x, const mlx_fft_params_* p, mlx_stream s) {
  mlx_dtype in_t = p->real && !p->inverse ? MLX_FLOAT32 : MLX_COMPLEX64;
  mlx_dtype out_t = p->real && p->inverse ? MLX_FLOAT32 : MLX_COMPLEX64;
  mlx_array c = mlx_array_new();
  int rc = mlx_astype(&c, x, in_t, s);
  if (!rc) {
    mlx_node_* cn = MLX_NODE(c);
    int64_t shape[cn->ndim > 0 ? cn->ndim : 1];
    out_shape(shape, cn->shape, cn->ndim, p);
    rc = mlx_op1_(res, &prim_fft, p, sizeof *p, &cn, 1, out_t, shape, cn->ndim, s);
  }
  mlx_array_free(c);
  return rc;
}

int mlx_fft_norm_parse(mlx_fft_norm* norm, const char* name) {
  if (!name || !strcmp(name, "backward")) *norm = MLX_FFT_NORM_BACKWARD;
  else if (!strcmp(name, "ortho")) *norm = MLX_FFT_NORM_ORTHO;
  else if (!strcmp(name, "forward")) *norm = MLX_FFT_NORM_FORWARD;
  else return mlx_error_(MLX_ERROR_ARGUMENT, "[fft] Invalid norm. Expected one of {'backward', 'ortho', 'forward'}.");
  return MLX_OK;
}

/* Every transform: checks the arguments as upstream's fft_impl does and
 * records the primitive. axes NULL: every axis (n must then be NULL). */
static int fft_impl(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
                    int real, int inverse, mlx_fft_norm norm, const char* name, mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, name));
  if ((unsigned)norm > MLX_FFT_NORM_FORWARD)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Invalid norm. Expected one of {'backward', 'ortho', 'forward'}.",
                      name);
  mlx_node_* x = MLX_NODE(a);
  int nd = x->ndim;
  if (nd < 1) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Requires array with at least one dimension.", name);
  if (!axes && n) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] `axes` should not be `None` if `s` is not `None`.", name);
  size_t na = axes ? naxes : (size_t)nd;
  if (n && nn != na) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Shape and axes have different sizes.", name);
  if (na == 0) return mlx_array_set(res, a);
  if (na > MLX_FFT_MAX_AXES)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] at most %d axes are supported", name, MLX_FFT_MAX_AXES);
  mlx_fft_params_ p;
  memset(&p, 0, sizeof p);
  p.naxes = (int32_t)na;
  p.inverse = inverse;
  p.real = real;
  for (size_t i = 0; i < na; i++) {
    int ax = axes ? axes[i] : (int)i;
    if (ax < -nd || ax >= nd)
      return mlx_error_(MLX_ERROR_INDEX, "[%s] Invalid axis %d for array with %d dimensions.", name, ax, nd);
    if (ax < 0) ax += nd;
    for (size_t j = 0; j < i; j++)
      if (p.axes[j] == ax) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Duplicated axis received %d.", name, ax);
    p.axes[i] = ax;
    int64_t len = x->shape[ax];
    if (n) {
      len = n[i];
    } else if (real && inverse && i == na - 1) {
      if (len > INT64_MAX / 2) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] axis too long", name);
      len = 2 * (len - 1);
    }
    if (len <= 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Invalid FFT output size requested (%lld).", name, (long long)len);
    p.n[i] = len;
  }
  if (norm == MLX_FFT_NORM_ORTHO) p.scale = MLX_FFT_SCALE_SQRT;
  else if ((norm == MLX_FFT_NORM_BACKWARD) == (inverse != 0)) p.scale = MLX_FFT_SCALE_FULL;
  else p.scale = MLX_FFT_SCALE_NONE;
  return fft_record(res, a, &p, s);
}

int mlx_fft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, n ? 1 : 0, &axis, 1, 0, 0, norm, "fft", s);
}

int mlx_ifft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, n ? 1 : 0, &axis, 1, 0, 1, norm, "ifft", s);
}

int mlx_rfft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, n ? 1 : 0, &axis, 1, 1, 0, norm, "rfft", s);
}

int mlx_irfft(mlx_array* res, const mlx_array a, const int64_t* n, int axis, mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, n ? 1 : 0, &axis, 1, 1, 1, norm, "irfft", s);
}

static const int last_two[2] = {-2, -1};

int mlx_fft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
             mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes ? axes : last_two, axes ? naxes : 2, 0, 0, norm, "fft2", s);
}

int mlx_ifft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes ? axes : last_two, axes ? naxes : 2, 0, 1, norm, "ifft2", s);
}

int mlx_rfft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes ? axes : last_two, axes ? naxes : 2, 1, 0, norm, "rfft2", s);
}

int mlx_irfft2(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
               mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes ? axes : last_two, axes ? naxes : 2, 1, 1, norm, "irfft2", s);
}

int mlx_fftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
             mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes, naxes, 0, 0, norm, "fftn", s);
}

int mlx_ifftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes, naxes, 0, 1, norm, "ifftn", s);
}

int mlx_rfftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
              mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes, naxes, 1, 0, norm, "rfftn", s);
}

int mlx_irfftn(mlx_array* res, const mlx_array a, const int64_t* n, size_t nn, const int* axes, size_t naxes,
               mlx_fft_norm norm, const mlx_stream s) {
  return fft_impl(res, a, n, nn, axes, naxes, 1, 1, norm, "irfftn", s);
}

/* ---- fftshift / ifftshift ---------------------------------------------- */

/* Rolls the listed axes by size / 2 (or (size + 1) / 2 for the inverse):
 * the last k entries move to the front. */
static int shift_impl(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, int inverse, const char* name,
                      mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, name));
  mlx_node_* x = MLX_NODE(a);
  int nd = x->ndim;
  size_t na = axes ? naxes : (size_t)nd;
  for (size_t i = 0; i < na; i++) {
    int ax = axes ? axes[i] : (int)i;
    if (ax < -nd || ax >= nd)
      return mlx_error_(MLX_ERROR_INDEX, "[%s] Invalid axis %d for array with %d dimensions.", name, ax, nd);
  }
  mlx_array cur = mlx_array_new();
  int rc = mlx_array_set(&cur, a);
  int64_t start[nd > 0 ? nd : 1], stop[nd > 0 ? nd : 1], step[nd > 0 ? nd : 1];
  for (size_t i = 0; i < na && !rc; i++) {
    int ax = axes ? axes[i] : (int)i;
    if (ax < 0) ax += nd;
    int64_t size = x->shape[ax];
    int64_t k = inverse ? (size + 1) / 2 : size / 2;
    if (size <= 1 || k % size == 0) continue;
    for (int d = 0; d < nd; d++) start[d] = 0, stop[d] = x->shape[d], step[d] = 1;
    mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
    start[ax] = size - k;
    rc = mlx_slice(&parts[0], cur, start, stop, step, nd, s);
    start[ax] = 0;
    stop[ax] = size - k;
    if (!rc) rc = mlx_slice(&parts[1], cur, start, stop, step, nd, s);
    if (!rc) rc = mlx_concatenate(&cur, parts, 2, ax, s);
    mlx_array_free(parts[0]);
    mlx_array_free(parts[1]);
  }
  if (!rc) rc = mlx_array_set(res, cur);
  mlx_array_free(cur);
  return rc;
}

int mlx_fftshift(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s) {
  return shift_impl(res, a, axes, naxes, 0, "fftshift", s);
}

int mlx_ifftshift(mlx_array* res, const mlx_array a, const int* axes, size_t naxes, const mlx_stream s) {
  return shift_impl(res, a, axes, naxes, 1, "ifftshift", s);
}

/* ---- fftfreq / rfftfreq ------------------------------------------------ */

static int freq_impl(mlx_array* res, int64_t n, double d, int real, const char* name) {
  if (n <= 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] `n` must be greater than 0.", name);
  if (d == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] `d` must be non-zero.", name);
  int64_t len = real ? n / 2 + 1 : n;
  if ((uint64_t)len > SIZE_MAX / sizeof(float))
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] %lld frequencies are too many", name, (long long)len);
  float* v = malloc(sizeof(float) * (size_t)len);
  if (!v) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", name);
  double scale = 1.0 / ((double)n * d);
  int64_t pos = real ? len : (n - 1) / 2 + 1;
  for (int64_t i = 0; i < len; i++) v[i] = (float)((double)(i < pos ? i : i - n) * scale);
  int rc = mlx_array_new_data(res, v, &len, 1, MLX_FLOAT32);
  free(v);
  return rc;
}

int mlx_fftfreq(mlx_array* res, int64_t n, double d, const mlx_stream s) {
  (void)s;
  return freq_impl(res, n, d, 0, "fftfreq");
}

int mlx_rfftfreq(mlx_array* res, int64_t n, double d, const mlx_stream s) {
  (void)s;
  return freq_impl(res, n, d, 1, "rfftfreq");
}

/* ---- transform rules ---------------------------------------------------- */

/* Zero-pads or truncates t along p's axes to the sizes of `shape` (what
 * the adjoint of the kernel's own pad/truncate does). */
static int fit_to(mlx_array* res, const mlx_array t, const int64_t* shape, const mlx_fft_params_* p, mlx_stream s) {
  mlx_node_* tn = MLX_NODE(t);
  int nd = tn->ndim;
  int64_t start[nd], stop[nd], step[nd];
  int pad_axes[MLX_FFT_MAX_AXES];
  int64_t lows[MLX_FFT_MAX_AXES], highs[MLX_FFT_MAX_AXES];
  int npad = 0, cut = 0;
  for (int d = 0; d < nd; d++) start[d] = 0, stop[d] = tn->shape[d], step[d] = 1;
  for (int i = 0; i < p->naxes; i++) {
    int ax = p->axes[i];
    if (shape[ax] < tn->shape[ax]) {
      stop[ax] = shape[ax];
      cut = 1;
    } else if (shape[ax] > tn->shape[ax]) {
      pad_axes[npad] = ax;
      lows[npad] = 0;
      highs[npad] = shape[ax] - tn->shape[ax];
      npad++;
    }
  }
  mlx_array cur = mlx_array_new(), zero = mlx_array_new();
  int rc = cut ? mlx_slice(&cur, t, start, stop, step, nd, s) : mlx_array_set(&cur, t);
  if (!rc && npad) {
    rc = mlx_array_new_float(&zero, 0.0, MLX_NODE(cur)->dtype);
    if (!rc) rc = mlx_pad(&cur, cur, pad_axes, lows, highs, (size_t)npad, zero, "constant", s);
  }
  if (!rc) rc = mlx_array_set(res, cur);
  mlx_array_free(cur);
  mlx_array_free(zero);
  return rc;
}

/* The adjoint (conjugate transpose) of the transform, as MLX's complex
 * cotangent convention asks: the other direction with the same factor,
 * then the adjoint of the input's padding/truncation. Real forward: the
 * cotangent's half spectrum is zero-extended, transformed back complex,
 * and its real part taken. Real inverse: the forward real transform of
 * the cotangent, with the bins that stand for two conjugate bins doubled. */
static int fft_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_fft_params_* p = params;
  const int64_t* xshape = MLX_NODE(inputs[0])->shape;
  int last = p->axes[p->naxes - 1];
  int64_t nl = p->n[p->naxes - 1];
  mlx_fft_params_ q = *p;
  q.inverse = !p->inverse;
  mlx_array t = mlx_array_new(), u = mlx_array_new(), w = mlx_array_new();
  int rc;
  if (!p->real) {
    rc = fft_record(&t, cots[0], &q, s);
  } else if (!p->inverse) {
    q.real = 0;
    int64_t m = nl / 2 + 1, high = nl - m, low = 0;
    rc = mlx_array_new_float(&w, 0.0, MLX_COMPLEX64);
    if (!rc) rc = high ? mlx_pad(&u, cots[0], &last, &low, &high, 1, w, "constant", s) : mlx_array_set(&u, cots[0]);
    if (!rc) rc = fft_record(&t, u, &q, s);
    if (!rc) rc = mlx_real(&t, t, s);
  } else {
    int64_t m = nl / 2 + 1;
    float* wv = malloc(sizeof(float) * (size_t)m);
    if (!wv) return mlx_error_(MLX_ERROR_MEMORY, "[fft] out of memory");
    for (int64_t k = 0; k < m; k++) wv[k] = k == 0 || 2 * k == nl ? 1.0f : 2.0f;
    int nd = MLX_NODE(inputs[0])->ndim;
    int64_t wshape[nd];
    for (int d = 0; d < nd; d++) wshape[d] = d == last ? m : 1;
    rc = mlx_array_new_data(&w, wv, wshape, nd, MLX_FLOAT32);
    free(wv);
    if (!rc) rc = fft_record(&t, cots[0], &q, s);
    if (!rc) rc = mlx_multiply(&t, t, w, s);
  }
  if (!rc) rc = fit_to(&in_cots[0], t, xshape, p, s);
  mlx_array_free(t);
  mlx_array_free(u);
  mlx_array_free(w);
  return rc;
}

/* Linear: the same transform of the tangent. */
static int fft_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return fft_record(&out_tans[0], tangents[0], params, s);
}

/* The same transform with the axes at or after the batch axis moved up. */
static int fft_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s) {
  mlx_fft_params_ q = *(const mlx_fft_params_*)params;
  int b = in_axes[0];
  if (b >= 0)
    for (int i = 0; i < q.naxes; i++)
      if (q.axes[i] >= b) q.axes[i]++;
  out_axes[0] = b;
  return fft_record(&outs[0], inputs[0], &q, s);
}
