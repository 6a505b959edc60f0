/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sysctl.h - the node's kernel settings the datapath needs, in the agent's network namespace. */
#ifndef SL_AGENT_SYSCTL_H
#define SL_AGENT_SYSCTL_H

/* net.ipv4.ip_forward=1 (routing between pods and off the node). 0 or -errno (logged). */
int sl_sysctl_apply(void);
/* Write value to /proc/sys/<key with '.' as '/'>. 0 or -errno (logged). */
int sl_sysctl_set(const char *key, const char *value);

#endif
