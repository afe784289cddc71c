/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unaligned reads and writes of packet fields, shared by the dataplane
 * modules that parse or rewrite headers (pkt, icmp, worker).
 *
 * Two kinds:
 *  - bytes_rd16/rd32, bytes_wr16/wr32: the value as it sits in the packet
 *    (network order in, network order out; no swap);
 *  - bytes_rd16be, bytes_put_be16/be32: host-order values, converted to or
 *    from big-endian (network) byte order.
 * All go through memcpy or single bytes, so @p p needs no alignment.
 *
 * Thread safety: pure functions, any thread.
 */
#ifndef EDGELB_BYTES_H
#define EDGELB_BYTES_H

#include <stdint.h>

/**
 * @param p  two readable bytes
 * @return   them in memory order (a network-order value stays network order)
 */
static inline uint16_t
bytes_rd16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}

/**
 * @param p  four readable bytes
 * @return   them in memory order (a network-order value stays network order)
 */
static inline uint32_t
bytes_rd32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}

/**
 * @param p  eight readable bytes
 * @return   them in memory order
 */
static inline uint64_t
bytes_rd64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

/**
 * Store @p v at @p p in memory order.
 * @param p  two writable bytes
 * @param v  the value as it should sit in the packet
 */
static inline void
bytes_wr16(uint8_t *p, uint16_t v)
{
	__builtin_memcpy(p, &v, 2);
}

/**
 * Store @p v at @p p in memory order.
 * @param p  four writable bytes
 * @param v  the value as it should sit in the packet
 */
static inline void
bytes_wr32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
}

/**
 * @param p  two readable bytes holding a big-endian value
 * @return   the value in host order
 */
static inline uint16_t
bytes_rd16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/**
 * Store a host-order value big-endian.
 * @param p  two writable bytes
 * @param v  the value in host order
 */
static inline void
bytes_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/**
 * Store a host-order value big-endian.
 * @param p  four writable bytes
 * @param v  the value in host order
 */
static inline void
bytes_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
