/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets the worker builds or rewrites itself: ICMP echo replies (RFC 792),
 * TCP RST and ICMP port unreachable rejects, and the translation of ICMP
 * errors that quote a NATed flow (RFC 5508 section 5). Checksums: RFC 1071
 * for full sums, RFC 1624 for incremental updates. See icmp.h for the exact
 * bytes.
 */
#include <string.h>

#include "edgelb/csum.h"
#include "bytes.h"
#include "icmp.h"

void
icmp_echo_reply4(uint8_t *ip, const struct pkt_ip4 *p)
{
	uint8_t *icmp = ip + p->l3_len;

	/* swapping the addresses leaves the header sum unchanged */
	bytes_wr32(ip + 12, p->dst);
	bytes_wr32(ip + 16, p->src);
	uint16_t old = bytes_rd16(icmp);
	icmp[0] = PKT_ICMP_ECHO_REPLY;
	bytes_wr16(icmp + 2, csum_update16(bytes_rd16(icmp + 2), old, bytes_rd16(icmp)));
}

static void
ip4_header(uint8_t *ip, uint16_t tot_len, uint16_t frag, uint8_t proto, uint32_t src, uint32_t dst)
{
	ip[0] = 0x45;
	ip[1] = 0;
	bytes_put_be16(ip + 2, tot_len);
	bytes_put_be16(ip + 4, 0);
	bytes_put_be16(ip + 6, frag);
	ip[8] = ICMP_REPLY_TTL;
	ip[9] = proto;
	bytes_wr32(ip + 12, src);
	bytes_wr32(ip + 16, dst);
	pkt_ip4_set_csum(ip, PKT_IP4_MIN_LEN);
}

uint16_t
icmp_tcp_reset4(uint8_t *ip, const struct pkt_ip4 *p)
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
	uint32_t src = p->src, dst = p->dst;
	uint8_t *tcp = ip + PKT_IP4_MIN_LEN;

	ip4_header(ip, 40, 0x4000, PKT_IPPROTO_TCP, dst, src);
	bytes_wr16(tcp, dport);
	bytes_wr16(tcp + 2, sport);
	bytes_put_be32(tcp + 4, 0);
	bytes_put_be32(tcp + 8, seq + seg);
	tcp[12] = 5 << 4;
	tcp[13] = 0x14; /* RST|ACK */
	bytes_put_be16(tcp + 14, 0);
	bytes_put_be16(tcp + 16, 0);
	bytes_put_be16(tcp + 18, 0);

	/* pseudo-header: addresses, zero + protocol, TCP length */
	uint32_t sum = csum_partial(ip + 12, 8, 0);
	uint8_t ph[4] = {0, PKT_IPPROTO_TCP, 0, 20};
	sum = csum_partial(ph, 4, sum);
	sum = csum_partial(tcp, 20, sum);
	bytes_wr16(tcp + 16, (uint16_t)~csum_fold32(sum));
	return 40;
}

uint16_t
icmp_error4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t type, uint8_t code, uint32_t quote_len)
{
	uint8_t *icmp = ip + PKT_IP4_MIN_LEN;
	uint16_t tot = (uint16_t)(ICMP_ERR_HDR_LEN + quote_len);

	ip4_header(ip, tot, 0, PKT_IPPROTO_ICMP, src, dst);
	icmp[0] = type;
	icmp[1] = code;
	memset(icmp + 2, 0, 6);
	bytes_wr16(icmp + 2,
		   (uint16_t)~csum_fold32(csum_partial(icmp, PKT_ICMP_LEN + quote_len, 0)));
	return tot;
}

void
icmp_error_xlate4(uint8_t *ip, const struct pkt_ip4 *o, const struct pkt_ip4 *in,
		  const struct icmp_xlate4 *x)
{
	uint8_t *icmp = ip + o->l3_len;
	uint8_t *q = icmp + PKT_ICMP_LEN;
	uint8_t *ql4 = q + in->l3_len;
	uint32_t qlen = (uint32_t)o->l4_len - PKT_ICMP_LEN;

	/* outer header: TTL - 1 and both addresses, incrementally */
	uint16_t c = bytes_rd16(ip + 10);
	uint16_t w = bytes_rd16(ip + 8);
	ip[8]--;
	c = csum_update16(c, w, bytes_rd16(ip + 8));
	c = csum_update32(c, o->src, x->outer_src);
	c = csum_update32(c, o->dst, x->outer_dst);
	bytes_wr32(ip + 12, x->outer_src);
	bytes_wr32(ip + 16, x->outer_dst);
	bytes_wr16(ip + 10, c);

	/* quoted L4 checksum, when the quote reaches it */
	uint32_t coff = in->proto == PKT_IPPROTO_TCP ? 16 : 6;
	if (in->l3_len + coff + 2 <= qlen) {
		uint16_t lc = bytes_rd16(ql4 + coff);
		if (!(in->proto == PKT_IPPROTO_UDP && lc == 0)) {
			lc = csum_update32(lc, in->src, x->inner_src);
			lc = csum_update32(lc, in->dst, x->inner_dst);
			lc = csum_update16(lc, in->sport, x->inner_sport);
			lc = csum_update16(lc, in->dport, x->inner_dport);
			if (in->proto == PKT_IPPROTO_UDP && lc == 0)
				lc = 0xffff;
			bytes_wr16(ql4 + coff, lc);
		}
	}
	bytes_wr16(ql4, x->inner_sport);
	bytes_wr16(ql4 + 2, x->inner_dport);

	/* quoted IP header: new addresses, checksum recomputed */
	bytes_wr32(q + 12, x->inner_src);
	bytes_wr32(q + 16, x->inner_dst);
	pkt_ip4_set_csum(q, in->l3_len);

	/* ICMP checksum over the whole message */
	bytes_wr16(icmp + 2, 0);
	bytes_wr16(icmp + 2, (uint16_t)~csum_fold32(csum_partial(icmp, o->l4_len, 0)));
}
