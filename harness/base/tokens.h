/* tokens.h — the ONE token estimate of fteval (no tokenizer ships with it).
 *
 * Rule: a text costs ceil(UTF-8 bytes / 4) tokens; NULL or "" costs 0. A chat prompt adds
 * FE_TOKENS_PER_MESSAGE per message and FE_TOKENS_REPLY_PRIMER once (the overhead OpenAI's
 * cookbook documents for its chat models). Every estimate uses it: `run --dry-run` and the
 * runner's rate-limit and budget reservations (input/dataset.h fe_estimate_prompt_tokens), the
 * simulator's usage counts (docs/sim.md), `data check`'s training tokens (docs/data.md: per
 * message, without the overheads). Why bytes / 4 (docs/decision.md "Token estimator"): OpenAI's
 * published rule of thumb is about 4 characters of English text per token, and its tokenizers
 * are byte-level BPE, so counting bytes keeps non-Latin scripts (3 bytes per CJK character) far
 * closer to the truth than counting characters would. It is an estimate (±30 %), not billing.
 */
#ifndef FE_TOKENS_H
#define FE_TOKENS_H

#include <stddef.h>

#define FE_TOKENS_PER_MESSAGE 4
#define FE_TOKENS_REPLY_PRIMER 3

/* ceil(strlen(text) / 4); NULL gives 0. */
long fe_estimate_tokens(const char *text);
/* ceil(bytes / 4), for a text whose length is already known. */
long fe_estimate_tokens_len(size_t bytes);

#endif
