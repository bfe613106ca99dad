/* The interface between the C kernel drivers (kernels.c) and the device
 * code (*.cu, compiled by nvcc as CUDA C++): plain C types only, so both
 * sides include it. The drivers read nodes and layouts; the launchers
 * enqueue kernels on a stream and return at once.
 *
 * The op codes are the elementwise family's (cpu/elementwise.h), listed
 * here again in the same order because the device code cannot include
 * that C11 header; kernels.c checks every value with _Static_assert. */
#ifndef MLX_CUDA_LAUNCH_H
#define MLX_CUDA_LAUNCH_H

#include <stdint.h>

#include "mlx/dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLX_CU_UNARY_OPS(X)                                                                                     \
  X(ABS) X(NEGATIVE) X(SIGN) X(SQRT) X(RSQRT) X(SQUARE) X(EXP) X(EXPM1) X(LOG) X(LOG1P) X(LOG2) X(LOG10) X(SIN) \
  X(COS) X(TAN) X(ARCSIN) X(ARCCOS) X(ARCTAN) X(SINH) X(COSH) X(TANH) X(ARCSINH) X(ARCCOSH) X(ARCTANH)         \
  X(SIGMOID) X(ERF) X(ERFINV) X(FLOOR) X(CEIL) X(ROUND) X(REAL) X(IMAG) X(CONJUGATE) X(LOGICAL_NOT)             \
  X(BITWISE_INVERT) X(ISNAN) X(ISINF) X(ISPOSINF) X(ISNEGINF) X(ISFINITE)
#define MLX_CU_BINARY_OPS(X)                                                                                   \
  X(ADD) X(SUBTRACT) X(MULTIPLY) X(DIVIDE) X(POWER) X(REMAINDER) X(FLOOR_DIVIDE) X(MAXIMUM) X(MINIMUM)         \
  X(LOGADDEXP) X(ARCTAN2) X(EQUAL) X(NOT_EQUAL) X(GREATER) X(GREATER_EQUAL) X(LESS) X(LESS_EQUAL)              \
  X(LOGICAL_AND) X(LOGICAL_OR) X(BITWISE_AND) X(BITWISE_OR) X(BITWISE_XOR) X(LEFT_SHIFT) X(RIGHT_SHIFT)

#define MLX_CU_ENUM_U(N) MLX_CU_U_##N,
#define MLX_CU_ENUM_B(N) MLX_CU_B_##N,
enum { MLX_CU_UNARY_OPS(MLX_CU_ENUM_U) MLX_CU_U_COUNT };
enum { MLX_CU_BINARY_OPS(MLX_CU_ENUM_B) MLX_CU_B_COUNT };

/* Reduction kinds, as cpu/reduce.h's mlx_reduce_kind_ (checked too). */
enum { MLX_CU_R_SUM = 0, MLX_CU_R_PROD, MLX_CU_R_MAX, MLX_CU_R_MIN, MLX_CU_R_ALL, MLX_CU_R_ANY, MLX_CU_R_MEAN };

#define MLX_CU_MAXDIM 12

/* An elementwise launch over n output elements (row-major) from up to
 * three inputs. flat: every input is dense row-major of the output's size
 * or a single element, and fstride[k] (1 or 0) is all that is needed;
 * otherwise the output's collapsed shape and each input's strides (0
 * where broadcast), in elements. */
typedef struct {
  int64_t n;
  int flat;
  int64_t fstride[3];
  int ndim;
  int64_t shape[MLX_CU_MAXDIM];
  int64_t strides[3][MLX_CU_MAXDIM];
} mlx_cu_elem_;

/* A reduction: m outputs (the kept dims, row-major) of n inputs each (the
 * reduced dims), both collapsed, with the input's strides in elements. */
typedef struct {
  int64_t m, n;
  int kdim, rdim;
  int64_t kshape[MLX_CU_MAXDIM], kstrides[MLX_CU_MAXDIM];
  int64_t rshape[MLX_CU_MAXDIM], rstrides[MLX_CU_MAXDIM];
} mlx_cu_reduce_;

/* Launchers: 0 once enqueued, -1 when the (op, dtype) pair has no device
 * kernel, else the cudaError_t of the launch. stream is a cudaStream_t. */
int mlx_cu_copy_launch_(mlx_dtype in, mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l, void* stream);
int mlx_cu_unary_launch_(int op, mlx_dtype in, mlx_dtype out, void* dst, const void* src, const mlx_cu_elem_* l,
                         void* stream);
/* binary: a or b NULL takes that operand by value from a_val / b_val
 * (a single element, the host bytes of one in dtype in). */
int mlx_cu_binary_launch_(int op, mlx_dtype in, mlx_dtype out, void* dst, const void* a, const void* b,
                          const void* a_val, const void* b_val, const mlx_cu_elem_* l, void* stream);
int mlx_cu_select_launch_(int itemsize, void* dst, const void* c, const void* x, const void* y, const mlx_cu_elem_* l,
                          void* stream);
int mlx_cu_reduce_launch_(int kind, mlx_dtype in, mlx_dtype out, void* dst, const void* src, const mlx_cu_reduce_* r,
                          double scale, void* stream);
/* Phase 2a. fill: n elements of itemsize bytes set to the bits in v.
 * band: a rows x cols matrix of zeros and ones (the bits in one): eye
 * (ones where j == i + k) or tri (ones where j <= i + k). softmax /
 * logsumexp over the last axis of rows dense rows of n elements (dtype
 * float32, float16, bfloat16 or float64; computed in float or double). */
int mlx_cu_fill_launch_(void* dst, int64_t n, int itemsize, const unsigned char v[8], void* stream);
int mlx_cu_band_launch_(void* dst, int64_t rows, int64_t cols, int64_t k, int tri, int itemsize,
                        const unsigned char one[8], void* stream);
/* Phase 2b. move: l->n items of itemsize bytes from src to dst, both
 * strided (l->strides[0]: the source's, l->strides[1]: the
 * destination's, in items; flat: fstride[0] and fstride[1] both 1), no
 * conversion: the copies of concatenate, pad and slice_update. */
int mlx_cu_move_launch_(int itemsize, void* dst, const void* src, const mlx_cu_elem_* l, void* stream);
/* gemv: out (m x n, row-major, float32) = act(a b + c) for m at most
 * MLX_CU_GEMV_MAX_ROWS: a's rows a_rs apart (unit stride along k); b[k,
 * j] at b + j * b_ns + k (unit stride along k); c NULL or c[i, j] at
 * c + i * c_rs + j (c_rs 0: a bias row). act: MLX_CU_ACT_*; pre NULL or
 * where the sum before act also goes (m x n, row-major). */
#define MLX_CU_GEMV_MAX_ROWS 16
enum { MLX_CU_ACT_NONE = 0, MLX_CU_ACT_TANH, MLX_CU_ACT_MAX0_RIGHT, MLX_CU_ACT_MAX0_LEFT };
int mlx_cu_gemv_launch_(float* out, const float* a, int64_t a_rs, const float* b, int64_t b_ns, const float* c,
                        int64_t c_rs, int m, int n, int64_t k, int act, float* pre, void* stream);
/* ewvm: a run of float32 elementwise ops in one kernel, as a program
 * each thread runs per element (cuda/ewvm.cu, planned by cuda/fuse.c).
 * Instruction i computes register i from operands a[i] (and b[i] when
 * binary): r >= 0 a register, r < 0 input -1 - r. An input is a dense
 * array of n floats, or one value (one[k]: in[k] NULL for a host value
 * in val[k], else read at in[k][0]), or n floats read through strides
 * (sidx[k] >= 0: slot sidx[k] of the strided table, sdim[s] collapsed
 * dims of sshape[s] with element strides sstride[s], row-major order).
 * Output o stores register oreg[o] to out[o] (only its element 0 when
 * size1[o]). */
#define MLX_CU_VM_MAX_OPS 32
#define MLX_CU_VM_MAX_IN 16
#define MLX_CU_VM_MAX_OUT 16
#define MLX_CU_VM_MAX_STRIDED 4
#define MLX_CU_VM_STRIDED_DIMS 4
typedef struct {
  int64_t n;
  int nops, nin, nout, nstrided;
  unsigned char binary[MLX_CU_VM_MAX_OPS], op[MLX_CU_VM_MAX_OPS];
  signed char a[MLX_CU_VM_MAX_OPS], b[MLX_CU_VM_MAX_OPS];
  const float* in[MLX_CU_VM_MAX_IN];
  float val[MLX_CU_VM_MAX_IN];
  unsigned char one[MLX_CU_VM_MAX_IN];
  signed char sidx[MLX_CU_VM_MAX_IN];
  unsigned char sin[MLX_CU_VM_MAX_STRIDED], sdim[MLX_CU_VM_MAX_STRIDED];
  int64_t sshape[MLX_CU_VM_MAX_STRIDED][MLX_CU_VM_STRIDED_DIMS];
  int64_t sstride[MLX_CU_VM_MAX_STRIDED][MLX_CU_VM_STRIDED_DIMS];
  float* out[MLX_CU_VM_MAX_OUT];
  unsigned char oreg[MLX_CU_VM_MAX_OUT], size1[MLX_CU_VM_MAX_OUT];
} mlx_cu_vm_;
/* Whether the VM runs unary / binary op code op (MLX_CU_U_* / _B_*). */
int mlx_cu_vm_supports_(int binary, int op);
int mlx_cu_vm_launch_(const mlx_cu_vm_* p, void* stream);

/* quantize (affine): groups of gs dense floats w -> codes packed bits
 * wide into wq (gs * bits / 32 words a group), scale and bias per group
 * stored as sdt (float32, float16, bfloat16). dequantize: n = rows * cols
 * elements of odt (float32, float16, bfloat16, float64) from dense wq and
 * per-group scales and biases of sdt; round_s rounds each step through
 * sdt (cuda/quantize.cu). */
int mlx_cu_quantize_launch_(mlx_dtype sdt, const float* w, uint32_t* wq, void* scales, void* biases, int64_t groups,
                            int gs, int bits, void* stream);
int mlx_cu_dequantize_launch_(mlx_dtype sdt, mlx_dtype odt, void* out, const uint32_t* wq, const void* scales,
                              const void* biases, int64_t n, int64_t cols, int gs, int bits, int round_s, void* stream);
/* to_fp8: n dense floats -> e4m3 bytes; from_fp8: n bytes -> odt
 * (float32, float16, bfloat16, float64). cpu/quantize.c's conversions. */
int mlx_cu_to_fp8_launch_(uint8_t* out, const float* x, int64_t n, void* stream);
int mlx_cu_from_fp8_launch_(mlx_dtype odt, void* out, const uint8_t* x, int64_t n, void* stream);

/* concat: n dense row-major inputs (n at most MLX_CU_CONCAT_MAX) copied
 * into dst, viewed as outer rows of `row` items: input i fills items
 * [offs[i], offs[i + 1]) of every row (the columns outside
 * [offs[0], offs[n]) are left alone). One kernel for all of them. */
#define MLX_CU_CONCAT_MAX 64
int mlx_cu_concat_launch_(int itemsize, void* dst, int64_t outer, int64_t row, int n, const void* const* srcs,
                          const int64_t* offs, void* stream);
/* argreduce: r->m uint32 indices of the first max (min when is_min) of
 * r->n elements each (r laid out as for a reduction; the reduced dims in
 * row-major order, so the index is the position along them). */
int mlx_cu_argreduce_launch_(mlx_dtype in, int is_min, void* dst, const void* src, const mlx_cu_reduce_* r,
                             void* stream);
/* norm: rms_norm (layer 0) or layer_norm (layer 1) of rows dense rows of
 * d elements of dt (float32, float16, bfloat16, float64); weight and
 * bias of dt read at i * ws, i * bs (b unused for rms_norm). */
int mlx_cu_norm_launch_(mlx_dtype dt, void* dst, const void* src, const void* w, int64_t ws, const void* b, int64_t bs,
                        int64_t rows, int64_t d, float eps, int layer, void* stream);
/* rope of rows = B * heads * tlen dense rows of d elements (see
 * cpu/fast.c): inv_freq (device, dims / 2 floats), offsets (device,
 * int32 or uint32, noff = 1 or B entries). */
int mlx_cu_rope_launch_(mlx_dtype dt, void* dst, const void* src, const float* inv, const void* offs, int off_unsigned,
                        int64_t noff, int64_t rows, int64_t heads, int64_t tlen, int64_t d, int dims, int traditional,
                        int forward, float scale, void* stream);
/* random_bits: nbytes bytes of the counter stream of the key (two uint32
 * words, the second at key[kstride]); random_split: the two keys. */
int mlx_cu_random_bits_launch_(void* dst, int64_t nbytes, const uint32_t* key, int64_t kstride, void* stream);
int mlx_cu_random_split_launch_(void* first, void* second, const uint32_t* key, int64_t kstride, void* stream);
/* gather / scatter: nidx (<= MLX_CU_MAXIDX) dense int64 index arrays
 * (device pointers) of npos positions each; per indexed axis its length, stride and block
 * size; the block (S elements) walked row-major over bshape with the
 * array's strides bstrides (bdim dims). scatter's updates are dense
 * [npos, S] of the output's dtype; sum adds (atomics), else writes. */
#define MLX_CU_MAXIDX 8
typedef struct {
  int nidx, bdim;
  int64_t npos, S;
  const int64_t* idx[MLX_CU_MAXIDX];
  int64_t axis_len[MLX_CU_MAXIDX], axis_stride[MLX_CU_MAXIDX], block[MLX_CU_MAXIDX];
  int64_t bshape[MLX_CU_MAXDIM], bstrides[MLX_CU_MAXDIM];
} mlx_cu_gather_;
int mlx_cu_gather_launch_(int itemsize, void* dst, const void* src, const mlx_cu_gather_* g, void* stream);
/* Scatter modes, as ops/indexing.h's MLX_SCATTER_* (checked there too):
 * every mode for every dtype. */
enum { MLX_CU_SCATTER_NONE = 0, MLX_CU_SCATTER_SUM, MLX_CU_SCATTER_PROD, MLX_CU_SCATTER_MAX, MLX_CU_SCATTER_MIN };
int mlx_cu_scatter_launch_(mlx_dtype dt, int mode, void* dst, const void* upd, const mlx_cu_gather_* g, void* stream);
/* gather_axis / scatter_axis over n elements of shape[ndim] (the output,
 * or the updates for the scatter), row-major: the indices (int32 or
 * int64) at istrides, the values at vstrides (scatter), the array at
 * astrides with the axis coordinate replaced by the index (axis_len long
 * on the axis). */
typedef struct {
  int64_t n, axis_len;
  int ndim, axis;
  int64_t shape[MLX_CU_MAXDIM], astrides[MLX_CU_MAXDIM], istrides[MLX_CU_MAXDIM], vstrides[MLX_CU_MAXDIM];
} mlx_cu_axis_;
int mlx_cu_gather_axis_launch_(int itemsize, void* dst, const void* src, const void* idx, int idx64,
                               const mlx_cu_axis_* l, void* stream);
int mlx_cu_scatter_axis_launch_(mlx_dtype dt, int mode, void* dst, const void* vals, const void* idx, int idx64,
                                const mlx_cu_axis_* l, void* stream);
/* Fused attention (cuda/attention.cu): q [B, Nq, Lq, D], k [B, Nkv, Lk,
 * D], v [B, Nkv, Lk, Dv], each with unit inner stride and the element
 * strides qs/ks/vs of its first three dims; the output dense [B, Nq, Lq,
 * Dv]. mask_kind 0: none, 1: bool, 2: additive in the inputs' dtype, read
 * at strides ms (0 where broadcast). sinks: Nq values in the compute type
 * (float, or double for float64) or NULL. lowest: the dtype's lowest
 * finite value, the score of a hidden key. */
typedef struct {
  int64_t B, Nq, Nkv, Lq, Lk, D, Dv;
  int64_t qs[3], ks[3], vs[3], ms[4];
  int mask_kind, causal;
  float scale;
  double lowest;
} mlx_cu_sdpa_;
/* -1 when dt is not float32/float16/bfloat16/float64 or Dv > 256. */
int mlx_cu_sdpa_launch_(mlx_dtype dt, void* out, const void* q, const void* k, const void* v, const mlx_cu_sdpa_* p,
                        const void* mask, const void* sinks, void* stream);
/* The shared memory one block of the attention kernel needs. */
int mlx_cu_sdpa_shared_bytes_(mlx_dtype dt, int64_t D, int64_t Dv);
int mlx_cu_softmax_launch_(mlx_dtype dt, void* dst, const void* src, int64_t rows, int64_t n, int lse, void* stream);
/* conv's im2col (cuda/conv.cu): the column matrix [G][rows][L] (L = taps
 * * cg, columns in the weight's (t0, t1, t2, c) order) of output
 * positions r0 .. r0 + rows - 1 (P per image; out[3] of them, spatial
 * dims padded to 3 with leading 1s), from the input at xs (batch, then
 * the 3 spatial dims, 0 for the padding ones) and xc (channels), in
 * elements: the element at o * stride - lo + t * kdil (taps reversed
 * when flip) in the input dilated by idil (extent ind), zero outside it
 * or between dilated elements. -1 when dt is not a float dtype. */
typedef struct {
  int64_t r0, rows, P, G, L, cg;
  int64_t k[3], out[3], stride[3], lo[3], kdil[3], idil[3], ind[3];
  int64_t xs[4], xc;
  int flip;
} mlx_cu_im2col_;
int mlx_cu_im2col_launch_(mlx_dtype dt, void* dst, const void* src, const mlx_cu_im2col_* l, void* stream);
/* Direct float32 conv (cuda/conv.cu) over the same layout, for rows r0 =
 * 0 .. R - 1 (every output position), out [R, O] row-major, w [O, L]
 * row-major: one kernel, sums in registers. -1 when L exceeds
 * MLX_CU_CONV_DIRECT_MAX_L (the weight rows staged in shared memory). */
#define MLX_CU_CONV_DIRECT_MAX_L 512
int mlx_cu_conv_direct_launch_(float* out, const float* x, const float* w, const mlx_cu_im2col_* l, int64_t R,
                               int64_t O, void* stream);

/* Sort family and scans (cuda/sort.cu, cuda/scan.cu). A sort layout:
 * rows independent rows of n elements, row r (the non-axis dims in
 * row-major order) starting at the offset of r over rshape/rstrides
 * (rdim collapsed dims) and read at astride along the axis; the output
 * is row-major in the input's shape: element i of row r = (outer o,
 * inner k) at o * n * inner + i * inner + k. */
typedef struct {
  int64_t rows, n, inner, astride;
  int rdim;
  int64_t rshape[MLX_CU_MAXDIM], rstrides[MLX_CU_MAXDIM];
} mlx_cu_sort_;
/* sort: each row sorted stably by cpu/sort.c's keys (NaN last, -0.0
 * with 0.0), its values of dt or (arg) its uint32 positions. partition:
 * kth (0 <= kth < n) placed as libstdc++'s nth_element (cpu/sort.c's
 * steps) leaves it. */
int mlx_cu_sort_launch_(mlx_dtype dt, int arg, void* dst, const void* src, const mlx_cu_sort_* l, void* stream);
int mlx_cu_partition_launch_(mlx_dtype dt, int arg, int64_t kth, void* dst, const void* src, const mlx_cu_sort_* l,
                             void* stream);
/* Scan kinds, as cpu/sort.h's mlx_scan_kind_ (checked in cuda/scan.c). */
enum { MLX_CU_SCAN_SUM = 0, MLX_CU_SCAN_PROD, MLX_CU_SCAN_MAX, MLX_CU_SCAN_MIN, MLX_CU_SCAN_LOGADDEXP };
/* scan of a dense row-major outer x n x inner array of dtype in along n
 * into dst (int32 for a bool sum, else in), as cpu/scan.c. */
int mlx_cu_scan_launch_(int kind, mlx_dtype in, void* dst, const void* src, int64_t outer, int64_t n, int64_t inner,
                        int reverse, int inclusive, void* stream);
/* tril/triu (cuda/tri.cu): n row-major items of itemsize bytes, a stack
 * of rows x cols matrices; dst keeps src's items where j - i <= k (tril)
 * or j - i >= k (triu, upper) and zeroes the others. src may be dst. */
int mlx_cu_tril_triu_launch_(int itemsize, void* dst, const void* src, int64_t n, int64_t rows, int64_t cols,
                             int64_t k, int upper, void* stream);

#ifdef __cplusplus
}
#endif

#endif
