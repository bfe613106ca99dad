/* Creation ops: zeros, ones, full, *_like, arange, linspace, eye,
 * identity, tri, tril, triu. Expected values are hand-computed unless a
 * comment says they were printed once by Python mlx 0.32.4 (bit patterns
 * via numpy .view(np.uint32) / .view(np.uint64)). */
#include "harness.h"
#include "internal.h" /* strided views, until the view ops exist */

/* A view of an evaluated array's buffer with the given layout. */
static mlx_array view_of(mlx_array base, const int64_t* shape, const int64_t* strides, int ndim, int64_t offset) {
  mlx_node_* b = MLX_NODE(base);
  mlx_node_* n = mlx_node_new_(b->dtype, shape, ndim);
  mlx_node_set_view_(n, b, b->offset + offset, strides);
  return mlx_wrap_(n);
}

/* Copies the row-major bytes of a (nbytes of them). */
static int raw(void* dst, size_t nbytes, mlx_array a) {
  return mlx_array_copy_to(dst, nbytes, a) == 0 && mlx_array_nbytes(a) == nbytes;
}

static int shape_is(mlx_array a, const int64_t* shape, int ndim) {
  if (mlx_array_ndim(a) != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (mlx_array_shape(a)[i] != shape[i]) return 0;
  return 1;
}

TEST(zeros_ones_all_dtypes) {
  int64_t shape[2] = {2, 3};
  for (int t = 0; t < MLX_NUM_DTYPES; t++) {
    mlx_array z = mlx_array_new(), o = mlx_array_new();
    CHECK_OK(mlx_zeros(&z, shape, 2, (mlx_dtype)t, S));
    CHECK_OK(mlx_ones(&o, shape, 2, (mlx_dtype)t, S));
    CHECK(mlx_array_dtype(z) == (mlx_dtype)t && mlx_array_dtype(o) == (mlx_dtype)t);
    CHECK(shape_is(z, shape, 2) && shape_is(o, shape, 2));
    CHECK(!mlx_array_is_evaluated(z));
    double ez[6] = {0, 0, 0, 0, 0, 0}, eo[6] = {1, 1, 1, 1, 1, 1};
    CHECK_VALUES(z, ez, 6, 0);
    CHECK_VALUES(o, eo, 6, 0);
    mlx_array_free(z);
    mlx_array_free(o);
  }
  /* Exact bit patterns of one for the half types and complex. */
  mlx_array o = mlx_array_new();
  uint16_t h[6];
  CHECK_OK(mlx_ones(&o, shape, 2, MLX_BFLOAT16, S));
  CHECK(raw(h, sizeof h, o) && h[0] == 0x3f80 && h[5] == 0x3f80);
  CHECK_OK(mlx_ones(&o, shape, 2, MLX_FLOAT16, S));
  CHECK(raw(h, sizeof h, o) && h[0] == 0x3c00 && h[5] == 0x3c00);
  float c[12];
  CHECK_OK(mlx_ones(&o, shape, 2, MLX_COMPLEX64, S));
  CHECK(raw(c, sizeof c, o) && c[0] == 1 && c[1] == 0 && c[10] == 1 && c[11] == 0);
  /* A scalar, an empty array and a big (parallel) fill. */
  CHECK_OK(mlx_ones(&o, NULL, 0, MLX_INT64, S));
  int64_t iv;
  CHECK_OK(mlx_array_item_int64(&iv, o));
  CHECK(iv == 1 && mlx_array_ndim(o) == 0);
  int64_t empty[2] = {0, 3};
  CHECK_OK(mlx_zeros(&o, empty, 2, MLX_UINT64, S));
  CHECK_OK(mlx_eval(&o, 1));
  CHECK(mlx_array_size(o) == 0 && shape_is(o, empty, 2));
  int64_t big[1] = {1 << 20};
  CHECK_OK(mlx_ones(&o, big, 1, MLX_FLOAT32, S));
  const void* data;
  CHECK_OK(mlx_array_data(&data, o));
  int ok = 1;
  for (int i = 0; i < (1 << 20); i++) ok &= ((const float*)data)[i] == 1.0f;
  CHECK(ok);
  CHECK_OK(mlx_zeros(&o, big, 1, MLX_INT16, S));
  CHECK_OK(mlx_array_data(&data, o));
  ok = 1;
  for (int i = 0; i < (1 << 20); i++) ok &= ((const int16_t*)data)[i] == 0;
  CHECK(ok);
  mlx_array_free(o);
}

TEST(zeros_ones_errors) {
  mlx_array a = mlx_array_new();
  int64_t neg[2] = {2, -1};
  CHECK_ERR(mlx_zeros(&a, neg, 2, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "[zeros]") != NULL);
  CHECK_ERR(mlx_ones(&a, neg, 2, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  int64_t ok[1] = {2};
  CHECK_ERR(mlx_zeros(&a, ok, 1, (mlx_dtype)99, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_zeros(&a, ok, -1, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  int64_t huge[2] = {INT64_MAX / 2, 4};
  CHECK_ERR(mlx_ones(&a, huge, 2, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK(a.ctx == NULL);
  CHECK_ERR(mlx_zeros_like(&a, a, S), MLX_ERROR_ARGUMENT);
}

TEST(like) {
  int16_t v[2] = {5, -7};
  int64_t shape[1] = {2};
  mlx_array a = mlx_array_new(), o = mlx_array_new(), z = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, shape, 1, MLX_INT16));
  CHECK_OK(mlx_ones_like(&o, a, S));
  CHECK_OK(mlx_zeros_like(&z, a, S));
  CHECK(mlx_array_dtype(o) == MLX_INT16 && mlx_array_dtype(z) == MLX_INT16);
  double eo[2] = {1, 1}, ez[2] = {0, 0};
  CHECK_VALUES(o, eo, 2, 0);
  CHECK_VALUES(z, ez, 2, 0);
  uint8_t b = 1;
  CHECK_OK(mlx_array_new_data(&a, &b, shape, 0, MLX_BOOL));
  CHECK_OK(mlx_zeros_like(&z, a, S));
  int t = -1;
  CHECK_OK(mlx_array_item_bool(&t, z));
  CHECK(t == 0 && mlx_array_dtype(z) == MLX_BOOL && mlx_array_ndim(z) == 0);
  mlx_array_free(a);
  mlx_array_free(o);
  mlx_array_free(z);
}

TEST(full) {
  int64_t shape[2] = {2, 3};
  mlx_array v = mlx_array_new(), f = mlx_array_new();
  /* Scalar broadcast and cast (truncation to int, as astype). */
  CHECK_OK(mlx_array_new_float(&v, 2.5, MLX_FLOAT32));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_INT32, S));
  CHECK(mlx_array_dtype(f) == MLX_INT32 && shape_is(f, shape, 2));
  double e1[6] = {2, 2, 2, 2, 2, 2};
  CHECK_VALUES(f, e1, 6, 0);
  CHECK_OK(mlx_array_new_float(&v, -1.0, MLX_FLOAT64));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_UINT8, S));
  double e2[6] = {255, 255, 255, 255, 255, 255};
  CHECK_VALUES(f, e2, 6, 0);
  CHECK_OK(mlx_array_new_float(&v, 1.0 / 3.0, MLX_FLOAT64));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_BFLOAT16, S));
  uint16_t h[6];
  CHECK(raw(h, sizeof h, f) && h[0] == 0x3eab && h[5] == 0x3eab); /* 0.333984375 */
  /* A row broadcast over the leading dim. */
  int32_t row[3] = {1, 2, 3};
  int64_t rshape[1] = {3};
  CHECK_OK(mlx_array_new_data(&v, row, rshape, 1, MLX_INT32));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_FLOAT16, S));
  double e3[6] = {1, 2, 3, 1, 2, 3};
  CHECK(mlx_array_dtype(f) == MLX_FLOAT16);
  CHECK_VALUES(f, e3, 6, 0);
  /* A column: [[1.5], [2]] -> bfloat16. */
  float col[2] = {1.5f, 2.0f};
  int64_t cshape[2] = {2, 1};
  mlx_array_free(v);
  v = arr_f32(col, cshape, 2);
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_BFLOAT16, S));
  double e4[6] = {1.5, 1.5, 1.5, 2, 2, 2};
  CHECK_VALUES(f, e4, 6, 0);
  /* Complex to float keeps the real part; bool from a number is != 0. */
  CHECK_OK(mlx_array_new_complex(&v, 3.0f, -1.0f));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_FLOAT32, S));
  double e5[6] = {3, 3, 3, 3, 3, 3};
  CHECK_VALUES(f, e5, 6, 0);
  CHECK_OK(mlx_array_new_float(&v, 0.25, MLX_FLOAT32));
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_BOOL, S));
  double e6[6] = {1, 1, 1, 1, 1, 1};
  CHECK_VALUES(f, e6, 6, 0);
  /* Same shape and dtype: the result may share the buffer. */
  float vals[6] = {1, 2, 3, 4, 5, 6};
  mlx_array_free(v);
  v = arr_f32(vals, shape, 2);
  CHECK_OK(mlx_full(&f, shape, 2, v, MLX_FLOAT32, S));
  double e7[6] = {1, 2, 3, 4, 5, 6};
  CHECK_VALUES(f, e7, 6, 0);
  /* Same shape, other dtype, vals dead after the op: donated. */
  mlx_array tmp = arr_f32(vals, shape, 2);
  CHECK_OK(mlx_full(&f, shape, 2, tmp, MLX_INT32, S));
  mlx_array_free(tmp);
  CHECK_VALUES(f, e7, 6, 0);
  /* A transposed (non-contiguous) vals: shape (3, 2) over the (2, 3) data. */
  int64_t tshape[2] = {3, 2}, tstr[2] = {1, 3};
  mlx_array t = view_of(v, tshape, tstr, 2, 0);
  int64_t bshape[3] = {2, 3, 2};
  CHECK_OK(mlx_full(&f, bshape, 3, t, MLX_FLOAT64, S));
  double e8[12] = {1, 4, 2, 5, 3, 6, 1, 4, 2, 5, 3, 6};
  CHECK_VALUES(f, e8, 12, 0);
  /* An empty target. */
  int64_t eshape[2] = {0, 3};
  CHECK_ERR(mlx_full(&f, eshape, 2, v, MLX_FLOAT32, S), MLX_ERROR_SHAPE);
  int32_t r3[3] = {1, 2, 3};
  mlx_array row3 = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&row3, r3, rshape, 1, MLX_INT32));
  CHECK_OK(mlx_full(&f, eshape, 2, row3, MLX_INT32, S));
  CHECK_OK(mlx_eval(&f, 1));
  CHECK(mlx_array_size(f) == 0);
  mlx_array_free(row3);
  mlx_array_free(t);
  mlx_array_free(v);
  mlx_array_free(f);
}

TEST(full_errors) {
  int64_t shape[2] = {2, 3};
  float two[2] = {1, 2};
  int64_t s2[1] = {2};
  mlx_array v = arr_f32(two, s2, 1), f = mlx_array_new();
  /* (2) does not broadcast to (2,3); (2) does not fit (1). */
  CHECK_ERR(mlx_full(&f, shape, 2, v, MLX_FLOAT32, S), MLX_ERROR_SHAPE);
  int64_t one[1] = {1};
  CHECK_ERR(mlx_full(&f, one, 1, v, MLX_FLOAT32, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_full(&f, NULL, 0, v, MLX_FLOAT32, S), MLX_ERROR_SHAPE);
  int64_t neg[2] = {-2, 2};
  CHECK_ERR(mlx_full(&f, neg, 2, v, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_full(&f, shape, 2, mlx_array_new(), MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_full(&f, s2, 1, v, (mlx_dtype)-1, S), MLX_ERROR_DTYPE);
  CHECK(f.ctx == NULL);
  mlx_array_free(v);
}

TEST(arange_float32_bits) {
  /* From Python mlx: np.array(mx.arange(0, 1, 0.1)).view(np.uint32). MLX
   * accumulates the step, so 0.8 is 0x3f4ccccd + 1 ulp etc. */
  const uint32_t expect[10] = {0u, 1036831949u, 1045220557u, 1050253722u, 1053609165u,
                               1056964608u, 1058642330u, 1060320052u, 1061997774u, 1063675496u};
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_arange(&a, 0, 1, 0.1, MLX_FLOAT32, S));
  CHECK(mlx_array_size(a) == 10 && mlx_array_dtype(a) == MLX_FLOAT32);
  uint32_t got[10];
  CHECK(raw(got, sizeof got, a) && !memcmp(got, expect, sizeof got));
  /* From Python mlx: mx.arange(0, 1000, 0.37): size 2703, elements
   * 0, 1, 100, 1000, 2000, 2702 as bits. */
  CHECK_OK(mlx_arange(&a, 0, 1000, 0.37, MLX_FLOAT32, S));
  CHECK(mlx_array_size(a) == 2703);
  uint32_t long_run[2703];
  CHECK(raw(long_run, sizeof long_run, a));
  CHECK(long_run[0] == 0u && long_run[1] == 1052602532u && long_run[100] == 1108606981u);
  CHECK(long_run[1000] == 1136197541u && long_run[2000] == 1144586115u && long_run[2702] == 1148841639u);
  /* From Python mlx: mx.arange(0.1, 1e5, 1): elements 0, 1, 99999. */
  CHECK_OK(mlx_arange(&a, 0.1, 1e5, 1, MLX_FLOAT32, S));
  CHECK(mlx_array_size(a) == 100000);
  const void* d;
  CHECK_OK(mlx_array_data(&d, a));
  const uint32_t* u = d;
  CHECK(u[0] == 1036831949u && u[1] == 1066192077u && u[99999] == 1203982221u);
  /* The running sum sticks at 2^24 in float32 (Python mlx prints
   * 16777213, 14, 15, 16, 16, 16). */
  CHECK_OK(mlx_arange(&a, 16777213, 16777219, 1, MLX_FLOAT32, S));
  double e[6] = {16777213, 16777214, 16777215, 16777216, 16777216, 16777216};
  CHECK_VALUES(a, e, 6, 0);
  /* Integral start and step: the parallel path; every value exact. */
  CHECK_OK(mlx_arange(&a, -5, 3000000, 3, MLX_FLOAT32, S));
  CHECK(mlx_array_size(a) == 1000002);
  CHECK_OK(mlx_array_data(&d, a));
  int ok = 1;
  for (int64_t i = 0; i < 1000002; i++) ok &= ((const float*)d)[i] == (float)(-5 + 3 * i);
  CHECK(ok);
  mlx_array_free(a);
}

TEST(arange_other_dtypes) {
  mlx_array a = mlx_array_new();
  /* From Python mlx: mx.arange(0, 5, 0.3, dtype=...). */
  const double f16[17] = {0.0, 0.300048828125, 0.60009765625, 0.900390625, 1.2001953125, 1.5,
                          1.7998046875, 2.099609375, 2.400390625, 2.701171875, 3.001953125, 3.302734375,
                          3.603515625, 3.904296875, 4.203125, 4.50390625, 4.8046875};
  CHECK_OK(mlx_arange(&a, 0, 5, 0.3, MLX_FLOAT16, S));
  CHECK(mlx_array_dtype(a) == MLX_FLOAT16);
  CHECK_VALUES(a, f16, 17, 0);
  const double bf16[17] = {0.0, 0.30078125, 0.6015625, 0.90234375, 1.203125, 1.5, 1.796875, 2.09375, 2.390625,
                           2.6875, 2.984375, 3.28125, 3.578125, 3.875, 4.1875, 4.5, 4.8125};
  CHECK_OK(mlx_arange(&a, 0, 5, 0.3, MLX_BFLOAT16, S));
  CHECK_VALUES(a, bf16, 17, 0);
  /* From Python mlx: a double start reaches float16 through float32
   * (1 + 2^-11 + 2^-40 rounds to 1, not 1 + 2^-10). */
  CHECK_OK(mlx_arange(&a, 1 + ldexp(1, -11) + ldexp(1, -40), 3, 1, MLX_FLOAT16, S));
  double one_two[2] = {1, 2};
  CHECK_VALUES(a, one_two, 2, 0);
  CHECK_OK(mlx_arange(&a, 1 + ldexp(1, -8) + ldexp(1, -40), 3, 1, MLX_BFLOAT16, S));
  CHECK_VALUES(a, one_two, 2, 0);
  /* From Python mlx: mx.arange(-2.5, 40, 1.25, dtype=mx.float16)[-3:]. */
  CHECK_OK(mlx_arange(&a, -2.5, 40, 1.25, MLX_FLOAT16, S));
  double tail[34];
  CHECK(read_f64(tail, 34, a) == 34 && tail[31] == 36.25 && tail[32] == 37.5 && tail[33] == 38.75);
  /* From Python mlx: mx.arange(0, 2, 0.1, dtype=mx.float64).tolist(). */
  const double f64[20] = {0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7, 0.7999999999999999,
                          0.8999999999999999, 0.9999999999999999, 1.0999999999999999, 1.2, 1.3,
                          1.4000000000000001, 1.5000000000000002, 1.6000000000000003, 1.7000000000000004,
                          1.8000000000000005, 1.9000000000000006};
  CHECK_OK(mlx_arange(&a, 0, 2, 0.1, MLX_FLOAT64, S));
  double got[20];
  CHECK(read_f64(got, 20, a) == 20 && !memcmp(got, f64, sizeof got));
  /* Integers: T(start) and T(start + step) - T(start), as MLX. */
  CHECK_OK(mlx_arange(&a, -3, 10, 2.5, MLX_INT32, S));
  double i32[6] = {-3, 0, 3, 6, 9, 12};
  CHECK(mlx_array_size(a) == 6);
  CHECK_VALUES(a, i32, 6, 0);
  CHECK_OK(mlx_arange(&a, -3, 3, 1, MLX_UINT8, S));
  double u8[6] = {253, 254, 255, 0, 1, 2};
  CHECK_VALUES(a, u8, 6, 0);
  CHECK_OK(mlx_arange(&a, 0, 300, 1, MLX_UINT8, S));
  uint8_t w[300];
  CHECK(raw(w, sizeof w, a) && w[255] == 255 && w[256] == 0 && w[299] == 43);
  CHECK_OK(mlx_arange(&a, 0, 5, 0.5, MLX_INT32, S));
  double zeros10[10] = {0};
  CHECK_VALUES(a, zeros10, 10, 0);
  CHECK_OK(mlx_arange(&a, -1e9, 1e9, 7.3e6, MLX_INT64, S));
  int64_t i64[274];
  CHECK(mlx_array_size(a) == 274 && raw(i64, sizeof i64, a));
  CHECK(i64[0] == -1000000000 && i64[2] == -985400000 && i64[273] == -1000000000 + 273 * 7300000LL);
  CHECK_OK(mlx_arange(&a, 0, 4, 1, MLX_INT8, S));
  double small[4] = {0, 1, 2, 3};
  CHECK_VALUES(a, small, 4, 0);
  CHECK_OK(mlx_arange(&a, 2, 5, 1, MLX_UINT64, S));
  double u64[3] = {2, 3, 4};
  CHECK_VALUES(a, u64, 3, 0);
  /* From Python mlx: complex64 arange(0.5, 3.7, 0.7). */
  CHECK_OK(mlx_arange(&a, 0.5, 3.7, 0.7, MLX_COMPLEX64, S));
  float c[10];
  CHECK(raw(c, sizeof c, a));
  CHECK(c[0] == 0.5f && c[2] == 1.2000000476837158f && c[8] == 3.3000001907348633f && c[9] == 0 && c[3] == 0);
  mlx_array_free(a);
}

TEST(arange_sizes_and_errors) {
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_arange(&a, 5, 0, 1, MLX_INT32, S));
  CHECK_OK(mlx_eval(&a, 1));
  CHECK(mlx_array_size(a) == 0 && mlx_array_ndim(a) == 1);
  CHECK_OK(mlx_arange(&a, 5, 0, -1.5, MLX_FLOAT32, S));
  double down[4] = {5, 3.5, 2, 0.5};
  CHECK_VALUES(a, down, 4, 0);
  /* An infinite step toward stop gives [start]; away from it, []. */
  CHECK_OK(mlx_arange(&a, 2.5, 7, INFINITY, MLX_FLOAT32, S));
  double st[1] = {2.5};
  CHECK_VALUES(a, st, 1, 0);
  CHECK_OK(mlx_arange(&a, 2, 7, INFINITY, MLX_INT32, S));
  double st2[1] = {2};
  CHECK_VALUES(a, st2, 1, 0);
  CHECK_OK(mlx_arange(&a, 2.5, 7, -INFINITY, MLX_FLOAT32, S));
  CHECK(mlx_array_size(a) == 0);
  CHECK_ERR(mlx_arange(&a, 0, 1, 0, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_arange(&a, 0, 3, 1, MLX_BOOL, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_arange(&a, 0, NAN, 1, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_arange(&a, 0, INFINITY, 1, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_arange(&a, 0, 1e20, 1e-5, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_arange(&a, 0, 3, 1, (mlx_dtype)77, S), MLX_ERROR_DTYPE);
  mlx_array_free(a);
}

TEST(linspace) {
  mlx_array a = mlx_array_new();
  /* From Python mlx: np.array(mx.linspace(0, 1, 11)).view(np.uint32). */
  const uint32_t e11[11] = {0u, 1036831949u, 1045220557u, 1050253722u, 1053609165u, 1056964608u,
                            1058642330u, 1060320051u, 1061997773u, 1063675494u, 1065353216u};
  CHECK_OK(mlx_linspace(&a, 0, 1, 11, MLX_FLOAT32, S));
  uint32_t g11[11];
  CHECK(raw(g11, sizeof g11, a) && !memcmp(g11, e11, sizeof g11));
  /* From Python mlx: mx.linspace(-3.7, 12.9, 17) as bits. */
  const uint32_t e17[17] = {3228355789u, 3224004198u, 3218079744u, 3205916268u, 1055286880u, 1069442662u,
                            1075943832u, 1080295423u, 1083388723u, 1085564518u, 1087740314u, 1089916108u,
                            1091305471u, 1092393369u, 1093481267u, 1094569165u, 1095657062u};
  CHECK_OK(mlx_linspace(&a, -3.7, 12.9, 17, MLX_FLOAT32, S));
  uint32_t g17[17];
  CHECK(raw(g17, sizeof g17, a) && !memcmp(g17, e17, sizeof g17));
  /* From Python mlx: float64 output computes in float64:
   * mx.linspace(0.1, 0.7, 7, dtype=mx.float64) as np.uint64 bits. */
  const uint64_t e7[7] = {4591870180066957722u, 4596373779694328218u, 4599075939470750515u,
                          4600877379321698713u, 4602678819172646911u, 4603579539098121012u,
                          4604480259023595110u};
  CHECK_OK(mlx_linspace(&a, 0.1, 0.7, 7, MLX_FLOAT64, S));
  uint64_t g7[7];
  CHECK(raw(g7, sizeof g7, a) && !memcmp(g7, e7, sizeof g7));
  /* From Python mlx: mx.linspace(-1.25, 7.5, 100000), some elements. */
  CHECK_OK(mlx_linspace(&a, -1.25, 7.5, 100000, MLX_FLOAT32, S));
  const void* d;
  CHECK_OK(mlx_array_data(&d, a));
  const uint32_t* u = d;
  CHECK(u[0] == 3214934016u && u[1] == 3214933282u && u[12345] == 3190677632u);
  CHECK(u[50000] == 1078460600u && u[99998] == 1089470280u && u[99999] == 1089470464u);
  /* num == 1 is float32(start) cast (Python mlx: 3.299999952316284). */
  CHECK_OK(mlx_linspace(&a, 3.3, 5, 1, MLX_FLOAT64, S));
  double x;
  CHECK_OK(mlx_array_item_float64(&x, a));
  CHECK(x == (double)3.3f);
  CHECK_OK(mlx_linspace(&a, 0, 1, 0, MLX_FLOAT32, S));
  CHECK_OK(mlx_eval(&a, 1));
  CHECK(mlx_array_size(a) == 0);
  /* Other dtypes cast the float32 values (from Python mlx). */
  CHECK_OK(mlx_linspace(&a, 0, 10, 4, MLX_INT32, S));
  double i32[4] = {0, 3, 6, 10};
  CHECK_VALUES(a, i32, 4, 0);
  CHECK_OK(mlx_linspace(&a, -1, 1, 5, MLX_UINT8, S));
  double u8[5] = {255, 0, 0, 0, 1};
  CHECK_VALUES(a, u8, 5, 0);
  CHECK_OK(mlx_linspace(&a, -1, 1, 5, MLX_BOOL, S));
  double b[5] = {1, 1, 0, 1, 1};
  CHECK_VALUES(a, b, 5, 0);
  CHECK_OK(mlx_linspace(&a, 0.1, 1.3, 4, MLX_FLOAT16, S));
  double h[4] = {0.0999755859375, 0.5, 0.89990234375, 1.2998046875};
  CHECK_VALUES(a, h, 4, 0);
  CHECK_OK(mlx_linspace(&a, 0.1, 1.3, 4, MLX_BFLOAT16, S));
  double bh[4] = {0.10009765625, 0.5, 0.8984375, 1.296875};
  CHECK_VALUES(a, bh, 4, 0);
  CHECK_OK(mlx_linspace(&a, -1, 1, 5, MLX_COMPLEX64, S));
  float c[10];
  CHECK(raw(c, sizeof c, a) && c[0] == -1 && c[1] == 0 && c[2] == -0.5f && c[8] == 1);
  CHECK_ERR(mlx_linspace(&a, 0, 1, -1, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_linspace(&a, 0, 1, 3, (mlx_dtype)14, S), MLX_ERROR_DTYPE);
  mlx_array_free(a);
}

TEST(eye_identity) {
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_eye(&a, 3, 4, -1, MLX_INT8, S));
  int64_t s34[2] = {3, 4};
  CHECK(shape_is(a, s34, 2) && mlx_array_dtype(a) == MLX_INT8);
  double e1[12] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  CHECK_VALUES(a, e1, 12, 0);
  CHECK_OK(mlx_eye(&a, 3, 4, 2, MLX_FLOAT32, S));
  double e2[12] = {0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  CHECK_VALUES(a, e2, 12, 0);
  double z12[12] = {0};
  CHECK_OK(mlx_eye(&a, 3, 4, 5, MLX_FLOAT32, S));
  CHECK_VALUES(a, z12, 12, 0);
  CHECK_OK(mlx_eye(&a, 3, 4, INT64_MIN, MLX_FLOAT32, S));
  CHECK_VALUES(a, z12, 12, 0);
  CHECK_OK(mlx_eye(&a, 3, 4, INT64_MAX, MLX_FLOAT32, S));
  CHECK_VALUES(a, z12, 12, 0);
  CHECK_OK(mlx_identity(&a, 2, MLX_BOOL, S));
  double e3[4] = {1, 0, 0, 1};
  CHECK(mlx_array_dtype(a) == MLX_BOOL);
  CHECK_VALUES(a, e3, 4, 0);
  CHECK_OK(mlx_identity(&a, 2, MLX_COMPLEX64, S));
  float c[8];
  CHECK(raw(c, sizeof c, a) && c[0] == 1 && c[1] == 0 && c[2] == 0 && c[6] == 1 && c[7] == 0);
  CHECK_OK(mlx_identity(&a, 2, MLX_BFLOAT16, S));
  uint16_t h[4];
  CHECK(raw(h, sizeof h, a) && h[0] == 0x3f80 && h[1] == 0 && h[3] == 0x3f80);
  /* Python mlx gives eye(0) and eye(3, 0) as empty arrays. */
  CHECK_OK(mlx_identity(&a, 0, MLX_FLOAT32, S));
  CHECK_OK(mlx_eval(&a, 1));
  CHECK(mlx_array_size(a) == 0 && mlx_array_ndim(a) == 2);
  CHECK_OK(mlx_eye(&a, 3, 0, 0, MLX_FLOAT32, S));
  CHECK_OK(mlx_eval(&a, 1));
  CHECK(mlx_array_size(a) == 0);
  /* A big identity: every diagonal one, nothing else. */
  CHECK_OK(mlx_identity(&a, 700, MLX_FLOAT64, S));
  const void* d;
  CHECK_OK(mlx_array_data(&d, a));
  int ok = 1;
  for (int i = 0; i < 700; i++)
    for (int j = 0; j < 700; j++) ok &= ((const double*)d)[i * 700 + j] == (i == j);
  CHECK(ok);
  CHECK_ERR(mlx_eye(&a, -1, 3, 0, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_identity(&a, -2, MLX_FLOAT32, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_eye(&a, 2, 2, 0, (mlx_dtype)20, S), MLX_ERROR_DTYPE);
  mlx_array_free(a);
}

TEST(tri) {
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_tri(&a, 3, 4, 1, MLX_INT32, S));
  double e1[12] = {1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1};
  CHECK(mlx_array_dtype(a) == MLX_INT32);
  CHECK_VALUES(a, e1, 12, 0);
  CHECK_OK(mlx_tri(&a, 3, 3, 0, MLX_FLOAT16, S));
  double e2[9] = {1, 0, 0, 1, 1, 0, 1, 1, 1};
  CHECK_VALUES(a, e2, 9, 0);
  CHECK_OK(mlx_tri(&a, 3, 3, -1, MLX_BOOL, S));
  double e3[9] = {0, 0, 0, 1, 0, 0, 1, 1, 0};
  CHECK_VALUES(a, e3, 9, 0);
  CHECK_OK(mlx_tri(&a, 2, 3, -5, MLX_FLOAT32, S));
  double z6[6] = {0};
  CHECK_VALUES(a, z6, 6, 0);
  CHECK_OK(mlx_tri(&a, 2, 3, INT64_MAX, MLX_FLOAT32, S));
  double o6[6] = {1, 1, 1, 1, 1, 1};
  CHECK_VALUES(a, o6, 6, 0);
  CHECK_OK(mlx_tri(&a, 2, 2, 0, MLX_COMPLEX64, S));
  float c[8];
  CHECK(raw(c, sizeof c, a) && c[0] == 1 && c[1] == 0 && c[2] == 0 && c[4] == 1 && c[6] == 1 && c[7] == 0);
  /* Python mlx: tri(-2, 3) has shape (0, 3), tri(2, -3) shape (2, 0). */
  CHECK_OK(mlx_tri(&a, -2, 3, 0, MLX_FLOAT32, S));
  int64_t s03[2] = {0, 3};
  CHECK(shape_is(a, s03, 2));
  CHECK_OK(mlx_tri(&a, 2, -3, 0, MLX_FLOAT32, S));
  int64_t s20[2] = {2, 0};
  CHECK(shape_is(a, s20, 2));
  CHECK_OK(mlx_eval(&a, 1));
  CHECK_ERR(mlx_tri(&a, 2, 2, 0, (mlx_dtype)-3, S), MLX_ERROR_DTYPE);
  mlx_array_free(a);
}

TEST(tril_triu) {
  float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  int64_t s34[2] = {3, 4};
  mlx_array x = arr_f32(v, s34, 2), r = mlx_array_new();
  CHECK_OK(mlx_tril(&r, x, 0, S));
  double l0[12] = {1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0};
  CHECK_VALUES(r, l0, 12, 0);
  CHECK_OK(mlx_tril(&r, x, 1, S));
  double l1[12] = {1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12};
  CHECK_VALUES(r, l1, 12, 0);
  CHECK_OK(mlx_tril(&r, x, -1, S));
  double lm1[12] = {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0};
  CHECK_VALUES(r, lm1, 12, 0);
  CHECK_OK(mlx_triu(&r, x, 0, S));
  double u0[12] = {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12};
  CHECK_VALUES(r, u0, 12, 0);
  CHECK_OK(mlx_triu(&r, x, 2, S));
  double u2[12] = {0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0};
  CHECK_VALUES(r, u2, 12, 0);
  CHECK_OK(mlx_triu(&r, x, -1, S));
  double um1[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12};
  CHECK_VALUES(r, um1, 12, 0);
  CHECK_OK(mlx_triu(&r, x, INT64_MIN, S));
  double all[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  CHECK_VALUES(r, all, 12, 0);
  CHECK_OK(mlx_tril(&r, x, INT64_MAX, S));
  CHECK_VALUES(r, all, 12, 0);
  double none[12] = {0};
  CHECK_OK(mlx_tril(&r, x, INT64_MIN, S));
  CHECK_VALUES(r, none, 12, 0);
  /* A transposed view (4 x 3): tril of x^T. */
  int64_t s43[2] = {4, 3}, st[2] = {1, 4};
  mlx_array t = view_of(x, s43, st, 2, 0);
  CHECK_OK(mlx_tril(&r, t, 0, S));
  double lt[12] = {1, 0, 0, 2, 6, 0, 3, 7, 11, 4, 8, 12};
  CHECK_VALUES(r, lt, 12, 0);
  /* An input dead after the op: computed in place (donated). */
  mlx_array tmp = arr_f32(v, s34, 2);
  CHECK_OK(mlx_triu(&r, tmp, 1, S));
  mlx_array_free(tmp);
  double u1[12] = {0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12};
  CHECK_VALUES(r, u1, 12, 0);
  /* Batched bool (Python mlx: tril(ones((2,3,3), bool), -1)). */
  uint8_t ones[18];
  memset(ones, 1, sizeof ones);
  int64_t s233[3] = {2, 3, 3};
  mlx_array bb = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&bb, ones, s233, 3, MLX_BOOL));
  CHECK_OK(mlx_tril(&r, bb, -1, S));
  CHECK(mlx_array_dtype(r) == MLX_BOOL);
  double eb[18] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0};
  CHECK_VALUES(r, eb, 18, 0);
  /* Empty and errors. */
  int64_t s03[2] = {0, 3};
  mlx_array e = mlx_array_new();
  CHECK_OK(mlx_zeros(&e, s03, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_tril(&r, e, 0, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  int64_t s3[1] = {3};
  mlx_array v1 = arr_f32(v, s3, 1);
  CHECK_ERR(mlx_tril(&r, v1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "[tril]") != NULL);
  CHECK_ERR(mlx_triu(&r, v1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_triu(&r, mlx_array_new(), 0, S), MLX_ERROR_ARGUMENT);
  /* A big one: rows split across threads. */
  int64_t sb[2] = {600, 500};
  mlx_array big = mlx_array_new();
  CHECK_OK(mlx_ones(&big, sb, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_eval(&big, 1));
  CHECK_OK(mlx_triu(&r, big, 3, S));
  const void* d;
  CHECK_OK(mlx_array_data(&d, r));
  int ok = 1;
  for (int i = 0; i < 600; i++)
    for (int j = 0; j < 500; j++) ok &= ((const float*)d)[i * 500 + j] == (j >= i + 3);
  CHECK(ok);
  mlx_array_free(big);
  mlx_array_free(v1);
  mlx_array_free(e);
  mlx_array_free(bb);
  mlx_array_free(t);
  mlx_array_free(x);
  mlx_array_free(r);
}

int main(void) {
  RUN(zeros_ones_all_dtypes);
  RUN(zeros_ones_errors);
  RUN(like);
  RUN(full);
  RUN(full_errors);
  RUN(arange_float32_bits);
  RUN(arange_other_dtypes);
  RUN(arange_sizes_and_errors);
  RUN(linspace);
  RUN(eye_identity);
  RUN(tri);
  RUN(tril_triu);
  return harness_report();
}
