/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: REST request handling without sockets. The input is one or
 * more requests separated by a line "%%":
 *
 *   METHOD PATH
 *   CONTENT-TYPE (also tried as an Authorization header value)
 *   BODY...
 *
 * Each request goes the way api.c takes it: api_route_parse(),
 * api_media_type(), the JSON-object check, apply_body_scan() for a POST to
 * a collection, then apply_put() / apply_delete() on the live model, or the
 * JSON of a GET. The requests of one input share one model (starting with
 * a NodePort Service, its Endpoints and a LoadBalancer Service) so a
 * sequence can build on earlier changes.
 *
 * Promises checked (apply.h, api.h):
 * - a refused change leaves the model (every List as JSON) and the
 *   published snapshot as they were, with an HTTP code of 400, 404, 409,
 *   422 or 500 and a message;
 * - an accepted change answers 200 or 201 with the stored object and
 *   publishes exactly one snapshot;
 * - a route that parses has a namespace and name that fit and are non-empty.
 * A broken promise is reported with abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#include "../../control/api.h"
#include "../../control/apply.h"

#define FUZZ_API_MAX_REQUESTS 16

static const char fuzz_api_base[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
    "spec: {type: NodePort, ports: [{name: http, port: 80, targetPort: 8080}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: default}\n"
    "subsets: [{addresses: [{ip: 198.18.2.11}], ports: [{name: http, port: 8080}]}]\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {name: lb, namespace: default}\n"
    "spec: {type: LoadBalancer, ports: [{port: 443}]}\n";

static struct el_config fuzz_api_cfg;

struct fuzz_api_env {
	struct el_model model;
	struct compile_state *cs;
	struct el_snapshot *current;
	unsigned published;
	struct apply ap;
};

static void
fuzz_api_require(int cond, const char *what, const char *detail)
{
	if (!cond) {
		fprintf(stderr, "fuzz_api: broken promise: %s\n%s\n", what, detail ? detail : "");
		abort();
	}
}

static int
fuzz_api_publish(void *ctx, struct el_snapshot *snap)
{
	struct fuzz_api_env *e = ctx;

	compile_snapshot_free(e->cs, e->current);
	e->current = snap;
	e->published++;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct el_config *c = &fuzz_api_cfg;

	(void)argc;
	(void)argv;
	config_defaults(c);
	c->maglev_table_size = 251;
	el_ip_parse("198.18.0.100", &c->pools[0].first);
	el_ip_parse("198.18.0.103", &c->pools[0].last);
	c->n_pools = 1;
	c->n_ifaces = 1;
	snprintf(c->ifaces[0].name, sizeof(c->ifaces[0].name), "ext");
	el_cidr_parse("198.18.0.1/24", &c->ifaces[0].addrs[0]);
	c->ifaces[0].n_addrs = 1;
	return 0;
}

static char *
fuzz_api_state(const struct el_model *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fuzz_api_require(f != NULL, "open_memstream", NULL);
	for (int k = 0; k < EL_KIND_COUNT; k++) {
		char *list = model_json_list(m, (enum el_kind)k, NULL);

		fuzz_api_require(list != NULL, "model_json_list", NULL);
		fprintf(f, "%s\n", list);
		free(list);
	}
	fclose(f);
	return out;
}

static void
fuzz_api_env_init(struct fuzz_api_env *e)
{
	char err[512];
	int rc;

	memset(e, 0, sizeof(*e));
	el_model_init(&e->model);
	rc = manifest_load_buf(&e->model, fuzz_api_base, strlen(fuzz_api_base), "base", err,
			       sizeof(err));
	fuzz_api_require(rc == 0, "the base objects load", err);
	e->cs = compile_state_new(&fuzz_api_cfg);
	fuzz_api_require(e->cs != NULL, "compile_state_new", NULL);
	rc = compile_snapshot(e->cs, &e->model, &e->current, err, sizeof(err));
	fuzz_api_require(rc == 0, "the base objects compile", err);
	apply_init(&e->ap, &(struct apply_conf){.cfg = &fuzz_api_cfg,
						.model = &e->model,
						.cs = e->cs,
						.store = NULL,
						.publish = fuzz_api_publish,
						.publish_ctx = e});
	rc = apply_start(&e->ap, false);
	fuzz_api_require(rc == 0, "apply_start", NULL);
}

static void
fuzz_api_env_free(struct fuzz_api_env *e)
{
	compile_snapshot_free(e->cs, e->current);
	compile_state_free(e->cs);
	el_model_free(&e->model);
}

/* Check the outcome of one change against the state before it. */
static void
fuzz_api_check_change(struct fuzz_api_env *e, int rc, const struct apply_result *res,
		      const char *before, unsigned published)
{
	char *after = fuzz_api_state(&e->model);

	if (rc < 0) {
		fuzz_api_require(res->code == 400 || res->code == 404 || res->code == 409 ||
				     res->code == 422 || res->code == 500,
				 "a refusal has a 4xx/500 code", res->message);
		fuzz_api_require(res->message[0] != '\0' && res->object == NULL,
				 "a refusal has a message and no object", res->message);
		fuzz_api_require(strcmp(before, after) == 0,
				 "a refused change leaves the model as it was", res->message);
		fuzz_api_require(e->published == published, "a refused change publishes nothing",
				 res->message);
	} else {
		fuzz_api_require(rc == 0 && (res->code == 200 || res->code == 201),
				 "an accepted change answers 200 or 201", res->message);
		fuzz_api_require(res->object != NULL && res->object[0] == '{',
				 "an accepted change answers with the object", NULL);
		fuzz_api_require(e->published == published + 1,
				 "an accepted change publishes one snapshot", NULL);
	}
	free(after);
}

static void
fuzz_api_get(struct fuzz_api_env *e, const struct api_route *r)
{
	const void *obj;
	char *json;

	if (r->type == API_ROUTE_LIST) {
		json = model_json_list(&e->model, r->kind, r->ns[0] ? r->ns : NULL);
		fuzz_api_require(json != NULL, "a List renders", NULL);
		free(json);
		return;
	}
	if (r->kind == EL_KIND_SERVICE)
		obj = model_find_service(&e->model, r->ns, r->name);
	else if (r->kind == EL_KIND_ENDPOINTS)
		obj = model_find_endpoints(&e->model, r->ns, r->name);
	else
		obj = model_find_slice(&e->model, r->ns, r->name);
	if (obj != NULL) {
		json = model_json_object(r->kind, obj);
		fuzz_api_require(json != NULL, "an object renders", NULL);
		free(json);
	}
}

/* One request: "METHOD PATH\nCONTENT-TYPE\nBODY". */
static void
fuzz_api_request(struct fuzz_api_env *e, const char *req, size_t len)
{
	char line[512], method[16], path[sizeof(line)], ctype[256];
	const char *nl = memchr(req, '\n', len), *body = "", *nl2;
	size_t blen = 0, n;
	struct api_route r;
	struct apply_result res;
	struct apply_body_info info;
	char err[256], *before;
	unsigned published;
	int rc;

	n = nl ? (size_t)(nl - req) : len;
	if (n >= sizeof(line) || memchr(req, '\0', n) != NULL)
		return;
	memcpy(line, req, n);
	line[n] = '\0';
	ctype[0] = '\0';
	if (nl != NULL) {
		const char *rest = nl + 1;
		size_t rlen = len - (size_t)(rest - req);

		nl2 = memchr(rest, '\n', rlen);
		n = nl2 ? (size_t)(nl2 - rest) : rlen;
		if (n < sizeof(ctype) && memchr(rest, '\0', n) == NULL) {
			memcpy(ctype, rest, n);
			ctype[n] = '\0';
		}
		if (nl2 != NULL) {
			body = nl2 + 1;
			blen = len - (size_t)(body - req);
		}
	}
	if (sscanf(line, "%15s %511s", method, path) != 2)
		return;

	/* the pure parts on their own */
	(void)api_token_ok("s3cret-token", ctype);
	(void)api_token_ok("", ctype);
	int media = api_media_type(ctype);
	if (api_route_parse(path, &r) < 0) {
		fuzz_api_require(r.type == API_ROUTE_NONE, "a refused path has no route", path);
		return;
	}
	if (r.type == API_ROUTE_OBJECT)
		fuzz_api_require(r.ns[0] != '\0' && r.name[0] != '\0',
				 "an object route names a namespace and an object", path);
	if (r.type != API_ROUTE_OBJECT && r.type != API_ROUTE_LIST)
		return;
	if (strcmp(method, "GET") == 0) {
		fuzz_api_get(e, &r);
		return;
	}

	before = fuzz_api_state(&e->model);
	published = e->published;
	memset(&res, 0, sizeof(res));
	if (strcmp(method, "DELETE") == 0 && r.type == API_ROUTE_OBJECT) {
		rc = apply_delete(&e->ap, r.kind, r.ns, r.name, &res);
		fuzz_api_check_change(e, rc, &res, before, published);
	} else if ((strcmp(method, "PUT") == 0 && r.type == API_ROUTE_OBJECT) ||
		   (strcmp(method, "POST") == 0 && r.type == API_ROUTE_LIST && r.ns[0])) {
		const char *name = r.name;
		size_t i = 0;

		if (media == 0)
			goto out;
		if (media == 1) {
			while (i < blen && strchr(" \t\r\n", body[i]) != NULL && body[i] != '\0')
				i++;
			if (i == blen || body[i] != '{')
				goto out;
		}
		if (r.type == API_ROUTE_LIST) {
			if (apply_body_scan(body, blen, &info, err, sizeof(err)) < 0 ||
			    !info.has_name || info.long_name || info.name[0] == '\0')
				goto out;
			name = info.name;
		}
		rc = apply_put(&e->ap, r.kind, r.ns, name, body, blen, r.type == API_ROUTE_LIST,
			       &res);
		fuzz_api_check_change(e, rc, &res, before, published);
	}
out:
	apply_result_clear(&res);
	free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n%%\n";
	const char *p = (const char *)data, *end = p + size;
	struct fuzz_api_env e;
	unsigned n = 0;

	fuzz_api_env_init(&e);
	while (p < end && n++ < FUZZ_API_MAX_REQUESTS) {
		const char *s = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
		size_t len = s ? (size_t)(s - p) : (size_t)(end - p);

		/* api.c keeps a request body NUL-terminated */
		char *copy = malloc(len + 1);
		fuzz_api_require(copy != NULL, "malloc", NULL);
		memcpy(copy, p, len);
		copy[len] = '\0';
		fuzz_api_request(&e, copy, len);
		free(copy);
		p = s ? s + sizeof(sep) - 1 : end;
	}
	fuzz_api_env_free(&e);
	return 0;
}
