/* safetensors export; see safetensors.h. */
#include "src/common.h"
#include "src/safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"
#include "src/kmerindex.h"

typedef struct {
	char *s;
	size_t n, cap;
	int oom;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
	if (b->oom) return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = 2 * (b->n + n + 1) + 256;
		char *q = realloc(b->s, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->s = q;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void puts_(buf_t *b, const char *s)
{
	put(b, s, strlen(s));
}

/* s as a JSON string. */
static void put_json(buf_t *b, const char *s)
{
	char u[8];
	puts_(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put(b, "\\", 1);
			put(b, s, 1);
		} else if (c < 0x20) {
			snprintf(u, sizeof u, "\\u%04x", c);
			puts_(b, u);
		} else {
			put(b, s, 1);
		}
	}
	puts_(b, "\"");
}

static void put_meta(buf_t *b, const char *key, const char *val)
{
	puts_(b, ",");
	put_json(b, key);
	puts_(b, ":");
	put_json(b, val);
}

static void put_meta_int(buf_t *b, const char *key, long v)
{
	char s[32];
	snprintf(s, sizeof s, "%ld", v);
	put_meta(b, key, s);
}

static void put_config(buf_t *b, const rf_config_t *c)
{
	char s[4 * RF_MAX_LAYERS + 32];
	size_t n = 0;
	put_meta_int(b, "cfg.vocab", c->vocab);
	put_meta_int(b, "cfg.d_model", c->d_model);
	put_meta_int(b, "cfg.n_heads", c->n_heads);
	put_meta_int(b, "cfg.d_ff", c->d_ff);
	put_meta_int(b, "cfg.n_layers", c->n_layers);
	for (int i = 0; i < c->n_layers; i++) n += snprintf(s + n, sizeof s - n, "%s%d", i ? "," : "", c->layer_kind[i]);
	put_meta(b, "cfg.layer_kind", s);
	put_meta_int(b, "cfg.n_hashes", c->n_hashes);
	put_meta_int(b, "cfg.n_buckets", c->n_buckets);
	put_meta_int(b, "cfg.chunk_len", c->chunk_len);
	put_meta_int(b, "cfg.n_before", c->n_before);
	put_meta_int(b, "cfg.n_after", c->n_after);
	put_meta_int(b, "cfg.ff_chunk", c->ff_chunk);
	put_meta_int(b, "cfg.axial1", c->axial1);
	put_meta_int(b, "cfg.axial2", c->axial2);
	put_meta_int(b, "cfg.axial_d1", c->axial_d1);
	put_meta_int(b, "cfg.causal", c->causal);
	snprintf(s, sizeof s, "%.9g", (double)c->dropout);
	put_meta(b, "cfg.dropout", s);
	put_meta_int(b, "cfg.n_classes", c->n_classes);
	put_meta_int(b, "cfg.mlm", c->mlm);
}

int gf_safetensors_write(FILE *fp, const rf_ckpt_t *ck, char *err, size_t errlen)
{
	buf_t b = { 0 };
	char s[64];
	puts_(&b, "{\"__metadata__\":{\"format\":\"pt\"");
	put_config(&b, &ck->cfg);
	for (int i = 0; i < ck->meta.n; i++) {
		/* the k-mer index is data for classify, megabytes of it, not the Reformer's */
		if (!strcmp(ck->meta.key[i], GF_KX_META)) continue;
		char key[300];
		snprintf(key, sizeof key, "gfm.%s", ck->meta.key[i]);
		put_meta(&b, key, ck->meta.val[i]);
	}
	puts_(&b, "}");
	uint64_t off = 0;
	for (int i = 0; i < ck->n_tensors; i++) {
		const rf_ckpt_tensor_t *t = &ck->tensors[i];
		puts_(&b, ",");
		put_json(&b, t->name);
		puts_(&b, ":{\"dtype\":\"F32\",\"shape\":[");
		for (int d = 0; d < t->ndim; d++) {
			snprintf(s, sizeof s, "%s%lld", d ? "," : "", (long long)t->shape[d]);
			puts_(&b, s);
		}
		uint64_t end = off + rf_ckpt_numel(t) * sizeof(float);
		snprintf(s, sizeof s, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)end);
		puts_(&b, s);
		off = end;
	}
	puts_(&b, "}");
	while (!b.oom && b.n % 8) puts_(&b, " ");
	if (b.oom) {
		free(b.s);
		return rf_fail(err, errlen, "out of memory for the safetensors header");
	}
	unsigned char len[8];
	for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)b.n >> (8 * i));
	fwrite(len, 1, 8, fp);
	fwrite(b.s, 1, b.n, fp);
	free(b.s);
	for (int i = 0; i < ck->n_tensors; i++)
		fwrite(ck->tensors[i].data, sizeof(float), rf_ckpt_numel(&ck->tensors[i]), fp);
	return 0;
}
