/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * JSON answers of the REST API: the stored objects as Kubernetes objects
 * (through model_*_to_json()), Kubernetes List objects of them, and the
 * Kubernetes Status object that carries every error (apimachinery's
 * metav1.Status: kind, apiVersion, status, message, reason, code, details).
 *
 * Also a small growing text buffer with JSON string escaping (RFC 8259
 * section 7), used for these and for the other JSON the API renders.
 *
 * Plain C, no EAL. Every function returns a malloc'd NUL-terminated string
 * (free() it), or NULL when memory ran out.
 *
 * Thread safety: pure functions of their arguments; the model must not
 * change during a call (control thread).
 */
#ifndef EDGELB_MODEL_JSON_H
#define EDGELB_MODEL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "edgelb/model.h"

/** The kinds of object the API stores. */
enum el_kind { EL_KIND_SERVICE = 0, EL_KIND_ENDPOINTS, EL_KIND_SLICE, EL_KIND_COUNT };

/** "Service", "Endpoints", "EndpointSlice". */
const char *model_json_kind(enum el_kind k);

/** "v1" or "discovery.k8s.io/v1". */
const char *model_json_api_version(enum el_kind k);

/** The resource name in URLs: "services", "endpoints", "endpointslices". */
const char *model_json_resource(enum el_kind k);

/**
 * Render one object of kind @p k (a struct el_service, el_endpoints or
 * el_slice) as a Kubernetes JSON object.
 */
char *model_json_object(enum el_kind k, const void *obj);

/**
 * Render a List of every object of kind @p k in @p m, or of namespace
 * @p ns only: {"apiVersion", "kind": "ServiceList" (etc.), "metadata":
 * {"resourceVersion": model revision}, "items": [...]}. Items are in
 * (namespace, name) order.
 *
 * @param ns  namespace, or NULL for every namespace
 */
char *model_json_list(const struct el_model *m, enum el_kind k, const char *ns);

/** What a Status object says. NULL strings are left out. */
struct model_json_status {
	int code;	     /**< HTTP status; "Success" below 400, else "Failure" */
	const char *reason;  /**< "NotFound", "Invalid", ... */
	const char *message; /**< human readable, names the field at fault */
	const char *name;    /**< details.name: the object's name */
	const char *kind;    /**< details.kind: the resource ("services") */
	const char *field;   /**< details.causes[0].field */
	const char *cause;   /**< details.causes[0].message */
};

/** Render a Kubernetes Status object. */
char *model_json_status(const struct model_json_status *st);

/* ---- text buffer ---- */

/** A growing NUL-terminated buffer; zero-initialise it. After an
 *  allocation failure every call is a no-op and oom is set. */
struct model_json_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/** Append @p n bytes. */
void model_json_buf_put(struct model_json_buf *b, const char *s, size_t n);
/** Append a C string as is. */
void model_json_buf_raw(struct model_json_buf *b, const char *s);
/** Append printf output. */
void model_json_buf_fmt(struct model_json_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Append a C string as a quoted, escaped JSON string. */
void model_json_buf_str(struct model_json_buf *b, const char *s);
/**
 * Finish: the text (the caller frees it), or NULL after an allocation
 * failure (the buffer is freed). An empty buffer gives "".
 */
char *model_json_buf_done(struct model_json_buf *b);

#endif
