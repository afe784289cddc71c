/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMPv6 packets built or rewritten in place (dataplane/icmp6.c) and the
 * IPv6 checksum functions of include/edgelb/csum.h. Every checksum is checked
 * against a reference written independently here: a plain sum of
 * big-endian 16-bit words over the pseudo-header of RFC 8200 section 8.1
 * and the message. Random messages come from a seeded PRNG
 * (EDGELB_TEST_SEED=N replays a run). No EAL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgelb/csum.h"
#include "../../dataplane/icmp6.h"
#include "../../dataplane/pkt.h"
#include "../../dataplane/pkt6.h"

#define N_RANDOM 5000
#define BUF	 2048

static uint64_t test_seed = 0x13198a2e03707344ull;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void
rnd_bytes(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd(s) >> 56);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reference: folded sum of the pseudo-header and @p len bytes at @p l4, as
 * big-endian words (0xffff for a message whose checksum is right). */
static uint16_t
ref_sum(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *l4, uint32_t len)
{
	uint64_t s = 0;
	for (int i = 0; i < 16; i += 2)
		s += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	s += (len >> 16) + (len & 0xffff) + nh;
	for (uint32_t i = 0; i < len; i++)
		s += (i & 1) ? l4[i] : (uint32_t)l4[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The upper layer of the IPv6 packet at @p ip checks out. */
static void
assert_l4_valid(const uint8_t *ip, uint32_t l3_len)
{
	uint32_t len = get16(ip + 4) + 40u - l3_len;
	uint8_t nh = l3_len == 40 ? ip[6] : 0xff;
	assert_int_equal(ref_sum(ip + 8, ip + 24, nh, ip + l3_len, len), 0xffff);
}

static const uint8_t CLIENT[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
static const uint8_t VIP[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
static const uint8_t SNAT[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t POD[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};

/* IPv6 header at @p ip: @p plen payload bytes, next header @p nh. */
static void
ip6(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint16_t plen, uint8_t hlim)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[1] = 0x0a; /* some traffic class and flow label */
	ip[3] = 0x42;
	put16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

/* Set the upper-layer checksum of a packet without extension headers. */
static void
fix_l4(uint8_t *ip, unsigned coff)
{
	uint8_t *l4 = ip + 40;
	l4[coff] = l4[coff + 1] = 0;
	uint16_t c = csum_ip6_l4(ip + 8, ip + 24, ip[6], l4, get16(ip + 4));
	memcpy(l4 + coff, &c, 2);
}

static struct pkt_ip6
parse(const uint8_t *frame, uint32_t len)
{
	struct pkt_ip6 p;
	enum el_drop r = EL_DROP_MAX;
	if (pkt_ip6_parse(frame, len, &p, &r) != 0)
		fail_msg("refused as %d", (int)r);
	return p;
}

/* ---- checksum functions ---- */

static void
random_messages_checksum_like_the_reference(void **state)
{
	(void)state;
	uint64_t s = test_seed;
	static const uint8_t protos[3] = {PKT_IPPROTO_TCP, PKT_IPPROTO_UDP, PKT_IPPROTO_ICMPV6};

	for (int n = 0; n < N_RANDOM; n++) {
		uint8_t src[16], dst[16], msg[1400];
		uint8_t proto = protos[rnd(&s) % 3];
		uint32_t len = 8 + (uint32_t)(rnd(&s) % (sizeof(msg) - 8)); /* odd ones too */
		unsigned coff = proto == PKT_IPPROTO_TCP ? 16 : proto == PKT_IPPROTO_UDP ? 6 : 2;
		if (proto == PKT_IPPROTO_TCP && len < 20)
			len = 20;
		rnd_bytes(&s, src, 16);
		rnd_bytes(&s, dst, 16);
		rnd_bytes(&s, msg, len);
		msg[coff] = msg[coff + 1] = 0;
		uint16_t c = csum_ip6_l4(src, dst, proto, msg, len);
		memcpy(msg + coff, &c, 2);
		if (ref_sum(src, dst, proto, msg, len) != 0xffff)
			fail_msg("seed %#llx message %d (proto %u, %u bytes): sum %#x",
				 (unsigned long long)test_seed, n, proto, len,
				 ref_sum(src, dst, proto, msg, len));
		if (proto == PKT_IPPROTO_UDP)
			assert_int_not_equal(c, 0);
	}
}

static void
udp_checksum_that_computes_to_zero_is_written_as_all_ones(void **state)
{
	(void)state;
	uint8_t src[16] = {0}, dst[16] = {0}, msg[10] = {0};
	/* choose the last two bytes so that the whole sum is 0xffff */
	uint16_t partial = ref_sum(src, dst, PKT_IPPROTO_UDP, msg, sizeof(msg));
	put16(msg + 8, (uint16_t)~partial);
	assert_int_equal(ref_sum(src, dst, PKT_IPPROTO_UDP, msg, sizeof(msg)), 0xffff);
	assert_int_equal(csum_ip6_l4(src, dst, PKT_IPPROTO_UDP, msg, sizeof(msg)), 0xffff);
}

static void
pseudo_header_counts_length_and_next_header(void **state)
{
	(void)state;
	uint8_t zero[16] = {0};
	assert_int_equal(csum_fold32(csum_ip6_pseudo(zero, zero, 58, 0x00012345)),
			 csum_fold32(__builtin_bswap16(0x0001) + __builtin_bswap16(0x2345) +
				     __builtin_bswap16(58)));
}

/* ---- echo ---- */

static uint32_t
echo_request(uint8_t *frame, unsigned n_ext)
{
	uint8_t *ip = frame + 14;
	uint32_t mlen = 8 + 23;
	memset(frame, 0, 14);
	put16(frame + 12, 0x86dd);
	ip6(ip, CLIENT, VIP, n_ext ? PKT_IPPROTO_DSTOPTS : PKT_IPPROTO_ICMPV6,
	    (uint16_t)(8 * n_ext + mlen), 1);
	uint8_t *h = ip + 40;
	for (unsigned i = 0; i < n_ext; i++, h += 8) {
		memset(h, 0, 8);
		h[0] = i + 1 < n_ext ? PKT_IPPROTO_DSTOPTS : PKT_IPPROTO_ICMPV6;
		h[2] = 1;
		h[3] = 4;
	}
	h[0] = PKT_ICMP6_ECHO_REQUEST;
	h[1] = 0;
	put16(h + 4, 0x4242);
	put16(h + 6, 7);
	for (unsigned i = 8; i < mlen; i++)
		h[i] = (uint8_t)('a' + i);
	h[2] = h[3] = 0;
	uint16_t c = csum_ip6_l4(ip + 8, ip + 24, PKT_IPPROTO_ICMPV6, h, mlen);
	memcpy(h + 2, &c, 2);
	return 14 + 40 + 8 * n_ext + mlen;
}

static void
echo_reply_swaps_addresses_and_keeps_a_valid_checksum(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = echo_request(f, 0);
	struct pkt_ip6 p = parse(f, len);
	uint8_t *ip = f + 14;

	assert_int_equal(icmp6_echo_reply(ip, &p), len - 14);
	assert_int_equal(ip[40], PKT_ICMP6_ECHO_REPLY);
	assert_memory_equal(ip + 8, VIP, 16);
	assert_memory_equal(ip + 24, CLIENT, 16);
	assert_int_equal(ip[7], ICMP6_REPLY_HLIM);
	assert_int_equal(get16(ip + 44), 0x4242);
	assert_l4_valid(ip, 40);
}

static void
echo_reply_leaves_the_request_extension_headers_out(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = echo_request(f, 2);
	struct pkt_ip6 p = parse(f, len);
	uint8_t *ip = f + 14;

	assert_int_equal(p.l3_len, 56);
	uint16_t tot = icmp6_echo_reply(ip, &p);
	assert_int_equal(tot, len - 14 - 16);
	assert_int_equal(ip[6], PKT_IPPROTO_ICMPV6);
	assert_int_equal(get16(ip + 4), tot - 40);
	assert_int_equal(ip[40], PKT_ICMP6_ECHO_REPLY);
	assert_int_equal(get16(ip + 44), 0x4242);
	assert_int_equal(ip[48], 'a' + 8);
	assert_l4_valid(ip, 40);
}

/* ---- rejects ---- */

static uint32_t
syn(uint8_t *frame, uint32_t seq, unsigned pay, uint8_t flags)
{
	uint8_t *ip = frame + 14;
	memset(frame, 0, 14 + 60 + pay);
	put16(frame + 12, 0x86dd);
	ip6(ip, CLIENT, VIP, PKT_IPPROTO_TCP, (uint16_t)(20 + pay), 64);
	uint8_t *t = ip + 40;
	put16(t, 40000);
	put16(t + 2, 80);
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 64240);
	fix_l4(ip, 16);
	return 14 + 60 + pay;
}

static void
tcp_reset_answers_a_syn_from_the_frontend(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = syn(f, 123456, 0, 0x02);
	struct pkt_ip6 p = parse(f, len);
	uint8_t *ip = f + 14, *t = ip + 40;

	assert_int_equal(icmp6_tcp_reset(ip, &p), 60);
	assert_int_equal(ip[0], 0x60);
	assert_int_equal(ip[1] | ip[2] | ip[3], 0);
	assert_int_equal(get16(ip + 4), 20);
	assert_int_equal(ip[6], PKT_IPPROTO_TCP);
	assert_int_equal(ip[7], ICMP6_REPLY_HLIM);
	assert_memory_equal(ip + 8, VIP, 16);
	assert_memory_equal(ip + 24, CLIENT, 16);
	assert_int_equal(get16(t), 80);
	assert_int_equal(get16(t + 2), 40000);
	assert_int_equal(get32(t + 4), 0);
	assert_int_equal(get32(t + 8), 123457);
	assert_int_equal(t[12], 5 << 4);
	assert_int_equal(t[13], 0x14);
	assert_int_equal(get16(t + 14), 0);
	assert_l4_valid(ip, 40);
}

static void
tcp_reset_acknowledges_payload_and_fin(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = syn(f, 1000, 10, 0x11); /* FIN|ACK with 10 bytes */
	struct pkt_ip6 p = parse(f, len);
	icmp6_tcp_reset(f + 14, &p);
	assert_int_equal(get32(f + 14 + 40 + 8), 1000 + 10 + 1);
}

static void
port_unreachable_quotes_the_datagram(void **state)
{
	(void)state;
	uint8_t buf[BUF];
	uint8_t *ip = buf, *q = buf + ICMP6_ERR_HDR_LEN;
	uint8_t copy[100];

	ip6(q, CLIENT, VIP, PKT_IPPROTO_UDP, 20, 64);
	put16(q + 40, 50000);
	put16(q + 42, 53);
	put16(q + 44, 20);
	memset(q + 48, 0x5a, 12);
	fix_l4(q, 6);
	memcpy(copy, q, 60);

	uint16_t tot =
	    icmp6_error(ip, VIP, CLIENT, PKT_ICMP6_DEST_UNREACH, ICMP6_CODE_PORT_UNREACH, 0, 60);
	assert_int_equal(tot, 40 + 8 + 60);
	assert_int_equal(ip[0], 0x60);
	assert_int_equal(get16(ip + 4), 68);
	assert_int_equal(ip[6], PKT_IPPROTO_ICMPV6);
	assert_int_equal(ip[7], ICMP6_REPLY_HLIM);
	assert_memory_equal(ip + 8, VIP, 16);
	assert_memory_equal(ip + 24, CLIENT, 16);
	assert_int_equal(ip[40], 1);
	assert_int_equal(ip[41], 4);
	assert_int_equal(get32(ip + 44), 0);
	assert_memory_equal(q, copy, 60);
	assert_l4_valid(ip, 40);
}

static void
quote_length_stops_at_the_minimum_mtu(void **state)
{
	(void)state;
	struct pkt_ip6 p = {.tot_len = 100};
	assert_int_equal(icmp6_quote_len(&p), 100);
	p.tot_len = 1500;
	assert_int_equal(icmp6_quote_len(&p), ICMP6_ERR_MAX - ICMP6_ERR_HDR_LEN);
}

/* ---- error translation ---- */

/*
 * A frame from the pod (POD -> SNAT) carrying ICMPv6 @p type quoting a
 * TCP or UDP packet SNAT:1024 -> POD:8080 with @p pay payload bytes, of
 * which @p qlen bytes (from its IPv6 header) are quoted. Returns the frame
 * length.
 */
static uint32_t
pod_error(uint8_t *f, uint8_t type, uint8_t proto, unsigned pay, uint32_t qlen, uint16_t udp_csum)
{
	uint8_t pkt[BUF];
	unsigned l4h = proto == PKT_IPPROTO_TCP ? 20 : 8;
	ip6(pkt, SNAT, POD, proto, (uint16_t)(l4h + pay), 63);
	memset(pkt + 40, 0, l4h);
	put16(pkt + 40, 1024);
	put16(pkt + 42, 8080);
	if (proto == PKT_IPPROTO_TCP) {
		pkt[52] = 5 << 4;
		pkt[53] = 0x02;
	} else {
		put16(pkt + 44, (uint16_t)(8 + pay));
	}
	for (unsigned i = 0; i < pay; i++)
		pkt[40 + l4h + i] = (uint8_t)(i * 7);
	fix_l4(pkt, proto == PKT_IPPROTO_TCP ? 16 : 6);
	if (proto == PKT_IPPROTO_UDP && udp_csum == 0)
		put16(pkt + 46, 0);

	memset(f, 0, 14);
	put16(f + 12, 0x86dd);
	uint8_t *ip = f + 14;
	ip6(ip, POD, SNAT, PKT_IPPROTO_ICMPV6, (uint16_t)(8 + qlen), 64);
	uint8_t *c = ip + 40;
	c[0] = type;
	c[1] = 0;
	put16(c + 2, 0);
	put16(c + 4, 0);
	put16(c + 6, type == PKT_ICMP6_PKT_TOO_BIG ? 1400 : 0);
	memcpy(c + 8, pkt, qlen);
	uint16_t s = csum_ip6_l4(ip + 8, ip + 24, PKT_IPPROTO_ICMPV6, c, 8 + qlen);
	memcpy(c + 2, &s, 2);
	return 14 + 40 + 8 + qlen;
}

static void
to_client(struct icmp6_xlate *x)
{
	memcpy(x->outer_src, VIP, 16);
	memcpy(x->outer_dst, CLIENT, 16);
	memcpy(x->inner_src, CLIENT, 16);
	memcpy(x->inner_dst, VIP, 16);
	x->inner_sport = __builtin_bswap16(40000);
	x->inner_dport = __builtin_bswap16(80);
}

static void
translate(uint8_t *f, uint32_t len)
{
	struct pkt_ip6 o = parse(f, len), in;
	enum el_drop r;
	struct icmp6_xlate x;
	assert_int_equal(pkt_ip6_quote_parse(f + 14 + o.l3_len + 8, o.l4_len - 8u, &in, &r), 0);
	to_client(&x);
	icmp6_error_xlate(f + 14, &o, &in, &x);
}

static void
packet_too_big_is_translated_to_the_client_side(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = pod_error(f, PKT_ICMP6_PKT_TOO_BIG, PKT_IPPROTO_TCP, 30, 90, 1);
	uint8_t *ip = f + 14, *q = ip + 48;

	translate(f, len);
	assert_memory_equal(ip + 8, VIP, 16);
	assert_memory_equal(ip + 24, CLIENT, 16);
	assert_int_equal(ip[7], 63);
	assert_int_equal(ip[40], PKT_ICMP6_PKT_TOO_BIG);
	assert_int_equal(get32(ip + 44), 1400); /* the MTU is kept */
	assert_memory_equal(q + 8, CLIENT, 16);
	assert_memory_equal(q + 24, VIP, 16);
	assert_int_equal(get16(q + 40), 40000);
	assert_int_equal(get16(q + 42), 80);
	assert_l4_valid(ip, 40); /* ICMPv6 */
	assert_l4_valid(q, 40);	 /* the whole quoted segment */
}

static void
short_quote_gets_new_ports_and_keeps_its_bytes(void **state)
{
	(void)state;
	uint8_t f[BUF], before[BUF];
	uint32_t len = pod_error(f, PKT_ICMP6_DEST_UNREACH, PKT_IPPROTO_TCP, 0, 48, 1);
	uint8_t *ip = f + 14, *q = ip + 48;

	memcpy(before, f, len);
	translate(f, len);
	assert_int_equal(get16(q + 40), 40000);
	assert_int_equal(get16(q + 42), 80);
	assert_memory_equal(q + 44, before + 14 + 48 + 44, 4); /* sequence number */
	assert_l4_valid(ip, 40);
}

static void
zero_udp_checksum_in_a_quote_stays_zero(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = pod_error(f, PKT_ICMP6_DEST_UNREACH, PKT_IPPROTO_UDP, 4, 52, 0);
	uint8_t *ip = f + 14, *q = ip + 48;

	translate(f, len);
	assert_int_equal(get16(q + 46), 0);
	assert_l4_valid(ip, 40);
}

static void
quoted_udp_checksum_is_updated(void **state)
{
	(void)state;
	uint8_t f[BUF];
	uint32_t len = pod_error(f, PKT_ICMP6_TIME_EXCEEDED, PKT_IPPROTO_UDP, 21, 69, 1);
	uint8_t *ip = f + 14, *q = ip + 48;

	translate(f, len);
	assert_l4_valid(q, 40);
	assert_l4_valid(ip, 40);
}

static void
outer_extension_headers_are_kept(void **state)
{
	(void)state;
	uint8_t f[BUF], g[BUF];
	uint32_t len = pod_error(f, PKT_ICMP6_DEST_UNREACH, PKT_IPPROTO_TCP, 0, 60, 1);

	/* insert a destination options header in front of the ICMPv6 message */
	memcpy(g, f, 54);
	uint8_t *h = g + 54;
	memset(h, 0, 8);
	h[0] = PKT_IPPROTO_ICMPV6;
	h[2] = 1;
	h[3] = 4;
	memcpy(g + 62, f + 54, len - 54);
	g[14 + 6] = PKT_IPPROTO_DSTOPTS;
	put16(g + 14 + 4, (uint16_t)(get16(f + 14 + 4) + 8));
	len += 8;

	translate(g, len);
	uint8_t *ip = g + 14;
	assert_int_equal(ip[6], PKT_IPPROTO_DSTOPTS);
	assert_int_equal(ip[48], PKT_ICMP6_DEST_UNREACH);
	assert_int_equal(ref_sum(ip + 8, ip + 24, PKT_IPPROTO_ICMPV6, ip + 48, len - 14 - 48),
			 0xffff);
	assert_memory_equal(ip + 56 + 8, CLIENT, 16);
}

int
main(void)
{
	const char *env = getenv("EDGELB_TEST_SEED");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_messages_checksum_like_the_reference),
	    cmocka_unit_test(udp_checksum_that_computes_to_zero_is_written_as_all_ones),
	    cmocka_unit_test(pseudo_header_counts_length_and_next_header),
	    cmocka_unit_test(echo_reply_swaps_addresses_and_keeps_a_valid_checksum),
	    cmocka_unit_test(echo_reply_leaves_the_request_extension_headers_out),
	    cmocka_unit_test(tcp_reset_answers_a_syn_from_the_frontend),
	    cmocka_unit_test(tcp_reset_acknowledges_payload_and_fin),
	    cmocka_unit_test(port_unreachable_quotes_the_datagram),
	    cmocka_unit_test(quote_length_stops_at_the_minimum_mtu),
	    cmocka_unit_test(packet_too_big_is_translated_to_the_client_side),
	    cmocka_unit_test(short_quote_gets_new_ports_and_keeps_its_bytes),
	    cmocka_unit_test(zero_udp_checksum_in_a_quote_stays_zero),
	    cmocka_unit_test(quoted_udp_checksum_is_updated),
	    cmocka_unit_test(outer_extension_headers_are_kept),
	};

	if (env != NULL && *env != '\0')
		test_seed = strtoull(env, NULL, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
