# cnn benchmark: NHWC input [B,64,64,3] -> Conv2d(3->16, k3, stride 1, pad 1)
# -> ReLU -> MaxPool2d(2, stride 2) -> Conv2d(16->32, k3, pad 1) -> ReLU ->
# MaxPool2d(2, stride 2) -> reshape [B, 32*16*16] -> Linear(->1024); eval.
# Ruby vs Python MLX (cnn_mlx.py) vs PyTorch (cnn_torch.py, NCHW), plain
# and compiled; see harness.rb for the environment.
#   ruby -Ilib bench/models/cnn.rb
require_relative "harness"

module MLXBench
  class Cnn < NN::Module
    def initialize
      super()
      self.conv1 = NN::Conv2d.new(3, 16, 3, stride: 1, padding: 1)
      self.conv2 = NN::Conv2d.new(16, 32, 3, padding: 1)
      self.pool = NN::MaxPool2d.new(2, stride: 2)
      self.fc = NN::Linear.new(32 * 16 * 16, 1024)
    end

    def call(x)
      x = pool.call(NN.relu(conv1.call(x)))
      x = pool.call(NN.relu(conv2.call(x)))
      fc.call(MX.reshape(x, [x.shape[0], 32 * 16 * 16]))
    end
  end
end

MLXBench.run("cnn", "2x (Conv2d k3 + ReLU + MaxPool2d) + Linear(8192->1024) on NHWC [B,64,64,3]") do |cfg, compiled|
  mx = MLXBench::MX
  model = MLXBench::Cnn.new
  x = MLXBench.uniform([cfg.batch, 64, 64, 3])
  mx.eval(x, model.parameters)
  forward = ->(v) { model.call(v) }
  forward = mx.compile(forward) if compiled
  lambda do
    out = forward.call(x)
    mx.eval(out)
    out
  end
end
