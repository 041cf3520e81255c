#!/usr/bin/env bash
# Regenerates tests/vectors/<scheme>.json with the providers' official SDKs.
#
#   tests/vectors/generate/regenerate.sh           regenerate and overwrite tests/vectors/*.json
#   tests/vectors/generate/regenerate.sh --check   regenerate into a temp dir and diff against the
#                                                  committed files; exit 1 on any difference
#
# Steps: create .venv (if missing) and `pip install -r requirements.txt`; `npm ci`; run generate.py,
# which signs every case, then verifies every case with the official SDK verifiers and exits non-zero
# on any disagreement; run check_vectors.py (stdlib only), which re-derives every signature from the
# documented algorithms. Only when all of that passes are files written (or compared).
#
# Needs: python3 (3.11 tested) with venv, node 20 and npm, and access to PyPI and the npm registry the
# first time (later runs reuse .venv and npm's cache). Deterministic: two runs give identical bytes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vectors="$(dirname "$here")"
mode=write
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

start=$(date +%s)
cd "$here"

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
npm ci --no-audit --no-fund --loglevel=error

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Neither the SDKs nor our scripts may read the environment's clock or test switches.
env -u TEST_MODE TZ=UTC .venv/bin/python generate.py --out "$out" --quiet
if ! checked="$(.venv/bin/python check_vectors.py "$out")"; then
  echo "$checked" >&2
  echo "regenerate.sh: check_vectors.py rejected the generated vectors; nothing written" >&2
  exit 1
fi
echo "$checked" | tail -n 1

if [ "$mode" = write ]; then
  rm -f "$vectors"/*.json
  cp "$out"/*.json "$vectors"/
  echo "regenerate.sh: wrote $(ls "$out"/*.json | wc -l) files to $vectors in $(( $(date +%s) - start )) s"
  exit 0
fi

status=0
if ! diff -u <(cd "$vectors" && ls -1 -- *.json 2>/dev/null) <(cd "$out" && ls -1 -- *.json); then
  echo "regenerate.sh --check: the set of vector files differs (committed vs regenerated)" >&2
  status=1
fi
for f in "$out"/*.json; do
  name="$(basename "$f")"
  if [ -f "$vectors/$name" ] && ! diff -u --label "committed/$name" --label "regenerated/$name" "$vectors/$name" "$f"; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "regenerate.sh --check: FAILED: committed vectors differ from a fresh generation (run regenerate.sh and review the diff)" >&2
  exit 1
fi
echo "regenerate.sh --check: OK: all $(ls "$out"/*.json | wc -l) vector files are byte-identical to a fresh generation ($(( $(date +%s) - start )) s)"
