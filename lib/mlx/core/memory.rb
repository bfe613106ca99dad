# frozen_string_literal: true

module MLX
  module Core
    module_function

    # Bytes in buffers held by arrays.
    def get_active_memory = Native.get_active_memory
    # Highest active memory since start or the last reset_peak_memory.
    def get_peak_memory = Native.get_peak_memory
    # Bytes kept in the allocator's cache of freed buffers.
    def get_cache_memory = Native.get_cache_memory
    def reset_peak_memory = Native.reset_peak_memory
    def clear_cache = Native.clear_cache

    # set_memory_limit(bytes) -> previous limit. Allocations past it (after
    # emptying the cache) raise MLX::MemoryError.
    def set_memory_limit(limit) = Native.set_memory_limit(limit)

    # set_cache_limit(bytes) -> previous limit (0 disables the cache).
    def set_cache_limit(limit) = Native.set_cache_limit(limit)

    # set_wired_limit(bytes) -> 0: wired memory is a Metal notion; accepted
    # and ignored here.
    def set_wired_limit(limit)
      raise TypeError, "limit must be an Integer" unless limit.is_a?(Integer)

      0
    end

    # Python-style names.
    def active_memory = Native.get_active_memory
    def peak_memory = Native.get_peak_memory
    def cache_memory = Native.get_cache_memory
  end
end
