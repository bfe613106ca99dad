# Builds the MLX C engine (engine/, a static library compiled -fPIC) and
# configures the Ruby extension mlx/native that links it whole.
#
# Works from a checkout (`rake compile` runs this in tmp/ext/mlx) and from
# `gem install` (run in ext/mlx of the unpacked gem). Environment:
#   MAKE              make program (default: make)
#   MLX_ENGINE_BUILD  engine build directory name under engine/ (default: build)
#   MLX_ENGINE_OPT    optimisation flags for the engine (default: the engine's)
#   MLX_CUDA          1: build the engine's CUDA backend and link the CUDA runtime
#                     statically (needs nvcc under CUDA_HOME, default /usr/local/cuda);
#                     0: do not. Unset: built when CUDA_HOME/bin/nvcc exists.
#   MLX_NO_CUDA       1: never build the CUDA backend (the same as MLX_CUDA=0)
# The engine objects of a CUDA build go to engine/build-cuda (unless
# MLX_ENGINE_BUILD says otherwise), apart from the CPU-only engine/build.
require "mkmf"
require "etc"

root = File.expand_path("../..", __dir__)
engine = File.join(root, "engine")
abort "engine sources not found at #{engine}" unless File.file?(File.join(engine, "Makefile"))

make = ENV.fetch("MAKE", "make")
cuda_home = ENV.fetch("CUDA_HOME", "/usr/local/cuda")
cuda = if ENV["MLX_NO_CUDA"] == "1" || ENV["MLX_CUDA"] == "0" then false
       elsif ENV["MLX_CUDA"] == "1" then true
       else File.executable?(File.join(cuda_home, "bin", "nvcc"))
       end
build = ENV.fetch("MLX_ENGINE_BUILD", cuda ? "build-cuda" : "build")
args = [make, "-C", engine, "BUILD=#{build}", "-j#{[Etc.nprocessors, 8].min}"]
args << "OPT=#{ENV['MLX_ENGINE_OPT']}" if ENV["MLX_ENGINE_OPT"]
args += ["MLX_CUDA=1", "CUDA_HOME=#{cuda_home}"] if cuda
puts "CUDA backend: #{cuda ? "built (#{cuda_home})" : 'not built'}"
puts "building the engine: #{args.join(' ')}"
system(*args) or abort "engine build failed (#{args.join(' ')})"
lib = File.join(engine, build, "libmlxengine.a")
abort "#{lib} missing after the engine build" unless File.file?(lib)

include_dir = File.join(engine, "include")
$INCFLAGS << " -I#{include_dir}"
$CFLAGS << " -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fvisibility=hidden"

srcdir = File.expand_path(__dir__)
sources = Dir[File.join(srcdir, "*.c")].map { |f| File.basename(f) }
$srcs = sources
$objs = sources.map { |f| f.sub(/\.c\z/, ".o") }

if RUBY_PLATFORM.include?("darwin")
  $LOCAL_LIBS << " -Wl,-force_load,#{lib}"
else
  $LOCAL_LIBS << " -Wl,--whole-archive #{lib} -Wl,--no-whole-archive -Wl,--exclude-libs,ALL"
end
%w[openblas lapacke z m pthread].each { |l| $libs << " -l#{l}" }
if cuda
  # The CUDA runtime, static: the extension loads where no toolkit is installed.
  $libs << " -L#{cuda_home}/lib64 -lcudart_static -ldl -lrt -lstdc++"
end

create_makefile("mlx/native")

# Relink when the engine library changes.
File.open("Makefile", "a") { |f| f.puts "\n$(DLLIB): #{lib}" }
