/* The transforms: vjp, jvp, value_and_grad and vmap.
 *
 * Each transform calls the closure on "tracer" copies of its inputs, so
 * the graph the closure builds stays attached (even if the closure
 * evaluates) while the transform walks it. The walk is iterative: it finds
 * the ops that depend on the traced inputs, in dependency order, and the
 * transform replays them through each primitive's rule, building new
 * graphs. */
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"

atomic_int mlx_tracing_depth_;

/* ---- identity used for tracer copies ------------------------------------ */
static int copy_kernel(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout, (void)nin, (void)params;
  mlx_node_set_view_(outs[0], ins[0], ins[0]->offset, ins[0]->strides);
  return MLX_OK;
}

static int identity_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  for (int k = 0; k < nargs; k++) MLX_TRY(mlx_array_set(&in_cots[k], cots[0]));
  return MLX_OK;
}

static int identity_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                        const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params,
                        mlx_stream s) {
  return nargs ? mlx_array_set(&out_tans[0], tangents[0]) : MLX_OK;
}

static int identity_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                         const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return mlx_array_set(&outs[0], inputs[0]);
}

static const mlx_prim_ prim_trace = {.name = "trace",
                                     .cpu = copy_kernel,
                                     .gpu = MLX_GPU_KERNEL_(copy_kernel),
                                     .vjp = identity_vjp,
                                     .jvp = identity_jvp,
                                     .vmap = identity_vmap};
MLX_REGISTER_PRIM(prim_trace);

int mlx_vjp_zero_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return MLX_OK; /* empty handles: zero */
}

int mlx_jvp_zero_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                  const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return MLX_OK;
}

/* ---- a node-keyed hash map --------------------------------------------- */
typedef struct {
  mlx_node_* key;
  mlx_array val; /* owned */
  int flag;
} slot;

typedef struct {
  slot* slots;
  size_t cap, n;
} pmap;

static size_t hash_ptr(const void* p) {
  uintptr_t x = (uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x;
}

static slot* pmap_find(const pmap* m, const mlx_node_* key) {
  if (!m->cap) return NULL;
  for (size_t i = hash_ptr(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->slots[i].key == key) return &m->slots[i];
    if (!m->slots[i].key) return NULL;
  }
}

static slot* pmap_put(pmap* m, mlx_node_* key) {
  slot* s = pmap_find(m, key);
  if (s) return s;
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    slot* slots = calloc(cap, sizeof *slots);
    if (!slots) {
      mlx_error_(MLX_ERROR_MEMORY, "[transform] out of memory");
      return NULL;
    }
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->slots[i].key) continue;
      size_t j = hash_ptr(m->slots[i].key) & (cap - 1);
      while (slots[j].key) j = (j + 1) & (cap - 1);
      slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
  }
  size_t i = hash_ptr(key) & (m->cap - 1);
  while (m->slots[i].key) i = (i + 1) & (m->cap - 1);
  m->slots[i].key = key;
  m->slots[i].val = mlx_array_new();
  m->slots[i].flag = 0;
  m->n++;
  return &m->slots[i];
}

static void pmap_free(pmap* m) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key) mlx_array_free(m->slots[i].val);
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

/* ---- the tape ------------------------------------------------------------ */
typedef struct {
  mlx_op_** ops;
  size_t n, cap;
} tape;

typedef struct {
  mlx_node_* node;
  int next;
} frame;

/* Finds, in dependency order, the ops between `sources` (flag 1 in deps)
 * and the output nodes that depend on a source. deps gets every visited
 * node with flag 1 (depends) or 0; sources must already be in it. */
static int build_tape(tape* t, pmap* deps, mlx_node_* const* outs, size_t nouts) {
  pmap done_ops = {0};
  frame* stack = NULL;
  size_t sn = 0, scap = 0;
  int rc = MLX_OK;
  for (size_t r = 0; r < nouts && rc == MLX_OK; r++) {
    if (pmap_find(deps, outs[r])) continue;
    if (sn == scap) {
      scap = scap ? scap * 2 : 64;
      frame* st = realloc(stack, scap * sizeof *st);
      if (!st) {
        rc = mlx_error_(MLX_ERROR_MEMORY, "[transform] out of memory");
        break;
      }
      stack = st;
    }
    stack[sn++] = (frame){outs[r], 0};
    while (sn && rc == MLX_OK) {
      frame* f = &stack[sn - 1];
      mlx_node_* n = f->node;
      mlx_op_* op = atomic_load(&n->op);
      if (!n->tracer || !op) {
        slot* s = pmap_put(deps, n);
        if (!s) rc = mlx_last_error_code();
        sn--;
        continue;
      }
      if (f->next < op->ninputs) {
        mlx_node_* in = op->inputs[f->next++];
        if (pmap_find(deps, in)) continue;
        if (sn == scap) {
          scap *= 2;
          frame* st = realloc(stack, scap * sizeof *st);
          if (!st) {
            rc = mlx_error_(MLX_ERROR_MEMORY, "[transform] out of memory");
            break;
          }
          stack = st;
        }
        stack[sn++] = (frame){in, 0};
        continue;
      }
      int dep = 0;
      for (int k = 0; k < op->ninputs; k++) {
        slot* s = pmap_find(deps, op->inputs[k]);
        if (s && s->flag) dep = 1;
      }
      slot* s = pmap_put(deps, n);
      if (!s) {
        rc = mlx_last_error_code();
        break;
      }
      s->flag = dep;
      sn--;
      if (dep && !pmap_find(&done_ops, (mlx_node_*)op)) {
        if (!pmap_put(&done_ops, (mlx_node_*)op)) {
          rc = mlx_last_error_code();
          break;
        }
        if (t->n == t->cap) {
          size_t cap = t->cap ? t->cap * 2 : 64;
          mlx_op_** ops = realloc(t->ops, cap * sizeof *ops);
          if (!ops) {
            rc = mlx_error_(MLX_ERROR_MEMORY, "[transform] out of memory");
            break;
          }
          t->ops = ops;
          t->cap = cap;
        }
        t->ops[t->n++] = op;
      }
    }
    sn = 0;
  }
  free(stack);
  pmap_free(&done_ops);
  return rc;
}

/* The live output node i of op (borrowed; NULL if it died). */
static mlx_node_* op_output(mlx_op_* op, int i) {
  return op->outputs[i];
}

/* Makes a tracer copy of node p into *res. */
static int make_tracer(mlx_array* res, mlx_node_* p) {
  MLX_TRY(mlx_op1_(res, &prim_trace, NULL, 0, &p, 1, p->dtype, p->shape, p->ndim, MLX_DEFAULT_STREAM));
  MLX_NODE(*res)->tracer = 1;
  return MLX_OK;
}

int mlx_make_tracer_(mlx_array* res, mlx_node_* p) {
  return make_tracer(res, p);
}

int mlx_trace_tape_(mlx_op_*** ops, size_t* nops, mlx_node_* const* sources, size_t nsrc, mlx_node_* const* outs,
                    size_t nouts) {
  pmap deps = {0};
  tape t = {0};
  int rc = MLX_OK;
  for (size_t i = 0; i < nsrc && rc == MLX_OK; i++) {
    slot* s = pmap_put(&deps, sources[i]);
    if (!s) rc = mlx_last_error_code();
    else s->flag = 1;
  }
  if (rc == MLX_OK) rc = build_tape(&t, &deps, outs, nouts);
  pmap_free(&deps);
  if (rc) {
    free(t.ops);
    return rc;
  }
  *ops = t.ops;
  *nops = t.n;
  return MLX_OK;
}

/* Adds c into slot s (taking ownership of c). */
static int accumulate(slot* s, mlx_array c, mlx_stream st) {
  if (!s->val.ctx) {
    s->val = c;
    return MLX_OK;
  }
  mlx_array sum = mlx_array_new();
  int rc = mlx_add(&sum, s->val, c, st);
  mlx_array_free(c);
  if (rc) return rc;
  mlx_array_free(s->val);
  s->val = sum;
  return MLX_OK;
}

static int zeros_for(mlx_array* res, mlx_node_* like, mlx_op_* op, int i) {
  if (like) return mlx_zeros(res, like->shape, like->ndim, like->dtype, MLX_DEFAULT_STREAM);
  if (op->noutputs > 1) return mlx_zeros(res, op->out_shapes[i], op->out_ndims[i], op->out_dtypes[i], MLX_DEFAULT_STREAM);
  return mlx_error_(MLX_ERROR_INTERNAL, "[transform] missing output descriptor");
}

/* Calls fun on tracer copies of primals. tracers gets the copies. */
static int trace_call(mlx_vector_array outputs, mlx_vector_array tracers, const mlx_closure fun,
                      const mlx_vector_array primals) {
  size_t n = mlx_vector_array_size(primals);
  for (size_t i = 0; i < n; i++) {
    mlx_array t = mlx_array_new();
    MLX_TRY(make_tracer(&t, mlx_vector_node_(primals, i)));
    int rc = mlx_vector_array_append(tracers, t);
    mlx_array_free(t);
    if (rc) return rc;
  }
  MLX_TRY(mlx_closure_apply(outputs, fun, tracers));
  if (mlx_vector_array_size(outputs) == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[transform] the function returned no arrays");
  return MLX_OK;
}

static int check_lists(const char* op, int count, ...) {
  va_list ap;
  va_start(ap, count);
  for (int i = 0; i < count; i++) {
    mlx_vector_array v = va_arg(ap, mlx_vector_array);
    if (!v.ctx) {
      va_end(ap);
      return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] empty list handle", op);
    }
  }
  va_end(ap);
  return MLX_OK;
}

/* ---- vjp ----------------------------------------------------------------- */
/* cotangents NULL: ones for output 0 and zero for the others (grad). */
static int vjp_impl(mlx_vector_array outputs, mlx_vector_array vjps, const mlx_closure fun,
                    const mlx_vector_array primals, const mlx_vector_array* cotangents) {
  mlx_vector_array tracers = mlx_vector_array_new();
  if (!tracers.ctx) return mlx_last_error_code();
  pmap deps = {0}, cots = {0};
  tape t = {0};
  int rc = trace_call(outputs, tracers, fun, primals);
  size_t nout = mlx_vector_array_size(outputs), nprim = mlx_vector_array_size(tracers);
  if (rc == MLX_OK && cotangents && mlx_vector_array_size(*cotangents) != nout)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[vjp] got %zu cotangents for %zu outputs", mlx_vector_array_size(*cotangents), nout);
  for (size_t i = 0; rc == MLX_OK && i < nprim; i++) {
    slot* s = pmap_put(&deps, mlx_vector_node_(tracers, i));
    if (!s) rc = mlx_last_error_code();
    else s->flag = 1;
  }
  /* Seed the output cotangents. */
  for (size_t j = 0; rc == MLX_OK && j < nout; j++) {
    mlx_node_* o = mlx_vector_node_(outputs, j);
    mlx_array c = mlx_array_new();
    if (cotangents) {
      mlx_node_* cn = mlx_vector_node_(*cotangents, j);
      if (cn->ndim != o->ndim || (o->ndim && memcmp(cn->shape, o->shape, sizeof(int64_t) * (size_t)o->ndim))) {
        rc = mlx_error_(MLX_ERROR_SHAPE, "[vjp] cotangent %zu has a different shape than its output", j);
        break;
      }
      rc = mlx_vector_array_get(&c, *cotangents, j);
    } else if (j == 0) {
      if (o->size != 1) {
        rc = mlx_error_(MLX_ERROR_ARGUMENT, "[grad] the function must return a scalar (size-1) array, got %lld elements",
                        (long long)o->size);
        break;
      }
      if (!mlx_dtype_is_inexact(o->dtype)) {
        rc = mlx_error_(MLX_ERROR_DTYPE, "[grad] the function's output must be floating point, got %s",
                        mlx_dtype_name(o->dtype));
        break;
      }
      mlx_array oa = {o};
      rc = mlx_ones_like(&c, oa, MLX_DEFAULT_STREAM);
    } else {
      continue;
    }
    if (rc) break;
    slot* s = pmap_put(&cots, o);
    if (!s) {
      mlx_array_free(c);
      rc = mlx_last_error_code();
      break;
    }
    rc = accumulate(s, c, MLX_DEFAULT_STREAM);
  }
  if (rc == MLX_OK) {
    mlx_node_* outs[nout ? nout : 1];
    for (size_t j = 0; j < nout; j++) outs[j] = mlx_vector_node_(outputs, j);
    rc = build_tape(&t, &deps, outs, nout);
  }
  for (size_t ti = t.n; rc == MLX_OK && ti-- > 0;) {
    mlx_op_* op = t.ops[ti];
    int no = op->noutputs, ni = op->ninputs;
    mlx_array ocots[no], oarr[no], ins[ni], in_cots[ni];
    int argnums[ni], nargs = 0, have = 0;
    for (int i = 0; i < no; i++) {
      mlx_node_* on = op_output(op, i);
      oarr[i] = mlx_wrap_(on);
      ocots[i] = mlx_array_new();
      slot* s = on ? pmap_find(&cots, on) : NULL;
      if (s && s->val.ctx) {
        ocots[i] = s->val; /* moved out of the map: consumed here */
        s->val = mlx_array_new();
        have = 1;
      }
    }
    if (!have) continue;
    for (int i = 0; i < no && rc == MLX_OK; i++)
      if (!ocots[i].ctx) rc = zeros_for(&ocots[i], op_output(op, i), op, i);
    for (int k = 0; k < ni; k++) {
      ins[k] = mlx_wrap_(op->inputs[k]);
      in_cots[k] = mlx_array_new();
      slot* s = pmap_find(&deps, op->inputs[k]);
      if (s && s->flag) argnums[nargs++] = k;
    }
    if (rc == MLX_OK && !op->prim->vjp)
      rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[vjp] the primitive '%s' has no vjp rule", op->prim->name);
    if (rc == MLX_OK) rc = op->prim->vjp(in_cots, argnums, nargs, ins, ni, oarr, no, ocots, op->params, op->stream);
    for (int k = 0; k < nargs; k++) {
      if (rc == MLX_OK && in_cots[k].ctx) {
        slot* s = pmap_put(&cots, op->inputs[argnums[k]]);
        if (!s) rc = mlx_last_error_code();
        else {
          rc = accumulate(s, in_cots[k], op->stream);
          continue;
        }
      }
      mlx_array_free(in_cots[k]);
    }
    for (int i = 0; i < no; i++) mlx_array_free(ocots[i]);
  }
  for (size_t i = 0; rc == MLX_OK && i < nprim; i++) {
    mlx_node_* tn = mlx_vector_node_(tracers, i);
    slot* s = pmap_find(&cots, tn);
    if (s && s->val.ctx) {
      rc = mlx_vector_array_append(vjps, s->val);
    } else {
      mlx_array z = mlx_array_new();
      mlx_array ta = {tn};
      rc = mlx_zeros_like(&z, ta, MLX_DEFAULT_STREAM);
      if (rc == MLX_OK) rc = mlx_vector_array_append(vjps, z);
      mlx_array_free(z);
    }
  }
  free(t.ops);
  pmap_free(&deps);
  pmap_free(&cots);
  mlx_vector_array_free(tracers);
  return rc;
}

static int enter(void) {
  atomic_fetch_add(&mlx_tracing_depth_, 1);
  return MLX_OK;
}

static void leave(void) {
  atomic_fetch_sub(&mlx_tracing_depth_, 1);
}

int mlx_vjp(mlx_vector_array outputs, mlx_vector_array vjps, const mlx_closure fun, const mlx_vector_array primals,
            const mlx_vector_array cotangents) {
  MLX_TRY(check_lists("vjp", 4, outputs, vjps, primals, cotangents));
  enter();
  int rc = vjp_impl(outputs, vjps, fun, primals, &cotangents);
  leave();
  return rc;
}

/* ---- value_and_grad ------------------------------------------------------ */
typedef struct {
  mlx_closure fun;
  mlx_vector_array inputs;
  const int* argnums;
  size_t nargnums;
  mlx_vector_array all_outputs;
} vag_payload;

/* Calls fun with the differentiated inputs replaced by the traced ones;
 * returns only output 0, stashing every output for the caller. */
static int vag_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  vag_payload* p = payload;
  size_t n = mlx_vector_array_size(p->inputs);
  mlx_vector_array full = mlx_vector_array_new();
  if (!full.ctx) return mlx_last_error_code();
  int rc = MLX_OK;
  for (size_t i = 0; i < n && rc == MLX_OK; i++) {
    mlx_node_* src = mlx_vector_node_(p->inputs, i);
    for (size_t k = 0; k < p->nargnums; k++)
      if ((size_t)p->argnums[k] == i) src = mlx_vector_node_(inputs, k);
    rc = mlx_vector_array_append(full, mlx_wrap_(src));
  }
  mlx_vector_array_clear(p->all_outputs);
  if (rc == MLX_OK) rc = mlx_closure_apply(p->all_outputs, p->fun, full);
  mlx_vector_array_free(full);
  if (rc == MLX_OK && mlx_vector_array_size(p->all_outputs) == 0)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[grad] the function returned no arrays");
  if (rc == MLX_OK) rc = mlx_vector_array_append(outputs, mlx_wrap_(mlx_vector_node_(p->all_outputs, 0)));
  return rc;
}

int mlx_value_and_grad(mlx_vector_array outputs, mlx_vector_array grads, const mlx_closure fun,
                       const mlx_vector_array inputs, const int* argnums, size_t nargnums) {
  MLX_TRY(check_lists("value_and_grad", 3, outputs, grads, inputs));
  size_t n = mlx_vector_array_size(inputs);
  if (nargnums == 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[grad] no arguments to differentiate (argnums is empty)");
  for (size_t k = 0; k < nargnums; k++) {
    if (argnums[k] < 0 || (size_t)argnums[k] >= n)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[grad] argnum %d out of range for %zu inputs", argnums[k], n);
    for (size_t j = 0; j < k; j++)
      if (argnums[j] == argnums[k]) return mlx_error_(MLX_ERROR_ARGUMENT, "[grad] duplicate argnum %d", argnums[k]);
  }
  vag_payload p = {fun, inputs, argnums, nargnums, mlx_vector_array_new()};
  mlx_vector_array primals = mlx_vector_array_new(), first = mlx_vector_array_new();
  int rc = (!p.all_outputs.ctx || !primals.ctx || !first.ctx) ? mlx_error_(MLX_ERROR_MEMORY, "[grad] out of memory") : MLX_OK;
  for (size_t k = 0; k < nargnums && rc == MLX_OK; k++)
    rc = mlx_vector_array_append(primals, mlx_wrap_(mlx_vector_node_(inputs, (size_t)argnums[k])));
  mlx_closure wrapper = mlx_closure_new(vag_call, &p, NULL);
  if (rc == MLX_OK && !wrapper.ctx) rc = mlx_last_error_code();
  if (rc == MLX_OK) {
    enter();
    rc = vjp_impl(first, grads, wrapper, primals, NULL);
    leave();
  }
  for (size_t i = 0; rc == MLX_OK && i < mlx_vector_array_size(p.all_outputs); i++)
    rc = mlx_vector_array_append(outputs, mlx_wrap_(mlx_vector_node_(p.all_outputs, i)));
  mlx_closure_free(wrapper);
  mlx_vector_array_free(primals);
  mlx_vector_array_free(first);
  mlx_vector_array_free(p.all_outputs);
  return rc;
}

/* ---- jvp ------------------------------------------------------------------ */
int mlx_jvp(mlx_vector_array outputs, mlx_vector_array jvps, const mlx_closure fun, const mlx_vector_array primals,
            const mlx_vector_array tangents) {
  MLX_TRY(check_lists("jvp", 4, outputs, jvps, primals, tangents));
  size_t nprim = mlx_vector_array_size(primals);
  if (mlx_vector_array_size(tangents) != nprim)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[jvp] got %zu tangents for %zu primals", mlx_vector_array_size(tangents), nprim);
  for (size_t i = 0; i < nprim; i++) {
    mlx_node_* p = mlx_vector_node_(primals, i), *tn = mlx_vector_node_(tangents, i);
    if (p->ndim != tn->ndim || (p->ndim && memcmp(p->shape, tn->shape, sizeof(int64_t) * (size_t)p->ndim)))
      return mlx_error_(MLX_ERROR_SHAPE, "[jvp] tangent %zu has a different shape than its primal", i);
  }
  enter();
  mlx_vector_array tracers = mlx_vector_array_new();
  pmap deps = {0}, tans = {0};
  tape t = {0};
  int rc = tracers.ctx ? trace_call(outputs, tracers, fun, primals) : mlx_last_error_code();
  size_t nout = mlx_vector_array_size(outputs);
  for (size_t i = 0; rc == MLX_OK && i < nprim; i++) {
    mlx_node_* tn = mlx_vector_node_(tracers, i);
    slot* d = pmap_put(&deps, tn);
    slot* s = d ? pmap_put(&tans, tn) : NULL;
    if (!s) {
      rc = mlx_last_error_code();
      break;
    }
    d->flag = 1;
    rc = mlx_vector_array_get(&s->val, tangents, i);
  }
  if (rc == MLX_OK) {
    mlx_node_* outs[nout ? nout : 1];
    for (size_t j = 0; j < nout; j++) outs[j] = mlx_vector_node_(outputs, j);
    rc = build_tape(&t, &deps, outs, nout);
  }
  for (size_t ti = 0; rc == MLX_OK && ti < t.n; ti++) {
    mlx_op_* op = t.ops[ti];
    int no = op->noutputs, ni = op->ninputs;
    mlx_array oarr[no], ins[ni], itans[ni], otans[no];
    int argnums[ni], nargs = 0;
    for (int k = 0; k < ni; k++) {
      ins[k] = mlx_wrap_(op->inputs[k]);
      slot* s = pmap_find(&tans, op->inputs[k]);
      if (s && s->val.ctx) {
        itans[nargs] = s->val;
        argnums[nargs++] = k;
      }
    }
    if (!nargs) continue;
    for (int i = 0; i < no; i++) {
      oarr[i] = mlx_wrap_(op_output(op, i));
      otans[i] = mlx_array_new();
    }
    if (!op->prim->jvp) rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[jvp] the primitive '%s' has no jvp rule", op->prim->name);
    else rc = op->prim->jvp(otans, argnums, nargs, ins, ni, oarr, no, itans, op->params, op->stream);
    for (int i = 0; i < no; i++) {
      mlx_node_* on = op_output(op, i);
      if (rc == MLX_OK && on && otans[i].ctx) {
        slot* s = pmap_put(&tans, on);
        if (!s) rc = mlx_last_error_code();
        else {
          mlx_array_free(s->val);
          s->val = otans[i];
          continue;
        }
      }
      mlx_array_free(otans[i]);
    }
  }
  for (size_t j = 0; rc == MLX_OK && j < nout; j++) {
    mlx_node_* o = mlx_vector_node_(outputs, j);
    slot* s = pmap_find(&tans, o);
    if (s && s->val.ctx) {
      rc = mlx_vector_array_append(jvps, s->val);
    } else {
      mlx_array z = mlx_array_new();
      rc = mlx_zeros_like(&z, mlx_wrap_(o), MLX_DEFAULT_STREAM);
      if (rc == MLX_OK) rc = mlx_vector_array_append(jvps, z);
      mlx_array_free(z);
    }
  }
  free(t.ops);
  pmap_free(&deps);
  pmap_free(&tans);
  mlx_vector_array_free(tracers);
  leave();
  return rc;
}

/* ---- vmap ------------------------------------------------------------------ */
/* The slice of x at index 0 along axis: what fun sees for a batched input. */
static int placeholder(mlx_array* res, mlx_node_* x, int axis) {
  int nd = x->ndim;
  int64_t start[nd], stop[nd], step[nd];
  for (int d = 0; d < nd; d++) {
    start[d] = 0;
    stop[d] = d == axis ? 1 : x->shape[d];
    step[d] = 1;
  }
  mlx_array sl = mlx_array_new();
  MLX_TRY(mlx_slice(&sl, mlx_wrap_(x), start, stop, step, nd, MLX_DEFAULT_STREAM));
  int rc = mlx_squeeze_axes(res, sl, &axis, 1, MLX_DEFAULT_STREAM);
  mlx_array_free(sl);
  if (rc == MLX_OK) {
    /* A tracer copy, so the walk stops exactly here. */
    mlx_array t = mlx_array_new();
    rc = make_tracer(&t, MLX_NODE(*res));
    if (rc == MLX_OK) mlx_set_result_(res, MLX_NODE(t));
  }
  return rc;
}

int mlx_vmap(mlx_vector_array outputs, const mlx_closure fun, const mlx_vector_array inputs, const int* in_axes,
             size_t nin_axes, const int* out_axes, size_t nout_axes) {
  MLX_TRY(check_lists("vmap", 2, outputs, inputs));
  size_t nin = mlx_vector_array_size(inputs);
  if (nin_axes != nin) return mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] %zu in_axes for %zu inputs", nin_axes, nin);
  int64_t batch = -1;
  int axes[nin ? nin : 1];
  for (size_t i = 0; i < nin; i++) {
    mlx_node_* x = mlx_vector_node_(inputs, i);
    axes[i] = -1;
    if (in_axes[i] == MLX_VMAP_NONE) continue;
    int a = in_axes[i];
    if (x->ndim == 0 || a < -x->ndim || a >= x->ndim)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] in_axes %d is out of range for input %zu with %d dimensions", a, i,
                        x->ndim);
    if (a < 0) a += x->ndim;
    if (batch >= 0 && x->shape[a] != batch)
      return mlx_error_(MLX_ERROR_SHAPE, "[vmap] inconsistent sizes %lld and %lld along the mapped axes",
                        (long long)batch, (long long)x->shape[a]);
    batch = x->shape[a];
    axes[i] = a;
  }
  if (batch < 0) return mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] at least one input must be mapped (in_axes all None)");
  enter();
  mlx_vector_array args = mlx_vector_array_new(), res = mlx_vector_array_new();
  pmap deps = {0}, bmap = {0};
  tape t = {0};
  int rc = (args.ctx && res.ctx) ? MLX_OK : mlx_last_error_code();
  for (size_t i = 0; rc == MLX_OK && i < nin; i++) {
    mlx_node_* x = mlx_vector_node_(inputs, i);
    if (axes[i] < 0) {
      rc = mlx_vector_array_append(args, mlx_wrap_(x));
      continue;
    }
    mlx_array ph = mlx_array_new();
    rc = placeholder(&ph, x, axes[i]);
    if (rc == MLX_OK) rc = mlx_vector_array_append(args, ph);
    slot* d = rc == MLX_OK ? pmap_put(&deps, MLX_NODE(ph)) : NULL;
    slot* b = d ? pmap_put(&bmap, MLX_NODE(ph)) : NULL;
    if (rc == MLX_OK && !b) rc = mlx_last_error_code();
    if (b) {
      d->flag = 1;
      mlx_array_set(&b->val, mlx_wrap_(x));
      b->flag = axes[i];
    }
    mlx_array_free(ph);
  }
  if (rc == MLX_OK) rc = mlx_closure_apply(res, fun, args);
  size_t nout = mlx_vector_array_size(res);
  if (rc == MLX_OK && nout_axes && nout_axes != nout)
    rc = mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] %zu out_axes for %zu outputs", nout_axes, nout);
  if (rc == MLX_OK) {
    mlx_node_* outs[nout ? nout : 1];
    for (size_t j = 0; j < nout; j++) outs[j] = mlx_vector_node_(res, j);
    rc = build_tape(&t, &deps, outs, nout);
  }
  for (size_t ti = 0; rc == MLX_OK && ti < t.n; ti++) {
    mlx_op_* op = t.ops[ti];
    int no = op->noutputs, ni = op->ninputs;
    mlx_array ins[ni], outs[no];
    int iax[ni], oax[no], batched = 0;
    for (int k = 0; k < ni; k++) {
      slot* s = pmap_find(&bmap, op->inputs[k]);
      if (s && s->val.ctx && s->flag >= 0) {
        ins[k] = s->val;
        iax[k] = s->flag;
        batched = 1;
      } else {
        ins[k] = mlx_wrap_(op->inputs[k]);
        iax[k] = -1;
      }
    }
    if (!batched) continue;
    for (int i = 0; i < no; i++) {
      outs[i] = mlx_array_new();
      oax[i] = -1;
    }
    if (!op->prim->vmap) rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[vmap] the primitive '%s' has no vmap rule", op->prim->name);
    else rc = op->prim->vmap(outs, oax, ins, iax, ni, no, op->params, op->stream);
    for (int i = 0; i < no; i++) {
      mlx_node_* on = op_output(op, i);
      if (rc == MLX_OK && on && outs[i].ctx) {
        slot* s = pmap_put(&bmap, on);
        if (!s) rc = mlx_last_error_code();
        else {
          mlx_array_free(s->val);
          s->val = outs[i];
          s->flag = oax[i];
          continue;
        }
      }
      mlx_array_free(outs[i]);
    }
  }
  for (size_t j = 0; rc == MLX_OK && j < nout; j++) {
    mlx_node_* o = mlx_vector_node_(res, j);
    slot* s = pmap_find(&bmap, o);
    mlx_array r = mlx_array_new();
    int want = nout_axes ? out_axes[j] : 0;
    if (s && s->val.ctx && s->flag >= 0) {
      int nd = MLX_NODE(s->val)->ndim;
      if (want == MLX_VMAP_NONE) {
        rc = mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] output %zu depends on a mapped input but its out_axes is None", j);
        break;
      }
      if (want < -nd || want >= nd) {
        rc = mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] out_axes %d is out of range for output %zu with %d dimensions",
                        want, j, nd);
        break;
      }
      if (want < 0) want += nd;
      rc = mlx_moveaxis(&r, s->val, s->flag, want, MLX_DEFAULT_STREAM);
    } else if (want == MLX_VMAP_NONE) {
      rc = mlx_array_set(&r, mlx_wrap_(o));
    } else {
      /* Not batched: broadcast along a new axis, as upstream does. */
      int nd = o->ndim + 1;
      if (want < -nd || want >= nd) {
        rc = mlx_error_(MLX_ERROR_ARGUMENT, "[vmap] out_axes %d is out of range for output %zu", want, j);
        break;
      }
      if (want < 0) want += nd;
      mlx_array e = mlx_array_new();
      rc = mlx_expand_dims(&e, mlx_wrap_(o), &want, 1, MLX_DEFAULT_STREAM);
      if (rc == MLX_OK) {
        int64_t shape[nd];
        memcpy(shape, MLX_NODE(e)->shape, sizeof(int64_t) * (size_t)nd);
        shape[want] = batch;
        rc = mlx_broadcast_to(&r, e, shape, nd, MLX_DEFAULT_STREAM);
      }
      mlx_array_free(e);
    }
    if (rc == MLX_OK) rc = mlx_vector_array_append(outputs, r);
    mlx_array_free(r);
  }
  free(t.ops);
  pmap_free(&deps);
  pmap_free(&bmap);
  mlx_vector_array_free(args);
  mlx_vector_array_free(res);
  leave();
  return rc;
}
