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
    assert_raises(MLX::FileError) { MX.load(path("x.npz")) }
    assert_raises(ArgumentError) { MX.load(path("x.npz"), return_metadata: true) }
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

  FILES = File.join(MLXTestHelper::FIXTURES, "files")
  CORRUPT = File.join(MLXTestHelper::FIXTURES, "corrupt")

  def expected_files = JSON.parse(File.read(File.join(FILES, "expected.json")))

  def assert_meta(want, got, label)
    assert_equal want.keys.sort, got.keys.sort, label
    want.each do |k, v|
      if v.is_a?(Hash) && v.key?("array")
        assert_array_matches(v["array"], got[k], "#{label} #{k}", exact: true)
      else
        assert_equal v, got[k], "#{label} #{k}"
      end
    end
  end

  # Every file written by NumPy / Python MLX (or built by hand) loads to
  # exactly what Python MLX's mx.load returned for it.
  def test_files_from_python_match_mlx
    expected_files.each do |name, want|
      file = File.join(FILES, name)
      if name.end_with?(".npy")
        assert_array_matches(want["arrays"][""], MX.load(file), name, exact: true)
        next
      end
      with_meta = name.end_with?(".gguf", ".safetensors")
      arrays, meta = with_meta ? MX.load(file, return_metadata: true) : [MX.load(file), nil]
      assert_equal want["arrays"].keys.sort, arrays.keys.sort, name
      want["arrays"].each { |k, enc| assert_array_matches(enc, arrays[k], "#{name} #{k}", exact: true) }
      assert_meta(want["metadata"], meta, name) if with_meta
    end
  end

  def test_every_corrupt_file_raises_an_mlx_error
    files = Dir.children(CORRUPT).reject { |f| f.end_with?(".mlxfn") }.sort # .mlxfn: export_test.rb
    assert_operator files.size, :>=, 70
    files.each do |name|
      err = assert_raises(MLX::Error, name) { MX.load(File.join(CORRUPT, name)) }
      assert_kind_of MLX::FileError, err, "#{name}: #{err.class} #{err.message}"
    end
  end

  def test_savez_round_trip_and_names
    a = MX.array([[1, 2], [3, 4]], :int16)
    MX.savez(path("z"), a, MX.arange(3), w: MX.array([0.5], :bfloat16), "s" => 7)
    assert File.exist?(path("z.npz"))
    got = MX.load(path("z.npz"))
    assert_equal %w[arr_0 arr_1 s w], got.keys.sort
    assert_equal [[1, 2], [3, 4]], got["arr_0"].to_a
    assert_equal MX.int16, got["arr_0"].dtype
    assert_equal MX.bfloat16, got["w"].dtype
    assert_equal 7, got["s"].item
    assert_equal [], got["s"].shape
    err = assert_raises(ArgumentError) { MX.savez(path("c"), a, arr_0: a) }
    assert_kind_of MLX::Error, err
    refute File.exist?(path("c.npz"))
  end

  def test_savez_compressed_of_views_and_empty
    big = MX.tile(MX.arange(10, dtype: :float32), [100]).reshape(50, 20).T[2..5]
    MX.savez_compressed(path("c.npz"), big: big, e: MX.zeros([0, 3]), c: MX.array([1, 2], :complex64))
    assert_operator File.size(path("c.npz")), :<, 2000
    got = MX.load(path("c.npz"))
    assert_equal big.to_a, got["big"].to_a
    assert_equal [0, 3], got["e"].shape
    assert_equal MX.complex64, got["c"].dtype
  end

  # Files of ours, read by NumPy and Python MLX once: write_ours wrote
  # test/fixtures/files/ours*, generate_files.py loaded them with np.load /
  # mx.load into expected.json (test_files_from_python_match_mlx checks
  # that). Our writers are deterministic, so writing them again must give
  # the same bytes.
  def self.write_ours(dir)
    a = MX.array([[1, 2, 3], [4, 5, 6]], :int32)
    MX.savez(File.join(dir, "ours.npz"), a, t: a.T, h: MX.array([0.5, -1], :float16), b: MX.array([true, false]),
                                            s: MX.array(2.5, :float64), bf: MX.array([1.5], :bfloat16))
    MX.savez_compressed(File.join(dir, "ours_compressed.npz"), x: MX.arange(200, dtype: :float32).reshape(10, 20),
                                                                c: MX.array([1, 2], :complex64))
    MX.save_gguf(File.join(dir, "ours.gguf"), { "w" => a.T.astype(:float32), "h" => MX.array([1, 2], :float16),
                                                "i" => MX.array([-3], :int8) },
                 { "name" => "ours", "list" => %w[x yz], "n" => MX.array(7, :uint32), "v" => MX.array([1.5, 2], :float32) })
    MX.save_safetensors(File.join(dir, "ours.safetensors"), { "a" => a, "t" => a.T }, { "k" => "v" })
  end

  def test_our_files_are_the_ones_python_read
    IOTest.write_ours(@dir)
    %w[ours.npz ours_compressed.npz ours.gguf ours.safetensors].each do |name|
      assert_equal File.binread(File.join(FILES, name)), File.binread(path(name)), name
    end
  end

  def test_npz_layout
    MX.savez(path("l.npz"), x: MX.array([1.0, 2.0]))
    data = File.binread(path("l.npz"))
    assert_equal "PK\x03\x04".b, data[0, 4]
    assert_includes data, "x.npy"
    assert_equal "PK\x05\x06".b, data[-22, 4]
  end

  def test_gguf_round_trip_with_metadata
    arrays = { "f" => MX.array([[1.5, 2.5, -3.0]]), "h" => MX.array([1, 2], :float16), "i" => MX.array([7, -8], :int8),
               "s" => MX.array(3.25), "v" => MX.arange(6, dtype: :int32).reshape(2, 3).T }
    meta = { "name" => "tiny", "sym" => :val, "tokens" => ["a", "", "c\u00e9"], "n" => MX.array(3, :int64),
             "v" => MX.array([1, 2], :uint8), "flag" => MX.array(true), "fl" => MX.array([0.5]) }
    MX.save_gguf(path("g"), arrays, meta)
    loaded, got = MX.load(path("g.gguf"), return_metadata: true)
    assert_equal arrays.keys.sort, loaded.keys.sort
    arrays.each do |k, v|
      assert_equal v.to_a, loaded[k].to_a, k
      assert_equal v.dtype, loaded[k].dtype, k
    end
    assert_equal "tiny", got["name"]
    assert_equal "val", got["sym"]
    assert_equal ["a", "", "c\u00e9"], got["tokens"]
    assert_equal 3, got["n"].item
    assert_equal MX.int64, got["n"].dtype
    assert_equal [1, 2], got["v"].to_a
    assert_equal true, got["flag"].item
    assert_equal [0.5], got["fl"].to_a
    assert_equal %w[f h i s v], MX.load(path("g.gguf")).keys.sort
  end

  def test_gguf_errors
    assert_raises(MLX::Error) { MX.save_gguf(path("e"), { "b" => MX.array([1], :int64) }) }
    assert_raises(MLX::Error) { MX.save_gguf(path("e"), { "b" => MX.array([1.0], :bfloat16) }) }
    assert_raises(ArgumentError) { MX.save_gguf(path("e"), {}, { "m" => MX.zeros([2, 2]) }) }
    assert_raises(ArgumentError) { MX.save_gguf(path("e"), {}, { "m" => MX.array([], :int32) }) }
    assert_raises(ArgumentError) { MX.save_gguf(path("e"), {}, { "m" => MX.array([1.0], :float16) }) }
    assert_raises(ArgumentError) { MX.save_gguf(path("e"), {}, { "m" => nil }) }
    assert_raises(TypeError) { MX.save_gguf(path("e"), {}, { "m" => ["a", 1] }) }
    assert_raises(TypeError) { MX.save_gguf(path("e"), [MX.zeros([1])]) }
    refute File.exist?(path("e.gguf"))
  end
end
