# mlp benchmark: [B, 4D] -> Linear(4D->4D) -> ReLU -> Linear(4D->4D) -> ReLU
# -> Linear(4D->D); eval. Ruby vs Python MLX (mlp_mlx.py) vs PyTorch
# (mlp_torch.py), plain and compiled; see harness.rb for the environment.
#   ruby -Ilib bench/models/mlp.rb
require_relative "harness"

module MLXBench
  class Mlp < NN::Module
    def initialize(dims)
      super()
      self.layers = [NN::Linear.new(4 * dims, 4 * dims), NN::Linear.new(4 * dims, 4 * dims),
                     NN::Linear.new(4 * dims, dims)]
    end

    def call(x)
      x = NN.relu(layers[0].call(x))
      x = NN.relu(layers[1].call(x))
      layers[2].call(x)
    end
  end
end

MLXBench.run("mlp", "MLP 4D->4D->4D->D (ReLU) on [B, 4D]") do |cfg, compiled|
  mx = MLXBench::MX
  model = MLXBench::Mlp.new(cfg.dims)
  x = MLXBench.uniform([cfg.batch, 4 * cfg.dims])
  mx.eval(x, model.parameters)
  forward = ->(v) { model.call(v) }
  forward = mx.compile(forward) if compiled
  lambda do
    out = forward.call(x)
    mx.eval(out)
    out
  end
end
