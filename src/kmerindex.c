/* The exact k-mer index; see kmerindex.h. */
#include "src/kmerindex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"

/* k-mers looked up together (lookup_block) */
#define KX_BLOCK 64
/* buckets by the top 20 bits: 4 MB, a few entries each */
#define KX_SHIFT 12

static const char VLQ[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* splitmix64's finaliser: invertible, so distinct k-mers get distinct hashes. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int base_code(char c)
{
	switch (c) {
	case 'A': case 'a': return 0;
	case 'C': case 'c': return 1;
	case 'G': case 'g': return 2;
	case 'T': case 't': return 3;
	default: return -1;
	}
}

/* The rolling 2-bit codes of both strands; run: bases of A, C, G, T in a row. */
typedef struct {
	uint64_t fwd, rev, mask;
	int shift;
	size_t run;
} roll_t;

static void roll_init(roll_t *r, int k)
{
	*r = (roll_t){ .mask = k < 32 ? (1ULL << (2 * k)) - 1 : ~0ULL, .shift = 2 * (k - 1) };
}

/* Adds base c; the hash of the canonical k-mer ending at it, or 0 with
 * *ok 0 when none does (the run is shorter than k). */
static uint64_t roll(roll_t *r, char c, int k, int *ok)
{
	int b = base_code(c);
	if (b < 0) {
		r->run = 0;
		return *ok = 0, 0;
	}
	r->fwd = ((r->fwd << 2) | (uint64_t)b) & r->mask;
	r->rev = (r->rev >> 2) | ((uint64_t)(3 - b) << r->shift);
	if (++r->run < (size_t)k) return *ok = 0, 0;
	*ok = 1;
	return mix64(r->fwd < r->rev ? r->fwd : r->rev);
}

size_t gf_kx_minimizers(const char *seq, size_t len, int k, int w, void (*fn)(void *ctx, uint64_t h), void *ctx)
{
	uint64_t buf[256];
	size_t n_out = 0, kidx = 0, min_at = 0;
	uint64_t cur = UINT64_MAX;
	int emitted = 0, ok;
	roll_t r;
	if (w < 1 || w > 256) return 0;
	roll_init(&r, k);
	for (size_t i = 0; i < len; i++) {
		uint64_t h = roll(&r, seq[i], k, &ok);
		if (!ok) {
			if (!r.run) kidx = 0, cur = UINT64_MAX, emitted = 0;
			continue;
		}
		size_t j = kidx++;
		buf[j % (size_t)w] = h;
		if (h <= cur) {
			cur = h, min_at = j, emitted = 0;
		} else if (j >= (size_t)w && min_at <= j - (size_t)w) {
			/* the minimum left the window: the rightmost smallest of the window */
			cur = UINT64_MAX;
			for (size_t t = j + 1 - (size_t)w; t <= j; t++)
				if (buf[t % (size_t)w] <= cur) cur = buf[t % (size_t)w], min_at = t;
			emitted = 0;
		}
		if (j + 1 >= (size_t)w && !emitted) {
			fn(ctx, cur);
			n_out++;
			emitted = 1;
		}
	}
	return n_out;
}

typedef struct {
	uint64_t *v;
	size_t n, cap;
	uint16_t code;
	int oom;
} collect_t;

static void collect(void *ctx, uint64_t h)
{
	collect_t *c = ctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1 << 16;
		uint64_t *v = c->oom ? NULL : realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->oom = 1;
			return;
		}
		c->v = v, c->cap = cap;
	}
	c->v[c->n++] = (uint64_t)(uint32_t)h << 16 | c->code;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static gf_kx_t *kx_alloc(int n_classes, size_t n)
{
	gf_kx_t *kx = calloc(1, sizeof *kx);
	if (!kx) return NULL;
	kx->k = GF_KX_K, kx->w = GF_KX_W, kx->min_hits = GF_KX_MIN_HITS, kx->min_frac = (float)GF_KX_MIN_FRAC;
	kx->n_classes = n_classes;
	kx->weight = n_classes > 1 ? (float)log((1.0 - GF_KX_EPS) * (n_classes - 1) / GF_KX_EPS) : 0.0f;
	kx->n = n;
	kx->fp = malloc((n ? n : 1) * sizeof *kx->fp);
	kx->code = malloc((n ? n : 1) * sizeof *kx->code);
	kx->bucket = malloc(((1u << (32 - KX_SHIFT)) + 1) * sizeof *kx->bucket);
	if (!kx->fp || !kx->code || !kx->bucket) {
		gf_kx_free(kx);
		return NULL;
	}
	return kx;
}

/* bucket[b] = the first entry whose fingerprint's top bits (>> KX_SHIFT) are >= b. */
static void fill_buckets(gf_kx_t *kx)
{
	size_t i = 0;
	for (uint32_t b = 0; b <= 1u << (32 - KX_SHIFT); b++) {
		while (i < kx->n && kx->fp[i] >> KX_SHIFT < b) i++;
		kx->bucket[b] = (uint32_t)i;
	}
}

gf_kx_t *gf_kx_build(const gf_kx_rec_t *rec, size_t n, int n_classes, int background)
{
	if (n_classes < 1 || n_classes > 65535) return NULL;
	collect_t c = { 0 };
	for (size_t i = 0; i < n && !c.oom; i++) {
		if (rec[i].cls < 0 || rec[i].cls >= n_classes) continue;
		c.code = (uint16_t)(rec[i].cls + 1);
		gf_kx_minimizers(rec[i].seq, rec[i].len, GF_KX_K, GF_KX_W, collect, &c);
	}
	if (c.oom) {
		free(c.v);
		return NULL;
	}
	qsort(c.v, c.n, sizeof *c.v, cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < c.n;) {
		size_t j = i;
		while (j < c.n && c.v[j] >> 16 == c.v[i] >> 16) j++;
		/* sorted by code within one fingerprint: one class when the ends agree */
		uint64_t code = (c.v[i] & 0xffff) == (c.v[j - 1] & 0xffff) ? c.v[i] & 0xffff : 0;
		if (code != (uint64_t)background + 1) c.v[u++] = (c.v[i] >> 16) << 16 | code;
		i = j;
	}
	gf_kx_t *kx = kx_alloc(n_classes, u);
	for (size_t i = 0; kx && i < u; i++) {
		kx->fp[i] = (uint32_t)(c.v[i] >> 16);
		kx->code[i] = (uint16_t)(c.v[i] & 0xffff);
	}
	free(c.v);
	if (kx) fill_buckets(kx);
	return kx;
}

void gf_kx_free(gf_kx_t *kx)
{
	if (!kx) return;
	free(kx->fp);
	free(kx->code);
	free(kx->bucket);
	free(kx);
}

/* Looks up n fingerprints into cnt: the bucket bounds of all of them are
 * loaded first, then their first entries, then searched, so that the
 * cache misses of a block overlap instead of following one another. */
static void lookup_block(const gf_kx_t *kx, const uint32_t *f, int n, gf_kx_count_t *cnt)
{
	uint32_t lo[KX_BLOCK], hi[KX_BLOCK];
	for (int i = 0; i < n; i++) __builtin_prefetch(&kx->bucket[f[i] >> KX_SHIFT]);
	for (int i = 0; i < n; i++) {
		lo[i] = kx->bucket[f[i] >> KX_SHIFT], hi[i] = kx->bucket[(f[i] >> KX_SHIFT) + 1];
		__builtin_prefetch(&kx->fp[lo[i] + (hi[i] - lo[i]) / 2]);
	}
	for (int i = 0; i < n; i++) {
		uint32_t a = lo[i], b = hi[i];
		while (a < b) {
			uint32_t mid = a + (b - a) / 2;
			if (kx->fp[mid] < f[i]) a = mid + 1;
			else b = mid;
		}
		if (a == hi[i] || kx->fp[a] != f[i]) continue;
		if (kx->code[a]) cnt->hits[kx->code[a] - 1]++;
		else cnt->shared++;
	}
}

void gf_kx_count(const gf_kx_t *kx, const char *seq, size_t len, gf_kx_count_t *cnt)
{
	cnt->kmers = cnt->shared = 0;
	memset(cnt->hits, 0, (size_t)kx->n_classes * sizeof *cnt->hits);
	roll_t r;
	uint32_t f[KX_BLOCK];
	int ok, n = 0;
	roll_init(&r, kx->k);
	for (size_t i = 0; i < len; i++) {
		uint64_t h = roll(&r, seq[i], kx->k, &ok);
		if (!ok) continue;
		f[n++] = (uint32_t)h;
		if (n == KX_BLOCK) lookup_block(kx, f, n, cnt), n = 0;
		cnt->kmers++;
	}
	lookup_block(kx, f, n, cnt);
}

int gf_kx_apply(const gf_kx_t *kx, const gf_kx_count_t *cnt, float *logits)
{
	int best = -1;
	const double floor = kx->min_frac * (double)cnt->kmers * 2.0 / (kx->w + 1);
	for (int c = 0; c < kx->n_classes; c++) {
		if (cnt->hits[c] < (uint32_t)kx->min_hits || cnt->hits[c] < floor) continue;
		if (logits) logits[c] += kx->weight * (float)cnt->hits[c];
		if (best < 0 || cnt->hits[c] > cnt->hits[best]) best = c;
	}
	return best;
}

/* Base-64 VLQ: 5 bits per character, low bits first, bit 5 set on all but the last. */
static void put_vlq(FILE *fp, uint64_t v)
{
	do {
		int d = (int)(v & 31);
		v >>= 5;
		putc(VLQ[d | (v ? 32 : 0)], fp);
	} while (v);
}

static int get_vlq(const char **p, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 5) {
		const char *at = **p ? strchr(VLQ, **p) : NULL;
		if (!at) return -1;
		(*p)++;
		int d = (int)(at - VLQ);
		*v |= (uint64_t)(d & 31) << shift;
		if (!(d & 32)) return 0;
	}
	return -1;
}

char *gf_kx_format(const gf_kx_t *kx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp) return NULL;
	size_t *per = calloc((size_t)kx->n_classes + 1, sizeof *per);
	if (!per) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < kx->n; i++) per[kx->code[i]]++;
	fprintf(fp, "k=%d w=%d min_hits=%d min_frac=%g weight=%.9g entries=%zu shared=%zu\n", kx->k, kx->w,
	        kx->min_hits, (double)kx->min_frac, (double)kx->weight, kx->n, per[0]);
	for (int c = 0; c < kx->n_classes; c++) fprintf(fp, "%s%zu", c ? " " : "", per[c + 1]);
	putc('\n', fp);
	free(per);
	const uint64_t codes = (uint64_t)kx->n_classes + 1;
	for (size_t i = 0; i < kx->n; i++) {
		uint64_t delta = i ? (uint64_t)(kx->fp[i] - kx->fp[i - 1] - 1) : kx->fp[0];
		put_vlq(fp, delta * codes + kx->code[i]);
	}
	if (fclose(fp)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void gf_kx_summary(const char *text, char *buf, size_t len)
{
	size_t n = strcspn(text, "\n"), m = text[n] ? strcspn(text + n + 1, "\n") : 0;
	snprintf(buf, len, "%.*s per_class=%.*s", (int)n, text, (int)m, text + n + (m > 0));
	for (char *p = buf + n; *p; p++)
		if (*p == ' ' && p > buf + n) *p = ',';
}

gf_kx_t *gf_kx_parse(const char *text, int n_classes, char *err, size_t errlen)
{
	int k, w, min_hits, used;
	float weight, min_frac;
	size_t n, shared;
	if (sscanf(text, "k=%d w=%d min_hits=%d min_frac=%g weight=%g entries=%zu shared=%zu%n", &k, &w, &min_hits,
	           &min_frac, &weight, &n, &shared, &used) != 7 || k < 1 || k > 32 || w < 1 || w > 256 || min_hits < 1 ||
	    !(min_frac >= 0 && min_frac <= 1) || !isfinite(weight) ||
	    text[used] != '\n' || n > strlen(text) || n_classes < 1 || n_classes > 65535) {
		snprintf(err, errlen, "metadata %s: bad first line", GF_KX_META);
		return NULL;
	}
	const char *p = strchr(text + used + 1, '\n');
	gf_kx_t *kx = p ? kx_alloc(n_classes, n) : NULL;
	if (!kx) {
		snprintf(err, errlen, p ? "out of memory for the k-mer index" : "metadata %s: no class line", GF_KX_META);
		return NULL;
	}
	kx->k = k, kx->w = w, kx->min_hits = min_hits, kx->min_frac = min_frac, kx->weight = weight;
	p++;
	const uint64_t codes = (uint64_t)n_classes + 1;
	uint64_t at = 0, v;
	for (size_t i = 0; i < n; i++) {
		if (get_vlq(&p, &v) || (at += v / codes + (i > 0)) > UINT32_MAX) {
			snprintf(err, errlen, "metadata %s: entry %zu of %zu is malformed", GF_KX_META, i + 1, n);
			gf_kx_free(kx);
			return NULL;
		}
		kx->fp[i] = (uint32_t)at;
		kx->code[i] = (uint16_t)(v % codes);
	}
	if (*p) {
		snprintf(err, errlen, "metadata %s: text after entry %zu", GF_KX_META, n);
		gf_kx_free(kx);
		return NULL;
	}
	fill_buckets(kx);
	return kx;
}

gf_kx_t *gf_kx_of_dataset(const gf_dataset_t *ds, int background, int train_part)
{
	gf_kx_rec_t *rec = malloc((ds->n + 1) * sizeof *rec);
	for (size_t i = 0; rec && i < ds->n; i++)
		rec[i] = (gf_kx_rec_t){ ds->rec[i].seq, train_part ? ds->rec[i].split : ds->rec[i].len, ds->rec[i].cls };
	gf_kx_t *kx = rec ? gf_kx_build(rec, ds->n, ds->n_classes, background) : NULL;
	free(rec);
	return kx;
}

int gf_kx_store(rf_ckpt_meta_t *meta, const gf_kx_t *kx, char *msg, size_t msglen)
{
	char s[256];
	char *text = gf_kx_format(kx);
	int rc = -1;
	if (!text) snprintf(msg, msglen, "out of memory for the k-mer index");
	else if (!rf_ckpt_meta_set(meta, GF_KX_META, text, msg, msglen)) {
		gf_kx_summary(text, s, sizeof s);
		snprintf(msg, msglen, "(%s), %.1f MB", s, (double)strlen(text) / 1e6);
		rc = 0;
	}
	free(text);
	return rc;
}
