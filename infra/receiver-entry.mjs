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

export default {
  fetch(request, env, ctx) {
    if (initState.criticalError) reinitialize();
    try {
      return glue.fetch(request, env, ctx);
    } catch (e) {
      noteCritical(e);
      throw e;
    }
  },

  queue(batch, env, ctx) {
    if (initState.criticalError) reinitialize();
    try {
      return glue.queue(batch, env, ctx);
    } catch (e) {
      noteCritical(e);
      throw e;
    }
  },
};
