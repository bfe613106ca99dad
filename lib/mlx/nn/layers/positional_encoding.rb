# frozen_string_literal: true

module MLX
  module NN
    # RoPE.new(dims, traditional: false, base: 10_000.0, scale: 1.0):
    # rotary position embeddings (Core.rope).
    class RoPE < Module
      attr_reader :dims, :traditional, :base, :scale

      def initialize(dims, traditional: false, base: 10_000.0, scale: 1.0)
        super()
        @dims = dims
        @traditional = traditional
        @base = base
        @scale = scale
      end

      def call(x, offset: 0) = Core.rope(x, @dims, @traditional, @base, @scale, offset)
    end

    # SinusoidalPositionalEncoding.new(dims, min_freq: 0.0001, max_freq: 1.0,
    # scale: nil, cos_first: false, full_turns: false)
    class SinusoidalPositionalEncoding < Module
      def initialize(dims, min_freq: 0.0001, max_freq: 1.0, scale: nil, cos_first: false, full_turns: false)
        super()
        if dims <= 0 || dims.odd?
          raise ArgumentError, "[SinusoidalPositionalEncoding] dims must be positive and even but got #{dims}."
        end

        one_zero = if dims == 2
                     Core.array([1.0])
                   else
                     Core.subtract(1, Core.divide(Core.arange(0, dims / 2), dims / 2 - 1))
                   end
        lo = Math.log(min_freq)
        hi = Math.log(max_freq)
        sigmas = Core.exp(Core.add(Core.multiply(one_zero, hi - lo), lo))
        sigmas = Core.multiply(sigmas, 2 * Math::PI) if full_turns
        self._sigmas = sigmas
        @scale = scale.nil? ? (2.0 / dims)**0.5 : scale
        @cos_first = cos_first
      end

      def call(x)
        y = Core.multiply(Core.expand_dims(x, -1), self["_sigmas"])
        parts = [Core.sin(y), Core.cos(y)]
        parts.reverse! if @cos_first
        y = Core.concatenate(parts, -1)
        @scale == 1 ? y : Core.multiply(y, @scale)
      end
    end

    # ALiBi: attention biases linear in the key-query distance.
    class ALiBi < Module
      def self.create_alibi_matrix(q_sequence_length:, k_sequence_length:, num_heads:, offset: 0, dtype: Core.float32)
        x1 = Core.arange(offset, q_sequence_length)
        x2 = Core.arange(0, k_sequence_length)
        diff = Core.subtract(Core.expand_dims(x1, 1), Core.expand_dims(x2, 0))
        distance = Core.negative(Core.abs(Core.expand_dims(diff, [0, 1])))
        slope = create_alibi_slope(num_heads: num_heads, dtype: dtype)
        Core.astype(Core.multiply(distance, slope), dtype)
      end

      def self.create_alibi_slope(num_heads:, dtype: Core.float32)
        Core.expand_dims(Core.array(slopes(num_heads), dtype), [-1, -2])
      end

      def self.slopes(n)
        log2 = Math.log2(n)
        if log2 == log2.floor
          start = 2**(-(2**(-(log2 - 3))))
          Array.new(n) { |i| start * (start**i) }
        else
          closest = 2**log2.floor
          slopes(closest) + slopes(2 * closest).each_slice(2).map(&:first).first(n - closest)
        end
      end
      private_class_method :slopes

      def call(attention_scores, offset: 0, mask: nil)
        bias = ALiBi.create_alibi_matrix(q_sequence_length: attention_scores.shape[-2] + offset,
                                         k_sequence_length: attention_scores.shape[-1],
                                         num_heads: attention_scores.shape[1], offset: offset,
                                         dtype: attention_scores.dtype)
        bias = Core.add(bias, mask) unless mask.nil?
        Core.add(attention_scores, bias)
      end
    end
  end
end
