/* Record labels; see labels.h. */
#include "genomics/labels.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/khash.h>

#include "genomics/taxonomy.h"

typedef struct {
	const char *cls;   /* interned class name (lab->names owns it) */
	const char *file;  /* TSV path (lab->files owns it), NULL for --class */
	long line;
	long used;         /* lookups so far */
} label_t;

KHASH_MAP_INIT_STR(label, label_t)

/* A class's taxon and where it was given (for conflicts). */
typedef struct {
	uint32_t taxid;
	char rank[32];
	const char *file;  /* TSV path, NULL for --class */
	long line;
} taxon_t;

KHASH_MAP_INIT_STR(taxon, taxon_t)

enum { KIND_NONE, KIND_TSV, KIND_FILE };

struct gf_labels {
	khash_t(label) *h;   /* record id or input path -> label; keys owned */
	khash_t(taxon) *tax; /* class name -> taxon; keys are the interned names */
	char **names;        /* class names, kept sorted */
	int n_names;
	char **files;        /* TSV paths read */
	int n_files;
	int kind;
};

gf_labels_t *gf_labels_new(void)
{
	gf_labels_t *lab = calloc(1, sizeof *lab);
	if (lab && (!(lab->h = kh_init(label)) || !(lab->tax = kh_init(taxon)))) {
		if (lab->h) kh_destroy(label, lab->h);
		free(lab);
		return NULL;
	}
	return lab;
}

void gf_labels_free(gf_labels_t *lab)
{
	if (!lab) return;
	for (khint_t k = kh_begin(lab->h); k != kh_end(lab->h); k++)
		if (kh_exist(lab->h, k)) free((char *)kh_key(lab->h, k));
	kh_destroy(label, lab->h);
	kh_destroy(taxon, lab->tax);
	for (int i = 0; i < lab->n_names; i++) free(lab->names[i]);
	for (int i = 0; i < lab->n_files; i++) free(lab->files[i]);
	free(lab->names);
	free(lab->files);
	free(lab);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gf_labels_class_id(const gf_labels_t *lab, const char *name)
{
	char *const *p = lab->n_names ? bsearch(&name, lab->names, lab->n_names, sizeof *lab->names, cmp_name) : NULL;
	return p ? (int)(p - lab->names) : -1;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcasecmp(s, *list)) return 1;
	return 0;
}

int gf_utf8_len(const unsigned char *p)
{
	int n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 :
	        p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80) return 0;
	/* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
	if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
	if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
	return n;
}

int gf_labels_check_class(const char *name, char *why, size_t whylen)
{
	static const char *const reserved[] = { "unclassified", "NA", "N/A", "NaN", "null", "id", "length", "window",
		                                "beg", "end", "predicted", "probability", NULL };
	size_t len = strlen(name);
	if (!len) return snprintf(why, whylen, "is empty"), -1;
	if (len > 255) return snprintf(why, whylen, "is %zu bytes long (at most 255)", len), -1;
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		int n = gf_utf8_len(p);
		if (!n) return snprintf(why, whylen, "is not valid UTF-8 (byte %td)", (const char *)p - name + 1), -1;
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) /* C0, DEL, C1 */
			return snprintf(why, whylen, "holds a control character (byte %td)", (const char *)p - name + 1), -1;
		p += n;
	}
	if (isspace((unsigned char)name[0])) return snprintf(why, whylen, "has a leading space"), -1;
	if (isspace((unsigned char)name[len - 1])) return snprintf(why, whylen, "has a trailing space"), -1;
	if (in_list(name, reserved))
		return snprintf(why, whylen, "is a word the output tables use (unclassified, NA, column names)"), -1;
	return 0;
}

/* The interned copy of class name, inserted in sorted place when new; NULL
 * with the reason in why when the name is refused, or out of memory (why
 * empty). */
static const char *intern_class(gf_labels_t *lab, const char *name, char *why, size_t whylen)
{
	int c = gf_labels_class_id(lab, name);
	*why = 0;
	if (c >= 0) return lab->names[c];
	if (gf_labels_check_class(name, why, whylen)) return NULL;
	for (int i = 0; i < lab->n_names; i++)
		if (!strcasecmp(lab->names[i], name)) {
			snprintf(why, whylen, "differs from class '%s' only in case", lab->names[i]);
			return NULL;
		}
	char **names = realloc(lab->names, (lab->n_names + 1) * sizeof *names);
	char *dup = strdup(name);
	if (!names || !dup) {
		if (names) lab->names = names;
		free(dup);
		return NULL;
	}
	lab->names = names;
	int i = lab->n_names;
	while (i > 0 && strcmp(names[i - 1], name) > 0) {
		names[i] = names[i - 1];
		i--;
	}
	names[i] = dup;
	lab->n_names++;
	return dup;
}

/* Adds key -> cls. 0; 1 when the key exists (its label in *old); -1 when
 * out of memory, -2 when the class name is refused (the reason in why). */
static int add_label(gf_labels_t *lab, const char *key, const char *cls, const char *file, long line, label_t **old,
                     char *why, size_t whylen)
{
	const char *name = intern_class(lab, cls, why, whylen);
	if (!name) return *why ? -2 : -1;
	char *k = strdup(key);
	int absent;
	if (!k) return -1;
	khint_t it = kh_put(label, lab->h, k, &absent);
	if (absent < 0) {
		free(k);
		return -1;
	}
	if (!absent) {
		free(k);
		*old = &kh_val(lab->h, it);
		return 1;
	}
	kh_val(lab->h, it) = (label_t){ name, file, line, 0 };
	return 0;
}

static int set_kind(gf_labels_t *lab, int kind, char *err, size_t errlen)
{
	if (lab->kind != KIND_NONE && lab->kind != kind) {
		snprintf(err, errlen, "a labels TSV and --class NAME=FILE cannot be combined");
		return -1;
	}
	lab->kind = kind;
	return 0;
}

/* A header names its columns: an id-like name, then a class-like name. */
static int is_header(const char *id, const char *cls)
{
	static const char *const ids[] = { "id", "record", "record_id", "seq_id", "seqid", "sequence", "sequence_id",
		                           "name", "read", "read_id", "accession", NULL };
	static const char *const classes[] = { "class", "label", "species", "taxon", "category", "group", "type", NULL };
	return in_list(id, ids) && in_list(cls, classes);
}

int gf_labels_parse_taxon(const char *s, uint32_t *taxid, char *rank, size_t ranklen)
{
	char num[16];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof num) return -1;
	memcpy(num, s, n);
	num[n] = 0;
	if (gf_tax_parse_id(num, taxid)) return -1;
	const char *r = colon ? colon + 1 : "";
	if (colon && !*r) return -1;
	for (const char *p = r; *p; p++)
		if (!isalpha((unsigned char)*p) && *p != ' ' && *p != '_' && *p != '-') return -1;
	if (strlen(r) >= ranklen) return -1;
	strcpy(rank, r);
	return 0;
}

/* Records that class cls (a class already) is taxon spec (TAXID[:RANK]); where names the
 * place for messages ("FILE:LINE" or "--class SPEC"). 0, or -1 with a
 * message: malformed, or another taxon given for the class before. */
static int add_taxon(gf_labels_t *lab, const char *cls, const char *spec, const char *file, long line,
                     const char *where, char *err, size_t errlen)
{
	taxon_t t = { 0, "", file, line };
	if (gf_labels_parse_taxon(spec, &t.taxid, t.rank, sizeof t.rank)) {
		snprintf(err, errlen, "%s: taxon '%s' of class '%s': expects TAXID or TAXID:RANK (an NCBI taxid, e.g. 562 or "
		         "561:genus)", where, spec, cls);
		return -1;
	}
	int c = gf_labels_class_id(lab, cls); /* added by add_label before */
	const char *name = c >= 0 ? lab->names[c] : NULL;
	int absent;
	khint_t it = name ? kh_put(taxon, lab->tax, name, &absent) : 0;
	if (!name || absent < 0) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	if (absent) {
		kh_val(lab->tax, it) = t;
		return 0;
	}
	const taxon_t *o = &kh_val(lab->tax, it);
	if (o->taxid == t.taxid && !strcmp(o->rank, t.rank)) return 0;
	if (o->file) snprintf(err, errlen, "%s: class '%s' is taxon %s here, %u%s%s at %s:%ld", where, cls, spec, o->taxid,
	                      *o->rank ? ":" : "", o->rank, o->file, o->line);
	else snprintf(err, errlen, "%s: class '%s' was given taxon %u%s%s before", where, cls, o->taxid, *o->rank ? ":" : "",
	              o->rank);
	return -1;
}

/* A header's third column that holds taxa. */
static int is_taxon_header(const char *col)
{
	static const char *const names[] = { "taxid", "tax_id", "taxon_id", "taxonomy_id", "ncbi_taxid", NULL };
	return in_list(col, names);
}

/* Spreadsheet programs save text with a byte-order mark: a UTF-8 one is
 * dropped (else the first id would never match), UTF-16/32 are refused
 * (every other byte would be a NUL). */
static int skip_bom(const char *path, char **line, ssize_t *len, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)*line;
	if (*len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		memmove(*line, *line + 3, (size_t)(*len -= 3) + 1);
		return 0;
	}
	if (*len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
		snprintf(err, errlen, "%s: is UTF-16 or UTF-32 text: save it as UTF-8 (or ASCII)", path);
		return -1;
	}
	return 0;
}

int gf_labels_read_tsv(gf_labels_t *lab, const char *path, char *err, size_t errlen)
{
	if (set_kind(lab, KIND_TSV, err, errlen)) return -1;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "%s: cannot open labels: %m", path);
		return -1;
	}
	char **files = realloc(lab->files, (lab->n_files + 1) * sizeof *files);
	char *file = strdup(path);
	if (!files || !file) {
		if (files) lab->files = files;
		free(file);
		fclose(fp);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	lab->files = files;
	lab->files[lab->n_files++] = file;

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, n_data = 0, n_added = 0;
	int rc = 0, taxa = -1; /* third column: -1 taxa when it starts with a digit, 1 taxa (header), 0 ignored */
	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (lineno == 1 && (rc = skip_bom(path, &line, &len, err, errlen))) break;
		if (len > (1 << 20)) {
			snprintf(err, errlen, "%s:%ld: a line of %zd bytes (at most 1 MiB): not a labels file?", path, lineno, len);
			rc = -1;
			break;
		}
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s:%ld: holds a NUL byte (not a text file?)", path, lineno);
			rc = -1;
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
		if (len == 0 || line[0] == '#') continue;
		char *tab = strchr(line, '\t'), *cls = tab ? tab + 1 : NULL, *third = NULL;
		if (cls) {
			*tab = 0;
			char *end = strchr(cls, '\t');
			if (end) {
				*end = 0;
				third = end + 1;
				if ((end = strchr(third, '\t'))) *end = 0;
			}
		}
		if (!cls || !*cls) {
			snprintf(err, errlen, "%s:%ld: no class column (expected record_id<TAB>class)", path, lineno);
			rc = -1;
		} else if (n_data++ == 0 && is_header(line, cls)) {
			taxa = third && is_taxon_header(third);
			continue;
		} else if (!*line) {
			snprintf(err, errlen, "%s:%ld: empty record id", path, lineno);
			rc = -1;
		} else {
			label_t *old = NULL;
			char why[128];
			int r = add_label(lab, line, cls, file, lineno, &old, why, sizeof why);
			if (r == -2)
				snprintf(err, errlen, "%s:%ld: class '%s' %s", path, lineno, cls, why);
			else if (r == 1 && old->file == file)
				snprintf(err, errlen, "%s:%ld: duplicate id '%s' (first at line %ld)", path, lineno, line, old->line);
			else if (r == 1)
				snprintf(err, errlen, "%s:%ld: duplicate id '%s' (first in %s:%ld)", path, lineno, line, old->file, old->line);
			else if (r < 0)
				snprintf(err, errlen, "%s:%ld: out of memory", path, lineno);
			rc = r ? -1 : 0;
			n_added++;
			if (rc == 0 && third && *third && (taxa == 1 || (taxa < 0 && isdigit((unsigned char)*third)))) {
				char where[64 + 4096];
				snprintf(where, sizeof where, "%s:%ld", path, lineno);
				rc = add_taxon(lab, cls, third, file, lineno, where, err, errlen);
			}
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error after line %ld", path, lineno);
		rc = -1;
	}
	if (rc == 0 && n_added == 0) {
		snprintf(err, errlen, "%s: no labels (empty file)", path);
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

int gf_labels_add_file(gf_labels_t *lab, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1]) {
		snprintf(err, errlen, "--class expects NAME=FILE (got '%s')", spec);
		return -1;
	}
	if (set_kind(lab, KIND_FILE, err, errlen)) return -1;
	char *name = strndup(spec, eq - spec), why[128];
	/* NAME:TAXID or NAME:TAXID:RANK: the taxon starts at the first ':' followed by a digit */
	char *taxon = name;
	while (taxon && (taxon = strchr(taxon, ':')) && !isdigit((unsigned char)taxon[1])) taxon++;
	if (taxon) *taxon++ = 0;
	label_t *old = NULL;
	int r = name ? add_label(lab, eq + 1, name, NULL, 0, &old, why, sizeof why) : -1;
	if (r == -2) snprintf(err, errlen, "--class %s: class '%s' %s", spec, name, why);
	else if (r == 1) snprintf(err, errlen, "--class %s: %s already has class '%s'", spec, eq + 1, old->cls);
	else if (r < 0) snprintf(err, errlen, "--class %s: out of memory", spec);
	if (r == 0 && taxon) {
		char where[64 + 4096];
		snprintf(where, sizeof where, "--class %s", spec);
		r = add_taxon(lab, name, taxon, NULL, 0, where, err, errlen);
	}
	free(name);
	return r ? -1 : 0;
}

const char *gf_labels_tsv(const gf_labels_t *lab, int i)
{
	return lab && i >= 0 && i < lab->n_files ? lab->files[i] : NULL;
}

int gf_labels_n_classes(const gf_labels_t *lab)
{
	return lab->n_names;
}

const char *gf_labels_class_name(const gf_labels_t *lab, int c)
{
	return c >= 0 && c < lab->n_names ? lab->names[c] : NULL;
}

int gf_labels_class_taxon(const gf_labels_t *lab, int c, uint32_t *taxid, const char **rank)
{
	const char *name = gf_labels_class_name(lab, c);
	khint_t it = name ? kh_get(taxon, lab->tax, name) : kh_end(lab->tax);
	if (it == kh_end(lab->tax)) return 0;
	*taxid = kh_val(lab->tax, it).taxid;
	*rank = kh_val(lab->tax, it).rank;
	return 1;
}

int gf_labels_lookup(gf_labels_t *lab, const char *path, const char *id)
{
	khint_t it = kh_get(label, lab->h, lab->kind == KIND_FILE ? path : id);
	if (it == kh_end(lab->h)) return -1;
	kh_val(lab->h, it).used++;
	return gf_labels_class_id(lab, kh_val(lab->h, it).cls);
}

long gf_labels_times_used(const gf_labels_t *lab, const char *path, const char *id)
{
	khint_t it = kh_get(label, lab->h, lab->kind == KIND_FILE ? path : id);
	return it == kh_end(lab->h) ? 0 : kh_val(lab->h, it).used;
}

static int file_index(const gf_labels_t *lab, const char *file)
{
	for (int i = 0; i < lab->n_files; i++)
		if (lab->files[i] == file) return i;
	return -1;
}

/* Order of labels in their input: file, line, then key (--class labels). */
static int label_cmp(const gf_labels_t *lab, const label_t *a, const char *ka, const label_t *b, const char *kb)
{
	int fa = file_index(lab, a->file), fb = file_index(lab, b->file);
	if (fa != fb) return fa < fb ? -1 : 1;
	if (a->line != b->line) return a->line < b->line ? -1 : 1;
	return strcmp(ka, kb);
}

int gf_labels_check_used(const gf_labels_t *lab, char *err, size_t errlen)
{
	const label_t *first = NULL;
	const char *key = NULL;
	/* the earliest unused label, so the message does not depend on hashing */
	for (khint_t k = kh_begin(lab->h); k != kh_end(lab->h); k++) {
		if (!kh_exist(lab->h, k) || kh_val(lab->h, k).used) continue;
		if (!first || label_cmp(lab, &kh_val(lab->h, k), kh_key(lab->h, k), first, key) < 0) {
			first = &kh_val(lab->h, k);
			key = kh_key(lab->h, k);
		}
	}
	if (!first) return 0;
	if (first->file) snprintf(err, errlen, "%s:%ld: id '%s' matches no record", first->file, first->line, key);
	else snprintf(err, errlen, "--class %s=%s: %s is not among the inputs", first->cls, key, key);
	return -1;
}
