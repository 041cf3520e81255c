"""The pieces the portal's browser suite (test_portal.py) stands on, all on loopback:

- `Dev`: `hookline dev --json --port 0` on a fresh data directory, with tests/portal/dev.toml plus an
  `[api.portal]` section written at run time (the allowed frame ancestor's port is only known then);
- `Sink`: a webhook endpoint that answers 200 or, once broken, 500, and keeps every request so
  the tests can check its Standard Webhooks signature with the official `standardwebhooks` library;
- `FramePages`: an "operator's site" that puts a portal link in an iframe (served twice: from the
  allowed origin and from another one);
- `chromium()`: Debian's headless Chromium through Debian's chromedriver, by path, so Selenium
  never looks for (or downloads) a driver or a browser; a script added to every document records
  Content-Security-Policy violations and the page's `data-state` changes for the tests to read.

Waits poll with a deadline (`wait_for`); nothing sleeps a fixed time for an outcome.
"""

from __future__ import annotations

import atexit
import html
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Selenium must not reach for the network (Selenium Manager): with both paths given it does not
# run it at all, and this makes sure it never would.
os.environ["SE_OFFLINE"] = "true"
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from standardwebhooks.webhooks import Webhook  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How long `hookline dev` may take to print its ready line.
DEV_READY_DEADLINE = float(os.environ.get("HOOKLINE_DEV_READY_DEADLINE", "30"))


def wait_for(what: str, check, deadline: float = 30.0, interval: float = 0.1):
    """Polls `check` until it returns something truthy, or fails after `deadline` seconds."""
    end = time.monotonic() + deadline
    last_error = None
    while True:
        try:
            got = check()
            if got:
                return got
        except AssertionError as e:  # a check may assert; report its last word on time-out
            last_error = e
        if time.monotonic() >= end:
            tail = f" (last: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {deadline}s waiting for {what}{tail}")
        time.sleep(interval)


# ---- hookline dev ------------------------------------------------------------------------------


class Dev:
    """`hookline dev` for one run of the suite. `url` is the server's base URL (what the svix SDK
    takes), `token` the operator's API token (fresh each run, passed through the environment)."""

    def __init__(self, binary: str, work: Path, frame_ancestors: list[str]):
        self.work = work
        self.token = os.environ.get("HOOKLINE_API_TOKEN") or f"testsk_{secrets.token_hex(16)}"
        config = (HERE / "dev.toml").read_text()
        config += "\n[api.portal]\n# Written by harness.py: only the allowed frame page's origin.\n"
        config += f"frame_ancestors = {json.dumps(frame_ancestors)}\n"
        self.config = work / "dev.toml"
        self.config.write_text(config)
        self.out_path = work / "dev.out"
        self.err_path = work / "dev.err"
        env = dict(os.environ, HOOKLINE_API_TOKEN=self.token)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [binary, "dev", "--json", "--port", "0", "--data-dir", str(work / "data"),
                 "--config", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
            )
        # Stopped even when the suite is interrupted before tearDownModule.
        atexit.register(self.stop)
        try:
            ready = wait_for("hookline dev's ready line", self._ready, DEV_READY_DEADLINE)
        except AssertionError:
            self.stop()
            raise
        self.ready = ready
        url = ready.get("url") or ready["api_url"]
        for tail in ("/api/v1/", "/api/v1"):
            if url.endswith(tail):
                url = url[: -len(tail)]
        self.url = url.rstrip("/")

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"hookline dev exited ({self.proc.returncode}) before it was ready:\n"
                               + self.logs())
        for line in self.out_path.read_text(errors="replace").splitlines():
            if '"event":"ready"' in line.replace(" ", ""):
                return json.loads(line)
        return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def logs(self) -> str:
        out = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        err = self.err_path.read_text(errors="replace") if self.err_path.exists() else ""
        return f"---- hookline dev stdout ----\n{out}---- hookline dev stderr ----\n{err}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- the webhook sink --------------------------------------------------------------------------

# What a broken endpoint answers: an error and some markup, which the portal must show as text.
BROKEN_BODY = b'{"error":"down for maintenance","hint":"<b id=\\"sink-markup\\">retry later</b>"}'


class Sink:
    """A webhook endpoint on 127.0.0.1. Every POST is recorded (path, lower-cased headers, body,
    the status answered); the answer is 200, or 500 with BROKEN_BODY for a path `break_path` was
    called with, until `fix_path`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.broken: set[str] = set()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: the tests read the records
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path
                with sink.lock:
                    status = 500 if path in sink.broken else 200
                    sink.records.append({
                        "path": path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "status": status,
                    })
                answer = BROKEN_BODY if status == 500 else b'{"ok":true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="sink", daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def break_path(self, path: str) -> None:
        with self.lock:
            self.broken.add(path)

    def fix_path(self, path: str) -> None:
        with self.lock:
            self.broken.discard(path)

    def received(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.records if r["path"] == path]

    @staticmethod
    def verify(record: dict, secret: str) -> dict:
        """The record's JSON payload, once the official library has checked its signature with
        `secret` (raises if it does not verify)."""
        return Webhook(secret).verify(record["body"], record["headers"])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- the operator's site, which frames the portal -----------------------------------------------


class FramePages:
    """A tiny site on its own loopback port: `GET /?src=<portal link>` is a page that puts the link
    in `iframe#portal`. Served once from the origin `[api.portal] frame_ancestors` allows and once
    from another, to see the portal refuse the second."""

    def __init__(self, label: str):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                src = query.get("src", ["about:blank"])[0]
                page = (
                    "<!doctype html><meta charset=utf-8>"
                    f"<title>Operator site ({html.escape(label)})</title>"
                    f"<h1>Operator site ({html.escape(label)})</h1>"
                    f'<iframe id="portal" src="{html.escape(src, quote=True)}"'
                    ' width="1000" height="600"></iframe>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, name=f"frame-{label}",
                         daemon=True).start()

    def page(self, link: str) -> str:
        return f"{self.origin}/?src={urllib.parse.quote(link, safe='')}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- Chromium ----------------------------------------------------------------------------------

# Added to every document before its own scripts: records the Content-Security-Policy violations
# the page causes (a portal that sets `style=` from HTML or uses innerHTML under trusted types
# shows up here) and each change of body[data-state] with whether #progress was visible then.
RECORDER = r"""
(() => {
  if (window.__hl) return;
  const hl = window.__hl = {violations: [], states: []};
  document.addEventListener('securitypolicyviolation', (e) => {
    hl.violations.push({directive: e.effectiveDirective, blocked: e.blockedURI,
                        sample: e.sample, source: e.sourceFile, line: e.lineNumber});
  });
  const visible = (el) => !!el && el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== 'hidden' && !el.closest('[hidden]');
  const watch = () => {
    if (!document.body) return;
    const state = document.body.getAttribute('data-state');
    const progress = visible(document.getElementById('progress'));
    const last = hl.states[hl.states.length - 1];
    if (!last || last.state !== state || last.progress !== progress) {
      hl.states.push({state, progress, t: performance.now()});
    }
  };
  new MutationObserver(watch).observe(document, {subtree: true, childList: true, attributes: true});
  document.addEventListener('DOMContentLoaded', watch);
})();
"""


def chromium(log_dir: Path, width: int = 1280, height: int = 800) -> webdriver.Chrome:
    """Headless Chromium, loopback only: any host name but 127.0.0.1 fails to resolve."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"{path} is missing: apt-get install chromium chromium-driver "
                               "(tests/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log_dir / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    return driver
