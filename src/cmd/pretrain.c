/* genoformer pretrain: masked-LM pre-training on unlabelled genomes; the
 * model it writes starts `train --init`. The training is src/trainer. */
#include <stdio.h>
#include <stdlib.h>

#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/opts.h"
#include "src/trainer.h"

enum { N_USES = GF_TRAIN_USES + 1 };

static void uses(gf_train_opts_t *o, gf_optuse_t *use)
{
	gf_train_uses(o, use);
	use[N_USES - 1] = (gf_optuse_t){ .g = &gf_group_verbosity };
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer pretrain -o MODEL.gfm [options] GENOME...\n"
	"Pre-trains the model as a masked language model on windows of the genomes (FASTA/FASTQ,\n"
	"SAM/BAM/CRAM): 15% of the k-mer tokens are chosen; 80% of those become [MASK], 10% a\n"
	"random k-mer, 10% stay. With the default stride = k the tokens do not overlap, so a masked\n"
	"k-mer cannot be read off its neighbours. `genoformer train --init MODEL.gfm` fine-tunes it.\n"
	"With short records (median up to 20 kbp) the window, the body and the schedule left out are\n"
	"set from the data and printed ('settings from the data'), and whole records validate.\n\n",
	gf_train_exit_status,
};

int cmd_pretrain(int argc, char *argv[])
{
	gf_train_opts_t o;
	gf_optuse_t use[N_USES];
	if (gf_train_opts_init(&o, GF_TASK_MLM, argc, argv)) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	uses(&o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc < 0) rc = gf_train_check_opts(&o, argc, argv) ? GF_EXIT_USAGE : gf_train_run(&o);
	gf_train_opts_free(&o);
	return rc;
}
