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
 * scans before its route cache.
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

#define STICKY_VIP "198.18.0.101"
#define CLIENT	   "198.18.100.7"
#define CAP_MAX	   8

static const uint8_t mac_ext[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_int[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};

static const char *config_path, *manifest_dir;
static struct rte_mempool *pool;
static struct el_config cfg;
static struct el_model model;
static struct compile_state *cs;
static struct el_snapshot *snap;

/* The frames each worker sent, in order: IPv4 destination, interface and
 * destination MAC. */
struct capture {
	unsigned n;
	uint32_t dst[CAP_MAX];
	uint8_t iface[CAP_MAX];
	uint8_t mac[CAP_MAX][6];
};

static uint16_t
cap_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct capture *c = ctx;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth =
		    rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
		    pkts[i], const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
		if (c->n < CAP_MAX) {
			c->dst[c->n] = ip->dst_addr;
			c->iface[c->n] = iface;
			memcpy(c->mac[c->n], eth->dst_addr.addr_bytes, 6);
			c->n++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static uint32_t
ip4(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

/* A SYN from CLIENT:cport to the sticky service, as the upstream router
 * delivers it on ext. */
static struct rte_mbuf *
syn(uint16_t cport)
{
	uint8_t b[sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		  sizeof(struct rte_tcp_hdr)] = {0};
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	memcpy(eth->dst_addr.addr_bytes, mac_ext, 6);
	memcpy(eth->src_addr.addr_bytes, mac_gw, 6);
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons(sizeof(*ip) + sizeof(*tcp));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = ip4(CLIENT);
	ip->dst_addr = ip4(STICKY_VIP);
	tcp->src_port = htons(cport);
	tcp->dst_port = htons(80);
	tcp->sent_seq = htonl(1000);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = RTE_TCP_SYN_FLAG;
	tcp->rx_win = htons(64240);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	void *d = rte_pktmbuf_append(m, sizeof(b));
	assert_non_null(d);
	memcpy(d, b, sizeof(b));
	return m;
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

struct pair {
	struct el_worker *w[2];
	struct capture cap[2];
};

static int
pair_setup(void **state)
{
	static struct pair p;
	memset(&p, 0, sizeof(p));
	for (unsigned i = 0; i < 2; i++) {
		struct el_worker_conf conf;
		memset(&conf, 0, sizeof(conf));
		conf.index = i;
		conf.n_workers = 2;
		conf.max_flows = 1024;
		conf.socket_id = SOCKET_ID_ANY;
		conf.pool = pool;
		conf.tx = cap_tx;
		conf.tx_ctx = &p.cap[i];
		p.w[i] = worker_create(&conf);
		if (p.w[i] == NULL)
			return -1;
	}
	*state = &p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;
	worker_destroy(p->w[0]);
	worker_destroy(p->w[1]);
	return 0;
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
	return p->cap[i].dst[before];
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

/* An ICMP echo request from @p src to the sticky VIP, as the upstream
 * router delivers it on ext. */
static struct rte_mbuf *
echo(const char *src)
{
	uint8_t b[sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		  sizeof(struct rte_icmp_hdr) + 8] = {0};
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	memcpy(eth->dst_addr.addr_bytes, mac_ext, 6);
	memcpy(eth->src_addr.addr_bytes, mac_gw, 6);
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons(sizeof(b) - sizeof(*eth));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = ip4(src);
	ip->dst_addr = ip4(STICKY_VIP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = htons(7);
	icmp->icmp_seq_nb = htons(1);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + 8);

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	void *d = rte_pktmbuf_append(m, sizeof(b));
	assert_non_null(d);
	memcpy(d, b, sizeof(b));
	return m;
}

/* Ping the VIP from @p src through snapshot @p s; the answer must leave on
 * @p iface for @p mac, addressed to @p src. */
static void
answer_goes(struct pair *p, const struct el_snapshot *s, const char *src, uint8_t iface,
	    const uint8_t mac[6])
{
	struct rte_mbuf *m = echo(src);
	unsigned before = p->cap[0].n;
	assert_true(before < CAP_MAX);
	worker_process_burst(p->w[0], s, EXT_IF, &m, 1, 1000);
	assert_int_equal(p->cap[0].n, before + 1);
	assert_int_equal(p->cap[0].dst[before], ip4(src));
	assert_int_equal(p->cap[0].iface[before], iface);
	assert_memory_equal(p->cap[0].mac[before], mac, 6);
}

static struct el_snap_route
route4(const char *to, uint8_t len, const char *via, uint8_t iface)
{
	struct el_snap_route r;
	memset(&r, 0, sizeof(r));
	r.to.addr = el_ip4(ip4(to));
	r.to.len = len;
	if (via != NULL)
		r.via = el_ip4(ip4(via));
	r.iface = iface;
	return r;
}

#define ROUTES_MAX 40

/* The sticky snapshot as a new generation whose routes are @p extra (longest
 * prefix first) followed by its own, with or without its default route. */
struct routed {
	struct el_snapshot s;
	struct el_snap_route r[ROUTES_MAX];
};

static void
routed(struct routed *out, const struct el_snap_route *extra, unsigned n_extra, bool with_default)
{
	unsigned n = 0;
	out->s = *snap;
	for (unsigned i = 0; i < n_extra; i++)
		out->r[n++] = extra[i];
	for (unsigned i = 0; i < snap->n_routes; i++) {
		assert_true(n < ROUTES_MAX);
		if (with_default || snap->routes[i].to.len != 0)
			out->r[n++] = snap->routes[i];
	}
	out->s.routes = out->r;
	out->s.n_routes = n;
	out->s.generation = snap->generation + 1 + n;
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
		r[n++] = route4(a, 32, "198.18.2.11", INT_IF);
	}
	r[n++] = route4(CLIENT, 32, "198.18.2.13", INT_IF);
	r[n++] = route4("198.18.100.0", 24, "198.18.2.12", INT_IF);
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
		routed(&rt, extra, client_routes(extra, pad), true);
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
	struct el_worker_stats a, b;

	for (unsigned pad = 0; pad <= 24; pad += 24) {
		routed(&rt, extra, client_routes(extra, pad), false);
		answer_goes(p, &rt.s, CLIENT, INT_IF, MAC_POD(0x0d));
		worker_stats_read(p->w[0], &a);
		struct rte_mbuf *m = echo("198.18.101.8");
		unsigned before = p->cap[0].n;
		worker_process_burst(p->w[0], &rt.s, EXT_IF, &m, 1, 1000);
		worker_stats_read(p->w[0], &b);
		assert_int_equal(p->cap[0].n, before);
		assert_int_equal(b.drops[EL_DROP_NO_ROUTE] - a.drops[EL_DROP_NO_ROUTE], 1);
		p->cap[0].n = 0;
	}
}

static int
load_snapshot(void)
{
	char err[512];

	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	el_model_init(&model);
	if (manifest_load_path(&model, manifest_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "manifests: %s\n", err);
		return -1;
	}
	cs = compile_state_new(&cfg);
	if (cs == NULL)
		return -1;
	compile_set_iface(cs, 0, 0, mac_ext);
	compile_set_iface(cs, 1, 1, mac_int);
	if (compile_snapshot(cs, &model, &snap, err, sizeof(err)) < 0) {
		fprintf(stderr, "compile: %s\n", err);
		return -1;
	}
	return 0;
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
	if (pool == NULL || load_snapshot() < 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)
	const struct CMUnitTest tests[] = {
	    T(affinity_chosen_on_one_worker_holds_on_its_peer),
	    T(without_peers_the_other_worker_picks_by_maglev),
	    T(replicated_affinity_expires_after_the_service_timeout),
	    T(affinity_chosen_on_the_peer_comes_back),
	    T(echo_answer_takes_the_default_route),
	    T(echo_answer_takes_the_longest_matching_route),
	    T(echo_answer_without_a_route_is_dropped),
	};
#undef T
	int rc = cmocka_run_group_tests_name("worker4", tests, NULL, NULL);
	compile_snapshot_free(cs, snap);
	compile_state_free(cs);
	el_model_free(&model);
	config_free(&cfg);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
