"""Self-test of infra/bench.py, which turns benchmark figures into BENCHMARKS.md: run from the
repository root with the harness venv's python (tests/run does):

    "$(tests/harness/setup.sh)/python" -m unittest discover -s tests/harness -v
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import tempfile
import unittest
import unittest.mock
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


def soak_figures(path: Path) -> None:
    """What infra/soak.sh leaves in target/soak/figures.jsonl, shortened."""
    lines = [
        {"section": "The receiver in workerd", "command": "HOOKLINE_SOAK_SECONDS=180 cargo bench -p hookline-tests --bench receiver_load"},
        bench.figure("receiver_load", "requests/s, 16 connections, 1 KiB Stripe", 5835.0, "req/s"),
        bench.figure("receiver_load", "unexpected answers", 0.0, "requests", goal="0", met=True),
        bench.figure("receiver_load", "RSS of workerd, end (median of the last 20% of samples)", 625.4, "MiB",
                     "start of steady state (median of the first 20%)", 581.3,
                     "end ≤ 1.10 × start, or ≤ start + 8 MiB", True),
        {"section": "hookline dev (local mode)", "command": "HOOKLINE_SOAK_SECONDS=180 cargo bench -p hookline-cli --bench dev_load"},
        bench.figure("dev_load", "accepted events delivered after the drain (signature checked)", 1000.0,
                     "events", "events accepted (200)", 1000.0, "all, 0 lost", True),
    ]
    path.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines), encoding="utf-8")


MAIN = """# hookline benchmarks

Intro.

## Core: signature verification and signing

`cargo bench -p hookline-core --bench verify`

| figure | hookline |
|---|---|
| a | 1 |

## hookline dev (local mode)

`cargo bench -p hookline-cli --bench dev_load`

| figure | hookline |
|---|---|
| b | 2 |

"""


class Soak(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.figures = self.dir / "soak.jsonl"
        soak_figures(self.figures)
        self.md = self.dir / "BENCHMARKS.md"

    def tearDown(self):
        self.tmp.cleanup()

    def soak(self, machine="Machine: soak box\nCommit: abc1234", started="2026-11-24T03:00Z"):
        with redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return bench.main(["bench.py", "soak", str(self.figures), "--into", str(self.md),
                               "--machine", machine, "--started", started])

    def test_the_section_is_added_at_the_end_and_nothing_else_changes(self):
        self.md.write_text(MAIN, encoding="utf-8")
        self.assertEqual(self.soak(), 0)
        text = self.md.read_text(encoding="utf-8")
        self.assertTrue(text.startswith(MAIN.rstrip("\n") + "\n\n## Soak\n"), text)
        soak = text[text.index("## Soak"):]
        self.assertIn("- **Date:** 2026-11-24T03:00Z\n- Machine: soak box\n- Commit: abc1234\n", soak)
        self.assertIn("### The receiver in workerd\n\n`HOOKLINE_SOAK_SECONDS=180 cargo bench -p hookline-tests --bench receiver_load`", soak)
        self.assertIn("### hookline dev (local mode)", soak)
        self.assertIn("| RSS of workerd, end (median of the last 20% of samples) | 625.4 MiB | start of steady state "
                      "(median of the first 20%) | 581.3 MiB | 1.08 | 1 | end ≤ 1.10 × start, or ≤ start + 8 MiB | yes |", soak)
        self.assertIn("| unexpected answers | 0 requests |  |  |  | 1 | 0 | yes |", soak)
        self.assertIn("**flat** means", soak)
        # The section ends with its goals' verdict (the three soak goals are met).
        self.assertTrue(text.endswith("|\n\nAll 3 goals of this section are met.\n"), text[-200:])

    def test_a_second_soak_replaces_the_first_in_place(self):
        # The Soak section between two others: the one after it stays, byte for byte.
        head, tail = MAIN.split("## hookline dev", 1)
        self.md.write_text(head + "## Soak\n\nold figures\n\n## hookline dev" + tail, encoding="utf-8")
        self.assertEqual(self.soak(), 0)
        text = self.md.read_text(encoding="utf-8")
        self.assertNotIn("old figures", text)
        self.assertTrue(text.startswith(head + "## Soak\n"))
        self.assertTrue(text.endswith("\n\n## hookline dev" + tail), text)
        self.assertEqual(text.count("## Soak"), 1)
        # Idempotent.
        self.assertEqual(self.soak(), 0)
        self.assertEqual(self.md.read_text(encoding="utf-8"), text)

    def test_no_file_yet(self):
        self.assertEqual(self.soak(), 0)
        text = self.md.read_text(encoding="utf-8")
        self.assertTrue(text.startswith("# hookline benchmarks\n\n## Soak\n"))

    def test_soak_needs_into_and_figures(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(bench.main(["bench.py", "soak", str(self.figures)]), 2)
            self.figures.write_text("")
            self.assertEqual(bench.main(["bench.py", "soak", str(self.figures), "--into", str(self.md)]), 1)
        self.assertFalse(self.md.exists())

    def report(self, *extra):
        main = self.dir / "figures.jsonl"
        main.write_text(json.dumps({"section": "hookline dev", "command": "c"}) + "\n"
                        + json.dumps(fig(7000.0, 70000.0, True)) + "\n")
        buf = io.StringIO()
        with redirect_stdout(buf):
            code = bench.main(["bench.py", "report", str(main), "--machine", "Machine: m",
                               "--started", "s", *extra])
        self.assertEqual(code, 0)
        return buf.getvalue()

    def test_rewriting_the_other_tables_keeps_the_soak_section(self):
        self.md.write_text(MAIN, encoding="utf-8")
        self.soak()
        soak = self.md.read_text(encoding="utf-8")
        soak = soak[soak.index("## Soak"):]
        text = self.report("--previous", str(self.md))
        self.assertIn("## hookline dev\n", text)
        self.assertTrue(text.endswith("\n\n" + soak), text)

    def test_without_a_soak_nothing_is_dropped_or_added(self):
        plain = self.report()
        self.assertNotIn("## Soak", plain)
        # A previous file without a Soak section, or none at all: the same output.
        self.md.write_text(MAIN, encoding="utf-8")
        self.assertEqual(self.report("--previous", str(self.md)), plain)
        self.assertEqual(self.report("--previous", str(self.dir / "absent.md")), plain)

    def test_the_api_section_is_kept_beside_the_soak_and_replaced_by_its_own_run(self):
        self.md.write_text(MAIN, encoding="utf-8")
        self.soak()
        api = self.dir / "api.jsonl"
        api.write_text(json.dumps({"section": "API latency", "command": "infra/bench_api.py"}) + "\n"
                       + json.dumps({"bench": "api", "figure": "API message.create, p50", "value": 1.5,
                                     "unit": "ms", "peer": "svix-server", "peer_value": 3.0,
                                     "ratio": 0.5, "goal": None, "met": None}) + "\n")
        with redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(bench.main(["bench.py", "api", str(api), "--into", str(self.md),
                                         "--machine", "Machine: m", "--started", "s"]), 0)
        text = self.md.read_text(encoding="utf-8")
        self.assertEqual(text.count("## Management API"), 1)
        self.assertIn("### API latency", text)
        self.assertIn("| API message.create, p50 | 1.50 ms | svix-server | 3 ms | 0.500 | 1 |", text)
        # `report` keeps both sections it did not produce.
        out = self.report("--previous", str(self.md))
        self.assertIn("## Management API\n", out)
        self.assertIn("## Soak\n", out)
        self.assertIn("| API message.create, p50 |", out)

    def test_the_history_section_is_kept_by_report_and_replaced_by_its_own_run(self):
        self.md.write_text(MAIN, encoding="utf-8")
        figures = self.dir / "history.jsonl"

        def run(value: float) -> str:
            figures.write_text(
                json.dumps({"section": "Throughput with history on (sender)", "command": "c"}) + "\n"
                + json.dumps({"bench": "sender_deliveries",
                              "figure": "deliveries/s with the delivery history on, the store elsewhere",
                              "value": value, "unit": "deliveries/s",
                              "peer": "the same handler, history off", "peer_value": 1000.0,
                              "ratio": value / 1000.0, "goal": ">= 0.8x history off",
                              "met": value >= 800.0}) + "\n")
            with redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(bench.main(["bench.py", "history", str(figures), "--into", str(self.md),
                                             "--machine", "Machine: m", "--started", "s"]), 0)
            return self.md.read_text(encoding="utf-8")

        run(700.0)
        text = run(900.0)
        self.assertEqual(text.count("## Delivery history"), 1, text)
        self.assertIn("### Throughput with history on (sender)", text)
        self.assertIn("0.900", text)
        self.assertNotIn("0.700", text)
        out = self.report("--previous", str(self.md))
        self.assertIn("## Delivery history\n", out)
        self.assertIn("the store elsewhere", out)


def goals_from(text: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "goals.toml"
        path.write_text(text, encoding="utf-8")
        return bench.load_goals(path)


GOALS = """
[[goal]]
figure = '^end to end'
peer = "sink"
goal = ">= 0.3x the sink"
ratio_at_least = 0.3
why = "the queue round trip"
"""


class Linked(unittest.TestCase):
    TREE = ("hookline-sender v0.1.0\naws-sdk-sts v1.124.0\naws-sdk-sso v1.119.0\n"
            "rustls-native-certs v0.8.5\nrustls-native-certs v0.8.5 (*)\nwebpki-root-certs v1.0.11\n")

    def linked(self, symbols: bytes) -> tuple[int, list[dict]]:
        with tempfile.TemporaryDirectory() as d:
            binary, path = Path(d) / "bootstrap", Path(d) / "f.jsonl"
            binary.write_bytes(b"\x7fELF..." + symbols)
            with unittest.mock.patch.dict(os.environ, {"HOOKLINE_BENCH_JSON": str(path)}):
                code = bench.cmd_linked(binary, "sender bootstrap", self.TREE)
            lines = path.read_text().splitlines() if path.exists() else []
        return code, [json.loads(l) for l in lines]

    def test_counts_credential_crates_by_their_code_and_certificate_stores_by_the_build(self):
        # aws-sdk-sts is in the tree but the linker dropped its code; sso's is there. The
        # ssooidc crate's name contains sso's, but not length-prefixed.
        code, (unused, certs) = self.linked(b"_ZN14lambda_runtime3run_ZN5tokio2rt_ZN11aws_sdk_sso6config"
                                            b"_ZN15aws_sdk_ssooidc1x")
        self.assertEqual(code, 0)
        self.assertEqual(unused["value"], 2)
        self.assertIn("(aws_sdk_sso, aws_sdk_ssooidc)", unused["figure"])
        self.assertEqual(certs["value"], 2)
        self.assertIn("(webpki-root-certs, rustls-native-certs)", certs["figure"])
        rows = bench.collapse([{"section": "s", "command": "c"}, unused, certs])
        self.assertEqual(rows[0]["met_text"], "**no**")

    def test_a_stripped_binary_says_nothing(self):
        code, figures = self.linked(b"no symbols at all")
        self.assertEqual((code, figures), (1, []))


class Goals(unittest.TestCase):
    def test_a_goal_from_the_file_replaces_the_benchmarks_own_and_is_judged_run_by_run(self):
        goals = goals_from(GOALS)
        rows = bench.collapse([
            {"section": "dev", "command": "c"},
            fig(35.0, 100.0, True),   # 0.35: met
            fig(25.0, 100.0, True),   # 0.25: not met, whatever the benchmark said
        ], goals)
        self.assertEqual(rows[0]["goal"], ">= 0.3x the sink")
        self.assertEqual(rows[0]["met_text"], "in 1 of 2 runs")
        self.assertEqual(goals[0]["matched"], 2)

    def test_the_peer_must_match_too(self):
        goals = goals_from(GOALS)
        rows = bench.collapse([{"section": "dev", "command": "c"},
                               bench.figure("dev_load", "end to end", 1.0, "x", "other", 100.0)], goals)
        self.assertIsNone(rows[0]["goal"])
        self.assertEqual(goals[0]["matched"], 0)

    def test_unmet_goals_are_listed_with_why_and_met_ones_counted(self):
        goals = goals_from(GOALS)
        out = io.StringIO()
        bench.render_unmet(bench.collapse([{"section": "dev", "command": "c"},
                                           fig(20.0, 100.0)], goals), out.write)
        self.assertIn("Goals not met (1 of 1)", out.getvalue())
        self.assertIn("**end to end**: 0.200x against >= 0.3x the sink (no). the queue round trip",
                      out.getvalue())
        out = io.StringIO()
        bench.render_unmet(bench.collapse([{"section": "dev", "command": "c"},
                                           fig(40.0, 100.0)], goals), out.write)
        self.assertEqual(out.getvalue(), "All 1 goals of this section are met.\n\n")

    def test_a_goal_needs_exactly_one_check(self):
        with self.assertRaises(ValueError):
            goals_from(GOALS.replace("ratio_at_least = 0.3", "ratio_at_least = 0.3\nvalue_at_most = 1"))
        with self.assertRaises(ValueError):
            goals_from(GOALS.replace("ratio_at_least = 0.3", ""))

    def test_the_projects_goals_load_and_each_names_its_issue(self):
        goals = bench.load_goals()
        self.assertGreater(len(goals), 5)
        for g in goals:
            self.assertIn("issue", g, g["figure"])


if __name__ == "__main__":
    unittest.main()
