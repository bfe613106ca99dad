# frozen_string_literal: true

module MLX
  module NN
    def self.check_eps(layer, eps)
      raise ArgumentError, "[#{layer}] 'eps' must be positive but got #{eps}." unless eps.positive?
    end

    # InstanceNorm.new(dims, eps: 1e-5, affine: false): normalises each
    # channel over the spatial axes of each sample.
    class InstanceNorm < Module
      def initialize(dims, eps: 1e-5, affine: false)
        super()
        NN.check_eps("InstanceNorm", eps)
        if affine
          self.weight = Core.ones([dims])
          self.bias = Core.zeros([dims])
        end
        @dims = dims
        @eps = eps
      end

      def call(x)
        if x.ndim < 3
          raise ArgumentError, "InstanceNorm expects inputs with at least 3 dimensions (N, ..., C) but the input has " \
                               "#{x.ndim} dimensions."
        end

        batch = x.shape[0]
        features = x.shape[-1]
        spatial = x.shape[1...-1]
        first = Core.transpose(x, [0, x.ndim - 1, *(1...(x.ndim - 1))])
        y = Core.layer_norm(Core.reshape(first, [batch, features, -1]), nil, nil, @eps)
        y = Core.transpose(Core.reshape(y, [batch, features, *spatial]), [0, *(2...(spatial.size + 2)), 1])
        key?("weight") ? Core.add(Core.multiply(self["weight"], y), self["bias"]) : y
      end
    end

    # LayerNorm.new(dims, eps: 1e-5, affine: true, bias: true)
    class LayerNorm < Module
      def initialize(dims, eps: 1e-5, affine: true, bias: true)
        super()
        NN.check_eps("LayerNorm", eps)
        if affine
          self.weight = Core.ones([dims])
          self.bias = Core.zeros([dims]) if bias
        end
        @eps = eps
        @dims = dims
      end

      def call(x) = Core.layer_norm(x, self["weight"], self["bias"], @eps)
    end

    # RMSNorm.new(dims, eps: 1e-5) [weight]
    class RMSNorm < Module
      def initialize(dims, eps: 1e-5)
        super()
        NN.check_eps("RMSNorm", eps)
        self.weight = Core.ones([dims])
        @eps = eps
      end

      def call(x) = Core.rms_norm(x, self["weight"], @eps)
    end

    # GroupNorm.new(num_groups, dims, eps: 1e-5, affine: true,
    # pytorch_compatible: false)
    class GroupNorm < Module
      def initialize(num_groups, dims, eps: 1e-5, affine: true, pytorch_compatible: false)
        super()
        NN.check_eps("GroupNorm", eps)
        raise ArgumentError, "The number of groups (#{num_groups}) must be a positive integer." unless num_groups.positive?
        raise ArgumentError, "The number of features (#{dims}) must be a positive integer." unless dims.positive?
        if (dims % num_groups).nonzero?
          raise ArgumentError, "The number of features (#{dims}) must be evenly divisible by the number of groups " \
                               "(#{num_groups})."
        end

        if affine
          self.bias = Core.zeros([dims])
          self.weight = Core.ones([dims])
        end
        @num_groups = num_groups
        @dims = dims
        @eps = eps
        @pytorch_compatible = pytorch_compatible
      end

      def call(x)
        y = @pytorch_compatible ? pytorch_group_norm(x) : group_norm(x)
        key?("weight") ? Core.add(Core.multiply(self["weight"], y), self["bias"]) : y
      end

      private

      def pytorch_group_norm(x)
        batch = x.shape[0]
        rest = x.shape[1...-1]
        dims = x.shape[-1]
        size = dims / @num_groups
        y = Core.reshape(x, [batch, -1, @num_groups, size])
        y = Core.reshape(Core.transpose(y, [0, 2, 1, 3]), [batch, @num_groups, -1])
        y = Core.layer_norm(y, nil, nil, @eps)
        y = Core.reshape(y, [batch, @num_groups, -1, size])
        Core.reshape(Core.transpose(y, [0, 2, 1, 3]), [batch, *rest, dims])
      end

      def group_norm(x)
        batch = x.shape[0]
        rest = x.shape[1...-1]
        dims = x.shape[-1]
        y = Core.reshape(x, [batch, -1, @num_groups])
        means = Core.mean(y, 1, true)
        var = Core.var(y, 1, true)
        y = Core.multiply(Core.subtract(y, means), Core.rsqrt(Core.add(var, @eps)))
        Core.reshape(y, [batch, *rest, dims])
      end
    end

    # BatchNorm.new(num_features, eps: 1e-5, momentum: 0.1, affine: true,
    # track_running_stats: true) [weight, bias, running_mean, running_var]:
    # running statistics stay frozen (also after unfreeze).
    class BatchNorm < Module
      def initialize(num_features, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true)
        super()
        NN.check_eps("BatchNorm", eps)
        @num_features = num_features
        @eps = eps
        @momentum = momentum
        @track_running_stats = track_running_stats
        if affine
          self.weight = Core.ones([num_features])
          self.bias = Core.zeros([num_features])
        end
        return unless track_running_stats

        self.running_mean = Core.zeros([num_features])
        self.running_var = Core.ones([num_features])
        freeze(keys: %w[running_mean running_var], recurse: false)
      end

      def unfreeze(*args, **kwargs)
        super
        freeze(keys: %w[running_mean running_var], recurse: false) if @track_running_stats
        self
      end

      def call(x)
        unless x.ndim.between?(2, 4)
          raise ArgumentError, "Expected input tensor to have 2, 3 or 4 dimensions, but got #{x.ndim}"
        end
        if training && x.shape[0...-1].reduce(1, :*) == 1
          raise ArgumentError, "BatchNorm training requires more than one value per channel."
        end

        mean, var = stats(x)
        if training && @track_running_stats
          mu = @momentum
          _, unbiased = stats(x, 1)
          self.running_mean = Core.add(Core.multiply(1 - mu, running_mean), Core.multiply(mu, mean))
          self.running_var = Core.add(Core.multiply(1 - mu, running_var), Core.multiply(mu, unbiased))
        elsif @track_running_stats
          mean = running_mean
          var = running_var
        end
        y = Core.multiply(Core.subtract(x, mean), Core.rsqrt(Core.add(var, @eps)))
        key?("weight") ? Core.add(Core.multiply(self["weight"], y), self["bias"]) : y
      end

      private

      def stats(x, ddof = 0)
        axes = (0...(x.ndim - 1)).to_a
        [Core.mean(x, axes), Core.var(x, axes, false, ddof)]
      end
    end
  end
end
