/* The CPU backend's mem_info: how much host memory this process can still
 * take. Moved here from src/memlimit.c so that every backend answers the
 * same question through its op table (the CUDA one with cudaMemGetInfo). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/cpu/cpu.h"

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

/* A "Key: N kB" line of /proc/meminfo in bytes; 0 when missing. */
static size_t meminfo_field(const char *key)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(key), v = 0;
	unsigned long long kb;
	while (fp && fgets(line, sizeof line, fp))
		if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%llu", &kb) == 1) {
			v = (size_t)kb * 1024;
			break;
		}
	if (fp) fclose(fp);
	return v;
}

/* MemAvailable (free memory plus what the kernel can reclaim), or the free
 * pages where /proc/meminfo is missing. */
static size_t system_room(void)
{
	size_t v = meminfo_field("MemAvailable");
	if (v) return v;
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

void cpu_mem_info(size_t *free_bytes, size_t *total_bytes)
{
	*free_bytes = min_size(system_room(), min_size(cgroup_room(), rlimit_room()));
	size_t total = meminfo_field("MemTotal");
	*total_bytes = total ? total : SIZE_MAX;
}
