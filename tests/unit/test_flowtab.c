/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow index (dataplane/flowtab.c) and the IPv4 connection table built
 * on it (dataplane/conntrack.c): every stored entry is found and nothing
 * else is, also when entries spill to their second bucket and move; a
 * refused insert changes nothing; the per-bucket spill counts stay exact
 * through random inserts and deletes; bulk lookups agree with single ones.
 *
 * Needs EAL memory for rte_malloc (--no-huge, no ports).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "../../dataplane/conntrack.h"
#include "eal_unit.h"
#include "../../dataplane/flowtab.h"

/* ---- a reference: the (hash, value) pairs that should be stored ---- */

struct ref {
	uint32_t h[4096];
	uint32_t v[4096];
	bool live[4096];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* flowtab_eq_fn over the reference: value v is an index into it */
static bool
ref_eq(const void *ctx, uint32_t v, const void *key)
{
	const struct ref *r = ctx;
	return r->live[v] && r->h[v] == *(const uint32_t *)key;
}

static int
find(const struct flowtab *t, const struct ref *r, uint32_t h, uint32_t *v)
{
	return flowtab_lookup(t, h, ref_eq, r, &h, v);
}

/* Recount what the buckets hold: entries, and for every bucket the
 * entries that live in their second bucket with it as their first. */
static void
assert_consistent(const struct flowtab *t)
{
	uint32_t n = t->mask + 1, total = 0;
	uint32_t *spilled = calloc(n, sizeof(*spilled));
	assert_non_null(spilled);
	for (uint32_t i = 0; i < n; i++) {
		const struct flowtab_bucket *b = &t->b[i];
		assert_int_equal(b->second & ~b->used, 0);
		for (unsigned s = 0; s < FLOWTAB_SLOTS; s++) {
			if (!((b->used >> s) & 1))
				continue;
			total++;
			if ((b->second >> s) & 1)
				spilled[flowtab_other(t, i, b->sig[s])]++;
		}
	}
	assert_int_equal(total, t->entries);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(spilled[i], t->b[i].spilled);
	free(spilled);
}

static void
other_bucket_is_an_involution_and_never_the_same(void **state)
{
	(void)state;
	struct flowtab t;
	assert_int_equal(flowtab_init(&t, 1024, SOCKET_ID_ANY), 0);
	for (uint32_t sig = 0; sig < 65536; sig += 7) {
		uint32_t b = rnd() & t.mask;
		uint32_t o = flowtab_other(&t, b, (uint16_t)sig);
		assert_int_not_equal(o, b);
		assert_true(o <= t.mask);
		assert_int_equal(flowtab_other(&t, o, (uint16_t)sig), b);
	}
	flowtab_free(&t);
}

static void
sized_to_stay_half_full(void **state)
{
	(void)state;
	struct flowtab t;
	assert_int_equal(flowtab_init(&t, 2 * 65536, SOCKET_ID_ANY), 0);
	/* 131072 entries, 8 slots a bucket, at most half used: 32768 buckets */
	assert_int_equal(t.mask + 1, 32768);
	assert_int_equal(flowtab_bytes(&t), 32768 * 64);
	flowtab_free(&t);
	assert_int_equal(flowtab_init(&t, 0, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(flowtab_init(&t, (1u << 30) + 1, SOCKET_ID_ANY), -EINVAL);
}

/* Hashes that all share one first bucket (and so one second bucket per
 * signature): the table must spill, then move entries, then refuse. */
static void
one_bucket_spills_moves_then_refuses_without_change(void **state)
{
	(void)state;
	static struct ref r;
	struct flowtab t;
	uint32_t v;
	memset(&r, 0, sizeof(r));
	assert_int_equal(flowtab_init(&t, 64, SOCKET_ID_ANY), 0); /* 16 buckets */

	unsigned stored = 0, refused = 0;
	for (uint32_t i = 0; i < 200; i++) {
		/* first bucket 3; the signature (top 16 bits) varies */
		r.h[i] = (i * 0x10001u + 1) << 16 | 3;
		int rc = flowtab_add(&t, r.h[i], i);
		if (rc == 0) {
			r.live[i] = true;
			stored++;
		} else {
			assert_int_equal(rc, -ENOSPC);
			refused++;
			uint32_t before = t.entries;
			assert_int_equal(find(&t, &r, r.h[i], &v), -ENOENT);
			assert_int_equal(t.entries, before);
		}
		assert_consistent(&t);
	}
	/* the first bucket and every second bucket filled up to its limit */
	assert_true(stored > FLOWTAB_SLOTS);
	assert_true(refused > 0);
	assert_true(t.b[3].spilled > 0);
	for (uint32_t i = 0; i < 200; i++)
		if (r.live[i]) {
			assert_int_equal(find(&t, &r, r.h[i], &v), 0);
			assert_int_equal(v, i);
		}
	/* delete them all: every delete finds its entry, the spills go back
	 * to zero */
	for (uint32_t i = 0; i < 200; i++)
		if (r.live[i]) {
			assert_int_equal(flowtab_del(&t, r.h[i], i), 0);
			r.live[i] = false;
			assert_int_equal(find(&t, &r, r.h[i], &v), -ENOENT);
			assert_int_equal(flowtab_del(&t, r.h[i], i), -ENOENT);
		}
	assert_consistent(&t);
	assert_int_equal(t.entries, 0);
	assert_int_equal(t.b[3].spilled, 0);
	flowtab_free(&t);
}

/* Random inserts and deletes at up to 95 % of the slots (far above the
 * load the table is sized for), checked against the reference. */
static void
random_churn_matches_the_reference(void **state)
{
	(void)state;
	static struct ref r;
	struct flowtab t;
	uint32_t v;
	memset(&r, 0, sizeof(r));
	/* 4096 entries asked: 1024 buckets; squeeze it to 256 buckets (2048
	 * slots) to work near full */
	assert_int_equal(flowtab_init(&t, 4096, SOCKET_ID_ANY), 0);
	t.mask = 255;

	unsigned live = 0, refused = 0;
	for (unsigned round = 0; round < 60000; round++) {
		uint32_t i = rnd() % 4096;
		if (r.live[i]) {
			assert_int_equal(flowtab_del(&t, r.h[i], i), 0);
			r.live[i] = false;
			live--;
		} else if (live < 2048 * 95 / 100) {
			r.h[i] = rnd();
			int rc = flowtab_add(&t, r.h[i], i);
			if (rc == 0) {
				r.live[i] = true;
				live++;
			} else {
				assert_int_equal(rc, -ENOSPC);
				refused++;
			}
		}
		if (round % 4096 == 0) {
			assert_consistent(&t);
			for (uint32_t j = 0; j < 4096; j++) {
				int rc = find(&t, &r, r.h[j], &v);
				if (r.live[j]) {
					assert_int_equal(rc, 0);
					assert_int_equal(v, j);
				} else {
					assert_int_equal(rc, -ENOENT);
				}
			}
		}
	}
	assert_int_equal(t.entries, live);
	assert_consistent(&t);
	assert_true(t.moves > 0);
	printf("live %u of 2048 slots, refused %u, moves %u\n", live, refused, t.moves);
	t.mask = 1023;
	flowtab_free(&t);
}

/* At the load it is sized for, the table never refuses an entry. */
static void
sized_table_takes_every_entry(void **state)
{
	(void)state;
	struct flowtab t;
	const uint32_t n = 1u << 18;
	assert_int_equal(flowtab_init(&t, n, SOCKET_ID_ANY), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(flowtab_add(&t, rnd(), i), 0);
	assert_int_equal(t.entries, n);
	assert_consistent(&t);
	flowtab_free(&t);
}

/* ---- the IPv4 connection table on top ---- */

static struct ct_flow4
flow4(uint32_t n, uint16_t sport)
{
	struct ct_flow4 f = {
	    .client = htonl(0xc6120000u + n),
	    .frontend = htonl(0xc6120064u),
	    .backend = htonl(0xc6120200u + n % 64),
	    .snat = htonl(0xc6130001u),
	    .cport = htons((uint16_t)(1024 + n % 50000)),
	    .fport = htons(80),
	    .bport = htons(8080),
	    .sport = htons(sport),
	    .proto = n % 3 == 0 ? IPPROTO_UDP : IPPROTO_TCP,
	};
	return f;
}

static void
conntrack4_finds_both_directions_and_only_them(void **state)
{
	(void)state;
	struct conntrack *ct = conntrack_create(1024, 0, SOCKET_ID_ANY);
	struct ct_meta m = {.svc_id = 1, .backend_id = 2};
	struct ct_key4 k;
	uint32_t idx, val;
	assert_non_null(ct);

	struct ct_flow4 f = flow4(7, 40000);
	assert_int_equal(conntrack_add4(ct, &f, &m, 0, &idx), 0);
	conntrack_client_key4(&f, &k);
	assert_int_equal(conntrack_lookup4(ct, &k, &val), 0);
	assert_int_equal(val, idx << 1 | CT_DIR_CLIENT);
	conntrack_reply_key4(&f, &k);
	assert_int_equal(conntrack_lookup4(ct, &k, &val), 0);
	assert_int_equal(val, idx << 1 | CT_DIR_REPLY);
	assert_true(conntrack_reply_in_use4(ct, f.backend, f.snat, f.bport, f.sport, f.proto));

	/* each field of either key matters, in both directions */
	struct ct_key4 c;
	conntrack_client_key4(&f, &c);
	for (unsigned field = 0; field < 5; field++) {
		struct ct_key4 x = c, y = k;
		switch (field) {
		case 0:
			x.src ^= htonl(1), y.src ^= htonl(1);
			break;
		case 1:
			x.dst ^= htonl(1), y.dst ^= htonl(1);
			break;
		case 2:
			x.sport ^= 1, y.sport ^= 1;
			break;
		case 3:
			x.dport ^= 1, y.dport ^= 1;
			break;
		default:
			x.proto = y.proto = IPPROTO_SCTP;
			break;
		}
		assert_int_equal(conntrack_lookup4(ct, &x, &val), -ENOENT);
		assert_int_equal(conntrack_lookup4(ct, &y, &val), -ENOENT);
	}
	/* the reply key read as a client key (addresses swapped) is not it */
	struct ct_key4 sw = {
	    .src = f.snat, .dst = f.backend, .sport = f.sport, .dport = f.bport, .proto = f.proto};
	assert_int_equal(conntrack_lookup4(ct, &sw, &val), -ENOENT);
	/* a key taken in either direction refuses the flow, changing nothing */
	struct ct_flow4 g = flow4(8, 40001);
	g.backend = f.backend, g.snat = f.snat, g.bport = f.bport, g.sport = f.sport;
	g.proto = f.proto;
	assert_int_equal(conntrack_add4(ct, &g, &m, 0, &idx), -EEXIST);
	assert_int_equal(conntrack_count(ct), 1);
	conntrack_destroy(ct);
}

static void
conntrack4_bulk_lookup_agrees_with_single_lookups(void **state)
{
	(void)state;
	const uint32_t n = 4096;
	struct conntrack *ct = conntrack_create(n, 0, SOCKET_ID_ANY);
	struct ct_meta m = {.svc_id = 1};
	uint32_t idx;
	assert_non_null(ct);
	for (uint32_t i = 0; i < n; i += 2) {
		struct ct_flow4 f = flow4(i, (uint16_t)(1024 + i));
		assert_int_equal(conntrack_add4(ct, &f, &m, 0, &idx), 0);
	}
	/* every odd flow was never added, every fourth one is deleted */
	for (uint32_t i = 0; i < n / 2; i += 2)
		conntrack_del4(ct, i);
	assert_int_equal(conntrack_count(ct), n / 4);

	for (uint32_t base = 0; base < n; base += 64) {
		struct ct_key4 keys[64];
		const struct ct_key4 *kp[64];
		uint32_t val[64];
		uint64_t hit;
		for (unsigned j = 0; j < 64; j++) {
			struct ct_flow4 f = flow4(base + j, (uint16_t)(1024 + base + j));
			if (j % 3 == 0)
				conntrack_reply_key4(&f, &keys[j]);
			else
				conntrack_client_key4(&f, &keys[j]);
			kp[j] = &keys[j];
		}
		conntrack_lookup4_bulk(ct, kp, 64, &hit, val);
		for (unsigned j = 0; j < 64; j++) {
			uint32_t one;
			int rc = conntrack_lookup4(ct, kp[j], &one);
			assert_int_equal((hit >> j) & 1, rc == 0);
			if (rc == 0)
				assert_int_equal(val[j], one);
		}
	}
	conntrack_destroy(ct);
}

static void
never_gone(void *ctx, const struct ct_flow4 *f, const struct ct_meta *m, bool idle)
{
	(void)f, (void)m, (void)idle;
	(*(unsigned *)ctx)++;
}

/* An empty table's sweep frees nothing but still counts the slots it
 * passed (a pending flush waits for a full pass), wrapping as usual; the
 * first flow added is then found where the position left off. */
static void
conntrack4_sweep_of_an_empty_table_still_moves(void **state)
{
	(void)state;
	struct conntrack *ct = conntrack_create(100, 0, SOCKET_ID_ANY);
	uint32_t tmo[EL_CT_NSTATES];
	unsigned gone = 0;
	assert_non_null(ct);
	for (unsigned i = 0; i < EL_CT_NSTATES; i++)
		tmo[i] = 1000;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(conntrack_sweep4(ct, 64, tmo, 0, NULL, never_gone, &gone), 0);
	assert_int_equal(conntrack_swept(ct), 192);
	assert_int_equal(ct->sweep_pos, 192 % 100);
	struct ct_flow4 f = flow4(1, 2000);
	struct ct_meta m = {.svc_id = 1};
	uint32_t idx;
	f.last_ms = 0;
	assert_int_equal(conntrack_add4(ct, &f, &m, 0, &idx), 0);
	/* idle past its timeout: the sweep that reaches slot idx frees it */
	unsigned freed = 0;
	for (unsigned i = 0; i < 2; i++)
		freed += conntrack_sweep4(ct, 64, tmo, 5000, NULL, never_gone, &gone);
	assert_int_equal(freed, 1);
	assert_int_equal(gone, 1);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_destroy(ct);
}

/* The table hash of an IPv4 key is CRC32-C over its 16 bytes with the
 * table's seed, however the key is built: from fields, from a packet's
 * headers, or read back. */
static void
conntrack4_hash_is_crc32c_of_the_key(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 1000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t src = (uint32_t)x, dst = (uint32_t)(x >> 32);
		uint16_t sport = (uint16_t)(x >> 7), dport = (uint16_t)(x >> 23);
		uint8_t proto = i & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		struct ct_key4 k, kp;
		uint8_t ip[20] = {0}, l4[4];

		memset(&k, 0xa5, sizeof(k));
		uint32_t h = conntrack_key4_set(&k, src, dst, sport, dport, proto);
		assert_int_equal(k.pad[0] | k.pad[1] | k.pad[2], 0);
		assert_int_equal(h, rte_hash_crc(&k, sizeof(k), CT_HASH_SEED));
		assert_int_equal(h, conntrack_hash4(&k));

		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		memcpy(l4, &sport, 2);
		memcpy(l4 + 2, &dport, 2);
		memset(&kp, 0x5a, sizeof(kp));
		assert_int_equal(conntrack_key4_from_pkt(&kp, ip, l4, proto), h);
		assert_memory_equal(&kp, &k, sizeof(k));
	}
}

static void
conntrack4_memory_per_flow_is_entries_and_buckets(void **state)
{
	(void)state;
	struct conntrack *ct = conntrack_create(65536, 0, SOCKET_ID_ANY);
	assert_non_null(ct);
	/* 32 + 12 bytes of entries and 2 keys x 16 bytes of buckets */
	size_t per = conntrack_bytes_per_flow(ct);
	assert_true(per >= 44 + 32);
	assert_true(per < 44 + 32 + 8);
	conntrack_destroy(ct);
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (eal_unit_init(argv[0]) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(other_bucket_is_an_involution_and_never_the_same),
	    cmocka_unit_test(sized_to_stay_half_full),
	    cmocka_unit_test(one_bucket_spills_moves_then_refuses_without_change),
	    cmocka_unit_test(random_churn_matches_the_reference),
	    cmocka_unit_test(sized_table_takes_every_entry),
	    cmocka_unit_test(conntrack4_finds_both_directions_and_only_them),
	    cmocka_unit_test(conntrack4_bulk_lookup_agrees_with_single_lookups),
	    cmocka_unit_test(conntrack4_sweep_of_an_empty_table_still_moves),
	    cmocka_unit_test(conntrack4_hash_is_crc32c_of_the_key),
	    cmocka_unit_test(conntrack4_memory_per_flow_is_entries_and_buckets),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
