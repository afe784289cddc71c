/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker packet path (DESIGN.md section 2) for IPv6: FullNAT 6->6,
 * neighbour discovery, ICMPv6 echo and errors.
 *
 * worker.c hands every frame with EtherType 0x86dd of a chunk to
 * w6_parse(), then the chunk's TCP and UDP ones together to w6_batch(): one
 * bulk lookup, as IPv4 has, and routes as IPv4 finds them (w6_nexthop());
 * w6_input() does both for one frame. Per packet:
 *  - validation (pkt6.c: header, extension-header chain, martian
 *    addresses, L4 headers), trimming of Ethernet padding;
 *  - ICMPv6: Neighbor Solicitation / Advertisement to the neighbour module
 *    (RFC 4861); to an owned address: echo reply (RFC 4443), or an error
 *    (destination unreachable, packet too big, time exceeded, parameter
 *    problem) quoting a tracked flow, translated to the other side
 *    (icmp6.c);
 *  - TCP/UDP: the IPv6 half of the connection table (one
 *    conntrack_lookup6_bulk_sig() per chunk),
 *    keyed like IPv4 by the client tuple and the reply tuple. Hit: TCP
 *    state, rewrite, route, neighbour. Miss: frontend, then exactly the
 *    rules of IPv4 (worker.c): loadBalancerSourceRanges, reject without
 *    endpoints, ClientIP affinity, Maglev on worker_flow_hash6(), per-source
 *    new-flow limit (sources of one /64 share a bucket: a host usually holds
 *    a whole /64), an IPv6 SNAT address, a SNAT port steered by RSS
 *    (snat_port_rss_base6) or by partition with a hand-off ring, and the
 *    same drop reasons.
 *
 * Rewrites update the TCP/UDP checksum incrementally (RFC 1624) over the
 * 16-byte address changes; IPv6 has no header checksum. The hop limit is
 * decremented; a packet that arrives with hop limit 1 or 0 is dropped
 * (EL_DROP_TTL_EXCEEDED) and answered with an ICMPv6 time exceeded, as IPv4
 * does; that and the rejects share the worker's error bucket (worker_int.h).
 * Extension headers are forwarded unchanged.
 *
 * Counters (flows created / active, per-service, drops) are shared with
 * IPv4; flow indexes of the two families are separate spaces.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "edgelb/csum.h"
#include "edgelb/maglev.h"
#include "edgelb/tcp_state.h"
#include "edgelb/worker.h"

#include "bytes.h"
#include "conntrack.h"
#include "icmp6.h"
#include "neigh.h"
#include "pkt.h"
#include "pkt6.h"
#include "snat_port.h"
#include "worker_int.h"

uint32_t
worker_flow_hash6(const uint8_t client[16], uint16_t cport, const uint8_t frontend[16],
		  uint16_t fport, uint8_t proto)
{
	/* the 40 bytes as documented, read as 64-bit words for the CRC */
	uint8_t b[40] = {0};
	uint64_t w[5];
	uint32_t h = EL_FLOW_HASH_SEED;

	memcpy(b, client, 16);
	memcpy(b + 16, frontend, 16);
	memcpy(b + 32, &cport, 2);
	memcpy(b + 34, &fport, 2);
	b[36] = proto;
	memcpy(w, b, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
}

/* ---- addresses, routes, output ---- */

static inline uint8_t *
w6_ip_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
}

static inline struct el_ip
w6_ip(const uint8_t a[16])
{
	struct el_ip ip = {.family = EL_AF_INET6};
	memcpy(ip.v6, a, 16);
	return ip;
}

static inline bool
w6_eq(const uint8_t a[16], const uint8_t b[16])
{
	return memcmp(a, b, 16) == 0;
}

/* A route lookup's result: route index + 1 (0: no usable route) and its
 * next hop's static neighbour index + 1 (0: none). */
struct w6_hop {
	uint16_t route;
	uint16_t neigh;
};

/* Index + 1 of the route of @p a (the address as two words) in the worker's
 * copy of the snapshot's IPv6 routes, 0 when none matches. Only when
 * n_rt6 <= W_RT6_MAX. */
static inline unsigned
w6_rt_find(const struct el_worker *w, const uint64_t a[2])
{
	for (unsigned i = 0; i < w->n_rt6; i++)
		if ((a[0] & w->rt6_mask[i][0]) == w->rt6_net[i][0] &&
		    (a[1] & w->rt6_mask[i][1]) == w->rt6_net[i][1])
			return i + 1;
	return 0;
}

/* Index of snapshot_route_lookup()'s route for @p dst, SIZE_MAX when there
 * is none or its gateway is not IPv6. Out of line: off the fast path. */
static __rte_noinline size_t
w6_route_lookup(const struct el_snapshot *s, const uint8_t dst[16])
{
	struct el_ip d = w6_ip(dst);
	const struct el_snap_route *r = snapshot_route_lookup(s, &d);
	if (r == NULL || (r->via.family != EL_AF_NONE && r->via.family != EL_AF_INET6))
		return SIZE_MAX;
	return (size_t)(r - s->routes);
}

/* Fill cache slot @p c with @p dst, its route @p ri and the route's next
 * hop's static neighbour. */
static __rte_noinline struct w6_hop
w6_route_fill(struct el_worker *w, struct w_route_cache6 *c, const uint8_t dst[16], size_t ri)
{
	if (ri >= UINT16_MAX)
		return (struct w6_hop){0, 0}; /* beyond what a slot holds: not used */
	const struct el_snap_route *r = &w->snap->routes[ri];
	struct el_ip d = w6_ip(dst);
	memcpy(c->dst, dst, 16);
	c->route = (uint16_t)(ri + 1);
	c->neigh = r->via.family != EL_AF_NONE ? w_via_neigh(w, ri)
					       : w_static_neigh(w->snap, r->iface, &d);
	return (struct w6_hop){c->route, c->neigh};
}

/* The route of @p dst and its next hop's static neighbour, as IPv4's
 * w_route4_slot(): with few routes they are scanned first and a route with
 * a gateway needs no cache entry; directly connected destinations, whose
 * neighbour is per address, go through the cache. */
static inline struct w6_hop
w6_nexthop(struct el_worker *w, const uint8_t dst[16])
{
	uint64_t a[2];
	memcpy(a, dst, 16);
	struct w_route_cache6 *c =
	    &w->rc6[((a[0] ^ a[1]) * 0x9e3779b97f4a7c15ull) >> (64 - W_ROUTE6_BITS)];
	size_t ri;

	if (likely(w->n_rt6 <= W_RT6_MAX)) {
		unsigned i = w6_rt_find(w, a);
		if (i == 0 || w->rt6_kind[i - 1] == W_RT6_UNUSABLE)
			return (struct w6_hop){0, 0};
		ri = w->rt6_route[i - 1];
		if (w->rt6_kind[i - 1] == W_RT6_GW)
			return (struct w6_hop){(uint16_t)(ri + 1), w_via_neigh(w, ri)};
		if (likely(c->route != 0 && w6_eq(c->dst, dst)))
			return (struct w6_hop){c->route, c->neigh};
	} else {
		if (likely(c->route != 0 && w6_eq(c->dst, dst)))
			return (struct w6_hop){c->route, c->neigh};
		ri = w6_route_lookup(w->snap, dst);
		if (ri == SIZE_MAX)
			return (struct w6_hop){0, 0};
	}
	return w6_route_fill(w, c, dst, ri);
}

/* The route toward @p dst in the snapshot in use. */
static inline const struct el_snap_route *
w6_route(struct el_worker *w, const uint8_t dst[16])
{
	struct w6_hop h = w6_nexthop(w, dst);
	return h.route != 0 ? &w->snap->routes[h.route - 1] : NULL;
}

/* Send @p m (Ethernet header to be filled) along route @p r toward @p dst. */
static void
w6_output(struct el_worker *w, struct rte_mbuf *m, const struct el_snap_route *r,
	  const uint8_t dst[16])
{
	struct el_ip nh = r->via.family != EL_AF_NONE ? r->via : w6_ip(dst);
	neigh_output(w->neigh, w->snap, r->iface, &nh, m, w->now, &w->ntx);
}

/* Send @p m toward @p dst along the route (not 0) of lookup result @p c. */
static inline void
w6_output_hop(struct el_worker *w, struct rte_mbuf *m, struct w6_hop c, const uint8_t dst[16])
{
	const struct el_snap_route *r = &w->snap->routes[c.route - 1];
	if (likely(c.neigh != 0)) {
		w_output_neigh(w, m, r->iface, c.neigh, PKT_ETHERTYPE_IPV6);
		return;
	}
	w6_output(w, m, r, dst);
}

static void
w6_route_out(struct el_worker *w, struct rte_mbuf *m, const uint8_t dst[16])
{
	const struct w6_hop c = w6_nexthop(w, dst);
	if (c.route == 0) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	w6_output_hop(w, m, c, dst);
}

/* Send @p m, a packet of flow @p f NATed toward its backend, as
 * w6_route_out(); remember the backend's static neighbour in the flow, as
 * IPv4's w_route_out_flow() does. */
static void
w6_route_out_flow(struct el_worker *w, struct rte_mbuf *m, struct ct_flow6 *f)
{
	const struct w6_hop c = w6_nexthop(w, f->backend);
	if (c.route == 0) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	w_egress_remember(w, &f->flags, c.neigh);
	w6_output_hop(w, m, c, f->backend);
}

/* Reverse-path check of a reply (RFC 3704 section 2.2), as IPv4: a packet
 * from @p src belongs on @p iface when @p src is routed out of it. */
static bool
w6_rpf_ok(struct el_worker *w, const uint8_t src[16], uint8_t iface)
{
	if (likely(w->n_rt6 <= W_RT6_MAX)) { /* the route alone, no neighbour */
		uint64_t a[2];
		memcpy(a, src, 16);
		unsigned i = w6_rt_find(w, a);
		return i != 0 && w->rt6_kind[i - 1] != W_RT6_UNUSABLE &&
		       w->snap->routes[w->rt6_route[i - 1]].iface == iface;
	}
	const struct el_snap_route *r = w6_route(w, src);
	return r != NULL && r->iface == iface;
}

static bool
w6_is_snat(const struct el_worker *w, const uint8_t addr[16])
{
	const struct el_snapshot *s = w->snap;
	for (unsigned i = 0; i < s->n_snat; i++)
		if (s->snat[i].family == EL_AF_INET6 && w6_eq(s->snat[i].v6, addr))
			return true;
	return false;
}

/* The SNAT address of a flow: one of the IPv6 ones, chosen by its hash. */
static int
w6_snat_addr(const struct el_snapshot *s, uint32_t hash, uint8_t addr[16])
{
	unsigned n6 = 0;
	for (unsigned i = 0; i < s->n_snat; i++)
		n6 += s->snat[i].family == EL_AF_INET6;
	if (n6 == 0)
		return -ENOENT;
	unsigned pick = (unsigned)(((uint64_t)hash * n6) >> 32);
	for (unsigned i = 0; i < s->n_snat; i++) {
		if (s->snat[i].family != EL_AF_INET6)
			continue;
		if (pick-- == 0) {
			memcpy(addr, s->snat[i].v6, 16);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- flows ---- */

static inline bool
w6_idle_expired(const struct el_worker *w, const struct ct_flow6 *f)
{
	uint32_t t = w->timeout_ms[f->tcp.state < EL_CT_NSTATES ? f->tcp.state : EL_CT_NONE];
	return (uint32_t)(w->now32 - f->last_ms) >= t;
}

static void
w6_flow_del(struct el_worker *w, uint32_t idx)
{
	struct ct_flow6 *f = conntrack_flow6(w->ct, idx);
	if (!(f->flags & CT_F_USED))
		return;
	w_flow_counters_gone(w, conntrack_meta6(w->ct, idx));
	conntrack_del6(w->ct, idx);
}

/*
 * Rewrite a TCP/UDP packet to (nsrc:nsport -> ndst:ndport) and decrement its
 * hop limit; the L4 checksum is patched for both addresses and ports
 * (RFC 1624), a UDP result of zero is sent as 0xffff.
 */
static void
nat6(uint8_t *ip, const struct pkt_ip6 *p, const uint8_t nsrc[16], uint16_t nsport,
     const uint8_t ndst[16], uint16_t ndport)
{
	uint8_t *l4 = ip + p->l3_len;
	unsigned coff = p->proto == PKT_IPPROTO_TCP ? 16 : 6;
	uint16_t c = bytes_rd16(l4 + coff);

	c = csum_update128(c, p->src, nsrc);
	c = csum_update128(c, p->dst, ndst);
	c = csum_update16(c, p->sport, nsport);
	c = csum_update16(c, p->dport, ndport);
	if (p->proto == PKT_IPPROTO_UDP)
		c = csum_udp_fix(c);
	bytes_wr16(l4 + coff, c);
	bytes_wr16(l4, nsport);
	bytes_wr16(l4 + 2, ndport);
	ip[7]--;
	memcpy(ip + 8, nsrc, 16);
	memcpy(ip + 24, ndst, 16);
}

/* ---- ICMPv6 ---- */

static void
w6_nd(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip6 *p)
{
	struct el_ip ip;
	uint8_t mac[6];
	int learned = 0;

	neigh_nd_input(w->neigh, w->snap, iface, m, PKT_ETH_LEN, PKT_ETH_LEN + p->l3_len, w->now,
		       &w->ntx, &ip, mac, &learned);
	if (learned && w->n_peers > 1)
		w_broadcast_neigh(w, iface, &ip, mac);
}

static void
w6_icmp_error(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip6 *o)
{
	uint8_t *ip = w6_ip_hdr(m);
	struct pkt_ip6 in;
	enum el_drop reason;

	if (pkt_ip6_quote_parse(ip + o->l3_len + PKT_ICMP6_HDR_LEN,
				(uint32_t)o->l4_len - PKT_ICMP6_HDR_LEN, &in, &reason) != 0) {
		w_drop(w, m, reason);
		return;
	}
	if ((in.proto != PKT_IPPROTO_TCP && in.proto != PKT_IPPROTO_UDP) || !in.first_frag) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}

	/* an error about a packet sent from a SNAT port: that port's owner
	 * has the flow */
	unsigned owner;
	if (w6_is_snat(w, in.src) && w_handoff_owner(w, iface, in.sport, &owner)) {
		w_handoff(w, owner, iface, m);
		return;
	}

	/* the quoted packet went out; the flow knows it reversed */
	struct ct_key6 k;
	uint32_t val;
	conntrack_key6_set(&k, in.dst, in.src, in.dport, in.sport, in.proto);
	if (conntrack_lookup6(w->ct, &k, &val) != 0) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	struct ct_flow6 *f = conntrack_flow6(w->ct, val >> 1);
	bool reply = (val & 1) == CT_DIR_REPLY;
	/* the error must come to the address the quoted packet came from */
	if (!w6_eq(o->dst, reply ? f->snat : f->frontend)) {
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	if (reply && !w6_rpf_ok(w, f->backend, iface)) {
		w_drop(w, m, EL_DROP_WRONG_IFACE);
		return;
	}
	if (w6_idle_expired(w, f)) {
		w->stats.flows_expired++;
		w6_flow_del(w, val >> 1);
		w_drop(w, m, EL_DROP_ICMP_UNTRACKED);
		return;
	}
	if (o->hlim <= 1) {
		w_drop(w, m, EL_DROP_TTL_EXCEEDED);
		return;
	}

	struct icmp6_xlate x;
	const uint8_t *to;
	if (reply) {
		/* from the pod side about snat -> backend: tell the client */
		memcpy(x.outer_src, f->frontend, 16);
		memcpy(x.outer_dst, f->client, 16);
		memcpy(x.inner_src, f->client, 16);
		memcpy(x.inner_dst, f->frontend, 16);
		x.inner_sport = f->cport;
		x.inner_dport = f->fport;
		to = f->client;
	} else {
		/* from the client side about frontend -> client: tell the pod */
		memcpy(x.outer_src, f->snat, 16);
		memcpy(x.outer_dst, f->backend, 16);
		memcpy(x.inner_src, f->backend, 16);
		memcpy(x.inner_dst, f->snat, 16);
		x.inner_sport = f->bport;
		x.inner_dport = f->sport;
		to = f->backend;
	}
	uint8_t dst[16];
	memcpy(dst, to, 16);
	icmp6_error_xlate(ip, o, &in, &x);
	w->stats.icmp_errors_translated++;
	w6_route_out(w, m, dst);
}

static void
w6_icmp(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip6 *p)
{
	if (p->icmp_type == PKT_ICMP6_NEIGH_SOLICIT || p->icmp_type == PKT_ICMP6_NEIGH_ADVERT) {
		w6_nd(w, m, iface, p);
		return;
	}
	struct el_ip d = w6_ip(p->dst);
	if (snapshot_owned_lookup(w->snap, &d) == NULL) {
		w_drop(w, m, EL_DROP_NOT_OURS);
		return;
	}
	switch (p->icmp_type) {
	case PKT_ICMP6_ECHO_REQUEST: {
		/* an echo "from" edgelb itself would be answered to edgelb */
		struct el_ip sip = w6_ip(p->src);
		if (snapshot_owned_lookup(w->snap, &sip) != NULL) {
			w_drop(w, m, EL_DROP_MARTIAN);
			return;
		}
		uint16_t tot = icmp6_echo_reply(w6_ip_hdr(m), p);
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
		w->stats.icmp_echo_replies++;
		w6_route_out(w, m, p->src);
		return;
	}
	case PKT_ICMP6_DEST_UNREACH:
	case PKT_ICMP6_PKT_TOO_BIG:
	case PKT_ICMP6_TIME_EXCEEDED:
	case PKT_ICMP6_PARAM_PROBLEM:
		w6_icmp_error(w, m, iface, p);
		return;
	default:
		w_drop(w, m, EL_DROP_ICMP_UNSUPPORTED);
		return;
	}
}

/* ---- new flows ---- */

static bool
w6_src_allowed(const struct el_snap_svc *svc, const uint8_t src[16])
{
	struct el_ip ip = w6_ip(src);
	for (uint32_t i = 0; i < svc->n_src_ranges; i++)
		if (svc->src_ranges[i].addr.family == EL_AF_INET6 &&
		    el_cidr_contains(&svc->src_ranges[i], &ip))
			return true;
	return false;
}

/* The key of a source's new-flow bucket: its /64 folded to 32 bits. */
static inline uint32_t
w6_src_key(const uint8_t src[16])
{
	return bytes_rd32(src) ^ (bytes_rd32(src + 4) * 0x9e3779b1u);
}

/* Send the reject kube-proxy sends for a service without endpoints. */
static void
w6_reject(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip6 *p)
{
	const struct el_snap_route *r = w6_route(w, p->src);
	if (r == NULL) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	if (!w_err_take(w)) {
		w_drop(w, m, EL_DROP_NO_ENDPOINT);
		return;
	}
	uint16_t tot;
	if (p->proto == PKT_IPPROTO_TCP) {
		tot = icmp6_tcp_reset(w6_ip_hdr(m), p);
	} else {
		uint32_t q = icmp6_quote_len(p);
		if (rte_pktmbuf_prepend(m, ICMP6_ERR_HDR_LEN) == NULL) {
			w_drop(w, m, EL_DROP_NO_MBUF);
			return;
		}
		tot = icmp6_error(w6_ip_hdr(m), p->dst, p->src, PKT_ICMP6_DEST_UNREACH,
				  ICMP6_CODE_PORT_UNREACH, 0, q);
	}
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
	w->stats.rejects_sent++;
	w6_output(w, m, r, p->src);
}

static bool w6_martian(const struct el_snapshot *s, const uint8_t src[16]);

/*
 * Drop a TCP/UDP packet whose hop limit would reach 0 here (counted as
 * EL_DROP_TTL_EXCEEDED) and send its source an ICMPv6 time exceeded, type 3
 * code 0 (RFC 4443 section 3.3: a router MUST), from the address the packet
 * was sent to (a frontend or a SNAT address), quoting as much of it as fits
 * in 1280 bytes. None is sent about an ICMPv6 error, to a multicast,
 * unspecified or martian source (RFC 4443 section 2.4 (e)), nor when the
 * worker's error bucket is empty (section 2.4 (f)). Fragments other than the
 * first never get here (pkt6.h).
 */
static void __attribute__((noinline, cold))
w6_ttl_exceeded(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip6 *p)
{
	w->stats.drops[EL_DROP_TTL_EXCEEDED]++;
	if ((p->proto == PKT_IPPROTO_ICMPV6 && p->icmp_type < PKT_ICMP6_ECHO_REQUEST) ||
	    pkt_ip6_is_multicast(p->src) || pkt_ip6_is_unspecified(p->src) ||
	    w6_martian(w->snap, p->src)) {
		rte_pktmbuf_free(m);
		return;
	}
	const struct el_snap_route *r = w6_route(w, p->src);
	if (r == NULL || !w_err_take(w)) {
		rte_pktmbuf_free(m);
		return;
	}
	uint32_t q = icmp6_quote_len(p);
	if (rte_pktmbuf_prepend(m, ICMP6_ERR_HDR_LEN) == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	uint16_t tot = icmp6_error(w6_ip_hdr(m), p->dst, p->src, PKT_ICMP6_TIME_EXCEEDED, 0, 0, q);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - PKT_ETH_LEN - tot));
	w6_output(w, m, r, p->src);
}

struct w6_port_ctx {
	const struct conntrack *ct;
	const struct pkt_ip6 *p;
	const uint8_t *backend;
	const uint8_t *snat;
	uint16_t bport;
};

static bool
w6_port_in_use(void *ctx, uint16_t port)
{
	const struct w6_port_ctx *c = ctx;
	uint16_t lport = rte_cpu_to_be_16(port);

	/* the reply key may not equal this flow's own client key either */
	if (c->bport == c->p->sport && lport == c->p->dport && w6_eq(c->backend, c->p->src) &&
	    w6_eq(c->snat, c->p->dst))
		return true;
	return conntrack_reply_in_use6(c->ct, c->backend, c->snat, c->bport, lport, c->p->proto);
}

/* Tell every peer which backend @p client got for @p svc_id (see
 * w_broadcast_aff in worker.c). */
static void
w6_broadcast_aff(struct el_worker *w, const uint8_t client[16], uint32_t svc_id,
		 uint32_t backend_id, uint32_t timeout_ms)
{
	struct w_msg msg = {.type = W_MSG_AFF6, .n = 1};
	memcpy(msg.aff6.client, client, 16);
	msg.aff6.svc_id = svc_id;
	msg.aff6.backend_id = backend_id;
	msg.aff6.timeout_ms = timeout_ms;
	for (unsigned i = 0; i < w->n_peers; i++) {
		struct el_worker *peer = w->peers[i];
		if (peer != NULL && peer != w)
			rte_ring_mp_enqueue_elem(peer->msg, &msg, sizeof(msg));
	}
}

void
w6_aff_update(struct el_worker *w, const struct w_msg *msg)
{
	conntrack_aff_update6(w->ct, msg->aff6.client, msg->aff6.svc_id, msg->aff6.backend_id,
			      msg->aff6.timeout_ms, w->now);
}

static void
w6_new_flow(struct el_worker *w, struct rte_mbuf *m, const struct pkt_ip6 *p,
	    const struct el_snap_fe *fe)
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
	if (fe->kind == EL_FE_LB_INGRESS && svc->n_src_ranges > 0 && !w6_src_allowed(svc, p->src)) {
		w_drop(w, m, EL_DROP_SRC_RANGE);
		return;
	}
	if (svc->n_backends == 0) {
		w6_reject(w, m, p);
		return;
	}
	if (p->hlim <= 1) {
		w6_ttl_exceeded(w, m, p);
		return;
	}
	if (conntrack_count6(w->ct) >= conntrack_capacity6(w->ct)) {
		w_drop(w, m, EL_DROP_FLOW_TABLE_FULL);
		return;
	}
	if (w->src_rate != 0 && !w_src_take(w, w6_src_key(p->src))) {
		w_drop(w, m, EL_DROP_SOURCE_RATE_LIMITED);
		return;
	}

	uint32_t hash = worker_flow_hash6(p->src, p->sport, p->dst, p->dport, p->proto);
	const struct el_snap_backend *be = NULL;
	uint32_t bid;
	if (svc->affinity && conntrack_aff_lookup6(w->ct, p->src, svc->id, w->now, &bid) == 0)
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
	if (unlikely(be->ip.family != EL_AF_INET6)) {
		w_drop(w, m, EL_DROP_NO_ENDPOINT);
		return;
	}

	const struct w6_hop hop = w6_nexthop(w, be->ip.v6);
	if (hop.route == 0) {
		w_drop(w, m, EL_DROP_NO_ROUTE);
		return;
	}
	const struct el_snap_route *r = &s->routes[hop.route - 1];
	uint8_t snat[16];
	if (w6_snat_addr(s, hash, snat) != 0) {
		w_drop(w, m, EL_DROP_NO_SNAT_ADDR);
		return;
	}

	/* SNAT port whose reply comes back here */
	struct w6_port_ctx pc = {
	    .ct = w->ct, .p = p, .backend = be->ip.v6, .snat = snat, .bport = be->port};
	const struct snat_port_rss *rss = r->iface < EL_SNAP_MAX_IFACES ? w->rss[r->iface] : NULL;
	uint16_t port;
	int rc;
	if (rss != NULL) {
		uint32_t base =
		    snat_port_rss_base6(rss, be->ip.v6, snat, rte_be_to_cpu_16(be->port));
		rc = snat_port_pick(&w->rss_cur, rss, base, w6_port_in_use, &pc, SNAT_PORT_NONE,
				    &port);
	} else {
		rc = snat_port_pick(&w->part_cur, NULL, 0, w6_port_in_use, &pc, SNAT_PORT_NONE,
				    &port);
	}
	if (rc != 0) {
		w_drop(w, m, EL_DROP_NO_SNAT_PORT);
		return;
	}

	struct ct_flow6 f = {
	    .cport = p->sport,
	    .fport = p->dport,
	    .sport = rte_cpu_to_be_16(port),
	    .bport = be->port,
	    .last_ms = w->now32,
	    .proto = p->proto,
	};
	memcpy(f.client, p->src, 16);
	memcpy(f.frontend, p->dst, 16);
	memcpy(f.snat, snat, 16);
	memcpy(f.backend, be->ip.v6, 16);
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
	rc = conntrack_add6(w->ct, &f, &meta, &idx);
	if (rc != 0) {
		w_drop(w, m, rc == -ENOSPC ? EL_DROP_FLOW_TABLE_FULL : EL_DROP_NO_SNAT_PORT);
		return;
	}
	if (svc->affinity) {
		uint32_t tmo = svc->affinity_timeout >= W_MAX_TIMEOUT_MS / 1000
				   ? W_MAX_TIMEOUT_MS
				   : svc->affinity_timeout * 1000u;
		conntrack_aff_update6(w->ct, p->src, svc->id, be->id, tmo, w->now);
		if (w->n_peers > 1)
			w6_broadcast_aff(w, p->src, svc->id, be->id, tmo);
	}
	w->stats.flows_created++;
	w->stats.flows_active++;
	struct w_svcstat *st = w_svcstat_get(w, svc->id);
	if (st != NULL) {
		st->created++;
		st->active++;
	}

	nat6(w6_ip_hdr(m), p, snat, f.sport, be->ip.v6, be->port);
	w6_output_hop(w, m, hop, be->ip.v6);
}

/* Sources no new flow is opened for, beyond what the parser refuses: an
 * address edgelb owns (interface, VIP, SNAT address), as IPv4 does, and a
 * link-local one (fe80::/10), which must not leave its link (RFC 4291
 * section 2.5.6) and which no reply could be routed back to. Neighbour
 * discovery from link-local sources is not affected: it never gets here. */
static bool
w6_martian(const struct el_snapshot *s, const uint8_t src[16])
{
	if (src[0] == 0xfe && (src[1] & 0xc0) == 0x80)
		return true;
	struct el_ip ip = w6_ip(src);
	return snapshot_owned_lookup(s, &ip) != NULL;
}

/* A packet that matched no flow. */
static void
w6_miss(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip6 *p)
{
	const struct el_snapshot *s = w->snap;

	if (unlikely(p->sport == 0 || p->dport == 0)) {
		w_drop(w, m, EL_DROP_BAD_PORT);
		return;
	}
	bool snat = w6_is_snat(w, p->dst);
	unsigned owner;
	if (snat && w_handoff_owner(w, iface, p->dport, &owner)) {
		w_handoff(w, owner, iface, m);
		return;
	}
	struct el_ip d = w6_ip(p->dst);
	const struct el_snap_fe *fe = snapshot_fe_lookup(s, &d, p->dport, p->proto);
	if (fe != NULL) {
		if (unlikely(w6_martian(s, p->src))) {
			w_drop(w, m, EL_DROP_MARTIAN);
			return;
		}
		w6_new_flow(w, m, p, fe);
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
w6_reopen(struct el_worker *w, uint32_t idx, const struct pkt_ip6 *p)
{
	struct ct_flow6 *f = conntrack_flow6(w->ct, idx);
	struct ct_meta *meta = conntrack_meta6(w->ct, idx);
	const struct el_snapshot *s = w->snap;
	struct el_ip d = w6_ip(p->dst);
	const struct el_snap_fe *fe = snapshot_fe_lookup(s, &d, p->dport, p->proto);

	if (fe == NULL || fe->svc >= s->n_svcs)
		return false;
	const struct el_snap_svc *svc = s->svcs[fe->svc];
	if (svc->id != meta->svc_id)
		return false;
	const struct el_snap_backend *be = w_find_backend(svc, meta->backend_id);
	if (be == NULL || be->ip.family != EL_AF_INET6 || !w6_eq(be->ip.v6, f->backend) ||
	    be->port != f->bport)
		return false;
	tcp_state_track_init(&f->tcp);
	meta->created_s = (uint32_t)(w->now / 1000);
	w->stats.flows_created++;
	struct w_svcstat *st = w_svcstat_find(w, meta->svc_id);
	if (st != NULL)
		st->created++;
	return true;
}

static inline void
w6_tcp_track(struct ct_flow6 *f, uint8_t flags, bool from_client)
{
	if (f->tcp.state == EL_CT_ESTABLISHED && !(flags & (EL_TCP_SYN | EL_TCP_FIN | EL_TCP_RST)))
		return;
	tcp_state_track_update(&f->tcp, flags, from_client);
}

static void
w6_hit(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, const struct pkt_ip6 *p,
       uint32_t val)
{
	uint32_t idx = val >> 1;
	struct ct_flow6 *f = conntrack_flow6(w->ct, idx);

	if (unlikely(w6_idle_expired(w, f))) {
		w->stats.flows_expired++;
		w6_flow_del(w, idx);
		w6_miss(w, m, iface, p);
		return;
	}
	if ((val & 1) == CT_DIR_CLIENT) {
		if (p->proto == PKT_IPPROTO_UDP) {
			if (unlikely(w->n_flush != 0) &&
			    w_flush_has(w, conntrack_meta6(w->ct, idx)->backend_id)) {
				w6_flow_del(w, idx);
				w6_miss(w, m, iface, p);
				return;
			}
		} else if ((p->tcp_flags & EL_TCP_SYN) && tcp_flags_opens(p->tcp_flags) &&
			   (f->tcp.state == EL_CT_TIME_WAIT || f->tcp.state == EL_CT_CLOSE)) {
			if (!w6_reopen(w, idx, p)) {
				w6_flow_del(w, idx);
				w6_miss(w, m, iface, p);
				return;
			}
		}
		if (p->hlim <= 1) {
			w6_ttl_exceeded(w, m, p);
			return;
		}
		if (p->proto == PKT_IPPROTO_TCP)
			w6_tcp_track(f, p->tcp_flags, true);
		f->last_ms = w->now32;
		nat6(w6_ip_hdr(m), p, f->snat, f->sport, f->backend, f->bport);
		if (!w_egress_out(w, m, f->flags, PKT_ETHERTYPE_IPV6))
			w6_route_out_flow(w, m, f);
	} else {
		/* a reply comes in where its backend is routed (the row of
		 * the backend's neighbour, once known, tells where) */
		unsigned eg = w_flow_egress(f->flags);
		if (eg != 0 ? w_egress_iface(w, eg) != iface : !w6_rpf_ok(w, f->backend, iface)) {
			w_drop(w, m, EL_DROP_WRONG_IFACE);
			return;
		}
		if (p->proto == PKT_IPPROTO_UDP && unlikely(w->n_flush != 0) &&
		    w_flush_has(w, conntrack_meta6(w->ct, idx)->backend_id)) {
			w6_flow_del(w, idx);
			w_drop(w, m, EL_DROP_UNKNOWN_REPLY);
			return;
		}
		if (p->hlim <= 1) {
			w6_ttl_exceeded(w, m, p);
			return;
		}
		if (p->proto == PKT_IPPROTO_TCP)
			w6_tcp_track(f, p->tcp_flags, false);
		f->last_ms = w->now32;
		nat6(w6_ip_hdr(m), p, f->frontend, f->fport, f->client, f->cport);
		w6_route_out(w, m, f->client);
	}
}

/* ---- entry points ---- */

bool
w6_parse(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, struct pkt_ip6 *p,
	 struct ct_key6 *k, uint32_t *sig)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	enum el_drop reason;

	if (pkt_ip6_parse(frame, len, p, &reason) != 0) {
		w_drop(w, m, reason);
		return false;
	}
	/* worker.c lets IPv6 to a group MAC (broadcast, multicast) through for
	 * neighbour discovery; anything else sent that way is refused, as IPv4
	 * is, so no host on the segment forwards it */
	bool nd = p->proto == PKT_IPPROTO_ICMPV6 && (p->icmp_type == PKT_ICMP6_NEIGH_SOLICIT ||
						     p->icmp_type == PKT_ICMP6_NEIGH_ADVERT);
	if (unlikely(frame[0] & 1) && !nd) {
		w_drop(w, m, EL_DROP_NOT_OUR_MAC);
		return false;
	}
	if (len > PKT_ETH_LEN + (uint32_t)p->tot_len)
		rte_pktmbuf_trim(m, (uint16_t)(len - PKT_ETH_LEN - p->tot_len));

	if (likely(p->proto == PKT_IPPROTO_TCP || p->proto == PKT_IPPROTO_UDP)) {
		const uint8_t *ip = frame + PKT_ETH_LEN;
		*sig = conntrack_key6_from_pkt(k, ip, ip + p->l3_len, p->proto);
		return true;
	}
	if (p->proto == PKT_IPPROTO_ICMPV6) {
		w6_icmp(w, m, iface, p);
	} else {
		struct el_ip d = w6_ip(p->dst);
		w_drop(w, m,
		       snapshot_owned_lookup(w->snap, &d) != NULL ? EL_DROP_UNSUPPORTED_PROTO
								  : EL_DROP_NOT_OURS);
	}
	return false;
}

void
w6_batch(struct el_worker *w, uint8_t iface, struct rte_mbuf **m, const struct pkt_ip6 *p,
	 const struct ct_key6 *k, const uint32_t *sig, unsigned n)
{
	const struct ct_key6 *kp[W_CHUNK];
	uint32_t val[W_CHUNK];
	uint64_t hit;

	if (n > W_CHUNK)
		n = W_CHUNK;
	for (unsigned i = 0; i < n; i++)
		kp[i] = &k[i];
	conntrack_lookup6_bulk_sig(w->ct, kp, sig, n, &hit, val);
	uint32_t gen = conntrack_gen6(w->ct);
	for (unsigned i = 0; i < n; i++) {
		bool found = (hit >> i) & 1;
		/* a flow added or removed by an earlier packet of the batch
		 * may have changed this packet's answer */
		if (unlikely(conntrack_gen6(w->ct) != gen))
			found = conntrack_lookup6(w->ct, kp[i], &val[i]) == 0;
		if (found)
			w6_hit(w, m[i], iface, &p[i], val[i]);
		else
			w6_miss(w, m[i], iface, &p[i]);
	}
}

void
w6_input(struct el_worker *w, struct rte_mbuf *m, uint8_t iface)
{
	struct pkt_ip6 p;
	struct ct_key6 k;
	uint32_t sig;

	if (w6_parse(w, m, iface, &p, &k, &sig))
		w6_batch(w, iface, &m, &p, &k, &sig, 1);
}

int
w6_create(struct el_worker *w)
{
	uint32_t cap = w->conf.max_flows6 != 0 ? w->conf.max_flows6 : w->conf.max_flows;
	uint32_t aff = cap < W_AFF_MAX ? cap : W_AFF_MAX;
	int rc = conntrack_enable6(w->ct, cap, aff, w->conf.socket_id);
	if (rc != 0)
		rte_errno = -rc;
	return rc;
}

static bool
w6_sweep_flushed(void *ctx, const struct ct_flow6 *f, const struct ct_meta *meta)
{
	const struct el_worker *w = ctx;
	return f->proto == PKT_IPPROTO_UDP && w_flush_has(w, meta->backend_id);
}

static void
w6_sweep_gone(void *ctx, const struct ct_flow6 *f, const struct ct_meta *meta, bool idle)
{
	struct el_worker *w = ctx;
	(void)f;
	if (idle)
		w->stats.flows_expired++;
	w_flow_counters_gone(w, meta);
}

void
w6_housekeeping(struct el_worker *w)
{
	uint64_t n =
	    w_sweep_slots(w->now, conntrack_capacity6(w->ct), &w->sweep6_ms, &w->sweep6_debt);
	while (n > 0) {
		unsigned b = n < CT_SWEEP_MAX ? (unsigned)n : CT_SWEEP_MAX;
		conntrack_sweep6(w->ct, b, w->timeout_ms, w->now32,
				 w->n_flush != 0 ? w6_sweep_flushed : NULL, w6_sweep_gone, w);
		n -= b;
	}
	conntrack_aff_sweep6(w->ct, W_AFF_SWEEP_BUDGET, w->now);
}

void
w6_flush_now(struct el_worker *w, uint32_t id)
{
	uint32_t cap = conntrack_capacity6(w->ct);
	for (uint32_t i = 0; i < cap; i++) {
		struct ct_flow6 *f = conntrack_flow6(w->ct, i);
		if ((f->flags & CT_F_USED) && f->proto == PKT_IPPROTO_UDP &&
		    conntrack_meta6(w->ct, i)->backend_id == id)
			w6_flow_del(w, i);
	}
}

unsigned
w6_conns(const struct el_worker *w, struct el_conn_info *out, unsigned max, uint64_t now_ms)
{
	uint32_t cap = conntrack_capacity6(w->ct);
	uint32_t now32 = (uint32_t)now_ms, now_s = (uint32_t)(now_ms / 1000);
	unsigned n = 0;

	for (uint32_t i = 0; i < cap && n < max; i++) {
		struct ct_flow6 f = *conntrack_flow6(w->ct, i);
		if (!(f.flags & CT_F_USED))
			continue;
		struct ct_meta meta = *conntrack_meta6(w->ct, i);
		struct el_conn_info *c = &out[n++];
		memset(c, 0, sizeof(*c));
		c->client = w6_ip(f.client);
		c->frontend = w6_ip(f.frontend);
		c->snat = w6_ip(f.snat);
		c->backend = w6_ip(f.backend);
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
	return n;
}
