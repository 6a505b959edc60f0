// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluicectl.c - the debug CLI's entry point: global options and the top command table
 * (bpftool-style); each command family lives in its own agent/ctl_*.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "flags.h"

struct ctl_opts ctl = {.bpffs = SL_DEFAULT_BPFFS, .state_dir = SL_DEFAULT_STATE_DIR};

static int do_help(int argc, char **argv);

static const struct ctl_cmd top_cmds[] = {
    {"status", ctl_do_status, "", "agent, Kubernetes sync, datapath programs and maps"},
    {"endpoint", ctl_do_endpoint, "list | get NS/POD|IP", "local endpoints (pods of this node)"},
    {"policy", ctl_do_policy, "get NS/POD|IP | --all", "every policy map entry, decoded"},
    {"ct", ctl_do_ct, "list [FILTERS]", "conntrack entries, decoded"},
    {"counters", ctl_do_counters, "", "datapath verdicts by reason and direction"},
    {"monitor", ctl_do_monitor, "[FILTERS]", "live drops and verdicts from the ring buffer"},
    {"explain", ctl_do_explain, "FROM TO PORT[/PROTO]", "the verdict of the live maps, and why"},
    {"matrix", ctl_do_matrix, "[-n NS]... [--port P/PROTO]", "connectivity of local pods"},
    {"help", do_help, "", "this text"},
    {0},
};

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("Usage: sluicectl [OPTIONS] COMMAND [ARGS]\n\n"
	       "Options (accepted before or after the command):\n"
	       "  --bpffs DIR        the agent's --bpffs root (default %s)\n"
	       "  --state-dir DIR    the agent's --state-dir (default %s)\n"
	       "  -o text|json|yaml  output format (default text)\n"
	       "  --all              counters, policy get: include empty rows\n"
	       "  -h, --help         this text; COMMAND --help: the command's usage\n\n"
	       "Commands:\n",
	       SL_DEFAULT_BPFFS, SL_DEFAULT_STATE_DIR);
	ctl_print_cmds(stdout, "", top_cmds);
	printf("  %-40s %s\n", "endpoint list", "local endpoints (from the agent, or the pins)");
	printf(
	    "\nWithout the agent, commands read the pinned maps and the agent's state file; "
	    "names\n(policies, labels) may then be missing, and sluicectl says so.\n"
	    "\nExit status: 0 ok (explain: allowed), 1 failure, 2 bad usage, 3 explain: denied,\n"
	    "4 explain: the live maps and the agent's compiler model disagree.\n");
	return CTL_OK;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"bpffs", required_argument, NULL, 1000}, {"state-dir", required_argument, NULL, 1001},
	    {"output", required_argument, NULL, 'o'}, {"all", no_argument, NULL, 1002},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const char *nc = getenv("NO_COLOR");
	int o, r;

	ctl.color = isatty(STDOUT_FILENO) && !(nc && nc[0]);
	opterr = 0;
	/* '+': stop at the command; its own options are parsed by the command (ctl_getopt),
	 * which accepts the global ones too. */
	while ((o = getopt_long(argc, argv, "+:o:h", lo, NULL)) != -1) {
		switch (o) {
		case 'h':
			return do_help(0, NULL);
		case ':':
			return ctl_usage("", "%s: missing value", argv[optind - 1]);
		case '?':
			return ctl_usage("", "%s: unknown option (see --help)", argv[optind - 1]);
		default:
			r = ctl_global_opt(o, optarg);
			if (r)
				return r;
		}
	}
	if (optind >= argc)
		return ctl_usage("", "missing command (see --help)");
	if (ctl_machine())
		ctl.color = false;
	for (const struct ctl_cmd *c = top_cmds; c->name; c++)
		if (!strcmp(argv[optind], c->name))
			return c->fn(argc - optind, argv + optind);
	return ctl_usage("", "'%s': unknown command (see --help)", argv[optind]);
}
