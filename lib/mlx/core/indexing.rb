# frozen_string_literal: true

module MLX
  module Core
    # Basic (view) indexing for Array#[]. An index per axis:
    #   Integer        one element; the axis is dropped; negatives wrap; out of
    #                  range -> IndexError
    #   Range          a..b, a...b, endless a.., beginless ..b (negatives wrap,
    #                  bounds clamp as in Python slices)
    #   (a..b) % step  a stepped range (Enumerator::ArithmeticSequence, also
    #                  a.step(b, s)); negative steps walk backwards
    #   true           the whole axis (Python's `:`)
    #   nil            a new axis of size 1 (Python's None / np.newaxis)
    #   false, :ellipsis  as many whole axes as needed (Python's `...`)
    # Integer arrays and MLX arrays (gathers) are not supported yet.
    module Indexing
      module_function

      def get(a, indices)
        shape = a.shape
        ndim = shape.size
        indices = expand_ellipsis(indices, ndim)

        starts = []
        stops = []
        steps = []
        out_shape_plan = [] # per index: :new, :drop or :keep
        axis = 0
        indices.each do |idx|
          if idx.nil?
            out_shape_plan << :new
            next
          end
          n = shape[axis]
          case idx
          when Integer
            i = idx.negative? ? idx + n : idx
            if i.negative? || i >= n
              raise MLX::IndexError, "index #{idx} is out of bounds for axis #{axis} with size #{n}"
            end

            starts << i
            stops << i + 1
            steps << 1
            out_shape_plan << :drop
          when true
            starts << 0
            stops << n
            steps << 1
            out_shape_plan << :keep
          when Range, Enumerator::ArithmeticSequence
            b, e, s = range_bounds(idx, n)
            starts << b
            stops << e
            steps << s
            out_shape_plan << :keep
          when MLX::Core::Array, ::Array
            raise MLX::UnsupportedError,
                  "indexing with arrays (gather) is not supported yet; use Integers, Ranges, nil, true or :ellipsis"
          else
            raise TypeError, "invalid index #{idx.inspect} (#{idx.class})"
          end
          axis += 1
        end
        sliced = Native.slice(a, starts, stops, steps, nil)
        return sliced unless out_shape_plan.any? { |p| p != :keep }

        sliced_shape = sliced.shape
        final = []
        axis = 0
        out_shape_plan.each do |p|
          case p
          when :new then final << 1
          when :drop then axis += 1
          else
            final << sliced_shape[axis]
            axis += 1
          end
        end
        Native.reshape(sliced, final, nil)
      end

      def consumes_axis?(idx)
        !idx.nil? && !ellipsis?(idx)
      end

      def ellipsis?(idx)
        idx.equal?(false) || idx == :ellipsis
      end

      # Replaces the ellipsis (or the missing trailing axes) by whole axes.
      def expand_ellipsis(indices, ndim)
        n_ellipsis = indices.count { |i| ellipsis?(i) }
        raise MLX::IndexError, "an index can only have a single ellipsis" if n_ellipsis > 1

        consumed = indices.count { |i| consumes_axis?(i) }
        if consumed > ndim
          raise MLX::IndexError, "too many indices for array: array is #{ndim}-dimensional, but #{consumed} were indexed"
        end

        fill = ::Array.new(ndim - consumed, true)
        if n_ellipsis == 1
          pos = indices.index { |i| ellipsis?(i) }
          indices[0...pos] + fill + indices[(pos + 1)..]
        else
          indices + fill
        end
      end

      # Python slice bounds (start, stop, step) of a Range or stepped range
      # along an axis of size n. Inclusive ends become exclusive ones; a
      # missing bound is "from the beginning"/"to the end" for the step's
      # direction.
      def range_bounds(range, n)
        if range.is_a?(Enumerator::ArithmeticSequence)
          b = range.begin
          e = range.end
          step = range.step
          exclusive = range.exclude_end?
        else
          b = range.begin
          e = range.end
          step = 1
          exclusive = range.exclude_end?
        end
        [b, e, step].each do |v|
          raise TypeError, "range bounds and steps must be Integers, got #{v.inspect}" unless v.nil? || v.is_a?(Integer)
        end
        raise MLX::ArgumentError, "slice step cannot be zero" if step.zero?

        if step.positive?
          start = b || 0
          stop = if e.nil? then SLICE_END
                 elsif exclusive then e
                 elsif e == -1 then SLICE_END
                 else e + 1
                 end
        else
          start = b.nil? ? SLICE_END : b
          before_first = -n - 1
          stop = if e.nil? then before_first
                 elsif exclusive then e
                 elsif e.zero? then before_first
                 else e - 1
                 end
        end
        [start, stop, step]
      end
    end
  end
end
