// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_config.c - where the API server is and how to authenticate: kubeconfig or in-cluster. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "k8s_internal.h"
#include "log.h"

#define MAX_FILE_BYTES (4u << 20) /* certificates, keys, tokens */

/* Reads a whole file; NUL-terminated (not counted in *len). 0 or -errno. */
int sl_k8s_read_small_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *tmp;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= MAX_FILE_BYTES) {
				err = -EFBIG;
				goto out;
			}
			cap *= 2;
			tmp = realloc(buf, cap);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding; whitespace ignored. 0 or -EINVAL/-ENOMEM. */
static int base64_decode(const char *in, struct sl_k8s_blob *out)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0, bits = 0, pad = 0;
	unsigned char *buf = malloc(n / 4 * 3 + 4);

	if (!buf)
		return -ENOMEM;
	for (const char *p = in; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64val((unsigned char)*p);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || o == 0)
		goto bad;
	out->data = buf;
	out->len = o;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

struct kc {
	const char *path;
	char *dir;
	yaml_document_t doc;
};

static yaml_node_t *ymap_get(struct kc *k, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&k->doc, pair->key);

		if (kn && kn->type == YAML_SCALAR_NODE &&
		    !strcmp((char *)kn->data.scalar.value, key))
			return yaml_document_get_node(&k->doc, pair->value);
	}
	return NULL;
}

/* A scalar's text; NULL if absent; -EINVAL logged when present but not a scalar. */
static int yscalar(struct kc *k, yaml_node_t *map, const char *key, const char *where,
		   const char **out)
{
	yaml_node_t *n = ymap_get(k, map, key);

	*out = NULL;
	if (!n)
		return 0;
	if (n->type != YAML_SCALAR_NODE) {
		pr_err("kubeconfig %s: %s.%s: not a string", k->path, where, key);
		return -EINVAL;
	}
	/* an explicit null or empty value means "not set" */
	if (!n->data.scalar.length || !strcmp((char *)n->data.scalar.value, "null") ||
	    !strcmp((char *)n->data.scalar.value, "~"))
		return 0;
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* The `field` mapping of the element of sequence `list` whose name is `name`. */
static int ynamed(struct kc *k, const char *list, const char *name, const char *field,
		  yaml_node_t **out)
{
	yaml_node_t *seq = ymap_get(k, yaml_document_get_root_node(&k->doc), list);
	yaml_node_item_t *it;

	*out = NULL;
	if (!seq || seq->type != YAML_SEQUENCE_NODE) {
		pr_err("kubeconfig %s: %s: missing (needed for \"%s\")", k->path, list, name);
		return -EINVAL;
	}
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *el = yaml_document_get_node(&k->doc, *it);
		yaml_node_t *nn = ymap_get(k, el, "name");

		if (!nn || nn->type != YAML_SCALAR_NODE ||
		    strcmp((char *)nn->data.scalar.value, name))
			continue;
		*out = ymap_get(k, el, field);
		if (!*out || (*out)->type != YAML_MAPPING_NODE) {
			pr_err("kubeconfig %s: %s[%s].%s: missing or not a mapping", k->path, list,
			       name, field);
			return -EINVAL;
		}
		return 0;
	}
	pr_err("kubeconfig %s: %s: no entry named \"%s\"", k->path, list, name);
	return -EINVAL;
}

/* A path from the kubeconfig, resolved against its directory, checked readable. */
static int kc_path(struct kc *k, const char *where, const char *p, char **out)
{
	char *full;

	if (p[0] == '/')
		full = strdup(p);
	else if (asprintf(&full, "%s/%s", k->dir, p) < 0)
		full = NULL;
	if (!full)
		return -ENOMEM;
	if (access(full, R_OK)) {
		int err = -errno;

		pr_err("kubeconfig %s: %s: %s: %s", k->path, where, full, strerror(-err));
		free(full);
		return err;
	}
	*out = full;
	return 0;
}

static int kc_data(struct kc *k, const char *where, const char *b64, struct sl_k8s_blob *out)
{
	int err = base64_decode(b64, out);

	if (err == -EINVAL) {
		pr_err("kubeconfig %s: %s: not valid base64", k->path, where);
		return err;
	}
	if (!err && !memmem(out->data, out->len, "-----BEGIN ", 11)) {
		pr_err("kubeconfig %s: %s: not base64 of a PEM block", k->path, where);
		free(out->data);
		out->data = NULL;
		out->len = 0;
		return -EINVAL;
	}
	return err;
}

/* Either `key` (a file) or `key-data` (base64 PEM); both is an error. */
static int kc_file_or_data(struct kc *k, yaml_node_t *map, const char *where, const char *key,
			   char **file, struct sl_k8s_blob *data)
{
	char wfile[128], wdata[128], dkey[64];
	const char *f, *d;
	int err;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	snprintf(wfile, sizeof(wfile), "%s.%s", where, key);
	snprintf(wdata, sizeof(wdata), "%s.%s", where, dkey);
	err = yscalar(k, map, key, where, &f);
	if (!err)
		err = yscalar(k, map, dkey, where, &d);
	if (err)
		return err;
	if (f && d) {
		pr_err("kubeconfig %s: %s: both %s and %s are set", k->path, where, key, dkey);
		return -EINVAL;
	}
	if (f)
		return kc_path(k, wfile, f, file);
	if (d)
		return kc_data(k, wdata, d, data);
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off"};

	for (unsigned i = 0; i < 5; i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int kc_cluster(struct kc *k, const char *name, struct sl_k8s_config *cfg)
{
	char where[320];
	const char *server, *insecure;
	yaml_node_t *cl;
	int err;

	err = ynamed(k, "clusters", name, "cluster", &cl);
	if (err)
		return err;
	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	err = yscalar(k, cl, "server", where, &server);
	if (err)
		return err;
	if (!server) {
		pr_err("kubeconfig %s: %s.server: missing", k->path, where);
		return -EINVAL;
	}
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
		pr_err("kubeconfig %s: %s.server: \"%s\" is not an http(s) URL", k->path, where,
		       server);
		return -EINVAL;
	}
	cfg->server = strdup(server);
	if (!cfg->server)
		return -ENOMEM;
	for (size_t n = strlen(cfg->server); n > 8 && cfg->server[n - 1] == '/'; n--)
		cfg->server[n - 1] = '\0';
	err = yscalar(k, cl, "insecure-skip-tls-verify", where, &insecure);
	if (err)
		return err;
	if (insecure && parse_bool(insecure, &cfg->insecure)) {
		pr_err("kubeconfig %s: %s.insecure-skip-tls-verify: \"%s\" is not a boolean",
		       k->path, where, insecure);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 2; i++) {
		static const char *const ignored[] = {"tls-server-name", "proxy-url"};

		if (ymap_get(k, cl, ignored[i]))
			pr_warn("kubeconfig %s: %s.%s: not supported, ignored", k->path, where,
				ignored[i]);
	}
	err = kc_file_or_data(k, cl, where, "certificate-authority", &cfg->ca_file, &cfg->ca_data);
	if (err)
		return err;
	if (cfg->insecure && (cfg->ca_file || cfg->ca_data.data)) {
		pr_err("kubeconfig %s: %s: certificate-authority with insecure-skip-tls-verify is "
		       "not allowed",
		       k->path, where);
		return -EINVAL;
	}
	return 0;
}

static int kc_user(struct kc *k, const char *name, struct sl_k8s_config *cfg)
{
	static const char *const unsupported[] = {"exec", "auth-provider", "username", "password"};
	const char *token, *token_file;
	char where[320], *tf = NULL;
	yaml_node_t *u;
	int err;

	err = ynamed(k, "users", name, "user", &u);
	if (err)
		return err;
	snprintf(where, sizeof(where), "users[%s].user", name);
	for (unsigned i = 0; i < 4; i++) {
		if (ymap_get(k, u, unsupported[i])) {
			pr_err("kubeconfig %s: %s.%s: not supported (use a token, a tokenFile or a "
			       "client certificate)",
			       k->path, where, unsupported[i]);
			return -ENOTSUP;
		}
	}
	err = yscalar(k, u, "token", where, &token);
	if (!err)
		err = yscalar(k, u, "tokenFile", where, &token_file);
	if (err)
		return err;
	if (token_file) {
		char w[340];

		snprintf(w, sizeof(w), "%s.tokenFile", where);
		err = kc_path(k, w, token_file, &tf);
		if (err)
			return err;
	}
	err = sl_k8s_token_init(&cfg->token, token, tf);
	free(tf);
	if (err)
		return err;
	err = kc_file_or_data(k, u, where, "client-certificate", &cfg->cert_file, &cfg->cert_data);
	if (!err)
		err = kc_file_or_data(k, u, where, "client-key", &cfg->key_file, &cfg->key_data);
	if (err)
		return err;
	if (!(cfg->cert_file || cfg->cert_data.data) != !(cfg->key_file || cfg->key_data.data)) {
		pr_err("kubeconfig %s: %s: client-certificate and client-key go together", k->path,
		       where);
		return -EINVAL;
	}
	return 0;
}

static struct sl_k8s_config *config_alloc(const char *source)
{
	struct sl_k8s_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	pthread_mutex_init(&cfg->token.lock, NULL);
	cfg->source = strdup(source);
	if (!cfg->source) {
		sl_k8s_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int sl_k8s_config_from_kubeconfig(const char *path, const char *context, struct sl_k8s_config **out)
{
	const char *cluster = NULL, *user = NULL;
	struct sl_k8s_config *cfg = NULL;
	struct kc k = {.path = path};
	yaml_parser_t parser;
	bool have_doc = false;
	char src[4200], where[300];
	yaml_node_t *root, *ctx;
	FILE *f;
	int err;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		pr_err("kubeconfig %s: open: %s", path, strerror(-err));
		return err;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &k.doc)) {
		pr_err("kubeconfig %s: line %zu: %s", path, parser.problem_mark.line + 1,
		       parser.problem ? parser.problem : "invalid YAML");
		err = -EINVAL;
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&k.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		pr_err("kubeconfig %s: empty or not a mapping", path);
		err = -EINVAL;
		goto out;
	}
	k.dir = strdup(path);
	if (!k.dir) {
		err = -ENOMEM;
		goto out;
	}
	if (strrchr(k.dir, '/'))
		*strrchr(k.dir, '/') = '\0';
	else
		strcpy(k.dir, ".");
	if (k.dir[0] == '\0')
		strcpy(k.dir, "/");
	if (!context) {
		err = yscalar(&k, root, "current-context", "(top)", &context);
		if (err)
			goto out;
		if (!context) {
			pr_err("kubeconfig %s: current-context: missing", path);
			err = -EINVAL;
			goto out;
		}
	}
	err = ynamed(&k, "contexts", context, "context", &ctx);
	if (err)
		goto out;
	snprintf(where, sizeof(where), "contexts[%s].context", context);
	err = yscalar(&k, ctx, "cluster", where, &cluster);
	if (!err)
		err = yscalar(&k, ctx, "user", where, &user);
	if (err)
		goto out;
	if (!cluster) {
		pr_err("kubeconfig %s: %s.cluster: missing", path, where);
		err = -EINVAL;
		goto out;
	}
	snprintf(src, sizeof(src), "kubeconfig %s", path);
	cfg = config_alloc(src);
	if (!cfg) {
		err = -ENOMEM;
		goto out;
	}
	err = kc_cluster(&k, cluster, cfg);
	if (!err && user)
		err = kc_user(&k, user, cfg);
	if (err)
		goto out;
	if (!strncmp(cfg->server, "http://", 7) && cfg->token.value)
		pr_warn("kubeconfig %s: server %s is plain http: the token will not be sent", path,
			cfg->server);
	*out = cfg;
	cfg = NULL;
out:
	sl_k8s_config_free(cfg);
	if (have_doc)
		yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	fclose(f);
	free(k.dir);
	return err;
}

int sl_k8s_config_in_cluster(const char *sa_dir, struct sl_k8s_config **out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *token_file = NULL, *ca = NULL;
	struct sl_k8s_config *cfg = NULL;
	int err;

	*out = NULL;
	if (!host || !*host || !port || !*port)
		return -ENOENT;
	if (!sa_dir)
		sa_dir = SL_K8S_SA_DIR;
	cfg = config_alloc("in-cluster");
	if (!cfg)
		return -ENOMEM;
	if (asprintf(&cfg->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port) < 0 ||
	    asprintf(&token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&ca, "%s/ca.crt", sa_dir) < 0) {
		cfg->server = NULL;
		err = -ENOMEM;
		goto out;
	}
	if (access(ca, R_OK)) {
		err = -errno;
		pr_err("in-cluster config: CA %s: %s", ca, strerror(-err));
		goto out;
	}
	cfg->ca_file = ca;
	ca = NULL;
	err = sl_k8s_token_init(&cfg->token, NULL, token_file);
	if (err)
		goto out;
	*out = cfg;
	cfg = NULL;
out:
	free(token_file);
	free(ca);
	sl_k8s_config_free(cfg);
	return err;
}

int sl_k8s_config_load(const char *kubeconfig, struct sl_k8s_config **out)
{
	if (kubeconfig)
		return sl_k8s_config_from_kubeconfig(kubeconfig, NULL, out);
	return sl_k8s_config_in_cluster(NULL, out);
}

const char *sl_k8s_config_server(const struct sl_k8s_config *cfg)
{
	return cfg->server;
}

void sl_k8s_config_free(struct sl_k8s_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->source);
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->ca_data.data);
	free(cfg->cert_data.data);
	if (cfg->key_data.data) /* private key material */
		explicit_bzero(cfg->key_data.data, cfg->key_data.len);
	free(cfg->key_data.data);
	sl_k8s_token_fini(&cfg->token);
	free(cfg);
}
