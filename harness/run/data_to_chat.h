/* data_to_chat.h — `fteval data to-chat`: plain-shape rows into OpenAI chat fine-tuning rows in
 * the exact production format (docs/data.md "Converting plain rows").
 *
 * A plain row {"input", "gold", ...} becomes {"messages": [system?, user, assistant]}: the messages
 * are what fteval sends for that row with the chosen arm (fe_build_messages: the arm's system
 * prompt, the arm's template — task.template unless the arm overrides it), without the arm's
 * few-shot pairs (training rows teach the task themselves), then the gold as the final assistant
 * message (the first gold when there are several). So a model fine-tuned on the output sees, at
 * evaluation and in production, exactly the prompt it was trained on. Chat-shape rows are already
 * training rows and are copied unchanged (re-serialised compactly).
 *
 * Refused (FE_EINVALID naming file, line and field; nothing is written): a row without gold (the
 * dataset reader's rule), an unanswerable row (gold "" or []: no answer to train on), a row whose
 * rendered prompt is empty, a template field the row lacks. The output is written to OUT.tmp and
 * renamed into place only when every row converted.
 */
#ifndef FE_DATA_TO_CHAT_H
#define FE_DATA_TO_CHAT_H

#include <stddef.h>

#include "harness/run/config.h"
#include "harness/base/err.h"

struct fe_to_chat_result {
    size_t converted; /* plain rows turned into chat rows */
    size_t copied;    /* chat rows copied unchanged */
};

/* Converts in to out with arm (an arm of c). Returns FE_OK, FE_EINVALID (a row is refused: err
 * names file, line and field) or FE_EIO (cannot read in or write out). */
enum fe_status fe_data_to_chat(const struct fe_config *c, const struct fe_arm_conf *arm,
                               const char *in, const char *out, struct fe_to_chat_result *res,
                               struct fe_err *err);

#endif
