/* cmd_data.c — `fteval data check`, `data split` and `data to-chat` (data_to_chat.c) (docs/data.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/data/data_check.h"
#include "harness/data/data_split.h"
#include "harness/base/err.h"
#include "harness/base/util.h"
#include "harness/run/data_to_chat.h"

static const struct fe_usage fe_data_check_usage = {
    .command = "data check",
    .synopsis =
        "usage: fteval data check FILE [--against HELDOUT] [--config CONFIG] [--json OUT]\n"
        "                          [--n-epochs N] [--model M] [--prices FILE] [--mde X]\n"
        "                          [--near-threshold J] [--max-findings N] [--for finetune|eval]\n"
        "\n"
        "check: format (chat, DPO or plain shape; roles, weight, tool_call_id, UTF-8, JSON), size,\n"
        "  PII (e-mail, phone, card with Luhn, SSN, IPv4/IPv6, API keys; always redacted), exact and\n"
        "  near duplicates (character 5-gram Jaccard >= 0.9), leakage of HELDOUT into FILE, label\n"
        "  balance, lengths and estimated tokens (ceil(chars/4)), training cost with --model and\n"
        "  --prices, and the production format of --config (system prompt, template).\n"
        "  --for finetune: every row OpenAI's fine-tuning would reject blocks (plain-shape rows,\n"
        "  a last message that is not the assistant's, empty content, < 10 examples); --for eval:\n"
        "  a held-out set (plain rows are fine). Default: plain rows are one warning.\n",
    .epilogue = "exit: 0 nothing blocks (warnings allowed), 1 something blocks (format errors, PII,\n"
                "      leakage), 2 usage error, 3 unreadable or invalid input, 4 cannot write output\n",
};

static const struct fe_usage fe_data_split_usage = {
    .command = "data split",
    .synopsis =
        "usage: fteval data split FILE --test-fraction F --seed N --train OUT --test OUT\n"
        "                          [--stratify-by FIELD | --no-stratify] [--near-threshold J]\n"
        "\n"
        "split: deterministic (same file and seed give the same bytes), stratified by label when\n"
        "  labels exist, duplicates, near duplicates and equal ids always on one side.\n",
    .epilogue = "exit: 0 written, 2 usage error, 3 unreadable or invalid input, 4 cannot write output\n",
};

/* The command line of `data check`: its options and the table that fills them. */
struct fe_check_cli {
    struct fe_data_check_opts o;
    const char *json_out;
    long max_findings;
    struct fe_option opts[11];
};

/* --for finetune|eval: what the file is for (data_check.h, enum fe_data_purpose). */
static int fe_check_opt_for(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_data_check_opts *o = opt->cb_data;
    if (strcmp(v, "finetune") == 0)
        o->purpose = FE_DATA_FOR_FINETUNE;
    else if (strcmp(v, "eval") == 0)
        o->purpose = FE_DATA_FOR_EVAL;
    else
        return fe_usage_error(command, "--for: expected finetune or eval, got '%s'", v);
    return 0;
}

static void fe_check_cli_init(struct fe_check_cli *c)
{
    memset(c, 0, sizeof(*c));
    fe_data_check_opts_init(&c->o);
    c->max_findings = (long)c->o.max_findings;
    const struct fe_option opts[] = {
        FE_OPTION_STRING(0, "against", &c->o.against, "HELDOUT", "the held-out set: leakage of HELDOUT into FILE"),
        FE_OPTION_STRING(0, "config", &c->o.config, "CONFIG",
                         "check the production format of CONFIG (system prompt, template)"),
        FE_OPTION_STRING(0, "json", &c->json_out, "OUT",
                         "write the report as JSON (OUT '-' = stdout instead of the text report)"),
        FE_OPTION_LONG(0, "n-epochs", &c->o.n_epochs, "N", 1, 50, "epochs of the training cost estimate (default 3)"),
        FE_OPTION_STRING(0, "model", &c->o.model, "M", "model whose price gives the training cost"),
        FE_OPTION_STRING(0, "prices", &c->o.prices, "FILE", "price table for the training cost"),
        FE_OPTION_DOUBLE(0, "mde", &c->o.mde, "X", 0, 1, FE_OPTF_MIN_EXCL | FE_OPTF_MAX_EXCL,
                         "warn when the held-out set is smaller than (2.80^2 * 0.5) / X^2 examples"),
        FE_OPTION_DOUBLE(0, "near-threshold", &c->o.near_threshold, "J", 0, 1, FE_OPTF_MIN_EXCL,
                         "Jaccard similarity of near duplicates (default 0.9)"),
        FE_OPTION_LONG(0, "max-findings", &c->max_findings, "N", 1, LONG_MAX, "findings listed per check (default 200)"),
        FE_OPTION_CALLBACK(0, "for", "finetune|eval", fe_check_opt_for, &c->o,
                           "what FILE is for: finetune blocks rows OpenAI would reject; eval\n"
                           "accepts plain rows (default: plain rows are one warning)"),
        FE_OPTION_END(),
    };
    _Static_assert(sizeof(opts) == sizeof(c->opts), "fe_check_cli.opts holds the table");
    memcpy(c->opts, opts, sizeof(opts));
}

/* The command line of `data split`. */
struct fe_split_cli {
    struct fe_data_split_opts o;
    bool have_fraction, have_seed;
    struct fe_option opts[8];
};

/* --seed: any unsigned 64-bit integer (the split is deterministic per seed). */
static int fe_split_opt_seed(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_split_cli *c = opt->cb_data;
    char *end = NULL;
    errno = 0;
    unsigned long long seed = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-')
        return fe_usage_error(command, "--seed: expected a non-negative integer, got '%s'", v);
    c->o.seed = seed;
    c->have_seed = true;
    return 0;
}

static void fe_split_cli_init(struct fe_split_cli *c)
{
    memset(c, 0, sizeof(*c));
    fe_data_split_opts_init(&c->o);
    const struct fe_option opts[] = {
        {.kind = FE_OPT_DOUBLE, .long_name = "test-fraction", .value = &c->o.test_fraction, .argh = "F",
         .dmin = 0, .dmax = 1, .flags = FE_OPTF_MIN_EXCL | FE_OPTF_MAX_EXCL, .seen = &c->have_fraction,
         .help = "fraction of the rows in the test file (required)"},
        FE_OPTION_CALLBACK(0, "seed", "N", fe_split_opt_seed, c, "seed of the split (required)"),
        FE_OPTION_STRING(0, "train", &c->o.train_out, "OUT", "where the training rows go (required)"),
        FE_OPTION_STRING(0, "test", &c->o.test_out, "OUT", "where the test rows go (required)"),
        FE_OPTION_STRING(0, "stratify-by", &c->o.stratify_by, "FIELD",
                         "stratify by this top-level field (default: the label, when labels exist)"),
        FE_OPTION_FLAG(0, "no-stratify", &c->o.no_stratify, "do not stratify"),
        FE_OPTION_DOUBLE(0, "near-threshold", &c->o.near_threshold, "J", 0, 1, FE_OPTF_MIN_EXCL,
                         "Jaccard similarity of near duplicates kept on one side (default 0.9)"),
        FE_OPTION_END(),
    };
    _Static_assert(sizeof(opts) == sizeof(c->opts), "fe_split_cli.opts holds the table");
    memcpy(c->opts, opts, sizeof(opts));
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "fteval: error: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "fteval: error: %s: write error: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    struct fe_check_cli cli;
    fe_check_cli_init(&cli);
    int n = fe_parse_options(argc, argv, &fe_data_check_usage, cli.opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    struct fe_data_check_opts o = cli.o;
    o.max_findings = (size_t)cli.max_findings;
    const char *json_out = cli.json_out;
    if (n > 1)
        return fe_usage_error("data check", "more than one FILE ('%s', '%s')", argv[0], argv[1]);
    if (n == 0)
        return fe_usage_error("data check", "missing FILE");
    o.path = argv[0];
    if (o.model && !*o.model)
        return fe_usage_error("data check", "--model: empty");

    struct fe_err err = {0};
    struct fe_data_report *r = fe_data_check_run(&o, &err);
    if (!r) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        return FE_EXIT_INVALID; /* unreadable or invalid input (the message names the file) */
    }
    int rc = fe_data_report_blocking(r) ? FE_EXIT_GATE : FE_EXIT_OK;
    bool json_stdout = json_out && strcmp(json_out, "-") == 0;
    if (!json_stdout) {
        struct fe_buf text;
        fe_buf_init(&text, 0);
        fe_data_report_text(r, &text);
        fwrite(text.data, 1, text.len, stdout);
        fe_buf_release(&text);
    }
    if (json_out) {
        cJSON *json = fe_data_report_json(r);
        char *s = cJSON_Print(json);
        cJSON_Delete(json);
        if (json_stdout) {
            fputs(s, stdout);
            fputc('\n', stdout);
        } else {
            size_t len = strlen(s);
            s[len] = '\0';
            struct fe_buf b;
            fe_buf_init(&b, 0);
            fe_buf_add(&b, s, len);
            fe_buf_addch(&b, '\n');
            if (write_file(json_out, b.data, b.len) != 0)
                rc = FE_EXIT_ABORTED;
            fe_buf_release(&b);
        }
        cJSON_free(s);
    }
    fe_data_report_free(r);
    if (fflush(stdout) != 0)
        return FE_EXIT_ABORTED;
    return rc;
}

static bool same_path(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int cmd_split(int argc, char **argv)
{
    struct fe_split_cli cli;
    fe_split_cli_init(&cli);
    int n = fe_parse_options(argc, argv, &fe_data_split_usage, cli.opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    struct fe_data_split_opts o = cli.o;
    bool have_fraction = cli.have_fraction, have_seed = cli.have_seed;
    if (n > 1)
        return fe_usage_error("data split", "more than one FILE ('%s', '%s')", argv[0], argv[1]);
    o.path = n ? argv[0] : NULL;
    if (!o.path)
        return fe_usage_error("data split", "missing FILE");
    if (!have_fraction)
        return fe_usage_error("data split", "missing --test-fraction");
    if (!have_seed)
        return fe_usage_error("data split",
                              "missing --seed (the split is deterministic per seed)");
    if (!o.train_out || !o.test_out)
        return fe_usage_error("data split", "missing --train OUT or --test OUT");
    if (same_path(o.train_out, o.test_out) || same_path(o.path, o.train_out) ||
        same_path(o.path, o.test_out))
        return fe_usage_error("data split",
                              "FILE, --train and --test must be three different files");
    if (o.stratify_by && o.no_stratify)
        return fe_usage_error("data split",
                              "--stratify-by and --no-stratify exclude each other");

    struct fe_err err = {0};
    struct fe_data_split_result res;
    enum fe_status st = fe_data_split(&o, &res, &err);
    if (st != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        if (st == FE_EUSAGE)
            return FE_EXIT_USAGE;
        /* reading problems are invalid input (3); a write problem aborts (4) */
        if (st == FE_EIO && strstr(err.msg, "write") == NULL &&
            strstr(err.msg, "cannot create") == NULL)
            return FE_EXIT_INVALID;
        return fe_status_exit_code(st);
    }
    struct fe_buf text;
    fe_buf_init(&text, 0);
    fe_data_split_summary(&o, &res, &text);
    fwrite(text.data, 1, text.len, stdout);
    fe_buf_release(&text);
    return fflush(stdout) == 0 ? FE_EXIT_OK : FE_EXIT_ABORTED;
}

static const struct fe_usage fe_data_to_chat_usage = {
    .command = "data to-chat",
    .synopsis =
        "usage: fteval data to-chat FILE --config CONFIG --out OUT [--arm NAME]\n"
        "\n"
        "to-chat: plain-shape rows -> chat training rows exactly as the arm's requests look\n"
        "  (its system prompt, the task template, no few-shot) with the gold as the final\n"
        "  assistant message. Chat rows are copied unchanged; a row without a usable gold is\n"
        "  refused (3).\n",
    .epilogue = "exit: 0 written, 2 usage error, 3 unreadable or invalid input, 4 cannot write output\n",
};

/* The command line of `data to-chat`. */
struct fe_to_chat_cli {
    const char *config, *out, *arm_name;
    struct fe_option opts[4];
};

static void fe_to_chat_cli_init(struct fe_to_chat_cli *c)
{
    memset(c, 0, sizeof(*c));
    const struct fe_option opts[] = {
        FE_OPTION_STRING(0, "config", &c->config, "CONFIG", "the run config whose arm's prompt the rows get (required)"),
        FE_OPTION_STRING(0, "out", &c->out, "OUT", "where the chat rows go (required; not FILE itself)"),
        FE_OPTION_STRING(0, "arm", &c->arm_name, "NAME",
                         "the arm (default: the candidate arm, the fine-tuned model's own prompt)"),
        FE_OPTION_END(),
    };
    _Static_assert(sizeof(opts) == sizeof(c->opts), "fe_to_chat_cli.opts holds the table");
    memcpy(c->opts, opts, sizeof(opts));
}

static int cmd_to_chat(int argc, char **argv)
{
    struct fe_to_chat_cli cli;
    fe_to_chat_cli_init(&cli);
    int n = fe_parse_options(argc, argv, &fe_data_to_chat_usage, cli.opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    if (n > 1)
        return fe_usage_error("data to-chat", "more than one FILE ('%s', '%s')", argv[0], argv[1]);
    const char *path = n ? argv[0] : NULL, *config = cli.config, *out = cli.out;
    if (!path || !config || !out)
        return fe_usage_error("data to-chat", "need FILE, --config CONFIG and --out OUT");
    if (same_path(path, out))
        return fe_usage_error("data to-chat", "--out must not be FILE itself");
    struct fe_err err = {0};
    struct fe_config *c = NULL;
    if (fe_config_load_opts(config, NULL, FE_CONFIG_NO_KEYS, &c, &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        return FE_EXIT_INVALID;
    }
    /* default: the candidate arm (the fine-tuned model's own prompt in production) */
    const char *name = cli.arm_name ? cli.arm_name : c->candidate_arm;
    long idx = name ? fe_config_arm_index(c, name) : -1;
    if (idx < 0) {
        int rc = fe_usage_error("data to-chat", "--arm: no arm named '%s' in %s", name ? name : "", config);
        fe_config_free(c);
        return rc;
    }
    const struct fe_arm_conf *arm = &c->arms[idx];
    struct fe_to_chat_result res;
    enum fe_status st = fe_data_to_chat(c, arm, path, out, &res, &err);
    if (st != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        fe_config_free(c);
        return st == FE_EIO && strstr(err.msg, path) != err.msg ? FE_EXIT_ABORTED : FE_EXIT_INVALID;
    }
    printf("%s: %zu chat training row(s): %zu converted from plain rows with the prompt of arm "
           "'%s' (%s, %s), %zu chat row(s) copied\n",
           out, res.converted + res.copied, res.converted, arm->name,
           arm->system ? "its system prompt" : "no system prompt",
           arm->n_few_shot ? "its few-shot pairs left out" : "no few-shot", res.copied);
    fe_config_free(c);
    return FE_EXIT_OK;
}

/* `fteval data --help`: every subcommand's synopsis and option list. */
static void fe_data_help(FILE *out)
{
    struct fe_check_cli check;
    struct fe_split_cli split;
    struct fe_to_chat_cli to_chat;
    fe_check_cli_init(&check);
    fe_split_cli_init(&split);
    fe_to_chat_cli_init(&to_chat);
    fputs(fe_data_check_usage.synopsis, out);
    fputs("\ncheck options:\n", out);
    fe_options_print_list(out, check.opts);
    fputc('\n', out);
    fputs(fe_data_split_usage.synopsis, out);
    fputs("\nsplit options:\n", out);
    fe_options_print_list(out, split.opts);
    fputc('\n', out);
    fputs(fe_data_to_chat_usage.synopsis, out);
    fputs("\nto-chat options:\n", out);
    fe_options_print_list(out, to_chat.opts);
    fputs("\n'fteval data SUBCOMMAND --help' shows one subcommand.\n\n", out);
    fputs(fe_data_check_usage.epilogue, out);
}

int fe_cmd_data(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } subs[] = {{"check", cmd_check}, {"split", cmd_split}, {"to-chat", cmd_to_chat}};
    for (size_t i = 0; argc >= 2 && i < FE_ARRAY_LEN(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    if (fe_wants_help(argc, argv)) {
        fe_data_help(stdout);
        return FE_EXIT_OK;
    }
    if (argc < 2)
        return fe_usage_error("data", "data: missing subcommand (check, split or to-chat)");
    const char *names[FE_ARRAY_LEN(subs)];
    for (size_t i = 0; i < FE_ARRAY_LEN(subs); i++)
        names[i] = subs[i].name;
    const char *guess = fe_nearest_name(argv[1], names, FE_ARRAY_LEN(names));
    if (guess)
        return fe_usage_error("data", "data: unknown subcommand '%s'; did you mean '%s'?", argv[1], guess);
    return fe_usage_error("data", "data: unknown subcommand '%s' (expected check, split or to-chat)",
                          argv[1]);
}
