# frozen_string_literal: true

# The README's examples (examples/readme/, as test/examples runs them on the
# CPU) with MLX_DEFAULT_DEVICE=gpu: each script runs in a subprocess with a
# fixed seed, once on the CPU and once on the GPU, and must exit 0 and print
# the same numbers within float32 tolerance (random initialisation is
# bit-identical on both devices; products and sums add in another order).
# Needs a build with MLX_CUDA=1 and a GPU (test/gpu/run.sh); skips
# otherwise.
require "minitest/autorun"
require "open3"
require "rbconfig"
require "mlx"
require_relative "gpu_compare"

unless GPUCompare.runnable?
  class GPUReadmeTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUReadmeTest < Minitest::Test
  include GPUCompare

  ROOT = File.expand_path("../..", __dir__)
  EXAMPLES = File.join(ROOT, "examples", "readme")
  FLOAT = /[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf(?:inity)?)/i
  COUNTS = Hash.new(0)

  # -I for the native extension this process loaded (the CUDA build under
  # run.sh), then the checkout's lib.
  def load_path_flags
    native = $LOADED_FEATURES.find { |f| f.match?(%r{/mlx/native\.[^/]+\z}) }
    dirs = [native && File.dirname(native, 2), File.join(ROOT, "lib")].compact.uniq
    dirs.map { |d| "-I#{d}" }
  end

  # The numbers an example prints, run on device (:cpu or :gpu) with Ruby's and
  # MLX's random seeds set to 7.
  def numbers(name, device)
    path = File.join(EXAMPLES, "#{name}.rb")
    env = { "MLX_DEFAULT_DEVICE" => device.to_s }
    cmd = [RbConfig.ruby, *load_path_flags, "-e", "require 'mlx'; srand(7); MLX::Core.random_seed(7); load ARGV[0]", path]
    out, err, status = Open3.capture3(env, *cmd, chdir: ROOT)
    assert status.success?, "#{name} on #{device} exited with #{status.exitstatus}:\n#{out}\n#{err}"
    out.scan(FLOAT).map(&:to_f)
  end

  def assert_same_run(name, tol)
    cpu = numbers(name, :cpu)
    gpu = numbers(name, GPU)
    refute_empty cpu, "#{name} printed no numbers"
    assert_equal cpu.size, gpu.size, "#{name}: cpu printed #{cpu}, gpu #{gpu}"
    cpu.zip(gpu).each_with_index do |(c, g), i|
      refute g.nan? || g.infinite?, "#{name} on gpu: number #{i} is #{g}"
      assert close?(c, g, tol), "#{name}: number #{i}: cpu #{c} gpu #{g}"
    end
    COUNTS[:ok] += 1
  end

  def test_quickstart_arrays = assert_same_run("quickstart_arrays", 1e-6)

  def test_linear_regressor = assert_same_run("linear_regressor", 1e-4)

  def test_small_cnn = assert_same_run("small_cnn", 1e-4)

  def test_nano_gpt = assert_same_run("nano_gpt", 1e-4)
end
