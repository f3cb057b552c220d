/* Memory needed against memory available; see memlimit.h. */
#include "src/memlimit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/optim.h"
#include "src/log.h"

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* GF_MEMORY_LIMIT in bytes into *v (SIZE_MAX when unset); -1 after an
 * error line when it does not parse. */
static int env_limit(size_t *v)
{
	const char *s = getenv("GF_MEMORY_LIMIT");
	*v = SIZE_MAX;
	if (!s) return 0;
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
	if (u) {
		for (int shift = (int)(u - units) + 1; shift > 0 && n <= SIZE_MAX >> 10; shift--) n <<= 10;
		end++;
	}
	if (end == s || *s == '-' || (*end && strcmp(end, "iB") && strcmp(end, "B")) || n == 0) {
		gf_error("GF_MEMORY_LIMIT '%s': expects a size in bytes with an optional K, M, G or T suffix", s);
		return -1;
	}
	*v = (size_t)n;
	return 0;
}

/* What the command may plan for on backend be: what it can still allocate
 * there plus the held bytes it already uses, capped by GF_MEMORY_LIMIT.
 * -1 on a bad variable. */
static int available(const rf_backend_t *be, size_t held, size_t *have)
{
	size_t room, total, env;
	be->mem_info(&room, &total);
	*have = room == SIZE_MAX || room > SIZE_MAX - held ? SIZE_MAX : room + held;
	if (env_limit(&env)) return -1;
	*have = min_size(*have, env);
	return 0;
}

static const char *fmt_bytes(size_t v, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double x = (double)v;
	int i = 0;
	while (x >= 1024 && i < 6) x /= 1024, i++;
	if (i == 0) snprintf(buf, len, "%zu B", v);
	else snprintf(buf, len, "%.1f %s", x, unit[i]);
	return buf;
}

typedef size_t (*need_fn)(const void *ctx, int B, int L);

/* Largest x in [1, hi] with need(x) <= have, x being the length (along_L)
 * or the batch; 0 when none. Needs grow with both. */
static int largest_fit(need_fn need, const void *ctx, int B, int L, int along_L, int hi, size_t have)
{
	int lo = 0;
	while (lo < hi) {
		int mid = lo + (hi - lo + 1) / 2;
		if (need(ctx, along_L ? B : mid, along_L ? mid : L) <= have) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}

static int mem_report;

void gf_mem_report(int on)
{
	mem_report = on;
}

/* The refusal: 0 when need(B, L) fits in have, else -1 after one line;
 * B = 0 for a buffer without batch. where: "" for host memory, else " on
 * BACKEND". */
static int refuse_unless_fits(need_fn need, const void *ctx, int B, int L, size_t have, const char *where)
{
	size_t n = need(ctx, B ? B : 1, L);
	char what[96], a[32], b[32], hint[128];
	if (n <= have) {
		if (mem_report)
			gf_info("memory: a window of %d tokens x batch %d needs %s, %s available%s", L, B ? B : 1,
			        fmt_bytes(n, a, sizeof a), have == SIZE_MAX ? "no limit" : fmt_bytes(have, b, sizeof b), where);
		return 0;
	}
	int l_fit = largest_fit(need, ctx, B ? B : 1, L, 1, L - 1, have);
	int b_fit = B > 1 ? largest_fit(need, ctx, B, L, 0, B - 1, have) : 0;
	if (B) snprintf(what, sizeof what, "window of %d tokens x batch %d", L, B);
	else snprintf(what, sizeof what, "window of %d tokens", L);
	if (l_fit && b_fit) snprintf(hint, sizeof hint, "the largest window that fits is L=%d, or --batch %d at L=%d", l_fit, b_fit, L);
	else if (l_fit) snprintf(hint, sizeof hint, "the largest window that fits is L=%d", l_fit);
	else if (b_fit) snprintf(hint, sizeof hint, "the largest batch that fits at L=%d is --batch %d", L, b_fit);
	else snprintf(hint, sizeof hint, "not even a window of 1 token fits");
	if (n == SIZE_MAX)
		gf_error("%s cannot run in one pass; %s", what, hint);
	else
		gf_error("%s needs %s, %s available%s; %s", what, fmt_bytes(n, a, sizeof a), fmt_bytes(have, b, sizeof b),
		         where, hint);
	return -1;
}

typedef struct {
	const rf_config_t *cfg;
	const rf_backend_t *be;
	int rows, train;
	double mlm_frac;
	size_t extra;
} model_need_t;

static size_t model_need(const void *ctx, int B, int L)
{
	const model_need_t *x = ctx;
	int rows = B * x->rows;
	int n_mlm = x->train ? (int)(x->mlm_frac * rows * (double)L + 0.999) : 0;
	size_t n = rf_model_estimate_bytes(x->cfg, x->be, rows, L, n_mlm, x->train);
	return n > SIZE_MAX - x->extra ? SIZE_MAX : n + x->extra;
}

int gf_mem_check_model(const rf_config_t *cfg, const rf_backend_t *be, int B, int rows_per_window, int L, int train,
                       double mlm_frac, size_t held)
{
	model_need_t x = { cfg, be, rows_per_window, train, mlm_frac,
		               train ? rf_optim_state_bytes(rf_model_count_params(cfg)) : 0 };
	size_t have;
	char where[48] = "";
	if (available(be, held, &have)) return -1;
	if (strcmp(be->name, "cpu")) snprintf(where, sizeof where, " on %s", be->name);
	return refuse_unless_fits(model_need, &x, B, L, have, where);
}

typedef struct {
	size_t (*bytes)(int L);
} window_need_t;

static size_t window_need(const void *ctx, int B, int L)
{
	(void)B;
	return ((const window_need_t *)ctx)->bytes(L);
}

int gf_mem_check_window(int L, size_t (*bytes_per_window)(int L))
{
	window_need_t x = { bytes_per_window };
	size_t have;
	if (available(rf_backend_cpu(), 0, &have)) return -1;
	return refuse_unless_fits(window_need, &x, 0, L, have, "");
}
