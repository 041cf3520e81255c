// How Miniflare loads the receiver's bundle (index.js and the wasm it imports, in
// functions/receiver/build or build-test), shared by workerd.mjs and bench-workerd.mjs.
import path from "node:path";

/** The compatibility date the harnesses run every Worker at. */
export const compatibilityDate = "2026-07-01";

/** The module options of a Worker running the receiver built into `build`. */
export function receiverModules(build) {
  return {
    modules: true,
    scriptPath: path.join(build, "index.js"),
    modulesRoot: build,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate,
  };
}
