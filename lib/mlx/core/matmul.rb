# frozen_string_literal: true

module MLX
  module Core
    module_function

    # addmm(c, a, b, alpha = 1.0, beta = 1.0): alpha * (a @ b) + beta * c.
    def addmm(c, a, b, pos_alpha = 1.0, pos_beta = 1.0, pos_stream = nil, alpha: pos_alpha, beta: pos_beta,
              stream: pos_stream)
      Native.addmm(c, a, b, Float(alpha.nil? ? 1.0 : alpha), Float(beta.nil? ? 1.0 : beta), stream)
    end

    # Inner product over the last axes.
    def inner(a, b, pos_stream = nil, stream: pos_stream)
      Native.inner(a, b, stream)
    end

    # Outer product of the flattened arrays.
    def outer(a, b, pos_stream = nil, stream: pos_stream)
      Native.outer(a, b, stream)
    end

    # Kronecker product.
    def kron(a, b, pos_stream = nil, stream: pos_stream)
      Native.kron(a, b, stream)
    end

    # tensordot(a, b, axes = 2): axes an Integer (last axes of a with the
    # first of b) or [lhs_axes, rhs_axes].
    def tensordot(a, b, pos_axes = 2, pos_stream = nil, axes: pos_axes, stream: pos_stream)
      axes = 2 if axes.nil?
      unless axes.is_a?(Integer)
        raise ::TypeError, "tensordot axes must be an Integer or [lhs_axes, rhs_axes]" unless axes.is_a?(::Array)
        raise MLX::ArgumentError, "tensordot axes must be a pair [lhs_axes, rhs_axes]" unless axes.size == 2

        axes = axes.map { |x| x.is_a?(Integer) ? [x] : x }
      end
      Native.tensordot(a, b, axes, stream)
    end

    # einsum(subscripts, *operands): NumPy's Einstein summation grammar.
    def einsum(subscripts, *operands, stream: nil)
      raise ::TypeError, "einsum subscripts must be a String" unless subscripts.is_a?(String)

      Native.einsum(subscripts, operands.map { |x| Args.array(x) }, stream)
    end

    # einsum_path(subscripts, *operands) -> [path, summary]: the contraction
    # order einsum uses (Arrays of operand positions) and a report.
    def einsum_path(subscripts, *operands)
      raise ::TypeError, "einsum_path subscripts must be a String" unless subscripts.is_a?(String)

      Native.einsum_path(subscripts, operands.map { |x| Args.array(x) })
    end

    # block_masked_mm(a, b, block_size = 64, mask_out = nil, mask_lhs = nil,
    # mask_rhs = nil): a @ b with block masks (bool: keep/zero, else scale).
    def block_masked_mm(a, b, pos_block_size = 64, pos_mask_out = nil, pos_mask_lhs = nil, pos_mask_rhs = nil,
                        pos_stream = nil, block_size: pos_block_size, mask_out: pos_mask_out,
                        mask_lhs: pos_mask_lhs, mask_rhs: pos_mask_rhs, stream: pos_stream)
      Native.block_masked_mm(a, b, block_size.nil? ? 64 : block_size, mask_out, mask_lhs, mask_rhs, stream)
    end

    # gather_mm(a, b, lhs_indices = nil, rhs_indices = nil,
    # sorted_indices = false): matmul of the batch entries the indices pick.
    def gather_mm(a, b, pos_lhs_indices = nil, pos_rhs_indices = nil, pos_sorted_indices = false, pos_stream = nil,
                  lhs_indices: pos_lhs_indices, rhs_indices: pos_rhs_indices, sorted_indices: pos_sorted_indices,
                  stream: pos_stream)
      Native.gather_mm(a, b, lhs_indices, rhs_indices, sorted_indices ? true : false, stream)
    end

    # segmented_mm(a, b, segments): a[:, s:e] @ b[s:e, :] per segment [s, e).
    def segmented_mm(a, b, pos_segments = nil, pos_stream = nil, segments: pos_segments, stream: pos_stream)
      raise MLX::ArgumentError, "segmented_mm needs segments" if segments.nil?

      Native.segmented_mm(a, b, segments, stream)
    end

    # hadamard_transform(a, scale = nil): along the last axis; nil scale is
    # 1 / sqrt(n).
    def hadamard_transform(a, pos_scale = nil, pos_stream = nil, scale: pos_scale, stream: pos_stream)
      Native.hadamard_transform(a, scale.nil? ? nil : Float(scale), stream)
    end
  end
end
