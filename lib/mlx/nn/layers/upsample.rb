# frozen_string_literal: true

module MLX
  module NN
    # Upsampling of channels-last inputs [N, *spatial, C] by nearest
    # neighbour, (bi/tri)linear or cubic interpolation (upstream's index and
    # weight computations; samples gathered one axis at a time).
    module Upsampling
      extend self

      def upsample_nearest(x, scale_factor)
        dims = x.ndim - 2
        raise ArgumentError, "A scale needs to be provided for each spatial dimension" if dims != scale_factor.size

        if scale_factor.all? { |s| s.to_i == s }
          shape = x.shape.dup
          dims.times { |d| shape.insert(2 + (2 * d), 1) }
          y = Core.reshape(x, shape)
          dims.times { |d| shape[2 + (2 * d)] = scale_factor[d].to_i }
          y = Core.broadcast_to(y, shape)
          dims.times do |d|
            shape[d + 1] *= shape[d + 2]
            shape.delete_at(d + 2)
          end
          return Core.reshape(y, shape)
        end
        x.shape[1...-1].each_with_index.reduce(x) do |acc, (n, i)|
          Core.take(acc, Core.flatten(nearest_indices(n, scale_factor[i], i, dims)), i + 1)
        end
      end

      def upsample_linear(x, scale_factor, align_corners: false, antialias: false)
        check_antialias(align_corners, antialias)
        return separable(x, scale_factor, align_corners) { |*a| aa_indices(*a, :triangle, 1.0) } if antialias

        separable(x, scale_factor, align_corners) { |*a| linear_indices(*a) }
      end

      def upsample_cubic(x, scale_factor, align_corners: false, antialias: false)
        check_antialias(align_corners, antialias)
        return separable(x, scale_factor, align_corners) { |*a| aa_indices(*a, :cubic, 2.0) } if antialias

        separable(x, scale_factor, align_corners) { |*a| cubic_indices(*a) }
      end

      private

      def check_antialias(align_corners, antialias)
        return unless antialias && align_corners

        raise ArgumentError, "[Upsample] antialias=True with align_corners=True is not supported. Use " \
                             "align_corners=False for antialiased interpolation."
      end

      def axis_shape(dim, ndims)
        shape = [1] * ndims
        shape[dim] = -1
        shape
      end

      def scaled_indices(n, scale, align_corners, dim, ndims)
        m = (scale * n).to_i
        idx = Core.arange(m, Core.float32)
        idx = if align_corners
                Core.multiply(idx, (n - 1).to_f / [m - 1, 1].max)
              else
                step = 1.0 / scale
                start = (((m - 1) * step) - n + 1) / 2.0
                Core.subtract(Core.multiply(idx, step), start)
              end
        Core.reshape(idx, axis_shape(dim, ndims))
      end

      def nearest_indices(n, scale, dim, ndims)
        m = (scale * n).to_i
        idx = Core.arange(m, Core.float32)
        idx = if m > n
                Core.round(Core.subtract(Core.multiply(Core.add(idx, 0.5), n.to_f / m), 0.5))
              else
                Core.multiply(idx, n.to_f / m)
              end
        Core.reshape(Core.astype(idx, Core.uint32), axis_shape(dim, ndims))
      end

      def linear_indices(n, scale, align_corners, dim, ndims)
        idx = Core.clip(scaled_indices(n, scale, align_corners, dim, ndims), 0, n - 1)
        lo = Core.floor(idx)
        hi = Core.ceil(idx)
        w = Core.expand_dims(Core.subtract(idx, lo), -1)
        [[Core.astype(lo, Core.uint32), Core.subtract(1, w)], [Core.astype(hi, Core.uint32), w]]
      end

      def cubic_weight(ind, grid, dist)
        a = -0.75
        x = Core.abs(Core.subtract(ind, grid))
        if dist == 1
          Core.add(Core.multiply(Core.multiply(Core.subtract(Core.multiply(a + 2.0, x), a + 3.0), x), x), 1)
        else
          Core.multiply(Core.subtract(Core.multiply(Core.add(Core.multiply(Core.subtract(x, 5), x), 8), x), 4), a)
        end
      end

      def cubic_indices(n, scale, align_corners, dim, ndims)
        idx = scaled_indices(n, scale, align_corners, dim, ndims)
        l1 = Core.floor(idx)
        r1 = Core.floor(Core.add(idx, 1))
        l2 = Core.subtract(l1, 1)
        r2 = Core.add(r1, 1)
        [[l1, 1], [r1, 1], [l2, 2], [r2, 2]].map do |grid, dist|
          w = Core.expand_dims(cubic_weight(idx, grid, dist), -1)
          [Core.astype(Core.clip(grid, 0, n - 1), Core.uint32), w]
        end
      end

      def kernel(kind, x)
        if kind == :triangle
          Core.maximum(Core.subtract(1.0, x), 0.0)
        else
          a = -0.5
          inner = Core.add(Core.multiply(Core.multiply(Core.subtract(Core.multiply(a + 2.0, x), a + 3.0), x), x), 1)
          outer = Core.multiply(Core.subtract(Core.multiply(Core.add(Core.multiply(Core.subtract(x, 5), x), 8), x), 4), a)
          Core.where(Core.less_equal(x, 1.0), inner, Core.where(Core.less_equal(x, 2.0), outer, 0.0))
        end
      end

      def aa_indices(n, scale, align_corners, dim, ndims, kind, radius)
        idx = scaled_indices(n, scale, align_corners, dim, ndims)
        inv_scale = scale < 1 ? 1.0 / scale : 1.0
        taps = (radius * inv_scale).ceil + 1
        pairs = ((-taps + 1)...taps).map do |k|
          tap = Core.add(Core.floor(idx), k)
          w = kernel(kind, Core.divide(Core.abs(Core.subtract(idx, tap)), inv_scale))
          inside = Core.logical_and(Core.greater_equal(tap, 0), Core.less(tap, n))
          [tap, Core.where(inside, w, 0.0)]
        end
        total = pairs.map(&:last).reduce { |acc, w| Core.add(acc, w) }
        total = Core.where(Core.greater(total, 0), total, 1.0)
        pairs.map do |tap, w|
          [Core.astype(Core.clip(tap, 0, n - 1), Core.uint32), Core.expand_dims(Core.divide(w, total), -1)]
        end
      end

      # Interpolates one spatial axis after the other.
      def separable(x, scale_factor, align_corners)
        dims = x.ndim - 2
        raise ArgumentError, "A scale needs to be provided for each spatial dimension" if dims != scale_factor.size

        x.shape[1...-1].each_with_index.reduce(x) do |out, (n, i)|
          yield(n, scale_factor[i], align_corners, i, dims).map do |idx, weight|
            Core.multiply(Core.take(out, Core.flatten(idx), i + 1), weight)
          end.reduce { |acc, s| Core.add(acc, s) }
        end
      end
    end

    extend Upsampling

    # Upsample.new(scale_factor:, mode: "nearest", align_corners: false,
    # antialias: false): scale_factor a number or one per spatial axis.
    class Upsample < Module
      MODES = %w[nearest linear cubic].freeze

      def initialize(scale_factor:, mode: "nearest", align_corners: false, antialias: false)
        super()
        raise ArgumentError, "[Upsample] Got unsupported upsampling algorithm: #{mode}" unless MODES.include?(mode.to_s)
        if antialias && mode.to_s == "nearest"
          raise ArgumentError, "[Upsample] Antialiasing is not supported for nearest neighbor upsampling"
        end
        if antialias && align_corners
          raise ArgumentError, "[Upsample] antialias=True with align_corners=True is not supported. Use " \
                               "align_corners=False for antialiased interpolation."
        end

        @scale_factor = scale_factor.is_a?(::Array) ? scale_factor.map(&:to_f) : scale_factor.to_f
        @mode = mode.to_s
        @align_corners = align_corners
        @antialias = antialias
      end

      def call(x)
        dims = x.ndim - 2
        if dims <= 0
          raise ArgumentError, "[Upsample] The input should have at least 1 spatial dimension which means it should " \
                               "be at least 3D but #{x.ndim}D was provided"
        end

        scale = @scale_factor.is_a?(::Array) ? @scale_factor : [@scale_factor] * dims
        if scale.size != dims
          raise ArgumentError, "[Upsample] One scale per spatial dimension is required but scale_factor=" \
                               "#{@scale_factor} and the number of spatial dimensions were #{dims}"
        end

        case @mode
        when "nearest" then NN.upsample_nearest(x, scale)
        when "linear" then NN.upsample_linear(x, scale, align_corners: @align_corners, antialias: @antialias)
        else NN.upsample_cubic(x, scale, align_corners: @align_corners, antialias: @antialias)
        end
      end
    end
  end
end
