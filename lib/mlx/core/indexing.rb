# frozen_string_literal: true

module MLX
  module Core
    # NumPy-style indexing for Array#[], Array#[]=, Array#__setitem__ and
    # Array#at, as Python MLX does it. An index per axis:
    #   Integer        one element; the axis is dropped; negatives wrap; out of
    #                  range -> IndexError
    #   Range          a..b, a...b, endless a.., beginless ..b (negatives wrap,
    #                  bounds clamp as in Python slices)
    #   (a..b) % step  a stepped range (Enumerator::ArithmeticSequence, also
    #                  a.step(b, s)); negative steps walk backwards
    #   true           the whole axis (Python's `:`)
    #   nil            a new axis of size 1 (Python's None / np.newaxis)
    #   false, :ellipsis  as many whole axes as needed (Python's `...`)
    #   Ruby Array of Integers, MLX integer array
    #                  a gather ("advanced" index). Several of them broadcast
    #                  together; their dims go where the first one is, or
    #                  first when slices/nil separate them (NumPy's rule).
    #                  Integers next to them count as 0-d index arrays.
    #                  Out-of-range entries of index arrays are clamped by the
    #                  gather (Python MLX leaves them undefined).
    # Boolean masks (a bool MLX array or a Ruby Array of true/false) are
    # accepted by []= only, as in Python MLX (a[mask] = v); reading with one
    # raises MLX::ArgumentError ("boolean indices are not yet supported").
    module Indexing
      module_function

      # ---- reading --------------------------------------------------------

      def get(a, indices)
        indices = indices.map { |i| convert_index(i) }
        if indices.any? { |i| advanced?(i) }
          indices.each do |i|
            raise MLX::ArgumentError, "boolean indices are not yet supported" if i.is_a?(Array) && i.dtype == Core::BOOL
          end
          return get_advanced(a, indices)
        end
        get_basic(a, indices)
      end

      # Integers, Ranges, true, nil and ellipsis: a view (slice + reshape).
      def get_basic(a, indices)
        shape = a.shape
        indices = expand_ellipsis(indices, shape.size)

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
            i = wrap_int(idx, n, axis)
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

      # With index arrays: one gather over the planned index grid.
      def get_advanced(a, indices)
        plan = plan_advanced(a, indices)
        g = Native.gather(a, plan[:indices], plan[:axes], plan[:block], nil)
        Native.reshape(g, plan[:out_shape], nil)
      end

      # ---- writing --------------------------------------------------------

      # The array a with a[indices] replaced by value (Python MLX's
      # a[indices] = value, as a new array).
      def set(a, indices, value)
        indices = indices.map { |i| convert_index(i) }
        if indices.size == 1 && mask?(indices[0])
          return masked_set(a, indices[0], value)
        end
        indices.each do |i|
          raise MLX::ArgumentError, "boolean indices are only supported alone (a[mask] = v)" if mask?(i)
        end
        update = Native.astype(weak(value, a), a.dtype, nil)
        return set_basic(a, indices, update) unless indices.any? { |i| advanced?(i) }

        scatter_with(a, indices, update, 0)
      end

      # a.at[indices].add(v) and friends: mode 1 add, 2 prod, 3 max, 4 min.
      def accumulate(a, indices, value, mode)
        indices = indices.map { |i| convert_index(i) }
        indices.each do |i|
          raise MLX::ArgumentError, "boolean indices are not supported by Array#at" if mask?(i)
        end
        scatter_with(a, indices, value, mode)
      end

      # Basic indices: slice_update of the region.
      def set_basic(a, indices, update)
        shape = a.shape
        indices = expand_ellipsis(indices, shape.size)
        starts = []
        stops = []
        steps = []
        axis = 0
        indices.each do |idx|
          next if idx.nil?

          n = shape[axis]
          case idx
          when Integer
            i = wrap_int(idx, n, axis)
            starts << i
            stops << i + 1
            steps << 1
          when true
            starts << 0
            stops << n
            steps << 1
          when Range, Enumerator::ArithmeticSequence
            b, e, s = range_bounds(idx, n)
            starts << b
            stops << e
            steps << s
          else
            raise TypeError, "invalid index #{idx.inspect} (#{idx.class})"
          end
          axis += 1
        end
        # The update broadcasts to a[indices]'s shape (leading size-1 dims
        # of the update dropped first, as Python MLX does), then takes the
        # region's shape (dropped integer axes back as 1, new axes gone).
        view_shape = get_basic(a, indices).shape
        up = Native.broadcast_to(strip_leading_ones(update), view_shape, nil)
        region = Native.slice(a, starts, stops, steps, nil).shape
        Native.slice_update(a, Native.reshape(up, region, nil), starts, stops, steps, nil)
      end

      # a[mask] = value (Python MLX's masked_scatter): mask has the shape of
      # a's leading axes; the masked places, in row-major order, take the
      # rows of value one after another (a value of one element, or of the
      # unmasked axes' shape, fills every place).
      def masked_set(a, mask, value)
        mask = Native.array(mask, nil) unless mask.is_a?(Array)
        shape = a.shape
        ms = mask.shape
        if ms.size > shape.size || ms != shape[0, ms.size]
          raise MLX::ArgumentError,
                "[masked_scatter] The boolean mask should have the same shape as the beginning of the indexed " \
                "array but the mask has shape #{ms} and the array has shape #{shape}"
        end
        rest = shape[ms.size..]
        v = Native.astype(weak(value, a), a.dtype, nil)
        if v.ndim > rest.size + 1
          raise MLX::ArgumentError, "[masked_scatter] Value array shape must be broadcastable with the last " \
                                    "#{rest.size} dimensions of the input."
        end
        v = Native.reshape(v, [1] * (rest.size + 1 - v.ndim) + v.shape, nil) if v.ndim < rest.size + 1
        v = Native.broadcast_to(v, [v.shape[0]] + rest, nil)
        flat = Native.reshape(mask, [-1], nil)
        rank = mask_ranks(flat)
        rows = Native.take(v, rank, 0, nil)
        rows = Native.reshape(rows, shape, nil)
        full_mask = Native.broadcast_to(Native.reshape(mask, ms + [1] * rest.size, nil), shape, nil)
        Native.where(full_mask, rows, a, nil)
      end

      # For each place of a flat bool mask, how many true places come
      # before it (its row of the value), clamped at 0.
      def mask_ranks(flat)
        ints = Native.astype(flat, INT32, nil)
        if MLX::Core.respond_to?(:cumsum)
          return Native.maximum(Native.subtract(MLX::Core.cumsum(ints, 0), 1, nil), 0, nil)
        end

        # Without a scan op: count on the host (forces evaluation).
        seen = 0
        ranks = flat.to_a.map { |m| m ? (seen += 1) - 1 : 0 }
        Native.array(ranks, INT32)
      end

      # Scatter of value at the planned index grid (mode 0 plain, 1 add,
      # 2 prod, 3 max, 4 min); the value broadcasts to a[indices]'s shape.
      def scatter_with(a, indices, value, mode)
        v = weak(value, a)
        plan = plan_advanced(a, indices, ints_placed: false)
        up = Native.broadcast_to(strip_leading_ones(v), plan[:out_shape], nil)
        up = Native.reshape(up, plan[:update_shape], nil)
        return Native.scatter(a, plan[:indices], up, plan[:axes], mode, nil) unless plan[:indices].empty?

        # No index arrays at all (only trailing whole axes): the update is
        # the whole array.
        case mode
        when 0 then Native.broadcast_to(Native.astype(up, a.dtype, nil), a.shape, nil)
        when 1 then Native.astype(Native.add(a, Native.reshape(up, a.shape, nil), nil), a.dtype, nil)
        when 2 then Native.astype(Native.multiply(a, Native.reshape(up, a.shape, nil), nil), a.dtype, nil)
        when 3 then Native.astype(Native.maximum(a, Native.reshape(up, a.shape, nil), nil), a.dtype, nil)
        else Native.astype(Native.minimum(a, Native.reshape(up, a.shape, nil), nil), a.dtype, nil)
        end
      end

      # ---- the index plan -------------------------------------------------

      # NumPy's advanced indexing as one gather/scatter: every indexed axis
      # of a gets an index array shaped to broadcast into the result's
      # leading dims; whole axes after the last index stay block dims.
      # Returns {indices:, axes:, block:, out_shape:, update_shape:}.
      # ints_placed: Integers count as advanced entries when placing the
      # advanced dims (Python MLX's reading does so, as NumPy; its
      # assignment and x.at[] do not: x[1, :, [0, 2]] reads as (2, n) but
      # assigns from (n, 2)).
      def plan_advanced(a, indices, ints_placed: true)
        shape = a.shape
        indices = expand_ellipsis(indices, shape.size)
        # Whole trailing axes are read as blocks, not indexed.
        indices = indices.dup
        indices.pop while !indices.empty? && indices.last.equal?(true)
        adv = indices.each_index.select { |i| advanced?(indices[i]) || (ints_placed && indices[i].is_a?(Integer)) }
        arrays = {}
        axis = 0
        indices.each_with_index do |idx, i|
          next if idx.nil?

          if idx.is_a?(Integer)
            arrays[i] = Native.array(wrap_int(idx, shape[axis], axis), INT64)
          elsif advanced?(idx)
            arrays[i] = idx
          end
          axis += 1
        end
        bshape = arrays.values.map(&:shape).reduce([]) { |s, t| Native.broadcast_shapes(s, t) }
        # Advanced dims go first when something (a slice, nil) separates
        # two advanced entries; else where the first one is.
        first_adv = adv.first
        separated = !adv.empty? && (adv.first..adv.last).any? { |i| !adv.include?(i) }
        out = [] # [:adv] or [:slice, i, len] or [:new]
        out << [:adv] if separated
        axis = 0
        slices = {}
        indices.each_with_index do |idx, i|
          if idx.nil?
            out << [:new]
            next
          end
          n = shape[axis]
          if arrays.key?(i)
            out << [:adv] if !separated && i == first_adv
          else
            b, e, s = case idx
                      when true then [0, n, 1]
                      when Range, Enumerator::ArithmeticSequence then range_bounds(idx, n)
                      else raise TypeError, "invalid index #{idx.inspect} (#{idx.class})"
                      end
            first, len = slice_indices(b, e, s, n)
            slices[i] = [first, s, len]
            out << [:slice, i, len]
          end
          axis += 1
        end
        # Output dims (without the trailing block axes) and positions.
        out_dims = []
        pos = {}
        adv_pos = nil
        out.each do |o|
          case o[0]
          when :adv
            adv_pos = out_dims.size
            out_dims.concat(bshape)
          when :slice
            pos[o[1]] = out_dims.size
            out_dims << o[2]
          else out_dims << 1
          end
        end
        adv_pos ||= 0
        t = out_dims.size
        idx_list = []
        axes = []
        axis = 0
        indices.each_with_index do |idx, i|
          next if idx.nil?

          if arrays.key?(i)
            arr = arrays[i]
            lead = adv_pos + bshape.size - arr.ndim
            idx_list << Native.reshape(arr, [1] * lead + arr.shape + [1] * (t - lead - arr.ndim), nil)
          else
            first, step, len = slices[i]
            r = Native.arange(first, first + step * len, step, INT64, nil)
            r = Native.slice(r, [0], [len], [1], nil) if r.shape[0] != len
            s = [1] * t
            s[pos[i]] = len
            idx_list << Native.reshape(r, s, nil)
          end
          axes << axis
          axis += 1
        end
        nidx = axes.size
        trailing = shape[nidx..]
        {
          indices: idx_list, axes: axes, block: [1] * nidx + trailing,
          out_shape: out_dims + trailing, update_shape: out_dims + [1] * nidx + trailing
        }
      end

      # ---- helpers --------------------------------------------------------

      # MLX::Core.scatter* and gather: with one Integer axis, indices is one
      # index (any integer array-like); with a list of axes, a list of them.
      def index_list(indices, axes)
        return [[Args.array(indices)], [axes]] if axes.is_a?(Integer)

        raise TypeError, "indices must be an Array of index arrays when axes is an Array" unless indices.is_a?(::Array)

        [indices.map { |i| Args.array(i) }, axes]
      end

      def scatter_call(a, indices, updates, axes, mode, stream)
        indices, axes = index_list(indices, axes)
        Native.scatter(a, indices, updates, axes, mode, stream)
      end

      # Ruby Arrays as index arrays (int32 like MLX's lists; all-boolean
      # ones as bool masks); everything else as given.
      def convert_index(idx)
        return idx unless idx.is_a?(::Array)

        flat = idx.flatten
        if !flat.empty? && flat.all? { |v| v == true || v == false }
          Native.array(idx, :bool)
        else
          Native.array(idx, nil)
        end
      end

      def advanced?(idx)
        idx.is_a?(Array)
      end

      def mask?(idx)
        idx.is_a?(Array) && idx.dtype == Core::BOOL
      end

      # An array-like value as an MLX array, weak against a's dtype.
      # Ruby lists convert as MLX converts lists; scalars take a's dtype.
      def weak(value, a)
        case value
        when Array then value
        when ::Array then Native.array(value, nil)
        else Native.array(value, a.dtype)
        end
      end

      def strip_leading_ones(v)
        s = v.shape
        k = 0
        k += 1 while k < s.size && s[k] == 1
        k.zero? ? v : Native.reshape(v, s[k..], nil)
      end

      def wrap_int(idx, n, axis)
        i = idx.negative? ? idx + n : idx
        if i.negative? || i >= n
          raise MLX::IndexError, "index #{idx} is out of bounds for axis #{axis} with size #{n}"
        end

        i
      end

      # First index and length of a Python slice (start, stop, step) over n.
      def slice_indices(start, stop, step, n)
        if step.positive?
          b = start.negative? ? [start + n, 0].max : [start, n].min
          e = stop.negative? ? [stop + n, 0].max : [stop, n].min
          len = e > b ? (e - b + step - 1) / step : 0
        else
          b = start.negative? ? [start + n, -1].max : [start, n - 1].min
          e = stop.negative? ? [stop + n, -1].max : [stop, n - 1].min
          len = b > e ? (b - e - step - 1) / -step : 0
        end
        [b, len]
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

    # x.at[indices].add(v) and friends (Python MLX's x.at[...]): a new array
    # with v combined into the indexed places; repeated indices accumulate
    # (unlike x[indices] += v, where the last write wins).
    class ArrayAt
      def initialize(array)
        @array = array
        @indices = nil
      end

      # at[i, j, ...] or at[[i, j]]: the indices, as for Array#[].
      def [](*indices)
        @indices = indices
        self
      end

      def add(value) = apply(value, 1)
      def subtract(value) = apply(Native.negative(Indexing.weak(value, @array), nil), 1)
      def multiply(value) = apply(value, 2)
      def divide(value) = apply(Native.reciprocal(Indexing.weak(value, @array), nil), 2)
      def maximum(value) = apply(value, 3)
      def minimum(value) = apply(value, 4)

      private

      def apply(value, mode)
        raise MLX::ArgumentError, "ArrayAt needs indices: use x.at[indices].add(v)" if @indices.nil?

        Indexing.accumulate(@array, @indices, value, mode)
      end
    end

    module_function

    # take(a, indices, axis = nil): a's elements at indices along axis (nil:
    # of the flattened a). indices: an Integer (that element, the axis
    # dropped), a Ruby Array of Integers or an integer MLX array.
    def take(a, indices, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      raise TypeError, "expected MLX::Core::Array" unless a.is_a?(Array)

      # As upstream: an integer index is a slice of one, squeezed (a view:
      # no kernel, no index array).
      return Native.take_index(a, indices, axis, stream) if indices.is_a?(Integer)

      Native.take(a, indices, axis, stream)
    end

    # take_along_axis(a, indices, axis = nil): nil takes along the
    # flattened a (indices must then be 1-D, as in Python MLX).
    def take_along_axis(a, indices, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      indices = Args.array(indices)
      if axis.nil?
        return Native.take_along_axis(Native.reshape(a, [-1], stream), indices, 0, stream)
      end

      Native.take_along_axis(a, indices, axis, stream)
    end

    # put_along_axis(a, indices, values, axis = nil): a new array with values
    # written at indices along axis; nil works on the flattened a and
    # reshapes back to a.shape.
    def put_along_axis(a, indices, values, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      indices = Args.array(indices)
      if axis.nil?
        flat = Native.put_along_axis(Native.reshape(a, [-1], stream), indices, values, 0, stream)
        return Native.reshape(flat, a.shape, stream)
      end

      Native.put_along_axis(a, indices, values, axis, stream)
    end

    # slice_update(src, update, start, stop, strides = nil): src with
    # src[start:stop:strides] (one Integer per axis, Python slice bounds)
    # replaced by update (cast to src's dtype, broadcast to the region).
    def slice_update(src, update, start, stop, pos_strides = nil, pos_stream = nil, strides: pos_strides,
                     stream: pos_stream)
      strides ||= ::Array.new(start.size, 1)
      Native.slice_update(src, update, start, stop, strides, stream)
    end

    # gather(a, indices, axes, slice_sizes): upstream MLX's gather (not
    # exposed by Python MLX): index arrays broadcast to a shape I, one per
    # axis of axes (an Integer axis takes one index); the result has shape
    # I + slice_sizes.
    def gather(a, indices, axes, slice_sizes, pos_stream = nil, stream: pos_stream)
      indices, axes = Indexing.index_list(indices, axes)
      Native.gather(a, indices, axes, slice_sizes, stream)
    end

    # scatter(a, indices, updates, axes) and scatter_add / _prod / _max /
    # _min: upstream MLX's scatter ops (C++ API; Python MLX only has them
    # behind x.at[...]). updates has shape I + one block size per axis of a.
    def scatter(a, indices, updates, axes, pos_stream = nil, stream: pos_stream)
      Indexing.scatter_call(a, indices, updates, axes, 0, stream)
    end

    def scatter_add(a, indices, updates, axes, pos_stream = nil, stream: pos_stream)
      Indexing.scatter_call(a, indices, updates, axes, 1, stream)
    end

    def scatter_prod(a, indices, updates, axes, pos_stream = nil, stream: pos_stream)
      Indexing.scatter_call(a, indices, updates, axes, 2, stream)
    end

    def scatter_max(a, indices, updates, axes, pos_stream = nil, stream: pos_stream)
      Indexing.scatter_call(a, indices, updates, axes, 3, stream)
    end

    def scatter_min(a, indices, updates, axes, pos_stream = nil, stream: pos_stream)
      Indexing.scatter_call(a, indices, updates, axes, 4, stream)
    end
  end
end
