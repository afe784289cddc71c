/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv6 path of the worker beyond single packets (what the fixtures of
 * fixtures6.py cannot show with one worker and no control messages): the
 * hand-off of an IPv6 reply to the worker owning its SNAT port, ClientIP
 * affinity of an IPv6 client shared with a peer, neighbours learned by ND
 * shared with a peer, the flush of a backend's IPv6 UDP flows, idle expiry
 * in housekeeping, and the listing of IPv6 flows.
 *
 * Snapshot: tests/packet/edgelb6.yaml and tests/packet/manifests6.
 * Usage: test_worker6 CONFIG MANIFEST_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/csum.h"
#include "edgelb/maglev.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"
#include "worker_test.h"

#define EXT 0
#define INT 1

#define NODE   "2001:db8::1"
#define SNAT   "2001:db8:2::1"
#define CLIENT "2001:db8:100::7"
#define STICKY "2001:db8::101"
#define DNS    "2001:db8::102"
#define NDSVC  "2001:db8:3::50"
#define POD_ND "2001:db8:2::14"

static const uint8_t mac_ext[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_int[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t mac_pod_nd[6] = {0x02, 0, 0, 0, 0x02, 0x0e};

static const char *config_path, *manifest_dir;
static struct rte_mempool *pool;
static struct test_snap ts;
static struct el_snapshot *snap; /* ts.snap */

static void
ip6(const char *s, uint8_t a[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct rte_mbuf *
mbuf(const uint8_t *b, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	void *d = rte_pktmbuf_append(m, len);
	assert_non_null(d);
	memcpy(d, b, len);
	return m;
}

/* Ethernet + IPv6 header into @p b; returns the offset of the payload. */
static unsigned
frame6(uint8_t *b, const uint8_t *dmac, const uint8_t *smac, const char *src, const char *dst,
       uint8_t nh, uint16_t plen, uint8_t hlim)
{
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	put16(b + 12, 0x86dd);
	uint8_t *ip = b + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = hlim;
	ip6(src, ip + 8);
	ip6(dst, ip + 24);
	return 54;
}

/* Checksum the upper layer of the IPv6 frame @p b (no extension headers). */
static void
fix_l4(uint8_t *b, unsigned coff)
{
	uint8_t *ip = b + 14, *l4 = ip + 40;
	uint16_t len = get16(ip + 4);
	l4[coff] = l4[coff + 1] = 0;
	uint16_t c = csum_ip6_l4(ip + 8, ip + 24, ip[6], l4, len);
	memcpy(l4 + coff, &c, 2);
}

static struct rte_mbuf *
tcp6(const uint8_t *dmac, const uint8_t *smac, const char *src, const char *dst, uint16_t sport,
     uint16_t dport, uint8_t flags)
{
	uint8_t b[74] = {0};
	unsigned o = frame6(b, dmac, smac, src, dst, IPPROTO_TCP, 20, 64);
	put16(b + o, sport);
	put16(b + o + 2, dport);
	b[o + 7] = 1; /* seq */
	b[o + 12] = 5 << 4;
	b[o + 13] = flags;
	put16(b + o + 14, 64240);
	fix_l4(b, 16);
	return mbuf(b, sizeof(b));
}

static struct rte_mbuf *
udp6(const uint8_t *dmac, const uint8_t *smac, const char *src, const char *dst, uint16_t sport,
     uint16_t dport)
{
	uint8_t b[54 + 8 + 12] = {0};
	unsigned o = frame6(b, dmac, smac, src, dst, IPPROTO_UDP, 20, 64);
	put16(b + o, sport);
	put16(b + o + 2, dport);
	put16(b + o + 4, 20);
	fix_l4(b, 6);
	return mbuf(b, sizeof(b));
}

/* Source port of the captured IPv6 TCP/UDP frame @p k. */
static uint16_t
cap_sport(const struct capture *c, unsigned k)
{
	return get16(c->data[k] + 54);
}

static bool
cap_dst_is(const struct capture *c, unsigned k, const char *addr)
{
	uint8_t a[16];
	ip6(addr, a);
	return memcmp(c->data[k] + 14 + 24, a, 16) == 0;
}

static int
pair_setup(void **state)
{
	static struct pair p;
	*state = &p;
	return pair_create(&p, pool, true);
}

static void
run(struct pair *p, unsigned i, uint8_t iface, struct rte_mbuf *m, uint64_t now)
{
	worker_process_burst(p->w[i], snap, iface, &m, 1, now);
}

static void
housekeeping(struct pair *p, uint64_t now)
{
	worker_poll_housekeeping(p->w[0], snap, now);
	worker_poll_housekeeping(p->w[1], snap, now);
}

static void
reply_to_a_snat_port_of_the_peer_is_handed_off(void **state)
{
	struct pair *p = *state;

	/* worker 1 opens the flow: its SNAT port is in worker 1's slice */
	run(p, 1, EXT, tcp6(mac_ext, mac_gw, CLIENT, NDSVC, 40000, 80, 0x02), 1000);
	/* the pod is resolved by ND: answer the solicitation */
	assert_int_equal(p->cap[1].n, 1);
	uint8_t na[54 + 32] = {0};
	unsigned o = frame6(na, mac_int, mac_pod_nd, POD_ND, SNAT, 58, 32, 255);
	na[o] = 136;
	na[o + 4] = 0x60; /* Solicited, Override */
	ip6(POD_ND, na + o + 8);
	na[o + 24] = 2; /* Target Link-Layer Address */
	na[o + 25] = 1;
	memcpy(na + o + 26, mac_pod_nd, 6);
	fix_l4(na, 2);
	run(p, 1, INT, mbuf(na, sizeof(na)), 1001);
	assert_int_equal(p->cap[1].n, 2);
	assert_true(cap_dst_is(&p->cap[1], 1, POD_ND));
	uint16_t lport = cap_sport(&p->cap[1], 1);
	assert_true(lport >= 33280); /* worker 1's half of 1024..65535 */

	/* the pod's SYN+ACK reaches worker 0, which hands it over */
	struct el_worker_stats st;
	run(p, 0, INT, tcp6(mac_int, mac_pod_nd, POD_ND, SNAT, 8080, lport, 0x12), 1002);
	worker_stats_read(p->w[0], &st);
	assert_int_equal(st.handoffs, 1);
	assert_int_equal(p->cap[0].n, 0);
	housekeeping(p, 1003);
	assert_int_equal(p->cap[1].n, 3);
	assert_int_equal(p->cap[1].iface[2], EXT);
	assert_true(cap_dst_is(&p->cap[1], 2, CLIENT));
	assert_int_equal(cap_sport(&p->cap[1], 2), 80);
}

static void
neighbour_learned_by_nd_is_shared_with_the_peer(void **state)
{
	struct pair *p = *state;

	/* the previous test taught worker 1 the pod's MAC; worker 0 heard it
	 * in its housekeeping and sends a SYN to the pod without asking */
	unsigned before = p->cap[0].n;
	run(p, 0, EXT, tcp6(mac_ext, mac_gw, CLIENT, NDSVC, 40001, 80, 0x02), 2000);
	assert_int_equal(p->cap[0].n, before + 1);
	assert_true(cap_dst_is(&p->cap[0], before, POD_ND));
	assert_memory_equal(p->cap[0].data[before], mac_pod_nd, 6);
}

/* The pod Maglev alone picks for CLIENT:cport -> STICKY:80. */
static const uint8_t *
maglev_pod(uint16_t cport)
{
	struct el_ip vip = {.family = EL_AF_INET6};
	uint8_t client[16];
	ip6(STICKY, vip.v6);
	ip6(CLIENT, client);
	const struct el_snap_fe *fe = snapshot_fe_lookup(snap, &vip, htons(80), IPPROTO_TCP);
	assert_non_null(fe);
	const struct el_snap_svc *svc = snap->svcs[fe->svc];
	uint32_t h = worker_flow_hash6(client, htons(cport), vip.v6, htons(80), IPPROTO_TCP);
	uint32_t i = maglev_lookup(svc->maglev, svc->maglev_size, h);
	assert_true(i < svc->n_backends);
	return svc->backends[i].ip.v6;
}

static void
ipv6_client_affinity_holds_on_the_peer(void **state)
{
	struct pair *p = *state;

	run(p, 0, EXT, tcp6(mac_ext, mac_gw, CLIENT, STICKY, 41000, 80, 0x02), 3000);
	unsigned k0 = p->cap[0].n - 1;
	const uint8_t *pod = p->cap[0].data[k0] + 14 + 24;
	assert_memory_equal(pod, maglev_pod(41000), 16);
	housekeeping(p, 3001);

	/* the peer's first flow of this client, from a port Maglev alone
	 * would send elsewhere, goes to the same pod */
	uint16_t cport = 41001;
	while (memcmp(maglev_pod(cport), pod, 16) == 0)
		assert_true(++cport < 42000);
	unsigned k1 = p->cap[1].n;
	run(p, 1, EXT, tcp6(mac_ext, mac_gw, CLIENT, STICKY, cport, 80, 0x02), 3002);
	assert_int_equal(p->cap[1].n, k1 + 1);
	assert_memory_equal(p->cap[1].data[k1] + 14 + 24, pod, 16);
}

static void
ipv6_flows_are_listed(void **state)
{
	struct pair *p = *state;
	struct el_conn_info c[64];
	uint8_t client[16], front[16];

	ip6(CLIENT, client);
	ip6(STICKY, front);
	unsigned n = worker_conns(p->w[1], c, 64, 4000);
	assert_int_equal(n, 2); /* the flows of the two tests above */
	bool found = false;
	for (unsigned i = 0; i < n; i++) {
		if (c[i].client.family != EL_AF_INET6 || c[i].fport != 80 ||
		    memcmp(c[i].frontend.v6, front, 16) != 0)
			continue;
		found = true;
		assert_memory_equal(c[i].client.v6, client, 16);
		assert_true(c[i].cport > 41000);
		assert_int_equal(c[i].bport, 8080);
		assert_int_equal(c[i].snat.family, EL_AF_INET6);
		assert_int_equal(c[i].proto, IPPROTO_TCP);
		assert_int_equal(c[i].state, EL_CT_SYN_SENT);
	}
	assert_true(found);
}

static void
flushed_backend_loses_its_ipv6_udp_flows(void **state)
{
	struct pair *p = *state;
	struct el_conn_info c[64];
	struct el_worker_stats a, b;

	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50000, 53), 5000);
	unsigned n = worker_conns(p->w[0], c, 64, 5000), udp = n;
	for (unsigned i = 0; i < n; i++)
		if (c[i].proto == IPPROTO_UDP)
			udp = i;
	assert_true(udp < n);
	worker_stats_read(p->w[0], &a);
	assert_int_equal(worker_post_flush_backends(p->w[0], &c[udp].backend_id, 1), 0);
	for (uint64_t t = 5001; t < 5400; t += 10)
		worker_poll_housekeeping(p->w[0], snap, t);
	worker_stats_read(p->w[0], &b);
	assert_int_equal(b.flows_active, a.flows_active - 1);
	n = worker_conns(p->w[0], c, 64, 5400);
	for (unsigned i = 0; i < n; i++)
		assert_int_not_equal(c[i].proto, IPPROTO_UDP);
}

static void
idle_ipv6_flows_expire_in_housekeeping(void **state)
{
	struct pair *p = *state;
	struct el_worker_stats a, b;
	uint64_t t = 10000;

	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50001, 53), t);
	worker_stats_read(p->w[0], &a);
	b = a;
	/* every flow of worker 0 is idle past its timeout a day later */
	for (t += 86400ull * 1000 + 3600ull * 1000; b.flows_active != 0 && t < 10000000000ull;
	     t += 50) {
		worker_poll_housekeeping(p->w[0], snap, t);
		worker_stats_read(p->w[0], &b);
	}
	worker_stats_read(p->w[0], &b);
	assert_int_equal(b.flows_active, 0);
	assert_int_equal(b.flows_expired - a.flows_expired, a.flows_active);
	assert_int_equal(worker_conns(p->w[0], (struct el_conn_info[4]){0}, 4, t), 0);
}

/* A new snapshot whose static neighbour of the pod has another MAC and
 * another place in the list: the worker's route cache, filled under the
 * old snapshot, must not keep sending to the old entry. */
static void
new_snapshot_neighbour_mac_is_used_at_once(void **state)
{
	struct pair *p = *state;
	const uint8_t mac_pod11[6] = {0x02, 0, 0, 0, 0x02, 0x0b};
	const uint8_t mac_moved[6] = {0x02, 0, 0, 0, 0x09, 0x0b};
	struct el_ip pod = {0};
	assert_int_equal(el_ip_parse("2001:db8:2::11", &pod), 0);

	p->cap[0].n = 0;
	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50077, 53), 20000);
	assert_int_equal(p->cap[0].n, 1);
	assert_true(cap_dst_is(&p->cap[0], 0, "2001:db8:2::11"));
	assert_memory_equal(p->cap[0].data[0], mac_pod11, 6);

	struct el_snapshot next = *snap;
	struct el_snap_neigh neighs[16];
	assert_true(snap->n_neighs <= 16);
	/* listed one place further down, so the entry's index changes too */
	for (unsigned i = 0; i < snap->n_neighs; i++)
		neighs[(i + 1) % snap->n_neighs] = snap->neighs[i];
	unsigned moved = 0;
	for (unsigned i = 0; i < snap->n_neighs; i++)
		if (snapshot_ip_eq(&neighs[i].ip, &pod)) {
			memcpy(neighs[i].mac, mac_moved, 6);
			moved++;
		}
	assert_int_equal(moved, 1);
	next.neighs = neighs;
	next.generation = snap->generation + 1;

	p->cap[0].n = 0;
	worker_process_burst(p->w[0], &next, EXT,
			     (struct rte_mbuf *[]){udp6(mac_ext, mac_gw, CLIENT, DNS, 50077, 53)},
			     1, 20001);
	assert_int_equal(p->cap[0].n, 1);
	assert_memory_equal(p->cap[0].data[0], mac_moved, 6);
	/* and back: the old snapshot's MAC again */
	p->cap[0].n = 0;
	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50077, 53), 20002);
	assert_int_equal(p->cap[0].n, 1);
	assert_memory_equal(p->cap[0].data[0], mac_pod11, 6);
}

/* A pod's answer counts only on the interface its pod is routed out of,
 * also once the flow remembers the pod's neighbour (from its second
 * packet on): on ext it is a wrong_iface drop, on int it goes to the
 * client. */
static void
ipv6_reply_comes_in_where_its_pod_is_routed(void **state)
{
	struct pair *p = *state;
	struct el_worker_stats a, b;
	char pod[INET6_ADDRSTRLEN];

	p->cap[0].n = 0;
	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50100, 53), 30000);
	run(p, 0, EXT, udp6(mac_ext, mac_gw, CLIENT, DNS, 50100, 53), 30001);
	assert_int_equal(p->cap[0].n, 2);
	assert_int_equal(p->cap[0].iface[1], INT);
	assert_non_null(inet_ntop(AF_INET6, p->cap[0].data[1] + 14 + 24, pod, sizeof(pod)));
	uint16_t lport = cap_sport(&p->cap[0], 1), bport = get16(p->cap[0].data[1] + 56);
	const uint8_t *pod_mac = p->cap[0].data[1];

	worker_stats_read(p->w[0], &a);
	run(p, 0, EXT, udp6(mac_ext, mac_gw, pod, SNAT, bport, lport), 30002);
	worker_stats_read(p->w[0], &b);
	assert_int_equal(p->cap[0].n, 2);
	assert_int_equal(b.drops[EL_DROP_WRONG_IFACE] - a.drops[EL_DROP_WRONG_IFACE], 1);

	run(p, 0, INT, udp6(mac_int, pod_mac, pod, SNAT, bport, lport), 30003);
	assert_int_equal(p->cap[0].n, 3);
	assert_int_equal(p->cap[0].iface[2], EXT);
	assert_true(cap_dst_is(&p->cap[0], 2, CLIENT));
	assert_int_equal(cap_sport(&p->cap[0], 2), 53);
}

/* ---- routes ---- */

#define MAC_POD(last) ((const uint8_t[6]){0x02, 0, 0, 0, 0x02, (last)})

/* An ICMPv6 echo request from @p src to the sticky VIP, as the upstream
 * router delivers it on ext. */
static struct rte_mbuf *
echo6(const char *src)
{
	uint8_t b[54 + 8 + 8] = {0};
	unsigned o = frame6(b, mac_ext, mac_gw, src, STICKY, IPPROTO_ICMPV6, 16, 64);
	b[o] = 128; /* echo request */
	put16(b + o + 4, 7);
	put16(b + o + 6, 1);
	fix_l4(b, 2);
	return mbuf(b, sizeof(b));
}

/* Ping the VIP from @p src on worker 0 through snapshot @p s; the answer
 * must leave on @p iface for @p mac, addressed to @p src. */
static void
answer6_goes(struct pair *p, const struct el_snapshot *s, const char *src, uint8_t iface,
	     const uint8_t mac[6])
{
	unsigned k = pair_one_out(p, s, EXT, echo6(src), iface, mac);
	assert_true(cap_dst_is(&p->cap[0], k, src));
}

/* @p pad host routes for 2001:db8:50::x via pod ::11, a host route for
 * CLIENT via pod ::13, its /64 via pod ::12 and 2001:db8:200::/39 (a mask
 * that ends inside a byte: 2001:db8:300:: is in, 2001:db8:400:: is not)
 * via pod ::11, all on int. */
static unsigned
client_routes6(struct el_snap_route *r, unsigned pad)
{
	unsigned n = 0;
	char a[INET6_ADDRSTRLEN];
	for (unsigned i = 0; i < pad; i++) {
		snprintf(a, sizeof(a), "2001:db8:50::%x", i + 1);
		r[n++] = test_route(a, 128, "2001:db8:2::11", INT);
	}
	r[n++] = test_route(CLIENT, 128, "2001:db8:2::13", INT);
	r[n++] = test_route("2001:db8:100::", 64, "2001:db8:2::12", INT);
	r[n++] = test_route("2001:db8:200::", 39, "2001:db8:2::11", INT);
	return n;
}

/* Longest prefix wins, the same with few IPv6 routes (scanned before the
 * route cache) and with more than the worker scans (the cache alone); a
 * new snapshot's routes are used at once, and the old ones again after. */
static void
ipv6_echo_answer_takes_the_longest_matching_route(void **state)
{
	struct pair *p = *state;
	struct el_snap_route extra[ROUTES_MAX];
	static struct routed rt;
	const uint8_t mac_client5[6] = {2, 0, 0, 0, 0, 5};

	for (unsigned pad = 0; pad <= 24; pad += 24) {
		p->cap[0].n = 0;
		answer6_goes(p, snap, CLIENT, EXT, mac_gw);
		answer6_goes(p, snap, "2001:db8::5", EXT, mac_client5);
		routed(&rt, snap, extra, client_routes6(extra, pad), false, EL_AF_INET6);
		answer6_goes(p, &rt.s, CLIENT, INT, MAC_POD(0x0d));
		answer6_goes(p, &rt.s, "2001:db8:100::8", INT, MAC_POD(0x0c));
		answer6_goes(p, &rt.s, "2001:db8:101::8", EXT, mac_gw);
		answer6_goes(p, &rt.s, "2001:db8:300::8", INT, MAC_POD(0x0b));
		answer6_goes(p, &rt.s, "2001:db8:400::8", EXT, mac_gw);
		answer6_goes(p, &rt.s, "2001:db8::5", EXT, mac_client5);
		if (pad != 0)
			answer6_goes(p, &rt.s, "2001:db8:50::3", INT, MAC_POD(0x0b));
		answer6_goes(p, snap, CLIENT, EXT, mac_gw);
	}
	p->cap[0].n = 0;
}

/* No route, or a matching route whose gateway is an IPv4 address: no
 * answer, counted as no_route. */
static void
ipv6_echo_answer_without_a_usable_route_is_dropped(void **state)
{
	struct pair *p = *state;
	struct el_snap_route extra[ROUTES_MAX];
	static struct routed rt;
	const char *lost[] = {"2001:db8:101::8", "2001:db8:102::8"};

	for (unsigned pad = 0; pad <= 24; pad += 24) {
		unsigned n = client_routes6(extra, pad);
		extra[n++] = test_route("2001:db8:102::", 64, "198.18.2.12", INT);
		routed(&rt, snap, extra, n, true, EL_AF_INET6);
		p->cap[0].n = 0;
		answer6_goes(p, &rt.s, CLIENT, INT, MAC_POD(0x0d));
		for (unsigned k = 0; k < 2; k++)
			pair_dropped(p, &rt.s, EXT, echo6(lost[k]), EL_DROP_NO_ROUTE);
	}
	p->cap[0].n = 0;
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],		"--no-huge", "-m", "256",	  "--no-shconf",
		       "--no-pci",	"-l",	     "0",  "--log-level", "lib.eal:error",
		       "--no-telemetry"};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reply_to_a_snat_port_of_the_peer_is_handed_off),
	    cmocka_unit_test(neighbour_learned_by_nd_is_shared_with_the_peer),
	    cmocka_unit_test(ipv6_client_affinity_holds_on_the_peer),
	    cmocka_unit_test(ipv6_flows_are_listed),
	    cmocka_unit_test(flushed_backend_loses_its_ipv6_udp_flows),
	    cmocka_unit_test(idle_ipv6_flows_expire_in_housekeeping),
	    cmocka_unit_test(new_snapshot_neighbour_mac_is_used_at_once),
	    cmocka_unit_test(ipv6_reply_comes_in_where_its_pod_is_routed),
	    cmocka_unit_test(ipv6_echo_answer_takes_the_longest_matching_route),
	    cmocka_unit_test(ipv6_echo_answer_without_a_usable_route_is_dropped),
	};
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CONFIG MANIFEST_DIR\n", argv[0]);
		return 2;
	}
	config_path = argv[1];
	manifest_dir = argv[2];
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("w6", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || test_snap_load(&ts, config_path, manifest_dir, mac_ext, mac_int) != 0)
		return 1;
	snap = ts.snap;
	rc = cmocka_run_group_tests(tests, pair_setup, pair_teardown);
	test_snap_free(&ts);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
