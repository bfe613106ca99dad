# frozen_string_literal: true

# MLX::Core: the flat module of array functions (names and positional
# orders of the earlier Ruby binding, Python MLX's keywords accepted too) and
# the MLX::Core::Array methods. The native primitives live in MLX::Native
# (positional, stream last); this layer adds defaults, keywords and sugar.
require_relative "core/args"
require_relative "core/dtypes"
require_relative "core/creation"
require_relative "core/elementwise"
require_relative "core/reductions"
require_relative "core/shapes"
require_relative "core/indexing"
require_relative "core/linalg"
require_relative "core/sorting"
require_relative "core/matmul"
require_relative "core/conv"
require_relative "core/fft"
require_relative "core/fast"
require_relative "core/quantize"
require_relative "core/export"
require_relative "core/random"
require_relative "core/io"
require_relative "core/evaluation"
require_relative "core/tree"
require_relative "core/transforms"
require_relative "core/compile"
require_relative "core/devices"
require_relative "core/memory"
require_relative "core/format"
require_relative "core/array"
require_relative "core/misc"
