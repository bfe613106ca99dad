# frozen_string_literal: true

module MLX
  # Functions over trees: nested Ruby Arrays and Hashes whose other values
  # are leaves (Python MLX's mlx.utils). Paths are dotted: "0",
  # "layers.1.weight".
  module Utils
    module_function

    # tree_map(fn, tree, *rest, is_leaf: nil) -> the tree of
    # fn.(leaf, *rest_leaves); rest trees must share tree's structure.
    def tree_map(fn, tree, *rest, is_leaf: nil)
      map_tree(fn, tree, rest, is_leaf)
    end

    # tree_map's walk, with the rest trees as one Array (no splats or
    # keywords per node: an optimizer maps three trees every step).
    def map_tree(fn, tree, rest, is_leaf)
      return fn.call(tree, *rest) if is_leaf&.call(tree)

      case tree
      when ::Array
        out = ::Array.new(tree.size)
        tree.each_with_index { |t, i| out[i] = map_tree(fn, t, rest.empty? ? rest : rest.map { |r| r[i] }, is_leaf) }
        out
      when Hash
        out = {}
        tree.each { |k, t| out[k] = map_tree(fn, t, rest.empty? ? rest : rest.map { |r| r[k] }, is_leaf) }
        out
      else fn.call(tree, *rest)
      end
    end

    # tree_map_with_path(fn, tree, *rest, is_leaf: nil, path: nil) -> the
    # tree of fn.(path, leaf, *rest_leaves).
    def tree_map_with_path(fn, tree, *rest, is_leaf: nil, path: nil)
      return fn.call(path, tree, *rest) if is_leaf&.call(tree)

      child = ->(key) { path.nil? || path.to_s.empty? ? key.to_s : "#{path}.#{key}" }
      case tree
      when ::Array
        tree.each_with_index.map do |t, i|
          tree_map_with_path(fn, t, *rest.map { |r| r[i] }, is_leaf: is_leaf, path: child.call(i))
        end
      when Hash
        tree.to_h do |k, t|
          [k, tree_map_with_path(fn, t, *rest.map { |r| r[k] }, is_leaf: is_leaf, path: child.call(k))]
        end
      else fn.call(path, tree, *rest)
      end
    end

    # tree_flatten(tree, prefix: "", is_leaf: nil, destination: nil) ->
    # Array of [path, leaf], or destination (a Hash) filled with them. As
    # Python, a path is the prefix with ".key" appended per level, minus
    # its first character.
    def tree_flatten(tree, prefix: "", is_leaf: nil, destination: nil)
      unless destination.nil? || destination.is_a?(Hash)
        raise ArgumentError, "destination must be nil or a Hash, got #{destination.class}"
      end

      out = destination || []
      add = destination ? ->(k, v) { out[k] = v } : ->(k, v) { out << [k, v] }
      flatten_into(tree, prefix.to_s, is_leaf, add)
      out
    end

    def flatten_into(tree, prefix, is_leaf, add)
      unless is_leaf&.call(tree)
        case tree
        when ::Array
          tree.each_with_index { |t, i| flatten_into(t, "#{prefix}.#{i}", is_leaf, add) }
          return
        when Hash
          tree.each { |k, t| flatten_into(t, "#{prefix}.#{k}", is_leaf, add) }
          return
        end
      end
      add.call(prefix[1..] || "", tree)
    end
    private_class_method :flatten_into, :map_tree

    # tree_unflatten(pairs_or_hash) -> the tree: levels whose keys are all
    # integers become Arrays (gaps filled with {}), others Hashes with
    # String keys; a single "" key is the value itself.
    def tree_unflatten(pairs)
      pairs = pairs.to_a if pairs.is_a?(Hash)
      raise ArgumentError, "tree_unflatten expects [path, value] pairs or a Hash" unless pairs.is_a?(::Array)
      return {} if pairs.empty?
      return pairs[0][1] if pairs.size == 1 && pairs[0][0].to_s.empty?

      children = {}
      pairs.each do |key, value|
        head, rest = key.to_s.split(".", 2)
        (children[head] ||= []) << [rest || "", value]
      end
      if children.keys.all? { |k| k.match?(/\A\d+\z/) }
        list = []
        children.keys.sort_by(&:to_i).each do |k|
          i = k.to_i
          list << {} while list.size < i
          list << tree_unflatten(children[k])
        end
        list
      else
        children.transform_values { |v| tree_unflatten(v) }
      end
    end

    # tree_reduce(fn, tree, initializer = nil, is_leaf: nil) -> the fold
    # fn.(acc, leaf) over the leaves (the first leaf starts it when no
    # initializer is given).
    def tree_reduce(fn, tree, initializer = nil, is_leaf: nil)
      return initializer.nil? ? tree : fn.call(initializer, tree) if is_leaf&.call(tree)

      case tree
      when ::Array then tree.reduce(initializer) { |acc, t| tree_reduce(fn, t, acc, is_leaf: is_leaf) }
      when Hash then tree.each_value.reduce(initializer) { |acc, t| tree_reduce(fn, t, acc, is_leaf: is_leaf) }
      else initializer.nil? ? tree : fn.call(initializer, tree)
      end
    end

    # tree_merge(tree_a, tree_b, merge_fn: nil) -> one tree holding both:
    # empty containers count as absent (two empty ones of the same kind
    # merge into an empty one, as upstream; of different kinds:
    # ArgumentError); leaves present in both need merge_fn.(a, b), else
    # ArgumentError.
    def tree_merge(tree_a, tree_b, merge_fn: nil)
      empty_a = (tree_a.is_a?(::Array) || tree_a.is_a?(Hash)) && tree_a.empty?
      empty_b = (tree_b.is_a?(::Array) || tree_b.is_a?(Hash)) && tree_b.empty?
      if empty_a && empty_b
        raise ArgumentError, "Cannot merge #{tree_a.class} with #{tree_b.class}" unless tree_a.class == tree_b.class

        return tree_a.class.new
      end
      tree_a = nil if empty_a
      tree_b = nil if empty_b
      return tree_b if tree_a.nil?
      return tree_a if tree_b.nil?

      if tree_a.is_a?(::Array) && tree_b.is_a?(::Array)
        Array.new([tree_a.size, tree_b.size].max) { |i| tree_merge(tree_a[i], tree_b[i], merge_fn: merge_fn) }
      elsif tree_a.is_a?(Hash) && tree_b.is_a?(Hash)
        (tree_a.keys | tree_b.keys).to_h { |k| [k, tree_merge(tree_a[k], tree_b[k], merge_fn: merge_fn)] }
      else
        if merge_fn.nil?
          raise ArgumentError, "Trees contain elements at the same locations but no merge function was provided"
        end

        merge_fn.call(tree_a, tree_b)
      end
    end
  end
end
