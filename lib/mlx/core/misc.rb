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

    # Functions of the earlier binding whose engine ops do not exist yet:
    # calling one raises MLX::UnsupportedError naming what is missing.
    PENDING = {
      median: "sort", cumsum: "scan", cumprod: "scan", cummax: "scan", cummin: "scan",
      logcumsumexp: "scan", sort: "sort", argsort: "sort", topk: "sort", partition: "sort",
      argpartition: "sort", take: "gather", take_along_axis: "gather", put_along_axis: "scatter",
      slice_update: "slice_update", as_strided: "as_strided", view: "view", diagonal: "diagonal",
      diag: "diagonal", trace: "diagonal", savez: "npz writer", savez_compressed: "npz writer",
      save_gguf: "gguf writer"
    }.freeze

    PENDING.each do |name, op|
      define_singleton_method(name) do |*|
        raise MLX::UnsupportedError, "[#{name}] needs the engine's #{op} op, which is not implemented yet"
      end
    end

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
