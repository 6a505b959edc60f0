/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * state.h - local endpoints as records: their JSON form (the API's endpoint object and the
 * state file's entries), syntactic validation, the table, and <state-dir>/endpoints.json.
 */
#ifndef SL_AGENT_STATE_H
#define SL_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define SL_STATE_FILE	   "endpoints.json"
#define SL_STATE_VERSION   1
#define SL_STATE_MAX_BYTES (64u << 20)

struct sl_ep {
	uint32_t id;
	char *container_id;
	char *ifname;
	char *netns;
	char *k8s_namespace; /* "" when unknown (standalone) */
	char *pod;
	char *pod_uid;
	char *host_ifname;
	uint32_t ip; /* network byte order */
	int host_ifindex;
	uint8_t pod_mac[6];
	uint8_t host_mac[6];
};

struct sl_ep_table {
	struct sl_ep **v;
	size_t n, cap;
	uint32_t next_id; /* ids are never reused while the state lives */
};

/*
 * sl_ep_from_json - parse and syntactically validate an endpoint object (an endpoint_add
 * request, or a state entry when with_id). On failure returns -EINVAL and writes the message
 * in err, starting with the offending field's name ("ip: ..."). ep is then empty.
 */
int sl_ep_from_json(const cJSON *o, bool with_id, struct sl_ep *ep, char *err, size_t errlen);
cJSON *sl_ep_to_json(const struct sl_ep *ep, const char *state);
void sl_ep_clear(struct sl_ep *ep);
void sl_ep_free(struct sl_ep *ep);
/* Same identity and data (id excluded). */
bool sl_ep_equal(const struct sl_ep *a, const struct sl_ep *b);

/* Validators of single fields, shared with the API's del/get (0 or -EINVAL). */
int sl_valid_container_id(const char *s);
int sl_valid_ifname(const char *s);
/* Kubernetes names: an RFC 1123 label (namespaces), or subdomain (pods) when subdomain. */
bool sl_valid_dns_name(const char *s, bool subdomain);
int sl_parse_mac(const char *s, uint8_t mac[6]);
void sl_format_mac(const uint8_t mac[6], char out[18]);

int sl_ep_table_add(struct sl_ep_table *t, struct sl_ep *ep); /* takes ownership; -ENOMEM */
struct sl_ep *sl_ep_table_find(const struct sl_ep_table *t, const char *container_id,
			       const char *ifname, size_t *idx);
struct sl_ep *sl_ep_table_find_ip(const struct sl_ep_table *t, uint32_t ip, size_t *idx);
void sl_ep_table_remove(struct sl_ep_table *t, size_t idx); /* frees the entry */
void sl_ep_table_free(struct sl_ep_table *t);

/* {"version":1,"nextId":N,"endpoints":[...]} */
cJSON *sl_state_to_json(const struct sl_ep_table *t);
int sl_state_from_json(const cJSON *o, struct sl_ep_table *t, char *err, size_t errlen);
/* Atomic replace of path. 0 or -errno (logged). */
int sl_state_save(const char *path, const struct sl_ep_table *t);
/* A missing file is an empty table. -EINVAL with err on a corrupt file; other -errno. */
int sl_state_load(const char *path, struct sl_ep_table *t, char *err, size_t errlen);

#endif
