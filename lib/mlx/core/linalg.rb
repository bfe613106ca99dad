# frozen_string_literal: true

module MLX
  module Core
    module_function

    # matmul(a, b): NumPy matmul semantics (1-D operands promoted, leading
    # dims broadcast); floating dtypes only, as MLX.
    def matmul(a, b, pos_stream = nil, stream: pos_stream)
      Native.matmul(a, b, stream)
    end
  end
end
