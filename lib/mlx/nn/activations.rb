# frozen_string_literal: true

module MLX
  module NN
    # Activation functions (Python MLX's nn.layers.activations), as module
    # functions of MLX::NN and as layers.
    module Activations
      SQRT_2 = Math.sqrt(2.0)
      SQRT_2_OVER_PI = Math.sqrt(2.0 / Math::PI)

      extend self

      def sigmoid(x) = Core.sigmoid(x)
      def relu(x) = Core.maximum(x, 0)
      def relu2(x) = Core.square(Core.maximum(x, 0))
      def relu6(x) = Core.minimum(Core.maximum(x, 0), 6.0)
      def softplus(x) = Core.logaddexp(x, 0)
      def softsign(x) = Core.divide(x, Core.add(Core.abs(x), 1))
      def silu(x) = Core.multiply(x, Core.sigmoid(x))
      def log_sigmoid(x) = Core.negative(softplus(Core.negative(x)))
      def tanh(x) = Core.tanh(x)
      def mish(x) = Core.multiply(x, Core.tanh(softplus(x)))

      def celu(x, alpha: 1.0)
        Core.add(Core.maximum(x, 0.0), Core.multiply(alpha, Core.subtract(Core.exp(Core.divide(Core.minimum(x, 0.0), alpha)), 1.0)))
      end

      def gelu(x) = Core.divide(Core.multiply(x, Core.add(Core.erf(Core.divide(x, SQRT_2)), 1.0)), 2.0)

      def gelu_approx(x)
        inner = Core.multiply(SQRT_2_OVER_PI, Core.add(x, Core.multiply(0.044715, Core.power(x, 3))))
        Core.multiply(Core.multiply(0.5, x), Core.add(Core.tanh(inner), 1.0))
      end

      def gelu_fast_approx(x) = Core.multiply(x, Core.sigmoid(Core.multiply(1.702, x)))

      def glu(x, axis: -1)
        a, b = Core.split(x, 2, axis)
        Core.multiply(a, Core.sigmoid(b))
      end

      def step(x, threshold: 0.0) = Core.where(Core.greater(x, threshold), 1, 0)

      def elu(x, alpha: 1.0)
        Core.where(Core.greater(x, 0), x, Core.multiply(alpha, Core.subtract(Core.exp(x), 1)))
      end

      def selu(x) = Core.multiply(elu(x, alpha: 1.67326), 1.0507)

      def prelu(x, alpha)
        Core.add(Core.maximum(0, x), Core.multiply(alpha, Core.minimum(0, x)))
      end

      def hardswish(x)
        Core.divide(Core.multiply(x, Core.minimum(Core.maximum(Core.add(x, 3), 0), 6)), 6)
      end

      def hard_tanh(x, min_val: -1.0, max_val: 1.0) = Core.minimum(Core.maximum(x, min_val), max_val)
      def hard_shrink(x, lambd: 0.5) = Core.where(Core.greater(Core.abs(x), lambd), x, 0)

      def softshrink(x, lambd: 0.5)
        Core.where(Core.greater(Core.abs(x), lambd), Core.subtract(x, Core.multiply(Core.sign(x), lambd)), 0)
      end

      def leaky_relu(x, negative_slope: 0.01) = Core.maximum(Core.multiply(negative_slope, x), x)
      def softmax(x, axis: -1) = Core.softmax(x, axis)
      def softmin(x, axis: -1) = Core.softmax(Core.negative(x), axis)
      def log_softmax(x, axis: -1) = Core.subtract(x, Core.logsumexp(x, axis, true))
    end

    extend Activations

    # A layer for each activation without parameters; layers with options
    # keep them (Python's defaults).
    {
      "Sigmoid" => :sigmoid, "Mish" => :mish, "ReLU" => :relu, "ReLU2" => :relu2, "ReLU6" => :relu6,
      "Softplus" => :softplus, "Softsign" => :softsign, "SiLU" => :silu, "LogSigmoid" => :log_sigmoid,
      "Tanh" => :tanh, "Hardswish" => :hardswish, "SELU" => :selu
    }.each do |name, fn|
      const_set(name, Class.new(Module) do
        define_method(:call) { |x| Activations.public_send(fn, x) }
      end)
    end

    # Layers whose activation takes options: the options are instance
    # variables (not parameters).
    {
      "Softmax" => [:softmax, { axis: -1 }], "LogSoftmax" => [:log_softmax, { axis: -1 }],
      "Softmin" => [:softmin, { axis: -1 }], "HardTanh" => [:hard_tanh, { min_val: -1.0, max_val: 1.0 }],
      "HardShrink" => [:hard_shrink, { lambd: 0.5 }]
    }.each do |name, (fn, defaults)|
      const_set(name, Class.new(Module) do
        define_method(:initialize) do |**opts|
          super()
          unknown = opts.keys - defaults.keys
          raise ArgumentError, "unknown option(s): #{unknown.join(', ')}" unless unknown.empty?

          @options = defaults.merge(opts)
        end
        define_method(:call) { |x| Activations.public_send(fn, x, **@options) }
      end)
    end

    class GLU < Module
      def initialize(axis = -1)
        super()
        @axis = axis
      end

      def call(x) = Activations.glu(x, axis: @axis)
    end

    class LeakyReLU < Module
      def initialize(negative_slope = 1e-2)
        super()
        @negative_slope = negative_slope
      end

      def call(x) = Activations.leaky_relu(x, negative_slope: @negative_slope)
    end

    class ELU < Module
      def initialize(alpha = 1.0)
        super()
        @alpha = alpha
      end

      def call(x) = Activations.elu(x, alpha: @alpha)
    end

    class CELU < Module
      def initialize(alpha = 1.0)
        super()
        @alpha = alpha
      end

      def call(x) = Activations.celu(x, alpha: @alpha)
    end

    class Softshrink < Module
      def initialize(lambd = 0.5)
        super()
        @lambd = lambd
      end

      def call(x) = Activations.softshrink(x, lambd: @lambd)
    end

    class Step < Module
      def initialize(threshold = 0.0)
        super()
        @threshold = threshold
      end

      def call(x) = Activations.step(x, threshold: @threshold)
    end

    # GELU.new(approx = "none"): "none"/"precise" (erf), "tanh", "fast".
    class GELU < Module
      def initialize(approx = "none")
        super()
        @fn = case approx.to_s
              when "none" then :gelu
              when "precise", "tanh" then :gelu_approx
              when "fast" then :gelu_fast_approx
              else raise ArgumentError, "The approximation should be in ['none', 'precise', 'tanh', 'fast'] but '#{approx}' was given"
              end
      end

      def call(x) = Activations.public_send(@fn, x)
    end

    # PReLU.new(num_parameters = 1, init: 0.25) [weight]
    class PReLU < Module
      def initialize(num_parameters = 1, init: 0.25)
        super()
        self.weight = Core.full([num_parameters], init)
      end

      def call(x) = Activations.prelu(x, weight)
    end
  end
end
