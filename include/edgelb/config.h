/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * edgelb appliance configuration: the YAML file of DESIGN.md section 6,
 * parsed with libyaml into a plain struct. No EAL, no DPDK types: unit tests
 * load configs without starting DPDK.
 *
 * Addresses are kept as struct el_ip (network byte order). Every limit below
 * is a hard cap checked by the parser, which refuses a file that exceeds it.
 *
 * Thread safety: config_load() is called once by the main thread at start.
 */
#ifndef EDGELB_CONFIG_H
#define EDGELB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelb/types.h"

#define EL_CFG_MAX_EAL	     64
#define EL_CFG_MAX_WORKERS   16
#define EL_CFG_MAX_IFACES    8
#define EL_CFG_MAX_ADDRS     16
#define EL_CFG_MAX_ROUTES    64
#define EL_CFG_MAX_NEIGHBORS 64
#define EL_CFG_MAX_SNAT	     16
#define EL_CFG_MAX_POOLS     16
#define EL_CFG_MAX_MANIFESTS 32
#define EL_CFG_PATH_MAX	     256
#define EL_CFG_NAME_MAX	     32
#define EL_CFG_DEVICE_MAX    256

/** Default of api.max_connections_per_ip: half the API's connection cap (64),
 *  so one client address cannot take every connection. */
#define EL_CFG_API_CONNS_PER_IP 32

/** Default of icmp.errors_per_second: ICMP errors and TCP resets one worker
 *  may generate per second (RFC 4443 section 2.4 (f), RFC 1812 4.3.2.8). */
#define EL_CFG_ICMP_ERRORS_PER_SECOND 1000

/** Connection-tracking states; index into el_config.ct.timeouts[]. */
enum el_ct_state {
	EL_CT_NONE = 0,	   /**< not tracked / new */
	EL_CT_SYN_SENT,	   /**< client SYN seen */
	EL_CT_SYN_RECV,	   /**< backend SYN+ACK seen */
	EL_CT_ESTABLISHED, /**< handshake complete */
	EL_CT_FIN_WAIT,	   /**< first FIN seen */
	EL_CT_CLOSE_WAIT,  /**< FIN from the other side acked, one side half closed */
	EL_CT_TIME_WAIT,   /**< FIN from both sides */
	EL_CT_CLOSE,	   /**< RST seen */
	EL_CT_UDP,	   /**< UDP flow */
	EL_CT_ICMP,	   /**< ICMP (echo) flow */
	EL_CT_NSTATES
};

struct el_cfg_route {
	struct el_cidr to; /**< destination prefix */
	struct el_ip via;  /**< next hop; family 0 = directly connected */
};

struct el_cfg_neighbor {
	struct el_ip ip;
	uint8_t mac[6];
};

struct el_cfg_iface {
	char name[EL_CFG_NAME_MAX];	/**< "ext", "int": unique */
	char device[EL_CFG_DEVICE_MAX]; /**< PCI address or vdev spec */
	struct el_cidr addrs[EL_CFG_MAX_ADDRS];
	unsigned n_addrs;
	struct el_cfg_route routes[EL_CFG_MAX_ROUTES];
	unsigned n_routes;
	struct el_cfg_neighbor neighbors[EL_CFG_MAX_NEIGHBORS];
	unsigned n_neighbors;
	unsigned rx_queues; /**< 0 = one per worker */
	uint16_t mtu;	    /**< 0 = device default */
};

/** An inclusive address range of a LoadBalancer pool ("a-b" or a CIDR). */
struct el_cfg_pool {
	struct el_ip first;
	struct el_ip last;
};

struct el_config {
	char path[EL_CFG_PATH_MAX]; /**< file it was read from */

	char *eal[EL_CFG_MAX_EAL]; /**< owned strings */
	unsigned n_eal;

	unsigned workers[EL_CFG_MAX_WORKERS]; /**< lcore ids; n_workers 0 = all but main */
	unsigned n_workers;
	uint32_t idle_sleep_us;

	struct el_cfg_iface ifaces[EL_CFG_MAX_IFACES];
	unsigned n_ifaces;

	struct el_ip snat[EL_CFG_MAX_SNAT];
	unsigned n_snat;

	struct el_cfg_pool pools[EL_CFG_MAX_POOLS];
	unsigned n_pools;

	uint16_t nodeport_min; /**< default 30000 */
	uint16_t nodeport_max; /**< default 32767 */

	uint32_t ct_max_flows;		     /**< per worker; default 1048576 */
	uint32_t ct_timeouts[EL_CT_NSTATES]; /**< seconds; [EL_CT_NONE] = SYN_SENT's */
	uint32_t ct_new_flows_per_source;    /**< per worker and second; 0 = unlimited (default) */
	uint32_t ct_new_flows_burst;	     /**< 0 = ct_new_flows_per_source (default) */

	uint32_t maglev_table_size; /**< prime; default 65537 */

	/** ICMP errors (time exceeded, port unreachable) and TCP resets one
	 *  worker may generate per second, 0..1000000; 0 = unlimited; default
	 *  EL_CFG_ICMP_ERRORS_PER_SECOND. */
	uint32_t icmp_errors_per_second;
	/** How many of them may go out at once after a quiet time, 0..1000000;
	 *  0 = icmp_errors_per_second (default). */
	uint32_t icmp_errors_burst;

	char api_listen[64];		      /**< "127.0.0.1:9180" */
	char api_token_file[EL_CFG_PATH_MAX]; /**< "" = no token */
	char api_tls_cert[EL_CFG_PATH_MAX];   /**< PEM certificate (chain); "" = plain HTTP */
	char api_tls_key[EL_CFG_PATH_MAX];    /**< PEM private key; set together with the cert */
	/** Connections one client address may hold open to the API, 1..65535
	 *  (default EL_CFG_API_CONNS_PER_IP). */
	unsigned api_max_conns_per_ip;

	char state_dir[EL_CFG_PATH_MAX];
	char *manifests[EL_CFG_MAX_MANIFESTS]; /**< owned strings; relative paths as written */
	unsigned n_manifests;
};

/**
 * Fill @p cfg with the defaults (kube-proxy-like conntrack timeouts, nodePort
 * range 30000-32767, 1,048,576 flows, Maglev 65537, API on 127.0.0.1:9180 with
 * at most EL_CFG_API_CONNS_PER_IP connections per client address,
 * EL_CFG_ICMP_ERRORS_PER_SECOND generated errors per worker and second).
 */
void config_defaults(struct el_config *cfg);

/**
 * Read and validate a config file.
 *
 * @param path  file name; used in messages
 * @param cfg   filled on success; on failure it is left freed (config_free is a no-op)
 *              and holds the defaults. Overwritten without being freed first: call
 *              config_free() on a config loaded before.
 * @param err   receives "FILE:LINE: KEY: what is wrong" on failure ("" on success)
 * @param errlen size of @p err
 * @return 0, or -EINVAL (bad content), -ENOENT/-EACCES (cannot read),
 *         -ENAMETOOLONG (path longer than EL_CFG_PATH_MAX - 1), -ENOMEM
 */
int config_load(const char *path, struct el_config *cfg, char *err, size_t errlen);

/** Same as config_load() for a buffer; @p name is used in messages. */
int config_load_buf(const char *buf, size_t len, const char *name, struct el_config *cfg, char *err,
		    size_t errlen);

/** Release the strings a loaded config owns. Safe to call twice. */
void config_free(struct el_config *cfg);

/**
 * Resolve a path written in the config (a manifest, state_dir) against the
 * directory of the config file (cfg->path): absolute paths are copied, a
 * relative one gets the config file's directory in front ("config/edgelb.yaml"
 * and "examples" give "config/examples").
 *
 * @param cfg  a loaded config (only cfg->path is read)
 * @param p    the path as written
 * @param out  receives the resolved path
 * @param len  size of @p out
 * @return 0, -EINVAL (empty @p p), or -ENAMETOOLONG (@p out too small)
 *
 * Thread safety: pure; any thread.
 */
int config_resolve_path(const struct el_config *cfg, const char *p, char *out, size_t len);

#endif
