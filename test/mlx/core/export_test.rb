# frozen_string_literal: true

require "test_helper"
require "stringio"
require "tmpdir"

# export_to_dot: the DOT text of an un-evaluated graph.
class ExportTest < Minitest::Test
  def test_export_to_dot_to_io
    a = MX.array([1.0, 2.0])
    MX.eval(a)
    b = MX.exp(a) + a
    c = b * 2
    io = StringIO.new
    text = MX.export_to_dot(io, c, b)
    assert_equal text, io.read
    lines = text.lines.map(&:chomp)
    assert_equal "digraph {", lines.first
    assert_equal "}", lines.last
    assert_includes lines, '{ rank=source; "A"; }'
    exp_id = lines.find { |l| l.include?('label ="Exp"') }[/\{ (\d+) /, 1]
    add_id = lines.find { |l| l.include?('label ="Add"') }[/\{ (\d+) /, 1]
    assert_includes lines, "\"A\" -> #{exp_id}"
    assert_includes lines, "\"A\" -> #{add_id}"
    assert_includes lines, '{ rank=sink; "C"; }' # b, an output
    assert_includes lines, "#{add_id} -> \"C\""
    assert_includes lines, 'label ="Multiply", shape=rectangle]; }'.then { |s| lines.find { |l| l.end_with?(s) } }
    assert_match(/rank=sink; "[A-Z]+"; \}/, text)
    # Nothing was evaluated, and the graph still computes.
    assert_equal [(Math.exp(1) + 1) * 2, (Math.exp(2) + 2) * 2].map { |v| v.round(4) }, c.to_a.map { |v| v.round(4) }
  end

  def test_export_to_dot_to_path_and_trees
    Dir.mktmpdir do |dir|
      x = MX.array([1, 2]) + 1
      y = MX.split(MX.arange(4) * 3, 2)
      file = File.join(dir, "g.dot")
      assert_nil MX.export_to_dot(file, { "x" => x, "ys" => y })
      text = File.read(file)
      assert text.start_with?("digraph {\n")
      assert_equal 1, text.scan(/label ="Split"|label ="Slice"/).size.clamp(0, 1)
      assert_equal [], Dir.children(dir) - ["g.dot"]
    end
  end

  def test_export_to_dot_errors
    assert_raises(ArgumentError) { MX.export_to_dot(StringIO.new) }
    assert_raises(ArgumentError) { MX.export_to_dot(StringIO.new, [], {}) }
  end

  def test_evaluated_output_is_a_source
    a = MX.array([3])
    text = MX.export_to_dot(StringIO.new, a)
    assert_equal "digraph {\n{ rank=source; \"A\"; }\n}", text
  end

  def with_dir(&block) = Dir.mktmpdir("mlx-export", &block)

  def test_export_import_round_trip_with_keywords
    with_dir do |dir|
      k = MX.array([10.0])
      fun = ->(x, y, z:) { [MX.exp(x) * y + z + k, MX.sum(x)] }
      x = MX.array([0.0, 1.0, 2.0])
      y = MX.array([1.0, 2.0, 3.0])
      z = MX.array([0.5, 0.25, 0.0])
      file = File.join(dir, "f")
      assert_nil MX.export_function(file, fun, x, y, { "z" => z })
      assert File.exist?("#{file}.mlxfn")
      f = MX.import_function("#{file}.mlxfn")
      assert_kind_of MLX::Core::Function, f
      out, s = f.call(x, y, { "z" => z })
      want = fun.call(x, y, z: z)[0]
      assert MX.allclose(out, want)
      assert_equal 3.0, s.item
      out2, = f.call(x, y, z: z)
      assert MX.allclose(out2, want)
      err = assert_raises(ArgumentError) { f.call(x, y) }
      assert_kind_of MLX::Error, err
      assert_raises(ArgumentError) { f.call(MX.array([1.0, 2.0]), y, { "z" => z }) }
      assert_raises(ArgumentError) { MX.export_function(file, fun) }
    end
  end

  def test_export_array_list_single_output_and_shapeless
    with_dir do |dir|
      fun = ->(a, b) { (a * b) + 1 }
      file = File.join(dir, "g.mlxfn")
      MX.export_function(file, fun, [MX.array([1, 2]), MX.array([3, 4])], true)
      f = MX.import_function(file)
      assert_equal [4, 9], f.call(MX.array([1, 2]), MX.array([3, 4])).to_a
      # shapeless: other shapes with the same dtypes and ranks replay
      assert_equal [3, 5, 7], f.call(MX.array([1, 2, 3]), MX.array([2, 2, 2])).to_a
      assert_raises(ArgumentError) { f.call(MX.array([1.0, 2.0]), MX.array([3.0, 4.0])) }
    end
  end

  def test_exporter_with_several_traces
    with_dir do |dir|
      fun = ->(x, scale: nil) { scale ? x * scale : MX.square(x) }
      file = File.join(dir, "e.mlxfn")
      ex = MX.exporter(file, fun)
      assert_kind_of MLX::Core::FunctionExporter, ex
      ex.call(MX.array([1.0, 2.0]))
      ex[MX.array([[3]]), { "scale" => MX.array(2) }]
      ex.close
      assert_raises(MLX::Error) { ex.call(MX.array([1.0])) }
      f = MX.import_function(file)
      assert_equal [4.0, 9.0], f.call(MX.array([2.0, 3.0])).to_a
      assert_equal [[10]], f.call(MX.array([[5]]), scale: MX.array(2)).to_a
    end
  end

  def test_custom_function_cannot_be_exported
    with_dir do |dir|
      cf = MX::CustomFunction.new(->(x) { MX.exp(x) })
      cf.vjp { |_primals, cotangents, _outputs| cotangents }
      err = assert_raises(MLX::Error) { MX.export_function(File.join(dir, "c"), cf, MX.array([1.0])) }
      assert_match(/cannot be exported/, err.message)
      refute File.exist?(File.join(dir, "c.mlxfn"))
    end
  end

  def test_exception_in_fun_propagates
    with_dir do |dir|
      assert_raises(ZeroDivisionError) { MX.export_function(File.join(dir, "z"), ->(_x) { 1 / 0 }, MX.array([1])) }
    end
  end

  # Writes test/fixtures/files/ours.mlxfn and its corrupted copies in
  # test/fixtures/corrupt/ (run once:
  #   ruby -Ilib -Itest -e 'require "./test/mlx/core/export_test"; ExportTest.write_fixtures; exit!'
  # ); the truncations and flips of every byte are also checked by
  # engine/tests/test_export.c.
  def self.write_fixtures
    files = File.join(MLXTestHelper::FIXTURES, "files")
    corrupt = File.join(MLXTestHelper::FIXTURES, "corrupt")
    k = MX.array([[1.0, 2.0]])
    MX.export_function(File.join(files, "ours.mlxfn"), ->(x, y:) { MX.split(MX.exp(x) * y + k, 2, 1) },
                       MX.array([[0.5, 1.5]]), { "y" => MX.array([2.0]) })
    data = File.binread(File.join(files, "ours.mlxfn"))
    [0, 5, 8, 12, 20, data.size / 3, data.size / 2, data.size - 1].each do |cut|
      File.binwrite(File.join(corrupt, "ours.trunc#{cut}.mlxfn"), data[0, cut])
    end
    File.binwrite(File.join(corrupt, "ours.badmagic.mlxfn"), "MLXFX" + data[5..])
    File.binwrite(File.join(corrupt, "ours.badprim.mlxfn"), data.sub("multiply", "multiplx"))
    File.binwrite(File.join(corrupt, "ours.trailing.mlxfn"), data + "\0")
    bad = data.dup
    bad[8, 4] = [2].pack("V") # version
    File.binwrite(File.join(corrupt, "ours.badversion.mlxfn"), bad)
    bad = data.dup
    bad[16, 4] = [0xFFFFFFF].pack("V") # trace count
    File.binwrite(File.join(corrupt, "ours.hugecount.mlxfn"), bad)
  end

  def test_fixture_mlxfn_imports_and_runs
    f = MX.import_function(File.join(MLXTestHelper::FIXTURES, "files", "ours.mlxfn"))
    a, b = f.call(MX.array([[0.5, 1.5]]), y: MX.array([2.0]))
    assert_in_delta Math.exp(0.5) * 2 + 1, a.to_a[0][0], 1e-5
    assert_in_delta Math.exp(1.5) * 2 + 2, b.to_a[0][0], 1e-5
  end

  def test_corrupt_mlxfn_files_raise_file_errors
    dir = File.join(MLXTestHelper::FIXTURES, "corrupt")
    files = Dir.glob(File.join(dir, "*.mlxfn"))
    assert_operator files.size, :>=, 5
    files.each do |f|
      assert_raises(MLX::FileError, File.basename(f)) { MX.import_function(f) }
    end
  end
end
