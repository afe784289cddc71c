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
	sum += (uint16_t)~(old_w & 0xffff);
	sum += (uint16_t)~(old_w >> 16);
	sum += new_w & 0xffff;
	sum += new_w >> 16;
	return (uint16_t)~csum_fold32(sum);
}

/** Checksum after a 16-byte IPv6 address changed. */
static inline uint16_t
csum_update128(uint16_t csum, const void *old_a, const void *new_a)
{
	const uint16_t *o = (const uint16_t *)old_a, *n = (const uint16_t *)new_a;
	uint32_t sum = (uint16_t)~csum;
	for (int i = 0; i < 8; i++) {
		sum += (uint16_t)~o[i];
		sum += n[i];
	}
	return (uint16_t)~csum_fold32(sum);
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
