/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * One change of the service model, all or nothing: the transaction behind
 * every PUT, POST and DELETE of the REST API.
 *
 *   parse the body into a scratch model (one object) and validate it
 *   -> a Service: the API server's update rules, validation, then its
 *      nodePorts and LoadBalancer address (compile_assign())
 *   -> the object replaces its predecessor in the live model (kept aside)
 *   -> compile the Services the change touches (compile_update(); the
 *      others keep their objects) and persist the object (store.h; its
 *      journal record is flushed while the compile runs; durable before
 *      this returns)
 *   -> publish the snapshot.
 *
 * A refusal at any step leaves the live model, the compile state's
 * allocations, the store and the published snapshot as they were: after the
 * model changed, a failure puts the predecessor back, takes its allocations
 * again and rebuilds the touched Services.
 *
 * The outcome is described as a Kubernetes Status would describe it: HTTP
 * code, StatusReason, a message naming the field at fault.
 *
 * Plain C, no EAL: publishing goes through a callback (publish_snapshot()
 * in the appliance, a stub in unit tests).
 *
 * Thread safety: control thread only; the live model, compile state and
 * store are not locked.
 */
#ifndef EDGELB_APPLY_H
#define EDGELB_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#include "store.h"

/**
 * Hand a compiled snapshot to the workers. Takes ownership of @p snap in
 * every case. @return 0, or a negative errno for a partial failure (logged;
 * the change stands: it is already on disk).
 */
typedef int (*apply_publish_fn)(void *ctx, struct el_snapshot *snap);

struct apply_conf {
	const struct el_config *cfg; /**< nodePort range, pools */
	struct el_model *model;	     /**< the live model; replaced in place by each change */
	struct compile_state *cs;    /**< compiled @p model last */
	struct store *store;	     /**< NULL: nothing is persisted */
	apply_publish_fn publish;    /**< required */
	void *publish_ctx;
};

struct apply_result;

/** A change made in the live model, waiting for its group to commit. */
struct apply_staged {
	struct apply_change {
		enum el_kind k;
		char ns[EL_LABEL_MAX];
		char name[EL_SUBDOMAIN_MAX];
		void *old;	    /**< the object replaced or deleted; NULL: created */
		void *now;	    /**< the object stored; NULL: deleted */
		uint64_t old_rev;   /**< old's revision */
		uint64_t model_rev; /**< the model's revision before the change */
	} c;
	struct apply_result *res; /**< its answer, final when the group ends */
};

struct apply {
	struct apply_conf c;
	uint64_t n_applied; /**< changes accepted */
	uint64_t n_refused; /**< changes refused */
	uint64_t n_groups;  /**< commits (snapshots published by changes) */
	bool group;	    /**< apply_group_begin() is in effect */
	struct apply_staged *staged;
	unsigned n_staged, cap_staged;
};

/** The outcome of one request. */
struct apply_result {
	int code; /**< HTTP status: 200, 201, 400, 404, 409, 422, 500 */
	const char
	    *reason; /**< Kubernetes StatusReason ("Invalid", "NotFound"...); NULL on success */
	char message[1024]; /**< on failure: what is wrong, naming the field */
	char field[192];    /**< the field at fault ("spec.ports[0].port"); "" when none */
	char cause[768];    /**< the message about that field */
	char *object;	    /**< malloc'd JSON of the object stored (PUT/POST) or deleted
			     *   (DELETE); NULL on failure. Free with apply_result_clear(). */
};

/** What a request body holds at its top level (apply_body_scan()). */
struct apply_body_info {
	unsigned docs;	       /**< documents that hold something */
	char kind[64];	       /**< kind of the first document; "" when absent */
	char api_version[64];  /**< its apiVersion; "" when absent */
	bool has_name, has_ns; /**< metadata.name / metadata.namespace present */
	char name[EL_SUBDOMAIN_MAX];
	char ns[EL_LABEL_MAX];
	bool long_name, long_ns; /**< that string did not fit (it matches no URL) */
	bool long_value;	 /**< kind or apiVersion did not fit */
};

/** Start a transaction engine on the objects of @p c (copied). */
void apply_init(struct apply *a, const struct apply_conf *c);

/**
 * Read a request body (JSON or YAML) as far as its top-level shape: how
 * many documents, kind, apiVersion, metadata.name and metadata.namespace.
 *
 * @param err  receives the syntax error ("line L: ...") on failure
 * @return 0, -EBADMSG (not JSON/YAML), -ENOMEM
 */
int apply_body_scan(const char *body, size_t len, struct apply_body_info *info, char *err,
		    size_t errlen);

/**
 * Create or replace the object @p ns / @p name of kind @p k from @p body.
 *
 * The body must hold exactly one object of kind @p k whose metadata.name
 * and metadata.namespace (when given) equal @p name and @p ns. Its
 * status.loadBalancer.ingress is ignored (edgelb fills it in); nodePorts and
 * loadBalancerIP it gives are requests, checked against the nodePort range,
 * the pools and every other service.
 *
 * @param create_only  refuse (409 AlreadyExists) when the object exists (POST)
 * @param res          the outcome; res->object holds the stored object
 * A Service replacing another goes through the API server's update rules:
 * a change to a type without nodePorts drops the nodePorts the body still
 * carries from the old object (new ones are refused with 422), a port
 * without a nodePort keeps the one its namesake had.
 *
 * @return 0 (res->code 200 replaced, 201 created), or a negative errno
 *         with res->code: -EBADMSG 400, -EINVAL 422, -EEXIST 409 (a nodePort
 *         or address another Service holds, or AlreadyExists), -ENOSPC 500
 *         (nodePort range or pools full: InternalError, as the API server
 *         answers "range is full"), -ENOMEM 500, -EIO 500 (the store could
 *         not write)
 */
int apply_put(struct apply *a, enum el_kind k, const char *ns, const char *name, const char *body,
	      size_t len, bool create_only, struct apply_result *res);

/**
 * Delete the object @p ns / @p name of kind @p k; its allocations are
 * released.
 * @return 0 (res->code 200, res->object the deleted object), -ENOENT (404),
 *         or another negative errno as for apply_put()
 */
int apply_delete(struct apply *a, enum el_kind k, const char *ns, const char *name,
		 struct apply_result *res);

/**
 * After the first compile of the live model (at start): write the
 * allocations into it (compile_writeback()) so stored Services read back
 * with them, and when @p persist_all, write every object to the store (the
 * objects came from the config's manifests, not from the store).
 * @return 0, -ENOMEM, or the store's error
 */
int apply_start(struct apply *a, bool persist_all);

/**
 * Group commit: between apply_group_begin() and apply_group_end(), each
 * apply_put() or apply_delete() that is not refused outright is made in the
 * live model and staged (it returns 0 and fills res, whose answer is not
 * final yet); apply_group_end() then compiles the Services they touch once,
 * writes all their objects in one store transaction (one round of fsyncs),
 * publishes one snapshot, and only then are the answers final. If that
 * fails, every staged change is undone and its res says 500. Each res must
 * stay valid until apply_group_end() returns. Later changes of a group see
 * the earlier ones, as if they had been committed one by one.
 *
 * Outside a group every change commits before apply_put() returns.
 */
void apply_group_begin(struct apply *a);

/** Commit the staged changes (see apply_group_begin()). @return 0, or the
 *  negative errno with which every staged change was refused */
int apply_group_end(struct apply *a);

/** Warnings of the last compile (frontends left out...); see compile_warnings(). */
unsigned apply_warnings(const struct apply *a, const char *const **list);

/** Free res->object and reset @p res. */
void apply_result_clear(struct apply_result *res);

#endif
