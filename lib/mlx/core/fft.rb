# frozen_string_literal: true

module MLX
  module Core
    module_function

    # fft(a, n = nil, axis = -1): the DFT along axis, the axis zero-padded or
    # truncated to n. Real inputs are promoted: the result is complex64.
    # norm (keyword, as Python MLX): "backward" (default), "ortho" or "forward".
    def fft(a, pos_n = nil, pos_axis = -1, pos_stream = nil, n: pos_n, axis: pos_axis, norm: "backward",
            stream: pos_stream)
      Native.fft(a, n, axis, norm, stream)
    end

    def ifft(a, pos_n = nil, pos_axis = -1, pos_stream = nil, n: pos_n, axis: pos_axis, norm: "backward",
             stream: pos_stream)
      Native.ifft(a, n, axis, norm, stream)
    end

    # rfft: the DFT of a real signal (complex inputs lose their imaginary
    # part), n / 2 + 1 complex64 outputs.
    def rfft(a, pos_n = nil, pos_axis = -1, pos_stream = nil, n: pos_n, axis: pos_axis, norm: "backward",
             stream: pos_stream)
      Native.rfft(a, n, axis, norm, stream)
    end

    # irfft: the inverse of rfft, n real (float32) outputs; default n is
    # 2 * (a.shape[axis] - 1).
    def irfft(a, pos_n = nil, pos_axis = -1, pos_stream = nil, n: pos_n, axis: pos_axis, norm: "backward",
              stream: pos_stream)
      Native.irfft(a, n, axis, norm, stream)
    end

    # The 2-D forms: n (Python's s) is an Array of sizes, one per axis;
    # axes default to [-2, -1] (nil: every axis, as Python MLX).
    def fft2(a, pos_n = nil, pos_axes = [-2, -1], pos_stream = nil, s: pos_n, n: s, axes: pos_axes,
             norm: "backward", stream: pos_stream)
      FFTArgs.two_d(:fft2, :fftn, a, n, axes, norm, stream)
    end

    def ifft2(a, pos_n = nil, pos_axes = [-2, -1], pos_stream = nil, s: pos_n, n: s, axes: pos_axes,
              norm: "backward", stream: pos_stream)
      FFTArgs.two_d(:ifft2, :ifftn, a, n, axes, norm, stream)
    end

    def rfft2(a, pos_n = nil, pos_axes = [-2, -1], pos_stream = nil, s: pos_n, n: s, axes: pos_axes,
              norm: "backward", stream: pos_stream)
      FFTArgs.two_d(:rfft2, :rfftn, a, n, axes, norm, stream)
    end

    def irfft2(a, pos_n = nil, pos_axes = [-2, -1], pos_stream = nil, s: pos_n, n: s, axes: pos_axes,
               norm: "backward", stream: pos_stream)
      FFTArgs.two_d(:irfft2, :irfftn, a, n, axes, norm, stream)
    end

    # The n-D forms: axes nil means every axis, and then n must be nil
    # (MLX::ArgumentError otherwise, as Python MLX).
    def fftn(a, pos_n = nil, pos_axes = nil, pos_stream = nil, s: pos_n, n: s, axes: pos_axes, norm: "backward",
             stream: pos_stream)
      Native.fftn(a, FFTArgs.sizes(n), FFTArgs.axes(axes), norm, stream)
    end

    def ifftn(a, pos_n = nil, pos_axes = nil, pos_stream = nil, s: pos_n, n: s, axes: pos_axes, norm: "backward",
              stream: pos_stream)
      Native.ifftn(a, FFTArgs.sizes(n), FFTArgs.axes(axes), norm, stream)
    end

    def rfftn(a, pos_n = nil, pos_axes = nil, pos_stream = nil, s: pos_n, n: s, axes: pos_axes, norm: "backward",
              stream: pos_stream)
      Native.rfftn(a, FFTArgs.sizes(n), FFTArgs.axes(axes), norm, stream)
    end

    def irfftn(a, pos_n = nil, pos_axes = nil, pos_stream = nil, s: pos_n, n: s, axes: pos_axes, norm: "backward",
               stream: pos_stream)
      Native.irfftn(a, FFTArgs.sizes(n), FFTArgs.axes(axes), norm, stream)
    end

    # fftshift(x, axes = nil): rolls each axis (nil: all) by size / 2 so the
    # zero frequency is in the middle; ifftshift undoes it. axes: Integer or
    # Array.
    def fftshift(x, pos_axes = nil, pos_stream = nil, axes: pos_axes, stream: pos_stream)
      Native.fftshift(x, FFTArgs.axes(axes), stream)
    end

    def ifftshift(x, pos_axes = nil, pos_stream = nil, axes: pos_axes, stream: pos_stream)
      Native.ifftshift(x, FFTArgs.axes(axes), stream)
    end

    # fftfreq(n, d = 1.0): the n sample frequencies of a DFT with sample
    # spacing d, float32: [0, 1, ..., -(n / 2), ..., -1] / (d * n).
    def fftfreq(n, pos_d = 1.0, pos_stream = nil, d: pos_d, stream: pos_stream)
      Native.fftfreq(n, d, stream)
    end

    # rfftfreq(n, d = 1.0): [0, 1, ..., n / 2] / (d * n), for rfft.
    def rfftfreq(n, pos_d = 1.0, pos_stream = nil, d: pos_d, stream: pos_stream)
      Native.rfftfreq(n, d, stream)
    end

    # Argument helpers of the fft functions (not public API).
    module FFTArgs
      module_function

      def sizes(value)
        value.is_a?(Integer) ? [value] : value
      end

      def axes(value)
        value.is_a?(Integer) ? [value] : value
      end

      # A 2-D form: default axes handled by the engine; axes nil means every
      # axis, which is the n-D form's default.
      def two_d(name, all_name, a, n, axes, norm, stream)
        return Native.public_send(all_name, a, sizes(n), nil, norm, stream) if axes.nil?

        Native.public_send(name, a, sizes(n), axes(axes), norm, stream)
      end
    end

    # Python MLX's mx.fft namespace: the same functions and keywords.
    module FFT
      NAMES = %i[fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn fftshift ifftshift fftfreq
                 rfftfreq].freeze

      NAMES.each do |name|
        define_method(name) { |*args, **kwargs| Core.public_send(name, *args, **kwargs) }
      end
      module_function(*NAMES)
    end
  end
end
