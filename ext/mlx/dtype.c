/* MLX::Core::Dtype: one frozen object per engine dtype.
 *
 * Dtype.new(name) returns that object, so dtypes compare by identity and
 * can be hash keys. Ruby-facing names are the engine's ("float32"), with
 * bool spelled bool_ as in MLX's Python API (`mx.bool_`); "bool" parses
 * too. */
#include <string.h>

#include "mlx_ext.h"

VALUE mlxrb_cDtype;
static VALUE dtype_objs[MLX_NUM_DTYPES];
static VALUE dtype_syms[MLX_NUM_DTYPES];

static const rb_data_type_t dtype_type = {
    "MLX::Core::Dtype",
    {NULL, NULL, NULL},
    NULL,
    NULL,
    RUBY_TYPED_FREE_IMMEDIATELY | RUBY_TYPED_WB_PROTECTED,
};

/* The dtype is stored in the data pointer itself (+1 so it is never NULL). */
static mlx_dtype dtype_of(VALUE self) {
  return (mlx_dtype)((uintptr_t)rb_check_typeddata(self, &dtype_type) - 1);
}

VALUE mlxrb_dtype_value(mlx_dtype t) {
  if ((unsigned)t >= MLX_NUM_DTYPES) rb_raise(mlxrb_eInternalError, "invalid dtype %d", (int)t);
  return dtype_objs[t];
}

static const char* ruby_name(mlx_dtype t) {
  return t == MLX_BOOL ? "bool_" : mlx_dtype_name(t);
}

mlx_dtype mlxrb_to_dtype(VALUE v) {
  if (rb_typeddata_is_kind_of(v, &dtype_type)) return dtype_of(v);
  VALUE str;
  if (SYMBOL_P(v)) str = rb_sym2str(v);
  else if (RB_TYPE_P(v, T_STRING)) str = v;
  else rb_raise(rb_eTypeError, "expected a dtype (MLX::Core::Dtype, Symbol or String), got %" PRIsVALUE, rb_obj_class(v));
  char buf[32];
  long len = RSTRING_LEN(str);
  if (len <= 0 || len >= (long)sizeof buf || memchr(RSTRING_PTR(str), 0, len))
    rb_raise(mlxrb_eArgumentError, "unknown dtype %" PRIsVALUE, rb_inspect(v));
  memcpy(buf, RSTRING_PTR(str), len);
  buf[len] = 0;
  mlx_dtype t;
  if (mlx_dtype_from_name(&t, buf) != MLX_OK) {
    mlx_clear_error();
    rb_raise(mlxrb_eArgumentError, "unknown dtype %" PRIsVALUE, rb_inspect(v));
  }
  return t;
}

/* Dtype.new(name): the shared object of that dtype. */
static VALUE dtype_s_new(int argc, VALUE* argv, VALUE klass) {
  rb_check_arity(argc, 1, 1);
  return mlxrb_dtype_value(mlxrb_to_dtype(argv[0]));
}

static VALUE dtype_name(VALUE self) {
  return dtype_syms[dtype_of(self)];
}

static VALUE dtype_size(VALUE self) {
  return SIZET2NUM(mlx_dtype_size(dtype_of(self)));
}

/* The engine's enum value: stable within a build, used by lib/ for tables. */
static VALUE dtype_to_i(VALUE self) {
  return INT2NUM((int)dtype_of(self));
}

static VALUE dtype_eq(VALUE self, VALUE other) {
  if (!rb_typeddata_is_kind_of(other, &dtype_type)) return Qfalse;
  return dtype_of(self) == dtype_of(other) ? Qtrue : Qfalse;
}

static VALUE dtype_hash(VALUE self) {
  return rb_hash(INT2NUM(1000 + (int)dtype_of(self)));
}

static VALUE dtype_inspect(VALUE self) {
  mlx_dtype t = dtype_of(self);
  return rb_sprintf("#<MLX::Core::Dtype :%s size=%d>", ruby_name(t), (int)mlx_dtype_size(t));
}

/* Native.dtype_promote(a, b): MLX's promote_types. */
static VALUE n_dtype_promote(VALUE mod, VALUE a, VALUE b) {
  return mlxrb_dtype_value(mlx_dtype_promote(mlxrb_to_dtype(a), mlxrb_to_dtype(b)));
}

/* Native.dtype_issubdtype(dtype, category_index): category_index is an
 * mlx_dtype_category value (lib/ maps the category Symbols). */
static VALUE n_dtype_issubdtype(VALUE mod, VALUE t, VALUE cat) {
  int c = NUM2INT(cat);
  if (c < MLX_COMPLEXFLOATING || c > MLX_GENERIC) rb_raise(mlxrb_eArgumentError, "unknown dtype category %d", c);
  return mlx_dtype_issubdtype(mlxrb_to_dtype(t), (mlx_dtype_category)c) ? Qtrue : Qfalse;
}

void mlxrb_init_dtype(void) {
  mlxrb_cDtype = rb_define_class_under(mlxrb_mCore, "Dtype", rb_cObject);
  rb_undef_alloc_func(mlxrb_cDtype);
  VALUE all = rb_ary_new();
  for (int t = 0; t < MLX_NUM_DTYPES; t++) {
    VALUE obj = TypedData_Wrap_Struct(mlxrb_cDtype, &dtype_type, (void*)(uintptr_t)(t + 1));
    rb_obj_freeze(obj);
    rb_gc_register_mark_object(obj);
    dtype_objs[t] = obj;
    dtype_syms[t] = ID2SYM(rb_intern(ruby_name((mlx_dtype)t)));
    rb_ary_push(all, obj);
  }
  rb_define_const(mlxrb_cDtype, "ALL", rb_ary_freeze(all));
  rb_define_singleton_method(mlxrb_cDtype, "new", dtype_s_new, -1);
  rb_define_method(mlxrb_cDtype, "name", dtype_name, 0);
  rb_define_method(mlxrb_cDtype, "size", dtype_size, 0);
  rb_define_method(mlxrb_cDtype, "itemsize", dtype_size, 0);
  rb_define_method(mlxrb_cDtype, "to_i", dtype_to_i, 0);
  rb_define_method(mlxrb_cDtype, "==", dtype_eq, 1);
  rb_define_method(mlxrb_cDtype, "eql?", dtype_eq, 1);
  rb_define_method(mlxrb_cDtype, "hash", dtype_hash, 0);
  rb_define_method(mlxrb_cDtype, "inspect", dtype_inspect, 0);
  rb_define_method(mlxrb_cDtype, "to_s", dtype_inspect, 0);
  MLXRB_DEF("dtype_promote", n_dtype_promote, 2);
  MLXRB_DEF("dtype_issubdtype", n_dtype_issubdtype, 2);
}
