/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packets the worker answers or rewrites itself, built in place on the
 * bytes of the packet that caused them (no allocation):
 *
 * - ICMP echo reply (RFC 792): addresses swapped, type 0, ICMP checksum
 *   updated incrementally (RFC 1624); everything else, TTL included, as
 *   received.
 * - Rejects for a service without endpoints, as kube-proxy sends them:
 *   TCP RST|ACK (RFC 9293 section 3.10.7.1: seq 0, ack = SYN's seq + segment
 *   length + 1) and ICMP port unreachable (type 3 code 3) quoting the IP
 *   header and the first 8 payload bytes.
 * - ICMP error translation for FullNAT (RFC 5508 section 5 and RFC 4787
 *   REQ-9 describe the same for NATs): the outer and the quoted headers are
 *   rewritten to the other side of the flow.
 *
 * Exact bytes of the packets built here (fixtures compare them):
 *   TCP RST: IPv4 version/IHL 0x45, TOS 0, total length 40, ID 0, DF set,
 *            TTL 64, protocol 6, no options; TCP ports swapped from the SYN,
 *            seq 0, ack as above, data offset 5, flags RST|ACK (0x14),
 *            window 0, urgent 0, no options, no payload.
 *   ICMP:    IPv4 version/IHL 0x45, TOS 0, ID 0, no DF, TTL 64, protocol 1,
 *            no options; ICMP type, code, checksum, 4 zero bytes, quote.
 *
 * Thread safety: pure functions on the caller's bytes.
 */
#ifndef EDGELB_ICMP_H
#define EDGELB_ICMP_H

#include <stdint.h>

#include "pkt.h"

#define ICMP_REPLY_TTL 64

/** Code of ICMP destination unreachable for "port unreachable". */
#define ICMP_CODE_PORT_UNREACH 3

/** Bytes put in front of the quoted header of an ICMP error (IPv4 + ICMP). */
#define ICMP_ERR_HDR_LEN (PKT_IP4_MIN_LEN + PKT_ICMP_LEN)

/**
 * Turn the echo request at @p ip (parsed as @p p) into its reply.
 */
void icmp_echo_reply4(uint8_t *ip, const struct pkt_ip4 *p);

/**
 * Turn the TCP SYN at @p ip (parsed as @p p) into the RST|ACK answering it,
 * from the SYN's destination to its source. The buffer keeps its place; the
 * packet becomes 40 bytes long.
 * @return the new IPv4 total length (40)
 */
uint16_t icmp_tcp_reset4(uint8_t *ip, const struct pkt_ip4 *p);

/** How many bytes of the packet @p p an ICMP error quotes: its IP header
 *  and up to 8 bytes after it. */
static inline uint32_t
icmp_quote_len4(const struct pkt_ip4 *p)
{
	return (uint32_t)p->l3_len + (p->l4_len < 8 ? p->l4_len : 8);
}

/**
 * Write an ICMP error's IPv4 and ICMP headers at @p ip; the quote
 * (@p quote_len bytes) must already sit at ip + ICMP_ERR_HDR_LEN.
 * @param src, dst  addresses of the error (network order)
 * @return the IPv4 total length
 */
uint16_t icmp_error4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
		     uint32_t quote_len);

/** New addresses and ports (network order) for icmp_error_xlate4(). */
struct icmp_xlate4 {
	uint32_t outer_src;
	uint32_t outer_dst;
	uint32_t inner_src;
	uint32_t inner_dst;
	uint16_t inner_sport;
	uint16_t inner_dport;
};

/**
 * Translate an ICMP error in place: outer addresses (TTL - 1, header
 * checksum updated), quoted addresses and ports (quoted header checksum
 * recomputed, quoted TCP/UDP checksum updated when the quote holds it; a
 * zero UDP checksum stays zero), then the ICMP checksum recomputed over the
 * whole ICMP message.
 * @param ip     the outer IPv4 header
 * @param outer  its parse (pkt_ip4_parse)
 * @param inner  the quote's parse (pkt_ip4_quote_parse), TCP or UDP
 */
void icmp_error_xlate4(uint8_t *ip, const struct pkt_ip4 *outer, const struct pkt_ip4 *inner,
		       const struct icmp_xlate4 *x);

#endif
