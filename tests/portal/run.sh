#!/usr/bin/env bash
# The portal's browser suite: Debian's headless Chromium, driven by Selenium through Debian's
# chromedriver, against a real `hookline dev`:
#
#   tests/portal/run.sh target/debug/hookline
#   HOOKLINE_UPDATE_SCREENSHOT=1 tests/portal/run.sh target/debug/hookline   # also docs/img/portal.png
#
# test_portal.py starts dev itself (`hookline dev --json --port 0` with tests/portal/dev.toml and an
# `[api.portal]` section naming a frame page's origin, known only at run time), a webhook sink and
# two frame pages, all on loopback. Screenshots go to target/artifacts/portal/. dev's output is
# printed only when something failed. Needs /usr/bin/chromium and /usr/bin/chromedriver
# (`apt-get install chromium chromium-driver`; tests/run installs them) and the harness venv
# (tests/harness/setup.sh, made here if missing).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: tests/portal/run.sh <path-to-hookline-binary>" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
hookline=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  if [ ! -x "$tool" ]; then
    echo "$tool is missing: apt-get install chromium chromium-driver (tests/run does it)" >&2
    exit 1
  fi
done

cd "$root"
venv_bin=$(tests/harness/setup.sh)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Selenium is given both paths; this keeps Selenium Manager from ever looking elsewhere.
export SE_OFFLINE=true
export HOOKLINE_BIN="$hookline" HOOKLINE_PORTAL_WORK="$work"
echo "== the portal in $(/usr/bin/chromium --version 2>/dev/null || echo chromium) (selenium $("$venv_bin/python" -c 'import selenium; print(selenium.__version__)')) against hookline dev" >&2
if ! "$venv_bin/python" -B -W ignore::ResourceWarning tests/portal/test_portal.py -v; then
  for f in dev.out dev.err; do
    echo "---- hookline dev: $f ----" >&2
    cat "$work/$f" >&2 || true
  done
  echo "screenshots: target/artifacts/portal/" >&2
  echo "FAILED: the portal's browser suite" >&2
  exit 1
fi
echo "ok: the portal's browser suite ($(ls target/artifacts/portal/*.png | wc -l) screenshots in target/artifacts/portal/)" >&2
