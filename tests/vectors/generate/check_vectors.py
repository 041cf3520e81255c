#!/usr/bin/env python3
"""Independent checker for tests/vectors/*.json: Python standard library only.

It shares no code with generate.py and calls no SDK. For every case it re-implements the provider's
*documented* algorithm from scratch (HMAC via hmac/hashlib, Ed25519 via the RFC 8032 reference
arithmetic below), decides accept/reject at the case's `now`, and requires that to match `expect`.
For valid cases it also requires the signature header to be exactly what the documented algorithm
produces (or, for multi-signature headers, to contain it), and re-signs Ed25519 cases from
`signing_key`. This catches SDK misuse in the generator (wrong key encoding, wrong signed string...).

It also checks the file format: required fields, unique kebab-case names, body XOR body_base64.

Usage: check_vectors.py DIR   (exit status 1 on any problem)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

# ---------------------------------------------------------------------------------------------
# Ed25519, RFC 8032 section 6 reference arithmetic (slow, but independent of OpenSSL/libsodium)
# ---------------------------------------------------------------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _eq(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(pt):
    zi = pow(pt[2], P - 2, P)
    x, y = pt[0] * zi % P, pt[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def _h(m):
    return int.from_bytes(hashlib.sha512(m).digest(), "little") % L


def ed25519_public(seed: bytes) -> bytes:
    a = int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    return _compress(_mul(a, G))


def ed25519_sign(seed: bytes, msg: bytes) -> bytes:
    h = hashlib.sha512(seed).digest()
    a = (int.from_bytes(h[:32], "little") & ((1 << 254) - 8)) | (1 << 254)
    pub = _compress(_mul(a, G))
    r = _h(h[32:] + msg)
    rs = _compress(_mul(r, G))
    s = (r + _h(rs + pub + msg) * a) % L
    return rs + s.to_bytes(32, "little")


def ed25519_verify(pub: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pub) != 32 or len(sig) != 64:
        return False
    a, r = _decompress(pub), _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    return _eq(_mul(s, G), _add(r, _mul(_h(sig[:32] + pub + msg), a)))


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


class Mismatch(Exception):
    """The documented algorithm disagrees with a valid case's header value."""


def mac(key: bytes, msg: bytes, algo: str = "sha256") -> bytes:
    return hmac.new(key, msg, getattr(hashlib, algo)).digest()


def b64e(b: bytes) -> str:
    return base64.b64encode(b).decode()


def hdr(case: dict, name: str) -> str | None:
    found = [v for k, v in case["headers"] if k.lower() == name.lower()]
    if len(found) > 1:
        raise ValueError(f"header {name} appears {len(found)} times")
    return found[0] if found else None


def body_of(case: dict) -> bytes:
    return base64.b64decode(case["body_base64"], validate=True) if "body_base64" in case else case["body"].encode("utf-8")


class Ctx:
    """What one case's verification found: accepted?, and which header values it recomputed."""

    def __init__(self, case: dict):
        self.case = case
        self.valid = case["expect"] == "valid"
        self.notes: list[str] = []

    def expect_equal(self, what: str, got: str, want: str):
        # For valid cases the header must be byte-for-byte what the documented algorithm gives.
        if self.valid and got != want:
            raise Mismatch(f"{what}: header has {got!r}, documented algorithm gives {want!r}")


# ---------------------------------------------------------------------------------------------
# One verifier per scheme, each from the provider's documentation
# ---------------------------------------------------------------------------------------------


def v_standard_webhooks(c: Ctx) -> bool:
    case = c.case
    prefix = "svix" if hdr(case, "svix-id") is not None else "webhook"
    msg_id, ts, sigs = hdr(case, f"{prefix}-id"), hdr(case, f"{prefix}-timestamp"), hdr(case, f"{prefix}-signature")
    if case.get("id") != msg_id or case.get("timestamp") != int(ts):
        raise Mismatch("id/timestamp fields differ from the headers")
    entries = [e.split(",", 1) for e in sigs.split(" ")]
    content = f"{msg_id}.{ts}.".encode() + body_of(case)
    if abs(case["now"] - int(ts)) > 300:  # spec: "within some allowable tolerance"; every library uses 5 min
        return False
    matched = False
    for secret in case["secrets"]:
        if secret.startswith("whsec_"):
            raw = secret[len("whsec_"):]
            key = base64.b64decode(raw + "=" * (-len(raw) % 4))
            want = b64e(mac(key, content))
            if any(v == "v1" and s == want for v, s in entries):
                matched = True
        elif secret.startswith("whpk_"):
            pub = base64.b64decode(secret[len("whpk_"):])
            if case.get("signing_key"):
                sk = base64.b64decode(case["signing_key"][len("whsk_"):])
                if len(sk) != 64 or sk[32:] != pub or ed25519_public(sk[:32]) != pub:
                    raise Mismatch("whsk_ is not base64(seed || public key) for this whpk_")
                if c.valid and ["v1a", b64e(ed25519_sign(sk[:32], content))] not in entries:
                    raise Mismatch("re-signing with signing_key does not reproduce a v1a entry")
            if any(v == "v1a" and ed25519_verify(pub, content, base64.b64decode(s)) for v, s in entries):
                matched = True
        else:
            raise Mismatch(f"unknown secret format {secret[:6]}...")
    return matched


def timestamped_entries(case: dict, header: str, sep: str, ts_key: str, sig_key: str) -> tuple[int, list[str]]:
    """Stripe's `t=..,v1=..` and Paddle's `ts=..;h1=..`: the timestamp, checked against the case's, and
    the values of the signature entries."""
    items = [kv.split("=", 1) for kv in hdr(case, header).split(sep)]
    ts = int(next(v for k, v in items if k == ts_key))
    if case.get("timestamp") != ts:
        raise Mismatch(f"timestamp field differs from {ts_key}=")
    return ts, [v for k, v in items if k == sig_key]


def v_stripe(c: Ctx) -> bool:
    case = c.case
    t, v1 = timestamped_entries(case, "Stripe-Signature", ",", "t", "v1")
    ok = False
    for secret in case["secrets"]:  # the key is the whole whsec_... string
        want = mac(secret.encode(), f"{t}.".encode() + body_of(case)).hex()
        ok |= want in v1
    if c.valid and not ok:
        raise Mismatch("no v1= entry equals the documented HMAC")
    return ok and case["now"] - t <= 300


def v_github(c: Ctx) -> bool:
    case = c.case
    body = body_of(case)
    for secret in case["secrets"]:
        want = "sha256=" + mac(secret.encode(), body).hex()
        if hdr(case, "X-Hub-Signature-256") == want:
            legacy = hdr(case, "X-Hub-Signature")
            if legacy is not None:
                c.expect_equal("X-Hub-Signature", legacy, "sha1=" + mac(secret.encode(), body, "sha1").hex())
            return True
    return False


def _v0(c: Ctx, ts_name: str, sig_name: str) -> bool:
    """Slack's layout, which Zoom copied: v0= + hex HMAC-SHA256 of v0:<ts>:<body>, 5 minutes."""
    case = c.case
    ts = hdr(case, ts_name)
    if case.get("timestamp") != int(ts):
        raise Mismatch(f"timestamp field differs from {ts_name}")
    sig = hdr(case, sig_name)
    wants = ["v0=" + mac(s.encode(), b"v0:" + ts.encode() + b":" + body_of(case)).hex() for s in case["secrets"]]
    if c.valid and sig not in wants:
        raise Mismatch(f"{sig_name}: header has {sig!r}, documented algorithm gives one of {wants!r}")
    return sig in wants and abs(case["now"] - int(ts)) <= 300


def v_slack(c: Ctx) -> bool:
    return _v0(c, "X-Slack-Request-Timestamp", "X-Slack-Signature")


def v_zoom(c: Ctx) -> bool:
    return _v0(c, "x-zm-request-timestamp", "x-zm-signature")


def v_shopify(c: Ctx) -> bool:
    case = c.case
    want = b64e(mac(case["secrets"][0].encode(), body_of(case)))
    c.expect_equal("X-Shopify-Hmac-Sha256", hdr(case, "X-Shopify-Hmac-Sha256"), want)
    return hdr(case, "X-Shopify-Hmac-Sha256") == want


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parts.hostname
    default = 443 if parts.scheme == "https" else 80
    with_port = parts._replace(netloc=f"{host}:{parts.port or default}")
    without = parts._replace(netloc=host)
    return [url, urlunsplit(with_port), urlunsplit(without)]


def v_twilio(c: Ctx) -> bool:
    case = c.case
    body = body_of(case).decode("utf-8")
    settings = hdr(case, "X-Twilio-Webhooks-Signature-Settings") or ""
    algo = "sha256" if "algorithm=HMAC_SHA256" in settings.replace(" ", "") else "sha1"
    query = dict(parse_qsl(urlsplit(case["url"]).query, keep_blank_values=True))
    ctype = hdr(case, "Content-Type") or ""
    if ctype.startswith("application/json"):
        if query.get("bodySHA256") != hashlib.sha256(body.encode()).hexdigest():
            return False
        tail = ""  # the URL (which carries bodySHA256) is signed alone
    elif case["method"] == "GET" or not body:
        tail = ""
    else:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=True)
        tail = "".join(k + v for k, v in sorted(pairs))  # by name, then a repeated name's values sorted
    sig = hdr(case, "X-Twilio-Signature")
    for candidate in _port_variants(case["url"]):
        if b64e(mac(case["secrets"][0].encode(), (candidate + tail).encode(), algo)) == sig:
            if candidate != case["url"]:
                c.notes.append(f"matched with port variant {candidate}")
            return True
    return False


def v_paddle(c: Ctx) -> bool:
    case = c.case
    ts, h1 = timestamped_entries(case, "Paddle-Signature", ";", "ts", "h1")
    ok = any(mac(s.encode(), f"{ts}:".encode() + body_of(case)).hex() in h1 for s in case["secrets"])
    if c.valid and not ok:
        raise Mismatch("no h1= entry equals the documented HMAC")
    return ok and abs(case["now"] - ts) <= 5  # both official SDKs' default window


def v_zendesk(c: Ctx) -> bool:
    case = c.case
    ts = hdr(case, "X-Zendesk-Webhook-Signature-Timestamp")
    if datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S%z").timestamp() != case.get("timestamp"):
        raise Mismatch("timestamp field differs from the ISO 8601 header")
    want = b64e(mac(case["secrets"][0].encode(), ts.encode() + body_of(case)))
    c.expect_equal("X-Zendesk-Webhook-Signature", hdr(case, "X-Zendesk-Webhook-Signature"), want)
    return hdr(case, "X-Zendesk-Webhook-Signature") == want


def v_linear(c: Ctx) -> bool:
    case = c.case
    body = body_of(case)
    want = mac(case["secrets"][0].encode(), body).hex()
    c.expect_equal("Linear-Signature", hdr(case, "Linear-Signature"), want)
    wts = json.loads(body)["webhookTimestamp"]
    if case.get("timestamp") * 1000 != wts or hdr(case, "Linear-Timestamp") != str(wts):
        raise Mismatch("webhookTimestamp / Linear-Timestamp / timestamp disagree")
    return hdr(case, "Linear-Signature") == want and abs(case["now"] * 1000 - wts) <= 60_000


def v_intercom(c: Ctx) -> bool:
    case = c.case
    want = "sha1=" + mac(case["secrets"][0].encode(), body_of(case), "sha1").hex()
    c.expect_equal("X-Hub-Signature", hdr(case, "X-Hub-Signature"), want)
    return hdr(case, "X-Hub-Signature") == want


def v_discord(c: Ctx) -> bool:
    case = c.case
    pub = bytes.fromhex(case["secrets"][0])
    ts = hdr(case, "X-Signature-Timestamp")
    msg = ts.encode() + body_of(case)
    seed = bytes.fromhex(case["signing_key"])
    if ed25519_public(seed) != pub:
        raise Mismatch("signing_key seed does not derive the configured public key")
    c.expect_equal("X-Signature-Ed25519", hdr(case, "X-Signature-Ed25519"), ed25519_sign(seed, msg).hex())
    return ed25519_verify(pub, msg, bytes.fromhex(hdr(case, "X-Signature-Ed25519")))


def _render(template: str, case: dict, ts_header: str | None) -> bytes:
    out = b""
    for literal, field in re.findall(r"(\{\{|\}\}|[^{}]+)|\{([^{}]*)\}", template):
        if literal:
            out += {"{{": b"{", "}}": b"}"}.get(literal, literal.encode())
        elif field == "body":
            out += body_of(case)
        elif field == "method":
            out += case["method"].encode()
        elif field == "url":
            out += case["url"].encode()
        elif field == "timestamp":
            out += hdr(case, ts_header).encode()
        elif field.startswith("header:"):
            out += hdr(case, field[len("header:"):]).encode()
        else:
            raise Mismatch(f"unknown template field {field!r}")
    return out


def v_generic(c: Ctx) -> bool:
    case, p = c.case, c.case["params"]
    allowed = {"header", "prefix", "encoding", "algorithm", "signed_content", "timestamp_header", "timestamp_format"}
    if not {"header", "prefix", "encoding", "algorithm"} <= set(p) <= allowed:
        raise Mismatch(f"bad params keys {sorted(p)}")
    ts_header = p.get("timestamp_header")
    if ts_header:
        raw = hdr(case, ts_header)
        fmt = p.get("timestamp_format", "unix")
        ts = {"unix": lambda v: int(v), "unix_ms": lambda v: int(v) / 1000, "rfc3339": lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()}[fmt](raw)
        if ts != case.get("timestamp"):
            raise Mismatch("timestamp field differs from the timestamp header")
        if abs(case["now"] - ts) > 300:
            return False
    digest = mac(case["secrets"][0].encode(), _render(p.get("signed_content", "{body}"), case, ts_header), p["algorithm"])
    want = p["prefix"] + (digest.hex() if p["encoding"] == "hex" else b64e(digest))
    c.expect_equal(p["header"], hdr(case, p["header"]), want)
    return hdr(case, p["header"]) == want


VERIFIERS = {
    "standard-webhooks": v_standard_webhooks,
    "stripe": v_stripe,
    "github": v_github,
    "slack": v_slack,
    "shopify": v_shopify,
    "twilio": v_twilio,
    "paddle": v_paddle,
    "zendesk": v_zendesk,
    "linear": v_linear,
    "intercom": v_intercom,
    "discord": v_discord,
    "zoom": v_zoom,
    "generic": v_generic,
}

TOP_KEYS = ["scheme", "origin", "reference", "generated_by", "cases"]
CASE_REQUIRED = {"name", "secrets", "params", "now", "method", "url", "headers", "expect"}
CASE_ALLOWED = CASE_REQUIRED | {"description", "signing_key", "body", "body_base64", "id", "timestamp", "reason"}


def check_format(doc: dict, path: Path) -> list[str]:
    problems = []
    if list(doc) != TOP_KEYS:
        problems.append(f"top-level keys {list(doc)} != {TOP_KEYS}")
    if doc.get("scheme") != path.stem:
        problems.append("scheme differs from the file name")
    names = set()
    for case in doc.get("cases", []):
        n = case.get("name", "?")
        keys = set(case)
        if not CASE_REQUIRED <= keys <= CASE_ALLOWED:
            problems.append(f"{n}: keys {sorted(keys)}")
        if ("body" in case) == ("body_base64" in case):
            problems.append(f"{n}: needs exactly one of body / body_base64")
        if "body_base64" in case:
            try:
                body_of(case).decode("utf-8")
                problems.append(f"{n}: body_base64 used for a UTF-8 body")
            except UnicodeDecodeError:
                pass
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) or n in names:
            problems.append(f"{n}: name not unique kebab-case")
        names.add(n)
        if case.get("expect") not in ("valid", "invalid") or (case.get("expect") == "invalid") != ("reason" in case):
            problems.append(f"{n}: expect/reason")
        if not all(isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in case.get("headers", [])):
            problems.append(f"{n}: headers must be [name, value] string pairs")
        if not case.get("secrets") or not all(isinstance(s, str) for s in case["secrets"]):
            problems.append(f"{n}: secrets")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    files = sorted(root.glob("*.json"))
    failures = 0
    total = 0
    if {f.stem for f in files} != set(VERIFIERS):
        print(f"FAIL expected exactly {sorted(VERIFIERS)} in {root}, found {[f.name for f in files]}")
        failures += 1
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        problems = check_format(doc, path)
        verify = VERIFIERS.get(doc.get("scheme"))
        counts = {"valid": 0, "invalid": 0}
        for case in doc.get("cases", []):
            total += 1
            ctx = Ctx(case)
            try:
                accepted = verify(ctx)
                if accepted != ctx.valid:
                    problems.append(f"{case['name']}: documented algorithm {'accepts' if accepted else 'rejects'} but expect={case['expect']}")
                else:
                    counts[case["expect"]] += 1
            except Exception as e:  # noqa: BLE001 - any error is a failed check
                problems.append(f"{case['name']}: {type(e).__name__}: {e}")
        for p in problems:
            print(f"FAIL {path.name}: {p}")
        failures += len(problems)
        print(f"{'ok  ' if not problems else 'FAIL'} {path.name}: {counts['valid']} valid + {counts['invalid']} invalid cases agree with the documented algorithm")
    if failures:
        print(f"check_vectors.py: {failures} problem(s)")
        return 1
    print(f"check_vectors.py: all {total} cases in {len(files)} files agree with the documented algorithms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
