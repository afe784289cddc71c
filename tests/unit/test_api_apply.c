/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the change transaction behind the REST API: what each
 * accepted change stores, allocates, persists and publishes, and that each
 * refusal (with its HTTP code and the field it names) leaves the model, the
 * allocations, the store and the published snapshot as they were; for
 * dual-stack Services too (IP family policies, an address per family).
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#include "../../control/apply.h"
#include "../../control/store.h"

struct fixture {
	char dir[64];
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct store *st;
	struct apply ap;
	struct el_snapshot *current; /* what the stub "workers" use */
	unsigned published;
	struct apply_result res;
};

static int
stub_publish(void *ctx, struct el_snapshot *snap)
{
	struct fixture *f = ctx;

	compile_snapshot_free(f->cs, f->current);
	f->current = snap;
	f->published++;
	return 0;
}

/* @p dual: IPv6 too (an interface address and a two-address pool). */
static int
setup_with(void **state, bool dual)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	struct el_snapshot *first = NULL;

	config_defaults(&f->cfg);
	/* a small pool: 198.18.0.100-198.18.0.103 */
	el_ip_parse("198.18.0.100", &f->cfg.pools[0].first);
	el_ip_parse("198.18.0.103", &f->cfg.pools[0].last);
	f->cfg.n_pools = 1;
	f->cfg.n_ifaces = 1;
	snprintf(f->cfg.ifaces[0].name, sizeof(f->cfg.ifaces[0].name), "ext");
	el_cidr_parse("198.18.0.1/24", &f->cfg.ifaces[0].addrs[0]);
	f->cfg.ifaces[0].n_addrs = 1;
	if (dual) {
		el_cidr_parse("2001:db8::1/64", &f->cfg.ifaces[0].addrs[1]);
		f->cfg.ifaces[0].n_addrs = 2;
		el_ip_parse("2001:db8:1::10", &f->cfg.pools[1].first);
		el_ip_parse("2001:db8:1::11", &f->cfg.pools[1].last);
		f->cfg.n_pools = 2;
	}
	el_model_init(&f->model);
	f->cs = compile_state_new(&f->cfg);
	snprintf(f->dir, sizeof(f->dir), "/tmp/edgelb-apply-XXXXXX");
	if (f->cs == NULL || mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, &f->st, err, sizeof(err)) != 0)
		return -1;
	if (compile_snapshot(f->cs, &f->model, &first, err, sizeof(err)) != 0)
		return -1;
	f->current = first;
	apply_init(&f->ap, &(struct apply_conf){.cfg = &f->cfg,
						.model = &f->model,
						.cs = f->cs,
						.store = f->st,
						.publish = stub_publish,
						.publish_ctx = f});
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, false);
}

static int
setup_dual(void **state)
{
	return setup_with(state, true);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	apply_result_clear(&f->res);
	compile_snapshot_free(f->cs, f->current);
	compile_state_free(f->cs);
	el_model_free(&f->model);
	store_close(f->st);
	config_free(&f->cfg);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- requests and what they leave behind ---- */

static int
put(struct fixture *f, enum el_kind k, const char *ns, const char *name, const char *body)
{
	apply_result_clear(&f->res);
	return apply_put(&f->ap, k, ns, name, body, strlen(body), false, &f->res);
}

static void
put_ok(struct fixture *f, enum el_kind k, const char *ns, const char *name, const char *body)
{
	int rc = put(f, k, ns, name, body);

	if (rc != 0)
		fail_msg("PUT %s/%s refused (%d, %d): %s", ns, name, rc, f->res.code,
			 f->res.message);
}

/* A NodePort or LoadBalancer service with one TCP port. */
static void
service_body(char *buf, size_t len, const char *name, const char *type, int port, int node_port,
	     const char *lb_ip)
{
	char np[32] = "", lb[64] = "";

	if (node_port)
		snprintf(np, sizeof(np), ", nodePort: %d", node_port);
	if (lb_ip)
		snprintf(lb, sizeof(lb), ", loadBalancerIP: %s", lb_ip);
	snprintf(buf, len,
		 "apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\n"
		 "spec: {type: %s%s, ports: [{port: %d, targetPort: 8080%s}]}\n",
		 name, type, lb, port, np);
}

static void
put_service(struct fixture *f, const char *name, const char *type, int port, int node_port,
	    const char *lb_ip)
{
	char body[512];

	service_body(body, sizeof(body), name, type, port, node_port, lb_ip);
	put_ok(f, EL_KIND_SERVICE, "default", name, body);
}

static int
node_port_of(struct fixture *f, const char *name)
{
	const struct el_service *s = model_find_service(&f->model, "default", name);

	assert_non_null(s);
	return s->ports[0].node_port;
}

static const char *
ingress_of(struct fixture *f, const char *name, char *buf)
{
	const struct el_service *s = model_find_service(&f->model, "default", name);

	assert_non_null(s);
	if (s->n_lb_ingress == 0)
		return "";
	return el_ip_fmt(&s->lb_ingress[0], buf, EL_IP_STRLEN);
}

static bool
stored(struct fixture *f, const char *res, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/%s", f->dir, res, file);
	return access(path, F_OK) == 0;
}

/* State that a refused request must not touch. */
struct before {
	char *list;
	uint64_t generation;
	unsigned published;
	unsigned n_files;
};

static unsigned
count_files(struct fixture *f)
{
	char cmd[160];
	unsigned n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find %s -type f | wc -l", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

static void
remember(struct fixture *f, struct before *b)
{
	b->list = model_json_list(&f->model, EL_KIND_SERVICE, NULL);
	b->generation = f->current->generation;
	b->published = f->published;
	b->n_files = count_files(f);
}

static void
assert_unchanged(struct fixture *f, struct before *b)
{
	char *now = model_json_list(&f->model, EL_KIND_SERVICE, NULL);

	assert_string_equal(now, b->list);
	assert_int_equal(f->published, b->published);
	assert_int_equal(f->current->generation, b->generation);
	assert_int_equal(count_files(f), b->n_files);
	free(now);
	free(b->list);
}

/* A refused PUT: code, field, and nothing changed. */
static void
expect_refused(struct fixture *f, enum el_kind k, const char *name, const char *body, int code,
	       const char *field)
{
	struct before b;

	remember(f, &b);
	assert_true(put(f, k, "default", name, body) < 0);
	if (f->res.code != code)
		fail_msg("expected %d, got %d: %s", code, f->res.code, f->res.message);
	if (field != NULL && strcmp(f->res.field, field) != 0)
		fail_msg("expected field %s, got \"%s\": %s", field, f->res.field, f->res.message);
	if (field != NULL && strstr(f->res.message, field) == NULL)
		fail_msg("message does not name %s: %s", field, f->res.message);
	assert_null(f->res.object);
	assert_unchanged(f, &b);
}

/* ---- accepted changes ---- */

static void
put_creates_then_replaces(void **state)
{
	struct fixture *f = *state;
	char body[512];

	service_body(body, sizeof(body), "web", "NodePort", 80, 0, NULL);
	assert_int_equal(put(f, EL_KIND_SERVICE, "default", "web", body), 0);
	assert_int_equal(f->res.code, 201);
	assert_non_null(f->res.object);
	assert_int_equal(put(f, EL_KIND_SERVICE, "default", "web", body), 0);
	assert_int_equal(f->res.code, 200);
}

static void
each_accepted_change_is_stored_and_published(void **state)
{
	struct fixture *f = *state;
	uint64_t gen = f->current->generation;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	assert_int_equal(f->published, 1);
	assert_int_equal(f->current->generation, gen + 1);
	assert_true(stored(f, "services", "default_web.yaml"));
	put_ok(f, EL_KIND_SLICE, "default", "web-1",
	       "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\","
	       "\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"labels\":"
	       "{\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\","
	       "\"endpoints\":[{\"addresses\":[\"198.18.2.11\"]}],"
	       "\"ports\":[{\"port\":8080}]}");
	assert_int_equal(f->published, 2);
	assert_int_equal(f->current->generation, gen + 2);
	assert_true(stored(f, "endpointslices", "default_web-1.yaml"));
	/* the snapshot serves the new backend */
	assert_int_equal(f->current->n_svcs, 1);
	assert_int_equal(f->current->svcs[0]->n_backends, 1);
}

static void
node_port_is_allocated_and_reported(void **state)
{
	struct fixture *f = *state;
	int np;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "web");
	assert_true(np >= 30000 && np <= 32767);
	char want[32];
	snprintf(want, sizeof(want), "\"nodePort\":%d", np);
	assert_non_null(strstr(f->res.object, want));
}

static void
lb_ingress_is_allocated_and_reported(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_service(f, "lb", "LoadBalancer", 443, 0, NULL);
	assert_string_equal(ingress_of(f, "lb", ip), "198.18.0.100");
	assert_non_null(strstr(f->res.object, "\"ingress\":[{\"ip\":\"198.18.0.100\"}]"));
}

static void
requested_lb_ip_is_honoured(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_service(f, "lb", "LoadBalancer", 443, 0, "198.18.0.102");
	assert_string_equal(ingress_of(f, "lb", ip), "198.18.0.102");
}

static void
namespace_defaults_to_the_url(void **state)
{
	struct fixture *f = *state;

	put_ok(f, EL_KIND_SERVICE, "prod", "web",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
	       "\"spec\":{\"ports\":[{\"port\":80}]}}");
	assert_non_null(model_find_service(&f->model, "prod", "web"));
	assert_null(model_find_service(&f->model, "default", "web"));
	assert_true(stored(f, "services", "prod_web.yaml"));
}

static void
status_in_the_body_is_ignored(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_ok(f, EL_KIND_SERVICE, "default", "web",
	       "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	       "spec: {ports: [{port: 80}]}\n"
	       "status: {loadBalancer: {ingress: [{ip: 198.18.0.101}]}}\n");
	assert_string_equal(ingress_of(f, "web", ip), "");
}

static void
delete_returns_the_object_and_removes_its_file(void **state)
{
	struct fixture *f = *state;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	apply_result_clear(&f->res);
	assert_int_equal(apply_delete(&f->ap, EL_KIND_SERVICE, "default", "web", &f->res), 0);
	assert_int_equal(f->res.code, 200);
	assert_non_null(strstr(f->res.object, "\"name\":\"web\""));
	assert_null(model_find_service(&f->model, "default", "web"));
	assert_false(stored(f, "services", "default_web.yaml"));
	assert_int_equal(f->published, 2);
}

static void
delete_of_an_absent_object_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct before b;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	remember(f, &b);
	apply_result_clear(&f->res);
	assert_int_equal(apply_delete(&f->ap, EL_KIND_SERVICE, "default", "nope", &f->res),
			 -ENOENT);
	assert_int_equal(f->res.code, 404);
	assert_string_equal(f->res.reason, "NotFound");
	assert_unchanged(f, &b);
}

static void
delete_releases_the_node_port(void **state)
{
	struct fixture *f = *state;
	int np;

	put_service(f, "a", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "a");
	apply_result_clear(&f->res);
	assert_int_equal(apply_delete(&f->ap, EL_KIND_SERVICE, "default", "a", &f->res), 0);
	put_service(f, "b", "NodePort", 80, np, NULL);
	assert_int_equal(node_port_of(f, "b"), np);
}

/* ---- type changes ---- */

static void
node_port_is_kept_from_node_port_to_load_balancer(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];
	int np;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "web");
	put_service(f, "web", "LoadBalancer", 80, 0, NULL);
	assert_int_equal(node_port_of(f, "web"), np);
	assert_string_equal(ingress_of(f, "web", ip), "198.18.0.100");
}

static void
going_to_cluster_ip_releases_node_port_and_lb_ip(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];
	int np;

	put_service(f, "web", "LoadBalancer", 80, 0, NULL);
	np = node_port_of(f, "web");
	put_service(f, "web", "ClusterIP", 80, 0, NULL);
	assert_int_equal(node_port_of(f, "web"), 0);
	assert_string_equal(ingress_of(f, "web", ip), "");
	assert_null(strstr(f->res.object, "nodePort"));
	/* both are free for another service now */
	put_service(f, "other", "LoadBalancer", 81, np, "198.18.0.100");
	assert_int_equal(node_port_of(f, "other"), np);
	assert_string_equal(ingress_of(f, "other", ip), "198.18.0.100");
}

static void
leaving_load_balancer_releases_the_lb_ip(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];
	int np;

	put_service(f, "web", "LoadBalancer", 80, 0, NULL);
	np = node_port_of(f, "web");
	put_service(f, "web", "NodePort", 80, 0, NULL);
	assert_int_equal(node_port_of(f, "web"), np);
	assert_string_equal(ingress_of(f, "web", ip), "");
	put_service(f, "other", "LoadBalancer", 81, 0, NULL);
	assert_string_equal(ingress_of(f, "other", ip), "198.18.0.100");
}

/* ---- refusals ---- */

static void
unparsable_body_is_bad_request(void **state)
{
	struct fixture *f = *state;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	expect_refused(f, EL_KIND_SERVICE, "web", "{\"apiVersion\": \"v1\", \"kind\": ", 400, NULL);
	assert_string_equal(f->res.reason, "BadRequest");
}

static void
two_objects_in_one_body_are_bad_request(void **state)
{
	char body[1200], one[512];

	service_body(one, sizeof(one), "web", "NodePort", 80, 0, NULL);
	snprintf(body, sizeof(body), "%s---\n%s", one, one);
	expect_refused(*state, EL_KIND_SERVICE, "web", body, 400, NULL);
}

static void
wrong_kind_for_the_url_is_bad_request(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "web", "NodePort", 80, 0, NULL);
	expect_refused(*state, EL_KIND_ENDPOINTS, "web", body, 400, NULL);
	assert_non_null(strstr(((struct fixture *)*state)->res.message, "Endpoints"));
}

static void
name_other_than_the_url_is_invalid(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "web", "NodePort", 80, 0, NULL);
	expect_refused(*state, EL_KIND_SERVICE, "other", body, 422, "metadata.name");
}

static void
namespace_other_than_the_url_is_invalid(void **state)
{
	struct fixture *f = *state;
	char body[512];
	struct before b;

	service_body(body, sizeof(body), "web", "NodePort", 80, 0, NULL);
	remember(f, &b);
	assert_true(apply_put(&f->ap, EL_KIND_SERVICE, "prod", "web", body, strlen(body), false,
			      &f->res) < 0);
	assert_int_equal(f->res.code, 422);
	assert_string_equal(f->res.field, "metadata.namespace");
	assert_unchanged(f, &b);
}

static void
bad_port_is_invalid_and_named(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "web", "NodePort", 70000, 0, NULL);
	expect_refused(*state, EL_KIND_SERVICE, "web", body, 422, "spec.ports[0].port");
}

static void
bad_affinity_timeout_is_invalid_and_named(void **state)
{
	expect_refused(*state, EL_KIND_SERVICE, "web",
		       "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		       "spec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: "
		       "{timeoutSeconds: 86401}}, ports: [{port: 80}]}\n",
		       422, "spec.sessionAffinityConfig.clientIP.timeoutSeconds");
}

static void
node_port_on_cluster_ip_is_invalid(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "web", "ClusterIP", 80, 30001, NULL);
	expect_refused(*state, EL_KIND_SERVICE, "web", body, 422, "spec.ports[0].nodePort");
}

static void
node_port_outside_the_range_is_invalid(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "web", "NodePort", 80, 8080, NULL);
	expect_refused(*state, EL_KIND_SERVICE, "web", body, 422, "spec.ports[0].nodePort");
	assert_non_null(strstr(((struct fixture *)*state)->res.message, "30000-32767"));
}

static void
node_port_held_by_another_service_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	char body[512];

	put_service(f, "a", "NodePort", 80, 30080, NULL);
	service_body(body, sizeof(body), "b", "NodePort", 81, 30080, NULL);
	expect_refused(f, EL_KIND_SERVICE, "b", body, 409, "spec.ports[0].nodePort");
	assert_non_null(strstr(f->res.message, "default/a"));
	assert_int_equal(node_port_of(f, "a"), 30080);
}

static void
node_port_edgelb_chose_is_a_conflict_too(void **state)
{
	struct fixture *f = *state;
	char body[512];
	int np;

	put_service(f, "a", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "a");
	service_body(body, sizeof(body), "b", "NodePort", 81, np, NULL);
	expect_refused(f, EL_KIND_SERVICE, "b", body, 409, "spec.ports[0].nodePort");
	assert_int_equal(node_port_of(f, "a"), np);
}

static void
lb_ip_outside_the_pools_is_invalid(void **state)
{
	char body[512];

	service_body(body, sizeof(body), "lb", "LoadBalancer", 443, 0, "198.18.0.200");
	expect_refused(*state, EL_KIND_SERVICE, "lb", body, 422, "spec.loadBalancerIP");
}

static void
lb_ip_edgelb_chose_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	char body[512], ip[EL_IP_STRLEN];

	put_service(f, "a", "LoadBalancer", 443, 0, NULL);
	assert_string_equal(ingress_of(f, "a", ip), "198.18.0.100");
	service_body(body, sizeof(body), "b", "LoadBalancer", 80, 0, "198.18.0.100");
	expect_refused(f, EL_KIND_SERVICE, "b", body, 409, "spec.loadBalancerIP");
}

static void
lb_ip_requested_twice_on_one_port_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	char body[512];

	put_service(f, "a", "LoadBalancer", 443, 0, "198.18.0.101");
	service_body(body, sizeof(body), "b", "LoadBalancer", 443, 0, "198.18.0.101");
	expect_refused(f, EL_KIND_SERVICE, "b", body, 409, "spec.loadBalancerIP");
}

static void
lb_ip_requested_twice_on_other_ports_is_shared(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_service(f, "a", "LoadBalancer", 443, 0, "198.18.0.101");
	put_service(f, "b", "LoadBalancer", 80, 0, "198.18.0.101");
	assert_string_equal(ingress_of(f, "a", ip), "198.18.0.101");
	assert_string_equal(ingress_of(f, "b", ip), "198.18.0.101");
}

static void
exhausted_pool_is_an_internal_error(void **state)
{
	struct fixture *f = *state;
	char body[512];

	put_service(f, "a", "LoadBalancer", 80, 0, NULL);
	put_service(f, "b", "LoadBalancer", 80, 0, NULL);
	put_service(f, "c", "LoadBalancer", 80, 0, NULL);
	put_service(f, "d", "LoadBalancer", 80, 0, NULL);
	service_body(body, sizeof(body), "e", "LoadBalancer", 80, 0, NULL);
	/* as the API server answers a full nodePort range: 500 InternalError */
	expect_refused(f, EL_KIND_SERVICE, "e", body, 500, NULL);
	assert_string_equal(f->res.reason, "InternalError");
	assert_non_null(strstr(f->res.message, "failed to allocate a loadBalancer IP"));
}

static void
full_node_port_range_is_an_internal_error(void **state)
{
	struct fixture *f = *state;
	char body[512];

	f->cfg.nodeport_max = f->cfg.nodeport_min; /* one port */
	put_service(f, "a", "NodePort", 80, 0, NULL);
	service_body(body, sizeof(body), "b", "NodePort", 80, 0, NULL);
	expect_refused(f, EL_KIND_SERVICE, "b", body, 500, NULL);
	assert_string_equal(f->res.reason, "InternalError");
	assert_non_null(strstr(f->res.message, "failed to allocate a nodePort: range is full"));
}

/* ---- type changes as the API server makes them ---- */

static void
going_to_cluster_ip_with_the_old_node_ports_drops_them(void **state)
{
	struct fixture *f = *state;
	char body[512];
	int np;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "web");
	/* what a client sends after reading the object back: nodePort included */
	service_body(body, sizeof(body), "web", "ClusterIP", 80, np, NULL);
	put_ok(f, EL_KIND_SERVICE, "default", "web", body);
	assert_int_equal(f->res.code, 200);
	assert_int_equal(node_port_of(f, "web"), 0);
	assert_null(strstr(f->res.object, "nodePort"));
	put_service(f, "other", "NodePort", 81, np, NULL);
}

static void
going_to_cluster_ip_with_a_new_node_port_is_invalid(void **state)
{
	struct fixture *f = *state;
	char body[512];
	int np;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	np = node_port_of(f, "web");
	service_body(body, sizeof(body), "web", "ClusterIP", 80, np + 1, NULL);
	expect_refused(f, EL_KIND_SERVICE, "web", body, 422, "spec.ports[0].nodePort");
	assert_non_null(strstr(f->res.message, "ClusterIP"));
	assert_int_equal(node_port_of(f, "web"), np);
}

static void
a_port_without_a_node_port_keeps_its_namesakes(void **state)
{
	struct fixture *f = *state;
	const char *two =
	    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	    "spec: {type: NodePort, ports: [{name: a, port: 80}, {name: b, port: 81}]}\n";
	const char *swapped = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
			      "spec: {type: NodePort, ports: [{name: b, port: 91}, "
			      "{name: a, port: 90}]}\n";

	put_ok(f, EL_KIND_SERVICE, "default", "web", two);
	const struct el_service *s = model_find_service(&f->model, "default", "web");
	int a = s->ports[0].node_port, b = s->ports[1].node_port;
	put_ok(f, EL_KIND_SERVICE, "default", "web", swapped);
	s = model_find_service(&f->model, "default", "web");
	assert_int_equal(s->ports[0].node_port, b);
	assert_int_equal(s->ports[1].node_port, a);
}

static void
going_to_external_name_drops_the_old_cluster_ip(void **state)
{
	struct fixture *f = *state;
	const char *cip = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
			  "spec: {clusterIP: 198.18.1.40, ports: [{port: 5432}]}\n";
	const char *ext = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
			  "spec: {type: ExternalName, externalName: db.example.org, "
			  "clusterIP: 198.18.1.40, ports: [{port: 5432}]}\n";
	const char *other = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
			    "spec: {type: ExternalName, externalName: db.example.org, "
			    "clusterIP: 198.18.1.41, ports: [{port: 5432}]}\n";

	put_ok(f, EL_KIND_SERVICE, "default", "db", cip);
	expect_refused(f, EL_KIND_SERVICE, "db", other, 422, "spec.clusterIP");
	put_ok(f, EL_KIND_SERVICE, "default", "db", ext);
	assert_int_equal(model_find_service(&f->model, "default", "db")->n_cluster_ips, 0);
	assert_int_equal(f->current->n_svcs, 0);
}

static void
reading_back_and_putting_again_keeps_what_edgelb_chose(void **state)
{
	struct fixture *f = *state;
	struct el_model back;
	char *json;

	put_service(f, "web", "LoadBalancer", 80, 0, NULL);
	json = model_json_object(EL_KIND_SERVICE, model_find_service(&f->model, "default", "web"));
	put_ok(f, EL_KIND_SERVICE, "default", "web", json);
	free(json);
	const struct el_service *s = model_find_service(&f->model, "default", "web");
	assert_true(s->ports[0].node_port_auto);
	assert_true(s->lb_ingress_auto);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_true(model_find_service(&back, "default", "web")->ports[0].node_port_auto);
	el_model_free(&back);
}

/* ---- group commit ---- */

static void
group_publishes_once_and_answers_every_change(void **state)
{
	struct fixture *f = *state;
	struct apply_result res[3];
	char body[3][512];
	unsigned published = f->published;

	apply_group_begin(&f->ap);
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "s%d", i);
		service_body(body[i], sizeof(body[i]), name, "NodePort", 80, 0, NULL);
		assert_int_equal(apply_put(&f->ap, EL_KIND_SERVICE, "default", name, body[i],
					   strlen(body[i]), false, &res[i]),
				 0);
	}
	/* later changes of a group see the earlier ones */
	assert_int_equal(node_port_of(f, "s2"), node_port_of(f, "s0") + 2);
	assert_int_equal(f->published, published);
	assert_false(stored(f, "services", "default_s0.yaml"));
	assert_int_equal(apply_group_end(&f->ap), 0);
	assert_int_equal(f->published, published + 1);
	for (int i = 0; i < 3; i++) {
		char file[32];
		snprintf(file, sizeof(file), "default_s%d.yaml", i);
		assert_int_equal(res[i].code, 201);
		assert_non_null(strstr(res[i].object, "nodePort"));
		assert_true(stored(f, "services", file));
		apply_result_clear(&res[i]);
	}
	assert_int_equal(f->current->n_svcs, 3);
}

static void
group_that_cannot_be_stored_refuses_every_change(void **state)
{
	struct fixture *f = *state;
	struct apply_result res[2];
	char body[2][512], path[128], cmd[512];
	struct before b;

	put_service(f, "keep", "NodePort", 80, 0, NULL);
	snprintf(path, sizeof(path), "%s/services", f->dir);
	snprintf(cmd, sizeof(cmd), "mv %s %s.away && touch %s", path, path, path);
	assert_int_equal(system(cmd), 0);
	remember(f, &b);
	b.n_files = count_files(f);
	apply_group_begin(&f->ap);
	service_body(body[0], sizeof(body[0]), "a", "NodePort", 80, 0, NULL);
	service_body(body[1], sizeof(body[1]), "keep", "LoadBalancer", 80, 0, NULL);
	assert_int_equal(apply_put(&f->ap, EL_KIND_SERVICE, "default", "a", body[0],
				   strlen(body[0]), false, &res[0]),
			 0);
	assert_int_equal(apply_put(&f->ap, EL_KIND_SERVICE, "default", "keep", body[1],
				   strlen(body[1]), false, &res[1]),
			 0);
	assert_true(apply_group_end(&f->ap) < 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(res[i].code, 500);
		assert_null(res[i].object);
		apply_result_clear(&res[i]);
	}
	assert_unchanged(f, &b);
	assert_null(model_find_service(&f->model, "default", "a"));
	assert_int_equal(model_find_service(&f->model, "default", "keep")->type, EL_SVC_NODE_PORT);
	snprintf(cmd, sizeof(cmd), "rm %s && mv %s.away %s", path, path, path);
	assert_int_equal(system(cmd), 0);
	/* what the refused group took is free again */
	put_service(f, "b", "NodePort", 81, 0, NULL);
	assert_int_equal(node_port_of(f, "b"), node_port_of(f, "keep") + 1);
}

static void
two_changes_of_one_object_in_a_group_store_the_last(void **state)
{
	struct fixture *f = *state;
	struct apply_result res[2];
	char body[2][512];
	struct el_model back;

	apply_group_begin(&f->ap);
	service_body(body[0], sizeof(body[0]), "web", "NodePort", 80, 0, NULL);
	service_body(body[1], sizeof(body[1]), "web", "NodePort", 81, 0, NULL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(apply_put(&f->ap, EL_KIND_SERVICE, "default", "web", body[i],
					   strlen(body[i]), false, &res[i]),
				 0);
	assert_int_equal(apply_group_end(&f->ap), 0);
	assert_int_equal(res[0].code, 201);
	assert_int_equal(res[1].code, 200);
	assert_non_null(strstr(res[0].object, "\"port\":80"));
	assert_non_null(strstr(res[1].object, "\"port\":81"));
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_int_equal(model_find_service(&back, "default", "web")->ports[0].port, 81);
	el_model_free(&back);
	apply_result_clear(&res[0]);
	apply_result_clear(&res[1]);
}

static void
create_only_refuses_an_existing_object(void **state)
{
	struct fixture *f = *state;
	char body[512];
	struct before b;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	service_body(body, sizeof(body), "web", "NodePort", 81, 0, NULL);
	remember(f, &b);
	apply_result_clear(&f->res);
	assert_int_equal(
	    apply_put(&f->ap, EL_KIND_SERVICE, "default", "web", body, strlen(body), true, &f->res),
	    -EEXIST);
	assert_int_equal(f->res.code, 409);
	assert_string_equal(f->res.reason, "AlreadyExists");
	assert_unchanged(f, &b);
}

static void
store_failure_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char body[512], path[128], err[512];
	struct before b;

	put_service(f, "a", "NodePort", 80, 0, NULL);
	/* the services directory turns into a file: every write fails */
	snprintf(path, sizeof(path), "%s/services", f->dir);
	snprintf(err, sizeof(err), "mv %s %s.away && touch %s", path, path, path);
	assert_int_equal(system(err), 0);
	service_body(body, sizeof(body), "b", "NodePort", 81, 0, NULL);
	remember(f, &b);
	b.n_files = count_files(f);
	assert_true(put(f, EL_KIND_SERVICE, "default", "b", body) < 0);
	assert_int_equal(f->res.code, 500);
	assert_non_null(strstr(f->res.message, f->dir));
	assert_unchanged(f, &b);
	assert_null(model_find_service(&f->model, "default", "b"));
	snprintf(err, sizeof(err), "rm %s && mv %s.away %s", path, path, path);
	assert_int_equal(system(err), 0);
	/* the port the refused change was given is free again: the lowest one */
	put_service(f, "c", "NodePort", 82, 0, NULL);
	assert_int_equal(node_port_of(f, "c"), node_port_of(f, "a") + 1);
}

/* ---- restart ---- */

static void
stored_state_reloads_with_its_allocations(void **state)
{
	struct fixture *f = *state;
	struct el_model back;
	char *a, *b;

	put_service(f, "web", "NodePort", 80, 0, NULL);
	put_service(f, "lb", "LoadBalancer", 443, 0, NULL);
	put_service(f, "fixed", "LoadBalancer", 443, 31000, "198.18.0.103");
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_int_equal(back.n_svcs, 3);
	for (unsigned i = 0; i < back.n_svcs; i++) {
		const struct el_service *s = back.svcs[i];
		const struct el_service *o = model_find_service(&f->model, s->ns, s->name);
		assert_non_null(o);
		assert_int_equal(s->ports[0].node_port, o->ports[0].node_port);
		assert_int_equal(s->n_lb_ingress, o->n_lb_ingress);
		if (s->n_lb_ingress)
			assert_true(el_ip_eq(&s->lb_ingress[0], &o->lb_ingress[0]));
	}
	a = model_json_list(&f->model, EL_KIND_ENDPOINTS, NULL);
	b = model_json_list(&back, EL_KIND_ENDPOINTS, NULL);
	assert_non_null(strstr(b, "\"items\":[]"));
	free(a);
	free(b);
	el_model_free(&back);
}

static void
start_persists_manifests_with_their_allocations(void **state)
{
	struct fixture *f = *state;
	struct el_snapshot *snap = NULL;
	struct el_model back;
	char err[256];

	assert_int_equal(
	    manifest_load_buf(&f->model,
			      "{apiVersion: v1, kind: Service, metadata: {name: m},"
			      " spec: {type: NodePort, ports: [{port: 80}]}}",
			      strlen("{apiVersion: v1, kind: Service, metadata: {name: "
				     "m}, spec: {type: NodePort, ports: [{port: 80}]}}"),
			      "t", err, sizeof(err)),
	    0);
	assert_int_equal(compile_snapshot(f->cs, &f->model, &snap, err, sizeof(err)), 0);
	stub_publish(f, snap);
	assert_int_equal(apply_start(&f->ap, true), 0);
	assert_true(node_port_of(f, "m") >= 30000);
	assert_true(stored(f, "services", "default_m.yaml"));
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_int_equal(model_find_service(&back, "default", "m")->ports[0].node_port,
			 node_port_of(f, "m"));
	el_model_free(&back);
}

/* ---- dual-stack Services ---- */

/* A Service "name" of @p type with @p fams (YAML lines under spec). */
static void
dual_body(char *buf, size_t len, const char *name, const char *type, const char *fams)
{
	snprintf(buf, len,
		 "apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\n"
		 "spec:\n  type: %s\n%s  ports: [{port: 80, targetPort: 8080}]\n",
		 name, type, fams);
}

static void
put_dual(struct fixture *f, const char *name, const char *type, const char *fams)
{
	char body[512];

	dual_body(body, sizeof(body), name, type, fams);
	put_ok(f, EL_KIND_SERVICE, "default", name, body);
}

static void
expect_dual_refused(struct fixture *f, const char *name, const char *type, const char *fams,
		    int code, const char *field)
{
	char body[512];

	dual_body(body, sizeof(body), name, type, fams);
	expect_refused(f, EL_KIND_SERVICE, name, body, code, field);
}

static void
dual_stack_service_is_stored_with_its_families_and_an_address_per_family(void **state)
{
	struct fixture *f = *state;

	put_dual(f, "web", "LoadBalancer", "  ipFamilyPolicy: PreferDualStack\n");
	assert_non_null(strstr(f->res.object, "\"ipFamilyPolicy\":\"PreferDualStack\""));
	assert_non_null(strstr(f->res.object, "\"ipFamilies\":[\"IPv4\",\"IPv6\"]"));
	assert_non_null(strstr(f->res.object, "\"ingress\":[{\"ip\":\"198.18.0.100\"},"
					      "{\"ip\":\"2001:db8:1::10\"}]"));
	assert_int_equal(f->current->n_svcs, 2);
	put_ok(f, EL_KIND_SLICE, "default", "web-6",
	       "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	       "metadata: {name: web-6, labels: {kubernetes.io/service-name: web}}\n"
	       "addressType: IPv6\nports: [{port: 8080}]\n"
	       "endpoints: [{addresses: [\"2001:db8:2::11\"]}]\n");
	for (uint32_t i = 0; i < f->current->n_svcs; i++)
		assert_int_equal(f->current->svcs[i]->n_backends,
				 f->current->svcs[i]->family == EL_AF_INET6 ? 1 : 0);
}

static void
service_without_a_policy_is_stored_single_stack(void **state)
{
	struct fixture *f = *state;

	put_dual(f, "web", "ClusterIP", "");
	assert_non_null(strstr(f->res.object, "\"ipFamilyPolicy\":\"SingleStack\""));
	assert_non_null(strstr(f->res.object, "\"ipFamilies\":[\"IPv4\"]"));
	assert_int_equal(f->current->n_svcs, 1);
}

static void
single_stack_with_two_families_is_invalid(void **state)
{
	expect_dual_refused(*state, "web", "ClusterIP",
			    "  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4, IPv6]\n", 422,
			    "spec.ipFamilyPolicy");
}

static void
require_dual_stack_without_ipv6_is_invalid(void **state)
{
	expect_dual_refused(*state, "web", "LoadBalancer", "  ipFamilyPolicy: RequireDualStack\n",
			    422, "spec.ipFamilyPolicy");
}

static void
ipv6_family_on_an_ipv4_edgelb_is_invalid(void **state)
{
	expect_dual_refused(*state, "web", "ClusterIP", "  ipFamilies: [IPv6]\n", 422,
			    "spec.ipFamilies[0]");
}

static void
cluster_ips_of_one_family_twice_are_invalid(void **state)
{
	expect_dual_refused(*state, "web", "ClusterIP",
			    "  ipFamilyPolicy: PreferDualStack\n  clusterIP: 198.18.1.5\n"
			    "  clusterIPs: [198.18.1.5, 198.18.1.6]\n",
			    422, "spec.clusterIPs[1]");
}

static void
update_without_a_policy_keeps_the_policy_and_families(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_dual(f, "web", "LoadBalancer",
		 "  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv6]\n");
	put_dual(f, "web", "LoadBalancer", "");
	const struct el_service *s = model_find_service(&f->model, "default", "web");
	assert_int_equal(s->ip_family_policy, EL_IPFP_PREFER_DUAL_STACK);
	assert_int_equal(s->n_ip_families, 2);
	assert_int_equal(s->ip_families[0], EL_AF_INET6);
	assert_int_equal(s->n_lb_ingress, 2);
	assert_string_equal(ingress_of(f, "web", ip), "2001:db8:1::10");
}

static void
single_stack_update_releases_the_second_family(void **state)
{
	struct fixture *f = *state;
	char ip[EL_IP_STRLEN];

	put_dual(f, "web", "LoadBalancer", "  ipFamilyPolicy: PreferDualStack\n");
	put_dual(f, "web", "LoadBalancer", "  ipFamilyPolicy: SingleStack\n");
	const struct el_service *s = model_find_service(&f->model, "default", "web");
	assert_int_equal(s->n_ip_families, 1);
	assert_int_equal(s->ip_families[0], EL_AF_INET);
	assert_int_equal(s->n_lb_ingress, 1);
	assert_int_equal(f->current->n_svcs, 1);
	/* the IPv6 address is free again */
	put_dual(f, "six", "LoadBalancer", "  ipFamilies: [IPv6]\n");
	assert_string_equal(ingress_of(f, "six", ip), "2001:db8:1::10");
}

static void
dropping_the_second_family_without_single_stack_is_invalid(void **state)
{
	struct fixture *f = *state;

	put_dual(f, "web", "ClusterIP", "  ipFamilyPolicy: PreferDualStack\n");
	expect_dual_refused(f, "web", "ClusterIP", "  ipFamilies: [IPv4]\n", 422,
			    "spec.ipFamilyPolicy");
	assert_non_null(strstr(f->res.message, "must be 'SingleStack'"));
}

static void
exhausted_ipv6_pool_is_an_internal_error(void **state)
{
	struct fixture *f = *state;

	put_dual(f, "a", "LoadBalancer", "  ipFamilies: [IPv6]\n");
	put_dual(f, "b", "LoadBalancer", "  ipFamilies: [IPv6]\n");
	expect_dual_refused(f, "c", "LoadBalancer", "  ipFamilyPolicy: RequireDualStack\n", 500,
			    NULL);
	assert_string_equal(f->res.reason, "InternalError");
	assert_non_null(strstr(f->res.message, "no free IPv6 address"));
}

static void
delete_releases_the_addresses_of_both_families(void **state)
{
	struct fixture *f = *state;
	struct apply_result res = {0};
	char ip[EL_IP_STRLEN];

	put_dual(f, "a", "LoadBalancer", "  ipFamilyPolicy: RequireDualStack\n");
	assert_int_equal(apply_delete(&f->ap, EL_KIND_SERVICE, "default", "a", &res), 0);
	apply_result_clear(&res);
	assert_int_equal(f->current->n_svcs, 0);
	put_dual(f, "b", "LoadBalancer",
		 "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6, IPv4]\n");
	const struct el_service *b = model_find_service(&f->model, "default", "b");
	assert_int_equal(b->n_lb_ingress, 2);
	assert_string_equal(el_ip_fmt(&b->lb_ingress[0], ip, sizeof(ip)), "2001:db8:1::10");
	assert_string_equal(el_ip_fmt(&b->lb_ingress[1], ip, sizeof(ip)), "198.18.0.100");
}

static void
dual_stack_state_reloads_with_its_families_and_addresses(void **state)
{
	struct fixture *f = *state;
	struct el_model back;

	put_dual(f, "web", "LoadBalancer", "  ipFamilyPolicy: PreferDualStack\n");
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	const struct el_service *s = model_find_service(&back, "default", "web");
	const struct el_service *o = model_find_service(&f->model, "default", "web");
	assert_int_equal(s->ip_family_policy, EL_IPFP_PREFER_DUAL_STACK);
	assert_int_equal(s->n_ip_families, 2);
	assert_int_equal(s->n_lb_ingress, 2);
	assert_true(el_ip_eq(&s->lb_ingress[1], &o->lb_ingress[1]));
	assert_true(s->lb_ingress_auto);
	el_model_free(&back);
}

/* ---- the body's top level ---- */

static void
body_scan_reads_only_the_top_level(void **state)
{
	struct apply_body_info info;
	char err[128];
	const char *body = "kind: Service\napiVersion: v1\nspec:\n  metadata: {name: deep}\n"
			   "  ports: [{name: http, namespace: x}]\n"
			   "metadata:\n  labels: {name: label}\n  namespace: prod\n";

	(void)state;
	assert_int_equal(apply_body_scan(body, strlen(body), &info, err, sizeof(err)), 0);
	assert_int_equal(info.docs, 1);
	assert_string_equal(info.kind, "Service");
	assert_string_equal(info.api_version, "v1");
	assert_false(info.has_name);
	assert_true(info.has_ns);
	assert_string_equal(info.ns, "prod");
}

static void
body_scan_counts_documents_and_reports_syntax_errors(void **state)
{
	struct apply_body_info info;
	char err[128];
	const char *two = "---\n{kind: A}\n---\n---\n{kind: B}\n";
	const char *bad = "{\"kind\": \"Service\",\n \"metadata\": {\"name\": }";

	(void)state;
	assert_int_equal(apply_body_scan(two, strlen(two), &info, err, sizeof(err)), 0);
	assert_int_equal(info.docs, 2);
	assert_string_equal(info.kind, "A");
	assert_int_equal(apply_body_scan("", 0, &info, err, sizeof(err)), 0);
	assert_int_equal(info.docs, 0);
	assert_int_equal(apply_body_scan(bad, strlen(bad), &info, err, sizeof(err)), -EBADMSG);
	assert_true(strncmp(err, "line ", 5) == 0);
}

/* @p body with every line ended by CR LF: the same document to YAML. */
static char *
crlf(const char *body)
{
	char *out = malloc(2 * strlen(body) + 3), *o = out;

	assert_non_null(out);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n')
			*o++ = '\r';
		*o++ = *p;
	}
	if (o == out || o[-1] != '\n') {
		*o++ = '\r';
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}

/*
 * JSON bodies of every shape, accepted and refused: the same body with CR
 * LF line ends (read by the YAML parser whatever the body) gets the same
 * answer, code, message (line numbers included) and stored object.
 */
static void
json_body_gets_the_answer_its_yaml_reading_gets(void **state)
{
	static const char *const bodies[] = {
	    /* accepted: compact, and pretty with every kind of value */
	    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\","
	    "\"targetPort\":8080}]}}",
	    "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",\n  \"metadata\": {\n"
	    "    \"name\": \"web\",\n    \"labels\": {\"app\": \"web\", \"tier\": \"\"},\n"
	    "    \"annotations\": null\n  },\n  \"spec\": {\n    \"type\": \"NodePort\",\n"
	    "    \"sessionAffinity\": \"ClientIP\",\n    \"sessionAffinityConfig\": "
	    "{\"clientIP\": {\"timeoutSeconds\": 3600}},\n    \"publishNotReadyAddresses\": "
	    "false,\n"
	    "    \"externalIPs\": [],\n    \"ports\": [\n      {\"name\": \"http\", \"port\": 80, "
	    "\"targetPort\": \"http\"},\n      {\"name\": \"dns\", \"port\": 53, \"protocol\": "
	    "\"UDP\"}\n    ]\n  }\n}\n",
	    /* refused: a field (its line named), the kind, the name, the depth */
	    "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",\n  \"metadata\": "
	    "{\"name\": \"web\"},\n  \"spec\": {\n    \"ports\": [\n      {\"port\": 70000}\n"
	    "    ]\n  }\n}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Endpoints\", \"metadata\": {\"name\": \"web\"}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"db\"}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"web\"},\n"
	    "\"spec\": {\"a\": "
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"web\"},"
	    "\n\"spec\": {\"ports\": [{\"port\": 80, \"protocol\": 7}]}}",
	};
	struct fixture *f = *state, *g;
	char long_key[1300];
	const char *all[sizeof(bodies) / sizeof(bodies[0]) + 1];
	size_t n = 0;

	/* a key more than 1024 characters before its ':' (YAML refuses it) */
	snprintf(long_key, sizeof(long_key),
		 "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": "
		 "\"web\", \"labels\": {\"%01100d\": \"x\"}}}",
		 0);
	for (; n < sizeof(bodies) / sizeof(bodies[0]); n++)
		all[n] = bodies[n];
	all[n++] = long_key;
	assert_int_equal(setup((void **)&g), 0);
	for (size_t i = 0; i < n; i++) {
		char *y = crlf(all[i]);
		int rf = put(f, EL_KIND_SERVICE, "default", "web", all[i]);
		int rg = put(g, EL_KIND_SERVICE, "default", "web", y);

		assert_int_equal(rf, rg);
		assert_int_equal(f->res.code, g->res.code);
		assert_string_equal(f->res.message, g->res.message);
		assert_string_equal(f->res.field, g->res.field);
		assert_string_equal(f->res.cause, g->res.cause);
		if (f->res.object != NULL || g->res.object != NULL) {
			assert_non_null(f->res.object);
			assert_non_null(g->res.object);
			assert_string_equal(f->res.object, g->res.object);
		}
		free(y);
	}
	/* a refusal of the manifest parser names the line */
	assert_int_equal(put(f, EL_KIND_SERVICE, "default", "web", bodies[6]), -EINVAL);
	assert_non_null(strstr(f->res.message, "request body line 2"));
	teardown((void **)&g);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define D(name) cmocka_unit_test_setup_teardown(name, setup_dual, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(body_scan_reads_only_the_top_level),
	    cmocka_unit_test(body_scan_counts_documents_and_reports_syntax_errors),
	    T(json_body_gets_the_answer_its_yaml_reading_gets),
	    T(put_creates_then_replaces),
	    T(each_accepted_change_is_stored_and_published),
	    T(node_port_is_allocated_and_reported),
	    T(lb_ingress_is_allocated_and_reported),
	    T(requested_lb_ip_is_honoured),
	    T(namespace_defaults_to_the_url),
	    T(status_in_the_body_is_ignored),
	    T(delete_returns_the_object_and_removes_its_file),
	    T(delete_of_an_absent_object_is_not_found),
	    T(delete_releases_the_node_port),
	    T(node_port_is_kept_from_node_port_to_load_balancer),
	    T(going_to_cluster_ip_releases_node_port_and_lb_ip),
	    T(leaving_load_balancer_releases_the_lb_ip),
	    T(unparsable_body_is_bad_request),
	    T(two_objects_in_one_body_are_bad_request),
	    T(wrong_kind_for_the_url_is_bad_request),
	    T(name_other_than_the_url_is_invalid),
	    T(namespace_other_than_the_url_is_invalid),
	    T(bad_port_is_invalid_and_named),
	    T(bad_affinity_timeout_is_invalid_and_named),
	    T(node_port_on_cluster_ip_is_invalid),
	    T(node_port_outside_the_range_is_invalid),
	    T(node_port_held_by_another_service_is_a_conflict),
	    T(node_port_edgelb_chose_is_a_conflict_too),
	    T(lb_ip_outside_the_pools_is_invalid),
	    T(lb_ip_edgelb_chose_is_a_conflict),
	    T(lb_ip_requested_twice_on_one_port_is_a_conflict),
	    T(lb_ip_requested_twice_on_other_ports_is_shared),
	    T(exhausted_pool_is_an_internal_error),
	    T(full_node_port_range_is_an_internal_error),
	    T(going_to_cluster_ip_with_the_old_node_ports_drops_them),
	    T(going_to_cluster_ip_with_a_new_node_port_is_invalid),
	    T(a_port_without_a_node_port_keeps_its_namesakes),
	    T(going_to_external_name_drops_the_old_cluster_ip),
	    T(reading_back_and_putting_again_keeps_what_edgelb_chose),
	    T(group_publishes_once_and_answers_every_change),
	    T(group_that_cannot_be_stored_refuses_every_change),
	    T(two_changes_of_one_object_in_a_group_store_the_last),
	    T(create_only_refuses_an_existing_object),
	    T(store_failure_changes_nothing),
	    T(stored_state_reloads_with_its_allocations),
	    T(start_persists_manifests_with_their_allocations),
	    D(dual_stack_service_is_stored_with_its_families_and_an_address_per_family),
	    D(service_without_a_policy_is_stored_single_stack),
	    D(single_stack_with_two_families_is_invalid),
	    T(require_dual_stack_without_ipv6_is_invalid),
	    T(ipv6_family_on_an_ipv4_edgelb_is_invalid),
	    D(cluster_ips_of_one_family_twice_are_invalid),
	    D(update_without_a_policy_keeps_the_policy_and_families),
	    D(single_stack_update_releases_the_second_family),
	    D(dropping_the_second_family_without_single_stack_is_invalid),
	    D(exhausted_ipv6_pool_is_an_internal_error),
	    D(delete_releases_the_addresses_of_both_families),
	    D(dual_stack_state_reloads_with_its_families_and_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
