/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame validation for the worker: IPv4 (RFC 791) with its header checksum
 * (RFC 1071), IPv4 options (RFC 791 section 3.1), and the fixed parts of
 * TCP (RFC 9293), UDP (RFC 768) and ICMP (RFC 792) headers. Nothing here
 * reads a byte before checking that it lies inside the frame; see pkt.h for
 * the list of checks and the drop reason of each.
 */
#include <errno.h>
#include <string.h>

#include "edgelb/tcp_state.h"
#include "pkt.h"

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint16_t
rd16_raw(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t
rd32_raw(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

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

static int
fail(enum el_drop *reason, enum el_drop r)
{
	*reason = r;
	return -EBADMSG;
}

int
pkt_ip4_quote_parse(const uint8_t *ip, uint32_t len, struct pkt_ip4 *o, enum el_drop *reason)
{
	if (len < PKT_IP4_MIN_LEN)
		return fail(reason, EL_DROP_TRUNCATED);
	if ((ip[0] >> 4) != 4)
		return fail(reason, EL_DROP_BAD_L4);
	uint32_t l3_len = (uint32_t)(ip[0] & 0xf) * 4;
	if (l3_len < PKT_IP4_MIN_LEN)
		return fail(reason, EL_DROP_BAD_L4);
	if (len < l3_len + 8)
		return fail(reason, EL_DROP_TRUNCATED);

	uint32_t tot_len = rd16(ip + 2);
	o->src = rd32_raw(ip + 12);
	o->dst = rd32_raw(ip + 16);
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
	o->first_frag = (rd16(ip + 6) & 0x1fff) == 0;
	if (o->first_frag && (o->proto == PKT_IPPROTO_TCP || o->proto == PKT_IPPROTO_UDP)) {
		o->sport = rd16_raw(ip + l3_len);
		o->dport = rd16_raw(ip + l3_len + 2);
	} else {
		o->sport = 0;
		o->dport = 0;
	}
	return 0;
}
