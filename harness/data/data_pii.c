/* data_pii.c — see data_pii.h. Each detector is a small hand-written scanner that tries to
 * match at one position and returns the match length (0 = no match). The driver only calls a
 * detector where a token can start, so the whole scan is linear in practice. */
#include "harness/data/data_pii.h"

#include <stdio.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Non-ASCII bytes (UTF-8 letters) count as word characters for the boundary tests. */
static bool is_wordish(char c) { return is_alnum(c) || (unsigned char)c >= 0x80 || c == '_'; }

const char *fe_pii_kind_name(enum fe_pii_kind kind)
{
    static const char *const names[] = {"email", "phone", "card", "ssn", "ipv4", "ipv6", "secret"};
    return (unsigned)kind < FE_PII_KIND_COUNT ? names[kind] : "unknown";
}

bool fe_luhn_valid(const char *digits, size_t n)
{
    int sum = 0, count = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        if (!is_digit(digits[i]))
            continue;
        int d = digits[i] - '0';
        if (dbl) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        dbl = !dbl;
        count++;
    }
    return count > 0 && sum % 10 == 0;
}

/* Copies s[0..len) into out replacing digits by '*' except the last keep digits. */
static void mask_digits(const char *s, size_t len, size_t keep, char *out, size_t size)
{
    size_t total = 0;
    for (size_t i = 0; i < len; i++)
        total += is_digit(s[i]);
    size_t seen = 0, o = 0;
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        char c = s[i];
        if (is_digit(c)) {
            seen++;
            if (seen + keep <= total)
                c = '*';
        }
        out[o++] = c;
    }
    out[o] = '\0';
}

/* ---- e-mail ---------------------------------------------------------------------------- */

static bool email_local_char(char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static size_t match_email(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && email_local_char(s[i - 1]))
        return 0;
    size_t j = i;
    while (j < len && email_local_char(s[j]))
        j++;
    if (j == i || j >= len || s[j] != '@' || !is_alnum(s[i]))
        return 0;
    j++; /* the '@' */
    size_t dom = j;
    while (j < len && (is_alnum(s[j]) || s[j] == '-' || s[j] == '.'))
        j++;
    /* trailing dots belong to the sentence, not the address */
    while (j > dom && s[j - 1] == '.')
        j--;
    size_t last_dot = 0;
    for (size_t k = dom; k < j; k++)
        if (s[k] == '.')
            last_dot = k;
    if (!last_dot || last_dot == dom || j - last_dot - 1 < 2)
        return 0;
    for (size_t k = last_dot + 1; k < j; k++)
        if (!is_alpha(s[k]))
            return 0;
    if (j < len && (s[j] == '@' || is_wordish(s[j])))
        return 0;
    snprintf(red, rsize, "%c***@%c***.%.*s", s[i], s[dom],
             (int)(j - last_dot - 1 > 12 ? 12 : j - last_dot - 1), s + last_dot + 1);
    return j - i;
}

/* ---- payment cards --------------------------------------------------------------------- */

static bool card_prefix_ok(const char *d)
{
    int p2 = (d[0] - '0') * 10 + (d[1] - '0');
    int p3 = p2 * 10 + (d[2] - '0');
    int p4 = p3 * 10 + (d[3] - '0');
    if (d[0] == '4')
        return true; /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return true; /* Mastercard */
    if (p2 == 34 || p2 == 37)
        return true; /* American Express */
    if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649))
        return true; /* Discover */
    if (p2 == 35 || p2 == 36 || p2 == 38 || p2 == 30)
        return true; /* JCB, Diners */
    if (p2 == 62)
        return true; /* UnionPay */
    return false;
}

static size_t match_card(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-' || s[i - 1] == '+'))
        return 0;
    char digits[20];
    size_t nd = 0, j = i, end = i, group = 0;
    char sep = 0;
    while (j < len) {
        if (is_digit(s[j])) {
            if (nd == 19)
                return 0; /* too long for a card: some other number */
            digits[nd++] = s[j++];
            group++;
            end = j;
            continue;
        }
        if ((s[j] == ' ' || s[j] == '-') && j + 1 < len && is_digit(s[j + 1]) && group >= 3) {
            if (sep && s[j] != sep)
                break;
            sep = s[j];
            group = 0;
            j++;
            continue;
        }
        break;
    }
    if (nd < 13)
        return 0;
    if (end < len &&
        (is_wordish(s[end]) || (s[end] == '.' && end + 1 < len && is_digit(s[end + 1]))))
        return 0;
    if (!card_prefix_ok(digits) || !fe_luhn_valid(digits, nd))
        return 0;
    mask_digits(s + i, end - i, 4, red, rsize);
    return end - i;
}

/* ---- SSN -------------------------------------------------------------------------------- */

static size_t match_ssn(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i + 11 > len || (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '-' || s[i - 1] == '.')))
        return 0;
    static const char shape[] = "ddd-dd-dddd";
    for (size_t k = 0; k < 11; k++) {
        if (shape[k] == 'd' ? !is_digit(s[i + k]) : s[i + k] != '-')
            return 0;
    }
    if (i + 11 < len &&
        (is_wordish(s[i + 11]) || (s[i + 11] == '-' && i + 12 < len && is_digit(s[i + 12]))))
        return 0;
    int area = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    if (area == 0 || area == 666 || area >= 900)
        return 0;
    if (s[i + 4] == '0' && s[i + 5] == '0')
        return 0;
    if (memcmp(s + i + 7, "0000", 4) == 0)
        return 0;
    snprintf(red, rsize, "***-**-%.4s", s + i + 7);
    return 11;
}

/* ---- phones ------------------------------------------------------------------------------ */

/* "+CC ..." with 8..15 digits; single separators (space - .) and parentheses between groups. */
static size_t match_phone_intl(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (s[i] != '+' || (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '+')))
        return 0;
    size_t j = i + 1, end = 0, nd = 0;
    if (j >= len || !is_digit(s[j]) || s[j] == '0')
        return 0;
    char prev = '+';
    int open = 0;
    while (j < len) {
        char c = s[j];
        if (is_digit(c)) {
            nd++;
            end = j + 1;
        } else if (c == '(' && !open && !is_digit(prev)) {
            open = 1;
        } else if (c == ')' && open && is_digit(prev)) {
            open = 0;
        } else if ((c == ' ' || c == '-' || c == '.') && (is_digit(prev) || prev == ')') &&
                   j + 1 < len && (is_digit(s[j + 1]) || s[j + 1] == '(')) {
            /* separator */
        } else {
            break;
        }
        prev = c;
        j++;
        if (nd > 15)
            return 0;
    }
    if (nd < 8 || nd > 15 || !end)
        return 0;
    if (end < len && is_wordish(s[end]))
        return 0;
    mask_digits(s + i, end - i, 2, red, rsize);
    return end - i;
}

static bool digits_at(const char *s, size_t len, size_t j, size_t n)
{
    if (j + n > len)
        return false;
    for (size_t k = 0; k < n; k++)
        if (!is_digit(s[j + k]))
            return false;
    return true;
}

static bool is_phone_sep(char c)
{
    return c == '-' || c == '.' || c == ' ';
}

/* "(NXX) NXX-XXXX" (the space after ')' optional) at j: the end offset, or 0. */
static size_t us_parenthesised(const char *s, size_t len, size_t j)
{
    if (!digits_at(s, len, j + 1, 3) || j + 4 >= len || s[j + 4] != ')' || s[j + 1] < '2')
        return 0;
    j += 5;
    if (j < len && s[j] == ' ')
        j++;
    if (!digits_at(s, len, j, 3) || s[j] < '2' || j + 3 >= len)
        return 0;
    if (!is_phone_sep(s[j + 3]) || !digits_at(s, len, j + 4, 4))
        return 0;
    return j + 8;
}

/* NXX<sep>NXX<sep>XXXX with the same separator twice at j: the end offset, or 0. */
static size_t us_separated(const char *s, size_t len, size_t j)
{
    if (!digits_at(s, len, j, 3) || s[j] < '2' || j + 3 >= len)
        return 0;
    char sep = s[j + 3];
    if (!is_phone_sep(sep))
        return 0;
    if (!digits_at(s, len, j + 4, 3) || s[j + 4] < '2' || j + 7 >= len || s[j + 7] != sep ||
        !digits_at(s, len, j + 8, 4))
        return 0;
    return j + 12;
}

/* US numbers: optional "1" + separator, then "(NXX) NXX-XXXX" or NXX<sep>NXX<sep>XXXX with the
 * same separator twice; N = 2..9. Bare ten-digit runs are not matched (they are usually ids). */
static size_t match_phone_us(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '-' || s[i - 1] == '.' || s[i - 1] == '+'))
        return 0;
    size_t j = i;
    if (j + 1 < len && s[j] == '1' && is_phone_sep(s[j + 1]))
        j += 2;
    size_t end = j < len && s[j] == '(' ? us_parenthesised(s, len, j) : us_separated(s, len, j);
    if (!end)
        return 0;
    if (end < len && (is_wordish(s[end]) ||
                      ((s[end] == '-' || s[end] == '.') && end + 1 < len && is_digit(s[end + 1]))))
        return 0;
    if (s[i] == '(' && i > 0 && s[i - 1] == '(')
        return 0;
    mask_digits(s + i, end - i, 2, red, rsize);
    return end - i;
}

/* ---- IP addresses ---------------------------------------------------------------------- */

static size_t match_ipv4(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '.'))
        return 0;
    size_t j = i;
    int first = -1;
    bool all_zero = true;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (j >= len || s[j] != '.')
                return 0;
            j++;
        }
        size_t start = j;
        int v = 0;
        while (j < len && is_digit(s[j]) && j - start < 4)
            v = v * 10 + (s[j++] - '0');
        size_t n = j - start;
        if (n == 0 || n > 3 || v > 255 || (n > 1 && s[start] == '0'))
            return 0;
        if (part == 0)
            first = v;
        if (v)
            all_zero = false;
    }
    if (j < len && (is_wordish(s[j]) || (s[j] == '.' && j + 1 < len && is_digit(s[j + 1]))))
        return 0;
    if (all_zero)
        return 0;
    snprintf(red, rsize, "%d.*.*.*", first);
    return j - i;
}

static size_t match_ipv6(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == ':'))
        return 0;
    size_t j = i, end = i, first_len = 0;
    int groups = 0;
    bool compressed = false, any_digit = false;
    size_t hexdigits = 0;
    for (;;) {
        size_t start = j;
        while (j < len && is_hex(s[j]) && j - start < 5) {
            any_digit = any_digit || is_digit(s[j]);
            j++;
        }
        size_t n = j - start;
        if (n > 4)
            return 0;
        if (n > 0) {
            groups++;
            hexdigits += n;
            end = j;
            if (groups == 1)
                first_len = n;
        } else if (groups > 0 && !(compressed && s[j - 1] == ':')) {
            break;
        }
        if (j < len && s[j] == ':') {
            if (j + 1 < len && s[j + 1] == ':') {
                if (compressed)
                    break;
                compressed = true;
                j += 2;
                end = j;
                continue;
            }
            if (j + 1 < len && is_hex(s[j + 1])) {
                j++;
                continue;
            }
        }
        break;
    }
    if (groups > 8 || (!compressed && groups != 8) || (compressed && (groups < 2 || groups > 7)))
        return 0;
    if (!any_digit || hexdigits < 4)
        return 0;
    if (end < len && (is_wordish(s[end]) || s[end] == ':' || s[end] == '.'))
        return 0;
    snprintf(red, rsize, "%.*s:****", (int)first_len, s + i);
    return end - i;
}

/* ---- secrets --------------------------------------------------------------------------- */

static bool key_char(char c) { return is_alnum(c) || c == '_' || c == '-'; }

static size_t run_of(const char *s, size_t len, size_t j, bool (*ok)(char))
{
    size_t k = j;
    while (k < len && ok(s[k]))
        k++;
    return k - j;
}

static bool upper_or_digit(char c) { return is_digit(c) || (c >= 'A' && c <= 'Z'); }

static bool bearer_char(char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' ||
           c == '-';
}

static bool starts(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    return i + n <= len && memcmp(s + i, lit, n) == 0;
}

static size_t match_secret(const char *s, size_t len, size_t i, char *red, size_t rsize)
{
    if (i > 0 && (is_wordish(s[i - 1]) || s[i - 1] == '-'))
        return 0;
    if (starts(s, len, i, "sk-")) {
        size_t n = run_of(s, len, i + 3, key_char);
        if (n >= 20) {
            snprintf(red, rsize, "sk-****");
            return 3 + n;
        }
        return 0;
    }
    if (starts(s, len, i, "AKIA")) {
        size_t n = run_of(s, len, i + 4, upper_or_digit);
        if (n == 16 && !(i + 20 < len && is_wordish(s[i + 20]))) {
            snprintf(red, rsize, "AKIA****");
            return 20;
        }
        return 0;
    }
    if (starts(s, len, i, "Bearer ") || starts(s, len, i, "bearer ")) {
        size_t j = i + 7;
        while (j < len && s[j] == ' ')
            j++;
        size_t n = run_of(s, len, j, bearer_char);
        bool digit = false;
        for (size_t k = j; k < j + n; k++)
            digit = digit || is_digit(s[k]);
        if (n >= 16 && digit) {
            snprintf(red, rsize, "Bearer ****");
            return j + n - i;
        }
        return 0;
    }
    static const char *const gh[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"};
    for (size_t g = 0; g < sizeof(gh) / sizeof(gh[0]); g++) {
        if (!starts(s, len, i, gh[g]))
            continue;
        size_t p = strlen(gh[g]);
        size_t n = run_of(s, len, i + p, g == 5 ? key_char : is_alnum);
        if (n >= 20) {
            snprintf(red, rsize, "%s****", gh[g]);
            return p + n;
        }
        return 0;
    }
    return 0;
}

/* ---- driver ---------------------------------------------------------------------------- */

size_t fe_pii_scan(const char *s, size_t len, fe_pii_fn fn, void *ctx)
{
    size_t count = 0;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        struct fe_pii_match m;
        size_t n = 0;
        m.redacted[0] = '\0';
        if (c == 's' || c == 'A' || c == 'B' || c == 'b' || c == 'g') {
            n = match_secret(s, len, i, m.redacted, sizeof(m.redacted));
            m.kind = FE_PII_SECRET;
        }
        if (!n && is_alnum(c)) {
            n = match_email(s, len, i, m.redacted, sizeof(m.redacted));
            m.kind = FE_PII_EMAIL;
        }
        if (!n && is_digit(c)) {
            static size_t (*const digit_matchers[])(const char *, size_t, size_t, char *,
                                                    size_t) = {match_ssn, match_card,
                                                               match_phone_us, match_ipv4};
            static const enum fe_pii_kind kinds[] = {FE_PII_SSN, FE_PII_CARD, FE_PII_PHONE,
                                                     FE_PII_IPV4};
            for (size_t k = 0; !n && k < 4; k++) {
                n = digit_matchers[k](s, len, i, m.redacted, sizeof(m.redacted));
                m.kind = kinds[k];
            }
        }
        if (!n && (c == '+')) {
            n = match_phone_intl(s, len, i, m.redacted, sizeof(m.redacted));
            m.kind = FE_PII_PHONE;
        }
        if (!n && c == '(') {
            n = match_phone_us(s, len, i, m.redacted, sizeof(m.redacted));
            m.kind = FE_PII_PHONE;
        }
        if (!n && is_hex(c)) {
            n = match_ipv6(s, len, i, m.redacted, sizeof(m.redacted));
            m.kind = FE_PII_IPV6;
        }
        if (n) {
            m.start = i;
            m.len = n;
            count++;
            if (fn)
                fn(&m, ctx);
            i += n;
        } else {
            i++;
        }
    }
    return count;
}
