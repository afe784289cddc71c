/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maglev lookup table builder (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016, section 3.4, Pseudocode 1).
 *
 * Every backend owns a permutation of the M table slots, given by an offset
 * and a skip: slot(j) = (offset + j * skip) mod M. The fill visits the
 * backends round robin; each takes the next slot of its permutation that is
 * still free, until all M slots are taken. M prime makes every skip in
 * [1, M-1] coprime to M, so every permutation covers the whole table. Each
 * backend ends up with floor(M/N) or ceil(M/N) slots, and removing one
 * backend moves few slots of the others.
 *
 * Departures from the paper:
 * - The paper hashes a backend's name. A backend here is its address family,
 *   address and port; offset and skip come from two seeds of one 64-bit hash
 *   of those bytes, read in a fixed byte order, so every host builds the same
 *   table whatever its endianness.
 * - The paper fills in the order backends are given. The order decides which
 *   backend wins a contested slot, so two hosts listing the same endpoints in a
 *   different order would build different tables. We fill in (address, port)
 *   order instead; equal (address, port) pairs (allowed) keep their listing
 *   order, and since they hash alike, the table is still the same once
 *   indices are mapped back to (address, port).
 * - The paper precomputes the whole permutation matrix (N x M entries). We
 *   keep only each backend's next candidate slot and step it by skip, which
 *   yields the same sequence with O(N) memory.
 * - No weights: every backend gets one turn per round.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/maglev.h"
#include "edgelb/types.h"

/* Table entries are uint16_t indices; n <= MAGLEV_MAX_BACKENDS keeps this
 * value free to mark an empty slot while filling. */
#define MAGLEV_EMPTY 0xffffu

/* Two seeds of the backend hash: one for the offset, one for the skip. */
#define MAGLEV_SEED_OFFSET 0x6d61676c65763031ull
#define MAGLEV_SEED_SKIP   0x2f8a51c3e07b94d5ull

/* Largest prime below 2^32. */
#define MAGLEV_PRIME_MAX 4294967291ull

struct maglev_slot {
	const struct el_snap_backend *be;
	uint32_t idx;  /* index into the caller's backend array */
	uint32_t next; /* next candidate slot of this backend's permutation */
	uint32_t skip; /* permutation step, 1..m-1 */
};

int
maglev_is_prime(uint32_t m)
{
	if (m < 2)
		return 0;
	if (m < 4)
		return 1;
	if (m % 2 == 0 || m % 3 == 0)
		return 0;
	/* Remaining candidate divisors are 6k - 1 and 6k + 1. */
	for (uint64_t d = 5; d * d <= m; d += 6)
		if (m % d == 0 || m % (d + 2) == 0)
			return 0;
	return 1;
}

uint32_t
maglev_table_size(uint32_t n_backends, uint32_t min_size)
{
	uint64_t want = (uint64_t)n_backends * 100;

	if (want < min_size)
		want = min_size;
	if (want > MAGLEV_PRIME_MAX)
		return 0;
	while (!maglev_is_prime((uint32_t)want))
		want++;
	return (uint32_t)want;
}

/* A bijective 64-bit finaliser (multiply-xorshift, the SplitMix64 output
 * function constants): every input bit affects every output bit. */
static uint64_t
maglev_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Hash @p len bytes with @p seed. Bytes are packed little-endian into 64-bit
 * words explicitly, so the result does not depend on the host. */
static uint64_t
maglev_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	uint64_t h = maglev_mix(seed ^ (len * 0x9e3779b97f4a7c15ull));

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		for (size_t j = 0; j < 8 && i + j < len; j++)
			w |= (uint64_t)key[i + j] << (8 * j);
		h = maglev_mix((h ^ w) + 0x9e3779b97f4a7c15ull);
	}
	return h;
}

/* Key bytes of a backend: family, address, port as on the wire. */
static size_t
maglev_key(const struct el_snap_backend *be, uint8_t key[1 + 16 + 2])
{
	size_t len = 0;

	key[len++] = be->ip.family;
	if (be->ip.family == EL_AF_INET) {
		memcpy(key + len, &be->ip.v4, 4);
		len += 4;
	} else {
		memcpy(key + len, be->ip.v6, 16);
		len += 16;
	}
	memcpy(key + len, &be->port, 2); /* network order in memory = wire order */
	len += 2;
	return len;
}

/* (c + skip) mod m for c, skip < m, without 32-bit overflow. */
static inline uint32_t
maglev_step(uint32_t c, uint32_t skip, uint32_t m)
{
	uint64_t x = (uint64_t)c + skip;

	return (uint32_t)(x >= m ? x - m : x);
}

int
maglev_permutation(const struct el_snap_backend *be, uint32_t m, uint32_t *offset, uint32_t *skip)
{
	uint8_t key[1 + 16 + 2];
	size_t len;

	if (be == NULL || offset == NULL || skip == NULL || !maglev_is_prime(m) ||
	    (be->ip.family != EL_AF_INET && be->ip.family != EL_AF_INET6))
		return -EINVAL;
	len = maglev_key(be, key);
	*offset = (uint32_t)(maglev_hash(key, len, MAGLEV_SEED_OFFSET) % m);
	/* m == 2 (one backend) leaves skip 1, which is still a full
	 * permutation. */
	*skip = (uint32_t)(maglev_hash(key, len, MAGLEV_SEED_SKIP) % (m - 1)) + 1;
	return 0;
}

static int
maglev_slot_cmp(const void *pa, const void *pb)
{
	const struct maglev_slot *a = pa, *b = pb;
	int c = el_ip_cmp(&a->be->ip, &b->be->ip);

	if (c != 0)
		return c;
	c = memcmp(&a->be->port, &b->be->port, 2);
	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int
maglev_build(const struct el_snap_backend *bes, uint32_t n, uint16_t *table, uint32_t m)
{
	struct maglev_slot *s;
	uint32_t filled = 0;

	if (bes == NULL || table == NULL || n == 0 || n > MAGLEV_MAX_BACKENDS || m < n ||
	    !maglev_is_prime(m))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		if (bes[i].ip.family != EL_AF_INET && bes[i].ip.family != EL_AF_INET6)
			return -EINVAL;

	s = malloc(sizeof(*s) * n);
	if (s == NULL)
		return -ENOMEM;

	for (uint32_t i = 0; i < n; i++) {
		s[i].be = &bes[i];
		s[i].idx = i;
		(void)maglev_permutation(&bes[i], m, &s[i].next, &s[i].skip);
	}
	qsort(s, n, sizeof(*s), maglev_slot_cmp);

	for (uint32_t j = 0; j < m; j++)
		table[j] = MAGLEV_EMPTY;

	for (;;) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t c = s[i].next;

			/* Terminates: the permutation visits every slot and at
			 * least one slot is free while filled < m. */
			while (table[c] != MAGLEV_EMPTY)
				c = maglev_step(c, s[i].skip, m);
			table[c] = (uint16_t)s[i].idx;
			s[i].next = maglev_step(c, s[i].skip, m);
			if (++filled == m)
				goto done;
		}
	}
done:
	free(s);
	return 0;
}
