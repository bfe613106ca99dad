# frozen_string_literal: true

require "test_helper"

# MLX::NN::Module's key structures and NN::Init's values against Python MLX
# (test/fixtures/nn_module.json, written by generate_nn_module.py for the
# same nested model).
class ModuleOracleTest < Minitest::Test
  FIX = MLXTestHelper.fixture("nn_module")
  NN = MLX::NN
  MX = MLX::Core

  class Block < MLX::NN::Module
    def initialize
      super()
      self.lin = NN::Linear.new(3, 4)
      self.norm = NN::LayerNorm.new(4)
      self.scale = MX.ones([4])
    end
  end

  class Model < MLX::NN::Module
    def initialize
      super()
      self.embed = NN::Embedding.new(5, 3)
      self.blocks = [Block.new, Block.new]
      self.heads = { "a" => NN::Linear.new(4, 2), "b" => [NN::Linear.new(4, 1), NN::ReLU.new] }
      self.extra = { "w" => MX.zeros([2]), "list" => [MX.ones([1]), MX.zeros([3])] }
      self.seq = NN::Sequential.new(NN::Linear.new(4, 4), NN::Dropout.new(0.1))
      self.counts = MX.array([1, 2], MX.int32)
      self._hidden = MX.zeros([1])
    end
  end

  # Where the fixture's Ruby snippets run: layer classes, MX and the
  # initializers resolve as they are written.
  module Snippets
    include MLX::NN
    extend MLX::NN::Init
    MX = MLX::Core
  end

  def describe(tree)
    case tree
    when MLX::NN::Module then "<#{tree.class.name.split('::').last}>"
    when MX::Array then "#{tree.dtype.to_str_name}[#{tree.shape.join(', ')}]"
    when Hash then tree.to_h { |k, v| [k.to_s, describe(v)] }
    when ::Array then tree.map { |v| describe(v) }
    else tree.inspect
    end
  end

  def snippet(code) = Snippets.module_eval("lambda { |m| #{code} }", __FILE__, __LINE__)

  def cases(name) = FIX["cases"].select { |c| c["name"] == name }

  def test_structures
    want = cases("structure").first
    m = Model.new
    assert_equal want["parameters"], describe(m.parameters)
    assert_equal want["parameter_keys"], MLX::Utils.tree_flatten(m.parameters).map(&:first)
    assert_equal want["children"], describe(m.children)
    assert_equal want["leaf_modules"], describe(m.leaf_modules)
    assert_equal want["named_modules"], m.named_modules.map { |k, v| [k, describe(v)] }
    assert_equal want["block_children"], describe(m.blocks[0].children)
    assert_equal want["seq_leaf_modules"], describe(m.seq.leaf_modules)
    assert_equal(want["named_modules"].map(&:first), [].tap { |paths| m.apply_to_modules { |k, _| paths << k } })
    assert_equal m.named_modules.map(&:last), m.modules
  end

  def test_freeze_and_unfreeze_sequences
    cases("freeze").each do |c|
      m = Model.new
      if c["error"]
        assert_raises(KeyError, c["code"]) { snippet(c["code"]).call(m) }
      else
        snippet(c["code"]).call(m)
        assert_equal c["trainable"], MLX::Utils.tree_flatten(m.trainable_parameters).map(&:first), c["code"]
      end
    end
  end

  def test_update_modules
    cases("update_modules").each do |c|
      m = Model.new
      if c["error"]
        assert_raises(ArgumentError, c["code"]) { snippet(c["code"]).call(m) }
      else
        assert_same m, snippet(c["code"]).call(m), c["code"]
        assert_equal c["named_modules"], m.named_modules.map { |k, v| [k, describe(v)] }, c["code"]
        assert_equal c["parameters"], describe(m.parameters), c["code"]
      end
    end
  end

  # quantize swaps leaf modules through update_modules(leaf_modules-shaped
  # tree), whose {} placeholders for plain arrays must pass.
  def test_quantize_nested_model
    m = NN::Module.new
    m.extra = { "w" => MX.zeros([2]), "list" => [MX.ones([1])] }
    m.lins = [NN::Linear.new(64, 4), NN::ReLU.new, { "out" => NN::Linear.new(64, 2, bias: false) }]
    m.embed = NN::Embedding.new(6, 64)
    assert_same m, NN.quantize(m, class_predicate: ->(_p, mod) { mod.is_a?(NN::Linear) })
    kinds = m.named_modules.to_h { |k, v| [k, v.class.name.split("::").last] }
    assert_equal({ "" => "Module", "embed" => "Embedding", "lins.2.out" => "QuantizedLinear", "lins.1" => "ReLU",
                   "lins.0" => "QuantizedLinear" }, kinds)
    assert_equal [2], m.extra["w"].shape
    NN.quantize(m, group_size: 32, bits: 8)
    assert_kind_of NN::QuantizedEmbedding, m.embed
  end

  def test_set_dtype
    cases("set_dtype").each do |c|
      m = Model.new
      assert_same m, snippet(c["code"]).call(m)
      assert_equal c["parameters"], describe(m.parameters), c["code"]
    end
  end

  def test_apply_to_modules_block_and_apply_filter
    m = Model.new
    seen = []
    assert_same m, m.apply_to_modules { |path, mod| seen << path if mod.is_a?(NN::Linear) }
    assert_equal %w[seq.layers.0 heads.b.0 heads.a blocks.1.lin blocks.0.lin], seen
    fn = ->(path, mod) { mod.freeze if path.start_with?("blocks.") && mod.is_a?(NN::LayerNorm) }
    m.apply_to_modules(fn)
    refute(MLX::Utils.tree_flatten(m.trainable_parameters).any? { |k, _| k.include?("norm") })
    # (A filter dropping entries of a Hash parameter would leave {} there,
    # which a strict update rejects, as upstream.)
    m.apply(->(x) { MX.zeros_like(x) }, ->(_m, k, v) { k == "scale" || (!v.is_a?(MX::Array) && k != "extra") })
    assert_equal [0.0] * 4, m.blocks[1].scale.to_a
    refute_equal [0.0] * 4, m.blocks[1].lin.bias.to_a
  end

  def test_load_weights_from_pairs
    m = Model.new
    src = Model.new
    pairs = MLX::Utils.tree_flatten(src.parameters)
    assert_same m, m.load_weights(pairs)
    assert_equal src.blocks[1].lin.weight.to_a, m.blocks[1].lin.weight.to_a
    assert_equal src.extra["list"][1].to_a, m.extra["list"][1].to_a
    m.load_weights([["heads.b.0.bias", MX.full([1], 3.0)], ["extra.list.1", MX.ones([3])]], strict: false)
    assert_equal [3.0], m.heads["b"][0].bias.to_a
    assert_equal [1.0, 1.0, 1.0], m.extra["list"][1].to_a
    # strict: missing, extra and mis-shaped entries.
    assert_raises(ArgumentError) { m.load_weights(pairs[1..]) }
    assert_raises(ArgumentError) { m.load_weights(pairs + [["nope", MX.zeros([1])]]) }
    bad = pairs.map { |k, v| k == "embed.weight" ? [k, MX.zeros([5, 4])] : [k, v] }
    err = assert_raises(ArgumentError) { m.load_weights(bad) }
    assert_match(/embed\.weight/, err.message)
    # Symbol keys and a Hash work too.
    m.load_weights(pairs.to_h { |k, v| [k.to_sym, v] })
    assert_raises(TypeError) { m.load_weights(42) }
  end

  def test_init_values_match_python
    cases("init").each do |c|
      MX.random_seed(1234)
      init = Snippets.module_eval(c["code"], __FILE__, __LINE__)
      kwargs = c["kwargs"].to_h { |k, v| [k.to_sym, v] }
      out = init.call(MX.zeros(c["shape"]), **kwargs)
      tol = c["code"].start_with?("orthogonal") ? [1e-4, 1e-5] : nil
      assert_array_matches(resolve(FIX, c["out"]), out, "#{c['code']} #{c['shape']} #{c['kwargs']}", tol: tol)
    end
  end

  def test_init_statistics
    MX.random_seed(11)
    a = MX.zeros([200, 300])
    g = NN::Init.glorot_uniform.call(a)
    limit = Math.sqrt(6.0 / 500)
    assert_operator MX.max(MX.abs(g)).item, :<=, limit
    assert_in_delta limit**2 / 3, MX.var(g).item, 0.05 * limit**2 / 3
    h = NN::Init.he_normal(dtype: MX.float16).call(a, mode: "fan_out")
    assert_equal MX.float16, h.dtype
    assert_in_delta 1.0 / 200, MX.var(MX.astype(h, MX.float32)).item, 0.05 / 200
    n = NN::Init.normal(mean: 2.0, std: 0.5).call(a)
    assert_in_delta 2.0, MX.mean(n).item, 0.01
    assert_in_delta 0.5, Math.sqrt(MX.var(n).item), 0.01
    u = NN::Init.uniform(low: -1.0, high: 3.0, dtype: MX.bfloat16).call(a)
    assert_equal MX.bfloat16, u.dtype
    assert_operator MX.min(u).item, :>=, -1.0
    assert_operator MX.max(u).item, :<=, 3.0
    assert_equal [[1.0, 0.0], [0.0, 1.0]], NN::Init.identity.call(MX.zeros([2, 2])).to_a
    assert_equal [300, 200], NN::Init.calculate_fan_in_fan_out(a)
    assert_equal [3 * 5 * 7, 2 * 5 * 7], NN::Init.calculate_fan_in_fan_out(MX.zeros([2, 5, 7, 3]))
  end

  def test_sparse_zero_counts
    MX.random_seed(12)
    [[0.0, 0], [0.1, 3], [0.5, 13], [0.99, 25]].each do |sparsity, zeros|
      s = NN::Init.sparse(sparsity: sparsity, std: 1.0).call(MX.zeros([40, 25]))
      per_row = MX.sum(MX.equal(s, 0), 1).to_a
      assert_equal [zeros] * 40, per_row, "sparsity #{sparsity}"
    end
    s = NN::Init.sparse(sparsity: 0.5, dtype: MX.float16).call(MX.zeros([3, 4]))
    assert_equal MX.float16, s.dtype
    # Rows pick their zero columns independently.
    s = NN::Init.sparse(sparsity: 0.5).call(MX.zeros([30, 10]))
    assert_operator MX.equal(s, 0).to_a.uniq.size, :>, 1
  end

  def test_orthogonal_is_orthonormal
    MX.random_seed(13)
    [[5, 5], [3, 8], [8, 3]].each do |rows, cols|
      q = NN::Init.orthogonal(gain: 1.5).call(MX.zeros([rows, cols]))
      assert_equal [rows, cols], q.shape
      gram = rows <= cols ? MX.matmul(q, MX.transpose(q)) : MX.matmul(MX.transpose(q), q)
      eye = MX.multiply(MX.eye(gram.shape[0]), 1.5**2)
      assert MX.allclose(gram, eye, 1e-4, 1e-4), "#{rows}x#{cols}"
    end
    assert_equal MX.float16, NN::Init.orthogonal(dtype: MX.float16).call(MX.zeros([2, 2])).dtype
  end

  def test_init_errors
    assert_raises(ArgumentError) { NN::Init.identity.call(MX.zeros([2, 3])) }
    assert_raises(ArgumentError) { NN::Init.glorot_normal.call(MX.zeros([3])) }
    assert_raises(ArgumentError) { NN::Init.he_uniform.call(MX.zeros([3, 3]), mode: "fan_avg") }
    assert_raises(ArgumentError) { NN::Init.sparse.call(MX.zeros([2, 2, 2])) }
    assert_raises(ArgumentError) { NN::Init.orthogonal.call(MX.zeros([4])) }
    assert_respond_to NN, :glorot_uniform
  end
end
