/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The durable store: every object the API accepted, one file per object
 * under the config's state_dir, so a restart (or a crash) serves what was
 * acknowledged.
 *
 * Layout: STATE_DIR/services/NS_NAME.yaml, STATE_DIR/endpoints/NS_NAME.yaml,
 * STATE_DIR/endpointslices/NS_NAME.yaml (a namespace never holds '_', so the
 * name is unambiguous). Each file is the object's JSON (model_json_object(),
 * allocations included), for a Service with allocations edgelb chose a
 * comment line naming them (indices into spec.ports; the flags
 * node_port_auto and lb_ingress_auto of model.h):
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
 * Writes are durable before they return: write a temp file (NAME.tmp), fsync
 * it, rename it over the file, fsync the directory. rename is atomic, so a
 * crash leaves either the old or the new file plus possibly a temp file,
 * which loading ignores. A final file that fails its footer check or does
 * not parse (disk damage, an edit by hand) is reported by name through the
 * log function and skipped.
 *
 * Plain C, no EAL.
 *
 * Thread safety: a store is used by one thread (the control thread).
 */
#ifndef EDGELB_STORE_H
#define EDGELB_STORE_H

#include <stddef.h>

#include "edgelb/model.h"
#include "edgelb/model_json.h"

/** Longest state_dir path accepted. */
#define STORE_PATH_MAX 1024

/** Receives one message per skipped file ("PATH: what is wrong"). */
typedef void (*store_log_fn)(void *ctx, const char *msg);

struct store;

/**
 * Open (and create when missing, with its three subdirectories) a state
 * directory.
 *
 * @param dir  the directory; at most STORE_PATH_MAX - 64 characters
 * @param out  receives the store
 * @param err  receives "DIR: what failed" on failure
 * @return 0, -ENAMETOOLONG, -ENOMEM, or the errno of mkdir/open (-EACCES,
 *         -ENOTDIR...)
 */
int store_open(const char *dir, struct store **out, char *err, size_t errlen);

/** Close a store; NULL is a no-op. */
void store_close(struct store *st);

/**
 * Where skipped files are reported; the default writes
 * "edgelb: state: MSG" to stderr. @p fn NULL restores the default.
 */
void store_set_log(struct store *st, store_log_fn fn, void *ctx);

/**
 * Write one object durably (see the file comment), replacing its previous
 * version.
 *
 * @param k    kind of @p obj
 * @param obj  a struct el_service, el_endpoints or el_slice
 * @return 0, -ENOMEM, -ENAMETOOLONG, or the errno of open/write/fsync/rename
 *         (-ENOSPC, -EIO...): the previous version is then still in place
 */
int store_put(struct store *st, enum el_kind k, const void *obj);

/**
 * Remove an object's file durably (unlink, fsync the directory).
 * @return 0 (also when there was no file), or the errno of unlink/fsync
 */
int store_delete(struct store *st, enum el_kind k, const char *ns, const char *name);

/**
 * A group of writes and removals made durable together (group commit): each
 * object still goes through its temp file, fsync, rename, and the directory
 * fsync, but the temp files' write-back starts as they are written and the
 * fsyncs of one group share the file system's journal commits, so N objects
 * cost far less than N separate store_put() calls.
 *
 * store_txn_put() and store_txn_delete() of the same object replace each
 * other (the last one counts). Nothing is visible under the object names
 * before store_txn_commit().
 */
struct store_txn;

/** @return 0, or -ENOMEM (*out is NULL then) */
int store_txn_begin(struct store *st, struct store_txn **out);
/** Write @p obj's temp file. @return 0, -ENOMEM, or the errno of open/write */
int store_txn_put(struct store_txn *t, enum el_kind k, const void *obj);
/** Mark an object's file for removal. @return 0, -ENAMETOOLONG or -ENOMEM */
int store_txn_delete(struct store_txn *t, enum el_kind k, const char *ns, const char *name);
/**
 * Make the group durable and free @p t: fsync every temp file, rename them
 * over the objects' files, remove the files marked, fsync the directories.
 * @return 0, or the errno of the step that failed: before the first rename
 *         nothing changed; after it (a failing rename, unlink or directory
 *         fsync) some objects may be in their new state
 */
int store_txn_commit(struct store_txn *t);
/** Drop a group: remove its temp files, free @p t. NULL is a no-op. */
void store_txn_abort(struct store_txn *t);

/**
 * Load every stored object into @p m (which should be empty), in the order
 * of their stored revisions. Temp files and names that are not NS_NAME.yaml
 * are ignored; damaged files are reported and skipped.
 *
 * @param loaded   receives the number of objects loaded (may be NULL)
 * @param skipped  receives the number of damaged files skipped (may be NULL)
 * @return 0, -ENOMEM, or the errno of opendir (-EACCES...)
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
