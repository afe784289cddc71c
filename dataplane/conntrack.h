/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-worker connection table and ClientIP affinity table.
 *
 * One flow index (flowtab.h: buckets of signature and value, no keys)
 * maps the 5-tuple of a packet, exactly as it arrives, to a flow: every
 * flow is in it twice, under its client key (client -> frontend) and under
 * its reply key (backend -> snat address), and the stored value says which
 * direction matched. A candidate is checked against the 5-tuples the flow
 * entry holds, so a lookup reads the bucket and the flow entry, which the
 * packet needs anyway, and nothing else. One bulk lookup over a burst loads
 * every bucket, then every flow entry, before the worker even knows which
 * side a packet comes from.
 *
 * Flows live in preallocated arrays with a free list: a 32-byte entry with
 * what every packet needs (addresses by value, ports, state, last use) and a
 * 12-byte one beside it with the stable service and backend ids; never a
 * pointer into a snapshot. There are no per-flow timers: conntrack_sweep4()
 * visits a bounded slice of the array per call and frees idle flows (the
 * worker decides how many slots, from the time that passed).
 *
 * Memory per flow of capacity (conntrack_bytes_per_flow(), measured): 44
 * bytes of entries plus, for its two keys, 32 bytes of buckets when the
 * capacity is a power of two (the bucket count is rounded up to one, at
 * most half full): about 76-108 bytes.
 *
 * IPv6 has a table of the same shape next to this one (ct_key6 with 16-byte
 * addresses, its own index, flow and meta arrays and affinity table), given
 * to a table by conntrack_enable6(): every name carrying the family ("4")
 * has a "6" twin, and nothing mixes families. A table without its IPv6 half
 * costs IPv4 nothing more (conntrack_bytes_per_flow() is unchanged). Per
 * IPv6 flow (conntrack_bytes_per_flow6(), measured): 92 bytes of entries
 * (80 + 12) plus the same 32-64 bytes of buckets.
 *
 * Thread safety: a table belongs to one worker lcore; every function runs
 * there, except conntrack_create/conntrack_destroy (control, before start /
 * after stop) and reads of the flow array for listings (best effort).
 */
#ifndef EDGELB_CONNTRACK_H
#define EDGELB_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#if defined(RTE_ARCH_X86_64) && defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "edgelb/tcp_state.h"
#include "flowtab.h"

struct rte_hash;

/** Direction a key matched: the value stored in the index is idx << 1 | dir. */
#define CT_DIR_CLIENT 0
#define CT_DIR_REPLY  1

#define CT_NONE UINT32_MAX

/** An IPv4 5-tuple as it sits in a packet (network order). Padding must be
 *  zero: the whole 16 bytes are hashed. */
struct ct_key4 {
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

/** Flow flags: bit 0 marks a used entry; bits 1-7 belong to the worker,
 *  which keeps there the static neighbour the flow's backend is sent to
 *  (CT_F_EGRESS_SHIFT; 0 = not known). Adding a flow clears them. */
#define CT_F_USED	  0x1
#define CT_F_EGRESS_SHIFT 1
#define CT_F_EGRESS_MAX	  127

/** An IPv4 FullNAT flow: client:cport -> frontend:fport becomes
 *  snat:sport -> backend:bport. Addresses and ports in network order. This
 *  is what every packet reads and writes: 32 bytes, so an entry never spans
 *  two cache lines. The fields are in the order of the two keys (client,
 *  frontend, cport, fport and backend, snat, bport, sport), so a key is
 *  checked against the entry with a few word compares. */
struct ct_flow4 {
	uint32_t client;
	uint32_t frontend;
	uint32_t backend;
	uint32_t snat;
	uint16_t cport;
	uint16_t fport;
	uint16_t bport;
	uint16_t sport;
	uint32_t last_ms; /**< last packet, monotonic ms truncated to 32 bits */
	uint8_t proto;
	uint8_t flags;		    /**< CT_F_* */
	struct tcp_state_track tcp; /**< state (UDP: EL_CT_UDP) and FIN side */
};

/** The rest of a flow of either family, in a parallel array: read when a
 *  flow is created, removed, re-opened, flushed or listed. */
struct ct_meta {
	uint32_t svc_id;
	uint32_t backend_id;
	union {
		uint32_t created_s; /**< creation, monotonic seconds (used) */
		uint32_t next_free; /**< free-list link (unused) */
	};
};

/** A ClientIP affinity entry. */
struct ct_aff4 {
	uint32_t client;
	uint32_t svc_id;
	uint32_t backend_id;
	uint32_t last_ms;
	uint32_t timeout_ms;
	uint32_t next_free; /**< free-list link while unused */
	uint8_t used;
	uint8_t pad[3];
};

/** An IPv6 5-tuple as it sits in a packet (network order): 40 bytes, the
 *  padding must be zero (the whole key is hashed). */
struct ct_key6 {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

/** An IPv6 FullNAT flow: client:cport -> frontend:fport becomes
 *  snat:sport -> backend:bport (network order). 80 bytes, fields in key
 *  order as struct ct_flow4. */
struct ct_flow6 {
	uint8_t client[16];
	uint8_t frontend[16];
	uint8_t backend[16];
	uint8_t snat[16];
	uint16_t cport;
	uint16_t fport;
	uint16_t bport;
	uint16_t sport;
	uint32_t last_ms; /**< last packet, monotonic ms truncated to 32 bits */
	uint8_t proto;
	uint8_t flags;		    /**< CT_F_* */
	struct tcp_state_track tcp; /**< state (UDP: EL_CT_UDP) and FIN side */
};

/** An IPv6 ClientIP affinity entry. */
struct ct_aff6 {
	uint8_t client[16];
	uint32_t svc_id;
	uint32_t backend_id;
	uint32_t last_ms;
	uint32_t timeout_ms;
	uint32_t next_free; /**< free-list link while unused */
	uint8_t used;
	uint8_t pad[3];
};

/** The tables of one worker. Fields are private to conntrack.c; they are
 *  visible so the per-packet accessors below can be inline. */
struct conntrack {
	struct flowtab t4;
	struct ct_flow4 *flows4;
	struct ct_meta *meta4;
	uint32_t cap;
	uint32_t used;
	uint32_t free_head;
	uint32_t sweep_pos;
	uint64_t swept;
	size_t bytes;

	struct rte_hash *aff_h4;
	struct ct_aff4 *aff4;
	uint32_t aff_cap;
	uint32_t aff_used;
	uint32_t aff_free_head;
	uint32_t aff_sweep_pos;

	/* IPv6 half (conntrack_enable6()); all NULL/0 until then. */
	struct flowtab t6;
	uint32_t gen6; /* counts IPv6 adds and deletes (conntrack_gen6()) */
	struct ct_flow6 *flows6;
	struct ct_meta *meta6;
	uint32_t cap6;
	uint32_t used6;
	uint32_t free_head6;
	uint32_t sweep_pos6;
	uint64_t swept6;
	size_t bytes6;

	struct rte_hash *aff_h6;
	struct ct_aff6 *aff6;
	uint32_t aff_cap6;
	uint32_t aff_used6;
	uint32_t aff_free_head6;
	uint32_t aff_sweep_pos6;
};

/**
 * Create the tables of one worker.
 * @param max_flows     flow capacity (the index holds twice as many keys)
 * @param max_affinity  affinity entries (0: no affinity table)
 * @param socket_id     NUMA socket, or SOCKET_ID_ANY
 * @return the table, or NULL with rte_errno set (EINVAL, ENOMEM)
 */
struct conntrack *conntrack_create(uint32_t max_flows, uint32_t max_affinity, int socket_id);

/** Free everything. NULL is fine. */
void conntrack_destroy(struct conntrack *ct);

/**
 * Look up to 64 keys at once.
 * @param hit   bit i set when keys[i] matched
 * @param val   val[i] = flow index << 1 | CT_DIR_* for each hit
 */
void conntrack_lookup4_bulk(const struct conntrack *ct, const struct ct_key4 **keys, unsigned n,
			    uint64_t *hit, uint32_t *val);

/**
 * conntrack_lookup4_bulk() with the hash of every key given (conntrack_hash4),
 * so a caller that needs the hash again (to insert a key that missed) pays
 * for it once.
 */
void conntrack_lookup4_bulk_sig(const struct conntrack *ct, const struct ct_key4 **keys,
				const uint32_t *sigs, unsigned n, uint64_t *hit, uint32_t *val);

/** Look up one key. @return 0 and *val, or -ENOENT. */
int conntrack_lookup4(const struct conntrack *ct, const struct ct_key4 *key, uint32_t *val);

/** conntrack_add4() flag: the caller has just looked both keys up and knows
 *  they are absent, so the table does not look again. */
#define CT_ADD_KEYS_CHECKED 0x1

/**
 * Insert a flow under its client and reply keys (both built from @p f).
 * @param f      the flow; flags are set here
 * @param meta   its ids and creation time
 * @param flags  CT_ADD_* bits
 * @param idx    receives the flow index
 * @return 0; -ENOSPC when the array or the index is full; -EEXIST when one
 *         of the keys is already there or both keys are equal (nothing is
 *         changed; with CT_ADD_KEYS_CHECKED only the second case is seen)
 */
int conntrack_add4(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta *meta,
		   unsigned flags, uint32_t *idx);

/** conntrack_add4() with the hashes of the client and reply keys given
 *  (conntrack_hash4() of each): the table does not compute them again. */
int conntrack_add4_sig(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta *meta,
		       unsigned flags, uint32_t csig, uint32_t rsig, uint32_t *idx);

/** Remove flow @p idx (both keys) and return it to the free list. */
void conntrack_del4(struct conntrack *ct, uint32_t idx);

/** The flow at @p idx (used or not). */
static inline struct ct_flow4 *
conntrack_flow4(const struct conntrack *ct, uint32_t idx)
{
	return &ct->flows4[idx];
}

/** The ids and creation time of the flow at @p idx. */
static inline struct ct_meta *
conntrack_meta4(const struct conntrack *ct, uint32_t idx)
{
	return &ct->meta4[idx];
}

/** True when the reply key (backend:bport -> snat:lport, proto) is taken,
 *  by any flow in either direction. Ports and addresses network order. */
bool conntrack_reply_in_use4(const struct conntrack *ct, uint32_t backend, uint32_t snat,
			     uint16_t bport, uint16_t lport, uint8_t proto);

/** Live flows. */
uint32_t conntrack_count(const struct conntrack *ct);

/** Flow capacity. */
uint32_t conntrack_capacity(const struct conntrack *ct);

/** Called for every flow a sweep frees, before it is freed: @p idle is true
 *  when it timed out, false when @p extra chose it. */
typedef void (*conntrack_gone_fn)(void *ctx, const struct ct_flow4 *f, const struct ct_meta *m,
				  bool idle);

/** Extra reason to free a flow during a sweep (e.g. a flushed backend). */
typedef bool (*conntrack_pick_fn)(void *ctx, const struct ct_flow4 *f, const struct ct_meta *m);

/** Most slots one conntrack_sweep4() call visits. */
#define CT_SWEEP_MAX 64

/**
 * Visit the next @p budget slots (at most CT_SWEEP_MAX) of the flow array
 * (wrapping) and free the
 * used flows that are idle for at least timeout_ms[their state]
 * (now32 - last_ms, modulo 2^32), or that @p extra picks.
 * @param timeout_ms  EL_CT_NSTATES idle timeouts in ms
 * @param extra       NULL, or called for every used flow that is not idle
 * @param gone        called for every flow freed (counters); not NULL
 * @return the number of flows freed
 */
unsigned conntrack_sweep4(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms,
			  uint32_t now32, conntrack_pick_fn extra, conntrack_gone_fn gone,
			  void *ctx);

/** Slots visited by all sweeps so far (to know when a full pass is done). */
uint64_t conntrack_swept(const struct conntrack *ct);

/**
 * Bytes of memory per tracked flow: everything the table allocated (index
 * buckets, flow and meta arrays), measured from the heap
 * statistics at creation, divided by the capacity. The affinity table is
 * not included.
 */
size_t conntrack_bytes_per_flow(const struct conntrack *ct);

/**
 * Affinity entry of (client, service) that is still valid at @p now_ms.
 * @return 0 and the backend id, or -ENOENT (none, or expired)
 */
int conntrack_aff_lookup4(struct conntrack *ct, uint32_t client, uint32_t svc_id, uint64_t now_ms,
			  uint32_t *backend_id);

/**
 * Record or refresh (client, service) -> backend, valid for @p timeout_ms.
 * @return 0, or -ENOSPC (table full: the flow is created anyway)
 */
int conntrack_aff_update4(struct conntrack *ct, uint32_t client, uint32_t svc_id,
			  uint32_t backend_id, uint32_t timeout_ms, uint64_t now_ms);

/** Forget the entry of (client, service). */
void conntrack_aff_del4(struct conntrack *ct, uint32_t client, uint32_t svc_id);

/** Expire affinity entries in the next @p budget slots. @return deleted. */
unsigned conntrack_aff_sweep4(struct conntrack *ct, unsigned budget, uint64_t now_ms);

/** Live affinity entries. */
uint32_t conntrack_aff_count(const struct conntrack *ct);

/** Client key of a flow (client:cport -> frontend:fport). */
static inline void
conntrack_client_key4(const struct ct_flow4 *f, struct ct_key4 *k)
{
	k->src = f->client;
	k->dst = f->frontend;
	k->sport = f->cport;
	k->dport = f->fport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/** Reply key of a flow (backend:bport -> snat:sport). */
static inline void
conntrack_reply_key4(const struct ct_flow4 *f, struct ct_key4 *k)
{
	k->src = f->backend;
	k->dst = f->snat;
	k->sport = f->bport;
	k->dport = f->sport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/** Seed of the flow table's hash; conntrack_hash4() and the table agree. */
#define CT_HASH_SEED 0x2b7e1516u

/** rte_hash_crc_8byte(): CRC32-C of one 64-bit word. Where the build targets
 *  SSE4.2 (DPDK's x86 builds do), the instruction itself, without the
 *  run-time choice rte_hash_crc_8byte() makes on every call; the result is
 *  the same. */
static inline uint32_t
ct_crc64(uint64_t data, uint32_t init)
{
#if defined(RTE_ARCH_X86_64) && defined(__SSE4_2__)
	return (uint32_t)_mm_crc32_u64(init, data);
#else
	return rte_hash_crc_8byte(data, init);
#endif
}

/** The hash the flow table uses for @p k: CRC32-C over its 16 bytes, as
 *  rte_hash_crc(k, 16, CT_HASH_SEED). The words are read with memcpy, so
 *  the compiler sees the reads of a key just filled field by field (rte_hash_crc
 *  reads through uint64_t pointers, which strict aliasing lets it move
 *  before those stores once inlined). Any thread. */
static inline uint32_t
conntrack_hash4(const struct ct_key4 *k)
{
	uint64_t w[2];
	__builtin_memcpy(w, k, sizeof(w));
	return ct_crc64(w[1], ct_crc64(w[0], CT_HASH_SEED));
}

/**
 * Fill @p k with a 5-tuple and return conntrack_hash4() of it. The hash is
 * computed from the two 64-bit words held in registers, not read back from
 * @p k: reading 8 bytes just written as 4-, 2- and 1-byte fields would wait
 * for the stores to retire (a failed store-to-load forward). Any thread.
 */
static inline uint32_t
conntrack_key4_set(struct ct_key4 *k, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		   uint8_t proto)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint64_t w0 = (uint64_t)src | (uint64_t)dst << 32;
	uint64_t w1 = (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32;
	__builtin_memcpy(k, &w0, 8);
	__builtin_memcpy((uint8_t *)k + 8, &w1, 8);
	return ct_crc64(w1, ct_crc64(w0, CT_HASH_SEED));
#else
	k->src = src;
	k->dst = dst;
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	return conntrack_hash4(k);
#endif
}

/**
 * conntrack_key4_set() from the packet itself: @p ip is the IPv4 header
 * (addresses at 12-19), @p l4 the TCP or UDP header (ports at 0-3). The
 * key's words are loaded from the packet as they sit there, not from a
 * parse result just stored field by field (a wide load of narrow stores
 * that have not retired stalls the core). Any thread.
 * @return conntrack_hash4() of the key
 */
static inline uint32_t
conntrack_key4_from_pkt(struct ct_key4 *k, const uint8_t *ip, const uint8_t *l4, uint8_t proto)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint64_t w0;
	uint32_t ports;
	__builtin_memcpy(&w0, ip + 12, 8);
	__builtin_memcpy(&ports, l4, 4);
	uint64_t w1 = (uint64_t)ports | (uint64_t)proto << 32;
	__builtin_memcpy(k, &w0, 8);
	__builtin_memcpy((uint8_t *)k + 8, &w1, 8);
	return ct_crc64(w1, ct_crc64(w0, CT_HASH_SEED));
#else
	__builtin_memcpy(&k->src, ip + 12, 4);
	__builtin_memcpy(&k->dst, ip + 16, 4);
	__builtin_memcpy(&k->sport, l4, 2);
	__builtin_memcpy(&k->dport, l4 + 2, 2);
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	return conntrack_hash4(k);
#endif
}

/*
 * IPv6. Same contracts as the IPv4 functions of the same name; indexes are
 * those of the IPv6 flow array (a separate space from the IPv4 one).
 */

/**
 * Give @p ct its IPv6 half: an index keyed by struct ct_key6 (each flow under
 * its client and its reply key, as IPv4), flow and meta arrays and an
 * affinity table. Control thread, before the worker runs; at most once.
 * Until it is called (or with @p max_flows 0) every conntrack_add6()
 * returns -ENOSPC and every lookup -ENOENT.
 * @param max_flows     IPv6 flow capacity (0: none)
 * @param max_affinity  IPv6 affinity entries (0: none)
 * @param socket_id     NUMA socket, or SOCKET_ID_ANY
 * @return 0, -ENOMEM, or -EINVAL (NULL table, already enabled, capacity
 *         above 2^29 flows)
 */
int conntrack_enable6(struct conntrack *ct, uint32_t max_flows, uint32_t max_affinity,
		      int socket_id);

/** Seed of the IPv6 flow table's hash. */
#define CT_HASH_SEED6 0x28aed2a6u

/** The hash the IPv6 flow table uses for @p k: CRC32-C over the 40 bytes,
 *  as rte_hash_crc(k, 40, CT_HASH_SEED6), read as conntrack_hash4() reads.
 *  Any thread. */
static inline uint32_t
conntrack_hash6(const struct ct_key6 *k)
{
	uint64_t w[5];
	__builtin_memcpy(w, k, sizeof(w));
	uint32_t h = CT_HASH_SEED6;
	for (int i = 0; i < 5; i++)
		h = ct_crc64(w[i], h);
	return h;
}

/**
 * Fill @p k with an IPv6 5-tuple (addresses and ports network order, pad
 * zeroed). The hash is computed from the words as loaded, not read back
 * from @p k (see conntrack_key4_set()). Any thread.
 * @return conntrack_hash6() of the key
 */
static inline uint32_t
conntrack_key6_set(struct ct_key6 *k, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
		   uint16_t dport, uint8_t proto)
{
	uint64_t w[5];
	__builtin_memcpy(&w[0], src, 16);
	__builtin_memcpy(&w[2], dst, 16);
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	w[4] = (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32;
#else
	w[4] = (uint64_t)sport << 48 | (uint64_t)dport << 32 | (uint64_t)proto << 24;
#endif
	__builtin_memcpy(k, w, sizeof(w));
	uint32_t h = CT_HASH_SEED6;
	for (int i = 0; i < 5; i++)
		h = ct_crc64(w[i], h);
	return h;
}

/**
 * conntrack_key6_set() from the packet itself (see conntrack_key4_from_pkt()):
 * @p ip the IPv6 header (addresses at 8-39), @p l4 the TCP or UDP header.
 * @return conntrack_hash6() of the key
 */
static inline uint32_t
conntrack_key6_from_pkt(struct ct_key6 *k, const uint8_t *ip, const uint8_t *l4, uint8_t proto)
{
	uint16_t ports[2];
	__builtin_memcpy(ports, l4, 4);
	return conntrack_key6_set(k, ip + 8, ip + 24, ports[0], ports[1], proto);
}

/** Look up one IPv6 key. @return 0 and *val (idx << 1 | CT_DIR_*), or
 *  -ENOENT. */
int conntrack_lookup6(const struct conntrack *ct, const struct ct_key6 *key, uint32_t *val);

/** conntrack_lookup4_bulk_sig() for IPv6 keys (@p sigs: conntrack_hash6()
 *  of each; at most 64). No hit without the IPv6 half. */
void conntrack_lookup6_bulk_sig(const struct conntrack *ct, const struct ct_key6 **keys,
				const uint32_t *sigs, unsigned n, uint64_t *hit, uint32_t *val);

/** A number that changes with every IPv6 flow added or removed: a bulk
 *  lookup's answers still hold while it has not changed. */
static inline uint32_t
conntrack_gen6(const struct conntrack *ct)
{
	return ct->gen6;
}

/**
 * Insert an IPv6 flow under its client and reply keys (built from @p f).
 * @return 0 and *idx; -ENOSPC when the array or the index is full (nothing
 *         is ever evicted) or the table has no IPv6 half; -EEXIST when a
 *         key is already there or both keys are equal (nothing changed)
 */
int conntrack_add6(struct conntrack *ct, const struct ct_flow6 *f, const struct ct_meta *meta,
		   uint32_t *idx);

/** Remove IPv6 flow @p idx (both keys) and return it to the free list. */
void conntrack_del6(struct conntrack *ct, uint32_t idx);

/** The IPv6 flow at @p idx (used or not). */
static inline struct ct_flow6 *
conntrack_flow6(const struct conntrack *ct, uint32_t idx)
{
	return &ct->flows6[idx];
}

/** The ids and creation time of the IPv6 flow at @p idx. */
static inline struct ct_meta *
conntrack_meta6(const struct conntrack *ct, uint32_t idx)
{
	return &ct->meta6[idx];
}

/** True when the IPv6 reply key (backend:bport -> snat:lport, proto) is
 *  taken, by any flow in either direction (network order). */
bool conntrack_reply_in_use6(const struct conntrack *ct, const uint8_t backend[16],
			     const uint8_t snat[16], uint16_t bport, uint16_t lport, uint8_t proto);

/** Live IPv6 flows. */
uint32_t conntrack_count6(const struct conntrack *ct);

/** IPv6 flow capacity (0 without the IPv6 half). */
uint32_t conntrack_capacity6(const struct conntrack *ct);

/** conntrack_gone_fn for IPv6 flows. */
typedef void (*conntrack_gone6_fn)(void *ctx, const struct ct_flow6 *f, const struct ct_meta *m,
				   bool idle);

/** conntrack_pick_fn for IPv6 flows. */
typedef bool (*conntrack_pick6_fn)(void *ctx, const struct ct_flow6 *f, const struct ct_meta *m);

/** conntrack_sweep4() over the IPv6 flow array (same contract; 0 without
 *  the IPv6 half). */
unsigned conntrack_sweep6(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms,
			  uint32_t now32, conntrack_pick6_fn extra, conntrack_gone6_fn gone,
			  void *ctx);

/** IPv6 slots visited by all sweeps so far. */
uint64_t conntrack_swept6(const struct conntrack *ct);

/** Bytes of memory per IPv6 flow of capacity, measured as for
 *  conntrack_bytes_per_flow() (0 without the IPv6 half). */
size_t conntrack_bytes_per_flow6(const struct conntrack *ct);

/** conntrack_aff_lookup4() for an IPv6 client. */
int conntrack_aff_lookup6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id,
			  uint64_t now_ms, uint32_t *backend_id);

/** conntrack_aff_update4() for an IPv6 client (-ENOSPC also without an IPv6
 *  affinity table). */
int conntrack_aff_update6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id,
			  uint32_t backend_id, uint32_t timeout_ms, uint64_t now_ms);

/** Forget the IPv6 entry of (client, service). */
void conntrack_aff_del6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id);

/** Expire IPv6 affinity entries in the next @p budget slots. @return
 *  deleted. */
unsigned conntrack_aff_sweep6(struct conntrack *ct, unsigned budget, uint64_t now_ms);

/** Live IPv6 affinity entries. */
uint32_t conntrack_aff_count6(const struct conntrack *ct);

/** Client key of an IPv6 flow (client:cport -> frontend:fport). */
static inline void
conntrack_client_key6(const struct ct_flow6 *f, struct ct_key6 *k)
{
	__builtin_memcpy(k->src, f->client, 16);
	__builtin_memcpy(k->dst, f->frontend, 16);
	k->sport = f->cport;
	k->dport = f->fport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/** Reply key of an IPv6 flow (backend:bport -> snat:sport). */
static inline void
conntrack_reply_key6(const struct ct_flow6 *f, struct ct_key6 *k)
{
	__builtin_memcpy(k->src, f->backend, 16);
	__builtin_memcpy(k->dst, f->snat, 16);
	k->sport = f->bport;
	k->dport = f->sport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

#endif
