/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The durable store: every object the API accepted, one file per object
 * under the config's state_dir, behind a write-ahead journal, so a restart
 * (or a crash) serves what was acknowledged.
 *
 * Layout: STATE_DIR/services/NS_NAME.yaml, STATE_DIR/endpoints/NS_NAME.yaml,
 * STATE_DIR/endpointslices/NS_NAME.yaml (a namespace never holds '_', so the
 * name is unambiguous), and STATE_DIR/journal. Each object file is the
 * object's JSON (model_json_object(), allocations included), for a Service
 * with allocations edgelb chose a comment line naming them (indices into
 * spec.ports; the flags node_port_auto and lb_ingress_auto of model.h):
 *
 *     # edgelb-auto node-ports=0,2 lb-ingress=1
 *
 * and last one YAML comment line, the footer:
 *
 *     # edgelb-store v1 rev=REV length=BYTES crc32=HEX
 *
 * JSON with a comment line is YAML, so the files can be given back to
 * manifest_load_path() (or edgelbctl apply) as they are. length and crc32
 * (CRC-32/ISO-HDLC) cover everything before the footer; rev is the model
 * revision of the object, which orders the objects at load (an older
 * service keeps an explicit nodePort both claim).
 *
 * Durability: a commit (one object, or a group of them) appends one record
 * to the journal, holding the new file text of every object it writes and
 * the name of every object it removes, and makes it durable with one
 * fdatasync before it returns; then it brings the object files up to date
 * without syncing them (a file that exists is rewritten in place; a new
 * object's file is created empty before the record is written, and
 * written after). A crash may leave a file older than the journal, torn
 * or empty; loading takes each object's latest version from the journal
 * over its file, and rewrites the file. An empty file the journal does not
 * hold is a creation the crash cut short: removed without a report. A
 * checkpoint
 * (syncfs of the file system, then an empty journal) runs when the journal
 * passes STORE_CHECKPOINT_BYTES and at store_close(). The journal is
 * records of a header line
 *
 *     # edgelb-journal v1 seq=SEQ entries=N length=BYTES crc32=HEX
 *
 * and N entries ("put RESOURCE NS NAME LENGTH" and the text, or "delete
 * RESOURCE NS NAME"); a record cut short by a crash was never
 * acknowledged and is dropped at open.
 *
 * Damage: an object file that fails its footer check or does not parse
 * (disk damage, an edit by hand) and that the journal does not hold is
 * reported by name through the log function and skipped; so is a damaged
 * journal record with intact records after it.
 *
 * Plain C, no EAL. The commit's fdatasync runs on a flush thread the
 * store starts (store_txn_commit_start() returns while it runs).
 *
 * Thread safety: a store is used by one thread (the control thread), one
 * commit at a time, and one store per directory.
 */
#ifndef EDGELB_STORE_H
#define EDGELB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "edgelb/model.h"
#include "edgelb/model_json.h"

/** Longest state_dir path accepted. */
#define STORE_PATH_MAX 1024

/** Journal size past which a commit ends with a checkpoint. */
#define STORE_CHECKPOINT_BYTES (32u << 20)

/** Receives one message per skipped file ("PATH: what is wrong"). */
typedef void (*store_log_fn)(void *ctx, const char *msg);

struct store;

/**
 * Open (and create when missing, with its three subdirectories and its
 * journal) a state directory. A journal record a crash cut short is
 * dropped (reported through the default log).
 *
 * @param dir  the directory; at most STORE_PATH_MAX - 64 characters
 * @param out  receives the store
 * @param err  receives "DIR: what failed" on failure
 * @return 0, -ENAMETOOLONG, -ENOMEM, or the errno of mkdir/open/read
 *         (-EACCES, -ENOTDIR...)
 */
int store_open(const char *dir, struct store **out, char *err, size_t errlen);

/** Checkpoint (failures are reported), stop the flush thread, close a
 *  store; NULL is a no-op. */
void store_close(struct store *st);

/**
 * Checkpoint: make every object file durable (syncfs of the file system
 * holding the state directory; files a commit could not write are first
 * rewritten from the journal), then empty the journal.
 * @return 0, or the errno of the step that failed (the journal is kept)
 */
int store_checkpoint(struct store *st);

/** Bytes of records in the journal (0 after a checkpoint). */
uint64_t store_journal_bytes(const struct store *st);

/**
 * Where skipped files are reported; the default writes
 * "edgelb: state: MSG" to stderr. @p fn NULL restores the default.
 */
void store_set_log(struct store *st, store_log_fn fn, void *ctx);

/**
 * Write one object durably (see the file comment), replacing its previous
 * version: a transaction of one object.
 *
 * @param k    kind of @p obj
 * @param obj  a struct el_service, el_endpoints or el_slice
 * @return 0, -EINVAL (a namespace or name no file can carry), -ENOMEM,
 *         -ENAMETOOLONG, or the errno of open/write/fdatasync (-ENOSPC,
 *         -EIO...): the previous version is then still in place
 */
int store_put(struct store *st, enum el_kind k, const void *obj);

/**
 * Remove an object durably: a transaction of one removal.
 * @return 0 (also when there was no object), or an errno as for store_put()
 */
int store_delete(struct store *st, enum el_kind k, const char *ns, const char *name);

/**
 * A group of writes and removals made durable together (group commit): one
 * journal record and one fdatasync, whatever the number of objects.
 *
 * store_txn_put() and store_txn_delete() of the same object replace each
 * other (the last one counts). Until the commit finishes, the objects'
 * files hold their old text (a new object's file is empty).
 */
struct store_txn;

/** @return 0, or -ENOMEM (*out is NULL then) */
int store_txn_begin(struct store *st, struct store_txn **out);
/** Prepare @p obj's text. @return 0, -EINVAL, -ENAMETOOLONG or -ENOMEM */
int store_txn_put(struct store_txn *t, enum el_kind k, const void *obj);
/** store_txn_put() with @p obj's JSON made already: @p json must be
 *  model_json_object(k, obj) (NULL: made here). */
int store_txn_put_json(struct store_txn *t, enum el_kind k, const void *obj, const char *json);
/** Mark an object for removal. @return 0, -EINVAL, -ENAMETOOLONG or -ENOMEM */
int store_txn_delete(struct store_txn *t, enum el_kind k, const char *ns, const char *name);
/**
 * Make the group durable and free @p t: store_txn_commit_start(), then
 * store_txn_commit_finish().
 * @return 0, or the errno of the step that failed: nothing changed then
 */
int store_txn_commit(struct store_txn *t);
/**
 * First half of a commit: open every object file to be written (creating
 * new ones empty; a directory that takes no file refuses the group here),
 * append the journal record, and start its fdatasync on the flush thread.
 * The caller may work meanwhile; no other store call until
 * store_txn_commit_finish().
 * @return 0; or the errno of open/write, and then nothing changed and @p t
 *         is freed
 */
int store_txn_commit_start(struct store_txn *t);
/**
 * Second half: wait for the fdatasync; durable: bring the object files up
 * to date (a failure there is reported, the journal keeps the change) and
 * checkpoint when the journal passed STORE_CHECKPOINT_BYTES. Frees @p t.
 * @return 0 (durable), or the errno of fdatasync: the record was taken
 *         back, nothing changed
 */
int store_txn_commit_finish(struct store_txn *t);
/** Drop a group that was not started: free @p t. NULL is a no-op. */
void store_txn_abort(struct store_txn *t);

/**
 * Load every stored object into @p m (which should be empty), in the order
 * of their stored revisions: an object the journal holds from its latest
 * journal entry (its file is then rewritten to match), every other one
 * from its file. Names that are not NS_NAME.yaml are ignored, empty files
 * removed; damaged files and journal records are reported and skipped.
 *
 * @param loaded   receives the number of objects loaded (may be NULL)
 * @param skipped  receives the number of damaged files and records
 *                 skipped (may be NULL)
 * @return 0, -ENOMEM, or the errno of opendir or of reading the journal
 */
int store_load(struct store *st, struct el_model *m, unsigned *loaded, unsigned *skipped);

/** The directory of a store. */
const char *store_dir(const struct store *st);

/**
 * CRC-32/ISO-HDLC (the CRC of zlib, PNG and Ethernet) of @p len bytes.
 * Exposed for tests.
 */
unsigned long store_crc32(const void *buf, size_t len);

#endif
