/* Taxonomy: NCBI nodes.dmp/names.dmp as Kraken 2 databases carry them
 * (tests/data/taxonomy), lineages, Kraken rank letters, and the one-line
 * errors naming the file and line. */
#include "tests/testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "genomics/taxonomy.h"

static gf_tax_t *load_test_taxonomy(void)
{
	char dir[512], err[512];
	snprintf(dir, sizeof dir, "%s/tests/data/taxonomy", tu_srcdir());
	gf_tax_t *t = gf_tax_load(dir, err, sizeof err);
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

START_TEST(lineage_runs_from_the_root_to_the_taxon)
{
	gf_tax_t *t = load_test_taxonomy();
	uint32_t path[64];
	const uint32_t want[] = { 1, 131567, 2, 1224, 1236, 91347, 543, 561, 562, 83333 };
	int n = gf_tax_lineage(t, 83333, path, 64);
	ck_assert_int_eq(n, 10);
	for (int i = 0; i < n; i++) ck_assert_uint_eq(path[i], want[i]);
	ck_assert_int_eq(gf_tax_lineage(t, 1, path, 64), 1);
	ck_assert_int_eq(gf_tax_lineage(t, 83333, path, 5), -1);
	ck_assert_int_eq(gf_tax_lineage(t, 4242, path, 64), -1);
	ck_assert_uint_eq(gf_tax_count(t), 33);
	gf_tax_free(t);
}
END_TEST

START_TEST(names_are_the_scientific_ones_and_ranks_as_written)
{
	gf_tax_t *t = load_test_taxonomy();
	ck_assert_str_eq(gf_tax_name(t, 562), "Escherichia coli");
	ck_assert_str_eq(gf_tax_name(t, 10710), "Escherichia phage lambda");
	ck_assert_str_eq(gf_tax_name(t, 1), "root");
	ck_assert_str_eq(gf_tax_rank(t, 83333), "strain");
	ck_assert_str_eq(gf_tax_rank(t, 2), "superkingdom");
	ck_assert_uint_eq(gf_tax_parent(t, 1), 1);
	ck_assert_uint_eq(gf_tax_parent(t, 1280), 1279);
	ck_assert(gf_tax_has(t, 2731341));
	ck_assert(!gf_tax_has(t, 3));
	gf_tax_free(t);
}
END_TEST

START_TEST(kraken_rank_letters)
{
	ck_assert_int_eq(gf_tax_rank_letter("superkingdom"), 'D');
	ck_assert_int_eq(gf_tax_rank_letter("domain"), 'D');
	ck_assert_int_eq(gf_tax_rank_letter("species"), 'S');
	ck_assert_int_eq(gf_tax_rank_letter("genus"), 'G');
	ck_assert_int_eq(gf_tax_rank_letter("G"), 'G');
	ck_assert_int_eq(gf_tax_rank_letter("no rank"), 0);
	ck_assert_int_eq(gf_tax_rank_letter("strain"), 0);
	ck_assert_int_eq(gf_tax_rank_letter("realm"), 0);
	ck_assert_int_eq(gf_tax_rank_letter("R"), 0);
}
END_TEST

START_TEST(taxids_are_whole_positive_numbers)
{
	uint32_t id = 0;
	ck_assert_int_eq(gf_tax_parse_id("562", &id), 0);
	ck_assert_uint_eq(id, 562);
	ck_assert_int_eq(gf_tax_parse_id("4294967294", &id), 0);
	ck_assert_int_eq(gf_tax_parse_id("4294967295", &id), -1);
	ck_assert_int_eq(gf_tax_parse_id("0", &id), -1);
	ck_assert_int_eq(gf_tax_parse_id("-5", &id), -1);
	ck_assert_int_eq(gf_tax_parse_id("56x", &id), -1);
	ck_assert_int_eq(gf_tax_parse_id(" 56", &id), -1);
	ck_assert_int_eq(gf_tax_parse_id("", &id), -1);
}
END_TEST

/* Loads a taxonomy made of the given nodes.dmp and names.dmp texts; the
 * message in err when it is refused. */
static int load_texts(const char *nodes, const char *names, char *err, size_t errlen)
{
	char dir[64], path[128];
	tu_scratch_make(dir, "tax");
	const char *text[2] = { nodes, names }, *base[2] = { "nodes.dmp", "names.dmp" };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, base[i]);
		FILE *fp = fopen(path, "w");
		ck_assert_ptr_nonnull(fp);
		fputs(text[i], fp);
		fclose(fp);
	}
	gf_tax_t *t = gf_tax_load(dir, err, errlen);
	int ok = t != NULL;
	gf_tax_free(t);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, base[i]);
		unlink(path);
	}
	rmdir(dir);
	return ok ? 0 : -1;
}

#define NODE(id, parent, rank) id "\t|\t" parent "\t|\t" rank "\t|\t\t|\n"
#define NAME(id, name) id "\t|\t" name "\t|\t\t|\tscientific name\t|\n"

START_TEST(bad_taxonomies_are_refused_with_file_and_line)
{
	char err[512];
	const char *names = NAME("1", "root") NAME("2", "Bacteria");
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("2", "1", "superkingdom"), names, err, sizeof err), 0);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("2", "7", "superkingdom"), names, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "nodes.dmp: taxid 2 has parent 7, which is not in the file"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") "x\t|\t1\t|\tgenus\t|\n", names, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "nodes.dmp:2: tax_id 'x'"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "2", "no rank") NODE("2", "1", "superkingdom"), names, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "nodes.dmp: no root"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("2", "2", "superkingdom"), names, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "two roots"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("2", "3", "x") NODE("3", "2", "x"),
	                            NAME("1", "root") NAME("2", "two") NAME("3", "three"), err, sizeof err), -1);
	ck_assert_msg(strstr(err, "does not reach the root"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("2", "1", "superkingdom"), NAME("1", "root"), err,
	                            sizeof err), -1);
	ck_assert_msg(strstr(err, "names.dmp: taxid 2 has no scientific name"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank"), NAME("1", "root") NAME("5", "five"), err, sizeof err), -1);
	ck_assert_msg(strstr(err, "names.dmp:2: taxid 5 is not in nodes.dmp"), "%s", err);
	ck_assert_int_eq(load_texts(NODE("1", "1", "no rank") NODE("1", "1", "no rank"), names, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "taxid 1 is listed twice"), "%s", err);
	gf_tax_t *t = gf_tax_load("/nonexistent-gf-taxonomy", err, sizeof err);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, "/nonexistent-gf-taxonomy/nodes.dmp: cannot open"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("taxonomy");
	TCase *tc = tcase_create("taxonomy");
	tcase_add_test(tc, lineage_runs_from_the_root_to_the_taxon);
	tcase_add_test(tc, names_are_the_scientific_ones_and_ranks_as_written);
	tcase_add_test(tc, kraken_rank_letters);
	tcase_add_test(tc, taxids_are_whole_positive_numbers);
	tcase_add_test(tc, bad_taxonomies_are_refused_with_file_and_line);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
