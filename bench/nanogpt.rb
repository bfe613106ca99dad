# nano GPT training-step benchmark (the seed's karpathy_gpt2 workload):
# token + position embeddings, LAYERS pre-norm TransformerEncoderLayers
# with an additive causal mask, LayerNorm, a vocabulary head; mean
# cross-entropy of next-character prediction; NN.value_and_grad, AdamW
# (1e-3) update, eval of the loss. Batches of BATCH random windows of
# SEQUENCE_LENGTH from a generated corpus. Mean ms per step over
# ITERATIONS after WARMUP, Ruby and Python MLX (bench/nanogpt_mlx.py) in
# the same run, with the python/ruby ratio.
#   ruby -Ilib bench/nanogpt.rb      (BATCH=4 SEQUENCE_LENGTH=32 DIMENSIONS=128 HEADS=4 LAYERS=2)
require "json"
require "mlx"

mx = MLX::Core
nn = MLX::NN
opts = {
  batch: Integer(ENV.fetch("BATCH", 4)), seq: Integer(ENV.fetch("SEQUENCE_LENGTH", 32)),
  dims: Integer(ENV.fetch("DIMENSIONS", 128)), heads: Integer(ENV.fetch("HEADS", 4)),
  layers: Integer(ENV.fetch("LAYERS", 2)), iterations: Integer(ENV.fetch("ITERATIONS", 50)),
  warmup: Integer(ENV.fetch("WARMUP", 10))
}
python = ENV.fetch("PYTHON", "python3")

# The corpus: a deterministic pseudo-text of 65 distinct characters.
chars = (("a".."z").to_a + ("A".."Z").to_a + ("0".."9").to_a + [" ", ".", "\n"])
corpus = Array.new(20_000) { |i| chars[((i * 7919) ^ (i >> 3)) % chars.size] }
vocab = chars.size
ids = corpus.map { |c| chars.index(c) }
train = ids.first((ids.size * 0.9).to_i)

class NanoGpt < MLX::NN::Module
  def initialize(vocab, seq, dims, heads, layers)
    super()
    self.token_embedding = MLX::NN::Embedding.new(vocab, dims)
    self.pos_embedding = MLX::NN::Embedding.new(seq, dims)
    self.dropout = MLX::NN::Dropout.new(0.0)
    self.blocks = Array.new(layers) { MLX::NN::TransformerEncoderLayer.new(dims, heads, mlp_dims: 4 * dims, norm_first: true) }
    self.ln = MLX::NN::LayerNorm.new(dims)
    self.head = MLX::NN::Linear.new(dims, vocab)
    @mask = MLX::NN::MultiHeadAttention.create_additive_causal_mask(seq)
  end

  def call(x)
    h = dropout.call(MLX::Core.add(token_embedding.call(x), pos_embedding.call(MLX::Core.arange(x.shape[1]))))
    blocks.each { |b| h = b.call(h, @mask) }
    head.call(ln.call(h))
  end
end

mx.seed(0)
rng = Random.new(0)
model = NanoGpt.new(vocab, opts[:seq], opts[:dims], opts[:heads], opts[:layers])
optimizer = MLX::Optimizers::AdamW.new(learning_rate: 1e-3)
loss_and_grad = nn.value_and_grad(model, lambda do |x, y|
  logits = model.call(x)
  nn.cross_entropy(mx.reshape(logits, [-1, vocab]), mx.reshape(y, [-1]), reduction: "mean")
end)
next_batch = lambda do
  starts = Array.new(opts[:batch]) { rng.rand(train.size - opts[:seq] - 1) }
  x = starts.map { |s| train[s, opts[:seq]] }
  y = starts.map { |s| train[s + 1, opts[:seq]] }
  [mx.array(x, mx.int32), mx.array(y, mx.int32)]
end
step = lambda do
  x, y = next_batch.call
  loss, grads = loss_and_grad.call(x, y)
  optimizer.update(model, grads)
  mx.eval(loss, model.parameters, optimizer.state)
  loss
end

opts[:warmup].times { step.call }
t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
loss = nil
opts[:iterations].times { loss = step.call }
ruby_ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t) * 1e3 / opts[:iterations]

peer = begin
  env = opts.transform_keys { |k| { batch: "BATCH", seq: "SEQUENCE_LENGTH", dims: "DIMENSIONS", heads: "HEADS", layers: "LAYERS", iterations: "ITERATIONS", warmup: "WARMUP" }[k] }.transform_values(&:to_s)
  JSON.parse(IO.popen(env, [python, File.join(__dir__, "nanogpt_mlx.py")], err: File::NULL, &:read))
rescue StandardError
  nil
end

puts format("nano GPT training step: batch=%d seq=%d dims=%d heads=%d layers=%d vocab=%d, cpu threads=%d",
            opts[:batch], opts[:seq], opts[:dims], opts[:heads], opts[:layers], vocab, mx.device_info(mx.cpu)["threads"])
puts format("  ruby_avg_ms=%.2f (final loss %.3f)", ruby_ms, loss.item)
if peer
  puts format("  python_avg_ms=%.2f (final loss %.3f)", peer["average_ms"], peer["loss"])
  puts format("  python/ruby: %.2fx", peer["average_ms"] / ruby_ms)
else
  puts "  python mlx: not available"
end
