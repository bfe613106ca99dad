# frozen_string_literal: true

module MLX
  module Optimizers
    # The base of every optimizer (Python MLX's optim.Optimizer). Its state
    # is a Hash: "step" (a uint64 array, as upstream, so a compiled step
    # does not retrace), "learning_rate" and other scheduled values, and a
    # tree mirroring the parameters whose leaves are per-parameter slot
    # Hashes ("m", "v", ...).
    class Optimizer
      def initialize(schedulers: nil, **)
        @initialized = false
        @state = { "step" => Core.array(0, Core.uint64) }
        @schedulers = (schedulers || {}).transform_keys(&:to_s)
      end

      attr_reader :state

      # Replaces the state (slots missing for some parameters are created at
      # the next update).
      def state=(state)
        @initialized = false
        @state = state
      end

      def step = @state["step"]
      def learning_rate = @state["learning_rate"]

      def learning_rate=(value)
        @state["learning_rate"] = Core.array(value)
      end

      # Applies the gradients to a model (its #update) or, for a plain
      # parameter tree, returns the updated tree.
      def update(model, gradients)
        if model.respond_to?(:update) && model.respond_to?(:trainable_parameters)
          model.update(apply_gradients(gradients, model.parameters))
        else
          apply_gradients(gradients, model)
        end
      end

      # Creates the slots of every parameter that has none yet.
      def init(parameters)
        merge_state(parameters, @state)
        Utils.tree_map(lambda { |p, s|
          init_single(p, s) if s.is_a?(Hash) && s.empty?
          s
        }, parameters, @state)
        @initialized = true
        self
      end

      # The new parameters after one step (lazy state init, schedulers,
      # step + 1); parameters may be a superset of the gradients' tree.
      def apply_gradients(gradients, parameters)
        return parameters if gradients.nil?

        init(gradients) unless @initialized
        @schedulers.each { |name, scheduler| @state[name] = scheduler.call(step) }
        @state["step"] = Core.add(step, 1)
        Utils.tree_map(->(g, p, s) { apply_single(g, p, s) }, gradients, parameters, @state)
      end

      def init_single(_parameter, _state)
        raise NotImplementedError, "#{self.class} must define init_single"
      end

      def apply_single(_gradient, _parameter, _state = nil)
        raise NotImplementedError, "#{self.class} must define apply_single"
      end

      protected

      # Puts a hyper-parameter on a schedule (a callable of the step) or
      # stores its value as an array.
      def maybe_schedule(name, value)
        @state[name] = if value.respond_to?(:call)
                         @schedulers[name] = value
                         value.call(step)
                       else
                         Core.array(value)
                       end
      end

      private

      # Grows the state tree to mirror the parameters (new leaves: {}).
      def merge_state(params, state)
        case params
        when ::Array
          params.each_with_index do |p, i|
            if i < state.size
              state[i] = merge_state(p, state[i])
            else
              state << Utils.tree_map(->(_) { {} }, p)
            end
          end
          state
        when Hash
          params.each do |k, v|
            state[k] = state.key?(k) ? merge_state(v, state[k]) : Utils.tree_map(->(_) { {} }, v)
          end
          state
        else
          state
        end
      end

      def lr_for(gradient) = Core.astype(learning_rate, gradient.dtype)
    end

    # MultiOptimizer.new(optimizers, filters: []): filter i (path, grad) ->
    # bool picks optimizer i; the last optimizer takes the rest.
    class MultiOptimizer < Optimizer
      attr_reader :optimizers, :filters

      def initialize(optimizers, filters: [])
        super()
        @state = {}
        if filters.size != optimizers.size - 1
          raise ArgumentError, "Given #{filters.size} filters but #{optimizers.size - 1} needed."
        end

        @optimizers = optimizers
        @filters = filters + [->(*) { true }]
      end

      def init(parameters)
        @optimizers.zip(split(parameters)).each { |o, p| o.init(p) }
        self
      end

      def apply_gradients(gradients, parameters)
        @optimizers.zip(split(gradients)).reduce({}) do |tree, (o, g)|
          Utils.tree_merge(tree, o.apply_gradients(g, parameters))
        end
      end

      def state = { "states" => @optimizers.map(&:state) }

      def state=(state)
        states = state["states"] || state[:states]
        raise ArgumentError, "Invalid state provided" unless states.is_a?(::Array) && states.size == @optimizers.size

        @optimizers.zip(states).each { |o, s| o.state = s }
      end

      def learning_rate = @optimizers.first.learning_rate

      def learning_rate=(value)
        @optimizers.each { |o| o.learning_rate = value }
      end

      private

      def split(gradients)
        return [gradients] if @optimizers.size == 1

        parts = Array.new(@optimizers.size) { [] }
        Utils.tree_flatten(gradients).each do |k, g|
          i = @filters.index { |f| f.call(k, g) }
          parts[i] << [k, g]
        end
        parts.map { |p| p.empty? ? {} : Utils.tree_unflatten(p) }
      end
    end
  end
end
