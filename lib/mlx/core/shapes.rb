# frozen_string_literal: true

module MLX
  module Core
    # Largest Integer for "to the end" in slice bounds.
    SLICE_END = 2**62

    module_function

    # reshape(a, shape): one entry may be -1 (inferred). A view when possible.
    def reshape(a, shape, pos_stream = nil, stream: pos_stream)
      Native.reshape(a, Args.shape(shape), stream)
    end

    def flatten(a, pos_start = 0, pos_end = -1, pos_stream = nil, start_axis: pos_start, end_axis: pos_end,
                stream: pos_stream)
      Native.flatten(a, start_axis, end_axis, stream)
    end

    def unflatten(a, axis, shape, pos_stream = nil, stream: pos_stream)
      Native.unflatten(a, axis, Args.shape(shape), stream)
    end

    # transpose(a, axes = nil): nil reverses the axes.
    def transpose(a, pos_axes = nil, pos_stream = nil, axes: pos_axes, stream: pos_stream)
      Native.transpose(a, axes, stream)
    end

    def permute_dims(a, pos_axes = nil, pos_stream = nil, axes: pos_axes, stream: pos_stream)
      Native.transpose(a, axes, stream)
    end

    # squeeze(a, axis = nil): nil removes every size-1 axis.
    def squeeze(a, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.squeeze(a, axis, stream)
    end

    def expand_dims(a, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      raise ::ArgumentError, "expand_dims needs an axis" if axis.nil?

      Native.expand_dims(a, axis, stream)
    end

    def atleast_1d(*arrays, stream: nil)
      out = arrays.map { |a| a = Args.array(a); a.ndim.zero? ? Native.reshape(a, [1], stream) : a }
      out.size == 1 ? out[0] : out
    end

    def atleast_2d(*arrays, stream: nil)
      out = arrays.map do |a|
        a = Args.array(a)
        case a.ndim
        when 0 then Native.reshape(a, [1, 1], stream)
        when 1 then Native.reshape(a, [1, a.shape[0]], stream)
        else a
        end
      end
      out.size == 1 ? out[0] : out
    end

    def atleast_3d(*arrays, stream: nil)
      out = arrays.map do |a|
        a = Args.array(a)
        case a.ndim
        when 0 then Native.reshape(a, [1, 1, 1], stream)
        when 1 then Native.reshape(a, [1, a.shape[0], 1], stream)
        when 2 then Native.reshape(a, a.shape + [1], stream)
        else a
        end
      end
      out.size == 1 ? out[0] : out
    end

    def moveaxis(a, source, destination, pos_stream = nil, stream: pos_stream)
      Native.moveaxis(a, source, destination, stream)
    end

    def swapaxes(a, axis1, axis2, pos_stream = nil, stream: pos_stream)
      Native.swapaxes(a, axis1, axis2, stream)
    end

    def broadcast_to(a, shape, pos_stream = nil, stream: pos_stream)
      Native.broadcast_to(a, Args.shape(shape), stream)
    end

    # broadcast_shapes(shape, *shapes) -> Array of Integer
    def broadcast_shapes(*shapes)
      raise ::ArgumentError, "broadcast_shapes needs at least one shape" if shapes.empty?

      shapes.map { |s| Args.shape(s) }.reduce { |x, y| Native.broadcast_shapes(x, y) }
    end

    # broadcast_arrays(arrays) -> [A], every array broadcast to the common shape.
    def broadcast_arrays(*arrays, stream: nil)
      arrays = arrays[0] if arrays.size == 1 && arrays[0].is_a?(::Array)
      arrays = Args.arrays(arrays)
      return arrays if arrays.empty?

      shape = broadcast_shapes(*arrays.map(&:shape))
      arrays.map { |a| Native.broadcast_to(a, shape, stream) }
    end

    # concatenate(arrays, axis = 0); axis nil flattens the inputs first.
    def concatenate(arrays, pos_axis = 0, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      arrays = Args.arrays(arrays)
      if axis.nil?
        arrays = arrays.map { |a| Native.reshape(a, [-1], stream) }
        axis = 0
      end
      Native.concatenate(arrays, axis, stream)
    end

    def concat(arrays, pos_axis = 0, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      concatenate(arrays, axis, stream)
    end

    # stack(arrays, axis = 0): a new axis.
    def stack(arrays, pos_axis = 0, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.stack(Args.arrays(arrays), axis || 0, stream)
    end

    # split(a, indices_or_sections, axis = 0) -> [A]: an Integer gives that
    # many equal parts, an Array splits at those indices.
    def split(a, indices_or_sections, pos_axis = 0, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.split(a, indices_or_sections, axis || 0, stream)
    end

    # repeat(a, repeats, axis = nil): nil repeats the flattened array.
    def repeat(a, repeats, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.repeat(a, repeats, axis, stream)
    end

    # tile(a, reps): reps an Integer or an Array.
    def tile(a, reps, pos_stream = nil, stream: pos_stream)
      Native.tile(a, reps.is_a?(Integer) ? [reps] : reps, stream)
    end

    # roll(a, shift, axis = nil): elements shifted along axis (wrapping);
    # nil rolls the flattened array. shift and axis may be Arrays.
    def roll(a, shift, pos_axis = nil, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      a = Args.array(a)
      if axis.nil?
        total = ::Kernel.Array(shift).sum
        return Native.reshape(roll_axis(Native.reshape(a, [-1], stream), total, 0, stream), a.shape, stream)
      end
      shifts = ::Kernel.Array(shift)
      axes = ::Kernel.Array(axis)
      shifts *= axes.size if shifts.size == 1 && axes.size > 1
      raise MLX::ArgumentError, "[roll] shift and axis must have the same length" if shifts.size != axes.size

      shifts.zip(axes).reduce(a) { |acc, (s, ax)| roll_axis(acc, s, ax, stream) }
    end

    def roll_axis(a, shift, axis, stream)
      axis += a.ndim if axis.negative?
      raise MLX::IndexError, "[roll] axis #{axis} out of range for #{a.ndim} dimensions" unless (0...a.ndim).cover?(axis)

      n = a.shape[axis]
      return a if n.zero? || (shift % n).zero?

      k = n - (shift % n)
      starts = ::Array.new(a.ndim, 0)
      stops = a.shape.dup
      steps = ::Array.new(a.ndim, 1)
      head_start = starts.dup
      head_start[axis] = k
      tail_stop = stops.dup
      tail_stop[axis] = k
      head = Native.slice(a, head_start, stops, steps, stream)
      tail = Native.slice(a, starts, tail_stop, steps, stream)
      Native.concatenate([head, tail], axis, stream)
    end
    private_class_method :roll_axis

    # pad(a, pad_width, mode = "constant", constant_values = 0). pad_width:
    # an Integer (both sides of every axis), [before, after] (every axis), or
    # one [before, after] per axis. mode: "constant" or "edge".
    def pad(a, pad_width, pos_mode = "constant", pos_value = 0, pos_stream = nil, mode: pos_mode,
            constant_values: pos_value, stream: pos_stream)
      a = Args.array(a)
      pairs = pad_pairs(pad_width, a.ndim)
      axes = (0...a.ndim).to_a
      Native.pad(a, axes, pairs.map(&:first), pairs.map(&:last), constant_values, mode.to_s, stream)
    end

    def pad_pairs(width, ndim)
      case width
      when Integer then ::Array.new(ndim) { [width, width] }
      when ::Array
        if width.all?(Integer)
          if width.size == 1
            ::Array.new(ndim) { [width[0], width[0]] }
          elsif width.size == 2
            ::Array.new(ndim) { width.dup }
          else
            raise MLX::ArgumentError, "[pad] pad_width must be an Integer, [before, after] or one pair per axis"
          end
        else
          pairs = width.map { |w| w.is_a?(Integer) ? [w, w] : w }
          pairs *= ndim if pairs.size == 1 && ndim > 1
          unless pairs.size == ndim && pairs.all? { |p| p.is_a?(::Array) && p.size == 2 && p.all?(Integer) }
            raise MLX::ArgumentError, "[pad] pad_width needs one [before, after] pair per axis (#{ndim})"
          end

          pairs
        end
      else raise TypeError, "[pad] pad_width must be an Integer or an Array, got #{width.class}"
      end
    end
    private_class_method :pad_pairs

    # contiguous(a, allow_col_major = false): a row-major copy (a view when
    # already contiguous).
    def contiguous(a, pos_allow = false, pos_stream = nil, allow_col_major: pos_allow, stream: pos_stream)
      Native.contiguous(a, allow_col_major, stream)
    end

    # slice(a, start, stop, strides = nil): start/stop/strides one Integer
    # per axis, Python slice semantics (negatives from the end, clamped).
    def slice(a, start, stop, pos_strides = nil, pos_stream = nil, strides: pos_strides, stream: pos_stream)
      strides ||= ::Array.new(start.size, 1)
      Native.slice(a, start, stop, strides, stream)
    end
  end
end
