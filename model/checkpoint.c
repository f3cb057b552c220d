/* The .gfm format (layout in checkpoint.h): writer, verifying reader,
 * config records by name, metadata. */
#include "model/checkpoint.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "model/atomicfile.h"
#include "model/util.h"

static const unsigned char MAGIC[8] = { 0x89, 'G', 'F', 'M', '\r', '\n', 0x1a, '\n' };
#define BYTE_ORDER_MARK 0x0A0B0C0Du
#define FIXED_LEN 56            /* magic .. records_len */
#define REC_CONFIG 1
#define REC_META 2
#define FLAG_TRAIN 1u
#define NAME_OPT_M "optim.m"
#define NAME_OPT_V "optim.v"

/* ---- config fields by name ---- */

enum { F_INT, F_FLOAT, F_KINDS };
typedef struct {
	const char *name;
	size_t off;
	int type;
} cfg_field_t;

#define FI(f) { #f, offsetof(rf_config_t, f), F_INT }
static const cfg_field_t CFG_FIELDS[] = {
	FI(vocab), FI(d_model), FI(n_heads), FI(d_ff), FI(n_layers),
	{ "layer_kind", offsetof(rf_config_t, layer_kind), F_KINDS },
	FI(n_hashes), FI(n_buckets), FI(chunk_len), FI(n_before), FI(n_after), FI(ff_chunk),
	FI(axial1), FI(axial2), FI(axial_d1), FI(causal),
	{ "dropout", offsetof(rf_config_t, dropout), F_FLOAT },
	FI(n_classes), FI(mlm),
};
#undef FI
#define N_CFG_FIELDS (int)(sizeof(CFG_FIELDS) / sizeof(CFG_FIELDS[0]))

/* A field added to rf_config_t must be added to CFG_FIELDS too; this fails
 * the build until it is (18 scalars of 4 bytes and the layer kinds). */
_Static_assert(sizeof(rf_config_t) == 18 * 4 + RF_MAX_LAYERS * sizeof(int),
               "rf_config_t changed: update CFG_FIELDS in model/checkpoint.c");

int rf_ckpt_config_count(void)
{
	return N_CFG_FIELDS;
}

const char *rf_ckpt_config_show(const rf_config_t *c, int i, char *buf, size_t n)
{
	const cfg_field_t *f = &CFG_FIELDS[i];
	const char *p = (const char *)c + f->off;
	size_t k = 0;
	buf[0] = 0;
	if (f->type == F_INT) snprintf(buf, n, "%d", *(const int *)p);
	else if (f->type == F_FLOAT) snprintf(buf, n, "%g", *(const float *)p);
	for (int l = 0; f->type == F_KINDS && l < c->n_layers && l < RF_MAX_LAYERS && k < n; l++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", l ? "," : "", rf_attn_kind_name(c->layer_kind[l]));
	return f->name;
}

static void cfg_format(const rf_config_t *c, const cfg_field_t *f, char *buf, size_t n)
{
	const char *p = (const char *)c + f->off;
	if (f->type == F_INT) {
		snprintf(buf, n, "%d", *(const int *)p);
	} else if (f->type == F_FLOAT) {
		snprintf(buf, n, "%.9g", *(const float *)p);   /* 9 digits round-trip any float */
	} else {
		size_t k = 0;
		buf[0] = 0;
		for (int l = 0; l < c->n_layers && l < RF_MAX_LAYERS && k < n; l++)
			k += (size_t)snprintf(buf + k, n - k, l ? ",%d" : "%d", c->layer_kind[l]);
	}
}

static int parse_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < INT_MIN || v > INT_MAX) return -1;
	*out = (int)v;
	return 0;
}

/* Parses one config value into c; the layer count is checked against
 * n_layers once every record is read. */
static int cfg_parse(rf_config_t *c, const cfg_field_t *f, const char *s, int *n_kinds)
{
	char *p = (char *)c + f->off;
	if (f->type == F_INT) return parse_int(s, (int *)p);
	if (f->type == F_FLOAT) {
		char *end;
		errno = 0;
		*(float *)p = strtof(s, &end);
		return end == s || *end || errno ? -1 : 0;
	}
	*n_kinds = 0;
	while (*s) {
		char item[16];
		size_t len = strcspn(s, ",");
		if (*n_kinds >= RF_MAX_LAYERS || len == 0 || len >= sizeof(item)) return -1;
		memcpy(item, s, len);
		item[len] = 0;
		if (parse_int(item, &c->layer_kind[(*n_kinds)++])) return -1;
		s += len;
		if (*s == ',' && !*++s) return -1;
	}
	return 0;
}

/* ---- metadata ---- */

void rf_ckpt_meta_init(rf_ckpt_meta_t *m)
{
	memset(m, 0, sizeof(*m));
}

void rf_ckpt_meta_free(rf_ckpt_meta_t *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->key[i]);
		free(m->val[i]);
	}
	free(m->key);
	free(m->val);
	rf_ckpt_meta_init(m);
}

static int meta_key_ok(const char *key, size_t len)
{
	if (len == 0 || len > 255) return 0;
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)key[i]) || key[i] == '=') return 0;
	return 1;
}

static int meta_index(const rf_ckpt_meta_t *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key)) return i;
	return -1;
}

int rf_ckpt_meta_set(rf_ckpt_meta_t *m, const char *key, const char *val, char *err, size_t errlen)
{
	int i = meta_index(m, key);
	char *v;
	if (!meta_key_ok(key, strlen(key))) {
		snprintf(err, errlen, "metadata key '%.64s' invalid (1..255 printable characters, no '=')", key);
		return -1;
	}
	if (!(v = strdup(val))) goto oom;
	if (i >= 0) {
		free(m->val[i]);
		m->val[i] = v;
		return 0;
	}
	if (m->n == m->cap) {
		int cap = m->cap ? 2 * m->cap : 8;
		char **k2 = realloc(m->key, (size_t)cap * sizeof(*k2));
		if (k2) m->key = k2;
		char **v2 = k2 ? realloc(m->val, (size_t)cap * sizeof(*v2)) : NULL;
		if (!v2) {
			free(v);
			goto oom;
		}
		m->val = v2;
		m->cap = cap;
	}
	if (!(m->key[m->n] = strdup(key))) {
		free(v);
		goto oom;
	}
	m->val[m->n++] = v;
	return 0;
oom:
	snprintf(err, errlen, "metadata key '%.64s': out of memory", key);
	return -1;
}

const char *rf_ckpt_meta_get(const rf_ckpt_meta_t *m, const char *key)
{
	int i = meta_index(m, key);
	return i < 0 ? NULL : m->val[i];
}

/* ---- writer ---- */

size_t rf_ckpt_numel(const rf_ckpt_tensor_t *t)
{
	size_t n = 1;
	for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
	return n;
}

typedef struct {
	unsigned char *p;
	size_t n, cap;
	int oom;
} buf_t;

static void buf_put(buf_t *b, const void *src, size_t n)
{
	if (b->oom) return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + n) cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void buf_u16(buf_t *b, uint16_t v) { buf_put(b, &v, 2); }
static void buf_u32(buf_t *b, uint32_t v) { buf_put(b, &v, 4); }
static void buf_u64(buf_t *b, uint64_t v) { buf_put(b, &v, 8); }

static void buf_record(buf_t *b, int kind, const char *key, const char *val)
{
	unsigned char k[2] = { (unsigned char)kind, 0 };
	size_t vl = strlen(val);
	buf_put(b, k, 2);
	buf_u16(b, (uint16_t)strlen(key));
	buf_u32(b, (uint32_t)vl);
	buf_put(b, key, strlen(key));
	buf_put(b, val, vl);
}

uint32_t rf_ckpt_crc(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = (uint32_t)crc32(crc, c, k);
		c += k;
		n -= k;
	}
	return crc;
}

static int name_ok(const char *name)
{
	size_t len = strnlen(name, RF_CKPT_NAME_MAX);
	if (len == 0 || len >= RF_CKPT_NAME_MAX) return 0;
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)name[i])) return 0;
	return 1;
}

static int tensor_ok(const rf_ckpt_tensor_t *t, char *err, size_t errlen)
{
	if (!name_ok(t->name)) {
		snprintf(err, errlen, "tensor name '%.64s' invalid (1..%d printable characters)", t->name,
		         RF_CKPT_NAME_MAX - 1);
		return 0;
	}
	if (t->ndim < 1 || t->ndim > RF_CKPT_MAX_DIM) {
		snprintf(err, errlen, "tensor '%s': %d dimensions (1..%d allowed)", t->name, t->ndim, RF_CKPT_MAX_DIM);
		return 0;
	}
	for (int d = 0; d < t->ndim; d++)
		if (t->shape[d] < 0) {
			snprintf(err, errlen, "tensor '%s': negative dimension", t->name);
			return 0;
		}
	if (!t->data && rf_ckpt_numel(t)) {
		snprintf(err, errlen, "tensor '%s': no data", t->name);
		return 0;
	}
	return 1;
}

static void write_tensor(FILE *fp, const rf_ckpt_tensor_t *t, buf_t *b)
{
	size_t nl = strlen(t->name), numel = rf_ckpt_numel(t);
	b->n = 0;
	buf_u16(b, (uint16_t)nl);
	buf_u16(b, (uint16_t)t->ndim);
	buf_put(b, t->name, nl);
	buf_put(b, t->shape, (size_t)t->ndim * sizeof(int64_t));
	uint32_t crc = rf_ckpt_crc(rf_ckpt_crc(0, b->p, b->n), t->data, numel * sizeof(float));
	fwrite(b->p, 1, b->n, fp);
	if (numel) fwrite(t->data, sizeof(float), numel, fp);
	fwrite(&crc, 4, 1, fp);
}

/* Header bytes: fixed part, records, CRC. */
static void build_header(buf_t *b, const rf_config_t *cfg, const rf_ckpt_meta_t *meta, int n_tensors,
                         const rf_ckpt_train_t *train)
{
	char val[RF_MAX_LAYERS * 12 + 16];
	buf_t rec = { 0 };
	for (int i = 0; i < N_CFG_FIELDS; i++) {
		cfg_format(cfg, &CFG_FIELDS[i], val, sizeof(val));
		buf_record(&rec, REC_CONFIG, CFG_FIELDS[i].name, val);
	}
	for (int i = 0; meta && i < meta->n; i++) buf_record(&rec, REC_META, meta->key[i], meta->val[i]);
	buf_put(b, MAGIC, 8);
	buf_u32(b, BYTE_ORDER_MARK);
	buf_u32(b, RF_CKPT_VERSION);
	buf_u32(b, train ? FLAG_TRAIN : 0);
	buf_u32(b, (uint32_t)(N_CFG_FIELDS + (meta ? meta->n : 0)));
	buf_u32(b, (uint32_t)n_tensors);
	buf_u32(b, train ? 2 : 0);
	buf_u64(b, train ? train->step : 0);
	buf_u64(b, train ? train->seed : 0);
	buf_u64(b, rec.n);
	buf_put(b, rec.p, rec.n);
	b->oom |= rec.oom;
	free(rec.p);
	buf_u32(b, rf_ckpt_crc(0, b->p, b->n));
}

static void train_tensor(rf_ckpt_tensor_t *t, const char *name, const rf_ckpt_train_t *tr, const float *data)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ndim = 1;
	t->shape[0] = (int64_t)tr->n;
	t->data = data;
}

static int check_inputs(const rf_config_t *cfg, const rf_ckpt_meta_t *meta, const rf_ckpt_tensor_t *t, int n,
                        char *err, size_t errlen)
{
	if (cfg->n_layers < 0 || cfg->n_layers > RF_MAX_LAYERS) {
		snprintf(err, errlen, "config n_layers %d out of range", cfg->n_layers);
		return 0;
	}
	for (int i = 0; meta && i < meta->n; i++)
		if (!meta_key_ok(meta->key[i], strlen(meta->key[i])) || strlen(meta->val[i]) > UINT32_MAX) {
			snprintf(err, errlen, "metadata key '%.64s' invalid", meta->key[i]);
			return 0;
		}
	for (int i = 0; i < n; i++) {
		if (!tensor_ok(&t[i], err, errlen)) return 0;
		for (int j = 0; j < i; j++)
			if (!strcmp(t[i].name, t[j].name)) {
				snprintf(err, errlen, "tensor '%s' given twice", t[i].name);
				return 0;
			}
	}
	return 1;
}

int rf_ckpt_write(const char *path, const rf_config_t *cfg, const rf_ckpt_meta_t *meta,
                  const rf_ckpt_tensor_t *tensors, int n_tensors, const rf_ckpt_train_t *train,
                  char *err, size_t errlen)
{
	char why[256];
	buf_t b = { 0 };
	rf_afile_t *f;
	if (!check_inputs(cfg, meta, tensors, n_tensors, why, sizeof(why))) {
		snprintf(err, errlen, "%s: not written: %s", path, why);
		return -1;
	}
	build_header(&b, cfg, meta, n_tensors, train);
	if (b.oom || !(f = rf_afile_open(path, err, errlen))) {
		if (b.oom) snprintf(err, errlen, "%s: not written: out of memory", path);
		free(b.p);
		return -1;
	}
	FILE *fp = rf_afile_fp(f);
	fwrite(b.p, 1, b.n, fp);
	for (int i = 0; i < n_tensors && !rf_afile_check(f, err, errlen); i++) write_tensor(fp, &tensors[i], &b);
	if (train) {
		rf_ckpt_tensor_t t;
		train_tensor(&t, NAME_OPT_M, train, train->m);
		write_tensor(fp, &t, &b);
		train_tensor(&t, NAME_OPT_V, train, train->v);
		write_tensor(fp, &t, &b);
	}
	free(b.p);
	if (b.oom) {
		rf_afile_abort(f);
		snprintf(err, errlen, "%s: not written: out of memory", path);
		return -1;
	}
	return rf_afile_commit(f, err, errlen);
}

/* ---- reader ---- */

typedef struct {
	FILE *fp;
	uint64_t pos, size;
} rd_t;

/* Reads n bytes; 0 when the file had them all. */
static int rd_take(rd_t *r, void *dst, size_t n)
{
	if (n > r->size - r->pos || fread(dst, 1, n, r->fp) != n) return -1;
	r->pos += n;
	return 0;
}

static uint32_t get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint16_t get_u16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static void fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", path, msg);
}

/* The first 16 bytes, which every version keeps in place. */
static int read_prologue(const unsigned char *h, uint64_t have, const char *path, char *err, size_t errlen)
{
	uint32_t bom, ver;
	if (have < 8 || memcmp(h, MAGIC, 8)) {
		fail(err, errlen, path, "not a genoformer model file (bad magic)");
		return -1;
	}
	if (have < 16) {
		fail(err, errlen, path, "truncated in the header (file is %llu bytes)", (unsigned long long)have);
		return -1;
	}
	bom = get_u32(h + 8);
	ver = get_u32(h + 12);
	if (bom == __builtin_bswap32(BYTE_ORDER_MARK)) {
		fail(err, errlen, path, "written with the opposite byte order (big-endian machine?); "
		                        "this build reads only files of its own byte order");
		return -1;
	}
	if (bom != BYTE_ORDER_MARK) {
		fail(err, errlen, path, "corrupt header: byte-order marker 0x%08x", bom);
		return -1;
	}
	if (ver != RF_CKPT_VERSION) {
		fail(err, errlen, path, "format version %u is not supported (this build reads version %d)",
		     ver, RF_CKPT_VERSION);
		return -1;
	}
	return 0;
}

static int read_config_record(rf_ckpt_t *ck, const char *key, const char *val, char *seen, int *n_kinds,
                              char *err, size_t errlen)
{
	for (int i = 0; i < N_CFG_FIELDS; i++) {
		if (strcmp(CFG_FIELDS[i].name, key)) continue;
		if (seen[i]++) {
			fail(err, errlen, ck->path, "config key '%s' appears twice", key);
			return -1;
		}
		if (cfg_parse(&ck->cfg, &CFG_FIELDS[i], val, n_kinds)) {
			char shown[96];
			fail(err, errlen, ck->path, "config key '%s' has a bad value '%s'", key,
			     rf_printable(val, 64, shown, sizeof(shown)));
			return -1;
		}
		return 0;
	}
	fail(err, errlen, ck->path, "config key '%.64s' unknown to this build (written by a newer genoformer?)", key);
	return -1;
}

/* Parses the records into ck->cfg and ck->meta. */
static int read_records(rf_ckpt_t *ck, const unsigned char *p, size_t len, uint32_t n_rec, char *err, size_t errlen)
{
	char seen[N_CFG_FIELDS] = { 0 };
	int n_kinds = -1;
	size_t at = 0;
	for (uint32_t r = 0; r < n_rec; r++) {
		if (len - at < 8) goto bad;
		int kind = p[at];
		size_t kl = get_u16(p + at + 2), vl = get_u32(p + at + 4);
		at += 8;
		if (kl > len - at || vl > len - at - kl || !meta_key_ok((const char *)p + at, kl)
		    || memchr(p + at + kl, 0, vl) || (kind != REC_CONFIG && kind != REC_META))
			goto bad;
		char key[256], *val = strndup((const char *)p + at + kl, vl);
		memcpy(key, p + at, kl);
		key[kl] = 0;
		at += kl + vl;
		int rc = !val ? -1 : kind == REC_CONFIG ? read_config_record(ck, key, val, seen, &n_kinds, err, errlen)
		                                        : rf_ckpt_meta_set(&ck->meta, key, val, err, errlen);
		free(val);
		if (rc) return -1;
	}
	if (at != len) goto bad;
	for (int i = 0; i < N_CFG_FIELDS; i++)
		if (!seen[i]) {
			fail(err, errlen, ck->path, "config key '%s' missing", CFG_FIELDS[i].name);
			return -1;
		}
	if (ck->cfg.n_layers < 0 || n_kinds != ck->cfg.n_layers) {
		fail(err, errlen, ck->path, "config has %d layer kinds for n_layers %d", n_kinds, ck->cfg.n_layers);
		return -1;
	}
	return 0;
bad:
	fail(err, errlen, ck->path, "corrupt header: malformed record");
	return -1;
}

static int read_header(rf_ckpt_t *ck, rd_t *r, uint32_t *n_tensors, uint32_t *n_train, char *err, size_t errlen)
{
	unsigned char h[FIXED_LEN], crcb[4];
	uint64_t have = r->size < FIXED_LEN ? r->size : FIXED_LEN;
	if (fread(h, 1, (size_t)have, r->fp) != have) {
		fail(err, errlen, ck->path, "read error: %s", strerror(errno));
		return -1;
	}
	r->pos = have;
	if (read_prologue(h, have, ck->path, err, errlen)) return -1;
	uint64_t rec_len = get_u64(h + 48);
	if (have < FIXED_LEN || rec_len > r->size - FIXED_LEN) {
		fail(err, errlen, ck->path, "truncated in the header (file is %llu bytes)", (unsigned long long)r->size);
		return -1;
	}
	unsigned char *rec = malloc(rec_len ? rec_len : 1);
	if (!rec) {
		fail(err, errlen, ck->path, "out of memory");
		return -1;
	}
	int rc = -1;
	if (rd_take(r, rec, rec_len) || rd_take(r, crcb, 4)) {
		fail(err, errlen, ck->path, "truncated in the header (file is %llu bytes)", (unsigned long long)r->size);
	} else if (rf_ckpt_crc(rf_ckpt_crc(0, h, FIXED_LEN), rec, rec_len) != get_u32(crcb)) {
		fail(err, errlen, ck->path, "CRC mismatch in the header (file corrupt)");
	} else {
		ck->version = get_u32(h + 12);
		ck->has_train = (get_u32(h + 16) & FLAG_TRAIN) != 0;
		ck->train.step = get_u64(h + 32);
		ck->train.seed = get_u64(h + 40);
		*n_tensors = get_u32(h + 24);
		*n_train = get_u32(h + 28);
		rc = read_records(ck, rec, rec_len, get_u32(h + 20), err, errlen);
	}
	free(rec);
	return rc;
}

/* Reads tensor i into t, its data at *store. */
static int read_tensor(rf_ckpt_t *ck, rd_t *r, rf_ckpt_tensor_t *t, float **store, int i, int n,
                       char *err, size_t errlen)
{
	unsigned char h[4 + RF_CKPT_NAME_MAX + RF_CKPT_MAX_DIM * 8], crcb[4];
	if (rd_take(r, h, 4)) {
		if (i == 0) fail(err, errlen, ck->path, "truncated before the first tensor (0 of %d present)", n);
		else fail(err, errlen, ck->path, "truncated after tensor '%s' (%d of %d tensors present)", t[-1].name, i, n);
		return -1;
	}
	size_t nl = get_u16(h);
	int ndim = get_u16(h + 2);
	if (nl == 0 || nl >= RF_CKPT_NAME_MAX || ndim < 1 || ndim > RF_CKPT_MAX_DIM) {
		fail(err, errlen, ck->path, "corrupt record for tensor %d of %d", i + 1, n);
		return -1;
	}
	if (rd_take(r, h + 4, nl + (size_t)ndim * 8)) {
		fail(err, errlen, ck->path, "truncated in tensor %d of %d (in its name or shape)", i + 1, n);
		return -1;
	}
	memcpy(t->name, h + 4, nl);
	t->name[nl] = 0;
	t->ndim = ndim;
	memcpy(t->shape, h + 4 + nl, (size_t)ndim * 8);
	uint64_t left = r->size - r->pos, fits = left / 4, numel = 1;   /* fits: floats left in the file */
	for (int d = 0; d < ndim; d++) {
		if (t->shape[d] < 0 || (t->shape[d] && numel > fits / (uint64_t)t->shape[d])) numel = fits + 1;
		else numel *= (uint64_t)t->shape[d];
	}
	if (!name_ok(t->name) || numel > fits) {
		if (name_ok(t->name)) fail(err, errlen, ck->path, "truncated in tensor '%s' (%llu of %llu data bytes present)",
		                           t->name, (unsigned long long)left, (unsigned long long)numel * 4);
		else fail(err, errlen, ck->path, "corrupt record for tensor %d of %d", i + 1, n);
		return -1;
	}
	t->data = *store;
	if (rd_take(r, *store, (size_t)numel * 4) || rd_take(r, crcb, 4)) {
		fail(err, errlen, ck->path, "truncated in tensor '%s'", t->name);
		return -1;
	}
	uint32_t crc = rf_ckpt_crc(rf_ckpt_crc(0, h, 4 + nl + (size_t)ndim * 8), *store, (size_t)numel * 4);
	if (crc != get_u32(crcb)) {
		fail(err, errlen, ck->path, "CRC mismatch in tensor '%s' (stored 0x%08x, computed 0x%08x)",
		     t->name, get_u32(crcb), crc);
		return -1;
	}
	*store += numel;
	return 0;
}

/* The training tensors are optim.m and optim.v, both [n]. */
static int take_train(rf_ckpt_t *ck, const rf_ckpt_tensor_t *t, uint32_t n_train, char *err, size_t errlen)
{
	if (!ck->has_train && !n_train) return 0;
	if (!ck->has_train || n_train != 2 || strcmp(t[0].name, NAME_OPT_M) || strcmp(t[1].name, NAME_OPT_V)
	    || t[0].ndim != 1 || t[1].ndim != 1 || t[0].shape[0] != t[1].shape[0]) {
		fail(err, errlen, ck->path, "corrupt training state (expected %s and %s of equal length)",
		     NAME_OPT_M, NAME_OPT_V);
		return -1;
	}
	ck->train.n = (size_t)t[0].shape[0];
	ck->train.m = t[0].data;
	ck->train.v = t[1].data;
	return 0;
}

static int read_body(rf_ckpt_t *ck, rd_t *r, char *err, size_t errlen)
{
	uint32_t n_t, n_train;
	if (read_header(ck, r, &n_t, &n_train, err, errlen)) return -1;
	uint64_t n_all = (uint64_t)n_t + n_train, left = r->size - r->pos;
	/* A tensor record takes at least 17 bytes, so no more than left/17 + 1
	 * records are ever filled in, whatever the header announces; and all
	 * data fits in what is left of the file: one allocation for it. */
	uint64_t n_alloc = n_all < left / 17 + 1 ? n_all : left / 17 + 1;
	if (n_all > INT_MAX) {
		fail(err, errlen, ck->path, "corrupt header: %llu tensors", (unsigned long long)n_all);
		return -1;
	}
	ck->store = malloc((size_t)left + 4);
	ck->tensors = calloc((size_t)n_alloc + 1, sizeof(*ck->tensors));
	if (!ck->store || !ck->tensors) {
		fail(err, errlen, ck->path, "out of memory");
		return -1;
	}
	float *at = ck->store;
	for (uint64_t i = 0; i < n_all; i++)
		if (read_tensor(ck, r, &ck->tensors[i], &at, (int)i, (int)n_all, err, errlen)) return -1;
	ck->n_tensors = (int)n_t;
	if (take_train(ck, ck->tensors + n_t, n_train, err, errlen)) return -1;
	if (r->pos != r->size) {
		fail(err, errlen, ck->path, "%llu unexpected bytes after the last tensor",
		     (unsigned long long)(r->size - r->pos));
		return -1;
	}
	return 0;
}

rf_ckpt_t *rf_ckpt_read(const char *path, char *err, size_t errlen)
{
	struct stat st;
	rd_t r = { 0 };
	rf_ckpt_t *ck = calloc(1, sizeof(*ck));
	if (!ck || !(ck->path = strdup(path))) {
		fail(err, errlen, path, "out of memory");
		free(ck);
		return NULL;
	}
	if (!(r.fp = fopen(path, "rb")) || fstat(fileno(r.fp), &st) != 0) {
		fail(err, errlen, path, "cannot open: %s", strerror(errno));
		if (r.fp) fclose(r.fp);
		rf_ckpt_free(ck);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errlen, path, "not a regular file");
		fclose(r.fp);
		rf_ckpt_free(ck);
		return NULL;
	}
	r.size = (uint64_t)st.st_size;
	int rc = read_body(ck, &r, err, errlen);
	fclose(r.fp);
	if (rc) {
		rf_ckpt_free(ck);
		return NULL;
	}
	return ck;
}

void rf_ckpt_free(rf_ckpt_t *ck)
{
	if (!ck) return;
	rf_ckpt_meta_free(&ck->meta);
	free(ck->tensors);
	free(ck->store);
	free(ck->path);
	free(ck);
}

const rf_ckpt_tensor_t *rf_ckpt_find(const rf_ckpt_t *ck, const char *name)
{
	for (int i = 0; i < ck->n_tensors; i++)
		if (!strcmp(ck->tensors[i].name, name)) return &ck->tensors[i];
	return NULL;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int d = 0; d < ndim && k < n; d++)
		k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
	if (k < n) snprintf(buf + k, n - k, "]");
}

int rf_ckpt_check_shape(const rf_ckpt_t *ck, const rf_ckpt_tensor_t *t, int ndim, const int64_t *shape,
                        char *err, size_t errlen)
{
	char have[96], want[96];
	int same = t->ndim == ndim;
	for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
	if (same) return 0;
	shape_str(have, sizeof(have), t->ndim, t->shape);
	shape_str(want, sizeof(want), ndim, shape);
	fail(err, errlen, ck->path, "tensor '%s' has shape %s in the file, the model expects %s", t->name, have, want);
	return -1;
}

const rf_ckpt_tensor_t *rf_ckpt_expect(const rf_ckpt_t *ck, const char *name, int ndim, const int64_t *shape,
                                       char *err, size_t errlen)
{
	const rf_ckpt_tensor_t *t = rf_ckpt_find(ck, name);
	if (!t) {
		fail(err, errlen, ck->path, "tensor '%s' missing (the model expects it)", name);
		return NULL;
	}
	return rf_ckpt_check_shape(ck, t, ndim, shape, err, errlen) ? NULL : t;
}
