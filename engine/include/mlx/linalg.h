/* Linear algebra (upstream mx.linalg), through LAPACKE on the CPU.
 *
 * Every function works on the last two axes of its input, batched over the
 * leading ones, and follows the conventions of ops.h: results through the
 * leading out-pointers (new handles), inputs borrowed, stream last, an int
 * status. Factorizations accept float32 and float64 (svd, eig, eigh also
 * complex64), as upstream MLX's CPU backend does; other dtypes, wrong ranks
 * and non-square inputs are errors at construction. Numerical failures
 * (inverting a singular matrix, a LAPACK routine that does not converge)
 * are errors at evaluation, as upstream raises them when it evaluates.
 *
 *   mlx_array q = mlx_array_new(), r = mlx_array_new();
 *   mlx_linalg_qr(&q, &r, a, MLX_DEFAULT_STREAM);   // a = q @ r
 */
#ifndef MLX_LINALG_H
#define MLX_LINALG_H

#include <stddef.h>
#include <stdint.h>

#include "mlx/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vector or matrix norm with a numeric ord (upstream mx.linalg.norm).
 * has_ord 0 means ord=None: the 2-norm of the flattened array without
 * axes, else the 2-norm / Frobenius norm over the 1 or 2 axes. With an
 * ord, axes NULL means all axes (a must then be 1-D or 2-D); one axis is a
 * vector norm (0, +-1, 2, +-inf, other p), two axes a matrix norm (+-1,
 * +-2, +-inf). Errors: more than 2 axes, an ord a matrix norm does not
 * define, bad axes; 2-norms of matrices need a float dtype (svd). */
int mlx_linalg_norm(mlx_array* res, const mlx_array a, int has_ord, double ord, const int* axes, size_t naxes,
                    int keepdims, const mlx_stream s);
/* Matrix norm by name: "fro" (or "f") or "nuc" (sum of singular values)
 * over 2 axes (axes NULL: a must be 2-D). */
int mlx_linalg_norm_str(mlx_array* res, const mlx_array a, const char* ord, const int* axes, size_t naxes,
                        int keepdims, const mlx_stream s);

/* QR of [..., M, N]: q [..., M, K], r [..., K, N], K = min(M, N). */
int mlx_linalg_qr(mlx_array* q, mlx_array* r, const mlx_array a, const mlx_stream s);
/* SVD of [..., M, N]: u [..., M, M], sv [..., K], vt [..., N, N] with
 * a = u[..., :, :K] * sv @ vt[..., :K, :]. With compute_uv 0 only sv is
 * written (u and vt may be NULL). sv is float32 for complex64 input. */
int mlx_linalg_svd(mlx_array* u, mlx_array* sv, mlx_array* vt, const mlx_array a, int compute_uv,
                   const mlx_stream s);
/* Inverse of square matrices; a singular one fails at evaluation. */
int mlx_linalg_inv(mlx_array* res, const mlx_array a, const mlx_stream s);
/* Inverse of triangular matrices (only the upper or lower triangle is
 * read; the other triangle of the result is zero). */
int mlx_linalg_tri_inv(mlx_array* res, const mlx_array a, int upper, const mlx_stream s);
/* Cholesky factor of symmetric positive definite matrices (only the
 * selected triangle is read): lower L with a = L L^T, or upper U with
 * a = U^T U. As upstream, a matrix that is not positive definite is not an
 * error: the result is then LAPACK's partial factorization. */
int mlx_linalg_cholesky(mlx_array* res, const mlx_array a, int upper, const mlx_stream s);
/* Inverse of a = L L^T (or U^T U) given its Cholesky factor. */
int mlx_linalg_cholesky_inv(mlx_array* res, const mlx_array factor, int upper, const mlx_stream s);
/* Moore-Penrose pseudo-inverse [..., N, M] of [..., M, N] through the
 * SVD, cutting singular values below 10 * max(M, N) * eps * max(sv). */
int mlx_linalg_pinv(mlx_array* res, const mlx_array a, const mlx_stream s);
/* LU with partial pivoting of [..., M, N]: p (uint32 [..., M]), l
 * [..., M, K] unit lower, u [..., K, N], with a[i] = (l @ u)[p[i]]. */
int mlx_linalg_lu(mlx_array* p, mlx_array* l, mlx_array* u, const mlx_array a, const mlx_stream s);
/* Compact LU: lu [..., M, N] (l below the diagonal, u on and above) and
 * pivots (uint32 [..., K], 0-based LAPACK row interchanges). A singular
 * matrix is not an error. */
int mlx_linalg_lu_factor(mlx_array* lu, mlx_array* pivots, const mlx_array a, const mlx_stream s);
/* x with a @ x = b; b is [..., N] or [..., N, R]. The dtypes must promote
 * to float32 or float64 and a must be float32 or float64. Batch dims
 * broadcast. A singular a fails at evaluation. */
int mlx_linalg_solve(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);
/* x with a @ x = b for triangular a (upper or lower triangle read). */
int mlx_linalg_solve_triangular(mlx_array* res, const mlx_array a, const mlx_array b, int upper,
                                const mlx_stream s);
/* Cross product along axis (size 2 or 3 in each input; a size-2 vector
 * has third component 0). Inputs broadcast; result dtype is promoted. */
int mlx_linalg_cross(mlx_array* res, const mlx_array a, const mlx_array b, int axis, const mlx_stream s);
/* Eigenvalues [..., N] and right eigenvectors [..., N, N] (columns) of
 * general square matrices, always complex64. */
int mlx_linalg_eig(mlx_array* w, mlx_array* v, const mlx_array a, const mlx_stream s);
int mlx_linalg_eigvals(mlx_array* w, const mlx_array a, const mlx_stream s);
/* Eigenvalues (ascending) and orthonormal eigenvectors of symmetric /
 * Hermitian matrices from the triangle uplo ("L" or "U"). Values are real
 * (float32 for complex64 input). */
int mlx_linalg_eigh(mlx_array* w, mlx_array* v, const mlx_array a, const char* uplo, const mlx_stream s);
int mlx_linalg_eigvalsh(mlx_array* w, const mlx_array a, const char* uplo, const mlx_stream s);
/* Determinant of square matrices (integers promote to float32; complex is
 * an error). 0x0 matrices have determinant 1. */
int mlx_linalg_det(mlx_array* res, const mlx_array a, const mlx_stream s);
/* sign (-1, 0, 1) and log|det|; a singular matrix gives 0 and -inf. */
int mlx_linalg_slogdet(mlx_array* sign, mlx_array* logabsdet, const mlx_array a, const mlx_stream s);

/* Samples of N(mean, cov): mean [..., n], cov [..., n, n] (batch dims
 * broadcast with each other and with shape), result shape
 * broadcast(cov batch, mean batch, shape) + [n]. As upstream, the square
 * root of cov comes from its SVD and dtype must be float32. key may be an
 * empty handle (the global key sequence). */
int mlx_random_multivariate_normal(mlx_array* res, const mlx_array mean, const mlx_array cov, const int64_t* shape,
                                   int ndim, mlx_dtype dtype, const mlx_array key, const mlx_stream s);

#ifdef __cplusplus
}
#endif
#endif
