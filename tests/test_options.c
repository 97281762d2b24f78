/* test_options.c — the option parser (harness/options.h), table-driven: every syntax form,
 * repeated options, ranges, "--", help, errors and "did you mean". stderr and stdout are
 * captured, so each case asserts the exact message as well as what was stored. */
#include <float.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "harness/base/err.h"
#include "harness/cli/options.h"
#include "harness/base/util.h"
#include "t.h"

/* ---- what a parse stored ----------------------------------------------------------------- */

struct targets {
    const char *out, *name, *extra;
    long limit, seed;
    double rate;
    bool quiet, verbose, cache;
    struct fe_strlist pred;
    int fail_calls;
    char fail_seen[64];
};

static int t_fail_on(const struct fe_option *opt, const char *value, const char *command)
{
    struct targets *t = opt->cb_data;
    t->fail_calls++;
    if (strcmp(value, "drift") != 0 && strcmp(value, "inconclusive") != 0)
        return fe_usage_error(command, "--fail-on: '%s': want inconclusive or drift", value);
    snprintf(t->fail_seen, sizeof(t->fail_seen), "%s", value);
    return 0;
}

static const struct fe_usage t_usage = {
    .command = "t",
    .synopsis = "usage: fteval t [options] ARGS\n",
    .epilogue = "exit codes: 0 ok, 2 usage\n",
};

/* The table under test; `extra` lives in an included table (as ft's common options do). */
static void t_table(struct targets *t, struct fe_option *common, struct fe_option *opts)
{
    const struct fe_option c[] = {
        FE_OPTION_STRING(0, "extra", &t->extra, "X", "from the included table"),
        FE_OPTION_END(),
    };
    memcpy(common, c, sizeof(c));
    const struct fe_option o[] = {
        FE_OPTION_STRING('o', "out", &t->out, "DIR", "results directory\nsecond line"),
        FE_OPTION_STRING_F(0, "name", &t->name, "N", FE_OPTF_NONEMPTY, "a non-empty name"),
        FE_OPTION_LONG('n', "limit", &t->limit, "N", 1, 100, "at most N"),
        FE_OPTION_LONG(0, "seed", &t->seed, "N", 0, LONG_MAX, "seed"),
        FE_OPTION_DOUBLE(0, "rate", &t->rate, "X", 0, 1, FE_OPTF_MAX_EXCL, "a fraction"),
        FE_OPTION_FLAG('q', "quiet", &t->quiet, "quiet"),
        FE_OPTION_FLAG('v', "verbose", &t->verbose, "verbose"),
        FE_OPTION_BOOL(0, "cache", &t->cache, "use the cache"),
        FE_OPTION_LIST('p', "pred", &t->pred, "ARM=FILE", "repeatable"),
        FE_OPTION_CALLBACK(0, "fail-on", "WHAT", t_fail_on, t, "callback"),
        FE_OPTION_GROUP("common options"),
        FE_OPTION_INCLUDE(common),
        FE_OPTION_END(),
    };
    memcpy(opts, o, sizeof(o));
}

/* ---- capture ----------------------------------------------------------------------------- */

static char t_err[4096], t_out[8192];

static void t_read_back(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

static const struct fe_usage *t_current_usage = &t_usage;

/* Parses args (NULL-terminated, without the command name) with stdout and stderr captured. */
static int t_parse(const char *const *args, struct targets *t)
{
    static struct fe_option common[2], opts[13];
    memset(t, 0, sizeof(*t));
    t->limit = 10; /* defaults survive when the option is not given */
    t->rate = 0.05;
    t_table(t, common, opts);
    static char store[16][64];
    char *argv[17];
    int argc = 0;
    snprintf(store[argc], sizeof(store[0]), "t");
    argv[argc] = store[argc];
    argc++;
    for (size_t i = 0; args[i] && argc < 16; i++, argc++) {
        snprintf(store[argc], sizeof(store[0]), "%s", args[i]);
        argv[argc] = store[argc];
    }
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *out = tmpfile(), *err = tmpfile();
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    int r = fe_parse_options(argc, argv, t_current_usage, opts);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    t_read_back(out, t_out, sizeof(t_out));
    t_read_back(err, t_err, sizeof(t_err));
    /* positionals, joined by '|', go to t_out after any help text */
    if (r > 0) {
        size_t len = strlen(t_out);
        for (int i = 0; i < r; i++)
            len += (size_t)snprintf(t_out + len, sizeof(t_out) - len, "%s%s", i ? "|" : "", argv[i]);
    }
    return r;
}

static void t_join(const struct fe_strlist *l, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < l->n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "|" : "", l->v[i]);
}

/* ---- the cases --------------------------------------------------------------------------- */

struct t_case {
    const char *args[8];
    int want;             /* number of positionals, or FE_PARSE_HELP / FE_PARSE_ERROR */
    const char *want_err; /* the exact first line on stderr ("" for none) */
    const char *out;      /* --out (NULL: not set) */
    long limit;
    double rate;
    const char *flags;    /* which of quiet, verbose, cache are set: "q", "v", "c" */
    const char *pos;      /* positionals joined by '|' (when want > 0) */
    const char *pred;     /* --pred values joined by '|' */
};

#define E_UNK(x) "fteval: error: unknown option '" x "'"
static const struct t_case cases[] = {
    /* value syntaxes */
    {{"--out", "d", NULL}, 0, "", "d", 10, 0.05, "", NULL, ""},
    {{"--out=d", NULL}, 0, "", "d", 10, 0.05, "", NULL, ""},
    {{"-o", "d", NULL}, 0, "", "d", 10, 0.05, "", NULL, ""},
    {{"-od", NULL}, 0, "", "d", 10, 0.05, "", NULL, ""},
    {{"--out=", NULL}, 0, "", "", 10, 0.05, "", NULL, ""},
    {{"--out=a=b", NULL}, 0, "", "a=b", 10, 0.05, "", NULL, ""},
    {{"--out", "-x", NULL}, 0, "", "-x", 10, 0.05, "", NULL, ""}, /* a value may start with '-' */
    {{"--out", NULL}, FE_PARSE_ERROR, "fteval: error: option '--out' needs a value", NULL, 10, 0.05, "", NULL, ""},
    {{"-o", NULL}, FE_PARSE_ERROR, "fteval: error: option '-o' needs a value", NULL, 10, 0.05, "", NULL, ""},
    {{"--name=", NULL}, FE_PARSE_ERROR, "fteval: error: option '--name' needs a value", NULL, 10, 0.05, "", NULL, ""},
    {{"--name", "", NULL}, FE_PARSE_ERROR, "fteval: error: option '--name' needs a value", NULL, 10, 0.05, "", NULL, ""},
    /* integers and ranges */
    {{"--limit", "5", NULL}, 0, "", NULL, 5, 0.05, "", NULL, ""},
    {{"--limit=100", NULL}, 0, "", NULL, 100, 0.05, "", NULL, ""},
    {{"-n1", NULL}, 0, "", NULL, 1, 0.05, "", NULL, ""},
    {{"--limit", "0", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '0' for '--limit': expected an integer in 1..100", NULL, 10, 0.05, "", NULL, ""},
    {{"--limit=101", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '101' for '--limit': expected an integer in 1..100", NULL, 10, 0.05, "", NULL, ""},
    {{"--limit", "5x", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '5x' for '--limit': expected an integer in 1..100", NULL, 10, 0.05, "", NULL, ""},
    {{"-n", "-3", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '-3' for '-n': expected an integer in 1..100", NULL, 10, 0.05, "", NULL, ""},
    {{"--limit", NULL}, FE_PARSE_ERROR, "fteval: error: option '--limit' needs a value", NULL, 10, 0.05, "", NULL, ""},
    {{"--seed=-1", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '-1' for '--seed': expected a non-negative integer", NULL, 10, 0.05, "", NULL, ""},
    {{"--seed", "99999999999999999999", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '99999999999999999999' for '--seed': expected a non-negative integer", NULL, 10,
     0.05, "", NULL, ""},
    /* doubles: [0, 1) */
    {{"--rate", "0", NULL}, 0, "", NULL, 10, 0, "", NULL, ""},
    {{"--rate=0.999", NULL}, 0, "", NULL, 10, 0.999, "", NULL, ""},
    {{"--rate=1", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '1' for '--rate': expected a number in [0, 1)", NULL, 10, 0.05, "", NULL, ""},
    {{"--rate", "nan", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value 'nan' for '--rate': expected a number in [0, 1)", NULL, 10, 0.05, "", NULL, ""},
    {{"--rate", "-0.1", NULL}, FE_PARSE_ERROR,
     "fteval: error: invalid value '-0.1' for '--rate': expected a number in [0, 1)", NULL, 10, 0.05, "", NULL, ""},
    /* flags, bundles, booleans */
    {{"-q", NULL}, 0, "", NULL, 10, 0.05, "q", NULL, ""},
    {{"--quiet", "--verbose", NULL}, 0, "", NULL, 10, 0.05, "qv", NULL, ""},
    {{"-qv", NULL}, 0, "", NULL, 10, 0.05, "qv", NULL, ""},
    {{"-qn", "7", NULL}, 0, "", NULL, 7, 0.05, "q", NULL, ""},
    {{"--quiet=1", NULL}, FE_PARSE_ERROR, "fteval: error: option '--quiet' takes no value", NULL, 10, 0.05, "", NULL, ""},
    {{"--cache", NULL}, 0, "", NULL, 10, 0.05, "c", NULL, ""},
    {{"--cache", "--no-cache", NULL}, 0, "", NULL, 10, 0.05, "", NULL, ""},
    {{"--no-cache", "--cache", NULL}, 0, "", NULL, 10, 0.05, "c", NULL, ""},
    {{"--no-quiet", NULL}, FE_PARSE_ERROR, E_UNK("--no-quiet") "; did you mean '--quiet'?", NULL, 10, 0.05, "", NULL,
     ""}, /* a flag has no --no- form */
    /* repeated options: lists append, scalars keep the last value */
    {{"--pred", "a=1", "--pred=b=2", "-p", "c=3", NULL}, 0, "", NULL, 10, 0.05, "", NULL, "a=1|b=2|c=3"},
    {{"--out", "a", "--out=b", "-o", "c", NULL}, 0, "", "c", 10, 0.05, "", NULL, ""},
    {{"--limit", "3", "--limit", "4", NULL}, 0, "", NULL, 4, 0.05, "", NULL, ""},
    /* positionals in order, "--" and "-" */
    {{"x", "--out", "o", "y", NULL}, 2, "", "o", 10, 0.05, "", "x|y", ""},
    {{"--", "--out", "z", NULL}, 2, "", NULL, 10, 0.05, "", "--out|z", ""},
    {{"a", "--", "-q", "--", NULL}, 3, "", NULL, 10, 0.05, "", "a|-q|--", ""},
    {{"-", "-q", NULL}, 1, "", NULL, 10, 0.05, "q", "-", ""},
    /* unknown options and suggestions */
    {{"--limt", "3", NULL}, FE_PARSE_ERROR, E_UNK("--limt") "; did you mean '--limit'?", NULL, 10, 0.05, "", NULL, ""},
    {{"--lim=3", NULL}, FE_PARSE_ERROR, E_UNK("--lim") "; did you mean '--limit'?", NULL, 10, 0.05, "", NULL, ""},
    {{"--verbsoe", NULL}, FE_PARSE_ERROR, E_UNK("--verbsoe") "; did you mean '--verbose'?", NULL, 10, 0.05, "", NULL,
     ""},
    {{"--extar", "x", NULL}, FE_PARSE_ERROR, E_UNK("--extar") "; did you mean '--extra'?", NULL, 10, 0.05, "", NULL, ""},
    {{"--frobnicate", NULL}, FE_PARSE_ERROR, E_UNK("--frobnicate"), NULL, 10, 0.05, "", NULL, ""},
    {{"--LIMIT", "3", NULL}, FE_PARSE_ERROR, E_UNK("--LIMIT") "; did you mean '--limit'?", NULL, 10, 0.05, "", NULL,
     ""}, /* names are case-sensitive; the suggestion is not */
    {{"-x", NULL}, FE_PARSE_ERROR, E_UNK("-x"), NULL, 10, 0.05, "", NULL, ""},
    {{"-qx", NULL}, FE_PARSE_ERROR, E_UNK("-x"), NULL, 10, 0.05, "q", NULL, ""},
    {{"-limit", "3", NULL}, FE_PARSE_ERROR, E_UNK("-limit") "; did you mean '--limit'?", NULL, 10, 0.05, "", NULL, ""},
    /* an included table's options are the table's own */
    {{"--extra=e", "--out", "o", NULL}, 0, "", "o", 10, 0.05, "", NULL, ""},
    /* callbacks: called per occurrence, their errors are usage errors */
    {{"--fail-on", "drift", "--fail-on=inconclusive", NULL}, 0, "", NULL, 10, 0.05, "", NULL, ""},
    {{"--fail-on", "x", NULL}, FE_PARSE_ERROR, "fteval: error: --fail-on: 'x': want inconclusive or drift", NULL, 10,
     0.05, "", NULL, ""},
    /* --help wins wherever it is (before "--"), and nothing is stored */
    {{"--out", "o", "--help", NULL}, FE_PARSE_HELP, "", NULL, 10, 0.05, "", NULL, ""},
    {{"--bogus", "-h", NULL}, FE_PARSE_HELP, "", NULL, 10, 0.05, "", NULL, ""},
    {{"--", "--help", NULL}, 1, "", NULL, 10, 0.05, "", "--help", ""},
};

static void t_check_case(size_t k, const struct t_case *c)
{
    struct targets t;
    int r = t_parse(c->args, &t);
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(t_err, "\n"), t_err);
    char pred[256];
    t_join(&t.pred, pred, sizeof(pred));
    char flags[4];
    snprintf(flags, sizeof(flags), "%s%s%s", t.quiet ? "q" : "", t.verbose ? "v" : "", t.cache ? "c" : "");
    bool ok = r == c->want && strcmp(line, c->want_err) == 0 &&
              (c->out ? t.out && strcmp(t.out, c->out) == 0 : t.out == NULL) && t.limit == c->limit &&
              t.rate == c->rate && strcmp(flags, c->flags) == 0 && strcmp(pred, c->pred) == 0 &&
              (c->want <= 0 || strcmp(t_out, c->pos) == 0);
    if (c->want == FE_PARSE_ERROR) /* every usage error ends with the one-line hint */
        ok = ok && strstr(t_err, "\nhint: see 'fteval t --help'\n") != NULL;
    if (!ok)
        fprintf(stderr, "case %zu (%s ...): r=%d (want %d) err='%s' (want '%s') out=%s limit=%ld rate=%g flags=%s pred=%s "
                "stdout='%s'\n", k, c->args[0], r, c->want, line, c->want_err, t.out ? t.out : "(null)", t.limit, t.rate,
                flags, pred, t_out);
    T_CHECK(ok);
    fe_strlist_release(&t.pred);
}

static void t_callback_calls(void)
{
    struct targets t;
    const char *args[] = {"--fail-on", "drift", "--fail-on=inconclusive", NULL};
    T_CHECK(t_parse(args, &t) == 0);
    T_CHECK(t.fail_calls == 2);
    T_CHECK_STR(t.fail_seen, "inconclusive");
}

static void t_help_text(void)
{
    struct targets t;
    const char *args[] = {"-h", NULL};
    T_CHECK(t_parse(args, &t) == FE_PARSE_HELP);
    T_CHECK(t_err[0] == 0); /* help goes to stdout */
    const char *head = "usage: fteval t [options] ARGS\n\noptions:\n";
    T_CHECK(strncmp(t_out, head, strlen(head)) == 0);
    T_CHECK(strstr(t_out, "\n  -o, --out DIR         results directory\n"
                          "                        second line\n") != NULL);
    T_CHECK(strstr(t_out, "\n  --name N              a non-empty name\n") != NULL);
    T_CHECK(strstr(t_out, "\n  -q, --quiet           quiet\n") != NULL);
    T_CHECK(strstr(t_out, "\n  --[no-]cache          use the cache\n") != NULL);
    T_CHECK(strstr(t_out, "\n  --fail-on WHAT        callback\n") != NULL);
    T_CHECK(strstr(t_out, "\n\ncommon options:\n  --extra X             from the included table\n") != NULL);
    T_CHECK(strstr(t_out, "\n  -h, --help            show this help and exit\n\nexit codes: 0 ok, 2 usage\n") != NULL);
}

static void t_print_head(FILE *out)
{
    fputs("usage: built at run time\n", out);
}

/* main's global options: parsing stops at the command; its options are its own. */
static void t_stop_at_arg(void)
{
    static const struct fe_usage stop = {.command = NULL, .print_synopsis = t_print_head, .stop_at_arg = true};
    t_current_usage = &stop;
    struct targets t;
    const char *a1[] = {"-q", "cmd", "--limit", "3", "--", "x", NULL};
    T_CHECK(t_parse(a1, &t) == 5);
    T_CHECK_STR(t_out, "cmd|--limit|3|--|x");
    T_CHECK(t.quiet && t.limit == 10);
    const char *a2[] = {"cmd", "--help", NULL};
    T_CHECK(t_parse(a2, &t) == 2);
    T_CHECK_STR(t_out, "cmd|--help");
    const char *a3[] = {"--help", "cmd", NULL};
    T_CHECK(t_parse(a3, &t) == FE_PARSE_HELP);
    const char *head = "usage: built at run time\n\noptions:\n";
    T_CHECK(strncmp(t_out, head, strlen(head)) == 0);
    const char *a4[] = {"--verbsoe", "cmd", NULL};
    T_CHECK(t_parse(a4, &t) == FE_PARSE_ERROR);
    T_CHECK(strstr(t_err, "unknown option '--verbsoe'; did you mean '--verbose'?\nhint: see 'fteval help'\n") != NULL);
    t_current_usage = &t_usage;
}

static void t_edit_distance(void)
{
    static const struct {
        const char *a, *b;
        size_t want;
    } d[] = {
        {"limit", "limit", 0}, {"limit", "limt", 1},     {"abc", "acb", 1}, /* transposition */
        {"", "abc", 3},        {"kitten", "sitting", 3}, {"ca", "abc", 3},  /* OSA, not Damerau: 3 */
        {"margin", "marign", 1}, {"Limit", "limit", 0},  /* ASCII case is ignored */
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(d); i++) {
        size_t got = fe_edit_distance(d[i].a, d[i].b);
        if (got != d[i].want)
            fprintf(stderr, "distance('%s', '%s') = %zu, want %zu\n", d[i].a, d[i].b, got, d[i].want);
        T_CHECK(got == d[i].want);
    }
    char longer[80];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = 0;
    T_CHECK(fe_edit_distance(longer, "a") == SIZE_MAX);
    /* a reference: the textbook dynamic program (Levenshtein without transpositions) agrees
     * whenever no adjacent pair is swapped */
    const char *words[] = {"resume", "resamples", "results", "seed", "send", "sed", "limit", "list"};
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 8; j++) {
            size_t la = strlen(words[i]), lb = strlen(words[j]), m[16][16];
            for (size_t x = 0; x <= la; x++)
                m[x][0] = x;
            for (size_t y = 0; y <= lb; y++)
                m[0][y] = y;
            for (size_t x = 1; x <= la; x++)
                for (size_t y = 1; y <= lb; y++) {
                    size_t best = m[x - 1][y - 1] + (words[i][x - 1] != words[j][y - 1]);
                    best = m[x - 1][y] + 1 < best ? m[x - 1][y] + 1 : best;
                    m[x][y] = m[x][y - 1] + 1 < best ? m[x][y - 1] + 1 : best;
                }
            T_CHECK(fe_edit_distance(words[i], words[j]) == m[la][lb]);
        }
}

static void t_nearest(void)
{
    const char *cmds[] = {"run", "score", "compare", "report", "history", "data", "ft", "sim"};
    T_CHECK_STR(fe_nearest_name("rnu", cmds, 8), "run");
    T_CHECK_STR(fe_nearest_name("comapre", cmds, 8), "compare");
    T_CHECK_STR(fe_nearest_name("hist", cmds, 8), "history"); /* the one name it is a prefix of */
    T_CHECK(fe_nearest_name("frobnicate", cmds, 8) == NULL);
    T_CHECK(fe_nearest_name("x", cmds, 8) == NULL); /* one character suggests only by prefix */
    T_CHECK(fe_nearest_name("r", cmds, 8) == NULL);  /* ambiguous prefix: run, report */
}

static void t_exit_codes(void)
{
    T_CHECK(fe_parse_exit_code(FE_PARSE_HELP) == FE_EXIT_OK);
    T_CHECK(fe_parse_exit_code(FE_PARSE_ERROR) == FE_EXIT_USAGE);
    char *argv[] = {NULL};
    T_CHECK(!fe_wants_help(0, argv));
}

int main(void)
{
    for (size_t k = 0; k < FE_ARRAY_LEN(cases); k++)
        t_check_case(k, &cases[k]);
    t_callback_calls();
    t_help_text();
    t_stop_at_arg();
    t_edit_distance();
    t_nearest();
    t_exit_codes();
    return T_DONE();
}
