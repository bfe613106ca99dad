/* Ruby glue of the engine's quantize ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_quantize(void) {}
