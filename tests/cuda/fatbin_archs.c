/* Lists the GPU code in an ELF file's .nv_fatbin section (what cuobjdump
 * --list-elf --list-ptx shows, for machines without cuobjdump), and with
 * --expect checks that every fat binary in it has machine code for each
 * listed sm and PTX for --ptx. `make CUDA=1 check-fatbin` runs it in CI.
 *
 *   fatbin_archs FILE                                   one line per fat binary
 *   fatbin_archs --expect 75,80,86,89,90 --ptx 90 FILE  exit 1 naming what is missing
 *
 * Layout (CUDA's fatbinary.h, stable since CUDA 4): the section holds fat
 * binaries one after another (8-byte aligned), each a 16-byte header
 * {u32 magic 0xBA55ED50, u16 version, u16 header size, u64 payload size}
 * and entries {u16 kind (1 PTX, 2 ELF), u16 flags, u32 header size, u64
 * payload size, ..., u32 arch at offset 28}, each followed by its payload
 * (compressed or not: the header says the arch either way). */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FATBIN_MAGIC 0xBA55ED50u
#define MAX_CODES 64

typedef struct {
	int n;
	int kind[MAX_CODES], arch[MAX_CODES];
} fatbin_t;

static unsigned rd16(const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	rewind(fp);
	unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = buf ? (size_t)n : 0;
	return buf;
}

/* The .nv_fatbin section of a 64-bit ELF file: its offset and size; -1 if none. */
static int find_section(const unsigned char *f, size_t len, size_t *off, size_t *size)
{
	if (len < sizeof(Elf64_Ehdr) || memcmp(f, ELFMAG, SELFMAG) || f[EI_CLASS] != ELFCLASS64) return -1;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	if (eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len || eh->e_shstrndx >= eh->e_shnum) return -1;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	const Elf64_Shdr *names = &sh[eh->e_shstrndx];
	for (int i = 0; i < eh->e_shnum; i++) {
		if (names->sh_offset + sh[i].sh_name + 11 > len) continue;
		if (strcmp((const char *)f + names->sh_offset + sh[i].sh_name, ".nv_fatbin")) continue;
		if (sh[i].sh_offset + sh[i].sh_size > len) return -1;
		*off = sh[i].sh_offset;
		*size = sh[i].sh_size;
		return 0;
	}
	return -1;
}

/* The fat binaries of the section into fb (at most max); their count, -1 if malformed. */
static int parse(const unsigned char *s, size_t size, fatbin_t *fb, int max)
{
	int n = 0;
	size_t p = 0;
	while (p + 16 <= size) {
		if (rd32(s + p) != FATBIN_MAGIC) {
			p += 8; /* padding between fat binaries */
			continue;
		}
		size_t hs = rd16(s + p + 6), end = p + hs + rd64(s + p + 8);
		if (end > size || n == max) return -1;
		fatbin_t *b = &fb[n++];
		b->n = 0;
		for (size_t e = p + hs; e + 32 <= end && b->n < MAX_CODES;) {
			size_t ehs = rd32(s + e + 4);
			uint64_t payload = rd64(s + e + 8);
			if (ehs < 32 || payload > end - e - ehs) return -1;
			b->kind[b->n] = (int)rd16(s + e);
			b->arch[b->n++] = (int)rd32(s + e + 28);
			e += ehs + payload;
		}
		p = (end + 7) & ~(size_t)7;
	}
	return n;
}

static int has(const fatbin_t *b, int kind, int arch)
{
	for (int i = 0; i < b->n; i++)
		if (b->kind[i] == kind && b->arch[i] == arch) return 1;
	return 0;
}

int main(int argc, char *argv[])
{
	const char *expect = NULL, *path = NULL;
	int ptx = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect = argv[++i];
		else if (!strcmp(argv[i], "--ptx") && i + 1 < argc) ptx = atoi(argv[++i]);
		else path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: fatbin_archs [--expect 75,80,... [--ptx 90]] FILE\n");
		return 2;
	}
	size_t len, off, size;
	unsigned char *f = slurp(path, &len);
	if (!f) {
		fprintf(stderr, "[fatbin] %s: cannot read\n", path);
		return 2;
	}
	static fatbin_t fb[256];
	int n = find_section(f, len, &off, &size) ? -2 : parse(f + off, size, fb, 256);
	if (n <= 0) {
		fprintf(stderr, "[fatbin] %s: %s\n", path, n == -2 ? "no .nv_fatbin section (not a CUDA build?)"
		                                        : n == 0 ? "empty .nv_fatbin section" : "malformed .nv_fatbin section");
		free(f);
		return 1;
	}
	int missing = 0;
	for (int i = 0; i < n; i++) {
		printf("fat binary %d:", i + 1);
		for (int j = 0; j < fb[i].n; j++)
			printf(" %s_%d", fb[i].kind[j] == 1 ? "compute" : fb[i].kind[j] == 2 ? "sm" : "kind?", fb[i].arch[j]);
		printf("\n");
		for (const char *e = expect; e && *e;) {
			int a = atoi(e);
			if (!has(&fb[i], 2, a)) printf("[fatbin] %s: fat binary %d lacks machine code for sm_%d\n", path, i + 1, a), missing++;
			e = strchr(e, ',');
			e = e ? e + 1 : NULL;
		}
		if (ptx && !has(&fb[i], 1, ptx)) printf("[fatbin] %s: fat binary %d lacks PTX for compute_%d\n", path, i + 1, ptx), missing++;
	}
	if (expect) printf("[fatbin] %s: %d fat binaries, %s\n", path, n, missing ? "code MISSING" : "every target present");
	free(f);
	return missing ? 1 : 0;
}
