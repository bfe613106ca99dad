# frozen_string_literal: true

require "test_helper"

# Versions, constants, and the functions still waiting on engine ops.
class MiscTest < Minitest::Test
  def test_versions_and_availability
    assert_match(/\A\d+\.\d+\.\d+\z/, MX.version)
    assert MX.available?
    assert_nil MX.ensure_native!
    assert MLX.native_available?
  end

  def test_constants
    assert_equal Math::PI, MX.pi
    assert_equal Math::E, MX.e
    assert_in_delta 0.5772156649, MX.euler_gamma, 1e-10
    assert_equal Float::INFINITY, MX.inf
    assert MX.nan.nan?
    assert_nil MX.newaxis
    assert_equal [1, 3], MX.arange(3)[MX.newaxis].shape
  end
end
