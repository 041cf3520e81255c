// The receiver Worker's entry module: infra/build-receiver.sh has worker-build bundle this file
// in place of the shim worker-build 0.8.7 writes (its src/js/shim.js), around the same
// wasm-bindgen glue (`./index.js` in worker-build's staging directory).
//
// Why: worker-build's shim exports a WorkerEntrypoint subclass wrapped in a Proxy. Per request
// the runtime constructs it through the Proxy's `construct` trap, which makes a Proxy per
// instance, and the `get` of `fetch` makes another Proxy around the method whose `async apply`
// adds a promise and an await before the answer: measurable CPU per request (see "Performance" in
// docs/receiver.md). Here the default export is a plain `{ fetch, queue }` object that calls the
// wasm exports directly (and a POST with a declared length takes a synchronous path, below).
//
// What the shim's wrapper was for is kept, without the Proxies:
// - A wasm trap (WebAssembly.RuntimeError: a Rust panic, with panic = "abort", or any other
//   trap) leaves the instance unusable. The shim then flagged a "critical error" and made a new
//   instance before the next call; so does this module, with one flag check per call
//   (`initState.criticalError`, the object `worker`'s init code shares with the glue).
//   wasm-bindgen's own guard (`--force-enable-abort-handler`, which `worker` hooks to schedule a
//   re-init) also stays in the glue, so either one is enough.
// - Traps seen anywhere (thrown out of a call here, or out of a wasm-bindgen-futures task, which
//   surfaces as an uncaught error or an unhandled rejection) set the flag.
import * as glue from "./index.js";

Error.stackTraceLimit = 100;
const initState = glue.__worker_init_state();

function reinitialize() {
  console.log("Reinitializing Wasm application");
  glue.__wbg_reset_state();
  initState.criticalError = false;
  initState.instanceId++;
}

function noteCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    initState.criticalError = true;
  }
}

addEventListener("error", (e) => noteCritical(e.error));
addEventListener("unhandledrejection", (e) => noteCritical(e.reason));

// A POST with a declared length takes the synchronous path: the body is read, the MACs computed
// (by WebCrypto, when the body is long enough for that to pay) and the queue send awaited here,
// in JavaScript, while wasm does the synchronous work (route, verification, envelope) in one
// call, `fetch_small`. The asynchronous Rust path (`fetch`), which every other request takes,
// costs a future, promises and closures per request and a trip through wasm-bindgen-futures'
// task queue at each await. In the test build every MAC goes through WebCrypto, so that its
// suite replays every signature vector through this path.
//
// A body declared shorter than `readFirstBelow` (below every source's limit; made once per
// isolate, settings only change with a new one) is read at once; a longer one only once wasm has
// checked its declared length against its source's limit (`body_limit`).
let readFirstBelow;
const DIGITS = /^[0-9]{1,15}$/;

// WebCrypto HMAC keys by `fetch_small`'s key id (source and key index): settings only change
// with a new isolate.
const keys = new Map();

function message(parts, body) {
  if (parts.length === 1 && parts[0] === null) return body;
  let length = 0;
  for (const p of parts) length += p === null ? body.length : p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    const bytes = p === null ? body : p;
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

// Each job's MAC, or null where WebCrypto failed (the core then computes that one).
async function macs(jobs, body) {
  const out = [];
  for (const [id, hash, raw, parts] of jobs) {
    try {
      let key = keys.get(id);
      if (key === undefined) {
        key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
        keys.set(id, key);
      }
      out.push(new Uint8Array(await crypto.subtle.sign("HMAC", await key, message(parts, body))));
    } catch (e) {
      keys.delete(id);
      console.error(`hookline: WebCrypto HMAC failed: ${e}`);
      out.push(null);
    }
  }
  return out;
}

async function post(request, env, ctx, declared) {
  readFirstBelow ??= call(glue.read_first_below, env);
  if (declared >= readFirstBelow) {
    // A body as long as this one is read only within its source's limit.
    const refused = call(glue.body_limit, request, env);
    if (refused !== undefined) return refused;
  }
  let body;
  try {
    body = new Uint8Array(await request.arrayBuffer());
  } catch {
    // The asynchronous path reads it again, fails the same way, and answers as it always does.
    return call(glue.fetch, request, env, ctx);
  }
  let answer = call(glue.fetch_small, request, env, body, undefined);
  if (answer !== undefined && answer.jobs !== undefined) {
    const computed = await macs(answer.jobs, body);
    answer = call(glue.fetch_small, request, env, body, computed);
    if (answer === undefined) return call(glue.fetch_read, request, env, body, computed);
  } else if (answer === undefined) {
    return call(glue.fetch_read, request, env, body, undefined);
  }
  if (!Array.isArray(answer)) return answer;
  const [queue, text, options, accepted] = answer;
  // The 200 only once the queue has the event.
  try {
    await queue.send(text, options);
  } catch (e) {
    return glue.queue_failed(e);
  }
  return accepted;
}

// A wasm export, with the re-initialisation check before and the trap check after.
function call(f, a, b, c, d) {
  if (initState.criticalError) reinitialize();
  try {
    return f(a, b, c, d);
  } catch (e) {
    noteCritical(e);
    throw e;
  }
}

export default {
  fetch(request, env, ctx) {
    // The runtime delivers exactly the declared length (it refuses a request whose body
    // disagrees); a chunked body (no length) is read and counted by the asynchronous path.
    const declared = request.headers.get("content-length");
    if (request.method === "POST" && declared !== null && DIGITS.test(declared)) {
      return post(request, env, ctx, Number(declared));
    }
    return call(glue.fetch, request, env, ctx);
  },

  queue(batch, env, ctx) {
    return call(glue.queue, batch, env, ctx);
  },
};
