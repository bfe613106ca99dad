# frozen_string_literal: true

module MLX
  module Core
    module_function

    # save(file, a) -> nil: a .npy file (".npy" appended when missing, as MLX).
    def save(file, a)
      path = path_of(file)
      path += ".npy" unless path.end_with?(".npy")
      Native.save(path, Args.array(a))
      nil
    end

    # load(file, format = nil, return_metadata = false). The format comes
    # from the extension when nil: "npy" -> array; "npz" -> Hash {name =>
    # array}; "safetensors" and "gguf" -> Hash {name => array}, or
    # [arrays, metadata] with return_metadata (gguf metadata values: arrays,
    # Strings or Arrays of Strings).
    def load(file, pos_format = nil, pos_return_metadata = false, format: pos_format,
             return_metadata: pos_return_metadata, stream: nil)
      path = path_of(file)
      format ||= File.extname(path).delete_prefix(".")
      raise MLX::ArgumentError, "[load] cannot infer the format of #{path.inspect}: pass format:" if format.empty?

      case format.to_s
      when "npy"
        raise MLX::ArgumentError, "[load] metadata is not supported for format npy" if return_metadata

        Native.load(path)
      when "npz"
        raise MLX::ArgumentError, "[load] metadata not supported for format npz" if return_metadata

        Native.load_npz(path)[0]
      when "safetensors"
        arrays, metadata = Native.load_safetensors(path)
        return_metadata ? [arrays, metadata] : arrays
      when "gguf"
        arrays, metadata = Native.load_gguf(path)
        return_metadata ? [arrays, metadata] : arrays
      else
        raise MLX::ArgumentError, "[load] unknown format #{format.inspect}"
      end
    end

    # save_safetensors(file, arrays, metadata = nil) -> nil; arrays a Hash
    # {String/Symbol => array}, metadata a Hash {String => String}.
    # ".safetensors" is appended when missing, as MLX.
    def save_safetensors(file, arrays, pos_metadata = nil, metadata: pos_metadata)
      raise TypeError, "[save_safetensors] arrays must be a Hash" unless arrays.is_a?(Hash)

      path = path_of(file)
      path += ".safetensors" unless path.end_with?(".safetensors")
      arrays = arrays.to_h { |k, v| [k.to_s, Args.array(v)] }
      metadata = metadata&.to_h { |k, v| [k.to_s, v] }
      Native.save_safetensors(path, arrays, metadata)
      nil
    end

    # savez(file, *arrays, **named) -> nil: a .npz archive of .npy members
    # (".npz" appended when missing); positional arrays are named arr_0,
    # arr_1, ...; a keyword clashing with one of those is an ArgumentError.
    def savez(file, *args, **named)
      save_npz(file, args, named, false, "savez")
    end

    # savez_compressed(file, *arrays, **named) -> nil: savez with deflated
    # members.
    def savez_compressed(file, *args, **named)
      save_npz(file, args, named, true, "savez_compressed")
    end

    # save_gguf(file, arrays, metadata = nil) -> nil. arrays: Hash {name =>
    # array} (float32, float16, int8, int16, int32); metadata: Hash {key =>
    # array (0-d or 1-d) | String | Symbol | Array of Strings}.
    def save_gguf(file, arrays, pos_metadata = nil, metadata: pos_metadata)
      raise TypeError, "[save_gguf] arrays must be a Hash" unless arrays.is_a?(Hash)
      raise TypeError, "[save_gguf] metadata must be a Hash" unless metadata.nil? || metadata.is_a?(Hash)

      path = path_of(file)
      path += ".gguf" unless path.end_with?(".gguf")
      arrays = arrays.to_h { |k, v| [k.to_s, Args.array(v)] }
      metadata = metadata&.to_h { |k, v| [k.to_s, gguf_value(v)] }
      Native.save_gguf(path, arrays, metadata)
      nil
    end

    def gguf_value(value)
      case value
      when MLX::Core::Array, String, ::Array then value
      when Symbol then value.to_s
      when nil then raise MLX::ArgumentError, "[save_gguf] Received unexpected type in metadata: nil"
      else Args.array(value)
      end
    end
    private_class_method :gguf_value

    def save_npz(file, args, named, compressed, op)
      path = path_of(file)
      path += ".npz" unless path.end_with?(".npz")
      arrays = {}
      args.each_with_index { |v, i| arrays["arr_#{i}"] = Args.array(v) }
      named.each do |k, v|
        name = k.to_s
        raise MLX::ArgumentError, "[#{op}] Cannot use un-named variables and keyword #{name}" if arrays.key?(name)

        arrays[name] = Args.array(v)
      end
      Native.savez(path, arrays, compressed)
      nil
    end
    private_class_method :save_npz

    def path_of(file)
      file.respond_to?(:to_path) ? file.to_path : file.to_s
    end
    private_class_method :path_of
  end
end
