/* k-mer tokenizer; see kmer.h for the vocabulary and coverage rules. */
#include "genomics/kmer.h"

#include <stdio.h>
#include <string.h>

static const char *const special_name[GF_TOK_N_SPECIAL] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };

int gf_kmer_check(int k, int stride, char *err, size_t errlen)
{
	if (k < 1 || k > GF_KMER_MAX_K) {
		snprintf(err, errlen, "k must be between 1 and %d (got %d)", GF_KMER_MAX_K, k);
		return -1;
	}
	if (stride < 1 || stride > k) {
		snprintf(err, errlen, "stride must be between 1 and k=%d (got %d)", k, stride);
		return -1;
	}
	return 0;
}

int gf_kmer_vocab_size(int k)
{
	return GF_TOK_N_SPECIAL + (1 << (2 * k));
}

size_t gf_kmer_count(size_t n, int k, int stride)
{
	return n < (size_t)k ? 0 : (n - k) / stride + 1;
}

size_t gf_kmer_covered(size_t n, int k, int stride)
{
	size_t m = gf_kmer_count(n, k, stride);
	return m ? (m - 1) * stride + k : 0;
}

/* Tokens are made a block at a time: the bases to 2-bit codes first, in a
 * loop the compiler vectorises, then the tokens from the codes. The
 * vectorised functions have an AVX2 clone chosen at load time (twice the
 * lanes of the SSE2 baseline; integer results, the same on either). */
enum { TOK_BLOCK = 512 };
#define TOK_SIMD __attribute__((target_clones("avx2", "default")))

/* 2-bit code of each base (A/a 0, C/c 1, G/g 2, T/t/U/u 3), 4 for any other
 * byte, in byte arithmetic that vectorises (a 256-entry table does not):
 * c = (b >> 1) & 3 is 0 1 3 2 for A C G T, the only lowercase letters with
 * that c are a c g t (and u, c 2), b | 0x20 folds the case, c ^ (c >> 1)
 * swaps G and T. */
TOK_SIMD static void encode_bases(const char *seq, int n, uint8_t *code)
{
#pragma omp simd
	for (int i = 0; i < n; i++) {
		uint8_t b = (uint8_t)seq[i], l = (uint8_t)(b | 0x20), c = (uint8_t)((b >> 1) & 3);
		uint8_t want = (uint8_t)('a' + (c == 1 ? 'c' - 'a' : 0) + (c == 2 ? 't' - 'a' : 0) + (c == 3 ? 'g' - 'a' : 0));
		uint8_t ok = (uint8_t)((l == want) | (l == 'u'));
		code[i] = ok ? (uint8_t)(c ^ (c >> 1)) : 4;
	}
}

/* Stride 1: one vectorised pass per base of the k-mer shifts it into all nt
 * tokens at once (4^k fits 16 bits for k <= GF_KMER_MAX_K); a code 4
 * anywhere in a k-mer makes it [UNK]. */
TOK_SIMD static void tokens_by_passes(const uint8_t *code, int nt, int k, int32_t *out)
{
	uint16_t val[TOK_BLOCK];
	uint8_t bad[TOK_BLOCK];
	memset(val, 0, nt * sizeof val[0]);
	memset(bad, 0, nt);
	for (int t = 0; t < k; t++) {
		const uint8_t *c = code + t;
#pragma omp simd
		for (int j = 0; j < nt; j++) {
			val[j] = (uint16_t)(val[j] << 2 | (c[j] & 3));
			bad[j] |= c[j];
		}
	}
#pragma omp simd
	for (int j = 0; j < nt; j++) out[j] = bad[j] & 4 ? GF_TOK_UNK : GF_TOK_N_SPECIAL + val[j];
}

/* Stride above 1: a rolling value, each token reading `stride` more codes
 * (strided loads vectorise badly, and there are stride times fewer tokens
 * per base). bad_end is one past the last code 4; a k-mer starting
 * before it is [UNK]. */
static void tokens_by_rolling(const uint8_t *code, int nt, int k, int stride, int32_t *out)
{
	const uint64_t mask = (1u << (2 * k)) - 1;
	uint64_t x = 0;
	size_t i = 0, bad_end = 0;
	for (size_t j = 0; j < (size_t)nt; j++) {
		for (size_t e = j * stride + k; i < e; i++) {
			uint64_t c = code[i];
			x = x * 4 + (c & 3);
			bad_end = c < 4 ? bad_end : i + 1;
		}
		out[j] = j * stride >= bad_end ? (int32_t)(GF_TOK_N_SPECIAL + (x & mask)) : GF_TOK_UNK;
	}
}

size_t gf_kmer_tokenize(const char *seq, size_t n, int k, int stride, int32_t *out)
{
	size_t m = gf_kmer_count(n, k, stride);
	uint8_t code[TOK_BLOCK * GF_KMER_MAX_K + GF_KMER_MAX_K];
	for (size_t j0 = 0; j0 < m; j0 += TOK_BLOCK) {
		int nt = m - j0 < TOK_BLOCK ? (int)(m - j0) : TOK_BLOCK;
		encode_bases(seq + j0 * stride, (nt - 1) * stride + k, code);
		if (stride == 1) tokens_by_passes(code, nt, k, out + j0);
		else tokens_by_rolling(code, nt, k, stride, out + j0);
	}
	return m;
}

size_t gf_kmer_tokenize_part(const char *seq, size_t n, int k, int stride, size_t first, size_t count, int32_t *out)
{
	size_t m = gf_kmer_count(n, k, stride);
	if (first >= m || count == 0) return 0;
	if (count > m - first) count = m - first;
	return gf_kmer_tokenize(seq + first * stride, (count - 1) * stride + k, k, stride, out);
}

/* Complement of a k-mer value read backwards: complement is 3 - code, i.e.
 * x ^ 0b11 per base, then the 2-bit groups reversed. */
static uint32_t revcomp_value(uint32_t x, int k)
{
	uint32_t y = 0;
	for (int i = 0; i < k; i++, x >>= 2) y = y << 2 | (3 - (x & 3));
	return y;
}

void gf_kmer_revcomp_tokens(const int32_t *in, size_t m, int k, int32_t *out)
{
	const int32_t top = gf_kmer_vocab_size(k);
	for (size_t i = 0, j = m; i < j; i++) {
		j--;
		int32_t a = in[i], b = in[j]; /* read both before writing: in may be out */
		out[i] = b >= GF_TOK_N_SPECIAL && b < top ? GF_TOK_N_SPECIAL + (int32_t)revcomp_value(b - GF_TOK_N_SPECIAL, k) : b;
		out[j] = a >= GF_TOK_N_SPECIAL && a < top ? GF_TOK_N_SPECIAL + (int32_t)revcomp_value(a - GF_TOK_N_SPECIAL, k) : a;
	}
}

/* Writes the k bases of k-mer value x to s. */
static void kmer_bases(uint32_t x, int k, char *s)
{
	for (int i = k - 1; i >= 0; i--, x >>= 2) s[i] = "ACGT"[x & 3];
}

int64_t gf_kmer_decode(const int32_t *tok, size_t m, int k, int stride, char *out)
{
	const int32_t top = gf_kmer_vocab_size(k);
	char b[GF_KMER_MAX_K];
	for (size_t j = 0; j < m; j++) {
		if (tok[j] < GF_TOK_N_SPECIAL || tok[j] >= top) return -1;
		kmer_bases(tok[j] - GF_TOK_N_SPECIAL, k, b);
		char *dst = out + j * stride;
		int shared = j ? k - stride : 0; /* bases already written by token j-1 */
		if (memcmp(dst, b, shared)) return -1;
		memcpy(dst + shared, b + shared, k - shared);
	}
	size_t n = m ? (m - 1) * stride + k : 0;
	out[n] = 0;
	return (int64_t)n;
}

const char *gf_kmer_token_name(int32_t id, int k, char *buf)
{
	if (id >= 0 && id < GF_TOK_N_SPECIAL) {
		strcpy(buf, special_name[id]);
	} else if (id >= GF_TOK_N_SPECIAL && id < gf_kmer_vocab_size(k)) {
		kmer_bases(id - GF_TOK_N_SPECIAL, k, buf);
		buf[k] = 0;
	} else {
		strcpy(buf, "[?]");
	}
	return buf;
}
