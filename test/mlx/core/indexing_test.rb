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

  def test_gathers_are_unsupported_for_now
    assert_raises(MLX::UnsupportedError) { @a[[0, 1]] }
    assert_raises(MLX::UnsupportedError) { @a[MX.array([0, 1])] }
    assert_raises(TypeError) { @a["x"] }
    assert_raises(MLX::UnsupportedError) { @a[0] = 1 }
  end
end
