/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading Kubernetes manifests for edgelbctl apply/delete: files, sorted
 * directories and standard input, multi-document streams, List objects, and
 * the mapping from kind to REST path (core/v1 Services and Endpoints,
 * discovery.k8s.io/v1 EndpointSlices).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_buf.h"
#include "ctl_http.h"
#include "ctl_manifest.h"

static const struct {
	const char *name;
	const char *field;
	const char *api_version;
	const char *group_path; /* "/api/v1" or "/apis/GROUP/VERSION" */
	const char *resource;
} ctl_kinds[CTL_KIND_COUNT] = {
    [CTL_KIND_SERVICE] = {"service", "Service", "v1", "/api/v1", "services"},
    [CTL_KIND_ENDPOINTS] = {"endpoints", "Endpoints", "v1", "/api/v1", "endpoints"},
    [CTL_KIND_ENDPOINTSLICE] = {"endpointslice.discovery.k8s.io", "EndpointSlice",
				"discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1",
				"endpointslices"},
};

int
ctl_manifest_kind_of(const char *api_version, const char *kind, enum ctl_kind *k)
{
	for (int i = 0; i < CTL_KIND_COUNT; i++) {
		if (kind == NULL || strcmp(kind, ctl_kinds[i].field) != 0)
			continue;
		if (api_version == NULL || strcmp(api_version, ctl_kinds[i].api_version) != 0)
			return -EPROTO;
		*k = (enum ctl_kind)i;
		return 0;
	}
	return -ENOENT;
}

int
ctl_manifest_kind_word(const char *word, enum ctl_kind *k)
{
	static const struct {
		const char *word;
		enum ctl_kind kind;
	} words[] = {
	    {"service", CTL_KIND_SERVICE},
	    {"services", CTL_KIND_SERVICE},
	    {"svc", CTL_KIND_SERVICE},
	    {"endpoints", CTL_KIND_ENDPOINTS},
	    {"endpoint", CTL_KIND_ENDPOINTS},
	    {"ep", CTL_KIND_ENDPOINTS},
	    {"endpointslice", CTL_KIND_ENDPOINTSLICE},
	    {"endpointslices", CTL_KIND_ENDPOINTSLICE},
	    {"endpointslice.discovery.k8s.io", CTL_KIND_ENDPOINTSLICE},
	    {"endpointslices.discovery.k8s.io", CTL_KIND_ENDPOINTSLICE},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(word, words[i].word) == 0) {
			*k = words[i].kind;
			return 0;
		}
	}
	return -ENOENT;
}

const char *
ctl_manifest_kind_name(enum ctl_kind k)
{
	return k >= 0 && k < CTL_KIND_COUNT ? ctl_kinds[k].name : "object";
}

const char *
ctl_manifest_kind_field(enum ctl_kind k)
{
	return k >= 0 && k < CTL_KIND_COUNT ? ctl_kinds[k].field : "";
}

const char *
ctl_manifest_api_version(enum ctl_kind k)
{
	return k >= 0 && k < CTL_KIND_COUNT ? ctl_kinds[k].api_version : "";
}

int
ctl_manifest_path(enum ctl_kind k, const char *ns, const char *name, char *buf, size_t len)
{
	char ens[256 * 3 + 1], ename[256 * 3 + 1];
	int n;

	if (k < 0 || k >= CTL_KIND_COUNT || (ns == NULL && name != NULL))
		return -EINVAL;
	if (ns == NULL) {
		n = snprintf(buf, len, "%s/%s", ctl_kinds[k].group_path, ctl_kinds[k].resource);
		return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
	}
	if (ctl_http_escape(ns, ens, sizeof(ens)) < 0)
		return -ENOSPC;
	if (name != NULL && ctl_http_escape(name, ename, sizeof(ename)) < 0)
		return -ENOSPC;
	n = snprintf(buf, len, "%s/namespaces/%s/%s%s%s", ctl_kinds[k].group_path, ens,
		     ctl_kinds[k].resource, name != NULL ? "/" : "", name != NULL ? ename : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static char *ctl_manifest_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
ctl_manifest_fmt(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int
ctl_manifest_push(struct ctl_manifest *m, struct ctl_object *o)
{
	struct ctl_object *objs = realloc(m->objs, (m->n + 1) * sizeof(*objs));

	if (objs == NULL)
		return -ENOMEM;
	m->objs = objs;
	o->seq = m->n;
	m->objs[m->n++] = *o;
	return 0;
}

static void
ctl_manifest_object_free(struct ctl_object *o)
{
	ctl_doc_free(o->doc);
	free(o->ns);
	free(o->name);
	free(o->origin);
	free(o->error);
}

/* Record an object that cannot be sent; takes ownership of doc. */
static int ctl_manifest_reject(struct ctl_manifest *m, struct ctl_object *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ctl_manifest_reject(struct ctl_manifest *m, struct ctl_object *o, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&o->error, fmt, ap) < 0)
		o->error = NULL;
	va_end(ap);
	o->kind = CTL_KIND_NONE;
	if (o->error == NULL) {
		ctl_manifest_object_free(o);
		return -ENOMEM;
	}
	rc = ctl_manifest_push(m, o);
	if (rc < 0)
		ctl_manifest_object_free(o);
	return rc;
}

/* Give an item of a typed List (e.g. ServiceList) the kind and apiVersion
 * its list implies, when it has none. */
static int
ctl_manifest_fill_kind(struct ctl_node *item, const char *list_kind, const char *list_api)
{
	size_t klen = strlen(list_kind);
	struct ctl_node *k = NULL, *v = NULL, *ak = NULL, *av = NULL;
	struct ctl_node **keys, **items;
	char kind[128];

	if (ctl_doc_get(item, "kind") != NULL || klen <= 4 || klen - 4 >= sizeof(kind) ||
	    list_api == NULL)
		return 0;
	memcpy(kind, list_kind, klen - 4);
	kind[klen - 4] = '\0';
	k = ctl_doc_new_str("kind");
	v = ctl_doc_new_str(kind);
	if (ctl_doc_get(item, "apiVersion") == NULL) {
		ak = ctl_doc_new_str("apiVersion");
		av = ctl_doc_new_str(list_api);
	}
	keys = realloc(item->keys, (item->n + 2) * sizeof(*keys));
	if (keys != NULL)
		item->keys = keys;
	items = realloc(item->items, (item->n + 2) * sizeof(*items));
	if (items != NULL)
		item->items = items;
	if (k == NULL || v == NULL || keys == NULL || items == NULL ||
	    (ctl_doc_get(item, "apiVersion") == NULL && (ak == NULL || av == NULL))) {
		ctl_doc_free(k);
		ctl_doc_free(v);
		ctl_doc_free(ak);
		ctl_doc_free(av);
		return -ENOMEM;
	}
	/* apiVersion and kind first, as Kubernetes writes them. */
	size_t add = ak != NULL ? 2 : 1;

	memmove(item->keys + add, item->keys, item->n * sizeof(*keys));
	memmove(item->items + add, item->items, item->n * sizeof(*items));
	if (ak != NULL) {
		item->keys[0] = ak;
		item->items[0] = av;
	}
	item->keys[add - 1] = k;
	item->items[add - 1] = v;
	item->n += add;
	return 0;
}

/* Add one object (doc owned from here on). */
static int
ctl_manifest_add_object(struct ctl_manifest *m, struct ctl_node *doc, char *origin, const char *ns)
{
	struct ctl_object o = {.kind = CTL_KIND_NONE, .doc = doc, .origin = origin};
	const struct ctl_node *name = ctl_doc_at(doc, "metadata", "name", NULL);
	const struct ctl_node *dns = ctl_doc_at(doc, "metadata", "namespace", NULL);
	const char *api = ctl_doc_str(doc, "apiVersion", NULL);
	const char *kind = ctl_doc_str(doc, "kind", NULL);
	enum ctl_kind k;
	int rc;

	if (origin == NULL) {
		ctl_doc_free(doc);
		return -ENOMEM;
	}
	if (doc->type != CTL_NODE_MAP)
		return ctl_manifest_reject(m, &o, "%s: not an object (a mapping is expected)",
					   origin);
	if (kind == NULL)
		return ctl_manifest_reject(m, &o, "%s: kind is not set", origin);
	if (api == NULL)
		return ctl_manifest_reject(m, &o, "%s: apiVersion is not set", origin);
	rc = ctl_manifest_kind_of(api, kind, &k);
	if (rc == -EPROTO)
		return ctl_manifest_reject(
		    m, &o, "%s: %s must have apiVersion %s, not %s", origin, kind,
		    strcmp(kind, "EndpointSlice") == 0 ? "discovery.k8s.io/v1" : "v1", api);
	if (rc < 0)
		return ctl_manifest_reject(m, &o,
					   "%s: kind %s is not served by edgelb (Service, "
					   "Endpoints, EndpointSlice)",
					   origin, kind);
	if (name == NULL || name->type != CTL_NODE_STR || name->len == 0 ||
	    strlen(name->text) != name->len)
		return ctl_manifest_reject(m, &o, "%s: metadata.name %s", origin,
					   name == NULL ? "is not set"
							: "must be a non-empty string");
	if (dns != NULL && dns->type != CTL_NODE_NULL &&
	    (dns->type != CTL_NODE_STR || strlen(dns->text) != dns->len))
		return ctl_manifest_reject(m, &o, "%s: metadata.namespace must be a string",
					   origin);
	if (dns != NULL && dns->type == CTL_NODE_STR && dns->len > 0) {
		if (ns != NULL && strcmp(ns, dns->text) != 0)
			return ctl_manifest_reject(m, &o,
						   "%s: the namespace of the object (%s) does not "
						   "match the namespace given with -n (%s)",
						   origin, dns->text, ns);
		ns = dns->text;
	}
	o.kind = k;
	o.name = strdup(name->text);
	o.ns = strdup(ns != NULL ? ns : "default");
	if (o.name == NULL || o.ns == NULL) {
		ctl_manifest_object_free(&o);
		return -ENOMEM;
	}
	rc = ctl_manifest_push(m, &o);
	if (rc < 0)
		ctl_manifest_object_free(&o);
	return rc;
}

static bool
ctl_manifest_is_list(const struct ctl_node *doc)
{
	const char *kind = ctl_doc_str(doc, "kind", NULL);
	size_t len = kind != NULL ? strlen(kind) : 0;

	return len >= 4 && strcmp(kind + len - 4, "List") == 0 && ctl_doc_get(doc, "items") != NULL;
}

int
ctl_manifest_add_text(struct ctl_manifest *m, const char *file, const char *text, size_t len,
		      const char *ns, char *err, size_t errlen)
{
	struct ctl_node **docs;
	size_t n_docs;
	char perr[256];
	int rc;

	rc = ctl_doc_load(text, len, &docs, &n_docs, perr, sizeof(perr));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", file, rc == -ENOMEM ? "out of memory" : perr);
		return rc;
	}
	for (size_t d = 0; d < n_docs && rc == 0; d++) {
		struct ctl_node *doc = docs[d];
		const struct ctl_node *items;

		docs[d] = NULL;
		if (doc->type == CTL_NODE_NULL) {
			ctl_doc_free(doc); /* empty document */
			continue;
		}
		if (!ctl_manifest_is_list(doc)) {
			rc = ctl_manifest_add_object(
			    m, doc, ctl_manifest_fmt("%s, document %zu", file, d + 1), ns);
			continue;
		}
		items = ctl_doc_get(doc, "items");
		if (items->type != CTL_NODE_SEQ && items->type != CTL_NODE_NULL) {
			struct ctl_object o = {
			    .doc = doc,
			    .origin = ctl_manifest_fmt("%s, document %zu", file, d + 1)};

			if (o.origin == NULL) {
				ctl_doc_free(doc);
				rc = -ENOMEM;
			} else {
				rc = ctl_manifest_reject(m, &o, "%s: items must be a list",
							 o.origin);
			}
			continue;
		}
		for (size_t i = 0; i < items->n && rc == 0; i++) {
			struct ctl_node *item = ctl_doc_copy(items->items[i]);

			if (item == NULL) {
				rc = -ENOMEM;
				break;
			}
			if (item->type == CTL_NODE_MAP)
				rc = ctl_manifest_fill_kind(item, ctl_doc_str(doc, "kind", NULL),
							    ctl_doc_str(doc, "apiVersion", NULL));
			if (rc < 0) {
				ctl_doc_free(item);
				break;
			}
			rc = ctl_manifest_add_object(
			    m, item,
			    ctl_manifest_fmt("%s, document %zu, item %zu", file, d + 1, i + 1), ns);
		}
		ctl_doc_free(doc);
	}
	ctl_doc_free_all(docs, n_docs);
	if (rc < 0)
		snprintf(err, errlen, "%s: out of memory", file);
	return rc;
}

/* Read a whole stream (regular file or pipe) into memory. */
static int
ctl_manifest_slurp(FILE *f, struct ctl_buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > CTL_MANIFEST_MAX_FILE)
			return -EFBIG;
		if (ctl_buf_add(b, chunk, n) < 0)
			return -ENOMEM;
	}
	return ferror(f) ? -EIO : 0;
}

static int
ctl_manifest_add_file(struct ctl_manifest *m, const char *path, const char *ns, char *err,
		      size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *label = is_stdin ? "<stdin>" : path;
	struct ctl_buf b = {0};
	FILE *f;
	int rc;

	f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", label, strerror(errno));
		return rc;
	}
	rc = ctl_manifest_slurp(f, &b);
	if (!is_stdin)
		fclose(f);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", label,
			 rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
		ctl_buf_free(&b);
		return rc;
	}
	rc = ctl_manifest_add_text(m, label, ctl_buf_str(&b), b.len, ns, err, errlen);
	ctl_buf_free(&b);
	return rc;
}

static bool
ctl_manifest_wanted(const char *name)
{
	static const char *const exts[] = {".yaml", ".yml", ".json"};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t el = strlen(exts[i]);

		if (len > el && strcmp(name + len - el, exts[i]) == 0)
			return true;
	}
	return false;
}

static int
ctl_manifest_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ctl_manifest_add_dir(struct ctl_manifest *m, const char *path, const char *ns, char *err,
		     size_t errlen)
{
	char **names = NULL;
	size_t n = 0, wanted = 0;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	d = opendir(path);
	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (!ctl_manifest_wanted(de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (grown == NULL) {
			rc = -ENOMEM;
			break;
		}
		names = grown;
		names[n] = ctl_manifest_fmt("%s/%s", path, de->d_name);
		if (names[n] == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 0)
		qsort(names, n, sizeof(*names), ctl_manifest_cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
			continue; /* not recursive */
		wanted++;
		rc = ctl_manifest_add_file(m, names[i], ns, err, errlen);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (rc == 0 && wanted == 0) {
		snprintf(err, errlen, "%s: no *.yaml, *.yml or *.json file in this directory",
			 path);
		rc = -ENOENT;
	}
	return rc;
}

int
ctl_manifest_add_path(struct ctl_manifest *m, const char *path, const char *ns, char *err,
		      size_t errlen)
{
	struct stat st;

	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return ctl_manifest_add_dir(m, path, ns, err, errlen);
	return ctl_manifest_add_file(m, path, ns, err, errlen);
}

static int
ctl_manifest_rank(const struct ctl_object *o, bool reverse)
{
	if (o->kind == CTL_KIND_NONE)
		return CTL_KIND_COUNT;
	return reverse ? CTL_KIND_COUNT - 1 - (int)o->kind : (int)o->kind;
}

static int
ctl_manifest_cmp(const void *a, const void *b, void *arg)
{
	const struct ctl_object *x = a, *y = b;
	bool reverse = *(const bool *)arg;
	int rx = ctl_manifest_rank(x, reverse), ry = ctl_manifest_rank(y, reverse);

	if (rx != ry)
		return rx - ry;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
ctl_manifest_sort(struct ctl_manifest *m, bool for_delete)
{
	if (m->n < 2)
		return;
	qsort_r(m->objs, m->n, sizeof(*m->objs), ctl_manifest_cmp, &for_delete);
}

void
ctl_manifest_free(struct ctl_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		ctl_manifest_object_free(&m->objs[i]);
	free(m->objs);
	m->objs = NULL;
	m->n = 0;
}
