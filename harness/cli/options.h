/* options.h — the one command-line option parser of every fteval command, and fe_usage_error.
 *
 * git's parse-options is the model: each command describes its options in a table of
 * struct fe_option (built with the FE_OPTION_* macros, usually as a local array so the targets
 * can be the command's own variables) and calls fe_parse_options() once. The parser does the
 * rest the same way for every command:
 *
 *   --name VALUE, --name=VALUE   long option with a value (the value may start with '-')
 *   -x VALUE, -xVALUE            short option with a value
 *   -qv                          bundled short flags
 *   --name, -x                   flag; "--name=VALUE" on a flag is an error
 *   --no-name                    turns a FE_OPT_BOOL off (a flag table entry named "no-x" wins)
 *   --                           ends the options: everything after it is positional
 *   -                            a positional argument (stdin by convention)
 *   --help, -h                   anywhere before "--": prints the help generated from the table
 *                                on stdout and makes the command exit 0
 *
 * Repeated options: a FE_OPT_LIST appends every value in order, a FE_OPT_CALLBACK is called
 * once per occurrence (it decides); every scalar (string, number, flag) keeps the LAST value
 * given, as in git. Numbers are validated against the entry's range
 * before the command sees them. Positional arguments are collected in order.
 *
 * Errors are usage errors (exit 2): "unknown option '--limt'; did you mean '--limit'?" (the
 * suggestion is the nearest long name by edit distance, or the one long name the argument is
 * a prefix of), "option '--out' needs a value", "invalid value 'x' for '--limit': expected an
 * integer in 1..100000". Abbreviated long options are NOT accepted: a script that works today
 * keeps working when an option is added.
 *
 * Help text is generated: the usage's synopsis, then one line per table entry ("  -o, --out DIR"
 * padded to column 24, then the entry's help), "-h, --help", then the epilogue.
 *
 * Ownership: string values and positional arguments are borrowed from argv; the parser
 * allocates nothing except the arrays of FE_OPT_LIST entries (release with fe_strlist_release).
 */
#ifndef FE_OPTIONS_H
#define FE_OPTIONS_H

#include <float.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fe_opt_kind {
    FE_OPT_END = 0,  /* terminates a table */
    FE_OPT_FLAG,     /* bool *: set to true; takes no value */
    FE_OPT_BOOL,     /* bool *: --x sets true, --no-x sets false */
    FE_OPT_STRING,   /* const char **: the value, borrowed from argv */
    FE_OPT_LONG,     /* long *: an integer in [lmin, lmax] */
    FE_OPT_DOUBLE,   /* double *: a finite number in [dmin, dmax] (bounds may be exclusive) */
    FE_OPT_LIST,     /* struct fe_strlist *: every value appended, in order */
    FE_OPT_CALLBACK, /* cb(opt, value, command) validates and stores the value itself */
    FE_OPT_INCLUDE,  /* include: another table whose options belong to this one too */
    FE_OPT_GROUP,    /* no option: a heading in the generated help */
};

/* Flags of an entry. */
enum {
    FE_OPTF_NONEMPTY = 1 << 0, /* an empty value ("--x=" or "--x ''") counts as missing */
    FE_OPTF_MIN_EXCL = 1 << 1, /* FE_OPT_DOUBLE: the lower bound itself is not allowed */
    FE_OPTF_MAX_EXCL = 1 << 2, /* FE_OPT_DOUBLE: the upper bound itself is not allowed */
    FE_OPTF_NOARG = 1 << 3,    /* FE_OPT_CALLBACK: takes no value (cb gets NULL) */
};

/* A growable array of borrowed strings (FE_OPT_LIST). Zero-initialised is empty. */
struct fe_strlist {
    const char **v;
    size_t n;
};
void fe_strlist_release(struct fe_strlist *l); /* frees the array, not the strings */

struct fe_option;
/* Stores value (NULL with FE_OPTF_NOARG). Returns 0, or the result of fe_usage_error(command,
 * ...) after printing why the value is wrong. */
typedef int (*fe_opt_cb)(const struct fe_option *opt, const char *value, const char *command);

struct fe_option {
    enum fe_opt_kind kind;
    const char *long_name; /* without the dashes; NULL: short only (or a group heading) */
    char short_name;       /* 0: none */
    void *value;           /* target, typed by kind (see enum fe_opt_kind) */
    const char *argh;      /* the value's name in help ("N", "FILE") */
    const char *help;      /* help text; "\n" continues on an indented line */
    unsigned flags;        /* FE_OPTF_* */
    long lmin, lmax;       /* FE_OPT_LONG range, inclusive */
    double dmin, dmax;     /* FE_OPT_DOUBLE range */
    fe_opt_cb cb;          /* FE_OPT_CALLBACK */
    void *cb_data;         /* FE_OPT_CALLBACK: for the callback's own use */
    bool *seen;            /* optional: set to true when the option is given */
    const struct fe_option *include; /* FE_OPT_INCLUDE: the included table */
};

/* Table builders (s: short name or 0, l: long name, v: target, a: value name, h: help).
 * Ranges: FE_OPTION_LONG's [lo, hi] is inclusive, an open end is LONG_MIN / LONG_MAX;
 * FE_OPTION_DOUBLE's bounds are inclusive unless f has FE_OPTF_MIN_EXCL / FE_OPTF_MAX_EXCL,
 * an open end is -DBL_MAX / DBL_MAX. */
#define FE_OPTION_FLAG(s, l, v, h) {.kind = FE_OPT_FLAG, .long_name = (l), .short_name = (s), .value = (v), .help = (h)}
#define FE_OPTION_BOOL(s, l, v, h) {.kind = FE_OPT_BOOL, .long_name = (l), .short_name = (s), .value = (v), .help = (h)}
#define FE_OPTION_STRING(s, l, v, a, h)                                                            \
    {.kind = FE_OPT_STRING, .long_name = (l), .short_name = (s), .value = (v), .argh = (a), .help = (h)}
#define FE_OPTION_STRING_F(s, l, v, a, f, h)                                                      \
    {.kind = FE_OPT_STRING, .long_name = (l), .short_name = (s), .value = (v), .argh = (a),          \
     .flags = (f), .help = (h)}
#define FE_OPTION_LONG(s, l, v, a, lo, hi, h)                                                       \
    {.kind = FE_OPT_LONG, .long_name = (l), .short_name = (s), .value = (v), .argh = (a),            \
     .help = (h), .lmin = (lo), .lmax = (hi)}
#define FE_OPTION_DOUBLE(s, l, v, a, lo, hi, f, h)                                                  \
    {.kind = FE_OPT_DOUBLE, .long_name = (l), .short_name = (s), .value = (v), .argh = (a),          \
     .help = (h), .dmin = (lo), .dmax = (hi), .flags = (f)}
#define FE_OPTION_LIST(s, l, v, a, h)                                                               \
    {.kind = FE_OPT_LIST, .long_name = (l), .short_name = (s), .value = (v), .argh = (a), .help = (h)}
#define FE_OPTION_CALLBACK(s, l, a, fn, data, h)                                                    \
    {.kind = FE_OPT_CALLBACK, .long_name = (l), .short_name = (s), .argh = (a), .cb = (fn),          \
     .cb_data = (data), .help = (h)}
#define FE_OPTION_INCLUDE(table) {.kind = FE_OPT_INCLUDE, .include = (table)}
#define FE_OPTION_GROUP(title) {.kind = FE_OPT_GROUP, .help = (title)}
#define FE_OPTION_END() {.kind = FE_OPT_END}

/* What a command's help says around the generated option list, and how it parses. */
struct fe_usage {
    const char *command;  /* "run", "data check": names the command in errors and hints */
    const char *synopsis; /* "usage: ..." lines and a description, printed before the options */
    const char *epilogue; /* printed after the options (exit codes); may be NULL */
    void (*print_synopsis)(FILE *out); /* instead of synopsis, for text built at run time */
    bool stop_at_arg;     /* options end at the first positional argument (main's global
                           * options end at the command): it and all after it are positional,
                           * and only the arguments before it are scanned for --help */
};

/* fe_parse_options's results below zero; fe_parse_exit_code maps them to the exit code. */
enum { FE_PARSE_HELP = -1, FE_PARSE_ERROR = -2 };

/* Parses argv[1..argc) (argv[0] is the command's name) against opts. On success returns the
 * number of positional arguments, moved in order to argv[0..n) (argv[0] is overwritten; the
 * strings themselves are untouched). With --help or -h before "--", prints the help and
 * returns FE_PARSE_HELP without parsing or storing anything; after a usage error (already
 * printed through fe_usage_error) returns FE_PARSE_ERROR. Targets of options that are not
 * given keep their values, so initialise them to the defaults first. */
int fe_parse_options(int argc, char **argv, const struct fe_usage *u, const struct fe_option *opts);
int fe_parse_exit_code(int parse_result); /* FE_PARSE_HELP -> 0, FE_PARSE_ERROR -> 2 */

/* Prints u's synopsis, the option list generated from opts and the epilogue. */
void fe_options_print_help(FILE *out, const struct fe_usage *u, const struct fe_option *opts);
/* Prints only the option lines of opts (for commands whose help combines several tables). */
void fe_options_print_list(FILE *out, const struct fe_option *opts);

/* True when argv[1..argc) has --help or -h before any "--" (for command dispatchers). */
bool fe_wants_help(int argc, char **argv);

/* Prints "fteval: error: <msg>" and the one-line hint "hint: see 'fteval <command> --help'"
 * (or 'fteval help' without a command) to stderr; returns FE_EXIT_USAGE (2). Messages follow
 * git: lowercase, the problem first, the subject in quotes. */
int fe_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The name among names[0..n) that typed is probably a typo of (the same rule as for options:
 * the one name typed is a prefix of, else the nearest within a distance that grows with the
 * length of typed; fe_edit_distance in util.h), or NULL. For "did you mean" on subcommands
 * and commands. */
const char *fe_nearest_name(const char *typed, const char *const *names, size_t n);

#endif
