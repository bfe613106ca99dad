# frozen_string_literal: true

module MLX
  module NN
    # Default [group_size, bits] per quantization mode.
    QUANTIZATION_DEFAULTS = { "affine" => [64, 4], "mxfp4" => [32, 4], "nvfp4" => [16, 4], "mxfp8" => [32, 8] }.freeze

    def self.quantization_defaults(mode, group_size, bits)
      defaults = QUANTIZATION_DEFAULTS[mode.to_s]
      if defaults.nil?
        raise ArgumentError, "Invalid quantization mode '#{mode}'. Valid modes are: #{QUANTIZATION_DEFAULTS.keys.join(', ')}."
      end

      [group_size || defaults[0], bits || defaults[1]]
    end

    # quantize(model, group_size: nil, bits: nil, mode: "affine",
    # quantize_input: false, class_predicate: nil) -> model: every leaf
    # module the predicate (path, module) accepts (default: those with
    # #to_quantized) is replaced by its quantized form, in place. The
    # predicate may return a Hash of to_quantized options instead of true.
    def self.quantize(model, group_size: nil, bits: nil, mode: "affine", quantize_input: false, class_predicate: nil)
      class_predicate ||= ->(_path, m) { m.respond_to?(:to_quantized) }
      swap = lambda do |path, m|
        choice = class_predicate.call(path, m)
        next m unless choice
        raise ArgumentError, "Unable to quantize model of type #{m.class}" unless m.respond_to?(:to_quantized)

        case choice
        when true
          opts = { group_size: group_size, bits: bits, mode: mode }
          opts[:quantize_input] = true if quantize_input
          m.to_quantized(**opts)
        when Hash
          opts = choice.transform_keys(&:to_sym)
          opts.delete(:quantize_input) if opts.key?(:quantize_input) && !opts[:quantize_input]
          m.to_quantized(**opts)
        else
          raise ArgumentError, "class_predicate must return true/false or a Hash of options for to_quantized"
        end
      end
      leaves = MLX::Utils.tree_map_with_path(swap, model.leaf_modules, is_leaf: ->(v) { v.is_a?(Module) })
      model.update_modules(leaves)
      model
    end

    # The packed weight of quantized layers.
    module QuantizedWeights
      attr_reader :group_size, :bits, :mode

      private

      def store_quantized(weight)
        packed = Core.quantize(weight, @group_size, @bits, @mode)
        self.weight = packed[0]
        self.scales = packed[1]
        self.biases = packed[2]
      end
    end

    # QuantizedLinear.new(input_dims, output_dims, bias = true, group_size =
    # nil, bits = nil, mode: "affine") [weight, scales, biases, bias]; built
    # frozen.
    class QuantizedLinear < Module
      include QuantizedWeights

      def initialize(input_dims, output_dims, bias = true, group_size = nil, bits = nil, mode: "affine")
        super()
        @group_size, @bits = NN.quantization_defaults(mode, group_size, bits)
        @mode = mode
        scale = Math.sqrt(1.0 / input_dims)
        store_quantized(Core.uniform([output_dims, input_dims], -scale, scale))
        self.bias = Core.zeros([output_dims]) if bias
        freeze
      end

      def call(x)
        y = Core.quantized_matmul(x, self["weight"], self["scales"], self["biases"], true, @group_size, @bits, @mode)
        key?("bias") ? Core.add(y, self["bias"]) : y
      end

      def self.from_linear(linear, group_size = nil, bits = nil, mode: "affine")
        out_dims, in_dims = linear.weight.shape
        ql = new(in_dims, out_dims, false, group_size, bits, mode: mode)
        ql.__send__(:store_quantized, linear.weight)
        ql.bias = linear["bias"] if linear.key?("bias")
        ql
      end
    end

    # QuantizedEmbedding.new(num_embeddings, dims, group_size = nil, bits =
    # nil, mode: "affine") [weight, scales, biases]; built frozen.
    class QuantizedEmbedding < Module
      include QuantizedWeights

      attr_reader :num_embeddings, :dims

      def initialize(num_embeddings, dims, group_size = nil, bits = nil, mode: "affine")
        super()
        @group_size, @bits = NN.quantization_defaults(mode, group_size, bits)
        @mode = mode
        store_quantized(Core.normal([num_embeddings, dims], 0.0, Math.sqrt(1.0 / dims)))
        @num_embeddings = num_embeddings
        @dims = dims
        freeze
      end

      def call(x)
        rows = ->(a) { a.nil? ? nil : Core.take(a, x, 0) }
        Core.dequantize(rows.call(self["weight"]), rows.call(self["scales"]), rows.call(self["biases"]), @group_size,
                        @bits, @mode)
      end

      def as_linear(x)
        Core.quantized_matmul(x, self["weight"], self["scales"], self["biases"], true, @group_size, @bits, @mode)
      end

      def self.from_embedding(embedding, group_size = nil, bits = nil, mode: "affine")
        n, dims = embedding.weight.shape
        ql = new(n, dims, group_size, bits, mode: mode)
        ql.__send__(:store_quantized, embedding.weight)
        ql
      end
    end

    # QQLinear.new(input_dims, output_dims, group_size = nil, bits = nil,
    # mode: "nvfp4") [weight(, scales)]: inputs and weights quantized in
    # mode; the weight stays float while training and is packed in eval.
    class QQLinear < Module
      attr_reader :group_size, :bits, :mode

      def initialize(input_dims, output_dims, group_size = nil, bits = nil, mode: "nvfp4")
        super()
        @group_size, @bits = NN.quantization_defaults(mode, group_size, bits)
        @mode = mode
        scale = Math.sqrt(1.0 / input_dims)
        self.weight = Core.uniform([output_dims, input_dims], -scale, scale)
        @quantized = false
      end

      def quantize
        unless @quantized
          self.weight, self.scales = Core.quantize(weight, @group_size, @bits, @mode)
          @quantized = true
        end
        self
      end

      def dequantize
        if @quantized
          self.weight = Core.dequantize(weight, self["scales"], nil, @group_size, @bits, @mode)
          state.delete("scales")
          @quantized = false
        end
        self
      end

      def set_training(mode)
        super
        mode ? dequantize : quantize
      end

      def call(x) = Core.qqmm(x, self["weight"], self["scales"], @group_size, @bits, @mode)

      def self.from_linear(linear, group_size = nil, bits = nil, mode: "nvfp4")
        raise NotImplementedError, "QQLinear does not support bias yet." unless linear["bias"].nil?

        out_dims, in_dims = linear.weight.shape
        ql = new(in_dims, out_dims, group_size, bits, mode: mode)
        ql.weight = linear.weight
        ql.train(linear.training)
        ql
      end
    end

    class Linear
      # The quantized layer of this one (QQLinear when quantize_input, for
      # the "nvfp4" and "mxfp8" modes only).
      def to_quantized(group_size: nil, bits: nil, mode: "affine", quantize_input: false)
        if quantize_input
          unless %w[nvfp4 mxfp8].include?(mode.to_s)
            raise ArgumentError, "Quantized input is only supported for the 'nvfp4' and 'mxfp8' modes, got '#{mode}'."
          end

          return QQLinear.from_linear(self, group_size, bits, mode: mode)
        end
        QuantizedLinear.from_linear(self, group_size, bits, mode: mode)
      end
    end

    class Embedding
      def to_quantized(group_size: nil, bits: nil, mode: "affine", quantize_input: false)
        raise ArgumentError, "Quantized input is not supported." if quantize_input

        QuantizedEmbedding.from_embedding(self, group_size, bits, mode: mode)
      end
    end
  end
end
