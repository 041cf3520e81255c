"""Self-test of sink.py: run from tests/harness with the harness venv's python:

    "$(tests/harness/setup.sh)/python" -m unittest discover -s tests/harness -v
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER = "whsec_" + base64.b64encode(b"another secret, 32 bytes long!!!").decode()
WRONG = "whsec_" + base64.b64encode(b"not the configured secret at all").decode()


def sign(secret: str, msg_id: str, body: str, ts: float | None = None) -> dict[str, str]:
    ts = time.time() if ts is None else ts
    when = datetime.fromtimestamp(int(ts), tz=timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(ts)),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
        "content-type": "application/json",
    }


class SinkTest(unittest.TestCase):
    proc: subprocess.Popen
    port: int

    @classmethod
    def setUpClass(cls) -> None:
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "sink.py"), "--secret", SECRET, "--secret", OTHER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = cls.proc.stdout.readline()
        assert line.startswith("LISTENING http://127.0.0.1:"), line
        cls.port = int(line.strip().rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.proc.stdin.close()
        cls.proc.wait(timeout=5)
        cls.proc.stdout.close()

    def setUp(self) -> None:
        self.request("POST", "/_reset")

    def request(self, method: str, path: str, body: bytes | str = b"", headers=None, timeout=5.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def deliveries(self) -> list[dict]:
        status, _, body = self.request("GET", "/_deliveries")
        self.assertEqual(status, 200)
        return json.loads(body)

    def post_signed(self, path: str, msg_id: str, body: str = '{"type":"a.b"}', secret=SECRET):
        return self.request("POST", path, body.encode(), sign(secret, msg_id, body))

    def test_ok_records_a_valid_delivery(self):
        status, _, _ = self.post_signed("/ok/a", "msg_1")
        self.assertEqual(status, 200)
        [d] = self.deliveries()
        self.assertEqual(d["path"], "/ok/a")
        self.assertEqual(d["method"], "POST")
        self.assertEqual(d["body"], '{"type":"a.b"}')
        self.assertFalse(d["body_is_base64"])
        self.assertTrue(d["signature_valid"], d["verify_error"])
        self.assertEqual(d["matched_secret_index"], 0)
        self.assertIsNone(d["verify_error"])
        self.assertEqual(d["webhook_id"], "msg_1")
        self.assertEqual(d["headers"]["webhook-id"], "msg_1")
        self.assertTrue(d["headers"]["webhook-signature"].startswith("v1,"))
        self.assertEqual(d["attempt_number_for_path"], 1)
        self.assertEqual(d["response_status"], 200)
        self.assertLess(abs(d["received_at"] - time.time()), 5)

    def test_fail_then_succeeds(self):
        statuses = [self.post_signed("/fail/1/then/200/x", f"m{i}")[0] for i in range(3)]
        self.assertEqual(statuses, [500, 200, 200])
        got = self.deliveries()
        self.assertEqual([d["attempt_number_for_path"] for d in got], [1, 2, 3])
        self.assertTrue(all(d["signature_valid"] for d in got))
        # Counters are per exact path.
        self.assertEqual(self.post_signed("/fail/1/then/200/y", "m")[0], 500)
        self.assertEqual(self.post_signed("/fail/2/then/410/z", "m")[0], 500)
        self.assertEqual(self.post_signed("/fail/2/then/410/z", "m")[0], 500)
        self.assertEqual(self.post_signed("/fail/2/then/410/z", "m")[0], 410)

    def test_invalid_signature_is_recorded_not_fatal(self):
        status, _, _ = self.post_signed("/ok/bad", "msg_bad", secret=WRONG)
        self.assertEqual(status, 200)
        body = '{"type":"a.b"}'
        headers = sign(SECRET, "msg_t", body)
        status, _, _ = self.request("POST", "/ok/tampered", b'{"type":"a.c"}', headers)
        stale = sign(SECRET, "msg_old", body, ts=time.time() - 600)
        self.request("POST", "/ok/stale", body.encode(), stale)
        self.request("POST", "/ok/none", body.encode(), {"webhook-id": "x"})
        self.request("POST", "/ok/garbage", body.encode(),
                     {"webhook-id": "x", "webhook-timestamp": "nope", "webhook-signature": "v1"})
        self.request("POST", "/ok/nonutf8", b"\xff\xfe\x00", sign(SECRET, "b", "x"))
        got = self.deliveries()
        self.assertEqual(len(got), 6)
        for d in got:
            self.assertFalse(d["signature_valid"], d)
            self.assertIsNone(d["matched_secret_index"])
            self.assertTrue(d["verify_error"])
        self.assertEqual(got[0]["webhook_id"], "msg_bad")
        self.assertIn("too old", got[2]["verify_error"])
        self.assertTrue(got[5]["body_is_base64"])
        self.assertEqual(base64.b64decode(got[5]["body"]), b"\xff\xfe\x00")

    def test_second_secret_and_multiple_signatures(self):
        self.post_signed("/ok/rotated", "m", secret=OTHER)
        body = "{}"
        h = sign(WRONG, "m2", body)
        h["webhook-signature"] += " " + sign(OTHER, "m2", body)["webhook-signature"]
        self.request("POST", "/ok/two", body, h)
        got = self.deliveries()
        self.assertEqual([d["matched_secret_index"] for d in got], [1, 1])

    def test_svix_signatures_agree(self):
        """A second implementation (svix) signs; the official one in the sink accepts."""
        from svix.webhooks import Webhook as SvixWebhook

        body = '{"type":"svix.check"}'
        ts = int(time.time())
        sig = SvixWebhook(SECRET).sign("msg_svix", datetime.fromtimestamp(ts, tz=timezone.utc), body)
        headers = {"webhook-id": "msg_svix", "webhook-timestamp": str(ts), "webhook-signature": sig}
        self.assertEqual(sig, sign(SECRET, "msg_svix", body, ts)["webhook-signature"])
        self.request("POST", "/ok/svix", body, headers)
        [d] = self.deliveries()
        self.assertTrue(d["signature_valid"], d["verify_error"])

    def test_status_redirect_and_unknown(self):
        self.assertEqual(self.post_signed("/status/410/g", "m")[0], 410)
        self.assertEqual(self.post_signed("/status/204/n", "m")[0], 204)
        status, headers, _ = self.post_signed("/redirect/r", "m")
        self.assertEqual(status, 302)
        self.assertEqual(headers["Location"], f"http://127.0.0.1:{self.port}/ok/redirected")
        self.assertEqual(self.post_signed("/nope", "m")[0], 404)
        self.assertEqual(self.post_signed("/status/abc", "m")[0], 404)
        got = self.deliveries()
        self.assertEqual([d["response_status"] for d in got], [410, 204, 302, 404, 404])
        self.assertEqual(got[3]["behaviour"], "unknown")

    def test_redirect_to_any_absolute_url(self):
        def quote(url: str) -> str:
            return urllib.parse.quote(url, safe="")

        targets = [
            "http://169.254.169.254/latest/meta-data/",
            "http://metadata.google.internal/computeMetadata/v1/?recursive=true#x",
            f"https://127.0.0.1:{self.port}/ok/landed",
            "http://[::ffff:127.0.0.1]:8080/a%2Fb",
        ]
        for i, target in enumerate(targets):
            status, headers, _ = self.post_signed(f"/redirect-to/{quote(target)}/{i}", "m")
            self.assertEqual(status, 302, target)
            self.assertEqual(headers["Location"], target)
        # Without a suffix, and with a query string that is not part of the target.
        status, headers, _ = self.post_signed(f"/redirect-to/{quote(targets[0])}?q=1", "m")
        self.assertEqual((status, headers["Location"]), (302, targets[0]))
        # Not an absolute http(s) URL, or one that would split the header: unknown.
        for bad in ["", "relative", quote("/ok/x"), quote("ftp://127.0.0.1/"),
                    quote("http://"), quote("http://x/\r\nSet-Cookie: a=b"), "%ff"]:
            status, headers, _ = self.post_signed(f"/redirect-to/{bad}", "m")
            self.assertEqual(status, 404, bad)
            self.assertNotIn("Location", headers)
        got = self.deliveries()
        self.assertEqual([d["behaviour"] for d in got[:5]], ["redirect-to"] * 5)
        self.assertEqual([d["response_status"] for d in got[:5]], [302] * 5)
        self.assertTrue(all(d["signature_valid"] for d in got))
        self.assertEqual({d["behaviour"] for d in got[5:]}, {"unknown"})
        # Nothing followed the redirects: only the requests made here were recorded.
        self.assertFalse(any(d["path"].startswith("/ok/") for d in got))

    def test_retry_after_seconds_and_date(self):
        status, headers, _ = self.post_signed("/retry-after/3/r", "m")
        self.assertEqual((status, headers["Retry-After"]), (429, "3"))
        self.assertEqual(self.post_signed("/retry-after/3/r", "m")[0], 200)
        before = time.time()
        status, headers, _ = self.post_signed("/retry-after-date/5/d", "m")
        self.assertEqual(status, 503)
        when = email.utils.parsedate_to_datetime(headers["Retry-After"]).timestamp()
        self.assertTrue(before + 5 <= when <= before + 7, (before, when))
        self.assertEqual(self.post_signed("/retry-after-date/5/d", "m")[0], 200)

    def test_slow_hang_and_reset(self):
        started = time.monotonic()
        self.assertEqual(self.post_signed("/slow/300/s", "m")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

        outcome: list[object] = []

        def hang() -> None:
            try:
                outcome.append(self.post_signed("/hang/h", "m", body="{}"))
            except Exception as e:  # noqa: BLE001
                outcome.append(e)

        # A hanging request does not block the others.
        t = threading.Thread(target=hang)
        t.start()
        time.sleep(0.2)
        self.assertEqual(self.post_signed("/ok/while-hanging", "m")[0], 200)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
        conn.request("POST", "/hang/h2", body=b"{}")
        with self.assertRaises(socket.timeout):
            conn.getresponse()
        conn.close()

        with self.assertRaises(ConnectionResetError):
            self.post_signed("/reset/x", "m")
        paths = [d["path"] for d in self.deliveries()]
        for p in ("/hang/h", "/ok/while-hanging", "/hang/h2", "/reset/x"):
            self.assertIn(p, paths)
        self.assertEqual(outcome, [], "the hanging request was answered")

    def test_chaos_follows_its_plan_per_webhook_id(self):
        sys.path.insert(0, HERE)
        from sink import chaos_plan  # noqa: PLC0415 - the module under test, for its rule

        def plan(i: str) -> list[str]:
            return [chaos_plan(i, k) for k in range(1, 7)]

        # Ids whose faults all answer (500 or 429), so the test needs no timeouts: one that
        # fails twice, one that never fails.
        ids = [f"chaos_{n}" for n in range(2000)]
        twice = next(i for i in ids if plan(i)[:3] in (["500", "429", "200"], ["429", "500", "200"],
                                                     ["500", "500", "200"], ["429", "429", "200"]))
        never = next(i for i in ids if plan(i)[0] == "200")
        # The same rule as functions/sender/tests/faults.rs: SHA-256's first 8 hex digits, mod 6 and mod 4.
        import hashlib  # noqa: PLC0415
        h = int(hashlib.sha256(twice.encode()).hexdigest()[:8], 16)
        self.assertEqual(h % 6, 2)
        seen = []
        for _ in range(3):
            status, headers, _ = self.post_signed("/chaos/x", twice)
            seen.append(status)
            if status == 429:
                self.assertEqual(headers.get("Retry-After"), "1")
        self.assertEqual(seen, [int(p) for p in plan(twice)[:3]])
        # Counted per id: another id on the same path starts at its first attempt.
        self.assertEqual(self.post_signed("/chaos/x", never)[0], 200)
        records = self.deliveries()
        self.assertEqual([r["attempt_number_for_id"] for r in records], [1, 2, 3, 1])
        self.assertEqual([r["chaos"] for r in records], plan(twice)[:3] + ["200"])
        self.assertTrue(all(r["signature_valid"] for r in records))

    def test_exits_when_stdin_closes_even_while_a_request_hangs(self):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "sink.py"), "--secret", SECRET],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("LISTENING "), line)
        port = int(line.strip().rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /hang/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        p.stdin.close()
        self.assertEqual(p.wait(timeout=5), 0)
        self.assertEqual(s.recv(100), b"", "connection closed without a response")
        s.close()
        p.stdout.close()

if __name__ == "__main__":
    unittest.main()
