# frozen_string_literal: true

module MLX
  module Optimizers
    # Optimizer state files: the state tree flattened with
    # Utils.tree_flatten ("step", "learning_rate", "layers.0.weight.m", ...)
    # in a .safetensors or .npz file. That is also how Python MLX code saves
    # an optimizer (mx.save_safetensors(path, dict(tree_flatten(opt.state)))),
    # so files written by either side load in the other.
    module StateFile
      EXTENSIONS = %w[.safetensors .npz].freeze

      module_function

      # Writes the flattened state to path (atomically: Core.save_safetensors
      # and Core.savez write a temporary file and rename it).
      def save(path, state)
        path = check_path(path.to_s)
        arrays = Utils.tree_flatten(state).to_h do |key, value|
          [key, leaf_array(key, value)]
        end
        if path.end_with?(".npz")
          Core.savez(path, **arrays.transform_keys(&:to_sym))
        else
          Core.save_safetensors(path, arrays)
        end
        nil
      end

      # The {key => array} Hash stored at path, checked against the current
      # state: every key of the current state must be there with the same
      # shape and dtype and, once the optimizer holds per-parameter slots,
      # the file must hold no other keys.
      def load(path, current, initialized:, strict: true)
        path = check_path(path.to_s)
        raise ArgumentError, "Optimizer state file #{path} does not exist" unless File.exist?(path)

        loaded = Core.load(path)
        raise ArgumentError, "#{path} does not hold named arrays" unless loaded.is_a?(Hash)

        loaded = loaded.transform_keys(&:to_s)
        validate(path, loaded, Utils.tree_flatten(current).to_h, initialized) if strict
        loaded
      end

      def check_path(path)
        return path if EXTENSIONS.any? { |ext| path.end_with?(ext) }

        raise ArgumentError, "Unsupported file extension for #{path}. Use '.safetensors' or '.npz'."
      end

      def leaf_array(key, value)
        return value if value.is_a?(Core::Array)
        return Core.array(value) if value.is_a?(Numeric) || value == true || value == false

        raise TypeError, "Optimizer state entry #{key} is a #{value.class}, which cannot be saved (expected an array)"
      end

      def validate(path, loaded, current, initialized)
        missing = current.keys - loaded.keys
        unless missing.empty?
          raise ArgumentError, "Optimizer state file #{path} lacks #{missing.join(', ')} of the current state"
        end

        if initialized
          extra = loaded.keys - current.keys
          unless extra.empty?
            raise ArgumentError, "Optimizer state file #{path} holds #{extra.join(', ')}, which the current state " \
                                 "does not have (was it saved for another model or optimizer?)"
          end
        end
        current.each do |key, value|
          next unless value.is_a?(Core::Array)

          got = loaded[key]
          if got.shape != value.shape
            raise ArgumentError, "Optimizer state #{key}: the file has shape #{got.shape}, the current state " \
                                 "#{value.shape}"
          end
          next if got.dtype == value.dtype

          raise ArgumentError, "Optimizer state #{key}: the file has dtype #{got.dtype}, the current state #{value.dtype}"
        end
      end
    end

    class Optimizer
      # save_state(path) -> nil: writes #state to a .safetensors or .npz
      # file (keys as Utils.tree_flatten gives them).
      def save_state(path)
        StateFile.save(path, state)
      end

      # load_state(path, strict: true) -> self: replaces #state by the one
      # saved at path. strict: the file must match the current state (see
      # StateFile.load); ArgumentError otherwise, leaving the state as it
      # was. Slots for parameters the file lacks are created at the next
      # update.
      def load_state(path, strict: true)
        loaded = StateFile.load(path, state, initialized: slots?, strict: strict)
        self.state = Utils.tree_unflatten(loaded.to_a)
        self
      end

      # Whether the state holds per-parameter slots yet.
      def slots?
        state.any? { |_k, v| v.is_a?(Hash) || v.is_a?(::Array) }
      end
    end

    class MultiOptimizer
      def slots? = @optimizers.any?(&:slots?)

      def load_state(path, strict: true)
        loaded = StateFile.load(path, state, initialized: slots?, strict: strict)
        tree = Utils.tree_unflatten(loaded.to_a)
        states = tree.is_a?(Hash) ? tree["states"] : nil
        unless states.is_a?(::Array) && states.size == @optimizers.size
          raise ArgumentError, "Optimizer state file #{path} does not hold the states of #{@optimizers.size} optimizers"
        end

        self.state = tree
        self
      end
    end
  end
end
