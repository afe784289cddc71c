/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The durable store (store.h): a write-ahead journal in front of one file
 * per object.
 *
 * A group of changes becomes durable in one step: one record holding the
 * complete new text of every object it writes (or the object's removal) is
 * appended to STATE_DIR/journal and made durable with one fdatasync(2),
 * whatever the number of objects (group commit, DeWitt et al.,
 * "Implementation Techniques for Main Memory Database Systems", SIGMOD
 * 1984). Only after that are the object files brought up to the same text,
 * without an fsync each: the write-ahead rule of database logs (Mohan et
 * al., "ARIES", ACM TODS 17(1), 1992): the log reaches stable storage
 * before the data it describes is overwritten. A file may therefore be
 * older than the journal, or torn by a crash while it was rewritten; the
 * journal's version of an object wins at load, and the load writes it back
 * into the file. A checkpoint (syncfs(2) of the state directory's file
 * system, then an empty journal) makes the files alone hold the state; it
 * runs when the journal passes STORE_CHECKPOINT_BYTES and at store_close().
 *
 * An object file that exists is rewritten in place (pwrite, ftruncate): a
 * temp file and rename(2) per change would allocate an inode and free one
 * each time, and on ext4 without a journal every allocation scans past the
 * recently freed inodes of its group (find_inode_bit/recently_deleted),
 * which took 0.05-1.6 ms of CPU per file on this lab's shared disk. A new
 * object's file is created empty before its record is logged (a directory
 * that takes no file refuses the group then) and written after: a rename
 * per new object cost another 35 us. An empty file therefore holds no
 * object: it is a creation that a crash cut short before its record was
 * durable (once a checkpoint made a file durable, it has its text), and
 * loading removes it without a report.
 *
 * While the journal record is being flushed, the caller may work (the
 * compile of the same changes): a flush thread runs the fdatasync
 * (store_txn_commit_start/finish).
 *
 * Checksums of object files and journal records are CRC-32 with the
 * reflected polynomial 0xEDB88320 (ISO 3309 / ITU-T V.42, the CRC of zlib
 * and PNG), computed bytewise with a 256-entry table built on first use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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

#define STORE_FOOTER_TAG  "# edgelb-store v1 "
#define STORE_AUTO_TAG	  "# edgelb-auto"
#define STORE_JOURNAL	  "journal"
#define STORE_JOURNAL_TAG "# edgelb-journal v1 "
#define STORE_FILE_MAX	  (16u << 20) /* far above any object the API accepts */
#define STORE_NAME_MAX	  4096
#define STORE_LINE_MAX	  512 /* a journal header or entry line */
/* A transaction keeps at most this many object files open between its
 * check and its write; the others are opened again. */
#define STORE_TXN_FDS 256

enum store_job { STORE_JOB_NONE, STORE_JOB_ASKED, STORE_JOB_DONE };

struct store {
	char dir[STORE_PATH_MAX];
	store_log_fn log;
	void *log_ctx;
	int jfd;       /* the journal */
	uint64_t jend; /* its length: every byte belongs to a complete record */
	uint64_t jseq; /* sequence number of the next record */
	bool stale;    /* a file could not be brought up to the journal */
	/* the flusher: fdatasync of the journal on its own thread */
	pthread_t flusher;
	bool flusher_up, quit;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum store_job job;
	int job_rc;
	/* the last object file opened was created: try creating first */
	bool expect_new;
};

/* What names an object: kind, namespace, name. */
struct store_okey {
	enum el_kind k;
	char ns[EL_LABEL_MAX];
	char name[EL_SUBDOMAIN_MAX];
};

enum store_op { STORE_OP_PUT = 1, STORE_OP_DELETE };

/* ---- CRC-32 ---- */

/* CRC-32 of ISO-HDLC (zlib's; reflected polynomial 0xedb88320), eight bytes
 * a step ("slicing by 8": table[k][b] is the CRC of byte b followed by k
 * zero bytes), the same value as one byte a step. */
static uint32_t store_crc_table[8][256];
static pthread_once_t store_crc_once = PTHREAD_ONCE_INIT;

static void
store_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		store_crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			store_crc_table[k][i] =
			    (store_crc_table[k - 1][i] >> 8) ^
			    store_crc_table[0][store_crc_table[k - 1][i] & 0xff];
}

unsigned long
store_crc32(const void *buf, size_t len)
{
	const uint32_t(*t)[256] = store_crc_table;
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	pthread_once(&store_crc_once, store_crc_init);
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		      t[4][lo >> 24] ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
	}
	for (size_t i = 0; i < len; i++)
		crc = t[0][(crc ^ p[i]) & 0xff] ^ (crc >> 8);
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

/* ---- object keys and an index over them ---- */

static bool
store_okey_set(struct store_okey *key, enum el_kind k, const char *ns, const char *name)
{
	size_t nl = strlen(ns), ml = strlen(name);

	/* names become file names and journal words: DNS labels and
	 * subdomains never hold a '/', a space or a newline */
	if ((unsigned)k >= EL_KIND_COUNT || nl == 0 || ml == 0 || nl >= sizeof(key->ns) ||
	    ml >= sizeof(key->name) || strpbrk(ns, "/ \n_") != NULL ||
	    strpbrk(name, "/ \n") != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	key->k = k;
	memcpy(key->ns, ns, nl + 1);
	memcpy(key->name, name, ml + 1);
	return true;
}

static bool
store_okey_eq(const struct store_okey *a, const struct store_okey *b)
{
	return a->k == b->k && strcmp(a->ns, b->ns) == 0 && strcmp(a->name, b->name) == 0;
}

/* FNV-1a over kind, namespace and name. */
static uint32_t
store_okey_hash(const struct store_okey *key)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)key->k;

	for (const char *p = key->ns; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h = (h ^ '/') * 0x100000001b3ull;
	for (const char *p = key->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * Positions in an array of records that start with a struct store_okey,
 * by key: open addressing, linear probing; a slot holds position + 1, 0
 * when empty. The array may move (realloc): only positions are kept.
 */
struct store_index {
	uint32_t *slot;
	uint32_t mask;
	uint32_t n;
};

static const struct store_okey *
store_index_key(const void *base, size_t stride, uint32_t v)
{
	return (const struct store_okey *)((const char *)base + (size_t)(v - 1) * stride);
}

/* The slot of @p key: its position + 1, or 0 where it would go. */
static uint32_t *
store_index_slot(const struct store_index *ix, const void *base, size_t stride,
		 const struct store_okey *key)
{
	for (uint32_t i = store_okey_hash(key) & ix->mask;; i = (i + 1) & ix->mask) {
		uint32_t v = ix->slot[i];

		if (v == 0 || store_okey_eq(store_index_key(base, stride, v), key))
			return &ix->slot[i];
	}
}

/* Room for one more key (load kept at most 1/2). */
static int
store_index_reserve(struct store_index *ix, const void *base, size_t stride)
{
	struct store_index nx;
	uint32_t cap;

	if (ix->slot != NULL && (ix->n + 1) * 2 <= ix->mask + 1)
		return 0;
	cap = ix->slot != NULL ? (ix->mask + 1) * 2 : 64;
	nx.slot = calloc(cap, sizeof(*nx.slot));
	if (nx.slot == NULL)
		return -ENOMEM;
	nx.mask = cap - 1;
	nx.n = ix->n;
	for (uint32_t i = 0; ix->slot != NULL && i <= ix->mask; i++)
		if (ix->slot[i] != 0)
			*store_index_slot(&nx, base, stride,
					  store_index_key(base, stride, ix->slot[i])) = ix->slot[i];
	free(ix->slot);
	*ix = nx;
	return 0;
}

/* ---- files ---- */

static int
store_path(const struct store *st, const struct store_okey *key, const char *suffix, char *buf,
	   size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s_%s.yaml%s", st->dir, model_json_resource(key->k),
			 key->ns, key->name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
store_pwrite_all(int fd, const char *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Read all of an open file (at most @p max bytes), NUL-terminated. */
static int
store_read_fd(int fd, size_t max, char **out, size_t *len)
{
	struct stat sb;
	size_t got = 0;
	char *buf;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EISDIR;
	if ((uint64_t)sb.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL)
		return -ENOMEM;
	while (got < (size_t)sb.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)sb.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int
store_read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = store_read_fd(fd, STORE_FILE_MAX, out, len);
	close(fd);
	return rc;
}

/*
 * Open the file of an object for writing, before anything is logged: the
 * file when it exists, else a new empty one (*fresh set).
 */
static int
store_file_open(struct store *st, const struct store_okey *key, bool *fresh)
{
	char path[STORE_NAME_MAX];
	int fd, rc = store_path(st, key, "", path, sizeof(path));

	*fresh = false;
	if (rc < 0)
		return rc;
	/* objects come in runs of creations (a first apply) or of updates:
	 * the open the last one needed goes first (one system call, not two) */
	if (st->expect_new) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd >= 0) {
			*fresh = true;
			return fd;
		}
		st->expect_new = false; /* then as if no guess was made */
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	*fresh = true;
	st->expect_new = true;
	return fd;
}

/* Give an object's file the text @p text, through @p fd from
 * store_file_open() (or -1: opened here). Closes the descriptor. */
static int
store_file_write(struct store *st, const struct store_okey *key, int fd, bool fresh,
		 const char *text, size_t len)
{
	int rc;

	if (fd < 0) {
		fd = store_file_open(st, key, &fresh);
		if (fd < 0)
			return fd;
	}
	rc = store_pwrite_all(fd, text, len, 0);
	if (rc == 0 && !fresh && ftruncate(fd, (off_t)len) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int
store_file_remove(const struct store *st, const struct store_okey *key)
{
	char path[STORE_NAME_MAX];
	int rc = store_path(st, key, "", path, sizeof(path));

	if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* Revision of an object (the field sits at a different place per kind). */
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
 * (indices into spec.ports), then the footer. The JSON says what the object
 * holds; the auto line says which of it edgelb chose, so a restart tells
 * requested values from allocated ones.
 */
static char *
store_text(enum el_kind k, const void *obj, const char *given, size_t *len)
{
	char *json = given != NULL ? strdup(given) : model_json_object(k, obj), *out;
	const struct el_service *s = obj;
	char line[64 + 8 * 64], footer[128];
	size_t n, l = 0, fl;
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
	out = realloc(json, n + 1 + (l ? strlen(STORE_AUTO_TAG) + l + 1 : 0) + sizeof(footer));
	if (out == NULL) {
		free(json);
		return NULL;
	}
	out[n++] = '\n';
	if (l > 0)
		n += (size_t)sprintf(out + n, "%s%s\n", STORE_AUTO_TAG, line);
	fl = (size_t)snprintf(footer, sizeof(footer),
			      STORE_FOOTER_TAG "rev=%" PRIu64 " length=%zu crc32=%08lx\n",
			      store_obj_rev(k, obj), n, store_crc32(out, n));
	memcpy(out + n, footer, fl + 1);
	*len = n + fl;
	return out;
}

/* Read back the line store_text() adds; no line leaves the flags clear. */
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

/* ---- the journal ---- */

/*
 * Layout: records, back to back. A record is a header line
 *     # edgelb-journal v1 seq=SEQ entries=N length=BYTES crc32=HEX
 * then BYTES bytes of N entries, crc32 over those bytes. An entry is
 *     put RESOURCE NS NAME LENGTH\n   followed by LENGTH bytes: the file text
 *     delete RESOURCE NS NAME\n
 * Records are numbered without gaps.
 */

/* One entry of a record, read back. */
struct store_jent {
	struct store_okey key; /* first (store_index) */
	enum store_op op;
	const char *text; /* PUT: the object's file text, inside the journal image */
	size_t len;
	uint64_t seq;
	bool unusable; /* PUT whose text did not load: the file counts instead */
};

typedef int (*store_jent_fn)(void *ctx, const struct store_jent *e);

static enum el_kind
store_kind_of(const char *resource)
{
	for (int k = 0; k < EL_KIND_COUNT; k++)
		if (strcmp(resource, model_json_resource((enum el_kind)k)) == 0)
			return (enum el_kind)k;
	return EL_KIND_COUNT;
}

/* Parse the header line at @p p; 0, or -EBADMSG. */
static int
store_journal_header(const char *p, size_t avail, uint64_t *seq, unsigned *entries, uint64_t *plen,
		     unsigned long *crc, size_t *hlen)
{
	size_t tl = strlen(STORE_JOURNAL_TAG);
	const char *nl = memchr(p, '\n', avail < STORE_LINE_MAX ? avail : STORE_LINE_MAX);
	char line[STORE_LINE_MAX + 1], tail;
	unsigned long long s, l;

	if (nl == NULL || (size_t)(nl - p) < tl || memcmp(p, STORE_JOURNAL_TAG, tl) != 0)
		return -EBADMSG;
	memcpy(line, p, (size_t)(nl - p) + 1);
	line[nl - p + 1] = '\0';
	if (sscanf(line + tl, "seq=%llu entries=%u length=%llu crc32=%lx%c", &s, entries, &l, crc,
		   &tail) != 5 ||
	    tail != '\n')
		return -EBADMSG;
	*seq = s;
	*plen = l;
	*hlen = (size_t)(nl - p) + 1;
	return 0;
}

/*
 * The entries of one record's payload: checked when @p fn is NULL, else
 * each given to @p fn. @return 0, -EBADMSG, or what @p fn returned.
 */
static int
store_journal_entries(const char *pl, size_t plen, unsigned n, uint64_t seq, store_jent_fn fn,
		      void *ctx)
{
	size_t pos = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *nl = memchr(pl + pos, '\n',
					plen - pos < STORE_LINE_MAX ? plen - pos : STORE_LINE_MAX);
		char line[STORE_LINE_MAX + 1], *w[6], *save = NULL;
		struct store_jent e;
		unsigned nw = 0;
		int rc;

		if (nl == NULL)
			return -EBADMSG;
		memcpy(line, pl + pos, (size_t)(nl - (pl + pos)));
		line[nl - (pl + pos)] = '\0';
		pos = (size_t)(nl - pl) + 1;
		for (char *t = strtok_r(line, " ", &save); t != NULL && nw < 6;
		     t = strtok_r(NULL, " ", &save))
			w[nw++] = t;
		memset(&e, 0, sizeof(e));
		e.seq = seq;
		if (nw < 4 || !store_okey_set(&e.key, store_kind_of(w[1]), w[2], w[3]))
			return -EBADMSG;
		if (strcmp(w[0], "put") == 0 && nw == 5) {
			char *end;
			unsigned long long l = strtoull(w[4], &end, 10);

			if (*end != '\0' || end == w[4] || l > plen - pos)
				return -EBADMSG;
			e.op = STORE_OP_PUT;
			e.text = pl + pos;
			e.len = (size_t)l;
			pos += (size_t)l;
		} else if (strcmp(w[0], "delete") == 0 && nw == 4) {
			e.op = STORE_OP_DELETE;
		} else {
			return -EBADMSG;
		}
		if (fn != NULL && (rc = fn(ctx, &e)) < 0)
			return rc;
	}
	return pos == plen ? 0 : -EBADMSG;
}

/*
 * Walk the records of a journal image. *end receives the length of the
 * part that belongs to the journal: it stops before an incomplete last
 * record (an append a crash interrupted), a damaged last record, and a
 * record out of sequence (bytes of an older journal). A damaged record
 * with good records after it (damage on the disk) is skipped, counted in
 * *damaged and reported when @p report. *last_seq receives the number of
 * the last record walked (0: none).
 * @return 0, or what @p fn returned
 */
static int
store_journal_walk(const struct store *st, const char *buf, size_t len, bool report,
		   store_jent_fn fn, void *ctx, size_t *end, uint64_t *last_seq, unsigned *damaged)
{
	uint64_t prev = 0;
	size_t pos = 0;
	int rc = 0;

	*damaged = 0;
	while (pos < len) {
		uint64_t seq, plen;
		unsigned long crc;
		unsigned n;
		size_t hlen, rend;
		bool ok;

		if (store_journal_header(buf + pos, len - pos, &seq, &n, &plen, &crc, &hlen) < 0 ||
		    plen > len - pos - hlen || (prev != 0 && seq != prev + 1) || seq == 0)
			break;
		rend = pos + hlen + (size_t)plen;
		ok = store_crc32(buf + pos + hlen, (size_t)plen) == crc &&
		     store_journal_entries(buf + pos + hlen, (size_t)plen, n, seq, NULL, NULL) == 0;
		if (!ok && rend == len)
			break;
		if (!ok) {
			(*damaged)++;
			if (report)
				store_report(st,
					     "%s/" STORE_JOURNAL ": record %" PRIu64
					     " at byte %zu damaged: skipped (the changes it "
					     "held are lost)",
					     st->dir, seq, pos);
		} else if (fn != NULL) {
			rc = store_journal_entries(buf + pos + hlen, (size_t)plen, n, seq, fn, ctx);
			if (rc < 0)
				break;
		}
		prev = seq;
		pos = rend;
	}
	*end = pos;
	*last_seq = prev;
	return rc;
}

/* The latest entry of every object the journal names. */
struct store_jset {
	char *image; /* the journal, read */
	size_t len;
	struct store_jent *v;
	unsigned n, cap;
	struct store_index ix;
	unsigned damaged; /* records skipped */
};

static int
store_jset_add(void *ctx, const struct store_jent *e)
{
	struct store_jset *js = ctx;
	uint32_t *slot;

	if (store_index_reserve(&js->ix, js->v, sizeof(*js->v)) < 0)
		return -ENOMEM;
	slot = store_index_slot(&js->ix, js->v, sizeof(*js->v), &e->key);
	if (*slot != 0) {
		js->v[*slot - 1] = *e;
		return 0;
	}
	if (js->n == js->cap) {
		unsigned nc = js->cap ? js->cap * 2 : 64;
		struct store_jent *nv = realloc(js->v, nc * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		js->v = nv;
		js->cap = nc;
	}
	js->v[js->n] = *e;
	*slot = ++js->n;
	js->ix.n++;
	return 0;
}

static void
store_jset_free(struct store_jset *js)
{
	free(js->image);
	free(js->v);
	free(js->ix.slot);
	memset(js, 0, sizeof(*js));
}

/* Read the journal and index the latest entry of every object in it. */
static int
store_jset_read(struct store *st, bool report, struct store_jset *js)
{
	uint64_t last;
	size_t end;
	int rc;

	memset(js, 0, sizeof(*js));
	rc = store_read_fd(st->jfd, SIZE_MAX / 2, &js->image, &js->len);
	if (rc < 0)
		return rc;
	rc = store_journal_walk(st, js->image, js->len, report, store_jset_add, js, &end, &last,
				&js->damaged);
	if (rc < 0)
		store_jset_free(js);
	return rc;
}

/* The journal's entry for @p key, or NULL. */
static const struct store_jent *
store_jset_find(const struct store_jset *js, const struct store_okey *key)
{
	const uint32_t *slot;

	if (js->n == 0)
		return NULL;
	slot = store_index_slot(&js->ix, js->v, sizeof(*js->v), key);
	return *slot != 0 ? &js->v[*slot - 1] : NULL;
}

/* Bring every file the journal names up to its latest entry. */
static int
store_jset_redo(struct store *st, const struct store_jset *js)
{
	char path[STORE_NAME_MAX];
	int rc = 0;

	for (unsigned i = 0; i < js->n; i++) {
		const struct store_jent *e = &js->v[i];
		int r;

		if (e->unusable)
			continue;
		r = e->op == STORE_OP_PUT
			? store_file_write(st, &e->key, -1, false, e->text, e->len)
			: store_file_remove(st, &e->key);
		if (r < 0) {
			store_path(st, &e->key, "", path, sizeof(path));
			store_report(st, "%s: cannot bring it up to the journal: %s", path,
				     strerror(-r));
			if (rc == 0)
				rc = r;
		}
	}
	return rc;
}

/* ---- the flusher: fdatasync of the journal on its own thread ---- */

static void *
store_flusher_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->job != STORE_JOB_ASKED && !st->quit)
			pthread_cond_wait(&st->cv, &st->mu);
		if (st->job != STORE_JOB_ASKED)
			break;
		pthread_mutex_unlock(&st->mu);
		int rc = fdatasync(st->jfd) < 0 ? -errno : 0;
		pthread_mutex_lock(&st->mu);
		st->job_rc = rc;
		st->job = STORE_JOB_DONE;
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Start the flusher (signals stay with the other threads). false: it could
 * not start; the caller flushes itself. */
static bool
store_flusher_start(struct store *st)
{
	sigset_t all, old;
	int rc;

	if (st->flusher_up)
		return true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->flusher, NULL, store_flusher_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	st->flusher_up = rc == 0;
	return st->flusher_up;
}

static void
store_flush_ask(struct store *st)
{
	if (!store_flusher_start(st))
		return;
	pthread_mutex_lock(&st->mu);
	st->job = STORE_JOB_ASKED;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	/* the flusher shares the caller's CPU (it inherits its affinity): let
	 * it issue the fdatasync now, not when the caller's work is done (the
	 * scheduler does not preempt the caller for it at once; measured: 2 ms
	 * per commit waiting for the CPU) */
	sched_yield();
}

static int
store_flush_wait(struct store *st)
{
	int rc;

	if (!st->flusher_up)
		return fdatasync(st->jfd) < 0 ? -errno : 0;
	pthread_mutex_lock(&st->mu);
	while (st->job == STORE_JOB_ASKED)
		pthread_cond_wait(&st->cv, &st->mu);
	rc = st->job == STORE_JOB_DONE ? st->job_rc : 0;
	st->job = STORE_JOB_NONE;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static void
store_flusher_stop(struct store *st)
{
	if (!st->flusher_up)
		return;
	pthread_mutex_lock(&st->mu);
	st->quit = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->flusher, NULL);
	st->flusher_up = false;
}

/* ---- open, checkpoint, close ---- */

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

/* Open the journal: find where its last complete record ends, drop what
 * follows (an append a crash interrupted: never acknowledged). */
static int
store_journal_open(struct store *st)
{
	char path[STORE_PATH_MAX + 16], *image = NULL;
	unsigned damaged;
	uint64_t last;
	size_t len, end;
	int rc;

	snprintf(path, sizeof(path), "%s/" STORE_JOURNAL, st->dir);
	st->jfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (st->jfd < 0)
		return -errno;
	rc = store_read_fd(st->jfd, SIZE_MAX / 2, &image, &len);
	if (rc < 0)
		return rc;
	store_journal_walk(st, image, len, false, NULL, NULL, &end, &last, &damaged);
	free(image);
	if (end < len) {
		if (ftruncate(st->jfd, (off_t)end) < 0 || fdatasync(st->jfd) < 0)
			return -errno;
		store_report(st,
			     "%s: %zu bytes after the last complete record dropped (a write "
			     "interrupted by a crash, never acknowledged)",
			     path, len - end);
	}
	st->jend = end;
	st->jseq = last + 1;
	return 0;
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
	st->jfd = -1;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
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
	if (rc == 0)
		rc = store_journal_open(st);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", st->dir, strerror(-rc));
		if (st->jfd >= 0)
			close(st->jfd);
		pthread_mutex_destroy(&st->mu);
		pthread_cond_destroy(&st->cv);
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int
store_checkpoint(struct store *st)
{
	int fd, rc = 0;

	if (st->jend == 0)
		return 0;
	if (st->stale) {
		struct store_jset js;

		rc = store_jset_read(st, false, &js);
		if (rc == 0) {
			rc = store_jset_redo(st, &js);
			store_jset_free(&js);
		}
		if (rc < 0)
			return rc;
		st->stale = false;
	}
	fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syncfs(fd) < 0)
		rc = -errno;
	close(fd);
	/* the files hold everything: the journal starts again (its numbers
	 * go on, so bytes of this one can never pass for the next one's) */
	if (rc == 0 && (ftruncate(st->jfd, 0) < 0 || fdatasync(st->jfd) < 0))
		rc = -errno;
	if (rc == 0)
		st->jend = 0;
	return rc;
}

uint64_t
store_journal_bytes(const struct store *st)
{
	return st->jend;
}

void
store_close(struct store *st)
{
	int rc;

	if (st == NULL)
		return;
	store_flusher_stop(st);
	rc = store_checkpoint(st);
	if (rc < 0)
		store_report(st, "%s: checkpoint at close: %s (the journal keeps the changes)",
			     st->dir, strerror(-rc));
	if (st->jfd >= 0)
		close(st->jfd);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	free(st);
}

/* ---- transactions ---- */

struct store_entry {
	struct store_okey key; /* first (store_index) */
	enum store_op op;
	char *text; /* PUT: the file's text */
	size_t len;
	int fd;	    /* during a commit: the object's file; -1 */
	bool fresh; /* during a commit: the file was created empty for it */
};

struct store_txn {
	struct store *st;
	struct store_entry *e;
	unsigned n, cap;
	struct store_index ix;
	char *rec; /* the journal record, once written */
	size_t rec_len;
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

/* The entry of an object, added when absent. */
static int
store_txn_entry(struct store_txn *t, enum el_kind k, const char *ns, const char *name,
		struct store_entry **out)
{
	struct store_okey key;
	char path[STORE_NAME_MAX];
	uint32_t *slot;

	if (!store_okey_set(&key, k, ns, name))
		return -EINVAL;
	if (store_path(t->st, &key, "", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (store_index_reserve(&t->ix, t->e, sizeof(*t->e)) < 0)
		return -ENOMEM;
	slot = store_index_slot(&t->ix, t->e, sizeof(*t->e), &key);
	if (*slot != 0) {
		*out = &t->e[*slot - 1];
		return 0;
	}
	if (t->n == t->cap) {
		unsigned nc = t->cap ? t->cap * 2 : 8;
		struct store_entry *ne = realloc(t->e, nc * sizeof(*ne));
		if (ne == NULL)
			return -ENOMEM;
		t->e = ne;
		t->cap = nc;
	}
	memset(&t->e[t->n], 0, sizeof(t->e[0]));
	t->e[t->n].key = key;
	t->e[t->n].fd = -1;
	*slot = ++t->n;
	t->ix.n++;
	*out = &t->e[t->n - 1];
	return 0;
}

int
store_txn_put(struct store_txn *t, enum el_kind k, const void *obj)
{
	return store_txn_put_json(t, k, obj, NULL);
}

int
store_txn_put_json(struct store_txn *t, enum el_kind k, const void *obj, const char *json)
{
	const char *ns = obj, *name = (const char *)obj + EL_LABEL_MAX;
	struct store_entry *e;
	size_t len = 0;
	char *text;
	int rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	rc = store_txn_entry(t, k, ns, name, &e);
	if (rc < 0)
		return rc;
	text = store_text(k, obj, json, &len);
	if (text == NULL)
		return -ENOMEM;
	free(e->text);
	e->op = STORE_OP_PUT;
	e->text = text;
	e->len = len;
	return 0;
}

int
store_txn_delete(struct store_txn *t, enum el_kind k, const char *ns, const char *name)
{
	struct store_entry *e;
	int rc;

	if ((unsigned)k >= EL_KIND_COUNT)
		return -EINVAL;
	rc = store_txn_entry(t, k, ns, name, &e);
	if (rc < 0)
		return rc;
	free(e->text);
	e->text = NULL;
	e->len = 0;
	e->op = STORE_OP_DELETE;
	return 0;
}

/* Close what a commit opened; files it created (still empty) go. */
static void
store_txn_close_files(struct store_txn *t)
{
	char path[STORE_NAME_MAX];

	for (unsigned i = 0; i < t->n; i++) {
		struct store_entry *e = &t->e[i];

		if (e->fd >= 0)
			close(e->fd);
		e->fd = -1;
		if (e->fresh && store_path(t->st, &e->key, "", path, sizeof(path)) == 0)
			unlink(path);
		e->fresh = false;
	}
}

static void
store_txn_free(struct store_txn *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->e[i].text);
	free(t->e);
	free(t->ix.slot);
	free(t->rec);
	free(t);
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	store_txn_close_files(t);
	store_txn_free(t);
}

/* Every object about to be written gets its file opened (a new one is
 * created empty): a directory that takes no file refuses the group before
 * it is logged. */
static int
store_txn_open_files(struct store_txn *t)
{
	unsigned open_fds = 0;

	for (unsigned i = 0; i < t->n; i++) {
		struct store_entry *e = &t->e[i];
		int fd;

		if (e->op != STORE_OP_PUT)
			continue;
		fd = store_file_open(t->st, &e->key, &e->fresh);
		if (fd < 0)
			return fd;
		if (open_fds < STORE_TXN_FDS) {
			e->fd = fd;
			open_fds++;
		} else {
			close(fd); /* opened again to be written */
		}
	}
	return 0;
}

/* The journal record of a transaction (store_journal_walk() reads it). */
static int
store_txn_record(struct store_txn *t)
{
	char head[STORE_LINE_MAX], *pl;
	size_t plen = 0, o = 0;
	int hl;

	for (unsigned i = 0; i < t->n; i++)
		plen += STORE_LINE_MAX + t->e[i].len;
	pl = malloc(plen + 1);
	if (pl == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < t->n; i++) {
		const struct store_entry *e = &t->e[i];
		const char *res = model_json_resource(e->key.k);

		if (e->op == STORE_OP_PUT) {
			o += (size_t)snprintf(pl + o, plen + 1 - o, "put %s %s %s %zu\n", res,
					      e->key.ns, e->key.name, e->len);
			memcpy(pl + o, e->text, e->len);
			o += e->len;
		} else {
			o += (size_t)snprintf(pl + o, plen + 1 - o, "delete %s %s %s\n", res,
					      e->key.ns, e->key.name);
		}
	}
	hl = snprintf(head, sizeof(head),
		      STORE_JOURNAL_TAG "seq=%" PRIu64 " entries=%u length=%zu crc32=%08lx\n",
		      t->st->jseq, t->n, o, store_crc32(pl, o));
	t->rec = malloc((size_t)hl + o);
	if (t->rec == NULL) {
		free(pl);
		return -ENOMEM;
	}
	memcpy(t->rec, head, (size_t)hl);
	memcpy(t->rec + hl, pl, o);
	t->rec_len = (size_t)hl + o;
	free(pl);
	return 0;
}

int
store_txn_commit_start(struct store_txn *t)
{
	struct store *st = t->st;
	int rc;

	if (t->n == 0)
		return 0;
	rc = store_txn_open_files(t);
	if (rc == 0)
		rc = store_txn_record(t);
	if (rc == 0) {
		rc = store_pwrite_all(st->jfd, t->rec, t->rec_len, st->jend);
		if (rc < 0 && ftruncate(st->jfd, (off_t)st->jend) < 0)
			st->stale = true;
	}
	if (rc < 0) {
		store_txn_abort(t);
		return rc;
	}
	store_flush_ask(st);
	return 0;
}

int
store_txn_commit_finish(struct store_txn *t)
{
	struct store *st = t->st;
	char path[STORE_NAME_MAX];
	int rc;

	if (t->n == 0) {
		store_txn_free(t);
		return 0;
	}
	rc = store_flush_wait(st);
	if (rc < 0) {
		/* not durable, not acknowledged: the record goes */
		if (ftruncate(st->jfd, (off_t)st->jend) < 0 || fdatasync(st->jfd) < 0)
			st->stale = true;
		store_txn_abort(t);
		return rc;
	}
	st->jend += t->rec_len;
	st->jseq++;
	/* durable: now the files (a failure here loses nothing, the journal
	 * holds the text; the files are redone before the journal is let go) */
	for (unsigned i = 0; i < t->n; i++) {
		struct store_entry *e = &t->e[i];
		int r = e->op == STORE_OP_PUT
			    ? store_file_write(st, &e->key, e->fd, e->fresh, e->text, e->len)
			    : store_file_remove(st, &e->key);

		e->fd = -1;
		e->fresh = false;
		if (r < 0) {
			st->stale = true;
			store_path(st, &e->key, "", path, sizeof(path));
			store_report(st, "%s: %s (the journal holds the change)", path,
				     strerror(-r));
		}
	}
	store_txn_free(t);
	if (st->jend >= STORE_CHECKPOINT_BYTES) {
		rc = store_checkpoint(st);
		if (rc < 0)
			store_report(st, "%s: checkpoint: %s (the journal keeps the changes)",
				     st->dir, strerror(-rc));
	}
	return 0;
}

int
store_txn_commit(struct store_txn *t)
{
	int rc = store_txn_commit_start(t);

	return rc < 0 ? rc : store_txn_commit_finish(t);
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

/* One object read from a file or the journal, waiting to be merged in
 * revision order. */
struct store_item {
	uint64_t rev;
	struct el_model obj; /* holds exactly one object */
};

struct store_items {
	struct store_item *v;
	unsigned n, cap;
};

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

/*
 * Check and parse the text of one object (a NUL-terminated buffer): it must
 * hold the one object @p key names. 1 = added to @p items, 0 = not (*why
 * says why), negative = -ENOMEM.
 */
static int
store_load_text(const struct store_okey *key, const char *where, const char *buf, size_t len,
		struct store_items *items, char *why, size_t whylen)
{
	char perr[600];
	struct store_item it;
	const char *obj;
	size_t body = 0;
	uint64_t rev = 0;
	int rc;

	if (!store_check_footer(buf, len, &body, &rev, why, whylen))
		return 0;
	el_model_init(&it.obj);
	it.rev = rev;
	rc = manifest_load_buf(&it.obj, buf, body, where, perr, sizeof(perr));
	if (rc == -ENOMEM) {
		el_model_free(&it.obj);
		return rc;
	}
	if (rc < 0) {
		snprintf(why, whylen, "does not parse: %s", perr);
		el_model_free(&it.obj);
		return 0;
	}
	obj = store_single(&it.obj, key->k);
	if (obj == NULL || strcmp(obj, key->ns) != 0 ||
	    strcmp(obj + EL_LABEL_MAX, key->name) != 0) {
		snprintf(why, whylen, "does not hold the one %s its name says",
			 model_json_kind(key->k));
		el_model_free(&it.obj);
		return 0;
	}
	if (key->k == EL_KIND_SERVICE)
		store_read_auto(buf, body, it.obj.svcs[0]);
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

/*
 * The object a file name gives: "NS_NAME.yaml" (a namespace holds no '_'),
 * not hidden, not a temp file. false for any other name.
 */
static bool
store_file_key(enum el_kind k, const char *fname, struct store_okey *key)
{
	size_t n = strlen(fname);
	const char *us = strchr(fname, '_');
	char ns[EL_LABEL_MAX], name[EL_SUBDOMAIN_MAX];

	if (fname[0] == '.' || n <= 5 || strcmp(fname + n - 5, ".yaml") != 0 || us == NULL)
		return false;
	if ((size_t)(us - fname) >= sizeof(ns) || n - 5 - (size_t)(us - fname) - 1 >= sizeof(name))
		return false;
	memcpy(ns, fname, (size_t)(us - fname));
	ns[us - fname] = '\0';
	memcpy(name, us + 1, n - 5 - (size_t)(us - fname) - 1);
	name[n - 5 - (size_t)(us - fname) - 1] = '\0';
	return store_okey_set(key, k, ns, name);
}

/* A name the store writes or may have written: "X_Y.yaml", not hidden. */
static bool
store_is_object_name(const char *fname)
{
	size_t n = strlen(fname);

	return fname[0] != '.' && n > 5 && strcmp(fname + n - 5, ".yaml") == 0 &&
	       strchr(fname, '_') != NULL;
}

/* Read, check and parse one file; 1 = added to @p items, 0 = skipped
 * (reported), 2 = an empty file (removed), negative = -ENOMEM. */
static int
store_load_file(struct store *st, enum el_kind k, const char *dirpath, const char *fname,
		struct store_items *items)
{
	char path[STORE_NAME_MAX + 260], why[700];
	struct store_okey key;
	size_t len = 0;
	char *buf = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dirpath, fname);
	if (!store_file_key(k, fname, &key)) {
		store_report(st, "%s: skipped: does not hold the one %s its name says", path,
			     model_json_kind(k));
		return 0;
	}
	rc = store_read_file(path, &buf, &len);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		store_report(st, "%s: skipped: %s", path, strerror(-rc));
		return 0;
	}
	if (len == 0) {
		/* a creation a crash cut short before its record was durable */
		free(buf);
		unlink(path);
		return 2;
	}
	rc = store_load_text(&key, path, buf, len, items, why, sizeof(why));
	free(buf);
	if (rc == 0)
		store_report(st, "%s: skipped: %s", path, why);
	return rc;
}

/* The journal's objects: what each PUT holds goes to @p items; one that
 * does not load leaves its file to count. */
static int
store_load_journal(struct store *st, struct store_jset *js, struct store_items *items,
		   unsigned *loaded, unsigned *skipped)
{
	char where[STORE_PATH_MAX + 64], why[700];

	for (unsigned i = 0; i < js->n; i++) {
		struct store_jent *e = &js->v[i];
		char *text;
		int rc;

		if (e->op != STORE_OP_PUT)
			continue;
		text = malloc(e->len + 1);
		if (text == NULL)
			return -ENOMEM;
		memcpy(text, e->text, e->len);
		text[e->len] = '\0';
		snprintf(where, sizeof(where), "%s/" STORE_JOURNAL " record %" PRIu64, st->dir,
			 e->seq);
		rc = store_load_text(&e->key, where, text, e->len, items, why, sizeof(why));
		free(text);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			store_report(st, "%s: %s %s/%s: skipped: %s", where,
				     model_json_kind(e->key.k), e->key.ns, e->key.name, why);
			e->unusable = true;
			(*skipped)++;
		}
		*loaded += (unsigned)rc;
	}
	return 0;
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
	unsigned n_skipped = 0, n_read = 0, n_loaded = 0;
	char dirpath[STORE_NAME_MAX];
	struct store_jset js;
	int rc;

	rc = store_jset_read(st, true, &js);
	if (rc < 0)
		return rc;
	n_skipped += js.damaged;
	rc = store_load_journal(st, &js, &items, &n_read, &n_skipped);

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
			struct store_okey key;
			const struct store_jent *e;

			if (!store_is_object_name(de->d_name))
				continue;
			/* the journal's version wins over the file's */
			if (store_file_key((enum el_kind)k, de->d_name, &key) &&
			    (e = store_jset_find(&js, &key)) != NULL && !e->unusable)
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
	/* the files catch up with the journal (after a crash they may lag) */
	if (rc == 0 && store_jset_redo(st, &js) < 0)
		st->stale = true;
	store_jset_free(&js);

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
