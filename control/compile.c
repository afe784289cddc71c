/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From the service model to a snapshot (compile.h).
 *
 * Endpoint selection and target port resolution follow kube-proxy
 * (pkg/proxy: an endpoint port named like the service port gives the target
 * port; ready endpoints first, else serving and terminating ones). Each
 * service port gets a Maglev table (maglev.h, Eisenbud et al., NSDI 2016).
 * NodePort allocation follows the API server (lowest free port of the range;
 * a port already held is kept).
 *
 * The compile state keeps a "world": one unit per Service with what it holds
 * (nodePorts, LoadBalancer address) and what its last build made (one
 * refcounted object per service port, the frontends it claims, the VIPs it
 * owns), plus the tables a snapshot copies: the frontend and owned-address
 * hash tables in their final open-addressing layout, and the list of service
 * objects. A change rebuilds only the units it touches (compile_update()):
 * their claims are withdrawn and made again, so the cost of a change is
 * that of the changed services, whatever the number of services: the world
 * logs the slots of its flat tables each change writes, and a new snapshot
 * takes the table copies of a freed one (no worker reads them after the
 * grace period) and copies into them only the slots written since (struct
 * tab_log); a whole copy is made only when a table is reallocated or no
 * freed copy is at hand. compile_snapshot() builds a whole new world and
 * swaps it in only when everything succeeded.
 *
 * Frontend ownership: every (address, port, protocol) keeps the list of the
 * units that claim it; the first in (namespace, name) order (then claim
 * order inside the service) owns it, the others are reported as warnings.
 *
 * The flat tables use linear probing with backward-shift deletion (Knuth,
 * TAOCP vol. 3, 6.4, Algorithm R), so they never hold tombstones and keep
 * exactly the layout snapshot_fe_lookup() and snapshot_owned_lookup() probe.
 *
 * Service objects are shared between snapshots: a service port whose inputs
 * did not change (same backends, affinity, source ranges, name) keeps its
 * object, Maglev table included. An object lives while a unit uses it, then
 * until every snapshot that may list it is freed.
 *
 * IP families: a Service's families are resolved as the API server
 * defaults them (model_service_families()), and each of its ports is built
 * once per family, as kube-proxy programs each family apart: that family's
 * clusterIP, externalIPs, LoadBalancer address and interface addresses
 * (nodePorts), and the endpoints of that family. The two objects of a port
 * ("twins") have their own ids and share their name; a change to the
 * endpoints of one family leaves the other twin's object as it was. A unit
 * holds one LoadBalancer address per family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/compile.h"
#include "edgelb/maglev.h"
#include "edgelb/model.h"

#define IP_KEY_LEN   17		      /* family + 16 address bytes */
#define FE_KEY_LEN   (IP_KEY_LEN + 3) /* + port (network order) + protocol */
#define PORT_KEY_MAX 80		      /* "PROTO/name" or "PROTO/#port" */
#define UNIT_KEY_MAX (2 * EL_LABEL_MAX + 2)

/* ---- a hash map: byte-string keys, one value, deletion without tombstones ---- */

struct hent {
	void *key; /* NULL = empty slot */
	uint32_t klen;
	uint32_t hash;
	union {
		void *ptr;
		uint64_t u;
	} v;
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

static struct hent *
hmap_get(const struct hmap *h, const void *key, uint32_t klen)
{
	struct hent *e;

	if (h->slots == NULL)
		return NULL;
	e = hmap_slot(h, key, klen, hmap_hash(key, klen));
	return e->key != NULL ? e : NULL;
}

/* Room for @p want entries at most half full. */
static int
hmap_reserve(struct hmap *h, uint32_t want)
{
	uint32_t size = h->slots ? h->mask + 1 : 0;
	struct hmap n;

	if (size != 0 && (uint64_t)want * 2 <= size)
		return 0;
	if (size == 0)
		size = 16;
	while ((uint64_t)want * 2 > size)
		size *= 2;
	n = (struct hmap){.slots = calloc(size, sizeof(struct hent)), .mask = size - 1, .n = h->n};
	if (n.slots == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; h->slots != NULL && i <= h->mask; i++) {
		struct hent *e = &h->slots[i];
		if (e->key != NULL)
			*hmap_slot(&n, e->key, e->klen, e->hash) = *e;
	}
	free(h->slots);
	*h = n;
	return 0;
}

/* The entry of @p key, inserted with a zero value when absent; NULL on
 * ENOMEM. @p fresh (may be NULL) tells whether it was inserted. */
static struct hent *
hmap_put(struct hmap *h, const void *key, uint32_t klen, bool *fresh)
{
	uint32_t hash = hmap_hash(key, klen);
	struct hent *e;

	if (fresh != NULL)
		*fresh = false;
	if (hmap_reserve(h, h->n + 1) < 0)
		return NULL;
	e = hmap_slot(h, key, klen, hash);
	if (e->key == NULL) {
		void *k = malloc(klen ? klen : 1);
		if (k == NULL)
			return NULL;
		memcpy(k, key, klen);
		*e = (struct hent){.key = k, .klen = klen, .hash = hash};
		h->n++;
		if (fresh != NULL)
			*fresh = true;
	}
	return e;
}

/* Remove the entry @p e points at (backward-shift deletion). */
static void
hmap_del(struct hmap *h, struct hent *e)
{
	uint32_t i = (uint32_t)(e - h->slots), j = i;

	free(e->key);
	for (;;) {
		j = (j + 1) & h->mask;
		struct hent *x = &h->slots[j];
		if (x->key == NULL)
			break;
		uint32_t home = x->hash & h->mask;
		/* x stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		h->slots[i] = *x;
		i = j;
	}
	memset(&h->slots[i], 0, sizeof(h->slots[i]));
	h->n--;
}

/* ---- keys and addresses ---- */

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

static struct el_ip
ip_of_key(const uint8_t key[IP_KEY_LEN])
{
	struct el_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = key[0];
	if (ip.family == EL_AF_INET)
		memcpy(&ip.v4, key + 1, 4);
	else if (ip.family == EL_AF_INET6)
		memcpy(ip.v6, key + 1, 16);
	return ip;
}

static void
fe_key(const struct el_ip *ip, uint16_t port_be, uint8_t proto, uint8_t key[FE_KEY_LEN])
{
	ip_key(ip, key);
	memcpy(key + IP_KEY_LEN, &port_be, 2);
	key[IP_KEY_LEN + 2] = proto;
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

static bool
svc_wants_lb(const struct el_service *s)
{
	return s->type == EL_SVC_LOAD_BALANCER && model_service_programmable(s);
}

/* Index of a family in per-family arrays. */
static unsigned
fam_idx(uint8_t family)
{
	return family == EL_AF_INET6 ? 1 : 0;
}

unsigned
compile_families_available(const struct el_config *cfg)
{
	unsigned bits = 0;

	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		for (unsigned j = 0; j < cfg->ifaces[i].n_addrs; j++)
			bits |= EL_FAMILY_BIT(cfg->ifaces[i].addrs[j].addr.family);
	for (unsigned i = 0; i < cfg->n_pools; i++)
		bits |= EL_FAMILY_BIT(cfg->pools[i].first.family);
	return bits;
}

/*
 * The IP families @p s is served in, primary first. A Service that
 * compile_snapshot() or compile_assign() accepted always resolves; should
 * one not (the config changed under a unit being rebuilt), it keeps the
 * families it names, else IPv4.
 */
static unsigned
svc_families(const struct el_config *cfg, const struct el_service *s, uint8_t fam[2])
{
	unsigned n = 0;

	if (model_service_families(s, compile_families_available(cfg), NULL, fam, &n, NULL, 0) == 0)
		return n;
	n = 0;
	for (unsigned i = 0; i < s->n_ip_families && i < 2; i++)
		fam[n++] = s->ip_families[i];
	if (n == 0)
		fam[n++] = EL_AF_INET;
	return n;
}

static bool
has_pool_of(const struct el_config *cfg, uint8_t family)
{
	for (unsigned i = 0; i < cfg->n_pools; i++)
		if (cfg->pools[i].first.family == family)
			return true;
	return false;
}

/*
 * A family of a LoadBalancer Service that gets no ingress address: no pool
 * of that family is configured while another family of the Service has
 * one (a dual-stack Service on an edgelb with pools of one family). With
 * no pool for any of its families, the Service's primary family is still
 * allocated (and refused as exhausted), as a single-stack one is.
 */
static bool
lb_family_skipped(const struct el_config *cfg, const uint8_t *fam, unsigned n, uint8_t family)
{
	if (has_pool_of(cfg, family))
		return false;
	for (unsigned i = 0; i < n; i++)
		if (fam[i] != family && has_pool_of(cfg, fam[i]))
			return true;
	return false;
}

static bool
fam_has(const uint8_t *fam, unsigned n, uint8_t family)
{
	for (unsigned i = 0; i < n; i++)
		if (fam[i] == family)
			return true;
	return false;
}

/* "PROTO/portname", or "PROTO/#port" for an unnamed port. */
static void
port_key(char buf[PORT_KEY_MAX], const struct el_svc_port *p)
{
	if (p->name[0] != '\0')
		snprintf(buf, PORT_KEY_MAX, "%s/%s", model_proto_name(p->proto), p->name);
	else
		snprintf(buf, PORT_KEY_MAX, "%s/#%d", model_proto_name(p->proto), p->port);
}

static uint32_t
unit_key(char buf[UNIT_KEY_MAX], const char *ns, const char *name)
{
	int n = snprintf(buf, UNIT_KEY_MAX, "%s/%s", ns, name);

	return n < 0 ? 0 : (uint32_t)((size_t)n < UNIT_KEY_MAX ? (size_t)n : UNIT_KEY_MAX - 1);
}

static int
grow(void *arrp, unsigned *cap, unsigned want, size_t size)
{
	void *arr, *na;
	unsigned ncap;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
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

/* ---- the world ---- */

/* A service port as one allocation: the snapshot object, then its backends,
 * source ranges and Maglev table. refs counts the units (of the world, and
 * of a world being built) that use it; snapshots take none (see
 * retire_object()). */
struct svc_obj {
	struct el_snap_svc svc; /* first: snapshots point here */
	uint32_t refs;
};

struct compile_state;
static void retire_object(struct compile_state *cs, struct svc_obj *o);

static void
svc_obj_unref(struct compile_state *cs, struct svc_obj *o)
{
	if (o != NULL && --o->refs == 0)
		retire_object(cs, o);
}

/* What a unit holds: one nodePort per service port, the LB address. */
struct np_rec {
	char pkey[PORT_KEY_MAX];
	uint8_t proto;
	int32_t port;
	bool is_auto;
};

#define LB_NONE	    0
#define LB_EXPLICIT 1 /* spec.loadBalancerIP: may be shared with other requests */
#define LB_HELD	    2 /* chosen by edgelb: this unit's alone */

/* A service port of one IP family as last built (a dual-stack Service port
 * is two of them, "twins", each with its own id and object). */
struct bport {
	char pkey[PORT_KEY_MAX];
	uint8_t family; /* EL_AF_INET / EL_AF_INET6 */
	uint32_t id;
	struct svc_obj *obj; /* NULL: not programmed (SCTP) */
	uint32_t slot;	     /* index in world.slots when obj */
	int32_t node_port;   /* the nodePort its frontends use */
};

/* A frontend claimed by a unit. */
struct claim {
	uint8_t key[FE_KEY_LEN];
	uint8_t kind;
	uint16_t bport; /* index into unit.bp */
	uint32_t seq;	/* claim order inside the unit */
};

struct unit {
	char key[UNIT_KEY_MAX]; /* "ns/name" */
	char ns[EL_LABEL_MAX];
	char name[EL_LABEL_MAX];
	/* allocations */
	struct np_rec *np;
	unsigned n_np;
	struct el_ip lb[2]; /* LoadBalancer address per family (fam_idx()) */
	uint8_t lb_mode[2];
	/* the last build */
	struct bport *bp;
	unsigned n_bp;
	struct claim *cl;
	unsigned n_cl;
	struct el_ip *vips;
	unsigned n_vips;
	char **warns; /* about its own backends */
	unsigned n_warns;
	bool built;
};

/* The claimants of one frontend; c[0] is not necessarily the owner. */
struct fe_claimant {
	struct unit *u;
	uint16_t bport;
	uint8_t kind;
	uint32_t seq;
};

struct fe_claims {
	unsigned n, cap;
	struct fe_claimant c[];
};

/* Owners of an LoadBalancer address. */
struct lb_holders {
	uint8_t mode;
	unsigned n, cap;
	struct unit **u;
};

/* Entries of world.owns: packed uint64 values. */
#define OWN_VIPS(v)	((uint32_t)(v))
#define OWN_CFG_KIND(v) ((uint8_t)((v) >> 32))
#define OWN_IFACE(v)	((uint8_t)((v) >> 40))
#define OWN_PACK(vips, kind, iface)                                                                \
	((uint64_t)(vips) | (uint64_t)(kind) << 32 | (uint64_t)(iface) << 40)

struct slot {
	struct svc_obj *obj;
	struct unit *u;
	uint16_t bport;
};

/*
 * Slots of a flat table (fe, own, the service pointers) written since some
 * sequence number. A
 * snapshot holds a copy of each flat table; when it is freed, its copy is
 * kept as the spare, and the next snapshot brings the spare up to date by
 * copying only the slots written since it was made, instead of copying the
 * whole table (and freeing and zeroing the old copy). A reallocated table,
 * or a log grown to a quarter of the table, starts a new epoch: copies of an
 * older epoch are not used again.
 */
struct tab_log {
	uint64_t epoch; /* unique across worlds */
	uint64_t base;	/* sequence number of idx[0] */
	uint32_t *idx;
	uint32_t n, cap;
};

/* A snapshot's copy of a flat table: the table at sequence number "seq". */
struct tab_copy {
	void *p;
	uint64_t epoch, seq;
	uint32_t mask;
};

struct world {
	struct hmap units; /* "ns/name" -> struct unit * */
	/* allocations */
	struct unit **np_owner[3]; /* [proto index][port] */
	struct hmap lbs;	   /* ip key -> struct lb_holders * */
	/* frontends and owned addresses */
	struct hmap fes;  /* fe key -> struct fe_claims * */
	struct hmap owns; /* ip key -> OWN_PACK() */
	struct el_snap_fe *fe;
	uint32_t fe_mask, fe_n;
	struct el_snap_owned *own;
	uint32_t own_mask, own_n;
	/* service objects in snapshot order */
	struct slot *slots;
	unsigned n_slots, cap_slots;
	/* from the config, the same in every snapshot */
	struct el_snap_route *routes;
	unsigned n_routes;
	struct el_snap_neigh *neighs;
	unsigned n_neighs;
	/* the service pointers of the slots, as a snapshot lists them:
	 * svcv_mask + 1 (a power of two) entries, n_slots of them in use */
	const struct el_snap_svc **svcv;
	uint32_t svcv_mask;
	/* writes to fe, own and svcv since the oldest copy that may be reused */
	struct tab_log fe_log, own_log, svcv_log;
};

/* The flat tables a snapshot copies. */
enum { TAB_FE, TAB_OWN, TAB_SVCV, TAB_N };

struct compile_state {
	const struct el_config *cfg;
	uint64_t generation;
	uint32_t next_svc_id;
	uint32_t next_be_id;
	struct world *w; /* NULL until the first compile, or after a failed update */
	struct {
		uint16_t port_id;
		uint8_t mac[6];
	} ifaces[EL_CFG_MAX_IFACES];
	char **warnings;
	unsigned n_warnings;
	/* objects no unit uses any more, freed once no snapshot older than
	 * "gen" is alive (the first snapshot built without them) */
	struct retired {
		struct svc_obj *o;
		uint64_t gen;
	} * retired;
	unsigned n_retired, cap_retired;
	/* the snapshots built and not yet freed: generation, table copies */
	struct live_snap {
		uint64_t gen;
		struct tab_copy tab[TAB_N];
	} * live;
	unsigned n_live, cap_live;
	/* table copies of freed snapshots, for the next snapshot to update */
	struct tab_copy spare[TAB_N];
	/* units compile_update() rebuilds next: "ns/name" -> 1 */
	struct hmap touched;
	/* what the last snapshot changed against the one before it */
	struct {
		uint64_t base, gen; /* generations; gen 0 = unknown */
		struct svc_obj **gone, **added;
		unsigned n_gone, cap_gone, n_added, cap_added;
	} delta;
	/* scratch for one service port's backends, of one family */
	struct el_snap_backend *cand;
	unsigned n_cand, cap_cand;
	uint8_t cand_family;
};

/* ---- warnings ---- */

static void
warnings_clear(struct compile_state *cs)
{
	for (unsigned i = 0; i < cs->n_warnings; i++)
		free(cs->warnings[i]);
	free(cs->warnings);
	cs->warnings = NULL;
	cs->n_warnings = 0;
}

static void
warn_add(struct compile_state *cs, const char *text)
{
	char **nw = realloc(cs->warnings, (cs->n_warnings + 1) * sizeof(*nw));
	char *s;

	if (nw == NULL)
		return; /* a warning that cannot be stored is dropped */
	cs->warnings = nw;
	s = strdup(text);
	if (s != NULL)
		cs->warnings[cs->n_warnings++] = s;
}

/* ---- units ---- */

static void
unit_clear_warns(struct unit *u)
{
	for (unsigned i = 0; i < u->n_warns; i++)
		free(u->warns[i]);
	free(u->warns);
	u->warns = NULL;
	u->n_warns = 0;
}

/* Free a unit whose claims and slots are gone; drops its object refs. */
static void
unit_free(struct compile_state *cs, struct unit *u)
{
	if (u == NULL)
		return;
	for (unsigned i = 0; i < u->n_bp; i++)
		svc_obj_unref(cs, u->bp[i].obj);
	free(u->bp);
	free(u->cl);
	free(u->vips);
	free(u->np);
	unit_clear_warns(u);
	free(u);
}

static struct unit *
unit_find(const struct world *w, const char *ns, const char *name)
{
	char k[UNIT_KEY_MAX];
	struct hent *e = hmap_get(&w->units, k, unit_key(k, ns, name));

	return e != NULL ? e->v.ptr : NULL;
}

static struct unit *
unit_get(struct world *w, const char *ns, const char *name)
{
	char k[UNIT_KEY_MAX];
	uint32_t kl = unit_key(k, ns, name);
	struct hent *e = hmap_put(&w->units, k, kl, NULL);
	struct unit *u;

	if (e == NULL)
		return NULL;
	if (e->v.ptr != NULL)
		return e->v.ptr;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		hmap_del(&w->units, e);
		return NULL;
	}
	memcpy(u->key, k, kl + 1);
	snprintf(u->ns, sizeof(u->ns), "%s", ns);
	snprintf(u->name, sizeof(u->name), "%s", name);
	e->v.ptr = u;
	return u;
}

static int
unit_cmp(const struct unit *a, const struct unit *b)
{
	int c = strcmp(a->ns, b->ns);

	return c != 0 ? c : strcmp(a->name, b->name);
}

static const struct np_rec *
unit_np(const struct unit *u, const char *pkey)
{
	for (unsigned i = 0; u != NULL && i < u->n_np; i++)
		if (strcmp(u->np[i].pkey, pkey) == 0)
			return &u->np[i];
	return NULL;
}

static const struct bport *
unit_bport(const struct unit *u, const char *pkey, uint8_t family)
{
	for (unsigned i = 0; u != NULL && i < u->n_bp; i++)
		if (u->bp[i].family == family && strcmp(u->bp[i].pkey, pkey) == 0)
			return &u->bp[i];
	return NULL;
}

/* ---- world life cycle ---- */

static int
build_routes(const struct el_config *cfg, struct world *w)
{
	unsigned n = 0, cap = 0;
	struct el_snap_route *r;

	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		cap += cfg->ifaces[i].n_addrs + cfg->ifaces[i].n_routes;
	r = calloc(cap ? cap : 1, sizeof(*r));
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
	w->routes = r;
	w->n_routes = n;
	return 0;
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

static void world_free(struct compile_state *cs, struct world *w);

/* ---- flat table write logs ---- */

/* Start a new epoch: every copy made so far is of no use any more. */
static void
tab_log_restart(struct tab_log *l)
{
	static uint64_t epochs;

	l->epoch = __atomic_add_fetch(&epochs, 1, __ATOMIC_RELAXED);
	l->base += l->n;
	l->n = 0;
}

/* Note a write to slot @p i of a table of @p mask + 1 slots. */
static void
tab_log_note(struct tab_log *l, uint32_t i, uint32_t mask)
{
	if (l->n >= l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 64;
		uint32_t *n;

		/* past a quarter of the table, a whole copy costs less */
		if (l->n > mask / 4 || (n = realloc(l->idx, cap * sizeof(*n))) == NULL) {
			tab_log_restart(l);
			return;
		}
		l->idx = n;
		l->cap = cap;
	}
	l->idx[l->n++] = i;
}

/* Forget the writes every copy still of use (at @p seq or later) has. */
static void
tab_log_trim(struct tab_log *l, uint64_t seq)
{
	uint32_t drop;

	if (seq <= l->base)
		return;
	drop = seq - l->base >= l->n ? l->n : (uint32_t)(seq - l->base);
	memmove(l->idx, l->idx + drop, (l->n - drop) * sizeof(*l->idx));
	l->n -= drop;
	l->base += drop;
}

static bool
tab_copy_usable(const struct tab_copy *c, const struct tab_log *l, uint32_t mask)
{
	return c->p != NULL && c->epoch == l->epoch && c->mask == mask && c->seq >= l->base &&
	       c->seq <= l->base + l->n;
}

static int own_set(struct world *w, const uint8_t key[IP_KEY_LEN], uint64_t v);

/* A world with no service in it: config addresses, routes, neighbours. */
static struct world *
world_new(const struct el_config *cfg)
{
	struct world *w = calloc(1, sizeof(*w));
	unsigned n_nb = 0;
	int rc = 0;

	if (w == NULL)
		return NULL;
	tab_log_restart(&w->fe_log);
	tab_log_restart(&w->own_log);
	tab_log_restart(&w->svcv_log);
	for (int p = 0; p < 3; p++) {
		w->np_owner[p] = calloc(65536, sizeof(*w->np_owner[p]));
		if (w->np_owner[p] == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = build_routes(cfg, w);
	if (rc == 0)
		qsort(w->routes, w->n_routes, sizeof(*w->routes), route_cmp);
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		n_nb += cfg->ifaces[i].n_neighbors;
	if (rc == 0) {
		w->neighs = calloc(n_nb ? n_nb : 1, sizeof(*w->neighs));
		rc = w->neighs == NULL ? -ENOMEM : 0;
	}
	for (unsigned i = 0; rc == 0 && i < cfg->n_ifaces; i++)
		for (unsigned j = 0; j < cfg->ifaces[i].n_neighbors; j++) {
			struct el_snap_neigh *nb = &w->neighs[w->n_neighs++];
			nb->ip = ip_clean(&cfg->ifaces[i].neighbors[j].ip);
			memcpy(nb->mac, cfg->ifaces[i].neighbors[j].mac, 6);
			nb->iface = (uint8_t)i;
		}
	/* interface addresses, then SNAT addresses (which keep the index of
	 * the interface that has them) */
	for (unsigned i = 0; rc == 0 && i < cfg->n_ifaces; i++)
		for (unsigned j = 0; rc == 0 && j < cfg->ifaces[i].n_addrs; j++) {
			uint8_t k[IP_KEY_LEN];
			ip_key(&cfg->ifaces[i].addrs[j].addr, k);
			struct hent *e = hmap_get(&w->owns, k, IP_KEY_LEN);
			if (e == NULL)
				rc = own_set(w, k, OWN_PACK(0, EL_OWN_IFACE, i));
		}
	for (unsigned i = 0; rc == 0 && i < cfg->n_snat; i++) {
		uint8_t k[IP_KEY_LEN], iface = 0;
		for (unsigned x = 0; x < cfg->n_ifaces; x++)
			for (unsigned j = 0; j < cfg->ifaces[x].n_addrs; j++)
				if (el_ip_eq(&cfg->ifaces[x].addrs[j].addr, &cfg->snat[i]))
					iface = (uint8_t)x;
		ip_key(&cfg->snat[i], k);
		rc = own_set(w, k, OWN_PACK(0, EL_OWN_SNAT, iface));
	}
	if (rc < 0) {
		world_free(NULL, w);
		return NULL;
	}
	return w;
}

static void
world_free(struct compile_state *cs, struct world *w)
{
	if (w == NULL)
		return;
	for (uint32_t i = 0; w->units.slots != NULL && i <= w->units.mask; i++)
		if (w->units.slots[i].key != NULL)
			unit_free(cs, w->units.slots[i].v.ptr);
	hmap_free(&w->units);
	for (uint32_t i = 0; w->fes.slots != NULL && i <= w->fes.mask; i++)
		if (w->fes.slots[i].key != NULL)
			free(w->fes.slots[i].v.ptr);
	hmap_free(&w->fes);
	for (uint32_t i = 0; w->lbs.slots != NULL && i <= w->lbs.mask; i++)
		if (w->lbs.slots[i].key != NULL) {
			struct lb_holders *l = w->lbs.slots[i].v.ptr;
			free(l->u);
			free(l);
		}
	hmap_free(&w->lbs);
	hmap_free(&w->owns);
	for (int p = 0; p < 3; p++)
		free(w->np_owner[p]);
	free(w->fe);
	free(w->own);
	free(w->fe_log.idx);
	free(w->own_log.idx);
	free(w->svcv_log.idx);
	free(w->svcv);
	free(w->slots);
	free(w->routes);
	free(w->neighs);
	free(w);
}

/* ---- flat tables ---- */

static uint32_t
table_size(unsigned n)
{
	uint32_t size = 8;

	while (size < 2 * (uint64_t)n)
		size *= 2;
	return size;
}

static uint32_t
fe_home(const struct el_snap_fe *f, uint32_t mask)
{
	return snapshot_fe_hash(&f->ip, f->port, f->proto) & mask;
}

static uint32_t
own_home(const struct el_snap_owned *o, uint32_t mask)
{
	return snapshot_addr_hash(&o->ip) & mask;
}

/* Resize the frontend table for @p n entries (at most half full, at least an
 * eighth unless tiny). */
static int
fe_resize(struct world *w, uint32_t n)
{
	uint32_t size = table_size(n), old = w->fe ? w->fe_mask + 1 : 0;
	struct el_snap_fe *t;

	if (old != 0 && 2 * (uint64_t)n <= old && (old <= 8 || 8 * (uint64_t)n >= old))
		return 0;
	t = calloc(size, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < old; i++) {
		if (w->fe[i].proto == 0)
			continue;
		uint32_t h = fe_home(&w->fe[i], size - 1);
		while (t[h].proto != 0)
			h = (h + 1) & (size - 1);
		t[h] = w->fe[i];
	}
	free(w->fe);
	w->fe = t;
	w->fe_mask = size - 1;
	tab_log_restart(&w->fe_log);
	return 0;
}

static struct el_snap_fe *
fe_find(const struct world *w, const struct el_ip *ip, uint16_t port, uint8_t proto)
{
	uint32_t i;

	if (w->fe == NULL)
		return NULL;
	i = snapshot_fe_hash(ip, port, proto) & w->fe_mask;
	for (;;) {
		struct el_snap_fe *f = &w->fe[i];
		if (f->proto == 0)
			return NULL;
		if (f->port == port && f->proto == proto && snapshot_ip_eq(&f->ip, ip))
			return f;
		i = (i + 1) & w->fe_mask;
	}
}

/* Insert or overwrite; room must have been made with fe_resize(). */
static void
fe_store(struct world *w, const struct el_snap_fe *f)
{
	uint32_t i = fe_home(f, w->fe_mask);

	for (;;) {
		struct el_snap_fe *x = &w->fe[i];
		if (x->proto == 0) {
			*x = *f;
			w->fe_n++;
			tab_log_note(&w->fe_log, i, w->fe_mask);
			return;
		}
		if (x->port == f->port && x->proto == f->proto && snapshot_ip_eq(&x->ip, &f->ip)) {
			if (memcmp(x, f, sizeof(*x)) != 0) {
				*x = *f;
				tab_log_note(&w->fe_log, i, w->fe_mask);
			}
			return;
		}
		i = (i + 1) & w->fe_mask;
	}
}

static void
fe_remove(struct world *w, struct el_snap_fe *f)
{
	uint32_t i = (uint32_t)(f - w->fe), j = i;

	for (;;) {
		j = (j + 1) & w->fe_mask;
		struct el_snap_fe *x = &w->fe[j];
		if (x->proto == 0)
			break;
		uint32_t home = fe_home(x, w->fe_mask);
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		w->fe[i] = *x;
		tab_log_note(&w->fe_log, i, w->fe_mask);
		i = j;
	}
	memset(&w->fe[i], 0, sizeof(w->fe[i]));
	tab_log_note(&w->fe_log, i, w->fe_mask);
	w->fe_n--;
}

static int
own_resize(struct world *w, uint32_t n)
{
	uint32_t size = table_size(n), old = w->own ? w->own_mask + 1 : 0;
	struct el_snap_owned *t;

	if (old != 0 && 2 * (uint64_t)n <= old && (old <= 8 || 8 * (uint64_t)n >= old))
		return 0;
	t = calloc(size, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < old; i++) {
		if (w->own[i].kind == 0)
			continue;
		uint32_t h = own_home(&w->own[i], size - 1);
		while (t[h].kind != 0)
			h = (h + 1) & (size - 1);
		t[h] = w->own[i];
	}
	free(w->own);
	w->own = t;
	w->own_mask = size - 1;
	tab_log_restart(&w->own_log);
	return 0;
}

static struct el_snap_owned *
own_find(const struct world *w, const struct el_ip *ip)
{
	uint32_t i;

	if (w->own == NULL)
		return NULL;
	i = snapshot_addr_hash(ip) & w->own_mask;
	for (;;) {
		struct el_snap_owned *o = &w->own[i];
		if (o->kind == 0)
			return NULL;
		if (snapshot_ip_eq(&o->ip, ip))
			return o;
		i = (i + 1) & w->own_mask;
	}
}

static void
own_remove(struct world *w, struct el_snap_owned *o)
{
	uint32_t i = (uint32_t)(o - w->own), j = i;

	for (;;) {
		j = (j + 1) & w->own_mask;
		struct el_snap_owned *x = &w->own[j];
		if (x->kind == 0)
			break;
		uint32_t home = own_home(x, w->own_mask);
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		w->own[i] = *x;
		tab_log_note(&w->own_log, i, w->own_mask);
		i = j;
	}
	memset(&w->own[i], 0, sizeof(w->own[i]));
	tab_log_note(&w->own_log, i, w->own_mask);
	w->own_n--;
}

/*
 * Set the owned-address record of @p key and bring the flat table in line:
 * the strongest role wins (SNAT: replies must be found; then interface;
 * then VIP); no role left removes the address.
 */
static int
own_set(struct world *w, const uint8_t key[IP_KEY_LEN], uint64_t v)
{
	struct el_ip ip = ip_of_key(key);
	struct el_snap_owned *o;
	uint8_t kind = OWN_CFG_KIND(v) ? OWN_CFG_KIND(v) : OWN_VIPS(v) ? EL_OWN_VIP : 0;
	struct hent *e;

	if (kind == 0) {
		e = hmap_get(&w->owns, key, IP_KEY_LEN);
		if (e != NULL)
			hmap_del(&w->owns, e);
		o = own_find(w, &ip);
		if (o != NULL)
			own_remove(w, o);
		(void)own_resize(w, w->own_n); /* a shrink that fails leaves it larger */
		return 0;
	}
	e = hmap_put(&w->owns, key, IP_KEY_LEN, NULL);
	if (e == NULL || own_resize(w, w->own_n + 1) < 0)
		return -ENOMEM;
	e->v.u = v;
	o = own_find(w, &ip);
	if (o == NULL) {
		uint32_t i = snapshot_addr_hash(&ip) & w->own_mask;
		while (w->own[i].kind != 0)
			i = (i + 1) & w->own_mask;
		o = &w->own[i];
		w->own_n++;
	}
	o->ip = ip;
	o->kind = kind;
	o->iface = OWN_CFG_KIND(v) ? OWN_IFACE(v) : 0;
	o->pad = 0;
	tab_log_note(&w->own_log, (uint32_t)(o - w->own), w->own_mask);
	return 0;
}

static int
own_vip_ref(struct world *w, const struct el_ip *ip, int delta)
{
	uint8_t k[IP_KEY_LEN];
	struct hent *e;
	uint64_t v = 0;

	ip_key(ip, k);
	e = hmap_get(&w->owns, k, IP_KEY_LEN);
	if (e != NULL)
		v = e->v.u;
	uint32_t vips = OWN_VIPS(v);
	vips = delta > 0 ? vips + 1 : vips > 0 ? vips - 1 : 0;
	return own_set(w, k, OWN_PACK(vips, OWN_CFG_KIND(v), OWN_IFACE(v)));
}

/* ---- slots (the snapshot's service list) ---- */

/* Room for @p n service pointers (a new array: a new epoch of its log). */
static int
svcv_reserve(struct world *w, uint32_t n)
{
	uint32_t size = w->svcv ? w->svcv_mask + 1 : 0;
	const struct el_snap_svc **v;

	if (w->svcv != NULL && n <= size)
		return 0;
	size = size ? size : 8;
	while (size < n)
		size *= 2;
	v = realloc(w->svcv, size * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memset(v + w->n_slots, 0, (size - w->n_slots) * sizeof(*v));
	w->svcv = v;
	w->svcv_mask = size - 1;
	tab_log_restart(&w->svcv_log);
	return 0;
}

static int
slot_add(struct world *w, struct unit *u, uint16_t bport)
{
	if (grow(&w->slots, &w->cap_slots, w->n_slots + 1, sizeof(*w->slots)) < 0 ||
	    svcv_reserve(w, w->n_slots + 1) < 0)
		return -ENOMEM;
	w->slots[w->n_slots] = (struct slot){.obj = u->bp[bport].obj, .u = u, .bport = bport};
	w->svcv[w->n_slots] = &u->bp[bport].obj->svc;
	tab_log_note(&w->svcv_log, w->n_slots, w->svcv_mask);
	u->bp[bport].slot = w->n_slots++;
	return 0;
}

/*
 * Remove a unit port's slot: the last slot moves into the hole, and the
 * frontends that unit port owns follow it.
 */
static void
slot_remove(struct world *w, uint32_t idx)
{
	uint32_t last = w->n_slots - 1;

	if (idx != last) {
		struct slot mv = w->slots[last];
		w->slots[idx] = mv;
		w->svcv[idx] = w->svcv[last];
		tab_log_note(&w->svcv_log, idx, w->svcv_mask);
		mv.u->bp[mv.bport].slot = idx;
		for (unsigned i = 0; i < mv.u->n_cl; i++) {
			const struct claim *c = &mv.u->cl[i];
			if (c->bport != mv.bport)
				continue;
			struct el_ip ip = ip_of_key(c->key);
			uint16_t port;
			memcpy(&port, c->key + IP_KEY_LEN, 2);
			struct el_snap_fe *f = fe_find(w, &ip, port, c->key[IP_KEY_LEN + 2]);
			if (f != NULL && f->svc == last) {
				f->svc = idx;
				tab_log_note(&w->fe_log, (uint32_t)(f - w->fe), w->fe_mask);
			}
		}
	}
	w->n_slots--;
}

/* ---- frontend claims ---- */

static bool
claimant_before(const struct fe_claimant *a, const struct fe_claimant *b)
{
	int c = a->u == b->u ? 0 : unit_cmp(a->u, b->u);

	return c != 0 ? c < 0 : a->seq < b->seq;
}

static const struct fe_claimant *
claims_owner(const struct fe_claims *fc)
{
	const struct fe_claimant *best = &fc->c[0];

	for (unsigned i = 1; i < fc->n; i++)
		if (claimant_before(&fc->c[i], best))
			best = &fc->c[i];
	return best;
}

/* Make the flat entry of @p key say what its owner says. */
static void
claims_publish(struct world *w, const uint8_t key[FE_KEY_LEN], const struct fe_claims *fc)
{
	const struct fe_claimant *o = claims_owner(fc);
	struct el_snap_fe f;

	memset(&f, 0, sizeof(f));
	f.ip = ip_of_key(key);
	memcpy(&f.port, key + IP_KEY_LEN, 2);
	f.proto = key[IP_KEY_LEN + 2];
	f.kind = o->kind;
	f.svc = o->u->bp[o->bport].slot;
	fe_store(w, &f);
}

static int
claim_add(struct world *w, struct unit *u, const struct claim *c)
{
	struct fe_claims *fc;
	struct hent *e;
	bool fresh;

	if (fe_resize(w, w->fe_n + 1) < 0)
		return -ENOMEM;
	e = hmap_put(&w->fes, c->key, FE_KEY_LEN, &fresh);
	if (e == NULL)
		return -ENOMEM;
	fc = e->v.ptr;
	if (fc == NULL || fc->n == fc->cap) {
		unsigned cap = fc ? fc->cap * 2 : 1;
		struct fe_claims *nf = realloc(fc, sizeof(*nf) + cap * sizeof(nf->c[0]));
		if (nf == NULL) {
			if (fresh)
				hmap_del(&w->fes, e);
			return -ENOMEM;
		}
		if (fc == NULL)
			nf->n = 0;
		nf->cap = cap;
		fc = e->v.ptr = nf;
	}
	fc->c[fc->n++] =
	    (struct fe_claimant){.u = u, .bport = c->bport, .kind = c->kind, .seq = c->seq};
	claims_publish(w, c->key, fc);
	return 0;
}

static void
claim_remove(struct world *w, const struct unit *u, const struct claim *c)
{
	struct hent *e = hmap_get(&w->fes, c->key, FE_KEY_LEN);
	struct fe_claims *fc;

	if (e == NULL)
		return;
	fc = e->v.ptr;
	for (unsigned i = 0; i < fc->n; i++)
		if (fc->c[i].u == u && fc->c[i].seq == c->seq) {
			fc->c[i] = fc->c[--fc->n];
			break;
		}
	if (fc->n > 0) {
		claims_publish(w, c->key, fc);
		return;
	}
	free(fc);
	hmap_del(&w->fes, e);
	struct el_ip ip = ip_of_key(c->key);
	uint16_t port;
	memcpy(&port, c->key + IP_KEY_LEN, 2);
	struct el_snap_fe *f = fe_find(w, &ip, port, c->key[IP_KEY_LEN + 2]);
	if (f != NULL)
		fe_remove(w, f);
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

/* One warning per claimant of @p key left out by its owner. */
static void
warn_contested(struct compile_state *cs, const uint8_t key[FE_KEY_LEN], const struct fe_claims *fc)
{
	const struct fe_claimant *o = claims_owner(fc);
	const struct svc_obj *oo = o->u->bp[o->bport].obj;
	char buf[400], ipb[EL_IP_STRLEN];
	struct el_ip ip = ip_of_key(key);
	uint16_t port;

	memcpy(&port, key + IP_KEY_LEN, 2);
	for (unsigned i = 0; i < fc->n; i++) {
		const struct svc_obj *lo = fc->c[i].u->bp[fc->c[i].bport].obj;
		if (lo == oo)
			continue;
		snprintf(buf, sizeof(buf), "%s %s:%u/%s of %s left out: already used by %s",
			 fe_kind_name(fc->c[i].kind), el_ip_fmt(&ip, ipb, sizeof(ipb)), ntohs(port),
			 model_proto_name(key[IP_KEY_LEN + 2]), lo->svc.name, oo->svc.name);
		warn_add(cs, buf);
	}
}

/* Warnings about @p u: its backends, and every frontend it shares. */
static void
warn_unit(struct compile_state *cs, const struct unit *u)
{
	for (unsigned i = 0; i < u->n_warns; i++)
		warn_add(cs, u->warns[i]);
	for (unsigned i = 0; i < u->n_cl; i++) {
		struct hent *e = hmap_get(&cs->w->fes, u->cl[i].key, FE_KEY_LEN);
		const struct fe_claims *fc = e ? e->v.ptr : NULL;
		bool seen = false;
		if (fc == NULL || fc->n < 2)
			continue;
		for (unsigned j = 0; j < i; j++)
			seen |= memcmp(u->cl[j].key, u->cl[i].key, FE_KEY_LEN) == 0;
		if (!seen)
			warn_contested(cs, u->cl[i].key, fc);
	}
}

/* ---- allocation ---- */

static bool
np_in_range(const struct el_config *cfg, int32_t port)
{
	return port >= cfg->nodeport_min && port <= cfg->nodeport_max;
}

static struct unit *
np_owner(const struct world *w, uint8_t proto, int32_t port)
{
	return port > 0 && port < 65536 ? w->np_owner[proto_index(proto)][port] : NULL;
}

static void
np_set(struct world *w, uint8_t proto, int32_t port, struct unit *u)
{
	if (port > 0 && port < 65536)
		w->np_owner[proto_index(proto)][port] = u;
}

/* Release every nodePort of @p u. */
static void
unit_release_np(struct world *w, struct unit *u)
{
	for (unsigned i = 0; i < u->n_np; i++)
		if (np_owner(w, u->np[i].proto, u->np[i].port) == u)
			np_set(w, u->np[i].proto, u->np[i].port, NULL);
	free(u->np);
	u->np = NULL;
	u->n_np = 0;
}

static struct lb_holders *
lb_get(const struct world *w, const struct el_ip *ip)
{
	uint8_t k[IP_KEY_LEN];
	struct hent *e;

	ip_key(ip, k);
	e = hmap_get(&w->lbs, k, IP_KEY_LEN);
	return e != NULL ? e->v.ptr : NULL;
}

static int
lb_claim(struct world *w, const struct el_ip *ip, uint8_t mode, struct unit *u)
{
	uint8_t k[IP_KEY_LEN];
	struct lb_holders *l;
	struct hent *e;

	ip_key(ip, k);
	e = hmap_put(&w->lbs, k, IP_KEY_LEN, NULL);
	if (e == NULL)
		return -ENOMEM;
	l = e->v.ptr;
	if (l == NULL) {
		l = calloc(1, sizeof(*l));
		if (l == NULL) {
			hmap_del(&w->lbs, e);
			return -ENOMEM;
		}
		l->mode = mode;
		e->v.ptr = l;
	}
	if (grow(&l->u, &l->cap, l->n + 1, sizeof(*l->u)) < 0) {
		if (l->n == 0) {
			free(l);
			hmap_del(&w->lbs, e);
		}
		return -ENOMEM;
	}
	l->u[l->n++] = u;
	u->lb[fam_idx(ip->family)] = ip_clean(ip);
	u->lb_mode[fam_idx(ip->family)] = mode;
	return 0;
}

/* Release the LoadBalancer address of family index @p fi that @p u holds. */
static void
unit_release_lb_fam(struct world *w, struct unit *u, unsigned fi)
{
	uint8_t k[IP_KEY_LEN];
	struct hent *e;

	if (u->lb_mode[fi] == LB_NONE)
		return;
	ip_key(&u->lb[fi], k);
	e = hmap_get(&w->lbs, k, IP_KEY_LEN);
	if (e != NULL) {
		struct lb_holders *l = e->v.ptr;
		for (unsigned i = 0; i < l->n; i++)
			if (l->u[i] == u) {
				l->u[i] = l->u[--l->n];
				break;
			}
		if (l->n == 0) {
			free(l->u);
			free(l);
			hmap_del(&w->lbs, e);
		}
	}
	memset(&u->lb[fi], 0, sizeof(u->lb[fi]));
	u->lb_mode[fi] = LB_NONE;
}

static void
unit_release_lb(struct world *w, struct unit *u)
{
	unit_release_lb_fam(w, u, 0);
	unit_release_lb_fam(w, u, 1);
}

static bool
unit_has_lb(const struct unit *u)
{
	return u->lb_mode[0] != LB_NONE || u->lb_mode[1] != LB_NONE;
}

/* First free address of the pools of @p family (any pool when
 * EL_AF_NONE), pools in configuration order. */
static bool
lb_first_free(const struct el_config *cfg, const struct world *w, uint8_t family, struct el_ip *out)
{
	for (unsigned i = 0; i < cfg->n_pools; i++) {
		const struct el_cfg_pool *p = &cfg->pools[i];
		if (family != EL_AF_NONE && p->first.family != family)
			continue;
		if (p->first.family != p->last.family || el_ip_cmp(&p->first, &p->last) > 0)
			continue;
		struct el_ip ip = ip_clean(&p->first);
		for (;;) {
			if (lb_get(w, &ip) == NULL) {
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

static const char *
family_word(uint8_t family)
{
	return family == EL_AF_INET ? "IPv4 " : family == EL_AF_INET6 ? "IPv6 " : "";
}

/* Two services use a common (protocol, port). */
static bool
ports_overlap(const struct el_service *a, const struct el_service *b)
{
	for (unsigned i = 0; i < a->n_ports; i++)
		for (unsigned j = 0; j < b->n_ports; j++)
			if (a->ports[i].proto == b->ports[j].proto &&
			    a->ports[i].port == b->ports[j].port)
				return true;
	return false;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- full allocation (compile_snapshot) ---- */

static int
rev_order_cmp(const void *a, const void *b, void *arg)
{
	const struct el_model *m = arg;
	uint64_t x = m->svcs[*(const unsigned *)a]->rev, y = m->svcs[*(const unsigned *)b]->rev;

	return x < y ? -1 : x > y;
}

static int
np_rec_add(struct unit *u, const char *pkey, uint8_t proto, int32_t port, bool is_auto)
{
	struct np_rec *n = realloc(u->np, (u->n_np + 1) * sizeof(*n));

	if (n == NULL)
		return -ENOMEM;
	u->np = n;
	memset(&n[u->n_np], 0, sizeof(n[0]));
	snprintf(n[u->n_np].pkey, PORT_KEY_MAX, "%s", pkey);
	n[u->n_np].proto = proto;
	n[u->n_np].port = port;
	n[u->n_np].is_auto = is_auto;
	u->n_np++;
	return 0;
}

/*
 * NodePorts and LoadBalancer addresses of every service, into the new world
 * @p nw, as the API server hands them out: services in the order they were
 * stored (model revision) keep what they hold and an explicit nodePort
 * someone else holds is refused; a port or address held before (written
 * back into the model, or held in the previous world @p ow) is kept while it
 * is free and in range; then the rest get the lowest free port of the range
 * and the first free pool address of their family.
 */
static int
allocate_all(const struct el_config *cfg, struct world *nw, const struct world *ow,
	     const struct el_model *m, char *err, size_t errlen)
{
	unsigned *order = calloc(m->n_svcs + 1, sizeof(*order));
	char pk[PORT_KEY_MAX], ipb[EL_IP_STRLEN];
	int rc = 0;

	if (order == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < m->n_svcs; i++)
		order[i] = i;
	qsort_r(order, m->n_svcs, sizeof(*order), rev_order_cmp, (void *)m);

	/* nodePorts held or asked for, in revision order */
	for (unsigned k = 0; rc == 0 && k < m->n_svcs; k++) {
		const struct el_service *s = m->svcs[order[k]];
		const struct unit *ou;
		struct unit *u;
		if (!svc_has_node_ports(s))
			continue;
		u = unit_get(nw, s->ns, s->name);
		if (u == NULL) {
			rc = fail(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		ou = ow ? unit_find(ow, s->ns, s->name) : NULL;
		for (unsigned j = 0; rc == 0 && j < s->n_ports; j++) {
			const struct el_svc_port *p = &s->ports[j];
			int32_t want = p->node_port;
			bool is_auto = p->node_port_auto;
			port_key(pk, p);
			if (want != 0 && !is_auto) {
				if (!np_in_range(cfg, want)) {
					rc = fail(
					    err, errlen, -EINVAL,
					    "%s/%s: spec.ports[%u].nodePort: %d is outside the "
					    "NodePort range %u-%u",
					    s->ns, s->name, j, want, cfg->nodeport_min,
					    cfg->nodeport_max);
					break;
				}
				const struct unit *o = np_owner(nw, p->proto, want);
				if (o != NULL) {
					rc =
					    fail(err, errlen, -EEXIST,
						 "%s/%s: spec.ports[%u].nodePort: %d/%s is already "
						 "allocated to %s/%s",
						 s->ns, s->name, j, want,
						 model_proto_name(p->proto), o->ns, o->name);
					break;
				}
			} else {
				const struct np_rec *r = unit_np(ou, pk);
				if (want == 0 && r != NULL) {
					want = r->port;
					is_auto = r->is_auto;
				}
				if (want == 0 || !np_in_range(cfg, want) ||
				    np_owner(nw, p->proto, want) != NULL)
					continue;
			}
			np_set(nw, p->proto, want, u);
			if (np_rec_add(u, pk, p->proto, want, is_auto) < 0)
				rc = fail(err, errlen, -ENOMEM, "out of memory");
		}
	}
	/* the rest: lowest free port, in (namespace, name) order */
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		struct unit *u;
		if (!svc_has_node_ports(s))
			continue;
		u = unit_find(nw, s->ns, s->name);
		for (unsigned j = 0; rc == 0 && j < s->n_ports; j++) {
			const struct el_svc_port *p = &s->ports[j];
			int32_t port;
			port_key(pk, p);
			if (unit_np(u, pk) != NULL)
				continue;
			for (port = cfg->nodeport_min; port <= cfg->nodeport_max; port++)
				if (np_owner(nw, p->proto, port) == NULL)
					break;
			if (port > cfg->nodeport_max) {
				rc = fail(err, errlen, -ENOSPC,
					  "%s/%s: spec.ports[%u].nodePort: failed to allocate a "
					  "nodePort: range is full (no free %s port in %u-%u)",
					  s->ns, s->name, j, model_proto_name(p->proto),
					  cfg->nodeport_min, cfg->nodeport_max);
				break;
			}
			np_set(nw, p->proto, port, u);
			if (np_rec_add(u, pk, p->proto, port, true) < 0)
				rc = fail(err, errlen, -ENOMEM, "out of memory");
		}
	}

	/* LoadBalancer addresses asked for or held, in revision order, one per
	 * family of the service */
	for (unsigned k = 0; rc == 0 && k < m->n_svcs; k++) {
		const struct el_service *s = m->svcs[order[k]];
		const struct unit *ou;
		uint8_t fam[2];
		unsigned nf;
		struct unit *u;
		if (!svc_wants_lb(s))
			continue;
		u = unit_get(nw, s->ns, s->name);
		if (u == NULL) {
			rc = fail(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		nf = svc_families(cfg, s, fam);
		ou = ow ? unit_find(ow, s->ns, s->name) : NULL;
		for (unsigned i = 0; rc == 0 && i < nf; i++) {
			unsigned fi = fam_idx(fam[i]);
			struct el_ip want = s->lb_ip;
			const struct lb_holders *h;
			if (want.family == fam[i]) {
				if (!in_any_pool(cfg, &want)) {
					rc = fail(
					    err, errlen, -EINVAL,
					    "%s/%s: spec.loadBalancerIP: %s is not inside any "
					    "loadbalancer pool",
					    s->ns, s->name, el_ip_fmt(&want, ipb, sizeof(ipb)));
					break;
				}
				h = lb_get(nw, &want);
				if (h != NULL && h->mode == LB_HELD) {
					rc =
					    fail(err, errlen, -EEXIST,
						 "%s/%s: spec.loadBalancerIP: %s is already "
						 "allocated to %s/%s",
						 s->ns, s->name, el_ip_fmt(&want, ipb, sizeof(ipb)),
						 h->u[0]->ns, h->u[0]->name);
					break;
				}
				if (lb_claim(nw, &want, LB_EXPLICIT, u) < 0)
					rc = fail(err, errlen, -ENOMEM, "out of memory");
				continue;
			}
			memset(&want, 0, sizeof(want));
			if (ou != NULL && ou->lb_mode[fi] == LB_HELD)
				want = ou->lb[fi];
			for (unsigned j = 0; want.family == EL_AF_NONE && j < s->n_lb_ingress; j++)
				if (s->lb_ingress[j].family == fam[i])
					want = s->lb_ingress[j];
			if (want.family == EL_AF_NONE || !in_any_pool(cfg, &want) ||
			    lb_get(nw, &want) != NULL)
				continue;
			if (lb_claim(nw, &want, LB_HELD, u) < 0)
				rc = fail(err, errlen, -ENOMEM, "out of memory");
		}
		if (rc == 0 && s->lb_ip.family != EL_AF_NONE && !fam_has(fam, nf, s->lb_ip.family))
			rc = fail(err, errlen, -EINVAL,
				  "%s/%s: spec.loadBalancerIP: %s is an %s address; the service's "
				  "ipFamilies do not include %s",
				  s->ns, s->name, el_ip_fmt(&s->lb_ip, ipb, sizeof(ipb)),
				  model_family_name(s->lb_ip.family),
				  model_family_name(s->lb_ip.family));
	}
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		uint8_t fam[2];
		unsigned nf;
		struct unit *u;
		struct el_ip ip;
		if (!svc_wants_lb(s))
			continue;
		u = unit_find(nw, s->ns, s->name);
		nf = svc_families(cfg, s, fam);
		for (unsigned j = 0; rc == 0 && j < nf; j++) {
			if (u->lb_mode[fam_idx(fam[j])] != LB_NONE ||
			    lb_family_skipped(cfg, fam, nf, fam[j]))
				continue;
			if (!lb_first_free(cfg, nw, fam[j], &ip)) {
				rc = fail(err, errlen, -ENOSPC,
					  "%s/%s: status.loadBalancer.ingress: failed to allocate "
					  "a loadBalancer IP: no free %saddress left in the "
					  "loadbalancer pools",
					  s->ns, s->name, family_word(fam[j]));
				break;
			}
			if (lb_claim(nw, &ip, LB_HELD, u) < 0)
				rc = fail(err, errlen, -ENOMEM, "out of memory");
		}
	}
	free(order);
	return rc;
}

/*
 * Make status.loadBalancer.ingress of @p s the addresses unit @p u holds,
 * in the order of the service's families (lb_ingress_auto set), or empty
 * when it holds none.
 * @return 0, or -ENOMEM (@p s unchanged)
 */
static int
svc_set_ingress(struct el_service *s, const struct unit *u)
{
	struct el_ip ing[2];
	unsigned n = 0;

	for (unsigned i = 0; u != NULL && i < s->n_ip_families && i < 2; i++) {
		unsigned fi = fam_idx(s->ip_families[i]);
		if (u->lb_mode[fi] != LB_NONE)
			ing[n++] = u->lb[fi];
	}
	/* a service whose families are not written in: IPv4 first */
	for (unsigned fi = 0; u != NULL && s->n_ip_families == 0 && fi < 2; fi++)
		if (u->lb_mode[fi] != LB_NONE)
			ing[n++] = u->lb[fi];
	if (n == 0) {
		free(s->lb_ingress);
		s->lb_ingress = NULL;
		s->n_lb_ingress = 0;
		s->lb_ingress_auto = false;
		return 0;
	}
	if (s->n_lb_ingress != n || memcmp(s->lb_ingress, ing, n * sizeof(*ing)) != 0) {
		struct el_ip *p = realloc(s->lb_ingress, n * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		memcpy(p, ing, n * sizeof(*p));
		s->lb_ingress = p;
		s->n_lb_ingress = n;
	}
	s->lb_ingress_auto = true;
	return 0;
}

/* ---- incremental allocation (compile_assign) ---- */

/* Is (proto, port) free for unit @p u, which will hold @p want? */
static bool
np_free_for(const struct world *w, const struct unit *u, const struct np_rec *want, unsigned n,
	    uint8_t proto, int32_t port)
{
	const struct unit *o = np_owner(w, proto, port);

	if (o != NULL && o != u)
		return false;
	for (unsigned k = 0; k < n; k++)
		if (want[k].proto == proto && want[k].port == port)
			return false;
	return true;
}

int
compile_assign(struct compile_state *cs, const struct el_model *m, struct el_service *s, char *err,
	       size_t errlen)
{
	const struct el_config *cfg = cs->cfg;
	struct world *w = cs->w;
	struct unit *u;
	struct np_rec *want = NULL;
	unsigned n_want = 0, nf;
	struct el_ip lb[2];
	uint8_t lb_mode[2] = {LB_NONE, LB_NONE}, fam[2];
	char ipb[EL_IP_STRLEN];
	int rc = 0;

	/* spec.ipFamilyPolicy and spec.ipFamilies, defaulted as the API
	 * server does; the rest depends on them */
	rc = model_service_default_families(s, compile_families_available(cfg), err, errlen);
	if (rc < 0)
		return rc;
	if (w == NULL)
		return 0; /* the next compile allocates, from the model */
	u = unit_find(w, s->ns, s->name);
	memset(lb, 0, sizeof(lb));
	nf = svc_families(cfg, s, fam);

	/* nodePorts: what the service asks for or keeps, then the lowest free */
	if (svc_has_node_ports(s)) {
		want = calloc(s->n_ports + 1, sizeof(*want));
		if (want == NULL)
			return fail(err, errlen, -ENOMEM, "out of memory");
		for (unsigned j = 0; rc == 0 && j < s->n_ports; j++) {
			const struct el_svc_port *p = &s->ports[j];
			struct np_rec *r = &want[j];
			const struct unit *o;

			port_key(r->pkey, p);
			r->proto = p->proto;
			if (p->node_port == 0)
				continue;
			o = np_owner(w, p->proto, p->node_port);
			if (o != NULL && o != u)
				rc = fail(
				    err, errlen, -EEXIST,
				    "spec.ports[%u].nodePort: Invalid value: %d: provided port "
				    "is already allocated to %s/%s (%s)",
				    j, p->node_port, o->ns, o->name, model_proto_name(p->proto));
			else if (o == NULL && !np_in_range(cfg, p->node_port))
				rc = fail(
				    err, errlen, -EINVAL,
				    "spec.ports[%u].nodePort: Invalid value: %d: provided port "
				    "is not in the valid range. The range of valid ports is "
				    "%u-%u",
				    j, p->node_port, cfg->nodeport_min, cfg->nodeport_max);
			r->port = p->node_port;
			r->is_auto = p->node_port_auto;
		}
		n_want = s->n_ports;
		for (unsigned j = 0; rc == 0 && j < n_want; j++) {
			struct np_rec *r = &want[j];
			int32_t port;

			if (r->port != 0)
				continue;
			for (port = cfg->nodeport_min; port <= cfg->nodeport_max; port++)
				if (np_free_for(w, u, want, n_want, r->proto, port))
					break;
			if (port > cfg->nodeport_max) {
				rc = fail(err, errlen, -ENOSPC,
					  "spec.ports[%u].nodePort: failed to allocate a nodePort: "
					  "range is full",
					  j);
				break;
			}
			r->port = port;
			r->is_auto = true;
		}
	}

	/* the LoadBalancer addresses, one per family of the service */
	if (rc == 0 && svc_wants_lb(s) && s->lb_ip.family != EL_AF_NONE &&
	    !fam_has(fam, nf, s->lb_ip.family))
		rc = fail(err, errlen, -EINVAL,
			  "spec.loadBalancerIP: Invalid value: %s: an %s address, and the "
			  "service's ipFamilies do not include %s",
			  el_ip_fmt(&s->lb_ip, ipb, sizeof(ipb)),
			  model_family_name(s->lb_ip.family), model_family_name(s->lb_ip.family));
	for (unsigned i = 0; rc == 0 && svc_wants_lb(s) && i < nf; i++) {
		unsigned fi = fam_idx(fam[i]);

		if (s->lb_ip.family == fam[i]) {
			const struct lb_holders *h = lb_get(w, &s->lb_ip);

			el_ip_fmt(&s->lb_ip, ipb, sizeof(ipb));
			if (!in_any_pool(cfg, &s->lb_ip))
				rc = fail(err, errlen, -EINVAL,
					  "spec.loadBalancerIP: Invalid value: %s: not inside any "
					  "loadbalancer pool",
					  ipb);
			else if (h != NULL && h->mode == LB_HELD && h->u[0] != u)
				rc = fail(
				    err, errlen, -EEXIST,
				    "spec.loadBalancerIP: Invalid value: %s: already in use by "
				    "%s/%s",
				    ipb, h->u[0]->ns, h->u[0]->name);
			/* sharing is for services that all asked for the address
			 * and use different ports */
			for (unsigned j = 0;
			     rc == 0 && h != NULL && h->mode == LB_EXPLICIT && j < h->n; j++) {
				const struct unit *o = h->u[j];
				const struct el_service *os =
				    o != u && m != NULL ? model_find_service(m, o->ns, o->name)
							: NULL;
				if (os != NULL && ports_overlap(os, s))
					rc = fail(
					    err, errlen, -EEXIST,
					    "spec.loadBalancerIP: Invalid value: %s: already in "
					    "use by %s/%s on the same port",
					    ipb, o->ns, o->name);
			}
			lb[fi] = ip_clean(&s->lb_ip);
			lb_mode[fi] = LB_EXPLICIT;
			continue;
		}
		/* the address held, or the one the object reads back with */
		if (u != NULL && u->lb_mode[fi] == LB_HELD) {
			lb[fi] = u->lb[fi];
			lb_mode[fi] = LB_HELD;
			continue;
		}
		for (unsigned j = 0; j < s->n_lb_ingress; j++) {
			const struct el_ip *ing = &s->lb_ingress[j];
			if (ing->family == fam[i] && in_any_pool(cfg, ing) &&
			    lb_get(w, ing) == NULL) {
				lb[fi] = ip_clean(ing);
				lb_mode[fi] = LB_HELD;
				break;
			}
		}
		if (lb_mode[fi] != LB_NONE || lb_family_skipped(cfg, fam, nf, fam[i]))
			continue;
		if (!lb_first_free(cfg, w, fam[i], &lb[fi]))
			rc = fail(err, errlen, -ENOSPC,
				  "status.loadBalancer.ingress: failed to allocate a loadBalancer "
				  "IP: no free %saddress left in the loadbalancer pools",
				  family_word(fam[i]));
		lb_mode[fi] = LB_HELD;
	}
	if (rc < 0) {
		free(want);
		return rc;
	}

	/* commit */
	if (u == NULL && (n_want > 0 || lb_mode[0] != LB_NONE || lb_mode[1] != LB_NONE)) {
		u = unit_get(w, s->ns, s->name);
		if (u == NULL) {
			free(want);
			return fail(err, errlen, -ENOMEM, "out of memory");
		}
	}
	if (u != NULL) {
		struct el_ip old_lb[2] = {u->lb[0], u->lb[1]};
		uint8_t old_mode[2] = {u->lb_mode[0], u->lb_mode[1]};

		for (unsigned fi = 0; fi < 2; fi++) {
			if (lb_mode[fi] == u->lb_mode[fi] &&
			    (lb_mode[fi] == LB_NONE || el_ip_eq(&u->lb[fi], &lb[fi])))
				continue;
			unit_release_lb_fam(w, u, fi);
			if (lb_mode[fi] != LB_NONE && lb_claim(w, &lb[fi], lb_mode[fi], u) < 0)
				rc = -ENOMEM;
		}
		if (rc < 0) {
			/* back to what it held (releasing never allocates) */
			unit_release_lb(w, u);
			for (unsigned fi = 0; fi < 2; fi++)
				if (old_mode[fi] != LB_NONE)
					(void)lb_claim(w, &old_lb[fi], old_mode[fi], u);
			free(want);
			return fail(err, errlen, -ENOMEM, "out of memory");
		}
		unit_release_np(w, u);
		u->np = want;
		u->n_np = n_want;
		want = NULL;
		for (unsigned j = 0; j < u->n_np; j++)
			np_set(w, u->np[j].proto, u->np[j].port, u);
	}
	free(want);

	/* what the service reads back with */
	for (unsigned j = 0; u != NULL && j < u->n_np; j++) {
		s->ports[j].node_port = u->np[j].port;
		s->ports[j].node_port_auto = u->np[j].is_auto;
	}
	if (svc_set_ingress(s, u) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

void
compile_release(struct compile_state *cs, const char *ns, const char *name)
{
	struct unit *u = cs->w != NULL ? unit_find(cs->w, ns, name) : NULL;

	if (u == NULL)
		return;
	unit_release_lb(cs->w, u);
	unit_release_np(cs->w, u);
}

/* ---- backends ---- */

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
cand_add(struct compile_state *cs, const struct el_ip *ip, uint16_t port, uint8_t cond)
{
	if (ip->family != cs->cand_family)
		return 0; /* the other family's twin takes it */
	if (grow(&cs->cand, &cs->cap_cand, cs->n_cand + 1, sizeof(*cs->cand)) < 0)
		return -ENOMEM;
	struct el_snap_backend *be = &cs->cand[cs->n_cand++];
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
collect_endpoints(struct compile_state *cs, const struct el_model *m, const struct el_service *s,
		  const struct el_svc_port *sp)
{
	const struct el_endpoints *e = model_find_endpoints(m, s->ns, s->name);
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
			if (cand_add(cs, &ss->addrs[j], port, EL_BE_READY | EL_BE_SERVING) < 0)
				return -ENOMEM;
		for (unsigned j = 0; j < ss->n_not_ready; j++)
			if (cand_add(cs, &ss->not_ready[j], port, 0) < 0)
				return -ENOMEM;
	}
	return 0;
}

static int
collect_slices(struct compile_state *cs, const struct el_model *m, const struct el_service *s,
	       const struct el_svc_port *sp)
{
	struct el_slice *const *sls;
	unsigned n = model_slices_of(m, s->ns, s->name, &sls);
	struct gport gp[100];

	for (unsigned i = 0; i < n; i++) {
		const struct el_slice *sl = sls[i];
		uint16_t port;
		if (sl->addr_type == EL_ADDR_FQDN || (uint8_t)sl->addr_type != cs->cand_family)
			continue;
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
			if (cand_add(cs, &ep->addrs[0], port, cond) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Backends of family @p family of one service port into cs->cand (Endpoints
 * addresses and EndpointSlices, IPv4 and IPv6 ones, of that family): merged, deduplicated by
 * (ip, port) with their conditions or'ed, sorted, cut to the ones that may
 * take new flows (ready; else serving and terminating; else none), with
 * the ids they had in @p prev (the object this service port had) or new ones.
 */
static int
backends_for(struct compile_state *cs, const struct el_model *m, const struct el_service *s,
	     const struct el_svc_port *sp, uint8_t family, const struct svc_obj *prev)
{
	unsigned n = 0, w = 0;
	bool any_ready = false;

	cs->n_cand = 0;
	cs->cand_family = family;
	if (collect_endpoints(cs, m, s, sp) < 0 || collect_slices(cs, m, s, sp) < 0)
		return -ENOMEM;
	if (cs->n_cand > 1)
		qsort(cs->cand, cs->n_cand, sizeof(*cs->cand), backend_cmp);
	for (unsigned i = 0; i < cs->n_cand; i++) {
		if (n > 0 && backend_cmp(&cs->cand[n - 1], &cs->cand[i]) == 0) {
			cs->cand[n - 1].cond |= cs->cand[i].cond;
			continue;
		}
		cs->cand[n++] = cs->cand[i];
	}
	for (unsigned i = 0; i < n; i++)
		if (cs->cand[i].cond & EL_BE_READY)
			any_ready = true;
	for (unsigned i = 0; i < n; i++) {
		uint8_t c = cs->cand[i].cond;
		bool take = any_ready ? (c & EL_BE_READY) != 0
				      : (c & (EL_BE_SERVING | EL_BE_TERMINATING)) ==
					    (EL_BE_SERVING | EL_BE_TERMINATING);
		if (take)
			cs->cand[w++] = cs->cand[i];
	}
	cs->n_cand = w;
	for (unsigned i = 0; i < w; i++) {
		struct el_snap_backend *be = &cs->cand[i];
		const struct el_snap_backend *old = NULL;
		if (prev != NULL && prev->svc.n_backends > 0)
			old = bsearch(be, prev->svc.backends, prev->svc.n_backends, sizeof(*be),
				      backend_cmp);
		be->id = old != NULL ? old->id : ++cs->next_be_id;
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

	return s->id == want->id && s->proto == want->proto && s->family == want->family &&
	       s->affinity == want->affinity && s->affinity_timeout == want->affinity_timeout &&
	       strcmp(s->name, want->name) == 0 && s->n_backends == want->n_backends &&
	       s->maglev_size == want->maglev_size && s->n_src_ranges == want->n_src_ranges &&
	       (want->n_backends == 0 ||
		memcmp(s->backends, bes, want->n_backends * sizeof(*bes)) == 0) &&
	       (want->n_src_ranges == 0 ||
		memcmp(s->src_ranges, ranges, want->n_src_ranges * sizeof(*ranges)) == 0);
}

/*
 * Was @p prev's Maglev table built over the backend addresses of @p want, in
 * the same order? maglev_build() reads nothing else (not ids, not
 * conditions), so the table would come out the same: it is copied.
 */
static bool
svc_obj_same_table(const struct svc_obj *prev, const struct el_snap_svc *want,
		   const struct el_snap_backend *bes)
{
	if (prev == NULL || prev->svc.maglev == NULL || want->maglev_size == 0 ||
	    prev->svc.maglev_size != want->maglev_size || prev->svc.n_backends != want->n_backends)
		return false;
	for (uint32_t i = 0; i < want->n_backends; i++)
		if (prev->svc.backends[i].port != bes[i].port ||
		    !el_ip_eq(&prev->svc.backends[i].ip, &bes[i].ip))
			return false;
	return true;
}

static struct svc_obj *
svc_obj_build(const struct el_snap_svc *want, const struct el_snap_backend *bes,
	      const struct el_cidr *ranges, const struct svc_obj *prev, int *rc)
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
		int r = 0;

		if (svc_obj_same_table(prev, want, bes))
			memcpy(t, prev->svc.maglev, (size_t)want->maglev_size * sizeof(*t));
		else
			r = maglev_build(o->svc.backends, want->n_backends, t, want->maglev_size);
		if (r < 0) {
			*rc = r;
			snapshot_mfree(mem);
			return NULL;
		}
		o->svc.maglev = t;
	}
	return o;
}

/* ---- building one unit ---- */

/* What a build of a unit makes, before it replaces the unit's last build. */
struct ubuild {
	struct bport *bp;
	unsigned n_bp;
	struct claim *cl;
	unsigned n_cl, cap_cl;
	struct el_ip *vips;
	unsigned n_vips, cap_vips;
	char **warns;
	unsigned n_warns;
};

static void
ubuild_free(struct compile_state *cs, struct ubuild *b)
{
	for (unsigned i = 0; i < b->n_bp; i++)
		svc_obj_unref(cs, b->bp[i].obj);
	free(b->bp);
	free(b->cl);
	free(b->vips);
	for (unsigned i = 0; i < b->n_warns; i++)
		free(b->warns[i]);
	free(b->warns);
	memset(b, 0, sizeof(*b));
}

static int
ubuild_claim(struct ubuild *b, const struct el_ip *ip, uint16_t port_be, uint8_t proto,
	     uint8_t kind, uint16_t bport)
{
	struct claim *c;

	if (grow(&b->cl, &b->cap_cl, b->n_cl + 1, sizeof(*b->cl)) < 0)
		return -ENOMEM;
	c = &b->cl[b->n_cl];
	memset(c, 0, sizeof(*c));
	fe_key(ip, port_be, proto, c->key);
	c->kind = kind;
	c->bport = bport;
	c->seq = b->n_cl++;
	return 0;
}

static int
ubuild_vip(struct ubuild *b, const struct el_ip *ip)
{
	for (unsigned i = 0; i < b->n_vips; i++)
		if (el_ip_eq(&b->vips[i], ip))
			return 0;
	if (grow(&b->vips, &b->cap_vips, b->n_vips + 1, sizeof(*b->vips)) < 0)
		return -ENOMEM;
	b->vips[b->n_vips++] = ip_clean(ip);
	return 0;
}

static int ubuild_warn(struct ubuild *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
ubuild_warn(struct ubuild *b, const char *fmt, ...)
{
	char buf[320], **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nw = realloc(b->warns, (b->n_warns + 1) * sizeof(*nw));
	if (nw == NULL)
		return -ENOMEM;
	b->warns = nw;
	b->warns[b->n_warns] = strdup(buf);
	if (b->warns[b->n_warns] == NULL)
		return -ENOMEM;
	b->n_warns++;
	return 0;
}

/*
 * The frontends and VIPs of built port @p k of service @p s, which serves
 * family b->bp[k].family: the addresses of that family only (kube-proxy
 * programs each family of a Service separately; a Service without a
 * family gets nothing of it, not even nodePorts on its interface
 * addresses).
 */
static int
ubuild_frontends(const struct el_config *cfg, struct ubuild *b, const struct unit *u,
		 const struct el_service *s, const struct el_svc_port *sp, uint16_t k)
{
	uint16_t port = htons((uint16_t)sp->port);
	int32_t np = b->bp[k].node_port;
	uint8_t family = b->bp[k].family;
	unsigned fi = fam_idx(family);
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < s->n_cluster_ips; i++) {
		if (s->cluster_ips[i].family != family)
			continue;
		rc = ubuild_claim(b, &s->cluster_ips[i], port, sp->proto, EL_FE_CLUSTER_IP, k);
		if (rc == 0)
			rc = ubuild_vip(b, &s->cluster_ips[i]);
	}
	for (unsigned i = 0; rc == 0 && i < s->n_external_ips; i++) {
		if (s->external_ips[i].family != family)
			continue;
		rc = ubuild_claim(b, &s->external_ips[i], port, sp->proto, EL_FE_EXTERNAL_IP, k);
		if (rc == 0)
			rc = ubuild_vip(b, &s->external_ips[i]);
	}
	if (rc == 0 && u != NULL && u->lb_mode[fi] != LB_NONE && svc_wants_lb(s)) {
		rc = ubuild_claim(b, &u->lb[fi], port, sp->proto, EL_FE_LB_INGRESS, k);
		if (rc == 0)
			rc = ubuild_vip(b, &u->lb[fi]);
	}
	if (np == 0)
		return rc;
	for (unsigned i = 0; rc == 0 && i < cfg->n_ifaces; i++) {
		const struct el_cfg_iface *ifc = &cfg->ifaces[i];
		for (unsigned j = 0; rc == 0 && j < ifc->n_addrs; j++)
			if (ifc->addrs[j].addr.family == family)
				rc = ubuild_claim(b, &ifc->addrs[j].addr, htons((uint16_t)np),
						  sp->proto, EL_FE_NODE_PORT, k);
	}
	return rc;
}

static bool
has_snat_of(const struct el_config *cfg, uint8_t family)
{
	for (unsigned i = 0; i < cfg->n_snat; i++)
		if (cfg->snat[i].family == family)
			return true;
	return false;
}

/* What a Service's families leave unserved, as warnings of its build. */
static int
ubuild_family_warnings(const struct el_config *cfg, struct ubuild *b, const struct unit *u,
		       const struct el_service *s, const uint8_t *fam, unsigned nf)
{
	char ipb[EL_IP_STRLEN];
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < nf; i++) {
		if (!has_snat_of(cfg, fam[i]))
			rc = ubuild_warn(b,
					 "%s/%s: no %s SNAT address (snat.addresses): new %s "
					 "connections to it are dropped",
					 s->ns, s->name, model_family_name(fam[i]),
					 model_family_name(fam[i]));
		if (rc == 0 && svc_wants_lb(s) && u != NULL &&
		    u->lb_mode[fam_idx(fam[i])] == LB_NONE &&
		    lb_family_skipped(cfg, fam, nf, fam[i]))
			rc = ubuild_warn(b,
					 "%s/%s: no %s loadbalancer pool: no %s address in "
					 "status.loadBalancer.ingress",
					 s->ns, s->name, model_family_name(fam[i]),
					 model_family_name(fam[i]));
	}
	for (unsigned i = 0; rc == 0 && i < s->n_external_ips; i++)
		if (!fam_has(fam, nf, s->external_ips[i].family))
			rc = ubuild_warn(b,
					 "%s/%s: spec.externalIPs[%u]: %s is not served: %s is not "
					 "one of the service's ipFamilies",
					 s->ns, s->name, i,
					 el_ip_fmt(&s->external_ips[i], ipb, sizeof(ipb)),
					 model_family_name(s->external_ips[i].family));
	return rc;
}

/*
 * Build what service @p s (with the holdings of unit @p u, which may be
 * NULL) needs in a snapshot: per port, one service object per IP family
 * of the service, each with the backends of its family only. @p prev is the
 * unit whose ids and objects carry over (the same unit, or its counterpart
 * in the world being replaced); a port keeps the id of each family it had.
 * Touches nothing shared: on failure @p b is freed.
 */
static int
ubuild_make(struct compile_state *cs, const struct el_model *m, const struct el_service *s,
	    const struct unit *u, const struct unit *prev, struct ubuild *b)
{
	const struct el_config *cfg = cs->cfg;
	uint32_t min_size = cfg->maglev_table_size ? cfg->maglev_table_size : MAGLEV_DEFAULT_SIZE;
	char name[3 * EL_LABEL_MAX + 16];
	uint8_t fam[2];
	unsigned nf;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	if (s == NULL || !model_service_programmable(s) || s->n_ports == 0)
		return 0;
	nf = svc_families(cfg, s, fam);
	b->bp = calloc((size_t)s->n_ports * nf, sizeof(*b->bp));
	if (b->bp == NULL)
		return -ENOMEM;
	for (unsigned j = 0; rc == 0 && j < s->n_ports * nf; j++) {
		const struct el_svc_port *sp = &s->ports[j / nf];
		uint8_t family = fam[j % nf];
		struct bport *bp = &b->bp[b->n_bp];
		const struct bport *pb;
		const struct np_rec *np;
		struct el_snap_svc want;
		struct el_cidr *ranges = NULL;
		struct svc_obj *o;

		if (sp->proto != EL_PROTO_TCP && sp->proto != EL_PROTO_UDP)
			continue;
		port_key(bp->pkey, sp);
		bp->family = family;
		pb = unit_bport(prev, bp->pkey, family);
		np = svc_has_node_ports(s) ? unit_np(u, bp->pkey) : NULL;
		bp->node_port = np != NULL ? np->port : 0;
		bp->id = pb != NULL ? pb->id : ++cs->next_svc_id;

		memset(&want, 0, sizeof(want));
		want.id = bp->id;
		want.proto = sp->proto;
		want.family = family;
		want.affinity = s->affinity_client_ip;
		want.affinity_timeout = s->affinity_client_ip ? (uint32_t)s->affinity_timeout : 0;
		/* both families share the name: metrics sum them per service */
		if (sp->name[0] != '\0')
			snprintf(name, sizeof(name), "%s/%s:%s", s->ns, s->name, sp->name);
		else
			snprintf(name, sizeof(name), "%s/%s:%d", s->ns, s->name, sp->port);
		/* the longest names do not fit: cut (the id is what identifies) */
		memcpy(want.name, name, sizeof(want.name) - 1);
		rc = backends_for(cs, m, s, sp, family, pb != NULL ? pb->obj : NULL);
		if (rc < 0)
			break;
		if (cs->n_cand > MAGLEV_MAX_BACKENDS) {
			rc = ubuild_warn(b, "%s: %u %s backends, only the first %u take new flows",
					 want.name, cs->n_cand, model_family_name(family),
					 MAGLEV_MAX_BACKENDS);
			cs->n_cand = MAGLEV_MAX_BACKENDS;
			if (rc < 0)
				break;
		}
		want.n_backends = cs->n_cand;
		want.maglev_size = cs->n_cand ? maglev_table_size(cs->n_cand, min_size) : 0;
		/* every range in both families' objects: the dataplane checks a
		 * client against the ranges of its own family only, so ranges
		 * of one family alone shut the other family's clients out */
		want.n_src_ranges = s->type == EL_SVC_LOAD_BALANCER ? s->n_src_ranges : 0;
		if (want.n_src_ranges > 0) {
			ranges = calloc(want.n_src_ranges, sizeof(*ranges));
			if (ranges == NULL) {
				rc = -ENOMEM;
				break;
			}
			for (unsigned r = 0; r < want.n_src_ranges; r++)
				ranges[r] = cidr_network(&s->src_ranges[r]);
		}
		if (pb != NULL && pb->obj != NULL && svc_obj_same(pb->obj, &want, cs->cand, ranges))
			o = pb->obj;
		else
			o = svc_obj_build(&want, cs->cand, ranges, pb != NULL ? pb->obj : NULL,
					  &rc);
		free(ranges);
		if (o == NULL)
			break;
		o->refs++; /* the unit's reference */
		bp->obj = o;
		b->n_bp++;
		rc = ubuild_frontends(cfg, b, u, s, sp, (uint16_t)(b->n_bp - 1));
	}
	if (rc == 0)
		rc = ubuild_family_warnings(cfg, b, u, s, fam, nf);
	if (rc < 0)
		ubuild_free(cs, b);
	return rc;
}

/* Withdraw the last build of @p u from the world: claims, VIPs, slots. The
 * objects stay referenced by the unit (the caller drops them). */
static void
unit_withdraw(struct world *w, struct unit *u)
{
	for (unsigned i = 0; i < u->n_cl; i++)
		claim_remove(w, u, &u->cl[i]);
	for (unsigned i = 0; i < u->n_vips; i++)
		(void)own_vip_ref(w, &u->vips[i], -1); /* removal does not allocate */
	for (unsigned i = u->n_bp; i-- > 0;)
		if (u->bp[i].obj != NULL)
			slot_remove(w, u->bp[i].slot);
	free(u->cl);
	free(u->vips);
	u->cl = NULL;
	u->vips = NULL;
	u->n_cl = u->n_vips = 0;
	u->built = false;
}

/* Put build @p b into the world as unit @p u's (taken over by the unit). */
static int
unit_install(struct world *w, struct unit *u, struct ubuild *b)
{
	int rc = 0;

	u->bp = b->bp;
	u->n_bp = b->n_bp;
	u->cl = b->cl;
	u->n_cl = b->n_cl;
	u->vips = b->vips;
	u->n_vips = b->n_vips;
	unit_clear_warns(u);
	u->warns = b->warns;
	u->n_warns = b->n_warns;
	memset(b, 0, sizeof(*b));
	u->built = true;
	for (unsigned i = 0; rc == 0 && i < u->n_bp; i++)
		rc = slot_add(w, u, (uint16_t)i);
	for (unsigned i = 0; rc == 0 && i < u->n_cl; i++)
		rc = claim_add(w, u, &u->cl[i]);
	for (unsigned i = 0; rc == 0 && i < u->n_vips; i++)
		rc = own_vip_ref(w, &u->vips[i], +1);
	return rc;
}

/* ---- snapshots ---- */

/* ---- object lifetimes ----
 * A snapshot lists thousands of objects; counting a reference per object
 * and snapshot would make every snapshot cost O(services) in scattered
 * memory writes. Instead an object no unit uses is retired with the
 * generation of the first snapshot that cannot hold it (the next one), and
 * freed once every snapshot older than that is freed. */

static void
retire_object(struct compile_state *cs, struct svc_obj *o)
{
	if (cs == NULL) {
		snapshot_mfree(o);
		return;
	}
	if (grow(&cs->retired, &cs->cap_retired, cs->n_retired + 1, sizeof(*cs->retired)) < 0) {
		/* cannot wait: keep it forever rather than free it early */
		return;
	}
	cs->retired[cs->n_retired++] = (struct retired){.o = o, .gen = cs->generation + 1};
}

/* Free the retired objects no live snapshot can hold. */
static void
retire_reap(struct compile_state *cs)
{
	uint64_t oldest = UINT64_MAX;
	unsigned w = 0;

	for (unsigned i = 0; i < cs->n_live; i++)
		if (cs->live[i].gen < oldest)
			oldest = cs->live[i].gen;
	for (unsigned i = 0; i < cs->n_retired; i++) {
		if (cs->retired[i].gen <= oldest)
			snapshot_mfree(cs->retired[i].o);
		else
			cs->retired[w++] = cs->retired[i];
	}
	cs->n_retired = w;
}

/* Free a snapshot, its flat tables excepted (see tab_keep()). */
static void
snapshot_release(struct el_snapshot *s)
{
	if (s == NULL)
		return;
	snapshot_mfree((void *)(uintptr_t)s->routes);
	snapshot_mfree((void *)(uintptr_t)s->neighs);
	snapshot_mfree(s);
}

static void *
snap_copy(const void *src, size_t n, size_t size)
{
	void *d = snapshot_zalloc(n ? n * size : size);

	if (d != NULL && n > 0)
		memcpy(d, src, n * size);
	return d;
}

/*
 * A copy of flat table @p src (@p mask + 1 slots of @p size bytes, written
 * as @p l says) for a new snapshot: the spare brought up to date when it can
 * be, else a new copy. NULL: out of memory.
 */
static void *
tab_copy_make(struct tab_copy *spare, struct tab_copy *out, const void *src, uint32_t mask,
	      size_t size, const struct tab_log *l)
{
	void *d;

	if (tab_copy_usable(spare, l, mask)) {
		d = spare->p;
		for (uint64_t k = spare->seq - l->base; k < l->n; k++)
			memcpy((char *)d + (size_t)l->idx[k] * size,
			       (const char *)src + (size_t)l->idx[k] * size, size);
	} else {
		snapshot_mfree(spare->p);
		d = snap_copy(src, (size_t)mask + 1, size);
	}
	spare->p = NULL;
	*out = (struct tab_copy){.p = d, .epoch = l->epoch, .seq = l->base + l->n, .mask = mask};
	return d;
}

/*
 * The table copy @p c of a freed snapshot: kept as the spare when it is
 * the most recent copy still usable with log @p l (NULL: no world), else
 * freed.
 */
static void
tab_keep(struct tab_copy *spare, struct tab_copy *c, const struct tab_log *l, uint32_t mask)
{
	if (l == NULL || !tab_copy_usable(c, l, mask)) {
		snapshot_mfree(c->p);
	} else if (tab_copy_usable(spare, l, mask) && spare->seq >= c->seq) {
		snapshot_mfree(c->p);
	} else {
		snapshot_mfree(spare->p);
		*spare = *c;
	}
	c->p = NULL;
}

/* Table @p t of world @p w: its slots, their count - 1, size and log. */
static struct tab_log *
tab_of(struct world *w, unsigned t, const void **src, uint32_t *mask, size_t *size)
{
	switch (t) {
	case TAB_FE:
		*src = w->fe;
		*mask = w->fe_mask;
		*size = sizeof(*w->fe);
		return &w->fe_log;
	case TAB_OWN:
		*src = w->own;
		*mask = w->own_mask;
		*size = sizeof(*w->own);
		return &w->own_log;
	default:
		*src = w->svcv;
		*mask = w->svcv_mask;
		*size = sizeof(*w->svcv);
		return &w->svcv_log;
	}
}

/* Forget the logged writes no live copy or spare needs any more. */
static void
tab_logs_trim(struct compile_state *cs)
{
	for (unsigned t = 0; t < TAB_N; t++) {
		const void *src;
		uint32_t mask;
		size_t size;
		struct tab_log *l = tab_of(cs->w, t, &src, &mask, &size);
		uint64_t min = l->base + l->n;

		if (tab_copy_usable(&cs->spare[t], l, mask) && cs->spare[t].seq < min)
			min = cs->spare[t].seq;
		for (unsigned i = 0; i < cs->n_live; i++) {
			const struct tab_copy *c = &cs->live[i].tab[t];
			if (tab_copy_usable(c, l, mask) && c->seq < min)
				min = c->seq;
		}
		tab_log_trim(l, min);
	}
}

/* A snapshot of the world as it is. */
static int
snapshot_make(struct compile_state *cs, struct el_snapshot **out)
{
	const struct el_config *cfg = cs->cfg;
	struct world *w = cs->w;
	struct el_snapshot *snap = snapshot_zalloc(sizeof(*snap));
	struct live_snap ls = {0};
	void *tabs[TAB_N];

	*out = NULL;
	if (snap == NULL || grow(&cs->live, &cs->cap_live, cs->n_live + 1, sizeof(*cs->live)) < 0) {
		snapshot_mfree(snap);
		return -ENOMEM;
	}
	/* an empty world still gets real (empty) tables */
	if (fe_resize(w, w->fe_n) < 0 || own_resize(w, w->own_n) < 0 || svcv_reserve(w, 1) < 0)
		goto nomem;
	tab_logs_trim(cs);
	for (unsigned t = 0; t < TAB_N; t++) {
		const void *src;
		uint32_t mask;
		size_t size;
		const struct tab_log *l = tab_of(w, t, &src, &mask, &size);

		tabs[t] = tab_copy_make(&cs->spare[t], &ls.tab[t], src, mask, size, l);
	}
	snap->fe = tabs[TAB_FE];
	snap->own = tabs[TAB_OWN];
	snap->svcs = tabs[TAB_SVCV];
	snap->routes = snap_copy(w->routes, w->n_routes, sizeof(*w->routes));
	snap->neighs = snap_copy(w->neighs, w->n_neighs, sizeof(*w->neighs));
	if (snap->svcs == NULL || snap->fe == NULL || snap->own == NULL || snap->routes == NULL ||
	    snap->neighs == NULL)
		goto nomem;
	snap->n_svcs = w->n_slots;
	snap->fe_mask = w->fe_mask;
	snap->own_mask = w->own_mask;
	snap->n_routes = w->n_routes;
	snap->n_neighs = w->n_neighs;

	snap->n_ifaces = cfg->n_ifaces < EL_SNAP_MAX_IFACES ? cfg->n_ifaces : EL_SNAP_MAX_IFACES;
	for (unsigned i = 0; i < snap->n_ifaces; i++) {
		struct el_snap_iface *si = &snap->ifaces[i];
		memcpy(si->name, cfg->ifaces[i].name, sizeof(si->name));
		si->name[sizeof(si->name) - 1] = '\0';
		si->port_id = cs->ifaces[i].port_id;
		memcpy(si->mac, cs->ifaces[i].mac, 6);
		memcpy(si->addrs, cfg->ifaces[i].addrs, sizeof(si->addrs));
		si->n_addrs = cfg->ifaces[i].n_addrs;
	}
	snap->n_snat = cfg->n_snat;
	for (unsigned i = 0; i < cfg->n_snat; i++)
		snap->snat[i] = ip_clean(&cfg->snat[i]);
	memcpy(snap->ct_timeouts, cfg->ct_timeouts, sizeof(snap->ct_timeouts));
	snap->generation = ++cs->generation;
	ls.gen = snap->generation;
	cs->live[cs->n_live++] = ls;
	*out = snap;
	return 0;
nomem:
	snapshot_mfree((void *)(uintptr_t)snap->svcs);
	snapshot_mfree((void *)(uintptr_t)snap->fe);
	snapshot_mfree((void *)(uintptr_t)snap->own);
	snapshot_mfree((void *)(uintptr_t)snap->routes);
	snapshot_mfree((void *)(uintptr_t)snap->neighs);
	snapshot_mfree(snap);
	return -ENOMEM;
}

/* ---- the compile state ---- */

struct compile_state *
compile_state_new(const struct el_config *cfg)
{
	struct compile_state *cs = calloc(1, sizeof(*cs));

	if (cs != NULL)
		cs->cfg = cfg;
	return cs;
}

static void
delta_reset(struct compile_state *cs)
{
	cs->delta.gen = 0;
	cs->delta.n_gone = cs->delta.n_added = 0;
}

void
compile_state_free(struct compile_state *cs)
{
	if (cs == NULL)
		return;
	world_free(cs, cs->w);
	cs->n_live = 0; /* every snapshot must be freed by now */
	for (unsigned t = 0; t < TAB_N; t++)
		snapshot_mfree(cs->spare[t].p);
	retire_reap(cs);
	free(cs->retired);
	free(cs->live);
	hmap_free(&cs->touched);
	free(cs->delta.gone);
	free(cs->delta.added);
	free(cs->cand);
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

int
compile_touch(struct compile_state *cs, const char *ns, const char *name)
{
	char k[UNIT_KEY_MAX];

	return hmap_put(&cs->touched, k, unit_key(k, ns, name), NULL) != NULL ? 0 : -ENOMEM;
}

/* ---- compile_snapshot: a whole new world ---- */

/* The IP families of every programmed service resolve (model.h). */
static int
check_families(const struct el_config *cfg, const struct el_model *m, char *err, size_t errlen)
{
	unsigned avail = compile_families_available(cfg);
	char msg[400];

	for (unsigned i = 0; i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		if (!model_service_programmable(s))
			continue;
		if (model_service_families(s, avail, NULL, NULL, NULL, msg, sizeof(msg)) < 0)
			return fail(err, errlen, -EINVAL, "%s/%s: %s", s->ns, s->name, msg);
	}
	return 0;
}

int
compile_snapshot(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
		 char *err, size_t errlen)
{
	struct world *ow = cs->w, *nw = world_new(cs->cfg);
	uint32_t next_svc_id = cs->next_svc_id, next_be_id = cs->next_be_id;
	struct el_snapshot *snap = NULL;
	int rc = 0;

	*out = NULL;
	if (nw == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	rc = check_families(cs->cfg, m, err, errlen);
	if (rc == 0)
		rc = allocate_all(cs->cfg, nw, ow, m, err, errlen);
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++) {
		const struct el_service *s = m->svcs[i];
		struct ubuild b;
		struct unit *u;
		if (!model_service_programmable(s))
			continue;
		u = unit_get(nw, s->ns, s->name);
		if (u == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = ubuild_make(cs, m, s, u, ow ? unit_find(ow, s->ns, s->name) : NULL, &b);
		if (rc == 0)
			rc = unit_install(nw, u, &b);
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			fail(err, errlen, rc, "out of memory");
		world_free(cs, nw);
		cs->next_svc_id = next_svc_id;
		cs->next_be_id = next_be_id;
		return rc;
	}
	cs->w = nw;
	rc = snapshot_make(cs, &snap);
	if (rc < 0) {
		cs->w = ow;
		world_free(cs, nw);
		cs->next_svc_id = next_svc_id;
		cs->next_be_id = next_be_id;
		return fail(err, errlen, rc, "out of memory");
	}
	world_free(cs, ow);
	hmap_free(&cs->touched);
	delta_reset(cs);
	warnings_clear(cs);
	for (uint32_t i = 0; i < cs->w->units.mask + 1 && cs->w->units.slots; i++)
		if (cs->w->units.slots[i].key != NULL) {
			const struct unit *u = cs->w->units.slots[i].v.ptr;
			for (unsigned k = 0; k < u->n_warns; k++)
				warn_add(cs, u->warns[k]);
		}
	for (uint32_t i = 0; cs->w->fes.slots != NULL && i <= cs->w->fes.mask; i++) {
		const struct hent *e = &cs->w->fes.slots[i];
		if (e->key != NULL && ((const struct fe_claims *)e->v.ptr)->n > 1)
			warn_contested(cs, e->key, e->v.ptr);
	}
	*out = snap;
	return 0;
}

/* ---- compile_update: only what was touched ---- */

static int
delta_push(struct svc_obj ***arr, unsigned *n, unsigned *cap, struct svc_obj *o)
{
	if (grow(arr, cap, *n + 1, sizeof(**arr)) < 0)
		return -ENOMEM;
	(*arr)[(*n)++] = o;
	return 0;
}

/* Record the objects unit build @p nb drops from and adds to the world. */
static int
delta_note(struct compile_state *cs, const struct unit *u, const struct ubuild *nb)
{
	int rc = 0;

	for (unsigned i = 0; rc == 0 && u != NULL && i < u->n_bp; i++) {
		bool kept = false;
		for (unsigned j = 0; j < nb->n_bp; j++)
			kept |= nb->bp[j].obj == u->bp[i].obj;
		if (!kept && u->bp[i].obj != NULL)
			rc = delta_push(&cs->delta.gone, &cs->delta.n_gone, &cs->delta.cap_gone,
					u->bp[i].obj);
	}
	for (unsigned j = 0; rc == 0 && j < nb->n_bp; j++) {
		bool old = false;
		for (unsigned i = 0; u != NULL && i < u->n_bp; i++)
			old |= nb->bp[j].obj == u->bp[i].obj;
		if (!old)
			rc = delta_push(&cs->delta.added, &cs->delta.n_added, &cs->delta.cap_added,
					nb->bp[j].obj);
	}
	return rc;
}

static void
unit_drop(struct compile_state *cs, struct world *w, struct unit *u)
{
	struct hent *e = hmap_get(&w->units, u->key, (uint32_t)strlen(u->key));

	if (e != NULL)
		hmap_del(&w->units, e);
	unit_free(cs, u);
}

int
compile_update(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
	       char *err, size_t errlen)
{
	struct world *w = cs->w;
	bool track = true;
	int rc = 0;

	*out = NULL;
	if (w == NULL)
		return compile_snapshot(cs, m, out, err, errlen);
	warnings_clear(cs);
	cs->delta.n_gone = cs->delta.n_added = 0;
	for (uint32_t t = 0; rc == 0 && cs->touched.slots != NULL && t <= cs->touched.mask; t++) {
		const struct hent *te = &cs->touched.slots[t];
		char ns[EL_LABEL_MAX], name[EL_LABEL_MAX];
		const char *slash;
		struct unit *u;
		struct ubuild b;
		size_t nl;

		if (te->key == NULL)
			continue;
		slash = memchr(te->key, '/', te->klen);
		nl = slash ? (size_t)(slash - (const char *)te->key) : 0;
		if (slash == NULL || nl >= sizeof(ns) || te->klen - nl - 1 >= sizeof(name))
			continue;
		memcpy(ns, te->key, nl);
		ns[nl] = '\0';
		memcpy(name, slash + 1, te->klen - nl - 1);
		name[te->klen - nl - 1] = '\0';

		const struct el_service *s = model_find_service(m, ns, name);
		u = unit_find(w, ns, name);
		if (s != NULL && model_service_programmable(s) && u == NULL) {
			u = unit_get(w, ns, name);
			if (u == NULL) {
				rc = -ENOMEM;
				break;
			}
		}
		if (u == NULL)
			continue;
		/* the new build first: a failure here changes nothing */
		rc = ubuild_make(cs, m, s, u, u, &b);
		if (rc == 0 && track && delta_note(cs, u, &b) < 0)
			track = false;
		if (rc < 0)
			break;
		unit_withdraw(w, u);
		for (unsigned i = 0; i < u->n_bp; i++)
			svc_obj_unref(cs, u->bp[i].obj);
		free(u->bp);
		u->bp = NULL;
		u->n_bp = 0;
		rc = unit_install(w, u, &b);
		if (rc < 0) {
			/* half installed: the world no longer matches anything */
			ubuild_free(cs, &b);
			world_free(cs, cs->w);
			cs->w = NULL;
			break;
		}
		warn_unit(cs, u);
		/* a unit that serves nothing and holds nothing is forgotten */
		if (u->n_bp == 0 && u->n_cl == 0 && u->n_vips == 0 && u->n_np == 0 &&
		    !unit_has_lb(u))
			unit_drop(cs, w, u);
	}
	if (rc < 0) {
		if (cs->w == NULL) {
			/* the next compile starts a new world from the model */
			hmap_free(&cs->touched);
		}
		delta_reset(cs);
		return fail(err, errlen, rc, "out of memory");
	}
	hmap_free(&cs->touched);
	rc = snapshot_make(cs, out);
	if (rc < 0) {
		delta_reset(cs);
		return fail(err, errlen, rc, "out of memory");
	}
	cs->delta.base = (*out)->generation - 1;
	cs->delta.gen = track ? (*out)->generation : 0;
	return 0;
}

void
compile_snapshot_free(struct compile_state *cs, struct el_snapshot *s)
{
	struct live_snap ls = {0};
	bool found = false;

	if (s == NULL)
		return;
	for (unsigned i = 0; i < cs->n_live; i++)
		if (cs->live[i].gen == s->generation) {
			ls = cs->live[i];
			cs->live[i] = cs->live[--cs->n_live];
			found = true;
			break;
		}
	if (found && ls.tab[TAB_FE].p == s->fe && ls.tab[TAB_OWN].p == s->own &&
	    ls.tab[TAB_SVCV].p == s->svcs) {
		for (unsigned t = 0; t < TAB_N; t++) {
			const void *src;
			uint32_t mask = 0;
			size_t size;
			const struct tab_log *l =
			    cs->w ? tab_of(cs->w, t, &src, &mask, &size) : NULL;

			tab_keep(&cs->spare[t], &ls.tab[t], l, mask);
		}
	} else {
		snapshot_mfree((void *)(uintptr_t)s->fe);
		snapshot_mfree((void *)(uintptr_t)s->own);
		snapshot_mfree((void *)(uintptr_t)s->svcs);
	}
	snapshot_release(s);
	retire_reap(cs);
}

/* ---- writeback ---- */

int
compile_writeback(const struct compile_state *cs, struct el_model *m)
{
	unsigned avail = compile_families_available(cs->cfg);

	for (unsigned i = 0; i < m->n_svcs; i++) {
		struct el_service *s = m->svcs[i];
		const struct unit *u = cs->w != NULL ? unit_find(cs->w, s->ns, s->name) : NULL;
		char pk[PORT_KEY_MAX];

		for (unsigned j = 0; j < s->n_ports; j++) {
			struct el_svc_port *p = &s->ports[j];
			const struct np_rec *r;
			port_key(pk, p);
			r = unit_np(u, pk);
			if (r != NULL) {
				p->node_port = r->port;
				p->node_port_auto = r->is_auto;
			} else if (p->node_port_auto) {
				/* what edgelb gave is gone with the allocation */
				p->node_port = 0;
				p->node_port_auto = false;
			}
		}
		/* spec.ipFamilyPolicy and spec.ipFamilies as served (a Service
		 * that does not resolve any more keeps what it says) */
		if (s->type != EL_SVC_EXTERNAL_NAME)
			(void)model_service_default_families(s, avail, NULL, 0);
		if (svc_set_ingress(s, u) < 0)
			return -ENOMEM;
		if (u == NULL || !unit_has_lb(u))
			s->lb_ingress_auto = false;
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

/*
 * Backend ids of UDP service ports that take flows in one of @p old (n_old
 * objects) and in none of @p new: the shared work of both entry points.
 */
static int
removed_ids(const struct el_snap_svc *const *old, size_t n_old,
	    const struct el_snap_svc *const *new, size_t n_new, bool skip_shared, uint32_t **ids)
{
	const uint8_t live = EL_BE_READY | EL_BE_SERVING;
	uint32_t *have = NULL, *gone = NULL;
	const void **shared = NULL;
	size_t n_have = 0, n_gone = 0, cap_gone = 0, total = 0;
	int rc = 0;

	*ids = NULL;
	for (size_t i = 0; i < n_new; i++)
		total += new[i]->n_backends;
	have = malloc((total ? total : 1) * sizeof(*have));
	shared = malloc((n_new ? n_new : 1) * sizeof(*shared));
	if (have == NULL || shared == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_new; i++) {
		const struct el_snap_svc *s = new[i];
		shared[i] = s;
		for (uint32_t j = 0; j < s->n_backends; j++)
			if (s->backends[j].cond & live)
				have[n_have++] = s->backends[j].id;
	}
	qsort(have, n_have, sizeof(*have), u32_cmp);
	if (skip_shared)
		qsort(shared, n_new, sizeof(*shared), ptr_cmp);
	for (size_t i = 0; i < n_old; i++) {
		const struct el_snap_svc *s = old[i];
		/* TCP flows drain: only UDP service ports have flows to flush */
		if (s->proto != EL_PROTO_UDP)
			continue;
		/* an object both snapshots share did not change */
		if (skip_shared && n_new > 0 &&
		    bsearch(&s, shared, n_new, sizeof(*shared), ptr_cmp) != NULL)
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

int
compile_removed_backends(const struct el_snapshot *old, const struct el_snapshot *new,
			 uint32_t **ids)
{
	*ids = NULL;
	if (old == NULL)
		return 0;
	return removed_ids(old->svcs, old->n_svcs, new ? new->svcs : NULL, new ? new->n_svcs : 0,
			   true, ids);
}

int
compile_removed_since(const struct compile_state *cs, const struct el_snapshot *old,
		      const struct el_snapshot *new, uint32_t **ids)
{
	/* a backend id belongs to one service port, so only the objects the
	 * change dropped can hold removed backends, and only the objects it
	 * added can still serve them */
	if (old != NULL && new != NULL && cs->delta.gen != 0 && cs->delta.gen == new->generation &&
	    cs->delta.base == old->generation)
		return removed_ids((const struct el_snap_svc *const *)cs->delta.gone,
				   cs->delta.n_gone,
				   (const struct el_snap_svc *const *)cs->delta.added,
				   cs->delta.n_added, false, ids);
	return compile_removed_backends(old, new, ids);
}
