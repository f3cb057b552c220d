/* genoformer pretrain: masked-LM pre-training on unlabelled genomes; the
 * model it writes starts `train --init`. The loop is src/trainer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/opts.h"
#include "src/trainer.h"

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer pretrain -o MODEL.gfm [options] GENOME...\n"
	        "Pre-trains the model as a masked language model on windows of the genomes (FASTA/FASTQ,\n"
	        "SAM/BAM/CRAM): 15%% of the k-mer tokens are chosen; 80%% of those become [MASK], 10%% a\n"
	        "random k-mer, 10%% stay. With the default stride = k the tokens do not overlap, so a masked\n"
	        "k-mer cannot be read off its neighbours. `genoformer train --init MODEL.gfm` fine-tunes it.\n\n");
	gf_train_usage_common(fp, GF_TASK_MLM);
}

int cmd_pretrain(int argc, char *argv[])
{
	gf_train_opts_t o;
	int c, rc = -1;
	if (gf_train_opts_init(&o, GF_TASK_MLM, argc, argv)) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	while (rc < 0 && (c = gf_getopt(argc, argv, GF_TRAIN_SHORTOPTS, gf_train_longopts)) >= 0) {
		int r = gf_train_option(&o, c, optarg);
		if (r < 0 || (r == 1 && c != 'h')) rc = GF_EXIT_USAGE;
		else if (r == 1) usage(stdout), rc = GF_EXIT_OK;
	}
	if (rc < 0) {
		for (int i = optind; i < argc; i++) o.inputs[o.n_inputs++] = argv[i];
		rc = gf_train_check_opts(&o) ? GF_EXIT_USAGE : gf_train_run(&o);
	}
	gf_train_opts_free(&o);
	return rc;
}
