# frozen_string_literal: true

require "test_helper"

# Every layer's forward output and parameter gradients against Python MLX
# for the same weights (test/fixtures/nn_layers.json, loaded with
# load_weights) and inputs. Tolerance: float32's (rtol 2e-5, atol 1e-6),
# loosened to 1e-4 for the recurrent and attention stacks whose sums run
# in a different order. "Layer.new(...)#name" calls #name instead of #call;
# a case's "kwargs" are keyword arguments of the call. QQLinear cases
# ("emulated") compare with quantize-dequantize-matmul in Python, which has
# no CPU qqmm.
class LayersOracleTest < Minitest::Test
  FIX = MLXTestHelper.fixture("nn_layers")
  LOOSE = [1e-4, 1e-5].freeze

  FIX["cases"].each_with_index do |c, i|
    define_method("test_layer_#{i}_#{c['expr'][/\A\w+/]}") do
      expr, method = c["expr"].split("#")
      layer = MLX::NN.module_eval(expr, __FILE__, __LINE__)
      layer.load_weights(c["params"].map { |k, v| [k, decode_arg(FIX, v)] })
      inputs = c["inputs"].map { |a| a.nil? ? nil : decode_arg(FIX, a) }
      kwargs = (c["kwargs"] || {}).to_h { |k, v| [k.to_sym, decode_arg(FIX, v)] }
      tol = c["expr"] =~ /RNN|GRU|LSTM|Attention|Transformer/ ? LOOSE : nil
      fn = layer.method(method || :call)
      out = fn.call(*inputs, **kwargs)
      if out.is_a?(::Array)
        out.each_with_index { |o, j| assert_array_matches(resolve(FIX, c["out"][j]), o, "#{c['expr']} out #{j}", tol: tol) }
      else
        assert_array_matches(resolve(FIX, c["out"]), out, "#{c['expr']} out", tol: tol)
      end
      next if c["grads"].empty?

      cot = decode_arg(FIX, c["cot"])
      loss = lambda do |*args|
        o = fn.call(*args, **kwargs)
        o = o[0] if o.is_a?(::Array)
        MX.sum(MX.multiply(o, cot))
      end
      _, grads = MLX::NN.value_and_grad(layer, loss).call(*inputs)
      flat = MLX::Utils.tree_flatten(grads).to_h
      assert_equal c["grads"].keys.sort, flat.keys.sort, c["expr"]
      c["grads"].each { |k, want| assert_array_matches(resolve(FIX, want), flat[k], "#{c['expr']} grad #{k}", tol: tol) }
    end
  end
end
