#!/usr/bin/env python3
"""A local webhook endpoint for hookline's integration tests.

    python sink.py --secret whsec_... [--secret whsec_...] [--port 0] [--stay]

Listens on 127.0.0.1 only, prints ``LISTENING http://127.0.0.1:<port>`` on stdout once ready and
exits when its standard input closes (so a test that dies leaves no orphan; ``--stay`` turns that
off for manual use). Every request except the ``/_`` control endpoints is recorded, and its
Standard Webhooks signature is checked with the OFFICIAL library
(``standardwebhooks.webhooks.Webhook(secret).verify``) against each configured secret in turn.

What it answers is chosen by the path, so one sink serves every test (``...`` is any suffix,
used to tell endpoints apart; counters are per exact path, query string included):

    /ok/...                     200
    /status/<code>/...          <code>
    /fail/<n>/then/<code>/...   500 for the first n requests to this path, then <code>
    /retry-after/<secs>/...     429 + "Retry-After: <secs>" the first time, then 200
    /retry-after-date/<secs>/...  503 + HTTP-date Retry-After at least <secs> ahead the first time, then 200
    /slow/<ms>/...              sleeps <ms> ms, then 200
    /hang/...                   no answer for 120 s, then the connection is closed (other requests go on)
    /reset/...                  the connection is reset (SO_LINGER 0 + close: a TCP RST), no response
    /redirect/...               302 to http://127.0.0.1:<port>/ok/redirected
    /redirect-to/<url>[/...]    302 to <url>, given as one percent-encoded path segment (encode
                                every '/', ':', '?', '#' and '%' of it) and decoded once; 404
                                "unknown" unless it is an absolute http(s) URL without control
                                characters
    /chaos/...                  faults chosen per webhook-id, the same on every run: with
                                h(x) = the first 8 hex digits of SHA-256(x) as an integer, the
                                first h(id) % 6 attempts of each id fail, attempt k with
                                [500, 429 + "Retry-After: 1", hang, reset][h(f"{id}/{k}") % 4];
                                then 200 (see chaos_plan)
    anything else               404 (recorded, response_status 404, behaviour "unknown")

Control endpoints (not recorded):

    GET  /_deliveries   JSON list of the recorded requests, oldest first
    POST /_reset        clears the records and the per-path counters

A record: path, method, headers (lower-case names; repeated headers joined with ", "), body (UTF-8
text, or base64 when body_is_base64 is true), received_at (unix seconds, float, on arrival),
signature_valid, matched_secret_index (first matching secret, or null), verify_error (the
library's message when no secret matched), webhook_id, attempt_number_for_path (1-based),
attempt_number_for_id (1-based, per path and webhook-id), chaos (for /chaos/: what was done),
behaviour, response_status (null for /hang and /reset).

Standard library plus standardwebhooks only.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import json
import math
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

from guard import when_stdin_closes  # beside this file: python puts a script's folder on sys.path

HANG_SECONDS = 120.0


class State:
    """Records and per-path counters, shared by the handler threads."""

    def __init__(self, secrets: list[str]):
        self.secrets = secrets
        self.webhooks = [Webhook(s) for s in secrets]
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.counts: dict[str, int] = {}
        # Set on shutdown so hanging handlers return at once.
        self.stopping = threading.Event()

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.counts.clear()

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """(index of the first secret that verifies, last error). Never raises."""
        error = None
        if not self.webhooks:
            return None, "sink has no secrets configured"
        for i, wh in enumerate(self.webhooks):
            try:
                wh.verify(body, headers, json_parse=False)
                return i, None
            except Exception as e:  # noqa: BLE001 - malformed headers raise all sorts
                error = f"{type(e).__name__}: {e}"
        return None, error


def redirect_target(path: str) -> str | None:
    """The Location of a /redirect-to/<url> path: <url> decoded, if it is an absolute http(s) URL
    without control characters (which would split the header); None otherwise."""
    segs = path.split("?", 1)[0].split("/")
    if len(segs) < 3 or segs[1] != "redirect-to":
        return None
    try:
        url = urllib.parse.unquote(segs[2], errors="strict")
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # UnicodeDecodeError too
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def parse_behaviour(path: str) -> tuple[str, list[int]]:
    """('ok', []), ('status', [code]), ('fail', [n, code]), ... or ('unknown', [])."""
    segs = path.split("?", 1)[0].split("/")[1:]

    def ints(*idx: int) -> list[int] | None:
        try:
            return [int(segs[i]) for i in idx]
        except (IndexError, ValueError):
            return None

    name = segs[0] if segs else ""
    if name in ("ok", "hang", "reset", "redirect", "chaos"):
        return name, []
    if name == "redirect-to":
        return (name, []) if redirect_target(path) is not None else ("unknown", [])
    if name in ("status", "retry-after", "retry-after-date", "slow"):
        args = ints(1)
        if args is not None and args[0] >= 0:
            if name == "status" and not 100 <= args[0] <= 599:
                return "unknown", []
            return name, args
    if name == "fail" and len(segs) > 3 and segs[2] == "then":
        args = ints(1, 3)
        if args is not None and args[0] >= 0 and 100 <= args[1] <= 599:
            return name, args
    return "unknown", []


CHAOS_FAULTS = ("500", "429", "hang", "reset")


def chaos_plan(webhook_id: str, attempt: int) -> str:
    """What /chaos/ does to `attempt` (1-based) of `webhook_id`: one of CHAOS_FAULTS, or "200"."""
    def h(x: str) -> int:
        return int(hashlib.sha256(x.encode()).hexdigest()[:8], 16)

    if attempt <= h(webhook_id) % 6:
        return CHAOS_FAULTS[h(f"{webhook_id}/{attempt}") % 4]
    return "200"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint (every response has a length)
    server_version = "hookline-sink/1"
    state: State  # set on the subclass made in main()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: tests read records
        pass

    # ---- plumbing -------------------------------------------------------------------------
    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def respond(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                content_type: str = "text/plain; charset=utf-8") -> None:
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def reset_connection(self) -> None:
        """Abort the connection: SO_LINGER 0 then close sends a RST instead of a FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile (a makefile) holds a reference to the socket: close it too, or the fd stays open.
        # wfile writes straight to the socket and holds none; it stays "open" for the final flush.
        try:
            self.rfile.close()
        except (OSError, ValueError):
            pass
        self.connection.close()

    def finish(self) -> None:
        try:
            super().finish()
        except (OSError, ValueError):
            pass  # the peer went away (timeouts) or we reset the connection ourselves

    # ---- dispatch ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/_deliveries":
            self.read_body()
            with self.state.lock:
                data = json.dumps(self.state.records).encode()
            self.respond(200, data, content_type="application/json")
            return
        self.deliver()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] == "/_reset":
            self.read_body()
            self.state.reset()
            self.respond(200, b'{"reset":true}', content_type="application/json")
            return
        self.deliver()

    do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_POST

    def deliver(self) -> None:
        received_at = time.time()
        body = self.read_body()
        headers: dict[str, str] = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        matched, error = self.state.verify(body, headers)
        behaviour, args = parse_behaviour(self.path)
        try:
            text, is_b64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode("ascii"), True
        with self.state.lock:
            attempt = self.state.counts.get(self.path, 0) + 1
            self.state.counts[self.path] = attempt
            id_key = f"{self.path}#{headers.get('webhook-id')}"
            id_attempt = self.state.counts.get(id_key, 0) + 1
            self.state.counts[id_key] = id_attempt
            record = {
                "path": self.path,
                "method": self.command,
                "headers": headers,
                "body": text,
                "body_is_base64": is_b64,
                "received_at": received_at,
                "signature_valid": matched is not None,
                "matched_secret_index": matched,
                "verify_error": error,
                "webhook_id": headers.get("webhook-id"),
                "attempt_number_for_path": attempt,
                "attempt_number_for_id": id_attempt,
                "behaviour": behaviour,
                "response_status": None,
            }
            self.state.records.append(record)

        if behaviour == "chaos":
            behaviour = chaos_plan(headers.get("webhook-id") or "", id_attempt)
            with self.state.lock:
                record["chaos"] = behaviour
            args = [int(behaviour)] if behaviour.isdigit() else []
            if behaviour == "429":
                behaviour = "retry-after-always"
            elif behaviour.isdigit():
                behaviour = "status"
        status, extra = self.decide(behaviour, args, attempt)
        if status is None:
            return
        with self.state.lock:
            record["response_status"] = status
        self.respond(status, f"sink: {behaviour} -> {status}\n".encode(), extra)

    def decide(self, behaviour: str, args: list[int], attempt: int) -> tuple[int | None, dict]:
        if behaviour == "ok":
            return 200, {}
        if behaviour == "status":
            return args[0], {}
        if behaviour == "fail":
            n, code = args
            return (500 if attempt <= n else code), {}
        if behaviour == "retry-after":
            return (429, {"Retry-After": str(args[0])}) if attempt == 1 else (200, {})
        if behaviour == "retry-after-always":
            return 429, {"Retry-After": "1"}
        if behaviour == "retry-after-date":
            if attempt == 1:
                # HTTP-dates have whole seconds: round up so the date is at least secs ahead.
                when = math.ceil(time.time()) + args[0]
                return 503, {"Retry-After": email.utils.formatdate(when, usegmt=True)}
            return 200, {}
        if behaviour == "slow":
            time.sleep(args[0] / 1000.0)
            return 200, {}
        if behaviour == "hang":
            # Only this handler thread waits; the server is threaded.
            self.state.stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return None, {}
        if behaviour == "reset":
            self.reset_connection()
            return None, {}
        if behaviour == "redirect":
            port = self.server.server_address[1]
            return 302, {"Location": f"http://127.0.0.1:{port}/ok/redirected"}
        if behaviour == "redirect-to":
            return 302, {"Location": redirect_target(self.path) or ""}
        return 404, {}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # a client that timed out and hung up is part of the tests
        super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--secret", action="append", default=[], help="whsec_... (repeatable)")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--stay", action="store_true", help="do not exit when stdin closes")
    args = p.parse_args(argv)
    try:
        state = State(args.secret)
    except Exception as e:  # noqa: BLE001 - binascii.Error, EmptyWebhookSecretError, ...
        print(f"sink: bad --secret: {e}", file=sys.stderr)
        return 2

    handler = type("BoundHandler", (Handler,), {"state": state})
    server = Server(("127.0.0.1", args.port), handler)
    port = server.server_address[1]

    if not args.stay:
        def stop() -> None:
            state.stopping.set()
            os._exit(0)  # don't wait for handler threads (/hang)

        when_stdin_closes(stop)

    print(f"LISTENING http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    state.stopping.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
