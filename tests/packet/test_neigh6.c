/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 Neighbor Discovery in the neighbour module (dataplane/neigh.c)
 * against hand-built frames (RFC 4861): Neighbor Solicitations for owned
 * addresses are answered, Duplicate Address Detection probes are answered
 * to all-nodes and teach nothing, solicitations and advertisements update
 * the cache, malformed messages are dropped as bad_nd, and unresolved IPv6
 * next hops are asked for through their solicited-node group.
 *
 * The ICMPv6 checksums here are computed by the test's own code (big-endian
 * 16-bit words over the RFC 8200 pseudo-header), not by the module's checksum code.
 *
 * Needs EAL for the mbuf pool (--no-huge, no ports).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "../../dataplane/neigh.h"

static struct rte_mempool *pool;

/* ---- snapshot: ext (0) 2001:db8::1/64, 2001:db8:1::1/64, 198.18.0.1/24;
 *      int (1) 198.18.2.1/24, 2001:db8:2::1/64 ---- */

static const uint8_t mac_ext[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_int[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t mac_pod[6] = {0x02, 0, 0, 0, 0x02, 0x0e};
static const uint8_t mac_pod2[6] = {0x02, 0, 0, 0, 0x02, 0x2e};
static const uint8_t mac_static[6] = {0x02, 0, 0, 0, 0, 0x5e};
static const uint8_t mac_all_nodes[6] = {0x33, 0x33, 0, 0, 0, 0x01};

static struct el_snapshot snap;
static struct el_snap_owned owned[32];
static struct el_snap_neigh statics[2];

static struct el_ip
ip(const char *s)
{
	struct el_ip a;
	assert_int_equal(el_ip_parse(s, &a), 0);
	return a;
}

static void
a6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void
own_add(const char *s, uint8_t kind)
{
	struct el_ip a = ip(s);
	uint32_t i = snapshot_addr_hash(&a) & 31;
	while (owned[i].kind != 0)
		i = (i + 1) & 31;
	owned[i].ip = a;
	owned[i].kind = kind;
}

static void
snap_build(void)
{
	memset(&snap, 0, sizeof(snap));
	memset(owned, 0, sizeof(owned));
	own_add("2001:db8::1", EL_OWN_IFACE);
	own_add("2001:db8:1::1", EL_OWN_IFACE);
	own_add("2001:db8:2::1", EL_OWN_IFACE);
	own_add("198.18.0.1", EL_OWN_IFACE);
	own_add("198.18.2.1", EL_OWN_IFACE);
	own_add("2001:db8::100", EL_OWN_VIP);
	own_add("2001:db8:5::1", EL_OWN_SNAT);
	snap.own = owned;
	snap.own_mask = 31;
	snap.n_ifaces = 2;
	strcpy(snap.ifaces[0].name, "ext");
	memcpy(snap.ifaces[0].mac, mac_ext, 6);
	el_cidr_parse("198.18.0.1/24", &snap.ifaces[0].addrs[0]);
	el_cidr_parse("2001:db8::1/64", &snap.ifaces[0].addrs[1]);
	el_cidr_parse("2001:db8:1::1/64", &snap.ifaces[0].addrs[2]);
	snap.ifaces[0].n_addrs = 3;
	strcpy(snap.ifaces[1].name, "int");
	memcpy(snap.ifaces[1].mac, mac_int, 6);
	el_cidr_parse("198.18.2.1/24", &snap.ifaces[1].addrs[0]);
	el_cidr_parse("2001:db8:2::1/64", &snap.ifaces[1].addrs[1]);
	snap.ifaces[1].n_addrs = 2;
	statics[0].ip = ip("2001:db8::5e");
	memcpy(statics[0].mac, mac_static, 6);
	statics[0].iface = 0;
	statics[1].ip = ip("198.18.0.94");
	memcpy(statics[1].mac, mac_static, 6);
	statics[1].iface = 0;
	snap.neighs = statics;
	snap.n_neighs = 2;
}

/* ---- capture of what the module sends and drops ---- */

#define CAP_MAX 64

struct capture {
	unsigned n_sent;
	uint8_t sent_iface[CAP_MAX];
	struct rte_mbuf *sent[CAP_MAX];
	unsigned drops[EL_DROP_MAX];
	unsigned n_dropped;
	struct el_worker_stats stats;
};

static struct capture cap;

static void
cap_send(void *ctx, uint8_t iface, struct rte_mbuf *m)
{
	struct capture *c = ctx;
	assert_true(c->n_sent < CAP_MAX);
	c->sent_iface[c->n_sent] = iface;
	c->sent[c->n_sent++] = m;
}

static void
cap_drop(void *ctx, struct rte_mbuf *m, enum el_drop reason)
{
	struct capture *c = ctx;
	c->drops[reason]++;
	c->n_dropped++;
	rte_pktmbuf_free(m);
}

static struct neigh_tx tx = {.send = cap_send, .drop = cap_drop, .ctx = &cap};

static void
cap_reset(void)
{
	for (unsigned i = 0; i < cap.n_sent; i++)
		rte_pktmbuf_free(cap.sent[i]);
	memset(&cap, 0, sizeof(cap));
}

static int
setup(void **state)
{
	snap_build();
	cap_reset();
	tx.pool = pool;
	tx.stats = &cap.stats;
	*state = neigh_create(64, SOCKET_ID_ANY);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	neigh_destroy(*state);
	cap_reset();
	return 0;
}

/* ---- the test's own ICMPv6 checksum ---- */

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One's-complement sum of the pseudo-header and @p len bytes at @p l4, in
 * host order, folded; 0xffff means the stored checksum is right. */
static uint16_t
icmp6_sum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *l4, unsigned len)
{
	uint32_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += be16_at(src + i) + be16_at(dst + i);
	sum += len >> 16;
	sum += len & 0xffff;
	sum += 58;
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += be16_at(l4 + i);
	if (len & 1)
		sum += (uint32_t)l4[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
icmp6_fill_csum(const uint8_t src[16], const uint8_t dst[16], uint8_t *l4, unsigned len)
{
	l4[2] = l4[3] = 0;
	uint16_t c = (uint16_t)~icmp6_sum(src, dst, l4, len);
	l4[2] = (uint8_t)(c >> 8);
	l4[3] = (uint8_t)c;
}

/* ---- frames ---- */

/* What an NS or NA to build looks like. Zero fields take defaults. */
struct nd_spec {
	uint8_t type; /* 135 or 136 */
	uint8_t code;
	uint8_t flags;	 /* NA: R/S/O bits */
	const char *src; /* IPv6 source */
	const char *dst; /* IPv6 destination */
	const char *target;
	uint8_t hlim;	   /* 0: 255 */
	uint8_t opt_type;  /* 0: no option */
	uint8_t opt_len;   /* in 8-byte units; 0 with opt_type set: 1 */
	bool opt_len_zero; /* write an option length of 0 */
	const uint8_t *opt_mac;
	const uint8_t *eth_src;
	bool hop_by_hop; /* an 8-byte hop-by-hop header before the ICMPv6 */
	unsigned pad;	 /* trailing Ethernet padding */
};

#define L3_OFF 14

static unsigned icmp_off_of_last;

static struct rte_mbuf *
nd_frame(const struct nd_spec *s)
{
	uint8_t b[256] = {0};
	uint8_t *ip6 = b + L3_OFF;
	unsigned ext = s->hop_by_hop ? 8 : 0;
	uint8_t *icmp = ip6 + 40 + ext;
	unsigned len = 24;
	uint8_t src[16], dst[16];

	a6(s->src, src);
	a6(s->dst, dst);
	/* Ethernet: to the IPv6 destination's group MAC, or to us */
	if (dst[0] == 0xff) {
		b[0] = b[1] = 0x33;
		memcpy(b + 2, dst + 12, 4);
	} else {
		memcpy(b, mac_ext, 6);
	}
	memcpy(b + 6, s->eth_src != NULL ? s->eth_src : mac_gw, 6);
	b[12] = 0x86;
	b[13] = 0xdd;

	icmp[0] = s->type;
	icmp[1] = s->code;
	icmp[4] = s->flags;
	a6(s->target, icmp + 8);
	if (s->opt_type != 0) {
		uint8_t ol = s->opt_len_zero ? 0 : s->opt_len ? s->opt_len : 1;
		icmp[24] = s->opt_type;
		icmp[25] = ol;
		memcpy(icmp + 26, s->opt_mac, 6);
		len += s->opt_len_zero ? 8 : 8u * ol;
	}
	icmp6_fill_csum(src, dst, icmp, len);

	ip6[0] = 0x60;
	unsigned plen = len + ext;
	ip6[4] = (uint8_t)(plen >> 8);
	ip6[5] = (uint8_t)plen;
	ip6[6] = s->hop_by_hop ? 0 : 58;
	ip6[7] = s->hlim ? s->hlim : 255;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	if (s->hop_by_hop) {
		uint8_t *h = ip6 + 40;
		h[0] = 58; /* next header */
		h[1] = 0;  /* 8 bytes */
		h[2] = 1;  /* PadN, 4 bytes of padding */
		h[3] = 4;
	}
	icmp_off_of_last = L3_OFF + 40 + ext;

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	unsigned total = L3_OFF + 40 + plen + s->pad;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
	assert_non_null(p);
	memcpy(p, b, total);
	return m;
}

/* An NS from the gateway 2001:db8::fe (SLLA mac_gw) for @p target. */
static struct nd_spec
ns_from_gw(const char *target)
{
	static char group[64];
	uint8_t t[16];
	a6(target, t);
	snprintf(group, sizeof(group), "ff02::1:ff%02x:%02x%02x", t[13], t[14], t[15]);
	struct nd_spec s = {.type = 135,
			    .src = "2001:db8::fe",
			    .dst = group,
			    .target = target,
			    .opt_type = 1,
			    .opt_mac = mac_gw};
	return s;
}

/* A DAD probe for @p target (source ::, no option). */
static struct nd_spec
dad_probe(const char *target)
{
	struct nd_spec s = ns_from_gw(target);
	s.src = "::";
	s.opt_type = 0;
	s.eth_src = mac_pod2;
	return s;
}

/* A solicited NA from @p who on the internal side, TLLA @p mac. */
static struct nd_spec
na_from(const char *who, const uint8_t *mac)
{
	struct nd_spec s = {.type = 136,
			    .flags = 0x60,
			    .src = who,
			    .dst = "2001:db8:2::1",
			    .target = who,
			    .opt_type = 2,
			    .opt_mac = mac,
			    .eth_src = mac};
	return s;
}

static int last_learned;
static struct el_ip last_learned_ip;
static uint8_t last_learned_mac[6];

static void
nd_in(struct neigh_table *t, uint8_t iface, const struct nd_spec *s, uint64_t now)
{
	struct rte_mbuf *m = nd_frame(s);
	last_learned = -1;
	memset(&last_learned_ip, 0, sizeof(last_learned_ip));
	neigh_nd_input(t, &snap, iface, m, L3_OFF, icmp_off_of_last, now, &tx, &last_learned_ip,
		       last_learned_mac, &last_learned);
}

/* A 14+40 byte frame standing for an IPv6 packet to be sent; the Ethernet
 * header is garbage the module must overwrite; byte 14 tags the packet. */
static struct rte_mbuf *
ip6_packet(uint8_t tag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 54);
	assert_non_null(p);
	memset(p, 0xaa, 54);
	p[14] = tag;
	return m;
}

static void
assert_eth(const struct rte_mbuf *m, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(b, dst, 6);
	assert_memory_equal(b + 6, src, 6);
	assert_int_equal(be16_at(b + 12), type);
}

/* Check an NA as the module must send it: IPv6 from @p from to @p to, hop
 * limit 255, no extension header; ICMPv6 136/0 with a right checksum,
 * @p flags, target @p from and a TLLA option with @p mac. */
static void
assert_na(const struct rte_mbuf *m, const char *from, const char *to, uint8_t flags,
	  const uint8_t mac[6])
{
	const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *, L3_OFF);
	const uint8_t *icmp = ip6 + 40;
	uint8_t f[16], t[16];
	a6(from, f);
	a6(to, t);

	assert_int_equal(rte_pktmbuf_pkt_len(m), L3_OFF + 40 + 32);
	assert_int_equal(ip6[0], 0x60);
	assert_int_equal(be16_at(ip6 + 4), 32);
	assert_int_equal(ip6[6], 58);
	assert_int_equal(ip6[7], 255);
	assert_memory_equal(ip6 + 8, f, 16);
	assert_memory_equal(ip6 + 24, t, 16);
	assert_int_equal(icmp[0], 136);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp6_sum(f, t, icmp, 32), 0xffff);
	assert_int_equal(icmp[4], flags);
	assert_int_equal(icmp[5] | icmp[6] | icmp[7], 0);
	assert_memory_equal(icmp + 8, f, 16);
	assert_int_equal(icmp[24], 2);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, mac, 6);
}

/* Check an NS as the module must send it on @p iface from @p from for
 * @p target: to the solicited-node group, with an SLLA option. */
static void
assert_ns(unsigned i, uint8_t iface, const char *from, const char *target)
{
	assert_true(i < cap.n_sent);
	const struct rte_mbuf *m = cap.sent[i];
	const uint8_t *mac = snap.ifaces[iface].mac;
	uint8_t f[16], tg[16], group[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	uint8_t gmac[6] = {0x33, 0x33, 0xff};
	a6(from, f);
	a6(target, tg);
	memcpy(group + 13, tg + 13, 3);
	memcpy(gmac + 3, tg + 13, 3);

	assert_int_equal(cap.sent_iface[i], iface);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 40 + 32);
	assert_eth(m, gmac, mac, RTE_ETHER_TYPE_IPV6);
	const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14);
	const uint8_t *icmp = ip6 + 40;
	assert_int_equal(ip6[0], 0x60);
	assert_int_equal(be16_at(ip6 + 4), 32);
	assert_int_equal(ip6[6], 58);
	assert_int_equal(ip6[7], 255);
	assert_memory_equal(ip6 + 8, f, 16);
	assert_memory_equal(ip6 + 24, group, 16);
	assert_int_equal(icmp[0], 135);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp6_sum(f, group, icmp, 32), 0xffff);
	assert_int_equal(icmp[4] | icmp[5] | icmp[6] | icmp[7], 0);
	assert_memory_equal(icmp + 8, tg, 16);
	assert_int_equal(icmp[24], 1);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, mac, 6);
}

static unsigned
count_ns(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cap.n_sent; i++) {
		const uint8_t *b = rte_pktmbuf_mtod(cap.sent[i], const uint8_t *);
		if (rte_pktmbuf_pkt_len(cap.sent[i]) >= 14 + 40 + 24 && be16_at(b + 12) == 0x86dd &&
		    b[14 + 6] == 58 && b[14 + 40] == 135)
			n++;
	}
	return n;
}

/* ---- Neighbor Solicitation for our addresses ---- */

static void
test_ns_for_interface_address_is_answered_in_place(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.pad = 6;
	struct rte_mbuf *m = nd_frame(&s);
	neigh_nd_input(*state, &snap, 0, m, L3_OFF, icmp_off_of_last, 1000, &tx, NULL, NULL, NULL);
	assert_int_equal(cap.n_sent, 1);
	assert_ptr_equal(cap.sent[0], m);
	assert_int_equal(cap.sent_iface[0], 0);
	assert_eth(m, mac_gw, mac_ext, RTE_ETHER_TYPE_IPV6);
	/* Solicited and Override set, Router clear */
	assert_na(m, "2001:db8::1", "2001:db8::fe", 0x60, mac_ext);
	assert_int_equal(cap.stats.arp_replies, 1);
	assert_int_equal(cap.n_dropped, 0);
}

static void
test_ns_for_vip_and_snat_addresses_is_answered(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::100");
	nd_in(*state, 0, &s, 1000);
	s = ns_from_gw("2001:db8:5::1");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 2);
	assert_na(cap.sent[0], "2001:db8::100", "2001:db8::fe", 0x60, mac_ext);
	assert_na(cap.sent[1], "2001:db8:5::1", "2001:db8::fe", 0x60, mac_ext);
	assert_int_equal(cap.stats.arp_replies, 2);
}

static void
test_ns_behind_a_hop_by_hop_header_is_answered_without_it(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.hop_by_hop = true;
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 1);
	assert_na(cap.sent[0], "2001:db8::1", "2001:db8::fe", 0x60, mac_ext);
}

static void
test_ns_without_option_is_answered_to_the_frame_source(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.opt_type = 0;
	s.dst = "2001:db8::1"; /* a unicast NS (reachability probe) */
	s.eth_src = mac_pod;
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_pod, mac_ext, RTE_ETHER_TYPE_IPV6);
	assert_na(cap.sent[0], "2001:db8::1", "2001:db8::fe", 0x60, mac_ext);
	assert_int_equal(last_learned, 0);
}

static void
test_ns_for_other_address_is_dropped_as_not_ours(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::77");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(cap.drops[EL_DROP_NOT_OURS], 1);
	assert_int_equal(cap.stats.arp_replies, 0);
}

static void
test_ns_with_slla_teaches_the_sender(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	struct el_ip gw = ip("2001:db8::fe");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(last_learned, 1);
	assert_true(el_ip_eq(&last_learned_ip, &gw));
	assert_memory_equal(last_learned_mac, mac_gw, 6);
	cap_reset();
	neigh_output(*state, &snap, 0, &gw, ip6_packet(7), 1001, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_gw, mac_ext, RTE_ETHER_TYPE_IPV6);
	assert_int_equal(neigh_pending(*state), 0);
}

static void
test_ns_not_for_us_teaches_nothing_new(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::77");
	struct el_ip gw = ip("2001:db8::fe");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(last_learned, 0);
	cap_reset();
	neigh_output(*state, &snap, 0, &gw, ip6_packet(7), 1001, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_int_equal(count_ns(), 1);
}

/* ---- Duplicate Address Detection ---- */

static void
test_dad_probe_for_our_address_is_answered_to_all_nodes(void **state)
{
	struct nd_spec s = dad_probe("2001:db8::1");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_all_nodes, mac_ext, RTE_ETHER_TYPE_IPV6);
	/* Override only: not Solicited */
	assert_na(cap.sent[0], "2001:db8::1", "ff02::1", 0x20, mac_ext);
	assert_int_equal(cap.stats.arp_replies, 1);
}

static void
test_dad_probe_changes_no_cache_entry(void **state)
{
	struct el_ip gw = ip("2001:db8::fe");
	neigh_learn(*state, &snap, 0, &gw, mac_gw, 1000, &tx);
	/* a probe for the gateway's own address, from another MAC */
	struct nd_spec s = dad_probe("2001:db8::fe");
	nd_in(*state, 0, &s, 1001);
	assert_int_equal(last_learned, 0);
	s = dad_probe("2001:db8::1");
	nd_in(*state, 0, &s, 1002);
	assert_int_equal(last_learned, 0);
	cap_reset();
	neigh_output(*state, &snap, 0, &gw, ip6_packet(7), 1003, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_gw, mac_ext, RTE_ETHER_TYPE_IPV6);
}

static void
test_dad_probe_for_other_address_is_not_answered(void **state)
{
	struct nd_spec s = dad_probe("2001:db8::77");
	nd_in(*state, 0, &s, 1000);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(cap.drops[EL_DROP_NOT_OURS], 1);
}

/* ---- Neighbor Advertisement ---- */

static void
test_na_resolves_and_releases_waiting_packets(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 1, &pod, ip6_packet(2), 1001, &tx);
	assert_int_equal(neigh_pending(*state), 2);
	cap_reset();

	struct nd_spec s = na_from("2001:db8:2::14", mac_pod);
	nd_in(*state, 1, &s, 1010);
	assert_int_equal(last_learned, 1);
	assert_true(el_ip_eq(&last_learned_ip, &pod));
	assert_memory_equal(last_learned_mac, mac_pod, 6);
	assert_int_equal(neigh_pending(*state), 0);
	assert_int_equal(cap.n_sent, 2);
	assert_int_equal(cap.n_dropped, 0); /* the NA itself is consumed, not dropped */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(cap.sent_iface[i], 1);
		assert_eth(cap.sent[i], mac_pod, mac_int, RTE_ETHER_TYPE_IPV6);
		assert_int_equal(rte_pktmbuf_mtod(cap.sent[i], uint8_t *)[14], i + 1);
	}
}

static void
test_na_updates_a_known_neighbour(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_learn(*state, &snap, 1, &pod, mac_pod, 1000, &tx);
	struct nd_spec s = na_from("2001:db8:2::14", mac_pod2);
	s.flags = 0x20; /* unsolicited, Override */
	s.dst = "ff02::1";
	nd_in(*state, 1, &s, 1010);
	assert_int_equal(last_learned, 1);
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1011, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_pod2, mac_int, RTE_ETHER_TYPE_IPV6);
}

static void
test_na_without_override_keeps_a_known_address(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_learn(*state, &snap, 1, &pod, mac_pod, 1000, &tx);
	struct nd_spec s = na_from("2001:db8:2::14", mac_pod2);
	s.flags = 0x40; /* Solicited, no Override */
	nd_in(*state, 1, &s, 1010);
	assert_int_equal(last_learned, 0);
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1011, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_pod, mac_int, RTE_ETHER_TYPE_IPV6);
}

static void
test_unsolicited_na_creates_no_entry(void **state)
{
	struct el_ip pod = ip("2001:db8:2::77");
	struct nd_spec s = na_from("2001:db8:2::77", mac_pod);
	s.flags = 0x20;
	nd_in(*state, 1, &s, 1000);
	assert_int_equal(last_learned, 0);
	assert_int_equal(cap.n_dropped, 0);
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1001, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_int_equal(count_ns(), 1);
}

static void
test_na_claiming_our_address_teaches_nothing(void **state)
{
	struct nd_spec s = na_from("2001:db8:2::1", mac_pod);
	s.flags = 0x20;
	s.dst = "ff02::1";
	nd_in(*state, 1, &s, 1000);
	assert_int_equal(last_learned, 0);
	assert_int_equal(cap.n_sent, 0);
}

/* ---- malformed messages: dropped as bad_nd, nothing sent or learned ---- */

static void
assert_bad_nd(void **state, const struct nd_spec *s, void (*corrupt)(struct rte_mbuf *))
{
	struct rte_mbuf *m = nd_frame(s);
	if (corrupt != NULL)
		corrupt(m);
	last_learned = -1;
	neigh_nd_input(*state, &snap, 0, m, L3_OFF, icmp_off_of_last, 1000, &tx, NULL, NULL,
		       &last_learned);
	assert_int_equal(cap.drops[EL_DROP_BAD_ND], 1);
	assert_int_equal(cap.n_dropped, 1);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(cap.stats.arp_replies, 0);
	assert_int_equal(last_learned, 0);
	/* the sender was not learned either */
	struct el_ip gw = ip("2001:db8::fe");
	neigh_output(*state, &snap, 0, &gw, ip6_packet(7), 1001, &tx);
	assert_int_equal(neigh_pending(*state), 1);
}

static void
test_hop_limit_254_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.hlim = 254;
	assert_bad_nd(state, &s, NULL);
}

static void
flip_checksum(struct rte_mbuf *m)
{
	rte_pktmbuf_mtod(m, uint8_t *)[L3_OFF + 40 + 2] ^= 0x01;
}

static void
test_bad_checksum_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	assert_bad_nd(state, &s, flip_checksum);
}

static void
test_message_shorter_than_24_bytes_is_bad_nd(void **state)
{
	/* an NS cut to 16 bytes, its checksum and length right for that */
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.opt_type = 0;
	struct rte_mbuf *m = nd_frame(&s);
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	b[L3_OFF + 5] = 16;
	rte_pktmbuf_trim(m, 8);
	icmp6_fill_csum(b + L3_OFF + 8, b + L3_OFF + 24, b + L3_OFF + 40, 16);
	last_learned = -1;
	neigh_nd_input(*state, &snap, 0, m, L3_OFF, L3_OFF + 40, 1000, &tx, NULL, NULL,
		       &last_learned);
	assert_int_equal(cap.drops[EL_DROP_BAD_ND], 1);
	assert_int_equal(cap.n_sent, 0);
}

static void
cut_frame(struct rte_mbuf *m)
{
	rte_pktmbuf_trim(m, 10); /* the payload length now promises more than there is */
}

static void
test_frame_shorter_than_its_payload_length_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	assert_bad_nd(state, &s, cut_frame);
}

static void
test_option_length_0_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.opt_len_zero = true;
	assert_bad_nd(state, &s, NULL);
}

static void
test_option_past_the_end_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	struct rte_mbuf *m;
	s.opt_len = 1;
	m = nd_frame(&s);
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t src[16], dst[16];
	memcpy(src, b + L3_OFF + 8, 16);
	memcpy(dst, b + L3_OFF + 24, 16);
	b[L3_OFF + 40 + 25] = 2; /* 16 bytes claimed, 8 present */
	icmp6_fill_csum(src, dst, b + L3_OFF + 40, 32);
	last_learned = -1;
	neigh_nd_input(*state, &snap, 0, m, L3_OFF, L3_OFF + 40, 1000, &tx, NULL, NULL,
		       &last_learned);
	assert_int_equal(cap.drops[EL_DROP_BAD_ND], 1);
	assert_int_equal(cap.n_sent, 0);
}

static void
test_multicast_target_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.target = "ff02::1";
	assert_bad_nd(state, &s, NULL);
}

static void
test_code_other_than_0_is_bad_nd(void **state)
{
	struct nd_spec s = ns_from_gw("2001:db8::1");
	s.code = 1;
	assert_bad_nd(state, &s, NULL);
}

static void
test_dad_probe_with_slla_is_bad_nd(void **state)
{
	struct nd_spec s = dad_probe("2001:db8::1");
	s.opt_type = 1;
	s.opt_mac = mac_pod2;
	assert_bad_nd(state, &s, NULL);
}

static void
test_dad_probe_to_a_unicast_address_is_bad_nd(void **state)
{
	struct nd_spec s = dad_probe("2001:db8::1");
	s.dst = "2001:db8::1";
	assert_bad_nd(state, &s, NULL);
}

static void
test_solicited_na_to_multicast_is_bad_nd(void **state)
{
	struct nd_spec s = na_from("2001:db8::fe", mac_gw);
	s.dst = "ff02::1";
	assert_bad_nd(state, &s, NULL);
}

/* ---- resolution of IPv6 next hops ---- */

static void
test_unresolved_next_hop_gets_one_ns_and_its_packet_waits(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1000, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_ns(0, 1, "2001:db8:2::1", "2001:db8:2::14");
	assert_int_equal(cap.stats.arp_requests, 1);
	assert_int_equal(neigh_pending(*state), 1);
	/* a second packet within the retry interval asks nothing more */
	neigh_output(*state, &snap, 1, &pod, ip6_packet(2), 1500, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_int_equal(neigh_pending(*state), 2);
	assert_int_equal(cap.n_dropped, 0);
}

static void
test_ns_source_is_the_interface_address_in_the_target_prefix(void **state)
{
	struct el_ip a = ip("2001:db8:1::9"), b = ip("2001:db8:7::9");
	neigh_output(*state, &snap, 0, &a, ip6_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 0, &b, ip6_packet(2), 1000, &tx);
	assert_int_equal(cap.n_sent, 2);
	assert_ns(0, 0, "2001:db8:1::1", "2001:db8:1::9");
	/* no prefix holds it: the first IPv6 address of the interface */
	assert_ns(1, 0, "2001:db8::1", "2001:db8:7::9");
}

static void
test_interface_without_ipv6_address_sends_no_ns(void **state)
{
	snap.ifaces[1].n_addrs = 1; /* only 198.18.2.1/24 left */
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1000, &tx);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(neigh_pending(*state), 1);
}

static void
test_unanswered_ns_is_retried_then_packets_are_dropped(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	neigh_output(*state, &snap, 1, &pod, ip6_packet(1), 1000, &tx);
	neigh_housekeeping(*state, &snap, 1999, &tx);
	assert_int_equal(count_ns(), 1);
	neigh_housekeeping(*state, &snap, 2000, &tx);
	assert_int_equal(count_ns(), 2);
	neigh_housekeeping(*state, &snap, 3000, &tx);
	assert_int_equal(count_ns(), 3);
	neigh_housekeeping(*state, &snap, 4000, &tx);
	assert_int_equal(count_ns(), 3);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_UNRESOLVED], 1);
	assert_int_equal(neigh_pending(*state), 0);
}

static void
test_waiting_queue_of_a_v6_next_hop_is_bounded(void **state)
{
	struct el_ip pod = ip("2001:db8:2::14");
	for (unsigned i = 0; i < 9; i++)
		neigh_output(*state, &snap, 1, &pod, ip6_packet((uint8_t)i), 1000, &tx);
	assert_int_equal(neigh_pending(*state), 8);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_PENDING_FULL], 1);
}

static void
test_waiting_packets_of_both_families_share_the_table(void **state)
{
	struct el_ip p6 = ip("2001:db8:2::14"), p4 = ip("198.18.2.14");
	neigh_output(*state, &snap, 1, &p6, ip6_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 1, &p4, ip6_packet(2), 1000, &tx);
	assert_int_equal(neigh_pending(*state), 2);
	assert_int_equal(cap.stats.arp_requests, 2);
	assert_int_equal(count_ns(), 1);
}

static void
test_ethertype_follows_the_next_hop_family(void **state)
{
	struct el_ip s6 = ip("2001:db8::5e"), s4 = ip("198.18.0.94");
	neigh_output(*state, &snap, 0, &s6, ip6_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 0, &s4, ip6_packet(2), 1000, &tx);
	assert_int_equal(cap.n_sent, 2);
	assert_eth(cap.sent[0], mac_static, mac_ext, RTE_ETHER_TYPE_IPV6);
	assert_eth(cap.sent[1], mac_static, mac_ext, RTE_ETHER_TYPE_IPV4);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],	   "--no-huge", "-m", "256",	     "--no-shconf",
		       "--no-pci", "-l",	"0",  "--log-level", "lib.eal:error"};
	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("neigh6_test", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "no mbuf pool\n");
		return 1;
	}
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_ns_for_interface_address_is_answered_in_place),
	    T(test_ns_for_vip_and_snat_addresses_is_answered),
	    T(test_ns_behind_a_hop_by_hop_header_is_answered_without_it),
	    T(test_ns_without_option_is_answered_to_the_frame_source),
	    T(test_ns_for_other_address_is_dropped_as_not_ours),
	    T(test_ns_with_slla_teaches_the_sender),
	    T(test_ns_not_for_us_teaches_nothing_new),
	    T(test_dad_probe_for_our_address_is_answered_to_all_nodes),
	    T(test_dad_probe_changes_no_cache_entry),
	    T(test_dad_probe_for_other_address_is_not_answered),
	    T(test_na_resolves_and_releases_waiting_packets),
	    T(test_na_updates_a_known_neighbour),
	    T(test_na_without_override_keeps_a_known_address),
	    T(test_unsolicited_na_creates_no_entry),
	    T(test_na_claiming_our_address_teaches_nothing),
	    T(test_hop_limit_254_is_bad_nd),
	    T(test_bad_checksum_is_bad_nd),
	    T(test_message_shorter_than_24_bytes_is_bad_nd),
	    T(test_frame_shorter_than_its_payload_length_is_bad_nd),
	    T(test_option_length_0_is_bad_nd),
	    T(test_option_past_the_end_is_bad_nd),
	    T(test_multicast_target_is_bad_nd),
	    T(test_code_other_than_0_is_bad_nd),
	    T(test_dad_probe_with_slla_is_bad_nd),
	    T(test_dad_probe_to_a_unicast_address_is_bad_nd),
	    T(test_solicited_na_to_multicast_is_bad_nd),
	    T(test_unresolved_next_hop_gets_one_ns_and_its_packet_waits),
	    T(test_ns_source_is_the_interface_address_in_the_target_prefix),
	    T(test_interface_without_ipv6_address_sends_no_ns),
	    T(test_unanswered_ns_is_retried_then_packets_are_dropped),
	    T(test_waiting_queue_of_a_v6_next_hop_is_bounded),
	    T(test_waiting_packets_of_both_families_share_the_table),
	    T(test_ethertype_follows_the_next_hop_family),
	};
#undef T
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
