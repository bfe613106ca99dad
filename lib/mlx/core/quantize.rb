# frozen_string_literal: true

module MLX
  module Core
    # Quantization modes (Strings, as upstream): "affine" (per-group scale
    # and bias; bits 1-6 or 8, group size 32/64/128; defaults 4 bits, 64),
    # "mxfp4" (32/4), "mxfp8" (32/8) and "nvfp4" (16/4).
    QUANTIZATION_MODES = %w[affine mxfp4 mxfp8 nvfp4].freeze

    module_function

    # quantize(w, group_size = nil, bits = nil, mode = "affine") ->
    # [wq, scales, biases] (affine) or [wq, scales].
    def quantize(w, pos_group_size = nil, pos_bits = nil, pos_mode = "affine", pos_stream = nil,
                 group_size: pos_group_size, bits: pos_bits, mode: pos_mode, stream: pos_stream)
      Native.quantize(Args.array(w), group_size, bits, quant_mode(mode), stream)
    end

    # dequantize(w, scales, biases = nil, group_size = nil, bits = nil,
    # mode = "affine", dtype = nil)
    def dequantize(w, scales, pos_biases = nil, pos_group_size = nil, pos_bits = nil, pos_mode = "affine",
                   pos_dtype = nil, pos_stream = nil, biases: pos_biases, group_size: pos_group_size, bits: pos_bits,
                   mode: pos_mode, dtype: pos_dtype, stream: pos_stream)
      Native.dequantize(w, scales, biases, group_size, bits, quant_mode(mode), dtype, stream)
    end

    # quantized_matmul(x, w, scales, biases = nil, transpose = true,
    # group_size = nil, bits = nil, mode = "affine")
    def quantized_matmul(x, w, scales, pos_biases = nil, pos_transpose = true, pos_group_size = nil, pos_bits = nil,
                         pos_mode = "affine", pos_stream = nil, biases: pos_biases, transpose: pos_transpose,
                         group_size: pos_group_size, bits: pos_bits, mode: pos_mode, stream: pos_stream)
      Native.quantized_matmul(x, w, scales, biases, transpose, group_size, bits, quant_mode(mode), stream)
    end

    # qqmm(x, w, scales = nil, group_size = nil, bits = nil, mode = "nvfp4"):
    # x quantized like w (fp modes) times w^T; w float or already packed.
    def qqmm(x, w, pos_scales = nil, pos_group_size = nil, pos_bits = nil, pos_mode = "nvfp4", pos_stream = nil,
             scales: pos_scales, group_size: pos_group_size, bits: pos_bits, mode: pos_mode, stream: pos_stream)
      Native.qqmm(Args.array(x), Args.array(w), scales, group_size, bits, quant_mode(mode), stream)
    end

    # gather_qmm(x, w, scales, biases = nil, lhs_indices = nil,
    # rhs_indices = nil, transpose = true, group_size = nil, bits = nil,
    # mode = "affine", sorted_indices = false)
    def gather_qmm(x, w, scales, pos_biases = nil, pos_lhs = nil, pos_rhs = nil, pos_transpose = true,
                   pos_group_size = nil, pos_bits = nil, pos_mode = "affine", pos_sorted = false, pos_stream = nil,
                   biases: pos_biases, lhs_indices: pos_lhs, rhs_indices: pos_rhs, transpose: pos_transpose,
                   group_size: pos_group_size, bits: pos_bits, mode: pos_mode, sorted_indices: pos_sorted,
                   stream: pos_stream)
      lhs = lhs_indices.nil? ? nil : Args.array(lhs_indices)
      rhs = rhs_indices.nil? ? nil : Args.array(rhs_indices)
      Native.gather_qmm(x, w, scales, biases, lhs, rhs, transpose, group_size, bits, quant_mode(mode),
                        sorted_indices, stream)
    end

    # to_fp8(x): e4m3 bytes (uint8). from_fp8(x, dtype = bfloat16).
    def to_fp8(x, pos_stream = nil, stream: pos_stream) = Native.to_fp8(x, stream)

    def from_fp8(x, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.from_fp8(x, dtype, stream)
    end

    def quant_mode(mode)
      return "affine" if mode.nil?
      raise TypeError, "the quantization mode must be a String, got #{mode.class}" unless mode.is_a?(String)

      mode
    end
    private_class_method :quant_mode
  end
end
