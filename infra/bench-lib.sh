# Sourced by infra/bench.sh, infra/bench-api.sh, infra/bench-history.sh and infra/soak.sh: what
# they need to read their arguments, time their steps and write the figures file that
# infra/bench.py turns into BENCHMARKS.md. Not a command of its own.

# Reads a bench script's arguments: `--out FILE` (where the report goes, `$out`; BENCHMARKS.md at
# the repository root by default) and `-h`, which prints lines 2 to $2 of the script (its
# header). $1 is the script's name for errors; the rest are its arguments.
bench_args() {
  local name="$1" help_end="$2"
  shift 2
  out="$root/BENCHMARKS.md"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --out) out="$(realpath -m "$2")"; shift 2 ;;
      -h|--help) sed -n "2,${help_end}p" "$0"; exit 0 ;;
      *) echo "$name: unknown argument $1" >&2; exit 2 ;;
    esac
  done
}

# Starts the clock and empties the figures file in $1 (a directory), exported to the benches
# as HOOKLINE_BENCH_JSON.
bench_start() {
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
  started_iso="$(date -u +%Y-%m-%dT%H:%MZ)"
  started=$(date +%s)
  mkdir -p "$1"
  export HOOKLINE_BENCH_JSON="$1/figures.jsonl"
  : >"$HOOKLINE_BENCH_JSON"
}

# Prints a step's heading with the seconds since bench_start.
step() { printf '\n==> [%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# Marks the figures that follow as produced by this command, in this section of the table.
section() { python3 -c 'import json,sys; print(json.dumps({"section": sys.argv[1], "command": sys.argv[2]}))' "$1" "$2" >>"$HOOKLINE_BENCH_JSON"; }

# "Machine: <cpu>, <n> cores, <GiB> RAM, Linux <release>", the start of the report's header.
machine_line() {
  local cpu
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
}

# "Commit: <hash>", noting changes not committed (BENCHMARKS.md itself aside).
commit_line() {
  echo "Commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo ' (with uncommitted changes)')"
}
