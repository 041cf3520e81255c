"""hookline's management API driven by the official Python `svix` SDK (svix==2.9.1).

    HOOKLINE_API_URL=http://127.0.0.1:8787 HOOKLINE_API_TOKEN=... \\
        .venv-harness/bin/python -m unittest tests/api/test_svix_python.py

Against any server of the API: `cargo run -p hookline-api --example serve` (records only, it
delivers nothing) or `hookline dev`. The delivery tests (DeliveryTests) need a server that
delivers and accepts loopback endpoints: they run when HOOKLINE_API_DELIVERS=1 (tests/api/run.sh
sets it for `hookline dev`) and are skipped otherwise.

Every name this suite creates carries a random suffix, so runs against the same server do not
collide. Waits poll with a deadline; nothing sleeps a fixed time.
"""

import http.server
import json
import os
import secrets
import threading
import time
import unittest
import urllib.request

from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    ApplicationPatch,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointListOptions,
    EndpointPatch,
    EndpointSecretRotateIn,
    EndpointUpsertIn,
    EventTypeIn,
    EventTypeListOptions,
    EventTypePatch,
    EventTypeUpsertIn,
    MessageAttemptListByEndpointOptions,
    MessageAttemptListByMsgOptions,
    MessageCreateOptions,
    MessageIn,
    MessageListOptions,
    Svix,
    SvixOptions,
)
from svix.exceptions import HttpError, HTTPValidationError
from svix.webhooks import Webhook, WebhookVerificationError

URL = os.environ.get("HOOKLINE_API_URL", "")
TOKEN = os.environ.get("HOOKLINE_API_TOKEN", "")
DELIVERS = os.environ.get("HOOKLINE_API_DELIVERS") == "1"
# How long a delivery may take to arrive (hookline dev polls its queue; first attempts are quick).
DELIVERY_DEADLINE = float(os.environ.get("HOOKLINE_API_DELIVERY_DEADLINE", "30"))


def suffix() -> str:
    return secrets.token_hex(4)


def client() -> Svix:
    # No retries: a 5xx must fail the test, not be hidden by the SDK's retry schedule.
    return Svix(TOKEN, SvixOptions(server_url=URL, retry_schedule=[]))


def wait_for(what: str, check, deadline: float = DELIVERY_DEADLINE, cond=None):
    """Polls `check` until it returns something truthy, or fails after `deadline` seconds.
    With `cond` (a threading.Condition the producer notifies), waits on it between checks."""
    end = time.monotonic() + deadline
    while True:
        got = check()
        if got:
            return got
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}")
        if cond is not None:
            with cond:
                cond.wait(min(left, 0.5))
        else:
            # Server-side state (attempt records) has no notification to wait on.
            time.sleep(min(left, 0.1))


@unittest.skipUnless(URL and TOKEN, "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN")
class ApplicationTests(unittest.TestCase):
    def setUp(self):
        self.svix = client()

    def test_application_lifecycle(self):
        s = suffix()
        app = self.svix.application.create(
            ApplicationIn(name=f"Acme {s}", uid=f"acme-{s}", metadata={"tier": "gold"})
        )
        self.assertTrue(app.id.startswith("app_"))
        self.assertEqual(app.uid, f"acme-{s}")
        self.assertEqual(app.metadata, {"tier": "gold"})
        self.assertIsNotNone(app.created_at.tzinfo)

        self.assertEqual(self.svix.application.get(app.id).id, app.id)
        self.assertEqual(self.svix.application.get(f"acme-{s}").id, app.id)

        updated = self.svix.application.upsert(
            app.id, ApplicationIn(name=f"Acme Corp {s}", uid=f"acme-{s}")
        )
        self.assertEqual(updated.name, f"Acme Corp {s}")
        self.assertEqual(updated.metadata, {})
        self.assertGreaterEqual(updated.updated_at, app.updated_at)

        patched = self.svix.application.patch(
            f"acme-{s}", ApplicationPatch(metadata={"tier": "silver"})
        )
        self.assertEqual(patched.name, f"Acme Corp {s}")
        self.assertEqual(patched.metadata, {"tier": "silver"})
        self.assertEqual(patched.uid, f"acme-{s}")

        self.svix.application.delete(app.id)
        with self.assertRaises(HttpError) as e:
            self.svix.application.get(app.id)
        self.assertEqual(e.exception.status_code, 404)
        with self.assertRaises(HttpError) as e:
            self.svix.application.get(f"acme-{s}")
        self.assertEqual(e.exception.status_code, 404)
        # The uid is free again.
        again = self.svix.application.create(ApplicationIn(name="again", uid=f"acme-{s}"))
        self.assertNotEqual(again.id, app.id)
        self.svix.application.delete(again.id)

    def test_duplicate_uid_is_409(self):
        s = suffix()
        app = self.svix.application.create(ApplicationIn(name="one", uid=f"dup-{s}"))
        with self.assertRaises(HttpError) as e:
            self.svix.application.create(ApplicationIn(name="two", uid=f"dup-{s}"))
        self.assertEqual(e.exception.status_code, 409)
        self.assertTrue(e.exception.code)
        # get_or_create answers the existing one instead.
        same = self.svix.application.get_or_create(ApplicationIn(name="two", uid=f"dup-{s}"))
        self.assertEqual(same.id, app.id)
        self.svix.application.delete(app.id)

    def test_list_pages_to_the_end(self):
        s = suffix()
        made = [
            self.svix.application.create(ApplicationIn(name=f"page {i}", uid=f"page-{s}-{i}")).id
            for i in range(5)
        ]
        seen = []
        iterator = None
        pages = 0
        while True:
            page = self.svix.application.list(ApplicationListOptions(limit=2, iterator=iterator))
            pages += 1
            self.assertLessEqual(len(page.data), 2)
            seen.extend(a.id for a in page.data)
            if page.done:
                break
            self.assertIsNotNone(page.iterator)
            iterator = page.iterator
            self.assertLess(pages, 10_000)
        # Creation order; other tests' applications may be interleaved, none is repeated.
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual([a for a in seen if a in made], made)
        for a in made:
            self.svix.application.delete(a)

    def test_validation_error_shape(self):
        with self.assertRaises(HTTPValidationError) as e:
            self.svix.application.create(ApplicationIn(name="bad", uid="has space"))
        self.assertEqual(e.exception.status_code, 422)
        self.assertEqual(e.exception.detail[0].loc, ["body", "uid"])

    def test_wrong_token_is_401(self):
        other = Svix("not-the-token", SvixOptions(server_url=URL, retry_schedule=[]))
        with self.assertRaises(HttpError) as e:
            other.application.list()
        self.assertEqual(e.exception.status_code, 401)


@unittest.skipUnless(URL and TOKEN, "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN")
class EventTypeTests(unittest.TestCase):
    def setUp(self):
        self.svix = client()

    def names(self, **opts):
        out, iterator = [], None
        while True:
            page = self.svix.event_type.list(
                EventTypeListOptions(limit=50, iterator=iterator, **opts)
            )
            out.extend(page.data)
            if page.done:
                return out
            iterator = page.iterator

    def test_event_type_lifecycle(self):
        name = f"invoice.paid-{suffix()}"
        et = self.svix.event_type.create(
            EventTypeIn(
                name=name,
                description="An invoice was paid",
                schemas={"1": {"type": "object"}},
                group_name="invoice",
            )
        )
        self.assertEqual(et.name, name)
        self.assertFalse(et.deprecated)
        self.assertFalse(et.archived)
        got = self.svix.event_type.get(name)
        self.assertEqual(got.description, "An invoice was paid")
        self.assertEqual(got.schemas, {"1": {"type": "object"}})
        self.assertIn(name, [e.name for e in self.names()])
        # with_content=false (the SDK's default) leaves the schemas out of the list.
        listed = [e for e in self.names() if e.name == name][0]
        self.assertIsNone(listed.schemas)
        listed = [e for e in self.names(with_content=True) if e.name == name][0]
        self.assertEqual(listed.schemas, {"1": {"type": "object"}})

        up = self.svix.event_type.upsert(name, EventTypeUpsertIn(description="Paid", deprecated=True))
        self.assertEqual(up.description, "Paid")
        self.assertTrue(up.deprecated)
        patched = self.svix.event_type.patch(name, EventTypePatch(description="Paid!"))
        self.assertEqual(patched.description, "Paid!")
        self.assertTrue(patched.deprecated)

        with self.assertRaises(HttpError) as e:
            self.svix.event_type.create(EventTypeIn(name=name, description="again"))
        self.assertEqual(e.exception.status_code, 409)

        # Archive: hidden from the list unless include_archived, still readable.
        self.svix.event_type.delete(name)
        self.assertTrue(self.svix.event_type.get(name).archived)
        self.assertNotIn(name, [e.name for e in self.names()])
        self.assertIn(name, [e.name for e in self.names(include_archived=True)])
        # Creating it again un-archives it (Svix's rule).
        back = self.svix.event_type.create(EventTypeIn(name=name, description="back"))
        self.assertFalse(back.archived)
        self.assertIn(name, [e.name for e in self.names()])

    def test_unknown_event_type_is_404(self):
        with self.assertRaises(HttpError) as e:
            self.svix.event_type.get(f"nope-{suffix()}")
        self.assertEqual(e.exception.status_code, 404)


@unittest.skipUnless(URL and TOKEN, "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN")
class EndpointTests(unittest.TestCase):
    def setUp(self):
        self.svix = client()
        s = suffix()
        self.app = self.svix.application.create(ApplicationIn(name=f"ep {s}", uid=f"ep-{s}"))
        self.types = [f"user.signup-{s}", f"user.deleted-{s}"]
        for t in self.types:
            self.svix.event_type.create(EventTypeIn(name=t, description=t))

    def tearDown(self):
        self.svix.application.delete(self.app.id)
        for t in self.types:
            self.svix.event_type.delete(t)

    def test_endpoint_lifecycle(self):
        a = self.app.id
        ep = self.svix.endpoint.create(
            a,
            EndpointIn(
                url="https://example.com/hook",
                uid="main",
                description="the main one",
                event_types=[self.types[0]],
                channels=["project_1", "group_2"],
                metadata={"team": "billing"},
                throttle_rate=10,
                disabled=True,
            ),
        )
        self.assertTrue(ep.id.startswith("ep_"))
        self.assertEqual(ep.url, "https://example.com/hook")
        self.assertEqual(ep.description, "the main one")
        self.assertEqual(ep.event_types, [self.types[0]])
        self.assertEqual(ep.channels, ["project_1", "group_2"])
        self.assertEqual(ep.metadata, {"team": "billing"})
        self.assertEqual(ep.throttle_rate, 10)
        self.assertTrue(ep.disabled)

        self.assertEqual(self.svix.endpoint.get(a, ep.id).uid, "main")
        self.assertEqual(self.svix.endpoint.get(self.app.uid, "main").id, ep.id)
        listed = self.svix.endpoint.list(a, EndpointListOptions(limit=10))
        self.assertEqual([e.id for e in listed.data], [ep.id])
        self.assertTrue(listed.done)

        up = self.svix.endpoint.upsert(
            a, ep.id, EndpointUpsertIn(url="https://example.com/v2", event_types=self.types)
        )
        self.assertEqual(up.url, "https://example.com/v2")
        self.assertEqual(up.event_types, self.types)
        self.assertFalse(up.disabled)
        self.assertIsNone(up.channels)
        patched = self.svix.endpoint.patch(a, ep.id, EndpointPatch(disabled=True))
        self.assertTrue(patched.disabled)
        self.assertEqual(patched.url, "https://example.com/v2")

        # Secrets: get, rotate (a new one), rotate to a given one.
        first = self.svix.endpoint.get_secret(a, ep.id).key
        self.assertTrue(first.startswith("whsec_"))
        self.svix.endpoint.rotate_secret(a, ep.id, EndpointSecretRotateIn())
        second = self.svix.endpoint.get_secret(a, ep.id).key
        self.assertTrue(second.startswith("whsec_"))
        self.assertNotEqual(first, second)
        mine = "whsec_" + "A" * 32
        self.svix.endpoint.rotate_secret(a, ep.id, EndpointSecretRotateIn(key=mine))
        self.assertEqual(self.svix.endpoint.get_secret(a, ep.id).key, mine)

        # Headers: set, read, patch (add one, remove one).
        self.svix.endpoint.set_headers(
            a, ep.id, EndpointHeadersIn(headers={"X-Tenant": "t1", "X-Trace": "on"})
        )
        h = self.svix.endpoint.get_headers(a, ep.id)
        self.assertEqual(h.headers, {"X-Tenant": "t1", "X-Trace": "on"})
        self.assertEqual(h.sensitive, [])
        self.svix.endpoint.patch_headers(
            a,
            ep.id,
            EndpointHeadersPatchIn(headers={"X-Region": "eu"}, delete_headers=["X-Trace"]),
        )
        h = self.svix.endpoint.get_headers(a, ep.id)
        self.assertEqual(h.headers, {"X-Tenant": "t1", "X-Region": "eu"})

        self.svix.endpoint.delete(a, ep.id)
        with self.assertRaises(HttpError) as e:
            self.svix.endpoint.get(a, ep.id)
        self.assertEqual(e.exception.status_code, 404)

    def test_create_with_headers_and_put_creates(self):
        a = self.app.id
        ep = self.svix.endpoint.create(
            a, EndpointIn(url="https://example.com/h", headers={"X-Api-Key": "k"})
        )
        self.assertEqual(self.svix.endpoint.get_headers(a, ep.id).headers, {"X-Api-Key": "k"})
        # PUT to an endpoint that does not exist creates it (Svix's upsert), with the path as uid.
        made = self.svix.endpoint.upsert(a, "by-put", EndpointUpsertIn(url="https://example.com/p"))
        self.assertEqual(made.uid, "by-put")
        self.assertEqual(self.svix.endpoint.get(a, "by-put").id, made.id)

    def test_ssrf_urls_are_422_on_url(self):
        for url in ["http://10.0.0.1/", "https://10.0.0.1/hook", "http://169.254.169.254/latest"]:
            with self.subTest(url=url):
                with self.assertRaises(HTTPValidationError) as e:
                    self.svix.endpoint.create(self.app.id, EndpointIn(url=url))
                self.assertEqual(e.exception.status_code, 422)
                self.assertEqual(e.exception.detail[0].loc, ["body", "url"])

    def test_unknown_endpoint_is_404(self):
        with self.assertRaises(HttpError) as e:
            self.svix.endpoint.get(self.app.id, "ep_" + "0" * 27)
        self.assertEqual(e.exception.status_code, 404)


@unittest.skipUnless(URL and TOKEN, "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN")
class MessageTests(unittest.TestCase):
    def setUp(self):
        self.svix = client()
        s = suffix()
        self.s = s
        self.app = self.svix.application.create(ApplicationIn(name=f"msg {s}", uid=f"msg-{s}"))
        self.type = f"order.created-{s}"
        self.svix.event_type.create(EventTypeIn(name=self.type, description="x"))

    def tearDown(self):
        self.svix.application.delete(self.app.id)
        self.svix.event_type.delete(self.type)

    def test_message_create_get_list(self):
        a = self.app.id
        payload = {"id": 42, "items": [1, 2], "note": "caf\u00e9"}
        msg = self.svix.message.create(
            a,
            MessageIn(
                event_type=self.type,
                event_id=f"evt-{self.s}",
                payload=payload,
                channels=["eu"],
            ),
            MessageCreateOptions(with_content=True),
        )
        self.assertTrue(msg.id.startswith("msg_"))
        self.assertEqual(msg.payload, payload)
        self.assertEqual(msg.channels, ["eu"])
        self.assertEqual(msg.event_id, f"evt-{self.s}")
        # The SDK's default is with_content=false: the payload is left out.
        bare = self.svix.message.create(a, MessageIn(event_type=self.type, payload={"n": 1}))
        self.assertEqual(bare.payload, {})

        self.assertEqual(self.svix.message.get(a, msg.id).id, msg.id)
        by_event = self.svix.message.get(self.app.uid, f"evt-{self.s}")
        self.assertEqual(by_event.id, msg.id)

        listed = self.svix.message.list(a, MessageListOptions(limit=10, with_content=True))
        ids = [m.id for m in listed.data]
        self.assertEqual(sorted(ids), sorted([msg.id, bare.id]))
        self.assertEqual([m.payload for m in listed.data if m.id == msg.id], [payload])
        self.assertTrue(listed.done)
        # Filters the SDK sends.
        eu = self.svix.message.list(a, MessageListOptions(channel="eu"))
        self.assertEqual([m.id for m in eu.data], [msg.id])
        typed = self.svix.message.list(a, MessageListOptions(event_types=[self.type]))
        self.assertEqual(len(typed.data), 2)
        other = self.svix.message.list(a, MessageListOptions(event_types=["other.type"]))
        self.assertEqual(other.data, [])

    def test_idempotency_key_returns_the_same_message(self):
        a = self.app.id
        key = f"key-{self.s}"
        body = MessageIn(event_type=self.type, payload={"n": 1})
        one = self.svix.message.create(a, body, MessageCreateOptions(idempotency_key=key))
        two = self.svix.message.create(a, body, MessageCreateOptions(idempotency_key=key))
        self.assertEqual(one.id, two.id)
        three = self.svix.message.create(a, body)
        self.assertNotEqual(three.id, one.id)

    def test_repeated_event_id_is_409(self):
        a = self.app.id
        body = MessageIn(event_type=self.type, event_id=f"once-{self.s}", payload={})
        self.svix.message.create(a, body)
        with self.assertRaises(HttpError) as e:
            self.svix.message.create(a, body)
        self.assertEqual(e.exception.status_code, 409)

    def test_message_creates_its_application(self):
        uid = f"implicit-{self.s}"
        msg = self.svix.message.create(
            uid,
            MessageIn(
                event_type=self.type,
                payload={"a": 1},
                application=ApplicationIn(name="made by a message", uid=uid),
            ),
        )
        app = self.svix.application.get(uid)
        self.assertEqual(app.name, "made by a message")
        self.assertEqual(self.svix.message.get(uid, msg.id).id, msg.id)
        self.svix.application.delete(app.id)

    def test_unknown_message_is_404(self):
        with self.assertRaises(HttpError) as e:
            self.svix.message.get(self.app.id, "msg_" + "0" * 27)
        self.assertEqual(e.exception.status_code, 404)


class Sink:
    """An HTTP endpoint on loopback that keeps every POST it receives."""

    def __init__(self):
        self.cond = threading.Condition()
        self.got = []  # (path, headers as a lower-cased dict, body bytes)
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with sink.cond:
                    sink.got.append((self.path, headers, body))
                    sink.cond.notify_all()
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def at(self, name: str, msg_id: str):
        with self.cond:
            return [
                (h, b)
                for (p, h, b) in self.got
                if p == f"/{name}" and h.get("webhook-id", h.get("svix-id")) == msg_id
            ]

    def wait(self, name: str, msg_id: str, count: int = 1):
        return wait_for(
            f"{count} delivery(ies) of {msg_id} at /{name}",
            lambda: (lambda got: got if len(got) >= count else None)(self.at(name, msg_id)),
            cond=self.cond,
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def compact(payload) -> bytes:
    """The bytes the SDK sends for a payload (pydantic's compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@unittest.skipUnless(URL and TOKEN, "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN")
@unittest.skipUnless(DELIVERS, "needs a server that delivers: set HOOKLINE_API_DELIVERS=1")
class DeliveryTests(unittest.TestCase):
    def setUp(self):
        self.svix = client()
        self.sink = Sink()
        s = suffix()
        self.app = self.svix.application.create(ApplicationIn(name=f"dlv {s}", uid=f"dlv-{s}"))
        self.created = f"order.created-{s}"
        self.paid = f"order.paid-{s}"
        for t in (self.created, self.paid):
            self.svix.event_type.create(EventTypeIn(name=t, description=t))
        a = self.app.id
        spec = {
            "all": EndpointIn(url=self.sink.url("all")),
            "created": EndpointIn(url=self.sink.url("created"), event_types=[self.created]),
            "paid": EndpointIn(url=self.sink.url("paid"), event_types=[self.paid]),
            "eu": EndpointIn(url=self.sink.url("eu"), channels=["eu"]),
            "us": EndpointIn(url=self.sink.url("us"), channels=["us"]),
        }
        self.eps = {name: self.svix.endpoint.create(a, body) for name, body in spec.items()}
        self.secret = {
            name: self.svix.endpoint.get_secret(a, ep.id).key for name, ep in self.eps.items()
        }

    def tearDown(self):
        self.svix.application.delete(self.app.id)
        for t in (self.created, self.paid):
            self.svix.event_type.delete(t)
        self.sink.close()

    def send(self, event_type, payload, channels=None):
        return self.svix.message.create(
            self.app.id, MessageIn(event_type=event_type, payload=payload, channels=channels)
        )

    def check_delivery(self, name, msg_id, payload, secret=None):
        [(headers, body)] = self.sink.wait(name, msg_id)[:1]
        Webhook(secret or self.secret[name]).verify(body, headers)
        self.assertEqual(body, compact(payload), name)
        self.assertEqual(headers.get("webhook-id", headers.get("svix-id")), msg_id)
        return headers, body

    def attempts_by_msg(self, msg_id):
        page = self.svix.message_attempt.list_by_msg(
            self.app.id, msg_id, MessageAttemptListByMsgOptions(limit=250)
        )
        return page.data

    def test_fan_out_filters_signatures_attempts_and_resend(self):
        a = self.app.id
        p1 = {"order": 1, "total": "9.99", "tags": ["a", "b"], "who": "Zo\u00eb"}
        m1 = self.send(self.created, p1, channels=["eu"])
        p2 = {"order": 2, "paid": True}
        m2 = self.send(self.paid, p2)
        want = {m1.id: {"all", "created", "eu"}, m2.id: {"all", "paid"}}
        for name in ("all", "created", "eu"):
            self.check_delivery(name, m1.id, p1)
        for name in ("all", "paid"):
            self.check_delivery(name, m2.id, p2)

        # Attempts are recorded once each delivery is answered: by message...
        ep_names = {ep.id: name for name, ep in self.eps.items()}
        for msg_id, names in want.items():
            got = wait_for(
                f"attempts of {msg_id}",
                lambda: (lambda d: d if {ep_names[x.endpoint_id] for x in d} >= names else None)(
                    self.attempts_by_msg(msg_id)
                ),
            )
            self.assertEqual({ep_names[x.endpoint_id] for x in got}, names)
            for at in got:
                self.assertEqual(int(at.status), 0, at)
                self.assertEqual(at.response_status_code, 200)
                self.assertEqual(at.msg_id, msg_id)
        # ...and by endpoint.
        by_ep = self.svix.message_attempt.list_by_endpoint(
            a, self.eps["all"].id, MessageAttemptListByEndpointOptions(limit=250)
        ).data
        self.assertEqual({x.msg_id for x in by_ep}, {m1.id, m2.id})
        self.assertTrue(all(x.response_status_code == 200 and int(x.status) == 0 for x in by_ep))

        # The endpoints whose filter or channels do not match got nothing.
        for msg_id, names in want.items():
            for name in set(self.eps) - names:
                self.assertEqual(self.sink.at(name, msg_id), [], f"{name} got {msg_id}")

        # Resend: a second delivery of the same message id.
        self.svix.message_attempt.resend(a, m1.id, self.eps["created"].id)
        second = self.sink.wait("created", m1.id, count=2)
        Webhook(self.secret["created"]).verify(second[1][1], second[1][0])
        self.assertEqual(second[1][1], compact(p1))
        self.assertEqual(self.sink.at("all", m1.id)[1:], [], "a resend to one endpoint only")

    def test_rotated_secret_signs_new_deliveries(self):
        a = self.app.id
        ep = self.eps["all"]
        old = self.secret["all"]
        self.svix.endpoint.rotate_secret(a, ep.id, EndpointSecretRotateIn(grace_period_seconds=0))
        new = self.svix.endpoint.get_secret(a, ep.id).key
        self.assertNotEqual(new, old)
        p = {"after": "rotation"}
        m = self.send(self.created, p)
        headers, body = self.check_delivery("all", m.id, p, secret=new)
        with self.assertRaises(WebhookVerificationError):
            Webhook(old).verify(body, headers)


if __name__ == "__main__":
    unittest.main()
