/* Shared helpers of the libFuzzer harnesses (tests/fuzz/fuzz_*.c): every
 * harness reads its input the way the tool does, from a file, so each gets
 * a private scratch folder in /dev/shm (tmpfs: no disk wear at ~10^5 files
 * a minute), removed at exit. Built either with clang -fsanitize=fuzzer or,
 * for the regression replay, with replay.c's main. */
#ifndef GF_FUZZ_H
#define GF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fz_root[64];

static inline void fz_cleanup(void)
{
	char cmd[96];
	if (!fz_root[0]) return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_root);
	if (system(cmd)) fz_root[0] = 0;
}

/* The scratch folder, made on first use. */
static inline const char *fz_dir(void)
{
	if (!fz_root[0]) {
		snprintf(fz_root, sizeof fz_root, "/dev/shm/gf-fuzz-XXXXXX");
		if (!mkdtemp(fz_root)) {
			perror("gf-fuzz: mkdtemp");
			abort();
		}
		atexit(fz_cleanup);
	}
	return fz_root;
}

/* A broken promise: says which, with the message at hand, and aborts (the
 * fuzzer then saves the input). */
#define FZ_REQUIRE(cond, msg) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "gf-fuzz: %s:%d: %s does not hold; message: [%s]\n", __FILE__, __LINE__, #cond, msg); \
			abort(); \
		} \
	} while (0)

/* An error message as the tool prints it: one line that starts with what it
 * names (a path, usually). */
static inline int fz_one_line_naming(const char *err, const char *name)
{
	return !strncmp(err, name, strlen(name)) && !strchr(err, '\n');
}

/* Path of NAME in the scratch folder, into buf. */
static inline const char *fz_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fz_dir(), name);
	return buf;
}

/* Writes n bytes to NAME in the scratch folder; returns its path in buf. */
static inline const char *fz_write(const char *name, const void *data, size_t n, char *buf, size_t len)
{
	FILE *fp = fopen(fz_path(name, buf, len), "wb");
	if (!fp || (n && fwrite(data, 1, n, fp) != n) || fclose(fp)) {
		perror("gf-fuzz: writing the input");
		abort();
	}
	return buf;
}

/* The whole file at src (relative to the source root, where make and the
 * replay run), malloc'd; its size in *n. */
static inline char *fz_read(const char *src, size_t *n)
{
	FILE *fp = fopen(src, "rb");
	if (!fp) {
		fprintf(stderr, "gf-fuzz: %s: run from the source root\n", src);
		abort();
	}
	char *data = NULL;
	size_t cap = 0, got;
	*n = 0;
	do {
		if (*n == cap && !(data = realloc(data, cap = cap ? 2 * cap : 65536))) abort();
		got = fread(data + *n, 1, cap - *n, fp);
		*n += got;
	} while (got);
	fclose(fp);
	return data;
}

/* Copies the file at src (as fz_read) into the scratch folder as NAME. */
static inline const char *fz_copy(const char *src, const char *name, char *buf, size_t len)
{
	size_t n;
	char *data = fz_read(src, &n);
	fz_write(name, data, n, buf, len);
	free(data);
	return buf;
}

#endif
