# frozen_string_literal: true

require "test_helper"

# Array#[] (basic indexing), against Python MLX's x[...] results
# (test/fixtures/indexing.json) and hand-written cases.
class IndexingTest < Minitest::Test
  FIX = MLXTestHelper.fixture("indexing")

  # Python index specs to Ruby indices: slice(a, b, c) -> a...b (or a
  # stepped range), None -> nil, Ellipsis -> :ellipsis. Ruby's (nil..nil) % s
  # is a plain Enumerator, not an ArithmeticSequence, so a fully open
  # stepped slice is written from the first element of its direction.
  def ruby_index(spec)
    case spec[0]
    when "int" then spec[1]
    when "none" then nil
    when "ellipsis" then :ellipsis
    else
      _, b, e, s = spec
      return Range.new(b, e, true) if s.nil? || s == 1

      b = s.positive? ? 0 : -1 if b.nil? && e.nil?
      Range.new(b, e, true) % s
    end
  end

  def test_oracle_basic_indexing
    FIX["cases"].each_with_index do |c, i|
      x = decode_arg(FIX, c["args"][0])
      idx = c["args"][1].map { |s| ruby_index(s) }
      assert_case(FIX, c, "index case #{i} #{c['args'][1].inspect}", exact: true) { x[*idx] }
    end
  end

  def setup
    @a = MX.arange(24).reshape(2, 3, 4)
  end

  def test_integer
    assert_equal [[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]], @a[1].to_a
    assert_equal [20, 21, 22, 23], @a[-1, -1].to_a
    assert_equal 23, @a[1, 2, 3].item
    assert_equal [], @a[1, 2, 3].shape
  end

  def test_out_of_range
    err = assert_raises(IndexError) { @a[2] }
    assert_kind_of MLX::Error, err
    assert_raises(MLX::IndexError) { @a[-3] }
    assert_raises(IndexError) { @a[0, 0, 0, 0] }
    assert_raises(IndexError) { MX.array(1.0)[0] }
  end

  def test_ranges
    b = MX.arange(10)
    assert_equal [2, 3, 4], b[2..4].to_a
    assert_equal [2, 3], b[2...4].to_a
    assert_equal [7, 8, 9], b[7..].to_a
    assert_equal [0, 1, 2], b[..2].to_a
    assert_equal [0, 1], b[...2].to_a
    assert_equal [8, 9], b[-2..].to_a
    assert_equal (0..8).to_a, b[..-2].to_a
    assert_equal (0..9).to_a, b[0..-1].to_a
    assert_equal [0, 3, 6, 9], b[(0..) % 3].to_a
    assert_equal [1, 3, 5], b[(1...7) % 2].to_a
    assert_equal [9, 7, 5, 3, 1], b[(-1..) % -2].to_a
    assert_equal [8, 6, 4, 2, 0], b[(-2..) % -2].to_a
    assert_equal [5, 4, 3, 2, 1, 0], b[(5..0) % -1].to_a
    assert_equal [5, 4, 3], b[(5...2) % -1].to_a
    assert_equal [2, 5, 8], b[2.step(9, 3)].to_a
    assert_equal [], b[20..].to_a
  end

  def test_new_axis_ellipsis_and_all
    assert_equal [1, 2, 3, 4], @a[nil].shape
    assert_equal [2, 1, 3, 4], @a[true, nil].shape
    assert_equal [2, 3], @a[:ellipsis, 0].shape
    assert_equal [2, 3], @a[false, 0].shape
    assert_equal [2, 4], @a[true, 1].shape
    assert_equal [3, 1], @a[0, :ellipsis, 1, nil].shape
    assert_raises(IndexError) { @a[:ellipsis, 0, :ellipsis] }
  end

  def test_views_share_values
    b = @a[1, 1..2, (0..) % 2]
    assert_equal [[16, 18], [20, 22]], b.to_a
    assert_equal [[17, 19], [21, 23]], @a[1, 1..2, (1..) % 2].to_a
  end

  # ---- advanced indexing, scatters and the functions (indexing_ops.json) --

  OPS = MLXTestHelper.fixture("indexing_ops")

  def ops_index(spec)
    case spec[0]
    when "array" then decode_arg(OPS, spec[1])
    when "list" then spec[1]
    else ruby_index(spec)
    end
  end

  def ops_value(v)
    v = resolve(OPS, v)
    v.is_a?(Hash) && v.key?("list") ? v["list"] : decode_arg(OPS, v)
  end

  def replay(op)
    n = 0
    OPS["cases"].each_with_index do |c, i|
      next unless c["op"] == op

      n += 1
      args = c["args"]
      assert_case(OPS, c, "#{op} case #{i} #{args[1].inspect[0, 120]}", exact: true) { yield args }
    end
    assert_operator n, :>, 0
  end

  def test_oracle_getitem
    replay("getitem") do |args|
      decode_arg(OPS, args[0])[*args[1].map { |s| ops_index(s) }]
    end
  end

  def test_oracle_setitem
    replay("setitem") do |args|
      x = decode_arg(OPS, args[0])
      idx = args[1].map { |s| ops_index(s) }
      x[*idx] = ops_value(args[2])
      x
    end
  end

  def test_oracle_at
    replay("at") do |args|
      x = decode_arg(OPS, args[0])
      x.at[*args[1].map { |s| ops_index(s) }].public_send(args[3], ops_value(args[2]))
    end
  end

  def test_oracle_functions
    { "take" => ->(a) { MX.take(decode_arg(OPS, a[0]), decode_arg(OPS, a[1]), a[2]) },
      "take_along_axis" => ->(a) { MX.take_along_axis(decode_arg(OPS, a[0]), decode_arg(OPS, a[1]), a[2]) },
      "put_along_axis" => lambda { |a|
        MX.put_along_axis(decode_arg(OPS, a[0]), decode_arg(OPS, a[1]), ops_value(a[2]), a[3])
      },
      "slice_update" => ->(a) { MX.slice_update(decode_arg(OPS, a[0]), decode_arg(OPS, a[1]), a[2], a[3], a[4]) } }
      .each { |op, fn| replay(op) { |args| fn.call(args) } }
  end

  def test_array_indices
    assert_equal [[20, 21, 22, 23], [12, 13, 14, 15]], @a[1, [2, 0]].to_a
    assert_equal [1, 6], MX.arange(12).reshape(3, 4)[[0, 1], [1, 2]].to_a
    assert_equal [2, 2, 4], @a[[[0, 1], [1, 0]], 0].shape
    assert_equal [2, 3], @a[[0, 1], true, 0].shape
    assert_equal [2, 3], @a[0, true, MX.array([0, 3])].shape
    assert_raises(MLX::ArgumentError) { @a[MX.array([true, false])] }
    assert_raises(MLX::DtypeError) { @a[MX.array([0.5])] }
    assert_raises(TypeError) { @a["x"] }
  end

  def test_setitem_in_place
    a = MX.arange(6).reshape(2, 3)
    b = a
    old = a[0]
    a[0] = 9
    assert_same b, a
    assert_equal [[9, 9, 9], [3, 4, 5]], a.to_a
    assert_equal [0, 1, 2], old.to_a
    a[[0, 1], [2, 0]] = MX.array([-1, -2])
    assert_equal [[9, 9, -1], [-2, 4, 5]], a.to_a
    a[MX.array([[true, false, false], [false, true, false]])] = 7
    assert_equal [[7, 9, -1], [-2, 7, 5]], a.to_a
    c = a.__setitem__(1, 0)
    assert_equal [[7, 9, -1], [0, 0, 0]], c.to_a
    assert_equal [[7, 9, -1], [-2, 7, 5]], a.to_a
    assert_raises(IndexError) { a[2] = 1 }
  end

  def test_at_accumulates
    x = MX.zeros([4])
    assert_equal [2.0, 0.0, 1.0, 0.0], x.at[[0, 0, 2]].add(1).to_a
    assert_equal [-2.0, 0.0, -1.0, 0.0], x.at[[0, 0, 2]].subtract(1).to_a
    y = MX.full([3], 2.0)
    assert_equal [8.0, 2.0, 2.0], y.at[[0, 0]].multiply(2).to_a
    assert_equal [0.5, 2.0, 2.0], y.at[[0, 0]].divide(2).to_a
    assert_equal [5.0, 2.0, 2.0], y.at[[0, 0]].maximum(MX.array([5.0, 1.0])).to_a
    assert_equal [1.0, 2.0, 2.0], y.at[[0, 0]].minimum(MX.array([5.0, 1.0])).to_a
    assert_raises(ArgumentError) { y.at.add(1) }
  end

  def test_scatter_functions
    a = MX.zeros([3, 2])
    idx = MX.array([0, 2, 0])
    up = MX.ones([3, 1, 2])
    assert_equal [[2, 2], [0, 0], [1, 1]], MX.scatter_add(a, [idx], up, [0]).to_a.map { |r| r.map(&:to_i) }
    assert_equal [[1, 1], [0, 0], [1, 1]], MX.scatter(a, idx, up, 0).to_a.map { |r| r.map(&:to_i) }
    g = MX.gather(MX.arange(6).reshape(3, 2), [MX.array([2, 0])], [0], [1, 2])
    assert_equal [2, 1, 2], g.shape
    assert_equal [[[4, 5]], [[0, 1]]], g.to_a
    assert_equal 5, MX.take(MX.arange(6), 5).item
    assert_raises(IndexError) { MX.take(MX.arange(6), 6) }
    # axis nil: 1-D indices only, as Python MLX.
    assert_raises(MLX::ArgumentError) { MX.take_along_axis(MX.arange(6), MX.array([[0, 1]]), nil) }
    assert_equal [[9, 1, 2], [3, 4, 9]], MX.put_along_axis(MX.arange(6).reshape(2, 3), [0, 5], 9).to_a
  end

  def test_gradients_through_indexing
    x = MX.array([1.0, 2.0, 3.0])
    grad = MX.grad(->(v) { MX.sum(v[[0, 0, 2]] * 2.0) })
    assert_equal [4.0, 0.0, 2.0], grad.call(x).to_a
    m = MX.array([[1.0, 2.0], [3.0, 4.0]])
    idx = MX.array([[1], [1]])
    g2 = MX.grad(->(v) { MX.sum(MX.take_along_axis(v, idx, 1) * 3.0) }).call(m)
    assert_equal [[0.0, 3.0], [0.0, 3.0]], g2.to_a
    g3 = MX.grad(->(v) { MX.sum(MX.zeros([3]).at[[0, 0]].add(v) * MX.array([1.0, 2.0, 3.0])) }).call(MX.ones([2]))
    assert_equal [1.0, 1.0], g3.to_a
  end
end
