/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Corpus replay for compilers without libFuzzer (gcc): the same harness
 * sources are linked with this main(), which feeds every file named on the
 * command line (directories: every regular file in them, in name order) to
 * LLVMFuzzerTestOneInput() once. Under -fsanitize=address,undefined this
 * turns the seed corpus and every saved crash into regression tests of the
 * ordinary build.
 *
 * A harness reports a wrong result by abort(); a crash ends the run, and the
 * name of the input being replayed is on stderr just before it.
 * Last line of output: "N passed, 0 failed" (N inputs replayed).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
replay_file(const char *path, unsigned *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	do {
		if (len + 4096 > cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
	/* an exact-size copy, so ASan sees reads past the input */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	++*n;
	return 0;
}

static int
replay_entry_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_path(const char *path, unsigned *n)
{
	struct dirent **ents;
	struct stat st;
	int k, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, n);
	k = scandir(path, &ents, NULL, replay_entry_cmp);
	if (k < 0)
		return -errno;
	for (int i = 0; i < k; i++) {
		char sub[4096];

		if (ents[i]->d_name[0] != '.' &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name) < (int)sizeof(sub) &&
		    stat(sub, &st) == 0 && S_ISREG(st.st_mode) && rc == 0)
			rc = replay_file(sub, n);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned n = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && rc == 0; i++)
		rc = replay_path(argv[i], &n);
	if (rc != 0) {
		printf("%u passed, 1 failed\n", n);
		return 1;
	}
	printf("%u passed, 0 failed\n", n);
	return 0;
}
