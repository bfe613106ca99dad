/* compile: Ruby callables as compiled engine closures.
 *
 * Native.compile(callable, shapeless) returns an
 * MLX::Native::CompiledFunction wrapping the engine's compiled closure
 * over callable (through the trampoline of transforms.c). Its #call takes
 * a flat Ruby Array of MLX::Core::Array and returns a flat Ruby Array:
 * the first call with a new input signature calls callable to trace it
 * (on this thread, GVL held); later calls replay the trace without
 * calling it. Trees, constant arguments and captured state are handled
 * in lib/mlx/core/compile.rb.
 *
 * GC: the callable is marked by the wrapper, not rooted in the registry
 * of transforms.c. In lib/mlx the callable closes over the Ruby object
 * that holds the wrapper; a rooted callable would keep that cycle alive
 * forever. Only the wrapper's closure calls it, and only from #call,
 * while the wrapper is alive.
 *
 * Natives (positional): compile, disable_compile, enable_compile,
 * set_compile_cache_dir, compile_clear_cache. */
#include "mlx_ext.h"

static VALUE cCompiledFunction;

typedef struct {
  mlx_closure fn;  /* the engine's compiled closure (empty until made) */
  VALUE callable;  /* what fn traces; marked here */
} compiled_fn;

static void compiled_mark(void* ptr) {
  rb_gc_mark(((compiled_fn*)ptr)->callable);
}

/* Freeing the closure releases the trace's captured constants; it never
 * calls back into Ruby. */
static void compiled_free(void* ptr) {
  compiled_fn* c = ptr;
  mlx_closure_free(c->fn);
  xfree(c);
}

static size_t compiled_size(const void* ptr) {
  return sizeof(compiled_fn);
}

/* Not write-barrier protected: callable is stored with a plain write. */
static const rb_data_type_t compiled_type = {
    "MLX::Native::CompiledFunction",
    {compiled_mark, compiled_free, compiled_size},
    NULL,
    NULL,
    RUBY_TYPED_FREE_IMMEDIATELY,
};

static compiled_fn* get_compiled(VALUE obj) {
  compiled_fn* c = rb_check_typeddata(obj, &compiled_type);
  if (!c->fn.ctx) rb_raise(mlxrb_eRuntimeError, "[compile] uninitialized compiled function");
  return c;
}

/* Native.compile(callable, shapeless) -> CompiledFunction */
static VALUE n_compile(VALUE mod, VALUE callable, VALUE shapeless) {
  compiled_fn* c;
  VALUE obj = TypedData_Make_Struct(cCompiledFunction, compiled_fn, &compiled_type, c);
  c->callable = callable;
  mlx_closure fun = mlxrb_closure_new(callable, 0);
  int rc = mlx_compile(&c->fn, fun, RTEST(shapeless));
  /* The compiled closure holds its own reference to fun. */
  mlx_closure_free(fun);
  mlxrb_check(rc);
  return obj;
}

typedef struct {
  VALUE self, list;
  mlx_vector_array in, out;
} call_job;

static VALUE call_body(VALUE arg) {
  call_job* j = (call_job*)arg;
  compiled_fn* c = get_compiled(j->self);
  if (!RB_TYPE_P(j->list, T_ARRAY))
    rb_raise(rb_eTypeError, "[compile] inputs must be an Array of MLX::Core::Array, got %" PRIsVALUE,
             rb_obj_class(j->list));
  j->in = mlx_vector_array_new();
  j->out = mlx_vector_array_new();
  if (!j->in.ctx || !j->out.ctx) mlxrb_raise_status(MLX_ERROR_MEMORY);
  for (long i = 0; i < RARRAY_LEN(j->list); i++) {
    VALUE e = RARRAY_AREF(j->list, i);
    if (!mlxrb_is_array(e))
      rb_raise(rb_eTypeError, "[compile] inputs must hold MLX::Core::Array, got %" PRIsVALUE " at position %ld",
               rb_obj_class(e), i);
    mlxrb_check(mlx_vector_array_append(j->in, mlxrb_get(e)));
  }
  mlxrb_callback_check(mlx_closure_apply(j->out, c->fn, j->in));
  return mlxrb_vector_to_ruby(j->out);
}

static VALUE call_cleanup(VALUE arg) {
  call_job* j = (call_job*)arg;
  mlx_vector_array_free(j->in);
  mlx_vector_array_free(j->out);
  return Qnil;
}

/* CompiledFunction#call(arrays) -> Array of MLX::Core::Array */
static VALUE compiled_call(VALUE self, VALUE list) {
  call_job j = {self, list, {NULL}, {NULL}};
  VALUE r = rb_ensure(call_body, (VALUE)&j, call_cleanup, (VALUE)&j);
  RB_GC_GUARD(self);
  RB_GC_GUARD(list);
  return r;
}

/* Native.disable_compile -> nil */
static VALUE n_disable_compile(VALUE mod) {
  mlxrb_check(mlx_disable_compile());
  return Qnil;
}

/* Native.enable_compile -> nil */
static VALUE n_enable_compile(VALUE mod) {
  mlxrb_check(mlx_enable_compile());
  return Qnil;
}

/* Native.set_compile_cache_dir(dir) -> nil; nil restores the default. */
static VALUE n_set_compile_cache_dir(VALUE mod, VALUE dir) {
  const char* path = NIL_P(dir) ? NULL : StringValueCStr(dir);
  mlxrb_check(mlx_set_compile_cache_dir(path));
  RB_GC_GUARD(dir);
  return Qnil;
}

/* Native.compile_clear_cache -> nil */
static VALUE n_compile_clear_cache(VALUE mod) {
  mlxrb_check(mlx_compile_clear_cache());
  return Qnil;
}

void mlxrb_init_compile(void) {
  cCompiledFunction = rb_define_class_under(mlxrb_mNative, "CompiledFunction", rb_cObject);
  rb_undef_alloc_func(cCompiledFunction);
  rb_define_method(cCompiledFunction, "call", compiled_call, 1);
  MLXRB_DEF("compile", n_compile, 2);
  MLXRB_DEF("disable_compile", n_disable_compile, 0);
  MLXRB_DEF("enable_compile", n_enable_compile, 0);
  MLXRB_DEF("set_compile_cache_dir", n_set_compile_cache_dir, 1);
  MLXRB_DEF("compile_clear_cache", n_compile_clear_cache, 0);
}
