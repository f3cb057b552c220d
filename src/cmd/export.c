/* genoformer export: a model file in another format, for other tools
 * (safetensors for PyTorch and Hugging Face; scripts/gfm_torch.py rebuilds
 * the model from it). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "src/cmd/commands.h"
#include "src/infer.h"
#include "src/log.h"
#include "src/opts.h"
#include "src/safetensors.h"

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer export --format safetensors [-o OUT] MODEL.gfm\n"
	        "Writes the model's tensors with their .gfm names and shapes (float32, matrices [in, out]) and its\n"
	        "config and metadata as safetensors; scripts/gfm_torch.py rebuilds the model in PyTorch from it.\n\n"
	        "      --format STR     safetensors [required]\n"
	        "  -o, --output FILE    '-' for stdout, written atomically [MODEL without .gfm + .safetensors]\n"
	        "  -h, --help           this help\n"
	        "Exit status: 0 success, 1 error, 2 usage error.\n");
}

int cmd_export(int argc, char *argv[])
{
	static const struct option longopts[] = { { "format", required_argument, 0, 'F' },
		                                      { "output", required_argument, 0, 'o' },
		                                      { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *format = NULL, *out = NULL;
	char err[GF_ERRLEN], path[4096];
	int opt;
	while ((opt = gf_getopt(argc, argv, "o:h", longopts)) >= 0) {
		if (opt == 'h') {
			usage(stdout);
			return GF_EXIT_OK;
		}
		if (opt == 'F') format = optarg;
		else if (opt == 'o') out = optarg;
		else return GF_EXIT_USAGE;
	}
	if (!format || strcmp(format, "safetensors")) {
		gf_error("--format expects safetensors%s%s%s", format ? ", got '" : "", format ? format : "", format ? "'" : "");
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
	gf_out_t o;
	int ok = !gf_out_open(&o, out, err, sizeof err);
	if (ok) {
		ok = !gf_safetensors_write(o.fp, ck, err, sizeof err);
		if (!ok) gf_error("%s", err);
		if (gf_out_close(&o, ok, err, sizeof err) && ok) ok = 0, gf_error("%s", err);
	} else {
		gf_error("%s", err);
	}
	if (ok) gf_info("%s: %d tensors of %s", out, ck->n_tensors, model);
	rf_ckpt_free(ck);
	return ok ? GF_EXIT_OK : GF_EXIT_ERROR;
}
