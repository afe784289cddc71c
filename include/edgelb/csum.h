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

/* Fold a 32-bit sum to 16 bits with end-around carry. Adding the word to
 * itself rotated by 16 puts (high + low + the carry out of low + high) in
 * the upper half: the end-around sum, which cannot carry again. */
static inline uint16_t
csum_fold32(uint32_t sum)
{
	sum += sum >> 16 | sum << 16;
	return (uint16_t)(sum >> 16);
}

/**
 * Fold a sum of 32-bit words (each taken as it sits in the packet; at most
 * 2^32 of them) to 16 bits. A 32-bit word counts as its two 16-bit halves,
 * since 2^16 = 1 modulo 2^16 - 1, so NAT code can add whole addresses and
 * the two ports as one word.
 */
static inline uint16_t
csum_fold64(uint64_t sum)
{
	sum += sum >> 32 | sum << 32; /* as csum_fold32(), on 32-bit halves */
	return csum_fold32((uint32_t)(sum >> 32));
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

/**
 * One's-complement sum of the IPv6 pseudo-header (RFC 8200 section 8.1):
 * source and destination addresses, the 32-bit upper-layer length and the
 * next-header value. Not folded or inverted: add the upper-layer bytes with
 * csum_partial() and finish with ~csum_fold32().
 *
 * @param src, dst  16-byte addresses, any alignment
 * @param proto     upper-layer protocol (6, 17, 58)
 * @param len       upper-layer length in bytes (host order)
 */
static inline uint32_t
csum_ip6_pseudo(const void *src, const void *dst, uint8_t proto, uint32_t len)
{
	uint8_t tail[8] = {0};
	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = proto;
	uint32_t sum = csum_partial(src, 16, 0);
	sum = csum_partial(dst, 16, sum);
	return csum_partial(tail, 8, sum);
}

/**
 * Full upper-layer checksum of an IPv6 packet (TCP, UDP or ICMPv6; RFC 8200
 * section 8.1), computed over @p len bytes at @p l4 as they are: the
 * checksum field inside them must be zero. Returned as it is to be stored
 * (network order); a UDP result of 0 is returned as 0xffff, since a zero
 * UDP checksum is invalid over IPv6.
 *
 * @param src, dst  16-byte addresses of the IPv6 header (the final
 *                  destination when a routing header is present)
 * @param proto     upper-layer protocol
 * @param l4        first byte of the upper-layer header
 * @param len       upper-layer length in bytes
 */
static inline uint16_t
csum_ip6_l4(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, const uint8_t *l4,
	    uint32_t len)
{
	uint16_t c =
	    (uint16_t)~csum_fold32(csum_partial(l4, len, csum_ip6_pseudo(src, dst, proto, len)));
	return proto == 17 ? csum_udp_fix(c) : c;
}

#endif
