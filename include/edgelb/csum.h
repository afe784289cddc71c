/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Incremental Internet checksum update (RFC 1624, eqn. 3:
 * HC' = ~(~HC + ~m + m')), for NAT rewrites of addresses and ports.
 * All values are taken and returned exactly as they sit in the packet
 * (network byte order), so no byte swapping is needed.
 *
 * Thread safety: pure functions.
 */
#ifndef EDGELB_CSUM_H
#define EDGELB_CSUM_H

#include <stdint.h>

static inline uint16_t
csum_fold32(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** Checksum after one 16-bit word changed from @p old_w to @p new_w. */
static inline uint16_t
csum_update16(uint16_t csum, uint16_t old_w, uint16_t new_w)
{
	uint32_t sum = (uint16_t)~csum;
	sum += (uint16_t)~old_w;
	sum += new_w;
	return (uint16_t)~csum_fold32(sum);
}

/** Checksum after one 32-bit word (an IPv4 address) changed. */
static inline uint16_t
csum_update32(uint16_t csum, uint32_t old_w, uint32_t new_w)
{
	uint32_t sum = (uint16_t)~csum;
	sum += (uint16_t) ~(old_w & 0xffff);
	sum += (uint16_t) ~(old_w >> 16);
	sum += new_w & 0xffff;
	sum += new_w >> 16;
	return (uint16_t)~csum_fold32(sum);
}

/** Checksum after a 16-byte IPv6 address changed. The addresses may sit at
 *  any alignment (read bytewise, so no aliasing or alignment assumption). */
static inline uint16_t
csum_update128(uint16_t csum, const void *old_a, const void *new_a)
{
	const uint8_t *o = (const uint8_t *)old_a, *n = (const uint8_t *)new_a;
	uint32_t sum = (uint16_t)~csum;
	for (int i = 0; i < 16; i += 2) {
		uint16_t ow, nw;
		__builtin_memcpy(&ow, o + i, 2);
		__builtin_memcpy(&nw, n + i, 2);
		sum += (uint16_t)~ow;
		sum += nw;
	}
	return (uint16_t)~csum_fold32(sum);
}

/**
 * A UDP checksum as it must be written (RFC 768): a checksum that computes
 * to 0 is sent as 0xffff, because 0 in the field means "no checksum". Both
 * are zero in one's complement, so receivers accept either; only UDP gives 0
 * a meaning of its own.
 */
static inline uint16_t
csum_udp_fix(uint16_t c)
{
	return c == 0 ? 0xffff : c;
}

/*
 * Updates of a UDP checksum field. Over IPv4 a field of 0 means the sender
 * sent no checksum: it must stay 0 (there is nothing to update, and an
 * update would make up a wrong checksum), so callers of the plain
 * csum_update*() must skip a 0 UDP field themselves. csum_udp_update*() do
 * that, and write a result of 0 as 0xffff. Over IPv6 a 0 UDP checksum is invalid
 * (RFC 8200 section 8.1); the parser drops such packets before NAT.
 * Chaining several of them is safe: a step that computes 0 stores 0xffff,
 * which the next step still updates.
 */

/** csum_update16() for a UDP checksum field (see above). */
static inline uint16_t
csum_udp_update16(uint16_t csum, uint16_t old_w, uint16_t new_w)
{
	return csum == 0 ? 0 : csum_udp_fix(csum_update16(csum, old_w, new_w));
}

/** csum_update32() for a UDP checksum field (see above). */
static inline uint16_t
csum_udp_update32(uint16_t csum, uint32_t old_w, uint32_t new_w)
{
	return csum == 0 ? 0 : csum_udp_fix(csum_update32(csum, old_w, new_w));
}

/** csum_update128() for a UDP checksum field (see above). */
static inline uint16_t
csum_udp_update128(uint16_t csum, const void *old_a, const void *new_a)
{
	return csum == 0 ? 0 : csum_udp_fix(csum_update128(csum, old_a, new_a));
}

/** Full one's-complement sum of @p len bytes (no final inversion), for tests
 *  and for packets the worker builds itself. */
static inline uint32_t
csum_partial(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *p = (const uint8_t *)buf;
	while (len > 1) {
		uint16_t w;
		__builtin_memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		__builtin_memcpy(&w, p, 1);
		sum += w;
	}
	return sum;
}

#endif
