/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REST API server (api.h) on libmicrohttpd in external-select mode.
 *
 * Paths follow the Kubernetes API (core group /api/v1, named groups
 * /apis/GROUP/VERSION, namespaced resources under namespaces/NS/); errors
 * are metav1.Status objects (model_json.h). HTTP semantics follow RFC 9110:
 * 405 carries Allow, 401 carries WWW-Authenticate (RFC 6750 for the Bearer
 * scheme), 413 may close the connection.
 *
 * libmicrohttpd calls the access handler once when the headers are in, then
 * once per piece of body, then once more with no body left; the body is
 * gathered in a per-request buffer up to the cap, and the request is
 * answered on that last call.
 *
 * Group commit: a change is made in the live model on that last call, but
 * answered only after every request of the same api_poll() round has been
 * taken: the round's changes are compiled, written to the store (one round
 * of fsyncs) and published together (apply_group_begin/end). The
 * connection is suspended meanwhile and resumed with its answer ready; a
 * GET arriving while changes wait is answered after them, so no client
 * reads a change before it is durable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "edgelb/config.h"
#include "edgelb/tcp_state.h"

#include "api.h"

/* Bodies beyond the cap are read and dropped up to this much, so the client
 * reads the 413 rather than a reset; past it the connection is closed. */
#define API_DISCARD_MAX (64u << 20)
#define API_METRICS_MAX (64u << 20)
#define API_PEM_MAX	(1u << 20) /* a certificate chain or key file */
#define API_LOG_PER_SEC 10	   /* libmicrohttpd messages logged per second at most */

#define API_CORE   "/api/v1"
#define API_SLICES "/apis/discovery.k8s.io/v1"

struct api {
	struct MHD_Daemon *mhd;
	struct api_conf c;
	char token[API_TOKEN_MAX];
	bool has_token;
	uint16_t port;
	struct api_req *pending; /* suspended requests of this round, newest first */
	unsigned n_pending;
	char *tls_cert; /* PEM text; NULL: plain HTTP */
	char *tls_key;	/* PEM text, wiped before it is freed */
	size_t tls_key_len;
	/* libmicrohttpd logs every connection it turns away: bounded, so a
	 * connection flood cannot flood the log */
	time_t log_sec;
	unsigned log_n, log_suppressed;
};

/* One request in progress. */
struct api_req {
	char *body;
	size_t len, cap;
	bool too_big;
	uint64_t dropped;
	/* group commit: suspended until the round's changes are committed */
	struct MHD_Connection *conn;
	struct api_req *next_pending;
	bool waiting;  /* suspended, in the pending list */
	bool answered; /* resumed: res holds the answer of a change */
	bool retry;    /* resumed: a read to run now */
	struct api_route route;
	char name[EL_SUBDOMAIN_MAX];
	const char *method; /* libmicrohttpd's string, valid for the request */
	struct apply_result res;
};

/* ---- pure parts ---- */

/* Copy one path segment ending at '/' or the end; false when empty or too
 * long. *p moves past it (and past its '/'). */
static bool
api_segment(const char **p, char *out, size_t len, bool *last)
{
	const char *s = *p, *e = strchr(s, '/');
	size_t n = e ? (size_t)(e - s) : strlen(s);

	if (n == 0 || n >= len)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*last = e == NULL;
	*p = e ? e + 1 : s + n;
	return true;
}

static bool
api_resource(const char *seg, bool core, enum el_kind *k)
{
	if (core && strcmp(seg, "services") == 0)
		*k = EL_KIND_SERVICE;
	else if (core && strcmp(seg, "endpoints") == 0)
		*k = EL_KIND_ENDPOINTS;
	else if (!core && strcmp(seg, "endpointslices") == 0)
		*k = EL_KIND_SLICE;
	else
		return false;
	return true;
}

int
api_route_parse(const char *path, struct api_route *r)
{
	char seg[EL_SUBDOMAIN_MAX];
	const char *p;
	bool core, last = false;

	memset(r, 0, sizeof(*r));
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
		r->type = API_ROUTE_HEALTHZ;
	else if (strcmp(path, "/readyz") == 0)
		r->type = API_ROUTE_READYZ;
	else if (strcmp(path, "/metrics") == 0)
		r->type = API_ROUTE_METRICS;
	else if (strcmp(path, API_CORE "/conns") == 0)
		r->type = API_ROUTE_CONNS;
	if (r->type != API_ROUTE_NONE)
		return 0;

	if (strncmp(path, API_CORE "/", strlen(API_CORE "/")) == 0) {
		core = true;
		p = path + strlen(API_CORE "/");
	} else if (strncmp(path, API_SLICES "/", strlen(API_SLICES "/")) == 0) {
		core = false;
		p = path + strlen(API_SLICES "/");
	} else {
		return -ENOENT;
	}
	if (!api_segment(&p, seg, sizeof(seg), &last))
		return -ENOENT;
	if (last) {
		/* RESOURCE: every namespace */
		if (!api_resource(seg, core, &r->kind))
			return -ENOENT;
		r->type = API_ROUTE_LIST;
		return 0;
	}
	if (strcmp(seg, "namespaces") != 0 || !api_segment(&p, r->ns, sizeof(r->ns), &last) ||
	    last || !api_segment(&p, seg, sizeof(seg), &last) || !api_resource(seg, core, &r->kind))
		goto none;
	if (last) {
		r->type = API_ROUTE_LIST;
		return 0;
	}
	if (!api_segment(&p, r->name, sizeof(r->name), &last) || !last)
		goto none;
	r->type = API_ROUTE_OBJECT;
	return 0;
none:
	memset(r, 0, sizeof(*r));
	return -ENOENT;
}

int
api_media_type(const char *ct)
{
	static const char *const json[] = {"application/json"};
	static const char *const yaml[] = {"application/yaml", "application/x-yaml"};
	size_t n;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	for (unsigned i = 0; i < sizeof(json) / sizeof(json[0]); i++)
		if (n == strlen(json[i]) && strncasecmp(ct, json[i], n) == 0)
			return 1;
	for (unsigned i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++)
		if (n == strlen(yaml[i]) && strncasecmp(ct, yaml[i], n) == 0)
			return 2;
	return 0;
}

bool
api_token_ok(const char *token, const char *auth)
{
	size_t want = strlen(token), got, i;
	unsigned diff;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	got = strlen(auth);
	while (got > 0 && (auth[got - 1] == ' ' || auth[got - 1] == '\t'))
		got--;
	/* every byte of the token is compared whatever the candidate */
	diff = got != want;
	for (i = 0; i < want; i++)
		diff |= (unsigned)(unsigned char)token[i] ^
			(unsigned)(unsigned char)(i < got ? auth[i] : 0);
	return diff == 0 && want > 0;
}

static const char *
api_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	default:
		return "?";
	}
}

/* "ip:port", "[ip6]:port" */
static void
api_json_endpoint(struct model_json_buf *b, const char *key, const struct el_ip *ip, uint16_t port)
{
	char addr[EL_IP_STRLEN], s[EL_IP_STRLEN + 10];

	el_ip_fmt(ip, addr, sizeof(addr));
	if (ip->family == EL_AF_INET6)
		snprintf(s, sizeof(s), "[%s]:%u", addr, port);
	else
		snprintf(s, sizeof(s), "%s:%u", addr, port);
	model_json_buf_fmt(b, ",\"%s\":", key);
	model_json_buf_str(b, s);
}

char *
api_conns_json(const struct api_conn *c, unsigned n)
{
	struct model_json_buf b = {0};

	model_json_buf_raw(&b, "{\"apiVersion\":\"edgelb/v1\",\"kind\":\"ConnectionList\","
			       "\"items\":[");
	for (unsigned i = 0; i < n; i++) {
		const struct api_conn *x = &c[i];

		model_json_buf_raw(&b, i ? ",{\"protocol\":" : "{\"protocol\":");
		model_json_buf_str(&b, api_proto_name(x->proto));
		api_json_endpoint(&b, "client", &x->client, x->cport);
		api_json_endpoint(&b, "frontend", &x->frontend, x->fport);
		api_json_endpoint(&b, "snat", &x->snat, x->sport);
		api_json_endpoint(&b, "backend", &x->backend, x->bport);
		model_json_buf_raw(&b, ",\"service\":");
		model_json_buf_str(&b, x->service);
		model_json_buf_fmt(&b,
				   ",\"state\":\"%s\",\"age\":%" PRIu32 ",\"idle\":%" PRIu32 "}",
				   ct_state_name((enum el_ct_state)x->state), x->age_s, x->idle_s);
	}
	model_json_buf_raw(&b, "]}");
	return model_json_buf_done(&b);
}

/* ---- answers ---- */

/* Queue @p text (malloc'd; taken in every case) as the answer. */
static enum MHD_Result
api_send(struct MHD_Connection *conn, unsigned code, const char *ctype, char *text, const char *hdr,
	 const char *hval)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (text == NULL)
		return MHD_NO; /* out of memory: drop the connection */
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (hdr != NULL)
		MHD_add_response_header(resp, hdr, hval);
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
api_send_json(struct MHD_Connection *conn, unsigned code, char *json)
{
	return api_send(conn, code, "application/json", json, NULL, NULL);
}

/* A Status answer. */
static enum MHD_Result
api_status(struct MHD_Connection *conn, unsigned code, const char *reason, const char *message,
	   const struct api_route *r, const char *field, const char *cause, const char *hdr,
	   const char *hval)
{
	struct model_json_status st = {
	    .code = (int)code,
	    .reason = reason,
	    .message = message,
	    .name = r != NULL && r->name[0] ? r->name : NULL,
	    .kind = r != NULL && (r->type == API_ROUTE_OBJECT || r->type == API_ROUTE_LIST)
			? model_json_resource(r->kind)
			: NULL,
	    .field = field != NULL && field[0] ? field : NULL,
	    .cause = cause != NULL && cause[0] ? cause : NULL,
	};

	return api_send(conn, code, "application/json", model_json_status(&st), hdr, hval);
}

static enum MHD_Result __attribute__((format(printf, 5, 6)))
api_statusf(struct MHD_Connection *conn, unsigned code, const char *reason,
	    const struct api_route *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_status(conn, code, reason, msg, r, NULL, NULL, NULL, NULL);
}

static enum MHD_Result
api_too_large(struct api *a, struct MHD_Connection *conn)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes", a->c.max_body);
	return api_status(conn, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge", msg, NULL,
			  NULL, NULL, NULL, NULL);
}

static enum MHD_Result
api_not_allowed(struct MHD_Connection *conn, const struct api_route *r, const char *method,
		const char *allow)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "the method %s is not allowed here (allowed: %s)", method,
		 allow);
	return api_status(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed", msg, r, NULL, NULL,
			  MHD_HTTP_HEADER_ALLOW, allow);
}

/* ---- handlers ---- */

static void
api_log_change(const char *method, const struct api_route *r, const char *name, int code)
{
	printf("edgelb: api: %s %s %s/%s: %d\n", method, model_json_resource(r->kind), r->ns, name,
	       code);
	fflush(stdout);
}

static enum MHD_Result
api_apply_answer(struct api *a, struct MHD_Connection *conn, const char *method,
		 const struct api_route *r, const char *name, struct apply_result *res)
{
	struct api_route named = *r;
	enum MHD_Result ret;

	snprintf(named.name, sizeof(named.name), "%s", name);
	if (res->object != NULL) {
		struct MHD_Response *resp;
		const char *const *warn;
		unsigned n_warn = apply_warnings(a->c.apply, &warn);

		api_log_change(method, r, name, res->code);
		resp = MHD_create_response_from_buffer(strlen(res->object), res->object,
						       MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			return MHD_NO;
		res->object = NULL;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		/* what the compile left out, as RFC 7234 warn-code 299 */
		for (unsigned i = 0; i < n_warn && i < 16; i++) {
			char hv[400];
			size_t k = 0;

			snprintf(hv, sizeof(hv), "299 - \"");
			k = strlen(hv);
			for (const char *s = warn[i]; *s && k + 3 < sizeof(hv); s++)
				if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
					hv[k++] = *s;
			hv[k++] = '"';
			hv[k] = '\0';
			MHD_add_response_header(resp, "Warning", hv);
		}
		ret = MHD_queue_response(conn, (unsigned)res->code, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	api_log_change(method, r, name, res->code);
	return api_status(conn, (unsigned)res->code, res->reason, res->message, &named, res->field,
			  res->cause, NULL, NULL);
}

/* Park a request until the round's changes are committed. */
static enum MHD_Result
api_wait(struct api *a, struct MHD_Connection *conn, struct api_req *q)
{
	q->conn = conn;
	q->waiting = true;
	q->next_pending = a->pending;
	a->pending = q;
	a->n_pending++;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* Stage a change (apply_put or apply_delete) in the round's group. */
static enum MHD_Result
api_stage(struct api *a, struct MHD_Connection *conn, const char *method, const struct api_route *r,
	  const char *name, struct api_req *q)
{
	if (!a->c.apply->group)
		apply_group_begin(a->c.apply);
	q->route = *r;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->method = method;
	if (strcmp(method, "DELETE") == 0)
		apply_delete(a->c.apply, r->kind, r->ns, r->name, &q->res);
	else
		apply_put(a->c.apply, r->kind, r->ns, name, q->body ? q->body : "", q->len,
			  strcmp(method, "POST") == 0, &q->res);
	return api_wait(a, conn, q);
}

/* PUT (create or replace) and POST (create) of one object. */
static enum MHD_Result
api_write(struct api *a, struct MHD_Connection *conn, const char *method, const struct api_route *r,
	  struct api_req *q)
{
	const char *ct =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	int media = api_media_type(ct);
	const char *name = r->name;
	struct apply_body_info info;
	char err[256];

	if (media == 0)
		return api_statusf(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", r,
				   "Content-Type \"%s\" is not supported: use application/json, "
				   "application/yaml or application/x-yaml",
				   ct ? ct : "");
	if (media == 1) {
		size_t i = 0;
		while (i < q->len && strchr(" \t\r\n", q->body[i]) != NULL)
			i++;
		if (i == q->len || q->body[i] != '{')
			return api_statusf(conn, MHD_HTTP_BAD_REQUEST, "BadRequest", r,
					   "the request body is not a JSON object");
	}
	if (r->type == API_ROUTE_LIST) {
		/* POST to a collection: the name comes from the body */
		if (apply_body_scan(q->body ? q->body : "", q->len, &info, err, sizeof(err)) < 0)
			return api_statusf(conn, MHD_HTTP_BAD_REQUEST, "BadRequest", r,
					   "the request body is not valid JSON or YAML: %s", err);
		if (!info.has_name || info.long_name || info.name[0] == '\0')
			return api_status(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, "Invalid",
					  "metadata.name: Required value", r, "metadata.name",
					  "Required value", NULL, NULL);
		name = info.name;
	}
	return api_stage(a, conn, method, r, name, q);
}

static enum MHD_Result
api_object(struct api *a, struct MHD_Connection *conn, const char *method,
	   const struct api_route *r, struct api_req *q)
{
	const struct el_model *m = a->c.apply->c.model;
	const void *obj;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		switch (r->kind) {
		case EL_KIND_SERVICE:
			obj = model_find_service(m, r->ns, r->name);
			break;
		case EL_KIND_ENDPOINTS:
			obj = model_find_endpoints(m, r->ns, r->name);
			break;
		default:
			obj = model_find_slice(m, r->ns, r->name);
			break;
		}
		if (obj == NULL)
			return api_statusf(conn, MHD_HTTP_NOT_FOUND, "NotFound", r,
					   "%s \"%s\" not found in namespace \"%s\"",
					   model_json_resource(r->kind), r->name, r->ns);
		return api_send_json(conn, MHD_HTTP_OK, model_json_object(r->kind, obj));
	}
	if (strcmp(method, "PUT") == 0)
		return api_write(a, conn, method, r, q);
	if (strcmp(method, "DELETE") == 0)
		return api_stage(a, conn, method, r, r->name, q);
	return api_not_allowed(conn, r, method, "GET, PUT, DELETE");
}

static enum MHD_Result
api_list(struct api *a, struct MHD_Connection *conn, const char *method, const struct api_route *r,
	 struct api_req *q)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return api_send_json(
		    conn, MHD_HTTP_OK,
		    model_json_list(a->c.apply->c.model, r->kind, r->ns[0] ? r->ns : NULL));
	if (strcmp(method, "POST") == 0 && r->ns[0] != '\0')
		return api_write(a, conn, method, r, q);
	return api_not_allowed(conn, r, method, r->ns[0] ? "GET, POST" : "GET");
}

static enum MHD_Result
api_metrics(struct api *a, struct MHD_Connection *conn)
{
	size_t len = 64 * 1024;
	char *buf = NULL;
	int n = -ENOSPC;

	if (a->c.metrics == NULL)
		return api_statusf(conn, MHD_HTTP_NOT_FOUND, "NotFound", NULL,
				   "no metrics in this process");
	while (n == -ENOSPC && len <= API_METRICS_MAX) {
		char *nb = realloc(buf, len);
		if (nb == NULL)
			break;
		buf = nb;
		n = a->c.metrics(a->c.ctx, buf, len);
		len *= 2;
	}
	if (n < 0) {
		free(buf);
		return api_statusf(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", NULL,
				   "metrics: %s", strerror(-n));
	}
	buf[n] = '\0';
	return api_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, NULL,
			NULL);
}

static enum MHD_Result
api_conns(struct api *a, struct MHD_Connection *conn)
{
	const char *lim = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	unsigned long limit = API_CONNS_LIMIT_DEFAULT;
	struct api_conn *v;
	char *end;
	int n = 0;

	if (lim != NULL) {
		errno = 0;
		limit = strtoul(lim, &end, 10);
		if (errno != 0 || end == lim || *end != '\0' || lim[0] == '-' || limit == 0 ||
		    limit > API_CONNS_LIMIT_MAX)
			return api_statusf(conn, MHD_HTTP_BAD_REQUEST, "BadRequest", NULL,
					   "limit: must be a number between 1 and %u",
					   API_CONNS_LIMIT_MAX);
	}
	v = calloc(limit, sizeof(*v));
	if (v == NULL)
		return MHD_NO;
	if (a->c.conns != NULL)
		n = a->c.conns(a->c.ctx, v, (unsigned)limit);
	if (n < 0)
		n = 0;
	char *json = api_conns_json(v, (unsigned)n);
	free(v);
	return api_send_json(conn, MHD_HTTP_OK, json);
}

static enum MHD_Result
api_dispatch(struct api *a, struct MHD_Connection *conn, const char *url, const char *method,
	     struct api_req *q)
{
	struct api_route r;
	char why[256] = "";

	api_route_parse(url, &r);
	if (a->has_token && r.type != API_ROUTE_HEALTHZ && r.type != API_ROUTE_READYZ &&
	    !api_token_ok(a->token, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								MHD_HTTP_HEADER_AUTHORIZATION)))
		return api_status(conn, MHD_HTTP_UNAUTHORIZED, "Unauthorized",
				  "a valid bearer token is required", NULL, NULL, NULL,
				  MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"edgelb\"");
	if (q->too_big)
		return api_too_large(a, conn);

	/* reads of the model wait for the changes of this round */
	if (a->c.apply->group && (r.type == API_ROUTE_OBJECT || r.type == API_ROUTE_LIST) &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
		q->method = method;
		return api_wait(a, conn, q);
	}
	switch (r.type) {
	case API_ROUTE_OBJECT:
		return api_object(a, conn, method, &r, q);
	case API_ROUTE_LIST:
		return api_list(a, conn, method, &r, q);
	case API_ROUTE_NONE:
		return api_statusf(conn, MHD_HTTP_NOT_FOUND, "NotFound", NULL,
				   "the server could not find the requested resource %s", url);
	default:
		break;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return api_not_allowed(conn, &r, method, "GET");
	switch (r.type) {
	case API_ROUTE_HEALTHZ:
		return api_send(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", strdup("ok"), NULL,
				NULL);
	case API_ROUTE_READYZ:
		if (a->c.ready != NULL && a->c.ready(a->c.ctx, why, sizeof(why)) < 0) {
			char text[300];
			snprintf(text, sizeof(text), "not ready: %s", why[0] ? why : "starting");
			return api_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					"text/plain; charset=utf-8", strdup(text), NULL, NULL);
		}
		return api_send(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", strdup("ok"), NULL,
				NULL);
	case API_ROUTE_METRICS:
		return api_metrics(a, conn);
	case API_ROUTE_CONNS:
		return api_conns(a, conn);
	default:
		return MHD_NO;
	}
}

static enum MHD_Result
api_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *q = *con_cls;

	(void)version;
	if (q != NULL && q->answered) {
		/* resumed after the group commit */
		enum MHD_Result ret =
		    api_apply_answer(a, conn, q->method, &q->route, q->name, &q->res);
		apply_result_clear(&q->res);
		q->answered = false;
		return ret;
	}
	if (q != NULL && q->retry) {
		q->retry = false;
		return api_dispatch(a, conn, url, method, q);
	}
	if (q == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *expect =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

		q = calloc(1, sizeof(*q));
		if (q == NULL)
			return MHD_NO;
		*con_cls = q;
		if (cl != NULL && strtoull(cl, NULL, 10) > a->c.max_body) {
			q->too_big = true;
			/* the client waits for a go-ahead or would send too much:
			 * answer now (an unauthorised client learns only 401) */
			if ((expect != NULL && strcasecmp(expect, "100-continue") == 0) ||
			    strtoull(cl, NULL, 10) > API_DISCARD_MAX)
				return api_dispatch(a, conn, url, method, q);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (q->too_big || q->len + n > a->c.max_body) {
			q->too_big = true;
			free(q->body);
			q->body = NULL;
			q->len = q->cap = 0;
			q->dropped += n;
			if (q->dropped > API_DISCARD_MAX)
				return api_dispatch(a, conn, url, method, q);
			return MHD_YES;
		}
		if (q->len + n + 1 > q->cap) {
			size_t ncap = q->cap ? q->cap : 4096;
			while (ncap < q->len + n + 1)
				ncap *= 2;
			char *nb = realloc(q->body, ncap);
			if (nb == NULL)
				return MHD_NO;
			q->body = nb;
			q->cap = ncap;
		}
		memcpy(q->body + q->len, upload, n);
		q->len += n;
		q->body[q->len] = '\0';
		return MHD_YES;
	}
	return api_dispatch(a, conn, url, method, q);
}

static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	      enum MHD_RequestTerminationCode toe)
{
	struct api_req *q = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q != NULL) {
		apply_result_clear(&q->res);
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

static void
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct api *a = cls;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != a->log_sec) {
		if (a->log_suppressed != 0)
			fprintf(stderr, "edgelb: api: %u more libmicrohttpd messages not logged\n",
				a->log_suppressed);
		a->log_sec = now.tv_sec;
		a->log_n = 0;
		a->log_suppressed = 0;
	}
	if (a->log_n >= API_LOG_PER_SEC) {
		a->log_suppressed++;
		return;
	}
	a->log_n++;
	fputs("edgelb: api: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- life cycle ---- */

static int
api_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, char *err,
		 size_t errlen)
{
	char host[64];
	const char *port;
	unsigned long p;
	char *end;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL || s[0] == '\0')
		s = "127.0.0.1:9180";
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		hl = (size_t)(close - s - 1);
		port = close + 2;
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
	} else {
		const char *colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - s);
		port = colon + 1;
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || p > 65535)
		goto bad;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto bad;
		*sl = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto bad;
		*sl = sizeof(*a4);
	}
	return 0;
bad:
	snprintf(err, errlen, "api.listen: \"%s\" is not IPv4:PORT or [IPv6]:PORT", s);
	return -EINVAL;
}

/* Read the token: the file's first line, surrounding blanks removed. */
static int
api_read_token(struct api *a, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *s = a->token;
	size_t n;

	if (f == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "api.token_file: %s: %s", path, strerror(errno));
		return rc;
	}
	if (fgets(a->token, sizeof(a->token), f) == NULL)
		a->token[0] = '\0';
	fclose(f);
	while (*s == ' ' || *s == '\t')
		s++;
	memmove(a->token, s, strlen(s) + 1);
	n = strlen(a->token);
	while (n > 0 && strchr(" \t\r\n", a->token[n - 1]) != NULL)
		a->token[--n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "api.token_file: %s: holds no token", path);
		return -EINVAL;
	}
	a->has_token = true;
	return 0;
}

/* Read a whole PEM file into a NUL-terminated malloc'd string. @p what is
 * the config key for messages; the content is never put in one. */
static int
api_read_pem(const char *what, const char *path, char **out, size_t *outlen, char *err,
	     size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc = 0;

	*out = NULL;
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "api.%s: %s: %s", what, path, strerror(-rc));
		return rc;
	}
	buf = malloc(API_PEM_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "api.%s: out of memory", what);
		return -ENOMEM;
	}
	n = fread(buf, 1, API_PEM_MAX + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "api.%s: %s: read error", what, path);
	} else if (n > API_PEM_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "api.%s: %s: larger than %u bytes", what, path, API_PEM_MAX);
	} else if (n == 0 || memchr(buf, '\0', n) != NULL) {
		rc = -EINVAL;
		snprintf(err, errlen, "api.%s: %s: not a PEM file", what, path);
	}
	fclose(f);
	if (rc < 0) {
		memset(buf, 0, API_PEM_MAX + 1);
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = API_PEM_MAX + 1;
	return 0;
}

/* Load the certificate and key when TLS is configured. */
static int
api_load_tls(struct api *a, const struct api_conf *c, char *err, size_t errlen)
{
	bool cert = c->tls_cert != NULL && c->tls_cert[0] != '\0';
	bool key = c->tls_key != NULL && c->tls_key[0] != '\0';
	size_t cert_len;
	int rc;

	if (!cert && !key)
		return 0;
	if (cert != key) {
		snprintf(err, errlen, "api.%s: required with api.%s (TLS needs both)",
			 cert ? "tls_key" : "tls_cert", cert ? "tls_cert" : "tls_key");
		return -EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "api.tls_cert: this libmicrohttpd has no TLS support");
		return -ENOTSUP;
	}
	rc = api_read_pem("tls_cert", c->tls_cert, &a->tls_cert, &cert_len, err, errlen);
	if (rc == 0)
		rc = api_read_pem("tls_key", c->tls_key, &a->tls_key, &a->tls_key_len, err, errlen);
	return rc;
}

/* Can the listen address be bound? Tells a TLS failure of libmicrohttpd
 * (which leaves no errno of its own) from an address in use. */
static bool
api_addr_free(const struct sockaddr_storage *ss, socklen_t sl)
{
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (const struct sockaddr *)ss, sl) == 0;
	close(fd);
	return ok;
}

/* Free what api_start() allocated, wiping the secrets first. */
static void
api_free(struct api *a)
{
	memset(a->token, 0, sizeof(a->token));
	if (a->tls_key != NULL)
		memset(a->tls_key, 0, a->tls_key_len);
	free(a->tls_key);
	free(a->tls_cert);
	free(a);
}

struct api *
api_start(const struct api_conf *c, char *err, size_t errlen)
{
	struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL}};
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct api *a;
	int rc;

	if (c->apply == NULL) {
		snprintf(err, errlen, "api: no model to serve");
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "api: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	a->c = *c;
	if (a->c.max_body == 0)
		a->c.max_body = API_MAX_BODY_DEFAULT;
	if (a->c.max_conns == 0)
		a->c.max_conns = API_MAX_CONNS_DEFAULT;
	if (a->c.max_conns_per_ip == 0)
		a->c.max_conns_per_ip = API_MAX_CONNS_PER_IP_DEFAULT;
	if (a->c.conn_timeout_s == 0)
		a->c.conn_timeout_s = API_CONN_TIMEOUT_DEFAULT;
	a->c.listen = NULL;
	a->c.token_file = NULL;

	rc = api_parse_listen(c->listen, &ss, &sl, err, errlen);
	if (rc == 0 && c->token_file != NULL && c->token_file[0] != '\0')
		rc = api_read_token(a, c->token_file, err, errlen);
	if (rc == 0)
		rc = api_load_tls(a, c, err, errlen);
	if (rc < 0) {
		api_free(a);
		errno = -rc;
		return NULL;
	}
	if (a->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
		tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
		tls_opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
#ifdef MHD_USE_EPOLL
	/* epoll: no FD_SETSIZE limit (EAL may hold many descriptors) */
	flags |= MHD_USE_EPOLL;
#endif
	errno = 0;
	a->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, api_access, a, MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, a,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	    a->c.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, a->c.max_conns_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, a->c.conn_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
	    api_completed, a, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (a->mhd == NULL) {
		rc = errno ? errno : EADDRINUSE;
		if (a->tls_cert != NULL && api_addr_free(&ss, sl)) {
			rc = EINVAL;
			snprintf(err, errlen,
				 "api.tls_cert: cannot serve TLS on %s: is api.tls_key the private "
				 "key of api.tls_cert (both PEM)?",
				 c->listen && c->listen[0] ? c->listen : "127.0.0.1:9180");
		} else {
			snprintf(err, errlen, "api.listen: cannot serve on %s: %s",
				 c->listen && c->listen[0] ? c->listen : "127.0.0.1:9180",
				 strerror(rc));
		}
		api_free(a);
		errno = rc;
		return NULL;
	}
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info != NULL ? info->port : 0;
	return a;
}

/* Commit the round's changes and resume every request that waited. */
static void
api_commit_round(struct api *a)
{
	if (a->c.apply->group)
		(void)apply_group_end(a->c.apply); /* failures are in each res */
	for (struct api_req *q = a->pending, *next; q != NULL; q = next) {
		next = q->next_pending;
		q->next_pending = NULL;
		q->waiting = false;
		if (q->res.code != 0)
			q->answered = true;
		else
			q->retry = true;
		MHD_resume_connection(q->conn);
	}
	a->pending = NULL;
	a->n_pending = 0;
}

int
api_poll(struct api *a, unsigned timeout_ms)
{
	int rc = 0;

	if (timeout_ms > INT32_MAX)
		timeout_ms = INT32_MAX;
	if (MHD_run_wait(a->mhd, (int32_t)timeout_ms) != MHD_YES)
		rc = errno == EINTR ? 0 : -EIO;
	if (a->n_pending > 0) {
		api_commit_round(a);
		/* answer the resumed requests now rather than at the next wait */
		if (MHD_run(a->mhd) != MHD_YES && rc == 0)
			rc = -EIO;
	}
	return rc;
}

uint16_t
api_port(const struct api *a)
{
	return a->port;
}

bool
api_tls(const struct api *a)
{
	return a->tls_cert != NULL;
}

void
api_stop(struct api *a)
{
	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	api_free(a);
}
