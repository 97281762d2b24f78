#!/usr/bin/python3
"""Generates tests/fixtures/metrics/normalize_cases.jsonl: tricky strings with the output of the
official SQuAD normalisation and EM/F1 as computed by Python, for tests/test_squad.c.

    /usr/bin/python3 tools/gen_normalize_cases.py > tests/fixtures/metrics/normalize_cases.jsonl

The reference is the official evaluation code (SQuAD v1.1 normalize_answer, v2.0 compute_exact /
compute_f1 and the v2.0 rule that golds normalising to "" are dropped, gold [""] when none remain),
copied verbatim below. The output is deterministic for a given Python (random is seeded).

Line kinds (one JSON object per line, each with a unique "id"):
  {"id", "kind": "normalize", "input", "output"}
  {"id", "kind": "normalize", "input_hex", "output_hex"}       invalid UTF-8, via surrogateescape
  {"id", "kind": "score", "prediction" | "prediction_hex", "golds", "em", "f1"}
"""
import collections
import json
import random
import re
import string
import sys
import unicodedata


# --- official SQuAD evaluation code (v1.1 normalize_answer; v2.0 get_tokens/compute_*) -------
def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # If either is no-answer, then F1 is 1 if they agree, 0 otherwise
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def score(pred, golds):
    gold_answers = [a for a in golds if normalize_answer(a)]
    if not gold_answers:
        gold_answers = ['']
    em = max(compute_exact(a, pred) for a in gold_answers)
    f1 = max(compute_f1(a, pred) for a in gold_answers)
    return float(em), float(f1)
# ---------------------------------------------------------------------------------------------


def enc(s):
    return s.encode("utf-8", "surrogateescape")


def dec(b):
    return b.decode("utf-8", "surrogateescape")


HANDCRAFTED = [
    # STATISTICS.md §1 and ASCII basics
    "The Eiffel Tower", "well-known", "1,000", "A cat", "an apple", "the", "a", "an", "An",
    "THE END", "theatre", "another", "athena", "a.b", "a-the-an", "the,a", "(the) [a] {an}",
    "it's", "Paris Paris Paris", "  multiple   spaces\t\nnew\r\fline\v", "U.S.A.", "$5.00",
    "_the_", "the_", "a_", "'a'", ".", "...", "", " ", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "a an the", "The the THE tHe", "theA", "a1", "1a", "the9", "9the", "the 9", "x a y",
    "Denver Broncos", "Super Bowl 50", "Levi's Stadium", "12–4", "the 1920s", "a.m.", "p.m",
    # articles next to letters, marks, digits in other scripts
    "anémona", "ane\u0301mona", "an\u0301", "the\u0301", "a\u0301", "\u0301the", "théâtre",
    "the é", "éthe", "éan", "a\u0903", "the\u093f", "a\u0300 b", "the\u200d", "a\u200cb",
    "the²", "a½", "the٣", "an①", "a𝟙", "the\u2160", "aª", "thé", "ªthe", "theº",
    "東京the", "the東京", "a東", "東 a 東", "the😀", "😀 a 😀", "a\u200dthe", "the\u00ad",
    "a\u00b7b", "the\u0387", "a\u05f3", "aٴ", "the\u2019s", "‘a’", "“the”", "«the»", "„an“",
    "the…", "¿qué?", "¡a!", "x—y", "the–a", "the/a", "the\\a", "a·b", "l'amour", "rock'n'roll",
    # lowercase: full case mapping, SpecialCasing, final sigma
    "Ábc", "ÉCOLE", "İstanbul", "İ", "DİYARBAKIR", "Iı", "İthe", "aİ", "ß", "ẞ", "STRASSE",
    "Straße", "ΟΔΟΣ", "Σ", "ΣΑΣ", "ΣΑΣ.", "Σ.Σ", "ΑΣ'Β", "Α\u0301Σ", "ΑΣ\u0301", "ΑΣ\u0301Β",
    "ΑΣ Β", "ΑΣ\u00adΒ", "ΑΣ1", "1Σ", "ΑΣΣ", "ΣΣΣ", "ΑΣ.Σ", "Α.Σ", "ΑΣ-Β", "ΑΣ:Β", "Α:Σ",
    "ΌΣΟΣ ΤΟΣΟΣ", "ΑΣ\u02b0", "\u02b0Σ", "ʰΣ", "AΣ", "ΑΣ\u0345", "ǅ", "Ǉ", "ǈ", "\u2126",
    "\u212a", "\u212b", "Ⅻ", "Ⓐ", "𐐀", "ＡＢＣ", "ＴＨＥ", "Ｔhe", "ǰ", "ŉ", "Ｗ", "ꭰ", "Ꭰ",
    "ᲀ", "ᾈ", "ᾼ", "ῼ", "Ϊ́", "ΐ", "Ĳ", "ﬁ", "ﬀ the", "Ⱥ", "Ȿ", "ꞵ", "Ꞵ", "𞤀", "𑢠",
    "Ω", "Ɐ", "ɐ",
    # whitespace as str.split() sees it
    "a\u00a0b", "x\u00a0y", "x\u3000y", "x\u2028y", "x\u2029y", "x\u0085y", "x\u001cy",
    "x\u001dy", "x\u001ey", "x\u001fy", "x\u200by", "x\u180ey", "x\ufeffy", "x\u2009y",
    "x\u202fy", "x\u205fy", "x\u1680y", "x\u200ay", "x\u0009y", "x\u000by", "x\u000cy",
    "x\u000dy", "x\u2000y", "x\u2007y", "x\u2060y", "x\u00a0\u00a0the\u3000y",
    "\u001cthe\u001d", "\u3000a\u3000",
]

# Characters with an interesting mix of properties, combined with articles and sigma.
SPECIAL = [
    "é", "\u0301", "\u0345", "\u02b0", "\u00ad", "\u200d", "\u200c", "\u00b7", "'", ".", ":",
    "\u2019", "²", "½", "٣", "①", "𝟙", "Ⅻ", "ª", "東", "😀", "İ", "ß", "ẞ", "Σ", "ς", "ǅ",
    "\u2126", "\u212a", "\u00a0", "\u3000", "\u001c", "\u001f", "\u0085", "\u200b", "\u180e",
    "\ufeff", "\u2028", "_", "-", "—", "…", "\u0903", "\u093f", "ก", "\u0e31", "ا", "\u064b",
    "א", "\u05b4", "ㄱ", "가", "ｱ", "\uff9e", "Ａ", "𐐀", "𝐀", "\U000e0041", "\U0001f3fb", "\x7f",
    "\x80", "\u2160", "ǰ", "ŉ", "ﬁ", "\u0130\u0301",
]


def special_line(x):
    return f"a{x} {x}the an{x}x Σ{x} A{x}Σ AΣ{x}B x{x}y the{x}an THE{x}"


def sweep_points():
    """Code points at every boundary of the generated property and lowercase tables."""
    import importlib.util
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("gut", os.path.join(here, "gen_unicode_tables.py"))
    gut = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gut)
    pts = set()
    prev_f = prev_l = None
    for cp in range(0x110000):
        if gut.is_surrogate(cp):
            prev_f = prev_l = None
            continue
        f = gut.flags_of(cp)
        lo = chr(cp).lower()
        ld = ord(lo) - cp if len(lo) == 1 else lo
        if prev_f is not None and (f != prev_f or ld != prev_l):
            pts.update((cp - 1, cp))
        prev_f, prev_l = f, ld
    pts.discard(0)
    return sorted(p for p in pts if not gut.is_surrogate(p))


BAD_INPUTS = [
    b"\xff", b"a\x80b", b"\xc3", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
    b"\xe0\x80\xaf", b"The \xe9t\xe9", b"\xce\xa3\xff", b"A\xce\xa3\x80", b"\xce\x91\xce\xa3\xff",
    b"\xff\xce\xa3", b"the\xff", b"\xffthe", b"a\xff b", b"\xff\xfe", b"x \xf0\x9f\x98",
    b"\xe2\x82", b"\xe2\x82\xe2\x82\xac", b"\xc3\x28the", b"\xf8\x88\x80\x80\x80",
    b"\xc3\xa9\xa9", b"THE\xa0END", b"a\xc2\xa0b\xa0c", b"\xf0\x90\x90", b"\xf0\x90\x90\x80",
    b"\xc3-\xa9", b"\xed\xbf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf",
]

# Score cases: (prediction, golds). Strings; bytes for invalid UTF-8 predictions.
SCORES = [
    ("Paris", ["Paris"]), ("paris.", ["Paris"]), ("the Paris", ["Paris"]),
    ("Paris Paris Paris", ["Paris"]), ("Paris", ["Paris Paris Paris"]),
    ("Paris Paris", ["Paris Paris Paris"]), ("Paris London", ["London Paris"]),
    ("well-known", ["wellknown"]), ("well known", ["well-known"]), ("1,000", ["1000"]),
    ("1 000", ["1,000"]), ("Denver Broncos", ["Denver Broncos", "Broncos", "The Denver Broncos"]),
    ("Broncos", ["Denver Broncos", "Carolina Panthers"]),
    ("Carolina Panthers", ["Denver Broncos", "Panthers Carolina"]),
    ("", ["Paris"]), ("", [""]), ("", ["."]), ("x", ["."]), ("x", [""]), ("the", [""]),
    ("a an the", ["."]), (".", ["", "..."]), ("", ["the", "a"]), ("Paris", [".", "Paris"]),
    ("x", ["", "x"]), ("", [".", "Paris"]), ("the cat", ["a cat"]), ("cat", ["the a an cat"]),
    ("a b c d", ["b c d e"]), ("one two three", ["three", "two one"]),
    ("Straße", ["STRASSE"]), ("straße", ["STRAẞE"]), ("İstanbul", ["istanbul"]),
    ("İstanbul", ["i̇stanbul"]), ("ΟΔΟΣ", ["οδος"]), ("ΟΔΟΣ", ["οδοσ"]), ("Σ", ["σ"]),
    ("ΑΣ ΒΣ", ["ας βς"]), ("anémona", ["émona"]), ("an émona", ["émona"]),
    ("x\u00a0y", ["x y"]), ("x\u3000y", ["y x"]), ("x\u200by", ["x y"]), ("x\u001fy", ["x y"]),
    ("café", ["cafe\u0301"]), ("ﬁle", ["file"]), ("Ｐａｒｉｓ", ["paris"]),
    ("«Paris»", ["Paris"]), ("“Paris”", ["Paris"]), ("12–4", ["12-4"]), ("12–4", ["12–4"]),
    (b"\xc3-\xa9", ["\u00e9"]), (b"caf\xe9", ["caf\u00e9"]), (b"\xff Paris", ["Paris"]),
    (b"\xff", ["\xff"]), (b"Paris \xff", ["Paris"]),
]


def rand_text(rng, alphabet, words):
    parts = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(words))
        else:
            parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))))
    seps = [" ", "  ", "\u00a0", "\u3000", "\t", "-", "", "\u001e", ", "]
    out = ""
    for p in parts:
        out += p + rng.choice(seps)
    return out


def main():
    rows = []

    def add(kind, **kw):
        rows.append(dict(id="%s%04d" % (kind[0], len(rows)), kind=kind, **kw))

    seen = set()

    def add_norm(s):
        if s in seen:
            return
        seen.add(s)
        add("normalize", input=s, output=normalize_answer(s))

    for s in HANDCRAFTED:
        add_norm(s)
    for x in SPECIAL:
        add_norm(special_line(x))
    pts = sweep_points()
    per_line = 24
    for i in range(0, len(pts), per_line):
        add_norm(" ".join(f"the{chr(c)}Σ {chr(c)}Σ AΣ{chr(c)}B" for c in pts[i:i + per_line]))
    rng = random.Random(20261125)
    alphabet = list("abcdefghijklmnopqrstuvwxyzAEIST.,'-") + SPECIAL + ["Σ", "ΑΣ", "the", "an"]
    words = ["the", "a", "an", "The", "AN", "Paris", "Straße", "İstanbul", "ΟΔΟΣ", "anémona",
             "well-known", "1,000", "東京", "naïve", "x", "ǅemal", "ΣΑΣ"]
    for _ in range(120):
        add_norm(rand_text(rng, alphabet, words))
    for b in BAD_INPUTS:
        add("normalize", input_hex=b.hex(), output_hex=enc(normalize_answer(dec(b))).hex())
    for pred, golds in SCORES:
        em, f1 = score(dec(pred) if isinstance(pred, bytes) else pred, golds)
        if isinstance(pred, bytes):
            add("score", prediction_hex=pred.hex(), golds=golds, em=em, f1=f1)
        else:
            add("score", prediction=pred, golds=golds, em=em, f1=f1)
    for _ in range(150):
        pred = rand_text(rng, alphabet, words)
        golds = [rand_text(rng, alphabet, words) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            golds.append(pred.upper())
        em, f1 = score(pred, golds)
        add("score", prediction=pred, golds=golds, em=em, f1=f1)
    for r in rows:
        assert json.loads(json.dumps(r, ensure_ascii=False)) == r
        line = json.dumps(r, ensure_ascii=False)
        # Keep C1 controls, line/paragraph separators and format characters visible as escapes.
        line = "".join(json.dumps(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
                       or c == "\u00a0" else c for c in line)
        sys.stdout.write(line + "\n")
    sys.stderr.write("%d rows (Python %s, Unicode %s)\n"
                     % (len(rows), sys.version.split()[0], unicodedata.unidata_version))


if __name__ == "__main__":
    main()
