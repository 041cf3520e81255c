"""Delivery history, recovery, endpoint health and operational webhooks, end to end, through the
official Python `svix` SDK (svix==2.9.1) against a server that delivers (`hookline dev` or the API
Lambda with the sender behind it):

    tests/api/run.sh target/debug/hookline
    tests/api/run.sh --lambda target/debug/examples/local_url

run.sh sets HOOKLINE_API_URL, HOOKLINE_API_TOKEN, HOOKLINE_API_DELIVERS=1 and HOOKLINE_API_CONFIG
(the server's configuration as JSON: tests/api/dev.toml for dev, the example's own for the Lambda).
The tests read the retry schedule and the `[delivery.auto_disable]` policy from it rather than
repeating them, and check first that the configuration is one they can run against in seconds
(`failing_for = "0s"`, 4xx given up at once, more failures to disable than one message's attempts).

The sinks are loopback HTTP servers in this process whose answer is chosen per path (and per try
of a message at that path); operational webhooks are verified with `svix.webhooks.Webhook`. Waits
poll with a deadline; nothing sleeps a fixed time. The SDK's models drop fields Svix does not
have, so the attempt fields hookline adds (`trigger`, `attempt`, `errorClass`, `nextAttempt`) are
read from the same routes as raw JSON, and each record is also parsed with the SDK's model.
"""

import http.server
import json
import os
import secrets
import socket
import threading
import time
import unittest
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from svix.api import (
    ApplicationIn,
    EndpointGetStatsOptions,
    EndpointIn,
    EndpointPatch,
    EventTypeIn,
    MessageAttemptListAttemptedDestinationsOptions,
    MessageAttemptListAttemptedMessagesOptions,
    MessageAttemptListByEndpointOptions,
    MessageAttemptListByMsgOptions,
    MessageIn,
    OperationalWebhookEndpointIn,
    RecoverIn,
    Svix,
    SvixOptions,
)
from svix.models import (
    BackgroundTaskStatus,
    BackgroundTaskType,
    MessageAttemptOut,
    MessageStatus,
)
from svix.webhooks import Webhook

URL = os.environ.get("HOOKLINE_API_URL", "")
TOKEN = os.environ.get("HOOKLINE_API_TOKEN", "")
DELIVERS = os.environ.get("HOOKLINE_API_DELIVERS") == "1"
CONFIG = os.environ.get("HOOKLINE_API_CONFIG", "")
# How long a delivery, or a history record, may take to appear.
DEADLINE = float(os.environ.get("HOOKLINE_API_DELIVERY_DEADLINE", "30"))

# Svix sends `message.attempt.failing` after this failed attempt, when another is scheduled
# (hookline_core::api::history::FAILING_AFTER_ATTEMPT).
FAILING_AFTER_ATTEMPT = 4
# Statuses after which nothing more happens to a message at an endpoint without a resend or a
# recover: success, fail, canceled (hookline's skipped).
SETTLED = {MessageStatus.SUCCESS, MessageStatus.FAIL, MessageStatus.CANCELED}
# Clock slack between this process and the server (same machine) and for rounding to seconds.
SLACK = timedelta(seconds=1)


def seconds(text: str) -> float:
    """A duration as the configuration writes it ("1s", "500ms", "2m", "0s")."""
    for unit, factor in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * factor
    raise ValueError(f"not a duration: {text!r}")


class Policy:
    """What the tests need to know of the server's configuration."""

    def __init__(self, config: dict):
        try:
            delivery = config["delivery"]
            retry = delivery["retry"]
            schedule = retry["schedule"]
            disable = delivery["auto_disable"]
            failures = disable["failures"]
            failing_for = disable["failing_for"]
        except KeyError as e:
            # The tests need the values written out, not the server's defaults.
            raise SystemExit(
                f"test_history.py: HOOKLINE_API_CONFIG has no {e}: give [delivery] a retry "
                "schedule and [delivery.auto_disable] failures and failing_for"
            ) from e
        # Every try a message gets at an endpoint: the first, then one per scheduled delay.
        self.attempts = len(schedule) + 1
        self.retry_span = sum(seconds(d) for d in schedule)
        self.client_errors_give_up = retry.get("on_client_error") == "give_up"
        self.disable_after = int(failures)
        self.failing_for = seconds(failing_for)
        # Absent, it is the server's default, which disables on 410 (HealthPolicy::DEFAULT).
        self.on_gone = disable.get("on_gone", True)

    def unusable(self):
        """Why the tests cannot run against this configuration, or None."""
        if self.failing_for != 0:
            return "needs [delivery.auto_disable] failing_for = \"0s\""
        if not self.client_errors_give_up:
            return "needs [delivery.retry] on_client_error = \"give_up\" (a 400 fails at once)"
        if not self.on_gone:
            return "needs [delivery.auto_disable] on_gone = true"
        if self.disable_after <= self.attempts:
            return (
                f"needs more failures to disable ({self.disable_after}) than one message's "
                f"attempts ({self.attempts}): one failing message must not disable its endpoint"
            )
        if self.attempts <= FAILING_AFTER_ATTEMPT:
            return f"needs more than {FAILING_AFTER_ATTEMPT} attempts per message (failing)"
        return None


POLICY = Policy(json.loads(CONFIG)) if CONFIG else None
UNUSABLE = (
    "set HOOKLINE_API_URL, HOOKLINE_API_TOKEN, HOOKLINE_API_DELIVERS=1 and HOOKLINE_API_CONFIG "
    "(tests/api/run.sh does)"
    if not (URL and TOKEN and DELIVERS and POLICY)
    else POLICY.unusable()
)
# A configuration the tests cannot use is an error of the runner, not a reason to pass quietly.
if UNUSABLE and CONFIG:
    raise SystemExit(f"test_history.py: HOOKLINE_API_CONFIG: {UNUSABLE}")


def suffix() -> str:
    return secrets.token_hex(4)


def client() -> Svix:
    # No retries: a 5xx must fail the test, not be hidden by the SDK's retry schedule.
    return Svix(TOKEN, SvixOptions(server_url=URL, retry_schedule=[]))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_for(what: str, check, deadline: float = DEADLINE, cond=None):
    """Polls `check` until it returns something truthy, or fails after `deadline` seconds with
    the last value it returned. With `cond`, waits on it between checks (a sink notifies it)."""
    end = time.monotonic() + deadline
    last = None
    while True:
        got = check()
        if got:
            return got
        last = got
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {deadline}s waiting for {what} (last: {last!r})")
        if cond is not None:
            with cond:
                cond.wait(min(left, 0.5))
        else:
            # Server-side records have no notification to wait on.
            time.sleep(min(left, 0.1))


def api_get(path: str, **query):
    """GET /api/v1{path} as raw JSON (the fields the SDK's models leave out)."""
    q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    req = urllib.request.Request(
        f"{URL}/api/v1{path}?{q}",
        headers={"authorization": f"Bearer {TOKEN}", "accept": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """HTTP endpoints on loopback that keep every POST. The answer at `/<name>` is
    `rule(nth, body)` for the nth request of a message id there, or a fixed status (200 unless
    told otherwise); any non-2xx answer's body starts with `boom <status>`."""

    def __init__(self):
        self.cond = threading.Condition()
        self.got = []  # dicts: name, msg_id, headers (lower-case), body, status
        self.rules = {}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                headers = {k.lower(): v for k, v in self.headers.items()}
                name = self.path.lstrip("/")
                msg_id = headers.get("webhook-id", headers.get("svix-id"))
                with sink.cond:
                    nth = 1 + sum(
                        1 for g in sink.got if g["name"] == name and g["msg_id"] == msg_id
                    )
                    rule = sink.rules.get(name, 200)
                    status = rule(nth, body) if callable(rule) else rule
                    sink.got.append(
                        {"name": name, "msg_id": msg_id, "headers": headers, "body": body,
                         "status": status}
                    )
                    sink.cond.notify_all()
                answer = b"ok" if 200 <= status < 300 else f"boom {status}".encode()
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def answer(self, name: str, rule):
        with self.cond:
            self.rules[name] = rule

    def at(self, name: str, msg_id=None):
        with self.cond:
            return [
                g for g in self.got if g["name"] == name and msg_id in (None, g["msg_id"])
            ]

    def wait_ok(self, name: str, msg_ids):
        """Waits until every one of `msg_ids` was answered 2xx at `/<name>`."""
        want = set(msg_ids)

        def check():
            ok = {g["msg_id"] for g in self.at(name) if 200 <= g["status"] < 300}
            missing = want - ok
            return True if not missing else None

        wait_for(f"deliveries of {sorted(want)} at /{name}", check, cond=self.cond)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipIf(UNUSABLE, UNUSABLE or "")
class HistoryCase(unittest.TestCase):
    """An application with one event type and a sink, for each test."""

    def setUp(self):
        self.svix = client()
        self.sink = Sink()
        self.s = suffix()
        self.app = self.svix.application.create(
            ApplicationIn(name=f"history {self.s}", uid=f"history-{self.s}")
        )
        self.type = f"order.paid-{self.s}"
        self.svix.event_type.create(EventTypeIn(name=self.type, description="history"))

    def tearDown(self):
        self.svix.application.delete(self.app.id)
        self.svix.event_type.delete(self.type)
        self.sink.close()

    # --- helpers -------------------------------------------------------------------------

    def endpoint(self, name: str, url=None, **fields):
        return self.svix.endpoint.create(
            self.app.id, EndpointIn(url=url or self.sink.url(name), uid=name, **fields)
        )

    def send(self, payload=None, event_id=None):
        return self.svix.message.create(
            self.app.id,
            MessageIn(event_type=self.type, payload=payload or {"n": 1}, event_id=event_id),
        )

    def attempts(self, msg_id: str, endpoint_id=None, with_content=False):
        """A message's attempts as raw JSON (every field), each also parsed by the SDK's model;
        at one endpoint when given."""
        page = api_get(
            f"/app/{self.app.id}/attempt/msg/{msg_id}",
            limit=250,
            with_content="true" if with_content else "false",
        )
        self.assertTrue(page["done"], "one page holds every attempt of these tests")
        for a in page["data"]:
            MessageAttemptOut.model_validate(a)
        return [a for a in page["data"] if endpoint_id in (None, a["endpointId"])]

    def destination(self, msg_id: str, endpoint_id: str):
        """The message's status at the endpoint (`/msg/{msg}/endpoint`), or None."""
        page = self.svix.message_attempt.list_attempted_destinations(
            self.app.id, msg_id, MessageAttemptListAttemptedDestinationsOptions(limit=250)
        )
        found = [d for d in page.data if d.id == endpoint_id]
        return found[0] if found else None

    def messages_at(self, endpoint_id: str, status=None):
        """The messages of an endpoint with their status there (`/endpoint/{ep}/msg`)."""
        out, iterator = [], None
        while True:
            page = self.svix.message_attempt.list_attempted_messages(
                self.app.id,
                endpoint_id,
                MessageAttemptListAttemptedMessagesOptions(
                    limit=250, iterator=iterator, status=status
                ),
            )
            out.extend(page.data)
            if page.done:
                return out
            iterator = page.iterator

    def wait_statuses(self, endpoint_id: str, want: dict):
        """Waits until each message id in `want` has its status (a set of statuses) at the
        endpoint; returns {msg id: EndpointMessageOut}."""

        def check():
            got = {m.id: m for m in self.messages_at(endpoint_id)}
            if all(i in got and got[i].status in s for i, s in want.items()):
                return got
            return None

        what = {i: sorted(int(x) for x in s) for i, s in want.items()}
        return wait_for(f"statuses {what} at {endpoint_id}", check)

    def wait_disabled(self, endpoint_id: str):
        return wait_for(
            f"{endpoint_id} disabled",
            lambda: self.svix.endpoint.get(self.app.id, endpoint_id).disabled,
        )

    def wait_clock_past(self, t: datetime):
        """Polls the clock until it is past `t` (ids and timestamps are per millisecond)."""
        wait_for(f"the clock past {t}", lambda: utc_now() > t, deadline=2)

    def assert_attempt_numbers(self, attempts):
        """Attempts of one message at one endpoint, by one trigger: numbered 1..n in time order;
        each but the last names when the next was due (at most when it was made), and the last
        names one only while pending. An attempt that failed with a try to come is pending or
        fail (Svix marks the attempt itself failed); the message's status is the one to read."""
        by_number = sorted(attempts, key=lambda a: a["attempt"])
        self.assertEqual([a["attempt"] for a in by_number], list(range(1, len(attempts) + 1)))
        times = [ts(a["timestamp"]) for a in by_number]
        self.assertEqual(times, sorted(times), "attempt numbers follow time")
        for a, after in zip(by_number, by_number[1:]):
            self.assertIn(a["status"], (int(MessageStatus.PENDING), int(MessageStatus.FAIL)), a)
            self.assertIsNotNone(a["nextAttempt"], a)
            due = ts(a["nextAttempt"])
            self.assertGreater(due, ts(a["timestamp"]), a)
            self.assertGreaterEqual(ts(after["timestamp"]) + SLACK, due, (a, after))
        last = by_number[-1]
        if last["status"] == int(MessageStatus.PENDING):
            self.assertIsNotNone(last["nextAttempt"], last)
        else:
            self.assertIsNone(last["nextAttempt"], last)
        return by_number


class AttemptTests(HistoryCase):
    def test_a_failing_endpoint_s_attempts_are_listed_with_status_number_and_error(self):
        down = self.endpoint("down")
        self.sink.answer("down", 500)
        refused = self.endpoint("refused", url=f"http://127.0.0.1:{closed_port()}/refused")
        m = self.send({"order": 1}, event_id=f"evt-{self.s}")

        # Every try is recorded: the 500s with their body's start, the refused ones without a
        # response. One message's tries never reach the auto-disable policy.
        def exhausted(ep):
            got = self.attempts(m.id, ep.id, with_content=True)
            return got if len(got) >= POLICY.attempts else None

        tries = wait_for(f"{POLICY.attempts} attempts at down", lambda: exhausted(down),
                         deadline=DEADLINE + POLICY.retry_span)
        self.assertEqual(len(tries), POLICY.attempts, "no attempt after the last")
        ordered = self.assert_attempt_numbers(tries)
        for a in ordered:
            self.assertEqual(a["responseStatusCode"], 500, a)
            self.assertEqual(a["errorClass"], "status", a)
            self.assertTrue(a["response"].startswith("boom 500"), a)
            self.assertEqual(a["trigger"], "scheduled", a)
            self.assertEqual(a["triggerType"], 0, a)
            self.assertEqual(a["msgId"], m.id)
            self.assertEqual(a["url"], self.sink.url("down"))
        self.assertEqual(ordered[-1]["status"], int(MessageStatus.FAIL), ordered[-1])
        self.assertEqual(ordered[-1]["statusText"], "fail")
        self.assertEqual(len(self.sink.at("down", m.id)), POLICY.attempts)

        refused_tries = wait_for("attempts at refused", lambda: exhausted(refused),
                                 deadline=DEADLINE + POLICY.retry_span)
        for a in self.assert_attempt_numbers(refused_tries):
            self.assertEqual(a["responseStatusCode"], 0, a)
            self.assertEqual(a["errorClass"], "connection", a)
            self.assertIn(a["status"], (int(MessageStatus.PENDING), int(MessageStatus.FAIL)))

        # The message's status at each endpoint, both ways round.
        at_down = wait_for(
            "fail at down",
            lambda: (lambda d: d if d and d.status == MessageStatus.FAIL else None)(
                self.destination(m.id, down.id)
            ),
        )
        self.assertEqual(at_down.status_text, "fail")
        self.assertIsNone(at_down.next_attempt)
        self.assertEqual(at_down.url, self.sink.url("down"))
        self.wait_statuses(refused.id, {m.id: {MessageStatus.FAIL}})
        failed = self.messages_at(down.id, status=MessageStatus.FAIL)
        self.assertEqual([x.id for x in failed], [m.id])
        self.assertEqual(failed[0].event_id, f"evt-{self.s}")
        self.assertEqual(self.messages_at(down.id, status=MessageStatus.SUCCESS), [])

        # The SDK's own lists parse the same records: by message, filtered to one endpoint...
        by_msg = self.svix.message_attempt.list_by_msg(
            self.app.id, m.id, MessageAttemptListByMsgOptions(limit=250, endpoint_id=down.id)
        ).data
        self.assertEqual({x.id for x in by_msg}, {a["id"] for a in tries})
        # ...and by endpoint, with the status filter (the last try at least is failed).
        failed_tries = self.svix.message_attempt.list_by_endpoint(
            self.app.id, down.id,
            MessageAttemptListByEndpointOptions(limit=250, status=MessageStatus.FAIL),
        ).data
        self.assertEqual(
            {x.id for x in failed_tries},
            {a["id"] for a in tries if a["status"] == int(MessageStatus.FAIL)},
        )
        self.assertIn(ordered[-1]["id"], {x.id for x in failed_tries})
        self.assertTrue(all(x.status == MessageStatus.FAIL for x in failed_tries))

    def test_a_failing_message_in_flight_is_pending_with_its_next_attempt(self):
        flaky = self.endpoint("flaky")
        # Fails its first two tries, then succeeds.
        self.sink.answer("flaky", lambda nth, body: 503 if nth <= 2 else 200)
        m = self.send()
        # Between its tries the message is pending at the endpoint, with the next one's time.
        pending = wait_for(
            "pending at flaky",
            lambda: (lambda d: d if d and d.status == MessageStatus.PENDING else None)(
                self.destination(m.id, flaky.id)
            ),
        )
        self.assertEqual(pending.status_text, "pending")
        self.assertIsNotNone(pending.next_attempt)
        self.assertGreater(pending.next_attempt, utc_now() - 2 * SLACK)
        first = min(self.attempts(m.id, flaky.id), key=lambda a: a["attempt"])
        self.assertEqual(first["attempt"], 1)
        self.assertEqual(first["errorClass"], "status")
        self.assertIsNotNone(first["nextAttempt"], first)
        self.sink.wait_ok("flaky", [m.id])
        self.wait_statuses(flaky.id, {m.id: {MessageStatus.SUCCESS}})
        tries = self.assert_attempt_numbers(self.attempts(m.id, flaky.id))
        self.assertEqual([a["responseStatusCode"] for a in tries], [503, 503, 200])
        self.assertEqual([a["errorClass"] for a in tries], ["status", "status", None])
        self.assertEqual(tries[-1]["status"], int(MessageStatus.SUCCESS))


class RecoveryTests(HistoryCase):
    def test_resend_delivers_a_failed_message_as_a_manual_attempt(self):
        ep = self.endpoint("resend")
        # A 400 is given up at once (on_client_error = "give_up"); the resend gets a 200.
        self.sink.answer("resend", lambda nth, body: 400 if nth == 1 else 200)
        m = self.send()
        self.wait_statuses(ep.id, {m.id: {MessageStatus.FAIL}})
        self.svix.message_attempt.resend(self.app.id, m.id, ep.id)
        self.sink.wait_ok("resend", [m.id])
        self.wait_statuses(ep.id, {m.id: {MessageStatus.SUCCESS}})
        tries = self.attempts(m.id, ep.id)
        by_trigger = {a["trigger"]: a for a in tries}
        self.assertEqual(len(tries), 2, tries)
        self.assertEqual(set(by_trigger), {"scheduled", "manual"})
        manual = by_trigger["manual"]
        self.assertEqual(manual["triggerType"], 1)
        self.assertEqual(manual["attempt"], 1, "a resend counts its own tries")
        self.assertEqual(manual["status"], int(MessageStatus.SUCCESS))
        self.assertEqual(by_trigger["scheduled"]["errorClass"], "status")
        self.assertEqual(by_trigger["scheduled"]["status"], int(MessageStatus.FAIL))

    def test_recover_delivers_the_failed_messages_since_a_time_and_no_others(self):
        ep = self.endpoint("recover")
        self.sink.answer("recover", 400)
        old = self.send({"which": "old"})
        self.wait_statuses(ep.id, {old.id: {MessageStatus.FAIL}})
        since = utc_now()
        self.wait_clock_past(since + timedelta(milliseconds=5))
        new = [self.send({"which": f"new {i}"}) for i in range(3)]
        for m in new:
            self.assertGreater(m.timestamp, since)
        self.wait_statuses(ep.id, {m.id: {MessageStatus.FAIL} for m in new})

        self.sink.answer("recover", 200)
        out = self.svix.endpoint.recover(self.app.id, ep.id, RecoverIn(since=since))
        self.assertEqual(out.task, BackgroundTaskType.ENDPOINT_RECOVER)
        self.assertIn(out.status, (BackgroundTaskStatus.RUNNING, BackgroundTaskStatus.FINISHED))
        self.sink.wait_ok("recover", [m.id for m in new])
        got = self.wait_statuses(ep.id, {m.id: {MessageStatus.SUCCESS} for m in new})
        for m in new:
            recovery = [a for a in self.attempts(m.id, ep.id) if a["trigger"] == "recovery"]
            self.assertEqual(len(recovery), 1, recovery)
            self.assertEqual(recovery[0]["status"], int(MessageStatus.SUCCESS))
            self.assertEqual(recovery[0]["triggerType"], 1)
            # The same webhook-id as the first delivery: receivers deduplicate on it.
            ids = {g["headers"].get("webhook-id") for g in self.sink.at("recover", m.id)}
            self.assertEqual(ids, {m.id})
        # The message from before `since` was left alone. Recover enqueues at once, so by the
        # time the three arrived, a fourth would have been on the queue with them.
        self.assertEqual(got[old.id].status, MessageStatus.FAIL)
        self.assertEqual([g["status"] for g in self.sink.at("recover", old.id)], [400])
        self.assertEqual(
            [a["trigger"] for a in self.attempts(old.id, ep.id)], ["scheduled"]
        )

    def test_a_disabled_endpoint_s_messages_are_skipped_then_recovered(self):
        on = self.endpoint("on")
        off = self.endpoint("off")
        self.svix.endpoint.patch(self.app.id, off.id, EndpointPatch(disabled=True))
        since = utc_now()
        self.wait_clock_past(since + timedelta(milliseconds=5))
        sent = [self.send({"n": i}) for i in range(4)]
        # The enabled endpoint gets them; the disabled one records each as skipped (canceled).
        self.sink.wait_ok("on", [m.id for m in sent])
        self.wait_statuses(on.id, {m.id: {MessageStatus.SUCCESS} for m in sent})
        got = self.wait_statuses(off.id, {m.id: {MessageStatus.CANCELED} for m in sent})
        for m in sent:
            self.assertEqual(got[m.id].status_text, "canceled")
            self.assertIsNone(got[m.id].next_attempt)
            self.assertEqual(self.destination(m.id, off.id).status, MessageStatus.CANCELED)
            self.assertEqual(self.destination(m.id, on.id).status, MessageStatus.SUCCESS)
        skipped = self.messages_at(off.id, status=MessageStatus.CANCELED)
        self.assertEqual(sorted(x.id for x in skipped), sorted(m.id for m in sent))
        self.assertEqual(self.sink.at("off"), [], "nothing is sent to a disabled endpoint")

        self.svix.endpoint.patch(self.app.id, off.id, EndpointPatch(disabled=False))
        self.svix.endpoint.recover(self.app.id, off.id, RecoverIn(since=since))
        self.sink.wait_ok("off", [m.id for m in sent])
        self.wait_statuses(off.id, {m.id: {MessageStatus.SUCCESS} for m in sent})
        for m in sent:
            triggers = [a["trigger"] for a in self.attempts(m.id, off.id)]
            self.assertEqual(triggers, ["recovery"], m.id)
        # The enabled endpoint got each message once: recover is per endpoint.
        for m in sent:
            self.assertEqual(len(self.sink.at("on", m.id)), 1)

    def test_stats_count_success_and_fail(self):
        ep = self.endpoint("mixed")
        self.sink.answer("mixed", lambda nth, body: 400 if b'"fail":true' in body else 200)
        good = [self.send({"fail": False, "n": i}) for i in range(3)]
        bad = [self.send({"fail": True, "n": i}) for i in range(2)]
        want = {m.id: {MessageStatus.SUCCESS} for m in good}
        want.update({m.id: {MessageStatus.FAIL} for m in bad})
        self.wait_statuses(ep.id, want)
        stats = self.svix.endpoint.get_stats(self.app.id, ep.id)
        self.assertEqual(
            (stats.success, stats.fail, stats.pending, stats.sending, stats.canceled),
            (3, 2, 0, 0, 0),
        )
        # A period before all of them counts none.
        created = self.app.created_at
        before = self.svix.endpoint.get_stats(
            self.app.id,
            ep.id,
            EndpointGetStatsOptions(
                since=created - timedelta(hours=2), until=created - timedelta(hours=1)
            ),
        )
        self.assertEqual(
            (before.success, before.fail, before.pending, before.sending, before.canceled),
            (0, 0, 0, 0, 0),
        )
        # Another endpoint of the same application counts its own.
        other = self.endpoint("other")
        none = self.svix.endpoint.get_stats(self.app.id, other.id)
        self.assertEqual((none.success, none.fail), (0, 0))


class OpSink:
    """One operational-webhook endpoint for a test class, on a sink of its own."""

    def __init__(self, svix: Svix):
        self.svix = svix
        self.sink = Sink()
        self.endpoint = svix.operational_webhook.endpoint.create(
            OperationalWebhookEndpointIn(url=self.sink.url("op"), uid=f"ops-{suffix()}")
        )
        self.secret = svix.operational_webhook.endpoint.get_secret(self.endpoint.id).key
        assert self.secret.startswith("whsec_"), self.secret

    def events(self, event_type: str, endpoint_id: str, msg_id=None):
        """Every operational webhook of `event_type` about `endpoint_id` received so far, each
        verified against the operational endpoint's secret."""
        out = []
        for g in self.sink.at("op"):
            Webhook(self.secret).verify(g["body"], g["headers"])
            event = json.loads(g["body"])
            data = event.get("data", {})
            if (
                event.get("type") == event_type
                and data.get("endpointId") == endpoint_id
                and msg_id in (None, data.get("msgId"))
            ):
                out.append((g, event))
        return out

    def wait(self, event_type: str, endpoint_id: str, msg_id=None):
        try:
            return wait_for(
                f"{event_type} about {endpoint_id}",
                lambda: self.events(event_type, endpoint_id, msg_id),
                cond=self.sink.cond,
            )
        except AssertionError as e:
            # What did arrive says more than the timeout: a body in another shape, say.
            got = [g["body"][:300] for g in self.sink.at("op")][-5:]
            raise AssertionError(f"{e}; the last operational webhooks received: {got}") from e

    def close(self):
        self.svix.operational_webhook.endpoint.delete(self.endpoint.id)
        self.sink.close()


class OperationalTests(HistoryCase):
    @classmethod
    def setUpClass(cls):
        if UNUSABLE:
            raise unittest.SkipTest(UNUSABLE)
        cls.ops = OpSink(client())

    @classmethod
    def tearDownClass(cls):
        cls.ops.close()

    def assert_event_shape(self, g, event, event_type):
        # Svix's operational webhook body (its OpenAPI `EndpointDisabledEvent` and the others):
        # `type` and `data`, and hookline adds the `timestamp` of Standard Webhooks bodies.
        self.assertLessEqual({"type", "data"}, set(event), event)
        self.assertLessEqual(set(event), {"type", "timestamp", "data"}, event)
        self.assertEqual(event["type"], event_type)
        if "timestamp" in event:
            self.assertLessEqual(ts(event["timestamp"]), utc_now() + SLACK)
        self.assertTrue(g["headers"].get("webhook-id") or g["headers"].get("svix-id"))
        data = event["data"]
        self.assertEqual(data["appId"], self.app.id)
        self.assertEqual(data["appUid"], self.app.uid)
        return data

    def assert_disabled_once(self, ep, started: datetime):
        [(g, event)] = self.ops.wait("endpoint.disabled", ep.id)[:1]
        data = self.assert_event_shape(g, event, "endpoint.disabled")
        self.assertEqual(data["endpointUid"], ep.uid)
        self.assertEqual(data["trigger"], "automatic")
        first = min(ts(a["timestamp"]) for a in self.svix_attempts_at(ep.id))
        fail_since = ts(data["failSince"])
        self.assertGreaterEqual(fail_since, started - SLACK)
        self.assertLessEqual(abs(fail_since - first), 2 * SLACK, (data, first))
        # Exactly once: an operational event enqueued after the disable (this endpoint's
        # `endpoint.updated`) arrives, and still one `endpoint.disabled`.
        self.svix.endpoint.patch(self.app.id, ep.id, EndpointPatch(description="marker"))
        self.ops.wait("endpoint.updated", ep.id)
        self.assertEqual(len(self.ops.events("endpoint.disabled", ep.id)), 1)

    def svix_attempts_at(self, endpoint_id: str):
        page = api_get(f"/app/{self.app.id}/attempt/endpoint/{endpoint_id}", limit=250)
        self.assertTrue(page["done"])
        return page["data"]

    def test_endpoint_writes_send_created_updated_deleted(self):
        ep = self.endpoint("lifecycle")
        [(g, event)] = self.ops.wait("endpoint.created", ep.id)[:1]
        data = self.assert_event_shape(g, event, "endpoint.created")
        self.assertEqual(data["endpointUid"], "lifecycle")
        self.svix.endpoint.patch(self.app.id, ep.id, EndpointPatch(description="changed"))
        [(g, event)] = self.ops.wait("endpoint.updated", ep.id)[:1]
        self.assert_event_shape(g, event, "endpoint.updated")
        self.svix.endpoint.delete(self.app.id, ep.id)
        [(g, event)] = self.ops.wait("endpoint.deleted", ep.id)[:1]
        self.assertEqual(self.assert_event_shape(g, event, "endpoint.deleted")["endpointUid"],
                         "lifecycle")

    def test_fewer_failures_than_the_policy_do_not_disable(self):
        ep = self.endpoint("almost")
        # Each message fails its first try, then succeeds: one failure short of the policy in
        # a row, then a success that ends the run.
        self.sink.answer("almost", lambda nth, body: 500 if nth == 1 else 200)
        sent = [self.send({"n": i}) for i in range(POLICY.disable_after - 1)]
        self.sink.wait_ok("almost", [m.id for m in sent])
        self.wait_statuses(ep.id, {m.id: {MessageStatus.SUCCESS} for m in sent})
        self.assertFalse(self.svix.endpoint.get(self.app.id, ep.id).disabled)
        # The updated event is a marker: anything about this endpoint sent before it is in.
        self.svix.endpoint.patch(self.app.id, ep.id, EndpointPatch(description="marker"))
        self.ops.wait("endpoint.updated", ep.id)
        self.assertEqual(self.ops.events("endpoint.disabled", ep.id), [])

    def test_an_endpoint_failing_per_the_policy_is_disabled_skips_and_recovers(self):
        started = utc_now()
        ep = self.endpoint("dying")
        self.sink.answer("dying", 500)
        # As many messages as the policy's failures: their first tries alone disable it, and
        # their retries then find it disabled.
        first = [self.send({"n": i}) for i in range(POLICY.disable_after)]
        self.wait_disabled(ep.id)
        self.assert_disabled_once(ep, started)
        self.assertGreaterEqual(
            len([a for a in self.svix_attempts_at(ep.id) if a["status"] != 0]),
            POLICY.disable_after,
        )
        # While disabled: new messages are skipped, not sent; the retries of the first ones too.
        later = [self.send({"n": 100 + i}) for i in range(3)]
        skipped = {MessageStatus.CANCELED}
        self.wait_statuses(ep.id, {m.id: skipped for m in later})
        self.wait_statuses(ep.id, {m.id: SETTLED - {MessageStatus.SUCCESS} for m in first})
        for m in later:
            self.assertEqual(self.sink.at("dying", m.id), [], "sent while disabled")
        # Re-enabled and recovered: every message arrives, none is lost.
        self.sink.answer("dying", 200)
        self.svix.endpoint.patch(self.app.id, ep.id, EndpointPatch(disabled=False))
        self.svix.endpoint.recover(self.app.id, ep.id, RecoverIn(since=started))
        every = [m.id for m in first + later]
        self.sink.wait_ok("dying", every)
        self.wait_statuses(ep.id, {i: {MessageStatus.SUCCESS} for i in every})
        self.assertFalse(self.svix.endpoint.get(self.app.id, ep.id).disabled)
        for i in every:
            recovery = [a for a in self.attempts(i, ep.id) if a["trigger"] == "recovery"]
            self.assertEqual([a["status"] for a in recovery], [0], i)

    def test_410_disables_at_once(self):
        started = utc_now()
        ep = self.endpoint("gone")
        self.sink.answer("gone", 410)
        m = self.send()
        self.wait_disabled(ep.id)
        self.assert_disabled_once(ep, started)
        # Finished, not retried: one attempt, and nothing scheduled.
        settled = SETTLED - {MessageStatus.SUCCESS}
        got = self.wait_statuses(ep.id, {m.id: settled})
        self.assertIsNone(got[m.id].next_attempt)
        [a] = self.attempts(m.id, ep.id)
        self.assertEqual(a["responseStatusCode"], 410)
        self.assertEqual(a["errorClass"], "gone")
        self.assertIsNone(a["nextAttempt"], a)
        self.assertEqual(len(self.sink.at("gone", m.id)), 1)

    def test_failing_exhausted_and_recovered_attempt_events(self):
        dead = self.endpoint("dead")
        self.sink.answer("dead", 500)
        back = self.endpoint("back")
        # Fails as long as `failing` is sent for it, then comes back.
        self.sink.answer("back", lambda nth, body: 500 if nth <= FAILING_AFTER_ATTEMPT else 200)
        m = self.send({"n": 1}, event_id=f"evt-{self.s}")

        def check_attempt_event(endpoint_id, event_type, nth):
            [(g, event)] = self.ops.wait(event_type, endpoint_id, m.id)[:1]
            data = self.assert_event_shape(g, event, event_type)
            self.assertEqual(data["msgId"], m.id)
            self.assertEqual(data["msgEventId"], f"evt-{self.s}")
            tries = {a["attempt"]: a for a in self.attempts(m.id, endpoint_id)
                     if a["trigger"] == "scheduled"}
            last = data["lastAttempt"]
            self.assertEqual(last["id"], tries[nth]["id"], (data, tries))
            self.assertEqual(last["responseStatusCode"], tries[nth]["responseStatusCode"])
            self.assertEqual(ts(last["timestamp"]), ts(tries[nth]["timestamp"]))
            return data

        span = DEADLINE + POLICY.retry_span
        wait_for("the last attempt at dead",
                 lambda: len(self.attempts(m.id, dead.id)) >= POLICY.attempts, deadline=span)
        check_attempt_event(dead.id, "message.attempt.failing", FAILING_AFTER_ATTEMPT)
        check_attempt_event(dead.id, "message.attempt.exhausted", POLICY.attempts)
        self.sink.wait_ok("back", [m.id])
        check_attempt_event(back.id, "message.attempt.failing", FAILING_AFTER_ATTEMPT)
        data = check_attempt_event(back.id, "message.attempt.recovered",
                                   FAILING_AFTER_ATTEMPT + 1)
        self.assertEqual(data["lastAttempt"]["responseStatusCode"], 200)
        # Each once; `back` was never exhausted.
        self.svix.endpoint.patch(self.app.id, back.id, EndpointPatch(description="marker"))
        self.ops.wait("endpoint.updated", back.id)
        for endpoint_id, event_type, n in [
            (dead.id, "message.attempt.failing", 1),
            (dead.id, "message.attempt.exhausted", 1),
            (dead.id, "message.attempt.recovered", 0),
            (back.id, "message.attempt.failing", 1),
            (back.id, "message.attempt.recovered", 1),
            (back.id, "message.attempt.exhausted", 0),
        ]:
            self.assertEqual(len(self.ops.events(event_type, endpoint_id, m.id)), n,
                             (endpoint_id, event_type))


if __name__ == "__main__":
    unittest.main()
