# rnn benchmark: NN::RNN(D, 2D) (tanh) on [B,S,D] -> [B,S,2D]; eval. Ruby vs
# Python MLX (rnn_mlx.py) vs PyTorch (rnn_torch.py), plain and compiled;
# see harness.rb for the environment.
#   ruby -Ilib bench/models/rnn.rb
require_relative "harness"

MLXBench.run("rnn", "RNN(D, 2D) tanh over [B,S,D]") do |cfg, compiled|
  mx = MLXBench::MX
  model = MLXBench::NN::RNN.new(cfg.dims, 2 * cfg.dims)
  x = MLXBench.uniform([cfg.batch, cfg.seq, cfg.dims])
  mx.eval(x, model.parameters)
  forward = ->(v) { model.call(v) }
  forward = mx.compile(forward) if compiled
  lambda do
    out = forward.call(x)
    mx.eval(out)
    out
  end
end
