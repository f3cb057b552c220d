/* The k-mer composition head; see kmerhead.h. */
#include "src/kmerhead.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "model/rng.h"

#define N_WORDS(k) ((size_t)1 << (2 * (k)))

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The distinct words of seq[0..len) on one strand (rc: reverse
 * complement) into w (room for len words); returns how many. tok holds len. */
static size_t words_of(const char *seq, size_t len, int k, int rc, int32_t *tok, uint32_t *w)
{
	size_t m = gf_kmer_tokenize(seq, len, k, 1, tok), n = 0;
	if (rc) {
		int32_t *t = tok + m;  /* tok holds 2 len */
		gf_kmer_revcomp_tokens(tok, m, k, t);
		tok = t;
	}
	for (size_t i = 0; i < m; i++)
		if (tok[i] >= 5) w[n++] = (uint32_t)(tok[i] - 5);
	qsort(w, n, sizeof *w, cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || w[u - 1] != w[i]) w[u++] = w[i];
	return u;
}

static gf_kh_t *kh_alloc(int k, int n_classes, size_t nnz)
{
	gf_kh_t *kh = calloc(1, sizeof *kh);
	if (!kh) return NULL;
	kh->k = k;
	kh->n_classes = n_classes;
	kh->trials = GF_KH_TRIALS;
	kh->class_n = calloc(n_classes, sizeof *kh->class_n);
	kh->ptr = calloc(N_WORDS(k) + 1, sizeof *kh->ptr);
	kh->post = malloc((nnz ? nnz : 1) * sizeof *kh->post);
	kh->weight = malloc((nnz ? nnz : 1) * sizeof *kh->weight);
	kh->lp_word = malloc(N_WORDS(k) * sizeof *kh->lp_word);
	if (!kh->class_n || !kh->ptr || !kh->post || !kh->weight || !kh->lp_word) {
		gf_kh_free(kh);
		return NULL;
	}
	return kh;
}

void gf_kh_free(gf_kh_t *kh)
{
	if (!kh) return;
	free(kh->class_n);
	free(kh->ptr);
	free(kh->post);
	free(kh->weight);
	free(kh->lp_word);
	free(kh);
}

/* log P(w) and the postings' weights log(n_c(w) + P(w)) - log P(w) from
 * the counts. */
static void word_weights(gf_kh_t *kh)
{
	for (size_t w = 0; w < N_WORDS(kh->k); w++) {
		double n = 0.5;
		for (uint32_t p = kh->ptr[w]; p < kh->ptr[w + 1]; p++) n += kh->post[p] & 0xffff;
		double pw = n / (kh->n_rec + 1.0);
		kh->lp_word[w] = (float)log(pw);
		for (uint32_t p = kh->ptr[w]; p < kh->ptr[w + 1]; p++)
			kh->weight[p] = (float)(log((kh->post[p] & 0xffff) + pw) - log(pw));
	}
}

gf_kh_t *gf_kh_fit(const gf_kh_rec_t *rec, size_t n, int n_classes)
{
	const int k = GF_KH_K;
	size_t cap = 0, nk = 0, maxlen = 0;
	for (size_t i = 0; i < n; i++) {
		if (rec[i].cls < 0 || rec[i].cls >= n_classes) continue;
		cap += rec[i].len;
		if (rec[i].len > maxlen) maxlen = rec[i].len;
	}
	/* (word, class) pairs, one per record holding the word */
	uint64_t *keys = malloc((cap ? cap : 1) * sizeof *keys);
	int32_t *tok = malloc((2 * maxlen + 1) * sizeof *tok);
	uint32_t *w = malloc((maxlen + 1) * sizeof *w), *class_n = calloc(n_classes > 0 ? n_classes : 1, sizeof *class_n);
	uint32_t n_rec = 0;
	gf_kh_t *kh = NULL;
	if (!keys || !tok || !w || !class_n) goto out;
	for (size_t i = 0; i < n; i++) {
		if (rec[i].cls < 0 || rec[i].cls >= n_classes) continue;
		size_t u = words_of(rec[i].seq, rec[i].len, k, 0, tok, w);
		for (size_t j = 0; j < u; j++) keys[nk++] = (uint64_t)w[j] << 16 | (uint64_t)rec[i].cls;
		class_n[rec[i].cls]++;
		n_rec++;
	}
	qsort(keys, nk, sizeof *keys, cmp_u64);
	size_t nnz = 0;
	for (size_t i = 0; i < nk; i++) nnz += !i || keys[i] != keys[i - 1];
	if (!(kh = kh_alloc(k, n_classes, nnz))) goto out;
	memcpy(kh->class_n, class_n, (size_t)n_classes * sizeof *class_n);
	kh->n_rec = n_rec;
	size_t p = 0;
	for (size_t i = 0; i < nk;) {
		size_t j = i;
		while (j < nk && keys[j] == keys[i]) j++;
		uint32_t word = (uint32_t)(keys[i] >> 16), cnt = j - i > 0xffff ? 0xffff : (uint32_t)(j - i);
		kh->ptr[word + 1]++;
		kh->post[p++] = (uint32_t)(keys[i] & 0xffff) << 16 | cnt;
		i = j;
	}
	for (size_t x = 0; x < N_WORDS(k); x++) kh->ptr[x + 1] += kh->ptr[x];
	word_weights(kh);
out:
	free(keys);
	free(tok);
	free(w);
	free(class_n);
	return kh;
}

/* score[c] += log(n_c(w) + P(w)) - log P(w) over the postings of words
 * w[0..n): the class-specific part of the naive Bayes sum. */
static void add_words(const gf_kh_t *kh, const uint32_t *w, size_t n, float *score)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t p = kh->ptr[w[i]]; p < kh->ptr[w[i] + 1]; p++) score[kh->post[p] >> 16] += kh->weight[p];
}

/* base[c] = -m log(N_c + 1) + lambda log softmax(ref)_c: the part of a
 * draw's score of m words that does not depend on which words. */
static void base_scores(const gf_kh_t *kh, size_t m, const float *ref, float *base)
{
	double mx = -INFINITY, s = 0;
	for (int c = 0; ref && c < kh->n_classes; c++) mx = ref[c] > mx ? ref[c] : mx;
	for (int c = 0; ref && c < kh->n_classes; c++) s += exp(ref[c] - mx);
	for (int c = 0; c < kh->n_classes; c++)
		base[c] = (float)(-(double)m * log(kh->class_n[c] + 1.0) +
		                  (ref && kh->lambda ? kh->lambda * (ref[c] - mx - log(s)) : 0));
}

static int argmax(const float *x, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (x[i] > x[b]) b = i;
	return b;
}

int gf_kh_classify(const gf_kh_t *kh, const char *seq, size_t len, const float *ref, uint64_t key, float *out)
{
	const int C = kh->n_classes;
	int32_t *tok = malloc((2 * len + 1) * sizeof *tok);
	uint32_t *w[2] = { malloc((len + 1) * sizeof(uint32_t)), malloc((len + 1) * sizeof(uint32_t)) };
	float *score = malloc(3 * C * sizeof *score), *base = score + C, *prior = ref ? score + 2 * C : NULL;
	int rc = -1;
	if (!tok || !w[0] || !w[1] || !score) goto out;
	if (ref) memcpy(prior, ref, C * sizeof *prior); /* ref may be out */
	ref = prior;
	/* the strand whose best full score is higher */
	size_t n[2];
	float best[2];
	for (int s = 0; s < 2; s++) {
		n[s] = words_of(seq, len, kh->k, s, tok, w[s]);
		base_scores(kh, n[s], ref, score);
		add_words(kh, w[s], n[s], score);
		best[s] = score[argmax(score, C)];
	}
	int s = n[1] > 0 && (n[0] == 0 || best[1] > best[0]);
	for (int c = 0; c < C; c++) out[c] = 0;
	if (n[s] > 0) {
		size_t m = n[s] / 8 < 5 ? 5 : n[s] / 8;
		uint32_t *draw = (uint32_t *)tok;
		base_scores(kh, m, ref, base);
		for (int t = 0; t < kh->trials; t++) {
			for (size_t i = 0; i < m; i++) draw[i] = w[s][rf_rng_u64(key, (uint64_t)t * m + i) % n[s]];
			memcpy(score, base, C * sizeof *score);
			add_words(kh, draw, m, score);
			out[argmax(score, C)] += 1.0f;
		}
		rc = 0;
	}
	for (int c = 0; c < C; c++) out[c] = logf(rc ? 1.0f / C : out[c] / kh->trials + 1e-6f);
out:
	free(tok);
	free(w[0]);
	free(w[1]);
	free(score);
	return rc;
}

uint64_t gf_kh_key(const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *name; name++) h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h;
}

/* ---- storage ---------------------------------------------------------------
 * line 1: k=K trials=T lambda=L records=N words=W nnz=Z
 * line 2: records per class, space-separated
 * then one line per word with postings: WORD C:N C:N ... (decimal) */

char *gf_kh_format(const gf_kh_t *kh)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp) return NULL;
	size_t nw = 0;
	for (size_t x = 0; x < N_WORDS(kh->k); x++) nw += kh->ptr[x + 1] > kh->ptr[x];
	fprintf(fp, "k=%d trials=%d lambda=%.9g records=%u words=%zu nnz=%u\n", kh->k, kh->trials, kh->lambda,
	        kh->n_rec, nw, kh->ptr[N_WORDS(kh->k)]);
	for (int c = 0; c < kh->n_classes; c++) fprintf(fp, "%s%u", c ? " " : "", kh->class_n[c]);
	for (size_t x = 0; x < N_WORDS(kh->k); x++) {
		if (kh->ptr[x + 1] == kh->ptr[x]) continue;
		fprintf(fp, "\n%zu", x);
		for (uint32_t p = kh->ptr[x]; p < kh->ptr[x + 1]; p++)
			fprintf(fp, " %u:%u", kh->post[p] >> 16, kh->post[p] & 0xffff);
	}
	if (fclose(fp)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void gf_kh_summary(const char *text, char *buf, size_t len)
{
	size_t n = strcspn(text, "\n");
	snprintf(buf, len, "%.*s", (int)n, text);
}

/* Reads an unsigned decimal at *p, at most max; advances *p. -1 when none. */
static int64_t read_uint(const char **p, uint64_t max)
{
	char *end;
	if (**p < '0' || **p > '9') return -1;
	unsigned long long v = strtoull(*p, &end, 10);
	if (v > max) return -1;
	*p = end;
	return (int64_t)v;
}

gf_kh_t *gf_kh_parse(const char *text, int n_classes, char *err, size_t errlen)
{
	int k, trials;
	float lambda;
	unsigned n_rec, nnz;
	size_t nw;
	int used;
	if (sscanf(text, "k=%d trials=%d lambda=%g records=%u words=%zu nnz=%u%n", &k, &trials, &lambda, &n_rec, &nw,
	           &nnz, &used) != 6 || k != GF_KH_K || trials < 1 || trials > 100000 || !isfinite(lambda) ||
	    text[used] != '\n') {
		snprintf(err, errlen, "metadata %s: bad first line", GF_KH_META);
		return NULL;
	}
	gf_kh_t *kh = kh_alloc(k, n_classes, nnz);
	if (!kh) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	kh->trials = trials;
	kh->lambda = lambda;
	kh->n_rec = n_rec;
	const char *p = text + used + 1;
	int64_t v;
	for (int c = 0; c < n_classes; c++) {
		if (c && *p++ != ' ') goto bad;
		if ((v = read_uint(&p, n_rec)) < 0) goto bad;
		kh->class_n[c] = (uint32_t)v;
	}
	uint32_t at = 0;
	int64_t prev = -1;
	while (*p == '\n') {
		p++;
		if ((v = read_uint(&p, N_WORDS(k) - 1)) < 0 || v <= prev) goto bad;
		for (int64_t x = prev + 1; x <= v; x++) kh->ptr[x] = at;
		prev = v;
		while (*p == ' ') {
			p++;
			int64_t c = read_uint(&p, (uint64_t)n_classes - 1), cnt;
			if (c < 0 || *p++ != ':' || (cnt = read_uint(&p, 0xffff)) < 1 || at >= nnz) goto bad;
			kh->post[at++] = (uint32_t)c << 16 | (uint32_t)cnt;
		}
	}
	if (*p || at != nnz) goto bad;
	for (int64_t x = prev + 1; x <= (int64_t)N_WORDS(k); x++) kh->ptr[x] = at;
	word_weights(kh);
	return kh;
bad:
	snprintf(err, errlen, "metadata %s: malformed at byte %zu", GF_KH_META, (size_t)(p - text));
	gf_kh_free(kh);
	return NULL;
}
