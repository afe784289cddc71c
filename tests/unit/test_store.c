/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Specification of the durable store: what is written reads back equal,
 * allocations with which of them edgelb chose, replaced and deleted objects
 * stay replaced and deleted, a transaction shows all of its writes or none,
 * what a commit acknowledged survives a crash (the journal's version wins
 * over a file a crash left behind or tore, a record the crash cut short is
 * dropped), a checkpoint leaves the files alone holding the state, and a
 * damaged file (torn, flipped, unparsable, misnamed) or journal record is
 * reported by name and skipped, while temp files and the empty file of a
 * creation a crash cut short go without a word.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

#include "../../control/store.h"

#define EXAMPLES EL_SRCDIR "/config/examples"

struct fixture {
	char dir[64];
	struct store *st;
	char log[8][1024];
	unsigned n_log;
};

static void
capture_log(void *ctx, const char *msg)
{
	struct fixture *f = ctx;

	if (f->n_log < 8)
		snprintf(f->log[f->n_log], sizeof(f->log[0]), "%s", msg);
	f->n_log++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/edgelb-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (store_open(f->dir, &f->st, err, sizeof(err)) != 0)
		return -1;
	store_set_log(f->st, capture_log, f);
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
load_examples(struct el_model *m)
{
	char err[512];

	el_model_init(m);
	if (manifest_load_path(m, EXAMPLES, err, sizeof(err)) != 0)
		fail_msg("examples: %s", err);
}

static void
put_all(struct store *st, const struct el_model *m)
{
	for (unsigned i = 0; i < m->n_svcs; i++)
		assert_int_equal(store_put(st, EL_KIND_SERVICE, m->svcs[i]), 0);
	for (unsigned i = 0; i < m->n_eps; i++)
		assert_int_equal(store_put(st, EL_KIND_ENDPOINTS, m->eps[i]), 0);
	for (unsigned i = 0; i < m->n_slices; i++)
		assert_int_equal(store_put(st, EL_KIND_SLICE, m->slices[i]), 0);
}

/* JSON of an object with the revision left out (it is renumbered at load). */
static char *
json_norev(enum el_kind k, const void *obj)
{
	char *j = model_json_object(k, obj), *rv, *end;

	assert_non_null(j);
	rv = strstr(j, ",\"resourceVersion\":\"");
	assert_non_null(rv);
	end = strchr(rv + strlen(",\"resourceVersion\":\""), '"');
	memmove(rv, end + 1, strlen(end + 1) + 1);
	return j;
}

static void
assert_same_objects(const struct el_model *a, const struct el_model *b)
{
	assert_int_equal(a->n_svcs, b->n_svcs);
	assert_int_equal(a->n_eps, b->n_eps);
	assert_int_equal(a->n_slices, b->n_slices);
	for (unsigned k = 0; k < EL_KIND_COUNT; k++) {
		unsigned n = k == EL_KIND_SERVICE     ? a->n_svcs
			     : k == EL_KIND_ENDPOINTS ? a->n_eps
						      : a->n_slices;
		for (unsigned i = 0; i < n; i++) {
			const void *x = k == EL_KIND_SERVICE	 ? (const void *)a->svcs[i]
					: k == EL_KIND_ENDPOINTS ? (const void *)a->eps[i]
								 : (const void *)a->slices[i];
			const void *y = k == EL_KIND_SERVICE	 ? (const void *)b->svcs[i]
					: k == EL_KIND_ENDPOINTS ? (const void *)b->eps[i]
								 : (const void *)b->slices[i];
			char *jx = json_norev((enum el_kind)k, x),
			     *jy = json_norev((enum el_kind)k, y);
			assert_string_equal(jx, jy);
			free(jx);
			free(jy);
		}
	}
}

static void
file_path(const struct fixture *f, const char *res, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s/%s", f->dir, res, name);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);

	assert_non_null(fp);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	return buf;
}

/* ---- tests ---- */

static void
crc32_matches_the_standard_check_value(void **state)
{
	(void)state;
	assert_int_equal(store_crc32("123456789", 9), 0xcbf43926UL);
	assert_int_equal(store_crc32("", 0), 0);
}

/* The CRC-32 of the definition: one bit at a time. */
static unsigned long
crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return (unsigned long)(crc ^ 0xffffffffu);
}

static void
crc32_equals_the_bitwise_definition_at_every_length_and_offset(void **state)
{
	uint8_t buf[600];
	uint32_t x = 0x12345678u;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; off + len <= sizeof(buf); len += len < 40 ? 1 : 37)
			assert_int_equal(store_crc32(buf + off, len),
					 crc32_bitwise(buf + off, len));
}

static void
open_creates_a_directory_per_kind(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct stat sb;

	for (unsigned k = 0; k < EL_KIND_COUNT; k++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, model_json_resource((enum el_kind)k));
		assert_int_equal(stat(path, &sb), 0);
		assert_true(S_ISDIR(sb.st_mode));
	}
}

static void
open_refuses_a_path_that_is_a_file(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char path[256], err[256];

	file_path(f, "services", "plain", path, sizeof(path));
	write_file(path, "x", 1);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), -ENOTDIR);
	assert_null(st);
	assert_non_null(strstr(err, path));
}

static void
objects_read_back_equal(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded = 99, skipped = 99;

	load_examples(&m);
	put_all(f->st, &m);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, &skipped), 0);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->n_log, 0);
	assert_same_objects(&m, &back);
	el_model_free(&m);
	el_model_free(&back);
}

static void
allocations_are_kept(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *s;

	load_examples(&m);
	s = model_find_service(&m, "default", "web-lb");
	assert_non_null(s);
	s->ports[0].node_port = 31234;
	s->ports[0].node_port_auto = true;
	s->lb_ingress = calloc(1, sizeof(*s->lb_ingress));
	assert_int_equal(el_ip_parse("198.18.0.101", &s->lb_ingress[0]), 0);
	s->n_lb_ingress = 1;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);

	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	s = model_find_service(&back, "default", "web-lb");
	assert_non_null(s);
	assert_int_equal(s->ports[0].node_port, 31234);
	assert_int_equal(s->n_lb_ingress, 1);
	char buf[EL_IP_STRLEN];
	assert_string_equal(el_ip_fmt(&s->lb_ingress[0], buf, sizeof(buf)), "198.18.0.101");
	el_model_free(&m);
	el_model_free(&back);
}

static void
allocations_edgelb_chose_are_marked_as_such(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *s;

	load_examples(&m);
	s = model_find_service(&m, "default", "multiport");
	assert_non_null(s);
	assert_true(s->n_ports >= 2);
	s->type = EL_SVC_NODE_PORT;
	s->ports[0].node_port = 31000; /* asked for */
	s->ports[1].node_port = 31001; /* chosen by edgelb */
	s->ports[1].node_port_auto = true;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	s = model_find_service(&m, "default", "web-lb");
	s->lb_ingress = calloc(1, sizeof(*s->lb_ingress));
	assert_int_equal(el_ip_parse("198.18.0.101", &s->lb_ingress[0]), 0);
	s->n_lb_ingress = 1;
	s->lb_ingress_auto = true;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);

	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	s = model_find_service(&back, "default", "multiport");
	assert_int_equal(s->ports[0].node_port, 31000);
	assert_false(s->ports[0].node_port_auto);
	assert_int_equal(s->ports[1].node_port, 31001);
	assert_true(s->ports[1].node_port_auto);
	s = model_find_service(&back, "default", "web-lb");
	assert_true(s->lb_ingress_auto);
	el_model_free(&m);
	el_model_free(&back);
}

static void
file_without_the_mark_loads_allocations_as_requested(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	char path[256], *text, *mark;
	size_t len;
	struct el_service *s;

	load_examples(&m);
	s = model_find_service(&m, "default", "frontend");
	s->ports[0].node_port_auto = true;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	assert_int_equal(store_checkpoint(f->st), 0);
	/* rewrite the file without the mark line, with a correct footer */
	file_path(f, "services", "default_frontend.yaml", path, sizeof(path));
	text = read_file(path, &len);
	mark = strstr(text, "\n# edgelb-auto");
	assert_non_null(mark);
	mark[1] = '\0';
	len = strlen(text);
	char footer[128];
	snprintf(footer, sizeof(footer), "# edgelb-store v1 rev=1 length=%zu crc32=%08lx\n", len,
		 store_crc32(text, len));
	strcat(text, footer);
	write_file(path, text, strlen(text));
	free(text);

	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_int_equal(f->n_log, 0);
	s = model_find_service(&back, "default", "frontend");
	assert_int_equal(s->ports[0].node_port, 30080);
	assert_false(s->ports[0].node_port_auto);
	el_model_free(&m);
	el_model_free(&back);
}

static void
transaction_writes_appear_only_on_commit(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct store_txn *t;
	unsigned loaded;

	load_examples(&m);
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	for (unsigned i = 0; i < m.n_svcs; i++)
		assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, m.svcs[i]), 0);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, NULL), 0);
	assert_int_equal(loaded, 0);
	el_model_free(&back);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(store_load(f->st, &back, &loaded, NULL), 0);
	assert_int_equal(loaded, m.n_svcs);
	el_model_free(&back);
	el_model_free(&m);
}

static void
aborted_transaction_leaves_no_file(void **state)
{
	struct fixture *f = *state;
	struct el_model m;
	struct store_txn *t;
	char cmd[160];

	load_examples(&m);
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, m.svcs[0]), 0);
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, m.svcs[1]), 0);
	assert_int_equal(store_txn_delete(t, EL_KIND_SERVICE, m.svcs[0]->ns, m.svcs[0]->name), 0);
	store_txn_abort(t);
	snprintf(cmd, sizeof(cmd), "test $(find %s -type f ! -name journal | wc -l) -eq 1", f->dir);
	assert_int_equal(system(cmd), 0);
	el_model_free(&m);
}

static void
last_operation_on_an_object_counts_in_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *s;
	struct store_txn *t;

	load_examples(&m);
	s = model_find_service(&m, "default", "frontend");
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, s), 0);
	assert_int_equal(store_txn_delete(t, EL_KIND_SERVICE, "default", "frontend"), 0);
	s = model_find_service(&m, "default", "web-lb");
	assert_int_equal(store_txn_delete(t, EL_KIND_SERVICE, "default", "web-lb"), 0);
	s->ports[0].port = 8444;
	assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, s), 0);
	assert_int_equal(store_txn_commit(t), 0);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_null(model_find_service(&back, "default", "frontend"));
	assert_int_equal(model_find_service(&back, "default", "web-lb")->ports[0].port, 8444);
	el_model_free(&m);
	el_model_free(&back);
}

static void
a_put_replaces_the_previous_version(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *s;

	load_examples(&m);
	s = model_find_service(&m, "default", "frontend");
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	s->ports[0].port = 8088;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);

	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	assert_int_equal(back.n_svcs, 1);
	assert_int_equal(back.svcs[0]->ports[0].port, 8088);
	el_model_free(&m);
	el_model_free(&back);
}

static void
a_delete_removes_the_object(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded;

	load_examples(&m);
	put_all(f->st, &m);
	assert_int_equal(store_delete(f->st, EL_KIND_SLICE, "default", "frontend-7x2kq"), 0);
	assert_int_equal(store_delete(f->st, EL_KIND_SERVICE, "default", "frontend"), 0);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, NULL), 0);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices - 2);
	assert_null(model_find_service(&back, "default", "frontend"));
	assert_null(model_find_slice(&back, "default", "frontend-7x2kq"));
	assert_non_null(model_find_service(&back, "default", "web-lb"));
	el_model_free(&m);
	el_model_free(&back);
}

static void
deleting_an_absent_object_succeeds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_delete(f->st, EL_KIND_ENDPOINTS, "default", "nothing"), 0);
}

/* Store every example, damage one file with @p damage, load: the damaged
 * file alone is skipped and reported with its path and @p why. */
static void
damaged_file_is_skipped(struct fixture *f, void (*damage)(const char *path), const char *why)
{
	struct el_model m, back;
	unsigned loaded, skipped;
	char path[256];

	load_examples(&m);
	put_all(f->st, &m);
	/* the files alone hold the state: nothing to recover them from */
	assert_int_equal(store_checkpoint(f->st), 0);
	file_path(f, "services", "default_web-lb.yaml", path, sizeof(path));
	damage(path);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices - 1);
	assert_null(model_find_service(&back, "default", "web-lb"));
	assert_non_null(model_find_service(&back, "default", "web-lb-fixed"));
	assert_int_equal(f->n_log, 1);
	if (strstr(f->log[0], path) == NULL || strstr(f->log[0], why) == NULL)
		fail_msg("report \"%s\" does not name %s and \"%s\"", f->log[0], path, why);
	el_model_free(&m);
	el_model_free(&back);
}

static void
truncate_half(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size / 2), 0);
}

static void
flip_a_byte(const char *path)
{
	size_t len;
	char *buf = read_file(path, &len);
	char *p = strstr(buf, "\"https\"");

	assert_non_null(p);
	p[1] = 'H';
	write_file(path, buf, len);
	free(buf);
}

static void
drop_footer(const char *path)
{
	size_t len;
	char *buf = read_file(path, &len);
	char *foot = strstr(buf, "\n# edgelb-store");

	assert_non_null(foot);
	write_file(path, buf, (size_t)(foot - buf) + 1);
	free(buf);
}

/* A valid footer over text that is no object. */
static void
replace_with_garbage(const char *path)
{
	const char *body = "{\"apiVersion\": \"v1\", \"kind\": [unclosed\n";
	char text[256];

	snprintf(text, sizeof(text), "%s# edgelb-store v1 rev=3 length=%zu crc32=%08lx\n", body,
		 strlen(body), store_crc32(body, strlen(body)));
	write_file(path, text, strlen(text));
}

static void
truncated_file_is_skipped_and_reported(void **state)
{
	damaged_file_is_skipped(*state, truncate_half, "truncated");
}

static void
flipped_byte_is_skipped_and_reported(void **state)
{
	damaged_file_is_skipped(*state, flip_a_byte, "checksum");
}

static void
file_without_footer_is_skipped_and_reported(void **state)
{
	damaged_file_is_skipped(*state, drop_footer, "no footer");
}

static void
unparsable_file_is_skipped_and_reported(void **state)
{
	damaged_file_is_skipped(*state, replace_with_garbage, "does not parse");
}

static void
file_holding_another_object_is_skipped(void **state)
{
	struct fixture *f = *state;
	char from[256], to[256];
	struct el_model m, back;
	unsigned skipped;

	load_examples(&m);
	put_all(f->st, &m);
	file_path(f, "services", "default_web-lb.yaml", from, sizeof(from));
	file_path(f, "services", "default_other.yaml", to, sizeof(to));
	size_t len;
	char *buf = read_file(from, &len);
	write_file(to, buf, len);
	free(buf);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_non_null(strstr(f->log[0], to));
	assert_non_null(model_find_service(&back, "default", "web-lb"));
	el_model_free(&m);
	el_model_free(&back);
}

static void
temp_files_are_ignored_silently(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded, skipped;
	char path[256];

	load_examples(&m);
	put_all(f->st, &m);
	/* what a crash between write and rename leaves behind */
	file_path(f, "services", "default_web-lb.yaml.tmp", path, sizeof(path));
	write_file(path, "{\"apiVersion\": \"v1\", \"ki", 24);
	file_path(f, "endpointslices", "default_new.yaml.tmp", path, sizeof(path));
	write_file(path, "", 0);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices);
	assert_same_objects(&m, &back);
	el_model_free(&m);
	el_model_free(&back);
}

static void
files_are_loaded_in_revision_order(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *first, *second;

	load_examples(&m);
	/* "web-lb" (later by name) is older than "api-service" */
	first = model_find_service(&m, "default", "web-lb");
	second = model_find_service(&m, "default", "api-service");
	first->rev = 40;
	second->rev = 41;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, second), 0);
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, first), 0);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, NULL, NULL), 0);
	first = model_find_service(&back, "default", "web-lb");
	second = model_find_service(&back, "default", "api-service");
	assert_true(first->rev < second->rev);
	/* new revisions stay above the stored ones */
	assert_true(back.rev > 41);
	el_model_free(&m);
	el_model_free(&back);
}

static void
stored_file_is_a_manifest(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	char path[256], err[512];

	load_examples(&m);
	put_all(f->st, &m);
	file_path(f, "endpointslices", "", path, sizeof(path));
	el_model_init(&back);
	if (manifest_load_path(&back, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(back.n_slices, m.n_slices);
	el_model_free(&m);
	el_model_free(&back);
}

/* ---- the journal ---- */

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static void
journal_path(const struct fixture *f, char *out, size_t len)
{
	snprintf(out, len, "%s/journal", f->dir);
}

static void
append_bytes(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Load the store's directory through a second store, as a restart does. */
static void
reload(struct fixture *f, struct el_model *back, unsigned *loaded, unsigned *skipped)
{
	struct store *st;
	char err[256];

	assert_int_equal(store_open(f->dir, &st, err, sizeof(err)), 0);
	store_set_log(st, capture_log, f);
	el_model_init(back);
	assert_int_equal(store_load(st, back, loaded, skipped), 0);
	store_close(st);
}

static void
commit_appends_one_record_for_a_group(void **state)
{
	struct fixture *f = *state;
	struct el_model m;
	struct store_txn *t;
	char path[256], *text;
	size_t len;

	load_examples(&m);
	assert_int_equal(store_journal_bytes(f->st), 0);
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	for (unsigned i = 0; i < m.n_svcs; i++)
		assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, m.svcs[i]), 0);
	assert_int_equal(store_txn_commit(t), 0);
	journal_path(f, path, sizeof(path));
	text = read_file(path, &len);
	assert_int_equal(len, store_journal_bytes(f->st));
	assert_non_null(strstr(text, "# edgelb-journal v1 seq=1 "));
	assert_null(strstr(text, "seq=2"));
	free(text);
	el_model_free(&m);
}

static void
existing_file_is_rewritten_in_place(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct el_service *s;
	struct stat before, after;
	char path[256];

	load_examples(&m);
	s = model_find_service(&m, "default", "frontend");
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	file_path(f, "services", "default_frontend.yaml", path, sizeof(path));
	assert_int_equal(stat(path, &before), 0);
	s->ports[0].port = 8123;
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	/* the file alone (after a checkpoint) says the new port */
	assert_int_equal(store_checkpoint(f->st), 0);
	reload(f, &back, NULL, NULL);
	assert_int_equal(model_find_service(&back, "default", "frontend")->ports[0].port, 8123);
	el_model_free(&m);
	el_model_free(&back);
}

/*
 * Creations, updates and creations again, in runs and in turns: every file
 * holds its object's latest text and nothing more (an update to a shorter
 * text cuts what the longer one left), and a deleted object comes back as
 * a new file.
 */
static void
files_hold_their_objects_through_creations_and_updates_in_turn(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned skipped = 0, shorter = 0;

	load_examples(&m);
	put_all(f->st, &m); /* a run of creations */
	for (unsigned i = 0; i < m.n_svcs; i++) {
		struct el_service *s = m.svcs[i];
		if (s->n_ports > 1) {
			s->n_ports = 1; /* the text gets shorter */
			shorter++;
		}
		assert_int_equal(store_put(f->st, EL_KIND_SERVICE, s), 0);
	}
	assert_true(shorter > 0);
	for (unsigned i = 0; i + 1 < m.n_svcs; i += 2) {
		/* in turns: one created again after its removal, one updated */
		struct el_service *a = m.svcs[i], *b = m.svcs[i + 1];
		assert_int_equal(store_delete(f->st, EL_KIND_SERVICE, a->ns, a->name), 0);
		assert_int_equal(store_put(f->st, EL_KIND_SERVICE, a), 0);
		b->ports[0].port = b->ports[0].port == 1 ? 2 : 1;
		assert_int_equal(store_put(f->st, EL_KIND_SERVICE, b), 0);
	}
	assert_int_equal(store_checkpoint(f->st), 0); /* the files alone hold it */
	reload(f, &back, NULL, &skipped);
	assert_int_equal(skipped, 0);
	assert_same_objects(&m, &back);
	el_model_free(&m);
	el_model_free(&back);
}

static void
a_commit_leaves_no_empty_file(void **state)
{
	struct fixture *f = *state;
	struct el_model m;
	char cmd[200];

	load_examples(&m);
	put_all(f->st, &m);
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -name '*.yaml' -empty)\"", f->dir);
	assert_int_equal(system(cmd), 0);
	el_model_free(&m);
}

static void
new_object_file_is_empty_until_the_commit_finishes(void **state)
{
	struct fixture *f = *state;
	struct el_model m;
	struct el_service *s;
	struct store_txn *t;
	char path[256];

	load_examples(&m);
	s = model_find_service(&m, "default", "frontend");
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, s), 0);
	assert_int_equal(store_txn_commit_start(t), 0);
	file_path(f, "services", "default_frontend.yaml", path, sizeof(path));
	assert_int_equal(file_size(path), 0);
	assert_int_equal(store_txn_commit_finish(t), 0);
	assert_true(file_size(path) > 0);
	el_model_free(&m);
}

/* What a crash leaves when it comes between the creation of a new
 * object's file and the durability of its record. */
static void
empty_file_is_removed_without_a_report(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded, skipped;
	char path[256];

	load_examples(&m);
	put_all(f->st, &m);
	file_path(f, "services", "default_ghost.yaml", path, sizeof(path));
	write_file(path, "", 0);
	reload(f, &back, &loaded, &skipped);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->n_log, 0);
	assert_null(model_find_service(&back, "default", "ghost"));
	assert_int_equal(access(path, F_OK), -1);
	el_model_free(&m);
	el_model_free(&back);
}

static void
checkpoint_leaves_the_files_alone_holding_the_state(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	char path[256];
	unsigned loaded;

	load_examples(&m);
	put_all(f->st, &m);
	assert_true(store_journal_bytes(f->st) > 0);
	assert_int_equal(store_checkpoint(f->st), 0);
	assert_int_equal(store_journal_bytes(f->st), 0);
	journal_path(f, path, sizeof(path));
	assert_int_equal(file_size(path), 0);
	reload(f, &back, &loaded, NULL);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices);
	assert_same_objects(&m, &back);
	el_model_free(&m);
	el_model_free(&back);
}

/* What a child that crashed after its commits acknowledged left on disk
 * is loaded whole: it never closed its store (no checkpoint). */
static void
acknowledged_changes_survive_a_crash(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded, skipped;
	int status;
	pid_t pid;

	load_examples(&m);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st;
		char err[256];
		int bad = store_open(f->dir, &st, err, sizeof(err)) != 0;

		for (unsigned i = 0; !bad && i < m.n_svcs; i++)
			bad = store_put(st, EL_KIND_SERVICE, m.svcs[i]) != 0;
		for (unsigned i = 0; !bad && i < m.n_slices; i++)
			bad = store_put(st, EL_KIND_SLICE, m.slices[i]) != 0;
		if (!bad)
			bad = store_delete(st, EL_KIND_SERVICE, "default", "frontend") != 0;
		_exit(bad ? 1 : 0); /* no store_close(): a crash */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	reload(f, &back, &loaded, &skipped);
	assert_int_equal(skipped, 0);
	assert_int_equal(loaded, m.n_svcs - 1 + m.n_slices);
	assert_null(model_find_service(&back, "default", "frontend"));
	assert_non_null(model_find_service(&back, "default", "web-lb"));
	el_model_free(&m);
	el_model_free(&back);
}

/* A crash while a file was rewritten in place leaves it torn: the journal
 * holds the version, loads it silently and writes the file again. */
static void
journal_version_wins_over_a_torn_file(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded, skipped;
	char path[256];

	load_examples(&m);
	put_all(f->st, &m);
	file_path(f, "services", "default_web-lb.yaml", path, sizeof(path));
	truncate_half(path);
	el_model_init(&back);
	assert_int_equal(store_load(f->st, &back, &loaded, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(loaded, m.n_svcs + m.n_eps + m.n_slices);
	assert_same_objects(&m, &back);
	el_model_free(&back);
	/* and the file is whole again: after a checkpoint it loads alone */
	assert_int_equal(store_checkpoint(f->st), 0);
	reload(f, &back, &loaded, &skipped);
	assert_int_equal(skipped, 0);
	assert_non_null(model_find_service(&back, "default", "web-lb"));
	el_model_free(&m);
	el_model_free(&back);
}

/* A removal the journal holds wins over a file a crash left behind. */
static void
journal_removal_wins_over_a_file_left_behind(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	char path[256], *text;
	size_t len;

	load_examples(&m);
	put_all(f->st, &m);
	assert_int_equal(store_checkpoint(f->st), 0);
	file_path(f, "services", "default_web-lb.yaml", path, sizeof(path));
	text = read_file(path, &len);
	assert_int_equal(store_delete(f->st, EL_KIND_SERVICE, "default", "web-lb"), 0);
	write_file(path, text, len); /* as if the crash came before the unlink */
	free(text);
	reload(f, &back, NULL, NULL);
	assert_null(model_find_service(&back, "default", "web-lb"));
	assert_int_equal(access(path, F_OK), -1);
	el_model_free(&m);
	el_model_free(&back);
}

/* An append a crash cut short was never acknowledged: dropped at open
 * without a report of damage, and the next commit follows the last whole
 * record. */
static void
record_cut_short_is_dropped_at_open(void **state)
{
	struct fixture *f = *state;
	const char *cut = "# edgelb-journal v1 seq=2 entries=1 length=900 crc32=0badcafe\n"
			  "put services default cut 870\n{\"apiVersion\":";
	struct el_model m, back;
	unsigned loaded, skipped;
	struct store *st;
	char path[256], err[256];
	off_t good;

	load_examples(&m);
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, m.svcs[0]), 0);
	journal_path(f, path, sizeof(path));
	good = file_size(path);
	append_bytes(path, cut, strlen(cut));
	assert_int_equal(store_open(f->dir, &st, err, sizeof(err)), 0);
	store_set_log(st, capture_log, f);
	assert_int_equal(file_size(path), good);
	assert_int_equal(store_journal_bytes(st), (uint64_t)good);
	assert_int_equal(store_put(st, EL_KIND_SERVICE, m.svcs[1]), 0);
	el_model_init(&back);
	assert_int_equal(store_load(st, &back, &loaded, &skipped), 0);
	assert_int_equal(loaded, 2);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->n_log, 0);
	el_model_free(&back);
	store_close(st);
	el_model_free(&m);
}

/* Damage inside the journal with whole records after it: the damaged
 * record is reported by name and skipped, the others count. */
static void
damaged_record_between_good_ones_is_reported(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	unsigned loaded, skipped;
	char path[256], *text, *second, *payload;
	size_t len;

	load_examples(&m);
	assert_true(m.n_svcs >= 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(store_put(f->st, EL_KIND_SERVICE, m.svcs[i]), 0);
	journal_path(f, path, sizeof(path));
	text = read_file(path, &len);
	second = strstr(text, "# edgelb-journal v1 seq=2 ");
	assert_non_null(second);
	payload = strstr(second, "\"apiVersion\"");
	assert_non_null(payload);
	payload[1] = 'A';
	write_file(path, text, len);
	free(text);
	/* the file of the second object was written: only the journal is hit */
	reload(f, &back, &loaded, &skipped);
	assert_int_equal(skipped, 1);
	assert_true(f->n_log >= 1);
	if (strstr(f->log[0], path) == NULL || strstr(f->log[0], "record 2") == NULL)
		fail_msg("report \"%s\" does not name %s and its record", f->log[0], path);
	assert_non_null(model_find_service(&back, m.svcs[0]->ns, m.svcs[0]->name));
	assert_non_null(model_find_service(&back, m.svcs[2]->ns, m.svcs[2]->name));
	el_model_free(&m);
	el_model_free(&back);
}

/* A directory that takes no file refuses the group before it is logged. */
static void
refused_commit_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct el_model m, back;
	struct store_txn *t;
	char path[128], cmd[600], file[512];
	uint64_t journal;
	unsigned loaded;

	load_examples(&m);
	assert_int_equal(store_put(f->st, EL_KIND_SERVICE, m.svcs[0]), 0);
	journal = store_journal_bytes(f->st);
	snprintf(path, sizeof(path), "%s/endpoints", f->dir);
	snprintf(cmd, sizeof(cmd), "mv %s %s.away && touch %s", path, path, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_txn_begin(f->st, &t), 0);
	assert_int_equal(store_txn_put(t, EL_KIND_SERVICE, m.svcs[1]), 0);
	assert_int_equal(store_txn_put(t, EL_KIND_ENDPOINTS, m.eps[0]), 0);
	assert_true(store_txn_commit(t) < 0);
	assert_int_equal(store_journal_bytes(f->st), journal);
	snprintf(cmd, sizeof(cmd), "rm %s && mv %s.away %s", path, path, path);
	assert_int_equal(system(cmd), 0);
	reload(f, &back, &loaded, NULL);
	assert_int_equal(loaded, 1);
	/* the file made for the new Service went with the group */
	snprintf(file, sizeof(file), "%s/services/%s_%s.yaml", f->dir, m.svcs[1]->ns,
		 m.svcs[1]->name);
	assert_int_equal(access(file, F_OK), -1);
	el_model_free(&m);
	el_model_free(&back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc32_matches_the_standard_check_value),
	    cmocka_unit_test(crc32_equals_the_bitwise_definition_at_every_length_and_offset),
	    cmocka_unit_test_setup_teardown(open_creates_a_directory_per_kind, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_refuses_a_path_that_is_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(objects_read_back_equal, setup, teardown),
	    cmocka_unit_test_setup_teardown(allocations_are_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(allocations_edgelb_chose_are_marked_as_such, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(file_without_the_mark_loads_allocations_as_requested,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(transaction_writes_appear_only_on_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(aborted_transaction_leaves_no_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(last_operation_on_an_object_counts_in_a_transaction,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(a_put_replaces_the_previous_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_delete_removes_the_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(deleting_an_absent_object_succeeds, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncated_file_is_skipped_and_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(flipped_byte_is_skipped_and_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(file_without_footer_is_skipped_and_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(unparsable_file_is_skipped_and_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(file_holding_another_object_is_skipped, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(temp_files_are_ignored_silently, setup, teardown),
	    cmocka_unit_test_setup_teardown(files_are_loaded_in_revision_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(stored_file_is_a_manifest, setup, teardown),
	    cmocka_unit_test_setup_teardown(commit_appends_one_record_for_a_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(existing_file_is_rewritten_in_place, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		files_hold_their_objects_through_creations_and_updates_in_turn, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_commit_leaves_no_empty_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(new_object_file_is_empty_until_the_commit_finishes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_file_is_removed_without_a_report, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(checkpoint_leaves_the_files_alone_holding_the_state,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(acknowledged_changes_survive_a_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(journal_version_wins_over_a_torn_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(journal_removal_wins_over_a_file_left_behind, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(record_cut_short_is_dropped_at_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(damaged_record_between_good_ones_is_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(refused_commit_changes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
