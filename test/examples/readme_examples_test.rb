# frozen_string_literal: true

require "test_helper"
require "open3"
require "rbconfig"

# The README's plain-Ruby examples (copied verbatim into examples/readme/)
# run as scripts in a subprocess: they must exit 0 and print finite losses.
class ReadmeExamplesTest < Minitest::Test
  ROOT = File.expand_path("../..", __dir__)
  EXAMPLES = File.join(ROOT, "examples", "readme")
  FLOAT = /[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf(?:inity)?)/i

  # -I for the native extension this process loaded (a tagged build when
  # run through rake with MLX_BUILD_TAG), then the checkout's lib.
  def load_path_flags
    native = $LOADED_FEATURES.find { |f| f.match?(%r{/mlx/native\.[^/]+\z}) }
    dirs = [native && File.dirname(native, 2), File.join(ROOT, "lib")].compact.uniq
    dirs.map { |d| "-I#{d}" }
  end

  def run_example(name, seed: nil)
    path = File.join(EXAMPLES, "#{name}.rb")
    cmd = [RbConfig.ruby, *load_path_flags]
    cmd += seed.nil? ? [path] : ["-e", "require 'mlx'; MLX::Core.random_seed(#{seed}); load ARGV[0]", path]
    out, err, status = Open3.capture3(*cmd, chdir: ROOT)
    assert status.success?, "#{name} exited with #{status.exitstatus}:\n#{out}\n#{err}"
    out
  end

  def assert_finite_loss(value, msg)
    refute value.nan?, msg
    refute value.infinite?, msg
  end

  def test_quickstart_arrays
    out = run_example("quickstart_arrays")
    values = out.scan(FLOAT).map(&:to_f)
    assert_equal 3, values.size, out
    [Math.sqrt(2), Math.sqrt(3), 2.0].zip(values).each { |w, g| assert_in_delta w, g, 1e-6 }
  end

  def test_linear_regressor
    out = run_example("linear_regressor")
    losses = out.scan(/step=(\d+) loss=(#{FLOAT})/o)
    assert_equal (0..4).map(&:to_s), losses.map(&:first), out
    losses.each { |_s, l| assert_finite_loss(l.to_f, out) }
  end

  # With a fixed seed the run is reproducible and the loss falls.
  def test_linear_regressor_loss_falls
    out = run_example("linear_regressor", seed: 42)
    losses = out.scan(/step=\d+ loss=(#{FLOAT})/o).flatten.map(&:to_f)
    assert_equal 5, losses.size, out
    losses.each_cons(2) { |a, b| assert_operator b, :<, a, out }
  end

  def test_small_cnn
    out = run_example("small_cnn")
    loss = out[/cnn_loss=(#{FLOAT})/o, 1]
    refute_nil loss, out
    assert_finite_loss(loss.to_f, out)
    # Ten classes, near-uniform logits at initialisation: about ln(10).
    assert_in_delta Math.log(10), loss.to_f, 0.5
  end

  def test_nano_gpt
    out = run_example("nano_gpt")
    loss = out[/nanogpt_loss=(#{FLOAT})/o, 1]
    refute_nil loss, out
    assert_finite_loss(loss.to_f, out)
    assert_in_delta Math.log(65), loss.to_f, 1.0
  end
end
