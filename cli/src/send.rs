//! `hookline send`: enqueue outbound events on SQS or on `hookline dev`.
//!
//! Every message is checked by the same core the sender runs (`OutboundMessage::from_json`)
//! before anything is sent, so a message the sender would dead-letter as `malformed` is refused
//! here with the reason, and nothing of a file with one bad line is sent.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use hookline_core::envelope::{OutboundMessage, RawJson};
use hookline_sqs::{BatchLimits, batches};
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::{FileError, MessagesFileError, Problems, UsageError};
use crate::sqs_target::{Sqs, Target, dev_queue, queue_name};
use crate::ui::{Style, untrusted};
use crate::{CliError, Ui};

/// `hookline send` options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  hookline send --dev --type order.created --data '{\"id\":1}'
  hookline send --queue-url \"$OUTBOUND_QUEUE_URL\" --type invoice.paid \\
    --id inv_1:paid --data-file invoice.json
  hookline send --dev --file events.jsonl    # one outbound message per line")]
pub struct Args {
    /// The event type, e.g. `order.created` (required unless --file).
    #[arg(
        long = "type",
        value_name = "TYPE",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub event_type: Option<String>,
    /// The payload as JSON text (default `{}`).
    #[arg(long, value_name = "JSON", conflicts_with_all = ["data_file", "file"])]
    pub data: Option<String>,
    /// Read the payload from a file (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub data_file: Option<PathBuf>,
    /// Idempotency key: becomes the delivered `webhook-id`; reuse it when resending.
    #[arg(long, value_name = "KEY", conflicts_with = "file")]
    pub id: Option<String>,
    /// Deliver only to this endpoint (repeatable; default: every subscribed endpoint).
    #[arg(long = "endpoint", value_name = "NAME", conflicts_with = "file")]
    pub endpoints: Vec<String>,
    /// Send whole outbound messages from a file: one JSON object, a JSON array of them, or JSON
    /// lines (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Which queue, and how to reach it.
    #[command(flatten)]
    pub target: Target,
}

/// One validated message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Where it came from, for messages: `line 3`, `item 2` or `message`.
    pub origin: String,
    /// The validated message.
    pub message: OutboundMessage,
    /// The SQS body: the message re-encoded by the core.
    pub body: String,
}

/// Runs `hookline send`.
pub async fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let messages = prepare(&args, &read_input)?;
    let (sqs, queue_url) = args.target.open(dev_queue::OUTBOUND).await?;
    match messages.as_slice() {
        [one] => send_one(&sqs, &queue_url, one, ui).await,
        many => send_many(&sqs, &queue_url, many, ui).await,
    }
}

/// Reads a file, or standard input for `-`.
fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| FileError::Stdin {
                what: "standard input",
                source,
            })?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|source| {
        FileError::Unreadable {
            path: path.to_owned(),
            flag: None,
            source,
        }
        .into()
    })
}

/// The messages the arguments describe, every one validated; `read` reads `--data-file` and
/// `--file`.
pub fn prepare(
    args: &Args,
    read: &dyn Fn(&Path) -> Result<Vec<u8>, CliError>,
) -> Result<Vec<Prepared>, CliError> {
    if let Some(file) = &args.file {
        let bytes = read(file)?;
        return parse_file(&bytes, &file.display().to_string());
    }
    let Some(event_type) = args.event_type.clone() else {
        return Err(UsageError::NoEventType.into());
    };
    let (data, data_file) = match (&args.data, &args.data_file) {
        (Some(text), _) => (text.clone(), None),
        (None, Some(path)) => {
            let bytes = read(path)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| UsageError::DataFileNotUtf8 { path: path.clone() })?;
            (text, Some(path.clone()))
        }
        (None, None) => ("{}".to_owned(), None),
    };
    let data = RawJson::from_string(data)
        .map_err(|source| UsageError::DataNotJson { data_file, source })?;
    let mut message = OutboundMessage::new(event_type, data);
    message.id = args.id.clone();
    if !args.endpoints.is_empty() {
        message.endpoints = Some(args.endpoints.clone());
    }
    message.validate().map_err(UsageError::InvalidMessage)?;
    // Read back what will be sent, as the sender will: this also enforces the size limit.
    let encoded = message.to_json();
    let message = OutboundMessage::from_json(&encoded).map_err(UsageError::InvalidMessage)?;
    Ok(vec![Prepared {
        origin: "message".into(),
        body: message.to_json_string(),
        message,
    }])
}

/// One outbound message, an array of them, or JSON lines; every problem is listed and nothing is
/// returned unless every message is valid.
pub fn parse_file(bytes: &[u8], name: &str) -> Result<Vec<Prepared>, CliError> {
    let items: Vec<(String, &[u8])> = match serde_json::from_slice::<&RawValue>(bytes) {
        Ok(raw) if raw.get().starts_with('[') => {
            let elements: Vec<&RawValue> =
                serde_json::from_str(raw.get()).map_err(|source| MessagesFileError::BadArray {
                    name: name.to_owned(),
                    source,
                })?;
            elements
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("item {}", i + 1), v.get().as_bytes()))
                .collect()
        }
        Ok(_) => vec![("message".to_owned(), bytes)],
        Err(whole) => {
            let lines: Vec<(String, &[u8])> = bytes
                .split(|&b| b == b'\n')
                .enumerate()
                .map(|(i, line)| (format!("line {}", i + 1), line.trim_ascii()))
                .filter(|(_, line)| !line.is_empty())
                .collect();
            // A first line that is not JSON by itself means this was one (broken) document.
            let first_ok = lines
                .first()
                .is_some_and(|(_, l)| serde_json::from_slice::<&RawValue>(l).is_ok());
            if !lines.is_empty() && !first_ok {
                return Err(MessagesFileError::NotJson {
                    name: name.to_owned(),
                    source: whole,
                }
                .into());
            }
            lines
        }
    };
    if items.is_empty() {
        return Err(MessagesFileError::Empty {
            name: name.to_owned(),
        }
        .into());
    }
    let mut prepared = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (origin, text) in items {
        match OutboundMessage::from_json(text) {
            Ok(message) => prepared.push(Prepared {
                body: message.to_json_string(),
                origin,
                message,
            }),
            Err(e) => problems.push((origin, e)),
        }
    }
    if problems.is_empty() {
        return Ok(prepared);
    }
    Err(MessagesFileError::Invalid {
        name: name.to_owned(),
        problems,
    }
    .into())
}

fn report_queued(ui: Ui, queue_url: &str, p: &Prepared, message_id: &str) {
    ui.emit(
        || {
            format!(
                "queued {} as {} on {}",
                ui.paint(Style::Cyan, &untrusted(&p.message.event_type)),
                ui.paint(Style::Bold, &untrusted(message_id)),
                queue_name(queue_url)
            )
        },
        || {
            json!({
                "message_id": message_id,
                "queue_url": queue_url,
                "type": p.message.event_type,
                "id": p.message.id,
            })
        },
    );
}

fn report_failed(ui: Ui, queue_url: &str, p: &Prepared, why: &str) {
    if ui.json {
        ui.json_line(&json!({
            "error": why,
            "origin": p.origin,
            "queue_url": queue_url,
            "type": p.message.event_type,
            "id": p.message.id,
        }));
    } else {
        // The type came from the message, the reason from the queue's answer.
        ui.note(&format!(
            "{} {} ({}): not queued: {}",
            ui.paint(Style::Red, "failed:"),
            untrusted(&p.origin),
            untrusted(&p.message.event_type),
            untrusted(why)
        ));
    }
}

async fn send_one(sqs: &Sqs, queue_url: &str, p: &Prepared, ui: Ui) -> Result<(), CliError> {
    let out = sqs
        .client
        .send_message()
        .queue_url(queue_url)
        .message_body(&p.body)
        .send()
        .await
        .map_err(|e| sqs.error("SendMessage", queue_url, &e))?;
    report_queued(ui, queue_url, p, out.message_id().unwrap_or("?"));
    Ok(())
}

async fn send_many(
    sqs: &Sqs,
    queue_url: &str,
    messages: &[Prepared],
    ui: Ui,
) -> Result<(), CliError> {
    let sizes: Vec<usize> = messages.iter().map(|p| p.body.len()).collect();
    let mut queued = 0usize;
    let mut failed = 0usize;
    // The limits every queue accepts (10 messages, 256 KiB); a larger message goes alone, and
    // SQS says whether its queue takes it.
    for range in batches(&sizes, BatchLimits::default()) {
        let Some(chunk) = messages.get(range.clone()) else {
            continue;
        };
        let mut request = sqs.client.send_message_batch().queue_url(queue_url);
        for (i, p) in chunk.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&p.body)
                .build()
                .map_err(UsageError::BatchEntry)?;
            request = request.entries(entry);
        }
        let out = match request.send().await {
            Ok(out) => out,
            Err(e) => {
                let error = sqs.error("SendMessageBatch", queue_url, &e);
                if queued == 0 && failed == 0 {
                    return Err(error);
                }
                // Stop: the same failure would repeat. The ids let the rest be resent safely.
                let rest = messages.get(range.start..).unwrap_or_default();
                for p in rest {
                    report_failed(ui, queue_url, p, &error.to_string());
                }
                failed += rest.len();
                break;
            }
        };
        for ok in out.successful() {
            if let Some(p) = ok.id().parse::<usize>().ok().and_then(|i| chunk.get(i)) {
                queued += 1;
                report_queued(ui, queue_url, p, ok.message_id());
            }
        }
        for bad in out.failed() {
            if let Some(p) = bad.id().parse::<usize>().ok().and_then(|i| chunk.get(i)) {
                failed += 1;
                let why = format!("{}: {}", bad.code(), bad.message().unwrap_or(""));
                report_failed(ui, queue_url, p, &why);
            }
        }
    }
    if !ui.json {
        ui.note(&format!(
            "{queued} of {} messages queued on {}",
            messages.len(),
            queue_name(queue_url)
        ));
    }
    if failed > 0 {
        return Err(Problems::NotQueued {
            failed,
            total: messages.len(),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(argv: &[&str]) -> Result<Args, clap::Error> {
        crate::testing::parse_args(argv)
    }

    fn no_files(_: &Path) -> Result<Vec<u8>, CliError> {
        panic!("no file expected")
    }

    fn usage(r: Result<Vec<Prepared>, CliError>) -> String {
        match r {
            Err(e @ (CliError::Usage(_) | CliError::MessagesFile(_))) => {
                assert_eq!(e.exit_code(), std::process::ExitCode::from(2));
                e.to_string()
            }
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn flags_make_one_validated_message() {
        let a = args(&[
            "--type",
            "order.created",
            "--data",
            r#"{"id": 1}"#,
            "--id",
            "ord_1",
            "--endpoint",
            "billing",
            "--endpoint",
            "audit",
        ])
        .unwrap();
        let out = prepare(&a, &no_files).unwrap();
        assert_eq!(out.len(), 1);
        let p = &out[0];
        assert_eq!(p.message.event_type, "order.created");
        assert_eq!(p.message.id.as_deref(), Some("ord_1"));
        assert_eq!(
            p.message.endpoints.as_deref(),
            Some(&["billing".to_owned(), "audit".to_owned()][..])
        );
        assert_eq!(
            p.body,
            r#"{"version":1,"type":"order.created","id":"ord_1","endpoints":["billing","audit"],"data":{"id": 1}}"#
        );
        assert_eq!(
            OutboundMessage::from_json(p.body.as_bytes()).unwrap(),
            p.message
        );
    }

    #[test]
    fn data_defaults_to_an_empty_object() {
        let out = prepare(&args(&["--type", "ping"]).unwrap(), &no_files).unwrap();
        assert_eq!(out[0].message.data.get(), "{}");
    }

    #[test]
    fn data_file_is_read() {
        let a = args(&["--type", "ping", "--data-file", "d.json"]).unwrap();
        let out = prepare(&a, &|p: &Path| {
            assert_eq!(p, Path::new("d.json"));
            Ok(b"[1, 2]\n".to_vec())
        })
        .unwrap();
        assert_eq!(out[0].message.data.get(), "[1, 2]");
    }

    #[test]
    fn invalid_data_is_a_usage_error() {
        let a = args(&["--type", "ping", "--data", "{nope"]).unwrap();
        assert!(usage(prepare(&a, &no_files)).starts_with("--data is not valid JSON"));
    }

    #[test]
    fn invalid_fields_are_usage_errors_naming_the_field() {
        let a = args(&["--type", "has space"]).unwrap();
        assert!(usage(prepare(&a, &no_files)).contains("type:"));
        let a = args(&["--type", "ok", "--id", "bad id!"]).unwrap();
        assert!(usage(prepare(&a, &no_files)).contains("id:"));
        let a = args(&["--type", "ok", "--endpoint", "Bad"]).unwrap();
        assert!(usage(prepare(&a, &no_files)).contains("endpoints[0]"));
        let a = args(&["--type", "ok", "--endpoint", "a", "--endpoint", "a"]).unwrap();
        assert!(usage(prepare(&a, &no_files)).contains("endpoints"));
    }

    #[test]
    fn the_parser_enforces_required_and_conflicting_options() {
        assert!(args(&[]).is_err(), "--type or --file is required");
        assert!(args(&["--file", "f", "--type", "x"]).is_err());
        assert!(args(&["--type", "x", "--data", "1", "--data-file", "f"]).is_err());
        assert!(args(&["--file", "f", "--id", "x"]).is_err());
        assert!(args(&["--file", "f"]).is_ok());
    }

    #[test]
    fn a_file_may_hold_one_message() {
        let out = parse_file(b"{\n  \"type\": \"a.b\",\n  \"data\": null\n}\n", "f.json").unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].message.event_type, "a.b");
    }

    #[test]
    fn a_file_may_hold_an_array() {
        let out = parse_file(
            br#"[{"type":"a","data":1},{"type":"b","data":2}]"#,
            "f.json",
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].origin, "item 2");
    }

    #[test]
    fn a_file_may_hold_json_lines_with_blank_lines() {
        let out = parse_file(
            b"{\"type\":\"a\",\"data\":1}\n\n{\"type\":\"b\",\"data\":2}\r\n",
            "f.jsonl",
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].origin, "line 3");
        assert_eq!(out[1].message.event_type, "b");
    }

    #[test]
    fn every_bad_line_is_listed_and_nothing_is_sent() {
        let m = usage(parse_file(
            b"{\"type\":\"a\",\"data\":1}\n{\"data\":1}\n{\"type\":\"b c\",\"data\":1}\n",
            "f.jsonl",
        ));
        assert!(m.contains("2 invalid"), "{m}");
        assert!(m.contains("line 2: type: missing"), "{m}");
        assert!(m.contains("line 3: type:"), "{m}");
    }

    #[test]
    fn a_broken_document_is_reported_as_one() {
        let m = usage(parse_file(b"{\n \"type\": \"a\",\n", "f.json"));
        assert!(m.contains("neither a JSON message nor JSON lines"), "{m}");
        let m = usage(parse_file(b"  \n", "f.json"));
        assert!(m.contains("no messages"), "{m}");
    }

    #[test]
    fn delivery_messages_are_not_outbound_messages() {
        let m = usage(parse_file(
            br#"{"hookline":"delivery","type":"a","data":1}"#,
            "f.json",
        ));
        assert!(m.contains("hookline"), "{m}");
    }

    #[test]
    fn ids_with_a_dot_are_refused_before_anything_is_sent() {
        // Standard Webhooks signs `{id}.{timestamp}.{body}`: a `.` in the id is ambiguous.
        for id in ["stripe.evt_1", "a.", ".a"] {
            let a = args(&["--type", "ok", "--id", id]).unwrap();
            let m = usage(prepare(&a, &no_files));
            assert!(m.contains("id: must not contain \".\""), "{id}: {m}");
        }
        let m = usage(parse_file(
            b"{\"type\":\"a\",\"id\":\"ok_1\",\"data\":1}\n{\"type\":\"a\",\"id\":\"stripe.evt_1\",\"data\":1}\n",
            "f.jsonl",
        ));
        assert!(m.contains("line 2: id: must not contain"), "{m}");
    }
}
