/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_worker: packets per second of worker_process_burst() on one lcore.
 *
 * Builds a snapshot the way the appliance does (config_load_buf,
 * manifest_load_buf, compile_snapshot): one LoadBalancer service per IP
 * family (IPv4: VIP 198.18.0.100:80 -> 64 pods on 198.18.2.0/24, port 8080;
 * IPv6, a SingleStack IPv6 service: VIP [2001:db8:100::100]:80 -> the same
 * 64 pods at 2001:db8:2::a-49), four SNAT addresses per family, static
 * neighbours for every pod and for the upstream gateway, so no ARP or
 * Neighbour Discovery ever happens. One worker is created with a tx callback
 * that frees what it gets (rte_pktmbuf_free_bulk) and counts it.
 *
 * For every family (--family; default IPv4, then IPv6) and every table size
 * N (default 1K, 1M and 4M flows):
 *  - fill: N TCP flows are opened with SYNs (sequential, into an empty
 *    table) and completed with a client ACK; the SNAT address and port the
 *    worker chose for each flow is read from the SYN it sent to the pod;
 *  - (a) established client -> pod: ACK segments of flows picked uniformly
 *    at random among the N live ones, so the table is touched the way real
 *    traffic touches it (at 1M and 4M flows most lookups miss the cache);
 *  - (b) replies pod -> client of flows picked the same way;
 *  - (c) new flows: SYNs of never-seen 5-tuples (frontend lookup, Maglev
 *    pick, SNAT port choice, two hash inserts) while N flows are live. The
 *    table has room for N + N/16 flows; after every N/16 new flows the clock
 *    is moved past the SYN_SENT timeout and the sweep removes them, so each
 *    round inserts into a table holding N flows, never into a full one.
 *
 * What is timed: worker_process_burst() followed by worker_poll_housekeeping()
 * for every burst of 32, as the appliance's poll loop calls them (the tx
 * callback, i.e. rte_pktmbuf_free_bulk, is inside). What is not timed but
 * measured and printed apart ("prep"): allocating 32 mbufs and writing their
 * frames with valid checksums (60 bytes for IPv4, 80 for IPv6: the same 6
 * bytes of TCP payload). The frames are written just before the
 * burst, so they are in L1 when the worker reads them; a NIC would leave them
 * in memory or LLC (DDIO). Flow state is never pre-warmed.
 *
 * Memory: rte_malloc heap growth across worker_create() with a table of N
 * flows of the family measured (and BENCH_OTHER_FLOWS of the other one),
 * divided by N (whole worker), and, for IPv4, worker_bytes_per_flow()
 * (connection table only).
 *
 * Usage: bench_worker [EAL args] -- [--flows N,N,...] [--packets N]
 *                     [--new-flows N] [--runs R] [--tests abc] [--family 4|6|46]
 *                     [--quick]
 * Prints numbers; asserts nothing about timing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "edgelb/types.h"

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"

#define BENCH_BURST	  32
#define BENCH_PODS	  64
#define BENCH_SNATS	  4
#define BENCH_FRAME_LEN	  60 /* Ethernet 14 + IPv4 20 + TCP 20 + 6 bytes of data */
#define BENCH_IP_LEN	  (BENCH_FRAME_LEN - RTE_ETHER_HDR_LEN)
#define BENCH_FRAME_LEN6  80   /* Ethernet 14 + IPv6 40 + TCP 20 + 6 bytes of data */
#define BENCH_TCP_LEN	  26   /* TCP header and data, both families */
#define BENCH_OTHER_FLOWS 1024 /* table size of the family not measured */
#define BENCH_IFACE_EXT	  0
#define BENCH_IFACE_INT	  1
#define BENCH_MAX_SIZES	  8
#define BENCH_MAX_RUNS	  32
#define BENCH_VIP	  0xc6120064u /* 198.18.0.100 */
#define BENCH_FAM4	  0
#define BENCH_FAM6	  1
#define BENCH_NFAMS	  2
#define BENCH_VPORT	  80
#define BENCH_POD_PORT	  8080
#define BENCH_SYN_TMO_S	  1    /* tcp_syn_sent timeout: new flows are expired between rounds */
#define BENCH_SYN_JUMP	  1500 /* ms the clock moves forward to expire them */
#define BENCH_NEW_ROUND	  16   /* a round of new flows is N / BENCH_NEW_ROUND */
#define BENCH_NEW_MIN	  64
#define BENCH_TICK_BURSTS 256 /* bursts per virtual millisecond */

static const uint8_t bench_worker_ext_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t bench_worker_int_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x02, 0x01};
static const uint8_t bench_worker_gw_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
/* 2001:db8:100::100, the IPv6 VIP */
static const uint8_t bench_worker_vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0,	0,
					      0,    0,	  0,	0,    0,    0,	  0x01, 0x00};
static const char *const bench_worker_fam_name[BENCH_NFAMS] = {"IPv4", "IPv6"};

enum bench_worker_test { BENCH_FILL, BENCH_CLIENT, BENCH_REPLY, BENCH_NEW, BENCH_NTESTS };

static const char *const bench_worker_test_name[BENCH_NTESTS] = {
    [BENCH_FILL] = "fill: new flows, empty->N",
    [BENCH_CLIENT] = "(a) established client->pod",
    [BENCH_REPLY] = "(b) reply pod->client",
    [BENCH_NEW] = "(c) new flows at N live",
};

/* What the worker chose for flow i, read from its SYN towards the pod, in
 * 4 bytes (the reply test reads one at random per packet; less memory
 * touched outside the worker). Pod i's address ends in 10 + i and SNAT
 * address j's in 1 + j, in both families (bench_worker_config_text()). */
struct bench_worker_rec {
	uint16_t sport; /* network order */
	uint8_t pod;
	uint8_t snat; /* SNAT address index + 1; 0: not seen yet */
};

/* The address ending in @p last of the pods' and SNAT addresses' subnet. */
static inline void
bench_worker_int_addr(int fam, uint8_t last, uint8_t out[16])
{
	static const uint8_t net6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x02};
	static const uint8_t net4[4] = {198, 18, 2, 0};

	if (fam == BENCH_FAM6) {
		memcpy(out, net6, 16);
		out[15] = last;
	} else {
		memcpy(out, net4, 4);
		out[3] = last;
	}
}

/* The tx callback's state. */
struct bench_worker_sink {
	uint64_t pkts;
	struct bench_worker_rec *rec; /* record mode when not NULL */
	uint32_t n_rec;
	uint64_t recorded;
};

/* One run: packets sent and cycles spent. */
struct bench_worker_run {
	uint64_t pkts;
	uint64_t work; /* cycles in the worker */
	uint64_t prep; /* cycles writing frames */
};

struct bench_worker_result {
	bool done;
	unsigned n_runs;
	struct bench_worker_run runs[BENCH_MAX_RUNS];
	uint64_t forwarded, sent;
	uint64_t drops; /* all reasons, during the timed runs */
	char note[96];
};

struct bench_worker_size {
	uint32_t flows;
	bool skipped;
	char why[256];
	size_t heap_bytes;	  /* worker_create() with max_flows = flows */
	size_t ct_bytes_per_flow; /* worker_bytes_per_flow() */
	struct bench_worker_result res[BENCH_NTESTS];
};

struct bench_worker_opts {
	bool fam_on[BENCH_NFAMS]; /* --family */
	uint32_t flows[BENCH_MAX_SIZES];
	unsigned n_flows;
	uint64_t packets;   /* per run of (a) and (b) */
	uint64_t new_flows; /* per run of (c) */
	unsigned runs;
	bool test_on[BENCH_NTESTS]; /* --tests */
};

struct bench_worker_env {
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct el_snapshot *snap;
	struct rte_mempool *pool;
	struct bench_worker_sink sink;
	uint64_t tsc_hz;
	uint64_t clock_ms; /* virtual now_ms, see bench_worker_now() */
	uint64_t bursts;
	bool ticking;
	uint64_t rng;
	uint8_t pod_mac[BENCH_PODS][6];
	uint32_t syn_timeout_s;
	bool have_model;
	int fam; /* BENCH_FAM4 / BENCH_FAM6: the family being measured */
};

/* ---- snapshot ---- */

/* The appliance config. The IPv4 one is single stack; the IPv6 one is dual
 * stack (IPv4 addresses, pool and SNAT addresses as well), but its static
 * neighbours are the IPv6 pods only: a config holds at most
 * EL_CFG_MAX_NEIGHBORS per interface. */
static int
bench_worker_config_text(char *buf, size_t len, int fam)
{
	const bool six = fam == BENCH_FAM6;
	size_t off = 0;
	int n;

#define BENCH_PUT(...)                                                                             \
	do {                                                                                       \
		n = snprintf(buf + off, len - off, __VA_ARGS__);                                   \
		if (n < 0 || (size_t)n >= len - off)                                               \
			return -ENOSPC;                                                            \
		off += (size_t)n;                                                                  \
	} while (0)

	BENCH_PUT("interfaces:\n"
		  "  - name: ext\n"
		  "    device: \"net_null0\"\n"
		  "    addresses: [\"198.18.0.1/24\"%s]\n"
		  "    routes: [{to: \"0.0.0.0/0\", via: \"198.18.0.254\"}%s]\n"
		  "    neighbors: [{ip: \"198.18.0.254\", mac: \"02:00:00:00:00:fe\"}%s]\n"
		  "  - name: int\n"
		  "    device: \"net_null1\"\n"
		  "    addresses: [\"198.18.2.1/24\"%s]\n"
		  "    neighbors:\n",
		  six ? ", \"2001:db8::1/64\"" : "",
		  six ? ", {to: \"::/0\", via: \"2001:db8::fe\"}" : "",
		  six ? ", {ip: \"2001:db8::fe\", mac: \"02:00:00:00:00:fe\"}" : "",
		  six ? ", \"2001:db8:2::1/64\"" : "");
	/* pod i: 198.18.2.(10 + i) or 2001:db8:2::(10 + i), MAC ...:02:(10 + i) */
	for (unsigned i = 0; i < BENCH_PODS; i++)
		if (six)
			BENCH_PUT(
			    "      - {ip: \"2001:db8:2::%x\", mac: \"02:00:00:00:02:%02x\"}\n",
			    10 + i, 10 + i);
		else
			BENCH_PUT("      - {ip: \"198.18.2.%u\", mac: \"02:00:00:00:02:%02x\"}\n",
				  10 + i, 10 + i);
	BENCH_PUT("snat: {addresses: [");
	for (unsigned i = 0; i < BENCH_SNATS; i++)
		BENCH_PUT("%s\"198.18.2.%u\"", i ? ", " : "", 1 + i);
	for (unsigned i = 0; six && i < BENCH_SNATS; i++)
		BENCH_PUT(", \"2001:db8:2::%u\"", 1 + i);
	BENCH_PUT("]}\n"
		  "loadbalancer: {pools: [\"198.18.0.100-198.18.0.150\"%s]}\n",
		  six ? ", \"2001:db8:100::100-2001:db8:100::150\"" : "");
	BENCH_PUT("conntrack:\n"
		  "  max_flows: 1048576\n"
		  "  timeouts: {tcp_syn_sent: %u, tcp_established: 604800}\n",
		  BENCH_SYN_TMO_S);
#undef BENCH_PUT
	return 0;
}

/* The service of the family: IPv4, an Endpoints object; IPv6, a SingleStack
 * IPv6 service with an EndpointSlice of addressType IPv6. */
static int
bench_worker_manifest_text(char *buf, size_t len, int fam)
{
	size_t off = 0;
	int n;

	if (fam == BENCH_FAM6)
		n = snprintf(buf, len,
			     "apiVersion: v1\n"
			     "kind: Service\n"
			     "metadata: {name: bench6, namespace: default}\n"
			     "spec:\n"
			     "  type: LoadBalancer\n"
			     "  ipFamilyPolicy: SingleStack\n"
			     "  ipFamilies: [IPv6]\n"
			     "  loadBalancerIP: \"2001:db8:100::100\"\n"
			     "  ports: [{name: http, protocol: TCP, port: %u, targetPort: %u, "
			     "nodePort: 30080}]\n"
			     "---\n"
			     "apiVersion: discovery.k8s.io/v1\n"
			     "kind: EndpointSlice\n"
			     "metadata:\n"
			     "  name: bench6-v6\n"
			     "  namespace: default\n"
			     "  labels: {kubernetes.io/service-name: bench6}\n"
			     "addressType: IPv6\n"
			     "ports: [{name: http, port: %u, protocol: TCP}]\n"
			     "endpoints:\n",
			     BENCH_VPORT, BENCH_POD_PORT, BENCH_POD_PORT);
	else
		n = snprintf(buf, len,
			     "apiVersion: v1\n"
			     "kind: Service\n"
			     "metadata: {name: bench, namespace: default}\n"
			     "spec:\n"
			     "  type: LoadBalancer\n"
			     "  loadBalancerIP: 198.18.0.100\n"
			     "  ports: [{name: http, protocol: TCP, port: %u, targetPort: %u, "
			     "nodePort: 30080}]\n"
			     "---\n"
			     "apiVersion: v1\n"
			     "kind: Endpoints\n"
			     "metadata: {name: bench, namespace: default}\n"
			     "subsets:\n"
			     "  - ports: [{name: http, port: %u, protocol: TCP}]\n"
			     "    addresses:\n",
			     BENCH_VPORT, BENCH_POD_PORT, BENCH_POD_PORT);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	for (unsigned i = 0; i < BENCH_PODS; i++) {
		if (fam == BENCH_FAM6)
			n = snprintf(buf + off, len - off,
				     "  - {addresses: [\"2001:db8:2::%x\"], conditions: {ready: "
				     "true}}\n",
				     10 + i);
		else
			n = snprintf(buf + off, len - off, "      - {ip: 198.18.2.%u}\n", 10 + i);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}

/* Free what bench_worker_snapshot() built (safe on a partial build). */
static void
bench_worker_snapshot_free(struct bench_worker_env *e)
{
	if (e->snap != NULL)
		compile_snapshot_free(e->cs, e->snap);
	if (e->cs != NULL)
		compile_state_free(e->cs);
	if (e->have_model)
		el_model_free(&e->model);
	config_free(&e->cfg);
	e->snap = NULL;
	e->cs = NULL;
	e->have_model = false;
}

/* Build the snapshot of family e->fam: one service port, BENCH_PODS
 * backends of that family. */
static int
bench_worker_snapshot(struct bench_worker_env *e)
{
	static char text[16384];
	char err[512] = "";
	int rc;

	rc = bench_worker_config_text(text, sizeof(text), e->fam);
	if (rc == 0)
		rc = config_load_buf(text, strlen(text), "bench.yaml", &e->cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "bench_worker: config: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	el_model_init(&e->model);
	e->have_model = true;
	rc = bench_worker_manifest_text(text, sizeof(text), e->fam);
	if (rc == 0)
		rc = manifest_load_buf(&e->model, text, strlen(text), "bench manifests", err,
				       sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "bench_worker: manifests: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	e->cs = compile_state_new(&e->cfg);
	if (e->cs == NULL)
		return -ENOMEM;
	compile_set_iface(e->cs, BENCH_IFACE_EXT, 0, bench_worker_ext_mac);
	compile_set_iface(e->cs, BENCH_IFACE_INT, 1, bench_worker_int_mac);
	rc = compile_snapshot(e->cs, &e->model, &e->snap, err, sizeof(err));
	if (rc < 0) {
		e->snap = NULL;
		fprintf(stderr, "bench_worker: compile: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	const uint8_t family = e->fam == BENCH_FAM6 ? EL_AF_INET6 : EL_AF_INET;
	if (e->snap->n_svcs != 1 || e->snap->svcs[0]->n_backends != BENCH_PODS ||
	    e->snap->svcs[0]->family != family) {
		fprintf(stderr,
			"bench_worker: %s snapshot has %u service ports, expected 1 of that "
			"family with %u backends\n",
			bench_worker_fam_name[e->fam], e->snap->n_svcs, BENCH_PODS);
		return -EINVAL;
	}
	e->syn_timeout_s = e->snap->ct_timeouts[EL_CT_SYN_SENT];
	for (unsigned i = 0; i < BENCH_PODS; i++) {
		static const uint8_t base[6] = {0x02, 0x00, 0x00, 0x00, 0x02, 0x00};
		memcpy(e->pod_mac[i], base, 6);
		e->pod_mac[i][5] = (uint8_t)(10 + i);
	}
	return 0;
}

/* ---- clock, random numbers, memory ---- */

/* The worker's clock (now_ms) is virtual: it starts at 1 s and moves 1 ms
 * every BENCH_TICK_BURSTS bursts while a test is timed (about real time at
 * 8 Mpps), never while flows are being opened and completed (so a SYN_SENT
 * flow cannot expire before its ACK), and jumps forward, then moves 1 ms
 * per housekeeping call, to expire the new flows of a round (the sweep is
 * paced by time). Real time would make results depend on how slow the
 * host is. */
static inline uint64_t
bench_worker_now(struct bench_worker_env *e)
{
	if (e->ticking && ++e->bursts % BENCH_TICK_BURSTS == 0)
		e->clock_ms++;
	return e->clock_ms;
}

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
 * generators, scrambled", 2016). */
static inline uint64_t
bench_worker_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n) by multiply-shift (no division). */
static inline uint32_t
bench_worker_pick(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((bench_worker_rand(s) >> 32) * (uint64_t)n) >> 32);
}

static size_t
bench_worker_heap(void)
{
	size_t total = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

/* ---- frames ---- */

/* Client address and port of flow i: 65536 clients in 198.19.0.0/16. */
static inline uint32_t
bench_worker_client(uint32_t i)
{
	return rte_cpu_to_be_32(0xc6130000u /* 198.19.0.0 */ | (i & 0xffff));
}

static inline uint16_t
bench_worker_cport(uint32_t i)
{
	return rte_cpu_to_be_16((uint16_t)(1024 + (i >> 16)));
}

/* Client address of IPv6 flow i: 65536 clients in 2001:db8:c000::/96 (the
 * last two bytes are i's low 16 bits). */
static inline void
bench_worker_client6(uint32_t i, uint8_t a[16])
{
	static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8, 0xc0, 0x00};

	memcpy(a, base, 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

/* The TCP header and payload of every frame (the checksum is left 0). */
static inline void
bench_worker_tcp(struct rte_tcp_hdr *tcp, uint16_t sport, uint16_t dport, uint32_t seq,
		 uint8_t flags)
{
	tcp->src_port = sport;
	tcp->dst_port = dport;
	tcp->sent_seq = rte_cpu_to_be_32(seq);
	tcp->recv_ack = (flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(1) : 0;
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	tcp->cksum = 0;
	tcp->tcp_urp = 0;
	memset(tcp + 1, 0, BENCH_TCP_LEN - sizeof(*tcp));
}

/* Write an 80-byte Ethernet/IPv6/TCP frame with a valid checksum (no
 * extension headers). Addresses and ports in network order. */
static inline void
bench_worker_frame6(struct rte_mbuf *m, const uint8_t *dmac, const uint8_t *smac,
		    const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport,
		    uint32_t seq, uint8_t flags)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(f + RTE_ETHER_HDR_LEN);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip6 + 1);

	m->data_len = BENCH_FRAME_LEN6;
	m->pkt_len = BENCH_FRAME_LEN6;
	memcpy(&eth->dst_addr, dmac, 6);
	memcpy(&eth->src_addr, smac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(BENCH_TCP_LEN);
	ip6->proto = IPPROTO_TCP;
	ip6->hop_limits = 64;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	bench_worker_tcp(tcp, sport, dport, seq, flags);
	tcp->cksum = rte_ipv6_udptcp_cksum(ip6, tcp);
}

/* Write a 60-byte Ethernet/IPv4/TCP frame with valid checksums. Addresses
 * and ports in network order. */
static inline void
bench_worker_frame(struct rte_mbuf *m, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
		   uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	m->data_len = BENCH_FRAME_LEN;
	m->pkt_len = BENCH_FRAME_LEN;
	memcpy(&eth->dst_addr, dmac, 6);
	memcpy(&eth->src_addr, smac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(BENCH_IP_LEN);
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	bench_worker_tcp(tcp, sport, dport, seq, flags);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

/* Client -> VIP segment of flow i. */
static inline void
bench_worker_client_frame(const struct bench_worker_env *e, struct rte_mbuf *m, uint32_t i,
			  uint8_t flags)
{
	if (e->fam == BENCH_FAM6) {
		uint8_t client[16];

		bench_worker_client6(i, client);
		bench_worker_frame6(m, bench_worker_ext_mac, bench_worker_gw_mac, client,
				    bench_worker_vip6, bench_worker_cport(i),
				    rte_cpu_to_be_16(BENCH_VPORT), i, flags);
		return;
	}
	bench_worker_frame(m, bench_worker_ext_mac, bench_worker_gw_mac, bench_worker_client(i),
			   rte_cpu_to_be_32(BENCH_VIP), bench_worker_cport(i),
			   rte_cpu_to_be_16(BENCH_VPORT), i, flags);
}

/* Pod -> SNAT address reply of flow i. A pod's address ends in 10 + its
 * index in both families. */
static inline void
bench_worker_reply_frame(const struct bench_worker_env *e, struct rte_mbuf *m,
			 const struct bench_worker_rec *r, uint32_t i)
{
	uint8_t backend[16], snat[16];
	unsigned pod = r->pod % BENCH_PODS;

	bench_worker_int_addr(e->fam, (uint8_t)(10 + pod), backend);
	bench_worker_int_addr(e->fam, r->snat, snat);
	if (e->fam == BENCH_FAM6) {
		bench_worker_frame6(m, bench_worker_int_mac, e->pod_mac[pod], backend, snat,
				    rte_cpu_to_be_16(BENCH_POD_PORT), r->sport, i,
				    RTE_TCP_ACK_FLAG);
		return;
	}
	uint32_t b4, s4;
	memcpy(&b4, backend, 4);
	memcpy(&s4, snat, 4);
	bench_worker_frame(m, bench_worker_int_mac, e->pod_mac[pod], b4, s4,
			   rte_cpu_to_be_16(BENCH_POD_PORT), r->sport, i, RTE_TCP_ACK_FLAG);
}

/* ---- the tx callback ---- */

static void
bench_worker_record(struct bench_worker_sink *s, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_tcp_hdr *tcp;
	const uint8_t *src, *dst;
	size_t alen;

	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip6 =
		    (const struct rte_ipv6_hdr *)(f + RTE_ETHER_HDR_LEN);
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*ip6) + sizeof(*tcp) ||
		    ip6->proto != IPPROTO_TCP)
			return;
		tcp = (const struct rte_tcp_hdr *)(ip6 + 1);
		src = ip6->src_addr;
		dst = ip6->dst_addr;
		alen = 16;
	} else {
		const struct rte_ipv4_hdr *ip =
		    (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*tcp) ||
		    ip->next_proto_id != IPPROTO_TCP || ip->version_ihl != RTE_IPV4_VHL_DEF)
			return;
		tcp = (const struct rte_tcp_hdr *)(ip + 1);
		src = (const uint8_t *)&ip->src_addr;
		dst = (const uint8_t *)&ip->dst_addr;
		alen = 4;
	}
	uint32_t i = rte_be_to_cpu_32(tcp->sent_seq);
	uint8_t pod = (uint8_t)(dst[alen - 1] - 10), snat = src[alen - 1];
	if (i >= s->n_rec || s->rec[i].snat != 0 || pod >= BENCH_PODS || snat < 1 ||
	    snat > BENCH_SNATS)
		return;
	s->rec[i].sport = tcp->src_port;
	s->rec[i].pod = pod;
	s->rec[i].snat = snat; /* index + 1: the address ends in 1 + index */
	s->recorded++;
}

static uint16_t
bench_worker_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct bench_worker_sink *s = ctx;

	if (unlikely(s->rec != NULL) && iface == BENCH_IFACE_INT)
		for (uint16_t i = 0; i < n; i++)
			bench_worker_record(s, pkts[i]);
	rte_pktmbuf_free_bulk(pkts, n);
	s->pkts += n;
	return n;
}

/* ---- running ---- */

static uint64_t
bench_worker_drops(const struct el_worker_stats *st)
{
	uint64_t d = 0;
	for (unsigned i = 0; i < EL_DROP_MAX; i++)
		d += st->drops[i];
	return d;
}

/* Name and count of the most frequent drop reason between two reads. */
static void
bench_worker_drop_note(const struct el_worker_stats *a, const struct el_worker_stats *b, char *note,
		       size_t len)
{
	uint64_t best = 0;
	int which = -1;

	for (int i = 0; i < EL_DROP_MAX; i++)
		if (b->drops[i] - a->drops[i] > best) {
			best = b->drops[i] - a->drops[i];
			which = i;
		}
	if (which >= 0)
		snprintf(note, len, "drops: %" PRIu64 " %s", best,
			 worker_drop_name((enum el_drop)which));
}

/*
 * Feed @p n_pkts packets of kind @p test in bursts of BENCH_BURST.
 * BENCH_CLIENT/BENCH_REPLY pick flows at random in [0, n_flows) (or in order
 * when @p sequential); BENCH_FILL/BENCH_NEW take indices from *next_new on.
 * @p flags: TCP flags of client segments.
 */
static int
bench_worker_feed(struct bench_worker_env *e, struct el_worker *w, enum bench_worker_test test,
		  const struct bench_worker_rec *rec, uint32_t n_flows, bool sequential,
		  uint64_t n_pkts, uint32_t *next_new, struct bench_worker_run *run)
{
	struct rte_mbuf *m[BENCH_BURST];
	uint8_t iface = test == BENCH_REPLY ? BENCH_IFACE_INT : BENCH_IFACE_EXT;
	uint32_t seq_next = 0;

	for (uint64_t done = 0; done < n_pkts;) {
		unsigned n = n_pkts - done < BENCH_BURST ? (unsigned)(n_pkts - done) : BENCH_BURST;
		uint64_t now = bench_worker_now(e);
		uint64_t t0 = rte_rdtsc();

		if (rte_pktmbuf_alloc_bulk(e->pool, m, n) != 0)
			return -ENOMEM;
		for (unsigned j = 0; j < n; j++) {
			uint32_t i;
			switch (test) {
			case BENCH_FILL:
			case BENCH_NEW:
				i = (*next_new)++;
				bench_worker_client_frame(e, m[j], i, RTE_TCP_SYN_FLAG);
				break;
			case BENCH_CLIENT:
				i = sequential ? seq_next++ % n_flows
					       : bench_worker_pick(&e->rng, n_flows);
				bench_worker_client_frame(e, m[j], i, RTE_TCP_ACK_FLAG);
				break;
			default:
				i = bench_worker_pick(&e->rng, n_flows);
				bench_worker_reply_frame(e, m[j], &rec[i], i);
				break;
			}
		}
		uint64_t t1 = rte_rdtsc();
		worker_process_burst(w, e->snap, iface, m, (uint16_t)n, now);
		worker_poll_housekeeping(w, e->snap, now);
		uint64_t t2 = rte_rdtsc();

		run->prep += t1 - t0;
		run->work += t2 - t1;
		run->pkts += n;
		done += n;
	}
	return 0;
}

/* Move the clock past the SYN_SENT timeout and sweep until only @p keep
 * flows are left (the new flows of a round are gone). */
static int
bench_worker_expire_new(struct bench_worker_env *e, struct el_worker *w, uint32_t capacity,
			uint64_t keep)
{
	struct el_worker_stats st;
	/* the sweep visits 64 slots per call; allow two full passes. It is
	 * paced by time (a pass of a large table takes seconds), so the clock
	 * moves 1 ms per call, as it would between polls. */
	uint64_t limit = 2 * ((uint64_t)capacity / 64 + 2);

	e->clock_ms += (uint64_t)e->syn_timeout_s * 1000 + BENCH_SYN_JUMP;
	uint64_t now = e->clock_ms;
	for (uint64_t k = 0; k < limit; k++) {
		e->clock_ms = now + k;
		worker_poll_housekeeping(w, e->snap, e->clock_ms);
		if ((k & 63) == 63) {
			worker_stats_read(w, &st);
			if (st.flows_active <= keep)
				return 0;
		}
	}
	worker_stats_read(w, &st);
	return st.flows_active <= keep ? 0 : -EAGAIN;
}

static struct el_worker *
bench_worker_new(struct bench_worker_env *e, uint32_t max_flows)
{
	struct el_worker_conf conf;

	memset(&conf, 0, sizeof(conf));
	conf.index = 0;
	conf.n_workers = 1;
	/* the table of the family measured holds max_flows; the other one
	 * is small (max_flows6 0 would mean "as many as IPv4") */
	conf.max_flows = e->fam == BENCH_FAM4 ? max_flows : BENCH_OTHER_FLOWS;
	conf.max_flows6 = e->fam == BENCH_FAM6 ? max_flows : BENCH_OTHER_FLOWS;
	conf.socket_id = (int)rte_socket_id();
	conf.pool = e->pool;
	conf.tx = bench_worker_tx;
	conf.tx_ctx = &e->sink;
	conf.snat_port_min = 1024;
	conf.snat_port_max = 65535;
	return worker_create(&conf);
}

/* Memory of a worker with max_flows = N. */
static int
bench_worker_memory(struct bench_worker_env *e, struct bench_worker_size *sz)
{
	size_t before = bench_worker_heap();
	struct el_worker *w = bench_worker_new(e, sz->flows);

	if (w == NULL)
		return -rte_errno;
	sz->heap_bytes = bench_worker_heap() - before;
	/* worker_bytes_per_flow() is the IPv4 table's */
	sz->ct_bytes_per_flow = e->fam == BENCH_FAM4 ? worker_bytes_per_flow(w) : 0;
	worker_destroy(w);
	return 0;
}

static void
bench_worker_account(struct bench_worker_result *r, const struct el_worker_stats *a,
		     const struct el_worker_stats *b, uint64_t sent, uint64_t tx)
{
	r->done = true;
	r->sent += sent;
	r->forwarded += tx;
	r->drops += bench_worker_drops(b) - bench_worker_drops(a);
	if (r->note[0] == '\0')
		bench_worker_drop_note(a, b, r->note, sizeof(r->note));
}

static void
bench_worker_size_run(struct bench_worker_env *e, const struct bench_worker_opts *o,
		      struct bench_worker_size *sz)
{
	const uint32_t n = sz->flows;
	uint32_t round = n / BENCH_NEW_ROUND < BENCH_NEW_MIN ? BENCH_NEW_MIN : n / BENCH_NEW_ROUND;
	uint32_t capacity = n + round;
	struct bench_worker_rec *rec = NULL;
	struct el_worker *w = NULL;
	struct el_worker_stats a, b;
	uint32_t next_new = 0;
	uint64_t tx0;
	int rc;

	rc = bench_worker_memory(e, sz);
	if (rc < 0) {
		sz->skipped = true;
		snprintf(sz->why, sizeof(sz->why), "worker_create(max_flows %u): %s", n,
			 rte_strerror(-rc));
		return;
	}
	/* hugepage memory like the worker's tables: the reply test reads one
	 * record per packet at random, and with 4 KB pages those reads would
	 * evict the TLB entries of the tables being measured */
	rec = rte_zmalloc_socket("bench_rec", (size_t)n * sizeof(*rec), 0, (int)rte_socket_id());
	w = bench_worker_new(e, capacity);
	if (rec == NULL || w == NULL) {
		sz->skipped = true;
		snprintf(sz->why, sizeof(sz->why), "worker_create(max_flows %u): %s", capacity,
			 rec == NULL ? "out of memory" : rte_strerror(rte_errno));
		goto out;
	}

	/* fill: SYN of every flow, recording what the worker chose */
	fprintf(stderr, "  %s, %u flows: fill\n", bench_worker_fam_name[e->fam], n);
	struct bench_worker_result *r = &sz->res[BENCH_FILL];
	e->sink.rec = rec;
	e->sink.n_rec = n;
	e->sink.recorded = 0;
	worker_stats_read(w, &a);
	tx0 = e->sink.pkts;
	r->n_runs = 1;
	rc = bench_worker_feed(e, w, BENCH_FILL, NULL, n, true, n, &next_new, &r->runs[0]);
	worker_stats_read(w, &b);
	bench_worker_account(r, &a, &b, n, e->sink.pkts - tx0);
	e->sink.rec = NULL;
	if (rc < 0 || e->sink.recorded != n || b.flows_active != n) {
		sz->skipped = true;
		snprintf(sz->why, sizeof(sz->why),
			 "fill opened %" PRIu64 " of %u flows (%" PRIu64 " seen at the pods)%s%s",
			 b.flows_active, n, e->sink.recorded, r->note[0] ? "; " : "", r->note);
		goto out;
	}
	/* complete the handshake: client ACK of every flow -> ESTABLISHED */
	struct bench_worker_run scratch = {0};
	rc = bench_worker_feed(e, w, BENCH_CLIENT, rec, n, true, n, NULL, &scratch);
	if (rc < 0)
		goto out;

	/* the clock runs from here on (frozen while flows were opened) */
	e->ticking = true;

	/* (a) and (b): random flows among the n live ones */
	static const enum bench_worker_test hits[2] = {BENCH_CLIENT, BENCH_REPLY};
	for (unsigned t = 0; t < 2; t++) {
		if (!o->test_on[hits[t]])
			continue;
		r = &sz->res[hits[t]];
		fprintf(stderr, "  %s, %u flows: %s\n", bench_worker_fam_name[e->fam], n,
			bench_worker_test_name[hits[t]]);
		/* a warm-up pass, not counted */
		memset(&scratch, 0, sizeof(scratch));
		bench_worker_feed(e, w, hits[t], rec, n, false, o->packets / 4 + BENCH_BURST, NULL,
				  &scratch);
		for (unsigned k = 0; k < o->runs; k++) {
			worker_stats_read(w, &a);
			tx0 = e->sink.pkts;
			rc = bench_worker_feed(e, w, hits[t], rec, n, false, o->packets, NULL,
					       &r->runs[k]);
			worker_stats_read(w, &b);
			bench_worker_account(r, &a, &b, o->packets, e->sink.pkts - tx0);
			r->n_runs = k + 1;
			if (rc < 0)
				break;
		}
	}

	/* (c): rounds of `round` new flows, expired between rounds */
	if (!o->test_on[BENCH_NEW])
		goto out;
	fprintf(stderr, "  %s, %u flows: %s (rounds of %u)\n", bench_worker_fam_name[e->fam], n,
		bench_worker_test_name[BENCH_NEW], round);
	r = &sz->res[BENCH_NEW];
	for (unsigned k = 0; k < o->runs; k++) {
		for (uint64_t left = o->new_flows; left > 0;) {
			uint64_t batch = left < round ? left : round;
			worker_stats_read(w, &a);
			tx0 = e->sink.pkts;
			rc = bench_worker_feed(e, w, BENCH_NEW, NULL, n, false, batch, &next_new,
					       &r->runs[k]);
			worker_stats_read(w, &b);
			bench_worker_account(r, &a, &b, batch, e->sink.pkts - tx0);
			if (rc == 0)
				rc = bench_worker_expire_new(e, w, capacity, n);
			if (rc < 0) {
				snprintf(r->note, sizeof(r->note), "stopped: %s",
					 rc == -EAGAIN ? "new flows did not expire"
						       : strerror(-rc));
				r->n_runs = k + 1;
				goto out;
			}
			left -= batch;
		}
		r->n_runs = k + 1;
	}
out:
	e->ticking = false;
	worker_destroy(w);
	rte_free(rec);
}

/* ---- report ---- */

static int
bench_worker_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Median, min and max of the worker cycles per packet over the runs. */
static void
bench_worker_stats(const struct bench_worker_result *r, double *med, double *lo, double *hi,
		   double *prep)
{
	uint64_t v[BENCH_MAX_RUNS];
	uint64_t prep_c = 0, pkts = 0;
	unsigned n = 0;

	for (unsigned k = 0; k < r->n_runs; k++) {
		if (r->runs[k].pkts == 0)
			continue;
		/* cycles per packet x 1000 */
		v[n++] = r->runs[k].work * 1000 / r->runs[k].pkts;
		prep_c += r->runs[k].prep;
		pkts += r->runs[k].pkts;
	}
	if (n == 0) {
		*med = *lo = *hi = *prep = 0;
		return;
	}
	qsort(v, n, sizeof(v[0]), bench_worker_cmp_u64);
	*med = (n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1000;
	*lo = (double)v[0] / 1000;
	*hi = (double)v[n - 1] / 1000;
	*prep = (double)prep_c / (double)pkts;
}

static const char *
bench_worker_fmt_flows(uint32_t n, char *buf, size_t len)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, len, "%uM", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%uK", n >> 10);
	else
		snprintf(buf, len, "%u", n);
	return buf;
}

static void
bench_worker_report(const struct bench_worker_env *e, const struct bench_worker_opts *o,
		    struct bench_worker_size sizes[][BENCH_MAX_SIZES], unsigned n_sizes)
{
	const double ghz = (double)e->tsc_hz / 1e9;
	char fb[16];

	printf("\nedgelb worker benchmark: 1 worker, 1 lcore, TSC %.2f GHz, bursts of %u, "
	       "TCP frames of %u (IPv4) / %u (IPv6) bytes,\n"
	       "service with %u backends, %u SNAT addresses per family; median of %u runs "
	       "(%" PRIu64 " packets / %" PRIu64 " new flows each)\n\n",
	       ghz, BENCH_BURST, BENCH_FRAME_LEN, BENCH_FRAME_LEN6, BENCH_PODS, BENCH_SNATS,
	       o->runs, o->packets, o->new_flows);
	printf("%-6s %-4s %-30s %8s %15s %9s %8s %8s  %s\n", "flows", "fam", "benchmark", "Mpps",
	       "(min-max)", "cyc/pkt", "ns/pkt", "prep cyc", "forwarded");
	/* per size, each test's IPv4 row next to its IPv6 row */
	for (unsigned s = 0; s < n_sizes; s++) {
		bench_worker_fmt_flows(o->flows[s], fb, sizeof(fb));
		for (unsigned f = 0; f < BENCH_NFAMS; f++) {
			const struct bench_worker_size *sz = &sizes[f][s];
			if (o->fam_on[f] && sz->skipped && !sz->res[BENCH_FILL].done)
				printf("%-6s %-4s skipped: %s\n", fb, bench_worker_fam_name[f],
				       sz->why);
		}
		for (unsigned t = 0; t < BENCH_NTESTS; t++)
			for (unsigned f = 0; f < BENCH_NFAMS; f++) {
				const struct bench_worker_result *r = &sizes[f][s].res[t];
				double med, lo, hi, prep;
				if (!o->fam_on[f] || !r->done)
					continue;
				bench_worker_stats(r, &med, &lo, &hi, &prep);
				if (med <= 0)
					continue;
				printf(
				    "%-6s %-4s %-30s %8.2f %6.2f-%-8.2f %9.1f %8.1f %8.1f  %" PRIu64
				    "/%" PRIu64 "%s%s\n",
				    fb, bench_worker_fam_name[f], bench_worker_test_name[t],
				    ghz * 1e3 / med, ghz * 1e3 / hi, ghz * 1e3 / lo, med, med / ghz,
				    prep, r->forwarded, r->sent, r->note[0] ? "  " : "", r->note);
			}
		for (unsigned f = 0; f < BENCH_NFAMS; f++) {
			const struct bench_worker_size *sz = &sizes[f][s];
			if (o->fam_on[f] && sz->skipped && sz->res[BENCH_FILL].done)
				printf("%-6s %-4s stopped: %s\n", fb, bench_worker_fam_name[f],
				       sz->why);
		}
	}
	printf("\nMpps and cycles: worker_process_burst + worker_poll_housekeeping per burst "
	       "(tx callback frees).\n"
	       "prep: mbuf alloc + writing the frame and its checksums, per packet, not "
	       "included.\n"
	       "(c) Mpps = new flows per second (millions); fill = the same from an empty "
	       "table.\n\n");

	printf("%-10s %-4s %16s %24s %26s\n", "max_flows", "fam", "worker heap MB",
	       "bytes/flow (worker)", "bytes/flow (conntrack)");
	for (unsigned s = 0; s < n_sizes; s++)
		for (unsigned f = 0; f < BENCH_NFAMS; f++) {
			const struct bench_worker_size *sz = &sizes[f][s];
			char cb[24] = "-";
			if (!o->fam_on[f] || sz->heap_bytes == 0)
				continue;
			if (sz->ct_bytes_per_flow != 0)
				snprintf(cb, sizeof(cb), "%zu", sz->ct_bytes_per_flow);
			printf("%-10s %-4s %16.1f %24.1f %26s\n",
			       bench_worker_fmt_flows(sz->flows, fb, sizeof(fb)),
			       bench_worker_fam_name[f], (double)sz->heap_bytes / (1 << 20),
			       (double)sz->heap_bytes / sz->flows, cb);
		}
	printf("(worker: rte_malloc heap growth of worker_create() with a table of max_flows of "
	       "that family\n and %u of the other, / max_flows, including fixed-size parts; "
	       "conntrack:\n worker_bytes_per_flow(), IPv4 only)\n",
	       BENCH_OTHER_FLOWS);
}

/* ---- main ---- */

static int
bench_worker_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
bench_worker_opts(int argc, char **argv, struct bench_worker_opts *o)
{
	static const struct option longopts[] = {
	    {"flows", required_argument, NULL, 'f'},
	    {"packets", required_argument, NULL, 'p'},
	    {"new-flows", required_argument, NULL, 'n'},
	    {"runs", required_argument, NULL, 'r'},
	    {"quick", no_argument, NULL, 'q'},
	    {"tests", required_argument, NULL, 't'},
	    {"family", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	o->flows[0] = 1u << 10;
	o->flows[1] = 1u << 20;
	o->flows[2] = 4u << 20;
	o->n_flows = 3;
	o->packets = 4u << 20;
	o->new_flows = 1u << 19;
	o->runs = 5;
	for (unsigned t = 0; t < BENCH_NTESTS; t++)
		o->test_on[t] = true;
	o->fam_on[BENCH_FAM4] = o->fam_on[BENCH_FAM6] = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:p:n:r:t:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			/* "4", "6" or "46" */
			if (optarg[strspn(optarg, "46")] != '\0' || optarg[0] == '\0')
				return -EINVAL;
			o->fam_on[BENCH_FAM4] = strchr(optarg, '4') != NULL;
			o->fam_on[BENCH_FAM6] = strchr(optarg, '6') != NULL;
			break;
		case 't':
			/* letters of the tests to run; the fill always runs */
			o->test_on[BENCH_CLIENT] = strchr(optarg, 'a') != NULL;
			o->test_on[BENCH_REPLY] = strchr(optarg, 'b') != NULL;
			o->test_on[BENCH_NEW] = strchr(optarg, 'c') != NULL;
			break;
		case 'f': {
			char *list = strdup(optarg), *save = NULL, *tok;
			if (list == NULL)
				return -ENOMEM;
			o->n_flows = 0;
			for (tok = strtok_r(list, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o->n_flows == BENCH_MAX_SIZES ||
				    bench_worker_parse_u64(tok, 64, 1u << 26, &v) < 0) {
					free(list);
					return -EINVAL;
				}
				o->flows[o->n_flows++] = (uint32_t)v;
			}
			free(list);
			if (o->n_flows == 0)
				return -EINVAL;
			break;
		}
		case 'p':
			if (bench_worker_parse_u64(optarg, BENCH_BURST, 1ull << 34, &o->packets) <
			    0)
				return -EINVAL;
			break;
		case 'n':
			if (bench_worker_parse_u64(optarg, BENCH_BURST, 1ull << 30, &o->new_flows) <
			    0)
				return -EINVAL;
			break;
		case 'r':
			if (bench_worker_parse_u64(optarg, 1, BENCH_MAX_RUNS, &v) < 0)
				return -EINVAL;
			o->runs = (unsigned)v;
			break;
		case 'q':
			o->flows[0] = 1u << 10;
			o->flows[1] = 1u << 16;
			o->n_flows = 2;
			o->packets = 1u << 18;
			o->new_flows = 1u << 15;
			o->runs = 3;
			break;
		case 'h':
			printf("usage: bench_worker [EAL args] -- [--flows N,N,...] [--packets N] "
			       "[--new-flows N] [--runs R] [--tests abc] [--family 4|6|46] "
			       "[--quick]\n"
			       "  N may end in K or M (powers of two); defaults: --flows 1K,1M,4M "
			       "--packets 4M --new-flows 512K --runs 5 --tests abc --family 46\n"
			       "  --tests: a = established client->pod, b = replies, c = new flows "
			       "(the fill always runs)\n"
			       "  --family: IPv4 (4), IPv6 (6) or both, each size measured for "
			       "IPv4 first\n");
			return 1;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	static struct bench_worker_env env;
	static struct bench_worker_size sizes[BENCH_NFAMS][BENCH_MAX_SIZES];
	struct bench_worker_opts o;
	int rc, used;

	used = rte_eal_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "bench_worker: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[used] = argv[0];
	rc = bench_worker_opts(argc - used, argv + used, &o);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "bench_worker: bad arguments (try -- --help)\n");
		rte_eal_cleanup();
		return rc < 0 ? 2 : 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	env.tsc_hz = rte_get_tsc_hz();
	env.clock_ms = 1000;
	env.rng = 0x9e3779b97f4a7c15ULL;
	env.pool = rte_pktmbuf_pool_create("bench_mbufs", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (env.pool == NULL) {
		fprintf(stderr, "bench_worker: mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}

	for (unsigned f = 0; f < BENCH_NFAMS; f++) {
		if (!o.fam_on[f])
			continue;
		env.fam = (int)f;
		if (bench_worker_snapshot(&env) < 0) {
			bench_worker_snapshot_free(&env);
			for (unsigned s = 0; s < o.n_flows; s++) {
				sizes[f][s].flows = o.flows[s];
				sizes[f][s].skipped = true;
				snprintf(sizes[f][s].why, sizeof(sizes[f][s].why),
					 "no %s snapshot (see above)", bench_worker_fam_name[f]);
			}
			continue;
		}
		for (unsigned s = 0; s < o.n_flows; s++) {
			env.rng = 0x9e3779b97f4a7c15ULL; /* the same flow picks for both */
			sizes[f][s].flows = o.flows[s];
			bench_worker_size_run(&env, &o, &sizes[f][s]);
		}
		bench_worker_snapshot_free(&env);
	}
	bench_worker_report(&env, &o, sizes, o.n_flows);

	rte_mempool_free(env.pool);
	rte_eal_cleanup();
	return 0;
}
