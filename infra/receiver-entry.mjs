// The receiver Worker's entry module: infra/build-receiver.sh has worker-build bundle this file
// in place of the shim worker-build 0.8.7 writes (its src/js/shim.js), around the same
// wasm-bindgen glue (`./index.js` in worker-build's staging directory).
//
// Why: worker-build's shim exports a WorkerEntrypoint subclass wrapped in a Proxy. Per request
// the runtime constructs it through the Proxy's `construct` trap, which makes a Proxy per
// instance, and the `get` of `fetch` makes another Proxy around the method whose `async apply`
// adds a promise and an await before the answer: measurable CPU per request (see "Performance" in
// docs/receiver.md). Here the default export is a plain `{ fetch, queue }` object that calls the
// wasm exports directly and hands back their promise.
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

// Bodies under this many bytes (by their declared Content-Length) take the synchronous path,
// `fetch_small`: the body is read and the queue send awaited here, in JavaScript, and wasm does
// only the synchronous work in one call (route, verification, envelope). The asynchronous Rust
// path (`fetch`) costs a future, promises and closures per request, with a trip through
// wasm-bindgen-futures' task queue at each await. 0 in the test build, which sends every MAC
// through WebCrypto (the asynchronous path) so that its suite covers it.
const smallBodyMax = glue.fast_path_max_bytes();
const DIGITS = /^[0-9]{1,15}$/;

async function small(request, env, ctx) {
  let body;
  try {
    body = new Uint8Array(await request.arrayBuffer());
  } catch {
    // The asynchronous path reads it again, fails the same way, and answers as it always does.
    return call(glue.fetch, request, env, ctx);
  }
  const answer = call(glue.fetch_small, request, env, body);
  if (answer === undefined) return call(glue.fetch_read, request, env, body);
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
function call(f, a, b, c) {
  if (initState.criticalError) reinitialize();
  try {
    return f(a, b, c);
  } catch (e) {
    noteCritical(e);
    throw e;
  }
}

export default {
  fetch(request, env, ctx) {
    // The runtime delivers exactly the declared length (it refuses a request whose body
    // disagrees), so no more than smallBodyMax bytes are read here.
    const declared = request.headers.get("content-length");
    if (
      request.method === "POST" &&
      declared !== null &&
      DIGITS.test(declared) &&
      Number(declared) < smallBodyMax
    ) {
      return small(request, env, ctx);
    }
    return call(glue.fetch, request, env, ctx);
  },

  queue(batch, env, ctx) {
    return call(glue.queue, batch, env, ctx);
  },
};
