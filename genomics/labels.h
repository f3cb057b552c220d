/* Class labels of records, from either
 *  - a TSV file: `record_id<TAB>class[<TAB>taxon]` per line; '#' lines and
 *    blank lines are skipped; a first line whose columns are named
 *    (id/record/name/... then class/label/species/...) is a header; ids are
 *    taken whole, '|' included. The optional third column is the class's
 *    NCBI taxon, TAXID or TAXID:RANK (562, 561:genus), when a header names
 *    it taxid (tax_id, taxon_id, ...) or, without a header, when it starts
 *    with a digit; other third columns and further columns are ignored; or
 *  - one class per input file: `--class NAME[:TAXID[:RANK]]=FILE` (every
 *    record of FILE; the taxon starts at the first ':' followed by a digit).
 * A class has at most one taxon: two different ones are an error.
 * Class ids are stable: the class names sorted in strcmp order, numbered
 * from 0. Errors are one line naming the file and line. */
#ifndef GF_LABELS_H
#define GF_LABELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct gf_labels gf_labels_t;

/* Whether name can be a class name: 0, or -1 with the reason in why
 * ("is empty", "holds a control character", "has a leading space", ...).
 * A class name is a column of the classify table and a line of its report,
 * so it must be one clean field: 1-255 bytes of valid UTF-8, no control
 * character (tab, newline, escape), no leading or trailing space, and not
 * a word the tables already use (unclassified, NA, N/A, NaN, null, or a
 * column name: id, length, window, beg, end, predicted, probability; any
 * case). Names must also differ in more than case (checked on adding). */
int gf_labels_check_class(const char *name, char *why, size_t whylen);

/* Length (1-4) of the valid UTF-8 sequence at p (NUL-terminated), 0 when
 * the bytes there are not valid UTF-8 (overlong, surrogate, cut short). */
int gf_utf8_len(const unsigned char *p);

gf_labels_t *gf_labels_new(void);
void gf_labels_free(gf_labels_t *lab);

/* Adds the labels of a TSV file (UTF-8 or ASCII; a UTF-8 byte-order mark is
 * skipped). 0, or -1 with "FILE:LINE: ..." in err: duplicate id, missing
 * class column, empty id, a class name gf_labels_check_class refuses;
 * "FILE: ..." when the file holds no label, is UTF-16/32 or cannot be read. */
int gf_labels_read_tsv(gf_labels_t *lab, const char *path, char *err, size_t errlen);

/* Adds "NAME=FILE": every record read from FILE has class NAME. 0, or -1
 * with a message (malformed, FILE given twice, a bad class name). TSV labels and file classes
 * do not mix: -1 on the second kind. */
int gf_labels_add_file(gf_labels_t *lab, const char *spec, char *err, size_t errlen);

/* A class's taxon, if one was given: 1 with *taxid and *rank (the rank as
 * written, "" when none), else 0. */
int gf_labels_class_taxon(const gf_labels_t *lab, int c, uint32_t *taxid, const char **rank);

/* TAXID or TAXID:RANK (RANK: letters, spaces, '_' or '-', shorter than
 * ranklen) into *taxid and rank ("" without). 0, or -1 when malformed. */
int gf_labels_parse_taxon(const char *s, uint32_t *taxid, char *rank, size_t ranklen);

/* The i-th labels TSV read (from 0), NULL past the last: the files a
 * command reads, for its same-file guard. */
const char *gf_labels_tsv(const gf_labels_t *lab, int i);

int gf_labels_n_classes(const gf_labels_t *lab);
const char *gf_labels_class_name(const gf_labels_t *lab, int c);
/* -1 when name is not a class. */
int gf_labels_class_id(const gf_labels_t *lab, const char *name);

/* Class id of record `id` read from input `path` (by id for TSV labels, by
 * path for file classes), or -1 when it has none. Marks the label as used. */
int gf_labels_lookup(gf_labels_t *lab, const char *path, const char *id);

/* How many lookups found this label so far (0 when there is none): a TSV
 * label used twice means the same record id came twice. */
long gf_labels_times_used(const gf_labels_t *lab, const char *path, const char *id);

/* Checks labels against the records: 0, or -1 naming the first label that
 * no gf_labels_lookup used ("FILE:LINE: id 'X' matches no record", or the
 * --class FILE that is not an input). */
int gf_labels_check_used(const gf_labels_t *lab, char *err, size_t errlen);

#endif
