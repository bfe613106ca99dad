/* CUDA backend internals shared by backend.c and the kernel drivers
 * (kernels.c): streams, device copies of inputs, device outputs. C, with
 * the CUDA runtime's C API; the device code (*.cu) sees only launch.h. */
#ifndef MLX_CUDA_BACKEND_H
#define MLX_CUDA_BACKEND_H

#include <cuda_runtime_api.h>

#include "../internal.h"

/* MLX_OK, or the error set (MLX_ERROR_DEVICE; MLX_ERROR_MEMORY for an
 * allocation failure) with what failed and CUDA's error string. */
int mlx_cuda_check_(cudaError_t e, const char* what);
/* The cudaStream_t of MLX stream s (made at first use); also makes s's
 * device current for this thread. */
int mlx_cuda_stream_(mlx_stream s, cudaStream_t* out);
/* Device pointer to element 0 of evaluated node n for a kernel on stream
 * s: uploads the buffer on s if it has no device copy yet, and makes s
 * wait for the copy's writer when that ran on another stream. */
int mlx_cuda_in_(const mlx_node_* n, mlx_stream s, const void** ptr);
/* 1 with n's single element copied to val when its host copy is current
 * (a constant made on the host, never uploaded or since read back), so
 * a kernel can take it by value instead of an upload; 0 otherwise. */
int mlx_cuda_host_scalar_(const mlx_node_* n, void* val);
/* Copies n bytes of host memory at src to device memory at dst on stream
 * st (of MLX stream s) without waiting for the copy: small copies go
 * through pinned staging memory, so src may be reused at once. */
int mlx_cuda_upload_(void* dst, const void* src, size_t n, mlx_stream s, cudaStream_t st, const char* what);
/* Gives out a new row-major buffer whose device copy the kernel on s
 * writes (the host copy is made when the host reads it). */
int mlx_cuda_out_(mlx_node_* out, mlx_stream s, void** ptr);
/* Collapses n dims in place: size-1 dims dropped, neighbours merged
 * where the outer stride is the inner's span; returns the dims left (0
 * for a single element). In cuda/kernels.c. */
int mlx_cuda_collapse_(int64_t* shape, int64_t* strides, int n);
/* The n elements of each of count index arrays as int64 on the host, one
 * after another (malloc'ed; NULL with the error set): waits for the GPU
 * kernels that wrote them. The gathered products loop over them on the
 * host, as the CPU kernels do (cuda/ops2a.c). */
int64_t* mlx_cuda_host_indices_(mlx_node_* const* idx, int count, int64_t n, const char* name);
/* A kernel driver's prologue: the cudaStream_t of out's stream and a new
 * device buffer for out (mlx_cuda_stream_, then mlx_cuda_out_). */
int mlx_cuda_begin_(mlx_node_* out, cudaStream_t* st, void** dst);
/* Writes src's elements read through (shape, strides), converted from
 * sdt to dt, row-major into dst on st (cuda/ops2a.c). */
int mlx_cuda_copy_into_(void* dst, mlx_dtype dt, const void* src, mlx_dtype sdt, const int64_t* shape,
                        const int64_t* strides, int nd, const char* name, cudaStream_t st);
/* A dense row-major copy (dtype dt) of src's elements read through
 * (shape, strides) in a scratch device buffer (cudaMallocAsync on st,
 * freed by the caller with cudaFreeAsync after the kernels that read it).
 * In cuda/ops2a.c. */
int mlx_cuda_dense_copy_(void** tmp, const void* src, mlx_dtype sdt, mlx_dtype dt, const int64_t* shape,
                         const int64_t* strides, int nd, const char* name, cudaStream_t st);
/* Device pointer *ptr to node n's elements as dense row-major dtype dt:
 * n's own buffer when it already is, else a scratch copy (*tmp, freed
 * by the caller with cudaFreeAsync on st after its kernels; NULL when
 * none was made). In cuda/ops2a.c. */
int mlx_cuda_dense_in_(const void** ptr, void** tmp, const mlx_node_* n, mlx_dtype dt, mlx_stream s, cudaStream_t st,
                       const char* name);
/* C (m x n, row stride ldc) = op(A) op(B) + beta C, row-major, for each
 * of `batch` matrices (element strides stride_a/_b/_c between them, 0 to
 * reuse one): op(A) is the m x k matrix stored row-major with row stride
 * lda, or its transpose stored k x m when trans_a (likewise B, k x n).
 * float32/float16/bfloat16 (float32 accumulation), float64, complex64.
 * cuBLAS on stream st of device s.device (cuda/matmul.c). */
int mlx_cuda_gemm_(mlx_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                   int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, void* c, int64_t ldc,
                   int64_t stride_c, int64_t batch, double beta, mlx_stream s, cudaStream_t st, const char* name);
/* The same product through cuBLASLt with a cached plan (cuda/blaslt.c),
 * on workspace ws of ws_bytes: 1 when done, 0 when cuBLASLt cannot run
 * it (the caller uses cuBLAS), -1 with the error set. float32 (TF32 when
 * tf32), float16, bfloat16, float64. c = A B + beta cin (cin NULL: c
 * itself; else a matrix of leading dimension ldcin), plus bias (NULL or
 * n values added to every row) when given. Callers serialize calls. */
int mlx_cuda_lt_gemm_(mlx_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const void* a,
                      int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, void* c,
                      int64_t ldc, int64_t stride_c, int64_t batch, double beta, const void* cin, int64_t ldcin,
                      const void* bias, int tf32, mlx_stream s, cudaStream_t st, void* ws, size_t ws_bytes);

#endif
