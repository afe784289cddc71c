/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 worker behaviour that needs two workers or a hand-made snapshot, on
 * the snapshot of tests/packet/edgelb.yaml and tests/packet/manifests.
 *
 * ClientIP affinity across workers: two workers connected with
 * worker_set_peers(), service "sticky" (198.18.0.101:80, affinity 10 s,
 * three pods). A client's first flow lands on worker 0; RSS may hand its
 * next flow to worker 1, which must send it to the same pod. Client ports
 * are chosen so that Maglev alone would pick another pod for the second
 * flow, so only the replicated affinity entry can make it match.
 *
 * Routes: the answer to an ICMP echo goes out by the longest matching route
 * of the snapshot in use, with few routes and with more than the worker
 * scans before its route cache; so do the packets of a tracked flow, which
 * remembers where its pod was reached.
 *
 * Usage: test_worker4 CONFIG MANIFEST_DIR
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
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/maglev.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"
#include "worker_test.h"

#define STICKY_VIP "198.18.0.101"
#define CLIENT	   "198.18.100.7"

static const uint8_t mac_ext[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_int[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};

static const char *config_path, *manifest_dir;
static struct rte_mempool *pool;
static struct test_snap ts;
static struct el_snapshot *snap; /* ts.snap */

/* The IPv4 destination of captured frame @p k. */
static uint32_t
cap_dst4(const struct capture *c, unsigned k)
{
	uint32_t a;
	memcpy(&a, c->data[k] + sizeof(struct rte_ether_hdr) + 16, 4);
	return a;
}

static uint32_t
ip4(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

#define FRAME_MAX 128

/* Ethernet and IPv4 header of a packet from @p src to the sticky VIP with
 * @p l4_len bytes of protocol @p proto, as the upstream router delivers it
 * on ext, into @p b (zeroed, FRAME_MAX bytes); returns the IPv4 header. The
 * header checksum is left to the caller, once the payload is written. */
static struct rte_ipv4_hdr *
frame4(uint8_t *b, const char *src, uint8_t proto, uint16_t l4_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	memset(b, 0, FRAME_MAX);
	memcpy(eth->dst_addr.addr_bytes, mac_ext, 6);
	memcpy(eth->src_addr.addr_bytes, mac_gw, 6);
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(sizeof(*ip) + l4_len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = ip4(src);
	ip->dst_addr = ip4(STICKY_VIP);
	return ip;
}

/* An mbuf holding the frame whose IPv4 header frame4() wrote at @p ip. */
static struct rte_mbuf *
frame4_mbuf(struct rte_ipv4_hdr *ip)
{
	const uint8_t *b = (const uint8_t *)ip - sizeof(struct rte_ether_hdr);
	uint16_t len = (uint16_t)(sizeof(struct rte_ether_hdr) + ntohs(ip->total_length));

	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	void *d = rte_pktmbuf_append(m, len);
	assert_non_null(d);
	memcpy(d, b, len);
	return m;
}

/* A TCP segment with @p flags from CLIENT:cport to @p dst:@p dport. */
static struct rte_mbuf *
segment_to(const char *dst, uint16_t dport, uint16_t cport, uint8_t flags)
{
	uint8_t b[FRAME_MAX];
	struct rte_ipv4_hdr *ip = frame4(b, CLIENT, IPPROTO_TCP, sizeof(struct rte_tcp_hdr));
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	ip->dst_addr = ip4(dst);
	tcp->src_port = htons(cport);
	tcp->dst_port = htons(dport);
	tcp->sent_seq = htonl(1000);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = htons(64240);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	return frame4_mbuf(ip);
}

/* A TCP segment with @p flags from CLIENT:cport to the sticky service. */
static struct rte_mbuf *
segment(uint16_t cport, uint8_t flags)
{
	return segment_to(STICKY_VIP, 80, cport, flags);
}

/* A SYN from CLIENT:cport to the sticky service. */
static struct rte_mbuf *
syn(uint16_t cport)
{
	return segment(cport, RTE_TCP_SYN_FLAG);
}

/* The pod Maglev alone picks for CLIENT:cport -> sticky. */
static uint32_t
maglev_pod(uint16_t cport)
{
	struct el_ip vip = el_ip4(ip4(STICKY_VIP));
	const struct el_snap_fe *fe = snapshot_fe_lookup(snap, &vip, htons(80), IPPROTO_TCP);
	assert_non_null(fe);
	const struct el_snap_svc *svc = snap->svcs[fe->svc];
	assert_true(svc->affinity);
	uint32_t h = worker_flow_hash4(ip4(CLIENT), htons(cport), vip.v4, htons(80), IPPROTO_TCP);
	uint32_t i = maglev_lookup(svc->maglev, svc->maglev_size, h);
	assert_true(i < svc->n_backends);
	return svc->backends[i].ip.v4;
}

static int
pair_setup(void **state)
{
	static struct pair p;
	*state = &p;
	return pair_create(&p, pool, false);
}

/* Open a flow from CLIENT:cport on worker @i at @now; returns the pod it
 * was sent to. */
static uint32_t
open_flow(struct pair *p, unsigned i, uint16_t cport, uint64_t now)
{
	struct rte_mbuf *m = syn(cport);
	unsigned before = p->cap[i].n;
	worker_process_burst(p->w[i], snap, 0, &m, 1, now);
	assert_int_equal(p->cap[i].n, before + 1);
	return cap_dst4(&p->cap[i], before);
}

/* A client port whose Maglev pick differs from @pod. */
static uint16_t
port_not_to(uint32_t pod)
{
	for (uint16_t cport = 41000; cport < 42000; cport++)
		if (maglev_pod(cport) != pod)
			return cport;
	fail_msg("every port maps to the same pod");
	return 0;
}

static void
affinity_chosen_on_one_worker_holds_on_its_peer(void **state)
{
	struct pair *p = *state;
	worker_set_peers(p->w[0], p->w, 2);
	worker_set_peers(p->w[1], p->w, 2);

	uint32_t pod = open_flow(p, 0, 40000, 1000);
	worker_poll_housekeeping(p->w[1], snap, 1001);
	uint16_t other = port_not_to(pod);
	assert_int_equal(open_flow(p, 1, other, 1002), pod);
}

static void
without_peers_the_other_worker_picks_by_maglev(void **state)
{
	struct pair *p = *state;

	uint32_t pod = open_flow(p, 0, 40000, 1000);
	worker_poll_housekeeping(p->w[1], snap, 1001);
	uint16_t other = port_not_to(pod);
	assert_int_equal(open_flow(p, 1, other, 1002), maglev_pod(other));
}

static void
replicated_affinity_expires_after_the_service_timeout(void **state)
{
	struct pair *p = *state;
	worker_set_peers(p->w[0], p->w, 2);
	worker_set_peers(p->w[1], p->w, 2);

	uint32_t pod = open_flow(p, 0, 40000, 1000);
	worker_poll_housekeeping(p->w[1], snap, 1001);
	uint16_t other = port_not_to(pod);
	/* sticky's timeoutSeconds is 10 */
	assert_int_equal(open_flow(p, 1, other, 1001 + 10000), maglev_pod(other));
}

static void
affinity_chosen_on_the_peer_comes_back(void **state)
{
	struct pair *p = *state;
	worker_set_peers(p->w[0], p->w, 2);
	worker_set_peers(p->w[1], p->w, 2);

	uint32_t pod = open_flow(p, 1, 40000, 1000);
	worker_poll_housekeeping(p->w[0], snap, 1001);
	uint16_t other = port_not_to(pod);
	assert_int_equal(open_flow(p, 0, other, 1002), pod);
}

/* ---- routes ---- */

#define MAC_POD(last) ((const uint8_t[6]){0x02, 0, 0, 0, 0x02, (last)})
#define EXT_IF	      0
#define INT_IF	      1

/* An ICMP echo request from @p src to the sticky VIP. */
static struct rte_mbuf *
echo(const char *src)
{
	uint8_t b[FRAME_MAX];
	struct rte_ipv4_hdr *ip = frame4(b, src, IPPROTO_ICMP, sizeof(struct rte_icmp_hdr) + 8);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = htons(7);
	icmp->icmp_seq_nb = htons(1);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + 8);
	return frame4_mbuf(ip);
}

/* Ping the VIP from @p src through snapshot @p s; the answer must leave on
 * @p iface for @p mac, addressed to @p src. */
static void
answer_goes(struct pair *p, const struct el_snapshot *s, const char *src, uint8_t iface,
	    const uint8_t mac[6])
{
	unsigned k = pair_one_out(p, s, EXT_IF, echo(src), iface, mac);
	assert_int_equal(cap_dst4(&p->cap[0], k), ip4(src));
}

/* A host route for CLIENT via pod .13 and its /24 via pod .12, on int, then
 * @p pad host routes for 198.18.50.x via pod .11. */
static unsigned
client_routes(struct el_snap_route *r, unsigned pad)
{
	unsigned n = 0;
	char a[INET_ADDRSTRLEN];
	for (unsigned i = 0; i < pad; i++) {
		snprintf(a, sizeof(a), "198.18.50.%u", i + 1);
		r[n++] = test_route(a, 32, "198.18.2.11", INT_IF);
	}
	r[n++] = test_route(CLIENT, 32, "198.18.2.13", INT_IF);
	r[n++] = test_route("198.18.100.0", 24, "198.18.2.12", INT_IF);
	return n;
}

static void
echo_answer_takes_the_default_route(void **state)
{
	struct pair *p = *state;
	answer_goes(p, snap, CLIENT, EXT_IF, mac_gw);
	/* a directly connected client with a static neighbour */
	answer_goes(p, snap, "198.18.0.5", EXT_IF, (const uint8_t[6]){2, 0, 0, 0, 0, 5});
}

/* Longest prefix wins, the same with few routes (scanned before the route
 * cache) and with more than the worker scans (the cache alone); a new
 * snapshot's routes are used at once, and the old ones again after it. */
static void
echo_answer_takes_the_longest_matching_route(void **state)
{
	struct pair *p = *state;
	struct el_snap_route extra[ROUTES_MAX];
	static struct routed rt;

	for (unsigned pad = 0; pad <= 24; pad += 24) {
		answer_goes(p, snap, CLIENT, EXT_IF, mac_gw);
		routed(&rt, snap, extra, client_routes(extra, pad), false, EL_AF_INET);
		answer_goes(p, &rt.s, CLIENT, INT_IF, MAC_POD(0x0d));
		answer_goes(p, &rt.s, "198.18.100.8", INT_IF, MAC_POD(0x0c));
		answer_goes(p, &rt.s, "198.18.101.8", EXT_IF, mac_gw);
		answer_goes(p, &rt.s, "198.18.0.5", EXT_IF, (const uint8_t[6]){2, 0, 0, 0, 0, 5});
		if (pad != 0)
			answer_goes(p, &rt.s, "198.18.50.3", INT_IF, MAC_POD(0x0b));
		answer_goes(p, snap, CLIENT, EXT_IF, mac_gw);
		p->cap[0].n = 0;
	}
}

/* Without a default route, a client no route covers gets no answer; the
 * drop is counted as no_route. */
static void
echo_answer_without_a_route_is_dropped(void **state)
{
	struct pair *p = *state;
	struct el_snap_route extra[ROUTES_MAX];
	static struct routed rt;

	for (unsigned pad = 0; pad <= 24; pad += 24) {
		routed(&rt, snap, extra, client_routes(extra, pad), true, EL_AF_INET);
		answer_goes(p, &rt.s, CLIENT, INT_IF, MAC_POD(0x0d));
		pair_dropped(p, &rt.s, EXT_IF, echo("198.18.101.8"), EL_DROP_NO_ROUTE);
		p->cap[0].n = 0;
	}
}

/* The transmit counters hold what the port took, the rest is a tx_full
 * drop: three echo answers (50-byte frames) to a port that takes two. */
static void
tx_counters_count_what_the_port_took(void **state)
{
	struct pair *p = *state;
	struct rte_mbuf *m[3] = {echo(CLIENT), echo(CLIENT), echo("198.18.0.5")};
	struct el_worker_stats a, b;

	p->cap[0].accept = 2;
	worker_stats_read(p->w[0], &a);
	worker_process_burst(p->w[0], snap, EXT_IF, m, 3, 1000);
	worker_stats_read(p->w[0], &b);
	assert_int_equal(p->cap[0].n, 2);
	assert_int_equal(b.tx_pkts[EXT_IF] - a.tx_pkts[EXT_IF], 2);
	assert_int_equal(b.tx_bytes[EXT_IF] - a.tx_bytes[EXT_IF], 2 * 50);
	assert_int_equal(b.drops[EL_DROP_TX_FULL] - a.drops[EL_DROP_TX_FULL], 1);
	assert_int_equal(b.icmp_echo_replies - a.icmp_echo_replies, 3);
	p->cap[0].accept = 0;
}

/* The answer of the pod to client frame @p k of worker 0's capture (a
 * SYN-ACK from the pod to the SNAT address and port), as it arrives on int. */
static struct rte_mbuf *
pod_answer(const struct capture *c, unsigned k)
{
	const struct rte_ipv4_hdr *in = (const void *)(c->data[k] + sizeof(struct rte_ether_hdr));
	const struct rte_tcp_hdr *tin = (const void *)(in + 1);
	uint8_t b[FRAME_MAX];
	struct rte_ipv4_hdr *ip = frame4(b, CLIENT, IPPROTO_TCP, sizeof(struct rte_tcp_hdr));
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	memcpy(b, mac_int, 6);
	memcpy(b + 6, MAC_POD(0x42), 6);
	ip->src_addr = in->dst_addr;
	ip->dst_addr = in->src_addr;
	tcp->src_port = tin->dst_port;
	tcp->dst_port = tin->src_port;
	tcp->sent_seq = htonl(5000);
	tcp->recv_ack = htonl(1001);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	tcp->rx_win = htons(64240);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	return frame4_mbuf(ip);
}

/* A tracked flow goes where the snapshot in use routes its pod, not where
 * its first packets went: a host route for the pod via a gateway on ext
 * takes its next segments there (and its pod's answers on int are then
 * refused by the reverse-path check); the old snapshot brings both back. */
static void
established_flow_follows_the_routes_in_use(void **state)
{
	struct pair *p = *state;
	struct el_snap_route extra[1];
	static struct routed rt;
	const uint8_t mac_via[6] = {2, 0, 0, 0, 0, 5}; /* static neighbour 198.18.0.5 */
	const uint16_t cport = 40000;

	uint32_t pod = open_flow(p, 0, cport, 1000);
	unsigned k = p->cap[0].n - 1;
	uint8_t first_mac[6];
	memcpy(first_mac, p->cap[0].data[k], 6);
	assert_int_equal(p->cap[0].iface[k], INT_IF);
	assert_int_equal(first_mac[4], 0x02); /* 02:00:00:00:02:xx, a pod on int */

	pair_one_out(p, snap, INT_IF, pod_answer(&p->cap[0], k), EXT_IF, mac_gw);
	unsigned a =
	    pair_one_out(p, snap, EXT_IF, segment(cport, RTE_TCP_ACK_FLAG), INT_IF, first_mac);
	assert_int_equal(cap_dst4(&p->cap[0], a), pod);

	char pod_s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &pod, pod_s, sizeof(pod_s));
	extra[0] = test_route(pod_s, 32, "198.18.0.5", EXT_IF);
	routed(&rt, snap, extra, 1, false, EL_AF_INET);
	a = pair_one_out(p, &rt.s, EXT_IF, segment(cport, RTE_TCP_ACK_FLAG), EXT_IF, mac_via);
	assert_int_equal(cap_dst4(&p->cap[0], a), pod);
	pair_dropped(p, &rt.s, INT_IF, pod_answer(&p->cap[0], k), EL_DROP_WRONG_IFACE);

	a = pair_one_out(p, snap, EXT_IF, segment(cport, RTE_TCP_ACK_FLAG), INT_IF, first_mac);
	assert_int_equal(cap_dst4(&p->cap[0], a), pod);
	pair_one_out(p, snap, INT_IF, pod_answer(&p->cap[0], k), EXT_IF, mac_gw);
}

/* The TCP/UDP source port (the SNAT port) of captured frame @p k. */
static uint16_t
cap_sport4(const struct capture *c, unsigned k)
{
	uint16_t v;
	memcpy(&v, c->data[k] + sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr), 2);
	return ntohs(v);
}

/* With six SNAT ports, service "cip" (one pod, 198.18.2.11:8080) takes
 * ports 1024-1025 and "extip" (198.18.2.12:8443) 1026-1029. The next new
 * flow to cip finds the cursor back at 1024: that port and the next are
 * taken for its pod, so the burst's planned port and the one planned after
 * it are both refused and the flow gets 1026, free for its pod (the reply
 * tuple is pod, SNAT address, pod port, SNAT port). */
static void
new_flow_skips_the_snat_ports_its_pod_uses(void **state)
{
	(void)state;
	struct capture cap = {0};
	struct el_worker_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.n_workers = 1;
	conf.max_flows = 1024;
	conf.socket_id = SOCKET_ID_ANY;
	conf.pool = pool;
	conf.tx = cap_tx;
	conf.tx_ctx = &cap;
	conf.snat_port_min = 1024;
	conf.snat_port_max = 1029;
	struct el_worker *w = worker_create(&conf);
	assert_non_null(w);

	static const struct {
		const char *dst;
		uint16_t dport;
		const char *pod;
		uint16_t snat_port;
	} step[] = {
	    {"198.18.3.20", 80, "198.18.2.11", 1024},  {"198.18.3.20", 80, "198.18.2.11", 1025},
	    {"198.18.3.21", 443, "198.18.2.12", 1026}, {"198.18.3.21", 443, "198.18.2.12", 1027},
	    {"198.18.3.21", 443, "198.18.2.12", 1028}, {"198.18.3.21", 443, "198.18.2.12", 1029},
	    {"198.18.3.20", 80, "198.18.2.11", 1026},
	};
	for (unsigned i = 0; i < RTE_DIM(step); i++) {
		struct rte_mbuf *m =
		    segment_to(step[i].dst, step[i].dport, (uint16_t)(45000 + i), RTE_TCP_SYN_FLAG);
		worker_process_burst(w, snap, EXT_IF, &m, 1, 1000);
		assert_int_equal(cap.n, i + 1);
		assert_int_equal(cap.iface[i], INT_IF);
		assert_int_equal(cap_dst4(&cap, i), ip4(step[i].pod));
		assert_int_equal(cap_sport4(&cap, i), step[i].snat_port);
	}
	worker_destroy(w);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],		"--no-huge", "-m", "256",	  "--no-shconf",
		       "--no-pci",	"-l",	     "0",  "--log-level", "lib.eal:error",
		       "--no-telemetry"};
	if (argc != 3) {
		fprintf(stderr, "usage: %s CONFIG MANIFEST_DIR\n", argv[0]);
		return 2;
	}
	config_path = argv[1];
	manifest_dir = argv[2];
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("aff_peers", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL || test_snap_load(&ts, config_path, manifest_dir, mac_ext, mac_int) != 0)
		return 1;
	snap = ts.snap;
#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)
	const struct CMUnitTest tests[] = {
	    T(affinity_chosen_on_one_worker_holds_on_its_peer),
	    T(without_peers_the_other_worker_picks_by_maglev),
	    T(replicated_affinity_expires_after_the_service_timeout),
	    T(affinity_chosen_on_the_peer_comes_back),
	    T(echo_answer_takes_the_default_route),
	    T(echo_answer_takes_the_longest_matching_route),
	    T(echo_answer_without_a_route_is_dropped),
	    T(established_flow_follows_the_routes_in_use),
	    T(new_flow_skips_the_snat_ports_its_pod_uses),
	    T(tx_counters_count_what_the_port_took),
	};
#undef T
	int rc = cmocka_run_group_tests_name("worker4", tests, NULL, NULL);
	test_snap_free(&ts);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
