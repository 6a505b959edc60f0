/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * agent_proto.h - the agent's local API on its Unix socket (<state-dir>/agent.sock, mode 0600).
 *
 * One request per connection: the client writes one JSON object followed by '\n' and reads
 * one JSON object followed by '\n'; then both close. Every response has "ok" (bool); on
 * failure also "code" (a CNI error code: 11 = try again later, 7 = invalid, 100+ ours) and
 * "error" (a message naming what was wrong).
 *
 *   {"op":"status"}
 *     -> {"ok":true,"ready":bool,"node":"...","mode":"standalone|kubernetes","abi":1,
 *         "bpffs":"<pin dir>","endpoints":N,"version":"..."}
 *        Kubernetes mode adds "synced": bool (every informer listed and the result applied),
 *        "errors": [strings] (invalid policies, capacity overflows: the compiler's
 *        sl_policy_error lines), "digest": 16 lowercase hex digits = the sum modulo 2^64,
 *        over every object in the agent's caches of the four kinds, of FNV-1a-64 of
 *        "<kind>/<namespace>/<name>/<resourceVersion>" (kind: pods, namespaces,
 *        networkpolicies, nodes; namespace "" for namespaces and nodes), computed only over
 *        state whose delta is applied to the maps ("" before the first sync).
 *   {"op":"endpoint_add","containerID","ifname","netns","namespace","pod","podUID",
 *    "ip":"a.b.c.d","hostIfname","hostIfindex":N,"podMac":"aa:..","hostMac":"aa:.."}
 *     -> {"ok":true,"endpoint":{...}}   only once the endpoint and its policy are in the maps.
 *        Re-adding the same containerID+ifname with the same data is idempotent.
 *   {"op":"endpoint_del","containerID","ifname"}
 *     -> {"ok":true}                     idempotent: ok when there is no such endpoint
 *   {"op":"endpoint_get","containerID","ifname"}
 *     -> {"ok":true,"endpoint":{...}} or {"ok":false,"code":404,"error":"no such endpoint"}
 *   {"op":"endpoint_list"}
 *     -> {"ok":true,"endpoints":[{...},...]}
 *
 *   {"op":"names","identities":[N,...],"rules":[N,...],"sets":[N,...]}   (sluicectl)
 *     -> {"ok":true,"identities":{"N":{"namespace","labels":{k:v}}},
 *         "rules":{"N":{"namespace","policy","direction":"ingress|egress","index"}},
 *         "sets":{"N":{"direction","policies":["ns/name",...]}}}
 *        Names from the compiler model of the ids asked for (unknown ids are left out);
 *        at most 100000 ids per array. Code 404 when the mode has no model (standalone),
 *        11 when the model is busy or not synced yet.
 *   {"op":"explain","src":"a.b.c.d","dst":"a.b.c.d","proto":N,"port":N}   (sluicectl)
 *     -> {"ok":true,"directions":[{"direction":"egress|ingress","pod":"ns/name",
 *         "modelEndpoint":bool,"reason":"fwd_policy|drop_policy|...","verdict":"allow|deny",
 *         "rule":N,"policySet":N,"peerIdentity":N}]}
 *        The verdict of the compiler model's own entries (sl_policy_snapshot), looked up as
 *        the datapath does, for each end that is an endpoint of this node (src: egress,
 *        dst: ingress). Codes as for names.
 *
 * An endpoint object: {"id","containerID","ifname","netns","namespace","pod","podUID","ip",
 * "hostIfname","hostIfindex","podMac","hostMac","state"}.
 *
 * endpoint_add's fields: containerID (CNI rules: alphanumerics then also _.-), ifname and
 * hostIfname (kernel interface names), netns (absolute path), ip (IPv4 in the node's pod
 * CIDR), hostIfindex (must exist in the agent's netns with the name hostIfname), podMac and
 * hostMac (unicast aa:bb:cc:dd:ee:ff; hostMac must be hostIfname's address) are required;
 * namespace, pod, podUID are optional strings. Re-adding the same containerID+ifname with
 * other data replaces the endpoint (same id). An ip held by another endpoint whose host veth
 * still exists is refused (code 7, "ip: ..."); if that veth is gone, the stale one is dropped.
 * Endpoint ids are assigned by the agent, start at 1 and are never reused.
 * The "state" of an endpoint is "ready" once its entry is in the maps.
 */
#ifndef SL_AGENT_PROTO_H
#define SL_AGENT_PROTO_H

#include <cjson/cJSON.h>

#define SL_AGENT_SOCK_NAME     "agent.sock"
#define SL_AGENT_MAX_MSG       (1 << 20) /* one request or response, bytes */
#define SL_AGENT_CODE_NOTFOUND 404
/* Codes the agent answers with (beside 404): */
#define SL_AGENT_CODE_INVALID  7   /* a field is wrong; "error" starts with its name */
#define SL_AGENT_CODE_TRYAGAIN 11  /* not ready yet, or too many clients at once */
#define SL_AGENT_CODE_INTERNAL 500 /* the agent failed (map or state write); retry may work */

/*
 * sl_agent_call - send one request to the agent at sock_path and wait for its answer.
 * @timeout_ms bounds connect + write + read. On success *resp holds the parsed response
 * (caller frees with cJSON_Delete); "ok" may still be false. Returns 0, -ENOENT/-ECONNREFUSED
 * when no agent listens, -ETIMEDOUT, -EPROTO on a malformed answer, or another -errno.
 */
int sl_agent_call(const char *sock_path, const cJSON *req, cJSON **resp, int timeout_ms);

/* Read one '\n'-terminated message of at most SL_AGENT_MAX_MSG bytes from fd before the
 * deadline (CLOCK_MONOTONIC ms); returns a malloc'd NUL-terminated string or NULL with errno. */
char *sl_proto_read_line(int fd, long long deadline_ms);
/* Write all of buf then '\n' before the deadline; 0 or -errno. */
int sl_proto_write_line(int fd, const char *buf, long long deadline_ms);
long long sl_now_ms(void);

#endif
