/* Tests of the fft family: transforms of many lengths against a direct
 * DFT computed in double here, values printed once by Python MLX 0.32
 * (said where), axes/padding/truncation, dtypes, strided inputs, empty
 * arrays, errors, fftshift/fftfreq, and the transform rules (finite
 * differences and vmap through gradcheck.h). */
#include <complex.h>

#include "gradcheck.h"
#include "mlx/fft.h"

static unsigned rng_state = 1234567u;
static double urand(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (double)(rng_state >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

static mlx_array arr_c64(const float* v, const int64_t* shape, int ndim) {
  mlx_array a = mlx_array_new();
  if (mlx_array_new_data(&a, v, shape, ndim, MLX_COMPLEX64)) fprintf(stderr, "arr_c64: %s\n", mlx_last_error());
  return a;
}

/* Reads a complex64 (or float32, as complex with zero imaginary parts)
 * array into pairs; returns the element count or -1. */
static int64_t read_c(float* out, int64_t cap, mlx_array a) {
  mlx_array c = mlx_array_new();
  if (mlx_astype(&c, a, MLX_COMPLEX64, S)) return -1;
  int64_t n = mlx_array_size(c);
  if (n > cap || mlx_array_copy_to(out, (size_t)n * 8, c)) {
    mlx_array_free(c);
    return -1;
  }
  mlx_array_free(c);
  return n;
}

/* out[k] = sum_j x[j] e^{sign 2 pi i jk / n}, x of length len zero-padded
 * or truncated to n; roots of unity from a table so the reference costs
 * no trigonometry per term. */
static void dft(double complex* out, const double complex* x, int64_t len, int64_t n, int sign) {
  double complex* w = malloc(sizeof(double complex) * (size_t)n);
  for (int64_t k = 0; k < n; k++) {
    double ang = sign * 2.0 * M_PI * (double)k / (double)n;
    w[k] = cos(ang) + I * sin(ang);
  }
  for (int64_t k = 0; k < n; k++) {
    double complex acc = 0;
    int64_t idx = 0;
    for (int64_t j = 0; j < n && j < len; j++) {
      acc += x[j] * w[idx];
      idx += k;
      if (idx >= n) idx -= n;
    }
    out[k] = acc;
  }
  free(w);
}

/* max |got - want| / max |want| over n complex values. */
static double rel_err(const float* got, const double complex* want, int64_t n) {
  double emax = 0, wmax = 1e-30;
  for (int64_t i = 0; i < n; i++) {
    double complex g = got[2 * i] + I * got[2 * i + 1];
    double e = cabs(g - want[i]);
    if (e > emax) emax = e;
    if (cabs(want[i]) > wmax) wmax = cabs(want[i]);
  }
  return emax / wmax;
}

static const int64_t lengths[] = {1,  2,  3,  4,  5,   6,   7,   8,   9,   10,  11,  12,  13,   14,   15,  16,
                                  17, 18, 19, 20, 23,  25,  27,  29,  31,  32,  37,  45,  49,   59,   61,  64,
                                  67, 97, 100, 121, 125, 127, 128, 243, 256, 360, 500, 512, 1000, 1024, 1031, 4099};

/* c2c forward and inverse of `lines` random lines of every length. */
TEST(c2c_lengths) {
  for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
    int64_t n = lengths[li];
    int lines = n > 1000 ? 3 : 11; /* 11: one full lane group and a partial one */
    float* v = malloc(sizeof(float) * 2 * (size_t)(n * lines));
    float* got = malloc(sizeof(float) * 2 * (size_t)(n * lines));
    double complex* x = malloc(sizeof(double complex) * (size_t)n);
    double complex* want = malloc(sizeof(double complex) * (size_t)n);
    for (int64_t i = 0; i < 2 * n * lines; i++) v[i] = (float)urand();
    int64_t shape[2] = {lines, n};
    mlx_array a = arr_c64(v, shape, 2), f = mlx_array_new(), g = mlx_array_new();
    CHECK_OK(mlx_fft(&f, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_ifft(&g, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(f) == MLX_COMPLEX64 && mlx_array_dim(f, 1) == n);
    for (int dir = 0; dir < 2; dir++) {
      CHECK(read_c(got, n * lines, dir ? g : f) == n * lines);
      double worst = 0;
      for (int l = 0; l < lines; l++) {
        for (int64_t j = 0; j < n; j++) x[j] = v[2 * (l * n + j)] + I * v[2 * (l * n + j) + 1];
        dft(want, x, n, n, dir ? 1 : -1);
        if (dir)
          for (int64_t j = 0; j < n; j++) want[j] /= (double)n;
        double e = rel_err(got + 2 * l * n, want, n);
        if (e > worst) worst = e;
      }
      harness_checks++;
      if (!(worst < 2e-6)) {
        harness_failures++;
        fprintf(stderr, "c2c n=%lld dir=%d: relative error %g\n", (long long)n, dir, worst);
      }
    }
    mlx_array_free(a), mlx_array_free(f), mlx_array_free(g);
    free(v), free(got), free(x), free(want);
  }
}

/* rfft against the direct DFT, irfft(rfft(x), n) back to x, and irfft
 * against the direct inverse of the Hermitian extension. */
TEST(real_lengths) {
  for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
    int64_t n = lengths[li], m = n / 2 + 1;
    int lines = n > 1000 ? 3 : 19; /* 19: a full group of 16 lines and a partial one */
    float* v = malloc(sizeof(float) * (size_t)(n * lines));
    float* got = malloc(sizeof(float) * 2 * (size_t)(n * lines));
    double complex* x = malloc(sizeof(double complex) * (size_t)n);
    double complex* want = malloc(sizeof(double complex) * (size_t)n);
    for (int64_t i = 0; i < n * lines; i++) v[i] = (float)urand();
    int64_t shape[2] = {lines, n};
    mlx_array a = arr_f32(v, shape, 2), f = mlx_array_new(), b = mlx_array_new();
    CHECK_OK(mlx_rfft(&f, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(f) == MLX_COMPLEX64 && mlx_array_dim(f, 1) == m);
    CHECK(read_c(got, m * lines, f) == m * lines);
    double worst = 0;
    for (int l = 0; l < lines; l++) {
      for (int64_t j = 0; j < n; j++) x[j] = v[l * n + j];
      dft(want, x, n, n, -1);
      double e = rel_err(got + 2 * l * m, want, m);
      if (e > worst) worst = e;
    }
    harness_checks++;
    if (!(worst < 2e-6)) {
      harness_failures++;
      fprintf(stderr, "rfft n=%lld: relative error %g\n", (long long)n, worst);
    }
    CHECK_OK(mlx_irfft(&b, f, &n, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(b) == MLX_FLOAT32 && mlx_array_dim(b, 1) == n);
    CHECK(read_c(got, n * lines, b) == n * lines);
    worst = 0;
    for (int l = 0; l < lines; l++) {
      for (int64_t j = 0; j < n; j++) want[j] = v[l * n + j];
      double e = rel_err(got + 2 * l * n, want, n);
      if (e > worst) worst = e;
    }
    harness_checks++;
    if (!(worst < 4e-6)) {
      harness_failures++;
      fprintf(stderr, "irfft(rfft) n=%lld: relative error %g\n", (long long)n, worst);
    }
    mlx_array_free(a), mlx_array_free(f), mlx_array_free(b);
    free(v), free(got), free(x), free(want);
  }
}

/* irfft of a spectrum whose DC and Nyquist bins have imaginary parts (they
 * are ignored), odd and even n, against the direct inverse. */
TEST(irfft_hermitian) {
  const int64_t ns[] = {1, 2, 5, 6, 7, 8, 97, 100};
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    int64_t n = ns[t], m = n / 2 + 1;
    float v[2 * 51], got[2 * 100];
    double complex h[100], want[100];
    for (int64_t i = 0; i < 2 * m; i++) v[i] = (float)urand();
    for (int64_t k = 0; k < n; k++) {
      int64_t kk = k < m ? k : n - k;
      double complex z = v[2 * kk] + I * v[2 * kk + 1];
      if (kk == 0 || 2 * kk == n) z = creal(z);
      h[k] = k < m ? z : conj(z);
    }
    dft(want, h, n, n, 1);
    for (int64_t k = 0; k < n; k++) want[k] /= (double)n;
    mlx_array a = arr_c64(v, &m, 1), r = mlx_array_new();
    CHECK_OK(mlx_irfft(&r, a, &n, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK(read_c(got, 100, r) == n);
    CHECK(rel_err(got, want, n) < 2e-6);
    mlx_array_free(a), mlx_array_free(r);
  }
}

/* Values printed by Python MLX 0.32: mx.fft.fft(mx.array([1, 2, 3, 4])),
 * rfft, ifft and irfft of the same (irfft default n = 6), and the norms. */
TEST(python_values) {
  int32_t iv[4] = {1, 2, 3, 4};
  int64_t four = 4;
  mlx_array a = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_data(&a, iv, &four, 1, MLX_INT32);
  float got[16];
  CHECK_OK(mlx_fft(&r, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dtype(r) == MLX_COMPLEX64);
  double complex f_want[4] = {10, -2 + 2 * I, -2, -2 - 2 * I};
  CHECK(read_c(got, 16, r) == 4 && rel_err(got, f_want, 4) < 1e-6);
  CHECK_OK(mlx_ifft(&r, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
  double complex i_want[4] = {2.5, -0.5 - 0.5 * I, -0.5, -0.5 + 0.5 * I};
  CHECK(read_c(got, 16, r) == 4 && rel_err(got, i_want, 4) < 1e-6);
  CHECK_OK(mlx_rfft(&r, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
  CHECK(read_c(got, 16, r) == 3 && rel_err(got, f_want, 3) < 1e-6);
  CHECK_OK(mlx_irfft(&r, a, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32 && mlx_array_size(r) == 6);
  double ir_want[6] = {2.5, -0.6666667, 0.0, -0.16666667, 0.0, -0.6666667};
  CHECK_VALUES(r, ir_want, 6, 1e-6);
  /* x = arange(8).reshape(2, 4): fft with norm ortho / forward, ifft forward,
   * irfft ortho (n = 6). */
  float xv[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t sh[2] = {2, 4};
  mlx_array x = arr_f32(xv, sh, 2);
  CHECK_OK(mlx_fft(&r, x, NULL, -1, MLX_FFT_NORM_ORTHO, S));
  double complex o_want[6] = {3, -1 + I, -1, -1 - I, 11, -1 + I};
  CHECK(read_c(got, 16, r) == 8 && rel_err(got, o_want, 6) < 1e-6);
  CHECK_OK(mlx_fft(&r, x, NULL, -1, MLX_FFT_NORM_FORWARD, S));
  double complex fw_want[6] = {1.5, -0.5 + 0.5 * I, -0.5, -0.5 - 0.5 * I, 5.5, -0.5 + 0.5 * I};
  CHECK(read_c(got, 16, r) == 8 && rel_err(got, fw_want, 6) < 1e-6);
  CHECK_OK(mlx_ifft(&r, x, NULL, -1, MLX_FFT_NORM_FORWARD, S));
  double complex ifw_want[6] = {6, -2 - 2 * I, -2, -2 + 2 * I, 22, -2 - 2 * I};
  CHECK(read_c(got, 16, r) == 8 && rel_err(got, ifw_want, 6) < 1e-6);
  CHECK_OK(mlx_irfft(&r, x, NULL, -1, MLX_FFT_NORM_ORTHO, S));
  double iro_want[12] = {3.6742349, -1.6329932, 0.0, -0.4082483, 0.0, -1.6329932,
                         13.472194, -1.6329932, 0.0, -0.4082483, 0.0, -1.6329932};
  CHECK_VALUES(r, iro_want, 12, 1e-6);
  /* fft2(x, s=[3, 5]) starts 28, -8.708204-4.530769j, 4.708204-5.4288244j. */
  int64_t s35[2] = {3, 5};
  CHECK_OK(mlx_fft2(&r, x, s35, 2, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dim(r, 0) == 3 && mlx_array_dim(r, 1) == 5);
  double complex f2_want[3] = {28, -8.708204 - 4.530769 * I, 4.708204 - 5.4288244 * I};
  float g2[30];
  CHECK(read_c(g2, 15, r) == 15 && rel_err(g2, f2_want, 3) < 1e-6);
  /* irfft(ones((3, 4)), n=3) rows are [1, 0, 0]. */
  float ones[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  int64_t s34[2] = {3, 4}, three = 3;
  mlx_array o = arr_f32(ones, s34, 2);
  CHECK_OK(mlx_irfft(&r, o, &three, -1, MLX_FFT_NORM_BACKWARD, S));
  double ir3_want[9] = {1, 0, 0, 1, 0, 0, 1, 0, 0};
  CHECK_VALUES(r, ir3_want, 9, 1e-6);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(x), mlx_array_free(o);
}

/* fft of a [rows, cols] complex array along axis 0 / 1, with padding or
 * truncation to n, against the direct DFT. src is row-major data of the
 * logical array. */
static void check_axis_fft(mlx_array a, const float* src, int64_t rows, int64_t cols, int axis, int64_t n,
                           int inverse) {
  mlx_array r = mlx_array_new();
  int64_t* np = &n;
  CHECK_OK((inverse ? mlx_ifft : mlx_fft)(&r, a, np, axis, MLX_FFT_NORM_BACKWARD, S));
  int64_t lines = axis == 0 ? cols : rows, len = axis == 0 ? rows : cols;
  float* got = malloc(sizeof(float) * 2 * (size_t)(n * lines));
  double complex *x = malloc(sizeof(double complex) * (size_t)len), *want = malloc(sizeof(double complex) * (size_t)n);
  CHECK(read_c(got, n * lines, r) == n * lines);
  for (int64_t l = 0; l < lines; l++) {
    for (int64_t j = 0; j < len; j++) {
      int64_t idx = axis == 0 ? j * cols + l : l * cols + j;
      x[j] = src[2 * idx] + I * src[2 * idx + 1];
    }
    dft(want, x, len, n, inverse ? 1 : -1);
    float line[2 * 64];
    for (int64_t k = 0; k < n; k++) {
      int64_t idx = axis == 0 ? k * lines + l : l * n + k;
      line[2 * k] = got[2 * idx];
      line[2 * k + 1] = got[2 * idx + 1];
      if (inverse) want[k] /= (double)n;
    }
    harness_checks++;
    if (!(rel_err(line, want, n) < 2e-6)) {
      harness_failures++;
      fprintf(stderr, "axis fft axis=%d n=%lld line %lld wrong\n", axis, (long long)n, (long long)l);
      break;
    }
  }
  mlx_array_free(r);
  free(got), free(x), free(want);
}

TEST(axes_padding_strided) {
  enum { R = 6, C = 10 };
  float v[2 * R * C], vt[2 * R * C];
  for (int i = 0; i < 2 * R * C; i++) v[i] = (float)urand();
  int64_t sh[2] = {R, C};
  mlx_array a = arr_c64(v, sh, 2);
  const int64_t sizes[] = {1, 4, 6, 10, 13, 17};
  for (int axis = 0; axis < 2; axis++)
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++)
      for (int inv = 0; inv < 2; inv++) check_axis_fft(a, v, R, C, axis, sizes[t], inv);
  /* A transposed view: a [C, R] array whose rows are strided. */
  mlx_array tr = mlx_array_new();
  CHECK_OK(mlx_transpose(&tr, a, NULL, 0, S));
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C; j++) {
      vt[2 * (j * R + i)] = v[2 * (i * C + j)];
      vt[2 * (j * R + i) + 1] = v[2 * (i * C + j) + 1];
    }
  for (int axis = 0; axis < 2; axis++) check_axis_fft(tr, vt, C, R, axis, axis ? R : C, 0);
  /* A slice with step 2 along the transformed axis. */
  mlx_array sl = mlx_array_new();
  int64_t st[2] = {0, 1}, sp[2] = {R, C}, stp[2] = {1, 2};
  CHECK_OK(mlx_slice(&sl, a, st, sp, stp, 2, S));
  float vs[2 * R * (C / 2)];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C / 2; j++) {
      vs[2 * (i * (C / 2) + j)] = v[2 * (i * C + 2 * j + 1)];
      vs[2 * (i * (C / 2) + j) + 1] = v[2 * (i * C + 2 * j + 1) + 1];
    }
  check_axis_fft(sl, vs, R, C / 2, 1, C / 2, 0);
  check_axis_fft(sl, vs, R, C / 2, 0, R, 1);
  /* A broadcast input: every row the same. */
  mlx_array row = mlx_array_new(), bc = mlx_array_new(), r = mlx_array_new();
  int64_t one_c[2] = {1, C}, start0[2] = {0, 0};
  CHECK_OK(mlx_slice(&row, a, start0, one_c, (int64_t[]){1, 1}, 2, S));
  CHECK_OK(mlx_broadcast_to(&bc, row, sh, 2, S));
  float vb[2 * R * C];
  for (int i = 0; i < R; i++) memcpy(vb + 2 * i * C, v, sizeof(float) * 2 * C);
  check_axis_fft(bc, vb, R, C, 1, C, 0);
  check_axis_fft(bc, vb, R, C, 0, R, 0);
  mlx_array_free(a), mlx_array_free(tr), mlx_array_free(sl), mlx_array_free(row), mlx_array_free(bc);
  mlx_array_free(r);
}

/* fftn/rfftn/irfftn against compositions of 1-D transforms (each checked
 * above against the direct DFT), with padding and truncation. */
static double max_diff(mlx_array a, mlx_array b) {
  int64_t n = mlx_array_size(a);
  if (n != mlx_array_size(b)) return 1e30;
  float* x = malloc(sizeof(float) * 2 * (size_t)(n ? n : 1));
  float* y = malloc(sizeof(float) * 2 * (size_t)(n ? n : 1));
  read_c(x, n, a), read_c(y, n, b);
  double m = 0, scale = 1e-30;
  for (int64_t i = 0; i < 2 * n; i++) {
    double d = fabs((double)x[i] - y[i]);
    if (d > m) m = d;
    if (fabs(y[i]) > scale) scale = fabs(y[i]);
  }
  free(x), free(y);
  return m / scale;
}

TEST(nd_forms) {
  enum { A = 3, B = 5, C = 8 };
  float v[2 * A * B * C];
  for (int i = 0; i < 2 * A * B * C; i++) v[i] = (float)urand();
  int64_t sh[3] = {A, B, C};
  mlx_array z = arr_c64(v, sh, 3), x = mlx_array_new(), r = mlx_array_new(), e = mlx_array_new();
  CHECK_OK(mlx_real(&x, z, S));
  /* fftn over every axis == fft along 0, 1, 2 in turn. */
  CHECK_OK(mlx_fftn(&r, z, NULL, 0, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_fft(&e, z, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_fft(&e, e, NULL, 1, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_fft(&e, e, NULL, 2, MLX_FFT_NORM_BACKWARD, S));
  CHECK(max_diff(r, e) < 1e-6);
  /* fftn with sizes on axes {2, 0}: pad axis 2 to 9, truncate axis 0 to 2. */
  int axes20[2] = {2, 0};
  int64_t s20[2] = {9, 2}, n9 = 9, n2 = 2;
  CHECK_OK(mlx_fftn(&r, z, s20, 2, axes20, 2, MLX_FFT_NORM_ORTHO, S));
  CHECK_OK(mlx_fft(&e, z, &n9, 2, MLX_FFT_NORM_ORTHO, S));
  CHECK_OK(mlx_fft(&e, e, &n2, 0, MLX_FFT_NORM_ORTHO, S));
  CHECK(mlx_array_dim(r, 0) == 2 && mlx_array_dim(r, 2) == 9);
  CHECK(max_diff(r, e) < 1e-6);
  /* ifft2 default axes with forward norm. */
  CHECK_OK(mlx_ifft2(&r, z, NULL, 0, NULL, 0, MLX_FFT_NORM_FORWARD, S));
  CHECK_OK(mlx_ifft(&e, z, NULL, 1, MLX_FFT_NORM_FORWARD, S));
  CHECK_OK(mlx_ifft(&e, e, NULL, 2, MLX_FFT_NORM_FORWARD, S));
  CHECK(max_diff(r, e) < 1e-6);
  /* rfftn over {0, 2} (real axis 2, padded to 11) == rfft(axis 2) then fft(axis 0). */
  int axes02[2] = {0, 2};
  int64_t s02[2] = {4, 11}, n4 = 4, n11 = 11;
  CHECK_OK(mlx_rfftn(&r, x, s02, 2, axes02, 2, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_rfft(&e, x, &n11, 2, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_fft(&e, e, &n4, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dim(r, 0) == 4 && mlx_array_dim(r, 2) == 6 && mlx_array_dtype(r) == MLX_COMPLEX64);
  CHECK(max_diff(r, e) < 1e-6);
  /* irfftn(rfftn(x)) == x over all axes (even last axis), and irfft2 with s. */
  mlx_array f = mlx_array_new();
  CHECK_OK(mlx_rfftn(&f, x, NULL, 0, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dim(f, 2) == C / 2 + 1);
  int64_t sall[3] = {A, B, C};
  int all[3] = {0, 1, 2};
  CHECK_OK(mlx_irfftn(&r, f, sall, 3, all, 3, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK(max_diff(r, x) < 1e-6);
  /* irfft2 default: last axis 2 * (m - 1) == C. */
  CHECK_OK(mlx_rfft2(&f, x, NULL, 0, NULL, 0, MLX_FFT_NORM_ORTHO, S));
  CHECK_OK(mlx_irfft2(&r, f, NULL, 0, NULL, 0, MLX_FFT_NORM_ORTHO, S));
  CHECK(mlx_array_dim(r, 2) == C);
  CHECK(max_diff(r, x) < 1e-6);
  /* irfft2 == ifft(axis 1) then irfft(axis 2). */
  int64_t s2[2] = {7, 9}, n7 = 7;
  CHECK_OK(mlx_irfft2(&r, z, s2, 2, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_ifft(&e, z, &n7, 1, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_irfft(&e, e, &n9, 2, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dim(r, 1) == 7 && mlx_array_dim(r, 2) == 9);
  CHECK(max_diff(r, e) < 1e-6);
  /* An empty axes list hands the input back unchanged. */
  CHECK_OK(mlx_fftn(&r, x, NULL, 0, all, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32 && mlx_array_is_same(r, x));
  mlx_array_free(z), mlx_array_free(x), mlx_array_free(r), mlx_array_free(e), mlx_array_free(f);
}

/* Transforms along axis 0 of a [len, 37] array (lines adjacent in memory:
 * the vector fast paths, and a partial group) against the same transforms
 * of the transposed, contiguous copy along its last axis. */
TEST(strided_axis_paths) {
  const int64_t lens[] = {4, 9, 16, 33};
  for (size_t t = 0; t < sizeof lens / sizeof *lens; t++) {
    int64_t len = lens[t], cols = 37, n = len, h = len / 2 + 1;
    int64_t sh[2] = {len, cols}, hs[2] = {h, cols};
    float* v = malloc(sizeof(float) * 2 * (size_t)(len * cols));
    for (int64_t i = 0; i < 2 * len * cols; i++) v[i] = (float)urand();
    mlx_array z = arr_c64(v, sh, 2), x = mlx_array_new(), zt = mlx_array_new(), xt = mlx_array_new();
    mlx_array r = mlx_array_new(), e = mlx_array_new(), hz = mlx_array_new(), hzt = mlx_array_new();
    CHECK_OK(mlx_real(&x, z, S));
    CHECK_OK(mlx_transpose(&zt, z, NULL, 0, S));
    CHECK_OK(mlx_contiguous(&zt, zt, 0, S));
    CHECK_OK(mlx_transpose(&xt, x, NULL, 0, S));
    CHECK_OK(mlx_contiguous(&xt, xt, 0, S));
    /* c2c and c2c inverse. */
    for (int inv = 0; inv < 2; inv++) {
      CHECK_OK((inv ? mlx_ifft : mlx_fft)(&r, z, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
      CHECK_OK((inv ? mlx_ifft : mlx_fft)(&e, zt, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
      CHECK_OK(mlx_transpose(&e, e, NULL, 0, S));
      CHECK(max_diff(r, e) < 1e-6);
    }
    /* r2c. */
    CHECK_OK(mlx_rfft(&r, x, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_rfft(&e, xt, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_transpose(&e, e, NULL, 0, S));
    CHECK(max_diff(r, e) < 1e-6);
    /* c2r from a [h, cols] half spectrum. */
    int64_t st[2] = {0, 0}, step[2] = {1, 1};
    CHECK_OK(mlx_slice(&hz, z, st, hs, step, 2, S));
    CHECK_OK(mlx_transpose(&hzt, hz, NULL, 0, S));
    CHECK_OK(mlx_contiguous(&hzt, hzt, 0, S));
    CHECK_OK(mlx_irfft(&r, hz, &n, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_irfft(&e, hzt, &n, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_transpose(&e, e, NULL, 0, S));
    CHECK(mlx_array_dim(r, 0) == n);
    CHECK(max_diff(r, e) < 1e-6);
    mlx_array_free(z), mlx_array_free(x), mlx_array_free(zt), mlx_array_free(xt);
    mlx_array_free(r), mlx_array_free(e), mlx_array_free(hz), mlx_array_free(hzt);
    free(v);
  }
}

/* Long lines (the four-step path, taken for fewer than 8 lines of length
 * >= 16384; Bluestein over it for 16411 (prime) and 2 * 10007) against
 * the lane path (8 copies of the line) and a few bins of the direct DFT. */
TEST(long_lines) {
  const int64_t ns[] = {20000, 16384 * 3, 16411, 2 * 10007};
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    int64_t n = ns[t], m = n / 2 + 1;
    float* v = malloc(sizeof(float) * 2 * (size_t)n);
    float* got = malloc(sizeof(float) * 2 * (size_t)(8 * n));
    for (int64_t i = 0; i < 2 * n; i++) v[i] = (float)urand();
    int64_t one[2] = {1, n}, eight[2] = {8, n};
    mlx_array z = arr_c64(v, one, 2), z8 = mlx_array_new(), x = mlx_array_new(), x8 = mlx_array_new();
    mlx_array r = mlx_array_new(), e = mlx_array_new(), h = mlx_array_new(), h8 = mlx_array_new();
    CHECK_OK(mlx_broadcast_to(&z8, z, eight, 2, S));
    CHECK_OK(mlx_contiguous(&z8, z8, 0, S));
    CHECK_OK(mlx_real(&x, z, S));
    CHECK_OK(mlx_real(&x8, z8, S));
    for (int inv = 0; inv < 2; inv++) {
      CHECK_OK((inv ? mlx_ifft : mlx_fft)(&r, z, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
      CHECK_OK((inv ? mlx_ifft : mlx_fft)(&e, z8, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
      CHECK_OK(mlx_slice(&e, e, (int64_t[]){0, 0}, one, (int64_t[]){1, 1}, 2, S));
      CHECK(max_diff(r, e) < 1e-6);
    }
    CHECK_OK(mlx_fft(&r, z, NULL, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK(read_c(got, n, r) == n);
    const int64_t bins[] = {0, 1, 777, n / 2, n - 1};
    for (size_t b = 0; b < sizeof bins / sizeof *bins; b++) {
      int64_t k = bins[b];
      double complex acc = 0;
      for (int64_t j = 0; j < n; j++) {
        double ang = -2.0 * M_PI * (double)((j * k) % n) / (double)n;
        acc += (v[2 * j] + I * v[2 * j + 1]) * (cos(ang) + I * sin(ang));
      }
      double complex g = got[2 * k] + I * got[2 * k + 1];
      CHECK(cabs(g - acc) < 1e-4 * sqrt((double)n));
    }
    CHECK_OK(mlx_rfft(&r, x, NULL, -1, MLX_FFT_NORM_ORTHO, S));
    CHECK_OK(mlx_rfft(&e, x8, NULL, -1, MLX_FFT_NORM_ORTHO, S));
    CHECK_OK(mlx_slice(&e, e, (int64_t[]){0, 0}, (int64_t[]){1, m}, (int64_t[]){1, 1}, 2, S));
    CHECK(mlx_array_dim(r, 1) == m && max_diff(r, e) < 1e-6);
    CHECK_OK(mlx_slice(&h, z, (int64_t[]){0, 0}, (int64_t[]){1, m}, (int64_t[]){1, 1}, 2, S));
    CHECK_OK(mlx_slice(&h8, z8, (int64_t[]){0, 0}, (int64_t[]){8, m}, (int64_t[]){1, 1}, 2, S));
    CHECK_OK(mlx_irfft(&r, h, &n, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_irfft(&e, h8, &n, -1, MLX_FFT_NORM_BACKWARD, S));
    CHECK_OK(mlx_slice(&e, e, (int64_t[]){0, 0}, one, (int64_t[]){1, 1}, 2, S));
    CHECK(mlx_array_dtype(r) == MLX_FLOAT32 && max_diff(r, e) < 1e-6);
    mlx_array_free(z), mlx_array_free(z8), mlx_array_free(x), mlx_array_free(x8);
    mlx_array_free(r), mlx_array_free(e), mlx_array_free(h), mlx_array_free(h8);
    free(v), free(got);
  }
}

/* Every input dtype: fft promotes to complex64, rfft reads float32 (the
 * real part of complex), irfft returns float32. */
TEST(dtypes) {
  const mlx_dtype dts[] = {MLX_BOOL,  MLX_UINT8,   MLX_UINT32,   MLX_INT16, MLX_INT32,
                           MLX_INT64, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT32, MLX_FLOAT64, MLX_COMPLEX64};
  float v[4] = {1, 0, 1, 1};
  int64_t four = 4;
  mlx_array base = arr_f32(v, &four, 1);
  for (size_t i = 0; i < sizeof dts / sizeof *dts; i++) {
    mlx_array a = mlx_array_new(), r = mlx_array_new();
    CHECK_OK(mlx_astype(&a, base, dts[i], S));
    CHECK_OK(mlx_fft(&r, a, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(r) == MLX_COMPLEX64);
    double complex want[4] = {3, I, 1, -I};
    float got[8];
    CHECK(read_c(got, 4, r) == 4 && rel_err(got, want, 4) < 1e-6);
    CHECK_OK(mlx_rfft(&r, a, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(r) == MLX_COMPLEX64 && mlx_array_size(r) == 3);
    CHECK(read_c(got, 4, r) == 3 && rel_err(got, want, 3) < 1e-6);
    CHECK_OK(mlx_irfft(&r, a, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
    CHECK(mlx_array_dtype(r) == MLX_FLOAT32 && mlx_array_size(r) == 6);
    mlx_array_free(a), mlx_array_free(r);
  }
  /* rfft of complex input drops the imaginary part. */
  float cv[8] = {1, 5, 0, 5, 1, 5, 1, 5};
  mlx_array c = arr_c64(cv, &four, 1), r = mlx_array_new();
  CHECK_OK(mlx_rfft(&r, c, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  double complex want[3] = {3, I, 1};
  float got[8];
  CHECK(read_c(got, 4, r) == 3 && rel_err(got, want, 3) < 1e-6);
  mlx_array_free(c), mlx_array_free(r), mlx_array_free(base);
}

/* Python MLX: fft of shape (3, 0) along axis 0 is (3, 0); along the empty
 * axis it is an error unless n is given (then zeros). */
TEST(empty_and_errors) {
  int64_t sh[2] = {3, 0};
  mlx_array e = mlx_array_new(), r = mlx_array_new(), sc = mlx_array_new();
  CHECK_OK(mlx_zeros(&e, sh, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_fft(&r, e, NULL, 0, MLX_FFT_NORM_BACKWARD, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_dim(r, 0) == 3 && mlx_array_dim(r, 1) == 0);
  CHECK_ERR(mlx_fft(&r, e, NULL, 1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_rfft(&r, e, NULL, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  int64_t four = 4;
  CHECK_OK(mlx_fft(&r, e, &four, 1, MLX_FFT_NORM_BACKWARD, S));
  double zeros[12] = {0};
  CHECK_VALUES(r, zeros, 12, 0);
  /* irfft of a length-1 axis: default n = 0 is an error, n = 1 works. */
  int64_t s31[2] = {3, 1}, one = 1;
  mlx_array o = mlx_array_new();
  CHECK_OK(mlx_ones(&o, s31, 2, MLX_FLOAT32, S));
  CHECK_ERR(mlx_irfft(&r, o, NULL, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_irfft(&r, o, &one, -1, MLX_FFT_NORM_BACKWARD, S));
  double ones3[3] = {1, 1, 1};
  CHECK_VALUES(r, ones3, 3, 1e-7);
  /* Errors. */
  mlx_array_new_float(&sc, 1.0, MLX_FLOAT32);
  CHECK_ERR(mlx_fft(&r, sc, NULL, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  int64_t zero = 0, neg = -1;
  CHECK_ERR(mlx_fft(&r, o, &zero, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fft(&r, o, &neg, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fft(&r, o, NULL, 2, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_fft(&r, o, NULL, -3, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_INDEX);
  int dup[2] = {1, -1}, ax1[1] = {1};
  int64_t s2[2] = {2, 2};
  CHECK_ERR(mlx_fftn(&r, o, NULL, 0, dup, 2, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fftn(&r, o, s2, 1, NULL, 0, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fftn(&r, o, s2, 2, ax1, 1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fft(&r, o, NULL, -1, (mlx_fft_norm)7, S), MLX_ERROR_ARGUMENT);
  int64_t four1 = 4;
  mlx_array v1 = mlx_array_new();
  CHECK_OK(mlx_ones(&v1, &four1, 1, MLX_FLOAT32, S));
  CHECK_ERR(mlx_fft2(&r, v1, NULL, 0, NULL, 0, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_INDEX);
  mlx_fft_norm nm;
  CHECK_OK(mlx_fft_norm_parse(&nm, "ortho"));
  CHECK(nm == MLX_FFT_NORM_ORTHO);
  CHECK_OK(mlx_fft_norm_parse(&nm, NULL));
  CHECK(nm == MLX_FFT_NORM_BACKWARD);
  CHECK_ERR(mlx_fft_norm_parse(&nm, "foo"), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fft(&r, mlx_array_new(), NULL, -1, MLX_FFT_NORM_BACKWARD, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(e), mlx_array_free(r), mlx_array_free(sc), mlx_array_free(o), mlx_array_free(v1);
}

/* Python MLX: fftshift(arange(5)) = [3 4 0 1 2], ifftshift = [2 3 4 0 1];
 * fftshift(arange(8).reshape(2, 4), axes=1) rows [2 3 0 1]; fftfreq(5) =
 * [0 .2 .4 -.4 -.2]; fftfreq(8, 0.5) = [0 .25 .5 .75 -1 -.75 -.5 -.25];
 * rfftfreq(8, 0.1) = [0 1.25 2.5 3.75 5]. */
TEST(shift_and_freq) {
  float v5[5] = {0, 1, 2, 3, 4};
  int64_t five = 5;
  mlx_array a = arr_f32(v5, &five, 1), r = mlx_array_new();
  CHECK_OK(mlx_fftshift(&r, a, NULL, 0, S));
  double w1[5] = {3, 4, 0, 1, 2};
  CHECK_VALUES(r, w1, 5, 0);
  CHECK_OK(mlx_ifftshift(&r, a, NULL, 0, S));
  double w2[5] = {2, 3, 4, 0, 1};
  CHECK_VALUES(r, w2, 5, 0);
  float v8[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t sh[2] = {2, 4};
  mlx_array b = arr_f32(v8, sh, 2);
  int ax1 = 1, bad = 2, dup[2] = {1, 1};
  CHECK_OK(mlx_fftshift(&r, b, &ax1, 1, S));
  double w3[8] = {2, 3, 0, 1, 6, 7, 4, 5};
  CHECK_VALUES(r, w3, 8, 0);
  CHECK_OK(mlx_fftshift(&r, b, NULL, 0, S));
  double w4[8] = {6, 7, 4, 5, 2, 3, 0, 1};
  CHECK_VALUES(r, w4, 8, 0);
  CHECK_OK(mlx_fftshift(&r, b, dup, 2, S));
  CHECK_VALUES(r, v8, 8, 0);
  CHECK_ERR(mlx_fftshift(&r, b, &bad, 1, S), MLX_ERROR_INDEX);
  mlx_array sc = mlx_array_new();
  mlx_array_new_int(&sc, 3, MLX_INT32);
  CHECK_OK(mlx_fftshift(&r, sc, NULL, 0, S));
  CHECK(mlx_array_ndim(r) == 0 && mlx_array_dtype(r) == MLX_INT32);
  CHECK_OK(mlx_fftfreq(&r, 5, 1.0, S));
  double f1[5] = {0, 0.2, 0.4, -0.4, -0.2};
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK_VALUES(r, f1, 5, 1e-7);
  CHECK_OK(mlx_fftfreq(&r, 8, 0.5, S));
  double f2[8] = {0, 0.25, 0.5, 0.75, -1, -0.75, -0.5, -0.25};
  CHECK_VALUES(r, f2, 8, 1e-7);
  CHECK_OK(mlx_rfftfreq(&r, 8, 0.1, S));
  double f3[5] = {0, 1.25, 2.5, 3.75, 5};
  CHECK_VALUES(r, f3, 5, 1e-6);
  CHECK_OK(mlx_rfftfreq(&r, 1, 1.0, S));
  CHECK(mlx_array_size(r) == 1);
  CHECK_ERR(mlx_fftfreq(&r, 0, 1.0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_rfftfreq(&r, -1, 1.0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fftfreq(&r, 4, 0.0, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(b), mlx_array_free(sc);
}

/* ---- transform rules ------------------------------------------------------ */

/* One table entry: which transform, its sizes/axes/norm, and how the
 * complex result becomes real (0: real part, 1: imaginary part) so the
 * float64 finite differences of gradcheck.h apply. Inputs of the complex
 * transforms are built as x0 + i x1 from two real inputs. */
typedef struct {
  const char* name;
  int kind; /* 0 fftn, 1 ifftn, 2 rfftn, 3 irfftn */
  int complex_in;
  int64_t n[3];
  int nn;
  int axes[3];
  int naxes;
  mlx_fft_norm norm;
  int part;
} fft_case;

static int fft_case_fn(mlx_array* out, const mlx_array* in, void* ctx) {
  const fft_case* c = ctx;
  mlx_array x = mlx_array_new(), y = mlx_array_new(), iu = mlx_array_new();
  int rc = 0;
  if (c->complex_in) {
    rc = mlx_array_new_complex(&iu, 0.0f, 1.0f);
    if (!rc) rc = mlx_multiply(&x, in[1], iu, S);
    if (!rc) rc = mlx_add(&x, in[0], x, S);
  } else {
    rc = mlx_array_set(&x, in[0]);
  }
  const int64_t* n = c->nn ? c->n : NULL;
  if (!rc) {
    switch (c->kind) {
      case 0: rc = mlx_fftn(&y, x, n, (size_t)c->nn, c->axes, (size_t)c->naxes, c->norm, S); break;
      case 1: rc = mlx_ifftn(&y, x, n, (size_t)c->nn, c->axes, (size_t)c->naxes, c->norm, S); break;
      case 2: rc = mlx_rfftn(&y, x, n, (size_t)c->nn, c->axes, (size_t)c->naxes, c->norm, S); break;
      default: rc = mlx_irfftn(&y, x, n, (size_t)c->nn, c->axes, (size_t)c->naxes, c->norm, S); break;
    }
  }
  if (!rc) rc = c->part ? mlx_imag(out, y, S) : mlx_real(out, y, S);
  if (!rc) rc = mlx_astype(out, *out, MLX_FLOAT64, S);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(iu);
  return rc;
}

static const fft_case grad_cases[] = {
    {"fft re", 0, 1, {0}, 0, {1}, 1, MLX_FFT_NORM_BACKWARD, 0},
    {"fft im pad", 0, 1, {7}, 1, {1}, 1, MLX_FFT_NORM_BACKWARD, 1},
    {"fft trunc ortho", 0, 1, {3}, 1, {0}, 1, MLX_FFT_NORM_ORTHO, 0},
    {"ifft forward", 1, 1, {0}, 0, {1}, 1, MLX_FFT_NORM_FORWARD, 1},
    {"ifft2", 1, 1, {0}, 0, {0, 1}, 2, MLX_FFT_NORM_BACKWARD, 0},
    {"fftn s", 0, 1, {2, 6}, 2, {1, 0}, 2, MLX_FFT_NORM_ORTHO, 1},
    {"fft real input", 0, 0, {0}, 0, {1}, 1, MLX_FFT_NORM_BACKWARD, 1},
    {"rfft re", 2, 0, {0}, 0, {1}, 1, MLX_FFT_NORM_BACKWARD, 0},
    {"rfft im odd", 2, 0, {5}, 1, {1}, 1, MLX_FFT_NORM_FORWARD, 1},
    {"rfftn", 2, 0, {0}, 0, {0, 1}, 2, MLX_FFT_NORM_ORTHO, 0},
    {"rfft2 s", 2, 0, {2, 8}, 2, {0, 1}, 2, MLX_FFT_NORM_BACKWARD, 1},
    {"irfft even", 3, 1, {0}, 0, {1}, 1, MLX_FFT_NORM_BACKWARD, 0},
    {"irfft odd", 3, 1, {7}, 1, {1}, 1, MLX_FFT_NORM_ORTHO, 0},
    {"irfft pad", 3, 1, {12}, 1, {1}, 1, MLX_FFT_NORM_FORWARD, 0},
    {"irfft2", 3, 1, {3, 4}, 2, {0, 1}, 2, MLX_FFT_NORM_BACKWARD, 0},
};

TEST(grad_rules) {
  int64_t sh[2] = {3, 5};
  unsigned seed = 99;
  mlx_array shape_like = mlx_array_new();
  mlx_zeros(&shape_like, sh, 2, MLX_FLOAT64, S);
  mlx_array in[2] = {gc_random_like(shape_like, &seed), gc_random_like(shape_like, &seed)};
  for (size_t i = 0; i < sizeof grad_cases / sizeof *grad_cases; i++) {
    const fft_case* c = &grad_cases[i];
    /* complex64 arithmetic: a larger step and tolerance than float64 ops. */
    check_grad_eps(c->name, fft_case_fn, (void*)c, in, c->complex_in ? 2 : 1, 1e-2, 2e-3);
  }
  mlx_array_free(in[0]), mlx_array_free(in[1]), mlx_array_free(shape_like);
}

TEST(vmap_rules) {
  int64_t sh[3] = {4, 3, 6};
  unsigned seed = 7;
  mlx_array shape_like = mlx_array_new();
  mlx_zeros(&shape_like, sh, 3, MLX_FLOAT64, S);
  mlx_array in[2] = {gc_random_like(shape_like, &seed), gc_random_like(shape_like, &seed)};
  /* An unbatched second input has the shape of one slice along axis 2. */
  int64_t slice_sh[2] = {4, 3};
  mlx_array slice_like = mlx_array_new();
  mlx_zeros(&slice_like, slice_sh, 2, MLX_FLOAT64, S);
  mlx_array mixed[2] = {in[0], gc_random_like(slice_like, &seed)};
  const int axes0[2] = {0, 0}, axes1[2] = {1, 1}, axes2[2] = {2, MLX_VMAP_NONE};
  for (size_t i = 0; i < sizeof grad_cases / sizeof *grad_cases; i++) {
    const fft_case* c = &grad_cases[i];
    int nin = c->complex_in ? 2 : 1;
    check_vmap(c->name, fft_case_fn, (void*)c, in, axes0, nin);
    check_vmap(c->name, fft_case_fn, (void*)c, in, axes1, nin);
    if (nin == 2) check_vmap(c->name, fft_case_fn, (void*)c, mixed, axes2, nin);
  }
  mlx_array_free(in[0]), mlx_array_free(in[1]), mlx_array_free(shape_like);
  mlx_array_free(mixed[1]), mlx_array_free(slice_like);
}

/* grad of grad: the vjp is built from fft ops, so it differentiates again. */
static int sum_sq_rfft(mlx_array* out, const mlx_array* in, void* ctx) {
  (void)ctx;
  mlx_array f = mlx_array_new(), a = mlx_array_new();
  int rc = mlx_rfft(&f, in[0], NULL, -1, MLX_FFT_NORM_ORTHO, S);
  if (!rc) rc = mlx_abs(&a, f, S);
  if (!rc) rc = mlx_square(&a, a, S);
  if (!rc) rc = mlx_sum(out, a, 0, S);
  mlx_array_free(f), mlx_array_free(a);
  return rc;
}

static int vg_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_closure inner = *(mlx_closure*)payload;
  mlx_vector_array vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  int argnum = 0;
  int rc = mlx_value_and_grad(vals, grads, inner, inputs, &argnum, 1);
  mlx_array g = mlx_array_new(), s = mlx_array_new();
  if (!rc) rc = mlx_vector_array_get(&g, grads, 0);
  if (!rc) rc = mlx_sum(&s, g, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(g), mlx_array_free(s);
  mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  return rc;
}

static int grad_sum(mlx_array* out, const mlx_array* in, void* ctx) {
  op_closure oc = {sum_sq_rfft, NULL, 1};
  mlx_closure inner = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_closure outer = mlx_closure_new(vg_closure, &inner, NULL);
  mlx_vector_array args = mlx_vector_array_new(), res = mlx_vector_array_new();
  mlx_vector_array_append(args, in[0]);
  int rc = mlx_closure_apply(res, outer, args);
  if (!rc) rc = mlx_vector_array_get(out, res, 0);
  if (!rc) rc = mlx_astype(out, *out, MLX_FLOAT64, S);
  mlx_vector_array_free(args), mlx_vector_array_free(res);
  mlx_closure_free(inner), mlx_closure_free(outer);
  (void)ctx;
  return rc;
}

TEST(grad_of_grad) {
  int64_t sh[1] = {6};
  unsigned seed = 3;
  mlx_array shape_like = mlx_array_new();
  mlx_zeros(&shape_like, sh, 1, MLX_FLOAT64, S);
  mlx_array x = gc_random_like(shape_like, &seed);
  check_grad_eps("grad of sum |rfft|^2", grad_sum, NULL, &x, 1, 1e-2, 2e-3);
  mlx_array_free(x), mlx_array_free(shape_like);
}

int main(void) {
  (void)check_grad; /* complex64 math needs check_grad_eps's looser step */
  RUN(c2c_lengths);
  RUN(real_lengths);
  RUN(irfft_hermitian);
  RUN(python_values);
  RUN(axes_padding_strided);
  RUN(nd_forms);
  RUN(strided_axis_paths);
  RUN(long_lines);
  RUN(dtypes);
  RUN(empty_and_errors);
  RUN(shift_and_freq);
  RUN(grad_rules);
  RUN(vmap_rules);
  RUN(grad_of_grad);
  return harness_report();
}
