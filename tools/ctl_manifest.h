/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Manifests of edgelbctl: files, directories or standard input holding
 * Kubernetes objects (multi-document YAML or JSON, List objects unwrapped),
 * the kinds edgelb serves and the REST path of each object.
 *
 * Thread safety: no global state; a manifest set belongs to one thread.
 */
#ifndef EDGELB_CTL_MANIFEST_H
#define EDGELB_CTL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_doc.h"

/** Kinds of objects the API stores. */
enum ctl_kind {
	CTL_KIND_SERVICE,
	CTL_KIND_ENDPOINTS,
	CTL_KIND_ENDPOINTSLICE,
	CTL_KIND_COUNT,
	CTL_KIND_NONE = -1, /**< an object that could not be read */
};

/** One object found in the input. */
struct ctl_object {
	enum ctl_kind kind;   /**< CTL_KIND_NONE when error is set */
	char *ns;	      /**< metadata.namespace, else -n, else "default" */
	char *name;	      /**< metadata.name */
	struct ctl_node *doc; /**< the object as read (owned) */
	char *origin;	      /**< "FILE, document N" (", item M" in a List) */
	char *error;	      /**< why the object cannot be sent, or NULL */
	size_t seq;	      /**< position in the input */
};

/** Objects of every input, in input order until sorted. */
struct ctl_manifest {
	struct ctl_object *objs;
	size_t n;
};

/** Largest manifest file read. */
#define CTL_MANIFEST_MAX_FILE (64u << 20)

/**
 * Kind of a document from its apiVersion and kind fields.
 * @return 0, -ENOENT (a kind edgelb does not store), -EPROTO (a known kind
 *         with another apiVersion)
 */
int ctl_manifest_kind_of(const char *api_version, const char *kind, enum ctl_kind *k);

/**
 * Kind named on the command line: service|services|svc,
 * endpoints|endpoint|ep, endpointslice|endpointslices (also with
 * ".discovery.k8s.io").
 * @return 0, or -ENOENT
 */
int ctl_manifest_kind_word(const char *word, enum ctl_kind *k);

/** Lower-case resource name as kubectl prints it: "service", "endpoints",
 *  "endpointslice.discovery.k8s.io". */
const char *ctl_manifest_kind_name(enum ctl_kind k);

/** The kind field of such objects: "Service", "Endpoints", "EndpointSlice". */
const char *ctl_manifest_kind_field(enum ctl_kind k);

/** The apiVersion of such objects: "v1" or "discovery.k8s.io/v1". */
const char *ctl_manifest_api_version(enum ctl_kind k);

/**
 * REST path of an object, of a namespace's list or of the list of all
 * namespaces. Namespace and name are percent-encoded.
 * @param k     kind
 * @param ns    namespace, or NULL for every namespace (then @p name is NULL)
 * @param name  object name, or NULL for the list
 * @return 0, -EINVAL (name without namespace), -ENOSPC (buffer too small)
 */
int ctl_manifest_path(enum ctl_kind k, const char *ns, const char *name, char *buf, size_t len);

/**
 * Add every object of a YAML/JSON text. Empty documents are skipped; a List
 * (kind "List" or "<Kind>List") adds its items. An object that cannot be
 * sent (not a mapping, unknown kind, missing name, namespace other than
 * @p ns) is added with its error set, so that the others still go.
 * @param file  name used in messages ("<stdin>" for standard input)
 * @param ns    namespace given with -n, or NULL
 * @param err   receives "FILE: document D, line L: problem" when the text does
 *              not parse
 * @return 0, -EINVAL (syntax: nothing added), -ENOMEM
 */
int ctl_manifest_add_text(struct ctl_manifest *m, const char *file, const char *text, size_t len,
			  const char *ns, char *err, size_t errlen);

/**
 * Add a file, every *.yaml, *.yml and *.json file of a directory (sorted by
 * name, not recursive), or standard input ("-").
 * @return 0, or a negative errno with @p err naming the file
 */
int ctl_manifest_add_path(struct ctl_manifest *m, const char *path, const char *ns, char *err,
			  size_t errlen);

/**
 * Order for sending: Services, then Endpoints, then EndpointSlices (kubectl's
 * order), the reverse for deleting; stable within a kind; unreadable objects
 * last.
 */
void ctl_manifest_sort(struct ctl_manifest *m, bool for_delete);

/** Free every object. */
void ctl_manifest_free(struct ctl_manifest *m);

#endif
