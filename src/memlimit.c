/* Memory needed against memory available; see memlimit.h. */
#include "src/memlimit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/optim.h"
#include "src/log.h"

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The number a file starts with; 0 when there is none ("max", no file). */
static int read_number(const char *path, unsigned long long *v)
{
	FILE *fp = fopen(path, "r");
	if (!fp) return 0;
	int ok = fscanf(fp, "%llu", v) == 1;
	fclose(fp);
	return ok;
}

/* MemAvailable (free memory plus what the kernel can reclaim), or the free
 * pages where /proc/meminfo is missing. */
static size_t system_room(void)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb;
	while (fp && fgets(line, sizeof line, fp))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			fclose(fp);
			return (size_t)kb * 1024;
		}
	if (fp) fclose(fp);
	long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : SIZE_MAX;
}

/* The least room under memory.max of this process's cgroup (v2) and of
 * every parent up to the root; SIZE_MAX when none sets a limit. */
static size_t cgroup_room(void)
{
	char line[4096] = "", dir[4200];
	FILE *fp = fopen("/proc/self/cgroup", "r");
	while (fp && fgets(line, sizeof line, fp) && strncmp(line, "0::", 3)) line[0] = 0;
	if (fp) fclose(fp);
	if (strncmp(line, "0::", 3)) return SIZE_MAX;
	char *path = line + 3;
	path[strcspn(path, "\n")] = 0;
	size_t room = SIZE_MAX;
	for (;;) {
		unsigned long long max, cur;
		snprintf(dir, sizeof dir, "/sys/fs/cgroup%s/memory.max", strcmp(path, "/") ? path : "");
		if (read_number(dir, &max)) {
			snprintf(dir, sizeof dir, "/sys/fs/cgroup%s/memory.current", strcmp(path, "/") ? path : "");
			if (!read_number(dir, &cur)) cur = 0;
			room = min_size(room, max > cur ? (size_t)(max - cur) : 0);
		}
		char *slash = strrchr(path, '/');
		if (!slash || slash == path) break;
		*slash = 0;
	}
	return room;
}

/* Room under RLIMIT_AS (against the address space in use) and RLIMIT_DATA
 * (against the data segment), from /proc/self/statm. */
static size_t rlimit_room(void)
{
	unsigned long long vm = 0, rss, shared, text, lib, data = 0;
	FILE *fp = fopen("/proc/self/statm", "r");
	if (fp) {
		if (fscanf(fp, "%llu %llu %llu %llu %llu %llu", &vm, &rss, &shared, &text, &lib, &data) != 6) vm = data = 0;
		fclose(fp);
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE), room = SIZE_MAX;
	const int which[2] = { RLIMIT_AS, RLIMIT_DATA };
	const size_t used[2] = { (size_t)vm * page, (size_t)data * page };
	for (int i = 0; i < 2; i++) {
		struct rlimit rl;
		if (getrlimit(which[i], &rl) || rl.rlim_cur == RLIM_INFINITY) continue;
		room = min_size(room, rl.rlim_cur > used[i] ? (size_t)(rl.rlim_cur - used[i]) : 0);
	}
	return room;
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

/* What the command may plan for: host memory's room (host) plus the held
 * bytes it already uses, capped by GF_MEMORY_LIMIT. -1 on a bad variable. */
static int available(int host, size_t held, size_t *have)
{
	*have = SIZE_MAX;
	if (host) {
		size_t room = min_size(system_room(), min_size(cgroup_room(), rlimit_room()));
		if (room != SIZE_MAX) *have = room + held;
	}
	size_t env;
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

/* The refusal: 0 when need(B, L) fits in have, else -1 after one line;
 * B = 0 for a buffer without batch. */
static int refuse_unless_fits(need_fn need, const void *ctx, int B, int L, size_t have)
{
	size_t n = need(ctx, B ? B : 1, L);
	if (n <= have) return 0;
	char what[96], a[32], b[32], hint[128];
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
		gf_error("%s needs %s, %s available; %s", what, fmt_bytes(n, a, sizeof a), fmt_bytes(have, b, sizeof b), hint);
	return -1;
}

typedef struct {
	const rf_model_t *m;
	int rows, train;
	double mlm_frac;
	size_t extra;
} model_need_t;

static size_t model_need(const void *ctx, int B, int L)
{
	const model_need_t *x = ctx;
	int rows = B * x->rows;
	int n_mlm = x->train ? (int)(x->mlm_frac * rows * (double)L + 0.999) : 0;
	size_t n = rf_model_estimate_bytes(rf_model_config(x->m), rf_model_backend(x->m), rows, L, n_mlm, x->train);
	return n > SIZE_MAX - x->extra ? SIZE_MAX : n + x->extra;
}

int gf_mem_check_model(const rf_model_t *m, int B, int rows_per_window, int L, int train, double mlm_frac)
{
	model_need_t x = { m, rows_per_window, train, mlm_frac, train ? rf_optim_state_bytes(m) : 0 };
	size_t have;
	if (available(!strcmp(rf_model_backend(m)->name, "cpu"), rf_model_current_bytes(m), &have)) return -1;
	return refuse_unless_fits(model_need, &x, B, L, have);
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
	if (available(1, 0, &have)) return -1;
	return refuse_unless_fits(window_need, &x, 0, L, have);
}
