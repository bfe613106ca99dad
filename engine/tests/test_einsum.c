/* einsum and einsum_path: values printed once by Python mlx 0.32.4 (marked
 * "mlx"; inputs from pat()), paths and summaries as upstream prints them,
 * every floating dtype, views, broadcasting, diagonals, empty arrays and
 * the errors upstream raises. */
#include "harness.h"
#include "mlx/matmul.h"

/* ((i * 7 + seed) % 5) - 2 over the shape, in dtype (as the mlx values'
 * generator). */
static mlx_array pat(const int64_t* shape, int ndim, int seed, mlx_dtype dt) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 7 + seed) % 5) - 2.0;
  mlx_array d = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_data(&d, v, shape, ndim, MLX_FLOAT64);
  mlx_astype(&r, d, dt, S);
  mlx_array_free(d);
  free(v);
  return r;
}

static int shape_is(mlx_array a, const int64_t* shape, int ndim) {
  if (mlx_array_ndim(a) != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (mlx_array_shape(a)[i] != shape[i]) return 0;
  return 1;
}

typedef struct {
  const char* sub;
  int n;
  int ndims[5];
  int64_t shapes[5][4];
  int out_ndim;
  int64_t out_shape[4];
  double want[96];
} ein_case;

/* mlx: einsum(sub, pat(shape_0, 1), pat(shape_1, 2), ...) */
static const ein_case CASES[] = {
    {"ij,jk->ik", 2, {2, 2}, {{2, 3}, {3, 4}}, 2, {2, 4}, {-4, 2, 3, -6, -5, 2, 4, -4}},
    {"ii", 1, {2}, {{3, 3}}, 0, {0}, {1}},
    {"iij->j", 1, {3}, {{2, 2, 3}}, 1, {3}, {1, 0, -1}},
    {"iji->ij", 1, {3}, {{3, 2, 3}}, 2, {3, 2}, {-1, 0, -2, -1, 2, -2}},
    {"ijij->ij", 1, {4}, {{2, 3, 2, 3}}, 2, {2, 3}, {-1, -2, 2, 1, 0, -1}},
    {"ijk,jil->kl", 2, {3, 3}, {{2, 3, 4}, {3, 2, 5}}, 2, {4, 5},
     {0, -2, 1, -1, 2, 0, 2, -1, 1, -2, 0, -4, 2, -2, 4, 0, 0, 0, 0, 0}},
    {"...ij,...jk->...ik", 2, {4, 3}, {{2, 1, 3, 4}, {5, 4, 2}}, 4, {2, 5, 3, 2},
     {3, -1, -5, 5, 2, 1, 1, 2, 5, -5, -1, 3, -1, -5, 5, 0, 1, -5, 2, 3, -5, -5, 3, 2, -5, 1, 0, 5, -5, -1,
      -6, -3, 6, -2, 3, -1, -2, 6, -3, -6, 1, 2, -3, 5, -2, 5, -1, -5, 6, -6, -6, 6, 2, 3, 5, -2, 5, -3, -5, 1}},
    {"ij,jk,kl->il", 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 5}}, 2, {2, 5}, {-5, 10, 0, -10, 5, -3, 6, 0, -6, 3}},
    {"i,j,k->", 3, {1, 1, 1}, {{2}, {3}, {4}}, 0, {0}, {0}},
    {"bA,Cb", 2, {2, 2}, {{2, 3}, {3, 2}}, 2, {3, 3}, {0, 1, 2, 4, 1, -2, -2, 1, 4}},
    {"i,i", 2, {1, 1}, {{1}, {3}}, 0, {0}, {-1}},
    {"ij,ij,ij->ij", 3, {2, 2, 2}, {{2, 3}, {2, 3}, {2, 3}}, 2, {2, 3}, {0, -4, 0, 0, 4, 0}},
    {"ea,fb,abcd,gc,hd->efgh", 5, {2, 2, 4, 2, 2}, {{3, 2}, {3, 2}, {2, 2, 2, 2}, {3, 2}, {3, 2}}, 4, {3, 3, 3, 3},
     {-4, 2, -2, 4, -2, 2, -8, 4, -4, 0, 5, 10, 0, 10, 20, 0, -10, -20, 4, 8, 22, -4, 22, 38, 8, -24, -36,
      0, 8, 16, 24, -20, -4, -32, 32, 16, -8, 24, 36, 8, 6, 24, -16, 8, -8, -16, 40, 56, -8, 32, 52, 0, -16, -32,
      4, -6, -6, -16, 12, 0, 24, -20, -4, 4, -17, -28, -4, -13, -32, 8, 6, 24, 4, -28, -50, 8, -38, -64, -8, 32, 52}},
};

TEST(einsum_values) {
  const mlx_dtype dts[4] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT64};
  for (size_t c = 0; c < sizeof CASES / sizeof *CASES; c++) {
    const ein_case* e = &CASES[c];
    int64_t size = 1;
    for (int i = 0; i < e->out_ndim; i++) size *= e->out_shape[i];
    for (int d = 0; d < 4; d++) {
      mlx_array ops[5], r = mlx_array_new();
      for (int i = 0; i < e->n; i++) ops[i] = pat(e->shapes[i], e->ndims[i], i + 1, dts[d]);
      CHECK_OK(mlx_einsum(&r, e->sub, ops, (size_t)e->n, S));
      CHECK(shape_is(r, e->out_shape, e->out_ndim) && mlx_array_dtype(r) == dts[d]);
      /* bfloat16 rounds the larger intermediate sums */
      CHECK_VALUES(r, e->want, (int)size, dts[d] == MLX_BFLOAT16 ? 2e-2 : 0);
      if (harness_failures) fprintf(stderr, "  (einsum %s, dtype %d)\n", e->sub, (int)dts[d]);
      for (int i = 0; i < e->n; i++) mlx_array_free(ops[i]);
      mlx_array_free(r);
    }
  }
}

TEST(einsum_forms) {
  mlx_array r = mlx_array_new(), q = mlx_array_new();
  int64_t s23[2] = {2, 3}, s34[2] = {3, 4}, s32[2] = {3, 2};
  mlx_array a = pat(s23, 2, 1, MLX_FLOAT32), b = pat(s34, 2, 2, MLX_FLOAT32), ops[2] = {a, b};
  /* implicit output and spaces give the explicit result */
  CHECK_OK(mlx_einsum(&r, "ij,jk", ops, 2, S));
  double want[8] = {-4, 2, 3, -6, -5, 2, 4, -4};
  CHECK_VALUES(r, want, 8, 0);
  CHECK_OK(mlx_einsum(&r, " ij , jk -> ik ", ops, 2, S));
  CHECK_VALUES(r, want, 8, 0);
  /* a transposed view as an operand */
  mlx_array at = pat(s32, 2, 1, MLX_FLOAT32), t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, at, NULL, 0, S));
  mlx_array ops2[2] = {t, b};
  CHECK_OK(mlx_einsum(&r, "ij,jk->ik", ops2, 2, S));
  CHECK_OK(mlx_matmul(&q, t, b, S));
  double got[8];
  read_f64(got, 8, q);
  CHECK_VALUES(r, got, 8, 0);
  /* transpose only, int operands without a contraction, a scalar operand */
  CHECK_OK(mlx_einsum(&r, "ij->ji", &a, 1, S));
  CHECK(shape_is(r, s32, 2));
  mlx_array ai = pat(s23, 2, 1, MLX_INT32), ii[2] = {ai, ai};
  CHECK_OK(mlx_einsum(&r, "ij,ij->ij", ii, 2, S));
  CHECK(mlx_array_dtype(r) == MLX_INT32);
  mlx_array two = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&two, 2.0, MLX_FLOAT32));
  mlx_array vs[2] = {b, two};
  CHECK_OK(mlx_einsum(&r, "ij,->ij", vs, 2, S));
  CHECK(shape_is(r, s34, 2));
  CHECK_OK(mlx_einsum(&r, "->", &two, 1, S));
  CHECK(mlx_array_ndim(r) == 0);
  /* empty dims */
  int64_t s03[2] = {0, 3}, s20[2] = {2, 0}, s04[2] = {0, 4};
  mlx_array e = pat(s03, 2, 0, MLX_FLOAT32), e1 = pat(s20, 2, 0, MLX_FLOAT32), e2 = pat(s04, 2, 0, MLX_FLOAT32);
  CHECK_OK(mlx_einsum(&r, "ij->ji", &e, 1, S));
  int64_t s30[2] = {3, 0};
  CHECK(shape_is(r, s30, 2));
  mlx_array ee[2] = {e1, e2};
  CHECK_OK(mlx_einsum(&r, "ij,jk->ik", ee, 2, S));
  double z8[8] = {0};
  CHECK_VALUES(r, z8, 8, 0);
  mlx_array all[] = {r, q, a, b, at, t, ai, two, e, e1, e2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

TEST(einsum_errors) {
  int64_t s3[1] = {3}, s2[1] = {2}, s23[2] = {2, 3}, s11[2] = {1, 1};
  mlx_array v3 = pat(s3, 1, 0, MLX_FLOAT32), v2 = pat(s2, 1, 0, MLX_FLOAT32), m = pat(s23, 2, 0, MLX_FLOAT32);
  mlx_array m11 = pat(s11, 2, 0, MLX_FLOAT32), mi = pat(s23, 2, 0, MLX_INT32), r = mlx_array_new();
  mlx_array v23[2] = {v2, v3}, mm[2] = {m, m}, ii[2] = {mi, mi};
  CHECK_ERR(mlx_einsum(&r, "i->ii", &v3, 1, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "Repeat indices not allowed in output") != NULL);
  CHECK_ERR(mlx_einsum(&r, "i1", &v3, 1, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "Subscripts must be letters, but got '1'") != NULL);
  CHECK_ERR(mlx_einsum(&r, "ij,j", &m, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_einsum(&r, "ij", &v3, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_einsum(&r, "ii", &m, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_einsum(&r, "i,i", v23, 2, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_einsum(&r, "...i...", &v3, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_einsum(&r, "i.j", &m11, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_einsum(&r, "...ij", &v3, 1, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_einsum(&r, "i->j", &v3, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_einsum(&r, "ij,jk->ik", ii, 2, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_einsum(&r, "ij,kj->ik", ii, 2, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_einsum(&r, "ij", mm, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_einsum(&r, NULL, mm, 1, S), MLX_ERROR_ARGUMENT);
  mlx_array empty = mlx_array_new();
  CHECK_ERR(mlx_einsum(&r, "i", &empty, 1, S), MLX_ERROR_ARGUMENT);
  CHECK(r.ctx == NULL);
  mlx_array all[] = {v3, v2, m, m11, mi, r};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mlx_array_free(all[i]);
}

TEST(einsum_path_summary) {
  struct {
    const char* sub;
    int n;
    int ndims[5];
    int64_t shapes[5][4];
    int nsteps;
    int counts[5];
    int pos[10];
    const char* summary;
  } cases[] = {
      /* mlx: einsum_path(sub, *zeros(shapes)) */
      {"ij,jk,kl->il", 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 5}}, 2, {2, 2}, {1, 2, 0, 1},
       "  Complete contraction:  ij,jk,kl->il\n         Naive scaling:  4\n     Optimized scaling:  3\n      Naive "
       "FLOP count:  360\n  Optimized FLOP count:  180\n"},
      {"ab,bc,cd,de->ae", 4, {2, 2, 2, 2}, {{2, 30}, {30, 4}, {4, 50}, {50, 6}}, 3, {2, 2, 2}, {2, 3, 0, 1, 0, 1},
       "  Complete contraction:  ab,bc,cd,de->ae\n         Naive scaling:  5\n     Optimized scaling:  3\n      "
       "Naive FLOP count:  288000\n  Optimized FLOP count:  2976\n"},
      {"ea,fb,abcd,gc,hd->efgh", 5, {2, 2, 4, 2, 2}, {{10, 10}, {10, 10}, {10, 10, 10, 10}, {10, 10}, {10, 10}}, 4,
       {2, 2, 2, 2}, {0, 2, 0, 3, 0, 2, 0, 1},
       "  Complete contraction:  ea,fb,abcd,gc,hd->efgh\n         Naive scaling:  8\n     Optimized scaling:  5\n "
       "     Naive FLOP count:  500000000\n  Optimized FLOP count:  800000\n"},
      {"ii,ij,jk", 3, {2, 2, 2}, {{3, 3}, {3, 4}, {4, 5}}, 2, {2, 2}, {1, 2, 0, 1},
       "  Complete contraction:  ii,ij,jk\n         Naive scaling:  3\n     Optimized scaling:  3\n      Naive FLOP "
       "count:  180\n  Optimized FLOP count:  150\n"},
      {"i,j,k->", 3, {1, 1, 1}, {{2}, {3}, {4}}, 2, {2, 2}, {1, 2, 0, 1},
       "  Complete contraction:  i,j,k->\n         Naive scaling:  3\n     Optimized scaling:  2\n      Naive FLOP "
       "count:  72\n  Optimized FLOP count:  28\n"},
      {"ij,jk->ik", 2, {2, 2}, {{2, 3}, {3, 4}}, 1, {2}, {0, 1},
       "  Complete contraction:  ij,jk->ik\n         Naive scaling:  3\n     Optimized scaling:  3\n      Naive FLOP "
       "count:  48\n  Optimized FLOP count:  48\n"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    mlx_array ops[5];
    for (int i = 0; i < cases[c].n; i++) {
      ops[i] = mlx_array_new();
      mlx_zeros(&ops[i], cases[c].shapes[i], cases[c].ndims[i], MLX_FLOAT32, S);
    }
    int pos[26], counts[6];
    size_t nsteps = 0;
    char summary[512];
    CHECK_OK(mlx_einsum_path(pos, counts, &nsteps, summary, sizeof summary, cases[c].sub, ops, (size_t)cases[c].n));
    CHECK(nsteps == (size_t)cases[c].nsteps);
    int k = 0, same = nsteps == (size_t)cases[c].nsteps;
    for (size_t s = 0; same && s < nsteps; s++) {
      same = counts[s] == cases[c].counts[s];
      for (int j = 0; same && j < counts[s]; j++, k++) same = pos[k] == cases[c].pos[k];
    }
    CHECK(same);
    CHECK(strcmp(summary, cases[c].summary) == 0);
    if (!same || strcmp(summary, cases[c].summary)) fprintf(stderr, "  path of %s:\n%s", cases[c].sub, summary);
    /* the einsum on those shapes runs */
    mlx_array r = mlx_array_new();
    CHECK_OK(mlx_einsum(&r, cases[c].sub, ops, (size_t)cases[c].n, S));
    CHECK_OK(mlx_eval(&r, 1));
    mlx_array_free(r);
    for (int i = 0; i < cases[c].n; i++) mlx_array_free(ops[i]);
  }
  int pos[2], counts[2];
  size_t nsteps;
  char summary[8];
  mlx_array v = mlx_array_new();
  int64_t s3[1] = {3};
  mlx_zeros(&v, s3, 1, MLX_FLOAT32, S);
  CHECK_ERR(mlx_einsum_path(pos, counts, &nsteps, summary, sizeof summary, "ij", &v, 1), MLX_ERROR_SHAPE);
  /* a small summary buffer is truncated, not overrun */
  CHECK_OK(mlx_einsum_path(pos, counts, &nsteps, summary, sizeof summary, "i", &v, 1));
  CHECK(strlen(summary) == 7 && nsteps == 1 && counts[0] == 1 && pos[0] == 0);
  mlx_array_free(v);
}

int main(void) {
  RUN(einsum_values);
  RUN(einsum_forms);
  RUN(einsum_errors);
  RUN(einsum_path_summary);
  return harness_report();
}
