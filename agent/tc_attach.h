/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* tc_attach.h - attach a program to a link's clsact hook with replace semantics. */
#ifndef SL_AGENT_TC_ATTACH_H
#define SL_AGENT_TC_ATTACH_H

#include <bpf/libbpf.h>

/*
 * sl_tc_attach - attach prog_fd at ifindex's tc ingress or egress as filter
 * (SL_TC_HANDLE, SL_TC_PRIO), replacing our previous filter atomically (no packet sees the
 * hook empty). Creates the clsact qdisc when missing. Idempotent; 0 or -errno (logged).
 */
int sl_tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd);
/* The id of the program in our filter there, 0 when none; or -errno. */
int sl_tc_query(int ifindex, enum bpf_tc_attach_point where, __u32 *prog_id);

#endif
