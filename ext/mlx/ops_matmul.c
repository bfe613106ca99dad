/* Ruby glue of the engine's matmul ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_matmul(void) {}
