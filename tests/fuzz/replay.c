/* main for a harness built without libFuzzer (the regression replay in
 * `make check`): runs LLVMFuzzerTestOneInput once on each file named. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		fprintf(stderr, "== %s\n", argv[i]);
		FILE *fp = fopen(argv[i], "rb");
		if (!fp) {
			perror(argv[i]);
			return 2;
		}
		fseek(fp, 0, SEEK_END);
		long n = ftell(fp);
		rewind(fp);
		uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
		if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 2;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		free(buf);
	}
	return 0;
}
