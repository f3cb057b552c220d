/* Early stopping with the best parameters kept; see earlystop.h. */
#include "src/earlystop.h"

#include <math.h>
#include <stdlib.h>

#include "src/log.h"

void gf_es_init(gf_es_t *es, int patience)
{
	es->patience = patience;
	es->best = INFINITY;
	es->best_step = 0;
	es->since = 0;
	es->params = NULL;
}

void gf_es_free(gf_es_t *es)
{
	free(es->params);
	es->params = NULL;
}

int gf_es_update(gf_es_t *es, rf_model_t *m, uint64_t step, double vloss)
{
	if (!es->patience || isnan(vloss)) return 0;
	if (vloss < es->best) {
		if (!es->params && !(es->params = malloc(rf_model_n_params(m) * sizeof *es->params))) {
			gf_error("out of memory for the best parameters");
			return -1;
		}
		rf_model_get_params(m, es->params);
		es->best = vloss;
		es->best_step = step;
		es->since = 0;
		return 0;
	}
	return ++es->since >= es->patience;
}

uint64_t gf_es_swap(gf_es_t *es, rf_model_t *m, uint64_t step)
{
	size_t n = rf_model_n_params(m);
	float *cur = es->params && es->best_step != step ? malloc(n * sizeof *cur) : NULL;
	if (!cur) return 0;
	rf_model_get_params(m, cur);
	rf_model_set_params(m, es->params);
	free(es->params);
	es->params = cur;
	return es->best_step;
}
