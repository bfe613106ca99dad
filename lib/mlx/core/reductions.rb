# frozen_string_literal: true

module MLX
  module Core
    REDUCTIONS = %i[sum mean prod max min all any logsumexp].freeze

    # name(a, axis = nil, keepdims = false, stream = nil): axis nil (every
    # axis), an Integer or an Array of Integers, negative counted from the end.
    REDUCTIONS.each do |op|
      module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
        def self.#{op}(a, pos_axis = nil, pos_keepdims = false, pos_stream = nil, axis: pos_axis,
                       keepdims: pos_keepdims, stream: pos_stream)
          Native.#{op}(a, axis, keepdims, stream)
        end
      RUBY
    end

    module_function

    # var(a, axis = nil, keepdims = false, ddof = 0)
    def var(a, pos_axis = nil, pos_keepdims = false, pos_ddof = 0, pos_stream = nil, axis: pos_axis,
            keepdims: pos_keepdims, ddof: pos_ddof, stream: pos_stream)
      Native.var(a, axis, keepdims, ddof || 0, stream)
    end

    # std(a, axis = nil, keepdims = false, ddof = 0)
    def std(a, pos_axis = nil, pos_keepdims = false, pos_ddof = 0, pos_stream = nil, axis: pos_axis,
            keepdims: pos_keepdims, ddof: pos_ddof, stream: pos_stream)
      Native.std(a, axis, keepdims, ddof || 0, stream)
    end

    # argmax(a, axis = nil, keepdims = false): one Integer axis; nil = the
    # flattened array. Indices are uint32.
    def argmax(a, pos_axis = nil, pos_keepdims = false, pos_stream = nil, axis: pos_axis, keepdims: pos_keepdims,
               stream: pos_stream)
      Native.argmax(a, axis, keepdims, stream)
    end

    def argmin(a, pos_axis = nil, pos_keepdims = false, pos_stream = nil, axis: pos_axis, keepdims: pos_keepdims,
               stream: pos_stream)
      Native.argmin(a, axis, keepdims, stream)
    end

    # softmax(a, axis = nil, precise = false): nil = over every axis.
    def softmax(a, pos_axis = nil, pos_precise = false, pos_stream = nil, axis: pos_axis, precise: pos_precise,
                stream: pos_stream)
      Native.softmax(a, axis, precise, stream)
    end
  end
end
