# frozen_string_literal: true

require_relative "lib/mlx/version"

Gem::Specification.new do |spec|
  spec.name = "mlx"
  spec.version = MLX::VERSION
  spec.summary = "MLX for Ruby: lazy n-dimensional arrays over a C engine"
  spec.description = "A NumPy-like array library for machine learning with MLX's API and semantics, " \
                     "built on its own C engine (CPU with a thread pool; CUDA when available)."
  spec.license = "MIT"
  spec.authors = ["MLX for Ruby contributors"]
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir[
    "lib/**/*.rb", "ext/mlx/*.{c,h,rb}",
    "engine/Makefile", "engine/include/**/*.h", "engine/src/**/*.{c,h,cu,cuh}", "engine/tests/*.{c,h}",
    "README*", "LICENSE*", "docs/*.md"
  ].reject { |f| f.end_with?("ext/mlx/engine_stubs.c") }
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/mlx/extconf.rb"]

  spec.add_development_dependency "minitest", ">= 5.15"
  spec.add_development_dependency "rake", ">= 13"
end
