/* genoformer export: a model file in another format, for other tools
 * (safetensors for PyTorch and Hugging Face; scripts/gfm_torch.py rebuilds
 * the model from it). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "src/common.h"
#include "src/cmd/commands.h"
#include "src/output.h"
#include "src/log.h"
#include "src/optgroups.h"
#include "src/opts.h"
#include "src/safetensors.h"

typedef struct {
	uint64_t given;
	const char *format, *out;
} export_opts_t;

static int check_format(void *ctx, const gf_opt_t *opt, const char *arg)
{
	(void)ctx;
	(void)opt;
	if (!strcmp(arg, "safetensors")) return 0;
	gf_error("--format expects safetensors, got '%s'", arg);
	return GF_EXIT_USAGE;
}

static const gf_opt_t export_opts[] = {
	{ 0, "format", GF_OPT_STR, offsetof(export_opts_t, format), .arg = "STR", .call = check_format,
	  .dflt = "required", .help = "safetensors" },
	{ 'o', "output", GF_OPT_STR, offsetof(export_opts_t, out), .arg = "FILE",
	  .dflt = "MODEL without .gfm + .safetensors", .help = "the file, written atomically; '-' stdout" },
};
static const gf_optgroup_t export_group = GF_GROUP("Export", export_opts, export_opts_t);

static const gf_cmdhelp_t help = {
	"Usage: genoformer export --format safetensors [-o OUT] MODEL.gfm\n"
	"Writes the model's tensors with their .gfm names and shapes (float32, matrices [in, out]) and its\n"
	"config and metadata (but the k-mer index, which only classify uses) as safetensors;\n"
	"scripts/gfm_torch.py rebuilds the Reformer in PyTorch from it.\n\n",
	NULL,
};

int cmd_export(int argc, char *argv[])
{
	export_opts_t o = { 0 };
	gf_optuse_t use[2] = { { .g = &export_group, .ctx = &o }, { .g = &gf_group_verbosity } };
	char err[GF_ERRLEN], path[4096];
	int rc = gf_opts_parse(argc, argv, use, 2, &help);
	if (rc >= 0) return rc;
	const char *out = o.out;
	if (!o.format) {
		gf_error("--format expects safetensors");
		return GF_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		gf_error("%s (genoformer export -h for help)", optind >= argc ? "no model file" : "one model file at a time");
		return GF_EXIT_USAGE;
	}
	const char *model = argv[optind];
	if (!out) {
		size_t n = strlen(model);
		if (n > 4 && !strcmp(model + n - 4, ".gfm")) n -= 4;
		snprintf(path, sizeof path, "%.*s.safetensors", (int)n, model);
		out = path;
	}
	rf_ckpt_t *ck = rf_ckpt_read(model, err, sizeof err);
	if (!ck) {
		gf_error("%s", err);
		return GF_EXIT_ERROR;
	}
	gf_out_t f;
	int ok = !gf_out_open(&f, out, err, sizeof err);
	if (ok) {
		ok = !gf_safetensors_write(f.fp, ck, err, sizeof err);
		if (!ok) gf_error("%s", err);
		if (gf_out_close(&f, ok, err, sizeof err) && ok) ok = 0, gf_error("%s", err);
	} else {
		gf_error("%s", err);
	}
	if (ok) gf_info("%s: %d tensors of %s", out, ck->n_tensors, model);
	rf_ckpt_free(ck);
	return ok ? GF_EXIT_OK : GF_EXIT_ERROR;
}
