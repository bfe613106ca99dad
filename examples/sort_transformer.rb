# The transformer demo: a small encoder learns to sort sequences of digits,
# on data this script generates. Each position attends to the whole input
# and predicts the digit that belongs there once sorted. It prints the
# training loss falling and the accuracy on held-out sequences rising.
require "mlx"

mx = MLX::Core
nn = MLX::NN
mx.seed(0)

VOCAB = 10
LENGTH = 8
DIMS = 64
HEADS = 4
LAYERS = 2
BATCH = 64
STEPS = Integer(ENV.fetch("DEMO_STEPS", 400))

# Random digit sequences and their sorted versions.
def batch(mx, size)
  x = mx.randint(0, VOCAB, [size, LENGTH])
  [x, mx.sort(x, 1)]
end

# Token and position embeddings, an encoder, a per-position classifier.
class Sorter < MLX::NN::Module
  def initialize
    super()
    self.tokens = MLX::NN::Embedding.new(VOCAB, DIMS)
    self.positions = MLX::NN::Embedding.new(LENGTH, DIMS)
    self.encoder = MLX::NN::TransformerEncoder.new(LAYERS, DIMS, HEADS, mlp_dims: 2 * DIMS)
    self.head = MLX::NN::Linear.new(DIMS, VOCAB)
  end

  def call(x)
    h = MLX::Core.add(tokens.call(x), positions.call(MLX::Core.arange(LENGTH)))
    head.call(encoder.call(h, nil))
  end
end

model = Sorter.new
optimizer = MLX::Optimizers::AdamW.new(learning_rate: 3e-3, weight_decay: 0.0)
loss_fn = ->(x, y) { nn.cross_entropy(model.call(x), y, reduction: "mean") }
loss_and_grad = nn.value_and_grad(model, loss_fn)
step_fn = lambda do |x, y|
  loss, grads = loss_and_grad.call(x, y)
  optimizer.update(model, grads)
  loss
end

held_out_x, held_out_y = batch(mx, 512)
accuracy = lambda do
  model.eval
  pred = mx.argmax(model.call(held_out_x), -1)
  model.train
  mx.mean(mx.equal(pred, held_out_y)).item
end

params = MLX::Utils.tree_flatten(model.parameters).sum { |_, v| v.size }
puts "sorting #{LENGTH} digits: transformer with #{LAYERS} layers, #{DIMS} dims, #{params} parameters"
puts format("step %4d  held-out accuracy %.3f (chance %.3f)", 0, accuracy.call, 1.0 / VOCAB)
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
(1..STEPS).each do |step|
  x, y = batch(mx, BATCH)
  loss = step_fn.call(x, y)
  mx.eval(loss, model.parameters, optimizer.state)
  next unless (step % 50).zero?

  puts format("step %4d  loss %.4f  held-out accuracy %.3f", step, loss.item, accuracy.call)
end
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
puts format("trained %d steps in %.1f s; final held-out accuracy %.3f", STEPS, elapsed, accuracy.call)
