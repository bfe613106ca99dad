# frozen_string_literal: true

# MLX for Ruby: lazy n-dimensional arrays over a C engine.
#
#   require "mlx"
#   mx = MLX::Core
#   x = mx.array([1.0, 2.0, 3.0], mx.float32)
#   y = mx.sqrt(x + 1.0)
#   mx.eval(y)
#   p y.to_a   # => [1.414..., 1.732..., 2.0]
require_relative "mlx/version"

begin
  # Through the load path (not require_relative): a sanitizer build placed
  # earlier on it (rake test:asan) replaces the regular one.
  require "mlx/native"
rescue LoadError => e
  raise LoadError, "the MLX native extension is not built (#{e.message}); run `rake compile` in the checkout"
end

require_relative "mlx/core"
require_relative "mlx/utils"
require_relative "mlx/nn"
require_relative "mlx/optimizers"

module MLX
  # True once the native extension is loaded (it always is after require "mlx").
  def self.native_available?
    defined?(MLX::Native) && MLX::Native.respond_to?(:add) ? true : false
  end
end
