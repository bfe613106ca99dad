# frozen_string_literal: true

module MLX
  module NN
    # Initializers (Python MLX's nn.init): each returns a lambda taking an
    # array and giving a new array of its shape.
    module Init
      extend self

      def constant(value = 0.0, dtype: Core.float32)
        ->(a) { Core.full(a.shape, value, dtype) }
      end

      def normal(mean: 0.0, std: 1.0, dtype: Core.float32)
        ->(a) { Core.normal(a.shape, mean, std, dtype) }
      end

      def uniform(low: 0.0, high: 1.0, dtype: Core.float32)
        ->(a) { Core.uniform(a.shape, low, high, dtype) }
      end

      def identity(dtype: Core.float32)
        lambda do |a|
          unless a.ndim == 2 && a.shape[0] == a.shape[1]
            raise ArgumentError, "The input array must be a square matrix but got shape #{a.shape}."
          end

          Core.eye(a.shape[0], dtype)
        end
      end

      # [fan_in, fan_out] of a weight (>= 2 dims; receptive field for convs).
      def calculate_fan_in_fan_out(a)
        if a.ndim < 2
          raise ArgumentError, "Glorot / He initialization requires at least 2 dimensional input but input with " \
                               "#{a.ndim} dimensions."
        end

        fan_in = a.shape[-1]
        fan_out = a.shape[0]
        if a.ndim > 2
          receptive = a.shape[1...-1].reduce(1, :*)
          fan_in *= receptive
          fan_out *= receptive
        end
        [fan_in, fan_out]
      end

      def fan_for_mode(mode, fan_in, fan_out)
        case mode.to_s
        when "fan_in" then fan_in
        when "fan_out" then fan_out
        else raise ArgumentError, "Invalid mode: #{mode}. Valid modes are: fan_in, fan_out"
        end
      end

      def glorot_normal(dtype: Core.float32)
        lambda do |a, gain: 1.0|
          fan_in, fan_out = calculate_fan_in_fan_out(a)
          Core.normal(a.shape, 0.0, gain * Math.sqrt(2.0 / (fan_in + fan_out)), dtype)
        end
      end

      def glorot_uniform(dtype: Core.float32)
        lambda do |a, gain: 1.0|
          fan_in, fan_out = calculate_fan_in_fan_out(a)
          limit = gain * Math.sqrt(6.0 / (fan_in + fan_out))
          Core.uniform(a.shape, -limit, limit, dtype)
        end
      end

      def he_normal(dtype: Core.float32)
        lambda do |a, mode: "fan_in", gain: 1.0|
          fan = fan_for_mode(mode, *calculate_fan_in_fan_out(a))
          Core.normal(a.shape, 0.0, gain / Math.sqrt(fan), dtype)
        end
      end

      def he_uniform(dtype: Core.float32)
        lambda do |a, mode: "fan_in", gain: 1.0|
          fan = fan_for_mode(mode, *calculate_fan_in_fan_out(a))
          limit = gain * Math.sqrt(3.0 / fan)
          Core.uniform(a.shape, -limit, limit, dtype)
        end
      end

      # A 2-D array whose rows have ceil(sparsity * cols) zeros at random.
      def sparse(sparsity: 0.0, mean: 0.0, std: 1.0, dtype: Core.float32)
        lambda do |a|
          raise ArgumentError, "Only tensors with 2 dimensions are supported" unless a.ndim == 2

          rows, cols = a.shape
          zeros = (sparsity * cols).ceil
          order = Core.argsort(Core.uniform(a.shape), 1)
          out = Core.normal(a.shape, mean, std, dtype)
          return out if zeros.zero?

          cols_idx = Core.slice(order, [0, 0], [rows, zeros])
          Core.put_along_axis(out, cols_idx, Core.array(0, dtype), 1)
        end
      end

      # A 2-D array with orthonormal rows or columns, scaled by gain.
      def orthogonal(gain: 1.0, dtype: Core.float32)
        lambda do |a|
          raise ArgumentError, "Orthogonal initialization requires a 2D array but got a #{a.ndim}D array." unless a.ndim == 2

          rows, cols = a.shape
          n = [rows, cols].max
          q, r = Core.qr(Core.normal([n, n]))
          q = Core.multiply(q, Core.sign(Core.diag(r)))
          q = Core.slice(q, [0, 0], [rows, cols])
          Core.astype(Core.multiply(q, gain), dtype)
        end
      end
    end

    # The initializers as MLX::NN functions too.
    Init.instance_methods(false).each do |name|
      define_singleton_method(name) { |*args, **kw, &blk| Init.public_send(name, *args, **kw, &blk) }
    end

    class << self
      # value_and_grad(model, fn) -> a lambda (*args, **kwargs) -> [value,
      # grads], grads shaped like model.trainable_parameters.
      def value_and_grad(model, fn)
        inner = lambda do |params, *args, **kwargs|
          model.update(params)
          fn.call(*args, **kwargs)
        end
        vg = Core.value_and_grad(inner)
        lambda do |*args, **kwargs|
          params = model.trainable_parameters
          return [fn.call(*args, **kwargs), {}] if leafless?(params)

          vg.call(params, *args, **kwargs)
        end
      end

      # Whether a tree holds no leaf (stops at the first one it finds).
      def leafless?(tree)
        case tree
        when ::Array then tree.all? { |t| leafless?(t) }
        when Hash then tree.each_value.all? { |t| leafless?(t) }
        else false
        end
      end
      private :leafless?

      # checkpoint(module, fn = nil): fn (default: the module) recomputed
      # in the backward pass instead of keeping its intermediates.
      def checkpoint(module_obj, fn = nil, &block)
        fn ||= block || module_obj
        inner = lambda do |params, *args, **kwargs|
          module_obj.update(params)
          fn.call(*args, **kwargs)
        end
        checkpointed = Core.checkpoint(inner)
        ->(*args, **kwargs) { checkpointed.call(module_obj.trainable_parameters, *args, **kwargs) }
      end

      # average_gradients(gradients, group = nil, ...): the mean over the
      # group's processes (the gradients themselves on one process).
      def average_gradients(gradients, group = nil, all_reduce_size: 32 * 1024 * 1024, communication_type: nil,
                            communication_stream: nil)
        group ||= Core.init
        return gradients if group.size == 1

        MLX::Utils.tree_map(->(g) { Core.divide(Core.all_sum(g, group, communication_stream), group.size) }, gradients)
      end
    end
  end
end
