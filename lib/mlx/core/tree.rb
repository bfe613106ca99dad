# frozen_string_literal: true

module MLX
  module Core
    # Trees as the transforms see them: nested Ruby Arrays and Hashes
    # (String or Symbol keys) whose leaves are MLX arrays; any other leaf
    # is a constant that rides along. The engine's transforms take flat
    # lists of arrays, so a tree is flattened (its arrays, depth first,
    # Arrays in order and Hashes in insertion order) and later rebuilt from
    # itself as the template: unflatten puts new arrays where the template
    # had arrays and keeps everything else.
    module Tree
      module_function

      # The MLX arrays of a tree, depth first.
      def flatten(tree, out = [])
        case tree
        when MLX::Core::Array then out << tree
        when ::Array then tree.each { |x| flatten(x, out) }
        when Hash then tree.each_value { |x| flatten(x, out) }
        end
        out
      end

      # The template with its arrays replaced, in order, by leaves[start..].
      # With fill:, non-array leaves become fill instead of staying. Raises
      # ArgumentError unless the counts match.
      def unflatten(template, leaves, start = 0, fill: KEEP)
        tree, stop = rebuild(template, leaves, start, fill)
        if stop != leaves.size
          raise ArgumentError, "[tree] #{leaves.size - start} arrays given for a tree of #{stop - start}"
        end

        tree
      end

      # Like unflatten, for a tree whose arrays are leaves[start...stop]
      # inside a longer list; returns [tree, stop].
      def unflatten_from(template, leaves, start = 0, fill: KEEP)
        rebuild(template, leaves, start, fill)
      end

      # The tree with every MLX array leaf replaced by the block's value.
      def map(tree, &block)
        case tree
        when MLX::Core::Array then yield tree
        when ::Array then tree.map { |x| map(x, &block) }
        when Hash then tree.transform_values { |x| map(x, &block) }
        else tree
        end
      end

      # Number of MLX arrays in a tree.
      def count(tree)
        flatten(tree).size
      end

      # Matches a prefix tree against a tree: the prefix's leaves (Integer,
      # nil, anything not an Array or Hash) apply to every array below them.
      # Returns one prefix value per array of the tree, in flatten order.
      # `what` names the prefix in errors.
      def prefix_values(prefix, tree, what, out = [])
        case prefix
        when ::Array
          unless tree.is_a?(::Array) && tree.size == prefix.size
            raise ArgumentError, "[tree] #{what} #{prefix.inspect} does not match the structure of #{describe(tree)}"
          end

          prefix.each_with_index { |p, i| prefix_values(p, tree[i], what, out) }
        when Hash
          raise ArgumentError, "[tree] #{what} #{prefix.inspect} does not match #{describe(tree)}" unless tree.is_a?(Hash)

          tree.each do |k, v|
            key = lookup_key(prefix, k)
            raise ArgumentError, "[tree] #{what} has no entry for key #{k.inspect}" if key.equal?(MISSING)

            prefix_values(prefix[key], v, what, out)
          end
        else
          count(tree).times { out << prefix }
        end
        out
      end

      KEEP = Object.new.freeze
      MISSING = Object.new.freeze
      private_constant :KEEP, :MISSING

      class << self
        private

        def rebuild(template, leaves, i, fill)
          case template
          when MLX::Core::Array
            raise ArgumentError, "[tree] too few arrays for the tree (#{leaves.size} given)" if i >= leaves.size

            [leaves[i], i + 1]
          when ::Array
            out = template.map do |x|
              v, i = rebuild(x, leaves, i, fill)
              v
            end
            [out, i]
          when Hash
            out = {}
            template.each do |k, x|
              out[k], i = rebuild(x, leaves, i, fill)
            end
            [out, i]
          else
            [fill.equal?(KEEP) ? template : fill, i]
          end
        end

        # The key of h matching k, trying the other of String/Symbol too.
        def lookup_key(h, k)
          return k if h.key?(k)

          alt = case k
                when Symbol then k.to_s
                when String then k.to_sym
                end
          alt && h.key?(alt) ? alt : MISSING
        end

        def describe(tree)
          case tree
          when MLX::Core::Array then "an array of shape #{tree.shape.inspect}"
          when ::Array then "an Array of #{tree.size}"
          when Hash then "a Hash with keys #{tree.keys.inspect}"
          else "a #{tree.class}"
          end
        end
      end
    end
  end
end
