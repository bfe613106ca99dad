/* .npy, .npz, .safetensors and .gguf files. Arrays are evaluated first
 * (GVL released, interruptible), then the file work itself also runs
 * without the GVL. */
#include <ruby/thread.h>

#include "mlx/io.h"
#include "mlx_ext.h"

typedef struct {
  const char* path;
  mlx_array array;           /* save / load result */
  const mlx_named_arrays* in; /* save_safetensors */
  const mlx_string_map* meta_in;
  mlx_named_arrays out; /* load_safetensors */
  mlx_string_map meta_out;
  int compressed;                  /* savez */
  const mlx_gguf_metadata* gmeta_in; /* save_gguf */
  mlx_gguf_metadata gmeta_out;       /* load_gguf */
  int rc;
} io_job;

static void* savez_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_savez(j->path, j->in, j->compressed);
  return NULL;
}

static void* load_npz_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_load_npz(&j->out, j->path);
  return NULL;
}

static void* save_gguf_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_save_gguf(j->path, j->in, j->gmeta_in);
  return NULL;
}

static void* load_gguf_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_load_gguf(&j->out, &j->gmeta_out, j->path);
  return NULL;
}

/* Named arrays from a Hash {String/Symbol => MLX::Core::Array}: the names
 * (frozen Strings) and values are kept in *keep (a Ruby Array the caller
 * guards), the C lists live in Ruby Strings also kept there, so a raise
 * leaks nothing. The arrays are evaluated. */
static mlx_named_arrays named_from_hash(VALUE arrays, VALUE* keep) {
  Check_Type(arrays, T_HASH);
  VALUE keys = rb_funcall(arrays, rb_intern("keys"), 0);
  long n = RARRAY_LEN(keys);
  *keep = rb_ary_new_capa(2 * n + 2);
  VALUE keep_names = rb_str_buf_new((n + 1) * (long)sizeof(char*));
  VALUE keep_arrays = rb_str_buf_new((n + 1) * (long)sizeof(mlx_array));
  rb_ary_push(*keep, keep_names);
  rb_ary_push(*keep, keep_arrays);
  char** cnames = (char**)RSTRING_PTR(keep_names);
  mlx_array* carrays = (mlx_array*)RSTRING_PTR(keep_arrays);
  for (long i = 0; i < n; i++) {
    VALUE k = RARRAY_AREF(keys, i);
    VALUE name = rb_str_new_frozen(SYMBOL_P(k) ? rb_sym2str(k) : StringValue(k));
    VALUE v = rb_hash_aref(arrays, k);
    rb_ary_push(*keep, name);
    rb_ary_push(*keep, v);
    cnames[i] = (char*)StringValueCStr(name);
    carrays[i] = mlxrb_get(v);
  }
  mlxrb_eval_handles(carrays, (size_t)n);
  mlx_named_arrays in = {(size_t)n, cnames, carrays};
  return in;
}

/* Native.savez(path, {name => array}, compressed) */
static VALUE n_savez(VALUE mod, VALUE path, VALUE arrays, VALUE compressed) {
  path = rb_get_path(path);
  VALUE keep;
  mlx_named_arrays in = named_from_hash(arrays, &keep);
  io_job job = {.path = StringValueCStr(path), .in = &in, .compressed = RTEST(compressed)};
  rb_thread_call_without_gvl(savez_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(arrays);
  mlxrb_check(job.rc);
  return Qnil;
}

static void* save_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_save(j->path, j->array);
  return NULL;
}

static void* load_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_load(&j->array, j->path);
  return NULL;
}

static void* save_st_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_save_safetensors(j->path, j->in, j->meta_in);
  return NULL;
}

static void* load_st_nogvl(void* p) {
  io_job* j = p;
  j->rc = mlx_load_safetensors(&j->out, &j->meta_out, j->path);
  return NULL;
}

/* Native.save(path, array): a .npy file. */
static VALUE n_save(VALUE mod, VALUE path, VALUE arr) {
  path = rb_get_path(path);
  mlx_array a = mlxrb_get(arr);
  mlxrb_eval_value(arr);
  io_job job = {.path = StringValueCStr(path), .array = a};
  rb_thread_call_without_gvl(save_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  RB_GC_GUARD(arr);
  mlxrb_check(job.rc);
  return Qnil;
}

/* Native.load(path): the array of a .npy file. */
static VALUE n_load(VALUE mod, VALUE path) {
  path = rb_get_path(path);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  io_job job = {.path = StringValueCStr(path), .array = mlx_array_new()};
  rb_thread_call_without_gvl(load_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  mlxrb_check(job.rc);
  *slot = job.array;
  return mlxrb_result_ready(out);
}

/* Native.save_safetensors(path, {name => array}, {key => value} or nil) */
static VALUE n_save_safetensors(VALUE mod, VALUE path, VALUE arrays, VALUE metadata) {
  path = rb_get_path(path);
  Check_Type(arrays, T_HASH);
  VALUE keys = rb_funcall(arrays, rb_intern("keys"), 0);
  long n = RARRAY_LEN(keys);
  /* Names and values as frozen Strings kept in Ruby Arrays: the C lists
   * point into them and live in Ruby Strings, so a raise leaks nothing. */
  VALUE names = rb_ary_new_capa(n), values = rb_ary_new_capa(n);
  VALUE keep_names = rb_str_buf_new((n + 1) * (long)sizeof(char*));
  VALUE keep_arrays = rb_str_buf_new((n + 1) * (long)sizeof(mlx_array));
  char** cnames = (char**)RSTRING_PTR(keep_names);
  mlx_array* carrays = (mlx_array*)RSTRING_PTR(keep_arrays);
  for (long i = 0; i < n; i++) {
    VALUE k = RARRAY_AREF(keys, i);
    VALUE name = rb_str_new_frozen(SYMBOL_P(k) ? rb_sym2str(k) : StringValue(k));
    VALUE v = rb_hash_aref(arrays, k);
    rb_ary_push(names, name);
    rb_ary_push(values, v);
    cnames[i] = (char*)StringValueCStr(name);
    carrays[i] = mlxrb_get(v);
  }
  mlxrb_eval_handles(carrays, (size_t)n);
  mlx_named_arrays in = {(size_t)n, cnames, carrays};
  mlx_string_map meta = {0, NULL, NULL};
  VALUE meta_strs = rb_ary_new();
  VALUE keep_mk = Qnil, keep_mv = Qnil;
  if (!NIL_P(metadata)) {
    Check_Type(metadata, T_HASH);
    VALUE mkeys = rb_funcall(metadata, rb_intern("keys"), 0);
    long m = RARRAY_LEN(mkeys);
    keep_mk = rb_str_buf_new((m + 1) * (long)sizeof(char*));
    keep_mv = rb_str_buf_new((m + 1) * (long)sizeof(char*));
    meta.keys = (char**)RSTRING_PTR(keep_mk);
    meta.values = (char**)RSTRING_PTR(keep_mv);
    for (long i = 0; i < m; i++) {
      VALUE k = RARRAY_AREF(mkeys, i);
      VALUE ks = rb_str_new_frozen(SYMBOL_P(k) ? rb_sym2str(k) : StringValue(k));
      VALUE vs = rb_hash_aref(metadata, k);
      if (!RB_TYPE_P(vs, T_STRING))
        rb_raise(rb_eTypeError, "[save_safetensors] metadata values must be Strings, got %" PRIsVALUE,
                 rb_obj_class(vs));
      vs = rb_str_new_frozen(vs);
      rb_ary_push(meta_strs, ks);
      rb_ary_push(meta_strs, vs);
      meta.keys[i] = (char*)StringValueCStr(ks);
      meta.values[i] = (char*)StringValueCStr(vs);
    }
    meta.n = (size_t)m;
  }
  io_job job = {.path = StringValueCStr(path), .in = &in, .meta_in = NIL_P(metadata) ? NULL : &meta};
  rb_thread_call_without_gvl(save_st_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  RB_GC_GUARD(names);
  RB_GC_GUARD(values);
  RB_GC_GUARD(keep_names);
  RB_GC_GUARD(keep_arrays);
  RB_GC_GUARD(meta_strs);
  RB_GC_GUARD(keep_mk);
  RB_GC_GUARD(keep_mv);
  mlxrb_check(job.rc);
  return Qnil;
}

/* Moves the loaded arrays into Ruby objects; run under rb_ensure so the
 * engine lists are freed whatever happens. */
static VALUE build_loaded(VALUE ptr) {
  io_job* j = (io_job*)ptr;
  VALUE arrays = rb_hash_new(), meta = rb_hash_new();
  for (size_t i = 0; i < j->out.n; i++) {
    VALUE name = rb_utf8_str_new_cstr(j->out.names[i]);
    mlx_array* slot;
    VALUE obj = mlxrb_new_result(&slot);
    *slot = j->out.arrays[i];
    j->out.arrays[i] = mlx_array_new(); /* moved: the free below skips it */
    rb_hash_aset(arrays, name, mlxrb_result_ready(obj));
  }
  for (size_t i = 0; i < j->meta_out.n; i++)
    rb_hash_aset(meta, rb_utf8_str_new_cstr(j->meta_out.keys[i]), rb_utf8_str_new_cstr(j->meta_out.values[i]));
  return rb_assoc_new(arrays, meta);
}

static VALUE free_loaded(VALUE ptr) {
  io_job* j = (io_job*)ptr;
  mlx_named_arrays_free(&j->out);
  mlx_string_map_free(&j->meta_out);
  return Qnil;
}

/* Native.load_safetensors(path) -> [{name => array}, {key => value}] */
static VALUE n_load_safetensors(VALUE mod, VALUE path) {
  path = rb_get_path(path);
  io_job job = {.path = StringValueCStr(path)};
  rb_thread_call_without_gvl(load_st_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  mlxrb_check(job.rc);
  return rb_ensure(build_loaded, (VALUE)&job, free_loaded, (VALUE)&job);
}

/* Native.load_npz(path) -> [{name => array}, {}] */
static VALUE n_load_npz(VALUE mod, VALUE path) {
  path = rb_get_path(path);
  io_job job = {.path = StringValueCStr(path)};
  rb_thread_call_without_gvl(load_npz_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  mlxrb_check(job.rc);
  return rb_ensure(build_loaded, (VALUE)&job, free_loaded, (VALUE)&job);
}

/* Native.save_gguf(path, {name => array}, {key => array | String |
 * [String]} or nil). Strings are byte strings (lengths kept, NUL allowed). */
static VALUE n_save_gguf(VALUE mod, VALUE path, VALUE arrays, VALUE metadata) {
  path = rb_get_path(path);
  VALUE keep;
  mlx_named_arrays in = named_from_hash(arrays, &keep);
  mlx_gguf_metadata meta = {0, NULL, NULL};
  if (!NIL_P(metadata)) {
    Check_Type(metadata, T_HASH);
    VALUE mkeys = rb_funcall(metadata, rb_intern("keys"), 0);
    long m = RARRAY_LEN(mkeys);
    VALUE keep_k = rb_str_buf_new((m + 1) * (long)sizeof(char*));
    VALUE keep_v = rb_str_buf_new((m + 1) * (long)sizeof(mlx_gguf_value));
    rb_ary_push(keep, keep_k);
    rb_ary_push(keep, keep_v);
    meta.keys = (char**)RSTRING_PTR(keep_k);
    meta.values = (mlx_gguf_value*)RSTRING_PTR(keep_v);
    for (long i = 0; i < m; i++) {
      VALUE k = RARRAY_AREF(mkeys, i);
      VALUE ks = rb_str_new_frozen(SYMBOL_P(k) ? rb_sym2str(k) : StringValue(k));
      VALUE v = rb_hash_aref(metadata, k);
      rb_ary_push(keep, ks);
      rb_ary_push(keep, v);
      meta.keys[i] = (char*)StringValueCStr(ks);
      mlx_gguf_value* gv = &meta.values[i];
      memset(gv, 0, sizeof *gv);
      if (mlxrb_is_array(v)) {
        gv->kind = MLX_GGUF_ARRAY;
        gv->array = mlxrb_get(v);
        mlxrb_eval_value(v);
      } else if (RB_TYPE_P(v, T_STRING) || RB_TYPE_P(v, T_ARRAY)) {
        int list = RB_TYPE_P(v, T_ARRAY);
        long ns = list ? RARRAY_LEN(v) : 1;
        VALUE kp = rb_str_buf_new((ns + 1) * (long)sizeof(char*));
        VALUE kl = rb_str_buf_new((ns + 1) * (long)sizeof(size_t));
        rb_ary_push(keep, kp);
        rb_ary_push(keep, kl);
        gv->kind = list ? MLX_GGUF_STRINGS : MLX_GGUF_STRING;
        gv->nstrings = (size_t)ns;
        gv->strings = (char**)RSTRING_PTR(kp);
        gv->string_lens = (size_t*)RSTRING_PTR(kl);
        for (long j = 0; j < ns; j++) {
          VALUE sj = list ? RARRAY_AREF(v, j) : v;
          if (SYMBOL_P(sj)) sj = rb_sym2str(sj);
          if (!RB_TYPE_P(sj, T_STRING))
            rb_raise(rb_eTypeError, "[save_gguf] metadata lists must hold Strings, got %" PRIsVALUE, rb_obj_class(sj));
          sj = rb_str_new_frozen(sj);
          rb_ary_push(keep, sj);
          gv->strings[j] = RSTRING_PTR(sj);
          gv->string_lens[j] = (size_t)RSTRING_LEN(sj);
        }
      } else {
        rb_raise(rb_eTypeError, "[save_gguf] metadata values must be arrays, Strings or lists of Strings, got %" PRIsVALUE,
                 rb_obj_class(v));
      }
      meta.n = (size_t)i + 1;
    }
  }
  io_job job = {.path = StringValueCStr(path), .in = &in, .gmeta_in = NIL_P(metadata) ? NULL : &meta};
  rb_thread_call_without_gvl(save_gguf_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(arrays);
  RB_GC_GUARD(metadata);
  mlxrb_check(job.rc);
  return Qnil;
}

/* Moves GGUF arrays and metadata into Ruby objects (under rb_ensure). */
static VALUE build_gguf(VALUE ptr) {
  io_job* j = (io_job*)ptr;
  VALUE pair = build_loaded(ptr);
  VALUE meta = rb_ary_entry(pair, 1);
  for (size_t i = 0; i < j->gmeta_out.n; i++) {
    mlx_gguf_value* v = &j->gmeta_out.values[i];
    VALUE val;
    if (v->kind == MLX_GGUF_ARRAY) {
      mlx_array* slot;
      VALUE obj = mlxrb_new_result(&slot);
      *slot = v->array;
      v->array = mlx_array_new();
      val = mlxrb_result_ready(obj);
    } else if (v->kind == MLX_GGUF_STRING) {
      val = rb_utf8_str_new(v->strings[0], (long)v->string_lens[0]);
    } else {
      val = rb_ary_new_capa((long)v->nstrings);
      for (size_t k = 0; k < v->nstrings; k++) rb_ary_push(val, rb_utf8_str_new(v->strings[k], (long)v->string_lens[k]));
    }
    rb_hash_aset(meta, rb_utf8_str_new_cstr(j->gmeta_out.keys[i]), val);
  }
  return pair;
}

static VALUE free_gguf(VALUE ptr) {
  io_job* j = (io_job*)ptr;
  free_loaded(ptr);
  mlx_gguf_metadata_free(&j->gmeta_out);
  return Qnil;
}

/* Native.load_gguf(path) -> [{name => array}, {key => value}] */
static VALUE n_load_gguf(VALUE mod, VALUE path) {
  path = rb_get_path(path);
  io_job job = {.path = StringValueCStr(path)};
  rb_thread_call_without_gvl(load_gguf_nogvl, &job, NULL, NULL);
  RB_GC_GUARD(path);
  mlxrb_check(job.rc);
  return rb_ensure(build_gguf, (VALUE)&job, free_gguf, (VALUE)&job);
}

void mlxrb_init_io(void) {
  MLXRB_DEF("savez", n_savez, 3);
  MLXRB_DEF("load_npz", n_load_npz, 1);
  MLXRB_DEF("save_gguf", n_save_gguf, 3);
  MLXRB_DEF("load_gguf", n_load_gguf, 1);
  MLXRB_DEF("save", n_save, 2);
  MLXRB_DEF("load", n_load, 1);
  MLXRB_DEF("save_safetensors", n_save_safetensors, 3);
  MLXRB_DEF("load_safetensors", n_load_safetensors, 1);
}
