# frozen_string_literal: true

# The driver shared by the model benchmarks of bench/models/ (the seed's
# `rake benchmark:<model>` workloads, /work/shared/seed/BENCHMARKS.md). A
# model script builds its model in Ruby and hands MLXBench.run a block that
# returns one iteration as a lambda; the driver times it in this process,
# then runs the Python MLX (<name>_mlx.py) and PyTorch (<name>_torch.py)
# scripts of the same model as subprocesses with the same environment, each
# plain and compiled (COMPILE=1: MX.compile, mx.compile, torch.compile), and
# prints both times and their ratios.
#
# Environment (defaults): DEVICE=gpu (cpu when there is no GPU), ITERATIONS=50,
# WARMUP=10, BATCH=8, SEQUENCE_LENGTH=128, TARGET_SEQUENCE_LENGTH=64,
# DIMENSIONS=256, HEADS=8, LAYERS=4, PYTHON=python3. Besides:
#   COMPILED=0        skip the compiled comparison
#   TORCH=0           skip PyTorch
#   TORCH_COMPILE=0   skip torch.compile (its first call builds C++ kernels:
#                     10-40 s per model on a 2-core machine, cached after)
#   TORCH_THREADS=n   torch.set_num_threads(n) in the PyTorch runs
#   PYTHON_MLX_BLAS=lib  LD_PRELOAD lib (e.g. /usr/lib/x86_64-linux-gnu/libopenblas.so.0)
#                     into the Python MLX runs: the Linux `mlx-cpu` wheel
#                     bundles the reference Netlib BLAS, ~15x slower sgemm
#                     than the OpenBLAS our engine links (see README.md)
#   BENCH_JSON=file   append this run's figures to file as one JSON line
#                     (rake benchmark:results reads them)
require "json"
require "open3"
require "mlx"

module MLXBench
  MX = MLX::Core
  NN = MLX::NN

  DEFAULTS = {
    "DEVICE" => "gpu", "ITERATIONS" => "50", "WARMUP" => "10", "BATCH" => "8", "SEQUENCE_LENGTH" => "128",
    "TARGET_SEQUENCE_LENGTH" => "64", "DIMENSIONS" => "256", "HEADS" => "8", "LAYERS" => "4"
  }.freeze

  # The sizes of one run, read from the environment.
  Config = Struct.new(:device, :iterations, :warmup, :batch, :seq, :target_seq, :dims, :heads, :layers,
                      keyword_init: true)

  module_function

  def env
    DEFAULTS.to_h { |k, v| [k, ENV.fetch(k, v)] }
  end

  def config
    e = env
    Config.new(device: e["DEVICE"], iterations: Integer(e["ITERATIONS"]), warmup: Integer(e["WARMUP"]),
               batch: Integer(e["BATCH"]), seq: Integer(e["SEQUENCE_LENGTH"]),
               target_seq: Integer(e["TARGET_SEQUENCE_LENGTH"]), dims: Integer(e["DIMENSIONS"]),
               heads: Integer(e["HEADS"]), layers: Integer(e["LAYERS"]))
  end

  # DEVICE=gpu|metal|cuda asks for the GPU and falls back to the CPU when
  # this build has none; DEVICE=cpu is the CPU. Returns the device used as
  # a word and a note on why, when it is not the one asked for.
  def select_device(requested)
    wants_gpu = %w[gpu metal cuda].include?(requested.downcase)
    raise ArgumentError, "DEVICE must be cpu, gpu or metal, got #{requested.inspect}" unless
      wants_gpu || requested.downcase == "cpu"

    if wants_gpu && MX.is_available(:gpu)
      MX.set_default_device(MX.gpu)
      ["gpu", nil]
    else
      MX.set_default_device(MX.cpu)
      ["cpu", wants_gpu ? "#{requested} requested, not available: #{MX.gpu_unavailable_reason}" : nil]
    end
  end

  def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # WARMUP untimed calls, then ITERATIONS timed around the whole loop (graph
  # construction plus evaluation: each iteration evaluates its output).
  # Returns [mean ms per iteration, the last output].
  def measure(cfg, iteration)
    out = nil
    cfg.warmup.times { out = iteration.call }
    t = clock
    cfg.iterations.times { out = iteration.call }
    [(clock - t) * 1e3 / cfg.iterations, out]
  end

  # Inputs as BENCHMARKS.md says: float32, uniform in [-1, 1].
  def uniform(shape) = MX.random_uniform(shape, -1.0, 1.0, MX.float32)

  # Runs one peer script with the benchmark's environment; its last stdout
  # line is the JSON result. Returns the parsed Hash, or {"error" => why}.
  def peer(script, extra_env)
    return { "error" => "#{File.basename(script)} does not exist" } unless File.exist?(script)

    python = ENV.fetch("PYTHON", "python3")
    out, err, status = Open3.capture3(env.merge(extra_env), python, script)
    line = out.lines.map(&:strip).reject(&:empty?).last
    return JSON.parse(line) if status.success? && line&.start_with?("{")

    why = err.lines.map(&:strip).reject(&:empty?).last || "exit status #{status.exitstatus}"
    { "error" => why }
  rescue SystemCallError, JSON::ParserError => e
    { "error" => e.message }
  end

  def torch_available?
    return @torch_available unless @torch_available.nil?

    python = ENV.fetch("PYTHON", "python3")
    _, _, status = Open3.capture3(python, "-c", "import torch")
    @torch_available = status.success?
  rescue SystemCallError
    @torch_available = false
  end

  def shape_of(out) = out.is_a?(MLX::Core::Array) ? out.shape : nil

  def ms(value) = value.nil? ? "n/a" : format("%.3f", value)

  def ratio(peer_ms, ruby_ms) = peer_ms && ruby_ms ? format("%.2fx", peer_ms / ruby_ms) : "n/a"

  # name: the model (bench/models/<name>.rb); description: one line about
  # it; build: a block (cfg, compiled) -> a lambda running one iteration and
  # returning its evaluated output (the loss for a training step). The
  # lambda may return [output, extras Hash] to report more (e.g. the loss).
  def run(name, description, &build)
    cfg = config
    device, device_note = select_device(cfg.device)
    dir = __dir__
    compiled_too = ENV.fetch("COMPILED", "1") != "0"
    torch = ENV.fetch("TORCH", "1") != "0" && torch_available?
    torch_compile = ENV.fetch("TORCH_COMPILE", "1") != "0"

    ruby = {}
    variants = compiled_too ? [false, true] : [false]
    variants.each do |compiled|
      MX.seed(0)
      iteration = build.call(cfg, compiled)
      avg, out = measure(cfg, iteration)
      out, extras = out if out.is_a?(::Array)
      ruby[compiled] = { "average_ms" => avg, "output_shape" => shape_of(out) }.merge(extras || {})
    end

    blas = ENV.fetch("PYTHON_MLX_BLAS", "")
    blas_env = blas.empty? ? {} : { "LD_PRELOAD" => [blas, ENV.fetch("LD_PRELOAD", nil)].compact.join(" ") }
    python = variants.to_h do |c|
      [c, peer(File.join(dir, "#{name}_mlx.py"), blas_env.merge("COMPILE" => c ? "1" : "0"))]
    end
    alt = ENV.fetch("PYTHON_MLX_BLAS_ALT", "")
    python_alt = unless alt.empty?
                   variants.to_h do |c|
                     [c, peer(File.join(dir, "#{name}_mlx.py"), "LD_PRELOAD" => alt, "COMPILE" => c ? "1" : "0")]
                   end
                 end
    torch_runs = {}
    if torch
      torch_runs[false] = peer(File.join(dir, "#{name}_torch.py"), "COMPILE" => "0")
      torch_runs[true] = if !compiled_too then nil
                         elsif torch_compile then peer(File.join(dir, "#{name}_torch.py"), "COMPILE" => "1")
                         else { "skipped" => "TORCH_COMPILE=0" }
                         end
    end

    report(name, description, device, device_note, ruby, python, torch, torch_runs, python_alt)
    record(name, device, ruby, python, torch_runs, python_alt)
  end

  def report(name, description, device, device_note, ruby, python, torch, torch_runs, python_alt)
    e = env
    puts "== #{name}: #{description}"
    puts "configuration: #{DEFAULTS.keys.map { |k| "#{k}=#{e[k]}" }.join(' ')}"
    threads = device == "cpu" ? ", cpu threads=#{MX.device_info(MX.cpu)['threads']}" : ""
    puts "device: #{device}#{threads}#{device_note ? " (#{device_note})" : ''}"
    blas = ENV.fetch("PYTHON_MLX_BLAS", "")
    puts "python mlx BLAS: #{blas.empty? ? "the wheel's own" : "LD_PRELOAD=#{blas}"}"
    side(ruby[false], python[false], torch ? torch_runs[false] : nil, torch, "")
    alt_side(ruby[false], python_alt&.fetch(false), "")
    shapes = [["ruby", ruby[false]], ["python", python[false]], ["torch", torch_runs[false]]].filter_map do |who, r|
      "#{who} #{r['output_shape'].inspect}" if r && r.key?("output_shape")
    end
    same = [ruby[false], python[false], torch_runs[false]].compact.map { |r| r["output_shape"] }.compact.uniq.size == 1
    puts "output_shape: #{shapes.join(', ')}#{same ? '' : '  MISMATCH'}"
    losses(ruby[false], python[false], torch_runs[false], "")
    return unless ruby.key?(true)

    puts "compiled (MX.compile / mx.compile#{torch ? ' / torch.compile' : ''}):"
    side(ruby[true], python[true], torch ? torch_runs[true] : nil, torch, "  ", "_compiled")
    alt_side(ruby[true], python_alt&.fetch(true), "  ", "_compiled")
    losses(ruby[true], python[true], torch_runs[true], "  ")
  end

  # A training step's last loss per language (models that report one).
  def losses(ruby, python, torch_run, indent)
    list = [["ruby", ruby], ["python", python], ["torch", torch_run]].filter_map do |who, r|
      format("%s %.4f", who, r["loss"]) if r && r["loss"]
    end
    puts "#{indent}final loss: #{list.join(', ')}" unless list.empty?
  end

  def side(ruby, python, torch_run, torch, indent, suffix = "")
    puts "#{indent}ruby#{suffix}_avg_ms: #{ms(ruby['average_ms'])}"
    if python["error"]
      puts "#{indent}python#{suffix}_avg_ms: n/a (#{python['error']})"
    else
      puts "#{indent}python#{suffix}_avg_ms: #{ms(python['average_ms'])}"
      puts "#{indent}python/ruby: #{ratio(python['average_ms'], ruby['average_ms'])}"
    end
    return unless torch && torch_run

    if torch_run["average_ms"]
      threads = torch_run["threads"] ? " (#{torch_run['threads']} threads)" : ""
      puts "#{indent}torch#{suffix}_avg_ms: #{ms(torch_run['average_ms'])}#{threads}"
      puts "#{indent}torch/ruby: #{ratio(torch_run['average_ms'], ruby['average_ms'])}"
    else
      puts "#{indent}torch#{suffix}_avg_ms: n/a (#{torch_run['error'] || torch_run['skipped']})"
    end
  end

  # Python MLX again with PYTHON_MLX_BLAS_ALT preloaded (the wheel's own
  # BLAS is the reference Netlib one; see bench/README.md).
  def alt_side(ruby, alt, indent, suffix = "")
    return unless alt

    lib = File.basename(ENV.fetch("PYTHON_MLX_BLAS_ALT"))
    if alt["error"]
      puts "#{indent}python_#{lib}#{suffix}_avg_ms: n/a (#{alt['error']})"
    else
      puts "#{indent}python_#{lib}#{suffix}_avg_ms: #{ms(alt['average_ms'])}"
      puts "#{indent}python_#{lib}/ruby: #{ratio(alt['average_ms'], ruby['average_ms'])}"
    end
  end

  def record(name, device, ruby, python, torch_runs, python_alt)
    path = ENV["BENCH_JSON"]
    return if path.nil? || path.empty?

    pick = ->(r) { r && r["average_ms"] }
    row = {
      "model" => name, "config" => env, "device" => device,
      "ruby_ms" => pick.(ruby[false]), "python_ms" => pick.(python[false]), "torch_ms" => pick.(torch_runs[false]),
      "ruby_compiled_ms" => pick.(ruby[true]), "python_compiled_ms" => pick.(python[true]),
      "torch_compiled_ms" => pick.(torch_runs[true]),
      "python_alt_ms" => pick.(python_alt&.fetch(false)), "python_alt_compiled_ms" => pick.(python_alt&.fetch(true, nil)),
      "python_error" => python[false]["error"], "torch_error" => torch_runs[false]&.fetch("error", nil),
      "ruby_loss" => ruby[false]["loss"], "python_loss" => python[false]["loss"]
    }
    File.open(path, "a") { |f| f.puts(JSON.generate(row)) }
  end

  # The karpathy_gpt2 corpus and batches; bench/models/corpus.py is the
  # same generator in Python (the two must agree character for character).
  module Corpus
    WORDS = %w[
      the a one every small old quiet bright green cold warm dark brown lazy quick
      fox dog cat bird river tree town house garden field lake hill window road boat
      child teacher farmer sailor baker runs walks sings reads writes sees builds
      finds carries follows crosses watches opens and but while because near under
      over through behind across into from with without before after morning
      evening night day rain wind sun light water stone bread letter song story
    ].freeze
    PUNCTUATION = [".", ".", ".", "!", "?"].freeze
    CORPUS_CHARS = 60_000

    # x' = (1103515245 x + 12345) mod 2^31; next_below(n) uses the high bits.
    class Lcg
      def initialize(seed)
        @state = seed & 0x7FFFFFFF
      end

      def next_value
        @state = ((1_103_515_245 * @state) + 12_345) & 0x7FFFFFFF
      end

      def next_below(n) = (next_value >> 8) % n
    end

    module_function

    def text(chars = CORPUS_CHARS, seed = 2024)
      rng = Lcg.new(seed)
      out = +""
      while out.size < chars
        count = 4 + rng.next_below(9)
        words = Array.new(count) { WORDS[rng.next_below(WORDS.size)] }
        words[0] = words[0].capitalize
        out << words.join(" ") << PUNCTUATION[rng.next_below(PUNCTUATION.size)]
        out << (rng.next_below(4).zero? ? "\n" : " ")
      end
      out[0, chars]
    end

    # [vocab size, train ids, validation ids]
    def dataset
      corpus = text
      vocab = corpus.chars.uniq.sort
      index = vocab.each_with_index.to_h
      ids = corpus.chars.map { |c| index[c] }
      cut = (ids.size * 0.9).to_i
      [vocab.size, ids[0, cut], ids[cut..]]
    end

    # B random windows of length S and the windows shifted by one.
    class Batches
      def initialize(data, batch, seq, seed = 7)
        @data = data
        @batch = batch
        @seq = seq
        @rng = Lcg.new(seed)
      end

      def next_batch
        span = @data.size - @seq - 1
        starts = Array.new(@batch) { @rng.next_below(span) }
        [starts.map { |s| @data[s, @seq] }, starts.map { |s| @data[s + 1, @seq] }]
      end
    end
  end
end
