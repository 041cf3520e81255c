#!/usr/bin/env python3
"""Generates hookline's shared webhook-signature test vectors (tests/vectors/<scheme>.json).

Every signature comes from the provider's official SDK where one can sign, else from the
provider's documented algorithm (Python stdlib), and every vector is then checked again with the
official SDK's *verifier* where one exists (PyPI SDKs in-process, npm SDKs through oracle.mjs).
Any disagreement aborts the run with a non-zero exit, so a file that is written has been verified.

Nothing here depends on the real clock or on randomness: secrets, ids and Ed25519 seeds are derived
from fixed labels (see `material`), timestamps are fixed (NOW), and SDKs that read the clock are run
under a frozen one. Running this twice gives byte-identical files.

Usage: generate.py --out DIR   (regenerate.sh runs it inside the pinned venv)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from importlib.metadata import version as dist_version
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

HERE = Path(__file__).resolve().parent

NOW = 1763900000  # the verification clock of (almost) every case: 2025-11-23T12:13:20Z
SIGNED_AT = NOW - 10  # the signing time of (almost) every case
BASE_URL = "https://hooks.example.com/hooks"
GENERATED_BY = "tests/vectors/generate/regenerate.sh"
DERIVATION_PREFIX = "hookline-test-vectors/v1"

# The SDK verifiers must not be told to skip their checks by the environment.
os.environ.pop("TEST_MODE", None)  # paddle_billing's Verifier disables its time check when set


class GenerationError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Deterministic material: every secret, id and seed is sha256("hookline-test-vectors/v1/<label>/<i>")
# ---------------------------------------------------------------------------------------------

def material(label: str, n: int) -> bytes:
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{DERIVATION_PREFIX}/{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # lower-case ULID alphabet (Paddle ids)


def b62(label: str, n: int) -> str:
    return "".join(B62[b % 62] for b in material(label, n))


def crockford(label: str, n: int) -> str:
    return "".join(CROCKFORD[b % 32] for b in material(label, n))


def hexstr(label: str, n_chars: int) -> str:
    return material(label, (n_chars + 1) // 2).hex()[:n_chars]


def digits(label: str, n: int) -> str:
    return "".join(str(b % 10) for b in material(label, n)).lstrip("0").rjust(n, "1")


def fake_uuid(label: str) -> str:
    return str(uuid.UUID(bytes=material(label, 16), version=4))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def iso(ts: int, frac: str = "") -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------

def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pretty(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt. "


def sized(obj, path: list, size: int = 1024, dump=compact) -> str:
    """Serialises obj with `dump`, padding the string at `path` so the body is exactly `size` bytes."""

    def set_at(value: str):
        target = obj
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    set_at("")
    base = len(dump(obj).encode())
    if base > size:
        raise GenerationError(f"body skeleton is already {base} bytes, over {size}")
    pad = (FILLER * (size // len(FILLER) + 1))[: size - base]
    set_at(pad)
    body = dump(obj)
    if len(body.encode()) != size:
        raise GenerationError("sized(): padding is not ASCII-only")
    return body


NON_ASCII_TEXT = "Grüße aus Zürich — café, crème brûlée & naïve résumé ☕ 🎉🚀 日本語テキスト Ωμέγα"

# Not valid UTF-8: a PNG signature (0x89, lone CR/LF, 0x1a), a truncated 3-byte sequence, an
# overlong encoding, a lone continuation byte and 0xff/0xfe.
NON_UTF8_BODY = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    + b"hookline \xe2\x82 truncated, \xc0\xaf overlong, \x80 lone, \xff\xfe end\n"
)


def _assert_not_utf8(data: bytes) -> bytes:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    raise GenerationError("NON_UTF8_BODY decodes as UTF-8")


_assert_not_utf8(NON_UTF8_BODY)


def as_bytes(body) -> bytes:
    return body if isinstance(body, bytes) else body.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Cases and files
# ---------------------------------------------------------------------------------------------

def make_case(
    name: str,
    description: str,
    *,
    secrets: list[str],
    headers: list[tuple[str, str]],
    body,
    url: str,
    method: str = "POST",
    now: int = NOW,
    params: dict | None = None,
    signing_key: str | None = None,
    msg_id: str | None = None,
    timestamp: int | None = None,
    expect: str = "valid",
    reason: str | None = None,
) -> dict:
    case: dict = {"name": name, "description": description, "secrets": list(secrets)}
    if signing_key is not None:
        case["signing_key"] = signing_key
    case["params"] = params if params is not None else {}
    case["now"] = now
    case["method"] = method
    case["url"] = url
    case["headers"] = [[k, v] for k, v in headers]
    raw = as_bytes(body)
    try:
        case["body"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        case["body_base64"] = b64(raw)
    if msg_id is not None:
        case["id"] = msg_id
    if timestamp is not None:
        case["timestamp"] = timestamp
    case["expect"] = expect
    if reason is not None:
        case["reason"] = reason
    return case


def case_body(case: dict) -> bytes:
    if "body_base64" in case:
        return base64.b64decode(case["body_base64"])
    return case["body"].encode("utf-8")


def header(case: dict, name: str) -> str | None:
    for k, v in case["headers"]:
        if k.lower() == name.lower():
            return v
    return None


class CIHeaders(dict):
    """Case-insensitive header mapping, as every web framework hands them to an SDK."""

    def __init__(self, pairs):
        super().__init__((k.lower(), v) for k, v in pairs)

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())


def write_file(out_dir: Path, scheme: str, origin: str, reference: str, cases: list[dict]) -> Path:
    names = [c["name"] for c in cases]
    if len(names) != len(set(names)):
        raise GenerationError(f"{scheme}: duplicate case names")
    doc = {
        "scheme": scheme,
        "origin": origin,
        "reference": reference,
        "generated_by": GENERATED_BY,
        "cases": cases,
    }
    path = out_dir / f"{scheme}.json"
    text = render_json(doc) + "\n"
    if json.loads(text) != doc:
        raise GenerationError(f"{scheme}: rendered JSON does not round-trip")
    path.write_text(text, encoding="utf-8")
    return path


# tests/vectors/<scheme>.json -> its generator, in the order they run; filled by @vector_file.
SCHEMES: dict[str, Callable[[Path], Path]] = {}


def vector_file(scheme: str, reference: str):
    """Registers the generator of tests/vectors/<scheme>.json. It is called with the scheme's name
    and webhook URL, signs and SDK-checks its cases and returns (origin, cases); write_file writes
    them with `reference`, the documentation the scheme follows."""

    def register(make):
        def generate(out: Path) -> Path:
            origin, cases = make(scheme, f"{BASE_URL}/{scheme}")
            return write_file(out, scheme, origin, reference, cases)

        SCHEMES[scheme] = generate
        return make

    return register


def render_json(value, indent: int = 0, key: str | None = None) -> str:
    """json.dumps(indent=2) layout, except that each [name, value] header pair stays on one line."""
    pad = "  " * indent
    if isinstance(value, dict) and value:
        items = [f"{pad}  {json.dumps(k)}: {render_json(v, indent + 1, k)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value:
        if key == "headers":
            items = [f"{pad}  {json.dumps(pair, ensure_ascii=False)}" for pair in value]
        else:
            items = [f"{pad}  {render_json(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# The npm side (oracle.mjs)
# ---------------------------------------------------------------------------------------------

def node(requests: list[dict]) -> list[dict]:
    if not requests:
        return []
    proc = subprocess.run(
        ["node", str(HERE / "oracle.mjs")],
        input=json.dumps(requests).encode(),
        capture_output=True,
        cwd=HERE,
        check=False,
    )
    if proc.returncode != 0:
        raise GenerationError(f"oracle.mjs failed ({proc.returncode}):\n{proc.stderr.decode()}")
    results = json.loads(proc.stdout)
    if len(results) != len(requests):
        raise GenerationError("oracle.mjs returned the wrong number of results")
    return results


def node_values(requests: list[dict]) -> list:
    values = []
    for req, res in zip(requests, node(requests)):
        if not res["ok"]:
            raise GenerationError(f"oracle op {req['op']} failed: {res['error']}")
        values.append(res["value"])
    return values


NPM_VERSIONS: dict[str, str] = {}


def npm(pkg: str) -> str:
    return f"npm {pkg}@{NPM_VERSIONS[pkg]}"


def pypi(dist: str) -> str:
    return f"PyPI {dist}=={dist_version(dist)}"


# ---------------------------------------------------------------------------------------------
# Verification bookkeeping
# ---------------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.lines: list[str] = []
        self.failures: list[str] = []

    def check(self, scheme: str, case: dict, verifier: str, accepted: bool, detail: str = ""):
        want = case["expect"] == "valid"
        ok = accepted == want
        verdict = "accepts" if accepted else "rejects"
        line = f"  {'ok  ' if ok else 'FAIL'} {scheme}/{case['name']}: {verifier} {verdict}"
        if detail:
            line += f" ({detail})"
        self.lines.append(line)
        if not ok:
            self.failures.append(line)

    def note(self, scheme: str, case: dict, verifier: str, text: str):
        self.lines.append(f"  note {scheme}/{case['name']}: {verifier}: {text}")

    def fail(self, text: str):
        self.lines.append(f"  FAIL {text}")
        self.failures.append(text)


REPORT = Report()


def frozen(now: int):
    from freezegun import freeze_time

    return freeze_time(datetime.fromtimestamp(now, tz=timezone.utc))


# =============================================================================================
# standard-webhooks (standardwebhooks + svix, v1 HMAC and v1a Ed25519)
# =============================================================================================

@vector_file("standard-webhooks", "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md")
def standard_webhooks(scheme: str, url: str) -> tuple[str, list[dict]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from standardwebhooks.webhooks import Webhook as StdWebhook
    from svix.webhooks import Webhook as SvixWebhook

    s1 = "whsec_" + b64(material("standard-webhooks/secret-1", 24))
    s2 = "whsec_" + b64(material("standard-webhooks/secret-2", 32))  # 44 chars, one '=' of padding
    s_old = "whsec_" + b64(material("standard-webhooks/secret-old", 24))  # never configured
    s64 = "whsec_" + b64(material("standard-webhooks/secret-64", 64))
    s_unpadded = "whsec_" + b64(material("standard-webhooks/secret-unpadded", 32)).rstrip("=")
    assert s2.endswith("=") and not s_unpadded.endswith("=")

    seed = material("standard-webhooks/ed25519-seed", 32)
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    whsk = "whsk_" + b64(seed + pk)  # svix-server's encoding: base64(seed || public key)
    whpk = "whpk_" + b64(pk)

    def msg_id(label: str) -> str:
        return "msg_" + b62(f"standard-webhooks/id/{label}", 27)

    def when(ts: int) -> datetime:
        return datetime.fromtimestamp(ts, tz=timezone.utc)

    def v1(secret: str, mid: str, ts: int, body: str, svix: bool = False) -> str:
        wh = SvixWebhook(secret) if svix else StdWebhook(secret)
        return wh.sign(mid, when(ts), body)  # "v1,<base64>"

    def v1a(mid: str, ts: int, body: str, key: Ed25519PrivateKey = sk) -> str:
        return "v1a," + b64(key.sign(f"{mid}.{ts}.{body}".encode()))

    def hdrs(mid: str, ts: int, sig: str, svix: bool = False) -> list[tuple[str, str]]:
        p = "svix" if svix else "webhook"
        return [
            ("content-type", "application/json"),
            (f"{p}-id", mid),
            (f"{p}-timestamp", str(ts)),
            (f"{p}-signature", sig),
        ]

    small = compact(
        {
            "type": "contact.created",
            "timestamp": iso(SIGNED_AT, ".000000"),
            "data": {"id": fake_uuid("sw/contact"), "email": "ada@example.com", "name": "Ada Lovelace"},
        }
    )
    kib = sized(
        {
            "type": "invoice.paid",
            "timestamp": iso(SIGNED_AT, ".000000"),
            "data": {
                "id": "inv_" + b62("sw/invoice", 24),
                "customer": "cus_" + b62("sw/customer", 14),
                "amount_paid": 4200,
                "currency": "eur",
                "lines": [{"description": "Pro plan", "amount": 4200, "quantity": 1}],
                "memo": "",
            },
        },
        ["data", "memo"],
    )
    non_ascii = compact(
        {
            "type": "message.created",
            "timestamp": iso(SIGNED_AT, ".000000"),
            "data": {"author": "Zoë Ångström", "text": NON_ASCII_TEXT},
        }
    )
    pretty_nl = pretty({"type": "user.deleted", "data": {"id": fake_uuid("sw/user"), "reason": "requested"}}) + "\n"

    cases: list[dict] = []
    meta: dict[str, dict] = {}

    def add(name, description, secrets, mid, ts, body, sig, svix=False, signing_key=None, now=NOW, expect="valid", reason=None, **m):
        cases.append(
            make_case(
                name,
                description,
                secrets=secrets,
                signing_key=signing_key,
                headers=hdrs(mid, ts, sig, svix),
                body=body,
                url=url,
                now=now,
                msg_id=mid,
                timestamp=ts,
                expect=expect,
                reason=reason,
            )
        )
        meta[name] = {"svix": svix, **m}

    lib = "standardwebhooks.Webhook.sign"
    mid = msg_id("json-small")
    add("json-small", f"Small JSON event, one v1 signature ({lib}).", [s1], mid, SIGNED_AT, small, v1(s1, mid, SIGNED_AT, small))
    mid = msg_id("json-1kib")
    add("json-1kib", f"1024-byte JSON body ({lib}).", [s1], mid, SIGNED_AT, kib, v1(s1, mid, SIGNED_AT, kib))
    mid = msg_id("utf8-non-ascii")
    add("utf8-non-ascii", f"Body with accents, emoji and CJK text ({lib}).", [s1], mid, SIGNED_AT, non_ascii, v1(s1, mid, SIGNED_AT, non_ascii))
    mid = msg_id("pretty-json-trailing-newline")
    add(
        "pretty-json-trailing-newline",
        f"Pretty-printed body ending in a newline; secret is 32 bytes, so its base64 carries '=' padding ({lib}).",
        [s2], mid, SIGNED_AT, pretty_nl, v1(s2, mid, SIGNED_AT, pretty_nl),
    )
    mid = msg_id("secret-64-bytes")
    add("secret-64-bytes", f"64-byte secret, the spec's maximum ({lib}).", [s64], mid, SIGNED_AT, small, v1(s64, mid, SIGNED_AT, small))
    mid = msg_id("secret-unpadded-base64")
    add(
        "secret-unpadded-base64",
        f"The configured whsec_ secret has its base64 '=' padding stripped; the SDKs accept it (they re-pad before decoding) ({lib}).",
        [s_unpadded], mid, SIGNED_AT, small, v1(s_unpadded, mid, SIGNED_AT, small),
    )
    mid = msg_id("rotation-two-signatures")
    add(
        "rotation-two-signatures",
        "Rotation: two secrets configured; the header carries two space-separated v1 signatures, one from each "
        f"secret (second secret's first). Each signature from {lib}, joined with a space as the spec describes.",
        [s1, s2], mid, SIGNED_AT, small, v1(s2, mid, SIGNED_AT, small) + " " + v1(s1, mid, SIGNED_AT, small),
        must_match=[0, 1],
    )
    mid = msg_id("rotation-second-secret-matches")
    add(
        "rotation-second-secret-matches",
        "Rotation: two secrets configured; the header carries a v1 signature from a secret that is not configured, "
        f"then one from the second configured secret. Only the second configured secret matches ({lib}).",
        [s1, s2], mid, SIGNED_AT, small, v1(s_old, mid, SIGNED_AT, small) + " " + v1(s2, mid, SIGNED_AT, small),
        must_match=[1],
    )
    slib = "svix.webhooks.Webhook.sign"
    mid = msg_id("svix-json-small")
    add("svix-json-small", f"Svix header names (svix-id/svix-timestamp/svix-signature), small JSON ({slib}).", [s1], mid, SIGNED_AT, small, v1(s1, mid, SIGNED_AT, small, True), svix=True)
    mid = msg_id("svix-json-1kib")
    add("svix-json-1kib", f"Svix header names, 1024-byte JSON body ({slib}).", [s1], mid, SIGNED_AT, kib, v1(s1, mid, SIGNED_AT, kib, True), svix=True)
    mid = msg_id("svix-utf8-non-ascii")
    add("svix-utf8-non-ascii", f"Svix header names, non-ASCII body ({slib}).", [s1], mid, SIGNED_AT, non_ascii, v1(s1, mid, SIGNED_AT, non_ascii, True), svix=True)
    mid = msg_id("svix-rotation-two-signatures")
    add(
        "svix-rotation-two-signatures",
        f"Svix header names; signatures from a retired secret and from the configured one, space-separated ({slib}).",
        [s1], mid, SIGNED_AT, small, v1(s_old, mid, SIGNED_AT, small, True) + " " + v1(s1, mid, SIGNED_AT, small, True),
        svix=True,
    )
    ed = "Ed25519 (v1a) signature made with PyPI cryptography per the Standard Webhooks spec (no official library signs v1a)"
    mid = msg_id("v1a-json-small")
    add(
        "v1a-json-small",
        f"{ed}. secrets holds the whpk_ public key (base64 of the 32-byte key); signing_key the whsk_ key "
        "(base64 of seed || public key, svix-server's encoding).",
        [whpk], mid, SIGNED_AT, small, v1a(mid, SIGNED_AT, small), signing_key=whsk,
    )
    mid = msg_id("v1a-utf8-non-ascii")
    add("v1a-utf8-non-ascii", f"{ed}; non-ASCII body.", [whpk], mid, SIGNED_AT, non_ascii, v1a(mid, SIGNED_AT, non_ascii), signing_key=whsk)
    mid = msg_id("v1a-json-1kib")
    add("v1a-json-1kib", f"{ed}; 1024-byte body.", [whpk], mid, SIGNED_AT, kib, v1a(mid, SIGNED_AT, kib), signing_key=whsk)
    mid = msg_id("mixed-v1-and-v1a")
    add(
        "mixed-v1-and-v1a",
        "Both a symmetric (whsec_) and an asymmetric (whpk_) key configured; the header carries 'v1,<hmac> v1a,<ed25519>' "
        "as in the spec's example (v1 from standardwebhooks.Webhook.sign, v1a from PyPI cryptography).",
        [s1, whpk], mid, SIGNED_AT, small, v1(s1, mid, SIGNED_AT, small) + " " + v1a(mid, SIGNED_AT, small), signing_key=whsk,
        must_match=[0, 1],
    )
    mid = msg_id("v1a-public-key-only-skips-v1")
    add(
        "v1a-public-key-only-skips-v1",
        "Only the whpk_ public key configured; the header carries a v1 HMAC from some unknown secret and then the v1a "
        "signature: the verifier must skip the v1 entry and accept the v1a one.",
        [whpk], mid, SIGNED_AT, small, v1(s_old, mid, SIGNED_AT, small) + " " + v1a(mid, SIGNED_AT, small), signing_key=whsk,
    )
    # svix-server's own v1a unit test (server/svix-server/src/worker.rs, test_asymmetric_key_signing):
    # a known answer that pins the whsk_/whpk_ encodings. The key is the public example key from
    # svix-webhooks' README.
    kat_sk = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
    kat_pk = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
    kat_sig = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
    kat_body, kat_id, kat_ts = '{"test": 2432232314}', "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    kat_raw = base64.b64decode(kat_sk[5:])
    kat_key = Ed25519PrivateKey.from_private_bytes(kat_raw[:32])
    if "whpk_" + b64(kat_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)) != kat_pk or kat_raw[32:] != base64.b64decode(kat_pk[5:]):
        raise GenerationError("svix-server reference key: whsk_/whpk_ encoding mismatch")
    if v1a(kat_id, kat_ts, kat_body, kat_key) != kat_sig:
        raise GenerationError("svix-server reference v1a signature not reproduced")
    add(
        "v1a-svix-server-reference",
        "Known-answer vector from svix-server's test_asymmetric_key_signing (github.com/svix/svix-webhooks, "
        "server/svix-server/src/worker.rs), using the example key pair from its README; reproduced with PyPI "
        "cryptography. Signed at 1614265330, so this case's verification clock is 1614265340 (not NOW).",
        [kat_pk], kat_id, kat_ts, kat_body, kat_sig, signing_key=kat_sk, now=kat_ts + 10,
    )
    stale = NOW - 600
    mid = msg_id("invalid-timestamp-too-old")
    add(
        "invalid-timestamp-too-old",
        f"Correct signature ({lib}) but webhook-timestamp is 600 s before now.",
        [s1], mid, stale, small, v1(s1, mid, stale, small),
        expect="invalid", reason="timestamp outside the SDKs' fixed 5-minute tolerance (standardwebhooks: 'Message timestamp too old')",
    )
    future = NOW + 600
    mid = msg_id("invalid-timestamp-too-new")
    add(
        "invalid-timestamp-too-new",
        f"Correct signature ({lib}) but webhook-timestamp is 600 s after now.",
        [s1], mid, future, small, v1(s1, mid, future, small),
        expect="invalid", reason="timestamp outside the SDKs' fixed 5-minute tolerance (standardwebhooks: 'Message timestamp too new')",
    )
    mid = msg_id("invalid-v1a-signature-hmac-secret")
    add(
        "invalid-v1a-signature-hmac-secret",
        "Only a whsec_ secret configured but the header carries only a v1a signature.",
        [s1], mid, SIGNED_AT, small, v1a(mid, SIGNED_AT, small), signing_key=whsk,
        expect="invalid", reason="no v1 signature to check against the symmetric secret (standardwebhooks: 'No matching signature found')",
    )

    # --- verification with the official verifiers -------------------------------------------
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    from standardwebhooks.webhooks import WebhookVerificationError

    for case in cases:
        m = meta[case["name"]]
        body = case_body(case)
        hd = {k: v for k, v in case["headers"]}
        matched: list[int] = []
        for i, secret in enumerate(case["secrets"]):
            if secret.startswith("whsec_"):
                verifier = "svix.webhooks.Webhook.verify" if m["svix"] else "standardwebhooks.Webhook.verify"
                wh = SvixWebhook(secret) if m["svix"] else StdWebhook(secret)
                try:
                    with frozen(case["now"]):
                        if m["svix"]:
                            wh.verify(body, hd)
                        else:
                            wh.verify(body, hd, json_parse=False)
                    ok, why = True, ""
                except WebhookVerificationError as e:
                    ok, why = False, str(e)
            else:  # whpk_: no official v1a verifier exists; PyNaCl (libsodium) checks the Ed25519 signature
                verifier = "PyNaCl VerifyKey.verify (v1a)"
                prefix = "svix" if m["svix"] else "webhook"
                ts = int(hd[f"{prefix}-timestamp"])
                content = f"{hd[f'{prefix}-id']}.{ts}.".encode() + body
                key = VerifyKey(base64.b64decode(secret[5:]))
                ok, why = False, "no v1a signature matched"
                if abs(case["now"] - ts) > 300:
                    why = "timestamp outside 5 min"
                else:
                    for entry in hd[f"{prefix}-signature"].split(" "):
                        version, _, sig = entry.partition(",")
                        if version != "v1a":
                            continue
                        try:
                            key.verify(content, base64.b64decode(sig))
                            ok, why = True, ""
                            break
                        except BadSignatureError:
                            pass
            if ok:
                matched.append(i)
            REPORT.note(scheme, case, f"{verifier} with secrets[{i}]", "accepts" if ok else f"rejects: {why}")
        accepted = bool(matched)
        REPORT.check(scheme, case, "configured secrets (any)", accepted)
        if "must_match" in m and matched != m["must_match"]:
            REPORT.fail(f"{scheme}/{case['name']}: matched secrets {matched}, expected {m['must_match']}")

    origin = (
        f"v1 signatures made with {pypi('standardwebhooks')} Webhook.sign (webhook-* headers) and {pypi('svix')} "
        "svix.webhooks.Webhook.sign (svix-* headers), verified with the same libraries' Webhook.verify under a clock "
        f"frozen at each case's now (freezegun). v1a (Ed25519) signatures made with {pypi('cryptography')} per the "
        f"Standard Webhooks spec (no official library signs or verifies v1a) and verified with {pypi('PyNaCl')}; "
        "whsk_/whpk_ encodings pinned by svix-server's own v1a known-answer test, included as a case."
    )
    return origin, cases


# =============================================================================================
# stripe
# =============================================================================================

@vector_file("stripe", "https://docs.stripe.com/webhooks#verify-manually")
def stripe_scheme(scheme: str, url: str) -> tuple[str, list[dict]]:
    import stripe

    secret = "whsec_" + b62("stripe/secret", 32)
    secret_old = "whsec_" + b62("stripe/secret-old", 32)
    secret_v0 = "whsec_" + b62("stripe/test-mode-v0-secret", 32)

    def event(label: str, etype: str, obj: dict, created: int = SIGNED_AT - 2) -> dict:
        return {
            "id": "evt_" + b62(f"stripe/evt/{label}", 24),
            "object": "event",
            "api_version": "2025-10-29.clover",
            "created": created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": "req_" + b62(f"stripe/req/{label}", 14), "idempotency_key": fake_uuid(f"stripe/idem/{label}")},
            "type": etype,
        }

    small = pretty(
        event(
            "small",
            "payment_intent.succeeded",
            {"id": "pi_" + b62("stripe/pi", 24), "object": "payment_intent", "amount": 2000, "currency": "usd", "status": "succeeded"},
        )
    )
    sub = event(
        "kib",
        "customer.subscription.updated",
        {
            "id": "sub_" + b62("stripe/sub", 24),
            "object": "subscription",
            "customer": "cus_" + b62("stripe/cus", 14),
            "status": "active",
            "items": {"object": "list", "data": [{"id": "si_" + b62("stripe/si", 14), "price": {"id": "price_" + b62("stripe/price", 24), "unit_amount": 1500}}]},
            "metadata": {"note": ""},
        },
    )
    kib = sized(sub, ["data", "object", "metadata", "note"], dump=pretty)
    non_ascii = pretty(
        event(
            "utf8",
            "customer.updated",
            {"id": "cus_" + b62("stripe/cus-utf8", 14), "object": "customer", "name": "Zoë Ångström", "description": NON_ASCII_TEXT},
        )
    )

    def hdrs(sig_header: str) -> list[tuple[str, str]]:
        return [
            ("Content-Type", "application/json; charset=utf-8"),
            ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
            ("Stripe-Signature", sig_header),
        ]

    specs = [  # (name, body, secret, timestamp, scheme)
        ("json-small", small, secret, SIGNED_AT, None),
        ("json-1kib", kib, secret, SIGNED_AT, None),
        ("utf8-non-ascii", non_ascii, secret, SIGNED_AT, None),
        ("rotation-old", small, secret_old, SIGNED_AT, None),
        ("rotation-new", small, secret, SIGNED_AT, None),
        ("v0", small, secret_v0, SIGNED_AT, "v0"),
        ("stale", small, secret, NOW - 600, None),
    ]
    signed = dict(
        zip(
            [s[0] for s in specs],
            node_values(
                [
                    {"op": "stripe.sign", "body_b64": b64(as_bytes(body)), "secret": sec, "timestamp": ts, **({"scheme": sch} if sch else {})}
                    for _, body, sec, ts, sch in specs
                ]
            ),
        )
    )
    gen = f"{npm('stripe')} webhooks.generateTestHeaderString"
    cases = [
        make_case("json-small", f"Pretty-printed event JSON as Stripe sends it ({gen}).", secrets=[secret], headers=hdrs(signed["json-small"]), body=small, url=url, timestamp=SIGNED_AT),
        make_case("json-1kib", f"1024-byte pretty-printed event ({gen}).", secrets=[secret], headers=hdrs(signed["json-1kib"]), body=kib, url=url, timestamp=SIGNED_AT),
        make_case("utf8-non-ascii", f"Event with accents, emoji and CJK text ({gen}).", secrets=[secret], headers=hdrs(signed["utf8-non-ascii"]), body=non_ascii, url=url, timestamp=SIGNED_AT),
    ]
    old_sig = signed["rotation-old"].split(",v1=")[1]
    new_sig = signed["rotation-new"].split(",v1=")[1]
    cases.append(
        make_case(
            "rotation-two-v1",
            "Secret rotation: Stripe sends one v1= entry per active secret. Header built by combining two "
            f"{gen} outputs (old secret's v1 first); the verifier is configured with the new secret only, which "
            "matches the second v1 entry.",
            secrets=[secret], headers=hdrs(f"t={SIGNED_AT},v1={old_sig},v1={new_sig}"), body=small, url=url, timestamp=SIGNED_AT,
        )
    )
    v0_sig = signed["v0"].split(",v0=")[1]
    cases.append(
        make_case(
            "test-mode-v0",
            "Test-mode delivery: besides v1=, Stripe adds a v0= entry (signed with a different secret), which "
            f"verifiers must ignore. v1 from {gen}; v0 from the same call with scheme 'v0' and another secret, appended.",
            secrets=[secret], headers=hdrs(f"{signed['rotation-new']},v0={v0_sig}"), body=small, url=url, timestamp=SIGNED_AT,
        )
    )
    cases.append(
        make_case(
            "invalid-stale-timestamp",
            f"Correct signature ({gen}) made 600 s before now.",
            secrets=[secret], headers=hdrs(signed["stale"]), body=small, url=url, timestamp=NOW - 600,
            expect="invalid", reason="timestamp older than the SDKs' default 300 s tolerance ('Timestamp outside the tolerance zone')",
        )
    )

    # --- verification -----------------------------------------------------------------------
    reqs = []
    for case in cases:
        for sec in case["secrets"]:
            reqs.append({"op": "stripe.verify", "body_b64": b64(case_body(case)), "header": header(case, "Stripe-Signature"), "secret": sec, "now": case["now"], "_case": case})
    results = node([{k: v for k, v in r.items() if k != "_case"} for r in reqs])
    for r, res in zip(reqs, results):
        REPORT.check(scheme, r["_case"], f"{npm('stripe')} webhooks.constructEvent (receivedAt=now, default tolerance)", res["ok"], "" if res["ok"] else res["error"].splitlines()[0])
    for case in cases:
        for sec in case["secrets"]:
            try:
                with frozen(case["now"]):
                    stripe.Webhook.construct_event(case_body(case), header(case, "Stripe-Signature"), sec)
                ok, why = True, ""
            except stripe.SignatureVerificationError as e:
                ok, why = False, str(e).splitlines()[0]
            REPORT.check(scheme, case, f"{pypi('stripe')} Webhook.construct_event (frozen clock, default tolerance)", ok, why)

    origin = (
        f"Signed with {gen}({{payload, secret, timestamp}}); verified with {npm('stripe')} webhooks.constructEvent "
        f"(receivedAt = now, default 300 s tolerance) and with {pypi('stripe')} Webhook.construct_event (clock frozen "
        "at now with freezegun, default 300 s tolerance). Rotation and v0 headers are joined from separate SDK outputs."
    )
    return origin, cases


# =============================================================================================
# github
# =============================================================================================

@vector_file("github", "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries")
def github(scheme: str, url: str) -> tuple[str, list[dict]]:
    secret = "hookline-test-" + b62("github/secret", 26)
    secret_old = "hookline-test-" + b62("github/secret-old", 26)
    hook_id = digits("github/hook-id", 9)
    repo_id = digits("github/repo-id", 9)
    repo = {"id": int(repo_id), "name": "widgets", "full_name": "hookline-test/widgets", "private": False}
    sender = {"login": "octocat", "id": 583231, "type": "User"}

    ping = compact(
        {
            "zen": "Design for failure.",
            "hook_id": int(hook_id),
            "hook": {"type": "Repository", "id": int(hook_id), "name": "web", "active": True, "events": ["push", "issues"], "config": {"content_type": "json", "insecure_ssl": "0", "url": url}},
            "repository": repo,
            "sender": sender,
        }
    )
    push = sized(
        {
            "ref": "refs/heads/main",
            "before": hexstr("github/before", 40),
            "after": hexstr("github/after", 40),
            "repository": repo,
            "pusher": {"name": "octocat", "email": "octocat@example.com"},
            "sender": sender,
            "head_commit": {"id": hexstr("github/after", 40), "message": "", "timestamp": iso(SIGNED_AT - 30)},
        },
        ["head_commit", "message"],
    )
    comment = compact(
        {
            "action": "created",
            "issue": {"number": 42, "title": "Unicode in titles: café ☕"},
            "comment": {"id": int(digits("github/comment", 10)), "body": NON_ASCII_TEXT, "user": sender},
            "repository": repo,
            "sender": sender,
        }
    )
    form = "payload=" + quote(
        compact({"action": "opened", "issue": {"number": 7, "title": "Form-encoded delivery ✓"}, "repository": repo, "sender": sender}),
        safe="",
    )

    specs = [  # name, event, body, content type, configured secrets, signing secret, description
        ("ping", "ping", ping, "application/json", [secret], secret, "The ping event GitHub sends when a hook is created."),
        ("json-1kib", "push", push, "application/json", [secret], secret, "1024-byte push event."),
        ("utf8-non-ascii", "issue_comment", comment, "application/json", [secret], secret, "Comment with accents, emoji and CJK text."),
        (
            "form-encoded",
            "issues",
            form,
            "application/x-www-form-urlencoded",
            [secret],
            secret,
            "Hook configured with content type application/x-www-form-urlencoded: the body is payload=<url-encoded JSON> "
            "and the signature covers that raw form body.",
        ),
        (
            "rotation-fallback-secret",
            "ping",
            ping,
            "application/json",
            [secret_old, secret],
            secret,
            "Two secrets configured (old first); GitHub signed with the second. Verified with verifyWithFallback(secrets[0], payload, signature, [secrets[1]]).",
        ),
    ]
    sigs = node_values([{"op": "github.sign", "secret": s, "body_b64": b64(as_bytes(body))} for _, _, body, _, _, s, _ in specs])
    cases = []
    for (name, event, body, ctype, secrets, signer, desc), sig256 in zip(specs, sigs):
        sha1 = "sha1=" + hmac.new(signer.encode(), as_bytes(body), hashlib.sha1).hexdigest()
        cases.append(
            make_case(
                name,
                desc + f" X-Hub-Signature-256 from {npm('@octokit/webhooks-methods')} sign(); the legacy X-Hub-Signature (sha1) from Python stdlib per GitHub's docs.",
                secrets=secrets,
                headers=[
                    ("Content-Type", ctype),
                    ("User-Agent", "GitHub-Hookshot/" + hexstr("github/hookshot", 7)),
                    ("X-GitHub-Delivery", fake_uuid(f"github/delivery/{name}")),
                    ("X-GitHub-Event", event),
                    ("X-GitHub-Hook-ID", hook_id),
                    ("X-GitHub-Hook-Installation-Target-ID", repo_id),
                    ("X-GitHub-Hook-Installation-Target-Type", "repository"),
                    ("X-Hub-Signature", sha1),
                    ("X-Hub-Signature-256", sig256),
                ],
                body=body,
                url=url,
            )
        )

    reqs = [{"op": "github.verify", "secrets": c["secrets"], "body_b64": b64(case_body(c)), "signature": header(c, "X-Hub-Signature-256")} for c in cases]
    for case, res in zip(cases, node(reqs)):
        fn = "verify" if len(case["secrets"]) == 1 else "verifyWithFallback"
        REPORT.check(scheme, case, f"{npm('@octokit/webhooks-methods')} {fn}", res["ok"] and res["value"] is True, "" if res["ok"] else res["error"])

    origin = (
        f"X-Hub-Signature-256 signed with {npm('@octokit/webhooks-methods')} sign(secret, payload) and verified with its "
        "verify() / verifyWithFallback(); the legacy sha1 X-Hub-Signature header computed with Python stdlib hmac per "
        "GitHub's docs (octokit no longer produces it)."
    )
    return origin, cases


# =============================================================================================
# slack
# =============================================================================================

@vector_file("slack", "https://docs.slack.dev/authentication/verifying-requests-from-slack/")
def slack(scheme: str, url: str) -> tuple[str, list[dict]]:
    from slack_sdk.signature import Clock, SignatureVerifier

    secret = hexstr("slack/signing-secret", 32)
    team, app = "T" + b62("slack/team", 10).upper(), "A" + b62("slack/app", 10).upper()
    user, channel = "U" + b62("slack/user", 10).upper(), "C" + b62("slack/channel", 10).upper()

    class FixedClock(Clock):
        def __init__(self, now: int):
            self._now = now

        def now(self) -> float:
            return float(self._now)

    def event_callback(label: str, event: dict) -> dict:
        return {
            "token": b62("slack/verification-token", 24),
            "team_id": team,
            "api_app_id": app,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + b62(f"slack/event/{label}", 9).upper(),
            "event_time": SIGNED_AT - 1,
        }

    message = compact(
        event_callback("message", {"type": "message", "channel": channel, "user": user, "text": NON_ASCII_TEXT, "ts": f"{SIGNED_AT - 1}.000200", "channel_type": "channel"})
    )
    url_verification = compact({"token": b62("slack/verification-token", 24), "challenge": b62("slack/challenge", 48), "type": "url_verification"})
    slash = urlencode(
        [
            ("token", b62("slack/verification-token", 24)),
            ("team_id", team),
            ("team_domain", "hookline-test"),
            ("channel_id", channel),
            ("channel_name", "general"),
            ("user_id", user),
            ("user_name", "ada"),
            ("command", "/weather"),
            ("text", "Zürich tomorrow? ☔"),
            ("api_app_id", app),
            ("is_enterprise_install", "false"),
            ("response_url", f"https://hooks.slack.com/commands/{team}/{digits('slack/resp', 13)}/{b62('slack/resp-token', 24)}"),
            ("trigger_id", f"{digits('slack/trigger-a', 13)}.{digits('slack/trigger-b', 13)}.{hexstr('slack/trigger-c', 32)}"),
        ]
    )
    mention = sized(event_callback("mention", {"type": "app_mention", "user": user, "text": "", "ts": f"{SIGNED_AT - 1}.000300", "channel": channel}), ["event", "text"])
    interactive = urlencode(
        [
            (
                "payload",
                compact(
                    {
                        "type": "block_actions",
                        "user": {"id": user, "username": "ada", "team_id": team},
                        "api_app_id": app,
                        "team": {"id": team, "domain": "hookline-test"},
                        "actions": [{"action_id": "approve", "block_id": "b1", "type": "button", "value": "approve", "action_ts": f"{SIGNED_AT}.000100"}],
                    }
                ),
            )
        ]
    )

    base_headers = [("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")]
    json_ct = ("Content-Type", "application/json")
    form_ct = ("Content-Type", "application/x-www-form-urlencoded")
    sdk = f"{pypi('slack_sdk')} SignatureVerifier.generate_signature"
    specs = [  # name, ctype, body, ts, extra headers, description, signer
        ("event-callback-utf8-non-ascii", json_ct, message, SIGNED_AT, [], f"Events API message event with accents, emoji and CJK text ({sdk}).", "sdk"),
        ("url-verification-challenge", json_ct, url_verification, SIGNED_AT, [], f"The url_verification challenge Slack sends when the Request URL is set ({sdk}).", "sdk"),
        ("slash-command-form", form_ct, slash, SIGNED_AT, [], f"Slash command, form-encoded (with a UTF-8 percent-encoded text field) ({sdk}).", "sdk"),
        ("json-1kib", json_ct, mention, SIGNED_AT, [("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")], f"1024-byte app_mention event, delivered as a retry ({sdk}).", "sdk"),
        ("interactive-payload-form", form_ct, interactive, SIGNED_AT, [], f"Interactivity request: form body with one payload= field holding url-encoded JSON ({sdk}).", "sdk"),
        (
            "non-utf8-body",
            ("Content-Type", "application/octet-stream"),
            NON_UTF8_BODY,
            SIGNED_AT,
            [],
            "Non-UTF-8 body. Slack's documented algorithm works on raw bytes, but slack_sdk cannot sign or verify this "
            "(generate_signature decodes bytes bodies as UTF-8 and raises UnicodeDecodeError), so this signature is "
            "computed with Python stdlib hmac per Slack's docs: v0= + hex HMAC-SHA256 of b'v0:' + timestamp + b':' + body.",
            "stdlib",
        ),
        ("invalid-stale-timestamp", json_ct, url_verification, NOW - 600, [], f"Correct signature ({sdk}) made 600 s before now.", "sdk"),
    ]
    cases = []
    meta = {}
    for name, ctype, body, ts, extra, desc, signer in specs:
        if signer == "sdk":
            sig = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
        else:
            sig = "v0=" + hmac.new(secret.encode(), b"v0:" + str(ts).encode() + b":" + as_bytes(body), hashlib.sha256).hexdigest()
        invalid = name.startswith("invalid-")
        cases.append(
            make_case(
                name,
                desc,
                secrets=[secret],
                headers=[ctype, *base_headers, ("X-Slack-Request-Timestamp", str(ts)), ("X-Slack-Signature", sig), *extra],
                body=body,
                url=url,
                timestamp=ts,
                expect="invalid" if invalid else "valid",
                reason="timestamp more than 5 minutes from now (slack_sdk is_valid returns False)" if invalid else None,
            )
        )
        meta[name] = signer

    for case in cases:
        verifier = SignatureVerifier(case["secrets"][0], clock=FixedClock(case["now"]))
        label = f"{pypi('slack_sdk')} SignatureVerifier.is_valid_request (clock=now)"
        try:
            ok = verifier.is_valid_request(case_body(case), CIHeaders(case["headers"]))
        except UnicodeDecodeError as e:
            if meta[case["name"]] != "stdlib":
                raise
            REPORT.note(scheme, case, label, f"cannot verify non-UTF-8 bodies: UnicodeDecodeError ({e.reason}); checked by check_vectors.py only")
            continue
        if meta[case["name"]] == "stdlib":
            REPORT.fail(f"{scheme}/{case['name']}: slack_sdk now verifies non-UTF-8 bodies; regenerate this case with the SDK")
        REPORT.check(scheme, case, label, ok)

    origin = (
        f"Signed with {sdk}(timestamp=..., body=...) and verified with its SignatureVerifier.is_valid_request "
        "(clock injected at now, fixed 5-minute window); except non-utf8-body, which slack_sdk cannot handle "
        "(UnicodeDecodeError) and is signed with Python stdlib hmac per Slack's documented algorithm."
    )
    return origin, cases


# =============================================================================================
# shopify
# =============================================================================================

@vector_file("shopify", "https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify")
def shopify(scheme: str, url: str) -> tuple[str, list[dict]]:
    secret = "shpss_" + hexstr("shopify/client-secret", 32)
    shop = "hookline-test.myshopify.com"

    order = sized(
        {
            "id": int(digits("shopify/order", 13)),
            "admin_graphql_api_id": f"gid://shopify/Order/{digits('shopify/order', 13)}",
            "email": "ada@example.com",
            "created_at": "2025-11-23T13:13:08+01:00",
            "currency": "EUR",
            "total_price": "42.00",
            "financial_status": "paid",
            "line_items": [{"id": int(digits("shopify/li", 13)), "title": "Widget", "quantity": 2, "price": "21.00", "sku": "WID-1"}],
            "note": "",
        },
        ["note"],
    )
    product = compact(
        {
            "id": int(digits("shopify/product", 13)),
            "title": "Café Crème ☕ — édition spéciale 🎉",
            "body_html": "<p>Grüße aus Zürich, 日本語</p>",
            "vendor": "Zoë Ångström",
            "status": "active",
            "updated_at": "2025-11-23T13:13:09+01:00",
        }
    )
    uninstalled = compact({"id": int(digits("shopify/shop", 11)), "name": "hookline test", "domain": shop, "myshopify_domain": shop})
    redact = compact({"shop_id": int(digits("shopify/shop", 11)), "shop_domain": shop, "customer": {"id": int(digits("shopify/customer", 13)), "email": "ada@example.com", "phone": "+15005550006"}, "orders_to_redact": [int(digits("shopify/order", 13))]})

    specs = [
        ("orders-create-1kib", "orders/create", order, "1024-byte orders/create payload."),
        ("products-update-utf8-non-ascii", "products/update", product, "products/update with accents, emoji and CJK text."),
        ("app-uninstalled", "app/uninstalled", uninstalled, "Small app/uninstalled payload."),
        ("customers-redact", "customers/redact", redact, "Mandatory compliance webhook customers/redact."),
    ]
    cases = []
    for name, topic, body, desc in specs:
        digest = b64(hmac.new(secret.encode(), as_bytes(body), hashlib.sha256).digest())
        cases.append(
            make_case(
                name,
                desc + " X-Shopify-Hmac-Sha256 computed per shopify.dev (base64 HMAC-SHA256 of the raw body, key = the app's client secret).",
                secrets=[secret],
                headers=[
                    ("Content-Type", "application/json"),
                    ("X-Shopify-Topic", topic),
                    ("X-Shopify-Hmac-Sha256", digest),
                    ("X-Shopify-Shop-Domain", shop),
                    ("X-Shopify-API-Version", "2025-10"),
                    ("X-Shopify-Webhook-Id", fake_uuid(f"shopify/webhook-id/{name}")),
                    ("X-Shopify-Triggered-At", iso(SIGNED_AT - 1, ".123456789")),
                    ("X-Shopify-Event-Id", fake_uuid(f"shopify/event-id/{name}")),
                ],
                body=body,
                url=url,
            )
        )

    reqs = [{"op": "shopify.verify", "secret": c["secrets"][0], "url": c["url"], "method": c["method"], "headers": c["headers"], "body_b64": b64(case_body(c))} for c in cases]
    for case, res in zip(cases, node(reqs)):
        ok = res["ok"] and res["value"].get("valid") is True
        detail = "" if ok else json.dumps(res.get("value") or res.get("error"))
        if ok and res["value"].get("webhookId") != header(case, "X-Shopify-Webhook-Id"):
            ok, detail = False, "webhookId not read back"
        REPORT.check(scheme, case, f"{npm('@shopify/shopify-api')} shopify.webhooks.validate (web-api adapter)", ok, detail)

    origin = (
        "Signed with Python stdlib hmac per shopify.dev's documented algorithm (base64 HMAC-SHA256 of the raw body with "
        f"the app's client secret; no official SDK exposes a webhook signer); verified with {npm('@shopify/shopify-api')} "
        "shopifyApi().webhooks.validate({rawBody, rawRequest}) through its web-api adapter, which also requires the "
        "topic/domain/API-version/webhook-id headers. (13.1.0 is the newest release whose engines field allows Node 20; "
        "14.x and 15.x require Node >= 22.)"
    )
    return origin, cases


# =============================================================================================
# twilio
# =============================================================================================

class MultiParams(dict):
    """Form parameters with repeated keys, in the shape twilio's RequestValidator reads (getlist)."""

    @classmethod
    def from_body(cls, body: str) -> "MultiParams":
        p = cls()
        for k, v in parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body), encoding="utf-8", errors="strict"):
            p.setdefault(k, []).append(v)
        return p

    def getlist(self, key):
        return self[key]


@vector_file("twilio", "https://www.twilio.com/docs/usage/webhooks/webhooks-security")
def twilio(scheme: str, base: str) -> tuple[str, list[dict]]:
    from twilio.request_validator import RequestValidator, get_signature_algorithm

    token = hexstr("twilio/auth-token", 32)
    shared_key = b62("twilio/shared-key-secret", 43)
    shared_key_id = "webhooks_sharedkey_" + crockford("twilio/shared-key-id", 26)
    account = "AC" + hexstr("twilio/account-sid", 32)

    def sms_params(label: str, body_text: str) -> list[tuple[str, str]]:
        sid = "SM" + hexstr(f"twilio/sms/{label}", 32)
        return [
            ("ToCountry", "US"),
            ("ToState", "CA"),
            ("SmsMessageSid", sid),
            ("NumMedia", "0"),
            ("ToCity", ""),
            ("FromZip", "94105"),
            ("SmsSid", sid),
            ("FromState", "CA"),
            ("SmsStatus", "received"),
            ("FromCity", "SAN FRANCISCO"),
            ("Body", body_text),
            ("FromCountry", "US"),
            ("To", "+15005550006"),
            ("MessagingServiceSid", "MG" + hexstr("twilio/messaging-service", 32)),
            ("ToZip", ""),
            ("NumSegments", "1"),
            ("MessageSid", sid),
            ("AccountSid", account),
            ("From", "+14155550100"),
            ("ApiVersion", "2010-04-01"),
        ]

    v = RequestValidator(token)
    form_ct = ("Content-Type", "application/x-www-form-urlencoded")
    common = [("I-Twilio-Idempotency-Token", ""), ("User-Agent", "TwilioProxy/1.1"), ("Accept", "*/*")]
    cases: list[dict] = []
    meta: dict[str, dict] = {}
    sdk = f"{pypi('twilio')} RequestValidator.compute_signature"

    def add(name, desc, *, url, signed_url, body, method="POST", ctype=form_ct, params=None, algorithm=None, secret=token, extra=()):
        validator = RequestValidator(secret)
        sig = validator.compute_signature(signed_url, params if params is not None else MultiParams.from_body(body), algorithm)
        hdrs = ([ctype] if ctype else []) + [
            (k, fake_uuid(f"twilio/idem/{name}") if k == "I-Twilio-Idempotency-Token" else val) for k, val in common
        ] + list(extra) + [("X-Twilio-Signature", sig)]
        cases.append(make_case(name, desc, secrets=[secret], headers=hdrs, body=body, url=url, method=method))
        meta[name] = {"algorithm": algorithm, "signed_url": signed_url}

    body = urlencode(sms_params("form", "Hello from hookline"))
    add("sms-inbound-form", f"Inbound SMS webhook, form-encoded, including empty-valued parameters (ToCity, ToZip) ({sdk}(url, params)).", url=base, signed_url=base, body=body)
    body = urlencode(sms_params("utf8", "Grüße 👋 ¿Qué tal? café ☕ 日本語"))
    add("sms-utf8-non-ascii", f"SMS whose Body has accents, emoji and CJK text, UTF-8 percent-encoded in the form body ({sdk}).", url=base, signed_url=base, body=body)
    body = urlencode([("AccountSid", account), ("Tag", "zeta"), ("Channel", "sms"), ("Tag", "alpha"), ("Tag", "mu")])
    add(
        "repeated-key",
        "Synthetic form body with a repeated key (Tag=zeta&...&Tag=alpha&Tag=mu), passed to the SDK as a multi-dict "
        f"(getlist). The SDK sorts keys, then sorts each key's values, and appends key+value per value ({sdk}).",
        url=base, signed_url=base, body=body,
    )
    qurl = f"{base}?tenant=acme&region=eu-west-1&note=caf%C3%A9"
    body = urlencode(sms_params("query", "URL with a query string"))
    add("url-with-query-string", f"Webhook URL with a query string (one value percent-encoded); the signature covers the URL exactly as configured, then the POST params ({sdk}).", url=qurl, signed_url=qurl, body=body)
    port_url = "https://hooks.example.com:443/hooks/twilio?tenant=acme"
    noport_url = "https://hooks.example.com/hooks/twilio?tenant=acme"
    body = urlencode(sms_params("port-a", "signed with :443"))
    add(
        "port-signed-with-443",
        "Signature computed over the URL WITH an explicit :443, while the request URL has no port. Twilio's backend is "
        "inconsistent about the default port, so the SDK's validate() tries the URL both with and without it; a "
        f"verifier must do the same ({sdk}).",
        url=noport_url, signed_url=port_url, body=body,
    )
    body = urlencode(sms_params("port-b", "request URL has :443"))
    add(
        "port-request-url-has-443",
        "The reverse: the request URL carries an explicit :443 but the signature was computed WITHOUT the port; "
        f"validate() accepts it by also trying the URL with the port removed ({sdk}).",
        url=port_url, signed_url=noport_url, body=body,
    )
    status = sized(
        {
            "account_sid": account,
            "sid": "SM" + hexstr("twilio/json-status", 32),
            "status": "delivered",
            "to": "+15005550006",
            "from": "+14155550100",
            "date_updated": iso(SIGNED_AT - 1),
            "error_code": None,
            "body": "",
        },
        ["body"],
    )
    json_url = f"{base}?bodySHA256={v.compute_hash(status)}"
    add(
        "json-body-sha256-1kib",
        "application/json webhook (1024-byte body): Twilio adds bodySHA256=<hex SHA-256 of the body> to the URL and signs "
        f"the URL alone, with no POST params. bodySHA256 from RequestValidator.compute_hash, signature from {sdk}(url, {{}}).",
        url=json_url, signed_url=json_url, body=status, ctype=("Content-Type", "application/json"), params={},
    )
    get_url = f"{base}?CallSid=CA{hexstr('twilio/call', 32)}&AccountSid={account}&CallStatus=completed&Direction=inbound&From=%2B14155550100&To=%2B15005550006"
    add(
        "get-empty-body",
        "Webhook configured with method GET: the parameters are in the query string, the body is empty, and the "
        f"signature covers the full URL only ({sdk}(url, {{}})).",
        url=get_url, signed_url=get_url, body="", method="GET", ctype=None, params={},
    )
    body = urlencode(sms_params("sharedkey", "signed with a SharedKey"))
    add(
        "shared-key-hmac-sha256",
        "Webhook signed with a SharedKey instead of the Auth Token (Twilio Webhooks configuration API, public beta): "
        "X-Twilio-Webhooks-Signature-Settings names the key and algorithm=HMAC_SHA256, and X-Twilio-Signature is the "
        f"base64 HMAC-SHA256 of the same string-to-sign. secrets holds the SharedKey secret ({sdk}(url, params, 'HMAC_SHA256')).",
        url=base, signed_url=base, body=body, algorithm="HMAC_SHA256", secret=shared_key,
        extra=[("X-Twilio-Webhooks-Signature-Settings", f"key={shared_key_id},algorithm=HMAC_SHA256")],
    )

    for case in cases:
        body = case_body(case).decode("utf-8")
        ctype = header(case, "Content-Type") or ""
        if ctype.startswith("application/json"):
            params = body  # validate() checks bodySHA256 against this string, then signs the URL alone
        elif case["method"] == "GET":
            params = {}
        else:
            params = MultiParams.from_body(body)
        algorithm = get_signature_algorithm(header(case, "X-Twilio-Webhooks-Signature-Settings"))
        validator = RequestValidator(case["secrets"][0])
        ok = validator.validate(case["url"], params, header(case, "X-Twilio-Signature"), algorithm)
        REPORT.check(scheme, case, f"{pypi('twilio')} RequestValidator.validate (algorithm={algorithm})", ok)
        if "port" in case["name"]:
            exact = validator.compute_signature(case["url"], params, algorithm) == header(case, "X-Twilio-Signature")
            if exact:
                REPORT.fail(f"{scheme}/{case['name']}: signature unexpectedly matches the request URL as-is")

    origin = (
        f"Signed with {sdk}(uri, params[, algorithm]) (+ compute_hash for bodySHA256) and verified with "
        "RequestValidator.validate(uri, params_or_raw_json_body, signature[, algorithm]); the algorithm comes from "
        "X-Twilio-Webhooks-Signature-Settings via twilio.request_validator.get_signature_algorithm."
    )
    return origin, cases


# =============================================================================================
# paddle
# =============================================================================================

@vector_file("paddle", "https://developer.paddle.com/webhooks/signature-verification")
def paddle(scheme: str, url: str) -> tuple[str, list[dict]]:
    from paddle_billing.Notifications.Secret import Secret
    from paddle_billing.Notifications.Verifier import Verifier

    signed_at = NOW - 3  # both official SDKs allow only 5 s between ts= and now by default

    def pdl_secret(label: str) -> str:
        return f"pdl_ntfset_01{crockford(label + '/ulid', 24)}_{b62(label + '/key', 32)}"

    secret = pdl_secret("paddle/secret")
    secret_old = pdl_secret("paddle/secret-old")

    def event(label: str, etype: str, data: dict) -> dict:
        return {
            "event_id": "evt_01" + crockford(f"paddle/evt/{label}", 24),
            "event_type": etype,
            "occurred_at": iso(signed_at - 1, ".123456"),
            "notification_id": "ntf_01" + crockford(f"paddle/ntf/{label}", 24),
            "data": data,
        }

    small = compact(event("small", "subscription.created", {"id": "sub_01" + crockford("paddle/sub", 24), "status": "active", "customer_id": "ctm_01" + crockford("paddle/ctm", 24), "currency_code": "EUR"}))
    kib = sized(
        event(
            "kib",
            "transaction.completed",
            {
                "id": "txn_01" + crockford("paddle/txn", 24),
                "status": "completed",
                "customer_id": "ctm_01" + crockford("paddle/ctm", 24),
                "items": [{"price_id": "pri_01" + crockford("paddle/pri", 24), "quantity": 1}],
                "details": {"totals": {"subtotal": "4200", "tax": "798", "total": "4998", "currency_code": "EUR"}},
                "custom_data": {"note": ""},
            },
        ),
        ["data", "custom_data", "note"],
    )
    non_ascii = compact(event("utf8", "customer.updated", {"id": "ctm_01" + crockford("paddle/ctm", 24), "name": "Zoë Ångström", "email": "zoe@example.com", "custom_data": {"greeting": NON_ASCII_TEXT}}))

    def h1(sec: str, body: str, ts: int = signed_at) -> str:
        return hmac.new(sec.encode(), f"{ts}:".encode() + as_bytes(body), hashlib.sha256).hexdigest()

    def hdrs(sig: str) -> list[tuple[str, str]]:
        return [("Content-Type", "application/json"), ("Paddle-Signature", sig)]

    doc = "Paddle-Signature computed with Python stdlib hmac per Paddle's docs: ts=<ts>;h1=<hex HMAC-SHA256 of '<ts>:<body>'>"
    note = f"Signed {NOW - signed_at} s before now, inside both SDKs' default 5 s window"
    cases = [
        make_case("json-small", f"{doc}. {note}.", secrets=[secret], headers=hdrs(f"ts={signed_at};h1={h1(secret, small)}"), body=small, url=url, timestamp=signed_at),
        make_case("json-1kib", f"1024-byte body. {doc}. {note}.", secrets=[secret], headers=hdrs(f"ts={signed_at};h1={h1(secret, kib)}"), body=kib, url=url, timestamp=signed_at),
        make_case("utf8-non-ascii", f"Accents, emoji and CJK text. {doc}. {note}.", secrets=[secret], headers=hdrs(f"ts={signed_at};h1={h1(secret, non_ascii)}"), body=non_ascii, url=url, timestamp=signed_at),
        make_case(
            "rotation-two-h1",
            "Secret rotation: two h1= entries, the configured (new) secret's first, then the old secret's. "
            f"{doc}. {note}. paddle-python-sdk checks every h1; the Node SDK's isSignatureValid keeps only the LAST h1 "
            "and so rejects this header.",
            secrets=[secret], headers=hdrs(f"ts={signed_at};h1={h1(secret, small)};h1={h1(secret_old, small)}"), body=small, url=url, timestamp=signed_at,
        ),
        make_case(
            "rotation-second-secret-matches",
            f"Two secrets configured (old, new); the header's single h1 is from the second. {doc}. {note}.",
            secrets=[secret_old, secret], headers=hdrs(f"ts={signed_at};h1={h1(secret, small)}"), body=small, url=url, timestamp=signed_at,
        ),
        make_case(
            "invalid-stale-timestamp",
            f"Correct h1 but ts= is {NOW - SIGNED_AT} s before now. {doc}.",
            secrets=[secret], headers=hdrs(f"ts={SIGNED_AT};h1={h1(secret, small, SIGNED_AT)}"), body=small, url=url, timestamp=SIGNED_AT,
            expect="invalid", reason="older than both SDKs' default 5 s window (paddle-python-sdk Verifier(maximum_variance=5), paddle-node-sdk MAX_VALID_TIME_DIFFERENCE = 5)",
        ),
    ]
    node_expected_to_reject = {"rotation-two-h1"}

    class Req:
        def __init__(self, case):
            self.headers = CIHeaders(case["headers"])
            self.body = case_body(case)

    for case in cases:
        secrets = [Secret(s) for s in case["secrets"]]
        try:
            with frozen(case["now"]):
                ok = Verifier().verify(Req(case), secrets if len(secrets) > 1 else secrets[0])
            why = ""
        except ConnectionRefusedError as e:  # raised when a list of secrets all fail
            ok, why = False, str(e)
        REPORT.check(scheme, case, f"{pypi('paddle-python-sdk')} Verifier().verify (frozen clock, default 5 s)", bool(ok), why)

    reqs = [{"op": "paddle.verify", "body_b64": b64(case_body(c)), "secret": s, "header": header(c, "Paddle-Signature"), "now": c["now"], "_case": c} for c in cases for s in c["secrets"]]
    results = node([{k: v for k, v in r.items() if k != "_case"} for r in reqs])
    by_case: dict[str, bool] = {}
    for r, res in zip(reqs, results):
        by_case[r["_case"]["name"]] = by_case.get(r["_case"]["name"], False) or (res["ok"] and res["value"] is True)
    label = f"{npm('@paddle/paddle-node-sdk')} new Paddle(apiKey).webhooks.isSignatureValid (frozen Date, any configured secret)"
    for case in cases:
        accepted = by_case[case["name"]]
        if case["name"] in node_expected_to_reject:
            if accepted:
                REPORT.fail(f"{scheme}/{case['name']}: node SDK now accepts a non-final h1 entry; update the description")
            else:
                REPORT.note(scheme, case, label, "rejects, as documented: it only reads the last h1= entry")
        else:
            REPORT.check(scheme, case, label, accepted)

    origin = (
        "Signed with Python stdlib hmac per Paddle's documented algorithm (neither official SDK has a signer); verified "
        f"with {pypi('paddle-python-sdk')} Notifications.Verifier().verify (clock frozen at now, default 5 s window, "
        f"list of Secrets for rotation) and with {npm('@paddle/paddle-node-sdk')} new Paddle(apiKey).webhooks.isSignatureValid "
        "(frozen Date, each configured secret in turn; "
        "it reads only the last h1= entry, so it rejects rotation-two-h1 by design)."
    )
    return origin, cases


# =============================================================================================
# zendesk
# =============================================================================================

@vector_file("zendesk", "https://developer.zendesk.com/documentation/webhooks/verifying/")
def zendesk(scheme: str, url: str) -> tuple[str, list[dict]]:
    secret = b64(material("zendesk/signing-secret", 32))
    documented_test_secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="  # base64 of "this_secret_is_for_testing_only"
    account = digits("zendesk/account", 8)
    webhook_id = "01" + crockford("zendesk/webhook-id", 24).upper()

    def event(label: str, etype: str, detail: dict) -> dict:
        return {
            "account_id": int(account),
            "detail": detail,
            "event": {},
            "id": fake_uuid(f"zendesk/event/{label}"),
            "subject": f"zen:ticket:{detail.get('id', '1')}",
            "time": iso(SIGNED_AT - 1, ".123456789"),
            "type": etype,
            "zendesk_event_version": "2022-11-06",
        }

    small = compact(event("small", "zen:event-type:ticket.created", {"id": "35436", "status": "NEW", "subject": "Printer on fire", "priority": "HIGH"}))
    kib = sized(event("kib", "zen:event-type:ticket.comment_added", {"id": "35437", "status": "OPEN", "subject": "Long comment", "description": ""}), ["detail", "description"])
    non_ascii = compact(event("utf8", "zen:event-type:ticket.created", {"id": "35438", "status": "NEW", "subject": "Grüße — café ☕", "description": NON_ASCII_TEXT}))

    def sign(sec: str, ts_str: str, body) -> str:
        return b64(hmac.new(sec.encode(), ts_str.encode() + as_bytes(body), hashlib.sha256).digest())

    ts_str = iso(SIGNED_AT)
    doc = "X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(key = signing secret as text, message = timestamp header value + raw body)), computed with Python stdlib hmac per Zendesk's docs"

    def hdrs(name: str, sig: str, with_body: bool = True) -> list[tuple[str, str]]:
        return ([("Content-Type", "application/json; charset=utf-8")] if with_body else []) + [
            ("User-Agent", "Zendesk Webhook"),
            ("X-Zendesk-Account-Id", account),
            ("X-Zendesk-Webhook-Id", webhook_id),
            ("X-Zendesk-Webhook-Invocation-Id", digits(f"zendesk/invocation/{name}", 19)),
            ("X-Zendesk-Webhook-Signature", sig),
            ("X-Zendesk-Webhook-Signature-Timestamp", ts_str),
        ]

    cases = [
        make_case("json-small", f"Event-subscription webhook (ticket.created). {doc}.", secrets=[secret], headers=hdrs("json-small", sign(secret, ts_str, small)), body=small, url=url, timestamp=SIGNED_AT),
        make_case("json-1kib", f"1024-byte body. {doc}.", secrets=[secret], headers=hdrs("json-1kib", sign(secret, ts_str, kib)), body=kib, url=url, timestamp=SIGNED_AT),
        make_case("utf8-non-ascii", f"Accents, emoji and CJK text. {doc}.", secrets=[secret], headers=hdrs("utf8-non-ascii", sign(secret, ts_str, non_ascii)), body=non_ascii, url=url, timestamp=SIGNED_AT),
        make_case(
            "get-empty-body",
            f"Webhook with HTTP method GET: no body, so the signed message is the timestamp alone (Zendesk's docs: GET and DELETE requests have no body). {doc}.",
            secrets=[secret], headers=hdrs("get-empty-body", sign(secret, ts_str, ""), with_body=False), body="", url=url, method="GET", timestamp=SIGNED_AT,
        ),
        make_case(
            "documented-test-secret",
            "Signed with the static secret Zendesk documents for test deliveries sent from the webhook builder, "
            f"'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==', used as-is (not base64-decoded). {doc}.",
            secrets=[documented_test_secret], headers=hdrs("documented-test-secret", sign(documented_test_secret, ts_str, small)), body=small, url=url, timestamp=SIGNED_AT,
        ),
    ]
    for case in cases:
        REPORT.note(scheme, case, "no official SDK", "checked by check_vectors.py only")
    origin = (
        "No official SDK verifies Zendesk webhooks: signed with Python stdlib hmac per the documented algorithm "
        "base64(HMACSHA256(TIMESTAMP + BODY)), the timestamp being the X-Zendesk-Webhook-Signature-Timestamp value "
        "(ISO 8601, e.g. 2025-11-23T12:13:10Z) and the key the signing secret's text. Checked only by check_vectors.py."
    )
    return origin, cases


# =============================================================================================
# linear
# =============================================================================================

@vector_file("linear", "https://linear.app/developers/webhooks#securing-webhooks")
def linear(scheme: str, url: str) -> tuple[str, list[dict]]:
    secret = "lin_wh_" + b62("linear/secret", 32)
    org = fake_uuid("linear/org")
    actor = {"id": fake_uuid("linear/actor"), "name": "Ada Lovelace", "email": "ada@example.com", "type": "user"}

    def payload(label: str, etype: str, data: dict, ts_ms: int) -> dict:
        return {
            "action": "create",
            "actor": actor,
            "createdAt": iso(ts_ms // 1000 - 1, ".000"),
            "data": data,
            "url": f"https://linear.app/hookline-test/issue/ENG-{digits(f'linear/n/{label}', 3)}",
            "type": etype,
            "organizationId": org,
            "webhookTimestamp": ts_ms,
            "webhookId": fake_uuid("linear/webhook"),
        }

    ms = SIGNED_AT * 1000
    small = compact(payload("small", "Issue", {"id": fake_uuid("linear/issue"), "identifier": "ENG-123", "title": "Fix the flux capacitor", "priority": 2}, ms))
    kib = sized(payload("kib", "Comment", {"id": fake_uuid("linear/comment"), "body": "", "issueId": fake_uuid("linear/issue")}, ms), ["data", "body"])
    non_ascii = compact(payload("utf8", "Issue", {"id": fake_uuid("linear/issue-utf8"), "identifier": "ENG-124", "title": "Grüße — café ☕ 🎉", "description": NON_ASCII_TEXT}, ms))
    stale_ms = (NOW - 120) * 1000
    stale = compact(payload("stale", "Issue", {"id": fake_uuid("linear/issue"), "identifier": "ENG-123", "title": "Replayed delivery", "priority": 2}, stale_ms))

    doc = "Linear-Signature = hex HMAC-SHA256 of the raw body (Python stdlib, per Linear's docs; the SDK has no signer)"

    def hdrs(name: str, etype: str, body: str, ts_ms: int) -> list[tuple[str, str]]:
        return [
            ("Content-Type", "application/json; charset=utf-8"),
            ("User-Agent", "Linear-Webhook"),
            ("Linear-Delivery", fake_uuid(f"linear/delivery/{name}")),
            ("Linear-Event", etype),
            ("Linear-Signature", hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()),
            ("Linear-Timestamp", str(ts_ms)),
        ]

    ts_note = f"webhookTimestamp in the body is {ms} (milliseconds, = timestamp * 1000)"
    cases = [
        make_case("issue-create-small", f"Issue create event. {doc}; {ts_note}.", secrets=[secret], headers=hdrs("issue-create-small", "Issue", small, ms), body=small, url=url, timestamp=SIGNED_AT),
        make_case("json-1kib", f"1024-byte Comment event. {doc}; {ts_note}.", secrets=[secret], headers=hdrs("json-1kib", "Comment", kib, ms), body=kib, url=url, timestamp=SIGNED_AT),
        make_case("utf8-non-ascii", f"Accents, emoji and CJK text. {doc}; {ts_note}.", secrets=[secret], headers=hdrs("utf8-non-ascii", "Issue", non_ascii, ms), body=non_ascii, url=url, timestamp=SIGNED_AT),
        make_case(
            "invalid-stale-webhook-timestamp",
            f"Correct signature ({doc}) but the signed body's webhookTimestamp is {stale_ms} ms, 120 s before now "
            "(Linear-Timestamp carries the same value).",
            secrets=[secret], headers=hdrs("invalid-stale-webhook-timestamp", "Issue", stale, stale_ms), body=stale, url=url, timestamp=NOW - 120,
            expect="invalid", reason="webhookTimestamp more than 60 s from now (@linear/sdk LinearWebhookClient.verify: 'Invalid webhook timestamp')",
        ),
    ]
    reqs = [{"op": "linear.verify", "secret": c["secrets"][0], "body_b64": b64(case_body(c)), "signature": header(c, "Linear-Signature"), "timestamp": int(header(c, "Linear-Timestamp")), "now": c["now"]} for c in cases]
    for case, res in zip(cases, node(reqs)):
        REPORT.check(scheme, case, f"{npm('@linear/sdk')} LinearWebhookClient.verify (frozen Date)", res["ok"] and res["value"] is True, "" if res["ok"] else res["error"])

    origin = (
        f"Signed with Python stdlib hmac per Linear's docs (hex HMAC-SHA256 of the raw body); verified with "
        f"{npm('@linear/sdk')} LinearWebhookClient.verify(rawBody, signature) from @linear/sdk/webhooks (the class "
        "the deprecated LinearWebhooks alias points to) under a Date frozen at now: it checks the body's "
        "webhookTimestamp (ms) within 60 s and ignores its timestamp argument."
    )
    return origin, cases


# =============================================================================================
# intercom
# =============================================================================================

@vector_file("intercom", "https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications")
def intercom(scheme: str, url: str) -> tuple[str, list[dict]]:
    secret = fake_uuid("intercom/client-secret")
    app_id = b62("intercom/app-id", 8).lower()

    def notification(label: str, topic: str, item: dict) -> dict:
        return {
            "type": "notification_event",
            "app_id": app_id,
            "data": {"type": "notification_event_data", "item": item},
            "links": {},
            "id": "notif_" + fake_uuid(f"intercom/notif/{label}"),
            "topic": topic,
            "delivery_status": "pending",
            "delivery_attempts": 1,
            "delivered_at": 0,
            "first_sent_at": SIGNED_AT,
            "created_at": SIGNED_AT - 1,
            "self": None,
        }

    ping = compact(notification("ping", "ping", {"type": "ping", "message": "something something interzen"}))
    kib = sized(notification("kib", "conversation.user.created", {"type": "conversation", "id": digits("intercom/conv", 12), "source": {"type": "conversation", "body": ""}}), ["data", "item", "source", "body"])
    non_ascii = compact(notification("utf8", "contact.user.created", {"type": "contact", "id": b62("intercom/contact", 24).lower(), "name": "Zoë Ångström", "custom_attributes": {"greeting": NON_ASCII_TEXT}}))

    doc = "X-Hub-Signature = sha1=<hex HMAC-SHA1 of the raw body, key = the app's client secret>, computed with Python stdlib hmac per Intercom's docs"
    cases = []
    for name, body, desc in [("ping", ping, "The ping notification Intercom sends to test a webhook."), ("json-1kib", kib, "1024-byte conversation.user.created notification."), ("utf8-non-ascii", non_ascii, "Accents, emoji and CJK text.")]:
        sig = "sha1=" + hmac.new(secret.encode(), body.encode(), hashlib.sha1).hexdigest()
        cases.append(make_case(name, f"{desc} {doc}.", secrets=[secret], headers=[("Content-Type", "application/json"), ("X-Hub-Signature", sig)], body=body, url=url))
        REPORT.note(scheme, cases[-1], "no official SDK", "checked by check_vectors.py only")
    origin = (
        "No official SDK verifies Intercom webhooks: signed with Python stdlib hmac per the documented algorithm "
        "(X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body with the app's client secret>). Checked only by check_vectors.py."
    )
    return origin, cases


# =============================================================================================
# discord
# =============================================================================================

@vector_file("discord", "https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers")
def discord(scheme: str, url: str) -> tuple[str, list[dict]]:
    seed = material("discord/application-ed25519-seed", 32).hex()
    public_key = node_values([{"op": "discord.public_key", "seed_hex": seed}])[0]
    app_id = digits("discord/app-id", 19)
    user = {"id": digits("discord/user", 18), "username": "ada", "global_name": "Ada Lovelace", "discriminator": "0"}

    ping = '{"type":1}'
    command = sized(
        {
            "app_permissions": "2248473465835073",
            "application_id": app_id,
            "channel_id": digits("discord/channel", 19),
            "data": {"id": digits("discord/cmd", 19), "name": "echo", "options": [{"name": "text", "type": 3, "value": ""}], "type": 1},
            "guild_id": digits("discord/guild", 19),
            "id": digits("discord/interaction", 19),
            "member": {"user": user, "roles": [], "permissions": "2248473465835073"},
            "token": b62("discord/interaction-token", 64),
            "type": 2,
            "version": 1,
        },
        ["data", "options", 0, "value"],
    )
    non_ascii = compact(
        {
            "application_id": app_id,
            "data": {"custom_id": "greet", "component_type": 2},
            "id": digits("discord/interaction-2", 19),
            "message": {"content": NON_ASCII_TEXT},
            "token": b62("discord/interaction-token-2", 64),
            "type": 3,
            "user": user,
            "version": 1,
        }
    )
    webhook_event = compact(
        {
            "version": 1,
            "application_id": app_id,
            "type": 1,
            "event": {"type": "APPLICATION_AUTHORIZED", "timestamp": iso(SIGNED_AT - 1, ".000000"), "data": {"integration_type": 0, "scopes": ["applications.commands"], "user": user}},
        }
    )
    specs = [
        ("ping", ping, "The PING interaction Discord sends to validate the Interactions Endpoint URL, body exactly {\"type\":1}."),
        ("application-command-1kib", command, "1024-byte APPLICATION_COMMAND interaction."),
        ("utf8-non-ascii", non_ascii, "MESSAGE_COMPONENT interaction with accents, emoji and CJK text."),
        ("webhook-event", webhook_event, "Webhook Events delivery (APPLICATION_AUTHORIZED), signed the same way as interactions."),
        ("non-utf8-body", NON_UTF8_BODY, "Non-UTF-8 body (Discord only sends JSON, but verifyKey takes raw bytes and the signature covers bytes)."),
    ]
    ts = str(SIGNED_AT)
    sigs = node_values([{"op": "discord.sign", "seed_hex": seed, "timestamp": ts, "body_b64": b64(as_bytes(body))} for _, body, _ in specs])
    sign_desc = "Ed25519 signature over timestamp + body made with Node's crypto.sign (the seed is signing_key)"

    def hdrs(sig: str) -> list[tuple[str, str]]:
        return [
            ("Content-Type", "application/json"),
            ("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)"),
            ("X-Signature-Ed25519", sig),
            ("X-Signature-Timestamp", ts),
        ]

    cases = [make_case(name, f"{desc} {sign_desc}.", secrets=[public_key], signing_key=seed, headers=hdrs(sig), body=body, url=url, timestamp=SIGNED_AT) for (name, body, desc), sig in zip(specs, sigs)]
    tampered = ping.replace("1", "2")
    cases.append(
        make_case(
            "invalid-tampered-body",
            f"The ping's signature with the body changed to {tampered}. {sign_desc}.",
            secrets=[public_key], signing_key=seed, headers=hdrs(sigs[0]), body=tampered, url=url, timestamp=SIGNED_AT,
            expect="invalid", reason="signature does not cover this body (discord-interactions verifyKey returns false)",
        )
    )
    reqs = [{"op": "discord.verify", "body_b64": b64(case_body(c)), "signature": header(c, "X-Signature-Ed25519"), "timestamp": header(c, "X-Signature-Timestamp"), "public_key": c["secrets"][0]} for c in cases]
    for case, res in zip(cases, node(reqs)):
        REPORT.check(scheme, case, f"{npm('discord-interactions')} verifyKey", res["ok"] and res["value"] is True, "" if res["ok"] else res["error"])

    origin = (
        f"Signed with Node {NPM_VERSIONS['node']} crypto.sign (Ed25519, deterministic) over X-Signature-Timestamp + raw body; "
        f"verified with {npm('discord-interactions')} verifyKey(rawBody, signature, timestamp, publicKeyHex). verifyKey "
        "does not check the timestamp's age."
    )
    return origin, cases


# =============================================================================================
# zoom
# =============================================================================================

@vector_file("zoom", "https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events")
def zoom(scheme: str, url: str) -> tuple[str, list[dict]]:
    # Zoom shows the Secret Token as 22 URL-safe characters.
    secret = b62("zoom/secret-token", 22)
    new_secret = b62("zoom/secret-token-new", 22)
    never_configured = b62("zoom/secret-token-other", 22)
    account = b62("zoom/account", 22)
    host = b62("zoom/host", 22)
    meeting_id = int(digits("zoom/meeting", 11))

    def event(etype: str, obj: dict, ts: int) -> dict:
        # Zoom's key order: event, payload, event_ts (milliseconds).
        return {"event": etype, "payload": {"account_id": account, "object": obj}, "event_ts": ts * 1000 + 123}

    def meeting(label: str, topic: str, **extra) -> dict:
        return {
            "duration": 0,
            "start_time": iso(SIGNED_AT - 2),
            "timezone": "Europe/Zurich",
            "topic": topic,
            "id": str(meeting_id),
            "type": 2,
            "uuid": b64(material(f"zoom/meeting-uuid/{label}", 16)),
            "host_id": host,
            **extra,
        }

    started = compact(event("meeting.started", meeting("started", "Weekly sync"), SIGNED_AT))
    # The challenge Zoom sends when the endpoint URL is validated (and every 72 hours after):
    # signed like any event, answered with {"plainToken", "encryptedToken"} (see Verifier::zoom_encrypted_token).
    url_validation = compact({"payload": {"plainToken": b62("zoom/plain-token", 22)}, "event_ts": SIGNED_AT * 1000 + 456, "event": "endpoint.url_validation"})
    recording = sized(
        event(
            "recording.completed",
            meeting(
                "recording",
                "",
                recording_count=1,
                share_url=f"https://zoom.us/rec/share/{b62('zoom/share', 32)}",
                recording_files=[{"id": fake_uuid("zoom/recording-file"), "file_type": "MP4", "file_size": 7340032, "recording_type": "shared_screen_with_speaker_view"}],
            ),
            SIGNED_AT,
        ),
        ["payload", "object", "topic"],
    )
    non_ascii = compact(event("meeting.started", meeting("utf8", "Grüße aus Zürich — café ☕ 🎉", agenda=NON_ASCII_TEXT), SIGNED_AT))
    ended = compact(event("meeting.ended", meeting("ended", "Weekly sync", end_time=iso(SIGNED_AT - 1)), SIGNED_AT))

    doc = "x-zm-signature = v0= + hex HMAC-SHA256(key = the Secret Token's text, message = 'v0:' + x-zm-request-timestamp + ':' + raw body), computed with Python stdlib hmac per Zoom's docs"

    def sign(sec: str, ts: int, body) -> str:
        return "v0=" + hmac.new(sec.encode(), b"v0:" + str(ts).encode() + b":" + as_bytes(body), hashlib.sha256).hexdigest()

    def hdrs(name: str, ts: int, sig: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json; charset=utf-8"),
            ("user-agent", "Zoom Marketplace/1.0a"),
            ("x-zm-request-timestamp", str(ts)),
            ("x-zm-signature", sig),
            ("x-zm-trackingid", hexstr(f"zoom/tracking/{name}", 32)),
        ]

    cases = []

    def add(name, desc, body, *, secrets=(secret,), signed_with=secret, sent_body=None, ts=SIGNED_AT, reason=None):
        cases.append(
            make_case(
                name,
                f"{desc} {doc}.",
                secrets=list(secrets),
                headers=hdrs(name, ts, sign(signed_with, ts, body)),
                body=body if sent_body is None else sent_body,
                url=url,
                timestamp=ts,
                expect="invalid" if reason else "valid",
                reason=reason,
            )
        )

    add("meeting-started", "meeting.started event.", started)
    add("endpoint-url-validation", "The endpoint.url_validation challenge, which Zoom signs like any event.", url_validation)
    add("json-1kib", "1024-byte recording.completed event.", recording)
    add("utf8-non-ascii", "meeting.started event with accents, emoji and CJK text.", non_ascii)
    add(
        "rotation-signed-with-second-secret",
        "meeting.ended event; two secrets are configured (a new one first, during rotation) and Zoom still signs with the second.",
        ended, secrets=(new_secret, secret),
    )
    add(
        "rotation-signed-with-first-secret",
        "meeting.ended event; two secrets are configured and Zoom signs with the first.",
        ended, secrets=(new_secret, secret), signed_with=new_secret,
    )
    add(
        "invalid-wrong-secret",
        "meeting.started event signed with a Secret Token that is not configured.",
        started, signed_with=never_configured,
        reason="no configured secret gives this signature",
    )
    tampered = started.replace("Weekly sync", "Weekly sink")
    assert tampered != started
    add(
        "invalid-tampered-body",
        "The meeting-started signature sent with 'Weekly sync' changed to 'Weekly sink' in the body.",
        started, sent_body=tampered,
        reason="the signature does not cover this body",
    )
    add(
        "invalid-stale-timestamp",
        "Correct signature made 600 s before now.",
        started, ts=NOW - 600,
        reason="x-zm-request-timestamp more than 5 minutes from now (Zoom documents no window; 5 minutes is Slack's, whose layout Zoom copied)",
    )
    for case in cases:
        REPORT.note(scheme, case, "no official SDK", "checked by check_vectors.py only")
    origin = (
        "No official SDK verifies Zoom webhooks: signed with Python stdlib hmac per the documented algorithm "
        "(x-zm-signature: v0=<hex HMAC-SHA256 of 'v0:' + x-zm-request-timestamp + ':' + raw body, key = the app's "
        "Secret Token as text>; x-zm-request-timestamp in unix seconds). Checked only by check_vectors.py."
    )
    return origin, cases


# =============================================================================================
# generic (hookline's own configurable scheme)
# =============================================================================================

def render_template(template: str, *, body: bytes, method: str, url: str, headers: list, timestamp_header: str | None) -> bytes:
    out = bytearray()
    i = 0
    while i < len(template):
        c = template[i]
        if template.startswith("{{", i):
            out += b"{"
            i += 2
        elif template.startswith("}}", i):
            out += b"}"
            i += 2
        elif c == "{":
            end = template.index("}", i)
            name = template[i + 1 : end]
            if name == "body":
                out += body
            elif name == "method":
                out += method.encode()
            elif name == "url":
                out += url.encode()
            elif name == "timestamp":
                out += next(v for k, v in headers if k.lower() == timestamp_header.lower()).encode()
            elif name.startswith("header:"):
                out += next(v for k, v in headers if k.lower() == name[7:].lower()).encode()
            else:
                raise GenerationError(f"unknown placeholder {{{name}}}")
            i = end + 1
        elif c == "}":
            raise GenerationError("lone } in template")
        else:
            out += c.encode()
            i += 1
    return bytes(out)


@vector_file("generic", "tests/vectors/README.md#the-generic-scheme")
def generic(scheme: str, url: str) -> tuple[str, list[dict]]:

    def sign(params: dict, secret: str, body: bytes, method: str, url_: str, headers: list) -> str:
        content = render_template(params.get("signed_content", "{body}"), body=body, method=method, url=url_, headers=headers, timestamp_header=params.get("timestamp_header"))
        digest = hmac.new(secret.encode(), content, getattr(hashlib, params["algorithm"])).digest()
        enc = digest.hex() if params["encoding"] == "hex" else b64(digest)
        return params["prefix"] + enc

    small = compact({"event": "order.paid", "id": fake_uuid("generic/order"), "amount": 4200})
    kib = sized({"event": "report.ready", "id": fake_uuid("generic/report"), "summary": ""}, ["summary"])
    non_ascii = compact({"event": "note.created", "author": "Zoë Ångström", "text": NON_ASCII_TEXT})

    cases = []

    def add(name, desc, params, body, *, secret_label, ts_value=None, extra_headers=(), url_=url, method="POST", ctype="application/json"):
        secret = "hookline-generic-test-" + b62(f"generic/{secret_label}", 24)
        headers = [("Content-Type", ctype)] if ctype else []
        headers += list(extra_headers)
        if ts_value is not None:
            headers.append((params["timestamp_header"], ts_value))
        sig = sign(params, secret, as_bytes(body), method, url_, headers)
        headers.append((params["header"], sig))
        cases.append(make_case(name, desc + " Computed with Python stdlib hmac/hashlib.", secrets=[secret], params=params, headers=headers, body=body, url=url_, method=method, timestamp=SIGNED_AT if ts_value is not None else None))

    hex256 = {"header": "X-Signature", "prefix": "", "encoding": "hex", "algorithm": "sha256"}
    add("hex-sha256-body-only", "Hex HMAC-SHA256 of the raw body; params omit signed_content, so the default \"{body}\" applies.", dict(hex256), small, secret_label="hex")
    add(
        "base64-sha512-timestamp-dot-body",
        "Base64 HMAC-SHA512 of '{timestamp}.{body}', the timestamp being the X-Webhook-Timestamp value (unix seconds).",
        {"header": "X-Webhook-Signature", "prefix": "", "encoding": "base64", "algorithm": "sha512", "signed_content": "{timestamp}.{body}", "timestamp_header": "X-Webhook-Timestamp", "timestamp_format": "unix"},
        small, secret_label="b64-512", ts_value=str(SIGNED_AT),
    )
    add("sha1-prefixed", "Hex HMAC-SHA1 with prefix 'sha1='.", {"header": "X-Hub-Signature", "prefix": "sha1=", "encoding": "hex", "algorithm": "sha1", "signed_content": "{body}"}, small, secret_label="sha1")
    add(
        "template-method-url-literal-braces",
        "Template using {method}, {url} (with its query string) and a literal '{{v1}}' (rendered as '{v1}'); newline separators.",
        {"header": "X-Signature", "prefix": "v1=", "encoding": "hex", "algorithm": "sha256", "signed_content": "{method}\n{url}\n{{v1}}\n{body}"},
        small, secret_label="template", url_=f"{url}?source=billing&attempt=2",
    )
    add(
        "header-placeholder-rfc3339",
        "Template '{timestamp}|{header:X-Request-Id}\\n{body}' with an RFC 3339 timestamp header (a newline after the header: a header value cannot hold one).",
        {"header": "X-Signature", "prefix": "", "encoding": "base64", "algorithm": "sha256", "signed_content": "{timestamp}|{header:X-Request-Id}\n{body}", "timestamp_header": "X-Timestamp", "timestamp_format": "rfc3339"},
        small, secret_label="rfc3339", ts_value=iso(SIGNED_AT), extra_headers=[("X-Request-Id", fake_uuid("generic/request-id"))],
    )
    add(
        "unix-ms-timestamp",
        "Hex HMAC-SHA256 of '{timestamp}:{body}' with a millisecond timestamp header.",
        {"header": "X-Signature", "prefix": "sha256=", "encoding": "hex", "algorithm": "sha256", "signed_content": "{timestamp}:{body}", "timestamp_header": "X-Timestamp-Ms", "timestamp_format": "unix_ms"},
        small, secret_label="unix-ms", ts_value=str(SIGNED_AT * 1000),
    )
    add("json-1kib", "1024-byte JSON body, hex HMAC-SHA256 of the body.", dict(hex256, signed_content="{body}"), kib, secret_label="hex")
    add("utf8-non-ascii", "Accents, emoji and CJK text, hex HMAC-SHA256 of the body.", dict(hex256, signed_content="{body}"), non_ascii, secret_label="hex")
    add("non-utf8-body", "Non-UTF-8 body (body_base64), hex HMAC-SHA256 of the raw bytes.", dict(hex256, signed_content="{body}"), NON_UTF8_BODY, secret_label="hex", ctype="application/octet-stream")
    add(
        "empty-body",
        "Empty body with a timestamp template: the signed content is '<timestamp>.'.",
        {"header": "X-Signature", "prefix": "", "encoding": "hex", "algorithm": "sha256", "signed_content": "{timestamp}.{body}", "timestamp_header": "X-Timestamp", "timestamp_format": "unix"},
        "", secret_label="empty", ts_value=str(SIGNED_AT), ctype=None,
    )
    for case in cases:
        REPORT.note(scheme, case, "hookline's own scheme", "no external SDK; checked by check_vectors.py")
    origin = (
        "hookline's own configurable HMAC scheme, computed with Python stdlib hmac/hashlib (generate.py render_template "
        "+ hmac.new); secrets are used as their UTF-8 bytes. Checked independently by check_vectors.py."
    )
    return origin, cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="directory to write <scheme>.json into")
    ap.add_argument("--only", nargs="*", choices=sorted(SCHEMES), help="generate only these schemes")
    ap.add_argument("--quiet", action="store_true", help="print only the summary and failures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    NPM_VERSIONS.update(node_values([{"op": "versions"}])[0])
    written = []
    for name, fn in SCHEMES.items():
        if args.only and name not in args.only:
            continue
        written.append(fn(args.out))
    if not args.quiet:
        print("SDK verification:")
        print("\n".join(REPORT.lines))
    checks = sum(1 for line in REPORT.lines if line.startswith("  ok  ") or line.startswith("  FAIL"))
    if REPORT.failures:
        print(f"\n{len(REPORT.failures)} SDK verification failure(s):", file=sys.stderr)
        for f in REPORT.failures:
            print(f"  {f}", file=sys.stderr)
        for path in written:  # never leave unverified vectors behind
            path.unlink()
        return 1
    print(f"generate.py: wrote {len(written)} files to {args.out}; {checks} SDK verifier checks agree with every case's expect")
    return 0


if __name__ == "__main__":
    sys.exit(main())
