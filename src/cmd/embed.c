/* genoformer embed: the model's pooled representation of every record (or
 * window) as a float32 .npy matrix, with a TSV naming its rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/cmd/commands.h"
#include "src/infer.h"
#include "src/log.h"
#include "src/output.h"
#include "src/opts.h"
#include "src/npy.h"

typedef struct {
	int width, per_window;
	gf_npy_t *npy;
	FILE *ids;
	uint64_t rows, empty;
	float *nan_row;
} emb_t;

static const char *const output_help[] = { "the .npy matrix, written atomically" };
static const char *const infer_help[] = {
	[GF_INF_PER_WINDOW] = "one row per window of the model's length instead of per record",
};

typedef struct {
	uint64_t given;
	const char *ids;
} emb_opts_t;

static const gf_opt_t ids_opt[] = {
	{ 0, "ids", GF_OPT_STR, offsetof(emb_opts_t, ids), .arg = "FILE", .dflt = "OUT without .npy + .ids.tsv",
	  .help = "the table naming the rows (needed when -o is a device or FIFO)" },
};
static const gf_optgroup_t ids_group = GF_GROUP("", ids_opt, emb_opts_t);

enum { N_USES = GF_INFER_USES + 2 };

static void uses(gf_infer_cli_t *c, emb_opts_t *o, gf_optuse_t *use)
{
	gf_infer_cli_uses(c, GF_OPT_BIT(GF_INF_MIN_PROB) | GF_OPT_BIT(GF_INF_CONFIDENCE) | GF_OPT_BIT(GF_INF_NO_KMER_HEAD) | GF_OPT_BIT(GF_INF_NO_KMER_INDEX) |
	                      GF_OPT_BIT(GF_INF_KMER_MIN_FRAC),
	                  output_help, use);
	use[0].help = infer_help;
	use[0].n_help = sizeof infer_help / sizeof *infer_help;
	use[3].g = &gf_group_output_required;
	use[GF_INFER_USES] = (gf_optuse_t){ .g = &ids_group, .ctx = o };
	use[GF_INFER_USES + 1] = (gf_optuse_t){ .g = &gf_group_verbosity };
}


static int emit(emb_t *s, const gf_infer_rec_t *r, const float *row, const char *window, int64_t beg, int64_t end,
                char *err, size_t errlen)
{
	fprintf(s->ids, "%llu\t%s\t%s\t%lld\t%lld\n", (unsigned long long)s->rows++, r->name, window, (long long)beg,
	        (long long)end);
	return gf_npy_write(s->npy, row, 1, err, errlen);
}

static int on_record(void *ctx, const gf_infer_rec_t *r, char *err, size_t errlen)
{
	emb_t *s = ctx;
	char num[32];
	s->empty += !r->n_windows;
	if (!s->per_window) return emit(s, r, r->out ? r->out : s->nan_row, "all", r->beg, r->beg + (int64_t)r->len, err, errlen);
	for (size_t w = 0; w < r->n_windows; w++) {
		snprintf(num, sizeof num, "%zu", w);
		if (emit(s, r, r->win_out + w * s->width, num, r->win_beg[w], r->win_end[w], err, errlen)) return -1;
	}
	return 0;
}

/* OUT.npy -> OUT.ids.tsv (any other name: NAME.ids.tsv). */
static char *ids_path(const char *out)
{
	size_t n = strlen(out);
	if (n > 4 && !strcmp(out + n - 4, ".npy")) n -= 4;
	char *p = malloc(n + 9);
	if (p) snprintf(p, n + 9, "%.*s.ids.tsv", (int)n, out);
	return p;
}

/* The ids table's name: --ids, or derived from a regular (or new) -o; a
 * device or FIFO as -o has no sensible neighbour (/dev/null.ids.tsv).
 * NULL after logging the error. */
static char *ids_name(const char *out, const char *ids)
{
	struct stat st;
	if (ids) return strdup(ids);
	if (!strcmp(out, "-") || (stat(out, &st) == 0 && !S_ISREG(st.st_mode))) {
		gf_error("%s is not a regular file: name the table of row ids with --ids FILE", out);
		return NULL;
	}
	char *p = ids_path(out);
	if (!p) gf_error("out of memory");
	return p;
}

static int embed(gf_infer_cli_t *c, gf_modelfile_t *mf, const char *idp, int own_ids, char *const *inputs,
                 int n_inputs)
{
	char err[GF_ERRLEN];
	emb_t s = { .width = gf_infer_width(mf, 1), .per_window = c->per_window };
	rf_afile_t *ids = NULL;
	gf_infer_stats_t st;
	int ok = !!(s.nan_row = malloc(s.width * sizeof *s.nan_row));
	if (!ok) snprintf(err, sizeof err, "out of memory");
	for (int j = 0; ok && j < s.width; j++) s.nan_row[j] = NAN;
	/* a name we made up does not follow a planted link; one the user gave does */
	ok = ok && (s.npy = gf_npy_open(c->out.path, s.width, err, sizeof err)) &&
	     (ids = (own_ids ? rf_afile_open_own : rf_afile_open)(idp, err, sizeof err));
	if (ok) {
		s.ids = rf_afile_fp(ids);
		fprintf(s.ids, "row\tid\twindow\tbeg\tend\n");
		ok = !gf_infer_run(c, mf, 1, inputs, n_inputs, on_record, &s, &st, err, sizeof err);
	}
	/* the ids first: when the matrix then fails, its ids go too (not a
	 * device, nor a link the user gave) */
	struct stat ls;
	int ids_replaced = ok && !rf_afile_in_place(ids) && (lstat(idp, &ls) != 0 || !S_ISLNK(ls.st_mode));
	int ids_done = ok && (ok = !rf_afile_commit(ids, err, sizeof err));
	if (ok) {
		ok = !gf_npy_commit(s.npy, err, sizeof err);
		s.npy = NULL;
	}
	if (!ok) {
		gf_error("%s", err);
		if (ids_done && ids_replaced) remove(idp);
		else rf_afile_abort(ids);
		gf_npy_abort(s.npy);
	}
	free(s.nan_row);
	if (!ok) return GF_EXIT_ERROR;
	gf_infer_log_stats(&st);
	if (s.empty) gf_warn("%llu records shorter than k=%d have no token%s", (unsigned long long)s.empty, mf->k,
	                     s.per_window ? " and no row" : ": their rows are NaN");
	gf_info("%llu rows of %d floats in %s", (unsigned long long)s.rows, s.width, c->out.path);
	gf_log_summary();
	return GF_EXIT_OK;
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer embed -m MODEL.gfm -o OUT.npy [options] IN...\n"
	"Writes each record's embedding, the final layer's 2 x d_model features averaged over its real\n"
	"tokens (over all its windows), as a float32 matrix OUT.npy with one row per record, and\n"
	"OUT.ids.tsv naming the rows: row, id, window ('all' for a record), beg, end (0-based, end\n"
	"exclusive). A record shorter than k has no token: its row is NaN.\n\n",
	NULL,
};

int cmd_embed(int argc, char *argv[])
{
	gf_infer_cli_t c;
	emb_opts_t o = { 0 };
	gf_optuse_t use[N_USES];
	if (gf_infer_cli_init(&c, argc)) return GF_EXIT_ERROR;
	uses(&c, &o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc < 0 && gf_infer_cli_check(&c, argc, optind)) rc = GF_EXIT_USAGE;
	if (rc < 0 && !c.out.path) {
		gf_error("no output: -o OUT.npy is required");
		rc = GF_EXIT_USAGE;
	}
	char *idp = rc < 0 ? ids_name(c.out.path, o.ids) : NULL;
	const char *outs[] = { c.out.path, idp };
	if (rc < 0 && (!idp || gf_infer_claim(&c, (const char *const *)argv + optind, argc - optind, outs, 2)))
		rc = GF_EXIT_ERROR;
	gf_modelfile_t *mf = rc < 0 ? gf_infer_load(&c, 0) : NULL;
	if (rc < 0) rc = mf ? embed(&c, mf, idp, !o.ids, argv + optind, argc - optind) : GF_EXIT_ERROR;
	if (mf) gf_modelfile_free(mf);
	free(idp);
	gf_infer_cli_free(&c);
	return rc;
}
