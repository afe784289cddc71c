/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the incremental checksum update (RFC 1624) as a FullNAT
 * rewrite uses it: random IPv4 and IPv6 packets with TCP or UDP are
 * rewritten (addresses, ports, TTL) with csum_update*() and the result must
 * equal a full recompute (RFC 1071 sum, RFC 793/768/8200 pseudo-headers).
 * Also the UDP rules of RFC 768: 0 means "no checksum" and stays 0, and a
 * checksum that computes to 0 is written as 0xffff.
 *
 * The random packets come from a seeded PRNG; the seed is printed on a
 * failure and can be set with EDGELB_TEST_SEED=N to replay it.
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

#define N_PACKETS   10000
#define MAX_PAYLOAD 1400
#define PROTO_TCP   6
#define PROTO_UDP   17

static uint64_t test_seed = 0x243f6a8885a308d3ull;

/* xorshift64* PRNG. */
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

static uint16_t
get16(const uint8_t *p)
{
	uint16_t w;
	memcpy(&w, p, 2);
	return w;
}

static void
put16(uint8_t *p, uint16_t w)
{
	memcpy(p, &w, 2);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

static void
put32(uint8_t *p, uint32_t w)
{
	memcpy(p, &w, 4);
}

/* The checksum field of a header from its one's-complement sum. */
static uint16_t
finish(uint32_t sum)
{
	return (uint16_t)~csum_fold32(sum);
}

/* ---- a packet under test: an IP header followed by TCP or UDP ---- */

struct pkt {
	uint8_t buf[60 + 60 + MAX_PAYLOAD]; /* IPv4 with options, or IPv6 (40) */
	int v6;
	uint8_t proto;
	size_t l3_len; /* IP header length */
	size_t l4_len; /* L4 header + payload */
};

static uint8_t *
l4(struct pkt *p)
{
	return p->buf + p->l3_len;
}

static size_t
l4_csum_off(const struct pkt *p)
{
	return p->proto == PROTO_TCP ? 16 : 6;
}

static uint16_t
ip4_csum_full(const struct pkt *p)
{
	uint8_t h[60];

	memcpy(h, p->buf, p->l3_len);
	put16(h + 10, 0);
	return finish(csum_partial(h, (uint32_t)p->l3_len, 0));
}

/* One's-complement sum of the pseudo-header and the L4 segment; the
 * checksum field counts as 0 when @p zero_field. */
static uint32_t
l4_sum(const struct pkt *p, int zero_field)
{
	uint8_t ph[40];
	size_t ph_len;
	uint32_t sum;
	uint8_t seg[60 + MAX_PAYLOAD];

	if (p->v6) {
		memcpy(ph, p->buf + 8, 32);
		put32(ph + 32, __builtin_bswap32((uint32_t)p->l4_len));
		memset(ph + 36, 0, 3);
		ph[39] = p->proto;
		ph_len = 40;
	} else {
		memcpy(ph, p->buf + 12, 8);
		ph[8] = 0;
		ph[9] = p->proto;
		put16(ph + 10, __builtin_bswap16((uint16_t)p->l4_len));
		ph_len = 12;
	}
	memcpy(seg, p->buf + p->l3_len, p->l4_len);
	if (zero_field)
		put16(seg + l4_csum_off(p), 0);
	sum = csum_partial(ph, (uint32_t)ph_len, 0);
	return csum_partial(seg, (uint32_t)p->l4_len, sum);
}

/* Full L4 checksum, as computed: 0 stays 0 (UDP callers apply
 * csum_udp_fix). */
static uint16_t
l4_csum_full(const struct pkt *p)
{
	return finish(l4_sum(p, 1));
}

/* A receiver's check: the sum over everything, checksum field included, is
 * negative zero. */
static int
l4_verifies(const struct pkt *p)
{
	return csum_fold32(l4_sum(p, 0)) == 0xffff;
}

/* Checksum fields as a sender writes them. */
static void
fill_checksums(struct pkt *p)
{
	uint16_t c;

	if (!p->v6)
		put16(p->buf + 10, ip4_csum_full(p));
	c = l4_csum_full(p);
	if (p->proto == PROTO_UDP)
		c = csum_udp_fix(c);
	put16(l4(p) + l4_csum_off(p), c);
}

/* A random packet: IPv4 (IHL 5..15, options random bytes) or IPv6, TCP
 * (20 byte header) or UDP, payload of 0..MAX_PAYLOAD random bytes. */
static void
make_packet(uint64_t *s, struct pkt *p, int v6, uint8_t proto)
{
	size_t l4h = proto == PROTO_TCP ? 20 : 8;
	size_t payload = rnd(s) % (MAX_PAYLOAD + 1);

	memset(p, 0, sizeof(*p));
	p->v6 = v6;
	p->proto = proto;
	p->l4_len = l4h + payload;
	if (v6) {
		p->l3_len = 40;
		rnd_bytes(s, p->buf, 40);
		p->buf[0] = 0x60;
		put16(p->buf + 4, __builtin_bswap16((uint16_t)p->l4_len));
		p->buf[6] = proto;
	} else {
		unsigned ihl = 5 + (unsigned)(rnd(s) % 11);
		p->l3_len = ihl * 4;
		rnd_bytes(s, p->buf, p->l3_len);
		p->buf[0] = (uint8_t)(0x40 | ihl);
		put16(p->buf + 2, __builtin_bswap16((uint16_t)(p->l3_len + p->l4_len)));
		p->buf[8] = (uint8_t)(2 + rnd(s) % 254); /* TTL >= 2: one hop left after NAT */
		p->buf[9] = proto;
	}
	rnd_bytes(s, l4(p), p->l4_len);
	if (proto == PROTO_UDP)
		put16(l4(p) + 4, __builtin_bswap16((uint16_t)p->l4_len));
	fill_checksums(p);
}

/* New addresses and ports for a FullNAT rewrite:
 * client:cport -> vip:port becomes snat:lport -> backend:targetport. */
struct nat {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

static void
make_nat(uint64_t *s, struct nat *n)
{
	rnd_bytes(s, n->src, 16);
	rnd_bytes(s, n->dst, 16);
	n->sport = (uint16_t)rnd(s);
	n->dport = (uint16_t)rnd(s);
}

/* Rewrite @p p as the dataplane does: fields changed in place, checksums
 * updated incrementally, never recomputed. */
static void
nat_rewrite(struct pkt *p, const struct nat *n)
{
	uint8_t *t = l4(p);
	uint8_t *l4c = t + l4_csum_off(p);
	int udp = p->proto == PROTO_UDP;
	uint16_t c = get16(l4c);

	if (p->v6) {
		uint8_t *src = p->buf + 8, *dst = p->buf + 24;
		c = udp ? csum_udp_update128(c, src, n->src) : csum_update128(c, src, n->src);
		c = udp ? csum_udp_update128(c, dst, n->dst) : csum_update128(c, dst, n->dst);
		memcpy(src, n->src, 16);
		memcpy(dst, n->dst, 16);
		p->buf[7]--; /* hop limit: no IPv6 header checksum */
	} else {
		uint8_t *src = p->buf + 12, *dst = p->buf + 16;
		uint32_t os = get32(src), od = get32(dst), ns, nd;
		uint16_t ipc = get16(p->buf + 10);
		uint16_t old_ttl_proto = get16(p->buf + 8);

		memcpy(&ns, n->src, 4);
		memcpy(&nd, n->dst, 4);
		ipc = csum_update32(ipc, os, ns);
		ipc = csum_update32(ipc, od, nd);
		p->buf[8]--;
		ipc = csum_update16(ipc, old_ttl_proto, get16(p->buf + 8));
		put16(p->buf + 10, ipc);
		c = udp ? csum_udp_update32(c, os, ns) : csum_update32(c, os, ns);
		c = udp ? csum_udp_update32(c, od, nd) : csum_update32(c, od, nd);
		put32(src, ns);
		put32(dst, nd);
	}
	c = udp ? csum_udp_update16(c, get16(t), n->sport) : csum_update16(c, get16(t), n->sport);
	c = udp ? csum_udp_update16(c, get16(t + 2), n->dport)
		: csum_update16(c, get16(t + 2), n->dport);
	put16(t, n->sport);
	put16(t + 2, n->dport);
	put16(l4c, c);
}

static void
check_random_packets(int v6, uint8_t proto)
{
	static struct pkt p;
	uint64_t s = test_seed ^ (uint64_t)(v6 * 2 + (proto == PROTO_UDP));

	for (int i = 0; i < N_PACKETS; i++) {
		struct nat n;
		uint16_t want_l4, got_l4;

		make_packet(&s, &p, v6, proto);
		make_nat(&s, &n);
		nat_rewrite(&p, &n);

		if (!v6 && get16(p.buf + 10) != ip4_csum_full(&p))
			fail_msg("seed 0x%llx packet %d: IP checksum %04x, full %04x",
				 (unsigned long long)test_seed, i, get16(p.buf + 10),
				 ip4_csum_full(&p));
		got_l4 = get16(l4(&p) + l4_csum_off(&p));
		want_l4 = l4_csum_full(&p);
		if (proto == PROTO_UDP)
			want_l4 = csum_udp_fix(want_l4);
		if (got_l4 != want_l4)
			fail_msg("seed 0x%llx packet %d (v%d proto %u len %zu): L4 checksum "
				 "%04x, full %04x",
				 (unsigned long long)test_seed, i, v6 ? 6 : 4, proto, p.l4_len,
				 got_l4, want_l4);
		if (!l4_verifies(&p))
			fail_msg("seed 0x%llx packet %d: receiver check fails",
				 (unsigned long long)test_seed, i);
	}
}

/* ---- random packets ---- */

static void
ipv4_tcp_incremental_update_equals_full_recompute(void **state)
{
	(void)state;
	check_random_packets(0, PROTO_TCP);
}

static void
ipv4_udp_incremental_update_equals_full_recompute(void **state)
{
	(void)state;
	check_random_packets(0, PROTO_UDP);
}

static void
ipv6_tcp_incremental_update_equals_full_recompute(void **state)
{
	(void)state;
	check_random_packets(1, PROTO_TCP);
}

static void
ipv6_udp_incremental_update_equals_full_recompute(void **state)
{
	(void)state;
	check_random_packets(1, PROTO_UDP);
}

static void
ttl_decrement_alone_keeps_ip_checksum_valid(void **state)
{
	(void)state;
	static struct pkt p;
	uint64_t s = test_seed;

	for (int i = 0; i < N_PACKETS; i++) {
		make_packet(&s, &p, 0, PROTO_UDP);
		uint16_t old = get16(p.buf + 8);
		p.buf[8]--;
		put16(p.buf + 10, csum_update16(get16(p.buf + 10), old, get16(p.buf + 8)));
		if (get16(p.buf + 10) != ip4_csum_full(&p))
			fail_msg("seed 0x%llx packet %d: TTL %u", (unsigned long long)test_seed, i,
				 p.buf[8]);
	}
}

/* ---- UDP special cases ---- */

static void
udp_fix_writes_zero_as_all_ones_and_keeps_the_rest(void **state)
{
	(void)state;
	assert_int_equal(csum_udp_fix(0), 0xffff);
	for (uint32_t c = 1; c <= 0xffff; c++)
		if (csum_udp_fix((uint16_t)c) != c)
			fail_msg("csum_udp_fix(%04x) = %04x", c, csum_udp_fix((uint16_t)c));
}

static void
udp_missing_checksum_stays_missing(void **state)
{
	(void)state;
	static struct pkt p;
	uint64_t s = test_seed;
	struct nat n;

	make_packet(&s, &p, 0, PROTO_UDP);
	put16(l4(&p) + 6, 0); /* the sender sent no checksum */
	make_nat(&s, &n);
	nat_rewrite(&p, &n);
	assert_int_equal(get16(l4(&p) + 6), 0);
	assert_int_equal(get16(p.buf + 10), ip4_csum_full(&p)); /* IP header still updated */
}

static void
udp_update_functions_leave_zero_alone(void **state)
{
	(void)state;
	uint8_t a[16], b[16];

	memset(a, 0x11, 16);
	memset(b, 0xee, 16);
	assert_int_equal(csum_udp_update16(0, 0x1234, 0x4321), 0);
	assert_int_equal(csum_udp_update32(0, 0x12345678, 0x87654321), 0);
	assert_int_equal(csum_udp_update128(0, a, b), 0);
}

/* Pick the destination port that makes the rewritten packet's checksum
 * compute to 0, then rewrite incrementally: the plain update gives 0, the
 * csum_udp_update16() must write 0xffff. */
static void
udp_update_that_computes_zero_is_written_as_all_ones(void **state)
{
	(void)state;
	static struct pkt p, q;
	uint64_t s = test_seed;
	struct nat n;
	uint32_t d;

	make_packet(&s, &p, 0, PROTO_UDP);
	make_nat(&s, &n);
	for (d = 0; d <= 0xffff; d++) {
		q = p;
		n.dport = (uint16_t)d;
		nat_rewrite(&q, &n);
		if (l4_csum_full(&q) == 0)
			break;
	}
	assert_true(d <= 0xffff); /* some port always sums to negative zero */

	/* the plain update of the last step yields 0 here */
	uint16_t before_dport = get16(p.buf + p.l3_len + 2);
	struct pkt r = p;
	struct nat n2 = n;
	n2.dport = before_dport; /* everything but the destination port */
	nat_rewrite(&r, &n2);
	assert_int_equal(csum_update16(get16(l4(&r) + 6), before_dport, n.dport), 0);

	assert_int_equal(get16(l4(&q) + 6), 0xffff);
	assert_true(l4_verifies(&q));
}

/* A first step that computes 0 is stored as 0xffff, so the second step still
 * updates it instead of taking it for "no checksum". */
static void
udp_chained_update_continues_after_a_zero_step(void **state)
{
	(void)state;
	static struct pkt p;
	uint64_t s = test_seed;
	uint32_t old_src, new_src = 0;
	uint8_t addr[4];
	uint16_t c, c1;
	int found = 0;

	make_packet(&s, &p, 0, PROTO_UDP);
	c = get16(l4(&p) + 6);
	old_src = get32(p.buf + 12);
	memcpy(addr, p.buf + 12, 4);
	/* vary the first two bytes of the source address until the plain
	 * update computes 0 */
	for (uint32_t w = 0; w <= 0xffff && !found; w++) {
		put16(addr, (uint16_t)w);
		new_src = get32(addr);
		found = csum_update32(c, old_src, new_src) == 0;
	}
	assert_true(found);
	c1 = csum_udp_update32(c, old_src, new_src);
	assert_int_equal(c1, 0xffff);
	put32(p.buf + 12, new_src);

	uint16_t old_dport = get16(l4(&p) + 2), new_dport = 0x5000;
	put16(l4(&p) + 2, new_dport);
	put16(l4(&p) + 6, csum_udp_update16(c1, old_dport, new_dport));
	assert_int_equal(get16(l4(&p) + 6), csum_udp_fix(l4_csum_full(&p)));
}

/* ---- the building blocks ---- */

static void
update128_accepts_unaligned_addresses(void **state)
{
	(void)state;
	uint8_t raw[40];
	uint64_t s = test_seed;
	uint8_t a[16], b[16];

	rnd_bytes(&s, a, 16);
	rnd_bytes(&s, b, 16);
	memcpy(raw + 1, a, 16);
	memcpy(raw + 19, b, 16);
	assert_int_equal(csum_update128(0x1234, raw + 1, raw + 19), csum_update128(0x1234, a, b));
}

static void
partial_of_odd_length_pads_with_a_zero_byte(void **state)
{
	(void)state;
	const uint8_t odd[3] = {0x12, 0x34, 0x56};
	const uint8_t even[4] = {0x12, 0x34, 0x56, 0x00};

	assert_int_equal(csum_fold32(csum_partial(odd, 3, 0)),
			 csum_fold32(csum_partial(even, 4, 0)));
}

static void
update_to_the_same_value_changes_nothing(void **state)
{
	(void)state;
	assert_int_equal(csum_update16(0xabcd, 0x1234, 0x1234), 0xabcd);
	assert_int_equal(csum_update32(0xabcd, 0x12345678, 0x12345678), 0xabcd);
}

/* RFC 1071's fold, written plainly: add the carries back until none is left. */
static uint16_t
fold_loop(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* csum_fold32() and csum_fold64() give what the plain fold gives, for the
 * edge values (all ones, one carry, zero halves) and random ones. */
static void
folds_equal_the_plain_end_around_fold(void **state)
{
	(void)state;
	static const uint64_t edge[] = {0,
					1,
					0xffff,
					0x10000,
					0x1ffff,
					0xfffe0001,
					0xffff0000,
					0x0000ffff,
					0xffffffff,
					0x100000000ull,
					0xffffffff00000000ull,
					0x00000000ffffffffull,
					0xffffffffffffffffull,
					0x8000000080000000ull};
	const unsigned n_edge = sizeof(edge) / sizeof(edge[0]);
	uint64_t s = test_seed;
	for (unsigned i = 0; i < n_edge + 100000; i++) {
		uint64_t v = i < n_edge ? edge[i] : rnd(&s);
		if (i >= n_edge && i % 3 == 0)
			v |= 0xffff0000ffff0000ull; /* many carries */
		assert_int_equal(csum_fold64(v), fold_loop(v));
		assert_int_equal(csum_fold32((uint32_t)v), fold_loop((uint32_t)v));
	}
}

/* Summing whole 32-bit words and folding with csum_fold64() gives the
 * 16-bit one's-complement sum of their halves, for sums of a few words and
 * of very many (carries out of 32 bits). */
static void
fold64_of_word_sums_equals_the_sum_of_halves(void **state)
{
	(void)state;
	uint64_t s = test_seed;
	for (unsigned round = 0; round < 10000; round++) {
		unsigned n = round < 9990 ? 1 + (unsigned)(rnd(&s) % 8) : 100000;
		uint64_t wide = 0;
		uint32_t halves = 0;
		for (unsigned i = 0; i < n; i++) {
			uint32_t w = round % 2 ? 0xffffffffu - (uint32_t)(rnd(&s) % 4)
					       : (uint32_t)(rnd(&s) >> 32);
			wide += w;
			halves = csum_fold32(halves) + (w & 0xffff) + (w >> 16);
		}
		uint16_t a = csum_fold64(wide), b = csum_fold32(halves);
		/* 0 and 0xffff are the same value in one's complement */
		assert_int_equal(a == 0xffff ? 0 : a, b == 0xffff ? 0 : b);
	}
}

int
main(void)
{
	const char *env = getenv("EDGELB_TEST_SEED");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(folds_equal_the_plain_end_around_fold),
	    cmocka_unit_test(ipv4_tcp_incremental_update_equals_full_recompute),
	    cmocka_unit_test(ipv4_udp_incremental_update_equals_full_recompute),
	    cmocka_unit_test(ipv6_tcp_incremental_update_equals_full_recompute),
	    cmocka_unit_test(ipv6_udp_incremental_update_equals_full_recompute),
	    cmocka_unit_test(ttl_decrement_alone_keeps_ip_checksum_valid),
	    cmocka_unit_test(udp_fix_writes_zero_as_all_ones_and_keeps_the_rest),
	    cmocka_unit_test(udp_missing_checksum_stays_missing),
	    cmocka_unit_test(udp_update_functions_leave_zero_alone),
	    cmocka_unit_test(udp_update_that_computes_zero_is_written_as_all_ones),
	    cmocka_unit_test(udp_chained_update_continues_after_a_zero_step),
	    cmocka_unit_test(update128_accepts_unaligned_addresses),
	    cmocka_unit_test(partial_of_odd_length_pads_with_a_zero_byte),
	    cmocka_unit_test(update_to_the_same_value_changes_nothing),
	    cmocka_unit_test(fold64_of_word_sums_equals_the_sum_of_halves),
	};

	if (env != NULL && *env != '\0')
		test_seed = strtoull(env, NULL, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
