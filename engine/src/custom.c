/* Custom transforms: custom_function (a closure whose vjp, jvp and vmap
 * come from other closures), checkpoint and depends.
 *
 * Calling a custom function runs fun, then records one "custom_function"
 * op whose inputs are the primals followed by fun's outputs behind
 * stop_gradient, and whose outputs are views of the latter. The values
 * come from fun's graph; the transforms meet the op before fun's graph and
 * apply its rules, which call the closures, while stop_gradient keeps them
 * from also going through fun. The op owns a reference to the state that
 * holds the closures, released through the primitive's params_free when
 * the op goes (after evaluation, or with its last output). */
#include <stdlib.h>

#include "internal.h"

typedef struct {
  atomic_int refcount;
  mlx_closure fun, vjp, jvp, vmap; /* owned; an empty rule goes through fun */
  int checkpoint;                   /* vjp recomputes fun after the outputs */
} custom_state;

/* The op's params: one reference to the state. */
typedef struct {
  custom_state* state;
} custom_params;

static void state_release(custom_state* st) {
  if (atomic_fetch_sub_explicit(&st->refcount, 1, memory_order_acq_rel) != 1) return;
  mlx_closure_free(st->fun);
  mlx_closure_free(st->vjp);
  mlx_closure_free(st->jvp);
  mlx_closure_free(st->vmap);
  free(st);
}

static void state_release_payload(void* payload) {
  state_release(payload);
}

static void custom_params_free(void* params) {
  state_release(((custom_params*)params)->state);
}

/* ---- small list helpers -------------------------------------------------- */
/* Appends arrays[0..n) to v. */
static int append_all(mlx_vector_array v, const mlx_array* arrays, int n) {
  for (int i = 0; i < n; i++) MLX_TRY(mlx_vector_array_append(v, arrays[i]));
  return MLX_OK;
}

static int same_shape(const mlx_node_* a, const mlx_node_* b) {
  return a->ndim == b->ndim && (!a->ndim || !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim));
}

/* Frees every non-NULL list handle given. */
static void free_lists(int count, mlx_vector_array* lists) {
  for (int i = 0; i < count; i++) mlx_vector_array_free(lists[i]);
}

static int lists_ok(int count, const mlx_vector_array* lists) {
  for (int i = 0; i < count; i++)
    if (!lists[i].ctx) return mlx_last_error_code();
  return MLX_OK;
}

/* ---- the custom_function primitive --------------------------------------- */
/* Output i is a view of input nin - nout + i (fun's output i). */
static int view_tail_kernel(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)params;
  for (int i = 0; i < nout; i++) {
    mlx_node_* in = ins[nin - nout + i];
    mlx_node_set_view_(outs[i], in, in->offset, in->strides);
  }
  return MLX_OK;
}

/* Result j of list `res` into *out, checked to have like's shape. */
static int take_checked(mlx_array* out, mlx_vector_array res, size_t j, const mlx_node_* like, const char* what) {
  mlx_node_* r = mlx_vector_node_(res, j);
  if (!same_shape(r, like))
    return mlx_error_(MLX_ERROR_SHAPE, "[custom_function] the %s returned an array of a different shape for entry %zu",
                      what, j);
  return mlx_vector_array_get(out, res, j);
}

/* vjp through fun: the vjp of fun at the primals (checkpoint: at primals
 * that depend on the outputs, so the recomputation runs after them). */
static int vjp_through_fun(mlx_vector_array res, const custom_state* st, const mlx_array* inputs, int nprim,
                           const mlx_array* outputs, const mlx_array* cots, int nout) {
  mlx_vector_array l[4] = {mlx_vector_array_new(), mlx_vector_array_new(), mlx_vector_array_new(),
                           mlx_vector_array_new()};
  mlx_vector_array prim = l[0], cot = l[1], outs = l[2], deps = l[3];
  int rc = lists_ok(4, l);
  if (rc == MLX_OK) rc = append_all(cot, cots, nout);
  if (rc == MLX_OK && st->checkpoint) {
    mlx_vector_array plain = mlx_vector_array_new();
    rc = plain.ctx ? append_all(plain, inputs, nprim) : mlx_last_error_code();
    if (rc == MLX_OK) rc = append_all(deps, outputs, nout);
    if (rc == MLX_OK) rc = mlx_depends(prim, plain, deps);
    mlx_vector_array_free(plain);
  } else if (rc == MLX_OK) {
    rc = append_all(prim, inputs, nprim);
  }
  if (rc == MLX_OK) rc = mlx_vjp(outs, res, st->fun, prim, cot);
  free_lists(4, l);
  return rc;
}

static int custom_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  const custom_state* st = ((const custom_params*)params)->state;
  int nprim = nin - nout, wanted = 0;
  for (int k = 0; k < nargs; k++) wanted |= argnums[k] < nprim;
  /* Only fun's outputs (behind stop_gradient) asked: their cotangent is
   * zero anyway. */
  if (!wanted) return MLX_OK;
  mlx_vector_array l[2] = {mlx_vector_array_new(), mlx_vector_array_new()};
  mlx_vector_array args = l[0], res = l[1];
  int rc = lists_ok(2, l);
  if (rc == MLX_OK && st->vjp.ctx) {
    rc = append_all(args, inputs, nprim);
    if (rc == MLX_OK) rc = append_all(args, cots, nout);
    if (rc == MLX_OK) rc = append_all(args, outputs, nout);
    if (rc == MLX_OK) rc = mlx_closure_apply(res, st->vjp, args);
  } else if (rc == MLX_OK) {
    rc = vjp_through_fun(res, st, inputs, nprim, outputs, cots, nout);
  }
  if (rc == MLX_OK && mlx_vector_array_size(res) != (size_t)nprim)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] the vjp returned %zu arrays for %d primals",
                    mlx_vector_array_size(res), nprim);
  for (int k = 0; rc == MLX_OK && k < nargs; k++)
    if (argnums[k] < nprim) rc = take_checked(&in_cots[k], res, (size_t)argnums[k], MLX_NODE(inputs[argnums[k]]), "vjp");
  free_lists(2, l);
  return rc;
}

static int custom_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                      mlx_stream s) {
  const custom_state* st = ((const custom_params*)params)->state;
  int nprim = nin - nout, wanted = 0;
  for (int k = 0; k < nargs; k++) wanted |= argnums[k] < nprim;
  if (!wanted) return MLX_OK;
  mlx_vector_array l[4] = {mlx_vector_array_new(), mlx_vector_array_new(), mlx_vector_array_new(),
                           mlx_vector_array_new()};
  mlx_vector_array prim = l[0], tans = l[1], res = l[2], outs = l[3];
  int rc = lists_ok(4, l);
  if (rc == MLX_OK) rc = append_all(prim, inputs, nprim);
  for (int i = 0; rc == MLX_OK && i < nprim; i++) {
    int k = 0;
    while (k < nargs && argnums[k] != i) k++;
    if (k < nargs) {
      rc = mlx_vector_array_append(tans, tangents[k]);
    } else {
      mlx_array z = mlx_array_new();
      rc = mlx_zeros_like(&z, inputs[i], s);
      if (rc == MLX_OK) rc = mlx_vector_array_append(tans, z);
      mlx_array_free(z);
    }
  }
  if (rc == MLX_OK && st->jvp.ctx) {
    mlx_vector_array args = mlx_vector_array_new();
    rc = args.ctx ? MLX_OK : mlx_last_error_code();
    for (int i = 0; rc == MLX_OK && i < nprim; i++) rc = mlx_vector_array_append(args, inputs[i]);
    for (int i = 0; rc == MLX_OK && i < nprim; i++) rc = mlx_vector_array_append(args, mlx_wrap_(mlx_vector_node_(tans, (size_t)i)));
    if (rc == MLX_OK) rc = mlx_closure_apply(res, st->jvp, args);
    mlx_vector_array_free(args);
  } else if (rc == MLX_OK) {
    rc = mlx_jvp(outs, res, st->fun, prim, tans);
  }
  if (rc == MLX_OK && mlx_vector_array_size(res) != (size_t)nout)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] the jvp returned %zu arrays for %d outputs",
                    mlx_vector_array_size(res), nout);
  for (int i = 0; rc == MLX_OK && i < nout; i++) rc = take_checked(&out_tans[i], res, (size_t)i, MLX_NODE(outputs[i]), "jvp");
  free_lists(4, l);
  return rc;
}

/* Reads the out axes a custom vmap rule returned (n entries of an integer
 * array) into axes, normalized against the outputs. */
static int read_out_axes(int* axes, mlx_vector_array res, int n) {
  mlx_node_* an = mlx_vector_node_(res, (size_t)n);
  if (an->size != n || !mlx_dtype_is_integer(an->dtype))
    return mlx_error_(MLX_ERROR_ARGUMENT,
                      "[custom_function] the vmap's out axes must be an integer array of %d entries", n);
  mlx_array a32 = mlx_array_new();
  int rc = mlx_astype(&a32, mlx_wrap_(an), MLX_INT32, MLX_DEFAULT_STREAM);
  if (rc == MLX_OK) rc = mlx_array_copy_to(axes, sizeof(int) * (size_t)n, a32);
  mlx_array_free(a32);
  for (int i = 0; rc == MLX_OK && i < n; i++) {
    int nd = mlx_vector_node_(res, (size_t)i)->ndim;
    if (axes[i] == -1) continue;
    if (axes[i] < -nd || axes[i] >= nd)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] out axis %d of the vmap is out of range for output %d",
                        axes[i], i);
    if (axes[i] < 0) axes[i] += nd;
  }
  return rc;
}

static int custom_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s) {
  const custom_state* st = ((const custom_params*)params)->state;
  int nprim = nin - nout;
  mlx_vector_array l[2] = {mlx_vector_array_new(), mlx_vector_array_new()};
  mlx_vector_array args = l[0], res = l[1];
  int32_t* ax = malloc(sizeof(int32_t) * (size_t)(nprim > 0 ? nprim : 1));
  int rc = lists_ok(2, l);
  if (rc == MLX_OK && !ax) rc = mlx_error_(MLX_ERROR_MEMORY, "[custom_function] out of memory");
  if (rc == MLX_OK) rc = append_all(args, inputs, nprim);
  if (rc == MLX_OK && st->vmap.ctx) {
    for (int i = 0; i < nprim; i++) ax[i] = in_axes[i];
    int64_t n = nprim;
    mlx_array axes = mlx_array_new();
    rc = mlx_array_new_data(&axes, ax, &n, 1, MLX_INT32);
    if (rc == MLX_OK) rc = mlx_vector_array_append(args, axes);
    mlx_array_free(axes);
    if (rc == MLX_OK) rc = mlx_closure_apply(res, st->vmap, args);
    size_t got = mlx_vector_array_size(res);
    if (rc == MLX_OK && got != (size_t)nout && got != (size_t)nout + 1)
      rc = mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] the vmap returned %zu arrays for %d outputs", got, nout);
    for (int i = 0; rc == MLX_OK && i < nout; i++) out_axes[i] = 0;
    if (rc == MLX_OK && got == (size_t)nout + 1) rc = read_out_axes(out_axes, res, nout);
  } else if (rc == MLX_OK) {
    for (int i = 0; i < nprim; i++) ax[i] = in_axes[i] < 0 ? MLX_VMAP_NONE : in_axes[i];
    rc = mlx_vmap(res, st->fun, args, ax, (size_t)nprim, NULL, 0);
    for (int i = 0; rc == MLX_OK && i < nout; i++) out_axes[i] = 0;
    if (rc == MLX_OK && mlx_vector_array_size(res) != (size_t)nout)
      rc = mlx_error_(MLX_ERROR_INTERNAL, "[custom_function] vmap of the function changed its number of outputs");
  }
  for (int i = 0; rc == MLX_OK && i < nout; i++) rc = mlx_vector_array_get(&outs[i], res, (size_t)i);
  free(ax);
  free_lists(2, l);
  return rc;
}

static const mlx_prim_ prim_custom = {.name = "custom_function",
                                      .cpu = view_tail_kernel,
                                      .gpu = view_tail_kernel,
                                      .vjp = custom_vjp,
                                      .jvp = custom_jvp,
                                      .vmap = custom_vmap,
                                      .params_free = custom_params_free};
MLX_REGISTER_PRIM(prim_custom);

/* The closure a custom function is: fun, then the op over its outputs. */
static int custom_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  custom_state* st = payload;
  mlx_vector_array raw = mlx_vector_array_new();
  if (!raw.ctx) return mlx_last_error_code();
  int rc = mlx_closure_apply(raw, st->fun, inputs);
  size_t nin = mlx_vector_array_size(inputs), nout = mlx_vector_array_size(raw);
  if (rc == MLX_OK && nout == 0) rc = mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] the function returned no arrays");
  if (rc == MLX_OK && (nin + nout > INT32_MAX)) rc = mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] too many arrays");
  if (rc) {
    mlx_vector_array_free(raw);
    return rc;
  }
  /* One allocation for the op's input nodes, the stopped outputs, the
   * results and the output descriptors. */
  size_t n = nin + nout;
  void* mem = calloc(1, n * sizeof(mlx_node_*) + nout * (2 * sizeof(mlx_array) + sizeof(mlx_dtype) +
                                                          sizeof(int64_t*) + sizeof(int)));
  if (!mem) {
    mlx_vector_array_free(raw);
    return mlx_error_(MLX_ERROR_MEMORY, "[custom_function] out of memory");
  }
  mlx_node_** nodes = mem;
  mlx_array* stopped = (mlx_array*)(nodes + n);
  mlx_array* res = stopped + nout;
  const int64_t** shapes = (const int64_t**)(res + nout);
  mlx_dtype* dtypes = (mlx_dtype*)(shapes + nout);
  int* ndims = (int*)(dtypes + nout);
  for (size_t i = 0; i < nin; i++) nodes[i] = mlx_vector_node_(inputs, i);
  for (size_t j = 0; rc == MLX_OK && j < nout; j++) {
    mlx_node_* o = mlx_vector_node_(raw, j);
    rc = mlx_stop_gradient(&stopped[j], mlx_wrap_(o), MLX_DEFAULT_STREAM);
    if (rc) break;
    nodes[nin + j] = MLX_NODE(stopped[j]);
    shapes[j] = o->shape;
    ndims[j] = o->ndim;
    dtypes[j] = o->dtype;
  }
  if (rc == MLX_OK) {
    custom_params p = {st};
    atomic_fetch_add_explicit(&st->refcount, 1, memory_order_relaxed);
    rc = mlx_op_record_(res, (int)nout, &prim_custom, &p, sizeof p, nodes, (int)n, dtypes, shapes, ndims,
                        MLX_DEFAULT_STREAM);
    if (rc) state_release(st); /* not recorded: the reference is still ours */
  }
  for (size_t j = 0; rc == MLX_OK && j < nout; j++) rc = mlx_vector_array_append(outputs, res[j]);
  for (size_t j = 0; j < nout; j++) {
    mlx_array_free(stopped[j]);
    mlx_array_free(res[j]);
  }
  free(mem);
  mlx_vector_array_free(raw);
  return rc;
}

/* Replaces *res by c (which the caller hands over). */
static void set_closure(mlx_closure* res, mlx_closure c) {
  mlx_closure old = *res;
  *res = c;
  mlx_closure_free(old);
}

static int make_custom(mlx_closure* res, const mlx_closure fun, const mlx_closure vjp, const mlx_closure jvp,
                       const mlx_closure vmap, int checkpoint) {
  if (!res) return mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] NULL result pointer");
  if (!fun.ctx) return mlx_error_(MLX_ERROR_ARGUMENT, "[custom_function] empty closure handle");
  if (!checkpoint && !vjp.ctx && !jvp.ctx && !vmap.ctx) {
    mlx_closure_retain_(fun);
    set_closure(res, fun);
    return MLX_OK;
  }
  custom_state* st = calloc(1, sizeof *st);
  if (!st) return mlx_error_(MLX_ERROR_MEMORY, "[custom_function] out of memory");
  atomic_init(&st->refcount, 1);
  st->fun = fun, st->vjp = vjp, st->jvp = jvp, st->vmap = vmap;
  st->checkpoint = checkpoint;
  mlx_closure_retain_(fun);
  mlx_closure_retain_(vjp);
  mlx_closure_retain_(jvp);
  mlx_closure_retain_(vmap);
  mlx_closure c = mlx_closure_new(custom_call, st, state_release_payload);
  if (!c.ctx) {
    int rc = mlx_last_error_code();
    state_release(st);
    return rc;
  }
  set_closure(res, c);
  return MLX_OK;
}

int mlx_custom_function(mlx_closure* res, const mlx_closure fun, const mlx_closure vjp, const mlx_closure jvp,
                        const mlx_closure vmap) {
  return make_custom(res, fun, vjp, jvp, vmap, 0);
}

int mlx_checkpoint(mlx_closure* res, const mlx_closure fun) {
  mlx_closure none = {NULL};
  return make_custom(res, fun, none, none, none, 1);
}

/* ---- depends ---------------------------------------------------------------- */
/* Output i is a view of input i. */
static int view_head_kernel(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)params, (void)nin;
  for (int i = 0; i < nout; i++) mlx_node_set_view_(outs[i], ins[i], ins[i]->offset, ins[i]->strides);
  return MLX_OK;
}

static int depends_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  for (int k = 0; k < nargs; k++)
    if (argnums[k] < nout) MLX_TRY(mlx_array_set(&in_cots[k], cots[argnums[k]]));
  return MLX_OK;
}

static int depends_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                       mlx_stream s) {
  for (int k = 0; k < nargs; k++)
    if (argnums[k] < nout) MLX_TRY(mlx_array_set(&out_tans[argnums[k]], tangents[k]));
  return MLX_OK;
}

static int record_depends(mlx_array* res, int nout, mlx_node_* const* nodes, int n, mlx_stream s);

/* The same edge between the batched arrays; each output keeps its input's
 * batch axis. */
static int depends_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin,
                        int nout, const void* params, mlx_stream s) {
  mlx_node_** nodes = malloc(sizeof(mlx_node_*) * (size_t)nin);
  if (!nodes) return mlx_error_(MLX_ERROR_MEMORY, "[depends] out of memory");
  for (int i = 0; i < nin; i++) nodes[i] = MLX_NODE(inputs[i]);
  int rc = record_depends(outs, nout, nodes, nin, s);
  free(nodes);
  for (int i = 0; i < nout; i++) out_axes[i] = in_axes[i];
  return rc;
}

static const mlx_prim_ prim_depends = {.name = "depends",
                                       .cpu = view_head_kernel,
                                       .gpu = view_head_kernel,
                                       .vjp = depends_vjp,
                                       .jvp = depends_jvp,
                                       .vmap = depends_vmap};
MLX_REGISTER_PRIM(prim_depends);

/* Records the op: outputs mirror nodes[0..nout), nodes[nout..n) are the
 * dependencies. */
static int record_depends(mlx_array* res, int nout, mlx_node_* const* nodes, int n, mlx_stream s) {
  const int64_t** shapes = malloc((sizeof(int64_t*) + sizeof(int) + sizeof(mlx_dtype)) * (size_t)nout);
  if (!shapes) return mlx_error_(MLX_ERROR_MEMORY, "[depends] out of memory");
  int* ndims = (int*)(shapes + nout);
  mlx_dtype* dtypes = (mlx_dtype*)(ndims + nout);
  for (int i = 0; i < nout; i++) {
    shapes[i] = nodes[i]->shape;
    ndims[i] = nodes[i]->ndim;
    dtypes[i] = nodes[i]->dtype;
  }
  int rc = mlx_op_record_(res, nout, &prim_depends, NULL, 0, nodes, n, dtypes, shapes, ndims, s);
  free(shapes);
  return rc;
}

int mlx_depends(mlx_vector_array outputs, const mlx_vector_array inputs, const mlx_vector_array dependencies) {
  if (!outputs.ctx || !inputs.ctx || !dependencies.ctx)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[depends] empty list handle");
  size_t nin = mlx_vector_array_size(inputs), ndep = mlx_vector_array_size(dependencies);
  if (nin == 0) return MLX_OK;
  if (ndep == 0) {
    for (size_t i = 0; i < nin; i++) MLX_TRY(mlx_vector_array_append(outputs, mlx_wrap_(mlx_vector_node_(inputs, i))));
    return MLX_OK;
  }
  if (nin + ndep > INT32_MAX) return mlx_error_(MLX_ERROR_ARGUMENT, "[depends] too many arrays");
  size_t n = nin + ndep;
  void* mem = calloc(1, n * sizeof(mlx_node_*) + nin * sizeof(mlx_array));
  if (!mem) return mlx_error_(MLX_ERROR_MEMORY, "[depends] out of memory");
  mlx_node_** nodes = mem;
  mlx_array* res = (mlx_array*)(nodes + n);
  for (size_t i = 0; i < nin; i++) nodes[i] = mlx_vector_node_(inputs, i);
  for (size_t i = 0; i < ndep; i++) nodes[nin + i] = mlx_vector_node_(dependencies, i);
  int rc = record_depends(res, (int)nin, nodes, (int)n, MLX_DEFAULT_STREAM);
  for (size_t i = 0; rc == MLX_OK && i < nin; i++) rc = mlx_vector_array_append(outputs, res[i]);
  for (size_t i = 0; i < nin; i++) mlx_array_free(res[i]);
  free(mem);
  return rc;
}
