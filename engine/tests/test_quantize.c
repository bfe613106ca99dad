/* Quantization: packed bits and scales checked by hand (and against
 * values printed once with Python mlx 0.32.4, marked "mlx"), products
 * against the dequantized matmul, fp8 conversion, errors, and the
 * transform rules of quantized_matmul. */
#include "mlx/quantize.h"

#include "gradcheck.h"

static unsigned seed_state = 5;

static mlx_array rnd(const int64_t* shape, int ndim, mlx_dtype t) {
  mlx_array z = mlx_array_new(), r, c = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  r = gc_random_like(z, &seed_state);
  mlx_astype(&c, r, t, S);
  mlx_array_free(z);
  mlx_array_free(r);
  return c;
}

TEST(affine_bits) {
  /* One group of 32: 0..31 / 31 quantized to 4 bits. min 0, max 1: the
   * larger edge (1) is anchored: scale -1/15, bias 1, so the codes are
   * round((1 - v) * 15) (mlx gives the same words). */
  float v[32];
  for (int i = 0; i < 32; i++) v[i] = (float)i / 31.0f;
  mlx_array w = arr_f32(v, (int64_t[]){1, 32}, 2);
  mlx_array q[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int n = 0;
  CHECK_OK(mlx_quantize(q, &n, w, 32, 4, "affine", S));
  CHECK(n == 3);
  uint32_t words[4];
  CHECK_OK(mlx_array_copy_to(words, sizeof words, q[0]));
  for (int i = 0; i < 32; i++) {
    uint32_t code = (words[i / 8] >> (4 * (i % 8))) & 15u;
    harness_checks++;
    if (code != (uint32_t)rintf((1.0f - v[i]) * 15.0f)) {
      harness_failures++;
      fprintf(stderr, "code %d: %u\n", i, code);
    }
  }
  float sc, bi;
  CHECK_OK(mlx_array_copy_to(&sc, 4, q[1]));
  CHECK_OK(mlx_array_copy_to(&bi, 4, q[2]));
  CHECK(fabsf(sc + 1.0f / 15.0f) < 1e-7f && bi == 1.0f);
  /* 3 bits: the stream crosses word boundaries; dequantize returns the
   * grid values and the round trip stays within half a step. */
  mlx_array d = mlx_array_new(), diff = mlx_array_new(), mx = mlx_array_new(), ab = mlx_array_new();
  mlx_array none = {NULL};
  for (int bits = 1; bits <= 8; bits++) {
    if (bits == 7) continue;
    CHECK_OK(mlx_quantize(q, &n, w, 32, bits, "affine", S));
    CHECK_OK(mlx_dequantize(&d, q[0], q[1], q[2], 32, bits, "affine", 0, MLX_FLOAT32, S));
    CHECK_OK(mlx_subtract(&diff, d, w, S));
    CHECK_OK(mlx_abs(&ab, diff, S));
    CHECK_OK(mlx_max(&mx, ab, 0, S));
    double err;
    CHECK(read_f64(&err, 1, mx) == 1);
    CHECK(err <= 1.0 / ((1 << bits) - 1) + 1e-6);
  }
  CHECK_ERR(mlx_dequantize(&d, q[0], q[1], none, 32, 8, "affine", 0, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  for (int i = 0; i < 3; i++) mlx_array_free(q[i]);
  mlx_array_free(d);
  mlx_array_free(diff);
  mlx_array_free(mx);
  mlx_array_free(ab);
  mlx_array_free(w);
}

TEST(fp_modes) {
  /* Exact ties of e2m1 round toward zero; a group with max 6 has scale
   * 2^0 (mxfp4 code 127) or e4m3 1.0 (nvfp4 code 56) (mlx). */
  float v[32] = {6.0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, -0.25f, -0.75f, -1.25f, -1.75f, -2.5f, -3.5f,
                 -5.0f, -6.0f};
  for (int i = 16; i < 32; i++) v[i] = v[i - 16];
  mlx_array w = arr_f32(v, (int64_t[]){1, 32}, 2);
  mlx_array q[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()}, d = mlx_array_new();
  mlx_array none = {NULL};
  int n;
  double want[32] = {6, 0, 0.5, 1, 1.5, 2, 3, 4, 0, -0.5, -1, -1.5, -2, -3, -4, -6};
  for (int i = 16; i < 32; i++) want[i] = want[i - 16];
  const char* modes[2] = {"mxfp4", "nvfp4"};
  for (int m = 0; m < 2; m++) {
    CHECK_OK(mlx_quantize(q, &n, w, 0, 0, modes[m], S));
    CHECK(n == 2);
    uint32_t words[4];
    CHECK_OK(mlx_array_copy_to(words, sizeof words, q[0]));
    CHECK(words[0] == 1698898183u && words[1] == 4275878544u); /* mlx */
    uint8_t sc[2];
    CHECK_OK(mlx_array_copy_to(sc, (size_t)(m ? 2 : 1), q[1]));
    CHECK(sc[0] == (m ? 56 : 127));
    CHECK_OK(mlx_dequantize(&d, q[0], q[1], none, 0, 0, modes[m], 1, MLX_FLOAT32, S));
    CHECK_VALUES(d, want, 32, 0);
  }
  CHECK_ERR(mlx_quantize(q, &n, w, 16, 0, "mxfp4", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_quantize(q, &n, w, 0, 8, "nvfp4", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_quantize(q, &n, w, 0, 0, "int4", S), MLX_ERROR_ARGUMENT);
  for (int i = 0; i < 3; i++) mlx_array_free(q[i]);
  mlx_array_free(d);
  mlx_array_free(w);
}

TEST(fp8) {
  /* mlx: 1 -> 56, -2.5 -> 194, 448 and beyond -> 126, 1e-3 -> 1 (subnormal). */
  float v[6] = {1.0f, -2.5f, 448.0f, 500.0f, 1e-3f, NAN};
  uint8_t want[6] = {56, 194, 126, 126, 1, 126};
  mlx_array x = arr_f32(v, (int64_t[]){6}, 1), b = mlx_array_new(), back = mlx_array_new();
  CHECK_OK(mlx_to_fp8(&b, x, S));
  uint8_t got[6];
  CHECK_OK(mlx_array_copy_to(got, 6, b));
  for (int i = 0; i < 6; i++) CHECK(got[i] == want[i]);
  CHECK_OK(mlx_from_fp8(&back, b, MLX_FLOAT32, S));
  double wb[6] = {1.0, -2.5, 448, 448, 0.001953125, 448};
  CHECK_VALUES(back, wb, 6, 0);
  CHECK_ERR(mlx_from_fp8(&back, x, MLX_FLOAT32, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_from_fp8(&back, b, MLX_INT32, S), MLX_ERROR_DTYPE);
  mlx_array_free(x);
  mlx_array_free(b);
  mlx_array_free(back);
}

/* quantized_matmul equals x @ dequantize(w)^T computed by matmul. */
TEST(products) {
  mlx_array w = rnd((int64_t[]){2, 16, 128}, 3, MLX_FLOAT32), x = rnd((int64_t[]){2, 3, 128}, 3, MLX_FLOAT32);
  mlx_array q[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  mlx_array d = mlx_array_new(), dt = mlx_array_new(), want = mlx_array_new(), got = mlx_array_new();
  int n;
  const char* modes[4] = {"affine", "mxfp4", "mxfp8", "nvfp4"};
  mlx_array none = {NULL};
  for (int m = 0; m < 4; m++) {
    CHECK_OK(mlx_quantize(q, &n, w, 0, 0, modes[m], S));
    mlx_array biases = n == 3 ? q[2] : none;
    CHECK_OK(mlx_dequantize(&d, q[0], q[1], biases, 0, 0, modes[m], 1, MLX_FLOAT32, S));
    CHECK_OK(mlx_swapaxes(&dt, d, -1, -2, S));
    CHECK_OK(mlx_matmul(&want, x, dt, S));
    CHECK_OK(mlx_quantized_matmul(&got, x, q[0], q[1], biases, 1, 0, 0, modes[m], S));
    double a[96], b[96];
    CHECK(read_f64(a, 96, want) == 96 && read_f64(b, 96, got) == 96);
    for (int i = 0; i < 96; i++) CHECK(fabs(a[i] - b[i]) < 1e-4 * (1 + fabs(a[i])));
    /* Not transposed: x [.., 3, 16] times w [16, 128]. */
    mlx_array xs = rnd((int64_t[]){3, 16}, 2, MLX_FLOAT32);
    CHECK_OK(mlx_quantized_matmul(&got, xs, q[0], q[1], biases, 0, 0, 0, modes[m], S));
    CHECK_OK(mlx_matmul(&want, xs, d, S));
    double c[768], e[768];
    CHECK(read_f64(c, 768, want) == 768 && read_f64(e, 768, got) == 768);
    for (int i = 0; i < 768; i++) CHECK(fabs(c[i] - e[i]) < 1e-4 * (1 + fabs(c[i])));
    mlx_array_free(xs);
  }
  /* gather_qmm picks batch elements. */
  CHECK_OK(mlx_quantize(q, &n, w, 64, 8, "affine", S));
  uint32_t li[3] = {1, 0, 1}, ri[3] = {0, 1, 1};
  mlx_array l = mlx_array_new(), r = mlx_array_new(), g = mlx_array_new(), single = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&l, li, (int64_t[]){3}, 1, MLX_UINT32));
  CHECK_OK(mlx_array_new_data(&r, ri, (int64_t[]){3}, 1, MLX_UINT32));
  CHECK_OK(mlx_gather_qmm(&g, x, q[0], q[1], q[2], l, r, 1, 64, 8, "affine", 0, S));
  CHECK_OK(mlx_quantized_matmul(&single, x, q[0], q[1], q[2], 1, 64, 8, "affine", S));
  CHECK_OK(mlx_eval(&g, 1));
  CHECK(mlx_array_ndim(g) == 3 && mlx_array_dim(g, 0) == 3 && mlx_array_dim(g, 2) == 16);
  double gv[144], sv[96];
  CHECK(read_f64(gv, 144, g) == 144 && read_f64(sv, 96, single) == 96);
  /* g[2] = x[1] @ w[1]^T = single[1]. */
  for (int i = 0; i < 48; i++) CHECK(fabs(gv[96 + i] - sv[48 + i]) < 1e-5 * (1 + fabs(sv[48 + i])));
  uint32_t bad[1] = {7};
  CHECK_OK(mlx_array_new_data(&r, bad, (int64_t[]){1}, 1, MLX_UINT32));
  CHECK_OK(mlx_gather_qmm(&g, x, q[0], q[1], q[2], none, r, 1, 64, 8, "affine", 0, S));
  CHECK_ERR(mlx_eval(&g, 1), MLX_ERROR_INDEX);
  /* Shape errors. */
  mlx_array x2 = rnd((int64_t[]){3, 64}, 2, MLX_FLOAT32);
  CHECK_ERR(mlx_quantized_matmul(&got, x2, q[0], q[1], q[2], 1, 64, 8, "affine", S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_quantized_matmul(&got, x2, q[0], q[1], q[2], 1, 64, 4, "affine", S), MLX_ERROR_SHAPE);
  for (int i = 0; i < 3; i++) mlx_array_free(q[i]);
  mlx_array_free(x2);
  mlx_array_free(l);
  mlx_array_free(r);
  mlx_array_free(g);
  mlx_array_free(single);
  mlx_array_free(w);
  mlx_array_free(x);
  mlx_array_free(d);
  mlx_array_free(dt);
  mlx_array_free(want);
  mlx_array_free(got);
}

typedef struct {
  mlx_array wq, scales, biases;
  int transpose;
} qmm_ctx;

static int fn_qmm_x(mlx_array* out, const mlx_array* in, void* ctx) {
  qmm_ctx* c = ctx;
  return mlx_quantized_matmul(out, in[0], c->wq, c->scales, c->biases, c->transpose, 64, 4, "affine", S);
}

static int fn_qmm_sb(mlx_array* out, const mlx_array* in, void* ctx) {
  qmm_ctx* c = ctx;
  return mlx_quantized_matmul(out, in[0], c->wq, in[1], in[2], c->transpose, 64, 4, "affine", S);
}

static int fn_dequantize(mlx_array* out, const mlx_array* in, void* ctx) {
  qmm_ctx* c = ctx;
  return mlx_dequantize(out, c->wq, in[0], in[1], 64, 4, "affine", 0, MLX_FLOAT32, S);
}

static int fn_dequantize_all(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_dequantize(out, in[0], in[1], in[2], 64, 4, "affine", 0, MLX_FLOAT32, S);
}

/* One output of quantize (the packed words or the scales). */
static int fn_quantize(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array q[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int n, which = *(int*)ctx;
  int rc = mlx_quantize(q, &n, in[0], 32, 3, "affine", S);
  if (rc == MLX_OK) {
    mlx_array_free(*out);
    *out = q[which];
    q[which] = mlx_array_new();
  }
  for (int i = 0; i < 3; i++) mlx_array_free(q[i]);
  return rc;
}

typedef struct {
  mlx_array wq, scales, biases, lhs, rhs;
} gqmm_ctx;

static int fn_gather_qmm_x(mlx_array* out, const mlx_array* in, void* ctx) {
  gqmm_ctx* c = ctx;
  return mlx_gather_qmm(out, in[0], c->wq, c->scales, c->biases, c->lhs, c->rhs, 1, 64, 4, "affine", 0, S);
}

TEST(rules) {
  mlx_array w = rnd((int64_t[]){8, 128}, 2, MLX_FLOAT32), wsq = rnd((int64_t[]){128, 128}, 2, MLX_FLOAT32);
  mlx_array q[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  mlx_array sq[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int n;
  CHECK_OK(mlx_quantize(q, &n, w, 64, 4, "affine", S));
  CHECK_OK(mlx_quantize(sq, &n, wsq, 64, 4, "affine", S));
  /* Float64 operands for the finite differences. */
  mlx_array s64 = mlx_array_new(), b64 = mlx_array_new();
  CHECK_OK(mlx_astype(&s64, q[1], MLX_FLOAT64, S));
  CHECK_OK(mlx_astype(&b64, q[2], MLX_FLOAT64, S));
  qmm_ctx c = {q[0], s64, b64, 1};
  mlx_array x = rnd((int64_t[]){3, 128}, 2, MLX_FLOAT64), xb = rnd((int64_t[]){2, 3, 128}, 3, MLX_FLOAT64);
  /* The kernel computes in float32 (as upstream): coarser differences. */
  check_grad_eps("qmm x", fn_qmm_x, &c, &x, 1, 1e-2, 2e-3);
  check_grad_eps("qmm x batch", fn_qmm_x, &c, &xb, 1, 1e-2, 2e-3);
  mlx_array in3[3] = {x, s64, b64};
  check_grad_eps("qmm scales biases", fn_qmm_sb, &c, in3, 3, 1e-2, 2e-3);
  mlx_array s2 = mlx_array_new(), b2 = mlx_array_new();
  CHECK_OK(mlx_astype(&s2, sq[1], MLX_FLOAT64, S));
  CHECK_OK(mlx_astype(&b2, sq[2], MLX_FLOAT64, S));
  qmm_ctx cn = {sq[0], s2, b2, 0};
  check_grad_eps("qmm x not transposed", fn_qmm_x, &cn, &x, 1, 1e-2, 2e-3);
  mlx_array sb[2] = {s64, b64};
  check_grad_eps("dequantize scales biases", fn_dequantize, &c, sb, 2, 1e-2, 2e-3);
  int ax0 = 0, ax1 = 1;
  mlx_array wb = rnd((int64_t[]){3, 8, 64}, 3, MLX_FLOAT32), qb[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  CHECK_OK(mlx_quantize(qb, &n, wb, 64, 4, "affine", S));
  int axes3[3] = {0, 0, 0}, mixed[3] = {0, MLX_VMAP_NONE, 0};
  check_vmap("dequantize vmap", fn_dequantize_all, NULL, qb, axes3, 3);
  mlx_array w1 = rnd((int64_t[]){8, 64}, 2, MLX_FLOAT32), q1[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  CHECK_OK(mlx_quantize(q1, &n, w1, 64, 4, "affine", S));
  mlx_array qm[3] = {qb[0], q1[1], qb[2]};
  check_vmap("dequantize vmap unbatched scales", fn_dequantize_all, NULL, qm, mixed, 3);
  for (int i = 0; i < 3; i++) mlx_array_free(q1[i]);
  mlx_array_free(w1);
  int outs[2] = {0, 1};
  mlx_array wv = rnd((int64_t[]){4, 2, 64}, 3, MLX_FLOAT32);
  check_vmap("quantize vmap words", fn_quantize, &outs[0], &wv, &ax1, 1);
  check_vmap("quantize vmap scales", fn_quantize, &outs[1], &wv, &ax0, 1);
  for (int i = 0; i < 3; i++) mlx_array_free(qb[i]);
  mlx_array_free(wb);
  mlx_array_free(wv);
  /* gather_qmm in x, with repeated lhs indices (their cotangents add). */
  mlx_array w3 = rnd((int64_t[]){3, 8, 128}, 3, MLX_FLOAT32), g3[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  CHECK_OK(mlx_quantize(g3, &n, w3, 64, 4, "affine", S));
  mlx_array gs = mlx_array_new(), gb = mlx_array_new(), li = mlx_array_new(), ri = mlx_array_new();
  CHECK_OK(mlx_astype(&gs, g3[1], MLX_FLOAT64, S));
  CHECK_OK(mlx_astype(&gb, g3[2], MLX_FLOAT64, S));
  uint32_t lv[4] = {1, 0, 1, 1}, rv[4] = {2, 0, 1, 2};
  CHECK_OK(mlx_array_new_data(&li, lv, (int64_t[]){4}, 1, MLX_UINT32));
  CHECK_OK(mlx_array_new_data(&ri, rv, (int64_t[]){4}, 1, MLX_UINT32));
  gqmm_ctx gc = {g3[0], gs, gb, li, ri};
  mlx_array xg = rnd((int64_t[]){2, 3, 128}, 3, MLX_FLOAT64);
  check_grad_eps("gather_qmm x", fn_gather_qmm_x, &gc, &xg, 1, 1e-2, 2e-3);
  for (int i = 0; i < 3; i++) mlx_array_free(g3[i]);
  mlx_array_free(w3);
  mlx_array_free(gs);
  mlx_array_free(gb);
  mlx_array_free(li);
  mlx_array_free(ri);
  mlx_array_free(xg);
  check_vmap("qmm vmap x", fn_qmm_x, &c, &xb, &ax0, 1);
  check_vmap("qmm vmap x axis 1", fn_qmm_x, &c, &xb, &ax1, 1);
  for (int i = 0; i < 3; i++) {
    mlx_array_free(q[i]);
    mlx_array_free(sq[i]);
  }
  mlx_array_free(s64);
  mlx_array_free(b64);
  mlx_array_free(s2);
  mlx_array_free(b2);
  mlx_array_free(x);
  mlx_array_free(xb);
  mlx_array_free(w);
  mlx_array_free(wsq);
}

int main(void) {
  (void)check_grad; /* the kernels compute in float32: check_grad_eps everywhere */
  RUN(affine_bits);
  RUN(fp_modes);
  RUN(fp8);
  RUN(products);
  RUN(rules);
  return harness_report();
}
