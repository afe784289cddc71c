/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SNAT port choice (dataplane/snat_port.c): with an RSS key and a RETA, the
 * port chosen for a reply tuple makes the reply land on the intended queue;
 * without RSS, the port slices of the workers are disjoint and cover the
 * range, and the walk hands out ports in order. No EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "../../dataplane/snat_port.h"

/* The key of the Microsoft RSS specification ("Verifying the RSS Hash
 * Calculation"), padded to 52 bytes with arbitrary bytes. */
static const uint8_t ms_key[52] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43,
    0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb,
    0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01,
    0xfa, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
};

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t x[4] = {a, b, c, d};
	uint32_t v;
	memcpy(&v, x, 4);
	return v;
}

/* Deterministic pseudo-random numbers (xorshift), so a failure reproduces. */
static uint32_t rng_state = 0x12345678;
static uint32_t
rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static void
round_robin_reta(uint16_t *reta, unsigned size, unsigned queues)
{
	for (unsigned i = 0; i < size; i++)
		reta[i] = (uint16_t)(i % queues);
}

static bool
never_in_use(void *ctx, uint16_t port)
{
	(void)ctx;
	(void)port;
	return false;
}

static bool
even_ports_in_use(void *ctx, uint16_t port)
{
	(void)ctx;
	return (port & 1) == 0;
}

static bool
all_in_use(void *ctx, uint16_t port)
{
	unsigned *calls = ctx;
	(void)port;
	(*calls)++;
	return true;
}

static void
hash_matches_the_specification_vector(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[8];
	round_robin_reta(reta, 8, 2);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 8, 0), 0);
	/* source 66.9.149.187:2794 -> destination 161.142.100.80:1766 */
	uint32_t h =
	    snat_port_rss_hash(r, ip4(66, 9, 149, 187), ip4(161, 142, 100, 80), 2794, 1766);
	assert_int_equal(h, 0x51ccc178);
	free(r);
}

static void
byte_tables_agree_with_the_direct_hash(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[128];
	round_robin_reta(reta, 128, 4);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 128, 1), 0);
	for (int i = 0; i < 10000; i++) {
		uint32_t src = rnd(), dst = rnd();
		uint16_t sport = (uint16_t)rnd(), dport = (uint16_t)rnd();
		uint32_t base = snat_port_rss_base(r, src, dst, sport);
		uint32_t direct = snat_port_rss_hash(r, src, dst, sport, dport);
		assert_int_equal(reta[direct & 127], snat_port_rss_queue(r, base, dport));
		/* the base is the hash with port 0, bit 31 (the family mark) clear */
		assert_false(base & SNAT_PORT_BASE_V6);
		assert_int_equal((base ^ r->t[10][dport >> 8] ^ r->t[11][dport & 0xff]) &
				     ~SNAT_PORT_BASE_V6,
				 direct & ~SNAT_PORT_BASE_V6);
	}
	free(r);
}

/* For @queues queues, the port chosen for each queue's worker brings the
 * reply (checked with the direct Toeplitz hash) back to that queue. */
static void
check_steering(unsigned queues, unsigned reta_size)
{
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[512];
	round_robin_reta(reta, reta_size, queues);
	for (unsigned q = 0; q < queues; q++) {
		assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, reta_size, (uint16_t)q),
				 0);
		struct snat_port_cursor c;
		snat_port_cursor_init(&c, 1024, 65535);
		for (int i = 0; i < 2000; i++) {
			uint32_t backend = rnd(), snat = rnd();
			uint16_t bport = (uint16_t)rnd(), port = 0;
			uint32_t base = snat_port_rss_base(r, backend, snat, bport);
			assert_int_equal(
			    snat_port_pick(&c, r, base, never_in_use, NULL, SNAT_PORT_NONE, &port),
			    0);
			assert_true(port >= 1024);
			uint32_t h = snat_port_rss_hash(r, backend, snat, bport, port);
			assert_int_equal(reta[h % reta_size], q);
		}
	}
	free(r);
}

static void
chosen_port_steers_reply_to_own_queue_of_2(void **state)
{
	(void)state;
	check_steering(2, 128);
}

static void
chosen_port_steers_reply_to_own_queue_of_4(void **state)
{
	(void)state;
	check_steering(4, 512);
}

static void
steering_skips_ports_in_use(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[64];
	round_robin_reta(reta, 64, 4);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 64, 3), 0);
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 1024, 65535);
	for (int i = 0; i < 500; i++) {
		uint32_t b = rnd(), s = rnd();
		uint16_t bp = (uint16_t)rnd(), port;
		uint32_t base = snat_port_rss_base(r, b, s, bp);
		assert_int_equal(
		    snat_port_pick(&c, r, base, even_ports_in_use, NULL, SNAT_PORT_NONE, &port), 0);
		assert_int_equal(port & 1, 1);
		assert_int_equal(reta[snat_port_rss_hash(r, b, s, bp, port) & 63], 3);
	}
	free(r);
}

static void
rss_init_refuses_bad_sizes(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[512] = {0};
	assert_int_equal(snat_port_rss_init(r, ms_key, 12, reta, 64, 0), -EINVAL);
	assert_int_equal(snat_port_rss_init(r, ms_key, 53, reta, 64, 0), -EINVAL);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 96, 0), -EINVAL);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 1024, 0), -EINVAL);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 0, 0), -EINVAL);
	free(r);
}

static void
check_partition(unsigned n, uint16_t min, uint16_t max)
{
	struct snat_port_part p;
	assert_int_equal(snat_port_part_init(&p, n, min, max), 0);
	assert_int_equal(p.n, n);
	/* contiguous, in order, no gap, no overlap, from min to max */
	assert_int_equal(p.lo[0], min);
	assert_int_equal(p.hi[n - 1], max);
	for (unsigned i = 0; i < n; i++) {
		assert_true(p.lo[i] <= p.hi[i]);
		if (i > 0)
			assert_int_equal(p.lo[i], p.hi[i - 1] + 1);
		unsigned len = p.hi[i] - p.lo[i] + 1u;
		unsigned want = ((unsigned)max - min + 1u) / n;
		assert_true(len == want || len == want + 1);
	}
	/* every port has exactly one owner, the slice holding it */
	for (uint32_t port = min; port <= max; port++) {
		unsigned o = snat_port_part_owner(&p, (uint16_t)port);
		assert_true(o < n);
		assert_true(port >= p.lo[o] && port <= p.hi[o]);
	}
	if (min > 0)
		assert_int_equal(snat_port_part_owner(&p, (uint16_t)(min - 1)), n);
	if (max < 65535)
		assert_int_equal(snat_port_part_owner(&p, (uint16_t)(max + 1)), n);
}

static void
partition_slices_are_disjoint_and_cover_the_range(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= SNAT_PORT_MAX_PARTS; n++) {
		check_partition(n, 1024, 65535);
		check_partition(n, 2000, 2100);
		check_partition(n, 0, 65535);
	}
	check_partition(3, 100, 102);
}

static void
partition_refuses_more_workers_than_ports(void **state)
{
	(void)state;
	struct snat_port_part p;
	assert_int_equal(snat_port_part_init(&p, 4, 100, 102), -EINVAL);
	assert_int_equal(snat_port_part_init(&p, 0, 100, 102), -EINVAL);
	assert_int_equal(snat_port_part_init(&p, 17, 1024, 65535), -EINVAL);
	assert_int_equal(snat_port_part_init(&p, 1, 200, 100), -EINVAL);
}

static void
walk_hands_out_ports_in_order_from_the_slice_start(void **state)
{
	(void)state;
	struct snat_port_part p;
	assert_int_equal(snat_port_part_init(&p, 2, 1024, 65535), 0);
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, p.lo[1], p.hi[1]);
	for (unsigned i = 0; i < 5; i++) {
		uint16_t port;
		assert_int_equal(
		    snat_port_pick(&c, NULL, 0, never_in_use, NULL, SNAT_PORT_NONE, &port), 0);
		assert_int_equal(port, p.lo[1] + i);
	}
}

static void
walk_skips_ports_in_use_and_wraps(void **state)
{
	(void)state;
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 10, 14);
	c.next = 13;
	uint16_t got[4];
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    snat_port_pick(&c, NULL, 0, even_ports_in_use, NULL, SNAT_PORT_NONE, &got[i]),
		    0);
	assert_int_equal(got[0], 13);
	assert_int_equal(got[1], 11); /* 14 taken, wrap to 10 (taken), 11 */
	assert_int_equal(got[2], 13);
	assert_int_equal(got[3], 11);
}

static void
known_free_port_is_taken_without_asking(void **state)
{
	(void)state;
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 1024, 2047);
	c.next = 1500;
	unsigned calls = 0;
	uint16_t port;
	assert_int_equal(snat_port_pick(&c, NULL, 0, all_in_use, &calls, 1500, &port), 0);
	assert_int_equal(port, 1500);
	assert_int_equal(calls, 0);
	assert_int_equal(c.next, 1501);
}

/* A burst plans its ports ahead; when one planned port turned out taken,
 * the walk moved the cursor further than planned, and the next planned
 * (checked free) port is behind the cursor: it is still taken as is. */
static void
known_free_port_behind_the_cursor_is_taken_and_the_cursor_follows_it(void **state)
{
	(void)state;
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 10, 20);
	c.next = 15;
	unsigned calls = 0;
	uint16_t port;
	assert_int_equal(snat_port_pick(&c, NULL, 0, all_in_use, &calls, 12, &port), 0);
	assert_int_equal(port, 12);
	assert_int_equal(calls, 0);
	assert_int_equal(c.next, 13);
	/* the last port of the range wraps the cursor */
	assert_int_equal(snat_port_pick(&c, NULL, 0, all_in_use, &calls, 20, &port), 0);
	assert_int_equal(port, 20);
	assert_int_equal(c.next, 10);
}

static void
known_free_port_outside_the_range_is_ignored(void **state)
{
	(void)state;
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 10, 20);
	c.next = 12; /* 12 is even: in use */
	uint16_t port;
	assert_int_equal(snat_port_pick(&c, NULL, 0, even_ports_in_use, NULL, 9, &port), 0);
	assert_int_equal(port, 13);
	assert_int_equal(snat_port_pick(&c, NULL, 0, even_ports_in_use, NULL, 21, &port), 0);
	assert_int_equal(port, 15);
}

static void
peek_predicts_the_sequence_of_picks(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[64];
	round_robin_reta(reta, 64, 4);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 64, 2), 0);
	struct snat_port_cursor c, copy;
	snat_port_cursor_init(&c, 1024, 65535);
	copy = c;
	for (int i = 0; i < 100; i++) {
		uint32_t base = snat_port_rss_base(r, rnd(), rnd(), (uint16_t)rnd());
		uint16_t predicted, picked;
		assert_int_equal(snat_port_peek(&copy, r, base, &predicted), 0);
		assert_int_equal(
		    snat_port_pick(&c, r, base, never_in_use, NULL, SNAT_PORT_NONE, &picked), 0);
		assert_int_equal(predicted, picked);
		assert_int_equal(copy.next, c.next);
	}
	free(r);
}

static void
walk_reports_exhaustion_after_one_pass(void **state)
{
	(void)state;
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 1024, 2047);
	unsigned calls = 0;
	uint16_t port;
	assert_int_equal(snat_port_pick(&c, NULL, 0, all_in_use, &calls, SNAT_PORT_NONE, &port),
			 -ENOSPC);
	assert_int_equal(calls, 1024);
	assert_int_equal(c.next, 1024);
}

/* ---- IPv6 ---- */

static void
ip6(const char *s, uint8_t a[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void
rnd16(uint8_t a[16])
{
	for (int i = 0; i < 16; i += 4) {
		uint32_t v = rnd();
		memcpy(a + i, &v, 4);
	}
}

static void
hash6_matches_the_specification_vectors(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[8];
	round_robin_reta(reta, 8, 2);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 8, 0), 0);
	static const struct {
		const char *dst, *src;
		uint16_t dport, sport;
		uint32_t hash;
	} v[] = {
	    {"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x40207d3d},
	    {"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0xdde51bbf},
	    {"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251,
	     0x02d1feef},
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t s6[16], d6[16];
		ip6(v[i].src, s6);
		ip6(v[i].dst, d6);
		assert_int_equal(snat_port_rss_hash6(r, s6, d6, v[i].sport, v[i].dport), v[i].hash);
	}
	free(r);
}

static void
base6_is_the_hash_with_port_zero_marked_v6(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[64];
	round_robin_reta(reta, 64, 4);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 64, 0), 0);
	for (int i = 0; i < 5000; i++) {
		uint8_t s6[16], d6[16];
		rnd16(s6);
		rnd16(d6);
		uint16_t sport = (uint16_t)rnd();
		uint32_t base = snat_port_rss_base6(r, s6, d6, sport);
		assert_true(base & SNAT_PORT_BASE_V6);
		assert_int_equal(base & ~SNAT_PORT_BASE_V6,
				 snat_port_rss_hash6(r, s6, d6, sport, 0) & ~SNAT_PORT_BASE_V6);
	}
	free(r);
}

/* Linearity: the hash of a tuple with destination port p is the hash with
 * port 0 XOR the hash of the zero tuple with port p; the port tables of
 * snat_port_rss_queue() give exactly the second term. */
static void
dport_term6_is_linear_and_tabled(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[512];
	round_robin_reta(reta, 512, 3);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 512, 2), 0);
	const uint8_t zero[16] = {0};
	for (int i = 0; i < 5000; i++) {
		uint8_t s6[16], d6[16];
		rnd16(s6);
		rnd16(d6);
		uint16_t sport = (uint16_t)rnd(), dport = (uint16_t)rnd();
		uint32_t direct = snat_port_rss_hash6(r, s6, d6, sport, dport);
		uint32_t split = snat_port_rss_hash6(r, s6, d6, sport, 0) ^
				 snat_port_rss_hash6(r, zero, zero, 0, dport);
		assert_int_equal(direct, split);
		assert_int_equal(snat_port_rss_hash6(r, zero, zero, 0, dport),
				 r->t6d[0][dport >> 8] ^ r->t6d[1][dport & 0xff]);
		uint32_t base = snat_port_rss_base6(r, s6, d6, sport);
		assert_int_equal(snat_port_rss_queue(r, base, dport), reta[direct & 511]);
	}
	free(r);
}

/* The test above would pass with any key whose two port windows agree; this
 * one makes sure the key used does not hide a mix-up of the families. */
static void
v4_and_v6_port_terms_differ_for_the_specification_key(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[8];
	round_robin_reta(reta, 8, 2);
	assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, 8, 0), 0);
	unsigned differ = 0;
	for (unsigned p = 0; p < 256; p++)
		differ += r->t[11][p] != r->t6d[1][p];
	assert_true(differ > 200);
	free(r);
}

static void
check_steering6(unsigned queues, unsigned reta_size)
{
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[512];
	round_robin_reta(reta, reta_size, queues);
	for (unsigned q = 0; q < queues; q++) {
		assert_int_equal(snat_port_rss_init(r, ms_key, 52, reta, reta_size, (uint16_t)q),
				 0);
		struct snat_port_cursor c;
		snat_port_cursor_init(&c, 1024, 65535);
		for (int i = 0; i < 2000; i++) {
			uint8_t backend[16], snat[16];
			rnd16(backend);
			rnd16(snat);
			uint16_t bport = (uint16_t)rnd(), port = 0, peeked = 0;
			uint32_t base = snat_port_rss_base6(r, backend, snat, bport);
			struct snat_port_cursor copy = c;
			assert_int_equal(snat_port_peek(&copy, r, base, &peeked), 0);
			assert_int_equal(
			    snat_port_pick(&c, r, base, never_in_use, NULL, SNAT_PORT_NONE, &port),
			    0);
			assert_int_equal(port, peeked);
			assert_true(port >= 1024);
			uint32_t h = snat_port_rss_hash6(r, backend, snat, bport, port);
			assert_int_equal(reta[h % reta_size], q);
		}
	}
	free(r);
}

static void
chosen_port6_steers_reply_to_own_queue_of_2(void **state)
{
	(void)state;
	check_steering6(2, 128);
}

static void
chosen_port6_steers_reply_to_own_queue_of_4(void **state)
{
	(void)state;
	check_steering6(4, 512);
}

static void
steering6_skips_ports_in_use(void **state)
{
	(void)state;
	struct snat_port_rss *r = calloc(1, sizeof(*r));
	uint16_t reta[64];
	round_robin_reta(reta, 64, 4);
	assert_int_equal(snat_port_rss_init(r, ms_key, 40, reta, 64, 1), 0);
	struct snat_port_cursor c;
	snat_port_cursor_init(&c, 1024, 65535);
	for (int i = 0; i < 500; i++) {
		uint8_t b[16], s6[16];
		rnd16(b);
		rnd16(s6);
		uint16_t bp = (uint16_t)rnd(), port;
		uint32_t base = snat_port_rss_base6(r, b, s6, bp);
		assert_int_equal(
		    snat_port_pick(&c, r, base, even_ports_in_use, NULL, SNAT_PORT_NONE, &port), 0);
		assert_int_equal(port & 1, 1);
		assert_int_equal(reta[snat_port_rss_hash6(r, b, s6, bp, port) & 63], 1);
	}
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hash_matches_the_specification_vector),
	    cmocka_unit_test(byte_tables_agree_with_the_direct_hash),
	    cmocka_unit_test(chosen_port_steers_reply_to_own_queue_of_2),
	    cmocka_unit_test(chosen_port_steers_reply_to_own_queue_of_4),
	    cmocka_unit_test(steering_skips_ports_in_use),
	    cmocka_unit_test(rss_init_refuses_bad_sizes),
	    cmocka_unit_test(partition_slices_are_disjoint_and_cover_the_range),
	    cmocka_unit_test(partition_refuses_more_workers_than_ports),
	    cmocka_unit_test(walk_hands_out_ports_in_order_from_the_slice_start),
	    cmocka_unit_test(walk_skips_ports_in_use_and_wraps),
	    cmocka_unit_test(walk_reports_exhaustion_after_one_pass),
	    cmocka_unit_test(known_free_port_is_taken_without_asking),
	    cmocka_unit_test(known_free_port_behind_the_cursor_is_taken_and_the_cursor_follows_it),
	    cmocka_unit_test(known_free_port_outside_the_range_is_ignored),
	    cmocka_unit_test(peek_predicts_the_sequence_of_picks),
	    cmocka_unit_test(hash6_matches_the_specification_vectors),
	    cmocka_unit_test(base6_is_the_hash_with_port_zero_marked_v6),
	    cmocka_unit_test(dport_term6_is_linear_and_tabled),
	    cmocka_unit_test(v4_and_v6_port_terms_differ_for_the_specification_key),
	    cmocka_unit_test(chosen_port6_steers_reply_to_own_queue_of_2),
	    cmocka_unit_test(chosen_port6_steers_reply_to_own_queue_of_4),
	    cmocka_unit_test(steering6_skips_ports_in_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
