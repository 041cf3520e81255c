// The JavaScript peer of the receiver for tests/benches/receiver_load.rs: a Worker that does the
// receiver's job for one Stripe source the way a JavaScript shop would, with the official `stripe`
// npm package (pinned in package.json) and WebCrypto (crypto.subtle).
//
// It is bundled at bench time by tests/harness/bench-workerd.mjs (esbuild, into target/) and runs
// in the same workerd as the receiver. Its work per request matches the receiver's 200 path
// (functions/receiver/src/edge.rs, shared/src/inbound.rs) step for step, so the two compare:
//
//   1. refuse a declared or actual body over 1 MiB (the receiver's default max_body_bytes): 413
//   2. verify `Stripe-Signature` with stripe.webhooks.constructEventAsync (300 s tolerance),
//      which also parses the JSON; a bad signature is 401 {"error":"invalid_signature"}, a body
//      that verifies but is not JSON is 400 {"error":"invalid_json"}
//   3. build the same envelope (version, id, source, type, received_at, content-type and
//      user-agent, the body kept byte for byte), as JSON text
//   4. over 127,000 bytes (the receiver's MAX_INLINE_ENVELOPE_BYTES), store the body in R2 with
//      its SHA-256 and put a claim check in the envelope instead, as the receiver does
//   5. await the queue send (as text, as the receiver sends it), then answer 200
//      {"ok":true,"id":"<id>"}; a failed send is 503 {"error":"queue_unavailable"}
//
// Bindings: STRIPE_SECRET (the whsec_ secret), INBOUND_QUEUE (queue producer), BODIES (R2) and
// HOOKLINE_BODIES_BUCKET (the bucket's name, written into claim checks).
import Stripe from "stripe";

const SOURCE = "stripe";
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_INLINE_ENVELOPE_BYTES = 128_000 - 1_000;
const FORWARD_HEADERS = ["content-type", "user-agent"];
const VALID_ID = /^[A-Za-z0-9._:-]{1,256}$/;
const VALID_TYPE = /^[\x21-\x7e]{1,256}$/;
// application/json or any type with a +json suffix, parameters aside (is_json_content_type).
const JSON_TYPE = /^\s*(application\/json|[^/;\s]+\/[^/;\s]+\+json)\s*(;|$)/i;

// One provider per isolate, as the package's docs for Workers suggest.
const cryptoProvider = Stripe.createSubtleCryptoProvider();
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

function json(status, body, extra = {}) {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}

const reject = (status, code, extra) => json(status, `{"error":"${code}"}`, extra);

function hex(buffer) {
  let out = "";
  for (const b of new Uint8Array(buffer)) out += b.toString(16).padStart(2, "0");
  return out;
}

function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// The first 128 bits of SHA-256 over the parts, in hex (the receiver's short_digest).
async function shortDigest(...parts) {
  const bytes = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : new Uint8Array(p)));
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    all.set(b, at);
    at += b.length;
  }
  return hex(await crypto.subtle.digest("SHA-256", all)).slice(0, 32);
}

async function eventId(event, raw) {
  const id = event?.id;
  if (typeof id === "string") {
    return VALID_ID.test(id) ? id : `h-${await shortDigest(id)}`;
  }
  return `b-${await shortDigest(SOURCE, new Uint8Array([0]), raw)}`;
}

// RFC 3339 in UTC, milliseconds only when not zero (as hookline_core::time::Timestamp prints).
const receivedAt = () => new Date().toISOString().replace(".000Z", "Z");

// `{source}/{yyyy-mm-dd}/{id}`, the id percent-encoded outside A-Za-z0-9._- (claim_check_key).
function claimKey(id, at) {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, (c) =>
    [...encoder.encode(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
  return `${SOURCE}/${at.slice(0, 10)}/${safe}`;
}

async function receive(request, env) {
  const declared = Number.parseInt(request.headers.get("content-length") ?? "", 10);
  if (declared > MAX_BODY_BYTES) return reject(413, "payload_too_large");
  const raw = await request.arrayBuffer();
  if (raw.byteLength > MAX_BODY_BYTES) return reject(413, "payload_too_large");
  const text = decoder.decode(raw);

  let event;
  try {
    event = await Stripe.webhooks.constructEventAsync(
      text,
      request.headers.get("stripe-signature"),
      env.STRIPE_SECRET,
      undefined,
      cryptoProvider,
    );
  } catch (e) {
    return e instanceof Stripe.errors.StripeSignatureVerificationError
      ? reject(401, "invalid_signature")
      : reject(400, "invalid_json");
  }

  const id = await eventId(event, raw);
  const headers = {};
  for (const name of FORWARD_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const at = receivedAt();
  const head = { version: 1, id, source: SOURCE };
  if (typeof event?.type === "string" && VALID_TYPE.test(event.type)) head.type = event.type;
  head.received_at = at;
  head.headers = headers;
  // The body goes in as the provider sent it (not re-serialised from the parsed event), as
  // the receiver's RawJson keeps it; base64 unless it is labelled JSON and has no whitespace
  // around it (Body::from_bytes).
  const prefix = `${JSON.stringify(head).slice(0, -1)},"body":`;
  const asJson =
    JSON_TYPE.test(headers["content-type"] ?? "") && text.trim().length === text.length;
  const inlineBody = asJson
    ? `{"encoding":"json","data":${text}}`
    : `{"encoding":"base64","data":"${base64(raw)}"}`;
  let envelope = `${prefix}${inlineBody}}`;
  // In UTF-8 bytes, as the queue counts them; only the prefix and the raw body can be non-ASCII.
  const wrapper = asJson ? inlineBody.length - text.length : inlineBody.length;
  const inlineBytes =
    encoder.encode(prefix).length + (asJson ? raw.byteLength : 0) + wrapper + 1;

  if (inlineBytes > MAX_INLINE_ENVELOPE_BYTES) {
    const bucket = env.HOOKLINE_BODIES_BUCKET;
    if (!bucket) return reject(413, "payload_too_large");
    const key = claimKey(id, at);
    const sha256 = hex(await crypto.subtle.digest("SHA-256", raw));
    try {
      await env.BODIES.put(key, raw, {
        httpMetadata: { contentType: headers["content-type"] },
        customMetadata: { "hookline-source": SOURCE, "hookline-id": id },
        sha256,
      });
    } catch (e) {
      console.error(`peer: R2 put ${key} failed: ${e}`);
      return reject(503, "queue_unavailable");
    }
    const check = { store: "r2", bucket, key, size: raw.byteLength, sha256 };
    if (headers["content-type"] !== undefined) check.content_type = headers["content-type"];
    envelope = `${prefix}${JSON.stringify({ encoding: "claim_check", data: check })}}`;
  }

  try {
    await env.INBOUND_QUEUE.send(envelope, { contentType: "text" });
  } catch (e) {
    console.error(`peer: queue send failed: ${e}`);
    return reject(503, "queue_unavailable");
  }
  return json(200, `{"ok":true,"id":${JSON.stringify(id)}}`);
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/hooks/stripe" || pathname === "/in/stripe") {
      if (request.method !== "POST") return reject(405, "method_not_allowed", { allow: "POST" });
      return receive(request, env);
    }
    if (pathname === "/healthz") return json(200, '{"ok":true}');
    return reject(404, "not_found");
  },
};
