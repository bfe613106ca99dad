# frozen_string_literal: true

require "test_helper"
require "objspace"

# Allocator statistics and limits, and the bytes each array reports to
# Ruby's GC (rb_gc_adjust_memory_usage): reported once evaluated, undone
# when the array is collected.
class MemoryTest < Minitest::Test
  def test_statistics
    MX.reset_peak_memory
    a = MX.ones([1 << 16])
    MX.eval(a)
    assert_operator MX.get_active_memory, :>=, 4 << 16
    assert_operator MX.get_peak_memory, :>=, MX.get_active_memory
    assert_kind_of Integer, MX.get_cache_memory
    MX.clear_cache
    assert_equal 0, MX.get_cache_memory
    assert_equal 0, MX.set_wired_limit(1 << 20)
  end

  def test_limits
    prev = MX.set_cache_limit(1 << 20)
    assert_kind_of Integer, prev
    assert_equal 1 << 20, MX.set_cache_limit(prev)
    prev = MX.set_memory_limit(1 << 20)
    begin
      err = assert_raises(MLX::MemoryError) { MX.eval(MX.ones([1 << 22])) }
      assert_kind_of MLX::Error, err
    ensure
      MX.set_memory_limit(prev)
    end
    assert_raises(ArgumentError) { MX.set_memory_limit(-1) }
  end

  def test_reported_bytes
    a = MX.ones([1000])
    assert_equal 0, a.reported_bytes unless a.evaluated?
    MX.eval(a)
    assert_operator a.reported_bytes, :>=, 4000
    assert_equal a.buffer_nbytes, a.reported_bytes
    b = MX.array([1.0, 2.0])
    assert_operator b.reported_bytes, :>=, 8
    assert_operator ObjectSpace.memsize_of(a), :>=, 4000 if defined?(ObjectSpace.memsize_of)
  end

  def test_gc_collects_big_arrays
    GC.start
    base = MX.get_active_memory
    20.times { MX.eval(MX.ones([1 << 18]) + 1) }
    GC.start
    MX.clear_cache
    assert_operator MX.get_active_memory, :<=, base + (4 << 18)
  end

  # Without a usable GPU its allocator's statistics are a DeviceError with
  # the reason; device_info says why instead of listing memory.
  def test_gpu_memory_stats_without_gpu
    skip "a GPU is usable here (test/gpu/memory_gpu.rb covers it)" if MX.gpu_is_available
    err = assert_raises(MLX::DeviceError) { MLX::Native.gpu_memory_stats(0) }
    assert_includes err.message, "the gpu is not available"
    info = MX.device_info(MX.gpu)
    refute info.key?("active_memory")
    assert_equal MX.gpu_unavailable_reason, info["unavailable_reason"]
  end

  def test_malloc_increase_reported
    GC.start
    GC.disable # a collection in between would reset the counter
    before = GC.stat(:malloc_increase_bytes)
    keep = Array.new(4) { MX.eval(x = MX.ones([1 << 18])); x }
    after = GC.stat(:malloc_increase_bytes)
    GC.enable
    assert_operator after - before, :>=, 4 * (4 << 18) / 2
    keep.clear
  end
end
