/* Runs of float32 elementwise ops as one kernel: each thread executes the
 * run's program (launch.h's mlx_cu_vm_) for its elements, keeping every
 * intermediate in registers, and stores only the values that leave the
 * run. An optimizer's update (a dozen ops per parameter) or a backward
 * pass's chains then cost one launch instead of one per op. Each op is
 * computed exactly as its own kernel computes it (unary.cu, binary.cu:
 * float32, no contraction of multiply-adds), so results are unchanged. */
#include "device.cuh"

__device__ __forceinline__ float vm_max(float x, float y) { return y != y ? y : (x != x ? x : (x > y ? x : y)); }
__device__ __forceinline__ float vm_min(float x, float y) { return y != y ? y : (x != x ? x : (x < y ? x : y)); }

__device__ __forceinline__ float vm_unary(int op, float x) {
  switch (op) {
    case MLX_CU_U_ABS: return fabsf(x);
    case MLX_CU_U_NEGATIVE: return -x;
    case MLX_CU_U_SQRT: return sqrtf(x);
    case MLX_CU_U_RSQRT: return 1.0f / sqrtf(x);
    case MLX_CU_U_SQUARE: return x * x;
    case MLX_CU_U_EXP: return mlx_exp_f32_(x);
    case MLX_CU_U_LOG: return mlx_log_f32_(x);
    default: return mlx_tanh_f32_(x); /* MLX_CU_U_TANH */
  }
}

__device__ __forceinline__ float vm_binary(int op, float x, float y) {
  switch (op) {
    case MLX_CU_B_ADD: return x + y;
    case MLX_CU_B_SUBTRACT: return x - y;
    case MLX_CU_B_MULTIPLY: return x * y;
    case MLX_CU_B_DIVIDE: return x / y;
    case MLX_CU_B_MAXIMUM: return vm_max(x, y);
    default: return vm_min(x, y); /* MLX_CU_B_MINIMUM */
  }
}

extern "C" int mlx_cu_vm_supports_(int binary, int op) {
  if (binary)
    return op == MLX_CU_B_ADD || op == MLX_CU_B_SUBTRACT || op == MLX_CU_B_MULTIPLY || op == MLX_CU_B_DIVIDE ||
           op == MLX_CU_B_MAXIMUM || op == MLX_CU_B_MINIMUM;
  return op == MLX_CU_U_ABS || op == MLX_CU_U_NEGATIVE || op == MLX_CU_U_SQRT || op == MLX_CU_U_RSQRT ||
         op == MLX_CU_U_SQUARE || op == MLX_CU_U_EXP || op == MLX_CU_U_LOG || op == MLX_CU_U_TANH;
}

/* Input k's element e (sv: this element's values of the strided inputs). */
__device__ __forceinline__ float vm_operand(const mlx_cu_vm_& p, const float* r, const float* sv, int x, int64_t e) {
  if (x >= 0) return r[x];
  int k = -1 - x;
  if (!p.one[k]) return p.sidx[k] >= 0 ? sv[p.sidx[k]] : p.in[k][e];
  return p.in[k] ? p.in[k][0] : p.val[k];
}

/* Offset of row-major element e of strided slot s. */
__device__ __forceinline__ int64_t vm_strided_offset(const mlx_cu_vm_& p, int s, int64_t e) {
  int64_t off = 0;
  for (int d = p.sdim[s] - 1; d >= 0; d--) {
    int64_t q = e / p.sshape[s][d];
    off += (e - q * p.sshape[s][d]) * p.sstride[s][d];
    e = q;
  }
  return off;
}

__global__ void __launch_bounds__(MLX_CU_THREADS) vm_k(const __grid_constant__ mlx_cu_vm_ p) {
  float r[MLX_CU_VM_MAX_OPS], sv[MLX_CU_VM_MAX_STRIDED];
  for (int64_t e = (int64_t)blockIdx.x * MLX_CU_THREADS + threadIdx.x; e < p.n;
       e += (int64_t)gridDim.x * MLX_CU_THREADS) {
    for (int s = 0; s < p.nstrided; s++) sv[s] = p.in[p.sin[s]][vm_strided_offset(p, s, e)];
    for (int i = 0; i < p.nops; i++) {
      float x = vm_operand(p, r, sv, p.a[i], e);
      r[i] = p.binary[i] ? vm_binary(p.op[i], x, vm_operand(p, r, sv, p.b[i], e)) : vm_unary(p.op[i], x);
    }
    for (int o = 0; o < p.nout; o++)
      if (!p.size1[o] || e == 0) p.out[o][p.size1[o] ? 0 : e] = r[p.oreg[o]];
  }
}

extern "C" int mlx_cu_vm_launch_(const mlx_cu_vm_* p, void* stream) {
  if (p->n <= 0) return 0;
  vm_k<<<mlx_cu_blocks(p->n, MLX_CU_THREADS), MLX_CU_THREADS, 0, (cudaStream_t)stream>>>(*p);
  return (int)cudaGetLastError();
}
