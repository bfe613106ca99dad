/* Exporting graphs: a DOT drawing of an un-evaluated graph (export_to_dot),
 * and functions traced into .mlxfn files and imported back. */
#ifndef MLX_EXPORT_H
#define MLX_EXPORT_H

#include "mlx/array.h"
#include "mlx/transforms.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes into *out (malloc'ed, NUL-terminated, *len bytes without the NUL;
 * free with free) a Graphviz DOT description of the graph computing
 * outputs[0..n): arrays without an op (evaluated values, leaves) are
 * source nodes named A, B, ..., Z, AA, ...; each op is a rectangle labelled
 * with its primitive's name (CamelCase, as upstream MLX prints it) with
 * edges from its inputs and to its outputs; outputs are sink nodes. Nothing
 * is evaluated. At least one output is required (MLX_ERROR_ARGUMENT). */
int mlx_export_to_dot(char** out, size_t* len, const mlx_array* outputs, size_t n);

/* ---- .mlxfn: functions traced to a file (format: docs/mlxfn.md) -------- */

/* Writes path (".mlxfn" appended when missing) holding one trace of fun
 * called on args: args[0..n - nkw) positional, the last nkw keyword
 * arguments named kw_names (unique). fun gets all of args in that order.
 * The graph fun builds (ops from the registry of primitives, the arrays
 * it closes over as constants) is what the file holds; compiled functions
 * inside fun are traced uncompiled. Ops whose parameters own resources
 * (custom functions, fused kernels) cannot be exported (MLX_ERROR_UNSUPPORTED).
 * shapeless: calls with other shapes (same dtypes and ranks) may reuse the
 * trace when every op can compute its output shapes. */
int mlx_export_function(const char* path, const mlx_closure fun, const mlx_vector_array args,
                        const char* const* kw_names, size_t nkw, int shapeless);

/* Several traces of one function in one file: each add traces fun again
 * on new arguments and rewrites the file (atomically) with all traces so
 * far. */
typedef struct mlx_function_exporter_* mlx_function_exporter;

/* A new exporter writing path (".mlxfn" appended when missing); it keeps
 * its own reference to fun. */
int mlx_function_exporter_new(mlx_function_exporter* res, const char* path, const mlx_closure fun, int shapeless);
/* Adds one trace (arguments as for mlx_export_function). */
int mlx_function_exporter_add(mlx_function_exporter e, const mlx_vector_array args, const char* const* kw_names,
                              size_t nkw);
/* Ends the exporter: later adds fail. The file stays as last written. */
int mlx_function_exporter_close(mlx_function_exporter e);
void mlx_function_exporter_free(mlx_function_exporter e);

/* A function read from a .mlxfn file. */
typedef struct mlx_imported_function_* mlx_imported_function;

/* Reads a .mlxfn file. Every count, id, dtype, shape and size in it is
 * checked (MLX_ERROR_FILE), and every primitive is looked up by name
 * (unknown ones: MLX_ERROR_FILE). Primitive parameters are taken as
 * written: import only files you trust, as with upstream MLX. */
int mlx_import_function(mlx_imported_function* res, const char* path);
/* Calls f: the trace whose positional count, keyword names, dtypes and
 * shapes (ranks, for a shapeless export) match the arguments is recorded
 * on them; outputs gets its results (unevaluated). No match:
 * MLX_ERROR_ARGUMENT. */
int mlx_imported_function_call(mlx_vector_array outputs, mlx_imported_function f, const mlx_vector_array args,
                               const char* const* kw_names, size_t nkw);
void mlx_imported_function_free(mlx_imported_function f);

#ifdef __cplusplus
}
#endif
#endif
