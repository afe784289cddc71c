/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Minimal HTTP/1.1 client of edgelbctl (RFC 9112): one request per TCP
 * connection ("Connection: close"), IPv4 and IPv6 servers, connect and read
 * timeouts, answers framed by Content-Length, chunked transfer coding or the
 * end of the connection. Plain http only.
 *
 * Thread safety: no global state; every call uses only its arguments.
 */
#ifndef EDGELB_CTL_HTTP_H
#define EDGELB_CTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/** Largest answer accepted (headers and body). */
#define CTL_HTTP_MAX_RESPONSE (256u << 20)

/** A parsed "http://HOST[:PORT][/PREFIX]" server address. */
struct ctl_http_url {
	char host[256];	  /**< name or address, IPv6 without brackets */
	char port[8];	  /**< decimal, "80" when absent */
	char prefix[512]; /**< path prefix without trailing '/', "" for none */
	bool ipv6;	  /**< host was written in brackets */
};

/** An answer. */
struct ctl_http_resp {
	int status;	       /**< e.g. 200 */
	char reason[64];       /**< reason phrase, e.g. "OK" */
	char content_type[96]; /**< Content-Type value, "" when absent */
	char *body;	       /**< decoded body, NUL-terminated (malloc'd) */
	size_t body_len;
};

/** Connection settings of a client. */
struct ctl_http_client {
	struct ctl_http_url url;
	const char *server; /**< the URL as given, for messages */
	const char *token;  /**< bearer token, or NULL */
	int timeout_ms;	    /**< connect timeout, and longest wait for each read */
};

/**
 * Parse a server URL: "http://" then a host name, an IPv4 address or an IPv6
 * address in brackets, an optional ":PORT" (1..65535) and an optional path
 * prefix. A missing "http://" is accepted.
 * @return 0, -EINVAL (malformed), -EPROTONOSUPPORT (another scheme, e.g.
 *         https), -ENAMETOOLONG (host or prefix too long)
 */
int ctl_http_url_parse(const char *url, struct ctl_http_url *u);

/**
 * Decode a chunked body (RFC 9112 section 7.1): chunk extensions are
 * ignored, trailer fields skipped.
 * @param in        the bytes after the header block
 * @param len       their count
 * @param out       receives the decoded body (malloc'd, NUL-terminated)
 * @param out_len   receives its length
 * @param consumed  receives the bytes of @p in used, final CRLF included (may
 *                  be NULL)
 * @return 0, -EAGAIN (incomplete: more bytes needed), -EBADMSG (malformed),
 *         -EFBIG (beyond CTL_HTTP_MAX_RESPONSE), -ENOMEM
 */
int ctl_http_dechunk(const char *in, size_t len, char **out, size_t *out_len, size_t *consumed);

/**
 * Parse an answer held in memory. Interim 1xx answers are skipped.
 * @param buf   bytes received so far
 * @param len   their count
 * @param eof   the server closed the connection after these bytes
 * @param resp  filled on success (free with ctl_http_resp_free)
 * @param head  true when the request was HEAD (no body follows)
 * @return 0 (complete), -EAGAIN (need more bytes), -EBADMSG (malformed or
 *         cut short), -EFBIG, -ENOMEM
 */
int ctl_http_parse_response(const char *buf, size_t len, bool eof, bool head,
			    struct ctl_http_resp *resp);

/**
 * Percent-encode a path segment (RFC 3986 unreserved characters stay).
 * @return 0, or -ENOSPC when @p out is too small
 */
int ctl_http_escape(const char *s, char *out, size_t outlen);

/**
 * Send one request and read the answer. Blocks up to the client's timeout
 * per step. Headers sent: Host, User-Agent, Accept: application/json,
 * Connection: close, Authorization: Bearer (with a token), and Content-Type
 * application/json with Content-Length when a body is given.
 * @param c       server and settings
 * @param method  "GET", "PUT", "DELETE", ...
 * @param path    absolute path and query, appended to the URL prefix
 * @param body    request body or NULL
 * @param body_len its length
 * @param resp    receives the answer (free with ctl_http_resp_free)
 * @param err     receives a message such as "cannot connect to
 *                http://127.0.0.1:9180: Connection refused"
 * @param errlen  its size
 * @return 0 (any HTTP status), or a negative errno: -ECONNREFUSED,
 *         -ETIMEDOUT, -EHOSTUNREACH, -EBADMSG, -ENOMEM, ...
 */
int ctl_http_request(const struct ctl_http_client *c, const char *method, const char *path,
		     const char *body, size_t body_len, struct ctl_http_resp *resp, char *err,
		     size_t errlen);

/** Free the body of an answer (the struct itself is the caller's). */
void ctl_http_resp_free(struct ctl_http_resp *resp);

#endif
