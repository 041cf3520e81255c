#!/usr/bin/env bash
# Creates (or reuses) the integration-test harness venv at <repo>/.venv-harness with the pinned
# requirements.txt beside this script, and prints NOTHING on stdout but the venv's bin directory:
#
#   export HOOKLINE_HARNESS_BIN=$(tests/harness/setup.sh)
#
# The Rust harness (tests/support/harness/locate.rs) finds moto_server and the sink's python there.
# Progress and pip's output go to stderr. A copy of requirements.txt inside the venv marks a
# finished install: when it matches, pip is not run at all. Concurrent callers serialise on a lock.
#
# Measured on the 2-core dev machine: cold (no venv) 57 s with a warm pip cache, 66 s with an empty
# one (moto[server] brings Flask, boto3, cryptography...); warm (unchanged requirements) 0.03 s.
# Environment: PYTHON (default python3) picks the interpreter for a new venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/.venv-harness"
req="$here/requirements.txt"
stamp="$venv/.hookline-requirements.txt"

{
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$root/.venv-harness.lock"
    flock 9
  fi
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  if ! cmp -s "$req" "$stamp" || [ ! -x "$venv/bin/moto_server" ]; then
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
} 1>&2

echo "$venv/bin"
