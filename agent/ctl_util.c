// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_util.c - sluicectl's plumbing: command tables and options, errors, output in text/JSON/
 * YAML, and the call to the agent's socket.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_proto.h"
#include "ctl.h"

#define CALL_TIMEOUT_MS 5000

enum { OPT_BPFFS = 1000, OPT_STATE_DIR, OPT_ALL };

/* "sluicectl WHAT: message" on stderr. */
static void say(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "sluicectl%s%s: ", what[0] ? " " : "", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int ctl_usage(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(what, fmt, ap);
	va_end(ap);
	return CTL_USAGE;
}

int ctl_fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(what, fmt, ap);
	va_end(ap);
	return CTL_FAIL;
}

void ctl_print_cmds(FILE *f, const char *prefix, const struct ctl_cmd *cmds)
{
	char head[96];

	for (const struct ctl_cmd *c = cmds; c->name; c++) {
		snprintf(head, sizeof(head), "%s%s%s%s", prefix, c->name, c->usage[0] ? " " : "",
			 c->usage);
		fprintf(f, "  %-40s %s\n", head, c->help);
	}
}

int ctl_dispatch(const struct ctl_cmd *cmds, const char *what, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "sluicectl %s: missing command; one of:\n", what);
		ctl_print_cmds(stderr, "", cmds);
		return CTL_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("Usage: sluicectl %s COMMAND\n\nCommands:\n", what);
		ctl_print_cmds(stdout, "", cmds);
		return CTL_OK;
	}
	for (const struct ctl_cmd *c = cmds; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	return ctl_usage(what, "'%s': unknown command (see --help)", argv[1]);
}

int ctl_global_opt(int opt, const char *arg)
{
	switch (opt) {
	case OPT_BPFFS:
	case OPT_STATE_DIR:
		if (arg[0] != '/' || strlen(arg) >= PATH_MAX - 64)
			return ctl_usage("", "--%s: '%s' must be an absolute path",
					 opt == OPT_BPFFS ? "bpffs" : "state-dir", arg);
		strcpy(opt == OPT_BPFFS ? ctl.bpffs : ctl.state_dir, arg);
		return 0;
	case 'o':
		if (!strcmp(arg, "json"))
			ctl.fmt = CTL_JSON;
		else if (!strcmp(arg, "yaml"))
			ctl.fmt = CTL_YAML;
		else if (!strcmp(arg, "text"))
			ctl.fmt = CTL_TEXT;
		else
			return ctl_usage("", "-o: '%s' is not text, json or yaml", arg);
		return 0;
	case OPT_ALL:
		ctl.all = true;
		return 0;
	default:
		return 1;
	}
}

static const struct option global_lo[] = {
    {"bpffs", required_argument, NULL, OPT_BPFFS},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"output", required_argument, NULL, 'o'},
    {"all", no_argument, NULL, OPT_ALL},
    {"help", no_argument, NULL, 'h'},
};
#define N_GLOBAL (sizeof(global_lo) / sizeof(global_lo[0]))

int ctl_getopt(int argc, char **argv, const char *what, const char *usage, const char *shortopts,
	       const struct option *lo, int (*cb)(int opt, const char *arg, void *ctx), void *ctx,
	       char ***pos, int *npos)
{
	struct option all[64];
	char so[64];
	size_t n = 0;
	int o, r;

	for (; lo && lo[n].name && n < 64 - N_GLOBAL - 1; n++)
		all[n] = lo[n];
	memcpy(all + n, global_lo, sizeof(global_lo));
	memset(all + n + N_GLOBAL, 0, sizeof(all[0]));
	snprintf(so, sizeof(so), ":ho:%s", shortopts ? shortopts : "");
	optind = 0; /* glibc: re-initialise */
	opterr = 0;
	while ((o = getopt_long(argc, argv, so, all, NULL)) != -1) {
		if (o == 'h') {
			printf("Usage: sluicectl %s %s\n", what, usage);
			return -1;
		}
		if (o == ':')
			return ctl_usage(what, "%s: missing value", argv[optind - 1]);
		if (o == '?')
			return ctl_usage(what, "%s: unknown option (see --help)", argv[optind - 1]);
		r = ctl_global_opt(o, optarg);
		if (r == 1)
			r = cb ? cb(o, optarg, ctx) : ctl_usage(what, "unexpected option");
		if (r)
			return r;
	}
	*pos = argv + optind;
	*npos = argc - optind;
	return 0;
}

/* ------------------------------------------------------------------ output */

bool ctl_machine(void)
{
	return ctl.fmt != CTL_TEXT;
}

const char *ctl_col(const char *code)
{
	return ctl.color && ctl.fmt == CTL_TEXT ? code : "";
}

static void y_pad(FILE *f, int n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static bool y_scalar(const cJSON *v)
{
	return !(cJSON_IsObject(v) || cJSON_IsArray(v)) || !v->child;
}

static void y_string(FILE *f, const char *s)
{
	/* A JSON string is a valid YAML double-quoted scalar. */
	cJSON *tmp = cJSON_CreateString(s);
	char *out = tmp ? cJSON_PrintUnformatted(tmp) : NULL;

	fputs(out ? out : "\"\"", f);
	free(out);
	cJSON_Delete(tmp);
}

static void y_key(FILE *f, const char *k)
{
	bool plain = k[0] && !strchr("-?:,[]{}#&*!|>'\"%@` ", k[0]);

	for (const char *c = k; plain && *c; c++)
		plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || strchr("_./-", *c);
	if (plain)
		fputs(k, f);
	else
		y_string(f, k);
}

static void y_value(FILE *f, const cJSON *v)
{
	if (cJSON_IsObject(v))
		fputs("{}", f);
	else if (cJSON_IsArray(v))
		fputs("[]", f);
	else if (cJSON_IsString(v))
		y_string(f, v->valuestring);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	else if (cJSON_IsNull(v))
		fputs("null", f);
	else if (v->valuedouble == (double)(long long)v->valuedouble)
		fprintf(f, "%lld", (long long)v->valuedouble);
	else
		fprintf(f, "%.17g", v->valuedouble);
}

/* A non-empty container whose first line starts at the current position, at indent ind. */
static void y_node(FILE *f, const cJSON *v, int ind)
{
	bool first = true;

	for (const cJSON *c = v->child; c; c = c->next, first = false) {
		if (!first)
			y_pad(f, ind);
		if (cJSON_IsObject(v)) {
			y_key(f, c->string);
			fputc(':', f);
			if (y_scalar(c)) {
				fputc(' ', f);
				y_value(f, c);
				fputc('\n', f);
			} else {
				fputc('\n', f);
				y_pad(f, ind + 2);
				y_node(f, c, ind + 2);
			}
		} else {
			fputs("- ", f);
			if (y_scalar(c)) {
				y_value(f, c);
				fputc('\n', f);
			} else {
				y_node(f, c, ind + 2);
			}
		}
	}
}

void ctl_yaml(FILE *f, const cJSON *doc)
{
	if (y_scalar(doc)) {
		y_value(f, doc);
		fputc('\n', f);
	} else {
		y_node(f, doc, 0);
	}
}

void ctl_emit(const cJSON *doc)
{
	char *s;

	if (ctl.fmt == CTL_YAML) {
		ctl_yaml(stdout, doc);
		return;
	}
	s = cJSON_Print(doc);
	if (s)
		puts(s);
	free(s);
}

static const char *const *sort_keys;

static int item_cmp(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;

	for (const char *const *k = sort_keys; *k; k++) {
		const cJSON *va = cJSON_GetObjectItem(a, *k), *vb = cJSON_GetObjectItem(b, *k);
		int c;

		if (cJSON_IsNumber(va) && cJSON_IsNumber(vb))
			c = (va->valuedouble > vb->valuedouble) -
			    (va->valuedouble < vb->valuedouble);
		else
			c = strcmp(cJSON_GetStringValue(va) ?: "", cJSON_GetStringValue(vb) ?: "");
		if (c)
			return c;
	}
	return 0;
}

void ctl_sort(cJSON *arr, const char *const *keys)
{
	int n = cJSON_GetArraySize(arr), i = 0;
	cJSON **v, *c;

	if (n < 2 || !(v = calloc((size_t)n, sizeof(*v))))
		return;
	while ((c = cJSON_DetachItemFromArray(arr, 0)))
		v[i++] = c;
	sort_keys = keys;
	qsort(v, (size_t)i, sizeof(*v), item_cmp);
	for (int j = 0; j < i; j++)
		cJSON_AddItemToArray(arr, v[j]);
	free(v);
}

/* ------------------------------------------------------------------ the agent */

void ctl_sock_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", ctl.state_dir, SL_AGENT_SOCK_NAME);
}

cJSON *ctl_req(const char *op)
{
	cJSON *r = cJSON_CreateObject();

	if (r && !cJSON_AddStringToObject(r, "op", op)) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

int ctl_call(cJSON *req, cJSON **resp)
{
	char path[PATH_MAX];
	int err;

	*resp = NULL;
	if (!req)
		return -ENOMEM;
	ctl_sock_path(path, sizeof(path));
	err = sl_agent_call(path, req, resp, CALL_TIMEOUT_MS);
	cJSON_Delete(req);
	return err;
}

void ctl_pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/v%d/%s", ctl.bpffs, SL_ABI_VERSION, name);
}
