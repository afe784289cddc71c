/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv6 half of the connection table (dataplane/conntrack.c): every flow
 * is found from both directions, a full table refuses new flows and never
 * evicts, the sweep frees flows idle past their state's timeout, affinity
 * entries expire, and the IPv4 half is left as it was.
 *
 * Needs EAL memory for rte_hash and rte_malloc (--no-huge, no ports).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_memory.h>

#include "../../dataplane/conntrack.h"
#include "eal_unit.h"

static void
ip6(const char *s, uint8_t a[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* A flow 2001:db8:c::N:cport -> 2001:db8:f::1:443 becoming
 * 2001:db8:5::1:sport -> 2001:db8:b::N:8080. */
static struct ct_flow6
flow(unsigned n, uint16_t cport, uint16_t sport, uint8_t proto)
{
	struct ct_flow6 f;
	char buf[64];

	memset(&f, 0, sizeof(f));
	snprintf(buf, sizeof(buf), "2001:db8:c::%x", n);
	ip6(buf, f.client);
	ip6("2001:db8:f::1", f.frontend);
	ip6("2001:db8:5::1", f.snat);
	snprintf(buf, sizeof(buf), "2001:db8:b::%x", n % 7 + 1);
	ip6(buf, f.backend);
	f.cport = htons(cport);
	f.fport = htons(443);
	f.sport = htons(sport);
	f.bport = htons(8080);
	f.proto = proto;
	f.tcp.state = proto == IPPROTO_TCP ? EL_CT_ESTABLISHED : EL_CT_UDP;
	return f;
}

static struct ct_meta
meta(uint32_t svc, uint32_t be)
{
	struct ct_meta m = {.svc_id = svc, .backend_id = be};
	m.created_s = 1;
	return m;
}

static struct conntrack *
table6(uint32_t flows6, uint32_t aff6)
{
	struct conntrack *ct = conntrack_create(1024, 64, SOCKET_ID_ANY);
	assert_non_null(ct);
	assert_int_equal(conntrack_enable6(ct, flows6, aff6, SOCKET_ID_ANY), 0);
	return ct;
}

static void
a_flow_is_found_from_both_directions(void **state)
{
	(void)state;
	struct conntrack *ct = table6(64, 0);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_TCP);
	struct ct_meta m = meta(7, 3);
	struct ct_key6 k;
	uint32_t idx, val;

	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	assert_int_equal(conntrack_count6(ct), 1);

	conntrack_key6_set(&k, f.client, f.frontend, f.cport, f.fport, f.proto);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), 0);
	assert_int_equal(val, idx << 1 | CT_DIR_CLIENT);

	conntrack_key6_set(&k, f.backend, f.snat, f.bport, f.sport, f.proto);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), 0);
	assert_int_equal(val, idx << 1 | CT_DIR_REPLY);

	assert_memory_equal(conntrack_flow6(ct, idx)->backend, f.backend, 16);
	assert_int_equal(conntrack_flow6(ct, idx)->flags & CT_F_USED, CT_F_USED);
	assert_int_equal(conntrack_meta6(ct, idx)->svc_id, 7);
	assert_int_equal(conntrack_meta6(ct, idx)->backend_id, 3);
	conntrack_destroy(ct);
}

static void
other_tuples_and_protocols_miss(void **state)
{
	(void)state;
	struct conntrack *ct = table6(64, 0);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_TCP);
	struct ct_meta m = meta(1, 1);
	struct ct_key6 k;
	uint32_t idx, val;

	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	conntrack_key6_set(&k, f.client, f.frontend, f.cport, f.fport, IPPROTO_UDP);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	conntrack_key6_set(&k, f.client, f.frontend, htons(40001), f.fport, f.proto);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	f.client[15] ^= 1;
	conntrack_key6_set(&k, f.client, f.frontend, f.cport, f.fport, f.proto);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	conntrack_destroy(ct);
}

static void
key6_set_hash_is_the_table_hash(void **state)
{
	(void)state;
	struct ct_flow6 f = flow(3, 1234, 5678, IPPROTO_UDP);
	struct ct_key6 k;

	memset(&k, 0xa5, sizeof(k));
	uint32_t sig = conntrack_key6_set(&k, f.client, f.frontend, f.cport, f.fport, f.proto);
	assert_int_equal(sig, conntrack_hash6(&k));
	assert_int_equal(sig, rte_hash_crc(&k, sizeof(k), CT_HASH_SEED6));
	assert_memory_equal(k.src, f.client, 16);
	assert_memory_equal(k.dst, f.frontend, 16);
	assert_int_equal(k.sport, f.cport);
	assert_int_equal(k.dport, f.fport);
	assert_int_equal(k.proto, IPPROTO_UDP);
	assert_int_equal(k.pad[0] | k.pad[1] | k.pad[2], 0);
}

static void
deleted_flow_is_gone_from_both_directions(void **state)
{
	(void)state;
	struct conntrack *ct = table6(64, 0);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_TCP);
	struct ct_meta m = meta(1, 1);
	struct ct_key6 k;
	uint32_t idx, val;

	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	conntrack_del6(ct, idx);
	assert_int_equal(conntrack_count6(ct), 0);
	conntrack_client_key6(&f, &k);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	conntrack_reply_key6(&f, &k);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	assert_false(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, f.sport, f.proto));
	/* deleting twice changes nothing */
	conntrack_del6(ct, idx);
	assert_int_equal(conntrack_count6(ct), 0);
	/* and the slot is reused */
	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	assert_int_equal(conntrack_count6(ct), 1);
	conntrack_destroy(ct);
}

static void
a_taken_key_is_refused_and_nothing_changes(void **state)
{
	(void)state;
	struct conntrack *ct = table6(64, 0);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_TCP);
	struct ct_meta m = meta(1, 1);
	uint32_t idx, idx2;

	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	/* same client key, other SNAT port */
	struct ct_flow6 g = f;
	g.sport = htons(2001);
	assert_int_equal(conntrack_add6(ct, &g, &m, &idx2), -EEXIST);
	/* other client, same reply key */
	struct ct_flow6 h = flow(8, 40000, 2000, IPPROTO_TCP);
	assert_memory_equal(h.backend, f.backend, 16);
	assert_int_equal(conntrack_add6(ct, &h, &m, &idx2), -EEXIST);
	assert_int_equal(conntrack_count6(ct), 1);
	/* a flow whose two keys are the same */
	struct ct_flow6 same = f;
	memcpy(same.backend, same.client, 16);
	memcpy(same.snat, same.frontend, 16);
	same.bport = same.cport;
	same.sport = same.fport;
	assert_int_equal(conntrack_add6(ct, &same, &m, &idx2), -EEXIST);
	assert_int_equal(conntrack_count6(ct), 1);
	conntrack_destroy(ct);
}

static void
full_table_refuses_and_never_evicts(void **state)
{
	(void)state;
	const uint32_t cap = 100;
	struct conntrack *ct = table6(cap, 0);
	struct ct_meta m = meta(1, 1);
	uint32_t idx, val;
	struct ct_key6 k;

	assert_int_equal(conntrack_capacity6(ct), cap);
	for (uint32_t i = 0; i < cap; i++) {
		struct ct_flow6 f =
		    flow(i + 1, (uint16_t)(10000 + i), (uint16_t)(20000 + i), IPPROTO_TCP);
		assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	}
	struct ct_flow6 extra = flow(5000, 30000, 30000, IPPROTO_TCP);
	assert_int_equal(conntrack_add6(ct, &extra, &m, &idx), -ENOSPC);
	assert_int_equal(conntrack_count6(ct), cap);
	for (uint32_t i = 0; i < cap; i++) {
		struct ct_flow6 f =
		    flow(i + 1, (uint16_t)(10000 + i), (uint16_t)(20000 + i), IPPROTO_TCP);
		conntrack_client_key6(&f, &k);
		assert_int_equal(conntrack_lookup6(ct, &k, &val), 0);
		conntrack_reply_key6(&f, &k);
		assert_int_equal(conntrack_lookup6(ct, &k, &val), 0);
	}
	conntrack_destroy(ct);
}

static void
table_without_ipv6_half_refuses_every_flow(void **state)
{
	(void)state;
	struct conntrack *ct = conntrack_create(64, 0, SOCKET_ID_ANY);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_TCP);
	struct ct_meta m = meta(1, 1);
	struct ct_key6 k;
	uint32_t idx, val;
	uint32_t timeouts[EL_CT_NSTATES] = {0};

	assert_non_null(ct);
	assert_int_equal(conntrack_capacity6(ct), 0);
	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), -ENOSPC);
	conntrack_client_key6(&f, &k);
	assert_int_equal(conntrack_lookup6(ct, &k, &val), -ENOENT);
	assert_false(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, f.sport, f.proto));
	assert_int_equal(conntrack_sweep6(ct, 64, timeouts, 0, NULL, NULL, NULL), 0);
	assert_int_equal(conntrack_aff_update6(ct, f.client, 1, 1, 1000, 0), -ENOSPC);
	assert_int_equal(conntrack_bytes_per_flow6(ct), 0);

	/* enabled with no flows: still refuses */
	assert_int_equal(conntrack_enable6(ct, 0, 0, SOCKET_ID_ANY), 0);
	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), -ENOSPC);
	conntrack_destroy(ct);
}

static void
enable6_refuses_bad_arguments(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 16);
	assert_int_equal(conntrack_enable6(ct, 16, 16, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(conntrack_enable6(NULL, 16, 0, SOCKET_ID_ANY), -EINVAL);
	conntrack_destroy(ct);
	ct = conntrack_create(16, 0, SOCKET_ID_ANY);
	assert_int_equal(conntrack_enable6(ct, (1u << 29) + 1, 0, SOCKET_ID_ANY), -EINVAL);
	conntrack_destroy(ct);
}

static void
reply_in_use6_sees_reply_keys_of_live_flows(void **state)
{
	(void)state;
	struct conntrack *ct = table6(64, 0);
	struct ct_flow6 f = flow(1, 40000, 2000, IPPROTO_UDP);
	struct ct_meta m = meta(1, 1);
	uint32_t idx;

	assert_false(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, f.sport, f.proto));
	assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	assert_true(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, f.sport, f.proto));
	assert_false(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, htons(2001), f.proto));
	assert_false(conntrack_reply_in_use6(ct, f.backend, f.snat, f.bport, f.sport, IPPROTO_TCP));
	/* a client key is a taken tuple too */
	assert_true(conntrack_reply_in_use6(ct, f.client, f.frontend, f.cport, f.fport, f.proto));
	conntrack_destroy(ct);
}

struct gone_log {
	unsigned n;
	unsigned idle;
	uint16_t cports[64];
};

static void
gone_record(void *ctx, const struct ct_flow6 *f, const struct ct_meta *m, bool idle)
{
	struct gone_log *g = ctx;
	(void)m;
	g->cports[g->n++] = ntohs(f->cport);
	g->idle += idle;
}

static bool
pick_backend_5(void *ctx, const struct ct_flow6 *f, const struct ct_meta *m)
{
	(void)ctx;
	(void)f;
	return m->backend_id == 5;
}

static void
sweep_frees_flows_idle_past_their_state_timeout(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 0);
	uint32_t timeouts[EL_CT_NSTATES];
	struct gone_log g = {0};
	uint32_t idx;

	for (unsigned s = 0; s < EL_CT_NSTATES; s++)
		timeouts[s] = 100000;
	timeouts[EL_CT_UDP] = 1000;
	timeouts[EL_CT_ESTABLISHED] = 5000;

	struct ct_flow6 u = flow(1, 1001, 2001, IPPROTO_UDP);
	struct ct_flow6 t = flow(2, 1002, 2002, IPPROTO_TCP);
	struct ct_meta m = meta(1, 1);
	u.last_ms = 10000;
	t.last_ms = 10000;
	assert_int_equal(conntrack_add6(ct, &u, &m, &idx), 0);
	assert_int_equal(conntrack_add6(ct, &t, &m, &idx), 0);

	/* 999 ms later: nothing idle long enough */
	assert_int_equal(conntrack_sweep6(ct, 16, timeouts, 10999, NULL, gone_record, &g), 0);
	/* 1000 ms: the UDP flow goes, the TCP one stays */
	assert_int_equal(conntrack_sweep6(ct, 16, timeouts, 11000, NULL, gone_record, &g), 1);
	assert_int_equal(g.cports[0], 1001);
	assert_int_equal(g.idle, 1);
	assert_int_equal(conntrack_count6(ct), 1);
	/* 5000 ms: the established one too */
	assert_int_equal(conntrack_sweep6(ct, 16, timeouts, 15000, NULL, gone_record, &g), 1);
	assert_int_equal(g.cports[1], 1002);
	assert_int_equal(conntrack_count6(ct), 0);
	assert_int_equal(conntrack_swept6(ct), 48);
	conntrack_destroy(ct);
}

static void
sweep_visits_only_its_budget_and_wraps(void **state)
{
	(void)state;
	struct conntrack *ct = table6(8, 0);
	uint32_t timeouts[EL_CT_NSTATES];
	struct gone_log g = {0};
	struct ct_meta m = meta(1, 1);
	uint32_t idx;

	for (unsigned s = 0; s < EL_CT_NSTATES; s++)
		timeouts[s] = 10;
	for (unsigned i = 0; i < 8; i++) {
		struct ct_flow6 f =
		    flow(i + 1, (uint16_t)(1000 + i), (uint16_t)(2000 + i), IPPROTO_UDP);
		assert_int_equal(conntrack_add6(ct, &f, &m, &idx), 0);
	}
	assert_int_equal(conntrack_sweep6(ct, 3, timeouts, 100, NULL, gone_record, &g), 3);
	assert_int_equal(conntrack_count6(ct), 5);
	assert_int_equal(conntrack_sweep6(ct, 3, timeouts, 100, NULL, gone_record, &g), 3);
	assert_int_equal(conntrack_sweep6(ct, 3, timeouts, 100, NULL, gone_record, &g), 2);
	assert_int_equal(conntrack_count6(ct), 0);
	assert_int_equal(conntrack_swept6(ct), 9);
	conntrack_destroy(ct);
}

static void
sweep_frees_flows_the_extra_test_picks(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 0);
	uint32_t timeouts[EL_CT_NSTATES];
	struct gone_log g = {0};
	uint32_t idx;

	for (unsigned s = 0; s < EL_CT_NSTATES; s++)
		timeouts[s] = 100000;
	struct ct_flow6 a = flow(1, 1001, 2001, IPPROTO_UDP);
	struct ct_flow6 b = flow(2, 1002, 2002, IPPROTO_UDP);
	struct ct_meta ma = meta(1, 5), mb = meta(1, 6);
	assert_int_equal(conntrack_add6(ct, &a, &ma, &idx), 0);
	assert_int_equal(conntrack_add6(ct, &b, &mb, &idx), 0);
	assert_int_equal(conntrack_sweep6(ct, 16, timeouts, 0, pick_backend_5, gone_record, &g), 1);
	assert_int_equal(g.cports[0], 1001);
	assert_int_equal(g.idle, 0);
	assert_int_equal(conntrack_count6(ct), 1);
	conntrack_destroy(ct);
}

static void
affinity6_holds_until_its_timeout(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 16);
	uint8_t c[16], c2[16];
	uint32_t be;

	ip6("2001:db8:c::1", c);
	ip6("2001:db8:c::2", c2);
	assert_int_equal(conntrack_aff_update6(ct, c, 9, 4, 10000, 1000), 0);
	assert_int_equal(conntrack_aff_count6(ct), 1);
	assert_int_equal(conntrack_aff_lookup6(ct, c, 9, 10999, &be), 0);
	assert_int_equal(be, 4);
	/* other client, other service: nothing */
	assert_int_equal(conntrack_aff_lookup6(ct, c2, 9, 2000, &be), -ENOENT);
	assert_int_equal(conntrack_aff_lookup6(ct, c, 8, 2000, &be), -ENOENT);
	/* expired at 1000 + 10000, and gone afterwards */
	assert_int_equal(conntrack_aff_lookup6(ct, c, 9, 11000, &be), -ENOENT);
	assert_int_equal(conntrack_aff_count6(ct), 0);
	conntrack_destroy(ct);
}

static void
affinity6_update_refreshes_and_sweep_expires(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 16);
	uint8_t c[16], c2[16];
	uint32_t be;

	ip6("2001:db8:c::1", c);
	ip6("2001:db8:c::2", c2);
	assert_int_equal(conntrack_aff_update6(ct, c, 9, 4, 1000, 0), 0);
	assert_int_equal(conntrack_aff_update6(ct, c2, 9, 5, 1000, 0), 0);
	assert_int_equal(conntrack_aff_update6(ct, c, 9, 6, 1000, 900), 0);
	assert_int_equal(conntrack_aff_count6(ct), 2);
	assert_int_equal(conntrack_aff_sweep6(ct, 16, 1000), 1);
	assert_int_equal(conntrack_aff_lookup6(ct, c2, 9, 1000, &be), -ENOENT);
	assert_int_equal(conntrack_aff_lookup6(ct, c, 9, 1000, &be), 0);
	assert_int_equal(be, 6);
	conntrack_aff_del6(ct, c, 9);
	assert_int_equal(conntrack_aff_lookup6(ct, c, 9, 1000, &be), -ENOENT);
	assert_int_equal(conntrack_aff_count6(ct), 0);
	conntrack_destroy(ct);
}

static void
affinity6_full_table_refuses(void **state)
{
	(void)state;
	struct conntrack *ct = table6(16, 4);
	uint8_t c[16];
	char buf[64];

	for (unsigned i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:c::%u", i + 1);
		ip6(buf, c);
		assert_int_equal(conntrack_aff_update6(ct, c, 1, i, 1000, 0), 0);
	}
	ip6("2001:db8:c::99", c);
	assert_int_equal(conntrack_aff_update6(ct, c, 1, 9, 1000, 0), -ENOSPC);
	assert_int_equal(conntrack_aff_count6(ct), 4);
	conntrack_destroy(ct);
}

static void
ipv4_half_is_unchanged_by_enable6(void **state)
{
	(void)state;
	struct conntrack *a = conntrack_create(4096, 0, SOCKET_ID_ANY);
	struct conntrack *b = conntrack_create(4096, 0, SOCKET_ID_ANY);
	assert_non_null(a);
	assert_non_null(b);
	size_t per4 = conntrack_bytes_per_flow(a);
	assert_int_equal(conntrack_enable6(b, 4096, 0, SOCKET_ID_ANY), 0);
	assert_int_equal(conntrack_bytes_per_flow(b), per4);
	assert_true(per4 <= 160);
	assert_int_equal(conntrack_capacity(b), 4096);
	assert_int_equal(conntrack_capacity6(b), 4096);

	/* families do not see each other's flows */
	struct ct_flow4 f4 = {.client = htonl(0xc6120001),
			      .frontend = htonl(0xc6120064),
			      .snat = htonl(0xc6120201),
			      .backend = htonl(0xc612020a),
			      .cport = htons(1000),
			      .fport = htons(80),
			      .sport = htons(2000),
			      .bport = htons(8080),
			      .proto = IPPROTO_TCP};
	struct ct_meta m4 = {.svc_id = 1, .backend_id = 1};
	struct ct_flow6 f6 = flow(1, 1000, 2000, IPPROTO_TCP);
	struct ct_meta m6 = meta(1, 1);
	uint32_t idx;
	assert_int_equal(conntrack_add4(b, &f4, &m4, 0, &idx), 0);
	assert_int_equal(conntrack_add6(b, &f6, &m6, &idx), 0);
	assert_int_equal(conntrack_count(b), 1);
	assert_int_equal(conntrack_count6(b), 1);
	conntrack_destroy(a);
	conntrack_destroy(b);
}

static void
bytes_per_flow6_is_measured(void **state)
{
	(void)state;
	struct conntrack *ct = table6(65536, 0);
	size_t per6 = conntrack_bytes_per_flow6(ct);
	/* 92 bytes of entries (80 + 12), and for each of the two keys a bucket
	 * slot (8 bytes of a 64-byte bucket) at most half the slots in use: at
	 * least 92 + 2 * 16; a power-of-two capacity needs no more than that */
	assert_true(per6 >= 92 + 2 * 16);
	assert_true(per6 < 92 + 2 * 16 + 8);
	printf("IPv6 bytes per flow: %zu (IPv4: %zu)\n", per6, conntrack_bytes_per_flow(ct));
	conntrack_destroy(ct);
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (eal_unit_init(argv[0]) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_flow_is_found_from_both_directions),
	    cmocka_unit_test(other_tuples_and_protocols_miss),
	    cmocka_unit_test(key6_set_hash_is_the_table_hash),
	    cmocka_unit_test(deleted_flow_is_gone_from_both_directions),
	    cmocka_unit_test(a_taken_key_is_refused_and_nothing_changes),
	    cmocka_unit_test(full_table_refuses_and_never_evicts),
	    cmocka_unit_test(table_without_ipv6_half_refuses_every_flow),
	    cmocka_unit_test(enable6_refuses_bad_arguments),
	    cmocka_unit_test(reply_in_use6_sees_reply_keys_of_live_flows),
	    cmocka_unit_test(sweep_frees_flows_idle_past_their_state_timeout),
	    cmocka_unit_test(sweep_visits_only_its_budget_and_wraps),
	    cmocka_unit_test(sweep_frees_flows_the_extra_test_picks),
	    cmocka_unit_test(affinity6_holds_until_its_timeout),
	    cmocka_unit_test(affinity6_update_refreshes_and_sweep_expires),
	    cmocka_unit_test(affinity6_full_table_refuses),
	    cmocka_unit_test(ipv4_half_is_unchanged_by_enable6),
	    cmocka_unit_test(bytes_per_flow6_is_measured),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
