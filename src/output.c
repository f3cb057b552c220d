/* Output through model/atomicfile's policy, or to stdout; see output.h. */
#include "src/output.h"

int gf_out_open(gf_out_t *o, const char *path, char *err, size_t errlen)
{
	o->fp = NULL;
	if (!(o->af = rf_afile_open(path ? path : "-", err, errlen))) return -1;
	o->fp = rf_afile_fp(o->af);
	return 0;
}

int gf_out_close(gf_out_t *o, int ok, char *err, size_t errlen)
{
	rf_afile_t *af = o->af;
	o->af = NULL;
	o->fp = NULL;
	if (!ok) {
		rf_afile_abort(af);
		return 0;
	}
	return rf_afile_commit(af, err, errlen);
}
