/* Thread-local error status and message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_message[1024];
static _Thread_local int last_code;

const char* mlx_last_error(void) {
  return last_message;
}

int mlx_last_error_code(void) {
  return last_code;
}

void mlx_clear_error(void) {
  last_code = MLX_OK;
  last_message[0] = '\0';
}

int mlx_error_(int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  va_end(ap);
  last_code = code;
  return code;
}
