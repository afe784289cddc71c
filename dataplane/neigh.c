/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker neighbour cache, ARP (RFC 826) and IPv6 Neighbor Discovery
 * (RFC 4861: Neighbor Solicitation and Advertisement only; no router
 * discovery, redirects or address autoconfiguration).
 *
 * The table is open addressing with linear probing keyed by (next hop,
 * interface), deleted with backward shifting so no tombstones build up. An
 * entry is INCOMPLETE while a request is outstanding (packets wait in its
 * small queue) or REACHABLE once a MAC is known. A reachable entry that has
 * not been confirmed by ARP for NEIGH_STALE_MS keeps being used while it is
 * probed again, like the STALE/PROBE states of RFC 4861 section 7.3.2; when
 * the probes go unanswered it falls back to INCOMPLETE.
 *
 * Static neighbours live in the snapshot, win over learned ones and never
 * get an entry; the table keeps a small hash index of them, rebuilt when the
 * snapshot (pointer or generation) changes, so a lookup costs one probe.
 *
 * Both families share the table, the per-entry and per-table queue bounds
 * and the retry timers; only the request differs (an ARP broadcast, or a
 * Neighbor Solicitation to the target's solicited-node multicast group,
 * RFC 4861 section 7.2.2 / RFC 4291 section 2.7.1).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "edgelb/csum.h"
#include "neigh.h"

#define NEIGH_PENDING_PER_ENTRY 8
#define NEIGH_PENDING_PER_TABLE 1024
#define NEIGH_RETRY_MS		1000
#define NEIGH_MAX_TRIES		3
#define NEIGH_STALE_MS		(5 * 60 * 1000)
/* Index of the snapshot's static neighbours: slots hold index + 1 into
 * snap->neighs (0 = empty), at most half full. Larger sets are scanned. */
#define NEIGH_STATIC_SLOTS 4096
#define NEIGH_STATIC_MAX   (NEIGH_STATIC_SLOTS / 2)

enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,
	NEIGH_REACHABLE,
};

struct neigh_entry {
	struct el_ip ip;
	uint8_t iface;
	uint8_t state; /* enum neigh_state */
	uint8_t tries; /* requests sent since the last confirmation */
	uint8_t n_pending;
	uint8_t mac[6];
	uint64_t confirmed_ms;				   /* last ARP from this neighbour */
	uint64_t last_request_ms;			   /* last request we sent for it */
	struct rte_mbuf *pending[NEIGH_PENDING_PER_ENTRY]; /* FIFO, oldest first */
};

struct neigh_table {
	uint32_t mask; /* slots - 1 */
	unsigned capacity;
	unsigned n_entries;
	unsigned n_incomplete;
	unsigned n_pending;
	uint64_t last_hk_ms;
	/* what the static index was built from; rebuilt when any differs */
	const struct el_snapshot *st_snap;
	const struct el_snap_neigh *st_neighs;
	uint64_t st_gen;
	unsigned st_n;
	bool st_indexed; /* false: too many statics, scan the array */
	uint16_t st_slots[NEIGH_STATIC_SLOTS];
	struct neigh_entry slots[];
};

static uint32_t
neigh_hash(const struct el_ip *ip, uint8_t iface)
{
	uint32_t h = snapshot_addr_hash(ip) ^ ((uint32_t)iface << 24);
	h ^= h >> 16;
	h *= 0x45d9f3bU;
	h ^= h >> 16;
	return h;
}

struct neigh_table *
neigh_create(unsigned capacity, int socket_id)
{
	uint32_t slots = 8;
	struct neigh_table *t;

	if (capacity == 0 || capacity > (1u << 24)) {
		rte_errno = EINVAL;
		return NULL;
	}
	while (slots < 2 * capacity)
		slots <<= 1;
	t = rte_zmalloc_socket("neigh", sizeof(*t) + slots * sizeof(struct neigh_entry),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->mask = slots - 1;
	t->capacity = capacity;
	t->last_hk_ms = UINT64_MAX;
	return t;
}

void
neigh_destroy(struct neigh_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct neigh_entry *e = &t->slots[i];
		for (unsigned k = 0; k < e->n_pending; k++)
			rte_pktmbuf_free(e->pending[k]);
	}
	rte_free(t);
}

unsigned
neigh_pending(const struct neigh_table *t)
{
	return t->n_pending;
}

static struct neigh_entry *
neigh_find(struct neigh_table *t, const struct el_ip *ip, uint8_t iface)
{
	uint32_t i = neigh_hash(ip, iface) & t->mask;

	for (;;) {
		struct neigh_entry *e = &t->slots[i];
		if (e->state == NEIGH_FREE)
			return NULL;
		if (e->iface == iface && snapshot_ip_eq(&e->ip, ip))
			return e;
		i = (i + 1) & t->mask;
	}
}

/* A new empty entry, or NULL when the table holds capacity entries. */
static struct neigh_entry *
neigh_insert(struct neigh_table *t, const struct el_ip *ip, uint8_t iface)
{
	uint32_t i;

	if (t->n_entries >= t->capacity)
		return NULL;
	i = neigh_hash(ip, iface) & t->mask;
	while (t->slots[i].state != NEIGH_FREE)
		i = (i + 1) & t->mask;
	struct neigh_entry *e = &t->slots[i];
	memset(e, 0, sizeof(*e));
	e->ip = *ip;
	e->iface = iface;
	t->n_entries++;
	return e;
}

static void
neigh_set_state(struct neigh_table *t, struct neigh_entry *e, enum neigh_state s)
{
	if (e->state == NEIGH_INCOMPLETE)
		t->n_incomplete--;
	if (s == NEIGH_INCOMPLETE)
		t->n_incomplete++;
	e->state = s;
}

/* Remove an entry whose queue is empty. Later members of its probe run move
 * back into the hole (backward shift deletion), so every slot they move to is
 * at or after @p e in a scan that started before it. */
static void
neigh_remove(struct neigh_table *t, struct neigh_entry *e)
{
	uint32_t hole = (uint32_t)(e - t->slots), j = hole;

	neigh_set_state(t, e, NEIGH_FREE);
	t->n_entries--;
	for (;;) {
		j = (j + 1) & t->mask;
		struct neigh_entry *n = &t->slots[j];
		if (n->state == NEIGH_FREE)
			break;
		uint32_t home = neigh_hash(&n->ip, n->iface) & t->mask;
		/* n may fill the hole when its home is not in (hole, j] */
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (stays)
			continue;
		t->slots[hole] = *n;
		n->state = NEIGH_FREE;
		hole = j;
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
}

/* Build the static neighbour index for @p snap. Runs once per snapshot
 * generation (a published snapshot never changes in place). */
static void
neigh_static_index(struct neigh_table *t, const struct el_snapshot *snap)
{
	t->st_snap = snap;
	t->st_neighs = snap->neighs;
	t->st_gen = snap->generation;
	t->st_n = snap->n_neighs;
	t->st_indexed = snap->n_neighs <= NEIGH_STATIC_MAX;
	if (!t->st_indexed)
		return;
	memset(t->st_slots, 0, sizeof(t->st_slots));
	for (unsigned k = 0; k < snap->n_neighs; k++) {
		const struct el_snap_neigh *n = &snap->neighs[k];
		uint32_t i = neigh_hash(&n->ip, n->iface) & (NEIGH_STATIC_SLOTS - 1);
		bool dup = false;
		while (t->st_slots[i] != 0) {
			const struct el_snap_neigh *o = &snap->neighs[t->st_slots[i] - 1];
			if (o->iface == n->iface && snapshot_ip_eq(&o->ip, &n->ip)) {
				dup = true; /* the first listed wins, as in a scan */
				break;
			}
			i = (i + 1) & (NEIGH_STATIC_SLOTS - 1);
		}
		if (!dup)
			t->st_slots[i] = (uint16_t)(k + 1);
	}
}

/* The static neighbour (@p ip, @p iface) of @p snap, or NULL: one hash probe
 * in the common case. */
static const struct el_snap_neigh *
neigh_static(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
	     const struct el_ip *ip)
{
	if (snap->n_neighs == 0)
		return NULL;
	if (unlikely(t->st_snap != snap || t->st_gen != snap->generation ||
		     t->st_neighs != snap->neighs || t->st_n != snap->n_neighs))
		neigh_static_index(t, snap);
	if (unlikely(!t->st_indexed)) {
		for (unsigned k = 0; k < snap->n_neighs; k++) {
			const struct el_snap_neigh *n = &snap->neighs[k];
			if (n->iface == iface && snapshot_ip_eq(&n->ip, ip))
				return n;
		}
		return NULL;
	}
	for (uint32_t i = neigh_hash(ip, iface) & (NEIGH_STATIC_SLOTS - 1);;
	     i = (i + 1) & (NEIGH_STATIC_SLOTS - 1)) {
		uint16_t v = t->st_slots[i];
		if (v == 0)
			return NULL;
		const struct el_snap_neigh *n = &snap->neighs[v - 1];
		if (n->iface == iface && snapshot_ip_eq(&n->ip, ip))
			return n;
	}
}

static void
neigh_fill_eth(struct rte_mbuf *m, const struct el_snapshot *snap, uint8_t iface,
	       const struct el_ip *nh, const uint8_t mac[6])
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eth->dst_addr.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	memcpy(eth->src_addr.addr_bytes, snap->ifaces[iface].mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type =
	    rte_cpu_to_be_16(nh->family == EL_AF_INET6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
}

/* The interface address used as the ARP sender for @p target: one of the same
 * subnet, else the first IPv4 address, else 0.0.0.0 (an ARP probe). */
static uint32_t
neigh_source_v4(const struct el_snap_iface *ifp, const struct el_ip *target)
{
	uint32_t first = 0;

	for (unsigned i = 0; i < ifp->n_addrs; i++) {
		const struct el_cidr *c = &ifp->addrs[i];
		if (c->addr.family != EL_AF_INET)
			continue;
		if (el_cidr_contains(c, target))
			return c->addr.v4;
		if (first == 0)
			first = c->addr.v4;
	}
	return first;
}

/* ---- IPv6 Neighbor Discovery (RFC 4861) ---- */

#define ND_NS		  135
#define ND_NA		  136
#define ND_OPT_SLLA	  1
#define ND_OPT_TLLA	  2
#define ND_HOP_LIMIT	  255
#define ND_MSG_LEN	  24 /* type, code, checksum, 4 bytes, target */
#define ND_LLA_OPT_LEN	  8  /* type, length 1 (x 8 bytes), Ethernet address */
#define ND_NA_F_ROUTER	  0x80
#define ND_NA_F_SOLICITED 0x40
#define ND_NA_F_OVERRIDE  0x20
#define IP6_HDR_LEN	  40
#define IP6_NEXT_ICMP6	  58

/* ff02::1, all-nodes (RFC 4291 section 2.7.1) */
static const uint8_t nd_all_nodes[16] = {0xff, 0x02, [15] = 0x01};

static inline bool
nd_is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

static inline bool
nd_is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

/* ff02::1:ffXX:XXXX for @p target (RFC 4291 section 2.7.1). */
static void
nd_solicited_node(const uint8_t target[16], uint8_t group[16])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	memcpy(group, prefix, 13);
	memcpy(group + 13, target + 13, 3);
}

/* Multicast MAC of an IPv6 group: 33:33 and its last four bytes (RFC 2464
 * section 7). */
static void
nd_group_mac(const uint8_t group[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

static struct el_ip
nd_ip6(const uint8_t a[16])
{
	struct el_ip ip;
	memset(&ip, 0, sizeof(ip));
	ip.family = EL_AF_INET6;
	memcpy(ip.v6, a, 16);
	return ip;
}

/* Write an IPv6 header carrying @p icmp_len bytes of ICMPv6 at @p ip6. */
static void
nd_ip6_hdr(uint8_t *ip6, const uint8_t src[16], const uint8_t dst[16], uint16_t icmp_len)
{
	ip6[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
	ip6[1] = ip6[2] = ip6[3] = 0;
	ip6[4] = (uint8_t)(icmp_len >> 8);
	ip6[5] = (uint8_t)icmp_len;
	ip6[6] = IP6_NEXT_ICMP6;
	ip6[7] = ND_HOP_LIMIT;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
}

/* The interface address used as the source of a solicitation for @p target:
 * one whose prefix holds the target, else the first IPv6 address. NULL when
 * the interface has none (nothing can be asked: RFC 4861 section 7.2.2 wants
 * a source address of the interface). */
static const uint8_t *
neigh_source_v6(const struct el_snap_iface *ifp, const struct el_ip *target)
{
	const uint8_t *first = NULL;

	for (unsigned i = 0; i < ifp->n_addrs; i++) {
		const struct el_cidr *c = &ifp->addrs[i];
		if (c->addr.family != EL_AF_INET6)
			continue;
		if (el_cidr_contains(c, target))
			return c->addr.v6;
		if (first == NULL)
			first = c->addr.v6;
	}
	return first;
}

static struct rte_mbuf *
neigh_alloc(const struct neigh_tx *tx, uint16_t len)
{
	struct rte_mbuf *m = tx->pool != NULL ? rte_pktmbuf_alloc(tx->pool) : NULL;

	if (m != NULL && rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	if (m == NULL && tx->stats != NULL)
		tx->stats->drops[EL_DROP_NO_MBUF]++;
	return m;
}

/* Multicast a Neighbor Solicitation for @p e to its solicited-node group,
 * from an address of the interface, with our link-layer address (RFC 4861
 * section 4.3). Counted in arp_requests. */
static void
neigh_solicit6(const struct el_snapshot *snap, struct neigh_entry *e, const struct neigh_tx *tx)
{
	const struct el_snap_iface *ifp = &snap->ifaces[e->iface];
	const uint16_t icmp_len = ND_MSG_LEN + ND_LLA_OPT_LEN;
	const uint8_t *src = neigh_source_v6(ifp, &e->ip);
	uint8_t group[16];
	struct rte_mbuf *m;

	if (src == NULL)
		return;
	m = neigh_alloc(tx, sizeof(struct rte_ether_hdr) + IP6_HDR_LEN + icmp_len);
	if (m == NULL)
		return;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint8_t *ip6 = (uint8_t *)(eth + 1);
	uint8_t *icmp = ip6 + IP6_HDR_LEN;

	nd_solicited_node(e->ip.v6, group);
	nd_group_mac(group, eth->dst_addr.addr_bytes);
	memcpy(eth->src_addr.addr_bytes, ifp->mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	nd_ip6_hdr(ip6, src, group, icmp_len);
	memset(icmp, 0, icmp_len);
	icmp[0] = ND_NS;
	memcpy(icmp + 8, e->ip.v6, 16);
	icmp[24] = ND_OPT_SLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, ifp->mac, 6);
	uint16_t c = csum_ip6_l4(src, group, IP6_NEXT_ICMP6, icmp, icmp_len);
	memcpy(icmp + 2, &c, 2);
	if (tx->stats != NULL)
		tx->stats->arp_requests++;
	tx->send(tx->ctx, e->iface, m);
}

/* Ask for @p e: an ARP broadcast or a Neighbor Solicitation. Counts
 * arp_requests; a failed allocation counts EL_DROP_NO_MBUF and is retried
 * on the next interval. */
static void
neigh_solicit(const struct el_snapshot *snap, struct neigh_entry *e, uint64_t now_ms,
	      const struct neigh_tx *tx)
{
	const struct el_snap_iface *ifp = &snap->ifaces[e->iface];
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;

	e->last_request_ms = now_ms;
	if (e->tries < UINT8_MAX)
		e->tries++;
	if (e->ip.family == EL_AF_INET6) {
		neigh_solicit6(snap, e, tx);
		return;
	}
	if (e->ip.family != EL_AF_INET)
		return;
	m = neigh_alloc(tx, sizeof(*eth) + sizeof(*arp));
	if (m == NULL)
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	memcpy(eth->src_addr.addr_bytes, ifp->mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(arp->arp_data.arp_sha.addr_bytes, ifp->mac, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_sip = neigh_source_v4(ifp, &e->ip);
	memset(arp->arp_data.arp_tha.addr_bytes, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = e->ip.v4;
	if (tx->stats != NULL)
		tx->stats->arp_requests++;
	tx->send(tx->ctx, e->iface, m);
}

/* Send every packet waiting on @p e to @p mac, oldest first. */
static void
neigh_release(struct neigh_table *t, const struct el_snapshot *snap, struct neigh_entry *e,
	      const uint8_t mac[6], const struct neigh_tx *tx)
{
	unsigned n = e->n_pending;

	e->n_pending = 0;
	t->n_pending -= n;
	for (unsigned k = 0; k < n; k++) {
		neigh_fill_eth(e->pending[k], snap, e->iface, &e->ip, mac);
		tx->send(tx->ctx, e->iface, e->pending[k]);
	}
}

static void
neigh_drop_pending(struct neigh_table *t, struct neigh_entry *e, enum el_drop reason,
		   const struct neigh_tx *tx)
{
	unsigned n = e->n_pending;

	e->n_pending = 0;
	t->n_pending -= n;
	for (unsigned k = 0; k < n; k++)
		tx->drop(tx->ctx, e->pending[k], reason);
}

static void
neigh_enqueue(struct neigh_table *t, struct neigh_entry *e, struct rte_mbuf *m,
	      const struct neigh_tx *tx)
{
	if (e->n_pending >= NEIGH_PENDING_PER_ENTRY || t->n_pending >= NEIGH_PENDING_PER_TABLE) {
		tx->drop(tx->ctx, m, EL_DROP_NEIGH_PENDING_FULL);
		return;
	}
	e->pending[e->n_pending++] = m;
	t->n_pending++;
}

void
neigh_output(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
	     const struct el_ip *nh, struct rte_mbuf *m, uint64_t now_ms, const struct neigh_tx *tx)
{
	const struct el_snap_neigh *sn;
	struct neigh_entry *e;

	if (iface >= snap->n_ifaces || rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)) {
		tx->drop(tx->ctx, m, EL_DROP_NO_ROUTE);
		return;
	}
	sn = neigh_static(t, snap, iface, nh);
	if (sn != NULL) {
		neigh_fill_eth(m, snap, iface, nh, sn->mac);
		tx->send(tx->ctx, iface, m);
		return;
	}
	e = neigh_find(t, nh, iface);
	if (e != NULL && e->state == NEIGH_REACHABLE) {
		if (now_ms - e->confirmed_ms >= NEIGH_STALE_MS) {
			if (e->tries >= NEIGH_MAX_TRIES &&
			    now_ms - e->last_request_ms >= NEIGH_RETRY_MS) {
				/* probes went unanswered: resolve from scratch */
				neigh_set_state(t, e, NEIGH_INCOMPLETE);
				e->tries = 0;
				neigh_enqueue(t, e, m, tx);
				neigh_solicit(snap, e, now_ms, tx);
				return;
			}
			if (e->tries < NEIGH_MAX_TRIES &&
			    (e->tries == 0 || now_ms - e->last_request_ms >= NEIGH_RETRY_MS))
				neigh_solicit(snap, e, now_ms, tx);
		}
		neigh_fill_eth(m, snap, iface, nh, e->mac);
		tx->send(tx->ctx, iface, m);
		return;
	}
	if (e == NULL) {
		if (nh->family != EL_AF_INET && nh->family != EL_AF_INET6) {
			tx->drop(tx->ctx, m, EL_DROP_NEIGH_UNRESOLVED);
			return;
		}
		e = neigh_insert(t, nh, iface);
		if (e == NULL) {
			tx->drop(tx->ctx, m, EL_DROP_NEIGH_PENDING_FULL);
			return;
		}
		neigh_set_state(t, e, NEIGH_INCOMPLETE);
		neigh_enqueue(t, e, m, tx);
		neigh_solicit(snap, e, now_ms, tx);
		return;
	}
	neigh_enqueue(t, e, m, tx);
}

/* Update @p e (or create it when @p create) from an ARP seen from @p ip. */
static bool
neigh_update(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
	     const struct el_ip *ip, const uint8_t mac[6], uint64_t now_ms,
	     const struct neigh_tx *tx, bool create)
{
	const struct el_snap_neigh *sn = neigh_static(t, snap, iface, ip);
	struct neigh_entry *e = neigh_find(t, ip, iface);

	if (sn != NULL) {
		/* static wins: hand over whatever waited and forget the entry */
		if (e != NULL) {
			neigh_release(t, snap, e, sn->mac, tx);
			neigh_remove(t, e);
		}
		return false;
	}
	if (e == NULL) {
		if (!create)
			return false;
		e = neigh_insert(t, ip, iface);
		if (e == NULL)
			return false;
	}
	memcpy(e->mac, mac, 6);
	e->confirmed_ms = now_ms;
	e->tries = 0;
	neigh_set_state(t, e, NEIGH_REACHABLE);
	neigh_release(t, snap, e, mac, tx);
	return true;
}

void
neigh_learn(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
	    const struct el_ip *ip, const uint8_t mac[6], uint64_t now_ms,
	    const struct neigh_tx *tx)
{
	if (iface >= snap->n_ifaces)
		return;
	neigh_update(t, snap, iface, ip, mac, now_ms, tx, true);
}

/* Addresses a neighbour may not claim: 0.0.0.0 (probes), limited broadcast,
 * multicast, loopback. */
static bool
neigh_v4_unicast(uint32_t be)
{
	uint32_t a = rte_be_to_cpu_32(be);

	return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe && (a >> 24) != 127;
}

void
neigh_arp_input(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
		struct rte_mbuf *m, uint64_t now_ms, const struct neigh_tx *tx,
		struct el_ip *learned_ip, uint8_t learned_mac[6], int *learned)
{
	const uint32_t need = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct el_ip sip, tip;
	uint8_t sha[6];
	uint16_t op;
	bool owned, to_us, updated = false;

	if (learned != NULL)
		*learned = 0;
	if (rte_pktmbuf_data_len(m) < need || iface >= snap->n_ifaces) {
		tx->drop(tx->ctx, m, EL_DROP_ARP_INVALID);
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		tx->drop(tx->ctx, m, EL_DROP_ARP_INVALID);
		return;
	}
	sip = el_ip4(arp->arp_data.arp_sip);
	tip = el_ip4(arp->arp_data.arp_tip);
	memcpy(sha, arp->arp_data.arp_sha.addr_bytes, 6);
	owned = snapshot_owned_lookup(snap, &tip) != NULL;
	to_us = owned || (op == RTE_ARP_OP_REPLY && memcmp(arp->arp_data.arp_tha.addr_bytes,
							   snap->ifaces[iface].mac, 6) == 0);

	/* Learn only real unicast senders; a known entry is refreshed by any
	 * ARP it sends (a gratuitous one included). */
	if (neigh_v4_unicast(sip.v4) && !(sha[0] & 1) && snapshot_owned_lookup(snap, &sip) == NULL)
		updated = neigh_update(t, snap, iface, &sip, sha, now_ms, tx, to_us);
	if (updated && learned != NULL) {
		*learned = 1;
		if (learned_ip != NULL)
			*learned_ip = sip;
		if (learned_mac != NULL)
			memcpy(learned_mac, sha, 6);
	}

	if (op == RTE_ARP_OP_REQUEST && owned) {
		/* answer in place: swap the roles, keep only the ARP payload */
		memcpy(eth->dst_addr.addr_bytes, sha, 6);
		memcpy(eth->src_addr.addr_bytes, snap->ifaces[iface].mac, 6);
		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		memcpy(arp->arp_data.arp_tha.addr_bytes, sha, 6);
		arp->arp_data.arp_tip = sip.v4;
		memcpy(arp->arp_data.arp_sha.addr_bytes, snap->ifaces[iface].mac, 6);
		arp->arp_data.arp_sip = tip.v4;
		if (rte_pktmbuf_pkt_len(m) > need)
			rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - need);
		if (tx->stats != NULL)
			tx->stats->arp_replies++;
		tx->send(tx->ctx, iface, m);
		return;
	}
	if (to_us || (updated && sip.v4 == tip.v4)) {
		rte_pktmbuf_free(m); /* consumed: it taught us a neighbour */
		return;
	}
	tx->drop(tx->ctx, m, EL_DROP_NOT_OURS);
}

void
neigh_housekeeping(struct neigh_table *t, const struct el_snapshot *snap, uint64_t now_ms,
		   const struct neigh_tx *tx)
{
	if (now_ms == t->last_hk_ms)
		return;
	t->last_hk_ms = now_ms;
	if (t->n_incomplete == 0)
		return;
	for (uint32_t i = 0; i <= t->mask;) {
		struct neigh_entry *e = &t->slots[i];
		if (e->state != NEIGH_INCOMPLETE || now_ms - e->last_request_ms < NEIGH_RETRY_MS) {
			i++;
			continue;
		}
		if (e->tries >= NEIGH_MAX_TRIES || e->iface >= snap->n_ifaces) {
			neigh_drop_pending(t, e, EL_DROP_NEIGH_UNRESOLVED, tx);
			neigh_remove(t, e);
			continue; /* slot i may now hold an entry moved back */
		}
		neigh_solicit(snap, e, now_ms, tx);
		i++;
	}
}

/* What neigh_nd_input() needs from a validated NS or NA. */
struct nd_msg {
	uint8_t *ip6;	    /* IPv6 header */
	uint8_t *icmp;	    /* ICMPv6 header */
	uint32_t len;	    /* ICMPv6 length */
	const uint8_t *lla; /* link-layer address option of the expected kind, or NULL */
	bool has_slla;	    /* any Source Link-Layer Address option */
};

/* The checks of RFC 4861 sections 7.1.1 (NS) and 7.1.2 (NA). */
static bool
nd_valid(struct rte_mbuf *m, uint32_t l3_off, uint32_t icmp_off, struct nd_msg *msg)
{
	uint32_t dlen = rte_pktmbuf_data_len(m);

	if (l3_off + IP6_HDR_LEN > dlen || icmp_off < l3_off + IP6_HDR_LEN)
		return false;
	uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, uint8_t *, l3_off);
	uint32_t end = l3_off + IP6_HDR_LEN + ((uint32_t)ip6[4] << 8 | ip6[5]);
	if (end > dlen || icmp_off + ND_MSG_LEN > end)
		return false;
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, icmp_off);
	uint32_t len = end - icmp_off;
	const uint8_t *src = ip6 + 8, *dst = ip6 + 24, *target = icmp + 8;
	uint8_t type = icmp[0];

	if (ip6[7] != ND_HOP_LIMIT || icmp[1] != 0 || (type != ND_NS && type != ND_NA))
		return false;
	if (csum_ip6_l4(src, dst, IP6_NEXT_ICMP6, icmp, len) != 0)
		return false;
	if (nd_is_multicast(target))
		return false;

	uint8_t want = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
	msg->lla = NULL;
	msg->has_slla = false;
	for (uint32_t off = ND_MSG_LEN; off < len;) {
		if (len - off < 2 || icmp[off + 1] == 0 || (uint32_t)icmp[off + 1] * 8 > len - off)
			return false;
		if (icmp[off] == ND_OPT_SLLA)
			msg->has_slla = true;
		/* an Ethernet address option is one 8-byte unit; others are
		 * skipped (RFC 4861 section 4.6.1 lets the length be larger
		 * for other link layers) */
		if (icmp[off] == want && icmp[off + 1] == 1 && msg->lla == NULL)
			msg->lla = icmp + off + 2;
		off += (uint32_t)icmp[off + 1] * 8;
	}

	if (type == ND_NS && nd_is_unspecified(src)) {
		/* a DAD probe goes to a solicited-node group, without SLLA */
		uint8_t group[16];
		nd_solicited_node(target, group);
		if (memcmp(dst, group, 16) != 0 || msg->has_slla)
			return false;
	}
	if (type == ND_NA && nd_is_multicast(dst) && (icmp[4] & ND_NA_F_SOLICITED))
		return false;
	msg->ip6 = ip6;
	msg->icmp = icmp;
	msg->len = len;
	return true;
}

/* Turn the NS in @p m into the NA answering it, in place: Ethernet, IPv6
 * (extension headers dropped) and ICMPv6 with a Target Link-Layer Address
 * option. */
static void
nd_answer(const struct el_snapshot *snap, uint8_t iface, struct rte_mbuf *m, uint32_t l3_off,
	  const struct nd_msg *msg, const struct neigh_tx *tx)
{
	const uint16_t icmp_len = ND_MSG_LEN + ND_LLA_OPT_LEN;
	const uint8_t *mac = snap->ifaces[iface].mac;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint8_t target[16], to[16], to_mac[6];
	bool dad = nd_is_unspecified(msg->ip6 + 8);

	uint32_t keep = l3_off + IP6_HDR_LEN + icmp_len;
	if (rte_pktmbuf_pkt_len(m) < keep &&
	    rte_pktmbuf_append(m, (uint16_t)(keep - rte_pktmbuf_pkt_len(m))) == NULL) {
		tx->drop(tx->ctx, m, EL_DROP_NO_MBUF); /* an NS without options, no room */
		return;
	}
	memcpy(target, msg->icmp + 8, 16);
	if (dad) {
		/* RFC 4861 section 7.2.4: to all-nodes, Solicited clear */
		memcpy(to, nd_all_nodes, 16);
		nd_group_mac(to, to_mac);
	} else {
		memcpy(to, msg->ip6 + 8, 16);
		memcpy(to_mac, msg->lla != NULL ? msg->lla : eth->src_addr.addr_bytes, 6);
	}

	memcpy(eth->dst_addr.addr_bytes, to_mac, 6);
	memcpy(eth->src_addr.addr_bytes, mac, 6);
	uint8_t *ip6 = msg->ip6;
	uint8_t *icmp = ip6 + IP6_HDR_LEN;
	nd_ip6_hdr(ip6, target, to, icmp_len);
	memset(icmp, 0, icmp_len);
	icmp[0] = ND_NA;
	icmp[4] = ND_NA_F_OVERRIDE | (dad ? 0 : ND_NA_F_SOLICITED);
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	uint16_t c = csum_ip6_l4(target, to, IP6_NEXT_ICMP6, icmp, icmp_len);
	memcpy(icmp + 2, &c, 2);

	if (rte_pktmbuf_pkt_len(m) > keep)
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - keep);
	if (tx->stats != NULL)
		tx->stats->arp_replies++;
	tx->send(tx->ctx, iface, m);
}

void
neigh_nd_input(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
	       struct rte_mbuf *m, uint32_t l3_off, uint32_t icmp_off, uint64_t now_ms,
	       const struct neigh_tx *tx, struct el_ip *learned_ip, uint8_t learned_mac[6],
	       int *learned)
{
	struct nd_msg msg;
	bool updated = false;

	if (learned != NULL)
		*learned = 0;
	if (iface >= snap->n_ifaces || !rte_pktmbuf_is_contiguous(m) ||
	    !nd_valid(m, l3_off, icmp_off, &msg)) {
		tx->drop(tx->ctx, m, EL_DROP_BAD_ND);
		return;
	}

	const uint8_t *src = msg.ip6 + 8;
	struct el_ip target = nd_ip6(msg.icmp + 8);
	bool owned = snapshot_owned_lookup(snap, &target) != NULL;
	struct el_ip who;

	if (msg.icmp[0] == ND_NS) {
		/* RFC 4861 section 7.2.3: learn the sender of a unicast-sourced
		 * NS with SLLA (create it only when the NS is for us, as ARP
		 * does); never from a DAD probe (source ::). */
		who = nd_ip6(src);
		if (msg.lla != NULL && !nd_is_unspecified(src) && !nd_is_multicast(src) &&
		    !(msg.lla[0] & 1) && snapshot_owned_lookup(snap, &who) == NULL)
			updated = neigh_update(t, snap, iface, &who, msg.lla, now_ms, tx, owned);
	} else {
		/* RFC 4861 section 7.2.5: an NA only updates an entry we have;
		 * with Override clear it may not change a known address. */
		who = target;
		struct neigh_entry *e = neigh_find(t, &target, iface);
		bool may = e != NULL && msg.lla != NULL && !(msg.lla[0] & 1) && !owned;
		if (may && !(msg.icmp[4] & ND_NA_F_OVERRIDE) && e->state == NEIGH_REACHABLE &&
		    memcmp(e->mac, msg.lla, 6) != 0)
			may = false;
		if (may)
			updated = neigh_update(t, snap, iface, &target, msg.lla, now_ms, tx, false);
	}
	if (updated && learned != NULL) {
		*learned = 1;
		if (learned_ip != NULL)
			*learned_ip = who;
		if (learned_mac != NULL)
			memcpy(learned_mac, msg.lla, 6);
	}

	if (msg.icmp[0] == ND_NS && owned) {
		nd_answer(snap, iface, m, l3_off, &msg, tx);
		return;
	}
	if (msg.icmp[0] == ND_NA) {
		rte_pktmbuf_free(m); /* consumed: an advertisement, answered or not */
		return;
	}
	tx->drop(tx->ctx, m, EL_DROP_NOT_OURS);
}
