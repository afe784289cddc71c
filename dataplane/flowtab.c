/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow index: two-choice buckets of (signature, value) with one level of
 * partial-key cuckoo moves. See flowtab.h.
 */
#include <errno.h>

#include <rte_malloc.h>

#include "flowtab.h"

_Static_assert(sizeof(struct flowtab_bucket) == 64, "a bucket is one cache line");

int
flowtab_init(struct flowtab *t, uint32_t entries, int socket_id)
{
	if (entries == 0 || entries > (1u << 30))
		return -EINVAL;
	/* 8 slots per bucket, at most half of them used: entries / 4 */
	uint32_t n = RTE_MAX(8u, rte_align32pow2(entries / 4 + (entries % 4 != 0)));
	t->b = rte_zmalloc_socket("el_flowtab", (size_t)n * sizeof(struct flowtab_bucket),
				  RTE_CACHE_LINE_SIZE, socket_id);
	if (t->b == NULL)
		return -ENOMEM;
	t->mask = n - 1;
	t->entries = 0;
	t->moves = 0;
	return 0;
}

void
flowtab_free(struct flowtab *t)
{
	rte_free(t->b);
	t->b = NULL;
	t->mask = 0;
	t->entries = 0;
}

size_t
flowtab_bytes(const struct flowtab *t)
{
	return t->b != NULL ? ((size_t)t->mask + 1) * sizeof(struct flowtab_bucket) : 0;
}

static inline int
free_slot(const struct flowtab_bucket *b)
{
	unsigned f = ~(unsigned)b->used & 0xffu;
	return f != 0 ? __builtin_ctz(f) : -1;
}

static inline void
put(struct flowtab_bucket *b, int s, uint16_t sig, uint32_t val, bool second)
{
	b->sig[s] = sig;
	b->val[s] = val;
	b->used |= (uint8_t)(1u << s);
	if (second)
		b->second |= (uint8_t)(1u << s);
	else
		b->second &= (uint8_t) ~(1u << s);
}

static inline void
clear(struct flowtab_bucket *b, int s)
{
	b->used &= (uint8_t) ~(1u << s);
	b->second &= (uint8_t) ~(1u << s);
}

/*
 * Make a slot free in bucket @p bi by moving one of its entries to that
 * entry's other bucket, if one has room. Keeps every first bucket's spilled
 * count right. @return the freed slot, or -1.
 */
static int
make_room(struct flowtab *t, uint32_t bi)
{
	struct flowtab_bucket *b = &t->b[bi];

	for (int s = 0; s < FLOWTAB_SLOTS; s++) {
		uint16_t sig = b->sig[s];
		uint32_t oi = flowtab_other(t, bi, sig);
		struct flowtab_bucket *o = &t->b[oi];
		int os = free_slot(o);
		if (os < 0)
			continue;
		bool in_second = (b->second >> s) & 1;
		/* from its first bucket to its second: the first (here) has
		 * one more spilled; back from its second to its first (there):
		 * one fewer */
		if (in_second)
			o->spilled--;
		else
			b->spilled++;
		put(o, os, sig, b->val[s], !in_second);
		clear(b, s);
		t->moves++;
		return s;
	}
	return -1;
}

int
flowtab_add(struct flowtab *t, uint32_t h, uint32_t val)
{
	uint16_t sig = flowtab_sig(h);
	uint32_t bi = flowtab_first(t, h);
	struct flowtab_bucket *b = &t->b[bi];

	int s = free_slot(b);
	if (s >= 0) {
		put(b, s, sig, val, false);
		t->entries++;
		return 0;
	}
	uint32_t oi = flowtab_other(t, bi, sig);
	struct flowtab_bucket *o = &t->b[oi];
	s = free_slot(o);
	if (s < 0)
		s = make_room(t, oi);
	if (s >= 0) {
		put(o, s, sig, val, true);
		b->spilled++;
		t->entries++;
		return 0;
	}
	s = make_room(t, bi);
	if (s >= 0) {
		put(b, s, sig, val, false);
		t->entries++;
		return 0;
	}
	return -ENOSPC;
}

int
flowtab_del(struct flowtab *t, uint32_t h, uint32_t val)
{
	uint16_t sig = flowtab_sig(h);
	uint32_t bi = flowtab_first(t, h);
	struct flowtab_bucket *b = &t->b[bi];

	for (unsigned m = flowtab_match(b, sig) & ~(unsigned)b->second; m != 0; m &= m - 1) {
		int s = __builtin_ctz(m);
		if (b->val[s] == val) {
			clear(b, s);
			t->entries--;
			return 0;
		}
	}
	if (b->spilled == 0)
		return -ENOENT;
	struct flowtab_bucket *o = &t->b[flowtab_other(t, bi, sig)];
	for (unsigned m = flowtab_match(o, sig) & o->second; m != 0; m &= m - 1) {
		int s = __builtin_ctz(m);
		if (o->val[s] == val) {
			clear(o, s);
			b->spilled--;
			t->entries--;
			return 0;
		}
	}
	return -ENOENT;
}
