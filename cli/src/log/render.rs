//! What `hookline log` prints: one record per row, as an aligned table for people or one JSON
//! object per line (`--json`, stable snake_case fields) for scripts.

use std::time::Duration;

use hookline_core::api::history::MessageStatus;
use hookline_core::time::{Timestamp, format_duration};
use serde_json::{Value, json};

use crate::Ui;
use crate::ui::{Style, untrusted};

/// hookline's name for a status: Svix's text, except its `canceled`, which hookline calls
/// `skipped` (not sent because the endpoint was disabled). `--status` takes these names.
pub fn status_name(s: MessageStatus) -> &'static str {
    match s {
        MessageStatus::Skipped => "skipped",
        other => other.text(),
    }
}

/// `--status`: one of [`status_name`]'s names.
pub fn parse_status(text: &str) -> Result<MessageStatus, String> {
    MessageStatus::ALL
        .into_iter()
        .find(|s| status_name(*s) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = MessageStatus::ALL.into_iter().map(status_name).collect();
            format!("expected one of: {}", names.join(", "))
        })
}

fn status_style(s: MessageStatus) -> Style {
    match s {
        MessageStatus::Success => Style::Green,
        MessageStatus::Pending | MessageStatus::Sending => Style::Yellow,
        MessageStatus::Fail => Style::Red,
        MessageStatus::Skipped => Style::Dim,
    }
}

/// An application or endpoint: its id, and the uid it may have (shown instead of the id).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Named {
    /// `app_...` or `ep_...`.
    pub id: String,
    /// The caller's own id, if it set one.
    #[serde(default)]
    pub uid: Option<String>,
}

impl Named {
    /// What a person recognises: the uid, else the id.
    pub fn shown(&self) -> &str {
        self.uid.as_deref().unwrap_or(&self.id)
    }
}

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    /// When it was made.
    pub time: Timestamp,
    /// Its application.
    pub app: Named,
    /// Its message.
    pub msg_id: String,
    /// The message's event type, when known.
    pub event_type: Option<String>,
    /// Its endpoint.
    pub endpoint: Named,
    /// How it ended.
    pub status: MessageStatus,
    /// Which try it was (hookline's field; absent from other Svix servers).
    pub attempt: Option<u32>,
    /// Why it was sent: scheduled, manual, recovery.
    pub trigger: Option<String>,
    /// The endpoint's HTTP status; `None` when there was no response.
    pub http_status: Option<u16>,
    /// Why it failed (`timeout`, `connection`, `status`, `gone`...).
    pub error_class: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// When the next try is due (RFC 3339).
    pub next_attempt: Option<String>,
    /// The attempt's id.
    pub id: String,
}

/// A message's status at one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// When the message was created.
    pub time: Timestamp,
    /// Its application.
    pub app: Named,
    /// The message.
    pub msg_id: String,
    /// Its event type.
    pub event_type: String,
    /// The endpoint.
    pub endpoint: Named,
    /// Where it stands there.
    pub status: MessageStatus,
    /// When the next try is due (RFC 3339).
    pub next_attempt: Option<String>,
}

/// An endpoint's counts of messages by status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// Its application.
    pub app: Named,
    /// The endpoint.
    pub endpoint: Named,
    /// Counted from this time (`--since`), or over the whole history kept.
    pub since: Option<Timestamp>,
    /// Delivered.
    pub success: u64,
    /// Waiting for a retry.
    pub pending: u64,
    /// Being sent.
    pub sending: u64,
    /// Failed for good.
    pub fail: u64,
    /// Skipped while the endpoint was disabled (Svix's `canceled`; `None` from a server that does
    /// not count them).
    pub skipped: Option<u64>,
}

/// Every kind of row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Attempts, oldest first.
    Attempts(Vec<AttemptRow>),
    /// Messages at an endpoint, oldest first.
    Messages(Vec<MessageRow>),
    /// Endpoint statistics.
    Stats(Vec<StatsRow>),
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Attempts(r) => r.len(),
            Rows::Messages(r) => r.len(),
            Rows::Stats(r) => r.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the rows are, for "no attempts found".
    pub fn noun(&self) -> &'static str {
        match self {
            Rows::Attempts(_) => "attempts",
            Rows::Messages(_) => "messages",
            Rows::Stats(_) => "endpoints",
        }
    }

    /// One JSON object per row.
    pub fn json(&self) -> Vec<Value> {
        match self {
            Rows::Attempts(rows) => rows.iter().map(AttemptRow::json).collect(),
            Rows::Messages(rows) => rows.iter().map(MessageRow::json).collect(),
            Rows::Stats(rows) => rows.iter().map(StatsRow::json).collect(),
        }
    }

    /// The table's lines: a header, then one line per row, columns aligned.
    pub fn table(&self, ui: Ui, now: Timestamp) -> Vec<String> {
        let (header, cells): (&[&str], Vec<Vec<Cell>>) = match self {
            Rows::Attempts(rows) => (
                &[
                    "TIME", "APP", "MESSAGE", "TYPE", "ENDPOINT", "STATUS", "#", "HTTP", "ERROR",
                    "DURATION", "NEXT",
                ],
                rows.iter().map(|r| r.cells(now)).collect(),
            ),
            Rows::Messages(rows) => (
                &[
                    "TIME", "APP", "MESSAGE", "TYPE", "ENDPOINT", "STATUS", "NEXT",
                ],
                rows.iter().map(|r| r.cells(now)).collect(),
            ),
            Rows::Stats(rows) => (
                &[
                    "APP", "ENDPOINT", "SINCE", "SUCCESS", "PENDING", "SENDING", "FAIL", "SKIPPED",
                ],
                rows.iter().map(StatsRow::cells).collect(),
            ),
        };
        table(ui, header, &cells)
    }
}

/// A table cell: its text (already safe to print) and its colour.
type Cell = (String, Option<Style>);

fn plain(text: impl Into<String>) -> Cell {
    (text.into(), None)
}

/// Untrusted text (ids, uids, event types come from API callers), made safe for one line.
fn outside(text: &str) -> Cell {
    (untrusted(text).into_owned(), None)
}

fn dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `2026-11-23 12:00:00Z`: to the second, in UTC.
fn when(t: Timestamp) -> String {
    Timestamp::from_unix_secs(t.unix_secs())
        .to_rfc3339()
        .replacen('T', " ", 1)
}

/// When the next attempt is due, from now: `in 30s`, or `due` once past (the sender has not
/// picked it up yet). A time that is not RFC 3339 is shown as it came, escaped.
fn next_in(next: Option<&str>, now: Timestamp) -> String {
    let Some(text) = next else {
        return "-".to_owned();
    };
    match Timestamp::parse_rfc3339(text) {
        Some(t) => match t.checked_duration_since(now) {
            Some(d) if !d.is_zero() => {
                format!(
                    "in {}",
                    format_duration(Duration::from_secs(d.as_secs().max(1)))
                )
            }
            _ => "due".to_owned(),
        },
        None => untrusted(text).into_owned(),
    }
}

impl AttemptRow {
    fn json(&self) -> Value {
        json!({
            "kind": "attempt",
            "time": self.time.to_rfc3339(),
            "app_id": self.app.id,
            "app_uid": self.app.uid,
            "msg_id": self.msg_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint.id,
            "endpoint_uid": self.endpoint.uid,
            "status": status_name(self.status),
            "attempt": self.attempt,
            "trigger": self.trigger,
            "http_status": self.http_status,
            "error_class": self.error_class,
            "duration_ms": self.duration_ms,
            "next_attempt": self.next_attempt,
            "attempt_id": self.id,
        })
    }

    fn cells(&self, now: Timestamp) -> Vec<Cell> {
        vec![
            (when(self.time), Some(Style::Dim)),
            outside(self.app.shown()),
            outside(&self.msg_id),
            outside(self.event_type.as_deref().unwrap_or("-")),
            outside(self.endpoint.shown()),
            (
                status_name(self.status).to_owned(),
                Some(status_style(self.status)),
            ),
            plain(dash(self.attempt)),
            plain(dash(self.http_status)),
            outside(self.error_class.as_deref().unwrap_or("-")),
            plain(format!("{} ms", self.duration_ms)),
            plain(next_in(self.next_attempt.as_deref(), now)),
        ]
    }
}

impl MessageRow {
    fn json(&self) -> Value {
        json!({
            "kind": "message",
            "time": self.time.to_rfc3339(),
            "app_id": self.app.id,
            "app_uid": self.app.uid,
            "msg_id": self.msg_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint.id,
            "endpoint_uid": self.endpoint.uid,
            "status": status_name(self.status),
            "next_attempt": self.next_attempt,
        })
    }

    fn cells(&self, now: Timestamp) -> Vec<Cell> {
        vec![
            (when(self.time), Some(Style::Dim)),
            outside(self.app.shown()),
            outside(&self.msg_id),
            outside(&self.event_type),
            outside(self.endpoint.shown()),
            (
                status_name(self.status).to_owned(),
                Some(status_style(self.status)),
            ),
            plain(next_in(self.next_attempt.as_deref(), now)),
        ]
    }
}

impl StatsRow {
    fn json(&self) -> Value {
        json!({
            "kind": "stats",
            "app_id": self.app.id,
            "app_uid": self.app.uid,
            "endpoint_id": self.endpoint.id,
            "endpoint_uid": self.endpoint.uid,
            "since": self.since.map(Timestamp::to_rfc3339),
            "success": self.success,
            "pending": self.pending,
            "sending": self.sending,
            "fail": self.fail,
            "skipped": self.skipped,
        })
    }

    fn cells(&self) -> Vec<Cell> {
        let count = |n: u64, style: Style| (n.to_string(), (n > 0).then_some(style));
        vec![
            outside(self.app.shown()),
            outside(self.endpoint.shown()),
            plain(self.since.map_or_else(|| "-".to_owned(), when)),
            count(self.success, Style::Green),
            count(self.pending, Style::Yellow),
            count(self.sending, Style::Yellow),
            count(self.fail, Style::Red),
            plain(dash(self.skipped)),
        ]
    }
}

/// Aligned columns: each as wide as its widest cell (counted in characters), two spaces apart,
/// colours added after the padding so they do not count.
fn table(ui: Ui, header: &[&str], rows: &[Vec<Cell>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, (text, _)) in widths.iter_mut().zip(row) {
            *w = (*w).max(text.chars().count());
        }
    }
    let line = |cells: Vec<(String, Option<Style>)>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, ((text, style), width)) in cells.into_iter().zip(&widths).enumerate() {
            let pad = if i == last {
                String::new()
            } else {
                " ".repeat(width.saturating_sub(text.chars().count()) + 2)
            };
            match style {
                Some(s) => out.push_str(&ui.paint(s, &text)),
                None => out.push_str(&text),
            }
            out.push_str(&pad);
        }
        out
    };
    let mut lines = Vec::with_capacity(rows.len() + 1);
    lines.push(line(
        header
            .iter()
            .map(|h| ((*h).to_owned(), Some(Style::Bold)))
            .collect(),
    ));
    lines.extend(rows.iter().map(|r| line(r.clone())));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_secs(1_800_000_000);

    fn named(id: &str, uid: Option<&str>) -> Named {
        Named {
            id: id.to_owned(),
            uid: uid.map(str::to_owned),
        }
    }

    /// A table line's cells: runs of two spaces or more separate them.
    fn columns(line: &str) -> Vec<&str> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    fn attempt() -> AttemptRow {
        AttemptRow {
            time: Timestamp::from_unix_millis(1_800_000_000_250 - 90_000),
            app: named("app_1", Some("acme")),
            msg_id: "msg_1".into(),
            event_type: Some("user.created".into()),
            endpoint: named("ep_1", None),
            status: MessageStatus::Fail,
            attempt: Some(2),
            trigger: Some("scheduled".into()),
            http_status: Some(500),
            error_class: Some("status".into()),
            duration_ms: 12,
            next_attempt: Some(NOW.saturating_add(Duration::from_secs(90)).to_rfc3339()),
            id: "atmpt_1".into(),
        }
    }

    #[test]
    fn statuses_take_hookline_s_names_and_skipped_is_svix_s_canceled() {
        assert_eq!(parse_status("skipped"), Ok(MessageStatus::Skipped));
        assert_eq!(u8::from(MessageStatus::Skipped), 4);
        for s in MessageStatus::ALL {
            assert_eq!(parse_status(status_name(s)), Ok(s));
        }
        let e = parse_status("canceled").unwrap_err();
        assert_eq!(
            e,
            "expected one of: success, pending, fail, sending, skipped"
        );
    }

    #[test]
    fn an_attempt_is_one_aligned_row_and_one_stable_json_object() {
        let rows = Rows::Attempts(vec![attempt()]);
        let lines = rows.table(Ui::plain(), NOW);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            columns(&lines[1]),
            [
                "2027-01-15 07:58:30Z",
                "acme",
                "msg_1",
                "user.created",
                "ep_1",
                "fail",
                "2",
                "500",
                "status",
                "12 ms",
                "in 1m30s"
            ]
        );
        // Every column starts where its header does.
        assert_eq!(lines[0].find("STATUS"), lines[1].find("fail"));
        assert_eq!(lines[0].find("NEXT"), lines[1].find("in 1m30s"));
        let v = &rows.json()[0];
        assert_eq!(v["kind"], "attempt");
        assert_eq!(v["status"], "fail");
        assert_eq!(v["http_status"], 500);
        assert_eq!(v["app_uid"], "acme");
        assert_eq!(v["endpoint_uid"], Value::Null);
        assert_eq!(v["time"], "2027-01-15T07:58:30.250Z");
    }

    #[test]
    fn no_response_and_a_past_next_attempt_read_plainly() {
        let mut a = attempt();
        a.http_status = None;
        a.next_attempt = Some(NOW.to_rfc3339());
        a.status = MessageStatus::Pending;
        let line = Rows::Attempts(vec![a.clone()]).table(Ui::plain(), NOW)[1].clone();
        assert_eq!(
            columns(&line)[5..],
            ["pending", "2", "-", "status", "12 ms", "due"]
        );
        assert_eq!(
            Rows::Attempts(vec![a]).json()[0]["http_status"],
            Value::Null
        );
    }

    #[test]
    fn text_from_api_callers_cannot_drive_the_terminal() {
        let mut a = attempt();
        a.event_type = Some("x\u{1b}[2J\u{202e}".into());
        a.app = named("app_1", Some("a\nb"));
        for line in Rows::Attempts(vec![a]).table(Ui::plain(), NOW) {
            assert!(!line.chars().any(crate::ui::is_unsafe), "{line:?}");
        }
    }

    #[test]
    fn stats_show_skipped_or_a_dash_when_the_server_does_not_count_them() {
        let row = StatsRow {
            app: named("app_1", None),
            endpoint: named("ep_1", Some("billing")),
            since: None,
            success: 3,
            pending: 0,
            sending: 0,
            fail: 1,
            skipped: None,
        };
        let rows = Rows::Stats(vec![
            row.clone(),
            StatsRow {
                skipped: Some(2),
                ..row
            },
        ]);
        let lines = rows.table(Ui::plain(), NOW);
        assert!(lines[1].ends_with("1     -"), "{:?}", lines[1]);
        assert!(lines[2].ends_with("1     2"), "{:?}", lines[2]);
        let json = rows.json();
        assert_eq!(json[0]["skipped"], Value::Null);
        assert_eq!(json[1]["skipped"], 2);
        assert_eq!(json[1]["endpoint_uid"], "billing");
    }
}
