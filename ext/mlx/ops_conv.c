/* Ruby glue of the engine's conv ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_conv(void) {}
