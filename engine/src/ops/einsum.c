/* einsum and einsum_path, built from public ops (transpose, reshape,
 * slice, sum, multiply, matmul), so every rule comes from those ops.
 *
 * As upstream MLX (after NumPy and opt_einsum): the subscripts are parsed
 * (implicit output: the letters used once, sorted, after the ellipsis
 * dims), each ellipsis becomes unused letters taken from the end of
 * "a..zA..Z" (so shorter ones align to the right and broadcast), a greedy
 * path picks which pairs to contract first (by the size it removes, then
 * the cost, within the naive cost and the largest term), and each step
 * takes diagonals of repeated letters, sums letters only one operand has,
 * then contracts a pair by one batched matmul or, when nothing is
 * contracted, multiplies and sums. The path and its FLOP counts match
 * upstream's; the axis order of intermediate results may differ, which
 * changes nothing in the results. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlx/matmul.h"

#include "../internal.h"

#define SUB_CAP 128 /* letters per subscript once ellipses are expanded */

typedef struct {
  char str[SUB_CAP + 1];
  int len;
  uint64_t set; /* bit per letter */
} sub_t;

static int letter_bit(char c) {
  return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26;
}

static int is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void sub_set(sub_t* s, const char* str, int len) {
  memcpy(s->str, str, (size_t)len);
  s->str[len] = '\0';
  s->len = len;
  s->set = 0;
  for (int i = 0; i < len; i++) s->set |= (uint64_t)1 << letter_bit(str[i]);
}

static int popcount64(uint64_t x) {
  return __builtin_popcountll(x);
}

/* One contraction of the path: the operands at positions (of the list as
 * it is at that step), with their subscripts, into output. */
typedef struct {
  int n;
  int pos[64];
  sub_t* in; /* n entries */
  sub_t out;
} step_t;

typedef struct {
  int nin; /* operands */
  sub_t* ins;
  sub_t out;
  int64_t dims[52]; /* size per letter (broadcast) */
  step_t* steps;
  int nsteps;
  uint64_t naive_cost, opt_cost;
  int naive_scaling, opt_scaling;
} plan_t;

static void plan_free(plan_t* p) {
  for (int i = 0; i < p->nsteps; i++) free(p->steps[i].in);
  free(p->steps);
  free(p->ins);
}

static uint64_t set_size(uint64_t set, const int64_t* dims) {
  uint64_t r = 1;
  for (int b = 0; b < 52; b++)
    if (set >> b & 1) r *= (uint64_t)dims[b];
  return r;
}

static uint64_t flop_count(uint64_t set, int inner, int nterms, const int64_t* dims) {
  uint64_t f = nterms - 1 > 1 ? (uint64_t)(nterms - 1) : 1;
  return set_size(set, dims) * (f + (inner ? 1 : 0));
}

/* Expands the ellipsis of sub (raw text, len chars) into out, with ell
 * letters; ndim < 0 for the output (ell = the longest seen). */
static int expand(sub_t* out, const char* sub, int len, const char* spare, int nspare, int ndim, int* max_ell,
                  int operand, const char* fn) {
  int have = 0, before = 0, after = 0, at = -1;
  for (int i = 0; i < len; i++) {
    if (!is_letter(sub[i])) {
      if (i + 2 >= len || sub[i] != '.' || sub[i + 1] != '.' || sub[i + 2] != '.')
        return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Subscripts must be letters, but got '%c'.", fn, sub[i]);
      if (have)
        return mlx_error_(MLX_ERROR_ARGUMENT,
                          "[%s] Only one ellipsis per subscript is allowed but found more in '%.*s'.", fn, len, sub);
      have = 1;
      at = i;
      i += 2;
      continue;
    }
    if (have) after++;
    else before++;
  }
  char buf[SUB_CAP + 1];
  int n = 0;
  int ell = 0;
  if (have) {
    if (ndim >= 0) {
      ell = ndim - before - after;
      if (ell < 0)
        return mlx_error_(MLX_ERROR_SHAPE,
                          "[%s] Operand %d has insufficient dimensions for subscript '%.*s'. The ellipsis requires at "
                          "least %d dimensions but the operand has %d dimensions.",
                          fn, operand, len, sub, before + after, ndim);
      if (ell > *max_ell) *max_ell = ell;
    } else {
      ell = *max_ell;
    }
    if (ell > nspare) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Too many dimensions for the ellipsis.", fn);
  }
  if (before + after + ell > SUB_CAP)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Subscript '%.*s' is too long.", fn, len, sub);
  for (int i = 0; i < len; i++) {
    if (i == at) {
      memcpy(buf + n, spare + nspare - ell, (size_t)ell);
      n += ell;
      i += 2;
      continue;
    }
    buf[n++] = sub[i];
  }
  sub_set(out, buf, n);
  return MLX_OK;
}

static int add_step(plan_t* p, int cap, const int* pos, int n, const sub_t* in, const sub_t* out) {
  if (p->nsteps >= cap || n > 64) return mlx_error_(MLX_ERROR_INTERNAL, "[einsum] path overflow");
  step_t* s = &p->steps[p->nsteps];
  s->in = malloc(sizeof(sub_t) * (size_t)n);
  if (!s->in) return mlx_error_(MLX_ERROR_MEMORY, "[einsum] out of memory");
  s->n = n;
  for (int i = 0; i < n; i++) {
    s->pos[i] = pos[i];
    s->in[i] = in[i];
  }
  s->out = *out;
  p->nsteps++;
  return MLX_OK;
}

typedef struct {
  int64_t removed;
  uint64_t cost;
  uint64_t out;
  int dims, x, y;
} cand_t;

/* The letters of a set ordered by size (then letter) as a subscript. */
static void set_to_sub(sub_t* s, uint64_t set, const int64_t* dims) {
  char buf[53];
  int n = 0;
  for (int b = 0; b < 52; b++)
    if (set >> b & 1) buf[n++] = (char)(b < 26 ? 'a' + b : 'A' + b - 26);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && dims[letter_bit(buf[j])] < dims[letter_bit(buf[j - 1])]; j--) {
      char t = buf[j];
      buf[j] = buf[j - 1];
      buf[j - 1] = t;
    }
  sub_set(s, buf, n);
}

static int greedy(plan_t* p, uint64_t cost_limit, uint64_t mem_limit) {
  int n = p->nin, ncur = n;
  sub_t* cur = malloc(sizeof(sub_t) * (size_t)n);
  int npairs = n * (n - 1) / 2, cap_c = npairs + n * n + 1;
  int* pairs = malloc(sizeof(int) * 2 * (size_t)(npairs + 1));
  cand_t* cands = malloc(sizeof(cand_t) * (size_t)cap_c);
  cand_t* next = malloc(sizeof(cand_t) * (size_t)cap_c);
  int rc = MLX_OK;
  if (!cur || !pairs || !cands || !next) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[einsum] out of memory");
    goto out;
  }
  memcpy(cur, p->ins, sizeof(sub_t) * (size_t)n);
  int np = 0, nc = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) pairs[2 * np] = i, pairs[2 * np + 1] = j, np++;
  uint64_t path_cost = 0;
  int path_scaling = 0;
  for (int it = 0; it < n - 1; it++) {
    for (int pass = 0; pass < 2; pass++) {
      if (pass == 1 && nc > 0) break;
      for (int q = 0; q < np; q++) {
        int p1 = pairs[2 * q], p2 = pairs[2 * q + 1];
        if (pass == 0 && !(cur[p1].set & cur[p2].set)) continue; /* outer products only as a fallback */
        uint64_t con = cur[p1].set | cur[p2].set, keep = 0;
        for (int i = 0; i < ncur; i++)
          if (i != p1 && i != p2) keep |= cur[i].set & con;
        keep |= p->out.set & con;
        uint64_t new_size = set_size(keep, p->dims);
        if (new_size > mem_limit) continue;
        int64_t removed = (int64_t)(set_size(cur[p1].set, p->dims) + set_size(cur[p2].set, p->dims) - new_size);
        int inner = popcount64(con) > popcount64(keep);
        uint64_t cost = flop_count(con, inner, 2, p->dims);
        if (path_cost + cost > cost_limit) continue;
        if (nc >= cap_c) continue;
        cands[nc++] = (cand_t){removed, cost, keep, popcount64(con), p1, p2};
      }
    }
    if (nc == 0) {
      /* The rest in one naive step. */
      int pos[64];
      uint64_t con = 0;
      for (int i = 0; i < ncur && i < 64; i++) pos[i] = i, con |= cur[i].set;
      int inner = (con & ~p->out.set) != 0;
      path_cost += flop_count(con, inner, ncur, p->dims);
      if (popcount64(con) > path_scaling) path_scaling = popcount64(con);
      rc = add_step(p, n + 1, pos, ncur, cur, &p->out);
      goto done;
    }
    int best = 0;
    for (int i = 1; i < nc; i++)
      if (cands[i].removed > cands[best].removed ||
          (cands[i].removed == cands[best].removed && cands[i].cost < cands[best].cost))
        best = i;
    cand_t b = cands[best];
    if (b.dims > path_scaling) path_scaling = b.dims;
    sub_t out;
    set_to_sub(&out, b.out, p->dims);
    int pos[2] = {b.x, b.y};
    sub_t two[2] = {cur[b.x], cur[b.y]};
    if ((rc = add_step(p, n + 1, pos, 2, two, &out))) goto out;
    /* Drop the pair, append its result. */
    int w = 0;
    for (int i = 0; i < ncur; i++)
      if (i != b.x && i != b.y) cur[w++] = cur[i];
    cur[w++] = out;
    ncur = w;
    int nn = 0;
    for (int i = 0; i < nc; i++) {
      cand_t c = cands[i];
      if (c.x == b.x || c.x == b.y || c.y == b.x || c.y == b.y) continue;
      c.x -= (c.x > b.x) + (c.x > b.y);
      c.y -= (c.y > b.x) + (c.y > b.y);
      next[nn++] = c;
    }
    memcpy(cands, next, sizeof(cand_t) * (size_t)nn);
    nc = nn;
    np = 0;
    for (int i = 0; i < ncur - 1; i++) pairs[2 * np] = i, pairs[2 * np + 1] = ncur - 1, np++;
    path_cost += b.cost;
  }
done:
  p->opt_cost = path_cost;
  p->opt_scaling = path_scaling;
  /* The last step produces the requested output. */
  if (!rc && p->nsteps > 0) p->steps[p->nsteps - 1].out = p->out;
out:
  free(cur), free(pairs), free(cands), free(next);
  return rc;
}

static int make_plan(plan_t* p, const char* subscripts, const mlx_array* ops, size_t nops, const char* fn) {
  memset(p, 0, sizeof *p);
  if (!subscripts) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] subscripts must not be NULL.", fn);
  if (nops == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] At least one operand is required.", fn);
  if (nops > 64) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] At most 64 operands are supported.", fn);
  for (size_t i = 0; i < nops; i++) MLX_TRY(mlx_check_array_(ops[i], fn));
  size_t slen = strlen(subscripts);
  char* str = malloc(slen + 1);
  char* rhs = malloc(slen + 8);
  if (!str || !rhs) {
    free(str), free(rhs);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", fn);
  }
  size_t n = 0;
  for (size_t i = 0; i < slen; i++)
    if (subscripts[i] != ' ') str[n++] = subscripts[i];
  str[n] = '\0';
  char* arrow = strstr(str, "->");
  int rc = MLX_OK;
  size_t lhs_len;
  if (arrow) {
    lhs_len = (size_t)(arrow - str);
    strcpy(rhs, arrow + 2);
  } else {
    /* Implicit output: "..." if any, then the letters used once, sorted. */
    lhs_len = n;
    int counts[128] = {0}, dots = 0;
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)str[i];
      if (c == '.') dots = 1;
      else if (c != ',' && c < 128) counts[c]++;
    }
    size_t r = 0;
    if (dots) rhs[r++] = '.', rhs[r++] = '.', rhs[r++] = '.';
    for (int c = 0; c < 128; c++)
      if (counts[c] == 1) rhs[r++] = (char)c;
    rhs[r] = '\0';
  }
  /* Split the inputs on commas, keeping empty ones (scalars). */
  size_t nsub = 1;
  for (size_t i = 0; i < lhs_len; i++) nsub += str[i] == ',';
  if (nsub != nops) {
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Number of operands, %zu, does not match number of input subscripts, %zu",
                    fn, nops, nsub);
    goto out;
  }
  /* Letters free for ellipses. */
  uint64_t used = 0;
  for (size_t i = 0; i < n; i++)
    if (is_letter(str[i])) used |= (uint64_t)1 << letter_bit(str[i]);
  char spare[52];
  int nspare = 0;
  for (int b = 0; b < 52; b++)
    if (!(used >> b & 1)) spare[nspare++] = (char)(b < 26 ? 'a' + b : 'A' + b - 26);
  p->nin = (int)nops;
  p->ins = malloc(sizeof(sub_t) * nops);
  if (!p->ins) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", fn);
    goto out;
  }
  int max_ell = 0;
  size_t start = 0;
  for (size_t i = 0; i < nops; i++) {
    size_t end = start;
    while (end < lhs_len && str[end] != ',') end++;
    rc = expand(&p->ins[i], str + start, (int)(end - start), spare, nspare, mlx_array_ndim(ops[i]), &max_ell, (int)i,
                fn);
    if (rc) goto out;
    start = end + 1;
  }
  rc = expand(&p->out, rhs, (int)strlen(rhs), spare, nspare, -1, &max_ell, -1, fn);
  if (rc) goto out;
  if (popcount64(p->out.set) != p->out.len) {
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Repeat indices not allowed in output.", fn);
    goto out;
  }
  uint64_t all = 0;
  int have_dim[52] = {0};
  for (int i = 0; i < p->nin; i++) {
    sub_t* in = &p->ins[i];
    const int64_t* shape = mlx_array_shape(ops[i]);
    if (in->len != mlx_array_ndim(ops[i])) {
      rc = mlx_error_(MLX_ERROR_SHAPE, "[%s] Invalid number of subscripts %d for input %d with %d dimensions.", fn,
                      in->len, i, mlx_array_ndim(ops[i]));
      goto out;
    }
    for (int j = 0; j < in->len; j++)
      for (int k = 0; k < j; k++)
        if (in->str[j] == in->str[k] && shape[j] != shape[k]) {
          rc = mlx_error_(MLX_ERROR_SHAPE,
                          "[%s] Dimensions of repeated subscripts do not have the same size (%lld != %lld).", fn,
                          (long long)shape[k], (long long)shape[j]);
          goto out;
        }
    for (int j = 0; j < in->len; j++) {
      int b = letter_bit(in->str[j]);
      int64_t d = shape[j];
      if (!have_dim[b]) {
        have_dim[b] = 1;
        p->dims[b] = d;
      } else if (d != 1 && p->dims[b] != 1 && p->dims[b] != d) {
        rc = mlx_error_(MLX_ERROR_SHAPE, "[%s] Cannot broadcast dimension %d of input %d to size %lld.", fn, j, i,
                        (long long)p->dims[b]);
        goto out;
      }
      if (d > p->dims[b]) p->dims[b] = d;
    }
    all |= in->set;
  }
  if (p->out.set & ~all) {
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[%s] Output subscripts must appear in the inputs.", fn);
    goto out;
  }
  uint64_t max_size = set_size(p->out.set, p->dims);
  for (int i = 0; i < p->nin; i++) {
    /* Upstream sizes each subscript letter by letter, repeats included. */
    uint64_t sz = 1;
    for (int j = 0; j < p->ins[i].len; j++) sz *= (uint64_t)p->dims[letter_bit(p->ins[i].str[j])];
    if (sz > max_size) max_size = sz;
  }
  int inner = (all & ~p->out.set) != 0;
  p->naive_cost = flop_count(all, inner, p->nin, p->dims);
  p->naive_scaling = popcount64(all);
  p->steps = calloc((size_t)p->nin + 1, sizeof(step_t));
  if (!p->steps) {
    rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", fn);
    goto out;
  }
  if (p->nin <= 2) {
    int pos[2] = {0, 1};
    rc = add_step(p, p->nin + 1, pos, p->nin, p->ins, &p->out);
    p->opt_cost = p->naive_cost;
    p->opt_scaling = p->naive_scaling;
  } else {
    rc = greedy(p, p->naive_cost, max_size);
  }
out:
  free(str), free(rhs);
  if (rc) plan_free(p), memset(p, 0, sizeof *p);
  return rc;
}

int mlx_einsum_path(int* positions, int* counts, size_t* nsteps, char* summary, size_t summary_cap,
                    const char* subscripts, const mlx_array* operands, size_t n) {
  plan_t p;
  MLX_TRY(make_plan(&p, subscripts, operands, n, "einsum_path"));
  int k = 0;
  for (int i = 0; i < p.nsteps; i++) {
    counts[i] = p.steps[i].n;
    for (int j = 0; j < p.steps[i].n; j++) positions[k++] = p.steps[i].pos[j];
  }
  *nsteps = (size_t)p.nsteps;
  if (summary && summary_cap)
    snprintf(summary, summary_cap,
             "  Complete contraction:  %s\n         Naive scaling:  %d\n     Optimized scaling:  %d\n      Naive FLOP "
             "count:  %llu\n  Optimized FLOP count:  %llu\n",
             subscripts, p.naive_scaling, p.opt_scaling, (unsigned long long)p.naive_cost,
             (unsigned long long)p.opt_cost);
  plan_free(&p);
  return MLX_OK;
}

/* ---- execution ------------------------------------------------------------- */

static int find_char(const sub_t* s, char c) {
  for (int i = 0; i < s->len; i++)
    if (s->str[i] == c) return i;
  return -1;
}

/* Replaces x (subscript sub) by its diagonal over every repeated letter;
 * each collapsed letter moves to the end of the subscript. */
static int collapse_repeats(mlx_array* x, sub_t* sub, mlx_stream s) {
  int rc = MLX_OK;
  for (int i = 0; i < sub->len && !rc;) {
    char c = sub->str[i];
    int reps = 0;
    for (int j = 0; j < sub->len; j++) reps += sub->str[j] == c;
    if (reps < 2) {
      i++;
      continue;
    }
    /* Axes of c to the end, flattened to n^reps, sliced with step
     * 1 + n + ... + n^(reps-1): the diagonal. */
    int nd = sub->len, perm[nd], w = 0;
    char nstr[SUB_CAP + 1];
    for (int j = 0; j < nd; j++)
      if (sub->str[j] != c) nstr[w] = sub->str[j], perm[w++] = j;
    int kept = w;
    for (int j = 0; j < nd; j++)
      if (sub->str[j] == c) perm[w++] = j;
    int64_t dn = mlx_array_dim(*x, i), flat[kept + 1], step = 0, pw = 1;
    for (int j = 0; j < kept; j++) flat[j] = mlx_array_dim(*x, perm[j]);
    flat[kept] = 1;
    for (int r = 0; r < reps; r++) flat[kept] *= dn, step += pw, pw *= dn;
    int64_t st[kept + 1], sp[kept + 1], sd[kept + 1];
    for (int j = 0; j < kept; j++) st[j] = 0, sp[j] = flat[j], sd[j] = 1;
    st[kept] = 0, sp[kept] = flat[kept], sd[kept] = step;
    mlx_array t1 = mlx_array_new(), t2 = mlx_array_new();
    rc = mlx_transpose(&t1, *x, perm, (size_t)nd, s);
    if (!rc) rc = mlx_reshape(&t2, t1, flat, kept + 1, s);
    if (!rc) rc = mlx_slice(x, t2, st, sp, sd, kept + 1, s);
    mlx_array_free(t1), mlx_array_free(t2);
    nstr[kept] = c;
    sub_set(sub, nstr, kept + 1);
    i = 0; /* rescan: positions moved */
  }
  return rc;
}

/* Sums the axes of x whose letters are not in keep. */
static int sum_unused(mlx_array* x, sub_t* sub, uint64_t keep, mlx_stream s) {
  int axes[SUB_CAP], na = 0, w = 0;
  char nstr[SUB_CAP + 1];
  for (int i = 0; i < sub->len; i++) {
    if (keep >> letter_bit(sub->str[i]) & 1) nstr[w++] = sub->str[i];
    else axes[na++] = i;
  }
  if (!na) return MLX_OK;
  mlx_array t = mlx_array_new();
  int rc = mlx_sum_axes(&t, *x, axes, (size_t)na, 0, s);
  if (!rc) rc = mlx_array_set(x, t);
  mlx_array_free(t);
  sub_set(sub, nstr, w);
  return rc;
}

/* A pair with contracted letters: (batch, a-only, contracted) @
 * (batch, contracted, b-only) as one matmul, then the output order. */
static int contract_pair(mlx_array* res, mlx_array a, const sub_t* sa, mlx_array b, const sub_t* sb, const sub_t* so,
                         mlx_stream s) {
  int nbat = 0, nca = 0, ncb = 0, ncon = 0;
  int bat_a[SUB_CAP], bat_b[SUB_CAP], con_a[SUB_CAP], con_b[SUB_CAP], cat_a[SUB_CAP], cat_b[SUB_CAP];
  for (int i = 0; i < sa->len; i++) {
    char c = sa->str[i];
    if (find_char(so, c) < 0) con_a[ncon] = i, con_b[ncon++] = find_char(sb, c);
    else if (find_char(sb, c) >= 0) bat_a[nbat] = i, bat_b[nbat++] = find_char(sb, c);
    else cat_a[nca++] = i;
  }
  for (int i = 0; i < sb->len; i++) {
    char c = sb->str[i];
    if (find_char(so, c) >= 0 && find_char(sa, c) < 0) cat_b[ncb++] = i;
  }
  /* Broadcast the shared dims to their common size. */
  int na = sa->len, nb = sb->len;
  int64_t shp_a[na + 1], shp_b[nb + 1];
  for (int i = 0; i < na; i++) shp_a[i] = mlx_array_dim(a, i);
  for (int i = 0; i < nb; i++) shp_b[i] = mlx_array_dim(b, i);
  for (int i = 0; i < ncon; i++) {
    int64_t d = shp_a[con_a[i]] > shp_b[con_b[i]] ? shp_a[con_a[i]] : shp_b[con_b[i]];
    shp_a[con_a[i]] = shp_b[con_b[i]] = d;
  }
  for (int i = 0; i < nbat; i++) {
    int64_t d = shp_a[bat_a[i]] > shp_b[bat_b[i]] ? shp_a[bat_a[i]] : shp_b[bat_b[i]];
    shp_a[bat_a[i]] = shp_b[bat_b[i]] = d;
  }
  int perm_a[na + 1], perm_b[nb + 1], w = 0;
  int64_t ra[nbat + 3], rb[nbat + 3], ro[nbat + nca + ncb + 1], m = 1, k = 1, n = 1;
  for (int i = 0; i < nbat; i++) perm_a[w++] = bat_a[i], ra[i] = rb[i] = ro[i] = shp_a[bat_a[i]];
  for (int i = 0; i < nca; i++) perm_a[w++] = cat_a[i], m *= shp_a[cat_a[i]], ro[nbat + i] = shp_a[cat_a[i]];
  for (int i = 0; i < ncon; i++) perm_a[w++] = con_a[i], k *= shp_a[con_a[i]];
  w = 0;
  for (int i = 0; i < nbat; i++) perm_b[w++] = bat_b[i];
  for (int i = 0; i < ncon; i++) perm_b[w++] = con_b[i];
  for (int i = 0; i < ncb; i++) perm_b[w++] = cat_b[i], n *= shp_b[cat_b[i]], ro[nbat + nca + i] = shp_b[cat_b[i]];
  ra[nbat] = m, ra[nbat + 1] = k;
  rb[nbat] = k, rb[nbat + 1] = n;
  /* Letters of the product, then the permutation to the output order. */
  char pstr[SUB_CAP + 1];
  int np = 0;
  for (int i = 0; i < nbat; i++) pstr[np++] = sa->str[bat_a[i]];
  for (int i = 0; i < nca; i++) pstr[np++] = sa->str[cat_a[i]];
  for (int i = 0; i < ncb; i++) pstr[np++] = sb->str[cat_b[i]];
  int operm[np + 1];
  for (int i = 0; i < so->len; i++)
    for (int j = 0; j < np; j++)
      if (pstr[j] == so->str[i]) operm[i] = j;
  mlx_array t[8];
  for (int i = 0; i < 8; i++) t[i] = mlx_array_new();
  int rc = mlx_broadcast_to(&t[0], a, shp_a, na, s);
  if (!rc) rc = mlx_broadcast_to(&t[1], b, shp_b, nb, s);
  if (!rc) rc = mlx_transpose(&t[2], t[0], perm_a, (size_t)na, s);
  if (!rc) rc = mlx_reshape(&t[3], t[2], ra, nbat + 2, s);
  if (!rc) rc = mlx_transpose(&t[4], t[1], perm_b, (size_t)nb, s);
  if (!rc) rc = mlx_reshape(&t[5], t[4], rb, nbat + 2, s);
  if (!rc) rc = mlx_matmul(&t[6], t[3], t[5], s);
  if (!rc) rc = mlx_reshape(&t[7], t[6], ro, np, s);
  if (!rc) rc = mlx_transpose(res, t[7], operm, (size_t)np, s);
  for (int i = 0; i < 8; i++) mlx_array_free(t[i]);
  return rc;
}

/* Several operands multiplied with broadcasting over all their letters,
 * then summed over the letters not in the output. */
static int naive(mlx_array* res, mlx_array* xs, const sub_t* subs, int n, const sub_t* so, mlx_stream s) {
  char canon[SUB_CAP + 1];
  int nc = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < subs[i].len; j++) {
      char c = subs[i].str[j];
      int seen = 0;
      for (int k = 0; k < nc; k++) seen |= canon[k] == c;
      if (!seen) {
        if (nc >= SUB_CAP) return mlx_error_(MLX_ERROR_ARGUMENT, "[einsum] too many letters");
        canon[nc++] = c;
      }
    }
  mlx_array acc = mlx_array_new(), t1 = mlx_array_new(), t2 = mlx_array_new(), t3 = mlx_array_new();
  int rc = MLX_OK;
  for (int i = 0; i < n && !rc; i++) {
    /* Operand axes in canonical order, 1s for the letters it lacks. */
    int perm[SUB_CAP], w = 0;
    int64_t shape[SUB_CAP];
    for (int k = 0; k < nc; k++) {
      int at = find_char(&subs[i], canon[k]);
      if (at >= 0) perm[w++] = at, shape[k] = mlx_array_dim(xs[i], at);
      else shape[k] = 1;
    }
    rc = mlx_transpose(&t1, xs[i], perm, (size_t)w, s);
    if (!rc) rc = mlx_reshape(&t2, t1, shape, nc, s);
    if (!rc) rc = i == 0 ? mlx_array_set(&acc, t2) : mlx_multiply(&t3, acc, t2, s);
    if (!rc && i > 0) rc = mlx_array_set(&acc, t3);
  }
  int axes[SUB_CAP], na = 0, w = 0;
  char left[SUB_CAP + 1];
  for (int k = 0; k < nc; k++) {
    if (find_char(so, canon[k]) < 0) axes[na++] = k;
    else left[w++] = canon[k];
  }
  if (!rc && na) {
    rc = mlx_sum_axes(&t1, acc, axes, (size_t)na, 0, s);
    if (!rc) rc = mlx_array_set(&acc, t1);
  }
  int operm[SUB_CAP];
  for (int i = 0; i < so->len; i++)
    for (int k = 0; k < w; k++)
      if (left[k] == so->str[i]) operm[i] = k;
  if (!rc) rc = mlx_transpose(res, acc, operm, (size_t)so->len, s);
  mlx_array_free(acc), mlx_array_free(t1), mlx_array_free(t2), mlx_array_free(t3);
  return rc;
}

int mlx_einsum(mlx_array* res, const char* subscripts, const mlx_array* operands, size_t n, const mlx_stream s) {
  plan_t p;
  MLX_TRY(make_plan(&p, subscripts, operands, n, "einsum"));
  /* The working list: operands, then each step's result appended. */
  int cap = p.nin + p.nsteps + 1, cnt = p.nin;
  mlx_array* list = malloc(sizeof(mlx_array) * (size_t)cap);
  if (!list) {
    plan_free(&p);
    return mlx_error_(MLX_ERROR_MEMORY, "[einsum] out of memory");
  }
  for (int i = 0; i < cap; i++) list[i] = mlx_array_new();
  int rc = MLX_OK;
  for (int i = 0; i < p.nin && !rc; i++) rc = mlx_array_set(&list[i], operands[i]);
  for (int st = 0; st < p.nsteps && !rc; st++) {
    step_t* step = &p.steps[st];
    mlx_array xs[64];
    for (int i = 0; i < step->n; i++) xs[i] = mlx_array_new();
    for (int i = 0; i < step->n && !rc; i++) rc = mlx_array_set(&xs[i], list[step->pos[i]]);
    for (int i = 0; i < step->n && !rc; i++)
      if (popcount64(step->in[i].set) < step->in[i].len) rc = collapse_repeats(&xs[i], &step->in[i], s);
    /* Letters that only one input of the step has (and not the output)
     * are summed away first. */
    for (int i = 0; i < step->n && !rc; i++) {
      uint64_t others = step->out.set;
      for (int j = 0; j < step->n; j++)
        if (j != i) others |= step->in[j].set;
      rc = sum_unused(&xs[i], &step->in[i], others, s);
    }
    mlx_array r = mlx_array_new();
    if (!rc) {
      int dot = step->n == 2 && (step->in[0].set & ~step->out.set);
      rc = dot ? contract_pair(&r, xs[0], &step->in[0], xs[1], &step->in[1], &step->out, s)
               : naive(&r, xs, step->in, step->n, &step->out, s);
    }
    for (int i = 0; i < step->n; i++) mlx_array_free(xs[i]);
    if (!rc) {
      /* Remove the step's operands (positions ascending), append r. */
      int w = 0;
      for (int i = 0; i < cnt; i++) {
        int used = 0;
        for (int j = 0; j < step->n; j++) used |= step->pos[j] == i;
        if (used) {
          mlx_array_free(list[i]);
          list[i] = mlx_array_new();
        } else {
          mlx_array tmp = list[w];
          list[w] = list[i];
          list[i] = tmp;
          w++;
        }
      }
      mlx_array_free(list[w]);
      list[w] = r;
      cnt = w + 1;
    } else {
      mlx_array_free(r);
    }
  }
  if (!rc) rc = mlx_array_set(res, list[0]);
  for (int i = 0; i < cap; i++) mlx_array_free(list[i]);
  free(list);
  plan_free(&p);
  return rc;
}
