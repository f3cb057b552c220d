/* Output through model/atomicfile's policy, or to stdout; see output.h. */
#include "src/output.h"

#include "src/ostream.h"

int gf_out_open(gf_out_t *o, const char *path, char *err, size_t errlen)
{
	o->fp = NULL;
	o->gz = NULL;
	if (!(o->af = rf_afile_open(path ? path : "-", err, errlen))) return -1;
	o->fp = rf_afile_fp(o->af);
	if (!gf_ostream_is_gz(path)) return 0;
	if (!(o->gz = gf_bgzf_out_open(o->fp, path, err, errlen))) {
		rf_afile_abort(o->af);
		return -1;
	}
	o->fp = gf_bgzf_out_fp(o->gz);
	return 0;
}

int gf_out_close(gf_out_t *o, int ok, char *err, size_t errlen)
{
	rf_afile_t *af = o->af;
	int bad = o->gz && gf_bgzf_out_close(o->gz, ok, err, errlen);
	o->af = NULL;
	o->gz = NULL;
	o->fp = NULL;
	if (!ok || bad) {
		rf_afile_abort(af);
		return bad ? -1 : 0;
	}
	return rf_afile_commit(af, err, errlen);
}
