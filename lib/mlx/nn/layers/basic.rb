# frozen_string_literal: true

module MLX
  module NN
    # Identity.new(*, **): returns its input.
    class Identity < Module
      def initialize(*, **)
        super()
      end

      def call(x, *, **) = x
    end

    # Linear.new(input_dims, output_dims, bias: true) [weight [out, in], bias]:
    # y = x W^T + b, initialised uniform(-1/sqrt(in), 1/sqrt(in)) (weight
    # drawn first, as upstream).
    class Linear < Module
      def initialize(input_dims, output_dims, bias: true)
        super()
        scale = Math.sqrt(1.0 / input_dims)
        self.weight = Core.uniform([output_dims, input_dims], -scale, scale)
        self.bias = Core.uniform([output_dims], -scale, scale) if bias
      end

      def call(x)
        w = Core.transpose(weight)
        key?("bias") ? Core.addmm(self["bias"], x, w) : Core.matmul(x, w)
      end
    end

    # Bilinear.new(input1_dims, input2_dims, output_dims, bias: true)
    # [weight [out, in2, in1], bias]: y = x1^T W x2 + b.
    class Bilinear < Module
      def initialize(input1_dims, input2_dims, output_dims, bias: true)
        super()
        scale = Math.sqrt(1.0 / input1_dims)
        self.weight = Core.uniform([output_dims, input2_dims, input1_dims], -scale, scale)
        self.bias = Core.uniform([output_dims], -scale, scale) if bias
      end

      def call(x1, x2)
        out, in2, in1 = weight.shape
        lead = x1.shape[0...-1]
        w = Core.reshape(weight, [out * in2, in1])
        y = Core.matmul(Core.reshape(x1, [-1, in1]), Core.transpose(w))
        y = Core.swapaxes(Core.reshape(y, [-1, out, in2]), -2, -1)
        y = Core.squeeze(Core.matmul(Core.reshape(x2, [-1, 1, in2]), y), 1)
        y = Core.reshape(y, lead + [out])
        key?("bias") ? Core.add(y, self["bias"]) : y
      end
    end

    # Sequential.new(*modules) [layers]: each layer gets the previous
    # output (splatted when a Ruby Array, double-splatted when a Hash).
    class Sequential < Module
      def initialize(*modules)
        super()
        self.layers = modules
      end

      def call(*args, **kwargs)
        out = nil
        layers.each_with_index do |layer, i|
          out = if i.zero? then layer.call(*args, **kwargs)
                elsif out.is_a?(::Array) then layer.call(*out)
                elsif out.is_a?(Hash) then layer.call(**out.transform_keys(&:to_sym))
                else layer.call(out)
                end
        end
        layers.empty? ? args.first : out
      end
    end

    # Embedding.new(num_embeddings, dims) [weight]: rows of a table drawn
    # normal(0, 1/sqrt(dims)).
    class Embedding < Module
      def initialize(num_embeddings, dims)
        super()
        self.weight = Core.normal([num_embeddings, dims], 0.0, Math.sqrt(1.0 / dims))
      end

      def call(x) = Core.take(weight, x, 0)

      # The embedding used as an output projection: x W^T.
      def as_linear(x) = Core.matmul(x, Core.transpose(weight))
    end

    # Dropout.new(p = 0.5): zeroes elements with probability p while
    # training and scales the rest by 1 / (1 - p).
    class Dropout < Module
      def initialize(p = 0.5)
        super()
        raise ArgumentError, "The dropout probability #{p} is not in [0, 1)" if p.negative? || p >= 1

        @keep = 1.0 - p
      end

      def call(x)
        return x if @keep == 1.0 || !training

        mask = Core.bernoulli(@keep, x.shape)
        Core.multiply(Core.multiply(mask, x), 1.0 / @keep)
      end
    end

    # Dropout2d.new(p = 0.5): drops whole channels of [N, H, W, C] or
    # [H, W, C] inputs while training.
    class Dropout2d < Dropout
      def call(x)
        raise ArgumentError, "Received input with #{x.ndim} dimensions. Expected 3 or 4 dimensions." unless [3, 4].include?(x.ndim)

        channel_dropout(x, 2)
      end
    end

    # Dropout3d.new(p = 0.5): drops whole channels of 4-/5-D inputs.
    class Dropout3d < Dropout
      def call(x)
        raise ArgumentError, "Received input with #{x.ndim} dimensions. Expected 4 or 5 dimensions." unless [4, 5].include?(x.ndim)

        channel_dropout(x, 3)
      end
    end

    class Dropout
      private

      # One mask entry per channel: the spatial axes before the last are 1.
      def channel_dropout(x, spatial)
        return x if @keep == 1.0 || !training

        shape = x.shape.dup
        (2..(spatial + 1)).each { |i| shape[-i] = 1 }
        mask = Core.bernoulli(@keep, shape)
        Core.multiply(Core.multiply(mask, x), 1.0 / @keep)
      end
    end
  end
end
