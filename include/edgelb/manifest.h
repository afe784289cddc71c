/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Kubernetes manifests into the service model: multi-document YAML or JSON
 * (JSON is read as YAML by the same libyaml parser) holding Service (v1),
 * Endpoints (v1), EndpointSlice (discovery.k8s.io/v1) objects, or List
 * objects whose items are those.
 *
 * A call is all or nothing: every document is parsed and validated into a
 * scratch model first, and merged into the caller's model only when all of
 * them are good. Fields Kubernetes has and edgelb does not use are ignored;
 * a field edgelb uses with the wrong type is an error. YAML anchors and
 * aliases are refused (no alias bombs), and so is nesting deeper than
 * MANIFEST_MAX_DEPTH.
 *
 * Error messages read "SOURCE: document N, line L: FIELD: what is wrong";
 * FIELD is prefixed with "items[i]." inside a List.
 *
 * Thread safety: control thread (the model is not locked).
 */
#ifndef EDGELB_MANIFEST_H
#define EDGELB_MANIFEST_H

#include <stddef.h>

#include "edgelb/model.h"

#define MANIFEST_MAX_DEPTH     64
#define MANIFEST_MAX_FILE_SIZE (64u << 20) /**< bytes read from one file */

/**
 * Parse @p len bytes of manifests and merge them into @p m.
 *
 * @param src  name used in messages (file name, "request body")
 * @return 0, -EINVAL (bad document; @p m unchanged), -ENOMEM
 */
int manifest_load_buf(struct el_model *m, const char *buf, size_t len, const char *src, char *err,
		      size_t errlen);

/** manifest_parse_buf() flag: Services are parsed but not validated (the
 *  caller validates them, after rules of its own such as the API server's
 *  update rules). Endpoints and EndpointSlices are validated as always. */
#define MANIFEST_UNCHECKED_SERVICES 1u

/** manifest_load_buf() with flags (MANIFEST_*). */
int manifest_parse_buf(struct el_model *m, const char *buf, size_t len, const char *src,
		       unsigned flags, char *err, size_t errlen);

struct yaml_event_s; /* libyaml's yaml_event_t */

/**
 * manifest_parse_buf() of a text already read by a libyaml parser: its
 * events, in order, every one as yaml_parser_parse() gave it, the last
 * YAML_STREAM_END_EVENT (a list cut short ends there). Saves reading the
 * text twice when the caller had to read it first.
 *
 * @param events  @p n events; they stay the caller's (not modified, not
 *                deleted)
 * @return as manifest_parse_buf()
 * Thread: any; no shared state.
 */
int manifest_parse_events(struct el_model *m, const struct yaml_event_s *events, size_t n,
			  const char *src, unsigned flags, char *err, size_t errlen);

/**
 * Load a file, or every *.yaml, *.yml and *.json file of a directory in
 * sorted name order (not recursive), as one all-or-nothing change.
 *
 * @return 0, -EINVAL, -ENOMEM, -EFBIG (file larger than
 *         MANIFEST_MAX_FILE_SIZE), or the errno of open/read (-ENOENT...)
 */
int manifest_load_path(struct el_model *m, const char *path, char *err, size_t errlen);

#endif
