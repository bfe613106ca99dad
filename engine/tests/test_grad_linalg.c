/* Transform rules of the linalg family.
 *
 *  - check_grad (vjp and jvp against central differences in float64) for
 *    what is differentiable: the inverse (an extension: upstream 0.32 has
 *    no vjp/jvp for it) and the functions composed from it and public ops
 *    (tri_inv, solve_triangular, cholesky_inv), det / slogdet of n <= 3
 *    (upstream's cofactor path), norms, cross; solve goes through the LU,
 *    which has no derivative (as upstream): its vjp is a clean error;
 *  - check_vmap for every primitive (inverse, cholesky, qrf, svd, eigh, eig,
 *    luf) and the composites built on them, with in_axes 0, 1, -1 and
 *    unbatched operands;
 *  - grad of grad through the inverse;
 *  - a shapeless compile replayed for another matrix size (the
 *    primitives' output_shapes rules). */
#include "gradcheck.h"
#include "mlx/compile.h"
#include "mlx/linalg.h"

/* max |x - y| as a double (INFINITY when it cannot be computed). */
static double max_diff(mlx_array x, mlx_array y) {
  mlx_array d = mlx_array_new(), a = mlx_array_new(), m = mlx_array_new();
  double r = INFINITY;
  if (!mlx_subtract(&d, x, y, S) && !mlx_abs(&a, d, S) && !mlx_max(&m, a, 0, S)) mlx_array_item_float64(&r, m);
  mlx_array_free(d), mlx_array_free(a), mlx_array_free(m);
  return r;
}

enum {
  INV, TRI_LO, TRI_UP, SOLVE_TRI, SOLVE, CHOL_INV, DET, SLOGDET, NORM_FRO, NORM_NUC, NORM_2, NORM_1, NORM_INF,
  NORM_V3, CROSS, CHOL, QR_Q, QR_R, SVD_S, SVD_U, EIGH_W, EIGH_V, EIGVALSH, EIG_W, EIG_V, LU_L, LU_U, LUF, PINV,
  DET4, NOPS
};

/* Real part of a complex result (check_vmap reads doubles). */
static int real_of(mlx_array* out, mlx_array c) {
  int rc = mlx_real(out, c, S);
  mlx_array_free(c);
  return rc;
}

/* The op on in[0] (and in[1]); multi-output ops return one output. */
static int apply(mlx_array* out, const mlx_array* in, void* ctx) {
  int op = *(const int*)ctx;
  mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  int rc;
  int ax01[2] = {-2, -1};
  switch (op) {
    case INV: rc = mlx_linalg_inv(out, in[0], S); break;
    case TRI_LO: rc = mlx_linalg_tri_inv(out, in[0], 0, S); break;
    case TRI_UP: rc = mlx_linalg_tri_inv(out, in[0], 1, S); break;
    case SOLVE_TRI: rc = mlx_linalg_solve_triangular(out, in[0], in[1], 0, S); break;
    case SOLVE: rc = mlx_linalg_solve(out, in[0], in[1], S); break;
    case CHOL_INV: rc = mlx_linalg_cholesky_inv(out, in[0], 0, S); break;
    case DET: rc = mlx_linalg_det(out, in[0], S); break;
    case SLOGDET: rc = mlx_linalg_slogdet(&a, out, in[0], S); break;
    case NORM_FRO: rc = mlx_linalg_norm_str(out, in[0], "fro", ax01, 2, 0, S); break;
    case NORM_NUC: rc = mlx_linalg_norm_str(out, in[0], "nuc", ax01, 2, 0, S); break;
    case NORM_2: rc = mlx_linalg_norm(out, in[0], 1, 2, ax01, 2, 1, S); break;
    case NORM_1: rc = mlx_linalg_norm(out, in[0], 1, 1, ax01, 2, 0, S); break;
    case NORM_INF: rc = mlx_linalg_norm(out, in[0], 1, INFINITY, ax01, 2, 1, S); break;
    case NORM_V3: rc = mlx_linalg_norm(out, in[0], 1, 3, &ax01[1], 1, 0, S); break;
    case CROSS: rc = mlx_linalg_cross(out, in[0], in[1], -1, S); break;
    case CHOL: rc = mlx_linalg_cholesky(out, in[0], 0, S); break;
    case QR_Q: rc = mlx_linalg_qr(out, &a, in[0], S); break;
    case QR_R: rc = mlx_linalg_qr(&a, out, in[0], S); break;
    case SVD_S: rc = mlx_linalg_svd(NULL, out, NULL, in[0], 0, S); break;
    case SVD_U: rc = mlx_linalg_svd(out, &a, &b, in[0], 1, S); break;
    case EIGH_W: rc = mlx_linalg_eigh(out, &a, in[0], "L", S); break;
    case EIGH_V: rc = mlx_linalg_eigh(&a, out, in[0], "U", S); break;
    case EIGVALSH: rc = mlx_linalg_eigvalsh(out, in[0], "L", S); break;
    case EIG_W:
      rc = mlx_linalg_eigvals(&c, in[0], S);
      if (rc == MLX_OK) rc = real_of(out, c), c = mlx_array_new();
      break;
    case EIG_V:
      rc = mlx_linalg_eig(&a, &c, in[0], S);
      if (rc == MLX_OK) rc = real_of(out, c), c = mlx_array_new();
      break;
    case LU_L: rc = mlx_linalg_lu(&a, out, &b, in[0], S); break;
    case LU_U: rc = mlx_linalg_lu(&a, &b, out, in[0], S); break;
    case LUF: rc = mlx_linalg_lu_factor(out, &a, in[0], S); break;
    case PINV: rc = mlx_linalg_pinv(out, in[0], S); break;
    default: rc = mlx_linalg_det(out, in[0], S); break;
  }
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c);
  return rc;
}

/* float64 [.., n, n] with values in [-1, 1) plus diag on the diagonal
 * (diag > 0 keeps it well conditioned), made symmetric positive definite
 * when spd (a a^T + n I), or lower triangular when tri. */
static mlx_array make_mat(const int64_t* shape, int ndim, unsigned seed, double diag, int spd, int tri) {
  int64_t n = shape[ndim - 1], size = 1;
  for (int i = 0; i < ndim; i++) size *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(size > 0 ? size : 1));
  for (int64_t i = 0; i < size; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0;
    int64_t r = (i / n) % n, c = i % n;
    if (ndim >= 2 && r == c && shape[ndim - 2] == n) v[i] += diag;
    if (tri && c > r) v[i] = 0;
  }
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT64);
  free(v);
  if (spd) {
    mlx_array t = mlx_array_new(), p = mlx_array_new(), e = mlx_array_new(), r = mlx_array_new();
    mlx_swapaxes(&t, a, -1, -2, S);
    mlx_matmul(&p, a, t, S);
    mlx_eye(&e, n, n, 0, MLX_FLOAT64, S);
    mlx_array sc = mlx_array_new();
    mlx_array_new_float(&sc, (double)n, MLX_FLOAT64);
    mlx_multiply(&t, e, sc, S);
    mlx_add(&r, p, t, S);
    mlx_array_free(a), mlx_array_free(t), mlx_array_free(p), mlx_array_free(e), mlx_array_free(sc);
    return r;
  }
  return a;
}

static mlx_array make_vec(const int64_t* shape, int ndim, unsigned seed) { return make_mat(shape, ndim, seed, 0, 0, 0); }

typedef struct {
  int op;
  int kind; /* 0 general, 1 spd, 2 lower triangular, 3 upper (transposed lower) */
  int64_t shape[3];
  int ndim;
  int nin;             /* 2: a second operand */
  int64_t bshape[3];   /* its shape */
  int bndim;
} grad_case;

static mlx_array make_for(int kind, const int64_t* shape, int ndim, unsigned seed) {
  mlx_array a = make_mat(shape, ndim, seed, kind == 0 || kind >= 2 ? 3.0 : 0, kind == 1, kind >= 2);
  if (kind == 3) {
    mlx_array t = mlx_array_new();
    mlx_swapaxes(&t, a, -1, -2, S);
    mlx_array_free(a);
    return t;
  }
  return a;
}

TEST(grads) {
  static const grad_case cases[] = {
      {INV, 0, {3, 3}, 2, 1, {0}, 0},
      {INV, 0, {2, 2, 2}, 3, 1, {0}, 0},
      {TRI_LO, 2, {3, 3}, 2, 1, {0}, 0},
      {TRI_UP, 3, {2, 3, 3}, 3, 1, {0}, 0},
      {SOLVE_TRI, 2, {3, 3}, 2, 2, {3, 2}, 2},
      {SOLVE_TRI, 2, {2, 3, 3}, 3, 2, {3}, 1},
      {CHOL_INV, 2, {3, 3}, 2, 1, {0}, 0},
      {DET, 0, {2, 2}, 2, 1, {0}, 0},
      {DET, 0, {2, 3, 3}, 3, 1, {0}, 0},
      {DET, 0, {1, 1}, 2, 1, {0}, 0},
      {SLOGDET, 0, {3, 3}, 2, 1, {0}, 0},
      {NORM_FRO, 0, {2, 3, 4}, 3, 1, {0}, 0},
      {NORM_1, 0, {3, 4}, 2, 1, {0}, 0},
      {NORM_INF, 0, {2, 3, 4}, 3, 1, {0}, 0},
      {NORM_V3, 0, {3, 4}, 2, 1, {0}, 0},
      {CROSS, 0, {4, 3}, 2, 2, {4, 3}, 2},
      {CROSS, 0, {2, 3}, 2, 2, {3}, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const grad_case* c = &cases[i];
    mlx_array in[2];
    in[0] = make_for(c->kind, c->shape, c->ndim, 11u + (unsigned)i);
    in[1] = c->nin > 1 ? make_vec(c->bshape, c->bndim, 97u + (unsigned)i) : mlx_array_new();
    char name[64];
    snprintf(name, sizeof name, "linalg grad case %zu (op %d)", i, c->op);
    check_grad(name, apply, (void*)&c->op, in, c->nin);
    mlx_array_free(in[0]), mlx_array_free(in[1]);
  }
}

TEST(vmaps) {
  static const grad_case cases[] = {
      {INV, 0, {3, 3, 3}, 3, 1, {0}, 0},
      {TRI_LO, 2, {2, 3, 3}, 3, 1, {0}, 0},
      {TRI_UP, 3, {2, 3, 3}, 3, 1, {0}, 0},
      {CHOL, 1, {3, 3, 3}, 3, 1, {0}, 0},
      {QR_Q, 0, {2, 4, 3}, 3, 1, {0}, 0},
      {QR_R, 0, {2, 3, 4}, 3, 1, {0}, 0},
      {SVD_S, 0, {3, 3, 4}, 3, 1, {0}, 0},
      {SVD_U, 0, {2, 3, 3}, 3, 1, {0}, 0},
      {EIGH_W, 1, {3, 3, 3}, 3, 1, {0}, 0},
      {EIGH_V, 1, {2, 3, 3}, 3, 1, {0}, 0},
      {EIGVALSH, 1, {2, 4, 4}, 3, 1, {0}, 0},
      {EIG_W, 0, {3, 3, 3}, 3, 1, {0}, 0},
      {EIG_V, 0, {2, 3, 3}, 3, 1, {0}, 0},
      {LU_L, 0, {2, 3, 3}, 3, 1, {0}, 0},
      {LU_U, 0, {2, 4, 3}, 3, 1, {0}, 0},
      {LUF, 0, {3, 3, 3}, 3, 1, {0}, 0},
      {PINV, 0, {2, 3, 4}, 3, 1, {0}, 0},
      {DET4, 0, {3, 4, 4}, 3, 1, {0}, 0},
      {SLOGDET, 0, {2, 4, 4}, 3, 1, {0}, 0},
      {NORM_NUC, 0, {2, 3, 4}, 3, 1, {0}, 0},
      {NORM_2, 0, {2, 3, 3}, 3, 1, {0}, 0},
      {SOLVE, 0, {2, 3, 3}, 3, 2, {2, 3}, 2},
      {SOLVE_TRI, 2, {2, 3, 3}, 3, 2, {2, 3, 2}, 3},
      {CROSS, 0, {2, 3}, 2, 2, {2, 3}, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const grad_case* c = &cases[i];
    mlx_array in[2];
    in[0] = make_for(c->kind, c->shape, c->ndim, 31u + (unsigned)i);
    in[1] = c->nin > 1 ? make_vec(c->bshape, c->bndim, 131u + (unsigned)i) : mlx_array_new();
    char name[64];
    snprintf(name, sizeof name, "linalg vmap case %zu (op %d)", i, c->op);
    int axes[2] = {0, 0};
    check_vmap(name, apply, (void*)&c->op, in, axes, c->nin);
    mlx_array_free(in[0]), mlx_array_free(in[1]);
  }
}

/* Batch axes other than 0, and unbatched operands. */
TEST(vmap_axes) {
  int64_t sh[] = {3, 2, 3}; /* batch of 2 matrices along axis 1 */
  mlx_array a = make_mat(sh, 3, 5, 3.0, 0, 0);
  int op = INV, axes1[1] = {1}, axeslast[1] = {-1};
  check_vmap("inv in_axes 1", apply, &op, &a, axes1, 1);
  int64_t shl[] = {3, 3, 2};
  mlx_array al = make_mat(shl, 3, 6, 0, 0, 0);
  mlx_array e = mlx_array_new(), r = mlx_array_new();
  /* al[:, :, k] + 3 I for each k: well conditioned. */
  mlx_eye(&e, 3, 3, 0, MLX_FLOAT64, S);
  int last = -1;
  mlx_expand_dims(&r, e, &last, 1, S);
  mlx_array sc = mlx_array_new();
  mlx_array_new_float(&sc, 3.0, MLX_FLOAT64);
  mlx_multiply(&e, r, sc, S);
  mlx_add(&r, al, e, S);
  check_vmap("inv in_axes -1", apply, &op, &r, axeslast, 1);
  op = EIG_W;
  check_vmap("eigvals in_axes 1", apply, &op, &a, axes1, 1);
  op = SVD_S;
  check_vmap("svd in_axes -1", apply, &op, &r, axeslast, 1);
  mlx_array_free(al), mlx_array_free(e), mlx_array_free(r), mlx_array_free(sc);
  op = LUF;
  check_vmap("lu_factor in_axes 1", apply, &op, &a, axes1, 1);
  /* solve with a batched and b shared, and the other way round. */
  int64_t sq[] = {2, 3, 3}, sb[] = {3}, sbb[] = {3, 2};
  mlx_array in[2] = {make_mat(sq, 3, 9, 3.0, 0, 0), make_vec(sb, 1, 10)};
  int ax[2] = {0, MLX_VMAP_NONE};
  op = SOLVE;
  check_vmap("solve b unbatched", apply, &op, in, ax, 2);
  mlx_array_free(in[0]), mlx_array_free(in[1]);
  int64_t s33[] = {3, 3};
  in[0] = make_mat(s33, 2, 12, 3.0, 0, 0);
  in[1] = make_vec(sbb, 2, 13);
  int ax2[2] = {MLX_VMAP_NONE, 1};
  check_vmap("solve a unbatched, b axis 1", apply, &op, in, ax2, 2);
  mlx_array_free(in[0]), mlx_array_free(in[1]), mlx_array_free(a);
}

/* d/dA sum(grad_A sum(inv(A))): grad of grad through the inverse rules. */
static int grad_sum_inv(mlx_vector_array outs, const mlx_vector_array ins, void* payload) {
  mlx_array x = mlx_array_new(), y = mlx_array_new();
  mlx_vector_array_get(&x, ins, 0);
  int rc = mlx_linalg_inv(&y, x, S);
  mlx_array s = mlx_array_new();
  if (rc == MLX_OK) rc = mlx_sum(&s, y, 0, S);
  if (rc == MLX_OK) rc = mlx_vector_array_append(outs, s);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(s);
  return rc;
}

/* grad of sum(inv(x)): what check_grad differentiates again. */
static int inv_grad_sum(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_closure f = mlx_closure_new(grad_sum_inv, NULL, NULL);
  mlx_vector_array args = mlx_vector_array_new(), vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  mlx_vector_array_append(args, in[0]);
  int argnum = 0;
  int rc = mlx_value_and_grad(vals, grads, f, args, &argnum, 1);
  if (!rc) rc = mlx_vector_array_get(out, grads, 0);
  mlx_vector_array_free(args), mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  mlx_closure_free(f);
  return rc;
}

/* The LU has no vjp (upstream neither): grad of solve w.r.t. a fails
 * with an error, w.r.t. b alone (a constant) works. */
static int solve_const_a(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_linalg_solve(out, *(const mlx_array*)ctx, in[0], S);
}

TEST(solve_grads) {
  int64_t sq[] = {3, 3}, sb[] = {3, 2};
  mlx_array a = make_mat(sq, 2, 41, 3.0, 0, 0), b = make_vec(sb, 2, 42);
  check_grad("solve w.r.t. b", solve_const_a, &a, &b, 1);
  int op = SOLVE;
  op_closure oc = {apply, &op, 2};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), cots = mlx_vector_array_new(), outs = mlx_vector_array_new(),
                   vjps = mlx_vector_array_new();
  mlx_vector_array_append(prim, a);
  mlx_vector_array_append(prim, b);
  mlx_array ones = mlx_array_new();
  mlx_ones(&ones, sb, 2, MLX_FLOAT64, S);
  mlx_vector_array_append(cots, ones);
  CHECK(mlx_vjp(outs, vjps, f, prim, cots) != MLX_OK);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_closure_free(f);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(ones);
}

TEST(grad_of_grad) {
  int64_t sh[] = {3, 3};
  mlx_array a = make_mat(sh, 2, 21, 3.0, 0, 0);
  check_grad("grad of grad of inv", inv_grad_sum, NULL, &a, 1);
  mlx_array_free(a);
}

/* inv, svd values and eigh values of x: a shapeless compile replays the
 * trace for other matrix sizes through the output_shapes rules. */
static int shapeless_fn(mlx_vector_array outs, const mlx_vector_array ins, void* payload) {
  mlx_array x = mlx_array_new(), i = mlx_array_new(), s = mlx_array_new(), w = mlx_array_new(),
            v = mlx_array_new(), q = mlx_array_new(), r = mlx_array_new(), lu = mlx_array_new(), p = mlx_array_new();
  if (payload) ++*(int*)payload;
  int rc = mlx_vector_array_get(&x, ins, 0);
  if (!rc) rc = mlx_linalg_inv(&i, x, S);
  if (!rc) rc = mlx_linalg_svd(NULL, &s, NULL, x, 0, S);
  if (!rc) rc = mlx_linalg_eigh(&w, &v, x, "L", S);
  if (!rc) rc = mlx_linalg_qr(&q, &r, x, S);
  if (!rc) rc = mlx_linalg_lu_factor(&lu, &p, x, S);
  mlx_array list[7] = {i, s, w, v, q, r, lu};
  for (int k = 0; k < 7 && !rc; k++) rc = mlx_vector_array_append(outs, list[k]);
  mlx_array_free(x), mlx_array_free(i), mlx_array_free(s), mlx_array_free(w), mlx_array_free(v);
  mlx_array_free(q), mlx_array_free(r), mlx_array_free(lu), mlx_array_free(p);
  return rc;
}

TEST(compile_shapeless) {
  int traces = 0;
  mlx_closure f = mlx_closure_new(shapeless_fn, &traces, NULL), c;
  CHECK_OK(mlx_compile(&c, f, 1));
  int64_t s2[] = {1, 2, 2}, s3[] = {2, 3, 3}; /* shapeless traces are keyed by rank */
  for (int t = 0; t < 2; t++) {
    mlx_array x = make_mat(t ? s3 : s2, 3, 51u + (unsigned)t, 3.0, 1, 0), want = mlx_array_new(),
              got = mlx_array_new();
    mlx_vector_array in = mlx_vector_array_new(), o1 = mlx_vector_array_new(), o2 = mlx_vector_array_new();
    mlx_vector_array_append(in, x);
    CHECK_OK(mlx_closure_apply(o1, c, in));
    CHECK_OK(shapeless_fn(o2, in, NULL));
    for (size_t k = 0; k < 7; k++) {
      mlx_vector_array_get(&got, o1, k);
      mlx_vector_array_get(&want, o2, k);
      CHECK(mlx_array_ndim(got) == mlx_array_ndim(want));
      CHECK(mlx_array_size(got) == mlx_array_size(want));
      CHECK(max_diff(got, want) < 1e-12);
    }
    mlx_array_free(x), mlx_array_free(want), mlx_array_free(got);
    mlx_vector_array_free(in), mlx_vector_array_free(o1), mlx_vector_array_free(o2);
  }
  CHECK(traces == 1); /* the second size replayed the first trace */
  mlx_closure_free(c), mlx_closure_free(f);
}

int main(void) {
  RUN(grads);
  RUN(vmaps);
  RUN(vmap_axes);
  RUN(solve_grads);
  RUN(grad_of_grad);
  RUN(compile_shapeless);
  return harness_report();
}
