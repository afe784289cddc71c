/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 frame validation for the worker (RFC 8200): the fixed header, a
 * bounded walk of the extension-header chain, the addresses an edge host
 * must never accept, and the fixed parts of TCP (RFC 9293), UDP (RFC 768)
 * and ICMPv6 (RFC 4443). Nothing here reads a byte before checking that it
 * lies inside the frame (or the quote); see pkt6.h for the list of checks
 * and the drop reason of each.
 */
#include <errno.h>

#include "edgelb/tcp_state.h"
#include "bytes.h"
#include "pkt.h"
#include "pkt6.h"

static int
pkt6_fail(enum el_drop *reason, enum el_drop r)
{
	*reason = r;
	return -EBADMSG;
}

int
pkt_ip6_options_check(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		if (opt[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > len)
			return -EINVAL; /* no room for the length byte */
		uint32_t olen = 2u + opt[i + 1];
		if (olen > len - i)
			return -EINVAL;
		i += olen;
	}
	return 0;
}

static bool
pkt6_is_ext(uint8_t nh)
{
	return nh == PKT_IPPROTO_HOPOPTS || nh == PKT_IPPROTO_ROUTING ||
	       nh == PKT_IPPROTO_FRAGMENT || nh == PKT_IPPROTO_DSTOPTS;
}

/*
 * Walk the extension headers of the packet at @p ip, whose bytes end at
 * @p end (the payload length for a received packet, the quote's length for
 * a quoted one). On success o->l3_len, o->proto, o->n_ext and
 * o->first_frag are set. A quote is cut off, not malformed, when a header
 * runs past its end; and the rules for forwarding (source routes,
 * fragments, option syntax) do not apply to a packet edgelb sent itself.
 */
static int
pkt6_walk(const uint8_t *ip, uint32_t end, bool quote, struct pkt_ip6 *o, enum el_drop *reason)
{
	enum el_drop cut = quote ? EL_DROP_TRUNCATED : EL_DROP_BAD_EXT_HDR;
	uint8_t nh = ip[6];
	uint32_t off = PKT_IP6_HDR_LEN;
	unsigned n = 0;

	o->first_frag = 1;
	while (pkt6_is_ext(nh)) {
		if (n == PKT_IP6_MAX_EXT)
			return pkt6_fail(reason, EL_DROP_BAD_EXT_HDR);
		if (end < off + 8)
			return pkt6_fail(reason, cut);
		const uint8_t *h = ip + off;
		uint32_t hlen = nh == PKT_IPPROTO_FRAGMENT ? 8u : (h[1] + 1u) * 8u;
		if (end - off < hlen)
			return pkt6_fail(reason, cut);

		switch (nh) {
		case PKT_IPPROTO_HOPOPTS:
			if (!quote && n != 0)
				return pkt6_fail(reason, EL_DROP_BAD_EXT_HDR);
			/* fall through */
		case PKT_IPPROTO_DSTOPTS:
			if (!quote && pkt_ip6_options_check(h + 2, hlen - 2) != 0)
				return pkt6_fail(reason, EL_DROP_BAD_EXT_HDR);
			break;
		case PKT_IPPROTO_ROUTING:
			if (!quote && h[3] != 0)
				return pkt6_fail(reason, EL_DROP_IP_OPTIONS);
			break;
		default: { /* fragment: offset in bits 15..3, M in bit 0 */
			uint16_t fo = bytes_rd16be(h + 2);
			if (quote) {
				if ((fo & 0xfff8) != 0)
					o->first_frag = 0;
			} else if ((fo & 0xfff9) != 0) {
				return pkt6_fail(reason, EL_DROP_FRAGMENT);
			}
			break;
		}
		}
		nh = h[0];
		off += hlen;
		n++;
		if (!o->first_frag)
			break; /* the rest of the chain is not in this fragment */
	}
	o->l3_len = (uint16_t)off;
	o->proto = nh;
	o->n_ext = (uint8_t)n;
	return 0;
}

/* Upper-layer checks of a received packet; @p l4 has o->l4_len bytes. */
static int
pkt6_l4(const uint8_t *l4, struct pkt_ip6 *o, enum el_drop *reason)
{
	switch (o->proto) {
	case PKT_IPPROTO_TCP: {
		if (o->l4_len < PKT_TCP_MIN_LEN)
			return pkt6_fail(reason, EL_DROP_BAD_L4);
		uint16_t doff = (uint16_t)((l4[12] >> 4) * 4);
		if (doff < PKT_TCP_MIN_LEN || doff > o->l4_len)
			return pkt6_fail(reason, EL_DROP_BAD_L4);
		o->sport = bytes_rd16(l4);
		o->dport = bytes_rd16(l4 + 2);
		o->l4_hlen = doff;
		o->tcp_flags = l4[13] & EL_TCP_FLAG_MASK;
		if (tcp_flags_invalid(o->tcp_flags))
			return pkt6_fail(reason, EL_DROP_BAD_TCP_FLAGS);
		return 0;
	}
	case PKT_IPPROTO_UDP: {
		if (o->l4_len < PKT_UDP_LEN)
			return pkt6_fail(reason, EL_DROP_BAD_L4);
		uint16_t ulen = bytes_rd16be(l4 + 4);
		if (ulen < PKT_UDP_LEN || ulen > o->l4_len)
			return pkt6_fail(reason, EL_DROP_BAD_L4);
		if (l4[6] == 0 && l4[7] == 0)
			return pkt6_fail(reason, EL_DROP_BAD_CSUM);
		o->sport = bytes_rd16(l4);
		o->dport = bytes_rd16(l4 + 2);
		o->l4_hlen = PKT_UDP_LEN;
		return 0;
	}
	case PKT_IPPROTO_ICMPV6:
		if (o->l4_len < PKT_ICMP6_HDR_LEN)
			return pkt6_fail(reason, EL_DROP_BAD_L4);
		o->icmp_type = l4[0];
		o->icmp_code = l4[1];
		o->l4_hlen = PKT_ICMP6_HDR_LEN;
		return 0;
	default:
		return 0;
	}
}

static void
pkt6_fixed(const uint8_t *ip, uint32_t tot_len, struct pkt_ip6 *o)
{
	__builtin_memcpy(o->src, ip + 8, 16);
	__builtin_memcpy(o->dst, ip + 24, 16);
	o->sport = 0;
	o->dport = 0;
	o->tot_len = (uint16_t)tot_len;
	o->l4_hlen = 0;
	o->hlim = ip[7];
	o->tcp_flags = 0;
	o->icmp_type = 0;
	o->icmp_code = 0;
	o->pad = 0;
}

int
pkt_ip6_parse(const uint8_t *frame, uint32_t len, struct pkt_ip6 *o, enum el_drop *reason)
{
	if (len < PKT_ETH_LEN + PKT_IP6_HDR_LEN)
		return pkt6_fail(reason, EL_DROP_TRUNCATED);

	const uint8_t *ip = frame + PKT_ETH_LEN;
	uint32_t avail = len - PKT_ETH_LEN;

	if ((ip[0] >> 4) != 6)
		return pkt6_fail(reason, EL_DROP_BAD_VERSION);
	uint32_t tot_len = PKT_IP6_HDR_LEN + bytes_rd16be(ip + 4);
	if (tot_len > avail)
		return pkt6_fail(reason, EL_DROP_TRUNCATED);

	pkt6_fixed(ip, tot_len, o);
	int rc = pkt6_walk(ip, tot_len, false, o, reason);
	if (rc != 0)
		return rc;
	o->l4_len = (uint16_t)(tot_len - o->l3_len);
	rc = pkt6_l4(ip + o->l3_len, o, reason);
	if (rc != 0)
		return rc;

	if (pkt_ip6_is_multicast(o->src) || pkt_ip6_is_loopback(o->src) ||
	    pkt_ip6_is_v4mapped(o->src) || pkt_ip6_is_unspecified(o->dst) ||
	    pkt_ip6_is_loopback(o->dst) || pkt_ip6_is_v4mapped(o->dst))
		return pkt6_fail(reason, EL_DROP_MARTIAN);
	if (pkt_ip6_is_unspecified(o->src) &&
	    !(o->proto == PKT_IPPROTO_ICMPV6 && o->icmp_type == PKT_ICMP6_NEIGH_SOLICIT))
		return pkt6_fail(reason, EL_DROP_MARTIAN);
	return 0;
}

int
pkt_ip6_quote_parse(const uint8_t *ip, uint32_t len, struct pkt_ip6 *o, enum el_drop *reason)
{
	if (len < PKT_IP6_HDR_LEN)
		return pkt6_fail(reason, EL_DROP_TRUNCATED);
	if ((ip[0] >> 4) != 6)
		return pkt6_fail(reason, EL_DROP_BAD_L4);

	pkt6_fixed(ip, PKT_IP6_HDR_LEN + bytes_rd16be(ip + 4), o);
	int rc = pkt6_walk(ip, len, true, o, reason);
	if (rc != 0)
		return rc;
	o->l4_len = (uint16_t)(len - o->l3_len);
	if (!o->first_frag)
		return 0;
	if (o->l4_len < 8)
		return pkt6_fail(reason, EL_DROP_TRUNCATED);
	if (o->proto == PKT_IPPROTO_TCP || o->proto == PKT_IPPROTO_UDP) {
		o->sport = bytes_rd16(ip + o->l3_len);
		o->dport = bytes_rd16(ip + o->l3_len + 2);
	}
	return 0;
}
