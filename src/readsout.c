/* Reads and alignments out by call; see readsout.h. */
#include "src/common.h"
#include "src/readsout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <htslib/hfile.h>

#include "model/atomicfile.h"
#include "model/util.h"
#include "src/log.h"
#include "src/ostream.h"

int gf_seqout_open(gf_seqout_t *o, const char *path, int paired, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->fastq = -1;
	const char *hash = strchr(path, '#');
	if (paired && !hash)
		return rf_fail(err, errlen, "%s: with --paired a reads output needs a '#' in its name (reads#.fq: reads_1.fq "
		               "and reads_2.fq)", path);
	o->n_files = paired ? 2 : 1;
	for (int i = 0; i < o->n_files; i++) {
		size_t n = strlen(path) + 2;
		if (!(o->path[i] = malloc(n))) {
			gf_seqout_close(o, 0, NULL, 0);
			return rf_fail(err, errlen, "%s: out of memory", path);
		}
		if (paired) snprintf(o->path[i], n, "%.*s_%d%s", (int)(hash - path), path, i + 1, hash + 1);
		else snprintf(o->path[i], n, "%s", path);
		if (gf_out_open(&o->out[i], o->path[i], err, errlen)) {
			free(o->path[i]);
			o->path[i] = NULL;
			gf_seqout_close(o, 0, NULL, 0);
			return -1;
		}
	}
	return 0;
}

int gf_seqout_write(gf_seqout_t *o, int mate, const char *name, const char *seq, const char *qual, uint32_t taxid,
                    char *err, size_t errlen)
{
	if (mate < 0 && o->n_files == 2)
		return rf_fail(err, errlen, "%s: read '%s' has no mate (unpaired in a SAM/BAM/CRAM file): paired reads outputs "
		               "hold pairs only", o->path[0], name);
	const char *path = o->path[mate > 0];
	if (o->fastq < 0) o->fastq = qual != NULL;
	if (o->fastq && !qual)
		return rf_fail(err, errlen, "%s: record '%s' has no base qualities, the records before it had (FASTA and "
		               "FASTQ inputs cannot share one reads output)", path, name);
	FILE *fp = o->out[mate > 0].fp;
	fprintf(fp, "%c%s kraken:taxid|%u\n%s\n", o->fastq ? '@' : '>', name, taxid, seq);
	if (o->fastq) fprintf(fp, "+\n%s\n", qual);
	return 0;
}

int gf_seqout_close(gf_seqout_t *o, int ok, char *err, size_t errlen)
{
	int rc = 0;
	for (int i = 0; i < o->n_files; i++) {
		if (o->path[i] && gf_out_close(&o->out[i], ok && rc == 0, err, errlen)) rc = -1;
		free(o->path[i]);
		o->path[i] = NULL;
	}
	return rc;
}

/* htslib writes through a duplicate of the output policy's descriptor, so
 * a BAM output is placed like every other output: temporary + rename for a
 * regular file, in place for "-", a device or a FIFO. */
struct gf_bamout {
	samFile *fp;
	sam_hdr_t *hdr;
	rf_afile_t *af;
	char *path;
	int failed;
};

static void bamout_free(gf_bamout_t *o)
{
	if (o->hdr) sam_hdr_destroy(o->hdr);
	rf_afile_abort(o->af);
	free(o->path);
	free(o);
}

gf_bamout_t *gf_bamout_open(const char *path, const char *in_path, const char *cmdline, char *err, size_t errlen)
{
	gf_bamout_t *o = calloc(1, sizeof *o);
	if (!o || !(o->path = strdup(path))) {
		rf_fail(err, errlen, "%s: out of memory", path);
		free(o);
		return NULL;
	}
	samFile *in = sam_open(in_path, "r");
	if (!in || !(o->hdr = sam_hdr_read(in))) {
		rf_fail(err, errlen, "%s: cannot read its SAM/BAM/CRAM header for --bam-out", in_path);
		if (in) sam_close(in);
		bamout_free(o);
		return NULL;
	}
	sam_close(in);
	if (!(o->af = rf_afile_open(path, err, errlen))) {
		bamout_free(o);
		return NULL;
	}
	size_t len = strlen(path);
	const char *mode = len > 4 && !strcmp(path + len - 4, ".sam") ? "w" : "wb";
	int fd = dup(rf_afile_fd(o->af));
	hFILE *h = fd < 0 ? NULL : hdopen(fd, "w");
	if (!h && fd >= 0) close(fd);
	errno = 0;
	if (!h || sam_hdr_add_pg(o->hdr, "genoformer", "VN", GF_VERSION, "CL", cmdline, NULL) ||
	    !(o->fp = hts_hopen(h, path, mode)) || sam_hdr_write(o->fp, o->hdr)) {
		rf_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
		if (o->fp) sam_close(o->fp);
		else if (h) hclose_abruptly(h);
		bamout_free(o);
		return NULL;
	}
	return o;
}

int gf_bamout_write(gf_bamout_t *o, const bam1_t *aln, const char *cls, float prob, uint32_t taxid, char *err,
                    size_t errlen)
{
	bam1_t *b = bam_dup1(aln);
	static const char tags[3][2] = { "gc", "gp", "gx" };
	int bad = !b;
	for (int i = 0; !bad && i < 3; i++) {
		uint8_t *t = bam_aux_get(b, tags[i]);
		if (t) bad = bam_aux_del(b, t) != 0;
	}
	bad = bad || bam_aux_update_str(b, "gc", -1, cls) || bam_aux_update_float(b, "gp", prob) ||
	      bam_aux_update_int(b, "gx", taxid) || sam_write1(o->fp, o->hdr, b) < 0;
	if (b) bam_destroy1(b);
	if (bad) {
		o->failed = 1;
		return rf_fail(err, errlen, "%s: writing alignment '%s' failed", o->path, bam_get_qname(aln));
	}
	return 0;
}

int gf_bamout_close(gf_bamout_t *o, int ok, char *err, size_t errlen)
{
	int rc = 0;
	if (sam_close(o->fp) < 0 || o->failed) rc = ok ? rf_fail(err, errlen, "%s: write failed", o->path) : -1;
	if (ok && rc == 0) {
		rf_afile_t *af = o->af;
		o->af = NULL;
		rc = rf_afile_commit(af, err, errlen);
	}
	bamout_free(o);
	return ok ? rc : 0;
}
