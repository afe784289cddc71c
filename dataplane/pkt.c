/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame validation for the worker: IPv4 (RFC 791) with its header checksum
 * (RFC 1071), IPv4 options (RFC 791 section 3.1), and the fixed parts of
 * TCP (RFC 9293), UDP (RFC 768) and ICMP (RFC 792) headers. Nothing here
 * reads a byte before checking that it lies inside the frame; see pkt.h for
 * the list of checks and the drop reason of each.
 */
#include <errno.h>

#include "edgelb/tcp_state.h"
#include "pkt.h"

int
pkt_ip4_options_check(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t type = opt[i];
		if (type == PKT_IPOPT_EOL)
			return 0; /* the rest is padding */
		if (type == PKT_IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL; /* no room for the length byte */
		uint8_t olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		if (type == PKT_IPOPT_LSRR || type == PKT_IPOPT_SSRR)
			return -EPERM;
		i += olen;
	}
	return 0;
}

int
pkt_ip4_parse(const uint8_t *frame, uint32_t len, struct pkt_ip4 *o, enum el_drop *reason)
{
	return pkt_ip4_parse_inline(frame, len, o, reason);
}

int
pkt_ip4_quote_parse(const uint8_t *ip, uint32_t len, struct pkt_ip4 *o, enum el_drop *reason)
{
	if (len < PKT_IP4_MIN_LEN)
		return pkt_fail(reason, EL_DROP_TRUNCATED);
	if ((ip[0] >> 4) != 4)
		return pkt_fail(reason, EL_DROP_BAD_L4);
	uint32_t l3_len = (uint32_t)(ip[0] & 0xf) * 4;
	if (l3_len < PKT_IP4_MIN_LEN)
		return pkt_fail(reason, EL_DROP_BAD_L4);
	if (len < l3_len + 8)
		return pkt_fail(reason, EL_DROP_TRUNCATED);

	uint32_t tot_len = bytes_rd16be(ip + 2);
	o->src = bytes_rd32(ip + 12);
	o->dst = bytes_rd32(ip + 16);
	o->l3_len = (uint16_t)l3_len;
	o->tot_len = (uint16_t)tot_len;
	o->l4_len = (uint16_t)(len - l3_len); /* what the quote holds */
	o->l4_hlen = 0;
	o->proto = ip[9];
	o->ttl = ip[8];
	o->tcp_flags = 0;
	o->icmp_type = 0;
	o->icmp_code = 0;
	o->pad = 0;
	o->first_frag = (bytes_rd16be(ip + 6) & 0x1fff) == 0;
	if (o->first_frag && (o->proto == PKT_IPPROTO_TCP || o->proto == PKT_IPPROTO_UDP)) {
		o->sport = bytes_rd16(ip + l3_len);
		o->dport = bytes_rd16(ip + l3_len + 2);
	} else {
		o->sport = 0;
		o->dport = 0;
	}
	return 0;
}
