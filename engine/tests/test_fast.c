/* Tests of the fast ops (rms_norm, layer_norm, rope,
 * scaled_dot_product_attention):
 *  - values printed once from Python mlx 0.32.4 (mx.fast.*) and pasted
 *    (pyvals below), inputs v[i] = (i % 7 - 3) * 0.25 + i * 0.01 + k;
 *  - the fused kernels against plain double-precision loops kept here as
 *    the reference, over dtypes (float32, float16, bfloat16, float64),
 *    strided (transposed) inputs, grouped-query heads, causal masks with
 *    Lq < Lk and Lq > Lk, bool / additive / broadcast masks, sinks, several
 *    key blocks, odd sizes, rope variants (traditional, partial dims,
 *    offset vectors, freqs, 3-D and 5-D inputs);
 *  - errors (as Python raises them) and empty arrays. */
#include <float.h>
#include <stdbool.h>

#include "harness.h"
#include "mlx/fast.h"

/* Values from Python mlx 0.32.4 (see the header comment). */
/* RMS_W */ static const double RMS_W[24] = {-0.40521246, -0.54006714, -0.38273665, 0.06677901, 0.11818968, 0.45727181, 1.0167572, -1.1417937, -0.35928157, -0.27921313, 0.26347315, 1.2687773, 0.24108349, 0.69805336, -0.73056078, -0.56071353, -0.053860743, 0.20754339, 0.79259068, 1.7012813, 0.42100731, -0.48819122, -0.382186, -0.036516845};
/* LN_WB */ static const double LN_WB[24] = {-1.5853903, -1.2180655, -0.38566589, 0.91180825, -1.2289246, -0.71167135, 0.045531094, -2.1563442, -1.5853903, -1.2180655, -0.38566595, 0.91180825, -1.0571103, -0.38555926, -1.6425869, -1.2647055, -1.5853903, -1.2180655, -0.38566595, 0.91180825, -0.84069312, -1.5036635, -1.1502217, -0.5568307};
/* LN_NONE */ static const double LN_NONE[24] = {-1.3408476, -0.44694918, 0.44694924, 1.3408476, 0.084289685, 0.5456652, 1.0070406, -1.6369956, -1.3408476, -0.44694918, 0.44694918, 1.3408476, 0.7714709, 1.185043, -1.185043, -0.77147084, -1.3408476, -0.44694924, 0.44694918, 1.3408476, 1.6369956, -1.0070406, -0.5456652, -0.08428973};
/* ROPE */ static const double ROPE[24] = {0.52124852, -0.49050197, -0.58625925, 0.020194653, -0.40140501, 0.57014948, -0.76096916, -0.6631965, 0.35021058, -0.17426817, 0.25249267, 0.35331377, 0.29666039, 0.88682359, 0.81761396, -0.33233118, 0.028417725, 0.14922662, -0.43839759, 0.69478875, -0.83286613, -0.53876829, -0.5359422, -0.041578244};
/* ROPE_TRAD */ static const double ROPE_TRAD[24] = {-0.42326838, -0.78958464, -0.23185466, -0.0065890756, -0.30612135, 0.54119283, 0.98130524, -0.39438567, 0.12988958, -0.43026581, -0.075471677, 0.36592898, 0.12220669, 1.0695164, -0.54728132, -0.44168219, -0.19167727, 0.016119003, 0.19409987, 0.78950948, 0.60584766, 0.9094221, -0.23995116, -0.14568268};
/* ROPE_PART */ static const double ROPE_PART[36] = {0.77495193, -0.3789767, 0.12185828, -0.31205234, 0.28999999, 0.55000001, -0.84730834, -0.23277022, -0.33847973, -0.65864861, 0.1, 0.36000001, -0.40907329, 0.60962832, -0.76756704, 0.72474366, -0.090000004, 0.17, -0.56706744, 0.80214775, 0.87511969, -0.35250401, -0.28, -0.02, -0.79094124, -0.050222784, -0.098040193, 1.1348469, -0.47, -0.20999999, -0.12993802, -0.33893663, -0.55723971, 0.81860971, 1.09, -0.40000001};
/* SDPA_CAUSAL */ static const double SDPA_CAUSAL[96] = {-0.6212967, -0.36129671, -0.10129674, -0.19973163, -0.098246768, 0.16175322, -0.017485648, -0.51780874, -0.35733533, -0.097335353, -0.091346674, -0.11412939, -0.37665677, -0.11665678, 0.14334324, -0.40544146, -0.30667394, -0.046673909, -0.15172131, -0.32799828, -0.21613981, 0.043860178, -0.13940598, -0.22011213, 0.009001866, -0.065358385, 0.19464163, 0.45464164, 0.039737619, -0.078036815, 0.18196319, 0.092954382, 0.13812761, 0.19164561, 0.45164561, -0.033152476, -0.015851811, -0.16914143, 0.090858534, 0.35085854, 0.22705826, 0.068905726, 0.32890573, -0.041709766, 0.0079699755, 0.066079602, 0.32607961, 0.22758096, 0.67955315, 0.13596043, -0.12654887, 0.13345112, 0.36184761, 0.4185167, 0.45783198, 0.71783197, 0.25818092, 0.25454569, 0.2689181, 0.52891809, 0.52063888, 0.34755266, -0.065980271, 0.19401971, 0.39190292, 0.3844083, 0.3768602, 0.63686025, 0.45445454, 0.43484545, 0.071754336, 0.33175433, 0.50498986, 0.76498985, 0.52990752, 0.12251798, 0.52001369, 0.78001368, 0.51927114, 0.32780257, 0.53975654, 0.57360882, 0.5729301, 0.45568731, 0.47574589, 0.73574591, 0.50794905, 0.1619679, 0.55673093, 0.81673092, 0.69909889, 0.17603046, 0.54484814, 0.55297261, 0.54541498, 0.4485938};
/* SDPA_SINKS */ static const double SDPA_SINKS[96] = {-0.29925692, -0.1138388, -0.09565337, -0.08365871, -0.10465031, 0.10446886, 0.019015487, -0.28177086, -0.26928708, -0.073351711, -0.068838641, -0.086007632, -0.04521751, 0.20030501, -0.21071437, -0.31736979, -0.28573847, -0.039928295, -0.047326982, -0.10413283, -0.20027375, 0.040640533, -0.12917265, -0.20395443, 0.0070689172, 0.046334226, 0.2040692, 0.14076123, -0.018206662, -0.030846039, 0.071342915, 0.067447141, 0.080984809, 0.11236263, 0.26480174, -0.019437432, -0.015783191, -0.004330771, 0.22328009, 0.17403102, 0.12114763, 0.040001474, 0.26938912, 0.030460976, 0.007286936, 0.060416538, 0.29813436, 0.2080771, 0.39652982, 0.16045202, 0.083662324, 0.30297503, 0.25578672, 0.33151716, 0.39290237, 0.63671303, 0.20966247, 0.20671038, 0.21838187, 0.42952153, 0.34483323, 0.36694324, 0.26000983, 0.51454926, 0.25842667, 0.29297566, 0.32748106, 0.5800463, 0.44467238, 0.42548528, 0.070209801, 0.3246133, 0.42829975, 0.43737599, 0.43203431, 0.35362762, 0.53538251, 0.34677696, 0.27336511, 0.23415168, 0.47462887, 0.50439644, 0.50379962, 0.40070352, 0.50729883, 0.49394599, 0.48326102, 0.41163096, 0.63159615, 0.68828863, 0.61569196, 0.19128963, 0.52358925, 0.53139681, 0.5241341, 0.43109065};
/* SDPA_BOOL */ static const double SDPA_BOOL[96] = {0.0058803111, 0.26588032, -0.20340218, 0.056597829, -0.16984645, 0.090153545, 0.35015357, -0.70260483, -0.37705582, -0.11705585, -0.18545935, -0.29106048, 0.23344418, 0.49344417, -0.53673512, -0.27673516, -0.42473519, -0.1647352, 0.095264822, -0.52859426, -0.19911142, 0.060888588, -0.22457235, -0.3838281, 0.015372753, 0.27537274, 0.53537273, -0.080546021, 0.35175496, -0.15665513, 0.10334486, 0.36334485, 0.21778786, 0.23690417, 0.49690413, -0.11198385, -0.021260604, 0.23873942, 0.49873939, -0.026885897, 0.38156968, -0.2003274, 0.059672609, 0.31967261, 0.10050949, 0.10492816, 0.36492816, 0.17109001, 0.041296959, 0.30129695, 0.56129694, 0.82129699, 0.21696401, 0.476964, 0.17754573, 0.43754572, 0.42327484, 0.35249081, 0.30430102, 0.56430101, 0.14789391, 0.4078939, 0.66789389, 0.92789388, 0.23674859, 0.49674863, 0.14856547, 0.40856546, 0.53798735, 0.49071956, 0.065992698, 0.32599273, 0.59021711, 0.31139016, 0.57139021, 0.83139014, 0.35851941, 0.61851937, 0.87851936, 0.1069575, 0.42544836, 0.68544835, 0.64608353, 0.47285596, 0.63783967, 0.27887869, 0.53887874, 0.79887873, 0.50922918, 0.76922929, 1.0292293, -0.11380048, 0.41620529, 0.67620528, 0.6236639, 0.46685135};

/* The pasted inputs' formula as a float32 array. */
static mlx_array val(int64_t n, const int64_t* shape, int nd, double k) {
  double* v = malloc(sizeof(double) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = (double)(i % 7 - 3) * 0.25 + (double)i * 0.01 + k;
  mlx_array d = mlx_array_new(), f = mlx_array_new();
  mlx_array_new_data(&d, v, shape, nd, MLX_FLOAT64);
  mlx_astype(&f, d, MLX_FLOAT32, S);
  mlx_array_free(d);
  free(v);
  return f;
}

TEST(python_values) {
  int64_t s3[3] = {2, 3, 4}, s1[1] = {4}, s4[4] = {1, 2, 3, 4}, s6[4] = {2, 1, 3, 6};
  mlx_array x = val(24, s3, 3, 0), w = val(4, s1, 1, 1.0), b = val(4, s1, 1, -0.5), y = mlx_array_new();
  mlx_array none = mlx_array_new();
  CHECK_OK(mlx_fast_rms_norm(&y, x, w, 1e-5f, S));
  CHECK_VALUES(y, RMS_W, 24, 1e-6);
  CHECK_OK(mlx_fast_layer_norm(&y, x, w, b, 1e-5f, S));
  CHECK_VALUES(y, LN_WB, 24, 1e-6);
  CHECK_OK(mlx_fast_layer_norm(&y, x, none, none, 1e-4f, S));
  CHECK_VALUES(y, LN_NONE, 24, 1e-6);
  mlx_array x4 = val(24, s4, 4, 0), off = mlx_array_new(), x6 = val(36, s6, 4, 0), offv = mlx_array_new();
  mlx_array fr = mlx_array_new();
  mlx_array_new_int(&off, 2, MLX_INT32);
  CHECK_OK(mlx_fast_rope(&y, x4, 4, 0, 1, 10000.0f, 1.0f, off, none, S));
  CHECK_VALUES(y, ROPE, 24, 1e-6);
  mlx_array_new_int(&off, 1, MLX_INT64);
  CHECK_OK(mlx_fast_rope(&y, x4, 4, 1, 1, 10.0f, 0.5f, off, none, S));
  CHECK_VALUES(y, ROPE_TRAD, 24, 1e-6);
  int32_t ov[2] = {3, 1};
  float fv[2] = {1.0f, 4.0f};
  int64_t two = 2;
  mlx_array_new_data(&offv, ov, &two, 1, MLX_INT32);
  mlx_array_new_data(&fr, fv, &two, 1, MLX_FLOAT32);
  CHECK_OK(mlx_fast_rope(&y, x6, 4, 0, 0, 0.0f, 1.0f, offv, fr, S));
  CHECK_VALUES(y, ROPE_PART, 36, 1e-6);
  int64_t sq[4] = {2, 4, 3, 4}, sk[4] = {2, 2, 5, 4}, sm[2] = {3, 5};
  mlx_array q = val(96, sq, 4, 0), k = val(80, sk, 4, 0.3), v = val(80, sk, 4, -0.2), sinks = mlx_array_new();
  mlx_array mf = val(15, sm, 2, 0), zero = mlx_array_new(), m = mlx_array_new();
  float sv[4] = {0.5f, -1.0f, 2.0f, 0.0f};
  int64_t four = 4;
  mlx_array_new_data(&sinks, sv, &four, 1, MLX_FLOAT32);
  mlx_array_new_float(&zero, 0.0, MLX_FLOAT32);
  mlx_greater(&m, mf, zero, S);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, v, 0.5f, "causal", none, none, S));
  CHECK_VALUES(y, SDPA_CAUSAL, 96, 1e-6);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, v, 0.5f, NULL, none, sinks, S));
  CHECK_VALUES(y, SDPA_SINKS, 96, 1e-6);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, v, 0.5f, "", m, none, S));
  CHECK_VALUES(y, SDPA_BOOL, 96, 1e-6);
  mlx_array arrs[] = {x, w, b, y, x4, off, x6, offv, fr, q, k, v, sinks, mf, zero, m};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

/* ---- inputs and the double reference ------------------------------------- */
static unsigned lcg = 777;
static double rnd(void) {
  lcg = lcg * 1664525u + 1013904223u;
  return (double)(lcg >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

/* A random array of dtype dt and shape; with strided set, a transposed
 * view of its last two axes (so not row-contiguous). *vals gets its
 * values (after rounding to dt) as doubles in row-major order. */
static mlx_array make(const int64_t* shape, int nd, mlx_dtype dt, int strided, double** vals) {
  int64_t n = 1, sh[8];
  for (int i = 0; i < nd; i++) n *= shape[i], sh[i] = shape[i];
  if (strided && nd >= 2) sh[nd - 1] = shape[nd - 2], sh[nd - 2] = shape[nd - 1];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = rnd();
  mlx_array d = mlx_array_new(), c = mlx_array_new(), out = mlx_array_new();
  mlx_array_new_data(&d, v, sh, nd, MLX_FLOAT64);
  mlx_astype(&c, d, dt, S);
  if (strided && nd >= 2) mlx_swapaxes(&out, c, -1, -2, S);
  else mlx_array_set(&out, c);
  mlx_eval(&out, 1);
  read_f64(v, n, out);
  *vals = v;
  mlx_array_free(d), mlx_array_free(c);
  return out;
}

/* Compares a with the n reference values. */
static void check_close(const char* what, mlx_array a, const double* ref, int64_t n, double tol) {
  double* got = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  harness_checks++;
  int64_t cnt = read_f64(got, n, a);
  if (cnt != n) {
    harness_failures++;
    fprintf(stderr, "[%s] got %lld values, expected %lld (%s)\n", what, (long long)cnt, (long long)n, mlx_last_error());
  } else {
    for (int64_t i = 0; i < n; i++)
      if (!(fabs(got[i] - ref[i]) <= tol * (1 + fabs(ref[i])))) {
        harness_failures++;
        fprintf(stderr, "[%s] element %lld: got %.9g expected %.9g\n", what, (long long)i, got[i], ref[i]);
        break;
      }
  }
  free(got);
}

static double tol_of(mlx_dtype dt) {
  switch (dt) {
    case MLX_FLOAT16: return 4e-3;
    case MLX_BFLOAT16: return 3e-2;
    case MLX_FLOAT64: return 1e-12;
    default: return 3e-6;
  }
}

static const mlx_dtype FLOATS[4] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT64};

TEST(norms_vs_reference) {
  int64_t shapes[3][3] = {{5, 7, 33}, {3, 1, 512}, {4, 6, 1}};
  for (int si = 0; si < 3; si++)
    for (int di = 0; di < 4; di++)
      for (int strided = 0; strided < 2; strided++)
        for (int layer = 0; layer < 2; layer++) {
          mlx_dtype dt = FLOATS[di];
          const int64_t* sh = shapes[si];
          int64_t d = sh[2], rows = sh[0] * sh[1], n = rows * d;
          double *xv, *wv, *bv;
          mlx_array x = make(sh, 3, dt, strided, &xv), w = make(&d, 1, dt, 0, &wv), b = make(&d, 1, dt, 0, &bv);
          mlx_array y = mlx_array_new(), none = mlx_array_new();
          double* ref = malloc(sizeof(double) * (size_t)n);
          float eps = 1e-5f;
          for (int64_t r = 0; r < rows; r++) {
            const double* xr = xv + r * d;
            double mu = 0, ss = 0;
            if (layer) {
              for (int64_t i = 0; i < d; i++) mu += xr[i];
              mu /= (double)d;
            }
            for (int64_t i = 0; i < d; i++) ss += (xr[i] - mu) * (xr[i] - mu);
            double nrm = 1 / sqrt(ss / (double)d + eps);
            for (int64_t i = 0; i < d; i++) ref[r * d + i] = (xr[i] - mu) * nrm * wv[i] + (layer ? bv[i] : 0);
          }
          char what[96];
          snprintf(what, sizeof what, "%s %s shape %d strided %d", layer ? "layer_norm" : "rms_norm", mlx_dtype_name(dt),
                   si, strided);
          CHECK_OK(layer ? mlx_fast_layer_norm(&y, x, w, b, eps, S) : mlx_fast_rms_norm(&y, x, w, eps, S));
          CHECK(mlx_array_dtype(y) == dt);
          /* A row of one element normalizes to 0 (layer) or ~1: the
           * half types' rounding of tiny values is not relative. */
          check_close(what, y, ref, n, tol_of(dt) * (d == 1 ? 10 : 4));
          /* Without weight (and bias). */
          for (int64_t r = 0; r < rows; r++)
            for (int64_t i = 0; i < d; i++) ref[r * d + i] = (ref[r * d + i] - (layer ? bv[i] : 0)) / wv[i];
          CHECK_OK(layer ? mlx_fast_layer_norm(&y, x, none, none, eps, S) : mlx_fast_rms_norm(&y, x, none, eps, S));
          if (di == 0) check_close(what, y, ref, n, 1e-3);
          free(ref), free(xv), free(wv), free(bv);
          mlx_array_free(x), mlx_array_free(w), mlx_array_free(b), mlx_array_free(y);
        }
}

/* rope reference with float32 angles and cos/sin, as upstream. */
static void ref_rope(double* out, const double* x, const int64_t* sh, int nd, int dims, int trad, const float* inv,
                     float scale, const int32_t* offs, int64_t noff) {
  int64_t B = sh[0], T = sh[nd - 2], D = sh[nd - 1], H = 1;
  for (int i = 1; i < nd - 2; i++) H *= sh[i];
  int half = dims / 2;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t t = 0; t < T; t++) {
        int64_t row = ((b * H + h) * T + t) * D;
        float pos = ((float)t + (float)offs[noff > 1 ? b : 0]) * scale;
        for (int64_t i = 0; i < D; i++) out[row + i] = x[row + i];
        for (int i = 0; i < half; i++) {
          float th = pos * inv[i];
          double c = cosf(th), s = sinf(th);
          int64_t a = trad ? 2 * i : i, e = trad ? 2 * i + 1 : i + half;
          out[row + a] = x[row + a] * c - x[row + e] * s;
          out[row + e] = x[row + a] * s + x[row + e] * c;
        }
      }
}

TEST(rope_vs_reference) {
  int64_t sh4[4] = {2, 3, 5, 8}, sh3[3] = {3, 4, 6}, sh5[5] = {2, 2, 3, 4, 10};
  struct {
    const int64_t* sh;
    int nd, dims, trad, vec_off, use_freqs;
    float scale;
  } cases[] = {{sh4, 4, 8, 0, 0, 0, 1.0f}, {sh4, 4, 8, 1, 1, 0, 0.5f}, {sh4, 4, 4, 0, 1, 1, 1.0f},
               {sh3, 3, 6, 1, 0, 0, 2.0f}, {sh3, 3, 2, 0, 1, 1, 1.0f}, {sh5, 5, 6, 0, 1, 0, 1.0f},
               {sh5, 5, 10, 1, 0, 1, 1.0f}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
    for (int di = 0; di < 4; di++)
      for (int strided = 0; strided < 2; strided++) {
        mlx_dtype dt = FLOATS[di];
        const int64_t* sh = cases[ci].sh;
        int nd = cases[ci].nd, dims = cases[ci].dims, half = dims / 2;
        int64_t n = 1;
        for (int i = 0; i < nd; i++) n *= sh[i];
        double* xv;
        mlx_array x = make(sh, nd, dt, strided, &xv), off = mlx_array_new(), fr = mlx_array_new(), none = mlx_array_new();
        mlx_array y = mlx_array_new();
        int32_t offs[2] = {3, -2};
        int64_t noff = cases[ci].vec_off ? sh[0] : 1;
        if (cases[ci].vec_off) {
          offs[0] = 5;
          offs[1] = 1;
          int32_t ov[3] = {5, 1, 7};
          offs[0] = ov[0], offs[1] = ov[1];
          mlx_array_new_data(&off, ov, &noff, 1, MLX_INT32);
        } else {
          mlx_array_new_int(&off, offs[0], MLX_INT32);
        }
        int32_t allo[3] = {5, 1, 7};
        float inv[8], fq[8];
        for (int i = 0; i < half; i++) {
          fq[i] = 1.0f + 0.7f * (float)i;
          inv[i] = cases[ci].use_freqs ? 1.0f / fq[i] : expf((float)(-i) * (logf(10000.0f) / (float)half));
        }
        int64_t nh = half;
        if (cases[ci].use_freqs) mlx_array_new_data(&fr, fq, &nh, 1, MLX_FLOAT32);
        double* ref = malloc(sizeof(double) * (size_t)n);
        ref_rope(ref, xv, sh, nd, dims, cases[ci].trad, inv, cases[ci].scale, cases[ci].vec_off ? allo : offs, noff);
        CHECK_OK(mlx_fast_rope(&y, x, dims, cases[ci].trad, !cases[ci].use_freqs, 10000.0f, cases[ci].scale, off,
                               cases[ci].use_freqs ? fr : none, S));
        char what[64];
        snprintf(what, sizeof what, "rope case %zu %s strided %d", ci, mlx_dtype_name(dt), strided);
        CHECK(mlx_array_dtype(y) == dt);
        check_close(what, y, ref, n, dt == MLX_FLOAT64 ? 1e-12 : tol_of(dt) * 2);
        free(ref), free(xv);
        mlx_array_free(x), mlx_array_free(off), mlx_array_free(fr), mlx_array_free(y);
      }
}

/* sdpa reference: mask values in mref ([B, Nq, Lq, Lk] additive, NaN =
 * masked out, NULL = none). */
static void ref_sdpa(double* out, const double* q, const double* k, const double* v, const int64_t* d, double scale,
                     int causal, const double* mref, const double* sinks, double lowest) {
  int64_t B = d[0], Nq = d[1], Nkv = d[2], Lq = d[3], Lk = d[4], D = d[5], Dv = d[6], rep = Nq / Nkv;
  double* s = malloc(sizeof(double) * (size_t)(Lk + 1));
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < Nq; h++)
      for (int64_t i = 0; i < Lq; i++) {
        int64_t kh = h / rep;
        double mx = sinks ? sinks[h] : -INFINITY;
        for (int64_t j = 0; j < Lk; j++) {
          double acc = 0;
          for (int64_t c = 0; c < D; c++) acc += q[((b * Nq + h) * Lq + i) * D + c] * k[((b * Nkv + kh) * Lk + j) * D + c];
          acc *= scale;
          if (mref) {
            double m = mref[((b * Nq + h) * Lq + i) * Lk + j];
            acc = isnan(m) ? lowest : acc + m;
          }
          if (causal && j > i + Lk - Lq) acc = lowest;
          s[j] = acc;
          mx = acc > mx ? acc : mx;
        }
        double l = sinks ? exp(sinks[h] - mx) : 0;
        for (int64_t j = 0; j < Lk; j++) l += (s[j] = exp(s[j] - mx));
        for (int64_t c = 0; c < Dv; c++) {
          double acc = 0;
          for (int64_t j = 0; j < Lk; j++) acc += s[j] * v[((b * Nkv + kh) * Lk + j) * Dv + c];
          out[((b * Nq + h) * Lq + i) * Dv + c] = Lk ? acc / l : 0;
        }
      }
  free(s);
}

enum { M_NONE, M_CAUSAL, M_BOOL, M_ADD, M_BOOL_BCAST };

TEST(sdpa_vs_reference) {
  /* B, Nq, Nkv, Lq, Lk, D, Dv */
  int64_t dims[][7] = {{2, 4, 4, 7, 7, 8, 8},     {1, 6, 2, 5, 9, 16, 4},  {2, 2, 1, 9, 4, 8, 8},
                       {1, 2, 2, 70, 300, 64, 32}, {1, 1, 1, 1, 1, 3, 5},  {1, 4, 2, 33, 33, 128, 128}};
  for (size_t ci = 0; ci < sizeof dims / sizeof dims[0]; ci++)
    for (int di = 0; di < 4; di++)
      for (int mode = 0; mode < 5; mode++)
        for (int var = 0; var < 2; var++) {
          /* var 1: strided q/k/v and sinks. */
          if (ci == 3 && di != 0 && mode != M_CAUSAL) continue;
          const int64_t* d = dims[ci];
          mlx_dtype dt = FLOATS[di];
          int64_t qs[4] = {d[0], d[1], d[3], d[5]}, ks[4] = {d[0], d[2], d[4], d[5]}, vs[4] = {d[0], d[2], d[4], d[6]};
          int64_t ms[4] = {d[0], d[1], d[3], d[4]}, nq = d[1];
          double *qv, *kv, *vv, *sv = NULL, *mv = NULL;
          mlx_array q = make(qs, 4, dt, var, &qv), k = make(ks, 4, dt, var, &kv), v = make(vs, 4, dt, var, &vv);
          mlx_array sinks = mlx_array_new(), mask = mlx_array_new(), none = mlx_array_new(), y = mlx_array_new();
          if (var) sinks = make(&nq, 1, dt, 0, &sv);
          int64_t mn = d[0] * d[1] * d[3] * d[4];
          double* mref = NULL;
          if (mode == M_BOOL || mode == M_ADD) {
            mlx_array raw = make(ms, 4, mode == M_ADD ? dt : MLX_FLOAT32, 0, &mv);
            mref = malloc(sizeof(double) * (size_t)mn);
            if (mode == M_BOOL) {
              mlx_array z = mlx_array_new();
              mlx_array_new_float(&z, -0.6, MLX_FLOAT32);
              mlx_greater(&mask, raw, z, S);
              mlx_array_free(z);
              for (int64_t i = 0; i < mn; i++) mref[i] = mv[i] > -0.6 ? 0 : NAN;
            } else {
              mlx_array_set(&mask, raw);
              for (int64_t i = 0; i < mn; i++) mref[i] = mv[i];
            }
            mlx_array_free(raw);
          } else if (mode == M_BOOL_BCAST) {
            /* A [Lq, 1] bool mask broadcast over batch, heads and keys
             * (some rows entirely masked). */
            int64_t bs[2] = {d[3], 1};
            bool* bv = malloc((size_t)d[3]);
            for (int64_t i = 0; i < d[3]; i++) bv[i] = i % 3 != 1;
            mlx_array_new_data(&mask, bv, bs, 2, MLX_BOOL);
            mref = malloc(sizeof(double) * (size_t)mn);
            for (int64_t i = 0; i < mn; i++) mref[i] = bv[(i / d[4]) % d[3]] ? 0 : NAN;
            free(bv);
          }
          double* ref = malloc(sizeof(double) * (size_t)(d[0] * d[1] * d[3] * d[6]));
          double scale = 1.0 / sqrt((double)d[5]);
          double lowest = dt == MLX_FLOAT16 ? -65504.0 : dt == MLX_FLOAT64 ? -DBL_MAX : -FLT_MAX;
          if (dt == MLX_BFLOAT16) lowest = -3.3895313892515355e38;
          ref_sdpa(ref, qv, kv, vv, d, (float)scale, mode == M_CAUSAL, mref, sv, lowest);
          CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, v, (float)scale, mode == M_CAUSAL ? "causal" : NULL,
                                                          mref ? mask : none, sinks, S));
          char what[80];
          snprintf(what, sizeof what, "sdpa case %zu %s mode %d var %d", ci, mlx_dtype_name(dt), mode, var);
          CHECK(mlx_array_dtype(y) == dt);
          check_close(what, y, ref, d[0] * d[1] * d[3] * d[6], dt == MLX_FLOAT32 ? 2e-5 : tol_of(dt) * 3);
          free(ref), free(qv), free(kv), free(vv), free(sv), free(mv), free(mref);
          mlx_array_free(q), mlx_array_free(k), mlx_array_free(v), mlx_array_free(sinks), mlx_array_free(mask);
          mlx_array_free(y);
        }
}

TEST(errors) {
  int64_t s3[3] = {2, 3, 4}, s1[1] = {3}, s2[2] = {1, 4}, s4[4] = {1, 4, 3, 8}, sk[4] = {1, 2, 5, 8};
  mlx_array none = mlx_array_new(), y = mlx_array_new(), x = mlx_array_new(), w3 = mlx_array_new(), w2 = mlx_array_new();
  mlx_array xi = mlx_array_new(), s0 = mlx_array_new(), off = mlx_array_new(), offf = mlx_array_new();
  mlx_ones(&x, s3, 3, MLX_FLOAT32, S);
  mlx_ones(&w3, s1, 1, MLX_FLOAT32, S);
  mlx_ones(&w2, s2, 2, MLX_FLOAT32, S);
  mlx_ones(&xi, s3, 3, MLX_INT32, S);
  mlx_array_new_float(&s0, 1.0, MLX_FLOAT32);
  mlx_array_new_int(&off, 0, MLX_INT32);
  mlx_array_new_float(&offf, 0.0, MLX_FLOAT32);
  CHECK_ERR(mlx_fast_rms_norm(&y, s0, none, 1e-5f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rms_norm(&y, x, w3, 1e-5f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rms_norm(&y, x, w2, 1e-5f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rms_norm(&y, xi, none, 1e-5f, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_fast_layer_norm(&y, x, none, w3, 1e-5f, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_layer_norm(&y, xi, none, none, 1e-5f, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_fast_rms_norm(&y, none, none, 1e-5f, S), MLX_ERROR_ARGUMENT);
  /* Integer x with a float16 weight is a float16 result, as upstream. */
  mlx_array w16 = mlx_array_new(), xi2 = mlx_array_new();
  int64_t s23[2] = {2, 3};
  mlx_ones(&w16, s1, 1, MLX_FLOAT16, S);
  mlx_ones(&xi2, s23, 2, MLX_INT32, S);
  CHECK_OK(mlx_fast_rms_norm(&y, xi2, w16, 1e-5f, S));
  CHECK(mlx_array_dtype(y) == MLX_FLOAT16);
  CHECK_ERR(mlx_fast_rope(&y, w2, 4, 0, 1, 10000.f, 1.f, off, none, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rope(&y, x, 3, 0, 1, 10000.f, 1.f, off, none, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_rope(&y, x, 0, 0, 1, 10000.f, 1.f, off, none, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_rope(&y, x, 6, 0, 1, 10000.f, 1.f, off, none, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_rope(&y, xi, 4, 0, 1, 10000.f, 1.f, off, none, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 1, 10000.f, 1.f, offf, none, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 1, 10000.f, 1.f, off, w3, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 0, 0.f, 1.f, off, none, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 0, 0.f, 1.f, off, w3, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 1, 10000.f, 1.f, w3, none, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_rope(&y, x, 4, 0, 1, 10000.f, 1.f, w2, none, S), MLX_ERROR_SHAPE);
  mlx_array q = mlx_array_new(), k = mlx_array_new(), q3 = mlx_array_new(), k3 = mlx_array_new(), m = mlx_array_new();
  mlx_array qi = mlx_array_new(), bad = mlx_array_new(), sinks = mlx_array_new();
  int64_t s43[4] = {1, 3, 3, 8}, sm5[5] = {1, 1, 1, 3, 5}, smb[2] = {3, 4}, sb[4] = {2, 2, 5, 8}, sd[4] = {1, 4, 3, 6};
  int64_t s2n[1] = {2};
  mlx_ones(&q, s4, 4, MLX_FLOAT32, S);
  mlx_ones(&k, sk, 4, MLX_FLOAT32, S);
  mlx_ones(&q3, s43, 4, MLX_FLOAT32, S);
  mlx_ones(&k3, s3, 3, MLX_FLOAT32, S);
  mlx_ones(&qi, s4, 4, MLX_INT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, k3, k, k, 1.f, NULL, none, none, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, "foo", none, none, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q3, k, k, 1.f, NULL, none, none, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, qi, qi, qi, 1.f, NULL, none, none, S), MLX_ERROR_DTYPE);
  mlx_ones(&bad, sd, 4, MLX_FLOAT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, bad, k, k, 1.f, NULL, none, none, S), MLX_ERROR_SHAPE);
  mlx_ones(&bad, sb, 4, MLX_FLOAT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, bad, bad, 1.f, NULL, none, none, S), MLX_ERROR_SHAPE);
  mlx_ones(&m, sm5, 5, MLX_FLOAT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, m, none, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, "causal", m, none, S), MLX_ERROR_ARGUMENT);
  mlx_ones(&m, smb, 2, MLX_FLOAT32, S);
  CHECK(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, m, none, S) != MLX_OK);
  mlx_ones(&sinks, s2n, 1, MLX_FLOAT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, none, sinks, S), MLX_ERROR_SHAPE);
  int64_t s4n[1] = {4};
  mlx_ones(&sinks, s4n, 1, MLX_FLOAT64, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, none, sinks, S), MLX_ERROR_DTYPE);
  /* A float32 mask on float16 inputs does not promote to float16. */
  mlx_array q16 = mlx_array_new(), k16 = mlx_array_new(), m35 = mlx_array_new();
  int64_t s35[2] = {3, 5};
  mlx_astype(&q16, q, MLX_FLOAT16, S);
  mlx_astype(&k16, k, MLX_FLOAT16, S);
  mlx_zeros(&m35, s35, 2, MLX_FLOAT32, S);
  CHECK_ERR(mlx_fast_scaled_dot_product_attention(&y, q16, k16, k16, 1.f, NULL, m35, none, S), MLX_ERROR_DTYPE);
  /* An int32 mask promotes to float32: additive. */
  mlx_array mi = mlx_array_new();
  mlx_zeros(&mi, s35, 2, MLX_INT32, S);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, mi, none, S));
  /* Mixed float16 / float32 inputs give float32. */
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q16, k, k, 1.f, NULL, none, none, S));
  CHECK(mlx_array_dtype(y) == MLX_FLOAT32);
  mlx_array arrs[] = {y, x, w3, w2, xi, s0, off, offf, w16, xi2, q, k, q3, k3, m, qi, bad, sinks, q16, k16, m35, mi};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

TEST(empty) {
  int64_t e1[2] = {0, 4}, e2[2] = {3, 0}, e3[3] = {0, 3, 4}, q0[4] = {1, 4, 0, 8}, k0[4] = {1, 2, 0, 8};
  int64_t q1[4] = {1, 4, 3, 8}, k1[4] = {1, 2, 5, 8};
  mlx_array x = mlx_array_new(), y = mlx_array_new(), none = mlx_array_new(), off = mlx_array_new();
  mlx_zeros(&x, e1, 2, MLX_FLOAT32, S);
  CHECK_OK(mlx_fast_rms_norm(&y, x, none, 1e-5f, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0 && mlx_array_dim(y, 1) == 4);
  mlx_zeros(&x, e2, 2, MLX_FLOAT32, S);
  CHECK_OK(mlx_fast_layer_norm(&y, x, none, none, 1e-5f, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0);
  mlx_zeros(&x, e3, 3, MLX_FLOAT32, S);
  mlx_array_new_int(&off, 0, MLX_INT32);
  CHECK_OK(mlx_fast_rope(&y, x, 4, 0, 1, 10000.f, 1.f, off, none, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0);
  mlx_array q = mlx_array_new(), k = mlx_array_new();
  mlx_ones(&q, q0, 4, MLX_FLOAT32, S);
  mlx_ones(&k, k1, 4, MLX_FLOAT32, S);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, NULL, none, none, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0);
  /* No keys: zeros, as upstream. */
  mlx_ones(&q, q1, 4, MLX_FLOAT32, S);
  mlx_ones(&k, k0, 4, MLX_FLOAT32, S);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, k, 1.f, "causal", none, none, S));
  double z[96] = {0};
  CHECK_VALUES(y, z, 96, 0);
  /* No features (D = 0): every score is 0, so each row averages v
   * (Python mlx 0.32.4 gives [[2, 3], [2, 3]] here). */
  int64_t qz[4] = {1, 1, 2, 0}, kz[4] = {1, 1, 3, 0}, vz[4] = {1, 1, 3, 2};
  mlx_array v = mlx_array_new(), vr = mlx_array_new();
  mlx_ones(&q, qz, 4, MLX_FLOAT32, S);
  mlx_ones(&k, kz, 4, MLX_FLOAT32, S);
  mlx_arange(&vr, 0, 6, 1, MLX_FLOAT32, S);
  mlx_reshape(&v, vr, vz, 4, S);
  CHECK_OK(mlx_fast_scaled_dot_product_attention(&y, q, k, v, 1.f, NULL, none, none, S));
  double avg[4] = {2, 3, 2, 3};
  CHECK_VALUES(y, avg, 4, 1e-6);
  mlx_array_free(v), mlx_array_free(vr);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(off), mlx_array_free(q), mlx_array_free(k);
}

int main(void) {
  RUN(python_values);
  RUN(norms_vs_reference);
  RUN(rope_vs_reference);
  RUN(sdpa_vs_reference);
  RUN(errors);
  RUN(empty);
  return harness_report();
}
