/* The table of primitives by name, filled at load time by MLX_REGISTER_PRIM
 * constructors in each op family, so that a graph read from a file
 * (.mlxfn) can find the primitive each op names. */
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define MLX_MAX_PRIMS 1024

static const mlx_prim_* registry[MLX_MAX_PRIMS];
static int nregistered;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

void mlx_prim_register_(const mlx_prim_* p) {
  pthread_mutex_lock(&registry_lock);
  if (nregistered < MLX_MAX_PRIMS) registry[nregistered++] = p;
  pthread_mutex_unlock(&registry_lock);
}

const mlx_prim_* mlx_prim_find_(const char* name) {
  const mlx_prim_* found = NULL;
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < nregistered && !found; i++)
    if (strcmp(registry[i]->name, name) == 0) found = registry[i];
  pthread_mutex_unlock(&registry_lock);
  return found;
}

int mlx_prim_count_(void) {
  pthread_mutex_lock(&registry_lock);
  int n = nregistered;
  pthread_mutex_unlock(&registry_lock);
  return n;
}

const mlx_prim_* mlx_prim_at_(int i) {
  pthread_mutex_lock(&registry_lock);
  const mlx_prim_* p = i >= 0 && i < nregistered ? registry[i] : NULL;
  pthread_mutex_unlock(&registry_lock);
  return p;
}
