/* Engine statuses to Ruby exceptions.
 *
 * A Ruby class has one superclass, yet callers rescue both MLX::Error and
 * the Ruby classes they know (ArgumentError for a bad shape, TypeError for a
 * bad dtype, IndexError). So MLX::Error is a module that every MLX
 * exception class includes, and each concrete class subclasses the Ruby
 * exception it stands for:
 *
 *   MLX::ArgumentError    < ::ArgumentError   (MLX_ERROR_ARGUMENT)
 *     MLX::ShapeError     < MLX::ArgumentError (MLX_ERROR_SHAPE)
 *   MLX::DtypeError       < ::TypeError       (MLX_ERROR_DTYPE)
 *   MLX::IndexError       < ::IndexError      (MLX_ERROR_INDEX)
 *   MLX::FileError        < ::IOError         (MLX_ERROR_FILE)
 *   MLX::RuntimeError     < ::RuntimeError
 *     MLX::MemoryError, MLX::DeviceError, MLX::UnsupportedError,
 *     MLX::InterruptedError, MLX::InternalError
 *
 * `rescue MLX::Error` catches all of them (Module#=== is kind_of?). */
#include "mlx_ext.h"

VALUE mlxrb_eError;
VALUE mlxrb_eArgumentError, mlxrb_eShapeError, mlxrb_eDtypeError, mlxrb_eIndexError, mlxrb_eRuntimeError,
    mlxrb_eMemoryError, mlxrb_eFileError, mlxrb_eDeviceError, mlxrb_eUnsupportedError, mlxrb_eInterruptedError,
    mlxrb_eInternalError;

VALUE mlxrb_error_class(int rc) {
  switch (rc) {
    case MLX_ERROR_ARGUMENT: return mlxrb_eArgumentError;
    case MLX_ERROR_SHAPE: return mlxrb_eShapeError;
    case MLX_ERROR_DTYPE: return mlxrb_eDtypeError;
    case MLX_ERROR_INDEX: return mlxrb_eIndexError;
    case MLX_ERROR_MEMORY: return mlxrb_eMemoryError;
    case MLX_ERROR_FILE: return mlxrb_eFileError;
    case MLX_ERROR_DEVICE: return mlxrb_eDeviceError;
    case MLX_ERROR_INTERRUPTED: return mlxrb_eInterruptedError;
    case MLX_ERROR_UNSUPPORTED: return mlxrb_eUnsupportedError;
    default: return mlxrb_eInternalError;
  }
}

void mlxrb_raise_status(int rc) {
  VALUE cls = mlxrb_error_class(rc);
  const char* msg = mlx_last_error();
  VALUE str = rb_str_new_cstr(msg && *msg ? msg : "engine error");
  mlx_clear_error();
  rb_exc_raise(rb_exc_new_str(cls, str));
}

static VALUE define_error(const char* name, VALUE super) {
  VALUE cls = rb_define_class_under(mlxrb_mMLX, name, super);
  rb_include_module(cls, mlxrb_eError);
  return cls;
}

void mlxrb_init_errors(void) {
  mlxrb_eError = rb_define_module_under(mlxrb_mMLX, "Error");
  mlxrb_eArgumentError = define_error("ArgumentError", rb_eArgError);
  mlxrb_eShapeError = define_error("ShapeError", mlxrb_eArgumentError);
  mlxrb_eDtypeError = define_error("DtypeError", rb_eTypeError);
  mlxrb_eIndexError = define_error("IndexError", rb_eIndexError);
  mlxrb_eFileError = define_error("FileError", rb_eIOError);
  mlxrb_eRuntimeError = define_error("RuntimeError", rb_eRuntimeError);
  mlxrb_eMemoryError = define_error("MemoryError", mlxrb_eRuntimeError);
  mlxrb_eDeviceError = define_error("DeviceError", mlxrb_eRuntimeError);
  mlxrb_eUnsupportedError = define_error("UnsupportedError", mlxrb_eRuntimeError);
  mlxrb_eInterruptedError = define_error("InterruptedError", mlxrb_eRuntimeError);
  mlxrb_eInternalError = define_error("InternalError", mlxrb_eRuntimeError);
}
