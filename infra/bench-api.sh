#!/usr/bin/env bash
# The management API beside a self-hosted Svix server, measured in the same run on one machine;
# writes the "Management API" section of BENCHMARKS.md (infra/bench.py api), leaving the rest.
#
#   SVIX_SERVER_BIN=/path/to/svix-server infra/bench-api.sh [--out FILE]
#
# 1. The official svix Python SDK (tests/harness/requirements.txt) makes the same calls against
#    `hookline dev` (release build, SQLite) and against Svix's open-source server
#    (SVIX_SERVER_BIN) with PostgreSQL and Redis from Debian's packages (postgresql,
#    redis-server; installed with apt-get when missing): message.create latency, created ->
#    delivered latency at a sink on loopback, and list-attempts latency (infra/bench_api.py).
# 2. The sender's registry: store (DynamoDB) reads per message with the cache and without
#    (cargo bench -p hookline-sender --bench registry_reads).
#
# The peer is built outside this repository and never committed: fetch svix/svix-webhooks, and
# in its server/ directory `cargo build --release -p svix-server`. Its git dependencies
# (svix/hyper, svix/omniqueue-rs, svix/rust-executable-metadata on GitHub) must be reachable,
# or checked out beside it and named by `path` in its Cargo.toml. Without SVIX_SERVER_BIN the
# peer columns stay empty and the script says why.
#
# Environment: HOOKLINE_BENCH_API_CALLS (default 300) calls of each kind per server;
# PGPORT (default 5432) for the Debian cluster the peer uses.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. infra/bench-lib.sh
bench_args infra/bench-api.sh 24 "$@"
rm -rf "$root/target/bench-api"
bench_start "$root/target/bench-api"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL DEADLINE_S
  local until=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ $SECONDS -lt "$until" ] || { echo "infra/bench-api.sh: $1 did not answer" >&2; return 1; }
    sleep 0.2
  done
}

step "setup: the harness venv (svix SDK), a release build of hookline"
venv_bin=$(tests/harness/setup.sh)
cargo build --release --locked -p hookline-cli 2>&1 | tail -1

step "hookline dev (release, SQLite)"
HOOKLINE_BENCH_API_TOKEN="bench_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HOOKLINE_BENCH_API_TOKEN
dev_port=$(free_port)
target/release/hookline dev --json --port "$dev_port" --data-dir "$work/dev" \
  --config infra/bench-api.toml >"$work/dev.out" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$dev_port/api/v1/openapi.json" 30
args=(--label "hookline dev" --url "http://127.0.0.1:$dev_port" --token "$HOOKLINE_BENCH_API_TOKEN")
peer_note=""

if [ -n "${SVIX_SERVER_BIN:-}" ] && [ -x "$SVIX_SERVER_BIN" ]; then
  step "the peer: Svix's server ($("$SVIX_SERVER_BIN" --version 2>/dev/null | head -1)), PostgreSQL and Redis from Debian"
  if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
    apt-get install -y postgresql redis-server >/dev/null
  fi
  pg_ctlcluster 15 main start 2>/dev/null || true
  runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  runuser -u postgres -- psql -qc "DROP DATABASE IF EXISTS svix_bench" >/dev/null
  runuser -u postgres -- psql -qc "CREATE DATABASE svix_bench" >/dev/null
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
  pids+=($!)
  svix_port=$(free_port)
  export SVIX_JWT_SECRET="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  export SVIX_DB_DSN="postgresql://postgres:postgres@127.0.0.1:${PGPORT:-5432}/svix_bench"
  export SVIX_REDIS_DSN="redis://127.0.0.1:$redis_port"
  export SVIX_QUEUE_TYPE=redis SVIX_CACHE_TYPE=redis
  export SVIX_LISTEN_ADDRESS="127.0.0.1:$svix_port"
  export SVIX_WHITELIST_SUBNETS="[127.0.0.0/8]"
  export SVIX_LOG_LEVEL=info
  "$SVIX_SERVER_BIN" --run-migrations >"$work/svix.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$svix_port/api/v1/health/" 60 || { cat "$work/svix.log" >&2; exit 1; }
  svix_token=$("$SVIX_SERVER_BIN" jwt generate | sed -n 's/^Token (Bearer): //p')
  args+=(--label "Svix server (PostgreSQL, Redis)" --url "http://127.0.0.1:$svix_port" --token "$svix_token")
else
  peer_note="no SVIX_SERVER_BIN: the peer columns are empty"
  echo "infra/bench-api.sh: $peer_note" >&2
fi

step "API latency: the svix Python SDK against each server"
section "API latency (svix Python SDK)" "SVIX_SERVER_BIN=… infra/bench-api.sh (infra/bench_api.py, ${HOOKLINE_BENCH_API_CALLS:-300} calls of each kind)"
"$venv_bin/python" infra/bench_api.py "${args[@]}"

step "the sender's registry: store reads per message, with the cache and without"
section "Registry reads (sender)" "cargo bench -p hookline-sender --bench registry_reads"
cargo bench --locked -p hookline-sender --bench registry_reads 2>&1 | grep -E '^store reads'

machine="$(machine_line)
Peer: ${peer_note:-$("$SVIX_SERVER_BIN" --version 2>/dev/null | head -1), PostgreSQL $(pg_config --version 2>/dev/null | awk '{print $2}'), $(redis-server --version | awk '{print $1, $3}')}
$(commit_line)
Command: \`infra/bench-api.sh\` ($(( $(date +%s) - started )) s in all)"
python3 infra/bench.py api "$HOOKLINE_BENCH_JSON" --into "$out" --machine "$machine" --started "$started_iso"
echo "wrote the Management API section of $out"
