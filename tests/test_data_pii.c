/* test_data_pii.c — PII detectors: table of texts -> expected kind and redacted excerpt. */
#include "t.h"

#include "harness/data/data_pii.h"

struct collect {
    size_t n;
    struct fe_pii_match m[8];
};

static void on_match(const struct fe_pii_match *m, void *ctx)
{
    struct collect *c = ctx;
    if (c->n < 8)
        c->m[c->n] = *m;
    c->n++;
}

struct pii_case {
    const char *text;
    int kind; /* -1 = must find nothing */
    const char *redacted;
};

static const struct pii_case cases[] = {
    /* e-mail */
    {"write to john.doe@example.com today", FE_PII_EMAIL, "j***@e***.com"},
    {"mail: A_b+tag@mail.example.co.uk.", FE_PII_EMAIL, "A***@m***.uk"},
    {"twitter handle @someone and foo@bar", -1, NULL},
    {"version 1.2@3", -1, NULL},
    /* phones */
    {"call +44 20 7946 0958 now", FE_PII_PHONE, "+** ** **** **58"},
    {"call +1 (415) 555-2671", FE_PII_PHONE, "+* (***) ***-**71"},
    {"US (212) 555-1234.", FE_PII_PHONE, "(***) ***-**34"},
    {"US 212-555-1234", FE_PII_PHONE, "***-***-**34"},
    {"US 1-800-555-0199", FE_PII_PHONE, "*-***-***-**99"},
    {"US 212.555.1234", FE_PII_PHONE, "***.***.**34"},
    {"in 2019 and 2020 I paid 1999", -1, NULL},
    {"order id 2125551234 arrived", -1, NULL}, /* bare ten digits: an id, not a phone */
    {"ref 12345678", -1, NULL},
    {"between 2019-2020 and 2020-2021", -1, NULL},
    {"+33", -1, NULL},
    /* cards */
    {"card 4242 4242 4242 4242 exp", FE_PII_CARD, "**** **** **** 4242"},
    {"card 4111111111111111", FE_PII_CARD, "************1111"},
    {"amex 3782-822463-10005", FE_PII_CARD, "****-******-*0005"},
    {"card 4242 4242 4242 4241 exp", -1, NULL},  /* Luhn-invalid */
    {"id 1234567812345670", -1, NULL},           /* Luhn-valid, no issuer prefix */
    {"tracking 42424242424242424242", -1, NULL}, /* 20 digits */
    /* SSNs */
    {"ssn 123-45-6789", FE_PII_SSN, "***-**-6789"},
    {"ssn 000-45-6789", -1, NULL},
    {"ssn 666-45-6789", -1, NULL},
    {"ssn 900-45-6789", -1, NULL},
    {"ssn 123-00-6789", -1, NULL},
    {"ssn 123-45-0000", -1, NULL},
    {"ssn 123456789", -1, NULL},
    /* IPs */
    {"host 192.168.1.20 down", FE_PII_IPV4, "192.*.*.*"},
    {"bad 256.1.1.1 or 1.2.3 or 1.2.3.4.5", -1, NULL},
    {"ip 2001:db8:85a3::8a2e:370:7334 x", FE_PII_IPV6, "2001:****"},
    {"ip 2001:0db8:0000:0000:0000:ff00:0042:8329", FE_PII_IPV6, "2001:****"},
    {"at 12:30:45 today", -1, NULL},
    {"mac 00:1a:2b:3c:4d:5e", -1, NULL},
    /* secrets */
    {"key sk-proj-abcdefghijklmnopqrstuvwx1234", FE_PII_SECRET, "sk-****"},
    {"aws AKIAIOSFODNN7EXAMPLE ok", FE_PII_SECRET, "AKIA****"},
    {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc", FE_PII_SECRET, "Bearer ****"},
    {"token ghp_abcdefghijklmnopqrstuvwxyz0123456789", FE_PII_SECRET, "ghp_****"},
    {"the bearer of this letter", -1, NULL},
    {"scikit sk-learn is a library", -1, NULL},
    /* banking77-like sentences */
    {"I made a transfer of 100 euros 3 days ago", -1, NULL},
    {"My card number ends in 4242, why was it declined?", -1, NULL},
    {"I was charged 2.50 on 12/03/2019", -1, NULL},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pii_case *c = &cases[i];
        struct collect got = {0};
        size_t n = fe_pii_scan(c->text, strlen(c->text), on_match, &got);
        if (c->kind < 0) {
            if (n != 0)
                fprintf(stderr, "case %zu: '%s': unexpected %s '%s'\n", i, c->text,
                        fe_pii_kind_name(got.m[0].kind), got.m[0].redacted);
            T_CHECK(n == 0);
            continue;
        }
        if (n != 1 || got.m[0].kind != (enum fe_pii_kind)c->kind)
            fprintf(stderr, "case %zu: '%s': got %zu match(es)%s%s\n", i, c->text, n,
                    n ? ", first " : "", n ? fe_pii_kind_name(got.m[0].kind) : "");
        T_CHECK(n == 1);
        if (n >= 1) {
            T_CHECK(got.m[0].kind == (enum fe_pii_kind)c->kind);
            T_CHECK_STR(got.m[0].redacted, c->redacted);
        }
    }
    /* several in one text, in order, and the excerpt never holds the full value */
    const char *multi = "a@b.io, 123-45-6789 and 4242424242424242";
    struct collect got = {0};
    T_CHECK(fe_pii_scan(multi, strlen(multi), on_match, &got) == 3);
    T_CHECK(got.m[0].kind == FE_PII_EMAIL && got.m[1].kind == FE_PII_SSN &&
            got.m[2].kind == FE_PII_CARD);
    T_CHECK(strstr(got.m[2].redacted, "4242424242424242") == NULL);
    T_CHECK(fe_luhn_valid("4242424242424242", 16));
    T_CHECK(!fe_luhn_valid("4242424242424241", 16));
    T_CHECK(fe_luhn_valid("79927398713", 11));
    T_CHECK_STR(fe_pii_kind_name(FE_PII_IPV6), "ipv6");
    return T_DONE();
}
