/* The one place where an ecs_code becomes an errno (DESIGN §4). */
#ifndef FS_ERRMAP_H
#define FS_ERRMAP_H

#include "ecs/err.h"

/* The positive errno of a failure with code; ECS_OK (a failure that said nothing) is EIO. */
int fs_errno(enum ecs_code code);

#endif
