/* Shapes and views: reshape, flatten, unflatten, transpose, squeeze,
 * expand_dims, broadcast_to, concatenate, stack, split, moveaxis,
 * swapaxes, pad, tile, repeat, slice. Expected values marked "mlx" were
 * printed once with Python mlx 0.32.4 and pasted here; the others are
 * worked out by hand in the comments. Views are checked by their data
 * pointer lying inside the input's buffer. */
#include "harness.h"
#include "internal.h"

/* from, from + 1, ... in the given dtype and shape (a cast from float64,
 * so bool reads 0, 1, 1, ...). */
static mlx_array iota_from(mlx_dtype dt, const int64_t* shape, int ndim, double from) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = from + (double)i;
  mlx_array f = mlx_array_new(), r = mlx_array_new();
  if (mlx_array_new_data(&f, v, shape, ndim, MLX_FLOAT64) || mlx_astype(&r, f, dt, S))
    fprintf(stderr, "iota: %s\n", mlx_last_error());
  mlx_array_free(f);
  free(v);
  return r;
}

static mlx_array iota(mlx_dtype dt, const int64_t* shape, int ndim) {
  return iota_from(dt, shape, ndim, 0);
}

static mlx_array iota1(int64_t n) {
  return iota(MLX_FLOAT32, &n, 1);
}

static mlx_array iota2(int64_t r, int64_t c) {
  int64_t sh[2] = {r, c};
  return iota(MLX_FLOAT32, sh, 2);
}

/* 1 if view's first element lies inside base's buffer (base row-major). */
static int inside(mlx_array view, mlx_array base) {
  const void *pv = NULL, *pb = NULL;
  if (mlx_array_data(&pv, view) || mlx_array_data(&pb, base)) return 0;
  return (const char*)pv >= (const char*)pb && (const char*)pv < (const char*)pb + mlx_array_nbytes(base);
}

static int shape_is(mlx_array a, const int64_t* shape, int ndim) {
  if (mlx_array_ndim(a) != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (mlx_array_shape(a)[i] != shape[i]) return 0;
  return 1;
}

static int strides_are(mlx_array a, const int64_t* strides, int ndim) {
  if (mlx_eval(&a, 1)) return 0;
  const int64_t* st = mlx_array_strides(a);
  for (int i = 0; i < ndim; i++)
    if (st[i] != strides[i]) return 0;
  return 1;
}

#define SHAPE_IS(a, ...)                                   \
  do {                                                     \
    int64_t sh_[] = {__VA_ARGS__};                         \
    CHECK(shape_is((a), sh_, (int)(sizeof sh_ / 8)));      \
  } while (0)
#define STRIDES_ARE(a, ...)                                \
  do {                                                     \
    int64_t st_[] = {__VA_ARGS__};                         \
    CHECK(strides_are((a), st_, (int)(sizeof st_ / 8)));   \
  } while (0)
#define VALUES(a, ...)                                     \
  do {                                                     \
    double ev_[] = {__VA_ARGS__};                          \
    CHECK_VALUES((a), ev_, (int)(sizeof ev_ / 8), 0);      \
  } while (0)

static void free_all(mlx_array* a, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(a[i]);
}

TEST(reshape) {
  int64_t sh[3] = {2, 3, 4};
  mlx_array a = iota(MLX_FLOAT32, sh, 3), r = mlx_array_new(), t = mlx_array_new(), c = mlx_array_new();
  int64_t s1[2] = {4, -1};
  CHECK_OK(mlx_reshape(&r, a, s1, 2, S));
  SHAPE_IS(r, 4, 6);
  double e24[24];
  for (int i = 0; i < 24; i++) e24[i] = i;
  CHECK_VALUES(r, e24, 24, 0);
  CHECK(inside(r, a));
  STRIDES_ARE(r, 6, 1);
  /* Same shape: the input itself. */
  CHECK_OK(mlx_reshape(&c, a, sh, 3, S));
  CHECK(mlx_array_is_same(c, a));
  /* A transposed input cannot be re-read as (24): a copy. */
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S)); /* (4,3,2) */
  int64_t flat = 24;
  CHECK_OK(mlx_reshape(&r, t, &flat, 1, S));
  VALUES(r, 0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23); /* mlx */
  CHECK(!inside(r, a));
  STRIDES_ARE(r, 1);
  /* ... but splitting one of its dims or adding 1s stays a view. */
  int64_t s2[5] = {2, 2, 1, 3, 2};
  CHECK_OK(mlx_reshape(&r, t, s2, 5, S));
  CHECK(inside(r, a));
  STRIDES_ARE(r, 2, 1, 12, 4, 12);
  CHECK_VALUES(r, ((double[]){0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23}),
               24, 0);
  /* Scalars. */
  mlx_array sc = mlx_array_new(), r2 = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&sc, 2.5, MLX_FLOAT32));
  int64_t ones[2] = {1, 1};
  CHECK_OK(mlx_reshape(&r, sc, ones, 2, S));
  SHAPE_IS(r, 1, 1);
  CHECK_OK(mlx_reshape(&r2, r, NULL, 0, S));
  CHECK(mlx_array_ndim(r2) == 0);
  VALUES(r2, 2.5);
  /* -1 next to known dims of an empty array: (0,3) -> (3,-1) is (3,0). */
  int64_t e03[2] = {0, 3}, s3[2] = {3, -1};
  mlx_array z = iota(MLX_INT32, e03, 2);
  CHECK_OK(mlx_reshape(&r, z, s3, 2, S));
  SHAPE_IS(r, 3, 0);
  CHECK_OK(mlx_eval(&r, 1));
  /* Errors (upstream messages). */
  int64_t bad1[2] = {5, 5}, bad2[2] = {-1, -1}, bad3[2] = {-1, 0}, bad4[2] = {-2, -12};
  mlx_array keep = mlx_array_new();
  CHECK_ERR(mlx_reshape(&keep, a, bad1, 2, S), MLX_ERROR_SHAPE);
  CHECK(strstr(mlx_last_error(), "Cannot reshape array of size 24 into shape (5,5)") != NULL);
  CHECK_ERR(mlx_reshape(&keep, a, bad2, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_reshape(&keep, z, bad3, 2, S), MLX_ERROR_ARGUMENT);
  /* Upstream accepts (-2,-12) because the product is 24; a negative
   * dimension is an error here. */
  CHECK_ERR(mlx_reshape(&keep, a, bad4, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_reshape(&keep, mlx_array_new(), sh, 3, S), MLX_ERROR_ARGUMENT);
  /* Ranks are bounded (shapes live on the stack): 2000 ones. */
  int64_t* many = malloc(sizeof(int64_t) * 2000);
  for (int i = 0; i < 2000; i++) many[i] = 1;
  mlx_array one = iota1(1);
  CHECK_ERR(mlx_reshape(&keep, one, many, 2000, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_tile(&keep, one, many, 2000, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(one);
  free(many);
  CHECK(keep.ctx == NULL);
  mlx_array arr[] = {a, r, t, c, sc, r2, z};
  free_all(arr, 7);
}

TEST(reshape_of_strided_views) {
  /* Broadcast (stride 0): splitting the broadcast dim is a view, merging
   * it with a real dim is a copy. */
  mlx_array a = iota1(3), b = mlx_array_new(), r = mlx_array_new();
  int64_t bs[2] = {4, 3};
  CHECK_OK(mlx_broadcast_to(&b, a, bs, 2, S));
  int64_t s1[3] = {2, 2, 3};
  CHECK_OK(mlx_reshape(&r, b, s1, 3, S));
  CHECK(inside(r, a));
  STRIDES_ARE(r, 0, 0, 1);
  int64_t s2[1] = {12};
  CHECK_OK(mlx_reshape(&r, b, s2, 1, S));
  CHECK(!inside(r, a));
  VALUES(r, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2);
  /* Negative strides: reversed (10) read as (2,5) is a view. */
  mlx_array v = iota1(10), rev = mlx_array_new();
  int64_t st = -1, sp = INT64_MIN, step = -1;
  CHECK_OK(mlx_slice(&rev, v, &st, &sp, &step, 1, S));
  int64_t s3[2] = {2, 5};
  CHECK_OK(mlx_reshape(&r, rev, s3, 2, S));
  CHECK(inside(r, v));
  STRIDES_ARE(r, -5, -1);
  VALUES(r, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  mlx_array arr[] = {a, b, r, v, rev};
  free_all(arr, 5);
}

TEST(flatten_unflatten) {
  int64_t sh[3] = {2, 3, 4};
  mlx_array a = iota(MLX_INT32, sh, 3), r = mlx_array_new(), t = mlx_array_new();
  CHECK_OK(mlx_flatten(&r, a, 1, 2, S));
  SHAPE_IS(r, 2, 12);
  CHECK(inside(r, a));
  CHECK_OK(mlx_flatten(&r, a, -10, 10, S)); /* clamped, as upstream */
  SHAPE_IS(r, 24);
  CHECK_OK(mlx_flatten(&r, a, 1, 1, S));
  CHECK(mlx_array_is_same(r, a));
  CHECK_ERR(mlx_flatten(&r, a, 2, 1, S), MLX_ERROR_ARGUMENT);
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&sc, 3, MLX_INT32));
  CHECK_OK(mlx_flatten(&r, sc, 0, -1, S));
  SHAPE_IS(r, 1);
  VALUES(r, 3);
  /* Flatten of a transpose copies. */
  int perm[3] = {0, 2, 1};
  CHECK_OK(mlx_transpose(&t, a, perm, 3, S));
  CHECK_OK(mlx_flatten(&r, t, 1, 2, S));
  CHECK(!inside(r, a));
  VALUES(r, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23);

  mlx_array f = mlx_array_new();
  int64_t s212[2] = {2, 12};
  CHECK_OK(mlx_reshape(&f, a, s212, 2, S));
  int64_t u1[2] = {3, -1};
  CHECK_OK(mlx_unflatten(&r, f, 1, u1, 2, S));
  SHAPE_IS(r, 2, 3, 4);
  CHECK(inside(r, a));
  CHECK_OK(mlx_unflatten(&r, f, -1, u1, 2, S));
  SHAPE_IS(r, 2, 3, 4);
  int64_t u2[1] = {12};
  CHECK_OK(mlx_unflatten(&r, f, 1, u2, 1, S));
  CHECK(mlx_array_is_same(r, f));
  int64_t bad1[2] = {5, -1}, bad2[2] = {-1, -1}, bad3[2] = {0, -1};
  CHECK_ERR(mlx_unflatten(&r, f, 1, bad1, 2, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_unflatten(&r, f, 1, bad2, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_unflatten(&r, f, 1, bad3, 2, S), MLX_ERROR_ARGUMENT); /* upstream divides by zero */
  CHECK_ERR(mlx_unflatten(&r, f, 1, u1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_unflatten(&r, f, 2, u1, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_unflatten(&r, sc, 0, u2, 1, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {a, r, t, sc, f};
  free_all(arr, 5);
}

TEST(transpose_values_and_views) {
  int64_t sh[3] = {2, 3, 4};
  mlx_array a = iota(MLX_FLOAT32, sh, 3), r = mlx_array_new();
  int perm[3] = {2, 0, 1};
  CHECK_OK(mlx_transpose(&r, a, perm, 3, S));
  SHAPE_IS(r, 4, 2, 3);
  STRIDES_ARE(r, 1, 12, 4);
  CHECK(inside(r, a));
  VALUES(r, 0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23); /* mlx */
  int negperm[3] = {-1, 0, -2};
  CHECK_OK(mlx_transpose(&r, a, negperm, 3, S));
  SHAPE_IS(r, 4, 2, 3);
  int idp[3] = {0, 1, 2};
  CHECK_OK(mlx_transpose(&r, a, idp, 3, S));
  CHECK(mlx_array_is_same(r, a));
  int dup[3] = {0, 0, 1}, oob[3] = {0, 1, 3};
  CHECK_ERR(mlx_transpose(&r, a, dup, 3, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_transpose(&r, a, oob, 3, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_transpose(&r, a, perm, 2, S), MLX_ERROR_ARGUMENT);
  /* Scalars transpose to themselves. */
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&sc, 1, MLX_FLOAT32));
  CHECK_OK(mlx_transpose(&r, sc, NULL, 0, S));
  CHECK(mlx_array_is_same(r, sc));
  mlx_array arr[] = {a, r, sc};
  free_all(arr, 3);
}

/* Every dtype: transpose (2,3) -> (3,2) and read it back row-major
 * (through the per-itemsize copy paths). */
TEST(transpose_every_dtype) {
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++) {
    int64_t sh[2] = {2, 3};
    mlx_array a = iota((mlx_dtype)dt, sh, 2), t = mlx_array_new(), c = mlx_array_new();
    CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
    CHECK(mlx_array_dtype(t) == (mlx_dtype)dt);
    double e[6] = {0, 3, 1, 4, 2, 5};
    if (dt == MLX_BOOL)
      for (int i = 0; i < 6; i++) e[i] = e[i] != 0;
    CHECK_VALUES(t, e, 6, 0);
    CHECK(inside(t, a));
    /* contiguous() of the view: a real strided copy per itemsize. */
    CHECK_OK(mlx_contiguous(&c, t, 0, S));
    CHECK_VALUES(c, e, 6, 0);
    mlx_array arr[] = {a, t, c};
    free_all(arr, 3);
  }
}

TEST(moveaxis_swapaxes) {
  int64_t sh[3] = {2, 3, 4};
  mlx_array a = iota(MLX_INT32, sh, 3), r = mlx_array_new();
  CHECK_OK(mlx_moveaxis(&r, a, 0, -1, S));
  SHAPE_IS(r, 3, 4, 2);
  VALUES(r, 0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23); /* mlx */
  CHECK(inside(r, a));
  CHECK_OK(mlx_moveaxis(&r, a, 2, 0, S));
  SHAPE_IS(r, 4, 2, 3);
  CHECK_OK(mlx_moveaxis(&r, a, 1, 1, S));
  CHECK(mlx_array_is_same(r, a));
  CHECK_ERR(mlx_moveaxis(&r, a, 3, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_swapaxes(&r, a, 0, 2, S));
  SHAPE_IS(r, 4, 3, 2);
  VALUES(r, 0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23); /* mlx */
  CHECK_ERR(mlx_swapaxes(&r, a, 0, -4, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {a, r};
  free_all(arr, 2);
}

TEST(squeeze_expand_dims) {
  int64_t sh[4] = {1, 2, 1, 3};
  mlx_array a = iota(MLX_FLOAT32, sh, 4), r = mlx_array_new();
  CHECK_OK(mlx_squeeze(&r, a, S));
  SHAPE_IS(r, 2, 3);
  CHECK(inside(r, a));
  VALUES(r, 0, 1, 2, 3, 4, 5);
  int ax1[2] = {0, -2};
  CHECK_OK(mlx_squeeze_axes(&r, a, ax1, 2, S));
  SHAPE_IS(r, 2, 3);
  int ax2[1] = {2};
  CHECK_OK(mlx_squeeze_axes(&r, a, ax2, 1, S));
  SHAPE_IS(r, 1, 2, 3);
  CHECK_OK(mlx_squeeze_axes(&r, a, NULL, 0, S));
  CHECK(mlx_array_is_same(r, a));
  int non1[1] = {1}, dup[2] = {0, -4}, oob[1] = {4};
  CHECK_ERR(mlx_squeeze_axes(&r, a, non1, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_squeeze_axes(&r, a, dup, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_squeeze_axes(&r, a, oob, 1, S), MLX_ERROR_ARGUMENT);
  /* squeeze of a view with no unit dims: the input itself. */
  mlx_array b = iota2(2, 3), t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, b, NULL, 0, S));
  CHECK_OK(mlx_squeeze(&r, t, S));
  CHECK(mlx_array_is_same(r, t));

  /* expand_dims: axes index the output, as in MLX. (2,3) + (0,3) ->
   * (1,2,3,1); (-1,0) gives the same. */
  int e1[2] = {0, 3}, e2[2] = {-1, 0}, e3[2] = {0, 0}, e4[2] = {0, -4}, e5[1] = {3}, e6[1] = {-4};
  CHECK_OK(mlx_expand_dims(&r, b, e1, 2, S));
  SHAPE_IS(r, 1, 2, 3, 1);
  CHECK(inside(r, b));
  VALUES(r, 0, 1, 2, 3, 4, 5);
  CHECK_OK(mlx_expand_dims(&r, b, e2, 2, S));
  SHAPE_IS(r, 1, 2, 3, 1);
  /* Of a transposed view: still a view. */
  CHECK_OK(mlx_expand_dims(&r, t, e1, 2, S));
  SHAPE_IS(r, 1, 3, 2, 1);
  CHECK(inside(r, b));
  VALUES(r, 0, 3, 1, 4, 2, 5);
  CHECK_ERR(mlx_expand_dims(&r, b, e3, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_expand_dims(&r, b, e4, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_expand_dims(&r, b, e5, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_expand_dims(&r, b, e6, 1, S), MLX_ERROR_ARGUMENT);
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&sc, 4, MLX_FLOAT32));
  int z[1] = {0};
  CHECK_OK(mlx_expand_dims(&r, sc, z, 1, S));
  SHAPE_IS(r, 1);
  VALUES(r, 4);
  mlx_array arr[] = {a, r, b, t, sc};
  free_all(arr, 5);
}

TEST(broadcast_to) {
  mlx_array b = iota2(2, 3), r = mlx_array_new();
  int64_t s1[3] = {2, 2, 3};
  CHECK_OK(mlx_broadcast_to(&r, b, s1, 3, S));
  STRIDES_ARE(r, 0, 3, 1);
  CHECK(inside(r, b));
  VALUES(r, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5);
  mlx_array col = iota2(3, 1);
  int64_t s2[2] = {3, 2};
  CHECK_OK(mlx_broadcast_to(&r, col, s2, 2, S));
  STRIDES_ARE(r, 1, 0);
  VALUES(r, 0, 0, 1, 1, 2, 2);
  CHECK_OK(mlx_broadcast_to(&r, b, mlx_array_shape(b), 2, S));
  CHECK(mlx_array_is_same(r, b));
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&sc, 1.5, MLX_FLOAT32));
  int64_t s3[2] = {2, 2};
  CHECK_OK(mlx_broadcast_to(&r, sc, s3, 2, S));
  VALUES(r, 1.5, 1.5, 1.5, 1.5);
  int64_t s4[2] = {0, 3};
  mlx_array row = iota2(1, 3);
  CHECK_OK(mlx_broadcast_to(&r, row, s4, 2, S));
  SHAPE_IS(r, 0, 3);
  CHECK_OK(mlx_eval(&r, 1));
  int64_t bad1[2] = {3, 3}, bad2[1] = {3}, bad3[2] = {-1, 3};
  CHECK_ERR(mlx_broadcast_to(&r, b, bad1, 2, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_broadcast_to(&r, b, bad2, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_broadcast_to(&r, row, bad3, 2, S), MLX_ERROR_ARGUMENT);
  int64_t o[4];
  int ond;
  int64_t sa[2] = {5, 1}, sb[3] = {2, 1, 4};
  CHECK_OK(mlx_broadcast_shapes(o, &ond, sa, 2, sb, 3));
  CHECK(ond == 3 && o[0] == 2 && o[1] == 5 && o[2] == 4);
  mlx_array arr[] = {b, r, col, sc, row};
  free_all(arr, 5);
}

TEST(slice) {
  mlx_array b = iota1(10), r = mlx_array_new();
  /* Python b[8:2:-2], b[::-1], b[100:-100:-3], b[5:2], b[20:30], b[-3:],
   * b[-3:-100:-1] (mlx). */
  struct {
    int64_t start, stop, step, n;
    double e[10];
  } cases[] = {
      {8, 2, -2, 3, {8, 6, 4}},
      {-1, INT64_MIN, -1, 10, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
      {100, -100, -3, 4, {9, 6, 3, 0}},
      {5, 2, 1, 0, {0}},
      {20, 30, 1, 0, {0}},
      {-3, 10, 1, 3, {7, 8, 9}},
      {-3, -100, -1, 8, {7, 6, 5, 4, 3, 2, 1, 0}},
      {INT64_MAX, INT64_MIN, INT64_MIN, 1, {9}},
      {1, INT64_MAX, INT64_MAX, 1, {1}},
      {0, 10, 4, 3, {0, 4, 8}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_OK(mlx_slice(&r, b, &cases[i].start, &cases[i].stop, &cases[i].step, 1, S));
    CHECK(mlx_array_dim(r, 0) == cases[i].n);
    if (cases[i].n) {
      CHECK_VALUES(r, cases[i].e, (int)cases[i].n, 0);
      CHECK(inside(r, b));
    } else {
      CHECK_OK(mlx_eval(&r, 1));
    }
  }
  int64_t s0 = 8, e0 = 2, st0 = -2;
  CHECK_OK(mlx_slice(&r, b, &s0, &e0, &st0, 1, S));
  STRIDES_ARE(r, -2);
  /* The whole array with step 1: the input itself. */
  int64_t z = 0, big = 100, one = 1;
  CHECK_OK(mlx_slice(&r, b, &z, &big, &one, 1, S));
  CHECK(mlx_array_is_same(r, b));
  int64_t zero = 0;
  CHECK_ERR(mlx_slice(&r, b, &z, &big, &zero, 1, S), MLX_ERROR_ARGUMENT);
  int64_t two[2] = {0, 0};
  CHECK_ERR(mlx_slice(&r, b, two, two, two, 2, S), MLX_ERROR_ARGUMENT);

  /* 2-D (mlx): x[::-1, 2:0:-1] = [[5,4],[2,1]]; x[1:, ::2] = [[3,5]];
   * x[-1:-3:-1, -1::-2] = [[5,3],[2,0]]. */
  mlx_array x = iota2(2, 3);
  int64_t a1[2] = {-1, 2}, b1[2] = {INT64_MIN, 0}, c1[2] = {-1, -1};
  CHECK_OK(mlx_slice(&r, x, a1, b1, c1, 2, S));
  VALUES(r, 5, 4, 2, 1);
  STRIDES_ARE(r, -3, -1);
  int64_t a2[2] = {1, 0}, b2[2] = {2, 3}, c2[2] = {1, 2};
  CHECK_OK(mlx_slice(&r, x, a2, b2, c2, 2, S));
  SHAPE_IS(r, 1, 2);
  VALUES(r, 3, 5);
  int64_t a3[2] = {-1, -1}, b3[2] = {-3, INT64_MIN}, c3[2] = {-1, -2};
  CHECK_OK(mlx_slice(&r, x, a3, b3, c3, 2, S));
  VALUES(r, 5, 3, 2, 0);
  CHECK(inside(r, x));
  /* A negative-step view is neither row- nor densely contiguous. */
  mlx_node_* n = (mlx_node_*)r.ctx;
  CHECK(!(n->flags & (MLX_FLAG_ROW_CONTIG | MLX_FLAG_CONTIG)));
  mlx_array arr[] = {b, r, x};
  free_all(arr, 3);
}

TEST(view_chains) {
  /* slice of transpose of broadcast (mlx): broadcast arange(3) to (2,3),
   * transpose to (3,2), take [2::-1, :] -> [[2,2],[1,1],[0,0]], then
   * [::2, ::-1] -> [[2,2],[0,0]]. All views of the arange buffer. */
  mlx_array a = iota1(3), b = mlx_array_new(), t = mlx_array_new(), s1 = mlx_array_new(), s2 = mlx_array_new(),
            r = mlx_array_new();
  int64_t bs[2] = {2, 3};
  CHECK_OK(mlx_broadcast_to(&b, a, bs, 2, S));
  CHECK_OK(mlx_transpose(&t, b, NULL, 0, S));
  int64_t st1[2] = {2, 0}, sp1[2] = {INT64_MIN, 2}, stp1[2] = {-1, 1};
  CHECK_OK(mlx_slice(&s1, t, st1, sp1, stp1, 2, S));
  VALUES(s1, 2, 2, 1, 1, 0, 0);
  STRIDES_ARE(s1, -1, 0);
  CHECK(inside(s1, a));
  int64_t st2[2] = {0, -1}, sp2[2] = {3, INT64_MIN}, stp2[2] = {2, -1};
  CHECK_OK(mlx_slice(&s2, s1, st2, sp2, stp2, 2, S));
  VALUES(s2, 2, 2, 0, 0);
  CHECK(inside(s2, a));
  /* Reshape of the chain: a copy with the same values. */
  int64_t four = 4;
  CHECK_OK(mlx_reshape(&r, s2, &four, 1, S));
  VALUES(r, 2, 2, 0, 0);
  /* Unevaluated chain evaluated at once from the end. */
  mlx_array c1 = mlx_array_new(), c2 = mlx_array_new(), c3 = mlx_array_new(), base = iota2(4, 5);
  int perm[2] = {1, 0};
  CHECK_OK(mlx_transpose(&c1, base, perm, 2, S)); /* (5,4) */
  int64_t q1[2] = {1, 3}, q2[2] = {5, -5}, q3[2] = {2, -2};
  CHECK_OK(mlx_slice(&c2, c1, q1, q2, q3, 2, S)); /* rows 1,3; cols 3,1 */
  CHECK(!mlx_array_is_evaluated(c2));
  int e[1] = {0};
  CHECK_OK(mlx_expand_dims(&c3, c2, e, 1, S));
  SHAPE_IS(c3, 1, 2, 2);
  /* base[i][j] = 5i + j; c1[j][i] = base[i][j]; c2 = c1[{1,3}][{3,1}]
   * = base[3][1], base[1][1], base[3][3], base[1][3]. */
  VALUES(c3, 16, 6, 18, 8);
  CHECK(inside(c3, base));
  mlx_array arr[] = {a, b, t, s1, s2, r, c1, c2, c3, base};
  free_all(arr, 10);
}

TEST(concatenate) {
  int64_t s22[2] = {2, 2};
  mlx_array x = iota2(2, 3), y = iota_from(MLX_FLOAT32, s22, 2, 10), r = mlx_array_new();
  mlx_array xy[2] = {x, y};
  CHECK_OK(mlx_concatenate(&r, xy, 2, 1, S));
  SHAPE_IS(r, 2, 5);
  VALUES(r, 0, 1, 2, 10, 11, 3, 4, 5, 12, 13); /* mlx */
  CHECK_OK(mlx_concatenate(&r, xy, 2, -1, S));
  SHAPE_IS(r, 2, 5);
  mlx_array xx[2] = {x, x};
  CHECK_OK(mlx_concatenate(&r, xx, 2, 0, S));
  VALUES(r, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5);
  /* One array: itself. */
  CHECK_OK(mlx_concatenate(&r, &x, 1, 0, S));
  CHECK(mlx_array_is_same(r, x));
  /* Non-contiguous pieces (mlx): [x.T, broadcast([7,8], (3,2)),
   * x[::-1, ::-1].T] along 1. */
  mlx_array xt = mlx_array_new(), bc = mlx_array_new(), rv = mlx_array_new(), rvt = mlx_array_new();
  float v78[2] = {7, 8};
  int64_t two = 2, s32[2] = {3, 2};
  mlx_array p78 = arr_f32(v78, &two, 1);
  CHECK_OK(mlx_transpose(&xt, x, NULL, 0, S));
  CHECK_OK(mlx_broadcast_to(&bc, p78, s32, 2, S));
  int64_t st[2] = {-1, -1}, sp[2] = {INT64_MIN, INT64_MIN}, stp[2] = {-1, -1};
  CHECK_OK(mlx_slice(&rv, x, st, sp, stp, 2, S));
  CHECK_OK(mlx_transpose(&rvt, rv, NULL, 0, S));
  mlx_array pieces[3] = {xt, bc, rvt};
  CHECK_OK(mlx_concatenate(&r, pieces, 3, 1, S));
  VALUES(r, 0, 3, 7, 8, 5, 2, 1, 4, 7, 8, 4, 1, 2, 5, 7, 8, 3, 0);
  /* Empty pieces. */
  mlx_array e = iota2(0, 3), ex[3] = {e, x, e};
  CHECK_OK(mlx_concatenate(&r, ex, 3, 0, S));
  SHAPE_IS(r, 2, 3);
  VALUES(r, 0, 1, 2, 3, 4, 5);
  mlx_array ee[2] = {e, e};
  CHECK_OK(mlx_concatenate(&r, ee, 2, 0, S));
  SHAPE_IS(r, 0, 3);
  CHECK_OK(mlx_eval(&r, 1));
  /* Errors (upstream): shapes, ranks, no arrays, scalars, axis. */
  mlx_array z = iota2(2, 4), z3 = mlx_array_new(), sc = mlx_array_new();
  int64_t s231[3] = {2, 3, 1};
  CHECK_OK(mlx_reshape(&z3, x, s231, 3, S));
  mlx_array bad1[2] = {x, z}, bad2[2] = {x, z3};
  CHECK_ERR(mlx_concatenate(&r, bad1, 2, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_concatenate(&r, bad2, 2, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_concatenate(&r, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_concatenate(&r, xx, 2, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_array_new_int(&sc, 1, MLX_INT32));
  mlx_array scs[2] = {sc, sc};
  CHECK_ERR(mlx_concatenate(&r, scs, 2, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {x, y, r, xt, bc, rv, rvt, p78, e, z, z3, sc};
  free_all(arr, 12);
}

TEST(concatenate_promotes) {
  /* mlx: int32 + float16 -> float16; uint8 + int8 -> int16. */
  int64_t sh[2] = {2, 3};
  mlx_array a = iota(MLX_INT32, sh, 2), h = iota(MLX_FLOAT16, sh, 2), r = mlx_array_new();
  mlx_array ah[2] = {a, h};
  CHECK_OK(mlx_concatenate(&r, ah, 2, 0, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT16);
  VALUES(r, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5);
  mlx_array u = iota(MLX_UINT8, sh, 2), i8 = iota(MLX_INT8, sh, 2);
  mlx_array ui[2] = {u, i8};
  CHECK_OK(mlx_concatenate(&r, ui, 2, 1, S));
  CHECK(mlx_array_dtype(r) == MLX_INT16);
  VALUES(r, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5);
  mlx_array b = iota(MLX_BOOL, sh, 2), c = iota(MLX_COMPLEX64, sh, 2);
  mlx_array bc[2] = {b, c};
  CHECK_OK(mlx_concatenate(&r, bc, 2, 0, S));
  CHECK(mlx_array_dtype(r) == MLX_COMPLEX64);
  VALUES(r, 0, 1, 1, 1, 1, 1, 0, 1, 2, 3, 4, 5);
  mlx_array arr[] = {a, h, r, u, i8, b, c};
  free_all(arr, 7);
}

/* Every dtype: concatenate a (2,2) and a transposed (2,1)... along 1 and
 * along 0, so both contiguous and strided copies run for each itemsize. */
TEST(concatenate_every_dtype) {
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++) {
    int64_t s22[2] = {2, 2}, s12[2] = {1, 2};
    mlx_array a = iota((mlx_dtype)dt, s22, 2), b0 = iota((mlx_dtype)dt, s12, 2), b = mlx_array_new(),
              r = mlx_array_new(), r0 = mlx_array_new();
    CHECK_OK(mlx_transpose(&b, b0, NULL, 0, S)); /* (2,1): [[0],[1]] */
    mlx_array ab[2] = {a, b};
    CHECK_OK(mlx_concatenate(&r, ab, 2, 1, S));
    CHECK(mlx_array_dtype(r) == (mlx_dtype)dt);
    double e[6] = {0, 1, 0, 2, 3, 1};
    double e0[6] = {0, 1, 2, 3, 0, 1};
    if (dt == MLX_BOOL)
      for (int i = 0; i < 6; i++) {
        e[i] = e[i] != 0;
        e0[i] = e0[i] != 0;
      }
    CHECK_VALUES(r, e, 6, 0);
    mlx_array ab0[2] = {a, b0};
    CHECK_OK(mlx_concatenate(&r0, ab0, 2, 0, S));
    CHECK_VALUES(r0, e0, 6, 0);
    mlx_array arr[] = {a, b0, b, r, r0};
    free_all(arr, 5);
  }
}

TEST(stack) {
  int64_t s23[2] = {2, 3};
  mlx_array x = iota2(2, 3), y = iota_from(MLX_FLOAT32, s23, 2, 10), r = mlx_array_new();
  mlx_array xy[2] = {x, y};
  CHECK_OK(mlx_stack(&r, xy, 2, 1, S));
  SHAPE_IS(r, 2, 2, 3);
  VALUES(r, 0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15); /* mlx */
  CHECK_OK(mlx_stack(&r, xy, 2, -1, S));
  SHAPE_IS(r, 2, 3, 2);
  VALUES(r, 0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15);
  CHECK_OK(mlx_stack(&r, xy, 2, 0, S));
  SHAPE_IS(r, 2, 2, 3);
  /* One array: a view with a new axis. */
  CHECK_OK(mlx_stack(&r, &x, 1, 0, S));
  SHAPE_IS(r, 1, 2, 3);
  CHECK(inside(r, x));
  mlx_array s1 = mlx_array_new(), s2 = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&s1, 1, MLX_INT32));
  CHECK_OK(mlx_array_new_float(&s2, 2.5, MLX_FLOAT32));
  mlx_array ss[2] = {s1, s2};
  CHECK_OK(mlx_stack(&r, ss, 2, 0, S));
  SHAPE_IS(r, 2);
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  VALUES(r, 1, 2.5);
  mlx_array z = iota2(3, 2), bad[2] = {x, z};
  CHECK_ERR(mlx_stack(&r, NULL, 0, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array holes[2] = {x, mlx_array_new()};
  CHECK_ERR(mlx_stack(&r, holes, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_concatenate(&r, holes, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_repeat(&r, holes[1], 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_stack(&r, bad, 2, 0, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_stack(&r, xy, 2, 3, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {x, y, r, s1, s2, z};
  free_all(arr, 6);
}

TEST(split) {
  mlx_array x = iota2(2, 3), res[4] = {{0}};
  int64_t i12[2] = {1, 2};
  CHECK_OK(mlx_split(res, x, i12, 2, 1, S));
  SHAPE_IS(res[0], 2, 1);
  VALUES(res[0], 0, 3);
  VALUES(res[1], 1, 4);
  VALUES(res[2], 2, 5);
  for (int i = 0; i < 3; i++) CHECK(inside(res[i], x));
  /* Unsorted and out-of-range indices follow slice clamping (mlx):
   * [2,1] -> widths 2, 0, 2; [1,5] -> 1, 2, 0; [-1] -> 2, 1. */
  int64_t i21[2] = {2, 1};
  CHECK_OK(mlx_split(res, x, i21, 2, 1, S));
  SHAPE_IS(res[0], 2, 2);
  SHAPE_IS(res[1], 2, 0);
  SHAPE_IS(res[2], 2, 2);
  VALUES(res[2], 1, 2, 4, 5);
  CHECK_OK(mlx_eval(res, 3));
  int64_t i15[2] = {1, 5};
  CHECK_OK(mlx_split(res, x, i15, 2, -1, S));
  SHAPE_IS(res[1], 2, 2);
  SHAPE_IS(res[2], 2, 0);
  VALUES(res[1], 1, 2, 4, 5);
  int64_t im1 = -1;
  CHECK_OK(mlx_split(res, x, &im1, 1, 1, S));
  SHAPE_IS(res[0], 2, 2);
  SHAPE_IS(res[1], 2, 1);
  VALUES(res[1], 2, 5);
  CHECK_OK(mlx_split(res, x, NULL, 0, 1, S));
  CHECK(mlx_array_is_same(res[0], x));
  /* A sibling dropped before evaluation: the others still come out. */
  CHECK_OK(mlx_split(res, x, i12, 2, 1, S));
  mlx_array_free(res[0]);
  res[0] = mlx_array_new();
  VALUES(res[2], 2, 5);
  VALUES(res[1], 1, 4);
  /* Split of a transposed view along its first axis. */
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, x, NULL, 0, S)); /* [[0,3],[1,4],[2,5]] */
  int64_t one = 1;
  CHECK_OK(mlx_split(res, t, &one, 1, 0, S));
  VALUES(res[0], 0, 3);
  VALUES(res[1], 1, 4, 2, 5);
  CHECK(inside(res[1], x));

  CHECK_OK(mlx_split_equal(res, x, 3, 1, S));
  VALUES(res[0], 0, 3);
  VALUES(res[2], 2, 5);
  CHECK_OK(mlx_split_equal(res, x, 2, 0, S));
  VALUES(res[1], 3, 4, 5);
  CHECK_OK(mlx_split_equal(res, x, 1, 0, S));
  CHECK(mlx_array_is_same(res[0], x));
  mlx_array e = iota2(0, 2);
  CHECK_OK(mlx_split_equal(res, e, 2, 0, S));
  SHAPE_IS(res[1], 0, 2);
  CHECK_OK(mlx_eval(res, 2));
  CHECK_ERR(mlx_split_equal(res, x, 2, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_split_equal(res, x, 0, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_split_equal(res, x, -1, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_split_equal(res, x, 1, 2, S), MLX_ERROR_ARGUMENT);
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&sc, 1, MLX_INT32));
  CHECK_ERR(mlx_split(res, sc, i12, 2, 0, S), MLX_ERROR_ARGUMENT);
  free_all(res, 4);
  mlx_array arr[] = {x, t, e, sc};
  free_all(arr, 4);
}

TEST(pad_constant) {
  int64_t sh[2] = {2, 3};
  mlx_array x = iota(MLX_INT32, sh, 2), r = mlx_array_new(), v = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&v, -1, MLX_INT32));
  int axes[2] = {0, 1};
  int64_t lo[2] = {1, 2}, hi[2] = {0, 1};
  CHECK_OK(mlx_pad(&r, x, axes, lo, hi, 2, v, "constant", S));
  SHAPE_IS(r, 3, 6);
  VALUES(r, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 2, -1, -1, -1, 3, 4, 5, -1); /* mlx */
  /* Float pad value cast to the array's dtype (mlx: 2.5 -> 2). */
  CHECK_OK(mlx_array_new_float(&v, 2.5, MLX_FLOAT32));
  int64_t l1[2] = {1, 1};
  CHECK_OK(mlx_pad(&r, x, axes, l1, l1, 2, v, "constant", S));
  CHECK(mlx_array_dtype(r) == MLX_INT32);
  VALUES(r, 2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 3, 4, 5, 2, 2, 2, 2, 2, 2);
  /* One axis only, negative axis, transposed input. */
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, x, NULL, 0, S)); /* [[0,3],[1,4],[2,5]] */
  int ax = -1;
  int64_t l0 = 0, h2 = 2;
  CHECK_OK(mlx_pad(&r, t, &ax, &l0, &h2, 1, v, "constant", S));
  SHAPE_IS(r, 3, 4);
  VALUES(r, 0, 3, 2, 2, 1, 4, 2, 2, 2, 5, 2, 2);
  /* Empty input padded: all pad value (mlx: zeros((0,3)) by 1 on axis 0). */
  mlx_array e = iota2(0, 3), z = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&z, 0, MLX_FLOAT32));
  int a0 = 0;
  int64_t one = 1;
  CHECK_OK(mlx_pad(&r, e, &a0, &one, &one, 1, z, "constant", S));
  SHAPE_IS(r, 2, 3);
  VALUES(r, 0, 0, 0, 0, 0, 0);
  /* No padding: the input itself. */
  int64_t zz[2] = {0, 0};
  CHECK_OK(mlx_pad(&r, x, axes, zz, zz, 2, v, "constant", S));
  CHECK(mlx_array_is_same(r, x));
  /* Errors. */
  int64_t neg[2] = {-1, 0};
  CHECK_ERR(mlx_pad(&r, x, axes, neg, zz, 2, v, "constant", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, x, axes, zz, neg, 2, v, "constant", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, x, axes, l1, l1, 2, v, "wrap", S), MLX_ERROR_ARGUMENT);
  int dup[2] = {0, -2}, oob[1] = {2};
  CHECK_ERR(mlx_pad(&r, x, dup, l1, l1, 2, v, "constant", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, x, oob, l1, l1, 1, v, "constant", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, x, axes, l1, l1, 2, mlx_array_new(), "constant", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, x, axes, l1, l1, 2, x, "constant", S), MLX_ERROR_SHAPE); /* upstream uses x[0] */
  mlx_array arr[] = {x, r, v, t, e, z};
  free_all(arr, 6);
}

TEST(pad_modes) {
  int64_t sh[2] = {2, 3};
  mlx_array x = iota(MLX_INT32, sh, 2), r = mlx_array_new(), none = mlx_array_new();
  int axes[2] = {0, 1};
  int64_t lo[2] = {1, 2}, hi[2] = {2, 1};
  CHECK_OK(mlx_pad(&r, x, axes, lo, hi, 2, none, "edge", S));
  SHAPE_IS(r, 5, 6);
  VALUES(r, 0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5, 3, 3, 3, 4, 5, 5, 3, 3, 3, 4, 5, 5); /* mlx */
  /* 3x4 arange padded ((2,4),(5,3)) (mlx). */
  int64_t s34[2] = {3, 4};
  mlx_array y = iota(MLX_INT32, s34, 2);
  int64_t l2[2] = {2, 5}, h2[2] = {4, 3};
  double refl[] = {9,  10, 11, 10, 9,  8,  9,  10, 11, 10, 9,  8,  5, 6, 7, 6, 5, 4, 5, 6, 7, 6, 5, 4,
                   1,  2,  3,  2,  1,  0,  1,  2,  3,  2,  1,  0,  5, 6, 7, 6, 5, 4, 5, 6, 7, 6, 5, 4,
                   9,  10, 11, 10, 9,  8,  9,  10, 11, 10, 9,  8,  5, 6, 7, 6, 5, 4, 5, 6, 7, 6, 5, 4,
                   1,  2,  3,  2,  1,  0,  1,  2,  3,  2,  1,  0,  5, 6, 7, 6, 5, 4, 5, 6, 7, 6, 5, 4,
                   9,  10, 11, 10, 9,  8,  9,  10, 11, 10, 9,  8};
  double symm[] = {7,  7,  6,  5,  4,  4,  5,  6,  7,  7,  6,  5,  3,  3,  2,  1,  0,  0,  1,  2,  3,  3,  2,  1,
                   3,  3,  2,  1,  0,  0,  1,  2,  3,  3,  2,  1,  7,  7,  6,  5,  4,  4,  5,  6,  7,  7,  6,  5,
                   11, 11, 10, 9,  8,  8,  9,  10, 11, 11, 10, 9,  11, 11, 10, 9,  8,  8,  9,  10, 11, 11, 10, 9,
                   7,  7,  6,  5,  4,  4,  5,  6,  7,  7,  6,  5,  3,  3,  2,  1,  0,  0,  1,  2,  3,  3,  2,  1,
                   3,  3,  2,  1,  0,  0,  1,  2,  3,  3,  2,  1};
  CHECK_OK(mlx_pad(&r, y, axes, l2, h2, 2, none, "reflect", S));
  SHAPE_IS(r, 9, 12);
  CHECK_VALUES(r, refl, 108, 0);
  CHECK_OK(mlx_pad(&r, y, axes, l2, h2, 2, none, "symmetric", S));
  CHECK_VALUES(r, symm, 108, 0);
  /* 1-D cases (mlx): [1] and [1,2] padded (3,1) and (0,2). */
  struct {
    int64_t n, lo, hi;
    const char* mode;
    double e[6];
  } c[] = {
      {1, 3, 1, "edge", {1, 1, 1, 1, 1}},      {2, 0, 2, "edge", {1, 2, 2, 2}},
      {2, 3, 1, "edge", {1, 1, 1, 1, 2, 2}},   {1, 3, 1, "reflect", {1, 1, 1, 1, 1}},
      {2, 0, 2, "reflect", {1, 2, 1, 2}},      {2, 3, 1, "reflect", {2, 1, 2, 1, 2, 1}},
      {1, 0, 2, "symmetric", {1, 1, 1}},       {2, 0, 2, "symmetric", {1, 2, 2, 1}},
      {2, 3, 1, "symmetric", {2, 2, 1, 1, 2, 2}},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    mlx_array a1 = iota_from(MLX_FLOAT32, &c[i].n, 1, 1);
    int ax = 0;
    CHECK_OK(mlx_pad(&r, a1, &ax, &c[i].lo, &c[i].hi, 1, none, c[i].mode, S));
    CHECK_VALUES(r, c[i].e, (int)(c[i].n + c[i].lo + c[i].hi), 0);
    mlx_array_free(a1);
  }
  /* A padded empty axis is an error for these modes (upstream: reflect
   * and symmetric; edge too here, as NumPy). An empty axis not padded is
   * fine. */
  mlx_array e = iota2(0, 3);
  int64_t l10[2] = {1, 0}, z00[2] = {0, 0}, l01[2] = {0, 1};
  CHECK_ERR(mlx_pad(&r, e, axes, l10, z00, 2, none, "reflect", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, e, axes, l10, z00, 2, none, "symmetric", S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_pad(&r, e, axes, l10, z00, 2, none, "edge", S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_pad(&r, e, axes, z00, l01, 2, none, "reflect", S));
  SHAPE_IS(r, 0, 4);
  CHECK_OK(mlx_eval(&r, 1));
  mlx_array arr[] = {x, r, y, e};
  free_all(arr, 4);
}

/* pad per itemsize, on a negative-stride view, edge and constant. */
TEST(pad_dtypes) {
  mlx_dtype dts[] = {MLX_BOOL, MLX_INT8, MLX_FLOAT16, MLX_BFLOAT16, MLX_UINT32, MLX_FLOAT64, MLX_COMPLEX64};
  for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
    int64_t n = 4;
    mlx_array a = iota(dts[i], &n, 1), rv = mlx_array_new(), r = mlx_array_new(), v = mlx_array_new();
    int64_t st = -1, sp = INT64_MIN, stp = -1; /* [3,2,1,0] */
    CHECK_OK(mlx_slice(&rv, a, &st, &sp, &stp, 1, S));
    CHECK_OK(mlx_array_new_float(&v, 7, MLX_FLOAT64));
    int ax = 0;
    int64_t lo = 2, hi = 1;
    CHECK_OK(mlx_pad(&r, rv, &ax, &lo, &hi, 1, v, "constant", S));
    CHECK(mlx_array_dtype(r) == dts[i]);
    double e1[7] = {7, 7, 3, 2, 1, 0, 7}, e2[7] = {3, 3, 3, 2, 1, 0, 0};
    if (dts[i] == MLX_BOOL)
      for (int k = 0; k < 7; k++) {
        e1[k] = e1[k] != 0;
        e2[k] = e2[k] != 0;
      }
    CHECK_VALUES(r, e1, 7, 0);
    CHECK_OK(mlx_pad(&r, rv, &ax, &lo, &hi, 1, v, "edge", S));
    CHECK_VALUES(r, e2, 7, 0);
    mlx_array arr[] = {a, rv, r, v};
    free_all(arr, 4);
  }
}

TEST(tile) {
  int64_t sh[2] = {2, 3};
  mlx_array x = iota(MLX_INT32, sh, 2), r = mlx_array_new();
  int64_t r2 = 2;
  CHECK_OK(mlx_tile(&r, x, &r2, 1, S));
  SHAPE_IS(r, 2, 6);
  VALUES(r, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5); /* mlx */
  int64_t r212[3] = {2, 1, 2};
  CHECK_OK(mlx_tile(&r, x, r212, 3, S));
  SHAPE_IS(r, 2, 2, 6);
  VALUES(r, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5); /* mlx */
  int64_t r02[2] = {0, 2};
  CHECK_OK(mlx_tile(&r, x, r02, 2, S));
  SHAPE_IS(r, 0, 6);
  CHECK_OK(mlx_eval(&r, 1));
  CHECK_OK(mlx_tile(&r, x, NULL, 0, S));
  CHECK(mlx_array_is_same(r, x));
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&sc, 5, MLX_INT32));
  int64_t r3 = 3;
  CHECK_OK(mlx_tile(&r, sc, &r3, 1, S));
  SHAPE_IS(r, 3);
  VALUES(r, 5, 5, 5);
  /* Of a transposed view (tile([[0,3],[1,4],[2,5]], (1,2))). */
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, x, NULL, 0, S));
  int64_t r12[2] = {1, 2};
  CHECK_OK(mlx_tile(&r, t, r12, 2, S));
  VALUES(r, 0, 3, 0, 3, 1, 4, 1, 4, 2, 5, 2, 5);
  int64_t rn[2] = {-1, 2};
  CHECK_ERR(mlx_tile(&r, x, rn, 2, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {x, r, sc, t};
  free_all(arr, 4);
}

TEST(repeat) {
  int64_t sh[2] = {2, 3};
  mlx_array x = iota(MLX_INT32, sh, 2), r = mlx_array_new();
  CHECK_OK(mlx_repeat(&r, x, 2, 1, S));
  SHAPE_IS(r, 2, 6);
  VALUES(r, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5); /* mlx */
  CHECK_OK(mlx_repeat(&r, x, 3, 0, S));
  SHAPE_IS(r, 6, 3);
  VALUES(r, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5); /* mlx */
  CHECK_OK(mlx_repeat_all(&r, x, 2, S));
  SHAPE_IS(r, 12);
  VALUES(r, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5); /* mlx */
  CHECK_OK(mlx_repeat(&r, x, 0, 1, S));
  SHAPE_IS(r, 2, 0); /* mlx 0.32 */
  CHECK_OK(mlx_eval(&r, 1));
  CHECK_OK(mlx_repeat_all(&r, x, 0, S));
  SHAPE_IS(r, 0);
  CHECK_OK(mlx_repeat(&r, x, 1, 1, S));
  CHECK(mlx_array_is_same(r, x));
  mlx_array sc = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&sc, 4, MLX_INT32));
  CHECK_OK(mlx_repeat_all(&r, sc, 3, S));
  SHAPE_IS(r, 3);
  VALUES(r, 4, 4, 4);
  CHECK_ERR(mlx_repeat(&r, sc, 3, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_repeat(&r, x, -1, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_repeat(&r, x, 2, 2, S), MLX_ERROR_ARGUMENT);
  mlx_array arr[] = {x, r, sc};
  free_all(arr, 3);
}

/* The layout flags kernels rely on, for strides views produce. */
TEST(layout_flags) {
  int64_t ds;
  int64_t sh1[1] = {5}, neg[1] = {-1};
  CHECK(mlx_layout_flags_(sh1, neg, 1, &ds) == 0);
  CHECK(ds == 5);
  /* Broadcast next to a gap spans 4 elements but is not dense. */
  int64_t sh2[2] = {2, 2}, gap[2] = {0, 3};
  CHECK(!(mlx_layout_flags_(sh2, gap, 2, &ds) & MLX_FLAG_CONTIG));
  /* A permutation of a dense layout is dense; overlapping strides are not. */
  int64_t sh3[3] = {2, 3, 4}, perm[3] = {1, 8, 2}, ovl[3] = {1, 1, 5};
  CHECK(mlx_layout_flags_(sh3, perm, 3, &ds) == MLX_FLAG_CONTIG);
  CHECK(ds == 24);
  int64_t sh4[3] = {2, 2, 2};
  CHECK(!(mlx_layout_flags_(sh4, ovl, 3, &ds) & MLX_FLAG_CONTIG));
  int64_t sh5[2] = {2, 3}, rowm[2] = {3, 1}, colm[2] = {1, 2};
  CHECK(mlx_layout_flags_(sh5, rowm, 2, &ds) == (MLX_FLAG_ROW_CONTIG | MLX_FLAG_CONTIG));
  CHECK(mlx_layout_flags_(sh5, colm, 2, &ds) == (MLX_FLAG_COL_CONTIG | MLX_FLAG_CONTIG));
  /* Unit dims do not matter, whatever their stride. */
  int64_t sh6[3] = {1, 3, 1}, u[3] = {-7, 1, 0};
  CHECK(mlx_layout_flags_(sh6, u, 3, &ds) == (MLX_FLAG_ROW_CONTIG | MLX_FLAG_COL_CONTIG | MLX_FLAG_CONTIG));
}

/* Transposed sources large enough for the tiled copy, per itemsize, with
 * a reversed (stride -1) source too: t = x.T (45,70) has t[i][j] =
 * 45j + i; r = t[::-1] has r[i][j] = 45j + 44 - i. concatenate [t, r]
 * along 0. uint8 uses a (20,12) x to stay below 256. */
TEST(tiled_copies) {
  mlx_dtype dts[] = {MLX_UINT8, MLX_INT16, MLX_FLOAT32, MLX_FLOAT64, MLX_COMPLEX64};
  for (size_t k = 0; k < sizeof dts / sizeof dts[0]; k++) {
    int64_t R = dts[k] == MLX_UINT8 ? 20 : 70, C = dts[k] == MLX_UINT8 ? 12 : 45;
    int64_t sh[2] = {R, C};
    mlx_array x = iota(dts[k], sh, 2), t = mlx_array_new(), r = mlx_array_new(), c = mlx_array_new();
    CHECK_OK(mlx_transpose(&t, x, NULL, 0, S));
    int64_t st[2] = {-1, 0}, sp[2] = {INT64_MIN, R}, stp[2] = {-1, 1};
    CHECK_OK(mlx_slice(&r, t, st, sp, stp, 2, S));
    mlx_array tr[2] = {t, r};
    CHECK_OK(mlx_concatenate(&c, tr, 2, 0, S));
    double* e = malloc(sizeof(double) * (size_t)(2 * R * C));
    for (int64_t i = 0; i < C; i++)
      for (int64_t j = 0; j < R; j++) {
        e[i * R + j] = (double)(j * C + i);
        e[(C + i) * R + j] = (double)(j * C + C - 1 - i);
      }
    CHECK_VALUES(c, e, (int)(2 * R * C), 0);
    free(e);
    mlx_array arr[] = {x, t, r, c};
    free_all(arr, 4);
  }
}

/* Big enough for the thread pool: every element checked against its
 * formula. */
TEST(large_copies) {
  int64_t R = 1000, C = 700;
  int64_t sh[2] = {R, C};
  mlx_array a = iota(MLX_INT32, sh, 2), t = mlx_array_new(), f = mlx_array_new(), c = mlx_array_new(),
            p = mlx_array_new(), v = mlx_array_new();
  /* reshape of a transpose: a copy. flat[k] = a[k % R][k / R]. */
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
  int64_t n = R * C;
  CHECK_OK(mlx_reshape(&f, t, &n, 1, S));
  int32_t* buf = malloc(sizeof(int32_t) * (size_t)(3 * n));
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * (size_t)n, f));
  int bad = 0;
  for (int64_t k = 0; k < n; k++) bad += buf[k] != (int32_t)((k % R) * C + k / R);
  CHECK(bad == 0);
  /* concatenate [a, a.T.T-as-transpose-pair] along 1: (R, 2C). */
  mlx_array tt = mlx_array_new();
  CHECK_OK(mlx_transpose(&tt, t, NULL, 0, S));
  mlx_array pair[2] = {a, tt};
  CHECK_OK(mlx_concatenate(&c, pair, 2, 1, S));
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * (size_t)(2 * n), c));
  bad = 0;
  for (int64_t i = 0; i < R; i++)
    for (int64_t j = 0; j < 2 * C; j++) bad += buf[i * 2 * C + j] != (int32_t)(i * C + j % C);
  CHECK(bad == 0);
  /* One long row: concatenate two (1, n) along 1. */
  int64_t s1n[2] = {1, n};
  mlx_array row = mlx_array_new(), rr = mlx_array_new();
  CHECK_OK(mlx_reshape(&row, a, s1n, 2, S));
  mlx_array rows[2] = {row, row};
  CHECK_OK(mlx_concatenate(&rr, rows, 2, 1, S));
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * (size_t)(2 * n), rr));
  bad = 0;
  for (int64_t k = 0; k < 2 * n; k++) bad += buf[k] != (int32_t)(k % n);
  CHECK(bad == 0);
  /* reflect-pad the transpose by (3, 2) on both axes. */
  CHECK_OK(mlx_array_new_int(&v, 0, MLX_INT32));
  int axes[2] = {0, 1};
  int64_t lo[2] = {3, 3}, hi[2] = {2, 2};
  CHECK_OK(mlx_pad(&p, t, axes, lo, hi, 2, v, "reflect", S));
  int64_t PR = C + 5, PC = R + 5;
  CHECK(mlx_array_dim(p, 0) == PR && mlx_array_dim(p, 1) == PC);
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * (size_t)(PR * PC), p));
  bad = 0;
  for (int64_t i = 0; i < PR; i++)
    for (int64_t j = 0; j < PC; j++) {
      int64_t si = i - 3, sj = j - 3;
      si = si < 0 ? -si : si >= C ? 2 * (C - 1) - si : si;
      sj = sj < 0 ? -sj : sj >= R ? 2 * (R - 1) - sj : sj;
      bad += buf[i * PC + j] != (int32_t)(sj * C + si); /* t[si][sj] = a[sj][si] */
    }
  CHECK(bad == 0);
  /* repeat and tile of a (300, 200): reshapes of broadcast views with
   * short rows. */
  int64_t s2[2] = {300, 200};
  mlx_array m = iota(MLX_INT32, s2, 2), rp = mlx_array_new(), tl = mlx_array_new();
  CHECK_OK(mlx_repeat(&rp, m, 3, 1, S));
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * 300 * 600, rp));
  bad = 0;
  for (int64_t i = 0; i < 300; i++)
    for (int64_t j = 0; j < 600; j++) bad += buf[i * 600 + j] != (int32_t)(i * 200 + j / 3);
  CHECK(bad == 0);
  int64_t reps[2] = {2, 2};
  CHECK_OK(mlx_tile(&tl, m, reps, 2, S));
  CHECK_OK(mlx_array_copy_to(buf, sizeof(int32_t) * 600 * 400, tl));
  bad = 0;
  for (int64_t i = 0; i < 600; i++)
    for (int64_t j = 0; j < 400; j++) bad += buf[i * 400 + j] != (int32_t)((i % 300) * 200 + j % 200);
  CHECK(bad == 0);
  free(buf);
  mlx_array arr[] = {a, t, f, c, p, v, tt, row, rr, m, rp, tl};
  free_all(arr, 12);
}

int main(void) {
  RUN(reshape);
  RUN(reshape_of_strided_views);
  RUN(flatten_unflatten);
  RUN(transpose_values_and_views);
  RUN(transpose_every_dtype);
  RUN(moveaxis_swapaxes);
  RUN(squeeze_expand_dims);
  RUN(broadcast_to);
  RUN(slice);
  RUN(view_chains);
  RUN(concatenate);
  RUN(concatenate_promotes);
  RUN(concatenate_every_dtype);
  RUN(stack);
  RUN(split);
  RUN(pad_constant);
  RUN(pad_modes);
  RUN(pad_dtypes);
  RUN(tile);
  RUN(repeat);
  RUN(layout_flags);
  RUN(tiled_copies);
  RUN(large_copies);
  return harness_report();
}
