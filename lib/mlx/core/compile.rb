# frozen_string_literal: true

require_relative "tree"

module MLX
  module Core
    # The Ruby side of compile (Python MLX's mx.compile). The engine compiles
    # a function of a flat list of arrays: it traces the function once per
    # input signature (count, dtypes, shapes) and replays the simplified,
    # fused graph on later calls without calling the function. This layer
    # adds what only Ruby can know:
    #
    # - Trees and constants. Arguments are trees (Arrays and Hashes) of
    #   arrays and constants (Integer, Float, String, Symbol, nil, true,
    #   false, Dtype). Their arrays are the engine's inputs; the structure
    #   and the constants form a cache key, and each key gets its own engine
    #   compiled function, so changing a constant traces the function again
    #   (as Python MLX does) instead of reusing a trace that baked in the old
    #   value.
    # - Captured state (inputs:/outputs:). Trees, or objects whose #state
    #   returns a live tree, whose arrays the function reads or replaces in
    #   place. The arrays of inputs: are extra engine inputs (so they are not
    #   frozen into the trace as constants); while tracing, the function sees
    #   tracers in their place. The arrays of outputs: after the function ran
    #   are extra engine outputs, written back into the containers after
    #   every call, traced or replayed.
    class Compiled
      # One cache key: its engine function and what the last trace of it
      # told about the outputs.
      Entry = Struct.new(:native, :skeleton, :nout)

      # Per-call data the tracing lambda reads (the engine only passes it the
      # flat inputs): the call's argument template and the state slots.
      Frame = Struct.new(:entry, :template, :in_slots, :tracers)

      FRAMES = :__mlx_compile_frames__
      # Structure tokens of cache keys: unique objects no user value equals.
      ARRAY = Object.new.freeze
      LIST = Object.new.freeze
      HASH = Object.new.freeze
      FLOAT = Object.new.freeze
      STRING = Object.new.freeze
      INPUTS = Object.new.freeze
      OUTPUTS = Object.new.freeze
      # Where an output array goes in a traced function's output skeleton.
      LEAF = Object.new.freeze
      private_constant :Entry, :Frame, :FRAMES, :ARRAY, :LIST, :HASH, :FLOAT, :STRING, :INPUTS, :OUTPUTS, :LEAF

      def initialize(fun, inputs, outputs, shapeless)
        raise TypeError, "[compile] expected a callable, got #{fun.class}" unless fun.respond_to?(:call)

        check_state(inputs, "inputs")
        check_state(outputs, "outputs")
        @fun = fun
        @inputs = inputs
        @outputs = outputs
        @shapeless = shapeless ? true : false
        @cache = {}
      end

      def call(*args, **kwargs)
        template = [args, kwargs]
        key = []
        signature(template, key)
        in_slots = []
        out_slots = []
        unless @inputs.nil?
          key << INPUTS
          state_walk(@inputs, in_slots, key)
        end
        unless @outputs.nil?
          key << OUTPUTS
          state_walk(@outputs, out_slots, key)
        end
        entry = @cache[key] ||= new_entry
        in_vals = in_slots.map { |c, k| c[k] }
        out_vals = out_slots.map { |c, k| c[k] }
        frame = Frame.new(entry, template, in_slots, nil)
        frames = (Thread.current[FRAMES] ||= [])
        frames.push(frame)
        done = false
        begin
          outs = entry.native.call(Tree.flatten(template) + in_vals)
          done = true
        ensure
          frames.pop
          # A raise (or throw/break) out of fun: the containers get their
          # arrays back instead of keeping tracers.
          unless done
            restore(in_slots, in_vals)
            restore(out_slots, out_vals)
          end
        end
        untrace(frame, in_vals)
        write_outputs(outs, entry.nout)
        fill(entry.skeleton, outs)
      end
      alias [] call

      def to_proc
        method(:call).to_proc
      end

      def inspect
        "#<MLX::Core::Compiled #{@fun.inspect}>"
      end
      alias to_s inspect

      private

      def check_state(spec, what)
        return if spec.nil? || spec.is_a?(::Array) || spec.is_a?(Hash)
        return if spec.respond_to?(:state) && !spec.is_a?(MLX::Core::Array)

        raise TypeError, "[compile] #{what} must be an Array or Hash of arrays, or an object with #state, got #{spec.class}"
      end

      def new_entry
        entry = Entry.new(nil, nil, 0)
        entry.native = Native.compile(tracer(entry), @shapeless)
        entry
      end

      # The flat function the engine compiles for one cache key. It runs on
      # the first call of each signature (and on every call when compile is
      # disabled or inside another transform), during entry.native.call.
      def tracer(entry)
        lambda do |arrays|
          frame = Thread.current[FRAMES]&.last
          unless frame&.entry.equal?(entry)
            raise MLX::RuntimeError, "[compile] a compiled function was traced outside its own call"
          end

          (args, kwargs), stop = Tree.unflatten_from(frame.template, arrays)
          tracers = arrays[stop..]
          frame.in_slots.each_with_index { |(c, k), i| c[k] = tracers[i] }
          frame.tracers = tracers
          out = @fun.call(*args, **kwargs)
          flat = []
          entry.skeleton = skeleton(out, flat)
          entry.nout = flat.size
          unless @outputs.nil?
            slots = []
            state_walk(@outputs, slots, nil)
            slots.each { |c, k| flat << c[k] }
          end
          flat
        end
      end

      # Puts the original arrays back where the function still sees the
      # tracers it was given (Python MLX's rule: a slot it wrote keeps
      # what it wrote until the outputs are written back).
      def untrace(frame, originals)
        return unless frame.tracers

        frame.in_slots.each_with_index do |(c, k), i|
          c[k] = originals[i] if c[k].equal?(frame.tracers[i])
        end
      end

      def restore(slots, values)
        slots.each_with_index { |(c, k), i| c[k] = values[i] }
      end

      # Writes the state outputs (after the first nout) into the outputs
      # containers, walked again: the function may have added entries.
      def write_outputs(outs, nout)
        return if @outputs.nil?

        slots = []
        state_walk(@outputs, slots, nil)
        if slots.size != outs.size - nout
          raise MLX::RuntimeError, "[compile] outputs: holds #{slots.size} arrays but the traced function " \
                                   "left #{outs.size - nout}; its structure changed since the trace"
        end
        slots.each_with_index { |(c, k), i| c[k] = outs[nout + i] }
      end

      # Appends the cache-key tokens of an argument tree: structure,
      # constants, an ARRAY token per array (the engine keys dtypes and
      # shapes itself).
      def signature(tree, key)
        case tree
        when MLX::Core::Array then key << ARRAY
        when ::Array
          key << LIST << tree.size
          tree.each { |x| signature(x, key) }
        when Hash
          key << HASH << tree.size
          tree.each do |k, v|
            key << constant_token(k)
            signature(v, key)
          end
        when Integer, Symbol, nil, true, false, MLX::Core::Dtype then key << tree
        when Float, String then key << constant_token(tree)
        else
          raise ArgumentError, "[compile] Function arguments must be trees of arrays or constants (Integers, Floats, " \
                               "Strings, Symbols, nil, true, false or dtypes), but received type #{tree.class}."
        end
      end

      # Floats by their bits (so -0.0 and 0.0 differ and NaN matches NaN);
      # Strings as frozen copies (a key must not change under the cache).
      def constant_token(v)
        case v
        when Float then [FLOAT, [v].pack("G")].freeze
        when String then [STRING, v.frozen? ? v : v.dup.freeze].freeze
        else v
        end
      end

      # Walks a captured state: appends [container, key] of each array leaf
      # to slots (flatten order) and, unless key is nil, the structure and
      # constants to key. Objects with #state are walked through it.
      def state_walk(node, slots, key)
        case node
        when ::Array
          key&.push(LIST, node.size)
          node.each_with_index { |x, i| state_child(node, i, x, slots, key) }
        when Hash
          key&.push(HASH, node.size)
          node.each do |k, x|
            key&.push(constant_token(k))
            state_child(node, k, x, slots, key)
          end
        else
          raise TypeError, "[compile] captured state must be an Array, a Hash or respond to #state, got #{node.class}" unless node.respond_to?(:state)

          state_walk(node.state, slots, key)
        end
      end

      def state_child(container, k, x, slots, key)
        case x
        when MLX::Core::Array
          slots << [container, k]
          key&.push(ARRAY)
        when ::Array, Hash then state_walk(x, slots, key)
        when Integer, Symbol, nil, true, false, MLX::Core::Dtype then key&.push(x)
        when Float, String then key&.push(constant_token(x))
        else
          state_walk(x, slots, key) if x.respond_to?(:state)
        end
      end

      # The output tree with LEAF for each array (appended to flat), so the
      # entry keeps no traced array alive.
      def skeleton(tree, flat)
        case tree
        when MLX::Core::Array
          flat << tree
          LEAF
        when ::Array then tree.map { |x| skeleton(x, flat) }
        when Hash then tree.transform_values { |x| skeleton(x, flat) }
        else tree
        end
      end

      def fill(skel, outs, pos = [0])
        case skel
        when LEAF
          o = outs[pos[0]]
          pos[0] += 1
          o
        when ::Array then skel.map { |x| fill(x, outs, pos) }
        when Hash then skel.transform_values { |x| fill(x, outs, pos) }
        else skel
        end
      end
    end

    module_function

    # compile(fun, inputs = nil, outputs = nil, shapeless = false) -> a
    # Proc with fun's calling convention (positional and keyword trees of
    # arrays and constants) returning fun's output tree, computed by
    # a traced and fused graph (see Compiled). inputs:/outputs: are trees,
    # or objects responding to #state with a live tree (an Array of such
    # objects works too), read and updated in place: the state a function
    # closes over, e.g. a model's parameters and an optimizer's state in a
    # training step. shapeless: reuse a trace for new shapes of the same
    # dtypes and ranks where the traced ops allow it. A block may stand for
    # fun.
    def compile(pos_fun = nil, pos_inputs = nil, pos_outputs = nil, pos_shapeless = false, inputs: pos_inputs,
                outputs: pos_outputs, shapeless: pos_shapeless, &block)
      fun = pos_fun || block
      raise ArgumentError, "[compile] expected a function or a block" if fun.nil?

      compiled = Compiled.new(fun, inputs, outputs, shapeless)
      ->(*args, **kwargs) { compiled.call(*args, **kwargs) }
    end

    # Compiled functions call their function directly until enable_compile
    # (the environment variable MLX_DISABLE_COMPILE starts in this mode).
    def disable_compile
      Native.disable_compile
      nil
    end

    def enable_compile
      Native.enable_compile
      nil
    end

    # Directory of the generated kernels; nil restores the default
    # ($MLX_COMPILE_CACHE_DIR, else $XDG_CACHE_HOME/mlx-ruby/kernels, else
    # ~/.cache/mlx-ruby/kernels).
    def set_compile_cache_dir(dir)
      Native.set_compile_cache_dir(dir.nil? ? nil : dir.to_s)
      nil
    end

    # Forgets every compiled function's traces and built kernels and
    # removes the kernel files of the cache directory.
    def compile_clear_cache
      Native.compile_clear_cache
      nil
    end
  end
end
