# frozen_string_literal: true

# The GPU allocator's statistics and limits (cuda/backend.c through
# mlx_gpu_memory_stats and the memory API): an evaluated GPU array is
# counted in its device's active bytes and returns to the device cache
# when freed; clear_cache empties that cache, set_cache_limit bounds it,
# set_memory_limit makes a GPU allocation past it a MemoryError (and the
# GPU usable again once lifted); device_info lists the figures; an index
# past the last GPU is an ArgumentError. Needs a build with MLX_CUDA=1
# and a GPU (test/gpu/run.sh); skips otherwise.
require "minitest/autorun"
require "mlx"

class GPUMemoryTest < Minitest::Test
  MX = MLX::Core

  def setup
    skip "no GPU: #{MX.gpu_unavailable_reason}" unless MX.gpu_is_available
  end

  def stats = MLX::Native.gpu_memory_stats(0)

  def test_active_cache_and_clear
    MX.clear_cache
    active0, = stats
    n = 1 << 22 # 16 MiB of float32
    a = MX.add(MX.ones([n], stream: :gpu), 1, stream: :gpu)
    MX.eval(a)
    active1, peak1, = stats
    assert_operator active1 - active0, :>=, 4 * n
    assert_operator peak1, :>=, active1
    info = MX.device_info(MX.gpu)
    assert_equal active1, info["active_memory"]
    assert_operator info["memory_size"], :>=, 4 * n
    a = nil
    GC.start
    active2, _, cache2 = stats
    assert_operator active2, :<=, active1 - 4 * n
    assert_operator cache2, :>=, 4 * n
    assert_operator MX.get_cache_memory, :>=, cache2
    MX.clear_cache
    assert_equal 0, stats[2]
    MX.reset_peak_memory
    assert_equal stats[0], stats[1]
  end

  def test_cache_limit
    prev = MX.set_cache_limit(0)
    begin
      a = MX.multiply(MX.ones([1 << 20], stream: :gpu), 3, stream: :gpu)
      MX.eval(a)
      a = nil
      GC.start
      assert_equal 0, stats[2]
    ensure
      MX.set_cache_limit(prev)
    end
  end

  def test_memory_limit
    MX.clear_cache
    prev = MX.set_memory_limit(stats[0] + (1 << 20))
    begin
      err = assert_raises(MLX::MemoryError) { MX.eval(MX.add(MX.ones([1 << 22], stream: :gpu), 1, stream: :gpu)) }
      assert_includes err.message, "memory limit"
    ensure
      MX.set_memory_limit(prev)
    end
    b = MX.add(MX.ones([1 << 22], stream: :gpu), 1, stream: :gpu)
    assert_equal 2.0, MX.max(b, stream: :gpu).item
  end

  # A GPU buffer holds no host memory, so nothing is reported to Ruby's
  # GC (eval collects dead GPU wrappers as the GPU's memory grows).
  def test_gpu_arrays_report_no_host_bytes
    a = MX.add(MX.ones([1 << 16], stream: :gpu), 1, stream: :gpu)
    MX.eval(a)
    assert_operator a.buffer_nbytes, :>=, 4 << 16
    assert_equal 0, a.reported_bytes
    c = MX.ones([1 << 16], stream: :cpu)
    MX.eval(c)
    assert_operator c.reported_bytes, :>=, 4 << 16
  end

  # A training-like loop whose GPU arrays live a few steps (long enough
  # for their wrappers to grow old) and then die: they are collected as
  # the GPU's memory grows, not left to Ruby's own heuristics.
  def test_dead_gpu_arrays_are_collected
    MX.clear_cache
    base = stats[0]
    history = []
    state = Array.new(4) { MX.zeros([1 << 22], stream: :gpu) } # 16 MiB each
    200.times do
      state = state.map { |x| MX.add(x, 1, stream: :gpu) }
      junk = Array.new(130) { |i| MX.multiply(state[i % 4], 2, stream: :gpu) } # wrappers, as a step makes
      MX.eval(*state)
      junk.clear
      history.push(state)
      history.shift if history.size > 5
    end
    assert_equal 200.0, MX.max(state[0], stream: :gpu).item
    # 200 steps make 12.5 GiB of arrays; far less stays active.
    assert_operator stats[0] - base, :<, 2048 << 20
  end

  # A long chain built in Ruby and evaluated once: its dead intermediate
  # wrappers are collected before the evaluation (more than 1024 arrays
  # wrapped), so its buffers are freed as it runs.
  def test_long_chain_frees_intermediates
    MX.clear_cache
    GC.start
    x = MX.zeros([1 << 18], stream: :gpu) # 1 MiB
    MX.eval(x)
    MX.reset_peak_memory
    base = stats[0]
    y = x
    1200.times { y = MX.add(MX.multiply(y, 0.5, stream: :gpu), 1, stream: :gpu) }
    MX.eval(y)
    assert_in_delta 2.0, MX.max(y, stream: :gpu).item, 1e-6
    assert_operator stats[1] - base, :<, 256 << 20 # not 2400 MiB
  end

  def test_bad_index
    assert_raises(ArgumentError) { MLX::Native.gpu_memory_stats(99) }
  end
end
