/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of test_worker4.c and test_worker6.c (cmocka, after <cmocka.h>):
 * the snapshot of a config file and a manifest directory, a route from
 * text, and a snapshot whose routes are some given ones in front of a base
 * snapshot's own.
 */
#ifndef EDGELB_WORKER_TEST_H
#define EDGELB_WORKER_TEST_H

#include <stdio.h>
#include <string.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/snapshot.h"
#include "edgelb/types.h"

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
