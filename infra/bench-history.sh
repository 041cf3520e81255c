#!/usr/bin/env bash
# The delivery history's cost: the sender's handler with history on beside the same handler with
# it off, in the same run, and the store requests per delivered message; writes the "Delivery
# history" section of BENCHMARKS.md (infra/bench.py history), leaving the rest.
#
#   infra/bench-history.sh [--out FILE]
#
# 1. cargo bench -p hookline-sender --bench deliveries: deliveries/s with history off, on over a
#    store elsewhere (the goal: >= 0.8x off), and on over the in-memory store; only the history
#    figures are kept here (the Sender Lambda section of infra/bench.sh has the others).
# 2. cargo bench -p hookline-sender --bench registry_reads: registry and history reads and the
#    writes per message, with the registry cache and without (the DynamoDB requests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. infra/bench-lib.sh
bench_args infra/bench-history.sh 13 "$@"
rm -rf "$root/target/bench-history"
bench_start "$root/target/bench-history"
all="$root/target/bench-history/all.jsonl"

step "the sender's handler, history on and off (the history figures are kept)"
HOOKLINE_BENCH_JSON="$all" cargo bench --locked -p hookline-sender --bench deliveries 2>&1 | grep -E 'deliveries/s'
section "Throughput with history on (sender)" "cargo bench -p hookline-sender --bench deliveries"
grep -F 'the delivery history on' "$all" >>"$HOOKLINE_BENCH_JSON"

step "store requests per message, with the registry cache and without"
section "Store requests per message (sender)" "cargo bench -p hookline-sender --bench registry_reads"
cargo bench --locked -p hookline-sender --bench registry_reads 2>&1 | grep -E '^store reads'

machine="$(machine_line)
$(commit_line)
Command: \`infra/bench-history.sh\` ($(( $(date +%s) - started )) s)"
python3 infra/bench.py history "$HOOKLINE_BENCH_JSON" --into "$out" --machine "$machine" --started "$started_iso"
echo "wrote the Delivery history section of $out"
