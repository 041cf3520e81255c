#!/usr/bin/env python3
"""moto_server, with each DynamoDB request applied atomically as DynamoDB does, and every AWS
request counted.

    python moto_server.py -H 127.0.0.1 -p PORT      (moto_server's own arguments)

DynamoDB applies a request (a conditional PutItem, a transaction) as one step. moto 5.2 handles
requests on threads and checks a condition and writes the item as separate steps, so two
conditional writes racing for one item can both succeed: the store conformance suite's 20
concurrent read-and-swap increments counted 19 in about one run of fifteen. hookline's endpoint
health relies on those conditional writes, so the harness holds one lock around each DynamoDB
request. Other services (SQS) are untouched.

Every other request is counted per (service, action) for the cost suites (tests/cost.rs,
functions/api/tests/cost.rs, through tests/support/cost.rs), which read the counts before and
after what they measure, on a moto of their own: `GET /hookline/requests` answers
`{"sqs.SendMessageBatch": {"requests": 2, "entries": 20, "max_entries": 10, "bytes": ..,
"chunks64k": 2, "units1k": .., "units4k": ..}, ...}`. `entries` are the messages or items a
batch call carried; `chunks64k` the 64 KB chunks of each request body, summed (SQS bills a
request per 64 KB chunk of payload); `units1k`/`units4k` each body's 1 KB / 4 KB units, summed:
an upper bound on DynamoDB's write / read units, since a request body holds the item and more.
`/moto-api/...` calls (reset, auth setup) and the counter's own are not counted.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections import defaultdict
from urllib.parse import parse_qs

from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

_ONE_AT_A_TIME = threading.Lock()
_call_action = DynamoHandler.call_action


def _atomic_call_action(self):  # type: ignore[no-untyped-def]
    with _ONE_AT_A_TIME:
        return _call_action(self)


DynamoHandler.call_action = _atomic_call_action  # type: ignore[method-assign]

COUNTS_PATH = "/hookline/requests"
CHUNK = 64 * 1024
# X-Amz-Target prefixes (JSON protocols) to service names.
_TARGETS = {"AmazonSQS": "sqs", "DynamoDB_20120810": "dynamodb"}
# Batch actions whose entries are counted, and the list that holds them.
_ENTRIES = {"SendMessageBatch": "Entries", "DeleteMessageBatch": "Entries",
            "ChangeMessageVisibilityBatch": "Entries", "TransactWriteItems": "TransactItems"}

_counts_lock = threading.Lock()
_counts: dict[str, dict[str, int]] = defaultdict(
    lambda: {"requests": 0, "entries": 0, "max_entries": 0, "bytes": 0, "chunks64k": 0,
             "units1k": 0, "units4k": 0}
)


def _classify(environ, body: bytes) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    """(service, action, entries) of one request."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, action = target.partition(".")
        service = _TARGETS.get(prefix, prefix)
        entries = 0
        if action in _ENTRIES:
            try:
                entries = len(json.loads(body or b"{}").get(_ENTRIES[action], []))
            except (ValueError, AttributeError):
                entries = 0  # a malformed body: moto answers it with an error, counted as is
        return service, action, entries
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or ["?"])[0]
    path = environ.get("PATH_INFO", "")
    return ("query" if form else f"rest:{path.split('/')[1] if '/' in path else path}"), action, 0


def _counting(app_call):  # type: ignore[no-untyped-def]
    def call(self, environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if path == COUNTS_PATH:
            with _counts_lock:
                data = json.dumps(_counts).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if not path.startswith("/moto-api"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            service, action, entries = _classify(environ, body)
            with _counts_lock:
                c = _counts[f"{service}.{action}"]
                c["requests"] += 1
                c["entries"] += entries
                c["max_entries"] = max(c["max_entries"], entries)
                c["bytes"] += len(body)
                c["chunks64k"] += max(1, -(-len(body) // CHUNK))
                c["units1k"] += max(1, -(-len(body) // 1024))
                c["units4k"] += max(1, -(-len(body) // 4096))
        return app_call(self, environ, start_response)

    return call


DomainDispatcherApplication.__call__ = _counting(DomainDispatcherApplication.__call__)  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
