/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 packets the worker builds or rewrites itself: ICMPv6 echo replies
 * (RFC 4443), TCP RST and ICMPv6 port unreachable rejects, and the
 * translation of ICMPv6 errors that quote a NATed flow (RFC 5508 section 5,
 * written for IPv4 NATs; the same steps apply to 6->6). Checksums: RFC 1071
 * sums with the IPv6 pseudo-header (RFC 8200 section 8.1), RFC 1624 for
 * incremental updates. See icmp6.h for the exact bytes.
 */
#include <string.h>

#include "edgelb/csum.h"
#include "bytes.h"
#include "icmp6.h"
#include "pkt.h"

uint16_t
icmp6_echo_reply(uint8_t *ip, const struct pkt_ip6 *p)
{
	uint8_t *icmp = ip + PKT_IP6_HDR_LEN;

	if (p->l3_len != PKT_IP6_HDR_LEN)
		memmove(icmp, ip + p->l3_len, p->l4_len);
	bytes_put_be16(ip + 4, p->l4_len);
	ip[6] = PKT_IPPROTO_ICMPV6;
	ip[7] = ICMP6_REPLY_HLIM;
	/* swapping the addresses leaves the pseudo-header sum unchanged */
	memcpy(ip + 8, p->dst, 16);
	memcpy(ip + 24, p->src, 16);
	uint16_t old = bytes_rd16(icmp);
	icmp[0] = PKT_ICMP6_ECHO_REPLY;
	bytes_wr16(icmp + 2, csum_update16(bytes_rd16(icmp + 2), old, bytes_rd16(icmp)));
	return (uint16_t)(PKT_IP6_HDR_LEN + p->l4_len);
}

static void
ip6_header(uint8_t *ip, uint16_t plen, uint8_t proto, const uint8_t src[16], const uint8_t dst[16])
{
	uint8_t s[16], d[16];

	/* src and dst may point into the bytes being written */
	memcpy(s, src, 16);
	memcpy(d, dst, 16);
	ip[0] = 0x60;
	ip[1] = 0;
	ip[2] = 0;
	ip[3] = 0;
	bytes_put_be16(ip + 4, plen);
	ip[6] = proto;
	ip[7] = ICMP6_REPLY_HLIM;
	memcpy(ip + 8, s, 16);
	memcpy(ip + 24, d, 16);
}

uint16_t
icmp6_tcp_reset(uint8_t *ip, const struct pkt_ip6 *p)
{
	const uint8_t *syn = ip + p->l3_len;
	uint32_t seq =
	    (uint32_t)syn[4] << 24 | (uint32_t)syn[5] << 16 | (uint32_t)syn[6] << 8 | syn[7];
	uint32_t seg = (uint32_t)(p->l4_len - p->l4_hlen);
	if (p->tcp_flags & 0x02) /* SYN */
		seg++;
	if (p->tcp_flags & 0x01) /* FIN */
		seg++;

	/* read everything before writing: the RST overwrites the SYN */
	uint16_t sport = p->sport, dport = p->dport;
	uint8_t *tcp = ip + PKT_IP6_HDR_LEN;

	ip6_header(ip, PKT_TCP_MIN_LEN, PKT_IPPROTO_TCP, p->dst, p->src);
	bytes_wr16(tcp, dport);
	bytes_wr16(tcp + 2, sport);
	bytes_put_be32(tcp + 4, 0);
	bytes_put_be32(tcp + 8, seq + seg);
	tcp[12] = 5 << 4;
	tcp[13] = 0x14; /* RST|ACK */
	bytes_put_be16(tcp + 14, 0);
	bytes_put_be16(tcp + 16, 0);
	bytes_put_be16(tcp + 18, 0);
	bytes_wr16(tcp + 16, csum_ip6_l4(ip + 8, ip + 24, PKT_IPPROTO_TCP, tcp, PKT_TCP_MIN_LEN));
	return PKT_IP6_HDR_LEN + PKT_TCP_MIN_LEN;
}

uint16_t
icmp6_error(uint8_t *ip, const uint8_t src[16], const uint8_t dst[16], uint8_t type, uint8_t code,
	    uint32_t param, uint32_t quote_len)
{
	uint8_t *icmp = ip + PKT_IP6_HDR_LEN;
	uint32_t mlen = PKT_ICMP6_HDR_LEN + quote_len;

	ip6_header(ip, (uint16_t)mlen, PKT_IPPROTO_ICMPV6, src, dst);
	icmp[0] = type;
	icmp[1] = code;
	icmp[2] = 0;
	icmp[3] = 0;
	bytes_put_be32(icmp + 4, param);
	bytes_wr16(icmp + 2, csum_ip6_l4(ip + 8, ip + 24, PKT_IPPROTO_ICMPV6, icmp, mlen));
	return (uint16_t)(PKT_IP6_HDR_LEN + mlen);
}

void
icmp6_error_xlate(uint8_t *ip, const struct pkt_ip6 *o, const struct pkt_ip6 *in,
		  const struct icmp6_xlate *x)
{
	uint8_t *icmp = ip + o->l3_len;
	uint8_t *q = icmp + PKT_ICMP6_HDR_LEN;
	uint8_t *ql4 = q + in->l3_len;
	uint32_t qlen = (uint32_t)o->l4_len - PKT_ICMP6_HDR_LEN;

	/* outer header: no header checksum in IPv6 */
	ip[7]--;
	memcpy(ip + 8, x->outer_src, 16);
	memcpy(ip + 24, x->outer_dst, 16);

	/* quoted L4 checksum, when the quote reaches it */
	uint32_t coff = in->proto == PKT_IPPROTO_TCP ? 16 : 6;
	if (in->l3_len + coff + 2 <= qlen) {
		uint16_t lc = bytes_rd16(ql4 + coff);
		if (!(in->proto == PKT_IPPROTO_UDP && lc == 0)) {
			lc = csum_update128(lc, in->src, x->inner_src);
			lc = csum_update128(lc, in->dst, x->inner_dst);
			lc = csum_update16(lc, in->sport, x->inner_sport);
			lc = csum_update16(lc, in->dport, x->inner_dport);
			if (in->proto == PKT_IPPROTO_UDP)
				lc = csum_udp_fix(lc);
			bytes_wr16(ql4 + coff, lc);
		}
	}
	bytes_wr16(ql4, x->inner_sport);
	bytes_wr16(ql4 + 2, x->inner_dport);
	memcpy(q + 8, x->inner_src, 16);
	memcpy(q + 24, x->inner_dst, 16);

	/* ICMPv6 checksum over the whole message and the new pseudo-header */
	bytes_wr16(icmp + 2, 0);
	bytes_wr16(icmp + 2, csum_ip6_l4(ip + 8, ip + 24, PKT_IPPROTO_ICMPV6, icmp, o->l4_len));
}
