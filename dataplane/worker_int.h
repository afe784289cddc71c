/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the worker module, shared by its two packet paths:
 * worker.c (IPv4, burst-oriented fast path, housekeeping, messages) and
 * worker6.c (IPv6). Not a public interface: only the worker's own files
 * include it. Internal functions carry the prefix w_.
 */
#ifndef EDGELB_WORKER_INT_H
#define EDGELB_WORKER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "edgelb/worker.h"

#include "conntrack.h"
#include "neigh.h"
#include "snat_port.h"

#define W_CHUNK		   RTE_HASH_LOOKUP_BULK_MAX /* packets per bulk lookup */
#define W_PREFETCH	   3			    /* packets ahead */
#define W_TXB		   64			    /* TX buffer per interface */
#define W_SWEEP_PERIOD_MS  100			    /* a full pass of a small table */
#define W_SWEEP_SLOTS_MS   1024			    /* slots per ms: ~1 s per 1M flows */
#define W_SWEEP_CALL_MAX   1024			    /* most slots one housekeeping visits */
#define W_AFF_SWEEP_BUDGET 16
#define W_MSG_RING	   4096
#define W_HANDOFF_RING	   4096
#define W_MSG_IDS	   14
#define W_MSG_BURST	   32
#define W_HANDOFF_BURST	   64
#define W_FLUSH_MAX	   1024
#define W_SVC_SLOTS	   8192 /* per-service counters, power of two */
#define W_NEIGH_CAP	   4096
#define W_AFF_MAX	   65536
#define W_ROUTE_BITS	   12 /* 4096 cached routes, 8 bytes each */
#define W_ROUTE_CACHE	   (1u << W_ROUTE_BITS)
#define W_NH_ROUTES	   256 /* routes whose gateway's static MAC is remembered */
#define W_NH_SCAN_MAX	   256 /* longest static neighbour list scanned by the worker */
#define W_SRC_BITS	   12  /* 4096 per-source new-flow buckets */
#define W_SRC_MAX_RATE	   1000000u

#define W_MAX_TIMEOUT_MS 0x7fffffffu

enum w_msg_type {
	W_MSG_FLUSH = 1,
	W_MSG_NEIGH,
	W_MSG_AFF, /* a peer chose a backend for a client of an affinity service */
};

/* One message on a worker's ring (64 bytes). */
struct w_msg {
	uint32_t type;
	uint32_t n;
	union {
		uint32_t ids[W_MSG_IDS];
		struct {
			struct el_ip ip;
			uint8_t mac[6];
			uint8_t iface;
			uint8_t pad;
		} neigh;
		struct {
			uint32_t client;
			uint32_t svc_id;
			uint32_t backend_id;
			uint32_t timeout_ms;
		} aff;
	};
};

/* A packet handed to the worker owning its SNAT port. */
struct w_handoff {
	struct rte_mbuf *m;
	uint64_t iface;
};

struct w_txbuf {
	uint16_t n;
	struct rte_mbuf *m[W_TXB];
};

struct w_svcstat {
	uint32_t id;
	uint32_t used;
	uint64_t created;
	uint64_t active;
};

/* A direct-mapped cache of route lookups, valid for one snapshot: the
 * route's index + 1 (0: empty slot) and the index + 1 of the static
 * neighbour entry of the next hop, or 0 when the next hop is not static:
 * then the neighbour module resolves it for every packet. Eight bytes, so
 * thousands of destinations fit in 32 KB. Route indices fit 16 bits: a
 * snapshot has at most EL_CFG_MAX_ROUTES routes plus the connected ones. */
struct w_route_cache {
	uint32_t dst;
	uint16_t route; /* index + 1 */
	uint16_t neigh; /* index + 1 */
};

/* What the worker remembers of a gateway route: its static neighbour. */
#define W_NH_UNKNOWN 0
#define W_NH_NONE    1
#define W_NH_STATIC  2
struct w_nh {
	uint16_t state; /* W_NH_* */
	uint16_t neigh; /* index + 1 when W_NH_STATIC */
};

/* Token bucket of the sources hashed to it; tokens in thousandths of a
 * flow, so a rate of N flows per second refills N of them per millisecond. */
struct w_src_bucket {
	uint32_t last_ms;
	uint32_t tokens;
};

struct w_flush {
	uint32_t id;
	uint64_t until; /* conntrack_swept() value at which the pass is complete */
};

struct el_worker {
	struct el_worker_conf conf;
	struct el_worker_stats stats;

	struct conntrack *ct;
	struct neigh_table *neigh;
	struct neigh_tx ntx;
	struct rte_ring *msg;
	struct rte_ring *handoff;
	struct el_worker *peers[EL_MAX_WORKERS];
	unsigned n_peers;

	struct snat_port_part part;
	struct snat_port_cursor part_cur;
	struct snat_port_cursor rss_cur;
	struct snat_port_rss *rss[EL_SNAP_MAX_IFACES]; /* NULL: partition mode */

	/* what is derived from the snapshot in use, redone when it changes */
	const struct el_snapshot *cur_snap;
	uint64_t cur_gen;
	uint32_t timeout_ms[EL_CT_NSTATES];
	uint64_t snat_bloom; /* w_addr_bit() of every IPv4 SNAT address */
	struct w_route_cache rc[W_ROUTE_CACHE];
	struct w_nh nh[W_NH_ROUTES]; /* by route index, for routes with a gateway */

	/* context of the burst or housekeeping call in progress */
	const struct el_snapshot *snap;
	uint64_t now;
	uint32_t now32;
	bool in_handoff;
	uint32_t n_new;	    /* flows added since the bulk lookup: their keys */
	uint64_t new_bloom; /* w_key_bit() of their client keys */
	struct ct_key4 new_keys[W_CHUNK];
	struct ct_key4 new_rkeys[W_CHUNK];
	bool deleted; /* a flow was removed since the bulk lookup */

	uint64_t sweep_ms;   /* time up to which sweep slots were granted */
	uint64_t sweep_debt; /* granted slots not visited yet */

	uint32_t tx_dirty;
	struct w_txbuf tx[EL_SNAP_MAX_IFACES];

	uint32_t n_flush;
	uint64_t flush_mask; /* bit (id & 63) set for every pending id */
	struct w_flush flush[W_FLUSH_MAX];

	uint32_t src_rate; /* new flows per second per source; 0 = no limit */
	uint32_t src_cap;  /* bucket depth in thousandths of a flow */
	uint32_t src_seed;
	struct w_src_bucket src[1u << W_SRC_BITS];

	uint32_t n_svcstat;
	uint32_t *svc_ids;	    /* scratch: sorted snapshot ids (clean-up) */
	struct w_svcstat *svc_keep; /* scratch: surviving counters (clean-up) */
	struct w_svcstat svcstat[W_SVC_SLOTS];
};

/* Send the frames buffered for @p iface now. */
void w_tx_flush_one(struct el_worker *w, uint8_t iface);

/* Queue a complete frame for transmission on @p iface. */
static inline void
w_send(struct el_worker *w, uint8_t iface, struct rte_mbuf *m)
{
	if (unlikely(iface >= EL_SNAP_MAX_IFACES)) {
		rte_pktmbuf_free(m);
		w->stats.drops[EL_DROP_NO_ROUTE]++;
		return;
	}
	struct w_txbuf *b = &w->tx[iface];
	b->m[b->n++] = m;
	w->tx_dirty |= 1u << iface;
	if (unlikely(b->n == W_TXB))
		w_tx_flush_one(w, iface);
}

/* Free @p m and count it under @p reason. */
static inline void
w_drop(struct el_worker *w, struct rte_mbuf *m, enum el_drop reason)
{
	rte_pktmbuf_free(m);
	w->stats.drops[reason]++;
}

#endif
