/* Model configuration: one struct, validated in one place. */
#ifndef RF_CONFIG_H
#define RF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define RF_MAX_LAYERS 64

typedef struct {
	int vocab;            /* tokens, specials included */
	int d_model;          /* D: width of each of the two residual streams */
	int n_heads;          /* H; d_model % n_heads == 0 */
	int d_ff;             /* feed-forward inner width */
	int n_layers;
	int layer_kind[RF_MAX_LAYERS]; /* enum rf_attn_kind per layer */
	int n_hashes;         /* LSH rounds */
	int n_buckets;        /* LSH buckets; 0 = automatic from the length (rf_lsh_buckets) */
	int chunk_len;        /* LOCAL/LSH chunk length; inputs are padded to a multiple */
	int n_before, n_after;/* chunks seen before/after [1, 0] */
	int ff_chunk;         /* feed-forward chunk in tokens; 0 = whole sequence */
	int axial1, axial2;   /* axial position shape: max positions = axial1 * axial2 */
	int axial_d1;         /* features of the first axial factor; the second has d_model - axial_d1 */
	int causal;
	float dropout;        /* hidden dropout (embedding, attention out, FF hidden and out) */
	int n_classes;        /* classifier classes; 0 = no classifier head */
	int mlm;              /* 1 = masked-LM head present */
} rf_config_t;

/* Defaults: d_model 256, 4 heads, d_ff 1024, 6 layers alternating local,lsh,
 * 4 hashes, chunk 64, axial 512 x 2048 (1M positions). */
void rf_config_default(rf_config_t *c);

/* Parses "local,lsh" style lists into layer_kind, cycling the pattern over
 * n_layers. Returns 0, or -1 with a message. */
int rf_config_set_layers(rf_config_t *c, const char *pattern, char *err, size_t errlen);

/* Checks every field and every combination; 0 or -1 with a one-line message
 * naming the offending option. */
int rf_config_validate(const rf_config_t *c, char *err, size_t errlen);

/* The length the model runs at for L input tokens: L rounded up to a multiple
 * of chunk_len when any layer is LOCAL or LSH. */
int rf_config_padded_len(const rf_config_t *c, int L);

const char *rf_attn_kind_name(int kind);

/* LSH buckets for a padded length L: the configured number, or automatically
 * the power of two nearest above 2L/chunk_len (at least 2). A power of two
 * above 256 is factorised as nb1 * nb2 with nb1 = 2^floor(log2(nb)/2), so the
 * hashing cost grows with sqrt(nb) (as the reference implementations do). */
static inline void rf_lsh_buckets(int L, int chunk_len, int cfg_buckets, int *nb, int *nb1)
{
	int n = cfg_buckets;
	if (n <= 0) {
		long want = 2L * L / chunk_len;
		n = 2;
		while (n < want) n *= 2;
	}
	*nb = n;
	*nb1 = n;
	if (n > 256 && (n & (n - 1)) == 0) {
		int p = 0;
		while ((1 << p) < n) p++;
		*nb1 = 1 << (p / 2);
	}
}

#endif
