/* The one place where an ecs_code becomes an errno (DESIGN §4). */
#ifndef FS_ERRMAP_H
#define FS_ERRMAP_H

#include "ecs/err.h"

/* A positive errno for code (0 for ECS_OK). */
int fs_errno(enum ecs_code code);

#endif
