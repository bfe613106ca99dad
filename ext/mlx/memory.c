/* The engine allocator's statistics and limits, and build information. */
#include "mlx_ext.h"

static VALUE n_get_active_memory(VALUE mod) {
  return SIZET2NUM(mlx_get_active_memory());
}

static VALUE n_get_peak_memory(VALUE mod) {
  return SIZET2NUM(mlx_get_peak_memory());
}

static VALUE n_get_cache_memory(VALUE mod) {
  return SIZET2NUM(mlx_get_cache_memory());
}

static VALUE n_reset_peak_memory(VALUE mod) {
  mlx_reset_peak_memory();
  return Qnil;
}

static VALUE n_clear_cache(VALUE mod) {
  mlx_clear_cache();
  return Qnil;
}

static size_t to_limit(VALUE v) {
  if (!RB_INTEGER_TYPE_P(v)) rb_raise(rb_eTypeError, "memory limit must be an Integer");
  if (rb_funcall(v, '<', 1, INT2FIX(0)) == Qtrue) rb_raise(mlxrb_eArgumentError, "memory limit must be non-negative");
  return NUM2SIZET(v);
}

/* set_memory_limit(bytes) -> the previous limit */
static VALUE n_set_memory_limit(VALUE mod, VALUE limit) {
  size_t prev;
  mlxrb_check(mlx_set_memory_limit(&prev, to_limit(limit)));
  return SIZET2NUM(prev);
}

/* set_cache_limit(bytes) -> the previous limit */
static VALUE n_set_cache_limit(VALUE mod, VALUE limit) {
  size_t prev;
  mlxrb_check(mlx_set_cache_limit(&prev, to_limit(limit)));
  return SIZET2NUM(prev);
}

/* gpu_memory_stats(index) -> [active, peak, cache, total] bytes of GPU
 * index's own allocator (MLX::DeviceError without a GPU). */
static VALUE n_gpu_memory_stats(VALUE mod, VALUE index) {
  size_t active, peak, cache, total;
  mlxrb_check(mlx_gpu_memory_stats(NUM2INT(index), &active, &peak, &cache, &total));
  return rb_ary_new_from_args(4, SIZET2NUM(active), SIZET2NUM(peak), SIZET2NUM(cache), SIZET2NUM(total));
}

static VALUE n_version(VALUE mod) {
  return rb_str_new_cstr(mlx_version());
}

static VALUE n_cpu_thread_count(VALUE mod) {
  return INT2NUM(mlx_cpu_thread_count());
}

void mlxrb_init_memory(void) {
  MLXRB_DEF("get_active_memory", n_get_active_memory, 0);
  MLXRB_DEF("get_peak_memory", n_get_peak_memory, 0);
  MLXRB_DEF("get_cache_memory", n_get_cache_memory, 0);
  MLXRB_DEF("reset_peak_memory", n_reset_peak_memory, 0);
  MLXRB_DEF("clear_cache", n_clear_cache, 0);
  MLXRB_DEF("set_memory_limit", n_set_memory_limit, 1);
  MLXRB_DEF("set_cache_limit", n_set_cache_limit, 1);
  MLXRB_DEF("gpu_memory_stats", n_gpu_memory_stats, 1);
  MLXRB_DEF("version", n_version, 0);
  MLXRB_DEF("cpu_thread_count", n_cpu_thread_count, 0);
}
