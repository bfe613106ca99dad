# frozen_string_literal: true

require_relative "tree"

module MLX
  module Core
    # A callable returned by a transform: #call, #[] and #to_proc.
    class Function
      def initialize(name = "function", &impl)
        raise ArgumentError, "Function.new needs a block" unless impl

        @name = name
        @impl = impl
      end

      def call(*args, **kwargs, &block)
        @impl.call(*args, **kwargs, &block)
      end
      alias [] call

      def to_proc
        method(:call).to_proc
      end

      def inspect
        "#<MLX::Core::Function #{@name}>"
      end
      alias to_s inspect
    end

    # A function with custom transforms (Python MLX's mx.custom_function):
    # it behaves like fun, but under vjp/grad, jvp and vmap the rules
    # registered with #vjp, #jvp and #vmap replace differentiating or
    # vectorizing fun itself. Unregistered rules fall back to going
    # through fun. Rules (blocks or callables):
    #   vjp(primals, cotangents, outputs, **kwargs) -> one cotangent per
    #     positional argument (an Array of trees shaped like the
    #     arguments, or a single array for a single argument; nil = zeros).
    #     primals is the Array of positional arguments, kwargs fun's
    #     keyword arguments; cotangents and outputs have the structure of
    #     fun's return, a single array being wrapped in a one-element
    #     Array. Keyword arguments get zero cotangents.
    #   jvp(primals, tangents) -> the output tangents (an array or an Array
    #     shaped like fun's outputs). tangents parallel primals, zeros
    #     where a primal has no tangent.
    #   vmap(inputs, axes) -> outputs, or [outputs, out_axes]. axes
    #     parallel inputs: the batch axis of each array, nil if it is not
    #     batched. out_axes (a prefix tree of outputs, nil = not batched)
    #     defaults to 0 for every output.
    class CustomFunction
      def initialize(fun = nil, &block)
        fun ||= block
        raise ArgumentError, "[custom_function] expected a callable" if fun.nil?
        raise TypeError, "[custom_function] expected a callable, got #{fun.class}" unless fun.respond_to?(:call)

        @fun = fun
        @vjp = @jvp = @vmap = nil
      end

      # Registers the custom vjp; returns it.
      def vjp(fun = nil, &block)
        @vjp = rule(fun, block, "vjp")
      end

      # Registers the custom jvp; returns it.
      def jvp(fun = nil, &block)
        @jvp = rule(fun, block, "jvp")
      end

      # Registers the custom vmap; returns it.
      def vmap(fun = nil, &block)
        @vmap = rule(fun, block, "vmap")
      end

      def custom_vjp? = !@vjp.nil?
      def custom_jvp? = !@jvp.nil?
      def custom_vmap? = !@vmap.nil?

      # The registered rules called directly.
      def call_custom_vjp(primals, cotangents, outputs, **kwargs)
        raise ArgumentError, "[custom_function] no custom vjp registered" unless @vjp

        @vjp.call(primals, cotangents, outputs, **kwargs)
      end

      def call_custom_jvp(primals, tangents)
        raise ArgumentError, "[custom_function] no custom jvp registered" unless @jvp

        @jvp.call(primals, tangents)
      end

      def call_custom_vmap(inputs, axes)
        raise ArgumentError, "[custom_function] no custom vmap registered" unless @vmap

        @vmap.call(inputs, axes)
      end

      def call(*args, **kwargs, &block)
        return @fun.call(*args, **kwargs, &block) unless @vjp || @jvp || @vmap

        Transforms.call_custom(self, @fun, @vjp, @jvp, @vmap, args, kwargs, block)
      end
      alias [] call

      def to_proc
        method(:call).to_proc
      end

      private

      def rule(fun, block, what)
        fun ||= block
        raise ArgumentError, "[custom_function] #{what} needs a callable or a block" if fun.nil?
        raise TypeError, "[custom_function] #{what} must be callable, got #{fun.class}" unless fun.respond_to?(:call)

        fun
      end
    end

    # The Ruby side of the transforms: trees in and out, argument rules of
    # Python MLX. Not public API (MLX::Core's functions below are).
    module Transforms
      module_function

      def check_callable(fun, tag)
        raise TypeError, "[#{tag}] expected a callable, got #{fun.class}" unless fun.respond_to?(:call)
      end

      # argnums/argnames as Python MLX takes them: [sorted argnums, names].
      def argspec(argnums, argnames, tag)
        names = case argnames
                when nil then []
                when String, Symbol then [argnames]
                when ::Array then argnames
                else raise TypeError, "[#{tag}] argnames must be a String, a Symbol or an Array of them"
                end
        names = names.map do |n|
          raise TypeError, "[#{tag}] argnames must be Strings or Symbols, got #{n.class}" unless n.is_a?(String) || n.is_a?(Symbol)

          n.to_sym
        end
        nums = case argnums
               when nil then names.empty? ? [0] : []
               when Integer then [argnums]
               when ::Array then argnums
               else raise TypeError, "[#{tag}] argnums must be an Integer or an Array of Integers"
               end
        nums.each { |n| raise TypeError, "[#{tag}] argnums must be Integers, got #{n.class}" unless n.is_a?(Integer) }
        nums = nums.sort
        raise ArgumentError, "[#{tag}] Gradient wrt no argument requested" if nums.empty? && names.empty?
        raise ArgumentError, "[#{tag}] Can't compute the gradient of negative argument index #{nums[0]}" if nums[0]&.negative?

        dup = nums.each_cons(2).find { |a, b| a == b }
        raise ArgumentError, "[#{tag}] Duplicate argument index #{dup[0]} is not allowed." if dup

        dupn = names.tally.find { |_, c| c > 1 }
        raise ArgumentError, "[#{tag}] Duplicate argument name #{dupn[0]} is not allowed." if dupn

        [nums, names]
      end

      # The loss must be an array, or an Array whose first element is one.
      def check_loss(out, tag)
        return if out.is_a?(MLX::Core::Array)

        unless out.is_a?(::Array)
          raise ArgumentError, "[#{tag}] The return value of the function whose gradient we want to compute should " \
                               "be either a scalar array or an Array with the first value being a scalar array; " \
                               "but #{out.class} was returned."
        end
        if out.empty?
          raise ArgumentError, "[#{tag}] The return value of the function whose gradient we want to compute should " \
                               "be either a scalar array or a non-empty Array; got an empty Array."
        end
        return if out[0].is_a?(MLX::Core::Array)

        raise ArgumentError, "[#{tag}] The return value of the function whose gradient we want to compute should be " \
                             "either a scalar array or an Array with the first value being a scalar array; but it " \
                             "was an Array with the first value being of type #{out[0].class}."
      end

      # A callable (*args, **kwargs) -> [value, grads].
      def value_and_grad(fun, argnums, argnames, tag)
        check_callable(fun, tag)
        nums, names = argspec(argnums, argnames, tag)
        lambda do |*args, **kwargs|
          if nums.any? && nums.last >= args.size
            raise ArgumentError, "[#{tag}] Can't compute the gradient of argument index #{nums.last} because the " \
                                 "function is called with only #{args.size} positional arguments."
          end
          names.each do |n|
            next if kwargs.key?(n)

            raise ArgumentError, "[#{tag}] Can't compute the gradient of keyword argument '#{n}' because the function " \
                                 "is called with the following keyword arguments {#{kwargs.keys.join(',')}}"
          end
          targets = nums.map { |i| args[i] } + names.map { |n| kwargs[n] }
          inputs = []
          starts = targets.map do |t|
            s = inputs.size
            Tree.flatten(t, inputs)
            s
          end
          raise ArgumentError, "[#{tag}] the arguments to differentiate hold no MLX arrays" if inputs.empty?

          raw = nil
          traced = lambda do |arrays|
            a = args.dup
            k = kwargs.dup
            nums.each_with_index { |n, j| a[n] = Tree.unflatten_from(targets[j], arrays, starts[j])[0] }
            names.each_with_index do |n, j|
              t = j + nums.size
              k[n] = Tree.unflatten_from(targets[t], arrays, starts[t])[0]
            end
            raw = fun.call(*a, **k)
            check_loss(raw, tag)
            Tree.flatten(raw)
          end
          outs, grads = Native.value_and_grad(traced, inputs, (0...inputs.size).to_a)
          trees = targets.each_with_index.map { |t, j| Tree.unflatten_from(t, grads, starts[j], fill: nil)[0] }
          positional = case nums.size
                       when 0 then nil
                       when 1 then trees[0]
                       else trees[0, nums.size]
                       end
          result = if names.empty?
                     positional
                   else
                     [positional, names.each_with_index.to_h { |n, j| [n.to_s, trees[nums.size + j]] }]
                   end
          [Tree.unflatten(raw, outs), result]
        end
      end

      # A list of primals/tangents/cotangents: an Array, or one array.
      def list(value, what, tag)
        return [value] if value.is_a?(MLX::Core::Array)
        raise TypeError, "[#{tag}] #{what} must be an Array (of arrays or trees), got #{value.class}" unless value.is_a?(::Array)

        value
      end

      # fun's return as a list of outputs: an array becomes [array].
      def outputs_list(out)
        out.is_a?(MLX::Core::Array) ? [out] : out
      end

      # The arrays of a traced function's result, which must hold some.
      def flat_outputs(out, tag)
        flat = Tree.flatten(out)
        return flat unless flat.empty?

        raise TypeError, "[#{tag}] the function must return an MLX::Core::Array or a tree of them, got #{out.inspect[0, 60]}"
      end

      # [outputs, vjps] of fun at primals (Arrays, trees allowed).
      def vjp(fun, primals, cotangents)
        check_callable(fun, "vjp")
        primals = list(primals, "primals", "vjp")
        cotangents = list(cotangents, "cotangents", "vjp")
        raw = nil
        traced = lambda do |arrays|
          raw = outputs_list(fun.call(*Tree.unflatten(primals, arrays)))
          flat_outputs(raw, "vjp")
        end
        outs, vjps = Native.vjp(traced, Tree.flatten(primals), Tree.flatten(cotangents))
        [Tree.unflatten(raw, outs), Tree.unflatten(primals, vjps, fill: nil)]
      end

      # [outputs, jvps] of fun at primals with tangents (parallel to primals).
      def jvp(fun, primals, tangents)
        check_callable(fun, "jvp")
        primals = list(primals, "primals", "jvp")
        tangents = list(tangents, "tangents", "jvp")
        raw = nil
        traced = lambda do |arrays|
          raw = outputs_list(fun.call(*Tree.unflatten(primals, arrays)))
          flat_outputs(raw, "jvp")
        end
        outs, jvps = Native.jvp(traced, Tree.flatten(primals), Tree.flatten(tangents))
        [Tree.unflatten(raw, outs), Tree.unflatten(raw, jvps, fill: nil)]
      end

      # The in_axes of each array of args (Python MLX: a prefix of the
      # argument tuple, or of the single argument).
      def in_axes_for(args, in_axes)
        case in_axes
        when nil then Tree.prefix_values(0, args, "in_axes")
        when Integer then Tree.prefix_values(in_axes, args, "in_axes")
        when ::Array
          if in_axes.size == args.size
            Tree.prefix_values(in_axes, args, "in_axes")
          elsif args.size == 1
            Tree.prefix_values(in_axes, args[0], "in_axes")
          else
            raise ArgumentError, "[vmap] #{in_axes.size} in_axes for #{args.size} arguments"
          end
        when Hash
          raise ArgumentError, "[vmap] a Hash of in_axes needs exactly one argument" unless args.size == 1

          Tree.prefix_values(in_axes, args[0], "in_axes")
        else
          raise TypeError, "[vmap] in_axes must be an Integer, nil, or an Array/Hash of them, got #{in_axes.class}"
        end
      end

      def check_axis(axis, what)
        return if axis.nil? || axis.is_a?(Integer)

        raise TypeError, "[vmap] #{what} must be Integers or nil, got #{axis.class}"
      end

      def vmap(fun, in_axes, out_axes)
        check_callable(fun, "vmap")
        Function.new("vmap") do |*args|
          axes = in_axes_for(args, in_axes)
          axes.each { |a| check_axis(a, "in_axes") }
          raw = nil
          traced = lambda do |arrays|
            raw = fun.call(*Tree.unflatten(args, arrays))
            flat_outputs(raw, "vmap")
          end
          outs = Native.vmap(traced, Tree.flatten(args), axes, nil)
          prefix = out_axes.nil? ? 0 : out_axes
          prefix = prefix[0] if raw.is_a?(MLX::Core::Array) && prefix.is_a?(::Array) && prefix.size == 1
          oax = Tree.prefix_values(prefix, raw, "out_axes")
          outs = outs.each_with_index.map do |o, i|
            ax = oax[i]
            raise ArgumentError, "[vmap] out_axes must be Integers (nil is only allowed in in_axes)" if ax.nil?

            check_axis(ax, "out_axes")
            if ax < -o.ndim || ax >= o.ndim
              raise ArgumentError, "[vmap] Invalid output vectorization axis #{ax} for array with shape #{o.shape[1..].inspect}"
            end

            ax.zero? || ax == -o.ndim ? o : Native.moveaxis(o, 0, ax, nil)
          end
          Tree.unflatten(raw, outs)
        end
      end

      def checkpoint(fun)
        check_callable(fun, "checkpoint")
        lambda do |*args, **kwargs|
          template = [args, kwargs]
          raw = nil
          traced = lambda do |arrays|
            a, k = Tree.unflatten(template, arrays)
            raw = fun.call(*a, **k)
            flat_outputs(raw, "checkpoint")
          end
          outs = Native.checkpoint(traced, Tree.flatten(template))
          Tree.unflatten(raw, outs)
        end
      end

      # One flat cotangent list for the arrays of `template` from a rule's
      # result tree (nil subtrees: zeros).
      def flat_like(template, result, what, out = [])
        case template
        when MLX::Core::Array
          if result.nil?
            out << Native.zeros_like(template, nil)
          elsif result.is_a?(MLX::Core::Array)
            out << result
          else
            raise TypeError, "[custom_function] the #{what} returned #{result.class} where an array was expected"
          end
        when ::Array
          if result.nil?
            template.each { |t| flat_like(t, nil, what, out) }
          elsif result.is_a?(::Array) && result.size == template.size
            template.each_with_index { |t, i| flat_like(t, result[i], what, out) }
          else
            raise ArgumentError, "[custom_function] the #{what} result does not match the structure of the arguments"
          end
        when Hash
          if result.nil?
            template.each_value { |t| flat_like(t, nil, what, out) }
          elsif result.is_a?(Hash)
            template.each { |k, t| flat_like(t, result.fetch(k) { result[k.is_a?(Symbol) ? k.to_s : k.to_sym] }, what, out) }
          else
            raise ArgumentError, "[custom_function] the #{what} result does not match the structure of the arguments"
          end
        end
        out
      end

      def no_kwargs!(kwargs, what)
        raise ArgumentError, "[custom #{what}] Function should only accept positional arguments" unless kwargs.empty?
      end

      # Calls a CustomFunction: fun and the rules over flat lists, through
      # the engine's custom_function.
      def call_custom(cf, fun, vjp_rule, jvp_rule, vmap_rule, args, kwargs, block)
        template = [args, kwargs]
        inputs = Tree.flatten(template)
        nprim = inputs.size
        out_tree = nil
        traced = lambda do |arrays|
          a, k = Tree.unflatten(template, arrays)
          out_tree = fun.call(*a, **k, &block)
          flat_outputs(out_tree, "custom_function")
        end
        vjp_flat = vjp_rule && lambda do |arrays|
          nout = (arrays.size - nprim) / 2
          a, k = Tree.unflatten_from(template, arrays)[0]
          outs_t = outputs_list(out_tree)
          cots = Tree.unflatten_from(outs_t, arrays, nprim)[0]
          outs = Tree.unflatten_from(outs_t, arrays, nprim + nout)[0]
          res = cf.call_custom_vjp(a, cots, outs, **k)
          res = [res] if res.is_a?(MLX::Core::Array) || res.nil?
          flat = flat_like(args, res, "vjp")
          flat + Tree.flatten(kwargs).map { |x| Native.zeros_like(x, nil) }
        end
        jvp_flat = jvp_rule && lambda do |arrays|
          a, k = Tree.unflatten_from(template, arrays)[0]
          no_kwargs!(k, "jvp")
          tans = Tree.unflatten_from(args, arrays, nprim, fill: nil)[0]
          res = cf.call_custom_jvp(a, tans)
          res = outputs_list(res)
          raise TypeError, "[custom_function] the jvp must return arrays, got #{res.class}" unless res.is_a?(::Array) || res.is_a?(Hash)

          Tree.flatten(res)
        end
        vmap_flat = vmap_rule && lambda do |arrays|
          a, k = Tree.unflatten_from(template, arrays)[0]
          no_kwargs!(k, "vmap")
          flat_axes = arrays[nprim].to_a
          axes = Tree.unflatten_from(args, flat_axes.map { |x| x.negative? ? nil : x }, 0, fill: nil)[0]
          res = cf.call_custom_vmap(a, axes)
          outs, oaxes = split_vmap_result(res)
          flat = Tree.flatten(outs)
          oax = Tree.prefix_values(oaxes, outs, "out_axes").map do |x|
            check_axis(x, "out_axes")
            x.nil? ? -1 : x
          end
          flat + [Native.array(oax, :int32)]
        end
        outs = Native.custom_function(traced, vjp_flat, jvp_flat, vmap_flat, inputs)
        Tree.unflatten(out_tree, outs)
      end

      # A vmap rule returns outputs, or [outputs, out_axes] (out_axes holds
      # no arrays).
      def split_vmap_result(res)
        if res.is_a?(::Array) && res.size == 2 && Tree.count(res[1]).zero? &&
           (res[1].nil? || res[1].is_a?(Integer) || res[1].is_a?(::Array) || res[1].is_a?(Hash))
          [res[0], res[1].nil? ? nil : res[1]]
        else
          [res, 0]
        end
      end
    end

    module_function

    # grad(fun, argnums = nil, argnames = []): a callable returning the
    # gradient of fun's loss (fun returns a scalar array, or an Array whose
    # first element is one) with respect to the positional arguments in
    # argnums (default 0) and the keyword arguments named in argnames.
    # Returns one tree (one argnum), an Array of trees (several), or with
    # argnames [positional_or_nil, {"name" => tree}], as Python MLX.
    def grad(fun, pos_argnums = nil, pos_argnames = [], argnums: pos_argnums, argnames: pos_argnames)
      vag = Transforms.value_and_grad(fun, argnums, argnames, "grad")
      ->(*args, **kwargs) { vag.call(*args, **kwargs)[1] }
    end

    # value_and_grad(fun, argnums = nil, argnames = []): like grad, the
    # callable returning [value, grads] where value is fun's return (with
    # auxiliary outputs after the loss, not differentiated).
    def value_and_grad(fun, pos_argnums = nil, pos_argnames = [], argnums: pos_argnums, argnames: pos_argnames)
      Transforms.value_and_grad(fun, argnums, argnames, "value_and_grad")
    end

    # vjp(fun, primals, cotangents) -> [outputs, vjps]: fun is called with
    # the primals splatted; cotangents match fun's outputs.
    def vjp(fun, primals, cotangents)
      Transforms.vjp(fun, primals, cotangents)
    end

    # jvp(fun, primals, tangents) -> [outputs, jvps].
    def jvp(fun, primals, tangents)
      Transforms.jvp(fun, primals, tangents)
    end

    # vmap(fun, in_axes = 0, out_axes = 0) -> Function. in_axes: an
    # Integer, nil (0), or an Array (one entry per argument) / Hash of
    # trees of Integers and nil (nil: not mapped). out_axes: an Integer or
    # a prefix tree of fun's outputs.
    def vmap(fun, pos_in_axes = 0, pos_out_axes = 0, in_axes: pos_in_axes, out_axes: pos_out_axes)
      Transforms.vmap(fun, in_axes, out_axes)
    end

    # checkpoint(fun): a callable computing fun whose gradient recomputes
    # fun's intermediates instead of keeping them.
    def checkpoint(fun)
      Transforms.checkpoint(fun)
    end

    # custom_function(fun = nil, &block) -> CustomFunction.
    def custom_function(fun = nil, &block)
      CustomFunction.new(fun, &block)
    end

    # The earlier binding kept its native entry points under these names
    # beside the Ruby overrides; here they are the same functions.
    def native_grad(...) = grad(...)
    def native_value_and_grad(...) = value_and_grad(...)
    def native_vjp(...) = vjp(...)
    def native_jvp(...) = jvp(...)
    def native_vmap(...) = vmap(...)
    def native_checkpoint(...) = checkpoint(...)

    # depends(inputs, dependencies): inputs (an array or an Array of them)
    # unchanged, computed only after the dependencies.
    def depends(inputs, dependencies)
      deps = dependencies.is_a?(MLX::Core::Array) ? [dependencies] : dependencies
      return Native.depends([inputs], deps)[0] if inputs.is_a?(MLX::Core::Array)

      Native.depends(inputs, deps)
    end
  end
end
