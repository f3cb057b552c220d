/* Model configuration: defaults, the "local,lsh" layer pattern, validation. */
#include "model/config.h"

#include <string.h>

#include "model/backend.h"
#include "model/util.h"

static const char *const kind_names[] = { "full", "local", "lsh" };

const char *rf_attn_kind_name(int kind)
{
	return kind >= 0 && kind <= RF_ATTN_LSH ? kind_names[kind] : "?";
}

/* Fills every one of the RF_MAX_LAYERS kinds by cycling the pattern, so the
 * pattern stays right when n_layers is changed afterwards. */
static void cycle_kinds(rf_config_t *c, const int *kinds, int n)
{
	for (int l = 0; l < RF_MAX_LAYERS; l++) c->layer_kind[l] = kinds[l % n];
}

void rf_config_default(rf_config_t *c)
{
	static const int local_lsh[2] = { RF_ATTN_LOCAL, RF_ATTN_LSH };
	memset(c, 0, sizeof *c);
	c->vocab = 4101;          /* k = 6: 4^6 k-mers and 5 specials */
	c->d_model = 256;
	c->n_heads = 4;
	c->d_ff = 1024;
	c->n_layers = 6;
	cycle_kinds(c, local_lsh, 2);
	c->n_hashes = 4;
	c->n_buckets = 0;
	c->chunk_len = 64;
	c->n_before = 1;
	c->n_after = 0;
	c->ff_chunk = 2048;
	c->axial1 = 512;
	c->axial2 = 2048;
	c->axial_d1 = 64;
	c->causal = 0;
	c->dropout = 0.1f;
	c->n_classes = 0;
	c->mlm = 0;
}

int rf_config_set_layers(rf_config_t *c, const char *pattern, char *err, size_t errlen)
{
	int kinds[RF_MAX_LAYERS], n = 0;
	const char *p = pattern;
	if (!p || !*p) return rf_fail(err, errlen, "--layer-kinds: empty pattern (use e.g. local,lsh)");
	for (;;) {
		size_t len = strcspn(p, ",");
		int k = -1;
		for (int i = 0; i <= RF_ATTN_LSH; i++)
			if (strlen(kind_names[i]) == len && strncmp(p, kind_names[i], len) == 0) k = i;
		if (k < 0)
			return rf_fail(err, errlen, "--layer-kinds '%s': unknown attention '%.*s' (full, local or lsh)",
			            pattern, (int)len, p);
		if (n == RF_MAX_LAYERS)
			return rf_fail(err, errlen, "--layer-kinds '%s': more than %d entries", pattern, RF_MAX_LAYERS);
		kinds[n++] = k;
		if (!p[len]) break;
		p += len + 1;
	}
	cycle_kinds(c, kinds, n);
	return 0;
}

static int uses_chunks(const rf_config_t *c)
{
	for (int l = 0; l < c->n_layers && l < RF_MAX_LAYERS; l++)
		if (c->layer_kind[l] != RF_ATTN_FULL) return 1;
	return 0;
}

static int uses_lsh(const rf_config_t *c)
{
	for (int l = 0; l < c->n_layers && l < RF_MAX_LAYERS; l++)
		if (c->layer_kind[l] == RF_ATTN_LSH) return 1;
	return 0;
}

int rf_config_validate(const rf_config_t *c, char *err, size_t errlen)
{
	if (c->vocab < 2) return rf_fail(err, errlen, "--vocab %d: at least 2 tokens ([PAD] and one more)", c->vocab);
	if (c->d_model < 2) return rf_fail(err, errlen, "--d-model %d: must be >= 2", c->d_model);
	if (c->n_heads < 1) return rf_fail(err, errlen, "--heads %d: must be >= 1", c->n_heads);
	if (c->d_model % c->n_heads)
		return rf_fail(err, errlen, "--heads %d does not divide --d-model %d", c->n_heads, c->d_model);
	if (c->d_ff < 1) return rf_fail(err, errlen, "--d-ff %d: must be >= 1", c->d_ff);
	if (c->n_layers < 1 || c->n_layers > RF_MAX_LAYERS)
		return rf_fail(err, errlen, "--layers %d: must be in 1..%d", c->n_layers, RF_MAX_LAYERS);
	for (int l = 0; l < c->n_layers; l++)
		if (c->layer_kind[l] < RF_ATTN_FULL || c->layer_kind[l] > RF_ATTN_LSH)
			return rf_fail(err, errlen, "--layer-kinds: layer %d has unknown kind %d", l, c->layer_kind[l]);
	if (c->chunk_len < 1) return rf_fail(err, errlen, "--chunk %d: must be >= 1", c->chunk_len);
	if (c->n_before < 0) return rf_fail(err, errlen, "--n-before %d: must be >= 0", c->n_before);
	if (c->n_after < 0) return rf_fail(err, errlen, "--n-after %d: must be >= 0", c->n_after);
	if (uses_lsh(c)) {
		if (c->n_hashes < 1) return rf_fail(err, errlen, "--hashes %d: must be >= 1", c->n_hashes);
		if (c->n_buckets != 0 && (c->n_buckets < 2 || c->n_buckets % 2 || c->n_buckets > UINT16_MAX - 1))
			return rf_fail(err, errlen, "--buckets %d: must be 0 (automatic) or even in 2..%d",
			            c->n_buckets, UINT16_MAX - 1);
	}
	if (c->ff_chunk < 0) return rf_fail(err, errlen, "--ff-chunk %d: must be >= 0 (0 = whole sequence)", c->ff_chunk);
	if (c->axial1 < 1 || c->axial2 < 1)
		return rf_fail(err, errlen, "--axial %dx%d: both factors must be >= 1", c->axial1, c->axial2);
	if ((int64_t)c->axial1 * c->axial2 > INT32_MAX)
		return rf_fail(err, errlen, "--axial %dx%d: more than 2^31 positions", c->axial1, c->axial2);
	if (c->axial_d1 < 1 || c->axial_d1 >= c->d_model)
		return rf_fail(err, errlen, "--axial-d1 %d: must be in 1..%d (--d-model %d minus 1)",
		            c->axial_d1, c->d_model - 1, c->d_model);
	if (uses_chunks(c) && c->chunk_len > (int64_t)c->axial1 * c->axial2)
		return rf_fail(err, errlen, "--chunk %d: longer than the %d positions of --axial %dx%d",
		            c->chunk_len, c->axial1 * c->axial2, c->axial1, c->axial2);
	if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
		return rf_fail(err, errlen, "--dropout %g: must be in [0, 1)", (double)c->dropout);
	if (c->n_classes < 0 || c->n_classes == 1)
		return rf_fail(err, errlen, "--classes %d: must be 0 (no classifier) or >= 2", c->n_classes);
	if (c->mlm != 0 && c->mlm != 1) return rf_fail(err, errlen, "--mlm %d: must be 0 or 1", c->mlm);
	if (c->causal != 0 && c->causal != 1) return rf_fail(err, errlen, "--causal %d: must be 0 or 1", c->causal);
	return 0;
}

int rf_config_padded_len(const rf_config_t *c, int L)
{
	if (!uses_chunks(c)) return L;
	return (L + c->chunk_len - 1) / c->chunk_len * c->chunk_len;
}
