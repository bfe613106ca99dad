# frozen_string_literal: true

module MLX
  module Core
    module_function

    # array(value, dtype = nil): an MLX array from an array-like (Integer ->
    # int32 or int64, Float -> float32, true/false -> bool, Complex ->
    # complex64, nested Arrays by their widest element), cast when a dtype is
    # given.
    def array(value, pos_dtype = nil, dtype: pos_dtype)
      Native.array(value, dtype)
    end

    def asarray(value, pos_dtype = nil, dtype: pos_dtype)
      Native.array(value, dtype)
    end

    # Lists that contain MLX arrays: stack the converted elements (called by
    # the extension's converter).
    def array_from_nested(list, dtype)
      raise MLX::ArgumentError, "cannot build an array from an empty list of arrays" if list.empty?

      out = Native.stack(list.map { |e| e.is_a?(Array) ? e : array_from_element(e) }, 0, nil)
      dtype ? Native.astype(out, dtype, nil) : out
    end

    def array_from_element(e)
      e.is_a?(::Array) && e.any? { |x| x.is_a?(Array) || x.is_a?(::Array) } ? array_from_nested(e, nil) : Native.array(e, nil)
    end
    private_class_method :array_from_element

    # arange(stop), arange(start, stop), arange(start, stop, step), each
    # optionally followed by a dtype; keywords start:, stop:, step:, dtype:,
    # stream:. The dtype defaults to int32 when every bound is an Integer,
    # else float32 (as MLX).
    def arange(*args, start: nil, stop: nil, step: nil, dtype: nil, stream: nil)
      dtype = args.pop if args.size > 1 && Args.dtype?(args.last)
      raise ::ArgumentError, "arange takes 1 to 3 numbers and an optional dtype" if args.size > 3

      case args.size
      when 0 then nil
      when 1 then stop.nil? && start.nil? ? stop = args[0] : start = args[0]
      when 2 then start, stop = args
      else start, stop, step = args
      end
      raise ::ArgumentError, "arange needs a stop value" if stop.nil?

      start ||= 0
      step ||= 1
      [start, stop, step].each do |v|
        raise TypeError, "arange bounds must be numbers, got #{v.class}" unless v.is_a?(Numeric)
      end
      dtype ||= [start, stop, step].all?(Integer) ? INT32 : FLOAT32
      Native.arange(start, stop, step, dtype, stream)
    end

    # linspace(start, stop, num = 50, dtype = float32); also linspace(start,
    # stop, dtype).
    def linspace(start, stop, *args, num: nil, dtype: nil, stream: nil)
      dtype = args.pop if !args.empty? && Args.dtype?(args.last)
      raise ::ArgumentError, "linspace takes 2 to 4 arguments" if args.size > 1

      num ||= args[0] || 50
      Native.linspace(start, stop, num, dtype || FLOAT32, stream)
    end

    def zeros(shape, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.zeros(Args.shape(shape), dtype || FLOAT32, stream)
    end

    def ones(shape, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.ones(Args.shape(shape), dtype || FLOAT32, stream)
    end

    # full(shape, fill_value, dtype = nil): nil dtype keeps fill_value's.
    def full(shape, vals, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.full(Args.shape(shape), vals, dtype, stream)
    end

    def zeros_like(a, pos_stream = nil, stream: pos_stream)
      Native.zeros_like(a, stream)
    end

    def ones_like(a, pos_stream = nil, stream: pos_stream)
      Native.ones_like(a, stream)
    end

    # full_like(a, fill_value, dtype = nil): dtype defaults to a's.
    def full_like(a, vals, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      raise TypeError, "expected MLX::Core::Array, got #{a.class}" unless a.is_a?(Array)

      Native.full(a.shape, vals, dtype || a.dtype, stream)
    end

    # eye(n, m = n, k = 0, dtype = float32); a dtype may end the list early.
    def eye(n, *args, m: nil, k: nil, dtype: nil, stream: nil)
      dtype = args.pop if !args.empty? && Args.dtype?(args.last)
      raise ::ArgumentError, "eye takes 1 to 4 arguments" if args.size > 2

      m ||= args[0]
      k ||= args[1]
      Native.eye(n, m, k, dtype || FLOAT32, stream)
    end

    def identity(n, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.identity(n, dtype || FLOAT32, stream)
    end

    # tri(n, m = n, k = 0, dtype = float32), with eye's dtype detection.
    def tri(n, *args, m: nil, k: nil, dtype: nil, stream: nil)
      dtype = args.pop if !args.empty? && Args.dtype?(args.last)
      raise ::ArgumentError, "tri takes 1 to 4 arguments" if args.size > 2

      m ||= args[0]
      k ||= args[1]
      Native.tri(n, m, k, dtype || FLOAT32, stream)
    end

    def tril(a, pos_k = 0, pos_stream = nil, k: pos_k, stream: pos_stream)
      Native.tril(a, k, stream)
    end

    def triu(a, pos_k = 0, pos_stream = nil, k: pos_k, stream: pos_stream)
      Native.triu(a, k, stream)
    end

    # meshgrid(arrays, sparse = false, indexing = "xy") -> [A]
    def meshgrid(arrays, pos_sparse = false, pos_indexing = "xy", sparse: pos_sparse, indexing: pos_indexing,
                 stream: nil)
      raise TypeError, "meshgrid expects an Array of arrays" unless arrays.is_a?(::Array)

      indexing = indexing.to_s
      raise MLX::ArgumentError, "[meshgrid] indexing must be \"xy\" or \"ij\"" unless %w[xy ij].include?(indexing)

      arrays = arrays.map { |x| Native.reshape(Args.array(x), [-1], stream) }
      n = arrays.size
      return arrays if n < 2

      outs = arrays.each_with_index.map do |x, i|
        shape = ::Array.new(n, 1)
        shape[i] = x.size
        Native.reshape(x, shape, stream)
      end
      if indexing == "xy"
        outs.map! do |x|
          axes = (0...n).to_a
          axes[0], axes[1] = axes[1], axes[0]
          Native.transpose(x, axes, stream)
        end
      end
      return outs if sparse

      shape = outs.map(&:shape).reduce { |s, t| Native.broadcast_shapes(s, t) }
      outs.map { |x| Native.broadcast_to(x, shape, stream) }
    end
  end
end
