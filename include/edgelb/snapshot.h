/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The immutable snapshot: everything a worker reads to forward a packet,
 * compiled by control from the config and the service model, published with
 * a release store and freed after an rte_rcu_qsbr grace period.
 *
 * The snapshot is the whole contract between control and dataplane. Once
 * published, nothing in it is written again. Per-service objects
 * (struct el_snap_svc) are separate allocations so a later snapshot can share
 * unchanged services with an earlier one (control refcounts them; workers
 * never do).
 *
 * Connection entries never point into a snapshot: they keep the backend
 * address by value and the stable ids (el_snap_svc.id, el_snap_backend.id).
 *
 * Memory: control allocates through snapshot_alloc()/snapshot_free_mem()
 * (rte_malloc in the appliance, calloc in unit tests).
 *
 * All addresses and ports are in network byte order.
 */
#ifndef EDGELB_SNAPSHOT_H
#define EDGELB_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelb/config.h"
#include "edgelb/types.h"

#define EL_SNAP_MAX_IFACES EL_CFG_MAX_IFACES

/** Backend condition bits (EndpointSlice conditions). */
#define EL_BE_READY	  0x1
#define EL_BE_SERVING	  0x2
#define EL_BE_TERMINATING 0x4

struct el_snap_backend {
	struct el_ip ip;
	uint16_t port; /**< target port, network order */
	uint8_t cond;  /**< EL_BE_* bits */
	uint8_t pad;
	uint32_t id; /**< stable across snapshots for the same (service port, ip, port) */
};

/** Frontend kinds: which Service field made this frontend. */
enum el_fe_kind {
	EL_FE_CLUSTER_IP = 1,
	EL_FE_EXTERNAL_IP,
	EL_FE_LB_INGRESS,
	EL_FE_NODE_PORT,
};

/**
 * One Service port of one IP family (a Service with ports http and https is
 * two el_snap_svc; a dual-stack one is four: each port has an IPv4 and an
 * IPv6 "twin" with distinct ids and the same name). Its frontends are
 * addresses of its family, and only backends of its family are in
 * backends[]: those that may take new flows (ready ones; if none,
 * serving+terminating ones; see DESIGN.md section 5).
 */
struct el_snap_svc {
	uint32_t id;	  /**< stable id of this service port and family, never reused */
	uint8_t proto;	  /**< IPPROTO_TCP / IPPROTO_UDP */
	uint8_t affinity; /**< 1 = sessionAffinity ClientIP */
	uint8_t family;	  /**< EL_AF_INET / EL_AF_INET6: of frontends and backends */
	uint8_t pad;
	uint32_t affinity_timeout; /**< seconds, 1..86400 */
	char name[128];		   /**< "ns/name:portname" (":port" when unnamed); the
				    *   same for both families of a port */

	uint32_t n_backends;
	const struct el_snap_backend *backends;

	/** Maglev lookup table, maglev_size entries (a prime), each an index
	 *  into backends[]. maglev_size is 0 when n_backends is 0. */
	uint32_t maglev_size;
	const uint16_t *maglev;

	/** loadBalancerSourceRanges; checked only for EL_FE_LB_INGRESS
	 *  frontends; n_src_ranges 0 = everyone. */
	uint32_t n_src_ranges;
	const struct el_cidr *src_ranges;
};

/** A frontend: (address, port, protocol) -> service port. */
struct el_snap_fe {
	struct el_ip ip;
	uint16_t port; /**< network order */
	uint8_t proto; /**< 0 = empty slot */
	uint8_t kind;  /**< enum el_fe_kind */
	uint32_t svc;  /**< index into el_snapshot.svcs */
};

/** Kinds of owned addresses (answer ARP/ND and ICMP echo for them). */
enum el_owned_kind {
	EL_OWN_IFACE = 1, /**< interface address (NodePorts answer here) */
	EL_OWN_VIP,	  /**< LB ingress / externalIP / clusterIP served here */
	EL_OWN_SNAT,	  /**< SNAT address: replies from pods come here */
};

struct el_snap_owned {
	struct el_ip ip;
	uint8_t kind;  /**< enum el_owned_kind; 0 = empty slot */
	uint8_t iface; /**< interface index it is configured on (VIPs: 0) */
	uint16_t pad;
};

struct el_snap_iface {
	char name[EL_CFG_NAME_MAX];
	uint16_t port_id; /**< DPDK port id */
	uint8_t mac[6];	  /**< filled by the appliance from the port */
	struct el_cidr addrs[EL_CFG_MAX_ADDRS];
	unsigned n_addrs;
};

/** A route: connected prefixes of every interface plus configured routes,
 *  sorted longest prefix first. */
struct el_snap_route {
	struct el_cidr to;
	struct el_ip via; /**< family 0 = connected: next hop is the destination */
	uint8_t iface;
};

struct el_snap_neigh {
	struct el_ip ip;
	uint8_t mac[6];
	uint8_t iface;
};

struct el_snapshot {
	uint64_t generation;

	/* Service ports; pointers to objects that may be shared with other
	 * snapshots. */
	uint32_t n_svcs;
	const struct el_snap_svc *const *svcs;

	/* Frontend table: open addressing, linear probing, fe_mask + 1 slots
	 * (a power of two, at most half full). Use snapshot_fe_lookup(). */
	uint32_t fe_mask;
	const struct el_snap_fe *fe;

	/* Owned addresses: same layout; use snapshot_owned_lookup(). */
	uint32_t own_mask;
	const struct el_snap_owned *own;

	unsigned n_ifaces;
	struct el_snap_iface ifaces[EL_SNAP_MAX_IFACES];

	unsigned n_routes;
	const struct el_snap_route *routes;

	unsigned n_neighs;
	const struct el_snap_neigh *neighs; /**< static neighbors */

	unsigned n_snat;
	struct el_ip snat[EL_CFG_MAX_SNAT];

	uint32_t ct_timeouts[EL_CT_NSTATES]; /**< seconds per state */
};

/* ---- lookup helpers (any thread; snapshot must be held under RCU) ---- */

static inline uint32_t
snapshot_addr_hash(const struct el_ip *ip)
{
	uint32_t h;
	if (ip->family == EL_AF_INET) {
		h = ip->v4;
	} else {
		const uint32_t *w = (const uint32_t *)(const void *)ip->v6;
		h = w[0] ^ w[1] ^ w[2] ^ w[3];
	}
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

static inline uint32_t
snapshot_fe_hash(const struct el_ip *ip, uint16_t port, uint8_t proto)
{
	uint32_t h = snapshot_addr_hash(ip);
	h ^= ((uint32_t)port << 8) ^ proto;
	h *= 0x9e3779b1U;
	return h ^ (h >> 16);
}

static inline bool
snapshot_ip_eq(const struct el_ip *a, const struct el_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == EL_AF_INET)
		return a->v4 == b->v4;
	/* v6 is only 4-byte aligned inside struct el_ip: no wide loads. */
	return __builtin_memcmp(a->v6, b->v6, 16) == 0;
}

/** Find the frontend for (ip, port, proto); NULL when none. */
static inline const struct el_snap_fe *
snapshot_fe_lookup(const struct el_snapshot *s, const struct el_ip *ip, uint16_t port,
		   uint8_t proto)
{
	if (s->fe == NULL)
		return NULL;
	uint32_t i = snapshot_fe_hash(ip, port, proto) & s->fe_mask;
	for (;;) {
		const struct el_snap_fe *f = &s->fe[i];
		if (f->proto == 0)
			return NULL;
		if (f->port == port && f->proto == proto && snapshot_ip_eq(&f->ip, ip))
			return f;
		i = (i + 1) & s->fe_mask;
	}
}

/** Find an owned address; NULL when @p ip is not ours. */
static inline const struct el_snap_owned *
snapshot_owned_lookup(const struct el_snapshot *s, const struct el_ip *ip)
{
	if (s->own == NULL)
		return NULL;
	uint32_t i = snapshot_addr_hash(ip) & s->own_mask;
	for (;;) {
		const struct el_snap_owned *o = &s->own[i];
		if (o->kind == 0)
			return NULL;
		if (snapshot_ip_eq(&o->ip, ip))
			return o;
		i = (i + 1) & s->own_mask;
	}
}

/** Longest-prefix route for @p dst; NULL when none. */
static inline const struct el_snap_route *
snapshot_route_lookup(const struct el_snapshot *s, const struct el_ip *dst)
{
	for (unsigned i = 0; i < s->n_routes; i++) {
		const struct el_snap_route *r = &s->routes[i];
		const struct el_cidr *c = &r->to;
		if (c->addr.family != dst->family)
			continue;
		if (dst->family == EL_AF_INET) {
			uint32_t mask = c->len == 0 ? 0 : ~0U << (32 - c->len);
			/* compare in host order */
			uint32_t a = __builtin_bswap32(c->addr.v4), b = __builtin_bswap32(dst->v4);
			if ((a & mask) == (b & mask))
				return r;
		} else {
			unsigned bits = c->len, k;
			bool ok = true;
			for (k = 0; bits >= 8; k++, bits -= 8)
				if (c->addr.v6[k] != dst->v6[k]) {
					ok = false;
					break;
				}
			if (ok && bits) {
				uint8_t m = (uint8_t)(0xff << (8 - bits));
				ok = (c->addr.v6[k] & m) == (dst->v6[k] & m);
			}
			if (ok)
				return r;
		}
	}
	return NULL;
}

/* ---- memory (control thread only) ---- */

/** Allocator hooks; default calloc/free. The appliance installs rte_zmalloc. */
struct snapshot_mem_ops {
	void *(*zalloc)(size_t size);
	void (*free)(void *p);
};
void snapshot_set_mem_ops(const struct snapshot_mem_ops *ops);
void *snapshot_zalloc(size_t size);
void snapshot_mfree(void *p);

#endif
