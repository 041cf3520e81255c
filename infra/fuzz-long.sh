#!/usr/bin/env bash
# The long fuzzing run (not in CI): every cargo-fuzz target for a fixed time, one after the other,
# then the working corpus is minimised (libFuzzer's -merge=1: the fewest inputs that reach every
# branch the run reached) and stored as fuzz/corpus-min/<target>.tar.gz, which tests/run unpacks
# into the working corpus before its smoke runs: every input the long runs found is replayed as a
# regression test on every run. Crash reproducers that were fixed go to fuzz/seeds/<target>/.
#
#   infra/fuzz-long.sh                  600 s per target, every target
#   infra/fuzz-long.sh -t 60 verify     60 s, one target
#   infra/fuzz-long.sh --no-merge       leave fuzz/corpus-min/ alone
#
# It writes one line per target to fuzz/target/fuzz-long.tsv (target, seconds, executions,
# corpus entries, result) and prints a summary. A crash stops that target, keeps the input under
# fuzz/artifacts/<target>/ and makes the script exit 1 after the remaining targets ran.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=600
merge=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t|--seconds) seconds="$2"; shift 2 ;;
    --no-merge) merge=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz-long.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q '0.13.2'; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
cargo +nightly fuzz build -O
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p target
summary=target/fuzz-long.tsv
printf 'target\tseconds\texecutions\tcorpus\tresult\n' >"$summary"
failed=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  if [ -d "seeds/$target" ]; then cp -n seeds/"$target"/* "corpus/$target/" 2>/dev/null || true; fi
  if [ -f "corpus-min/$target.tar.gz" ]; then
    tar -xzf "corpus-min/$target.tar.gz" -C "corpus/$target" --skip-old-files
  fi
  log="target/fuzz-long-$target.log"
  start=$(date +%s)
  result=ok
  if ! cargo +nightly fuzz run "$target" -O "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    result=crash
    failed=1
    grep -E 'panicked|ERROR|Test unit written' "$log" | head -5 >&2 || true
  fi
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$merge" = 1 ] && [ "$result" = ok ]; then
    # The minimised corpus: the fewest inputs that reach everything the run reached.
    rm -rf "target/cmin-$target"
    mkdir -p "target/cmin-$target" corpus-min
    cargo +nightly fuzz run "$target" -O "target/cmin-$target" "corpus/$target" -- \
      -merge=1 >"target/fuzz-long-$target-merge.log" 2>&1
    # Sorted names and fixed metadata: the same corpus gives the same archive.
    (cd "target/cmin-$target" && find . -type f -printf '%P\n' | LC_ALL=C sort |
      tar --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "../../corpus-min/$target.tar.gz" -T -)
  fi
  entries=$(find "corpus/$target" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$took" "${execs:-?}" "$entries" "$result" | tee -a "$summary"
done
column -t "$summary" 2>/dev/null || cat "$summary"
exit "$failed"
