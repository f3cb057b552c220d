/* Option parsing shared by every command.
 *
 * Options come in groups (src/optgroups.h: input, compute, architecture,
 * optimisation, output, verbosity; a command's own options are a group of
 * its own). A group is one table: each row is an option's spelling, the
 * field of the group's struct it sets, its bounds and its help. From that
 * one table come the getopt_long fragment, the handler that checks bounds
 * and stores the value, and the usage lines, whose defaults in brackets are
 * read from a struct the command's initialiser filled (minimap2's `[%d]`
 * habit: the text can never disagree with the code). A command lists the
 * groups it takes (gf_optuse_t) and calls gf_opts_parse.
 *
 * Errors are one line in the tool's style, "[command] error: unrecognized
 * option '--frobnicate'", instead of getopt's "command: unrecognized ...". */
#ifndef GF_OPTS_H
#define GF_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
	GF_OPT_INT,     /* int field, whole-string integer in [lo, hi] */
	GF_OPT_I64,     /* int64_t field (integers up to 2^53 exactly) */
	GF_OPT_FLOAT,   /* float field, number in [lo, hi] */
	GF_OPT_DOUBLE,  /* double field */
	GF_OPT_STR,     /* const char * field */
	GF_OPT_SET,     /* int field set to 1; no argument */
	GF_OPT_CLEAR,   /* int field set to 0; no argument */
	GF_OPT_LIST,    /* const char ** field (room for argc entries) appended to; int count at off2 */
	GF_OPT_CALL,    /* call(ctx, opt, arg) parses and stores */
	GF_OPT_HELP,    /* -h: prints the usage to stdout, exit 0 */
} gf_opt_kind_t;

typedef struct gf_opt gf_opt_t;
struct gf_opt {
	int letter;              /* short option, or 0 */
	const char *name;        /* long option without "--", or NULL (e.g. -k) */
	gf_opt_kind_t kind;
	size_t off;              /* the field in the group's struct */
	double lo, hi;           /* bounds of a number */
	const char *arg;         /* "INT", "FILE", ...; NULL: no argument */
	const char *help;        /* '\n' starts a continuation line */
	/* The default in brackets: for a flag or a list always this text; for
	 * a value this text when the field is 0 or NULL ("all cores", "k",
	 * "none", "required"), else the field's value. NULL: no brackets for a
	 * flag; the value for a value. */
	const char *dflt;
	int alt;                 /* a second short letter, or 0 (-@ for -t) */
	size_t off2;             /* GF_OPT_LIST: the int count */
	/* GF_OPT_CALL: parses and stores; GF_OPT_STR: checks before the value
	 * is stored. 0, or the exit status after a message (a usage error is
	 * GF_EXIT_USAGE, an unreadable file GF_EXIT_ERROR). A GF_OPT_CALL row
	 * shows dflt as its default. */
	int (*call)(void *ctx, const gf_opt_t *opt, const char *arg);
};

/* A group: a title for the usage and its rows. The group's struct starts
 * with a uint64_t of given bits: bit i is set when row i was on the
 * command line (a command tells "not given" from "given the default"). */
typedef struct {
	const char *title;
	const gf_opt_t *opts;
	int n;
	size_t size;             /* of the group's struct (0 for none) */
} gf_optgroup_t;

#define GF_OPT_BIT(i) ((uint64_t)1 << (i))
/* A group of the rows of array over structs of type. */
#define GF_GROUP(title, array, type) { (title), (array), (int)(sizeof(array) / sizeof *(array)), sizeof(type) }

/* A group a command takes: its struct (NULL for groups without fields,
 * e.g. verbosity), rows it leaves out (bits), and optionally another title
 * and other help texts (help[i], i < n_help, replaces row i's when
 * non-NULL; GF_HELP(array) sets both). */
typedef struct {
	const gf_optgroup_t *g;
	void *ctx;
	uint64_t skip;
	const char *title;
	const char *const *help;
	int n_help;
} gf_optuse_t;
#define GF_HELP(array) .help = (array), .n_help = (int)(sizeof(array) / sizeof *(array))

/* What -h says around the groups' lines: the usage line(s) and what the
 * command does, and the exit status (NULL: "0 success, 1 error, 2 usage
 * error"). */
typedef struct {
	const char *about;
	const char *exit_status;
} gf_cmdhelp_t;

/* Parses argv with the groups in use. Returns -1 to go on (optind is the
 * first operand), GF_EXIT_OK after -h printed the help to stdout (with the
 * values the structs held before parsing as defaults), or an exit status
 * after a one-line message. */
int gf_opts_parse(int argc, char *argv[], const gf_optuse_t *use, int n_use, const gf_cmdhelp_t *help);

/* The help: about, the groups' lines with defaults read from their structs
 * ("  -t, --threads INT    compute threads [all cores]"), the exit status. */
void gf_opts_help(FILE *fp, const gf_cmdhelp_t *help, const gf_optuse_t *use, int n_use);

/* getopt_long(argc, argv, shortopts, longopts, NULL), except that on an
 * option error it prints the line and returns '?'. shortopts must not
 * start with ':', '+' or '-'. */
int gf_getopt(int argc, char *argv[], const char *shortopts, const struct option *longopts);

/* The one number parser. Whole string; integer: decimal digits only (read
 * exactly, |v| <= 2^53), else any strtod number; in [lo, hi]. 0, or -1
 * after a usage error naming opt: "--batch expects an integer in 1..65536,
 * got '0'". */
int gf_parse_number(const char *opt, const char *s, int integer, double lo, double hi, double *out);

#endif
