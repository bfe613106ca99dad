# frozen_string_literal: true

require "test_helper"
require "rbconfig"

# eval / async_eval over trees, evaluation without the GVL (other Ruby
# threads progress), several threads evaluating at once, interrupts.
class EvaluationTest < Minitest::Test
  # A long evaluation: a chain of n cheap elementwise ops on a big array.
  def long_graph(n = 400, size = 1 << 18)
    x = MX.ones([size])
    n.times { x = x * 1.0001 + 0.0 }
    x
  end

  def test_eval_trees
    a = MX.array([1.0]) + 1
    b = MX.array([2.0]) * 2
    c = MX.array([3.0]) - 1
    d = MX.array([4.0]) / 2
    refute a.evaluated?
    MX.eval(a, [b, { "k" => c, :n => [d, nil, 3] }])
    assert a.evaluated?
    assert b.evaluated?
    assert c.evaluated?
    assert d.evaluated?
    assert_nil MX.eval
  end

  def test_async_eval_then_read
    x = long_graph(50, 1 << 14)
    MX.async_eval(x)
    MX.synchronize
    assert x.evaluated?
    assert_in_delta 1.0001**50, x[0].item, 1e-3
  end

  def test_eval_releases_the_gvl
    # Long enough (hundreds of ms on any machine) that the ticker gets to run.
    x = long_graph(4000)
    ticks = 0
    ticker = Thread.new do
      loop do
        ticks += 1
        sleep 0.001
      end
    end
    sleep 0.01
    before = ticks
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    MX.eval(x)
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    progressed = ticks - before
    ticker.kill
    ticker.join
    # With the GVL held the ticker would not run at all during eval.
    assert_operator progressed, :>=, 5, "ticker advanced #{progressed} times during a #{elapsed.round(3)}s eval"
  end

  def test_threads_build_and_evaluate_at_once
    results = Array.new(4)
    threads = 4.times.map do |t|
      Thread.new do
        acc = MX.zeros([64])
        50.times { |i| acc = acc + MX.full([64], t + i) }
        MX.eval(acc)
        results[t] = acc.to_a.uniq
      end
    end
    threads.each(&:join)
    4.times { |t| assert_equal [(0...50).sum { |i| t + i }.to_f], results[t] }
  end

  def test_thread_raise_interrupts_eval
    # Seconds of work: the interrupt below always lands mid-evaluation.
    x = long_graph(40_000, 1 << 18)
    started = Queue.new
    worker = Thread.new do
      started << true
      MX.eval(x)
      :finished
    rescue StandardError => e
      e
    end
    started.pop
    sleep 0.05
    worker.raise(RuntimeError, "stop")
    result = worker.value
    assert_kind_of RuntimeError, result
    assert_equal "stop", result.message
    # The graph stays valid: evaluating again works.
    y = long_graph(3, 8)
    MX.eval(y)
    assert y.evaluated?
  end

  # Ctrl-C: a SIGINT to a process blocked in a long eval raises Interrupt
  # right away (the unblocking function cancels between ops), and the
  # process can evaluate again afterwards.
  def test_sigint_interrupts_eval
    script = <<~RUBY
      trap("INT", "DEFAULT") # Ruby's Interrupt handler even if INT was ignored at startup
      require "mlx"
      mx = MLX::Core
      x = mx.ones([1 << 18])
      40_000.times { x = x * 1.0001 + 0.0 }
      $stdout.puts "start"
      $stdout.flush
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      begin
        mx.eval(x)
        puts "finished"
      rescue Interrupt
        puts "interrupted %.3f" % (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0)
      end
      y = mx.ones([2]) + 1
      p y.to_a
    RUBY
    lib = File.expand_path("../../../lib", __dir__)
    IO.popen([RbConfig.ruby, "-I#{lib}", "-e", script], "r+") do |io|
      assert_equal "start\n", io.gets
      sleep 0.2
      Process.kill(:INT, io.pid)
      line = io.gets
      assert_match(/\Ainterrupted /, line)
      assert_operator line.split.last.to_f, :<, 5.0
      assert_equal "[2.0, 2.0]\n", io.gets
    end
  end

  def test_array_eval_method
    a = MX.array([1.0]) + 1
    assert_same a, a.eval
    assert a.evaluated?
  end
end
