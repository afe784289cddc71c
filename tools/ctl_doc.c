/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML/JSON documents for edgelbctl: libyaml events are built into a tree of
 * typed nodes, which is written back as JSON (request bodies, -o json) or as
 * YAML through libyaml's emitter (-o yaml).
 *
 * Plain scalars are typed with the YAML 1.1 type repository
 * (https://yaml.org/type/bool.html, int.html, float.html, null.html), the
 * rules kubectl applies to manifests. Departures, on purpose:
 * - sexagesimal ints and floats ("1:20") stay strings: times and MAC-like
 *   values in annotations should not turn into numbers;
 * - .inf and .nan stay strings: JSON has no spelling for them;
 * - a float exponent may omit its sign ("1.5e3"), as JSON allows.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ctl_doc.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct ctl_doc_anchor {
	char *name;
	struct ctl_node *node; /* owned by the tree; copied on every alias */
};

struct ctl_doc_loader {
	yaml_parser_t parser;
	struct ctl_doc_anchor *anchors;
	size_t n_anchors;
	size_t cap_anchors;
	size_t nodes; /* created so far, against CTL_DOC_MAX_NODES */
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
};

/* ---- nodes ---- */

static struct ctl_node *
ctl_doc_node(enum ctl_node_type type, unsigned line)
{
	struct ctl_node *n = calloc(1, sizeof(*n));

	if (n != NULL) {
		n->type = type;
		n->line = line;
	}
	return n;
}

static int
ctl_doc_set_text(struct ctl_node *n, const char *s, size_t len)
{
	n->text = malloc(len + 1);
	if (n->text == NULL)
		return -ENOMEM;
	memcpy(n->text, s, len);
	n->text[len] = '\0';
	n->len = len;
	return 0;
}

void
ctl_doc_free(struct ctl_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			ctl_doc_free(n->keys[i]);
		ctl_doc_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->text);
	free(n);
}

void
ctl_doc_free_all(struct ctl_node **docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctl_doc_free(docs[i]);
	free(docs);
}

/* Append an item (and its key, for mappings) to a collection. */
static int
ctl_doc_append(struct ctl_node *coll, struct ctl_node *key, struct ctl_node *val)
{
	struct ctl_node **items, **keys;

	items = realloc(coll->items, (coll->n + 1) * sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	coll->items = items;
	if (coll->type == CTL_NODE_MAP) {
		keys = realloc(coll->keys, (coll->n + 1) * sizeof(*keys));
		if (keys == NULL)
			return -ENOMEM;
		coll->keys = keys;
		keys[coll->n] = key;
	}
	items[coll->n++] = val;
	return 0;
}

/* Deep copy; *budget counts down the nodes that may still be created. */
static struct ctl_node *
ctl_doc_copy_budget(const struct ctl_node *src, size_t *budget)
{
	struct ctl_node *n;

	if (*budget == 0)
		return NULL;
	(*budget)--;
	n = ctl_doc_node(src->type, src->line);
	if (n == NULL)
		return NULL;
	if (src->text != NULL && ctl_doc_set_text(n, src->text, src->len) < 0)
		goto fail;
	for (size_t i = 0; i < src->n; i++) {
		struct ctl_node *k = NULL, *v;

		if (src->type == CTL_NODE_MAP) {
			k = ctl_doc_copy_budget(src->keys[i], budget);
			if (k == NULL)
				goto fail;
		}
		v = ctl_doc_copy_budget(src->items[i], budget);
		if (v == NULL || ctl_doc_append(n, k, v) < 0) {
			ctl_doc_free(k);
			ctl_doc_free(v);
			goto fail;
		}
	}
	return n;
fail:
	ctl_doc_free(n);
	return NULL;
}

struct ctl_node *
ctl_doc_copy(const struct ctl_node *n)
{
	size_t budget = SIZE_MAX;

	return n != NULL ? ctl_doc_copy_budget(n, &budget) : NULL;
}

struct ctl_node *
ctl_doc_new_str(const char *s)
{
	struct ctl_node *n = ctl_doc_node(CTL_NODE_STR, 0);

	if (n != NULL && ctl_doc_set_text(n, s, strlen(s)) < 0) {
		free(n);
		return NULL;
	}
	return n;
}

/* ---- YAML 1.1 scalar resolution ---- */

static bool
ctl_doc_in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && memcmp(*list, s, len) == 0)
			return true;
	return false;
}

static int
ctl_doc_digit(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/*
 * YAML 1.1 int: [-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) |
 * [-+]?0x[0-9a-fA-F_]+. Writes the JSON spelling into out (size >= len + 2).
 * Returns true when s is an int.
 */
static bool
ctl_doc_int(const char *s, size_t len, char *out)
{
	size_t i = 0, nd = 0;
	unsigned base = 10;
	bool neg = false, overflow = false;
	uint64_t v = 0;
	char digits[len + 1];

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i >= len)
		return false;
	if (len - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'b')) {
		base = s[i + 1] == 'x' ? 16 : 2;
		i += 2;
	} else if (len - i >= 2 && s[i] == '0') {
		base = 8;
		i += 1;
	} else if (s[i] == '_') {
		return false; /* the first character must be a digit */
	}
	for (; i < len; i++) {
		int d;

		if (s[i] == '_')
			continue;
		d = ctl_doc_digit(s[i], base);
		if (d < 0)
			return false;
		digits[nd++] = s[i];
		if (v > (UINT64_MAX - (unsigned)d) / base)
			overflow = true;
		else
			v = v * base + (unsigned)d;
	}
	if (nd == 0)
		return false;
	if (overflow || v > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
		/* Beyond 64 bits: JSON numbers have no size limit, so decimal
		 * digits are kept as written; other bases stay strings. */
		if (base != 10)
			return false;
		digits[nd] = '\0';
		sprintf(out, "%s%s", neg ? "-" : "", digits);
		return true;
	}
	if (v == 0)
		neg = false;
	sprintf(out, "%s%" PRIu64, neg ? "-" : "", v);
	return true;
}

/*
 * YAML 1.1 float (base 10 only): [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?
 * with at least one digit. Writes the shortest JSON spelling that reads back
 * as the same double into out (size >= 32).
 */
static bool
ctl_doc_float(const char *s, size_t len, char *out, size_t outlen)
{
	char clean[len + 1];
	size_t i = 0, n = 0, digits = 0;
	bool dot = false;
	double d;
	char *end;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		clean[n++] = s[i++];
	if (i < len && s[i] == '_')
		return false;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			clean[n++] = s[i];
			digits++;
		} else if (s[i] == '_') {
			continue;
		} else if (s[i] == '.' && !dot) {
			dot = true;
			clean[n++] = s[i];
		} else {
			break;
		}
	}
	if (!dot || digits == 0)
		return false;
	if (i < len) {
		size_t exp_digits = 0;

		if (s[i] != 'e' && s[i] != 'E')
			return false;
		clean[n++] = s[i++];
		if (i < len && (s[i] == '-' || s[i] == '+'))
			clean[n++] = s[i++];
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, exp_digits++)
			clean[n++] = s[i];
		if (i != len || exp_digits == 0)
			return false;
	}
	clean[n] = '\0';
	errno = 0;
	d = strtod(clean, &end);
	if (*end != '\0' || !isfinite(d))
		return false;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (strchr(out, '.') == NULL) {
		/* "1e+53" is a string to YAML 1.1: keep a '.' before any
		 * exponent so the JSON reads back as a float ("1.0e+53") */
		char *e = strpbrk(out, "eE");
		size_t at = e != NULL ? (size_t)(e - out) : strlen(out);

		if (strlen(out) + 3 <= outlen) {
			memmove(out + at + 2, out + at, strlen(out + at) + 1);
			memcpy(out + at, ".0", 2);
		}
	}
	return true;
}

int
ctl_doc_resolve(const char *s, size_t len, char **norm)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
					    "True", "TRUE", "on",  "On",  "ON",	 NULL};
	static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
					     "False", "FALSE", "off", "Off", "OFF", NULL};
	char num[4200]; /* numbers are only tried below 4096 characters */
	const char *text = s;
	size_t text_len = len;
	int type = CTL_NODE_STR;

	if (ctl_doc_in_list(s, len, nulls)) {
		type = CTL_NODE_NULL;
		text = "null";
	} else if (ctl_doc_in_list(s, len, trues)) {
		type = CTL_NODE_BOOL;
		text = "true";
	} else if (ctl_doc_in_list(s, len, falses)) {
		type = CTL_NODE_BOOL;
		text = "false";
	} else if (len < 4096 && ctl_doc_int(s, len, num)) {
		type = CTL_NODE_INT;
		text = num;
	} else if (len < 4096 && ctl_doc_float(s, len, num, sizeof(num))) {
		type = CTL_NODE_FLOAT;
		text = num;
	}
	if (text != s)
		text_len = strlen(text);
	*norm = malloc(text_len + 1);
	if (*norm == NULL)
		return -ENOMEM;
	memcpy(*norm, text, text_len);
	(*norm)[text_len] = '\0';
	return type;
}

/* ---- loading ---- */

static int ctl_doc_fail(struct ctl_doc_loader *ld, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ctl_doc_fail(struct ctl_doc_loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ld->errlen == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(ld->err, ld->errlen, "line %u: ", line);
	if (n < 0 || (size_t)n >= ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
ctl_doc_next(struct ctl_doc_loader *ld, yaml_event_t *ev)
{
	if (yaml_parser_parse(&ld->parser, ev))
		return 0;
	if (ld->parser.error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	const yaml_mark_t *mark = &ld->parser.problem_mark;
	const char *hint = "";

	/* Tabs are the classic: YAML indents with spaces only. */
	if (ld->parser.error == YAML_SCANNER_ERROR && mark->index < ld->len &&
	    ld->buf[mark->index] == '\t')
		hint = " (a tab: YAML indents with spaces)";
	if (ld->parser.context != NULL)
		return ctl_doc_fail(ld, (unsigned)mark->line + 1, "%s %s%s", ld->parser.context,
				    ld->parser.problem, hint);
	return ctl_doc_fail(ld, (unsigned)mark->line + 1, "%s%s",
			    ld->parser.problem != NULL ? ld->parser.problem : "syntax error", hint);
}

static int
ctl_doc_count(struct ctl_doc_loader *ld, unsigned line)
{
	if (++ld->nodes > CTL_DOC_MAX_NODES)
		return ctl_doc_fail(ld, line, "more than %d nodes (alias expansion?)",
				    CTL_DOC_MAX_NODES);
	return 0;
}

static int
ctl_doc_add_anchor(struct ctl_doc_loader *ld, const yaml_char_t *name, struct ctl_node *node)
{
	struct ctl_doc_anchor *a;

	if (name == NULL)
		return 0;
	if (ld->n_anchors == ld->cap_anchors) {
		size_t cap = ld->cap_anchors != 0 ? ld->cap_anchors * 2 : 8;

		a = realloc(ld->anchors, cap * sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		ld->anchors = a;
		ld->cap_anchors = cap;
	}
	a = &ld->anchors[ld->n_anchors];
	a->name = strdup((const char *)name);
	if (a->name == NULL)
		return -ENOMEM;
	a->node = node;
	ld->n_anchors++;
	return 0;
}

static void
ctl_doc_drop_anchors(struct ctl_doc_loader *ld)
{
	for (size_t i = 0; i < ld->n_anchors; i++)
		free(ld->anchors[i].name);
	ld->n_anchors = 0;
}

static int
ctl_doc_scalar(const yaml_event_t *ev, struct ctl_node **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	unsigned line = (unsigned)ev->start_mark.line + 1;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct ctl_node *n;
	char *norm = NULL;
	int type;

	if (tag != NULL && strcmp(tag, "!") == 0)
		plain = false; /* the non-specific tag: a string */
	else if (tag != NULL && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0)
		plain = strcmp(tag + strlen(TAG_PREFIX), "str") != 0;
	n = ctl_doc_node(CTL_NODE_STR, line);
	if (n == NULL)
		return -ENOMEM;
	if (plain) {
		type = ctl_doc_resolve(v, len, &norm);
		if (type < 0) {
			free(n);
			return type;
		}
		n->type = (enum ctl_node_type)type;
		n->text = norm;
		n->len = strlen(norm);
		if (type == CTL_NODE_STR)
			n->len = len; /* may hold NUL bytes */
	} else if (ctl_doc_set_text(n, v, len) < 0) {
		free(n);
		return -ENOMEM;
	}
	*out = n;
	return 0;
}

static int ctl_doc_node_from(struct ctl_doc_loader *ld, yaml_event_t *ev, unsigned depth,
			     struct ctl_node **out);

static bool
ctl_doc_has_key(const struct ctl_node *map, const struct ctl_node *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i]->len == key->len &&
		    memcmp(map->keys[i]->text, key->text, key->len) == 0)
			return true;
	return false;
}

/* Children of a sequence or mapping, up to its end event. */
static int
ctl_doc_children(struct ctl_doc_loader *ld, struct ctl_node *coll, unsigned depth)
{
	yaml_event_type_t end =
	    coll->type == CTL_NODE_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

	for (;;) {
		struct ctl_node *key = NULL, *val = NULL;
		yaml_event_t ev;
		int rc = ctl_doc_next(ld, &ev);

		if (rc < 0)
			return rc;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		rc =
		    ctl_doc_node_from(ld, &ev, depth + 1, coll->type == CTL_NODE_MAP ? &key : &val);
		yaml_event_delete(&ev);
		if (rc < 0)
			return rc;
		if (key != NULL) {
			if (key->type == CTL_NODE_MAP || key->type == CTL_NODE_SEQ) {
				rc = ctl_doc_fail(ld, key->line, "a mapping key must be a scalar");
				ctl_doc_free(key);
				return rc;
			}
			/* JSON keys are strings: a key reads as its text. */
			key->type = CTL_NODE_STR;
			if (ctl_doc_has_key(coll, key)) {
				rc = ctl_doc_fail(ld, key->line, "duplicate key \"%s\"", key->text);
				ctl_doc_free(key);
				return rc;
			}
			rc = ctl_doc_next(ld, &ev);
			if (rc == 0) {
				rc = ctl_doc_node_from(ld, &ev, depth + 1, &val);
				yaml_event_delete(&ev);
			}
			if (rc < 0) {
				ctl_doc_free(key);
				return rc;
			}
		}
		rc = ctl_doc_append(coll, key, val);
		if (rc < 0) {
			ctl_doc_free(key);
			ctl_doc_free(val);
			return rc;
		}
	}
}

/* Build the node that starts with event ev (not consumed here). */
static int
ctl_doc_node_from(struct ctl_doc_loader *ld, yaml_event_t *ev, unsigned depth,
		  struct ctl_node **out)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	const yaml_char_t *anchor = NULL;
	struct ctl_node *n = NULL;
	int rc;

	*out = NULL;
	if (depth > CTL_DOC_MAX_DEPTH)
		return ctl_doc_fail(ld, line, "nested deeper than %d levels", CTL_DOC_MAX_DEPTH);
	rc = ctl_doc_count(ld, line);
	if (rc < 0)
		return rc;
	switch (ev->type) {
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		size_t budget = CTL_DOC_MAX_NODES - ld->nodes;

		for (size_t i = ld->n_anchors; i-- > 0;) {
			if (strcmp(ld->anchors[i].name, name) == 0) {
				n = ctl_doc_copy_budget(ld->anchors[i].node, &budget);
				if (n == NULL)
					return budget == 0 ? ctl_doc_fail(ld, line,
									  "alias *%s expands to "
									  "too many nodes",
									  name)
							   : -ENOMEM;
				ld->nodes = CTL_DOC_MAX_NODES - budget;
				*out = n;
				return 0;
			}
		}
		return ctl_doc_fail(ld, line, "unknown alias *%s", name);
	}
	case YAML_SCALAR_EVENT:
		rc = ctl_doc_scalar(ev, &n);
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = ctl_doc_node(ev->type == YAML_MAPPING_START_EVENT ? CTL_NODE_MAP : CTL_NODE_SEQ,
				 line);
		if (n == NULL)
			return -ENOMEM;
		anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
							      : ev->data.sequence_start.anchor;
		rc = ctl_doc_children(ld, n, depth);
		break;
	default:
		return ctl_doc_fail(ld, line, "unexpected YAML event %d", ev->type);
	}
	if (rc == 0)
		rc = ctl_doc_add_anchor(ld, anchor, n);
	if (rc < 0) {
		ctl_doc_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

int
ctl_doc_load(const char *buf, size_t len, struct ctl_node ***docs, size_t *n_docs, char *err,
	     size_t errlen)
{
	struct ctl_doc_loader ld = {.buf = buf, .len = len, .err = err, .errlen = errlen};
	struct ctl_node **list = NULL;
	size_t n = 0;
	int rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	*docs = NULL;
	*n_docs = 0;
	if (!yaml_parser_initialize(&ld.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf, len);
	for (;;) {
		struct ctl_node *root = NULL, **grown;
		yaml_event_t ev;

		rc = ctl_doc_next(&ld, &ev);
		if (rc < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev); /* stream start, document end */
			continue;
		}
		yaml_event_delete(&ev);
		rc = ctl_doc_next(&ld, &ev);
		if (rc < 0)
			break;
		rc = ctl_doc_node_from(&ld, &ev, 0, &root);
		yaml_event_delete(&ev);
		ctl_doc_drop_anchors(&ld); /* anchors do not cross documents */
		if (rc < 0)
			break;
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL) {
			ctl_doc_free(root);
			rc = -ENOMEM;
			break;
		}
		list = grown;
		list[n++] = root;
	}
	ctl_doc_drop_anchors(&ld);
	free(ld.anchors);
	yaml_parser_delete(&ld.parser);
	if (rc < 0) {
		ctl_doc_free_all(list, n);
		if (rc == -EINVAL && errlen > 0) {
			char msg[errlen];

			/* Name the document: "document 2, line 14: ..." */
			snprintf(msg, errlen, "%s", err);
			snprintf(err, errlen, "document %zu, %s", n + 1, msg);
		}
		return rc;
	}
	*docs = list;
	*n_docs = n;
	return 0;
}

int
ctl_doc_load_one(const char *buf, size_t len, struct ctl_node **doc, char *err, size_t errlen)
{
	struct ctl_node **docs;
	size_t n;
	int rc = ctl_doc_load(buf, len, &docs, &n, err, errlen);

	*doc = NULL;
	if (rc < 0)
		return rc;
	if (n != 1) {
		ctl_doc_free_all(docs, n);
		snprintf(err, errlen, "expected one document, found %zu", n);
		return -EINVAL;
	}
	*doc = docs[0];
	free(docs);
	return 0;
}

/* ---- JSON ---- */

/*
 * Length of a UTF-8 sequence at @p s that JSON may carry raw but a YAML 1.1
 * reader (libyaml, which reads JSON for edgelb and edgelbctl) would not read
 * back as itself: DEL and the C1 controls are not printable, NEL (U+0085),
 * LS and PS (U+2028, U+2029) are line breaks folded into spaces, U+FEFF is a
 * byte order mark, U+FFFE and U+FFFF are not characters. 0 for anything
 * else; the code point goes to @p cp.
 */
static size_t
ctl_doc_json_yaml_unsafe(const unsigned char *s, size_t len, unsigned *cp)
{
	if (s[0] == 0x7f) {
		*cp = 0x7f;
		return 1;
	}
	if (len >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		*cp = s[1];
		return 2;
	}
	if (len >= 3 && ((s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) ||
			 (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) ||
			 (s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf)))) {
		*cp = (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	return 0;
}

static int
ctl_doc_json_str(const char *s, size_t len, struct ctl_buf *out)
{
	int rc = ctl_buf_adds(out, "\"");

	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp;
		size_t n =
		    c >= 0x7f ? ctl_doc_json_yaml_unsafe((const unsigned char *)s + i, len - i, &cp)
			      : 0;

		if (n > 0) {
			rc = ctl_buf_addf(out, "\\u%04x", cp);
			i += n - 1;
			continue;
		}
		switch (c) {
		case '"':
			rc = ctl_buf_adds(out, "\\\"");
			break;
		case '\\':
			rc = ctl_buf_adds(out, "\\\\");
			break;
		case '\n':
			rc = ctl_buf_adds(out, "\\n");
			break;
		case '\r':
			rc = ctl_buf_adds(out, "\\r");
			break;
		case '\t':
			rc = ctl_buf_adds(out, "\\t");
			break;
		default:
			if (c < 0x20)
				rc = ctl_buf_addf(out, "\\u%04x", c);
			else
				rc = ctl_buf_add(out, &s[i], 1);
		}
	}
	return rc != 0 ? rc : ctl_buf_adds(out, "\"");
}

static int
ctl_doc_json_nl(int indent, unsigned level, struct ctl_buf *out)
{
	int rc = ctl_buf_adds(out, "\n");

	for (unsigned i = 0; rc == 0 && i < level * (unsigned)indent; i++)
		rc = ctl_buf_adds(out, " ");
	return rc;
}

static int
ctl_doc_json(const struct ctl_node *n, int indent, unsigned level, struct ctl_buf *out)
{
	bool map = n->type == CTL_NODE_MAP;
	int rc;

	switch (n->type) {
	case CTL_NODE_STR:
		return ctl_doc_json_str(n->text, n->len, out);
	case CTL_NODE_NULL:
	case CTL_NODE_BOOL:
	case CTL_NODE_INT:
	case CTL_NODE_FLOAT:
		return ctl_buf_adds(out, n->text);
	case CTL_NODE_MAP:
	case CTL_NODE_SEQ:
		break;
	}
	rc = ctl_buf_adds(out, map ? "{" : "[");
	for (size_t i = 0; rc == 0 && i < n->n; i++) {
		if (i > 0)
			rc = ctl_buf_adds(out, ",");
		if (rc == 0 && indent > 0)
			rc = ctl_doc_json_nl(indent, level + 1, out);
		if (rc == 0 && map) {
			rc = ctl_doc_json_str(n->keys[i]->text, n->keys[i]->len, out);
			if (rc == 0)
				rc = ctl_buf_adds(out, indent > 0 ? ": " : ":");
		}
		if (rc == 0)
			rc = ctl_doc_json(n->items[i], indent, level + 1, out);
	}
	if (rc == 0 && indent > 0 && n->n > 0)
		rc = ctl_doc_json_nl(indent, level, out);
	return rc != 0 ? rc : ctl_buf_adds(out, map ? "}" : "]");
}

int
ctl_doc_to_json(const struct ctl_node *n, int indent, struct ctl_buf *out)
{
	return ctl_doc_json(n, indent, 0, out);
}

/* ---- YAML ---- */

static int
ctl_doc_yaml_write(void *data, unsigned char *buffer, size_t size)
{
	return ctl_buf_add(data, buffer, size) == 0;
}

static int
ctl_doc_yaml_scalar(yaml_emitter_t *em, const struct ctl_node *n)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	int plain_implicit = 1;
	yaml_event_t ev;

	if (n->type == CTL_NODE_STR) {
		char *norm;
		int type = ctl_doc_resolve(n->text, n->len, &norm);

		if (type < 0)
			return type;
		free(norm);
		if (type != CTL_NODE_STR) {
			/* Would read back as another type: quote it. */
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
			plain_implicit = 0;
		}
	}
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->text, (int)n->len,
					  plain_implicit, 1, style))
		return -ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

static int
ctl_doc_yaml_node(yaml_emitter_t *em, const struct ctl_node *n)
{
	bool map = n->type == CTL_NODE_MAP;
	yaml_event_t ev;
	int rc, ok;

	if (n->type != CTL_NODE_MAP && n->type != CTL_NODE_SEQ)
		return ctl_doc_yaml_scalar(em, n);
	if (map)
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE);
	else
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE);
	if (!ok)
		return -ENOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return -EIO;
	for (size_t i = 0; i < n->n; i++) {
		if (map) {
			rc = ctl_doc_yaml_scalar(em, n->keys[i]);
			if (rc < 0)
				return rc;
		}
		rc = ctl_doc_yaml_node(em, n->items[i]);
		if (rc < 0)
			return rc;
	}
	ok = map ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev);
	if (!ok)
		return -ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

int
ctl_doc_to_yaml(const struct ctl_node *n, struct ctl_buf *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int rc = -EIO;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, ctl_doc_yaml_write, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	rc = ctl_doc_yaml_node(&em, n);
	if (rc < 0)
		goto out;
	rc = -EIO;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
		goto out;
	rc = 0;
out:
	yaml_emitter_delete(&em);
	return rc;
}

/* ---- lookups ---- */

const struct ctl_node *
ctl_doc_get(const struct ctl_node *map, const char *key)
{
	size_t len = strlen(key);

	if (map == NULL || map->type != CTL_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i]->len == len && memcmp(map->keys[i]->text, key, len) == 0)
			return map->items[i];
	return NULL;
}

static const struct ctl_node *
ctl_doc_walk(const struct ctl_node *n, va_list ap)
{
	const char *key;

	while (n != NULL && (key = va_arg(ap, const char *)) != NULL)
		n = ctl_doc_get(n, key);
	return n;
}

const struct ctl_node *
ctl_doc_at(const struct ctl_node *n, ...)
{
	va_list ap;

	va_start(ap, n);
	n = ctl_doc_walk(n, ap);
	va_end(ap);
	return n;
}

const char *
ctl_doc_str(const struct ctl_node *n, ...)
{
	va_list ap;

	va_start(ap, n);
	n = ctl_doc_walk(n, ap);
	va_end(ap);
	if (n == NULL || n->type == CTL_NODE_NULL || n->type == CTL_NODE_MAP ||
	    n->type == CTL_NODE_SEQ)
		return NULL;
	return n->text;
}

const struct ctl_node *
ctl_doc_seq(const struct ctl_node *n, ...)
{
	va_list ap;

	va_start(ap, n);
	n = ctl_doc_walk(n, ap);
	va_end(ap);
	return n != NULL && n->type == CTL_NODE_SEQ ? n : NULL;
}

bool
ctl_doc_is(const struct ctl_node *n, const char *s)
{
	return n != NULL && n->text != NULL && n->type != CTL_NODE_MAP && n->type != CTL_NODE_SEQ &&
	       strcmp(n->text, s) == 0;
}
