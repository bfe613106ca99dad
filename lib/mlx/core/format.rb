# frozen_string_literal: true

module MLX
  module Core
    # Array#inspect in Python MLX's repr format:
    #   array([1.41421, 1.73205, 2], dtype=float32)
    # Floats print as C's %g (6 significant digits), bools as True/False,
    # complex as 1+2j. An axis longer than 6 shows its first and last 3
    # entries around "..." (MLX summarises any such axis, whatever the total
    # size). Only the shown elements are gathered (engine slices), so
    # printing a big array formats a few dozen values.
    module Format
      EDGE = 3

      module_function

      def inspect_array(a)
        shape = a.shape
        shown = shown_elements(a, shape)
        body = shape.empty? ? element(shown.to_a, a.dtype) : sub(shown.to_a, shape, 0, a.dtype)
        "array(#{body}, dtype=#{a.dtype.to_str_name})"
      end

      # The array reduced to its shown elements: per long axis, the first
      # and last EDGE entries.
      def shown_elements(a, shape)
        shape.each_with_index do |n, axis|
          next unless n > 2 * EDGE

          stops = a.shape.dup
          starts = ::Array.new(a.ndim, 0)
          steps = ::Array.new(a.ndim, 1)
          head_stop = stops.dup
          head_stop[axis] = EDGE
          tail_start = starts.dup
          tail_start[axis] = n - EDGE
          head = Native.slice(a, starts, head_stop, steps, nil)
          tail = Native.slice(a, tail_start, stops, steps, nil)
          a = Native.concatenate([head, tail], axis, nil)
        end
        a
      end

      def sub(data, shape, dim, dtype)
        n = shape[dim]
        last = dim == shape.size - 1
        prefix = last ? "" : " " * (7 + dim)
        postfix = last ? ", " : ",\n"
        entries = n > 2 * EDGE ? data[0, EDGE] + [:ellipsis] + data[EDGE, EDGE] : data
        out = +"["
        entries.each_with_index do |e, i|
          out << prefix unless i.zero?
          out << if e == :ellipsis then "..."
                 elsif last then element(e, dtype)
                 else sub(e, shape, dim + 1, dtype)
                 end
          out << postfix unless i == entries.size - 1
        end
        out << "]"
      end

      def element(v, dtype)
        case v
        when true then "True"
        when false then "False"
        when Integer then v.to_s
        when Float then float(v)
        when Complex
          re = float(v.real.to_f)
          im = v.imaginary.to_f
          if im.nan? || im >= 0 then "#{re}+#{float(im)}j"
          else "#{re}-#{float(-im)}j"
          end
        else v.to_s
        end
      end

      # C's %g with precision 6, which is what MLX's printer produces.
      def float(x)
        return "nan" if x.nan?
        return x.positive? ? "inf" : "-inf" if x.infinite?

        format("%g", x)
      end
    end
  end
end
