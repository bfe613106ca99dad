/* Ruby glue of the engine's sort ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_sort(void) {}
