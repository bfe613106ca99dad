# frozen_string_literal: true

module MLX
  module Core
    module_function
  end
end
