/* getopt_long with one-line errors; see opts.h. */
#include "src/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/log.h"

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
	char spec[128];
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

int gf_parse_int(const char *opt, const char *s, long lo, long hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi) {
		gf_error("%s expects an integer in %ld..%ld, got '%s'", opt, lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int gf_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= lo && v <= hi)) {
		gf_error("%s expects a number in %g..%g, got '%s'", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}
