/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Flow index: a bucketized two-choice hash from a 32-bit key hash to a
 * 32-bit value, storing no keys.
 *
 * The connection table keys every flow twice (client and reply direction),
 * and the flow entry already holds both 5-tuples. rte_hash would store each
 * key again in its own key store, a third cache line per lookup (bucket,
 * key, flow) and, for IPv6, 2 x 40 bytes more per flow; its key compare is a
 * memcmp for keys whose length has no vector compare. Here a bucket holds 8
 * (16-bit signature, value) pairs in one cache line, and the caller checks a
 * candidate against the flow entry the value names, which it reads anyway:
 * two cache lines per lookup, and the second one is the flow the packet
 * needs.
 *
 * Placement is partial-key cuckoo hashing (Fan, Andersen, Kaminsky, "MemC3",
 * NSDI 2013): an entry lives in its first bucket (hash & mask) or in its
 * second, first ^ f(signature), so the other bucket of a stored entry is
 * known without its key and an entry can move. An insert takes the first
 * bucket when it has a free slot, else the second; with both full it moves
 * one entry of either bucket to that entry's other bucket (one level). Each
 * bucket counts the entries whose first bucket it is but which live in their
 * second ("spilled"): a lookup reads the second bucket only when the first
 * has spilled, so at the load this table is sized for (at most 50 %) almost
 * every lookup, hit or miss, reads one bucket.
 *
 * Values are the caller's (the connection table stores flow index << 1 |
 * direction); a value must be unique in the table, as it names the entry to
 * delete.
 *
 * Thread safety: one thread writes and reads a table (a worker's own);
 * flowtab_init/flowtab_free run on the control thread before start / after
 * stop.
 */
#ifndef EDGELB_FLOWTAB_H
#define EDGELB_FLOWTAB_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_prefetch.h>

#if defined(RTE_ARCH_X86)
#include <emmintrin.h>
#endif

#define FLOWTAB_SLOTS 8

/** One cache line: 8 signatures, 8 values, slot bitmaps. */
struct flowtab_bucket {
	uint16_t sig[FLOWTAB_SLOTS];
	uint32_t val[FLOWTAB_SLOTS];
	uint32_t spilled; /**< entries of this first bucket living in their second */
	uint8_t used;	  /**< slot bitmap */
	uint8_t second;	  /**< slot bitmap: this is the entry's second bucket */
	uint8_t pad[10];
} __rte_cache_aligned;

/** A table. Fields are private; visible for the inline lookups. */
struct flowtab {
	struct flowtab_bucket *b;
	uint32_t mask;	  /**< bucket count - 1 (a power of two) */
	uint32_t entries; /**< stored entries */
	uint32_t moves;	  /**< entries moved to make room (statistics) */
};

/**
 * Allocate a table for @p entries entries (hugepage memory, zeroed): the
 * bucket count is the power of two that keeps it at most half full.
 * @return 0, -EINVAL (entries 0 or above 2^30), -ENOMEM
 */
int flowtab_init(struct flowtab *t, uint32_t entries, int socket_id);

/** Free the buckets; @p t may be zeroed or already freed. */
void flowtab_free(struct flowtab *t);

/** Bytes allocated for the buckets. */
size_t flowtab_bytes(const struct flowtab *t);

/**
 * Store @p val under hash @p h. No check that an equal key is stored
 * already: the caller looks first.
 * @return 0, or -ENOSPC when both buckets are full and no entry of either
 *         can move to its other bucket (nothing changed)
 */
int flowtab_add(struct flowtab *t, uint32_t h, uint32_t val);

/**
 * Remove the entry of value @p val stored under hash @p h.
 * @return 0, or -ENOENT
 */
int flowtab_del(struct flowtab *t, uint32_t h, uint32_t val);

/** Signature of a hash (its top 16 bits; the bucket index uses the low). */
static inline uint16_t
flowtab_sig(uint32_t h)
{
	return (uint16_t)(h >> 16);
}

/** The first bucket of @p h. */
static inline uint32_t
flowtab_first(const struct flowtab *t, uint32_t h)
{
	return h & t->mask;
}

/** The other bucket of an entry of signature @p sig that lives in @p b
 *  (its second when @p b is its first and the reverse). Never @p b. */
static inline uint32_t
flowtab_other(const struct flowtab *t, uint32_t b, uint16_t sig)
{
	return (b ^ (((uint32_t)sig * 0x9e3779b1u) >> 7 | 1)) & t->mask;
}

/** Start loading the first bucket of @p h. */
static inline void
flowtab_prefetch(const struct flowtab *t, uint32_t h)
{
	rte_prefetch0(&t->b[h & t->mask]);
}

/** Bitmap of the used slots of @p b whose signature is @p sig. */
static inline unsigned
flowtab_match(const struct flowtab_bucket *b, uint16_t sig)
{
#if defined(RTE_ARCH_X86)
	__m128i s = _mm_loadu_si128((const __m128i *)b->sig);
	__m128i eq = _mm_cmpeq_epi16(s, _mm_set1_epi16((short)sig));
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
	return m & b->used;
#else
	unsigned m = 0;
	for (unsigned i = 0; i < FLOWTAB_SLOTS; i++)
		m |= (unsigned)(b->sig[i] == sig) << i;
	return m & b->used;
#endif
}

/** Does the entry of value @p val hold the key the caller looks for? */
typedef bool (*flowtab_eq_fn)(const void *ctx, uint32_t val, const void *key);

/* The first of the slots @p m of @p b whose value @p eq accepts. */
static inline bool
flowtab_check(const struct flowtab_bucket *b, unsigned m, flowtab_eq_fn eq, const void *ctx,
	      const void *key, uint32_t *val)
{
	for (; m != 0; m &= m - 1) {
		uint32_t v = b->val[__builtin_ctz(m)];
		if (eq(ctx, v, key)) {
			*val = v;
			return true;
		}
	}
	return false;
}

/**
 * Find the entry under hash @p h whose value @p eq accepts. Inline: with a
 * constant @p eq the compiler inlines the key check too.
 * @return 0 and *val, or -ENOENT
 */
static inline int
flowtab_lookup(const struct flowtab *t, uint32_t h, flowtab_eq_fn eq, const void *ctx,
	       const void *key, uint32_t *val)
{
	uint16_t sig = flowtab_sig(h);
	uint32_t bi = flowtab_first(t, h);
	const struct flowtab_bucket *b = &t->b[bi];

	if (flowtab_check(b, flowtab_match(b, sig), eq, ctx, key, val))
		return 0;
	if (likely(b->spilled == 0))
		return -ENOENT;
	b = &t->b[flowtab_other(t, bi, sig)];
	return flowtab_check(b, flowtab_match(b, sig) & b->second, eq, ctx, key, val) ? 0 : -ENOENT;
}

#endif
