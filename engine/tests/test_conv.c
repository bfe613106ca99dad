/* Tests of the conv family: conv_general, conv1d/2d/3d,
 * conv_transpose1d/2d/3d and convolve. Known values printed once with
 * Python mlx 0.32.4 (inputs: (arange % 7 - 3) * scale, marked "mlx"), a
 * direct-loop reference on random float64 inputs over strides, paddings
 * (negative too), dilations, groups and flips, every dtype, strided
 * inputs, empty arrays and the error cases. */
#include "harness.h"
#include "mlx/conv.h"

/* (arange(n) % 7 - 3) * scale with the given shape, float32. */
static mlx_array pattern(const int64_t* shape, int nd, float scale) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  float* v = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = (float)(i % 7 - 3) * scale;
  mlx_array a = arr_f32(v, shape, nd);
  free(v);
  return a;
}
#define PAT(scale, ...) \
  pattern((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), scale)

static unsigned rng = 99;
static double urand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (double)(rng >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

static mlx_array rand_f64(const int64_t* shape, int nd, double* keep) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  for (int64_t i = 0; i < n; i++) keep[i] = urand();
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, keep, shape, nd, MLX_FLOAT64);
  return a;
}

static void check_shape(mlx_array a, const int64_t* shape, int nd) {
  CHECK(mlx_array_ndim(a) == nd);
  for (int i = 0; i < nd && i < mlx_array_ndim(a); i++) CHECK(mlx_array_dim(a, i) == shape[i]);
}

TEST(known_values) {
  mlx_array x = PAT(1, 2, 5, 3), w = PAT(0.5f, 4, 3, 3), r = mlx_array_new();
  /* mlx: conv1d(x, w, stride=2, padding=1) -> (2, 3, 4) */
  static const double e1[] = {-5.5, -5, 9.5, -0.5, -8, 3.5, 4.5, -8.5, -0.5, 12, -3.5, -5,
                              -5, -5.5, 8, 0.5, -10.5, -4, 16.5, -5, -5.5, 2.5, 3.5, -6};
  CHECK_OK(mlx_conv1d(&r, x, w, 2, 1, 1, 1, S));
  check_shape(r, (int64_t[]){2, 3, 4}, 3);
  CHECK_VALUES(r, e1, 24, 1e-6);

  /* mlx: conv_general(x, w, padding=([2],[1]), input_dilation=2, flip=True) -> (2, 10, 4) */
  static const double e2[] = {7, 1, -5, -0.5, -2, -4.5, 7, 1, -2.5, 5, 2, -8, 2.5, -1.5, -2, 1, -4, -3, -2, 9.5,
                              -3.5, 1.5, -0.5, -2.5, 12, -0.5, -2.5, -1, 1, -2.5, 1, 1, -7, -1.5, 0.5, -1, -1.5,
                              11, -4.5, -2.5, 4, 1, -2, -1.5, -0.5, -3.5, 4, 1, -6.5, 3.5, 6.5, -8, 4, -0.5, -5, 1,
                              2.5, -1, -1, -1, -2, -4.5, 7, 1, -2.5, 5, 2, -8, 2.5, -1.5, -2, 1, -4, -3, -2, 9.5,
                              -3.5, 1.5, -0.5, -2.5};
  int lo = 2, hi = 1, one = 1, two = 2;
  CHECK_OK(mlx_conv_general(&r, x, w, &one, 1, &lo, 1, &hi, 1, &one, 1, &two, 1, 1, 1, S));
  check_shape(r, (int64_t[]){2, 10, 4}, 3);
  CHECK_VALUES(r, e2, 80, 1e-6);

  /* mlx: conv_general(x, w, padding=([-1],[2])) -> (2, 4, 4): negative padding crops */
  static const double e3[] = {-8, 3.5, 4.5, -8.5, 2, -8.5, -5, 23, -0.5, 12, -3.5, -5, -4.5, -2.5, -0.5, 1.5,
                              -10.5, -4, 16.5, -5, 20.5, -2, -10.5, 2, -5.5, 2.5, 3.5, -6, -0.5, -2.5, -4.5, 11};
  lo = -1, hi = 2;
  CHECK_OK(mlx_conv_general(&r, x, w, NULL, 0, &lo, 1, &hi, 1, NULL, 0, NULL, 0, 1, 0, S));
  check_shape(r, (int64_t[]){2, 4, 4}, 3);
  CHECK_VALUES(r, e3, 32, 1e-6);
  mlx_array_free(x), mlx_array_free(w);

  mlx_array x2 = PAT(1, 1, 4, 4, 2), w2 = PAT(0.25f, 3, 2, 2, 2), w2g = PAT(0.5f, 4, 3, 3, 1);
  /* mlx: conv2d(x2, w2, padding=1, dilation=(1, 2)) -> (1, 5, 4, 3) */
  static const double e4[] = {-0.75, 0.75, 0.5, -2.5, -4.75, -1.75, 4.25, -1.25, -1.5, 1.25, 2, -0.75,
                              -0.5, -0.5, -0.5, 1.25, -2.25, -0.5, -0.25, 3.75, 0.75, 0.25, 2.25, -1,
                              -0.75, -1.5, -0.5, 5.75, 0.75, 1, 0.75, 3.25, -1.25, -3.75, -2.5, 4,
                              -1, -2.5, -0.5, -0.25, 3.75, 0.75, 0, 2.75, -1.5, -2.5, -3.75, -1.5,
                              -0.5, 0.75, 2, 0.25, -0.75, -1.75, -2.75, -1.75, -0.75, 3.25, 2, 0.75};
  CHECK_OK(mlx_conv2d(&r, x2, w2, (int[]){1, 1}, (int[]){1, 1}, (int[]){1, 2}, 1, S));
  check_shape(r, (int64_t[]){1, 5, 4, 3}, 4);
  CHECK_VALUES(r, e4, 60, 1e-6);
  /* mlx: conv2d(x2, w2g, groups=2, padding=(1, 0)) -> (1, 4, 2, 4) */
  static const double e5[] = {-4.5, -4, 5.5, -2, 3.5, -5, -1, 7, 1, -2.5, -1, 4.5, -4, 7, -8.5, -2.5,
                              5.5, -3, 4, 1, 7.5, 6.5, 0, -2.5, -3, 9.5, -6, -1.5, -6, -2.5, -6, 7};
  CHECK_OK(mlx_conv2d(&r, x2, w2g, (int[]){1, 1}, (int[]){1, 0}, (int[]){1, 1}, 2, S));
  check_shape(r, (int64_t[]){1, 4, 2, 4}, 4);
  CHECK_VALUES(r, e5, 32, 1e-6);
  /* mlx: conv_transpose2d(x2, w2, stride=2, padding=1, output_padding=1) -> (1, 7, 7, 3); first 12 */
  static const double e6[] = {-0.75, 3.25, 2, -0.25, -0.5, -0.75, -0.75, 0.75, 0.5, 1.25, 2, -0.75};
  static const double e6_last[] = {-3, -0.75, -0.75, 3.25, 2, -0.25, -0.5, -0.75, -0.75, 0.75, 0.5};
  CHECK_OK(mlx_conv_transpose2d(&r, x2, w2, (int[]){2, 2}, (int[]){1, 1}, (int[]){1, 1}, (int[]){1, 1}, 1, S));
  check_shape(r, (int64_t[]){1, 7, 7, 3}, 4);
  {
    double got[147];
    CHECK(read_f64(got, 147, r) == 147);
    for (int i = 0; i < 12; i++) CHECK(fabs(got[i] - e6[i]) < 1e-6);
    for (int i = 0; i < 11; i++) CHECK(fabs(got[136 + i] - e6_last[i]) < 1e-6);
  }
  mlx_array_free(x2), mlx_array_free(w2), mlx_array_free(w2g);

  /* mlx: conv_transpose1d(x, w, stride=3, padding=0, dilation=2, groups=2) -> (1, 15, 4) */
  mlx_array x1 = PAT(1, 1, 5, 2), w1 = PAT(1, 4, 2, 1);
  static const double e7[] = {9, 3, -2, -6, 0, 0, 0, 0, 6, 0, -4, 6, 3, 1, 0, 0, 0, 0, 0, 0,
                              2, 0, 0, 0, -3, -1, 2, 6, 0, 0, 0, 0, -2, 0, 4, -6, -9, -3, -3, -9,
                              0, 0, 0, 0, -6, 0, -6, 9, 6, 2, -1, -3, 0, 0, 0, 0, 4, 0, -2, 3};
  CHECK_OK(mlx_conv_transpose1d(&r, x1, w1, 3, 0, 2, 0, 2, S));
  check_shape(r, (int64_t[]){1, 15, 4}, 3);
  CHECK_VALUES(r, e7, 60, 1e-6);
  mlx_array_free(x1), mlx_array_free(w1);

  /* mlx: conv3d(x3, w3, stride=(1, 2, 1), padding=(0, 1, 1)) -> (1, 2, 2, 4, 2) */
  mlx_array x3 = PAT(1, 1, 3, 3, 3, 2), w3 = PAT(0.5f, 2, 2, 2, 2, 2);
  static const double e8[] = {-5, 3.5, -2.5, -5.5, 0.5, -4, -1, 2.5, -1, -3, -1.5, 7, -3, -8, 1, -4,
                              2.5, -1, 7, 1, -7.5, 9.5, 4.5, -7.5, -4, -5.5, 2.5, -2, 4.5, 0.5, 4.5, 10.5};
  CHECK_OK(mlx_conv3d(&r, x3, w3, (int[]){1, 2, 1}, (int[]){0, 1, 1}, (int[]){1, 1, 1}, 1, S));
  check_shape(r, (int64_t[]){1, 2, 2, 4, 2}, 5);
  CHECK_VALUES(r, e8, 32, 1e-6);
  mlx_array_free(x3), mlx_array_free(w3), mlx_array_free(r);
}

TEST(convolve) {
  float a[] = {1, 2, 3}, v[] = {0, 1, 0.5f, 2}, b[] = {1, 2, 3, 4, 5}, d[] = {1, -1}, o[] = {1, 2, -1};
  mlx_array A = arr_f32(a, (int64_t[]){3}, 1), V = arr_f32(v, (int64_t[]){4}, 1), B = arr_f32(b, (int64_t[]){5}, 1),
            D = arr_f32(d, (int64_t[]){2}, 1), Od = arr_f32(o, (int64_t[]){3}, 1), r = mlx_array_new();
  /* mlx values */
  static const double full[] = {0, 1, 2.5, 6, 5.5, 6}, same[] = {1, 2.5, 6, 5.5}, valid[] = {1, 1, 1, 1},
                      same_odd[] = {4, 6, 8, 10, 6};
  CHECK_OK(mlx_convolve(&r, A, V, "full", S));
  CHECK_VALUES(r, full, 6, 1e-6);
  CHECK_OK(mlx_convolve(&r, V, A, "full", S)); /* symmetric */
  CHECK_VALUES(r, full, 6, 1e-6);
  CHECK_OK(mlx_convolve(&r, A, V, "same", S));
  CHECK_VALUES(r, same, 4, 1e-6);
  CHECK_OK(mlx_convolve(&r, B, D, "valid", S));
  CHECK_VALUES(r, valid, 4, 1e-6);
  CHECK_OK(mlx_convolve(&r, B, Od, "same", S));
  CHECK_VALUES(r, same_odd, 5, 1e-6);
  CHECK_ERR(mlx_convolve(&r, B, Od, "bogus", S), MLX_ERROR_ARGUMENT);
  mlx_array e = mlx_array_new(), m = mlx_array_new(), i = mlx_array_new();
  CHECK_OK(mlx_zeros(&e, (int64_t[]){0}, 1, MLX_FLOAT32, S));
  CHECK_OK(mlx_zeros(&m, (int64_t[]){2, 2}, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_zeros(&i, (int64_t[]){4}, 1, MLX_INT32, S));
  CHECK_ERR(mlx_convolve(&r, e, A, "full", S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_convolve(&r, m, A, "full", S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_convolve(&r, i, A, "full", S), MLX_ERROR_DTYPE); /* the longer one is the conv input */
  mlx_array i2 = mlx_array_new();
  CHECK_OK(mlx_ones(&i2, (int64_t[]){2}, 1, MLX_INT32, S));
  CHECK_OK(mlx_convolve(&r, A, i2, "full", S)); /* an int "kernel" promotes */
  static const double sums[] = {1, 3, 5, 3};
  CHECK_VALUES(r, sums, 4, 0);
  mlx_array_free(i2);
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  mlx_array_free(A), mlx_array_free(V), mlx_array_free(B), mlx_array_free(D), mlx_array_free(Od);
  mlx_array_free(e), mlx_array_free(m), mlx_array_free(i), mlx_array_free(r);
}

/* ---- reference ------------------------------------------------------- */
typedef struct {
  int nsp;
  int64_t n, c, o;
  int64_t in[3], k[3];
  int stride[3], lo[3], hi[3], kd[3], id[3];
  int groups, flip;
} ref_case;

/* Direct loops over out[n, o..., co] (padding in dilated coordinates,
 * negative allowed: conv_general's negative padding crops the undilated
 * input, so only cases without input dilation use it). */
static void ref_conv(double* out, const int64_t* oshape, const double* x, const double* w, const ref_case* c) {
  int nsp = c->nsp;
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, os[3] = {1, 1, 1};
  int st[3] = {1, 1, 1}, lo[3] = {0, 0, 0}, kd[3] = {1, 1, 1}, id[3] = {1, 1, 1};
  for (int i = 0; i < nsp; i++) {
    int d = 3 - nsp + i;
    in[d] = c->in[i], k[d] = c->k[i], os[d] = oshape[1 + i];
    st[d] = c->stride[i], lo[d] = c->lo[i], kd[d] = c->kd[i], id[d] = c->id[i];
  }
  int64_t cg = c->c / c->groups, og = c->o / c->groups;
  for (int64_t n = 0; n < c->n; n++)
    for (int64_t a = 0; a < os[0]; a++)
      for (int64_t b = 0; b < os[1]; b++)
        for (int64_t e = 0; e < os[2]; e++)
          for (int64_t co = 0; co < c->o; co++) {
            int64_t g = co / og;
            double acc = 0;
            for (int64_t t0 = 0; t0 < k[0]; t0++)
              for (int64_t t1 = 0; t1 < k[1]; t1++)
                for (int64_t t2 = 0; t2 < k[2]; t2++) {
                  int64_t o3[3] = {a, b, e}, t3[3] = {t0, t1, t2}, src[3];
                  int ok = 1;
                  for (int d = 0; d < 3 && ok; d++) {
                    int64_t tap = c->flip ? k[d] - 1 - t3[d] : t3[d];
                    int64_t q = o3[d] * st[d] - lo[d] + tap * kd[d];
                    if (q < 0 || q % id[d] || q / id[d] >= in[d]) ok = 0;
                    src[d] = q / id[d];
                  }
                  if (!ok) continue;
                  for (int64_t ci = 0; ci < cg; ci++) {
                    double xv = x[(((n * in[0] + src[0]) * in[1] + src[1]) * in[2] + src[2]) * c->c + g * cg + ci];
                    double wv = w[(((co * k[0] + t0) * k[1] + t1) * k[2] + t2) * cg + ci];
                    acc += xv * wv;
                  }
                }
            out[((((n * os[0] + a) * os[1] + b) * os[2] + e)) * c->o + co] = acc;
          }
}

TEST(against_reference) {
  static const ref_case cases[] = {
      {1, 2, 3, 4, {9}, {3}, {1}, {0}, {0}, {1}, {1}, 1, 0},
      {1, 2, 4, 6, {10}, {3}, {2}, {1}, {2}, {2}, {1}, 2, 0},
      {1, 1, 3, 2, {7}, {4}, {1}, {3}, {2}, {1}, {3}, 1, 1},
      {1, 3, 6, 6, {8}, {1}, {1}, {0}, {0}, {1}, {1}, 3, 0},  /* 1x1 grouped: the gemm-only path */
      {1, 2, 5, 3, {6}, {2}, {1}, {-1}, {-2}, {1}, {1}, 1, 0}, /* negative padding */
      {2, 2, 3, 16, {12, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      {2, 1, 4, 4, {7, 9}, {3, 2}, {2, 3}, {0, 2}, {1, 0}, {2, 1}, {1, 2}, 2, 1},
      {2, 2, 8, 5, {5, 5}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, 1, 0},  /* 1x1 */
      {2, 1, 2, 3, {4, 4}, {1, 1}, {2, 1}, {1, 0}, {0, 1}, {1, 1}, {1, 1}, 1, 0},  /* 1x1 with stride/padding */
      {3, 1, 2, 3, {4, 5, 3}, {2, 3, 2}, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 2}, {2, 1, 1}, 1, 1},
      {3, 2, 3, 2, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, {1, 1, 1}, 1, 0},
      /* big weights (one gemm per chunk, several chunks) and small ones
       * over several chunks of tiles */
      {1, 2, 512, 4, {307}, {8}, {1}, {0}, {0}, {1}, {1}, 1, 0},
      {1, 2, 256, 4, {607}, {8}, {1}, {0}, {0}, {1}, {1}, 1, 1},
      {2, 1, 16, 64, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      /* few outputs, long patch rows: the split sum */
      {2, 1, 8, 8, {20, 20}, {16, 16}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, 1, 0},
      {2, 2, 16, 16, {19, 20}, {16, 16}, {1, 1}, {1, 0}, {0, 0}, {1, 1}, {1, 1}, 2, 1},
  };
  for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
    const ref_case* c = &cases[ci];
    int nsp = c->nsp;
    int64_t xs[5], ws[5], os[5];
    xs[0] = c->n, xs[nsp + 1] = c->c;
    ws[0] = c->o, ws[nsp + 1] = c->c / c->groups;
    os[0] = c->n, os[nsp + 1] = c->o;
    int64_t xn = c->n * c->c, wn = c->o * (c->c / c->groups), on = c->n * c->o;
    for (int i = 0; i < nsp; i++) {
      xs[1 + i] = c->in[i], ws[1 + i] = c->k[i];
      int64_t ind = 1 + (int64_t)c->id[i] * (c->in[i] - 1), kext = 1 + (int64_t)c->kd[i] * (c->k[i] - 1);
      os[1 + i] = (ind + c->lo[i] + c->hi[i] - kext) / c->stride[i] + 1;
      xn *= c->in[i], wn *= c->k[i], on *= os[1 + i];
    }
    double *xv = malloc(sizeof(double) * (size_t)xn), *wv = malloc(sizeof(double) * (size_t)wn),
           *ev = malloc(sizeof(double) * (size_t)on);
    mlx_array x = rand_f64(xs, nsp + 2, xv), w = rand_f64(ws, nsp + 2, wv), r = mlx_array_new();
    ref_conv(ev, os, xv, wv, c);
    CHECK_OK(mlx_conv_general(&r, x, w, c->stride, (size_t)nsp, c->lo, (size_t)nsp, c->hi, (size_t)nsp, c->kd,
                              (size_t)nsp, c->id, (size_t)nsp, c->groups, c->flip, S));
    check_shape(r, os, nsp + 2);
    CHECK(mlx_array_dtype(r) == MLX_FLOAT64);
    double* got = malloc(sizeof(double) * (size_t)on);
    CHECK(read_f64(got, on, r) == on);
    for (int64_t i = 0; i < on; i++)
      if (fabs(got[i] - ev[i]) > 1e-12 * (1 + fabs(ev[i]))) {
        CHECK(!"reference mismatch");
        fprintf(stderr, "case %zu element %lld: got %.12g expected %.12g\n", ci, (long long)i, got[i], ev[i]);
        break;
      }
    /* float32 and the halves against the same reference, looser. */
    static const mlx_dtype dts[] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16};
    static const double tols[] = {1e-5, 2e-2, 1e-1};
    /* rounding grows with the length of the sums */
    double scale = sqrt((double)(wn / c->o)) / 8;
    if (scale < 1) scale = 1;
    for (int d = 0; d < 3; d++) {
      mlx_array xd = mlx_array_new(), wd = mlx_array_new();
      CHECK_OK(mlx_astype(&xd, x, dts[d], S));
      CHECK_OK(mlx_astype(&wd, w, dts[d], S));
      CHECK_OK(mlx_conv_general(&r, xd, wd, c->stride, (size_t)nsp, c->lo, (size_t)nsp, c->hi, (size_t)nsp, c->kd,
                                (size_t)nsp, c->id, (size_t)nsp, c->groups, c->flip, S));
      CHECK(mlx_array_dtype(r) == dts[d]);
      CHECK(read_f64(got, on, r) == on);
      for (int64_t i = 0; i < on; i++)
        if (fabs(got[i] - ev[i]) > tols[d] * scale * (1 + fabs(ev[i]))) {
          CHECK(!"reference mismatch (low precision)");
          fprintf(stderr, "case %zu dtype %d element %lld: got %.8g expected %.8g\n", ci, d, (long long)i, got[i],
                  ev[i]);
          break;
        }
      mlx_array_free(xd), mlx_array_free(wd);
    }
    free(xv), free(wv), free(ev), free(got);
    mlx_array_free(x), mlx_array_free(w), mlx_array_free(r);
  }
}

TEST(dtypes_and_views) {
  mlx_array x = PAT(1, 2, 6, 3), w = PAT(0.5f, 4, 3, 3), r = mlx_array_new(), e = mlx_array_new(),
            t = mlx_array_new(), xt = mlx_array_new(), xh = mlx_array_new(), wi = mlx_array_new();
  CHECK_OK(mlx_conv1d(&e, x, w, 1, 1, 1, 1, S));
  double ev[2 * 6 * 4], got[2 * 6 * 4];
  CHECK(read_f64(ev, 48, e) == 48);
  /* a transposed (non-contiguous) view of the same values */
  CHECK_OK(mlx_transpose(&t, x, (int[]){0, 2, 1}, 3, S));
  CHECK_OK(mlx_contiguous(&xt, t, 0, S));
  mlx_array_free(t), t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, xt, (int[]){0, 2, 1}, 3, S));
  CHECK_OK(mlx_conv1d(&r, t, w, 1, 1, 1, 1, S));
  CHECK_VALUES(r, ev, 48, 1e-6);
  /* a sliced view: every other step of a longer input */
  mlx_array big = PAT(1, 2, 12, 3), sl = mlx_array_new();
  CHECK_OK(mlx_slice(&sl, big, (int64_t[]){0, 0, 0}, (int64_t[]){2, 12, 3}, (int64_t[]){1, 2, 1}, 3, S));
  CHECK_OK(mlx_conv1d(&r, sl, w, 1, 1, 1, 1, S));
  CHECK(mlx_array_dim(r, 1) == 6);
  /* a broadcast weight */
  mlx_array w1 = PAT(1, 1, 3, 3), wb = mlx_array_new();
  CHECK_OK(mlx_broadcast_to(&wb, w1, (int64_t[]){4, 3, 3}, 3, S));
  CHECK_OK(mlx_conv1d(&r, x, wb, 1, 0, 1, 1, S));
  CHECK(read_f64(got, 32, r) == 32);
  for (int i = 0; i < 32; i += 4) CHECK(got[i] == got[i + 1] && got[i] == got[i + 3]);
  /* mixed: float16 input, float32 weight -> float32; int weight keeps float16 */
  CHECK_OK(mlx_astype(&xh, x, MLX_FLOAT16, S));
  CHECK_OK(mlx_conv1d(&r, xh, w, 1, 1, 1, 1, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK_VALUES(r, ev, 48, 1e-6);
  CHECK_OK(mlx_astype(&wi, w, MLX_INT32, S));
  CHECK_OK(mlx_conv1d(&r, xh, wi, 1, 1, 1, 1, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT16);
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(r), mlx_array_free(e), mlx_array_free(t);
  mlx_array_free(xt), mlx_array_free(xh), mlx_array_free(wi), mlx_array_free(big), mlx_array_free(sl);
  mlx_array_free(w1), mlx_array_free(wb);
}

TEST(empty) {
  mlx_array x = mlx_array_new(), w = PAT(1, 4, 3, 3), r = mlx_array_new(), x0 = mlx_array_new(),
            w0 = mlx_array_new(), wo = mlx_array_new();
  CHECK_OK(mlx_zeros(&x, (int64_t[]){0, 8, 3}, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_conv1d(&r, x, w, 1, 0, 1, 1, S));
  check_shape(r, (int64_t[]){0, 6, 4}, 3);
  CHECK_OK(mlx_eval(&r, 1));
  /* no input channels: all sums are empty */
  CHECK_OK(mlx_ones(&x0, (int64_t[]){2, 5, 0}, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_ones(&w0, (int64_t[]){3, 2, 0}, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_conv1d(&r, x0, w0, 1, 0, 1, 1, S));
  static const double z[2 * 4 * 3] = {0};
  CHECK_VALUES(r, z, 24, 0);
  /* no output channels */
  mlx_array xo = PAT(1, 2, 5, 3);
  CHECK_OK(mlx_zeros(&wo, (int64_t[]){0, 2, 3}, 3, MLX_FLOAT32, S));
  CHECK_OK(mlx_conv1d(&r, xo, wo, 1, 0, 1, 1, S));
  check_shape(r, (int64_t[]){2, 4, 0}, 3);
  CHECK_OK(mlx_eval(&r, 1));
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(r), mlx_array_free(x0), mlx_array_free(w0);
  mlx_array_free(wo), mlx_array_free(xo);
}

TEST(errors) {
  mlx_array x = PAT(1, 2, 8, 4), w = PAT(1, 6, 3, 4), r = mlx_array_new(), t = mlx_array_new();
  /* non-floating input (int input, int weight allowed), complex */
  CHECK_OK(mlx_astype(&t, x, MLX_INT32, S));
  CHECK_ERR(mlx_conv1d(&r, t, w, 1, 0, 1, 1, S), MLX_ERROR_DTYPE);
  mlx_array_free(t), t = mlx_array_new();
  CHECK_OK(mlx_astype(&t, x, MLX_COMPLEX64, S));
  CHECK_ERR(mlx_conv1d(&r, t, w, 1, 0, 1, 1, S), MLX_ERROR_DTYPE);
  mlx_array_free(t), t = mlx_array_new();
  /* ranks */
  mlx_array x2 = PAT(1, 8, 4), x6 = PAT(1, 1, 2, 2, 2, 2, 1), w2 = PAT(1, 3, 4), w6 = PAT(1, 1, 1, 1, 1, 1, 1);
  CHECK_ERR(mlx_conv1d(&r, x2, w, 1, 0, 1, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_conv1d(&r, x, w2, 1, 0, 1, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_conv_general(&r, x6, w6, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 1, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_conv2d(&r, x, w, (int[]){1, 1}, (int[]){0, 0}, (int[]){1, 1}, 1, S), MLX_ERROR_ARGUMENT);
  /* channels and groups */
  mlx_array w33 = PAT(1, 6, 3, 3), wg = PAT(1, 6, 3, 2), wg5 = PAT(1, 5, 3, 2);
  CHECK_ERR(mlx_conv1d(&r, x, w33, 1, 0, 1, 1, S), MLX_ERROR_SHAPE);
  CHECK_OK(mlx_conv1d(&r, x, wg, 1, 0, 1, 2, S));
  CHECK_ERR(mlx_conv1d(&r, x, wg5, 1, 0, 1, 2, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_conv1d(&r, x, wg, 1, 0, 1, 3, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_conv1d(&r, x, wg, 1, 0, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_conv1d(&r, x, wg, 1, 0, 1, -1, S), MLX_ERROR_ARGUMENT);
  mlx_array x3 = PAT(1, 1, 4, 4, 4, 4), w3 = PAT(1, 4, 2, 2, 2, 2);
  CHECK_ERR(mlx_conv3d(&r, x3, w3, (int[]){1, 1, 1}, (int[]){0, 0, 0}, (int[]){1, 1, 1}, 2, S),
            MLX_ERROR_ARGUMENT); /* groups only for 1-D and 2-D, as upstream */
  /* strides, dilations, list lengths, kernel larger than the input */
  CHECK_ERR(mlx_conv1d(&r, x, w, 0, 0, 1, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_conv1d(&r, x, w, -1, 0, 1, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_conv1d(&r, x, w, 1, 0, 0, 1, S), MLX_ERROR_ARGUMENT);
  int two[2] = {1, 1}, zero = 0;
  CHECK_ERR(mlx_conv_general(&r, x, w, two, 2, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_conv_general(&r, x, w, NULL, 0, NULL, 0, NULL, 0, NULL, 0, &zero, 1, 1, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array wbig = PAT(1, 6, 9, 4);
  CHECK_ERR(mlx_conv1d(&r, x, wbig, 1, 0, 1, 1, S), MLX_ERROR_SHAPE);
  CHECK_OK(mlx_conv1d(&r, x, wbig, 1, 1, 1, 1, S)); /* padding makes room */
  check_shape(r, (int64_t[]){2, 2, 6}, 3);
  CHECK_ERR(mlx_conv_transpose2d(&r, x, w, two, two, two, two, 1, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(r), mlx_array_free(t), mlx_array_free(x2);
  mlx_array_free(x6), mlx_array_free(w2), mlx_array_free(w6), mlx_array_free(w33), mlx_array_free(wg);
  mlx_array_free(wg5), mlx_array_free(x3), mlx_array_free(w3), mlx_array_free(wbig);
}

/* conv1d(in[0], in[1], padding 1) as a closure. */
static int conv_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = mlx_array_new(), w = mlx_array_new(), y = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_vector_array_get(&w, inputs, 1);
  if (!rc) rc = mlx_conv1d(&y, x, w, 1, 1, 1, 1, S);
  if (!rc) rc = mlx_vector_array_append(outputs, y);
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(y);
  return rc;
}

/* A shapeless compiled convolution replays for another input length: the
 * primitive's output_shapes rule. */
TEST(compile_shapeless) {
  mlx_closure f = mlx_closure_new(conv_closure, NULL, NULL), c = {0};
  CHECK_OK(mlx_compile(&c, f, 1));
  mlx_array w = PAT(1, 2, 3, 2);
  for (int64_t len = 4; len <= 9; len += 5) {
    mlx_array x = PAT(1, 1, len, 2), e = mlx_array_new(), got = mlx_array_new();
    mlx_vector_array in = mlx_vector_array_new(), out = mlx_vector_array_new();
    mlx_vector_array_append(in, x);
    mlx_vector_array_append(in, w);
    CHECK_OK(mlx_closure_apply(out, c, in));
    CHECK_OK(mlx_vector_array_get(&got, out, 0));
    CHECK_OK(mlx_conv1d(&e, x, w, 1, 1, 1, 1, S));
    check_shape(got, (int64_t[]){1, len, 2}, 3);
    double ev[18];
    CHECK(read_f64(ev, 18, e) == 2 * len);
    CHECK_VALUES(got, ev, (int)(2 * len), 1e-6);
    mlx_vector_array_free(in), mlx_vector_array_free(out);
    mlx_array_free(x), mlx_array_free(e), mlx_array_free(got);
  }
  mlx_array_free(w);
  mlx_closure_free(c), mlx_closure_free(f);
}

int main(void) {
  RUN(known_values);
  RUN(convolve);
  RUN(against_reference);
  RUN(dtypes_and_views);
  RUN(empty);
  RUN(errors);
  RUN(compile_shapeless);
  return harness_report();
}
