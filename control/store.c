/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The durable store (store.h): one file per object, replaced atomically.
 *
 * The write sequence is the classic one for crash-safe replacement on POSIX
 * file systems: write a temp file in the same directory, fsync(2) it,
 * rename(2) it over the target (atomic, POSIX.1-2017), then fsync(2) the
 * directory so the rename itself is on disk before the caller acknowledges.
 *
 * The footer's checksum is CRC-32 with the reflected polynomial 0xEDB88320
 * (ISO 3309 / ITU-T V.42, the CRC of zlib and PNG), computed bytewise with a
 * 256-entry table built on first use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgelb/manifest.h"

#include "store.h"

#define STORE_FOOTER_TAG "# edgelb-store v1 "
#define STORE_AUTO_TAG	 "# edgelb-auto"
#define STORE_FILE_MAX	 (16u << 20) /* far above any object the API accepts */
#define STORE_NAME_MAX	 4096

struct store {
	char dir[STORE_PATH_MAX];
	store_log_fn log;
	void *log_ctx;
};

/* ---- CRC-32 ---- */

unsigned long
store_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return (unsigned long)(crc ^ 0xffffffffu);
}

/* ---- messages ---- */

static void
store_log_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "edgelb: state: %s\n", msg);
}

static void __attribute__((format(printf, 2, 3)))
store_report(const struct store *st, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->log(st->log_ctx, msg);
}

void
store_set_log(struct store *st, store_log_fn fn, void *ctx)
{
	st->log = fn != NULL ? fn : store_log_stderr;
	st->log_ctx = fn != NULL ? ctx : NULL;
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

/* ---- open ---- */

/* mkdir -p */
static int
store_mkdirs(const char *path)
{
	char buf[STORE_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	struct stat sb;
	if (stat(path, &sb) < 0)
		return -errno;
	return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

int
store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	char sub[STORE_PATH_MAX];
	struct store *st;
	int rc;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0' || strlen(dir) > STORE_PATH_MAX - 64) {
		snprintf(err, errlen, "%s: state directory name empty or too long",
			 dir ? dir : "(null)");
		return -ENAMETOOLONG;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -ENOMEM;
	}
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	/* trailing slashes only make paths ugly */
	for (size_t n = strlen(st->dir); n > 1 && st->dir[n - 1] == '/'; n--)
		st->dir[n - 1] = '\0';
	store_set_log(st, NULL, NULL);
	rc = store_mkdirs(st->dir);
	for (int k = 0; rc == 0 && k < EL_KIND_COUNT; k++) {
		snprintf(sub, sizeof(sub), "%s/%s", st->dir, model_json_resource((enum el_kind)k));
		rc = store_mkdirs(sub);
	}
	if (rc == 0 && access(st->dir, W_OK | X_OK) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", st->dir, strerror(-rc));
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	free(st);
}

/* ---- write ---- */

static int
store_path(const struct store *st, enum el_kind k, const char *ns, const char *name,
	   const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s_%s.yaml%s", st->dir, model_json_resource(k), ns, name,
			 suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
store_fsync_dir(const struct store *st, enum el_kind k)
{
	char path[STORE_NAME_MAX];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", st->dir, model_json_resource(k));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
store_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Namespace, name and revision of an object (the same first fields in all
 * three kinds; rev differs in place). */
static uint64_t
store_obj_rev(enum el_kind k, const void *obj)
{
	switch (k) {
	case EL_KIND_SERVICE:
		return ((const struct el_service *)obj)->rev;
	case EL_KIND_ENDPOINTS:
		return ((const struct el_endpoints *)obj)->rev;
	default:
		return ((const struct el_slice *)obj)->rev;
	}
}

/*
 * The stored text of an object: its JSON, a newline, and for a Service with
 * allocations edgelb made, the comment line that says which:
 *     # edgelb-auto node-ports=0,2 lb-ingress=1
 * (indices into spec.ports). The JSON says what the object holds; this
 * line says which of it edgelb chose, so a restart tells requested values
 * from allocated ones.
 */
static char *
store_body(enum el_kind k, const void *obj, size_t *len)
{
	char *json = model_json_object(k, obj), *out;
	const struct el_service *s = obj;
	char line[64 + 8 * 64];
	size_t n, l = 0;
	bool any_np = false;

	if (json == NULL)
		return NULL;
	n = strlen(json);
	line[0] = '\0';
	if (k == EL_KIND_SERVICE) {
		for (unsigned i = 0; i < s->n_ports && l + 16 < sizeof(line) - 32; i++) {
			if (!s->ports[i].node_port_auto || s->ports[i].node_port == 0)
				continue;
			l += (size_t)snprintf(line + l, sizeof(line) - l, "%s%u",
					      any_np ? "," : " node-ports=", i);
			any_np = true;
		}
		if (s->lb_ingress_auto && s->n_lb_ingress > 0)
			l += (size_t)snprintf(line + l, sizeof(line) - l, " lb-ingress=1");
	}
	out = realloc(json, n + 1 + (l ? strlen(STORE_AUTO_TAG) + l + 1 : 0) + 1);
	if (out == NULL) {
		free(json);
		return NULL;
	}
	out[n++] = '\n';
	if (l > 0)
		n += (size_t)sprintf(out + n, "%s%s\n", STORE_AUTO_TAG, line);
	out[n] = '\0';
	*len = n;
	return out;
}

/* Read back the line store_body() adds; no line leaves the flags clear. */
static void
store_read_auto(const char *body, size_t len, struct el_service *s)
{
	const char *p = NULL;
	size_t tl = strlen(STORE_AUTO_TAG);

	for (size_t i = 0; i + tl < len; i++)
		if ((i == 0 || body[i - 1] == '\n') && memcmp(body + i, STORE_AUTO_TAG, tl) == 0) {
			p = body + i + tl;
			break;
		}
	if (p == NULL)
		return;
	while (*p == ' ') {
		p++;
		if (strncmp(p, "node-ports=", 11) == 0) {
			p += 11;
			for (;;) {
				char *end;
				unsigned long i = strtoul(p, &end, 10);
				if (end == p)
					break;
				if (i < s->n_ports && s->ports[i].node_port != 0)
					s->ports[i].node_port_auto = true;
				p = end;
				if (*p != ',')
					break;
				p++;
			}
		} else if (strncmp(p, "lb-ingress=1", 12) == 0) {
			p += 12;
			s->lb_ingress_auto = s->n_lb_ingress > 0;
		} else {
			break;
		}
	}
}

/* ---- transactions: several files made durable together ---- */

enum store_op { STORE_OP_PUT = 1, STORE_OP_DELETE };

struct store_entry {
	enum el_kind k;
	enum store_op op;
	int fd; /* the temp file being written (PUT), -1 once closed */
	char path[STORE_NAME_MAX];
	char tmp[STORE_NAME_MAX];
};

struct store_txn {
	struct store *st;
	struct store_entry *e;
	unsigned n, cap;
};

int
store_txn_begin(struct store *st, struct store_txn **out)
{
	struct store_txn *t = calloc(1, sizeof(*t));

	*out = t;
	if (t == NULL)
		return -ENOMEM;
	t->st = st;
	return 0;
}

/* The entry of @p path, added when absent; NULL on ENOMEM. */
static struct store_entry *
store_txn_entry(struct store_txn *t, enum el_kind k, const char *ns, const char *name, int *rc)
{
	struct store_entry e;

	memset(&e, 0, sizeof(e));
	e.k = k;
	e.fd = -1;
	*rc = store_path(t->st, k, ns, name, "", e.path, sizeof(e.path));
	if (*rc == 0)
		*rc = store_path(t->st, k, ns, name, ".tmp", e.tmp, sizeof(e.tmp));
	if (*rc < 0)
		return NULL;
	for (unsigned i = 0; i < t->n; i++)
		if (strcmp(t->e[i].path, e.path) == 0)
			return &t->e[i];
	if (t->n == t->cap) {
		unsigned nc = t->cap ? t->cap * 2 : 8;
		struct store_entry *ne = realloc(t->e, nc * sizeof(*ne));
		if (ne == NULL) {
			*rc = -ENOMEM;
			return NULL;
		}
		t->e = ne;
		t->cap = nc;
	}
	t->e[t->n] = e;
	return &t->e[t->n++];
}

static void
store_entry_close(struct store_entry *e, bool remove_tmp)
{
	if (e->fd >= 0) {
		close(e->fd);
		e->fd = -1;
	}
	if (remove_tmp && e->op == STORE_OP_PUT)
		unlink(e->tmp);
}

int
store_txn_put(struct store_txn *t, enum el_kind k, const void *obj)
{
	const char *ns = obj, *name = (const char *)obj + EL_LABEL_MAX;
	struct store_entry *e;
	char footer[128];
	char *body;
	size_t len;
	int rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	e = store_txn_entry(t, k, ns, name, &rc);
	if (e == NULL)
		return rc;
	body = store_body(k, obj, &len);
	if (body == NULL)
		return -ENOMEM;
	snprintf(footer, sizeof(footer),
		 STORE_FOOTER_TAG "rev=%" PRIu64 " length=%zu crc32=%08lx\n", store_obj_rev(k, obj),
		 len, store_crc32(body, len));
	store_entry_close(e, false);
	e->op = STORE_OP_PUT;
	e->fd = open(e->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (e->fd < 0) {
		rc = -errno;
		free(body);
		e->op = 0;
		return rc;
	}
	rc = store_write_all(e->fd, body, len);
	if (rc == 0)
		rc = store_write_all(e->fd, footer, strlen(footer));
	free(body);
	if (rc < 0) {
		store_entry_close(e, true);
		e->op = 0;
		return rc;
	}
	/* start the write-back now, so the fsyncs of a transaction overlap */
	(void)sync_file_range(e->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int
store_txn_delete(struct store_txn *t, enum el_kind k, const char *ns, const char *name)
{
	struct store_entry *e;
	int rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	e = store_txn_entry(t, k, ns, name, &rc);
	if (e == NULL)
		return rc;
	store_entry_close(e, true);
	e->op = STORE_OP_DELETE;
	return 0;
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	for (unsigned i = 0; i < t->n; i++)
		store_entry_close(&t->e[i], true);
	free(t->e);
	free(t);
}

int
store_txn_commit(struct store_txn *t)
{
	bool dirs[EL_KIND_COUNT] = {false};
	unsigned i;
	int rc = 0;

	/* every temp file on disk (their write-back started when written) */
	for (i = 0; rc == 0 && i < t->n; i++) {
		struct store_entry *e = &t->e[i];
		if (e->op != STORE_OP_PUT)
			continue;
		if (fsync(e->fd) < 0)
			rc = -errno;
		if (close(e->fd) < 0 && rc == 0)
			rc = -errno;
		e->fd = -1;
	}
	if (rc < 0) {
		store_txn_abort(t);
		return rc; /* nothing was replaced */
	}
	/* then the names: each rename is atomic, the directory fsync makes
	 * them durable */
	for (i = 0; rc == 0 && i < t->n; i++) {
		struct store_entry *e = &t->e[i];
		if (e->op == STORE_OP_PUT && rename(e->tmp, e->path) < 0)
			rc = -errno;
		else if (e->op == STORE_OP_DELETE && unlink(e->path) < 0 && errno != ENOENT)
			rc = -errno;
		else
			dirs[e->k] = e->op != 0;
	}
	for (int k = 0; k < EL_KIND_COUNT; k++)
		if (dirs[k]) {
			int r = store_fsync_dir(t->st, (enum el_kind)k);
			if (rc == 0)
				rc = r;
		}
	/* after a failed rename or unlink: the temp files not renamed go */
	for (i = rc < 0 && i > 0 ? i - 1 : t->n; i < t->n; i++)
		store_entry_close(&t->e[i], true);
	free(t->e);
	free(t);
	return rc;
}

int
store_put(struct store *st, enum el_kind k, const void *obj)
{
	struct store_txn *t;
	int rc = store_txn_begin(st, &t);

	if (rc == 0)
		rc = store_txn_put(t, k, obj);
	if (rc < 0) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}

int
store_delete(struct store *st, enum el_kind k, const char *ns, const char *name)
{
	struct store_txn *t;
	int rc = store_txn_begin(st, &t);

	if (rc == 0)
		rc = store_txn_delete(t, k, ns, name);
	if (rc < 0) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}

/* ---- load ---- */

/* One object read from a file, waiting to be merged in revision order. */
struct store_item {
	uint64_t rev;
	struct el_model obj; /* holds exactly one object */
};

struct store_items {
	struct store_item *v;
	unsigned n, cap;
};

static int
store_read_file(const char *path, char **out, size_t *len)
{
	struct stat sb;
	size_t got = 0;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > (off_t)STORE_FILE_MAX) {
		close(fd);
		return S_ISREG(sb.st_mode) ? -EFBIG : -EISDIR;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/*
 * Check the footer; on success *body_len is the length it covers and *rev
 * the stored revision. @p why receives the reason of a failure.
 */
static bool
store_check_footer(const char *buf, size_t len, size_t *body_len, uint64_t *rev, char *why,
		   size_t whylen)
{
	unsigned long long r, l;
	unsigned long crc;
	size_t start;
	char tail;

	if (len == 0 || buf[len - 1] != '\n') {
		snprintf(why, whylen, "truncated: no footer line");
		return false;
	}
	start = len - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (strncmp(buf + start, STORE_FOOTER_TAG, strlen(STORE_FOOTER_TAG)) != 0) {
		snprintf(why, whylen, "truncated: no footer line");
		return false;
	}
	if (sscanf(buf + start + strlen(STORE_FOOTER_TAG), "rev=%llu length=%llu crc32=%lx%c", &r,
		   &l, &crc, &tail) != 4 ||
	    tail != '\n') {
		snprintf(why, whylen, "footer line unreadable");
		return false;
	}
	if (l != start) {
		snprintf(why, whylen, "length %zu, footer says %llu: torn or edited", start, l);
		return false;
	}
	if (store_crc32(buf, start) != crc) {
		snprintf(why, whylen, "checksum mismatch: damaged or edited");
		return false;
	}
	*body_len = start;
	*rev = r;
	return true;
}

/* Does the file name say (ns, name) of the object it holds? */
static bool
store_name_matches(const char *fname, const char *ns, const char *name)
{
	size_t nl = strlen(ns), ml = strlen(name);

	return strncmp(fname, ns, nl) == 0 && fname[nl] == '_' &&
	       strncmp(fname + nl + 1, name, ml) == 0 && strcmp(fname + nl + 1 + ml, ".yaml") == 0;
}

/* The only object of kind @p k in @p m; NULL when m holds anything else. */
static const char *
store_single(const struct el_model *m, enum el_kind k)
{
	unsigned n[EL_KIND_COUNT] = {m->n_svcs, m->n_eps, m->n_slices};

	for (int i = 0; i < EL_KIND_COUNT; i++)
		if (n[i] != (i == (int)k ? 1u : 0u))
			return NULL;
	switch (k) {
	case EL_KIND_SERVICE:
		return (const char *)m->svcs[0];
	case EL_KIND_ENDPOINTS:
		return (const char *)m->eps[0];
	default:
		return (const char *)m->slices[0];
	}
}

/* Read, check and parse one file; 1 = added to @p items, 0 = skipped,
 * negative = -ENOMEM. */
static int
store_load_file(struct store *st, enum el_kind k, const char *dirpath, const char *fname,
		struct store_items *items)
{
	char path[STORE_NAME_MAX + 260], why[600];
	struct store_item it;
	const char *obj;
	size_t len = 0, body = 0;
	uint64_t rev = 0;
	char *buf = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dirpath, fname);
	rc = store_read_file(path, &buf, &len);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		store_report(st, "%s: skipped: %s", path, strerror(-rc));
		return 0;
	}
	if (!store_check_footer(buf, len, &body, &rev, why, sizeof(why))) {
		store_report(st, "%s: skipped: %s", path, why);
		free(buf);
		return 0;
	}
	el_model_init(&it.obj);
	it.rev = rev;
	rc = manifest_load_buf(&it.obj, buf, body, path, why, sizeof(why));
	if (rc == -ENOMEM) {
		free(buf);
		el_model_free(&it.obj);
		return rc;
	}
	if (rc < 0) {
		store_report(st, "%s: skipped: does not parse: %s", path, why);
		free(buf);
		el_model_free(&it.obj);
		return 0;
	}
	obj = store_single(&it.obj, k);
	if (obj == NULL || !store_name_matches(fname, obj, obj + EL_LABEL_MAX)) {
		store_report(st, "%s: skipped: does not hold the one %s its name says", path,
			     model_json_kind(k));
		free(buf);
		el_model_free(&it.obj);
		return 0;
	}
	if (k == EL_KIND_SERVICE)
		store_read_auto(buf, body, it.obj.svcs[0]);
	free(buf);
	if (items->n == items->cap) {
		unsigned ncap = items->cap ? items->cap * 2 : 64;
		struct store_item *nv = realloc(items->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			el_model_free(&it.obj);
			return -ENOMEM;
		}
		items->v = nv;
		items->cap = ncap;
	}
	items->v[items->n++] = it;
	return 1;
}

/* A name the store writes: "NS_NAME.yaml", not hidden, not a temp file. */
static bool
store_is_object_name(const char *fname)
{
	size_t n = strlen(fname);

	return fname[0] != '.' && n > 5 && strcmp(fname + n - 5, ".yaml") == 0 &&
	       strchr(fname, '_') != NULL;
}

static int
store_item_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct store_item *)a)->rev, y = ((const struct store_item *)b)->rev;

	return x < y ? -1 : x > y;
}

int
store_load(struct store *st, struct el_model *m, unsigned *loaded, unsigned *skipped)
{
	struct store_items items = {0};
	unsigned n_skipped = 0, n_loaded = 0;
	char dirpath[STORE_NAME_MAX];
	int rc = 0;

	for (int k = 0; rc == 0 && k < EL_KIND_COUNT; k++) {
		struct dirent *de;
		DIR *d;

		snprintf(dirpath, sizeof(dirpath), "%s/%s", st->dir,
			 model_json_resource((enum el_kind)k));
		d = opendir(dirpath);
		if (d == NULL) {
			if (errno == ENOENT)
				continue;
			rc = -errno;
			break;
		}
		while ((de = readdir(d)) != NULL) {
			if (!store_is_object_name(de->d_name))
				continue;
			int r = store_load_file(st, (enum el_kind)k, dirpath, de->d_name, &items);
			if (r < 0) {
				rc = r;
				break;
			}
			n_skipped += r == 0;
		}
		closedir(d);
	}
	if (rc == 0 && items.n > 1)
		qsort(items.v, items.n, sizeof(*items.v), store_item_cmp);
	/* revisions given from now on stay above every stored one, so the
	 * order of the files keeps meaning what it meant */
	if (rc == 0 && items.n > 0 && m->rev < items.v[items.n - 1].rev)
		m->rev = items.v[items.n - 1].rev;
	for (unsigned i = 0; i < items.n; i++) {
		if (rc == 0) {
			rc = model_merge(m, &items.v[i].obj);
			n_loaded += rc == 0;
		}
		el_model_free(&items.v[i].obj);
	}
	free(items.v);
	if (loaded != NULL)
		*loaded = n_loaded;
	if (skipped != NULL)
		*skipped = n_skipped;
	return rc;
}
