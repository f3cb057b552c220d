/* Fuzzes the k-mer tokenizer. Input: k, stride, first, count in the first
 * five bytes, then the bases. Checks the promises of kmer.h, not just the
 * absence of crashes: token count, ids in the vocabulary, a part equals the
 * same slice of the whole stream, decode inverts tokenize (when nothing is
 * [UNK]), revcomp of the tokens is the tokens of the revcomp (stride 1) and
 * an involution; decode of arbitrary ids (the input reread as int32) stays
 * in bounds. */
#include "tests/fuzz/fuzz.h"

#include <ctype.h>

#include "genomics/kmer.h"
#include "genomics/seqio.h"

enum { MAX_BASES = 1 << 12 };

/* What decode must give back for a base of the input: uppercase, U as T. */
static char canonical(char c)
{
	c = (char)toupper((unsigned char)c);
	return c == 'U' ? 'T' : c;
}

static void check_decode(const int32_t *tok, size_t m, int k, int stride, const char *seq, size_t n)
{
	char *dec = malloc(n + 1);
	int64_t got = gf_kmer_decode(tok, m, k, stride, dec);
	FZ_REQUIRE(got == (int64_t)gf_kmer_covered(n, k, stride), "decode length");
	for (int64_t i = 0; i < got; i++)
		FZ_REQUIRE(dec[i] == canonical(seq[i]), "decoded base");
	free(dec);
}

/* The revcomp of the tokens against the tokens of the revcomp, stride 1. */
static void check_revcomp_stride1(const int32_t *tok, size_t m, int k, const char *seq, size_t n)
{
	char *rc = malloc(n + 1);
	int32_t *a = malloc((m + 1) * sizeof *a), *b = malloc((m + 1) * sizeof *b);
	for (size_t i = 0; i < n; i++) rc[i] = canonical(seq[i]);
	gf_revcomp(rc, n);
	gf_kmer_tokenize(rc, n, k, 1, a);
	gf_kmer_revcomp_tokens(tok, m, k, b);
	FZ_REQUIRE(!memcmp(a, b, m * sizeof *a), "revcomp tokens");
	free(rc);
	free(a);
	free(b);
}

/* Arbitrary ids (the bases reread as int32): decode may refuse, never overrun. */
static void check_decode_any(const uint8_t *p, size_t n, int k, int stride)
{
	size_t m = n / 4;
	int32_t *tok = malloc((m + 1) * sizeof *tok);
	memcpy(tok, p, m * 4);
	char *out = malloc(m ? (m - 1) * stride + k + 1 : 1);
	char name[16];
	int64_t got = gf_kmer_decode(tok, m, k, stride, out);
	FZ_REQUIRE(got < 0 || (size_t)got == (m ? (m - 1) * stride + k : 0), "decode length");
	for (size_t j = 0; j < m; j++)
		FZ_REQUIRE(strlen(gf_kmer_token_name(tok[j], k, name)) < sizeof name, "token name");
	free(tok);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5) return 0;
	int k = 1 + data[0] % GF_KMER_MAX_K, stride = 1 + data[1] % k;
	size_t first = data[2] | (size_t)data[3] << 8, count = data[4];
	const char *seq = (const char *)data + 5;
	size_t n = size - 5 < MAX_BASES ? size - 5 : MAX_BASES;
	char err[128];
	FZ_REQUIRE(!gf_kmer_check(k, stride, err, sizeof err), err);
	size_t m = gf_kmer_count(n, k, stride);
	int32_t *tok = malloc((m + 1) * sizeof *tok), *part = malloc((count + 1) * sizeof *part);
	FZ_REQUIRE(gf_kmer_tokenize(seq, n, k, stride, tok) == m, "token count");
	int unk = 0;
	for (size_t j = 0; j < m; j++) {
		FZ_REQUIRE(tok[j] == GF_TOK_UNK || (tok[j] >= GF_TOK_N_SPECIAL && tok[j] < gf_kmer_vocab_size(k)), "id in the vocabulary");
		unk |= tok[j] == GF_TOK_UNK;
	}
	size_t want = first >= m ? 0 : count < m - first ? count : m - first;
	FZ_REQUIRE(gf_kmer_tokenize_part(seq, n, k, stride, first, count, part) == want, "part length");
	FZ_REQUIRE(!want || !memcmp(part, tok + first, want * sizeof *part), "part equals the slice");
	if (!unk) check_decode(tok, m, k, stride, seq, n);
	if (!unk && stride == 1) check_revcomp_stride1(tok, m, k, seq, n);
	int32_t *twice = malloc((m + 1) * sizeof *twice);
	memcpy(twice, tok, m * sizeof *twice);
	gf_kmer_revcomp_tokens(twice, m, k, twice);
	gf_kmer_revcomp_tokens(twice, m, k, twice);
	FZ_REQUIRE(!memcmp(twice, tok, m * sizeof *twice), "revcomp twice is the identity");
	check_decode_any((const uint8_t *)seq, n, k, stride);
	free(twice);
	free(tok);
	free(part);
	return 0;
}
