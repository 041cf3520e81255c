#!/usr/bin/env python3
"""The management API under the official svix Python SDK: the same calls against hookline and a
peer (a self-hosted Svix server) in the same run, one after the other, on one machine.

    bench_api.py --label hookline --url http://127.0.0.1:8787 --token T [--label svix --url ... --token ...]

For each server (in the order given): create an application and one endpoint pointing at a
local sink (loopback), then
  - `message.create` N times, one after another: the API latency (p50, p99);
  - for each message, the time from the start of its `message.create` call to its delivery at
    the sink (created -> delivered, p50 and p99);
  - `message_attempt.list_by_endpoint` N times (limit 50): the API latency (p50, p99).
Figures go to $HOOKLINE_BENCH_JSON (one JSON line each, as infra/bench.py expects), the first
server's with the second's as its peer. Needs `svix` (tests/harness/requirements.txt).
Environment: HOOKLINE_BENCH_API_CALLS (default 300).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svix.api import (ApplicationIn, EndpointIn, MessageAttemptListByEndpointOptions,
                      MessageIn, Svix, SvixOptions)


class Sink:
    """Records when each message id first arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                self.rfile.read(n)
                mid = self.headers.get("webhook-id") or self.headers.get("svix-id") or ""
                now = time.perf_counter()
                with sink.lock:
                    sink.arrived.setdefault(mid, now)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run(label: str, url: str, token: str, sink: Sink, calls: int) -> dict[str, float]:
    svix = Svix(token, SvixOptions(server_url=url))
    app = svix.application.create(ApplicationIn(name=f"bench-{label}"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=f"http://127.0.0.1:{sink.port}/{label}"))
    # Warm up: connections, caches, the first delivery.
    for _ in range(5):
        svix.message.create(app.id, MessageIn(event_type="bench.warmup", payload={"w": 1}))
    create, started = [], {}
    for i in range(calls):
        t0 = time.perf_counter()
        m = svix.message.create(app.id, MessageIn(event_type="bench.event", payload={"i": i, "pad": "x" * 200}))
        create.append((time.perf_counter() - t0) * 1000)
        started[m.id] = t0
    deadline = time.time() + 120
    while time.time() < deadline:
        with sink.lock:
            if all(mid in sink.arrived for mid in started):
                break
        time.sleep(0.05)
    with sink.lock:
        delivered = [(sink.arrived[mid] - t0) * 1000 for mid, t0 in started.items() if mid in sink.arrived]
    if len(delivered) < len(started):
        print(f"{label}: only {len(delivered)} of {len(started)} messages delivered within 120 s", file=sys.stderr)
    listing = []
    opts = MessageAttemptListByEndpointOptions(limit=50)
    for _ in range(calls):
        t0 = time.perf_counter()
        svix.message_attempt.list_by_endpoint(app.id, ep.id, opts)
        listing.append((time.perf_counter() - t0) * 1000)
    out = {
        "create p50": statistics.median(create), "create p99": pct(create, 99),
        "delivered p50": statistics.median(delivered) if delivered else float("nan"),
        "delivered p99": pct(delivered, 99) if delivered else float("nan"),
        "list attempts p50": statistics.median(listing), "list attempts p99": pct(listing, 99),
        "delivered": float(len(delivered)),
    }
    print(f"{label}: " + ", ".join(f"{k} {v:.2f}" for k, v in out.items()))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", action="append", required=True)
    ap.add_argument("--url", action="append", required=True)
    ap.add_argument("--token", action="append", required=True)
    a = ap.parse_args(argv)
    calls = int(os.environ.get("HOOKLINE_BENCH_API_CALLS", "300"))
    sink = Sink()
    results = [(lbl, run(lbl, u, t, sink, calls)) for lbl, u, t in zip(a.label, a.url, a.token)]
    (label, ours), peer = results[0], (results[1] if len(results) > 1 else (None, {}))
    names = {
        "create p50": "API message.create, p50", "create p99": "API message.create, p99",
        "list attempts p50": "API list attempts by endpoint, p50",
        "list attempts p99": "API list attempts by endpoint, p99",
        "delivered p50": "message created -> delivered, p50",
        "delivered p99": "message created -> delivered, p99",
    }
    path = os.environ.get("HOOKLINE_BENCH_JSON")
    for key, name in names.items():
        v, pv = ours[key], peer[1].get(key)
        line = {"bench": "api", "figure": f"{name} ({calls} calls, svix Python SDK)", "value": round(v, 2),
                "unit": "ms", "peer": peer[0], "peer_value": round(pv, 2) if pv is not None else None,
                "ratio": (v / pv) if pv else None, "goal": None, "met": None}
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
        else:
            print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
