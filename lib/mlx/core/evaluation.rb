# frozen_string_literal: true

module MLX
  module Core
    module_function

    # eval(*trees): computes every MLX array found in the arguments (arrays,
    # or Ruby Arrays / Hashes nesting them; other leaves are ignored). Runs
    # with the GVL released; Ctrl-C interrupts between ops.
    def eval(*trees)
      Native.eval(tree_arrays(trees))
      nil
    end

    # async_eval(*trees): queues the evaluation and returns at once; reading
    # an array later waits for it.
    def async_eval(*trees)
      Native.async_eval(tree_arrays(trees))
      nil
    end

    # The MLX arrays of a tree, depth first (iterative: deep trees are fine).
    def tree_arrays(tree)
      out = []
      stack = [tree]
      until stack.empty?
        node = stack.pop
        case node
        when Array then out << node
        when ::Array then node.reverse_each { |x| stack.push(x) }
        when Hash then node.values.reverse_each { |x| stack.push(x) }
        end
      end
      out
    end
    private_class_method :tree_arrays
  end
end
