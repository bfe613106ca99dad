# The demo: a linear regression fitted by gradient descent, with the
# gradients written out by hand in MLX::Core ops, on data this script
# generates. It prints the loss falling and the recovered weights.
require "mlx"

mx = MLX::Core
mx.seed(0)

num_samples = 512
num_features = 8
true_w = mx.normal([num_features, 1])
true_b = 0.5

x = mx.normal([num_samples, num_features])
noise = mx.normal([num_samples, 1], 0.0, 0.01)
y = mx.matmul(x, true_w) + true_b + noise

w = mx.zeros([num_features, 1])
b = mx.zeros([1])
learning_rate = 0.1

puts "linear regression: #{num_samples} samples, #{num_features} features"
101.times do |step|
  pred = mx.matmul(x, w) + b
  err = pred - y
  loss = mx.mean(mx.square(err))
  # d(loss)/d(pred) = 2 * err / n; chain rule through pred = x @ w + b.
  grad_pred = err * (2.0 / num_samples)
  grad_w = mx.matmul(mx.transpose(x), grad_pred)
  grad_b = mx.sum(grad_pred, 0)
  w = w - grad_w * learning_rate
  b = b - grad_b * learning_rate
  mx.eval(loss, w, b)
  puts format("step %3d  loss %.6f", step, loss.item) if (step % 10).zero?
end

max_err = mx.max(mx.abs(w - true_w)).item
puts format("max |w - true_w| = %.4f, b = %.4f (true %.1f)", max_err, b.item, true_b)
