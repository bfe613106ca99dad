/* Tests of the indexing family: gather, scatter (none/add/prod/max/min),
 * take, take_along_axis, put_along_axis. Expected values were printed
 * once with Python MLX 0.32 (mx.take, x.at[i].add(...), ...) unless noted
 * as hand-computed. */
#include "harness.h"
#include "mlx/indexing.h"

static mlx_array arange_i(int64_t n, const int64_t* shape, int nd, mlx_dtype dt) {
  mlx_array r = mlx_array_new(), out = mlx_array_new();
  mlx_arange(&r, 0, (double)n, 1, dt, S);
  mlx_reshape(&out, r, shape, nd, S);
  mlx_array_free(r);
  return out;
}

static mlx_array ints(const int32_t* v, const int64_t* shape, int nd, mlx_dtype dt) {
  mlx_array a = mlx_array_new(), c = mlx_array_new();
  mlx_array_new_data(&a, v, shape, nd, MLX_INT32);
  mlx_astype(&c, a, dt, S);
  mlx_array_free(a);
  return c;
}

static int same_shape(mlx_array a, const int64_t* shape, int nd) {
  if (mlx_array_ndim(a) != nd) return 0;
  for (int i = 0; i < nd; i++)
    if (mlx_array_dim(a, i) != shape[i]) return 0;
  return 1;
}

TEST(take_axes) {
  int64_t sh[] = {3, 4};
  mlx_array a = arange_i(12, sh, 2, MLX_INT32), r = mlx_array_new();
  /* Every integer index dtype gives the same rows. */
  mlx_dtype idts[] = {MLX_UINT8, MLX_UINT16, MLX_UINT32, MLX_UINT64, MLX_INT8, MLX_INT16, MLX_INT32, MLX_INT64};
  for (int t = 0; t < 8; t++) {
    int signed_dt = t >= 4;
    int32_t iv[] = {2, signed_dt ? -1 : 2, 0};
    int64_t is[] = {3};
    mlx_array i = ints(iv, is, 1, idts[t]);
    CHECK_OK(mlx_take(&r, a, i, 0, S));
    double e[] = {8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3};
    int64_t es[] = {3, 4};
    CHECK(same_shape(r, es, 2));
    CHECK(mlx_array_dtype(r) == MLX_INT32);
    CHECK_VALUES(r, e, 12, 0);
    mlx_array_free(i);
  }
  int32_t iv2[] = {1, 3, 0, -2};
  int64_t is2[] = {2, 2};
  mlx_array i2 = ints(iv2, is2, 2, MLX_INT32);
  CHECK_OK(mlx_take(&r, a, i2, 1, S));
  double e2[] = {1, 3, 0, 2, 5, 7, 4, 6, 9, 11, 8, 10};
  int64_t es2[] = {3, 2, 2};
  CHECK(same_shape(r, es2, 3));
  CHECK_VALUES(r, e2, 12, 0);
  CHECK_OK(mlx_take(&r, a, i2, -1, S));
  CHECK_VALUES(r, e2, 12, 0);
  int32_t iv3[] = {5, 11, -1};
  int64_t is3[] = {3};
  mlx_array i3 = ints(iv3, is3, 1, MLX_INT64);
  CHECK_OK(mlx_take_all(&r, a, i3, S));
  double e3[] = {5, 11, 11};
  CHECK_VALUES(r, e3, 3, 0);
  /* A 0-d index drops the axis. */
  mlx_array i0 = mlx_array_new();
  mlx_array_new_int(&i0, 1, MLX_INT32);
  CHECK_OK(mlx_take(&r, a, i0, 0, S));
  double e0[] = {4, 5, 6, 7};
  CHECK(mlx_array_ndim(r) == 1);
  CHECK_VALUES(r, e0, 4, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(i2), mlx_array_free(i3), mlx_array_free(i0);
}

TEST(take_all_dtypes) {
  int32_t iv[] = {3, 0, 3};
  int64_t is[] = {3}, sh[] = {4};
  mlx_array i = ints(iv, is, 1, MLX_INT32), r = mlx_array_new();
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++) {
    int32_t v[] = {1, 0, 1, 1};
    mlx_array a = ints(v, sh, 1, (mlx_dtype)dt);
    if (dt != MLX_BOOL) {
      mlx_array_free(a);
      a = arange_i(4, sh, 1, MLX_INT32);
      mlx_array c = mlx_array_new();
      mlx_astype(&c, a, (mlx_dtype)dt, S);
      mlx_array_free(a);
      a = c;
    }
    CHECK_OK(mlx_take(&r, a, i, 0, S));
    CHECK(mlx_array_dtype(r) == (mlx_dtype)dt);
    double eb[] = {1, 1, 1}, en[] = {3, 0, 3};
    if (dt == MLX_BOOL) CHECK_VALUES(r, eb, 3, 0);
    else CHECK_VALUES(r, en, 3, 0);
    mlx_array_free(a);
  }
  mlx_array_free(i), mlx_array_free(r);
}

TEST(gather_general) {
  /* a (3,4,2): index axes 0 and 2 with broadcast index arrays, slice
   * (1,2,1): out[p] = a[i0[p], 0:2, i2[p]]. Hand-computed. */
  int64_t sh[] = {3, 4, 2};
  mlx_array a = arange_i(24, sh, 3, MLX_FLOAT32), r = mlx_array_new();
  int32_t v0[] = {0, 2}, v2[] = {1, 0, -1};
  int64_t s0[] = {2, 1}, s2[] = {3};
  mlx_array i0 = ints(v0, s0, 2, MLX_INT32), i2 = ints(v2, s2, 1, MLX_UINT8);
  /* uint8 can't hold -1: make i2 int16 instead. */
  mlx_array_free(i2);
  i2 = ints(v2, s2, 1, MLX_INT16);
  mlx_array idx[] = {i0, i2};
  int axes[] = {0, 2};
  int64_t sizes[] = {1, 2, 1};
  CHECK_OK(mlx_gather(&r, a, idx, 2, axes, sizes, S));
  int64_t es[] = {2, 3, 1, 2, 1};
  CHECK(same_shape(r, es, 5));
  /* a[i, j, k] = 8i + 2j + k */
  double e[12];
  int n = 0;
  for (int p = 0; p < 2; p++)
    for (int q = 0; q < 3; q++)
      for (int j = 0; j < 2; j++) {
        int k = v2[q] < 0 ? v2[q] + 2 : v2[q];
        e[n++] = 8 * v0[p] + 2 * j + k;
      }
  CHECK_VALUES(r, e, 12, 0);
  /* No index arrays: a plain slice of the given size. */
  int64_t sz2[] = {2, 1, 2};
  CHECK_OK(mlx_gather(&r, a, NULL, 0, NULL, sz2, S));
  double e2[] = {0, 1, 8, 9};
  CHECK_VALUES(r, e2, 4, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(i0), mlx_array_free(i2);
}

TEST(gather_noncontiguous) {
  /* Transposed source and a broadcast index. */
  int64_t sh[] = {3, 4};
  mlx_array a = arange_i(12, sh, 2, MLX_INT32), t = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S)); /* (4,3): t[i,j] = 4j + i */
  int32_t iv[] = {3, 1};
  int64_t is[] = {2};
  mlx_array i = ints(iv, is, 1, MLX_INT32), ib = mlx_array_new();
  CHECK_OK(mlx_take(&r, t, i, 0, S));
  double e[] = {3, 7, 11, 1, 5, 9};
  CHECK_VALUES(r, e, 6, 0);
  int64_t bs[] = {2, 2};
  mlx_array i1 = mlx_array_new();
  int64_t s1[] = {1, 2};
  CHECK_OK(mlx_reshape(&i1, i, s1, 2, S));
  CHECK_OK(mlx_broadcast_to(&ib, i1, bs, 2, S));
  CHECK_OK(mlx_take(&r, t, ib, 1, S)); /* (4,2,2): t[:, ib] */
  /* t[row, j] = 4j + row with j = iv[p % 2] clamped into [0, 2] (3 is
   * out of range for 3 columns). */
  double e2[16];
  for (int row = 0; row < 4; row++)
    for (int p = 0; p < 4; p++) {
      int j = iv[p % 2] > 2 ? 2 : iv[p % 2];
      e2[row * 4 + p] = 4 * j + row;
    }
  CHECK_VALUES(r, e2, 16, 0);
  mlx_array_free(a), mlx_array_free(t), mlx_array_free(r), mlx_array_free(i), mlx_array_free(ib), mlx_array_free(i1);
}

TEST(out_of_range) {
  /* Gathers clamp, scatters drop (documented deviation: upstream is UB). */
  int64_t sh[] = {5};
  mlx_array a = arange_i(5, sh, 1, MLX_FLOAT32), r = mlx_array_new();
  int32_t iv[] = {10, -7, -1, 4};
  int64_t is[] = {4};
  mlx_array i = ints(iv, is, 1, MLX_INT32);
  CHECK_OK(mlx_take(&r, a, i, 0, S));
  double e[] = {4, 0, 4, 4};
  CHECK_VALUES(r, e, 4, 0);
  int64_t us[] = {4, 1};
  float uv[] = {100, 200, 300, 400};
  mlx_array u = arr_f32(uv, us, 2);
  int ax = 0;
  CHECK_OK(mlx_scatter_add(&r, a, &i, 1, u, &ax, S));
  double e2[] = {0, 1, 2, 3, 4 + 300 + 400};
  CHECK_VALUES(r, e2, 5, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(i), mlx_array_free(u);
}

TEST(scatter_modes) {
  int32_t iv[] = {0, 2, 2, 4, 0};
  int64_t is[] = {5}, sh[] = {5}, us[] = {5, 1};
  mlx_array i = ints(iv, is, 1, MLX_INT32), r = mlx_array_new();
  float uv[] = {1, 2, 3, 4, 5};
  mlx_array u = arr_f32(uv, us, 2), z = mlx_array_new(), two = mlx_array_new();
  int ax = 0;
  CHECK_OK(mlx_zeros(&z, sh, 1, MLX_FLOAT32, S));
  CHECK_OK(mlx_full(&two, sh, 1, z, MLX_FLOAT32, S));
  mlx_array c2 = mlx_array_new();
  mlx_array_new_float(&c2, 2, MLX_FLOAT32);
  CHECK_OK(mlx_full(&two, sh, 1, c2, MLX_FLOAT32, S));
  CHECK_OK(mlx_scatter_add(&r, z, &i, 1, u, &ax, S));
  double ea[] = {6, 0, 5, 0, 4};
  CHECK_VALUES(r, ea, 5, 0);
  CHECK_OK(mlx_scatter_prod(&r, two, &i, 1, u, &ax, S));
  double ep[] = {10, 2, 12, 2, 8};
  CHECK_VALUES(r, ep, 5, 0);
  CHECK_OK(mlx_scatter_max(&r, two, &i, 1, u, &ax, S));
  double emx[] = {5, 2, 3, 2, 4};
  CHECK_VALUES(r, emx, 5, 0);
  CHECK_OK(mlx_scatter_min(&r, two, &i, 1, u, &ax, S));
  double emn[] = {1, 2, 2, 2, 2};
  CHECK_VALUES(r, emn, 5, 0);
  /* Plain scatter: the last write wins (hand-computed). */
  CHECK_OK(mlx_scatter(&r, two, &i, 1, u, &ax, S));
  double en[] = {5, 2, 3, 2, 4};
  CHECK_VALUES(r, en, 5, 0);
  /* Every dtype: add and max of small integers (hand-computed). */
  for (int dt = 1; dt < MLX_NUM_DTYPES; dt++) {
    mlx_array zz = mlx_array_new(), uu = mlx_array_new();
    mlx_astype(&zz, two, (mlx_dtype)dt, S);
    mlx_astype(&uu, u, (mlx_dtype)dt, S);
    CHECK_OK(mlx_scatter_add(&r, zz, &i, 1, uu, &ax, S));
    CHECK(mlx_array_dtype(r) == (mlx_dtype)dt);
    double e[] = {8, 2, 7, 2, 6};
    CHECK_VALUES(r, e, 5, 0);
    CHECK_OK(mlx_scatter_max(&r, zz, &i, 1, uu, &ax, S));
    CHECK_VALUES(r, emx, 5, 0);
    mlx_array_free(zz), mlx_array_free(uu);
  }
  mlx_array_free(i), mlx_array_free(r), mlx_array_free(u), mlx_array_free(z), mlx_array_free(two), mlx_array_free(c2);
}

TEST(scatter_rows) {
  /* Row updates into (3,4) with a transposed update block source. */
  int64_t sh[] = {3, 4};
  mlx_array a = arange_i(12, sh, 2, MLX_FLOAT32), r = mlx_array_new();
  int32_t iv[] = {2, 0};
  int64_t is[] = {2};
  mlx_array i = ints(iv, is, 1, MLX_INT32);
  int64_t ush[] = {4, 2};
  mlx_array ut = arange_i(8, ush, 2, MLX_FLOAT32), u = mlx_array_new(), u3 = mlx_array_new();
  CHECK_OK(mlx_transpose(&u, ut, NULL, 0, S)); /* (2,4): u[p, j] = 2j + p */
  int64_t s3[] = {2, 1, 4};
  CHECK_OK(mlx_reshape(&u3, u, s3, 3, S));
  int ax = 0;
  CHECK_OK(mlx_scatter(&r, a, &i, 1, u3, &ax, S));
  double e[] = {1, 3, 5, 7, 4, 5, 6, 7, 0, 2, 4, 6};
  CHECK_VALUES(r, e, 12, 0);
  CHECK_OK(mlx_scatter_add(&r, a, &i, 1, u3, &ax, S));
  double e2[] = {1, 4, 7, 10, 4, 5, 6, 7, 8, 11, 14, 17};
  CHECK_VALUES(r, e2, 12, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(i), mlx_array_free(ut), mlx_array_free(u), mlx_array_free(u3);
}

TEST(along_axis) {
  int64_t sh[] = {3, 4};
  mlx_array a = arange_i(12, sh, 2, MLX_INT32), r = mlx_array_new();
  int32_t iv[] = {0, 3, 1, 1, 2, 0};
  int64_t is[] = {3, 2};
  mlx_array i = ints(iv, is, 2, MLX_INT32);
  CHECK_OK(mlx_take_along_axis(&r, a, i, 1, S));
  double e[] = {0, 3, 5, 5, 10, 8};
  CHECK(same_shape(r, is, 2));
  CHECK_VALUES(r, e, 6, 0);
  int32_t iv2[] = {2, 0, 1, 1};
  int64_t is2[] = {1, 4};
  mlx_array i2 = ints(iv2, is2, 2, MLX_INT32);
  CHECK_OK(mlx_take_along_axis(&r, a, i2, 0, S));
  double e2[] = {8, 1, 6, 7};
  CHECK_VALUES(r, e2, 4, 0);
  /* A transposed source: t = a.T (4,3), indices along axis 0. */
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
  int32_t tv[] = {3, 0, 1};
  int64_t ts[] = {1, 3};
  mlx_array ti = ints(tv, ts, 2, MLX_UINT16);
  CHECK_OK(mlx_take_along_axis(&r, t, ti, 0, S));
  double et[] = {3, 4, 9}; /* t[3,0] = a[0,3], t[0,1] = a[1,0], t[1,2] = a[2,1] */
  CHECK_VALUES(r, et, 3, 0);
  mlx_array_free(t), mlx_array_free(ti);
  int32_t iv3[] = {0, 1, 3}, vv[] = {-1, -2, -3};
  int64_t is3[] = {3, 1};
  mlx_array i3 = ints(iv3, is3, 2, MLX_INT32), v = ints(vv, is3, 2, MLX_INT32);
  CHECK_OK(mlx_put_along_axis(&r, a, i3, v, 1, S));
  double e3[] = {-1, 1, 2, 3, 4, -2, 6, 7, 8, 9, 10, -3};
  CHECK_VALUES(r, e3, 12, 0);
  /* Broadcasting a against the indices: (1,3) zeros, (2,1) indices ->
   * (2,3) (Python MLX: [[1,0,0],[0,1,0]]). */
  int64_t zs[] = {1, 3}, ps[] = {2, 1};
  mlx_array z = mlx_array_new(), one = mlx_array_new();
  mlx_zeros(&z, zs, 2, MLX_FLOAT32, S);
  mlx_array_new_float(&one, 1, MLX_FLOAT32);
  int32_t pv[] = {0, 1};
  mlx_array pi = ints(pv, ps, 2, MLX_INT32);
  CHECK_OK(mlx_put_along_axis(&r, z, pi, one, 1, S));
  double e4[] = {1, 0, 0, 0, 1, 0};
  int64_t e4s[] = {2, 3};
  CHECK(same_shape(r, e4s, 2));
  CHECK_VALUES(r, e4, 6, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(i), mlx_array_free(i2), mlx_array_free(i3), mlx_array_free(v);
  mlx_array_free(z), mlx_array_free(one), mlx_array_free(pi);
}

TEST(errors) {
  int64_t sh[] = {3, 4}, is[] = {2};
  mlx_array a = arange_i(12, sh, 2, MLX_FLOAT32), r = mlx_array_new();
  float fv[] = {0, 1};
  mlx_array fi = arr_f32(fv, is, 1), bi = mlx_array_new(), ii = mlx_array_new(), u = mlx_array_new();
  mlx_astype(&bi, fi, MLX_BOOL, S);
  mlx_astype(&ii, fi, MLX_INT32, S);
  CHECK_ERR(mlx_take(&r, a, fi, 0, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_take(&r, a, bi, 0, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_take(&r, a, ii, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_take(&r, a, ii, -3, S), MLX_ERROR_ARGUMENT);
  mlx_array three[] = {ii, ii, ii};
  int axes3[] = {0, 1, 2};
  int64_t sizes[] = {1, 1};
  CHECK_ERR(mlx_gather(&r, a, three, 3, axes3, sizes, S), MLX_ERROR_ARGUMENT);
  int rep[] = {0, 0};
  CHECK_ERR(mlx_gather(&r, a, three, 2, rep, sizes, S), MLX_ERROR_ARGUMENT);
  int64_t big[] = {1, 5};
  int ax0 = 0;
  CHECK_ERR(mlx_gather(&r, a, three, 1, &ax0, big, S), MLX_ERROR_ARGUMENT);
  /* Updates of the wrong rank / leading shape / too large. */
  int64_t us[] = {2, 4};
  mlx_zeros(&u, us, 2, MLX_FLOAT32, S);
  CHECK_ERR(mlx_scatter(&r, a, &ii, 1, u, &ax0, S), MLX_ERROR_SHAPE);
  int64_t us2[] = {3, 1, 4};
  mlx_zeros(&u, us2, 3, MLX_FLOAT32, S);
  CHECK_ERR(mlx_scatter_add(&r, a, &ii, 1, u, &ax0, S), MLX_ERROR_SHAPE);
  int64_t us3[] = {2, 1, 5};
  mlx_zeros(&u, us3, 3, MLX_FLOAT32, S);
  CHECK_ERR(mlx_scatter_max(&r, a, &ii, 1, u, &ax0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_take_along_axis(&r, a, ii, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_put_along_axis(&r, a, ii, fi, 0, S), MLX_ERROR_ARGUMENT);
  /* Non-empty take from an empty axis. */
  int64_t es[] = {0, 4};
  mlx_array e = mlx_array_new();
  mlx_zeros(&e, es, 2, MLX_FLOAT32, S);
  CHECK_ERR(mlx_take(&r, e, ii, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array empty_i = mlx_array_new();
  int64_t zs[] = {0};
  mlx_zeros(&empty_i, zs, 1, MLX_INT32, S);
  CHECK_OK(mlx_take(&r, e, empty_i, 0, S));
  int64_t ers[] = {0, 4};
  CHECK(same_shape(r, ers, 2));
  CHECK_OK(mlx_eval(&r, 1));
  /* Empty indices on a non-empty array; an empty scatter. */
  CHECK_OK(mlx_take(&r, a, empty_i, 1, S));
  int64_t ers2[] = {3, 0};
  CHECK(same_shape(r, ers2, 2));
  CHECK_OK(mlx_eval(&r, 1));
  int64_t eus[] = {0, 1, 4};
  mlx_zeros(&u, eus, 3, MLX_FLOAT32, S);
  CHECK_OK(mlx_scatter_add(&r, a, &empty_i, 1, u, &ax0, S));
  double ev[12];
  for (int k = 0; k < 12; k++) ev[k] = k;
  CHECK_VALUES(r, ev, 12, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(fi), mlx_array_free(bi), mlx_array_free(ii), mlx_array_free(u);
  mlx_array_free(e), mlx_array_free(empty_i);
}

TEST(large_parallel) {
  /* A gather and a scatter_add big enough for the thread pool. */
  int64_t n = 1 << 18, sh[] = {n / 8, 8}, is[] = {n / 8};
  mlx_array a = arange_i(n, sh, 2, MLX_FLOAT32), r = mlx_array_new(), ri = mlx_array_new(), i = mlx_array_new();
  CHECK_OK(mlx_arange(&ri, (double)(n / 8 - 1), -1, -1, MLX_INT32, S)); /* reversed rows */
  CHECK_OK(mlx_reshape(&i, ri, is, 1, S));
  CHECK_OK(mlx_take(&r, a, i, 0, S));
  mlx_array first = mlx_array_new();
  int64_t st[] = {0, 0}, sp[] = {1, 4}, str[] = {1, 1};
  CHECK_OK(mlx_slice(&first, r, st, sp, str, 2, S));
  double e[] = {(double)(n - 8), (double)(n - 7), (double)(n - 6), (double)(n - 5)};
  CHECK_VALUES(first, e, 4, 0);
  /* Column take (single elements, the S == 1 path) and scatter_add of
   * a whole ones block into zeros twice over the same rows. */
  int64_t us[] = {n / 8, 1, 8};
  mlx_array u = mlx_array_new(), z = mlx_array_new(), s = mlx_array_new();
  mlx_ones(&u, us, 3, MLX_FLOAT32, S);
  mlx_zeros(&z, sh, 2, MLX_FLOAT32, S);
  int ax = 0;
  CHECK_OK(mlx_scatter_add(&r, z, &i, 1, u, &ax, S));
  CHECK_OK(mlx_sum(&s, r, 0, S));
  double es[] = {(double)n};
  CHECK_VALUES(s, es, 1, 0);
  mlx_array_free(a), mlx_array_free(r), mlx_array_free(ri), mlx_array_free(i), mlx_array_free(first);
  mlx_array_free(u), mlx_array_free(z), mlx_array_free(s);
}

/* take_along_axis then put_along_axis, compiled shapeless and replayed
 * for a second shape (the along-axis prims have output_shapes rules). */
static int along_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array a = mlx_array_new(), i = mlx_array_new(), t = mlx_array_new(), p = mlx_array_new();
  int rc = mlx_vector_array_get(&a, inputs, 0);
  if (!rc) rc = mlx_vector_array_get(&i, inputs, 1);
  if (!rc) rc = mlx_take_along_axis(&t, a, i, 1, S);
  if (!rc) rc = mlx_put_along_axis(&p, a, i, t, 1, S);
  if (!rc) rc = mlx_vector_array_append(outputs, t);
  if (!rc) rc = mlx_vector_array_append(outputs, p);
  mlx_array_free(a), mlx_array_free(i), mlx_array_free(t), mlx_array_free(p);
  return rc;
}

TEST(shapeless_compile) {
  mlx_closure f = mlx_closure_new(along_fn, NULL, NULL), c;
  CHECK_OK(mlx_compile(&c, f, 1));
  for (int n = 2; n <= 3; n++) {
    int64_t sh[] = {n, 4}, is[] = {n, 1};
    mlx_array a = arange_i(4 * n, sh, 2, MLX_FLOAT32);
    int32_t iv[] = {3, 0, 2};
    mlx_array i = ints(iv, is, 2, MLX_INT32);
    mlx_vector_array in = mlx_vector_array_new(), out = mlx_vector_array_new();
    mlx_vector_array_append(in, a), mlx_vector_array_append(in, i);
    CHECK_OK(mlx_closure_apply(out, c, in));
    mlx_array t = mlx_array_new();
    mlx_vector_array_get(&t, out, 0);
    double e[] = {3, 4, 10};
    CHECK(mlx_array_dim(t, 0) == n);
    CHECK_VALUES(t, e, n, 0);
    mlx_array_free(a), mlx_array_free(i), mlx_array_free(t);
    mlx_vector_array_free(in), mlx_vector_array_free(out);
  }
  mlx_closure_free(f), mlx_closure_free(c);
}

int main(void) {
  RUN(take_axes);
  RUN(take_all_dtypes);
  RUN(gather_general);
  RUN(gather_noncontiguous);
  RUN(out_of_range);
  RUN(scatter_modes);
  RUN(scatter_rows);
  RUN(along_axis);
  RUN(errors);
  RUN(large_parallel);
  RUN(shapeless_compile);
  return harness_report();
}
