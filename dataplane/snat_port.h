/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * SNAT source-port choice, so that the reply of a FullNAT flow (backend ->
 * snat_addr:lport) comes back to the worker that owns the flow.
 *
 * Two modes, per interface facing the backend:
 *
 * - RSS steering: the port has a known Toeplitz key and RETA (Microsoft
 *   "Receive Side Scaling" specification; DPDK rte_thash.h). The reply is
 *   hashed over (src = backend ip, dst = snat ip, sport = backend port,
 *   dport = lport) and lands on queue reta[hash % reta_size]. The Toeplitz
 *   hash is linear over GF(2): hash(t with dport = p) = hash(t with dport =
 *   0) XOR hash(zero tuple with dport = p), and the second term splits into
 *   one table lookup per byte of p. So a candidate port costs two loads and
 *   two XORs; the walk tries ports from a per-worker cursor until one lands
 *   on the worker's queue and its reply tuple is free. This is the search
 *   rte_thash_adjust_tuple() does, without its EAL-allocated context, so it
 *   runs in unit tests. It assumes the NIC hashes IPv4 TCP/UDP on addresses
 *   and ports (RTE_ETH_RSS_NONFRAG_IPV4_TCP/UDP), and IPv6 TCP/UDP likewise
 *   (RTE_ETH_RSS_NONFRAG_IPV6_TCP/UDP: src(16) dst(16) sport dport).
 *
 *   The destination port's term is not the same for both families: in an
 *   IPv4 tuple the port is input bits 80-95, in an IPv6 tuple bits 272-287,
 *   and each input bit contributes the 32-bit key window starting at its
 *   position. So a "base" is not quite the bare hash: bit 31 says which
 *   family's port tables snat_port_rss_queue() must use (clear: IPv4, set:
 *   IPv6). The RETA index is at most 9 low bits of the hash, so bit 31 never
 *   changes a queue. snat_port_rss_base() and snat_port_rss_base6() build
 *   the bases; snat_port_pick() and snat_port_peek() then work for either.
 *
 * - Partition: no RSS control (every vdev). Worker i owns a contiguous slice
 *   of [port_min, port_max] (the first (range % n) workers one port more); a
 *   reply whose port is in another worker's slice is handed to that worker.
 *
 * In both modes the walk is deterministic: the first free port at or after
 * the cursor, wrapping inside the range; the cursor then moves past it.
 *
 * Ports in this API are in host order; addresses in network order.
 *
 * Thread safety: the structures belong to one worker; the functions are pure
 * apart from updating the cursor they are given.
 */
#ifndef EDGELB_SNAT_PORT_H
#define EDGELB_SNAT_PORT_H

#include <stdbool.h>
#include <stdint.h>

#define SNAT_PORT_MAX_PARTS 16
#define SNAT_PORT_RETA_MAX  512
#define SNAT_PORT_KEY_MAX   52

/** Predictable RSS of one interface, seen from one queue. */
struct snat_port_rss {
	/** t[k][v]: hash of the all-zero tuple whose byte k is v. Tuple bytes:
	 *  0-3 source address, 4-7 destination address, 8-9 source port,
	 *  10-11 destination port, all in network order. */
	uint32_t t[12][256];
	/** t6d[k][v]: hash of the all-zero IPv6 tuple whose destination port
	 *  byte k (0: high, 1: low) is v. */
	uint32_t t6d[2][256];
	/** t6n[k][v]: hash of the all-zero IPv6 tuple whose nibble k is v
	 *  (nibble 2i is the high half of byte i; bytes 0-15 source, 16-31
	 *  destination, 32-33 source port): 4 KB instead of 34 KB of byte
	 *  tables, for snat_port_rss_base6() once per new flow. */
	uint32_t t6n[68][16];
	uint32_t key[SNAT_PORT_KEY_MAX / 4]; /**< the key, 4-byte aligned */
	uint16_t reta[SNAT_PORT_RETA_MAX];
	uint32_t reta_mask; /**< reta_size - 1 */
	uint16_t queue;	    /**< the queue replies must land on */
};

/** Port slices of every worker, for partition mode. */
struct snat_port_part {
	unsigned n;
	uint16_t lo[SNAT_PORT_MAX_PARTS];
	uint16_t hi[SNAT_PORT_MAX_PARTS];
};

/** A walk position inside [lo, hi]. */
struct snat_port_cursor {
	uint16_t lo;
	uint16_t hi;
	uint16_t next;
};

/**
 * Prepare RSS steering.
 * @param key        Toeplitz key as programmed on the port
 * @param key_len    16..52 bytes
 * @param reta       @p reta_size entries: hash -> queue
 * @param reta_size  power of two, 1..512
 * @param queue      the worker's own queue
 * @return 0, or -EINVAL
 */
int snat_port_rss_init(struct snat_port_rss *r, const uint8_t *key, unsigned key_len,
		       const uint16_t *reta, unsigned reta_size, uint16_t queue);

/**
 * Toeplitz hash of an IPv4 4-tuple (addresses network order, ports host
 * order), computed directly with rte_softrss(): the reference the fast path
 * must agree with.
 */
uint32_t snat_port_rss_hash(const struct snat_port_rss *r, uint32_t src, uint32_t dst,
			    uint16_t sport, uint16_t dport);

/** Bit of a base that marks it IPv6 (see the file comment). */
#define SNAT_PORT_BASE_V6 0x80000000u

/** Base of an IPv4 reply tuple (src = backend, dst = snat, sport = backend
 *  port, host order; start of a walk): its hash with destination port 0,
 *  bit 31 cleared. From the byte tables: ten loads instead of a bit-by-bit
 *  Toeplitz pass. */
static inline uint32_t
snat_port_rss_base(const struct snat_port_rss *r, uint32_t src, uint32_t dst, uint16_t sport)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	return (r->t[0][s[0]] ^ r->t[1][s[1]] ^ r->t[2][s[2]] ^ r->t[3][s[3]] ^ r->t[4][d[0]] ^
		r->t[5][d[1]] ^ r->t[6][d[2]] ^ r->t[7][d[3]] ^ r->t[8][sport >> 8] ^
		r->t[9][sport & 0xff]) &
	       ~SNAT_PORT_BASE_V6;
}

/**
 * Toeplitz hash of an IPv6 4-tuple (addresses network order, ports host
 * order), computed with rte_softrss() over src(16) dst(16) sport dport as a
 * NIC hashes RTE_ETH_RSS_NONFRAG_IPV6_TCP/UDP: the reference. Needs a key of
 * at least 40 bytes (the input is 36 bytes); a shorter key hashes as if
 * padded with zero bytes.
 */
uint32_t snat_port_rss_hash6(const struct snat_port_rss *r, const uint8_t src[16],
			     const uint8_t dst[16], uint16_t sport, uint16_t dport);

/**
 * Base of an IPv6 reply tuple (src = backend, dst = snat, addresses network
 * order; sport = backend port, host order): its hash with destination port
 * 0, with bit 31 set (SNAT_PORT_BASE_V6) so snat_port_rss_queue(),
 * snat_port_pick() and snat_port_peek() apply the IPv6 destination-port
 * tables. 68 loads from 4 KB of tables.
 */
uint32_t snat_port_rss_base6(const struct snat_port_rss *r, const uint8_t src[16],
			     const uint8_t dst[16], uint16_t sport);

/** Queue the reply lands on when its destination port is @p port (host
 *  order); @p base from snat_port_rss_base() or snat_port_rss_base6(). */
static inline uint16_t
snat_port_rss_queue(const struct snat_port_rss *r, uint32_t base, uint16_t port)
{
	const uint32_t(*d)[256] = (base & SNAT_PORT_BASE_V6) ? r->t6d : &r->t[10];
	uint32_t h = base ^ d[0][port >> 8] ^ d[1][port & 0xff];
	return r->reta[h & r->reta_mask];
}

/**
 * Split [min, max] into @p n contiguous slices.
 * @return 0, or -EINVAL (n is 0 or above SNAT_PORT_MAX_PARTS, min > max, or
 *         fewer ports than workers)
 */
int snat_port_part_init(struct snat_port_part *p, unsigned n, uint16_t min, uint16_t max);

/** Worker owning @p port in partition mode; p->n when outside every slice. */
static inline unsigned
snat_port_part_owner(const struct snat_port_part *p, uint16_t port)
{
	for (unsigned i = 0; i < p->n; i++)
		if (port >= p->lo[i] && port <= p->hi[i])
			return i;
	return p->n;
}

/** Start a cursor at @p lo. */
static inline void
snat_port_cursor_init(struct snat_port_cursor *c, uint16_t lo, uint16_t hi)
{
	c->lo = lo;
	c->hi = hi;
	c->next = lo;
}

/** Tells whether the reply tuple with destination port @p port (host order)
 *  is taken. */
typedef bool (*snat_port_in_use_fn)(void *ctx, uint16_t port);

/** No port is known to be free (snat_port_pick()). */
#define SNAT_PORT_NONE UINT32_MAX

/**
 * Pick a port: the first at or after the cursor (wrapping inside the
 * cursor's range) that lands on the worker's queue (when @p rss is not NULL)
 * and is not in use. On success the cursor moves to the port after it.
 *
 * @param c           the walk position
 * @param rss         RSS steering, or NULL for partition mode
 * @param base        snat_port_rss_base() of the reply tuple (ignored
 *                    without rss)
 * @param in_use      called for each candidate that passes the queue test
 * @param ctx         passed to @p in_use
 * @param known_free  a port of the cursor's range the caller already knows
 *                    is free and on the worker's queue for @p base (a
 *                    snat_port_peek() of this cursor, whose reply tuple was
 *                    looked up): taken at once, wherever the cursor is, and
 *                    the cursor moves past it; SNAT_PORT_NONE (or a port
 *                    outside the range) for a walk
 * @param port        receives the port (host order)
 * @return 0, or -ENOSPC when every port of the range was tried
 */
int snat_port_pick(struct snat_port_cursor *c, const struct snat_port_rss *rss, uint32_t base,
		   snat_port_in_use_fn in_use, void *ctx, uint32_t known_free, uint16_t *port);

/**
 * The port snat_port_pick() would try first: the first at or after the
 * cursor that passes the queue test (ignoring use). Moves @p c past it, so
 * calling it on a copy of the cursor predicts a sequence of picks.
 * @return 0, or -ENOSPC when no port of the range lands on the queue
 */
int snat_port_peek(struct snat_port_cursor *c, const struct snat_port_rss *rss, uint32_t base,
		   uint16_t *port);

#endif
