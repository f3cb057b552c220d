/* The option groups the commands share, each declared once (src/optgroups.c)
 * as a table of src/opts.h: input, compute, architecture, optimisation,
 * output and verbosity. A command embeds the groups' structs in its own,
 * fills them with the group's initialiser (then its own defaults, when they
 * differ) and lists the groups in its gf_optuse_t array; the usage shows the
 * initialised values as defaults.
 *
 * The same option has the same spelling, bounds and meaning wherever it is
 * taken: -t/-@/--threads are compute threads, --hts-threads htslib's
 * decompression threads, --device cpu|cuda|cuda:N|auto. */
#ifndef GF_OPTGROUPS_H
#define GF_OPTGROUPS_H

#include <stdint.h>

#include "genomics/seqio.h"
#include "model/backend.h"
#include "src/opts.h"

/* Bounds shared by every command. */
#define GF_THREADS_MAX 4096
#define GF_BATCH_MAX 65536

/* Input: which records of the inputs are read, and how. */
typedef struct {
	uint64_t given;
	gf_seqio_opts_t io;       /* io.regions points at regions after gf_input_finish */
	const char **regions;     /* room for argc entries, filled by -r */
	int n_regions;
} gf_input_opts_t;
extern const gf_optgroup_t gf_group_input;
enum { GF_IN_REGION, GF_IN_HTS_THREADS, GF_IN_AS_STORED, GF_IN_KEEP_SEC, GF_IN_KEEP_SUPP, GF_IN_KEEP_QCFAIL,
       GF_IN_SKIP_UNMAPPED, GF_IN_REFERENCE };
/* -1 when out of memory. */
int gf_input_init(gf_input_opts_t *in, int argc);
/* Points io at the regions; call after parsing. */
void gf_input_finish(gf_input_opts_t *in);
void gf_input_free(gf_input_opts_t *in);

/* Compute: threads, device and batch. */
typedef struct {
	uint64_t given;
	int threads;              /* 0: OpenMP's default (all cores or OMP_NUM_THREADS) */
	const char *device;       /* cpu, cuda, cuda:N, auto */
	int batch;                /* windows per forward pass (or per micro-batch) */
} gf_compute_opts_t;
extern const gf_optgroup_t gf_group_compute;
enum { GF_CO_THREADS, GF_CO_DEVICE, GF_CO_BATCH };
/* threads 0, device auto, batch 8. */
void gf_compute_init(gf_compute_opts_t *c);
/* Sets the CPU threads and picks the device's backend (saying so when auto
 * falls back to cpu). NULL after a message. */
const rf_backend_t *gf_compute_backend(const gf_compute_opts_t *c);

/* Architecture: the tokenizer and the model's shape. */
typedef struct {
	uint64_t given;
	int k, stride, window;    /* stride 0: k */
	int layers, d_model, heads, d_ff, hashes, buckets, chunk, ff_chunk;
	const char *attn;
	float dropout;
} gf_arch_opts_t;
extern const gf_optgroup_t gf_group_arch;
enum { GF_AR_K, GF_AR_STRIDE, GF_AR_WINDOW, GF_AR_LAYERS, GF_AR_D_MODEL, GF_AR_HEADS, GF_AR_D_FF, GF_AR_ATTN,
       GF_AR_HASHES, GF_AR_BUCKETS, GF_AR_CHUNK, GF_AR_FF_CHUNK, GF_AR_DROPOUT };
/* The defaults of a new model: k 6, stride k, window 1024, 4 layers of
 * local,lsh, d_model 128, 4 heads, d_ff 512, 4 hashes, automatic buckets,
 * chunk 64, ff_chunk 1024, dropout 0.1. */
void gf_arch_init(gf_arch_opts_t *a);

/* Optimisation: AdamW and its schedule. */
typedef struct {
	uint64_t given;
	float lr, weight_decay, clip;
	int64_t steps;
	double epochs;            /* 0: none */
	int accum, warmup;
	int64_t seed;
} gf_optim_opts_t;
extern const gf_optgroup_t gf_group_optim;
enum { GF_OP_LR, GF_OP_STEPS, GF_OP_EPOCHS, GF_OP_ACCUM, GF_OP_WARMUP, GF_OP_WD, GF_OP_CLIP, GF_OP_SEED };
/* lr 1e-3, 1000 steps, accum 1, 100 warm-up steps, weight decay 0.01,
 * clip 1, seed 1. */
void gf_optim_init(gf_optim_opts_t *o);

/* Output: -o FILE (what the file is, each command says in its help). */
typedef struct {
	uint64_t given;
	const char *path;         /* NULL: stdout, or required */
} gf_output_opts_t;
extern const gf_optgroup_t gf_group_output;
/* The same where -o is required (the command checks it was given). */
extern const gf_optgroup_t gf_group_output_required;

/* Verbosity and help: -q, -v, -h (no struct). */
extern const gf_optgroup_t gf_group_verbosity;

#endif
