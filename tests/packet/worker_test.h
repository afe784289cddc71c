/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of test_worker4.c and test_worker6.c (cmocka, after <cmocka.h>):
 * two workers whose frames are captured, the snapshot of a config file and
 * a manifest directory, a route from text, and a snapshot whose routes are
 * some given ones in front of a base snapshot's own.
 */
#ifndef EDGELB_WORKER_TEST_H
#define EDGELB_WORKER_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/snapshot.h"
#include "edgelb/types.h"
#include "edgelb/worker.h"

#define CAP_MAX 16

/* The frames a worker sent, in order: interface and the first bytes. A
 * port that takes at most @accept frames a call (0: all) leaves the rest to
 * the worker, as a full transmit queue does. */
struct capture {
	unsigned n;
	uint16_t accept;
	uint8_t iface[CAP_MAX];
	uint16_t len[CAP_MAX];
	uint8_t data[CAP_MAX][256];
};

static inline uint16_t
cap_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct capture *c = ctx;
	if (c->accept != 0 && n > c->accept)
		n = c->accept;
	for (uint16_t i = 0; i < n; i++) {
		if (c->n < CAP_MAX) {
			uint16_t len = (uint16_t)rte_pktmbuf_data_len(pkts[i]);
			if (len > sizeof(c->data[0]))
				len = sizeof(c->data[0]);
			memcpy(c->data[c->n], rte_pktmbuf_mtod(pkts[i], void *), len);
			c->len[c->n] = len;
			c->iface[c->n++] = iface;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

/* Two workers of one appliance (indices 0 and 1), each with a capture. */
struct pair {
	struct el_worker *w[2];
	struct capture cap[2];
};

/* Create both workers of @p p (zeroed first) on @p pool; with @p peers
 * each is the other's peer. @return 0 or -1 */
static inline int
pair_create(struct pair *p, struct rte_mempool *pool, bool peers)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 2; i++) {
		struct el_worker_conf conf;
		memset(&conf, 0, sizeof(conf));
		conf.index = i;
		conf.n_workers = 2;
		conf.max_flows = 1024;
		conf.socket_id = SOCKET_ID_ANY;
		conf.pool = pool;
		conf.tx = cap_tx;
		conf.tx_ctx = &p->cap[i];
		p->w[i] = worker_create(&conf);
		if (p->w[i] == NULL)
			return -1;
	}
	if (peers) {
		worker_set_peers(p->w[0], p->w, 2);
		worker_set_peers(p->w[1], p->w, 2);
	}
	return 0;
}

/* Feed @p m to worker 0 of @p p on interface @p in through snapshot @p s;
 * exactly one frame must leave, on @p out for destination MAC @p mac.
 * @return its index in worker 0's capture */
static inline unsigned
pair_one_out(struct pair *p, const struct el_snapshot *s, uint8_t in, struct rte_mbuf *m,
	     uint8_t out, const uint8_t mac[6])
{
	unsigned before = p->cap[0].n;
	assert_true(before < CAP_MAX);
	worker_process_burst(p->w[0], s, in, &m, 1, 1000);
	assert_int_equal(p->cap[0].n, before + 1);
	assert_int_equal(p->cap[0].iface[before], out);
	assert_memory_equal(p->cap[0].data[before], mac, 6);
	return before;
}

/* Feed @p m to worker 0 of @p p on interface @p in through snapshot @p s:
 * nothing may leave, and one drop for @p reason is counted. */
static inline void
pair_dropped(struct pair *p, const struct el_snapshot *s, uint8_t in, struct rte_mbuf *m,
	     enum el_drop reason)
{
	struct el_worker_stats a, b;
	unsigned before = p->cap[0].n;
	worker_stats_read(p->w[0], &a);
	worker_process_burst(p->w[0], s, in, &m, 1, 1000);
	worker_stats_read(p->w[0], &b);
	assert_int_equal(p->cap[0].n, before);
	assert_int_equal(b.drops[reason] - a.drops[reason], 1);
}

static inline int
pair_teardown(void **state)
{
	struct pair *p = *state;
	worker_destroy(p->w[0]);
	worker_destroy(p->w[1]);
	return 0;
}

/* What a test snapshot is made of, kept for freeing. */
struct test_snap {
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct el_snapshot *snap;
};

/* Compile the snapshot of config @p config_path and the manifests in
 * @p manifest_dir, interface 0 with MAC @p mac0 and 1 with @p mac1.
 * @return 0, or -1 with a message on stderr */
static inline int
test_snap_load(struct test_snap *t, const char *config_path, const char *manifest_dir,
	       const uint8_t mac0[6], const uint8_t mac1[6])
{
	char err[512];

	if (config_load(config_path, &t->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	el_model_init(&t->model);
	if (manifest_load_path(&t->model, manifest_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "manifests: %s\n", err);
		return -1;
	}
	t->cs = compile_state_new(&t->cfg);
	if (t->cs == NULL)
		return -1;
	compile_set_iface(t->cs, 0, 0, mac0);
	compile_set_iface(t->cs, 1, 1, mac1);
	if (compile_snapshot(t->cs, &t->model, &t->snap, err, sizeof(err)) < 0) {
		fprintf(stderr, "compile: %s\n", err);
		return -1;
	}
	return 0;
}

static inline void
test_snap_free(struct test_snap *t)
{
	compile_snapshot_free(t->cs, t->snap);
	compile_state_free(t->cs);
	el_model_free(&t->model);
	config_free(&t->cfg);
}

#define ROUTES_MAX 40

/* Route to @p to / @p len via @p via (NULL: directly connected) on @p iface. */
static inline struct el_snap_route
test_route(const char *to, uint8_t len, const char *via, uint8_t iface)
{
	struct el_snap_route r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(el_ip_parse(to, &r.to.addr), 0);
	r.to.len = len;
	if (via != NULL)
		assert_int_equal(el_ip_parse(via, &r.via), 0);
	r.iface = iface;
	return r;
}

struct routed {
	struct el_snapshot s;
	struct el_snap_route r[ROUTES_MAX];
};

/* @p base as a new generation whose routes are @p extra (longest prefix
 * first) followed by its own, without its default route of @p family when
 * @p drop_default. */
static inline void
routed(struct routed *out, const struct el_snapshot *base, const struct el_snap_route *extra,
       unsigned n_extra, bool drop_default, uint8_t family)
{
	unsigned n = 0;
	out->s = *base;
	for (unsigned i = 0; i < n_extra; i++)
		out->r[n++] = extra[i];
	for (unsigned i = 0; i < base->n_routes; i++) {
		const struct el_snap_route *r = &base->routes[i];
		assert_true(n < ROUTES_MAX);
		if (!drop_default || r->to.len != 0 || r->to.addr.family != family)
			out->r[n++] = *r;
	}
	out->s.routes = out->r;
	out->s.n_routes = n;
	out->s.generation = base->generation + 1 + n;
}

#endif
