/* Labels: TSV parsing (header, comments, '|' ids, CRLF), class ids in sorted
 * order, per-file classes, and the one-line errors naming file and line. */
#include "tests/testutil.h"

#include <unistd.h>

#include "genomics/labels.h"

/* Writes text to a fresh file under /tmp; returns its path (static buffer per slot). */
static const char *write_tmp(int slot, const char *text)
{
	static char path[4][64];
	snprintf(path[slot], sizeof path[slot], "/tmp/gf_labels_%d_%d.tsv", (int)getpid(), slot);
	FILE *fp = fopen(path[slot], "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return path[slot];
}

/* Reads text as a labels TSV: the return of gf_labels_read_tsv, err filled. */
static int read_text(gf_labels_t *lab, const char *text, char *err, size_t errlen)
{
	const char *p = write_tmp(0, text);
	int rc = gf_labels_read_tsv(lab, p, err, errlen);
	unlink(p);
	return rc;
}

START_TEST(class_ids_follow_sorted_class_names)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "a\tzebra\nb\tBee\nc\tant\nd\tzebra\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_n_classes(lab), 3);
	/* strcmp order: uppercase before lowercase */
	ck_assert_str_eq(gf_labels_class_name(lab, 0), "Bee");
	ck_assert_str_eq(gf_labels_class_name(lab, 1), "ant");
	ck_assert_str_eq(gf_labels_class_name(lab, 2), "zebra");
	ck_assert_ptr_null(gf_labels_class_name(lab, 3));
	ck_assert_int_eq(gf_labels_lookup(lab, "x.fa", "a"), 2);
	ck_assert_int_eq(gf_labels_lookup(lab, "x.fa", "b"), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "x.fa", "c"), 1);
	ck_assert_int_eq(gf_labels_lookup(lab, "x.fa", "nope"), -1);
	ck_assert_int_eq(gf_labels_class_id(lab, "ant"), 1);
	ck_assert_int_eq(gf_labels_class_id(lab, "cat"), -1);
	gf_labels_free(lab);
}
END_TEST

START_TEST(header_comments_pipes_extra_columns_and_crlf_are_handled)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "# made by hand\r\nrecord_id\tLabel\r\n\r\ngi|386593590|ref|NC_017625.1|\tecoli\tignored\r\n"
	                                "#r2\tnot\nr2\tlambda\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_n_classes(lab), 2);
	ck_assert_int_eq(gf_labels_lookup(lab, "-", "gi|386593590|ref|NC_017625.1|"), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "-", "r2"), 1);
	ck_assert_int_eq(gf_labels_lookup(lab, "-", "record_id"), -1);
	ck_assert_int_eq(gf_labels_lookup(lab, "-", "#r2"), -1);
	gf_labels_free(lab);
}
END_TEST

START_TEST(a_first_line_with_data_names_is_not_a_header)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "seq1\tclass\nseq2\tother\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "-", "seq1"), 0);
	ck_assert_int_eq(gf_labels_n_classes(lab), 2);
	gf_labels_free(lab);
}
END_TEST

static void assert_read_error(const char *text, const char *want_after_path)
{
	char err[512], want[640];
	gf_labels_t *lab = gf_labels_new();
	const char *p = write_tmp(1, text);
	ck_assert_int_eq(gf_labels_read_tsv(lab, p, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s%s", p, want_after_path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(strchr(err, '\n'));
	unlink(p);
	gf_labels_free(lab);
}

START_TEST(errors_name_file_and_line)
{
	assert_read_error("a\tx\n#\nb\ty\na\tz\n", ":4: duplicate id 'a' (first at line 1)");
	assert_read_error("id\tclass\na\tx\nb\n", ":3: no class column (expected record_id<TAB>class)");
	assert_read_error("a\tx\nb\t\n", ":2: no class column (expected record_id<TAB>class)");
	assert_read_error("\tx\n", ":1: empty record id");
	assert_read_error("", ": no labels (empty file)");
	assert_read_error("# only comments\n\nid\tclass\n", ": no labels (empty file)");
}
END_TEST

START_TEST(missing_file_is_an_error_naming_it)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(gf_labels_read_tsv(lab, "/nonexistent/labels.tsv", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/labels.tsv: cannot open labels"));
	gf_labels_free(lab);
}
END_TEST

START_TEST(duplicate_across_two_files_names_both)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	const char *p1 = write_tmp(2, "a\tx\n"), *p2 = write_tmp(3, "b\ty\na\tx\n");
	ck_assert_int_eq(gf_labels_read_tsv(lab, p1, err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_read_tsv(lab, p2, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: duplicate id 'a' (first in "));
	ck_assert_ptr_nonnull(strstr(err, p1));
	unlink(p1);
	unlink(p2);
	gf_labels_free(lab);
}
END_TEST

START_TEST(unused_ids_are_reported_in_file_order)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	const char *p = write_tmp(2, "a\tx\nb\tx\nc\ty\nd\ty\n");
	ck_assert_int_eq(gf_labels_read_tsv(lab, p, err, sizeof err), 0);
	gf_labels_lookup(lab, "-", "a");
	gf_labels_lookup(lab, "-", "d");
	ck_assert_int_eq(gf_labels_check_used(lab, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: id 'b' matches no record"));
	gf_labels_lookup(lab, "-", "b");
	gf_labels_lookup(lab, "-", "c");
	ck_assert_int_eq(gf_labels_check_used(lab, err, sizeof err), 0);
	unlink(p);
	gf_labels_free(lab);
}
END_TEST

START_TEST(file_classes_label_every_record_of_their_file)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(gf_labels_add_file(lab, "phage=data/lambda.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "bacteria=a=b.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "data/lambda.fa", "any"), 1);
	ck_assert_int_eq(gf_labels_lookup(lab, "a=b.fa", "rec"), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "other.fa", "rec"), -1);
	ck_assert_int_eq(gf_labels_check_used(lab, err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "virus=c.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_check_used(lab, err, sizeof err), -1);
	ck_assert_str_eq(err, "--class virus=c.fa: c.fa is not among the inputs");
	ck_assert_int_eq(gf_labels_add_file(lab, "x=c.fa", err, sizeof err), -1);
	ck_assert_str_eq(err, "--class x=c.fa: c.fa already has class 'virus'");
	ck_assert_int_eq(gf_labels_add_file(lab, "=c.fa", err, sizeof err), -1);
	ck_assert_int_eq(gf_labels_add_file(lab, "x=", err, sizeof err), -1);
	ck_assert_int_eq(gf_labels_add_file(lab, "x", err, sizeof err), -1);
	ck_assert_str_eq(err, "--class expects NAME=FILE (got 'x')");
	ck_assert_int_eq(read_text(lab, "a\tb\n", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot be combined"));
	gf_labels_free(lab);
}
END_TEST

START_TEST(classes_carry_their_taxon_from_the_third_column_or_class_spec)
{
	char err[512];
	uint32_t id = 0;
	const char *rank = NULL;
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "a\tE.coli\t562\nb\tV.cholerae\nc\tE.coli\t562\nd\tHelico\t209:genus\n",
	                           err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "E.coli"), &id, &rank), 1);
	ck_assert_uint_eq(id, 562);
	ck_assert_str_eq(rank, "");
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "Helico"), &id, &rank), 1);
	ck_assert_uint_eq(id, 209);
	ck_assert_str_eq(rank, "genus");
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "V.cholerae"), &id, &rank), 0);
	gf_labels_free(lab);

	/* a third column that is not a taxon stays ignored, as before */
	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "id\tclass\tnote\na\tx\t12 kb\nb\ty\tplasmid\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_class_taxon(lab, 0, &id, &rank), 0);
	gf_labels_free(lab);
	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "id\tclass\ttaxid\na\tx\t562\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_class_taxon(lab, 0, &id, &rank), 1);
	gf_labels_free(lab);

	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "a\tx\t562\nb\tx\t561\n", err, sizeof err), -1);
	ck_assert_msg(strstr(err, ":2: class 'x' is taxon 561 here, 562 at "), "%s", err);
	gf_labels_free(lab);
	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "id\tclass\ttaxid\na\tx\tE.coli\n", err, sizeof err), -1);
	ck_assert_msg(strstr(err, ":2: taxon 'E.coli' of class 'x': expects TAXID or TAXID:RANK"), "%s", err);
	gf_labels_free(lab);

	lab = gf_labels_new();
	ck_assert_int_eq(gf_labels_add_file(lab, "E.coli:562=a.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "ns:x:10710:species=b.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "plain=c.fa", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_n_classes(lab), 3);
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "E.coli"), &id, &rank), 1);
	ck_assert_uint_eq(id, 562);
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "ns:x"), &id, &rank), 1);
	ck_assert_uint_eq(id, 10710);
	ck_assert_str_eq(rank, "species");
	ck_assert_int_eq(gf_labels_class_taxon(lab, gf_labels_class_id(lab, "plain"), &id, &rank), 0);
	ck_assert_int_eq(gf_labels_add_file(lab, "E.coli:561=d.fa", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "--class E.coli:561=d.fa: class 'E.coli' was given taxon 562 before"), "%s", err);
	ck_assert_int_eq(gf_labels_add_file(lab, "y:0=e.fa", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "taxon '0' of class 'y'"), "%s", err);
	ck_assert_int_eq(gf_labels_add_file(lab, ":562=f.fa", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "class '' is empty"), "%s", err);
	gf_labels_free(lab);
}
END_TEST

START_TEST(class_names_must_be_one_clean_field)
{
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "", "is empty" },
		{ "A\nB", "holds a control character (byte 2)" },
		{ "A\tB", "holds a control character (byte 2)" },
		{ "red\033[31m", "holds a control character (byte 4)" },
		{ "A\xc2\x9b", "holds a control character (byte 2)" },
		{ "A  ", "has a trailing space" },
		{ " A", "has a leading space" },
		{ "E.c\xffoli", "is not valid UTF-8 (byte 4)" },
		{ "\xed\xa0\x80", "is not valid UTF-8 (byte 1)" },
		{ "unclassified", "is a word the output tables use (unclassified, NA, column names)" },
		{ "NA", "is a word the output tables use (unclassified, NA, column names)" },
		{ "nan", "is a word the output tables use (unclassified, NA, column names)" },
		{ "Probability", "is a word the output tables use (unclassified, NA, column names)" },
	};
	char why[128], long_name[300];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(gf_labels_check_class(bad[i].name, why, sizeof why) == -1, "'%s' accepted", bad[i].name);
		ck_assert_str_eq(why, bad[i].why);
	}
	memset(long_name, 'x', 256);
	long_name[256] = 0;
	ck_assert_int_eq(gf_labels_check_class(long_name, why, sizeof why), -1);
	long_name[255] = 0;
	ck_assert_int_eq(gf_labels_check_class(long_name, why, sizeof why), 0);
	ck_assert_int_eq(gf_labels_check_class("E. coli K-12", why, sizeof why), 0);
	ck_assert_int_eq(gf_labels_check_class("Escherichia_coli \xc3\xa9t\xc3\xa9", why, sizeof why), 0);
	ck_assert_int_eq(gf_labels_check_class("unclassified_bacteria", why, sizeof why), 0);
}
END_TEST

START_TEST(bad_class_names_are_refused_in_files_and_specs)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "a\tA\nb\tA  \n", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: class 'A  ' has a trailing space"));
	gf_labels_free(lab);
	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "a\tE.coli\nb\te.coli\n", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: class 'e.coli' differs from class 'E.coli' only in case"));
	gf_labels_free(lab);
	lab = gf_labels_new();
	ck_assert_int_eq(gf_labels_add_file(lab, "A\nB=x.fa", err, sizeof err), -1);
	ck_assert_str_eq(err, "--class A\nB=x.fa: class 'A\nB' holds a control character (byte 2)");
	gf_labels_free(lab);
}
END_TEST

START_TEST(byte_order_marks_utf8_skipped_utf16_refused)
{
	char err[512];
	gf_labels_t *lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "\xef\xbb\xbfid\tclass\nr1\tA\n", err, sizeof err), 0);
	ck_assert_int_eq(gf_labels_lookup(lab, "x.fa", "r1"), 0);
	gf_labels_free(lab);
	lab = gf_labels_new();
	ck_assert_int_eq(read_text(lab, "\xff\xfer\x00" "1", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "is UTF-16 or UTF-32 text"));
	gf_labels_free(lab);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("labels");
	TCase *tc = tcase_create("labels");
	tcase_add_test(tc, class_ids_follow_sorted_class_names);
	tcase_add_test(tc, header_comments_pipes_extra_columns_and_crlf_are_handled);
	tcase_add_test(tc, a_first_line_with_data_names_is_not_a_header);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, missing_file_is_an_error_naming_it);
	tcase_add_test(tc, duplicate_across_two_files_names_both);
	tcase_add_test(tc, unused_ids_are_reported_in_file_order);
	tcase_add_test(tc, file_classes_label_every_record_of_their_file);
	tcase_add_test(tc, classes_carry_their_taxon_from_the_third_column_or_class_spec);
	tcase_add_test(tc, class_names_must_be_one_clean_field);
	tcase_add_test(tc, bad_class_names_are_refused_in_files_and_specs);
	tcase_add_test(tc, byte_order_marks_utf8_skipped_utf16_refused);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
