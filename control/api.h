/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The REST API (DESIGN.md section 6): Kubernetes-style Service, Endpoints
 * and EndpointSlice resources, Lists, Status errors, and the appliance's
 * /healthz, /readyz, /metrics and /api/v1/conns, served by libmicrohttpd.
 *
 * libmicrohttpd runs without threads of its own ("external select" mode):
 * the control loop calls api_poll(), which waits up to its timeout for
 * network activity and runs every handler that became ready. So handlers
 * run on the control thread, and a change goes through apply.h without any
 * lock against compile or publish.
 *
 * Limits: a body larger than api_conf.max_body is answered 413 (at once when
 * the client announced it and asked "Expect: 100-continue", else after
 * reading and dropping it, up to a hard cap); at most max_conns connections,
 * and at most max_conns_per_ip from one client address (one client cannot
 * take them all; a connection past the limit is closed as soon as it is
 * accepted); a connection idle for conn_timeout_s seconds is closed, so a
 * slow client cannot hold the API.
 *
 * Authentication: when a token is configured, every request except /healthz
 * and /readyz must carry "Authorization: Bearer TOKEN"; the comparison takes
 * the same time whatever the candidate. The token is never logged.
 *
 * TLS: with a certificate and key (PEM files) the API is served over HTTPS
 * only (libmicrohttpd with GnuTLS, its default priorities); the key is read
 * into memory at start and wiped when the server stops. Without them the
 * API is plain HTTP, meant for a loopback or management-network address.
 *
 * Thread safety: api_start(), api_poll() and api_stop() run on one thread
 * (the control thread); the callbacks are called on it.
 */
#ifndef EDGELB_API_H
#define EDGELB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelb/model_json.h"
#include "edgelb/types.h"

#include "apply.h"

#define API_MAX_BODY_DEFAULT	     (1u << 20) /**< 1 MiB */
#define API_MAX_CONNS_DEFAULT	     64
#define API_MAX_CONNS_PER_IP_DEFAULT 32
#define API_CONN_TIMEOUT_DEFAULT     10 /**< seconds */
#define API_CONNS_LIMIT_DEFAULT	     1000
#define API_CONNS_LIMIT_MAX	     100000
#define API_TOKEN_MAX		     4096

/** One live flow for /api/v1/conns (struct el_conn_info without DPDK). */
struct api_conn {
	struct el_ip client, frontend, snat, backend;
	uint16_t cport, fport, sport, bport; /**< host order */
	uint8_t proto;			     /**< IPPROTO_TCP / IPPROTO_UDP / IPPROTO_ICMP */
	uint8_t state;			     /**< enum el_ct_state */
	uint32_t age_s, idle_s;
	char service[128]; /**< "ns/name:port"; "" when unknown */
};

struct api_conf {
	const char *listen;	   /**< "IPv4:PORT" or "[IPv6]:PORT"; port 0 = any free */
	const char *token_file;	   /**< file holding the bearer token; NULL or "" = none */
	const char *tls_cert;	   /**< PEM certificate (chain) file; NULL or "" = plain HTTP */
	const char *tls_key;	   /**< PEM private key file; required with tls_cert */
	size_t max_body;	   /**< 0 = API_MAX_BODY_DEFAULT */
	unsigned max_conns;	   /**< 0 = API_MAX_CONNS_DEFAULT */
	unsigned max_conns_per_ip; /**< 0 = API_MAX_CONNS_PER_IP_DEFAULT */
	unsigned conn_timeout_s;   /**< 0 = API_CONN_TIMEOUT_DEFAULT */
	struct apply *apply;	   /**< the live model and its transaction; required */

	void *ctx; /**< passed to the callbacks below */
	/** 0 when the appliance is ready (ports up, workers polling), else a
	 *  negative errno with @p why filled. NULL: always ready. */
	int (*ready)(void *ctx, char *why, size_t len);
	/** Prometheus text into @p buf: its length, or -ENOSPC when @p len is
	 *  too small (called again with a larger buffer). NULL: 404. */
	int (*metrics)(void *ctx, char *buf, size_t len);
	/** Up to @p max live flows: the count. NULL: an empty list. */
	int (*conns)(void *ctx, struct api_conn *out, unsigned max);
};

struct api;

/**
 * Read the token file (and the TLS certificate and key), bind the listen
 * address and start serving.
 *
 * @param err  receives what failed ("api.listen: ...", "api.token_file: ...",
 *             "api.tls_cert: ...", "api.tls_key: ..."); never a secret
 * @return the server, or NULL with errno set (EINVAL: bad listen address,
 *         empty token file, a certificate without a key or an empty PEM
 *         file; ENOTSUP: TLS asked of a libmicrohttpd built without it;
 *         EFBIG: PEM file over 1 MiB; EADDRINUSE...; ENOMEM)
 */
struct api *api_start(const struct api_conf *c, char *err, size_t errlen);

/**
 * Serve: wait up to @p timeout_ms for network activity, then run every
 * handler that became ready. Returns early when a signal interrupts the
 * wait. @return 0, or -EIO when libmicrohttpd failed
 */
int api_poll(struct api *a, unsigned timeout_ms);

/** The TCP port the server listens on (useful with port 0). */
uint16_t api_port(const struct api *a);

/** True when the server speaks HTTPS (a certificate and key were given). */
bool api_tls(const struct api *a);

/** Close every connection and free the server. NULL is a no-op. */
void api_stop(struct api *a);

/* ---- pure parts, exposed for tests ---- */

enum api_route_type {
	API_ROUTE_NONE = 0, /**< no such path */
	API_ROUTE_OBJECT,   /**< .../namespaces/NS/RESOURCE/NAME */
	API_ROUTE_LIST,	    /**< .../RESOURCE or .../namespaces/NS/RESOURCE */
	API_ROUTE_HEALTHZ,
	API_ROUTE_READYZ,
	API_ROUTE_METRICS,
	API_ROUTE_CONNS,
};

struct api_route {
	enum api_route_type type;
	enum el_kind kind;	     /**< OBJECT and LIST */
	char ns[EL_LABEL_MAX];	     /**< "" = every namespace (LIST) */
	char name[EL_SUBDOMAIN_MAX]; /**< OBJECT */
};

/**
 * Map a URL path (no query string) to a route.
 * @return 0, or -ENOENT (type API_ROUTE_NONE) for a path the API does not
 *         serve, including names longer than Kubernetes allows
 */
int api_route_parse(const char *path, struct api_route *r);

/**
 * The media type of a Content-Type header value, parameters ignored:
 * 1 = JSON (application/json), 2 = YAML (application/yaml,
 * application/x-yaml), 0 = anything else or NULL.
 */
int api_media_type(const char *content_type);

/**
 * Does an Authorization header value carry @p token ("Bearer TOKEN", scheme
 * case-insensitive)? Takes the same time for every candidate of a given
 * token length.
 */
bool api_token_ok(const char *token, const char *authorization);

/** Render flows as {"apiVersion":"edgelb/v1","kind":"ConnectionList",
 *  "items":[...]}; malloc'd, NULL on ENOMEM. */
char *api_conns_json(const struct api_conn *c, unsigned n);

#endif
