#!/usr/bin/env python3
"""Collects hookline's benchmark figures and writes BENCHMARKS.md (run by infra/bench.sh).

Every benchmark appends its figures, one JSON object per line, to the file named by
HOOKLINE_BENCH_JSON:

    {"bench": "dev_load", "figure": "receive p50, 1 in flight", "value": 0.55, "unit": "ms",
     "peer": "GET /healthz, same process", "peer_value": 0.06, "ratio": 9.1,
     "goal": null, "met": null}

infra/bench.sh writes a marker line before each command ({"section": ..., "command": ...}), so
each figure is shown with the command that produced it. A figure reported by several runs of
the same command is shown once, with the median of its values, peer values and ratios, and the
range of its ratios.

    bench.py criterion DIR            append the core's criterion results (DIR: target/criterion)
    bench.py bundle WASM JS           append the Worker bundle's size (raw and gzip -9)
    bench.py report FIGURES [--machine TEXT] [--started ISO] [--previous FILE] > BENCHMARKS.md
    bench.py soak FIGURES --into FILE [--machine TEXT] [--started ISO]
    bench.py api FIGURES --into FILE [--machine TEXT] [--started ISO]
    bench.py history FIGURES --into FILE [--machine TEXT] [--started ISO]

The soaks (infra/soak.sh: minutes of sustained load, errors, deliveries and memory) run apart
from the other benchmarks and have a section of their own, "## Soak", with its own date, machine
and commit. `soak` renders it from the soak's figures and puts it into FILE (BENCHMARKS.md) in
place of the previous one, or at the end, leaving every other line as it was. `report` keeps the
Soak section of FILE given with --previous (the BENCHMARKS.md it replaces), unless FIGURES holds
soak figures of its own: rewriting the other tables does not drop it, and without a soak
nothing is added. `api` does the same for the "## Management API" section (infra/bench-api.sh:
the svix SDK against hookline dev and a self-hosted Svix server), which `report` keeps too, and
`history` for the "## Delivery history" section (infra/bench-history.sh).
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import sys
from pathlib import Path

# The core's criterion groups, in the order of the table, and the peers each is compared with.
CRITERION_SCHEMES = [
    ("standard_webhooks", "Standard Webhooks", ["svix", "standardwebhooks", "bare_hmac_sha256"]),
    ("stripe", "Stripe", ["bare_hmac_sha256"]),
    ("github", "GitHub", ["bare_hmac_sha256"]),
]
CRITERION_SIZES = ["1KiB", "64KiB"]
PEER_NAMES = {
    "svix": "svix crate 2.9.1",
    "standardwebhooks": "standardwebhooks crate 1.0.1",
    "bare_hmac_sha256": "bare HMAC-SHA256 (floor)",
}
# The goals for verification: 1.5x faster than both crates, within 1.3x of the floor.
VERIFY_GOALS = {
    "svix": ("<= 0.667 (1.5x faster)", lambda r: r <= 1 / 1.5),
    "standardwebhooks": ("<= 0.667 (1.5x faster)", lambda r: r <= 1 / 1.5),
    "bare_hmac_sha256": ("<= 1.3", lambda r: r <= 1.3),
}
# Issue 20's goal for the core's receive + envelope path: at most 2.5x its verification alone.
RECEIVE_GOAL = ("<= 2.5", lambda r: r <= 2.5)
BUNDLE_GOAL_BYTES = 300 * 1024


def emit(figure: dict) -> None:
    path = os.environ.get("HOOKLINE_BENCH_JSON")
    line = json.dumps(figure, ensure_ascii=False)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    else:
        print(line)


def figure(bench, name, value, unit, peer=None, peer_value=None, goal=None, met=None) -> dict:
    return {
        "bench": bench,
        "figure": name,
        "value": value,
        "unit": unit,
        "peer": peer,
        "peer_value": peer_value,
        "ratio": (value / peer_value) if peer_value else None,
        "goal": goal,
        "met": met,
    }


def criterion_median_ns(root: Path, group: str, function: str, size: str) -> float | None:
    path = root / group / function / size / "new" / "estimates.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def cmd_criterion(root: Path) -> int:
    found = 0
    for key, label, peers in CRITERION_SCHEMES:
        for direction in ["verify", "sign"]:
            group = f"{key}_{direction}"
            for size in CRITERION_SIZES:
                ours = criterion_median_ns(root, group, "hookline", size)
                if ours is None:
                    print(f"bench.py: no criterion result for {group}/hookline/{size}", file=sys.stderr)
                    return 1
                for peer in peers:
                    theirs = criterion_median_ns(root, group, peer, size)
                    if theirs is None:
                        print(f"bench.py: no criterion result for {group}/{peer}/{size}", file=sys.stderr)
                        return 1
                    goal = met = None
                    if direction == "verify":
                        goal, check = VERIFY_GOALS[peer]
                        met = check(ours / theirs)
                    emit(figure(
                        "core_verify",
                        f"{label} {direction}, {size.replace('KiB', ' KiB')} body",
                        round(ours / 1000, 4),
                        "µs",
                        PEER_NAMES[peer],
                        round(theirs / 1000, 4),
                        goal,
                        met,
                    ))
                    found += 1
    # The receiver's whole pure path per request beside the verification alone.
    for size in CRITERION_SIZES:
        ours = criterion_median_ns(root, "inbound_receive", "receive_to_json", size)
        theirs = criterion_median_ns(root, "inbound_receive", "verify_only", size)
        if ours is None or theirs is None:
            print(f"bench.py: no criterion result for inbound_receive/*/{size}", file=sys.stderr)
            return 1
        emit(figure(
            "core_verify",
            f"Stripe request, receive + envelope JSON (native), {size.replace('KiB', ' KiB')} body",
            round(ours / 1000, 4),
            "µs",
            "its Stripe verification alone",
            round(theirs / 1000, 4),
            RECEIVE_GOAL[0],
            RECEIVE_GOAL[1](ours / theirs),
        ))
        found += 1
    print(f"bench.py: {found} core figures from {root}", file=sys.stderr)
    return 0


def cmd_bundle(wasm: Path, js: Path) -> int:
    raw = wasm.read_bytes() + js.read_bytes()
    gz = len(gzip.compress(wasm.read_bytes(), 9)) + len(gzip.compress(js.read_bytes(), 9))
    emit(figure("receiver_bundle", "Worker bundle, gzip -9 (wasm + JS shim)", gz, "B",
                goal="< 300 KiB (307,200 B)", met=gz < BUNDLE_GOAL_BYTES))
    emit(figure("receiver_bundle", "Worker bundle, raw (wasm + JS shim)", len(raw), "B"))
    return 0


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and not v.is_integer():
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3f}"
    return f"{int(v):,}"


def collapse(lines: list[dict]) -> list[dict]:
    """Groups figures by (command, bench, figure, peer), in order of first appearance, with
    medians over the runs."""
    rows: dict[tuple, dict] = {}
    command = section = None
    for obj in lines:
        if "command" in obj:
            command, section = obj["command"], obj.get("section")
            continue
        key = (command, obj["bench"], obj["figure"], obj.get("peer"))
        row = rows.setdefault(key, {"section": section, "command": command, "runs": [], **obj})
        row["runs"].append(obj)
    out = []
    for row in rows.values():
        runs = row["runs"]
        row["value"] = statistics.median(r["value"] for r in runs)
        peers = [r["peer_value"] for r in runs if r.get("peer_value") is not None]
        row["peer_value"] = statistics.median(peers) if peers else None
        ratios = [r["ratio"] for r in runs if r.get("ratio") is not None]
        row["ratio"] = statistics.median(ratios) if ratios else None
        row["ratio_range"] = (min(ratios), max(ratios)) if len(ratios) > 1 else None
        mets = [r["met"] for r in runs if r.get("met") is not None]
        if not mets:
            row["met_text"] = ""
        elif all(mets):
            row["met_text"] = "yes"
        elif not any(mets):
            row["met_text"] = "**no**"
        else:
            row["met_text"] = f"in {sum(mets)} of {len(mets)} runs"
        out.append(row)
    return out


TABLE_HEADER = ("| figure | hookline | peer (same run) | peer | hookline ÷ peer | runs | goal | met |\n"
                "|---|---|---|---|---|---|---|---|\n")
SOAK_SECTION = "Soak"
SOAK_HEADER = ("| figure | value | compared with (same run) | its value | ratio | runs | goal | met |\n"
               "|---|---|---|---|---|---|---|---|\n")
SOAK_INTRO = (
    "Written by `infra/soak.sh`, apart from the tables above (`infra/bench.sh` keeps this section "
    "when it rewrites them). Each target runs under a sustained load (a fixed number of "
    "connections in a closed loop, 1 request in 20 with a wrong signature: 401 expected) for a "
    "warm-up, then for the measured phase, while the resident memory (VmRSS) of the process "
    "under test is sampled every 2 s. It fails on any unexpected answer, on any accepted event "
    "that does not arrive (in the receiver's queue; for hookline dev, at the sink, once the "
    "queue has drained, every signature checked), and on memory that is not flat: **flat** means "
    "the RSS at the end (median of the last 20% of the samples) is at most 1.10 × the RSS at the "
    "start of the steady state (median of the first 20%), or at most 8 MiB above it, whichever "
    "allows more (the ratio for a large process, the allowance so that allocator steps on a small "
    "one do not fail it). The trend (MiB per minute, least squares over all samples) is shown, "
    "not judged. The receiver runs in workerd without Miniflare, its queue a service that "
    "counts messages (`tests/harness/bench-workerd.mjs`): under Miniflare, workerd grows by "
    "about 3 KiB per queued message whichever Worker sends it, in the queue simulation.\n\n"
)


def render_rows(rows: list[dict], w, header: str = TABLE_HEADER, section_level: str = "## ") -> None:
    """Writes `rows` as markdown: a heading per section, the command, then its table."""
    section = command = None
    for i, row in enumerate(rows):
        if row["section"] != section:
            section = row["section"]
            if section_level:
                w(f"{section_level}{section}\n\n")
            command = None
        if row["command"] != command:
            command = row["command"]
            w(f"`{command}`\n\n")
            w(header)
        ratio = fmt(row["ratio"])
        if row["ratio_range"]:
            lo, hi = row["ratio_range"]
            ratio += f" ({fmt(lo)}–{fmt(hi)})"
        unit = row["unit"]
        value = f"{fmt(row['value'])} {unit}"
        peer_value = f"{fmt(row['peer_value'])} {unit}" if row["peer_value"] is not None else ""
        w(f"| {row['figure']} | {value} | {row.get('peer') or ''} | {peer_value} | {ratio} | "
          f"{len(row['runs'])} | {row.get('goal') or ''} | {row['met_text']} |\n")
        # A blank line ends the table when the next row starts another command.
        if i + 1 == len(rows) or rows[i + 1]["command"] != command:
            w("\n")


API_SECTION = "Management API"
API_INTRO = (
    "Written by `infra/bench-api.sh`, apart from the tables above (`infra/bench.sh` keeps this "
    "section when it rewrites them, and runs the script when `SVIX_SERVER_BIN` names the peer). "
    "The same calls of the official `svix` Python "
    "SDK against `hookline dev` (release build, its SQLite store) and against a self-hosted Svix "
    "server (its open-source server, built outside this repository, with PostgreSQL and Redis "
    "from Debian's packages), one after the other on one machine; every endpoint is a sink on "
    "loopback. Then the store reads per message of the sender's registry, with its cache and "
    "without.\n\n"
)
HISTORY_SECTION = "Delivery history"
HISTORY_INTRO = (
    "Written by `infra/bench-history.sh`, apart from the tables above (`infra/bench.sh` keeps "
    "this section when it rewrites them, and runs the script). The sender's handler with the "
    "delivery history on beside the same handler with it off, in the same run (the goal: at "
    "least 0.8x), over a store elsewhere (each write encoded and handed over, as to DynamoDB: "
    "what history costs the sender) and over the in-memory store in the sender's own heap; then "
    "the store requests per delivered message, which DynamoDB bills (docs/sender.md, DynamoDB "
    "costs).\n\n"
)
# Sections written by their own scripts, kept when bench.sh rewrites the rest.
KEPT_SECTIONS = (API_SECTION, HISTORY_SECTION, SOAK_SECTION)


def soak_span(text: str, name: str = SOAK_SECTION) -> tuple[int, int] | None:
    """Where the section `name` is in `text` (character offsets), if anywhere: from its `## name`
    line to the next `## ` heading or the end."""
    offset, start = 0, None
    for line in text.splitlines(keepends=True):
        if start is None and line.rstrip("\n") == f"## {name}":
            start = offset
        elif start is not None and line.startswith("## "):
            return start, offset
        offset += len(line)
    return None if start is None else (start, len(text))


def cmd_report(path: Path, machine: str, started: str, previous: Path | None = None) -> int:
    lines = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    rows = collapse(lines)
    if not rows:
        print(f"bench.py: no figures in {path}", file=sys.stderr)
        return 1
    w = sys.stdout.write
    w("# hookline benchmarks\n\n")
    w("Written by `infra/bench.sh`; do not edit by hand. Every figure is shown next to a peer "
      "measured in the same run on the same machine, because these machines are noisy: the "
      "ratio (hookline ÷ peer) is the figure to compare between machines, not the raw value. "
      "For times lower is better, for rates higher is better. A figure measured over several "
      "runs shows the median, with the range of its ratio.\n\n")
    w(f"- **Date:** {started}\n")
    for line in machine.strip().splitlines():
        w(f"- {line}\n")
    w("\n")
    render_rows(rows, w)
    # The sections from their own runs are kept (see the module's doc).
    if previous is not None and previous.is_file():
        text = previous.read_text(encoding="utf-8")
        for name in KEPT_SECTIONS:
            if any(r["section"] == name for r in rows):
                continue
            span = soak_span(text, name)
            if span is not None:
                w("\n" + text[span[0]:span[1]].strip("\n") + "\n")
    return 0


def render_soak(rows: list[dict], machine: str, started: str) -> str:
    out: list[str] = []
    w = out.append
    w(f"## {SOAK_SECTION}\n\n")
    w(SOAK_INTRO)
    w(f"- **Date:** {started}\n")
    for line in machine.strip().splitlines():
        w(f"- {line}\n")
    w("\n")
    # soak.sh's section markers name the targets: subsections here.
    render_rows(rows, w, SOAK_HEADER, section_level="### ")
    return "".join(out).rstrip("\n") + "\n"


def render_api(rows: list[dict], machine: str, started: str, name: str = API_SECTION,
               intro: str = API_INTRO) -> str:
    out: list[str] = []
    w = out.append
    w(f"## {name}\n\n")
    w(intro)
    w(f"- **Date:** {started}\n")
    for line in machine.strip().splitlines():
        w(f"- {line}\n")
    w("\n")
    render_rows(rows, w, TABLE_HEADER, section_level="### ")
    return "".join(out).rstrip("\n") + "\n"


def cmd_soak(path: Path, into: Path, machine: str, started: str, name: str = SOAK_SECTION) -> int:
    lines = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    rows = collapse(lines)
    if not rows:
        print(f"bench.py: no figures in {path}", file=sys.stderr)
        return 1
    if name == API_SECTION:
        section = render_api(rows, machine, started)
    elif name == HISTORY_SECTION:
        section = render_api(rows, machine, started, HISTORY_SECTION, HISTORY_INTRO)
    else:
        section = render_soak(rows, machine, started)
    text = into.read_text(encoding="utf-8") if into.is_file() else "# hookline benchmarks\n"
    span = soak_span(text, name)
    if span is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        # In place: what follows it (another section) stays after a blank line.
        after = text[span[1]:]
        new = text[:span[0]] + section + ("\n" + after if after else "")
    tmp = into.with_name(into.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(into)
    print(f"bench.py: {len(rows)} {name} figures into {into}", file=sys.stderr)
    return 0


def options(rest: list[str], allowed: set[str]) -> dict[str, str] | None:
    """`--name value` pairs; None (after saying why) on anything else."""
    found: dict[str, str] = {}
    while rest:
        if rest[0] in allowed and len(rest) > 1:
            found[rest[0]], rest = rest[1], rest[2:]
        else:
            print(f"bench.py: unknown argument {rest[0]}", file=sys.stderr)
            return None
    return found


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "criterion" and len(argv) == 3:
        return cmd_criterion(Path(argv[2]))
    if len(argv) >= 2 and argv[1] == "bundle" and len(argv) == 4:
        return cmd_bundle(Path(argv[2]), Path(argv[3]))
    if len(argv) >= 3 and argv[1] == "report":
        opts = options(argv[3:], {"--machine", "--started", "--previous"})
        if opts is None:
            return 2
        previous = Path(opts["--previous"]) if "--previous" in opts else None
        return cmd_report(Path(argv[2]), opts.get("--machine", ""), opts.get("--started", ""), previous)
    if len(argv) >= 3 and argv[1] in ("soak", "api", "history"):
        opts = options(argv[3:], {"--machine", "--started", "--into"})
        if opts is None:
            return 2
        if "--into" not in opts:
            print("bench.py: soak needs --into FILE", file=sys.stderr)
            return 2
        return cmd_soak(Path(argv[2]), Path(opts["--into"]), opts.get("--machine", ""),
                        opts.get("--started", ""),
                        {"api": API_SECTION, "history": HISTORY_SECTION}.get(argv[1], SOAK_SECTION))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
