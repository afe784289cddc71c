/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl tables: column alignment and the cells kubectl derives from
 * objects (PORT(S), CLUSTER-IP, EXTERNAL-IP, ENDPOINTS, AGE), so edgelb's
 * tables read like kubectl's; a dual-stack Service shows the addresses of
 * both families, comma-separated.
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

#include "ctl_table.h"

typedef char *(*cell_fn)(const struct ctl_node *);

/* The cell a formatter derives from an object written in YAML. */
static void
expect_cell(cell_fn fn, const char *yaml, const char *want)
{
	struct ctl_node *doc;
	char err[128], *got;

	if (ctl_doc_load_one(yaml, strlen(yaml), &doc, err, sizeof(err)) != 0)
		fail_msg("bad test YAML: %s", err);
	got = fn(doc);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	ctl_doc_free(doc);
}

static void
test_ports_show_node_ports_and_protocols(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_ports,
		    "spec: {ports: [{port: 80, nodePort: 30080, protocol: TCP},"
		    " {port: 443, nodePort: 31443}]}",
		    "80:30080/TCP,443:31443/TCP");
}

static void
test_ports_without_node_port_show_port_and_protocol(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_ports, "spec: {ports: [{port: 53, protocol: UDP}]}", "53/UDP");
}

static void
test_service_without_ports_shows_none(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_ports, "spec: {type: ClusterIP}", "<none>");
}

static void
test_cluster_ip_service_without_external_ips_shows_none(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_external_ip, "spec: {type: ClusterIP}", "<none>");
	expect_cell(ctl_table_svc_external_ip, "spec: {}", "<none>");
}

static void
test_external_ips_are_listed_for_cluster_ip_and_node_port(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_external_ip,
		    "spec: {type: NodePort, externalIPs: [198.18.0.20, 198.18.0.21]}",
		    "198.18.0.20,198.18.0.21");
}

static void
test_load_balancer_without_ingress_is_pending(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_external_ip, "spec: {type: LoadBalancer}\nstatus: {}",
		    "<pending>");
}

static void
test_load_balancer_shows_ingress_then_external_ips(void **state)
{
	(void)state;
	expect_cell(
	    ctl_table_svc_external_ip,
	    "spec: {type: LoadBalancer, externalIPs: [198.18.0.20]}\n"
	    "status: {loadBalancer: {ingress: [{ip: 198.18.0.100}, {hostname: lb.example}]}}",
	    "198.18.0.100,lb.example,198.18.0.20");
}

static void
test_external_name_service_shows_its_name(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_external_ip,
		    "spec: {type: ExternalName, externalName: db.example}", "db.example");
}

static void
test_cluster_ips_of_both_families_are_comma_separated(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_cluster_ips,
		    "spec: {clusterIP: 198.18.1.5, clusterIPs: [198.18.1.5, \"2001:db8:3::5\"]}",
		    "198.18.1.5,2001:db8:3::5");
}

static void
test_cluster_ip_alone_is_shown(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_cluster_ips, "spec: {clusterIP: 198.18.1.5}", "198.18.1.5");
}

static void
test_headless_and_ipless_services_show_none(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_cluster_ips, "spec: {clusterIP: None, clusterIPs: [None]}",
		    "None");
	expect_cell(ctl_table_svc_cluster_ips, "spec: {type: ClusterIP}", "<none>");
}

static void
test_load_balancer_of_both_families_shows_both_ingress_addresses(void **state)
{
	(void)state;
	expect_cell(
	    ctl_table_svc_external_ip,
	    "spec: {type: LoadBalancer}\n"
	    "status: {loadBalancer: {ingress: [{ip: 198.18.0.100}, {ip: \"2001:db8:1::10\"}]}}",
	    "198.18.0.100,2001:db8:1::10");
}

static void
test_selector_is_key_value_pairs(void **state)
{
	(void)state;
	expect_cell(ctl_table_svc_selector, "spec: {selector: {app: web, tier: front}}",
		    "app=web,tier=front");
	expect_cell(ctl_table_svc_selector, "spec: {}", "<none>");
}

static void
test_endpoints_join_address_and_port(void **state)
{
	(void)state;
	expect_cell(ctl_table_endpoints,
		    "subsets: [{addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}],"
		    " ports: [{port: 8080}]}]",
		    "198.18.2.11:8080,198.18.2.12:8080");
}

static void
test_endpoints_beyond_three_are_counted(void **state)
{
	(void)state;
	expect_cell(
	    ctl_table_endpoints,
	    "subsets: [{addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}, {ip: 198.18.2.13},"
	    " {ip: 198.18.2.14}, {ip: 198.18.2.15}], ports: [{port: 8080}]}]",
	    "198.18.2.11:8080,198.18.2.12:8080,198.18.2.13:8080 + 2 more...");
}

static void
test_endpoints_list_every_port_of_a_subset(void **state)
{
	(void)state;
	expect_cell(ctl_table_endpoints,
		    "subsets: [{addresses: [{ip: 198.18.2.11}], ports: [{port: 80}, {port: 443}]}]",
		    "198.18.2.11:80,198.18.2.11:443");
}

static void
test_endpoints_bracket_ipv6_addresses(void **state)
{
	(void)state;
	expect_cell(ctl_table_endpoints,
		    "subsets: [{addresses: [{ip: \"2001:db8::11\"}], ports: [{port: 8080}]}]",
		    "[2001:db8::11]:8080");
}

static void
test_endpoints_leave_out_not_ready_addresses(void **state)
{
	(void)state;
	expect_cell(ctl_table_endpoints,
		    "subsets: [{notReadyAddresses: [{ip: 198.18.2.11}], ports: [{port: 8080}]}]",
		    "<none>");
	expect_cell(ctl_table_endpoints, "metadata: {name: x}", "<none>");
}

static void
test_endpoints_of_a_subset_without_ports_are_bare_addresses(void **state)
{
	(void)state;
	expect_cell(ctl_table_endpoints, "subsets: [{addresses: [{ip: 198.18.2.11}]}]",
		    "198.18.2.11");
}

static void
test_slice_ports_and_endpoints(void **state)
{
	const char *y = "addressType: IPv4\nports: [{name: http, port: 8080}, {name: named}]\n"
			"endpoints: [{addresses: [198.18.2.12]}, {addresses: [198.18.2.13]}]\n";

	(void)state;
	expect_cell(ctl_table_slice_ports, y, "8080,named");
	expect_cell(ctl_table_slice_endpoints, y, "198.18.2.12,198.18.2.13");
}

static void
test_empty_slice_shows_unset(void **state)
{
	(void)state;
	expect_cell(ctl_table_slice_ports, "addressType: IPv4", "<unset>");
	expect_cell(ctl_table_slice_endpoints, "addressType: IPv4", "<unset>");
}

static void
test_slice_endpoints_beyond_three_are_counted(void **state)
{
	(void)state;
	expect_cell(ctl_table_slice_endpoints,
		    "endpoints: [{addresses: [a]}, {addresses: [b]}, {addresses: [c]},"
		    " {addresses: [d]}]",
		    "a,b,c + 1 more...");
}

static char *
slices_ready_of_list(const struct ctl_node *doc)
{
	return ctl_table_slices_ready(ctl_doc_seq(doc, "items", NULL));
}

static void
test_ready_endpoints_of_slices_join_address_and_port(void **state)
{
	(void)state;
	expect_cell(slices_ready_of_list,
		    "items:\n"
		    "- ports: [{port: 8443}]\n"
		    "  endpoints:\n"
		    "  - {addresses: [198.18.2.16]}\n"
		    "  - {addresses: [198.18.2.17], conditions: {ready: false, serving: true}}\n"
		    "  - {addresses: [\"2001:db8::18\"], conditions: {ready: true}}\n"
		    "- ports: [{port: 9100}]\n"
		    "  endpoints: [{addresses: [198.18.2.19]}, {addresses: [198.18.2.20]}]\n",
		    "198.18.2.16:8443,[2001:db8::18]:8443,198.18.2.19:9100 + 1 more...");
	expect_cell(slices_ready_of_list, "items: []", "<none>");
}

static void
test_durations_read_like_kubectl_ages(void **state)
{
	static const struct {
		long long secs;
		const char *want;
	} cases[] = {
	    {-5, "<invalid>"},	{0, "0s"},	     {45, "45s"},	{119, "119s"},
	    {303, "5m3s"},	{300, "5m"},	     {5700, "95m"},	{14700, "4h5m"},
	    {14400, "4h"},	{108000, "30h"},     {273600, "3d4h"},	{259200, "3d"},
	    {25920000, "300d"}, {96336000, "3y20d"}, {283824000, "9y"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_table_duration(cases[i].secs, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%lld s: \"%s\", expected \"%s\"", cases[i].secs, buf,
				 cases[i].want);
	}
}

static void
test_rfc3339_timestamps_are_parsed_with_offsets(void **state)
{
	time_t t, u;

	(void)state;
	assert_int_equal(ctl_table_parse_time("1970-01-02T00:00:00Z", &t), 0);
	assert_int_equal(t, 86400);
	assert_int_equal(ctl_table_parse_time("1970-01-02T02:00:00.123+02:00", &u), 0);
	assert_int_equal(u, 86400);
	assert_int_equal(ctl_table_parse_time("1970-01-02 00:00:00", &t), -EINVAL);
	assert_int_equal(ctl_table_parse_time("yesterday", &t), -EINVAL);
}

static void
test_age_is_unknown_without_creation_timestamp(void **state)
{
	struct ctl_node *doc;
	char err[64], buf[32];
	const char *y = "metadata: {creationTimestamp: \"2024-01-01T00:00:00Z\"}";
	time_t t0;

	(void)state;
	assert_int_equal(ctl_doc_load_one(y, strlen(y), &doc, err, sizeof(err)), 0);
	assert_int_equal(ctl_table_parse_time("2024-01-01T00:00:00Z", &t0), 0);
	ctl_table_age(doc, t0 + 90, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	ctl_doc_free(doc);
	ctl_table_age(NULL, t0, buf, sizeof(buf));
	assert_string_equal(buf, "<unknown>");
}

static void
test_columns_are_padded_to_the_widest_cell_plus_three(void **state)
{
	struct ctl_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	static const char *const cells[] = {"NAME",	"TYPE",		"PORT(S)",
					    "web",	"LoadBalancer", "80/TCP",
					    "dns-long", "ClusterIP",	"53/UDP"};

	(void)state;
	assert_non_null(f);
	ctl_table_init(&t, 3);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		assert_int_equal(ctl_table_add(&t, cells[i]), 0);
	assert_int_equal(ctl_table_print(&t, f, ""), 0);
	fclose(f);
	assert_string_equal(text, "NAME       TYPE           PORT(S)\n"
				  "web        LoadBalancer   80/TCP\n"
				  "dns-long   ClusterIP      53/UDP\n");
	free(text);
	ctl_table_free(&t);
}

static void
test_missing_cell_prints_none(void **state)
{
	struct ctl_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	ctl_table_init(&t, 2);
	ctl_table_add(&t, "A");
	ctl_table_add(&t, NULL);
	assert_int_equal(ctl_table_print(&t, f, "  "), 0);
	fclose(f);
	assert_string_equal(text, "  A   <none>\n");
	free(text);
	ctl_table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports_show_node_ports_and_protocols),
	    cmocka_unit_test(test_ports_without_node_port_show_port_and_protocol),
	    cmocka_unit_test(test_service_without_ports_shows_none),
	    cmocka_unit_test(test_cluster_ip_service_without_external_ips_shows_none),
	    cmocka_unit_test(test_external_ips_are_listed_for_cluster_ip_and_node_port),
	    cmocka_unit_test(test_load_balancer_without_ingress_is_pending),
	    cmocka_unit_test(test_load_balancer_shows_ingress_then_external_ips),
	    cmocka_unit_test(test_external_name_service_shows_its_name),
	    cmocka_unit_test(test_cluster_ips_of_both_families_are_comma_separated),
	    cmocka_unit_test(test_cluster_ip_alone_is_shown),
	    cmocka_unit_test(test_headless_and_ipless_services_show_none),
	    cmocka_unit_test(test_load_balancer_of_both_families_shows_both_ingress_addresses),
	    cmocka_unit_test(test_selector_is_key_value_pairs),
	    cmocka_unit_test(test_endpoints_join_address_and_port),
	    cmocka_unit_test(test_endpoints_beyond_three_are_counted),
	    cmocka_unit_test(test_endpoints_list_every_port_of_a_subset),
	    cmocka_unit_test(test_endpoints_bracket_ipv6_addresses),
	    cmocka_unit_test(test_endpoints_leave_out_not_ready_addresses),
	    cmocka_unit_test(test_endpoints_of_a_subset_without_ports_are_bare_addresses),
	    cmocka_unit_test(test_slice_ports_and_endpoints),
	    cmocka_unit_test(test_empty_slice_shows_unset),
	    cmocka_unit_test(test_slice_endpoints_beyond_three_are_counted),
	    cmocka_unit_test(test_ready_endpoints_of_slices_join_address_and_port),
	    cmocka_unit_test(test_durations_read_like_kubectl_ages),
	    cmocka_unit_test(test_rfc3339_timestamps_are_parsed_with_offsets),
	    cmocka_unit_test(test_age_is_unknown_without_creation_timestamp),
	    cmocka_unit_test(test_columns_are_padded_to_the_widest_cell_plus_three),
	    cmocka_unit_test(test_missing_cell_prints_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
