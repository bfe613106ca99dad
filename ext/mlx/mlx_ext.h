/* Shared declarations of the Ruby glue over the MLX C engine.
 *
 * The glue only converts: Ruby values to engine handles and back, engine
 * statuses to exceptions. Every op is a positional module function of
 * MLX::Native (stream last, nil for the default); keywords, defaults and
 * sugar live in lib/mlx/. Ownership follows the engine: a wrapped
 * MLX::Core::Array owns exactly one mlx_array handle, freed by the GC. */
#ifndef MLX_RB_EXT_H
#define MLX_RB_EXT_H

#include <ruby.h>

#include "mlx/mlx.h"

/* Modules and classes, created by Init_native. */
extern VALUE mlxrb_mMLX, mlxrb_mCore, mlxrb_mNative;
extern VALUE mlxrb_cArray, mlxrb_cDtype, mlxrb_cDevice, mlxrb_cStream;

/* ---- errors.c ---------------------------------------------------------- */
extern VALUE mlxrb_eError; /* the MLX::Error marker module */
extern VALUE mlxrb_eArgumentError, mlxrb_eShapeError, mlxrb_eDtypeError, mlxrb_eIndexError,
    mlxrb_eRuntimeError, mlxrb_eMemoryError, mlxrb_eFileError, mlxrb_eDeviceError,
    mlxrb_eUnsupportedError, mlxrb_eInterruptedError, mlxrb_eInternalError;

/* Raises the exception class for an engine status, with the engine's
 * message for this thread. */
NORETURN(void mlxrb_raise_status(int rc));
/* Raises if rc is not MLX_OK. */
static inline void mlxrb_check(int rc) {
  if (RB_UNLIKELY(rc)) mlxrb_raise_status(rc);
}
/* The exception class for an engine status. */
VALUE mlxrb_error_class(int rc);

/* Number of arrays wrapped since the last garbage collection. */
extern size_t mlxrb_arrays_since_gc;

/* ---- dtype.c ------------------------------------------------------------ */
/* The MLX::Core::Dtype object of a dtype (one frozen object each). */
VALUE mlxrb_dtype_value(mlx_dtype t);
/* A Dtype, Symbol or String to a dtype; raises MLX::ArgumentError for an
 * unknown name and TypeError for other objects. */
mlx_dtype mlxrb_to_dtype(VALUE v);

/* ---- device.c ----------------------------------------------------------- */
/* nil, a Stream, a Device or :cpu/:gpu (Symbol or String) to a stream;
 * nil is MLX_DEFAULT_STREAM. */
mlx_stream mlxrb_to_stream(VALUE v);
VALUE mlxrb_device_value(mlx_device d);
VALUE mlxrb_stream_value(mlx_stream s);
mlx_device mlxrb_to_device(VALUE v);

/* ---- array.c ------------------------------------------------------------ */
/* A new, empty MLX::Core::Array and the slot of its handle, for an op to
 * write its result into. The object exists before the engine makes the
 * handle, so no raise can leak it: on failure the slot stays empty and the
 * object is garbage. Call mlxrb_result_ready once the slot is filled. */
VALUE mlxrb_new_result(mlx_array** slot);
/* Reports the memory of a filled result (if evaluated); returns obj. */
VALUE mlxrb_result_ready(VALUE obj);
/* 1 if v is an MLX::Core::Array. */
int mlxrb_is_array(VALUE v);
/* The handle inside an MLX::Core::Array (borrowed; valid while v lives).
 * Raises TypeError "expected MLX::Core::Array" for anything else. */
mlx_array mlxrb_get(VALUE v);
/* Tells Ruby's GC about the buffer of an evaluated array (once). */
void mlxrb_report_memory(VALUE v);

/* ---- convert.c ---------------------------------------------------------- */
/* A converted operand: a borrowed handle of an MLX::Core::Array, or a
 * temporary that release must free. */
typedef struct {
  mlx_array arr;
  int owned;
} mlxrb_operand;

static inline void mlxrb_operand_release(mlxrb_operand* o) {
  if (o->owned) mlx_array_free(o->arr);
  o->owned = 0;
}

/* Any array-like (MLX array, Ruby scalar, nested Ruby Array) to a new
 * MLX::Core::Array VALUE: MLX's rules (Integer -> int32, or int64 when out
 * of int32 range; Float -> float32; true/false -> bool; Complex ->
 * complex64; lists: the widest kind of their elements). has_dtype converts
 * to dtype. An MLX array comes back as itself unless converted. */
VALUE mlxrb_to_array_value(VALUE v, int has_dtype, mlx_dtype dtype);
/* One operand on its own (scalars take their default dtype). May raise
 * only before it creates a temporary. */
void mlxrb_operand_get(mlxrb_operand* out, VALUE v);
/* Operands of a binary op: a Ruby scalar next to an MLX array is weak (it
 * takes the array's kind of dtype, MLX's promotion for Python scalars);
 * two non-arrays convert with their own defaults. On error nothing is left
 * allocated. */
void mlxrb_operands2(mlxrb_operand* x, mlxrb_operand* y, VALUE a, VALUE b);
/* Like operands2 for where(cond, x, y): cond on its own, x and y weak
 * against each other. */
void mlxrb_operands3(mlxrb_operand* c, mlxrb_operand* x, mlxrb_operand* y, VALUE vc, VALUE vx, VALUE vy);
/* A weak operand beside an array of dtype `like`. */
void mlxrb_operand_weak(mlxrb_operand* out, VALUE v, mlx_dtype like);
/* The same as a new MLX::Core::Array VALUE (GC-owned; arrays and lists
 * convert as in mlxrb_to_array_value). */
VALUE mlxrb_weak_value(VALUE v, mlx_dtype like);

/* Ruby Integer Array (or one Integer) to int64 / int values. The result
 * lives in a Ruby-managed buffer (*keep must stay on the stack). Raises
 * TypeError for non-Integers. */
int64_t* mlxrb_int64_list(VALUE v, long* n, VALUE* keep);
int* mlxrb_int_list(VALUE v, long* n, VALUE* keep);
/* A shape: Ruby Array of Integers (-1 allowed where the engine allows). */
int64_t* mlxrb_shape(VALUE v, int* ndim, VALUE* keep);
/* A Ruby Array of MLX::Core::Array to borrowed handles. */
mlx_array* mlxrb_array_list(VALUE v, long* n, VALUE* keep);
/* Int conversions with range checks (TypeError / RangeError). */
int mlxrb_to_int(VALUE v);

/* The prologue and epilogue of a one-operand op function: the stream (from
 * the function's `s` argument), the result object and its slot, operand
 * `a` converted from x; then the engine call, the operand released, the
 * status checked and the result returned. */
#define BEGIN_OP(x)                    \
  mlx_stream st = mlxrb_to_stream(s);  \
  mlx_array* slot;                     \
  VALUE out = mlxrb_new_result(&slot); \
  mlxrb_operand a;                     \
  mlxrb_operand_get(&a, x)

#define END_OP(call)         \
  int rc = (call);           \
  mlxrb_operand_release(&a); \
  mlxrb_check(rc);           \
  return mlxrb_result_ready(out)

/* ---- eval.c ------------------------------------------------------------- */
/* Evaluates arrays with the GVL released; an interrupt (Ctrl-C, Thread#raise)
 * cancels between ops. Raises on failure. The handles are retained for the
 * duration, so the caller may pass borrowed ones. */
void mlxrb_eval_handles(const mlx_array* arrays, size_t n);
/* Evaluates one wrapped array (no-op if evaluated) and reports its memory. */
void mlxrb_eval_value(VALUE v);
/* mlx_synchronize with the GVL released. */
void mlxrb_synchronize(mlx_stream s);

/* ---- transforms.c ------------------------------------------------------- */
/* A new engine closure whose calls run callable.call(list) (list: a Ruby
 * Array of MLX::Core::Array; the result: an array or a Ruby Array of them),
 * with an exception in the callable relayed as MLX_ERROR_CALLBACK. rooted:
 * the callable stays alive while the engine holds the closure; otherwise
 * the caller must mark it for as long as the closure lives. Free it with
 * mlx_closure_free. Raises TypeError if callable has no #call. */
mlx_closure mlxrb_closure_new(VALUE callable, int rooted);
/* Raises for the status of an engine call that ran such closures: the
 * callable's own exception (or throw/break) for MLX_ERROR_CALLBACK, the
 * engine's error otherwise. */
void mlxrb_callback_check(int rc);
/* A Ruby Array of new MLX::Core::Array objects for the list's elements. */
VALUE mlxrb_vector_to_ruby(mlx_vector_array v);

/* ---- init functions of each file --------------------------------------- */
void mlxrb_init_errors(void);
void mlxrb_init_dtype(void);
void mlxrb_init_device(void);
void mlxrb_init_array(void);
void mlxrb_init_convert(void);
void mlxrb_init_eval(void);
void mlxrb_init_ops_unary(void);
void mlxrb_init_ops_binary(void);
void mlxrb_init_ops_reduce(void);
void mlxrb_init_ops_shape(void);
void mlxrb_init_ops_creation(void);
void mlxrb_init_random(void);
void mlxrb_init_io(void);
void mlxrb_init_memory(void);
void mlxrb_init_transforms(void);
void mlxrb_init_compile(void);
void mlxrb_init_ops_indexing(void);
void mlxrb_init_ops_sort(void);
void mlxrb_init_ops_matmul(void);
void mlxrb_init_ops_conv(void);
void mlxrb_init_ops_linalg(void);
void mlxrb_init_ops_fft(void);
void mlxrb_init_ops_fast(void);
void mlxrb_init_ops_quantize(void);
void mlxrb_init_ops_export(void);
void mlxrb_init_ops_misc(void);

/* Define a module function of MLX::Native with a fixed arity. */
#define MLXRB_DEF(name, fn, argc) rb_define_module_function(mlxrb_mNative, name, RUBY_METHOD_FUNC(fn), argc)

#endif
