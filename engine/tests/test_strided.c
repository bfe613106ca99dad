/* Strided views: as_strided, view, diagonal, diag, trace. Expected values
 * are hand-computed or printed once with Python mlx 0.32.4 (marked "mlx");
 * transform rules are checked against finite differences and loops. */
#include "gradcheck.h"

static unsigned seed_state = 11;

static mlx_array rnd(const int64_t* shape, int ndim) {
  mlx_array z = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  mlx_array r = gc_random_like(z, &seed_state);
  mlx_array_free(z);
  return r;
}
#define RND(...) rnd((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

/* arange(n) as float32 reshaped to shape. */
static mlx_array iota(const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  mlx_array r = mlx_array_new(), a = mlx_array_new();
  mlx_arange(&a, 0, (double)n, 1, MLX_FLOAT32, S);
  mlx_reshape(&r, a, shape, ndim, S);
  mlx_array_free(a);
  return r;
}
#define IOTA(...) iota((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

TEST(as_strided_values) {
  mlx_array a = IOTA(2, 3), t = mlx_array_new(), r = mlx_array_new();
  /* Windows of length 2 over [0..5]: overlapping reads. */
  CHECK_OK(mlx_as_strided(&r, a, (int64_t[]){5, 2}, 2, (int64_t[]){1, 1}, 2, 0, S));
  double w[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5};
  CHECK_VALUES(r, w, 10, 0);
  /* A transposed input is read in its row-major order (mlx: [0,3,1,4,2,5]). */
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
  CHECK_OK(mlx_as_strided(&r, t, (int64_t[]){6}, 1, (int64_t[]){1}, 1, 0, S));
  double wt[] = {0, 3, 1, 4, 2, 5};
  CHECK_VALUES(r, wt, 6, 0);
  /* Offset and a negative stride. */
  CHECK_OK(mlx_as_strided(&r, a, (int64_t[]){3}, 1, (int64_t[]){-2}, 1, 5, S));
  double wn[] = {5, 3, 1};
  CHECK_VALUES(r, wn, 3, 0);
  /* Empty shapes reach nothing. */
  CHECK_OK(mlx_as_strided(&r, a, (int64_t[]){0, 4}, 2, (int64_t[]){100, 100}, 2, 0, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  /* Out of bounds (upstream reads garbage; we refuse). */
  CHECK_ERR(mlx_as_strided(&r, a, (int64_t[]){3}, 1, (int64_t[]){2}, 1, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_as_strided(&r, a, (int64_t[]){3}, 1, (int64_t[]){-1}, 1, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_as_strided(&r, a, (int64_t[]){3}, 1, (int64_t[]){1, 1}, 2, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array_free(a);
  mlx_array_free(t);
  mlx_array_free(r);
}

TEST(view_values) {
  mlx_array a = mlx_array_new(), r = mlx_array_new(), s = mlx_array_new();
  int8_t bytes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  CHECK_OK(mlx_array_new_data(&a, bytes, (int64_t[]){8}, 1, MLX_INT8));
  CHECK_OK(mlx_view(&r, a, MLX_INT32, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_ndim(r) == 1 && mlx_array_dim(r, 0) == 2);
  int32_t words[2];
  CHECK_OK(mlx_array_copy_to(words, sizeof words, r));
  CHECK(words[0] == 50462976 && words[1] == 117835012); /* mlx */
  /* Smaller dtype: the last axis grows. */
  CHECK_OK(mlx_view(&s, r, MLX_INT16, S));
  CHECK_OK(mlx_eval(&s, 1));
  CHECK(mlx_array_dim(s, 0) == 4);
  /* A slice at an odd byte offset is copied, not misaligned. */
  int64_t st = 1, sp = 5, step = 1;
  CHECK_OK(mlx_slice(&s, a, &st, &sp, &step, 1, S));
  CHECK_OK(mlx_view(&r, s, MLX_INT32, S));
  CHECK_OK(mlx_array_copy_to(words, 4, r));
  CHECK(words[0] == (1 | 2 << 8 | 3 << 16 | 4 << 24));
  /* float32 bits (mlx: 1.0 -> 1065353216). */
  float f[2] = {1.0f, 2.0f};
  mlx_array fa = arr_f32(f, (int64_t[]){2}, 1);
  CHECK_OK(mlx_view(&r, fa, MLX_UINT32, S));
  uint32_t u[2];
  CHECK_OK(mlx_array_copy_to(u, sizeof u, r));
  CHECK(u[0] == 1065353216u && u[1] == 1073741824u);
  /* Errors as upstream. */
  int8_t three[3] = {1, 2, 3};
  CHECK_OK(mlx_array_new_data(&a, three, (int64_t[]){3}, 1, MLX_INT8));
  CHECK_ERR(mlx_view(&r, a, MLX_INT32, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_array_new_int(&a, 1, MLX_INT8));
  CHECK_ERR(mlx_view(&r, a, MLX_INT32, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_view(&r, a, MLX_UINT8, S));
  mlx_array_free(fa);
  mlx_array_free(a);
  mlx_array_free(r);
  mlx_array_free(s);
}

TEST(diagonal_values) {
  mlx_array a = IOTA(3, 4), b = IOTA(2, 3, 4), r = mlx_array_new();
  CHECK_OK(mlx_diagonal(&r, a, 1, 0, 1, S));
  double w1[] = {1, 6, 11}; /* mlx */
  CHECK_VALUES(r, w1, 3, 0);
  CHECK_OK(mlx_diagonal(&r, a, -1, 0, 1, S));
  double w2[] = {4, 9};
  CHECK_VALUES(r, w2, 2, 0);
  /* 3-D over axes (0, 2): shape (3, 2). */
  CHECK_OK(mlx_diagonal(&r, b, 0, 0, 2, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_dim(r, 0) == 3 && mlx_array_dim(r, 1) == 2);
  double w3[] = {0, 13, 4, 17, 8, 21};
  CHECK_VALUES(r, w3, 6, 0);
  /* Swapped axes and an offset that misses: shape (4, 0). */
  CHECK_OK(mlx_diagonal(&r, b, 5, 0, 1, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_dim(r, 0) == 4 && mlx_array_dim(r, 1) == 0);
  CHECK_ERR(mlx_diagonal(&r, b, 0, 0, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_diagonal(&r, b, 0, 0, 3, S), MLX_ERROR_ARGUMENT);
  mlx_array v = IOTA(3);
  CHECK_ERR(mlx_diagonal(&r, v, 0, 0, 1, S), MLX_ERROR_ARGUMENT);
  /* diag of a vector (mlx: k = -1 gives a 3x3 with 0, 1 below). */
  mlx_array v2 = IOTA(2);
  CHECK_OK(mlx_diag(&r, v2, -1, S));
  double w4[] = {0, 0, 0, 1, 0, 0, 0, 2, 0};
  /* v2 = [0, 1]: row 1 col 0 = 0, row 2 col 1 = 1. */
  w4[3] = 0;
  w4[7] = 1;
  CHECK_VALUES(r, w4, 9, 0);
  CHECK_OK(mlx_diag(&r, v, 1, S));
  double w5[16] = {0};
  w5[1] = 0, w5[6] = 1, w5[11] = 2;
  CHECK_VALUES(r, w5, 16, 0);
  CHECK_OK(mlx_diag(&r, a, 0, S));
  double w6[] = {0, 5, 10};
  CHECK_VALUES(r, w6, 3, 0);
  CHECK_ERR(mlx_diag(&r, b, 0, S), MLX_ERROR_ARGUMENT);
  /* diag keeps infinities off the diagonal out (no 0 * inf). */
  float inf2[2] = {INFINITY, 1};
  mlx_array vi = arr_f32(inf2, (int64_t[]){2}, 1);
  CHECK_OK(mlx_diag(&r, vi, 0, S));
  double w7[] = {INFINITY, 0, 0, 1};
  CHECK_VALUES(r, w7, 4, 0);
  /* trace: sum's dtype unless one is given (mlx: 15 for arange(12) 3x4). */
  CHECK_OK(mlx_trace(&r, a, 0, 0, 1, 0, MLX_FLOAT32, S));
  double w8[] = {15};
  CHECK_VALUES(r, w8, 1, 0);
  mlx_array ai = mlx_array_new();
  CHECK_OK(mlx_astype(&ai, a, MLX_UINT8, S));
  CHECK_OK(mlx_trace(&r, ai, 0, 0, 1, 0, MLX_FLOAT32, S));
  CHECK(mlx_array_dtype(r) == MLX_UINT32);
  CHECK_OK(mlx_trace(&r, a, 1, 0, 1, 1, MLX_INT32, S));
  CHECK(mlx_array_dtype(r) == MLX_INT32);
  double w9[] = {18};
  CHECK_VALUES(r, w9, 1, 0);
  mlx_array_free(ai);
  mlx_array_free(vi);
  mlx_array_free(v);
  mlx_array_free(v2);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(r);
}

/* ---- transform rules ------------------------------------------------------ */

typedef struct {
  int ndim;
  int64_t shape[4], strides[4], offset;
} strided_ctx;

static int fn_as_strided(mlx_array* out, const mlx_array* in, void* ctx) {
  strided_ctx* c = ctx;
  return mlx_as_strided(out, in[0], c->shape, c->ndim, c->strides, (size_t)c->ndim, c->offset, S);
}

typedef struct {
  int64_t offset;
  int ax1, ax2;
} diag_ctx;

static int fn_diagonal(mlx_array* out, const mlx_array* in, void* ctx) {
  diag_ctx* c = ctx;
  return mlx_diagonal(out, in[0], c->offset, c->ax1, c->ax2, S);
}

static int fn_diag(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_diag(out, in[0], *(int64_t*)ctx, S);
}

static int fn_trace(mlx_array* out, const mlx_array* in, void* ctx) {
  diag_ctx* c = ctx;
  return mlx_trace(out, in[0], c->offset, c->ax1, c->ax2, 0, MLX_FLOAT64, S);
}

static int fn_view_bits(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_view(out, in[0], MLX_UINT32, S);
}

TEST(rules) {
  mlx_array x = RND(2, 3), y = RND(3, 4, 5), v = RND(4), z = RND(2, 3, 4, 5);
  strided_ctx win = {2, {4, 3}, {1, 1}, 0};
  mlx_array flat = RND(6);
  check_grad("as_strided windows", fn_as_strided, &win, &flat, 1);
  strided_ctx neg = {2, {2, 2}, {-1, 3}, 2};
  check_grad("as_strided negative", fn_as_strided, &neg, &x, 1);
  int ax0 = 0, ax1 = 1;
  strided_ctx w2 = {1, {2}, {2}, 0};
  check_vmap("as_strided vmap axis 0", fn_as_strided, &w2, &x, &ax0, 1);
  check_vmap("as_strided vmap axis 1", fn_as_strided, &w2, &y, &ax1, 1);
  diag_ctx d[] = {{0, 0, 1}, {1, 0, 1}, {-1, 0, 1}, {0, 2, 0}, {2, 1, 2}, {-2, -1, 0}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    check_grad("diagonal", fn_diagonal, &d[i], &y, 1);
    check_grad("trace", fn_trace, &d[i], &y, 1);
    check_vmap("diagonal vmap 0", fn_diagonal, &d[i], &z, &ax0, 1);
    check_vmap("diagonal vmap 1", fn_diagonal, &d[i], &z, &ax1, 1);
  }
  int64_t ks[] = {0, 2, -1};
  for (size_t i = 0; i < 3; i++) {
    check_grad("diag vector", fn_diag, &ks[i], &v, 1);
    check_grad("diag matrix", fn_diag, &ks[i], &x, 1);
  }
  mlx_array xf = mlx_array_new();
  CHECK_OK(mlx_astype(&xf, x, MLX_FLOAT32, S));
  check_vmap("view vmap", fn_view_bits, NULL, &xf, &ax1, 1);
  mlx_array_free(xf);
  mlx_array_free(flat);
  mlx_array_free(x);
  mlx_array_free(y);
  mlx_array_free(z);
  mlx_array_free(v);
}

int main(void) {
  RUN(as_strided_values);
  RUN(view_values);
  RUN(diagonal_values);
  RUN(rules);
  return harness_report();
}
