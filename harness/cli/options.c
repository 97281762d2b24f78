/* options.c — the table-driven option parser (options.h) and fe_usage_error.
 *
 * One pass over argv in order; every option is looked up in the table (and the tables it
 * includes), its value taken from "=VALUE", the rest of a short-option bundle or the next
 * argument, validated by kind and stored. Nothing is stored when --help is asked for: help
 * wins wherever it appears, as it did before this parser existed.
 */
#include "harness/cli/options.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/err.h"
#include "harness/base/util.h"

#define FE_HELP_COLUMN 24 /* where help text starts in the generated option list */

int fe_usage_error(const char *command, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fteval: error: %s\n", msg);
    if (command)
        fprintf(stderr, "hint: see 'fteval %s --help'\n", command);
    else
        fprintf(stderr, "hint: see 'fteval help'\n");
    return FE_EXIT_USAGE;
}

void fe_strlist_release(struct fe_strlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Help is asked for before "--" (and, when stop_at_arg, before the first positional). */
static bool fe_help_before(int argc, char **argv, bool stop_at_arg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 || (stop_at_arg && (argv[i][0] != '-' || !argv[i][1])))
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

bool fe_wants_help(int argc, char **argv)
{
    return fe_help_before(argc, argv, false);
}

int fe_parse_exit_code(int parse_result)
{
    return parse_result == FE_PARSE_HELP ? FE_EXIT_OK : FE_EXIT_USAGE;
}

/* ---- lookup --------------------------------------------------------------------------------- */

static const struct fe_option *fe_find_long(const struct fe_option *opts, const char *name, size_t len)
{
    for (const struct fe_option *o = opts; o->kind != FE_OPT_END; o++) {
        if (o->kind == FE_OPT_INCLUDE) {
            const struct fe_option *found = fe_find_long(o->include, name, len);
            if (found)
                return found;
        } else if (o->kind != FE_OPT_GROUP && o->long_name && strlen(o->long_name) == len &&
                   strncmp(o->long_name, name, len) == 0) {
            return o;
        }
    }
    return NULL;
}

static const struct fe_option *fe_find_short(const struct fe_option *opts, char c)
{
    for (const struct fe_option *o = opts; o->kind != FE_OPT_END; o++) {
        if (o->kind == FE_OPT_INCLUDE) {
            const struct fe_option *found = fe_find_short(o->include, c);
            if (found)
                return found;
        } else if (o->kind != FE_OPT_GROUP && o->short_name && o->short_name == c) {
            return o;
        }
    }
    return NULL;
}

/* "Did you mean": candidates are offered one at a time; the answer is the one candidate typed
 * is a prefix of, else the nearest candidate within a distance that grows with typed's length
 * (0 for one character, 1 up to 3, 2 up to 7, else 3), the first one on ties. */
struct fe_suggestion {
    const char *typed;
    size_t typed_len;
    size_t best_distance;  /* one more than the largest distance still accepted */
    const char *best;      /* nearest candidate */
    const char *prefix_of; /* a candidate typed is a prefix of */
    size_t n_prefix;
};

static void fe_suggestion_init(struct fe_suggestion *s, const char *typed)
{
    size_t len = strlen(typed);
    *s = (struct fe_suggestion){.typed = typed, .typed_len = len,
                                .best_distance = (len <= 1 ? 0 : len <= 3 ? 1 : len <= 7 ? 2 : 3) + 1};
}

static void fe_suggestion_offer(struct fe_suggestion *s, const char *candidate)
{
    if (s->typed_len && strncmp(candidate, s->typed, s->typed_len) == 0) {
        s->prefix_of = candidate;
        s->n_prefix++;
    }
    size_t d = fe_edit_distance(s->typed, candidate);
    if (d < s->best_distance) {
        s->best_distance = d;
        s->best = candidate;
    }
}

static const char *fe_suggestion_result(const struct fe_suggestion *s)
{
    return s->n_prefix == 1 ? s->prefix_of : s->best;
}

static void fe_suggest_visit(const struct fe_option *opts, struct fe_suggestion *s)
{
    for (const struct fe_option *o = opts; o->kind != FE_OPT_END; o++) {
        if (o->kind == FE_OPT_INCLUDE)
            fe_suggest_visit(o->include, s);
        else if (o->kind != FE_OPT_GROUP && o->long_name)
            fe_suggestion_offer(s, o->long_name);
    }
}

/* The long name the user probably meant by typed (without dashes), or NULL. */
static const char *fe_suggest(const struct fe_option *opts, const char *typed)
{
    struct fe_suggestion s;
    fe_suggestion_init(&s, typed);
    fe_suggest_visit(opts, &s);
    return fe_suggestion_result(&s);
}

const char *fe_nearest_name(const char *typed, const char *const *names, size_t n)
{
    struct fe_suggestion s;
    fe_suggestion_init(&s, typed);
    for (size_t i = 0; i < n; i++)
        fe_suggestion_offer(&s, names[i]);
    return fe_suggestion_result(&s);
}

/* ---- storing values ------------------------------------------------------------------------- */

static void fe_describe_long_range(const struct fe_option *o, char *out, size_t size)
{
    if (o->lmin == LONG_MIN && o->lmax == LONG_MAX)
        snprintf(out, size, "an integer");
    else if (o->lmax == LONG_MAX && o->lmin == 0)
        snprintf(out, size, "a non-negative integer");
    else if (o->lmax == LONG_MAX && o->lmin == 1)
        snprintf(out, size, "a positive integer");
    else if (o->lmax == LONG_MAX)
        snprintf(out, size, "an integer >= %ld", o->lmin);
    else if (o->lmin == LONG_MIN)
        snprintf(out, size, "an integer <= %ld", o->lmax);
    else
        snprintf(out, size, "an integer in %ld..%ld", o->lmin, o->lmax);
}

static void fe_describe_double_range(const struct fe_option *o, char *out, size_t size)
{
    bool lo_open = o->flags & FE_OPTF_MIN_EXCL, hi_open = o->flags & FE_OPTF_MAX_EXCL;
    bool no_lo = o->dmin <= -DBL_MAX, no_hi = o->dmax >= DBL_MAX;
    if (no_lo && no_hi)
        snprintf(out, size, "a number");
    else if (no_hi)
        snprintf(out, size, "a number %s %g", lo_open ? ">" : ">=", o->dmin);
    else if (no_lo)
        snprintf(out, size, "a number %s %g", hi_open ? "<" : "<=", o->dmax);
    else
        snprintf(out, size, "a number in %c%g, %g%c", lo_open ? '(' : '[', o->dmin, o->dmax,
                 hi_open ? ')' : ']');
}

static bool fe_double_in_range(const struct fe_option *o, double v)
{
    if (!isfinite(v))
        return false;
    bool lo_ok = (o->flags & FE_OPTF_MIN_EXCL) ? v > o->dmin : v >= o->dmin;
    bool hi_ok = (o->flags & FE_OPTF_MAX_EXCL) ? v < o->dmax : v <= o->dmax;
    return lo_ok && hi_ok;
}

static bool fe_takes_value(const struct fe_option *o)
{
    switch (o->kind) {
    case FE_OPT_FLAG:
    case FE_OPT_BOOL:
        return false;
    case FE_OPT_CALLBACK:
        return !(o->flags & FE_OPTF_NOARG);
    default:
        return true;
    }
}

/* Validates and stores one occurrence of o; shown is how the user spelled its name. Returns 0
 * or FE_EXIT_USAGE after printing the error. */
static int fe_store(const struct fe_option *o, const char *shown, const char *value, bool negated,
                    const char *command)
{
    if (fe_takes_value(o) && (!value || ((o->flags & FE_OPTF_NONEMPTY) && !*value)))
        return fe_usage_error(command, "option '%s' needs a value", shown);
    char range[96];
    switch (o->kind) {
    case FE_OPT_FLAG:
        *(bool *)o->value = true;
        break;
    case FE_OPT_BOOL:
        *(bool *)o->value = !negated;
        break;
    case FE_OPT_STRING:
        *(const char **)o->value = value;
        break;
    case FE_OPT_LONG: {
        long v;
        if (!fe_parse_long(value, &v) || v < o->lmin || v > o->lmax) {
            fe_describe_long_range(o, range, sizeof(range));
            return fe_usage_error(command, "invalid value '%s' for '%s': expected %s", value, shown, range);
        }
        *(long *)o->value = v;
        break;
    }
    case FE_OPT_DOUBLE: {
        double v;
        if (!fe_parse_double(value, &v) || !fe_double_in_range(o, v)) {
            fe_describe_double_range(o, range, sizeof(range));
            return fe_usage_error(command, "invalid value '%s' for '%s': expected %s", value, shown, range);
        }
        *(double *)o->value = v;
        break;
    }
    case FE_OPT_LIST: {
        struct fe_strlist *l = o->value;
        l->v = fe_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
        l->v[l->n++] = value;
        break;
    }
    case FE_OPT_CALLBACK: {
        int rc = o->cb(o, value, command);
        if (rc)
            return rc;
        break;
    }
    default:
        return fe_usage_error(command, "option '%s' is not usable (a bug in its table)", shown);
    }
    if (o->seen)
        *o->seen = true;
    return 0;
}

/* ---- parsing -------------------------------------------------------------------------------- */

struct fe_parse_state {
    int argc;
    char **argv;
    int i; /* the argument being parsed */
    const struct fe_usage *u;
    const struct fe_option *opts;
};

static int fe_unknown_long(const struct fe_parse_state *ps, const char *name, size_t len)
{
    char typed[128];
    snprintf(typed, sizeof(typed), "%.*s", (int)(len < 100 ? len : 100), name);
    const char *guess = fe_suggest(ps->opts, typed);
    if (guess)
        return fe_usage_error(ps->u->command, "unknown option '--%s'; did you mean '--%s'?", typed, guess);
    return fe_usage_error(ps->u->command, "unknown option '--%s'", typed);
}

/* argv[ps->i] is "--name", "--name=VALUE" or "--no-name". */
static int fe_parse_long_opt(struct fe_parse_state *ps)
{
    const char *name = ps->argv[ps->i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    bool negated = false;
    const struct fe_option *o = fe_find_long(ps->opts, name, len);
    if (!o && len > 3 && strncmp(name, "no-", 3) == 0) {
        o = fe_find_long(ps->opts, name + 3, len - 3);
        if (o && o->kind != FE_OPT_BOOL)
            o = NULL;
        negated = o != NULL;
    }
    if (!o)
        return fe_unknown_long(ps, name, len);
    char shown[128];
    snprintf(shown, sizeof(shown), "--%.*s", (int)(len < 100 ? len : 100), name);
    const char *value = NULL;
    if (!fe_takes_value(o)) {
        if (eq)
            return fe_usage_error(ps->u->command, "option '%s' takes no value", shown);
    } else if (eq) {
        value = eq + 1;
    } else if (ps->i + 1 < ps->argc) {
        value = ps->argv[++ps->i];
    }
    return fe_store(o, shown, value, negated, ps->u->command);
}

/* argv[ps->i] is "-x", "-xVALUE" or a bundle of flags "-qv". */
static int fe_parse_short_opts(struct fe_parse_state *ps)
{
    const char *arg = ps->argv[ps->i];
    for (size_t j = 1; arg[j]; j++) {
        const struct fe_option *o = fe_find_short(ps->opts, arg[j]);
        if (!o) {
            /* "-limit" is probably "--limit" */
            if (j == 1 && arg[2] && fe_find_long(ps->opts, arg + 1, strcspn(arg + 1, "=")))
                return fe_usage_error(ps->u->command, "unknown option '%s'; did you mean '-%s'?", arg, arg);
            return fe_usage_error(ps->u->command, "unknown option '-%c'", arg[j]);
        }
        char shown[4] = {'-', arg[j], 0, 0};
        if (!fe_takes_value(o)) {
            int rc = fe_store(o, shown, NULL, false, ps->u->command);
            if (rc)
                return rc;
            continue;
        }
        const char *value = arg[j + 1] ? arg + j + 1 : ps->i + 1 < ps->argc ? ps->argv[++ps->i] : NULL;
        return fe_store(o, shown, value, false, ps->u->command);
    }
    return 0;
}

int fe_parse_options(int argc, char **argv, const struct fe_usage *u, const struct fe_option *opts)
{
    if (fe_help_before(argc, argv, u->stop_at_arg)) {
        fe_options_print_help(stdout, u, opts);
        return FE_PARSE_HELP;
    }
    struct fe_parse_state ps = {.argc = argc, .argv = argv, .u = u, .opts = opts};
    int n_pos = 0;
    bool only_positional = false;
    for (ps.i = 1; ps.i < argc; ps.i++) {
        char *arg = argv[ps.i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            argv[n_pos++] = arg; /* n_pos < ps.i: only already-read slots are overwritten */
            only_positional = only_positional || u->stop_at_arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        int rc = arg[1] == '-' ? fe_parse_long_opt(&ps) : fe_parse_short_opts(&ps);
        if (rc)
            return FE_PARSE_ERROR;
    }
    return n_pos;
}

/* ---- help ----------------------------------------------------------------------------------- */

static void fe_print_option_line(FILE *out, const struct fe_option *o)
{
    char left[128];
    int n = 0;
    if (o->short_name && o->long_name)
        n = snprintf(left, sizeof(left), "-%c, --%s%s", o->short_name, o->kind == FE_OPT_BOOL ? "[no-]" : "",
                     o->long_name);
    else if (o->short_name)
        n = snprintf(left, sizeof(left), "-%c", o->short_name);
    else
        n = snprintf(left, sizeof(left), "--%s%s", o->kind == FE_OPT_BOOL ? "[no-]" : "", o->long_name);
    if (fe_takes_value(o) && n >= 0 && (size_t)n < sizeof(left))
        snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argh ? o->argh : "VALUE");
    fprintf(out, "  %s", left);
    size_t used = 2 + strlen(left);
    if (used + 1 >= FE_HELP_COLUMN) {
        fputc('\n', out);
        used = 0;
    }
    fprintf(out, "%*s", (int)(FE_HELP_COLUMN - used), "");
    for (const char *h = o->help ? o->help : ""; *h; h++) {
        fputc(*h, out);
        if (*h == '\n')
            fprintf(out, "%*s", FE_HELP_COLUMN, "");
    }
    fputc('\n', out);
}

void fe_options_print_list(FILE *out, const struct fe_option *opts)
{
    for (const struct fe_option *o = opts; o->kind != FE_OPT_END; o++) {
        if (o->kind == FE_OPT_INCLUDE)
            fe_options_print_list(out, o->include);
        else if (o->kind == FE_OPT_GROUP)
            fprintf(out, "\n%s:\n", o->help);
        else
            fe_print_option_line(out, o);
    }
}

void fe_options_print_help(FILE *out, const struct fe_usage *u, const struct fe_option *opts)
{
    if (u->print_synopsis)
        u->print_synopsis(out);
    else if (u->synopsis)
        fputs(u->synopsis, out);
    if (opts[0].kind != FE_OPT_GROUP)
        fputs("\noptions:\n", out);
    fe_options_print_list(out, opts);
    static const struct fe_option help = {
        .kind = FE_OPT_FLAG, .long_name = "help", .short_name = 'h', .help = "show this help and exit"};
    fe_print_option_line(out, &help);
    if (u->epilogue) {
        fputc('\n', out);
        fputs(u->epilogue, out);
    }
}
