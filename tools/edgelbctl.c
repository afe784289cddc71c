/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl: command-line client of the edgelb REST API. It applies and
 * deletes Kubernetes manifests (Services, Endpoints, EndpointSlices), lists
 * them as kubectl-like tables, shows live connections and a summary of the
 * Prometheus metrics, and describes one Service with its endpoints.
 *
 * Exit status: 0 success, 1 refused by the server or failed, 2 usage error.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_buf.h"
#include "ctl_doc.h"
#include "ctl_http.h"
#include "ctl_manifest.h"
#include "ctl_prom.h"
#include "ctl_table.h"

#ifndef EL_VERSION
#define EL_VERSION "dev"
#endif

#define EDGELBCTL_DEFAULT_SERVER     "http://127.0.0.1:9180"
#define EDGELBCTL_DEFAULT_TIMEOUT_MS 10000
#define EDGELBCTL_DEFAULT_LIMIT	     500
#define EDGELBCTL_MAX_FILES	     64

/* Flags seen on the command line; each command accepts a subset. */
enum {
	OPT_NS = 1 << 0,
	OPT_ALL = 1 << 1,
	OPT_OUTPUT = 1 << 2,
	OPT_FILE = 1 << 3,
	OPT_LIMIT = 1 << 4,
	OPT_IGNORE_NF = 1 << 5,
};

enum edgelbctl_output { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_YAML, OUT_NAME };

struct edgelbctl_opts {
	const char *server;
	const char *token_file;
	int timeout_ms;
	const char *ns;
	bool all_ns;
	enum edgelbctl_output output;
	const char *files[EDGELBCTL_MAX_FILES];
	size_t n_files;
	long limit;
	bool ignore_not_found;
	bool help;
	unsigned seen;
	char **args;
	size_t n_args;
};

struct edgelbctl {
	struct edgelbctl_opts o;
	struct ctl_http_client http;
	char *token;
};

struct edgelbctl_cmd {
	const char *name;
	unsigned allowed;
	int (*run)(struct edgelbctl *c);
	const char *usage;
};

static const struct edgelbctl_cmd *edgelbctl_find(const char *name);

/* ---- messages ---- */

static int edgelbctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
edgelbctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nSee 'edgelbctl --help' for usage.\n", stderr);
	return -EINVAL;
}

static const char *
edgelbctl_reason_of(int status)
{
	switch (status) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	default:
		return NULL;
	}
}

/*
 * Print a refused request as kubectl does: "Error from server (Reason):
 * [context: ]message". The message comes from the Status object of the
 * answer, else from the status line and the start of the body.
 */
static void
edgelbctl_print_refusal(const struct ctl_http_resp *r, const char *context)
{
	struct ctl_node *st = NULL;
	const char *reason = NULL, *message = NULL;
	char err[64];

	if (r->body_len > 0 && ctl_doc_load_one(r->body, r->body_len, &st, err, sizeof(err)) == 0 &&
	    ctl_doc_is(ctl_doc_get(st, "kind"), "Status")) {
		reason = ctl_doc_str(st, "reason", NULL);
		message = ctl_doc_str(st, "message", NULL);
	}
	if (reason == NULL || *reason == '\0')
		reason = edgelbctl_reason_of(r->status);
	if (reason == NULL)
		reason = r->reason[0] != '\0' ? r->reason : "Unknown";
	fprintf(stderr, "Error from server (%s): ", reason);
	if (context != NULL)
		fprintf(stderr, "%s: ", context);
	if (message != NULL && *message != '\0') {
		fprintf(stderr, "%s\n", message);
	} else {
		int n = (int)strcspn(r->body != NULL ? r->body : "", "\r\n");

		fprintf(stderr, "the server answered %d %s%s%.*s\n", r->status, r->reason,
			n > 0 ? ": " : "", n > 200 ? 200 : n, r->body != NULL ? r->body : "");
	}
	ctl_doc_free(st);
}

/* ---- requests ---- */

/* One request; a transport failure is printed and returned (negative). */
static int
edgelbctl_call(struct edgelbctl *c, const char *method, const char *path, const char *body,
	       size_t body_len, struct ctl_http_resp *r)
{
	char err[512];
	int rc;

	rc = ctl_http_request(&c->http, method, path, body, body_len, r, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "error: %s\n", err);
	return rc;
}

static bool
edgelbctl_ok(const struct ctl_http_resp *r)
{
	return r->status >= 200 && r->status < 300;
}

/*
 * GET a JSON document. On 404 with allow_missing, *doc is NULL and 0 is
 * returned. Any other failure is printed; returns a negative errno.
 */
static int
edgelbctl_get_json(struct edgelbctl *c, const char *path, bool allow_missing, const char *context,
		   struct ctl_node **doc)
{
	struct ctl_http_resp r;
	char err[256];
	int rc;

	*doc = NULL;
	rc = edgelbctl_call(c, "GET", path, NULL, 0, &r);
	if (rc < 0)
		return rc;
	if (r.status == 404 && allow_missing) {
		ctl_http_resp_free(&r);
		return 0;
	}
	if (!edgelbctl_ok(&r)) {
		edgelbctl_print_refusal(&r, context);
		ctl_http_resp_free(&r);
		return -EPROTO;
	}
	rc = ctl_doc_load_one(r.body, r.body_len, doc, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "error: the answer to GET %s is not JSON: %s\n", path, err);
	ctl_http_resp_free(&r);
	return rc < 0 ? -EBADMSG : 0;
}

/* ---- output ---- */

static int
edgelbctl_print_doc(const struct ctl_node *doc, enum edgelbctl_output out)
{
	struct ctl_buf b = {0};
	int rc;

	if (out == OUT_JSON) {
		rc = ctl_doc_to_json(doc, 4, &b);
		if (rc == 0)
			rc = ctl_buf_adds(&b, "\n");
	} else {
		rc = ctl_doc_to_yaml(doc, &b);
	}
	if (rc == 0)
		fputs(ctl_buf_str(&b), stdout);
	else
		fprintf(stderr, "error: cannot format the answer: %s\n", strerror(-rc));
	ctl_buf_free(&b);
	return rc;
}

/* Items of a List answer, or the answer itself when it is a bare array. */
static const struct ctl_node *
edgelbctl_items(const struct ctl_node *doc)
{
	const struct ctl_node *items;

	if (doc != NULL && doc->type == CTL_NODE_SEQ)
		return doc;
	items = ctl_doc_seq(doc, "items", NULL);
	if (items == NULL)
		items = ctl_doc_seq(doc, "conns", NULL);
	if (items == NULL)
		items = ctl_doc_seq(doc, "flows", NULL);
	return items;
}

/* ---- options ---- */

static int
edgelbctl_parse_output(const char *v, enum edgelbctl_output *out)
{
	static const struct {
		const char *name;
		enum edgelbctl_output out;
	} formats[] = {
	    {"json", OUT_JSON},
	    {"yaml", OUT_YAML},
	    {"wide", OUT_WIDE},
	    {"name", OUT_NAME},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(v, formats[i].name) == 0) {
			*out = formats[i].out;
			return 0;
		}
	}
	return edgelbctl_usage_error("unknown output format \"%s\" (json, yaml, wide, name)", v);
}

static int
edgelbctl_parse_long(const char *flag, const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || (*end != '\0' && strcmp(end, "s") != 0) || n < lo || n > hi)
		return edgelbctl_usage_error("%s wants a number from %ld to %ld, not \"%s\"", flag,
					     lo, hi, v);
	*out = n;
	return 0;
}

/* Options that take a value: long name, short letter. */
static const struct {
	const char *lname;
	char sname;
} edgelbctl_valued[] = {
    {"server", 's'},	{"token-file", 0}, {"timeout", 0},    {"request-timeout", 0},
    {"namespace", 'n'}, {"output", 'o'},   {"filename", 'f'}, {"limit", 0},
};

static int
edgelbctl_set(struct edgelbctl_opts *o, const char *name, const char *v)
{
	long n;
	int rc;

	if (strcmp(name, "server") == 0) {
		o->server = v;
	} else if (strcmp(name, "token-file") == 0) {
		o->token_file = v;
	} else if (strcmp(name, "timeout") == 0 || strcmp(name, "request-timeout") == 0) {
		rc = edgelbctl_parse_long("--timeout", v, 1, 3600, &n);
		if (rc < 0)
			return rc;
		o->timeout_ms = (int)n * 1000;
	} else if (strcmp(name, "namespace") == 0) {
		if (*v == '\0')
			return edgelbctl_usage_error("-n wants a namespace");
		o->ns = v;
		o->seen |= OPT_NS;
	} else if (strcmp(name, "output") == 0) {
		rc = edgelbctl_parse_output(v, &o->output);
		if (rc < 0)
			return rc;
		o->seen |= OPT_OUTPUT;
	} else if (strcmp(name, "filename") == 0) {
		if (o->n_files == EDGELBCTL_MAX_FILES)
			return edgelbctl_usage_error("more than %d -f options",
						     EDGELBCTL_MAX_FILES);
		o->files[o->n_files++] = v;
		o->seen |= OPT_FILE;
	} else if (strcmp(name, "limit") == 0) {
		rc = edgelbctl_parse_long("--limit", v, 1, 10000000, &o->limit);
		if (rc < 0)
			return rc;
		o->seen |= OPT_LIMIT;
	}
	return 0;
}

static int
edgelbctl_parse_args(int argc, char **argv, struct edgelbctl_opts *o)
{
	bool flags_done = false;

	o->args = calloc((size_t)argc + 1, sizeof(*o->args));
	if (o->args == NULL)
		return -ENOMEM;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name = NULL, *value = NULL;
		bool is_long;
		size_t k;

		if (flags_done || a[0] != '-' || a[1] == '\0') {
			o->args[o->n_args++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
			continue;
		}
		if (strcmp(a, "-A") == 0 || strcmp(a, "--all-namespaces") == 0) {
			o->all_ns = true;
			o->seen |= OPT_ALL;
			continue;
		}
		if (strcmp(a, "--ignore-not-found") == 0) {
			o->ignore_not_found = true;
			o->seen |= OPT_IGNORE_NF;
			continue;
		}
		is_long = a[1] == '-';
		for (k = 0; k < sizeof(edgelbctl_valued) / sizeof(edgelbctl_valued[0]); k++) {
			size_t ln = strlen(edgelbctl_valued[k].lname);

			if (is_long && strncmp(a + 2, edgelbctl_valued[k].lname, ln) == 0 &&
			    (a[2 + ln] == '\0' || a[2 + ln] == '=')) {
				name = edgelbctl_valued[k].lname;
				value = a[2 + ln] == '=' ? a + 3 + ln : NULL;
				break;
			}
			if (!is_long && edgelbctl_valued[k].sname != 0 &&
			    a[1] == edgelbctl_valued[k].sname) {
				name = edgelbctl_valued[k].lname;
				value = a[2] == '\0' ? NULL : (a[2] == '=' ? a + 3 : a + 2);
				break;
			}
		}
		if (name == NULL)
			return edgelbctl_usage_error("unknown option %s", a);
		if (value == NULL) {
			if (i + 1 >= argc)
				return edgelbctl_usage_error("option %s needs a value", a);
			value = argv[++i];
		}
		int rc = edgelbctl_set(o, name, value);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
edgelbctl_read_token(struct edgelbctl *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "error: token file %s: %s\n", path, strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n") != NULL || n == sizeof(buf) - 1) {
		fprintf(stderr, "error: token file %s: expected one line holding the token\n",
			path);
		return -EINVAL;
	}
	c->token = strdup(buf);
	return c->token != NULL ? 0 : -ENOMEM;
}

static int
edgelbctl_connect_setup(struct edgelbctl *c)
{
	int rc = ctl_http_url_parse(c->o.server, &c->http.url);

	if (rc == -EPROTONOSUPPORT)
		return edgelbctl_usage_error("--server %s: only http:// is supported", c->o.server);
	if (rc < 0)
		return edgelbctl_usage_error("--server %s: not a URL like http://HOST:PORT",
					     c->o.server);
	c->http.server = c->o.server;
	c->http.timeout_ms = c->o.timeout_ms;
	if (c->o.token_file != NULL) {
		rc = edgelbctl_read_token(c, c->o.token_file);
		if (rc < 0)
			return rc == -EINVAL ? -EIO : rc;
	}
	c->http.token = c->token;
	return 0;
}

/* ---- apply / delete ---- */

static int
edgelbctl_load(struct edgelbctl *c, struct ctl_manifest *m, const char *verb)
{
	char err[512];

	if (c->o.n_files == 0)
		return edgelbctl_usage_error("%s needs -f FILE|DIR|-", verb);
	for (size_t i = 0; i < c->o.n_files; i++) {
		int rc = ctl_manifest_add_path(m, c->o.files[i], c->o.ns, err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "error: %s\n", err);
			return rc == -EINVAL ? -EBADMSG : rc;
		}
	}
	if (m->n == 0) {
		fprintf(stderr, "error: no objects passed to %s\n", verb);
		return -ENOENT;
	}
	return 0;
}

static int
edgelbctl_send_manifest(struct edgelbctl *c, bool delete)
{
	struct ctl_manifest m = {0};
	bool failed = false;
	int rc;

	rc = edgelbctl_load(c, &m, delete ? "delete" : "apply");
	if (rc < 0) {
		ctl_manifest_free(&m);
		return rc;
	}
	ctl_manifest_sort(&m, delete);
	for (size_t i = 0; i < m.n; i++) {
		const struct ctl_object *o = &m.objs[i];
		const char *kind = ctl_manifest_kind_name(o->kind);
		struct ctl_buf body = {0};
		struct ctl_http_resp r;
		char path[2048], context[1024];

		if (o->error != NULL) {
			fprintf(stderr, "error: %s\n", o->error);
			failed = true;
			continue;
		}
		if (ctl_manifest_path(o->kind, o->ns, o->name, path, sizeof(path)) < 0) {
			fprintf(stderr, "error: %s: name or namespace too long\n", o->origin);
			failed = true;
			continue;
		}
		if (!delete &&ctl_doc_to_json(o->doc, 0, &body) < 0) {
			rc = -ENOMEM;
			break;
		}
		rc = edgelbctl_call(c, delete ? "DELETE" : "PUT", path, delete ? NULL : body.p,
				    body.len, &r);
		ctl_buf_free(&body);
		if (rc < 0)
			break; /* the server cannot be reached: stop here */
		if (edgelbctl_ok(&r)) {
			printf("%s/%s %s\n", kind, o->name,
			       delete ? "deleted" : (r.status == 201 ? "created" : "configured"));
		} else if (!(delete &&r.status == 404 && c->o.ignore_not_found)) {
			snprintf(context, sizeof(context), "error when %s %s/%s (%s)",
				 delete ? "deleting" : "applying", kind, o->name, o->origin);
			edgelbctl_print_refusal(&r, context);
			failed = true;
		}
		ctl_http_resp_free(&r);
	}
	ctl_manifest_free(&m);
	if (rc < 0)
		return rc;
	return failed ? -EPROTO : 0;
}

static int
edgelbctl_apply(struct edgelbctl *c)
{
	if (c->o.n_args > 1)
		return edgelbctl_usage_error("apply takes no arguments besides -f, got \"%s\"",
					     c->o.args[1]);
	return edgelbctl_send_manifest(c, false);
}

/* Split "KIND/NAME" or take KIND and NAME from two words. */
static int
edgelbctl_kind_name(const char *word, enum ctl_kind *k, const char **name)
{
	char kind[64];
	const char *slash = strchr(word, '/');
	size_t len = slash != NULL ? (size_t)(slash - word) : strlen(word);

	if (len >= sizeof(kind))
		return -ENOENT;
	memcpy(kind, word, len);
	kind[len] = '\0';
	*name = slash != NULL ? slash + 1 : NULL;
	return ctl_manifest_kind_word(kind, k);
}

/*
 * The objects named on the command line: "KIND NAME..." or "KIND/NAME...".
 * Every word is checked before anything is deleted.
 */
static int
edgelbctl_delete_named(struct edgelbctl *c)
{
	const char *ns = c->o.ns != NULL ? c->o.ns : "default";
	bool slashed = strchr(c->o.args[1], '/') != NULL;
	size_t first = slashed ? 1 : 2, n = c->o.n_args - first;
	enum ctl_kind kinds[n > 0 ? n : 1];
	const char *names[n > 0 ? n : 1];
	bool failed = false;

	if (n == 0)
		return edgelbctl_usage_error("delete %s needs a NAME", c->o.args[1]);
	for (size_t i = 0; i < n; i++) {
		const char *word = c->o.args[first + i];
		char path[2048];

		if (slashed && strchr(word, '/') == NULL)
			return edgelbctl_usage_error("\"%s\" is not KIND/NAME", word);
		if (slashed || i == 0) {
			const char *kw = slashed ? word : c->o.args[1];

			if (edgelbctl_kind_name(kw, &kinds[i], &names[i]) < 0)
				return edgelbctl_usage_error("cannot delete \"%s\": use service, "
							     "endpoints or endpointslice",
							     kw);
		} else {
			kinds[i] = kinds[0];
		}
		if (!slashed) {
			if (strchr(word, '/') != NULL)
				return edgelbctl_usage_error("use either KIND NAME... or "
							     "KIND/NAME..., not \"%s\"",
							     word);
			names[i] = word;
		} else if (names[i] == NULL) {
			return edgelbctl_usage_error("\"%s\" is not KIND/NAME", word);
		}
		if (*names[i] == '\0' || strchr(names[i], '/') != NULL ||
		    ctl_manifest_path(kinds[i], ns, names[i], path, sizeof(path)) < 0)
			return edgelbctl_usage_error("bad name \"%s\"", names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		struct ctl_http_resp r;
		char path[2048];
		int rc;

		ctl_manifest_path(kinds[i], ns, names[i], path, sizeof(path));
		rc = edgelbctl_call(c, "DELETE", path, NULL, 0, &r);
		if (rc < 0)
			return rc;
		if (edgelbctl_ok(&r)) {
			printf("%s/%s deleted\n", ctl_manifest_kind_name(kinds[i]), names[i]);
		} else if (!(r.status == 404 && c->o.ignore_not_found)) {
			edgelbctl_print_refusal(&r, NULL);
			failed = true;
		}
		ctl_http_resp_free(&r);
	}
	return failed ? -EPROTO : 0;
}

static int
edgelbctl_delete(struct edgelbctl *c)
{
	if (c->o.n_files > 0) {
		if (c->o.n_args > 1)
			return edgelbctl_usage_error("delete takes either -f or KIND NAME, not "
						     "both");
		return edgelbctl_send_manifest(c, true);
	}
	if (c->o.n_args < 2)
		return edgelbctl_usage_error("delete needs -f FILE or KIND NAME");
	return edgelbctl_delete_named(c);
}

/* ---- get ---- */

static bool
edgelbctl_any_timestamp(const struct ctl_node *items)
{
	for (size_t i = 0; items != NULL && i < items->n; i++)
		if (ctl_doc_str(items->items[i], "metadata", "creationTimestamp", NULL) != NULL)
			return true;
	return false;
}

static int
edgelbctl_table_row(struct ctl_table *t, enum ctl_kind k, const struct ctl_node *obj, bool all_ns,
		    bool wide, bool age, time_t now)
{
	const char *name = ctl_doc_str(obj, "metadata", "name", NULL);
	int rc = 0;

	if (all_ns)
		rc = ctl_table_add(t, ctl_doc_str(obj, "metadata", "namespace", NULL));
	if (rc == 0)
		rc = ctl_table_add(t, name != NULL ? name : "?");
	switch (k) {
	case CTL_KIND_SERVICE: {
		const char *type = ctl_doc_str(obj, "spec", "type", NULL);

		if (rc == 0)
			rc = ctl_table_add(t, type != NULL ? type : "ClusterIP");
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_svc_cluster_ips(obj));
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_svc_external_ip(obj));
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_svc_ports(obj));
		break;
	}
	case CTL_KIND_ENDPOINTS:
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_endpoints(obj));
		break;
	case CTL_KIND_ENDPOINTSLICE: {
		const char *at = ctl_doc_str(obj, "addressType", NULL);

		if (rc == 0)
			rc = ctl_table_add(t, at != NULL ? at : "<unset>");
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_slice_ports(obj));
		if (rc == 0)
			rc = ctl_table_take(t, ctl_table_slice_endpoints(obj));
		break;
	}
	default:
		break;
	}
	if (rc == 0 && age) {
		char buf[32];

		ctl_table_age(obj, now, buf, sizeof(buf));
		rc = ctl_table_add(t, buf);
	}
	if (rc == 0 && wide && k == CTL_KIND_SERVICE)
		rc = ctl_table_take(t, ctl_table_svc_selector(obj));
	return rc;
}

static int
edgelbctl_print_objects(struct edgelbctl *c, enum ctl_kind k, const struct ctl_node *items)
{
	static const char *const heads[CTL_KIND_COUNT][5] = {
	    [CTL_KIND_SERVICE] = {"TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", NULL},
	    [CTL_KIND_ENDPOINTS] = {"ENDPOINTS", NULL},
	    [CTL_KIND_ENDPOINTSLICE] = {"ADDRESSTYPE", "PORTS", "ENDPOINTS", NULL},
	};
	bool wide = c->o.output == OUT_WIDE && k == CTL_KIND_SERVICE;
	bool age = edgelbctl_any_timestamp(items);
	time_t now = time(NULL);
	struct ctl_table t;
	size_t cols = 1;
	int rc = 0;

	if (c->o.output == OUT_NAME) {
		for (size_t i = 0; i < items->n; i++)
			printf("%s/%s\n", ctl_manifest_kind_name(k),
			       ctl_doc_str(items->items[i], "metadata", "name", NULL) ?: "?");
		return 0;
	}
	for (size_t i = 0; heads[k][i] != NULL; i++)
		cols++;
	cols += (c->o.all_ns ? 1 : 0) + (age ? 1 : 0) + (wide ? 1 : 0);
	ctl_table_init(&t, cols);
	if (c->o.all_ns)
		rc = ctl_table_add(&t, "NAMESPACE");
	if (rc == 0)
		rc = ctl_table_add(&t, "NAME");
	for (size_t i = 0; rc == 0 && heads[k][i] != NULL; i++)
		rc = ctl_table_add(&t, heads[k][i]);
	if (rc == 0 && age)
		rc = ctl_table_add(&t, "AGE");
	if (rc == 0 && wide)
		rc = ctl_table_add(&t, "SELECTOR");
	for (size_t i = 0; rc == 0 && i < items->n; i++)
		rc = edgelbctl_table_row(&t, k, items->items[i], c->o.all_ns, wide, age, now);
	if (rc == 0)
		rc = ctl_table_print(&t, stdout, "");
	ctl_table_free(&t);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", strerror(-rc));
	return rc;
}

static void
edgelbctl_conn_addr(const struct ctl_node *flow, const char *key, char *buf, size_t len)
{
	const struct ctl_node *n = ctl_doc_get(flow, key);
	const char *ip, *port;

	snprintf(buf, len, "-");
	if (n == NULL)
		return;
	if (n->type != CTL_NODE_MAP) {
		if (ctl_doc_str(n, NULL) != NULL)
			snprintf(buf, len, "%s", n->text);
		return;
	}
	ip = ctl_doc_str(n, "ip", NULL);
	if (ip == NULL)
		ip = ctl_doc_str(n, "address", NULL);
	port = ctl_doc_str(n, "port", NULL);
	if (ip != NULL && port != NULL && strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%s", ip, port);
	else if (ip != NULL && port != NULL)
		snprintf(buf, len, "%s:%s", ip, port);
	else if (ip != NULL)
		snprintf(buf, len, "%s", ip);
}

static void
edgelbctl_conn_secs(const struct ctl_node *flow, const char *key, char *buf, size_t len)
{
	char alt[32];
	const struct ctl_node *n = ctl_doc_get(flow, key);

	if (n == NULL) {
		snprintf(alt, sizeof(alt), "%s_s", key);
		n = ctl_doc_get(flow, alt);
	}
	if (n != NULL && (n->type == CTL_NODE_INT || n->type == CTL_NODE_FLOAT))
		ctl_table_duration((long long)strtod(n->text, NULL), buf, len);
	else if (ctl_doc_str(n, NULL) != NULL)
		snprintf(buf, len, "%s", n->text);
	else
		snprintf(buf, len, "-");
}

static int
edgelbctl_print_conns(struct edgelbctl *c, const struct ctl_node *flows)
{
	static const char *const heads[] = {"CLIENT", "FRONTEND", "BACKEND", "PROTO",
					    "STATE",  "AGE",	  "IDLE"};
	bool wide = c->o.output == OUT_WIDE;
	size_t nh = sizeof(heads) / sizeof(heads[0]);
	struct ctl_table t;
	int rc = 0;

	ctl_table_init(&t, nh + (wide ? 2 : 0));
	for (size_t i = 0; rc == 0 && i < nh; i++)
		rc = ctl_table_add(&t, heads[i]);
	if (rc == 0 && wide)
		rc = ctl_table_add(&t, "SNAT");
	if (rc == 0 && wide)
		rc = ctl_table_add(&t, "SERVICE");
	for (size_t i = 0; rc == 0 && i < flows->n; i++) {
		const struct ctl_node *f = flows->items[i];
		const char *proto = ctl_doc_str(f, "proto", NULL);
		const char *state = ctl_doc_str(f, "state", NULL);
		char buf[128];

		if (proto == NULL)
			proto = ctl_doc_str(f, "protocol", NULL);
		edgelbctl_conn_addr(f, "client", buf, sizeof(buf));
		rc = ctl_table_add(&t, buf);
		edgelbctl_conn_addr(f, "frontend", buf, sizeof(buf));
		rc = rc ?: ctl_table_add(&t, buf);
		edgelbctl_conn_addr(f, "backend", buf, sizeof(buf));
		rc = rc ?: ctl_table_add(&t, buf);
		rc = rc ?: ctl_table_add(&t, proto != NULL ? proto : "-");
		rc = rc ?: ctl_table_add(&t, state != NULL ? state : "-");
		edgelbctl_conn_secs(f, "age", buf, sizeof(buf));
		rc = rc ?: ctl_table_add(&t, buf);
		edgelbctl_conn_secs(f, "idle", buf, sizeof(buf));
		rc = rc ?: ctl_table_add(&t, buf);
		if (wide) {
			const char *svc = ctl_doc_str(f, "service", NULL);

			edgelbctl_conn_addr(f, "snat", buf, sizeof(buf));
			rc = rc ?: ctl_table_add(&t, buf);
			rc = rc ?: ctl_table_add(&t, svc != NULL ? svc : "-");
		}
	}
	if (rc == 0)
		rc = ctl_table_print(&t, stdout, "");
	ctl_table_free(&t);
	return rc;
}

static int
edgelbctl_get_conns(struct edgelbctl *c)
{
	long limit = (c->o.seen & OPT_LIMIT) ? c->o.limit : EDGELBCTL_DEFAULT_LIMIT;
	const struct ctl_node *flows;
	struct ctl_node *doc;
	char path[64];
	int rc;

	if (c->o.seen & (OPT_NS | OPT_ALL))
		return edgelbctl_usage_error("get conns takes no namespace");
	if (c->o.n_args > 2)
		return edgelbctl_usage_error("get conns takes no name");
	snprintf(path, sizeof(path), "/api/v1/conns?limit=%ld", limit);
	rc = edgelbctl_get_json(c, path, false, NULL, &doc);
	if (rc < 0)
		return rc;
	if (c->o.output == OUT_JSON || c->o.output == OUT_YAML) {
		rc = edgelbctl_print_doc(doc, c->o.output);
	} else if ((flows = edgelbctl_items(doc)) == NULL) {
		fprintf(stderr, "error: the answer to GET %s holds no list of flows\n", path);
		rc = -EBADMSG;
	} else if (flows->n == 0) {
		fprintf(stderr, "No connections.\n");
	} else {
		rc = edgelbctl_print_conns(c, flows);
	}
	ctl_doc_free(doc);
	return rc;
}

static int
edgelbctl_get(struct edgelbctl *c)
{
	const char *ns = c->o.ns != NULL ? c->o.ns : "default";
	const struct ctl_node *items;
	struct ctl_node *doc = NULL, *one = NULL;
	const char *name = NULL;
	char path[2048];
	enum ctl_kind k;
	int rc;

	if (c->o.n_args < 2)
		return edgelbctl_usage_error("get needs a kind: services, endpoints, "
					     "endpointslices or conns");
	if (strcmp(c->o.args[1], "conns") == 0 || strcmp(c->o.args[1], "connections") == 0)
		return edgelbctl_get_conns(c);
	if (c->o.seen & OPT_LIMIT)
		return edgelbctl_usage_error("--limit is for get conns");
	if (edgelbctl_kind_name(c->o.args[1], &k, &name) < 0)
		return edgelbctl_usage_error("unknown kind \"%s\" (services, endpoints, "
					     "endpointslices, conns)",
					     c->o.args[1]);
	if (name == NULL && c->o.n_args >= 3)
		name = c->o.args[2];
	if (c->o.n_args > (strchr(c->o.args[1], '/') != NULL ? 2u : 3u))
		return edgelbctl_usage_error("get takes one name at most");
	if (name != NULL && c->o.all_ns)
		return edgelbctl_usage_error("a name cannot be used with -A");
	if (name != NULL && *name == '\0')
		return edgelbctl_usage_error("empty name");
	if (ctl_manifest_path(k, c->o.all_ns ? NULL : ns, name, path, sizeof(path)) < 0)
		return edgelbctl_usage_error("name or namespace too long");
	if (name != NULL) {
		rc = edgelbctl_get_json(c, path, false, NULL, &one);
		if (rc < 0)
			return rc;
		if (c->o.output == OUT_JSON || c->o.output == OUT_YAML) {
			rc = edgelbctl_print_doc(one, c->o.output);
		} else {
			struct ctl_node fake = {.type = CTL_NODE_SEQ, .n = 1, .items = &one};

			rc = edgelbctl_print_objects(c, k, &fake);
		}
		ctl_doc_free(one);
		return rc;
	}
	rc = edgelbctl_get_json(c, path, false, NULL, &doc);
	if (rc < 0)
		return rc;
	items = edgelbctl_items(doc);
	if (c->o.output == OUT_JSON || c->o.output == OUT_YAML) {
		rc = edgelbctl_print_doc(doc, c->o.output);
	} else if (items == NULL) {
		fprintf(stderr, "error: the answer to GET %s is not a List\n", path);
		rc = -EBADMSG;
	} else if (items->n == 0) {
		if (c->o.all_ns)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
	} else {
		rc = edgelbctl_print_objects(c, k, items);
	}
	ctl_doc_free(doc);
	return rc;
}

/* ---- stats ---- */

static void
edgelbctl_num(double v, char *buf, size_t len)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e18)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
}

/* A table of the samples named `name`, one column per label plus a value. */
static int
edgelbctl_stats_table(const struct ctl_prom *p, const char *title, const char *name,
		      const char *const *labels, const char *value_head, bool nonzero)
{
	size_t nl = 0, rows = 0;
	struct ctl_table t;
	int rc = 0;

	while (labels[nl] != NULL)
		nl++;
	ctl_table_init(&t, nl + 1);
	for (size_t i = 0; rc == 0 && i < nl; i++) {
		char head[64];
		size_t j;

		for (j = 0; labels[i][j] != '\0' && j + 1 < sizeof(head); j++)
			head[j] = (char)(labels[i][j] >= 'a' && labels[i][j] <= 'z'
					     ? labels[i][j] - 'a' + 'A'
					     : labels[i][j]);
		head[j] = '\0';
		rc = ctl_table_add(&t, head);
	}
	if (rc == 0)
		rc = ctl_table_add(&t, value_head);
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		const struct ctl_prom_sample *s = &p->samples[i];
		char num[64];

		if (strcmp(s->name, name) != 0 || (nonzero && s->value == 0))
			continue;
		for (size_t j = 0; rc == 0 && j < nl; j++) {
			const char *v = ctl_prom_label(s, labels[j]);

			rc = ctl_table_add(&t, v != NULL ? v : "-");
		}
		edgelbctl_num(s->value, num, sizeof(num));
		if (rc == 0)
			rc = ctl_table_add(&t, num);
		rows++;
	}
	printf("%s\n", title);
	if (rc == 0 && rows == 0)
		printf("  none\n");
	else if (rc == 0)
		rc = ctl_table_print(&t, stdout, "  ");
	ctl_table_free(&t);
	return rc;
}

static int
edgelbctl_stats(struct edgelbctl *c)
{
	static const char *const pkt_labels[] = {"port", "direction", NULL};
	static const char *const drop_labels[] = {"reason", NULL};
	static const char *const svc_labels[] = {"service", NULL};
	static const char *const be_labels[] = {"service", "backend", NULL};
	struct ctl_http_resp r;
	struct ctl_prom p;
	unsigned line = 0;
	size_t found;
	char num[64];
	double v;
	int rc;

	if (c->o.n_args > 1)
		return edgelbctl_usage_error("stats takes no arguments");
	rc = edgelbctl_call(c, "GET", "/metrics", NULL, 0, &r);
	if (rc < 0)
		return rc;
	if (!edgelbctl_ok(&r)) {
		edgelbctl_print_refusal(&r, NULL);
		ctl_http_resp_free(&r);
		return -EPROTO;
	}
	rc = ctl_prom_parse(r.body, r.body_len, &p, &line);
	ctl_http_resp_free(&r);
	if (rc < 0) {
		fprintf(stderr, "error: /metrics line %u is not in the Prometheus text format\n",
			line);
		return rc == -EINVAL ? -EBADMSG : rc;
	}
	rc = edgelbctl_stats_table(&p, "Packets:", "edgelb_packets_total", pkt_labels, "PACKETS",
				   false);
	printf("\n");
	rc = rc
		 ?: edgelbctl_stats_table(&p, "Drops (non-zero):", "edgelb_drops_total",
					  drop_labels, "PACKETS", true);
	printf("\n");
	v = ctl_prom_sum(&p, "edgelb_flows_active", &found);
	edgelbctl_num(v, num, sizeof(num));
	printf("Flows active:          %s\n", found > 0 ? num : "-");
	v = ctl_prom_sum(&p, "edgelb_snapshot_generation", &found);
	edgelbctl_num(v, num, sizeof(num));
	printf("Snapshot generation:   %s\n", found > 0 ? num : "-");
	v = ctl_prom_sum(&p, "edgelb_snapshot_publish_seconds", &found);
	if (found > 0)
		printf("Last publish:          %.6f s\n", v);
	printf("\n");
	rc = rc
		 ?: edgelbctl_stats_table(&p, "Flows created per service:",
					  "edgelb_flows_created_total", svc_labels, "FLOWS", false);
	ctl_prom_sum(&p, "edgelb_backend_flows_active", &found);
	if (rc == 0 && found > 0) {
		printf("\n");
		rc = edgelbctl_stats_table(
		    &p, "Active flows per backend:", "edgelb_backend_flows_active", be_labels,
		    "FLOWS", false);
	}
	ctl_prom_free(&p);
	return rc;
}

/* ---- describe ---- */

static void
edgelbctl_field(const char *label, const char *value)
{
	char l[64];

	snprintf(l, sizeof(l), "%s:", label);
	printf("%-26s%s\n", l, value != NULL && *value != '\0' ? value : "<none>");
}

static void
edgelbctl_field_map(const char *label, const struct ctl_node *map)
{
	struct ctl_buf b = {0};

	for (size_t i = 0; map != NULL && map->type == CTL_NODE_MAP && i < map->n; i++) {
		const char *v = ctl_doc_str(map->items[i], NULL);

		ctl_buf_addf(&b, "%s%s=%s", i > 0 ? "\n                          " : "",
			     map->keys[i]->text, v != NULL ? v : "");
	}
	edgelbctl_field(label, ctl_buf_str(&b));
	ctl_buf_free(&b);
}

static void
edgelbctl_field_list(const char *label, const struct ctl_node *seq)
{
	struct ctl_buf b = {0};

	for (size_t i = 0; seq != NULL && i < seq->n; i++) {
		const char *v = ctl_doc_str(seq->items[i], NULL);

		if (v != NULL)
			ctl_buf_addf(&b, "%s%s", b.len > 0 ? "," : "", v);
	}
	edgelbctl_field(label, ctl_buf_str(&b));
	ctl_buf_free(&b);
}

/* Active flows of a backend IP of service ns/name, summed over ports. */
static double
edgelbctl_backend_flows(const struct ctl_prom *p, const char *ns, const char *name, const char *ip,
			bool *found)
{
	char svc[600];
	size_t svc_len;
	double sum = 0;

	snprintf(svc, sizeof(svc), "%s/%s", ns, name);
	svc_len = strlen(svc);
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const struct ctl_prom_sample *s = &p->samples[i];
		const char *sl, *bl;
		size_t ip_len = strlen(ip);

		if (strcmp(s->name, "edgelb_backend_flows_active") != 0)
			continue;
		*found = true;
		sl = ctl_prom_label(s, "service");
		bl = ctl_prom_label(s, "backend");
		if (sl == NULL || bl == NULL || strncmp(sl, svc, svc_len) != 0 ||
		    (sl[svc_len] != '\0' && sl[svc_len] != ':'))
			continue;
		if (bl[0] == '[')
			bl++;
		if (strncmp(bl, ip, ip_len) == 0 &&
		    (bl[ip_len] == '\0' || bl[ip_len] == ':' || bl[ip_len] == ']'))
			sum += s->value;
	}
	return sum;
}

static const char *
edgelbctl_cond(const struct ctl_node *conds, const char *key, const char *dflt)
{
	const struct ctl_node *n = ctl_doc_get(conds, key);

	if (n == NULL || n->type == CTL_NODE_NULL)
		return dflt;
	return n->text != NULL ? n->text : dflt;
}

/* "name:port/PROTO,..." for the ports of an Endpoints subset or a slice. */
static void
edgelbctl_ports_cell(const struct ctl_node *ports, struct ctl_buf *b)
{
	for (size_t i = 0; ports != NULL && i < ports->n; i++) {
		const char *pn = ctl_doc_str(ports->items[i], "name", NULL);
		const char *pp = ctl_doc_str(ports->items[i], "port", NULL);
		const char *pr = ctl_doc_str(ports->items[i], "protocol", NULL);
		bool named = pn != NULL && *pn != '\0';

		ctl_buf_addf(b, "%s%s%s%s/%s", b->len > 0 ? "," : "", named ? pn : "",
			     named ? ":" : "", pp != NULL ? pp : "*", pr != NULL ? pr : "TCP");
	}
}

/* What one backend row shows. */
struct edgelbctl_backend {
	const char *ip;
	const char *ports;
	const char *ready, *serving, *terminating;
	const char *source;
};

static int
edgelbctl_backend_row(struct ctl_table *t, const struct edgelbctl_backend *be,
		      const struct ctl_prom *prom, const char *ns, const char *name,
		      bool with_flows)
{
	const char *cells[] = {be->ip,	    be->ports,	     be->ready,
			       be->serving, be->terminating, be->source};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(cells) / sizeof(cells[0]); i++)
		rc = ctl_table_add(t, cells[i]);
	if (rc == 0 && with_flows) {
		char num[32];
		bool found;

		edgelbctl_num(edgelbctl_backend_flows(prom, ns, name, be->ip, &found), num,
			      sizeof(num));
		rc = ctl_table_add(t, num);
	}
	return rc;
}

/*
 * The endpoints of a service, one row per address: from its Endpoints
 * object (addresses ready, notReadyAddresses not) and from its
 * EndpointSlices with their conditions; active flows per backend when
 * /metrics reports edgelb_backend_flows_active.
 */
static int
edgelbctl_describe_backends(const char *ns, const char *name, const struct ctl_node *ep,
			    const struct ctl_node *slices, const struct ctl_prom *prom)
{
	static const char *const heads[] = {"ADDRESS",	   "PORTS",  "READY", "SERVING",
					    "TERMINATING", "SOURCE", "FLOWS"};
	const struct ctl_node *subsets = ctl_doc_seq(ep, "subsets", NULL);
	bool with_flows = false;
	struct ctl_table t;
	char src[300];
	int rc = 0;

	/* Learn whether the metric exists before choosing the columns. */
	edgelbctl_backend_flows(prom, ns, name, "", &with_flows);
	ctl_table_init(&t, with_flows ? 7 : 6);
	for (size_t i = 0; rc == 0 && i < t.cols; i++)
		rc = ctl_table_add(&t, heads[i]);
	snprintf(src, sizeof(src), "endpoints/%s", name);
	for (size_t s = 0; rc == 0 && subsets != NULL && s < subsets->n; s++) {
		struct ctl_buf pb = {0};

		edgelbctl_ports_cell(ctl_doc_seq(subsets->items[s], "ports", NULL), &pb);
		for (int ready = 1; ready >= 0; ready--) {
			const struct ctl_node *addrs = ctl_doc_seq(
			    subsets->items[s], ready ? "addresses" : "notReadyAddresses", NULL);

			for (size_t a = 0; rc == 0 && addrs != NULL && a < addrs->n; a++) {
				struct edgelbctl_backend be = {
				    .ip = ctl_doc_str(addrs->items[a], "ip", NULL),
				    .ports = pb.len > 0 ? pb.p : "<none>",
				    .ready = ready ? "true" : "false",
				    .serving = ready ? "true" : "false",
				    .terminating = "false",
				    .source = src,
				};

				if (be.ip != NULL)
					rc = edgelbctl_backend_row(&t, &be, prom, ns, name,
								   with_flows);
			}
		}
		ctl_buf_free(&pb);
	}
	for (size_t i = 0; rc == 0 && slices != NULL && i < slices->n; i++) {
		const struct ctl_node *sl = slices->items[i];
		const struct ctl_node *eps = ctl_doc_seq(sl, "endpoints", NULL);
		const char *sname = ctl_doc_str(sl, "metadata", "name", NULL);
		struct ctl_buf pb = {0};

		snprintf(src, sizeof(src), "endpointslice/%s", sname != NULL ? sname : "?");
		edgelbctl_ports_cell(ctl_doc_seq(sl, "ports", NULL), &pb);
		for (size_t e = 0; rc == 0 && eps != NULL && e < eps->n; e++) {
			const struct ctl_node *conds = ctl_doc_get(eps->items[e], "conditions");
			const struct ctl_node *addrs =
			    ctl_doc_seq(eps->items[e], "addresses", NULL);
			struct edgelbctl_backend be = {.ports = pb.len > 0 ? pb.p : "<none>",
						       .source = src};

			/* Unset conditions (discovery.k8s.io/v1): ready means true,
			 * serving follows ready, terminating means false. */
			be.ready = edgelbctl_cond(conds, "ready", "true");
			be.serving = edgelbctl_cond(conds, "serving", be.ready);
			be.terminating = edgelbctl_cond(conds, "terminating", "false");
			for (size_t a = 0; rc == 0 && addrs != NULL && a < addrs->n; a++) {
				be.ip = ctl_doc_str(addrs->items[a], NULL);
				if (be.ip != NULL)
					rc = edgelbctl_backend_row(&t, &be, prom, ns, name,
								   with_flows);
			}
		}
		ctl_buf_free(&pb);
	}
	printf("Backends:\n");
	if (rc == 0 && t.n == t.cols)
		printf("  none\n");
	else if (rc == 0)
		rc = ctl_table_print(&t, stdout, "  ");
	ctl_table_free(&t);
	return rc;
}

static void
edgelbctl_describe_ports(const struct ctl_node *svc, const struct ctl_node *ep,
			 const struct ctl_node *slices, const struct ctl_prom *prom, const char *ns,
			 const char *name)
{
	const struct ctl_node *ports = ctl_doc_seq(svc, "spec", "ports", NULL);
	/* Ready endpoints: from the Endpoints object, else from the slices. */
	char *eps = ep != NULL ? ctl_table_endpoints(ep) : ctl_table_slices_ready(slices);

	for (size_t i = 0; ports != NULL && i < ports->n; i++) {
		const struct ctl_node *p = ports->items[i];
		const char *pname = ctl_doc_str(p, "name", NULL);
		const char *port = ctl_doc_str(p, "port", NULL);
		const char *proto = ctl_doc_str(p, "protocol", NULL);
		const char *target = ctl_doc_str(p, "targetPort", NULL);
		const char *node_port = ctl_doc_str(p, "nodePort", NULL);
		char buf[256], label[600];
		size_t found = 0;
		double created = 0;

		if (proto == NULL)
			proto = "TCP";
		if (pname == NULL || *pname == '\0')
			pname = "<unset>";
		snprintf(buf, sizeof(buf), "%s  %s/%s", pname, port != NULL ? port : "?", proto);
		edgelbctl_field("Port", buf);
		snprintf(buf, sizeof(buf), "%s/%s",
			 target != NULL ? target : (port != NULL ? port : "?"), proto);
		edgelbctl_field("TargetPort", buf);
		if (node_port != NULL && strcmp(node_port, "0") != 0) {
			snprintf(buf, sizeof(buf), "%s  %s/%s", pname, node_port, proto);
			edgelbctl_field("NodePort", buf);
		}
		/* edgelb_flows_created_total{service="ns/name:portname"} (":port"
		 * when unnamed). */
		if (ctl_doc_str(p, "name", NULL) != NULL && *ctl_doc_str(p, "name", NULL) != '\0')
			snprintf(label, sizeof(label), "%s/%s:%s", ns, name, pname);
		else
			snprintf(label, sizeof(label), "%s/%s:%s", ns, name,
				 port != NULL ? port : "");
		for (size_t s = 0; prom != NULL && s < prom->n; s++) {
			const char *sl = ctl_prom_label(&prom->samples[s], "service");

			if (strcmp(prom->samples[s].name, "edgelb_flows_created_total") == 0 &&
			    sl != NULL && strcmp(sl, label) == 0) {
				created += prom->samples[s].value;
				found++;
			}
		}
		if (found > 0) {
			edgelbctl_num(created, buf, sizeof(buf));
			edgelbctl_field("Flows created", buf);
		}
	}
	if (ports == NULL || ports->n == 0)
		edgelbctl_field("Port", "<none>");
	edgelbctl_field("Endpoints", eps != NULL ? eps : "<none>");
	free(eps);
}

static int
edgelbctl_describe(struct edgelbctl *c)
{
	const char *ns = c->o.ns != NULL ? c->o.ns : "default";
	struct ctl_node *svc = NULL, *ep = NULL, *slist = NULL, *sel = NULL;
	const struct ctl_node *items;
	struct ctl_prom prom = {0};
	bool have_prom = false;
	char path[2048], nsbuf[256], context[600], merr[256];
	const char *arg, *name, *slash, *v;
	struct ctl_http_resp r;
	enum ctl_kind k;
	int rc;

	if (c->o.n_args < 2)
		return edgelbctl_usage_error("describe needs: service NS/NAME");
	if (edgelbctl_kind_name(c->o.args[1], &k, &name) < 0 || k != CTL_KIND_SERVICE)
		return edgelbctl_usage_error("describe knows services only (describe service "
					     "NS/NAME)");
	if (name == NULL) {
		if (c->o.n_args != 3)
			return edgelbctl_usage_error("describe service needs one NS/NAME");
		arg = c->o.args[2];
		slash = strchr(arg, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - arg);

			if (nl == 0 || nl >= sizeof(nsbuf))
				return edgelbctl_usage_error("bad namespace in \"%s\"", arg);
			memcpy(nsbuf, arg, nl);
			nsbuf[nl] = '\0';
			if (c->o.ns != NULL && strcmp(c->o.ns, nsbuf) != 0)
				return edgelbctl_usage_error("namespace %s in \"%s\" differs from "
							     "-n %s",
							     nsbuf, arg, c->o.ns);
			ns = nsbuf;
			name = slash + 1;
		} else {
			name = arg;
		}
	} else if (c->o.n_args != 2) {
		return edgelbctl_usage_error("describe service needs one NS/NAME");
	}
	if (*name == '\0' || strchr(name, '/') != NULL)
		return edgelbctl_usage_error("bad service name \"%s\"", name);

	snprintf(context, sizeof(context), "service %s/%s", ns, name);
	if (ctl_manifest_path(CTL_KIND_SERVICE, ns, name, path, sizeof(path)) < 0)
		return edgelbctl_usage_error("name or namespace too long");
	rc = edgelbctl_get_json(c, path, false, NULL, &svc);
	if (rc < 0)
		return rc;
	if (ctl_manifest_path(CTL_KIND_ENDPOINTS, ns, name, path, sizeof(path)) == 0)
		rc = edgelbctl_get_json(c, path, true, context, &ep);
	if (rc == 0 && ctl_manifest_path(CTL_KIND_ENDPOINTSLICE, ns, NULL, path, sizeof(path)) == 0)
		rc = edgelbctl_get_json(c, path, true, context, &slist);
	if (rc < 0)
		goto out;
	/* The slices of this service: label kubernetes.io/service-name. */
	items = edgelbctl_items(slist);
	sel = calloc(1, sizeof(*sel));
	if (sel == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	sel->type = CTL_NODE_SEQ;
	sel->items = calloc(items != NULL && items->n > 0 ? items->n : 1, sizeof(*sel->items));
	if (sel->items == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; items != NULL && i < items->n; i++) {
		const char *owner = ctl_doc_str(items->items[i], "metadata", "labels",
						"kubernetes.io/service-name", NULL);

		if (owner != NULL && strcmp(owner, name) == 0)
			sel->items[sel->n++] = items->items[i];
	}
	/* Metrics are optional: describe works without them. */
	if (ctl_http_request(&c->http, "GET", "/metrics", NULL, 0, &r, merr, sizeof(merr)) == 0) {
		if (edgelbctl_ok(&r) && ctl_prom_parse(r.body, r.body_len, &prom, NULL) == 0)
			have_prom = true;
		ctl_http_resp_free(&r);
	}

	edgelbctl_field("Name", name);
	edgelbctl_field("Namespace", ns);
	edgelbctl_field_map("Labels", ctl_doc_at(svc, "metadata", "labels", NULL));
	edgelbctl_field_map("Selector", ctl_doc_at(svc, "spec", "selector", NULL));
	v = ctl_doc_str(svc, "spec", "type", NULL);
	edgelbctl_field("Type", v != NULL ? v : "ClusterIP");
	if ((v = ctl_doc_str(svc, "spec", "ipFamilyPolicy", NULL)) != NULL)
		edgelbctl_field("IP Family Policy", v);
	if (ctl_doc_seq(svc, "spec", "ipFamilies", NULL) != NULL)
		edgelbctl_field_list("IP Families", ctl_doc_seq(svc, "spec", "ipFamilies", NULL));
	edgelbctl_field("IP", ctl_doc_str(svc, "spec", "clusterIP", NULL));
	if (ctl_doc_seq(svc, "spec", "clusterIPs", NULL) != NULL)
		edgelbctl_field_list("IPs", ctl_doc_seq(svc, "spec", "clusterIPs", NULL));
	if (ctl_doc_seq(svc, "spec", "externalIPs", NULL) != NULL)
		edgelbctl_field_list("External IPs", ctl_doc_seq(svc, "spec", "externalIPs", NULL));
	if ((v = ctl_doc_str(svc, "spec", "loadBalancerIP", NULL)) != NULL)
		edgelbctl_field("IP Requested", v);
	if (ctl_doc_is(ctl_doc_at(svc, "spec", "type", NULL), "LoadBalancer")) {
		const struct ctl_node *ing =
		    ctl_doc_seq(svc, "status", "loadBalancer", "ingress", NULL);
		struct ctl_buf b = {0};

		for (size_t i = 0; ing != NULL && i < ing->n; i++) {
			const char *ip = ctl_doc_str(ing->items[i], "ip", NULL);

			if (ip == NULL)
				ip = ctl_doc_str(ing->items[i], "hostname", NULL);
			if (ip != NULL)
				ctl_buf_addf(&b, "%s%s", b.len > 0 ? "," : "", ip);
		}
		edgelbctl_field("LoadBalancer Ingress", b.len > 0 ? b.p : "<pending>");
		ctl_buf_free(&b);
	}
	edgelbctl_describe_ports(svc, ep, sel, have_prom ? &prom : NULL, ns, name);
	v = ctl_doc_str(svc, "spec", "sessionAffinity", NULL);
	if (v != NULL && strcmp(v, "ClientIP") == 0) {
		const char *to = ctl_doc_str(svc, "spec", "sessionAffinityConfig", "clientIP",
					     "timeoutSeconds", NULL);
		char buf[64];

		snprintf(buf, sizeof(buf), "ClientIP (timeout %ss)", to != NULL ? to : "10800");
		edgelbctl_field("Session Affinity", buf);
	} else {
		edgelbctl_field("Session Affinity", v != NULL ? v : "None");
	}
	v = ctl_doc_str(svc, "spec", "externalTrafficPolicy", NULL);
	if (v != NULL || ctl_doc_str(svc, "spec", "type", NULL) != NULL)
		edgelbctl_field("External Traffic Policy", v != NULL ? v : "Cluster");
	if (ctl_doc_seq(svc, "spec", "loadBalancerSourceRanges", NULL) != NULL)
		edgelbctl_field_list("LoadBalancer Source Ranges",
				     ctl_doc_seq(svc, "spec", "loadBalancerSourceRanges", NULL));
	rc = edgelbctl_describe_backends(ns, name, ep, sel, have_prom ? &prom : NULL);
out:
	if (sel != NULL)
		free(sel->items);
	free(sel);
	ctl_prom_free(&prom);
	ctl_doc_free(svc);
	ctl_doc_free(ep);
	ctl_doc_free(slist);
	return rc;
}

/* ---- version and help ---- */

static int
edgelbctl_version(struct edgelbctl *c)
{
	if (c->o.n_args > 1)
		return edgelbctl_usage_error("version takes no arguments");
	printf("edgelbctl %s\n", EL_VERSION);
	return 0;
}

static const char edgelbctl_global_help[] =
    "Global options:\n"
    "  --server URL        edgelb API (env EDGELB_SERVER, default " EDGELBCTL_DEFAULT_SERVER ")\n"
    "  --token-file FILE   send the token in FILE as \"Authorization: Bearer\"\n"
    "                      (env EDGELB_TOKEN_FILE)\n"
    "  --timeout SECONDS   connect and read timeout (default 10)\n"
    "  -h, --help          help; \"edgelbctl COMMAND --help\" for one command\n";

static void
edgelbctl_help_all(FILE *f)
{
	fprintf(f,
		"edgelbctl: control an edgelb load balancer through its REST API.\n\n"
		"Usage: edgelbctl [options] COMMAND [args]\n\n"
		"Commands:\n"
		"  apply -f FILE|DIR|-            create or update Services, Endpoints, "
		"EndpointSlices\n"
		"  delete -f FILE|DIR|-           delete the objects of manifests\n"
		"  delete KIND NAME [-n NS]       delete one object\n"
		"  get KIND [NAME] [-n NS|-A] [-o json|yaml|wide|name]\n"
		"                                 list services (svc), endpoints (ep) or "
		"endpointslices\n"
		"  get conns [--limit N]          live connections\n"
		"  describe service NS/NAME       a service, its endpoints and flows\n"
		"  stats                          packets, drops and flows from /metrics\n"
		"  version                        client version\n\n"
		"%s\n"
		"Exit status: 0 success, 1 refused by the server or failed, 2 usage error.\n",
		edgelbctl_global_help);
}

static int
edgelbctl_help(struct edgelbctl *c)
{
	const struct edgelbctl_cmd *cmd;

	if (c->o.n_args < 2) {
		edgelbctl_help_all(stdout);
		return 0;
	}
	cmd = edgelbctl_find(c->o.args[1]);
	if (cmd == NULL)
		return edgelbctl_usage_error("unknown command \"%s\"", c->o.args[1]);
	printf("%s\n%s", cmd->usage, edgelbctl_global_help);
	return 0;
}

static const struct edgelbctl_cmd edgelbctl_cmds[] = {
    {"apply", OPT_FILE | OPT_NS, edgelbctl_apply,
     "Usage: edgelbctl apply -f FILE|DIR|- [-f ...] [-n NS]\n\n"
     "Create or update every Service, Endpoints and EndpointSlice of the files\n"
     "(multi-document YAML or JSON; a directory: its *.yaml, *.yml and *.json\n"
     "files in name order; \"-\": standard input; List objects are unwrapped).\n"
     "Services go first, then Endpoints, then EndpointSlices. Objects without\n"
     "metadata.namespace go to -n NS, else \"default\". Prints KIND/NAME created\n"
     "or configured per object; a refused object is reported and the others\n"
     "still sent (exit status 1).\n"},
    {"delete", OPT_FILE | OPT_NS | OPT_IGNORE_NF, edgelbctl_delete,
     "Usage: edgelbctl delete -f FILE|DIR|- [-n NS] [--ignore-not-found]\n"
     "       edgelbctl delete service|endpoints|endpointslice NAME... [-n NS]\n"
     "       edgelbctl delete KIND/NAME [-n NS]\n\n"
     "Delete the objects of manifests (EndpointSlices and Endpoints first), or\n"
     "objects by name. --ignore-not-found: an object already gone is no error.\n"},
    {"get", OPT_NS | OPT_ALL | OPT_OUTPUT | OPT_LIMIT, edgelbctl_get,
     "Usage: edgelbctl get services|svc|endpoints|ep|endpointslices [NAME]\n"
     "                     [-n NS | -A] [-o json|yaml|wide|name]\n"
     "       edgelbctl get conns [--limit N] [-o json|yaml|wide]\n\n"
     "Tables like kubectl's. Services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S)\n"
     "(both families of a dual-stack Service, comma-separated; -o wide adds\n"
     "SELECTOR); endpoints: NAME ENDPOINTS; endpointslices: NAME\n"
     "ADDRESSTYPE PORTS ENDPOINTS; AGE when the server reports creation times.\n"
     "-A lists every namespace, -n NS one (default \"default\"). conns: live\n"
     "flows, at most N (default 500).\n"},
    {"describe", OPT_NS, edgelbctl_describe,
     "Usage: edgelbctl describe service NS/NAME\n"
     "       edgelbctl describe service NAME [-n NS]\n\n"
     "IP family policy and families, ports with target and node ports,\n"
     "addresses of both families (cluster IPs, LoadBalancer ingress),\n"
     "endpoints (IPv4 and IPv6) from the Endpoints and EndpointSlices of\n"
     "the service with their conditions, and flows per backend and service port\n"
     "when /metrics reports them.\n"},
    {"stats", 0, edgelbctl_stats,
     "Usage: edgelbctl stats\n\n"
     "Summary of /metrics: packets per port and direction, drops by reason\n"
     "(non-zero only), active flows, flows created per service port, snapshot\n"
     "generation.\n"},
    {"version", 0, edgelbctl_version, "Usage: edgelbctl version\n\nPrint the client version.\n"},
    {"help", 0, edgelbctl_help, "Usage: edgelbctl help [COMMAND]\n"},
};

static const struct edgelbctl_cmd *
edgelbctl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(edgelbctl_cmds) / sizeof(edgelbctl_cmds[0]); i++)
		if (strcmp(edgelbctl_cmds[i].name, name) == 0)
			return &edgelbctl_cmds[i];
	return NULL;
}

static const char *
edgelbctl_flag_name(unsigned bit)
{
	switch (bit) {
	case OPT_NS:
		return "-n";
	case OPT_ALL:
		return "-A";
	case OPT_OUTPUT:
		return "-o";
	case OPT_FILE:
		return "-f";
	case OPT_LIMIT:
		return "--limit";
	case OPT_IGNORE_NF:
		return "--ignore-not-found";
	default:
		return "?";
	}
}

static int
edgelbctl_run(struct edgelbctl *c, int argc, char **argv)
{
	const struct edgelbctl_cmd *cmd;
	const char *env;
	unsigned extra;
	int rc;

	c->o.timeout_ms = EDGELBCTL_DEFAULT_TIMEOUT_MS;
	rc = edgelbctl_parse_args(argc, argv, &c->o);
	if (rc < 0)
		return rc;
	if (c->o.server == NULL)
		c->o.server = (env = getenv("EDGELB_SERVER")) != NULL && *env != '\0'
				  ? env
				  : EDGELBCTL_DEFAULT_SERVER;
	if (c->o.token_file == NULL && (env = getenv("EDGELB_TOKEN_FILE")) != NULL && *env != '\0')
		c->o.token_file = env;
	if (c->o.n_args == 0) {
		if (c->o.help) {
			edgelbctl_help_all(stdout);
			return 0;
		}
		edgelbctl_help_all(stderr);
		return -EINVAL;
	}
	cmd = edgelbctl_find(c->o.args[0]);
	if (cmd == NULL)
		return edgelbctl_usage_error("unknown command \"%s\"", c->o.args[0]);
	if (c->o.help) {
		printf("%s\n%s", cmd->usage, edgelbctl_global_help);
		return 0;
	}
	extra = c->o.seen & ~cmd->allowed;
	if (extra != 0)
		return edgelbctl_usage_error("%s does not take %s", cmd->name,
					     edgelbctl_flag_name(extra & -extra));
	if (c->o.all_ns && c->o.ns != NULL)
		return edgelbctl_usage_error("-A and -n exclude each other");
	if (strcmp(cmd->name, "help") != 0 && strcmp(cmd->name, "version") != 0) {
		rc = edgelbctl_connect_setup(c);
		if (rc < 0)
			return rc;
	}
	return cmd->run(c);
}

int
main(int argc, char **argv)
{
	struct edgelbctl c = {0};
	int rc = edgelbctl_run(&c, argc, argv);

	free(c.o.args);
	free(c.token);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "error: writing the output failed\n");
		return 1;
	}
	if (rc == -EINVAL)
		return 2;
	return rc < 0 ? 1 : 0;
}
