# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# save/load of .npy and .safetensors (with metadata), format dispatch, and
# bad files as MLX::FileError.
class IOTest < Minitest::Test
  def setup
    @dir = Dir.mktmpdir("mlx-io")
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def path(name) = File.join(@dir, name)

  def test_npy_round_trip_across_dtypes
    %i[bool_ uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 bfloat16 float32 float64 complex64].each do |t|
      a = MX.array([[1, 0, 3], [4, 5, 1]], t)
      file = path("a_#{t}.npy")
      MX.save(file, a)
      b = MX.load(file)
      assert_equal t == :bool_ ? MX.bool_ : MX::Dtype.new(t), b.dtype, t.to_s
      assert_equal a.to_a, b.to_a, t.to_s
    end
  end

  def test_npy_extension_appended_and_pathname
    a = MX.arange(5)
    MX.save(path("plain"), a)
    assert File.exist?(path("plain.npy"))
    require "pathname"
    assert_equal [0, 1, 2, 3, 4], MX.load(Pathname.new(path("plain.npy"))).to_a
  end

  def test_npy_of_views_and_lazy_arrays
    a = MX.arange(12).reshape(3, 4).T[1..]
    MX.save(path("v.npy"), a)
    assert_equal a.to_a, MX.load(path("v.npy")).to_a
  end

  def test_safetensors_round_trip_with_metadata
    arrays = { "w" => MX.array([[1.5, 2.5]]), :b => MX.array([1, 2, 3], :int64), "h" => MX.array([0.5], :bfloat16) }
    MX.save_safetensors(path("m.safetensors"), arrays, { "format" => "mlx", "run" => "exp-42" })
    loaded = MX.load(path("m.safetensors"))
    assert_equal %w[b h w], loaded.keys.sort
    assert_equal [[1.5, 2.5]], loaded["w"].to_a
    assert_equal MX.int64, loaded["b"].dtype
    assert_equal MX.bfloat16, loaded["h"].dtype
    loaded, meta = MX.load(path("m.safetensors"), return_metadata: true)
    assert_equal [1, 2, 3], loaded["b"].to_a
    assert_equal({ "format" => "mlx", "run" => "exp-42" }, meta)
    MX.save_safetensors(path("n"), { "x" => MX.zeros([2]) })
    assert File.exist?(path("n.safetensors"))
    assert_equal({}, MX.load(path("n.safetensors"), nil, true)[1])
  end

  def test_format_dispatch_and_errors
    assert_raises(ArgumentError) { MX.load(path("noext")) }
    assert_raises(ArgumentError) { MX.load(path("x.txt")) }
    assert_raises(ArgumentError) { MX.load(path("x.npy"), return_metadata: true) }
    assert_raises(MLX::UnsupportedError) { MX.load(path("x.npz")) }
    err = assert_raises(MLX::FileError) { MX.load(path("missing.npy")) }
    assert_kind_of IOError, err
    assert_kind_of MLX::Error, err
    File.binwrite(path("bad.npy"), "\x93NUMPY garbage")
    assert_raises(MLX::FileError) { MX.load(path("bad.npy")) }
    File.binwrite(path("bad.safetensors"), "\xff" * 20)
    assert_raises(MLX::FileError) { MX.load(path("bad.safetensors")) }
    assert_raises(TypeError) { MX.save_safetensors(path("t"), [MX.zeros([1])]) }
    assert_raises(TypeError) { MX.save_safetensors(path("t"), { "a" => MX.zeros([1]) }, { "k" => 1 }) }
  end

  def test_load_with_explicit_format
    MX.save(path("f.npy"), MX.array([1.0]))
    File.rename(path("f.npy"), path("f.bin"))
    assert_equal [1.0], MX.load(path("f.bin"), "npy").to_a
  end
end
