# frozen_string_literal: true

module MLX
  module Optimizers
    # Stochastic gradient descent with momentum, dampening, Nesterov and
    # weight decay ["v"].
    class SGD < Optimizer
      attr_reader :momentum, :weight_decay, :dampening, :nesterov

      def initialize(learning_rate: 1e-3, momentum: 0.0, weight_decay: 0.0, dampening: 0.0, nesterov: false, **kw)
        if nesterov && (momentum <= 0 || dampening != 0)
          raise ArgumentError, "Nesterov momentum requires a momentum and zero dampening."
        end

        super(**kw)
        maybe_schedule("learning_rate", learning_rate)
        @momentum = momentum
        @weight_decay = weight_decay
        @dampening = dampening
        @nesterov = nesterov
      end

      def init_single(parameter, state)
        state["v"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        gradient = Core.add(gradient, Core.multiply(@weight_decay, parameter)) if @weight_decay != 0
        return Core.subtract(parameter, Core.multiply(lr_for(gradient), gradient)) if @momentum <= 0

        v = Core.multiply(@momentum, state["v"])
        v = Core.add(v, @dampening.positive? ? Core.multiply(1 - @dampening, gradient) : gradient)
        update = @nesterov ? Core.add(gradient, Core.multiply(@momentum, v)) : v
        state["v"] = v
        Core.subtract(parameter, Core.multiply(lr_for(gradient), update))
      end
    end

    # RMSprop ["v"].
    class RMSprop < Optimizer
      attr_reader :alpha, :eps

      def initialize(learning_rate: 1e-3, alpha: 0.99, eps: 1e-8, **kw)
        super(**kw)
        maybe_schedule("learning_rate", learning_rate)
        @alpha = alpha
        @eps = eps
        raise ArgumentError, "RMSprop alpha should be >=0, #{alpha} was provided instead" if alpha.negative?
        raise ArgumentError, "RMSprop epsilon should be >0, #{eps} was provided instead" unless eps.positive?
      end

      def init_single(parameter, state)
        state["v"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        v = Core.add(Core.multiply(@alpha, state["v"]), Core.multiply(1 - @alpha, Core.square(gradient)))
        state["v"] = v
        Core.subtract(parameter, Core.divide(Core.multiply(lr_for(gradient), gradient), Core.add(Core.sqrt(v), @eps)))
      end
    end

    # Adagrad ["v"].
    class Adagrad < Optimizer
      attr_reader :eps

      def initialize(learning_rate: 1e-3, eps: 1e-8, **kw)
        super(**kw)
        maybe_schedule("learning_rate", learning_rate)
        @eps = eps
        raise ArgumentError, "Adagrad epsilon should be >0, #{eps} was provided instead" unless eps.positive?
      end

      def init_single(parameter, state)
        state["v"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        v = Core.add(state["v"], Core.square(gradient))
        state["v"] = v
        Core.subtract(parameter, Core.divide(Core.multiply(lr_for(gradient), gradient), Core.add(Core.sqrt(v), @eps)))
      end
    end

    # AdaDelta ["v", "u"].
    class AdaDelta < Optimizer
      attr_reader :rho, :eps

      def initialize(learning_rate: 1e-3, rho: 0.9, eps: 1e-6, **kw)
        super(**kw)
        maybe_schedule("learning_rate", learning_rate)
        @rho = rho
        @eps = eps
        raise ArgumentError, "AdaDelta rho should be >=0, #{rho} was provided instead" if rho.negative?
        raise ArgumentError, "AdaDelta epsilon should be >0, #{eps} was provided instead" unless eps.positive?
      end

      def init_single(parameter, state)
        state["v"] = Core.zeros_like(parameter)
        state["u"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        v = Core.add(Core.multiply(@rho, state["v"]), Core.multiply(1 - @rho, Core.square(gradient)))
        d = Core.multiply(Core.divide(Core.sqrt(Core.add(state["u"], @eps)), Core.sqrt(Core.add(v, @eps))), gradient)
        u = Core.add(Core.multiply(@rho, state["u"]), Core.multiply(1 - @rho, Core.square(d)))
        state["v"] = v
        state["u"] = u
        Core.subtract(parameter, Core.multiply(lr_for(gradient), d))
      end
    end

    # Adam (optionally bias-corrected) ["m", "v"].
    class Adam < Optimizer
      attr_reader :betas, :eps, :bias_correction

      def initialize(learning_rate: 1e-3, betas: [0.9, 0.999], eps: 1e-8, bias_correction: false, **kw)
        super(**kw)
        betas.each_with_index do |b, i|
          unless b >= 0.0 && b < 1.0
            raise ArgumentError, "#{self.class.name.split('::').last} beta#{i + 1} should be in [0, 1), #{b} was provided instead"
          end
        end
        raise ArgumentError, "Adam epsilon should be >=0, #{eps} was provided instead" if eps.negative?

        maybe_schedule("learning_rate", learning_rate)
        @betas = betas
        @eps = eps
        @bias_correction = bias_correction
      end

      def init_single(parameter, state)
        state["m"] = Core.zeros_like(parameter)
        state["v"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        lr = lr_for(gradient)
        b1, b2 = @betas
        m = Core.add(Core.multiply(b1, state["m"]), Core.multiply(1 - b1, gradient))
        v = Core.add(Core.multiply(b2, state["v"]), Core.multiply(1 - b2, Core.square(gradient)))
        state["m"] = m
        state["v"] = v
        if @bias_correction
          c1 = Core.astype(Core.divide(lr, Core.subtract(1, Core.power(b1, step))), gradient.dtype)
          c2 = Core.astype(Core.rsqrt(Core.subtract(1, Core.power(b2, step))), gradient.dtype)
          Core.subtract(parameter, Core.divide(Core.multiply(c1, m), Core.add(Core.multiply(Core.sqrt(v), c2), @eps)))
        else
          Core.subtract(parameter, Core.divide(Core.multiply(lr, m), Core.add(Core.sqrt(v), @eps)))
        end
      end
    end

    # AdamW: Adam with decoupled weight decay.
    class AdamW < Adam
      attr_reader :weight_decay

      def initialize(learning_rate: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01, bias_correction: false,
                     **kw)
        super(learning_rate: learning_rate, betas: betas, eps: eps, bias_correction: bias_correction, **kw)
        @weight_decay = weight_decay
      end

      def apply_single(gradient, parameter, state = nil)
        super(gradient, Core.multiply(parameter, decay_for(gradient)), state)
      end

      private

      # 1 - lr * weight_decay in the gradient's dtype: the same array for
      # every parameter of a step (one pair of ops per step, not per
      # parameter), made again when the learning rate or dtype changes.
      def decay_for(gradient)
        lr = learning_rate
        return @decay[2] if @decay && @decay[0].equal?(lr) && @decay[1] == gradient.dtype

        value = Core.subtract(1, Core.multiply(lr_for(gradient), @weight_decay))
        @decay = [lr, gradient.dtype, value]
        value
      end
    end

    # Adamax: the infinity-norm variant of Adam.
    class Adamax < Adam
      def initialize(learning_rate: 1e-3, betas: [0.9, 0.999], eps: 1e-8, **kw)
        super(learning_rate: learning_rate, betas: betas, eps: eps, **kw)
      end

      def apply_single(gradient, parameter, state = nil)
        b1, b2 = @betas
        m = Core.add(Core.multiply(b1, state["m"]), Core.multiply(1 - b1, gradient))
        v = Core.maximum(Core.multiply(b2, state["v"]), Core.abs(gradient))
        state["m"] = m
        state["v"] = v
        Core.subtract(parameter, Core.divide(Core.multiply(lr_for(gradient), m), Core.add(v, @eps)))
      end
    end

    # Lion ["m"].
    class Lion < Optimizer
      attr_reader :betas, :weight_decay

      def initialize(learning_rate: 1e-3, betas: [0.9, 0.99], weight_decay: 0.0, **kw)
        super(**kw)
        betas.each_with_index do |b, i|
          raise ArgumentError, "Lion beta#{i + 1} should be in [0, 1), #{b} was provided instead" unless b >= 0.0 && b < 1.0
        end
        maybe_schedule("learning_rate", learning_rate)
        @betas = betas
        @weight_decay = weight_decay
      end

      def init_single(parameter, state)
        state["m"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        lr = lr_for(gradient)
        b1, b2 = @betas
        m = state["m"]
        c = Core.add(Core.multiply(b1, m), Core.multiply(1 - b1, gradient))
        state["m"] = Core.add(Core.multiply(b2, m), Core.multiply(1 - b2, gradient))
        parameter = Core.multiply(Core.subtract(1, Core.multiply(lr, @weight_decay)), parameter) if @weight_decay.positive?
        Core.subtract(parameter, Core.multiply(lr, Core.sign(c)))
      end
    end
  end
end
