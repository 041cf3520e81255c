#!/usr/bin/env bash
# worker-build's bundling step for the receiver (infra/build-receiver.sh sets ESBUILD_BIN to this
# file): the pinned esbuild from npm, bundling infra/receiver-entry.mjs as the entry module instead
# of the shim worker-build 0.8.7 wrote (why: the top of receiver-entry.mjs).
#
# worker-build runs `esbuild ... --bundle ./shim.js --outfile=index.js ...` in its staging
# directory, beside the wasm-bindgen glue (index.js) that the entry imports. Anything else is
# refused, so a worker-build that bundles differently fails the build instead of shipping its
# own shim.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ " $* " != *" ./shim.js "* || ! -f shim.js || ! -f index.js ]]; then
  echo "receiver-esbuild: expected worker-build's bundle of ./shim.js beside index.js, got: $*" >&2
  exit 1
fi
cp "$root/infra/receiver-entry.mjs" shim.js
exec "$root/node_modules/.bin/esbuild" "$@"
