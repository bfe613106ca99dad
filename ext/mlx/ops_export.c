/* Ruby glue of the engine's export functions (positional MLX::Native
 * functions): export_to_dot, export_function, exporters and imported
 * functions. Traces call back into Ruby, so these run with the GVL held;
 * engine objects live in TypedData wrappers freed by the GC. */
#include "mlx/export.h"
#include "mlx_ext.h"

/* Native.export_to_dot([arrays]) -> String (DOT text). */
static VALUE n_export_to_dot(VALUE mod, VALUE list) {
  long n;
  VALUE keep;
  mlx_array* arrs = mlxrb_array_list(list, &n, &keep);
  char* text = NULL;
  size_t len = 0;
  int rc = mlx_export_to_dot(&text, &len, arrs, (size_t)n);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(list);
  mlxrb_check(rc);
  VALUE s = rb_utf8_str_new(text, (long)len);
  free(text);
  return s;
}

/* C strings of a Ruby Array of Strings, in a Ruby-owned buffer (*keep). */
static const char** name_list(VALUE names, long* n, VALUE* keep) {
  Check_Type(names, T_ARRAY);
  *n = RARRAY_LEN(names);
  *keep = rb_ary_new_capa(*n + 1);
  VALUE buf = rb_str_buf_new((*n + 1) * (long)sizeof(char*));
  rb_ary_push(*keep, buf);
  const char** out = (const char**)RSTRING_PTR(buf);
  for (long i = 0; i < *n; i++) {
    VALUE item = RARRAY_AREF(names, i);
    VALUE s = rb_str_new_frozen(StringValue(item));
    rb_ary_push(*keep, s);
    out[i] = StringValueCStr(s);
  }
  return out;
}

/* A new engine list holding the handles (the caller frees it). */
static mlx_vector_array vector_of(const mlx_array* arrs, long n) {
  mlx_vector_array v = mlx_vector_array_new();
  for (long i = 0; i < n; i++) {
    int rc = mlx_vector_array_append(v, arrs[i]);
    if (rc) {
      mlx_vector_array_free(v);
      mlxrb_check(rc);
    }
  }
  return v;
}

/* Native.export_function(path, callable, [arrays], [kw names], shapeless):
 * callable.call(list) gets all arrays (keyword ones last). */
static VALUE n_export_function(VALUE mod, VALUE path, VALUE callable, VALUE list, VALUE names, VALUE shapeless) {
  path = rb_get_path(path);
  long n, nkw;
  VALUE keep, keep_names;
  mlx_array* arrs = mlxrb_array_list(list, &n, &keep);
  const char** kw = name_list(names, &nkw, &keep_names);
  mlx_vector_array args = vector_of(arrs, n);
  mlx_closure fun = mlxrb_closure_new(callable, 1);
  int rc = mlx_export_function(StringValueCStr(path), fun, args, kw, (size_t)nkw, RTEST(shapeless));
  mlx_vector_array_free(args);
  mlx_closure_free(fun);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(keep_names);
  RB_GC_GUARD(list);
  RB_GC_GUARD(path);
  mlxrb_callback_check(rc);
  return Qnil;
}

/* ---- exporters ---------------------------------------------------------------- */
static void exporter_free(void* p) {
  mlx_function_exporter_free(p);
}

static const rb_data_type_t exporter_type = {
    "MLX::Native::Exporter", {NULL, exporter_free, NULL}, NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY};
static VALUE cExporter, cImported;

/* Native.exporter_new(path, callable, shapeless) -> Exporter */
static VALUE n_exporter_new(VALUE mod, VALUE path, VALUE callable, VALUE shapeless) {
  path = rb_get_path(path);
  VALUE obj = TypedData_Wrap_Struct(cExporter, &exporter_type, NULL);
  mlx_closure fun = mlxrb_closure_new(callable, 1);
  mlx_function_exporter e = NULL;
  int rc = mlx_function_exporter_new(&e, StringValueCStr(path), fun, RTEST(shapeless));
  mlx_closure_free(fun); /* the exporter keeps its own reference */
  RB_GC_GUARD(path);
  mlxrb_check(rc);
  DATA_PTR(obj) = e;
  return obj;
}

static mlx_function_exporter get_exporter(VALUE obj) {
  return rb_check_typeddata(obj, &exporter_type);
}

/* Native.exporter_add(exporter, [arrays], [kw names]) */
static VALUE n_exporter_add(VALUE mod, VALUE obj, VALUE list, VALUE names) {
  mlx_function_exporter e = get_exporter(obj);
  long n, nkw;
  VALUE keep, keep_names;
  mlx_array* arrs = mlxrb_array_list(list, &n, &keep);
  const char** kw = name_list(names, &nkw, &keep_names);
  mlx_vector_array args = vector_of(arrs, n);
  int rc = mlx_function_exporter_add(e, args, kw, (size_t)nkw);
  mlx_vector_array_free(args);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(keep_names);
  RB_GC_GUARD(list);
  RB_GC_GUARD(obj);
  mlxrb_callback_check(rc);
  return Qnil;
}

/* Native.exporter_close(exporter) */
static VALUE n_exporter_close(VALUE mod, VALUE obj) {
  mlxrb_check(mlx_function_exporter_close(get_exporter(obj)));
  return Qnil;
}

/* ---- imported functions ------------------------------------------------------- */
static void imported_free(void* p) {
  mlx_imported_function_free(p);
}

static const rb_data_type_t imported_type = {
    "MLX::Native::ImportedFunction", {NULL, imported_free, NULL}, NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY};

/* Native.import_function(path) -> ImportedFunction */
static VALUE n_import_function(VALUE mod, VALUE path) {
  path = rb_get_path(path);
  VALUE obj = TypedData_Wrap_Struct(cImported, &imported_type, NULL);
  mlx_imported_function f = NULL;
  int rc = mlx_import_function(&f, StringValueCStr(path));
  RB_GC_GUARD(path);
  mlxrb_check(rc);
  DATA_PTR(obj) = f;
  return obj;
}

static VALUE outs_to_ruby(VALUE p) {
  mlx_vector_array v = {(void*)p};
  return mlxrb_vector_to_ruby(v);
}

static VALUE outs_free(VALUE p) {
  mlx_vector_array v = {(void*)p};
  mlx_vector_array_free(v);
  return Qnil;
}

/* Native.imported_call(fn, [arrays], [kw names]) -> [arrays] */
static VALUE n_imported_call(VALUE mod, VALUE obj, VALUE list, VALUE names) {
  mlx_imported_function f = rb_check_typeddata(obj, &imported_type);
  long n, nkw;
  VALUE keep, keep_names;
  mlx_array* arrs = mlxrb_array_list(list, &n, &keep);
  const char** kw = name_list(names, &nkw, &keep_names);
  mlx_vector_array args = vector_of(arrs, n), outs = mlx_vector_array_new();
  int rc = mlx_imported_function_call(outs, f, args, kw, (size_t)nkw);
  mlx_vector_array_free(args);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(keep_names);
  RB_GC_GUARD(list);
  RB_GC_GUARD(obj);
  if (rc) {
    mlx_vector_array_free(outs);
    mlxrb_check(rc);
  }
  /* Converting may raise (memory): free the list under rb_ensure. */
  return rb_ensure(outs_to_ruby, (VALUE)outs.ctx, outs_free, (VALUE)outs.ctx);
}

void mlxrb_init_ops_export(void) {
  cExporter = rb_define_class_under(mlxrb_mNative, "Exporter", rb_cObject);
  rb_undef_alloc_func(cExporter);
  cImported = rb_define_class_under(mlxrb_mNative, "ImportedFunction", rb_cObject);
  rb_undef_alloc_func(cImported);
  MLXRB_DEF("export_to_dot", n_export_to_dot, 1);
  MLXRB_DEF("export_function", n_export_function, 5);
  MLXRB_DEF("exporter_new", n_exporter_new, 3);
  MLXRB_DEF("exporter_add", n_exporter_add, 3);
  MLXRB_DEF("exporter_close", n_exporter_close, 1);
  MLXRB_DEF("import_function", n_import_function, 1);
  MLXRB_DEF("imported_call", n_imported_call, 3);
}
