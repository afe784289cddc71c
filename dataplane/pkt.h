/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Parsing and validation of received frames, before the worker trusts any
 * field: Ethernet (IEEE 802.3), IPv4 (RFC 791, header checksum RFC 1071),
 * TCP (RFC 9293), UDP (RFC 768) and ICMP (RFC 792) headers.
 *
 * Works on a plain (pointer, length) view of contiguous bytes, so unit tests
 * call it without EAL or mbufs.
 *
 * Checks of pkt_ip4_parse(), in order, and the drop reason of each:
 *  - frame shorter than Ethernet + 20 bytes               EL_DROP_TRUNCATED
 *  - IP version not 4                                     EL_DROP_BAD_VERSION
 *  - IHL < 5                                              EL_DROP_BAD_IHL
 *  - IHL * 4 beyond the frame                             EL_DROP_TRUNCATED
 *  - total length < IHL * 4                               EL_DROP_BAD_LENGTH
 *  - total length beyond the frame (cut short)            EL_DROP_TRUNCATED
 *  - header checksum wrong                                EL_DROP_BAD_CSUM
 *  - MF set or fragment offset != 0                       EL_DROP_FRAGMENT
 *    (edgelb does not reassemble)
 *  - options malformed, or a source route (LSRR, SSRR)    EL_DROP_IP_OPTIONS
 *  - TCP: fewer than 20 bytes, data offset < 5 or beyond
 *    the total length; UDP: fewer than 8 bytes, length
 *    field < 8 or beyond the total length; ICMP: fewer
 *    than 8 bytes                                         EL_DROP_BAD_L4
 *  - TCP flags never valid (tcp_flags_invalid())          EL_DROP_BAD_TCP_FLAGS
 * Bytes after the IPv4 total length (Ethernet padding) are allowed; the
 * caller trims them. Other IP protocols are accepted without L4 checks.
 * L4 checksums are not verified (see worker.c).
 *
 * Thread safety: pure functions, any thread.
 */
#ifndef EDGELB_PKT_H
#define EDGELB_PKT_H

#include <errno.h>
#include <stdint.h>

#include "edgelb/csum.h"
#include "edgelb/tcp_state.h"
#include "edgelb/worker.h"

#include "bytes.h"

#define PKT_ETH_LEN	   14
#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP  0x0806
#define PKT_ETHERTYPE_IPV6 0x86dd
#define PKT_IP4_MIN_LEN	   20
#define PKT_TCP_MIN_LEN	   20
#define PKT_UDP_LEN	   8
#define PKT_ICMP_LEN	   8

#define PKT_IPPROTO_ICMP 1
#define PKT_IPPROTO_TCP	 6
#define PKT_IPPROTO_UDP	 17

#define PKT_ICMP_ECHO_REPLY    0
#define PKT_ICMP_DEST_UNREACH  3
#define PKT_ICMP_ECHO_REQUEST  8
#define PKT_ICMP_TIME_EXCEEDED 11

/** IPv4 option types that matter here (RFC 791 section 3.1). */
#define PKT_IPOPT_EOL  0x00
#define PKT_IPOPT_NOP  0x01
#define PKT_IPOPT_LSRR 0x83
#define PKT_IPOPT_SSRR 0x89

/** What the worker needs of a valid IPv4 packet. Offsets count from the
 *  start of the IPv4 header; addresses and ports stay in network order. */
struct pkt_ip4 {
	uint32_t src;
	uint32_t dst;
	uint16_t sport;	  /**< TCP/UDP source port; 0 otherwise */
	uint16_t dport;	  /**< TCP/UDP destination port; 0 otherwise */
	uint16_t l3_len;  /**< IHL * 4 */
	uint16_t tot_len; /**< IPv4 total length */
	uint16_t l4_len;  /**< tot_len - l3_len */
	uint16_t l4_hlen; /**< TCP data offset * 4, UDP 8, ICMP 8, else 0 */
	uint8_t proto;
	uint8_t ttl;
	uint8_t tcp_flags;  /**< TCP flags byte masked to FIN..URG */
	uint8_t icmp_type;  /**< ICMP only */
	uint8_t icmp_code;  /**< ICMP only */
	uint8_t first_frag; /**< quoted headers only: 1 when ports are present */
	uint16_t pad;
};

/**
 * EtherType of a frame (host order), or 0 when shorter than an Ethernet
 * header. VLAN tags are not looked into (0x8100 is returned as is).
 */
static inline uint16_t
pkt_eth_type(const uint8_t *frame, uint32_t len)
{
	if (len < PKT_ETH_LEN)
		return 0;
	return (uint16_t)(frame[12] << 8 | frame[13]);
}

/**
 * Validate an Ethernet + IPv4 frame and extract its fields.
 *
 * @param frame  first byte of the Ethernet header
 * @param len    bytes available from @p frame
 * @param out    filled on success (partly filled on failure)
 * @param reason set to the drop reason on failure (see the file comment)
 * @return 0 when the packet is valid, -EBADMSG when it must be dropped
 */
int pkt_ip4_parse(const uint8_t *frame, uint32_t len, struct pkt_ip4 *out, enum el_drop *reason);

/**
 * Parse the IPv4 header quoted in an ICMP error (RFC 792: the header plus at
 * least the first 8 bytes of its payload). The quoted total length may
 * exceed the quote; the checksum is not checked (the caller recomputes it).
 *
 * @param ip   first byte of the quoted IPv4 header
 * @param len  bytes of the quote
 * @param out  filled on success; first_frag is 0 for a non-first fragment,
 *             whose ports are then 0
 * @param reason EL_DROP_TRUNCATED (less than 20 bytes, or less than IHL * 4
 *             + 8), EL_DROP_BAD_L4 (version not 4, IHL < 5)
 * @return 0, or -EBADMSG
 */
int pkt_ip4_quote_parse(const uint8_t *ip, uint32_t len, struct pkt_ip4 *out, enum el_drop *reason);

/**
 * Check an IPv4 option list (the bytes between the 20-byte header and IHL*4).
 * @return 0 when well formed and free of source-route options; -EINVAL when
 *         malformed; -EPERM when it holds LSRR or SSRR
 */
int pkt_ip4_options_check(const uint8_t *opt, uint32_t len);

/**
 * One's-complement sum of an IPv4 header of @p l3_len bytes (a multiple of
 * 4), folded to 16 bits: 0xffff for a header whose checksum is right.
 */
static inline uint16_t
pkt_ip4_hdr_sum(const uint8_t *ip, uint32_t l3_len)
{
	uint64_t sum = 0;
	uint32_t i = 0;
	if (__builtin_expect(l3_len >= 20, 1)) {
		/* the 20 bytes every header has, as two 8-byte and one 4-byte
		 * word: no loop for the usual header without options */
		uint64_t a, b;
		uint32_t c;
		__builtin_memcpy(&a, ip, 8);
		__builtin_memcpy(&b, ip + 8, 8);
		__builtin_memcpy(&c, ip + 16, 4);
		/* 64-bit one's-complement additions: a carry out comes back in */
		sum = a + b;
		sum += sum < b;
		sum += c;
		sum += sum < c;
		i = 20;
	}
	for (; i < l3_len; i += 4) {
		uint32_t w;
		__builtin_memcpy(&w, ip + i, 4);
		sum += w;
		sum += sum < w;
	}
	return csum_fold64(sum);
}

/**
 * Compute and store the header checksum of an IPv4 header (bytes 10-11).
 */
static inline void
pkt_ip4_set_csum(uint8_t *ip, uint32_t l3_len)
{
	ip[10] = 0;
	ip[11] = 0;
	uint16_t c = (uint16_t)~pkt_ip4_hdr_sum(ip, l3_len);
	__builtin_memcpy(ip + 10, &c, 2);
}

/* ---- inline parsing (pkt_ip4_parse() is the same, out of line) ---- */

static inline int
pkt_fail(enum el_drop *reason, enum el_drop r)
{
	*reason = r;
	return -EBADMSG;
}

/* L4 checks of a received packet; @l4 has l4_len bytes. */
static inline int
pkt_parse_l4(const uint8_t *l4, struct pkt_ip4 *o, enum el_drop *reason)
{
	switch (o->proto) {
	case PKT_IPPROTO_TCP: {
		if (o->l4_len < PKT_TCP_MIN_LEN)
			return pkt_fail(reason, EL_DROP_BAD_L4);
		uint16_t doff = (uint16_t)((l4[12] >> 4) * 4);
		if (doff < PKT_TCP_MIN_LEN || doff > o->l4_len)
			return pkt_fail(reason, EL_DROP_BAD_L4);
		o->sport = bytes_rd16(l4);
		o->dport = bytes_rd16(l4 + 2);
		o->l4_hlen = doff;
		o->tcp_flags = l4[13] & 0x3f;
		/* ACK without SYN, FIN or RST (nearly every segment) is valid */
		if ((o->tcp_flags & (EL_TCP_ACK | EL_TCP_SYN | EL_TCP_FIN | EL_TCP_RST)) !=
			EL_TCP_ACK &&
		    tcp_flags_invalid(o->tcp_flags))
			return pkt_fail(reason, EL_DROP_BAD_TCP_FLAGS);
		return 0;
	}
	case PKT_IPPROTO_UDP: {
		if (o->l4_len < PKT_UDP_LEN)
			return pkt_fail(reason, EL_DROP_BAD_L4);
		uint16_t ulen = bytes_rd16be(l4 + 4);
		if (ulen < PKT_UDP_LEN || ulen > o->l4_len)
			return pkt_fail(reason, EL_DROP_BAD_L4);
		o->sport = bytes_rd16(l4);
		o->dport = bytes_rd16(l4 + 2);
		o->l4_hlen = PKT_UDP_LEN;
		return 0;
	}
	case PKT_IPPROTO_ICMP:
		if (o->l4_len < PKT_ICMP_LEN)
			return pkt_fail(reason, EL_DROP_BAD_L4);
		o->icmp_type = l4[0];
		o->icmp_code = l4[1];
		o->l4_hlen = PKT_ICMP_LEN;
		return 0;
	default:
		return 0;
	}
}

/* The checks of pkt_ip4_parse() after version and IHL, for a header of
 * @p l3_len bytes (<= @p avail, the bytes from @p ip on). Inlined with the
 * constant 20 for the usual header, it loses the option walk and the loop
 * of the header sum. */
static inline __attribute__((always_inline)) int
pkt_ip4_parse_rest(const uint8_t *ip, uint32_t avail, uint32_t l3_len, struct pkt_ip4 *o,
		   enum el_drop *reason)
{
	uint32_t tot_len = bytes_rd16be(ip + 2);
	if (tot_len < l3_len)
		return pkt_fail(reason, EL_DROP_BAD_LENGTH);
	if (tot_len > avail)
		return pkt_fail(reason, EL_DROP_TRUNCATED);
	if (__builtin_expect(pkt_ip4_hdr_sum(ip, l3_len) != 0xffff, 0))
		return pkt_fail(reason, EL_DROP_BAD_CSUM);
	/* MF bit or a fragment offset: bits 0x3fff of the flags/offset word */
	if (__builtin_expect((bytes_rd16be(ip + 6) & 0x3fff) != 0, 0))
		return pkt_fail(reason, EL_DROP_FRAGMENT);
	if (__builtin_expect(l3_len > PKT_IP4_MIN_LEN, 0) &&
	    pkt_ip4_options_check(ip + PKT_IP4_MIN_LEN, l3_len - PKT_IP4_MIN_LEN) != 0)
		return pkt_fail(reason, EL_DROP_IP_OPTIONS);

	o->src = bytes_rd32(ip + 12);
	o->dst = bytes_rd32(ip + 16);
	o->sport = 0;
	o->dport = 0;
	o->l3_len = (uint16_t)l3_len;
	o->tot_len = (uint16_t)tot_len;
	o->l4_len = (uint16_t)(tot_len - l3_len);
	o->l4_hlen = 0;
	o->proto = ip[9];
	o->ttl = ip[8];
	o->tcp_flags = 0;
	o->icmp_type = 0;
	o->icmp_code = 0;
	o->first_frag = 1;
	o->pad = 0;
	return pkt_parse_l4(ip + l3_len, o, reason);
}

/**
 * pkt_ip4_parse(), inlined into the caller (the worker's per-packet loop).
 * Same parameters, checks and result.
 */
static inline __attribute__((always_inline)) int
pkt_ip4_parse_inline(const uint8_t *frame, uint32_t len, struct pkt_ip4 *o, enum el_drop *reason)
{
	if (len < PKT_ETH_LEN + PKT_IP4_MIN_LEN)
		return pkt_fail(reason, EL_DROP_TRUNCATED);

	const uint8_t *ip = frame + PKT_ETH_LEN;
	uint32_t avail = len - PKT_ETH_LEN;
	uint8_t vhl = ip[0];

	/* version 4, IHL 5: nearly every packet; its 20 bytes are there */
	if (__builtin_expect(vhl == 0x45, 1))
		return pkt_ip4_parse_rest(ip, avail, PKT_IP4_MIN_LEN, o, reason);
	if ((vhl >> 4) != 4)
		return pkt_fail(reason, EL_DROP_BAD_VERSION);
	uint32_t l3_len = (uint32_t)(vhl & 0xf) * 4;
	if (l3_len < PKT_IP4_MIN_LEN)
		return pkt_fail(reason, EL_DROP_BAD_IHL);
	if (l3_len > avail)
		return pkt_fail(reason, EL_DROP_TRUNCATED);
	return pkt_ip4_parse_rest(ip, avail, l3_len, o, reason);
}

#endif
