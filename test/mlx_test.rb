# frozen_string_literal: true

require "test_helper"
require "open3"
require "rbconfig"

# lib/mlx.rb: loading, version, the README's first example run as written.
class MLXTest < Minitest::Test
  LIB = File.expand_path("../lib", __dir__)

  def run_ruby(code, env = {})
    Open3.capture3(env, RbConfig.ruby, "-I#{LIB}", "-e", code)
  end

  def test_version
    assert_equal "0.1.0", MLX::VERSION
    assert MLX.native_available?
  end

  def test_readme_verify_installation
    out, err, status = run_ruby('require "mlx"; puts MLX::VERSION; puts "native=#{MLX.native_available?}"')
    assert status.success?, err
    assert_equal "#{MLX::VERSION}\nnative=true\n", out
  end

  def test_readme_arrays_and_lazy_execution
    code = <<~RUBY
      require "mlx"

      mx = MLX::Core
      x = mx.array([1.0, 2.0, 3.0], mx.float32)
      y = mx.sqrt(x + 1.0)

      mx.eval(y)         # force materialization
      p y.to_a           # => [1.414..., 1.732..., 2.0]
    RUBY
    out, err, status = run_ruby(code)
    assert status.success?, err
    assert_match(/\A\[1\.4142135\d*, 1\.7320507\d*, 2\.0\]\n\z/, out)
  end

  # The README's "Training a model" block, as written, then its loss.
  def test_readme_training_a_model
    readme = File.read(File.expand_path("../README.md", __dir__))
    block = readme[/## Training a model.*?```ruby\n(.*?)```/m, 1]
    refute_nil block, "README has a Training a model example"
    code = block + "p MLX::NN.mse_loss(model.call(x), y).item\n"
    out, err, status = run_ruby(code)
    assert status.success?, err
    assert_operator Float(out), :<, 0.05
  end

  def test_require_with_gpu_requested
    %w[gpu metal GPU cpu bogus].each do |dev|
      out, err, status = run_ruby('require "mlx"; p MLX::Core.default_device.type', { "DEVICE" => dev })
      assert status.success?, "DEVICE=#{dev}: #{err}"
      expected = %w[gpu metal GPU].include?(dev) && MX.is_available(:gpu) ? ":gpu" : ":cpu"
      assert_equal "#{expected}\n", out
    end
    out, err, status = run_ruby('require "mlx"; p MLX::Core.default_device.type',
                                { "MLX_DEFAULT_DEVICE" => "cpu", "DEVICE" => "gpu" })
    assert status.success?, err
    assert_equal ":cpu\n", out
  end
end
