# frozen_string_literal: true

module MLX
  module Optimizers
    # Learning-rate schedules: each returns a lambda of the step (an MLX
    # array or a number) computing the value as upstream does.
    module Schedulers
      extend self

      def exponential_decay(init, decay_rate)
        ->(step) { Core.multiply(init, Core.power(decay_rate, step)) }
      end

      def step_decay(init, decay_rate, step_size)
        raise ArgumentError, "step_size must be greater than 0, but got #{step_size}." if step_size < 1

        ->(step) { Core.multiply(init, Core.power(decay_rate, Core.floor_divide(step, step_size))) }
      end

      def cosine_decay(init, decay_steps, end_value = 0.0)
        raise ArgumentError, "decay_steps must be greater than 0, but got #{decay_steps}." if decay_steps < 1

        lambda do |step|
          s = Core.minimum(step, decay_steps)
          decay = Core.multiply(0.5, Core.add(1.0, Core.cos(Core.multiply(Math::PI / decay_steps, s))))
          Core.add(end_value, Core.multiply(decay, init - end_value))
        end
      end

      def join_schedules(schedules, boundaries)
        raise ArgumentError, "Must provide at least 1 schedule to join." if schedules.empty?
        if schedules.size != boundaries.size + 1
          raise ArgumentError, "Received #{boundaries.size} boundaries but expected #{schedules.size - 1}."
        end

        lambda do |step|
          out = schedules[0].call(step)
          boundaries.zip(schedules[1..]).each do |boundary, schedule|
            out = Core.where(Core.less(step, boundary), out, schedule.call(Core.subtract(step, boundary)))
          end
          out
        end
      end

      def linear_schedule(init, end_value, steps)
        raise ArgumentError, "steps must be greater than 0, but got #{steps}." if steps < 1

        lambda do |step|
          s = Core.minimum(step, steps)
          Core.add(Core.multiply(s, (end_value - init).to_f / steps), init)
        end
      end
    end

    extend Schedulers

    module_function

    # clip_grad_norm(grads, max_norm) -> [clipped_tree, total_norm]: the
    # gradients scaled so their global L2 norm is at most max_norm.
    def clip_grad_norm(grads, max_norm)
      raise ArgumentError, "max_norm should be >=0, #{max_norm} was provided instead" if max_norm.negative?

      squared = lambda do |g|
        g = Core.astype(g, :float32) if g.dtype == Core.float16
        Core.sum(Core.square(g))
      end
      norm_sq = Utils.tree_reduce(->(acc, g) { Core.add(acc, squared.call(g)) }, grads, 0.0)
      total = Core.sqrt(norm_sq)
      normalizer = Core.minimum(Core.divide(max_norm, Core.add(total, 1e-6)), 1.0)
      clipped = Utils.tree_map(lambda { |g|
        scaled = Core.multiply(g, normalizer)
        Core.issubdtype(g.dtype, :floating) ? Core.astype(scaled, g.dtype) : scaled
      }, grads)
      [clipped, total]
    end
  end
end
