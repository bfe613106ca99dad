# frozen_string_literal: true

module MLX
  module Core
    # Device types, as Symbols.
    module DeviceType
      def self.cpu = :cpu
      def self.gpu = :gpu
    end

    # Applies a stream (or device) as the default until #exit, as Python's
    # `with mx.stream(s):`. MLX::Core.stream with a block is the usual form.
    class StreamContext
      def initialize(target)
        @target = target
      end

      def enter
        @saved_device = Native.default_device
        @saved_stream = Native.current_stream
        if @target.is_a?(Stream)
          Native.set_default_device(@target.device)
          Native.set_default_stream(@target)
        else
          Native.set_default_device(@target)
        end
        self
      end

      def exit(*)
        Native.set_default_stream(@saved_stream) if @saved_stream
        Native.set_default_device(@saved_device) if @saved_device
        self
      end
    end

    module_function

    def cpu = Native.cpu
    def gpu = Native.gpu
    def default_device = Native.default_device

    # set_default_device(device) -> device; device a Device or :cpu/:gpu.
    # Raises MLX::DeviceError when it is not available.
    def set_default_device(device)
      Native.set_default_device(device)
    end

    # is_available(device) -> true/false (a Device or :cpu/:gpu).
    def is_available(device) = Native.is_available(device)

    # device_count(type = :gpu) -> Integer
    def device_count(type = :gpu) = Native.device_count(type)

    # Why the GPU cannot be used ("" when it can).
    def gpu_unavailable_reason = Native.gpu_unavailable_reason

    def gpu_is_available = Native.is_available(:gpu)
    def cuda_is_available = Native.is_available(:gpu)

    # Metal does not exist here (the GPU backend is CUDA): always false.
    def metal_is_available = false

    # device_info(device = nil) -> Hash (nil = the default device): type,
    # index, available; a CPU's thread count; a usable GPU's memory_size
    # and its own allocator's active_memory, peak_memory and cache_memory
    # (bytes), or why the GPU cannot be used.
    def device_info(device = nil)
      device = Native.default_device if device.nil?
      device = Device.new(device) unless device.is_a?(Device)
      info = { "type" => device.type.to_s, "index" => device.index, "available" => Native.is_available(device) }
      if device.type == :cpu
        info["threads"] = Native.cpu_thread_count
      elsif info["available"]
        active, peak, cache, total = Native.gpu_memory_stats(device.index)
        info.merge!("memory_size" => total, "active_memory" => active, "peak_memory" => peak,
                    "cache_memory" => cache)
      else
        reason = Native.gpu_unavailable_reason
        info["unavailable_reason"] = reason unless reason.empty?
      end
      info
    end

    # default_stream(device) -> the default Stream of a device.
    def default_stream(device = nil)
      Native.default_stream(device || Native.default_device)
    end

    # new_stream(device) -> a new Stream on the device.
    def new_stream(device = nil)
      Native.new_stream(device || Native.default_device)
    end

    # set_default_stream(stream) -> stream
    def set_default_stream(stream) = Native.set_default_stream(stream)

    # stream(stream_or_device) { ... } -> the block's value: the default
    # device (and stream) switched for the block, then restored. Without a
    # block -> a StreamContext (#enter / #exit).
    def stream(target)
      ctx = StreamContext.new(target)
      return ctx unless block_given?

      ctx.enter
      begin
        yield
      ensure
        ctx.exit
      end
    end

    # synchronize(stream = nil): waits for queued work (async_eval) to finish.
    def synchronize(stream = nil)
      Native.synchronize(stream)
    end
  end
end
