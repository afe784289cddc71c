/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the REST API's HTTP layer: which paths it serves, which
 * media types and tokens it takes, and, on a real server bound to a free
 * loopback port and driven by api_poll() from this thread, what each kind of
 * request is answered with (codes, Status bodies, Allow and
 * WWW-Authenticate headers, the body cap).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/model.h"

#include "../../control/api.h"
#include "../../control/apply.h"
#include "../../control/store.h"

/* ---- routes, media types, tokens ---- */

static void
route(const char *path, enum api_route_type type, enum el_kind kind, const char *ns,
      const char *name)
{
	struct api_route r;
	int rc = api_route_parse(path, &r);

	if (r.type != type)
		fail_msg("%s: type %d, expected %d", path, r.type, type);
	assert_int_equal(rc, type == API_ROUTE_NONE ? -ENOENT : 0);
	if (type == API_ROUTE_OBJECT || type == API_ROUTE_LIST) {
		assert_int_equal(r.kind, kind);
		assert_string_equal(r.ns, ns);
		assert_string_equal(r.name, name);
	}
}

static void
object_paths_name_kind_namespace_and_name(void **state)
{
	(void)state;
	route("/api/v1/namespaces/default/services/web", API_ROUTE_OBJECT, EL_KIND_SERVICE,
	      "default", "web");
	route("/api/v1/namespaces/prod/endpoints/db.v1", API_ROUTE_OBJECT, EL_KIND_ENDPOINTS,
	      "prod", "db.v1");
	route("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc",
	      API_ROUTE_OBJECT, EL_KIND_SLICE, "default", "web-abc");
}

static void
list_paths_cover_one_namespace_or_all(void **state)
{
	(void)state;
	route("/api/v1/services", API_ROUTE_LIST, EL_KIND_SERVICE, "", "");
	route("/api/v1/endpoints", API_ROUTE_LIST, EL_KIND_ENDPOINTS, "", "");
	route("/apis/discovery.k8s.io/v1/endpointslices", API_ROUTE_LIST, EL_KIND_SLICE, "", "");
	route("/api/v1/namespaces/prod/services", API_ROUTE_LIST, EL_KIND_SERVICE, "prod", "");
	route("/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices", API_ROUTE_LIST,
	      EL_KIND_SLICE, "prod", "");
}

static void
appliance_paths_are_served(void **state)
{
	(void)state;
	route("/healthz", API_ROUTE_HEALTHZ, 0, NULL, NULL);
	route("/readyz", API_ROUTE_READYZ, 0, NULL, NULL);
	route("/metrics", API_ROUTE_METRICS, 0, NULL, NULL);
	route("/api/v1/conns", API_ROUTE_CONNS, 0, NULL, NULL);
}

static void
other_paths_are_not_served(void **state)
{
	char longname[400];

	(void)state;
	route("/", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v1/namespaces/default/services/web/", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v1/namespaces/default/services/web/status", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v1/namespaces/default", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v1/namespaces//services/web", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v1/namespaces/default/endpointslices/x", API_ROUTE_NONE, 0, NULL, NULL);
	route("/apis/discovery.k8s.io/v1/namespaces/default/services/x", API_ROUTE_NONE, 0, NULL,
	      NULL);
	route("/api/v1/pods", API_ROUTE_NONE, 0, NULL, NULL);
	route("/api/v2/services", API_ROUTE_NONE, 0, NULL, NULL);
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "/api/v1/namespaces/default/services/", 36);
	longname[sizeof(longname) - 1] = '\0';
	route(longname, API_ROUTE_NONE, 0, NULL, NULL);
}

static void
json_and_yaml_media_types_are_taken(void **state)
{
	(void)state;
	assert_int_equal(api_media_type("application/json"), 1);
	assert_int_equal(api_media_type("application/json; charset=utf-8"), 1);
	assert_int_equal(api_media_type("Application/JSON"), 1);
	assert_int_equal(api_media_type("application/yaml"), 2);
	assert_int_equal(api_media_type("application/x-yaml;charset=utf-8"), 2);
	assert_int_equal(api_media_type("text/plain"), 0);
	assert_int_equal(api_media_type("application/jsonx"), 0);
	assert_int_equal(api_media_type("application/merge-patch+json"), 0);
	assert_int_equal(api_media_type(""), 0);
	assert_int_equal(api_media_type(NULL), 0);
}

static void
only_the_exact_bearer_token_is_taken(void **state)
{
	(void)state;
	assert_true(api_token_ok("s3cret", "Bearer s3cret"));
	assert_true(api_token_ok("s3cret", "bearer s3cret"));
	assert_true(api_token_ok("s3cret", "Bearer  s3cret "));
	assert_false(api_token_ok("s3cret", "Bearer s3cre"));
	assert_false(api_token_ok("s3cret", "Bearer s3cretX"));
	assert_false(api_token_ok("s3cret", "Bearer S3cret"));
	assert_false(api_token_ok("s3cret", "Basic czNjcmV0"));
	assert_false(api_token_ok("s3cret", "s3cret"));
	assert_false(api_token_ok("s3cret", NULL));
	assert_false(api_token_ok("", "Bearer "));
}

/* ---- a live server ---- */

struct fixture {
	char dir[64];
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs;
	struct store *st;
	struct apply ap;
	struct el_snapshot *current;
	struct api *api;
	bool ready;
	unsigned metrics_calls;
	unsigned conns_max;
	char resp[1 << 18];
	int code;
};

static int
stub_publish(void *ctx, struct el_snapshot *snap)
{
	struct fixture *f = ctx;

	compile_snapshot_free(f->cs, f->current);
	f->current = snap;
	return 0;
}

static int
stub_ready(void *ctx, char *why, size_t len)
{
	struct fixture *f = ctx;

	if (f->ready)
		return 0;
	snprintf(why, len, "port ext is down");
	return -EAGAIN;
}

/* Needs 100000 bytes; says so the way stats_render_prometheus() does. */
static int
stub_metrics(void *ctx, char *buf, size_t len)
{
	struct fixture *f = ctx;
	const size_t need = 100000;

	f->metrics_calls++;
	if (len <= need)
		return -ENOSPC;
	memset(buf, '#', need);
	memcpy(buf + need - 30, "\nedgelb_snapshot_generation 7\n", 30);
	buf[need] = '\0';
	return (int)need;
}

static int
stub_conns(void *ctx, struct api_conn *out, unsigned max)
{
	struct fixture *f = ctx;

	f->conns_max = max;
	memset(out, 0, sizeof(*out));
	el_ip_parse("198.18.100.1", &out[0].client);
	out[0].proto = 6;
	return 1;
}

static unsigned start_max_conns, start_timeout_s;

static int
start(void **state, const char *token, size_t max_body)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256], tokpath[128];
	struct el_snapshot *first = NULL;

	config_defaults(&f->cfg);
	el_model_init(&f->model);
	f->cs = compile_state_new(&f->cfg);
	snprintf(f->dir, sizeof(f->dir), "/tmp/edgelb-http-XXXXXX");
	if (f->cs == NULL || mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, &f->st, err, sizeof(err)) != 0 ||
	    compile_snapshot(f->cs, &f->model, &first, err, sizeof(err)) != 0)
		return -1;
	f->current = first;
	apply_init(&f->ap, &(struct apply_conf){.cfg = &f->cfg,
						.model = &f->model,
						.cs = f->cs,
						.store = f->st,
						.publish = stub_publish,
						.publish_ctx = f});
	snprintf(tokpath, sizeof(tokpath), "%s/token", f->dir);
	if (token != NULL) {
		FILE *fp = fopen(tokpath, "w");
		fprintf(fp, "%s\n", token);
		fclose(fp);
	}
	f->ready = true;
	f->api = api_start(&(struct api_conf){.listen = "127.0.0.1:0",
					      .token_file = token ? tokpath : NULL,
					      .max_body = max_body,
					      .max_conns = start_max_conns,
					      .conn_timeout_s = start_timeout_s,
					      .apply = &f->ap,
					      .ctx = f,
					      .ready = stub_ready,
					      .metrics = stub_metrics,
					      .conns = stub_conns},
			   err, sizeof(err));
	if (f->api == NULL) {
		fprintf(stderr, "api_start: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return start(state, NULL, 4096);
}

static int
setup_token(void **state)
{
	return start(state, "s3cret-token", 0);
}

/* Two connections at most, closed after one idle second. */
static int
setup_tight(void **state)
{
	int rc;

	start_max_conns = 2;
	start_timeout_s = 1;
	rc = start(state, NULL, 0);
	start_max_conns = start_timeout_s = 0;
	return rc;
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

	api_stop(f->api);
	compile_snapshot_free(f->cs, f->current);
	compile_state_free(f->cs);
	el_model_free(&f->model);
	store_close(f->st);
	config_free(&f->cfg);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/*
 * Send @p head (and @p body_len bytes of @p body) and read the answer until
 * the server closes, running the server with api_poll() in between. The
 * answer's status code goes to f->code, the answer to f->resp.
 */
static void
http_raw(struct fixture *f, const char *head, const char *body, size_t body_len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(api_port(f->api))};
	size_t hlen = strlen(head), sent = 0, got = 0;
	time_t deadline = time(NULL) + 10;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	f->resp[0] = '\0';
	for (;;) {
		if (time(NULL) > deadline)
			fail_msg("no answer within 10 s");
		api_poll(f->api, 5);
		while (sent < hlen + body_len) {
			const char *p = sent < hlen ? head + sent : body + (sent - hlen);
			size_t n = sent < hlen ? hlen - sent : hlen + body_len - sent;
			ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			sent += (size_t)w;
		}
		ssize_t r = recv(fd, f->resp + got, sizeof(f->resp) - 1 - got, 0);
		if (r > 0) {
			got += (size_t)r;
			f->resp[got] = '\0';
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
	}
	close(fd);
	f->code = 0;
	sscanf(f->resp, "HTTP/1.1 %d", &f->code);
}

static void
http(struct fixture *f, const char *method, const char *path, const char *headers, const char *body)
{
	char head[2048];
	size_t blen = body ? strlen(body) : 0;

	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s"
		 "Content-Length: %zu\r\n\r\n",
		 method, path, headers ? headers : "", blen);
	http_raw(f, head, body, blen);
}

static const char *
resp_body(struct fixture *f)
{
	const char *b = strstr(f->resp, "\r\n\r\n");

	return b ? b + 4 : "";
}

static void
expect(struct fixture *f, int code, const char *needle)
{
	if (f->code != code)
		fail_msg("expected %d, got %d:\n%s", code, f->code, f->resp);
	if (needle != NULL && strstr(f->resp, needle) == NULL)
		fail_msg("answer lacks \"%s\":\n%s", needle, f->resp);
}

#define JSON "Content-Type: application/json\r\n"
#define YAML "Content-Type: application/yaml\r\n"

static const char web_json[] = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
			       "\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"type\":"
			       "\"NodePort\",\"ports\":[{\"port\":80,\"targetPort\":8080}]}}";

static void
healthz_answers_ok(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/healthz", NULL, NULL);
	expect(f, 200, "ok");
}

static void
readyz_says_why_it_is_not_ready(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/readyz", NULL, NULL);
	expect(f, 200, NULL);
	f->ready = false;
	http(f, "GET", "/readyz", NULL, NULL);
	expect(f, 503, "port ext is down");
}

static void
unknown_path_is_a_not_found_status(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/api/v1/pods", NULL, NULL);
	expect(f, 404, "\"kind\":\"Status\"");
	expect(f, 404, "\"reason\":\"NotFound\"");
}

static void
put_then_get_shows_the_allocation(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web", JSON, web_json);
	expect(f, 201, "\"nodePort\":30000");
	expect(f, 201, "Content-Type: application/json");
	http(f, "GET", "/api/v1/namespaces/default/services/web", NULL, NULL);
	expect(f, 200, "\"nodePort\":30000");
	http(f, "GET", "/api/v1/services", NULL, NULL);
	expect(f, 200, "\"kind\":\"ServiceList\"");
	expect(f, 200, "\"name\":\"web\"");
}

static void
yaml_body_is_taken(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/endpoints/web", YAML,
	     "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
	     "subsets: [{addresses: [{ip: 198.18.2.11}], ports: [{port: 8080}]}]\n");
	expect(f, 201, "\"kind\":\"Endpoints\"");
}

static void
get_of_an_absent_object_is_not_found(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/api/v1/namespaces/default/services/nothing", NULL, NULL);
	expect(f, 404, "\"reason\":\"NotFound\"");
	expect(f, 404, "\"name\":\"nothing\"");
}

static void
other_media_types_are_unsupported(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web", "Content-Type: text/plain\r\n",
	     web_json);
	expect(f, 415, "\"reason\":\"UnsupportedMediaType\"");
	http(f, "PUT", "/api/v1/namespaces/default/services/web", NULL, web_json);
	expect(f, 415, NULL);
	http(f, "GET", "/api/v1/namespaces/default/services/web", NULL, NULL);
	expect(f, 404, NULL);
}

static void
yaml_sent_as_json_is_bad_request(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web", JSON,
	     "apiVersion: v1\nkind: Service\n");
	expect(f, 400, "\"reason\":\"BadRequest\"");
}

static void
field_errors_name_the_field(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web", YAML,
	     "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	     "spec: {ports: [{port: 0}]}\n");
	expect(f, 422, "\"reason\":\"Invalid\"");
	expect(f, 422, "\"field\":\"spec.ports[0].port\"");
}

static void
body_over_the_cap_is_too_large(void **state)
{
	struct fixture *f = *state;
	size_t n = 64 * 1024;
	char *big = malloc(n + 1);

	memset(big, ' ', n);
	memcpy(big, web_json, strlen(web_json));
	big[n] = '\0';
	http(f, "PUT", "/api/v1/namespaces/default/services/web", JSON, big);
	expect(f, 413, "\"reason\":\"RequestEntityTooLarge\"");
	http(f, "GET", "/api/v1/namespaces/default/services/web", NULL, NULL);
	expect(f, 404, NULL);
	free(big);
}

static void
announced_large_body_is_refused_before_it_is_sent(void **state)
{
	struct fixture *f = *state;

	http_raw(f,
		 "PUT /api/v1/namespaces/default/services/web HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nContent-Length: 10000000\r\n"
		 "Expect: 100-continue\r\n\r\n",
		 NULL, 0);
	expect(f, 413, NULL);
	assert_null(strstr(f->resp, "100 Continue"));
}

static void
wrong_method_lists_the_allowed_ones(void **state)
{
	struct fixture *f = *state;

	http(f, "POST", "/api/v1/namespaces/default/services/web", JSON, web_json);
	expect(f, 405, "Allow: GET, PUT, DELETE");
	expect(f, 405, "\"reason\":\"MethodNotAllowed\"");
	http(f, "DELETE", "/healthz", NULL, NULL);
	expect(f, 405, "Allow: GET");
}

static void
post_to_a_collection_creates_once(void **state)
{
	struct fixture *f = *state;

	http(f, "POST", "/api/v1/namespaces/default/services", JSON, web_json);
	expect(f, 201, "\"name\":\"web\"");
	http(f, "POST", "/api/v1/namespaces/default/services", JSON, web_json);
	expect(f, 409, "\"reason\":\"AlreadyExists\"");
}

static void
delete_answers_with_the_deleted_object(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web", JSON, web_json);
	expect(f, 201, NULL);
	http(f, "DELETE", "/api/v1/namespaces/default/services/web", NULL, NULL);
	expect(f, 200, "\"name\":\"web\"");
	http(f, "DELETE", "/api/v1/namespaces/default/services/web", NULL, NULL);
	expect(f, 404, NULL);
}

static void
metrics_buffer_grows_until_the_text_fits(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/metrics", NULL, NULL);
	expect(f, 200, "edgelb_snapshot_generation 7");
	expect(f, 200, "text/plain; version=0.0.4");
	assert_true(f->metrics_calls >= 2);
	assert_true(strlen(resp_body(f)) == 100000);
}

static void
conns_limit_is_checked_and_passed_on(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/api/v1/conns?limit=abc", NULL, NULL);
	expect(f, 400, "limit");
	http(f, "GET", "/api/v1/conns?limit=0", NULL, NULL);
	expect(f, 400, NULL);
	http(f, "GET", "/api/v1/conns?limit=5", NULL, NULL);
	expect(f, 200, "\"client\":\"198.18.100.1:0\"");
	assert_int_equal(f->conns_max, 5);
	http(f, "GET", "/api/v1/conns", NULL, NULL);
	assert_int_equal(f->conns_max, API_CONNS_LIMIT_DEFAULT);
}

static void
without_the_token_requests_are_unauthorized(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/api/v1/services", NULL, NULL);
	expect(f, 401, "\"reason\":\"Unauthorized\"");
	expect(f, 401, "WWW-Authenticate: Bearer");
	assert_null(strstr(f->resp, "s3cret-token"));
	http(f, "PUT", "/api/v1/namespaces/default/services/web",
	     JSON "Authorization: Bearer wrong\r\n", web_json);
	expect(f, 401, NULL);
	http(f, "GET", "/metrics", NULL, NULL);
	expect(f, 401, NULL);
	http(f, "GET", "/api/v1/namespaces/default/services/web",
	     "Authorization: Bearer s3cret-token\r\n", NULL);
	expect(f, 404, NULL);
}

static void
with_the_token_requests_are_served(void **state)
{
	struct fixture *f = *state;

	http(f, "PUT", "/api/v1/namespaces/default/services/web",
	     JSON "Authorization: Bearer s3cret-token\r\n", web_json);
	expect(f, 201, NULL);
	http(f, "GET", "/api/v1/services", "Authorization: Bearer s3cret-token\r\n", NULL);
	expect(f, 200, "\"name\":\"web\"");
}

static void
probes_need_no_token(void **state)
{
	struct fixture *f = *state;

	http(f, "GET", "/healthz", NULL, NULL);
	expect(f, 200, NULL);
	http(f, "GET", "/readyz", NULL, NULL);
	expect(f, 200, NULL);
}

static int
connect_idle(struct fixture *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(api_port(f->api))};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Run the server for up to @p ms; true when the server closed @p fd. */
static bool
closed_within(struct fixture *f, int fd, unsigned ms)
{
	char c;

	for (unsigned t = 0; t < ms; t += 10) {
		api_poll(f->api, 10);
		ssize_t r = recv(fd, &c, 1, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
	}
	return false;
}

static void
idle_connection_is_closed_after_the_timeout(void **state)
{
	struct fixture *f = *state;
	int fd = connect_idle(f);

	/* half a request, then silence */
	assert_int_equal(send(fd, "GET /healthz HTTP/1.1\r\n", 24, 0), 24);
	assert_false(closed_within(f, fd, 300));
	assert_true(closed_within(f, fd, 3000));
	close(fd);
}

static void
connections_beyond_the_limit_are_closed(void **state)
{
	struct fixture *f = *state;
	int a = connect_idle(f), b = connect_idle(f), c;

	assert_false(closed_within(f, a, 100));
	c = connect_idle(f);
	assert_true(closed_within(f, c, 500));
	assert_false(closed_within(f, b, 100));
	close(a);
	close(b);
	close(c);
	/* the API answers again once it has seen them go */
	for (int i = 0; i < 20; i++)
		api_poll(f->api, 5);
	http(f, "GET", "/healthz", NULL, NULL);
	expect(f, 200, "ok");
}

static void
bad_listen_address_is_refused(void **state)
{
	struct apply ap = {0};
	char err[256];

	(void)state;
	assert_null(api_start(&(struct api_conf){.listen = "localhost:80", .apply = &ap}, err,
			      sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "localhost:80"));
	assert_null(
	    api_start(&(struct api_conf){.listen = "[::1:80", .apply = &ap}, err, sizeof(err)));
}

static void
empty_token_file_is_refused(void **state)
{
	struct apply ap = {0};
	char err[256], path[] = "/tmp/edgelb-token-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n  \n", 4), 4);
	close(fd);
	assert_null(
	    api_start(&(struct api_conf){.listen = "127.0.0.1:0", .token_file = path, .apply = &ap},
		      err, sizeof(err)));
	assert_non_null(strstr(err, "no token"));
	unlink(path);
}

#define T(name)	 cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TT(name) cmocka_unit_test_setup_teardown(name, setup_token, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(object_paths_name_kind_namespace_and_name),
	    cmocka_unit_test(list_paths_cover_one_namespace_or_all),
	    cmocka_unit_test(appliance_paths_are_served),
	    cmocka_unit_test(other_paths_are_not_served),
	    cmocka_unit_test(json_and_yaml_media_types_are_taken),
	    cmocka_unit_test(only_the_exact_bearer_token_is_taken),
	    T(healthz_answers_ok),
	    T(readyz_says_why_it_is_not_ready),
	    T(unknown_path_is_a_not_found_status),
	    T(put_then_get_shows_the_allocation),
	    T(yaml_body_is_taken),
	    T(get_of_an_absent_object_is_not_found),
	    T(other_media_types_are_unsupported),
	    T(yaml_sent_as_json_is_bad_request),
	    T(field_errors_name_the_field),
	    T(body_over_the_cap_is_too_large),
	    T(announced_large_body_is_refused_before_it_is_sent),
	    T(wrong_method_lists_the_allowed_ones),
	    T(post_to_a_collection_creates_once),
	    T(delete_answers_with_the_deleted_object),
	    T(metrics_buffer_grows_until_the_text_fits),
	    T(conns_limit_is_checked_and_passed_on),
	    TT(without_the_token_requests_are_unauthorized),
	    TT(with_the_token_requests_are_served),
	    TT(probes_need_no_token),
	    cmocka_unit_test_setup_teardown(idle_connection_is_closed_after_the_timeout,
					    setup_tight, teardown),
	    cmocka_unit_test_setup_teardown(connections_beyond_the_limit_are_closed, setup_tight,
					    teardown),
	    cmocka_unit_test(bad_listen_address_is_refused),
	    cmocka_unit_test(empty_token_file_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
