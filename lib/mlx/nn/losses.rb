# frozen_string_literal: true

module MLX
  module NN
    # Loss functions (Python MLX's nn.losses). reduction: "none", "mean" or
    # "sum" (String or Symbol).
    module Losses
      VALID_REDUCTIONS = %w[none mean sum].freeze

      extend self

      # The loss reduced as asked.
      def reduction(loss, mode)
        case mode.to_s
        when "mean" then Core.mean(loss)
        when "sum" then Core.sum(loss)
        when "none" then loss
        else raise ArgumentError, "Invalid reduction. Must be 'none', 'mean', or 'sum'."
        end
      end

      # shape without axis.
      def drop_dim(shape, axis)
        s = shape.dup
        s.delete_at(axis)
        s
      end

      # cross_entropy(logits, targets, weights: nil, axis: -1,
      # label_smoothing: 0.0, reduction: "none"): targets are class indices
      # (logits' shape without axis) or probabilities (logits' shape).
      def cross_entropy(logits, targets, weights: nil, axis: -1, label_smoothing: 0.0, reduction: "none")
        unless label_smoothing >= 0 && label_smoothing < 1
          raise ArgumentError, "Label smoothing must in [0, 1), got #{label_smoothing}."
        end

        logits = Core::Args.array(logits)
        targets = Core::Args.array(targets)
        as_probs = targets.ndim == logits.ndim
        want = as_probs ? logits.shape : drop_dim(logits.shape, axis)
        if targets.shape != want
          raise ArgumentError, "Targets shape #{targets.shape} does not match logits shape #{logits.shape}."
        end

        score = if as_probs
                  Core.sum(Core.multiply(logits, targets), axis)
                else
                  Core.squeeze(Core.take_along_axis(logits, Core.expand_dims(targets, axis), axis), axis)
                end
        lse = Core.logsumexp(logits, axis)
        loss = if label_smoothing.positive?
                 adjusted = Core.multiply(1 - label_smoothing, score)
                 smoothed = Core.multiply(Core.negative(Core.mean(logits, axis)), label_smoothing)
                 Core.add(Core.subtract(lse, adjusted), smoothed)
               else
                 Core.subtract(lse, score)
               end
        reduction(weighted(loss, weights), reduction)
      end

      # binary_cross_entropy(inputs, targets, weights: nil, with_logits:
      # true, reduction: "mean"); probabilities' logs are clipped at -100.
      def binary_cross_entropy(inputs, targets, weights: nil, with_logits: true, reduction: "mean")
        inputs, targets = same_shape(inputs, targets)
        loss = if with_logits
                 Core.subtract(Core.logaddexp(0.0, inputs), Core.multiply(inputs, targets))
               else
                 log_p = Core.clip(Core.log(inputs), -100, nil)
                 log_q = Core.clip(Core.log(Core.subtract(1, inputs)), -100, nil)
                 Core.negative(Core.add(Core.multiply(targets, log_p), Core.multiply(Core.subtract(1, targets), log_q)))
               end
        reduction(weighted(loss, weights), reduction)
      end

      def l1_loss(predictions, targets, reduction: "mean")
        predictions, targets = same_shape(predictions, targets, "Predictions")
        reduction(Core.abs(Core.subtract(predictions, targets)), reduction)
      end

      def mse_loss(predictions, targets, reduction: "mean")
        predictions, targets = same_shape(predictions, targets, "Predictions")
        reduction(Core.square(Core.subtract(predictions, targets)), reduction)
      end

      def nll_loss(inputs, targets, axis: -1, reduction: "none")
        targets = Core::Args.array(targets)
        picked = Core.take_along_axis(inputs, Core.expand_dims(targets, -1), axis)
        reduction(Core.negative(Core.squeeze(picked, -1)), reduction)
      end

      def gaussian_nll_loss(inputs, targets, vars, full: false, eps: 1e-6, reduction: "mean")
        inputs, targets = same_shape(inputs, targets)
        vars = Core::Args.array(vars)
        if inputs.shape != vars.shape
          raise ArgumentError, "Inputs shape #{inputs.shape} does not match vars shape #{vars.shape}."
        end

        vars = Core.maximum(vars, eps)
        loss = Core.multiply(0.5, Core.add(Core.log(vars), Core.divide(Core.square(Core.subtract(targets, inputs)), vars)))
        loss = Core.add(loss, 0.5 * Math.log(2 * Math::PI)) if full
        reduction(loss, reduction)
      end

      def kl_div_loss(inputs, targets, axis: -1, reduction: "none")
        loss = Core.sum(Core.multiply(Core.exp(targets), Core.subtract(targets, inputs)), axis)
        reduction(loss, reduction)
      end

      def smooth_l1_loss(predictions, targets, beta: 1.0, reduction: "mean")
        predictions, targets = same_shape(predictions, targets, "Predictions")
        diff = Core.abs(Core.subtract(predictions, targets))
        loss = Core.where(Core.less(diff, beta), Core.divide(Core.multiply(0.5, Core.square(diff)), beta),
                          Core.subtract(Core.abs(diff), 0.5 * beta))
        reduction(loss, reduction)
      end

      def triplet_loss(anchors, positives, negatives, axis: -1, p: 2, margin: 1.0, eps: 1e-6, reduction: "none")
        dist = lambda do |other|
          Core.power(Core.add(Core.sum(Core.power(Core.abs(Core.subtract(anchors, other)), p), axis), eps), 1.0 / p)
        end
        loss = Core.maximum(Core.add(Core.subtract(dist.call(positives), dist.call(negatives)), margin), 0)
        reduction(loss, reduction)
      end

      def hinge_loss(inputs, targets, reduction: "none")
        reduction(Core.maximum(Core.subtract(1, Core.multiply(inputs, targets)), 0), reduction)
      end

      def huber_loss(inputs, targets, delta: 1.0, reduction: "none")
        errors = Core.abs(Core.subtract(inputs, targets))
        quadratic = Core.minimum(errors, delta)
        linear = Core.subtract(errors, quadratic)
        loss = Core.add(Core.multiply(0.5, Core.power(quadratic, 2)), Core.multiply(delta, linear))
        reduction(loss, reduction)
      end

      def log_cosh_loss(inputs, targets, reduction: "none")
        errors = Core.subtract(inputs, targets)
        reduction(Core.subtract(Core.logaddexp(errors, Core.negative(errors)), Math.log(2)), reduction)
      end

      def cosine_similarity_loss(x1, x2, axis: 1, eps: 1e-8, reduction: "none")
        n1 = Core.norm(x1, nil, axis)
        n2 = Core.norm(x2, nil, axis)
        loss = Core.divide(Core.sum(Core.multiply(x1, x2), axis), Core.maximum(Core.multiply(n1, n2), eps))
        reduction(loss, reduction)
      end

      def margin_ranking_loss(inputs1, inputs2, targets, margin: 0.0, reduction: "none")
        inputs1 = Core::Args.array(inputs1)
        inputs2 = Core::Args.array(inputs2)
        targets = Core::Args.array(targets)
        unless inputs1.shape == inputs2.shape && inputs1.shape == targets.shape
          raise ArgumentError, "The shapes of the arguments do not match. The provided shapes are inputs1.shape=" \
                               "#{inputs1.shape}, inputs2.shape=#{inputs2.shape}, and targets.shape=#{targets.shape}."
        end

        diff = Core.subtract(inputs1, inputs2)
        reduction(Core.maximum(0, Core.add(Core.multiply(Core.negative(targets), diff), margin)), reduction)
      end

      private

      def same_shape(a, b, what = "Inputs")
        a = Core::Args.array(a)
        b = Core::Args.array(b)
        raise ArgumentError, "#{what} shape #{a.shape} does not match targets shape #{b.shape}." if a.shape != b.shape

        [a, b]
      end

      def weighted(loss, weights)
        return loss if weights.nil?

        weights = Core::Args.array(weights)
        if weights.shape != loss.shape
          raise ArgumentError, "Weights with shape #{weights.shape} is not the same as output loss with shape #{loss.shape}."
        end

        Core.multiply(loss, weights)
      end
    end

    extend Losses
  end
end
