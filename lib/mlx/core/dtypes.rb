# frozen_string_literal: true

module MLX
  module Core
    # Dtype objects are created by the extension, one per dtype:
    # MLX::Core.float32 (a function, as in the earlier binding),
    # MLX::Core::FLOAT32 (a constant) and Dtype.new(:float32) are the same
    # object. #name is a Symbol (:bool_ for bool, as MLX's Python `mx.bool_`).
    class Dtype
      # The engine's name, as Python MLX prints it ("float32", "bool").
      def to_str_name
        name == :bool_ ? "bool" : name.to_s
      end
    end

    DTYPE_NAMES = %i[bool_ uint8 uint16 uint32 uint64 int8 int16 int32 int64
                     float16 float32 float64 bfloat16 complex64].freeze

    DTYPE_NAMES.each do |n|
      dtype = Dtype.new(n)
      const_set(n == :bool_ ? :BOOL : n.to_s.upcase.to_sym, dtype)
      define_singleton_method(n) { dtype }
    end
    BOOL_ = BOOL

    # Dtype categories, as Symbols (MLX::Core.floating => :floating).
    CATEGORIES = %i[complexfloating floating inexact signedinteger unsignedinteger integer number generic].freeze
    # The parent of each category (MLX's hierarchy).
    CATEGORY_PARENT = {
      complexfloating: :inexact, floating: :inexact, inexact: :number,
      signedinteger: :integer, unsignedinteger: :integer, integer: :number,
      number: :generic, generic: nil
    }.freeze

    CATEGORIES.each { |c| define_singleton_method(c) { c } }

    module_function

    # issubdtype(t1, t2): each a Dtype, a dtype name, or a category Symbol/String.
    def issubdtype(t1, t2)
      c1 = category_of(t1)
      c2 = category_of(t2)
      if c1.nil? && c2.nil?
        Dtype.new(t1) == Dtype.new(t2)
      elsif c1.nil?
        Native.dtype_issubdtype(Dtype.new(t1), CATEGORIES.index(c2))
      elsif c2.nil?
        false
      else
        c = c1
        c = CATEGORY_PARENT[c] while c && c != c2
        c == c2
      end
    end

    # The result dtype of combining the dtypes of the arguments (arrays or
    # dtypes), MLX's promotion.
    def result_type(*args)
      args.map { |a| a.is_a?(Array) ? a.dtype : Dtype.new(a) }.reduce { |x, y| Native.dtype_promote(x, y) }
    end

    def promote_types(t1, t2)
      Native.dtype_promote(t1, t2)
    end

    def category_of(t)
      return nil if t.is_a?(Dtype)

      sym = t.to_s.to_sym
      CATEGORIES.include?(sym) ? sym : nil
    end
    private_class_method :category_of

    # Machine limits of an inexact dtype (as mx.finfo).
    class Finfo
      LIMITS = {
        float16: [65_504.0, 2.0**-10, 16],
        bfloat16: [3.3895313892515355e+38, 2.0**-7, 16],
        float32: [3.4028234663852886e+38, 2.0**-23, 32],
        float64: [Float::MAX, Float::EPSILON, 64]
      }.freeze

      attr_reader :dtype, :min, :max, :eps, :bits

      def initialize(dtype)
        dtype = Dtype.new(dtype)
        dtype = FLOAT32 if dtype == COMPLEX64
        limits = LIMITS[dtype.name]
        raise MLX::ArgumentError, "[finfo] dtype #{dtype.to_str_name} is not inexact." unless limits

        @dtype = dtype
        @max, @eps, @bits = limits
        @min = -@max
      end

      def inspect
        "#<MLX::Core::Finfo dtype=#{@dtype.to_str_name} min=#{@min} max=#{@max} eps=#{@eps}>"
      end
    end

    # Limits of an integer dtype (as mx.iinfo).
    class Iinfo
      attr_reader :dtype, :min, :max

      def initialize(dtype)
        dtype = Dtype.new(dtype)
        unless MLX::Core.issubdtype(dtype, :integer)
          raise MLX::ArgumentError, "[iinfo] Only integer types supported but #{dtype.to_str_name} was provided"
        end

        bits = dtype.size * 8
        @dtype = dtype
        if MLX::Core.issubdtype(dtype, :unsignedinteger)
          @min = 0
          @max = 2**bits - 1
        else
          @min = -2**(bits - 1)
          @max = 2**(bits - 1) - 1
        end
      end

      def inspect
        "#<MLX::Core::Iinfo dtype=#{@dtype.to_str_name} min=#{@min} max=#{@max}>"
      end
    end

    def finfo(dtype)
      Finfo.new(dtype)
    end

    def iinfo(dtype)
      Iinfo.new(dtype)
    end

    # astype(a, dtype, stream = nil); a nil dtype means float32 (as before).
    def astype(a, pos_dtype = nil, pos_stream = nil, dtype: pos_dtype, stream: pos_stream)
      Native.astype(a, dtype || FLOAT32, stream)
    end
  end
end
