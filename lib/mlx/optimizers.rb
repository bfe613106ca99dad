# frozen_string_literal: true

# MLX::Optimizers: optimizers, learning-rate schedules and gradient clipping.
require_relative "optimizers/optimizer"
require_relative "optimizers/optimizers"
require_relative "optimizers/adafactor_muon"
require_relative "optimizers/schedulers"
require_relative "optimizers/state_file"
