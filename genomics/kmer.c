/* k-mer tokenizer; see kmer.h for the vocabulary and coverage rules. */
#include "genomics/kmer.h"

#include <stdio.h>
#include <string.h>

/* Byte -> 2-bit code: A/a 0, C/c 1, G/g 2, T/t/U/u 3, anything else 4. */
static const uint8_t nt4[256] = {
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 0, 4, 1, 4, 4, 4, 2, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 0, 4, 1, 4, 4, 4, 2, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

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

/* Token j ends after base j*stride + k - 1: the first k - stride bases prime
 * the rolling value, then each token reads `stride` more. bad_end is one past
 * the last non-ACGT byte; a k-mer starting before it is [UNK]. Written without
 * data-dependent branches, the rolling value unmasked (x*4 + c is one LEA on
 * the loop-carried chain; the mask applies when a token is written), and
 * inlined twice so that stride 1 is a constant. */
static inline size_t tokenize_loop(const char *seq, size_t m, int k, int stride, int32_t *out)
{
	const uint64_t mask = (1u << (2 * k)) - 1;
	uint64_t x = 0;
	size_t i = 0, bad_end = 0;
	for (size_t j = 0; j < m; j++) {
		for (size_t e = j * stride + k; i < e; i++) {
			uint64_t c = nt4[(uint8_t)seq[i]];
			x = x * 4 + (c & 3);
			bad_end = c < 4 ? bad_end : i + 1;
		}
		out[j] = j * stride >= bad_end ? (int32_t)(GF_TOK_N_SPECIAL + (x & mask)) : GF_TOK_UNK;
	}
	return m;
}

size_t gf_kmer_tokenize(const char *seq, size_t n, int k, int stride, int32_t *out)
{
	size_t m = gf_kmer_count(n, k, stride);
	return stride == 1 ? tokenize_loop(seq, m, k, 1, out) : tokenize_loop(seq, m, k, stride, out);
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
