# frozen_string_literal: true

require "test_helper"

# Dtype objects, names, categories, promotion, finfo/iinfo, astype.
class DtypesTest < Minitest::Test
  NAMES = %i[bool_ uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 float32 float64 bfloat16 complex64].freeze
  SIZES = [1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 2, 8].freeze

  def test_objects
    NAMES.zip(SIZES).each do |n, size|
      t = MX.public_send(n)
      assert_kind_of MX::Dtype, t
      assert_equal n, t.name
      assert_equal size, t.size
      assert_same t, MX::Dtype.new(n)
      assert_same t, MX::Dtype.new(n.to_s)
      assert_equal t, MX::Dtype.new(n)
      assert t.eql?(MX::Dtype.new(n))
      assert_equal t.hash, MX::Dtype.new(n).hash
      assert_equal "#<MLX::Core::Dtype :#{n} size=#{size}>", t.inspect
    end
    assert_same MX.bool_, MX::Dtype.new(:bool)
    assert_same MX.float32, MX::FLOAT32
    assert_same MX.bool_, MX::BOOL
    assert_same MX.bfloat16, MX::BFLOAT16
    refute_equal MX.float32, MX.float16
    refute_equal MX.float32, :float32
    assert_raises(ArgumentError) { MX::Dtype.new(:float8) }
    assert_raises(TypeError) { MX::Dtype.new(1) }
    assert_equal 14, MX::Dtype::ALL.size
    assert_equal "bool", MX.bool_.to_str_name
  end

  def test_categories
    assert_equal :floating, MX.floating
    assert MX.issubdtype(MX.float32, MX.floating)
    assert MX.issubdtype(MX.float16, :inexact)
    assert MX.issubdtype(:int8, :signedinteger)
    refute MX.issubdtype(MX.uint8, MX.signedinteger)
    assert MX.issubdtype(MX.complex64, MX.complexfloating)
    assert MX.issubdtype(MX.floating, MX.inexact)
    refute MX.issubdtype(MX.inexact, MX.floating)
    assert MX.issubdtype(MX.float32, MX.float32)
    refute MX.issubdtype(MX.int8, MX.int16)
    assert MX.issubdtype(MX.bool_, :generic)
    refute MX.issubdtype(:floating, MX.float32)
  end

  def test_promotion
    assert_equal MX.float32, MX.promote_types(MX.int32, MX.float32)
    assert_equal MX.int16, MX.promote_types(:int8, :uint8)
    assert_equal MX.float32, MX.promote_types(:float16, :bfloat16)
    assert_equal MX.float32, MX.result_type(MX.array([1]), MX.float32)
  end

  def test_finfo_iinfo
    f = MX.finfo(MX.float16)
    assert_equal(-65_504.0, f.min)
    assert_equal 65_504.0, f.max
    assert_equal 0.0009765625, f.eps
    assert_equal 1.1920928955078125e-07, MX.finfo(:float32).eps
    assert_equal 0.0078125, MX.finfo(:bfloat16).eps
    assert_equal MX.float32, MX.finfo(:complex64).dtype
    assert_raises(ArgumentError) { MX.finfo(:int32) }
    i = MX.iinfo(:int8)
    assert_equal(-128, i.min)
    assert_equal 127, i.max
    assert_equal 18_446_744_073_709_551_615, MX.iinfo(:uint64).max
    assert_raises(ArgumentError) { MX.iinfo(:bool_) }
    assert_raises(ArgumentError) { MX.iinfo(:float32) }
  end

  def test_astype
    a = MX.array([1.7, -2.2])
    assert_equal [1, -2], MX.astype(a, MX.int32).to_a
    assert_equal MX.float32, MX.astype(MX.array([1]), nil).dtype
    assert_equal [true, true], MX.astype(a, :bool_).to_a
    assert_equal [255, 0], MX.astype(MX.array([-1, 256]), :uint8).to_a
  end

  # NaN, infinities, values outside each integer range and negative values
  # into unsigned types, from every float dtype: the values Python MLX
  # returns (test/fixtures/generate_astype.py), every one of them.
  def test_astype_out_of_range_as_upstream
    fix = fixture("astype_out_of_range")
    values = fix["values"].map { |v| decode_float(v) }
    fix["cases"].each do |c|
      a = MX.array(values, MX.public_send(c["src"]))
      got = MX.astype(a, MX.public_send(c["dst"])).to_a
      bad = got.each_index.reject { |i| got[i] == c["out"][i] }
      assert_empty bad, "#{c['src']} -> #{c['dst']}: #{bad.map { |i| [values[i], got[i], c['out'][i]] }.first(4)}"
    end
  end
end
