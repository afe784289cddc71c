/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance config file (DESIGN.md section 6): YAML read with libyaml's
 * event parser into a small tree of our own, then walked against the schema
 * into struct el_config.
 *
 * Our own tree, rather than libyaml's document API, because the document
 * loader resolves aliases silently: here every node keeps its line, and
 * whether it carried an anchor, an alias or a tag, so those can be refused
 * with the key path they sit under. The file is strict: unknown keys,
 * duplicate keys, wrong node types, values out of range and anything
 * ambiguous are refused with "FILE:LINE: KEY.PATH: what is wrong".
 *
 * Integers are plain decimal scalars; leading zeros are refused because
 * YAML 1.1 reads them as octal. Address text follows inet_pton(3) (see
 * types.c), prefixes RFC 4632.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "edgelb/config.h"

#define CFG_FILE_MAX	 (1u << 20) /* bytes; a config is a few kB */
#define CFG_DEPTH_MAX	 32	    /* nesting; the schema needs 5 */
#define CFG_KEYPATH_MAX	 192
#define CFG_MAP_KEYS_MAX 16
#define CFG_SHOW_MAX	 64 /* characters of a value quoted in a message */

/* ---- the tree ---------------------------------------------------------- */

enum cn_kind { CN_SCALAR, CN_SEQ, CN_MAP, CN_ALIAS };

struct cn {
	enum cn_kind kind;
	unsigned line; /* 1-based */
	bool anchored;
	bool tagged;
	bool quoted;
	char *str; /* scalar text, NUL-terminated; may hold NULs (len) */
	size_t len;
	struct cn **kids; /* list items; mapping: key, value, key, value... */
	unsigned n_kids;
	unsigned cap;
	struct cn *all_next; /* every node of a tree, for freeing */
};

struct tree {
	struct cn *root;
	struct cn *all;
};

/* ---- parse context and messages ------------------------------------------ */

struct ctx {
	const char *name;
	const char *buf; /* input, for line numbers of encoding errors */
	size_t buflen;
	struct el_config *cfg;
	char *err;
	size_t errlen;
	char path[CFG_KEYPATH_MAX];
	size_t plen;
};

static int __attribute__((format(printf, 4, 0)))
vfail(struct ctx *x, int rc, unsigned line, const char *fmt, va_list ap)
{
	char msg[320];

	if (x->err == NULL || x->errlen == 0)
		return rc;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (x->plen > 0)
		snprintf(x->err, x->errlen, "%s:%u: %s: %s", x->name, line, x->path, msg);
	else
		snprintf(x->err, x->errlen, "%s:%u: %s", x->name, line, msg);
	return rc;
}

/* Record "NAME:LINE: PATH: message" for node @p n; returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *x, const struct cn *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(x, -EINVAL, n != NULL ? n->line : 1, fmt, ap);
	va_end(ap);
	return rc;
}

/* A message about the file as a whole, before any line is read. */
static int __attribute__((format(printf, 3, 4)))
fail_file(struct ctx *x, int rc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (x->err == NULL || x->errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s", x->name, msg);
	return rc;
}

/* Same with an explicit line and return code. */
static int __attribute__((format(printf, 4, 5)))
fail_line(struct ctx *x, int rc, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = vfail(x, rc, line, fmt, ap);
	va_end(ap);
	return rc;
}

static void
path_append(struct ctx *x, const char *s)
{
	size_t n = strlen(s);

	if (x->plen + n >= sizeof(x->path))
		n = sizeof(x->path) - 1 - x->plen;
	memcpy(x->path + x->plen, s, n);
	x->plen += n;
	x->path[x->plen] = '\0';
}

/* Append ".key" to the key path; returns the length to restore. */
static size_t
path_key(struct ctx *x, const char *key)
{
	size_t saved = x->plen;

	if (x->plen > 0)
		path_append(x, ".");
	path_append(x, key);
	return saved;
}

/* Append "[i]" to the key path; returns the length to restore. */
static size_t
path_idx(struct ctx *x, unsigned i)
{
	size_t saved = x->plen;
	char b[16];

	snprintf(b, sizeof(b), "[%u]", i);
	path_append(x, b);
	return saved;
}

static void
path_set(struct ctx *x, size_t len)
{
	x->plen = len;
	x->path[len] = '\0';
}

/* A scalar as it may appear in a message: printable, bounded. */
static const char *
show(const struct cn *n, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < n->len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)n->str[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, size - o, "\\x%02x", c);
			o += 4;
		}
		if (o >= CFG_SHOW_MAX && i + 1 < n->len) {
			snprintf(buf + o, size - o, "...");
			return buf;
		}
	}
	buf[o] = '\0';
	return buf;
}

#define SHOW_BUF (CFG_SHOW_MAX * 4 + 8)

/* ---- building the tree from libyaml events ----------------------------- */

static struct cn *
cn_new(struct tree *t, enum cn_kind kind, unsigned line)
{
	struct cn *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->line = line;
	n->all_next = t->all;
	t->all = n;
	return n;
}

static int
cn_add(struct cn *parent, struct cn *kid)
{
	if (parent->n_kids == parent->cap) {
		unsigned cap = parent->cap ? 2 * parent->cap : 8;
		struct cn **k = realloc(parent->kids, cap * sizeof(*k));

		if (k == NULL)
			return -ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n_kids++] = kid;
	return 0;
}

static void
tree_free(struct tree *t)
{
	struct cn *n = t->all, *next;

	for (; n != NULL; n = next) {
		next = n->all_next;
		free(n->str);
		free(n->kids);
		free(n);
	}
	t->all = NULL;
	t->root = NULL;
}

/* Message for a libyaml parse failure, with the line it reports. */
static int
syntax_error(struct ctx *x, const yaml_parser_t *p)
{
	unsigned line = (unsigned)p->problem_mark.line + 1;
	const char *problem = p->problem != NULL ? p->problem : "unknown problem";

	if (p->error == YAML_MEMORY_ERROR)
		return fail_line(x, -ENOMEM, 1, "out of memory while reading YAML");
	if (p->error == YAML_READER_ERROR) {
		/* Encoding errors carry a byte offset rather than a mark. */
		size_t i, end = p->problem_offset < x->buflen ? p->problem_offset : x->buflen;

		line = 1;
		for (i = 0; i < end; i++)
			line += x->buf[i] == '\n';
		return fail_line(x, -EINVAL, line, "cannot read YAML: %s (byte %zu)", problem,
				 p->problem_offset);
	}
	if (p->context != NULL)
		return fail_line(x, -EINVAL, line, "YAML syntax error: %s (%s at line %u)", problem,
				 p->context, (unsigned)p->context_mark.line + 1);
	return fail_line(x, -EINVAL, line, "YAML syntax error: %s", problem);
}

/* Node for one event, or NULL for events that make none. */
static int
event_node(struct tree *t, const yaml_event_t *ev, struct cn **out)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	struct cn *n;

	*out = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		n = cn_new(t, CN_ALIAS, line);
		break;
	case YAML_SCALAR_EVENT:
		n = cn_new(t, CN_SCALAR, line);
		if (n == NULL)
			break;
		n->anchored = ev->data.scalar.anchor != NULL;
		n->tagged = ev->data.scalar.tag != NULL;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (n->str == NULL)
			return -ENOMEM;
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		break;
	case YAML_SEQUENCE_START_EVENT:
		n = cn_new(t, CN_SEQ, line);
		if (n != NULL) {
			n->anchored = ev->data.sequence_start.anchor != NULL;
			n->tagged = ev->data.sequence_start.tag != NULL;
		}
		break;
	case YAML_MAPPING_START_EVENT:
		n = cn_new(t, CN_MAP, line);
		if (n != NULL) {
			n->anchored = ev->data.mapping_start.anchor != NULL;
			n->tagged = ev->data.mapping_start.tag != NULL;
		}
		break;
	default:
		return 0;
	}
	if (n == NULL)
		return -ENOMEM;
	*out = n;
	return 0;
}

static int
tree_build(struct ctx *x, struct tree *t)
{
	struct cn *stack[CFG_DEPTH_MAX];
	unsigned depth = 0, docs = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!yaml_parser_initialize(&p))
		return fail_line(x, -ENOMEM, 1, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)x->buf, x->buflen);
	while (!done && rc == 0) {
		struct cn *n = NULL;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(x, &p);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_line(x, -EINVAL, (unsigned)ev.start_mark.line + 1,
					       "a second YAML document: a config file holds "
					       "exactly one");
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (rc == 0)
			rc = event_node(t, &ev, &n);
		if (rc == -ENOMEM)
			fail_line(x, rc, 1, "out of memory");
		if (rc == 0 && n != NULL) {
			if (depth == 0)
				t->root = n;
			else if (cn_add(stack[depth - 1], n) < 0)
				rc = fail_line(x, -ENOMEM, 1, "out of memory");
			if (rc == 0 && (n->kind == CN_SEQ || n->kind == CN_MAP)) {
				if (depth == CFG_DEPTH_MAX)
					rc = fail_line(x, -EINVAL, n->line,
						       "nested more than %d levels deep",
						       CFG_DEPTH_MAX);
				else
					stack[depth++] = n;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc == 0 && (docs == 0 || t->root == NULL))
		rc = fail_line(x, -EINVAL, 1, "empty file: no settings (interfaces is required)");
	return rc;
}

/* ---- typed access to nodes ---------------------------------------------- */

static bool
is_null(const struct cn *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	unsigned i;

	if (n->kind != CN_SCALAR || n->quoted)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

static const char *
kind_name(const struct cn *n)
{
	if (is_null(n))
		return "an empty value";
	switch (n->kind) {
	case CN_SCALAR:
		return "a scalar";
	case CN_SEQ:
		return "a list";
	case CN_MAP:
		return "a mapping";
	default:
		return "an alias";
	}
}

/* Refuse what the config never uses: aliases, anchors and explicit tags. */
static int
node_ok(struct ctx *x, const struct cn *n)
{
	if (n->kind == CN_ALIAS)
		return fail(x, n, "YAML aliases (*name) are not allowed in the config");
	if (n->anchored)
		return fail(x, n, "YAML anchors (&name) are not allowed in the config");
	if (n->tagged)
		return fail(x, n, "YAML tags (!tag) are not allowed in the config");
	return 0;
}

static int
want_kind(struct ctx *x, const struct cn *n, enum cn_kind kind)
{
	static const char *const names[] = {"a scalar", "a list", "a mapping", "an alias"};
	int rc = node_ok(x, n);

	if (rc < 0)
		return rc;
	if (n->kind != kind || is_null(n))
		return fail(x, n, "expected %s, found %s", names[kind], kind_name(n));
	return 0;
}

/* A list of @p min..@p max items; the error names the first extra item. */
static int
want_seq(struct ctx *x, const struct cn *n, unsigned min, unsigned max, const char *what)
{
	int rc = want_kind(x, n, CN_SEQ);

	if (rc < 0)
		return rc;
	if (n->n_kids < min)
		return fail(x, n, "needs at least %u of %s, found %u", min, what, n->n_kids);
	if (n->n_kids > max) {
		size_t saved = path_idx(x, max);

		rc = fail(x, n->kids[max], "too many %s (at most %u)", what, max);
		path_set(x, saved);
		return rc;
	}
	return 0;
}

/* A non-empty string scalar without NUL bytes, of at most @p max bytes. */
static int
want_text(struct ctx *x, const struct cn *n, size_t max)
{
	int rc = node_ok(x, n);

	if (rc < 0)
		return rc;
	if (is_null(n))
		return fail(x, n, "missing value");
	if (n->kind != CN_SCALAR)
		return fail(x, n, "expected a string, found %s", kind_name(n));
	if (n->len == 0)
		return fail(x, n, "must not be empty");
	for (size_t i = 0; i < n->len; i++)
		if ((unsigned char)n->str[i] < 0x20 || n->str[i] == 0x7f)
			return fail(x, n, "contains a control character (byte %zu)", i);
	if (n->len > max)
		return fail(x, n, "too long (at most %zu characters)", max);
	return 0;
}

static int
want_str(struct ctx *x, const struct cn *n, char *out, size_t size)
{
	int rc = want_text(x, n, size - 1);

	if (rc < 0)
		return rc;
	memcpy(out, n->str, n->len + 1);
	return 0;
}

static int
want_strdup(struct ctx *x, const struct cn *n, size_t max, char **out)
{
	int rc = want_text(x, n, max);

	if (rc < 0)
		return rc;
	*out = strdup(n->str);
	if (*out == NULL)
		return fail_line(x, -ENOMEM, n->line, "out of memory");
	return 0;
}

/* Plain decimal digits, no leading zero: 0 on success. */
static int
parse_decimal(const char *s, size_t len, long long *v)
{
	const char *p = s;
	bool neg = false;
	char *end;

	if (len > 0 && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	if (p == s + len || *p < '0' || *p > '9')
		return -EINVAL;
	if (p[0] == '0' && p + 1 < s + len)
		return -EINVAL;
	errno = 0;
	*v = strtoll(p, &end, 10);
	if (end != s + len)
		return -EINVAL;
	if (errno == ERANGE)
		*v = neg ? LLONG_MIN : LLONG_MAX;
	else if (neg)
		*v = -*v;
	return 0;
}

static int
want_int(struct ctx *x, const struct cn *n, long long lo, long long hi, long long *v)
{
	char b[SHOW_BUF];
	int rc = node_ok(x, n);

	if (rc < 0)
		return rc;
	if (is_null(n))
		return fail(x, n, "missing value (expected an integer)");
	if (n->kind != CN_SCALAR)
		return fail(x, n, "expected an integer, found %s", kind_name(n));
	if (n->quoted)
		return fail(x, n, "expected an integer, found the quoted string \"%s\"",
			    show(n, b, sizeof(b)));
	if (parse_decimal(n->str, n->len, v) < 0)
		return fail(x, n, "expected a decimal integer (no leading zeros), found \"%s\"",
			    show(n, b, sizeof(b)));
	if (*v < lo || *v > hi)
		return fail(x, n, "%s is out of range (%lld..%lld)", show(n, b, sizeof(b)), lo, hi);
	return 0;
}

/* Levenshtein distance, for "did you mean" hints; large for long words. */
static unsigned
edit_distance(const char *a, size_t la, const char *b)
{
	unsigned row[33], i, j, diag, up;
	size_t lb = strlen(b);

	if (la >= 32 || lb >= 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * Check a mapping against its allowed keys and hand back each value (NULL
 * when absent). Refuses non-scalar keys, unknown keys and duplicates.
 */
static int
want_map(struct ctx *x, const struct cn *map, const char *const names[], unsigned n_names,
	 const struct cn *vals[])
{
	unsigned key_line[CFG_MAP_KEYS_MAX];
	char b[SHOW_BUF];
	unsigned i, k;
	int rc;

	rc = want_kind(x, map, CN_MAP);
	if (rc < 0)
		return rc;
	for (k = 0; k < n_names; k++)
		vals[k] = NULL;
	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct cn *key = map->kids[i];

		rc = node_ok(x, key);
		if (rc < 0)
			return rc;
		if (key->kind != CN_SCALAR || is_null(key))
			return fail(x, key, "a key must be a plain name, found %s", kind_name(key));
		for (k = 0; k < n_names; k++)
			if (strlen(names[k]) == key->len &&
			    memcmp(names[k], key->str, key->len) == 0)
				break;
		if (k == n_names) {
			const char *hint = NULL;

			for (k = 0; k < n_names && hint == NULL; k++)
				if (edit_distance(key->str, key->len, names[k]) <= 2 ||
				    (key->len >= 4 && strncmp(names[k], key->str, key->len) == 0))
					hint = names[k];
			path_key(x, show(key, b, sizeof(b)));
			if (hint != NULL)
				return fail(x, key, "unknown key (did you mean \"%s\"?)", hint);
			return fail(x, key, "unknown key");
		}
		if (vals[k] != NULL) {
			path_key(x, names[k]);
			return fail(x, key, "duplicate key (first at line %u)", key_line[k]);
		}
		vals[k] = map->kids[i + 1];
		key_line[k] = key->line;
	}
	return 0;
}

/* Missing required key: the message points at the mapping that lacks it. */
static int
fail_missing(struct ctx *x, const struct cn *map, const char *key)
{
	path_key(x, key);
	return fail(x, map, "required key is missing");
}

typedef int (*value_fn)(struct ctx *x, const struct cn *n, void *arg);

/* Run @p fn on the value of @p key (when present) with the key path set. */
static int
with_key(struct ctx *x, const char *key, const struct cn *v, value_fn fn, void *arg)
{
	size_t saved;
	int rc;

	if (v == NULL)
		return 0;
	saved = path_key(x, key);
	rc = fn(x, v, arg);
	if (rc == 0)
		path_set(x, saved);
	return rc;
}

/* Run @p fn on every item of a list with the index in the key path. */
static int
each_item(struct ctx *x, const struct cn *seq, int (*fn)(struct ctx *, const struct cn *, unsigned),
	  unsigned from)
{
	unsigned i;
	int rc;

	for (i = from; i < seq->n_kids; i++) {
		size_t saved = path_idx(x, i);

		rc = fn(x, seq->kids[i], i);
		if (rc < 0)
			return rc;
		path_set(x, saved);
	}
	return 0;
}

/* ---- addresses ---------------------------------------------------------- */

static unsigned
family_bits(uint8_t family)
{
	return family == EL_AF_INET ? 32 : 128;
}

/* Last address of a prefix (all host bits set). */
static void
cidr_last(const struct el_cidr *c, struct el_ip *last)
{
	unsigned bits = family_bits(c->addr.family), i;
	uint8_t *p;

	*last = c->addr;
	p = last->family == EL_AF_INET ? (uint8_t *)&last->v4 : last->v6;
	for (i = 0; i < bits / 8; i++) {
		if (c->len >= 8 * (i + 1))
			continue;
		if (c->len <= 8 * i)
			p[i] = 0xff;
		else
			p[i] |= (uint8_t)(0xff >> (c->len - 8 * i));
	}
}

static bool
ip_unspecified(const struct el_ip *ip)
{
	static const uint8_t zero[16];

	if (ip->family == EL_AF_INET)
		return ip->v4 == 0;
	return memcmp(ip->v6, zero, 16) == 0;
}

static bool
ip6_link_local(const struct el_ip *ip)
{
	return ip->family == EL_AF_INET6 && ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80;
}

/* True when @p ip is inside one of the interface's address prefixes. */
static bool
iface_onlink(const struct el_cfg_iface *ifc, const struct el_ip *ip)
{
	unsigned i;

	for (i = 0; i < ifc->n_addrs; i++)
		if (el_cidr_contains(&ifc->addrs[i], ip))
			return true;
	return false;
}

static bool
iface_owns(const struct el_cfg_iface *ifc, const struct el_ip *ip)
{
	unsigned i;

	for (i = 0; i < ifc->n_addrs; i++)
		if (el_ip_eq(&ifc->addrs[i].addr, ip))
			return true;
	return false;
}

static int
want_ip(struct ctx *x, const struct cn *n, struct el_ip *ip, const char *what)
{
	char b[SHOW_BUF];
	int rc = want_text(x, n, 63);

	if (rc < 0)
		return rc;
	if (strchr(n->str, '/') != NULL)
		return fail(x, n, "invalid %s \"%s\": expected an address without /LEN", what,
			    show(n, b, sizeof(b)));
	if (el_ip_parse(n->str, ip) < 0)
		return fail(x, n, "invalid %s \"%s\"", what, show(n, b, sizeof(b)));
	return 0;
}

/* ---- the schema ------------------------------------------------------- */

/* Interface being parsed (its index) for the per-interface value parsers. */
struct iface_arg {
	struct el_cfg_iface *ifc;
	unsigned idx;
};

static struct el_cfg_iface *cur_iface(struct ctx *x);

static int
eal_item(struct ctx *x, const struct cn *n, unsigned i)
{
	int rc = want_strdup(x, n, 4095, &x->cfg->eal[x->cfg->n_eal]);

	(void)i;
	if (rc == 0)
		x->cfg->n_eal++;
	return rc;
}

static int
parse_eal(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_EAL, "EAL arguments");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, eal_item, 0);
}

static int
worker_item(struct ctx *x, const struct cn *n, unsigned i)
{
	struct el_config *cfg = x->cfg;
	long long v;
	unsigned j;
	int rc = want_int(x, n, 0, 127, &v);

	if (rc < 0)
		return rc;
	for (j = 0; j < i; j++)
		if (cfg->workers[j] == (unsigned)v)
			return fail(x, n, "lcore %lld is listed twice (also workers[%u])", v, j);
	cfg->workers[cfg->n_workers++] = (unsigned)v;
	return 0;
}

static int
parse_workers(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 1, EL_CFG_MAX_WORKERS, "worker lcores");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, worker_item, 0);
}

static int
parse_idle_sleep(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 0, 1000000, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->idle_sleep_us = (uint32_t)v;
	return rc;
}

static int
parse_iface_name(struct ctx *x, const struct cn *n, void *arg)
{
	struct iface_arg *ia = arg;
	char b[SHOW_BUF];
	unsigned i;
	int rc = want_text(x, n, SIZE_MAX);

	if (rc < 0)
		return rc;
	if (n->len > EL_CFG_NAME_MAX - 1 ||
	    strspn(n->str, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n->len)
		return fail(x, n,
			    "invalid interface name \"%s\": use 1 to %d characters of a-z, 0-9, "
			    "'_' and '-'",
			    show(n, b, sizeof(b)), EL_CFG_NAME_MAX - 1);
	for (i = 0; i < ia->idx; i++)
		if (strcmp(x->cfg->ifaces[i].name, n->str) == 0)
			return fail(x, n, "duplicate interface name \"%s\" (also interfaces[%u])",
				    n->str, i);
	memcpy(ia->ifc->name, n->str, n->len + 1);
	return 0;
}

static int
parse_iface_device(struct ctx *x, const struct cn *n, void *arg)
{
	struct iface_arg *ia = arg;

	return want_str(x, n, ia->ifc->device, sizeof(ia->ifc->device));
}

static int
addr_item(struct ctx *x, const struct cn *n, unsigned i)
{
	struct el_cfg_iface *ifc = cur_iface(x);
	struct el_config *cfg = x->cfg;
	char b[SHOW_BUF];
	struct el_cidr c;
	unsigned f, a;
	int rc = want_text(x, n, 63);

	(void)i;
	if (rc < 0)
		return rc;
	if (strchr(n->str, '/') == NULL || el_cidr_parse(n->str, &c) < 0)
		return fail(x, n, "invalid address \"%s\" (expected IP/LEN)",
			    show(n, b, sizeof(b)));
	if (c.len == 0 || ip_unspecified(&c.addr))
		return fail(x, n, "\"%s\" cannot be an interface address", show(n, b, sizeof(b)));
	/* An address may sit on one interface once: ARP/ND answers are per address. */
	for (f = 0; f <= (unsigned)(ifc - cfg->ifaces); f++)
		for (a = 0; a < cfg->ifaces[f].n_addrs; a++)
			if (el_ip_eq(&cfg->ifaces[f].addrs[a].addr, &c.addr))
				return fail(x, n, "address \"%s\" is already on interfaces[%u]",
					    show(n, b, sizeof(b)), f);
	ifc->addrs[ifc->n_addrs++] = c;
	return 0;
}

static int
parse_iface_addrs(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_ADDRS, "addresses");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, addr_item, 0);
}

/* A next hop or static neighbour must be reachable on the interface. */
static int
check_onlink(struct ctx *x, const struct cn *n, const struct el_ip *ip, const char *what)
{
	struct el_cfg_iface *ifc = cur_iface(x);
	char b[SHOW_BUF];

	if (ip_unspecified(ip))
		return fail(x, n, "%s \"%s\" is the unspecified address", what,
			    show(n, b, sizeof(b)));
	if (iface_owns(ifc, ip))
		return fail(x, n, "%s \"%s\" is an address of this interface", what,
			    show(n, b, sizeof(b)));
	if (!iface_onlink(ifc, ip) && !ip6_link_local(ip))
		return fail(x, n, "%s \"%s\" is not inside any address prefix of interface \"%s\"",
			    what, show(n, b, sizeof(b)), ifc->name);
	return 0;
}

static int
route_item(struct ctx *x, const struct cn *n, unsigned i)
{
	static const char *const keys[] = {"to", "via"};
	struct el_cfg_iface *ifc = cur_iface(x);
	struct el_cfg_route *r = &ifc->routes[ifc->n_routes];
	const struct cn *v[2];
	struct el_cidr net;
	char b[SHOW_BUF], nb[EL_IP_STRLEN];
	size_t saved;
	unsigned j;
	int rc;

	rc = want_map(x, n, keys, 2, v);
	if (rc < 0)
		return rc;
	if (v[0] == NULL)
		return fail_missing(x, n, "to");
	saved = path_key(x, "to");
	rc = want_text(x, v[0], 63);
	if (rc < 0)
		return rc;
	if (el_cidr_parse(v[0]->str, &r->to) < 0)
		return fail(x, v[0],
			    "invalid destination \"%s\" (expected a CIDR such as "
			    "0.0.0.0/0)",
			    show(v[0], b, sizeof(b)));
	el_cidr_network(&r->to, &net);
	if (!el_ip_eq(&net.addr, &r->to.addr))
		return fail(x, v[0], "destination \"%s\" has host bits set (network %s/%u)",
			    show(v[0], b, sizeof(b)), el_ip_fmt(&net.addr, nb, sizeof(nb)),
			    net.len);
	for (j = 0; j < i; j++)
		if (el_ip_eq(&ifc->routes[j].to.addr, &r->to.addr) &&
		    ifc->routes[j].to.len == r->to.len)
			return fail(x, v[0], "duplicate route to \"%s\" (also routes[%u])",
				    show(v[0], b, sizeof(b)), j);
	path_set(x, saved);
	if (v[1] != NULL) {
		saved = path_key(x, "via");
		rc = want_ip(x, v[1], &r->via, "next hop");
		if (rc < 0)
			return rc;
		if (r->via.family != r->to.addr.family)
			return fail(x, v[1], "next hop \"%s\" is not of the destination's family",
				    show(v[1], b, sizeof(b)));
		rc = check_onlink(x, v[1], &r->via, "next hop");
		if (rc < 0)
			return rc;
		path_set(x, saved);
	}
	ifc->n_routes++;
	return 0;
}

static int
parse_iface_routes(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_ROUTES, "routes");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, route_item, 0);
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned i;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		char hex[3] = {p[0], p[1], '\0'};

		if (!((p[0] >= '0' && p[0] <= '9') || (p[0] >= 'a' && p[0] <= 'f') ||
		      (p[0] >= 'A' && p[0] <= 'F')) ||
		    !((p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'f') ||
		      (p[1] >= 'A' && p[1] <= 'F')))
			return -EINVAL;
		if (i < 5 && p[2] != ':')
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return 0;
}

static int
neigh_item(struct ctx *x, const struct cn *n, unsigned i)
{
	static const char *const keys[] = {"ip", "mac"};
	static const uint8_t zero[6];
	struct el_cfg_iface *ifc = cur_iface(x);
	struct el_cfg_neighbor *nb = &ifc->neighbors[ifc->n_neighbors];
	const struct cn *v[2];
	char b[SHOW_BUF];
	size_t saved;
	unsigned j;
	int rc;

	rc = want_map(x, n, keys, 2, v);
	if (rc < 0)
		return rc;
	if (v[0] == NULL)
		return fail_missing(x, n, "ip");
	if (v[1] == NULL)
		return fail_missing(x, n, "mac");
	saved = path_key(x, "ip");
	rc = want_ip(x, v[0], &nb->ip, "neighbour address");
	if (rc == 0)
		rc = check_onlink(x, v[0], &nb->ip, "neighbour");
	if (rc < 0)
		return rc;
	for (j = 0; j < i; j++)
		if (el_ip_eq(&ifc->neighbors[j].ip, &nb->ip))
			return fail(x, v[0], "duplicate neighbour \"%s\" (also neighbors[%u])",
				    show(v[0], b, sizeof(b)), j);
	path_set(x, saved);
	saved = path_key(x, "mac");
	rc = want_text(x, v[1], 63);
	if (rc < 0)
		return rc;
	if (parse_mac(v[1]->str, nb->mac) < 0)
		return fail(x, v[1], "invalid MAC address \"%s\" (expected 02:00:00:00:02:fe)",
			    show(v[1], b, sizeof(b)));
	if ((nb->mac[0] & 1) != 0 || memcmp(nb->mac, zero, 6) == 0)
		return fail(x, v[1], "MAC address \"%s\" is not a unicast address",
			    show(v[1], b, sizeof(b)));
	path_set(x, saved);
	ifc->n_neighbors++;
	return 0;
}

static int
parse_iface_neighbors(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_NEIGHBORS, "neighbors");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, neigh_item, 0);
}

static int
parse_iface_rxq(struct ctx *x, const struct cn *n, void *arg)
{
	struct iface_arg *ia = arg;
	long long v;
	int rc = want_int(x, n, 0, 16, &v);

	if (rc == 0)
		ia->ifc->rx_queues = (unsigned)v;
	return rc;
}

static int
parse_iface_mtu(struct ctx *x, const struct cn *n, void *arg)
{
	struct iface_arg *ia = arg;
	long long v;
	unsigned a;
	int rc = want_int(x, n, 68, 9600, &v);

	if (rc < 0)
		return rc;
	for (a = 0; a < ia->ifc->n_addrs; a++)
		if (ia->ifc->addrs[a].addr.family == EL_AF_INET6 && v < 1280)
			return fail(x, n, "%lld is too small for IPv6 (at least 1280, RFC 8200)",
				    v);
	ia->ifc->mtu = (uint16_t)v;
	return 0;
}

/* The interface whose keys are being parsed: the last one started. */
static struct el_cfg_iface *
cur_iface(struct ctx *x)
{
	return &x->cfg->ifaces[x->cfg->n_ifaces];
}

static int
iface_item(struct ctx *x, const struct cn *n, unsigned i)
{
	enum { K_NAME, K_DEVICE, K_ADDRS, K_ROUTES, K_NEIGH, K_RXQ, K_MTU, K_N };
	static const char *const keys[K_N] = {"name",	   "device",	"addresses", "routes",
					      "neighbors", "rx_queues", "mtu"};
	struct iface_arg ia = {.ifc = cur_iface(x), .idx = i};
	const struct cn *v[K_N];
	int rc;

	rc = want_map(x, n, keys, K_N, v);
	if (rc < 0)
		return rc;
	if (v[K_NAME] == NULL)
		return fail_missing(x, n, "name");
	if (v[K_DEVICE] == NULL)
		return fail_missing(x, n, "device");
	/* Fixed order: addresses before routes, neighbours and mtu that check them. */
	rc = with_key(x, "name", v[K_NAME], parse_iface_name, &ia);
	if (rc == 0)
		rc = with_key(x, "device", v[K_DEVICE], parse_iface_device, &ia);
	if (rc == 0)
		rc = with_key(x, "addresses", v[K_ADDRS], parse_iface_addrs, &ia);
	if (rc == 0)
		rc = with_key(x, "routes", v[K_ROUTES], parse_iface_routes, &ia);
	if (rc == 0)
		rc = with_key(x, "neighbors", v[K_NEIGH], parse_iface_neighbors, &ia);
	if (rc == 0)
		rc = with_key(x, "rx_queues", v[K_RXQ], parse_iface_rxq, &ia);
	if (rc == 0)
		rc = with_key(x, "mtu", v[K_MTU], parse_iface_mtu, &ia);
	if (rc == 0)
		x->cfg->n_ifaces++;
	return rc;
}

static int
parse_interfaces(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 1, EL_CFG_MAX_IFACES, "interfaces");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, iface_item, 0);
}

static int
snat_item(struct ctx *x, const struct cn *n, unsigned i)
{
	struct el_config *cfg = x->cfg;
	struct el_ip ip;
	char b[SHOW_BUF];
	unsigned j;
	int rc = want_ip(x, n, &ip, "SNAT address");

	if (rc < 0)
		return rc;
	for (j = 0; j < i; j++)
		if (el_ip_eq(&cfg->snat[j], &ip))
			return fail(x, n, "duplicate SNAT address \"%s\" (also addresses[%u])",
				    show(n, b, sizeof(b)), j);
	/* Replies to a SNAT address must come back to this host. */
	for (j = 0; j < cfg->n_ifaces; j++)
		if (iface_onlink(&cfg->ifaces[j], &ip))
			break;
	if (j == cfg->n_ifaces)
		return fail(x, n,
			    "SNAT address \"%s\" is not inside any interface's address prefix; "
			    "replies from pods could not reach it",
			    show(n, b, sizeof(b)));
	cfg->snat[cfg->n_snat++] = ip;
	return 0;
}

static int
parse_snat_addrs(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_SNAT, "SNAT addresses");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, snat_item, 0);
}

static int
parse_snat(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"addresses"};
	const struct cn *v[1];
	int rc = want_map(x, n, keys, 1, v);

	return rc < 0 ? rc : with_key(x, "addresses", v[0], parse_snat_addrs, arg);
}

/* Parse "A-B", "NET/LEN" or a single address into an inclusive range. */
static int
pool_range(struct ctx *x, const struct cn *n, struct el_cfg_pool *pool)
{
	char b[SHOW_BUF], nb[EL_IP_STRLEN], half[64];
	const char *dash = strchr(n->str, '-');
	struct el_cidr c, net;

	if (dash != NULL) {
		size_t l = (size_t)(dash - n->str);

		memcpy(half, n->str, l);
		half[l] = '\0';
		if (el_ip_parse(half, &pool->first) < 0 || el_ip_parse(dash + 1, &pool->last) < 0)
			return fail(x, n, "invalid pool \"%s\" (expected FIRST-LAST or NET/LEN)",
				    show(n, b, sizeof(b)));
		if (pool->first.family != pool->last.family)
			return fail(x, n, "pool \"%s\" mixes IPv4 and IPv6", show(n, b, sizeof(b)));
		if (el_ip_cmp(&pool->first, &pool->last) > 0)
			return fail(x, n, "pool \"%s\" ends before it starts",
				    show(n, b, sizeof(b)));
		return 0;
	}
	if (el_cidr_parse(n->str, &c) < 0)
		return fail(x, n, "invalid pool \"%s\" (expected FIRST-LAST or NET/LEN)",
			    show(n, b, sizeof(b)));
	el_cidr_network(&c, &net);
	if (!el_ip_eq(&net.addr, &c.addr))
		return fail(x, n, "pool \"%s\" has host bits set (network %s/%u)",
			    show(n, b, sizeof(b)), el_ip_fmt(&net.addr, nb, sizeof(nb)), net.len);
	pool->first = net.addr;
	cidr_last(&net, &pool->last);
	/* An IPv6 prefix's all-zero address is its Subnet-Router anycast
	 * address (RFC 4291 section 2.6.1), answered by the routers of the
	 * link: never handed out. A /127 has none (RFC 6164), a /128 is one
	 * address. */
	if (net.addr.family == EL_AF_INET6 && net.len < 127) {
		for (int i = 15; i >= 0 && ++pool->first.v6[i] == 0; i--)
			;
	}
	return 0;
}

static bool
pool_has(const struct el_cfg_pool *p, const struct el_ip *ip)
{
	return p->first.family == ip->family && el_ip_cmp(&p->first, ip) <= 0 &&
	       el_ip_cmp(ip, &p->last) <= 0;
}

static int
pool_item(struct ctx *x, const struct cn *n, unsigned i)
{
	struct el_config *cfg = x->cfg;
	struct el_cfg_pool *p = &cfg->pools[cfg->n_pools];
	char b[SHOW_BUF], ab[EL_IP_STRLEN];
	unsigned j, a;
	int rc = want_text(x, n, 63);

	(void)i;
	if (rc == 0)
		rc = pool_range(x, n, p);
	if (rc < 0)
		return rc;
	for (j = 0; j < cfg->n_pools; j++)
		if (pool_has(&cfg->pools[j], &p->first) || pool_has(&cfg->pools[j], &p->last) ||
		    pool_has(p, &cfg->pools[j].first))
			return fail(x, n, "pool \"%s\" overlaps pools[%u]", show(n, b, sizeof(b)),
				    j);
	/* A VIP handed out from the pool must not be one of our own addresses. */
	for (j = 0; j < cfg->n_ifaces; j++)
		for (a = 0; a < cfg->ifaces[j].n_addrs; a++)
			if (pool_has(p, &cfg->ifaces[j].addrs[a].addr))
				return fail(
				    x, n, "pool \"%s\" holds %s, an address of interfaces[%u]",
				    show(n, b, sizeof(b)),
				    el_ip_fmt(&cfg->ifaces[j].addrs[a].addr, ab, sizeof(ab)), j);
	for (j = 0; j < cfg->n_snat; j++)
		if (pool_has(p, &cfg->snat[j]))
			return fail(x, n, "pool \"%s\" holds the SNAT address %s",
				    show(n, b, sizeof(b)),
				    el_ip_fmt(&cfg->snat[j], ab, sizeof(ab)));
	cfg->n_pools++;
	return 0;
}

static int
parse_pools(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_POOLS, "pools");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, pool_item, 0);
}

static int
parse_loadbalancer(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"pools"};
	const struct cn *v[1];
	int rc = want_map(x, n, keys, 1, v);

	return rc < 0 ? rc : with_key(x, "pools", v[0], parse_pools, arg);
}

static int
parse_nodeport_range(struct ctx *x, const struct cn *n, void *arg)
{
	char b[SHOW_BUF];
	const char *dash;
	long long lo, hi;
	int rc = node_ok(x, n);

	(void)arg;
	if (rc < 0)
		return rc;
	if (n->kind != CN_SCALAR || is_null(n))
		return fail(x, n, "expected \"LO-HI\", found %s", kind_name(n));
	dash = memchr(n->str, '-', n->len);
	if (dash == NULL || parse_decimal(n->str, (size_t)(dash - n->str), &lo) < 0 ||
	    parse_decimal(dash + 1, n->len - (size_t)(dash - n->str) - 1, &hi) < 0 ||
	    n->str[0] == '+' || n->str[0] == '-' || dash[1] == '+' || dash[1] == '-')
		return fail(x, n, "invalid range \"%s\" (expected LO-HI, e.g. 30000-32767)",
			    show(n, b, sizeof(b)));
	if (lo < 1 || hi > 65535 || lo > hi)
		return fail(x, n, "invalid range \"%s\" (need 1 <= LO <= HI <= 65535)",
			    show(n, b, sizeof(b)));
	x->cfg->nodeport_min = (uint16_t)lo;
	x->cfg->nodeport_max = (uint16_t)hi;
	return 0;
}

static int
parse_max_flows(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 1024, 67108864, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->ct_max_flows = (uint32_t)v;
	return rc;
}

static int
parse_timeouts(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"tcp_syn_sent",
					   "tcp_syn_recv",
					   "tcp_established",
					   "tcp_fin_wait",
					   "tcp_close_wait",
					   "tcp_time_wait",
					   "tcp_close",
					   "udp",
					   "icmp"};
	static const enum el_ct_state states[] = {
	    EL_CT_SYN_SENT,  EL_CT_SYN_RECV, EL_CT_ESTABLISHED, EL_CT_FIN_WAIT, EL_CT_CLOSE_WAIT,
	    EL_CT_TIME_WAIT, EL_CT_CLOSE,    EL_CT_UDP,		EL_CT_ICMP};
	const struct cn *v[9];
	unsigned k;
	int rc = want_map(x, n, keys, 9, v);

	(void)arg;
	for (k = 0; rc == 0 && k < 9; k++) {
		size_t saved;
		long long s;

		if (v[k] == NULL)
			continue;
		saved = path_key(x, keys[k]);
		rc = want_int(x, v[k], 1, 604800, &s);
		if (rc == 0) {
			x->cfg->ct_timeouts[states[k]] = (uint32_t)s;
			path_set(x, saved);
		}
	}
	return rc;
}

static int
parse_new_flows_per_source(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 0, 1000000, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->ct_new_flows_per_source = (uint32_t)v;
	return rc;
}

static int
parse_new_flows_burst(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 0, 1000000, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->ct_new_flows_burst = (uint32_t)v;
	return rc;
}

static int
parse_conntrack(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"max_flows", "timeouts", "new_flows_per_source",
					   "new_flows_burst"};
	const struct cn *v[4];
	int rc = want_map(x, n, keys, 4, v);

	if (rc == 0)
		rc = with_key(x, "max_flows", v[0], parse_max_flows, arg);
	if (rc == 0)
		rc = with_key(x, "timeouts", v[1], parse_timeouts, arg);
	if (rc == 0)
		rc = with_key(x, "new_flows_per_source", v[2], parse_new_flows_per_source, arg);
	if (rc == 0)
		rc = with_key(x, "new_flows_burst", v[3], parse_new_flows_burst, arg);
	return rc;
}

static int
parse_errors_per_second(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 0, 1000000, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->icmp_errors_per_second = (uint32_t)v;
	return rc;
}

static int
parse_errors_burst(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 0, 1000000, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->icmp_errors_burst = (uint32_t)v;
	return rc;
}

/* icmp: the limit on the errors and rejects workers generate. */
static int
parse_icmp(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"errors_per_second", "errors_burst"};
	const struct cn *v[2];
	int rc = want_map(x, n, keys, 2, v);

	if (rc == 0)
		rc = with_key(x, "errors_per_second", v[0], parse_errors_per_second, arg);
	if (rc == 0)
		rc = with_key(x, "errors_burst", v[1], parse_errors_burst, arg);
	return rc;
}

static bool
is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return false;
	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int
parse_table_size(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	uint32_t next;
	int rc = want_int(x, n, 251, 10000019, &v);

	(void)arg;
	if (rc < 0)
		return rc;
	if (!is_prime((uint32_t)v)) {
		for (next = (uint32_t)v + 1; !is_prime(next); next++)
			;
		return fail(x, n, "%lld is not prime (Maglev needs a prime; next prime: %u)", v,
			    next);
	}
	x->cfg->maglev_table_size = (uint32_t)v;
	return 0;
}

static int
parse_maglev(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"table_size"};
	const struct cn *v[1];
	int rc = want_map(x, n, keys, 1, v);

	return rc < 0 ? rc : with_key(x, "table_size", v[0], parse_table_size, arg);
}

/* "IPv4:PORT" or "[IPv6]:PORT". */
static int
parse_listen(struct ctx *x, const struct cn *n, void *arg)
{
	char b[SHOW_BUF], host[64];
	const char *colon;
	struct el_ip ip;
	long long port;
	size_t hl;
	int rc = want_str(x, n, x->cfg->api_listen, sizeof(x->cfg->api_listen));

	(void)arg;
	if (rc < 0)
		return rc;
	if (n->str[0] == '[') {
		const char *close = strchr(n->str, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hl = (size_t)(close - n->str - 1);
		memcpy(host, n->str + 1, hl);
		host[hl] = '\0';
		colon = close + 1;
		if (el_ip_parse(host, &ip) < 0 || ip.family != EL_AF_INET6)
			goto bad;
	} else {
		colon = strchr(n->str, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			goto bad;
		hl = (size_t)(colon - n->str);
		memcpy(host, n->str, hl);
		host[hl] = '\0';
		if (el_ip_parse(host, &ip) < 0 || ip.family != EL_AF_INET)
			goto bad;
	}
	if (colon[1] == '+' || colon[1] == '-' ||
	    parse_decimal(colon + 1, strlen(colon + 1), &port) < 0 || port < 1 || port > 65535)
		goto bad;
	return 0;
bad:
	return fail(x, n, "invalid listen address \"%s\" (expected IPv4:PORT or [IPv6]:PORT)",
		    show(n, b, sizeof(b)));
}

static int
parse_token_file(struct ctx *x, const struct cn *n, void *arg)
{
	(void)arg;
	return want_str(x, n, x->cfg->api_token_file, sizeof(x->cfg->api_token_file));
}

static int
parse_tls_cert(struct ctx *x, const struct cn *n, void *arg)
{
	(void)arg;
	return want_str(x, n, x->cfg->api_tls_cert, sizeof(x->cfg->api_tls_cert));
}

static int
parse_tls_key(struct ctx *x, const struct cn *n, void *arg)
{
	(void)arg;
	return want_str(x, n, x->cfg->api_tls_key, sizeof(x->cfg->api_tls_key));
}

static int
parse_max_conns_per_ip(struct ctx *x, const struct cn *n, void *arg)
{
	long long v;
	int rc = want_int(x, n, 1, 65535, &v);

	(void)arg;
	if (rc == 0)
		x->cfg->api_max_conns_per_ip = (unsigned)v;
	return rc;
}

static int
parse_api(struct ctx *x, const struct cn *n, void *arg)
{
	static const char *const keys[] = {"listen", "token_file", "tls_cert", "tls_key",
					   "max_connections_per_ip"};
	const struct cn *v[5];
	int rc = want_map(x, n, keys, 5, v);

	if (rc == 0)
		rc = with_key(x, "listen", v[0], parse_listen, arg);
	if (rc == 0)
		rc = with_key(x, "token_file", v[1], parse_token_file, arg);
	if (rc == 0)
		rc = with_key(x, "tls_cert", v[2], parse_tls_cert, arg);
	if (rc == 0)
		rc = with_key(x, "tls_key", v[3], parse_tls_key, arg);
	if (rc == 0)
		rc = with_key(x, "max_connections_per_ip", v[4], parse_max_conns_per_ip, arg);
	/* a certificate without its key (or the reverse) cannot serve TLS */
	if (rc == 0 && (v[2] == NULL) != (v[3] == NULL)) {
		path_key(x, v[2] == NULL ? "tls_cert" : "tls_key");
		rc = fail(x, n, "required with api.%s (TLS needs both)",
			  v[2] == NULL ? "tls_key" : "tls_cert");
	}
	return rc;
}

static int
parse_state_dir(struct ctx *x, const struct cn *n, void *arg)
{
	(void)arg;
	return want_str(x, n, x->cfg->state_dir, sizeof(x->cfg->state_dir));
}

static int
manifest_item(struct ctx *x, const struct cn *n, unsigned i)
{
	int rc = want_strdup(x, n, EL_CFG_PATH_MAX - 1, &x->cfg->manifests[x->cfg->n_manifests]);

	(void)i;
	if (rc == 0)
		x->cfg->n_manifests++;
	return rc;
}

static int
parse_manifests(struct ctx *x, const struct cn *n, void *arg)
{
	int rc = want_seq(x, n, 0, EL_CFG_MAX_MANIFESTS, "manifests");

	(void)arg;
	return rc < 0 ? rc : each_item(x, n, manifest_item, 0);
}

static int
parse_root(struct ctx *x, const struct cn *root)
{
	enum {
		K_EAL,
		K_WORKERS,
		K_IDLE,
		K_IFACES,
		K_SNAT,
		K_LB,
		K_NODEPORT,
		K_CT,
		K_MAGLEV,
		K_API,
		K_STATE,
		K_MANIFESTS,
		K_ICMP,
		K_N
	};
	static const char *const keys[K_N] = {
	    "eal",	    "workers",	      "idle_sleep_us", "interfaces", "snat",
	    "loadbalancer", "nodeport_range", "conntrack",     "maglev",     "api",
	    "state_dir",    "manifests",      "icmp"};
	/* Interfaces before snat and pools, which are checked against them. */
	static const value_fn fns[K_N] = {
	    parse_eal,	  parse_workers,      parse_idle_sleep,	    parse_interfaces,
	    parse_snat,	  parse_loadbalancer, parse_nodeport_range, parse_conntrack,
	    parse_maglev, parse_api,	      parse_state_dir,	    parse_manifests,
	    parse_icmp};
	const struct cn *v[K_N];
	unsigned k;
	int rc;

	if (root->kind != CN_MAP || is_null(root)) {
		if (is_null(root))
			return fail(x, root,
				    "empty document: no settings (interfaces is required)");
		rc = node_ok(x, root);
		return rc < 0
			   ? rc
			   : fail(x, root, "the top level must be a mapping of settings, found %s",
				  kind_name(root));
	}
	rc = want_map(x, root, keys, K_N, v);
	if (rc < 0)
		return rc;
	if (v[K_IFACES] == NULL)
		return fail_missing(x, root, "interfaces");
	for (k = 0; k < K_N && rc == 0; k++)
		rc = with_key(x, keys[k], v[k], fns[k], NULL);
	return rc;
}

/* ---- public functions ----------------------------------------------- */

void
config_defaults(struct el_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->idle_sleep_us = 0;
	cfg->nodeport_min = 30000;
	cfg->nodeport_max = 32767;
	cfg->ct_max_flows = 1048576;
	/* netfilter conntrack's defaults, which kube-proxy leaves in place except
	 * for established and close_wait (its --conntrack-tcp-timeout-* flags). */
	cfg->ct_timeouts[EL_CT_SYN_SENT] = 120;
	cfg->ct_timeouts[EL_CT_SYN_RECV] = 60;
	cfg->ct_timeouts[EL_CT_ESTABLISHED] = 86400;
	cfg->ct_timeouts[EL_CT_FIN_WAIT] = 120;
	cfg->ct_timeouts[EL_CT_CLOSE_WAIT] = 3600;
	cfg->ct_timeouts[EL_CT_TIME_WAIT] = 120;
	cfg->ct_timeouts[EL_CT_CLOSE] = 10;
	cfg->ct_timeouts[EL_CT_UDP] = 300;
	cfg->ct_timeouts[EL_CT_ICMP] = 30;
	cfg->ct_timeouts[EL_CT_NONE] = cfg->ct_timeouts[EL_CT_SYN_SENT];
	cfg->maglev_table_size = 65537;
	cfg->icmp_errors_per_second = EL_CFG_ICMP_ERRORS_PER_SECOND;
	snprintf(cfg->api_listen, sizeof(cfg->api_listen), "127.0.0.1:9180");
	cfg->api_max_conns_per_ip = EL_CFG_API_CONNS_PER_IP;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/edgelb");
}

void
config_free(struct el_config *cfg)
{
	unsigned i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_eal && i < EL_CFG_MAX_EAL; i++) {
		free(cfg->eal[i]);
		cfg->eal[i] = NULL;
	}
	cfg->n_eal = 0;
	for (i = 0; i < cfg->n_manifests && i < EL_CFG_MAX_MANIFESTS; i++) {
		free(cfg->manifests[i]);
		cfg->manifests[i] = NULL;
	}
	cfg->n_manifests = 0;
}

int
config_load_buf(const char *buf, size_t len, const char *name, struct el_config *cfg, char *err,
		size_t errlen)
{
	struct ctx x = {.name = name != NULL ? name : "<config>",
			.buf = buf,
			.buflen = len,
			.cfg = cfg,
			.err = err,
			.errlen = errlen};
	struct tree t = {0};
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	config_defaults(cfg);
	if (buf == NULL && len > 0)
		return fail_file(&x, -EINVAL, "no buffer");
	if (strlen(x.name) >= sizeof(cfg->path))
		return fail_file(&x, -ENAMETOOLONG, "file name too long (at most %zu bytes)",
				 sizeof(cfg->path) - 1);
	if (len > CFG_FILE_MAX)
		return fail_file(&x, -EINVAL, "file too large (%zu bytes, at most %u)", len,
				 CFG_FILE_MAX);
	if (buf == NULL)
		buf = x.buf = "";
	snprintf(cfg->path, sizeof(cfg->path), "%s", x.name);

	rc = tree_build(&x, &t);
	if (rc == 0)
		rc = parse_root(&x, t.root);
	tree_free(&t);
	if (rc < 0) {
		config_free(cfg);
		config_defaults(cfg);
		snprintf(cfg->path, sizeof(cfg->path), "%s", x.name);
		return rc;
	}
	/* A tracked flow that has not seen a segment yet ages like a fresh SYN. */
	cfg->ct_timeouts[EL_CT_NONE] = cfg->ct_timeouts[EL_CT_SYN_SENT];
	return 0;
}

int
config_load(const char *path, struct el_config *cfg, char *err, size_t errlen)
{
	struct ctx x = {.name = path != NULL ? path : "<config>", .err = err, .errlen = errlen};
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, rc;

	config_defaults(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || *path == '\0')
		return fail_file(&x, -EINVAL, "no config file given");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		return fail_file(&x, rc, "cannot open: %s", strerror(-rc));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail_file(&x, -EINVAL, "not a regular file");
	}
	if ((unsigned long long)st.st_size > CFG_FILE_MAX) {
		close(fd);
		return fail_file(&x, -EINVAL, "file too large (%lld bytes, at most %u)",
				 (long long)st.st_size, CFG_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return fail_file(&x, -ENOMEM, "out of memory");
	}
	/* The file may change size under us: read to EOF, within the limit. */
	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			free(buf);
			close(fd);
			return fail_file(&x, rc, "cannot read: %s", strerror(-rc));
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > (size_t)st.st_size) {
			free(buf);
			close(fd);
			return fail_file(&x, -EINVAL, "file changed while it was read");
		}
	}
	close(fd);
	rc = config_load_buf(buf, got, path, cfg, err, errlen);
	free(buf);
	return rc;
}

int
config_resolve_path(const struct el_config *cfg, const char *p, char *out, size_t len)
{
	const char *slash;
	int n;

	if (cfg == NULL || p == NULL || *p == '\0' || out == NULL || len == 0)
		return -EINVAL;
	slash = strrchr(cfg->path, '/');
	if (p[0] == '/' || slash == NULL)
		n = snprintf(out, len, "%s", p);
	else if (slash == cfg->path)
		n = snprintf(out, len, "/%s", p);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - cfg->path), cfg->path, p);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
