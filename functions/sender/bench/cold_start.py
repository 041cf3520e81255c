#!/usr/bin/env python3
"""Cold start of the sender's bootstrap: process exec to the first event handled.

A minimal stand-in for the Lambda Runtime API on 127.0.0.1 serves one SQS event to the
bootstrap and times the moment its response arrives. The event is an outbound message that
no endpoint subscribes to, so the measured path is: process start, configuration parsing and
validation, secret resolution, signer and HTTP/SQS client construction, the runtime's first
poll, and one handled batch, with no network beyond loopback.

    python3 functions/sender/bench/cold_start.py target/release/hookline-sender [runs]
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT = {
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": json.dumps({"type": "unsubscribed.event", "data": {"n": 1}}),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:outbound",
            "awsRegion": "us-east-1",
        }
    ]
}
CONFIG = {
    "endpoints": {
        "billing": {
            "url": "https://billing.example.com/hooks",
            "secrets": ["env:BILLING_WHSEC"],
            "events": ["invoice.*"],
        }
    }
}


class Runtime(BaseHTTPRequestHandler):
    served = False
    done = threading.Event()
    result = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            self.send_error(404)
            return
        if Runtime.served:
            Runtime.done.wait(30)  # the runtime polls again: hold it until we stop
            try:
                self.send_error(410)
            except OSError:
                pass  # the process was killed while its poll was held
            return
        Runtime.served = True
        body = json.dumps(EVENT).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:hookline-sender")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        payload = self.rfile.read(length)
        Runtime.result = (time.perf_counter(), self.path, payload)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        Runtime.done.set()


def once(binary):
    Runtime.served = False
    Runtime.done = threading.Event()
    Runtime.result = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "hookline-sender",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        # Any AWS call would go to a closed loopback port, never out.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "HOOKLINE_CONFIG": json.dumps(CONFIG),
        "HOOKLINE_QUEUE_URL": "http://127.0.0.1:9/000000000000/outbound",
        "HOOKLINE_DLQ_URL": "http://127.0.0.1:9/000000000000/outbound-dlq",
        "BILLING_WHSEC": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = Runtime.done.wait(30)
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok or Runtime.result is None or not Runtime.result[1].endswith("/response"):
        sys.exit(f"no response from the bootstrap: {Runtime.result} {proc.stderr.read().decode()[-2000:]}")
    response = json.loads(Runtime.result[2])
    if response.get("batchItemFailures"):
        sys.exit(f"the event failed: {response}")
    return (Runtime.result[0] - start) * 1000


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    once(binary)  # warm the page cache: we measure the process, not the disk
    times = sorted(once(binary) for _ in range(runs))
    print(f"cold start (exec -> first event handled), {runs} runs: "
          f"p50 {statistics.median(times):.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
