// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* errors.c - CNI error values: filling them where the context is, printing them as JSON. */
#include <stdarg.h>
#include <string.h>

#include "cni.h"

int cni_err(struct cni_error *e, int err, int code, const char *fmt, ...)
{
	va_list ap;

	if (e->code) /* the first (innermost) error is the precise one */
		return err;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err; /* logged once, by sl_cni_run, with the command's context */
}

void cni_err_details(struct cni_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

void cni_err_print(FILE *out, const char *cni_version, const struct cni_error *e)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "cniVersion", cni_version ? cni_version : SL_CNI_VERSION_MAX);
	cJSON_AddNumberToObject(o, "code", e->code ? e->code : SL_ERR_INTERNAL);
	cJSON_AddStringToObject(o, "msg", e->msg[0] ? e->msg : "internal error");
	if (e->details[0])
		cJSON_AddStringToObject(o, "details", e->details);
	s = cJSON_Print(o);
	if (s)
		fprintf(out, "%s\n", s);
	fflush(out);
	cJSON_free(s);
	cJSON_Delete(o);
}
