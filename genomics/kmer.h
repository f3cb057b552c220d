/* k-mer tokenizer: bases -> token ids, DNABERT style (stride 1) up to
 * non-overlapping (stride k).
 *
 * Vocabulary: the specials [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the
 * 4^k k-mers in lexicographic ACGT order: id = 5 + base-4 value of the k-mer
 * (A=0 C=1 G=2 T=3, first base most significant), so AAA=5 ... TTT=5+4^k-1.
 *
 * Bases: lowercase (soft-masked) counts as uppercase, U/u as T. A k-mer that
 * holds N or any other byte (IUPAC codes R, Y, ..., gaps) becomes [UNK].
 *
 * Token j covers bases [j*stride, j*stride + k). A sequence of n bases gives
 * gf_kmer_count(n) = n < k ? 0 : (n - k) / stride + 1 tokens: no token starts
 * where fewer than k bases are left. The tokens cover the first
 * gf_kmer_covered(n) bases; the tail, (n - k) % stride bases when stride does
 * not divide n - k (all n bases when n < k), gets no token. Callers report
 * it (windows give the covered base range, `tokenize` prints a tail column),
 * so no base is dropped silently. */
#ifndef GF_KMER_H
#define GF_KMER_H

#include <stddef.h>
#include <stdint.h>

#define GF_KMER_MAX_K 8

enum { GF_TOK_PAD = 0, GF_TOK_UNK = 1, GF_TOK_CLS = 2, GF_TOK_SEP = 3, GF_TOK_MASK = 4, GF_TOK_N_SPECIAL = 5 };

/* 0 when 1 <= k <= GF_KMER_MAX_K and 1 <= stride <= k; else -1 with a
 * one-line message naming the option. */
int gf_kmer_check(int k, int stride, char *err, size_t errlen);

/* 5 + 4^k. */
int gf_kmer_vocab_size(int k);

/* Tokens for n bases, and the bases they cover (see above). */
size_t gf_kmer_count(size_t n, int k, int stride);
size_t gf_kmer_covered(size_t n, int k, int stride);

/* Writes gf_kmer_count(n, k, stride) ids to out and returns that count.
 * Rolling 2-bit encoding through a 256-entry table: one pass, O(n). */
size_t gf_kmer_tokenize(const char *seq, size_t n, int k, int stride, int32_t *out);

/* Tokens first .. first+count-1 of the stream of seq[0..n) (fewer when the
 * stream ends sooner): a window or a chunk straight from the bases, so that
 * no caller needs the whole stream in memory. Returns the number written. */
size_t gf_kmer_tokenize_part(const char *seq, size_t n, int k, int stride, size_t first, size_t count, int32_t *out);

/* The tokens of the reverse complement of the bases behind tok[0..m): the
 * stream reversed, each k-mer complemented and reversed, [UNK] kept. Exact for
 * stride 1, and for any stride when (n - k) % stride == 0 (no tail); in and
 * out may be the same array. */
void gf_kmer_revcomp_tokens(const int32_t *in, size_t m, int k, int32_t *out);

/* Bases behind tok[0..m) (uppercase, T for U), gf_kmer_covered bases written
 * to out plus a NUL. Returns the number of bases, or -1 when a token is a
 * special ([UNK] included), out of the vocabulary, or disagrees with its
 * neighbour on the bases they share. */
int64_t gf_kmer_decode(const int32_t *tok, size_t m, int k, int stride, char *out);

/* "[PAD]" ... "[MASK]", the k-mer's bases, or "[?]" outside the vocabulary;
 * buf holds at least 16 bytes. Returns buf. */
const char *gf_kmer_token_name(int32_t id, int k, char *buf);

#endif
