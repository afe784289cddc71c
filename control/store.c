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

int
store_put(struct store *st, enum el_kind k, const void *obj)
{
	char path[STORE_NAME_MAX], tmp[STORE_NAME_MAX], footer[128];
	const char *ns = obj, *name = (const char *)obj + EL_LABEL_MAX;
	char *json;
	size_t len;
	int fd, rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	rc = store_path(st, k, ns, name, "", path, sizeof(path));
	if (rc == 0)
		rc = store_path(st, k, ns, name, ".tmp", tmp, sizeof(tmp));
	if (rc < 0)
		return rc;
	json = model_json_object(k, obj);
	if (json == NULL)
		return -ENOMEM;
	len = strlen(json);
	json[len++] = '\n'; /* the NUL becomes the body's last newline */
	snprintf(footer, sizeof(footer),
		 STORE_FOOTER_TAG "rev=%" PRIu64 " length=%zu crc32=%08lx\n", store_obj_rev(k, obj),
		 len, store_crc32(json, len));

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		free(json);
		return rc;
	}
	rc = store_write_all(fd, json, len);
	if (rc == 0)
		rc = store_write_all(fd, footer, strlen(footer));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	free(json);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return store_fsync_dir(st, k);
}

int
store_delete(struct store *st, enum el_kind k, const char *ns, const char *name)
{
	char path[STORE_NAME_MAX];
	int rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	rc = store_path(st, k, ns, name, "", path, sizeof(path));
	if (rc < 0)
		return rc;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	return store_fsync_dir(st, k);
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
	free(buf);
	if (rc == -ENOMEM) {
		el_model_free(&it.obj);
		return rc;
	}
	if (rc < 0) {
		store_report(st, "%s: skipped: does not parse: %s", path, why);
		el_model_free(&it.obj);
		return 0;
	}
	obj = store_single(&it.obj, k);
	if (obj == NULL || !store_name_matches(fname, obj, obj + EL_LABEL_MAX)) {
		store_report(st, "%s: skipped: does not hold the one %s its name says", path,
			     model_json_kind(k));
		el_model_free(&it.obj);
		return 0;
	}
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
