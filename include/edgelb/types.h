/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Address types shared by control and dataplane, for both IP families.
 * Addresses are stored in network byte order. Plain C, no EAL.
 *
 * Thread safety: all functions are pure and may be called from any thread.
 */
#ifndef EDGELB_TYPES_H
#define EDGELB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_AF_NONE  0
#define EL_AF_INET  4
#define EL_AF_INET6 6

/** An IPv4 or IPv6 address; family EL_AF_NONE means "unset". */
struct el_ip {
	uint8_t family;
	uint8_t pad[3];
	union {
		uint32_t v4; /**< network byte order */
		uint8_t v6[16];
	};
};

/** A prefix: address and length. */
struct el_cidr {
	struct el_ip addr;
	uint8_t len;
};

#define EL_IP_STRLEN 46 /* INET6_ADDRSTRLEN */

/**
 * Parse a textual IPv4 or IPv6 address (no prefix, no brackets).
 * @return 0, or -EINVAL
 */
int el_ip_parse(const char *s, struct el_ip *ip);

/**
 * Parse "ADDR/LEN" (LEN optional: full length). Host bits may be set (an
 * interface address); use el_cidr_network() for the network.
 * @return 0, or -EINVAL
 */
int el_cidr_parse(const char *s, struct el_cidr *c);

/**
 * The network of a prefix: @p c with every bit past the prefix length cleared
 * ("198.18.0.1/24" gives "198.18.0.0/24").
 * @param c    a prefix (a length beyond the family's width counts as full)
 * @param net  receives the network; may be @p c itself
 */
void el_cidr_network(const struct el_cidr *c, struct el_cidr *net);

/** Write @p ip as text into @p buf (at least EL_IP_STRLEN bytes); returns buf. */
const char *el_ip_fmt(const struct el_ip *ip, char *buf, size_t len);

/** True when both are the same family and address. */
bool el_ip_eq(const struct el_ip *a, const struct el_ip *b);

/** True when @p ip is inside the prefix @p c (same family). */
bool el_cidr_contains(const struct el_cidr *c, const struct el_ip *ip);

/** Compare for sorting: family first, then address bytes. */
int el_ip_cmp(const struct el_ip *a, const struct el_ip *b);

/** Make an IPv4 el_ip from a network-order uint32_t. */
static inline struct el_ip
el_ip4(uint32_t be_addr)
{
	struct el_ip ip = {.family = EL_AF_INET};
	ip.v4 = be_addr;
	return ip;
}

#endif
