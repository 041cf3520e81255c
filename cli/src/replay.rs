//! `hookline replay`: move dead-lettered messages back to their queue, with filters.
//!
//! Like `aws sqs start-message-move-task`, but it can pick messages (by event type, endpoint,
//! error code, time) and it also works on `hookline dev`. No message may be lost, so the order
//! is fixed: a matching message is sent to the target first (body unchanged, the `hookline-*`
//! dead-letter attributes dropped, other attributes kept) and deleted from the dead-letter queue
//! only once the send has succeeded. A failure between the two leaves a copy on both queues
//! (reported), never on neither.
//!
//! Messages that are not moved stay invisible until the end of the run (their visibility timeout
//! is extended while it lasts) and are then made visible again. Holding them is what lets the run
//! see every message once: the dead-letter queue drains as it is scanned, so an empty receive
//! means the end, and message ids already seen are never counted twice. Messages dead-lettered
//! after the run began (a moved message that failed again comes back with a new id) are left
//! for the next run, so a replay always ends.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageAttributeValue,
    MessageSystemAttributeName, QueueAttributeName,
};
use futures_util::future::join_all;
use hookline_core::envelope::{InboundEnvelope, QueueMessage};
use hookline_core::pattern::EventPattern;
use hookline_core::time::{Timestamp, parse_duration};
use hookline_sender::dlq_attr;
use hookline_sqs::limits::MAX_BATCH_ENTRIES;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::error::{Interruption, Problems, UsageError};
use crate::now;
use crate::sqs_target::{Connection, Sqs, dev_queue, queue_name};
use crate::ui::{Style, untrusted};
use crate::{CliError, Ui};

/// The prefix of the attributes the sender adds when it dead-letters a message; they describe
/// the failure, not the message, so they are not carried back.
pub const DEAD_LETTER_ATTR_PREFIX: &str = "hookline-";
/// How long each receive waits for messages (long polling asks every SQS server, so an empty
/// answer means the queue has nothing visible).
const RECEIVE_WAIT_SECS: i32 = 1;
/// Messages per receive (SQS's maximum).
const RECEIVE_MAX: i32 = MAX_BATCH_ENTRIES as i32;

/// `hookline replay` options, in the order `--help` lists them: how to reach SQS and what to do,
/// then which queues, then which messages.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  # list what is dead-lettered on hookline dev, move nothing
  hookline replay --dev --dry-run
  hookline replay --dev --type 'invoice.*' --endpoint billing
  hookline replay --from \"$DLQ_URL\" --to \"$OUTBOUND_QUEUE_URL\" \\
    --since 2h --limit 100")]
pub struct Args {
    /// How to reach SQS.
    #[command(flatten)]
    pub conn: Connection,
    /// List what would move; move nothing (every message is visible again at the end).
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most N messages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Seconds each received message stays hidden from other consumers (extended while the run
    /// lasts).
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(i32).range(10..=43_200))]
    pub visibility_timeout: i32,
    /// The dead-letter queue to read: URL or name (with --dev: hookline-outbound-dlq).
    #[arg(long, value_name = "DLQ", help_heading = "Queues")]
    pub from: Option<String>,
    /// The queue to move messages to: URL or name (with --dev: hookline-outbound; without, the
    /// one queue whose redrive policy names --from).
    #[arg(long, value_name = "QUEUE", help_heading = "Queues")]
    pub to: Option<String>,
    /// With --dev: replay hookline-inbound-dlq to hookline-inbound instead.
    #[arg(long, requires = "dev", help_heading = "Queues")]
    pub inbound: bool,
    /// Only messages of this event type; `*` matches any run of characters, e.g. `invoice.*`
    /// (repeatable: any of them).
    #[arg(long = "type", value_name = "PATTERN", help_heading = FILTERS)]
    pub types: Vec<String>,
    /// Only messages for this endpoint: the `hookline-endpoint` attribute or the body's
    /// `endpoint` / `endpoints` (repeatable: any of them).
    #[arg(long = "endpoint", value_name = "NAME", help_heading = FILTERS)]
    pub endpoints: Vec<String>,
    /// Only messages dead-lettered with this error code (`exhausted`, `gone`, `client_error`,
    /// `blocked`, `malformed`, `unknown_endpoint`, `not_subscribed`, `too_large`, `render`;
    /// `none` for messages without a `hookline-error`, i.e. moved by SQS's redrive policy).
    /// Repeatable.
    #[arg(long = "error", value_name = "CODE", help_heading = FILTERS)]
    pub errors: Vec<String>,
    /// Only messages dead-lettered at or after this time: RFC 3339 or a duration ago (`2h`,
    /// `30m`, `1d`).
    #[arg(long, value_name = "WHEN", help_heading = FILTERS)]
    pub since: Option<String>,
    /// Only messages dead-lettered before this time: RFC 3339 or a duration ago.
    #[arg(long, value_name = "WHEN", help_heading = FILTERS)]
    pub until: Option<String>,
}

/// The `--help` heading of the filters.
const FILTERS: &str = "Filters (every kind given must match)";

// ---- filters --------------------------------------------------------------------------------

/// Which dead letters to move; every given criterion must hold (each repeated one: any value).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Event-type patterns.
    pub types: Vec<EventPattern>,
    /// Endpoint names.
    pub endpoints: Vec<String>,
    /// `hookline-error` codes (`none`: no such attribute).
    pub errors: Vec<String>,
    /// Dead-lettered at or after.
    pub since: Option<Timestamp>,
    /// Dead-lettered before.
    pub until: Option<Timestamp>,
}

/// What a dead letter says about itself, from its body and attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `outbound`, `delivery`, `inbound`, or `unreadable`.
    pub kind: &'static str,
    /// The event type, when the body has one.
    pub event_type: Option<String>,
    /// Endpoint names from the attribute and the body.
    pub endpoints: Vec<String>,
    /// `hookline-error`, whole.
    pub error: Option<String>,
    /// When it was sent to the dead-letter queue (`SentTimestamp`).
    pub sent: Option<Timestamp>,
}

impl Facts {
    /// The code part of `hookline-error` (`exhausted: HTTP 503` → `exhausted`).
    pub fn error_code(&self) -> Option<&str> {
        self.error
            .as_deref()
            .map(|e| e.split(':').next().unwrap_or(e).trim())
    }

    /// Reads a received message.
    pub fn of(
        body: &str,
        attributes: Option<&HashMap<String, MessageAttributeValue>>,
        system: Option<&HashMap<MessageSystemAttributeName, String>>,
    ) -> Facts {
        let attr = |name: &str| {
            attributes
                .and_then(|a| a.get(name))
                .and_then(|v| v.string_value())
                .map(str::to_owned)
        };
        let mut facts = Facts::from_body(body);
        if let Some(endpoint) = attr(dlq_attr::ENDPOINT)
            && !facts.endpoints.contains(&endpoint)
        {
            facts.endpoints.insert(0, endpoint);
        }
        facts.error = attr(dlq_attr::ERROR);
        facts.sent = system
            .and_then(|s| s.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|ms| ms.parse::<i64>().ok())
            .map(Timestamp::from_unix_millis);
        facts
    }

    /// What the body says: the core's reading of each format, else whatever `type` and
    /// `endpoint` fields a JSON object has (a malformed message is still worth filtering).
    pub fn from_body(body: &str) -> Facts {
        match QueueMessage::from_json(body.as_bytes()) {
            Ok(QueueMessage::Outbound(m)) => {
                return Facts {
                    kind: "outbound",
                    event_type: Some(m.event_type),
                    endpoints: m.endpoints.unwrap_or_default(),
                    ..Facts::default()
                };
            }
            Ok(QueueMessage::Delivery(m)) => {
                return Facts {
                    kind: "delivery",
                    event_type: Some(m.event_type),
                    endpoints: vec![m.endpoint],
                    ..Facts::default()
                };
            }
            Err(_) => {}
        }
        if let Ok(env) = InboundEnvelope::from_json(body.as_bytes()) {
            return Facts {
                kind: "inbound",
                event_type: env.event_type,
                ..Facts::default()
            };
        }
        // Not JSON at all: there are no facts to read, and `Null` has no fields, so the message
        // is `unreadable` with no type or endpoint. Nothing is lost: it is still moved (body
        // unchanged) when the filters do not ask for a type or endpoint.
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut endpoints: Vec<String> = text("endpoint").into_iter().collect();
        if let Some(list) = value.get("endpoints").and_then(Value::as_array) {
            // Only strings can name endpoints; other items name none (the body is not changed).
            endpoints.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        Facts {
            kind: "unreadable",
            event_type: text("type"),
            endpoints,
            ..Facts::default()
        }
    }
}

impl Filter {
    /// Builds the filter from the options; `now` anchors durations such as `2h`.
    pub fn parse(args: &Args, now: Timestamp) -> Result<Filter, CliError> {
        let types = args
            .types
            .iter()
            .map(|t| {
                EventPattern::from_str(t).map_err(|source| UsageError::BadTypePattern {
                    pattern: t.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let when = |flag: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| {
                    parse_when(v, now).ok_or_else(|| UsageError::BadTime {
                        flag,
                        value: v.to_owned(),
                    })
                })
                .transpose()
        };
        let since = when("--since", &args.since)?;
        let until = when("--until", &args.until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(UsageError::EmptyWindow { since: s, until: u }.into());
        }
        Ok(Filter {
            types,
            endpoints: args.endpoints.clone(),
            errors: args.errors.clone(),
            since,
            until,
        })
    }

    /// True when every given criterion holds for `facts`.
    pub fn matches(&self, facts: &Facts) -> bool {
        let type_ok = self.types.is_empty()
            || facts
                .event_type
                .as_deref()
                .is_some_and(|t| self.types.iter().any(|p| p.matches(t)));
        let endpoint_ok =
            self.endpoints.is_empty() || facts.endpoints.iter().any(|e| self.endpoints.contains(e));
        let error_ok = self.errors.is_empty()
            || self
                .errors
                .iter()
                .any(|want| match (want.as_str(), facts.error_code()) {
                    ("none", None) => true,
                    (want, Some(code)) => want == code,
                    _ => false,
                });
        let since_ok = self
            .since
            .is_none_or(|s| facts.sent.is_some_and(|t| t >= s));
        let until_ok = self.until.is_none_or(|u| facts.sent.is_some_and(|t| t < u));
        type_ok && endpoint_ok && error_ok && since_ok && until_ok
    }
}

/// An RFC 3339 time, or a duration before `now`: the core's durations (`90s`, `30m`, `1h30m`)
/// plus days in front (`1d`, `2d12h`).
pub fn parse_when(text: &str, now: Timestamp) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(text) {
        return Some(t);
    }
    if text.is_empty() {
        return None;
    }
    let (days, rest) = match text.split_once('d') {
        Some((digits, rest))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (digits.parse::<u64>().ok()?, rest)
        }
        _ => (0, text),
    };
    let rest = if rest.is_empty() {
        Duration::ZERO
    } else {
        parse_duration(rest)?
    };
    let ago = Duration::from_secs(days.checked_mul(86_400)?).checked_add(rest)?;
    Some(now.saturating_sub(ago))
}

// ---- the run --------------------------------------------------------------------------------

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Moved(String),
    WouldMove,
    Skipped(&'static str),
    Failed(String),
}

/// A message still on the dead-letter queue, hidden until the end of the run.
struct Held {
    receipt: String,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    moved: u64,
    skipped: u64,
    failed: u64,
    scanned: u64,
}

/// Prints per-message lines and keeps the progress bar (if any) out of their way.
struct Reporter {
    ui: Ui,
    bar: Option<ProgressBar>,
    dry_run: bool,
}

impl Reporter {
    fn new(ui: Ui, dry_run: bool, approximate: Option<u64>) -> Reporter {
        let bar = (!ui.json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(approximate, ProgressDrawTarget::stderr());
            let template = if approximate.is_some() {
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/~{len} scanned  {msg}"
            } else {
                "{spinner} [{elapsed_precise}] {pos} scanned  {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Reporter { ui, bar, dry_run }
    }

    fn progress(&self, c: &Counts) {
        if let Some(bar) = &self.bar {
            if bar.length().is_some_and(|len| c.scanned > len) {
                bar.set_length(c.scanned);
            }
            bar.set_position(c.scanned);
            let verb = if self.dry_run { "would move" } else { "moved" };
            bar.set_message(format!(
                "{verb} {}, skipped {}, failed {}",
                c.moved, c.skipped, c.failed
            ));
        }
    }

    fn human(&self, text: &str, to_stderr: bool) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if to_stderr => self.ui.note(text),
            None => self.ui.line(text),
        }
    }

    fn message(&self, msg: &Message, facts: &Facts, action: &Action) {
        let id = msg.message_id().unwrap_or("?");
        if self.ui.json {
            let (name, new_id, reason) = match action {
                Action::Moved(new) => ("moved", Some(new.as_str()), None),
                Action::WouldMove => ("would_move", None, None),
                Action::Skipped(why) => ("skipped", None, Some(*why)),
                Action::Failed(why) => ("failed", None, Some(why.as_str())),
            };
            self.ui.json_line(&json!({
                "kind": "message",
                "action": name,
                "message_id": id,
                "new_message_id": new_id,
                "reason": reason,
                "format": facts.kind,
                "type": facts.event_type,
                "endpoints": facts.endpoints,
                "error": facts.error,
                "sent_at": facts.sent.map(Timestamp::to_rfc3339),
            }));
            return;
        }
        let ui = self.ui;
        // Everything here comes from the dead-lettered message: it goes through `untrusted`.
        let describe = || {
            let mut s = format!(
                "{}  {}",
                untrusted(id),
                ui.paint(
                    Style::Cyan,
                    &untrusted(facts.event_type.as_deref().unwrap_or("(no type)"))
                )
            );
            if !facts.endpoints.is_empty() {
                s.push_str(&format!("  -> {}", untrusted(&facts.endpoints.join(","))));
            }
            if let Some(error) = &facts.error {
                s.push_str(&format!("  {}", ui.paint(Style::Dim, &untrusted(error))));
            }
            if let Some(sent) = facts.sent {
                s.push_str(&format!("  {}", ui.paint(Style::Dim, &sent.to_rfc3339())));
            }
            s
        };
        match action {
            Action::WouldMove => self.human(
                &format!("{} {}", ui.paint(Style::Green, "would move"), describe()),
                false,
            ),
            Action::Failed(why) => self.human(
                &format!(
                    "{} {}: {}",
                    ui.paint(Style::Red, "failed"),
                    describe(),
                    untrusted(why)
                ),
                true,
            ),
            Action::Moved(_) | Action::Skipped(_) => {}
        }
    }
}

/// Runs `hookline replay`.
pub async fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let filter = Filter::parse(&args, now())?;
    let (from_spec, to_spec) = pick_queues(&args)?;
    let sqs = Sqs::connect(&args.conn, Some(&from_spec)).await?;
    let from = sqs.queue_url(&from_spec).await?;
    let to = match to_spec {
        Some(to) => sqs.queue_url(&to).await?,
        None => source_queue(&sqs, &from).await?,
    };
    if from == to {
        return Err(UsageError::SameQueue { queue: from }.into());
    }
    // Check both queues before touching a message, so a typo costs nothing.
    let approximate = visible_count(&sqs, &from).await?;
    visible_count(&sqs, &to).await?;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
        });
    }

    let reporter = Reporter::new(ui, args.dry_run, approximate);
    let mut run = Run {
        sqs: &sqs,
        from: &from,
        to: &to,
        filter: &filter,
        limit: args.limit,
        dry_run: args.dry_run,
        visibility: args.visibility_timeout,
        reporter: &reporter,
        counts: Counts::default(),
        seen: HashSet::new(),
        started_ms: now().unix_millis(),
        held: HashMap::new(),
    };
    let stopped = run.scan(&interrupted).await;
    let unreleased = run.release_all().await;
    let counts = run.counts;
    if let Some(bar) = &reporter.bar {
        bar.finish_and_clear();
    }

    let incomplete = match stopped {
        Stop::Scanned | Stop::Limit => None,
        Stop::Interrupted => Some(Interruption::Interrupted),
        Stop::Failed(e) if counts.scanned == 0 => return Err(e),
        Stop::Failed(e) => Some(Interruption::Failed(Box::new(e))),
    };
    summarise(
        ui,
        &args,
        &from,
        &to,
        counts,
        incomplete.is_some(),
        unreleased,
    );
    if counts.failed > 0 {
        return Err(Problems::NotMoved {
            failed: counts.failed,
            queue: queue_name(&from).to_owned(),
        }
        .into());
    }
    if let Some(why) = incomplete {
        return Err(Problems::Incomplete { why }.into());
    }
    Ok(())
}

fn summarise(
    ui: Ui,
    args: &Args,
    from: &str,
    to: &str,
    c: Counts,
    incomplete: bool,
    unreleased: usize,
) {
    if ui.json {
        ui.json_line(&json!({
            "kind": "summary",
            "dry_run": args.dry_run,
            "from": from,
            "to": to,
            "moved": if args.dry_run { 0 } else { c.moved },
            "would_move": if args.dry_run { c.moved } else { 0 },
            "skipped": c.skipped,
            "failed": c.failed,
            "scanned": c.scanned,
            "complete": !incomplete,
            "still_hidden": unreleased,
        }));
        return;
    }
    let (from, to) = (queue_name(from), queue_name(to));
    let text = if args.dry_run {
        format!(
            "dry run: would move {} of {} scanned message(s) from {from} to {to}; nothing was moved",
            c.moved, c.scanned
        )
    } else {
        format!(
            "moved {}, skipped {}, failed {} ({} scanned) from {from} to {to}",
            ui.paint(Style::Green, &c.moved.to_string()),
            c.skipped,
            if c.failed > 0 {
                ui.paint(Style::Red, &c.failed.to_string())
            } else {
                c.failed.to_string()
            },
            c.scanned
        )
    };
    ui.line(&text);
    if unreleased > 0 {
        ui.note(&format!(
            "{unreleased} message(s) could not be made visible again; they reappear on {from} \
             when their visibility timeout ({}s) ends",
            args.visibility_timeout
        ));
    }
}

/// The dead-letter queue and the target (URLs or names); `None` target: ask SQS.
fn pick_queues(args: &Args) -> Result<(String, Option<String>), CliError> {
    let (dev_from, dev_to) = if args.inbound {
        (dev_queue::INBOUND_DLQ, dev_queue::INBOUND)
    } else {
        (dev_queue::OUTBOUND_DLQ, dev_queue::OUTBOUND)
    };
    let given = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    if args.conn.dev {
        return Ok((
            given(&args.from).unwrap_or_else(|| dev_from.to_owned()),
            Some(given(&args.to).unwrap_or_else(|| dev_to.to_owned())),
        ));
    }
    let from = given(&args.from).ok_or(UsageError::NoDeadLetterQueue)?;
    Ok((from, given(&args.to)))
}

/// The one queue whose redrive policy names `dlq` (`ListDeadLetterSourceQueues`).
async fn source_queue(sqs: &Sqs, dlq: &str) -> Result<String, CliError> {
    let out = sqs
        .client
        .list_dead_letter_source_queues()
        .queue_url(dlq)
        .send()
        .await
        .map_err(|e| sqs.error("ListDeadLetterSourceQueues", dlq, &e))?;
    match out.queue_urls() {
        [one] => Ok(one.clone()),
        [] => Err(UsageError::NoSourceQueue {
            dlq: queue_name(dlq).to_owned(),
        }
        .into()),
        many => Err(UsageError::ManySourceQueues {
            dlq: queue_name(dlq).to_owned(),
            queues: many.to_vec(),
        }
        .into()),
    }
}

/// `ApproximateNumberOfMessages` of a queue (checks that it exists and is reachable).
async fn visible_count(sqs: &Sqs, queue: &str) -> Result<Option<u64>, CliError> {
    let out = sqs
        .client
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| sqs.error("GetQueueAttributes", queue, &e))?;
    Ok(out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok()))
}

/// Why the scan ended.
enum Stop {
    /// Every message was seen once.
    Scanned,
    /// `--limit` reached.
    Limit,
    /// Ctrl-C.
    Interrupted,
    /// A receive failed.
    Failed(CliError),
}

struct Run<'a> {
    sqs: &'a Sqs,
    from: &'a str,
    to: &'a str,
    filter: &'a Filter,
    limit: Option<u64>,
    dry_run: bool,
    visibility: i32,
    reporter: &'a Reporter,
    counts: Counts,
    /// Every message id received so far.
    seen: HashSet<String>,
    /// When the run began (ms since the epoch): later dead letters are left for the next run.
    started_ms: i64,
    /// Messages left on the dead-letter queue, by id, to make visible again at the end.
    held: HashMap<String, Held>,
}

impl Run<'_> {
    fn taken(&self) -> u64 {
        self.counts.moved + self.counts.failed
    }

    async fn scan(&mut self, interrupted: &AtomicBool) -> Stop {
        let hold = Duration::from_secs(u64::try_from(self.visibility).unwrap_or(60));
        let mut extended = Instant::now();
        loop {
            if interrupted.load(Ordering::SeqCst) {
                return Stop::Interrupted;
            }
            if self.limit.is_some_and(|l| self.taken() >= l) {
                return Stop::Limit;
            }
            if extended.elapsed() >= hold / 3 {
                self.set_visibility(self.visibility).await;
                extended = Instant::now();
            }
            let received = self
                .sqs
                .client
                .receive_message()
                .queue_url(self.from)
                .max_number_of_messages(RECEIVE_MAX)
                .visibility_timeout(self.visibility)
                .wait_time_seconds(RECEIVE_WAIT_SECS)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await;
            let messages = match received {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => return Stop::Failed(self.sqs.error("ReceiveMessage", self.from, &e)),
            };
            if messages.is_empty() {
                return Stop::Scanned;
            }
            let mut fresh = Vec::new();
            for msg in messages {
                let (Some(id), Some(receipt)) = (msg.message_id(), msg.receipt_handle()) else {
                    continue;
                };
                if !self.seen.insert(id.to_owned()) {
                    // Seen before and visible again: keep it, with its new receipt handle.
                    self.held.insert(
                        id.to_owned(),
                        Held {
                            receipt: receipt.to_owned(),
                        },
                    );
                    continue;
                }
                self.counts.scanned += 1;
                fresh.push(msg);
            }
            if fresh.is_empty() {
                return Stop::Scanned;
            }
            self.handle(fresh).await;
            self.reporter.progress(&self.counts);
        }
    }

    async fn handle(&mut self, batch: Vec<Message>) {
        let mut to_move = Vec::new();
        for msg in batch {
            let facts = Facts::of(
                msg.body().unwrap_or(""),
                msg.message_attributes(),
                msg.attributes(),
            );
            let room = self
                .limit
                .is_none_or(|l| self.taken() + (to_move.len() as u64) < l);
            let action = if facts
                .sent
                .is_some_and(|t| t.unix_millis() >= self.started_ms)
            {
                // Dead-lettered after this run began, likely a message it just moved that
                // failed again (a new message id): moving it would chase its own tail.
                Some(Action::Skipped("arrived during this replay"))
            } else if !self.filter.matches(&facts) {
                Some(Action::Skipped("filter"))
            } else if !room {
                Some(Action::Skipped("limit"))
            } else if self.dry_run {
                Some(Action::WouldMove)
            } else {
                None
            };
            match action {
                Some(action) => {
                    match action {
                        Action::WouldMove => self.counts.moved += 1,
                        _ => self.counts.skipped += 1,
                    }
                    self.hold(&msg);
                    self.reporter.message(&msg, &facts, &action);
                }
                None => to_move.push((msg, facts)),
            }
        }
        if to_move.is_empty() {
            return;
        }
        let fifo = self.to.ends_with(".fifo");
        let outcomes = join_all(
            to_move
                .iter()
                .map(|(msg, _)| move_one(self.sqs, self.from, self.to, msg, fifo)),
        )
        .await;
        for ((msg, facts), action) in to_move.iter().zip(outcomes) {
            match &action {
                Action::Moved(_) => self.counts.moved += 1,
                _ => {
                    self.counts.failed += 1;
                    self.hold(msg);
                }
            }
            self.reporter.message(msg, facts, &action);
        }
    }

    fn hold(&mut self, msg: &Message) {
        if let (Some(id), Some(receipt)) = (msg.message_id(), msg.receipt_handle()) {
            self.held.insert(
                id.to_owned(),
                Held {
                    receipt: receipt.to_owned(),
                },
            );
        }
    }

    /// Sets the visibility timeout of every held message; returns how many calls failed.
    async fn set_visibility(&self, seconds: i32) -> usize {
        let held: Vec<(&String, &Held)> = self.held.iter().collect();
        let mut failed = 0;
        // Count only: visibility entries carry no payload to cap by bytes.
        for chunk in held.chunks(MAX_BATCH_ENTRIES) {
            let mut request = self
                .sqs
                .client
                .change_message_visibility_batch()
                .queue_url(self.from);
            let mut unbuilt = 0;
            for (i, (_, h)) in chunk.iter().enumerate() {
                match ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&h.receipt)
                    .visibility_timeout(seconds)
                    .build()
                {
                    Ok(entry) => request = request.entries(entry),
                    // Id and receipt handle are set, so this cannot happen; if it did, the
                    // entry is counted as failed (and reported), not skipped.
                    Err(_) => unbuilt += 1,
                }
            }
            failed += unbuilt;
            match request.send().await {
                Ok(out) => failed += out.failed().len(),
                Err(_) => failed += chunk.len(),
            }
        }
        failed
    }

    /// Makes every held message visible again; returns how many could not be.
    async fn release_all(&mut self) -> usize {
        let failed = self.set_visibility(0).await;
        self.held.clear();
        failed
    }
}

/// Sends one message to the target and, once that has succeeded, deletes it from the
/// dead-letter queue.
async fn move_one(sqs: &Sqs, from: &str, to: &str, msg: &Message, fifo: bool) -> Action {
    let mut request = sqs
        .client
        .send_message()
        .queue_url(to)
        .message_body(msg.body().unwrap_or(""));
    for (name, value) in msg.message_attributes().into_iter().flatten() {
        if !name.starts_with(DEAD_LETTER_ATTR_PREFIX) {
            request = request.message_attributes(name, value.clone());
        }
    }
    if fifo {
        let system =
            |k: MessageSystemAttributeName| msg.attributes().and_then(|a| a.get(&k)).cloned();
        request = request
            .message_group_id(
                system(MessageSystemAttributeName::MessageGroupId)
                    .unwrap_or_else(|| "hookline-replay".to_owned()),
            )
            .message_deduplication_id(
                system(MessageSystemAttributeName::MessageDeduplicationId)
                    .or_else(|| msg.message_id().map(str::to_owned))
                    .unwrap_or_default(),
            );
    }
    let sent = match request.send().await {
        Ok(out) => out.message_id().unwrap_or("?").to_owned(),
        Err(e) => return Action::Failed(sqs.error("SendMessage", to, &e).to_string()),
    };
    let deleted = sqs
        .client
        .delete_message()
        .queue_url(from)
        .receipt_handle(msg.receipt_handle().unwrap_or(""))
        .send()
        .await;
    match deleted {
        Ok(_) => Action::Moved(sent),
        Err(e) => Action::Failed(format!(
            "sent to {} as {sent}, but not deleted from {} ({}): it is now on both queues",
            queue_name(to),
            queue_name(from),
            sqs.error("DeleteMessage", from, &e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(argv: &[&str]) -> Result<Args, clap::Error> {
        crate::testing::parse_args(argv)
    }

    const NOW: Timestamp = Timestamp::from_unix_secs(1_795_435_200); // 2026-11-23T08:00:00Z

    fn filter(argv: &[&str]) -> Filter {
        Filter::parse(&args(argv).unwrap(), NOW).unwrap()
    }

    fn delivery(event_type: &str, endpoint: &str) -> Facts {
        Facts::from_body(&format!(
            r#"{{"hookline":"delivery","version":1,"message_id":"m1","endpoint":"{endpoint}","type":"{event_type}","timestamp":"2026-11-23T12:00:00Z","data":{{}}}}"#
        ))
    }

    #[test]
    fn bodies_of_every_format_are_read() {
        let d = delivery("invoice.paid", "billing");
        assert_eq!(d.kind, "delivery");
        assert_eq!(d.event_type.as_deref(), Some("invoice.paid"));
        assert_eq!(d.endpoints, vec!["billing".to_owned()]);

        let o = Facts::from_body(r#"{"type":"a.b","data":1,"endpoints":["x","y"]}"#);
        assert_eq!(o.kind, "outbound");
        assert_eq!(o.endpoints, vec!["x".to_owned(), "y".to_owned()]);

        let bad = Facts::from_body(r#"{"type":"a b","endpoint":"z"}"#);
        assert_eq!(bad.kind, "unreadable");
        assert_eq!(bad.event_type.as_deref(), Some("a b"));
        assert_eq!(bad.endpoints, vec!["z".to_owned()]);

        let junk = Facts::from_body("not json");
        assert_eq!(junk.kind, "unreadable");
        assert_eq!(junk.event_type, None);
    }

    #[test]
    fn attributes_add_the_endpoint_error_and_time() {
        let mut attrs = HashMap::new();
        let s = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .unwrap()
        };
        attrs.insert("hookline-endpoint".to_owned(), s("crm"));
        attrs.insert("hookline-error".to_owned(), s("exhausted: HTTP 503"));
        let mut system = HashMap::new();
        system.insert(
            MessageSystemAttributeName::SentTimestamp,
            "1795435200123".to_owned(),
        );
        let f = Facts::of("garbage", Some(&attrs), Some(&system));
        assert_eq!(f.endpoints, vec!["crm".to_owned()]);
        assert_eq!(f.error_code(), Some("exhausted"));
        assert_eq!(f.sent, Some(Timestamp::from_unix_millis(1_795_435_200_123)));
    }

    #[test]
    fn no_filter_matches_everything() {
        let f = filter(&[]);
        assert!(f.matches(&Facts::from_body("junk")));
        assert!(f.matches(&delivery("a", "b")));
    }

    #[test]
    fn type_patterns_match_with_wildcards() {
        let f = filter(&["--type", "invoice.*"]);
        assert!(f.matches(&delivery("invoice.paid", "x")));
        assert!(f.matches(&delivery("invoice.payment.failed", "x")));
        assert!(!f.matches(&delivery("invoices.paid", "x")));
        assert!(!f.matches(&delivery("order.created", "x")));
        assert!(!f.matches(&Facts::from_body("junk")), "no type: no match");
        let f = filter(&["--type", "order.created", "--type", "*.deleted"]);
        assert!(f.matches(&delivery("order.created", "x")));
        assert!(f.matches(&delivery("user.deleted", "x")));
        assert!(!f.matches(&delivery("order.updated", "x")));
    }

    #[test]
    fn bad_type_patterns_are_usage_errors() {
        let r = Filter::parse(&args(&["--type", "a b"]).unwrap(), NOW);
        let Err(e @ CliError::Usage(UsageError::BadTypePattern { .. })) = r else {
            panic!("{r:?}")
        };
        assert!(e.to_string().starts_with("--type a b: "), "{e}");
        let r = Filter::parse(&args(&["--type", ""]).unwrap(), NOW);
        assert!(matches!(
            r,
            Err(CliError::Usage(UsageError::BadTypePattern { .. }))
        ));
    }

    #[test]
    fn endpoints_match_attribute_or_body() {
        let f = filter(&["--endpoint", "billing"]);
        assert!(f.matches(&delivery("a", "billing")));
        assert!(!f.matches(&delivery("a", "crm")));
        let by_attr = Facts {
            endpoints: vec!["billing".into()],
            ..Facts::from_body("junk")
        };
        assert!(f.matches(&by_attr));
    }

    #[test]
    fn error_codes_match_the_code_part() {
        let f = filter(&["--error", "exhausted"]);
        let with = |e: Option<&str>| Facts {
            error: e.map(str::to_owned),
            ..delivery("a", "b")
        };
        assert!(f.matches(&with(Some("exhausted: HTTP 503"))));
        assert!(!f.matches(&with(Some("gone: HTTP 410"))));
        assert!(!f.matches(&with(None)));
        let none = filter(&["--error", "none"]);
        assert!(none.matches(&with(None)));
        assert!(!none.matches(&with(Some("gone: HTTP 410"))));
    }

    #[test]
    fn since_and_until_accept_rfc3339_and_durations_ago() {
        assert_eq!(
            parse_when("2026-11-23T12:00:00Z", NOW),
            Timestamp::parse_rfc3339("2026-11-23T12:00:00Z")
        );
        for (ago, secs) in [
            ("2h", 7_200),
            ("1d", 86_400),
            ("1d12h", 129_600),
            ("90", 90),
        ] {
            assert_eq!(
                parse_when(ago, NOW),
                Some(Timestamp::from_unix_secs(1_795_435_200 - secs)),
                "{ago}"
            );
        }
        for bad in ["", "yesterday", "-2h", "2 h", "d", "1dd", "2H"] {
            assert_eq!(parse_when(bad, NOW), None, "{bad}");
        }
    }

    #[test]
    fn time_window_filters_on_sent_timestamp() {
        let f = filter(&["--since", "2h", "--until", "1h"]);
        let at = |secs_ago: i64| Facts {
            sent: Some(Timestamp::from_unix_secs(1_795_435_200 - secs_ago)),
            ..delivery("a", "b")
        };
        assert!(f.matches(&at(5_400)));
        assert!(f.matches(&at(7_200)), "since is inclusive");
        assert!(!f.matches(&at(3_600)), "until is exclusive");
        assert!(!f.matches(&at(10_000)));
        assert!(
            !f.matches(&delivery("a", "b")),
            "no SentTimestamp: no match"
        );
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_refused() {
        let r = Filter::parse(&args(&["--since", "1h", "--until", "2h"]).unwrap(), NOW);
        let Err(e @ CliError::Usage(UsageError::EmptyWindow { .. })) = r else {
            panic!("{r:?}")
        };
        assert!(e.to_string().contains("must be before"), "{e}");
        let r = Filter::parse(&args(&["--since", "soon"]).unwrap(), NOW);
        let Err(e @ CliError::Usage(UsageError::BadTime { .. })) = r else {
            panic!("{r:?}")
        };
        assert!(e.to_string().starts_with("--since soon: "), "{e}");
    }

    #[test]
    fn argument_rules() {
        assert!(args(&["--limit", "0"]).is_err());
        assert!(args(&["--limit", "5"]).is_ok());
        assert!(args(&["--inbound"]).is_err(), "--inbound needs --dev");
        assert!(args(&["--dev", "--inbound"]).is_ok());
        assert!(args(&["--visibility-timeout", "5"]).is_err());
    }

    #[test]
    fn queues_default_to_the_dev_pairs() {
        let q = pick_queues(&args(&["--dev"]).unwrap()).unwrap();
        assert_eq!(
            q,
            (
                "hookline-outbound-dlq".to_owned(),
                Some("hookline-outbound".to_owned())
            )
        );
        let q = pick_queues(&args(&["--dev", "--inbound"]).unwrap()).unwrap();
        assert_eq!(
            q,
            (
                "hookline-inbound-dlq".to_owned(),
                Some("hookline-inbound".to_owned())
            )
        );
        let q = pick_queues(&args(&["--dev", "--to", "other"]).unwrap()).unwrap();
        assert_eq!(q.1.as_deref(), Some("other"));
    }

    #[test]
    fn without_dev_the_dlq_is_required() {
        assert!(matches!(
            pick_queues(&args(&[]).unwrap()),
            Err(CliError::Usage(UsageError::NoDeadLetterQueue))
        ));
        let q = pick_queues(&args(&["--from", "http://h/1/dlq"]).unwrap()).unwrap();
        assert_eq!(q, ("http://h/1/dlq".to_owned(), None));
    }
}
