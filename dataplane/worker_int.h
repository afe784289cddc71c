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
#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include "edgelb/worker.h"

#include "conntrack.h"
#include "neigh.h"
#include "pkt6.h"
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
#define W_NEIGH_ETH_IFACE  12
#define W_RT4_MAX	   16 /* IPv4 routes scanned before the route cache */
#define W_RT6_MAX	   16 /* the same for IPv6 */

/* What a route of the worker's IPv6 copy leads to. */
enum { W_RT6_CONNECTED, W_RT6_GW, W_RT6_UNUSABLE /* an IPv4 gateway */ };
#define W_SRC_BITS     12 /* 4096 per-source new-flow buckets */
#define W_SRC_MAX_RATE 1000000u

#define W_MAX_TIMEOUT_MS 0x7fffffffu

enum w_msg_type {
	W_MSG_FLUSH = 1,
	W_MSG_NEIGH,
	W_MSG_AFF,  /* a peer chose a backend for a client of an affinity service */
	W_MSG_AFF6, /* the same for an IPv6 client */
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
		struct {
			uint8_t client[16];
			uint32_t svc_id;
			uint32_t backend_id;
			uint32_t timeout_ms;
		} aff6;
	};
};

/* A packet handed to the worker owning its SNAT port. */
struct w_handoff {
	struct rte_mbuf *m;
	uint64_t iface;
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

/* The same for IPv6 destinations: 24 bytes, 1024 of them in 24 KB. */
#define W_ROUTE6_BITS 10
struct w_route_cache6 {
	uint8_t dst[16];
	uint16_t route; /* index + 1 */
	uint16_t neigh; /* index + 1 */
	uint32_t pad;
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
	uint64_t until;	 /* conntrack_swept() value at which the pass is complete */
	uint64_t until6; /* the same for the IPv6 flows (conntrack_swept6()) */
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
	/* the snapshot's IPv4 routes, longest prefix first, when there are at
	 * most W_RT4_MAX: n_rt4 > W_RT4_MAX means the cache alone is used */
	uint32_t rt4_net[W_RT4_MAX];   /* host order, masked */
	uint32_t rt4_mask[W_RT4_MAX];  /* host order */
	uint16_t rt4_route[W_RT4_MAX]; /* index into the snapshot's routes */
	bool rt4_gw[W_RT4_MAX];	       /* the route has a gateway */
	uint16_t rt4_nb[W_RT4_MAX];    /* ... whose static neighbour (index + 1) or 0 */
	uint8_t rt4_iface[W_RT4_MAX];  /* the route's interface */
	unsigned n_rt4;
	/* the same for IPv6: address words as loaded from memory */
	uint64_t rt6_net[W_RT6_MAX][2];
	uint64_t rt6_mask[W_RT6_MAX][2];
	uint16_t rt6_route[W_RT6_MAX];
	uint8_t rt6_kind[W_RT6_MAX]; /* W_RT6_CONNECTED, W_RT6_GW, W_RT6_UNUSABLE */
	unsigned n_rt6;
	/* Ethernet destination and source of each static neighbour (by index
	 * in the snapshot's list): what a frame to it starts with; byte
	 * W_NEIGH_ETH_IFACE is the neighbour's interface */
	uint8_t neigh_eth[W_NH_SCAN_MAX][16];
	/* the routes, neighbours and interface MACs the flows' remembered
	 * egress (CT_F_EGRESS_SHIFT) was found with */
	uint8_t *net_seen;
	size_t net_seen_len;
	struct w_route_cache rc[W_ROUTE_CACHE];
	struct w_route_cache6 rc6[1u << W_ROUTE6_BITS];
	struct w_nh nh[W_NH_ROUTES]; /* by route index, for routes with a gateway */

	/* context of the burst or housekeeping call in progress */
	const struct el_snapshot *snap;
	uint64_t now;
	uint32_t now32;
	bool in_handoff;
	uint32_t n_new;	     /* flows added since the bulk lookup: their keys */
	uint64_t new_bloom;  /* w_key_bit() of their client keys */
	uint64_t new_rbloom; /* w_port_bit() of their reply keys' SNAT ports */
	struct ct_key4 new_keys[W_CHUNK];
	struct ct_key4 new_rkeys[W_CHUNK];
	bool deleted; /* a flow was removed since the bulk lookup */

	uint64_t sweep_ms;   /* time up to which sweep slots were granted */
	uint64_t sweep_debt; /* granted slots not visited yet */
	uint64_t sweep6_ms;  /* the same for the IPv6 flow array */
	uint64_t sweep6_debt;

	/* frames waiting for transmission per interface: the counts apart from
	 * the frames, so that a buffer's address is a shift, not a multiply */
	uint16_t tx_n[EL_SNAP_MAX_IFACES];
	struct rte_mbuf *tx_m[EL_SNAP_MAX_IFACES][W_TXB];

	uint32_t n_flush;
	uint64_t flush_mask; /* bit (id & 63) set for every pending id */
	struct w_flush flush[W_FLUSH_MAX];

	uint32_t src_rate; /* new flows per second per source; 0 = no limit */
	uint32_t src_cap;  /* bucket depth in thousandths of a flow */
	uint32_t src_seed;
	struct w_src_bucket src[1u << W_SRC_BITS];

	uint32_t err_rate;    /* generated errors per second; 0 = no limit */
	uint32_t err_cap;     /* bucket depth in thousandths of an error */
	uint32_t err_tokens;  /* thousandths of an error */
	uint32_t err_last_ms; /* now32 of the last refill */

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
	uint16_t n = w->tx_n[iface];
	w->tx_m[iface][n++] = m;
	w->tx_n[iface] = n;
	if (unlikely(n == W_TXB))
		w_tx_flush_one(w, iface);
}

/* Fill the Ethernet header of a packet of EtherType @p type for static
 * neighbour @p nb (index + 1, not 0; what the neighbour module does for a
 * static entry) and queue it on @p iface, the neighbour's interface. */
static inline void
w_output_neigh(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, uint16_t nb, uint16_t type)
{
	uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(eth, w->neigh_eth[nb - 1], 12);
	bytes_wr16(eth + 12, rte_cpu_to_be_16(type));
	w_send(w, iface, m);
}

/* The egress a flow remembers in its @p flags (CT_F_EGRESS_SHIFT): the row
 * of its backend's static neighbour + 1, or 0 when not known. */
static inline unsigned
w_flow_egress(uint8_t flags)
{
	return flags >> CT_F_EGRESS_SHIFT;
}

/* The interface of remembered egress @p eg (not 0). */
static inline uint8_t
w_egress_iface(const struct el_worker *w, unsigned eg)
{
	return w->neigh_eth[eg - 1][W_NEIGH_ETH_IFACE];
}

/* Send @p m (EtherType @p type) by the egress its flow's @p flags remember;
 * false, and nothing done, when they remember none. */
static inline bool
w_egress_out(struct el_worker *w, struct rte_mbuf *m, uint8_t flags, uint16_t type)
{
	unsigned eg = w_flow_egress(flags);
	if (unlikely(eg == 0))
		return false;
	w_output_neigh(w, m, w_egress_iface(w, eg), (uint16_t)eg, type);
	return true;
}

/* Remember in a flow's @p flags that its backend is reached through static
 * neighbour @p nb (index + 1, or 0: nothing to remember). Only while the
 * worker holds the network the row belongs to (w->net_seen), and only for
 * rows the 7 bits can hold. */
static inline void
w_egress_remember(const struct el_worker *w, uint8_t *flags, uint16_t nb)
{
	if (nb != 0 && nb <= CT_F_EGRESS_MAX && w->net_seen != NULL)
		*flags = (uint8_t)((*flags & CT_F_USED) | nb << CT_F_EGRESS_SHIFT);
}

/* Free @p m and count it under @p reason. */
static inline void
w_drop(struct el_worker *w, struct rte_mbuf *m, enum el_drop reason)
{
	rte_pktmbuf_free(m);
	w->stats.drops[reason]++;
}

/* True when UDP flows of backend @p id are being flushed. */
static inline bool
w_flush_has(const struct el_worker *w, uint32_t id)
{
	if (likely(!((w->flush_mask >> (id & 63)) & 1)))
		return false;
	for (uint32_t i = 0; i < w->n_flush; i++)
		if (w->flush[i].id == id)
			return true;
	return false;
}

/* Take one new-flow token from the bucket of source key @p key (an IPv4
 * address, or a fold of an IPv6 prefix); false when it is empty. A bucket
 * idle for 2^32 ms (49 days) may see less refill than it earned. */
static inline bool
w_src_take(struct el_worker *w, uint32_t key)
{
	struct w_src_bucket *b = &w->src[((key ^ w->src_seed) * 0x9e3779b1u) >> (32 - W_SRC_BITS)];
	uint64_t t = b->tokens + (uint64_t)(w->now32 - b->last_ms) * w->src_rate;

	if (t > w->src_cap)
		t = w->src_cap;
	b->last_ms = w->now32;
	if (t < 1000) {
		b->tokens = (uint32_t)t;
		return false;
	}
	b->tokens = (uint32_t)(t - 1000);
	return true;
}

/* Take a token of the worker's bucket for an ICMP error or TCP reset it is
 * about to originate (RFC 4443 section 2.4 (f), RFC 1812 section 4.3.2.8);
 * one bucket for every kind and both families, tokens in thousandths as in
 * w_src_take(). False, counted as EL_DROP_ICMP_RATE_LIMITED, when it is
 * empty: the caller then does not send the error. */
static inline bool
w_err_take(struct el_worker *w)
{
	if (w->err_rate == 0)
		return true;
	uint64_t t = w->err_tokens + (uint64_t)(w->now32 - w->err_last_ms) * w->err_rate;

	if (t > w->err_cap)
		t = w->err_cap;
	w->err_last_ms = w->now32;
	if (t < 1000) {
		w->err_tokens = (uint32_t)t;
		w->stats.drops[EL_DROP_ICMP_RATE_LIMITED]++;
		return false;
	}
	w->err_tokens = (uint32_t)(t - 1000);
	return true;
}

/* Worker owning SNAT port @p lport (network order) for a packet received on
 * @p iface, when it is not this one and the port steers by partition. */
static inline bool
w_handoff_owner(const struct el_worker *w, uint8_t iface, uint16_t lport, unsigned *owner)
{
	if (w->in_handoff || w->conf.n_workers <= 1 || iface >= EL_SNAP_MAX_IFACES ||
	    w->rss[iface] != NULL)
		return false;
	unsigned o = snat_port_part_owner(&w->part, rte_be_to_cpu_16(lport));
	if (o >= w->part.n || o == w->conf.index || o >= w->n_peers || w->peers[o] == NULL)
		return false;
	*owner = o;
	return true;
}

/*
 * Flow-array slots to visit now, for a table of @p cap slots: every
 * millisecond that passes grants cap / period slots, where the period of a
 * full pass is W_SWEEP_PERIOD_MS, or one second per W_SWEEP_SLOTS_MS * 1000
 * flows for larger tables. A poll loop that spins faster does not sweep
 * more, and a busy one does not sweep less. Granted slots are visited at
 * most W_SWEEP_CALL_MAX per call; what is left waits for the next call
 * (never more than one full pass). @p ms and @p debt keep the state of one
 * table between calls.
 */
static inline uint64_t
w_sweep_slots(uint64_t now, uint64_t cap, uint64_t *ms, uint64_t *debt)
{
	if (unlikely(now < *ms)) {
		*ms = now; /* clock went back: start granting from here */
	} else if (now > *ms) {
		uint64_t period = cap / W_SWEEP_SLOTS_MS;
		if (period < W_SWEEP_PERIOD_MS)
			period = W_SWEEP_PERIOD_MS;
		uint64_t el = now - *ms;
		uint64_t grant = el >= period ? cap : (el * cap + period - 1) / period;
		*debt += grant;
		if (*debt > cap)
			*debt = cap;
		*ms = now;
	}
	uint64_t n = *debt < W_SWEEP_CALL_MAX ? *debt : W_SWEEP_CALL_MAX;
	*debt -= n;
	return n;
}

/* ---- worker.c, used by both families ---- */

/* Queue @p m on worker @p owner's hand-off ring (or drop it, counted). */
void w_handoff(struct el_worker *w, unsigned owner, uint8_t iface, struct rte_mbuf *m);

/* Tell every peer that @p ip is at @p mac on @p iface. */
void w_broadcast_neigh(struct el_worker *w, uint8_t iface, const struct el_ip *ip,
		       const uint8_t mac[6]);

/* The backend of @p svc with stable id @p id, or NULL. */
const struct el_snap_backend *w_find_backend(const struct el_snap_svc *svc, uint32_t id);

/* Per-service counters of @p id: found (NULL when absent), or created. */
struct w_svcstat *w_svcstat_find(const struct el_worker *w, uint32_t id);

/* A flow of either family is gone: the active counts drop. */
void w_flow_counters_gone(struct el_worker *w, const struct ct_meta *meta);
struct w_svcstat *w_svcstat_get(struct el_worker *w, uint32_t id);

/* Static neighbour entry (index + 1, or 0) of next hop @p nh on @p iface,
 * as the neighbour module would pick it. */
uint16_t w_static_neigh(const struct el_snapshot *s, uint8_t iface, const struct el_ip *nh);

/* Static neighbour (index + 1, or 0) of the gateway of route @p ri of the
 * snapshot in use, remembered per route. */
uint16_t w_via_neigh(struct el_worker *w, size_t ri);

/* ---- worker6.c: the IPv6 path ---- */

/* Handle one received frame whose EtherType is IPv6 (consumes @p m). */
void w6_input(struct el_worker *w, struct rte_mbuf *m, uint8_t iface);

/* w6_input() in two steps, so a chunk's IPv6 flow lookups go in one batch:
 * w6_parse() parses @p m, handles (consumes) everything but TCP and UDP and
 * returns false for it; for TCP and UDP it fills @p p, the key @p k and its
 * hash @p sig and returns true, leaving
 * @p m to w6_batch(), which looks the @p n keys up together and forwards
 * (at most W_CHUNK). */
bool w6_parse(struct el_worker *w, struct rte_mbuf *m, uint8_t iface, struct pkt_ip6 *p,
	      struct ct_key6 *k, uint32_t *sig);
void w6_batch(struct el_worker *w, uint8_t iface, struct rte_mbuf **m, const struct pkt_ip6 *p,
	      const struct ct_key6 *k, const uint32_t *sig, unsigned n);

/* Give the worker's connection table its IPv6 half (worker_create). */
int w6_create(struct el_worker *w);

/* IPv6 share of worker_poll_housekeeping(): flow and affinity expiry. */
void w6_housekeeping(struct el_worker *w);

/* Remove now, by a full pass, the IPv6 UDP flows of backend @p id. */
void w6_flush_now(struct el_worker *w, uint32_t id);

/* Affinity chosen by a peer for an IPv6 client (message W_MSG_AFF6). */
void w6_aff_update(struct el_worker *w, const struct w_msg *msg);

/* Copy up to @p max live IPv6 flows into @p out; returns the count. */
unsigned w6_conns(const struct el_worker *w, struct el_conn_info *out, unsigned max,
		  uint64_t now_ms);

#endif
