# frozen_string_literal: true

module MLX
  module Core
    module_function

    # seed(seed) -> nil: resets the global key sequence (bit-identical to
    # Python MLX's mx.random.seed).
    def seed(seed)
      Native.random_seed(seed)
    end

    def random_seed(seed)
      Native.random_seed(seed)
    end

    # key(seed) -> a uint32 [2] PRNG key.
    def key(seed)
      Native.key(seed)
    end

    # random_split(key, num = nil): nil -> [k1, k2] (a Ruby Array), else a
    # [num, 2] array of keys.
    def random_split(key, pos_num = nil, pos_stream = nil, num: pos_num, stream: pos_stream)
      Native.random_split(key, num, stream)
    end

    # random_uniform(shape, low = nil, high = nil, dtype = float32): no key,
    # bounds default to 0.0 and 1.0.
    def random_uniform(shape, pos_low = nil, pos_high = nil, pos_dtype = nil, low: pos_low, high: pos_high,
                       dtype: pos_dtype, key: nil, stream: nil)
      Native.uniform(low.nil? ? 0.0 : low, high.nil? ? 1.0 : high, Args.shape(shape), dtype || FLOAT32, key, stream)
    end

    # uniform(shape, low = 0.0, high = 1.0, dtype = float32, key = nil):
    # uniform in [low, high); low/high array-like (broadcast to shape).
    def uniform(pos_shape = [], pos_low = 0.0, pos_high = 1.0, pos_dtype = nil, pos_key = nil, pos_stream = nil,
                shape: pos_shape, low: pos_low, high: pos_high, dtype: pos_dtype, key: pos_key, stream: pos_stream)
      Native.uniform(low, high, Args.shape(shape), dtype || FLOAT32, key, stream)
    end

    # normal(shape, loc = 0.0, scale = 1.0, dtype = float32, key = nil);
    # loc/scale Floats, or arrays (then scale * N(0, 1) + loc).
    def normal(pos_shape = [], pos_loc = 0.0, pos_scale = 1.0, pos_dtype = nil, pos_key = nil, pos_stream = nil,
               shape: pos_shape, loc: pos_loc, scale: pos_scale, dtype: pos_dtype, key: pos_key, stream: pos_stream)
      loc = 0.0 if loc.nil?
      scale = 1.0 if scale.nil?
      dtype ||= FLOAT32
      shape = Args.shape(shape)
      return Native.normal(shape, dtype, loc, scale, key, stream) if loc.is_a?(Numeric) && scale.is_a?(Numeric)

      sample = Native.normal(shape, dtype, 0.0, 1.0, key, stream)
      Native.add(Native.multiply(scale, sample, stream), loc, stream)
    end

    # randint(low, high, shape, dtype = int32, key = nil): integers in [low, high).
    def randint(low, high, pos_shape = [], pos_dtype = nil, pos_key = nil, pos_stream = nil, shape: pos_shape,
                dtype: pos_dtype, key: pos_key, stream: pos_stream)
      Native.randint(low, high, Args.shape(shape), dtype || INT32, key, stream)
    end

    # bernoulli(p = nil, shape = nil, key = nil): true with probability p
    # (nil = 0.5); nil shape = p's shape.
    def bernoulli(pos_p = nil, pos_shape = nil, pos_key = nil, pos_stream = nil, p: pos_p, shape: pos_shape,
                  key: pos_key, stream: pos_stream)
      Native.bernoulli(p.nil? ? 0.5 : p, shape.nil? ? nil : Args.shape(shape), key, stream)
    end

    # truncated_normal(lower, upper, shape = nil, dtype = float32, key = nil):
    # normal samples within [lower, upper]; nil shape = the bounds'
    # broadcast shape.
    def truncated_normal(lower, upper, pos_shape = nil, pos_dtype = nil, pos_key = nil, pos_stream = nil,
                         shape: pos_shape, dtype: pos_dtype, key: pos_key, stream: pos_stream)
      Native.truncated_normal(lower, upper, shape.nil? ? nil : Args.shape(shape), dtype || FLOAT32, key, stream)
    end

    # gumbel(shape = [], dtype = float32, key = nil): standard Gumbel samples.
    def gumbel(pos_shape = [], pos_dtype = nil, pos_key = nil, pos_stream = nil, shape: pos_shape, dtype: pos_dtype,
               key: pos_key, stream: pos_stream)
      Native.gumbel(Args.shape(shape), dtype || FLOAT32, key, stream)
    end

    # categorical(logits, axis = -1, shape_or_num_samples = nil, key = nil):
    # uint32 samples; an Integer draws that many per distribution (a new
    # last axis), an Array is the output shape. Keywords shape: and
    # num_samples: as in Python (at most one).
    def categorical(logits, pos_axis = -1, pos_shape_or_num = nil, pos_key = nil, pos_stream = nil, axis: pos_axis,
                    shape: nil, num_samples: nil, key: pos_key, stream: pos_stream)
      unless shape.nil? || num_samples.nil?
        raise MLX::ArgumentError, "[categorical] At most one of shape or num_samples can be specified."
      end

      which = pos_shape_or_num
      which = Args.shape(shape) unless shape.nil?
      which = num_samples unless num_samples.nil?
      Native.categorical(logits, axis.nil? ? -1 : axis, which, key, stream)
    end

    # laplace(shape = [], loc = 0.0, scale = 1.0, dtype = float32, key = nil).
    def laplace(pos_shape = [], pos_loc = 0.0, pos_scale = 1.0, pos_dtype = nil, pos_key = nil, pos_stream = nil,
                shape: pos_shape, loc: pos_loc, scale: pos_scale, dtype: pos_dtype, key: pos_key, stream: pos_stream)
      Native.laplace(Args.shape(shape), dtype || FLOAT32, loc.nil? ? 0.0 : loc, scale.nil? ? 1.0 : scale, key, stream)
    end

    # permutation(x, axis = 0, key = nil): an Integer x gives a random
    # permutation of 0...x (uint32); an array is permuted along axis.
    def permutation(x, pos_axis = 0, pos_key = nil, pos_stream = nil, axis: pos_axis, key: pos_key,
                    stream: pos_stream)
      Native.permutation(x, axis.nil? ? 0 : axis, key, stream)
    end

    # Python MLX's mx.random namespace, with its argument orders
    # (uniform(low, high, shape, dtype, key), normal(shape, dtype, loc, scale,
    # key), split(key, num = 2) -> a [num, 2] array).
    module Random
      module_function

      def seed(seed) = Native.random_seed(seed)
      def key(seed) = Native.key(seed)

      def split(key, pos_num = 2, pos_stream = nil, num: pos_num, stream: pos_stream)
        Native.random_split(key, num, stream)
      end

      def uniform(pos_low = 0.0, pos_high = 1.0, pos_shape = [], pos_dtype = nil, pos_key = nil, low: pos_low,
                  high: pos_high, shape: pos_shape, dtype: pos_dtype, key: pos_key, stream: nil)
        Native.uniform(low, high, Core::Args.shape(shape), dtype || FLOAT32, key, stream)
      end

      def normal(pos_shape = [], pos_dtype = nil, pos_loc = 0.0, pos_scale = 1.0, pos_key = nil, shape: pos_shape,
                 dtype: pos_dtype, loc: pos_loc, scale: pos_scale, key: pos_key, stream: nil)
        Core.normal(shape, loc, scale, dtype, key, stream: stream)
      end

      def randint(low, high, pos_shape = [], pos_dtype = nil, pos_key = nil, shape: pos_shape, dtype: pos_dtype,
                  key: pos_key, stream: nil)
        Core.randint(low, high, shape, dtype, key, stream: stream)
      end

      def bernoulli(pos_p = 0.5, pos_shape = nil, pos_key = nil, p: pos_p, shape: pos_shape, key: pos_key, stream: nil)
        Core.bernoulli(p, shape, key, stream: stream)
      end

      def truncated_normal(lower, upper, pos_shape = nil, pos_dtype = nil, pos_key = nil, shape: pos_shape,
                           dtype: pos_dtype, key: pos_key, stream: nil)
        Core.truncated_normal(lower, upper, shape, dtype, key, stream: stream)
      end

      def gumbel(pos_shape = [], pos_dtype = nil, pos_key = nil, shape: pos_shape, dtype: pos_dtype, key: pos_key,
                 stream: nil)
        Core.gumbel(shape, dtype, key, stream: stream)
      end

      def categorical(logits, pos_axis = -1, pos_shape = nil, pos_num_samples = nil, pos_key = nil, axis: pos_axis,
                      shape: pos_shape, num_samples: pos_num_samples, key: pos_key, stream: nil)
        Core.categorical(logits, axis, nil, key, shape: shape, num_samples: num_samples, stream: stream)
      end

      def laplace(pos_shape = [], pos_dtype = nil, pos_loc = 0.0, pos_scale = 1.0, pos_key = nil, shape: pos_shape,
                  dtype: pos_dtype, loc: pos_loc, scale: pos_scale, key: pos_key, stream: nil)
        Core.laplace(shape, loc, scale, dtype, key, stream: stream)
      end

      def permutation(x, pos_axis = 0, pos_key = nil, axis: pos_axis, key: pos_key, stream: nil)
        Core.permutation(x, axis, key, stream: stream)
      end
    end
  end
end
