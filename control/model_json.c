/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON answers of the REST API (model_json.h): objects, Lists and Status
 * objects shaped as the Kubernetes API server shapes them (apimachinery
 * metav1.List and metav1.Status), written as RFC 8259 text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/model_json.h"

static const char *const model_json_kinds[EL_KIND_COUNT] = {"Service", "Endpoints",
							    "EndpointSlice"};
static const char *const model_json_resources[EL_KIND_COUNT] = {"services", "endpoints",
								"endpointslices"};

const char *
model_json_kind(enum el_kind k)
{
	return (unsigned)k < EL_KIND_COUNT ? model_json_kinds[k] : "?";
}

const char *
model_json_api_version(enum el_kind k)
{
	return k == EL_KIND_SLICE ? "discovery.k8s.io/v1" : "v1";
}

const char *
model_json_resource(enum el_kind k)
{
	return (unsigned)k < EL_KIND_COUNT ? model_json_resources[k] : "?";
}

/* ---- buffer ---- */

void
model_json_buf_put(struct model_json_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
model_json_buf_raw(struct model_json_buf *b, const char *s)
{
	model_json_buf_put(b, s, strlen(s));
}

void
model_json_buf_fmt(struct model_json_buf *b, const char *fmt, ...)
{
	char small[256], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		model_json_buf_put(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	model_json_buf_put(b, big, (size_t)n);
	free(big);
}

void
model_json_buf_str(struct model_json_buf *b, const char *s)
{
	const char *run = s;

	model_json_buf_put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		model_json_buf_put(b, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			model_json_buf_put(b, esc, 2);
		} else if (c == '\n') {
			model_json_buf_put(b, "\\n", 2);
		} else if (c == '\t') {
			model_json_buf_put(b, "\\t", 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			model_json_buf_put(b, esc, 6);
		}
	}
	model_json_buf_put(b, run, (size_t)(s - run));
	model_json_buf_put(b, "\"", 1);
}

char *
model_json_buf_done(struct model_json_buf *b)
{
	char *p;

	if (b->oom) {
		free(b->p);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	if (b->p == NULL)
		return strdup("");
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/* ---- objects and lists ---- */

char *
model_json_object(enum el_kind k, const void *obj)
{
	switch (k) {
	case EL_KIND_SERVICE:
		return model_service_to_json(obj);
	case EL_KIND_ENDPOINTS:
		return model_endpoints_to_json(obj);
	case EL_KIND_SLICE:
		return model_slice_to_json(obj);
	default:
		errno = EINVAL;
		return NULL;
	}
}

/* The i-th object of kind @p k and its namespace (the first field of all
 * three kinds). */
static const void *
model_json_nth(const struct el_model *m, enum el_kind k, unsigned i, const char **ns)
{
	const void *o = NULL;

	switch (k) {
	case EL_KIND_SERVICE:
		o = i < m->n_svcs ? m->svcs[i] : NULL;
		break;
	case EL_KIND_ENDPOINTS:
		o = i < m->n_eps ? m->eps[i] : NULL;
		break;
	case EL_KIND_SLICE:
		o = i < m->n_slices ? m->slices[i] : NULL;
		break;
	default:
		break;
	}
	*ns = (const char *)o;
	return o;
}

char *
model_json_list(const struct el_model *m, enum el_kind k, const char *ns)
{
	struct model_json_buf b = {0};
	const char *ons;
	const void *o;
	bool first = true;

	if ((unsigned)k >= EL_KIND_COUNT) {
		errno = EINVAL;
		return NULL;
	}
	model_json_buf_raw(&b, "{\"apiVersion\":");
	model_json_buf_str(&b, model_json_api_version(k));
	model_json_buf_fmt(&b,
			   ",\"kind\":\"%sList\",\"metadata\":{\"resourceVersion\":\"%" PRIu64
			   "\"},\"items\":[",
			   model_json_kind(k), m->rev);
	for (unsigned i = 0; (o = model_json_nth(m, k, i, &ons)) != NULL; i++) {
		char *item;

		if (ns != NULL && strcmp(ons, ns) != 0)
			continue;
		item = model_json_object(k, o);
		if (item == NULL) {
			b.oom = true;
			break;
		}
		if (!first)
			model_json_buf_put(&b, ",", 1);
		first = false;
		model_json_buf_raw(&b, item);
		free(item);
	}
	model_json_buf_raw(&b, "]}");
	return model_json_buf_done(&b);
}

/* ---- Status ---- */

char *
model_json_status(const struct model_json_status *st)
{
	struct model_json_buf b = {0};
	bool details = st->name != NULL || st->kind != NULL || st->cause != NULL;

	model_json_buf_fmt(&b,
			   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			   "\"status\":\"%s\"",
			   st->code < 400 ? "Success" : "Failure");
	if (st->message != NULL) {
		model_json_buf_raw(&b, ",\"message\":");
		model_json_buf_str(&b, st->message);
	}
	if (st->reason != NULL) {
		model_json_buf_raw(&b, ",\"reason\":");
		model_json_buf_str(&b, st->reason);
	}
	if (details) {
		bool first = true;

		model_json_buf_raw(&b, ",\"details\":{");
		if (st->name != NULL) {
			model_json_buf_raw(&b, "\"name\":");
			model_json_buf_str(&b, st->name);
			first = false;
		}
		if (st->kind != NULL) {
			model_json_buf_raw(&b, first ? "\"kind\":" : ",\"kind\":");
			model_json_buf_str(&b, st->kind);
			first = false;
		}
		if (st->cause != NULL) {
			model_json_buf_raw(&b, first ? "\"causes\":[{" : ",\"causes\":[{");
			if (st->field != NULL) {
				model_json_buf_raw(&b, "\"field\":");
				model_json_buf_str(&b, st->field);
				model_json_buf_put(&b, ",", 1);
			}
			model_json_buf_raw(&b, "\"message\":");
			model_json_buf_str(&b, st->cause);
			model_json_buf_raw(&b, "}]");
		}
		model_json_buf_raw(&b, "}");
	}
	model_json_buf_fmt(&b, ",\"code\":%d}", st->code);
	return model_json_buf_done(&b);
}
