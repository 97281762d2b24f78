/* cmd_data.c — `fteval data check`, `data split` and `data to-chat` (data_to_chat.c) (docs/data.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/data/data_check.h"
#include "harness/data/data_split.h"
#include "harness/base/err.h"
#include "harness/base/fs.h"
#include "harness/base/util.h"
#include "harness/run/data_to_chat.h"

const char fe_usage_data[] =
    "usage: fteval data check FILE [--against HELDOUT] [--config CONFIG] [--json OUT]\n"
    "                          [--n-epochs N] [--model M] [--prices FILE] [--mde X]\n"
    "                          [--near-threshold J] [--max-findings N] [--for finetune|eval]\n"
    "       fteval data split FILE --test-fraction F --seed N --train OUT --test OUT\n"
    "                          [--stratify-by FIELD | --no-stratify] [--near-threshold J]\n"
    "       fteval data to-chat FILE --config CONFIG --out OUT [--arm NAME]\n"
    "\n"
    "check: format (chat, DPO or plain shape; roles, weight, tool_call_id, UTF-8, JSON), size,\n"
    "  PII (e-mail, phone, card with Luhn, SSN, IPv4/IPv6, API keys; always redacted), exact and\n"
    "  near duplicates (character 5-gram Jaccard >= 0.9), leakage of HELDOUT into FILE, label\n"
    "  balance, lengths and estimated tokens (ceil(bytes/4)), training cost with --model and\n"
    "  --prices, and the production format of --config (system prompt, template).\n"
    "  --json OUT writes the report as JSON (OUT '-' = stdout instead of the text report).\n"
    "  --mde X warns when the held-out set is smaller than (2.80^2 * 0.5) / X^2 examples.\n"
    "  --for finetune: every row OpenAI's fine-tuning would reject blocks (plain-shape rows,\n"
    "  a last message that is not the assistant's, empty content, < 10 examples); --for eval:\n"
    "  a held-out set (plain rows are fine). Default: plain rows are one warning.\n"
    "split: deterministic (same file and seed give the same bytes), stratified by label when\n"
    "  labels exist, duplicates, near duplicates and equal ids always on one side.\n"
    "to-chat: plain-shape rows -> chat training rows exactly as the arm's requests look\n"
    "  (its system prompt, the task template, no few-shot) with the gold as the final\n"
    "  assistant message. --arm: default the candidate arm (the fine-tuned model's own\n"
    "  prompt). Chat rows are copied unchanged; a row without a usable gold is refused (3).\n"
    "\n"
    "exit: 0 nothing blocks (warnings allowed), 1 something blocks (format errors, PII,\n"
    "      leakage), 2 usage error, 3 unreadable or invalid input, 4 cannot write output\n";

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. Returns 1 on match, 0 when
 * the argument is another option, -1 when the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

/* Writes data through the atomic writer (base/fs.h); 0, or -1 after printing the error. */
static int write_file(const char *path, const char *data, size_t len)
{
    struct fe_err err = {0};
    if (fe_write_file_atomic(path, data, len, &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    struct fe_data_check_opts o;
    fe_data_check_opts_init(&o);
    const char *json_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        const char *a = argv[i];
        if ((m = opt_value(argc, argv, &i, "--against", &o.against)) ||
            (m = opt_value(argc, argv, &i, "--config", &o.config)) ||
            (m = opt_value(argc, argv, &i, "--json", &json_out)) ||
            (m = opt_value(argc, argv, &i, "--model", &o.model)) ||
            (m = opt_value(argc, argv, &i, "--prices", &o.prices))) {
            if (m < 0)
                return fe_usage_error("data", "%s: missing value", a);
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--n-epochs", &v))) {
            if (m < 0 || !fe_parse_long(v, &o.n_epochs) || o.n_epochs < 1 || o.n_epochs > 50)
                return fe_usage_error("data", "--n-epochs: expected an integer 1..50, got '%s'",
                                      v ? v : "");
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--mde", &v))) {
            if (m < 0 || !fe_parse_double(v, &o.mde) || !(o.mde > 0 && o.mde < 1))
                return fe_usage_error("data", "--mde: expected a number between 0 and 1, got '%s'",
                                      v ? v : "");
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--near-threshold", &v))) {
            if (m < 0 || !fe_parse_double(v, &o.near_threshold) ||
                !(o.near_threshold > 0 && o.near_threshold <= 1))
                return fe_usage_error(
                    "data", "--near-threshold: expected a number in (0, 1], got '%s'", v ? v : "");
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--for", &v))) {
            if (m > 0 && strcmp(v, "finetune") == 0)
                o.purpose = FE_DATA_FOR_FINETUNE;
            else if (m > 0 && strcmp(v, "eval") == 0)
                o.purpose = FE_DATA_FOR_EVAL;
            else
                return fe_usage_error("data", "--for: expected finetune or eval, got '%s'",
                                      v ? v : "");
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--max-findings", &v))) {
            long n;
            if (m < 0 || !fe_parse_long(v, &n) || n < 1)
                return fe_usage_error(
                    "data", "--max-findings: expected a positive integer, got '%s'", v ? v : "");
            o.max_findings = (size_t)n;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return fe_usage_error("data", "data check: unknown option '%s'", a);
        if (o.path)
            return fe_usage_error("data", "data check: more than one FILE ('%s', '%s')", o.path, a);
        o.path = a;
    }
    if (!o.path)
        return fe_usage_error("data", "data check: missing FILE");
    if (o.model && !*o.model)
        return fe_usage_error("data", "--model: empty");

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
    struct fe_data_split_opts o;
    fe_data_split_opts_init(&o);
    bool have_fraction = false, have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        const char *a = argv[i];
        if ((m = opt_value(argc, argv, &i, "--train", &o.train_out)) ||
            (m = opt_value(argc, argv, &i, "--test", &o.test_out)) ||
            (m = opt_value(argc, argv, &i, "--stratify-by", &o.stratify_by))) {
            if (m < 0)
                return fe_usage_error("data", "%s: missing value", a);
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--test-fraction", &v))) {
            if (m < 0 || !fe_parse_double(v, &o.test_fraction) ||
                !(o.test_fraction > 0 && o.test_fraction < 1))
                return fe_usage_error(
                    "data", "--test-fraction: expected a number between 0 and 1, got '%s'",
                    v ? v : "");
            have_fraction = true;
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--seed", &v))) {
            char *end = NULL;
            errno = 0;
            unsigned long long seed = v ? strtoull(v, &end, 10) : 0;
            if (m < 0 || !v || !*v || *end || errno || v[0] == '-')
                return fe_usage_error("data", "--seed: expected a non-negative integer, got '%s'",
                                      v ? v : "");
            o.seed = seed;
            have_seed = true;
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "--near-threshold", &v))) {
            if (m < 0 || !fe_parse_double(v, &o.near_threshold) ||
                !(o.near_threshold > 0 && o.near_threshold <= 1))
                return fe_usage_error(
                    "data", "--near-threshold: expected a number in (0, 1], got '%s'", v ? v : "");
            continue;
        }
        if (strcmp(a, "--no-stratify") == 0) {
            o.no_stratify = true;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return fe_usage_error("data", "data split: unknown option '%s'", a);
        if (o.path)
            return fe_usage_error("data", "data split: more than one FILE ('%s', '%s')", o.path, a);
        o.path = a;
    }
    if (!o.path)
        return fe_usage_error("data", "data split: missing FILE");
    if (!have_fraction)
        return fe_usage_error("data", "data split: missing --test-fraction");
    if (!have_seed)
        return fe_usage_error("data",
                              "data split: missing --seed (the split is deterministic per seed)");
    if (!o.train_out || !o.test_out)
        return fe_usage_error("data", "data split: missing --train OUT or --test OUT");
    if (same_path(o.train_out, o.test_out) || same_path(o.path, o.train_out) ||
        same_path(o.path, o.test_out))
        return fe_usage_error("data",
                              "data split: FILE, --train and --test must be three different files");
    if (o.stratify_by && o.no_stratify)
        return fe_usage_error("data",
                              "data split: --stratify-by and --no-stratify exclude each other");

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

static int cmd_to_chat(int argc, char **argv)
{
    const char *path = NULL, *config = NULL, *out = NULL, *arm_name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if ((m = opt_value(argc, argv, &i, "--config", &config)) ||
            (m = opt_value(argc, argv, &i, "--out", &out)) ||
            (m = opt_value(argc, argv, &i, "--arm", &arm_name))) {
            if (m < 0)
                return fe_usage_error("data", "%s: missing value", a);
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return fe_usage_error("data", "data to-chat: unknown option '%s'", a);
        if (path)
            return fe_usage_error("data", "data to-chat: more than one FILE ('%s', '%s')", path, a);
        path = a;
    }
    if (!path || !config || !out)
        return fe_usage_error("data", "data to-chat: need FILE, --config CONFIG and --out OUT");
    if (same_path(path, out))
        return fe_usage_error("data", "data to-chat: --out must not be FILE itself");
    struct fe_err err = {0};
    struct fe_config *c = NULL;
    if (fe_config_load_opts(config, NULL, FE_CONFIG_NO_KEYS, &c, &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        return FE_EXIT_INVALID;
    }
    /* default: the candidate arm (the fine-tuned model's own prompt in production) */
    const char *name = arm_name ? arm_name : c->candidate_arm;
    long idx = name ? fe_config_arm_index(c, name) : -1;
    if (idx < 0) {
        int rc = fe_usage_error("data", "--arm: no arm named '%s' in %s", name ? name : "", config);
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

int fe_cmd_data(int argc, char **argv)
{
    if (argc < 2)
        return fe_usage_error("data", "data: missing subcommand (check, split or to-chat)");
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "split") == 0)
        return cmd_split(argc - 1, argv + 1);
    if (strcmp(argv[1], "to-chat") == 0)
        return cmd_to_chat(argc - 1, argv + 1);
    return fe_usage_error("data",
                          "data: unknown subcommand '%s' (expected check, split or to-chat)",
                          argv[1]);
}
