# frozen_string_literal: true

module MLX
  # The gem's version. MLX::Core.version is the engine's.
  VERSION = "0.1.0"
end
