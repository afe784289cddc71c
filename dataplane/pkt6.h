/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Parsing and validation of received IPv6 frames (RFC 8200) before the
 * worker trusts any field: the fixed header, the chain of extension headers,
 * the addresses, and the fixed parts of TCP (RFC 9293), UDP (RFC 768) and
 * ICMPv6 (RFC 4443) headers. Also the parser of the IPv6 packet an ICMPv6
 * error quotes.
 *
 * Works on a plain (pointer, length) view of contiguous bytes, so unit tests
 * call it without EAL or mbufs.
 *
 * Checks of pkt_ip6_parse(), in order, and the drop reason of each:
 *  - frame shorter than Ethernet + 40 bytes               EL_DROP_TRUNCATED
 *  - IP version not 6                                     EL_DROP_BAD_VERSION
 *  - 40 + payload length beyond the frame (cut short)     EL_DROP_TRUNCATED
 *  - extension headers, walked while the next header is
 *    hop-by-hop (0), routing (43), fragment (44) or
 *    destination options (60):
 *    - a header that does not fit in the payload          EL_DROP_BAD_EXT_HDR
 *    - hop-by-hop anywhere but first (RFC 8200 4.1)       EL_DROP_BAD_EXT_HDR
 *    - an option (hop-by-hop, destination) whose length
 *      runs past its header                               EL_DROP_BAD_EXT_HDR
 *    - more than PKT_IP6_MAX_EXT headers                  EL_DROP_BAD_EXT_HDR
 *    - routing header with segments left != 0 (a source
 *      route, as IPv4 LSRR/SSRR)                          EL_DROP_IP_OPTIONS
 *    - fragment header with an offset or the M flag       EL_DROP_FRAGMENT
 *      (edgelb does not reassemble). An atomic fragment
 *      (offset 0, M clear) is a whole packet: its header is
 *      skipped like any other (RFC 6946 section 4).
 *    Any other next header ends the chain: it is the upper-layer protocol
 *    (No Next Header, 59, included; AH, ESP and the rest are "other
 *    protocols", as in IPv4). Option contents are not acted upon; the
 *    headers are forwarded unchanged.
 *  - TCP: fewer than 20 bytes, data offset < 5 or beyond
 *    the payload; UDP: fewer than 8 bytes, length field
 *    < 8 or beyond the payload; ICMPv6: fewer than 8
 *    bytes                                                EL_DROP_BAD_L4
 *  - TCP flags never valid (tcp_flags_invalid())          EL_DROP_BAD_TCP_FLAGS
 *  - UDP checksum 0 (invalid over IPv6, RFC 8200 8.1)     EL_DROP_BAD_CSUM
 *  - addresses no edge host should see (martians):        EL_DROP_MARTIAN
 *    source multicast (ff00::/8), loopback (::1) or
 *    IPv4-mapped (::ffff:0:0/96); destination unspecified
 *    (::), loopback or IPv4-mapped; source unspecified
 *    (::) except on a Neighbor Solicitation (duplicate
 *    address detection, RFC 4862 section 5.4)
 * Bytes after 40 + payload length (Ethernet padding) are allowed; the
 * caller trims them. L4 checksums are not verified (see worker.c), apart
 * from the zero UDP checksum above. A payload length of 0 with a hop-by-hop
 * Jumbo Payload option (RFC 2675) is not supported: the upper layer is then
 * empty and fails its checks.
 *
 * Thread safety: pure functions, any thread.
 */
#ifndef EDGELB_PKT6_H
#define EDGELB_PKT6_H

#include <stdbool.h>
#include <stdint.h>

#include "edgelb/worker.h"

#include "pkt.h" /* Ethernet, TCP, UDP constants shared with IPv4 */

#define PKT_IP6_HDR_LEN 40
#define PKT_IP6_MAX_EXT 8 /**< extension headers walked at most */

/* Next-header values (IANA "Assigned Internet Protocol Numbers"). */
#define PKT_IPPROTO_HOPOPTS  0
#define PKT_IPPROTO_ROUTING  43
#define PKT_IPPROTO_FRAGMENT 44
#define PKT_IPPROTO_ICMPV6   58
#define PKT_IPPROTO_NONE     59
#define PKT_IPPROTO_DSTOPTS  60

/* ICMPv6 types (RFC 4443, RFC 4861). */
#define PKT_ICMP6_DEST_UNREACH	1
#define PKT_ICMP6_PKT_TOO_BIG	2
#define PKT_ICMP6_TIME_EXCEEDED 3
#define PKT_ICMP6_PARAM_PROBLEM 4
#define PKT_ICMP6_ECHO_REQUEST	128
#define PKT_ICMP6_ECHO_REPLY	129
#define PKT_ICMP6_NEIGH_SOLICIT 135
#define PKT_ICMP6_NEIGH_ADVERT	136
#define PKT_ICMP6_HDR_LEN	8 /**< type, code, checksum, 4 bytes of body */

/** What the worker needs of a valid IPv6 packet. Offsets count from the
 *  start of the IPv6 header; addresses and ports stay in network order. */
struct pkt_ip6 {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;	    /**< TCP/UDP source port; 0 otherwise */
	uint16_t dport;	    /**< TCP/UDP destination port; 0 otherwise */
	uint16_t l3_len;    /**< 40 + extension headers: offset of the upper layer */
	uint16_t tot_len;   /**< 40 + payload length */
	uint16_t l4_len;    /**< tot_len - l3_len (quotes: what the quote holds) */
	uint16_t l4_hlen;   /**< TCP data offset * 4, UDP 8, ICMPv6 8, else 0 */
	uint8_t proto;	    /**< upper-layer protocol, after the extension headers */
	uint8_t hlim;	    /**< hop limit */
	uint8_t tcp_flags;  /**< TCP flags byte masked to FIN..URG */
	uint8_t icmp_type;  /**< ICMPv6 only */
	uint8_t icmp_code;  /**< ICMPv6 only */
	uint8_t n_ext;	    /**< extension headers walked */
	uint8_t first_frag; /**< quotes only: 1 when the ports are present */
	uint8_t pad;
};

/** True for a multicast address (ff00::/8). */
static inline bool
pkt_ip6_is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

/* The 16 bytes of an address as two words in memory order, and the
 * memory-order word of 8 given bytes (the tests below compare whole words
 * instead of looping over bytes). */
static inline void
pkt_ip6_words(const uint8_t a[16], uint64_t w[2])
{
	__builtin_memcpy(w, a, 16);
}

static inline uint64_t
pkt_ip6_word_of(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint8_t b4, uint8_t b5, uint8_t b6,
		uint8_t b7)
{
	const uint8_t b[8] = {b0, b1, b2, b3, b4, b5, b6, b7};
	uint64_t w;
	__builtin_memcpy(&w, b, 8);
	return w;
}

/** True for the unspecified address (::). */
static inline bool
pkt_ip6_is_unspecified(const uint8_t a[16])
{
	uint64_t w[2];
	pkt_ip6_words(a, w);
	return (w[0] | w[1]) == 0;
}

/** True for the loopback address (::1). */
static inline bool
pkt_ip6_is_loopback(const uint8_t a[16])
{
	uint64_t w[2];
	pkt_ip6_words(a, w);
	return w[0] == 0 && w[1] == pkt_ip6_word_of(0, 0, 0, 0, 0, 0, 0, 1);
}

/** True for an IPv4-mapped address (::ffff:0:0/96, RFC 4291 2.5.5.2). */
static inline bool
pkt_ip6_is_v4mapped(const uint8_t a[16])
{
	uint64_t w[2];
	pkt_ip6_words(a, w);
	return w[0] == 0 && (w[1] & pkt_ip6_word_of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)) ==
				pkt_ip6_word_of(0, 0, 0xff, 0xff, 0, 0, 0, 0);
}

/**
 * Validate an Ethernet + IPv6 frame and extract its fields.
 *
 * @param frame  first byte of the Ethernet header
 * @param len    bytes available from @p frame
 * @param out    filled on success (partly filled on failure)
 * @param reason set to the drop reason on failure (see the file comment)
 * @return 0 when the packet is valid, -EBADMSG when it must be dropped
 */
int pkt_ip6_parse(const uint8_t *frame, uint32_t len, struct pkt_ip6 *out, enum el_drop *reason);

/**
 * Parse the IPv6 packet quoted in an ICMPv6 error (RFC 4443 section 2.4:
 * as much of the packet as fits): its header, its extension headers and at
 * least the first 8 bytes of the upper layer. The quoted payload length may
 * exceed the quote.
 *
 * @param ip   first byte of the quoted IPv6 header
 * @param len  bytes of the quote
 * @param out  filled on success; first_frag is 0 for a non-first fragment,
 *             whose ports are then 0; l4_len is what the quote holds of the
 *             upper layer
 * @param reason EL_DROP_TRUNCATED (less than 40 bytes, an extension header
 *             or the 8 upper-layer bytes cut off), EL_DROP_BAD_L4 (version
 *             not 6), EL_DROP_BAD_EXT_HDR (more than PKT_IP6_MAX_EXT
 *             extension headers)
 * @return 0, or -EBADMSG
 */
int pkt_ip6_quote_parse(const uint8_t *ip, uint32_t len, struct pkt_ip6 *out, enum el_drop *reason);

/**
 * Check the options area of a hop-by-hop or destination options header
 * (RFC 8200 section 4.2): Pad1, or type-length-value with the value inside
 * the area.
 * @param opt  first option byte (2 bytes into the header)
 * @param len  bytes of options (header length - 2)
 * @return 0 when well formed, -EINVAL otherwise
 */
int pkt_ip6_options_check(const uint8_t *opt, uint32_t len);

#endif
