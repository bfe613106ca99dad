/* Strided copy with dtype conversion: the kernel behind astype,
 * contiguous, concatenate and every "make it row-major" step. Conversions
 * follow C casts as upstream MLX's static_cast does: bool is v != 0,
 * complex to real keeps the real part, bfloat16 rounds to nearest even. */
#include "../internal.h"
#include "elementwise.h"
#include "half.h"

#define RE(v) _Generic((v), mlx_c64: crealf(v), default: (v))
#define LD_PLAIN(x) (x)
#define LD_BF16(x) mlx_bf16_to_f32(x)
#define ST_BOOL(v) ((uint8_t)((v) != 0))
#define ST_BF16(v) mlx_f32_to_bf16((float)RE(v))
#define ST_C64(v) ((mlx_c64)(v))
/* Floating to integer: elementwise.h's defined conversions (upstream's
 * results on x86, negative values wrapping into unsigned types);
 * integers convert with C casts. */
#define F2I(T, F, v) \
  _Generic((v), float: (T)F((double)(v)), double: (T)F((double)(v)), mlx_f16: (T)F((double)(v)), default: (T)(v))
#define ST_U8(v) F2I(uint8_t, mlx_f2i32_, RE(v))
#define ST_U16(v) F2I(uint16_t, mlx_f2i32_, RE(v))
#define ST_U32(v) \
  _Generic((RE(v)), float: mlx_f2u32_(RE(v)), double: mlx_f2u32_(RE(v)), mlx_f16: mlx_f16_to_u32_((double)RE(v)), \
           default: (uint32_t)RE(v))
#define ST_U64(v) F2I(uint64_t, mlx_f2u64_, RE(v))
#define ST_I8(v) F2I(int8_t, mlx_f2i32_, RE(v))
#define ST_I16(v) F2I(int16_t, mlx_f2i32_, RE(v))
#define ST_I32(v) F2I(int32_t, mlx_f2i32_, RE(v))
#define ST_I64(v) F2I(int64_t, mlx_f2i64_, RE(v))
/* To float16 through float32, as upstream MLX converts (a direct double to
 * half conversion rounds differently in tie cases). */
#define ST_F16(v) ((mlx_f16)(float)RE(v))
#define ST_F32(v) ((float)RE(v))
#define ST_F64(v) ((double)RE(v))

typedef void (*conv_fn)(void* restrict dst, const void* restrict src, int64_t n, int64_t ss);

#define CONV(SN, ST, SLD, DN, DT, DST)                                                           \
  static void conv_##SN##_##DN(void* restrict dst, const void* restrict src, int64_t n, int64_t ss) { \
    DT* restrict d = dst;                                                                        \
    const ST* restrict s = src;                                                                  \
    if (ss == 1)                                                                                 \
      for (int64_t i = 0; i < n; i++) d[i] = DST(SLD(s[i]));                                     \
    else                                                                                         \
      for (int64_t i = 0; i < n; i++) d[i] = DST(SLD(s[i * ss]));                                \
  }

#define FOR_DST(SN, ST, SLD)                 \
  CONV(SN, ST, SLD, b, uint8_t, ST_BOOL)     \
  CONV(SN, ST, SLD, u8, uint8_t, ST_U8)      \
  CONV(SN, ST, SLD, u16, uint16_t, ST_U16)   \
  CONV(SN, ST, SLD, u32, uint32_t, ST_U32)   \
  CONV(SN, ST, SLD, u64, uint64_t, ST_U64)   \
  CONV(SN, ST, SLD, i8, int8_t, ST_I8)       \
  CONV(SN, ST, SLD, i16, int16_t, ST_I16)    \
  CONV(SN, ST, SLD, i32, int32_t, ST_I32)    \
  CONV(SN, ST, SLD, i64, int64_t, ST_I64)    \
  CONV(SN, ST, SLD, f16, mlx_f16, ST_F16)    \
  CONV(SN, ST, SLD, f32, float, ST_F32)      \
  CONV(SN, ST, SLD, f64, double, ST_F64)     \
  CONV(SN, ST, SLD, bf16, mlx_bf16, ST_BF16) \
  CONV(SN, ST, SLD, c64, mlx_c64, ST_C64)

FOR_DST(b, uint8_t, LD_PLAIN)
FOR_DST(u8, uint8_t, LD_PLAIN)
FOR_DST(u16, uint16_t, LD_PLAIN)
FOR_DST(u32, uint32_t, LD_PLAIN)
FOR_DST(u64, uint64_t, LD_PLAIN)
FOR_DST(i8, int8_t, LD_PLAIN)
FOR_DST(i16, int16_t, LD_PLAIN)
FOR_DST(i32, int32_t, LD_PLAIN)
FOR_DST(i64, int64_t, LD_PLAIN)
FOR_DST(f16, mlx_f16, LD_PLAIN)
FOR_DST(f32, float, LD_PLAIN)
FOR_DST(f64, double, LD_PLAIN)
FOR_DST(bf16, mlx_bf16, LD_BF16)
FOR_DST(c64, mlx_c64, LD_PLAIN)

#define ROW(SN)                                                                                   \
  {conv_##SN##_b, conv_##SN##_u8, conv_##SN##_u16, conv_##SN##_u32, conv_##SN##_u64, conv_##SN##_i8, \
   conv_##SN##_i16, conv_##SN##_i32, conv_##SN##_i64, conv_##SN##_f16, conv_##SN##_f32,             \
   conv_##SN##_f64, conv_##SN##_bf16, conv_##SN##_c64}

/* conv_table[src][dst] */
static const conv_fn conv_table[MLX_NUM_DTYPES][MLX_NUM_DTYPES] = {
    ROW(b), ROW(u8), ROW(u16), ROW(u32), ROW(u64), ROW(i8), ROW(i16),
    ROW(i32), ROW(i64), ROW(f16), ROW(f32), ROW(f64), ROW(bf16), ROW(c64)};

/* Same-dtype strided copy of n elements of `size` bytes. */
static void copy_same(void* restrict dst, const void* restrict src, int64_t n, int64_t ss, size_t size) {
  if (ss == 1) {
    memcpy(dst, src, (size_t)n * size);
    return;
  }
  switch (size) {
    case 1:
      for (int64_t i = 0; i < n; i++) ((uint8_t*)dst)[i] = ((const uint8_t*)src)[i * ss];
      break;
    case 2:
      for (int64_t i = 0; i < n; i++) ((uint16_t*)dst)[i] = ((const uint16_t*)src)[i * ss];
      break;
    case 4:
      for (int64_t i = 0; i < n; i++) ((uint32_t*)dst)[i] = ((const uint32_t*)src)[i * ss];
      break;
    default:
      for (int64_t i = 0; i < n; i++) ((uint64_t*)dst)[i] = ((const uint64_t*)src)[i * ss];
      break;
  }
}

typedef struct {
  char* dst;
  const char* src;
  mlx_dtype dt, st;
  size_t dsize, ssize;
  int ndim; /* collapsed */
  int64_t shape[64];
  int64_t strides[64];
  int64_t inner; /* elements per row (last collapsed dim) */
} copy_job;

/* Copies rows [begin, end) of the collapsed layout. */
static void copy_rows(void* ctx, int64_t begin, int64_t end) {
  const copy_job* j = ctx;
  int nd = j->ndim;
  int64_t inner = j->inner, istride = nd ? j->strides[nd - 1] : 1;
  conv_fn f = j->dt == j->st ? NULL : conv_table[j->st][j->dt];
  for (int64_t r = begin; r < end; r++) {
    /* Source offset of row r: decompose r over the outer dims. */
    int64_t rem = r, off = 0;
    for (int d = nd - 2; d >= 0; d--) {
      off += (rem % j->shape[d]) * j->strides[d];
      rem /= j->shape[d];
    }
    char* d = j->dst + (size_t)(r * inner) * j->dsize;
    const char* s = j->src + off * (int64_t)j->ssize;
    if (f) f(d, s, inner, istride);
    else copy_same(d, s, inner, istride, j->dsize);
  }
}

/* Copies one long contiguous run split into chunks. */
static void copy_flat(void* ctx, int64_t begin, int64_t end) {
  const copy_job* j = ctx;
  int64_t ss = j->ndim ? j->strides[0] : 1;
  char* d = j->dst + (size_t)begin * j->dsize;
  const char* s = j->src + begin * ss * (int64_t)j->ssize;
  if (j->dt == j->st) copy_same(d, s, end - begin, ss, j->dsize);
  else conv_table[j->st][j->dt](d, s, end - begin, ss);
}

void mlx_copy_cast_(
    void* dst,
    mlx_dtype dst_dtype,
    const void* src,
    mlx_dtype src_dtype,
    const int64_t* shape,
    const int64_t* src_strides,
    int ndim) {
  copy_job j;
  j.dst = dst;
  j.src = src;
  j.dt = dst_dtype;
  j.st = src_dtype;
  j.dsize = mlx_dtype_size(dst_dtype);
  j.ssize = mlx_dtype_size(src_dtype);
  /* Collapse: drop size-1 dims, merge dims that are contiguous together. */
  int64_t total = 1;
  int nd = 0;
  int64_t cshape[ndim > 0 ? ndim : 1], cstr[ndim > 0 ? ndim : 1];
  for (int i = 0; i < ndim; i++) {
    total *= shape[i];
    if (shape[i] == 1) continue;
    if (nd > 0 && cstr[nd - 1] == src_strides[i] * shape[i]) {
      cshape[nd - 1] *= shape[i];
      cstr[nd - 1] = src_strides[i];
    } else {
      cshape[nd] = shape[i];
      cstr[nd] = src_strides[i];
      nd++;
    }
  }
  if (total == 0) return;
  if (nd > 64) {
    /* Pathological rank: fall back to element-by-element copying. */
    for (int64_t e = 0; e < total; e++) {
      int64_t rem = e, off = 0;
      for (int d = nd - 1; d >= 0; d--) {
        off += (rem % cshape[d]) * cstr[d];
        rem /= cshape[d];
      }
      const char* s = (const char*)src + off * (int64_t)j.ssize;
      char* d = (char*)dst + e * (int64_t)j.dsize;
      if (dst_dtype == src_dtype) memcpy(d, s, j.dsize);
      else conv_table[src_dtype][dst_dtype](d, s, 1, 1);
    }
    return;
  }
  j.ndim = nd;
  for (int i = 0; i < nd; i++) {
    j.shape[i] = cshape[i];
    j.strides[i] = cstr[i];
  }
  j.inner = nd ? cshape[nd - 1] : 1;
  int64_t rows = total / j.inner;
  if (rows == 1) mlx_parallel_for_(j.inner, 1 << 16, copy_flat, &j);
  else mlx_parallel_for_(rows, (1 << 16) / (j.inner > 0 ? j.inner : 1) + 1, copy_rows, &j);
}

void mlx_node_copy_to_(void* dst, mlx_dtype dst_dtype, const mlx_node_* n) {
  mlx_copy_cast_(dst, dst_dtype, MLX_DATA(n, char), n->dtype, n->shape, n->strides, n->ndim);
}

/* Kernel of astype and contiguous: a row-major copy converting to the
 * output dtype. Donates the input buffer when it is row-major, dead
 * after this op and of the same itemsize. */
int mlx_cpu_copy_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  if (in->dtype == out->dtype && (in->flags & MLX_FLAG_ROW_CONTIG)) {
    mlx_node_set_view_(out, in, in->offset, in->strides);
    return MLX_OK;
  }
  int donated;
  MLX_TRY(mlx_node_donate_or_alloc_(out, in, &donated));
  mlx_node_copy_to_(out->buf->data, out->dtype, in);
  return MLX_OK;
}
