/* Ruby glue of the engine's fft ops (positional MLX::Native functions). */
#include "mlx_ext.h"

void mlxrb_init_ops_fft(void) {}
