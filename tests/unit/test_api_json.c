/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the JSON the REST API answers with: stored objects read
 * back through the manifest parser as the same objects, Lists hold the
 * objects of their kind (one namespace or all), Status objects carry code,
 * reason, message and the field at fault, and the flow list names every
 * side of a flow. Everything rendered is well-formed (libyaml reads JSON).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yaml.h>

#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#include "../../control/api.h"

#define EXAMPLES EL_SRCDIR "/config/examples"

static char err[1024];

static void
load_examples(struct el_model *m)
{
	el_model_init(m);
	if (manifest_load_path(m, EXAMPLES, err, sizeof(err)) != 0)
		fail_msg("examples: %s", err);
}

/* Is @p text one well-formed document? */
static bool
parses(const char *text)
{
	yaml_parser_t p;
	yaml_event_t ev;
	bool ok = true, done = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (ok && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = false;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ok;
}

static void
drop_rev(char *j)
{
	char *rv = strstr(j, ",\"resourceVersion\":\"");

	assert_non_null(rv);
	char *end = strchr(rv + strlen(",\"resourceVersion\":\""), '"');
	memmove(rv, end + 1, strlen(end + 1) + 1);
}

/* Render, parse back, render again: the same text (revision aside). */
static void
reads_back(enum el_kind k, const void *obj, const char *ns, const char *name)
{
	struct el_model m;
	const void *back;
	char *a = model_json_object(k, obj), *b;

	assert_non_null(a);
	assert_true(parses(a));
	el_model_init(&m);
	if (manifest_load_buf(&m, a, strlen(a), "rendered", err, sizeof(err)) != 0)
		fail_msg("%s does not read back: %s\n%s", name, err, a);
	back = k == EL_KIND_SERVICE	? (const void *)model_find_service(&m, ns, name)
	       : k == EL_KIND_ENDPOINTS ? (const void *)model_find_endpoints(&m, ns, name)
					: (const void *)model_find_slice(&m, ns, name);
	assert_non_null(back);
	b = model_json_object(k, back);
	drop_rev(a);
	drop_rev(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	el_model_free(&m);
}

/* ---- objects ---- */

static void
every_example_service_reads_back_the_same(void **state)
{
	struct el_model m;

	(void)state;
	load_examples(&m);
	assert_true(m.n_svcs >= 5);
	for (unsigned i = 0; i < m.n_svcs; i++)
		reads_back(EL_KIND_SERVICE, m.svcs[i], m.svcs[i]->ns, m.svcs[i]->name);
	el_model_free(&m);
}

static void
every_example_endpoints_reads_back_the_same(void **state)
{
	struct el_model m;

	(void)state;
	load_examples(&m);
	assert_true(m.n_eps >= 1);
	for (unsigned i = 0; i < m.n_eps; i++)
		reads_back(EL_KIND_ENDPOINTS, m.eps[i], m.eps[i]->ns, m.eps[i]->name);
	el_model_free(&m);
}

static void
every_example_slice_reads_back_the_same(void **state)
{
	struct el_model m;

	(void)state;
	load_examples(&m);
	assert_true(m.n_slices >= 3);
	for (unsigned i = 0; i < m.n_slices; i++)
		reads_back(EL_KIND_SLICE, m.slices[i], m.slices[i]->ns, m.slices[i]->name);
	el_model_free(&m);
}

static void
service_allocations_read_back(void **state)
{
	struct el_model m, back;
	struct el_service *s;
	char *j, ipbuf[EL_IP_STRLEN];

	(void)state;
	load_examples(&m);
	s = model_find_service(&m, "default", "sticky");
	s->ports[0].node_port = 30999;
	s->ports[0].node_port_auto = true;
	s->lb_ingress = calloc(1, sizeof(*s->lb_ingress));
	el_ip_parse("198.18.0.107", &s->lb_ingress[0]);
	s->n_lb_ingress = 1;
	j = model_json_object(EL_KIND_SERVICE, s);
	assert_non_null(strstr(j, "\"nodePort\":30999"));
	assert_non_null(strstr(j, "\"ingress\":[{\"ip\":\"198.18.0.107\"}]"));
	el_model_init(&back);
	assert_int_equal(manifest_load_buf(&back, j, strlen(j), "j", err, sizeof(err)), 0);
	s = model_find_service(&back, "default", "sticky");
	assert_int_equal(s->ports[0].node_port, 30999);
	assert_int_equal(s->n_lb_ingress, 1);
	assert_string_equal(el_ip_fmt(&s->lb_ingress[0], ipbuf, sizeof(ipbuf)), "198.18.0.107");
	assert_int_equal(s->affinity_timeout, 600);
	free(j);
	el_model_free(&m);
	el_model_free(&back);
}

static void
object_kinds_name_their_api_group(void **state)
{
	(void)state;
	assert_string_equal(model_json_kind(EL_KIND_SERVICE), "Service");
	assert_string_equal(model_json_kind(EL_KIND_ENDPOINTS), "Endpoints");
	assert_string_equal(model_json_kind(EL_KIND_SLICE), "EndpointSlice");
	assert_string_equal(model_json_api_version(EL_KIND_SERVICE), "v1");
	assert_string_equal(model_json_api_version(EL_KIND_SLICE), "discovery.k8s.io/v1");
	assert_string_equal(model_json_resource(EL_KIND_ENDPOINTS), "endpoints");
	assert_string_equal(model_json_resource(EL_KIND_SLICE), "endpointslices");
}

/* ---- lists ---- */

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
add_service(struct el_model *m, const char *ns, const char *name)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
		 "{apiVersion: v1, kind: Service, metadata: {name: %s, namespace: %s},"
		 " spec: {ports: [{port: 80}]}}",
		 name, ns);
	if (manifest_load_buf(m, yaml, strlen(yaml), "t", err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void
cluster_wide_list_holds_every_namespace(void **state)
{
	struct el_model m;
	char *j;

	(void)state;
	el_model_init(&m);
	add_service(&m, "default", "a");
	add_service(&m, "prod", "b");
	add_service(&m, "prod", "c");
	j = model_json_list(&m, EL_KIND_SERVICE, NULL);
	assert_true(parses(j));
	assert_non_null(strstr(j, "\"kind\":\"ServiceList\""));
	assert_non_null(strstr(j, "\"apiVersion\":\"v1\""));
	assert_int_equal(count(j, "\"kind\":\"Service\""), 3);
	free(j);
	el_model_free(&m);
}

static void
namespace_list_holds_that_namespace_only(void **state)
{
	struct el_model m;
	char *j;

	(void)state;
	el_model_init(&m);
	add_service(&m, "default", "a");
	add_service(&m, "prod", "b");
	add_service(&m, "prod", "c");
	j = model_json_list(&m, EL_KIND_SERVICE, "prod");
	assert_int_equal(count(j, "\"kind\":\"Service\""), 2);
	assert_int_equal(count(j, "\"namespace\":\"prod\""), 2);
	assert_null(strstr(j, "\"namespace\":\"default\""));
	free(j);
	j = model_json_list(&m, EL_KIND_SERVICE, "nothing-here");
	assert_non_null(strstr(j, "\"items\":[]"));
	free(j);
	el_model_free(&m);
}

static void
slice_list_is_a_discovery_list(void **state)
{
	struct el_model m;
	char *j;

	(void)state;
	load_examples(&m);
	j = model_json_list(&m, EL_KIND_SLICE, NULL);
	assert_true(parses(j));
	assert_non_null(strstr(j, "\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
				  "\"EndpointSliceList\""));
	assert_int_equal(count(j, "\"kind\":\"EndpointSlice\""), m.n_slices);
	assert_int_equal(count(j, "\"kind\":\"Service\""), 0);
	free(j);
	j = model_json_list(&m, EL_KIND_ENDPOINTS, NULL);
	assert_non_null(strstr(j, "\"kind\":\"EndpointsList\""));
	assert_int_equal(count(j, "\"kind\":\"Endpoints\""), m.n_eps);
	free(j);
	el_model_free(&m);
}

static void
list_reads_back_through_the_manifest_parser(void **state)
{
	struct el_model m, back;
	char *j;

	(void)state;
	load_examples(&m);
	j = model_json_list(&m, EL_KIND_SERVICE, NULL);
	el_model_init(&back);
	if (manifest_load_buf(&back, j, strlen(j), "list", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(back.n_svcs, m.n_svcs);
	free(j);
	el_model_free(&m);
	el_model_free(&back);
}

/* ---- Status ---- */

static void
status_carries_code_reason_message_and_field(void **state)
{
	struct model_json_status st = {
	    .code = 422,
	    .reason = "Invalid",
	    .message = "Service \"web\" is invalid: spec.ports[0].port: must be between 1 and "
		       "65535",
	    .name = "web",
	    .kind = "services",
	    .field = "spec.ports[0].port",
	    .cause = "must be between 1 and 65535",
	};
	char *j = model_json_status(&st);

	(void)state;
	assert_true(parses(j));
	assert_non_null(strstr(j, "\"kind\":\"Status\""));
	assert_non_null(strstr(j, "\"apiVersion\":\"v1\""));
	assert_non_null(strstr(j, "\"status\":\"Failure\""));
	assert_non_null(strstr(j, "\"reason\":\"Invalid\""));
	assert_non_null(strstr(j, "\"code\":422"));
	assert_non_null(strstr(j, "\"name\":\"web\""));
	assert_non_null(strstr(j, "\"kind\":\"services\""));
	assert_non_null(strstr(j, "\"field\":\"spec.ports[0].port\""));
	assert_non_null(strstr(j, "is invalid: spec.ports[0].port"));
	free(j);
}

static void
status_leaves_out_what_is_not_known(void **state)
{
	struct model_json_status st = {.code = 404, .reason = "NotFound", .message = "gone"};
	char *j = model_json_status(&st);

	(void)state;
	assert_true(parses(j));
	assert_null(strstr(j, "details"));
	assert_non_null(strstr(j, "\"code\":404"));
	free(j);
}

static void
status_below_400_is_success(void **state)
{
	struct model_json_status st = {.code = 200};
	char *j = model_json_status(&st);

	(void)state;
	assert_non_null(strstr(j, "\"status\":\"Success\""));
	free(j);
}

static void
status_message_is_escaped(void **state)
{
	struct model_json_status st = {
	    .code = 400, .reason = "BadRequest", .message = "a \"quoted\"\\ line\nand\ttab\x01"};
	char *j = model_json_status(&st);

	(void)state;
	assert_true(parses(j));
	assert_non_null(strstr(j, "a \\\"quoted\\\"\\\\ line\\nand\\ttab\\u0001"));
	free(j);
}

/* ---- flows ---- */

static void
conns_name_every_side_of_a_flow(void **state)
{
	struct api_conn c[2];
	char *j;

	(void)state;
	memset(c, 0, sizeof(c));
	el_ip_parse("198.18.100.10", &c[0].client);
	el_ip_parse("198.18.0.1", &c[0].frontend);
	el_ip_parse("198.18.2.1", &c[0].snat);
	el_ip_parse("198.18.2.11", &c[0].backend);
	c[0].cport = 40000;
	c[0].fport = 30080;
	c[0].sport = 1024;
	c[0].bport = 8080;
	c[0].proto = 6;
	c[0].state = EL_CT_ESTABLISHED;
	c[0].age_s = 12;
	c[0].idle_s = 3;
	snprintf(c[0].service, sizeof(c[0].service), "default/frontend:80");
	el_ip_parse("2001:db8::1", &c[1].client);
	c[1].cport = 5353;
	c[1].proto = 17;
	c[1].state = EL_CT_UDP;
	j = api_conns_json(c, 2);
	assert_true(parses(j));
	assert_non_null(strstr(j, "\"kind\":\"ConnectionList\""));
	assert_non_null(strstr(j, "\"protocol\":\"TCP\",\"client\":\"198.18.100.10:40000\","
				  "\"frontend\":\"198.18.0.1:30080\",\"snat\":\"198.18.2.1:1024\","
				  "\"backend\":\"198.18.2.11:8080\",\"service\":\"default/"
				  "frontend:80\",\"state\":\"ESTABLISHED\",\"age\":12,\"idle\":3"));
	assert_non_null(strstr(j, "\"client\":\"[2001:db8::1]:5353\""));
	assert_non_null(strstr(j, "\"protocol\":\"UDP\""));
	free(j);
	j = api_conns_json(NULL, 0);
	assert_non_null(strstr(j, "\"items\":[]"));
	free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_example_service_reads_back_the_same),
	    cmocka_unit_test(every_example_endpoints_reads_back_the_same),
	    cmocka_unit_test(every_example_slice_reads_back_the_same),
	    cmocka_unit_test(service_allocations_read_back),
	    cmocka_unit_test(object_kinds_name_their_api_group),
	    cmocka_unit_test(cluster_wide_list_holds_every_namespace),
	    cmocka_unit_test(namespace_list_holds_that_namespace_only),
	    cmocka_unit_test(slice_list_is_a_discovery_list),
	    cmocka_unit_test(list_reads_back_through_the_manifest_parser),
	    cmocka_unit_test(status_carries_code_reason_message_and_field),
	    cmocka_unit_test(status_leaves_out_what_is_not_known),
	    cmocka_unit_test(status_below_400_is_success),
	    cmocka_unit_test(status_message_is_escaped),
	    cmocka_unit_test(conns_name_every_side_of_a_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
