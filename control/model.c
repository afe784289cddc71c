/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service model: storage of Services, Endpoints and EndpointSlices keyed
 * by (namespace, name), their validation, deep copies, and JSON output.
 *
 * The validation rules are those of the Kubernetes API server
 * (pkg/apis/core/validation, pkg/apis/discovery/validation) restricted to the
 * fields edgelb uses; name syntax follows RFC 1035 and RFC 1123 as Kubernetes
 * applies them, port names RFC 6335 (IANA service names).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/model.h"

/* The three kinds share their first two fields, so one set of functions keeps
 * the sorted arrays. */
_Static_assert(offsetof(struct el_service, ns) == 0, "ns first");
_Static_assert(offsetof(struct el_endpoints, ns) == 0, "ns first");
_Static_assert(offsetof(struct el_slice, ns) == 0, "ns first");
_Static_assert(offsetof(struct el_service, name) == EL_LABEL_MAX, "name second");
_Static_assert(offsetof(struct el_endpoints, name) == EL_LABEL_MAX, "name second");
_Static_assert(offsetof(struct el_slice, name) == EL_LABEL_MAX, "name second");

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- names ---- */

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool
model_is_dns1123_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool
model_is_dns1035_label(const char *s)
{
	return model_is_dns1123_label(s) && s[0] >= 'a' && s[0] <= 'z';
}

bool
model_is_dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);
	char label[64];
	const char *p = s;

	if (n == 0 || n > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63)
			return false;
		memcpy(label, p, len);
		label[len] = '\0';
		if (!model_is_dns1123_label(label))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

bool
model_is_iana_svc_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
	}
	return letter;
}

const char *
model_proto_name(uint8_t proto)
{
	switch (proto) {
	case EL_PROTO_TCP:
		return "TCP";
	case EL_PROTO_UDP:
		return "UDP";
	case EL_PROTO_SCTP:
		return "SCTP";
	}
	return "?";
}

const char *
model_svc_type_name(enum el_svc_type t)
{
	switch (t) {
	case EL_SVC_CLUSTER_IP:
		return "ClusterIP";
	case EL_SVC_NODE_PORT:
		return "NodePort";
	case EL_SVC_LOAD_BALANCER:
		return "LoadBalancer";
	case EL_SVC_EXTERNAL_NAME:
		return "ExternalName";
	}
	return "?";
}

const char *
model_label(const struct el_kv *labels, unsigned n, const char *key)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

bool
model_service_programmable(const struct el_service *s)
{
	if (s->type == EL_SVC_EXTERNAL_NAME || s->headless)
		return false;
	return model_label(s->labels, s->n_labels, EL_LABEL_PROXY_NAME) == NULL;
}

/* ---- objects ---- */

struct el_service *
model_service_new(void)
{
	struct el_service *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	strcpy(s->ns, "default");
	s->type = EL_SVC_CLUSTER_IP;
	s->affinity_timeout = EL_AFFINITY_TIMEOUT_DEFAULT;
	return s;
}

struct el_endpoints *
model_endpoints_new(void)
{
	struct el_endpoints *e = calloc(1, sizeof(*e));

	if (e != NULL)
		strcpy(e->ns, "default");
	return e;
}

struct el_slice *
model_slice_new(void)
{
	struct el_slice *sl = calloc(1, sizeof(*sl));

	if (sl != NULL) {
		strcpy(sl->ns, "default");
		sl->addr_type = EL_ADDR_IPV4;
	}
	return sl;
}

static void
kv_free(struct el_kv *kv, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void
model_service_free(struct el_service *s)
{
	if (s == NULL)
		return;
	kv_free(s->labels, s->n_labels);
	kv_free(s->selector, s->n_selector);
	free(s->cluster_ips);
	free(s->external_ips);
	free(s->src_ranges);
	free(s->external_name);
	free(s->ports);
	free(s->lb_ingress);
	free(s);
}

void
model_endpoints_free(struct el_endpoints *e)
{
	if (e == NULL)
		return;
	kv_free(e->labels, e->n_labels);
	for (unsigned i = 0; i < e->n_subsets; i++) {
		free(e->subsets[i].addrs);
		free(e->subsets[i].not_ready);
		free(e->subsets[i].ports);
	}
	free(e->subsets);
	free(e);
}

static void
slice_ep_clear(struct el_slice_ep *ep)
{
	free(ep->addrs);
	if (ep->fqdns != NULL)
		for (unsigned j = 0; j < ep->n_addrs; j++)
			free(ep->fqdns[j]);
	free(ep->fqdns);
}

void
model_slice_free(struct el_slice *sl)
{
	if (sl == NULL)
		return;
	kv_free(sl->labels, sl->n_labels);
	for (unsigned i = 0; i < sl->n_eps; i++)
		slice_ep_clear(&sl->eps[i]);
	free(sl->eps);
	free(sl->ports);
	free(sl);
}

/* Copy @p n elements of @p size; *dst is NULL when n is 0. */
static int
dup_array(void *dstp, const void *src, size_t n, size_t size)
{
	void *d = NULL;

	if (n > 0) {
		d = malloc(n * size);
		if (d == NULL)
			return -ENOMEM;
		memcpy(d, src, n * size);
	}
	memcpy(dstp, &d, sizeof(d));
	return 0;
}

static int
dup_kv(struct el_kv **dst, const struct el_kv *src, unsigned n)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	*dst = calloc(n, sizeof(**dst));
	if (*dst == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		(*dst)[i].key = strdup(src[i].key);
		(*dst)[i].value = strdup(src[i].value);
		if ((*dst)[i].key == NULL || (*dst)[i].value == NULL)
			return -ENOMEM; /* the caller frees n entries */
	}
	return 0;
}

struct el_service *
model_service_dup(const struct el_service *s)
{
	struct el_service *d = malloc(sizeof(*d));
	int rc = 0;

	if (d == NULL)
		return NULL;
	*d = *s;
	d->labels = d->selector = NULL;
	d->cluster_ips = d->external_ips = d->lb_ingress = NULL;
	d->src_ranges = NULL;
	d->external_name = NULL;
	d->ports = NULL;
	rc |= dup_kv(&d->labels, s->labels, s->n_labels);
	rc |= dup_kv(&d->selector, s->selector, s->n_selector);
	rc |= dup_array(&d->cluster_ips, s->cluster_ips, s->n_cluster_ips, sizeof(struct el_ip));
	rc |= dup_array(&d->external_ips, s->external_ips, s->n_external_ips, sizeof(struct el_ip));
	rc |= dup_array(&d->lb_ingress, s->lb_ingress, s->n_lb_ingress, sizeof(struct el_ip));
	rc |= dup_array(&d->src_ranges, s->src_ranges, s->n_src_ranges, sizeof(struct el_cidr));
	rc |= dup_array(&d->ports, s->ports, s->n_ports, sizeof(struct el_svc_port));
	if (s->external_name != NULL) {
		d->external_name = strdup(s->external_name);
		if (d->external_name == NULL)
			rc = -ENOMEM;
	}
	if (rc != 0) {
		/* kv arrays that failed midway hold NULLs, which free() takes */
		if (d->labels == NULL)
			d->n_labels = 0;
		if (d->selector == NULL)
			d->n_selector = 0;
		model_service_free(d);
		return NULL;
	}
	return d;
}

struct el_endpoints *
model_endpoints_dup(const struct el_endpoints *e)
{
	struct el_endpoints *d = malloc(sizeof(*d));
	int rc;

	if (d == NULL)
		return NULL;
	*d = *e;
	d->labels = NULL;
	d->subsets = NULL;
	d->n_subsets = 0;
	rc = dup_kv(&d->labels, e->labels, e->n_labels);
	if (d->labels == NULL)
		d->n_labels = 0;
	if (rc == 0 && e->n_subsets > 0) {
		d->subsets = calloc(e->n_subsets, sizeof(*d->subsets));
		if (d->subsets == NULL)
			rc = -ENOMEM;
		else
			d->n_subsets = e->n_subsets;
		for (unsigned i = 0; rc == 0 && i < e->n_subsets; i++) {
			const struct el_ep_subset *a = &e->subsets[i];
			struct el_ep_subset *b = &d->subsets[i];
			*b = *a;
			b->addrs = b->not_ready = NULL;
			b->ports = NULL;
			rc |= dup_array(&b->addrs, a->addrs, a->n_addrs, sizeof(struct el_ip));
			rc |= dup_array(&b->not_ready, a->not_ready, a->n_not_ready,
					sizeof(struct el_ip));
			rc |= dup_array(&b->ports, a->ports, a->n_ports, sizeof(struct el_ep_port));
		}
	}
	if (rc != 0) {
		model_endpoints_free(d);
		return NULL;
	}
	return d;
}

struct el_slice *
model_slice_dup(const struct el_slice *sl)
{
	struct el_slice *d = malloc(sizeof(*d));
	int rc;

	if (d == NULL)
		return NULL;
	*d = *sl;
	d->labels = NULL;
	d->eps = NULL;
	d->n_eps = 0;
	d->ports = NULL;
	rc = dup_kv(&d->labels, sl->labels, sl->n_labels);
	if (d->labels == NULL)
		d->n_labels = 0;
	rc |= dup_array(&d->ports, sl->ports, sl->n_ports, sizeof(struct el_slice_port));
	if (rc == 0 && sl->n_eps > 0) {
		d->eps = calloc(sl->n_eps, sizeof(*d->eps));
		if (d->eps == NULL)
			rc = -ENOMEM;
		else
			d->n_eps = sl->n_eps;
		for (unsigned i = 0; rc == 0 && i < sl->n_eps; i++) {
			const struct el_slice_ep *a = &sl->eps[i];
			struct el_slice_ep *b = &d->eps[i];
			*b = *a;
			b->addrs = NULL;
			b->fqdns = NULL;
			rc = dup_array(&b->addrs, a->addrs, a->addrs ? a->n_addrs : 0,
				       sizeof(struct el_ip));
			if (rc == 0 && a->fqdns != NULL) {
				b->fqdns = calloc(a->n_addrs, sizeof(char *));
				if (b->fqdns == NULL)
					rc = -ENOMEM;
				for (unsigned j = 0; rc == 0 && j < a->n_addrs; j++) {
					b->fqdns[j] = strdup(a->fqdns[j]);
					if (b->fqdns[j] == NULL)
						rc = -ENOMEM;
				}
			}
		}
	}
	if (rc != 0) {
		model_slice_free(d);
		return NULL;
	}
	return d;
}

/* ---- validation ---- */

static bool
port_ok(int32_t p)
{
	return p >= 1 && p <= 65535;
}

static bool
proto_ok(uint8_t p)
{
	return p == EL_PROTO_TCP || p == EL_PROTO_UDP || p == EL_PROTO_SCTP;
}

static int
check_meta(const char *ns, const char *name, bool name_is_subdomain, bool svc_name, char *err,
	   size_t errlen)
{
	if (!model_is_dns1123_label(ns))
		return seterr(
		    err, errlen,
		    "metadata.namespace: must be a DNS-1123 label (at most 63 lower case "
		    "letters, digits or '-', starting and ending with a letter or digit)");
	if (svc_name && !model_is_dns1035_label(name))
		return seterr(err, errlen,
			      "metadata.name: must be a DNS-1035 label (at most 63 lower case "
			      "letters, digits or '-', starting with a letter and ending with a "
			      "letter or digit)");
	if (name_is_subdomain && !model_is_dns1123_subdomain(name))
		return seterr(err, errlen,
			      "metadata.name: must be a DNS-1123 subdomain (lower case letters, "
			      "digits, '-' and '.', at most 253)");
	return 0;
}

/* Addresses Kubernetes refuses as externalIPs. */
static bool
ip_special(const struct el_ip *ip)
{
	if (ip->family == EL_AF_INET) {
		const uint8_t *b = (const uint8_t *)&ip->v4;
		return ip->v4 == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
		       (b[0] >= 224 && b[0] <= 239);
	}
	static const uint8_t zero[16], lo[16] = {[15] = 1};
	return memcmp(ip->v6, zero, 16) == 0 || memcmp(ip->v6, lo, 16) == 0 || ip->v6[0] == 0xff ||
	       (ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80);
}

static int
validate_svc_ports(const struct el_service *s, char *err, size_t errlen)
{
	if (s->n_ports == 0 && s->type != EL_SVC_EXTERNAL_NAME && !s->headless)
		return seterr(err, errlen, "spec.ports: required value");
	for (unsigned i = 0; i < s->n_ports; i++) {
		const struct el_svc_port *p = &s->ports[i];
		if (!port_ok(p->port))
			return seterr(err, errlen,
				      "spec.ports[%u].port: must be between 1 and 65535", i);
		if (!proto_ok(p->proto))
			return seterr(err, errlen,
				      "spec.ports[%u].protocol: must be one of TCP, UDP, SCTP", i);
		if (p->name[0] == '\0' && s->n_ports > 1)
			return seterr(err, errlen,
				      "spec.ports[%u].name: required when a service has more than "
				      "one port",
				      i);
		if (p->name[0] != '\0' && !model_is_dns1123_label(p->name))
			return seterr(err, errlen,
				      "spec.ports[%u].name: must be a DNS-1123 label (lower case "
				      "letters, digits or '-')",
				      i);
		if (p->target_name[0] != '\0') {
			if (!model_is_iana_svc_name(p->target_name))
				return seterr(
				    err, errlen,
				    "spec.ports[%u].targetPort: must be a number between 1 "
				    "and 65535 or an IANA service name (at most 15 lower "
				    "case letters, digits or '-', with a letter)",
				    i);
		} else if (p->target_port != 0 && !port_ok(p->target_port)) {
			return seterr(err, errlen,
				      "spec.ports[%u].targetPort: must be between 1 and 65535", i);
		}
		if (p->node_port != 0) {
			if (s->type == EL_SVC_CLUSTER_IP || s->type == EL_SVC_EXTERNAL_NAME)
				return seterr(
				    err, errlen,
				    "spec.ports[%u].nodePort: may not be used when type is "
				    "'%s'",
				    i, model_svc_type_name(s->type));
			if (!port_ok(p->node_port))
				return seterr(
				    err, errlen,
				    "spec.ports[%u].nodePort: must be between 1 and 65535", i);
		}
		for (unsigned j = 0; j < i; j++) {
			const struct el_svc_port *q = &s->ports[j];
			if (p->name[0] != '\0' && strcmp(p->name, q->name) == 0)
				return seterr(err, errlen,
					      "spec.ports[%u].name: duplicate value \"%s\"", i,
					      p->name);
			if (p->proto == q->proto && p->port == q->port)
				return seterr(err, errlen,
					      "spec.ports[%u]: duplicate protocol and port %s/%d",
					      i, model_proto_name(p->proto), p->port);
			if (p->node_port != 0 && p->proto == q->proto &&
			    p->node_port == q->node_port)
				return seterr(err, errlen,
					      "spec.ports[%u].nodePort: duplicate value %d", i,
					      p->node_port);
		}
	}
	return 0;
}

int
model_validate_service(const struct el_service *s, char *err, size_t errlen)
{
	int rc = check_meta(s->ns, s->name, false, true, err, errlen);

	if (rc < 0)
		return rc;
	if (s->type == EL_SVC_EXTERNAL_NAME) {
		if (s->external_name == NULL || !model_is_dns1123_subdomain(s->external_name))
			return seterr(
			    err, errlen,
			    "spec.externalName: required for type ExternalName, a DNS-1123 "
			    "subdomain");
	}
	if (s->type == EL_SVC_EXTERNAL_NAME && (s->n_cluster_ips > 0 || s->headless))
		return seterr(err, errlen,
			      "spec.clusterIP: may not be set when type is 'ExternalName'");
	if (s->headless && s->type != EL_SVC_CLUSTER_IP)
		return seterr(err, errlen, "spec.clusterIP: may not be \"None\" when type is '%s'",
			      model_svc_type_name(s->type));
	if (s->n_cluster_ips > 2)
		return seterr(err, errlen, "spec.clusterIPs: may hold at most two addresses");
	if (s->n_cluster_ips == 2 && s->cluster_ips[0].family == s->cluster_ips[1].family)
		return seterr(err, errlen,
			      "spec.clusterIPs[1]: must be of a different IP family than "
			      "clusterIPs[0]");
	if (s->n_ip_families == 2 && s->ip_families[0] == s->ip_families[1])
		return seterr(err, errlen, "spec.ipFamilies[1]: duplicate value");
	if (s->ip_family_policy > EL_IPFP_REQUIRE_DUAL_STACK)
		return seterr(err, errlen,
			      "spec.ipFamilyPolicy: must be one of SingleStack, PreferDualStack, "
			      "RequireDualStack");
	if (s->type == EL_SVC_EXTERNAL_NAME && s->ip_family_policy != EL_IPFP_UNSET)
		return seterr(err, errlen,
			      "spec.ipFamilyPolicy: may not be set when type is 'ExternalName'");
	if (s->type == EL_SVC_EXTERNAL_NAME && s->n_ip_families > 0)
		return seterr(err, errlen,
			      "spec.ipFamilies: may not be set when type is 'ExternalName'");
	if (s->ip_family_policy == EL_IPFP_SINGLE_STACK && s->n_cluster_ips == 2)
		return seterr(
		    err, errlen,
		    "spec.ipFamilyPolicy: must be 'RequireDualStack' or 'PreferDualStack' "
		    "when multiple cluster IPs are specified");
	if (s->ip_family_policy == EL_IPFP_SINGLE_STACK && s->n_ip_families == 2)
		return seterr(
		    err, errlen,
		    "spec.ipFamilyPolicy: must be 'RequireDualStack' or 'PreferDualStack' "
		    "when multiple IP families are specified");
	for (unsigned i = 0; i < s->n_cluster_ips && i < s->n_ip_families; i++)
		if (s->cluster_ips[i].family != s->ip_families[i])
			return seterr(
			    err, errlen,
			    "spec.clusterIPs[%u]: must be of the family in ipFamilies[%u]", i, i);
	for (unsigned i = 0; i < s->n_external_ips; i++)
		if (ip_special(&s->external_ips[i]))
			return seterr(err, errlen,
				      "spec.externalIPs[%u]: may not be unspecified, loopback, "
				      "link-local or multicast",
				      i);
	rc = validate_svc_ports(s, err, errlen);
	if (rc < 0)
		return rc;
	if (s->n_src_ranges > 0 && s->type != EL_SVC_LOAD_BALANCER)
		return seterr(err, errlen,
			      "spec.loadBalancerSourceRanges: may only be used when type is "
			      "'LoadBalancer'");
	if (s->affinity_client_ip &&
	    (s->affinity_timeout < 1 || s->affinity_timeout > EL_AFFINITY_TIMEOUT_MAX))
		return seterr(err, errlen,
			      "spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be between "
			      "1 and %d",
			      EL_AFFINITY_TIMEOUT_MAX);
	return 0;
}

/* ---- IP families ---- */

const char *
model_ip_family_policy_name(uint8_t policy)
{
	switch (policy) {
	case EL_IPFP_SINGLE_STACK:
		return "SingleStack";
	case EL_IPFP_PREFER_DUAL_STACK:
		return "PreferDualStack";
	case EL_IPFP_REQUIRE_DUAL_STACK:
		return "RequireDualStack";
	}
	return "";
}

const char *
model_family_name(uint8_t family)
{
	return family == EL_AF_INET ? "IPv4" : family == EL_AF_INET6 ? "IPv6" : "?";
}

static uint8_t
other_family(uint8_t family)
{
	return family == EL_AF_INET6 ? EL_AF_INET : EL_AF_INET6;
}

int
model_service_families(const struct el_service *s, unsigned avail, uint8_t *policy_out,
		       uint8_t fam_out[2], unsigned *n_out, char *err, size_t errlen)
{
	uint8_t policy = s->ip_family_policy, fam[2] = {0, 0};
	unsigned n = 0;

	if (avail == 0)
		avail = EL_FAMILY_BIT(EL_AF_INET);
	if (s->type == EL_SVC_EXTERNAL_NAME) {
		if (policy != EL_IPFP_UNSET || s->n_ip_families > 0)
			return seterr(err, errlen,
				      "spec.ipFamilyPolicy: may not be set when type is "
				      "'ExternalName'");
		goto out;
	}
	if (policy == EL_IPFP_UNSET)
		policy = s->n_ip_families == 2 || s->n_cluster_ips == 2 ? EL_IPFP_REQUIRE_DUAL_STACK
									: EL_IPFP_SINGLE_STACK;
	if (policy == EL_IPFP_SINGLE_STACK && s->n_cluster_ips == 2)
		return seterr(
		    err, errlen,
		    "spec.ipFamilyPolicy: must be 'RequireDualStack' or 'PreferDualStack' "
		    "when multiple cluster IPs are specified");
	if (policy == EL_IPFP_SINGLE_STACK && s->n_ip_families == 2)
		return seterr(
		    err, errlen,
		    "spec.ipFamilyPolicy: must be 'RequireDualStack' or 'PreferDualStack' "
		    "when multiple IP families are specified");
	for (unsigned i = 0; i < s->n_ip_families && i < 2; i++)
		fam[n++] = s->ip_families[i];
	/* families behind the given clusterIPs */
	for (unsigned i = n; i < s->n_cluster_ips && i < 2; i++) {
		uint8_t f = s->cluster_ips[i].family;
		if ((avail & EL_FAMILY_BIT(f)) == 0)
			return seterr(
			    err, errlen,
			    "spec.clusterIPs[%u]: %s is not configured on this edgelb (no "
			    "interface address or loadbalancer pool of that family)",
			    i, model_family_name(f));
		fam[n++] = f;
	}
	if (s->headless && s->n_selector == 0) {
		/* headless without selector: allowed whatever edgelb serves */
		if (n == 0)
			fam[n++] = (avail & EL_FAMILY_BIT(EL_AF_INET)) ? EL_AF_INET : EL_AF_INET6;
		if (n == 1 && policy != EL_IPFP_SINGLE_STACK)
			fam[n++] = other_family(fam[0]);
		goto out;
	}
	if (policy == EL_IPFP_REQUIRE_DUAL_STACK && avail != EL_FAMILIES_BOTH)
		return seterr(
		    err, errlen,
		    "spec.ipFamilyPolicy: RequireDualStack: this edgelb is not configured "
		    "for dual-stack services (it needs an interface address or a "
		    "loadbalancer pool of each family)");
	for (unsigned i = 0; i < n; i++)
		if ((avail & EL_FAMILY_BIT(fam[i])) == 0)
			return seterr(
			    err, errlen,
			    "spec.ipFamilies[%u]: %s is not configured on this edgelb (no "
			    "interface address or loadbalancer pool of that family)",
			    i, model_family_name(fam[i]));
	if (n == 0)
		fam[n++] = (avail & EL_FAMILY_BIT(EL_AF_INET)) ? EL_AF_INET : EL_AF_INET6;
	if (n == 1 && policy != EL_IPFP_SINGLE_STACK && avail == EL_FAMILIES_BOTH)
		fam[n++] = other_family(fam[0]);
out:
	if (policy_out != NULL)
		*policy_out = s->type == EL_SVC_EXTERNAL_NAME ? EL_IPFP_UNSET : policy;
	if (fam_out != NULL) {
		fam_out[0] = fam[0];
		fam_out[1] = fam[1];
	}
	if (n_out != NULL)
		*n_out = n;
	return 0;
}

int
model_service_default_families(struct el_service *s, unsigned avail, char *err, size_t errlen)
{
	uint8_t policy, fam[2];
	unsigned n;
	int rc = model_service_families(s, avail, &policy, fam, &n, err, errlen);

	if (rc < 0)
		return rc;
	s->ip_family_policy = policy;
	s->ip_families[0] = fam[0];
	s->ip_families[1] = fam[1];
	s->n_ip_families = n;
	return 0;
}

/* Checks shared by Endpoints and EndpointSlice ports; @p prefix names the list. */
static int
check_ep_port(const char *prefix, unsigned i, const char *name, int32_t port, bool port_optional,
	      uint8_t proto, unsigned n, char *err, size_t errlen)
{
	if (!(port_optional && port == 0) && !port_ok(port))
		return seterr(err, errlen, "%s[%u].port: must be between 1 and 65535", prefix, i);
	if (!proto_ok(proto))
		return seterr(err, errlen, "%s[%u].protocol: must be one of TCP, UDP, SCTP", prefix,
			      i);
	if (name[0] == '\0' && n > 1 && !port_optional)
		return seterr(err, errlen, "%s[%u].name: required when there is more than one port",
			      prefix, i);
	if (name[0] != '\0' && !model_is_dns1123_label(name))
		return seterr(err, errlen,
			      "%s[%u].name: must be a DNS-1123 label (lower case letters, digits "
			      "or '-')",
			      prefix, i);
	return 0;
}

int
model_validate_endpoints(const struct el_endpoints *e, char *err, size_t errlen)
{
	char prefix[48];
	int rc = check_meta(e->ns, e->name, true, false, err, errlen);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < e->n_subsets; i++) {
		const struct el_ep_subset *ss = &e->subsets[i];
		snprintf(prefix, sizeof(prefix), "subsets[%u].ports", i);
		for (unsigned j = 0; j < ss->n_ports; j++) {
			const struct el_ep_port *p = &ss->ports[j];
			rc = check_ep_port(prefix, j, p->name, p->port, false, p->proto,
					   ss->n_ports, err, errlen);
			if (rc < 0)
				return rc;
			for (unsigned k = 0; k < j; k++)
				if (strcmp(ss->ports[k].name, p->name) == 0)
					return seterr(err, errlen,
						      "%s[%u].name: duplicate value \"%s\"", prefix,
						      j, p->name);
		}
	}
	return 0;
}

int
model_validate_slice(const struct el_slice *sl, char *err, size_t errlen)
{
	int rc = check_meta(sl->ns, sl->name, true, false, err, errlen);

	if (rc < 0)
		return rc;
	if (sl->addr_type != EL_ADDR_IPV4 && sl->addr_type != EL_ADDR_IPV6 &&
	    sl->addr_type != EL_ADDR_FQDN)
		return seterr(err, errlen, "addressType: must be one of IPv4, IPv6, FQDN");
	if (sl->n_eps > 1000)
		return seterr(err, errlen, "endpoints: must have at most 1000 items");
	if (sl->n_ports > 100)
		return seterr(err, errlen, "ports: must have at most 100 items");
	for (unsigned i = 0; i < sl->n_eps; i++) {
		const struct el_slice_ep *ep = &sl->eps[i];
		if (ep->n_addrs < 1 || ep->n_addrs > 100)
			return seterr(err, errlen,
				      "endpoints[%u].addresses: must have between 1 and 100 items",
				      i);
		for (unsigned j = 0; j < ep->n_addrs; j++) {
			if (sl->addr_type == EL_ADDR_FQDN) {
				if (ep->fqdns == NULL || !model_is_dns1123_subdomain(ep->fqdns[j]))
					return seterr(err, errlen,
						      "endpoints[%u].addresses[%u]: must be a "
						      "DNS-1123 subdomain",
						      i, j);
			} else if (ep->addrs == NULL || ep->addrs[j].family != sl->addr_type) {
				return seterr(err, errlen,
					      "endpoints[%u].addresses[%u]: must be a valid %s "
					      "address",
					      i, j,
					      sl->addr_type == EL_ADDR_IPV4 ? "IPv4" : "IPv6");
			}
		}
	}
	for (unsigned i = 0; i < sl->n_ports; i++) {
		const struct el_slice_port *p = &sl->ports[i];
		rc = check_ep_port("ports", i, p->name, p->port, true, p->proto, sl->n_ports, err,
				   errlen);
		if (rc < 0)
			return rc;
		for (unsigned k = 0; k < i; k++)
			if (strcmp(sl->ports[k].name, p->name) == 0)
				return seterr(err, errlen, "ports[%u].name: duplicate value \"%s\"",
					      i, p->name);
	}
	return 0;
}

/* ---- sorted arrays of object pointers ----
 * Accessed through memcpy so one set of functions serves the three typed
 * arrays of struct el_model. */

static void *
vec_at(const void *arr, unsigned i)
{
	void *p;

	memcpy(&p, (const char *)arr + (size_t)i * sizeof(p), sizeof(p));
	return p;
}

static int
obj_cmp(const void *obj, const char *ns, const char *name)
{
	int c = strcmp((const char *)obj, ns);

	return c != 0 ? c : strcmp((const char *)obj + EL_LABEL_MAX, name);
}

/* Position of (ns, name), or where it would be inserted. */
static unsigned
vec_search(const void *arr, unsigned n, const char *ns, const char *name, bool *found)
{
	unsigned lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = obj_cmp(vec_at(arr, mid), ns, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* @p arrp points at the array pointer (T ***). */
static int
vec_reserve(void *arrp, unsigned *cap, unsigned want)
{
	void *arr, *na;
	unsigned ncap;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < want)
		ncap *= 2;
	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (size_t)ncap * sizeof(void *));
	if (na == NULL)
		return -ENOMEM;
	memcpy(arrp, &na, sizeof(na));
	*cap = ncap;
	return 0;
}

/* Store @p obj in place of the same-named one (returned) or insert it (NULL
 * returned). Capacity must be reserved. */
static void *
vec_put(void *arrp, unsigned *n, void *obj)
{
	void *arr, *old;
	bool found;
	unsigned pos;

	memcpy(&arr, arrp, sizeof(arr));
	pos = vec_search(arr, *n, (const char *)obj, (const char *)obj + EL_LABEL_MAX, &found);
	char *slot = (char *)arr + (size_t)pos * sizeof(void *);
	if (found) {
		old = vec_at(arr, pos);
	} else {
		old = NULL;
		memmove(slot + sizeof(void *), slot, (size_t)(*n - pos) * sizeof(void *));
		(*n)++;
	}
	memcpy(slot, &obj, sizeof(obj));
	return old;
}

static void *
vec_take(void *arrp, unsigned *n, const char *ns, const char *name)
{
	void *arr, *old;
	bool found;
	unsigned pos;

	memcpy(&arr, arrp, sizeof(arr));
	if (arr == NULL)
		return NULL;
	pos = vec_search(arr, *n, ns, name, &found);
	if (!found)
		return NULL;
	old = vec_at(arr, pos);
	char *slot = (char *)arr + (size_t)pos * sizeof(void *);
	memmove(slot, slot + sizeof(void *), (size_t)(*n - pos - 1) * sizeof(void *));
	(*n)--;
	return old;
}

static void *
vec_find(const void *arr, unsigned n, const char *ns, const char *name)
{
	bool found;
	unsigned pos;

	if (arr == NULL)
		return NULL;
	pos = vec_search(arr, n, ns, name, &found);
	return found ? vec_at(arr, pos) : NULL;
}

/* ---- EndpointSlices by Service: a second sorted array ---- */

static int
by_svc_cmp(const struct el_slice *sl, const char *ns, const char *svc, const char *name)
{
	int c = strcmp(sl->ns, ns);

	if (c == 0)
		c = strcmp(sl->service_name, svc);
	return c != 0 ? c : strcmp(sl->name, name);
}

static unsigned
by_svc_search(const struct el_model *m, const char *ns, const char *svc, const char *name)
{
	unsigned lo = 0, hi = m->n_by_svc;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (by_svc_cmp(m->by_svc[mid], ns, svc, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Capacity must be reserved. */
static void
by_svc_insert(struct el_model *m, struct el_slice *sl)
{
	unsigned pos;

	if (sl->service_name[0] == '\0')
		return;
	pos = by_svc_search(m, sl->ns, sl->service_name, sl->name);
	memmove(&m->by_svc[pos + 1], &m->by_svc[pos], (m->n_by_svc - pos) * sizeof(*m->by_svc));
	m->by_svc[pos] = sl;
	m->n_by_svc++;
}

static void
by_svc_remove(struct el_model *m, const struct el_slice *sl)
{
	unsigned pos;

	if (sl->service_name[0] == '\0')
		return;
	pos = by_svc_search(m, sl->ns, sl->service_name, sl->name);
	if (pos >= m->n_by_svc || m->by_svc[pos] != sl)
		return;
	memmove(&m->by_svc[pos], &m->by_svc[pos + 1], (m->n_by_svc - pos - 1) * sizeof(*m->by_svc));
	m->n_by_svc--;
}

static int
by_svc_order(const void *a, const void *b)
{
	const struct el_slice *x = *(const struct el_slice *const *)a;
	const struct el_slice *y = *(const struct el_slice *const *)b;

	return by_svc_cmp(x, y->ns, y->service_name, y->name);
}

unsigned
model_slices_of(const struct el_model *m, const char *ns, const char *svc,
		struct el_slice *const **first)
{
	unsigned pos = by_svc_search(m, ns, svc, ""), end = pos;

	while (end < m->n_by_svc && strcmp(m->by_svc[end]->ns, ns) == 0 &&
	       strcmp(m->by_svc[end]->service_name, svc) == 0)
		end++;
	*first = m->by_svc != NULL ? &m->by_svc[pos] : NULL;
	return end - pos;
}

/* ---- the model ---- */

void
el_model_init(struct el_model *m)
{
	memset(m, 0, sizeof(*m));
}

void
el_model_free(struct el_model *m)
{
	for (unsigned i = 0; i < m->n_svcs; i++)
		model_service_free(m->svcs[i]);
	for (unsigned i = 0; i < m->n_eps; i++)
		model_endpoints_free(m->eps[i]);
	for (unsigned i = 0; i < m->n_slices; i++)
		model_slice_free(m->slices[i]);
	free(m->svcs);
	free(m->eps);
	free(m->slices);
	free(m->by_svc);
	el_model_init(m);
}

int
model_put_service(struct el_model *m, struct el_service *s, char *err, size_t errlen)
{
	int rc = model_validate_service(s, err, errlen);

	if (rc < 0)
		return rc;
	if (vec_reserve(&m->svcs, &m->cap_svcs, m->n_svcs + 1) < 0)
		return -ENOMEM;
	s->rev = ++m->rev;
	model_service_free(vec_put(&m->svcs, &m->n_svcs, s));
	return 0;
}

int
model_put_service_unchecked(struct el_model *m, struct el_service *s)
{
	if (vec_reserve(&m->svcs, &m->cap_svcs, m->n_svcs + 1) < 0)
		return -ENOMEM;
	s->rev = ++m->rev;
	model_service_free(vec_put(&m->svcs, &m->n_svcs, s));
	return 0;
}

int
model_put_endpoints(struct el_model *m, struct el_endpoints *e, char *err, size_t errlen)
{
	int rc = model_validate_endpoints(e, err, errlen);

	if (rc < 0)
		return rc;
	if (vec_reserve(&m->eps, &m->cap_eps, m->n_eps + 1) < 0)
		return -ENOMEM;
	e->rev = ++m->rev;
	model_endpoints_free(vec_put(&m->eps, &m->n_eps, e));
	return 0;
}

int
model_put_slice(struct el_model *m, struct el_slice *sl, char *err, size_t errlen)
{
	int rc = model_validate_slice(sl, err, errlen);

	if (rc < 0)
		return rc;
	if (vec_reserve(&m->slices, &m->cap_slices, m->n_slices + 1) < 0 ||
	    vec_reserve(&m->by_svc, &m->cap_by_svc, m->n_by_svc + 1) < 0)
		return -ENOMEM;
	sl->rev = ++m->rev;
	struct el_slice *old = vec_put(&m->slices, &m->n_slices, sl);
	if (old != NULL)
		by_svc_remove(m, old);
	by_svc_insert(m, sl);
	model_slice_free(old);
	return 0;
}

struct el_service *
model_take_service(struct el_model *m, const char *ns, const char *name)
{
	struct el_service *s = vec_take(&m->svcs, &m->n_svcs, ns, name);

	if (s != NULL)
		m->rev++;
	return s;
}

struct el_endpoints *
model_take_endpoints(struct el_model *m, const char *ns, const char *name)
{
	struct el_endpoints *e = vec_take(&m->eps, &m->n_eps, ns, name);

	if (e != NULL)
		m->rev++;
	return e;
}

struct el_slice *
model_take_slice(struct el_model *m, const char *ns, const char *name)
{
	struct el_slice *sl = vec_take(&m->slices, &m->n_slices, ns, name);

	if (sl != NULL) {
		by_svc_remove(m, sl);
		m->rev++;
	}
	return sl;
}

int
model_delete_service(struct el_model *m, const char *ns, const char *name)
{
	struct el_service *s = model_take_service(m, ns, name);

	if (s == NULL)
		return -ENOENT;
	model_service_free(s);
	return 0;
}

int
model_delete_endpoints(struct el_model *m, const char *ns, const char *name)
{
	struct el_endpoints *e = model_take_endpoints(m, ns, name);

	if (e == NULL)
		return -ENOENT;
	model_endpoints_free(e);
	return 0;
}

int
model_delete_slice(struct el_model *m, const char *ns, const char *name)
{
	struct el_slice *sl = model_take_slice(m, ns, name);

	if (sl == NULL)
		return -ENOENT;
	model_slice_free(sl);
	return 0;
}

struct el_service *
model_find_service(const struct el_model *m, const char *ns, const char *name)
{
	return vec_find(m->svcs, m->n_svcs, ns, name);
}

struct el_endpoints *
model_find_endpoints(const struct el_model *m, const char *ns, const char *name)
{
	return vec_find(m->eps, m->n_eps, ns, name);
}

struct el_slice *
model_find_slice(const struct el_model *m, const char *ns, const char *name)
{
	return vec_find(m->slices, m->n_slices, ns, name);
}

static int
svc_rev_cmp(const void *a, const void *b)
{
	const struct el_service *x = *(const struct el_service *const *)a;
	const struct el_service *y = *(const struct el_service *const *)b;

	return x->rev < y->rev ? -1 : x->rev > y->rev;
}

int
model_merge(struct el_model *dst, struct el_model *src)
{
	if (vec_reserve(&dst->svcs, &dst->cap_svcs, dst->n_svcs + src->n_svcs) < 0 ||
	    vec_reserve(&dst->eps, &dst->cap_eps, dst->n_eps + src->n_eps) < 0 ||
	    vec_reserve(&dst->slices, &dst->cap_slices, dst->n_slices + src->n_slices) < 0 ||
	    vec_reserve(&dst->by_svc, &dst->cap_by_svc, dst->n_by_svc + src->n_slices) < 0)
		return -ENOMEM;
	/* services keep their relative order of arrival: revisions decide who
	 * was first when two claim the same nodePort */
	if (src->n_svcs > 1)
		qsort(src->svcs, src->n_svcs, sizeof(*src->svcs), svc_rev_cmp);
	for (unsigned i = 0; i < src->n_svcs; i++) {
		src->svcs[i]->rev = ++dst->rev;
		model_service_free(vec_put(&dst->svcs, &dst->n_svcs, src->svcs[i]));
	}
	for (unsigned i = 0; i < src->n_eps; i++) {
		src->eps[i]->rev = ++dst->rev;
		model_endpoints_free(vec_put(&dst->eps, &dst->n_eps, src->eps[i]));
	}
	for (unsigned i = 0; i < src->n_slices; i++) {
		src->slices[i]->rev = ++dst->rev;
		struct el_slice *old = vec_put(&dst->slices, &dst->n_slices, src->slices[i]);
		if (old != NULL)
			by_svc_remove(dst, old);
		by_svc_insert(dst, src->slices[i]);
		model_slice_free(old);
	}
	src->n_svcs = src->n_eps = src->n_slices = 0;
	el_model_free(src);
	return 0;
}

int
model_clone(struct el_model *dst, const struct el_model *src)
{
	el_model_init(dst);
	if (vec_reserve(&dst->svcs, &dst->cap_svcs, src->n_svcs) < 0 ||
	    vec_reserve(&dst->eps, &dst->cap_eps, src->n_eps) < 0 ||
	    vec_reserve(&dst->slices, &dst->cap_slices, src->n_slices) < 0)
		goto nomem;
	for (unsigned i = 0; i < src->n_svcs; i++) {
		dst->svcs[i] = model_service_dup(src->svcs[i]);
		if (dst->svcs[i] == NULL)
			goto nomem;
		dst->n_svcs++;
	}
	for (unsigned i = 0; i < src->n_eps; i++) {
		dst->eps[i] = model_endpoints_dup(src->eps[i]);
		if (dst->eps[i] == NULL)
			goto nomem;
		dst->n_eps++;
	}
	for (unsigned i = 0; i < src->n_slices; i++) {
		dst->slices[i] = model_slice_dup(src->slices[i]);
		if (dst->slices[i] == NULL)
			goto nomem;
		dst->n_slices++;
	}
	if (vec_reserve(&dst->by_svc, &dst->cap_by_svc, src->n_by_svc) < 0)
		goto nomem;
	for (unsigned i = 0; i < dst->n_slices; i++)
		if (dst->slices[i]->service_name[0] != '\0')
			dst->by_svc[dst->n_by_svc++] = dst->slices[i];
	qsort(dst->by_svc, dst->n_by_svc, sizeof(*dst->by_svc), by_svc_order);
	dst->rev = src->rev;
	return 0;
nomem:
	el_model_free(dst);
	return -ENOMEM;
}

/* ---- JSON output ---- */

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 512;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
jb_raw(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

static void
jb_fmt(struct jbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		jb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string (RFC 8259 section 7). */
static void
jb_str(struct jbuf *b, const char *s)
{
	jb_put(b, "\"", 1);
	while (*s) {
		size_t n = 0;
		unsigned char c;

		/* a run of characters that stand for themselves, in one piece */
		while ((c = (unsigned char)s[n]) >= 0x20 && c != '"' && c != '\\')
			n++;
		if (n > 0) {
			jb_put(b, s, n);
			s += n;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			jb_put(b, esc, 2);
		} else {
			jb_fmt(b, "\\u%04x", c);
		}
		s++;
	}
	jb_put(b, "\"", 1);
}

static void
jb_key(struct jbuf *b, bool *first, const char *key)
{
	if (!*first)
		jb_raw(b, ",");
	*first = false;
	jb_str(b, key);
	jb_raw(b, ":");
}

static void
jb_ip(struct jbuf *b, const struct el_ip *ip)
{
	char buf[EL_IP_STRLEN];

	jb_str(b, el_ip_fmt(ip, buf, sizeof(buf)));
}

static void
jb_kv(struct jbuf *b, const struct el_kv *kv, unsigned n)
{
	bool first = true;

	jb_raw(b, "{");
	for (unsigned i = 0; i < n; i++) {
		jb_key(b, &first, kv[i].key);
		jb_str(b, kv[i].value);
	}
	jb_raw(b, "}");
}

static void
jb_ip_list(struct jbuf *b, const struct el_ip *ips, unsigned n)
{
	jb_raw(b, "[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			jb_raw(b, ",");
		jb_ip(b, &ips[i]);
	}
	jb_raw(b, "]");
}

static void
jb_meta(struct jbuf *b, const char *api, const char *kind, const char *ns, const char *name,
	uint64_t rev, const struct el_kv *labels, unsigned n_labels)
{
	jb_raw(b, "{\"apiVersion\":");
	jb_str(b, api);
	jb_raw(b, ",\"kind\":");
	jb_str(b, kind);
	jb_raw(b, ",\"metadata\":{\"name\":");
	jb_str(b, name);
	jb_raw(b, ",\"namespace\":");
	jb_str(b, ns);
	jb_fmt(b, ",\"resourceVersion\":\"%" PRIu64 "\"", rev);
	if (n_labels > 0) {
		jb_raw(b, ",\"labels\":");
		jb_kv(b, labels, n_labels);
	}
	jb_raw(b, "}");
}

static char *
jb_done(struct jbuf *b)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

static void
jb_ep_port(struct jbuf *b, const char *name, int32_t port, uint8_t proto)
{
	bool first = true;

	jb_raw(b, "{");
	if (name[0] != '\0') {
		jb_key(b, &first, "name");
		jb_str(b, name);
	}
	if (port != 0) {
		jb_key(b, &first, "port");
		jb_fmt(b, "%d", port);
	}
	jb_key(b, &first, "protocol");
	jb_str(b, model_proto_name(proto));
	jb_raw(b, "}");
}

char *
model_service_to_json(const struct el_service *s)
{
	struct jbuf b = {0};
	char ip[EL_IP_STRLEN];

	jb_meta(&b, "v1", "Service", s->ns, s->name, s->rev, s->labels, s->n_labels);
	jb_raw(&b, ",\"spec\":{\"type\":");
	jb_str(&b, model_svc_type_name(s->type));
	if (s->n_selector > 0) {
		jb_raw(&b, ",\"selector\":");
		jb_kv(&b, s->selector, s->n_selector);
	}
	if (s->headless) {
		jb_raw(&b, ",\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"]");
	} else if (s->n_cluster_ips > 0) {
		jb_raw(&b, ",\"clusterIP\":");
		jb_ip(&b, &s->cluster_ips[0]);
		jb_raw(&b, ",\"clusterIPs\":");
		jb_ip_list(&b, s->cluster_ips, s->n_cluster_ips);
	}
	if (s->ip_family_policy != EL_IPFP_UNSET) {
		jb_raw(&b, ",\"ipFamilyPolicy\":");
		jb_str(&b, model_ip_family_policy_name(s->ip_family_policy));
	}
	if (s->n_ip_families > 0) {
		jb_raw(&b, ",\"ipFamilies\":[");
		for (unsigned i = 0; i < s->n_ip_families; i++)
			jb_raw(&b, s->ip_families[i] == EL_AF_INET6
				       ? (i ? ",\"IPv6\"" : "\"IPv6\"")
				       : (i ? ",\"IPv4\"" : "\"IPv4\""));
		jb_raw(&b, "]");
	}
	if (s->n_external_ips > 0) {
		jb_raw(&b, ",\"externalIPs\":");
		jb_ip_list(&b, s->external_ips, s->n_external_ips);
	}
	if (s->lb_ip.family != EL_AF_NONE) {
		jb_raw(&b, ",\"loadBalancerIP\":");
		jb_ip(&b, &s->lb_ip);
	}
	if (s->n_src_ranges > 0) {
		jb_raw(&b, ",\"loadBalancerSourceRanges\":[");
		for (unsigned i = 0; i < s->n_src_ranges; i++) {
			jb_raw(&b, i ? ",\"" : "\"");
			jb_raw(&b, el_ip_fmt(&s->src_ranges[i].addr, ip, sizeof(ip)));
			jb_fmt(&b, "/%u\"", s->src_ranges[i].len);
		}
		jb_raw(&b, "]");
	}
	jb_raw(&b, ",\"sessionAffinity\":");
	jb_str(&b, s->affinity_client_ip ? "ClientIP" : "None");
	if (s->affinity_client_ip)
		jb_fmt(&b, ",\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":%d}}",
		       s->affinity_timeout);
	if (s->type == EL_SVC_NODE_PORT || s->type == EL_SVC_LOAD_BALANCER) {
		jb_raw(&b, ",\"externalTrafficPolicy\":");
		jb_str(&b, s->etp_local ? "Local" : "Cluster");
	}
	if (s->external_name != NULL) {
		jb_raw(&b, ",\"externalName\":");
		jb_str(&b, s->external_name);
	}
	jb_raw(&b, ",\"ports\":[");
	for (unsigned i = 0; i < s->n_ports; i++) {
		const struct el_svc_port *p = &s->ports[i];
		bool first = true;
		jb_raw(&b, i ? ",{" : "{");
		if (p->name[0] != '\0') {
			jb_key(&b, &first, "name");
			jb_str(&b, p->name);
		}
		jb_key(&b, &first, "protocol");
		jb_str(&b, model_proto_name(p->proto));
		jb_key(&b, &first, "port");
		jb_fmt(&b, "%d", p->port);
		jb_key(&b, &first, "targetPort");
		if (p->target_name[0] != '\0')
			jb_str(&b, p->target_name);
		else
			jb_fmt(&b, "%d", p->target_port ? p->target_port : p->port);
		if (p->node_port != 0) {
			jb_key(&b, &first, "nodePort");
			jb_fmt(&b, "%d", p->node_port);
		}
		jb_raw(&b, "}");
	}
	jb_raw(&b, "]},\"status\":{\"loadBalancer\":{");
	if (s->n_lb_ingress > 0) {
		jb_raw(&b, "\"ingress\":[");
		for (unsigned i = 0; i < s->n_lb_ingress; i++) {
			jb_raw(&b, i ? ",{\"ip\":" : "{\"ip\":");
			jb_ip(&b, &s->lb_ingress[i]);
			jb_raw(&b, "}");
		}
		jb_raw(&b, "]");
	}
	jb_raw(&b, "}}}");
	return jb_done(&b);
}

char *
model_endpoints_to_json(const struct el_endpoints *e)
{
	struct jbuf b = {0};

	jb_meta(&b, "v1", "Endpoints", e->ns, e->name, e->rev, e->labels, e->n_labels);
	jb_raw(&b, ",\"subsets\":[");
	for (unsigned i = 0; i < e->n_subsets; i++) {
		const struct el_ep_subset *ss = &e->subsets[i];
		bool first = true;
		jb_raw(&b, i ? ",{" : "{");
		if (ss->n_addrs > 0) {
			jb_key(&b, &first, "addresses");
			jb_raw(&b, "[");
			for (unsigned j = 0; j < ss->n_addrs; j++) {
				jb_raw(&b, j ? ",{\"ip\":" : "{\"ip\":");
				jb_ip(&b, &ss->addrs[j]);
				jb_raw(&b, "}");
			}
			jb_raw(&b, "]");
		}
		if (ss->n_not_ready > 0) {
			jb_key(&b, &first, "notReadyAddresses");
			jb_raw(&b, "[");
			for (unsigned j = 0; j < ss->n_not_ready; j++) {
				jb_raw(&b, j ? ",{\"ip\":" : "{\"ip\":");
				jb_ip(&b, &ss->not_ready[j]);
				jb_raw(&b, "}");
			}
			jb_raw(&b, "]");
		}
		jb_key(&b, &first, "ports");
		jb_raw(&b, "[");
		for (unsigned j = 0; j < ss->n_ports; j++) {
			if (j)
				jb_raw(&b, ",");
			jb_ep_port(&b, ss->ports[j].name, ss->ports[j].port, ss->ports[j].proto);
		}
		jb_raw(&b, "]}");
	}
	jb_raw(&b, "]}");
	return jb_done(&b);
}

static void
jb_cond(struct jbuf *b, bool *first, const char *key, int8_t v)
{
	if (v == EL_COND_NIL)
		return;
	jb_key(b, first, key);
	jb_raw(b, v ? "true" : "false");
}

char *
model_slice_to_json(const struct el_slice *sl)
{
	struct jbuf b = {0};

	jb_meta(&b, "discovery.k8s.io/v1", "EndpointSlice", sl->ns, sl->name, sl->rev, sl->labels,
		sl->n_labels);
	jb_raw(&b, ",\"addressType\":");
	jb_str(&b, sl->addr_type == EL_ADDR_FQDN   ? "FQDN"
		   : sl->addr_type == EL_ADDR_IPV6 ? "IPv6"
						   : "IPv4");
	jb_raw(&b, ",\"endpoints\":[");
	for (unsigned i = 0; i < sl->n_eps; i++) {
		const struct el_slice_ep *ep = &sl->eps[i];
		bool first = true;
		jb_raw(&b, i ? ",{\"addresses\":[" : "{\"addresses\":[");
		for (unsigned j = 0; j < ep->n_addrs; j++) {
			if (j)
				jb_raw(&b, ",");
			if (ep->fqdns != NULL)
				jb_str(&b, ep->fqdns[j]);
			else
				jb_ip(&b, &ep->addrs[j]);
		}
		jb_raw(&b, "],\"conditions\":{");
		jb_cond(&b, &first, "ready", ep->ready);
		jb_cond(&b, &first, "serving", ep->serving);
		jb_cond(&b, &first, "terminating", ep->terminating);
		jb_raw(&b, "}}");
	}
	jb_raw(&b, "],\"ports\":[");
	for (unsigned i = 0; i < sl->n_ports; i++) {
		if (i)
			jb_raw(&b, ",");
		jb_ep_port(&b, sl->ports[i].name, sl->ports[i].port, sl->ports[i].proto);
	}
	jb_raw(&b, "]}");
	return jb_done(&b);
}
