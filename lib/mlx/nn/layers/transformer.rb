# frozen_string_literal: true

module MLX
  module NN
    # MultiHeadAttention.new(dims, num_heads, query_input_dims: nil,
    # key_input_dims: nil, value_input_dims: nil, value_dims: nil,
    # value_output_dims: nil, bias: false) [query_proj, key_proj,
    # value_proj, out_proj]; call(queries, keys, values, mask = nil).
    class MultiHeadAttention < Module
      attr_reader :num_heads

      def initialize(dims, num_heads, query_input_dims: nil, key_input_dims: nil, value_input_dims: nil,
                     value_dims: nil, value_output_dims: nil, bias: false)
        super()
        if (dims % num_heads).nonzero?
          raise ArgumentError, "The input feature dimensions should be divisible by the number of heads " \
                               "(#{dims} % #{num_heads}) != 0"
        end

        query_input_dims ||= dims
        key_input_dims ||= dims
        value_input_dims ||= key_input_dims
        value_dims ||= dims
        value_output_dims ||= dims
        @num_heads = num_heads
        self.query_proj = Linear.new(query_input_dims, dims, bias: bias)
        self.key_proj = Linear.new(key_input_dims, dims, bias: bias)
        self.value_proj = Linear.new(value_input_dims, value_dims, bias: bias)
        self.out_proj = Linear.new(value_dims, value_output_dims, bias: bias)
      end

      def call(queries, keys, values, mask = nil)
        q = heads(query_proj.call(queries))
        k = heads(key_proj.call(keys))
        v = heads(value_proj.call(values))
        scale = Math.sqrt(1.0 / q.shape[-1])
        out = Core.scaled_dot_product_attention(q, k, v, scale, mask)
        out_proj.call(Core.flatten(Core.transpose(out, [0, 2, 1, 3]), -2, -1))
      end

      # [n, n] with the dtype's lowest value above the diagonal (future
      # positions) and zeros elsewhere.
      def self.create_additive_causal_mask(n, dtype = Core.float32)
        idx = Core.arange(n)
        mask = Core.less(Core.expand_dims(idx, 1), Core.expand_dims(idx, 0))
        Core.multiply(Core.astype(mask, dtype), Core.finfo(dtype).min)
      end

      private

      def heads(x) = Core.transpose(Core.unflatten(x, -1, [@num_heads, -1]), [0, 2, 1, 3])
    end

    # The relu of the transformer feed-forward blocks (activation: nil).
    TRANSFORMER_RELU = ->(x) { NN.relu(x) }

    # TransformerEncoderLayer.new(dims, num_heads, mlp_dims: nil, dropout:
    # 0.0, activation: nil, norm_first: true); call(x, mask).
    class TransformerEncoderLayer < Module
      def initialize(dims, num_heads, mlp_dims: nil, dropout: 0.0, activation: nil, norm_first: true)
        super()
        mlp_dims ||= dims * 4
        self.attention = MultiHeadAttention.new(dims, num_heads)
        self.ln1 = LayerNorm.new(dims)
        self.ln2 = LayerNorm.new(dims)
        self.linear1 = Linear.new(dims, mlp_dims)
        self.linear2 = Linear.new(mlp_dims, dims)
        self.dropout1 = Dropout.new(dropout)
        self.dropout2 = Dropout.new(dropout)
        @activation = activation || TRANSFORMER_RELU
        @norm_first = norm_first
      end

      def call(x, mask)
        if @norm_first
          y = ln1.call(x)
          x = Core.add(x, dropout1.call(attention.call(y, y, y, mask)))
          y = linear2.call(dropout2.call(@activation.call(linear1.call(ln2.call(x)))))
          Core.add(x, y)
        else
          x = ln1.call(Core.add(x, dropout1.call(attention.call(x, x, x, mask))))
          y = linear2.call(dropout2.call(@activation.call(linear1.call(x))))
          ln2.call(Core.add(x, y))
        end
      end
    end

    # TransformerEncoder.new(num_layers, dims, num_heads, mlp_dims: nil,
    # dropout: 0.0, activation: nil, norm_first: true, checkpoint: false)
    class TransformerEncoder < Module
      def initialize(num_layers, dims, num_heads, mlp_dims: nil, dropout: 0.0, activation: nil, norm_first: true,
                     checkpoint: false)
        super()
        self.layers = Array.new(num_layers) do
          TransformerEncoderLayer.new(dims, num_heads, mlp_dims: mlp_dims, dropout: dropout, activation: activation,
                                                       norm_first: norm_first)
        end
        self.ln = LayerNorm.new(dims)
        @checkpoint = checkpoint
      end

      def call(x, mask)
        layers.each do |layer|
          x = @checkpoint ? NN.checkpoint(layer).call(x, mask) : layer.call(x, mask)
        end
        ln.call(x)
      end
    end

    # TransformerDecoderLayer.new(dims, num_heads, mlp_dims: nil, dropout:
    # 0.0, activation: nil, norm_first: true); call(x, memory, x_mask,
    # memory_mask).
    class TransformerDecoderLayer < Module
      def initialize(dims, num_heads, mlp_dims: nil, dropout: 0.0, activation: nil, norm_first: true)
        super()
        mlp_dims ||= dims * 4
        self.self_attention = MultiHeadAttention.new(dims, num_heads)
        self.cross_attention = MultiHeadAttention.new(dims, num_heads)
        self.ln1 = LayerNorm.new(dims)
        self.ln2 = LayerNorm.new(dims)
        self.ln3 = LayerNorm.new(dims)
        self.linear1 = Linear.new(dims, mlp_dims)
        self.linear2 = Linear.new(mlp_dims, dims)
        self.dropout1 = Dropout.new(dropout)
        self.dropout2 = Dropout.new(dropout)
        self.dropout3 = Dropout.new(dropout)
        @activation = activation || TRANSFORMER_RELU
        @norm_first = norm_first
      end

      def call(x, memory, x_mask, memory_mask)
        if @norm_first
          y = ln1.call(x)
          x = Core.add(x, dropout1.call(self_attention.call(y, y, y, x_mask)))
          y = ln2.call(x)
          x = Core.add(x, dropout2.call(cross_attention.call(y, memory, memory, memory_mask)))
          y = linear2.call(dropout3.call(@activation.call(linear1.call(ln3.call(x)))))
          Core.add(x, y)
        else
          x = ln1.call(Core.add(x, dropout1.call(self_attention.call(x, x, x, x_mask))))
          x = ln2.call(Core.add(x, dropout2.call(cross_attention.call(x, memory, memory, memory_mask))))
          y = linear2.call(dropout3.call(@activation.call(linear1.call(x))))
          ln3.call(Core.add(x, y))
        end
      end
    end

    # TransformerDecoder.new(num_layers, dims, num_heads, ...same as the
    # encoder); call(x, memory, x_mask, memory_mask).
    class TransformerDecoder < Module
      def initialize(num_layers, dims, num_heads, mlp_dims: nil, dropout: 0.0, activation: nil, norm_first: true,
                     checkpoint: false)
        super()
        self.layers = Array.new(num_layers) do
          TransformerDecoderLayer.new(dims, num_heads, mlp_dims: mlp_dims, dropout: dropout, activation: activation,
                                                       norm_first: norm_first)
        end
        self.ln = LayerNorm.new(dims)
        @checkpoint = checkpoint
      end

      def call(x, memory, x_mask, memory_mask)
        layers.each do |layer|
          x = if @checkpoint
                NN.checkpoint(layer).call(x, memory, x_mask, memory_mask)
              else
                layer.call(x, memory, x_mask, memory_mask)
              end
        end
        ln.call(x)
      end
    end

    # Transformer.new(dims: 512, num_heads: 8, num_encoder_layers: 6,
    # num_decoder_layers: 6, mlp_dims: nil, dropout: 0.0, activation: nil,
    # custom_encoder: nil, custom_decoder: nil, norm_first: true,
    # checkpoint: false); call(src, tgt, src_mask, tgt_mask, memory_mask).
    class Transformer < Module
      def initialize(dims: 512, num_heads: 8, num_encoder_layers: 6, num_decoder_layers: 6, mlp_dims: nil,
                     dropout: 0.0, activation: nil, custom_encoder: nil, custom_decoder: nil, norm_first: true,
                     checkpoint: false)
        super()
        opts = { mlp_dims: mlp_dims, dropout: dropout, activation: activation, norm_first: norm_first,
                 checkpoint: checkpoint }
        self.encoder = custom_encoder || TransformerEncoder.new(num_encoder_layers, dims, num_heads, **opts)
        self.decoder = custom_decoder || TransformerDecoder.new(num_decoder_layers, dims, num_heads, **opts)
      end

      def call(src, tgt, src_mask, tgt_mask, memory_mask)
        memory = encoder.call(src, src_mask)
        decoder.call(tgt, memory, tgt_mask, memory_mask)
      end
    end
  end
end
