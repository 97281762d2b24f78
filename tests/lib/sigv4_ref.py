"""An independent AWS Signature Version 4 reference for the tests (stdlib hmac/hashlib only),
written from AWS's "Create a signed AWS API request" guide, not from harness/base/sigv4.c:

    authorization(method, raw_path, raw_query, headers, body, amz_date, region, service, akid, secret)

headers is a list of (name, value) pairs, every one of them signed. The path is the one sent on
the wire (already percent-encoded); like botocore for every service but S3 it is quoted once more
(safe "/~"), so an ARN's "%3A" is signed as "%253A". The query is parsed and each name and value
quoted with safe "-_.~", sorted by name then value.
"""
import hashlib
import hmac
import urllib.parse


def _h(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(method, raw_path, raw_query, headers, body):
    uri = urllib.parse.quote(raw_path or "/", safe="/~")
    pairs = urllib.parse.parse_qsl(raw_query or "", keep_blank_values=True)
    q = "&".join("%s=%s" % kv for kv in sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                                               for k, v in pairs))
    grouped = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(" ".join(value.strip().split()))
    names = sorted(grouped)
    canon = "".join("%s:%s\n" % (n, ",".join(grouped[n])) for n in names)
    signed = ";".join(names)
    payload = hashlib.sha256(body if isinstance(body, bytes) else body.encode("utf-8")).hexdigest()
    return "\n".join([method, uri, q, canon, signed, payload]), signed


def authorization(method, raw_path, raw_query, headers, body, amz_date, region, service, akid, secret):
    creq, signed = canonical_request(method, raw_path, raw_query, headers, body)
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    key = _h(_h(_h(_h(("AWS4" + secret).encode("utf-8"), amz_date[:8]), region), service), "aws4_request")
    sig = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (akid, scope, signed, sig)


def parse_authorization(value):
    """(akid, scope, signed_headers list, signature) of an Authorization header value, or None."""
    if not value or not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    parts = dict(p.strip().split("=", 1) for p in value[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = parts.get("Credential", "")
    akid, _, scope = cred.partition("/")
    return akid, scope, parts.get("SignedHeaders", "").split(";"), parts.get("Signature", "")
