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
 * - How the next free slot of a permutation is found (never which one): taken
 *   slots are a bitmap and four candidates are tested per step; once few
 *   slots are left (about sqrt(M) / 2), each turn computes for every free
 *   slot how many steps the backend's permutation needs to reach it and
 *   takes the nearest, instead of walking M / free steps on average. The
 *   table is the one the plain walk fills.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/maglev.h"
#include "edgelb/types.h"

/* Two seeds of the backend hash: one for the offset, one for the skip. */
#define MAGLEV_SEED_OFFSET 0x6d61676c65763031ull
#define MAGLEV_SEED_SKIP   0x2f8a51c3e07b94d5ull

/* Largest prime below 2^32. */
#define MAGLEV_PRIME_MAX 4294967291ull

struct maglev_slot {
	const struct el_snap_backend *be;
	uint32_t idx;	/* index into the caller's backend array */
	uint32_t next;	/* next candidate slot of this backend's permutation */
	uint32_t skip;	/* permutation step, 1..m-1 */
	uint32_t skip2; /* 2, 3 and 4 steps at once, mod m */
	uint32_t skip3;
	uint32_t skip4;
	uint32_t inv; /* skip^-1 mod m: slot distance -> steps */
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

/* a * b mod m for a, b < m < 2^32, by Barrett reduction with
 * mu = floor(2^64 / m): no division in the loop. */
static inline uint32_t
maglev_mulmod(uint32_t a, uint32_t b, uint32_t m, uint64_t mu)
{
	uint64_t x = (uint64_t)a * b;
	uint64_t q = (uint64_t)(((unsigned __int128)x * mu) >> 64);
	uint64_t r = x - q * m;

	while (r >= m)
		r -= m;
	return (uint32_t)r;
}

/* Inverse of @p a modulo the prime @p m (extended Euclid); a in [1, m-1]. */
static uint32_t
maglev_inverse(uint32_t a, uint32_t m)
{
	int64_t t = 0, nt = 1, r = m, nr = a;

	while (nr != 0) {
		int64_t q = r / nr, x;

		x = t - q * nt;
		t = nt;
		nt = x;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return (uint32_t)(t < 0 ? t + m : t);
}

static inline bool
maglev_taken(const uint64_t *occ, uint32_t c)
{
	return (occ[c >> 6] >> (c & 63)) & 1;
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

/*
 * Free slots left when the fill switches from probing to enumerating. With f
 * slots free a probe succeeds with probability f/m, so taking a slot costs
 * m/f probes; enumerating costs f distance computations. The two meet near
 * f = sqrt(m) (the constants favour a bit less).
 */
static uint32_t
maglev_tail_size(uint32_t m)
{
	uint32_t t = 1;

	while ((uint64_t)t * t < m)
		t++;
	t /= 2;
	return t < 8 ? 8 : t > 4096 ? 4096 : t;
}

/*
 * The enumerating phase: the f slots still free are listed, and each turn
 * takes the free slot the backend's permutation reaches first, found by the
 * number of steps from its next candidate to each free slot:
 * ((slot - next) mod m) * skip^-1 mod m. Same choice as probing, in O(f).
 */
static void
maglev_fill_tail(struct maglev_slot *s, uint32_t n, uint32_t first, uint16_t *table, uint32_t m,
		 uint64_t *occ, uint32_t *freel)
{
	uint64_t mu = UINT64_MAX / m;
	uint32_t nfree = 0;

	for (uint32_t w = 0; w < (m + 63) / 64; w++) {
		uint64_t bits = ~occ[w];

		while (bits != 0) {
			uint32_t c = w * 64 + (uint32_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (c < m)
				freel[nfree++] = c;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		s[i].inv = maglev_inverse(s[i].skip, m);
	for (uint32_t i = first; nfree > 0; i = i + 1 == n ? 0 : i + 1) {
		struct maglev_slot *b = &s[i];
		uint32_t best = 0, best_d = UINT32_MAX;

		for (uint32_t k = 0; k < nfree; k++) {
			uint32_t delta = freel[k] >= b->next ? freel[k] - b->next
							     : freel[k] + (m - b->next);
			uint32_t d = maglev_mulmod(delta, b->inv, m, mu);

			if (d < best_d) {
				best_d = d;
				best = k;
			}
		}
		uint32_t c = freel[best];

		freel[best] = freel[--nfree];
		table[c] = (uint16_t)b->idx;
		b->next = maglev_step(c, b->skip, m);
	}
}

int
maglev_build(const struct el_snap_backend *bes, uint32_t n, uint16_t *table, uint32_t m)
{
	struct maglev_slot *s;
	uint64_t *occ;
	uint32_t *freel;
	uint32_t filled = 0, tail, i = 0;

	if (bes == NULL || table == NULL || n == 0 || n > MAGLEV_MAX_BACKENDS || m < n ||
	    !maglev_is_prime(m))
		return -EINVAL;
	for (uint32_t k = 0; k < n; k++)
		if (bes[k].ip.family != EL_AF_INET && bes[k].ip.family != EL_AF_INET6)
			return -EINVAL;

	tail = maglev_tail_size(m);
	s = malloc(sizeof(*s) * n);
	occ = calloc(((size_t)m + 63) / 64, sizeof(*occ));
	freel = malloc(sizeof(*freel) * tail);
	if (s == NULL || occ == NULL || freel == NULL) {
		free(s);
		free(occ);
		free(freel);
		return -ENOMEM;
	}

	for (uint32_t k = 0; k < n; k++) {
		uint8_t key[1 + 16 + 2];
		size_t len = maglev_key(&bes[k], key);

		s[k].be = &bes[k];
		s[k].idx = k;
		s[k].next = (uint32_t)(maglev_hash(key, len, MAGLEV_SEED_OFFSET) % m);
		/* m == 2 (one backend) leaves skip 1, which is still a full
		 * permutation. */
		s[k].skip = (uint32_t)(maglev_hash(key, len, MAGLEV_SEED_SKIP) % (m - 1)) + 1;
		s[k].skip2 = maglev_step(s[k].skip, s[k].skip, m);
		s[k].skip3 = maglev_step(s[k].skip2, s[k].skip, m);
		s[k].skip4 = maglev_step(s[k].skip3, s[k].skip, m);
	}
	qsort(s, n, sizeof(*s), maglev_slot_cmp);

	/*
	 * The probing phase, while free slots are plentiful: each backend in
	 * turn walks its permutation to the next free slot. Taken slots are a
	 * bitmap (m bits: in L1 at the default size) and four candidates are
	 * tested per step, so their loads overlap.
	 */
	for (const uint32_t stop = m - tail; filled < stop; filled++) {
		struct maglev_slot *b = &s[i];
		uint32_t c = b->next;
		const uint32_t sk = b->skip, sk2 = b->skip2, sk3 = b->skip3, sk4 = b->skip4;

		for (;;) {
			uint32_t cand[4] = {c, maglev_step(c, sk, m), maglev_step(c, sk2, m),
					    maglev_step(c, sk3, m)};
			unsigned t = (unsigned)maglev_taken(occ, cand[0]) |
				     (unsigned)maglev_taken(occ, cand[1]) << 1 |
				     (unsigned)maglev_taken(occ, cand[2]) << 2 |
				     (unsigned)maglev_taken(occ, cand[3]) << 3;

			if (t != 15) {
				c = cand[__builtin_ctz(~t)];
				break;
			}
			c = maglev_step(c, sk4, m);
		}
		occ[c >> 6] |= 1ull << (c & 63);
		table[c] = (uint16_t)b->idx;
		b->next = maglev_step(c, sk, m);
		i = i + 1 == n ? 0 : i + 1;
	}
	maglev_fill_tail(s, n, i, table, m, occ, freel);

	free(s);
	free(occ);
	free(freel);
	return 0;
}
