# frozen_string_literal: true

module MLX
  module Core
    module_function

    # rms_norm(x, weight = nil, eps = 1e-5): x * rsqrt(mean(x^2) + eps) *
    # weight over the last axis (Python's mx.fast.rms_norm).
    def rms_norm(x, pos_weight = nil, pos_eps = 1e-5, pos_stream = nil, weight: pos_weight, eps: pos_eps,
                 stream: pos_stream)
      Native.fast_rms_norm(x, weight, eps.nil? ? 1e-5 : eps, stream)
    end

    # layer_norm(x, weight = nil, bias = nil, eps = 1e-5) over the last axis.
    def layer_norm(x, pos_weight = nil, pos_bias = nil, pos_eps = 1e-5, pos_stream = nil, weight: pos_weight,
                   bias: pos_bias, eps: pos_eps, stream: pos_stream)
      Native.fast_layer_norm(x, weight, bias, eps.nil? ? 1e-5 : eps, stream)
    end

    # rope(x, dims, traditional = false, base = nil, scale = 1.0, offset = 0,
    # freqs = nil): rotary position embedding; offset an Integer or an
    # array (a scalar or one per batch entry); exactly one of base and
    # freqs.
    def rope(x, dims, pos_traditional = false, pos_base = nil, pos_scale = 1.0, pos_offset = 0, pos_freqs = nil,
             pos_stream = nil, a: nil, traditional: pos_traditional, base: pos_base, scale: pos_scale,
             offset: pos_offset, freqs: pos_freqs, stream: pos_stream)
      x = a unless a.nil?
      Native.fast_rope(x, dims, traditional ? true : false, base, scale.nil? ? 1.0 : scale,
                       offset.nil? ? 0 : offset, freqs, stream)
    end

    # scaled_dot_product_attention(q, k, v, scale = 1.0, mask = nil,
    # sinks = nil): softmax(scale * q k^T + mask) v over heads [B, N, L, D]
    # (grouped-query heads when k and v have fewer). mask: nil, "causal"
    # (String or Symbol) or an array (bool: false masks out; else added).
    def scaled_dot_product_attention(q, k, v, pos_scale = 1.0, pos_mask = nil, pos_sinks = nil, pos_stream = nil,
                                     scale: pos_scale, mask: pos_mask, sinks: pos_sinks, stream: pos_stream)
      mode = nil
      arr = nil
      case mask
      when nil then nil
      when String, Symbol then mode = mask.to_s
      else arr = mask
      end
      Native.fast_sdpa(q, k, v, scale.nil? ? 1.0 : scale, mode, arr, sinks, stream)
    end

    # Python MLX's mx.fast namespace (same functions and keywords).
    module Fast
      module_function

      def rms_norm(x, pos_weight = nil, pos_eps = 1e-5, weight: pos_weight, eps: pos_eps, stream: nil)
        Core.rms_norm(x, weight, eps, stream: stream)
      end

      def layer_norm(x, pos_weight = nil, pos_bias = nil, pos_eps = 1e-5, weight: pos_weight, bias: pos_bias,
                     eps: pos_eps, stream: nil)
        Core.layer_norm(x, weight, bias, eps, stream: stream)
      end

      def rope(a, dims, traditional: false, base: nil, scale: 1.0, offset: 0, freqs: nil, stream: nil)
        Core.rope(a, dims, traditional, base, scale, offset, freqs, stream: stream)
      end

      def scaled_dot_product_attention(q, k, v, scale: 1.0, mask: nil, sinks: nil, stream: nil)
        Core.scaled_dot_product_attention(q, k, v, scale, mask, sinks, stream: stream)
      end
    end
  end
end
