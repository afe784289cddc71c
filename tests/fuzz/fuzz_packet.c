/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the worker's packet path (worker_process_burst), IPv4 and
 * IPv6, fed arbitrary frames on either interface. Two appliances are set
 * up, both those of the packet fixtures:
 *  - IPv4: tests/packet/edgelb.yaml and tests/packet/manifests (NodePort,
 *    ClusterIP, externalIP, LoadBalancer with source ranges, ClientIP
 *    affinity, UDP, a service without endpoints, a backend left to ARP);
 *  - dual stack: tests/packet/edgelb6.yaml and tests/packet/manifests6
 *    (the same kinds of IPv6 services, a backend left to neighbour
 *    discovery, a Service with an IPv4 and an IPv6 clusterIP).
 *
 * EAL starts once, with --no-huge. Each input gets two fresh workers in
 * partition mode (so replies may be handed off between them): worker 0
 * with room for 1024 flows and no new-flow limit, worker 1 with room for
 * 16 flows (and 16 affinity entries) and 4 new flows per second per
 * source, so full tables and the limit are reached within one input. An
 * input is a sequence of records, all played against the same workers, so
 * flows, neighbours and affinity created by one frame meet the frames
 * after it:
 *
 *   byte 0     bit 0: interface (0 ext, 1 int); bit 1: worker (0 or 1);
 *              bits 2-7: v, the clock advances by v*v seconds (+1 ms)
 *              before the record, so flows and affinity entries expire
 *   bytes 1-2  big endian: bits 0-12 the frame length;
 *              bit 13: in the first record, the dual-stack appliance;
 *              in any later one, control first asks both workers to flush
 *              the UDP flows of every backend of the UDP services (as when
 *              those backends stop serving);
 *              bit 14: the harness writes correct checksums into the frame
 *              (IPv4 header; TCP, UDP, ICMP, ICMPv6 when the frame holds
 *              them; a zero UDP checksum stays zero) before it is sent;
 *              bit 15: the frame arrives as a chain of two segments split
 *              at its middle (frames longer than one mbuf are always
 *              chained)
 *   ...        the frame (shorter when the input ends first)
 *
 * After each record both workers run their housekeeping. Promises checked
 * (a broken one is reported with abort()):
 * - every frame sent carries a whole Ethernet header whose source is the
 *   MAC of the interface it leaves through;
 * - an IPv4 frame sent has a consistent header (version, IHL, total length
 *   within the frame) with a correct header checksum;
 * - an IPv6 frame sent has version 6, exactly 40 + payload length bytes
 *   after Ethernet, a hop limit above 0, a source that is neither
 *   multicast nor unspecified, a destination that is not unspecified, an
 *   extension-header chain inside its payload, and no UDP checksum 0;
 *   ICMPv6 messages other than echo replies (built or recomputed whole by
 *   the worker) carry a correct checksum;
 * - while every record of the input had its checksums written by the
 *   harness (bit 14), every TCP, UDP, ICMP and ICMPv6 message sent carries
 *   a correct checksum (incremental updates, RFC 1624, keep it correct);
 * - a frame sent to a group MAC address (broadcast, multicast: only
 *   neighbour discovery and ARP are taken from those) opens no flow;
 * - after each record: the mbufs out of the pool are exactly those waiting
 *   for neighbour resolution; each worker's flows_active equals the flows
 *   its tables list (worker_conns) and, per service port, the active count
 *   equals its listed flows; every listed flow has one address family, a
 *   SNAT address of the snapshot, a SNAT port in the worker's own slice of
 *   the port range and a known service of that family;
 * - received packets are counted on the interface they came in on;
 * - every mbuf comes back to the pool once the workers are destroyed (no
 *   leak, no double free).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"

#ifndef EL_SRCDIR
#define EL_SRCDIR "."
#endif

#define FUZZ_PKT_WORKERS     2
#define FUZZ_PKT_MAX_RECORDS 64
#define FUZZ_PKT_POOL	     2047
#define FUZZ_PKT_MAX_FLOWS   1024 /* worker 0 */
#define FUZZ_PKT_MAX_FLOWS_1 16	  /* worker 1 */
#define FUZZ_PKT_SRC_RATE_1  4	  /* worker 1: new flows per second per source */
#define FUZZ_PKT_MAX_UDP_IDS 64
#define FUZZ_PKT_PORT_MIN    1024
#define FUZZ_PKT_PORT_MAX    65535
#define FUZZ_PKT_MAX_CONNS   (4 * FUZZ_PKT_MAX_FLOWS)

/* bits of a record's length field */
#define FUZZ_PKT_LEN_MASK  0x1fffu
#define FUZZ_PKT_LEN_DUAL  0x2000u
#define FUZZ_PKT_LEN_CSUM  0x4000u
#define FUZZ_PKT_LEN_SPLIT 0x8000u
#define FUZZ_PKT_MAX_FRAME FUZZ_PKT_LEN_MASK

#define FUZZ_ETH      14
#define FUZZ_IP6      40
#define FUZZ_EXT_WALK 16 /* extension headers the checks follow at most */

static const uint8_t fuzz_pkt_mac[2][6] = {
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, /* ext, as in the fixtures */
    {0x02, 0x00, 0x00, 0x00, 0x02, 0x01}, /* int */
};

/* One appliance: its config, model and compiled snapshot. */
struct fuzz_pkt_setup {
	const char *config;
	const char *manifests;
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct el_snapshot *snap;
	uint32_t udp_ids[FUZZ_PKT_MAX_UDP_IDS]; /* backends of the UDP services */
	unsigned n_udp_ids;
};

static struct {
	struct fuzz_pkt_setup setup[2]; /* 0: IPv4, 1: dual stack */
	const struct fuzz_pkt_setup *cur;
	struct rte_mempool *pool;
	bool csum_promise; /* every record so far had its checksums written */
	uint64_t sent;
	uint8_t frame[FUZZ_PKT_MAX_FRAME];
	uint8_t out[FUZZ_PKT_MAX_FRAME + 64];
	struct el_conn_info conns[FUZZ_PKT_MAX_CONNS];
} fz = {
    .setup =
	{
	    {.config = EL_SRCDIR "/tests/packet/edgelb.yaml",
	     .manifests = EL_SRCDIR "/tests/packet/manifests"},
	    {.config = EL_SRCDIR "/tests/packet/edgelb6.yaml",
	     .manifests = EL_SRCDIR "/tests/packet/manifests6"},
	},
};

static void
fuzz_pkt_require(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_packet: broken promise: %s\n", what);
		abort();
	}
}

/* ---- checksums, computed here independently of the dataplane ---- */

static uint32_t
fuzz_sum(const uint8_t *b, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t
fuzz_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
fuzz_rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void
fuzz_wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Where an upper-layer checksum lives: the upper layer at @p l4, @p len
 * bytes of it covered (UDP: its length field), the pseudo-header sum, the
 * checksum's offset. */
struct fuzz_l4 {
	uint8_t *l4;
	uint32_t len;
	uint32_t pseudo;
	unsigned coff;
	uint8_t proto;
};

/* The checksummed upper layer of @p proto at @p l4 (@p avail bytes), or
 * false when it is too short to hold its checksum. */
static bool
fuzz_l4_at(uint8_t proto, uint8_t *l4, uint32_t avail, bool v6, struct fuzz_l4 *o)
{
	o->l4 = l4;
	o->proto = proto;
	o->len = avail;
	if (proto == 6) {
		o->coff = 16;
		return avail >= 20;
	}
	if (proto == 17) {
		o->coff = 6;
		if (avail < 8)
			return false;
		uint16_t ulen = fuzz_rd16(l4 + 4);
		if (ulen < 8 || ulen > avail)
			return false;
		o->len = ulen;
		return true;
	}
	if ((proto == 1 && !v6) || (proto == 58 && v6)) {
		o->coff = 2;
		return avail >= 4;
	}
	return false;
}

/* The IPv4 packet at @p ip (@p avail bytes): its upper layer, when it is a
 * whole packet (not a fragment) that holds one. */
static bool
fuzz_l4_of4(uint8_t *ip, uint32_t avail, struct fuzz_l4 *o)
{
	if (avail < 20 || (ip[0] >> 4) != 4)
		return false;
	unsigned ihl = (ip[0] & 0xfu) * 4u, tot = fuzz_rd16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > avail || (fuzz_rd16(ip + 6) & 0x3fff) != 0)
		return false;
	if (!fuzz_l4_at(ip[9], ip + ihl, tot - ihl, false, o))
		return false;
	if (o->proto == 1) {
		o->pseudo = 0;
	} else {
		uint8_t tail[4] = {0, ip[9], (uint8_t)(o->len >> 8), (uint8_t)o->len};
		o->pseudo = fuzz_sum(ip + 12, 8, fuzz_sum(tail, 4, 0));
	}
	return true;
}

/*
 * Walk the extension headers (hop-by-hop, routing, fragment, destination
 * options) of the IPv6 packet at @p ip whose payload ends at @p end.
 * @return the offset of the upper layer, 0 when a header runs past the
 * end, or the chain is longer than FUZZ_EXT_WALK; *proto is the upper
 * layer, *frag true when a fragment header has an offset or M set
 */
static uint32_t
fuzz_walk6(const uint8_t *ip, uint32_t end, uint8_t *proto, bool *frag)
{
	uint32_t off = FUZZ_IP6;
	uint8_t nh = ip[6];

	*frag = false;
	for (unsigned n = 0; nh == 0 || nh == 43 || nh == 44 || nh == 60; n++) {
		if (n == FUZZ_EXT_WALK || end < off + 8)
			return 0;
		uint32_t hlen = nh == 44 ? 8 : (ip[off + 1] + 1u) * 8u;
		if (end - off < hlen)
			return 0;
		if (nh == 44 && (fuzz_rd16(ip + off + 2) & 0xfff9) != 0)
			*frag = true;
		nh = ip[off];
		off += hlen;
	}
	*proto = nh;
	return off;
}

/* The IPv6 packet at @p ip (@p avail bytes): its upper layer, when it is
 * not a fragment and holds one. */
static bool
fuzz_l4_of6(uint8_t *ip, uint32_t avail, struct fuzz_l4 *o)
{
	if (avail < FUZZ_IP6 || (ip[0] >> 4) != 6)
		return false;
	uint32_t end = FUZZ_IP6 + fuzz_rd16(ip + 4);
	uint8_t proto;
	bool frag;
	if (end > avail)
		return false;
	uint32_t off = fuzz_walk6(ip, end, &proto, &frag);
	if (off == 0 || frag || !fuzz_l4_at(proto, ip + off, end - off, true, o))
		return false;
	uint8_t tail[8] = {0, 0, (uint8_t)(o->len >> 8), (uint8_t)o->len, 0, 0, 0, proto};
	o->pseudo = fuzz_sum(ip + 8, 32, fuzz_sum(tail, 8, 0));
	return true;
}

/* The one's-complement sum of an upper layer with its checksum: 0xffff
 * when the checksum is right. */
static uint16_t
fuzz_l4_check(const struct fuzz_l4 *o)
{
	return fuzz_fold(fuzz_sum(o->l4, o->len, o->pseudo));
}

static void
fuzz_l4_write(const struct fuzz_l4 *o)
{
	if (o->proto == 17 && fuzz_rd16(o->l4 + 6) == 0)
		return; /* no checksum (IPv4); over IPv6 the worker must refuse it */
	fuzz_wr16(o->l4 + o->coff, 0);
	uint16_t c = (uint16_t)~fuzz_fold(fuzz_sum(o->l4, o->len, o->pseudo));
	if (o->proto == 17 && c == 0)
		c = 0xffff;
	fuzz_wr16(o->l4 + o->coff, c);
}

/* Bit 14 of a record: make the frame's checksums right before it is sent. */
static void
fuzz_pkt_write_csums(uint8_t *f, uint32_t len)
{
	struct fuzz_l4 l4;

	if (len < FUZZ_ETH + 20)
		return;
	uint8_t *ip = f + FUZZ_ETH;
	uint32_t avail = len - FUZZ_ETH;
	if (f[12] == 0x08 && f[13] == 0x00 && (ip[0] >> 4) == 4) {
		unsigned ihl = (ip[0] & 0xfu) * 4u;
		if (ihl < 20 || ihl > avail)
			return;
		fuzz_wr16(ip + 10, 0);
		fuzz_wr16(ip + 10, (uint16_t)~fuzz_fold(fuzz_sum(ip, ihl, 0)));
		if (fuzz_l4_of4(ip, avail, &l4))
			fuzz_l4_write(&l4);
	} else if (f[12] == 0x86 && f[13] == 0xdd && fuzz_l4_of6(ip, avail, &l4)) {
		fuzz_l4_write(&l4);
	}
}

/* ---- promises about frames sent ---- */

static void
fuzz_pkt_check_ip4(uint8_t *ip, uint32_t avail)
{
	struct fuzz_l4 l4;

	fuzz_pkt_require(avail >= 20, "an IPv4 frame sent holds an IPv4 header");
	unsigned ihl = (ip[0] & 0xfu) * 4u, tot = fuzz_rd16(ip + 2);
	fuzz_pkt_require((ip[0] >> 4) == 4 && ihl >= 20 && ihl <= avail && tot >= ihl &&
			     tot <= avail,
			 "an IPv4 frame sent has a consistent header");
	fuzz_pkt_require(fuzz_fold(fuzz_sum(ip, ihl, 0)) == 0xffff,
			 "an IPv4 frame sent has a correct header checksum");
	if (fz.csum_promise && fuzz_l4_of4(ip, avail, &l4) &&
	    !(l4.proto == 17 && fuzz_rd16(l4.l4 + 6) == 0))
		fuzz_pkt_require(fuzz_l4_check(&l4) == 0xffff,
				 "an IPv4 packet sent keeps the correct L4 checksum it came with");
}

static void
fuzz_pkt_check_ip6(uint8_t *ip, uint32_t avail)
{
	static const uint8_t zero[16];
	struct fuzz_l4 l4;
	uint8_t proto;
	bool frag;

	fuzz_pkt_require(avail >= FUZZ_IP6 && (ip[0] >> 4) == 6,
			 "an IPv6 frame sent holds an IPv6 header");
	fuzz_pkt_require(FUZZ_IP6 + (uint32_t)fuzz_rd16(ip + 4) == avail,
			 "an IPv6 frame sent ends where its payload length says");
	fuzz_pkt_require(ip[7] != 0, "an IPv6 packet is never sent with hop limit 0");
	fuzz_pkt_require(ip[8] != 0xff && memcmp(ip + 8, zero, 16) != 0,
			 "an IPv6 packet sent has a unicast source");
	fuzz_pkt_require(memcmp(ip + 24, zero, 16) != 0, "an IPv6 packet sent has a destination");
	fuzz_pkt_require(fuzz_walk6(ip, avail, &proto, &frag) != 0,
			 "an IPv6 packet sent has its extension headers inside its payload");
	if (!fuzz_l4_of6(ip, avail, &l4))
		return;
	if (l4.proto == 17)
		fuzz_pkt_require(fuzz_rd16(l4.l4 + 6) != 0,
				 "a UDP datagram sent over IPv6 has a checksum");
	if (l4.proto == 58 && l4.l4[0] != 129)
		fuzz_pkt_require(fuzz_l4_check(&l4) == 0xffff,
				 "an ICMPv6 message built by the worker has a correct checksum");
	if (fz.csum_promise)
		fuzz_pkt_require(fuzz_l4_check(&l4) == 0xffff,
				 "an IPv6 packet sent keeps the correct L4 checksum it came with");
}

static void
fuzz_pkt_check_frame(uint8_t iface, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *b;

	fuzz_pkt_require(len >= FUZZ_ETH, "a frame sent has a whole Ethernet header");
	fuzz_pkt_require(len <= sizeof(fz.out), "a frame sent is not larger than any received");
	b = rte_pktmbuf_read(m, 0, len, fz.out);
	fuzz_pkt_require(b != NULL, "a frame sent can be read");
	if (b != fz.out)
		memcpy(fz.out, b, len);
	fuzz_pkt_require(memcmp(fz.out + 6, fuzz_pkt_mac[iface], 6) == 0,
			 "a frame leaves from the MAC of its interface");
	if (fz.out[12] == 0x08 && fz.out[13] == 0x00)
		fuzz_pkt_check_ip4(fz.out + FUZZ_ETH, len - FUZZ_ETH);
	else if (fz.out[12] == 0x86 && fz.out[13] == 0xdd)
		fuzz_pkt_check_ip6(fz.out + FUZZ_ETH, len - FUZZ_ETH);
}

static uint16_t
fuzz_pkt_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ctx;
	fuzz_pkt_require(iface < fz.cur->cfg.n_ifaces && iface < 2,
			 "frames leave through a configured interface");
	for (uint16_t i = 0; i < n; i++) {
		fuzz_pkt_check_frame(iface, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	fz.sent += n;
	return n;
}

/* ---- promises about the workers' state ---- */

static const struct el_snap_svc *
fuzz_pkt_svc(const struct el_snapshot *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->n_svcs; i++)
		if (s->svcs[i]->id == id)
			return s->svcs[i];
	return NULL;
}

static bool
fuzz_pkt_is_snat(const struct el_snapshot *s, const struct el_ip *a)
{
	for (unsigned i = 0; i < s->n_snat; i++)
		if (s->snat[i].family == a->family &&
		    (a->family == EL_AF_INET ? s->snat[i].v4 == a->v4
					     : memcmp(s->snat[i].v6, a->v6, 16) == 0))
			return true;
	return false;
}

static void
fuzz_pkt_check_worker(struct el_worker *w, unsigned wi, uint64_t now)
{
	const struct el_snapshot *s = fz.cur->snap;
	const uint32_t range = FUZZ_PKT_PORT_MAX - FUZZ_PKT_PORT_MIN + 1;
	const uint32_t lo = FUZZ_PKT_PORT_MIN + wi * (range / FUZZ_PKT_WORKERS);
	const uint32_t hi = lo + range / FUZZ_PKT_WORKERS - 1;
	struct el_worker_stats st;
	unsigned n = worker_conns(w, fz.conns, FUZZ_PKT_MAX_CONNS, now);

	worker_stats_read(w, &st);
	fuzz_pkt_require(st.flows_active == n, "flows_active counts the flows in the tables");
	for (unsigned i = 0; i < n; i++) {
		const struct el_conn_info *c = &fz.conns[i];
		const struct el_snap_svc *svc = fuzz_pkt_svc(s, c->svc_id);
		fuzz_pkt_require(c->client.family == c->frontend.family &&
				     c->snat.family == c->client.family &&
				     c->backend.family == c->client.family,
				 "the four addresses of a flow have one family");
		fuzz_pkt_require(fuzz_pkt_is_snat(s, &c->snat), "a flow uses a SNAT address");
		fuzz_pkt_require(c->sport >= lo && c->sport <= hi,
				 "a flow's SNAT port lies in its worker's slice");
		fuzz_pkt_require(c->proto == 6 || c->proto == 17, "a flow is TCP or UDP");
		fuzz_pkt_require(svc != NULL && svc->family == c->client.family &&
				     svc->proto == c->proto,
				 "a flow belongs to a service port of its family and protocol");
	}
	for (uint32_t k = 0; k < s->n_svcs; k++) {
		uint64_t created, active, listed = 0;
		uint32_t id = s->svcs[k]->id;
		worker_svc_stats(w, id, &created, &active);
		for (unsigned i = 0; i < n; i++)
			listed += fz.conns[i].svc_id == id;
		fuzz_pkt_require(active == listed, "a service's active count is its listed flows");
		fuzz_pkt_require(created >= active, "a service created the flows it has");
	}
}

/* Flows opened so far by both workers. */
static uint64_t
fuzz_pkt_flows_created(struct el_worker *const *w)
{
	struct el_worker_stats st;
	uint64_t n = 0;

	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++) {
		worker_stats_read(w[i], &st);
		n += st.flows_created;
	}
	return n;
}

/* After a record and the housekeeping that follows it. */
static void
fuzz_pkt_check_state(struct el_worker *const *w, unsigned avail, uint64_t now)
{
	unsigned pending = 0;

	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++) {
		pending += worker_neigh_pending(w[i]);
		fuzz_pkt_check_worker(w[i], i, now);
	}
	fuzz_pkt_require(avail - rte_mempool_avail_count(fz.pool) == pending,
			 "the mbufs out of the pool are those waiting for a neighbour");
}

/* ---- set-up ---- */

static int
fuzz_pkt_setup(struct fuzz_pkt_setup *s, char *err, size_t errlen)
{
	int rc = config_load(s->config, &s->cfg, err, errlen);

	if (rc == 0) {
		el_model_init(&s->model);
		rc = manifest_load_path(&s->model, s->manifests, err, errlen);
	}
	if (rc == 0) {
		s->cs = compile_state_new(&s->cfg);
		if (s->cs == NULL) {
			snprintf(err, errlen, "compile_state_new: out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		for (unsigned i = 0; i < s->cfg.n_ifaces && i < 2; i++)
			compile_set_iface(s->cs, i, (uint16_t)i, fuzz_pkt_mac[i]);
		rc = compile_snapshot(s->cs, &s->model, &s->snap, err, errlen);
	}
	if (rc == 0 && (s->cfg.n_ifaces == 0 || s->cfg.n_ifaces > 2)) {
		snprintf(err, errlen, "%s: the harness drives one or two interfaces", s->config);
		rc = -EINVAL;
	}
	for (uint32_t i = 0; rc == 0 && i < s->snap->n_svcs; i++) {
		const struct el_snap_svc *svc = s->snap->svcs[i];
		for (uint32_t k = 0; svc->proto == 17 && k < svc->n_backends; k++)
			if (s->n_udp_ids < FUZZ_PKT_MAX_UDP_IDS)
				s->udp_ids[s->n_udp_ids++] = svc->backends[k].id;
	}
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {(*argv)[0],	"--no-huge",	 "-m",		"256",
		       "--no-shconf",	"--no-pci",	 "-l",		"0",
		       "--log-level",	"lib.eal:error", "--log-level", "user1:error",
		       "--no-telemetry"};
	char err[512];

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "fuzz_packet: EAL: %s\n", rte_strerror(rte_errno));
		abort();
	}
	rte_log_set_global_level(RTE_LOG_ERR);
	for (unsigned i = 0; i < 2; i++) {
		if (fuzz_pkt_setup(&fz.setup[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_packet: setup of %s: %s\n", fz.setup[i].config, err);
			abort();
		}
	}
	fz.pool = rte_pktmbuf_pool_create("fuzz", FUZZ_PKT_POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (fz.pool == NULL) {
		fprintf(stderr, "fuzz_packet: mbuf pool: %s\n", rte_strerror(rte_errno));
		abort();
	}
	return 0;
}

/* A frame as one mbuf, or a chain: split in two at @p split (0: no split),
 * and in pieces of the mbuf's room when longer than that. */
static struct rte_mbuf *
fuzz_pkt_mbuf(const uint8_t *data, uint32_t len, uint32_t split)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(fz.pool);
		uint32_t room, n;
		char *p;

		if (m == NULL)
			goto fail;
		room = rte_pktmbuf_tailroom(m);
		n = len - off < room ? len - off : room;
		if (split > off && split < off + n)
			n = split - off;
		p = rte_pktmbuf_append(m, (uint16_t)n);
		if (p == NULL) {
			rte_pktmbuf_free(m);
			goto fail;
		}
		memcpy(p, data + off, n);
		off += n;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			goto fail;
		}
	} while (off < len);
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct el_worker *w[FUZZ_PKT_WORKERS];
	struct el_worker_stats before[FUZZ_PKT_WORKERS], after;
	uint64_t rx[FUZZ_PKT_WORKERS][EL_SNAP_MAX_IFACES] = {{0}};
	unsigned avail = rte_mempool_avail_count(fz.pool), records = 0;
	uint64_t now = 1000;
	size_t off = 0;

	fz.cur = &fz.setup[size >= 3 && (data[1] << 8 & FUZZ_PKT_LEN_DUAL) ? 1 : 0];
	fz.csum_promise = true;
	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++) {
		struct el_worker_conf conf = {
		    .index = i,
		    .n_workers = FUZZ_PKT_WORKERS,
		    .max_flows = i == 0 ? FUZZ_PKT_MAX_FLOWS : FUZZ_PKT_MAX_FLOWS_1,
		    .new_flows_per_source = i == 0 ? 0 : FUZZ_PKT_SRC_RATE_1,
		    .socket_id = SOCKET_ID_ANY,
		    .pool = fz.pool,
		    .tx = fuzz_pkt_tx,
		    .snat_port_min = FUZZ_PKT_PORT_MIN,
		    .snat_port_max = FUZZ_PKT_PORT_MAX,
		};
		w[i] = worker_create(&conf);
		fuzz_pkt_require(w[i] != NULL, "worker_create");
		worker_stats_read(w[i], &before[i]);
	}
	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++)
		worker_set_peers(w[i], w, FUZZ_PKT_WORKERS);

	while (off + 3 <= size && records++ < FUZZ_PKT_MAX_RECORDS) {
		uint8_t ctl = data[off];
		uint16_t lenf = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
		uint32_t len = lenf & FUZZ_PKT_LEN_MASK, v = ctl >> 2;
		uint8_t iface = (uint8_t)((ctl & 1) % fz.cur->cfg.n_ifaces);
		unsigned wi = (ctl >> 1) & 1;
		struct rte_mbuf *m;
		uint64_t created;
		bool group;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		memcpy(fz.frame, data + off, len);
		off += len;
		if ((lenf & FUZZ_PKT_LEN_DUAL) && records > 1)
			for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++)
				fuzz_pkt_require(worker_post_flush_backends(w[i], fz.cur->udp_ids,
									    fz.cur->n_udp_ids) == 0,
						 "control can post a flush");
		if (lenf & FUZZ_PKT_LEN_CSUM)
			fuzz_pkt_write_csums(fz.frame, len);
		else
			fz.csum_promise = false;
		now += 1 + (uint64_t)v * v * 1000;
		m = fuzz_pkt_mbuf(fz.frame, len, (lenf & FUZZ_PKT_LEN_SPLIT) ? len / 2 : 0);
		fuzz_pkt_require(m != NULL, "an mbuf for the frame (the pool ran dry: a leak)");
		m->port = iface;
		rx[wi][iface]++;
		group = len > 0 && (fz.frame[0] & 1);
		created = fuzz_pkt_flows_created(w);
		worker_process_burst(w[wi], fz.cur->snap, iface, &m, 1, now);
		for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++)
			worker_poll_housekeeping(w[i], fz.cur->snap, now);
		fuzz_pkt_require(!group || fuzz_pkt_flows_created(w) == created,
				 "a frame sent to a group MAC address opens no flow");
		fuzz_pkt_check_state(w, avail, now);
	}
	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++) {
		worker_stats_read(w[i], &after);
		for (unsigned k = 0; k < EL_SNAP_MAX_IFACES; k++)
			fuzz_pkt_require(after.rx_pkts[k] - before[i].rx_pkts[k] == rx[i][k],
					 "each frame is counted once on its interface");
	}
	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++)
		worker_destroy(w[i]);
	fuzz_pkt_require(rte_mempool_avail_count(fz.pool) == avail,
			 "every mbuf returns to the pool");
	return 0;
}
