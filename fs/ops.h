/* The FUSE operations of the mount. Include after defining FUSE_USE_VERSION. */
#ifndef FS_OPS_H
#define FS_OPS_H

#include <fuse.h>

extern const struct fuse_operations fs_operations;

#endif
