/* Class taxa in model metadata (src/taxa) and Kraken 2's formats
 * (src/kraken): the stored line format round-trips, lineages come from a
 * taxonomy, old models have no taxa, and the report and per-record lines are
 * exactly Kraken 2's. */
#include "tests/testutil.h"

#include "genomics/labels.h"
#include "src/kraken.h"
#include "src/taxa.h"

static gf_tax_t *test_taxonomy(void)
{
	char dir[512], err[512];
	snprintf(dir, sizeof dir, "%s/tests/data/taxonomy", tu_srcdir());
	gf_tax_t *t = gf_tax_load(dir, err, sizeof err);
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

/* The text fn writes to a memory stream (static buffer). */
static char *memtext(FILE *fp, char **buf)
{
	fclose(fp);
	return *buf;
}

START_TEST(taxa_round_trip_through_metadata_with_lineage)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(gf_labels_add_file(lab, "ecoli:562=a.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "other=b.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "Vibrio:662:genus=c.fa", err, sizeof err), 0);
	rf_ckpt_meta_t meta;
	rf_ckpt_meta_init(&meta);
	gf_tax_t *tax = test_taxonomy();
	ck_assert_int_eq(gf_taxa_store(&meta, lab, tax, err, sizeof err), 0);
	const char *v = rf_ckpt_meta_get(&meta, GF_TAXA_META);
	ck_assert_ptr_nonnull(v);
	/* classes in sorted order: Vibrio, ecoli, other */
	ck_assert_str_eq(v, "662\tgenus\t1\tno rank\troot\t131567\tno rank\tcellular organisms\t2\tsuperkingdom\tBacteria\t"
	                    "1224\tphylum\tPseudomonadota\t1236\tclass\tGammaproteobacteria\t135623\torder\tVibrionales\t"
	                    "641\tfamily\tVibrionaceae\t662\tgenus\tVibrio\n"
	                    "562\tspecies\t1\tno rank\troot\t131567\tno rank\tcellular organisms\t2\tsuperkingdom\tBacteria\t"
	                    "1224\tphylum\tPseudomonadota\t1236\tclass\tGammaproteobacteria\t91347\torder\tEnterobacterales\t"
	                    "543\tfamily\tEnterobacteriaceae\t561\tgenus\tEscherichia\t562\tspecies\tEscherichia coli\n");
	gf_taxa_t t;
	char *names[] = { "Vibrio", "ecoli", "other" };
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 3, names, NULL, err, sizeof err), 0);
	ck_assert(t.any);
	ck_assert_uint_eq(t.c[0].taxid, 662);
	ck_assert_str_eq(t.c[0].rank, "genus");
	ck_assert_int_eq(t.c[1].n_lineage, 9);
	ck_assert_str_eq(t.c[1].lineage[8].name, "Escherichia coli");
	ck_assert_uint_eq(t.c[2].taxid, 0);
	ck_assert_uint_eq(gf_taxa_id(&t, 2), GF_TAXA_PLACEHOLDER + 2);
	gf_taxa_free(&t);
	gf_tax_free(tax);
	rf_ckpt_meta_free(&meta);
	gf_labels_free(lab);
}
END_TEST

START_TEST(models_without_taxa_load_with_none)
{
	char err[512];
	rf_ckpt_meta_t meta;
	rf_ckpt_meta_init(&meta);
	gf_taxa_t t;
	char *names[] = { "a", "b" };
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 2, names, NULL, err, sizeof err), 0);
	ck_assert(!t.any);
	ck_assert_uint_eq(t.c[0].taxid, 0);
	ck_assert_str_eq(t.c[1].rank, "");
	gf_taxa_free(&t);
	/* a class line count that does not match is refused */
	ck_assert_int_eq(rf_ckpt_meta_set(&meta, GF_TAXA_META, "562\tspecies", err, sizeof err), 0);
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 2, names, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "has 1 lines for 2 classes"), "%s", err);
	ck_assert_int_eq(rf_ckpt_meta_set(&meta, GF_TAXA_META, "x\tspecies\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 2, names, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "class 0: expects TAXID<TAB>RANK"), "%s", err);
	rf_ckpt_meta_free(&meta);
}
END_TEST

START_TEST(report_without_lineage_puts_classes_under_the_root)
{
	char err[512], *buf = NULL;
	size_t len = 0;
	rf_ckpt_meta_t meta;
	rf_ckpt_meta_init(&meta);
	ck_assert_int_eq(rf_ckpt_meta_set(&meta, GF_TAXA_META, "\n562\t\n10710\tspecies", err, sizeof err), 0);
	gf_taxa_t t;
	char *names[] = { "nothing", "E.coli", "lambda" };
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 3, names, NULL, err, sizeof err), 0);
	/* ties in clade count go by taxid; a class with no record is left out */
	uint64_t count[4] = { 0, 3, 3, 2 };
	FILE *fp = open_memstream(&buf, &len);
	ck_assert_int_eq(gf_kraken_report(fp, &t, names, count, err, sizeof err), 0);
	ck_assert_str_eq(memtext(fp, &buf), " 25.00\t2\t2\tU\t0\tunclassified\n"
	                                    " 75.00\t6\t0\tR\t1\troot\n"
	                                    " 37.50\t3\t3\tS\t562\t  E.coli\n"
	                                    " 37.50\t3\t3\tS\t10710\t  lambda\n");
	free(buf);
	/* nothing unclassified: no U row; a placeholder taxid for the class without one */
	uint64_t count2[4] = { 1, 0, 0, 0 };
	fp = open_memstream(&buf, &len);
	ck_assert_int_eq(gf_kraken_report(fp, &t, names, count2, err, sizeof err), 0);
	ck_assert_str_eq(memtext(fp, &buf), "100.00\t1\t0\tR\t1\troot\n100.00\t1\t1\tS\t2000000000\t  nothing\n");
	free(buf);
	gf_taxa_free(&t);
	rf_ckpt_meta_free(&meta);
}
END_TEST

START_TEST(report_with_lineages_shares_ancestors_and_numbers_unranked_levels)
{
	char err[512], *buf = NULL;
	size_t len = 0;
	rf_ckpt_meta_t meta;
	rf_ckpt_meta_init(&meta);
	ck_assert_int_eq(rf_ckpt_meta_set(&meta, GF_TAXA_META, "83333\tstrain\n666\tspecies", err, sizeof err), 0);
	gf_tax_t *tax = test_taxonomy();
	gf_taxa_t t;
	char *names[] = { "K12", "cholera" };
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 2, names, tax, err, sizeof err), 0);
	uint64_t count[3] = { 1, 3, 0 };
	FILE *fp = open_memstream(&buf, &len);
	ck_assert_int_eq(gf_kraken_report(fp, &t, names, count, err, sizeof err), 0);
	ck_assert_str_eq(memtext(fp, &buf), "100.00\t4\t0\tR\t1\troot\n"
	                                    "100.00\t4\t0\tR1\t131567\t  cellular organisms\n"
	                                    "100.00\t4\t0\tD\t2\t    Bacteria\n"
	                                    "100.00\t4\t0\tP\t1224\t      Pseudomonadota\n"
	                                    "100.00\t4\t0\tC\t1236\t        Gammaproteobacteria\n"
	                                    " 75.00\t3\t0\tO\t135623\t          Vibrionales\n"
	                                    " 75.00\t3\t0\tF\t641\t            Vibrionaceae\n"
	                                    " 75.00\t3\t0\tG\t662\t              Vibrio\n"
	                                    " 75.00\t3\t3\tS\t666\t                Vibrio cholerae\n"
	                                    " 25.00\t1\t0\tO\t91347\t          Enterobacterales\n"
	                                    " 25.00\t1\t0\tF\t543\t            Enterobacteriaceae\n"
	                                    " 25.00\t1\t0\tG\t561\t              Escherichia\n"
	                                    " 25.00\t1\t0\tS\t562\t                Escherichia coli\n"
	                                    " 25.00\t1\t1\tS1\t83333\t                  Escherichia coli K-12\n");
	free(buf);
	/* a model taxid the taxonomy lacks */
	ck_assert_int_eq(rf_ckpt_meta_set(&meta, GF_TAXA_META, "4242\tspecies\n666\tspecies", err, sizeof err), 0);
	gf_taxa_free(&t);
	ck_assert_int_eq(gf_taxa_load(&t, &meta, 2, names, tax, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "class 'K12': taxid 4242 is not in the --taxonomy"), "%s", err);
	gf_tax_free(tax);
	rf_ckpt_meta_free(&meta);
}
END_TEST

START_TEST(per_record_lines_merge_runs_and_split_mates)
{
	char *buf = NULL;
	size_t len = 0;
	const uint32_t tx[5] = { 562, 562, 0, 562, 10710 };
	const size_t km[5] = { 10, 20, 3, 4, 5 };
	FILE *fp = open_memstream(&buf, &len);
	gf_kraken_line(fp, "r1", 562, "150", tx, km, 5, (size_t)-1);
	gf_kraken_line(fp, "p1", 562, "150|120", tx, km, 5, 2);
	gf_kraken_line(fp, "p2", 0, "2|150", tx, km, 2, 0);
	gf_kraken_line(fp, "p3", 0, "150|2", tx, km, 2, 2);
	gf_kraken_line(fp, "tiny", 0, "2", tx, km, 0, (size_t)-1);
	ck_assert_str_eq(memtext(fp, &buf), "C\tr1\t562\t150\t562:30 0:3 562:4 10710:5\n"
	                                    "C\tp1\t562\t150|120\t562:30 |:| 0:3 562:4 10710:5\n"
	                                    "U\tp2\t0\t2|150\t|:| 562:30\n"
	                                    "U\tp3\t0\t150|2\t562:30 |:|\n"
	                                    "U\ttiny\t0\t2\t\n");
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kraken");
	TCase *tc = tcase_create("kraken");
	tcase_add_test(tc, taxa_round_trip_through_metadata_with_lineage);
	tcase_add_test(tc, models_without_taxa_load_with_none);
	tcase_add_test(tc, report_without_lineage_puts_classes_under_the_root);
	tcase_add_test(tc, report_with_lineages_shares_ancestors_and_numbers_unranked_levels);
	tcase_add_test(tc, per_record_lines_merge_runs_and_split_mates);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
