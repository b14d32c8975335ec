/*
 * core/router.c — the router's shared state and its error helper. The
 * parts that run under ctl_lock live beside it, one file per part.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "event.h"
#include "router.h"

struct fp_router fp_router = { .ctl_lock = PTHREAD_MUTEX_INITIALIZER };

int
fp_err_set(struct fp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}
