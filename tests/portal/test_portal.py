"""The portal (issue 19) in a real headless Chromium against `hookline dev`.

    tests/portal/run.sh target/debug/hookline

(run.sh sets HOOKLINE_BIN and HOOKLINE_PORTAL_WORK and runs this file with the harness venv.)
Everything an application's customer sees comes from an app-portal link made with the official
Python `svix` SDK; the element ids and attributes are the DOM contract of
shared/api/portal/index.html (docs/portal.md). Screenshots of every step are written to
target/artifacts/portal/. With HOOKLINE_UPDATE_SCREENSHOT=1 the journey also writes the README's
picture, docs/img/portal.png (never in CI, so a run does not change the tree).

Waits poll with a deadline (WebDriverWait, harness.wait_for); nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from harness import RECORDER, ROOT, Dev, FramePages, Sink, chromium, wait_for
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from svix.exceptions import HttpError
from svix.api import (
    AppPortalAccessIn,
    ApplicationIn,
    EndpointIn,
    EventTypeIn,
    MessageIn,
    Svix,
    SvixOptions,
)

BINARY = os.environ.get("HOOKLINE_BIN", str(ROOT / "target/debug/hookline"))
ARTIFACTS = ROOT / "target/artifacts/portal"
README_SCREENSHOT = ROOT / "docs/img/portal.png"
UPDATE_SCREENSHOT = os.environ.get("HOOKLINE_UPDATE_SCREENSHOT") == "1"
# How long the page may take to show something (its polling runs every 5 s).
UI_DEADLINE = float(os.environ.get("HOOKLINE_PORTAL_UI_DEADLINE", "20"))
# How long a delivery (and its record in the history) may take.
DELIVERY_DEADLINE = float(os.environ.get("HOOKLINE_PORTAL_DELIVERY_DEADLINE", "30"))

# The catalogue every test shares: event types with an example in their schema, which the
# portal's "send an example" uses (schemas["1"].examples[0]).
INVOICE_EXAMPLE = {"invoiceId": "inv_1042", "amount": 4200, "currency": "EUR",
                   "customer": "cus_7Q2"}
CATALOGUE = {
    "invoice.paid": ("An invoice was paid in full", INVOICE_EXAMPLE),
    "shipment.delivered": ("A parcel reached its recipient",
                           {"shipmentId": "shp_88", "carrier": "DHL", "signedBy": "R. Ortiz"}),
}

# If the portal ever ran markup from data, this is what it would do.
PWN = "window.__pwned=1;document.title='pwned'"


class World:
    """What setUpModule starts and every test uses."""

    work: Path
    own_work = False
    sink: Sink
    allowed: FramePages
    elsewhere: FramePages
    dev: Dev
    svix: Svix
    driver = None


W = World()


def setUpModule():  # noqa: N802 - unittest's name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.console.txt")]:
        old.unlink()
    work = os.environ.get("HOOKLINE_PORTAL_WORK")
    if work:
        W.work = Path(work)
    else:
        W.work = Path(tempfile.mkdtemp(prefix="hookline-portal-"))
        W.own_work = True
    try:
        W.sink = Sink()
        W.allowed = FramePages("allowed")
        W.elsewhere = FramePages("not allowed")
        W.dev = Dev(BINARY, W.work, frame_ancestors=[W.allowed.origin])
        # No retries in the SDK: a 5xx must fail the test, not be hidden.
        W.svix = Svix(W.dev.token, SvixOptions(server_url=W.dev.url, retry_schedule=[]))
        for name, (description, example) in CATALOGUE.items():
            W.svix.event_type.create(EventTypeIn(
                name=name, description=description,
                schemas={"1": {"type": "object", "title": description,
                               "properties": {k: {"type": "integer" if isinstance(v, int)
                                                  else "string"} for k, v in example.items()},
                               "examples": [example]}},
            ))
        W.driver = chromium(W.work)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():  # noqa: N802
    if W.driver is not None:
        try:
            W.driver.quit()
        except WebDriverException:
            pass
        W.driver = None
    for part in ("dev", "sink", "allowed", "elsewhere"):
        if hasattr(W, part):
            getattr(W, part).stop()
    if W.own_work:
        shutil.rmtree(W.work, ignore_errors=True)


# ---- helpers -----------------------------------------------------------------------------------


def suffix() -> str:
    return secrets.token_hex(3)


def api(token: str, method: str, path: str, body=None) -> tuple[int, dict]:
    """One call to the API with `token`, outside the SDK: (status, JSON body or {})."""
    req = urllib.request.Request(
        W.dev.url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else {}
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}


def link_token(link: str) -> str:
    fragment = urllib.parse.urlsplit(link).fragment
    return urllib.parse.parse_qs(fragment)["token"][0]


def portal_link(app_id: str, **access) -> str:
    """An app-portal link for `app_id`, through the SDK, checked to be `{base}/portal/#token=`."""
    out = W.svix.authentication.app_portal_access(app_id, AppPortalAccessIn(**access))
    prefix = f"{W.dev.url}/portal/#token="
    if not out.url.startswith(prefix):
        raise AssertionError(f"app-portal link {out.url!r} does not start with {prefix!r}")
    return out.url


def wait_attempts(app_id: str, ep_id: str, count: int, status: int | None = None) -> list:
    """The endpoint's attempts through the SDK, once there are `count` (of `status`)."""
    def check():
        got = W.svix.message_attempt.list_by_endpoint(app_id, ep_id).data
        if status is not None:
            got = [a for a in got if int(a.status) == status]
        return got if len(got) >= count else None
    return wait_for(f"{count} attempt(s) at {ep_id}", check, DELIVERY_DEADLINE)


class PortalCase(unittest.TestCase):
    """Helpers over the shared Chromium: a fresh tab per link, waits, screenshots."""

    maxDiff = None

    def setUp(self):
        self.d = W.driver
        self.shots = 0
        self.name = self.id().rsplit(".", 1)[-1].removeprefix("test_")
        self.addCleanup(self.finish)

    def finish(self):
        """A last screenshot (the state a failure left) and the browser's console."""
        try:
            self.d.switch_to.default_content()
            self.shot("end")
            lines = [f"{e.get('level')} {e.get('message')}" for e in self.d.get_log("browser")]
            (ARTIFACTS / f"{self.name}.console.txt").write_text("\n".join(lines) + "\n")
        except WebDriverException:
            pass

    # -- navigation
    def fresh_tab(self):
        """A new tab (its own sessionStorage, so no token carries over) with the recorder."""
        old = self.d.window_handles
        self.d.switch_to.new_window("tab")
        new = self.d.current_window_handle
        for handle in old:
            self.d.switch_to.window(handle)
            self.d.close()
        self.d.switch_to.window(new)
        self.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})

    def open(self, url: str):
        self.fresh_tab()
        self.d.get(url)

    def route(self, hash_route: str):
        """Goes to a hash route of the page already open (the token stays in sessionStorage)."""
        self.d.execute_script("location.hash = arguments[0]", hash_route)

    # -- waiting
    def wait(self, what: str, condition, timeout: float = UI_DEADLINE):
        return WebDriverWait(
            self.d, timeout, poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(lambda d: condition(), message=f"waiting for {what}")

    def ready(self, timeout: float = UI_DEADLINE):
        self.wait("body[data-state=ready]", lambda: self.state() == "ready", timeout)

    def state(self):
        return self.d.execute_script(
            "return document.body && document.body.getAttribute('data-state')")

    def shown(self, css: str):
        """The first displayed element matching `css`, or None."""
        for el in self.d.find_elements(By.CSS_SELECTOR, css):
            if el.is_displayed():
                return el
        return None

    def wait_shown(self, css: str, timeout: float = UI_DEADLINE):
        return self.wait(f"{css} to be displayed", lambda: self.shown(css), timeout)

    def text(self, css: str) -> str:
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def attr(self, css: str, name: str):
        return self.d.find_element(By.CSS_SELECTOR, css).get_attribute(name)

    def click(self, css: str):
        el = self.wait_shown(css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.click()

    def chart(self) -> tuple[str | None, str | None]:
        return (self.attr("svg#chart", "data-deliveries"),
                self.attr("svg#chart", "data-failures"))

    def wait_chart(self, deliveries: int, failures: int):
        want = (str(deliveries), str(failures))
        self.wait(f"svg#chart data-deliveries={deliveries} data-failures={failures}",
                  lambda: self.chart() == want, DELIVERY_DEADLINE)

    # -- evidence
    def shot(self, what: str):
        self.shots += 1
        self.d.save_screenshot(str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{what}.png"))

    def recorder(self) -> dict:
        return self.d.execute_script("return window.__hl || {violations: [], states: []}")

    def assert_no_csp_violations(self):
        self.assertEqual(self.recorder()["violations"], [],
                         "the portal broke its own Content-Security-Policy")

    def assert_nothing_injected(self):
        """Nothing from data ran (see PWN) or became an element."""
        found = self.d.execute_script("""
            const own = (s) => s.src && new URL(s.src).origin === location.origin
                && new URL(s.src).pathname.startsWith('/portal/');
            return {
              pwned: window.__pwned === undefined ? null : String(window.__pwned),
              titled: document.title.includes('pwned'),
              imgX: document.querySelectorAll('img[src="x"]').length,
              handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
              foreignScripts: [...document.scripts].filter((s) => !own(s)).length,
              iframes: document.querySelectorAll('iframe').length,
              sinkMarkup: document.querySelectorAll('#sink-markup').length,
            };""")
        self.assertEqual(found, {"pwned": None, "titled": False, "imgX": 0, "handlers": 0,
                                 "foreignScripts": 0, "iframes": 0, "sinkMarkup": 0})

    # -- the portal's pages
    def open_endpoint(self, app_id: str, ep_id: str):
        self.route(f"#/app/{app_id}/endpoint/{ep_id}")
        self.wait(f"#endpoint-detail[data-endpoint-id={ep_id}]",
                  lambda: self.shown(f'#endpoint-detail[data-endpoint-id="{ep_id}"]'))
        self.ready()

    def attempt_rows(self, status: int | None = None):
        css = "#attempts tr[data-attempt-id]"
        if status is not None:
            css += f'[data-status="{status}"]'
        return self.d.find_elements(By.CSS_SELECTOR, css)


def endpoint_for(app_id: str, path: str, **fields) -> str:
    """An endpoint at the sink's `path`, made through the SDK; its id."""
    return W.svix.endpoint.create(app_id, EndpointIn(url=W.sink.url(path), **fields)).id


# ---- 1. the journey ----------------------------------------------------------------------------


class Journey(PortalCase):
    def test_journey(self):
        """Link → create an endpoint → example delivered → endpoint breaks → fails → fixed →
        resend → success, with the chart following."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name="Acme Logistics",
                                                      uid=f"acme-logistics-{s}"))
        link = portal_link(app.id)

        self.open(link)
        self.ready()
        self.wait("#whoami to name the application", lambda: app.name in self.text("#whoami"))
        self.assertNotIn("token=", self.d.current_url, "the token stayed in the address bar")
        self.assertEqual(
            self.d.execute_script("return sessionStorage.getItem('hookline.portal.token')"),
            link_token(link))
        self.assertIsNone(self.shown("#apps"), "a customer sees an application picker")
        self.assertEqual(self.d.find_elements(By.CSS_SELECTOR, "a[data-app-id]"), [])
        self.shot("opened")

        # Create an endpoint in the form, subscribed to one event type of the catalogue.
        path = f"/hooks/acme-{s}"
        url = W.sink.url(path)
        if self.shown("#nav-endpoints"):
            self.click("#nav-endpoints")
        self.click("#endpoint-new")
        self.wait_shown("#endpoint-form")
        self.d.find_element(By.CSS_SELECTOR, "#ep-url").send_keys(url)
        self.d.find_element(By.CSS_SELECTOR, "#ep-description").send_keys("Billing events")
        box = self.wait_shown('#endpoint-form input[name=eventTypes][value="invoice.paid"]')
        box.click()
        self.shot("form")
        self.click("#ep-save")

        def created():
            detail = self.shown("#endpoint-detail[data-endpoint-id]")
            if detail:
                return detail.get_attribute("data-endpoint-id")
            for row in self.d.find_elements(By.CSS_SELECTOR, "#endpoints [data-endpoint-id]"):
                if row.find_element(By.CSS_SELECTOR, ".ep-url").text == url:
                    return row.get_attribute("data-endpoint-id")
            return None
        ep_id = self.wait("the new endpoint (its detail or its row)", created)
        ep = W.svix.endpoint.get(app.id, ep_id)
        self.assertEqual((ep.url, ep.description, ep.event_types),
                         (url, "Billing events", ["invoice.paid"]))
        self.route(f"#/app/{app.id}/endpoints")
        self.ready()
        row = self.wait_shown(f'#endpoints [data-endpoint-id="{ep_id}"]')
        self.assertEqual(row.find_element(By.CSS_SELECTOR, ".ep-url").text, url)
        self.assertEqual(row.find_element(By.CSS_SELECTOR, ".ep-state").text.strip(), "enabled")
        self.open_endpoint(app.id, ep_id)

        # The secret, revealed in the page, is the one the SDK reads (and will sign with).
        self.click("#secret-reveal")
        secret = self.wait("#secret-value", lambda: (t := self.text("#secret-value").strip())
                           .startswith("whsec_") and t)
        self.assertEqual(secret, W.svix.endpoint.get_secret(app.id, ep_id).key)
        self.wait_chart(0, 0)
        self.shot("endpoint")

        # Send an example: it arrives signed, and its attempt appears without a reload.
        Select(self.wait_shown("#example-type")).select_by_value("invoice.paid")
        self.click("#example-send")
        self.wait("a #toast about the example", lambda: self.text("#toast").strip())
        first = wait_for("the example at the sink", lambda: W.sink.received(path),
                         DELIVERY_DEADLINE)[0]
        self.assertEqual(W.sink.verify(first, secret), INVOICE_EXAMPLE)
        self.wait('#attempts tr[data-status="0"]', lambda: len(self.attempt_rows(0)) == 1,
                  DELIVERY_DEADLINE)
        self.assertIn("200", self.attempt_rows(0)[0].find_element(By.CSS_SELECTOR,
                                                                  ".at-code").text)
        self.wait_chart(1, 0)
        self.shot("delivered")

        # Break the endpoint: the next example fails, with the code and the response's text.
        W.sink.break_path(path)
        self.click("#example-send")
        failed = wait_for("a 500 at the sink",
                          lambda: [r for r in W.sink.received(path) if r["status"] == 500],
                          DELIVERY_DEADLINE)[0]
        msg_id = failed["headers"]["webhook-id"]

        def failed_row():
            for row in self.attempt_rows(2):
                if row.find_element(By.CSS_SELECTOR, ".at-code").text.strip() == "500":
                    return row
            return None
        row = self.wait('#attempts tr[data-status="2"] with .at-code 500', failed_row,
                        DELIVERY_DEADLINE)
        response = row.find_element(By.CSS_SELECTOR, ".at-response").get_attribute("textContent")
        self.assertIn("down for maintenance", response)
        self.assertIn('<b id=\\"sink-markup\\">retry later</b>', response,
                      "the response excerpt is not shown as literal text")
        self.assert_nothing_injected()
        # The sender gives up after its one retry (dev.toml): then the message has failed.
        wait_for(f"{msg_id} to fail for good", lambda: any(
            int(d.status) == 2 and d.next_attempt is None
            for d in W.svix.message_attempt.list_attempted_destinations(app.id, msg_id).data
        ), DELIVERY_DEADLINE)
        failures = len([r for r in W.sink.received(path) if r["status"] == 500])
        self.assertGreaterEqual(failures, 2, "the failed example was not retried")
        self.wait_chart(1, failures)
        self.shot("failed")

        # Fix it and resend the failed message from its attempt row.
        W.sink.fix_path(path)
        button = self.wait(
            f"a resend button for {msg_id}",
            lambda: self.shown(f'#attempts tr[data-status="2"] button.resend[data-msg-id="{msg_id}"]'))
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        resent = wait_for("the resent message at the sink", lambda: [
            r for r in W.sink.received(path)
            if r["status"] == 200 and r["headers"].get("webhook-id") == msg_id
        ], DELIVERY_DEADLINE)[0]
        self.assertEqual(W.sink.verify(resent, secret), INVOICE_EXAMPLE)
        self.wait('a second #attempts tr[data-status="0"]',
                  lambda: len(self.attempt_rows(0)) == 2, DELIVERY_DEADLINE)
        self.wait_chart(2, failures)
        self.assertEqual(len(self.attempt_rows()), 2 + failures)
        self.assert_no_csp_violations()
        self.shot("resent")

        if UPDATE_SCREENSHOT:
            self.readme_screenshot(app.id, ep_id, path)

    def readme_screenshot(self, app_id: str, ep_id: str, path: str):
        """docs/img/portal.png: this endpoint's detail at 1280x800 (its chart and its latest
        attempts), after a little more traffic so the chart has something to show."""
        for i in range(6):
            W.svix.message.create(app_id, MessageIn(
                event_type="invoice.paid",
                payload=dict(INVOICE_EXAMPLE, invoiceId=f"inv_{1043 + i}")))
        wait_attempts(app_id, ep_id, 2 + 6, status=0)
        # Exactly 1280x800 of page (a window of that size has less: headless Chromium keeps
        # room for its toolbar).
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        self.addCleanup(self.d.execute_cdp_cmd, "Emulation.clearDeviceMetricsOverride", {})
        self.route(f"#/app/{app_id}/endpoints")
        self.ready()
        self.open_endpoint(app_id, ep_id)
        self.wait_chart(8, len([r for r in W.sink.received(path) if r["status"] == 500]))
        self.wait("the last toast to fade", lambda: self.d.execute_script(
            "return getComputedStyle(document.getElementById('toast')).opacity === '0'"), 15)
        # The chart at the top, the first attempts at the bottom (README's alt text: "an
        # endpoint, its chart and its attempts"); the pointer away from every control.
        self.d.execute_script("""
            for (const el of document.querySelectorAll('*')) el.scrollLeft = 0;
            const chart = document.querySelector('svg#chart').getBoundingClientRect();
            window.scrollTo(0, Math.max(0, chart.top + scrollY - 68));
            document.activeElement.blur();""")
        self.d.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 0, "y": 0})
        first_row = self.d.execute_script(
            "return document.querySelector('#attempts tr[data-attempt-id]')"
            ".getBoundingClientRect().bottom")
        self.assertLess(first_row, 800, "no attempt in the README's picture")
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        self.d.save_screenshot(str(README_SCREENSHOT))


# ---- 2. security in the browser ----------------------------------------------------------------


class Security(PortalCase):
    def test_markup_in_data_is_inert_text(self):
        """A payload, custom headers and a description full of markup are shown as text and run
        nothing."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Markup Co {s}"))
        payload = {
            "img": f"<img src=x onerror={PWN}>",
            "script": f"<script>{PWN}</script>",
            "breakout": f"\"><svg onload={PWN}>",
            "nested": {"frame": "</pre><iframe src=javascript:alert(1)></iframe>"},
        }
        path = f"/hooks/markup-{s}"
        ep_id = endpoint_for(app.id, path, description=f"<img src=x onerror={PWN}>",
                             headers={"X-Note": f"\"><script>{PWN}</script>",
                                      "X-Img": f"<img src=x onerror={PWN}>"})
        msg = W.svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload=payload))
        wait_attempts(app.id, ep_id, 1)

        self.open(portal_link(app.id))
        self.ready()

        self.route(f"#/app/{app.id}/msg/{msg.id}")
        self.wait_shown("#message-detail")
        self.ready()
        shown = self.wait("#msg-payload", lambda: "onerror" in self.text("#msg-payload")
                          and self.text("#msg-payload"))
        for literal in (f"<img src=x onerror={PWN}>", f"<script>{PWN}</script>",
                        f"><svg onload={PWN}>", "</pre><iframe src=javascript:alert(1)></iframe>"):
            self.assertIn(literal, shown, "the payload is not shown as literal text")
        self.assertEqual(json.loads(shown), payload, "#msg-payload is not the payload's JSON")
        self.assert_nothing_injected()
        self.shot("payload")

        self.route(f"#/app/{app.id}/endpoints")
        self.ready()
        self.wait_shown(f'#endpoints [data-endpoint-id="{ep_id}"]')
        self.assert_nothing_injected()

        self.open_endpoint(app.id, ep_id)
        headers = self.wait("#ep-headers", lambda: "X-Note" in self.text("#ep-headers")
                            and self.text("#ep-headers"))
        self.assertIn(f"\"><script>{PWN}</script>", headers)
        self.assertIn(f"<img src=x onerror={PWN}>", headers)
        self.assert_nothing_injected()
        self.shot("headers")

        self.route(f"#/app/{app.id}/messages")
        self.wait_shown(f'#messages tr[data-msg-id="{msg.id}"]')
        self.assert_nothing_injected()
        self.assert_no_csp_violations()

    def test_expired_link_shows_expired(self):
        """A link past its expiry shows #expired and nothing of the application."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Expired Co {s}"))
        url = W.sink.url(f"/hooks/expired-{s}")
        endpoint_for(app.id, f"/hooks/expired-{s}")
        link = portal_link(app.id, expiry=1)
        token = link_token(link)

        def refused_as_expired():
            status, body = api(token, "GET", "/api/v1/auth/session")
            return status == 401 and body.get("code") == "token_expired"
        wait_for("the API to refuse the token as expired", refused_as_expired, 10)

        self.open(link)
        expired = self.wait_shown("#expired")
        self.assertIn("expired", expired.text.lower())
        self.assertNotIn(url, self.d.page_source)
        self.assertNotIn(app.name, self.d.page_source)
        self.assertEqual(self.d.find_elements(By.CSS_SELECTOR, "[data-endpoint-id]"), [])
        self.shot("expired")

    def test_link_expiring_while_open(self):
        """An open page whose link expires says so at its next refresh."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Soon Expired Co {s}"))
        ep_id = endpoint_for(app.id, f"/hooks/soon-{s}")
        lifetime = 8
        link = portal_link(app.id, expiry=lifetime)
        issued = time.monotonic()
        self.open(link)
        self.ready()
        self.open_endpoint(app.id, ep_id)
        self.assertLess(time.monotonic() - issued, lifetime,
                        f"the portal took over {lifetime}s to open: cannot see it expire")
        self.shot("before")
        self.wait_shown("#expired", lifetime + UI_DEADLINE)
        self.shot("expired")

    def test_other_application_is_refused(self):
        """App A's link shows nothing of app B, whatever the route; a garbage token is denied."""
        s = suffix()
        a = W.svix.application.create(ApplicationIn(name=f"Tenant A {s}"))
        b = W.svix.application.create(ApplicationIn(name=f"Tenant B {s}"))
        b_path = f"/hooks/tenant-b-secret-{s}"
        b_ep = endpoint_for(b.id, b_path)
        b_msg = W.svix.message.create(b.id, MessageIn(
            event_type="invoice.paid", payload={"tenantBSecret": f"b-only-{s}"}))
        wait_attempts(b.id, b_ep, 1)
        link = portal_link(a.id)
        status, body = api(link_token(link), "GET", f"/api/v1/app/{b.id}/endpoint")
        self.assertEqual((status, body.get("code")), (403, "insufficient_access"))

        self.open(link)
        self.ready()
        self.wait("#whoami to name A", lambda: a.name in self.text("#whoami"))
        for route in (f"#/app/{b.id}/endpoints", f"#/app/{b.id}/endpoint/{b_ep}",
                      f"#/app/{b.id}/messages", f"#/app/{b.id}/msg/{b_msg.id}"):
            with self.subTest(route=route):
                # Back to A first, so the #error waited for is this route's.
                self.route(f"#/app/{a.id}/endpoints")
                self.wait("A's endpoints, no #error", lambda: self.shown("#endpoint-new")
                          and not self.shown("#error"))
                self.ready()
                self.route(route)
                self.wait_shown("#error")
                page = self.d.page_source
                for secret in (b_path, W.sink.url(b_path), b.name, f"b-only-{s}"):
                    self.assertNotIn(secret, page, f"{route} shows B's data")
                self.assertEqual(
                    self.d.find_elements(By.CSS_SELECTOR,
                                         "[data-endpoint-id] .ep-url, tr[data-msg-id]"), [])
                self.shot("other-app")

        self.open(f"{W.dev.url}/portal/#token=hl_not-a-real-token-{s}")
        self.wait_shown("#denied")
        self.assertNotIn(a.name, self.d.page_source)
        self.shot("garbage-token")

    def test_sign_out_forgets_the_token(self):
        """Sign out ends the portal token on the server too: the same link is then refused."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Sign Out Co {s}"))
        link = portal_link(app.id)
        self.open(link)
        self.ready()
        self.click("#signout")
        self.wait("the token gone from sessionStorage", lambda: self.d.execute_script(
            "return sessionStorage.getItem('hookline.portal.token') === null"))
        self.assertEqual(api(link_token(link), "GET", "/api/v1/auth/session")[0], 401)
        self.open(link)
        self.wait("#denied or #expired", lambda: self.shown("#denied") or self.shown("#expired"))
        self.assertNotIn(app.name, self.d.page_source)

    def test_framing_only_by_allowed_origin(self):
        """The origin in [api.portal] frame_ancestors may embed the portal; another may not."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Framed Co {s}"))
        link = portal_link(app.id)
        with urllib.request.urlopen(f"{W.dev.url}/portal/", timeout=10) as r:
            csp = r.headers.get("Content-Security-Policy", "")
        self.assertIn(f"frame-ancestors {W.allowed.origin}", csp)

        self.open(W.allowed.page(link))
        self.d.switch_to.frame(self.wait_shown("iframe#portal"))
        self.ready()
        self.wait("#whoami in the frame", lambda: app.name in self.text("#whoami"))
        self.d.switch_to.default_content()
        self.shot("allowed")

        self.open(W.elsewhere.page(link))
        self.d.switch_to.frame(self.wait_shown("iframe#portal"))
        # Chromium replaces a refused frame's document with its error page.
        self.wait("the frame to be refused", lambda: self.d.execute_script(
            "return location.href").startswith("chrome-error://"))
        self.assertEqual(self.d.find_elements(By.CSS_SELECTOR, "#whoami"), [])
        self.assertNotIn(app.name, self.d.page_source)
        self.d.switch_to.default_content()
        self.shot("refused")
        log = " ".join(e.get("message", "") for e in self.d.get_log("browser"))
        self.assertIn("frame-ancestors", log, "Chromium did not report the refused frame")


# ---- what the portal does beyond the journey -----------------------------------------------------


class Views(PortalCase):
    def confirm_if_asked(self):
        """Accepts the confirmation a destructive button may open (a native dialog, opened in the
        click's handler, so already open when the click returns)."""
        ok = self.shown("dialog[open] [type=submit]")
        if ok:
            ok.click()

    def message_rows(self) -> set[str]:
        return {r.get_attribute("data-msg-id")
                for r in self.d.find_elements(By.CSS_SELECTOR, "#messages tr[data-msg-id]")}

    def test_endpoint_management(self):
        """Edit, disable and enable, rotate the secret (the next delivery is signed with the new
        one) and delete, each checked through the SDK."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Manage Co {s}"))
        path = f"/hooks/manage-{s}"
        ep_id = endpoint_for(app.id, path, description="Before")
        self.open(portal_link(app.id))
        self.ready()
        self.open_endpoint(app.id, ep_id)

        self.click("#ep-edit")
        self.wait_shown("#endpoint-form")
        description = self.d.find_element(By.CSS_SELECTOR, "#ep-description")
        description.clear()
        description.send_keys("After")
        self.click('#endpoint-form input[name=eventTypes][value="shipment.delivered"]')
        self.click("#ep-save")
        self.wait("#endpoint-form to close", lambda: self.shown("#endpoint-form") is None)
        wait_for("the edit through the API", lambda: (
            (e := W.svix.endpoint.get(app.id, ep_id)).description == "After"
            and e.event_types == ["shipment.delivered"]), UI_DEADLINE)

        self.wait("#ep-toggle: Disable", lambda: self.text("#ep-toggle").strip() == "Disable")
        self.click("#ep-toggle")
        self.confirm_if_asked()
        wait_for("the endpoint disabled", lambda: W.svix.endpoint.get(app.id, ep_id).disabled,
                 UI_DEADLINE)
        self.wait("#ep-toggle: Enable", lambda: self.text("#ep-toggle").strip() == "Enable")
        self.route(f"#/app/{app.id}/endpoints")
        self.ready()
        row = self.wait_shown(f'#endpoints [data-endpoint-id="{ep_id}"]')
        self.assertEqual(row.find_element(By.CSS_SELECTOR, ".ep-state").text.strip(), "disabled")
        self.shot("disabled")
        self.open_endpoint(app.id, ep_id)
        self.click("#ep-toggle")
        self.confirm_if_asked()
        wait_for("the endpoint enabled", lambda: not W.svix.endpoint.get(app.id, ep_id).disabled,
                 UI_DEADLINE)

        self.click("#secret-reveal")
        before = self.wait("#secret-value", lambda: (t := self.text("#secret-value").strip())
                           .startswith("whsec_") and t)
        self.click("#secret-rotate")
        self.confirm_if_asked()
        after = wait_for("a new secret", lambda: (k := W.svix.endpoint.get_secret(app.id, ep_id)
                                                  .key) != before and k, UI_DEADLINE)

        def shows_new_secret():
            if not self.shown("#secret-value"):
                self.click("#secret-reveal")
            return self.text("#secret-value").strip() == after
        self.wait("#secret-value to show the new secret", shows_new_secret)
        Select(self.wait_shown("#example-type")).select_by_value("svix.ping")
        self.click("#example-send")
        got = wait_for("svix.ping at the sink", lambda: W.sink.received(path),
                       DELIVERY_DEADLINE)[0]
        self.assertEqual(W.sink.verify(got, after), {"success": True})
        self.shot("rotated")

        self.click("#ep-delete")
        self.confirm_if_asked()

        def gone():
            try:
                W.svix.endpoint.get(app.id, ep_id)
            except HttpError as e:
                return e.status_code == 404
            return False
        wait_for("the endpoint deleted", gone, UI_DEADLINE)
        self.route(f"#/app/{app.id}/endpoints")
        self.wait_shown("#endpoint-new")
        self.ready()
        self.assertEqual(
            self.d.find_elements(By.CSS_SELECTOR, f'[data-endpoint-id="{ep_id}"]'), [])
        self.assert_no_csp_violations()

    def test_message_filters(self):
        """Messages filtered by endpoint, event type, status and time."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Filters Co {s}"))
        ok_ep = endpoint_for(app.id, f"/hooks/filters-ok-{s}")
        bad_path = f"/hooks/filters-bad-{s}"
        W.sink.break_path(bad_path)
        bad_ep = endpoint_for(app.id, bad_path, event_types=["shipment.delivered"])
        paid = W.svix.message.create(app.id, MessageIn(
            event_type="invoice.paid", payload=INVOICE_EXAMPLE)).id
        shipped = W.svix.message.create(app.id, MessageIn(
            event_type="shipment.delivered", payload=CATALOGUE["shipment.delivered"][1])).id
        wait_attempts(app.id, ok_ep, 2, status=0)
        wait_for(f"{shipped} to fail for good at the broken endpoint", lambda: any(
            d.id == bad_ep and int(d.status) == 2 and d.next_attempt is None
            for d in W.svix.message_attempt.list_attempted_destinations(app.id, shipped).data
        ), DELIVERY_DEADLINE)

        self.open(portal_link(app.id))
        self.ready()
        everything = f"#/app/{app.id}/messages"
        day = "new Date(Date.now() + arguments[0] * 864e5 - new Date().getTimezoneOffset() * 6e4)"
        cases = [
            ({"#f-event-type": "shipment.delivered"}, {shipped}),
            ({"#f-endpoint": bad_ep, "#f-status": "2"}, {shipped}),
            ({"#f-endpoint": bad_ep, "#f-status": "0"}, set()),
            ({"#f-endpoint": ok_ep, "#f-status": "0", "#f-event-type": "invoice.paid"}, {paid}),
            ({"#f-since": +1}, set()),
            ({"#f-until": -1}, set()),
            ({"#f-since": -1, "#f-until": +1, "#f-event-type": "invoice.paid"}, {paid}),
        ]
        for filters, want in cases:
            with self.subTest(filters=filters):
                self.route(everything)
                self.wait("every message", lambda: self.message_rows() == {paid, shipped})
                self.ready()
                for css, value in filters.items():
                    if css in ("#f-since", "#f-until"):
                        # datetime-local, in the browser's time zone: a day away.
                        self.d.execute_script(
                            f"document.querySelector(arguments[1]).value = "
                            f"{day}.toISOString().slice(0, 16)", value, css)
                    else:
                        Select(self.wait_shown(css)).select_by_value(value)
                view = self.d.find_element(By.CSS_SELECTOR, "#messages-view")
                self.click("#f-apply")
                self.wait("the filtered view", lambda: not self.is_attached(view))
                self.ready()
                self.wait(f"messages {sorted(want)}", lambda: self.message_rows() == want)
                if filters.get("#f-status") == "2":
                    status = self.text(f'#messages tr[data-msg-id="{shipped}"] .msg-status')
                    self.assertIn("fail", status.lower())
                    self.shot("failed-at-endpoint")

        self.route(everything)
        self.wait("every message", lambda: self.message_rows() == {paid, shipped})
        self.click(f'#messages tr[data-msg-id="{shipped}"] a')
        self.wait_shown("#message-detail")
        self.ready()
        rows = self.wait("both attempts of the message", lambda: len(
            rows := self.d.find_elements(By.CSS_SELECTOR, "#msg-attempts tr[data-status]")) >= 3
            and rows)
        self.assertEqual(sorted({r.get_attribute("data-status") for r in rows}), ["0", "2"])
        self.assertTrue(self.shown(f'#message-detail button.resend[data-endpoint-id="{bad_ep}"]'))
        self.shot("message")
        W.sink.fix_path(bad_path)

    def is_attached(self, element) -> bool:
        try:
            element.is_enabled()
            return True
        except StaleElementReferenceException:
            return False

    def test_view_only_link(self):
        """A link with only ViewBase shows the data and no control that changes anything; the
        API refuses the change anyway."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Read Only Co {s}"))
        ep_id = endpoint_for(app.id, f"/hooks/view-only-{s}")
        W.svix.message.create(app.id, MessageIn(event_type="invoice.paid",
                                                payload=INVOICE_EXAMPLE))
        wait_attempts(app.id, ep_id, 1)
        link = portal_link(app.id, capabilities=["ViewBase"])
        status, _ = api(link_token(link), "POST", f"/api/v1/app/{app.id}/endpoint",
                        {"url": W.sink.url(f"/hooks/view-only-new-{s}")})
        self.assertEqual(status, 403)

        self.open(link)
        self.ready()
        self.route(f"#/app/{app.id}/endpoints")
        self.wait_shown(f'#endpoints [data-endpoint-id="{ep_id}"]')
        self.ready()
        self.assertIsNone(self.shown("#endpoint-new"))
        self.open_endpoint(app.id, ep_id)
        self.wait("the attempt", lambda: self.attempt_rows(0))
        for control in ("#ep-edit", "#ep-toggle", "#ep-delete", "#secret-reveal",
                        "#secret-rotate", "#example-send", "#recover", "button.resend"):
            self.assertIsNone(self.shown(control), f"{control} shown to a ViewBase link")
        self.shot("view-only")


# ---- 3. what a person notices ------------------------------------------------------------------


class Quality(PortalCase):
    def busy_endpoint(self, name: str) -> tuple[str, str, str]:
        """An application with an endpoint (a long URL) that has one delivered message."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"{name} {s}"))
        path = (f"/hooks/a-rather-long-path-that-would-not-fit-a-narrow-window-{s}"
                "?tenant=acme-logistics-eu-west-1&format=json")
        ep_id = endpoint_for(app.id, path, description="Orders and invoices")
        W.svix.message.create(app.id, MessageIn(event_type="invoice.paid",
                                                payload=INVOICE_EXAMPLE))
        wait_attempts(app.id, ep_id, 1)
        return app.id, ep_id, portal_link(app.id)

    def test_narrow_window(self):
        """At 420 px the endpoint detail and the messages fit: nothing scrolls the page sideways."""
        app_id, ep_id, link = self.busy_endpoint("Narrow Co")
        self.open("about:blank")
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 420, "height": 860, "deviceScaleFactor": 1, "mobile": False})
        self.addCleanup(self.d.execute_cdp_cmd, "Emulation.clearDeviceMetricsOverride", {})
        self.d.get(link)
        self.ready()
        self.assertEqual(self.d.execute_script("return innerWidth"), 420)
        self.open_endpoint(app_id, ep_id)
        self.wait("an attempt row", lambda: self.attempt_rows(0))
        self.wait_shown("svg#chart")
        self.assert_fits("endpoint detail")
        for control in ("#example-send", "#secret-reveal", "#ep-edit"):
            right = self.d.execute_script(
                "return document.querySelector(arguments[0]).getBoundingClientRect().right",
                control)
            self.assertLessEqual(right, 421, f"{control} is off screen at 420 px")
        self.shot("endpoint-420")
        self.route(f"#/app/{app_id}/messages")
        self.wait_shown("#messages tr[data-msg-id]")
        self.ready()
        self.assert_fits("messages")
        self.shot("messages-420")

    def assert_fits(self, what: str):
        width, inner = self.d.execute_script(
            "return [document.documentElement.scrollWidth, innerWidth]")
        self.assertLessEqual(width, inner + 1, f"the {what} overflows sideways at {inner} px")

    def test_keyboard(self):
        """Tab reaches #endpoint-new with a visible focus ring; Enter opens the form; Esc
        closes it."""
        app_id, _, link = self.busy_endpoint("Keyboard Co")
        self.open(link)
        self.ready()
        self.route(f"#/app/{app_id}/endpoints")
        self.ready()
        self.wait_shown("#endpoint-new")
        self.d.execute_script("document.activeElement && document.activeElement.blur()")
        actions = ActionChains(self.d)
        for _ in range(60):
            if self.d.execute_script("return document.activeElement.id") == "endpoint-new":
                break
            actions.send_keys(Keys.TAB).perform()
        else:
            self.fail("60 presses of Tab never reached #endpoint-new")
        ring = self.d.execute_script("""
            const s = getComputedStyle(document.activeElement);
            return {outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                    shadow: s.boxShadow !== 'none'};""")
        self.assertTrue(ring["outline"] or ring["shadow"], f"no visible focus ring: {ring}")
        self.shot("focused")
        actions.send_keys(Keys.ENTER).perform()
        self.wait_shown("#endpoint-form")
        self.shot("form")
        ActionChains(self.d).send_keys(Keys.ESCAPE).perform()
        self.wait("#endpoint-form to close", lambda: self.shown("#endpoint-form") is None)
        self.assert_no_csp_violations()

    def test_progress_then_ready(self):
        """While the API is slow #progress shows and body[data-state] is loading; then ready.
        Every resource the page loads comes from its own origin."""
        app_id, ep_id, link = self.busy_endpoint("Slow Co")
        self.fresh_tab()
        self.d.execute_cdp_cmd("Network.enable", {})
        self.d.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 600, "downloadThroughput": -1,
            "uploadThroughput": -1})
        self.d.get(link)
        WebDriverWait(self.d, UI_DEADLINE, poll_frequency=0.05).until(
            lambda d: self.state() == "loading" and self.shown("#progress"),
            message="#progress shown while body[data-state=loading]")
        self.shot("loading")
        self.ready()
        self.assertIsNone(self.shown("#progress"), "#progress still shown once ready")
        states = self.recorder()["states"]
        loading = [i for i, st in enumerate(states) if st["state"] == "loading" and st["progress"]]
        readies = [i for i, st in enumerate(states) if st["state"] == "ready"
                   and not st["progress"]]
        self.assertTrue(loading and readies and loading[0] < readies[-1], states)
        self.d.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        self.open_endpoint(app_id, ep_id)
        origins = self.d.execute_script(
            "return performance.getEntriesByType('resource').map((e) => new URL(e.name).origin)")
        self.assertEqual(set(origins) - {W.dev.url}, set(), "a resource from another origin")
        self.assert_no_csp_violations()

    def test_operator_view(self):
        """Without a token: the login form; an API token there: every application, one click
        from its view; sign out goes back to the form."""
        s = suffix()
        app = W.svix.application.create(ApplicationIn(name=f"Operator Seen Co {s}"))
        self.open(f"{W.dev.url}/portal/")
        self.wait_shown("#login")
        self.d.find_element(By.CSS_SELECTOR, "#login-token").send_keys(W.dev.token)
        self.click("#login-submit")
        self.ready()
        self.wait("#whoami: All applications", lambda: "All applications" in self.text("#whoami"))
        entry = self.wait_shown(f'#apps a[data-app-id="{app.id}"]')
        self.assertIn(app.name, entry.text)
        self.shot("apps")
        entry.click()
        self.wait_shown("#nav-endpoints")
        self.ready()
        self.assertIn(app.id, self.d.current_url)
        self.click("#signout")
        self.wait_shown("#login")
        self.assertIsNone(self.d.execute_script(
            "return sessionStorage.getItem('hookline.portal.token')"))

        # The link in dev's banner (its ready line's portal_url) opens the same view.
        self.open(W.dev.ready["portal_url"])
        self.ready()
        self.wait("#whoami: All applications", lambda: "All applications" in self.text("#whoami"))
        self.wait_shown(f'#apps a[data-app-id="{app.id}"]')


if __name__ == "__main__":
    unittest.main()
