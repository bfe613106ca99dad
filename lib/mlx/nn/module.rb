# frozen_string_literal: true

module MLX
  module NN
    # The base of every layer and model (Python MLX's nn.Module). Values
    # assigned with `self.name = value` that are MLX arrays, modules, or
    # Ruby Arrays/Hashes of them live in #state and make up the module's
    # parameters and children; any other value (numbers, strings,
    # callables) becomes an instance variable. `obj.name` reads either.
    # Keys starting with "_" are never parameters.
    class Module
      def initialize(*)
        @state = {}
        @no_grad = {}
        @training = true
      end

      # The tracked values (String keys).
      attr_reader :state

      def training = @training

      # ---- attribute access ------------------------------------------------

      def [](key) = @state[key.to_s]

      def []=(key, value)
        @state[key.to_s] = value
      end

      def key?(key) = @state.key?(key.to_s)

      def method_missing(name, *args, &block)
        key = name.name # frozen, no new String per call
        if args.empty? && block.nil? && @state&.key?(key)
          @state[key]
        elsif key.end_with?("=") && args.size == 1 && key != "[]="
          assign(key.chomp("="), args[0])
        elsif args.empty? && block.nil? && attribute_ivar?(key) && instance_variable_defined?("@#{key}")
          instance_variable_get("@#{key}")
        else
          super
        end
      end

      def respond_to_missing?(name, include_private = false)
        key = name.to_s
        return true if key.end_with?("=") && key != "[]="
        return true if @state&.key?(key)
        return true if attribute_ivar?(key) && instance_variable_defined?("@#{key}")

        super
      end

      # ---- traversal -------------------------------------------------------

      # Every array of the module and its children, as a nested Hash
      # (Arrays for lists), String keys.
      def parameters
        filter_and_map(method(:valid_parameter?))
      end

      # The parameters minus the frozen ones.
      def trainable_parameters
        filter_and_map(->(m, k, v) { valid_parameter?(m, k, v) && !m.frozen_key?(k) })
      end

      # The direct child modules (inside Arrays and Hashes too).
      def children
        filter_and_map(method(:valid_child?), is_leaf: ->(_m, _k, v) { v.is_a?(Module) })
      end

      # The child modules that have no children of their own.
      def leaf_modules
        leaf = ->(_m, _k, v) { v.is_a?(Module) && MLX::Utils.tree_flatten(v.children).empty? }
        filter_and_map(method(:valid_child?), is_leaf: leaf)
      end

      # [path, module] for self ("") and every module below it.
      def named_modules
        out = []
        apply_to_modules { |path, m| out << [path, m] }
        out
      end

      def modules = named_modules.map(&:last)

      # Calls fn.(path, module) for self and every module below it.
      def apply_to_modules(fn = nil, &block)
        fn ||= block
        stack = [["", self]]
        until stack.empty?
          prefix, mod = stack.pop
          fn.call(prefix, mod)
          child_prefix = prefix.empty? ? "" : ".#{prefix}"
          stack.concat(MLX::Utils.tree_flatten(mod.children, prefix: child_prefix, is_leaf: ->(v) { v.is_a?(Module) }))
        end
        self
      end

      # The nested Hash of map_fn.(value) for the values filter_fn.(module,
      # key, value) keeps, recursing into modules, Arrays and Hashes until
      # is_leaf.(module, key, value).
      def filter_and_map(filter_fn, map_fn = nil, is_leaf: nil)
        map_fn ||= ->(x) { x }
        is_leaf ||= ->(_m, _k, v) { !(v.is_a?(Module) || v.is_a?(Hash) || v.is_a?(::Array)) }
        unwrap_state(self, filter_fn, map_fn, is_leaf)
      end

      # ---- updates ----------------------------------------------------------

      # Replaces parameters by those of a (partial) tree shaped like
      # #parameters. strict: unknown keys and non-array values for array
      # slots raise ArgumentError.
      def update(parameters = {}, strict: true)
        update_into(self, parameters, strict, :array)
        self
      end

      # Replaces child modules by those of a tree shaped like #children.
      def update_modules(modules = {}, strict: true)
        update_into(self, modules, strict, :module)
        self
      end

      # Maps every parameter (or those filter_fn keeps) through map_fn.
      def apply(map_fn = nil, filter_fn = nil, &block)
        map_fn ||= block
        update(filter_and_map(filter_fn || method(:valid_parameter?), map_fn))
      end

      # Freezes parameters (all, or the keys given) of this module and, with
      # recurse, every module below: frozen parameters are not in
      # #trainable_parameters. strict: unknown keys raise KeyError.
      # With recurse, strict keys need only exist in some module below (as
      # upstream), not in each.
      def freeze(recurse: true, keys: nil, strict: false)
        strict = check_keys_recursive(keys) if recurse && strict && !keys.nil?
        each_for_freezing(recurse) { |m| m.freeze_keys(m.local_keys(keys, strict)) }
        self
      end

      def unfreeze(recurse: true, keys: nil, strict: false)
        strict = check_keys_recursive(keys) if recurse && strict && !keys.nil?
        each_for_freezing(recurse) do |m|
          keys.nil? ? m.thaw_all : m.thaw_keys(m.local_keys(keys, strict))
        end
        self
      end

      # ---- modes and dtypes -------------------------------------------------

      def train(mode = true)
        apply_to_modules { |_p, m| m.set_training(mode) }
        self
      end

      def eval = train(false)

      # Casts the floating parameters (or those whose dtype predicate.(dtype)
      # accepts; positional or predicate:) to dtype. nil is the floating
      # default; upstream's predicate=None (cast all) is ->(_) { true } here.
      def set_dtype(dtype, pos_predicate = nil, predicate: pos_predicate)
        dtype = Core::Dtype.new(dtype) unless dtype.is_a?(Core::Dtype)
        predicate ||= ->(t) { Core.issubdtype(t, :floating) }
        apply(->(x) { predicate.call(x.dtype) ? Core.astype(x, dtype) : x })
      end

      # ---- weights files ---------------------------------------------------

      # Loads weights from a file (.npz / .safetensors), a Hash or an Array
      # of [dotted_key, array] pairs. strict: the keys and shapes must match
      # the parameters exactly (ArgumentError otherwise).
      def load_weights(file_or_weights, strict: true)
        weights = file_or_weights
        weights = Core.load(weights.to_s).to_a if weights.is_a?(String) || weights.respond_to?(:to_path)
        weights = weights.to_a if weights.is_a?(Hash)
        raise TypeError, "load_weights expects a path, a Hash or [key, array] pairs" unless weights.is_a?(::Array)

        check_weights(weights) if strict
        update(MLX::Utils.tree_unflatten(weights), strict: false) unless weights.empty?
        self
      end

      # Saves the parameters to .npz or .safetensors (keys like
      # "layers.0.weight"); the file is written atomically.
      def save_weights(file)
        path = file.to_s
        params = MLX::Utils.tree_flatten(parameters).to_h
        if path.end_with?(".npz")
          Core.savez(path, **params.transform_keys(&:to_sym))
        elsif path.end_with?(".safetensors")
          Core.save_safetensors(path, params)
        else
          raise ArgumentError, "Unsupported file extension for #{path}. Use '.npz' or '.safetensors'."
        end
        nil
      end

      def call(*)
        raise NotImplementedError, "#{self.class} must define #call"
      end

      def to_proc = method(:call).to_proc

      def inspect
        "#<#{self.class.name || 'MLX::NN::Module'} #{@state.keys.join(', ')}>"
      end
      alias to_s inspect

      # ---- helpers shared with subclasses and other modules -----------------

      def frozen_key?(key) = @no_grad.key?(key)

      def set_training(mode)
        @training = mode ? true : false
      end

      def freeze_keys(keys)
        keys.each { |k| @no_grad[k] = true }
      end

      def thaw_keys(keys)
        keys.each { |k| @no_grad.delete(k) }
      end

      def thaw_all
        @no_grad.clear
      end

      # The keys a freeze/unfreeze applies to here: every own parameter path
      # when keys is nil, else the keys given (strict: each must be one of
      # this module's members, KeyError otherwise).
      def local_keys(keys, strict)
        if keys.nil?
          return MLX::Utils.tree_flatten(filter_and_map(->(m, k, v) { !v.is_a?(Module) && valid_parameter?(m, k, v) }))
                      .map(&:first)
        end

        wanted = Array(keys).map(&:to_s)
        missing = wanted.reject { |k| @state.key?(k) }
        raise KeyError, "Module doesn't contain member #{missing.join(', ')}." if strict && !missing.empty?

        wanted
      end

      private

      def assign(key, value)
        if tracked_value?(value)
          @state[key] = value
          remove_instance_variable("@#{key}") if instance_variable_defined?("@#{key}") && attribute_ivar?(key)
        else
          @state.delete(key)
          instance_variable_set("@#{key}", value)
        end
      end

      def tracked_value?(value)
        value.is_a?(Core::Array) || value.is_a?(Module) || value.is_a?(Hash) || value.is_a?(::Array)
      end

      # Instance variables of the base class are not attributes; other
      # names must be valid instance variable names.
      def attribute_ivar?(key)
        key.match?(/\A[a-z_][A-Za-z0-9_]*\z/) && !%w[state no_grad training].include?(key)
      end

      def valid_parameter?(_module, key, value)
        (value.is_a?(Core::Array) || value.is_a?(Module) || value.is_a?(Hash) || value.is_a?(::Array)) &&
          !key.to_s.start_with?("_")
      end

      def valid_child?(_module, _key, value)
        value.is_a?(Module) || value.is_a?(Hash) || value.is_a?(::Array)
      end

      # The entries of a module's state that filter_fn keeps, unwrapped
      # (Hash#each with two block parameters: no pair Array per entry).
      def unwrap_state(model, filter_fn, map_fn, is_leaf)
        out = {}
        model.state.each { |k, v| out[k] = unwrap(model, k, v, filter_fn, map_fn, is_leaf) if filter_fn.call(model, k, v) }
        out
      end

      def unwrap(model, key, value, filter_fn, map_fn, is_leaf)
        return map_fn.call(value) if is_leaf.call(model, key, value)

        case value
        when Module
          unwrap_state(value, filter_fn, map_fn, is_leaf)
        when Hash
          value.to_h do |k, v|
            tk = "#{key}.#{k}"
            [k, filter_fn.call(model, tk, v) ? unwrap(model, tk, v, filter_fn, map_fn, is_leaf) : {}]
          end
        when ::Array
          value.each_with_index.map do |v, i|
            tk = "#{key}.#{i}"
            filter_fn.call(model, tk, v) ? unwrap(model, tk, v, filter_fn, map_fn, is_leaf) : {}
          end
        else
          raise MLX::RuntimeError, "Unexpected leaf found while traversing the module"
        end
      end

      # kind :array replaces array slots, :module module slots.
      def update_into(dst, src, strict, kind)
        case src
        when Hash
          src.each do |k, new_value|
            container = dst.is_a?(Module) ? dst.state : dst
            key = dst.is_a?(Module) ? k.to_s : hash_key(container, k)
            if container.key?(key)
              replace_or_recurse(container, key, new_value, strict, kind)
            elsif strict
              raise ArgumentError, "Module does not have #{kind == :array ? 'parameter' : 'sub-module'} named \"#{k}\"."
            end
          end
        when ::Array
          src.each_with_index do |new_value, i|
            raise ArgumentError, "index #{i} is out of range for the module's list" if strict && i >= dst.size

            replace_or_recurse(dst, i, new_value, strict, kind) if i < dst.size
          end
        else
          raise ArgumentError, "Received invalid type: #{src.class}." if strict
        end
      end

      # An empty Hash is tree_unflatten's placeholder for a list entry that
      # was not given: it never replaces an array (upstream's update would
      # put {} there when not strict) and, as upstream, is no error in
      # update_modules. update_modules leaves non-module slots alone.
      def replace_or_recurse(container, key, new_value, strict, kind)
        current = container[key]
        placeholder = new_value.is_a?(Hash) && new_value.empty?
        if kind == :array && current.is_a?(Core::Array)
          raise ArgumentError, "Received invalid type: #{new_value.class}." if strict && !new_value.is_a?(Core::Array)

          container[key] = new_value unless placeholder
        elsif kind == :module && current.is_a?(Module) && new_value.is_a?(Module)
          container[key] = new_value
        elsif current.is_a?(Module) || current.is_a?(Hash) || current.is_a?(::Array)
          update_into(current, new_value, strict, kind)
        elsif kind == :module
          raise ArgumentError, "Received invalid type: #{new_value.class}." if strict && !placeholder
        else
          container[key] = new_value
        end
      end

      def hash_key(hash, key)
        return key if hash.key?(key)
        return key.to_s if hash.key?(key.to_s)
        return key.to_sym if key.respond_to?(:to_sym) && hash.key?(key.to_sym)

        key
      end

      # KeyError unless every key is a member of some module here or below;
      # false (the per-module check is then skipped).
      def check_keys_recursive(keys)
        mods = modules
        missing = Array(keys).map(&:to_s).reject { |k| mods.any? { |m| m.state.key?(k) } }
        raise KeyError, "Module doesn't contain member #{missing.join(', ')}." unless missing.empty?

        false
      end

      def each_for_freezing(recurse, &block)
        recurse ? apply_to_modules { |_p, m| block.call(m) } : block.call(self)
      end

      def check_weights(weights)
        given = weights.to_h { |k, v| [k.to_s, v] }
        current = MLX::Utils.tree_flatten(parameters).to_h
        extras = given.keys - current.keys
        raise ArgumentError, "Received parameters not in model: #{extras.join(', ')}." unless extras.empty?

        missing = current.keys - given.keys
        raise ArgumentError, "Missing parameters: #{missing.join(', ')}." unless missing.empty?

        current.each do |k, v|
          w = given[k]
          raise ArgumentError, "Expected an MLX array for parameter #{k}, got #{w.class}" unless w.is_a?(Core::Array)
          next if w.shape == v.shape

          raise ArgumentError, "Expected shape #{v.shape} but received shape #{w.shape} for parameter #{k}"
        end
      end
    end
  end
end
