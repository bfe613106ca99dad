/* Table-driven checks of the transform rules, shared by the families'
 * test_grad_<family>.c files.
 *
 *   check_grad(name, fn, ctx, inputs, nin)   vjp and jvp of fn (float64
 *       inputs) against central finite differences (check_grad_eps for
 *       another step and tolerance);
 *   check_vmap(name, fn, ctx, inputs, in_axes, nin)   vmap of fn against a
 *       loop over the batch, slice by slice.
 *
 * fn computes one output from nin inputs with public ops. */
#ifndef MLX_TEST_GRADCHECK_H
#define MLX_TEST_GRADCHECK_H

#include "harness.h"

typedef int (*op_fn)(mlx_array* out, const mlx_array* in, void* ctx);

typedef struct {
  op_fn fn;
  void* ctx;
  int nin;
} op_closure;

static int op_closure_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  op_closure* c = payload;
  mlx_array in[8], out = mlx_array_new();
  for (int i = 0; i < c->nin; i++) {
    in[i] = mlx_array_new();
    if (mlx_vector_array_get(&in[i], inputs, (size_t)i)) return mlx_last_error_code();
  }
  int rc = c->fn(&out, in, c->ctx);
  if (!rc) rc = mlx_vector_array_append(outputs, out);
  mlx_array_free(out);
  for (int i = 0; i < c->nin; i++) mlx_array_free(in[i]);
  return rc;
}

/* A deterministic float64 array of values in [-1, 1) shaped like a. */
static mlx_array gc_random_like(mlx_array a, unsigned* seed) {
  int64_t n = mlx_array_size(a);
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    v[i] = (double)(*seed >> 8) / (double)(1u << 24) * 2.0 - 1.0;
  }
  mlx_array r = mlx_array_new();
  mlx_array_new_data(&r, v, mlx_array_shape(a), mlx_array_ndim(a), MLX_FLOAT64);
  free(v);
  return r;
}

/* f(inputs with inputs[which] += scale * dir) as doubles into out (cap n). */
static int64_t gc_eval_shifted(double* out, int64_t n, op_fn fn, void* ctx, const mlx_array* in, int nin, int which,
                               mlx_array dir, double scale) {
  mlx_array shifted[8], y = mlx_array_new(), sc = mlx_array_new(), d = mlx_array_new();
  for (int i = 0; i < nin; i++) {
    shifted[i] = mlx_array_new();
    mlx_array_set(&shifted[i], in[i]);
  }
  mlx_array_new_float(&sc, scale, MLX_FLOAT64);
  mlx_multiply(&d, dir, sc, S);
  mlx_add(&shifted[which], in[which], d, S);
  int64_t got = fn(&y, shifted, ctx) ? -1 : read_f64(out, n, y);
  for (int i = 0; i < nin; i++) mlx_array_free(shifted[i]);
  mlx_array_free(y), mlx_array_free(sc), mlx_array_free(d);
  return got;
}

/* vjp and jvp of fn at inputs (float64) against central finite
 * differences with step eps, agreeing to tol relative to 1 + |fd|. */
static void check_grad_eps(const char* name, op_fn fn, void* ctx, const mlx_array* inputs, int nin, double eps,
                           double tol) {
  op_closure oc = {fn, ctx, nin};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new(),
                   cots = mlx_vector_array_new();
  for (int i = 0; i < nin; i++) mlx_vector_array_append(prim, inputs[i]);
  mlx_array y = mlx_array_new();
  unsigned seed = 12345;
  harness_checks++;
  if (fn(&y, inputs, ctx)) {
    harness_failures++;
    fprintf(stderr, "[%s] forward failed: %s\n", name, mlx_last_error());
    goto done;
  }
  int64_t ny = mlx_array_size(y);
  mlx_array cot = gc_random_like(y, &seed);
  mlx_vector_array_append(cots, cot);
  harness_checks++;
  if (mlx_vjp(outs, vjps, f, prim, cots)) {
    harness_failures++;
    fprintf(stderr, "[%s] vjp failed: %s\n", name, mlx_last_error());
    mlx_array_free(cot);
    goto done;
  }
  double* cv = malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
  double* yp = malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
  double* ym = malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
  read_f64(cv, ny, cot);
  for (int i = 0; i < nin; i++) {
    if (!mlx_dtype_is_floating(mlx_array_dtype(inputs[i]))) continue;
    mlx_array g = mlx_array_new();
    mlx_vector_array_get(&g, vjps, (size_t)i);
    int64_t nx = mlx_array_size(inputs[i]);
    double* gv = malloc(sizeof(double) * (size_t)(nx > 0 ? nx : 1));
    double* unit = calloc((size_t)(nx > 0 ? nx : 1), sizeof(double));
    read_f64(gv, nx, g);
    int64_t step = nx > 24 ? nx / 24 : 1;
    for (int64_t j = 0; j < nx; j += step) {
      unit[j] = 1;
      mlx_array dir = mlx_array_new();
      mlx_array_new_data(&dir, unit, mlx_array_shape(inputs[i]), mlx_array_ndim(inputs[i]), MLX_FLOAT64);
      unit[j] = 0;
      gc_eval_shifted(yp, ny, fn, ctx, inputs, nin, i, dir, eps);
      gc_eval_shifted(ym, ny, fn, ctx, inputs, nin, i, dir, -eps);
      double fd = 0;
      for (int64_t k = 0; k < ny; k++) fd += cv[k] * (yp[k] - ym[k]) / (2 * eps);
      harness_checks++;
      if (!(fabs(fd - gv[j]) <= tol * (1 + fabs(fd)))) {
        harness_failures++;
        fprintf(stderr, "[%s] vjp of input %d element %lld: got %.10g, finite difference %.10g\n", name, i,
                (long long)j, gv[j], fd);
        mlx_array_free(dir);
        break;
      }
      mlx_array_free(dir);
    }
    /* jvp along a random direction of this input. */
    mlx_array t = gc_random_like(inputs[i], &seed);
    mlx_vector_array tans = mlx_vector_array_new(), jo = mlx_vector_array_new(), jv = mlx_vector_array_new();
    for (int k = 0; k < nin; k++) {
      mlx_array z = mlx_array_new();
      if (k == i) mlx_array_set(&z, t);
      else mlx_zeros_like(&z, inputs[k], S);
      mlx_vector_array_append(tans, z);
      mlx_array_free(z);
    }
    harness_checks++;
    if (mlx_jvp(jo, jv, f, prim, tans)) {
      harness_failures++;
      fprintf(stderr, "[%s] jvp failed: %s\n", name, mlx_last_error());
    } else {
      mlx_array jt = mlx_array_new();
      mlx_vector_array_get(&jt, jv, 0);
      double* jvals = malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
      read_f64(jvals, ny, jt);
      gc_eval_shifted(yp, ny, fn, ctx, inputs, nin, i, t, eps);
      gc_eval_shifted(ym, ny, fn, ctx, inputs, nin, i, t, -eps);
      for (int64_t k = 0; k < ny; k++) {
        double fd = (yp[k] - ym[k]) / (2 * eps);
        harness_checks++;
        if (!(fabs(fd - jvals[k]) <= tol * (1 + fabs(fd)))) {
          harness_failures++;
          fprintf(stderr, "[%s] jvp of input %d, output element %lld: got %.10g, finite difference %.10g\n", name, i,
                  (long long)k, jvals[k], fd);
          break;
        }
      }
      free(jvals);
      mlx_array_free(jt);
    }
    mlx_vector_array_free(tans), mlx_vector_array_free(jo), mlx_vector_array_free(jv);
    mlx_array_free(t), mlx_array_free(g);
    free(gv), free(unit);
  }
  free(cv), free(yp), free(ym);
  mlx_array_free(cot);
done:
  mlx_array_free(y);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
}

/* check_grad_eps with the step and tolerance float64 math allows. */
static void check_grad(const char* name, op_fn fn, void* ctx, const mlx_array* inputs, int nin) {
  check_grad_eps(name, fn, ctx, inputs, nin, 1e-6, 1e-5);
}

/* vmap of fn over inputs (batched along in_axes[i], or MLX_VMAP_NONE)
 * against fn applied to each slice, results compared at out axis 0. */
static void check_vmap(const char* name, op_fn fn, void* ctx, const mlx_array* inputs, const int* in_axes, int nin) {
  op_closure oc = {fn, ctx, nin};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array in = mlx_vector_array_new(), outs = mlx_vector_array_new();
  for (int i = 0; i < nin; i++) mlx_vector_array_append(in, inputs[i]);
  int out_axis = 0;
  harness_checks++;
  if (mlx_vmap(outs, f, in, in_axes, (size_t)nin, &out_axis, 1)) {
    harness_failures++;
    fprintf(stderr, "[%s] vmap failed: %s\n", name, mlx_last_error());
    goto done;
  }
  mlx_array batched = mlx_array_new();
  mlx_vector_array_get(&batched, outs, 0);
  int64_t nb = mlx_array_dim(batched, 0), total = mlx_array_size(batched);
  double* bv = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
  read_f64(bv, total, batched);
  int64_t per = nb ? total / nb : 0;
  double* sv = malloc(sizeof(double) * (size_t)(per > 0 ? per : 1));
  for (int64_t b = 0; b < nb; b++) {
    mlx_array sl[8];
    for (int i = 0; i < nin; i++) {
      sl[i] = mlx_array_new();
      if (in_axes[i] == MLX_VMAP_NONE) {
        mlx_array_set(&sl[i], inputs[i]);
        continue;
      }
      int nd = mlx_array_ndim(inputs[i]), ax = in_axes[i] < 0 ? in_axes[i] + nd : in_axes[i];
      int64_t st[16], sp[16], stp[16];
      for (int d = 0; d < nd; d++) {
        st[d] = d == ax ? b : 0;
        sp[d] = d == ax ? b + 1 : mlx_array_dim(inputs[i], d);
        stp[d] = 1;
      }
      mlx_array tmp = mlx_array_new();
      mlx_slice(&tmp, inputs[i], st, sp, stp, nd, S);
      mlx_squeeze_axes(&sl[i], tmp, &ax, 1, S);
      mlx_array_free(tmp);
    }
    mlx_array y = mlx_array_new();
    harness_checks++;
    if (fn(&y, sl, ctx) || read_f64(sv, per, y) != per) {
      harness_failures++;
      fprintf(stderr, "[%s] per-slice call failed: %s\n", name, mlx_last_error());
    } else {
      for (int64_t k = 0; k < per; k++) {
        double e = sv[k], g = bv[b * per + k];
        if (!(fabs(e - g) <= 1e-6 * (1 + fabs(e))) && !(isnan(e) && isnan(g))) {
          harness_failures++;
          fprintf(stderr, "[%s] vmap batch %lld element %lld: got %.10g, loop gives %.10g\n", name, (long long)b,
                  (long long)k, g, e);
          break;
        }
      }
    }
    mlx_array_free(y);
    for (int i = 0; i < nin; i++) mlx_array_free(sl[i]);
  }
  free(bv), free(sv);
  mlx_array_free(batched);
done:
  mlx_vector_array_free(in), mlx_vector_array_free(outs);
  mlx_closure_free(f);
}

#endif
