/* MLX::Core::Device and MLX::Core::Stream (plain values, as in the engine)
 * and the module functions over devices and streams. */
#include <string.h>
#include <strings.h>

#include "mlx_ext.h"

VALUE mlxrb_cDevice, mlxrb_cStream;
static ID id_cpu, id_gpu;

static const rb_data_type_t device_type = {
    "MLX::Core::Device",
    {NULL, RUBY_TYPED_DEFAULT_FREE, NULL},
    NULL,
    NULL,
    RUBY_TYPED_FREE_IMMEDIATELY | RUBY_TYPED_WB_PROTECTED,
};

static const rb_data_type_t stream_type = {
    "MLX::Core::Stream",
    {NULL, RUBY_TYPED_DEFAULT_FREE, NULL},
    NULL,
    NULL,
    RUBY_TYPED_FREE_IMMEDIATELY | RUBY_TYPED_WB_PROTECTED,
};

/* "cpu" / "gpu" / "metal" (any case) to a device type; -1 otherwise. */
static int parse_device_type(VALUE str) {
  long len = RSTRING_LEN(str);
  const char* p = RSTRING_PTR(str);
  if (len == 3 && strncasecmp(p, "cpu", 3) == 0) return MLX_CPU;
  if (len == 3 && strncasecmp(p, "gpu", 3) == 0) return MLX_GPU;
  if (len == 5 && strncasecmp(p, "metal", 5) == 0) return MLX_GPU;
  return -1;
}

/* :cpu / :gpu / :metal (Symbol or String, any case) to a device type. */
static mlx_device_type to_device_type(VALUE v) {
  VALUE str;
  if (SYMBOL_P(v)) str = rb_sym2str(v);
  else if (RB_TYPE_P(v, T_STRING)) str = v;
  else rb_raise(rb_eTypeError, "expected a device type (:cpu or :gpu), got %" PRIsVALUE, rb_obj_class(v));
  int t = parse_device_type(str);
  if (t < 0) rb_raise(mlxrb_eArgumentError, "unknown device type %" PRIsVALUE " (expected :cpu or :gpu)", rb_inspect(v));
  return (mlx_device_type)t;
}

VALUE mlxrb_device_value(mlx_device d) {
  mlx_device* p;
  VALUE obj = TypedData_Make_Struct(mlxrb_cDevice, mlx_device, &device_type, p);
  *p = d;
  return obj;
}

VALUE mlxrb_stream_value(mlx_stream s) {
  mlx_stream* p;
  VALUE obj = TypedData_Make_Struct(mlxrb_cStream, mlx_stream, &stream_type, p);
  *p = s;
  return obj;
}

mlx_device mlxrb_to_device(VALUE v) {
  if (rb_typeddata_is_kind_of(v, &device_type)) return *(mlx_device*)RTYPEDDATA_DATA(v);
  if (rb_typeddata_is_kind_of(v, &stream_type)) return ((mlx_stream*)RTYPEDDATA_DATA(v))->device;
  mlx_device d = {to_device_type(v), 0};
  return d;
}

mlx_stream mlxrb_to_stream(VALUE v) {
  if (NIL_P(v)) return MLX_DEFAULT_STREAM;
  if (rb_typeddata_is_kind_of(v, &stream_type)) return *(mlx_stream*)RTYPEDDATA_DATA(v);
  mlx_stream s;
  mlxrb_check(mlx_get_default_stream(&s, mlxrb_to_device(v)));
  return s;
}

/* Device.new(type, index = 0) */
static VALUE device_initialize(int argc, VALUE* argv, VALUE self) {
  rb_check_arity(argc, 1, 2);
  mlx_device* p = rb_check_typeddata(self, &device_type);
  p->type = to_device_type(argv[0]);
  p->index = argc > 1 && !NIL_P(argv[1]) ? NUM2INT(argv[1]) : 0;
  return self;
}

static VALUE device_alloc(VALUE klass) {
  mlx_device* p;
  return TypedData_Make_Struct(klass, mlx_device, &device_type, p);
}

static mlx_device* device_ptr(VALUE self) {
  return rb_check_typeddata(self, &device_type);
}

static VALUE device_type_sym(VALUE self) {
  return ID2SYM(device_ptr(self)->type == MLX_CPU ? id_cpu : id_gpu);
}

static VALUE device_index(VALUE self) {
  return INT2NUM(device_ptr(self)->index);
}

/* Equal to a Device of the same type and index, or to :cpu/:gpu. */
static VALUE device_eq(VALUE self, VALUE other) {
  mlx_device* d = device_ptr(self);
  if (rb_typeddata_is_kind_of(other, &device_type)) {
    mlx_device* o = RTYPEDDATA_DATA(other);
    return d->type == o->type && d->index == o->index ? Qtrue : Qfalse;
  }
  if (SYMBOL_P(other) || RB_TYPE_P(other, T_STRING)) {
    int t = parse_device_type(SYMBOL_P(other) ? rb_sym2str(other) : other);
    return t == (int)d->type ? Qtrue : Qfalse;
  }
  return Qfalse;
}

static VALUE device_eql(VALUE self, VALUE other) {
  if (!rb_typeddata_is_kind_of(other, &device_type)) return Qfalse;
  return device_eq(self, other);
}

static VALUE device_hash(VALUE self) {
  mlx_device* d = device_ptr(self);
  return rb_hash(INT2NUM(d->type * 1024 + d->index));
}

static VALUE device_inspect(VALUE self) {
  mlx_device* d = device_ptr(self);
  return rb_sprintf("#<MLX::Core::Device type=:%s index=%d>", d->type == MLX_CPU ? "cpu" : "gpu", d->index);
}

/* Stream.new(index, device = nil): a handle to an existing engine stream
 * (nil device = cpu). The engine checks it when it is used. */
static VALUE stream_initialize(int argc, VALUE* argv, VALUE self) {
  rb_check_arity(argc, 1, 2);
  mlx_stream* p = rb_check_typeddata(self, &stream_type);
  p->index = NIL_P(argv[0]) ? 0 : NUM2INT(argv[0]);
  p->device = argc > 1 && !NIL_P(argv[1]) ? mlxrb_to_device(argv[1]) : mlx_device_cpu();
  return self;
}

static VALUE stream_alloc(VALUE klass) {
  mlx_stream* p;
  return TypedData_Make_Struct(klass, mlx_stream, &stream_type, p);
}

static mlx_stream* stream_ptr(VALUE self) {
  return rb_check_typeddata(self, &stream_type);
}

static VALUE stream_index(VALUE self) {
  return INT2NUM(stream_ptr(self)->index);
}

static VALUE stream_device(VALUE self) {
  return mlxrb_device_value(stream_ptr(self)->device);
}

static VALUE stream_eq(VALUE self, VALUE other) {
  if (!rb_typeddata_is_kind_of(other, &stream_type)) return Qfalse;
  mlx_stream *a = stream_ptr(self), *b = RTYPEDDATA_DATA(other);
  return a->index == b->index && a->device.type == b->device.type && a->device.index == b->device.index ? Qtrue
                                                                                                         : Qfalse;
}

static VALUE stream_hash(VALUE self) {
  mlx_stream* s = stream_ptr(self);
  return rb_hash(INT2NUM(s->index * 4 + s->device.type));
}

static VALUE stream_inspect(VALUE self) {
  mlx_stream* s = stream_ptr(self);
  return rb_sprintf("#<MLX::Core::Stream index=%d device=:%s>", s->index, s->device.type == MLX_CPU ? "cpu" : "gpu");
}

/* ---- module functions (MLX::Native) ------------------------------------- */

static VALUE n_cpu(VALUE mod) {
  return mlxrb_device_value(mlx_device_cpu());
}

static VALUE n_gpu(VALUE mod) {
  return mlxrb_device_value(mlx_device_gpu());
}

static VALUE n_default_device(VALUE mod) {
  return mlxrb_device_value(mlx_get_default_device());
}

static VALUE n_set_default_device(VALUE mod, VALUE dev) {
  mlxrb_check(mlx_set_default_device(mlxrb_to_device(dev)));
  return dev;
}

/* is_available(device or type) */
static VALUE n_is_available(VALUE mod, VALUE dev) {
  return mlx_device_is_available(mlxrb_to_device(dev)) ? Qtrue : Qfalse;
}

static VALUE n_device_count(VALUE mod, VALUE type) {
  return INT2NUM(mlx_device_count(mlxrb_to_device(type).type));
}

static VALUE n_gpu_unavailable_reason(VALUE mod) {
  return rb_str_new_cstr(mlx_gpu_unavailable_reason());
}

static VALUE n_default_stream(VALUE mod, VALUE dev) {
  mlx_stream s;
  mlxrb_check(mlx_get_default_stream(&s, mlxrb_to_device(dev)));
  return mlxrb_stream_value(s);
}

static VALUE n_current_stream(VALUE mod) {
  return mlxrb_stream_value(mlx_default_stream_now());
}

static VALUE n_new_stream(VALUE mod, VALUE dev) {
  mlx_stream s;
  mlxrb_check(mlx_stream_new(&s, mlxrb_to_device(dev)));
  return mlxrb_stream_value(s);
}

static VALUE n_set_default_stream(VALUE mod, VALUE stream) {
  if (!rb_typeddata_is_kind_of(stream, &stream_type))
    rb_raise(rb_eTypeError, "expected MLX::Core::Stream, got %" PRIsVALUE, rb_obj_class(stream));
  mlxrb_check(mlx_set_default_stream(*stream_ptr(stream)));
  return stream;
}

static VALUE n_synchronize(VALUE mod, VALUE stream) {
  mlxrb_synchronize(mlxrb_to_stream(stream));
  return Qnil;
}

void mlxrb_init_device(void) {
  id_cpu = rb_intern("cpu");
  id_gpu = rb_intern("gpu");

  mlxrb_cDevice = rb_define_class_under(mlxrb_mCore, "Device", rb_cObject);
  rb_define_alloc_func(mlxrb_cDevice, device_alloc);
  rb_define_method(mlxrb_cDevice, "initialize", device_initialize, -1);
  rb_define_method(mlxrb_cDevice, "type", device_type_sym, 0);
  rb_define_method(mlxrb_cDevice, "index", device_index, 0);
  rb_define_method(mlxrb_cDevice, "==", device_eq, 1);
  rb_define_method(mlxrb_cDevice, "eql?", device_eql, 1);
  rb_define_method(mlxrb_cDevice, "hash", device_hash, 0);
  rb_define_method(mlxrb_cDevice, "inspect", device_inspect, 0);
  rb_define_method(mlxrb_cDevice, "to_s", device_inspect, 0);

  mlxrb_cStream = rb_define_class_under(mlxrb_mCore, "Stream", rb_cObject);
  rb_define_alloc_func(mlxrb_cStream, stream_alloc);
  rb_define_method(mlxrb_cStream, "initialize", stream_initialize, -1);
  rb_define_method(mlxrb_cStream, "index", stream_index, 0);
  rb_define_method(mlxrb_cStream, "device", stream_device, 0);
  rb_define_method(mlxrb_cStream, "==", stream_eq, 1);
  rb_define_method(mlxrb_cStream, "eql?", stream_eq, 1);
  rb_define_method(mlxrb_cStream, "hash", stream_hash, 0);
  rb_define_method(mlxrb_cStream, "inspect", stream_inspect, 0);
  rb_define_method(mlxrb_cStream, "to_s", stream_inspect, 0);

  MLXRB_DEF("cpu", n_cpu, 0);
  MLXRB_DEF("gpu", n_gpu, 0);
  MLXRB_DEF("default_device", n_default_device, 0);
  MLXRB_DEF("set_default_device", n_set_default_device, 1);
  MLXRB_DEF("is_available", n_is_available, 1);
  MLXRB_DEF("device_count", n_device_count, 1);
  MLXRB_DEF("gpu_unavailable_reason", n_gpu_unavailable_reason, 0);
  MLXRB_DEF("default_stream", n_default_stream, 1);
  MLXRB_DEF("current_stream", n_current_stream, 0);
  MLXRB_DEF("new_stream", n_new_stream, 1);
  MLXRB_DEF("set_default_stream", n_set_default_stream, 1);
  MLXRB_DEF("synchronize", n_synchronize, 1);
}
