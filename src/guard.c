/* Training guard rails; see guard.h. */
#include "src/common.h"
#include "src/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"

typedef struct {
	const char *key, *opt;
	double v;
} setting_t;

static int settings(const gf_hparams_t *h, setting_t *s)
{
	const setting_t all[] = { { "optim.lr", "--lr", h->lr }, { "optim.steps", "--steps", (double)h->steps },
		                      { "optim.warmup", "--warmup", (double)h->warmup }, { "optim.batch", "--batch", (double)h->batch },
		                      { "optim.accum", "--accum", (double)h->accum },
		                      { "optim.weight_decay", "--weight-decay", h->weight_decay },
		                      { "optim.clip", "--clip", h->clip } };
	memcpy(s, all, sizeof all);
	return (int)(sizeof all / sizeof *all);
}

int gf_guard_hparams(rf_ckpt_meta_t *meta, const gf_hparams_t *h, int resumed, int override, char *err, size_t errlen)
{
	setting_t s[8];
	char diff[1024] = "", v[32];
	size_t len = 0;
	int n = settings(h, s);
	for (int i = 0; resumed && i < n; i++) {
		const char *old = rf_ckpt_meta_get(meta, s[i].key);
		snprintf(v, sizeof v, "%.7g", s[i].v);
		if (old && strcmp(old, v) && len < sizeof diff)
			len += snprintf(diff + len, sizeof diff - len, "%s%s %s in the checkpoint, %s now", len ? "; " : "", s[i].opt,
			                old, v);
	}
	if (len && !override)
		return rf_fail(err, errlen, "--resume: %s (repeat the checkpoint's settings, or --override-hparams to change "
		               "them)", diff);
	if (len && rf_ckpt_meta_set(meta, "resumed.overrides", diff, err, errlen)) return -1;
	for (int i = 0; i < n; i++) {
		snprintf(v, sizeof v, "%.7g", s[i].v);
		if (rf_ckpt_meta_set(meta, s[i].key, v, err, errlen)) return -1;
	}
	return 0;
}
