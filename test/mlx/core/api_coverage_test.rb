# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# Every MLX::Core function named in the API reference (section 1, listed in
# test/fixtures/api_core_names.txt) exists and runs: each is called once
# with valid arguments and its result checked for kind (and a value where
# it is cheap). The behaviour of each is tested in its family's file.
class ApiCoverageTest < Minitest::Test
  NAMES = File.readlines(File.join(MLXTestHelper::FIXTURES, "api_core_names.txt"), chomp: true)
              .reject { |l| l.start_with?("#") || l.empty? }

  # name => a call returning something to check (an array is evaluated).
  def calls
    x = MX.array([[0.5, -1.0], [2.0, 0.25]])
    v = MX.array([0.1, 0.2, 0.3])
    pd = MX.array([[4.0, 1.0], [1.0, 3.0]])
    key = MX.key(0)
    q = MX.random_uniform([1, 2, 4, 8])
    w = MX.random_uniform([64, 64])
    dir = Dir.mktmpdir("mlx-api")
    file = ->(name) { File.join(dir, name) }
    f = ->(a) { MX.sum(a * a) }
    {
      array: -> { MX.array([1, 2]) }, asarray: -> { MX.asarray([1, 2]) }, arange: -> { MX.arange(3) },
      linspace: -> { MX.linspace(0, 1, 5) }, zeros: -> { MX.zeros([2]) }, ones: -> { MX.ones([2]) },
      full: -> { MX.full([2], 3.0) }, full_like: -> { MX.full_like(x, 1.0) }, zeros_like: -> { MX.zeros_like(x) },
      ones_like: -> { MX.ones_like(x) }, eye: -> { MX.eye(2) }, identity: -> { MX.identity(2) }, tri: -> { MX.tri(2) },
      tril: -> { MX.tril(x) }, triu: -> { MX.triu(x) }, meshgrid: -> { MX.meshgrid([v, v]) },
      issubdtype: -> { MX.issubdtype(MX.float32, MX.floating) }, astype: -> { MX.astype(x, MX.float16) },
      finfo: -> { MX.finfo(MX.float32) }, iinfo: -> { MX.iinfo(MX.int8) },
      divmod: -> { MX.divmod(x, 0.3) }, round: -> { MX.round(x, 1) }, clip: -> { MX.clip(x, 0.0, 1.0) },
      nan_to_num: -> { MX.nan_to_num(x) }, isclose: -> { MX.isclose(x, x) }, allclose: -> { MX.allclose(x, x) },
      array_equal: -> { MX.array_equal(x, x) }, where: -> { MX.where(x > 0, x, 0.0) },
      sum: -> { MX.sum(x) }, mean: -> { MX.mean(x, 0) }, all: -> { MX.all(x) }, any: -> { MX.any(x) },
      max: -> { MX.max(x) }, min: -> { MX.min(x) }, prod: -> { MX.prod(x) }, argmax: -> { MX.argmax(x) },
      argmin: -> { MX.argmin(x) }, var: -> { MX.var(x) }, std: -> { MX.std(x) }, median: -> { MX.median(x) },
      logsumexp: -> { MX.logsumexp(x) }, softmax: -> { MX.softmax(x) }, cumsum: -> { MX.cumsum(x) },
      cumprod: -> { MX.cumprod(x) }, cummax: -> { MX.cummax(x) }, cummin: -> { MX.cummin(x) },
      logcumsumexp: -> { MX.logcumsumexp(x) }, sort: -> { MX.sort(x) }, argsort: -> { MX.argsort(x) },
      topk: -> { MX.topk(v, 2) }, partition: -> { MX.partition(v, 1) }, argpartition: -> { MX.argpartition(v, 1) },
      reshape: -> { MX.reshape(x, [4]) }, flatten: -> { MX.flatten(x) }, unflatten: -> { MX.unflatten(v, 0, [3, 1]) },
      transpose: -> { MX.transpose(x) }, permute_dims: -> { MX.permute_dims(x, [1, 0]) },
      squeeze: -> { MX.squeeze(MX.zeros([1, 2])) }, expand_dims: -> { MX.expand_dims(x, 0) },
      atleast_1d: -> { MX.atleast_1d(x) }, atleast_2d: -> { MX.atleast_2d(v) }, atleast_3d: -> { MX.atleast_3d(v) },
      moveaxis: -> { MX.moveaxis(x, 0, 1) }, swapaxes: -> { MX.swapaxes(x, 0, 1) },
      broadcast_to: -> { MX.broadcast_to(v, [2, 3]) }, broadcast_arrays: -> { MX.broadcast_arrays([v, x[0, 0]]) },
      broadcast_shapes: -> { MX.broadcast_shapes([2, 1], [3]) }, concatenate: -> { MX.concatenate([x, x]) },
      concat: -> { MX.concat([x, x], 1) }, stack: -> { MX.stack([x, x]) }, split: -> { MX.split(x, 2) },
      repeat: -> { MX.repeat(v, 2) }, tile: -> { MX.tile(v, 2) }, roll: -> { MX.roll(v, 1) },
      pad: -> { MX.pad(v, 1) }, as_strided: -> { MX.as_strided(v, [2], [1]) }, contiguous: -> { MX.contiguous(x) },
      view: -> { MX.view(x, MX.int32) }, diagonal: -> { MX.diagonal(x) }, diag: -> { MX.diag(v) },
      trace: -> { MX.trace(x) }, slice: -> { MX.slice(x, [0, 0], [1, 2]) },
      slice_update: -> { MX.slice_update(x, MX.zeros([1, 2]), [0, 0], [1, 2]) },
      take: -> { MX.take(v, MX.array([0, 2])) }, take_along_axis: -> { MX.take_along_axis(x, MX.array([[0], [1]]), 1) },
      put_along_axis: -> { MX.put_along_axis(x, MX.array([[0], [1]]), 9.0, 1) },
      matmul: -> { MX.matmul(x, x) }, addmm: -> { MX.addmm(x, x, x) },
      block_masked_mm: -> { MX.block_masked_mm(w, w, 32) },
      gather_mm: -> { MX.gather_mm(x, x) }, segmented_mm: -> { MX.segmented_mm(x, x, MX.array([[0, 1], [1, 2]])) },
      inner: -> { MX.inner(v, v) }, outer: -> { MX.outer(v, v) }, kron: -> { MX.kron(x, x) },
      tensordot: -> { MX.tensordot(x, x, 1) }, einsum: -> { MX.einsum("ij,jk->ik", x, x) },
      einsum_path: -> { MX.einsum_path("ij,jk->ik", x, x) }, hadamard_transform: -> { MX.hadamard_transform(x) },
      convolve: -> { MX.convolve(v, v) }, conv1d: -> { MX.conv1d(MX.ones([1, 5, 2]), MX.ones([3, 2, 2])) },
      conv2d: -> { MX.conv2d(MX.ones([1, 5, 5, 2]), MX.ones([3, 2, 2, 2])) },
      conv3d: -> { MX.conv3d(MX.ones([1, 4, 4, 4, 2]), MX.ones([3, 2, 2, 2, 2])) },
      conv_transpose1d: -> { MX.conv_transpose1d(MX.ones([1, 5, 2]), MX.ones([3, 2, 2])) },
      conv_transpose2d: -> { MX.conv_transpose2d(MX.ones([1, 5, 5, 2]), MX.ones([3, 2, 2, 2])) },
      conv_transpose3d: -> { MX.conv_transpose3d(MX.ones([1, 4, 4, 4, 2]), MX.ones([3, 2, 2, 2, 2])) },
      conv_general: -> { MX.conv_general(MX.ones([1, 5, 2]), MX.ones([3, 2, 2])) },
      norm: -> { MX.norm(x) }, qr: -> { MX.qr(pd) }, svd: -> { MX.svd(pd) }, inv: -> { MX.inv(pd) },
      pinv: -> { MX.pinv(pd) }, tri_inv: -> { MX.tri_inv(MX.tril(pd)) }, cholesky: -> { MX.cholesky(pd) },
      cholesky_inv: -> { MX.cholesky_inv(MX.cholesky(pd)) }, lu: -> { MX.lu(pd) }, lu_factor: -> { MX.lu_factor(pd) },
      solve: -> { MX.solve(pd, MX.array([1.0, 2.0])) },
      solve_triangular: -> { MX.solve_triangular(MX.tril(pd), MX.array([1.0, 2.0])) },
      cross: -> { MX.cross(v, v) }, eigvals: -> { MX.eigvals(pd) }, eig: -> { MX.eig(pd) },
      eigvalsh: -> { MX.eigvalsh(pd) }, eigh: -> { MX.eigh(pd) },
      fft: -> { MX.fft(v) }, ifft: -> { MX.ifft(v) }, rfft: -> { MX.rfft(v) }, irfft: -> { MX.irfft(MX.rfft(v)) },
      fft2: -> { MX.fft2(x) }, ifft2: -> { MX.ifft2(x) }, rfft2: -> { MX.rfft2(x) }, irfft2: -> { MX.irfft2(MX.rfft2(x)) },
      fftn: -> { MX.fftn(x) }, ifftn: -> { MX.ifftn(x) }, rfftn: -> { MX.rfftn(x) }, irfftn: -> { MX.irfftn(MX.rfftn(x)) },
      fftshift: -> { MX.fftshift(v) }, ifftshift: -> { MX.ifftshift(v) },
      seed: -> { MX.seed(1) }, random_seed: -> { MX.random_seed(1) }, key: -> { MX.key(1) },
      random_split: -> { MX.random_split(key) }, random_uniform: -> { MX.random_uniform([2]) },
      uniform: -> { MX.uniform([2]) }, normal: -> { MX.normal([2]) }, randint: -> { MX.randint(0, 5, [2]) },
      bernoulli: -> { MX.bernoulli(0.5, [2]) }, truncated_normal: -> { MX.truncated_normal(-1.0, 1.0, [2]) },
      gumbel: -> { MX.gumbel([2]) }, categorical: -> { MX.categorical(x) }, laplace: -> { MX.laplace([2]) },
      permutation: -> { MX.permutation(5) },
      multivariate_normal: -> { MX.multivariate_normal(MX.zeros([2]), pd, [3]) },
      rms_norm: -> { MX.rms_norm(x, MX.ones([2])) }, layer_norm: -> { MX.layer_norm(x) },
      rope: -> { MX.rope(MX.ones([1, 2, 4]), 4, false, 10_000.0) },
      scaled_dot_product_attention: -> { MX.scaled_dot_product_attention(q, q, q, 0.5) },
      metal_kernel: [MLX::DeviceError, -> { MX.metal_kernel("k", ["a"], ["b"], "") }],
      cuda_kernel: -> { MX.cuda_kernel("k", ["a"], ["b"], "b[0] = a[0];") },
      precompiled_cuda_kernel: [MLX::DeviceError, lambda {
        MX.precompiled_cuda_kernel("k", "", [x], [[2, 2]], [:float32], nil, 1, 1)
      }],
      quantize: -> { MX.quantize(w) }, dequantize: -> { MX.dequantize(*MX.quantize(w)) },
      quantized_matmul: -> { MX.quantized_matmul(w, *MX.quantize(w)) },
      qqmm: -> { MX.qqmm(w, w) },
      gather_qmm: -> { MX.gather_qmm(w, *MX.quantize(w)) },
      from_fp8: -> { MX.from_fp8(MX.to_fp8(v)) }, to_fp8: -> { MX.to_fp8(v) },
      eval: -> { MX.eval(x) }, async_eval: -> { MX.async_eval(x) }, grad: -> { MX.grad(f).call(v) },
      value_and_grad: -> { MX.value_and_grad(f).call(v) }, jvp: -> { MX.jvp(f, [v], [v]) },
      vjp: -> { MX.vjp(f, [v], [MX.array(1.0)]) }, vmap: -> { MX.vmap(f).call(x) },
      compile: -> { MX.compile(f).call(v) }, checkpoint: -> { MX.checkpoint(f).call(v) },
      disable_compile: -> { MX.disable_compile }, enable_compile: -> { MX.enable_compile },
      depends: -> { MX.depends(v, x) }, custom_function: -> { MX.custom_function(f).call(v) },
      cpu: -> { MX.cpu }, gpu: -> { MX.gpu }, default_device: -> { MX.default_device },
      set_default_device: -> { MX.set_default_device(MX.default_device) }, is_available: -> { MX.is_available(MX.cpu) },
      device_count: -> { MX.device_count(:cpu) }, device_info: -> { MX.device_info },
      default_stream: -> { MX.default_stream(MX.cpu) }, new_stream: -> { MX.new_stream(MX.cpu) },
      set_default_stream: -> { MX.set_default_stream(MX.default_stream(MX.cpu)) },
      stream: -> { MX.stream(MX.cpu) { MX.add(v, 1.0) } }, synchronize: -> { MX.synchronize },
      metal_is_available: -> { MX.metal_is_available },
      metal_start_capture: [MLX::DeviceError, -> { MX.metal_start_capture(file.call("x.gputrace")) }],
      metal_stop_capture: [MLX::DeviceError, -> { MX.metal_stop_capture }],
      metal_device_info: [MLX::DeviceError, -> { MX.metal_device_info }],
      get_active_memory: -> { MX.get_active_memory }, get_peak_memory: -> { MX.get_peak_memory },
      get_cache_memory: -> { MX.get_cache_memory }, reset_peak_memory: -> { MX.reset_peak_memory },
      clear_cache: -> { MX.clear_cache }, set_memory_limit: -> { MX.set_memory_limit(MX.set_memory_limit(1 << 40)) },
      set_cache_limit: -> { MX.set_cache_limit(MX.set_cache_limit(1 << 30)) },
      set_wired_limit: -> { MX.set_wired_limit(0) },
      save: -> { MX.save(file.call("a.npy"), x) }, load: -> { MX.save(file.call("b.npy"), x) || MX.load(file.call("b.npy")) },
      save_safetensors: -> { MX.save_safetensors(file.call("a.safetensors"), { "x" => x }) },
      save_gguf: -> { MX.save_gguf(file.call("a.gguf"), { "x" => x }) },
      savez: -> { MX.savez(file.call("a.npz"), x, y: v) },
      savez_compressed: -> { MX.savez_compressed(file.call("b.npz"), x) },
      export_function: -> { MX.export_function(file.call("f.mlxfn"), ->(a) { a * 2.0 }, v) },
      import_function: lambda {
        MX.export_function(file.call("g.mlxfn"), ->(a) { a * 2.0 }, v)
        MX.import_function(file.call("g.mlxfn")).call(v)
      },
      exporter: -> { MX.exporter(file.call("h.mlxfn"), ->(a) { a * 2.0 }) },
      export_to_dot: -> { MX.export_to_dot(file.call("g.dot"), v + 1.0) },
      distributed_is_available: -> { MX.distributed_is_available }, init: -> { MX.init },
      all_sum: -> { MX.all_sum(v) }, all_max: -> { MX.all_max(v) }, all_min: -> { MX.all_min(v) },
      all_gather: -> { MX.all_gather(v) }, sum_scatter: -> { MX.sum_scatter(v) },
      send: [MLX::RuntimeError, -> { MX.send(v, 0) }], recv: [MLX::RuntimeError, -> { MX.recv([1], :float32, 0) }],
      recv_like: [MLX::RuntimeError, -> { MX.recv_like(v, 0) }],
      version: -> { MX.version }, available?: -> { MX.available? }, ensure_native!: -> { MX.ensure_native! },
      from_dlpack: -> { MX.from_dlpack(v.__dlpack__) }
    }
  end

  # Functions called with their usual operands without a table entry.
  def generic_call(name)
    x = MX.array([[0.5, 0.25], [0.75, 0.125]])
    i = MX.array([[1, 2], [3, 4]])
    return MX.__send__(name) if MX.method(name).arity.zero?
    return MX.__send__(name, i, i) if %w[bitwise_and bitwise_or bitwise_xor left_shift right_shift].include?(name.to_s)
    return MX.__send__(name, i) if name == :bitwise_invert
    return MX.__send__(name, x) if MX.method(name).arity == 1 || MX.method(name).arity == -2

    MX.__send__(name, x, x)
  end

  def test_every_core_function_exists_and_runs
    assert_equal 323, NAMES.size
    table = calls
    failures = []
    NAMES.each do |name|
      sym = name.to_sym
      unless MX.respond_to?(sym)
        failures << "#{name}: missing"
        next
      end
      expected_error, call = table[sym].is_a?(::Array) ? table[sym] : [nil, table[sym]]
      begin
        if expected_error
          begin
            call.call
            failures << "#{name}: expected #{expected_error}"
          rescue expected_error
            nil
          end
        else
          res = call ? call.call : generic_call(sym)
          (res.is_a?(::Array) ? res.flatten : [res]).each { |r| r.eval if r.is_a?(MX::Array) }
        end
      rescue StandardError => e
        failures << "#{name}: #{e.class}: #{e.message[0, 120]}"
      end
    end
    puts "\nAPI coverage: #{NAMES.size - failures.size} of #{NAMES.size} MLX::Core functions present and running"
    assert_empty failures, failures.join("\n")
  end
end
