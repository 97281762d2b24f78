"""The script rule of fteval's HTML pages (report.html, compare.html), checked from outside:
exactly one executable inline script and one JSON data block per example browser; a
Content-Security-Policy whose script-src is exactly the sha256 (hashlib, base64) of that one
script's text — no 'unsafe-inline', no 'unsafe-eval', no host; nothing else may load.

    from htmlpage import page_problems
    problems = page_problems(text)   # [] when the page keeps the rule
"""
import base64
import hashlib
import re


def csp_of(text):
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    return m.group(1) if m else None


def page_problems(text, n_data=1):
    """Problems with text's scripts and CSP; n_data: how many JSON data blocks it must hold."""
    out = []
    csp = csp_of(text)
    if csp is None:
        return ["no Content-Security-Policy meta element"]
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    if directives.get("default-src") != ["'none'"]:
        out.append("default-src is not 'none': %r" % csp)
    for name in ("connect-src", "frame-src", "font-src", "object-src", "base-uri", "form-action"):
        if name in directives:
            out.append("CSP opens %s" % name)
    if directives.get("img-src") not in (None, ["data:"]):
        out.append("img-src beyond data: %r" % directives.get("img-src"))
    opens = [m.start() for m in re.finditer(r"<script\b", text, re.I)]
    closes = [m.start() for m in re.finditer(r"</script", text, re.I)]
    if len(opens) != len(closes):
        out.append("%d <script opening tags but %d </script" % (len(opens), len(closes)))
    data = re.findall(r'<script type="application/json" class="eb-data">', text)
    if len(data) != n_data:
        out.append("%d JSON data blocks, want %d" % (len(data), n_data))
    code = re.findall(r"<script>(.*?)</script>", text, re.S)
    if len(code) != 1 or len(opens) != n_data + 1:
        out.append("want exactly one executable script, found %d (+%d other <script tags)" %
                   (len(code), len(opens) - len(code) - len(data)))
        return out
    want = "'sha256-%s'" % base64.b64encode(hashlib.sha256(code[0].encode("utf-8")).digest()).decode()
    if directives.get("script-src") != [want]:
        out.append("script-src is %r, want exactly [%s]" % (directives.get("script-src"), want))
    return out
