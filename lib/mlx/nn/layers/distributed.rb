# frozen_string_literal: true

module MLX
  module NN
    # Tensor-parallel linear layers and sharding helpers (Python MLX's
    # nn.layers.distributed). Each process keeps a shard of the weight; on
    # the singleton group (the only one this build has) a shard is the
    # whole weight and the collectives return their input.
    module Sharding
      extend self

      # sum_gradients(group) -> identity whose vjp all-sums the cotangent.
      def sum_gradients(group)
        return ->(x) { x } if group.size == 1

        f = Core.custom_function(->(x) { x })
        f.vjp { |_primals, cotangents, _outputs| [Core.all_sum(cotangents[0], group)] }
        f
      end

      def shard_inplace(module_obj, sharding, segments: 1, group: nil)
        sharding = predicate_for(sharding, segments) unless sharding.respond_to?(:call)
        module_obj.update(shard(module_obj.parameters, sharding, group))
        module_obj
      end

      def shard_linear(module_obj, sharding, segments: 1, group: nil)
        check(sharding)
        plain = module_obj.is_a?(Linear)
        klass = if sharding.to_s == "all-to-sharded"
                  plain ? AllToShardedLinear : QuantizedAllToShardedLinear
                else
                  plain ? ShardedToAllLinear : QuantizedShardedToAllLinear
                end
        plain ? klass.from_linear(module_obj, segments: segments, group: group) : klass.from_quantized_linear(module_obj, segments: segments, group: group)
      end

      # The parameters with each array the predicate names (path, array) ->
      # axis or [axis, segments] cut to this process's shard.
      def shard(parameters, predicate, group)
        group ||= Core.init
        n = group.size
        r = group.rank
        MLX::Utils.tree_map_with_path(lambda { |path, w|
          next w unless w.is_a?(Core::Array)

          s = predicate.call(path, w)
          next w if s.nil?

          axis, segments = s.is_a?(::Array) ? s : [s, 1]
          raise ArgumentError, "The sharding function should return an Integer or [Integer, segments]" unless axis.is_a?(Integer)

          parts = split(w, segments, axis).map { |part| split(part, n, axis)[r] }
          Core.contiguous(Core.concatenate(parts, axis))
        }, parameters)
      end

      def all_to_sharded(segments)
        ->(path, w) { path.end_with?("bias") ? [-1, segments] : [[w.ndim - 2, 0].max, segments] }
      end

      def sharded_to_all(segments)
        ->(path, _w) { path.end_with?("bias") ? nil : [-1, segments] }
      end

      private

      def check(sharding)
        return if %w[all-to-sharded sharded-to-all].include?(sharding.to_s)

        raise ArgumentError, "Sharding type sharding=#{sharding.inspect} not supported, choose one of " \
                             "'all-to-sharded' or 'sharded-to-all'"
      end

      def predicate_for(sharding, segments)
        check(sharding)
        sharding.to_s == "all-to-sharded" ? all_to_sharded(segments) : sharded_to_all(segments)
      end

      def split(w, segments, axis)
        return Core.split(w, segments, axis) if segments.is_a?(Integer) || segments.first.is_a?(Integer)

        n = w.shape[axis]
        Core.split(w, segments.map { |s| (s * n).to_i }, axis)
      end
    end

    extend Sharding

    # Shared construction of the sharded layers.
    module ShardedLayer
      def group = @group

      private

      def setup_group(group)
        @group = group || Core.init
        @group.size
      end
    end

    # AllToShardedLinear.new(input_dims, output_dims, bias: true, group: nil):
    # full input, this process's slice of the outputs.
    class AllToShardedLinear < Module
      include ShardedLayer

      def initialize(input_dims, output_dims, bias: true, group: nil)
        super()
        n = setup_group(group)
        raise ArgumentError, "Cannot shard the output of size #{output_dims} across #{n} devices." if (output_dims % n).nonzero?

        scale = Math.sqrt(1.0 / input_dims)
        self.weight = Core.uniform([output_dims / n, input_dims], -scale, scale)
        self.bias = Core.uniform([output_dims / n], -scale, scale) if bias
      end

      def call(x)
        x = NN.sum_gradients(@group).call(x)
        w = Core.transpose(self["weight"])
        key?("bias") ? Core.addmm(self["bias"], x, w) : Core.matmul(x, w)
      end

      def self.from_linear(linear, segments: 1, group: nil)
        out_dims, in_dims = linear.weight.shape
        sl = new(in_dims, out_dims, bias: linear.key?("bias"), group: group)
        sl.update(NN.shard(linear.parameters, NN.all_to_sharded(segments), sl.group))
        sl
      end
    end

    # ShardedToAllLinear.new(input_dims, output_dims, bias: true, group: nil):
    # this process's slice of the inputs, the full (all-summed) output.
    class ShardedToAllLinear < Module
      include ShardedLayer

      def initialize(input_dims, output_dims, bias: true, group: nil)
        super()
        n = setup_group(group)
        raise ArgumentError, "The input of size #{input_dims} cannot be sharded across #{n} devices." if (input_dims % n).nonzero?

        scale = Math.sqrt(1.0 / input_dims)
        self.weight = Core.uniform([output_dims, input_dims / n], -scale, scale)
        self.bias = Core.uniform([output_dims], -scale, scale) if bias
      end

      def call(x)
        y = Core.all_sum(Core.matmul(x, Core.transpose(self["weight"])), @group)
        key?("bias") ? Core.add(y, self["bias"]) : y
      end

      def self.from_linear(linear, segments: 1, group: nil)
        out_dims, in_dims = linear.weight.shape
        sl = new(in_dims, out_dims, bias: linear.key?("bias"), group: group)
        sl.update(NN.shard(linear.parameters, NN.sharded_to_all(segments), sl.group))
        sl
      end
    end

    # Quantized versions (affine 64/4 by default); built frozen, and the
    # packed weights stay frozen after unfreeze.
    module QuantizedShardedLayer
      include ShardedLayer

      attr_reader :group_size, :bits, :mode

      def unfreeze(*args, **kwargs)
        super
        freeze(recurse: false)
      end

      private

      def setup_quantized(weight_shape, scale, bias_size, bias, group_size, bits, mode)
        @group_size = group_size
        @bits = bits
        @mode = mode
        packed = Core.quantize(Core.uniform(weight_shape, -scale, scale), group_size, bits, mode)
        self.weight = packed[0]
        self.scales = packed[1]
        self.biases = packed[2]
        self.bias = Core.zeros([bias_size]) if bias
        freeze
      end

      def qmm(x) = Core.quantized_matmul(x, self["weight"], self["scales"], self["biases"], true, @group_size, @bits, @mode)
    end

    class QuantizedAllToShardedLinear < Module
      include QuantizedShardedLayer

      def initialize(input_dims, output_dims, bias: true, group_size: 64, bits: 4, mode: "affine", group: nil)
        super()
        n = setup_group(group)
        raise ArgumentError, "Cannot shard the output of size #{output_dims} across #{n} devices." if (output_dims % n).nonzero?

        setup_quantized([output_dims / n, input_dims], Math.sqrt(1.0 / input_dims), output_dims / n, bias, group_size,
                        bits, mode)
      end

      def call(x)
        y = qmm(NN.sum_gradients(@group).call(x))
        key?("bias") ? Core.add(y, self["bias"]) : y
      end

      def self.from_quantized_linear(ql, segments: 1, group: nil)
        out_dims, words = ql.weight.shape
        sl = new(words * 32 / ql.bits, out_dims, bias: ql.key?("bias"), group_size: ql.group_size, bits: ql.bits,
                                                 mode: ql.mode, group: group)
        sl.update(NN.shard(ql.parameters, NN.all_to_sharded(segments), sl.group))
        sl
      end
    end

    class QuantizedShardedToAllLinear < Module
      include QuantizedShardedLayer

      def initialize(input_dims, output_dims, bias: true, group_size: 64, bits: 4, mode: "affine", group: nil)
        super()
        n = setup_group(group)
        raise ArgumentError, "The input of size #{input_dims} cannot be sharded across #{n} devices." if (input_dims % n).nonzero?

        setup_quantized([output_dims, input_dims / n], Math.sqrt(1.0 / input_dims), output_dims, bias, group_size, bits,
                        mode)
      end

      def call(x)
        y = Core.all_sum(qmm(x), @group)
        key?("bias") ? Core.add(y, self["bias"]) : y
      end

      def self.from_quantized_linear(ql, segments: 1, group: nil)
        out_dims, words = ql.weight.shape
        sl = new(words * 32 / ql.bits, out_dims, bias: ql.key?("bias"), group_size: ql.group_size, bits: ql.bits,
                                                 mode: ql.mode, group: group)
        sl.update(NN.shard(ql.parameters, NN.sharded_to_all(segments), sl.group))
        sl
      end
    end

    # MLX::NN::Utils: the training helpers under Python's nn.utils names.
    module Utils
      module_function

      def value_and_grad(model, fn) = NN.value_and_grad(model, fn)
      def checkpoint(module_obj, fn = nil, &block) = NN.checkpoint(module_obj, fn, &block)

      def average_gradients(gradients, group = nil, **opts) = NN.average_gradients(gradients, group, **opts)

      # True when any leaf of the tree is an MLX array.
      def contains_array_leaf?(tree)
        !MLX::Utils.tree_flatten(tree).find { |_, v| v.is_a?(Core::Array) }.nil?
      end
    end
  end
end
