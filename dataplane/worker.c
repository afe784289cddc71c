/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker packet path (DESIGN.md section 2) for IPv4 FullNAT.
 *
 * A burst is handled in chunks of up to 64 packets:
 *  1. per packet: Ethernet type (ARP to the neighbour code, IPv6 parsed by
 *     worker6.c and its TCP/UDP looked up there as one batch after this
 *     step), validation (pkt.c), trimming of Ethernet padding; ICMP is
 *     handled at once (echo, error translation); TCP/UDP get a 5-tuple key
 *     loaded from the packet;
 *  2. one bulk lookup of all keys in the flow index (flowtab.h): the
 *     connection table keys every flow by its client tuple and by its reply
 *     tuple, so a hit also says which side the packet comes from;
 *  3. per packet: hit -> TCP state, rewrite, route, neighbour, TX buffer;
 *     miss -> frontend lookup and a new flow (source ranges, affinity,
 *     Maglev, SNAT port), or a reject, or a hand-off / drop for replies.
 *
 * Rewrites update the IPv4 and TCP/UDP checksums incrementally (RFC 1624).
 * L4 checksums are NOT verified on receipt: an incremental update keeps a
 * wrong checksum wrong, so the end host still drops a damaged segment, and
 * verifying would mean reading every payload byte. IPv4 header checksums
 * are verified (the header is read anyway).
 *
 * Backend choice: ClientIP affinity entry when the service asks for it and
 * the entry's backend is still listed, else Maglev (maglev.h) on
 * worker_flow_hash4(), which is the same on every edgelb host.
 *
 * Flood protection: a full table refuses new flows (counted) while existing
 * flows keep their entries; an optional token bucket per client source
 * address (a fixed array of buckets indexed by a seeded hash of the source,
 * no allocation) limits the new flows one source may open per second.
 * Neither touches packets of existing flows. The errors the worker
 * originates (TCP resets and ICMP port unreachable for services without
 * endpoints, ICMP time exceeded for a TTL that runs out here) share one
 * token bucket per worker (RFC 1812 section 4.3.2.8), both families.
 *
 * Edge checks: an IPv4 frame must be addressed to the receiving interface's
 * MAC (one compare per packet); a reply of a flow must come in on the
 * interface its backend is routed through (strict reverse path, RFC 3704,
 * through the route cache, replies only); a new flow needs a source that is
 * not a martian (RFC 1812 section 5.3.7) and ports other than 0. The last
 * two run on the miss path only.
 *
 * Flows never point into a snapshot; expiry is an incremental sweep in
 * worker_poll_housekeeping() plus a check on every hit. The sweep is paced
 * by time, not by calls or packets (w_sweep()): a fast poll loop does not
 * pay for it on every iteration, and a busy one still reclaims expired
 * entries. The state of the
 * worker (tables, counters, TX buffers) is written by its own lcore only;
 * other threads talk to it through its message and hand-off rings.
 *
 * Established-flow fast path, for the cache: the 5-tuple key and its CRC
 * are built in registers (no 8-byte reads of fields just stored), parsing
 * is inlined, and the output step takes the IPv4 address by value. The
 * route cache also remembers the static neighbour of the next hop, so a
 * packet to a static next hop gets its Ethernet header without a call into
 * the neighbour module (which keeps every other case: learned entries,
 * probing, resolution).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "edgelb/csum.h"
#include "edgelb/maglev.h"
#include "edgelb/tcp_state.h"
#include "edgelb/worker.h"

#include "bytes.h"
#include "conntrack.h"
#include "icmp.h"
#include "neigh.h"
#include "pkt.h"
#include "snat_port.h"
#include "worker_int.h"

static const char *const drop_names[EL_DROP_MAX] = {
#define EL_DROP_NAME(e, s) [EL_DROP_##e] = s,
    EL_DROP_REASONS(EL_DROP_NAME)
#undef EL_DROP_NAME
};

static uint32_t w_name_seq;

const char *
worker_drop_name(enum el_drop d)
{
	if ((unsigned)d >= EL_DROP_MAX)
		return "unknown";
	return drop_names[d];
}

uint32_t
worker_flow_hash4(uint32_t client, uint16_t cport, uint32_t frontend, uint16_t fport, uint8_t proto)
{
	/* rte_hash_crc() reads the key as 64-bit words: build those words
	 * (memory order as documented) rather than a struct it would alias */
	uint8_t b[16] = {0};
	uint64_t w[2];

	memcpy(b, &client, 4);
	memcpy(b + 4, &frontend, 4);
	memcpy(b + 8, &cport, 2);
	memcpy(b + 10, &fport, 2);
	b[12] = proto;
	memcpy(w, b, sizeof(w));
	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], EL_FLOW_HASH_SEED));
}

/* ---- packet access ---- */

static inline uint8_t *
ip_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
}

/* ---- TX and drops ---- */

void
w_tx_flush_one(struct el_worker *w, uint8_t iface)
{
	struct rte_mbuf **m = w->tx_m[iface];
	uint16_t n = w->tx_n[iface], sent;
	uint64_t bytes = 0;

	if (n == 0)
		return;
	/* summed before: what was sent belongs to the driver after */
	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(m[i]);
	sent = w->conf.tx(w->conf.tx_ctx, iface, m, n);
	if (sent > n)
		sent = n;
	if (unlikely(sent < n)) {
		for (uint16_t i = sent; i < n; i++)
			bytes -= rte_pktmbuf_pkt_len(m[i]);
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
		w->stats.drops[EL_DROP_TX_FULL] += n - sent;
	}
	w->stats.tx_pkts[iface] += sent;
	w->stats.tx_bytes[iface] += bytes;
	w->tx_n[iface] = 0;
}

static void
w_tx_flush(struct el_worker *w)
{
	/* a test of each buffer here, not a mark per packet in w_send() */
	for (unsigned i = 0; i < EL_SNAP_MAX_IFACES; i++)
		if (w->tx_n[i] != 0)
			w_tx_flush_one(w, (uint8_t)i);
}

static void
ntx_send(void *ctx, uint8_t iface, struct rte_mbuf *m)
{
	w_send(ctx, iface, m);
}

static void
ntx_drop(void *ctx, struct rte_mbuf *m, enum el_drop reason)
{
	w_drop(ctx, m, reason);
}

/*
 * The static neighbour entry for @p nh on @p iface, as the neighbour module
 * would pick it (static entries win over learned ones; the first one listed
 * wins): its index + 1, or 0. Long lists are left to the neighbour module.
 */
uint16_t
w_static_neigh(const struct el_snapshot *s, uint8_t iface, const struct el_ip *nh)
{
	if (s->n_neighs > W_NH_SCAN_MAX || iface >= s->n_ifaces)
		return 0;
	for (unsigned i = 0; i < s->n_neighs; i++) {
		const struct el_snap_neigh *n = &s->neighs[i];
		if (n->iface == iface && snapshot_ip_eq(&n->ip, nh))
			return (uint16_t)(i + 1);
	}
	return 0;
}

/* Static neighbour (index + 1, or 0) of the gateway of route @p ri,
 * remembered per route. */
uint16_t
w_via_neigh(struct el_worker *w, size_t ri)
{
	if (unlikely(ri >= W_NH_ROUTES))
		return 0;
	struct w_nh *n = &w->nh[ri];
	if (unlikely(n->state == W_NH_UNKNOWN)) {
		const struct el_snap_route *r = &w->snap->routes[ri];
		n->neigh = w_static_neigh(w->snap, r->iface, &r->via);
		n->state = n->neigh != 0 ? W_NH_STATIC : W_NH_NONE;
	}
	return n->neigh;
}

/* Send @m (Ethernet header to be filled) along route @r toward @dst. The
 * address is passed by value; an el_ip is only built for the neighbour
 * module, when the next hop is not a static neighbour. */
static inline void
w_output(struct el_worker *w, struct rte_mbuf *m, const struct el_snap_route *r, uint32_t dst)
{
	if (r->via.family != EL_AF_NONE) {
		uint16_t nb = w_via_neigh(w, (size_t)(r - w->snap->routes));
		if (likely(nb != 0)) {
			w_output_neigh(w, m, r->iface, nb, PKT_ETHERTYPE_IPV4);
			return;
		}
		neigh_output(w->neigh, w->snap, r->iface, &r->via, m, w->now, &w->ntx);
		return;
	}
	struct el_ip d = el_ip4(dst);
	neigh_output(w->neigh, w->snap, r->iface, &d, m, w->now, &w->ntx);
}

/* Index + 1 of the route of @p dst in the worker's copy of the snapshot's
 * IPv4 routes, 0 when none matches. Only when n_rt4 <= W_RT4_MAX. */
static inline unsigned
w_rt4_find(const struct el_worker *w, uint32_t dst)
{
	uint32_t h = rte_be_to_cpu_32(dst);

	for (unsigned i = 0; i < w->n_rt4; i++)
		if ((h & w->rt4_mask[i]) == w->rt4_net[i])
			return i + 1;
	return 0;
}

/* Index of snapshot_route_lookup()'s route for @p dst, SIZE_MAX when none.
 * Out of line, like w_route4_fill(): the el_ip built here would cost the
 * inlined fast paths a stack round trip. */
static __rte_noinline size_t
w_route4_lookup(const struct el_snapshot *s, uint32_t dst)
{
	struct el_ip d = el_ip4(dst);
	const struct el_snap_route *r = snapshot_route_lookup(s, &d);
	return r != NULL ? (size_t)(r - s->routes) : SIZE_MAX;
}

/* Fill cache slot @p c with @p dst, its route @p ri and the route's next
 * hop's static neighbour. */
static __rte_noinline struct w_route_cache
w_route4_fill(struct el_worker *w, struct w_route_cache *c, uint32_t dst, size_t ri)
{
	const struct el_snap_route *r = &w->snap->routes[ri];
	struct el_ip d = el_ip4(dst);
	uint16_t nb = r->via.family != EL_AF_NONE ? w_via_neigh(w, ri)
						  : w_static_neigh(w->snap, r->iface, &d);
	struct w_route_cache e = {.dst = dst, .route = (uint16_t)(ri + 1), .neigh = nb};
	if (ri < UINT16_MAX)
		*c = e;
	return e;
}

/* The route of @p dst and its next hop's static neighbour, if any; route 0
 * when there is none. With few routes they are scanned first: a route with a
 * gateway needs nothing per destination, so replies to many clients never
 * touch the cache, which keeps the directly connected destinations (pods)
 * whose neighbour is per address. With many routes the cache comes first and
 * snapshot_route_lookup() runs on a miss. */
static inline struct w_route_cache
w_route4_slot(struct el_worker *w, uint32_t dst)
{
	struct w_route_cache *c = &w->rc[(dst * 0x9e3779b1u) >> (32 - W_ROUTE_BITS)];
	size_t ri;

	if (likely(w->n_rt4 <= W_RT4_MAX)) {
		unsigned i = w_rt4_find(w, dst);
		if (i == 0)
			return (struct w_route_cache){.dst = dst};
		ri = w->rt4_route[i - 1];
		if (w->rt4_gw[i - 1])
			return (struct w_route_cache){
			    .dst = dst, .route = (uint16_t)(ri + 1), .neigh = w->rt4_nb[i - 1]};
		if (likely(c->route != 0 && c->dst == dst))
			return *c;
	} else {
		if (likely(c->route != 0 && c->dst == dst))
			return *c;
		ri = w_route4_lookup(w->snap, dst);
		if (ri == SIZE_MAX)
			return (struct w_route_cache){.dst = dst};
	}
	return w_route4_fill(w, c, dst, ri);
}

/* snapshot_route_lookup() for an IPv4 destination, through the cache. */
static inline const struct el_snap_route *
w_route4(struct el_worker *w, uint32_t dst)
{
	struct w_route_cache c = w_route4_slot(w, dst);
	return c.route != 0 ? &w->snap->routes[c.route - 1] : NULL;
}

/* Strict reverse-path check (RFC 3704 section 2.2): does a packet from
 * @p src belong on @p iface, i.e. is @p src routed out of it? */
static inline bool
w_rpf4_ok(struct el_worker *w, uint32_t src, uint8_t iface)
{
	if (likely(w->n_rt4 <= W_RT4_MAX)) {
		unsigned i = w_rt4_find(w, src);
		return i != 0 && w->rt4_iface[i - 1] == iface;
	}
	struct w_route_cache e = w_route4_slot(w, src);
	return e.route != 0 && w->snap->routes[e.route - 1].iface == iface;
}

/* Send @p m toward @p dst along the route (not 0) of lookup result @p c. */
static inline void
w_output_rc(struct el_worker *w, struct rte_mbuf *m, struct w_route_cache c, uint32_t dst)
{
	const struct el_snap_route *r = &w->snap->routes[c.route - 1];
	if (likely(c.neigh != 0)) {
		w_output_neigh(w, m, r->iface, c.neigh, PKT_ETHERTYPE_IPV4);
		return;
	}
	w_output(w, m, r, dst);
}

static inline void
w_route_out(struct el_worker *w, struct rte_mbuf *m, uint32_t dst)
{
	struct w_route_cache c = w_route4_slot(w, dst);
	if (unlikely(c.route == 0)) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	w_output_rc(w, m, c, dst);
}

/* One bit of 64 for an address / a tuple: quick negative membership tests. */
static inline uint64_t
w_addr_bit(uint32_t addr)
{
	return 1ull << ((addr * 0x9e3779b1u) >> 26);
}

static inline uint64_t
w_key_bit(uint32_t src, uint16_t sport, uint16_t dport)
{
	return 1ull << (((src ^ ((uint32_t)sport << 16 | dport)) * 0x9e3779b1u) >> 26);
}

/* The low 6 bits of a SNAT port (network order): the port walk hands out
 * ports in order, so a chunk's new flows rarely share a bit. */
static inline uint64_t
w_port_bit(uint16_t port_be)
{
	return 1ull << (rte_be_to_cpu_16(port_be) & 63);
}

/* Bytes of what decides where a flow's packets leave: the routes, the
 * static neighbours and the interface MACs of @p snap. */
static size_t
w_net_len(const struct el_snapshot *snap)
{
	return sizeof(uint32_t) * 3 + (size_t)snap->n_routes * sizeof(snap->routes[0]) +
	       (size_t)snap->n_neighs * sizeof(snap->neighs[0]) + (size_t)snap->n_ifaces * 6;
}

/* One piece of those bytes at *@p o: copied there from @p src (@p copy), or
 * compared with it; moves *@p o past it. @return false on a difference */
static bool
w_net_piece(uint8_t **o, const void *src, size_t n, bool copy)
{
	if (n == 0)
		return true;
	if (copy)
		memcpy(*o, src, n);
	else if (memcmp(*o, src, n) != 0)
		return false;
	*o += n;
	return true;
}

/* Write those bytes of @p snap to @p o (w_net_len() of them), or with
 * !@p copy compare them with @p o. @return false on a difference */
static bool
w_net_bytes(const struct el_snapshot *snap, uint8_t *o, bool copy)
{
	uint32_t counts[3] = {snap->n_routes, snap->n_neighs, snap->n_ifaces};

	if (!w_net_piece(&o, counts, sizeof(counts), copy) ||
	    !w_net_piece(&o, snap->routes, (size_t)snap->n_routes * sizeof(snap->routes[0]),
			 copy) ||
	    !w_net_piece(&o, snap->neighs, (size_t)snap->n_neighs * sizeof(snap->neighs[0]), copy))
		return false;
	for (unsigned i = 0; i < snap->n_ifaces; i++)
		if (!w_net_piece(&o, snap->ifaces[i].mac, 6, copy))
			return false;
	return true;
}

/* Forget the egress every flow remembers (CT_F_EGRESS_SHIFT) when
 * @p snap routes or resolves differently from the snapshot it was found
 * with: other routes, static neighbours or interface MACs. These come from
 * the config file, so in service this changes once, at the first snapshot,
 * when no flow has a row yet. Without memory for the copy, flows keep no
 * row until a later snapshot finds some. */
static __rte_noinline void
w_net_check(struct el_worker *w, const struct el_snapshot *snap)
{
	size_t len = w_net_len(snap);
	if (w->net_seen != NULL && w->net_seen_len == len && w_net_bytes(snap, w->net_seen, false))
		return;
	/* rows are only stored while w->net_seen says for what */
	bool rows = w->net_seen != NULL;
	rte_free(w->net_seen);
	w->net_seen = rte_malloc("el_net_seen", len, 0);
	w->net_seen_len = w->net_seen != NULL ? len : 0;
	if (w->net_seen != NULL)
		w_net_bytes(snap, w->net_seen, true);
	if (!rows)
		return;
	uint32_t cap = conntrack_capacity(w->ct);
	for (uint32_t i = 0; i < cap; i++)
		conntrack_flow4(w->ct, i)->flags &= CT_F_USED;
	cap = conntrack_capacity6(w->ct);
	for (uint32_t i = 0; i < cap; i++)
		conntrack_flow6(w->ct, i)->flags &= CT_F_USED;
}

/* Refresh what the worker derives from the snapshot when a new one is in
 * use: idle timeouts in ms, and the route cache (its entries point into the
 * old snapshot). */
static inline void
w_snap_sync(struct el_worker *w, const struct el_snapshot *snap)
{
	if (likely(snap == w->cur_snap && snap->generation == w->cur_gen))
		return;
	w->cur_snap = snap;
	w->cur_gen = snap->generation;
	for (unsigned i = 0; i < EL_CT_NSTATES; i++) {
		uint32_t t = snap->ct_timeouts[i];
		w->timeout_ms[i] = t >= W_MAX_TIMEOUT_MS / 1000 ? W_MAX_TIMEOUT_MS : t * 1000u;
	}
	memset(w->rc, 0, sizeof(w->rc));
	memset(w->rc6, 0, sizeof(w->rc6));
	for (unsigned i = 0; i < snap->n_neighs && i < W_NH_SCAN_MAX; i++) {
		const struct el_snap_neigh *n = &snap->neighs[i];
		memcpy(w->neigh_eth[i], n->mac, 6);
		if (n->iface < snap->n_ifaces && n->iface < EL_SNAP_MAX_IFACES)
			memcpy(w->neigh_eth[i] + 6, snap->ifaces[n->iface].mac, 6);
		w->neigh_eth[i][W_NEIGH_ETH_IFACE] = n->iface;
	}
	w_net_check(w, snap);
	/* each family's routes, in the snapshot's order (longest prefix
	 * first); more than the worker scans: the cache alone */
	w->n_rt4 = w->n_rt6 = 0;
	for (unsigned i = 0; i < snap->n_routes; i++) {
		const struct el_snap_route *r = &snap->routes[i];
		if (r->to.addr.family == EL_AF_INET && w->n_rt4 <= W_RT4_MAX) {
			if (w->n_rt4 == W_RT4_MAX || i >= UINT16_MAX) {
				w->n_rt4 = W_RT4_MAX + 1;
				continue;
			}
			uint32_t mask = r->to.len == 0 ? 0 : ~0u << (32 - r->to.len);
			w->rt4_mask[w->n_rt4] = mask;
			w->rt4_net[w->n_rt4] = rte_be_to_cpu_32(r->to.addr.v4) & mask;
			w->rt4_route[w->n_rt4] = (uint16_t)i;
			w->rt4_iface[w->n_rt4] = r->iface;
			w->rt4_nb[w->n_rt4] = r->via.family != EL_AF_NONE
						  ? w_static_neigh(snap, r->iface, &r->via)
						  : 0;
			w->rt4_gw[w->n_rt4++] = r->via.family != EL_AF_NONE;
		} else if (r->to.addr.family == EL_AF_INET6 && w->n_rt6 <= W_RT6_MAX) {
			if (w->n_rt6 == W_RT6_MAX || i >= UINT16_MAX) {
				w->n_rt6 = W_RT6_MAX + 1;
				continue;
			}
			uint8_t mask[16], net[16];
			for (unsigned b = 0; b < 16; b++) {
				unsigned bits = r->to.len > 8 * b ? r->to.len - 8 * b : 0;
				mask[b] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
				net[b] = r->to.addr.v6[b] & mask[b];
			}
			memcpy(w->rt6_mask[w->n_rt6], mask, 16);
			memcpy(w->rt6_net[w->n_rt6], net, 16);
			w->rt6_route[w->n_rt6] = (uint16_t)i;
			w->rt6_kind[w->n_rt6++] = r->via.family == EL_AF_NONE	 ? W_RT6_CONNECTED
						  : r->via.family == EL_AF_INET6 ? W_RT6_GW
										 : W_RT6_UNUSABLE;
		}
	}
	memset(w->nh, 0, sizeof(w->nh));
	w->snat_bloom = 0;
	for (unsigned i = 0; i < snap->n_snat; i++)
		if (snap->snat[i].family == EL_AF_INET)
			w->snat_bloom |= w_addr_bit(snap->snat[i].v4);
}

/* ---- per-service counters ---- */

static inline uint32_t
svcstat_slot(uint32_t id)
{
	return (id * 0x9e3779b1u) >> (32 - __builtin_ctz(W_SVC_SLOTS));
}

static struct w_svcstat *
svcstat_find(const struct el_worker *w, uint32_t id)
{
	uint32_t i = svcstat_slot(id);
	for (uint32_t n = 0; n < W_SVC_SLOTS; n++) {
		const struct w_svcstat *s = &w->svcstat[i];
		if (!s->used)
			return NULL;
		if (s->id == id)
			return (struct w_svcstat *)(uintptr_t)s;
		i = (i + 1) & (W_SVC_SLOTS - 1);
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void
svcstat_insert(struct el_worker *w, const struct w_svcstat *e)
{
	uint32_t i = svcstat_slot(e->id);
	while (w->svcstat[i].used)
		i = (i + 1) & (W_SVC_SLOTS - 1);
	w->svcstat[i] = *e;
	w->svcstat[i].used = 1;
	w->n_svcstat++;
}

/* The table is getting full: keep the counters of services that still have
 * flows or are still in the snapshot, forget the others, rebuild. Rare: it
 * takes thousands of services coming and going. */
static void
svcstat_compact(struct el_worker *w)
{
	const struct el_snapshot *s = w->snap;
	unsigned n_ids = 0, n_keep = 0;

	if (s != NULL && s->n_svcs <= W_SVC_SLOTS) {
		for (uint32_t i = 0; i < s->n_svcs; i++)
			w->svc_ids[n_ids++] = s->svcs[i]->id;
		qsort(w->svc_ids, n_ids, sizeof(uint32_t), cmp_u32);
	}
	for (uint32_t i = 0; i < W_SVC_SLOTS; i++) {
		const struct w_svcstat *e = &w->svcstat[i];
		if (e->used && (e->active > 0 || bsearch(&e->id, w->svc_ids, n_ids,
							 sizeof(uint32_t), cmp_u32) != NULL))
			w->svc_keep[n_keep++] = *e;
	}
	memset(w->svcstat, 0, sizeof(w->svcstat));
	w->n_svcstat = 0;
	for (uint32_t i = 0; i < n_keep; i++)
		svcstat_insert(w, &w->svc_keep[i]);
}

static struct w_svcstat *
svcstat_get(struct el_worker *w, uint32_t id)
{
	struct w_svcstat *s = svcstat_find(w, id);
	if (likely(s != NULL))
		return s;
	if (w->n_svcstat >= W_SVC_SLOTS / 4 * 3) {
		svcstat_compact(w);
		if (w->n_svcstat >= W_SVC_SLOTS / 4 * 3)
			return NULL;
	}
	struct w_svcstat e = {.id = id};
	svcstat_insert(w, &e);
	return svcstat_find(w, id);
}

struct w_svcstat *
w_svcstat_find(const struct el_worker *w, uint32_t id)
{
	return svcstat_find(w, id);
}

struct w_svcstat *
w_svcstat_get(struct el_worker *w, uint32_t id)
{
	return svcstat_get(w, id);
}

/* ---- UDP flush set ---- */

static inline bool
flush_has(const struct el_worker *w, uint32_t id)
{
	return w_flush_has(w, id);
}

static void
flush_recompute_mask(struct el_worker *w)
{
	uint64_t mask = 0;
	for (uint32_t i = 0; i < w->n_flush; i++)
		mask |= 1ull << (w->flush[i].id & 63);
	w->flush_mask = mask;
}

/* ---- flows ---- */

static inline uint32_t
w_timeout_ms(const struct el_worker *w, const struct ct_flow4 *f)
{
	return w->timeout_ms[f->tcp.state < EL_CT_NSTATES ? f->tcp.state : EL_CT_NONE];
}

static inline bool
w_idle_expired(const struct el_worker *w, const struct ct_flow4 *f)
{
	return (uint32_t)(w->now32 - f->last_ms) >= w_timeout_ms(w, f);
}

void
w_flow_counters_gone(struct el_worker *w, const struct ct_meta *meta)
{
	w->stats.flows_active--;
	struct w_svcstat *s = svcstat_find(w, meta->svc_id);
	if (s != NULL && s->active > 0)
		s->active--;
}

static void
w_flow_del(struct el_worker *w, uint32_t idx)
{
	struct ct_flow4 *f = conntrack_flow4(w->ct, idx);
	if (!(f->flags & CT_F_USED))
		return;
	w_flow_counters_gone(w, conntrack_meta4(w->ct, idx));
	conntrack_del4(w->ct, idx);
	w->deleted = true;
}

static bool
w_sweep_flushed(void *ctx, const struct ct_flow4 *f, const struct ct_meta *meta)
{
	const struct el_worker *w = ctx;
	return f->proto == PKT_IPPROTO_UDP && flush_has(w, meta->backend_id);
}

static void
w_sweep_gone(void *ctx, const struct ct_flow4 *f, const struct ct_meta *meta, bool idle)
{
	struct el_worker *w = ctx;
	(void)f;
	if (idle)
		w->stats.flows_expired++;
	w_flow_counters_gone(w, meta);
}

/* Flush now, by a full pass, the UDP flows of @id (the pending set is full). */
static void
flush_now(struct el_worker *w, uint32_t id)
{
	uint32_t cap = conntrack_capacity(w->ct);
	for (uint32_t i = 0; i < cap; i++) {
		struct ct_flow4 *f = conntrack_flow4(w->ct, i);
		if ((f->flags & CT_F_USED) && f->proto == PKT_IPPROTO_UDP &&
		    conntrack_meta4(w->ct, i)->backend_id == id)
			w_flow_del(w, i);
	}
	w6_flush_now(w, id);
}

static void
flush_add(struct el_worker *w, uint32_t id)
{
	uint64_t until = conntrack_swept(w->ct) + conntrack_capacity(w->ct);
	uint64_t until6 = conntrack_swept6(w->ct) + conntrack_capacity6(w->ct);
	for (uint32_t i = 0; i < w->n_flush; i++) {
		if (w->flush[i].id == id) {
			w->flush[i].until = until;
			w->flush[i].until6 = until6;
			return;
		}
	}
	if (w->n_flush == W_FLUSH_MAX) {
		flush_now(w, id);
		return;
	}
	w->flush[w->n_flush].id = id;
	w->flush[w->n_flush].until = until;
	w->flush[w->n_flush].until6 = until6;
	w->n_flush++;
	w->flush_mask |= 1ull << (id & 63);
}

static void
flush_expire(struct el_worker *w)
{
	uint64_t swept = conntrack_swept(w->ct), swept6 = conntrack_swept6(w->ct);
	uint32_t j = 0;
	bool changed = false;

	for (uint32_t i = 0; i < w->n_flush; i++) {
		if (w->flush[i].until <= swept && w->flush[i].until6 <= swept6) {
			changed = true;
			continue;
		}
		w->flush[j++] = w->flush[i];
	}
	w->n_flush = j;
	if (changed)
		flush_recompute_mask(w);
}

/* ---- NAT rewrite ---- */

/*
 * Rewrite a TCP/UDP packet to (nsrc:nsport -> ndst:ndport) and decrement its
 * TTL. Both checksums are patched with one shared delta for the addresses
 * (RFC 1624 eqn. 3); a zero UDP checksum means "none" and stays zero, and a
 * UDP result of zero is sent as 0xffff (RFC 768).
 */
static inline void
nat4(uint8_t *ip, const struct pkt_ip4 *p, uint32_t nsrc, uint16_t nsport, uint32_t ndst,
     uint16_t ndport)
{
	uint8_t *l4 = ip + p->l3_len;
	/* whole 32-bit words, folded once (csum_fold64): the address change
	 * is shared by the IP header and the L4 pseudo-header */
	uint64_t d = (uint64_t)(uint32_t)~p->src + (uint32_t)~p->dst + nsrc + ndst;

	/* TTL and protocol share a word; TTL >= 2 here, so no borrow. Computed,
	 * not re-read, to spare a store-forwarding stall. */
	uint16_t ttl_old = bytes_rd16(ip + 8);
	uint16_t ttl_new = (uint16_t)(ttl_old - rte_cpu_to_be_16(0x0100));
	uint64_t s = d + (uint16_t)~bytes_rd16(ip + 10) + (uint16_t)~ttl_old + ttl_new;
	bytes_wr16(ip + 8, ttl_new);
	bytes_wr16(ip + 10, (uint16_t)~csum_fold64(s));
	bytes_wr32(ip + 12, nsrc);
	bytes_wr32(ip + 16, ndst);

	unsigned coff = p->proto == PKT_IPPROTO_TCP ? 16 : 6;
	uint16_t c = bytes_rd16(l4 + coff);
	if (likely(c != 0 || p->proto == PKT_IPPROTO_TCP)) {
		/* the two ports as one word, in memory order */
		uint32_t ports_old = (uint32_t)p->sport | (uint32_t)p->dport << 16;
		uint32_t ports_new = (uint32_t)nsport | (uint32_t)ndport << 16;
		s = d + (uint16_t)~c + (uint32_t)~ports_old + ports_new;
		c = (uint16_t)~csum_fold64(s);
		if (p->proto == PKT_IPPROTO_UDP && c == 0)
			c = 0xffff;
		bytes_wr16(l4 + coff, c);
	}
	bytes_wr16(l4, nsport);
	bytes_wr16(l4 + 2, ndport);
}

/* ---- hand-off between workers (partition mode) ---- */

/* w_handoff_owner() (worker_int.h) says which worker owns a SNAT port. */

void
w_handoff(struct el_worker *w, unsigned owner, uint8_t iface, struct rte_mbuf *m)
{
	struct w_handoff h = {.m = m, .iface = iface};
	if (rte_ring_mp_enqueue_elem(w->peers[owner]->handoff, &h, sizeof(h)) != 0) {
		w_drop(w, m, EL_DROP_HANDOFF_FULL);
		return;
	}
	w->stats.handoffs++;
}

static inline bool
w_is_snat(const struct el_worker *w, uint32_t addr)
{
	const struct el_snapshot *s = w->snap;
	if (likely(!(w->snat_bloom & w_addr_bit(addr))))
		return false;
	for (unsigned i = 0; i < s->n_snat; i++)
		if (s->snat[i].family == EL_AF_INET && s->snat[i].v4 == addr)
			return true;
	return false;
}

/* ---- ICMP ---- */

static void
w_icmp_error(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip4 *o)
{
	uint8_t *ip = ip_hdr(m);
	struct pkt_ip4 in;
	enum el_drop reason;

	if (pkt_ip4_quote_parse(ip + o->l3_len + PKT_ICMP_LEN, (uint32_t)o->l4_len - PKT_ICMP_LEN,
				&in, &reason) != 0) {
		w_drop(w, m, reason);
		return;
	}
	if ((in.proto != PKT_IPPROTO_TCP && in.proto != PKT_IPPROTO_UDP) || !in.first_frag) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}

	/* an error about a packet we sent from a SNAT port: that port's
	 * owner has the flow */
	unsigned owner;
	if (w_is_snat(w, in.src) && w_handoff_owner(w, iface, in.sport, &owner)) {
		w_handoff(w, owner, iface, m);
		return;
	}

	/* the quoted packet went out; the flow knows it reversed */
	struct ct_key4 k = {
	    .src = in.dst, .dst = in.src, .sport = in.dport, .dport = in.sport, .proto = in.proto};
	uint32_t val;
	if (conntrack_lookup4(w->ct, &k, &val) != 0) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	struct ct_flow4 *f = conntrack_flow4(w->ct, val >> 1);
	/* the error must come to the address the quoted packet came from */
	if (o->dst != ((val & 1) == CT_DIR_REPLY ? f->snat : f->frontend)) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	if (w_idle_expired(w, f)) {
		w->stats.flows_expired++;
		w_flow_del(w, val >> 1);
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	if ((val & 1) == CT_DIR_REPLY && !w_rpf4_ok(w, f->backend, iface)) {
		w_drop(w, m, EL_DROP_WRONG_IFACE);
		return;
	}
	if (o->ttl <= 1) {
		w_drop(w, m, EL_DROP_TTL_EXCEEDED);
		return;
	}

	struct icmp_xlate4 x;
	uint32_t to;
	if ((val & 1) == CT_DIR_REPLY) {
		/* from the pod side about snat -> backend: tell the client */
		x = (struct icmp_xlate4){.outer_src = f->frontend,
					 .outer_dst = f->client,
					 .inner_src = f->client,
					 .inner_dst = f->frontend,
					 .inner_sport = f->cport,
					 .inner_dport = f->fport};
		to = f->client;
	} else {
		/* from the client side about frontend -> client: tell the pod */
		x = (struct icmp_xlate4){.outer_src = f->snat,
					 .outer_dst = f->backend,
					 .inner_src = f->backend,
					 .inner_dst = f->snat,
					 .inner_sport = f->bport,
					 .inner_dport = f->sport};
		to = f->backend;
	}
	icmp_error_xlate4(ip, o, &in, &x);
	w->stats.icmp_errors_translated++;
	w_route_out(w, m, to);
}

static bool w_martian4(const struct el_snapshot *s, uint32_t src);

static void
w_icmp(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip4 *p)
{
	struct el_ip d = el_ip4(p->dst);

	if (snapshot_owned_lookup(w->snap, &d) == NULL) {
		w_drop(w, m, EL_DROP_NOT_OURS);
		return;
	}
	switch (p->icmp_type) {
	case PKT_ICMP_ECHO_REQUEST:
		/* an echo "from" loopback, a broadcast or edgelb itself would
		 * be answered to nobody or to edgelb */
		if (w_martian4(w->snap, p->src)) {
			w_drop(w, m, EL_DROP_MARTIAN);
			return;
		}
		icmp_echo_reply4(ip_hdr(m), p);
		w->stats.icmp_echo_replies++;
		w_route_out(w, m, p->src);
		return;
	case PKT_ICMP_DEST_UNREACH:
	case PKT_ICMP_TIME_EXCEEDED:
		w_icmp_error(w, m, iface, p);
		return;
	default:
		w_drop(w, m, EL_DROP_ICMP_UNSUPPORTED);
		return;
	}
}

/* ---- new flows ---- */

static bool
w_src_allowed(const struct el_snap_svc *svc, uint32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);
	for (uint32_t i = 0; i < svc->n_src_ranges; i++) {
		const struct el_cidr *c = &svc->src_ranges[i];
		if (c->addr.family != EL_AF_INET)
			continue;
		uint32_t mask = c->len == 0 ? 0 : ~0u << (32 - (c->len > 32 ? 32 : c->len));
		if ((rte_be_to_cpu_32(c->addr.v4) & mask) == (a & mask))
			return true;
	}
	return false;
}

const struct el_snap_backend *
w_find_backend(const struct el_snap_svc *svc, uint32_t id)
{
	for (uint32_t i = 0; i < svc->n_backends; i++)
		if (svc->backends[i].id == id)
			return &svc->backends[i];
	return NULL;
}

/* Send the reject kube-proxy sends for a service without endpoints. */
static void
w_reject(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip4 *p)
{
	const struct el_snap_route *r = w_route4(w, p->src);
	if (r == NULL) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	if (!w_err_take(w)) {
		w_drop(w, m, EL_DROP_NO_ENDPOINT);
		return;
	}
	if (p->proto == PKT_IPPROTO_TCP) {
		uint16_t tot = icmp_tcp_reset4(ip_hdr(m), p);
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
	} else {
		uint32_t q = icmp_quote_len4(p);
		if (rte_pktmbuf_prepend(m, ICMP_ERR_HDR_LEN) == NULL) {
			w_drop(w, m, EL_DROP_NO_MBUF);
			return;
		}
		uint16_t tot = icmp_error4(ip_hdr(m), p->dst, p->src, PKT_ICMP_DEST_UNREACH,
					   ICMP_CODE_PORT_UNREACH, q);
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
	}
	w->stats.rejects_sent++;
	w_output(w, m, r, p->src);
}

static bool w_martian4(const struct el_snapshot *s, uint32_t src);

/*
 * Drop a TCP/UDP packet whose TTL would reach 0 here (counted as
 * EL_DROP_TTL_EXCEEDED) and send its source an ICMP time exceeded, type 11
 * code 0 (RFC 792; RFC 1812 section 5.3.1), from the address the packet was
 * sent to (a frontend or a SNAT address: one edgelb owns), quoting its IP
 * header and 8 bytes as received. None is sent about an ICMP message other
 * than an echo, about a fragment other than the first, or to a source no
 * reply may go to (RFC 1122 section 3.2.2, RFC 1812 section 4.3.2.7), nor
 * when the worker's error bucket is empty (RFC 1812 section 4.3.2.8).
 * Rare: kept out of line, away from the forwarding path.
 */
static void __attribute__((noinline, cold))
w_ttl_exceeded(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip4 *p)
{
	const uint8_t *ip = ip_hdr(m);

	w->stats.drops[EL_DROP_TTL_EXCEEDED]++;
	if ((p->proto == PKT_IPPROTO_ICMP && p->icmp_type != PKT_ICMP_ECHO_REQUEST &&
	     p->icmp_type != PKT_ICMP_ECHO_REPLY) ||
	    (bytes_rd16be(ip + 6) & 0x1fff) != 0 || w_martian4(w->snap, p->src)) {
		rte_pktmbuf_free(m);
		return;
	}
	const struct el_snap_route *r = w_route4(w, p->src);
	if (r == NULL || !w_err_take(w)) {
		rte_pktmbuf_free(m);
		return;
	}
	uint32_t q = icmp_quote_len4(p);
	if (rte_pktmbuf_prepend(m, ICMP_ERR_HDR_LEN) == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	uint16_t tot = icmp_error4(ip_hdr(m), p->dst, p->src, PKT_ICMP_TIME_EXCEEDED, 0, q);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
	w_output(w, m, r, p->src);
}

struct w_port_ctx {
	const struct conntrack *ct;
	const struct pkt_ip4 *p;
	uint32_t backend;
	uint32_t snat;
	uint16_t bport;
};

static bool
w_port_in_use(void *ctx, uint16_t port)
{
	const struct w_port_ctx *c = ctx;
	uint16_t lport = rte_cpu_to_be_16(port);

	/* the reply key may not equal this flow's own client key either */
	if (c->backend == c->p->src && c->snat == c->p->dst && c->bport == c->p->sport &&
	    lport == c->p->dport)
		return true;
	return conntrack_reply_in_use4(c->ct, c->backend, c->snat, c->bport, lport, c->p->proto);
}

static inline void w_hit(struct el_worker *w, struct rte_mbuf *m, uint8_t iface,
			 const struct pkt_ip4 *p, uint32_t val);

/*
 * What the chunk learned ahead about a packet that missed the table: its
 * frontend, its flow hash and, for a likely new flow, the SNAT port the walk
 * will try first and whether that port's reply tuple is free. The ports of
 * all misses of a chunk are checked in one bulk lookup, so a new flow does
 * not wait on its own cache misses in the hash table.
 */
struct w_plan {
	const struct el_snap_fe *fe;
	uint32_t hash;
	uint32_t port;	  /* SNAT_PORT_NONE, or known free when port_free */
	uint32_t backend; /* the reply tuple the port was checked for */
	uint32_t snat;
	uint32_t csig; /* conntrack_hash4() of the client key */
	uint32_t rsig; /* ... and of the reply key with @port */
	uint16_t bport;
	uint8_t has_fe;
	uint8_t has_hash;
	uint8_t port_free;
};

/* The SNAT address of a flow: one of the IPv4 ones, chosen by its hash. */
static inline int
w_snat_addr4(const struct el_snapshot *s, uint32_t hash, uint32_t *addr)
{
	unsigned n4 = 0;
	for (unsigned i = 0; i < s->n_snat; i++)
		n4 += s->snat[i].family == EL_AF_INET;
	if (n4 == 0)
		return -ENOENT;
	unsigned pick = (unsigned)(((uint64_t)hash * n4) >> 32);
	for (unsigned i = 0; i < s->n_snat; i++) {
		if (s->snat[i].family != EL_AF_INET)
			continue;
		if (pick-- == 0) {
			*addr = s->snat[i].v4;
			return 0;
		}
	}
	return -ENOENT;
}

/* True when a flow added since the bulk lookup has @k as its reply key. */
static inline bool
w_reply_created_here(const struct el_worker *w, const struct ct_key4 *k)
{
	if (unlikely(w->n_new > W_CHUNK))
		return true;
	if (!(w->new_rbloom & w_port_bit(k->dport)))
		return false;
	for (uint32_t i = 0; i < w->n_new; i++)
		if (memcmp(&w->new_rkeys[i], k, sizeof(*k)) == 0)
			return true;
	return false;
}

/* Take one new-flow token from @p src's bucket; false when it is empty.
 * A bucket idle for 2^32 ms (49 days) may see less refill than it earned. */
static inline bool
w_src_allow(struct el_worker *w, uint32_t src)
{
	return w_src_take(w, src);
}

/* Tell every peer which backend @p client got for @p svc_id, so a flow of
 * the same client that RSS hands to another worker keeps ClientIP affinity.
 * A full ring loses the update: that peer falls back to Maglev. */
static void
w_broadcast_aff(struct el_worker *w, uint32_t client, uint32_t svc_id, uint32_t backend_id,
		uint32_t timeout_ms)
{
	struct w_msg msg = {.type = W_MSG_AFF, .n = 1};
	msg.aff.client = client;
	msg.aff.svc_id = svc_id;
	msg.aff.backend_id = backend_id;
	msg.aff.timeout_ms = timeout_ms;
	for (unsigned i = 0; i < w->n_peers; i++) {
		struct el_worker *peer = w->peers[i];
		if (peer != NULL && peer != w)
			rte_ring_mp_enqueue_elem(peer->msg, &msg, sizeof(msg));
	}
}

static void
w_new_flow(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip4 *p,
	   const struct el_snap_fe *fe, const struct w_plan *plan)
{
	const struct el_snapshot *s = w->snap;

	if (unlikely(fe->svc >= s->n_svcs)) {
		w_drop(w, m, EL_DROP_NO_SERVICE);
		return;
	}
	const struct el_snap_svc *svc = s->svcs[fe->svc];

	if (p->proto == PKT_IPPROTO_TCP && !tcp_flags_opens(p->tcp_flags)) {
		w_drop(w, m, EL_DROP_NO_FLOW);
		return;
	}
	if (fe->kind == EL_FE_LB_INGRESS && svc->n_src_ranges > 0 && !w_src_allowed(svc, p->src)) {
		w_drop(w, m, EL_DROP_SRC_RANGE);
		return;
	}
	if (svc->n_backends == 0) {
		w_reject(w, m, p);
		return;
	}
	if (p->ttl <= 1) {
		w_ttl_exceeded(w, m, p);
		return;
	}
	if (conntrack_count(w->ct) >= conntrack_capacity(w->ct)) {
		w_drop(w, m, EL_DROP_FLOW_TABLE_FULL);
		return;
	}
	if (w->src_rate != 0 && !w_src_allow(w, p->src)) {
		w_drop(w, m, EL_DROP_SOURCE_RATE_LIMITED);
		return;
	}

	uint32_t hash = plan != NULL && plan->has_hash
			    ? plan->hash
			    : worker_flow_hash4(p->src, p->sport, p->dst, p->dport, p->proto);
	const struct el_snap_backend *be = NULL;
	uint32_t bid;
	if (svc->affinity && conntrack_aff_lookup4(w->ct, p->src, svc->id, w->now, &bid) == 0)
		be = w_find_backend(svc, bid);
	if (be == NULL) {
		if (unlikely(svc->maglev_size == 0 || svc->maglev == NULL)) {
			w_drop(w, m, EL_DROP_NO_ENDPOINT);
			return;
		}
		uint32_t i = maglev_lookup(svc->maglev, svc->maglev_size, hash);
		if (unlikely(i >= svc->n_backends)) {
			w_drop(w, m, EL_DROP_NO_ENDPOINT);
			return;
		}
		be = &svc->backends[i];
	}
	if (unlikely(be->ip.family != EL_AF_INET)) {
		w_drop(w, m, EL_DROP_NO_ENDPOINT);
		return;
	}

	const struct w_route_cache rt = w_route4_slot(w, be->ip.v4);
	if (rt.route == 0) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	const struct el_snap_route *r = &s->routes[rt.route - 1];

	uint32_t snat;
	if (w_snat_addr4(s, hash, &snat) != 0) {
		w_drop(w, m, EL_DROP_NO_SNAT_PORT);
		return;
	}

	/* SNAT port whose reply comes back here */
	struct w_port_ctx pc = {
	    .ct = w->ct, .p = p, .backend = be->ip.v4, .snat = snat, .bport = be->port};
	const struct snat_port_rss *rss = r->iface < EL_SNAP_MAX_IFACES ? w->rss[r->iface] : NULL;
	uint32_t known_free = SNAT_PORT_NONE;
	if (plan != NULL && plan->port_free && plan->backend == be->ip.v4 && plan->snat == snat &&
	    plan->bport == be->port) {
		/* checked free before this chunk added flows: not if one of
		 * those took the same reply tuple, or it is our client tuple */
		struct ct_key4 rk = {.src = be->ip.v4,
				     .dst = snat,
				     .sport = be->port,
				     .dport = rte_cpu_to_be_16((uint16_t)plan->port),
				     .proto = p->proto};
		if (!w_reply_created_here(w, &rk) &&
		    !(rk.src == p->src && rk.dst == p->dst && rk.sport == p->sport &&
		      rk.dport == p->dport))
			known_free = plan->port;
	}
	uint16_t port;
	int rc;
	if (rss != NULL) {
		uint32_t base =
		    snat_port_rss_base(rss, be->ip.v4, snat, rte_be_to_cpu_16(be->port));
		rc = snat_port_pick(&w->rss_cur, rss, base, w_port_in_use, &pc, known_free, &port);
	} else {
		rc = snat_port_pick(&w->part_cur, NULL, 0, w_port_in_use, &pc, known_free, &port);
	}
	if (rc != 0) {
		w_drop(w, m, EL_DROP_NO_SNAT_PORT);
		return;
	}

	struct ct_flow4 f = {
	    .client = p->src,
	    .frontend = p->dst,
	    .snat = snat,
	    .backend = be->ip.v4,
	    .cport = p->sport,
	    .fport = p->dport,
	    .sport = rte_cpu_to_be_16(port),
	    .bport = be->port,
	    .last_ms = w->now32,
	    .proto = p->proto,
	};
	struct ct_meta meta = {
	    .svc_id = svc->id,
	    .backend_id = be->id,
	    .created_s = (uint32_t)(w->now / 1000),
	};
	if (p->proto == PKT_IPPROTO_TCP) {
		tcp_state_track_init(&f.tcp);
		tcp_state_track_update(&f.tcp, p->tcp_flags, true);
	} else {
		f.tcp.state = EL_CT_UDP;
		f.tcp.fin_dir = TCP_STATE_FIN_NONE;
	}
	uint32_t idx;
	struct ct_key4 key;
	uint32_t csig, rsig;
	if (plan != NULL && plan->has_fe) {
		csig = plan->csig;
	} else {
		conntrack_client_key4(&f, &key);
		csig = conntrack_hash4(&key);
	}
	if (known_free != SNAT_PORT_NONE && port == known_free) {
		rsig = plan->rsig;
	} else {
		conntrack_reply_key4(&f, &key);
		rsig = conntrack_hash4(&key);
	}
	/* the client key missed the lookup (and the re-lookup after flows were
	 * added in this chunk); the port walk checked the reply key */
	rc = conntrack_add4_sig(w->ct, &f, &meta, CT_ADD_KEYS_CHECKED, csig, rsig, &idx);
	if (rc != 0) {
		w_drop(w, m, rc == -ENOSPC ? EL_DROP_FLOW_TABLE_FULL : EL_DROP_NO_SNAT_PORT);
		return;
	}
	w->new_bloom |= w_key_bit(f.client, f.cport, f.fport);
	w->new_rbloom |= w_port_bit(f.sport);
	if (w->n_new < W_CHUNK) {
		conntrack_client_key4(&f, &w->new_keys[w->n_new]);
		conntrack_reply_key4(&f, &w->new_rkeys[w->n_new]);
	}
	w->n_new++; /* past W_CHUNK (cannot happen: one flow per packet), always look */
	if (svc->affinity) {
		uint32_t tmo = svc->affinity_timeout >= W_MAX_TIMEOUT_MS / 1000
				   ? W_MAX_TIMEOUT_MS
				   : svc->affinity_timeout * 1000u;
		conntrack_aff_update4(w->ct, p->src, svc->id, be->id, tmo, w->now);
		if (w->n_peers > 1)
			w_broadcast_aff(w, p->src, svc->id, be->id, tmo);
	}
	w->stats.flows_created++;
	w->stats.flows_active++;
	struct w_svcstat *st = svcstat_get(w, svc->id);
	if (st != NULL) {
		st->created++;
		st->active++;
	}

	nat4(ip_hdr(m), p, snat, f.sport, be->ip.v4, be->port);
	w_output_rc(w, m, rt, be->ip.v4);
}

/* True when a flow added since the bulk lookup has @p's tuple as its client
 * key. Comparing with the few keys added is cheaper than a hash lookup. */
static inline bool
w_created_here(const struct el_worker *w, const struct pkt_ip4 *p)
{
	if (unlikely(w->n_new > W_CHUNK))
		return true;
	if (!(w->new_bloom & w_key_bit(p->src, p->sport, p->dport)))
		return false;
	for (uint32_t i = 0; i < w->n_new; i++) {
		const struct ct_key4 *k = &w->new_keys[i];
		if (k->src == p->src && k->sport == p->sport && k->dst == p->dst &&
		    k->dport == p->dport && k->proto == p->proto)
			return true;
	}
	return false;
}

/*
 * Sources no new flow is opened for (RFC 1812 section 5.3.7, RFC 6890):
 * "this network" 0/8, loopback 127/8, link-local 169.254/16 (RFC 3927: never
 * forwarded off its link), multicast 224/4, the reserved 240/4
 * with the limited broadcast, an address edgelb owns (interface, VIP, SNAT
 * address), and the directed broadcast of an interface prefix (/30 or
 * shorter: /31 and /32 have none, RFC 3021).
 */
static bool
w_martian4(const struct el_snapshot *s, uint32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src), top = a >> 24;

	if (top == 0 || top == 127 || top >= 224 || (a >> 16) == 0xa9fe)
		return true;
	struct el_ip ip = el_ip4(src);
	if (snapshot_owned_lookup(s, &ip) != NULL)
		return true;
	for (unsigned i = 0; i < s->n_ifaces && i < EL_SNAP_MAX_IFACES; i++) {
		const struct el_snap_iface *ifc = &s->ifaces[i];
		for (unsigned j = 0; j < ifc->n_addrs && j < EL_CFG_MAX_ADDRS; j++) {
			const struct el_cidr *c = &ifc->addrs[j];
			if (c->addr.family == EL_AF_INET && c->len <= 30 &&
			    a == (rte_be_to_cpu_32(c->addr.v4) | (~0u >> c->len)))
				return true;
		}
	}
	return false;
}

/* A packet that matched no flow. */
static void
w_miss(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip4 *p,
       bool relookup, const struct w_plan *plan)
{
	const struct el_snapshot *s = w->snap;

	if (relookup && w->n_new != 0 && w_created_here(w, p)) {
		/* an earlier packet of this chunk created the flow */
		struct ct_key4 k = {.src = p->src,
				    .dst = p->dst,
				    .sport = p->sport,
				    .dport = p->dport,
				    .proto = p->proto};
		uint32_t val;
		if (conntrack_lookup4(w->ct, &k, &val) == 0) {
			w_hit(w, m, iface, p, val);
			return;
		}
	}

	if (unlikely(p->sport == 0 || p->dport == 0)) {
		w_drop(w, m, EL_DROP_BAD_PORT);
		return;
	}
	bool snat = w_is_snat(w, p->dst);
	unsigned owner;
	if (snat && w_handoff_owner(w, iface, p->dport, &owner)) {
		w_handoff(w, owner, iface, m);
		return;
	}
	struct el_ip d = el_ip4(p->dst);
	const struct el_snap_fe *fe =
	    plan != NULL && plan->has_fe ? plan->fe : snapshot_fe_lookup(s, &d, p->dport, p->proto);
	if (fe != NULL) {
		if (unlikely(w_martian4(s, p->src))) {
			w_drop(w, m, EL_DROP_MARTIAN);
			return;
		}
		w_new_flow(w, m, p, fe, plan);
		return;
	}
	if (snat) {
		w_drop(w, m, EL_DROP_UNKNOWN_REPLY);
		return;
	}
	w_drop(w, m, snapshot_owned_lookup(s, &d) != NULL ? EL_DROP_NO_SERVICE : EL_DROP_NOT_OURS);
}

/* A client SYN on a flow in TIME_WAIT or CLOSE (port reuse): keep the flow
 * when its service still lists its backend, else let it be replaced. */
static bool
w_reopen(struct el_worker *w, uint32_t idx, const struct pkt_ip4 *p)
{
	struct ct_flow4 *f = conntrack_flow4(w->ct, idx);
	struct ct_meta *meta = conntrack_meta4(w->ct, idx);
	const struct el_snapshot *s = w->snap;
	struct el_ip d = el_ip4(p->dst);
	const struct el_snap_fe *fe = snapshot_fe_lookup(s, &d, p->dport, p->proto);

	if (fe == NULL || fe->svc >= s->n_svcs)
		return false;
	const struct el_snap_svc *svc = s->svcs[fe->svc];
	if (svc->id != meta->svc_id)
		return false;
	const struct el_snap_backend *be = w_find_backend(svc, meta->backend_id);
	if (be == NULL || be->ip.family != EL_AF_INET || be->ip.v4 != f->backend ||
	    be->port != f->bport)
		return false;
	tcp_state_track_init(&f->tcp);
	meta->created_s = (uint32_t)(w->now / 1000);
	w->stats.flows_created++;
	struct w_svcstat *st = svcstat_find(w, meta->svc_id);
	if (st != NULL)
		st->created++;
	return true;
}

/* TCP state of a flow after a segment; a plain ACK on an established flow
 * (nearly every segment) changes nothing and skips the state machine. */
static inline void
w_tcp_track(struct ct_flow4 *f, uint8_t flags, bool from_client)
{
	if (likely(f->tcp.state == EL_CT_ESTABLISHED &&
		   !(flags & (EL_TCP_SYN | EL_TCP_FIN | EL_TCP_RST))))
		return;
	tcp_state_track_update(&f->tcp, flags, from_client);
}

/* Send @p m, a packet of flow @p f NATed toward its backend, along the
 * backend's route; remember the egress in the flow when it is a static
 * neighbour (w_net_check() forgets it when routes or neighbours change). */
static __rte_noinline void
w_route_out_flow(struct el_worker *w, struct rte_mbuf *m, struct ct_flow4 *f)
{
	struct w_route_cache c = w_route4_slot(w, f->backend);
	if (unlikely(c.route == 0)) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	w_egress_remember(w, &f->flags, c.neigh);
	w_output_rc(w, m, c, f->backend);
}

/* The rare turns of a hit, out of line: the flow is gone (expired,
 * flushed or not re-openable) and the packet goes the miss way. */
static __rte_noinline void
w_hit_gone(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip4 *p,
	   uint32_t idx)
{
	w_flow_del(w, idx);
	w_miss(w, m, iface, p, false, NULL);
}

static __rte_noinline void
w_hit_reply_flushed(struct el_worker *w, struct rte_mbuf *m, uint32_t idx)
{
	w_flow_del(w, idx);
	w_drop(w, m, EL_DROP_UNKNOWN_REPLY);
}

/* A packet of a tracked flow: inlined into the chunk loop, nearly every
 * packet takes it. */
static __rte_always_inline void
w_hit(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip4 *p, uint32_t val)
{
	uint32_t idx = val >> 1;
	struct ct_flow4 *f = conntrack_flow4(w->ct, idx);

	if (unlikely(w_idle_expired(w, f))) {
		w->stats.flows_expired++;
		w_hit_gone(w, m, iface, p, idx);
		return;
	}
	if ((val & 1) == CT_DIR_CLIENT) {
		if (p->proto == PKT_IPPROTO_UDP) {
			if (unlikely(w->n_flush != 0) &&
			    flush_has(w, conntrack_meta4(w->ct, idx)->backend_id)) {
				w_hit_gone(w, m, iface, p, idx);
				return;
			}
		} else if (unlikely(p->tcp_flags & EL_TCP_SYN) && tcp_flags_opens(p->tcp_flags) &&
			   (f->tcp.state == EL_CT_TIME_WAIT || f->tcp.state == EL_CT_CLOSE)) {
			if (!w_reopen(w, idx, p)) {
				w_hit_gone(w, m, iface, p, idx);
				return;
			}
		}
		if (unlikely(p->ttl <= 1)) {
			w_ttl_exceeded(w, m, p);
			return;
		}
		if (p->proto == PKT_IPPROTO_TCP)
			w_tcp_track(f, p->tcp_flags, true);
		f->last_ms = w->now32;
		nat4(ip_hdr(m), p, f->snat, f->sport, f->backend, f->bport);
		if (!w_egress_out(w, m, f->flags, PKT_ETHERTYPE_IPV4))
			w_route_out_flow(w, m, f);
	} else {
		/* a reply comes in where its backend is routed (client-side
		 * packets may come in anywhere: pods use ClusterIPs too) */
		unsigned eg = w_flow_egress(f->flags);
		if (unlikely(eg != 0 ? w_egress_iface(w, eg) != iface
				     : !w_rpf4_ok(w, f->backend, iface))) {
			w_drop(w, m, EL_DROP_WRONG_IFACE);
			return;
		}
		if (p->proto == PKT_IPPROTO_UDP && unlikely(w->n_flush != 0) &&
		    flush_has(w, conntrack_meta4(w->ct, idx)->backend_id)) {
			w_hit_reply_flushed(w, m, idx);
			return;
		}
		if (unlikely(p->ttl <= 1)) {
			w_ttl_exceeded(w, m, p);
			return;
		}
		if (p->proto == PKT_IPPROTO_TCP)
			w_tcp_track(f, p->tcp_flags, false);
		f->last_ms = w->now32;
		nat4(ip_hdr(m), p, f->frontend, f->fport, f->client, f->cport);
		w_route_out(w, m, f->client);
	}
}

/* ---- the burst ---- */

/*
 * Look ahead at the packets of a chunk that missed the table (bits of
 * @p miss): frontend and flow hash (prefetching the Maglev slot), then, in
 * packet order, the backend, SNAT address and the SNAT port the walk of each
 * likely new flow will try first; one bulk lookup tells which of those
 * ports are free. Services with affinity are left to the slow path.
 */
static void
w_plan_misses(struct el_worker *w, const struct pkt_ip4 *info, const uint32_t *sig, uint64_t miss,
	      struct w_plan *plan)
{
	const struct el_snapshot *s = w->snap;
	struct ct_key4 rk[W_CHUNK];
	const struct ct_key4 *rkp[W_CHUNK];
	uint32_t rsig[W_CHUNK];
	uint32_t val[W_CHUNK];
	uint8_t rj[W_CHUNK];
	const struct snat_port_rss *rrss[W_CHUNK];
	uint32_t rbase[W_CHUNK];
	unsigned nr = 0;
	uint64_t b;

	for (b = miss; b != 0; b &= b - 1) {
		unsigned j = (unsigned)__builtin_ctzll(b);
		const struct pkt_ip4 *p = &info[j];
		struct w_plan *pl = &plan[j];
		struct el_ip d = el_ip4(p->dst);

		pl->fe = snapshot_fe_lookup(s, &d, p->dport, p->proto);
		pl->has_fe = 1;
		pl->csig = sig[j];
		pl->has_hash = 0;
		pl->port = SNAT_PORT_NONE;
		pl->port_free = 0;
		if (pl->fe == NULL || pl->fe->svc >= s->n_svcs)
			continue;
		const struct el_snap_svc *svc = s->svcs[pl->fe->svc];
		if (svc->n_backends == 0 || svc->maglev_size == 0 || svc->maglev == NULL ||
		    (p->proto == PKT_IPPROTO_TCP && !tcp_flags_opens(p->tcp_flags)))
			continue;
		pl->hash = worker_flow_hash4(p->src, p->sport, p->dst, p->dport, p->proto);
		pl->has_hash = 1;
		if (!svc->affinity)
			rte_prefetch0(&svc->maglev[((uint64_t)pl->hash * svc->maglev_size) >> 32]);
	}

	struct snat_port_cursor part = w->part_cur, rss_cur = w->rss_cur;
	for (b = miss; b != 0; b &= b - 1) {
		unsigned j = (unsigned)__builtin_ctzll(b);
		const struct pkt_ip4 *p = &info[j];
		struct w_plan *pl = &plan[j];
		if (!pl->has_hash)
			continue;
		const struct el_snap_svc *svc = s->svcs[pl->fe->svc];
		if (svc->affinity)
			continue;
		uint32_t i = maglev_lookup(svc->maglev, svc->maglev_size, pl->hash);
		if (i >= svc->n_backends || svc->backends[i].ip.family != EL_AF_INET)
			continue;
		const struct el_snap_backend *be = &svc->backends[i];
		const struct el_snap_route *r = w_route4(w, be->ip.v4);
		uint32_t snat;
		if (r == NULL || w_snat_addr4(s, pl->hash, &snat) != 0)
			continue;
		const struct snat_port_rss *rss =
		    r->iface < EL_SNAP_MAX_IFACES ? w->rss[r->iface] : NULL;
		uint32_t base = rss != NULL ? snat_port_rss_base(rss, be->ip.v4, snat,
								 rte_be_to_cpu_16(be->port))
					    : 0;
		uint16_t port;
		if (snat_port_peek(rss != NULL ? &rss_cur : &part, rss, base, &port) != 0)
			continue;
		rrss[nr] = rss;
		rbase[nr] = base;
		pl->port = port;
		pl->backend = be->ip.v4;
		pl->snat = snat;
		pl->bport = be->port;
		rk[nr] = (struct ct_key4){.src = be->ip.v4,
					  .dst = snat,
					  .sport = be->port,
					  .dport = rte_cpu_to_be_16(port),
					  .proto = p->proto};
		rkp[nr] = &rk[nr];
		rsig[nr] = conntrack_hash4(&rk[nr]);
		pl->rsig = rsig[nr];
		rj[nr] = (uint8_t)j;
		nr++;
	}
	if (nr == 0)
		return;

	uint64_t used;
	conntrack_lookup4_bulk_sig(w->ct, rkp, rsig, nr, &used, val);
	for (unsigned t = 0; t < nr; t++)
		plan[rj[t]].port_free = !((used >> t) & 1);
	if (used == 0)
		return;

	/* A planned port that is taken (as often as the ports of its reply
	 * tuple are in use) would leave its flow to check ports one lookup at
	 * a time: give those flows the next port of the cursor and check them
	 * in one more bulk lookup. */
	unsigned n2 = 0;
	for (unsigned t = 0; t < nr; t++) {
		if (!((used >> t) & 1))
			continue;
		struct w_plan *pl = &plan[rj[t]];
		uint16_t port;
		if (snat_port_peek(rrss[t] != NULL ? &rss_cur : &part, rrss[t], rbase[t], &port) !=
		    0)
			continue;
		pl->port = port;
		rk[n2] = rk[t];
		rk[n2].dport = rte_cpu_to_be_16(port);
		rkp[n2] = &rk[n2];
		rsig[n2] = conntrack_hash4(&rk[n2]);
		pl->rsig = rsig[n2];
		rj[n2] = rj[t];
		n2++;
	}
	if (n2 == 0)
		return;
	conntrack_lookup4_bulk_sig(w->ct, rkp, rsig, n2, &used, val);
	for (unsigned t = 0; t < n2; t++)
		plan[rj[t]].port_free = !((used >> t) & 1);
}

void
w_broadcast_neigh(struct el_worker *w, uint8_t iface, const struct el_ip *ip, const uint8_t mac[6])
{
	struct w_msg msg = {.type = W_MSG_NEIGH, .n = 1};
	msg.neigh.ip = *ip;
	memcpy(msg.neigh.mac, mac, 6);
	msg.neigh.iface = iface;
	for (unsigned i = 0; i < w->n_peers; i++) {
		struct el_worker *peer = w->peers[i];
		if (peer == NULL || peer == w)
			continue;
		/* a full ring only costs the peer its own ARP exchange */
		rte_ring_mp_enqueue_elem(peer->msg, &msg, sizeof(msg));
	}
}

static void
w_arp(struct el_worker *w, uint8_t iface, struct rte_mbuf *m)
{
	struct el_ip ip;
	uint8_t mac[6];
	int learned = 0;

	neigh_arp_input(w->neigh, w->snap, iface, m, w->now, &w->ntx, &ip, mac, &learned);
	if (learned && w->n_peers > 1)
		w_broadcast_neigh(w, iface, &ip, mac);
}

static void
w_chunk(struct el_worker *w, uint8_t iface, struct rte_mbuf **pkts, uint16_t n, bool count_rx)
{
	struct pkt_ip4 info[W_CHUNK];
	struct ct_key4 keys[W_CHUNK];
	const struct ct_key4 *kp[W_CHUNK];
	struct rte_mbuf *km[W_CHUNK];
	uint32_t val[W_CHUNK];
	uint32_t sig[W_CHUNK];
	unsigned k = 0;
	/* IPv6 TCP and UDP, looked up together after the loop */
	struct pkt_ip6 info6[W_CHUNK];
	struct ct_key6 keys6[W_CHUNK];
	struct rte_mbuf *m6[W_CHUNK];
	uint32_t sig6[W_CHUNK];
	unsigned k6 = 0;
	uint64_t rx_bytes = 0;
	/* the interface's MAC and a mask of its 6 bytes, as 8-byte words in
	 * memory order */
	uint64_t mac48 = 0, mask48 = 0;
	memcpy(&mac48, w->snap->ifaces[iface].mac, 6);
	memset(&mask48, 0xff, 6);

	for (uint16_t i = 0; i < W_PREFETCH && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + W_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + W_PREFETCH], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);

		/* a chain that one buffer cannot hold is larger than any MTU
		 * the port was set up for */
		if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
			w_drop(w, m, EL_DROP_OVERSIZE);
			continue;
		}
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m);
		uint16_t type = pkt_eth_type(frame, len);

		/* Destination MAC: one compare when it is ours (an 8-byte read:
		 * the data room always holds 8 bytes, even for a shorter
		 * frame, which the truncation checks then drop). Otherwise
		 * IPv4 is refused, and so is any type sent to another host's
		 * unicast address; group addresses stay open to ARP and IPv6
		 * (neighbour discovery). */
		if (unlikely(((bytes_rd64(frame) ^ mac48) & mask48) != 0) && len >= PKT_ETH_LEN &&
		    (type == PKT_ETHERTYPE_IPV4 || !(frame[0] & 1))) {
			w_drop(w, m, EL_DROP_NOT_OUR_MAC);
			continue;
		}

		if (unlikely(type != PKT_ETHERTYPE_IPV4)) {
			if (type == PKT_ETHERTYPE_ARP)
				w_arp(w, iface, m);
			else if (type == PKT_ETHERTYPE_IPV6) {
				if (w6_parse(w, m, iface, &info6[k6], &keys6[k6], &sig6[k6]))
					m6[k6++] = m;
			} else if (len < PKT_ETH_LEN)
				w_drop(w, m, EL_DROP_TRUNCATED);
			else
				w_drop(w, m, EL_DROP_NOT_IP);
			continue;
		}

		struct pkt_ip4 *p = &info[k];
		enum el_drop reason;
		if (unlikely(pkt_ip4_parse_inline(frame, len, p, &reason) != 0)) {
			w_drop(w, m, reason);
			continue;
		}
		if (unlikely(len > PKT_ETH_LEN + (uint32_t)p->tot_len))
			rte_pktmbuf_trim(m, (uint16_t)(len - PKT_ETH_LEN - p->tot_len));

		if (likely(p->proto == PKT_IPPROTO_TCP || p->proto == PKT_IPPROTO_UDP)) {
			struct ct_key4 *key = &keys[k];
			const uint8_t *ip = frame + PKT_ETH_LEN;
			sig[k] = conntrack_key4_from_pkt(key, ip, ip + p->l3_len, p->proto);
			kp[k] = key;
			km[k] = m;
			k++;
		} else if (p->proto == PKT_IPPROTO_ICMP) {
			w_icmp(w, m, iface, p);
		} else {
			struct el_ip d = el_ip4(p->dst);
			w_drop(w, m,
			       snapshot_owned_lookup(w->snap, &d) != NULL
				   ? EL_DROP_UNSUPPORTED_PROTO
				   : EL_DROP_NOT_OURS);
		}
	}
	if (count_rx && iface < EL_SNAP_MAX_IFACES) {
		w->stats.rx_pkts[iface] += n;
		w->stats.rx_bytes[iface] += rx_bytes;
	}
	if (k6 != 0)
		w6_batch(w, iface, m6, info6, keys6, sig6, k6);
	if (k == 0)
		return;

	uint64_t hit;
	conntrack_lookup4_bulk_sig(w->ct, kp, sig, k, &hit, val);
	w->n_new = 0;
	w->new_bloom = 0;
	w->new_rbloom = 0;
	w->deleted = false;

	struct w_plan plan[W_CHUNK];
	uint64_t miss = ~hit & (k == 64 ? ~0ull : (1ull << k) - 1);
	if (miss != 0)
		w_plan_misses(w, info, sig, miss, plan);

	for (unsigned j = 0; j < k; j++) {
		struct rte_mbuf *m = km[j];
		if (likely((hit >> j) & 1)) {
			uint32_t v = val[j];
			if (unlikely(w->deleted) && conntrack_lookup4(w->ct, kp[j], &v) != 0) {
				w_miss(w, m, iface, &info[j], false, NULL);
				continue;
			}
			w_hit(w, m, iface, &info[j], v);
		} else {
			w_miss(w, m, iface, &info[j], true, &plan[j]);
		}
	}
}

static void
w_burst(struct el_worker *w, const struct el_snapshot *snap, uint8_t iface, struct rte_mbuf **pkts,
	uint16_t n, uint64_t now_ms, bool count_rx)
{
	w->snap = snap;
	w->now = now_ms;
	w->now32 = (uint32_t)now_ms;
	if (unlikely(snap == NULL || iface >= EL_SNAP_MAX_IFACES)) {
		rte_pktmbuf_free_bulk(pkts, n);
		w->stats.drops[EL_DROP_NOT_OURS] += n;
		return;
	}
	w_snap_sync(w, snap);
	while (n > 0) {
		uint16_t c = n > W_CHUNK ? W_CHUNK : n;
		w_chunk(w, iface, pkts, c, count_rx);
		pkts += c;
		n -= c;
	}
}

void
worker_process_burst(struct el_worker *w, const struct el_snapshot *snap, uint8_t iface,
		     struct rte_mbuf **pkts, uint16_t n, uint64_t now_ms)
{
	w->in_handoff = false;
	w_burst(w, snap, iface, pkts, n, now_ms, true);
	w_tx_flush(w);
}

/* ---- housekeeping ---- */

/* Expire idle flows by time, not by call: see w_sweep_slots(). A hit on an
 * expired flow that the sweep has not reached yet treats it as expired
 * (w_hit), so the sweep's pace only decides when the memory comes back. */
static void
w_sweep(struct el_worker *w)
{
	uint64_t n = w_sweep_slots(w->now, conntrack_capacity(w->ct), &w->sweep_ms, &w->sweep_debt);
	while (n > 0) {
		unsigned b = n < CT_SWEEP_MAX ? (unsigned)n : CT_SWEEP_MAX;
		conntrack_sweep4(w->ct, b, w->timeout_ms, w->now32,
				 w->n_flush != 0 ? w_sweep_flushed : NULL, w_sweep_gone, w);
		n -= b;
	}
}

static void
w_drain_messages(struct el_worker *w)
{
	struct w_msg msgs[W_MSG_BURST];
	unsigned n =
	    rte_ring_sc_dequeue_burst_elem(w->msg, msgs, sizeof(msgs[0]), W_MSG_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct w_msg *msg = &msgs[i];
		if (msg->type == W_MSG_FLUSH) {
			for (uint32_t j = 0; j < msg->n && j < W_MSG_IDS; j++)
				flush_add(w, msg->ids[j]);
		} else if (msg->type == W_MSG_NEIGH && w->snap != NULL) {
			neigh_learn(w->neigh, w->snap, msg->neigh.iface, &msg->neigh.ip,
				    msg->neigh.mac, w->now, &w->ntx);
		} else if (msg->type == W_MSG_AFF) {
			conntrack_aff_update4(w->ct, msg->aff.client, msg->aff.svc_id,
					      msg->aff.backend_id, msg->aff.timeout_ms, w->now);
		} else if (msg->type == W_MSG_AFF6) {
			w6_aff_update(w, msg);
		}
	}
}

static void
w_drain_handoffs(struct el_worker *w)
{
	struct w_handoff h[W_HANDOFF_BURST];
	struct rte_mbuf *run[W_HANDOFF_BURST];
	unsigned n =
	    rte_ring_sc_dequeue_burst_elem(w->handoff, h, sizeof(h[0]), W_HANDOFF_BURST, NULL);
	unsigned i = 0;

	if (n == 0)
		return;
	w->in_handoff = true;
	while (i < n) {
		uint8_t iface = (uint8_t)h[i].iface;
		uint16_t r = 0;
		while (i < n && h[i].iface == iface)
			run[r++] = h[i++].m;
		w_burst(w, w->snap, iface, run, r, w->now, false);
	}
	w->in_handoff = false;
}

void
worker_poll_housekeeping(struct el_worker *w, const struct el_snapshot *snap, uint64_t now_ms)
{
	w->snap = snap;
	w->now = now_ms;
	w->now32 = (uint32_t)now_ms;

	if (snap != NULL)
		w_snap_sync(w, snap);
	w_drain_messages(w);
	if (snap != NULL) {
		w_drain_handoffs(w);
		w_sweep(w);
		conntrack_aff_sweep4(w->ct, W_AFF_SWEEP_BUDGET, now_ms);
		w6_housekeeping(w);
		neigh_housekeeping(w->neigh, snap, now_ms, &w->ntx);
	}
	if (w->n_flush != 0)
		flush_expire(w);
	w_tx_flush(w);
}

/* ---- life cycle, messages, statistics ---- */

void
worker_destroy(struct el_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < EL_SNAP_MAX_IFACES; i++) {
		if (w->tx_n[i])
			rte_pktmbuf_free_bulk(w->tx_m[i], w->tx_n[i]);
		w->tx_n[i] = 0;
		rte_free(w->rss[i]);
	}
	if (w->handoff != NULL) {
		struct w_handoff h;
		while (rte_ring_sc_dequeue_elem(w->handoff, &h, sizeof(h)) == 0)
			rte_pktmbuf_free(h.m);
		rte_ring_free(w->handoff);
	}
	rte_ring_free(w->msg);
	neigh_destroy(w->neigh);
	conntrack_destroy(w->ct);
	rte_free(w->net_seen);
	rte_free(w->svc_ids);
	rte_free(w->svc_keep);
	rte_free(w);
}

struct el_worker *
worker_create(const struct el_worker_conf *conf)
{
	if (conf == NULL || conf->tx == NULL || conf->n_workers == 0 ||
	    conf->n_workers > EL_MAX_WORKERS || conf->index >= conf->n_workers ||
	    conf->max_flows == 0 || conf->new_flows_per_source > W_SRC_MAX_RATE ||
	    conf->new_flows_burst > W_SRC_MAX_RATE ||
	    conf->icmp_errors_per_second > W_SRC_MAX_RATE ||
	    conf->icmp_errors_burst > W_SRC_MAX_RATE) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct el_worker *w =
	    rte_zmalloc_socket("el_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->conf = *conf;
	w->src_rate = conf->new_flows_per_source;
	w->src_cap = (conf->new_flows_burst != 0 ? conf->new_flows_burst : w->src_rate) * 1000u;
	w->src_seed = (uint32_t)rte_rand();
	for (unsigned i = 0; i < RTE_DIM(w->src); i++)
		w->src[i].tokens = w->src_cap; /* a source starts with a full bucket */
	w->err_rate = conf->icmp_errors_per_second;
	w->err_cap = (conf->icmp_errors_burst != 0 ? conf->icmp_errors_burst : w->err_rate) * 1000u;
	w->err_tokens = w->err_cap;
	if (w->conf.snat_port_min == 0 && w->conf.snat_port_max == 0) {
		w->conf.snat_port_min = 1024;
		w->conf.snat_port_max = 65535;
	}
	if (snat_port_part_init(&w->part, conf->n_workers, w->conf.snat_port_min,
				w->conf.snat_port_max) != 0)
		goto inval;
	snat_port_cursor_init(&w->part_cur, w->part.lo[conf->index], w->part.hi[conf->index]);
	snat_port_cursor_init(&w->rss_cur, w->conf.snat_port_min, w->conf.snat_port_max);
	for (unsigned i = 0; i < EL_SNAP_MAX_IFACES; i++) {
		const struct el_worker_rss *r = &conf->rss[i];
		if (!r->enabled)
			continue;
		w->rss[i] = rte_zmalloc_socket("el_worker_rss", sizeof(*w->rss[i]),
					       RTE_CACHE_LINE_SIZE, conf->socket_id);
		if (w->rss[i] == NULL)
			goto nomem;
		if (snat_port_rss_init(w->rss[i], r->key, r->key_len, r->reta, r->reta_size,
				       (uint16_t)conf->index) != 0)
			goto inval;
	}

	uint32_t aff = conf->max_flows < W_AFF_MAX ? conf->max_flows : W_AFF_MAX;
	w->ct = conntrack_create(conf->max_flows, aff, conf->socket_id);
	if (w->ct == NULL)
		goto fail; /* rte_errno set */
	if (w6_create(w) != 0)
		goto fail; /* rte_errno set */
	w->neigh = neigh_create(W_NEIGH_CAP, conf->socket_id);
	if (w->neigh == NULL)
		goto fail;
	w->svc_ids =
	    rte_malloc_socket("el_worker_svc", W_SVC_SLOTS * sizeof(uint32_t), 0, conf->socket_id);
	w->svc_keep = rte_malloc_socket("el_worker_svc", W_SVC_SLOTS * sizeof(struct w_svcstat), 0,
					conf->socket_id);
	if (w->svc_ids == NULL || w->svc_keep == NULL)
		goto nomem;

	char name[RTE_RING_NAMESIZE];
	uint32_t seq = __atomic_fetch_add(&w_name_seq, 1, __ATOMIC_RELAXED);
	snprintf(name, sizeof(name), "el_wmsg_%u", seq);
	w->msg = rte_ring_create_elem(name, sizeof(struct w_msg), W_MSG_RING, conf->socket_id,
				      RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "el_whof_%u", seq);
	w->handoff = rte_ring_create_elem(name, sizeof(struct w_handoff), W_HANDOFF_RING,
					  conf->socket_id, RING_F_SC_DEQ);
	if (w->msg == NULL || w->handoff == NULL)
		goto fail;

	w->ntx.send = ntx_send;
	w->ntx.drop = ntx_drop;
	w->ntx.ctx = w;
	w->ntx.pool = conf->pool;
	w->ntx.stats = &w->stats;
	return w;

inval:
	worker_destroy(w);
	rte_errno = EINVAL;
	return NULL;
nomem:
	worker_destroy(w);
	rte_errno = ENOMEM;
	return NULL;
fail : {
	int e = rte_errno ? rte_errno : ENOMEM;
	worker_destroy(w);
	rte_errno = e;
	return NULL;
}
}

void
worker_set_peers(struct el_worker *w, struct el_worker *const *peers, unsigned n)
{
	if (n > EL_MAX_WORKERS)
		n = EL_MAX_WORKERS;
	for (unsigned i = 0; i < n; i++)
		w->peers[i] = peers[i];
	w->n_peers = n;
}

int
worker_post_flush_backends(struct el_worker *w, const uint32_t *ids, unsigned n)
{
	struct w_msg msgs[16];

	while (n > 0) {
		unsigned cnt = 0;
		while (n > 0 && cnt < RTE_DIM(msgs)) {
			unsigned take = n < W_MSG_IDS ? n : W_MSG_IDS;
			memset(&msgs[cnt], 0, sizeof(msgs[cnt]));
			msgs[cnt].type = W_MSG_FLUSH;
			msgs[cnt].n = take;
			memcpy(msgs[cnt].ids, ids, take * sizeof(uint32_t));
			ids += take;
			n -= take;
			cnt++;
		}
		if (rte_ring_mp_enqueue_bulk_elem(w->msg, msgs, sizeof(msgs[0]), cnt, NULL) != cnt)
			return -ENOBUFS;
	}
	return 0;
}

void
worker_stats_read(const struct el_worker *w, struct el_worker_stats *out)
{
	memcpy(out, &w->stats, sizeof(*out));
}

void
worker_svc_stats(const struct el_worker *w, uint32_t svc_id, uint64_t *created, uint64_t *active)
{
	const struct w_svcstat *s = svcstat_find(w, svc_id);
	*created = s != NULL ? s->created : 0;
	*active = s != NULL ? s->active : 0;
}

unsigned
worker_conns(const struct el_worker *w, struct el_conn_info *out, unsigned max, uint64_t now_ms)
{
	uint32_t cap = conntrack_capacity(w->ct);
	uint32_t now32 = (uint32_t)now_ms, now_s = (uint32_t)(now_ms / 1000);
	unsigned n = 0;

	for (uint32_t i = 0; i < cap && n < max; i++) {
		struct ct_flow4 f = *conntrack_flow4(w->ct, i);
		if (!(f.flags & CT_F_USED))
			continue;
		struct ct_meta meta = *conntrack_meta4(w->ct, i);
		struct el_conn_info *c = &out[n++];
		memset(c, 0, sizeof(*c));
		c->client = el_ip4(f.client);
		c->frontend = el_ip4(f.frontend);
		c->snat = el_ip4(f.snat);
		c->backend = el_ip4(f.backend);
		c->cport = rte_be_to_cpu_16(f.cport);
		c->fport = rte_be_to_cpu_16(f.fport);
		c->sport = rte_be_to_cpu_16(f.sport);
		c->bport = rte_be_to_cpu_16(f.bport);
		c->proto = f.proto;
		c->state = f.tcp.state;
		c->svc_id = meta.svc_id;
		c->backend_id = meta.backend_id;
		c->age_s = now_s - meta.created_s;
		c->idle_s = (now32 - f.last_ms) / 1000;
	}
	return n + w6_conns(w, out + n, max - n, now_ms);
}

size_t
worker_bytes_per_flow(const struct el_worker *w)
{
	return conntrack_bytes_per_flow(w->ct);
}

unsigned
worker_neigh_pending(const struct el_worker *w)
{
	return neigh_pending(w->neigh);
}
