/* genoformer info: what a model or checkpoint file holds, as key<TAB>value
 * lines, and optionally every tensor with a checksum of its data. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/seqio.h"
#include "model/checkpoint.h"
#include "src/cmd/commands.h"
#include "src/kmerhead.h"
#include "src/kmerindex.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/optgroups.h"
#include "src/opts.h"
#include "src/provenance.h"
#include "src/taxa.h"

typedef struct {
	uint64_t given;
	int tensors;
} info_opts_t;

static const gf_opt_t info_opts[] = {
	{ 0, "tensors", GF_OPT_SET, offsetof(info_opts_t, tensors), .dflt = "off",
	  .help = "also one line per tensor: tensor<TAB>NAME<TAB>SHAPE<TAB>NUMEL<TAB>CRC32 of its\n"
	          "float32 data (hex), and params_crc32: the CRC32 of all model tensors'\n"
	          "data in file order; two files with equal params_crc32 hold the same\n"
	          "parameters bit for bit (optimizer state: optim_crc32)" },
};
static const gf_optgroup_t info_group = GF_GROUP("Options", info_opts, info_opts_t);

static void uses(info_opts_t *o, gf_optuse_t *use)
{
	use[0] = (gf_optuse_t){ .g = &info_group, .ctx = o };
	use[1] = (gf_optuse_t){ .g = &gf_group_verbosity };
}


static uint32_t crc_floats(uint32_t crc, const float *p, size_t n)
{
	return rf_ckpt_crc(crc, p, n * sizeof *p);
}

/* Metadata printed under their own names rather than as meta.KEY. */
static const char *const KNOWN_META[] = { "task", "tokenizer.k", "tokenizer.stride", "window", "classes",
	                                      "train.steps", "cmdline", "version", "created",
	                                      GF_OPENSET_KEY_MIN_PROB, GF_OPENSET_KEY_TARGET, GF_OPENSET_KEY_BACKGROUND,
	                                      GF_OPENSET_KEY_MIN_LEN, GF_OPENSET_KEY_CALIB, GF_OPENSET_KEY_BY_LENGTH, GF_OPENSET_KEY_NOVEL,
	                                      GF_TAXA_META };

static int known_meta(const char *key)
{
	for (size_t i = 0; i < sizeof KNOWN_META / sizeof *KNOWN_META; i++)
		if (!strcmp(key, KNOWN_META[i])) return 1;
	return 0;
}

/* Metadata value with newlines shown as "\n", so every value stays on its line. */
static void print_kv(const char *key, const char *val)
{
	printf("%s\t", key);
	for (const char *p = val ? val : "NA"; *p; p++)
		if (*p == '\n') fputs("\\n", stdout);
		else putchar(*p);
	putchar('\n');
}

/* config.NAME<TAB>value for every config record of the file. */
static void print_config(const rf_config_t *c)
{
	char val[RF_MAX_LAYERS * 8];
	for (int i = 0; i < rf_ckpt_config_count(); i++) {
		const char *name = rf_ckpt_config_show(c, i, val, sizeof val);
		printf("config.%s\t%s\n", name, val);
	}
}

/* The open-set settings classify applies (src/openset.h); a file from
 * before them gets the defaults, said so. */
static void print_openset(const rf_ckpt_meta_t *m)
{
	const char *p = rf_ckpt_meta_get(m, GF_OPENSET_KEY_MIN_PROB), *k = rf_ckpt_meta_get(m, "tokenizer.k");
	const char *len = rf_ckpt_meta_get(m, GF_OPENSET_KEY_MIN_LEN), *bg = rf_ckpt_meta_get(m, GF_OPENSET_KEY_BACKGROUND);
	printf("%s\t%s\n", GF_OPENSET_KEY_MIN_PROB, p ? p : "0 (not stored: an older model; every call is kept)");
	print_kv(GF_OPENSET_KEY_BY_LENGTH, rf_ckpt_meta_get(m, GF_OPENSET_KEY_BY_LENGTH));
	const char *nov = rf_ckpt_meta_get(m, GF_OPENSET_KEY_NOVEL);
	printf("%s\t%s\n", GF_OPENSET_KEY_NOVEL, nov ? nov : "none (the thresholds above apply to every record)");
	print_kv(GF_OPENSET_KEY_TARGET, rf_ckpt_meta_get(m, GF_OPENSET_KEY_TARGET));
	printf("%s\t%s\n", GF_OPENSET_KEY_BACKGROUND, bg ? bg : "none");
	if (len) printf("%s\t%s\n", GF_OPENSET_KEY_MIN_LEN, len);
	else printf("%s\t%s (not stored: k)\n", GF_OPENSET_KEY_MIN_LEN, k ? k : "NA");
	print_kv(GF_OPENSET_KEY_CALIB, rf_ckpt_meta_get(m, GF_OPENSET_KEY_CALIB));
}

/* class.ID.taxon<TAB>TAXID<TAB>RANK<TAB>lineage names joined by ';' (none
 * when the model gives the class no taxid). */
static void print_taxa(const rf_ckpt_meta_t *m, int n_classes)
{
	char err[GF_ERRLEN];
	gf_taxa_t t;
	if (gf_taxa_load(&t, m, n_classes, NULL, NULL, err, sizeof err)) {
		printf("taxa	unreadable: %s\n", err);
		return;
	}
	for (int c = 0; c < n_classes; c++) {
		const gf_class_taxa_t *x = &t.c[c];
		if (!x->taxid) {
			printf("class.%d.taxon\tnone\n", c);
			continue;
		}
		printf("class.%d.taxon\t%u\t%s\t", c, x->taxid, *x->rank ? x->rank : "species");
		for (int i = 0; i < x->n_lineage; i++) printf("%s%s", i ? ";" : "", x->lineage[i].name);
		printf("%s\n", x->n_lineage ? "" : "-");
	}
	gf_taxa_free(&t);
}

static void print_info(const rf_ckpt_t *ck, int tensors)
{
	const rf_ckpt_meta_t *m = &ck->meta;
	size_t params = 0;
	for (int i = 0; i < ck->n_tensors; i++) params += rf_ckpt_numel(&ck->tensors[i]);
	uint32_t crc;
	char err[GF_ERRLEN];
	printf("file\t%s\nformat_version\t%u\nkind\t%s\n", ck->path, ck->version,
	       ck->has_train ? "checkpoint (model and training state)" : "model");
	if (!gf_file_crc32(ck->path, &crc, err, sizeof err)) printf("file_crc32\t%08x\n", crc);
	print_kv("task", rf_ckpt_meta_get(m, "task"));
	print_kv("tokenizer.k", rf_ckpt_meta_get(m, "tokenizer.k"));
	print_kv("tokenizer.stride", rf_ckpt_meta_get(m, "tokenizer.stride"));
	print_kv("window", rf_ckpt_meta_get(m, "window"));
	print_config(&ck->cfg);
	const char *cl = rf_ckpt_meta_get(m, "classes");
	int id = 0;
	for (const char *p = cl; p && *p; id++) {
		size_t n = strcspn(p, "\n");
		printf("class.%d\t%.*s\n", id, (int)n, p);
		p += n + (p[n] == '\n');
	}
	print_taxa(m, id);
	printf("classes\t%d\nparameters\t%zu\n", id, params);
	if (ck->has_train) printf("train.step\t%llu\ntrain.seed\t%llu\n", (unsigned long long)ck->train.step,
	                          (unsigned long long)ck->train.seed);
	if (id) print_openset(m);
	print_kv("train.steps", rf_ckpt_meta_get(m, "train.steps"));
	print_kv("cmdline", rf_ckpt_meta_get(m, "cmdline"));
	print_kv("version", rf_ckpt_meta_get(m, "version"));
	print_kv("created", rf_ckpt_meta_get(m, "created"));
	for (int i = 0; i < m->n; i++) {
		if (known_meta(m->key[i])) continue;
		char key[300];
		snprintf(key, sizeof key, "meta.%s", m->key[i]);
		/* the k-mer head's and index's counts are data, not for reading: their summaries */
		char head[1024];
		int kh = !strcmp(m->key[i], GF_KH_META), kx = !strcmp(m->key[i], GF_KX_META);
		if (kh) gf_kh_summary(m->val[i], head, sizeof head);
		if (kx) gf_kx_summary(m->val[i], head, sizeof head);
		print_kv(key, kh || kx ? head : m->val[i]);
	}
	if (!tensors) return;
	uint32_t all = 0;
	for (int i = 0; i < ck->n_tensors; i++) {
		const rf_ckpt_tensor_t *t = &ck->tensors[i];
		size_t n = rf_ckpt_numel(t);
		printf("tensor\t%s\t", t->name);
		for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? "x" : "", (long long)t->shape[d]);
		printf("\t%zu\t%08x\n", n, crc_floats(0, t->data, n));
		all = crc_floats(all, t->data, n);
	}
	printf("params_crc32\t%08x\n", all);
	if (ck->has_train)
		printf("optim_crc32\t%08x\n", crc_floats(crc_floats(0, ck->train.m, ck->train.n), ck->train.v, ck->train.n));
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer info [options] MODEL.gfm\n"
	"Prints what a model (or training checkpoint) file holds as key<TAB>value lines: format version,\n"
	"task, tokenizer (k, stride), window, the model config, classes (class.ID<TAB>NAME), parameter\n"
	"count, for a classifier what classify calls 'unclassified' (openset.min_prob: the threshold on\n"
	"the top class probability over all lengths, openset.min_prob_by_length: the thresholds classify\n"
	"applies, LEN:PROB for records from LEN bases on, openset.target_precision: the precision they\n"
	"were chosen for, openset.background: the background class, openset.min_length: the shortest\n"
	"record in bases, openset.calibration: how the validation windows fared), training steps, how it\n"
	"was trained (command line, genoformer version, date) and any other metadata (meta.KEY; of the\n"
	"k-mer head, meta.kmerhead, and the k-mer index, meta.kmerindex, their summary lines). Reading verifies every tensor's CRC32.\n\n",
	NULL,
};

int cmd_info(int argc, char *argv[])
{
	info_opts_t o = { 0 };
	gf_optuse_t use[2];
	char err[GF_ERRLEN];
	uses(&o, use);
	int rc = gf_opts_parse(argc, argv, use, 2, &help);
	if (rc >= 0) return rc;
	if (optind + 1 != argc) {
		gf_error("%s (genoformer info -h for help)", optind >= argc ? "no model file" : "one model file at a time");
		return GF_EXIT_USAGE;
	}
	rf_ckpt_t *ck = rf_ckpt_read(argv[optind], err, sizeof err);
	if (!ck) {
		gf_error("%s", err);
		return GF_EXIT_ERROR;
	}
	print_info(ck, o.tensors);
	rf_ckpt_free(ck);
	if (gf_stdout_check()) return GF_EXIT_ERROR;
	return GF_EXIT_OK;
}
