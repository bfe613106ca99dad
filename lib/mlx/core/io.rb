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
    # from the extension when nil: "npy" -> array; "safetensors" -> Hash
    # {name => array}, or [arrays, metadata] with return_metadata.
    def load(file, pos_format = nil, pos_return_metadata = false, format: pos_format,
             return_metadata: pos_return_metadata, stream: nil)
      path = path_of(file)
      format ||= File.extname(path).delete_prefix(".")
      raise MLX::ArgumentError, "[load] cannot infer the format of #{path.inspect}: pass format:" if format.empty?

      case format.to_s
      when "npy"
        raise MLX::ArgumentError, "[load] metadata is not supported for format npy" if return_metadata

        Native.load(path)
      when "safetensors"
        arrays, metadata = Native.load_safetensors(path)
        return_metadata ? [arrays, metadata] : arrays
      when "npz", "gguf"
        raise MLX::UnsupportedError, "[load] the #{format} format is not supported by this engine yet"
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

    def path_of(file)
      file.respond_to?(:to_path) ? file.to_path : file.to_s
    end
    private_class_method :path_of
  end
end
