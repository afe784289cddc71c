/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the manifest parser (manifest_load_buf) on arbitrary bytes,
 * then, for what it accepts, the JSON the API would answer and the
 * snapshot compiler. Promises checked (manifest.h, model.h):
 * - all or nothing: a refused input leaves the model exactly as it was
 *   (one object stored beforehand, compared as JSON, and the revision);
 * - what is accepted serialises to JSON that the parser accepts again and
 *   that serialises to the same JSON (what GET returns can be PUT back);
 * - the accepted model compiles, or is refused with a negative errno and a
 *   message (never a crash), and the snapshot frees cleanly.
 * A broken promise is reported with abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/model_json.h"

static const char fuzz_manifest_base[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: base, namespace: default}\n"
    "spec: {type: NodePort, ports: [{port: 80, targetPort: 8080}]}\n";

static struct el_config fuzz_manifest_cfg;

static void
fuzz_manifest_require(int cond, const char *what, const char *detail)
{
	if (!cond) {
		fprintf(stderr, "fuzz_manifest: broken promise: %s\n%s\n", what,
			detail ? detail : "");
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct el_config *c = &fuzz_manifest_cfg;

	(void)argc;
	(void)argv;
	config_defaults(c);
	c->maglev_table_size = 251; /* the smallest allowed: keeps each run fast */
	el_ip_parse("198.18.0.100", &c->pools[0].first);
	el_ip_parse("198.18.0.103", &c->pools[0].last);
	c->n_pools = 1;
	c->n_ifaces = 1;
	snprintf(c->ifaces[0].name, sizeof(c->ifaces[0].name), "ext");
	el_cidr_parse("198.18.0.1/24", &c->ifaces[0].addrs[0]);
	c->ifaces[0].n_addrs = 1;
	return 0;
}

/* Every object of @p m as JSON, concatenated (one line each). */
static char *
fuzz_manifest_dump(const struct el_model *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fuzz_manifest_require(f != NULL, "open_memstream", NULL);
	for (int k = 0; k < EL_KIND_COUNT; k++) {
		char *list = model_json_list(m, (enum el_kind)k, NULL);

		fuzz_manifest_require(list != NULL, "model_json_list", NULL);
		fprintf(f, "%s\n", list);
		free(list);
	}
	fclose(f);
	return out;
}

/* Serialise one object, load the JSON into an empty model, serialise it
 * again: the two JSON texts must be equal (resourceVersion, which counts
 * changes of a model, carried over). */
static void
fuzz_manifest_round_trip(enum el_kind k, const void *obj)
{
	struct el_model again;
	char err[512], *json = model_json_object(k, obj), *json2 = NULL;
	int rc;

	fuzz_manifest_require(json != NULL, "model_json_object", NULL);
	el_model_init(&again);
	rc = manifest_load_buf(&again, json, strlen(json), "round trip", err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n%s\n", json, err);
		fuzz_manifest_require(0, "the JSON of an accepted object is accepted again", NULL);
	}
	switch (k) {
	case EL_KIND_SERVICE:
		fuzz_manifest_require(again.n_svcs == 1, "one Service comes back", json);
		again.svcs[0]->rev = ((const struct el_service *)obj)->rev;
		json2 = model_json_object(k, again.svcs[0]);
		break;
	case EL_KIND_ENDPOINTS:
		fuzz_manifest_require(again.n_eps == 1, "one Endpoints comes back", json);
		again.eps[0]->rev = ((const struct el_endpoints *)obj)->rev;
		json2 = model_json_object(k, again.eps[0]);
		break;
	default:
		fuzz_manifest_require(again.n_slices == 1, "one EndpointSlice comes back", json);
		again.slices[0]->rev = ((const struct el_slice *)obj)->rev;
		json2 = model_json_object(k, again.slices[0]);
		break;
	}
	if (json2 == NULL || strcmp(json, json2) != 0) {
		fprintf(stderr, "first:  %s\nsecond: %s\n", json, json2 ? json2 : "(null)");
		fuzz_manifest_require(0, "JSON -> parse -> JSON is the identity", NULL);
	}
	free(json);
	free(json2);
	el_model_free(&again);
}

static void
fuzz_manifest_compile(const struct el_model *m)
{
	struct compile_state *cs = compile_state_new(&fuzz_manifest_cfg);
	struct el_snapshot *snap = NULL;
	char err[512] = "";
	int rc;

	fuzz_manifest_require(cs != NULL, "compile_state_new", NULL);
	rc = compile_snapshot(cs, m, &snap, err, sizeof(err));
	if (rc == 0) {
		fuzz_manifest_require(snap != NULL, "a successful compile gives a snapshot", NULL);
		compile_snapshot_free(cs, snap);
	} else {
		fuzz_manifest_require(rc < 0 && err[0] != '\0',
				      "a refused compile is a negative errno with a message", err);
	}
	compile_state_free(cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct el_model m;
	char err[512], *before, *after;
	uint64_t rev;
	int rc;

	el_model_init(&m);
	rc = manifest_load_buf(&m, fuzz_manifest_base, strlen(fuzz_manifest_base), "base", err,
			       sizeof(err));
	fuzz_manifest_require(rc == 0, "the base object loads", err);
	before = fuzz_manifest_dump(&m);
	rev = m.rev;

	memset(err, 'x', sizeof(err));
	rc = manifest_load_buf(&m, (const char *)data, size, "fuzz", err, sizeof(err));
	if (rc != 0) {
		fuzz_manifest_require(memchr(err, '\0', sizeof(err)) != NULL, "err is terminated",
				      NULL);
		fuzz_manifest_require(rc == -EINVAL || rc == -ENOMEM, "refusal is -EINVAL/-ENOMEM",
				      err);
		fuzz_manifest_require(err[0] != '\0', "a refusal says why", NULL);
		after = fuzz_manifest_dump(&m);
		fuzz_manifest_require(strcmp(before, after) == 0 && m.rev == rev,
				      "a refused input leaves the model as it was", err);
		free(after);
	} else {
		for (unsigned i = 0; i < m.n_svcs; i++)
			fuzz_manifest_round_trip(EL_KIND_SERVICE, m.svcs[i]);
		for (unsigned i = 0; i < m.n_eps; i++)
			fuzz_manifest_round_trip(EL_KIND_ENDPOINTS, m.eps[i]);
		for (unsigned i = 0; i < m.n_slices; i++)
			fuzz_manifest_round_trip(EL_KIND_SLICE, m.slices[i]);
		fuzz_manifest_compile(&m);
	}
	free(before);
	el_model_free(&m);
	return 0;
}
