# frozen_string_literal: true

module MLX
  module Core
    module_function

    # export_to_dot(target, *outputs): the un-evaluated graph computing
    # outputs (arrays or trees of them) as Graphviz DOT. target: a path
    # (String / to_path; the file is written, returns nil) or an IO
    # (anything with #write: the text is written, the IO rewound when it can
    # be, and the text returned).
    def export_to_dot(target, *outputs)
      arrays = export_tree_arrays(outputs)
      raise MLX::ArgumentError, "[export_to_dot] at least one output array is required" if arrays.empty?

      text = Native.export_to_dot(arrays)
      if target.respond_to?(:write)
        target.write(text)
        target.rewind if target.respond_to?(:rewind)
        text
      else
        path = target.respond_to?(:to_path) ? target.to_path : target.to_s
        # temp file + rename: readers never see a half-written file
        tmp = "#{path}.tmp.#{Process.pid}.#{Thread.current.object_id}"
        begin
          File.open(tmp, "wb") do |f|
            f.write(text)
            f.fsync
          end
          File.rename(tmp, path)
        ensure
          File.unlink(tmp) if File.exist?(tmp)
        end
        nil
      end
    end

    # The earlier binding's name for the native function (same arguments).
    def native_export_to_dot(target, *outputs)
      export_to_dot(target, *outputs)
    end

    # The MLX arrays of a tree, depth first.
    def export_tree_arrays(tree)
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
    private_class_method :export_tree_arrays
  end
end

module MLX
  module Core
    # Adds traces of one function to a .mlxfn file (from Core.exporter):
    # #call(*arrays, {name => array}) traces fun on those arguments and
    # rewrites the file with every trace so far; #close ends it.
    class FunctionExporter
      def initialize(native, name, layout)
        @native = native
        @name = name
        @layout = layout
      end

      def call(*args, **kwargs)
        positional, names, values = Core.__send__(:export_arguments, args, kwargs, "exporter")
        # The traced callable reads this call's layout (each trace may have
        # its own positional count and keywords).
        @layout[:npos] = positional.size
        @layout[:names] = names
        Native.exporter_add(@native, positional + values, names)
        nil
      end
      alias [] call

      def close
        Native.exporter_close(@native)
        nil
      end

      def inspect
        "#<MLX::Core::FunctionExporter #{@name}>"
      end
      alias to_s inspect
    end

    module_function

    # export_function(file, fun, *inputs, shapeless: false, **kw_inputs) ->
    # nil: traces fun on the inputs (one array, one Ruby Array of arrays, or
    # several array-likes; then an optional Hash {name => array} of keyword
    # inputs, then an optional true/false for shapeless) and writes the
    # graph to file (".mlxfn" appended when missing). fun returns an array
    # or an Array of arrays.
    def export_function(file, fun, *args, shapeless: nil, **kwargs)
      shapeless = args.pop if shapeless.nil? && [true, false].include?(args.last)
      positional, names, values = export_arguments(args, kwargs, "export_function")
      callable = export_callable(fun, positional.size, names)
      Native.export_function(export_path(file), callable, positional + values, names, shapeless ? true : false)
      nil
    end

    # exporter(file, fun, shapeless = false) -> FunctionExporter
    def exporter(file, fun, pos_shapeless = false, shapeless: pos_shapeless)
      raise TypeError, "[exporter] fun must respond to #call" unless fun.respond_to?(:call)

      layout = {}
      callable = lambda do |list|
        n = layout[:npos]
        kw = layout[:names].each_with_index.to_h { |nm, i| [nm.to_sym, list[n + i]] }
        kw.empty? ? fun.call(*list[0, n]) : fun.call(*list[0, n], **kw)
      end
      native = Native.exporter_new(export_path(file), callable, shapeless ? true : false)
      FunctionExporter.new(native, file.to_s, layout)
    end

    # import_function(file) -> Function: #call(*arrays, {name => array})
    # returns an array (one output) or an Array of arrays.
    def import_function(file)
      path = file.respond_to?(:to_path) ? file.to_path : file.to_s
      native = Native.import_function(path)
      Function.new("imported #{File.basename(path)}") do |*args, **kwargs|
        positional, names, values = export_arguments(args, kwargs, "import_function", allow_empty: true)
        outs = Native.imported_call(native, positional + values, names)
        outs.size == 1 ? outs[0] : outs
      end
    end

    def export_path(file)
      path = file.respond_to?(:to_path) ? file.to_path : file.to_s
      path.end_with?(".mlxfn") ? path : "#{path}.mlxfn"
    end
    private_class_method :export_path

    # [positional arrays, keyword names, keyword arrays] from the
    # arguments: a trailing Hash holds keyword inputs; one Ruby Array of
    # arrays stands for several positional ones.
    def export_arguments(args, kwargs, op, allow_empty: false)
      args = args.dup
      kw = kwargs.dup
      kw = args.pop.merge(kw) if args.last.is_a?(Hash)
      args = args[0] if args.length == 1 && args[0].is_a?(::Array) && args[0].all?(MLX::Core::Array)
      if args.empty? && kw.empty? && !allow_empty
        raise MLX::ArgumentError, "[#{op}] at least one input array is required"
      end

      names = kw.keys.map(&:to_s)
      raise MLX::ArgumentError, "[#{op}] keyword names must be unique" if names.uniq.size != names.size

      [args.map { |a| Args.array(a) }, names, kw.values.map { |a| Args.array(a) }]
    end
    private_class_method :export_arguments

    # The callable the engine traces: list = positional arrays then the
    # keyword ones, handed to fun as keywords.
    def export_callable(fun, npos, names)
      raise TypeError, "[export_function] fun must respond to #call" unless fun.respond_to?(:call)

      lambda do |list|
        kw = names.each_with_index.to_h { |nm, i| [nm.to_sym, list[npos + i]] }
        kw.empty? ? fun.call(*list[0, npos]) : fun.call(*list[0, npos], **kw)
      end
    end
    private_class_method :export_callable
  end
end
