/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the compiler from the service model to a snapshot:
 * frontends of every kind, owned addresses, target port resolution, endpoint
 * selection, NodePort and LoadBalancer allocation, stable ids, sharing of
 * unchanged services between snapshots, removed backends, routes; and of
 * the incremental path (compile_assign, compile_touch, compile_update): a
 * change rebuilds only what it touches and gives the snapshot a whole
 * compile would give; and of dual-stack Services: one service object per
 * port and IP family, frontends, backends and LoadBalancer addresses per
 * family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"

#define EXAMPLES     EL_SRCDIR "/config/examples"
#define MAX_SNAPS    8
#define RANDOM_STEPS 400

struct fx {
	struct el_config cfg;
	struct el_model m;
	struct compile_state *cs;
	struct el_snapshot *snaps[MAX_SNAPS];
	unsigned n_snaps;
	unsigned max_snaps; /* snapshots kept alive by keep(); 0: MAX_SNAPS */
	char err[1024];
};

static int
strcmp_ptr(const char *const *a, const char *const *b)
{
	return strcmp(*a, *b);
}

static struct el_ip
ip(const char *s)
{
	struct el_ip a;
	if (el_ip_parse(s, &a) != 0)
		fail_msg("bad address %s", s);
	return a;
}

static struct el_cidr
cidr(const char *s)
{
	struct el_cidr c;
	if (el_cidr_parse(s, &c) != 0)
		fail_msg("bad prefix %s", s);
	return c;
}

/* The lab of config/edgelb.yaml: ext 198.18.0.1/24 with a default route,
 * int 198.18.2.1/24, SNAT on the int address, pool .100-.150. */
static void
lab_config(struct el_config *c)
{
	config_defaults(c);
	c->maglev_table_size = 251; /* small tables keep the tests fast */
	c->n_ifaces = 2;
	snprintf(c->ifaces[0].name, sizeof(c->ifaces[0].name), "ext");
	c->ifaces[0].addrs[0] = cidr("198.18.0.1/24");
	c->ifaces[0].n_addrs = 1;
	c->ifaces[0].routes[0].to = cidr("0.0.0.0/0");
	c->ifaces[0].routes[0].via = ip("198.18.0.254");
	c->ifaces[0].routes[1].to = cidr("198.18.4.0/22");
	c->ifaces[0].routes[1].via = ip("198.18.0.253");
	c->ifaces[0].n_routes = 2;
	snprintf(c->ifaces[1].name, sizeof(c->ifaces[1].name), "int");
	c->ifaces[1].addrs[0] = cidr("198.18.2.1/24");
	c->ifaces[1].n_addrs = 1;
	c->ifaces[1].routes[0].to = cidr("198.18.2.77/32");
	c->ifaces[1].routes[0].via = ip("198.18.2.254");
	c->ifaces[1].n_routes = 1;
	c->ifaces[1].neighbors[0].ip = ip("198.18.2.254");
	memcpy(c->ifaces[1].neighbors[0].mac, "\x02\x00\x00\x00\x02\xfe", 6);
	c->ifaces[1].n_neighbors = 1;
	c->snat[0] = ip("198.18.2.1");
	c->n_snat = 1;
	c->pools[0].first = ip("198.18.0.100");
	c->pools[0].last = ip("198.18.0.150");
	c->n_pools = 1;
}

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	lab_config(&f->cfg);
	el_model_init(&f->m);
	f->cs = compile_state_new(&f->cfg);
	*state = f;
	return f->cs == NULL ? -1 : 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < f->n_snaps; i++)
		compile_snapshot_free(f->cs, f->snaps[i]);
	compile_state_free(f->cs);
	el_model_free(&f->m);
	config_free(&f->cfg);
	free(f);
	return 0;
}

static void
load(struct fx *f, const char *yaml)
{
	int rc = manifest_load_buf(&f->m, yaml, strlen(yaml), "test", f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("manifest refused (%d): %s", rc, f->err);
}

static void
load_examples(struct fx *f)
{
	int rc = manifest_load_path(&f->m, EXAMPLES, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("examples refused (%d): %s", rc, f->err);
}

/* Compile; the fixture frees the snapshot. */
static int
compile(struct fx *f, struct el_snapshot **out)
{
	struct el_snapshot *s = NULL;
	f->err[0] = '\0';
	int rc = compile_snapshot(f->cs, &f->m, &s, f->err, sizeof(f->err));
	if (rc == 0) {
		assert_true(f->n_snaps < MAX_SNAPS);
		f->snaps[f->n_snaps++] = s;
	} else {
		assert_null(s);
	}
	if (out != NULL)
		*out = s;
	return rc;
}

static struct el_snapshot *
compile_ok(struct fx *f)
{
	struct el_snapshot *s;
	int rc = compile(f, &s);
	if (rc != 0)
		fail_msg("compile failed (%d): %s", rc, f->err);
	return s;
}

static const struct el_snap_svc *
svc_named(const struct el_snapshot *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_svcs; i++)
		if (strcmp(s->svcs[i]->name, name) == 0)
			return s->svcs[i];
	return NULL;
}

static const struct el_snap_svc *
svc_must(const struct el_snapshot *s, const char *name)
{
	const struct el_snap_svc *v = svc_named(s, name);
	if (v == NULL)
		fail_msg("no service port %s in the snapshot", name);
	return v;
}

static const struct el_snap_fe *
fe(const struct el_snapshot *s, const char *addr, uint16_t port, uint8_t proto)
{
	struct el_ip a = ip(addr);
	return snapshot_fe_lookup(s, &a, htons(port), proto);
}

/* The service port a frontend leads to; fails when there is none. */
static const struct el_snap_svc *
fe_svc(const struct el_snapshot *s, const char *addr, uint16_t port, uint8_t kind)
{
	const struct el_snap_fe *f = fe(s, addr, port, EL_PROTO_TCP);
	if (f == NULL)
		fail_msg("no frontend %s:%u", addr, port);
	assert_int_equal(f->kind, kind);
	assert_true(f->svc < s->n_svcs);
	return s->svcs[f->svc];
}

static bool
has_backend(const struct el_snap_svc *v, const char *addr, uint16_t port)
{
	struct el_ip a = ip(addr);
	for (uint32_t i = 0; i < v->n_backends; i++)
		if (el_ip_eq(&v->backends[i].ip, &a) && v->backends[i].port == htons(port))
			return true;
	return false;
}

static const char *one_slice_fmt = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
				   "metadata: {name: %s, labels: "
				   "{kubernetes.io/service-name: %s}}\n"
				   "addressType: IPv4\nports: [{name: \"\", port: %d}]\n"
				   "endpoints:\n%s";

static void
load_slice(struct fx *f, const char *name, const char *svc, int port, const char *eps)
{
	char doc[2048];
	snprintf(doc, sizeof(doc), one_slice_fmt, name, svc, port, eps);
	load(f, doc);
}

static void
load_svc(struct fx *f, const char *name, const char *spec)
{
	char doc[2048];
	snprintf(doc, sizeof(doc), "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n%s",
		 name, spec);
	load(f, doc);
}

/* ---- frontends ---- */

static void
cluster_ip_frontend_leads_to_its_service(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = fe_svc(s, "198.18.1.10", 80, EL_FE_CLUSTER_IP);
	assert_string_equal(v->name, "default/api-service:80");
	assert_null(fe(s, "198.18.1.10", 81, EL_PROTO_TCP));
	assert_null(fe(s, "198.18.1.10", 80, EL_PROTO_UDP));
}

static void
node_port_frontend_is_on_every_interface_address(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.1", 30080, EL_FE_NODE_PORT)->name,
			    "default/frontend:80");
	assert_string_equal(fe_svc(s, "198.18.2.1", 30080, EL_FE_NODE_PORT)->name,
			    "default/frontend:80");
	/* and the service keeps its clusterIP frontend on the service port */
	assert_string_equal(fe_svc(s, "198.18.1.2", 80, EL_FE_CLUSTER_IP)->name,
			    "default/frontend:80");
}

static void
external_ip_frontend_leads_to_its_service(void **state)
{
	struct fx *f = *state;
	load_svc(f, "ext", "  externalIPs: [198.18.0.9]\n  ports: [{port: 8000}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.9", 8000, EL_FE_EXTERNAL_IP)->name,
			    "default/ext:8000");
}

static void
load_balancer_ingress_frontend_uses_the_pool_address(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	/* pool order by name: sticky takes .100, web-lb .101; web-lb-fixed asked
	 * for .120 */
	assert_string_equal(fe_svc(s, "198.18.0.100", 80, EL_FE_LB_INGRESS)->name,
			    "default/sticky:80");
	assert_string_equal(fe_svc(s, "198.18.0.101", 443, EL_FE_LB_INGRESS)->name,
			    "default/web-lb:https");
	assert_string_equal(fe_svc(s, "198.18.0.120", 443, EL_FE_LB_INGRESS)->name,
			    "default/web-lb-fixed:https");
}

static void
unprogrammable_services_get_no_frontend(void **state)
{
	struct fx *f = *state;
	load_svc(f, "headless", "  clusterIP: None\n  ports: [{port: 80}]\n");
	load_svc(f, "cname", "  type: ExternalName\n  externalName: db.example.org\n");
	load(f, "apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n  labels: "
		"{service.kubernetes.io/service-proxy-name: x}\n"
		"spec: {clusterIP: 198.18.1.99, ports: [{port: 80}]}\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 0);
	assert_null(fe(s, "198.18.1.99", 80, EL_PROTO_TCP));
}

static void
sctp_ports_are_not_programmed(void **state)
{
	struct fx *f = *state;
	load_svc(f, "mixed",
		 "  clusterIP: 198.18.1.60\n  ports:\n"
		 "  - {name: a, port: 80}\n  - {name: b, port: 81, protocol: SCTP}\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 1);
	assert_string_equal(s->svcs[0]->name, "default/mixed:a");
}

static void
frontend_collision_keeps_the_first_service_and_warns(void **state)
{
	struct fx *f = *state;
	load_svc(f, "alpha", "  externalIPs: [198.18.0.9]\n  ports: [{port: 80}]\n");
	load_svc(f, "beta", "  externalIPs: [198.18.0.9]\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.9", 80, EL_FE_EXTERNAL_IP)->name,
			    "default/alpha:80");
	const char *const *w;
	assert_int_equal(compile_warnings(f->cs, &w), 1);
	assert_non_null(strstr(w[0], "default/beta:80"));
	assert_non_null(strstr(w[0], "198.18.0.9:80"));
	/* beta is still compiled: only the frontend is left out */
	assert_non_null(svc_named(s, "default/beta:80"));
}

static void
frontend_table_is_at_most_half_full(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	unsigned used = 0;
	for (uint32_t i = 0; i <= s->fe_mask; i++)
		used += s->fe[i].proto != 0;
	assert_true(used > 0);
	assert_true(2 * used <= s->fe_mask + 1);
	assert_int_equal((s->fe_mask + 1) & s->fe_mask, 0);
}

static void
ipv6_service_gets_ipv6_node_ports_and_pool_address(void **state)
{
	struct fx *f = *state;
	f->cfg.ifaces[0].addrs[1] = cidr("2001:db8::1/64");
	f->cfg.ifaces[0].n_addrs = 2;
	f->cfg.pools[1].first = ip("2001:db8:1::10");
	f->cfg.pools[1].last = ip("2001:db8:1::1f");
	f->cfg.n_pools = 2;
	load_svc(f, "six",
		 "  type: LoadBalancer\n  clusterIP: \"2001:db8:2::5\"\n"
		 "  ports: [{port: 80, nodePort: 30080}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "2001:db8::1", 30080, EL_FE_NODE_PORT)->name,
			    "default/six:80");
	assert_null(fe(s, "198.18.0.1", 30080, EL_PROTO_TCP));
	assert_string_equal(fe_svc(s, "2001:db8:1::10", 80, EL_FE_LB_INGRESS)->name,
			    "default/six:80");
	assert_string_equal(fe_svc(s, "2001:db8:2::5", 80, EL_FE_CLUSTER_IP)->name,
			    "default/six:80");
	struct el_ip a = ip("2001:db8::1");
	const struct el_snap_owned *o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_IFACE);
}

/* ---- owned addresses ---- */

static void
owned_addresses_have_their_kind(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	struct el_ip a;
	a = ip("198.18.0.1");
	const struct el_snap_owned *o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_IFACE);
	assert_int_equal(o->iface, 0);
	/* the int address is also the SNAT address: SNAT wins, iface kept */
	a = ip("198.18.2.1");
	o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_SNAT);
	assert_int_equal(o->iface, 1);
	a = ip("198.18.1.10");
	o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_VIP);
	a = ip("198.18.0.120");
	o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_VIP);
	a = ip("198.18.0.7");
	assert_null(snapshot_owned_lookup(s, &a));
	a = ip("198.18.2.11"); /* a pod */
	assert_null(snapshot_owned_lookup(s, &a));
}

static void
external_ips_are_owned(void **state)
{
	struct fx *f = *state;
	load_svc(f, "ext", "  externalIPs: [198.18.0.9]\n  ports: [{port: 8000}]\n");
	const struct el_snapshot *s = compile_ok(f);
	struct el_ip a = ip("198.18.0.9");
	const struct el_snap_owned *o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_VIP);
}

/* ---- backends ---- */

static void
named_target_port_resolves_per_endpoint_slice(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *http = svc_must(s, "default/multiport:http");
	assert_int_equal(http->n_backends, 3);
	assert_true(has_backend(http, "198.18.2.21", 8080));
	assert_true(has_backend(http, "198.18.2.22", 8080));
	assert_true(has_backend(http, "198.18.2.23", 8081));
	const struct el_snap_svc *https = svc_must(s, "default/multiport:https");
	assert_true(has_backend(https, "198.18.2.21", 8443));
	assert_true(has_backend(https, "198.18.2.23", 8444));
	const struct el_snap_svc *metrics = svc_must(s, "default/multiport:metrics");
	assert_true(has_backend(metrics, "198.18.2.23", 9100));
}

static void
named_target_port_falls_back_to_a_port_of_that_name(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{name: front, port: 80, targetPort: http}]\n");
	load(f, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		"metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\n"
		"addressType: IPv4\nports: [{name: http, port: 8088}]\n"
		"endpoints: [{addresses: [198.18.2.31]}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_true(has_backend(svc_must(s, "default/web:front"), "198.18.2.31", 8088));
}

static void
endpoints_port_is_matched_by_service_port_name(void **state)
{
	struct fx *f = *state;
	load_svc(f, "two",
		 "  ports:\n  - {name: a, port: 80, targetPort: 1000}\n"
		 "  - {name: b, port: 81, targetPort: 2000}\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: two}\nsubsets:\n"
		"- addresses: [{ip: 198.18.2.40}]\n"
		"  ports: [{name: a, port: 8001}, {name: b, port: 8002}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_true(has_backend(svc_must(s, "default/two:a"), "198.18.2.40", 8001));
	assert_true(has_backend(svc_must(s, "default/two:b"), "198.18.2.40", 8002));
}

static void
ready_endpoints_take_new_flows_and_terminating_ones_do_not(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load_slice(f, "web-1", "web", 8080,
		   "- {addresses: [198.18.2.11], conditions: {ready: true}}\n"
		   "- {addresses: [198.18.2.12], conditions: {ready: false, serving: true, "
		   "terminating: true}}\n"
		   "- {addresses: [198.18.2.13], conditions: {ready: false}}\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/web:80");
	assert_int_equal(v->n_backends, 1);
	assert_true(has_backend(v, "198.18.2.11", 8080));
	assert_int_equal(v->backends[0].cond, EL_BE_READY | EL_BE_SERVING);
}

static void
serving_terminating_endpoints_are_used_when_none_is_ready(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load_slice(f, "web-1", "web", 8080,
		   "- {addresses: [198.18.2.12], conditions: {ready: false, serving: true, "
		   "terminating: true}}\n"
		   "- {addresses: [198.18.2.13], conditions: {ready: false, serving: false, "
		   "terminating: true}}\n"
		   "- {addresses: [198.18.2.14], conditions: {ready: false}}\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/web:80");
	assert_int_equal(v->n_backends, 1);
	assert_true(has_backend(v, "198.18.2.12", 8080));
	assert_int_equal(v->backends[0].cond, EL_BE_SERVING | EL_BE_TERMINATING);
	assert_true(v->maglev_size > 0);
}

static void
no_usable_endpoint_gives_no_backends_and_no_table(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load_slice(f, "web-1", "web", 8080,
		   "- {addresses: [198.18.2.13], conditions: {ready: false}}\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets:\n"
		"- notReadyAddresses: [{ip: 198.18.2.14}]\n  ports: [{port: 8080}]\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/web:80");
	assert_int_equal(v->n_backends, 0);
	assert_int_equal(v->maglev_size, 0);
	assert_null(v->maglev);
}

static void
service_without_endpoints_has_no_backends(void **state)
{
	struct fx *f = *state;
	load_svc(f, "lonely", "  clusterIP: 198.18.1.70\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = fe_svc(s, "198.18.1.70", 80, EL_FE_CLUSTER_IP);
	assert_int_equal(v->n_backends, 0);
	assert_int_equal(v->maglev_size, 0);
}

static void
not_ready_addresses_of_endpoints_are_left_out(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets:\n"
		"- addresses: [{ip: 198.18.2.11}]\n"
		"  notReadyAddresses: [{ip: 198.18.2.12}]\n  ports: [{port: 8080}]\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/web:80");
	assert_int_equal(v->n_backends, 1);
	assert_true(has_backend(v, "198.18.2.11", 8080));
}

static void
same_pod_in_endpoints_and_slice_is_one_backend(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets:\n"
		"- addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}]\n  ports: [{port: 8080}]\n");
	load_slice(f, "web-1", "web", 8080, "- {addresses: [198.18.2.11]}\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(svc_must(s, "default/web:80")->n_backends, 2);
}

static void
backends_are_sorted_by_address_and_port(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load_slice(f, "web-2", "web", 8080,
		   "- {addresses: [198.18.2.30]}\n- {addresses: [198.18.2.4]}\n");
	load_slice(f, "web-1", "web", 8080, "- {addresses: [198.18.2.17]}\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/web:80");
	assert_int_equal(v->n_backends, 3);
	for (uint32_t i = 1; i < v->n_backends; i++)
		assert_true(el_ip_cmp(&v->backends[i - 1].ip, &v->backends[i].ip) < 0);
}

static void
maglev_table_indexes_every_backend(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/frontend:80");
	assert_int_equal(v->n_backends, 3);
	assert_true(v->maglev_size >= 251);
	unsigned seen[3] = {0};
	for (uint32_t i = 0; i < v->maglev_size; i++) {
		assert_true(v->maglev[i] < v->n_backends);
		seen[v->maglev[i]]++;
	}
	for (unsigned i = 0; i < 3; i++)
		assert_true(seen[i] > 0);
}

static void
affinity_and_source_ranges_are_copied(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v = svc_must(s, "default/sticky:80");
	assert_int_equal(v->affinity, 1);
	assert_int_equal(v->affinity_timeout, 600);
	v = svc_must(s, "default/web-lb-fixed:https");
	assert_int_equal(v->affinity, 0);
	assert_int_equal(v->n_src_ranges, 1);
	struct el_ip in = ip("198.18.0.77"), out = ip("198.18.9.1");
	assert_true(el_cidr_contains(&v->src_ranges[0], &in));
	assert_false(el_cidr_contains(&v->src_ranges[0], &out));
	assert_int_equal(svc_must(s, "default/web-lb:https")->n_src_ranges, 0);
}

/* ---- NodePort allocation ---- */

static const struct el_snap_fe *
node_port_of(const struct el_snapshot *s, const char *svc, uint16_t *port)
{
	for (uint32_t i = 0; i <= s->fe_mask; i++) {
		const struct el_snap_fe *x = &s->fe[i];
		if (x->proto != 0 && x->kind == EL_FE_NODE_PORT &&
		    strcmp(s->svcs[x->svc]->name, svc) == 0) {
			*port = ntohs(x->port);
			return x;
		}
	}
	fail_msg("no nodePort frontend for %s", svc);
	return NULL;
}

static void
node_port_is_allocated_from_the_range(void **state)
{
	struct fx *f = *state;
	load_svc(f, "np", "  type: NodePort\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	uint16_t port;
	node_port_of(s, "default/np:80", &port);
	assert_int_equal(port, 30000);
}

static void
allocated_node_port_is_stable_across_compiles(void **state)
{
	struct fx *f = *state;
	uint16_t before, after;
	load_svc(f, "mid", "  type: NodePort\n  ports: [{port: 80}]\n");
	node_port_of(compile_ok(f), "default/mid:80", &before);
	/* a service sorting before it, and the same service applied again
	 * without a nodePort */
	load_svc(f, "aaa", "  type: NodePort\n  ports: [{port: 80}]\n");
	load_svc(f, "mid", "  type: NodePort\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	node_port_of(s, "default/mid:80", &after);
	assert_int_equal(after, before);
	uint16_t other;
	node_port_of(s, "default/aaa:80", &other);
	assert_int_not_equal(other, before);
}

static void
explicit_node_port_is_honoured(void **state)
{
	struct fx *f = *state;
	load_svc(f, "np", "  type: NodePort\n  ports: [{port: 80, nodePort: 31234}]\n");
	uint16_t port;
	node_port_of(compile_ok(f), "default/np:80", &port);
	assert_int_equal(port, 31234);
}

static void
node_port_collision_is_refused_with_eexist(void **state)
{
	struct fx *f = *state;
	load_svc(f, "zeta", "  type: NodePort\n  ports: [{port: 80, nodePort: 30500}]\n");
	load_svc(f, "alpha", "  type: NodePort\n  ports: [{port: 81, nodePort: 30500}]\n");
	assert_int_equal(compile(f, NULL), -EEXIST);
	/* the later one is at fault, whatever the name order */
	assert_non_null(strstr(f->err, "default/alpha: spec.ports[0].nodePort"));
	assert_non_null(strstr(f->err, "default/zeta"));
}

static void
same_node_port_on_tcp_and_udp_is_no_collision(void **state)
{
	struct fx *f = *state;
	load_svc(f, "a",
		 "  type: NodePort\n  ports: [{port: 53, protocol: UDP, nodePort: 30053}]\n");
	load_svc(f, "b",
		 "  type: NodePort\n  ports: [{port: 53, protocol: TCP, nodePort: 30053}]\n");
	assert_int_equal(compile(f, NULL), 0);
}

static void
node_port_outside_the_range_is_refused(void **state)
{
	struct fx *f = *state;
	load_svc(f, "np", "  type: NodePort\n  ports: [{port: 80, nodePort: 8080}]\n");
	assert_int_equal(compile(f, NULL), -EINVAL);
	assert_non_null(strstr(f->err, "spec.ports[0].nodePort: 8080 is outside"));
}

static void
node_port_range_exhaustion_is_enospc(void **state)
{
	struct fx *f = *state;
	f->cfg.nodeport_min = 30000;
	f->cfg.nodeport_max = 30001;
	load_svc(f, "np",
		 "  type: NodePort\n  ports:\n  - {name: a, port: 80}\n"
		 "  - {name: b, port: 81}\n  - {name: c, port: 82}\n");
	assert_int_equal(compile(f, NULL), -ENOSPC);
	assert_non_null(strstr(f->err, "default/np: spec.ports[2].nodePort"));
}

static void
failed_compile_keeps_the_previous_allocations(void **state)
{
	struct fx *f = *state;
	uint16_t before, after;
	load_svc(f, "np", "  type: NodePort\n  ports: [{port: 80}]\n");
	node_port_of(compile_ok(f), "default/np:80", &before);
	load_svc(f, "bad", "  type: NodePort\n  ports: [{port: 80, nodePort: 99}]\n");
	assert_int_equal(compile(f, NULL), -EINVAL);
	assert_int_equal(model_delete_service(&f->m, "default", "bad"), 0);
	node_port_of(compile_ok(f), "default/np:80", &after);
	assert_int_equal(after, before);
}

/* ---- LoadBalancer allocation ---- */

static void
load_balancer_addresses_come_from_the_pool_in_order(void **state)
{
	struct fx *f = *state;
	load_svc(f, "one", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	load_svc(f, "two", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.100", 80, EL_FE_LB_INGRESS)->name,
			    "default/one:80");
	assert_string_equal(fe_svc(s, "198.18.0.101", 80, EL_FE_LB_INGRESS)->name,
			    "default/two:80");
}

static void
load_balancer_address_is_stable_across_compiles(void **state)
{
	struct fx *f = *state;
	load_svc(f, "mid", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	compile_ok(f);
	load_svc(f, "aaa", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.100", 80, EL_FE_LB_INGRESS)->name,
			    "default/mid:80");
	assert_string_equal(fe_svc(s, "198.18.0.101", 80, EL_FE_LB_INGRESS)->name,
			    "default/aaa:80");
}

static void
pool_exhaustion_is_enospc(void **state)
{
	struct fx *f = *state;
	f->cfg.pools[0].last = ip("198.18.0.100");
	load_svc(f, "one", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	load_svc(f, "two", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	assert_int_equal(compile(f, NULL), -ENOSPC);
	assert_non_null(strstr(f->err, "default/two"));
}

static void
load_balancer_ip_outside_the_pools_is_refused(void **state)
{
	struct fx *f = *state;
	load_svc(f, "lb",
		 "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.200\n"
		 "  ports: [{port: 80}]\n");
	assert_int_equal(compile(f, NULL), -EINVAL);
	assert_non_null(strstr(f->err, "default/lb: spec.loadBalancerIP: 198.18.0.200"));
}

static void
requested_load_balancer_ip_is_not_handed_to_another(void **state)
{
	struct fx *f = *state;
	load_svc(f, "auto", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	load_svc(f, "fixed",
		 "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.100\n"
		 "  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_string_equal(fe_svc(s, "198.18.0.100", 80, EL_FE_LB_INGRESS)->name,
			    "default/fixed:80");
	assert_string_equal(fe_svc(s, "198.18.0.101", 80, EL_FE_LB_INGRESS)->name,
			    "default/auto:80");
}

static void
writeback_fills_node_ports_and_ingress(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	compile_ok(f);
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	const struct el_service *s = model_find_service(&f->m, "default", "web-lb");
	assert_int_equal(s->n_lb_ingress, 1);
	struct el_ip want = ip("198.18.0.101");
	assert_true(el_ip_eq(&s->lb_ingress[0], &want));
	assert_true(s->lb_ingress_auto);
	assert_true(s->ports[0].node_port >= 30000);
	assert_true(s->ports[0].node_port_auto);
	s = model_find_service(&f->m, "default", "frontend");
	assert_int_equal(s->ports[0].node_port, 30080);
	assert_false(s->ports[0].node_port_auto);
	s = model_find_service(&f->m, "default", "api-service");
	assert_int_equal(s->ports[0].node_port, 0);
	assert_int_equal(s->n_lb_ingress, 0);
}

/* ---- ids, sharing, generations ---- */

static void
ids_are_stable_across_compiles(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	const struct el_snap_svc *va = svc_must(a, "default/frontend:80");
	uint32_t svc_id = va->id, be_id = va->backends[1].id;
	load_svc(f, "aaa", "  ports: [{port: 80}]\n");
	load_slice(f, "frontend-new", "frontend", 8080, "- {addresses: [198.18.2.9]}\n");
	const struct el_snapshot *b = compile_ok(f);
	const struct el_snap_svc *vb = svc_must(b, "default/frontend:80");
	assert_int_equal(vb->id, svc_id);
	assert_int_equal(vb->n_backends, 4);
	/* backends[1] was 198.18.2.12 and is backends[2] now */
	assert_true(has_backend(vb, "198.18.2.12", 8080));
	assert_int_equal(vb->backends[2].id, be_id);
	assert_int_not_equal(vb->backends[0].id, be_id);
}

static void
ids_of_distinct_service_ports_differ(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *s = compile_ok(f);
	for (uint32_t i = 0; i < s->n_svcs; i++)
		for (uint32_t j = i + 1; j < s->n_svcs; j++)
			assert_int_not_equal(s->svcs[i]->id, s->svcs[j]->id);
}

static void
deleted_and_recreated_service_gets_a_new_id(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	uint32_t first = svc_must(compile_ok(f), "default/web:80")->id;
	assert_int_equal(model_delete_service(&f->m, "default", "web"), 0);
	compile_ok(f);
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	assert_int_not_equal(svc_must(compile_ok(f), "default/web:80")->id, first);
}

static void
unchanged_services_are_shared_and_changed_ones_rebuilt(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	/* one pod of frontend starts terminating */
	load_slice(f, "frontend-7x2kq", "frontend", 8080,
		   "- {addresses: [198.18.2.11]}\n- {addresses: [198.18.2.12]}\n"
		   "- {addresses: [198.18.2.13], conditions: {ready: false, serving: true, "
		   "terminating: true}}\n");
	const struct el_snapshot *b = compile_ok(f);
	assert_ptr_equal(svc_must(a, "default/api-service:80"),
			 svc_must(b, "default/api-service:80"));
	assert_ptr_equal(svc_must(a, "default/multiport:http"),
			 svc_must(b, "default/multiport:http"));
	assert_ptr_equal(svc_must(a, "default/sticky:80")->maglev,
			 svc_must(b, "default/sticky:80")->maglev);
	const struct el_snap_svc *fa = svc_must(a, "default/frontend:80");
	const struct el_snap_svc *fb = svc_must(b, "default/frontend:80");
	assert_ptr_not_equal(fa, fb);
	assert_int_equal(fa->n_backends, 3);
	assert_int_equal(fb->n_backends, 2);
}

static void
freeing_an_old_snapshot_keeps_shared_objects(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	struct el_snapshot *a = compile_ok(f);
	load_svc(f, "aaa", "  ports: [{port: 80}]\n");
	const struct el_snapshot *b = compile_ok(f);
	const struct el_snap_svc *v = svc_must(b, "default/frontend:80");
	assert_ptr_equal(svc_must(a, "default/frontend:80"), v);
	/* free the first snapshot; the fixture must not free it again */
	f->snaps[0] = f->snaps[--f->n_snaps];
	compile_snapshot_free(f->cs, a);
	assert_int_equal(v->n_backends, 3); /* still readable (ASan checks) */
	assert_true(v->maglev[0] < 3);
}

static void
generation_increments_with_every_snapshot(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	uint64_t g1 = compile_ok(f)->generation;
	uint64_t g2 = compile_ok(f)->generation;
	assert_int_equal(g2, g1 + 1);
	load_svc(f, "np", "  type: NodePort\n  ports: [{port: 80, nodePort: 1}]\n");
	assert_int_not_equal(compile(f, NULL), 0);
	assert_int_equal(model_delete_service(&f->m, "default", "np"), 0);
	assert_int_equal(compile_ok(f)->generation, g2 + 1);
}

/* ---- removed backends ---- */

/* A UDP service ("dns", port 53 -> 5353) and its one slice. */
static void
load_dns(struct fx *f, const char *name, const char *eps)
{
	char doc[2048];

	snprintf(doc, sizeof(doc),
		 "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
		 "spec: {ports: [{port: 53, protocol: UDP, targetPort: 5353}]}\n---\n"
		 "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		 "metadata: {name: %s-a, labels: {kubernetes.io/service-name: %s}}\n"
		 "addressType: IPv4\nports: [{name: \"\", port: 5353, protocol: UDP}]\n"
		 "endpoints:\n%s",
		 name, name, name, eps);
	load(f, doc);
}

static void
removed_and_unserving_backends_are_reported(void **state)
{
	struct fx *f = *state;
	load_dns(f, "dns",
		 "- {addresses: [198.18.2.11]}\n- {addresses: [198.18.2.12]}\n"
		 "- {addresses: [198.18.2.13]}\n");
	const struct el_snapshot *a = compile_ok(f);
	const struct el_snap_svc *va = svc_must(a, "default/dns:53");
	uint32_t id11 = va->backends[0].id, id13 = va->backends[2].id;
	load_dns(f, "dns",
		 "- {addresses: [198.18.2.12]}\n"
		 "- {addresses: [198.18.2.13], conditions: {ready: false}}\n");
	const struct el_snapshot *b = compile_ok(f);
	uint32_t *ids;
	int n = compile_removed_backends(a, b, &ids);
	assert_int_equal(n, 2);
	assert_true((ids[0] == id11 && ids[1] == id13) || (ids[0] == id13 && ids[1] == id11));
	free(ids);
}

static void
tcp_backends_are_never_reported(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	/* TCP flows to a removed pod drain: nothing to flush */
	load_slice(f, "frontend-7x2kq", "frontend", 8080, "- {addresses: [198.18.2.12]}\n");
	assert_int_equal(model_delete_service(&f->m, "default", "api-service"), 0);
	const struct el_snapshot *b = compile_ok(f);
	uint32_t *ids = (uint32_t *)&ids;
	assert_int_equal(svc_must(b, "default/frontend:80")->n_backends, 1);
	assert_int_equal(compile_removed_backends(a, b, &ids), 0);
	assert_null(ids);
}

static void
nothing_is_reported_between_equal_snapshots(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	const struct el_snapshot *b = compile_ok(f);
	uint32_t *ids = (uint32_t *)&ids;
	assert_int_equal(compile_removed_backends(a, b, &ids), 0);
	assert_null(ids);
}

static void
deleted_service_reports_all_its_backends(void **state)
{
	struct fx *f = *state;
	load_dns(f, "dns", "- {addresses: [198.18.2.11]}\n- {addresses: [198.18.2.12]}\n");
	const struct el_snapshot *a = compile_ok(f);
	assert_int_equal(model_delete_service(&f->m, "default", "dns"), 0);
	const struct el_snapshot *b = compile_ok(f);
	uint32_t *ids;
	assert_int_equal(compile_removed_backends(a, b, &ids), 2);
	const struct el_snap_svc *v = svc_must(a, "default/dns:53");
	assert_true(ids[0] == v->backends[0].id || ids[1] == v->backends[0].id);
	free(ids);
}

/* ---- incremental compiles ---- */

/* Keep at most the newest max_snaps snapshots (a publisher keeps two). */
static void
keep(struct fx *f, struct el_snapshot *s)
{
	if (f->n_snaps == (f->max_snaps ? f->max_snaps : MAX_SNAPS)) {
		compile_snapshot_free(f->cs, f->snaps[0]);
		memmove(&f->snaps[0], &f->snaps[1], (MAX_SNAPS - 1) * sizeof(f->snaps[0]));
		f->n_snaps--;
	}
	f->snaps[f->n_snaps++] = s;
}

/* compile_update() after touching @p names (NULL-terminated). */
static struct el_snapshot *
update_ok(struct fx *f, ...)
{
	struct el_snapshot *s = NULL;
	const char *name;
	va_list ap;

	va_start(ap, f);
	while ((name = va_arg(ap, const char *)) != NULL)
		assert_int_equal(compile_touch(f->cs, "default", name), 0);
	va_end(ap);
	f->err[0] = '\0';
	if (compile_update(f->cs, &f->m, &s, f->err, sizeof(f->err)) != 0)
		fail_msg("compile_update failed: %s", f->err);
	keep(f, s);
	return s;
}

/* A Service parsed from YAML, not in the model yet. */
static struct el_service *
parse_svc(struct fx *f, const char *name, const char *spec)
{
	struct el_model scratch;
	char doc[2048];

	el_model_init(&scratch);
	snprintf(doc, sizeof(doc), "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n%s",
		 name, spec);
	if (manifest_load_buf(&scratch, doc, strlen(doc), "test", f->err, sizeof(f->err)) != 0)
		fail_msg("service refused: %s", f->err);
	struct el_service *sv = model_take_service(&scratch, "default", name);
	el_model_free(&scratch);
	return sv;
}

/* Put a Service the way the REST API does: allocate, store, touch. */
static int
put_svc(struct fx *f, const char *name, const char *spec)
{
	struct el_service *sv = parse_svc(f, name, spec);
	int rc = compile_assign(f->cs, &f->m, sv, f->err, sizeof(f->err));

	if (rc == 0)
		rc = model_put_service(&f->m, sv, f->err, sizeof(f->err));
	if (rc != 0) {
		model_service_free(sv);
		return rc;
	}
	return compile_touch(f->cs, "default", name);
}

static void
put_svc_ok(struct fx *f, const char *name, const char *spec)
{
	if (put_svc(f, name, spec) != 0)
		fail_msg("put %s refused: %s", name, f->err);
}

static void
update_rebuilds_only_the_touched_service(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	load_slice(f, "frontend-7x2kq", "frontend", 8080, "- {addresses: [198.18.2.11]}\n");
	const struct el_snapshot *b = update_ok(f, "frontend", NULL);
	assert_int_equal(b->generation, a->generation + 1);
	assert_int_equal(b->n_svcs, a->n_svcs);
	for (uint32_t i = 0; i < a->n_svcs; i++) {
		const struct el_snap_svc *v = a->svcs[i], *w = svc_must(b, v->name);
		if (strcmp(v->name, "default/frontend:80") == 0)
			assert_ptr_not_equal(v, w);
		else
			assert_ptr_equal(v, w);
	}
	assert_int_equal(svc_must(b, "default/frontend:80")->n_backends, 1);
	/* its frontends still lead to it */
	assert_string_equal(fe_svc(b, "198.18.0.1", 30080, EL_FE_NODE_PORT)->name,
			    "default/frontend:80");
}

static void
update_without_touch_changes_nothing_but_the_generation(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	const struct el_snapshot *a = compile_ok(f);
	/* a change nobody touched is not seen: touching is the contract */
	load_slice(f, "frontend-7x2kq", "frontend", 8080, "- {addresses: [198.18.2.11]}\n");
	const struct el_snapshot *b = update_ok(f, NULL);
	for (uint32_t i = 0; i < a->n_svcs; i++)
		assert_ptr_equal(a->svcs[i], svc_must(b, a->svcs[i]->name));
	uint32_t *ids = (uint32_t *)&ids;
	assert_int_equal(compile_removed_since(f->cs, a, b, &ids), 0);
	assert_null(ids);
}

static void
deleted_service_leaves_no_frontend_and_no_vip(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	compile_ok(f);
	assert_int_equal(model_delete_service(&f->m, "default", "api-service"), 0);
	const struct el_snapshot *s = update_ok(f, "api-service", NULL);
	assert_null(svc_named(s, "default/api-service:80"));
	assert_null(fe(s, "198.18.1.10", 80, EL_PROTO_TCP));
	struct el_ip vip = ip("198.18.1.10");
	assert_null(snapshot_owned_lookup(s, &vip));
	for (uint32_t i = 0; i <= s->fe_mask; i++)
		if (s->fe[i].proto != 0)
			assert_true(s->fe[i].svc < s->n_svcs);
}

static void
frontend_goes_to_the_next_claimant_when_its_owner_leaves(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	put_svc_ok(f, "beta", "  externalIPs: [198.18.0.9]\n  ports: [{port: 80}]\n");
	put_svc_ok(f, "alpha", "  externalIPs: [198.18.0.9]\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = update_ok(f, NULL);
	assert_string_equal(fe_svc(s, "198.18.0.9", 80, EL_FE_EXTERNAL_IP)->name,
			    "default/alpha:80");
	const char *const *w;
	assert_true(compile_warnings(f->cs, &w) >= 1);
	assert_non_null(strstr(w[0], "default/beta:80 left out"));
	assert_int_equal(model_delete_service(&f->m, "default", "alpha"), 0);
	s = update_ok(f, "alpha", NULL);
	assert_string_equal(fe_svc(s, "198.18.0.9", 80, EL_FE_EXTERNAL_IP)->name,
			    "default/beta:80");
	assert_int_equal(compile_warnings(f->cs, &w), 0);
}

static void
assign_gives_the_lowest_free_node_port(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	put_svc_ok(f, "a", "  type: NodePort\n  ports: [{port: 80, nodePort: 30000}]\n");
	put_svc_ok(f, "b", "  type: NodePort\n  ports: [{port: 80}]\n");
	const struct el_service *b = model_find_service(&f->m, "default", "b");
	assert_int_equal(b->ports[0].node_port, 30001);
	assert_true(b->ports[0].node_port_auto);
	assert_false(model_find_service(&f->m, "default", "a")->ports[0].node_port_auto);
	uint16_t port;
	node_port_of(update_ok(f, NULL), "default/b:80", &port);
	assert_int_equal(port, 30001);
}

static void
assign_refuses_a_node_port_another_service_holds(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	put_svc_ok(f, "a", "  type: NodePort\n  ports: [{port: 80}]\n");
	assert_int_equal(
	    put_svc(f, "b", "  type: NodePort\n  ports: [{port: 81, nodePort: 30000}]\n"), -EEXIST);
	assert_non_null(strstr(f->err, "spec.ports[0].nodePort"));
	assert_non_null(strstr(f->err, "default/a"));
	/* the same service asking for what it holds is fine */
	put_svc_ok(f, "a", "  type: NodePort\n  ports: [{port: 80, nodePort: 30000}]\n");
}

static void
assign_refuses_a_node_port_outside_the_range(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	assert_int_equal(
	    put_svc(f, "a", "  type: NodePort\n  ports: [{port: 80, nodePort: 8080}]\n"), -EINVAL);
	assert_non_null(strstr(f->err, "not in the valid range"));
}

static void
assign_reports_a_full_range_as_enospc(void **state)
{
	struct fx *f = *state;
	f->cfg.nodeport_min = 30000;
	f->cfg.nodeport_max = 30001;
	compile_ok(f);
	put_svc_ok(f, "a",
		   "  type: NodePort\n  ports: [{name: x, port: 80}, {name: y, port: 81}]\n");
	assert_int_equal(put_svc(f, "b", "  type: NodePort\n  ports: [{port: 80}]\n"), -ENOSPC);
	assert_non_null(strstr(f->err, "range is full"));
	/* releasing gives the ports back */
	compile_release(f->cs, "default", "a");
	assert_int_equal(model_delete_service(&f->m, "default", "a"), 0);
	put_svc_ok(f, "b", "  type: NodePort\n  ports: [{port: 80}]\n");
	assert_int_equal(model_find_service(&f->m, "default", "b")->ports[0].node_port, 30000);
}

static void
assign_shares_a_requested_address_only_on_other_ports(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	put_svc_ok(
	    f, "a",
	    "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.110\n  ports: [{port: 443}]\n");
	put_svc_ok(f, "b",
		   "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.110\n  ports: [{port: 80}]\n");
	assert_int_equal(put_svc(f, "c",
				 "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.110\n"
				 "  ports: [{port: 80}]\n"),
			 -EEXIST);
	assert_non_null(strstr(f->err, "on the same port"));
	/* an address edgelb chose is not shared */
	put_svc_ok(f, "d", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	const struct el_service *d = model_find_service(&f->m, "default", "d");
	char buf[EL_IP_STRLEN];
	assert_int_equal(d->n_lb_ingress, 1);
	el_ip_fmt(&d->lb_ingress[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.100");
	assert_int_equal(put_svc(f, "e",
				 "  type: LoadBalancer\n  loadBalancerIP: 198.18.0.100\n"
				 "  ports: [{port: 8443}]\n"),
			 -EEXIST);
}

static void
assign_keeps_the_address_held_and_releases_it_on_type_change(void **state)
{
	struct fx *f = *state;
	compile_ok(f);
	put_svc_ok(f, "a", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	put_svc_ok(f, "a", "  type: LoadBalancer\n  ports: [{port: 81}]\n");
	char buf[EL_IP_STRLEN];
	const struct el_service *a = model_find_service(&f->m, "default", "a");
	el_ip_fmt(&a->lb_ingress[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.100");
	put_svc_ok(f, "a", "  type: ClusterIP\n  ports: [{port: 81}]\n");
	a = model_find_service(&f->m, "default", "a");
	assert_int_equal(a->n_lb_ingress, 0);
	assert_int_equal(a->ports[0].node_port, 0);
	put_svc_ok(f, "b", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	const struct el_service *b = model_find_service(&f->m, "default", "b");
	el_ip_fmt(&b->lb_ingress[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.100");
	assert_int_equal(b->ports[0].node_port, 30000);
}

static void
writeback_clears_what_edgelb_no_longer_holds(void **state)
{
	struct fx *f = *state;
	load_svc(f, "lb", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	compile_ok(f);
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	struct el_service *s = model_find_service(&f->m, "default", "lb");
	assert_int_equal(s->n_lb_ingress, 1);
	assert_true(s->ports[0].node_port_auto);
	/* the same object turns ClusterIP behind the compiler's back */
	s->type = EL_SVC_CLUSTER_IP;
	compile_ok(f);
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	assert_int_equal(s->n_lb_ingress, 0);
	assert_int_equal(s->ports[0].node_port, 0);
}

static void
removed_since_matches_the_full_comparison(void **state)
{
	struct fx *f = *state;
	load_examples(f);
	load_dns(f, "dns",
		 "- {addresses: [198.18.2.11]}\n- {addresses: [198.18.2.12]}\n"
		 "- {addresses: [198.18.2.13]}\n");
	load_dns(f, "dns2", "- {addresses: [198.18.2.21]}\n- {addresses: [198.18.2.22]}\n");
	const struct el_snapshot *a = compile_ok(f);
	load_dns(f, "dns",
		 "- {addresses: [198.18.2.12]}\n"
		 "- {addresses: [198.18.2.13], conditions: {ready: false}}\n");
	assert_int_equal(model_delete_service(&f->m, "default", "dns2"), 0);
	load_slice(f, "frontend-7x2kq", "frontend", 8080, "- {addresses: [198.18.2.12]}\n");
	const struct el_snapshot *b = update_ok(f, "dns", "dns2", "frontend", NULL);
	uint32_t *fast, *full;
	int n = compile_removed_since(f->cs, a, b, &fast);
	assert_int_equal(compile_removed_backends(a, b, &full), n);
	assert_int_equal(n, 4); /* 2 of dns, 2 of dns2; none of frontend (TCP) */
	assert_memory_equal(fast, full, (size_t)n * sizeof(*fast));
	free(fast);
	free(full);
}

/* Every frontend, owned address and service port of a snapshot as sorted
 * text (names, not ids: two compile states number differently). */
static char *
describe(const struct el_snapshot *s)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap), **lines;
	unsigned n = 0, max = s->fe_mask + 1 + s->own_mask + 1 + s->n_svcs;
	char ipb[EL_IP_STRLEN];

	assert_non_null(out);
	lines = calloc(max, sizeof(*lines));
	assert_non_null(lines);
	for (uint32_t i = 0; i <= s->fe_mask; i++) {
		const struct el_snap_fe *x = &s->fe[i];
		if (x->proto == 0)
			continue;
		assert_ptr_equal(snapshot_fe_lookup(s, &x->ip, x->port, x->proto), x);
		assert_true(asprintf(&lines[n++], "fe %s:%u/%u %u %s %u",
				     el_ip_fmt(&x->ip, ipb, sizeof(ipb)), ntohs(x->port), x->proto,
				     x->kind, s->svcs[x->svc]->name, s->svcs[x->svc]->family) > 0);
	}
	for (uint32_t i = 0; i <= s->own_mask; i++) {
		const struct el_snap_owned *o = &s->own[i];
		if (o->kind == 0)
			continue;
		assert_ptr_equal(snapshot_owned_lookup(s, &o->ip), o);
		assert_true(asprintf(&lines[n++], "own %s %u %u",
				     el_ip_fmt(&o->ip, ipb, sizeof(ipb)), o->kind, o->iface) > 0);
	}
	for (uint32_t i = 0; i < s->n_svcs; i++) {
		const struct el_snap_svc *v = s->svcs[i];
		char be[2048] = "";
		size_t bl = 0;
		for (uint32_t j = 0; j < v->n_backends && bl + 64 < sizeof(be); j++)
			bl += (size_t)snprintf(be + bl, sizeof(be) - bl, " %s:%u/%u",
					       el_ip_fmt(&v->backends[j].ip, ipb, sizeof(ipb)),
					       ntohs(v->backends[j].port), v->backends[j].cond);
		assert_true(asprintf(&lines[n++], "svc %s %u %u %u %u%s", v->name, v->family,
				     v->proto, v->affinity, v->maglev_size, be) > 0);
	}
	qsort(lines, n, sizeof(*lines), (int (*)(const void *, const void *))strcmp_ptr);
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);
		assert_true(len + l + 2 < cap);
		memcpy(out + len, lines[i], l);
		len += l;
		out[len++] = '\n';
		free(lines[i]);
	}
	out[len] = '\0';
	free(lines);
	return out;
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void load_slice6(struct fx *f, const char *name, const char *svc, int port, const char *eps);

/*
 * Random puts, deletes, Endpoints and EndpointSlice changes, compiled
 * incrementally; after each update, a fresh compile state compiling the
 * whole model must give the same snapshot. @p dual: on an edgelb with
 * both families, services of random IP family policies, IPv6 endpoints and
 * external IPs too.
 */
static void
random_updates_match_whole_compiles(struct fx *f, bool dual, uint64_t x, unsigned n_names)
{
	static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer"};
	static const char *const addrs[] = {"198.18.1.1", "198.18.1.2", "198.18.0.1", "198.18.3.3"};
	static const char *const addrs6[] = {"\"2001:db8:4::1\"", "\"2001:db8:4::2\""};
	static const char *const fams[] = {
	    "", "  ipFamilyPolicy: PreferDualStack\n",
	    "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6, IPv4]\n",
	    "  ipFamilies: [IPv6]\n"};
	char spec[1024], doc[2048], name[16], pods[512];

	f->cfg.pools[0].last = ip("198.18.0.105"); /* runs out now and then */
	compile_ok(f);
	for (int step = 0; step < RANDOM_STEPS; step++) {
		unsigned what = rnd(&x) % 10, k = (unsigned)(rnd(&x) % n_names);
		snprintf(name, sizeof(name), "s%u", k);
		if (what < 5) {
			const char *type = types[rnd(&x) % 3];
			int np = strcmp(type, "ClusterIP") != 0 && rnd(&x) % 4 == 0
				     ? 30000 + (int)(rnd(&x) % 6)
				     : 0;
			char npb[32] = "";
			if (np)
				snprintf(npb, sizeof(npb), ", nodePort: %d", np);
			if (dual)
				snprintf(spec, sizeof(spec),
					 "  type: %s\n%s  externalIPs: [%s, %s]\n"
					 "  sessionAffinity: %s\n  ports:\n"
					 "  - {name: a, port: %u%s}\n"
					 "  - {name: b, port: 53, protocol: UDP}\n",
					 type, fams[rnd(&x) % 4], addrs[2 + rnd(&x) % 2],
					 addrs6[rnd(&x) % 2], rnd(&x) % 2 ? "ClientIP" : "None",
					 80 + (unsigned)(rnd(&x) % 2), npb);
			else
				snprintf(spec, sizeof(spec),
					 "  type: %s\n  clusterIP: %s\n  externalIPs: [%s]\n"
					 "  sessionAffinity: %s\n  ports:\n"
					 "  - {name: a, port: %u%s}\n"
					 "  - {name: b, port: 53, protocol: UDP}\n",
					 type, addrs[rnd(&x) % 2], addrs[2 + rnd(&x) % 2],
					 rnd(&x) % 2 ? "ClientIP" : "None",
					 80 + (unsigned)(rnd(&x) % 2), npb);
			if (put_svc(f, name, spec) != 0)
				continue; /* refused (taken nodePort, full pool): as the API */
		} else if (what == 5) {
			compile_release(f->cs, "default", name);
			(void)model_delete_service(&f->m, "default", name);
			assert_int_equal(compile_touch(f->cs, "default", name), 0);
		} else if (what < 8) {
			unsigned n = (unsigned)(rnd(&x) % 4), l = 0;
			for (unsigned i = 0; i < n; i++) {
				unsigned pod = 10 + (unsigned)(rnd(&x) % 8);
				if (dual && rnd(&x) % 2)
					l += (unsigned)snprintf(pods + l, sizeof(pods) - l,
								"%s{ip: \"2001:db8:2::%u\"}",
								i ? ", " : "", pod);
				else
					l += (unsigned)snprintf(pods + l, sizeof(pods) - l,
								"%s{ip: 198.18.2.%u}",
								i ? ", " : "", pod);
			}
			snprintf(doc, sizeof(doc),
				 "apiVersion: v1\nkind: Endpoints\nmetadata: {name: %s}\n"
				 "subsets: [{addresses: [%s], ports: [{name: a, port: 8080}, "
				 "{name: b, port: 5353, protocol: UDP}]}]\n",
				 name, pods);
			load(f, doc);
			assert_int_equal(compile_touch(f->cs, "default", name), 0);
		} else {
			/* a slice that moves from one service to another */
			char sl[16];
			const struct el_slice *old;
			snprintf(sl, sizeof(sl), "sl%u", (unsigned)(rnd(&x) % 4));
			old = model_find_slice(&f->m, "default", sl);
			if (old != NULL)
				assert_int_equal(compile_touch(f->cs, "default", old->service_name),
						 0);
			if (what == 9 && old != NULL) {
				assert_int_equal(model_delete_slice(&f->m, "default", sl), 0);
			} else if (dual && rnd(&x) % 2) {
				load_slice6(f, sl, name, 8080,
					    "- {addresses: [\"2001:db8:2::40\"]}\n"
					    "- {addresses: [\"2001:db8:2::41\"], conditions: "
					    "{ready: false}}\n");
				assert_int_equal(compile_touch(f->cs, "default", name), 0);
			} else {
				snprintf(
				    doc, sizeof(doc), one_slice_fmt, sl, name, 8080,
				    "- {addresses: [198.18.2.40]}\n"
				    "- {addresses: [198.18.2.41], conditions: {ready: false}}\n");
				load(f, doc);
				assert_int_equal(compile_touch(f->cs, "default", name), 0);
			}
		}
		if (rnd(&x) % 3 != 0)
			continue; /* several changes in one update, now and then */
		const struct el_snapshot *inc = update_ok(f, NULL);

		/* a fresh compile state compiling the whole model */
		struct compile_state *fresh = compile_state_new(&f->cfg);
		struct el_snapshot *full = NULL;
		assert_non_null(fresh);
		if (compile_snapshot(fresh, &f->m, &full, f->err, sizeof(f->err)) != 0)
			fail_msg("step %d: whole compile failed: %s", step, f->err);
		char *a = describe(inc), *b = describe(full);
		if (strcmp(a, b) != 0)
			fail_msg("step %d: incremental\n%s\nwhole\n%s", step, a, b);
		free(a);
		free(b);
		compile_snapshot_free(fresh, full);
		compile_state_free(fresh);
	}
}

static void
update_gives_what_a_whole_compile_gives(void **state)
{
	random_updates_match_whole_compiles(*state, false, 0x9e3779b97f4a7c15ull, 12);
}

/*
 * The same with tables large enough that a new snapshot takes the tables of
 * a freed one and copies into them only the slots written since: two
 * snapshots alive at a time, as published.
 */
static void
update_into_freed_tables_gives_what_a_whole_compile_gives(void **state)
{
	struct fx *f = *state;

	f->max_snaps = 2;
	random_updates_match_whole_compiles(f, false, 0x5851f42d4c957f2dull, 96);
}

/* ---- dual-stack Services ---- */

/* The lab with IPv6 too: ext 2001:db8::1/64, int 2001:db8:2::1/64 (also
 * the IPv6 SNAT address), IPv6 pool 2001:db8:1::10-2001:db8:1::11. */
static void
dual_config(struct fx *f)
{
	f->cfg.ifaces[0].addrs[1] = cidr("2001:db8::1/64");
	f->cfg.ifaces[0].n_addrs = 2;
	f->cfg.ifaces[1].addrs[1] = cidr("2001:db8:2::1/64");
	f->cfg.ifaces[1].n_addrs = 2;
	f->cfg.snat[1] = ip("2001:db8:2::1");
	f->cfg.n_snat = 2;
	f->cfg.pools[1].first = ip("2001:db8:1::10");
	f->cfg.pools[1].last = ip("2001:db8:1::11");
	f->cfg.n_pools = 2;
}

/* The service object of @p name and @p family; fails when there is none. */
static const struct el_snap_svc *
twin(const struct el_snapshot *s, const char *name, uint8_t family)
{
	for (uint32_t i = 0; i < s->n_svcs; i++)
		if (strcmp(s->svcs[i]->name, name) == 0 && s->svcs[i]->family == family)
			return s->svcs[i];
	fail_msg("no %s service port %s", family == EL_AF_INET6 ? "IPv6" : "IPv4", name);
	return NULL;
}

static unsigned
count_named(const struct el_snapshot *s, const char *name)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < s->n_svcs; i++)
		n += strcmp(s->svcs[i]->name, name) == 0;
	return n;
}

/* The IPv6 endpoints of "web" as an EndpointSlice of addressType IPv6. */
static void
load_slice6(struct fx *f, const char *name, const char *svc, int port, const char *eps)
{
	char doc[2048];
	snprintf(doc, sizeof(doc),
		 "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		 "metadata: {name: %s, labels: {kubernetes.io/service-name: %s}}\n"
		 "addressType: IPv6\nports: [{name: \"\", port: %d}]\nendpoints:\n%s",
		 name, svc, port, eps);
	load(f, doc);
}

static bool
warned(const struct fx *f, const char *a, const char *b)
{
	const char *const *w;
	unsigned n = compile_warnings(f->cs, &w);
	for (unsigned i = 0; i < n; i++)
		if (strstr(w[i], a) != NULL && (b == NULL || strstr(w[i], b) != NULL))
			return true;
	return false;
}

static void
dual_stack_port_compiles_into_two_twins_with_one_name(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 2);
	assert_int_equal(count_named(s, "default/web:80"), 2);
	const struct el_snap_svc *v4 = twin(s, "default/web:80", EL_AF_INET);
	const struct el_snap_svc *v6 = twin(s, "default/web:80", EL_AF_INET6);
	assert_int_not_equal(v4->id, v6->id);
	assert_int_equal(v4->proto, v6->proto);
}

static void
single_stack_port_is_one_object_of_its_family(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "v4", "  ports: [{port: 80}]\n");
	load_svc(f, "v6", "  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 2);
	assert_int_equal(svc_must(s, "default/v4:80")->family, EL_AF_INET);
	assert_int_equal(svc_must(s, "default/v6:80")->family, EL_AF_INET6);
}

static void
twin_ids_are_stable_across_compiles_and_updates(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ipFamilyPolicy: RequireDualStack\n  ports: [{port: 80}]\n");
	const struct el_snapshot *a = compile_ok(f);
	uint32_t id4 = twin(a, "default/web:80", EL_AF_INET)->id;
	uint32_t id6 = twin(a, "default/web:80", EL_AF_INET6)->id;
	const struct el_snapshot *b = compile_ok(f);
	assert_int_equal(twin(b, "default/web:80", EL_AF_INET)->id, id4);
	assert_int_equal(twin(b, "default/web:80", EL_AF_INET6)->id, id6);
	load_slice6(f, "web-6", "web", 80, "- {addresses: [\"2001:db8:2::11\"]}\n");
	const struct el_snapshot *c = update_ok(f, "web", NULL);
	assert_int_equal(twin(c, "default/web:80", EL_AF_INET)->id, id4);
	assert_int_equal(twin(c, "default/web:80", EL_AF_INET6)->id, id6);
}

static void
single_stack_service_turning_dual_keeps_its_ipv4_id(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	compile_ok(f);
	put_svc_ok(f, "web", "  ports: [{port: 80}]\n");
	const struct el_snapshot *a = update_ok(f, NULL);
	uint32_t id4 = twin(a, "default/web:80", EL_AF_INET)->id;
	put_svc_ok(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	const struct el_snapshot *b = update_ok(f, NULL);
	assert_int_equal(twin(b, "default/web:80", EL_AF_INET)->id, id4);
	assert_int_not_equal(twin(b, "default/web:80", EL_AF_INET6)->id, id4);
}

static void
twins_take_the_backends_of_their_family_from_endpoint_slices(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	load_slice(f, "web-4", "web", 8080, "- {addresses: [198.18.2.11]}\n");
	load_slice6(f, "web-6", "web", 8080,
		    "- {addresses: [\"2001:db8:2::11\"]}\n- {addresses: [\"2001:db8:2::12\"]}\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v4 = twin(s, "default/web:80", EL_AF_INET);
	const struct el_snap_svc *v6 = twin(s, "default/web:80", EL_AF_INET6);
	assert_int_equal(v4->n_backends, 1);
	assert_true(has_backend(v4, "198.18.2.11", 8080));
	assert_int_equal(v6->n_backends, 2);
	assert_true(has_backend(v6, "2001:db8:2::11", 8080));
	assert_true(has_backend(v6, "2001:db8:2::12", 8080));
	/* each twin has its own Maglev table over its own backends */
	assert_true(v4->maglev_size > 0 && v6->maglev_size > 0);
	for (uint32_t i = 0; i < v6->maglev_size; i++)
		assert_true(v6->maglev[i] < v6->n_backends);
}

static void
twins_take_the_backends_of_their_family_from_endpoints(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		"subsets:\n- addresses: [{ip: 198.18.2.11}, {ip: \"2001:db8:2::11\"}]\n"
		"  ports: [{port: 8080}]\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v4 = twin(s, "default/web:80", EL_AF_INET);
	const struct el_snap_svc *v6 = twin(s, "default/web:80", EL_AF_INET6);
	assert_int_equal(v4->n_backends, 1);
	assert_true(has_backend(v4, "198.18.2.11", 8080));
	assert_int_equal(v6->n_backends, 1);
	assert_true(has_backend(v6, "2001:db8:2::11", 8080));
}

static void
single_stack_service_ignores_endpoints_of_the_other_family(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ports: [{port: 80}]\n");
	load_slice6(f, "web-6", "web", 8080, "- {addresses: [\"2001:db8:2::11\"]}\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 1);
	assert_int_equal(svc_must(s, "default/web:80")->n_backends, 0);
}

static void
cluster_and_external_ips_lead_to_the_twin_of_their_family(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  ipFamilyPolicy: RequireDualStack\n"
		 "  clusterIPs: [198.18.1.40, \"2001:db8:3::40\"]\n  clusterIP: 198.18.1.40\n"
		 "  externalIPs: [\"2001:db8:4::9\", 198.18.0.9]\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	const struct el_snap_svc *v4 = twin(s, "default/web:80", EL_AF_INET);
	const struct el_snap_svc *v6 = twin(s, "default/web:80", EL_AF_INET6);
	assert_ptr_equal(fe_svc(s, "198.18.1.40", 80, EL_FE_CLUSTER_IP), v4);
	assert_ptr_equal(fe_svc(s, "2001:db8:3::40", 80, EL_FE_CLUSTER_IP), v6);
	assert_ptr_equal(fe_svc(s, "198.18.0.9", 80, EL_FE_EXTERNAL_IP), v4);
	assert_ptr_equal(fe_svc(s, "2001:db8:4::9", 80, EL_FE_EXTERNAL_IP), v6);
}

static void
load_balancer_service_gets_an_ingress_address_per_family(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		 "  ipFamilies: [IPv6, IPv4]\n  ports: [{port: 443}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_ptr_equal(fe_svc(s, "198.18.0.100", 443, EL_FE_LB_INGRESS),
			 twin(s, "default/web:443", EL_AF_INET));
	assert_ptr_equal(fe_svc(s, "2001:db8:1::10", 443, EL_FE_LB_INGRESS),
			 twin(s, "default/web:443", EL_AF_INET6));
	/* status lists both, in the order of spec.ipFamilies */
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	const struct el_service *w = model_find_service(&f->m, "default", "web");
	char buf[EL_IP_STRLEN];
	assert_int_equal(w->n_lb_ingress, 2);
	assert_string_equal(el_ip_fmt(&w->lb_ingress[0], buf, sizeof(buf)), "2001:db8:1::10");
	assert_string_equal(el_ip_fmt(&w->lb_ingress[1], buf, sizeof(buf)), "198.18.0.100");
	assert_true(w->lb_ingress_auto);
}

static void
node_ports_listen_on_the_addresses_of_the_service_families(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "dual",
		 "  type: NodePort\n  ipFamilyPolicy: PreferDualStack\n"
		 "  ports: [{port: 80, nodePort: 30100}]\n");
	load_svc(f, "four", "  type: NodePort\n  ports: [{port: 80, nodePort: 30101}]\n");
	load_svc(
	    f, "six",
	    "  type: NodePort\n  ipFamilies: [IPv6]\n  ports: [{port: 80, nodePort: 30102}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_ptr_equal(fe_svc(s, "198.18.0.1", 30100, EL_FE_NODE_PORT),
			 twin(s, "default/dual:80", EL_AF_INET));
	assert_ptr_equal(fe_svc(s, "2001:db8::1", 30100, EL_FE_NODE_PORT),
			 twin(s, "default/dual:80", EL_AF_INET6));
	assert_ptr_equal(fe_svc(s, "2001:db8:2::1", 30100, EL_FE_NODE_PORT),
			 twin(s, "default/dual:80", EL_AF_INET6));
	/* a single-stack IPv4 service gets no nodePort on IPv6 addresses */
	assert_non_null(fe(s, "198.18.0.1", 30101, EL_PROTO_TCP));
	assert_null(fe(s, "2001:db8::1", 30101, EL_PROTO_TCP));
	assert_null(fe(s, "2001:db8:2::1", 30101, EL_PROTO_TCP));
	/* and a single-stack IPv6 one none on IPv4 addresses */
	assert_non_null(fe(s, "2001:db8::1", 30102, EL_PROTO_TCP));
	assert_null(fe(s, "198.18.0.1", 30102, EL_PROTO_TCP));
}

static void
ipv6_vips_are_owned(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		 "  externalIPs: [\"2001:db8:4::9\"]\n  ports: [{port: 443}]\n");
	const struct el_snapshot *s = compile_ok(f);
	struct el_ip a = ip("2001:db8:1::10");
	const struct el_snap_owned *o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_VIP);
	a = ip("2001:db8:4::9");
	o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_VIP);
	a = ip("2001:db8:2::1"); /* interface and SNAT address */
	o = snapshot_owned_lookup(s, &a);
	assert_non_null(o);
	assert_int_equal(o->kind, EL_OWN_SNAT);
	assert_int_equal(o->iface, 1);
}

static void
ipv6_pool_exhaustion_is_enospc(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "a", "  type: LoadBalancer\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n");
	load_svc(f, "b", "  type: LoadBalancer\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n");
	compile_ok(f);
	load_svc(f, "c",
		 "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		 "  ports: [{port: 80}]\n");
	assert_int_equal(compile(f, NULL), -ENOSPC);
	assert_non_null(strstr(f->err, "default/c"));
	assert_non_null(strstr(f->err, "no free IPv6 address"));
}

static void
assign_reports_an_exhausted_ipv6_pool_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	compile_ok(f);
	put_svc_ok(f, "a",
		   "  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n"
		   "  ports: [{port: 80}]\n");
	put_svc_ok(f, "b", "  type: LoadBalancer\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n");
	assert_int_equal(put_svc(f, "c",
				 "  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n"
				 "  ports: [{port: 80}]\n"),
			 -ENOSPC);
	assert_non_null(strstr(f->err, "no free IPv6 address"));
	/* the IPv4 address c would have had is still free */
	put_svc_ok(f, "d", "  type: LoadBalancer\n  ports: [{port: 80}]\n");
	char buf[EL_IP_STRLEN];
	const struct el_service *d = model_find_service(&f->m, "default", "d");
	assert_string_equal(el_ip_fmt(&d->lb_ingress[0], buf, sizeof(buf)), "198.18.0.101");
}

static void
requested_load_balancer_ip_serves_its_family_and_the_other_is_allocated(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		 "  loadBalancerIP: \"2001:db8:1::11\"\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_ptr_equal(fe_svc(s, "2001:db8:1::11", 80, EL_FE_LB_INGRESS),
			 twin(s, "default/web:80", EL_AF_INET6));
	assert_ptr_equal(fe_svc(s, "198.18.0.100", 80, EL_FE_LB_INGRESS),
			 twin(s, "default/web:80", EL_AF_INET));
	assert_null(fe(s, "2001:db8:1::10", 80, EL_PROTO_TCP));
}

static void
load_balancer_ip_of_a_family_the_service_lacks_is_refused(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  type: LoadBalancer\n  loadBalancerIP: \"2001:db8:1::11\"\n"
		 "  ports: [{port: 80}]\n");
	assert_int_equal(compile(f, NULL), -EINVAL);
	assert_non_null(strstr(f->err, "spec.loadBalancerIP"));
	assert_non_null(strstr(f->err, "ipFamilies"));
}

static void
family_without_a_pool_gets_no_ingress_and_a_warning(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	f->cfg.n_pools = 1; /* IPv4 only; IPv6 is served through the interfaces */
	load_svc(f, "web",
		 "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		 "  ports: [{port: 80, nodePort: 30100}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_non_null(fe(s, "198.18.0.100", 80, EL_PROTO_TCP));
	assert_ptr_equal(fe_svc(s, "2001:db8::1", 30100, EL_FE_NODE_PORT),
			 twin(s, "default/web:80", EL_AF_INET6));
	assert_true(warned(f, "default/web: no IPv6 loadbalancer pool", NULL));
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	assert_int_equal(model_find_service(&f->m, "default", "web")->n_lb_ingress, 1);
}

static void
family_without_a_snat_address_is_warned(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	f->cfg.n_snat = 1; /* IPv4 only */
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	load_svc(f, "four", "  ports: [{port: 81}]\n");
	compile_ok(f);
	assert_true(warned(f, "default/web: no IPv6 SNAT address", "dropped"));
	assert_false(warned(f, "default/four", NULL));
	assert_false(warned(f, "no IPv4 SNAT address", NULL));
}

static void
external_ip_of_a_family_the_service_lacks_is_not_served(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web",
		 "  externalIPs: [198.18.0.9, \"2001:db8:4::9\"]\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_non_null(fe(s, "198.18.0.9", 80, EL_PROTO_TCP));
	assert_null(fe(s, "2001:db8:4::9", 80, EL_PROTO_TCP));
	struct el_ip a = ip("2001:db8:4::9");
	assert_null(snapshot_owned_lookup(s, &a));
	assert_true(warned(f, "spec.externalIPs[1]", "2001:db8:4::9"));
}

static void
require_dual_stack_without_ipv6_is_refused(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ipFamilyPolicy: RequireDualStack\n  ports: [{port: 80}]\n");
	assert_int_equal(compile(f, NULL), -EINVAL);
	assert_non_null(strstr(f->err, "default/web: spec.ipFamilyPolicy"));
	/* nor through compile_assign */
	el_model_free(&f->m);
	el_model_init(&f->m);
	compile_ok(f);
	assert_int_equal(
	    put_svc(f, "web", "  ipFamilyPolicy: RequireDualStack\n  ports: [{port: 80}]\n"),
	    -EINVAL);
	assert_non_null(strstr(f->err, "not configured for dual-stack"));
}

static void
prefer_dual_stack_without_ipv6_serves_ipv4_only(void **state)
{
	struct fx *f = *state;
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_svcs, 1);
	assert_int_equal(s->svcs[0]->family, EL_AF_INET);
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	const struct el_service *w = model_find_service(&f->m, "default", "web");
	assert_int_equal(w->ip_family_policy, EL_IPFP_PREFER_DUAL_STACK);
	assert_int_equal(w->n_ip_families, 1);
	assert_int_equal(w->ip_families[0], EL_AF_INET);
}

static void
writeback_fills_the_families_as_served(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "plain", "  ports: [{port: 80}]\n");
	load_svc(f, "dual", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	compile_ok(f);
	assert_int_equal(compile_writeback(f->cs, &f->m), 0);
	const struct el_service *p = model_find_service(&f->m, "default", "plain");
	assert_int_equal(p->ip_family_policy, EL_IPFP_SINGLE_STACK);
	assert_int_equal(p->n_ip_families, 1);
	assert_int_equal(p->ip_families[0], EL_AF_INET);
	const struct el_service *d = model_find_service(&f->m, "default", "dual");
	assert_int_equal(d->n_ip_families, 2);
	assert_int_equal(d->ip_families[0], EL_AF_INET);
	assert_int_equal(d->ip_families[1], EL_AF_INET6);
}

static void
update_touching_one_family_keeps_the_other_twin(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "web", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n");
	load_svc(f, "other", "  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 81}]\n");
	load_slice(f, "web-4", "web", 8080, "- {addresses: [198.18.2.11]}\n");
	load_slice6(f, "web-6", "web", 8080, "- {addresses: [\"2001:db8:2::11\"]}\n");
	const struct el_snapshot *a = compile_ok(f);
	load_slice6(f, "web-6", "web", 8080,
		    "- {addresses: [\"2001:db8:2::11\"]}\n- {addresses: [\"2001:db8:2::12\"]}\n");
	const struct el_snapshot *b = update_ok(f, "web", NULL);
	assert_ptr_equal(twin(a, "default/web:80", EL_AF_INET),
			 twin(b, "default/web:80", EL_AF_INET));
	assert_ptr_not_equal(twin(a, "default/web:80", EL_AF_INET6),
			     twin(b, "default/web:80", EL_AF_INET6));
	assert_int_equal(twin(b, "default/web:80", EL_AF_INET6)->n_backends, 2);
	/* the service not touched keeps both objects */
	assert_ptr_equal(twin(a, "default/other:81", EL_AF_INET),
			 twin(b, "default/other:81", EL_AF_INET));
	assert_ptr_equal(twin(a, "default/other:81", EL_AF_INET6),
			 twin(b, "default/other:81", EL_AF_INET6));
}

static void
removed_ipv6_udp_backend_is_reported(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	load_svc(f, "dns",
		 "  ipFamilyPolicy: PreferDualStack\n"
		 "  ports: [{port: 53, protocol: UDP, targetPort: 5353}]\n");
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: dns}\n"
		"subsets:\n- addresses: [{ip: 198.18.2.11}, {ip: \"2001:db8:2::11\"}, "
		"{ip: \"2001:db8:2::12\"}]\n  ports: [{port: 5353, protocol: UDP}]\n");
	const struct el_snapshot *a = compile_ok(f);
	uint32_t gone = twin(a, "default/dns:53", EL_AF_INET6)->backends[1].id;
	load(f, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: dns}\n"
		"subsets:\n- addresses: [{ip: 198.18.2.11}, {ip: \"2001:db8:2::11\"}]\n"
		"  ports: [{port: 5353, protocol: UDP}]\n");
	const struct el_snapshot *b = update_ok(f, "dns", NULL);
	uint32_t *ids;
	assert_int_equal(compile_removed_since(f->cs, a, b, &ids), 1);
	assert_int_equal(ids[0], gone);
	free(ids);
}

static void
release_frees_the_addresses_of_both_families(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	compile_ok(f);
	put_svc_ok(f, "a",
		   "  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n"
		   "  ports: [{port: 80}]\n");
	compile_release(f->cs, "default", "a");
	assert_int_equal(model_delete_service(&f->m, "default", "a"), 0);
	put_svc_ok(f, "b",
		   "  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n"
		   "  ipFamilies: [IPv6, IPv4]\n  ports: [{port: 80}]\n");
	const struct el_service *b = model_find_service(&f->m, "default", "b");
	char buf[EL_IP_STRLEN];
	assert_int_equal(b->n_lb_ingress, 2);
	assert_string_equal(el_ip_fmt(&b->lb_ingress[0], buf, sizeof(buf)), "2001:db8:1::10");
	assert_string_equal(el_ip_fmt(&b->lb_ingress[1], buf, sizeof(buf)), "198.18.0.100");
	/* a type change away from LoadBalancer gives both back too */
	put_svc_ok(f, "b",
		   "  type: ClusterIP\n  ipFamilyPolicy: RequireDualStack\n"
		   "  ipFamilies: [IPv6, IPv4]\n  ports: [{port: 80}]\n");
	assert_int_equal(model_find_service(&f->m, "default", "b")->n_lb_ingress, 0);
	put_svc_ok(f, "c", "  type: LoadBalancer\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n");
	const struct el_service *c = model_find_service(&f->m, "default", "c");
	assert_string_equal(el_ip_fmt(&c->lb_ingress[0], buf, sizeof(buf)), "2001:db8:1::10");
}

static void
single_stack_release_of_the_second_family_frees_its_address(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	compile_ok(f);
	put_svc_ok(f, "a",
		   "  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n"
		   "  ports: [{port: 80}]\n");
	put_svc_ok(f, "a",
		   "  type: LoadBalancer\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n"
		   "  ports: [{port: 80}]\n");
	const struct el_service *a = model_find_service(&f->m, "default", "a");
	assert_int_equal(a->n_lb_ingress, 1);
	assert_int_equal(a->lb_ingress[0].family, EL_AF_INET);
	const struct el_snapshot *s = update_ok(f, NULL);
	assert_int_equal(s->n_svcs, 1);
	assert_null(fe(s, "2001:db8:1::10", 80, EL_PROTO_TCP));
	struct el_ip v6 = ip("2001:db8:1::10");
	assert_null(snapshot_owned_lookup(s, &v6));
}

static void
families_available_come_from_interfaces_and_pools(void **state)
{
	struct fx *f = *state;
	assert_int_equal(compile_families_available(&f->cfg), EL_FAMILY_BIT(EL_AF_INET));
	f->cfg.pools[1].first = ip("2001:db8:1::10");
	f->cfg.pools[1].last = ip("2001:db8:1::11");
	f->cfg.n_pools = 2;
	assert_int_equal(compile_families_available(&f->cfg), EL_FAMILIES_BOTH);
	f->cfg.n_pools = 0;
	f->cfg.ifaces[1].addrs[0] = cidr("2001:db8:2::1/64");
	assert_int_equal(compile_families_available(&f->cfg), EL_FAMILIES_BOTH);
	f->cfg.n_ifaces = 1;
	assert_int_equal(compile_families_available(&f->cfg), EL_FAMILY_BIT(EL_AF_INET));
}

static void
dual_stack_update_gives_what_a_whole_compile_gives(void **state)
{
	struct fx *f = *state;
	dual_config(f);
	random_updates_match_whole_compiles(f, true, 0x2545f4914f6cdd1dull, 12);
}

/* ---- interfaces, routes, neighbours ---- */

static void
routes_are_sorted_longest_prefix_first(void **state)
{
	struct fx *f = *state;
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_routes, 5);
	for (unsigned i = 1; i < s->n_routes; i++)
		assert_true(s->routes[i - 1].to.len >= s->routes[i].to.len);
	assert_int_equal(s->routes[0].to.len, 32);
	assert_int_equal(s->routes[s->n_routes - 1].to.len, 0);
	struct el_ip a = ip("198.18.2.77");
	const struct el_snap_route *r = snapshot_route_lookup(s, &a);
	assert_int_equal(r->to.len, 32);
	a = ip("198.18.2.5");
	r = snapshot_route_lookup(s, &a);
	assert_int_equal(r->to.len, 24);
	assert_int_equal(r->via.family, EL_AF_NONE); /* connected */
	assert_int_equal(r->iface, 1);
	a = ip("203.0.113.1");
	r = snapshot_route_lookup(s, &a);
	assert_int_equal(r->to.len, 0);
	assert_int_equal(r->iface, 0);
	struct el_ip gw = ip("198.18.0.254");
	assert_true(el_ip_eq(&r->via, &gw));
}

static void
interfaces_neighbours_snat_and_timeouts_are_copied(void **state)
{
	struct fx *f = *state;
	const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};
	compile_set_iface(f->cs, 1, 7, mac);
	const struct el_snapshot *s = compile_ok(f);
	assert_int_equal(s->n_ifaces, 2);
	assert_string_equal(s->ifaces[1].name, "int");
	assert_int_equal(s->ifaces[1].port_id, 7);
	assert_memory_equal(s->ifaces[1].mac, mac, 6);
	assert_int_equal(s->ifaces[1].n_addrs, 1);
	assert_int_equal(s->n_neighs, 1);
	assert_int_equal(s->neighs[0].iface, 1);
	assert_int_equal(s->n_snat, 1);
	assert_int_equal(s->ct_timeouts[EL_CT_ESTABLISHED], f->cfg.ct_timeouts[EL_CT_ESTABLISHED]);
	assert_int_equal(s->ct_timeouts[EL_CT_UDP], f->cfg.ct_timeouts[EL_CT_UDP]);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(cluster_ip_frontend_leads_to_its_service),
	    T(node_port_frontend_is_on_every_interface_address),
	    T(external_ip_frontend_leads_to_its_service),
	    T(load_balancer_ingress_frontend_uses_the_pool_address),
	    T(unprogrammable_services_get_no_frontend),
	    T(sctp_ports_are_not_programmed),
	    T(frontend_collision_keeps_the_first_service_and_warns),
	    T(frontend_table_is_at_most_half_full),
	    T(ipv6_service_gets_ipv6_node_ports_and_pool_address),
	    T(owned_addresses_have_their_kind),
	    T(external_ips_are_owned),
	    T(named_target_port_resolves_per_endpoint_slice),
	    T(named_target_port_falls_back_to_a_port_of_that_name),
	    T(endpoints_port_is_matched_by_service_port_name),
	    T(ready_endpoints_take_new_flows_and_terminating_ones_do_not),
	    T(serving_terminating_endpoints_are_used_when_none_is_ready),
	    T(no_usable_endpoint_gives_no_backends_and_no_table),
	    T(service_without_endpoints_has_no_backends),
	    T(not_ready_addresses_of_endpoints_are_left_out),
	    T(same_pod_in_endpoints_and_slice_is_one_backend),
	    T(backends_are_sorted_by_address_and_port),
	    T(maglev_table_indexes_every_backend),
	    T(affinity_and_source_ranges_are_copied),
	    T(node_port_is_allocated_from_the_range),
	    T(allocated_node_port_is_stable_across_compiles),
	    T(explicit_node_port_is_honoured),
	    T(node_port_collision_is_refused_with_eexist),
	    T(same_node_port_on_tcp_and_udp_is_no_collision),
	    T(node_port_outside_the_range_is_refused),
	    T(node_port_range_exhaustion_is_enospc),
	    T(failed_compile_keeps_the_previous_allocations),
	    T(load_balancer_addresses_come_from_the_pool_in_order),
	    T(load_balancer_address_is_stable_across_compiles),
	    T(pool_exhaustion_is_enospc),
	    T(load_balancer_ip_outside_the_pools_is_refused),
	    T(requested_load_balancer_ip_is_not_handed_to_another),
	    T(writeback_fills_node_ports_and_ingress),
	    T(ids_are_stable_across_compiles),
	    T(ids_of_distinct_service_ports_differ),
	    T(deleted_and_recreated_service_gets_a_new_id),
	    T(unchanged_services_are_shared_and_changed_ones_rebuilt),
	    T(freeing_an_old_snapshot_keeps_shared_objects),
	    T(generation_increments_with_every_snapshot),
	    T(removed_and_unserving_backends_are_reported),
	    T(tcp_backends_are_never_reported),
	    T(nothing_is_reported_between_equal_snapshots),
	    T(deleted_service_reports_all_its_backends),
	    T(update_rebuilds_only_the_touched_service),
	    T(update_without_touch_changes_nothing_but_the_generation),
	    T(deleted_service_leaves_no_frontend_and_no_vip),
	    T(frontend_goes_to_the_next_claimant_when_its_owner_leaves),
	    T(assign_gives_the_lowest_free_node_port),
	    T(assign_refuses_a_node_port_another_service_holds),
	    T(assign_refuses_a_node_port_outside_the_range),
	    T(assign_reports_a_full_range_as_enospc),
	    T(assign_shares_a_requested_address_only_on_other_ports),
	    T(assign_keeps_the_address_held_and_releases_it_on_type_change),
	    T(writeback_clears_what_edgelb_no_longer_holds),
	    T(removed_since_matches_the_full_comparison),
	    T(update_gives_what_a_whole_compile_gives),
	    T(update_into_freed_tables_gives_what_a_whole_compile_gives),
	    T(dual_stack_port_compiles_into_two_twins_with_one_name),
	    T(single_stack_port_is_one_object_of_its_family),
	    T(twin_ids_are_stable_across_compiles_and_updates),
	    T(single_stack_service_turning_dual_keeps_its_ipv4_id),
	    T(twins_take_the_backends_of_their_family_from_endpoint_slices),
	    T(twins_take_the_backends_of_their_family_from_endpoints),
	    T(single_stack_service_ignores_endpoints_of_the_other_family),
	    T(cluster_and_external_ips_lead_to_the_twin_of_their_family),
	    T(load_balancer_service_gets_an_ingress_address_per_family),
	    T(node_ports_listen_on_the_addresses_of_the_service_families),
	    T(ipv6_vips_are_owned),
	    T(ipv6_pool_exhaustion_is_enospc),
	    T(assign_reports_an_exhausted_ipv6_pool_and_changes_nothing),
	    T(requested_load_balancer_ip_serves_its_family_and_the_other_is_allocated),
	    T(load_balancer_ip_of_a_family_the_service_lacks_is_refused),
	    T(family_without_a_pool_gets_no_ingress_and_a_warning),
	    T(family_without_a_snat_address_is_warned),
	    T(external_ip_of_a_family_the_service_lacks_is_not_served),
	    T(require_dual_stack_without_ipv6_is_refused),
	    T(prefer_dual_stack_without_ipv6_serves_ipv4_only),
	    T(writeback_fills_the_families_as_served),
	    T(update_touching_one_family_keeps_the_other_twin),
	    T(removed_ipv6_udp_backend_is_reported),
	    T(release_frees_the_addresses_of_both_families),
	    T(single_stack_release_of_the_second_family_frees_its_address),
	    T(families_available_come_from_interfaces_and_pools),
	    T(dual_stack_update_gives_what_a_whole_compile_gives),
	    T(routes_are_sorted_longest_prefix_first),
	    T(interfaces_neighbours_snat_and_timeouts_are_copied),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
