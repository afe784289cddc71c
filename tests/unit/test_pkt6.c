/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 frame validation (dataplane/pkt6.c): valid TCP, UDP and ICMPv6
 * frames pass with their fields read correctly, extension headers are
 * walked by the rules pkt6.h lists, and every malformed or unwanted variant
 * is refused with the drop reason pkt6.h documents. Also the parser of the
 * packet quoted in an ICMPv6 error. No EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "../../dataplane/pkt6.h"

#define MAXF 512

struct frame {
	uint8_t b[MAXF];
	uint32_t len; /* bytes of the frame */
	uint32_t l4;  /* offset of the upper layer in the frame */
};

static const uint8_t SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};
static const uint8_t DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv6 header whose next header is @p nh; payload empty. */
static void
start(struct frame *f, uint8_t nh)
{
	memset(f, 0, sizeof(*f));
	memset(f->b, 0x02, 12);
	put16(f->b + 12, 0x86dd);
	uint8_t *ip = f->b + 14;
	ip[0] = 0x60;
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, SRC, 16);
	memcpy(ip + 24, DST, 16);
	f->len = 54;
}

/* Set the payload length from the frame length. */
static void
finish(struct frame *f)
{
	put16(f->b + 14 + 4, (uint16_t)(f->len - 54));
}

/* Append an extension header of @p len bytes (a multiple of 8; fragment
 * headers are 8) with next header @p nh, options area padded with PadN. */
static uint8_t *
ext(struct frame *f, uint8_t type, uint8_t nh, unsigned len)
{
	uint8_t *h = f->b + f->len;
	memset(h, 0, len);
	h[0] = nh;
	if (type != PKT_IPPROTO_FRAGMENT)
		h[1] = (uint8_t)(len / 8 - 1);
	if (type == PKT_IPPROTO_HOPOPTS || type == PKT_IPPROTO_DSTOPTS) {
		h[2] = 1; /* PadN covering the rest */
		h[3] = (uint8_t)(len - 4);
	}
	f->len += len;
	return h;
}

/* Append a TCP header (SYN unless @p flags), 40000 -> 80, @p pay bytes. */
static void
tcp(struct frame *f, uint8_t flags, unsigned pay)
{
	uint8_t *t = f->b + f->len;
	f->l4 = f->len;
	put16(t, 40000);
	put16(t + 2, 80);
	t[12] = 5 << 4;
	t[13] = flags;
	t[16] = 0x12; /* some checksum */
	f->len += 20 + pay;
	finish(f);
}

static void
udp(struct frame *f, unsigned pay)
{
	uint8_t *u = f->b + f->len;
	f->l4 = f->len;
	put16(u, 50000);
	put16(u + 2, 53);
	put16(u + 4, (uint16_t)(8 + pay));
	put16(u + 6, 0xbeef);
	f->len += 8 + pay;
	finish(f);
}

static void
icmp6(struct frame *f, uint8_t type, unsigned body)
{
	uint8_t *c = f->b + f->len;
	f->l4 = f->len;
	c[0] = type;
	f->len += 4 + body;
	finish(f);
}

/* A TCP SYN behind the given chain of extension header types. */
static void
chain(struct frame *f, const uint8_t *types, unsigned n)
{
	start(f, n ? types[0] : PKT_IPPROTO_TCP);
	for (unsigned i = 0; i < n; i++)
		ext(f, types[i], i + 1 < n ? types[i + 1] : PKT_IPPROTO_TCP, 8);
	tcp(f, 0x02, 0);
}

static enum el_drop
refuse(const struct frame *f)
{
	struct pkt_ip6 p;
	enum el_drop r = EL_DROP_MAX;
	assert_int_equal(pkt_ip6_parse(f->b, f->len, &p, &r), -EBADMSG);
	return r;
}

static void
parse_ok(const struct frame *f, struct pkt_ip6 *p)
{
	enum el_drop r = EL_DROP_MAX;
	int rc = pkt_ip6_parse(f->b, f->len, p, &r);
	if (rc != 0)
		fail_msg("refused as %d", (int)r);
}

/* ---- valid packets ---- */

static void
tcp_syn_fields_are_read(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 10);
	parse_ok(&f, &p);
	assert_memory_equal(p.src, SRC, 16);
	assert_memory_equal(p.dst, DST, 16);
	assert_int_equal(p.proto, PKT_IPPROTO_TCP);
	assert_int_equal(p.sport, __builtin_bswap16(40000));
	assert_int_equal(p.dport, __builtin_bswap16(80));
	assert_int_equal(p.l3_len, 40);
	assert_int_equal(p.tot_len, 70);
	assert_int_equal(p.l4_len, 30);
	assert_int_equal(p.l4_hlen, 20);
	assert_int_equal(p.hlim, 64);
	assert_int_equal(p.tcp_flags, 0x02);
	assert_int_equal(p.n_ext, 0);
}

static void
udp_fields_are_read(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_UDP);
	udp(&f, 12);
	parse_ok(&f, &p);
	assert_int_equal(p.proto, PKT_IPPROTO_UDP);
	assert_int_equal(p.sport, __builtin_bswap16(50000));
	assert_int_equal(p.dport, __builtin_bswap16(53));
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.l4_hlen, 8);
}

static void
icmp6_type_and_code_are_read(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_ICMPV6);
	icmp6(&f, PKT_ICMP6_ECHO_REQUEST, 12);
	f.b[f.l4 + 1] = 3;
	parse_ok(&f, &p);
	assert_int_equal(p.proto, PKT_IPPROTO_ICMPV6);
	assert_int_equal(p.icmp_type, PKT_ICMP6_ECHO_REQUEST);
	assert_int_equal(p.icmp_code, 3);
	assert_int_equal(p.sport, 0);
}

static void
ethernet_padding_after_the_payload_is_allowed(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_UDP);
	udp(&f, 0);
	f.len += 6; /* padding, not counted by the payload length */
	parse_ok(&f, &p);
	assert_int_equal(p.tot_len, 48);
}

static void
no_next_header_is_an_other_protocol(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_NONE);
	finish(&f);
	parse_ok(&f, &p);
	assert_int_equal(p.proto, PKT_IPPROTO_NONE);
	assert_int_equal(p.l4_len, 0);
}

static void
unknown_upper_layer_is_accepted_without_l4_checks(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, 47); /* GRE */
	f.len += 4;
	finish(&f);
	parse_ok(&f, &p);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.l4_len, 4);
}

/* ---- fixed header ---- */

static void
every_frame_shorter_than_the_ipv6_header_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	for (uint32_t cut = 0; cut < 54; cut++) {
		struct frame g = f;
		g.len = cut;
		assert_int_equal(refuse(&g), EL_DROP_TRUNCATED);
	}
}

static void
version_other_than_6_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	f.b[14] = 0x45;
	assert_int_equal(refuse(&f), EL_DROP_BAD_VERSION);
}

static void
payload_length_beyond_the_frame_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	put16(f.b + 18, 21);
	assert_int_equal(refuse(&f), EL_DROP_TRUNCATED);
}

/* ---- extension headers ---- */

static void
hop_by_hop_first_is_walked(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	const uint8_t t[] = {PKT_IPPROTO_HOPOPTS};
	chain(&f, t, 1);
	parse_ok(&f, &p);
	assert_int_equal(p.l3_len, 48);
	assert_int_equal(p.n_ext, 1);
	assert_int_equal(p.proto, PKT_IPPROTO_TCP);
	assert_int_equal(p.sport, __builtin_bswap16(40000));
}

static void
hop_by_hop_after_another_header_is_refused(void **state)
{
	(void)state;
	struct frame f;
	const uint8_t t[] = {PKT_IPPROTO_DSTOPTS, PKT_IPPROTO_HOPOPTS};
	chain(&f, t, 2);
	assert_int_equal(refuse(&f), EL_DROP_BAD_EXT_HDR);
}

static void
destination_options_routing_and_atomic_fragment_are_walked(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	const uint8_t t[] = {PKT_IPPROTO_HOPOPTS, PKT_IPPROTO_DSTOPTS, PKT_IPPROTO_ROUTING,
			     PKT_IPPROTO_FRAGMENT, PKT_IPPROTO_DSTOPTS};
	chain(&f, t, 5);
	parse_ok(&f, &p);
	assert_int_equal(p.n_ext, 5);
	assert_int_equal(p.l3_len, 40 + 5 * 8);
	assert_int_equal(p.proto, PKT_IPPROTO_TCP);
	assert_int_equal(p.l4_len, 20);
}

static void
longer_option_headers_are_skipped_by_their_length(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_DSTOPTS);
	ext(&f, PKT_IPPROTO_DSTOPTS, PKT_IPPROTO_UDP, 24);
	udp(&f, 4);
	parse_ok(&f, &p);
	assert_int_equal(p.l3_len, 64);
	assert_int_equal(p.dport, __builtin_bswap16(53));
}

static void
routing_header_with_segments_left_is_a_source_route(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_ROUTING);
	uint8_t *h = ext(&f, PKT_IPPROTO_ROUTING, PKT_IPPROTO_TCP, 24);
	h[2] = 0; /* type 0 */
	h[3] = 1; /* segments left */
	tcp(&f, 0x02, 0);
	assert_int_equal(refuse(&f), EL_DROP_IP_OPTIONS);
}

static void
fragment_with_an_offset_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_FRAGMENT);
	uint8_t *h = ext(&f, PKT_IPPROTO_FRAGMENT, PKT_IPPROTO_TCP, 8);
	put16(h + 2, 185 << 3);
	tcp(&f, 0x02, 0);
	assert_int_equal(refuse(&f), EL_DROP_FRAGMENT);
}

static void
first_fragment_with_more_fragments_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_FRAGMENT);
	uint8_t *h = ext(&f, PKT_IPPROTO_FRAGMENT, PKT_IPPROTO_TCP, 8);
	h[3] = 1; /* M */
	tcp(&f, 0x02, 0);
	assert_int_equal(refuse(&f), EL_DROP_FRAGMENT);
}

static void
eight_extension_headers_pass_and_nine_are_refused(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	uint8_t t[PKT_IP6_MAX_EXT + 1];
	memset(t, PKT_IPPROTO_DSTOPTS, sizeof(t));
	chain(&f, t, PKT_IP6_MAX_EXT);
	parse_ok(&f, &p);
	assert_int_equal(p.n_ext, PKT_IP6_MAX_EXT);
	chain(&f, t, PKT_IP6_MAX_EXT + 1);
	assert_int_equal(refuse(&f), EL_DROP_BAD_EXT_HDR);
}

static void
extension_header_longer_than_the_payload_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_DSTOPTS);
	uint8_t *h = ext(&f, PKT_IPPROTO_DSTOPTS, PKT_IPPROTO_TCP, 8);
	tcp(&f, 0x02, 0);
	h[1] = 4; /* 40 bytes: beyond the 28-byte payload */
	assert_int_equal(refuse(&f), EL_DROP_BAD_EXT_HDR);
}

static void
payload_ending_inside_any_extension_header_is_refused(void **state)
{
	(void)state;
	const uint8_t t[] = {PKT_IPPROTO_HOPOPTS, PKT_IPPROTO_ROUTING, PKT_IPPROTO_FRAGMENT,
			     PKT_IPPROTO_DSTOPTS};
	struct frame f;
	chain(&f, t, 4);
	/* cut the payload (and the frame) at every byte of the chain */
	for (uint32_t plen = 0; plen < 4 * 8; plen++) {
		struct frame g = f;
		g.len = 54 + plen;
		put16(g.b + 18, (uint16_t)plen);
		assert_int_equal(refuse(&g), EL_DROP_BAD_EXT_HDR);
	}
}

static void
option_running_past_its_header_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_HOPOPTS);
	uint8_t *h = ext(&f, PKT_IPPROTO_HOPOPTS, PKT_IPPROTO_TCP, 8);
	h[3] = 5; /* PadN of 7 bytes in a 6-byte area */
	tcp(&f, 0x02, 0);
	assert_int_equal(refuse(&f), EL_DROP_BAD_EXT_HDR);
}

static void
options_check_accepts_pad1_padn_and_router_alert(void **state)
{
	(void)state;
	const uint8_t pad1[6] = {0, 0, 0, 0, 0, 0};
	const uint8_t ra[6] = {0x05, 0x02, 0x00, 0x00, 0x01, 0x00}; /* RA + PadN(0) */
	const uint8_t mixed[6] = {0x00, 0x01, 0x01, 0x00, 0x00, 0x00};
	assert_int_equal(pkt_ip6_options_check(pad1, 6), 0);
	assert_int_equal(pkt_ip6_options_check(ra, 6), 0);
	assert_int_equal(pkt_ip6_options_check(mixed, 6), 0);
}

static void
options_check_refuses_a_type_without_length_byte(void **state)
{
	(void)state;
	const uint8_t opt[6] = {0, 0, 0, 0, 0, 0x05};
	assert_int_equal(pkt_ip6_options_check(opt, 6), -EINVAL);
}

/* ---- upper layer ---- */

static void
tcp_shorter_than_its_header_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	f.len -= 1;
	finish(&f);
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
}

static void
tcp_data_offset_below_5_or_beyond_the_payload_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	f.b[f.l4 + 12] = 4 << 4;
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
	f.b[f.l4 + 12] = 6 << 4;
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
}

static void
tcp_syn_fin_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x03, 0);
	assert_int_equal(refuse(&f), EL_DROP_BAD_TCP_FLAGS);
}

static void
udp_length_outside_header_and_payload_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_UDP);
	udp(&f, 4);
	put16(f.b + f.l4 + 4, 7);
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
	put16(f.b + f.l4 + 4, 13);
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
	f.len = f.l4 + 6;
	finish(&f);
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
}

static void
udp_checksum_zero_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_UDP);
	udp(&f, 4);
	put16(f.b + f.l4 + 6, 0);
	assert_int_equal(refuse(&f), EL_DROP_BAD_CSUM);
}

static void
icmp6_shorter_than_8_bytes_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_ICMPV6);
	icmp6(&f, PKT_ICMP6_ECHO_REQUEST, 3);
	assert_int_equal(refuse(&f), EL_DROP_BAD_L4);
}

/* ---- addresses ---- */

static void
set_addr(struct frame *f, unsigned off, const char *which)
{
	uint8_t *a = f->b + 14 + off;
	memset(a, 0, 16);
	if (strcmp(which, "multicast") == 0) {
		a[0] = 0xff;
		a[1] = 0x02;
		a[15] = 1;
	} else if (strcmp(which, "loopback") == 0) {
		a[15] = 1;
	} else if (strcmp(which, "v4mapped") == 0) {
		a[10] = a[11] = 0xff;
		a[12] = 198;
		a[13] = 18;
		a[15] = 7;
	} /* else "unspecified" */
}

static enum el_drop
tcp_with(const char *src, const char *dst)
{
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	if (src)
		set_addr(&f, 8, src);
	if (dst)
		set_addr(&f, 24, dst);
	return refuse(&f);
}

static void
multicast_source_is_martian(void **state)
{
	(void)state;
	assert_int_equal(tcp_with("multicast", NULL), EL_DROP_MARTIAN);
}

static void
loopback_source_or_destination_is_martian(void **state)
{
	(void)state;
	assert_int_equal(tcp_with("loopback", NULL), EL_DROP_MARTIAN);
	assert_int_equal(tcp_with(NULL, "loopback"), EL_DROP_MARTIAN);
}

static void
ipv4_mapped_source_or_destination_is_martian(void **state)
{
	(void)state;
	assert_int_equal(tcp_with("v4mapped", NULL), EL_DROP_MARTIAN);
	assert_int_equal(tcp_with(NULL, "v4mapped"), EL_DROP_MARTIAN);
}

static void
unspecified_destination_is_martian(void **state)
{
	(void)state;
	assert_int_equal(tcp_with(NULL, "unspecified"), EL_DROP_MARTIAN);
}

static void
unspecified_source_is_martian_except_on_a_neighbor_solicitation(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	assert_int_equal(tcp_with("unspecified", NULL), EL_DROP_MARTIAN);

	start(&f, PKT_IPPROTO_ICMPV6);
	icmp6(&f, PKT_ICMP6_NEIGH_SOLICIT, 20);
	set_addr(&f, 8, "unspecified");
	set_addr(&f, 24, "multicast");
	parse_ok(&f, &p);
	assert_int_equal(p.icmp_type, PKT_ICMP6_NEIGH_SOLICIT);

	start(&f, PKT_IPPROTO_ICMPV6);
	icmp6(&f, PKT_ICMP6_ECHO_REQUEST, 20);
	set_addr(&f, 8, "unspecified");
	assert_int_equal(refuse(&f), EL_DROP_MARTIAN);
}

static void
multicast_destination_is_accepted(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_ip6 p;
	start(&f, PKT_IPPROTO_ICMPV6);
	icmp6(&f, PKT_ICMP6_NEIGH_SOLICIT, 20);
	set_addr(&f, 24, "multicast");
	parse_ok(&f, &p);
	assert_true(pkt_ip6_is_multicast(p.dst));
}

/* ---- quotes ---- */

static struct pkt_ip6
quote_ok(const uint8_t *ip, uint32_t len)
{
	struct pkt_ip6 q;
	enum el_drop r = EL_DROP_MAX;
	if (pkt_ip6_quote_parse(ip, len, &q, &r) != 0)
		fail_msg("quote refused as %d", (int)r);
	return q;
}

static enum el_drop
quote_refused(const uint8_t *ip, uint32_t len)
{
	struct pkt_ip6 q;
	enum el_drop r = EL_DROP_MAX;
	assert_int_equal(pkt_ip6_quote_parse(ip, len, &q, &r), -EBADMSG);
	return r;
}

static void
quote_of_a_tcp_packet_gives_addresses_and_ports(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 100);
	/* a quote may stop anywhere after the first 8 TCP bytes */
	struct pkt_ip6 q = quote_ok(f.b + 14, 48);
	assert_memory_equal(q.src, SRC, 16);
	assert_memory_equal(q.dst, DST, 16);
	assert_int_equal(q.proto, PKT_IPPROTO_TCP);
	assert_int_equal(q.sport, __builtin_bswap16(40000));
	assert_int_equal(q.dport, __builtin_bswap16(80));
	assert_int_equal(q.l3_len, 40);
	assert_int_equal(q.l4_len, 8);
	assert_int_equal(q.tot_len, 160);
	assert_int_equal(q.first_frag, 1);
}

static void
quote_walks_extension_headers(void **state)
{
	(void)state;
	struct frame f;
	const uint8_t t[] = {PKT_IPPROTO_HOPOPTS, PKT_IPPROTO_DSTOPTS};
	chain(&f, t, 2);
	struct pkt_ip6 q = quote_ok(f.b + 14, f.len - 14);
	assert_int_equal(q.l3_len, 56);
	assert_int_equal(q.proto, PKT_IPPROTO_TCP);
	assert_int_equal(q.dport, __builtin_bswap16(80));
}

static void
quote_cut_before_8_upper_layer_bytes_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	const uint8_t t[] = {PKT_IPPROTO_DSTOPTS};
	chain(&f, t, 1);
	for (uint32_t len = 0; len < 40 + 8 + 8; len++)
		assert_int_equal(quote_refused(f.b + 14, len), EL_DROP_TRUNCATED);
}

static void
quote_of_another_version_is_refused(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_TCP);
	tcp(&f, 0x02, 0);
	f.b[14] = 0x45;
	assert_int_equal(quote_refused(f.b + 14, 60), EL_DROP_BAD_L4);
}

static void
quote_of_a_later_fragment_has_no_ports(void **state)
{
	(void)state;
	struct frame f;
	start(&f, PKT_IPPROTO_FRAGMENT);
	uint8_t *h = ext(&f, PKT_IPPROTO_FRAGMENT, PKT_IPPROTO_UDP, 8);
	put16(h + 2, 100 << 3);
	udp(&f, 8);
	struct pkt_ip6 q = quote_ok(f.b + 14, f.len - 14);
	assert_int_equal(q.first_frag, 0);
	assert_int_equal(q.sport, 0);
	assert_int_equal(q.dport, 0);
}

static void
quote_with_too_many_extension_headers_is_refused(void **state)
{
	(void)state;
	struct frame f;
	uint8_t t[PKT_IP6_MAX_EXT + 1];
	memset(t, PKT_IPPROTO_DSTOPTS, sizeof(t));
	chain(&f, t, PKT_IP6_MAX_EXT + 1);
	assert_int_equal(quote_refused(f.b + 14, f.len - 14), EL_DROP_BAD_EXT_HDR);
}

static void
addr6(const char *txt, uint8_t a[16])
{
	assert_int_equal(inet_pton(AF_INET6, txt, a), 1);
}

/* The special addresses are recognised exactly, with no near miss taken
 * for one of them. */
static void
special_addresses_are_exact(void **state)
{
	(void)state;
	uint8_t a[16];
	addr6("::", a);
	assert_true(pkt_ip6_is_unspecified(a));
	assert_false(pkt_ip6_is_loopback(a));
	addr6("::1", a);
	assert_true(pkt_ip6_is_loopback(a));
	assert_false(pkt_ip6_is_unspecified(a));
	assert_false(pkt_ip6_is_v4mapped(a));
	addr6("::2", a);
	assert_false(pkt_ip6_is_loopback(a));
	addr6("1::1", a);
	assert_false(pkt_ip6_is_loopback(a));
	addr6("::100:0:0:1", a);
	assert_false(pkt_ip6_is_loopback(a));
	addr6("::ffff:198.18.0.1", a);
	assert_true(pkt_ip6_is_v4mapped(a));
	addr6("::ffff:0:0", a);
	assert_true(pkt_ip6_is_v4mapped(a));
	addr6("::fffe:198.18.0.1", a);
	assert_false(pkt_ip6_is_v4mapped(a));
	addr6("::1:ffff:198.18.0.1", a);
	assert_false(pkt_ip6_is_v4mapped(a));
	addr6("1::ffff:198.18.0.1", a);
	assert_false(pkt_ip6_is_v4mapped(a));
	addr6("2001:db8::", a);
	assert_false(pkt_ip6_is_unspecified(a));
	addr6("::8000:0:0:0", a);
	assert_false(pkt_ip6_is_unspecified(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(special_addresses_are_exact),
	    cmocka_unit_test(tcp_syn_fields_are_read),
	    cmocka_unit_test(udp_fields_are_read),
	    cmocka_unit_test(icmp6_type_and_code_are_read),
	    cmocka_unit_test(ethernet_padding_after_the_payload_is_allowed),
	    cmocka_unit_test(no_next_header_is_an_other_protocol),
	    cmocka_unit_test(unknown_upper_layer_is_accepted_without_l4_checks),
	    cmocka_unit_test(every_frame_shorter_than_the_ipv6_header_is_truncated),
	    cmocka_unit_test(version_other_than_6_is_refused),
	    cmocka_unit_test(payload_length_beyond_the_frame_is_truncated),
	    cmocka_unit_test(hop_by_hop_first_is_walked),
	    cmocka_unit_test(hop_by_hop_after_another_header_is_refused),
	    cmocka_unit_test(destination_options_routing_and_atomic_fragment_are_walked),
	    cmocka_unit_test(longer_option_headers_are_skipped_by_their_length),
	    cmocka_unit_test(routing_header_with_segments_left_is_a_source_route),
	    cmocka_unit_test(fragment_with_an_offset_is_refused),
	    cmocka_unit_test(first_fragment_with_more_fragments_is_refused),
	    cmocka_unit_test(eight_extension_headers_pass_and_nine_are_refused),
	    cmocka_unit_test(extension_header_longer_than_the_payload_is_refused),
	    cmocka_unit_test(payload_ending_inside_any_extension_header_is_refused),
	    cmocka_unit_test(option_running_past_its_header_is_refused),
	    cmocka_unit_test(options_check_accepts_pad1_padn_and_router_alert),
	    cmocka_unit_test(options_check_refuses_a_type_without_length_byte),
	    cmocka_unit_test(tcp_shorter_than_its_header_is_refused),
	    cmocka_unit_test(tcp_data_offset_below_5_or_beyond_the_payload_is_refused),
	    cmocka_unit_test(tcp_syn_fin_is_refused),
	    cmocka_unit_test(udp_length_outside_header_and_payload_is_refused),
	    cmocka_unit_test(udp_checksum_zero_is_refused),
	    cmocka_unit_test(icmp6_shorter_than_8_bytes_is_refused),
	    cmocka_unit_test(multicast_source_is_martian),
	    cmocka_unit_test(loopback_source_or_destination_is_martian),
	    cmocka_unit_test(ipv4_mapped_source_or_destination_is_martian),
	    cmocka_unit_test(unspecified_destination_is_martian),
	    cmocka_unit_test(unspecified_source_is_martian_except_on_a_neighbor_solicitation),
	    cmocka_unit_test(multicast_destination_is_accepted),
	    cmocka_unit_test(quote_of_a_tcp_packet_gives_addresses_and_ports),
	    cmocka_unit_test(quote_walks_extension_headers),
	    cmocka_unit_test(quote_cut_before_8_upper_layer_bytes_is_truncated),
	    cmocka_unit_test(quote_of_another_version_is_refused),
	    cmocka_unit_test(quote_of_a_later_fragment_has_no_ports),
	    cmocka_unit_test(quote_with_too_many_extension_headers_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
