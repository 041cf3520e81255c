#!/usr/bin/env bash
# Installs the two Rust tools the receiver's build needs into .tools/ (inside the repository, so
# nothing outside it is touched): wasm-bindgen-cli, which must match the wasm-bindgen version in
# Cargo.lock exactly, and worker-build, matching the worker crate. `cargo install` skips a tool
# already installed at that version, so this is cheap after the first run (about 6 min then).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
# Not --locked: wasm-bindgen-cli 0.2.130's lock file names webpki-roots 1.0.11, which the
# registry index no longer has (shared notes, workers-toolchain.md).
cargo install --quiet --root "$root/.tools" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
cargo install --quiet --root "$root/.tools" worker-build --version "$WORKER_BUILD_VERSION"
"$root/.tools/bin/wasm-bindgen" --version
