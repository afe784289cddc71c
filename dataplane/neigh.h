/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-worker neighbour cache, ARP (RFC 826) and IPv6 Neighbor Discovery
 * (RFC 4861, NS/NA): answer ARP and Neighbor Solicitations for owned
 * addresses, learn neighbours, resolve next hops of both families without
 * blocking.
 *
 * Static neighbours come from the snapshot and win over learned ones.
 * Packets waiting for a next hop are held in a bounded queue per entry (and
 * a bound for the whole table); past the bound they are dropped and counted.
 * A request (ARP, or a Neighbor Solicitation to the solicited-node group
 * ff02::1:ffXX:XXXX) is sent at most once per second per unresolved next
 * hop; after three unanswered requests the waiting packets are dropped
 * (EL_DROP_NEIGH_UNRESOLVED). Both families share the queue bounds.
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
	struct rte_mempool *pool;      /**< for ARP requests and Neighbor Solicitations */
	struct el_worker_stats *stats; /**< arp_replies / arp_requests counters (ARP and ND) */
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
 * Sends now when the MAC is known, else queues the packet and asks: ARP
 * for IPv4; for IPv6 a Neighbor Solicitation (RFC 4861 section 4.3) to the
 * target's solicited-node group (MAC 33:33:ff:XX:XX:XX), hop limit 255,
 * from an interface IPv6 address (one in the target's prefix if any; none
 * on the interface: nothing is sent and the packets wait until they time
 * out), with a Source Link-Layer Address option.
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

/**
 * Handle an ICMPv6 Neighbor Solicitation (135) or Advertisement (136)
 * received on @p iface (RFC 4861). The worker calls it after validating the
 * IPv6 header and walking any extension headers; mbuf data at the Ethernet
 * header. Checks RFC 4861 7.1.1 / 7.1.2 (hop limit 255, code 0, ICMPv6
 * checksum, ICMPv6 length >= 24, target not multicast, every option of
 * non-zero length and inside the packet, no source link-layer option on a
 * DAD probe, DAD probe sent to a solicited-node group, Solicited clear on
 * an NA to a multicast group) and drops failures as EL_DROP_BAD_ND.
 *
 * - NS for an address the snapshot owns on this node (any kind): answered
 *   with an NA reusing the mbuf (Router clear, Override set, Solicited set
 *   and sent to the NS source; a DAD probe, source ::, is answered to
 *   ff02::1 / 33:33:00:00:00:01 with Solicited clear), with a Target
 *   Link-Layer Address option; counted in stats->arp_replies (NS sent:
 *   stats->arp_requests).
 * - NS from a unicast source with a Source Link-Layer Address option:
 *   creates or updates the source's entry (as ARP does). A DAD probe never
 *   touches the cache.
 * - NA with a Target Link-Layer Address option: updates an existing entry
 *   of the target and releases its waiting packets; never creates one.
 * - NS for an address not ours: EL_DROP_NOT_OURS (after learning). NA:
 *   consumed (freed without a drop count).
 * Consumes @p m.
 * @param l3_off    offset of the IPv6 header in the frame
 * @param icmp_off  offset of the ICMPv6 header (past extension headers)
 * @param learned   set to 1 when a neighbour was learned (@p learned_ip /
 *                  @p learned_mac hold it) so the worker can tell its peers;
 *                  may be NULL
 */
void neigh_nd_input(struct neigh_table *t, const struct el_snapshot *snap, uint8_t iface,
		    struct rte_mbuf *m, uint32_t l3_off, uint32_t icmp_off, uint64_t now_ms,
		    const struct neigh_tx *tx, struct el_ip *learned_ip, uint8_t learned_mac[6],
		    int *learned);

/** Retry requests and drop packets of next hops that did not answer. Call
 *  every poll loop; does work at most once per millisecond. */
void neigh_housekeeping(struct neigh_table *t, const struct el_snapshot *snap, uint64_t now_ms,
			const struct neigh_tx *tx);

/** Number of packets waiting for resolution (for tests and stats). */
unsigned neigh_pending(const struct neigh_table *t);

#endif
