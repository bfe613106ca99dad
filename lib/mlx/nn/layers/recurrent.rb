# frozen_string_literal: true

module MLX
  module NN
    # Recurrent layers over inputs [..., L, D] (time on axis ndim - 2),
    # weights drawn uniform(-1/sqrt(H), 1/sqrt(H)) in upstream's order.
    module Recurrent
      def self.init_uniform(shape, hidden) = Core.uniform(shape, -1.0 / Math.sqrt(hidden), 1.0 / Math.sqrt(hidden))

      # x at time step t: [..., D].
      def self.at(x, t) = Core.take(x, t, x.ndim - 2)

      def self.project(x, weight, bias)
        bias.nil? ? Core.matmul(x, Core.transpose(weight)) : Core.addmm(bias, x, Core.transpose(weight))
      end
    end

    # RNN.new(input_size, hidden_size, bias: true, nonlinearity: nil) [Wxh, Whh, bias]
    class RNN < Module
      def initialize(input_size, hidden_size, bias: true, nonlinearity: nil)
        super()
        @default_tanh = nonlinearity.nil?
        @nonlinearity = nonlinearity || ->(x) { Core.tanh(x) }
        raise ArgumentError, "Nonlinearity must be callable. Current value: #{nonlinearity}." unless @nonlinearity.respond_to?(:call)

        @hidden_size = hidden_size
        self.Wxh = Recurrent.init_uniform([hidden_size, input_size], hidden_size)
        self.Whh = Recurrent.init_uniform([hidden_size, hidden_size], hidden_size)
        self.bias = bias ? Recurrent.init_uniform([hidden_size], hidden_size) : nil
      end

      def call(x, hidden = nil)
        x = Recurrent.project(x, self["Wxh"], self["bias"])
        whh_t = Core.transpose(self["Whh"])
        # The default tanh: the same loop, recorded by the engine.
        return Native.rnn_tanh_steps(x, whh_t, hidden, nil) if @default_tanh

        steps = (0...x.shape[-2]).map do |t|
          xt = Recurrent.at(x, t)
          hidden = hidden.nil? ? xt : Core.addmm(xt, hidden, whh_t)
          hidden = @nonlinearity.call(hidden)
        end
        Core.stack(steps, -2)
      end
    end

    # GRU.new(input_size, hidden_size, bias: true) [Wx, Wh, b, bhn]
    class GRU < Module
      def initialize(input_size, hidden_size, bias: true)
        super()
        @hidden_size = hidden_size
        self.Wx = Recurrent.init_uniform([3 * hidden_size, input_size], hidden_size)
        self.Wh = Recurrent.init_uniform([3 * hidden_size, hidden_size], hidden_size)
        self.b = bias ? Recurrent.init_uniform([3 * hidden_size], hidden_size) : nil
        self.bhn = bias ? Recurrent.init_uniform([hidden_size], hidden_size) : nil
      end

      def call(x, hidden = nil)
        h = @hidden_size
        x = Recurrent.project(x, self["Wx"], self["b"])
        x_rz, x_n = Core.split(x, [2 * h], -1)
        bhn = self["bhn"]
        wh_t = Core.transpose(self["Wh"])
        steps = (0...x.shape[-2]).map do |t|
          rz = Recurrent.at(x_rz, t)
          h_proj_n = nil
          unless hidden.nil?
            h_proj_rz, h_proj_n = Core.split(Core.matmul(hidden, wh_t), [2 * h], -1)
            h_proj_n = Core.add(h_proj_n, bhn) unless bhn.nil?
            rz = Core.add(rz, h_proj_rz)
          end
          r, z = Core.split(Core.sigmoid(rz), 2, -1)
          n = Recurrent.at(x_n, t)
          if !hidden.nil?
            n = Core.add(n, Core.multiply(r, h_proj_n))
          elsif !bhn.nil?
            n = Core.add(n, Core.multiply(r, bhn))
          end
          n = Core.tanh(n)
          one_minus_z = Core.subtract(1, z)
          hidden = if hidden.nil?
                     Core.multiply(one_minus_z, n)
                   else
                     Core.add(Core.multiply(one_minus_z, n), Core.multiply(z, hidden))
                   end
        end
        Core.stack(steps, -2)
      end
    end

    # LSTM.new(input_size, hidden_size, bias: true) [Wx, Wh, bias];
    # call(x, hidden = nil, cell = nil) -> [hidden_seq, cell_seq].
    class LSTM < Module
      def initialize(input_size, hidden_size, bias: true)
        super()
        @hidden_size = hidden_size
        self.Wx = Recurrent.init_uniform([4 * hidden_size, input_size], hidden_size)
        self.Wh = Recurrent.init_uniform([4 * hidden_size, hidden_size], hidden_size)
        self.bias = bias ? Recurrent.init_uniform([4 * hidden_size], hidden_size) : nil
      end

      def call(x, hidden = nil, cell = nil)
        x = Recurrent.project(x, self["Wx"], self["bias"])
        wh_t = Core.transpose(self["Wh"])
        hiddens = []
        cells = []
        x.shape[-2].times do |t|
          ifgo = Recurrent.at(x, t)
          ifgo = Core.addmm(ifgo, hidden, wh_t) unless hidden.nil?
          i, f, g, o = Core.split(ifgo, 4, -1)
          i = Core.sigmoid(i)
          f = Core.sigmoid(f)
          g = Core.tanh(g)
          o = Core.sigmoid(o)
          cell = cell.nil? ? Core.multiply(i, g) : Core.add(Core.multiply(f, cell), Core.multiply(i, g))
          hidden = Core.multiply(o, Core.tanh(cell))
          cells << cell
          hiddens << hidden
        end
        [Core.stack(hiddens, -2), Core.stack(cells, -2)]
      end
    end
  end
end
