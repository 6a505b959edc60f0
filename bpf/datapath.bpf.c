// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* datapath.bpf.c - entry points only: sl_from_pod (host veth tc ingress), sl_to_pod (egress). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"

SEC("tc")
int sl_from_pod(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int sl_to_pod(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
