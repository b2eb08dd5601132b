/* The Intermediate Processes not built yet (issue 13 lands them one by one): their
 * config keys are refused with a clear reason. */
#include <errno.h>
#include <stdio.h>

#include "mediate_private.h"

static int
not_built(struct med_process *p, const char *text, char *err, size_t errlen)
{
	(void)text;
	snprintf(err, errlen, "the %s process is not in this build yet",
			dpfix_mediate_process_key(p->kind));
	return -EOPNOTSUPP;
}

static void
nothing(struct med_process *p)
{
	(void)p;
}

const struct med_process_ops med_correlate_ops = {.create = not_built, .free = nothing};
