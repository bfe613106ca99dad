/* MLX::Core::Array: a Ruby object owning one engine handle.
 *
 * Memory accounting: once an array is evaluated, the bytes of host memory
 * its buffer holds are reported to Ruby's GC (rb_gc_adjust_memory_usage)
 * so that many big arrays trigger collections; the report is undone when
 * the object is freed. Views share their input's buffer and report it
 * too: the count is a pressure hint, not an exact sum. Reporting happens
 * the first time the glue sees the array evaluated (on wrap, on use as an
 * op input, after an eval), since an array may be evaluated as a
 * dependency of another. Buffers living on a GPU hold no host memory and
 * are not reported (Ruby would count them against its malloc limits and
 * run a full collection every few training steps); eval.c collects their
 * dead wrappers as the GPU's memory grows instead. */
#include "mlx_ext.h"

VALUE mlxrb_cArray;

typedef struct {
  mlx_array arr;
  size_t reported; /* bytes reported to the GC, undone on free */
  int report_done;
} array_t;

static void array_free(void* ptr) {
  array_t* p = ptr;
  if (p->reported) rb_gc_adjust_memory_usage(-(ssize_t)p->reported);
  mlx_array_free(p->arr);
  xfree(p);
}

static size_t array_size(const void* ptr) {
  const array_t* p = ptr;
  return sizeof *p + (p->arr.ctx ? mlx_array_buffer_nbytes(p->arr) : 0);
}

static const rb_data_type_t array_type = {
    "MLX::Core::Array",
    {NULL, array_free, array_size},
    NULL,
    NULL,
    RUBY_TYPED_FREE_IMMEDIATELY | RUBY_TYPED_WB_PROTECTED,
};

/* Arrays wrapped since the last garbage collection (see eval.c). */
size_t mlxrb_arrays_since_gc;

static VALUE array_alloc(VALUE klass) {
  array_t* p;
  VALUE obj = TypedData_Make_Struct(klass, array_t, &array_type, p);
  p->arr = mlx_array_new();
  mlxrb_arrays_since_gc++;
  return obj;
}

static void report(array_t* p) {
  if (p->report_done || !p->arr.ctx || !mlx_array_is_evaluated(p->arr)) return;
  p->report_done = 1;
  size_t n = mlx_array_host_nbytes(p->arr);
  if (n) {
    p->reported = n;
    rb_gc_adjust_memory_usage((ssize_t)n);
  }
}

int mlxrb_is_array(VALUE v) {
  return rb_typeddata_is_kind_of(v, &array_type);
}

static array_t* array_ptr(VALUE v) {
  if (RB_UNLIKELY(!rb_typeddata_is_kind_of(v, &array_type)))
    rb_raise(rb_eTypeError, "expected MLX::Core::Array, got %" PRIsVALUE, rb_obj_class(v));
  array_t* p = RTYPEDDATA_DATA(v);
  if (RB_UNLIKELY(!p->arr.ctx)) rb_raise(mlxrb_eArgumentError, "uninitialized MLX::Core::Array");
  return p;
}

mlx_array mlxrb_get(VALUE v) {
  array_t* p = array_ptr(v);
  if (!p->report_done) report(p);
  return p->arr;
}

void mlxrb_report_memory(VALUE v) {
  report(array_ptr(v));
}

VALUE mlxrb_new_result(mlx_array** slot) {
  VALUE obj = array_alloc(mlxrb_cArray);
  *slot = &((array_t*)RTYPEDDATA_DATA(obj))->arr;
  return obj;
}

VALUE mlxrb_result_ready(VALUE obj) {
  report(RTYPEDDATA_DATA(obj));
  return obj;
}

/* Array.new(value, dtype = nil): the same conversion as MLX::Core.array. */
static VALUE array_initialize(int argc, VALUE* argv, VALUE self) {
  rb_check_arity(argc, 1, 2);
  array_t* p = rb_check_typeddata(self, &array_type);
  int has_dtype = argc > 1 && !NIL_P(argv[1]);
  mlx_dtype dtype = has_dtype ? mlxrb_to_dtype(argv[1]) : MLX_FLOAT32;
  VALUE src = mlxrb_to_array_value(argv[0], has_dtype, dtype);
  mlx_array_set(&p->arr, mlxrb_get(src));
  RB_GC_GUARD(src);
  report(p);
  return self;
}

/* dup/clone share the (immutable) graph node. */
static VALUE array_init_copy(VALUE self, VALUE other) {
  if (self == other) return self;
  array_t* p = rb_check_typeddata(self, &array_type);
  mlx_array_set(&p->arr, mlxrb_get(other));
  report(p);
  return self;
}

static VALUE array_shape(VALUE self) {
  mlx_array a = mlxrb_get(self);
  int nd = mlx_array_ndim(a);
  const int64_t* sh = mlx_array_shape(a);
  VALUE out = rb_ary_new_capa(nd);
  for (int i = 0; i < nd; i++) rb_ary_push(out, LL2NUM(sh[i]));
  return out;
}

static VALUE array_ndim(VALUE self) {
  return INT2NUM(mlx_array_ndim(mlxrb_get(self)));
}

static VALUE array_size_m(VALUE self) {
  return LL2NUM(mlx_array_size(mlxrb_get(self)));
}

static VALUE array_dtype(VALUE self) {
  return mlxrb_dtype_value(mlx_array_dtype(mlxrb_get(self)));
}

static VALUE array_nbytes(VALUE self) {
  return SIZET2NUM(mlx_array_nbytes(mlxrb_get(self)));
}

static VALUE array_itemsize(VALUE self) {
  return SIZET2NUM(mlx_array_itemsize(mlxrb_get(self)));
}

static VALUE array_is_evaluated(VALUE self) {
  return mlx_array_is_evaluated(mlxrb_get(self)) ? Qtrue : Qfalse;
}

/* Bytes of the buffer behind the array (0 until evaluated). */
static VALUE array_buffer_nbytes(VALUE self) {
  return SIZET2NUM(mlx_array_buffer_nbytes(mlxrb_get(self)));
}

/* Bytes this object reported to Ruby's GC (for tests and diagnostics). */
static VALUE array_reported_bytes(VALUE self) {
  array_t* p = array_ptr(self);
  report(p);
  return SIZET2NUM(p->reported);
}

/* 1 if both objects refer to the same graph node. */
static VALUE array_same(VALUE self, VALUE other) {
  return mlx_array_is_same(mlxrb_get(self), mlxrb_get(other)) ? Qtrue : Qfalse;
}

void mlxrb_init_array(void) {
  mlxrb_cArray = rb_define_class_under(mlxrb_mCore, "Array", rb_cObject);
  rb_define_alloc_func(mlxrb_cArray, array_alloc);
  rb_define_method(mlxrb_cArray, "initialize", array_initialize, -1);
  rb_define_method(mlxrb_cArray, "initialize_copy", array_init_copy, 1);
  rb_define_method(mlxrb_cArray, "shape", array_shape, 0);
  rb_define_method(mlxrb_cArray, "ndim", array_ndim, 0);
  rb_define_method(mlxrb_cArray, "size", array_size_m, 0);
  rb_define_method(mlxrb_cArray, "dtype", array_dtype, 0);
  rb_define_method(mlxrb_cArray, "nbytes", array_nbytes, 0);
  rb_define_method(mlxrb_cArray, "itemsize", array_itemsize, 0);
  rb_define_method(mlxrb_cArray, "evaluated?", array_is_evaluated, 0);
  rb_define_method(mlxrb_cArray, "buffer_nbytes", array_buffer_nbytes, 0);
  rb_define_method(mlxrb_cArray, "reported_bytes", array_reported_bytes, 0);
  rb_define_method(mlxrb_cArray, "same?", array_same, 1);
}
