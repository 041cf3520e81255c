"""Self-test of infra/bench.py, which turns benchmark figures into BENCHMARKS.md: run from the
repository root with the harness venv's python (tests/run does):

    "$(tests/harness/setup.sh)/python" -m unittest discover -s tests/harness -v
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("bench", HERE.parent.parent / "infra" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def fig(value, peer_value=None, met=None, name="end to end", bench_name="dev_load"):
    return bench.figure(bench_name, name, value, "events/s", "sink" if peer_value else None,
                        peer_value, ">= 2,000 events/s" if met is not None else None, met)


class Collapse(unittest.TestCase):
    def test_medians_over_runs_with_the_ratio_range(self):
        rows = bench.collapse([
            {"section": "dev", "command": "cargo bench dev_load"},
            fig(7000.0, 70000.0, True),
            fig(5000.0, 50000.0, True),
            fig(9000.0, 60000.0, True),
        ])
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["value"], 7000.0)
        self.assertEqual(row["peer_value"], 60000.0)
        # The median of the three ratios (0.1, 0.1, 0.15), not the ratio of the medians.
        self.assertAlmostEqual(row["ratio"], 0.1)
        self.assertAlmostEqual(row["ratio_range"][1], 0.15)
        self.assertEqual(row["met_text"], "yes")
        self.assertEqual(row["command"], "cargo bench dev_load")

    def test_a_goal_missed_in_some_runs_says_so(self):
        rows = bench.collapse([
            {"section": "dev", "command": "c"},
            fig(2100.0, 1.0, True),
            fig(1900.0, 1.0, False),
        ])
        self.assertEqual(rows[0]["met_text"], "in 1 of 2 runs")
        rows = bench.collapse([{"section": "dev", "command": "c"}, fig(1900.0, 1.0, False)])
        self.assertEqual(rows[0]["met_text"], "**no**")

    def test_the_same_figure_from_two_commands_stays_two_rows(self):
        rows = bench.collapse([
            {"section": "a", "command": "one"},
            fig(1.0),
            {"section": "a", "command": "two"},
            fig(2.0),
        ])
        self.assertEqual([r["value"] for r in rows], [1.0, 2.0])
        self.assertIsNone(rows[0]["ratio"])


class Criterion(unittest.TestCase):
    def write(self, root: Path, group: str, function: str, size: str, ns: float):
        d = root / group / function / size / "new"
        d.mkdir(parents=True)
        (d / "estimates.json").write_text(json.dumps({"median": {"point_estimate": ns}}))

    def test_figures_and_goals_from_criterion_estimates(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for key, _, peers in bench.CRITERION_SCHEMES:
                for direction in ["verify", "sign"]:
                    for size in bench.CRITERION_SIZES:
                        self.write(root, f"{key}_{direction}", "hookline", size, 1000.0)
                        for peer in peers:
                            # The crates 4x slower; the floor 0.7x of hookline (ratio 1.43).
                            ns = 700.0 if peer == "bare_hmac_sha256" else 4000.0
                            self.write(root, f"{key}_{direction}", peer, size, ns)
            for size in bench.CRITERION_SIZES:
                self.write(root, "inbound_receive", "receive_to_json", size, 3000.0)
                self.write(root, "inbound_receive", "verify_only", size, 1000.0)
            out = Path(tmp) / "figures.jsonl"
            os.environ["HOOKLINE_BENCH_JSON"] = str(out)
            try:
                self.assertEqual(bench.cmd_criterion(root), 0)
            finally:
                del os.environ["HOOKLINE_BENCH_JSON"]
            figures = [json.loads(line) for line in out.read_text().splitlines()]
            # 3 schemes x 2 directions x 2 sizes, with 3 peers for Standard Webhooks, 1 else;
            # then the receive path at both sizes.
            self.assertEqual(len(figures), 2 * 2 * (3 + 1 + 1) + 2)
            self.assertAlmostEqual(figures[-1]["ratio"], 3.0)
            verify = [f for f in figures if " verify," in f["figure"]]
            crates = [f for f in verify if f["peer"] != bench.PEER_NAMES["bare_hmac_sha256"]]
            floors = [f for f in verify if f["peer"] == bench.PEER_NAMES["bare_hmac_sha256"]]
            self.assertTrue(crates and all(f["met"] is True for f in crates))
            self.assertTrue(floors and all(f["met"] is False for f in floors))
            self.assertTrue(all(f["met"] is None for f in figures if " sign," in f["figure"]))
            self.assertEqual(figures[0]["unit"], "µs")
            self.assertAlmostEqual(figures[0]["value"], 1.0)

    def test_a_missing_result_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            with redirect_stdout(io.StringIO()):
                self.assertEqual(bench.cmd_criterion(Path(tmp)), 1)


class Report(unittest.TestCase):
    def test_the_table_names_command_peer_ratio_and_goal(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "figures.jsonl"
            lines = [{"section": "hookline dev", "command": "cargo bench -p hookline-cli"},
                     fig(7252.0, 73234.0, True), fig(7000.0, 70000.0, True)]
            path.write_text("".join(json.dumps(l) + "\n" for l in lines))
            buf = io.StringIO()
            with redirect_stdout(buf):
                self.assertEqual(bench.cmd_report(path, "Machine: test box", "2026-11-23T22:00Z"), 0)
            text = buf.getvalue()
            self.assertIn("## hookline dev", text)
            self.assertIn("`cargo bench -p hookline-cli`", text)
            self.assertIn("- Machine: test box", text)
            self.assertIn("| end to end | 7,126 events/s | sink | 71,617 events/s | 0.100 (0.099–0.100) | 2 | >= 2,000 events/s | yes |", text)

    def test_no_figures_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "figures.jsonl"
            path.write_text("")
            self.assertEqual(bench.cmd_report(path, "", ""), 1)


if __name__ == "__main__":
    unittest.main()
