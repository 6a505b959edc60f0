// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* reasons.c - names of the datapath's verdict reasons and directions (sluicectl, metrics). */
#include <stddef.h>

#include "reasons.h"
#include "sl_abi.h"

static const struct {
	const char *name;
	const char *help;
} reasons[__SL_REASON_MAX] = {
    [SL_FWD_STACK] = {"fwd_stack", "passed to the host stack for routing"},
    [SL_FWD_REDIRECT] = {"fwd_redirect", "redirected straight into a local pod"},
    [SL_FWD_ARP] = {"fwd_arp", "ARP passed"},
    [SL_FWD_TO_POD] = {"fwd_to_pod", "delivered into a pod from the host stack"},
    [SL_FWD_REPLY] = {"fwd_reply", "reply of an allowed flow"},
    [SL_FWD_POLICY] = {"fwd_policy", "new flow allowed by a policy rule"},
    [SL_FWD_NO_POLICY] = {"fwd_no_policy", "new flow, no policy selects the pod"},
    [SL_FWD_HOST] = {"fwd_host", "from the node's own addresses"},
    [SL_FWD_FIB] = {"fwd_fib", "sent to the next hop after a FIB lookup"},
    [SL_DROP_TRUNCATED] = {"drop_truncated", "shorter than its headers"},
    [SL_DROP_MALFORMED] = {"drop_malformed", "malformed header"},
    [SL_DROP_SPOOFED_IP] = {"drop_spoofed_ip", "IPv4 source is not the pod's own"},
    [SL_DROP_SPOOFED_ARP] = {"drop_spoofed_arp", "ARP sender is not the pod's own"},
    [SL_DROP_IPV6] = {"drop_ipv6", "IPv6 from a pod"},
    [SL_DROP_UNKNOWN_L3] = {"drop_unknown_l3", "ethertype not IPv4, ARP or IPv6"},
    [SL_DROP_NO_ENDPOINT] = {"drop_no_endpoint", "veth without a registered endpoint"},
    [SL_DROP_REDIRECT] = {"drop_redirect", "redirect into the pod failed"},
    [SL_DROP_FRAGMENT] = {"drop_fragment", "IP fragment that cannot be classified"},
    [SL_DROP_POLICY] = {"drop_policy", "denied by policy (no rule allows it)"},
    [SL_DROP_CT_INVALID] = {"drop_ct_invalid", "invalid for its flow's state"},
    [SL_DROP_POLICY_INVALID] = {"drop_policy_invalid", "pod's policy failed to compile"},
    [SL_DROP_UNKNOWN_L4] = {"drop_unknown_l4", "protocol the pod's policy cannot allow"},
};

const char *sl_reason_name(unsigned int reason)
{
	return reason < __SL_REASON_MAX ? reasons[reason].name : NULL;
}

const char *sl_reason_help(unsigned int reason)
{
	return reason < __SL_REASON_MAX && reasons[reason].help ? reasons[reason].help : "";
}

const char *sl_dir_name(unsigned int dir)
{
	return dir == SL_DIR_EGRESS ? "egress" : dir == SL_DIR_INGRESS ? "ingress" : "?";
}
