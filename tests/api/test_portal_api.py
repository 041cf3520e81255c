"""App-portal links and send-example through the official Python `svix` SDK (svix==2.9.1), against
a server that delivers (`hookline dev`, or the API Lambda on DynamoDB/moto with the sender behind
it):

    tests/api/run.sh target/debug/hookline
    tests/api/run.sh --lambda target/debug/examples/local_url

What the portal page does with a link is tested in Chromium (tests/portal/); this suite checks
the API under it with Svix's own client: `authentication.app_portal_access` mints a link whose
token the SDK then uses as its own bearer token, its capabilities hold, `logout` and
`expire_all` end links, and `endpoint.send_example` delivers a signed example to one endpoint
only (the sink verifies it with `svix.webhooks.Webhook`).
"""

import http.server
import json
import os
import secrets
import threading
import time
import unittest
import urllib.error
import urllib.request

from svix.api import (
    AppPortalAccessIn,
    ApplicationIn,
    ApplicationTokenExpireIn,
    EndpointIn,
    EndpointPatch,
    EventExampleIn,
    EventTypeIn,
    MessageIn,
    Svix,
    SvixOptions,
)
from svix.exceptions import HttpError
from svix.webhooks import Webhook

URL = os.environ.get("HOOKLINE_API_URL", "")
TOKEN = os.environ.get("HOOKLINE_API_TOKEN", "")
DELIVERS = os.environ.get("HOOKLINE_API_DELIVERS") == "1"
DEADLINE = float(os.environ.get("HOOKLINE_API_DELIVERY_DEADLINE", "30"))


def client(token: str = TOKEN) -> Svix:
    # No retries: a 5xx must fail the test, not be hidden by the SDK's retry schedule.
    return Svix(token, SvixOptions(server_url=URL, retry_schedule=[]))


def raw(token: str, method: str, path: str, body=None):
    """(status, JSON) of a request with `token`, for routes and fields the SDK does not have."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{URL}/api/v1{path}",
        data=data,
        method=method,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def token_of(link) -> str:
    """The token in a link's fragment, checked to be the one the answer names."""
    assert link.url.startswith(URL + "/portal/#token="), link.url
    fragment = link.url.split("#token=", 1)[1]
    assert fragment == link.token
    return fragment


class Sink:
    """One loopback endpoint that keeps every POST it verifies with the endpoint's secret."""

    def __init__(self):
        self.secret = "whsec_" + "c2luay1zZWNyZXQtZm9yLXRoZS1wb3J0YWwtc3VpdGU="
        self.got = []
        self.cond = threading.Condition()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                # Raises unless the signature is the endpoint secret's.
                Webhook(sink.secret).verify(body, dict(self.headers))
                payload = json.loads(body)
                with sink.cond:
                    sink.got.append((self.path, self.headers["webhook-id"], payload))
                    sink.cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait(self, msg_id: str):
        end = time.monotonic() + DEADLINE
        with self.cond:
            while True:
                hits = [g for g in self.got if g[1] == msg_id]
                if hits:
                    return hits
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no delivery of {msg_id} within {DEADLINE}s: {self.got}")
                self.cond.wait(left)

    def close(self):
        self.server.shutdown()


@unittest.skipUnless(URL and TOKEN and DELIVERS, "set HOOKLINE_API_URL, _TOKEN, _DELIVERS=1 (run.sh does)")
class PortalLinks(unittest.TestCase):
    def setUp(self):
        self.svix = client()
        self.uid = "portal-" + secrets.token_hex(4)
        self.app = self.svix.application.create(ApplicationIn(name="Portal Co", uid=self.uid))
        self.other = self.svix.application.create(
            ApplicationIn(name="Other", uid="other-" + secrets.token_hex(4))
        )

    def test_a_link_is_a_token_for_one_application(self):
        link = self.svix.authentication.app_portal_access(self.uid, AppPortalAccessIn())
        token = token_of(link)
        as_customer = client(token)
        ep = as_customer.endpoint.create(self.app.id, EndpointIn(url="https://example.com/hook"))
        self.assertEqual([e.id for e in as_customer.endpoint.list(self.app.id).data], [ep.id])
        status, session = raw(token, "GET", "/auth/session")
        self.assertEqual(status, 200)
        self.assertEqual((session["scope"], session["app"]["id"]), ("app", self.app.id))
        # Another application, the application list and minting links: refused.
        for call in (
            lambda: as_customer.endpoint.list(self.other.id),
            lambda: as_customer.application.list(),
            lambda: as_customer.authentication.app_portal_access(self.other.id, AppPortalAccessIn()),
        ):
            with self.assertRaises(HttpError) as e:
                call()
            self.assertEqual(e.exception.status_code, 403)

    def test_capabilities_read_only_and_expiry(self):
        ep = self.svix.endpoint.create(self.app.id, EndpointIn(url="https://example.com/hook"))
        ro = client(token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(read_only=True))))
        self.assertEqual(ro.endpoint.get(self.app.id, ep.id).id, ep.id)
        for call in (
            lambda: ro.endpoint.get_secret(self.app.id, ep.id),
            lambda: ro.endpoint.patch(self.app.id, ep.id, EndpointPatch(disabled=True)),
            lambda: ro.endpoint.send_example(self.app.id, ep.id, EventExampleIn(event_type="svix.ping")),
        ):
            with self.assertRaises(HttpError) as e:
                call()
            self.assertEqual(e.exception.status_code, 403)
        secrets_only = client(token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(capabilities=["ViewEndpointSecret"]))))
        self.assertTrue(secrets_only.endpoint.get_secret(self.app.id, ep.id).key.startswith("whsec_"))
        # A link that lives one second.
        short = token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(expiry=1)))
        time.sleep(2.1)
        status, body = raw(short, "GET", "/auth/session")
        self.assertEqual((status, body["code"]), (401, "token_expired"))

    def test_logout_and_expire_all_end_links(self):
        a = token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(session_id="s-a")))
        b = token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(session_id="s-b")))
        c = token_of(self.svix.authentication.app_portal_access(self.app.id, AppPortalAccessIn()))
        other = token_of(self.svix.authentication.app_portal_access(self.other.id, AppPortalAccessIn()))
        client(a).authentication.logout()
        self.assertEqual(raw(a, "GET", "/auth/session")[0], 401)
        self.svix.authentication.expire_all(self.app.id, ApplicationTokenExpireIn(session_ids=["s-b"]))
        self.assertEqual(raw(b, "GET", "/auth/session")[0], 401)
        self.assertEqual(raw(c, "GET", "/auth/session")[0], 200)
        self.svix.authentication.expire_all(self.app.id, ApplicationTokenExpireIn())
        self.assertEqual(raw(c, "GET", "/auth/session")[0], 401)
        self.assertEqual(raw(other, "GET", "/auth/session")[0], 200, "another application's link stays")

    def test_send_example_delivers_to_one_endpoint_signed(self):
        sink = Sink()
        self.addCleanup(sink.close)
        name = "portal.example." + secrets.token_hex(3)
        self.svix.event_type.create(EventTypeIn(
            name=name, description="an example",
            schemas={"1": {"type": "object", "examples": [{"invoice": "in_42", "amount": 4200}]}},
        ))
        one = self.svix.endpoint.create(self.app.id, EndpointIn(url=sink.base + "/one", secret=sink.secret))
        self.svix.endpoint.create(self.app.id, EndpointIn(url=sink.base + "/two", secret=sink.secret))
        as_customer = client(token_of(self.svix.authentication.app_portal_access(
            self.app.id, AppPortalAccessIn(capabilities=["CreateAttempts"]))))
        ping = as_customer.endpoint.send_example(self.app.id, one.id, EventExampleIn(event_type="svix.ping"))
        example = as_customer.endpoint.send_example(self.app.id, one.id, EventExampleIn(event_type=name))
        self.assertEqual(sink.wait(ping.id)[0][2], {"success": True})
        hits = sink.wait(example.id)
        self.assertEqual([(p, body) for p, _, body in hits], [("/one", {"invoice": "in_42", "amount": 4200})])
        # The other endpoint got neither: a message sent after them reaches /two, and by then
        # /two has had every delivery queued before it (a wrong one fails here; a right run
        # never does).
        later = self.svix.message.create(self.app.id, MessageIn(event_type=name, payload={"later": 1}))
        wait_until = time.monotonic() + DEADLINE
        while "/two" not in [p for p, m, _ in sink.wait(later.id)] and time.monotonic() < wait_until:
            time.sleep(0.05)
        self.assertEqual(
            sorted(p for p, m, _ in sink.got if m in (ping.id, example.id)), ["/one", "/one"]
        )
        with self.assertRaises(HttpError) as e:
            self.svix.endpoint.send_example(self.app.id, one.id, EventExampleIn(event_type="no.such.type"))
        self.assertEqual(e.exception.status_code, 404)


if __name__ == "__main__":
    unittest.main()
