/* Client error reports (see err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int smc_fail(struct smc_err *e, int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->exit_code = exit_code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

int smc_fail_prefix(struct smc_err *e, const char *fmt, ...)
{
	char ctx[256], old[sizeof e->message];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	memcpy(old, e->message, sizeof old);
	old[sizeof old - 1] = '\0';
	{
		size_t a = strlen(ctx), b = strlen(old), cap = sizeof e->message - 1;

		if (a > cap)
			a = cap;
		memcpy(e->message, ctx, a);
		if (a + 2 <= cap) {
			memcpy(e->message + a, ": ", 2);
			a += 2;
		}
		if (b > cap - a)
			b = cap - a;
		memcpy(e->message + a, old, b);
		e->message[a + b] = '\0';
	}
	return -1;
}

int smc_fail_lib(struct smc_err *e, int exit_code,
		 const struct smimp_error *le, const char *context)
{
	if (le->code == SMIMP_ERR_PIN_MISMATCH)
		exit_code = SMC_EXIT_PIN;
	if (context != NULL)
		return smc_fail(e, exit_code, "%s: %s", context, le->message);
	return smc_fail(e, exit_code, "%s", le->message);
}
