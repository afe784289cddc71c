/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kubernetes manifests (YAML 1.1 through libyaml's event API, which also
 * reads JSON, RFC 8259) into the service model.
 *
 * Events are turned into a small node tree per document. Building the tree
 * ourselves, rather than with yaml_parser_load(), lets us refuse anchors and
 * aliases before they expand, bound the nesting depth, and keep the line of
 * every node for messages. A plain scalar is typed the way Kubernetes reads
 * YAML (null, bool, int); a quoted one is always a string.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "edgelb/manifest.h"

enum mnode_type { MN_SCALAR, MN_MAP, MN_SEQ };

struct mnode {
	enum mnode_type type;
	bool plain; /* plain scalar without a tag: may be null, bool or int */
	unsigned line;
	char *str; /* scalar text, NUL-terminated */
	size_t len;
	struct mnode **kids; /* map: key, value, key, value...; seq: items */
	unsigned n, cap;
};

static void
mnode_free(struct mnode *n)
{
	if (n == NULL)
		return;
	for (unsigned i = 0; i < n->n; i++)
		mnode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static int
mnode_add(struct mnode *parent, struct mnode *kid)
{
	if (parent->n == parent->cap) {
		unsigned ncap = parent->cap ? parent->cap * 2 : 8;
		struct mnode **nk = realloc(parent->kids, ncap * sizeof(*nk));
		if (nk == NULL)
			return -ENOMEM;
		parent->kids = nk;
		parent->cap = ncap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* ---- context and messages ---- */

struct mctx {
	const char *src;
	unsigned flags;		 /* MANIFEST_* */
	unsigned doc;		 /* 1-based index in the stream */
	const char *prefix;	 /* "" or "items[i]." */
	const struct mnode *obj; /* the object being read */
	char *err;
	size_t errlen;
};

static int
ctx_err(const struct mctx *c, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err != NULL && c->errlen > 0)
		snprintf(c->err, c->errlen, "%s: document %u, line %u: %s%s", c->src, c->doc, line,
			 c->prefix, msg);
	return -EINVAL;
}

/* "parent.key", or "key" at the top. */
static const char *
field(char *buf, size_t len, const char *parent, const char *key)
{
	if (parent == NULL || parent[0] == '\0')
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", parent, key);
	return buf;
}

static bool
is_null(const struct mnode *n)
{
	if (n == NULL)
		return true;
	if (n->type != MN_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

/* Value of @p key in a map (the last one when repeated, as JSON decoders
 * do); NULL when absent or null. */
static const struct mnode *
map_get(const struct mnode *map, const char *key)
{
	const struct mnode *v = NULL;

	if (map == NULL || map->type != MN_MAP)
		return NULL;
	for (unsigned i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->type == MN_SCALAR && strcmp(map->kids[i]->str, key) == 0)
			v = map->kids[i + 1];
	return is_null(v) ? NULL : v;
}

/* Line of the deepest node named by the field path at the start of @p msg
 * ("spec.ports[1].port: ..."). */
static unsigned
path_line(const struct mnode *root, const char *msg)
{
	const struct mnode *n = root;
	unsigned line = root->line;
	const char *p = msg;
	char key[128];

	while (*p != '\0' && *p != ':' && *p != ' ') {
		size_t k = 0;
		while (*p != '\0' && strchr(".[: ", *p) == NULL && k + 1 < sizeof(key))
			key[k++] = *p++;
		key[k] = '\0';
		if (k > 0) {
			n = map_get(n, key);
			if (n == NULL)
				return line;
			line = n->line;
		}
		while (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);
			if (*end != ']' || n->type != MN_SEQ || i >= n->n)
				return line;
			n = n->kids[i];
			line = n->line;
			p = end + 1;
		}
		if (*p == '.')
			p++;
		else if (*p != ':' && *p != '\0' && *p != ' ')
			return line;
	}
	return line;
}

/* ---- typed access ---- */

static int
want_type(const struct mctx *c, const struct mnode *n, enum mnode_type t, const char *path)
{
	static const char *const what[] = {"a string", "an object", "a list"};

	if (n->type != t)
		return ctx_err(c, n->line, "%s: must be %s", path, what[t]);
	return 0;
}

/* A string field: *out NULL when absent or null. */
static int
get_str(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	const char **out)
{
	char path[160];
	const struct mnode *n = map_get(map, key);

	*out = NULL;
	if (n == NULL)
		return 0;
	if (n->type != MN_SCALAR)
		return want_type(c, n, MN_SCALAR, field(path, sizeof(path), parent, key));
	*out = n->str;
	return 0;
}

static bool
scalar_int(const struct mnode *n, long long *v)
{
	const char *s = n->str;
	char *end;

	if (n->type != MN_SCALAR || !n->plain || n->len == 0)
		return false;
	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoll(n->str, &end, 10);
	return errno == 0 && *end == '\0';
}

/* An integer field; *present false when absent or null. */
static int
get_int(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	int32_t *out, bool *present)
{
	char path[160];
	const struct mnode *n = map_get(map, key);
	long long v;

	*present = false;
	if (n == NULL)
		return 0;
	if (!scalar_int(n, &v))
		return ctx_err(c, n->line, "%s: must be an integer",
			       field(path, sizeof(path), parent, key));
	if (v < INT32_MIN || v > INT32_MAX)
		return ctx_err(c, n->line, "%s: must be a 32-bit integer",
			       field(path, sizeof(path), parent, key));
	*out = (int32_t)v;
	*present = true;
	return 0;
}

/* A boolean field: *out 1, 0, or EL_COND_NIL when absent or null. */
static int
get_bool(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	 int8_t *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off"};
	char path[160];
	const struct mnode *n = map_get(map, key);

	*out = EL_COND_NIL;
	if (n == NULL)
		return 0;
	if (n->type == MN_SCALAR && n->plain)
		for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(n->str, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(n->str, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	return ctx_err(c, n->line, "%s: must be true or false",
		       field(path, sizeof(path), parent, key));
}

/* A map or list field; *out NULL when absent or null. */
static int
get_node(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	 enum mnode_type t, const struct mnode **out)
{
	char path[160];
	const struct mnode *n = map_get(map, key);

	*out = NULL;
	if (n == NULL)
		return 0;
	if (n->type != t)
		return want_type(c, n, t, field(path, sizeof(path), parent, key));
	*out = n;
	return 0;
}

/* Copy a string field into a fixed buffer. */
static int
copy_str(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	 char *dst, size_t dstlen)
{
	char path[160];
	const char *s;
	int rc = get_str(c, map, parent, key, &s);

	if (rc < 0 || s == NULL)
		return rc;
	if (strlen(s) >= dstlen)
		return ctx_err(c, map_get(map, key)->line,
			       "%s: must be no more than %zu characters",
			       field(path, sizeof(path), parent, key), dstlen - 1);
	strcpy(dst, s);
	return 0;
}

static int
parse_ip_node(const struct mctx *c, const struct mnode *n, const char *path, struct el_ip *ip)
{
	if (n->type != MN_SCALAR)
		return want_type(c, n, MN_SCALAR, path);
	if (el_ip_parse(n->str, ip) < 0)
		return ctx_err(c, n->line, "%s: must be a valid IP address, not \"%s\"", path,
			       n->str);
	return 0;
}

static int
parse_proto(const struct mctx *c, const struct mnode *map, const char *parent, uint8_t *proto)
{
	char path[160];
	const char *s;
	int rc = get_str(c, map, parent, "protocol", &s);

	if (rc < 0)
		return rc;
	if (s == NULL || strcmp(s, "TCP") == 0)
		*proto = EL_PROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*proto = EL_PROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*proto = EL_PROTO_SCTP;
	else
		return ctx_err(c, map_get(map, "protocol")->line,
			       "%s: must be one of TCP, UDP, SCTP, not \"%s\"",
			       field(path, sizeof(path), parent, "protocol"), s);
	return 0;
}

/* A list of IP strings. */
static int
parse_ip_list(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	      struct el_ip **out, unsigned *n)
{
	char path[160], ipath[176];
	const struct mnode *seq = NULL;
	int rc = get_node(c, map, parent, key, MN_SEQ, &seq);

	if (rc < 0 || seq == NULL || seq->n == 0)
		return rc;
	field(path, sizeof(path), parent, key);
	*out = calloc(seq->n, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < seq->n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%u]", path, i);
		rc = parse_ip_node(c, seq->kids[i], ipath, &(*out)[i]);
		if (rc < 0)
			return rc;
		(*n)++;
	}
	return 0;
}

/* A list of {ip: ...} objects (Endpoints addresses, LB ingress); entries
 * without ip are skipped when @p ip_optional. */
static int
parse_ip_objs(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	      bool ip_optional, struct el_ip **out, unsigned *n)
{
	char path[160], ipath[176];
	const struct mnode *seq = NULL, *ipn;
	int rc = get_node(c, map, parent, key, MN_SEQ, &seq);

	if (rc < 0 || seq == NULL || seq->n == 0)
		return rc;
	field(path, sizeof(path), parent, key);
	*out = calloc(seq->n, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	/* the paths are written for messages only: when one is needed */
	for (unsigned i = 0; i < seq->n; i++) {
		if (seq->kids[i]->type != MN_MAP) {
			snprintf(ipath, sizeof(ipath), "%s[%u]", path, i);
			return want_type(c, seq->kids[i], MN_MAP, ipath);
		}
		ipn = map_get(seq->kids[i], "ip");
		if (ipn == NULL) {
			if (ip_optional)
				continue;
			return ctx_err(c, seq->kids[i]->line, "%s[%u].ip: required value", path, i);
		}
		if (ipn->type != MN_SCALAR || el_ip_parse(ipn->str, &(*out)[*n]) < 0) {
			snprintf(ipath, sizeof(ipath), "%s[%u].ip", path, i);
			return parse_ip_node(c, ipn, ipath, &(*out)[*n]);
		}
		(*n)++;
	}
	return 0;
}

/* A map of strings (labels, selector). */
static int
parse_kv(const struct mctx *c, const struct mnode *map, const char *parent, const char *key,
	 struct el_kv **out, unsigned *n)
{
	char path[160], kpath[400];
	const struct mnode *m = NULL;
	int rc = get_node(c, map, parent, key, MN_MAP, &m);

	if (rc < 0 || m == NULL || m->n == 0)
		return rc;
	field(path, sizeof(path), parent, key);
	*out = calloc(m->n / 2, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i + 1 < m->n; i += 2) {
		const struct mnode *k = m->kids[i], *v = m->kids[i + 1];
		snprintf(kpath, sizeof(kpath), "%s[%s]", path, k->str);
		if (v->type != MN_SCALAR)
			return want_type(c, v, MN_SCALAR, kpath);
		struct el_kv *kv = &(*out)[(*n)++];
		kv->key = strdup(k->str);
		kv->value = strdup(is_null(v) ? "" : v->str);
		if (kv->key == NULL || kv->value == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* metadata.name, metadata.namespace and metadata.labels. */
static int
parse_meta(const struct mctx *c, const struct mnode *obj, char *ns, char *name, size_t namelen,
	   struct el_kv **labels, unsigned *n_labels)
{
	const struct mnode *meta = NULL;
	int rc = get_node(c, obj, "", "metadata", MN_MAP, &meta);

	if (rc < 0)
		return rc;
	if (meta == NULL)
		return ctx_err(c, obj->line, "metadata: required value");
	if (map_get(meta, "name") == NULL)
		return ctx_err(c, meta->line, "metadata.name: required value");
	rc = copy_str(c, meta, "metadata", "name", name, namelen);
	if (rc == 0)
		rc = copy_str(c, meta, "metadata", "namespace", ns, EL_LABEL_MAX);
	if (rc == 0)
		rc = parse_kv(c, meta, "metadata", "labels", labels, n_labels);
	return rc;
}

/* ---- Service ---- */

static int
parse_svc_port(const struct mctx *c, const struct mnode *pn, unsigned i, struct el_svc_port *p)
{
	char parent[32];
	const struct mnode *tp;
	bool present;
	long long v;
	int rc;

	snprintf(parent, sizeof(parent), "spec.ports[%u]", i);
	rc = want_type(c, pn, MN_MAP, parent);
	if (rc < 0)
		return rc;
	rc = copy_str(c, pn, parent, "name", p->name, sizeof(p->name));
	if (rc == 0)
		rc = parse_proto(c, pn, parent, &p->proto);
	if (rc == 0)
		rc = get_int(c, pn, parent, "port", &p->port, &present);
	if (rc < 0)
		return rc;
	if (!present)
		return ctx_err(c, pn->line, "%s.port: required value", parent);
	rc = get_int(c, pn, parent, "nodePort", &p->node_port, &present);
	if (rc < 0)
		return rc;
	tp = map_get(pn, "targetPort");
	if (tp == NULL)
		return 0;
	if (tp->type != MN_SCALAR)
		return ctx_err(c, tp->line, "%s.targetPort: must be an integer or a string",
			       parent);
	if (scalar_int(tp, &v)) {
		if (v < INT32_MIN || v > INT32_MAX)
			return ctx_err(c, tp->line, "%s.targetPort: must be a 32-bit integer",
				       parent);
		p->target_port = (int32_t)v; /* 0: defaults to port, as the API server does */
		return 0;
	}
	return copy_str(c, pn, parent, "targetPort", p->target_name, sizeof(p->target_name));
}

static int
parse_svc_type(const struct mctx *c, const struct mnode *spec, struct el_service *s)
{
	static const char *const names[] = {"ClusterIP", "NodePort", "LoadBalancer",
					    "ExternalName"};
	const char *t;
	int rc = get_str(c, spec, "spec", "type", &t);

	if (rc < 0 || t == NULL)
		return rc;
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(t, names[i]) == 0) {
			s->type = (enum el_svc_type)i;
			return 0;
		}
	return ctx_err(c, map_get(spec, "type")->line,
		       "spec.type: must be one of ClusterIP, NodePort, LoadBalancer, ExternalName, "
		       "not \"%s\"",
		       t);
}

static int
parse_cluster_ips(const struct mctx *c, const struct mnode *spec, struct el_service *s)
{
	const char *cip;
	const struct mnode *seq = NULL;
	int rc = get_str(c, spec, "spec", "clusterIP", &cip);

	if (rc == 0)
		rc = get_node(c, spec, "spec", "clusterIPs", MN_SEQ, &seq);
	if (rc < 0)
		return rc;
	if (cip != NULL && strcmp(cip, "None") == 0) {
		s->headless = true;
		return 0;
	}
	if (seq != NULL && seq->n > 0) {
		if (seq->kids[0]->type == MN_SCALAR && strcmp(seq->kids[0]->str, "None") == 0) {
			s->headless = true;
			return 0;
		}
		rc = parse_ip_list(c, spec, "spec", "clusterIPs", &s->cluster_ips,
				   &s->n_cluster_ips);
		if (rc < 0)
			return rc;
		if (cip != NULL && cip[0] != '\0') {
			struct el_ip ip;
			if (el_ip_parse(cip, &ip) < 0 || !el_ip_eq(&ip, &s->cluster_ips[0]))
				return ctx_err(c, seq->line,
					       "spec.clusterIPs[0]: must match spec.clusterIP");
		}
		return 0;
	}
	if (cip == NULL || cip[0] == '\0')
		return 0;
	s->cluster_ips = calloc(1, sizeof(*s->cluster_ips));
	if (s->cluster_ips == NULL)
		return -ENOMEM;
	if (el_ip_parse(cip, &s->cluster_ips[0]) < 0)
		return ctx_err(c, map_get(spec, "clusterIP")->line,
			       "spec.clusterIP: must be a valid IP address or \"None\", not \"%s\"",
			       cip);
	s->n_cluster_ips = 1;
	return 0;
}

static int
parse_svc_spec(const struct mctx *c, const struct mnode *spec, struct el_service *s)
{
	const struct mnode *seq = NULL, *cfg = NULL;
	const char *str;
	bool present;
	int rc;

	rc = parse_svc_type(c, spec, s);
	if (rc == 0)
		rc = parse_cluster_ips(c, spec, s);
	if (rc == 0)
		rc = parse_kv(c, spec, "spec", "selector", &s->selector, &s->n_selector);
	if (rc == 0)
		rc = parse_ip_list(c, spec, "spec", "externalIPs", &s->external_ips,
				   &s->n_external_ips);
	if (rc == 0)
		rc = get_node(c, spec, "spec", "ipFamilies", MN_SEQ, &seq);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; seq != NULL && i < seq->n; i++) {
		const struct mnode *f = seq->kids[i];
		if (i >= 2)
			return ctx_err(c, f->line,
				       "spec.ipFamilies: may hold at most two families");
		if (f->type == MN_SCALAR && strcmp(f->str, "IPv4") == 0)
			s->ip_families[i] = EL_AF_INET;
		else if (f->type == MN_SCALAR && strcmp(f->str, "IPv6") == 0)
			s->ip_families[i] = EL_AF_INET6;
		else
			return ctx_err(c, f->line, "spec.ipFamilies[%u]: must be IPv4 or IPv6", i);
		s->n_ip_families++;
	}

	rc = get_str(c, spec, "spec", "ipFamilyPolicy", &str);
	if (rc < 0)
		return rc;
	if (str != NULL && !is_null(map_get(spec, "ipFamilyPolicy"))) {
		static const char *const pol[] = {"SingleStack", "PreferDualStack",
						  "RequireDualStack"};
		for (unsigned i = 0; i < 3; i++)
			if (strcmp(str, pol[i]) == 0)
				s->ip_family_policy = (uint8_t)(EL_IPFP_SINGLE_STACK + i);
		if (s->ip_family_policy == EL_IPFP_UNSET)
			return ctx_err(c, map_get(spec, "ipFamilyPolicy")->line,
				       "spec.ipFamilyPolicy: must be one of SingleStack, "
				       "PreferDualStack, RequireDualStack, not \"%s\"",
				       str);
	}

	rc = get_str(c, spec, "spec", "loadBalancerIP", &str);
	if (rc < 0)
		return rc;
	if (str != NULL && str[0] != '\0' && el_ip_parse(str, &s->lb_ip) < 0)
		return ctx_err(c, map_get(spec, "loadBalancerIP")->line,
			       "spec.loadBalancerIP: must be a valid IP address, not \"%s\"", str);

	rc = get_node(c, spec, "spec", "loadBalancerSourceRanges", MN_SEQ, &seq);
	if (rc < 0)
		return rc;
	if (seq != NULL && seq->n > 0) {
		s->src_ranges = calloc(seq->n, sizeof(*s->src_ranges));
		if (s->src_ranges == NULL)
			return -ENOMEM;
		for (unsigned i = 0; i < seq->n; i++) {
			const struct mnode *r = seq->kids[i];
			if (r->type != MN_SCALAR || el_cidr_parse(r->str, &s->src_ranges[i]) < 0)
				return ctx_err(c, r->line,
					       "spec.loadBalancerSourceRanges[%u]: must be a CIDR "
					       "such as 198.18.0.0/16",
					       i);
			s->n_src_ranges++;
		}
	}

	rc = get_str(c, spec, "spec", "sessionAffinity", &str);
	if (rc < 0)
		return rc;
	if (str != NULL && strcmp(str, "ClientIP") == 0)
		s->affinity_client_ip = true;
	else if (str != NULL && strcmp(str, "None") != 0)
		return ctx_err(c, map_get(spec, "sessionAffinity")->line,
			       "spec.sessionAffinity: must be None or ClientIP, not \"%s\"", str);
	rc = get_node(c, spec, "spec", "sessionAffinityConfig", MN_MAP, &cfg);
	if (rc == 0 && cfg != NULL)
		rc = get_node(c, cfg, "spec.sessionAffinityConfig", "clientIP", MN_MAP, &cfg);
	if (rc == 0 && cfg != NULL)
		rc = get_int(c, cfg, "spec.sessionAffinityConfig.clientIP", "timeoutSeconds",
			     &s->affinity_timeout, &present);
	if (rc < 0)
		return rc;

	rc = get_str(c, spec, "spec", "externalTrafficPolicy", &str);
	if (rc < 0)
		return rc;
	if (str != NULL && strcmp(str, "Local") == 0)
		s->etp_local = true;
	else if (str != NULL && strcmp(str, "Cluster") != 0)
		return ctx_err(c, map_get(spec, "externalTrafficPolicy")->line,
			       "spec.externalTrafficPolicy: must be Cluster or Local, not \"%s\"",
			       str);

	rc = get_str(c, spec, "spec", "externalName", &str);
	if (rc < 0)
		return rc;
	if (str != NULL) {
		s->external_name = strdup(str);
		if (s->external_name == NULL)
			return -ENOMEM;
	}

	rc = get_node(c, spec, "spec", "ports", MN_SEQ, &seq);
	if (rc < 0 || seq == NULL || seq->n == 0)
		return rc;
	s->ports = calloc(seq->n, sizeof(*s->ports));
	if (s->ports == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < seq->n; i++) {
		rc = parse_svc_port(c, seq->kids[i], i, &s->ports[i]);
		if (rc < 0)
			return rc;
		s->n_ports++;
	}
	return 0;
}

static int
parse_service(const struct mctx *c, const struct mnode *obj, struct el_service *s)
{
	const struct mnode *spec = NULL, *status = NULL, *lb = NULL;
	int rc;

	rc = parse_meta(c, obj, s->ns, s->name, sizeof(s->name), &s->labels, &s->n_labels);
	if (rc == 0)
		rc = get_node(c, obj, "", "spec", MN_MAP, &spec);
	if (rc == 0 && spec != NULL)
		rc = parse_svc_spec(c, spec, s);
	if (rc == 0)
		rc = get_node(c, obj, "", "status", MN_MAP, &status);
	if (rc == 0 && status != NULL)
		rc = get_node(c, status, "status", "loadBalancer", MN_MAP, &lb);
	if (rc == 0 && status != NULL && lb != NULL)
		rc = parse_ip_objs(c, lb, "status.loadBalancer", "ingress", true, &s->lb_ingress,
				   &s->n_lb_ingress);
	return rc;
}

/* ---- Endpoints ---- */

static int
parse_ep_ports(const struct mctx *c, const struct mnode *seq, const char *path,
	       struct el_ep_port *ports, unsigned *n)
{
	char parent[96];
	bool present;
	int rc;

	for (unsigned i = 0; i < seq->n; i++) {
		const struct mnode *pn = seq->kids[i];
		struct el_ep_port *p = &ports[i];
		snprintf(parent, sizeof(parent), "%s[%u]", path, i);
		rc = want_type(c, pn, MN_MAP, parent);
		if (rc == 0)
			rc = copy_str(c, pn, parent, "name", p->name, sizeof(p->name));
		if (rc == 0)
			rc = parse_proto(c, pn, parent, &p->proto);
		if (rc == 0)
			rc = get_int(c, pn, parent, "port", &p->port, &present);
		if (rc < 0)
			return rc;
		if (!present)
			return ctx_err(c, pn->line, "%s.port: required value", parent);
		(*n)++;
	}
	return 0;
}

static int
parse_endpoints(const struct mctx *c, const struct mnode *obj, struct el_endpoints *e)
{
	const struct mnode *subsets = NULL, *ports = NULL;
	char parent[48], path[64];
	int rc;

	rc = parse_meta(c, obj, e->ns, e->name, sizeof(e->name), &e->labels, &e->n_labels);
	if (rc == 0)
		rc = get_node(c, obj, "", "subsets", MN_SEQ, &subsets);
	if (rc < 0 || subsets == NULL || subsets->n == 0)
		return rc;
	e->subsets = calloc(subsets->n, sizeof(*e->subsets));
	if (e->subsets == NULL)
		return -ENOMEM;
	e->n_subsets = subsets->n;
	for (unsigned i = 0; i < subsets->n; i++) {
		const struct mnode *sn = subsets->kids[i];
		struct el_ep_subset *ss = &e->subsets[i];
		snprintf(parent, sizeof(parent), "subsets[%u]", i);
		rc = want_type(c, sn, MN_MAP, parent);
		if (rc == 0)
			rc = parse_ip_objs(c, sn, parent, "addresses", false, &ss->addrs,
					   &ss->n_addrs);
		if (rc == 0)
			rc = parse_ip_objs(c, sn, parent, "notReadyAddresses", false,
					   &ss->not_ready, &ss->n_not_ready);
		if (rc == 0)
			rc = get_node(c, sn, parent, "ports", MN_SEQ, &ports);
		if (rc < 0)
			return rc;
		if (ports == NULL || ports->n == 0)
			continue;
		ss->ports = calloc(ports->n, sizeof(*ss->ports));
		if (ss->ports == NULL)
			return -ENOMEM;
		snprintf(path, sizeof(path), "%s.ports", parent);
		rc = parse_ep_ports(c, ports, path, ss->ports, &ss->n_ports);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- EndpointSlice ---- */

static int
parse_slice_ep(const struct mctx *c, const struct mnode *en, unsigned i, enum el_addr_type at,
	       struct el_slice_ep *ep)
{
	char parent[32], path[80];
	const struct mnode *addrs = NULL, *cond = NULL;
	int rc;

	ep->ready = ep->serving = ep->terminating = EL_COND_NIL;
	snprintf(parent, sizeof(parent), "endpoints[%u]", i);
	rc = want_type(c, en, MN_MAP, parent);
	if (rc == 0)
		rc = get_node(c, en, parent, "addresses", MN_SEQ, &addrs);
	if (rc == 0)
		rc = get_node(c, en, parent, "conditions", MN_MAP, &cond);
	if (rc < 0)
		return rc;
	if (cond != NULL) {
		snprintf(path, sizeof(path), "%s.conditions", parent);
		rc = get_bool(c, cond, path, "ready", &ep->ready);
		if (rc == 0)
			rc = get_bool(c, cond, path, "serving", &ep->serving);
		if (rc == 0)
			rc = get_bool(c, cond, path, "terminating", &ep->terminating);
		if (rc < 0)
			return rc;
	}
	if (addrs == NULL || addrs->n == 0)
		return 0; /* validation reports it */
	if (at == EL_ADDR_FQDN) {
		ep->fqdns = calloc(addrs->n, sizeof(char *));
		if (ep->fqdns == NULL)
			return -ENOMEM;
		for (unsigned j = 0; j < addrs->n; j++) {
			snprintf(path, sizeof(path), "%s.addresses[%u]", parent, j);
			rc = want_type(c, addrs->kids[j], MN_SCALAR, path);
			if (rc < 0)
				return rc;
			ep->fqdns[j] = strdup(addrs->kids[j]->str);
			if (ep->fqdns[j] == NULL)
				return -ENOMEM;
			ep->n_addrs++;
		}
		return 0;
	}
	return parse_ip_list(c, en, parent, "addresses", &ep->addrs, &ep->n_addrs);
}

static int
parse_slice(const struct mctx *c, const struct mnode *obj, struct el_slice *sl)
{
	const struct mnode *seq = NULL;
	const char *str;
	int rc;

	rc = parse_meta(c, obj, sl->ns, sl->name, sizeof(sl->name), &sl->labels, &sl->n_labels);
	if (rc < 0)
		return rc;
	str = model_label(sl->labels, sl->n_labels, EL_LABEL_SERVICE_NAME);
	if (str != NULL) {
		if (strlen(str) >= sizeof(sl->service_name))
			return ctx_err(c, path_line(c->obj, "metadata.labels"),
				       "metadata.labels[" EL_LABEL_SERVICE_NAME
				       "]: must be no more than %zu characters",
				       sizeof(sl->service_name) - 1);
		strcpy(sl->service_name, str);
	}
	rc = get_str(c, obj, "", "addressType", &str);
	if (rc < 0)
		return rc;
	if (str == NULL)
		return ctx_err(c, obj->line, "addressType: required value");
	if (strcmp(str, "IPv4") == 0)
		sl->addr_type = EL_ADDR_IPV4;
	else if (strcmp(str, "IPv6") == 0)
		sl->addr_type = EL_ADDR_IPV6;
	else if (strcmp(str, "FQDN") == 0)
		sl->addr_type = EL_ADDR_FQDN;
	else
		return ctx_err(c, map_get(obj, "addressType")->line,
			       "addressType: must be one of IPv4, IPv6, FQDN, not \"%s\"", str);

	rc = get_node(c, obj, "", "endpoints", MN_SEQ, &seq);
	if (rc < 0)
		return rc;
	if (seq != NULL && seq->n > 0) {
		sl->eps = calloc(seq->n, sizeof(*sl->eps));
		if (sl->eps == NULL)
			return -ENOMEM;
		for (unsigned i = 0; i < seq->n; i++) {
			sl->n_eps++;
			rc = parse_slice_ep(c, seq->kids[i], i, sl->addr_type, &sl->eps[i]);
			if (rc < 0)
				return rc;
		}
	}

	rc = get_node(c, obj, "", "ports", MN_SEQ, &seq);
	if (rc < 0 || seq == NULL || seq->n == 0)
		return rc;
	sl->ports = calloc(seq->n, sizeof(*sl->ports));
	if (sl->ports == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < seq->n; i++) {
		const struct mnode *pn = seq->kids[i];
		struct el_slice_port *p = &sl->ports[i];
		char parent[32];
		bool present;
		snprintf(parent, sizeof(parent), "ports[%u]", i);
		rc = want_type(c, pn, MN_MAP, parent);
		if (rc == 0)
			rc = copy_str(c, pn, parent, "name", p->name, sizeof(p->name));
		if (rc == 0)
			rc = parse_proto(c, pn, parent, &p->proto);
		if (rc == 0)
			rc = get_int(c, pn, parent, "port", &p->port, &present);
		if (rc < 0)
			return rc;
		sl->n_ports++;
	}
	return 0;
}

/* ---- objects and documents ---- */

/* Report a validation failure at the line of the field it names. */
static int
put_failed(const struct mctx *c, int rc, const char *msg)
{
	if (rc != -EINVAL)
		return rc;
	return ctx_err(c, path_line(c->obj, msg), "%s", msg);
}

static int
load_object(struct mctx *c, const struct mnode *obj, struct el_model *scratch)
{
	const char *api = NULL, *kind = NULL;
	char msg[400];
	int rc;

	c->obj = obj;
	if (obj->type != MN_MAP)
		return ctx_err(c, obj->line, "%s", "must be an object (apiVersion, kind, ...)");
	rc = get_str(c, obj, "", "apiVersion", &api);
	if (rc == 0)
		rc = get_str(c, obj, "", "kind", &kind);
	if (rc < 0)
		return rc;
	if (kind == NULL)
		return ctx_err(c, obj->line, "kind: required value");
	if (api == NULL)
		return ctx_err(c, obj->line, "apiVersion: required value");

	if (strcmp(kind, "Service") == 0) {
		if (strcmp(api, "v1") != 0)
			goto bad_api;
		struct el_service *s = model_service_new();
		if (s == NULL)
			return -ENOMEM;
		rc = parse_service(c, obj, s);
		if (rc == 0 && (c->flags & MANIFEST_UNCHECKED_SERVICES))
			rc = model_put_service_unchecked(scratch, s);
		else if (rc == 0) {
			rc = model_put_service(scratch, s, msg, sizeof(msg));
			if (rc < 0)
				rc = put_failed(c, rc, msg);
		}
		if (rc < 0)
			model_service_free(s);
		return rc;
	}
	if (strcmp(kind, "Endpoints") == 0) {
		if (strcmp(api, "v1") != 0)
			goto bad_api;
		struct el_endpoints *e = model_endpoints_new();
		if (e == NULL)
			return -ENOMEM;
		rc = parse_endpoints(c, obj, e);
		if (rc == 0) {
			rc = model_put_endpoints(scratch, e, msg, sizeof(msg));
			if (rc < 0)
				rc = put_failed(c, rc, msg);
		}
		if (rc < 0)
			model_endpoints_free(e);
		return rc;
	}
	if (strcmp(kind, "EndpointSlice") == 0) {
		if (strcmp(api, "discovery.k8s.io/v1") != 0)
			goto bad_api;
		struct el_slice *sl = model_slice_new();
		if (sl == NULL)
			return -ENOMEM;
		rc = parse_slice(c, obj, sl);
		if (rc == 0) {
			rc = model_put_slice(scratch, sl, msg, sizeof(msg));
			if (rc < 0)
				rc = put_failed(c, rc, msg);
		}
		if (rc < 0)
			model_slice_free(sl);
		return rc;
	}
	return ctx_err(c, map_get(obj, "kind")->line,
		       "kind: \"%s\" is not one of Service, Endpoints, EndpointSlice, List", kind);
bad_api:
	return ctx_err(c, map_get(obj, "apiVersion")->line,
		       "apiVersion: \"%s\" is not served for kind %s (use %s)", api, kind,
		       strcmp(kind, "EndpointSlice") == 0 ? "discovery.k8s.io/v1" : "v1");
}

/* A whole document: one object, or a List (kind List or FooList) of them. */
static int
load_document(struct mctx *c, const struct mnode *root, struct el_model *scratch)
{
	const char *kind = NULL;
	const struct mnode *items = NULL;
	char prefix[32];
	size_t klen;
	int rc;

	c->prefix = "";
	c->obj = root;
	if (root->type != MN_MAP)
		return ctx_err(c, root->line, "%s", "must be an object (apiVersion, kind, ...)");
	rc = get_str(c, root, "", "kind", &kind);
	if (rc < 0)
		return rc;
	klen = kind ? strlen(kind) : 0;
	if (klen < 4 || strcmp(kind + klen - 4, "List") != 0)
		return load_object(c, root, scratch);
	rc = get_node(c, root, "", "items", MN_SEQ, &items);
	if (rc < 0 || items == NULL)
		return rc;
	for (unsigned i = 0; i < items->n; i++) {
		snprintf(prefix, sizeof(prefix), "items[%u].", i);
		c->prefix = prefix;
		rc = load_object(c, items->kids[i], scratch);
		if (rc < 0)
			return rc;
	}
	c->prefix = "";
	return 0;
}

/* ---- YAML events to trees ---- */

struct tree_builder {
	struct mnode *stack[MANIFEST_MAX_DEPTH];
	unsigned depth;
	struct mnode *root;
};

static int
tb_attach(struct tree_builder *tb, struct mnode *n)
{
	if (tb->depth == 0) {
		mnode_free(tb->root);
		tb->root = n;
		return 0;
	}
	struct mnode *parent = tb->stack[tb->depth - 1];
	if (parent->type == MN_MAP && parent->n % 2 == 0 && n->type != MN_SCALAR) {
		mnode_free(n);
		return 1; /* a non-scalar key */
	}
	if (mnode_add(parent, n) < 0) {
		mnode_free(n);
		return -ENOMEM;
	}
	return 0;
}

static void
tb_reset(struct tree_builder *tb)
{
	mnode_free(tb->root); /* every open node hangs off the root */
	tb->root = NULL;
	tb->depth = 0;
}

static bool
tag_is_str(const yaml_char_t *tag)
{
	return tag != NULL && (strcmp((const char *)tag, YAML_STR_TAG) == 0 ||
			       strcmp((const char *)tag, "!!str") == 0);
}

/*
 * Where the events come from: a parser (each event is ours to delete) or a
 * list of events read before (the caller's).
 */
struct ev_source {
	yaml_parser_t *parser;
	const yaml_event_t *list;
	size_t n, next;
};

/* The next event: 1, 0 on a parse error (a parser only). */
static int
ev_next(struct ev_source *es, yaml_event_t *ev)
{
	if (es->parser != NULL)
		return yaml_parser_parse(es->parser, ev);
	if (es->next < es->n) {
		*ev = es->list[es->next++];
	} else {
		memset(ev, 0, sizeof(*ev));
		ev->type = YAML_STREAM_END_EVENT;
	}
	return 1;
}

static int
load_events(struct el_model *scratch, struct ev_source *es, const char *src, unsigned flags,
	    char *err, size_t errlen)
{
	struct mctx c = {
	    .src = src, .flags = flags, .doc = 0, .prefix = "", .err = err, .errlen = errlen};
	struct tree_builder tb = {.depth = 0, .root = NULL};
	yaml_parser_t *parser = es->parser;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	while (!done && rc == 0) {
		if (!ev_next(es, &ev)) {
			if (parser->error == YAML_MEMORY_ERROR) {
				rc = -ENOMEM;
				break;
			}
			c.doc = c.doc ? c.doc : 1;
			rc = ctx_err(&c, (unsigned)parser->problem_mark.line + 1,
				     "YAML syntax error: %s%s%s",
				     parser->problem ? parser->problem : "unknown",
				     parser->context ? " " : "",
				     parser->context ? parser->context : "");
			break;
		}
		unsigned line = (unsigned)ev.start_mark.line + 1;
		struct mnode *n = NULL;
		yaml_char_t *anchor = NULL;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			c.doc++;
			tb_reset(&tb);
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (tb.root != NULL && !is_null(tb.root))
				rc = load_document(&c, tb.root, scratch);
			tb_reset(&tb);
			break;
		case YAML_ALIAS_EVENT:
			rc = ctx_err(&c, line, "YAML aliases (*%s) are not accepted",
				     (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			if (anchor != NULL)
				break;
			n = calloc(1, sizeof(*n));
			if (n == NULL || (n->str = malloc(ev.data.scalar.length + 1)) == NULL) {
				free(n);
				rc = -ENOMEM;
				break;
			}
			n->type = MN_SCALAR;
			n->line = line;
			n->len = ev.data.scalar.length;
			memcpy(n->str, ev.data.scalar.value, n->len);
			n->str[n->len] = '\0';
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				   !tag_is_str(ev.data.scalar.tag);
			if (strlen(n->str) != n->len) {
				mnode_free(n);
				rc = ctx_err(&c, line, "strings may not contain NUL characters");
				break;
			}
			rc = tb_attach(&tb, n);
			if (rc == 1)
				rc = ctx_err(&c, line, "mapping keys must be strings");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			anchor = ev.type == YAML_MAPPING_START_EVENT
				     ? ev.data.mapping_start.anchor
				     : ev.data.sequence_start.anchor;
			if (anchor != NULL)
				break;
			if (tb.depth >= MANIFEST_MAX_DEPTH) {
				rc = ctx_err(&c, line, "nested deeper than %d levels",
					     MANIFEST_MAX_DEPTH);
				break;
			}
			n = calloc(1, sizeof(*n));
			if (n == NULL) {
				rc = -ENOMEM;
				break;
			}
			n->type = ev.type == YAML_MAPPING_START_EVENT ? MN_MAP : MN_SEQ;
			n->line = line;
			rc = tb_attach(&tb, n);
			if (rc == 1)
				rc = ctx_err(&c, line, "mapping keys must be strings");
			else if (rc == 0)
				tb.stack[tb.depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (tb.depth > 0)
				tb.depth--;
			break;
		default:
			break;
		}
		if (anchor != NULL)
			rc = ctx_err(&c, line, "YAML anchors (&%s) are not accepted",
				     (const char *)anchor);
		if (parser != NULL)
			yaml_event_delete(&ev);
	}
	tb_reset(&tb);
	return rc;
}

static int
load_stream(struct el_model *scratch, const char *buf, size_t len, const char *src, unsigned flags,
	    char *err, size_t errlen)
{
	yaml_parser_t parser;
	struct ev_source es = {.parser = &parser};
	int rc;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	rc = load_events(scratch, &es, src, flags, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- public ---- */

/* Objects of the events of @p es into a scratch model, merged into @p m
 * only when every one of them was accepted. */
static int
parse_merge(struct el_model *m, struct ev_source *es, const char *src, unsigned flags, char *err,
	    size_t errlen)
{
	struct el_model scratch;
	int rc;

	el_model_init(&scratch);
	rc = load_events(&scratch, es, src, flags, err, errlen);
	if (rc == 0)
		rc = model_merge(m, &scratch);
	el_model_free(&scratch);
	if (rc == -ENOMEM && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", src);
	return rc;
}

int
manifest_parse_events(struct el_model *m, const struct yaml_event_s *events, size_t n,
		      const char *src, unsigned flags, char *err, size_t errlen)
{
	struct ev_source es = {.parser = NULL, .list = events, .n = n, .next = 0};

	return parse_merge(m, &es, src, flags, err, errlen);
}

int
manifest_parse_buf(struct el_model *m, const char *buf, size_t len, const char *src, unsigned flags,
		   char *err, size_t errlen)
{
	yaml_parser_t parser;
	struct ev_source es = {.parser = &parser};
	int rc;

	if (!yaml_parser_initialize(&parser)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", src);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	rc = parse_merge(m, &es, src, flags, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}

int
manifest_load_buf(struct el_model *m, const char *buf, size_t len, const char *src, char *err,
		  size_t errlen)
{
	return manifest_parse_buf(m, buf, len, src, 0, err, errlen);
}

static int
read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail_close;
	if (st.st_size > (off_t)MANIFEST_MAX_FILE_SIZE) {
		close(fd);
		snprintf(err, errlen, "%s: larger than %u bytes", path, MANIFEST_MAX_FILE_SIZE);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			goto fail_close;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
fail_close:
	rc = errno;
	close(fd);
	errno = rc;
fail:
	rc = -errno;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return rc;
}

static bool
manifest_name(const char *name)
{
	static const char *const exts[] = {".yaml", ".yml", ".json"};
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	for (unsigned i = 0; i < 3; i++) {
		size_t e = strlen(exts[i]);
		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_file_into(struct el_model *scratch, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_file(path, &buf, &len, err, errlen);

	if (rc < 0)
		return rc;
	rc = load_stream(scratch, buf, len, path, 0, err, errlen);
	free(buf);
	return rc;
}

/* Every manifest file of a directory, in sorted name order. */
static int
load_dir_into(struct el_model *scratch, const char *dir, char *err, size_t errlen)
{
	char **names = NULL, path[4096];
	unsigned n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (!manifest_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (nn == NULL) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		rc = load_file_into(scratch, path, err, errlen);
	}
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	return rc;
}

int
manifest_load_path(struct el_model *m, const char *path, char *err, size_t errlen)
{
	struct el_model scratch;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	el_model_init(&scratch);
	if (S_ISDIR(st.st_mode))
		rc = load_dir_into(&scratch, path, err, errlen);
	else
		rc = load_file_into(&scratch, path, err, errlen);
	if (rc == 0) {
		rc = model_merge(m, &scratch);
		if (rc < 0)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	el_model_free(&scratch);
	return rc;
}
