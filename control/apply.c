/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The change transaction of the REST API (apply.h).
 *
 * The checks added here on top of model.c's are those the Kubernetes API
 * server makes when it allocates (pkg/registry/core/service: a requested
 * nodePort must lie in the range and be free), plus the rule MetalLB and
 * other bare-metal load balancers apply to a requested loadBalancerIP: it
 * must lie in a pool, and two services may share it only when they do not
 * use the same port.
 *
 * Copy-on-write: the change is made in a deep copy of the live model
 * (model_clone()), which replaces the live model only once the new snapshot
 * is compiled, the changed objects are on disk and the snapshot is
 * published. The copy costs O(objects) per change, as the compile does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "edgelb/manifest.h"

#include "apply.h"

#define APPLY_MAX_WRITES 4096 /* objects one change may rewrite (its own + moved allocations) */

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

int
apply_body_scan(const char *body, size_t len, struct apply_body_info *info, char *err,
		size_t errlen)
{
	struct apply_frame stack[MANIFEST_MAX_DEPTH + 1];
	unsigned depth = 0;
	bool done = false, counted = false;
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)body, len);
	while (!done && rc == 0) {
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
		struct apply_frame *top = depth > 0 ? &stack[depth - 1] : NULL;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			counted = false;
			depth = 0;
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			size_t n = ev.data.scalar.length;

			if (depth == 0) {
				/* an empty document is a plain empty (or null) scalar */
				bool nothing =
				    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				    (n == 0 || strcmp(s, "null") == 0 || strcmp(s, "~") == 0);
				if (!nothing && !counted) {
					info->docs++;
					counted = true;
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
			if (depth == 0 && !counted) {
				info->docs++;
				counted = true;
			}
			if (depth > MANIFEST_MAX_DEPTH) {
				snprintf(err, errlen, "line %u: nested deeper than %d levels",
					 (unsigned)ev.start_mark.line + 1, MANIFEST_MAX_DEPTH);
				rc = -EBADMSG;
				break;
			}
			stack[depth] = (struct apply_frame){
			    .map = ev.type == YAML_MAPPING_START_EVENT,
			    .want_key = true,
			    .key = KEY_OTHER,
			    .meta = depth == 1 && top->map && !top->want_key &&
				    top->key == KEY_META && info->docs == 1 &&
				    ev.type == YAML_MAPPING_START_EVENT,
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
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
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

/* ---- service checks the model does not make ---- */

static bool
apply_has_node_ports(const struct el_service *s)
{
	return s->type == EL_SVC_NODE_PORT || s->type == EL_SVC_LOAD_BALANCER;
}

static bool
apply_in_pool(const struct el_config *cfg, const struct el_ip *ip)
{
	for (unsigned i = 0; i < cfg->n_pools; i++) {
		const struct el_cfg_pool *p = &cfg->pools[i];
		if (p->first.family == ip->family && el_ip_cmp(&p->first, ip) <= 0 &&
		    el_ip_cmp(ip, &p->last) <= 0)
			return true;
	}
	return false;
}

static bool
apply_ports_overlap(const struct el_service *a, const struct el_service *b)
{
	for (unsigned i = 0; i < a->n_ports; i++)
		for (unsigned j = 0; j < b->n_ports; j++)
			if (a->ports[i].proto == b->ports[j].proto &&
			    a->ports[i].port == b->ports[j].port)
				return true;
	return false;
}

static int
apply_check_service(const struct apply *a, const struct el_service *s, struct apply_result *res)
{
	const struct el_config *cfg = a->c.cfg;
	const struct el_model *m = a->c.model;
	char msg[512], ipbuf[EL_IP_STRLEN];

	for (unsigned i = 0; apply_has_node_ports(s) && i < s->n_ports; i++) {
		const struct el_svc_port *p = &s->ports[i];

		if (p->node_port == 0)
			continue;
		if (p->node_port < cfg->nodeport_min || p->node_port > cfg->nodeport_max) {
			snprintf(
			    msg, sizeof(msg),
			    "spec.ports[%u].nodePort: Invalid value: %d: provided port is not in "
			    "the valid range. The range of valid ports is %u-%u",
			    i, p->node_port, cfg->nodeport_min, cfg->nodeport_max);
			return apply_field_error(res, -EINVAL, 422, "Invalid", EL_KIND_SERVICE,
						 s->name, msg);
		}
		for (unsigned k = 0; k < m->n_svcs; k++) {
			const struct el_service *o = m->svcs[k];

			if (!apply_has_node_ports(o) ||
			    (strcmp(o->ns, s->ns) == 0 && strcmp(o->name, s->name) == 0))
				continue;
			for (unsigned j = 0; j < o->n_ports; j++) {
				if (o->ports[j].node_port != p->node_port ||
				    o->ports[j].proto != p->proto)
					continue;
				snprintf(
				    msg, sizeof(msg),
				    "spec.ports[%u].nodePort: Invalid value: %d: provided port "
				    "is already allocated to %s/%s (%s)",
				    i, p->node_port, o->ns, o->name, model_proto_name(p->proto));
				return apply_field_error(res, -EEXIST, 409, "Conflict",
							 EL_KIND_SERVICE, s->name, msg);
			}
		}
	}
	if (s->type != EL_SVC_LOAD_BALANCER || s->lb_ip.family == EL_AF_NONE ||
	    !model_service_programmable(s))
		return 0;
	el_ip_fmt(&s->lb_ip, ipbuf, sizeof(ipbuf));
	if (!apply_in_pool(cfg, &s->lb_ip)) {
		snprintf(msg, sizeof(msg),
			 "spec.loadBalancerIP: Invalid value: %s: not inside any loadbalancer pool",
			 ipbuf);
		return apply_field_error(res, -EINVAL, 422, "Invalid", EL_KIND_SERVICE, s->name,
					 msg);
	}
	for (unsigned k = 0; k < m->n_svcs; k++) {
		const struct el_service *o = m->svcs[k];
		bool holds = false, chosen;

		if (o->type != EL_SVC_LOAD_BALANCER ||
		    (strcmp(o->ns, s->ns) == 0 && strcmp(o->name, s->name) == 0))
			continue;
		for (unsigned j = 0; j < o->n_lb_ingress; j++)
			holds |= el_ip_eq(&o->lb_ingress[j], &s->lb_ip);
		chosen = el_ip_eq(&o->lb_ip, &s->lb_ip);
		if (!holds && !chosen)
			continue;
		/* Sharing is for services that both asked for the address and
		 * use different ports; an address edgelb chose stays its own. */
		if (chosen && !apply_ports_overlap(o, s))
			continue;
		snprintf(msg, sizeof(msg),
			 "spec.loadBalancerIP: Invalid value: %s: already in use by %s/%s%s", ipbuf,
			 o->ns, o->name, chosen ? " on the same port" : "");
		return apply_field_error(res, -EEXIST, 409, "Conflict", EL_KIND_SERVICE, s->name,
					 msg);
	}
	return 0;
}

/* ---- persisting ---- */

/* One file rewritten by a change, and what was there before. */
struct apply_write {
	enum el_kind k;
	const void *now;    /* object in the new model; NULL = deleted */
	const void *before; /* object in the live model; NULL = new */
};

static bool
apply_svc_alloc_changed(const struct el_service *x, const struct el_service *y)
{
	if (x->n_ports != y->n_ports || x->n_lb_ingress != y->n_lb_ingress)
		return true;
	for (unsigned i = 0; i < x->n_ports; i++)
		if (x->ports[i].node_port != y->ports[i].node_port)
			return true;
	for (unsigned i = 0; i < x->n_lb_ingress; i++)
		if (!el_ip_eq(&x->lb_ingress[i], &y->lb_ingress[i]))
			return true;
	return false;
}

/*
 * Files a change rewrites: its own object, and every other service whose
 * allocations the compile moved.
 */
static int
apply_collect_writes(const struct el_model *live, const struct el_model *next, enum el_kind k,
		     const char *ns, const char *name, struct apply_write *w, unsigned *n)
{
	*n = 0;
	w[(*n)++] = (struct apply_write){
	    .k = k,
	    .now = apply_find(next, k, ns, name),
	    .before = apply_find(live, k, ns, name),
	};
	for (unsigned i = 0; i < next->n_svcs; i++) {
		const struct el_service *s = next->svcs[i], *o;

		if (k == EL_KIND_SERVICE && strcmp(s->ns, ns) == 0 && strcmp(s->name, name) == 0)
			continue;
		o = model_find_service(live, s->ns, s->name);
		if (o == NULL || !apply_svc_alloc_changed(o, s))
			continue;
		if (*n == APPLY_MAX_WRITES)
			return -E2BIG;
		w[(*n)++] = (struct apply_write){.k = EL_KIND_SERVICE, .now = s, .before = o};
	}
	return 0;
}

static int
apply_write_one(struct store *st, enum el_kind k, const void *obj, const void *other)
{
	if (obj != NULL)
		return store_put(st, k, obj);
	return store_delete(st, k, (const char *)other, (const char *)other + EL_LABEL_MAX);
}

/* Write @p w to the store; on failure put back what was written. */
static int
apply_persist(struct store *st, const struct apply_write *w, unsigned n)
{
	unsigned done;
	int rc = 0;

	if (st == NULL)
		return 0;
	for (done = 0; done < n; done++) {
		rc = apply_write_one(st, w[done].k, w[done].now, w[done].before);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		return 0;
	while (done-- > 0)
		(void)apply_write_one(st, w[done].k, w[done].before, w[done].now);
	return rc;
}

/* ---- the transaction ---- */

/* Map a compile failure to a Status. */
static int
apply_compile_failed(struct apply_result *res, int rc, enum el_kind k, const char *ns,
		     const char *name, const char *err)
{
	char prefix[EL_LABEL_MAX + EL_SUBDOMAIN_MAX + 4];
	const char *msg = err[0] ? err : strerror(-rc);
	size_t pl;

	/* "ns/name: FIELD: text" names the field only when it is ours */
	snprintf(prefix, sizeof(prefix), "%s/%s: ", ns, name);
	pl = strlen(prefix);
	switch (rc) {
	case -EEXIST:
	case -ENOSPC:
		if (strncmp(msg, prefix, pl) == 0)
			return apply_field_error(res, rc, 409, "Conflict", k, name, msg + pl);
		return apply_refuse(res, rc, 409, "Conflict", "%s", msg);
	case -EINVAL:
		if (strncmp(msg, prefix, pl) == 0)
			return apply_field_error(res, rc, 422, "Invalid", k, name, msg + pl);
		return apply_refuse(res, rc, 422, "Invalid", "%s", msg);
	default:
		return apply_refuse(res, rc, 500, "InternalError", "compile: %s", msg);
	}
}

/*
 * Compile @p next, persist what changed against the live model, publish,
 * and make @p next the live model. @p next is consumed (freed on failure).
 */
static int
apply_commit(struct apply *a, struct el_model *next, enum el_kind k, const char *ns,
	     const char *name, struct apply_result *res)
{
	struct el_snapshot *snap = NULL, *undo = NULL;
	struct apply_write *w = NULL;
	char err[512] = "";
	unsigned n_w = 0;
	int rc;

	rc = compile_snapshot(a->c.cs, next, &snap, err, sizeof(err));
	if (rc < 0) {
		el_model_free(next);
		return apply_compile_failed(res, rc, k, ns, name, err);
	}
	rc = compile_writeback(a->c.cs, next);
	w = calloc(APPLY_MAX_WRITES, sizeof(*w));
	if (rc == 0 && w == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = apply_collect_writes(a->c.model, next, k, ns, name, w, &n_w);
	if (rc < 0) {
		apply_refuse(res, rc, 500, "InternalError", "%s", strerror(-rc));
		goto undo;
	}
	rc = apply_persist(a->c.store, w, n_w);
	if (rc < 0) {
		apply_refuse(res, -EIO, 500, "InternalError", "cannot write %s/%s to %s: %s", ns,
			     name, a->c.store ? store_dir(a->c.store) : "the state directory",
			     strerror(-rc));
		rc = -EIO;
		goto undo;
	}
	free(w);

	/* on disk: from here on the change stands */
	(void)a->c.publish(a->c.publish_ctx, snap);
	el_model_free(a->c.model);
	*a->c.model = *next;
	a->n_applied++;
	return 0;

undo:
	/* forget the refused change's allocations: compile the live model again */
	free(w);
	compile_snapshot_free(a->c.cs, snap);
	if (compile_snapshot(a->c.cs, a->c.model, &undo, err, sizeof(err)) == 0)
		compile_snapshot_free(a->c.cs, undo);
	el_model_free(next);
	return rc;
}

static int
apply_put_locked(struct apply *a, enum el_kind k, const char *ns, const char *name,
		 const char *body, size_t len, bool create_only, struct apply_result *res)
{
	struct apply_body_info info;
	struct el_model scratch, next;
	char err[768] = "", fixed[900];
	const char *kind = model_json_kind(k), *msg;
	unsigned line;
	bool exists;
	void *obj;
	int rc;

	rc = apply_body_scan(body, len, &info, err, sizeof(err));
	if (rc == -ENOMEM)
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	if (rc < 0)
		return apply_refuse(res, -EBADMSG, 400, "BadRequest",
				    "the request body is not valid JSON or YAML: %s", err);
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
	rc = manifest_load_buf(&scratch, body, len, "request body", err, sizeof(err));
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

	if (k == EL_KIND_SERVICE) {
		struct el_service *s = obj;

		/* status is edgelb's to fill in; nodePorts in the body are requests */
		free(s->lb_ingress);
		s->lb_ingress = NULL;
		s->n_lb_ingress = 0;
		s->lb_ingress_auto = false;
		for (unsigned i = 0; i < s->n_ports; i++)
			s->ports[i].node_port_auto = false;
		rc = model_validate_service(s, err, sizeof(err));
		if (rc == 0)
			rc = apply_check_service(a, s, res);
		else
			rc = apply_field_error(res, rc, 422, "Invalid", k, name, err);
		if (rc < 0) {
			model_service_free(s);
			return rc;
		}
	}

	exists = apply_find(a->c.model, k, ns, name) != NULL;
	if (exists && create_only) {
		apply_free_obj(k, obj);
		apply_refuse(res, -EEXIST, 409, "AlreadyExists", "%s \"%s\" already exists", kind,
			     name);
		return -EEXIST;
	}
	rc = model_clone(&next, a->c.model);
	if (rc < 0) {
		apply_free_obj(k, obj);
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	}
	rc = apply_put_obj(&next, k, obj, err, sizeof(err));
	if (rc < 0) {
		apply_free_obj(k, obj);
		el_model_free(&next);
		if (rc == -EINVAL)
			return apply_field_error(res, rc, 422, "Invalid", k, name, err);
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	}
	rc = apply_commit(a, &next, k, ns, name, res);
	if (rc < 0)
		return rc;
	res->code = exists ? 200 : 201;
	res->object = model_json_object(k, apply_find(a->c.model, k, ns, name));
	return 0;
}

int
apply_put(struct apply *a, enum el_kind k, const char *ns, const char *name, const char *body,
	  size_t len, bool create_only, struct apply_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if ((unsigned)k >= EL_KIND_COUNT)
		return apply_refuse(res, -EINVAL, 404, "NotFound", "unknown kind");
	rc = apply_put_locked(a, k, ns, name, body, len, create_only, res);
	if (rc < 0)
		a->n_refused++;
	return rc;
}

int
apply_delete(struct apply *a, enum el_kind k, const char *ns, const char *name,
	     struct apply_result *res)
{
	struct el_model next;
	char *json;
	void *obj;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((unsigned)k >= EL_KIND_COUNT)
		return apply_refuse(res, -EINVAL, 404, "NotFound", "unknown kind");
	if (apply_find(a->c.model, k, ns, name) == NULL) {
		a->n_refused++;
		return apply_refuse(res, -ENOENT, 404, "NotFound",
				    "%s \"%s\" not found in namespace \"%s\"",
				    model_json_resource(k), name, ns);
	}
	rc = model_clone(&next, a->c.model);
	if (rc < 0) {
		a->n_refused++;
		return apply_refuse(res, rc, 500, "InternalError", "out of memory");
	}
	obj = apply_take(&next, k, ns, name);
	json = model_json_object(k, obj);
	apply_free_obj(k, obj);
	if (json == NULL) {
		el_model_free(&next);
		a->n_refused++;
		return apply_refuse(res, -ENOMEM, 500, "InternalError", "out of memory");
	}
	rc = apply_commit(a, &next, k, ns, name, res);
	if (rc < 0) {
		free(json);
		a->n_refused++;
		return rc;
	}
	res->code = 200;
	res->object = json;
	return 0;
}

int
apply_start(struct apply *a, bool persist_all)
{
	const struct el_model *m = a->c.model;
	int rc = compile_writeback(a->c.cs, a->c.model);

	if (rc < 0 || !persist_all || a->c.store == NULL)
		return rc;
	for (unsigned i = 0; rc == 0 && i < m->n_svcs; i++)
		rc = store_put(a->c.store, EL_KIND_SERVICE, m->svcs[i]);
	for (unsigned i = 0; rc == 0 && i < m->n_eps; i++)
		rc = store_put(a->c.store, EL_KIND_ENDPOINTS, m->eps[i]);
	for (unsigned i = 0; rc == 0 && i < m->n_slices; i++)
		rc = store_put(a->c.store, EL_KIND_SLICE, m->slices[i]);
	return rc;
}
