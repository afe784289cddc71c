/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the appliance config parser (config_load_buf) on arbitrary
 * bytes. Besides memory errors (ASan) and undefined behaviour (UBSan) it
 * checks what config.h promises about every outcome:
 * - a refusal returns a negative errno, says why in err, and leaves the
 *   defaults (nothing to free);
 * - an acceptance respects every hard cap of config.h and the ranges the
 *   reference config documents (nodePort range ordered, timeouts at least
 *   1 s, addresses and counts within their arrays).
 * A broken promise is reported with abort(), which libFuzzer saves as a
 * crash input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/config.h"

static void
fuzz_config_require(int cond, const char *what, const char *err)
{
	if (!cond) {
		fprintf(stderr, "fuzz_config: broken promise: %s (err \"%s\")\n", what, err);
		abort();
	}
}

static void
fuzz_config_check_accepted(const struct el_config *c, const char *err)
{
	fuzz_config_require(err[0] == '\0', "success leaves err empty", err);
	fuzz_config_require(c->n_eal <= EL_CFG_MAX_EAL, "n_eal within its cap", err);
	for (unsigned i = 0; i < c->n_eal; i++)
		fuzz_config_require(c->eal[i] != NULL, "every EAL argument is a string", err);
	fuzz_config_require(c->n_workers <= EL_CFG_MAX_WORKERS, "n_workers within its cap", err);
	fuzz_config_require(c->n_ifaces <= EL_CFG_MAX_IFACES, "n_ifaces within its cap", err);
	for (unsigned i = 0; i < c->n_ifaces; i++) {
		const struct el_cfg_iface *f = &c->ifaces[i];

		fuzz_config_require(f->name[0] != '\0' && f->device[0] != '\0',
				    "every interface has a name and a device", err);
		fuzz_config_require(f->n_addrs <= EL_CFG_MAX_ADDRS &&
					f->n_routes <= EL_CFG_MAX_ROUTES &&
					f->n_neighbors <= EL_CFG_MAX_NEIGHBORS,
				    "interface lists within their caps", err);
		for (unsigned j = 0; j < i; j++)
			fuzz_config_require(strcmp(c->ifaces[j].name, f->name) != 0,
					    "interface names are unique", err);
	}
	fuzz_config_require(c->n_snat <= EL_CFG_MAX_SNAT && c->n_pools <= EL_CFG_MAX_POOLS &&
				c->n_manifests <= EL_CFG_MAX_MANIFESTS,
			    "snat, pools and manifests within their caps", err);
	for (unsigned i = 0; i < c->n_manifests; i++)
		fuzz_config_require(c->manifests[i] != NULL, "every manifest is a string", err);
	fuzz_config_require(c->nodeport_min >= 1 && c->nodeport_min <= c->nodeport_max,
			    "1 <= nodeport_min <= nodeport_max", err);
	for (unsigned s = 0; s < EL_CT_NSTATES; s++)
		fuzz_config_require(c->ct_timeouts[s] >= 1, "every timeout is at least 1 s", err);
	fuzz_config_require(c->ct_max_flows >= 1024, "max_flows at least 1024", err);
	fuzz_config_require(memchr(c->api_listen, '\0', sizeof(c->api_listen)) != NULL &&
				memchr(c->api_token_file, '\0', sizeof(c->api_token_file)) !=
				    NULL &&
				memchr(c->state_dir, '\0', sizeof(c->state_dir)) != NULL,
			    "strings are terminated", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct el_config cfg;
	char err[512];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = config_load_buf((const char *)data, size, "fuzz.yaml", &cfg, err, sizeof(err));
	fuzz_config_require(memchr(err, '\0', sizeof(err)) != NULL, "err is terminated", "");
	if (rc == 0) {
		fuzz_config_check_accepted(&cfg, err);
		config_free(&cfg);
		config_free(&cfg); /* documented as safe twice */
	} else {
		fuzz_config_require(rc < 0, "a refusal is a negative errno", err);
		fuzz_config_require(err[0] != '\0', "a refusal says why", err);
		fuzz_config_require(cfg.n_eal == 0 && cfg.n_manifests == 0,
				    "a refusal leaves nothing to free", err);
		config_free(&cfg);
	}
	return 0;
}
