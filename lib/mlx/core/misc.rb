# frozen_string_literal: true

module MLX
  module Core
    # Raised by ensure_native! when the extension is missing (it never is
    # once require "mlx" succeeded; kept for the earlier binding's API).
    class NativeUnavailableError < StandardError; end

    PI = Math::PI
    E = Math::E
    EULER_GAMMA = 0.5772156649015329
    INF = Float::INFINITY
    NAN = Float::NAN

    module_function

    # The engine's version string.
    def version = Native.version

    def available? = MLX.native_available?

    def ensure_native!
      raise NativeUnavailableError, "the MLX native extension is not loaded" unless MLX.native_available?

      nil
    end

    def pi = PI
    def e = E
    def euler_gamma = EULER_GAMMA
    def inf = INF
    def nan = NAN
    def newaxis = nil
  end
end
