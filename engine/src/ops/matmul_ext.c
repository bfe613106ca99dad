/* The matmul family beyond matmul (include/mlx/matmul.h). addmm, inner,
 * outer, tensordot, kron and block_masked_mm are built from public ops,
 * so their transform rules come from those ops; gather_mm, segmented_mm
 * and the Hadamard transform are primitives (kernels in cpu/matmul_ext.c)
 * with their own rules below (gather_mm's vjp sums back with
 * mlx_scatter_add of indexing.h). einsum is in ops/einsum.c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "mlx/indexing.h"
#include "mlx/matmul.h"

#include "../cpu/matmul_ext.h"

/* Temporaries of one op: every handle starts empty and is freed once. */
#define TMP_N 24
typedef struct {
  mlx_array a[TMP_N];
} tmps;

static void tmps_init(tmps* t) {
  for (int i = 0; i < TMP_N; i++) t->a[i] = mlx_array_new();
}

static void tmps_free(tmps* t) {
  for (int i = 0; i < TMP_N; i++) mlx_array_free(t->a[i]);
}

/* "(2,3)" into buf. */
static const char* shape_str(char* buf, size_t cap, const int64_t* shape, int ndim) {
  size_t p = 0;
  buf[p++] = '(';
  buf[p] = '\0';
  for (int i = 0; i < ndim && p + 24 < cap; i++)
    p += (size_t)snprintf(buf + p, cap - p, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (p + 2 <= cap) {
    buf[p++] = ')';
    buf[p] = '\0';
  }
  return buf;
}

/* x as a matrix for a product: a 1-D left operand [K] -> [1, K], a right
 * one -> [K, 1]. */
static int as_matrix(mlx_array* res, const mlx_array x, int right, mlx_stream s) {
  if (mlx_array_ndim(x) != 1) return mlx_array_set(res, x);
  int64_t k = mlx_array_dim(x, 0), shape[2] = {right ? k : 1, right ? 1 : k};
  return mlx_reshape(res, x, shape, 2, s);
}

/* Drops the dims a product gained from 1-D operands (axis -2 for a, -1
 * for b) from x. */
static int drop_vector_dims(mlx_array* res, const mlx_array x, int a1, int b1, mlx_stream s) {
  int ax[2], n = 0;
  if (a1) ax[n++] = -2;
  if (b1) ax[n++] = -1;
  if (!n) return mlx_array_set(res, x);
  return mlx_squeeze_axes(res, x, ax, (size_t)n, s);
}

/* x in dtype dt: x itself when it already has it (no astype node). */
static int cast_if(mlx_array* res, const mlx_array x, mlx_dtype dt, mlx_stream s) {
  if (mlx_array_dtype(x) == dt) return mlx_array_set(res, x);
  return mlx_astype(res, x, dt, s);
}

/* Checks the contracted dims of a @ b (1-D operands promoted). */
static int check_inner_dims(const mlx_array a, const mlx_array b, const char* op) {
  int na = mlx_array_ndim(a), nb = mlx_array_ndim(b);
  if (na == 0 || nb == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[%s] Got 0 dimension input. Inputs must have at least one dimension.", op);
  int64_t ka = mlx_array_dim(a, na - 1), kb = nb == 1 ? mlx_array_dim(b, 0) : mlx_array_dim(b, nb - 2);
  if (ka != kb) {
    char ba[256], bb[256];
    int64_t sa[2] = {1, ka}, sb[2] = {kb, 1};
    return mlx_error_(MLX_ERROR_SHAPE,
                      "[%s] Last dimension of first input with shape %s must match second to last dimension of "
                      "second input with shape %s.",
                      op, na == 1 ? shape_str(ba, sizeof ba, sa, 2) : shape_str(ba, sizeof ba, mlx_array_shape(a), na),
                      nb == 1 ? shape_str(bb, sizeof bb, sb, 2) : shape_str(bb, sizeof bb, mlx_array_shape(b), nb));
  }
  return MLX_OK;
}

/* ---- addmm ---------------------------------------------------------------- */

int mlx_addmm(mlx_array* res, const mlx_array c, const mlx_array a, const mlx_array b, float alpha, float beta,
              const mlx_stream s) {
  MLX_TRY(mlx_check_array_(c, "addmm"));
  MLX_TRY(mlx_check_array_(a, "addmm"));
  MLX_TRY(mlx_check_array_(b, "addmm"));
  MLX_TRY(check_inner_dims(a, b, "addmm"));
  mlx_dtype ta = mlx_array_dtype(a), tb = mlx_array_dtype(b), tc = mlx_array_dtype(c);
  mlx_dtype dt = mlx_dtype_promote(mlx_dtype_promote(ta, tb), tc);
  if (!mlx_dtype_is_inexact(dt))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[addmm] Only real floating point types are supported but %s, %s and %s were provided which "
                      "results in %s, which is not a real floating point type.",
                      mlx_dtype_name(tc), mlx_dtype_name(ta), mlx_dtype_name(tb), mlx_dtype_name(dt));
  /* Half results: the product and the sum in float32, rounded once. */
  mlx_dtype ct = (dt == MLX_FLOAT16 || dt == MLX_BFLOAT16) ? MLX_FLOAT32 : dt;
  int a1 = mlx_array_ndim(a) == 1, b1 = mlx_array_ndim(b) == 1;
  tmps t;
  tmps_init(&t);
  mlx_array *am = &t.a[0], *bm = &t.a[1], *ac = &t.a[2], *bc = &t.a[3], *p = &t.a[4], *cc = &t.a[5], *sc = &t.a[6],
            *q = &t.a[7], *r = &t.a[8], *o = &t.a[9], *tmp = &t.a[10];
  int rc = as_matrix(am, a, 0, s);
  if (!rc) rc = as_matrix(bm, b, 1, s);
  /* Cast to the result dtype first (an int operand rounds as MLX's astype
   * would), then to the compute dtype. */
  if (!rc) rc = cast_if(tmp, *am, dt, s);
  if (!rc) rc = cast_if(ac, *tmp, ct, s);
  if (!rc) rc = cast_if(tmp, *bm, dt, s);
  if (!rc) rc = cast_if(bc, *tmp, ct, s);
  if (!rc) rc = mlx_matmul(p, *ac, *bc, s);
  if (rc) goto done;
  /* c must broadcast to the (unsqueezed) product shape. */
  {
    int pn = mlx_array_ndim(*p), cn = mlx_array_ndim(c), bn;
    int64_t bs[(pn > cn ? pn : cn) + 1];
    rc = mlx_broadcast_shape_(bs, &bn, mlx_array_shape(c), cn, mlx_array_shape(*p), pn, "addmm");
    if (rc) goto done;
    int same = bn == pn;
    for (int i = 0; same && i < pn; i++) same = bs[i] == mlx_array_dim(*p, i);
    if (!same) {
      rc = mlx_error_(MLX_ERROR_SHAPE, "[addmm] input c must broadcast to the output shape");
      goto done;
    }
  }
  if (alpha != 1.0f) {
    rc = mlx_array_new_float(sc, alpha, ct);
    if (!rc) rc = mlx_multiply(q, *p, *sc, s);
  } else {
    rc = mlx_array_set(q, *p);
  }
  if (!rc && beta != 0.0f) {
    rc = cast_if(tmp, c, dt, s);
    if (!rc) rc = cast_if(cc, *tmp, ct, s);
    if (!rc && beta != 1.0f) {
      mlx_array_free(*sc);
      *sc = mlx_array_new();
      rc = mlx_array_new_float(sc, beta, ct);
      if (!rc) rc = mlx_multiply(tmp, *cc, *sc, s);
      if (!rc) rc = mlx_array_set(cc, *tmp);
    }
    if (!rc) rc = mlx_add(r, *q, *cc, s);
  } else if (!rc) {
    rc = mlx_array_set(r, *q);
  }
  if (!rc) rc = cast_if(o, *r, dt, s);
  if (!rc) rc = drop_vector_dims(res, *o, a1, b1, s);
done:
  tmps_free(&t);
  return rc;
}

/* ---- inner, outer, tensordot, kron ------------------------------------------ */

int mlx_inner(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "inner"));
  MLX_TRY(mlx_check_array_(b, "inner"));
  int na = mlx_array_ndim(a), nb = mlx_array_ndim(b);
  if (na == 0 || nb == 0) return mlx_multiply(res, a, b, s);
  if (mlx_array_dim(a, na - 1) != mlx_array_dim(b, nb - 1))
    return mlx_error_(MLX_ERROR_SHAPE, "[inner] a and b must have the same last dimension.");
  int ax = -1;
  return mlx_tensordot_axes(res, a, b, &ax, &ax, 1, s);
}

int mlx_outer(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "outer"));
  MLX_TRY(mlx_check_array_(b, "outer"));
  int64_t col[2] = {mlx_array_size(a), 1}, row[1] = {mlx_array_size(b)};
  mlx_array x = mlx_array_new(), y = mlx_array_new();
  int rc = mlx_reshape(&x, a, col, 2, s);
  if (!rc) rc = mlx_reshape(&y, b, row, 1, s);
  if (!rc) rc = mlx_multiply(res, x, y, s);
  mlx_array_free(x), mlx_array_free(y);
  return rc;
}

int mlx_tensordot(mlx_array* res, const mlx_array a, const mlx_array b, int axis, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "tensordot"));
  MLX_TRY(mlx_check_array_(b, "tensordot"));
  int na = mlx_array_ndim(a), nb = mlx_array_ndim(b);
  if (axis < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[tensordot] axis must be greater or equal to 0.");
  if (axis > (na < nb ? na : nb))
    return mlx_error_(MLX_ERROR_ARGUMENT, "[tensordot] axis must be less than the number of dimensions of a and b.");
  int xa[axis > 0 ? axis : 1], xb[axis > 0 ? axis : 1];
  for (int i = 0; i < axis; i++) {
    xa[i] = na - axis + i;
    xb[i] = i;
  }
  return mlx_tensordot_axes(res, a, b, xa, xb, (size_t)axis, s);
}

/* Marks axes (normalized into out) of an operand as contracted. */
static int contract_axes(int* out, unsigned char* used, const int* axes, size_t n, int ndim) {
  for (size_t i = 0; i < n; i++) {
    int ax = axes[i];
    if (ax < -ndim || ax >= ndim)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[tensordot] axis %d is out of bounds for array with %d dimensions.", ax,
                        ndim);
    if (ax < 0) ax += ndim;
    if (used[ax]) return mlx_error_(MLX_ERROR_ARGUMENT, "[tensordot] repeated axis %d.", axes[i]);
    used[ax] = 1;
    out[i] = ax;
  }
  return MLX_OK;
}

int mlx_tensordot_axes(mlx_array* res, const mlx_array a, const mlx_array b, const int* axes_a, const int* axes_b,
                       size_t n, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "tensordot"));
  MLX_TRY(mlx_check_array_(b, "tensordot"));
  int na = mlx_array_ndim(a), nb = mlx_array_ndim(b);
  if (n > (size_t)na || n > (size_t)nb)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[tensordot] more contracted axes than the arrays have dimensions.");
  int ca[n ? n : 1], cb[n ? n : 1], pa[na ? na : 1], pb[nb ? nb : 1];
  unsigned char ua[na ? na : 1], ub[nb ? nb : 1];
  memset(ua, 0, sizeof ua);
  memset(ub, 0, sizeof ub);
  MLX_TRY(contract_axes(ca, ua, axes_a, n, na));
  MLX_TRY(contract_axes(cb, ub, axes_b, n, nb));
  int64_t k = 1;
  for (size_t i = 0; i < n; i++) {
    if (mlx_array_dim(a, ca[i]) != mlx_array_dim(b, cb[i]))
      return mlx_error_(MLX_ERROR_SHAPE, "[tensordot] a and b must have the same shape on the contracted axes.");
    k *= mlx_array_dim(a, ca[i]);
  }
  /* a -> (free_a..., contracted) as (Fa, K); b -> (contracted, free_b...)
   * as (K, Fb); the product reshaped to free_a + free_b. */
  int nfa = 0, nfb = 0, nout = 0;
  int64_t fa = 1, fb = 1, oshape[na + nb + 1];
  for (int i = 0; i < na; i++)
    if (!ua[i]) {
      pa[nfa++] = i;
      fa *= mlx_array_dim(a, i);
      oshape[nout++] = mlx_array_dim(a, i);
    }
  for (size_t i = 0; i < n; i++) pa[nfa + (int)i] = ca[i];
  for (size_t i = 0; i < n; i++) pb[i] = cb[i];
  for (int i = 0; i < nb; i++)
    if (!ub[i]) {
      pb[(int)n + nfb++] = i;
      fb *= mlx_array_dim(b, i);
      oshape[nout++] = mlx_array_dim(b, i);
    }
  tmps t;
  tmps_init(&t);
  int64_t sa[2] = {fa, k}, sb[2] = {k, fb};
  int rc = mlx_transpose(&t.a[0], a, pa, (size_t)na, s);
  if (!rc) rc = mlx_reshape(&t.a[1], t.a[0], sa, 2, s);
  if (!rc) rc = mlx_transpose(&t.a[2], b, pb, (size_t)nb, s);
  if (!rc) rc = mlx_reshape(&t.a[3], t.a[2], sb, 2, s);
  if (!rc) rc = mlx_matmul(&t.a[4], t.a[1], t.a[3], s);
  if (!rc) rc = mlx_reshape(res, t.a[4], oshape, nout, s);
  tmps_free(&t);
  return rc;
}

int mlx_kron(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "kron"));
  MLX_TRY(mlx_check_array_(b, "kron"));
  if (mlx_array_size(a) == 0 || mlx_array_size(b) == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[kron] Input arrays cannot be empty.");
  int na = mlx_array_ndim(a), nb = mlx_array_ndim(b);
  if (na == 0 || nb == 0) return mlx_multiply(res, a, b, s);
  int nd = na > nb ? na : nb;
  /* a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...): their product
   * reshaped to (a0 * b0, a1 * b1, ...). */
  int64_t sa[2 * nd], sb[2 * nd], so[nd];
  for (int i = 0; i < nd; i++) {
    int64_t da = i < nd - na ? 1 : mlx_array_dim(a, i - (nd - na));
    int64_t db = i < nd - nb ? 1 : mlx_array_dim(b, i - (nd - nb));
    sa[2 * i] = da, sa[2 * i + 1] = 1;
    sb[2 * i] = 1, sb[2 * i + 1] = db;
    so[i] = da * db;
  }
  tmps t;
  tmps_init(&t);
  int rc = mlx_reshape(&t.a[0], a, sa, 2 * nd, s);
  if (!rc) rc = mlx_reshape(&t.a[1], b, sb, 2 * nd, s);
  if (!rc) rc = mlx_multiply(&t.a[2], t.a[0], t.a[1], s);
  if (!rc) rc = mlx_reshape(res, t.a[2], so, nd, s);
  tmps_free(&t);
  return rc;
}

/* ---- block_masked_mm ---------------------------------------------------------- */

/* mask, broadcast to (batch..., ceil(rows/bs), ceil(cols/bs)), expanded
 * to one entry per element: (batch..., rows, cols). */
static int expand_mask(mlx_array* res, const mlx_array mask, const int64_t* batch, int nbatch, int64_t rows,
                       int64_t cols, int bs, const char* which, mlx_stream s) {
  int64_t br = (rows + bs - 1) / bs, bc = (cols + bs - 1) / bs;
  int nd = nbatch + 4;
  int64_t full[nbatch + 2], split[nd], wide[nd], flat[nbatch + 2], start[nbatch + 2], stop[nbatch + 2],
      step[nbatch + 2];
  for (int i = 0; i < nbatch; i++) {
    full[i] = split[i] = wide[i] = flat[i] = batch[i];
    start[i] = 0, stop[i] = batch[i], step[i] = 1;
  }
  full[nbatch] = br, full[nbatch + 1] = bc;
  split[nbatch] = br, split[nbatch + 1] = 1, split[nbatch + 2] = bc, split[nbatch + 3] = 1;
  wide[nbatch] = br, wide[nbatch + 1] = bs, wide[nbatch + 2] = bc, wide[nbatch + 3] = bs;
  flat[nbatch] = br * bs, flat[nbatch + 1] = bc * bs;
  start[nbatch] = start[nbatch + 1] = 0;
  stop[nbatch] = rows, stop[nbatch + 1] = cols;
  step[nbatch] = step[nbatch + 1] = 1;
  tmps t;
  tmps_init(&t);
  int rc = mlx_broadcast_to(&t.a[0], mask, full, nbatch + 2, s);
  if (rc) {
    char buf[256], want[256];
    rc = mlx_error_(MLX_ERROR_SHAPE, "[block_masked_mm] %s with shape %s does not broadcast to %s for block size %d.",
                    which, shape_str(buf, sizeof buf, mlx_array_shape(mask), mlx_array_ndim(mask)),
                    shape_str(want, sizeof want, full, nbatch + 2), bs);
  }
  if (!rc) rc = mlx_reshape(&t.a[1], t.a[0], split, nd, s);
  if (!rc) rc = mlx_broadcast_to(&t.a[2], t.a[1], wide, nd, s);
  if (!rc) rc = mlx_reshape(&t.a[3], t.a[2], flat, nbatch + 2, s);
  if (!rc) rc = mlx_slice(res, t.a[3], start, stop, step, nbatch + 2, s);
  tmps_free(&t);
  return rc;
}

/* x with the mask applied: bool masks select (zeros elsewhere), others
 * scale. */
static int apply_mask(mlx_array* res, const mlx_array x, const mlx_array m, mlx_stream s) {
  mlx_array z = mlx_array_new(), mc = mlx_array_new();
  int rc;
  if (mlx_array_dtype(m) == MLX_BOOL) {
    rc = mlx_array_new_float(&z, 0.0, mlx_array_dtype(x));
    if (!rc) rc = mlx_where(res, m, x, z, s);
  } else {
    rc = cast_if(&mc, m, mlx_array_dtype(x), s);
    if (!rc) rc = mlx_multiply(res, x, mc, s);
  }
  mlx_array_free(z), mlx_array_free(mc);
  return rc;
}

int mlx_block_masked_mm(mlx_array* res, const mlx_array a, const mlx_array b, int block_size,
                        const mlx_array mask_out, const mlx_array mask_lhs, const mlx_array mask_rhs,
                        const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "block_masked_mm"));
  MLX_TRY(mlx_check_array_(b, "block_masked_mm"));
  int has_out = mask_out.ctx != NULL, has_lhs = mask_lhs.ctx != NULL, has_rhs = mask_rhs.ctx != NULL;
  MLX_TRY(check_inner_dims(a, b, "block_masked_mm"));
  if (!has_out && !has_lhs && !has_rhs) return mlx_matmul(res, a, b, s);
  if (block_size != 32 && block_size != 64)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[block_masked_mm] Only block_sizes 32, 64 are supported. Got block size %d.",
                      block_size);
  mlx_dtype dt = mlx_dtype_promote(mlx_array_dtype(a), mlx_array_dtype(b));
  if (!mlx_dtype_is_floating(dt))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[block_masked_mm] Only real floating point types are supported but %s and %s were provided "
                      "which results in %s, which is not a real floating point type.",
                      mlx_dtype_name(mlx_array_dtype(a)), mlx_dtype_name(mlx_array_dtype(b)), mlx_dtype_name(dt));
  int a1 = mlx_array_ndim(a) == 1, b1 = mlx_array_ndim(b) == 1;
  tmps t;
  tmps_init(&t);
  mlx_array *am = &t.a[0], *bm = &t.a[1], *ma = &t.a[2], *mb = &t.a[3], *mo = &t.a[4], *x = &t.a[5], *y = &t.a[6],
            *p = &t.a[7], *q = &t.a[8], *ac = &t.a[9], *bc = &t.a[10];
  int rc = as_matrix(am, a, 0, s);
  if (!rc) rc = as_matrix(bm, b, 1, s);
  if (!rc) rc = cast_if(ac, *am, dt, s);
  if (!rc) rc = cast_if(bc, *bm, dt, s);
  int nda = rc ? 2 : mlx_array_ndim(*am), ndb = rc ? 2 : mlx_array_ndim(*bm);
  int64_t m = rc ? 0 : mlx_array_dim(*am, nda - 2), k = rc ? 0 : mlx_array_dim(*am, nda - 1),
          n = rc ? 0 : mlx_array_dim(*bm, ndb - 1);
  /* The batch shape of the product, which every mask broadcasts to. */
  int cap = (nda > ndb ? nda : ndb) + 1, nbatch = 0;
  int64_t batch[cap];
  if (!rc)
    rc = mlx_broadcast_shape_(batch, &nbatch, mlx_array_shape(*am), nda - 2, mlx_array_shape(*bm), ndb - 2,
                              "block_masked_mm");
  if (!rc && has_lhs) rc = expand_mask(ma, mask_lhs, batch, nbatch, m, k, block_size, "mask_lhs", s);
  if (!rc && has_rhs) rc = expand_mask(mb, mask_rhs, batch, nbatch, k, n, block_size, "mask_rhs", s);
  if (!rc && has_out) rc = expand_mask(mo, mask_out, batch, nbatch, m, n, block_size, "mask_out", s);
  if (!rc) rc = has_lhs ? apply_mask(x, *ac, *ma, s) : mlx_array_set(x, *ac);
  if (!rc) rc = has_rhs ? apply_mask(y, *bc, *mb, s) : mlx_array_set(y, *bc);
  if (!rc) rc = mlx_matmul(p, *x, *y, s);
  if (!rc) rc = has_out ? apply_mask(q, *p, *mo, s) : mlx_array_set(q, *p);
  if (!rc) rc = drop_vector_dims(res, *q, a1, b1, s);
  tmps_free(&t);
  return rc;
}

/* ---- segmented_mm --------------------------------------------------------------- */

static int segmented_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int segmented_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s);
static int segmented_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s);

static const mlx_prim_ prim_segmented_mm = {.name = "segmented_mm",
                                            .cpu = mlx_cpu_segmented_mm_,
                                            .vjp = segmented_vjp,
                                            .jvp = segmented_jvp,
                                            .vmap = segmented_vmap};
MLX_REGISTER_PRIM(prim_segmented_mm);

/* The primitive on a (M, K), b (K, N) of one floating dtype and int64
 * segments (..., 2): (..., M, N). */
static int record_segmented(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array seg, mlx_stream s) {
  int sn = mlx_array_ndim(seg);
  int64_t shape[sn + 1];
  for (int i = 0; i < sn - 1; i++) shape[i] = mlx_array_dim(seg, i);
  shape[sn - 1] = mlx_array_dim(a, 0);
  shape[sn] = mlx_array_dim(b, 1);
  if (shape[sn - 1] > INT_MAX || shape[sn] > INT_MAX || mlx_array_dim(a, 1) > INT_MAX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[segmented_mm] matrix dimensions over %d are not supported", INT_MAX);
  mlx_node_* ins[3] = {MLX_NODE(a), MLX_NODE(b), MLX_NODE(seg)};
  return mlx_op1_(res, &prim_segmented_mm, NULL, 0, ins, 3, mlx_array_dtype(a), shape, sn + 1, s);
}

int mlx_segmented_mm(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array segments,
                     const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "segmented_mm"));
  MLX_TRY(mlx_check_array_(b, "segmented_mm"));
  MLX_TRY(mlx_check_array_(segments, "segmented_mm"));
  if (mlx_array_ndim(a) != 2 || mlx_array_ndim(b) != 2)
    return mlx_error_(MLX_ERROR_SHAPE, "[segmented_mm] Batched matmul not supported");
  mlx_dtype st = mlx_array_dtype(segments);
  if (!mlx_dtype_is_integer(st))
    return mlx_error_(MLX_ERROR_DTYPE, "[segmented_mm] Got segments with invalid dtype. Segments must be integral.");
  int sn = mlx_array_ndim(segments);
  if (sn < 1 || mlx_array_dim(segments, sn - 1) != 2) {
    char buf[256];
    return mlx_error_(MLX_ERROR_SHAPE, "[segmented_mm] The segments should have shape (..., 2) but %s was provided.",
                      shape_str(buf, sizeof buf, mlx_array_shape(segments), sn));
  }
  MLX_TRY(check_inner_dims(a, b, "segmented_mm"));
  mlx_dtype dt = mlx_dtype_promote(mlx_array_dtype(a), mlx_array_dtype(b));
  if (!mlx_dtype_is_floating(dt))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[segmented_mm] Only real floating point types are supported but %s and %s were provided "
                      "which results in %s, which is not a real floating point type.",
                      mlx_dtype_name(mlx_array_dtype(a)), mlx_dtype_name(mlx_array_dtype(b)), mlx_dtype_name(dt));
  mlx_array ac = mlx_array_new(), bc = mlx_array_new(), sc = mlx_array_new();
  int rc = cast_if(&ac, a, dt, s);
  if (!rc) rc = cast_if(&bc, b, dt, s);
  if (!rc) rc = cast_if(&sc, segments, MLX_INT64, s);
  if (!rc) rc = record_segmented(res, ac, bc, sc, s);
  mlx_array_free(ac), mlx_array_free(bc), mlx_array_free(sc);
  return rc;
}

/* The columns each segment takes: (..., 1, K), start <= k < end, as
 * dtype dt (MLX_BOOL for a selection mask). */
static int segment_mask(mlx_array* res, const mlx_array seg, int64_t k, mlx_dtype dt, mlx_stream s) {
  int sn = mlx_array_ndim(seg);
  int64_t st0[sn], sp0[sn], st1[sn], sp1[sn], step[sn], mshape[sn + 1];
  for (int i = 0; i < sn; i++) {
    st0[i] = st1[i] = 0;
    sp0[i] = sp1[i] = mshape[i] = mlx_array_dim(seg, i);
    step[i] = 1;
  }
  sp0[sn - 1] = 1;
  st1[sn - 1] = 1;
  mshape[sn - 1] = 1;
  mshape[sn] = k;
  tmps t;
  tmps_init(&t);
  int rc = mlx_slice(&t.a[0], seg, st0, sp0, step, sn, s);
  if (!rc) rc = mlx_slice(&t.a[1], seg, st1, sp1, step, sn, s);
  if (!rc) rc = mlx_arange(&t.a[2], 0, (double)k, 1, MLX_INT64, s);
  if (!rc) rc = mlx_greater_equal(&t.a[3], t.a[2], t.a[0], s);
  if (!rc) rc = mlx_less(&t.a[4], t.a[2], t.a[1], s);
  if (!rc) rc = mlx_logical_and(&t.a[5], t.a[3], t.a[4], s);
  if (!rc) rc = mlx_reshape(&t.a[6], t.a[5], mshape, sn + 1, s);
  if (!rc) rc = cast_if(res, t.a[6], dt, s);
  tmps_free(&t);
  return rc;
}

/* d a[:, k] = sum over the segments holding k of c_s @ b[k, :]^T, and
 * d b[k, :] = sum of a[:, k]^T c_s: einsums with the (segments, K) mask. */
static int segmented_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int64_t m = mlx_array_dim(inputs[0], 0), k = mlx_array_dim(inputs[0], 1), n = mlx_array_dim(inputs[1], 1);
  int64_t nseg = mlx_array_size(inputs[2]) / 2;
  int64_t c3[3] = {nseg, m, n}, m2[2] = {nseg, k};
  tmps t;
  tmps_init(&t);
  int rc = segment_mask(&t.a[0], inputs[2], k, mlx_array_dtype(inputs[0]), s);
  if (!rc) rc = mlx_reshape(&t.a[1], t.a[0], m2, 2, s);
  if (!rc) rc = mlx_reshape(&t.a[2], cots[0], c3, 3, s);
  for (int i = 0; i < nargs && !rc; i++) {
    if (argnums[i] == 0) {
      mlx_array ops[3] = {t.a[2], inputs[1], t.a[1]};
      rc = mlx_einsum(&in_cots[i], "smn,kn,sk->mk", ops, 3, s);
    } else if (argnums[i] == 1) {
      mlx_array ops[3] = {inputs[0], t.a[2], t.a[1]};
      rc = mlx_einsum(&in_cots[i], "mk,smn,sk->kn", ops, 3, s);
    }
  }
  tmps_free(&t);
  return rc;
}

static int segmented_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
  int np = 0, rc = MLX_OK;
  for (int i = 0; i < nargs && !rc; i++) {
    if (argnums[i] == 0) rc = record_segmented(&parts[np++], tangents[i], inputs[1], inputs[2], s);
    else if (argnums[i] == 1) rc = record_segmented(&parts[np++], inputs[0], tangents[i], inputs[2], s);
  }
  if (!rc) {
    if (np == 2) rc = mlx_add(&out_tans[0], parts[0], parts[1], s);
    else if (np == 1) rc = mlx_array_set(&out_tans[0], parts[0]);
  }
  mlx_array_free(parts[0]), mlx_array_free(parts[1]);
  return rc;
}

/* Batched: (a masked to each segment's columns) @ b with the batch in
 * front, the operands given 1s for the segments' dims so that
 * everything broadcasts to (V, segments..., M, N). */
static int segmented_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  int ns = mlx_array_ndim(inputs[2]) - (in_axes[2] >= 0) - 1; /* the segments' own batch dims */
  tmps t;
  tmps_init(&t);
  int rc = MLX_OK;
  for (int i = 0; i < 3 && !rc; i++)
    rc = in_axes[i] >= 0 ? mlx_moveaxis(&t.a[i], inputs[i], in_axes[i], 0, s) : mlx_array_set(&t.a[i], inputs[i]);
  /* A batched matrix (V, R, C) -> (V, 1 x ns, R, C). */
  for (int i = 0; i < 2 && !rc; i++) {
    if (in_axes[i] < 0) continue;
    int64_t shape[ns + 3];
    shape[0] = mlx_array_dim(t.a[i], 0);
    for (int d = 0; d < ns; d++) shape[1 + d] = 1;
    shape[ns + 1] = mlx_array_dim(t.a[i], 1);
    shape[ns + 2] = mlx_array_dim(t.a[i], 2);
    rc = mlx_reshape(&t.a[3 + i], t.a[i], shape, ns + 3, s);
    if (!rc) rc = mlx_array_set(&t.a[i], t.a[3 + i]);
  }
  int64_t k = rc ? 0 : mlx_array_dim(t.a[0], mlx_array_ndim(t.a[0]) - 1);
  if (!rc) rc = segment_mask(&t.a[5], t.a[2], k, MLX_BOOL, s);
  if (!rc) rc = mlx_array_new_float(&t.a[6], 0.0, mlx_array_dtype(t.a[0]));
  if (!rc) rc = mlx_where(&t.a[7], t.a[5], t.a[0], t.a[6], s);
  if (!rc) rc = mlx_matmul(&outs[0], t.a[7], t.a[1], s);
  out_axes[0] = 0;
  tmps_free(&t);
  return rc;
}

/* ---- gather_mm ------------------------------------------------------------------- */

static int gather_mm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int gather_mm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s);
static int gather_mm_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s);

static const mlx_prim_ prim_gather_mm = {.name = "gather_mm",
                                         .cpu = mlx_cpu_gather_mm_,
                                         .gpu = MLX_GPU_KERNEL_(mlx_cuda_gather_mm_),
                                         .vjp = gather_mm_vjp,
                                         .jvp = gather_mm_jvp,
                                         .vmap = gather_mm_vmap};
MLX_REGISTER_PRIM(prim_gather_mm);

/* arange over the batch of x (dims before the last two) shaped like that
 * batch. */
static int batch_arange(mlx_array* res, const mlx_array x, mlx_stream s) {
  int nb = mlx_array_ndim(x) - 2;
  int64_t n = 1, shape[nb > 0 ? nb : 1];
  for (int i = 0; i < nb; i++) n *= (shape[i] = mlx_array_dim(x, i));
  mlx_array r = mlx_array_new();
  int rc = mlx_arange(&r, 0, (double)n, 1, MLX_INT64, s);
  if (!rc) rc = mlx_reshape(res, r, shape, nb, s);
  mlx_array_free(r);
  return rc;
}

/* The primitive on matrices (>= 2-D, dtype dt) and int64 indices of one
 * shape: (idx..., M, N). */
static int record_gather_mm(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array li,
                            const mlx_array ri, int sorted, mlx_stream s) {
  int ni = mlx_array_ndim(li), nda = mlx_array_ndim(a), ndb = mlx_array_ndim(b);
  int64_t shape[ni + 2];
  for (int i = 0; i < ni; i++) shape[i] = mlx_array_dim(li, i);
  shape[ni] = mlx_array_dim(a, nda - 2);
  shape[ni + 1] = mlx_array_dim(b, ndb - 1);
  if (shape[ni] > INT_MAX || shape[ni + 1] > INT_MAX || mlx_array_dim(a, nda - 1) > INT_MAX)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[gather_mm] matrix dimensions over %d are not supported", INT_MAX);
  mlx_gather_mm_params_ p = {sorted};
  mlx_node_* ins[4] = {MLX_NODE(a), MLX_NODE(b), MLX_NODE(li), MLX_NODE(ri)};
  return mlx_op1_(res, &prim_gather_mm, &p, sizeof p, ins, 4, mlx_array_dtype(a), shape, ni + 2, s);
}

int mlx_gather_mm(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array lhs_indices,
                  const mlx_array rhs_indices, int sorted_indices, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "gather_mm"));
  MLX_TRY(mlx_check_array_(b, "gather_mm"));
  int has_l = lhs_indices.ctx != NULL, has_r = rhs_indices.ctx != NULL;
  if (!has_l && !has_r) return mlx_matmul(res, a, b, s);
  if ((has_l && !mlx_dtype_is_integer(mlx_array_dtype(lhs_indices))) ||
      (has_r && !mlx_dtype_is_integer(mlx_array_dtype(rhs_indices))))
    return mlx_error_(MLX_ERROR_DTYPE, "[gather_mm] Got indices with invalid dtype. Indices must be integral.");
  MLX_TRY(check_inner_dims(a, b, "gather_mm"));
  mlx_dtype dt = mlx_dtype_promote(mlx_array_dtype(a), mlx_array_dtype(b));
  if (!mlx_dtype_is_inexact(dt))
    return mlx_error_(MLX_ERROR_DTYPE,
                      "[gather_mm] Only inexact types are supported but %s and %s were provided which results in %s, "
                      "which is not a floating point type.",
                      mlx_dtype_name(mlx_array_dtype(a)), mlx_dtype_name(mlx_array_dtype(b)), mlx_dtype_name(dt));
  int a1 = mlx_array_ndim(a) == 1, b1 = mlx_array_ndim(b) == 1;
  tmps t;
  tmps_init(&t);
  mlx_array *am = &t.a[0], *bm = &t.a[1], *ac = &t.a[2], *bc = &t.a[3], *li = &t.a[4], *ri = &t.a[5],
            *lb = &t.a[6], *rb = &t.a[7], *l64 = &t.a[8], *r64 = &t.a[9], *o = &t.a[10];
  int rc = as_matrix(am, a, 0, s);
  if (!rc) rc = as_matrix(bm, b, 1, s);
  if (!rc) rc = cast_if(ac, *am, dt, s);
  if (!rc) rc = cast_if(bc, *bm, dt, s);
  if (!rc) rc = has_l ? mlx_array_set(li, lhs_indices) : batch_arange(li, *am, s);
  if (!rc) rc = has_r ? mlx_array_set(ri, rhs_indices) : batch_arange(ri, *bm, s);
  if (rc) goto done;
  {
    int nl = mlx_array_ndim(*li), nr = mlx_array_ndim(*ri), nd;
    int64_t shape[(nl > nr ? nl : nr) + 1];
    rc = mlx_broadcast_shape_(shape, &nd, mlx_array_shape(*li), nl, mlx_array_shape(*ri), nr, "gather_mm");
    if (!rc) rc = mlx_broadcast_to(lb, *li, shape, nd, s);
    if (!rc) rc = mlx_broadcast_to(rb, *ri, shape, nd, s);
  }
  if (!rc) rc = cast_if(l64, *lb, MLX_INT64, s);
  if (!rc) rc = cast_if(r64, *rb, MLX_INT64, s);
  if (!rc) rc = record_gather_mm(o, *ac, *bc, *l64, *r64, sorted_indices, s);
  if (!rc) rc = drop_vector_dims(res, *o, a1, b1, s);
done:
  tmps_free(&t);
  return rc;
}

/* Sums the T matrices of p (T, rows, cols) into the batch slots named by
 * idx (T int64 values in [0, nbatch)) of zeros shaped like `like`, cast
 * to its dtype: the scatter-add that undoes gather_mm's pick. */
static int scatter_rows(mlx_array* res, const mlx_array p, const mlx_array idx, const mlx_array like, mlx_stream s) {
  int nd = mlx_array_ndim(like);
  int64_t nbatch = 1, T = mlx_array_size(idx);
  for (int i = 0; i < nd - 2; i++) nbatch *= mlx_array_dim(like, i);
  int64_t rows = mlx_array_dim(like, nd - 2), cols = mlx_array_dim(like, nd - 1);
  int64_t flat[3] = {nbatch, rows, cols}, upd[4] = {T, 1, rows, cols};
  int axis = 0;
  tmps t;
  tmps_init(&t);
  int rc = mlx_zeros(&t.a[0], flat, 3, mlx_array_dtype(p), s);
  if (!rc) rc = mlx_reshape(&t.a[1], p, upd, 4, s);
  if (!rc) rc = mlx_scatter_add(&t.a[2], t.a[0], &idx, 1, t.a[1], &axis, s);
  if (!rc) rc = mlx_reshape(&t.a[3], t.a[2], mlx_array_shape(like), nd, s);
  if (!rc) rc = cast_if(res, t.a[3], mlx_array_dtype(like), s);
  tmps_free(&t);
  return rc;
}

/* d b for sorted rhs indices without the (T, K, N) products: the rows
 * a[l[t]] gathered and laid out as (K, T * M), the cotangent as (T * M, N),
 * and one segmented_mm over the runs of t with the same rhs index (run e
 * spans the t with r[t] == e, counted by comparisons, as the indices are
 * sorted). */
static int sorted_rhs_grad(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_array c,
                           const mlx_array lf, const mlx_array rf, mlx_stream s) {
  int na = mlx_array_ndim(a), nbd = mlx_array_ndim(b);
  int64_t m = mlx_array_dim(a, na - 2), k = mlx_array_dim(a, na - 1), n = mlx_array_dim(b, nbd - 1);
  int64_t T = mlx_array_size(lf), nba = 1, nbb = 1;
  for (int i = 0; i < na - 2; i++) nba *= mlx_array_dim(a, i);
  for (int i = 0; i < nbd - 2; i++) nbb *= mlx_array_dim(b, i);
  int64_t a3[3] = {nba, m, k}, at2[2] = {k, T * m}, c2[2] = {T * m, n}, col[2] = {nbb, 1}, row[2] = {1, T};
  int perm[3] = {2, 0, 1}, one = 1;
  tmps t;
  tmps_init(&t);
  int rc = mlx_reshape(&t.a[0], a, a3, 3, s);
  if (!rc) rc = mlx_take(&t.a[1], t.a[0], lf, 0, s);
  if (!rc) rc = mlx_transpose(&t.a[2], t.a[1], perm, 3, s);
  if (!rc) rc = mlx_reshape(&t.a[3], t.a[2], at2, 2, s);
  if (!rc) rc = mlx_reshape(&t.a[4], c, c2, 2, s);
  if (!rc) rc = mlx_arange(&t.a[5], 0, (double)nbb, 1, MLX_INT64, s);
  if (!rc) rc = mlx_reshape(&t.a[6], t.a[5], col, 2, s);
  if (!rc) rc = mlx_reshape(&t.a[7], rf, row, 2, s);
  if (!rc) rc = mlx_less(&t.a[8], t.a[7], t.a[6], s);
  if (!rc) rc = mlx_less_equal(&t.a[9], t.a[7], t.a[6], s);
  if (!rc) rc = mlx_sum_axes(&t.a[10], t.a[8], &one, 1, 0, s);
  if (!rc) rc = mlx_sum_axes(&t.a[11], t.a[9], &one, 1, 0, s);
  if (!rc) rc = mlx_array_new_int(&t.a[12], m, MLX_INT64);
  if (!rc) rc = mlx_multiply(&t.a[13], t.a[10], t.a[12], s);
  if (!rc) rc = mlx_multiply(&t.a[14], t.a[11], t.a[12], s);
  if (!rc) {
    mlx_array bounds[2] = {t.a[13], t.a[14]};
    rc = mlx_stack(&t.a[15], bounds, 2, 1, s);
  }
  if (!rc) rc = mlx_segmented_mm(&t.a[16], t.a[3], t.a[4], t.a[15], s);
  if (!rc) rc = mlx_reshape(&t.a[17], t.a[16], mlx_array_shape(b), nbd, s);
  if (!rc) rc = cast_if(res, t.a[17], mlx_array_dtype(b), s);
  tmps_free(&t);
  return rc;
}

/* d a[l[t]] += c[t] @ b[r[t]]^T, d b[r[t]] += a[l[t]]^T @ c[t]: the
 * per-index products by gather_mm itself, summed into the operands'
 * batches by scatter_rows (d b by one segmented_mm when the rhs indices
 * are sorted). Indices get no cotangent (zero, as upstream
 * gives none for integer inputs). */
static int gather_mm_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const mlx_gather_mm_params_* p = params;
  int64_t T = mlx_array_size(inputs[2]);
  int cn = mlx_array_ndim(cots[0]);
  int64_t c3[3] = {T, mlx_array_dim(cots[0], cn - 2), mlx_array_dim(cots[0], cn - 1)}, flat[1] = {T};
  tmps t;
  tmps_init(&t);
  mlx_array *c = &t.a[0], *ar = &t.a[1], *lf = &t.a[2], *rf = &t.a[3], *tr = &t.a[4], *prod = &t.a[5];
  int rc = mlx_reshape(c, cots[0], c3, 3, s);
  if (!rc) rc = mlx_arange(ar, 0, (double)T, 1, MLX_INT64, s);
  if (!rc) rc = mlx_reshape(lf, inputs[2], flat, 1, s);
  if (!rc) rc = mlx_reshape(rf, inputs[3], flat, 1, s);
  for (int k = 0; k < nargs && !rc; k++) {
    int w = argnums[k];
    if (w > 1) continue;
    mlx_array_free(*tr), mlx_array_free(*prod);
    *tr = mlx_array_new(), *prod = mlx_array_new();
    if (w == 0) {
      rc = mlx_swapaxes(tr, inputs[1], -1, -2, s);
      if (!rc) rc = record_gather_mm(prod, *c, *tr, *ar, *rf, 0, s);
      if (!rc) rc = scatter_rows(&in_cots[k], *prod, *lf, inputs[0], s);
    } else if (p->sorted) {
      rc = sorted_rhs_grad(&in_cots[k], inputs[0], inputs[1], *c, *lf, *rf, s);
    } else {
      rc = mlx_swapaxes(tr, inputs[0], -1, -2, s);
      if (!rc) rc = record_gather_mm(prod, *tr, *c, *lf, *ar, 0, s);
      if (!rc) rc = scatter_rows(&in_cots[k], *prod, *rf, inputs[1], s);
    }
  }
  tmps_free(&t);
  return rc;
}

static int gather_mm_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                         const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                         mlx_stream s) {
  const mlx_gather_mm_params_* p = params;
  mlx_array parts[2] = {mlx_array_new(), mlx_array_new()};
  int np = 0, rc = MLX_OK;
  for (int k = 0; k < nargs && !rc; k++) {
    if (argnums[k] == 0) rc = record_gather_mm(&parts[np++], tangents[k], inputs[1], inputs[2], inputs[3], p->sorted, s);
    else if (argnums[k] == 1)
      rc = record_gather_mm(&parts[np++], inputs[0], tangents[k], inputs[2], inputs[3], p->sorted, s);
  }
  if (!rc) {
    if (np == 2) rc = mlx_add(&out_tans[0], parts[0], parts[1], s);
    else if (np == 1) rc = mlx_array_set(&out_tans[0], parts[0]);
  }
  mlx_array_free(parts[0]), mlx_array_free(parts[1]);
  return rc;
}

/* Index i per example with the batch in front: a batched operand x
 * (batch moved to the front) is indexed as a flat batch of V * prod(x's
 * own batch), so its index becomes v * prod + i. */
static int vmap_index(mlx_array* res, const mlx_array idx, int iax, const mlx_array x, int xax, int64_t V,
                      mlx_stream s) {
  tmps t;
  tmps_init(&t);
  int rc = iax >= 0 ? mlx_moveaxis(&t.a[0], idx, iax, 0, s) : mlx_array_set(&t.a[0], idx);
  if (!rc && xax >= 0) {
    int nd = mlx_array_ndim(x) - 1, ni = mlx_array_ndim(t.a[0]) - (iax >= 0);
    int64_t per = 1, shape[ni + 1];
    for (int i = 0; i < nd - 2; i++) per *= mlx_array_dim(x, i + (i >= xax));
    shape[0] = V;
    for (int i = 1; i <= ni; i++) shape[i] = 1;
    rc = mlx_arange(&t.a[1], 0, (double)(V * per), (double)per, MLX_INT64, s);
    if (!rc) rc = mlx_reshape(&t.a[2], t.a[1], shape, ni + 1, s);
    if (!rc) rc = mlx_add(res, t.a[2], t.a[0], s);
  } else if (!rc) {
    rc = mlx_array_set(res, t.a[0]);
  }
  tmps_free(&t);
  return rc;
}

static int gather_mm_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                          int nout, const void* params, mlx_stream s) {
  int64_t V = 1;
  for (int i = 0; i < 4; i++)
    if (in_axes[i] >= 0) V = mlx_array_dim(inputs[i], in_axes[i]);
  tmps t;
  tmps_init(&t);
  mlx_array *a = &t.a[0], *b = &t.a[1], *l = &t.a[2], *r = &t.a[3], *lb = &t.a[4], *rb = &t.a[5];
  int rc = in_axes[0] >= 0 ? mlx_moveaxis(a, inputs[0], in_axes[0], 0, s) : mlx_array_set(a, inputs[0]);
  if (!rc) rc = in_axes[1] >= 0 ? mlx_moveaxis(b, inputs[1], in_axes[1], 0, s) : mlx_array_set(b, inputs[1]);
  if (!rc) rc = vmap_index(l, inputs[2], in_axes[2], inputs[0], in_axes[0], V, s);
  if (!rc) rc = vmap_index(r, inputs[3], in_axes[3], inputs[1], in_axes[1], V, s);
  if (!rc) {
    /* Both index arrays to (V, idx...). */
    int ni = mlx_array_ndim(inputs[2]) - (in_axes[2] >= 0);
    int64_t shape[ni + 1];
    shape[0] = V;
    for (int i = 0; i < ni; i++) shape[i + 1] = mlx_array_dim(inputs[2], i + (in_axes[2] >= 0 && i >= in_axes[2]));
    rc = mlx_broadcast_to(lb, *l, shape, ni + 1, s);
    if (!rc) rc = mlx_broadcast_to(rb, *r, shape, ni + 1, s);
  }
  /* The batched rhs indices need not stay sorted: the hint is dropped. */
  if (!rc) rc = record_gather_mm(&outs[0], *a, *b, *lb, *rb, 0, s);
  out_axes[0] = 0;
  tmps_free(&t);
  return rc;
}

/* ---- hadamard_transform ------------------------------------------------------------ */

static int hadamard_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
static int hadamard_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s);
static int hadamard_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s);

static const mlx_prim_ prim_hadamard = {.name = "hadamard_transform",
                                        .cpu = mlx_cpu_hadamard_,
                                        .vjp = hadamard_vjp,
                                        .jvp = hadamard_jvp,
                                        .vmap = hadamard_vmap,
                                        .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_hadamard);

static int record_hadamard(mlx_array* res, const mlx_array x, const mlx_hadamard_params_* p, mlx_stream s) {
  mlx_node_* in = MLX_NODE(x);
  return mlx_op1_(res, &prim_hadamard, p, sizeof *p, &in, 1, in->dtype, in->shape, in->ndim, s);
}

int mlx_hadamard_transform(mlx_array* res, const mlx_array a, int has_scale, float scale, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "hadamard_transform"));
  if (mlx_array_size(a) == 0)
    return mlx_error_(MLX_ERROR_SHAPE, "[hadamard_transform] Does not support empty arrays.");
  int nd = mlx_array_ndim(a);
  int64_t n = nd ? mlx_array_dim(a, nd - 1) : 1;
  mlx_hadamard_params_ p = {0};
  MLX_TRY(mlx_hadamard_decompose_(n, &p.m, &p.n));
  p.scale = has_scale ? scale : (float)(1.0 / sqrt((double)n));
  mlx_dtype dt = mlx_array_dtype(a);
  if (!mlx_dtype_is_floating(dt)) dt = MLX_FLOAT32;
  mlx_array x = mlx_array_new();
  int rc = cast_if(&x, a, dt, s);
  if (!rc) rc = record_hadamard(res, x, &p, s);
  mlx_array_free(x);
  return rc;
}

/* The transform is y = scale * (H_m (x) H_n) x along the last axis; its
 * transpose swaps H_m for H_m^T (H_n is symmetric). */
static int hadamard_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  mlx_hadamard_params_ p = *(const mlx_hadamard_params_*)params;
  p.transposed = !p.transposed;
  return record_hadamard(&in_cots[0], cots[0], &p, s);
}

static int hadamard_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s) {
  return record_hadamard(&out_tans[0], tangents[0], params, s);
}

/* Along the last axis: a batch there moves to the front. */
static int hadamard_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                         int nout, const void* params, mlx_stream s) {
  int nd = mlx_array_ndim(inputs[0]), ax = in_axes[0];
  if (ax != nd - 1) {
    out_axes[0] = ax;
    return record_hadamard(&outs[0], inputs[0], params, s);
  }
  mlx_array x = mlx_array_new();
  int rc = mlx_moveaxis(&x, inputs[0], ax, 0, s);
  if (!rc) rc = record_hadamard(&outs[0], x, params, s);
  mlx_array_free(x);
  out_axes[0] = 0;
  return rc;
}
