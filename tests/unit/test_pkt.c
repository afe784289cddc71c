/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame validation (dataplane/pkt.c): a valid TCP and UDP frame pass with
 * their fields read correctly; every malformed variant is refused with the
 * drop reason pkt.h documents. No EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/pkt.h"

#define MAXF 256

struct frame {
	uint8_t b[MAXF];
	uint32_t len;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Header checksum computed the slow way, 16 bits at a time (RFC 1071). */
static void
fix_ip_csum(struct frame *f)
{
	uint8_t *ip = f->b + 14;
	unsigned hl = (ip[0] & 0xf) * 4u;
	uint32_t s = 0;
	ip[10] = ip[11] = 0;
	for (unsigned i = 0; i < hl; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(ip + 10, (uint16_t)~s);
}

/* Ethernet + IPv4 (with @optlen option bytes) + L4 header + @paylen bytes. */
static void
build(struct frame *f, uint8_t proto, const uint8_t *opt, unsigned optlen, unsigned paylen)
{
	memset(f, 0, sizeof(*f));
	uint8_t *e = f->b;
	memset(e, 0x02, 12);
	put16(e + 12, 0x0800);
	uint8_t *ip = e + 14;
	unsigned hl = 20 + optlen;
	unsigned l4h = proto == 6 ? 20 : 8;
	ip[0] = (uint8_t)(0x40 | (hl / 4));
	put16(ip + 2, (uint16_t)(hl + l4h + paylen));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	uint8_t src[4] = {198, 18, 0, 10}, dst[4] = {198, 18, 0, 100};
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	if (optlen)
		memcpy(ip + 20, opt, optlen);
	uint8_t *l4 = ip + hl;
	if (proto == 6 || proto == 17) {
		put16(l4, 40000);
		put16(l4 + 2, 80);
	}
	if (proto == 6) {
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN */
	} else if (proto == 17) {
		put16(l4 + 4, (uint16_t)(8 + paylen));
	} else {
		l4[0] = 8; /* echo request */
	}
	for (unsigned i = 0; i < paylen; i++)
		l4[l4h + i] = (uint8_t)i;
	f->len = 14 + hl + l4h + paylen;
	fix_ip_csum(f);
}

static enum el_drop
verdict(const struct frame *f)
{
	struct pkt_ip4 o;
	enum el_drop r = EL_DROP_MAX;
	if (pkt_ip4_parse(f->b, f->len, &o, &r) == 0)
		return EL_DROP_MAX;
	return r;
}

#define ACCEPTED EL_DROP_MAX

static void
valid_tcp_frame_is_accepted_with_its_fields(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 10);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_parse(f.b, f.len, &o, &r), 0);
	assert_int_equal(o.proto, 6);
	assert_int_equal(o.l3_len, 20);
	assert_int_equal(o.tot_len, 50);
	assert_int_equal(o.l4_len, 30);
	assert_int_equal(o.l4_hlen, 20);
	assert_int_equal(o.ttl, 64);
	assert_int_equal(o.tcp_flags, 0x02);
	assert_memory_equal(&o.src, f.b + 26, 4);
	assert_memory_equal(&o.dst, f.b + 30, 4);
	assert_memory_equal(&o.sport, f.b + 34, 2);
	assert_memory_equal(&o.dport, f.b + 36, 2);
}

static void
valid_udp_frame_is_accepted_with_its_ports(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 5);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_parse(f.b, f.len, &o, &r), 0);
	assert_int_equal(o.proto, 17);
	assert_int_equal(o.l4_len, 13);
	assert_int_equal(o.l4_hlen, 8);
	uint16_t sp = (uint16_t)(f.b[34] | f.b[35] << 8);
	assert_int_equal(o.sport, sp);
}

static void
icmp_frame_reports_type_and_code(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 1, NULL, 0, 4);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_parse(f.b, f.len, &o, &r), 0);
	assert_int_equal(o.icmp_type, 8);
	assert_int_equal(o.icmp_code, 0);
}

static void
ethernet_padding_after_total_length_is_accepted(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0); /* 42 bytes: a short frame padded to 60 */
	f.len = 60;
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_parse(f.b, f.len, &o, &r), 0);
	assert_int_equal(o.tot_len, 28);
}

static void
tcp_frame_cut_at_any_offset_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 10);
	for (uint32_t cut = 0; cut < f.len; cut++) {
		struct frame g = f;
		g.len = cut;
		assert_int_equal(verdict(&g), EL_DROP_TRUNCATED);
	}
}

static void
udp_frame_cut_at_any_offset_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 10);
	for (uint32_t cut = 0; cut < f.len; cut++) {
		struct frame g = f;
		g.len = cut;
		assert_int_equal(verdict(&g), EL_DROP_TRUNCATED);
	}
}

static void
frame_with_options_cut_inside_the_header_is_truncated(void **state)
{
	(void)state;
	uint8_t opt[8] = {1, 1, 1, 1, 1, 1, 1, 0};
	struct frame f;
	build(&f, 17, opt, sizeof(opt), 0);
	f.len = 14 + 24; /* 20-byte base header present, options cut */
	assert_int_equal(verdict(&f), EL_DROP_TRUNCATED);
}

static void
ip_version_other_than_4_is_refused(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	f.b[14] = 0x65;
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_BAD_VERSION);
}

static void
ihl_below_5_is_refused(void **state)
{
	(void)state;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct frame f;
		build(&f, 6, NULL, 0, 0);
		f.b[14] = (uint8_t)(0x40 | ihl);
		assert_int_equal(verdict(&f), EL_DROP_BAD_IHL);
	}
}

static void
ihl_beyond_the_frame_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0); /* 28 bytes of IP */
	f.b[14] = 0x48;		   /* claims 32 bytes of header */
	f.len = 14 + 28;
	assert_int_equal(verdict(&f), EL_DROP_TRUNCATED);
}

static void
total_length_below_header_length_is_bad_length(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	put16(f.b + 16, 19);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_BAD_LENGTH);
}

static void
total_length_beyond_the_frame_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	put16(f.b + 16, 41);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_TRUNCATED);
}

static void
wrong_header_checksum_is_refused(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	f.b[24] ^= 0x01;
	assert_int_equal(verdict(&f), EL_DROP_BAD_CSUM);
}

static void
more_fragments_flag_is_a_fragment(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0);
	put16(f.b + 20, 0x2000);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_FRAGMENT);
}

static void
nonzero_fragment_offset_is_a_fragment(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0);
	put16(f.b + 20, 0x0001);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_FRAGMENT);
}

static void
dont_fragment_alone_is_accepted(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0);
	assert_int_equal(f.b[20], 0x40);
	assert_int_equal(verdict(&f), ACCEPTED);
}

static void
well_formed_options_are_accepted(void **state)
{
	(void)state;
	/* NOP, record route (7) with room for one address, EOL, padding */
	uint8_t opt[12] = {1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0};
	struct frame f;
	build(&f, 6, opt, sizeof(opt), 4);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_parse(f.b, f.len, &o, &r), 0);
	assert_int_equal(o.l3_len, 32);
	assert_memory_equal(&o.sport, f.b + 14 + 32, 2);
}

static void
loose_source_route_is_refused(void **state)
{
	(void)state;
	uint8_t opt[8] = {0x83, 7, 4, 198, 18, 0, 1, 0};
	struct frame f;
	build(&f, 6, opt, sizeof(opt), 0);
	assert_int_equal(verdict(&f), EL_DROP_IP_OPTIONS);
}

static void
strict_source_route_is_refused(void **state)
{
	(void)state;
	uint8_t opt[8] = {1, 0x89, 6, 4, 0, 0, 0, 0};
	struct frame f;
	build(&f, 6, opt, sizeof(opt), 0);
	assert_int_equal(verdict(&f), EL_DROP_IP_OPTIONS);
}

static void
option_length_below_2_is_refused(void **state)
{
	(void)state;
	for (uint8_t l = 0; l < 2; l++) {
		uint8_t opt[4] = {7, l, 0, 0};
		struct frame f;
		build(&f, 6, opt, sizeof(opt), 0);
		assert_int_equal(verdict(&f), EL_DROP_IP_OPTIONS);
	}
}

static void
option_running_past_the_header_is_refused(void **state)
{
	(void)state;
	uint8_t opt[4] = {1, 7, 7, 4};
	struct frame f;
	build(&f, 6, opt, sizeof(opt), 0);
	assert_int_equal(verdict(&f), EL_DROP_IP_OPTIONS);
}

static void
option_without_room_for_its_length_is_refused(void **state)
{
	(void)state;
	uint8_t opt[4] = {1, 1, 1, 7};
	struct frame f;
	build(&f, 6, opt, sizeof(opt), 0);
	assert_int_equal(verdict(&f), EL_DROP_IP_OPTIONS);
}

static void
source_route_after_end_of_list_is_padding(void **state)
{
	(void)state;
	uint8_t opt[4] = {0, 0x83, 3, 4};
	assert_int_equal(pkt_ip4_options_check(opt, sizeof(opt)), 0);
}

static void
tcp_header_shorter_than_20_bytes_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	put16(f.b + 16, 20 + 19);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
tcp_data_offset_beyond_total_length_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 8);
	f.b[14 + 20 + 12] = 8 << 4; /* 32-byte header in a 28-byte segment */
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
tcp_data_offset_below_5_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 8);
	f.b[14 + 20 + 12] = 4 << 4;
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
udp_length_field_beyond_total_length_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 4);
	put16(f.b + 14 + 20 + 4, 13);
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
udp_length_field_below_8_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 4);
	put16(f.b + 14 + 20 + 4, 7);
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
udp_shorter_than_its_header_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0);
	put16(f.b + 16, 20 + 7);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
icmp_shorter_than_8_bytes_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 1, NULL, 0, 0);
	put16(f.b + 16, 20 + 7);
	fix_ip_csum(&f);
	assert_int_equal(verdict(&f), EL_DROP_BAD_L4);
}

static void
tcp_syn_with_fin_is_bad_flags(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	f.b[14 + 20 + 13] = 0x03;
	assert_int_equal(verdict(&f), EL_DROP_BAD_TCP_FLAGS);
}

static void
tcp_without_flags_is_bad_flags(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	f.b[14 + 20 + 13] = 0x00;
	assert_int_equal(verdict(&f), EL_DROP_BAD_TCP_FLAGS);
}

static void
unknown_protocol_is_accepted_without_l4_checks(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 0);
	f.b[14 + 9] = 47; /* GRE */
	put16(f.b + 16, 20);
	fix_ip_csum(&f);
	f.len = 34;
	assert_int_equal(verdict(&f), ACCEPTED);
}

/* pkt_ip4_hdr_sum() is the 16-bit one's-complement sum of the header's
 * 16-bit words (RFC 1071, summed plainly here) for every header length,
 * on random bytes and on bytes that make many carries. */
static void
header_sum_equals_the_plain_sum_of_16_bit_words(void **state)
{
	(void)state;
	uint64_t x = 0x243f6a8885a308d3ull;
	uint8_t ip[60];
	for (unsigned round = 0; round < 20000; round++) {
		uint32_t len = 20 + 4 * (round % 11);
		for (unsigned i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			ip[i] = round % 4 == 0 ? (uint8_t)(0xf0 | x) : (uint8_t)x;
		}
		if (round % 4 == 1) /* all ones but one byte */
			memset(ip, 0xff, len), ip[x % len] = (uint8_t)(x >> 8);
		uint32_t sum = 0;
		for (unsigned i = 0; i < len; i += 2) {
			uint16_t w;
			memcpy(&w, ip + i, 2);
			sum += w;
		}
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(pkt_ip4_hdr_sum(ip, len), sum);
	}
}

static void
header_sum_of_a_valid_header_is_all_ones(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 6, NULL, 0, 0);
	assert_int_equal(pkt_ip4_hdr_sum(f.b + 14, 20), 0xffff);
	uint8_t ip[20];
	memcpy(ip, f.b + 14, 20);
	ip[10] = 0xde;
	ip[11] = 0xad;
	pkt_ip4_set_csum(ip, 20);
	assert_memory_equal(ip, f.b + 14, 20);
}

static void
quote_with_ports_is_parsed(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 100);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_quote_parse(f.b + 14, 28, &o, &r), 0);
	assert_int_equal(o.first_frag, 1);
	assert_int_equal(o.tot_len, 128);
	assert_memory_equal(&o.dport, f.b + 36, 2);
}

static void
quote_shorter_than_header_plus_8_is_truncated(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 100);
	struct pkt_ip4 o;
	enum el_drop r = EL_DROP_MAX;
	for (uint32_t l = 0; l < 28; l++) {
		assert_int_equal(pkt_ip4_quote_parse(f.b + 14, l, &o, &r), -EBADMSG);
		assert_int_equal(r, EL_DROP_TRUNCATED);
	}
}

static void
quote_with_bad_version_or_ihl_is_bad_l4(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 100);
	struct pkt_ip4 o;
	enum el_drop r = EL_DROP_MAX;
	f.b[14] = 0x44;
	assert_int_equal(pkt_ip4_quote_parse(f.b + 14, 28, &o, &r), -EBADMSG);
	assert_int_equal(r, EL_DROP_BAD_L4);
	f.b[14] = 0x55;
	r = EL_DROP_MAX;
	assert_int_equal(pkt_ip4_quote_parse(f.b + 14, 28, &o, &r), -EBADMSG);
	assert_int_equal(r, EL_DROP_BAD_L4);
}

static void
quoted_later_fragment_has_no_ports(void **state)
{
	(void)state;
	struct frame f;
	build(&f, 17, NULL, 0, 100);
	put16(f.b + 20, 0x0010);
	struct pkt_ip4 o;
	enum el_drop r;
	assert_int_equal(pkt_ip4_quote_parse(f.b + 14, 28, &o, &r), 0);
	assert_int_equal(o.first_frag, 0);
	assert_int_equal(o.sport, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(valid_tcp_frame_is_accepted_with_its_fields),
	    cmocka_unit_test(valid_udp_frame_is_accepted_with_its_ports),
	    cmocka_unit_test(icmp_frame_reports_type_and_code),
	    cmocka_unit_test(ethernet_padding_after_total_length_is_accepted),
	    cmocka_unit_test(tcp_frame_cut_at_any_offset_is_truncated),
	    cmocka_unit_test(udp_frame_cut_at_any_offset_is_truncated),
	    cmocka_unit_test(frame_with_options_cut_inside_the_header_is_truncated),
	    cmocka_unit_test(ip_version_other_than_4_is_refused),
	    cmocka_unit_test(ihl_below_5_is_refused),
	    cmocka_unit_test(ihl_beyond_the_frame_is_truncated),
	    cmocka_unit_test(total_length_below_header_length_is_bad_length),
	    cmocka_unit_test(total_length_beyond_the_frame_is_truncated),
	    cmocka_unit_test(wrong_header_checksum_is_refused),
	    cmocka_unit_test(more_fragments_flag_is_a_fragment),
	    cmocka_unit_test(nonzero_fragment_offset_is_a_fragment),
	    cmocka_unit_test(dont_fragment_alone_is_accepted),
	    cmocka_unit_test(well_formed_options_are_accepted),
	    cmocka_unit_test(loose_source_route_is_refused),
	    cmocka_unit_test(strict_source_route_is_refused),
	    cmocka_unit_test(option_length_below_2_is_refused),
	    cmocka_unit_test(option_running_past_the_header_is_refused),
	    cmocka_unit_test(option_without_room_for_its_length_is_refused),
	    cmocka_unit_test(source_route_after_end_of_list_is_padding),
	    cmocka_unit_test(tcp_header_shorter_than_20_bytes_is_bad_l4),
	    cmocka_unit_test(tcp_data_offset_beyond_total_length_is_bad_l4),
	    cmocka_unit_test(tcp_data_offset_below_5_is_bad_l4),
	    cmocka_unit_test(udp_length_field_beyond_total_length_is_bad_l4),
	    cmocka_unit_test(udp_length_field_below_8_is_bad_l4),
	    cmocka_unit_test(udp_shorter_than_its_header_is_bad_l4),
	    cmocka_unit_test(icmp_shorter_than_8_bytes_is_bad_l4),
	    cmocka_unit_test(tcp_syn_with_fin_is_bad_flags),
	    cmocka_unit_test(tcp_without_flags_is_bad_flags),
	    cmocka_unit_test(unknown_protocol_is_accepted_without_l4_checks),
	    cmocka_unit_test(header_sum_equals_the_plain_sum_of_16_bit_words),
	    cmocka_unit_test(header_sum_of_a_valid_header_is_all_ones),
	    cmocka_unit_test(quote_with_ports_is_parsed),
	    cmocka_unit_test(quote_shorter_than_header_plus_8_is_truncated),
	    cmocka_unit_test(quote_with_bad_version_or_ihl_is_bad_l4),
	    cmocka_unit_test(quoted_later_fragment_has_no_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
