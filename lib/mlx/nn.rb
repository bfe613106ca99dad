# frozen_string_literal: true

# MLX::NN: modules, layers, losses and initializers over MLX::Core.
require_relative "nn/module"
require_relative "nn/activations"
require_relative "nn/layers/basic"
require_relative "nn/layers/convolution"
require_relative "nn/layers/normalization"
require_relative "nn/layers/pooling"
require_relative "nn/layers/positional_encoding"
require_relative "nn/layers/recurrent"
require_relative "nn/layers/transformer"
require_relative "nn/layers/quantized"
require_relative "nn/layers/upsample"
require_relative "nn/layers/distributed"
require_relative "nn/losses"
require_relative "nn/init"
