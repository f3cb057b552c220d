/* Fuzzes the labels TSV reader: the input is the TSV file. A file that
 * reads gets every id looked up and checked for use, as `tokenize --labels`
 * does; class ids must name classes, and messages must name the file. */
#include "tests/fuzz/fuzz.h"

#include "genomics/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256], err[1024];
	fz_write("labels.tsv", data, size, path, sizeof path);
	gf_labels_t *lab = gf_labels_new();
	if (!lab) abort();
	if (gf_labels_read_tsv(lab, path, err, sizeof err)) {
		FZ_REQUIRE(fz_one_line_naming(err, path), err);
		gf_labels_free(lab);
		return 0;
	}
	int n = gf_labels_n_classes(lab);
	FZ_REQUIRE(n >= 1, "no class");
	for (int c = 0; c < n; c++)
		FZ_REQUIRE(gf_labels_class_id(lab, gf_labels_class_name(lab, c)) == c, gf_labels_class_name(lab, c));
	/* look up the first field of every other line: half the labels stay unused */
	char *copy = strndup((const char *)data, size), *save = NULL;
	int i = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		line[strcspn(line, "\t\r")] = 0;
		int c = i % 2 ? -1 : gf_labels_lookup(lab, path, line);
		FZ_REQUIRE(c < n, line);
	}
	FZ_REQUIRE(!gf_labels_check_used(lab, err, sizeof err) || (fz_one_line_naming(err, path) && strstr(err, "matches no record")), err);
	free(copy);
	gf_labels_free(lab);
	return 0;
}
