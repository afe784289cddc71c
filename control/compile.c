/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From the service model to a snapshot (compile.h).
 *
 * Endpoint selection and target port resolution follow kube-proxy
 * (pkg/proxy: an endpoint port named like the service port gives the target
 * port; ready endpoints first, else serving and terminating ones). Each
 * service port gets a Maglev table (maglev.h, Eisenbud et al., NSDI 2016).
 *
 * A compile runs in two steps: allocation (nodePorts, LoadBalancer IPs) and
 * build (service objects, frontend and owned-address tables, routes). Both
 * write only into scratch state; the compile state takes the new id maps,
 * allocations and service objects at the end, so a failed compile changes
 * nothing.
 *
 * Service objects are refcounted here (not in the snapshot): each snapshot
 * holds one reference per object it lists, and the id map holds one on the
 * object of the latest snapshot. A service port whose inputs did not change
 * (same backends, affinity, source ranges, name) reuses the previous object,
 * Maglev table included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/compile.h"
#include "edgelb/maglev.h"
#include "edgelb/model.h"

/* ---- a small hash map: byte-string keys, fixed value struct ---- */

struct hval {
	uint32_t id;	     /* service port id, backend id, or nodePort */
	struct svc_obj *obj; /* service port: its object in the latest snapshot */
	struct el_ip ip;     /* LoadBalancer address */
	uint32_t aux;	     /* free for the user of the map */
};

struct hent {
	char *key; /* NULL = empty slot */
	uint32_t klen;
	uint32_t hash;
	struct hval v;
};

struct hmap {
	struct hent *slots;
	uint32_t mask; /* slots - 1 */
	uint32_t n;
};

static uint32_t
hmap_hash(const void *key, uint32_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (uint32_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

static void
hmap_free(struct hmap *h)
{
	if (h->slots != NULL)
		for (uint32_t i = 0; i <= h->mask; i++)
			free(h->slots[i].key);
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

static struct hent *
hmap_slot(const struct hmap *h, const void *key, uint32_t klen, uint32_t hash)
{
	uint32_t i = hash & h->mask;

	for (;;) {
		struct hent *e = &h->slots[i];
		if (e->key == NULL ||
		    (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0))
			return e;
		i = (i + 1) & h->mask;
	}
}

static struct hval *
hmap_get(const struct hmap *h, const void *key, uint32_t klen)
{
	if (h->slots == NULL)
		return NULL;
	struct hent *e = hmap_slot(h, key, klen, hmap_hash(key, klen));
	return e->key != NULL ? &e->v : NULL;
}

static int
hmap_grow(struct hmap *h)
{
	uint32_t size = h->slots ? (h->mask + 1) * 2 : 64;
	struct hmap n = {.slots = calloc(size, sizeof(struct hent)), .mask = size - 1, .n = h->n};

	if (n.slots == NULL)
		return -ENOMEM;
	if (h->slots != NULL)
		for (uint32_t i = 0; i <= h->mask; i++) {
			struct hent *e = &h->slots[i];
			if (e->key != NULL)
				*hmap_slot(&n, e->key, e->klen, e->hash) = *e;
		}
	free(h->slots);
	*h = n;
	return 0;
}

/* Value for @p key, inserted zeroed when absent; NULL on ENOMEM. */
static struct hval *
hmap_put(struct hmap *h, const void *key, uint32_t klen)
{
	uint32_t hash = hmap_hash(key, klen);
	struct hent *e;

	if (h->slots == NULL || (h->n + 1) * 2 > h->mask + 1)
		if (hmap_grow(h) < 0)
			return NULL;
	e = hmap_slot(h, key, klen, hash);
	if (e->key == NULL) {
		e->key = malloc(klen ? klen : 1);
		if (e->key == NULL)
			return NULL;
		memcpy(e->key, key, klen);
		e->klen = klen;
		e->hash = hash;
		memset(&e->v, 0, sizeof(e->v));
		h->n++;
	}
	return &e->v;
}

/* ---- compile state ---- */

/* A service port as one allocation: the snapshot object, then its backends,
 * source ranges and Maglev table. */
struct svc_obj {
	struct el_snap_svc svc; /* first: snapshots point here */
	uint32_t refs;
};

struct compile_state {
	const struct el_config *cfg;
	uint64_t generation;
	uint32_t next_svc_id;
	uint32_t next_be_id;
	struct hmap svc_ids;	/* service port key -> id, obj */
	struct hmap be_ids;	/* (service port id, ip, port) -> id */
	struct hmap node_ports; /* service port key -> nodePort */
	struct hmap lb_ips;	/* "ns/name" -> address */
	struct {
		uint16_t port_id;
		uint8_t mac[6];
	} ifaces[EL_CFG_MAX_IFACES];
	char **warnings;
	unsigned n_warnings;
};

static void
svc_obj_unref(struct svc_obj *o)
{
	if (o != NULL && --o->refs == 0)
		snapshot_mfree(o);
}

static void
warnings_clear(struct compile_state *cs)
{
	for (unsigned i = 0; i < cs->n_warnings; i++)
		free(cs->warnings[i]);
	free(cs->warnings);
	cs->warnings = NULL;
	cs->n_warnings = 0;
}

/* Record a warning; a warning that cannot be stored is dropped. */
static void
warn(struct compile_state *cs, const char *fmt, ...)
{
	char buf[320], *s, **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nw = realloc(cs->warnings, (cs->n_warnings + 1) * sizeof(*nw));
	if (nw == NULL)
		return;
	cs->warnings = nw;
	s = strdup(buf);
	if (s != NULL)
		cs->warnings[cs->n_warnings++] = s;
}

struct compile_state *
compile_state_new(const struct el_config *cfg)
{
	struct compile_state *cs = calloc(1, sizeof(*cs));

	if (cs != NULL)
		cs->cfg = cfg;
	return cs;
}

static void
svc_ids_release(struct hmap *h)
{
	if (h->slots != NULL)
		for (uint32_t i = 0; i <= h->mask; i++)
			if (h->slots[i].key != NULL)
				svc_obj_unref(h->slots[i].v.obj);
	hmap_free(h);
}

void
compile_state_free(struct compile_state *cs)
{
	if (cs == NULL)
		return;
	svc_ids_release(&cs->svc_ids);
	hmap_free(&cs->be_ids);
	hmap_free(&cs->node_ports);
	hmap_free(&cs->lb_ips);
	warnings_clear(cs);
	free(cs);
}

void
compile_set_iface(struct compile_state *cs, unsigned iface, uint16_t port_id, const uint8_t mac[6])
{
	if (iface >= EL_CFG_MAX_IFACES)
		return;
	cs->ifaces[iface].port_id = port_id;
	memcpy(cs->ifaces[iface].mac, mac, 6);
}

unsigned
compile_warnings(const struct compile_state *cs, const char *const **list)
{
	*list = (const char *const *)cs->warnings;
	return cs->n_warnings;
}

/* ---- keys and addresses ---- */

/* "ns/name/PROTO/portname", or ".../#port" for an unnamed port. */
static uint32_t
svc_port_key(char *buf, size_t len, const struct el_service *s, const struct el_svc_port *p)
{
	int n;

	if (p->name[0] != '\0')
		n = snprintf(buf, len, "%s/%s/%s/%s", s->ns, s->name, model_proto_name(p->proto),
			     p->name);
	else
		n = snprintf(buf, len, "%s/%s/%s/#%d", s->ns, s->name, model_proto_name(p->proto),
			     p->port);
	return n < 0 ? 0 : (uint32_t)((size_t)n < len ? (size_t)n : len - 1);
}

static uint32_t
svc_key(char *buf, size_t len, const struct el_service *s)
{
	int n = snprintf(buf, len, "%s/%s", s->ns, s->name);

	return n < 0 ? 0 : (uint32_t)((size_t)n < len ? (size_t)n : len - 1);
}

#define IP_KEY_LEN 17

static void
ip_key(const struct el_ip *ip, uint8_t key[IP_KEY_LEN])
{
	memset(key, 0, IP_KEY_LEN);
	key[0] = ip->family;
	if (ip->family == EL_AF_INET)
		memcpy(key + 1, &ip->v4, 4);
	else if (ip->family == EL_AF_INET6)
		memcpy(key + 1, ip->v6, 16);
}

/* A clean copy (no stray bytes in padding or unused union bytes), so
 * addresses compare with memcmp. */
static struct el_ip
ip_clean(const struct el_ip *ip)
{
	struct el_ip c;

	memset(&c, 0, sizeof(c));
	c.family = ip->family;
	if (ip->family == EL_AF_INET)
		c.v4 = ip->v4;
	else if (ip->family == EL_AF_INET6)
		memcpy(c.v6, ip->v6, 16);
	return c;
}

/* Clear the host bits of a prefix. */
static struct el_cidr
cidr_network(const struct el_cidr *c)
{
	struct el_cidr n;
	uint8_t *b;
	unsigned bytes;

	memset(&n, 0, sizeof(n));
	n.addr = ip_clean(&c->addr);
	n.len = c->len;
	b = n.addr.family == EL_AF_INET ? (uint8_t *)&n.addr.v4 : n.addr.v6;
	bytes = n.addr.family == EL_AF_INET ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit = i * 8;
		if (bit >= c->len)
			b[i] = 0;
		else if (bit + 8 > c->len)
			b[i] &= (uint8_t)(0xff << (8 - (c->len - bit)));
	}
	return n;
}

static void
ip_inc(struct el_ip *ip)
{
	uint8_t *b = ip->family == EL_AF_INET ? (uint8_t *)&ip->v4 : ip->v6;
	int i = ip->family == EL_AF_INET ? 3 : 15;

	for (; i >= 0; i--)
		if (++b[i] != 0)
			break;
}

static bool
pool_contains(const struct el_cfg_pool *p, const struct el_ip *ip)
{
	return p->first.family == ip->family && el_ip_cmp(ip, &p->first) >= 0 &&
	       el_ip_cmp(ip, &p->last) <= 0;
}

static bool
in_any_pool(const struct el_config *cfg, const struct el_ip *ip)
{
	for (unsigned i = 0; i < cfg->n_pools; i++)
		if (pool_contains(&cfg->pools[i], ip))
			return true;
	return false;
}

static unsigned
proto_index(uint8_t proto)
{
	return proto == EL_PROTO_TCP ? 0 : proto == EL_PROTO_UDP ? 1 : 2;
}

static bool
svc_has_node_ports(const struct el_service *s)
{
	return (s->type == EL_SVC_NODE_PORT || s->type == EL_SVC_LOAD_BALANCER) &&
	       model_service_programmable(s);
}

/* ---- the scratch state of one compile ---- */

struct build {
	struct compile_state *cs;
	const struct el_config *cfg;
	const struct el_model *m;
	char *err;
	size_t errlen;

	/* allocations: np[np_base[i] + j] is port j of service i */
	unsigned *np_base;
	int32_t *np;
	struct el_ip *lb; /* per service; family 0 = none */
	uint8_t np_used[3][65536 / 8];
	struct hmap lb_used; /* address -> aux 1 */

	/* new maps, taken by the state on success */
	struct hmap svc_ids, be_ids, node_ports, lb_ips;

	/* EndpointSlices that name a service, sorted by (ns, service name) */
	const struct el_slice **slices;
	unsigned n_slices;

	/* service objects of the new snapshot */
	struct svc_obj **svcs;
	unsigned n_svcs, cap_svcs;

	/* frontends and owned addresses */
	struct el_snap_fe *fes;
	unsigned n_fes, cap_fes;
	struct hmap fe_seen; /* (ip, port, proto) -> aux = index in fes + 1 */
	struct el_snap_owned *owns;
	unsigned n_owns, cap_owns;
	struct hmap own_seen; /* ip -> aux = index in owns + 1 */

	/* scratch for one service port */
	struct el_snap_backend *cand;
	unsigned n_cand, cap_cand;
};

static int
fail(struct build *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->err != NULL && b->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
grow(void *arrp, unsigned *cap, unsigned want, size_t size)
{
	void *arr, *na;
	unsigned ncap;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < want)
		ncap *= 2;
	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (size_t)ncap * size);
	if (na == NULL)
		return -ENOMEM;
	memcpy(arrp, &na, sizeof(na));
	*cap = ncap;
	return 0;
}

/* ---- allocation: nodePorts ---- */

static bool
np_is_used(const struct build *b, uint8_t proto, int32_t port)
{
	return b->np_used[proto_index(proto)][port / 8] & (1u << (port % 8));
}

static void
np_claim(struct build *b, uint8_t proto, int32_t port)
{
	b->np_used[proto_index(proto)][port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool
np_in_range(const struct build *b, int32_t port)
{
	return port >= b->cfg->nodeport_min && port <= b->cfg->nodeport_max;
}

static int
rev_order_cmp(const void *a, const void *b, void *arg)
{
	const struct el_model *m = arg;
	uint64_t x = m->svcs[*(const unsigned *)a]->rev, y = m->svcs[*(const unsigned *)b]->rev;

	return x < y ? -1 : x > y;
}

/* The service (among the first @p upto of @p order) that holds (proto, port). */
static const struct el_service *
np_owner(const struct build *b, const unsigned *order, unsigned upto, uint8_t proto, int32_t port)
{
	for (unsigned k = 0; k < upto; k++) {
		const struct el_service *s = b->m->svcs[order[k]];
		for (unsigned j = 0; j < s->n_ports; j++)
			if (s->ports[j].proto == proto && b->np[b->np_base[order[k]] + j] == port)
				return s;
	}
	return NULL;
}

/*
 * NodePorts as the API server hands them out: services in the order they
 * were stored (model revision) keep what they hold, an explicit nodePort
 * someone else holds is refused; a port allocated earlier (written back into
 * the model, or remembered by the compile state) is kept while it is free
 * and in range; then the rest get the lowest free port of the range.
 */
static int
alloc_node_ports(struct build *b, const unsigned *order)
{
	const struct el_model *m = b->m;
	char key[256];

	for (unsigned k = 0; k < m->n_svcs; k++) {
		const struct el_service *s = m->svcs[order[k]];
		if (!svc_has_node_ports(s))
			continue;
		for (unsigned j = 0; j < s->n_ports; j++) {
			const struct el_svc_port *p = &s->ports[j];
			int32_t want = p->node_port;
			if (want != 0 && !p->node_port_auto) {
				if (!np_in_range(b, want))
					return fail(b, -EINVAL,
						    "%s/%s: spec.ports[%u].nodePort: %d is outside "
						    "the NodePort range %u-%u",
						    s->ns, s->name, j, want, b->cfg->nodeport_min,
						    b->cfg->nodeport_max);
				if (np_is_used(b, p->proto, want)) {
					const struct el_service *o =
					    np_owner(b, order, k + 1, p->proto, want);
					return fail(b, -EEXIST,
						    "%s/%s: spec.ports[%u].nodePort: %d/%s is "
						    "already allocated to %s/%s",
						    s->ns, s->name, j, want,
						    model_proto_name(p->proto), o ? o->ns : "?",
						    o ? o->name : "?");
				}
			} else {
				const struct hval *v = hmap_get(
				    &b->cs->node_ports, key, svc_port_key(key, sizeof(key), s, p));
				if (want == 0 && v != NULL)
					want = (int32_t)v->id;
				if (want == 0 || !np_in_range(b, want) ||
				    np_is_used(b, p->proto, want))
					continue;
			}
			np_claim(b, p->proto, want);
			b->np[b->np_base[order[k]] + j] = want;
		}
	}
	for (unsigned i = 0; i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		if (!svc_has_node_ports(s))
			continue;
		for (unsigned j = 0; j < s->n_ports; j++) {
			const struct el_svc_port *p = &s->ports[j];
			int32_t port;
			if (b->np[b->np_base[i] + j] != 0)
				continue;
			for (port = b->cfg->nodeport_min; port <= b->cfg->nodeport_max; port++)
				if (!np_is_used(b, p->proto, port))
					break;
			if (port > b->cfg->nodeport_max)
				return fail(
				    b, -ENOSPC,
				    "%s/%s: spec.ports[%u].nodePort: no free %s port left in "
				    "the NodePort range %u-%u",
				    s->ns, s->name, j, model_proto_name(p->proto),
				    b->cfg->nodeport_min, b->cfg->nodeport_max);
			np_claim(b, p->proto, port);
			b->np[b->np_base[i] + j] = port;
		}
	}
	/* remember every allocation of this compile */
	for (unsigned i = 0; i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		for (unsigned j = 0; j < s->n_ports; j++) {
			if (b->np[b->np_base[i] + j] == 0)
				continue;
			struct hval *v = hmap_put(&b->node_ports, key,
						  svc_port_key(key, sizeof(key), s, &s->ports[j]));
			if (v == NULL)
				return fail(b, -ENOMEM, "out of memory");
			v->id = (uint32_t)b->np[b->np_base[i] + j];
		}
	}
	return 0;
}

/* ---- allocation: LoadBalancer addresses ---- */

/* Holder of an address: aux LB_EXPLICIT or LB_HELD, id = service index + 1. */
#define LB_EXPLICIT 1
#define LB_HELD	    2

static const struct hval *
lb_holder(const struct build *b, const struct el_ip *ip)
{
	uint8_t k[IP_KEY_LEN];

	ip_key(ip, k);
	return hmap_get(&b->lb_used, k, IP_KEY_LEN);
}

static bool
lb_is_used(const struct build *b, const struct el_ip *ip)
{
	return lb_holder(b, ip) != NULL;
}

static int
lb_claim(struct build *b, const struct el_ip *ip, unsigned svc, uint32_t how)
{
	uint8_t k[IP_KEY_LEN];
	struct hval *v;

	ip_key(ip, k);
	v = hmap_put(&b->lb_used, k, IP_KEY_LEN);
	if (v == NULL)
		return -ENOMEM;
	if (v->aux == 0) {
		v->aux = how;
		v->id = svc + 1;
	}
	b->lb[svc] = ip_clean(ip);
	return 0;
}

/* The family a service prefers for its LoadBalancer address; 0 = any. */
static uint8_t
svc_family(const struct el_service *s)
{
	if (s->n_ip_families > 0)
		return s->ip_families[0];
	if (s->n_cluster_ips > 0)
		return s->cluster_ips[0].family;
	return EL_AF_NONE;
}

/* First free address of the pools of @p family (any pool when
 * EL_AF_NONE), pools in configuration order. */
static bool
lb_first_free(struct build *b, uint8_t family, struct el_ip *out)
{
	for (unsigned i = 0; i < b->cfg->n_pools; i++) {
		const struct el_cfg_pool *p = &b->cfg->pools[i];
		if (family != EL_AF_NONE && p->first.family != family)
			continue;
		if (p->first.family != p->last.family || el_ip_cmp(&p->first, &p->last) > 0)
			continue;
		struct el_ip ip = ip_clean(&p->first);
		for (;;) {
			if (!lb_is_used(b, &ip)) {
				*out = ip;
				return true;
			}
			if (el_ip_cmp(&ip, &p->last) >= 0)
				break;
			ip_inc(&ip);
		}
	}
	return false;
}

static bool
svc_wants_lb(const struct el_service *s)
{
	return s->type == EL_SVC_LOAD_BALANCER && model_service_programmable(s);
}

/*
 * LoadBalancer addresses, services in the order they were stored: an
 * explicit spec.loadBalancerIP must lie in a pool and may be shared with
 * other explicit requests (their frontends may still not collide), not with
 * an address edgelb handed to an older service; an address held before
 * (remembered, or in the object's status) is kept while it is free; the rest
 * get the first free pool address of their family.
 */
static int
alloc_lb_ips(struct build *b, const unsigned *order)
{
	const struct el_model *m = b->m;
	char key[160], ipbuf[EL_IP_STRLEN];
	int rc;

	for (unsigned k = 0; k < m->n_svcs; k++) {
		unsigned si = order[k];
		const struct el_service *s = m->svcs[si];
		struct el_ip want = s->lb_ip;
		const struct hval *h;
		if (!svc_wants_lb(s))
			continue;
		if (want.family != EL_AF_NONE) {
			if (!in_any_pool(b->cfg, &want))
				return fail(b, -EINVAL,
					    "%s/%s: spec.loadBalancerIP: %s is not inside any "
					    "loadbalancer pool",
					    s->ns, s->name, el_ip_fmt(&want, ipbuf, sizeof(ipbuf)));
			h = lb_holder(b, &want);
			if (h != NULL && h->aux == LB_HELD) {
				const struct el_service *o = m->svcs[h->id - 1];
				return fail(
				    b, -EEXIST,
				    "%s/%s: spec.loadBalancerIP: %s is already allocated to "
				    "%s/%s",
				    s->ns, s->name, el_ip_fmt(&want, ipbuf, sizeof(ipbuf)), o->ns,
				    o->name);
			}
			rc = lb_claim(b, &want, si, LB_EXPLICIT);
		} else {
			const struct hval *v =
			    hmap_get(&b->cs->lb_ips, key, svc_key(key, sizeof(key), s));
			if (v != NULL)
				want = v->ip;
			else if (s->n_lb_ingress > 0)
				want = s->lb_ingress[0];
			if (want.family == EL_AF_NONE || !in_any_pool(b->cfg, &want) ||
			    lb_is_used(b, &want))
				continue;
			rc = lb_claim(b, &want, si, LB_HELD);
		}
		if (rc < 0)
			return fail(b, rc, "out of memory");
	}
	for (unsigned i = 0; i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		struct el_ip ip;
		if (!svc_wants_lb(s) || b->lb[i].family != EL_AF_NONE)
			continue;
		uint8_t family = svc_family(s);
		if (!lb_first_free(b, family, &ip))
			return fail(b, -ENOSPC,
				    "%s/%s: status.loadBalancer.ingress: no free %saddress left in "
				    "the loadbalancer pools",
				    s->ns, s->name,
				    family == EL_AF_INET    ? "IPv4 "
				    : family == EL_AF_INET6 ? "IPv6 "
							    : "");
		rc = lb_claim(b, &ip, i, LB_HELD);
		if (rc < 0)
			return fail(b, rc, "out of memory");
	}
	for (unsigned i = 0; i < m->n_svcs; i++) {
		if (b->lb[i].family == EL_AF_NONE)
			continue;
		struct hval *v = hmap_put(&b->lb_ips, key, svc_key(key, sizeof(key), m->svcs[i]));
		if (v == NULL)
			return fail(b, -ENOMEM, "out of memory");
		v->ip = b->lb[i];
	}
	return 0;
}

static int
allocate(struct build *b)
{
	const struct el_model *m = b->m;
	unsigned *order, total = 0;
	int rc;

	b->np_base = calloc(m->n_svcs + 1, sizeof(*b->np_base));
	b->lb = calloc(m->n_svcs + 1, sizeof(*b->lb));
	order = calloc(m->n_svcs + 1, sizeof(*order));
	if (b->np_base == NULL || b->lb == NULL || order == NULL) {
		free(order);
		return fail(b, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < m->n_svcs; i++) {
		b->np_base[i] = total;
		total += m->svcs[i]->n_ports;
		order[i] = i;
	}
	b->np = calloc(total + 1, sizeof(*b->np));
	if (b->np == NULL) {
		free(order);
		return fail(b, -ENOMEM, "out of memory");
	}
	qsort_r(order, m->n_svcs, sizeof(*order), rev_order_cmp, (void *)m);
	rc = alloc_node_ports(b, order);
	if (rc == 0)
		rc = alloc_lb_ips(b, order);
	free(order);
	return rc;
}

/* ---- backends ---- */

static int
slice_cmp(const void *a, const void *b)
{
	const struct el_slice *x = *(const struct el_slice *const *)a;
	const struct el_slice *y = *(const struct el_slice *const *)b;
	int c = strcmp(x->ns, y->ns);

	if (c == 0)
		c = strcmp(x->service_name, y->service_name);
	return c != 0 ? c : strcmp(x->name, y->name);
}

static int
index_slices(struct build *b)
{
	const struct el_model *m = b->m;

	b->slices = calloc(m->n_slices + 1, sizeof(*b->slices));
	if (b->slices == NULL)
		return fail(b, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < m->n_slices; i++)
		if (m->slices[i]->service_name[0] != '\0' &&
		    m->slices[i]->addr_type != EL_ADDR_FQDN)
			b->slices[b->n_slices++] = m->slices[i];
	qsort(b->slices, b->n_slices, sizeof(*b->slices), slice_cmp);
	return 0;
}

/* First slice of service (ns, name) in b->slices. */
static unsigned
slices_of(const struct build *b, const struct el_service *s)
{
	unsigned lo = 0, hi = b->n_slices;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct el_slice *sl = b->slices[mid];
		int c = strcmp(sl->ns, s->ns);
		if (c == 0)
			c = strcmp(sl->service_name, s->name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* An endpoint group's port, whichever kind it came from. */
struct gport {
	const char *name;
	int32_t port;
	uint8_t proto;
};

/*
 * Target port of service port @p sp for one endpoint group (an Endpoints
 * subset or an EndpointSlice), 0 when the group does not serve it:
 *  1. the group's port named like the service port (what kube-proxy uses;
 *     the endpoints controller writes resolved target ports under it);
 *  2. else, for a named targetPort, the group's port of that name;
 *  3. else, when the group lists no ports at all, targetPort (or port).
 */
static uint16_t
group_target(const struct el_svc_port *sp, const struct gport *gp, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (gp[i].proto == sp->proto && strcmp(gp[i].name, sp->name) == 0)
			return (uint16_t)gp[i].port;
	if (sp->target_name[0] != '\0') {
		for (unsigned i = 0; i < n; i++)
			if (gp[i].proto == sp->proto && strcmp(gp[i].name, sp->target_name) == 0)
				return (uint16_t)gp[i].port;
		return 0;
	}
	if (n == 0)
		return (uint16_t)(sp->target_port != 0 ? sp->target_port : sp->port);
	return 0;
}

static int
cand_add(struct build *b, const struct el_ip *ip, uint16_t port, uint8_t cond)
{
	if (grow(&b->cand, &b->cap_cand, b->n_cand + 1, sizeof(*b->cand)) < 0)
		return -ENOMEM;
	struct el_snap_backend *be = &b->cand[b->n_cand++];
	memset(be, 0, sizeof(*be));
	be->ip = ip_clean(ip);
	be->port = htons(port);
	be->cond = cond;
	return 0;
}

static int
backend_cmp(const void *a, const void *b)
{
	const struct el_snap_backend *x = a, *y = b;
	int c = el_ip_cmp(&x->ip, &y->ip);

	if (c != 0)
		return c;
	return ntohs(x->port) < ntohs(y->port) ? -1 : ntohs(x->port) > ntohs(y->port);
}

static int
collect_endpoints(struct build *b, const struct el_service *s, const struct el_svc_port *sp)
{
	const struct el_endpoints *e = model_find_endpoints(b->m, s->ns, s->name);
	struct gport small[16], *gp;

	if (e == NULL)
		return 0;
	for (unsigned i = 0; i < e->n_subsets; i++) {
		const struct el_ep_subset *ss = &e->subsets[i];
		uint16_t port;
		gp = ss->n_ports <= 16 ? small : calloc(ss->n_ports, sizeof(*gp));
		if (gp == NULL)
			return -ENOMEM;
		for (unsigned j = 0; j < ss->n_ports; j++)
			gp[j] = (struct gport){ss->ports[j].name, ss->ports[j].port,
					       ss->ports[j].proto};
		port = group_target(sp, gp, ss->n_ports);
		if (gp != small)
			free(gp);
		if (port == 0)
			continue;
		for (unsigned j = 0; j < ss->n_addrs; j++)
			if (cand_add(b, &ss->addrs[j], port, EL_BE_READY | EL_BE_SERVING) < 0)
				return -ENOMEM;
		for (unsigned j = 0; j < ss->n_not_ready; j++)
			if (cand_add(b, &ss->not_ready[j], port, 0) < 0)
				return -ENOMEM;
	}
	return 0;
}

static int
collect_slices(struct build *b, const struct el_service *s, const struct el_svc_port *sp)
{
	struct gport gp[100];

	for (unsigned i = slices_of(b, s); i < b->n_slices; i++) {
		const struct el_slice *sl = b->slices[i];
		uint16_t port;
		if (strcmp(sl->ns, s->ns) != 0 || strcmp(sl->service_name, s->name) != 0)
			break;
		for (unsigned j = 0; j < sl->n_ports && j < 100; j++)
			gp[j] = (struct gport){sl->ports[j].name, sl->ports[j].port,
					       sl->ports[j].proto};
		port = group_target(sp, gp, sl->n_ports < 100 ? sl->n_ports : 100);
		if (port == 0)
			continue;
		for (unsigned j = 0; j < sl->n_eps; j++) {
			const struct el_slice_ep *ep = &sl->eps[j];
			uint8_t cond = 0;
			if (ep->n_addrs == 0 || ep->addrs == NULL)
				continue;
			if (model_slice_ep_ready(ep))
				cond |= EL_BE_READY;
			if (model_slice_ep_serving(ep))
				cond |= EL_BE_SERVING;
			if (model_slice_ep_terminating(ep))
				cond |= EL_BE_TERMINATING;
			/* consumers use the first address (discovery/v1 API) */
			if (cand_add(b, &ep->addrs[0], port, cond) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Backends of one service port into b->cand: merged, deduplicated by
 * (ip, port) with their conditions or'ed, sorted, and cut to the ones that
 * may take new flows (ready; else serving and terminating; else none).
 */
static int
backends_for(struct build *b, const struct el_service *s, const struct el_svc_port *sp,
	     uint32_t svc_id)
{
	unsigned n = 0, w = 0;
	bool any_ready = false;

	b->n_cand = 0;
	if (collect_endpoints(b, s, sp) < 0 || collect_slices(b, s, sp) < 0)
		return -ENOMEM;
	if (b->n_cand > 1)
		qsort(b->cand, b->n_cand, sizeof(*b->cand), backend_cmp);
	for (unsigned i = 0; i < b->n_cand; i++) {
		if (n > 0 && backend_cmp(&b->cand[n - 1], &b->cand[i]) == 0) {
			b->cand[n - 1].cond |= b->cand[i].cond;
			continue;
		}
		b->cand[n++] = b->cand[i];
	}
	for (unsigned i = 0; i < n; i++)
		if (b->cand[i].cond & EL_BE_READY)
			any_ready = true;
	for (unsigned i = 0; i < n; i++) {
		uint8_t c = b->cand[i].cond;
		bool take = any_ready ? (c & EL_BE_READY) != 0
				      : (c & (EL_BE_SERVING | EL_BE_TERMINATING)) ==
					    (EL_BE_SERVING | EL_BE_TERMINATING);
		if (take)
			b->cand[w++] = b->cand[i];
	}
	b->n_cand = w;
	for (unsigned i = 0; i < w; i++) {
		uint8_t key[4 + IP_KEY_LEN + 2];
		struct el_snap_backend *be = &b->cand[i];
		const struct hval *old;
		struct hval *v;
		memcpy(key, &svc_id, 4);
		ip_key(&be->ip, key + 4);
		memcpy(key + 4 + IP_KEY_LEN, &be->port, 2);
		v = hmap_put(&b->be_ids, key, sizeof(key));
		if (v == NULL)
			return -ENOMEM;
		if (v->id == 0) {
			old = hmap_get(&b->cs->be_ids, key, sizeof(key));
			v->id = old != NULL ? old->id : ++b->cs->next_be_id;
		}
		be->id = v->id;
	}
	return 0;
}

/* ---- service objects ---- */

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Does @p o hold exactly what @p want and the candidates describe? */
static bool
svc_obj_same(const struct svc_obj *o, const struct el_snap_svc *want,
	     const struct el_snap_backend *bes, const struct el_cidr *ranges)
{
	const struct el_snap_svc *s = &o->svc;

	return s->id == want->id && s->proto == want->proto && s->affinity == want->affinity &&
	       s->affinity_timeout == want->affinity_timeout && strcmp(s->name, want->name) == 0 &&
	       s->n_backends == want->n_backends && s->maglev_size == want->maglev_size &&
	       s->n_src_ranges == want->n_src_ranges &&
	       (want->n_backends == 0 ||
		memcmp(s->backends, bes, want->n_backends * sizeof(*bes)) == 0) &&
	       (want->n_src_ranges == 0 ||
		memcmp(s->src_ranges, ranges, want->n_src_ranges * sizeof(*ranges)) == 0);
}

static struct svc_obj *
svc_obj_build(const struct el_snap_svc *want, const struct el_snap_backend *bes,
	      const struct el_cidr *ranges, int *rc)
{
	size_t off_be = align8(sizeof(struct svc_obj));
	size_t off_sr = align8(off_be + want->n_backends * sizeof(*bes));
	size_t off_mg = align8(off_sr + want->n_src_ranges * sizeof(*ranges));
	size_t size = off_mg + (size_t)want->maglev_size * sizeof(uint16_t);
	char *mem = snapshot_zalloc(size);
	struct svc_obj *o = (struct svc_obj *)mem;

	if (mem == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	o->svc = *want;
	if (want->n_backends > 0) {
		struct el_snap_backend *b = (struct el_snap_backend *)(mem + off_be);
		memcpy(b, bes, want->n_backends * sizeof(*bes));
		o->svc.backends = b;
	}
	if (want->n_src_ranges > 0) {
		struct el_cidr *r = (struct el_cidr *)(mem + off_sr);
		memcpy(r, ranges, want->n_src_ranges * sizeof(*ranges));
		o->svc.src_ranges = r;
	}
	if (want->maglev_size > 0) {
		uint16_t *t = (uint16_t *)(mem + off_mg);
		*rc = maglev_build(o->svc.backends, want->n_backends, t, want->maglev_size);
		if (*rc < 0) {
			snapshot_mfree(mem);
			return NULL;
		}
		o->svc.maglev = t;
	}
	return o;
}

static int
add_svc_obj(struct build *b, struct svc_obj *o)
{
	if (grow(&b->svcs, &b->cap_svcs, b->n_svcs + 1, sizeof(*b->svcs)) < 0)
		return -ENOMEM;
	o->refs++; /* the snapshot's reference */
	b->svcs[b->n_svcs++] = o;
	return 0;
}

/* ---- frontends and owned addresses ---- */

static int
add_owned(struct build *b, const struct el_ip *ip, uint8_t kind, uint8_t iface)
{
	/* an address with several roles keeps the strongest: SNAT (replies
	 * must be found), then interface, then VIP */
	static const uint8_t rank[] = {[EL_OWN_VIP] = 1, [EL_OWN_IFACE] = 2, [EL_OWN_SNAT] = 3};
	uint8_t k[IP_KEY_LEN];
	struct hval *v;

	ip_key(ip, k);
	v = hmap_put(&b->own_seen, k, IP_KEY_LEN);
	if (v == NULL)
		return -ENOMEM;
	if (v->aux != 0) {
		struct el_snap_owned *o = &b->owns[v->aux - 1];
		if (rank[kind] > rank[o->kind]) {
			/* a SNAT address that is also an interface address keeps
			 * the interface index */
			if (o->kind != EL_OWN_IFACE)
				o->iface = iface;
			o->kind = kind;
		}
		return 0;
	}
	if (grow(&b->owns, &b->cap_owns, b->n_owns + 1, sizeof(*b->owns)) < 0)
		return -ENOMEM;
	struct el_snap_owned *o = &b->owns[b->n_owns++];
	memset(o, 0, sizeof(*o));
	o->ip = ip_clean(ip);
	o->kind = kind;
	o->iface = iface;
	v->aux = b->n_owns;
	return 0;
}

static const char *
fe_kind_name(uint8_t kind)
{
	switch (kind) {
	case EL_FE_CLUSTER_IP:
		return "clusterIP";
	case EL_FE_EXTERNAL_IP:
		return "externalIP";
	case EL_FE_LB_INGRESS:
		return "loadBalancer ingress";
	case EL_FE_NODE_PORT:
		return "nodePort";
	}
	return "?";
}

/* Add a frontend for service object @p svc_idx; the first service to claim
 * (ip, port, proto) keeps it. */
static int
add_fe(struct build *b, const struct el_ip *ip, uint16_t port, uint8_t proto, uint8_t kind,
       uint32_t svc_idx)
{
	uint8_t k[IP_KEY_LEN + 3];
	struct hval *v;

	ip_key(ip, k);
	memcpy(k + IP_KEY_LEN, &port, 2);
	k[IP_KEY_LEN + 2] = proto;
	v = hmap_put(&b->fe_seen, k, sizeof(k));
	if (v == NULL)
		return -ENOMEM;
	if (v->aux != 0) {
		const struct el_snap_fe *have = &b->fes[v->aux - 1];
		char buf[EL_IP_STRLEN];
		if (have->svc != svc_idx)
			warn(b->cs, "%s %s:%u/%s of %s left out: already used by %s",
			     fe_kind_name(kind), el_ip_fmt(ip, buf, sizeof(buf)), ntohs(port),
			     model_proto_name(proto), b->svcs[svc_idx]->svc.name,
			     b->svcs[have->svc]->svc.name);
		return 0;
	}
	if (grow(&b->fes, &b->cap_fes, b->n_fes + 1, sizeof(*b->fes)) < 0)
		return -ENOMEM;
	struct el_snap_fe *f = &b->fes[b->n_fes++];
	memset(f, 0, sizeof(*f));
	f->ip = ip_clean(ip);
	f->port = port;
	f->proto = proto;
	f->kind = kind;
	f->svc = svc_idx;
	v->aux = b->n_fes;
	return 0;
}

static bool
svc_serves_family(const struct el_service *s, uint8_t family)
{
	if (s->n_ip_families > 0)
		return s->ip_families[0] == family ||
		       (s->n_ip_families > 1 && s->ip_families[1] == family);
	if (s->n_cluster_ips > 0) {
		for (unsigned i = 0; i < s->n_cluster_ips; i++)
			if (s->cluster_ips[i].family == family)
				return true;
		return false;
	}
	return true;
}

static int
svc_frontends(struct build *b, unsigned si, const struct el_svc_port *sp, uint32_t idx)
{
	const struct el_service *s = b->m->svcs[si];
	uint16_t port = htons((uint16_t)sp->port);
	int32_t np = b->np[b->np_base[si] + (unsigned)(sp - s->ports)];
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < s->n_cluster_ips; i++) {
		rc = add_fe(b, &s->cluster_ips[i], port, sp->proto, EL_FE_CLUSTER_IP, idx);
		if (rc == 0)
			rc = add_owned(b, &s->cluster_ips[i], EL_OWN_VIP, 0);
	}
	for (unsigned i = 0; rc == 0 && i < s->n_external_ips; i++) {
		rc = add_fe(b, &s->external_ips[i], port, sp->proto, EL_FE_EXTERNAL_IP, idx);
		if (rc == 0)
			rc = add_owned(b, &s->external_ips[i], EL_OWN_VIP, 0);
	}
	if (rc == 0 && b->lb[si].family != EL_AF_NONE) {
		rc = add_fe(b, &b->lb[si], port, sp->proto, EL_FE_LB_INGRESS, idx);
		if (rc == 0)
			rc = add_owned(b, &b->lb[si], EL_OWN_VIP, 0);
	}
	if (np == 0)
		return rc;
	for (unsigned i = 0; rc == 0 && i < b->cfg->n_ifaces; i++) {
		const struct el_cfg_iface *ifc = &b->cfg->ifaces[i];
		for (unsigned j = 0; rc == 0 && j < ifc->n_addrs; j++)
			if (svc_serves_family(s, ifc->addrs[j].addr.family))
				rc = add_fe(b, &ifc->addrs[j].addr, htons((uint16_t)np), sp->proto,
					    EL_FE_NODE_PORT, idx);
	}
	return rc;
}

/* ---- one service ---- */

static int
build_service(struct build *b, unsigned si)
{
	const struct el_service *s = b->m->svcs[si];
	uint32_t min_size =
	    b->cfg->maglev_table_size ? b->cfg->maglev_table_size : MAGLEV_DEFAULT_SIZE;
	char key[256], name[3 * EL_LABEL_MAX + 16];
	int rc;

	for (unsigned j = 0; j < s->n_ports; j++) {
		const struct el_svc_port *sp = &s->ports[j];
		struct el_snap_svc want;
		struct svc_obj *o;
		const struct hval *old;
		struct hval *v;
		uint32_t klen;

		if (sp->proto != EL_PROTO_TCP && sp->proto != EL_PROTO_UDP)
			continue;
		klen = svc_port_key(key, sizeof(key), s, sp);
		v = hmap_put(&b->svc_ids, key, klen);
		if (v == NULL)
			return -ENOMEM;
		old = hmap_get(&b->cs->svc_ids, key, klen);
		v->id = old != NULL ? old->id : ++b->cs->next_svc_id;

		memset(&want, 0, sizeof(want));
		want.id = v->id;
		want.proto = sp->proto;
		want.affinity = s->affinity_client_ip;
		want.affinity_timeout = s->affinity_client_ip ? (uint32_t)s->affinity_timeout : 0;
		if (sp->name[0] != '\0')
			snprintf(name, sizeof(name), "%s/%s:%s", s->ns, s->name, sp->name);
		else
			snprintf(name, sizeof(name), "%s/%s:%d", s->ns, s->name, sp->port);
		/* the longest names do not fit: cut (the id is what identifies) */
		memcpy(want.name, name, sizeof(want.name) - 1);
		rc = backends_for(b, s, sp, v->id);
		if (rc < 0)
			return rc;
		if (b->n_cand > MAGLEV_MAX_BACKENDS) {
			warn(b->cs, "%s: %u backends, only the first %u take new flows", want.name,
			     b->n_cand, MAGLEV_MAX_BACKENDS);
			b->n_cand = MAGLEV_MAX_BACKENDS;
		}
		want.n_backends = b->n_cand;
		want.maglev_size = b->n_cand ? maglev_table_size(b->n_cand, min_size) : 0;
		want.n_src_ranges = s->type == EL_SVC_LOAD_BALANCER ? s->n_src_ranges : 0;

		struct el_cidr *ranges = NULL;
		if (want.n_src_ranges > 0) {
			ranges = calloc(want.n_src_ranges, sizeof(*ranges));
			if (ranges == NULL)
				return -ENOMEM;
			for (unsigned r = 0; r < want.n_src_ranges; r++)
				ranges[r] = cidr_network(&s->src_ranges[r]);
		}
		if (old != NULL && old->obj != NULL &&
		    svc_obj_same(old->obj, &want, b->cand, ranges)) {
			o = old->obj;
		} else {
			o = svc_obj_build(&want, b->cand, ranges, &rc);
		}
		free(ranges);
		if (o == NULL)
			return rc;
		v->obj = o;
		rc = add_svc_obj(b, o);
		if (rc < 0) {
			if (o->refs == 0)
				snapshot_mfree(o);
			v->obj = NULL;
			return rc;
		}
		rc = svc_frontends(b, si, sp, b->n_svcs - 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- tables, routes ---- */

static uint32_t
table_size(unsigned n)
{
	uint32_t size = 8;

	while (size < 2 * (uint64_t)n)
		size *= 2;
	return size;
}

static int
route_cmp(const void *a, const void *b)
{
	const struct el_snap_route *x = a, *y = b;
	int c;

	if (x->to.len != y->to.len)
		return x->to.len > y->to.len ? -1 : 1;
	if ((x->via.family == EL_AF_NONE) != (y->via.family == EL_AF_NONE))
		return x->via.family == EL_AF_NONE ? -1 : 1; /* connected first */
	c = el_ip_cmp(&x->to.addr, &y->to.addr);
	if (c != 0)
		return c;
	return x->iface < y->iface ? -1 : x->iface > y->iface;
}

static int
build_routes(struct build *b, struct el_snapshot *snap)
{
	const struct el_config *cfg = b->cfg;
	unsigned n = 0, cap = 0;
	struct el_snap_route *r;

	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		cap += cfg->ifaces[i].n_addrs + cfg->ifaces[i].n_routes;
	r = snapshot_zalloc((cap ? cap : 1) * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		const struct el_cfg_iface *ifc = &cfg->ifaces[i];
		for (unsigned j = 0; j < ifc->n_addrs; j++) {
			struct el_cidr net = cidr_network(&ifc->addrs[j]);
			bool dup = false;
			for (unsigned k = 0; k < n; k++)
				if (r[k].iface == i && r[k].via.family == EL_AF_NONE &&
				    r[k].to.len == net.len && el_ip_eq(&r[k].to.addr, &net.addr))
					dup = true;
			if (dup)
				continue;
			r[n].to = net;
			r[n].iface = (uint8_t)i;
			n++;
		}
		for (unsigned j = 0; j < ifc->n_routes; j++) {
			r[n].to = cidr_network(&ifc->routes[j].to);
			r[n].via = ip_clean(&ifc->routes[j].via);
			r[n].iface = (uint8_t)i;
			n++;
		}
	}
	qsort(r, n, sizeof(*r), route_cmp);
	snap->routes = r;
	snap->n_routes = n;
	return 0;
}

static int
build_tables(struct build *b, struct el_snapshot *snap)
{
	const struct el_config *cfg = b->cfg;
	struct el_snap_fe *fe;
	struct el_snap_owned *own;
	struct el_snap_neigh *nb;
	unsigned n_nb = 0;
	uint32_t size;
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < cfg->n_ifaces; i++)
		for (unsigned j = 0; rc == 0 && j < cfg->ifaces[i].n_addrs; j++)
			rc = add_owned(b, &cfg->ifaces[i].addrs[j].addr, EL_OWN_IFACE, (uint8_t)i);
	for (unsigned i = 0; rc == 0 && i < cfg->n_snat; i++) {
		uint8_t iface = 0;
		for (unsigned k = 0; k < cfg->n_ifaces; k++)
			for (unsigned j = 0; j < cfg->ifaces[k].n_addrs; j++)
				if (el_ip_eq(&cfg->ifaces[k].addrs[j].addr, &cfg->snat[i]))
					iface = (uint8_t)k;
		rc = add_owned(b, &cfg->snat[i], EL_OWN_SNAT, iface);
	}
	if (rc < 0)
		return rc;

	size = table_size(b->n_fes);
	fe = snapshot_zalloc(size * sizeof(*fe));
	if (fe == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n_fes; i++) {
		const struct el_snap_fe *f = &b->fes[i];
		uint32_t h = snapshot_fe_hash(&f->ip, f->port, f->proto) & (size - 1);
		while (fe[h].proto != 0)
			h = (h + 1) & (size - 1);
		fe[h] = *f;
	}
	snap->fe = fe;
	snap->fe_mask = size - 1;

	size = table_size(b->n_owns);
	own = snapshot_zalloc(size * sizeof(*own));
	if (own == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n_owns; i++) {
		uint32_t h = snapshot_addr_hash(&b->owns[i].ip) & (size - 1);
		while (own[h].kind != 0)
			h = (h + 1) & (size - 1);
		own[h] = b->owns[i];
	}
	snap->own = own;
	snap->own_mask = size - 1;

	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		n_nb += cfg->ifaces[i].n_neighbors;
	nb = snapshot_zalloc((n_nb ? n_nb : 1) * sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	n_nb = 0;
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		for (unsigned j = 0; j < cfg->ifaces[i].n_neighbors; j++) {
			nb[n_nb].ip = ip_clean(&cfg->ifaces[i].neighbors[j].ip);
			memcpy(nb[n_nb].mac, cfg->ifaces[i].neighbors[j].mac, 6);
			nb[n_nb].iface = (uint8_t)i;
			n_nb++;
		}
	snap->neighs = nb;
	snap->n_neighs = n_nb;

	snap->n_ifaces = cfg->n_ifaces < EL_SNAP_MAX_IFACES ? cfg->n_ifaces : EL_SNAP_MAX_IFACES;
	for (unsigned i = 0; i < snap->n_ifaces; i++) {
		struct el_snap_iface *si = &snap->ifaces[i];
		memcpy(si->name, cfg->ifaces[i].name, sizeof(si->name));
		si->name[sizeof(si->name) - 1] = '\0';
		si->port_id = b->cs->ifaces[i].port_id;
		memcpy(si->mac, b->cs->ifaces[i].mac, 6);
		memcpy(si->addrs, cfg->ifaces[i].addrs, sizeof(si->addrs));
		si->n_addrs = cfg->ifaces[i].n_addrs;
	}
	snap->n_snat = cfg->n_snat;
	for (unsigned i = 0; i < cfg->n_snat; i++)
		snap->snat[i] = ip_clean(&cfg->snat[i]);
	memcpy(snap->ct_timeouts, cfg->ct_timeouts, sizeof(snap->ct_timeouts));
	return build_routes(b, snap);
}

/* ---- compile ---- */

static void
snapshot_release(struct el_snapshot *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n_svcs; i++)
		svc_obj_unref((struct svc_obj *)(uintptr_t)s->svcs[i]);
	snapshot_mfree((void *)(uintptr_t)s->svcs);
	snapshot_mfree((void *)(uintptr_t)s->fe);
	snapshot_mfree((void *)(uintptr_t)s->own);
	snapshot_mfree((void *)(uintptr_t)s->routes);
	snapshot_mfree((void *)(uintptr_t)s->neighs);
	snapshot_mfree(s);
}

static void
build_free(struct build *b)
{
	free(b->np_base);
	free(b->np);
	free(b->lb);
	hmap_free(&b->lb_used);
	hmap_free(&b->svc_ids);
	hmap_free(&b->be_ids);
	hmap_free(&b->node_ports);
	hmap_free(&b->lb_ips);
	free(b->slices);
	free(b->svcs);
	free(b->fes);
	hmap_free(&b->fe_seen);
	free(b->owns);
	hmap_free(&b->own_seen);
	free(b->cand);
	free(b);
}

int
compile_snapshot(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
		 char *err, size_t errlen)
{
	struct build *b = calloc(1, sizeof(*b));
	struct el_snapshot *snap = NULL;
	uint32_t next_svc_id = cs->next_svc_id, next_be_id = cs->next_be_id;
	int rc;

	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	b->cs = cs;
	b->cfg = cs->cfg;
	b->m = m;
	b->err = err;
	b->errlen = errlen;
	warnings_clear(cs);

	rc = allocate(b);
	if (rc == 0)
		rc = index_slices(b);
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++)
		if (model_service_programmable(m->svcs[i]))
			rc = build_service(b, i);
	if (rc == 0) {
		snap = snapshot_zalloc(sizeof(*snap));
		rc = snap == NULL ? -ENOMEM : 0;
	}
	if (rc == 0) {
		snap->svcs = snapshot_zalloc((b->n_svcs ? b->n_svcs : 1) * sizeof(*snap->svcs));
		rc = snap->svcs == NULL ? -ENOMEM : 0;
	}
	if (rc == 0) {
		const struct el_snap_svc **svcs = (const struct el_snap_svc **)snap->svcs;
		for (unsigned i = 0; i < b->n_svcs; i++)
			svcs[i] = &b->svcs[i]->svc;
		snap->n_svcs = b->n_svcs;
		b->n_svcs = 0; /* the snapshot holds those references now */
		rc = build_tables(b, snap);
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			fail(b, rc, "out of memory");
		for (unsigned i = 0; i < b->n_svcs; i++)
			svc_obj_unref(b->svcs[i]);
		snapshot_release(snap);
		cs->next_svc_id = next_svc_id;
		cs->next_be_id = next_be_id;
		build_free(b);
		return rc;
	}

	/* commit: the new maps replace the old ones; the id map takes a
	 * reference on each object of this snapshot */
	for (uint32_t i = 0; i <= b->svc_ids.mask && b->svc_ids.slots; i++)
		if (b->svc_ids.slots[i].key != NULL && b->svc_ids.slots[i].v.obj != NULL)
			b->svc_ids.slots[i].v.obj->refs++;
	svc_ids_release(&cs->svc_ids);
	cs->svc_ids = b->svc_ids;
	memset(&b->svc_ids, 0, sizeof(b->svc_ids));
	hmap_free(&cs->be_ids);
	cs->be_ids = b->be_ids;
	memset(&b->be_ids, 0, sizeof(b->be_ids));
	hmap_free(&cs->node_ports);
	cs->node_ports = b->node_ports;
	memset(&b->node_ports, 0, sizeof(b->node_ports));
	hmap_free(&cs->lb_ips);
	cs->lb_ips = b->lb_ips;
	memset(&b->lb_ips, 0, sizeof(b->lb_ips));
	snap->generation = ++cs->generation;
	build_free(b);
	*out = snap;
	return 0;
}

void
compile_snapshot_free(struct compile_state *cs, struct el_snapshot *s)
{
	(void)cs; /* the references live in the objects */
	snapshot_release(s);
}

int
compile_writeback(const struct compile_state *cs, struct el_model *m)
{
	char key[256];

	for (unsigned i = 0; i < m->n_svcs; i++) {
		struct el_service *s = m->svcs[i];
		for (unsigned j = 0; j < s->n_ports; j++) {
			struct el_svc_port *p = &s->ports[j];
			const struct hval *v =
			    hmap_get(&cs->node_ports, key, svc_port_key(key, sizeof(key), s, p));
			if (v == NULL || (int32_t)v->id == p->node_port)
				continue;
			p->node_port = (int32_t)v->id;
			p->node_port_auto = true;
		}
		const struct hval *v = hmap_get(&cs->lb_ips, key, svc_key(key, sizeof(key), s));
		if (v == NULL)
			continue;
		if (s->n_lb_ingress != 1 || !el_ip_eq(&s->lb_ingress[0], &v->ip)) {
			struct el_ip *ing = realloc(s->lb_ingress, sizeof(*ing));
			if (ing == NULL)
				return -ENOMEM;
			ing[0] = v->ip;
			s->lb_ingress = ing;
			s->n_lb_ingress = 1;
			s->lb_ingress_auto = true;
		}
	}
	return 0;
}

/* ---- removed backends ---- */

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a;
	uintptr_t y = (uintptr_t) * (const void *const *)b;

	return x < y ? -1 : x > y;
}

int
compile_removed_backends(const struct el_snapshot *old, const struct el_snapshot *new,
			 uint32_t **ids)
{
	const uint8_t live = EL_BE_READY | EL_BE_SERVING;
	uint32_t *have = NULL, *gone = NULL;
	const void **shared = NULL;
	size_t n_have = 0, n_gone = 0, cap_gone = 0;
	int rc = 0;

	*ids = NULL;
	if (old == NULL)
		return 0;
	if (new != NULL) {
		size_t total = 0;
		for (uint32_t i = 0; i < new->n_svcs; i++)
			total += new->svcs[i]->n_backends;
		have = malloc((total ? total : 1) * sizeof(*have));
		shared = malloc((new->n_svcs ? new->n_svcs : 1) * sizeof(*shared));
		if (have == NULL || shared == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < new->n_svcs; i++) {
			const struct el_snap_svc *s = new->svcs[i];
			shared[i] = s;
			for (uint32_t j = 0; j < s->n_backends; j++)
				if (s->backends[j].cond & live)
					have[n_have++] = s->backends[j].id;
		}
		qsort(have, n_have, sizeof(*have), u32_cmp);
		qsort(shared, new->n_svcs, sizeof(*shared), ptr_cmp);
	}
	for (uint32_t i = 0; i < old->n_svcs; i++) {
		const struct el_snap_svc *s = old->svcs[i];
		/* an object both snapshots share did not change */
		if (new != NULL &&new->n_svcs > 0 &&
		    bsearch(&s, shared, new->n_svcs, sizeof(*shared), ptr_cmp) != NULL)
			continue;
		for (uint32_t j = 0; j < s->n_backends; j++) {
			uint32_t id = s->backends[j].id;
			if (!(s->backends[j].cond & live))
				continue;
			if (n_have > 0 &&
			    bsearch(&id, have, n_have, sizeof(*have), u32_cmp) != NULL)
				continue;
			if (n_gone == cap_gone) {
				cap_gone = cap_gone ? cap_gone * 2 : 16;
				uint32_t *ng = realloc(gone, cap_gone * sizeof(*ng));
				if (ng == NULL) {
					rc = -ENOMEM;
					goto out;
				}
				gone = ng;
			}
			gone[n_gone++] = id;
		}
	}
	if (n_gone > 1) {
		size_t w = 1;
		qsort(gone, n_gone, sizeof(*gone), u32_cmp);
		for (size_t i = 1; i < n_gone; i++)
			if (gone[i] != gone[w - 1])
				gone[w++] = gone[i];
		n_gone = w;
	}
	rc = (int)n_gone;
	if (n_gone > 0) {
		*ids = gone;
		gone = NULL;
	}
out:
	free(have);
	free(shared);
	free(gone);
	return rc;
}
