/* ecs_code to errno, as DESIGN §4 maps them. */
#include "fs/errmap.h"

#include <errno.h>

int
fs_errno(enum ecs_code code)
{
	switch (code) {
	case ECS_OK:
		/* A failure that says nothing is an I/O error, never success. */
		break;
	case ECS_E_INVALID:
		return EINVAL;
	case ECS_E_NOTFOUND:
	case ECS_E_NOTACTIVE:
		return ENOENT;
	case ECS_E_ACCESS:
		return EACCES;
	case ECS_E_THROTTLED:
	case ECS_E_BUSY:
		return EAGAIN;
	case ECS_E_TIMEOUT:
		return ETIMEDOUT;
	case ECS_E_CREDS:
		return EACCES;
	case ECS_E_INTERRUPTED:
		return EINTR;
	case ECS_E_RANGE:
		return ERANGE;
	case ECS_E_UNREACHABLE:
	case ECS_E_SERVER:
	case ECS_E_PROTOCOL:
	case ECS_E_AWS:
	case ECS_E_CONFIG:
	case ECS_E_INTERNAL:
		break;
	}
	return EIO;
}
