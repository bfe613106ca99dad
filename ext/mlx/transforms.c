/* Function transforms: Ruby callables as engine closures.
 *
 * A Ruby callable becomes an mlx_closure whose trampoline wraps the input
 * arrays in a Ruby Array, calls `callable.call(list)` and hands the result
 * (an MLX::Core::Array or a Ruby Array of them: trees are flattened in
 * lib/mlx, the engine only sees flat lists) back to the engine. Tracing
 * runs on the calling thread with the GVL held.
 *
 * Errors: the callable runs under rb_protect. If it raises (or jumps out
 * with throw/break), the trampoline keeps the exception in a fiber-local
 * slot and returns MLX_ERROR_CALLBACK; the engine unwinds, and once the
 * transform has returned, the glue raises that very exception object
 * (same class, message and backtrace) or resumes the jump. Nested
 * transforms (grad of grad) pass it up level by level.
 *
 * GC: a closure's payload is linked into a registry whose mark function
 * keeps the callable alive for as long as the engine holds the closure
 * (a custom function's rules live as long as the ops that use them). The
 * payload's destructor may run on any thread (an op can be freed by an
 * evaluation worker), so it only unlinks under a mutex and never touches
 * Ruby.
 * An unrooted payload (mlxrb_closure_new(callable, 0)) stays out of the
 * registry: its owner marks the callable, so a cycle through the callable
 * back to the owner stays collectable (compile.c).
 *
 * The trampoline, the exception relay and the list conversion are shared
 * with compile.c (mlxrb_closure_new, mlxrb_callback_check,
 * mlxrb_vector_to_ruby in mlx_ext.h).
 *
 * Natives (positional): vjp, jvp, value_and_grad, vmap, custom_function,
 * checkpoint, depends. Each engine resource a native makes is freed by an
 * rb_ensure cleanup, so a raise anywhere leaks nothing. */
#include <pthread.h>
#include <stdlib.h>

#include "mlx_ext.h"

/* ---- the registry of live callables ------------------------------------- */
typedef struct cb_payload {
  struct cb_payload *prev, *next;
  VALUE callable;
} cb_payload;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static cb_payload registry = {&registry, &registry, Qnil};

static void registry_mark(void* unused) {
  pthread_mutex_lock(&registry_lock);
  for (cb_payload* p = registry.next; p != &registry; p = p->next) rb_gc_mark(p->callable);
  pthread_mutex_unlock(&registry_lock);
}

/* Not write-barrier protected: the GC traverses it at every collection,
 * minor ones included, which the registry needs since it changes without
 * write barriers. */
static const rb_data_type_t registry_type = {
    "MLX::Native::CallbackRegistry",
    {registry_mark, NULL, NULL},
    NULL,
    NULL,
    0,
};

static void payload_free(void* ptr) {
  cb_payload* p = ptr;
  pthread_mutex_lock(&registry_lock);
  p->prev->next = p->next;
  p->next->prev = p->prev;
  pthread_mutex_unlock(&registry_lock);
  free(p);
}

/* ---- pending exceptions -------------------------------------------------- */
static ID id_call, id_pending;

/* Called right after rb_protect caught something: keeps what to re-raise. */
static void keep_pending(int state) {
  VALUE err = rb_errinfo();
  VALUE keep;
  if (!SPECIAL_CONST_P(err) && BUILTIN_TYPE(err) == T_OBJECT && rb_obj_is_kind_of(err, rb_eException)) {
    keep = err;
    rb_set_errinfo(Qnil);
  } else {
    /* throw, break, next...: the VM's errinfo carries the jump; leave it
     * and resume the jump with its tag. */
    keep = INT2FIX(state);
  }
  rb_thread_local_aset(rb_thread_current(), id_pending, keep);
}

void mlxrb_callback_check(int rc) {
  if (RB_LIKELY(rc == MLX_OK)) return;
  if (rc != MLX_ERROR_CALLBACK) mlxrb_raise_status(rc);
  VALUE th = rb_thread_current();
  VALUE pending = rb_thread_local_aref(th, id_pending);
  rb_thread_local_aset(th, id_pending, Qnil);
  mlx_clear_error();
  if (FIXNUM_P(pending)) rb_jump_tag(FIX2INT(pending));
  if (!NIL_P(pending)) rb_exc_raise(pending);
  rb_raise(mlxrb_eInternalError, "[transform] a callback failed without leaving an exception");
}

/* ---- the trampoline ------------------------------------------------------ */
typedef struct {
  VALUE callable;
  mlx_vector_array outputs, inputs;
} call_ctx;

VALUE mlxrb_vector_to_ruby(mlx_vector_array v) {
  size_t n = mlx_vector_array_size(v);
  VALUE out = rb_ary_new_capa((long)n);
  for (size_t i = 0; i < n; i++) {
    mlx_array* slot;
    VALUE obj = mlxrb_new_result(&slot);
    mlxrb_check(mlx_vector_array_get(slot, v, i));
    rb_ary_push(out, mlxrb_result_ready(obj));
  }
  return out;
}

/* Appends an MLX array, or every element of a Ruby Array of them. */
static void append_result(mlx_vector_array out, VALUE res) {
  if (mlxrb_is_array(res)) {
    mlxrb_check(mlx_vector_array_append(out, mlxrb_get(res)));
    return;
  }
  if (!RB_TYPE_P(res, T_ARRAY))
    rb_raise(rb_eTypeError, "a transformed function must return an MLX::Core::Array or an Array of them, got %" PRIsVALUE,
             rb_obj_class(res));
  for (long i = 0; i < RARRAY_LEN(res); i++) {
    VALUE e = RARRAY_AREF(res, i);
    if (!mlxrb_is_array(e))
      rb_raise(rb_eTypeError, "a transformed function returned %" PRIsVALUE " at position %ld, expected MLX::Core::Array",
               rb_obj_class(e), i);
    mlxrb_check(mlx_vector_array_append(out, mlxrb_get(e)));
  }
}

static VALUE protected_call(VALUE arg) {
  call_ctx* c = (call_ctx*)arg;
  VALUE list = mlxrb_vector_to_ruby(c->inputs);
  VALUE res = rb_funcall(c->callable, id_call, 1, list);
  append_result(c->outputs, res);
  RB_GC_GUARD(list);
  RB_GC_GUARD(res);
  return Qnil;
}

/* The engine calls closures only from the transform that was given them,
 * which the glue runs on a Ruby thread holding the GVL; evaluation (which
 * may run without the GVL, on workers) never calls closures. */
static int trampoline(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  call_ctx c = {((cb_payload*)payload)->callable, outputs, inputs};
  int state = 0;
  rb_protect(protected_call, (VALUE)&c, &state);
  if (state) {
    keep_pending(state);
    return MLX_ERROR_CALLBACK;
  }
  return MLX_OK;
}

/* ---- resources of one native call, freed by rb_ensure ------------------- */
#define MAX_LISTS 6
#define MAX_CLOSURES 5

typedef struct {
  mlx_vector_array lists[MAX_LISTS];
  int nlists;
  mlx_closure closures[MAX_CLOSURES];
  int nclosures;
  VALUE args[5];
} job;

static VALUE job_cleanup(VALUE arg) {
  job* j = (job*)arg;
  for (int i = 0; i < j->nlists; i++) mlx_vector_array_free(j->lists[i]);
  for (int i = 0; i < j->nclosures; i++) mlx_closure_free(j->closures[i]);
  j->nlists = j->nclosures = 0;
  return Qnil;
}

static mlx_vector_array job_list(job* j) {
  mlx_vector_array v = mlx_vector_array_new();
  if (!v.ctx) mlxrb_raise_status(MLX_ERROR_MEMORY);
  j->lists[j->nlists++] = v;
  return v;
}

/* A list holding the MLX arrays of a Ruby Array (TypeError otherwise). */
static mlx_vector_array job_list_from(job* j, VALUE ary, const char* what) {
  if (!RB_TYPE_P(ary, T_ARRAY))
    rb_raise(rb_eTypeError, "%s must be an Array of MLX::Core::Array, got %" PRIsVALUE, what, rb_obj_class(ary));
  mlx_vector_array v = job_list(j);
  for (long i = 0; i < RARRAY_LEN(ary); i++) {
    VALUE e = RARRAY_AREF(ary, i);
    if (!mlxrb_is_array(e))
      rb_raise(rb_eTypeError, "%s must hold MLX::Core::Array, got %" PRIsVALUE " at position %ld", what,
               rb_obj_class(e), i);
    mlxrb_check(mlx_vector_array_append(v, mlxrb_get(e)));
  }
  return v;
}

mlx_closure mlxrb_closure_new(VALUE callable, int rooted) {
  if (!rb_respond_to(callable, id_call))
    rb_raise(rb_eTypeError, "expected a callable (responding to #call), got %" PRIsVALUE, rb_obj_class(callable));
  cb_payload* p = malloc(sizeof *p);
  if (!p) rb_raise(mlxrb_eMemoryError, "[transform] out of memory");
  p->callable = callable;
  /* An unrooted payload links to itself, so payload_free's unlink is a
   * no-op for it. */
  p->next = p->prev = p;
  if (rooted) {
    pthread_mutex_lock(&registry_lock);
    p->next = registry.next;
    p->prev = &registry;
    registry.next->prev = p;
    registry.next = p;
    pthread_mutex_unlock(&registry_lock);
  }
  mlx_closure c = mlx_closure_new(trampoline, p, payload_free);
  if (!c.ctx) {
    payload_free(p);
    mlxrb_raise_status(MLX_ERROR_MEMORY);
  }
  return c;
}

/* An engine closure calling a Ruby callable (anything with #call). */
static mlx_closure job_closure(job* j, VALUE callable) {
  mlx_closure c = mlxrb_closure_new(callable, 1);
  j->closures[j->nclosures++] = c;
  return c;
}

static VALUE run_job(VALUE (*body)(VALUE), job* j) {
  return rb_ensure(body, (VALUE)j, job_cleanup, (VALUE)j);
}

/* Axes: a Ruby Array of Integer or nil (nil -> MLX_VMAP_NONE). The result
 * lives in *keep's buffer. */
static int* axes_list(VALUE v, long* n, VALUE* keep, const char* what) {
  if (!RB_TYPE_P(v, T_ARRAY))
    rb_raise(rb_eTypeError, "%s must be an Array of Integers or nil, got %" PRIsVALUE, what, rb_obj_class(v));
  long len = RARRAY_LEN(v);
  *keep = rb_str_buf_new(len * (long)sizeof(int) + 1);
  int* out = (int*)RSTRING_PTR(*keep);
  for (long i = 0; i < len; i++) {
    VALUE e = RARRAY_AREF(v, i);
    out[i] = NIL_P(e) ? MLX_VMAP_NONE : mlxrb_to_int(e);
  }
  *n = len;
  return out;
}

/* ---- natives --------------------------------------------------------------- */
/* vjp and jvp share a shape: (outputs, results, fun, primals, seeds) with
 * seeds the cotangents or the tangents. */
typedef int (*pullback_fn)(mlx_vector_array, mlx_vector_array, const mlx_closure, const mlx_vector_array,
                           const mlx_vector_array);

typedef struct {
  job j;
  pullback_fn transform;
  const char* seeds_name; /* for error messages */
} seeded_job;

static VALUE seeded_body(VALUE arg) {
  seeded_job* sj = (seeded_job*)arg;
  job* j = &sj->j;
  mlx_vector_array prim = job_list_from(j, j->args[1], "primals");
  mlx_vector_array seeds = job_list_from(j, j->args[2], sj->seeds_name);
  mlx_vector_array outs = job_list(j), res = job_list(j);
  mlx_closure f = job_closure(j, j->args[0]);
  mlxrb_callback_check(sj->transform(outs, res, f, prim, seeds));
  return rb_assoc_new(mlxrb_vector_to_ruby(outs), mlxrb_vector_to_ruby(res));
}

static VALUE run_seeded(pullback_fn transform, const char* seeds_name, VALUE fun, VALUE primals, VALUE seeds) {
  seeded_job sj = {.j = {.args = {fun, primals, seeds}}, .transform = transform, .seeds_name = seeds_name};
  VALUE r = run_job(seeded_body, &sj.j);
  RB_GC_GUARD(fun);
  RB_GC_GUARD(primals);
  RB_GC_GUARD(seeds);
  return r;
}

/* Native.vjp(fun, primals, cotangents) -> [outputs, vjps] */
static VALUE n_vjp(VALUE mod, VALUE fun, VALUE primals, VALUE cotangents) {
  return run_seeded(mlx_vjp, "cotangents", fun, primals, cotangents);
}

/* Native.jvp(fun, primals, tangents) -> [outputs, jvps] */
static VALUE n_jvp(VALUE mod, VALUE fun, VALUE primals, VALUE tangents) {
  return run_seeded(mlx_jvp, "tangents", fun, primals, tangents);
}

/* Native.value_and_grad(fun, inputs, argnums) -> [outputs, grads]: fun's
 * outputs (output 0 is the scalar loss) and d outputs[0] / d inputs[k]
 * for each k in argnums (an Integer or an Array of them). */
static VALUE vag_body(VALUE arg) {
  job* j = (job*)arg;
  long nargs;
  VALUE keep;
  int* argnums = mlxrb_int_list(j->args[2], &nargs, &keep);
  mlx_vector_array in = job_list_from(j, j->args[1], "inputs");
  mlx_vector_array outs = job_list(j), grads = job_list(j);
  mlx_closure f = job_closure(j, j->args[0]);
  mlxrb_callback_check(mlx_value_and_grad(outs, grads, f, in, argnums, (size_t)nargs));
  RB_GC_GUARD(keep);
  return rb_assoc_new(mlxrb_vector_to_ruby(outs), mlxrb_vector_to_ruby(grads));
}

static VALUE n_value_and_grad(VALUE mod, VALUE fun, VALUE inputs, VALUE argnums) {
  job j = {.args = {fun, inputs, argnums}};
  VALUE r = run_job(vag_body, &j);
  RB_GC_GUARD(fun);
  RB_GC_GUARD(inputs);
  RB_GC_GUARD(argnums);
  return r;
}

/* Native.vmap(fun, inputs, in_axes, out_axes) -> outputs. in_axes: one
 * Integer or nil (not mapped) per input; out_axes: one per output, or nil
 * for axis 0 on every output. */
static VALUE vmap_body(VALUE arg) {
  job* j = (job*)arg;
  long nin_axes, nout_axes = 0;
  VALUE keep_in, keep_out = Qnil;
  int* in_axes = axes_list(j->args[2], &nin_axes, &keep_in, "in_axes");
  int* out_axes = NIL_P(j->args[3]) ? NULL : axes_list(j->args[3], &nout_axes, &keep_out, "out_axes");
  mlx_vector_array in = job_list_from(j, j->args[1], "inputs");
  mlx_vector_array outs = job_list(j);
  mlx_closure f = job_closure(j, j->args[0]);
  mlxrb_callback_check(mlx_vmap(outs, f, in, in_axes, (size_t)nin_axes, out_axes, (size_t)nout_axes));
  RB_GC_GUARD(keep_in);
  RB_GC_GUARD(keep_out);
  return mlxrb_vector_to_ruby(outs);
}

static VALUE n_vmap(VALUE mod, VALUE fun, VALUE inputs, VALUE in_axes, VALUE out_axes) {
  job j = {.args = {fun, inputs, in_axes, out_axes}};
  VALUE r = run_job(vmap_body, &j);
  RB_GC_GUARD(fun);
  RB_GC_GUARD(inputs);
  RB_GC_GUARD(in_axes);
  RB_GC_GUARD(out_axes);
  return r;
}

/* Native.custom_function(fun, vjp, jvp, vmap, inputs) -> outputs: makes
 * the custom function (rules may be nil; calling conventions in
 * mlx/transforms.h) and calls it on inputs at once. The recorded op keeps
 * the rules (and so the Ruby callables) for as long as it lives. */
static VALUE custom_body(VALUE arg) {
  job* j = (job*)arg;
  mlx_vector_array in = job_list_from(j, j->args[4], "inputs");
  mlx_vector_array outs = job_list(j);
  mlx_closure rules[4] = {{NULL}, {NULL}, {NULL}, {NULL}};
  for (int i = 0; i < 4; i++)
    if (i == 0 || !NIL_P(j->args[i])) rules[i] = job_closure(j, j->args[i]);
  mlx_closure cf = {NULL};
  mlxrb_check(mlx_custom_function(&cf, rules[0], rules[1], rules[2], rules[3]));
  j->closures[j->nclosures++] = cf;
  mlxrb_callback_check(mlx_closure_apply(outs, cf, in));
  return mlxrb_vector_to_ruby(outs);
}

static VALUE n_custom_function(VALUE mod, VALUE fun, VALUE vjp, VALUE jvp, VALUE vmap, VALUE inputs) {
  job j = {.args = {fun, vjp, jvp, vmap, inputs}};
  VALUE r = run_job(custom_body, &j);
  RB_GC_GUARD(fun);
  RB_GC_GUARD(vjp);
  RB_GC_GUARD(jvp);
  RB_GC_GUARD(vmap);
  RB_GC_GUARD(inputs);
  return r;
}

/* Native.checkpoint(fun, inputs) -> outputs: fun on inputs, its vjp
 * recomputing fun instead of keeping its intermediates. */
static VALUE checkpoint_body(VALUE arg) {
  job* j = (job*)arg;
  mlx_vector_array in = job_list_from(j, j->args[1], "inputs");
  mlx_vector_array outs = job_list(j);
  mlx_closure f = job_closure(j, j->args[0]);
  mlx_closure cp = {NULL};
  mlxrb_check(mlx_checkpoint(&cp, f));
  j->closures[j->nclosures++] = cp;
  mlxrb_callback_check(mlx_closure_apply(outs, cp, in));
  return mlxrb_vector_to_ruby(outs);
}

static VALUE n_checkpoint(VALUE mod, VALUE fun, VALUE inputs) {
  job j = {.args = {fun, inputs}};
  VALUE r = run_job(checkpoint_body, &j);
  RB_GC_GUARD(fun);
  RB_GC_GUARD(inputs);
  return r;
}

/* Native.depends(inputs, dependencies) -> outputs (one per input). */
static VALUE depends_body(VALUE arg) {
  job* j = (job*)arg;
  mlx_vector_array in = job_list_from(j, j->args[0], "inputs");
  mlx_vector_array deps = job_list_from(j, j->args[1], "dependencies");
  mlx_vector_array outs = job_list(j);
  mlxrb_check(mlx_depends(outs, in, deps));
  return mlxrb_vector_to_ruby(outs);
}

static VALUE n_depends(VALUE mod, VALUE inputs, VALUE dependencies) {
  job j = {.args = {inputs, dependencies}};
  VALUE r = run_job(depends_body, &j);
  RB_GC_GUARD(inputs);
  RB_GC_GUARD(dependencies);
  return r;
}

void mlxrb_init_transforms(void) {
  id_call = rb_intern("call");
  id_pending = rb_intern("__mlx_transform_error__");
  /* The data pointer must not be NULL: the GC skips dmark for NULL. */
  VALUE holder = TypedData_Wrap_Struct(0, &registry_type, &registry);
  rb_gc_register_mark_object(holder);
  MLXRB_DEF("vjp", n_vjp, 3);
  MLXRB_DEF("jvp", n_jvp, 3);
  MLXRB_DEF("value_and_grad", n_value_and_grad, 3);
  MLXRB_DEF("vmap", n_vmap, 4);
  MLXRB_DEF("custom_function", n_custom_function, 5);
  MLXRB_DEF("checkpoint", n_checkpoint, 2);
  MLXRB_DEF("depends", n_depends, 2);
}
