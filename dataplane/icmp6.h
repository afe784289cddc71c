/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * IPv6 packets the worker answers or rewrites itself, built in place on the
 * bytes of the packet that caused them (no allocation):
 *
 * - ICMPv6 echo reply (RFC 4443 section 4.2): addresses swapped, type 129,
 *   checksum updated incrementally (RFC 1624; swapping the addresses leaves
 *   the pseudo-header sum as it was); extension headers of the request are
 *   not sent back.
 * - Rejects for a service without endpoints, as kube-proxy sends them:
 *   TCP RST|ACK (RFC 9293 section 3.10.7.1) and ICMPv6 destination
 *   unreachable, port unreachable (type 1 code 4) quoting as much of the
 *   datagram as fits in the minimum MTU (RFC 4443 section 2.4 (c)).
 * - ICMPv6 error translation for FullNAT (RFC 5508 section 5 describes the
 *   same for NATs): the outer and the quoted headers are rewritten to the
 *   other side of the flow. A Packet Too Big keeps its MTU: the IPv6 header
 *   is the same size on both sides of a 6->6 translation.
 *
 * Exact bytes of the packets built here (fixtures compare them):
 *   echo:    version, traffic class and flow label as received, payload
 *            length of the ICMPv6 message, next header 58, hop limit 64.
 *   TCP RST: version 6, traffic class 0, flow label 0, payload length 20,
 *            next header 6, hop limit 64, no extension headers; TCP ports
 *            swapped from the SYN, seq 0, ack = SYN's seq + segment length
 *            + 1, data offset 5, flags RST|ACK (0x14), window 0, urgent 0.
 *   error:   version 6, traffic class 0, flow label 0, next header 58, hop
 *            limit 64; ICMPv6 type, code, checksum, 4-byte parameter
 *            (0 for port unreachable), quote.
 * Every checksum covers the IPv6 pseudo-header (RFC 8200 section 8.1).
 *
 * Thread safety: pure functions on the caller's bytes.
 */
#ifndef EDGELB_ICMP6_H
#define EDGELB_ICMP6_H

#include <stdint.h>

#include "pkt6.h"

#define ICMP6_REPLY_HLIM 64

/** Code of destination unreachable for "port unreachable" (RFC 4443 3.1). */
#define ICMP6_CODE_PORT_UNREACH 4

/** Bytes in front of the quote of an ICMPv6 error (IPv6 + ICMPv6 header). */
#define ICMP6_ERR_HDR_LEN (PKT_IP6_HDR_LEN + PKT_ICMP6_HDR_LEN)

/** Largest ICMPv6 error packet: the IPv6 minimum MTU (RFC 8200 section 5). */
#define ICMP6_ERR_MAX 1280

/**
 * Turn the echo request at @p ip (parsed as @p p) into its reply. Any
 * extension headers are removed (the ICMPv6 message moves up to byte 40).
 * @return the new IPv6 total length (40 + the ICMPv6 message)
 */
uint16_t icmp6_echo_reply(uint8_t *ip, const struct pkt_ip6 *p);

/**
 * Turn the TCP SYN at @p ip (parsed as @p p) into the RST|ACK answering it,
 * from the SYN's destination to its source. The packet becomes 60 bytes.
 * @return the new IPv6 total length (60)
 */
uint16_t icmp6_tcp_reset(uint8_t *ip, const struct pkt_ip6 *p);

/** How many bytes of the packet @p p an ICMPv6 error quotes: all of it, up
 *  to what keeps the error within ICMP6_ERR_MAX bytes. */
static inline uint32_t
icmp6_quote_len(const struct pkt_ip6 *p)
{
	uint32_t max = ICMP6_ERR_MAX - ICMP6_ERR_HDR_LEN;
	return p->tot_len < max ? p->tot_len : max;
}

/**
 * Write an ICMPv6 error's IPv6 and ICMPv6 headers at @p ip; the quote
 * (@p quote_len bytes) must already sit at ip + ICMP6_ERR_HDR_LEN.
 * @param src, dst  addresses of the error
 * @param param     the 4-byte field after the checksum (MTU, pointer, or 0),
 *                  host order
 * @return the IPv6 total length
 */
uint16_t icmp6_error(uint8_t *ip, const uint8_t src[16], const uint8_t dst[16], uint8_t type,
		     uint8_t code, uint32_t param, uint32_t quote_len);

/** New addresses and ports (network order) for icmp6_error_xlate(). */
struct icmp6_xlate {
	uint8_t outer_src[16];
	uint8_t outer_dst[16];
	uint8_t inner_src[16];
	uint8_t inner_dst[16];
	uint16_t inner_sport;
	uint16_t inner_dport;
};

/**
 * Translate an ICMPv6 error in place: outer addresses and hop limit - 1
 * (extension headers kept), quoted addresses and ports (the quoted TCP/UDP
 * checksum updated when the quote holds it; a zero UDP checksum stays
 * zero), then the ICMPv6 checksum recomputed over the whole message with
 * the new pseudo-header.
 * @param ip     the outer IPv6 header
 * @param outer  its parse (pkt_ip6_parse)
 * @param inner  the quote's parse (pkt_ip6_quote_parse): TCP or UDP, first
 *               fragment
 */
void icmp6_error_xlate(uint8_t *ip, const struct pkt_ip6 *outer, const struct pkt_ip6 *inner,
		       const struct icmp6_xlate *x);

#endif
