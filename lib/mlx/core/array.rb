# frozen_string_literal: true

module MLX
  module Core
    # A lazy n-dimensional array. Created by MLX::Core.array and every op;
    # computed on MLX::Core.eval or when read (item, to_a, inspect).
    #
    # Defined natively: shape ndim size dtype nbytes itemsize item to_a tolist
    # eval evaluated? + - * / % ** -@ +@ ~ abs < <= > >= == != & | ^ << >>
    # matmul. Comparisons (including == and !=) are elementwise and return
    # bool arrays, as in MLX; == against something that is not array-like
    # (nil, a String) is simply false. eql? and hash stay Object's (identity),
    # so arrays work as Hash keys by identity.
    class Array
      # A Ruby scalar on the left of an operator (`2.0 * x`): Ruby asks
      # x.coerce(2.0) and then calls the operator on this wrapper, which
      # keeps the scalar weak and the operand order.
      class ScalarOperand
        attr_reader :value

        def initialize(value)
          @value = value
        end

        {
          :+ => :add, :- => :subtract, :* => :multiply, :/ => :divide, :% => :remainder, :** => :power,
          :< => :less, :<= => :less_equal, :> => :greater, :>= => :greater_equal, :== => :equal,
          :& => :bitwise_and, :| => :bitwise_or, :^ => :bitwise_xor, :<< => :left_shift, :>> => :right_shift
        }.each do |op, fn|
          module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
            def #{op}(other)
              Native.#{fn}(@value, other, nil)
            end
          RUBY
        end
      end

      def coerce(other)
        [ScalarOperand.new(other), self]
      end

      # Python-style names of the operators.
      def add(other) = self + other
      def subtract(other) = self - other
      def multiply(other) = self * other
      def divide(other) = self / other
      def maximum(other) = Native.maximum(self, other, nil)
      def minimum(other) = Native.minimum(self, other, nil)
      def floor_divide(other) = Native.floor_divide(self, other, nil)
      def power(other) = self**other
      def remainder(other) = self % other

      # The transpose (axes reversed).
      def T = Native.transpose(self, nil, nil)

      def astype(pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
        Native.astype(self, dtype || FLOAT32, stream)
      end

      # reshape(*shape): Integers or one Array; one entry may be -1.
      def reshape(*shape, stream: nil)
        shape = shape[0] if shape.size == 1 && shape[0].is_a?(::Array)
        Native.reshape(self, shape, stream)
      end

      # transpose(*axes): none reverses; Integers or one Array.
      def transpose(*axes, stream: nil)
        axes = axes[0] if axes.size == 1 && (axes[0].is_a?(::Array) || axes[0].nil?)
        axes = nil if axes.is_a?(::Array) && axes.empty?
        Native.transpose(self, axes, stream)
      end

      def flatten(start_axis = 0, end_axis = -1, stream: nil) = Native.flatten(self, start_axis, end_axis, stream)
      def squeeze(pos_axis = nil, axis: pos_axis, stream: nil) = Native.squeeze(self, axis, stream)
      def expand_dims(axis, stream: nil) = Native.expand_dims(self, axis, stream)
      def moveaxis(source, destination, stream: nil) = Native.moveaxis(self, source, destination, stream)
      def swapaxes(axis1, axis2, stream: nil) = Native.swapaxes(self, axis1, axis2, stream)
      def broadcast_to(shape, stream: nil) = MLX::Core.broadcast_to(self, shape, stream: stream)

      def split(indices_or_sections, pos_axis = 0, axis: pos_axis, stream: nil)
        Native.split(self, indices_or_sections, axis || 0, stream)
      end

      def round(decimals = 0, stream: nil) = Native.round(self, decimals, stream)

      # Reductions: axis nil (all), an Integer or an Array; keepdims.
      %i[sum mean prod max min all any logsumexp].each do |op|
        module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def #{op}(pos_axis = nil, pos_keepdims = false, axis: pos_axis, keepdims: pos_keepdims, stream: nil)
            Native.#{op}(self, axis, keepdims, stream)
          end
        RUBY
      end

      def var(pos_axis = nil, pos_keepdims = false, pos_ddof = 0, axis: pos_axis, keepdims: pos_keepdims,
              ddof: pos_ddof, stream: nil)
        Native.var(self, axis, keepdims, ddof || 0, stream)
      end

      def std(pos_axis = nil, pos_keepdims = false, pos_ddof = 0, axis: pos_axis, keepdims: pos_keepdims,
              ddof: pos_ddof, stream: nil)
        Native.std(self, axis, keepdims, ddof || 0, stream)
      end

      def argmax(pos_axis = nil, pos_keepdims = false, axis: pos_axis, keepdims: pos_keepdims, stream: nil)
        Native.argmax(self, axis, keepdims, stream)
      end

      def argmin(pos_axis = nil, pos_keepdims = false, axis: pos_axis, keepdims: pos_keepdims, stream: nil)
        Native.argmin(self, axis, keepdims, stream)
      end

      # No-argument elementwise methods.
      %i[exp sin cos tan log log10 log1p log2 square sqrt rsqrt reciprocal sign sigmoid floor ceil
         real imag isnan isinf isfinite logical_not].each do |op|
        module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def #{op}(stream: nil) = Native.#{op}(self, stream)
        RUBY
      end

      def conj(stream: nil) = Native.conjugate(self, stream)
      def conjugate(stream: nil) = Native.conjugate(self, stream)

      # Forwarding to MLX::Core with self first.
      def softmax(*args, **kw) = MLX::Core.softmax(self, *args, **kw)

      # Machine epsilon of a floating dtype (Float::EPSILON otherwise).
      def eps
        MLX::Core.issubdtype(dtype, :inexact) ? Finfo.new(dtype).eps : Float::EPSILON
      end

      # Indexing: see MLX::Core::Indexing. a[0], a[-1], a[1..], a[..2],
      # a[(0..6) % 2], a[nil], a[0, 1..2], a[true, 0], a[:ellipsis, 0],
      # a[[0, 2]], a[idx_array, 1..], a[[0, 1], [2, 3]].
      def [](*indices)
        Indexing.get(self, indices)
      end

      # a[...] = v as in Python MLX: this object now holds the updated array
      # (other arrays that shared its old value keep it). Indices as for [],
      # plus a lone bool mask (a[mask] = v). Returns v, as Ruby assignments do.
      def []=(*indices, value)
        initialize_copy(Indexing.set(self, indices, value))
      end

      # x.at[indices].add(v) etc.: see MLX::Core::ArrayAt.
      def at = ArrayAt.new(self)

      def to_s = Format.inspect_array(self)
      def inspect = Format.inspect_array(self)

      # Size-1 arrays as Ruby numbers.
      def to_i = item.to_i
      def to_f = item.to_f

      # The length of the first axis (0-d arrays have none).
      def length
        raise MLX::ArgumentError, "len() of a 0-d array" if ndim.zero?

        shape[0]
      end

      # ---- Python-style protocol names of the earlier binding ---------------
      # Operators, reflected operators (scalar on the left) and the
      # "in-place" forms, which return a new array as MLX's do.
      {
        add: :+, sub: :-, mul: :*, truediv: :/, div: :/, mod: :%, pow: :**,
        and: :&, or: :|, xor: :^, lshift: :<<, rshift: :>>,
        eq: :==, ne: :!=, lt: :<, le: :<=, gt: :>, ge: :>=
      }.each do |name, op|
        module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def __#{name}__(other) = self #{op} other
        RUBY
      end
      { add: :add, sub: :subtract, mul: :multiply, truediv: :divide, div: :divide, floordiv: :floor_divide,
        mod: :remainder, pow: :power }.each do |name, fn|
        module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def __r#{name}__(other) = Native.#{fn}(other, self, nil)
        RUBY
      end
      { add: :+, sub: :-, mul: :*, truediv: :/, mod: :%, pow: :**, and: :&, or: :|, xor: :^,
        lshift: :<<, rshift: :>> }.each do |name, op|
        module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def __i#{name}__(other) = self #{op} other
        RUBY
      end
      def __floordiv__(other) = Native.floor_divide(self, other, nil)
      def __ifloordiv__(other) = Native.floor_divide(self, other, nil)
      def __matmul__(other) = matmul(other)
      def __imatmul__(other) = matmul(other)
      def __neg__ = -self
      def __abs__ = abs
      def __invert__ = ~self

      # Size-1 conversions.
      def __bool__ = scalar_for("__bool__") { |v| v.is_a?(Complex) ? !v.zero? : v != 0 && v != false }
      def __int__ = scalar_for("__int__", &:to_i)
      def __float__ = scalar_for("__float__", &:to_f)

      def __len__ = ndim.zero? ? 0 : shape[0]
      def __getitem__(index) = self[*::Kernel.Array(index)]
      def __repr__ = inspect
      def __hash__ = hash
      def __copy__ = dup
      def __deepcopy__(_memo = nil) = dup
      def __format__(_spec = "") = inspect
      def __array_namespace__ = MLX::Core
      def __init__(*) = self
      def __getstate__ = { "values" => to_a, "dtype" => dtype.to_str_name }
      def __setstate__(state) = MLX::Core.array(state["values"] || state[:values], state["dtype"] || state[:dtype])
      def __iter__ = ArrayIterator.new(self)

      # The next row of this array's own iterator (started on first use).
      def __next__
        @__row_iterator ||= ArrayIterator.new(self)
        @__row_iterator.__next__
      end

      # The array with self[index] = value applied, as a NEW array (self is
      # unchanged). index: one index or an Array of them as for [].
      def __setitem__(index, value)
        tuple = index.is_a?(::Array) && index.any? { |i| !i.is_a?(Integer) && !i.equal?(true) && !i.equal?(false) }
        Indexing.set(self, tuple ? index : [index], value)
      end

      private

      def scalar_for(name)
        raise MLX::ArgumentError, "#{name} needs a size-1 array (size is #{size})" unless size == 1

        yield item
      end
    end

    # Iterates over the first axis (Python's iter(array)).
    class ArrayIterator
      def initialize(array)
        raise TypeError, "iteration over a 0-d array" if array.ndim.zero?

        @array = array
        @index = 0
      end

      def __iter__ = self

      def __next__
        raise StopIteration if @index >= @array.shape[0]

        row = @array[@index]
        @index += 1
        row
      end
      alias next __next__
    end
  end
end
