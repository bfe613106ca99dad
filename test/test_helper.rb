# frozen_string_literal: true

require "json"
require "minitest/autorun"
require "mlx"

# Helpers shared by the tests: oracle fixtures (written by
# test/fixtures/generate.py with Python MLX) and array comparisons.
module MLXTestHelper
  FIXTURES = File.join(__dir__, "fixtures")
  MX = MLX::Core

  # Relative/absolute tolerance per result dtype for ops whose results may
  # differ from upstream's in the last bits (transcendentals, summation
  # order). Integer and bool results compare exactly.
  TOLERANCE = {
    "float32" => [2e-5, 1e-6], "float64" => [1e-12, 1e-14], "float16" => [2e-3, 1e-4],
    "bfloat16" => [1.6e-2, 1e-3], "complex64" => [2e-5, 1e-6]
  }.freeze

  @fixtures = {}

  class << self
    def fixture(name)
      @fixtures[name] ||= JSON.parse(File.read(File.join(FIXTURES, "#{name}.json")))
    end
  end

  def fixture(name)
    MLXTestHelper.fixture(name)
  end

  def decode_float(s)
    case s
    when "nan" then Float::NAN
    when "inf" then Float::INFINITY
    when "-inf" then -Float::INFINITY
    else Float(s)
    end
  end

  # Ruby values of an encoded array's data (flat).
  def decoded_values(enc)
    case enc["dtype"]
    when "float32", "float16", "bfloat16", "float64" then enc["data"].map { |v| decode_float(v) }
    when "complex64" then enc["data"].map { |re, im| Complex(decode_float(re), decode_float(im)) }
    else enc["data"]
    end
  end

  # Resolves {"ref": i} against the fixture's input table.
  def resolve(fix, v)
    v.is_a?(Hash) && v.key?("ref") ? fix["inputs"][v["ref"]] : v
  end

  def encoded_array?(v)
    v.is_a?(Hash) && v.key?("dtype") && v.key?("data")
  end

  # An MLX array holding exactly the encoded values.
  def decode_array(enc)
    values = decoded_values(enc)
    dtype = enc["dtype"]
    shape = enc["shape"]
    flat = case dtype
           when "float16", "bfloat16", "float32", "float64" then MX.array(values, :float64)
           when "uint64", "int64" then MX.array(values, :int64)
           when "bool" then MX.array(values.empty? ? [] : values, :bool)
           else MX.array(values, dtype == "complex64" ? :complex64 : :int64)
           end
    MX.astype(MX.reshape(flat, shape), dtype)
  end

  # A fixture argument: arrays, Python scalars, nested lists of arrays.
  def decode_arg(fix, v)
    v = resolve(fix, v)
    if encoded_array?(v)
      decode_array(v)
    elsif v.is_a?(Hash) && v.key?("scalar")
      case v["kind"]
      when "float" then decode_float(v["scalar"])
      else v["scalar"]
      end
    elsif v.is_a?(Array) && v.any? { |x| encoded_array?(resolve(fix, x)) }
      v.map { |x| decode_arg(fix, x) }
    else
      v
    end
  end

  def float_dtype?(name)
    TOLERANCE.key?(name)
  end

  # Compares an MLX array with an encoded expected array: dtype, shape and
  # values (exact for integers/bools, within TOLERANCE for floats; nan
  # matches nan, infinities match exactly).
  def assert_array_matches(expected, actual, msg = nil, exact: false, tol: nil)
    assert_kind_of MLX::Core::Array, actual, msg
    assert_equal expected["dtype"], actual.dtype.to_str_name, "dtype #{msg}"
    assert_equal expected["shape"], actual.shape, "shape #{msg}"
    want = decoded_values(expected)
    got = actual.to_flat_a
    rtol, atol = exact ? [0, 0] : (tol || TOLERANCE[expected["dtype"]] || [0, 0])
    want.zip(got).each_with_index do |(w, g), i|
      next if values_close?(w, g, rtol, atol)

      flunk "#{msg}: element #{i} differs: expected #{w.inspect}, got #{g.inspect} " \
            "(dtype #{expected['dtype']}, rtol #{rtol}, atol #{atol})"
    end
  end

  def values_close?(w, g, rtol, atol)
    if w.is_a?(Complex) || g.is_a?(Complex)
      return values_close?(w.real.to_f, g.real.to_f, rtol, atol) && values_close?(w.imaginary.to_f, g.imaginary.to_f, rtol, atol)
    end
    return w == g unless w.is_a?(Float) || g.is_a?(Float)

    w = w.to_f
    g = g.to_f
    return g.nan? if w.nan?
    return w == g if w.infinite? || g.infinite?

    (w - g).abs <= atol + rtol * w.abs
  end

  # Replays an oracle case's expected output against a block's result:
  # an encoded array, a list of them, or an error class.
  def assert_case(fix, case_, label, exact: false, tol: nil)
    out = resolve(fix, case_["out"])
    if out.key?("error")
      err = assert_raises(MLX::Error, "#{label}: expected #{out['error']}: #{out['message']}") do
        res = yield
        Array(res).each { |r| r.is_a?(MLX::Core::Array) && r.eval }
      end
      assert_kind_of MLX::Error, err
    elsif out.key?("list")
      res = yield
      assert_equal out["list"].size, res.size, label
      out["list"].zip(res).each_with_index do |(e, r), i|
        assert_array_matches(resolve(fix, e), r, "#{label}[#{i}]", exact: exact, tol: tol)
      end
    else
      assert_array_matches(out, yield, label, exact: exact, tol: tol)
    end
  end

  def assert_values(expected, actual, msg = nil)
    assert_kind_of MLX::Core::Array, actual, msg
    assert_equal expected, actual.to_a, msg
  end
end

module Minitest
  class Test
    include MLXTestHelper
  end
end
