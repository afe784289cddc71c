/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the service model and the manifest parser: what each
 * example manifest becomes, each validation rule (with the field its message
 * names), all-or-nothing loading, YAML aliases and depth, EndpointSlice nil
 * conditions, Lists, JSON input and JSON output; and the IP families of a
 * Service (spec.ipFamilyPolicy, spec.ipFamilies) validated and defaulted
 * as the API server does, for every policy.
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

#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#define EXAMPLES EL_SRCDIR "/config/examples"

static char err[1024];

/* Load @p yaml into @p m; returns what manifest_load_buf returned. */
static int
load(struct el_model *m, const char *yaml)
{
	err[0] = '\0';
	return manifest_load_buf(m, yaml, strlen(yaml), "test.yaml", err, sizeof(err));
}

static void
load_ok(struct el_model *m, const char *yaml)
{
	int rc = load(m, yaml);
	if (rc != 0)
		fail_msg("load failed (%d): %s", rc, err);
}

/* Load one document that must be refused; the message must contain @p want. */
static void
expect_refused(const char *yaml, const char *want)
{
	struct el_model m;

	el_model_init(&m);
	int rc = load(&m, yaml);
	if (rc != -EINVAL)
		fail_msg("expected -EINVAL, got %d (%s)", rc, err);
	if (strstr(err, want) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err, want);
	assert_int_equal(m.n_svcs + m.n_eps + m.n_slices, 0);
	el_model_free(&m);
}

static struct el_ip
ip(const char *s)
{
	struct el_ip a;
	assert_int_equal(el_ip_parse(s, &a), 0);
	return a;
}

static void
assert_ip(const struct el_ip *have, const char *want)
{
	char buf[EL_IP_STRLEN];
	struct el_ip w = ip(want);

	if (!el_ip_eq(have, &w))
		fail_msg("address %s, expected %s", el_ip_fmt(have, buf, sizeof(buf)), want);
}

static const char *svc_head = "apiVersion: v1\n"
			      "kind: Service\n"
			      "metadata: {name: web, namespace: shop}\n";

/* A Service document: the common head, then @p spec_fmt. */
static const char *
svc_doc(const char *spec_fmt, ...)
{
	static char buf[4096];
	va_list ap;
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", svc_head);

	va_start(ap, spec_fmt);
	vsnprintf(buf + n, sizeof(buf) - n, spec_fmt, ap);
	va_end(ap);
	return buf;
}

/* ---- example manifests ---- */

static void
load_example(struct el_model *m, const char *file)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", EXAMPLES, file);
	int rc = manifest_load_path(m, path, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %d: %s", path, rc, err);
}

static void
example_frontend_is_a_nodeport_with_three_slice_pods(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "frontend.yaml");
	const struct el_service *s = model_find_service(&m, "default", "frontend");
	assert_non_null(s);
	assert_int_equal(s->type, EL_SVC_NODE_PORT);
	assert_int_equal(s->n_ports, 1);
	assert_int_equal(s->ports[0].port, 80);
	assert_int_equal(s->ports[0].target_port, 8080);
	assert_int_equal(s->ports[0].node_port, 30080);
	assert_false(s->ports[0].node_port_auto);
	assert_int_equal(m.n_slices, 1);
	const struct el_slice *sl = m.slices[0];
	assert_string_equal(sl->service_name, "frontend");
	assert_int_equal(sl->n_eps, 3);
	assert_ip(&sl->eps[2].addrs[0], "198.18.2.13");
	assert_int_equal(sl->ports[0].port, 8080);
	el_model_free(&m);
}

static void
example_api_service_is_a_clusterip_with_core_endpoints(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "api-service.yaml");
	const struct el_service *s = model_find_service(&m, "default", "api-service");
	assert_non_null(s);
	assert_int_equal(s->type, EL_SVC_CLUSTER_IP);
	assert_int_equal(s->n_cluster_ips, 1);
	assert_ip(&s->cluster_ips[0], "198.18.1.10");
	assert_int_equal(s->ports[0].target_port, 8080);
	const struct el_endpoints *e = model_find_endpoints(&m, "default", "api-service");
	assert_non_null(e);
	assert_int_equal(e->n_subsets, 1);
	assert_int_equal(e->subsets[0].n_addrs, 2);
	assert_ip(&e->subsets[0].addrs[1], "198.18.2.15");
	assert_int_equal(e->subsets[0].ports[0].port, 8080);
	el_model_free(&m);
}

static void
example_web_lb_is_a_loadbalancer_without_source_ranges(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "web-lb.yaml");
	const struct el_service *s = model_find_service(&m, "default", "web-lb");
	assert_non_null(s);
	assert_int_equal(s->type, EL_SVC_LOAD_BALANCER);
	assert_int_equal(s->n_src_ranges, 0);
	assert_int_equal(s->lb_ip.family, EL_AF_NONE);
	assert_int_equal(s->ports[0].port, 443);
	assert_int_equal(s->ports[0].target_port, 8443);
	el_model_free(&m);
}

static void
example_web_lb_fixed_asks_for_its_address(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "web-lb-fixed.yaml");
	const struct el_service *s = model_find_service(&m, "default", "web-lb-fixed");
	assert_non_null(s);
	assert_ip(&s->lb_ip, "198.18.0.120");
	assert_int_equal(s->n_src_ranges, 1);
	assert_int_equal(s->src_ranges[0].len, 24);
	/* no conditions at all: ready (nil => true) */
	assert_true(model_slice_ep_ready(&m.slices[0]->eps[0]));
	el_model_free(&m);
}

static void
example_sticky_has_client_ip_affinity_of_600s(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "sticky.yaml");
	const struct el_service *s = model_find_service(&m, "default", "sticky");
	assert_non_null(s);
	assert_true(s->affinity_client_ip);
	assert_int_equal(s->affinity_timeout, 600);
	el_model_free(&m);
}

static void
example_multiport_names_its_target_ports(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "multiport.yaml");
	const struct el_service *s = model_find_service(&m, "default", "multiport");
	assert_non_null(s);
	assert_int_equal(s->n_ports, 3);
	assert_string_equal(s->ports[0].target_name, "http");
	assert_string_equal(s->ports[1].target_name, "https");
	assert_string_equal(s->ports[2].target_name, "");
	assert_int_equal(s->ports[2].target_port, 9100);
	assert_int_equal(m.n_slices, 2);
	assert_int_equal(m.slices[0]->ports[0].port, 8080);
	assert_int_equal(m.slices[1]->ports[0].port, 8081);
	el_model_free(&m);
}

static void
example_manual_db_has_no_selector_and_manual_endpoints(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "manual-db.yaml");
	const struct el_service *s = model_find_service(&m, "default", "manual-db");
	assert_non_null(s);
	assert_int_equal(s->n_selector, 0);
	const struct el_endpoints *e = model_find_endpoints(&m, "default", "manual-db");
	assert_non_null(e);
	assert_ip(&e->subsets[0].addrs[0], "198.18.2.20");
	assert_int_equal(e->subsets[0].ports[0].port, 5432);
	el_model_free(&m);
}

static void
examples_directory_loads_every_file(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	int rc = manifest_load_path(&m, EXAMPLES, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(m.n_svcs, 8);
	assert_int_equal(m.n_eps, 2);
	assert_int_equal(m.n_slices, 8);
	el_model_free(&m);
}

/* ---- validation, one rule each ---- */

static void
port_out_of_range_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports:\n  - {name: a, port: 80}\n"
			       "  - {name: b, port: 70000}\n"),
		       "spec.ports[1].port: must be between 1 and 65535");
}

static void
port_zero_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 0}]\n"), "spec.ports[0].port:");
}

static void
missing_port_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{protocol: TCP}]\n"),
		       "spec.ports[0].port: required");
}

static void
unknown_protocol_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80, protocol: ICMP}]\n"),
		       "spec.ports[0].protocol: must be one of TCP, UDP, SCTP");
}

static void
duplicate_protocol_and_port_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports:\n  - {name: a, port: 80}\n"
			       "  - {name: b, port: 80, protocol: TCP}\n"),
		       "spec.ports[1]: duplicate protocol and port TCP/80");
}

static void
same_port_on_tcp_and_udp_is_accepted(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, svc_doc("spec:\n  ports:\n  - {name: dns, port: 53, protocol: UDP}\n"
			    "  - {name: dns-tcp, port: 53, protocol: TCP}\n"));
	assert_int_equal(m.n_svcs, 1);
	el_model_free(&m);
}

static void
port_names_are_required_with_several_ports(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports:\n  - {name: a, port: 80}\n  - {port: 81}\n"),
		       "spec.ports[1].name: required");
}

static void
port_names_must_be_unique(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports:\n  - {name: a, port: 80}\n"
			       "  - {name: a, port: 81}\n"),
		       "spec.ports[1].name: duplicate value");
}

static void
port_name_must_be_a_dns_label(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{name: Web_1, port: 80}]\n"),
		       "spec.ports[0].name: must be a DNS-1123 label");
}

static void
named_target_port_must_be_an_iana_name(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80, targetPort: \"8080\"}]\n"),
		       "spec.ports[0].targetPort:");
}

static void
target_port_out_of_range_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80, targetPort: 65536}]\n"),
		       "spec.ports[0].targetPort: must be between 1 and 65535");
}

static void
node_port_is_forbidden_for_cluster_ip(void **state)
{
	(void)state;
	expect_refused(
	    svc_doc("spec:\n  type: ClusterIP\n  ports: [{port: 80, nodePort: 30080}]\n"),
	    "spec.ports[0].nodePort: may not be used when type is 'ClusterIP'");
}

static void
node_port_is_accepted_for_node_port_type(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, svc_doc("spec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 30080}]\n"));
	assert_int_equal(m.svcs[0]->ports[0].node_port, 30080);
	el_model_free(&m);
}

static void
source_ranges_only_for_load_balancer(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: NodePort\n  ports: [{port: 80}]\n"
			       "  loadBalancerSourceRanges: [198.18.0.0/24]\n"),
		       "spec.loadBalancerSourceRanges: may only be used when type is "
		       "'LoadBalancer'");
}

static void
source_range_must_be_a_cidr(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
			       "  loadBalancerSourceRanges: [198.18.0.0/24, 198.18.300.0/24]\n"),
		       "spec.loadBalancerSourceRanges[1]: must be a CIDR");
}

static void
affinity_timeout_zero_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"
			       "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n"),
		       "spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be between 1 "
		       "and 86400");
}

static void
affinity_timeout_above_a_day_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"
			       "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}\n"),
		       "spec.sessionAffinityConfig.clientIP.timeoutSeconds:");
}

static void
affinity_timeout_defaults_to_10800(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, svc_doc("spec:\n  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"));
	assert_true(m.svcs[0]->affinity_client_ip);
	assert_int_equal(m.svcs[0]->affinity_timeout, 10800);
	el_model_free(&m);
}

static void
unknown_session_affinity_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: 80}]\n  sessionAffinity: Cookie\n"),
		       "spec.sessionAffinity: must be None or ClientIP");
}

static void
cluster_ip_must_be_an_address(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  clusterIP: 198.18.1.256\n  ports: [{port: 80}]\n"),
		       "spec.clusterIP: must be a valid IP address");
}

static void
external_ip_must_be_an_address(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  externalIPs: [198.18.0.5, nope]\n  ports: [{port: 80}]\n"),
		       "spec.externalIPs[1]: must be a valid IP address");
}

static void
external_ip_may_not_be_loopback(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  externalIPs: [127.0.0.1]\n  ports: [{port: 80}]\n"),
		       "spec.externalIPs[0]: may not be");
}

static void
load_balancer_ip_must_be_an_address(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: LoadBalancer\n  loadBalancerIP: x.1\n"
			       "  ports: [{port: 80}]\n"),
		       "spec.loadBalancerIP: must be a valid IP address");
}

static void
service_type_must_be_known(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: Magic\n  ports: [{port: 80}]\n"),
		       "spec.type: must be one of");
}

static void
ports_are_required(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: ClusterIP\n"), "spec.ports: required");
}

static void
headless_may_not_be_node_port(void **state)
{
	(void)state;
	expect_refused(
	    svc_doc("spec:\n  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n"),
	    "spec.clusterIP: may not be \"None\"");
}

static void
external_name_needs_a_host_name(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  type: ExternalName\n"), "spec.externalName: required");
}

static void
service_name_must_be_a_dns1035_label(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\n"
		       "spec: {ports: [{port: 80}]}\n",
		       "metadata.name: must be a DNS-1035 label");
}

static void
service_name_may_not_hold_dots(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {name: web.shop}\n"
		       "spec: {ports: [{port: 80}]}\n",
		       "metadata.name:");
}

static void
namespace_must_be_a_dns_label(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: Shop}\n"
		       "spec: {ports: [{port: 80}]}\n",
		       "metadata.namespace: must be a DNS-1123 label");
}

static void
name_is_required(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {namespace: shop}\n"
		       "spec: {ports: [{port: 80}]}\n",
		       "metadata.name: required");
}

static void
namespace_defaults_to_default(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		    "spec: {ports: [{port: 80}]}\n");
	assert_non_null(model_find_service(&m, "default", "web"));
	el_model_free(&m);
}

static void
slice_name_may_be_a_dns_subdomain(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		    "metadata: {name: web.abc-1}\naddressType: IPv4\n"
		    "endpoints: [{addresses: [198.18.2.11]}]\n");
	assert_non_null(model_find_slice(&m, "default", "web.abc-1"));
	el_model_free(&m);
}

static void
slice_addresses_must_match_address_type(void **state)
{
	(void)state;
	expect_refused("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		       "metadata: {name: s}\naddressType: IPv4\n"
		       "endpoints: [{addresses: [\"2001:db8::1\"]}]\n",
		       "endpoints[0].addresses[0]: must be a valid IPv4 address");
}

static void
slice_address_type_is_required(void **state)
{
	(void)state;
	expect_refused("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		       "metadata: {name: s}\nendpoints: [{addresses: [198.18.2.11]}]\n",
		       "addressType: required");
}

static void
slice_endpoint_needs_an_address(void **state)
{
	(void)state;
	expect_refused("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		       "metadata: {name: s}\naddressType: IPv4\n"
		       "endpoints: [{conditions: {ready: true}}]\n",
		       "endpoints[0].addresses: must have between 1 and 100 items");
}

static void
fqdn_slices_are_stored(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		    "metadata: {name: s}\naddressType: FQDN\n"
		    "endpoints: [{addresses: [db.example.org]}]\n");
	assert_int_equal(m.slices[0]->addr_type, EL_ADDR_FQDN);
	assert_string_equal(m.slices[0]->eps[0].fqdns[0], "db.example.org");
	el_model_free(&m);
}

static void
endpoints_port_out_of_range_is_refused(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		       "subsets:\n- addresses: [{ip: 198.18.2.11}]\n  ports: [{port: 0}]\n",
		       "subsets[0].ports[0].port: must be between 1 and 65535");
}

static void
endpoints_address_must_be_an_ip(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		       "subsets:\n- addresses: [{ip: 198.18.2.11}, {ip: pod-b}]\n"
		       "  ports: [{port: 80}]\n",
		       "subsets[0].addresses[1].ip: must be a valid IP address");
}

static void
endpoints_address_must_be_an_object_with_an_ip(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		       "subsets:\n- addresses: [{ip: 198.18.2.11}, 198.18.2.12]\n"
		       "  ports: [{port: 80}]\n",
		       "subsets[0].addresses[1]: must be an object");
	expect_refused("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		       "subsets:\n- addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}, {}]\n"
		       "  ports: [{port: 80}]\n",
		       "subsets[0].addresses[2].ip: required value");
	expect_refused("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		       "subsets:\n- addresses: [{ip: [198.18.2.11]}]\n  ports: [{port: 80}]\n",
		       "subsets[0].addresses[0].ip: must be a string");
}

/* ---- messages ---- */

static void
message_names_source_document_and_line(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	const char *yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
			   "spec: {ports: [{port: 80}]}\n"
			   "---\n"
			   "apiVersion: v1\n"
			   "kind: Service\n"
			   "metadata: {name: b}\n"
			   "spec:\n"
			   "  ports:\n"
			   "  - name: x\n"
			   "    port: 80\n"
			   "  - name: y\n"
			   "    port: 99999\n";
	assert_int_equal(load(&m, yaml), -EINVAL);
	assert_string_equal(err, "test.yaml: document 2, line 14: spec.ports[1].port: must be "
				 "between 1 and 65535");
	el_model_free(&m);
}

static void
wrong_type_of_a_used_field_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: {port: 80}\n"), "spec.ports: must be a list");
}

static void
string_for_an_integer_field_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ports: [{port: \"80\"}]\n"),
		       "spec.ports[0].port: must be an integer");
}

static void
fields_edgelb_does_not_use_are_ignored(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\n"
		    "metadata:\n  name: web\n  uid: 0b1c\n  resourceVersion: \"17\"\n"
		    "  annotations: {a: b, c: {d: e}}\n  managedFields: [{manager: kubectl}]\n"
		    "spec:\n  selector: {app: web}\n  internalTrafficPolicy: Cluster\n"
		    "  ports: [{port: 80, appProtocol: http}]\n"
		    "status: {conditions: []}\n");
	assert_int_equal(m.n_svcs, 1);
	assert_int_equal(m.svcs[0]->n_selector, 1);
	el_model_free(&m);
}

static void
unknown_kind_is_refused(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "kind: \"Pod\"");
}

static void
wrong_api_version_is_refused(void **state)
{
	(void)state;
	expect_refused("apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\n"
		       "metadata: {name: s}\naddressType: IPv4\n",
		       "apiVersion: \"discovery.k8s.io/v1beta1\" is not served");
}

static void
yaml_syntax_error_is_reported_with_its_line(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {name: [\n", "YAML syntax error");
}

/* ---- all or nothing ---- */

static void
bad_document_leaves_the_model_unchanged(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\nmetadata: {name: keep}\n"
		    "spec: {ports: [{port: 80}]}\n");
	uint64_t rev = m.rev;
	const char *yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: keep}\n"
			   "spec: {ports: [{port: 81}]}\n"
			   "---\n"
			   "apiVersion: v1\nkind: Service\nmetadata: {name: new}\n"
			   "spec: {ports: [{port: 80}]}\n"
			   "---\n"
			   "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\n"
			   "spec: {ports: [{port: -1}]}\n";
	assert_int_equal(load(&m, yaml), -EINVAL);
	assert_int_equal(m.n_svcs, 1);
	assert_int_equal(m.svcs[0]->ports[0].port, 80);
	assert_null(model_find_service(&m, "default", "new"));
	assert_int_equal(m.rev, rev);
	el_model_free(&m);
}

static void
later_document_replaces_an_earlier_one(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		    "spec: {ports: [{port: 80}]}\n"
		    "---\n"
		    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		    "spec: {ports: [{port: 81}]}\n");
	assert_int_equal(m.n_svcs, 1);
	assert_int_equal(m.svcs[0]->ports[0].port, 81);
	el_model_free(&m);
}

/* ---- YAML hazards ---- */

static void
aliases_are_refused(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		       "spec:\n  ports: [&p {port: 80}, *p]\n",
		       "anchors");
	expect_refused("a: *b\n", "aliases");
}

static void
alias_bomb_is_refused_quickly(void **state)
{
	(void)state;
	expect_refused("a: &a [x, x, x, x, x, x, x, x, x]\n"
		       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		       "not accepted");
}

static void
nesting_deeper_than_64_is_refused(void **state)
{
	(void)state;
	char doc[256];
	memset(doc, '[', 65);
	memset(doc + 65, ']', 65);
	doc[130] = '\0';
	expect_refused(doc, "nested deeper than 64 levels");
}

static void
nesting_of_64_is_parsed(void **state)
{
	(void)state;
	char doc[256];
	struct el_model m;
	el_model_init(&m);
	memset(doc, '[', 64);
	memset(doc + 64, ']', 64);
	doc[128] = '\0';
	/* deep but legal: refused only because a list is not an object */
	assert_int_equal(load(&m, doc), -EINVAL);
	assert_non_null(strstr(err, "must be an object"));
	el_model_free(&m);
}

/* ---- EndpointSlice conditions ---- */

static const struct el_slice_ep *
slice_ep(struct el_model *m, const char *conditions)
{
	char doc[512];
	snprintf(doc, sizeof(doc),
		 "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		 "metadata: {name: s}\naddressType: IPv4\n"
		 "endpoints: [{addresses: [198.18.2.11]%s}]\n",
		 conditions);
	load_ok(m, doc);
	return &m->slices[0]->eps[0];
}

static void
absent_conditions_mean_ready_serving_not_terminating(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	const struct el_slice_ep *e = slice_ep(&m, "");
	assert_int_equal(e->ready, EL_COND_NIL);
	assert_true(model_slice_ep_ready(e));
	assert_true(model_slice_ep_serving(e));
	assert_false(model_slice_ep_terminating(e));
	el_model_free(&m);
}

static void
nil_serving_takes_the_value_of_ready(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	const struct el_slice_ep *e = slice_ep(&m, ", conditions: {ready: false}");
	assert_false(model_slice_ep_ready(e));
	assert_false(model_slice_ep_serving(e));
	assert_false(model_slice_ep_terminating(e));
	el_model_free(&m);
}

static void
null_conditions_are_nil(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	const struct el_slice_ep *e =
	    slice_ep(&m, ", conditions: {ready: null, serving: ~, terminating: null}");
	assert_true(model_slice_ep_ready(e));
	assert_true(model_slice_ep_serving(e));
	assert_false(model_slice_ep_terminating(e));
	el_model_free(&m);
}

static void
explicit_conditions_are_kept(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	const struct el_slice_ep *e =
	    slice_ep(&m, ", conditions: {ready: false, serving: true, terminating: true}");
	assert_false(model_slice_ep_ready(e));
	assert_true(model_slice_ep_serving(e));
	assert_true(model_slice_ep_terminating(e));
	el_model_free(&m);
}

static void
condition_must_be_a_boolean(void **state)
{
	(void)state;
	expect_refused("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		       "metadata: {name: s}\naddressType: IPv4\n"
		       "endpoints: [{addresses: [198.18.2.11], conditions: {ready: maybe}}]\n",
		       "endpoints[0].conditions.ready: must be true or false");
}

/* ---- Lists, JSON ---- */

static void
list_items_are_loaded(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: List\nitems:\n"
		    "- {apiVersion: v1, kind: Service, metadata: {name: a}, "
		    "spec: {ports: [{port: 80}]}}\n"
		    "- {apiVersion: v1, kind: Endpoints, metadata: {name: a}}\n");
	assert_int_equal(m.n_svcs, 1);
	assert_int_equal(m.n_eps, 1);
	el_model_free(&m);
}

static void
list_item_errors_name_the_item(void **state)
{
	(void)state;
	expect_refused("apiVersion: v1\nkind: ServiceList\nitems:\n"
		       "- {apiVersion: v1, kind: Service, metadata: {name: a}, "
		       "spec: {ports: [{port: 80}]}}\n"
		       "- {apiVersion: v1, kind: Service, metadata: {name: b}, "
		       "spec: {ports: [{port: 80, protocol: XTP}]}}\n",
		       "line 5: items[1].spec.ports[0].protocol");
}

static void
json_documents_are_read(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"j\"},"
		    "\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,"
		    "\"targetPort\":\"web\",\"nodePort\":30001}]}}");
	const struct el_service *s = model_find_service(&m, "default", "j");
	assert_non_null(s);
	assert_string_equal(s->ports[0].target_name, "web");
	assert_int_equal(s->ports[0].node_port, 30001);
	el_model_free(&m);
}

static void
service_json_reads_back_the_same(void **state)
{
	(void)state;
	struct el_model a, b;
	el_model_init(&a);
	el_model_init(&b);
	load_ok(&a, "apiVersion: v1\nkind: Service\n"
		    "metadata: {name: web, namespace: shop, labels: {app: web}}\n"
		    "spec:\n  type: LoadBalancer\n  clusterIP: 198.18.1.7\n"
		    "  externalIPs: [198.18.0.9]\n  loadBalancerSourceRanges: [198.18.0.0/24]\n"
		    "  sessionAffinity: ClientIP\n"
		    "  ports:\n  - {name: http, port: 80, targetPort: web, nodePort: 30100}\n"
		    "status: {loadBalancer: {ingress: [{ip: 198.18.0.100}]}}\n");
	char *json = model_service_to_json(a.svcs[0]);
	assert_non_null(json);
	load_ok(&b, json);
	const struct el_service *x = a.svcs[0], *y = b.svcs[0];
	assert_string_equal(y->ns, "shop");
	assert_string_equal(y->labels[0].value, "web");
	assert_int_equal(y->type, x->type);
	assert_true(el_ip_eq(&y->cluster_ips[0], &x->cluster_ips[0]));
	assert_true(el_ip_eq(&y->external_ips[0], &x->external_ips[0]));
	assert_int_equal(y->src_ranges[0].len, 24);
	assert_true(y->affinity_client_ip);
	assert_int_equal(y->affinity_timeout, 10800);
	assert_string_equal(y->ports[0].target_name, "web");
	assert_int_equal(y->ports[0].node_port, 30100);
	assert_true(el_ip_eq(&y->lb_ingress[0], &x->lb_ingress[0]));
	free(json);
	el_model_free(&a);
	el_model_free(&b);
}

static void
slice_json_keeps_nil_conditions_nil(void **state)
{
	(void)state;
	struct el_model a, b;
	el_model_init(&a);
	el_model_init(&b);
	slice_ep(&a, ", conditions: {serving: true}");
	char *json = model_slice_to_json(a.slices[0]);
	assert_non_null(json);
	assert_null(strstr(json, "\"ready\""));
	load_ok(&b, json);
	assert_int_equal(b.slices[0]->eps[0].ready, EL_COND_NIL);
	assert_int_equal(b.slices[0]->eps[0].serving, 1);
	free(json);
	el_model_free(&a);
	el_model_free(&b);
}

static void
endpoints_json_reads_back_the_same(void **state)
{
	(void)state;
	struct el_model a, b;
	el_model_init(&a);
	el_model_init(&b);
	load_example(&a, "api-service.yaml");
	char *json = model_endpoints_to_json(a.eps[0]);
	assert_non_null(json);
	load_ok(&b, json);
	assert_int_equal(b.eps[0]->subsets[0].n_addrs, 2);
	assert_int_equal(b.eps[0]->subsets[0].ports[0].port, 8080);
	free(json);
	el_model_free(&a);
	el_model_free(&b);
}

/* Strings with quotes, backslashes and control characters come out as JSON
 * escapes around the runs of other characters, and read back the same. */
static void
json_strings_are_escaped_and_read_back_the_same(void **state)
{
	(void)state;
	struct el_model a, b;
	el_model_init(&a);
	el_model_init(&b);
	load_ok(&a, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n"
		    "    a: \"say \\\"hi\\\" \\\\ to\\x01\\tthem\\n\"\n    b: \"\\\"\"\n"
		    "spec:\n  ports: [{port: 80}]\n");
	char *json = model_service_to_json(a.svcs[0]);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"say \\\"hi\\\" \\\\ to\\u0001\\u0009them\\u000a\""));
	assert_non_null(strstr(json, "\"b\":\"\\\"\""));
	load_ok(&b, json);
	assert_int_equal(b.svcs[0]->n_labels, 2);
	assert_string_equal(b.svcs[0]->labels[0].value, a.svcs[0]->labels[0].value);
	assert_string_equal(b.svcs[0]->labels[1].value, "\"");
	free(json);
	el_model_free(&a);
	el_model_free(&b);
}

/* ---- the model container ---- */

static void
delete_and_take_remove_objects(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_example(&m, "api-service.yaml");
	assert_int_equal(model_delete_service(&m, "default", "api-service"), 0);
	assert_int_equal(model_delete_service(&m, "default", "api-service"), -ENOENT);
	struct el_endpoints *e = model_take_endpoints(&m, "default", "api-service");
	assert_non_null(e);
	assert_int_equal(m.n_eps, 0);
	model_endpoints_free(e);
	el_model_free(&m);
}

static void
slices_of_a_service_follow_puts_relabels_and_deletes(void **state)
{
	(void)state;
	static const char *fmt = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
				 "metadata: {name: %s, namespace: %s, labels: "
				 "{kubernetes.io/service-name: %s}}\naddressType: IPv4\n"
				 "endpoints: []\n";
	struct el_model m;
	struct el_slice *const *first;
	char doc[512];

	el_model_init(&m);
	const char *put[][3] = {{"web-b", "default", "web"},
				{"web-a", "default", "web"},
				{"db-a", "default", "db"},
				{"web-x", "other", "web"}};
	for (unsigned i = 0; i < 4; i++) {
		snprintf(doc, sizeof(doc), fmt, put[i][0], put[i][1], put[i][2]);
		assert_int_equal(load(&m, doc), 0);
	}
	assert_int_equal(model_slices_of(&m, "default", "web", &first), 2);
	assert_string_equal(first[0]->name, "web-a");
	assert_string_equal(first[1]->name, "web-b");
	assert_int_equal(model_slices_of(&m, "other", "web", &first), 1);
	assert_int_equal(model_slices_of(&m, "default", "nope", &first), 0);
	/* web-a moves to db */
	snprintf(doc, sizeof(doc), fmt, "web-a", "default", "db");
	assert_int_equal(load(&m, doc), 0);
	assert_int_equal(model_slices_of(&m, "default", "web", &first), 1);
	assert_string_equal(first[0]->name, "web-b");
	assert_int_equal(model_slices_of(&m, "default", "db", &first), 2);
	assert_int_equal(model_delete_slice(&m, "default", "db-a"), 0);
	assert_int_equal(model_slices_of(&m, "default", "db", &first), 1);
	assert_string_equal(first[0]->name, "web-a");
	/* a clone has its own index */
	struct el_model c;
	assert_int_equal(model_clone(&c, &m), 0);
	assert_int_equal(model_slices_of(&c, "default", "web", &first), 1);
	assert_ptr_equal(first[0], model_find_slice(&c, "default", "web-b"));
	el_model_free(&c);
	el_model_free(&m);
}

static void
cluster_ip_is_refused_on_external_name(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec: {type: ExternalName, externalName: db.example.org, "
			       "clusterIP: 198.18.1.9}\n"),
		       "spec.clusterIP: may not be set when type is 'ExternalName'");
}

static void
services_are_not_validated_when_the_caller_says_so(void **state)
{
	(void)state;
	struct el_model m;
	const char *doc = svc_doc("spec: {ports: [{port: 80, nodePort: 30080}]}\n");

	el_model_init(&m);
	assert_int_equal(load(&m, doc), -EINVAL);
	assert_int_equal(manifest_parse_buf(&m, doc, strlen(doc), "t", MANIFEST_UNCHECKED_SERVICES,
					    err, sizeof(err)),
			 0);
	assert_int_equal(m.n_svcs, 1);
	assert_int_equal(m.svcs[0]->ports[0].node_port, 30080);
	el_model_free(&m);
}

static void
clone_is_a_deep_copy(void **state)
{
	(void)state;
	struct el_model a, b;
	el_model_init(&a);
	assert_int_equal(manifest_load_path(&a, EXAMPLES, err, sizeof(err)), 0);
	assert_int_equal(model_clone(&b, &a), 0);
	assert_int_equal(b.n_svcs, a.n_svcs);
	assert_int_equal(b.n_slices, a.n_slices);
	assert_ptr_not_equal(b.svcs[0], a.svcs[0]);
	assert_ptr_not_equal(b.svcs[0]->ports, a.svcs[0]->ports);
	b.svcs[0]->ports[0].port = 1;
	assert_int_not_equal(a.svcs[0]->ports[0].port, 1);
	el_model_free(&a);
	el_model_free(&b);
}

static void
objects_are_kept_sorted_by_namespace_and_name(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\n"
		    "spec: {ports: [{port: 80}]}\n---\n"
		    "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: y}\n"
		    "spec: {ports: [{port: 80}]}\n---\n"
		    "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\n"
		    "spec: {ports: [{port: 80}]}\n");
	assert_int_equal(m.n_svcs, 3);
	assert_string_equal(m.svcs[0]->name, "a");
	assert_string_equal(m.svcs[0]->ns, "x");
	assert_string_equal(m.svcs[1]->name, "b");
	assert_string_equal(m.svcs[2]->ns, "y");
	el_model_free(&m);
}

static void
proxy_name_label_makes_a_service_not_programmable(void **state)
{
	(void)state;
	struct el_model m;
	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n  labels:\n"
		    "    service.kubernetes.io/service-proxy-name: someone-else\n"
		    "spec: {ports: [{port: 80}]}\n");
	assert_false(model_service_programmable(m.svcs[0]));
	el_model_free(&m);
}

/* ---- IP families (spec.ipFamilyPolicy, spec.ipFamilies) ---- */

#define AV4   EL_FAMILY_BIT(EL_AF_INET)
#define AV6   EL_FAMILY_BIT(EL_AF_INET6)
#define AVALL EL_FAMILIES_BOTH

/* One defaulting case: a spec, the families edgelb serves, and either the
 * policy and families it resolves to or the message of the refusal. */
struct fam_case {
	const char *spec;
	unsigned avail;
	uint8_t policy;
	uint8_t fam[2]; /* {0, 0}: refused */
	const char *refusal;
};

static void
expect_families(const struct fam_case *c)
{
	struct el_model m;
	uint8_t policy = 0xff, fam[2] = {0xff, 0xff};
	unsigned n = 99;
	int rc;

	el_model_init(&m);
	load_ok(&m, svc_doc("%s", c->spec));
	const struct el_service *s = model_find_service(&m, "shop", "web");
	err[0] = '\0';
	rc = model_service_families(s, c->avail, &policy, fam, &n, err, sizeof(err));
	if (c->refusal != NULL) {
		if (rc != -EINVAL)
			fail_msg("%s: expected a refusal, got %d", c->spec, rc);
		if (strstr(err, c->refusal) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->spec, err, c->refusal);
	} else {
		if (rc != 0)
			fail_msg("%s: refused: %s", c->spec, err);
		assert_int_equal(policy, c->policy);
		assert_int_equal(n, c->fam[1] != 0 ? 2 : c->fam[0] != 0 ? 1 : 0);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(fam[i], c->fam[i]);
	}
	el_model_free(&m);
}

#define P80 "  ports: [{port: 80}]\n"

static void
policy_defaults_to_single_stack_of_the_default_family(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n" P80, AV4, EL_IPFP_SINGLE_STACK, {EL_AF_INET, 0}, NULL},
	    {"spec:\n" P80, AVALL, EL_IPFP_SINGLE_STACK, {EL_AF_INET, 0}, NULL},
	    /* IPv4 is the default when edgelb has it, else IPv6 */
	    {"spec:\n" P80, AV6, EL_IPFP_SINGLE_STACK, {EL_AF_INET6, 0}, NULL},
	    /* nothing configured counts as IPv4 */
	    {"spec:\n" P80, 0, EL_IPFP_SINGLE_STACK, {EL_AF_INET, 0}, NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
two_families_or_two_cluster_ips_default_to_require_dual_stack(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  ipFamilies: [IPv6, IPv4]\n" P80,
	     AVALL,
	     EL_IPFP_REQUIRE_DUAL_STACK,
	     {EL_AF_INET6, EL_AF_INET},
	     NULL},
	    {"spec:\n  clusterIP: 198.18.1.5\n  clusterIPs: [198.18.1.5, \"2001:db8:3::5\"]\n" P80,
	     AVALL,
	     EL_IPFP_REQUIRE_DUAL_STACK,
	     {EL_AF_INET, EL_AF_INET6},
	     NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
prefer_dual_stack_gets_both_families_when_both_are_available(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n" P80,
	     AVALL,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET, EL_AF_INET6},
	     NULL},
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv6]\n" P80,
	     AVALL,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET6, EL_AF_INET},
	     NULL},
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n  clusterIP: \"2001:db8:3::5\"\n" P80,
	     AVALL,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET6, EL_AF_INET},
	     NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
prefer_dual_stack_gets_one_family_when_one_is_available(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n" P80,
	     AV4,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET, 0},
	     NULL},
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n" P80,
	     AV6,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET6, 0},
	     NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
require_dual_stack_gets_both_families(void **state)
{
	(void)state;
	static const struct fam_case c = {"spec:\n  ipFamilyPolicy: RequireDualStack\n" P80,
					  AVALL,
					  EL_IPFP_REQUIRE_DUAL_STACK,
					  {EL_AF_INET, EL_AF_INET6},
					  NULL};
	expect_families(&c);
}

static void
require_dual_stack_needs_both_families_available(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  ipFamilyPolicy: RequireDualStack\n" P80,
	     AV4,
	     0,
	     {0, 0},
	     "spec.ipFamilyPolicy: RequireDualStack: this edgelb is not configured for "
	     "dual-stack"},
	    {"spec:\n  ipFamilies: [IPv4, IPv6]\n" P80, AV6, 0, {0, 0}, "spec.ipFamilyPolicy"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
a_family_edgelb_cannot_serve_is_refused(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  ipFamilies: [IPv6]\n" P80,
	     AV4,
	     0,
	     {0, 0},
	     "spec.ipFamilies[0]: IPv6 is not configured on this edgelb"},
	    {"spec:\n  clusterIP: \"2001:db8:3::5\"\n" P80,
	     AV4,
	     0,
	     {0, 0},
	     "spec.clusterIPs[0]: IPv6 is not configured on this edgelb"},
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv4]\n" P80,
	     AV6,
	     0,
	     {0, 0},
	     "spec.ipFamilies[0]: IPv4 is not configured"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
families_are_inferred_from_cluster_ips(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  clusterIP: \"2001:db8:3::5\"\n" P80,
	     AVALL,
	     EL_IPFP_SINGLE_STACK,
	     {EL_AF_INET6, 0},
	     NULL},
	    /* the second clusterIP's family follows the one given first */
	    {"spec:\n  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv4]\n"
	     "  clusterIP: 198.18.1.5\n  clusterIPs: [198.18.1.5, \"2001:db8:3::5\"]\n" P80,
	     AVALL,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET, EL_AF_INET6},
	     NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
headless_without_selector_gets_its_families_whatever_is_available(void **state)
{
	(void)state;
	static const struct fam_case cases[] = {
	    {"spec:\n  clusterIP: None\n  ipFamilyPolicy: PreferDualStack\n" P80,
	     AV4,
	     EL_IPFP_PREFER_DUAL_STACK,
	     {EL_AF_INET, EL_AF_INET6},
	     NULL},
	    {"spec:\n  clusterIP: None\n  ipFamilyPolicy: RequireDualStack\n" P80,
	     AV4,
	     EL_IPFP_REQUIRE_DUAL_STACK,
	     {EL_AF_INET, EL_AF_INET6},
	     NULL},
	    {"spec:\n  clusterIP: None\n" P80, AV4, EL_IPFP_SINGLE_STACK, {EL_AF_INET, 0}, NULL},
	    /* with a selector it is a Service like the others */
	    {"spec:\n  clusterIP: None\n  selector: {app: web}\n"
	     "  ipFamilyPolicy: RequireDualStack\n" P80,
	     AV4,
	     0,
	     {0, 0},
	     "not configured for dual-stack"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_families(&cases[i]);
}

static void
external_name_has_no_families(void **state)
{
	(void)state;
	static const struct fam_case c = {
	    "spec:\n  type: ExternalName\n  externalName: db.example.org\n",
	    AVALL,
	    EL_IPFP_UNSET,
	    {0, 0},
	    NULL};
	expect_families(&c);
	expect_refused(svc_doc("spec:\n  type: ExternalName\n  externalName: db.example.org\n"
			       "  ipFamilyPolicy: SingleStack\n"),
		       "spec.ipFamilyPolicy: may not be set when type is 'ExternalName'");
	expect_refused(svc_doc("spec:\n  type: ExternalName\n  externalName: db.example.org\n"
			       "  ipFamilies: [IPv4]\n"),
		       "spec.ipFamilies: may not be set when type is 'ExternalName'");
}

static void
single_stack_with_two_families_is_refused(void **state)
{
	(void)state;
	expect_refused(
	    svc_doc("spec:\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4, IPv6]\n" P80),
	    "spec.ipFamilyPolicy: must be 'RequireDualStack' or 'PreferDualStack' when "
	    "multiple IP families are specified");
}

static void
single_stack_with_two_cluster_ips_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ipFamilyPolicy: SingleStack\n  clusterIP: 198.18.1.5\n"
			       "  clusterIPs: [198.18.1.5, \"2001:db8:3::5\"]\n" P80),
		       "when multiple cluster IPs are specified");
}

static void
cluster_ips_of_one_family_twice_are_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ipFamilyPolicy: PreferDualStack\n  clusterIP: 198.18.1.5\n"
			       "  clusterIPs: [198.18.1.5, 198.18.1.6]\n" P80),
		       "spec.clusterIPs[1]: must be of a different IP family");
}

static void
duplicate_ip_family_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ipFamilies: [IPv6, IPv6]\n" P80),
		       "spec.ipFamilies[1]: duplicate value");
}

static void
unknown_ip_family_policy_is_refused(void **state)
{
	(void)state;
	expect_refused(svc_doc("spec:\n  ipFamilyPolicy: DualStack\n" P80),
		       "spec.ipFamilyPolicy: must be one of SingleStack, PreferDualStack, "
		       "RequireDualStack");
}

static void
defaulted_families_are_written_and_read_back_in_json(void **state)
{
	(void)state;
	struct el_model m, back;

	el_model_init(&m);
	el_model_init(&back);
	load_ok(&m, svc_doc("spec:\n  ipFamilyPolicy: PreferDualStack\n" P80));
	struct el_service *s = model_find_service(&m, "shop", "web");
	assert_int_equal(model_service_default_families(s, AVALL, err, sizeof(err)), 0);
	char *j = model_service_to_json(s);
	assert_non_null(strstr(j, "\"ipFamilyPolicy\":\"PreferDualStack\""));
	assert_non_null(strstr(j, "\"ipFamilies\":[\"IPv4\",\"IPv6\"]"));
	load_ok(&back, j);
	const struct el_service *b = model_find_service(&back, "shop", "web");
	assert_int_equal(b->ip_family_policy, EL_IPFP_PREFER_DUAL_STACK);
	assert_int_equal(b->n_ip_families, 2);
	assert_int_equal(b->ip_families[1], EL_AF_INET6);
	free(j);
	el_model_free(&m);
	el_model_free(&back);
}

static void
refused_defaulting_leaves_the_service_unchanged(void **state)
{
	(void)state;
	struct el_model m;

	el_model_init(&m);
	load_ok(&m, svc_doc("spec:\n  ipFamilyPolicy: RequireDualStack\n" P80));
	struct el_service *s = model_find_service(&m, "shop", "web");
	assert_int_equal(model_service_default_families(s, AV4, err, sizeof(err)), -EINVAL);
	assert_int_equal(s->n_ip_families, 0);
	assert_int_equal(s->ip_family_policy, EL_IPFP_REQUIRE_DUAL_STACK);
	el_model_free(&m);
}

static void
ipv6_endpoints_and_slices_are_kept(void **state)
{
	(void)state;
	struct el_model m;

	el_model_init(&m);
	load_ok(&m, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
		    "subsets: [{addresses: [{ip: \"2001:db8:2::11\"}], "
		    "notReadyAddresses: [{ip: \"2001:db8:2::12\"}], ports: [{port: 8080}]}]\n"
		    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		    "metadata: {name: web-6, labels: {kubernetes.io/service-name: web}}\n"
		    "addressType: IPv6\nports: [{port: 8080}]\n"
		    "endpoints: [{addresses: [\"2001:db8:2::13\"]}]\n");
	const struct el_endpoints *e = model_find_endpoints(&m, "default", "web");
	assert_ip(&e->subsets[0].addrs[0], "2001:db8:2::11");
	assert_ip(&e->subsets[0].not_ready[0], "2001:db8:2::12");
	const struct el_slice *sl = model_find_slice(&m, "default", "web-6");
	assert_int_equal(sl->addr_type, EL_ADDR_IPV6);
	assert_ip(&sl->eps[0].addrs[0], "2001:db8:2::13");
	el_model_free(&m);
}

/* Every event of @p text as a libyaml parser gives them; *n of them. */
static yaml_event_t *
read_events(const char *text, size_t *n)
{
	yaml_parser_t p;
	yaml_event_t *ev = NULL;
	size_t cap = 0;

	*n = 0;
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	for (;;) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			ev = realloc(ev, cap * sizeof(*ev));
			assert_non_null(ev);
		}
		assert_true(yaml_parser_parse(&p, &ev[*n]));
		if (ev[(*n)++].type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return ev;
}

static void
free_events(yaml_event_t *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		yaml_event_delete(&ev[i]);
	free(ev);
}

static const char events_text[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
    "spec:\n  type: NodePort\n  clusterIP: 198.18.1.5\n  ports:\n"
    "  - {name: http, port: 80, targetPort: 8080, nodePort: 30080}\n"
    "  - {name: dns, port: 53, protocol: UDP}\n"
    "---\n"
    "{\"apiVersion\": \"v1\", \"kind\": \"Endpoints\", \"metadata\": {\"name\": \"web\", "
    "\"namespace\": \"shop\"}, \"subsets\": [{\"addresses\": [{\"ip\": \"198.18.2.10\"}], "
    "\"ports\": [{\"name\": \"http\", \"port\": 8080}]}]}\n"
    "---\n"
    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
    "metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}\n"
    "addressType: IPv4\nports: [{name: dns, port: 5353, protocol: UDP}]\n"
    "endpoints:\n- {addresses: [198.18.2.11], conditions: {ready: false}}\n";

static void
events_read_before_give_what_the_text_gives(void **state)
{
	struct el_model a, b;
	size_t n;
	yaml_event_t *ev = read_events(events_text, &n);

	(void)state;
	el_model_init(&a);
	el_model_init(&b);
	assert_int_equal(
	    manifest_parse_buf(&a, events_text, strlen(events_text), "t", 0, err, sizeof(err)), 0);
	assert_int_equal(manifest_parse_events(&b, ev, n, "t", 0, err, sizeof(err)), 0);
	for (int k = 0; k < EL_KIND_COUNT; k++) {
		char *ja = model_json_list(&a, (enum el_kind)k, NULL);
		char *jb = model_json_list(&b, (enum el_kind)k, NULL);
		assert_non_null(ja);
		assert_non_null(jb);
		assert_non_null(strstr(ja, "shop")); /* one object of each kind */
		assert_string_equal(ja, jb);
		free(ja);
		free(jb);
	}
	free_events(ev, n);
	el_model_free(&a);
	el_model_free(&b);
}

static void
events_read_before_are_refused_as_the_text_is(void **state)
{
	static const char text[] = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
				   "spec:\n  ports:\n  - {port: 70000}\n";
	char err_text[sizeof(err)];
	struct el_model a, b;
	size_t n;
	yaml_event_t *ev = read_events(text, &n);

	(void)state;
	el_model_init(&a);
	el_model_init(&b);
	assert_int_equal(manifest_parse_buf(&a, text, strlen(text), "t", 0, err, sizeof(err)),
			 -EINVAL);
	memcpy(err_text, err, sizeof(err));
	err[0] = '\0';
	assert_int_equal(manifest_parse_events(&b, ev, n, "t", 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err_text, "spec.ports[0].port"));
	assert_string_equal(err, err_text);
	assert_null(model_find_service(&b, "default", "web"));
	free_events(ev, n);
	el_model_free(&a);
	el_model_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(example_frontend_is_a_nodeport_with_three_slice_pods),
	    cmocka_unit_test(example_api_service_is_a_clusterip_with_core_endpoints),
	    cmocka_unit_test(example_web_lb_is_a_loadbalancer_without_source_ranges),
	    cmocka_unit_test(example_web_lb_fixed_asks_for_its_address),
	    cmocka_unit_test(example_sticky_has_client_ip_affinity_of_600s),
	    cmocka_unit_test(example_multiport_names_its_target_ports),
	    cmocka_unit_test(example_manual_db_has_no_selector_and_manual_endpoints),
	    cmocka_unit_test(examples_directory_loads_every_file),
	    cmocka_unit_test(port_out_of_range_is_refused),
	    cmocka_unit_test(port_zero_is_refused),
	    cmocka_unit_test(missing_port_is_refused),
	    cmocka_unit_test(unknown_protocol_is_refused),
	    cmocka_unit_test(duplicate_protocol_and_port_is_refused),
	    cmocka_unit_test(same_port_on_tcp_and_udp_is_accepted),
	    cmocka_unit_test(port_names_are_required_with_several_ports),
	    cmocka_unit_test(port_names_must_be_unique),
	    cmocka_unit_test(port_name_must_be_a_dns_label),
	    cmocka_unit_test(named_target_port_must_be_an_iana_name),
	    cmocka_unit_test(target_port_out_of_range_is_refused),
	    cmocka_unit_test(node_port_is_forbidden_for_cluster_ip),
	    cmocka_unit_test(node_port_is_accepted_for_node_port_type),
	    cmocka_unit_test(source_ranges_only_for_load_balancer),
	    cmocka_unit_test(source_range_must_be_a_cidr),
	    cmocka_unit_test(affinity_timeout_zero_is_refused),
	    cmocka_unit_test(affinity_timeout_above_a_day_is_refused),
	    cmocka_unit_test(affinity_timeout_defaults_to_10800),
	    cmocka_unit_test(unknown_session_affinity_is_refused),
	    cmocka_unit_test(cluster_ip_must_be_an_address),
	    cmocka_unit_test(external_ip_must_be_an_address),
	    cmocka_unit_test(external_ip_may_not_be_loopback),
	    cmocka_unit_test(load_balancer_ip_must_be_an_address),
	    cmocka_unit_test(service_type_must_be_known),
	    cmocka_unit_test(ports_are_required),
	    cmocka_unit_test(headless_may_not_be_node_port),
	    cmocka_unit_test(external_name_needs_a_host_name),
	    cmocka_unit_test(service_name_must_be_a_dns1035_label),
	    cmocka_unit_test(service_name_may_not_hold_dots),
	    cmocka_unit_test(namespace_must_be_a_dns_label),
	    cmocka_unit_test(name_is_required),
	    cmocka_unit_test(namespace_defaults_to_default),
	    cmocka_unit_test(slice_name_may_be_a_dns_subdomain),
	    cmocka_unit_test(slice_addresses_must_match_address_type),
	    cmocka_unit_test(slice_address_type_is_required),
	    cmocka_unit_test(slice_endpoint_needs_an_address),
	    cmocka_unit_test(fqdn_slices_are_stored),
	    cmocka_unit_test(endpoints_port_out_of_range_is_refused),
	    cmocka_unit_test(endpoints_address_must_be_an_ip),
	    cmocka_unit_test(endpoints_address_must_be_an_object_with_an_ip),
	    cmocka_unit_test(message_names_source_document_and_line),
	    cmocka_unit_test(wrong_type_of_a_used_field_is_refused),
	    cmocka_unit_test(string_for_an_integer_field_is_refused),
	    cmocka_unit_test(fields_edgelb_does_not_use_are_ignored),
	    cmocka_unit_test(unknown_kind_is_refused),
	    cmocka_unit_test(wrong_api_version_is_refused),
	    cmocka_unit_test(yaml_syntax_error_is_reported_with_its_line),
	    cmocka_unit_test(bad_document_leaves_the_model_unchanged),
	    cmocka_unit_test(later_document_replaces_an_earlier_one),
	    cmocka_unit_test(aliases_are_refused),
	    cmocka_unit_test(alias_bomb_is_refused_quickly),
	    cmocka_unit_test(nesting_deeper_than_64_is_refused),
	    cmocka_unit_test(nesting_of_64_is_parsed),
	    cmocka_unit_test(absent_conditions_mean_ready_serving_not_terminating),
	    cmocka_unit_test(nil_serving_takes_the_value_of_ready),
	    cmocka_unit_test(null_conditions_are_nil),
	    cmocka_unit_test(explicit_conditions_are_kept),
	    cmocka_unit_test(condition_must_be_a_boolean),
	    cmocka_unit_test(list_items_are_loaded),
	    cmocka_unit_test(list_item_errors_name_the_item),
	    cmocka_unit_test(json_documents_are_read),
	    cmocka_unit_test(service_json_reads_back_the_same),
	    cmocka_unit_test(slice_json_keeps_nil_conditions_nil),
	    cmocka_unit_test(endpoints_json_reads_back_the_same),
	    cmocka_unit_test(json_strings_are_escaped_and_read_back_the_same),
	    cmocka_unit_test(delete_and_take_remove_objects),
	    cmocka_unit_test(clone_is_a_deep_copy),
	    cmocka_unit_test(slices_of_a_service_follow_puts_relabels_and_deletes),
	    cmocka_unit_test(cluster_ip_is_refused_on_external_name),
	    cmocka_unit_test(services_are_not_validated_when_the_caller_says_so),
	    cmocka_unit_test(objects_are_kept_sorted_by_namespace_and_name),
	    cmocka_unit_test(proxy_name_label_makes_a_service_not_programmable),
	    cmocka_unit_test(policy_defaults_to_single_stack_of_the_default_family),
	    cmocka_unit_test(two_families_or_two_cluster_ips_default_to_require_dual_stack),
	    cmocka_unit_test(prefer_dual_stack_gets_both_families_when_both_are_available),
	    cmocka_unit_test(prefer_dual_stack_gets_one_family_when_one_is_available),
	    cmocka_unit_test(require_dual_stack_gets_both_families),
	    cmocka_unit_test(require_dual_stack_needs_both_families_available),
	    cmocka_unit_test(a_family_edgelb_cannot_serve_is_refused),
	    cmocka_unit_test(families_are_inferred_from_cluster_ips),
	    cmocka_unit_test(headless_without_selector_gets_its_families_whatever_is_available),
	    cmocka_unit_test(external_name_has_no_families),
	    cmocka_unit_test(single_stack_with_two_families_is_refused),
	    cmocka_unit_test(single_stack_with_two_cluster_ips_is_refused),
	    cmocka_unit_test(cluster_ips_of_one_family_twice_are_refused),
	    cmocka_unit_test(duplicate_ip_family_is_refused),
	    cmocka_unit_test(unknown_ip_family_policy_is_refused),
	    cmocka_unit_test(defaulted_families_are_written_and_read_back_in_json),
	    cmocka_unit_test(refused_defaulting_leaves_the_service_unchanged),
	    cmocka_unit_test(ipv6_endpoints_and_slices_are_kept),
	    cmocka_unit_test(events_read_before_give_what_the_text_gives),
	    cmocka_unit_test(events_read_before_are_refused_as_the_text_is),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
