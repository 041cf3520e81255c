#!/usr/bin/env python3
"""moto_server, with each DynamoDB request applied atomically as DynamoDB does.

    python moto_server.py -H 127.0.0.1 -p PORT      (moto_server's own arguments)

DynamoDB applies a request (a conditional PutItem, a transaction) as one step. moto 5.2 handles
requests on threads and checks a condition and writes the item as separate steps, so two
conditional writes racing for one item can both succeed: the store conformance suite's 20
concurrent read-and-swap increments counted 19 in about one run of fifteen. hookline's endpoint
health relies on those conditional writes, so the harness holds one lock around each DynamoDB
request. Other services (SQS) are untouched.
"""

from __future__ import annotations

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_ONE_AT_A_TIME = threading.Lock()
_call_action = DynamoHandler.call_action


def _atomic_call_action(self):  # type: ignore[no-untyped-def]
    with _ONE_AT_A_TIME:
        return _call_action(self)


DynamoHandler.call_action = _atomic_call_action  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
