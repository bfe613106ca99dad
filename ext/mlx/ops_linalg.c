/* Ruby glue of the engine's linalg ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_linalg(void) {}
