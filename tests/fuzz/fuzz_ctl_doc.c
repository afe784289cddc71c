/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: edgelbctl's documents (tools/ctl_doc.h), the YAML/JSON
 * reader behind `edgelbctl apply -f` and the JSON and YAML writers behind
 * `-o json|yaml`. Promises checked for every document the reader accepts:
 * - its JSON reads back as exactly one document whose JSON is the same
 *   text (what edgelbctl sends is what it meant);
 * - its YAML reads back as one document with that same JSON (what `-o
 *   yaml` prints can be applied again);
 * - a refused input returns -EINVAL or -ENOMEM with a message.
 * A broken promise is reported with abort().
 *
 * One limit is libyaml's, not edgelbctl's: an implicit mapping key (every
 * JSON key) may hold at most 1024 characters (YAML 1.1, section 7.4.3), so
 * JSON with a longer key cannot be read back. The JSON checks are left out
 * for documents with a key longer than 128 bytes (up to 6 characters each
 * once escaped); the YAML writer uses explicit keys ("? ") for those.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_buf.h"
#include "ctl_doc.h"

static void
fuzz_ctl_doc_require(int cond, const char *what, const char *a, const char *b)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ctl_doc: broken promise: %s\n%s\n%s\n", what, a ? a : "",
			b ? b : "");
		abort();
	}
}

/* Read @p text as one document and append its compact JSON to @p out. */
static void
fuzz_ctl_doc_reread(const char *text, size_t len, struct ctl_buf *out, const char *what)
{
	struct ctl_node *doc = NULL;
	char err[256] = "";
	int rc = ctl_doc_load_one(text, len, &doc, err, sizeof(err));

	fuzz_ctl_doc_require(rc == 0, what, text, err);
	fuzz_ctl_doc_require(ctl_doc_to_json(doc, 0, out) == 0, "to_json of a re-read document",
			     text, NULL);
	ctl_doc_free(doc);
}

/* Longest mapping key anywhere in @p n, in bytes. */
static size_t
fuzz_ctl_doc_longest_key(const struct ctl_node *n)
{
	size_t max = 0;

	if (n->type != CTL_NODE_MAP && n->type != CTL_NODE_SEQ)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		size_t k = n->type == CTL_NODE_MAP ? n->keys[i]->len : 0;
		size_t sub = fuzz_ctl_doc_longest_key(n->items[i]);

		max = k > max ? k : max;
		max = sub > max ? sub : max;
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_node **docs = NULL;
	size_t n = 0;
	char err[256];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = ctl_doc_load((const char *)data, size, &docs, &n, err, sizeof(err));
	if (rc != 0) {
		fuzz_ctl_doc_require(rc == -EINVAL || rc == -ENOMEM, "refusal is -EINVAL/-ENOMEM",
				     NULL, NULL);
		fuzz_ctl_doc_require(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
				     "a refusal says why", NULL, NULL);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct ctl_buf json = {0}, pretty = {0}, yaml = {0}, again = {0};
		struct ctl_node *copy;

		bool json_reads_back = fuzz_ctl_doc_longest_key(docs[i]) <= 128;

		fuzz_ctl_doc_require(ctl_doc_to_json(docs[i], 0, &json) == 0, "to_json", NULL,
				     NULL);
		if (!json_reads_back)
			goto yaml;
		fuzz_ctl_doc_reread(ctl_buf_str(&json), json.len, &again,
				    "the JSON of a document reads back");
		fuzz_ctl_doc_require(
		    again.len == json.len &&
			memcmp(ctl_buf_str(&again), ctl_buf_str(&json), json.len) == 0,
		    "JSON -> read -> JSON is the identity", ctl_buf_str(&json),
		    ctl_buf_str(&again));
		ctl_buf_free(&again);

		fuzz_ctl_doc_require(ctl_doc_to_json(docs[i], 2, &pretty) == 0, "indented to_json",
				     NULL, NULL);
		fuzz_ctl_doc_reread(ctl_buf_str(&pretty), pretty.len, &again,
				    "indented JSON reads back");
		fuzz_ctl_doc_require(
		    again.len == json.len &&
			memcmp(ctl_buf_str(&again), ctl_buf_str(&json), json.len) == 0,
		    "indented JSON holds the same document", ctl_buf_str(&json),
		    ctl_buf_str(&again));
		ctl_buf_free(&again);
	yaml:
		rc = ctl_doc_to_yaml(docs[i], &yaml);
		fuzz_ctl_doc_require(rc == 0, "to_yaml", ctl_buf_str(&json), NULL);
		fuzz_ctl_doc_reread(ctl_buf_str(&yaml), yaml.len, &again, "the YAML reads back");
		fuzz_ctl_doc_require(
		    again.len == json.len &&
			memcmp(ctl_buf_str(&again), ctl_buf_str(&json), json.len) == 0,
		    "YAML -> read -> JSON is the same document", ctl_buf_str(&json),
		    ctl_buf_str(&again));
		ctl_buf_free(&again);

		copy = ctl_doc_copy(docs[i]);
		fuzz_ctl_doc_require(copy != NULL, "ctl_doc_copy", NULL, NULL);
		fuzz_ctl_doc_require(
		    ctl_doc_to_json(copy, 0, &again) == 0 && again.len == json.len &&
			memcmp(ctl_buf_str(&again), ctl_buf_str(&json), json.len) == 0,
		    "a copy is the same document", ctl_buf_str(&json), ctl_buf_str(&again));
		ctl_doc_free(copy);
		ctl_buf_free(&again);
		ctl_buf_free(&json);
		ctl_buf_free(&pretty);
		ctl_buf_free(&yaml);
	}
	ctl_doc_free_all(docs, n);
	return 0;
}
