/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the config file parser (control/config.c): the DESIGN.md
 * example and the reference config load with the right values, defaults are
 * kube-proxy's conntrack values, and every kind of bad input is refused with
 * -EINVAL and a message "FILE:LINE: KEY.PATH: ..." naming the place at fault.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "edgelb/config.h"

static struct el_config cfg;
static char err[512];

static int
load(const char *yaml)
{
	return config_load_buf(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));
}

static int
teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

static void
assert_ip(const struct el_ip *got, const char *want)
{
	char b[EL_IP_STRLEN];

	assert_string_equal(el_ip_fmt(got, b, sizeof(b)), want);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* The example of DESIGN.md section 6, verbatim. */
static const char design_example[] =
    "eal: [\"-l\", \"0-1\", \"--in-memory\", \"--no-pci\"]\n"
    "workers: [1]                      # lcores that poll; default all but main\n"
    "idle_sleep_us: 0                  # back-off when queues are empty; 0 = busy poll\n"
    "interfaces:\n"
    "  - name: ext                     # faces clients / upstream router\n"
    "    device: \"net_af_packet0,iface=lb-ext\"   # PCI address or vdev spec\n"
    "    addresses: [\"198.18.0.1/24\"]  # node IPs: NodePorts answer here\n"
    "    routes: [{to: \"0.0.0.0/0\", via: \"198.18.0.254\"}]\n"
    "  - name: int                     # faces the pod network\n"
    "    device: \"net_af_packet1,iface=lb-int\"\n"
    "    addresses: [\"198.18.2.1/24\"]\n"
    "    neighbors: [{ip: \"198.18.2.254\", mac: \"02:00:00:00:02:fe\"}]  # optional static "
    "entries\n"
    "snat: {addresses: [\"198.18.2.1\"]}\n"
    "loadbalancer: {pools: [\"198.18.0.100-198.18.0.150\"]}\n"
    "nodeport_range: \"30000-32767\"\n"
    "conntrack: {max_flows: 1048576, timeouts: {tcp_established: 86400, udp: 300}}\n"
    "api: {listen: \"127.0.0.1:9180\"}\n"
    "state_dir: \"/var/lib/edgelb\"      # applied objects survive restarts\n"
    "manifests: [\"config/examples\"]    # applied at start when state_dir is empty\n";

/* Lines 1-4 of most cases below: one valid interface. */
#define IFACE_EXT                                                                                  \
	"interfaces:\n"                                                                            \
	"  - name: ext\n"                                                                          \
	"    device: net_null0\n"                                                                  \
	"    addresses: [\"198.18.0.1/24\"]\n"

/* ---- what loads, and to which values -------------------------------- */

static void
design_example_parses_to_its_values(void **state)
{
	(void)state;
	assert_int_equal(load(design_example), 0);
	assert_string_equal(err, "");

	assert_int_equal(cfg.n_eal, 4);
	assert_string_equal(cfg.eal[0], "-l");
	assert_string_equal(cfg.eal[1], "0-1");
	assert_string_equal(cfg.eal[2], "--in-memory");
	assert_string_equal(cfg.eal[3], "--no-pci");
	assert_int_equal(cfg.n_workers, 1);
	assert_int_equal(cfg.workers[0], 1);
	assert_int_equal(cfg.idle_sleep_us, 0);

	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "ext");
	assert_string_equal(cfg.ifaces[0].device, "net_af_packet0,iface=lb-ext");
	assert_int_equal(cfg.ifaces[0].n_addrs, 1);
	assert_ip(&cfg.ifaces[0].addrs[0].addr, "198.18.0.1");
	assert_int_equal(cfg.ifaces[0].addrs[0].len, 24);
	assert_int_equal(cfg.ifaces[0].n_routes, 1);
	assert_ip(&cfg.ifaces[0].routes[0].to.addr, "0.0.0.0");
	assert_int_equal(cfg.ifaces[0].routes[0].to.len, 0);
	assert_ip(&cfg.ifaces[0].routes[0].via, "198.18.0.254");
	assert_int_equal(cfg.ifaces[0].n_neighbors, 0);

	assert_string_equal(cfg.ifaces[1].name, "int");
	assert_string_equal(cfg.ifaces[1].device, "net_af_packet1,iface=lb-int");
	assert_ip(&cfg.ifaces[1].addrs[0].addr, "198.18.2.1");
	assert_int_equal(cfg.ifaces[1].n_routes, 0);
	assert_int_equal(cfg.ifaces[1].n_neighbors, 1);
	assert_ip(&cfg.ifaces[1].neighbors[0].ip, "198.18.2.254");
	const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x02, 0xfe};
	assert_memory_equal(cfg.ifaces[1].neighbors[0].mac, mac, 6);

	assert_int_equal(cfg.n_snat, 1);
	assert_ip(&cfg.snat[0], "198.18.2.1");
	assert_int_equal(cfg.n_pools, 1);
	assert_ip(&cfg.pools[0].first, "198.18.0.100");
	assert_ip(&cfg.pools[0].last, "198.18.0.150");
	assert_int_equal(cfg.nodeport_min, 30000);
	assert_int_equal(cfg.nodeport_max, 32767);
	assert_int_equal(cfg.ct_max_flows, 1048576);
	assert_int_equal(cfg.ct_timeouts[EL_CT_ESTABLISHED], 86400);
	assert_int_equal(cfg.ct_timeouts[EL_CT_UDP], 300);
	assert_string_equal(cfg.api_listen, "127.0.0.1:9180");
	assert_string_equal(cfg.state_dir, "/var/lib/edgelb");
	assert_int_equal(cfg.n_manifests, 1);
	assert_string_equal(cfg.manifests[0], "config/examples");
	assert_string_equal(cfg.path, "t.yaml");
}

static void
defaults_follow_kube_proxy_conntrack(void **state)
{
	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.ct_timeouts[EL_CT_ESTABLISHED], 86400);
	assert_int_equal(cfg.ct_timeouts[EL_CT_CLOSE_WAIT], 3600);
	assert_int_equal(cfg.ct_timeouts[EL_CT_SYN_SENT], 120);
	assert_int_equal(cfg.ct_timeouts[EL_CT_SYN_RECV], 60);
	assert_int_equal(cfg.ct_timeouts[EL_CT_FIN_WAIT], 120);
	assert_int_equal(cfg.ct_timeouts[EL_CT_TIME_WAIT], 120);
	assert_int_equal(cfg.ct_timeouts[EL_CT_CLOSE], 10);
	assert_int_equal(cfg.ct_timeouts[EL_CT_UDP], 300);
	assert_int_equal(cfg.ct_timeouts[EL_CT_ICMP], 30);
	assert_int_equal(cfg.nodeport_min, 30000);
	assert_int_equal(cfg.nodeport_max, 32767);
	assert_int_equal(cfg.ct_max_flows, 1048576);
	assert_int_equal(cfg.maglev_table_size, 65537);
	assert_string_equal(cfg.api_listen, "127.0.0.1:9180");
	assert_string_equal(cfg.api_token_file, "");
	assert_string_equal(cfg.state_dir, "/var/lib/edgelb");
	assert_int_equal(cfg.idle_sleep_us, 0);
	assert_int_equal(cfg.n_workers, 0);
	assert_int_equal(cfg.n_eal, 0);
	assert_int_equal(cfg.n_manifests, 0);
}

static void
minimal_config_gets_the_defaults(void **state)
{
	struct el_config def;

	(void)state;
	config_defaults(&def);
	assert_int_equal(load(IFACE_EXT), 0);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_memory_equal(cfg.ct_timeouts, def.ct_timeouts, sizeof(def.ct_timeouts));
	assert_int_equal(cfg.maglev_table_size, def.maglev_table_size);
	assert_int_equal(cfg.ct_max_flows, def.ct_max_flows);
	assert_string_equal(cfg.api_listen, def.api_listen);
	assert_string_equal(cfg.state_dir, def.state_dir);
	assert_int_equal(cfg.n_snat, 0);
	assert_int_equal(cfg.n_pools, 0);
	assert_int_equal(cfg.ifaces[0].rx_queues, 0);
	assert_int_equal(cfg.ifaces[0].mtu, 0);
}

static void
every_timeout_key_sets_its_state(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "conntrack:\n"
					"  max_flows: 1024\n"
					"  timeouts:\n"
					"    tcp_syn_sent: 1\n"
					"    tcp_syn_recv: 2\n"
					"    tcp_established: 3\n"
					"    tcp_fin_wait: 4\n"
					"    tcp_close_wait: 5\n"
					"    tcp_time_wait: 6\n"
					"    tcp_close: 7\n"
					"    udp: 8\n"
					"    icmp: 604800\n"),
			 0);
	assert_int_equal(cfg.ct_max_flows, 1024);
	assert_int_equal(cfg.ct_timeouts[EL_CT_SYN_SENT], 1);
	assert_int_equal(cfg.ct_timeouts[EL_CT_SYN_RECV], 2);
	assert_int_equal(cfg.ct_timeouts[EL_CT_ESTABLISHED], 3);
	assert_int_equal(cfg.ct_timeouts[EL_CT_FIN_WAIT], 4);
	assert_int_equal(cfg.ct_timeouts[EL_CT_CLOSE_WAIT], 5);
	assert_int_equal(cfg.ct_timeouts[EL_CT_TIME_WAIT], 6);
	assert_int_equal(cfg.ct_timeouts[EL_CT_CLOSE], 7);
	assert_int_equal(cfg.ct_timeouts[EL_CT_UDP], 8);
	assert_int_equal(cfg.ct_timeouts[EL_CT_ICMP], 604800);
	/* A flow with no state yet ages like a fresh SYN. */
	assert_int_equal(cfg.ct_timeouts[EL_CT_NONE], 1);
}

static void
per_source_new_flow_limit_parses(void **state)
{
	(void)state;
	assert_int_equal(
	    load(IFACE_EXT "conntrack: {new_flows_per_source: 50, new_flows_burst: 200}\n"), 0);
	assert_int_equal(cfg.ct_new_flows_per_source, 50);
	assert_int_equal(cfg.ct_new_flows_burst, 200);
}

static void
per_source_new_flow_limit_is_off_by_default(void **state)
{
	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.ct_new_flows_per_source, 0);
	assert_int_equal(cfg.ct_new_flows_burst, 0);
}

static void
icmp_error_limit_parses(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "icmp: {errors_per_second: 25, errors_burst: 7}\n"), 0);
	assert_int_equal(cfg.icmp_errors_per_second, 25);
	assert_int_equal(cfg.icmp_errors_burst, 7);
}

static void
icmp_error_limit_defaults_to_a_thousand_per_second_with_a_burst_of_the_rate(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT), 0);
	assert_int_equal(cfg.icmp_errors_per_second, EL_CFG_ICMP_ERRORS_PER_SECOND);
	assert_int_equal(EL_CFG_ICMP_ERRORS_PER_SECOND, 1000);
	/* 0: the burst is one second's worth */
	assert_int_equal(cfg.icmp_errors_burst, 0);
}

static void
icmp_error_limit_of_zero_means_unlimited_and_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "icmp: {errors_per_second: 0}\n"), 0);
	assert_int_equal(cfg.icmp_errors_per_second, 0);
}

static void
icmp_error_limit_accepts_a_million(void **state)
{
	(void)state;
	assert_int_equal(
	    load(IFACE_EXT "icmp: {errors_per_second: 1000000, errors_burst: 1000000}\n"), 0);
	assert_int_equal(cfg.icmp_errors_per_second, 1000000);
	assert_int_equal(cfg.icmp_errors_burst, 1000000);
}

static void
ipv6_addresses_routes_and_neighbors_parse(void **state)
{
	(void)state;
	assert_int_equal(
	    load("interfaces:\n"
		 "  - name: ext6\n"
		 "    device: net_null0\n"
		 "    addresses: [\"2001:db8:0:1::1/64\", \"198.18.0.1/24\"]\n"
		 "    routes:\n"
		 "      - {to: \"::/0\", via: \"2001:db8:0:1::fe\"}\n"
		 "      - {to: \"2001:db8:5::/48\", via: \"fe80::1\"}\n"
		 "      - {to: \"2001:db8:6::/48\"}\n"
		 "    neighbors: [{ip: \"2001:db8:0:1::fe\", mac: \"02:AA:bb:00:00:01\"}]\n"
		 "    mtu: 1280\n"
		 "snat: {addresses: [\"2001:db8:0:1::10\"]}\n"),
	    0);
	const struct el_cfg_iface *f = &cfg.ifaces[0];
	assert_int_equal(f->n_addrs, 2);
	assert_int_equal(f->addrs[0].addr.family, EL_AF_INET6);
	assert_ip(&f->addrs[0].addr, "2001:db8:0:1::1");
	assert_int_equal(f->addrs[0].len, 64);
	assert_int_equal(f->n_routes, 3);
	assert_ip(&f->routes[0].to.addr, "::");
	assert_int_equal(f->routes[0].to.len, 0);
	assert_ip(&f->routes[0].via, "2001:db8:0:1::fe");
	assert_ip(&f->routes[1].via, "fe80::1");
	assert_int_equal(f->routes[2].via.family, EL_AF_NONE);
	assert_int_equal(f->routes[2].to.len, 48);
	assert_ip(&f->neighbors[0].ip, "2001:db8:0:1::fe");
	assert_int_equal(f->neighbors[0].mac[1], 0xaa);
	assert_int_equal(f->mtu, 1280);
	assert_ip(&cfg.snat[0], "2001:db8:0:1::10");
}

static void
pool_given_as_range_keeps_its_ends(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "loadbalancer:\n"
					"  pools: [\"198.18.1.10-198.18.1.20\", "
					"\"2001:db8:1::10-2001:db8:1::1:0\"]\n"),
			 0);
	assert_int_equal(cfg.n_pools, 2);
	assert_ip(&cfg.pools[0].first, "198.18.1.10");
	assert_ip(&cfg.pools[0].last, "198.18.1.20");
	assert_ip(&cfg.pools[1].first, "2001:db8:1::10");
	assert_ip(&cfg.pools[1].last, "2001:db8:1::1:0");
}

static void
pool_given_as_cidr_spans_the_prefix(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "loadbalancer:\n"
					"  pools: [\"198.18.2.0/23\", \"2001:db8:2::/120\", "
					"\"198.18.4.7\"]\n"),
			 0);
	assert_int_equal(cfg.n_pools, 3);
	assert_ip(&cfg.pools[0].first, "198.18.2.0");
	assert_ip(&cfg.pools[0].last, "198.18.3.255");
	/* the prefix's Subnet-Router anycast address (::) is left out */
	assert_ip(&cfg.pools[1].first, "2001:db8:2::1");
	assert_ip(&cfg.pools[1].last, "2001:db8:2::ff");
	assert_ip(&cfg.pools[2].first, "198.18.4.7");
	assert_ip(&cfg.pools[2].last, "198.18.4.7");
}

static void
ipv6_pool_keeps_every_address_of_a_127_and_a_128(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "loadbalancer:\n"
					"  pools: [\"2001:db8:7::/127\", \"2001:db8:8::5/128\", "
					"\"2001:db8:9::/64\"]\n"),
			 0);
	assert_int_equal(cfg.n_pools, 3);
	assert_ip(&cfg.pools[0].first, "2001:db8:7::");
	assert_ip(&cfg.pools[0].last, "2001:db8:7::1");
	assert_ip(&cfg.pools[1].first, "2001:db8:8::5");
	assert_ip(&cfg.pools[1].last, "2001:db8:8::5");
	assert_ip(&cfg.pools[2].first, "2001:db8:9::1");
	assert_ip(&cfg.pools[2].last, "2001:db8:9:0:ffff:ffff:ffff:ffff");
}

static void
sections_may_come_in_any_order(void **state)
{
	(void)state;
	/* snat and pools are checked against interfaces written after them. */
	assert_int_equal(load("snat: {addresses: [\"198.18.0.9\"]}\n"
			      "loadbalancer: {pools: [\"198.18.0.100-198.18.0.150\"]}\n" IFACE_EXT),
			 0);
	assert_int_equal(cfg.n_snat, 1);
	assert_int_equal(cfg.n_pools, 1);
}

static void
other_settings_parse(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT
			      "    rx_queues: 16\n"
			      "    mtu: 9000\n"
			      "workers: [1, 0, 127]\n"
			      "idle_sleep_us: 1000000\n"
			      "nodeport_range: 1-65535\n"
			      "maglev: {table_size: 251}\n"
			      "api: {listen: \"[::1]:80\", token_file: /etc/edgelb/token}\n"
			      "state_dir: state\n"
			      "manifests: [a.yaml, \"/abs/dir\"]\n"),
			 0);
	assert_int_equal(cfg.ifaces[0].rx_queues, 16);
	assert_int_equal(cfg.ifaces[0].mtu, 9000);
	assert_int_equal(cfg.n_workers, 3);
	assert_int_equal(cfg.workers[2], 127);
	assert_int_equal(cfg.idle_sleep_us, 1000000);
	assert_int_equal(cfg.nodeport_min, 1);
	assert_int_equal(cfg.nodeport_max, 65535);
	assert_int_equal(cfg.maglev_table_size, 251);
	assert_string_equal(cfg.api_listen, "[::1]:80");
	assert_string_equal(cfg.api_token_file, "/etc/edgelb/token");
	assert_string_equal(cfg.state_dir, "state");
	assert_string_equal(cfg.manifests[0], "a.yaml");
	assert_string_equal(cfg.manifests[1], "/abs/dir");
}

static void
tls_certificate_and_key_parse(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "api:\n"
					"  listen: \"198.18.0.1:9443\"\n"
					"  tls_cert: /etc/edgelb/api.crt\n"
					"  tls_key: api.key\n"),
			 0);
	assert_string_equal(cfg.api_listen, "198.18.0.1:9443");
	assert_string_equal(cfg.api_tls_cert, "/etc/edgelb/api.crt");
	assert_string_equal(cfg.api_tls_key, "api.key");
}

static void
api_without_tls_keys_is_plain_http(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "api: {listen: \"127.0.0.1:9180\"}\n"), 0);
	assert_string_equal(cfg.api_tls_cert, "");
	assert_string_equal(cfg.api_tls_key, "");
}

static void
tls_key_path_resolves_against_the_config_directory(void **state)
{
	char out[EL_CFG_PATH_MAX * 2];

	(void)state;
	assert_int_equal(
	    config_load_buf(IFACE_EXT "api: {tls_cert: c.pem, tls_key: k.pem}\n",
			    strlen(IFACE_EXT "api: {tls_cert: c.pem, tls_key: k.pem}\n"),
			    "/etc/edgelb/edgelb.yaml", &cfg, err, sizeof(err)),
	    0);
	assert_int_equal(config_resolve_path(&cfg, cfg.api_tls_key, out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/edgelb/k.pem");
}

static void
api_connections_per_address_parse(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "api: {max_connections_per_ip: 4}\n"), 0);
	assert_int_equal(cfg.api_max_conns_per_ip, 4);
}

static void
api_connections_per_address_default_below_the_cap(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "api: {listen: \"127.0.0.1:9180\"}\n"), 0);
	assert_int_equal(cfg.api_max_conns_per_ip, EL_CFG_API_CONNS_PER_IP);
	assert_true(cfg.api_max_conns_per_ip >= 1 && cfg.api_max_conns_per_ip < 64);
}

static void
largest_maglev_prime_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(load(IFACE_EXT "maglev: {table_size: 10000019}\n"), 0);
	assert_int_equal(cfg.maglev_table_size, 10000019);
}

static void
relative_paths_resolve_against_the_config_directory(void **state)
{
	char out[EL_CFG_PATH_MAX];

	(void)state;
	config_defaults(&cfg);
	snprintf(cfg.path, sizeof(cfg.path), "/etc/edgelb/edgelb.yaml");
	assert_int_equal(config_resolve_path(&cfg, "examples", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/edgelb/examples");
	assert_int_equal(config_resolve_path(&cfg, "/srv/m.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "/srv/m.yaml");

	snprintf(cfg.path, sizeof(cfg.path), "config/edgelb.yaml");
	assert_int_equal(config_resolve_path(&cfg, "examples", out, sizeof(out)), 0);
	assert_string_equal(out, "config/examples");

	snprintf(cfg.path, sizeof(cfg.path), "edgelb.yaml");
	assert_int_equal(config_resolve_path(&cfg, "examples", out, sizeof(out)), 0);
	assert_string_equal(out, "examples");

	snprintf(cfg.path, sizeof(cfg.path), "/edgelb.yaml");
	assert_int_equal(config_resolve_path(&cfg, "examples", out, sizeof(out)), 0);
	assert_string_equal(out, "/examples");
}

static void
resolve_path_refuses_a_short_buffer_and_an_empty_path(void **state)
{
	char out[8];

	(void)state;
	config_defaults(&cfg);
	snprintf(cfg.path, sizeof(cfg.path), "/etc/edgelb/edgelb.yaml");
	assert_int_equal(config_resolve_path(&cfg, "examples", out, sizeof(out)), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(config_resolve_path(&cfg, "", out, sizeof(out)), -EINVAL);
}

static void
reference_config_file_loads(void **state)
{
	char out[EL_CFG_PATH_MAX];

	(void)state;
	assert_int_equal(config_load(EL_SRCDIR "/config/edgelb.yaml", &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "ext");
	assert_contains(cfg.ifaces[0].device, "net_af_packet0,iface=lb-ext,");
	assert_ip(&cfg.ifaces[0].addrs[0].addr, "198.18.0.1");
	assert_string_equal(cfg.ifaces[1].name, "int");
	assert_contains(cfg.ifaces[1].device, "net_af_packet1,iface=lb-int,");
	assert_ip(&cfg.ifaces[1].addrs[0].addr, "198.18.2.1");
	assert_int_equal(cfg.n_snat, 1);
	assert_ip(&cfg.snat[0], "198.18.2.1");
	assert_ip(&cfg.pools[0].first, "198.18.0.100");
	assert_ip(&cfg.pools[0].last, "198.18.0.150");
	assert_int_equal(cfg.n_manifests, 1);
	assert_int_equal(config_resolve_path(&cfg, cfg.manifests[0], out, sizeof(out)), 0);
	assert_string_equal(out, EL_SRCDIR "/config/examples");
	assert_int_equal(cfg.icmp_errors_per_second, 1000);
	assert_int_equal(cfg.icmp_errors_burst, 0);
}

static void
loading_a_file_reads_it(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, design_example, strlen(design_example)),
			 (ssize_t)strlen(design_example));
	close(fd);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.n_ifaces, 2);
	unlink(path);
}

static void
missing_file_gives_enoent(void **state)
{
	(void)state;
	assert_int_equal(config_load("/nonexistent/edgelb.yaml", &cfg, err, sizeof(err)), -ENOENT);
	assert_contains(err, "/nonexistent/edgelb.yaml");
	assert_int_equal(cfg.n_eal, 0);
}

static void
directory_is_not_a_config_file(void **state)
{
	(void)state;
	assert_int_equal(config_load("/tmp", &cfg, err, sizeof(err)), -EINVAL);
	assert_contains(err, "/tmp: not a regular file");
}

static void
failed_load_leaves_nothing_to_free(void **state)
{
	(void)state;
	assert_int_equal(load("eal: [a, b, c]\nmanifests: [x]\n" IFACE_EXT "bogus: 1\n"), -EINVAL);
	assert_int_equal(cfg.n_eal, 0);
	assert_null(cfg.eal[0]);
	assert_int_equal(cfg.n_manifests, 0);
	assert_int_equal(cfg.n_ifaces, 0);
	config_free(&cfg);
	config_free(&cfg);
}

static void
message_is_truncated_to_the_buffer(void **state)
{
	char small[12];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(config_load_buf("x: 1\n", 5, "t.yaml", &cfg, small, sizeof(small)),
			 -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(config_load_buf("x: 1\n", 5, "t.yaml", &cfg, NULL, 0), -EINVAL);
}

/* Cutting the example short anywhere, or breaking one byte of it, gives a
 * config or a message; never a crash or a leak (run under ASan). */
static void
damaged_input_is_refused_cleanly(void **state)
{
	static const char breakers[] = {'\0', ':',  '-',  '[',	']', '{', '}', '&', '*', '!',
					'"',  '\'', '\n', '\t', '#', '|', '>', '%', '@', '\xff'};
	size_t len = strlen(design_example), cut, b;
	char *buf = malloc(len);
	int rc;

	(void)state;
	assert_non_null(buf);
	for (cut = 0; cut <= len; cut++) {
		rc = config_load_buf(design_example, cut, "t.yaml", &cfg, err, sizeof(err));
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc < 0)
			assert_true(strncmp(err, "t.yaml:", 7) == 0);
		config_free(&cfg);
	}
	for (cut = 0; cut < len; cut++) {
		for (b = 0; b < sizeof(breakers); b++) {
			memcpy(buf, design_example, len);
			buf[cut] = breakers[b];
			rc = config_load_buf(buf, len, "t.yaml", &cfg, err, sizeof(err));
			assert_true(rc == 0 || rc == -EINVAL);
			if (rc < 0)
				assert_true(strncmp(err, "t.yaml:", 7) == 0);
			config_free(&cfg);
		}
	}
	free(buf);
}

static void
file_over_one_mib_is_refused(void **state)
{
	size_t n = (1u << 20) + 1;
	char *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	memset(buf, '#', n); /* a comment: valid YAML, only too long */
	assert_int_equal(config_load_buf(buf, n, "t.yaml", &cfg, err, sizeof(err)), -EINVAL);
	assert_contains(err, "t.yaml: file too large");
	assert_int_equal(cfg.n_eal, 0);
	free(buf);
}

static void
deep_nesting_is_refused(void **state)
{
	size_t n = 100000;
	char *buf = malloc(n + 16);

	(void)state;
	assert_non_null(buf);
	memcpy(buf, "interfaces: ", 12);
	memset(buf + 12, '[', n);
	assert_int_equal(config_load_buf(buf, n + 12, "t.yaml", &cfg, err, sizeof(err)), -EINVAL);
	assert_contains(err, "t.yaml:1: ");
	free(buf);
}

/* ---- what is refused, and where the message points ------------------- */

struct bad_case {
	const char *name;
	const char *yaml;
	const char *where; /* "t.yaml:LINE: KEY.PATH: " */
	const char *what;  /* part of the explanation */
};

static const struct bad_case bad_cases[] = {
    /* structure */
    {"unknown_top_level_key_is_refused_with_a_hint", IFACE_EXT "idle_sleep: 5\n",
     "t.yaml:5: idle_sleep: ", "unknown key (did you mean \"idle_sleep_us\"?)"},
    {"unknown_interface_key_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    adresses: [\"198.18.0.1/24\"]\n",
     "t.yaml:4: interfaces[0].adresses: ", "unknown key"},
    {"unknown_timeout_key_is_refused", IFACE_EXT "conntrack: {timeouts: {tcp_estab: 5}}\n",
     "t.yaml:5: conntrack.timeouts.tcp_estab: ", "unknown key"},
    {"mapping_where_a_list_belongs_is_refused", "interfaces:\n  name: ext\n  device: d\n",
     "t.yaml:2: interfaces: ", "expected a list, found a mapping"},
    {"list_where_a_mapping_belongs_is_refused", IFACE_EXT "snat: [\"198.18.0.9\"]\n",
     "t.yaml:5: snat: ", "expected a mapping, found a list"},
    {"list_where_a_string_belongs_is_refused", "interfaces:\n  - name: [ext]\n    device: d\n",
     "t.yaml:2: interfaces[0].name: ", "expected a string, found a list"},
    {"quoted_string_where_an_int_belongs_is_refused", IFACE_EXT "    mtu: \"1500\"\n",
     "t.yaml:5: interfaces[0].mtu: ", "expected an integer"},
    {"word_where_an_int_belongs_is_refused", IFACE_EXT "workers: [one]\n",
     "t.yaml:5: workers[0]: ", "expected a decimal integer"},
    {"int_with_trailing_junk_is_refused", IFACE_EXT "idle_sleep_us: 10ms\n",
     "t.yaml:5: idle_sleep_us: ", "\"10ms\""},
    {"int_with_leading_zero_is_refused", IFACE_EXT "    rx_queues: 010\n",
     "t.yaml:5: interfaces[0].rx_queues: ", "no leading zeros"},
    {"hex_int_is_refused", IFACE_EXT "idle_sleep_us: 0x10\n",
     "t.yaml:5: idle_sleep_us: ", "expected a decimal integer"},
    {"empty_value_where_a_list_belongs_is_refused", IFACE_EXT "    routes:\n",
     "t.yaml:5: interfaces[0].routes: ", "expected a list, found an empty value"},
    {"key_that_is_not_a_name_is_refused", IFACE_EXT "? [a]\n: 1\n",
     "t.yaml:5: ", "a key must be a plain name"},
    {"top_level_list_is_refused", "- interfaces\n",
     "t.yaml:1: ", "the top level must be a mapping"},
    {"duplicate_top_level_key_is_refused", IFACE_EXT "idle_sleep_us: 1\nidle_sleep_us: 2\n",
     "t.yaml:6: idle_sleep_us: ", "duplicate key (first at line 5)"},
    {"duplicate_interface_key_is_refused", IFACE_EXT "    device: net_null1\n",
     "t.yaml:5: interfaces[0].device: ", "duplicate key (first at line 3)"},
    {"duplicate_key_in_flow_mapping_is_refused",
     IFACE_EXT "api: {listen: \"127.0.0.1:1\", listen: \"127.0.0.1:2\"}\n",
     "t.yaml:5: api.listen: ", "duplicate key"},

    /* YAML features a config does not use */
    {"syntax_error_gives_the_yaml_line", "interfaces:\n  - name: ext\n   device: d\n",
     "t.yaml:3: ", "YAML syntax error"},
    {"unclosed_flow_list_is_a_syntax_error", IFACE_EXT "snat: {addresses: [\"198.18.0.9\"\n",
     "t.yaml:6: ", "YAML syntax error"},
    {"tab_indentation_is_a_syntax_error", "interfaces:\n\t- name: ext\n",
     "t.yaml:2: ", "YAML syntax error"},
    {"invalid_utf8_is_refused", "interfaces:\n  - name: ext\n    device: \"\xff\"\n",
     "t.yaml:3: ", "cannot read YAML"},
    {"empty_file_is_refused", "", "t.yaml:1: ", "empty file"},
    {"file_of_comments_is_refused", "# nothing here\n\n", "t.yaml:1: ", "empty file"},
    {"empty_document_is_refused", "---\n", "t.yaml:", "empty document"},
    {"second_document_is_refused", IFACE_EXT "---\nidle_sleep_us: 1\n",
     "t.yaml:5: ", "a second YAML document"},
    {"alias_is_refused", "interfaces:\n  - name: ext\n    device: *dev\n",
     "t.yaml:3: interfaces[0].device: ", "aliases"},
    {"anchor_is_refused", "interfaces:\n  - name: &n ext\n    device: d\n",
     "t.yaml:2: interfaces[0].name: ", "anchors"},
    {"anchor_on_a_mapping_is_refused", "interfaces:\n  - &i\n    name: ext\n    device: d\n",
     "t.yaml:2: interfaces[0]: ", "anchors"},
    {"tag_is_refused", IFACE_EXT "idle_sleep_us: !!int 5\n", "t.yaml:5: idle_sleep_us: ", "tags"},
    {"nul_character_in_a_string_is_refused", IFACE_EXT "state_dir: \"/var/\\0lib\"\n",
     "t.yaml:5: state_dir: ", "control character (byte 5)"},
    {"control_character_in_a_string_is_refused",
     "interfaces:\n  - name: ext\n    device: \"net_null0\\x1b[2J\"\n",
     "t.yaml:3: interfaces[0].device: ", "control character (byte 9)"},

    /* ranges */
    {"mtu_above_9600_is_refused", IFACE_EXT "    mtu: 9601\n",
     "t.yaml:5: interfaces[0].mtu: ", "9601 is out of range (68..9600)"},
    {"mtu_below_68_is_refused", IFACE_EXT "    mtu: 67\n",
     "t.yaml:5: interfaces[0].mtu: ", "out of range"},
    {"mtu_below_1280_with_ipv6_is_refused",
     IFACE_EXT "    mtu: 1279\n  - name: v6\n    device: d6\n"
	       "    addresses: [\"2001:db8::1/64\"]\n    mtu: 1279\n",
     "t.yaml:9: interfaces[1].mtu: ", "too small for IPv6"},
    {"rx_queues_above_16_is_refused", IFACE_EXT "    rx_queues: 17\n",
     "t.yaml:5: interfaces[0].rx_queues: ", "out of range"},
    {"negative_rx_queues_is_refused", IFACE_EXT "    rx_queues: -1\n",
     "t.yaml:5: interfaces[0].rx_queues: ", "out of range"},
    {"worker_lcore_above_127_is_refused", IFACE_EXT "workers: [1, 128]\n",
     "t.yaml:5: workers[1]: ", "128 is out of range (0..127)"},
    {"huge_int_is_out_of_range", IFACE_EXT "idle_sleep_us: 99999999999999999999999\n",
     "t.yaml:5: idle_sleep_us: ", "out of range"},
    {"idle_sleep_above_one_second_is_refused", IFACE_EXT "idle_sleep_us: 1000001\n",
     "t.yaml:5: idle_sleep_us: ", "out of range"},
    {"max_flows_below_1024_is_refused", IFACE_EXT "conntrack: {max_flows: 1023}\n",
     "t.yaml:5: conntrack.max_flows: ", "out of range (1024..67108864)"},
    {"max_flows_above_64m_is_refused", IFACE_EXT "conntrack: {max_flows: 67108865}\n",
     "t.yaml:5: conntrack.max_flows: ", "out of range"},
    {"new_flows_per_source_above_a_million_is_refused",
     IFACE_EXT "conntrack: {new_flows_per_source: 1000001}\n",
     "t.yaml:5: conntrack.new_flows_per_source: ", "out of range (0..1000000)"},
    {"negative_new_flows_burst_is_refused", IFACE_EXT "conntrack: {new_flows_burst: -1}\n",
     "t.yaml:5: conntrack.new_flows_burst: ", "out of range (0..1000000)"},
    {"zero_timeout_is_refused", IFACE_EXT "conntrack:\n  timeouts:\n    udp: 0\n",
     "t.yaml:7: conntrack.timeouts.udp: ", "out of range (1..604800)"},
    {"timeout_above_a_week_is_refused",
     IFACE_EXT "conntrack:\n  timeouts:\n    tcp_established: 604801\n",
     "t.yaml:7: conntrack.timeouts.tcp_established: ", "out of range"},
    {"nodeport_range_from_zero_is_refused", IFACE_EXT "nodeport_range: 0-100\n",
     "t.yaml:5: nodeport_range: ", "1 <= LO <= HI <= 65535"},
    {"reversed_nodeport_range_is_refused", IFACE_EXT "nodeport_range: 32767-30000\n",
     "t.yaml:5: nodeport_range: ", "1 <= LO <= HI <= 65535"},
    {"nodeport_range_past_65535_is_refused", IFACE_EXT "nodeport_range: 30000-65536\n",
     "t.yaml:5: nodeport_range: ", "1 <= LO <= HI <= 65535"},
    {"nodeport_range_without_dash_is_refused", IFACE_EXT "nodeport_range: 30000\n",
     "t.yaml:5: nodeport_range: ", "expected LO-HI"},
    {"maglev_size_that_is_not_prime_is_refused", IFACE_EXT "maglev: {table_size: 65536}\n",
     "t.yaml:5: maglev.table_size: ", "not prime (Maglev needs a prime; next prime: 65537)"},
    {"maglev_size_below_251_is_refused", IFACE_EXT "maglev: {table_size: 241}\n",
     "t.yaml:5: maglev.table_size: ", "out of range (251..10000019)"},
    {"maglev_size_above_10000019_is_refused", IFACE_EXT "maglev: {table_size: 10000079}\n",
     "t.yaml:5: maglev.table_size: ", "out of range"},
    {"negative_idle_sleep_is_refused", IFACE_EXT "idle_sleep_us: -1\n",
     "t.yaml:5: idle_sleep_us: ", "out of range"},
    {"negative_worker_lcore_is_refused", IFACE_EXT "workers: [-1]\n",
     "t.yaml:5: workers[0]: ", "out of range"},
    {"boolean_where_an_int_belongs_is_refused", IFACE_EXT "idle_sleep_us: true\n",
     "t.yaml:5: idle_sleep_us: ", "expected a decimal integer"},
    {"float_where_an_int_belongs_is_refused", IFACE_EXT "conntrack: {max_flows: 1.5e6}\n",
     "t.yaml:5: conntrack.max_flows: ", "expected a decimal integer"},
    {"negative_timeout_is_refused", IFACE_EXT "conntrack: {timeouts: {icmp: -30}}\n",
     "t.yaml:5: conntrack.timeouts.icmp: ", "out of range"},
    {"timeout_with_unit_is_refused", IFACE_EXT "conntrack: {timeouts: {udp: 300s}}\n",
     "t.yaml:5: conntrack.timeouts.udp: ", "expected a decimal integer"},
    {"icmp_errors_per_second_above_a_million_is_refused",
     IFACE_EXT "icmp: {errors_per_second: 1000001}\n",
     "t.yaml:5: icmp.errors_per_second: ", "out of range (0..1000000)"},
    {"negative_icmp_errors_per_second_is_refused", IFACE_EXT "icmp: {errors_per_second: -1}\n",
     "t.yaml:5: icmp.errors_per_second: ", "out of range (0..1000000)"},
    {"icmp_errors_burst_above_a_million_is_refused", IFACE_EXT "icmp: {errors_burst: 1000001}\n",
     "t.yaml:5: icmp.errors_burst: ", "out of range (0..1000000)"},
    {"icmp_errors_per_second_that_is_not_a_number_is_refused",
     IFACE_EXT "icmp: {errors_per_second: lots}\n", "t.yaml:5: icmp.errors_per_second: ",
     "expected a decimal integer (no leading zeros), found \"lots\""},
    {"unknown_icmp_key_is_refused_with_a_hint", IFACE_EXT "icmp: {errors_per_sec: 10}\n",
     "t.yaml:5: icmp.errors_per_sec: ", "unknown key (did you mean \"errors_per_second\"?)"},
    {"icmp_that_is_not_a_mapping_is_refused", IFACE_EXT "icmp: 100\n",
     "t.yaml:5: icmp: ", "expected a mapping"},
    {"unknown_conntrack_key_is_refused", IFACE_EXT "conntrack: {max_flow: 2048}\n",
     "t.yaml:5: conntrack.max_flow: ", "unknown key"},
    {"unknown_maglev_key_is_refused", IFACE_EXT "maglev: {size: 251}\n",
     "t.yaml:5: maglev.size: ", "unknown key"},
    {"unknown_snat_key_is_refused", IFACE_EXT "snat: {address: [198.18.0.9]}\n",
     "t.yaml:5: snat.address: ", "unknown key"},
    {"unknown_loadbalancer_key_is_refused", IFACE_EXT "loadbalancer: {pool: [198.18.0.9]}\n",
     "t.yaml:5: loadbalancer.pool: ", "unknown key"},
    {"nodeport_range_with_spaces_is_refused", IFACE_EXT "nodeport_range: \"30000 - 32767\"\n",
     "t.yaml:5: nodeport_range: ", "LO-HI"},

    /* counts and required keys */
    {"missing_interfaces_key_is_refused", "idle_sleep_us: 0\n",
     "t.yaml:1: interfaces: ", "required key is missing"},
    {"empty_interface_list_is_refused", "interfaces: []\n",
     "t.yaml:1: interfaces: ", "needs at least 1"},
    {"empty_worker_list_is_refused", IFACE_EXT "workers: []\n",
     "t.yaml:5: workers: ", "needs at least 1"},
    {"missing_interface_name_is_refused", "interfaces:\n  - device: d\n",
     "t.yaml:2: interfaces[0].name: ", "required key is missing"},
    {"missing_interface_device_is_refused", IFACE_EXT "  - name: int\n",
     "t.yaml:5: interfaces[1].device: ", "required key is missing"},
    {"empty_interface_device_is_refused", "interfaces:\n  - name: ext\n    device: \"\"\n",
     "t.yaml:3: interfaces[0].device: ", "must not be empty"},
    {"null_interface_device_is_refused", "interfaces:\n  - name: ext\n    device:\n",
     "t.yaml:3: interfaces[0].device: ", "missing value"},
    {"too_many_interfaces_is_refused",
     "interfaces:\n"
     "  - {name: i0, device: d}\n  - {name: i1, device: d}\n  - {name: i2, device: d}\n"
     "  - {name: i3, device: d}\n  - {name: i4, device: d}\n  - {name: i5, device: d}\n"
     "  - {name: i6, device: d}\n  - {name: i7, device: d}\n  - {name: i8, device: d}\n",
     "t.yaml:10: interfaces[8]: ", "too many interfaces (at most 8)"},
    {"too_many_addresses_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    addresses: [198.18.0.1/24, "
     "198.18.0.2/24, 198.18.0.3/24, 198.18.0.4/24, 198.18.0.5/24, 198.18.0.6/24, "
     "198.18.0.7/24, 198.18.0.8/24, 198.18.0.9/24, 198.18.0.10/24, 198.18.0.11/24, "
     "198.18.0.12/24, 198.18.0.13/24, 198.18.0.14/24, 198.18.0.15/24, 198.18.0.16/24, "
     "198.18.0.17/24]\n",
     "t.yaml:4: interfaces[0].addresses[16]: ", "too many addresses (at most 16)"},
    {"too_many_workers_is_refused",
     IFACE_EXT "workers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n",
     "t.yaml:5: workers[16]: ", "too many worker lcores (at most 16)"},
    {"duplicate_worker_is_refused", IFACE_EXT "workers: [1, 2, 1]\n",
     "t.yaml:5: workers[2]: ", "lcore 1 is listed twice (also workers[0])"},
    {"empty_eal_argument_is_refused", IFACE_EXT "eal: [\"-l\", \"\"]\n",
     "t.yaml:5: eal[1]: ", "must not be empty"},
    {"eal_as_one_string_is_refused", IFACE_EXT "eal: \"-l 0-1\"\n",
     "t.yaml:5: eal: ", "expected a list"},
    {"too_many_eal_arguments_is_refused",
     IFACE_EXT "eal: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5, b6, b7,"
	       " b8, b9, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, d0, d1, d2, d3, d4, d5, d6, d7,"
	       " d8, d9, e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, f0, f1, f2, f3, f4, f5, f6, f7,"
	       " f8, f9, g0, g1, g2, g3, g4]\n",
     "t.yaml:5: eal[64]: ", "at most 64"},
    {"too_many_snat_addresses_is_refused",
     IFACE_EXT "snat: {addresses: [198.18.0.10, 198.18.0.11, 198.18.0.12, 198.18.0.13,"
	       " 198.18.0.14, 198.18.0.15, 198.18.0.16, 198.18.0.17, 198.18.0.18, 198.18.0.19,"
	       " 198.18.0.20, 198.18.0.21, 198.18.0.22, 198.18.0.23, 198.18.0.24, 198.18.0.25,"
	       " 198.18.0.26]}\n",
     "t.yaml:5: snat.addresses[16]: ", "at most 16"},
    {"too_many_pools_is_refused",
     IFACE_EXT "loadbalancer: {pools: [198.18.1.0, 198.18.1.1, 198.18.1.2, 198.18.1.3,"
	       " 198.18.1.4, 198.18.1.5, 198.18.1.6, 198.18.1.7, 198.18.1.8, 198.18.1.9,"
	       " 198.18.1.10, 198.18.1.11, 198.18.1.12, 198.18.1.13, 198.18.1.14, 198.18.1.15,"
	       " 198.18.1.16]}\n",
     "t.yaml:5: loadbalancer.pools[16]: ", "at most 16"},
    {"too_many_manifests_is_refused",
     IFACE_EXT "manifests: [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, n0, n1, n2, n3, n4, n5,"
	       " n6, n7, n8, n9, o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, p0, p1, p2]\n",
     "t.yaml:5: manifests[32]: ", "at most 32"},

    /* interfaces */
    {"duplicate_interface_name_is_refused", IFACE_EXT "  - name: ext\n    device: d2\n",
     "t.yaml:5: interfaces[1].name: ", "duplicate interface name \"ext\" (also interfaces[0])"},
    {"uppercase_interface_name_is_refused", "interfaces:\n  - name: Ext\n    device: d\n",
     "t.yaml:2: interfaces[0].name: ", "invalid interface name \"Ext\""},
    {"interface_name_of_32_characters_is_refused",
     "interfaces:\n  - name: abcdefghijabcdefghijabcdefghijab\n    device: d\n",
     "t.yaml:2: interfaces[0].name: ", "use 1 to 31 characters"},
    {"bad_octet_in_interface_address_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n"
     "    addresses: [\"198.18.0.1/24\", \"198.18.2.300/24\"]\n",
     "t.yaml:4: interfaces[0].addresses[1]: ", "invalid address \"198.18.2.300/24\""},
    {"interface_address_without_length_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    addresses: [198.18.0.1]\n",
     "t.yaml:4: interfaces[0].addresses[0]: ", "expected IP/LEN"},
    {"interface_address_with_length_33_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    addresses: [198.18.0.1/33]\n",
     "t.yaml:4: interfaces[0].addresses[0]: ", "invalid address"},
    {"ipv6_interface_address_with_length_129_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    addresses: [\"2001:db8::1/129\"]\n",
     "t.yaml:4: interfaces[0].addresses[0]: ", "invalid address"},
    {"unspecified_interface_address_is_refused",
     "interfaces:\n  - name: ext\n    device: d\n    addresses: [0.0.0.0/8]\n",
     "t.yaml:4: interfaces[0].addresses[0]: ", "cannot be an interface address"},
    {"address_on_two_interfaces_is_refused",
     IFACE_EXT "  - name: int\n    device: d2\n    addresses: [\"198.18.0.1/16\"]\n",
     "t.yaml:7: interfaces[1].addresses[0]: ", "already on interfaces[0]"},
    {"route_without_destination_is_refused", IFACE_EXT "    routes: [{via: 198.18.0.254}]\n",
     "t.yaml:5: interfaces[0].routes[0].to: ", "required key is missing"},
    {"route_destination_with_host_bits_is_refused",
     IFACE_EXT "    routes: [{to: 198.18.5.1/24, via: 198.18.0.254}]\n",
     "t.yaml:5: interfaces[0].routes[0].to: ", "host bits set (network 198.18.5.0/24)"},
    {"route_via_other_family_is_refused",
     IFACE_EXT "    routes: [{to: 0.0.0.0/0, via: \"2001:db8::1\"}]\n",
     "t.yaml:5: interfaces[0].routes[0].via: ", "not of the destination's family"},
    {"route_via_off_link_next_hop_is_refused",
     IFACE_EXT "    routes: [{to: 0.0.0.0/0, via: 198.18.1.254}]\n",
     "t.yaml:5: interfaces[0].routes[0].via: ",
     "not inside any address prefix of interface \"ext\""},
    {"route_via_own_address_is_refused",
     IFACE_EXT "    routes: [{to: 0.0.0.0/0, via: 198.18.0.1}]\n",
     "t.yaml:5: interfaces[0].routes[0].via: ", "an address of this interface"},
    {"duplicate_route_is_refused",
     IFACE_EXT "    routes:\n      - {to: 0.0.0.0/0, via: 198.18.0.254}\n"
	       "      - {to: 0.0.0.0/0, via: 198.18.0.253}\n",
     "t.yaml:7: interfaces[0].routes[1].to: ", "duplicate route"},
    {"neighbor_with_short_mac_is_refused",
     IFACE_EXT "    neighbors: [{ip: 198.18.0.2, mac: \"02:00:00:00:02\"}]\n",
     "t.yaml:5: interfaces[0].neighbors[0].mac: ", "invalid MAC address \"02:00:00:00:02\""},
    {"neighbor_with_dashed_mac_is_refused",
     IFACE_EXT "    neighbors: [{ip: 198.18.0.2, mac: \"02-00-00-00-02-fe\"}]\n",
     "t.yaml:5: interfaces[0].neighbors[0].mac: ", "invalid MAC address"},
    {"neighbor_with_multicast_mac_is_refused",
     IFACE_EXT "    neighbors: [{ip: 198.18.0.2, mac: \"01:00:5e:00:00:01\"}]\n",
     "t.yaml:5: interfaces[0].neighbors[0].mac: ", "not a unicast address"},
    {"neighbor_without_mac_is_refused", IFACE_EXT "    neighbors: [{ip: 198.18.0.2}]\n",
     "t.yaml:5: interfaces[0].neighbors[0].mac: ", "required key is missing"},
    {"off_link_neighbor_is_refused",
     IFACE_EXT "    neighbors: [{ip: 198.18.7.2, mac: \"02:00:00:00:02:fe\"}]\n",
     "t.yaml:5: interfaces[0].neighbors[0].ip: ", "not inside any address prefix"},

    /* snat, pools, api */
    {"snat_address_outside_every_interface_prefix_is_refused",
     IFACE_EXT "snat: {addresses: [\"198.18.9.1\"]}\n", "t.yaml:5: snat.addresses[0]: ",
     "SNAT address \"198.18.9.1\" is not inside any interface's address prefix"},
    {"snat_address_with_length_is_refused", IFACE_EXT "snat: {addresses: [\"198.18.0.9/24\"]}\n",
     "t.yaml:5: snat.addresses[0]: ", "without /LEN"},
    {"duplicate_snat_address_is_refused", IFACE_EXT "snat: {addresses: [198.18.0.9, 198.18.0.9]}\n",
     "t.yaml:5: snat.addresses[1]: ", "duplicate SNAT address"},
    {"reversed_pool_is_refused", IFACE_EXT "loadbalancer: {pools: [198.18.0.150-198.18.0.100]}\n",
     "t.yaml:5: loadbalancer.pools[0]: ", "ends before it starts"},
    {"pool_mixing_families_is_refused",
     IFACE_EXT "loadbalancer: {pools: [\"198.18.0.100-2001:db8::1\"]}\n",
     "t.yaml:5: loadbalancer.pools[0]: ", "mixes IPv4 and IPv6"},
    {"pool_with_bad_address_is_refused", IFACE_EXT "loadbalancer: {pools: [198.18.0.100-x]}\n",
     "t.yaml:5: loadbalancer.pools[0]: ", "invalid pool \"198.18.0.100-x\""},
    {"pool_cidr_with_host_bits_is_refused", IFACE_EXT "loadbalancer: {pools: [198.18.1.1/24]}\n",
     "t.yaml:5: loadbalancer.pools[0]: ", "host bits set (network 198.18.1.0/24)"},
    {"overlapping_pools_are_refused",
     IFACE_EXT "loadbalancer: {pools: [198.18.1.0/24, 198.18.1.200-198.18.2.10]}\n",
     "t.yaml:5: loadbalancer.pools[1]: ", "overlaps pools[0]"},
    {"pool_holding_an_interface_address_is_refused",
     IFACE_EXT "loadbalancer: {pools: [198.18.0.0/25]}\n",
     "t.yaml:5: loadbalancer.pools[0]: ", "holds 198.18.0.1, an address of interfaces[0]"},
    {"pool_holding_the_snat_address_is_refused",
     IFACE_EXT "snat: {addresses: [198.18.0.200]}\n"
	       "loadbalancer: {pools: [198.18.0.128/25]}\n",
     "t.yaml:6: loadbalancer.pools[0]: ", "holds the SNAT address 198.18.0.200"},
    {"listen_without_port_is_refused", IFACE_EXT "api: {listen: 127.0.0.1}\n",
     "t.yaml:5: api.listen: ", "invalid listen address \"127.0.0.1\""},
    {"listen_on_a_host_name_is_refused", IFACE_EXT "api: {listen: \"localhost:9180\"}\n",
     "t.yaml:5: api.listen: ", "invalid listen address"},
    {"listen_on_ipv6_without_brackets_is_refused", IFACE_EXT "api: {listen: \"::1:9180\"}\n",
     "t.yaml:5: api.listen: ", "invalid listen address"},
    {"listen_on_port_0_is_refused", IFACE_EXT "api: {listen: \"127.0.0.1:0\"}\n",
     "t.yaml:5: api.listen: ", "invalid listen address"},
    {"listen_on_port_65536_is_refused", IFACE_EXT "api: {listen: \"[::1]:65536\"}\n",
     "t.yaml:5: api.listen: ", "invalid listen address"},
    {"empty_token_file_is_refused", IFACE_EXT "api: {token_file: \"\"}\n",
     "t.yaml:5: api.token_file: ", "must not be empty"},
    {"tls_cert_without_key_is_refused", IFACE_EXT "api: {tls_cert: /etc/edgelb/api.crt}\n",
     "t.yaml:5: api.tls_key: ", "required with api.tls_cert"},
    {"tls_key_without_cert_is_refused", IFACE_EXT "api:\n  tls_key: /etc/edgelb/api.key\n",
     "t.yaml:6: api.tls_cert: ", "required with api.tls_key"},
    {"empty_tls_cert_is_refused", IFACE_EXT "api: {tls_cert: \"\", tls_key: k.pem}\n",
     "t.yaml:5: api.tls_cert: ", "must not be empty"},
    {"null_tls_key_is_refused", IFACE_EXT "api:\n  tls_cert: c.pem\n  tls_key:\n",
     "t.yaml:7: api.tls_key: ", "missing value"},
    {"tls_cert_as_a_list_is_refused", IFACE_EXT "api: {tls_cert: [c.pem], tls_key: k.pem}\n",
     "t.yaml:5: api.tls_cert: ", "expected a string, found a list"},
    {"misspelt_tls_key_is_refused_with_a_hint",
     IFACE_EXT "api: {tls_cert: c.pem, tls_keys: k.pem}\n",
     "t.yaml:5: api.tls_keys: ", "unknown key (did you mean \"tls_key\"?)"},
    {"unknown_api_key_is_refused", IFACE_EXT "api: {password: hunter2}\n",
     "t.yaml:5: api.password: ", "unknown key"},
    {"zero_connections_per_ip_is_refused", IFACE_EXT "api: {max_connections_per_ip: 0}\n",
     "t.yaml:5: api.max_connections_per_ip: ", "out of range (1..65535)"},
    {"connections_per_ip_above_65535_is_refused",
     IFACE_EXT "api: {max_connections_per_ip: 65536}\n",
     "t.yaml:5: api.max_connections_per_ip: ", "out of range (1..65535)"},
    {"connections_per_ip_as_a_string_is_refused",
     IFACE_EXT "api: {max_connections_per_ip: \"8\"}\n",
     "t.yaml:5: api.max_connections_per_ip: ", "expected an integer"},
    {"listen_as_a_number_is_refused", IFACE_EXT "api: {listen: 9180}\n",
     "t.yaml:5: api.listen: ", "invalid listen address \"9180\""},
    {"listen_longer_than_63_is_refused",
     IFACE_EXT
     "api: {listen: \"[2001:0db8:0000:0000:0000:0000:0000:0001%eth0000000000000000000]:9180\"}\n",
     "t.yaml:5: api.listen: ", "too long"},
    {"token_file_with_a_control_character_is_refused",
     IFACE_EXT "api: {token_file: \"/etc/tok\\nen\"}\n",
     "t.yaml:5: api.token_file: ", "control character"},
    {"empty_manifest_path_is_refused", IFACE_EXT "manifests: [a, \"\"]\n",
     "t.yaml:5: manifests[1]: ", "must not be empty"},
    {"state_dir_longer_than_255_is_refused",
     IFACE_EXT "state_dir: "
	       "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "t.yaml:5: state_dir: ", "too long (at most 255 characters)"},
};

static void
bad_config_is_refused(void **state)
{
	const struct bad_case *c = *state;

	assert_int_equal(load(c->yaml), -EINVAL);
	if (strncmp(err, c->where, strlen(c->where)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err, c->where);
	assert_contains(err + strlen(c->where), c->what);
	/* Nothing stays allocated after a refusal. */
	assert_int_equal(cfg.n_eal, 0);
	assert_int_equal(cfg.n_manifests, 0);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test_teardown(design_example_parses_to_its_values, teardown),
	    cmocka_unit_test_teardown(defaults_follow_kube_proxy_conntrack, teardown),
	    cmocka_unit_test_teardown(minimal_config_gets_the_defaults, teardown),
	    cmocka_unit_test_teardown(every_timeout_key_sets_its_state, teardown),
	    cmocka_unit_test_teardown(per_source_new_flow_limit_parses, teardown),
	    cmocka_unit_test_teardown(per_source_new_flow_limit_is_off_by_default, teardown),
	    cmocka_unit_test_teardown(icmp_error_limit_parses, teardown),
	    cmocka_unit_test_teardown(
		icmp_error_limit_defaults_to_a_thousand_per_second_with_a_burst_of_the_rate,
		teardown),
	    cmocka_unit_test_teardown(icmp_error_limit_of_zero_means_unlimited_and_is_accepted,
				      teardown),
	    cmocka_unit_test_teardown(icmp_error_limit_accepts_a_million, teardown),
	    cmocka_unit_test_teardown(ipv6_addresses_routes_and_neighbors_parse, teardown),
	    cmocka_unit_test_teardown(pool_given_as_range_keeps_its_ends, teardown),
	    cmocka_unit_test_teardown(pool_given_as_cidr_spans_the_prefix, teardown),
	    cmocka_unit_test_teardown(ipv6_pool_keeps_every_address_of_a_127_and_a_128, teardown),
	    cmocka_unit_test_teardown(sections_may_come_in_any_order, teardown),
	    cmocka_unit_test_teardown(other_settings_parse, teardown),
	    cmocka_unit_test_teardown(tls_certificate_and_key_parse, teardown),
	    cmocka_unit_test_teardown(api_without_tls_keys_is_plain_http, teardown),
	    cmocka_unit_test_teardown(tls_key_path_resolves_against_the_config_directory, teardown),
	    cmocka_unit_test_teardown(file_over_one_mib_is_refused, teardown),
	    cmocka_unit_test_teardown(api_connections_per_address_parse, teardown),
	    cmocka_unit_test_teardown(api_connections_per_address_default_below_the_cap, teardown),
	    cmocka_unit_test_teardown(largest_maglev_prime_is_accepted, teardown),
	    cmocka_unit_test_teardown(relative_paths_resolve_against_the_config_directory,
				      teardown),
	    cmocka_unit_test_teardown(resolve_path_refuses_a_short_buffer_and_an_empty_path,
				      teardown),
	    cmocka_unit_test_teardown(reference_config_file_loads, teardown),
	    cmocka_unit_test_teardown(loading_a_file_reads_it, teardown),
	    cmocka_unit_test_teardown(missing_file_gives_enoent, teardown),
	    cmocka_unit_test_teardown(directory_is_not_a_config_file, teardown),
	    cmocka_unit_test_teardown(failed_load_leaves_nothing_to_free, teardown),
	    cmocka_unit_test_teardown(message_is_truncated_to_the_buffer, teardown),
	    cmocka_unit_test_teardown(damaged_input_is_refused_cleanly, teardown),
	    cmocka_unit_test_teardown(deep_nesting_is_refused, teardown),
	};
	const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t n_bad = sizeof(bad_cases) / sizeof(bad_cases[0]);
	struct CMUnitTest *tests = calloc(n_fixed + n_bad, sizeof(*tests));
	size_t i;
	int rc;

	if (tests == NULL)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < n_bad; i++) {
		tests[n_fixed + i].name = bad_cases[i].name;
		tests[n_fixed + i].test_func = bad_config_is_refused;
		tests[n_fixed + i].teardown_func = teardown;
		tests[n_fixed + i].initial_state = (void *)&bad_cases[i];
	}
	rc = _cmocka_run_group_tests("config", tests, n_fixed + n_bad, NULL, NULL);
	free(tests);
	return rc;
}
