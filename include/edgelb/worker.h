/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The worker: one per RX queue. It owns its connection table, affinity
 * table, neighbour cache and counters; nobody else writes them. Control talks
 * to it through its message ring only.
 *
 * worker_process_burst() is the whole packet path of DESIGN.md section 2 for
 * one burst; the appliance's poll loop, the packet fixtures and the
 * benchmarks all call it the same way. Output packets leave through the
 * tx callback of the worker's configuration, so tests capture them.
 *
 * Thread safety: every function taking a struct el_worker * runs on that
 * worker's lcore only, except worker_create/worker_destroy (control, before
 * start / after stop), worker_post() (any thread) and worker_stats_read()
 * (any thread; values may be a few bursts old).
 */
#ifndef EDGELB_WORKER_H
#define EDGELB_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "edgelb/snapshot.h"

#define EL_MAX_WORKERS 16

/** Drop reasons: X(ENUM, "prometheus label"). */
#define EL_DROP_REASONS(X)                                                                         \
	X(NOT_IP, "not_ip")                                                                        \
	X(TRUNCATED, "truncated")                                                                  \
	X(BAD_IHL, "bad_ihl")                                                                      \
	X(BAD_LENGTH, "bad_length")                                                                \
	X(BAD_VERSION, "bad_version")                                                              \
	X(BAD_CSUM, "bad_checksum")                                                                \
	X(FRAGMENT, "fragment")                                                                    \
	X(IP_OPTIONS, "ip_options")                                                                \
	X(TTL_EXCEEDED, "ttl_exceeded")                                                            \
	X(BAD_L4, "bad_l4_header")                                                                 \
	X(BAD_TCP_FLAGS, "bad_tcp_flags")                                                          \
	X(NO_SERVICE, "no_service")                                                                \
	X(NOT_OURS, "not_ours")                                                                    \
	X(SRC_RANGE, "source_range")                                                               \
	X(NO_ENDPOINT, "no_endpoint")                                                              \
	X(FLOW_TABLE_FULL, "flow_table_full")                                                      \
	X(NO_SNAT_PORT, "no_snat_port")                                                            \
	X(UNKNOWN_REPLY, "unknown_reply")                                                          \
	X(NO_FLOW, "no_flow")                                                                      \
	X(NO_ROUTE, "no_route")                                                                    \
	X(NEIGH_PENDING_FULL, "neighbor_queue_full")                                               \
	X(NEIGH_UNRESOLVED, "neighbor_unresolved")                                                 \
	X(ARP_INVALID, "arp_invalid")                                                              \
	X(ICMP_UNTRACKED, "icmp_untracked")                                                        \
	X(ICMP_UNSUPPORTED, "icmp_unsupported")                                                    \
	X(UNSUPPORTED_PROTO, "unsupported_protocol")                                               \
	X(HANDOFF_FULL, "handoff_ring_full")                                                       \
	X(TX_FULL, "tx_full")                                                                      \
	X(NO_MBUF, "no_mbuf")                                                                      \
	X(IPV6_UNSUPPORTED, "ipv6_unsupported")                                                    \
	X(SOURCE_RATE_LIMITED, "source_rate_limited")                                              \
	X(BAD_ND, "bad_nd")                                                                        \
	X(BAD_EXT_HDR, "bad_ext_header")                                                           \
	X(MARTIAN, "martian")                                                                      \
	X(NO_SNAT_ADDR, "no_snat_address")                                                         \
	X(WRONG_IFACE, "wrong_interface")                                                          \
	X(BAD_PORT, "bad_port")                                                                    \
	X(NOT_OUR_MAC, "not_our_mac")                                                              \
	X(OVERSIZE, "oversize")                                                                    \
	X(ICMP_RATE_LIMITED, "icmp_rate_limited")

enum el_drop {
#define EL_DROP_ENUM(e, s) EL_DROP_##e,
	EL_DROP_REASONS(EL_DROP_ENUM)
#undef EL_DROP_ENUM
	    EL_DROP_MAX
};

/** Prometheus label of a drop reason. */
const char *worker_drop_name(enum el_drop d);

/** Transmit callback: send @p n packets on interface @p iface (index in the
 *  snapshot's ifaces[]). Returns how many were taken; the worker frees the
 *  rest and counts them as EL_DROP_TX_FULL. */
typedef uint16_t (*worker_tx_fn)(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n);

/** What the appliance knows about a port's RSS, for SNAT port steering. */
struct el_worker_rss {
	int enabled;	 /**< 0: the port has one queue or no predictable RSS */
	uint8_t key[52]; /**< Toeplitz key programmed on the port */
	unsigned key_len;
	uint16_t reta[512]; /**< RETA: hash -> queue */
	unsigned reta_size; /**< power of two */
};

struct el_worker_conf {
	unsigned index; /**< 0..n_workers-1; also the RX/TX queue id */
	unsigned n_workers;
	uint32_t max_flows;	  /**< connection table capacity */
	uint32_t max_flows6;	  /**< IPv6 connection table capacity; 0 = max_flows */
	int socket_id;		  /**< NUMA socket for the tables (SOCKET_ID_ANY ok) */
	struct rte_mempool *pool; /**< for packets the worker originates (ARP requests) */
	worker_tx_fn tx;	  /**< required */
	void *tx_ctx;
	struct el_worker_rss rss[EL_SNAP_MAX_IFACES]; /**< per interface */
	uint16_t snat_port_min;			      /**< SNAT source ports; default 1024..65535 */
	uint16_t snat_port_max;
	/** New flows per second one client source address may open on this
	 *  worker (a token bucket per source; sources share a fixed number of
	 *  buckets by a seeded hash, so colliding sources share a limit);
	 *  0 = unlimited. Excess SYNs / first datagrams are dropped and counted
	 *  as EL_DROP_SOURCE_RATE_LIMITED; packets of existing flows are never
	 *  limited. At most 1000000. */
	uint32_t new_flows_per_source;
	/** Bucket depth: new flows a source may open at once after a quiet
	 *  time; 0 = new_flows_per_source (one second's worth). At most
	 *  1000000. */
	uint32_t new_flows_burst;
	/** ICMP errors and TCP resets the worker may originate per second, all
	 *  kinds and both families together (one token bucket per worker,
	 *  RFC 4443 section 2.4 (f), RFC 1812 section 4.3.2.8); 0 = unlimited.
	 *  An error the bucket has no token for is not sent and is counted as
	 *  EL_DROP_ICMP_RATE_LIMITED, besides the drop of the packet that caused
	 *  it. At most 1000000. */
	uint32_t icmp_errors_per_second;
	/** Bucket depth: errors that may go out at once after a quiet time;
	 *  0 = icmp_errors_per_second. At most 1000000. */
	uint32_t icmp_errors_burst;
};

struct el_worker;

/** Per-worker counters; control sums them over workers. */
struct el_worker_stats {
	uint64_t rx_pkts[EL_SNAP_MAX_IFACES];
	uint64_t tx_pkts[EL_SNAP_MAX_IFACES];
	uint64_t rx_bytes[EL_SNAP_MAX_IFACES];
	uint64_t tx_bytes[EL_SNAP_MAX_IFACES];
	uint64_t drops[EL_DROP_MAX];
	uint64_t flows_created;
	uint64_t flows_active;
	uint64_t flows_expired;
	uint64_t arp_replies;  /**< ARP replies and ND Neighbor Advertisements sent */
	uint64_t arp_requests; /**< ARP requests and ND Neighbor Solicitations sent */
	uint64_t icmp_echo_replies;
	uint64_t icmp_errors_translated;
	uint64_t rejects_sent; /**< TCP RST / ICMP port unreachable for no endpoint */
	uint64_t handoffs;
};

/**
 * Create a worker. Allocates the connection table (rte_hash) and rings, so
 * EAL must be initialised (--no-huge is fine).
 * @return the worker, or NULL with rte_errno set (ENOMEM, EINVAL)
 */
struct el_worker *worker_create(const struct el_worker_conf *conf);

/** Free a worker and every mbuf it still holds. Control thread, after the
 *  worker stopped. */
void worker_destroy(struct el_worker *w);

/**
 * Process a burst received on interface @p iface. Consumes every mbuf: each
 * is transmitted through conf.tx, queued (neighbour resolution, hand-off),
 * or freed and counted as a drop. TX buffers are flushed before returning.
 *
 * What leaves (IPv4; the Ethernet header is always rewritten by the
 * neighbour code, bytes after the IPv4 total length are trimmed):
 * - to a frontend, flow hit or new flow: src = SNAT address (one of the
 *   IPv4 ones, picked by worker_flow_hash4() multiply-shift), sport = SNAT
 *   port, dst = backend, dport = backend port, TTL - 1, IPv4 and TCP/UDP
 *   checksums updated incrementally (UDP 0 stays 0). Everything else (ID,
 *   TOS, DF, options, payload) unchanged. Out of the interface of
 *   snapshot_route_lookup(backend).
 * - replies (to a SNAT address, matching a flow): src = frontend:port,
 *   dst = client:cport, TTL - 1, checksums as above.
 * - ICMP echo request to an owned address: echo reply, addresses swapped,
 *   type 0, ICMP checksum updated; TTL and the rest unchanged.
 * - new flow to a service without endpoints: TCP SYN -> RST|ACK, UDP ->
 *   ICMP port unreachable, from the frontend; exact bytes in
 *   dataplane/icmp.h. Counted in rejects_sent, not as a drop.
 * - a TCP/UDP packet to forward (either direction, flow hit or new flow)
 *   with TTL 0 or 1: dropped (EL_DROP_TTL_EXCEEDED) and answered with ICMP
 *   time exceeded (type 11 code 0) from the address it was sent to (the
 *   frontend, or the SNAT address for a reply) quoting its IP header and 8
 *   bytes as received; none to a martian source. Rejects and time exceeded
 *   share the worker's error bucket (icmp_errors_per_second); one it has
 *   no token for is not sent (EL_DROP_ICMP_RATE_LIMITED, the packet itself
 *   still counted under its own reason: EL_DROP_NO_ENDPOINT for a reject).
 * - ICMP errors (types 3, 11) quoting a tracked flow: translated to the
 *   other side (outer and quoted headers), TTL - 1.
 * Refused and counted before any of that (IPv4): a frame not addressed to
 * the interface's MAC (broadcast/multicast MACs only for ARP and IPv6
 * neighbour discovery: EL_DROP_NOT_OUR_MAC); a reply (or an ICMP error about the pod side) that
 * comes in on another interface than its backend's route
 * (EL_DROP_WRONG_IFACE); a would-be new flow from a martian source (0/8,
 * 127/8, 169.254/16, 224/4, 240/4, an owned address, an interface prefix's broadcast:
 * EL_DROP_MARTIAN) or with port 0 (EL_DROP_BAD_PORT); a chain of mbufs one
 * buffer cannot hold (EL_DROP_OVERSIZE).
 * IPv6 (dataplane/worker6.c; validation rules and drop reasons in
 * dataplane/pkt6.h), the same with these differences: the SNAT address is
 * one of the IPv6 ones (none: EL_DROP_NO_SNAT_ADDR), picked by
 * worker_flow_hash6(); the hop limit is decremented and only the TCP/UDP
 * checksum is updated; extension headers are forwarded unchanged (bytes
 * after the payload length are trimmed); Neighbor Solicitations for owned
 * addresses are answered (counted in arp_replies, see dataplane/neigh.h);
 * ICMPv6 echo (128) is answered with 129 and hop limit 64, without the
 * request's extension headers; a reject is a TCP RST or an ICMPv6 port
 * unreachable (type 1 code 4) quoting up to 1232 bytes, exact bytes in
 * dataplane/icmp6.h; hop limit 0 or 1 gets an ICMPv6 time exceeded (type 3
 * code 0) quoting up to 1232 bytes the same way; ICMPv6 errors (types 1-4)
 * quoting a tracked flow are translated, a Packet Too Big keeping its MTU.
 * Sources of one /64 share a new-flow bucket.
 * Partition mode (more than one worker, no RSS on the receiving interface):
 * a packet to a SNAT address whose port (or an ICMP error quoting one)
 * belongs to another worker's slice goes to that worker's hand-off ring
 * and is processed in its housekeeping.
 *
 * @param snap    the snapshot read at the start of this loop iteration
 * @param now_ms  monotonic milliseconds (timeouts, affinity)
 */
void worker_process_burst(struct el_worker *w, const struct el_snapshot *snap, uint8_t iface,
			  struct rte_mbuf **pkts, uint16_t n, uint64_t now_ms);

/**
 * Housekeeping for one poll-loop iteration: drain the message ring (UDP
 * flushes, neighbour updates, hand-offs from peers), expire a bounded slice
 * of the connection table, retry ARP for pending next hops, flush TX.
 * Call once per loop, also when no packets arrived.
 */
void worker_poll_housekeeping(struct el_worker *w, const struct el_snapshot *snap, uint64_t now_ms);

/** Connect workers so they can hand off packets and share neighbours and
 *  affinity entries: @p peers[i] is worker i. Control, before start. */
void worker_set_peers(struct el_worker *w, struct el_worker *const *peers, unsigned n);

/** Control -> worker: flush UDP flows whose backend id is in @p ids (the
 *  backend stopped serving). Any thread. Returns 0 or -ENOBUFS. */
int worker_post_flush_backends(struct el_worker *w, const uint32_t *ids, unsigned n);

/** Copy the worker's counters. Any thread. */
void worker_stats_read(const struct el_worker *w, struct el_worker_stats *out);

/** Flows created / active for a service port id (for per-service metrics). */
void worker_svc_stats(const struct el_worker *w, uint32_t svc_id, uint64_t *created,
		      uint64_t *active);

/** Seed of worker_flow_hash4(); fixed so every edgelb host picks the same
 *  backend for a flow. */
#define EL_FLOW_HASH_SEED 0x6564676cu

/**
 * The flow hash Maglev uses to pick a backend: CRC32-C (rte_hash_crc) with
 * seed EL_FLOW_HASH_SEED over 16 bytes laid out as client address (4),
 * frontend address (4), client port (2), frontend port (2), protocol (1),
 * three zero bytes; addresses and ports in network order, as in the packet.
 * The backend is svc->backends[maglev_lookup(svc->maglev, svc->maglev_size,
 * hash)]. Any thread.
 */
uint32_t worker_flow_hash4(uint32_t client, uint16_t cport, uint32_t frontend, uint16_t fport,
			   uint8_t proto);

/**
 * worker_flow_hash4() for IPv6: CRC32-C (rte_hash_crc) with seed
 * EL_FLOW_HASH_SEED over 40 bytes laid out as client address (16), frontend
 * address (16), client port (2), frontend port (2), protocol (1), three zero
 * bytes; addresses and ports in network order, as in the packet. Maglev
 * picks the backend of an IPv6 flow from it the same way. Any thread.
 */
uint32_t worker_flow_hash6(const uint8_t client[16], uint16_t cport, const uint8_t frontend[16],
			   uint16_t fport, uint8_t proto);

/** Memory of the connection table per flow of capacity (hash buckets, keys
 *  of both directions, free-slot ring, flow entry), measured at creation. */
size_t worker_bytes_per_flow(const struct el_worker *w);

/** Packets waiting for a next hop to resolve. Worker lcore, or tests. */
unsigned worker_neigh_pending(const struct el_worker *w);

/** One live flow as reported by /api/v1/conns and `make demo`. */
struct el_conn_info {
	struct el_ip client, frontend, snat, backend;
	uint16_t cport, fport, sport, bport; /**< host order */
	uint8_t proto;
	uint8_t state; /**< enum el_ct_state */
	uint32_t svc_id, backend_id;
	uint32_t age_s, idle_s;
};

/** Copy up to @p max live flows into @p out; returns the count. Any thread
 *  (best effort: an entry may change while copied). */
unsigned worker_conns(const struct el_worker *w, struct el_conn_info *out, unsigned max,
		      uint64_t now_ms);

#endif
