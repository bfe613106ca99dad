# frozen_string_literal: true

# Model benchmarks (bench/models/, the seed's BENCHMARKS.md workloads): Ruby
# vs Python MLX vs PyTorch, plain and compiled. Rake loads this file after
# the Rakefile (rakelib/ is imported automatically).
#
#   rake benchmark:transformer | :cnn | :mlp | :rnn | :karpathy_gpt2
#   rake benchmark:all          the five models in turn
#   rake benchmark:overhead     per-op overhead, Ruby vs Python MLX (bench/overhead.rb; OPS, ROUNDS)
#   rake benchmark:results      configurations A and B into bench/RESULTS.md (RESULTS_FILE=path
#                               writes elsewhere; ITERATIONS/WARMUP override both configurations)
#
# Environment: see bench/models/harness.rb (DEVICE, ITERATIONS, WARMUP, BATCH,
# SEQUENCE_LENGTH, TARGET_SEQUENCE_LENGTH, DIMENSIONS, HEADS, LAYERS, PYTHON,
# COMPILED, TORCH, TORCH_COMPILE, TORCH_THREADS, PYTHON_MLX_BLAS). Run `rake compile` first;
# with MLX_BUILD_TAG set, that tag's build is used.
require "json"
require "etc"
require "rbconfig"
require "tmpdir"

module BenchmarkTasks
  ROOT_DIR = File.expand_path("..", __dir__)
  MODELS = %w[transformer cnn mlp rnn karpathy_gpt2].freeze
  SIZE_KEYS = %w[BATCH SEQUENCE_LENGTH TARGET_SEQUENCE_LENGTH DIMENSIONS HEADS LAYERS].freeze
  CONFIGS = {
    "A" => { "ITERATIONS" => "1000", "WARMUP" => "50", "BATCH" => "2", "SEQUENCE_LENGTH" => "32",
             "TARGET_SEQUENCE_LENGTH" => "16", "DIMENSIONS" => "64", "HEADS" => "4", "LAYERS" => "2" },
    "B" => { "ITERATIONS" => "50", "WARMUP" => "10", "BATCH" => "8", "SEQUENCE_LENGTH" => "128",
             "TARGET_SEQUENCE_LENGTH" => "64", "DIMENSIONS" => "256", "HEADS" => "8", "LAYERS" => "4" }
  }.freeze
  BEGIN_MARK = "<!-- rake benchmark:results begin -->"
  END_MARK = "<!-- rake benchmark:results end -->"

  module_function

  # The tagged build's library directory first (as the Rakefile's
  # test:ruby), then lib/.
  def load_path
    tag = ENV.fetch("MLX_BUILD_TAG", nil)
    dirs = []
    dirs << File.join(ROOT_DIR, "tmp", "ext-#{tag}", "lib") if tag && !tag.empty?
    dirs << File.join(ROOT_DIR, "lib")
    dirs.flat_map { |d| ["-I", d] }
  end

  def ruby_command(script, *args)
    [RbConfig.ruby, *load_path, File.join(ROOT_DIR, script), *args.map(&:to_s)]
  end

  def python = ENV.fetch("PYTHON", "python3")

  def capture(*cmd)
    out = IO.popen(cmd, err: File::NULL, &:read).to_s.strip
    $?.success? && !out.empty? ? out : nil
  rescue SystemCallError
    nil
  end

  def cpu_model
    line = File.foreach("/proc/cpuinfo").find { |l| l.start_with?("model name") }
    line ? line.split(":", 2)[1].strip : RbConfig::CONFIG["host_cpu"]
  rescue SystemCallError
    RbConfig::CONFIG["host_cpu"]
  end

  def memory_gib
    line = File.foreach("/proc/meminfo").find { |l| l.start_with?("MemTotal") }
    line ? (line[/\d+/].to_i / 1024.0 / 1024).round : nil
  rescue SystemCallError
    nil
  end

  def machine_lines
    gem = capture(RbConfig.ruby, *load_path, "-rmlx", "-e", "print MLX::VERSION") || "n/a"
    py = capture(python, "-c", "import sys; print(sys.version.split()[0], end='')") || "n/a"
    mlx = capture(python, "-c", "import mlx.core as mx; print(mx.__version__, end='')") || "n/a"
    torch = capture(python, "-c", "import torch; print(torch.__version__, torch.get_num_threads(), end='')")
    threads = ENV.fetch("TORCH_THREADS", nil) || torch&.split&.last
    torch_s = torch ? "PyTorch #{torch.split.first} (#{threads} threads)" : "PyTorch n/a"
    blas = ENV.fetch("PYTHON_MLX_BLAS", "")
    mem = memory_gib
    [
      "- Machine: #{cpu_model}, #{Etc.nprocessors} cores#{mem ? ", #{mem} GiB" : ''}",
      "- Ruby #{RUBY_VERSION}, mlx gem #{gem}; Python #{py}, Python MLX #{mlx}, #{torch_s}",
      "- Python MLX BLAS: #{blas.empty? ? "the wheel's own" : "LD_PRELOAD=#{blas}"}; " \
      "torch.compile #{ENV['TORCH_COMPILE'] == '0' ? 'not timed (TORCH_COMPILE=0)' : 'timed'}",
      "- Date: #{Time.now.utc.strftime('%Y-%m-%d')}"
    ]
  end

  # The configuration's environment: its sizes always, its ITERATIONS and
  # WARMUP unless set in the environment (for a quick run).
  def config_env(name)
    CONFIGS.fetch(name).to_h do |k, v|
      [k, SIZE_KEYS.include?(k) ? v : ENV.fetch(k, v)]
    end
  end

  def run_models(env, json)
    MODELS.each do |model|
      cmd = ruby_command("bench/models/#{model}.rb")
      ok = system(env.merge("BENCH_JSON" => json), *cmd)
      warn "benchmark #{model} failed (#{$?.exitstatus})" unless ok
    end
    File.exist?(json) ? File.readlines(json).map { |l| JSON.parse(l) } : []
  end

  def ms(v) = v ? format("%.3f", v) : "n/a"

  def ratio(a, b) = a && b ? format("%.2fx", a / b) : "n/a"

  def table(rows)
    lines = [
      "| model | device | ruby ms | python mlx ms | python/ruby | torch ms | torch/ruby | " \
      "ruby compiled ms | python compiled ms | python/ruby compiled | torch compiled ms | torch/ruby compiled |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    ]
    rows.each do |r|
      lines << "| #{r['model']} | #{r['device']} | #{ms(r['ruby_ms'])} | #{ms(r['python_ms'])} | " \
               "#{ratio(r['python_ms'], r['ruby_ms'])} | #{ms(r['torch_ms'])} | #{ratio(r['torch_ms'], r['ruby_ms'])} | " \
               "#{ms(r['ruby_compiled_ms'])} | #{ms(r['python_compiled_ms'])} | " \
               "#{ratio(r['python_compiled_ms'], r['ruby_compiled_ms'])} | #{ms(r['torch_compiled_ms'])} | " \
               "#{ratio(r['torch_compiled_ms'], r['ruby_compiled_ms'])} |"
    end
    lines.concat(alt_table(rows))
    rows.select { |r| r["ruby_loss"] }.each do |r|
      lines << ""
      lines << "#{r['model']} final loss: ruby #{format('%.4f', r['ruby_loss'])}, " \
               "python #{r['python_loss'] ? format('%.4f', r['python_loss']) : 'n/a'}"
    end
    errors = rows.flat_map do |r|
      [["python", r["python_error"]], ["torch", r["torch_error"]]].filter_map { |w, e| "#{r['model']} #{w}: #{e}" if e }
    end
    lines.push("", "Errors: #{errors.join('; ')}") unless errors.empty?
    lines
  end

  # Python MLX with PYTHON_MLX_BLAS_ALT preloaded, when it was run.
  def alt_table(rows)
    return [] if rows.none? { |r| r["python_alt_ms"] }

    lib = File.basename(ENV.fetch("PYTHON_MLX_BLAS_ALT", "the other BLAS"))
    lines = ["", "Python MLX with #{lib} preloaded in place of the wheel's reference BLAS (same run):", "",
             "| model | ruby ms | python mlx ms | python/ruby | ruby compiled ms | python compiled ms | python/ruby compiled |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows.each do |r|
      lines << "| #{r['model']} | #{ms(r['ruby_ms'])} | #{ms(r['python_alt_ms'])} | #{ratio(r['python_alt_ms'], r['ruby_ms'])} | " \
               "#{ms(r['ruby_compiled_ms'])} | #{ms(r['python_alt_compiled_ms'])} | " \
               "#{ratio(r['python_alt_compiled_ms'], r['ruby_compiled_ms'])} |"
    end
    lines
  end

  def section(results)
    out = [BEGIN_MARK, "## Models (Ruby vs Python MLX vs PyTorch)", "",
           "Regenerate with `rake benchmark:results` (bench/models/, workloads of the seed's BENCHMARKS.md). " \
           "Mean ms per iteration; ratios are peer/ruby, so > 1x means Ruby is faster.", ""]
    out.concat(machine_lines)
    results.each do |name, (env, rows)|
      label = name == "A" ? "Configuration A (the seed's published table)" : "Configuration B (the defaults)"
      out.push("", "### #{label}", "", "`#{env.map { |k, v| "#{k}=#{v}" }.join(' ')} DEVICE=#{ENV.fetch('DEVICE', 'gpu')}`", "")
      out.concat(table(rows))
    end
    out << END_MARK
    out.join("\n")
  end

  # Replaces the section between the markers, or appends it.
  def write_section(path, text)
    old = File.exist?(path) ? File.read(path) : "# Benchmark results\n"
    first = old.index(BEGIN_MARK)
    last = old.index(END_MARK)
    new = if first && last && last > first
            old[0...first] + text + old[(last + END_MARK.size)..]
          else
            "#{old.chomp}\n\n#{text}\n"
          end
    tmp = "#{path}.tmp#{Process.pid}"
    File.write(tmp, new)
    File.rename(tmp, path)
  end
end

namespace :benchmark do
  BenchmarkTasks::MODELS.each do |model|
    desc "Benchmark #{model}: Ruby vs Python MLX vs PyTorch, plain and compiled (bench/models/#{model}.rb)"
    task model.to_sym do
      sh(*BenchmarkTasks.ruby_command("bench/models/#{model}.rb"))
    end
  end

  desc "Run every model benchmark"
  task all: BenchmarkTasks::MODELS.map(&:to_sym)

  desc "Per-op overhead, Ruby vs Python MLX (bench/overhead.rb; OPS=10000 ROUNDS=5)"
  task :overhead do
    sh(*BenchmarkTasks.ruby_command("bench/overhead.rb", ENV.fetch("OPS", "10000"), ENV.fetch("ROUNDS", "5")))
  end

  desc "Regenerate the model sections of bench/RESULTS.md (configurations A and B; RESULTS_FILE=path)"
  task :results do
    # Python MLX a second time on the system OpenBLAS (PYTHON_MLX_BLAS_ALT=""
    # skips it): the wheel's reference BLAS alone flatters us.
    openblas = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"
    ENV["PYTHON_MLX_BLAS_ALT"] = openblas if !ENV.key?("PYTHON_MLX_BLAS_ALT") && File.exist?(openblas)
    path = ENV.fetch("RESULTS_FILE", File.join(BenchmarkTasks::ROOT_DIR, "bench", "RESULTS.md"))
    results = Dir.mktmpdir("mlx-bench") do |dir|
      BenchmarkTasks::CONFIGS.keys.to_h do |name|
        env = BenchmarkTasks.config_env(name)
        puts "### configuration #{name}: #{env.map { |k, v| "#{k}=#{v}" }.join(' ')}"
        [name, [env, BenchmarkTasks.run_models(env, File.join(dir, "#{name}.jsonl"))]]
      end
    end
    BenchmarkTasks.write_section(path, BenchmarkTasks.section(results))
    puts "wrote #{path}"
  end
end
