/* Entry point of the extension (lib/mlx/native.so): creates MLX, MLX::Core,
 * MLX::Native and the wrapped classes, then each area registers its
 * functions. */
#include "mlx_ext.h"

VALUE mlxrb_mMLX, mlxrb_mCore, mlxrb_mNative;

RUBY_FUNC_EXPORTED void Init_native(void) {
  mlxrb_mMLX = rb_define_module("MLX");
  mlxrb_mCore = rb_define_module_under(mlxrb_mMLX, "Core");
  mlxrb_mNative = rb_define_module_under(mlxrb_mMLX, "Native");
  mlxrb_init_errors();
  mlxrb_init_dtype();
  mlxrb_init_device();
  mlxrb_init_array();
  mlxrb_init_convert();
  mlxrb_init_eval();
  mlxrb_init_ops_unary();
  mlxrb_init_ops_binary();
  mlxrb_init_ops_reduce();
  mlxrb_init_ops_shape();
  mlxrb_init_ops_creation();
  mlxrb_init_random();
  mlxrb_init_io();
  mlxrb_init_memory();
  mlxrb_init_transforms();
  mlxrb_init_compile();
  mlxrb_init_ops_indexing();
  mlxrb_init_ops_sort();
  mlxrb_init_ops_matmul();
  mlxrb_init_ops_conv();
  mlxrb_init_ops_linalg();
  mlxrb_init_ops_fft();
  mlxrb_init_ops_fast();
  mlxrb_init_ops_quantize();
  mlxrb_init_ops_export();
  mlxrb_init_ops_misc();
}
