/* Option groups, getopt_long with one-line errors and the number parser;
 * see opts.h. */
#include "src/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/common.h"
#include "src/log.h"

/* Rows of all the groups one command takes, and groups, at most. */
#define MAX_ROWS 160
#define MAX_USES 16
/* getopt_long's value of row i without a short letter. */
#define LONG_VAL 1000
/* Column of the help text in the usage. */
#define HELP_COL 23

/* Length of a "--name[=value]" argument's "--name". */
static int name_len(const char *arg)
{
	return (int)strcspn(arg, "=");
}

/* The long options whose names start with the name of arg ("--name[=value]"):
 * the one (exact match or the only prefix match) in *found; returns how many
 * match. */
static int long_matches(const struct option *longopts, const char *arg, const struct option **found)
{
	int n = name_len(arg) - 2, count = 0;
	*found = NULL;
	for (const struct option *o = longopts; o && o->name; o++) {
		if (strncmp(o->name, arg + 2, n)) continue;
		if ((int)strlen(o->name) == n) {
			*found = o;
			return 1;
		}
		if (!*found || (*found)->val != o->val) count++;
		*found = o;
	}
	return count;
}

int gf_getopt(int argc, char *argv[], const char *shortopts, const struct option *longopts)
{
	char spec[2 * MAX_ROWS + 2];
	snprintf(spec, sizeof spec, ":%s", shortopts);   /* ':' tells a missing argument from an unknown option */
	opterr = 0;
	int c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c != '?' && c != ':') return c;
	/* after a long option's error, and after a missing argument, optind is past the argument */
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const struct option *o;
	int is_long = !strncmp(arg, "--", 2), n = is_long ? long_matches(longopts, arg, &o) : 0;
	if (c == ':' && is_long)
		gf_error("option '%.*s' requires an argument", name_len(arg), arg);
	else if (c == ':')
		gf_error("option '-%c' requires an argument", optopt);
	else if (is_long && optopt && n == 1 && o->has_arg == no_argument && o->val == optopt && strchr(arg, '='))
		gf_error("option '--%s' takes no argument", o->name);
	else if (optopt)
		gf_error("unrecognized option '-%c'", optopt);
	else if (n > 1)
		gf_error("option '%.*s' is ambiguous", name_len(arg), arg);
	else
		gf_error("unrecognized option '%.*s'", name_len(arg), arg);
	return '?';
}

int gf_parse_number(const char *opt, const char *s, int integer, double lo, double hi, double *out)
{
	char *end;
	double v;
	errno = 0;
	if (integer) {
		long long i = strtoll(s, &end, 10);
		v = (double)i;
		if (i > (1LL << 53) || i < -(1LL << 53)) errno = ERANGE;
	} else {
		v = strtod(s, &end);
	}
	if (!*s || *end || errno || !(v >= lo && v <= hi)) {
		if (integer) gf_error("%s expects an integer in %.0f..%.0f, got '%s'", opt, lo, hi, s);
		else gf_error("%s expects a number in %g..%g, got '%s'", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

typedef struct {
	const gf_optuse_t *use;
	int i;              /* row of use->g */
} row_t;

/* Stores arg for row r; -1 to go on, else the exit status. c is what
 * getopt returned: the spelling in messages is the one the user typed. */
static int apply(const row_t *r, int c, const char *arg)
{
	const gf_opt_t *o = &r->use->g->opts[r->i];
	char *ctx = r->use->ctx, name[64];
	void *f = ctx + o->off;
	double v = 0;
	int rc = 0;
	if (c < LONG_VAL) snprintf(name, sizeof name, "-%c", c);
	else snprintf(name, sizeof name, "--%s", o->name);
	int number = o->kind == GF_OPT_INT || o->kind == GF_OPT_I64 || o->kind == GF_OPT_FLOAT || o->kind == GF_OPT_DOUBLE;
	if (number && gf_parse_number(name, arg, o->kind == GF_OPT_INT || o->kind == GF_OPT_I64, o->lo, o->hi, &v))
		return GF_EXIT_USAGE;
	switch (o->kind) {
	case GF_OPT_INT: *(int *)f = (int)v; break;
	case GF_OPT_I64: *(int64_t *)f = (int64_t)v; break;
	case GF_OPT_FLOAT: *(float *)f = (float)v; break;
	case GF_OPT_DOUBLE: *(double *)f = v; break;
	case GF_OPT_STR:
		if (!o->call || !(rc = o->call(ctx, o, arg))) *(const char **)f = arg;
		break;
	case GF_OPT_SET: *(int *)f = 1; break;
	case GF_OPT_CLEAR: *(int *)f = 0; break;
	case GF_OPT_LIST: (*(const char ***)f)[(*(int *)(ctx + o->off2))++] = arg; break;
	case GF_OPT_CALL: rc = o->call(ctx, o, arg); break;
	case GF_OPT_HELP: return GF_EXIT_OK;
	}
	if (rc) return rc;
	if (ctx) *(uint64_t *)ctx |= GF_OPT_BIT(r->i);
	return -1;
}

/* -h: the help over copies of the structs taken before parsing. */
static void help_before(const gf_cmdhelp_t *help, const gf_optuse_t *use, int n_use, void *const *before)
{
	gf_optuse_t u[MAX_USES] = { 0 };
	for (int i = 0; i < n_use && i < MAX_USES; i++) {
		u[i] = use[i];
		if (before[i]) u[i].ctx = before[i];
	}
	gf_opts_help(stdout, help, u, n_use);
}

int gf_opts_parse(int argc, char *argv[], const gf_optuse_t *use, int n_use, const gf_cmdhelp_t *help)
{
	row_t rows[MAX_ROWS];
	struct option longopts[MAX_ROWS + 1];
	char shorts[4 * MAX_ROWS + 1];
	int n = 0, nl = 0, ns = 0, c;
	for (int u = 0; u < n_use; u++)
		for (int i = 0; i < use[u].g->n && n < MAX_ROWS; i++) {
			const gf_opt_t *o = &use[u].g->opts[i];
			if (use[u].skip & GF_OPT_BIT(i)) continue;
			rows[n] = (row_t){ &use[u], i };
			if (o->name) longopts[nl++] = (struct option){ o->name, o->arg ? required_argument : no_argument, 0, LONG_VAL + n };
			for (int l = 0; l < 2; l++) {
				int letter = l ? o->alt : o->letter;
				if (!letter) continue;
				shorts[ns++] = (char)letter;
				if (o->arg) shorts[ns++] = ':';
			}
			n++;
		}
	longopts[nl] = (struct option){ 0, 0, 0, 0 };
	shorts[ns] = 0;
	void *before[MAX_USES] = { 0 };
	if (n_use > MAX_USES) n_use = MAX_USES;
	for (int u = 0; u < n_use; u++) {
		before[u] = use[u].ctx && use[u].g->size ? malloc(use[u].g->size) : NULL;
		if (before[u]) memcpy(before[u], use[u].ctx, use[u].g->size);
	}
	int rc = -1;
	while (rc < 0 && (c = gf_getopt(argc, argv, shorts, longopts)) >= 0) {
		if (c == '?') {
			rc = GF_EXIT_USAGE;
			break;
		}
		int r = c >= LONG_VAL ? c - LONG_VAL : 0;
		if (c < LONG_VAL)
			while (r < n && rows[r].use->g->opts[rows[r].i].letter != c && rows[r].use->g->opts[rows[r].i].alt != c) r++;
		rc = apply(&rows[r], c, optarg);
		if (rc == GF_EXIT_OK) help_before(help, use, n_use, before);
	}
	for (int u = 0; u < n_use; u++) free(before[u]);
	return rc;
}

/* The default in brackets of row o over the struct ctx, or "" for none. */
static const char *default_text(const gf_opt_t *o, const char *ctx, char *buf, size_t len)
{
	const void *f = ctx ? ctx + o->off : NULL;
	int flag = o->kind == GF_OPT_SET || o->kind == GF_OPT_CLEAR || o->kind == GF_OPT_LIST ||
	           o->kind == GF_OPT_CALL || o->kind == GF_OPT_HELP || !f;
	int zero = 0;
	if (!flag) {
		switch (o->kind) {
		case GF_OPT_INT: zero = !*(const int *)f; snprintf(buf, len, "%d", *(const int *)f); break;
		case GF_OPT_I64: zero = !*(const int64_t *)f; snprintf(buf, len, "%lld", (long long)*(const int64_t *)f); break;
		case GF_OPT_FLOAT: zero = !*(const float *)f; snprintf(buf, len, "%g", (double)*(const float *)f); break;
		case GF_OPT_DOUBLE: zero = !*(const double *)f; snprintf(buf, len, "%g", *(const double *)f); break;
		default: zero = !*(const char *const *)f; snprintf(buf, len, "%s", zero ? "" : *(const char *const *)f); break;
		}
	}
	if ((flag || zero) && o->dflt) snprintf(buf, len, "%s", o->dflt);
	else if (flag || (zero && o->kind == GF_OPT_STR)) buf[0] = 0;
	return buf;
}

static void print_row(FILE *fp, const gf_optuse_t *u, int i)
{
	const gf_opt_t *o = &u->g->opts[i];
	const char *help = i < u->n_help && u->help[i] ? u->help[i] : o->help;
	char left[96], def[128];
	int n = snprintf(left, sizeof left, "  ");
	if (o->letter) n += snprintf(left + n, sizeof left - n, "-%c%s", o->letter, o->name ? ", " : "");
	else n += snprintf(left + n, sizeof left - n, "    ");
	if (o->name) n += snprintf(left + n, sizeof left - n, "--%s", o->name);
	if (o->arg) n += snprintf(left + n, sizeof left - n, " %s", o->arg);
	fprintf(fp, "%-*s ", HELP_COL - 1, left);
	for (const char *p = help; *p; ) {
		size_t len = strcspn(p, "\n");
		fprintf(fp, "%.*s", (int)len, p);
		p += len;
		if (*p) fprintf(fp, "\n%*s", HELP_COL, ""), p++;
	}
	default_text(o, u->ctx, def, sizeof def);
	fprintf(fp, def[0] ? " [%s]\n" : "\n", def);
}

void gf_opts_help(FILE *fp, const gf_cmdhelp_t *help, const gf_optuse_t *use, int n_use)
{
	fputs(help->about, fp);
	for (int u = 0; u < n_use; u++) {
		const char *title = use[u].title ? use[u].title : use[u].g->title;
		int shown = 0;
		for (int i = 0; i < use[u].g->n; i++) {
			if (use[u].skip & GF_OPT_BIT(i)) continue;
			if (!shown++ && title && *title) fprintf(fp, "%s:\n", title);
			print_row(fp, &use[u], i);
		}
	}
	fputs(help->exit_status ? help->exit_status : "Exit status: 0 success, 1 error, 2 usage error.\n", fp);
}
