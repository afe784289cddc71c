/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the worker's packet path (worker_process_burst) fed
 * arbitrary frames on either interface, with the snapshot of the packet
 * fixtures (tests/packet/edgelb.yaml and tests/packet/manifests: NodePort,
 * ClusterIP, externalIP, LoadBalancer with source ranges, ClientIP
 * affinity, UDP, a service without endpoints, a backend left to ARP).
 *
 * EAL starts once, with --no-huge. Each input gets two fresh workers in
 * partition mode (so replies may be handed off between them) and is a
 * sequence of records:
 *
 *   byte 0     bit 0: interface (0 ext, 1 int); bit 1: worker (0 or 1);
 *              bits 2-7: v, the clock advances by v*v seconds (+1 ms)
 *              before the record, so flows and affinity entries expire
 *   bytes 1-2  frame length, big endian; bit 15 set: the frame arrives as
 *              a chain of two segments split at its middle (frames longer
 *              than one mbuf are always chained)
 *   ...        the frame (shorter when the input ends first)
 *
 * After each record both workers run their housekeeping. Promises checked:
 * - every frame sent carries a whole Ethernet header, and when it is IPv4
 *   a consistent header (version, IHL, total length within the frame) with
 *   a correct header checksum;
 * - every mbuf comes back to the pool once the workers are destroyed (no
 *   leak, no double free);
 * - received packets are counted on the interface they came in on.
 * A broken promise is reported with abort().
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
#include "edgelb/csum.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"

#ifndef EL_SRCDIR
#define EL_SRCDIR "."
#endif

#define FUZZ_PKT_WORKERS     2
#define FUZZ_PKT_MAX_RECORDS 64
#define FUZZ_PKT_MAX_FRAME   9216
#define FUZZ_PKT_POOL	     2047

static const uint8_t fuzz_pkt_mac[2][6] = {
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, /* ext, as in the fixtures */
    {0x02, 0x00, 0x00, 0x00, 0x02, 0x01}, /* int */
};

static struct {
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct el_snapshot *snap;
	struct rte_mempool *pool;
	unsigned n_ifaces;
	uint64_t sent;
} fz;

static void
fuzz_pkt_require(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_packet: broken promise: %s\n", what);
		abort();
	}
}

static void
fuzz_pkt_check_frame(struct rte_mbuf *m)
{
	uint8_t buf[FUZZ_PKT_MAX_FRAME + 64];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *b;

	fuzz_pkt_require(len >= 14, "a frame sent has a whole Ethernet header");
	fuzz_pkt_require(len <= sizeof(buf), "a frame sent is not larger than any received");
	b = rte_pktmbuf_read(m, 0, len, buf);
	fuzz_pkt_require(b != NULL, "a frame sent can be read");
	if (b[12] != 0x08 || b[13] != 0x00)
		return;
	fuzz_pkt_require(len >= 34, "an IPv4 frame sent holds an IPv4 header");
	unsigned ihl = (b[14] & 0xfu) * 4u, tot = (unsigned)b[16] << 8 | b[17];
	fuzz_pkt_require((b[14] >> 4) == 4 && ihl >= 20 && 14 + ihl <= len && tot >= ihl &&
			     14 + tot <= len,
			 "an IPv4 frame sent has a consistent header");
	fuzz_pkt_require(csum_fold32(csum_partial(b + 14, ihl, 0)) == 0xffff,
			 "an IPv4 frame sent has a correct header checksum");
}

static uint16_t
fuzz_pkt_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ctx;
	fuzz_pkt_require(iface < fz.n_ifaces, "frames leave through a configured interface");
	for (uint16_t i = 0; i < n; i++) {
		fuzz_pkt_check_frame(pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	fz.sent += n;
	return n;
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
	int rc;

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "fuzz_packet: EAL: %s\n", rte_strerror(rte_errno));
		abort();
	}
	rte_log_set_global_level(RTE_LOG_ERR);
	rc = config_load(EL_SRCDIR "/tests/packet/edgelb.yaml", &fz.cfg, err, sizeof(err));
	if (rc == 0) {
		el_model_init(&fz.model);
		rc = manifest_load_path(&fz.model, EL_SRCDIR "/tests/packet/manifests", err,
					sizeof(err));
	}
	if (rc == 0) {
		fz.cs = compile_state_new(&fz.cfg);
		rc = fz.cs == NULL ? -ENOMEM : 0;
	}
	if (rc == 0) {
		for (unsigned i = 0; i < fz.cfg.n_ifaces && i < 2; i++)
			compile_set_iface(fz.cs, i, (uint16_t)i, fuzz_pkt_mac[i]);
		rc = compile_snapshot(fz.cs, &fz.model, &fz.snap, err, sizeof(err));
	}
	if (rc != 0) {
		fprintf(stderr, "fuzz_packet: setup: %s\n", err);
		abort();
	}
	fz.n_ifaces = fz.cfg.n_ifaces;
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

	for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++) {
		struct el_worker_conf conf = {
		    .index = i,
		    .n_workers = FUZZ_PKT_WORKERS,
		    .max_flows = 1024,
		    .socket_id = SOCKET_ID_ANY,
		    .pool = fz.pool,
		    .tx = fuzz_pkt_tx,
		    .snat_port_min = 1024,
		    .snat_port_max = 65535,
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
		uint32_t len = lenf & 0x7fffu, v = ctl >> 2;
		uint8_t iface = (uint8_t)((ctl & 1) % fz.n_ifaces);
		unsigned wi = (ctl >> 1) & 1;
		struct rte_mbuf *m;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		if (len > FUZZ_PKT_MAX_FRAME)
			len = FUZZ_PKT_MAX_FRAME;
		now += 1 + (uint64_t)v * v * 1000;
		m = fuzz_pkt_mbuf(data + off, len, (lenf & 0x8000u) ? len / 2 : 0);
		off += len;
		fuzz_pkt_require(m != NULL, "an mbuf for the frame (the pool ran dry: a leak)");
		m->port = iface;
		rx[wi][iface]++;
		worker_process_burst(w[wi], fz.snap, iface, &m, 1, now);
		for (unsigned i = 0; i < FUZZ_PKT_WORKERS; i++)
			worker_poll_housekeeping(w[i], fz.snap, now);
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
