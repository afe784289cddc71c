/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-worker neighbour cache and ARP (RFC 826): answer ARP for owned
 * addresses, learn neighbours, resolve next hops without blocking.
 *
 * Static neighbours come from the snapshot and win over learned ones.
 * Packets waiting for a next hop are held in a bounded queue per entry (and
 * a bound for the whole table); past the bound they are dropped and counted.
 * An ARP request is sent at most once per second per unresolved next hop;
 * after three unanswered requests the waiting packets are dropped
 * (EL_DROP_NEIGH_UNRESOLVED).
 *
 * Frames are handed out through struct neigh_tx so the worker keeps its own
 * TX buffering and counters.
 *
 * Thread safety: a table belongs to one worker; every function runs on that
 * worker's lcore (neigh_create/neigh_destroy: control, before start / after
 * stop).
 */
#ifndef EDGELB_NEIGH_H
#define EDGELB_NEIGH_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "edgelb/snapshot.h"
#include "edgelb/worker.h"

/** How the neighbour code emits and drops frames. */
struct neigh_tx {
	/** Queue a complete Ethernet frame for transmission on @p iface. */
	void (*send)(void *ctx, uint8_t iface, struct rte_mbuf *m);
	/** Free @p m and count it under @p reason. */
	void (*drop)(void *ctx, struct rte_mbuf *m, enum el_drop reason);
	void *ctx;
	struct rte_mempool *pool;      /**< for ARP requests */
	struct el_worker_stats *stats; /**< arp_replies / arp_requests counters */
};

struct neigh_table;

/** @return a table for @p capacity next hops, or NULL (rte_errno). */
struct neigh_table *neigh_create(unsigned capacity, int socket_id);

/** Free the table and every packet still waiting in it. */
void neigh_destroy(struct neigh_table *t);

/**
 * Send an IPv4/IPv6 packet to next hop @p nh on @p iface. The mbuf data
 * starts at a 14-byte Ethernet header whose content is overwritten (source:
 * the interface MAC, destination: the neighbour, type from @p nh's family).
 * Sends now when the MAC is known, else queues the packet and asks with ARP.
 */
void neigh_output(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
		  const struct el_ip *nh, struct rte_mbuf *m, uint64_t now_ms,
		  const struct neigh_tx *tx);

/** Record that @p ip is at @p mac on @p iface (ARP seen or a peer worker
 *  learned it); releases packets waiting for it. */
void neigh_learn(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
		 const struct el_ip *ip, const uint8_t mac[6], uint64_t now_ms,
		 const struct neigh_tx *tx);

/**
 * Handle an ARP frame received on @p iface (mbuf data at the Ethernet
 * header). Answers requests for owned addresses (reusing the mbuf), learns
 * the sender when the frame is for us, drops and counts malformed frames
 * (EL_DROP_ARP_INVALID) and frames not for us (EL_DROP_NOT_OURS).
 * Consumes @p m.
 * @param learned  set to 1 when a neighbour was learned (so the worker can
 *                 tell its peers); may be NULL
 */
void neigh_arp_input(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
		     struct rte_mbuf *m, uint64_t now_ms, const struct neigh_tx *tx,
		     struct el_ip *learned_ip, uint8_t learned_mac[6], int *learned);

/** Retry requests and drop packets of next hops that did not answer. Call
 *  every poll loop; does work at most once per millisecond. */
void neigh_housekeeping(struct neigh_table *t, const struct el_snapshot *snap, uint64_t now_ms,
			const struct neigh_tx *tx);

/** Number of packets waiting for resolution (for tests and stats). */
unsigned neigh_pending(const struct neigh_table *t);

#endif
