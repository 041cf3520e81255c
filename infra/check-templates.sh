#!/usr/bin/env bash
# Checks template.yaml (the sender's SAM template) with the two linters that matter, offline and
# without AWS credentials:
#   1. cfn-lint 1.53.3 (pinned: newer versions skip the SAM translator, see
#      infra/requirements-cfn-lint.txt);
#   2. `sam validate --lint` from aws-sam-cli 1.170.0;
#   3. a self-test: copies of the template with a planted SAM-level error (a misspelt
#      ReportBatchItemFailures, BatchSize: 100000) must be rejected by cfn-lint, or check 1 proves
#      nothing.
# Each venv (.venv-cfn-lint, .venv-sam at the repo root) is made on first use and reused after;
# its pinned requirements are installed again only when the requirements file changes (a stamp in
# the venv remembers). Prints one line per check and exits non-zero if any failed.
#
# Run time, measured on a 2-core machine that was busy with other builds (load about 3, 2026-11):
# cold (no venvs, empty pip cache) 2 min 9 s, nearly all of it installing aws-sam-cli (120 s,
# side by side with cfn-lint's 76 s); warm 9 s (the four checks run side by side, 6-7 s each).
#
# Usage: infra/check-templates.sh        (from any directory)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
template=template.yaml

export SAM_CLI_TELEMETRY=0
export PIP_DISABLE_PIP_VERSION_CHECK=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
# report NAME STATUS SECONDS [LOG]: one line per check; a failure's output follows, indented.
report() {
  local name=$1 status=$2 seconds=$3 log=${4:-}
  printf '%-4s %s (%ss)\n' "$status" "$name" "$seconds"
  if [ "$status" != ok ]; then
    failed=1
    if [ -n "$log" ] && [ -s "$log" ]; then sed 's/^/     | /' "$log"; fi
  fi
}

# venv NAME REQUIREMENTS: makes $root/.venv-NAME if missing and installs REQUIREMENTS into it,
# unless the venv's stamp says this very file was installed already. A lock keeps two runs at
# once from building the same venv.
venv() {
  local dir="$root/.venv-$1" req="$root/$2"
  (
    if command -v flock >/dev/null; then
      exec 9>"$dir.lock"
      flock 9
    fi
    if [ ! -x "$dir/bin/python" ]; then python3 -m venv "$dir"; fi
    local want
    want=$(cksum <"$req")
    if [ "$(cat "$dir/.requirements-stamp" 2>/dev/null)" != "$want" ]; then
      "$dir/bin/python" -m pip install --quiet -r "$req"
      echo "$want" >"$dir/.requirements-stamp"
    fi
  )
}

# The two installs are independent (and the SAM CLI's is slow): run them side by side.
started=$(date +%s)
venv cfn-lint infra/requirements-cfn-lint.txt >"$tmp/venv-cfn-lint.log" 2>&1 &
cfn_pid=$!
venv sam infra/requirements-sam.txt >"$tmp/venv-sam.log" 2>&1 &
sam_pid=$!
cfn_ok=1 sam_ok=1
if wait "$cfn_pid"; then
  report "venv .venv-cfn-lint (infra/requirements-cfn-lint.txt)" ok "$(($(date +%s) - started))"
else
  cfn_ok=0
  report "venv .venv-cfn-lint (infra/requirements-cfn-lint.txt)" FAIL "$(($(date +%s) - started))" "$tmp/venv-cfn-lint.log"
fi
if wait "$sam_pid"; then
  report "venv .venv-sam (infra/requirements-sam.txt)" ok "$(($(date +%s) - started))"
else
  sam_ok=0
  report "venv .venv-sam (infra/requirements-sam.txt)" FAIL "$(($(date +%s) - started))" "$tmp/venv-sam.log"
fi

cfn_lint="$root/.venv-cfn-lint/bin/cfn-lint"
sam="$root/.venv-sam/bin/sam"

# The checks are independent too: each runs in the background with its own log, and the results
# are reported in order once all have finished.
names=()
pids=()
logs=()
# spawn NAME COMMAND ARGS...: runs COMMAND ARGS in the background; its output is its log, and
# LOG.seconds gets how long it took.
spawn() {
  local name=$1 log="$tmp/check-${#names[@]}.log"
  shift
  (
    started=$(date +%s)
    status=0
    "$@" || status=$?
    echo "$(($(date +%s) - started))" >"$log.seconds"
    exit "$status"
  ) >"$log" 2>&1 &
  names+=("$name")
  pids+=("$!")
  logs+=("$log")
}

# plant SED-EXPRESSION EXPECTED: a copy of the template with one error planted by
# SED-EXPRESSION must be rejected by cfn-lint, with EXPECTED (the planted value) in its report.
plant() {
  local expr=$1 expected=$2 bad out
  bad=$(mktemp "$tmp/planted-XXXXXX.yaml")
  sed -e "$expr" "$template" >"$bad"
  if cmp -s "$template" "$bad"; then
    echo "could not plant the error: nothing in $template matches: $expr"
    return 1
  fi
  if out=$("$cfn_lint" -- "$bad" 2>&1); then
    echo "cfn-lint accepted the planted error: has its pin been raised past 1.53.x?"
    return 1
  fi
  if ! grep -qF -- "$expected" <<<"$out"; then
    printf 'cfn-lint failed, but not on the planted error (%s):\n%s\n' "$expected" "$out"
    return 1
  fi
}

if [ "$cfn_ok" = 1 ]; then
  version=$("$cfn_lint" --version 2>&1 || true)
  spawn "$version: $template" "$cfn_lint" -- "$template"
  spawn "self-test: cfn-lint rejects a misspelt ReportBatchItemFailures" plant \
    's/FunctionResponseTypes: \[ReportBatchItemFailures\]/FunctionResponseTypes: [ReportBatchItemFailure]/' \
    "'ReportBatchItemFailure'"
  spawn "self-test: cfn-lint rejects BatchSize: 100000" plant \
    's/BatchSize: !Ref BatchSize/BatchSize: 100000/' \
    "100000"
fi
if [ "$sam_ok" = 1 ]; then
  version=$("$sam" --version 2>&1 || true)
  spawn "$version validate --lint: $template" \
    "$sam" validate --region us-east-1 --lint --template-file "$template"
fi
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    report "${names[$i]}" ok "$(cat "${logs[$i]}.seconds")"
  else
    report "${names[$i]}" FAIL "$(cat "${logs[$i]}.seconds" 2>/dev/null || echo '?')" "${logs[$i]}"
  fi
done

if [ "$failed" != 0 ]; then
  echo "check-templates: FAILED" >&2
  exit 1
fi
echo "check-templates: all checks passed"
