# frozen_string_literal: true

module MLX
  module Optimizers
    # Adafactor: factored second moments for matrices ["exp_avg_sq_row" +
    # "exp_avg_sq_col", or "exp_avg_sq"; "exp_avg" with beta_1].
    class Adafactor < Optimizer
      attr_reader :eps, :clip_threshold, :decay_rate, :beta_1, :weight_decay, :scale_parameter, :relative_step,
                  :warmup_init

      def initialize(learning_rate: nil, eps: [1e-30, 1e-3], clip_threshold: 1.0, decay_rate: -0.8, beta_1: nil,
                     weight_decay: 0.0, scale_parameter: true, relative_step: true, warmup_init: false, **kw)
        super(**kw)
        maybe_schedule("learning_rate", learning_rate) unless learning_rate.nil?
        @eps = eps
        @clip_threshold = clip_threshold
        @decay_rate = decay_rate
        @beta_1 = beta_1
        @weight_decay = weight_decay
        @scale_parameter = scale_parameter
        @relative_step = relative_step
        @warmup_init = warmup_init
      end

      def init_single(parameter, state)
        if parameter.ndim >= 2
          shape = parameter.shape
          state["exp_avg_sq_row"] = Core.zeros(shape[0...-1], parameter.dtype)
          state["exp_avg_sq_col"] = Core.zeros(shape[0...-2] + shape[-1..], parameter.dtype)
        else
          state["exp_avg_sq"] = Core.zeros_like(parameter)
        end
        state["exp_avg"] = Core.zeros_like(parameter) unless @beta_1.nil?
      end

      def apply_single(gradient, parameter, state = nil)
        rms = rms(parameter)
        lr = compute_learning_rate(rms)
        beta_2 = Core.subtract(1.0, Core.astype(Core.power(step, @decay_rate), rms.dtype))
        update = Core.add(Core.square(gradient), @eps[0])
        if gradient.ndim >= 2
          row = Core.add(Core.multiply(beta_2, state["exp_avg_sq_row"]),
                         Core.multiply(Core.subtract(1, beta_2), Core.mean(update, -1)))
          col = Core.add(Core.multiply(beta_2, state["exp_avg_sq_col"]),
                         Core.multiply(Core.subtract(1, beta_2), Core.mean(update, -2)))
          state["exp_avg_sq_row"] = row
          state["exp_avg_sq_col"] = col
          r = Core.rsqrt(Core.divide(row, Core.mean(row, -1, true)))
          c = Core.rsqrt(col)
          update = Core.multiply(Core.multiply(Core.expand_dims(r, -1), Core.expand_dims(c, -2)), gradient)
        else
          sq = Core.add(Core.multiply(beta_2, state["exp_avg_sq"]), Core.multiply(Core.subtract(1, beta_2), update))
          state["exp_avg_sq"] = sq
          update = Core.multiply(Core.rsqrt(sq), gradient)
        end
        update = Core.divide(update, Core.maximum(1.0, Core.divide(rms(update), @clip_threshold)))
        update = Core.multiply(lr, update)
        unless @beta_1.nil?
          avg = Core.add(Core.multiply(@beta_1, state["exp_avg"]), Core.multiply(1 - @beta_1, update))
          state["exp_avg"] = avg
          update = avg
        end
        if @weight_decay != 0
          parameter = Core.add(parameter, Core.multiply(parameter, Core.multiply(-@weight_decay, lr)))
        end
        Core.subtract(parameter, update)
      end

      private

      def rms(x) = Core.sqrt(Core.mean(Core.square(x)))

      def compute_learning_rate(parameter_rms)
        size = if @relative_step
                 min_step = @warmup_init ? Core.multiply(1e-6, step) : 1e-2
                 Core.minimum(min_step, Core.rsqrt(step))
               else
                 learning_rate
               end
        size = Core.astype(size, parameter_rms.dtype)
        scale = @scale_parameter ? Core.maximum(@eps[1], parameter_rms) : 1.0
        Core.multiply(scale, size)
      end
    end

    # Muon: momentum orthogonalised by Newton-Schulz iterations for
    # matrices ["v"].
    class Muon < Optimizer
      attr_reader :momentum, :weight_decay, :nesterov, :ns_steps

      def initialize(learning_rate: 1e-3, momentum: 0.95, weight_decay: 0.01, nesterov: true, ns_steps: 5, **kw)
        super(**kw)
        maybe_schedule("learning_rate", learning_rate)
        @momentum = momentum
        @weight_decay = weight_decay
        @nesterov = nesterov
        @ns_steps = ns_steps
      end

      def init_single(parameter, state)
        state["v"] = Core.zeros_like(parameter)
      end

      def apply_single(gradient, parameter, state = nil)
        gradient = Core.add(gradient, Core.multiply(@weight_decay, parameter)) if @weight_decay != 0
        v = Core.add(Core.multiply(@momentum, state["v"]), Core.multiply(1 - @momentum, gradient))
        state["v"] = v
        update = @nesterov ? Core.add(Core.multiply(gradient, 1 - @momentum), Core.multiply(v, @momentum)) : v
        lr = lr_for(gradient)
        if update.ndim >= 2
          shape = update.shape
          update = Core.reshape(update, [shape[0], -1]) if update.ndim > 2
          update = newton_schulz(update)
          update = Core.reshape(update, shape) if shape.size > 2
          lr = Core.multiply(lr, [1.0, update.shape[-2].to_f / update.shape[-1]].max**0.5)
        end
        Core.subtract(parameter, Core.multiply(lr, update))
      end

      private

      def newton_schulz(x)
        a = 3.4445
        b = -4.775
        c = 2.0315
        transpose = x.shape[-2] > x.shape[-1]
        x = Core.transpose(x) if transpose
        x = Core.divide(x, Core.add(Core.norm(x, nil, nil, true), 1e-7))
        @ns_steps.times do
          aa = Core.matmul(x, Core.transpose(x))
          bb = Core.addmm(Core.multiply(b, aa), aa, aa, c, 1.0)
          x = Core.addmm(Core.multiply(a, x), bb, x, 1.0, 1.0)
        end
        transpose ? Core.transpose(x) : x
      end
    end
  end
end
