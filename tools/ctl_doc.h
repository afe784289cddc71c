/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Documents of edgelbctl: a small tree of mappings, sequences and typed
 * scalars, loaded from YAML or JSON text (libyaml reads both) and written
 * back as JSON or YAML.
 *
 * Plain (unquoted) scalars are typed as YAML 1.1 resolves them, which is what
 * kubectl does with manifests: null (~, null, empty), booleans (true/false,
 * yes/no, on/off, y/n in their three spellings), integers (decimal, 0x hex,
 * 0 octal, 0b binary, '_' separators) and floats. Every quoted or block
 * scalar is a string, so "8080" stays a string. Tags !!str, !!int, !!float,
 * !!bool and !!null are honoured. Anchors and aliases are expanded.
 * Reference: YAML 1.1 type repository, https://yaml.org/type/ (bool, int,
 * float, null).
 *
 * Thread safety: no global state; a tree belongs to the thread that loaded it.
 */
#ifndef EDGELB_CTL_DOC_H
#define EDGELB_CTL_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_buf.h"

/** Node kinds; scalars keep their JSON spelling in ctl_node.text. */
enum ctl_node_type {
	CTL_NODE_NULL,
	CTL_NODE_BOOL,
	CTL_NODE_INT,
	CTL_NODE_FLOAT,
	CTL_NODE_STR,
	CTL_NODE_MAP,
	CTL_NODE_SEQ,
};

/** One node of a document. */
struct ctl_node {
	enum ctl_node_type type;
	/** Scalars: the value, NUL-terminated. NULL "null", BOOL "true" or
	 *  "false", INT and FLOAT a valid JSON number, STR the string (which
	 *  may hold NUL bytes: use len). Collections: NULL. */
	char *text;
	size_t len;		 /**< length of text */
	size_t n;		 /**< MAP: pairs, SEQ: items */
	struct ctl_node **keys;	 /**< MAP: n keys, each a CTL_NODE_STR */
	struct ctl_node **items; /**< MAP: n values, SEQ: n items */
	unsigned line;		 /**< 1-based line where the node starts, 0 if built */
};

/** Most nodes one load may create (aliases included), against alias bombs. */
#define CTL_DOC_MAX_NODES 1000000
/** Deepest nesting accepted. */
#define CTL_DOC_MAX_DEPTH 64

/**
 * Parse every document of a YAML or JSON stream.
 * @param buf     the text (need not be NUL-terminated)
 * @param len     its length
 * @param docs    receives a malloc'd array of roots (free with
 *                ctl_doc_free_all); an empty document is a CTL_NODE_NULL root
 * @param n_docs  receives the count (0 for an empty stream)
 * @param err     receives "document D, line L: what is wrong" on failure
 * @param errlen  size of @p err
 * @return 0, -EINVAL (syntax, duplicate key, unknown alias, a collection
 *         used as a key, too deep or too many nodes), or -ENOMEM
 */
int ctl_doc_load(const char *buf, size_t len, struct ctl_node ***docs, size_t *n_docs, char *err,
		 size_t errlen);

/**
 * Parse text holding exactly one document (a JSON answer of the server).
 * @return 0, -EINVAL (syntax, or not exactly one document), -ENOMEM
 */
int ctl_doc_load_one(const char *buf, size_t len, struct ctl_node **doc, char *err, size_t errlen);

/**
 * Type of a plain YAML 1.1 scalar.
 * @param s     the scalar text as written
 * @param len   its length
 * @param norm  receives (malloc'd) the JSON spelling of the value: the
 *              string itself for CTL_NODE_STR, "true"/"false", "null", or a
 *              JSON number (hex, octal and binary integers in decimal,
 *              '_' removed, floats in shortest round-trip form)
 * @return the type (never MAP or SEQ), or -ENOMEM
 */
int ctl_doc_resolve(const char *s, size_t len, char **norm);

/** Free a tree (NULL is fine). */
void ctl_doc_free(struct ctl_node *n);

/** Free an array returned by ctl_doc_load and every root in it. */
void ctl_doc_free_all(struct ctl_node **docs, size_t n);

/** Deep copy. @return the copy, or NULL (out of memory) */
struct ctl_node *ctl_doc_copy(const struct ctl_node *n);

/**
 * Append @p n as JSON.
 * @param indent  0: compact on one line; else spaces per nesting level,
 *                one member per line
 * @return 0, or -ENOMEM
 */
int ctl_doc_to_json(const struct ctl_node *n, int indent, struct ctl_buf *out);

/**
 * Append @p n as one YAML document (block style, 2-space indent, strings
 * that would read back as another type double-quoted).
 * @return 0, -ENOMEM, or -EIO (emitter failure)
 */
int ctl_doc_to_yaml(const struct ctl_node *n, struct ctl_buf *out);

/** Value of @p key in mapping @p map; NULL when absent or not a mapping. */
const struct ctl_node *ctl_doc_get(const struct ctl_node *map, const char *key);

/**
 * Walk nested mappings: ctl_doc_at(svc, "status", "loadBalancer", NULL).
 * @return the node, or NULL when a step is absent or not a mapping
 */
const struct ctl_node *ctl_doc_at(const struct ctl_node *n, ...) __attribute__((sentinel));

/**
 * Text of a scalar reached as ctl_doc_at does.
 * @return the text, or NULL when absent, null or a collection
 */
const char *ctl_doc_str(const struct ctl_node *n, ...) __attribute__((sentinel));

/** A sequence reached as ctl_doc_at does; NULL when absent or not a sequence. */
const struct ctl_node *ctl_doc_seq(const struct ctl_node *n, ...) __attribute__((sentinel));

/** True when @p n is a scalar equal to @p s (NULL node: false). */
bool ctl_doc_is(const struct ctl_node *n, const char *s);

/**
 * Build a string scalar.
 * @return the node, or NULL (out of memory)
 */
struct ctl_node *ctl_doc_new_str(const char *s);

#endif
