#!/usr/bin/env python3
"""What one million events cost on each of hookline's paths, from measured counts and list prices.

    python3 infra/cost.py            print the tables
    python3 infra/cost.py --write    rewrite docs/cost.md's generated tables
    python3 infra/cost.py --check    fail (exit 1) when docs/cost.md's tables differ from these

Inputs, each fact in one place:
- infra/cost-counts.json: requests per event, measured and asserted by the cost suites
  (tests/cost.rs, functions/api/tests/cost.rs), and the model's few inputs that are not counts;
- infra/prices.toml: list prices, each with its source, the day it was read and how sure it is;
- wrangler.toml (the consumer's max_batch_size) and template.yaml (MemorySize, BatchSize
  defaults): the deployed batch sizes and memory, checked against the measured counts.

Two ways to count a million events: "full batches" (a backlog or a fast stream: every consumer
batch and every Lambda batch full) and "evenly over a month" (0.39 events a second: a batch holds
what arrives within the deployed batching window, wrangler.toml's max_batch_timeout for the
consumer, template.yaml's MaxBatchingWindow for the sender, at least one event). Costs are list
prices with no free tier or included usage; the monthly bill for a month of one million events
takes those off (an account running nothing else) and adds plan minimums.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cost.md"
MILLION = 1_000_000


def load() -> tuple[dict, dict, dict]:
    counts = json.loads((ROOT / "infra" / "cost-counts.json").read_text())
    prices = tomllib.loads((ROOT / "infra" / "prices.toml").read_text())
    wrangler = tomllib.loads((ROOT / "wrangler.toml").read_text())
    return counts, prices, {"wrangler": wrangler, "template": (ROOT / "template.yaml").read_text()}


def template_default(template: str, name: str) -> int:
    """The Default of a template.yaml parameter (CloudFormation YAML is not plain YAML)."""
    m = re.search(rf"^  {name}:\n(?:    .*\n)*?    Default: (\d+)", template, re.M)
    if not m:
        sys.exit(f"template.yaml: no Default for parameter {name}")
    return int(m.group(1))


@dataclass
class Usage:
    """Billed units per event on one path, by line item."""

    units: dict[str, float] = field(default_factory=dict)

    def add(self, item: str, n: float) -> "Usage":
        self.units[item] = self.units.get(item, 0.0) + n
        return self

    def __add__(self, other: "Usage") -> "Usage":
        out = Usage(dict(self.units))
        for k, v in other.units.items():
            out.add(k, v)
        return out


# Line items: the price entry each is billed at, and the provider's column in the tables.
ITEMS = {
    "worker_requests": ("cloudflare.workers_requests", "Cloudflare"),
    "worker_cpu_ms": ("cloudflare.workers_cpu", "Cloudflare"),
    "queue_ops": ("cloudflare.queues_operations", "Cloudflare"),
    "r2_class_a": ("cloudflare.r2_class_a", "Cloudflare"),
    "r2_class_b": ("cloudflare.r2_class_b", "Cloudflare"),
    "lambda_invocations": ("aws.lambda_requests", "Lambda"),
    "lambda_gb_s": ("aws.lambda_arm_gb_second", "Lambda"),
    "sqs_requests": ("aws.sqs_requests", "SQS"),
    "dynamodb_wru": ("aws.dynamodb_write_units", "DynamoDB"),
    "dynamodb_rru": ("aws.dynamodb_read_units", "DynamoDB"),
}
# Prices quoted per unit rather than per million units.
PER_UNIT = {"aws.lambda_arm_gb_second"}


def price(prices: dict, dotted: str) -> dict:
    group, name = dotted.split(".")
    return prices[group][name]


def unit_price(prices: dict, item: str) -> float:
    key = ITEMS[item][0]
    p = price(prices, key)["value"]
    return p if key in PER_UNIT else p / MILLION


class Model:
    def __init__(self) -> None:
        counts, prices, deploy = load()
        self.prices = prices
        self.c = {k: v["value"] for k, v in counts["counts"].items()}
        self.m = {k: v["value"] for k, v in counts["model"].items()}
        consumer = deploy["wrangler"]["queues"]["consumers"][0]
        self.consumer_batch = consumer["max_batch_size"]
        self.consumer_window_s = consumer["max_batch_timeout"]
        self.memory_mb = template_default(deploy["template"], "MemorySize")
        self.lambda_batch = template_default(deploy["template"], "BatchSize")
        self.lambda_window_s = template_default(deploy["template"], "MaxBatchingWindow")
        # The measured batch sizes are the deployed ones; a drift is a failure, not a footnote.
        for key, deployed, where in [
            ("inbound.sqs_entries_per_send_batch", self.consumer_batch, "wrangler.toml max_batch_size"),
            ("outbound.messages_per_invocation", self.lambda_batch, "template.yaml BatchSize"),
        ]:
            if self.c[key] != deployed:
                sys.exit(f"infra/cost-counts.json {key} = {self.c[key]} but {where} = {deployed}")
        month = prices["meta"]["seconds_per_month"]
        self.rate = MILLION / month  # events a second, 1M a month evenly
        self.events_per_window = self.rate * 30  # per 30 s registry_cache window
        # Full batches mean a faster stream: its windows hold more events.
        self.fast_events_per_window = self.m["fast_stream_events_per_second"] * 30
        self.full = (float(self.consumer_batch), float(self.lambda_batch))
        self.even = (
            min(self.consumer_batch, max(1.0, self.rate * self.consumer_window_s)),
            min(self.lambda_batch, max(1.0, self.rate * self.lambda_window_s)),
        )

    # ---- the paths --------------------------------------------------------------------------

    def lambda_gb_s(self, batch: float, cpu_ms_per_delivery: float, aws_calls: float) -> float:
        """GB-seconds of one sender invocation of `batch` deliveries, at the template's memory."""
        cpu_share = min(1.0, self.memory_mb / self.m["lambda_mb_per_vcpu"])
        ms = (
            self.m["endpoint_latency_ms"]
            + batch * cpu_ms_per_delivery / cpu_share
            + aws_calls * self.m["aws_call_ms"]
        )
        return self.memory_mb / 1024 * ms / 1000

    def inbound(self, batches: tuple[float, float], claim_checked: bool = False) -> Usage:
        """A 1 KiB event: the Worker, its Queue, the consumer's SendMessageBatch (to your queue,
        or to the outbound queue for a relay source: the same requests). `claim_checked`: a body
        over the queue's inline limit, put in R2 (and read back once by your consumer); its
        envelope is as small as a 1 KiB event's."""
        c = self.c
        b = batches[0]
        consumer_invocation = price(self.prices, "cloudflare.consumer_invocation_is_a_request")["value"]
        u = Usage()
        u.add("worker_requests", c["inbound.worker_fetch_per_event"] + consumer_invocation / b)
        fetch_cpu = self.m["worker_cpu_ms_per_request_256kib" if claim_checked else "worker_cpu_ms_per_request"]
        u.add("worker_cpu_ms", fetch_cpu + self.m["worker_cpu_ms_per_consumed_message"])
        u.add("queue_ops", 3 * c["inbound.queue_messages_per_event"])
        u.add("sqs_requests", c["inbound.sqs_chunks_per_send_batch_1kib"] / b)
        if claim_checked:
            u.add("r2_class_a", c["inbound.r2_puts_per_claim_checked_event"])
            u.add("r2_class_b", 1)
        return u

    def outbound(self, batches: tuple[float, float], history: str | None, app_send: bool = True) -> Usage:
        """One delivery to one endpoint at the first attempt. `history`: None (configured
        endpoints, no table), "api" (a message the API created), "app" (an app's own id)."""
        c = self.c
        b = batches[1]
        u = Usage()
        if app_send:
            u.add("sqs_requests", 1)  # the app's SendMessage (SendMessageBatch: a tenth)
        u.add("sqs_requests", (c["outbound.esm_receive_per_invocation"] + c["outbound.esm_delete_per_invocation"]) / b)
        u.add("sqs_requests", c["outbound.sender_sqs_requests_per_event"])
        u.add("lambda_invocations", 1 / b)
        if history is None:
            u.add("lambda_gb_s", self.lambda_gb_s(b, self.m["sender_cpu_ms_per_delivery_one_core"], 0) / b)
            return u
        wru = c["history.dynamodb_write_units_per_delivery_at_most" if history == "api" else "history.dynamodb_write_units_per_delivery_app_id_at_most"]
        # A window's reads: one cold message's, or up to a cold full batch's (its concurrent misses
        # of the application share one read; each delivery may read the endpoint's health).
        if b <= 1:
            reads = c["history.dynamodb_reads_per_cache_window"] / max(1.0, self.events_per_window)
        else:
            reads = c["history.dynamodb_reads_per_cold_batch_at_most"] / self.fast_events_per_window
        u.add("dynamodb_wru", wru)
        u.add("dynamodb_rru", reads)
        # The writes of a delivery go out together: one round trip, plus the reads' share.
        u.add("lambda_gb_s", self.lambda_gb_s(b, self.m["sender_history_cpu_ms_per_delivery_one_core"], 1 + reads) / b)
        return u

    def api_create(self) -> Usage:
        """One message.create through the API Lambda (Function URL)."""
        c = self.c
        calls = c["api.dynamodb_reads_per_create"] + c["api.dynamodb_writes_per_create"] + c["api.sqs_requests_per_create"]
        u = Usage()
        u.add("lambda_invocations", 1)
        u.add("lambda_gb_s", self.memory_mb / 1024 * calls * self.m["aws_call_ms"] / 1000)
        u.add("dynamodb_rru", c["api.dynamodb_reads_per_create"])
        u.add("dynamodb_wru", c["api.dynamodb_write_units_per_create_at_most"])
        u.add("sqs_requests", c["api.sqs_requests_per_create"])
        return u

    def paths(self, batches: tuple[float, float]) -> list[tuple[str, Usage, bool]]:
        """(name, usage per event, uses the Worker), with `batches` (consumer, sender) events
        per batch."""
        return [
            ("inbound only (to your SQS queue)", self.inbound(batches), True),
            ("inbound only, a 200 KB body (R2 claim check)", self.inbound(batches, claim_checked=True), True),
            ("outbound only, no history (configured endpoints)", self.outbound(batches, None), False),
            ("outbound only, with history (app puts messages on SQS)", self.outbound(batches, "app"), False),
            ("outbound only, with history (API message.create)", self.api_create() + self.outbound(batches, "api", app_send=False), False),
            ("both, no history (relay source: inbound to outbound)", self.inbound(batches) + self.outbound(batches, None, app_send=False), True),
            ("both, with history (one inbound event + one API message)", self.inbound(batches) + self.api_create() + self.outbound(batches, "api", app_send=False), True),
        ]

    # ---- money ------------------------------------------------------------------------------

    def marginal(self, u: Usage, events: float = MILLION) -> dict[str, float]:
        """List price of `events` events by provider column, no free tier or included usage."""
        out: dict[str, float] = {}
        for item, n in u.units.items():
            col = ITEMS[item][1]
            out[col] = out.get(col, 0.0) + n * events * unit_price(self.prices, item)
        return out

    def monthly_bill(self, u: Usage, uses_worker: bool, events: float = MILLION) -> float:
        """The month's bill for `events` events: included usage and free tiers taken off
        (the account running nothing else), plan minimums added."""
        total = 0.0
        for item, n in u.units.items():
            key = ITEMS[item][0]
            included = price(self.prices, key).get("included", 0)
            billable = max(0.0, n * events - included)
            total += billable * unit_price(self.prices, item)
        if uses_worker:
            total += price(self.prices, "cloudflare.workers_paid_plan")["value"]
        return total

    def idle_sqs_requests(self) -> tuple[float, float]:
        month = self.prices["meta"]["seconds_per_month"]
        per_poller = month / self.m["esm_long_poll_seconds"]
        return self.m["esm_idle_pollers_min"] * per_poller, self.m["esm_idle_pollers_max"] * per_poller

    def retry_span_s(self) -> int:
        """The default retry schedule's total delay (shared/src/retry.rs, RetryPolicy::default)."""
        src = (ROOT / "shared" / "src" / "retry.rs").read_text()
        m = re.search(r"schedule: \[([0-9, ]+)\]\.map\(Duration::from_secs\)", src)
        if not m:
            sys.exit("shared/src/retry.rs: the default schedule moved; update infra/cost.py")
        return sum(int(x) for x in m.group(1).split(","))

    def batch_seconds(self, history: bool) -> float:
        """Seconds one full sender batch takes (the GB-s model's duration)."""
        gb_s = self.lambda_gb_s(
            self.lambda_batch,
            self.m["sender_history_cpu_ms_per_delivery_one_core" if history else "sender_cpu_ms_per_delivery_one_core"],
            1 if history else 0,
        )
        return gb_s / (self.memory_mb / 1024)

    def peer_floor(self) -> list[tuple[str, float]]:
        h = self.prices["meta"]["hours_per_month"]
        p = self.prices["peer"]
        return [
            ("PostgreSQL: RDS db.t4g.micro, Single-AZ", p["rds_postgres_db_t4g_micro"]["value"] * h, p["rds_postgres_db_t4g_micro"]["status"]),
            ("its storage: 20 GB gp3", p["rds_gp3_storage"]["value"] * p["rds_gp3_storage"]["quantity"], p["rds_gp3_storage"]["status"]),
            ("Redis: ElastiCache cache.t3.micro, one node", p["elasticache_cache_t3_micro"]["value"] * h, p["elasticache_cache_t3_micro"]["status"]),
            ("the worker and API server: EC2 t4g.small", p["ec2_t4g_small"]["value"] * h, p["ec2_t4g_small"]["status"]),
        ]


# ---- the tables -----------------------------------------------------------------------------

def money(x: float) -> str:
    if x == 0:
        return "$0"
    if x < 0.01:
        return f"${x:.4f}"
    return f"${x:,.2f}" if x >= 1 else f"${x:.3f}"


def num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x - round(x)) < 1e-9 or x >= 100:
        return f"{int(round(x)):,}"
    return f"{x:.3g}" if x >= 0.001 else f"{x:.2e}"


def tables(m: Model) -> dict[str, str]:
    out: dict[str, str] = {}
    c = m.c

    # Units per event.
    rows = ["| path (full batches) | Worker requests | Worker CPU ms | Queue ops | R2 ops (A + B) | SQS requests | Lambda invocations | Lambda GB-s | DynamoDB WRU | DynamoDB RRU |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name, u, _ in m.paths(m.full):
        g = u.units.get
        r2 = f"{num(g('r2_class_a', 0.0))} + {num(g('r2_class_b', 0.0))}" if g("r2_class_a") else "0"
        cells = [num(g(k, 0.0)) for k in ["worker_requests", "worker_cpu_ms", "queue_ops"]] + [r2]
        cells += [num(g(k, 0.0)) for k in ["sqs_requests", "lambda_invocations", "lambda_gb_s", "dynamodb_wru", "dynamodb_rru"]]
        rows.append("| " + " | ".join([name] + cells) + " |")
    out["units"] = "\n".join(rows)

    # Cost of a million events.
    rows = ["| path | Cloudflare | Lambda | SQS | DynamoDB | 1M events, full batches | 1M events, evenly over a month | bill for a month of 1M events | under $1 per million? |",
            "|---|---|---|---|---|---|---|---|---|"]
    even = {name: (u, worker) for name, u, worker in m.paths(m.even)}
    for name, u, _ in m.paths(m.full):
        cols = m.marginal(u)
        total = sum(cols.values())
        spread = sum(m.marginal(even[name][0]).values())
        bill = m.monthly_bill(*even[name])
        verdict = "yes" if spread < 1.0 else ("with full batches only" if total < 1.0 else "no")
        rows.append("| " + " | ".join([name] + [money(cols.get(c, 0.0)) for c in ["Cloudflare", "Lambda", "SQS", "DynamoDB"]]
                                     + [money(total), money(spread), money(bill), verdict]) + " |")
    out["cost"] = "\n".join(rows)

    # The goal, line by line: what keeps each path over $1 per million, and what would not.
    qp = price(m.prices, "cloudflare.queues_operations")["value"]
    wp = price(m.prices, "cloudflare.workers_requests")["value"]
    sp = price(m.prices, "aws.sqs_requests")["value"]
    dw = price(m.prices, "aws.dynamodb_write_units")["value"]
    paths_full = {n: u for n, u, _ in m.paths(m.full)}
    paths_even = {n: u for n, u, _ in m.paths(m.even)}
    inbound = paths_full["inbound only (to your SQS queue)"]
    q_cost = inbound.units["queue_ops"] * qp
    direct = inbound.units["worker_requests"] * wp - wp / m.consumer_batch + c["inbound.worker_fetch_per_event"] * sp
    hist_api = c["history.dynamodb_write_units_per_delivery_at_most"] * dw
    hist_app = c["history.dynamodb_write_units_per_delivery_app_id_at_most"] * dw
    create = sum(m.marginal(m.api_create()).values())
    create_wru = c["api.dynamodb_write_units_per_create_at_most"]
    one_write = c["history.dynamodb_write_units_per_delivery_at_most"] / c["history.dynamodb_writes_per_delivery"] * dw
    out_even = sum(m.marginal(paths_even["outbound only, no history (configured endpoints)"]).values())
    out_even_batch = sum(m.marginal(m.outbound((m.even[0], float(m.lambda_batch)), None)).values())
    batch_send = sum(m.marginal(m.outbound(m.full, None)).values()) - sp * (1 - 1 / 10)
    rows = [
        f"- **Inbound: the Cloudflare Queue alone is {money(q_cost)} per million** ({num(inbound.units['queue_ops'])} operations an event, write, read and delete, at {money(qp)} per million): over the goal before anything else is counted. Cloudflare bills them per message, not per batch, so no batching on hookline's side changes it. What would: answering `200` after an SQS `SendMessage` from the Worker itself, with no Cloudflare Queue (about {money(direct)} per million: one Worker request and one SQS request an event), at the price of tying every `200` to SQS's availability from the edge; or a cheaper durable store at the edge. Neither is built; the queue is what lets the Worker answer while SQS is down.",
        f"- **History: {money(hist_api)} per million deliveries** of messages the API created ({money(hist_app)} when apps put messages with their own ids on SQS, stored as they arrive): {num(c['history.dynamodb_writes_per_delivery'])} writes a delivery at {money(dw)} per million write units. Each write is {money(one_write)} per million; keeping the attempt once (not under the message and the endpoint both) with the status folded into it would make it one write, and a steady stream is cheaper on provisioned capacity; none of that is built.",
        f"- **The API: {money(create)} per million `message.create` calls**, before the delivery: {num(c['api.dynamodb_writes_per_create'])} `TransactWriteItems` a call (the message claiming its `eventId` and idempotency key, the enqueued mark, the answer kept for the key), up to {num(create_wru)} write units, since a transaction takes two units per KB of each item, and {num(c['api.dynamodb_reads_per_create'])} reads. Plain `PutItem`s where nothing else must change at once (the enqueued mark, the kept answer) would take a unit per KB instead of two; not built.",
        f"- **Outbound without history is under $1 with full batches, not with a thin stream**: one million events spread evenly over a month arrive one at a time, so the sender is invoked, receives and deletes once per event ({money(out_even)} per million). A `MaxBatchingWindow` of {math.ceil(m.lambda_batch / m.rate)} s fills batches of {m.lambda_batch} at that rate ({money(out_even_batch)} per million) at the cost of up to that much latency per event; an app that sends with `SendMessageBatch` instead of `SendMessage` saves {money(sp * 0.9)} more ({money(batch_send)} with full batches).",
    ]
    out["verdict"] = "\n".join(rows)

    # Storage, which grows with retention rather than with the month's events.
    ds = price(m.prices, "aws.dynamodb_storage")
    r2s = price(m.prices, "cloudflare.r2_storage")
    gb_history = c["history.dynamodb_write_units_per_delivery_at_most"] * MILLION / 1024 / 1024
    gb_r2 = 200_000 * MILLION / 1e9
    cfg = (ROOT / "shared" / "src" / "config.rs").read_text()
    ret = re.search(r"DEFAULT_RETENTION: Duration = Duration::from_secs\(([0-9* ]+)\)", cfg)
    if not ret:
        sys.exit("shared/src/config.rs: DEFAULT_RETENTION moved; update infra/cost.py")
    retention_days = math.prod(int(x) for x in ret.group(1).split("*")) / 86400
    out["storage"] = (
        f"- **History in DynamoDB**: at most {gb_history:.1f} GB per million deliveries kept (each "
        f"write at most 1 KB, {num(c['history.dynamodb_write_units_per_delivery_at_most'])} a delivery), "
        f"{money(gb_history * ds['value'])} a month at {money(ds['value'])} per GB-month beyond the "
        f"{num(ds['included'])} GB free; with the default `api.retention` of {num(retention_days)} days, a steady "
        f"million deliveries a month keeps about {num(round(gb_history * retention_days / 30, 1))} GB.\n"
        f"- **Claim-checked bodies in R2**: {num(gb_r2)} GB per million 200 KB bodies, "
        f"{money(gb_r2 * r2s['value'])} a month at {money(r2s['value'])} per GB-month beyond "
        f"{num(r2s['included'])} GB free, until a lifecycle rule removes them."
    )

    # Idle.
    lo, hi = m.idle_sqs_requests()
    sqs = price(m.prices, "aws.sqs_requests")
    paid = price(m.prices, "cloudflare.workers_paid_plan")["value"]
    rows = ["| while idle | requests a month | bill |", "|---|---|---|",
            f"| Worker on Workers Free (100,000 requests a day) | 0 | $0 |",
            f"| Worker on Workers Paid | 0 | {money(paid)} (the plan's minimum) |",
            f"| sender: the event source mapping's long polls ({num(m.m['esm_idle_pollers_min'])} to {num(m.m['esm_idle_pollers_max'])} pollers, one request each {num(m.m['esm_long_poll_seconds'])} s) | {num(lo)} to {num(hi)} SQS requests | $0 within SQS's {num(sqs['included'])} free requests; {money(lo * sqs['value'] / MILLION)} to {money(hi * sqs['value'] / MILLION)} beyond them |",
            "| API Lambda, Lambda invocations, DynamoDB requests | 0 | $0 (DynamoDB storage aside) |",
            f"| what Workers Free carries | {num(min(price(m.prices, 'cloudflare.workers_free_requests_per_day')['value'] / (c['inbound.worker_fetch_per_event'] + 1 / m.consumer_batch), price(m.prices, 'cloudflare.queues_free_operations_per_day')['value'] / (3 * c['inbound.queue_messages_per_event'])))} events a day at most (its daily requests and queue operations) | $0 |"]
    out["idle"] = "\n".join(rows)

    # Where each path stops.
    lim = {k: v["value"] for k, v in m.prices["limits"].items()}
    c = m.c
    queue_rate = lim["cf_queue_messages_per_second"] / c["inbound.queue_messages_per_event"]
    batch_s = m.batch_seconds(history=True)
    sender_rate = lim["lambda_account_concurrency"] * m.lambda_batch / batch_s
    ramp_min = (min(lim["esm_max_concurrent_batches"], lim["lambda_account_concurrency"]) - lim["esm_initial_batches"]) / lim["esm_scale_per_minute"]
    span = m.retry_span_s()
    failing_rate = lim["sqs_in_flight"] / span
    wru_delivery = c["history.dynamodb_write_units_per_delivery_at_most"]
    per_key_writes = wru_delivery / c["history.dynamodb_writes_per_delivery"]
    endpoint_rate = lim["dynamodb_partition_wcu"] / per_key_writes
    table_rate = lim["dynamodb_table_wru"] / wru_delivery
    new_table_rate = lim["dynamodb_new_table_wru"] / wru_delivery
    api_wru = c["api.dynamodb_write_units_per_create_at_most"]
    rows = ["| limit | value | what it means for one hookline deployment |", "|---|---|---|",
            f"| Cloudflare Queue throughput | {num(lim['cf_queue_messages_per_second'])} messages/s per queue | **{num(queue_rate)} inbound events/s** (one queue, `hookline-inbound`, for every source; {num(queue_rate * 86400 * 30 / 1e9)} billion a month) |",
            f"| Cloudflare consumer concurrency | {num(lim['cf_consumer_concurrency'])} invocations per queue | {num(lim['cf_consumer_concurrency'] * m.consumer_batch)} messages in flight at batches of {m.consumer_batch}: keeps up with the queue's ceiling while a batch's SendMessageBatch takes under {lim['cf_consumer_concurrency'] * m.consumer_batch / lim['cf_queue_messages_per_second']:g} s |",
            f"| Lambda concurrency | {num(lim['lambda_account_concurrency'])} per Region (default, shared) | **about {num(round(sender_rate, -3))} deliveries/s** at {m.lambda_batch} per batch and {batch_s * 1000:.0f} ms per batch (the GB-s model, history on); the API Lambda draws on the same pool |",
            f"| event source mapping scaling | {num(lim['esm_initial_batches'])} batches at first, +{num(lim['esm_scale_per_minute'])} a minute, at most {num(lim['esm_max_concurrent_batches'])} | {ramp_min:.1f} minutes from idle to full concurrency: a burst waits on SQS meanwhile (nothing is lost) |",
            f"| SQS in-flight messages | about {num(lim['sqs_in_flight'])} per standard queue | retries wait in flight (visibility timeout): with every endpoint failing through the default schedule ({span} s), **{num(round(failing_rate))} events/s** fill it, and then the queue hands out nothing, to healthy endpoints either |",
            f"| DynamoDB partition | {num(lim['dynamodb_partition_wcu'])} WCU/s, {num(lim['dynamodb_partition_rcu'])} RCU/s per partition | **{num(round(endpoint_rate))} deliveries/s per endpoint** with history: each delivery writes one item under `atep#{{app}}/{{endpoint}}` and one under `dest#{{app}}/{{endpoint}}`, each key one partition's worth |",
            f"| DynamoDB partition, the API | the same | `message.create` writes in transactions (two units per KB of each item) under `msg#{{app}}` and, with an `idempotency-key`, `idem#{{token scope}}`: **{num(lim['dynamodb_partition_wcu'] / 2)} to {num(lim['dynamodb_partition_wcu'])} creates/s per application, and per token scope for the whole deployment** when one global token sends them all |",
            f"| DynamoDB table | {num(lim['dynamodb_table_wru'])} WRU/s per on-demand table (default quota); a new table takes {num(lim['dynamodb_new_table_wru'])} at once | **{num(round(table_rate))} deliveries/s** with history ({num(round(new_table_rate))} on a new table until it has seen more); message.create: {num(round(lim['dynamodb_table_wru'] / api_wru)) if api_wru else 'n/a'} a second |"]
    out["scale"] = "\n".join(rows)

    # The self-hosted peer.
    floor = m.peer_floor()
    rows = ["| always on | a month | price |", "|---|---|---|"]
    for name, cost, status in floor:
        rows.append(f"| {name} | {money(cost)} | {status} |")
    total_floor = sum(cost for _, cost, _ in floor)
    rows.append(f"| **total, with no event at all** | **{money(total_floor)}** | |")
    dearest = max(sum(m.marginal(u).values()) for _, u, _ in m.paths(m.even))
    rows.append(f"| the same money on hookline's dearest path, evenly over a month | {num(round(total_floor / dearest, 1))} million events | |")
    out["peer"] = "\n".join(rows)

    # Prices used.
    rows = ["| price | value | unit | read | status | source |", "|---|---|---|---|---|---|"]
    for group in ["cloudflare", "aws", "peer"]:
        for name, p in m.prices[group].items():
            rows.append(f"| `{group}.{name}` | {p['value']:g} | {p['unit']} | {p['read']} | {p['status']} | {p['source']} |")
    out["prices"] = "\n".join(rows)

    # The deployed sizes and the model's inputs.
    rows = ["| input | value | from |", "|---|---|---|",
            f"| consumer batch (Cloudflare Queue) | {m.consumer_batch} | wrangler.toml `max_batch_size` (asserted equal to the measured batch) |",
            f"| sender batch (SQS event source mapping) | {m.lambda_batch} | template.yaml `BatchSize` default (asserted equal to the measured batch) |",
            f"| Lambda memory | {m.memory_mb} MB | template.yaml `MemorySize` default (both functions) |",
            f"| consumer / sender batching window | {m.consumer_window_s} s / {m.lambda_window_s} s | wrangler.toml `max_batch_timeout`, template.yaml `MaxBatchingWindow` default |",
            f"| events per batch, 1M events evenly over a month (consumer / sender) | {m.even[0]:.2f} / {m.even[1]:.2f} | {m.rate:.3f} events/s times the window, at least 1, at most the batch |",
            f"| events per `registry_cache` window (30 s), 1M events evenly over a month | {m.events_per_window:.1f} | the history's reads are spread over them |"]
    for k, v in json.loads((ROOT / "infra" / "cost-counts.json").read_text())["model"].items():
        rows.append(f"| `{k}` | {v['value']:g} | {v['source']} |")
    out["inputs"] = "\n".join(rows)
    return out


def splice(doc: str, generated: dict[str, str]) -> str:
    for name, body in generated.items():
        begin, end = f"<!-- cost.py: {name} -->", f"<!-- cost.py: end {name} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if not pattern.search(doc):
            sys.exit(f"docs/cost.md has no {begin} ... {end} block")
        doc = pattern.sub(lambda _: f"{begin}\n{body}\n{end}", doc)
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail when docs/cost.md is stale")
    mode.add_argument("--write", action="store_true", help="rewrite docs/cost.md's tables")
    args = ap.parse_args()
    generated = tables(Model())
    if not (args.check or args.write):
        for name, body in generated.items():
            print(f"## {name}\n{body}\n")
        return 0
    doc = DOC.read_text()
    new = splice(doc, generated)
    if args.write:
        DOC.write_text(new)
        return 0
    if new != doc:
        print("docs/cost.md's tables are stale: run `python3 infra/cost.py --write` and commit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
