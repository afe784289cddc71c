/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The change transaction of the REST API (apply.h).
 *
 * A Service body goes through the API server's update rules for the fields
 * edgelb uses (pkg/registry/core/service/strategy.go: dropTypeDependentFields
 * and patchAllocatedValues), then model.c's validation, then allocation
 * (compile_assign(): a requested nodePort must lie in the range and be free;
 * a requested loadBalancerIP must lie in a pool and is shared only between
 * services that asked for it on different ports, the rule MetalLB applies).
 *
 * The change is made in the live model in place, with what it replaced kept
 * aside: its object is logged to the store (the journal record's flush
 * runs on the store's flush thread meanwhile), the compile rebuilds only
 * the Services the change touches (compile_update()), and once the record
 * is durable the snapshot is published. A failure after the model changed
 * undoes the change: the old object goes back, its allocations are taken
 * again, the touched Services are rebuilt, and when the change was already
 * logged, the old versions are logged after it. The cost of a change does
 * not grow with the number of objects stored (the snapshot's tables are
 * updated slot by slot, compile.c).
 *
 * A body is read once: apply_body_read() keeps the events of its shape scan
 * for the manifest parser (manifest_parse_events()); a JSON body in a plain
 * subset gets those events from a small reader of its own instead of
 * libyaml, the same events libyaml gives for it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "edgelb/manifest.h"

#include "apply.h"

void
apply_init(struct apply *a, const struct apply_conf *c)
{
	memset(a, 0, sizeof(*a));
	a->c = *c;
}

void
apply_result_clear(struct apply_result *res)
{
	free(res->object);
	memset(res, 0, sizeof(*res));
}

unsigned
apply_warnings(const struct apply *a, const char *const **list)
{
	return compile_warnings(a->c.cs, list);
}

/* ---- outcomes ---- */

static int __attribute__((format(printf, 5, 6)))
apply_refuse(struct apply_result *res, int rc, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	res->code = code;
	res->reason = reason;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Split "FIELD: text" into field and cause; FIELD is a path without spaces
 * ("spec.ports[0].port", "metadata.labels[x]"). No field: the whole text is
 * the cause.
 */
static void
apply_split_field(struct apply_result *res, const char *msg)
{
	const char *colon = strstr(msg, ": ");
	size_t n = colon ? (size_t)(colon - msg) : 0;

	res->field[0] = '\0';
	if (colon != NULL && n > 0 && n < sizeof(res->field) && memchr(msg, ' ', n) == NULL) {
		memcpy(res->field, msg, n);
		res->field[n] = '\0';
		snprintf(res->cause, sizeof(res->cause), "%s", colon + 2);
	} else {
		snprintf(res->cause, sizeof(res->cause), "%s", msg);
	}
}

/* A field-level refusal: 'Service "web" is invalid: FIELD: text'. */
static int
apply_field_error(struct apply_result *res, int rc, int code, const char *reason, enum el_kind k,
		  const char *name, const char *msg)
{
	apply_split_field(res, msg);
	if (code == 422)
		return apply_refuse(res, rc, code, reason, "%s \"%s\" is invalid: %s",
				    model_json_kind(k), name, msg);
	return apply_refuse(res, rc, code, reason, "%s \"%s\": %s", model_json_kind(k), name, msg);
}

/* "request body: document 1, line 7: spec.x: ..." -> "spec.x: ...", line 7 */
static const char *
apply_strip_manifest_prefix(const char *err, unsigned *line)
{
	const char *p = strstr(err, ", line ");

	*line = 0;
	if (p == NULL)
		return err;
	p += strlen(", line ");
	*line = (unsigned)strtoul(p, (char **)&p, 10);
	if (strncmp(p, ": ", 2) != 0)
		return err;
	return p + 2;
}

/* ---- the body's top level ---- */

enum apply_key { KEY_OTHER, KEY_KIND, KEY_API, KEY_META, KEY_NAME, KEY_NS };

struct apply_frame {
	bool map;
	bool want_key;	    /* map: the next node is a key */
	enum apply_key key; /* map: key of the value being read */
	bool meta;	    /* the root object's metadata map */
};

static void
apply_copy(char *dst, size_t len, const char *s, size_t n, bool *long_value)
{
	if (n >= len) {
		*long_value = true;
		n = len - 1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* A scalar value at the top level of the root object or its metadata. */
static void
apply_scan_value(struct apply_body_info *info, const struct apply_frame *f, unsigned depth,
		 const char *s, size_t n)
{
	if (info->docs != 1)
		return;
	if (depth == 1 && f->key == KEY_KIND)
		apply_copy(info->kind, sizeof(info->kind), s, n, &info->long_value);
	else if (depth == 1 && f->key == KEY_API)
		apply_copy(info->api_version, sizeof(info->api_version), s, n, &info->long_value);
	else if (f->meta && f->key == KEY_NAME) {
		apply_copy(info->name, sizeof(info->name), s, n, &info->long_name);
		info->has_name = true;
	} else if (f->meta && f->key == KEY_NS) {
		apply_copy(info->ns, sizeof(info->ns), s, n, &info->long_ns);
		info->has_ns = n > 0; /* "" is no namespace, as in Kubernetes */
	}
}

static enum apply_key
apply_key_of(const struct apply_frame *f, unsigned depth, const char *s)
{
	if (depth == 1) {
		if (strcmp(s, "kind") == 0)
			return KEY_KIND;
		if (strcmp(s, "apiVersion") == 0)
			return KEY_API;
		if (strcmp(s, "metadata") == 0)
			return KEY_META;
	} else if (f->meta) {
		if (strcmp(s, "name") == 0)
			return KEY_NAME;
		if (strcmp(s, "namespace") == 0)
			return KEY_NS;
	}
	return KEY_OTHER;
}

/* A complete node was read inside the top frame. */
static void
apply_node_done(struct apply_frame *stack, unsigned depth)
{
	if (depth > 0 && stack[depth - 1].map)
		stack[depth - 1].want_key = !stack[depth - 1].want_key;
}

/* The events of a body read once, for the manifest parser to read again. */
struct apply_events {
	yaml_event_t *ev;
	size_t n, cap;
	/* events of the JSON reader: their strings are here, not libyaml's */
	char *arena;
	size_t arena_len;
};

static void
apply_events_free(struct apply_events *e)
{
	for (size_t i = 0; e->arena == NULL && i < e->n; i++)
		yaml_event_delete(&e->ev[i]);
	free(e->ev);
	free(e->arena);
	memset(e, 0, sizeof(*e));
}

/* Keep @p ev (taken over; a libyaml one is deleted on failure). */
static int
apply_events_keep(struct apply_events *e, yaml_event_t *ev)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		yaml_event_t *n = realloc(e->ev, cap * sizeof(*n));
		if (n == NULL) {
			if (e->arena == NULL)
				yaml_event_delete(ev);
			return -ENOMEM;
		}
		e->ev = n;
		e->cap = cap;
	}
	e->ev[e->n++] = *ev;
	return 0;
}

/* The shape scan of apply_body_scan(), one event at a time. */
struct apply_scan {
	struct apply_frame stack[MANIFEST_MAX_DEPTH + 1];
	unsigned depth;
	bool done, counted;
	struct apply_body_info *info;
	char *err;
	size_t errlen;
};

static int
apply_scan_event(struct apply_scan *sc, const yaml_event_t *ev)
{
	struct apply_frame *stack = sc->stack;
	struct apply_body_info *info = sc->info;
	unsigned depth = sc->depth;
	struct apply_frame *top = depth > 0 ? &stack[depth - 1] : NULL;
	int rc = 0;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		sc->done = true;
		break;
	case YAML_DOCUMENT_START_EVENT:
		sc->counted = false;
		depth = 0;
		break;
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;

		if (depth == 0) {
			/* an empty document is a plain empty (or null) scalar */
			bool nothing = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				       (n == 0 || strcmp(s, "null") == 0 || strcmp(s, "~") == 0);
			if (!nothing && !sc->counted) {
				info->docs++;
				sc->counted = true;
			}
			break;
		}
		if (top->map && top->want_key)
			top->key = apply_key_of(top, depth, s);
		else if (top->map)
			apply_scan_value(info, top, depth, s, n);
		apply_node_done(stack, depth);
		break;
	}
	case YAML_ALIAS_EVENT:
		apply_node_done(stack, depth);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth == 0 && !sc->counted) {
			info->docs++;
			sc->counted = true;
		}
		if (depth > MANIFEST_MAX_DEPTH) {
			snprintf(sc->err, sc->errlen, "line %u: nested deeper than %d levels",
				 (unsigned)ev->start_mark.line + 1, MANIFEST_MAX_DEPTH);
			rc = -EBADMSG;
			break;
		}
		stack[depth] = (struct apply_frame){
		    .map = ev->type == YAML_MAPPING_START_EVENT,
		    .want_key = true,
		    .key = KEY_OTHER,
		    .meta = depth == 1 && top->map && !top->want_key && top->key == KEY_META &&
			    info->docs == 1 && ev->type == YAML_MAPPING_START_EVENT,
		};
		depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (depth > 0)
			depth--;
		apply_node_done(stack, depth);
		break;
	default:
		break;
	}
	sc->depth = depth;
	return rc;
}

/*
 * JSON bodies without a libyaml parser. A body that is one JSON object in
 * the plain subset below (printable ASCII, strings without escapes, spaces
 * and newlines between tokens) gets the very events libyaml gives for it
 * (YAML's flow style is a superset of JSON: a string is a double-quoted
 * scalar, a number, true, false or null a plain one), line numbers
 * included; anything else (escapes, tabs, other characters, a syntax
 * error) is left to libyaml, which gives the errors.
 */
struct apply_json {
	const char *p, *end;
	size_t line;
	struct apply_events *evs;
	unsigned depth;
};

/* 1: done; 0: not in the subset; -ENOMEM. */
static int
apply_json_emit(struct apply_json *j, yaml_event_t *ev, int ok)
{
	if (!ok)
		return -ENOMEM;
	ev->start_mark.line = j->line;
	return apply_events_keep(j->evs, ev) < 0 ? -ENOMEM : 1;
}

static void
apply_json_space(struct apply_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n')) {
		if (*j->p == '\n')
			j->line++;
		j->p++;
	}
}

/* A scalar event as libyaml makes it, its text in the arena. */
static int
apply_json_scalar(struct apply_json *j, const char *s, size_t n, yaml_scalar_style_t style)
{
	struct apply_events *e = j->evs;
	yaml_event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = YAML_SCALAR_EVENT;
	ev.data.scalar.value = (yaml_char_t *)e->arena + e->arena_len;
	ev.data.scalar.length = n;
	ev.data.scalar.plain_implicit = style == YAML_PLAIN_SCALAR_STYLE;
	ev.data.scalar.quoted_implicit = style != YAML_PLAIN_SCALAR_STYLE;
	ev.data.scalar.style = style;
	memcpy(e->arena + e->arena_len, s, n);
	e->arena[e->arena_len + n] = '\0';
	e->arena_len += n + 1;
	return apply_json_emit(j, &ev, 1);
}

static int
apply_json_string(struct apply_json *j)
{
	const char *s = ++j->p;

	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\' || *j->p < 0x20 || *j->p > 0x7e)
			return 0;
		j->p++;
	}
	if (j->p == j->end)
		return 0;
	j->p++;
	return apply_json_scalar(j, s, (size_t)(j->p - 1 - s), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

/* A number as JSON writes it (RFC 8259 section 6), or true, false, null. */
static int
apply_json_literal(struct apply_json *j)
{
	const char *s = j->p, *q = s;

	if (j->end - s >= 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0)) {
		q = s + 4;
	} else if (j->end - s >= 5 && memcmp(s, "false", 5) == 0) {
		q = s + 5;
	} else {
		if (q < j->end && *q == '-')
			q++;
		if (q < j->end && *q == '0')
			q++;
		else if (q < j->end && *q >= '1' && *q <= '9')
			while (q < j->end && *q >= '0' && *q <= '9')
				q++;
		else
			return 0;
		if (q < j->end && *q == '.') {
			if (++q == j->end || *q < '0' || *q > '9')
				return 0;
			while (q < j->end && *q >= '0' && *q <= '9')
				q++;
		}
		if (q < j->end && (*q == 'e' || *q == 'E')) {
			if (++q < j->end && (*q == '+' || *q == '-'))
				q++;
			if (q == j->end || *q < '0' || *q > '9')
				return 0;
			while (q < j->end && *q >= '0' && *q <= '9')
				q++;
		}
	}
	/* a plain scalar runs on to the next indicator: one must follow */
	if (q == j->end || (*q != ',' && *q != ']' && *q != '}' && *q != ' ' && *q != '\n'))
		return 0;
	j->p = q;
	return apply_json_scalar(j, s, (size_t)(q - s), YAML_PLAIN_SCALAR_STYLE);
}

static int apply_json_value(struct apply_json *j);

/* An object or an array, from its opening bracket. */
static int
apply_json_collection(struct apply_json *j)
{
	bool map = *j->p == '{';
	char close = map ? '}' : ']';
	yaml_event_t ev;
	int rc;

	if (++j->depth > MANIFEST_MAX_DEPTH)
		return 0; /* libyaml's events, then the scan's refusal */
	rc = map ? apply_json_emit(j, &ev,
				   yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
								       YAML_FLOW_MAPPING_STYLE))
		 : apply_json_emit(j, &ev,
				   yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
									YAML_FLOW_SEQUENCE_STYLE));
	if (rc <= 0)
		return rc;
	j->p++;
	apply_json_space(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
	} else {
		for (;;) {
			if (map) {
				const char *key = j->p;

				if (j->p == j->end || *j->p != '"')
					return 0;
				if ((rc = apply_json_string(j)) <= 0)
					return rc;
				/* a key and its ':' on one line, at most 1024 characters
				 * apart (a YAML implicit key, as libyaml reads one) */
				while (j->p < j->end && *j->p == ' ')
					j->p++;
				if (j->p == j->end || *j->p != ':' || j->p - key > 1000)
					return 0;
				j->p++;
				apply_json_space(j);
			}
			if ((rc = apply_json_value(j)) <= 0)
				return rc;
			apply_json_space(j);
			if (j->p == j->end)
				return 0;
			if (*j->p == close) {
				j->p++;
				break;
			}
			if (*j->p != ',')
				return 0;
			j->p++;
			apply_json_space(j);
		}
	}
	j->depth--;
	return map ? apply_json_emit(j, &ev, yaml_mapping_end_event_initialize(&ev))
		   : apply_json_emit(j, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int
apply_json_value(struct apply_json *j)
{
	if (j->p == j->end)
		return 0;
	if (*j->p == '{' || *j->p == '[')
		return apply_json_collection(j);
	if (*j->p == '"')
		return apply_json_string(j);
	return apply_json_literal(j);
}

/*
 * The events of @p body when it is one JSON object of the subset: 1, the
 * events in @p evs; 0: not in the subset, @p evs empty; -ENOMEM.
 */
static int
apply_json_events(const char *body, size_t len, struct apply_events *evs)
{
	struct apply_json j = {.p = body, .end = body + len, .line = 0, .evs = evs, .depth = 0};
	yaml_event_t ev;
	int rc;

	/* a scalar of n bytes takes n of the body and n + 1 of the arena */
	evs->arena = malloc(2 * len + 1);
	if (evs->arena == NULL)
		return -ENOMEM;

	rc = apply_json_emit(&j, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	apply_json_space(&j);
	if (rc > 0 && (j.p == j.end || *j.p != '{'))
		rc = 0;
	if (rc > 0)
		rc = apply_json_emit(
		    &j, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (rc > 0)
		rc = apply_json_collection(&j);
	if (rc > 0) {
		apply_json_space(&j);
		rc = j.p == j.end ? 1 : 0;
		/* libyaml ends an unfinished last line */
		if (len > 0 && body[len - 1] != '\n')
			j.line++;
	}
	if (rc > 0)
		rc = apply_json_emit(&j, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (rc > 0)
		rc = apply_json_emit(&j, &ev, yaml_stream_end_event_initialize(&ev));
	if (rc <= 0)
		apply_events_free(evs);
	return rc;
}

/*
 * apply_body_scan(), keeping every event in @p evs when not NULL: then a
 * JSON body of the plain subset is read without libyaml.
 */
static int
apply_body_read(const char *body, size_t len, struct apply_body_info *info,
		struct apply_events *evs, char *err, size_t errlen)
{
	struct apply_scan sc = {.depth = 0, .info = info, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	if (evs != NULL) {
		rc = apply_json_events(body, len, evs);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			rc = 0;
			for (size_t i = 0; i < evs->n && !sc.done && rc == 0; i++)
				rc = apply_scan_event(&sc, &evs->ev[i]);
			return rc;
		}
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)body, len);
	while (!sc.done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = -ENOMEM;
				break;
			}
			snprintf(err, errlen, "line %u: %s%s%s",
				 (unsigned)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			rc = -EBADMSG;
			break;
		}
		rc = apply_scan_event(&sc, &ev);
		if (evs == NULL)
			yaml_event_delete(&ev);
		else if (apply_events_keep(evs, &ev) < 0)
			rc = -ENOMEM;
	}
	yaml_parser_delete(&parser);
	return rc;
}

int
apply_body_scan(const char *body, size_t len, struct apply_body_info *info, char *err,
		size_t errlen)
{
	return apply_body_read(body, len, info, NULL, err, errlen);
}

/* ---- objects by kind ---- */

static const void *
apply_find(const struct el_model *m, enum el_kind k, const char *ns, const char *name)
{
	switch (k) {
	case EL_KIND_SERVICE:
		return model_find_service(m, ns, name);
	case EL_KIND_ENDPOINTS:
		return model_find_endpoints(m, ns, name);
	default:
		return model_find_slice(m, ns, name);
	}
}

static void *
apply_take(struct el_model *m, enum el_kind k, const char *ns, const char *name)
{
	switch (k) {
	case EL_KIND_SERVICE:
		return model_take_service(m, ns, name);
	case EL_KIND_ENDPOINTS:
		return model_take_endpoints(m, ns, name);
	default:
		return model_take_slice(m, ns, name);
	}
}

static void
apply_free_obj(enum el_kind k, void *obj)
{
	switch (k) {
	case EL_KIND_SERVICE:
		model_service_free(obj);
		break;
	case EL_KIND_ENDPOINTS:
		model_endpoints_free(obj);
		break;
	default:
		model_slice_free(obj);
		break;
	}
}

static int
apply_put_obj(struct el_model *m, enum el_kind k, void *obj, char *err, size_t errlen)
{
	switch (k) {
	case EL_KIND_SERVICE:
		return model_put_service(m, obj, err, errlen);
	case EL_KIND_ENDPOINTS:
		return model_put_endpoints(m, obj, err, errlen);
	default:
		return model_put_slice(m, obj, err, errlen);
	}
}

static void
apply_set_rev(enum el_kind k, void *obj, uint64_t rev)
{
	switch (k) {
	case EL_KIND_SERVICE:
		((struct el_service *)obj)->rev = rev;
		break;
	case EL_KIND_ENDPOINTS:
		((struct el_endpoints *)obj)->rev = rev;
		break;
	default:
		((struct el_slice *)obj)->rev = rev;
		break;
	}
}

/* The one object of a scratch model (NULL when it holds anything else). */
static void *
apply_single(struct el_model *m, enum el_kind k)
{
	unsigned n = m->n_svcs + m->n_eps + m->n_slices;

	if (n != 1)
		return NULL;
	if (k == EL_KIND_SERVICE && m->n_svcs == 1)
		return model_take_service(m, m->svcs[0]->ns, m->svcs[0]->name);
	if (k == EL_KIND_ENDPOINTS && m->n_eps == 1)
		return model_take_endpoints(m, m->eps[0]->ns, m->eps[0]->name);
	if (k == EL_KIND_SLICE && m->n_slices == 1)
		return model_take_slice(m, m->slices[0]->ns, m->slices[0]->name);
	return NULL;
}

/* ---- Kubernetes update rules for Services ---- */

static bool
apply_needs_node_ports(const struct el_service *s)
{
	return s->type == EL_SVC_NODE_PORT || s->type == EL_SVC_LOAD_BALANCER;
}

/* Every nodePort @p s gives is one @p old had (no net-new nodePort). */
static bool
apply_no_new_node_ports(const struct el_service *old, const struct el_service *s)
{
	for (unsigned i = 0; i < s->n_ports; i++) {
		bool had = s->ports[i].node_port == 0;
		for (unsigned j = 0; !had && j < old->n_ports; j++)
			had = old->ports[j].node_port == s->ports[i].node_port;
		if (!had)
			return false;
	}
	return true;
}

static bool
apply_same_cluster_ips(const struct el_service *old, const struct el_service *s)
{
	if (old->headless != s->headless || old->n_cluster_ips != s->n_cluster_ips)
		return false;
	for (unsigned i = 0; i < s->n_cluster_ips; i++)
		if (!el_ip_eq(&old->cluster_ips[i], &s->cluster_ips[i]))
			return false;
	return true;
}

/*
 * A Service body as the API server takes it on an update (its registry
 * strategy: dropTypeDependentFields and patchAllocatedValues):
 * - status is not the client's to write: status.loadBalancer.ingress goes;
 * - switching to a type without nodePorts drops the nodePorts when the body
 *   adds none the old object did not have (else validation refuses them);
 * - switching to ExternalName drops clusterIPs, ipFamilies and
 *   ipFamilyPolicy left as they were;
 * - a port without a nodePort keeps the one the old port of the same name
 *   had, when both types have nodePorts and no other port asks for it;
 * - a nodePort equal to the old one stays edgelb's choice (node_port_auto),
 *   every other one in the body is the client's request.
 */
static void
apply_service_update(const struct el_service *old, struct el_service *s)
{
	free(s->lb_ingress);
	s->lb_ingress = NULL;
	s->n_lb_ingress = 0;
	s->lb_ingress_auto = false;
	for (unsigned i = 0; i < s->n_ports; i++)
		s->ports[i].node_port_auto = false;
	if (old == NULL)
		return;
	if (apply_needs_node_ports(old) && !apply_needs_node_ports(s) &&
	    apply_no_new_node_ports(old, s))
		for (unsigned i = 0; i < s->n_ports; i++)
			s->ports[i].node_port = 0;
	if (old->type != EL_SVC_EXTERNAL_NAME && s->type == EL_SVC_EXTERNAL_NAME) {
		if (apply_same_cluster_ips(old, s)) {
			free(s->cluster_ips);
			s->cluster_ips = NULL;
			s->n_cluster_ips = 0;
			s->headless = false;
		}
		if (old->n_ip_families == s->n_ip_families &&
		    memcmp(old->ip_families, s->ip_families, sizeof(s->ip_families)) == 0)
			s->n_ip_families = 0;
		if (old->ip_family_policy == s->ip_family_policy)
			s->ip_family_policy = EL_IPFP_UNSET;
	}
	if (!apply_needs_node_ports(old) || !apply_needs_node_ports(s))
		return;
	for (unsigned i = 0; i < s->n_ports; i++) {
		struct el_svc_port *p = &s->ports[i];
		for (unsigned j = 0; j < old->n_ports; j++) {
			const struct el_svc_port *q = &old->ports[j];
			if (strcmp(q->name, p->name) != 0 || q->node_port == 0)
				continue;
			if (p->node_port == q->node_port) {
				p->node_port_auto = q->node_port_auto;
			} else if (p->node_port == 0) {
				bool used = false;
				for (unsigned k = 0; k < s->n_ports; k++)
					used |= s->ports[k].node_port == q->node_port &&
						s->ports[k].proto == p->proto;
				if (!used) {
					p->node_port = q->node_port;
					p->node_port_auto = q->node_port_auto;
				}
			}
			break;
		}
	}
}

static bool
apply_same_families(const struct el_service *old, const struct el_service *s)
{
	return old->n_ip_families == s->n_ip_families &&
	       memcmp(old->ip_families, s->ip_families, s->n_ip_families) == 0;
}

/*
 * The API server's update rules for the IP families (its allocator's
 * initIPFamilyFields on an update), before they are defaulted:
 * - no spec.ipFamilyPolicy keeps the one the old object had;
 * - no ipFamilies and no clusterIPs keep the old object's families (edgelb
 *   allocates no clusterIP that would carry them over);
 * - SingleStack with the old object's two families or two clusterIPs
 *   releases the second one;
 * - any other policy may not drop the second family or clusterIP: 422.
 * ExternalName, on either side, has no families.
 * @return 0, or -EINVAL with "FIELD: what is wrong" in @p err
 */
static int
apply_service_families_update(const struct el_service *old, struct el_service *s, char *err,
			      size_t errlen)
{
	if (old == NULL || old->type == EL_SVC_EXTERNAL_NAME || s->type == EL_SVC_EXTERNAL_NAME)
		return 0;
	if (s->ip_family_policy == EL_IPFP_UNSET)
		s->ip_family_policy = old->ip_family_policy;
	if (s->n_ip_families == 0 && s->n_cluster_ips == 0 && s->headless == old->headless) {
		memcpy(s->ip_families, old->ip_families, sizeof(s->ip_families));
		s->n_ip_families = old->n_ip_families;
	}
	if (s->ip_family_policy == EL_IPFP_SINGLE_STACK) {
		if (s->n_cluster_ips == 2 && apply_same_cluster_ips(old, s))
			s->n_cluster_ips = 1;
		if (s->n_ip_families == 2 && apply_same_families(old, s))
			s->n_ip_families = 1;
		return 0;
	}
	if (s->n_cluster_ips > 0 && s->n_cluster_ips < old->n_cluster_ips) {
		snprintf(err, errlen,
			 "spec.ipFamilyPolicy: must be 'SingleStack' to release the secondary "
			 "cluster IP");
		return -EINVAL;
	}
	if (s->n_ip_families > 0 && s->n_ip_families < old->n_ip_families) {
		snprintf(err, errlen,
			 "spec.ipFamilyPolicy: must be 'SingleStack' to release the secondary IP "
			 "family");
		return -EINVAL;
	}
	return 0;
}

/* Map a compile_assign() failure to a Status. */
static int
apply_assign_failed(struct apply_result *res, int rc, const char *name, const char *err)
{
	switch (rc) {
	case -EEXIST:
		return apply_field_error(res, rc, 409, "Conflict", EL_KIND_SERVICE, name, err);
	case -EINVAL:
		return apply_field_error(res, rc, 422, "Invalid", EL_KIND_SERVICE, name, err);
	case -ENOSPC:
		/* the API server's answer to a full range: not the client's
		 * fault, not a conflict with the object; an internal error */
		apply_split_field(res, err);
		return apply_refuse(res, rc, 500, "InternalError", "Internal error occurred: %s",
				    res->cause);
	default:
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	}
}

/* ---- one change and its undo ---- */

static const char *
apply_slice_service(enum el_kind k, const void *obj)
{
	return k == EL_KIND_SLICE && obj != NULL ? ((const struct el_slice *)obj)->service_name
						 : "";
}

/* The Services a change makes compile_update() rebuild. */
static int
apply_touch(struct apply *a, const struct apply_change *c)
{
	const char *s1 = apply_slice_service(c->k, c->old), *s2 = apply_slice_service(c->k, c->now);
	int rc = 0;

	if (c->k != EL_KIND_SLICE)
		return compile_touch(a->c.cs, c->ns, c->name);
	if (s1[0] != '\0')
		rc = compile_touch(a->c.cs, c->ns, s1);
	if (rc == 0 && s2[0] != '\0' && strcmp(s1, s2) != 0)
		rc = compile_touch(a->c.cs, c->ns, s2);
	return rc;
}

/* Put @p obj in the live model in place of its namespace/name (taken out
 * first, into c->old). The model validates it again: cheap, and it keeps
 * one rule for every way in. */
static int
apply_change_put(struct apply *a, struct apply_change *c, void *obj, char *err, size_t errlen)
{
	struct el_model *m = a->c.model;
	int rc;

	c->model_rev = m->rev;
	c->old = apply_take(m, c->k, c->ns, c->name);
	if (c->old != NULL)
		c->old_rev = c->k == EL_KIND_SERVICE	 ? ((struct el_service *)c->old)->rev
			     : c->k == EL_KIND_ENDPOINTS ? ((struct el_endpoints *)c->old)->rev
							 : ((struct el_slice *)c->old)->rev;
	rc = apply_put_obj(m, c->k, obj, err, errlen);
	if (rc < 0) {
		if (c->old != NULL && apply_put_obj(m, c->k, c->old, err, errlen) == 0)
			apply_set_rev(c->k, c->old, c->old_rev);
		c->old = NULL;
		m->rev = c->model_rev;
		return rc;
	}
	c->now = obj;
	return 0;
}

/*
 * Undo a change in the live model and the allocations (the caller rebuilds
 * the Services it touched). Frees c->now.
 */
static void
apply_change_undo(struct apply *a, struct apply_change *c)
{
	struct el_model *m = a->c.model;
	char err[256];

	if (c->now != NULL)
		apply_free_obj(c->k, apply_take(m, c->k, c->ns, c->name));
	if (c->k == EL_KIND_SERVICE)
		compile_release(a->c.cs, c->ns, c->name);
	if (c->old != NULL) {
		/* it was valid a moment ago: no refusal; memory was reserved */
		if (apply_put_obj(m, c->k, c->old, err, sizeof(err)) == 0) {
			apply_set_rev(c->k, c->old, c->old_rev);
			if (c->k == EL_KIND_SERVICE)
				(void)compile_assign(a->c.cs, m, c->old, err, sizeof(err));
		} else {
			apply_free_obj(c->k, c->old);
		}
	}
	m->rev = c->model_rev;
	(void)apply_touch(a, c);
	c->old = c->now = NULL;
}

static int
apply_stage(struct apply *a, const struct apply_change *c, struct apply_result *res)
{
	if (a->n_staged == a->cap_staged) {
		unsigned nc = a->cap_staged ? a->cap_staged * 2 : 16;
		struct apply_staged *ns = realloc(a->staged, nc * sizeof(*ns));
		if (ns == NULL)
			return -ENOMEM;
		a->staged = ns;
		a->cap_staged = nc;
	}
	a->staged[a->n_staged++] = (struct apply_staged){.c = *c, .res = res};
	return 0;
}

/* The group is done: nothing is kept between groups. */
static void
apply_unstage(struct apply *a)
{
	free(a->staged);
	a->staged = NULL;
	a->n_staged = a->cap_staged = 0;
}

/* Write the current state of every object the group changed, in one
 * transaction (after a group was logged and then refused). */
static void
apply_restore_files(struct apply *a)
{
	struct store_txn *t;
	int rc;

	if (a->c.store == NULL || store_txn_begin(a->c.store, &t) < 0)
		return;
	rc = 0;
	for (unsigned i = 0; rc == 0 && i < a->n_staged; i++) {
		const struct apply_change *c = &a->staged[i].c;
		const void *obj = apply_find(a->c.model, c->k, c->ns, c->name);

		rc = obj != NULL ? store_txn_put(t, c->k, obj)
				 : store_txn_delete(t, c->k, c->ns, c->name);
	}
	if (rc == 0)
		rc = store_txn_commit(t);
	else
		store_txn_abort(t);
	if (rc < 0)
		fprintf(
		    stderr,
		    "edgelb: state: %s: cannot write back the objects of a refused change: %s\n",
		    store_dir(a->c.store), strerror(-rc));
}

/* The whole group is refused: undo every change, newest first, rebuild what
 * they touched, answer each with @p rc / 500. */
static void __attribute__((format(printf, 4, 5)))
apply_group_fail(struct apply *a, int rc, bool files, const char *fmt, ...)
{
	struct el_snapshot *snap = NULL;
	char msg[1024], err[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (unsigned i = a->n_staged; i-- > 0;)
		apply_change_undo(a, &a->staged[i].c);
	if (compile_update(a->c.cs, a->c.model, &snap, err, sizeof(err)) == 0)
		compile_snapshot_free(a->c.cs, snap);
	if (files)
		apply_restore_files(a);
	for (unsigned i = 0; i < a->n_staged; i++) {
		struct apply_result *res = a->staged[i].res;
		apply_result_clear(res);
		apply_refuse(res, rc, 500, "InternalError", "%s", msg);
		a->n_refused++;
	}
	apply_unstage(a);
}

/*
 * Start the store transaction of the staged changes: their journal record
 * is written and its flush runs while the caller compiles. *out is NULL
 * without a store. @return 0, or the store's error (nothing written)
 */
static int
apply_store_start(struct apply *a, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	*out = NULL;
	if (a->c.store == NULL)
		return 0;
	rc = store_txn_begin(a->c.store, &t);
	for (unsigned i = 0; rc == 0 && i < a->n_staged; i++) {
		const struct apply_change *c = &a->staged[i].c;
		/* the answer already holds the object's JSON (apply_finish()) */
		rc = c->now != NULL ? store_txn_put_json(t, c->k, c->now, a->staged[i].res->object)
				    : store_txn_delete(t, c->k, c->ns, c->name);
	}
	if (rc < 0) {
		store_txn_abort(t);
		return rc;
	}
	rc = store_txn_commit_start(t); /* frees t on failure */
	if (rc == 0)
		*out = t;
	return rc;
}

/*
 * Commit the staged changes: log every object they changed (one store
 * transaction), compile the Services they touch (once) while the log is
 * flushed, publish once it is durable. On failure every one of them is
 * undone and answered 500.
 */
static int
apply_group_commit(struct apply *a)
{
	struct el_snapshot *snap = NULL;
	struct store_txn *t = NULL;
	char err[512] = "";
	int rc = 0, rc_store;

	if (a->n_staged == 0)
		return 0;
	rc_store = apply_store_start(a, &t);
	if (rc_store < 0) {
		apply_group_fail(a, -EIO, false, "cannot write to %s: %s", store_dir(a->c.store),
				 strerror(-rc_store));
		return -EIO;
	}
	for (unsigned i = 0; rc == 0 && i < a->n_staged; i++)
		rc = apply_touch(a, &a->staged[i].c);
	if (rc == 0)
		rc = compile_update(a->c.cs, a->c.model, &snap, err, sizeof(err));
	if (t != NULL)
		rc_store = store_txn_commit_finish(t);
	if (rc_store < 0) {
		/* not durable: the store took the record back */
		compile_snapshot_free(a->c.cs, snap);
		apply_group_fail(a, -EIO, false, "cannot write to %s: %s", store_dir(a->c.store),
				 strerror(-rc_store));
		return -EIO;
	}
	if (rc < 0) {
		/* logged but refused: the objects go back to their old versions */
		apply_group_fail(a, rc, a->c.store != NULL, "compile: %s",
				 err[0] ? err : strerror(-rc));
		return rc;
	}
	/* on disk: from here on the changes stand */
	(void)a->c.publish(a->c.publish_ctx, snap);
	for (unsigned i = 0; i < a->n_staged; i++)
		apply_free_obj(a->staged[i].c.k, a->staged[i].c.old);
	a->n_applied += a->n_staged;
	a->n_groups++;
	apply_unstage(a);
	return 0;
}

void
apply_group_begin(struct apply *a)
{
	a->group = true;
}

int
apply_group_end(struct apply *a)
{
	a->group = false;
	return apply_group_commit(a);
}

/* A change is in the live model: answer with the object as stored, stage
 * it, and commit now unless a group is open. */
static int
apply_finish(struct apply *a, struct apply_change *c, bool created, struct apply_result *res)
{
	int rc;

	res->code = created ? 201 : 200;
	if (c->now != NULL)
		res->object = model_json_object(c->k, c->now);
	if ((c->now != NULL && res->object == NULL) || apply_stage(a, c, res) < 0) {
		struct el_snapshot *snap = NULL;
		char err[128];
		apply_change_undo(a, c);
		if (compile_update(a->c.cs, a->c.model, &snap, err, sizeof(err)) == 0)
			compile_snapshot_free(a->c.cs, snap);
		apply_result_clear(res);
		return apply_refuse(res, -ENOMEM, 500, "InternalError", "out of memory");
	}
	if (a->group)
		return 0;
	rc = apply_group_commit(a);
	return rc < 0 ? rc : 0;
}

/* apply_put_locked() once the body is read: @p info, its events @p evs. */
static int
apply_put_parsed(struct apply *a, enum el_kind k, const char *ns, const char *name,
		 const struct apply_body_info *bi, const struct apply_events *evs, bool create_only,
		 struct apply_result *res)
{
	const struct apply_body_info info = *bi;
	struct apply_change c;
	struct el_model scratch;
	char err[768] = "", fixed[900];
	const char *kind = model_json_kind(k), *msg;
	unsigned line;
	bool exists;
	void *obj;
	int rc;

	if (info.docs != 1)
		return apply_refuse(res, -EBADMSG, 400, "BadRequest",
				    "the request body must hold exactly one object, not %u",
				    info.docs);
	if (strcmp(info.kind, kind) != 0 ||
	    strcmp(info.api_version, model_json_api_version(k)) != 0)
		return apply_refuse(res, -EBADMSG, 400, "BadRequest",
				    "the request body is apiVersion \"%s\" kind \"%s\"; this URL "
				    "takes apiVersion \"%s\" kind \"%s\"",
				    info.api_version, info.kind, model_json_api_version(k), kind);
	if (info.has_ns && (info.long_ns || strcmp(info.ns, ns) != 0)) {
		snprintf(fixed, sizeof(fixed),
			 "metadata.namespace: Invalid value: \"%s\": does not match the namespace "
			 "in the URL (\"%s\")",
			 info.ns, ns);
		return apply_field_error(res, -EINVAL, 422, "Invalid", k, name, fixed);
	}
	if (info.has_name && (info.long_name || strcmp(info.name, name) != 0)) {
		snprintf(fixed, sizeof(fixed),
			 "metadata.name: Invalid value: \"%s\": does not match the name in the URL "
			 "(\"%s\")",
			 info.name, name);
		return apply_field_error(res, -EINVAL, 422, "Invalid", k, name, fixed);
	}

	el_model_init(&scratch);
	/* a Service is validated below, after the API server's update rules */
	rc = manifest_parse_events(&scratch, evs->ev, evs->n, "request body",
				   MANIFEST_UNCHECKED_SERVICES, err, sizeof(err));
	if (rc == -ENOMEM)
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	if (rc < 0) {
		msg = apply_strip_manifest_prefix(err, &line);
		if (line > 0) {
			snprintf(fixed, sizeof(fixed), "%s (request body line %u)", msg, line);
			msg = fixed;
		}
		return apply_field_error(res, -EINVAL, 422, "Invalid", k, name, msg);
	}
	obj = apply_single(&scratch, k);
	el_model_free(&scratch);
	if (obj == NULL)
		return apply_refuse(res, -EBADMSG, 400, "BadRequest",
				    "the request body must hold exactly one %s", kind);
	/* a body without metadata.namespace is in the URL's namespace */
	snprintf((char *)obj, EL_LABEL_MAX, "%s", ns);

	exists = apply_find(a->c.model, k, ns, name) != NULL;
	if (exists && create_only) {
		apply_free_obj(k, obj);
		return apply_refuse(res, -EEXIST, 409, "AlreadyExists", "%s \"%s\" already exists",
				    kind, name);
	}
	if (k == EL_KIND_SERVICE) {
		struct el_service *s = obj;

		const struct el_service *old = model_find_service(a->c.model, ns, name);

		apply_service_update(old, s);
		rc = apply_service_families_update(old, s, err, sizeof(err));
		if (rc == 0)
			rc = model_validate_service(s, err, sizeof(err));
		if (rc < 0) {
			model_service_free(s);
			return apply_field_error(res, rc, 422, "Invalid", k, name, err);
		}
		rc = compile_assign(a->c.cs, a->c.model, s, err, sizeof(err));
		if (rc < 0) {
			model_service_free(s);
			return apply_assign_failed(res, rc, name, err);
		}
	}

	memset(&c, 0, sizeof(c));
	c.k = k;
	snprintf(c.ns, sizeof(c.ns), "%s", ns);
	snprintf(c.name, sizeof(c.name), "%s", name);
	rc = apply_change_put(a, &c, obj, err, sizeof(err));
	if (rc < 0) {
		if (k == EL_KIND_SERVICE) {
			/* give back what compile_assign took */
			struct el_service *old = model_find_service(a->c.model, ns, name);
			compile_release(a->c.cs, ns, name);
			if (old != NULL)
				(void)compile_assign(a->c.cs, a->c.model, old, fixed,
						     sizeof(fixed));
		}
		apply_free_obj(k, obj);
		if (rc == -EINVAL)
			return apply_field_error(res, rc, 422, "Invalid", k, name, err);
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	}
	return apply_finish(a, &c, !exists, res);
}

static int
apply_put_locked(struct apply *a, enum el_kind k, const char *ns, const char *name,
		 const char *body, size_t len, bool create_only, struct apply_result *res)
{
	struct apply_body_info info;
	struct apply_events evs = {0};
	char err[768] = "";
	int rc;

	/* the body is read once: its events go to the manifest parser below */
	rc = apply_body_read(body, len, &info, &evs, err, sizeof(err));
	if (rc < 0)
		apply_events_free(&evs);
	if (rc == -ENOMEM)
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	if (rc < 0)
		return apply_refuse(res, -EBADMSG, 400, "BadRequest",
				    "the request body is not valid JSON or YAML: %s", err);
	rc = apply_put_parsed(a, k, ns, name, &info, &evs, create_only, res);
	apply_events_free(&evs);
	return rc;
}

int
apply_put(struct apply *a, enum el_kind k, const char *ns, const char *name, const char *body,
	  size_t len, bool create_only, struct apply_result *res)
{
	uint64_t refused = a->n_refused;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((unsigned)k >= EL_KIND_COUNT)
		return apply_refuse(res, -EINVAL, 404, "NotFound", "unknown kind");
	rc = apply_put_locked(a, k, ns, name, body, len, create_only, res);
	if (rc < 0 && a->n_refused == refused)
		a->n_refused++; /* a failed commit counts its own */
	return rc;
}

int
apply_delete(struct apply *a, enum el_kind k, const char *ns, const char *name,
	     struct apply_result *res)
{
	struct el_model *m = a->c.model;
	uint64_t refused = a->n_refused;
	struct apply_change c;
	char *json;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((unsigned)k >= EL_KIND_COUNT)
		return apply_refuse(res, -EINVAL, 404, "NotFound", "unknown kind");
	if (apply_find(m, k, ns, name) == NULL) {
		a->n_refused++;
		return apply_refuse(res, -ENOENT, 404, "NotFound",
				    "%s \"%s\" not found in namespace \"%s\"",
				    model_json_resource(k), name, ns);
	}
	json = model_json_object(k, apply_find(m, k, ns, name));
	if (json == NULL) {
		a->n_refused++;
		return apply_refuse(res, -ENOMEM, 500, "InternalError", "out of memory");
	}
	memset(&c, 0, sizeof(c));
	c.k = k;
	snprintf(c.ns, sizeof(c.ns), "%s", ns);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.model_rev = m->rev;
	c.old = apply_take(m, k, ns, name);
	c.old_rev = k == EL_KIND_SERVICE     ? ((struct el_service *)c.old)->rev
		    : k == EL_KIND_ENDPOINTS ? ((struct el_endpoints *)c.old)->rev
					     : ((struct el_slice *)c.old)->rev;
	if (k == EL_KIND_SERVICE)
		compile_release(a->c.cs, ns, name);
	res->object = json; /* the answer: the object deleted */
	rc = apply_finish(a, &c, false, res);
	if (rc < 0 && a->n_refused == refused)
		a->n_refused++;
	return rc;
}

int
apply_start(struct apply *a, bool persist_all)
{
	const struct el_model *m = a->c.model;
	struct store_txn *t = NULL;
	const char *const *warn;
	unsigned n_warn = compile_warnings(a->c.cs, &warn);
	int rc = compile_writeback(a->c.cs, a->c.model);

	/* what the first compile left out (frontends taken, a family without
	 * a SNAT address or pool) goes to the log once */
	for (unsigned i = 0; i < n_warn; i++)
		fprintf(stderr, "edgelb: warning: %s\n", warn[i]);

	if (rc < 0 || !persist_all || a->c.store == NULL)
		return rc;
	/* one transaction: one journal record, one flush */
	rc = store_txn_begin(a->c.store, &t);
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++)
		rc = store_txn_put(t, EL_KIND_SERVICE, m->svcs[i]);
	for (unsigned i = 0; rc == 0 && i < m->n_eps; i++)
		rc = store_txn_put(t, EL_KIND_ENDPOINTS, m->eps[i]);
	for (unsigned i = 0; rc == 0 && i < m->n_slices; i++)
		rc = store_txn_put(t, EL_KIND_SLICE, m->slices[i]);
	if (rc < 0) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}
